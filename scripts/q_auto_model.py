"""Fits the model that starts q_auto's search (src/transform/auto_quality.rs) on scripts/fit-q-auto's
measurements, and prints it as the Rust constants.

Per format, the encoder quality an image needs to reach a SSIMULACRA2 target is read off its
measured curve (linear between grid points). The model predicts it from the target and the
image's features: q = c0 + c1·T + Σ ck·feature_k, least squares over every image and the targets
60–90. Each candidate feature set is judged leaving one photo out (its renders at every width),
so the error printed is the error on photos the fit has not seen; pixflow uses the full set. A
better start saves trial encodes; the search, not the model, makes the target
(`scripts/fit-q-auto --check` measures both).
"""
import math, statistics

FORMATS = ['jpeg', 'webp', 'avif']
DEFAULT = {'jpeg': 80, 'webp': 85, 'avif': 86}  # src/transform/quality.rs at q80
LEVELS = {'best': 85.0, 'good': 78.0, 'eco': 72.0, 'low': 65.0}  # auto_quality::target
TARGETS = [60, 65, 70, 75, 80, 85, 90]
Q_MIN, Q_MAX = 30, 95
FEATURES = {
    'ln detail': lambda r: math.log(1 + r['features']['detail']),
    'ln edges': lambda r: math.log(1 + r['features']['edges']),
    'ln chroma': lambda r: math.log(1 + r['features']['chroma']),
    'flat': lambda r: r['features']['flat'],
    'ln pixels': lambda r: math.log(r['pixels']),
}
SETS = [[], ['ln detail'], ['ln edges'], ['ln detail', 'flat'], ['ln edges', 'flat'],
        ['ln detail', 'ln chroma'], ['ln detail', 'ln chroma', 'flat'], ['ln detail', 'flat', 'ln pixels'],
        ['ln edges', 'ln chroma', 'flat'], ['ln detail', 'ln edges', 'ln chroma', 'flat', 'ln pixels']]


def interp(curve, x, xi, yi):
    """y at x along the curve's (xi, yi) columns, linear between points, clamped at the ends."""
    pts = sorted((p[xi], p[yi]) for p in curve)
    if x <= pts[0][0]:
        return pts[0][1]
    for (x0, y0), (x1, y1) in zip(pts, pts[1:]):
        if x <= x1:
            return y0 + (x - x0) / (x1 - x0) * (y1 - y0) if x1 > x0 else y1
    return pts[-1][1]


def needed(curve, target):
    """The lowest encoder quality whose (interpolated) score reaches target, within the grid."""
    pts = sorted(curve)
    if pts[0][1] >= target:
        return pts[0][0]
    for (q0, s0, _), (q1, s1, _) in zip(pts, pts[1:]):
        if s0 < target <= s1:
            return q0 + (target - s0) / (s1 - s0) * (q1 - q0)
    return pts[-1][0] + 5  # not reached on the grid: past its top


def score_at(curve, q):
    return interp(curve, q, 0, 1)


def bytes_at(curve, q):
    return math.exp(interp([(p[0], 0, math.log(p[2])) for p in curve], q, 0, 2))


def solve(rows, ys):
    """Least squares by the normal equations (a handful of columns)."""
    n = len(rows[0])
    a = [[sum(r[i] * r[j] for r in rows) + (1e-6 if i == j else 0) for j in range(n)] for i in range(n)]
    b = [sum(r[i] * y for r, y in zip(rows, ys)) for i in range(n)]
    for i in range(n):
        p = max(range(i, n), key=lambda k: abs(a[k][i]))
        a[i], a[p], b[i], b[p] = a[p], a[i], b[p], b[i]
        for k in range(i + 1, n):
            f = a[k][i] / a[i][i]
            a[k] = [x - f * y for x, y in zip(a[k], a[i])]
            b[k] -= f * b[i]
    c = [0.0] * n
    for i in reversed(range(n)):
        c[i] = (b[i] - sum(a[i][j] * c[j] for j in range(i + 1, n))) / a[i][i]
    return c


def columns(r, t, names):
    return [1.0, t] + [FEATURES[n](r) for n in names]


def fit(data, fmt, names):
    rows, ys = [], []
    for r in data:
        for t in TARGETS:
            q = needed(r['curves'][fmt], t)
            if Q_MIN <= q <= Q_MAX:  # a target the grid brackets
                rows.append(columns(r, t, names))
                ys.append(q)
    return solve(rows, ys)


def predict(c, r, t, names):
    return sum(a * b for a, b in zip(c, columns(r, t, names)))


def held_out(data, fmt, names):
    """Per row, the coefficients fitted without its photo."""
    photos = sorted({r['photo'] for r in data})
    by_photo = {p: fit([r for r in data if r['photo'] != p], fmt, names) for p in photos}
    return [(r, by_photo[r['photo']]) for r in data]


def main(data):
    print(f'{len(data)} renders ({len({r["photo"] for r in data})} photos × widths)\n')
    print('Default (calibrated q80) scores against the lossless render, median (min):')
    for fmt in FORMATS:
        s = [score_at(r['curves'][fmt], DEFAULT[fmt]) for r in data]
        print(f'  {fmt}: {statistics.median(s):.1f} ({min(s):.1f})')
    print('\nHeld-out error of the needed quality (RMS, in encoder quality steps), per feature set:')
    for fmt in FORMATS:
        for names in SETS:
            errs = []
            for r, c in held_out(data, fmt, names):
                for t in TARGETS:
                    q = needed(r['curves'][fmt], t)
                    if Q_MIN <= q <= Q_MAX:
                        errs.append(predict(c, r, t, names) - q)
            rms = math.sqrt(sum(e * e for e in errs) / len(errs))
            print(f'  {fmt:5} {rms:5.2f}  {", ".join(names) or "(target only)"}')
    used = SETS[-1]
    print(f'\nThe model with {", ".join(used)} (auto_quality.rs):')
    for fmt in FORMATS:
        c = fit(data, fmt, used)
        print(f'const {fmt.upper()}: Model = Model {{')
        for name, v in zip(['base', 'per_target', 'detail', 'edges', 'chroma', 'flat', 'pixels'], c):
            print(f'    {name}: {v:.4f},')
        print('};')
