"""The measuring and fitting behind q_auto (run through scripts/fit-q-auto)."""
import argparse, json, os, subprocess
from concurrent.futures import ThreadPoolExecutor

ap = argparse.ArgumentParser()
ap.add_argument('--widths', default='400,800')
ap.add_argument('--fit', action='store_true', help='fit the model on target/q-auto/data.json')
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


if a.fit:
    import q_auto_model
    q_auto_model.main(json.load(open(os.path.join(OUT, 'data.json'))))
else:
    gather()
