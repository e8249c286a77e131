"""Writes originals in formats pixflow names or reads through its own decoders, each made by an
independent encoder from PyPI: AVIF (Pillow's own libavif), HEIC (pillow-heif, libheif + x265),
JPEG XL (pillow-jxl-plugin, libjxl), ICO (Pillow), and SVG (text). Each JPEG XL also gets
`NAME.ref.png`, libjxl's own decode of it (through the plugin), for pixflow's decode to be checked
against. AVIF files in every layout pixflow must read (8/10/12 bit, 4:2:0/4:4:4/4:0:0, limited
range, alpha, grid, irot/imir/clap, PQ/HLG/Display P3) come from avifenc, libavif's encoder from
Debian's libavif-bin (scripts/setup installs it), each with `NAME.ref.png`, avifdec's 8-bit decode
(libavif + dav1d), which does not apply irot/imir/clap: those are checked against the source
picture turned by Pillow. Prints {file: [width, height]} as JSON.

usage: foreign_fixtures.py OUTDIR"""
import json, os, subprocess, sys

sys.path.insert(0, os.path.dirname(__file__))

from PIL import Image
import pillow_heif
import pillow_jxl  # noqa: F401 (registers the JPEG XL plugin)

pillow_heif.register_heif_opener()
out = sys.argv[1]
os.makedirs(out, exist_ok=True)
rgb = Image.new('RGB', (64, 48))
rgb.putdata([(x * 4, y * 5, (x + y) * 2) for y in range(48) for x in range(64)])
rgba = rgb.convert('RGBA')
rgba.putalpha(128)
made = {}
for name, img, kw in [
    ('photo.avif', rgb, {}),
    ('alpha.avif', rgba, {}),
    ('photo.heic', rgb, {}),
    ('alpha.heic', rgba, {}),
    ('photo.jxl', rgb, {}),
    ('alpha.jxl', rgba, {}),
    ('lossless.jxl', rgb, {'lossless': True}),
    ('gray.jxl', rgb.convert('L'), {}),
    ('deep.jxl', Image.frombytes('I;16', (64, 48), bytes(
        b for y in range(48) for x in range(64) for b in ((x * 1000 + y * 37) & 0xFFFF).to_bytes(2, 'little'))),
     {'lossless': True}),
    ('icon.ico', rgb.resize((32, 32)), {'sizes': [(32, 32)]}),
]:
    img.save(os.path.join(out, name), **kw)
    made[name] = list(Image.open(os.path.join(out, name)).size)
# A real photo recompressed losslessly from its JPEG (what cjxl does to a JPEG by default), from
# the shared corpus (scikit-image's test image; manifest.tsv) when it is present.
rocket = os.path.join(os.path.dirname(__file__), '../../../shared/corpus/jpeg/skimage_rocket.jpg')
if os.path.exists(rocket):
    Image.open(rocket).save(os.path.join(out, 'recompressed.jxl'), lossless_jpeg=True)
    with open(rocket, 'rb') as f, open(os.path.join(out, 'recompressed.jpg'), 'wb') as g:
        g.write(f.read())
    made['recompressed.jxl'] = list(Image.open(os.path.join(out, 'recompressed.jxl')).size)
# A 6 MP JPEG XL: big enough that a decode budget of 8 bytes per pixel (what the other decoders
# get) is short of what jxl-oxide holds (regression test in tests/it/jxl.rs).
Image.linear_gradient('L').resize((3000, 2000)).convert('RGB').save(os.path.join(out, 'large.jxl'), effort=1)
made['large.jxl'] = [3000, 2000]
for name in [n for n in made if n.endswith('.jxl') and n != 'large.jxl']:
    Image.open(os.path.join(out, name)).save(os.path.join(out, name + '.ref.png'))
with open(os.path.join(out, 'photo.jxl'), 'rb') as f:
    whole = f.read()
with open(os.path.join(out, 'truncated.jxl'), 'wb') as f:
    f.write(whole[:len(whole) // 2])
with open(os.path.join(out, 'logo.svg'), 'w') as f:
    f.write('<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="40" height="20">'
            '<script>alert(1)</script><rect width="40" height="20" fill="red"/></svg>\n')
made['logo.svg'] = None
with open(os.path.join(out, 'noise.bin'), 'wb') as f:
    f.write(bytes((i * 7919) % 251 for i in range(4096)))

def avifenc(name, source, *args):
    subprocess.run(['avifenc', '-s', '8', *args, source, os.path.join(out, name)], check=True,
                   stdout=subprocess.DEVNULL)
    subprocess.run(['avifdec', '-d', '8', os.path.join(out, name), os.path.join(out, name + '.ref.png')],
                   check=True, stdout=subprocess.DEVNULL)


# A quadrant picture (red top left) over a gradient tells where turns and crops put pixels.
quad = Image.new('RGB', (64, 48))
quad.putdata([(250, 20, 20) if x < 32 and y < 24 else ((x * 4) & 255, (y * 5) & 255, ((x + y) * 2) & 255)
              for y in range(48) for x in range(64)])
quad.save(os.path.join(out, 'quad.png'))
quad_alpha = quad.convert('RGBA')
quad_alpha.putalpha(Image.linear_gradient('L').resize((64, 48)))
quad_alpha.save(os.path.join(out, 'quad_alpha.png'))
# Without the photo's ICC profile: avifdec's reference is not colour-managed, pixflow's decode is.
big = (Image.open(rocket).convert('RGB') if os.path.exists(rocket) else quad).resize((256, 192))
icc = big.info.pop('icc_profile', None)
big.save(os.path.join(out, 'big.png'))
# The same photo keeping its ICC profile (Adobe RGB 1998), losslessly as AVIF (colr prof) and PNG.
if icc:
    big.save(os.path.join(out, 'icc.png'), icc_profile=icc)
    avifenc('icc.avif', os.path.join(out, 'icc.png'), '-l')
    made['icc.avif'] = [256, 192]
src = os.path.join(out, 'quad.png')
for name, source, args in [
    ('yuv420.avif', src, ['-y', '420', '--min', '6', '--max', '10']),
    ('limited.avif', src, ['-y', '420', '-r', 'limited', '--min', '6', '--max', '10']),
    ('deep10.avif', src, ['-d', '10', '-y', '444', '--min', '6', '--max', '10']),
    ('deep12.avif', src, ['-d', '12', '-y', '422', '--min', '6', '--max', '10']),
    ('mono.avif', src, ['-y', '400', '--min', '6', '--max', '10']),
    ('alpha10.avif', os.path.join(out, 'quad_alpha.png'), ['-d', '10', '--min', '6', '--max', '10']),
    ('grid.avif', os.path.join(out, 'big.png'), ['-g', '2x2', '--min', '6', '--max', '10']),
    ('lossless.avif', src, ['-l']),
    ('irot1.avif', src, ['-l', '--irot', '1']),
    ('irot3.avif', src, ['-l', '--irot', '3']),
    ('imir1.avif', src, ['-l', '--imir', '1']),
    ('irot1imir0.avif', src, ['-l', '--irot', '1', '--imir', '0']),
    ('clap.avif', src, ['-l', '--crop', '4,2,48,36']),
]:
    avifenc(name, source, *args)
    made[name] = list(Image.open(os.path.join(out, name + '.ref.png')).size)
for name in ['photo.avif', 'alpha.avif']:  # Pillow's own libavif wrote these
    subprocess.run(['avifdec', '-d', '8', os.path.join(out, name), os.path.join(out, name + '.ref.png')],
                   check=True, stdout=subprocess.DEVNULL)
# HDR and wide gamut: flat patches whose samples are read through the tagged transfer.
patches = Image.new('RGB', (64, 16))
patches.putdata([(148, 148, 148) if x < 16 else (191, 191, 191) if x < 32 else (0, 0, 0) if x < 48
                 else (255, 0, 0) for y in range(16) for x in range(64)])
patches.save(os.path.join(out, 'patches.png'))
for name, cicp in [('pq.avif', '9/16/9'), ('hlg.avif', '9/18/9'), ('p3.avif', '12/13/1')]:
    avifenc(name, os.path.join(out, 'patches.png'), '-l', '-d', '10', '--cicp', cicp)
    made[name] = [64, 16]
# The same patches as a monochrome (4:0:0) PQ picture.
avifenc('pq_mono.avif', os.path.join(out, 'patches.png'), '-y', '400', '-d', '10', '--min', '0', '--max', '0',
        '--cicp', '9/16/9')
made['pq_mono.avif'] = [64, 16]
# HEIC (issue 15): pictures from x265 through pillow-heif (libheif 1.20), grids and transforms
# wrapped by heif_writer.py, each with NAME.ref.png, libheif's own decode (libde265; transforms,
# clap and grids applied) through pillow-heif.
import heif_writer
quad.save(os.path.join(out, 'quad.heic'), quality=100)
quad_parts = heif_writer.hevc_parts(os.path.join(out, 'quad.heic'))
for name, props in [('irot1.heic', [(b'irot', b'\x01')]), ('irot3.heic', [(b'irot', b'\x03')]),
                    ('imir1.heic', [(b'imir', b'\x01')]),
                    ('irot1imir0.heic', [(b'irot', b'\x01'), (b'imir', b'\x00')])]:
    # quad_parts[3]: libheif's clap, cutting the coded 64×64 to 64×48, before the turn.
    heif_writer.write(os.path.join(out, name), [quad_parts], primary_props=quad_parts[3] + props)
tiles = []
for r in range(2):
    for c in range(2):
        # Tiles of whole 64-pixel blocks, which libheif codes without a clap (a tile's is ignored).
        big.resize((256, 256)).crop((c * 128, r * 128, c * 128 + 128, r * 128 + 128)).save(
            os.path.join(out, 'tile.heic'), quality=90)
        tiles.append(heif_writer.hevc_parts(os.path.join(out, 'tile.heic')))
heif_writer.write(os.path.join(out, 'grid.heic'), tiles, grid=(2, 2, 250, 190))
deep = pillow_heif.from_bytes('RGB;16', (64, 48), bytes(
    b for y in range(48) for x in range(64) for v in (x * 1000, y * 1300, (x + y) * 500)
    for b in (v & 0xFFFF).to_bytes(2, 'little')))
deep.save(os.path.join(out, 'deep10.heic'), quality=95)
quad.convert('L').save(os.path.join(out, 'gray.heic'), quality=95)
quad_alpha.save(os.path.join(out, 'alpha_quad.heic'), quality=95)
for name in ['photo.heic', 'alpha.heic', 'quad.heic', 'irot1.heic', 'irot3.heic', 'imir1.heic',
             'irot1imir0.heic', 'grid.heic', 'deep10.heic', 'gray.heic', 'alpha_quad.heic']:
    ref = Image.open(os.path.join(out, name))
    made[name] = list(ref.size)
    ref.save(os.path.join(out, name + '.ref.png'))
# A header that understates: ispe says 16×16, the HEVC sequence parameter set 64×48.
heif_writer.write(os.path.join(out, 'liar.heic'), [(*quad_parts[:2], (16, 16), [])])
with open(os.path.join(out, 'quad.heic'), 'rb') as f:
    whole = f.read()
with open(os.path.join(out, 'truncated.heic'), 'wb') as f:
    f.write(whole[:len(whole) - len(whole) // 3])
# HDR HEIC: the same patches tagged PQ and HLG (BT.2020) in the colr nclx box.
for name, transfer in [('pq.heic', 16), ('hlg.heic', 18)]:
    pillow_heif.from_pillow(patches).save(os.path.join(out, name), quality=-1, color_primaries=9,
                                          transfer_characteristics=transfer, matrix_coefficients=9,
                                          full_range_flag=1)
    made[name] = [64, 16]
with open(os.path.join(out, 'yuv420.avif'), 'rb') as f:
    whole = f.read()
with open(os.path.join(out, 'truncated.avif'), 'wb') as f:
    f.write(whole[:len(whole) - len(whole) // 3])
print(json.dumps(made))
