"""Reads animations with Pillow, an independent decoder (its own GIF and APNG readers, libwebp's
animation decoder), for tests/it/animation.rs: argv[1] is a JSON list of sample points as
fractions of the size, the other arguments are files; prints one JSON object per file."""
import json
import sys
from PIL import Image

points = json.loads(sys.argv[1])
out = []
for path in sys.argv[2:]:
    im = Image.open(path)
    n = getattr(im, 'n_frames', 1)
    frames = []
    for i in range(n):
        im.seek(i)
        im.load()
        rgba = im.convert('RGBA')
        w, h = rgba.size
        samples = [list(rgba.getpixel((min(w - 1, int(fx * w)), min(h - 1, int(fy * h))))) for fx, fy in points]
        frames.append({'duration': im.info.get('duration'), 'samples': samples})
    out.append({'format': im.format, 'size': list(im.size), 'loop': im.info.get('loop'), 'frames': frames})
print(json.dumps(out))
