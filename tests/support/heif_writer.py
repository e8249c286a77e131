"""A minimal HEIF writer for HEIC test originals that pillow-heif cannot make itself: grids of
tiles (as phones store photos) and the irot/imir transforms. The HEVC pictures inside are x265's
(through pillow-heif); only the boxes around them are written here, and every file made with it
is read back by libheif (pillow-heif) for its reference decode, so a container libheif would not
read is never a fixture."""
import struct

def box(kind, body):
    return struct.pack('>I4s', 8 + len(body), kind) + body

def full(kind, version, flags, body):
    return box(kind, struct.pack('>I', (version << 24) | flags) + body)

def children(b):
    i = 0
    while i + 8 <= len(b):
        size, kind = struct.unpack('>I4s', b[i:i + 8])
        yield kind, b[i + 8:i + size]
        i += size

def hevc_parts(path):
    """(hvcC body, primary item's coded bytes, its ispe size, [its clap box]) of a one-picture
    HEIC from libheif, which codes pictures in whole 8-pixel blocks and cuts them with clap. (The
    file may hold other items, such as Exif: the primary is the one pitm names.)"""
    b = open(path, 'rb').read()
    top = dict(children(b))
    meta = dict(children(top[b'meta'][4:]))
    ipco = dict(children(dict(children(meta[b'iprp']))[b'ipco']))
    primary = struct.unpack('>H', meta[b'pitm'][4:6])[0]
    iloc = meta[b'iloc']
    version = iloc[0]
    sizes = struct.unpack('>H', iloc[4:6])[0]
    offset_size, length_size, base_size = sizes >> 12, (sizes >> 8) & 15, (sizes >> 4) & 15
    assert sizes & 15 == 0 and version in (0, 1), 'no extent indices'
    def read(at, n):
        return int.from_bytes(iloc[at:at + n], 'big') if n else 0
    at, found = 8, None
    for _ in range(struct.unpack('>H', iloc[6:8])[0]):
        # id, [construction method], data reference, base offset, extent count, then extents
        iid = read(at, 2)
        at += 2 + (2 if version == 1 else 0) + 2
        base = read(at, base_size)
        at += base_size
        count = read(at, 2)
        at += 2
        extents = []
        for _ in range(count):
            extents.append((base + read(at, offset_size), read(at + offset_size, length_size)))
            at += offset_size + length_size
        if iid == primary:
            found = extents
    data = b''.join(b[o:o + n] for o, n in found)
    size = struct.unpack('>II', ipco[b'ispe'][4:12])
    clap = [(b'clap', ipco[b'clap'])] if b'clap' in ipco else []
    return ipco[b'hvcC'], data, size, clap

def write(path, pictures, grid=None, primary_props=(), alpha=None):
    """pictures: [(hvcC, data, (w, h), _)]; grid: (rows, cols, width, height) or None (one picture);
    primary_props: [(kind, body)] extra properties (irot, imir, clap, colr) of the primary;
    alpha: (hvcC, data, (w, h)) of an alpha picture for the primary."""
    items = []  # (id, type, data)
    props = []  # property boxes
    assoc = {}  # id -> [property index (1-based)]
    refs = []   # (type, from, [to])
    def prop(b):
        # One property shared by every item it describes, as phones write a grid's tiles (libheif
        # refuses an ipco of more than 100 boxes).
        if b not in props:
            props.append(b)
        return props.index(b) + 1
    def add_picture(hvcc, data, size, _, hidden):
        iid = len(items) + 1
        items.append((iid, b'hvc1', data, hidden))
        assoc[iid] = [0x8000 | prop(box(b'hvcC', hvcc)), prop(full(b'ispe', 0, 0, struct.pack('>II', *size)))]
        return iid
    if grid:
        rows, cols, w, h = grid
        gid = 1
        items.append((gid, b'grid', struct.pack('>BBBBHH', 0, 0, rows - 1, cols - 1, w, h), False))
        assoc[gid] = [prop(full(b'ispe', 0, 0, struct.pack('>II', w, h)))]
        tiles = [add_picture(*p, True) for p in pictures]
        refs.append((b'dimg', gid, tiles))
        primary = gid
    else:
        primary = add_picture(*pictures[0], False)
    for kind, body in primary_props:
        assoc[primary].append(0x8000 | prop(box(kind, body)))
    if alpha:
        aid = add_picture(*alpha, True)
        assoc[aid].append(prop(full(b'auxC', 0, 0, b'urn:mpeg:hevc:2015:auxid:1\0')))
        refs.append((b'auxl', aid, [primary]))
    def meta(base):
        hdlr = full(b'hdlr', 0, 0, struct.pack('>I4s12s', 0, b'pict', b'\0' * 12) + b'\0')
        pitm = full(b'pitm', 0, 0, struct.pack('>H', primary))
        infe = b''.join(full(b'infe', 2, 1 if hidden else 0, struct.pack('>HH4s', iid, 0, kind) + b'\0')
                        for iid, kind, _, hidden in items)
        iinf = full(b'iinf', 0, 0, struct.pack('>H', len(items)) + infe)
        body = struct.pack('>HH', 0x4400, len(items))
        at = base
        for iid, _, data, _ in items:
            body += struct.pack('>HHHII', iid, 0, 1, at, len(data))
            at += len(data)
        iloc = full(b'iloc', 0, 0, body)
        iref = full(b'iref', 0, 0, b''.join(
            box(kind, struct.pack('>HH', f, len(to)) + b''.join(struct.pack('>H', t) for t in to))
            for kind, f, to in refs)) if refs else b''
        # 16-bit property indices (ipma flags 1): a phone's grid has more than 127 properties.
        ipma = struct.pack('>I', len(assoc)) + b''.join(
            struct.pack('>HB', iid, len(ix)) + b''.join(struct.pack('>H', i) for i in ix)
            for iid, ix in sorted(assoc.items()))
        iprp = box(b'iprp', box(b'ipco', b''.join(props)) + full(b'ipma', 0, 1, ipma))
        return full(b'meta', 0, 0, hdlr + pitm + iloc + iinf + iref + iprp)
    ftyp = box(b'ftyp', b'heic' + struct.pack('>I', 0) + b'mif1heic')
    size = len(ftyp) + len(meta(0)) + 8
    with open(path, 'wb') as f:
        f.write(ftyp + meta(size) + box(b'mdat', b''.join(d for _, _, d, _ in items)))
