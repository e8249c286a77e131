"""g_auto measured beside libvips' attention (sharp, position: 'attention'), in one run.

(a) Generated images: one detailed object (a 160 px patch cut from a corpus photo, chosen for its
    detail) on a smooth gradient or a noisy flat background, at a random position, in 1600 x 600
    and 600 x 1600 frames; a 300 x 300 c_fill keeps a 600 x 600 window. Counted: how often the
    window holds the whole object (pixflow g_auto, sharp attention, and the centre crop).
(b) The corpus photos: pixflow's window against sharp's (IoU) for square, 16:9 and 9:16 crops,
    and a contact sheet (centre | pixflow g_auto | sharp attention) written to docs/.
(c) Determinism: every pixflow crop rendered twice, byte for byte.
(d) Time: `pixflow bench` T2 beside T2 with g_auto, and f_thumbhash beside f_json (a header
    read) for the same 300 x 200 fill, interleaved rounds, same process.

usage: scripts/gauto-check [--count 100] [--seed 7]   (needs ../shared/bench/setup.sh once)"""
import argparse, json, os, random, statistics, subprocess, sys, tempfile

from PIL import Image, ImageDraw, ImageFilter, ImageStat

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
PIXFLOW = os.path.join(ROOT, 'target', 'release', 'pixflow')
CORPUS = os.path.join(ROOT, '..', 'shared', 'corpus', 'jpeg')
NODE_MODULES = os.path.join(os.environ['HOME'], '.cache', 'pixflow-bench', 'node', 'node_modules')

SHARP = r"""
const sharp = require('sharp');
sharp.concurrency(1);
const jobs = JSON.parse(require('fs').readFileSync(process.argv[2], 'utf8'));
(async () => {
  for (const j of jobs) {
    const meta = await sharp(j.file).metadata();
    const { info } = await sharp(j.file)
      .resize(j.w, j.h, { fit: 'cover', position: 'attention' })
      .toBuffer({ resolveWithObject: true });
    // Offsets are in the cover-resized image: scale them back to the source.
    const scale = Math.max(j.w / meta.width, j.h / meta.height);
    const left = Math.abs(info.cropOffsetLeft || 0) / scale, top = Math.abs(info.cropOffsetTop || 0) / scale;
    console.log(JSON.stringify({ file: j.file, w: j.w, h: j.h, x: left, y: top,
                                 width: j.w / scale, height: j.h / scale }));
  }
})();
"""


def pixflow_region(path, w, h, gravity='g_auto'):
    with tempfile.NamedTemporaryFile(suffix='.json') as out:
        opts = f'f_json,w_{w},h_{h},c_fill' + (f',{gravity}' if gravity else '')
        subprocess.run([PIXFLOW, 'transform', path, out.name, '--options', opts], check=True,
                       capture_output=True, env=dict(os.environ, RUST_LOG='off'))
        r = json.load(open(out.name))['output']['region']
    return (r['x'], r['y'], r['width'], r['height'])


def pixflow_bytes(path, w, h):
    with tempfile.NamedTemporaryFile(suffix='.jpg') as out:
        subprocess.run([PIXFLOW, 'transform', path, out.name, '--options', f'w_{w},h_{h},c_fill,g_auto'],
                       check=True, capture_output=True, env=dict(os.environ, RUST_LOG='off'))
        return open(out.name, 'rb').read()


def sharp_regions(jobs):
    with tempfile.TemporaryDirectory() as d:
        script, spec = os.path.join(d, 'attention.js'), os.path.join(d, 'jobs.json')
        open(script, 'w').write(SHARP)
        json.dump([{'file': f, 'w': w, 'h': h} for f, w, h in jobs], open(spec, 'w'))
        out = subprocess.run(['node', script, spec], check=True, capture_output=True, text=True,
                             env=dict(os.environ, NODE_PATH=NODE_MODULES)).stdout
    return {(j['file'], j['w'], j['h']): (j['x'], j['y'], j['width'], j['height'])
            for j in map(json.loads, out.splitlines())}


def contains(window, obj):
    x, y, w, h = window
    ox, oy, ow, oh = obj
    slack = 2  # sub-pixel placement of a scaled window
    return x <= ox + slack and y <= oy + slack and x + w >= ox + ow - slack and y + h >= oy + oh - slack


def iou(a, b):
    ax, ay, aw, ah = a
    bx, by, bw, bh = b
    iw = max(0.0, min(ax + aw, bx + bw) - max(ax, bx))
    ih = max(0.0, min(ay + ah, by + bh) - max(ay, by))
    inter = iw * ih
    return inter / (aw * ah + bw * bh - inter)


def detailed_patch(rng, photos, size):
    while True:
        img = Image.open(rng.choice(photos)).convert('RGB')
        x, y = rng.randrange(img.width - size), rng.randrange(img.height - size)
        patch = img.crop((x, y, x + size, y + size))
        edges = ImageStat.Stat(patch.convert('L').filter(ImageFilter.FIND_EDGES)).mean[0]
        if edges > 12:
            return patch


def generate(rng, photos, out_dir, count):
    cases = []
    for i in range(count):
        w, h = (1600, 600) if i % 2 == 0 else (600, 1600)
        noisy = (i // 2) % 2 == 1
        base = tuple(rng.randrange(70, 190) for _ in range(3))
        if noisy:
            noise = Image.effect_noise((w, h), 28).convert('RGB')
            bg = Image.blend(Image.new('RGB', (w, h), base), noise, 0.5)
        else:
            other = tuple(max(0, min(255, c + rng.randrange(-60, 61))) for c in base)
            grad = Image.linear_gradient('L').rotate(rng.choice([0, 90])).resize((w, h))
            bg = Image.composite(Image.new('RGB', (w, h), other), Image.new('RGB', (w, h), base), grad)
        size = 160
        ox, oy = rng.randrange(w - size), rng.randrange(h - size)
        bg.paste(detailed_patch(rng, photos, size), (ox, oy))
        path = os.path.join(out_dir, f'gen{i:03d}.jpg')
        bg.save(path, quality=90)
        cases.append((path, (ox, oy, size, size), 'noisy' if noisy else 'smooth'))
    return cases


def contact_sheet(rows, path, thumb=150):
    sheet = Image.new('RGB', (3 * thumb + 40, len(rows) * (thumb + 10) + 30), (255, 255, 255))
    draw = ImageDraw.Draw(sheet)
    for c, label in enumerate(['centre', 'pixflow g_auto', 'libvips attention']):
        draw.text((10 + c * (thumb + 10), 8), label, fill=(0, 0, 0))
    for r, (photo, windows) in enumerate(rows):
        img = Image.open(photo).convert('RGB')
        for c, (x, y, w, h) in enumerate(windows):
            crop = img.crop((round(x), round(y), round(x + w), round(y + h))).resize((thumb, thumb), Image.LANCZOS)
            sheet.paste(crop, (10 + c * (thumb + 10), 30 + r * (thumb + 10)))
    sheet.save(path, quality=82)


def bench(rounds, reps):
    photos = sorted(os.path.join(CORPUS, f) for f in os.listdir(CORPUS))
    with tempfile.NamedTemporaryFile('w', suffix='.txt', delete=False) as lst:
        lst.write('\n'.join(photos))
    means = {'T2': [], 'T2-gauto': [], 'json': [], 'thumbhash': []}
    for _ in range(rounds):
        for task in means:
            out = subprocess.run([PIXFLOW, 'bench', task, lst.name, str(reps)], check=True,
                                 capture_output=True, text=True, env=dict(os.environ, RUST_LOG='off')).stdout
            means[task].append(json.loads(out)['mean_ms'])
    os.unlink(lst.name)
    return {t: statistics.median(v) for t, v in means.items()}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--count', type=int, default=100)
    ap.add_argument('--seed', type=int, default=7)
    ap.add_argument('--rounds', type=int, default=3)
    a = ap.parse_args()
    rng = random.Random(a.seed)
    photos = sorted(os.path.join(CORPUS, f) for f in os.listdir(CORPUS) if f.endswith('.jpg'))
    work = os.path.join(ROOT, 'target', 'gauto')
    os.makedirs(work, exist_ok=True)

    # (a)
    cases = generate(rng, photos, work, a.count)
    sharp = sharp_regions([(p, 300, 300) for p, _, _ in cases])
    hits = {k: {'smooth': 0, 'noisy': 0} for k in ('pixflow', 'sharp', 'centre')}
    totals = {'smooth': 0, 'noisy': 0}
    for path, obj, kind in cases:
        totals[kind] += 1
        hits['pixflow'][kind] += contains(pixflow_region(path, 300, 300), obj)
        hits['sharp'][kind] += contains(sharp[(path, 300, 300)], obj)
        hits['centre'][kind] += contains(pixflow_region(path, 300, 300, gravity=None), obj)
    print(f'(a) {a.count} generated images, object 160 px, window 600 px of 1600 (seed {a.seed})')
    print('| crop | smooth background | noisy background | all |')
    print('|---|---|---|---|')
    for k, name in (('pixflow', 'pixflow g_auto'), ('sharp', 'libvips attention (sharp)'), ('centre', 'centre')):
        s, n = hits[k]['smooth'], hits[k]['noisy']
        print(f"| {name} | {100 * s / totals['smooth']:.0f} % | {100 * n / totals['noisy']:.0f} % "
              f"| {100 * (s + n) / a.count:.0f} % |")

    # (b) and (c)
    shapes = [(300, 300), (480, 270), (270, 480)]
    jobs = [(p, w, h) for p in photos for w, h in shapes]
    sharp = sharp_regions(jobs)
    scores = {s: [] for s in shapes}
    centre_scores = {s: [] for s in shapes}
    rows, same = [], 0
    for p, w, h in jobs:
        mine = pixflow_region(p, w, h)
        centre = pixflow_region(p, w, h, gravity=None)
        scores[(w, h)].append(iou(mine, sharp[(p, w, h)]))
        centre_scores[(w, h)].append(iou(centre, sharp[(p, w, h)]))
        same += pixflow_bytes(p, w, h) == pixflow_bytes(p, w, h) and mine == pixflow_region(p, w, h)
        if (w, h) == (300, 300):
            rows.append((p, [centre, mine, sharp[(p, w, h)]]))
    print(f'\n(b) {len(photos)} corpus photos: window agreement with libvips attention (IoU)')
    print('| crop | pixflow g_auto vs attention, mean IoU | centre vs attention, mean IoU |')
    print('|---|---|---|')
    for s in shapes:
        print(f'| {s[0]}x{s[1]} | {statistics.mean(scores[s]):.2f} | {statistics.mean(centre_scores[s]):.2f} |')
    sheet = os.path.join(ROOT, 'docs', 'g_auto-contact-sheet.jpg')
    os.makedirs(os.path.dirname(sheet), exist_ok=True)
    contact_sheet(rows, sheet)
    print(f'contact sheet: {os.path.relpath(sheet, ROOT)}')
    print(f'\n(c) deterministic: {same} of {len(jobs)} crops identical (bytes and window) when rendered twice')

    # (d)
    t = bench(a.rounds, 3)
    print(f'\n(d) pixflow bench, {len(photos)} photos, median of {a.rounds} interleaved rounds')
    print('| task (options) | mean ms/img |')
    print('|---|---|')
    for task, ms in t.items():
        print(f'| {task} | {ms:.2f} |')
    print(f"| ratio g_auto / centre | {t['T2-gauto'] / t['T2']:.2f} |")
    print(f"| ratio f_thumbhash / f_json | {t['thumbhash'] / t['json']:.2f} |")


if __name__ == '__main__':
    sys.exit(main())
