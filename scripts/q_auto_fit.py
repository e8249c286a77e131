"""The measuring and fitting behind q_auto (run through scripts/fit-q-auto)."""
import argparse, json, os, subprocess
from concurrent.futures import ThreadPoolExecutor

ap = argparse.ArgumentParser()
ap.add_argument('--widths', default='400,800')
ap.add_argument('--fit', action='store_true', help='fit the model on target/q-auto/data.json')
ap.add_argument('--check', action='store_true', help="measure q_auto's outputs against the default's")
a = ap.parse_args()
OUT = 'target/q-auto'
PIXFLOW = os.environ['PIXFLOW']
GRID = [30, 40, 50, 60, 70, 75, 80, 85, 90, 95]
FORMATS = ['jpeg', 'webp', 'avif']


def photos():
    roots = ['../shared/corpus/jpeg', '../shared/corpus/other']
    return sorted(os.path.join(r, f) for r in roots for f in os.listdir(r)
                  if f.lower().endswith(('.jpg', '.jpeg', '.png', '.webp')))


def run(args):
    subprocess.run(args, check=True, capture_output=True)


def gather():
    os.makedirs(OUT, exist_ok=True)
    widths = [int(w) for w in a.widths.split(',')]
    images = [(p, w) for p in photos() for w in widths]
    stem = lambda p, w: os.path.join(OUT, f'{os.path.splitext(os.path.basename(p))[0]}.{w}')

    def reference(job):
        p, w = job
        ref = stem(p, w) + '.png'
        if not os.path.exists(ref):
            run([PIXFLOW, 'transform', p, ref, '--options', f'w_{w}'])
        return ref

    def encode(job):
        p, w, f, q = job
        dst = f'{stem(p, w)}.{f}{q}.{f}'
        if not os.path.exists(dst):
            run([PIXFLOW, 'transform', p, dst, '--options', f'w_{w},f_{f}', '--encoder-quality', str(q)])
        scored = dst
        if f == 'avif':  # the scorer reads PNG, JPEG and WebP; libavif (dav1d) decodes AVIF
            scored = dst + '.png'
            if not os.path.exists(scored):
                run(['avifdec', dst, scored])
        return p, w, f, q, os.path.getsize(dst), scored

    with ThreadPoolExecutor(max_workers=2) as pool:
        refs = dict(zip(images, pool.map(reference, images)))
        jobs = [(p, w, f, q) for p, w in images for f in FORMATS for q in GRID]
        encoded = list(pool.map(encode, jobs))
    feats = {}
    out = subprocess.run([PIXFLOW, 'quality-features', *refs.values()], check=True, capture_output=True, text=True)
    for line in out.stdout.splitlines():
        j = json.loads(line)
        feats[j['file']] = j
    # Two scorers at once, each on half the pairs.
    pairs = [f'{refs[(p, w)]}\t{s}\n' for p, w, _, _, _, s in encoded]
    halves = [pairs[0::2], pairs[1::2]]
    tool = 'target/quality-tool/release/pixflow-quality'
    score = {}
    with ThreadPoolExecutor(max_workers=2) as pool:
        for res in pool.map(lambda h: subprocess.run([tool], input=''.join(h), capture_output=True, text=True,
                                                     check=True).stdout, halves):
            score.update(l.split('\t') for l in res.strip().split('\n'))
    data = []
    for (p, w), ref in refs.items():
        row = {'photo': os.path.basename(p), 'width': w, 'pixels': feats[ref]['width'] * feats[ref]['height'],
               'features': feats[ref]['features'], 'curves': {}}
        for pp, ww, f, q, size, s in encoded:
            if (pp, ww) == (p, w):
                row['curves'].setdefault(f, []).append([q, float(score[s]), size])
        data.append(row)
    json.dump(data, open(os.path.join(OUT, 'data.json'), 'w'), indent=0)
    print(f'{len(data)} renders measured → {OUT}/data.json')


def check():
    """Every photo, width, format and level through `pixflow transform … q_auto:LEVEL`, beside the
    calibrated default: the score by the independent scorer (the rust-av SSIMULACRA2 — q_auto
    searches with fast-ssim2) against the lossless render, bytes, and the encode time (q_auto's
    search included) as `pixflow transform` reports it."""
    import statistics
    from q_auto_model import LEVELS
    os.makedirs(OUT, exist_ok=True)
    widths = [int(w) for w in a.widths.split(',')]
    images = [(p, w) for p in photos() for w in widths]
    stem = lambda p, w: os.path.join(OUT, f'{os.path.splitext(os.path.basename(p))[0]}.{w}')
    levels = [None] + list(LEVELS)

    def render(job):
        p, w, f, level = job
        ref = stem(p, w) + '.png'
        if not os.path.exists(ref):
            run([PIXFLOW, 'transform', p, ref, '--options', f'w_{w}'])
        q = f',q_auto:{level}' if level else ''
        dst = f'{stem(p, w)}.check.{level or "default"}.{f}'
        out = subprocess.run([PIXFLOW, 'transform', p, dst, '--options', f'w_{w},f_{f}{q}'], check=True,
                             capture_output=True, text=True).stdout.split()
        scored = dst
        if f == 'avif':
            scored = dst + '.png'
            run(['avifdec', dst, scored])
        field = lambda name: float(out[out.index(name) + 1]) if name in out else None
        return dict(photo=os.path.basename(p), width=w, format=f, level=level, ref=ref, scored=scored,
                    bytes=os.path.getsize(dst), quality=field('quality'), trials=field('trials'),
                    ms=field('encode'))

    jobs = [(p, w, f, l) for p, w in images for f in FORMATS for l in levels]
    with ThreadPoolExecutor(max_workers=2) as pool:
        rows = list(pool.map(render, jobs))
    pairs = [f'{r["ref"]}\t{r["scored"]}\n' for r in rows]
    tool = 'target/quality-tool/release/pixflow-quality'
    score = {}
    with ThreadPoolExecutor(max_workers=2) as pool:
        for res in pool.map(lambda h: subprocess.run([tool], input=''.join(h), capture_output=True, text=True,
                                                     check=True).stdout, [pairs[0::2], pairs[1::2]]):
            score.update(l.split('\t') for l in res.strip().split('\n'))
    base = {(r['photo'], r['width'], r['format']): r for r in rows if r['level'] is None}
    print(f'{len(images)} renders ({len(photos())} photos at {a.widths} px); SSIMULACRA2 by the rust-av scorer '
          'against the lossless render; bytes and encode time against the calibrated default of the same format\n')
    print('| format | level (target) | score median (min) | under target − 3 | bytes × default, median (mean) '
          '| quality range | trials, mean | encode ms, 400 px (× default) | 800 px (× default) |')
    print('|---|---|---|---|---|---|---|---|---|')
    for f in FORMATS:
        for level in levels:
            sel = [r for r in rows if r['format'] == f and r['level'] == level]
            s = [float(score[r['scored']]) for r in sel]
            t = LEVELS.get(level)
            under = [f'{r["photo"]}@{r["width"]}' for r, v in zip(sel, s) if t is not None and v < t - 3]
            ratio = [r['bytes'] / base[(r['photo'], r['width'], f)]['bytes'] for r in sel]
            qs = [r['quality'] for r in sel if r['quality'] is not None]
            tr = [r['trials'] for r in sel if r['trials'] is not None]
            def ms(w):
                mine = [r['ms'] for r in sel if r['width'] == w]
                dflt = [base[(r['photo'], w, f)]['ms'] for r in sel if r['width'] == w]
                return f'{statistics.mean(mine):.1f} ({statistics.mean(mine) / statistics.mean(dflt):.1f}×)'
            name = f'{level} ({t:.0f})' if level else 'default q80'
            print(f'| {f} | {name} | {statistics.median(s):.1f} ({min(s):.1f}) | {len(under)} | '
                  f'{statistics.median(ratio):.2f} ({statistics.mean(ratio):.2f}) | '
                  f'{min(qs):.0f}–{max(qs):.0f} | {statistics.mean(tr) if tr else 0:.2f} | {ms(400)} | {ms(800)} |')
            if under:
                print(f'|  | under: {", ".join(under)} | | | | | | | |')


if a.check:
    check()
elif a.fit:
    import q_auto_model
    q_auto_model.main(json.load(open(os.path.join(OUT, 'data.json'))))
else:
    gather()
