"""Writes originals in formats pixflow names or reads through its own decoders, each made by an
independent encoder from PyPI: AVIF (Pillow's own libavif), HEIC (pillow-heif, libheif + x265),
JPEG XL (pillow-jxl-plugin, libjxl), ICO (Pillow), and SVG (text). Each JPEG XL also gets
`NAME.ref.png`, libjxl's own decode of it (through the plugin), for pixflow's decode to be checked
against. Prints {file: [width, height]} as JSON.

usage: foreign_fixtures.py OUTDIR"""
import json, os, sys

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
for name in [n for n in made if n.endswith('.jxl')]:
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
print(json.dumps(made))
