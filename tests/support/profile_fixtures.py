"""Writes originals tagged with grey and CMYK ICC profiles, and 16-bit originals, each with
`NAME.ref.png`: LittleCMS's conversion of it to sRGB (through Pillow's ImageCms) with the
relative colorimetric intent, the one qcms (and so Firefox) applies, for pixflow's (qcms) to be
checked against. The profiles are other people's, from Debian's packages that
scripts/setup installs: ghostscript's SWOP CMYK profile (libgs-common) and icc-profiles-free's
grey profiles. The CMYK JPEGs are written by Pillow (libjpeg) with Adobe's APP14 marker and
inverted samples, as Photoshop writes them. Prints {file: [width, height]} as JSON.

usage: profile_fixtures.py OUTDIR"""
import io, json, os, sys

from PIL import Image, ImageCms

out = sys.argv[1]
os.makedirs(out, exist_ok=True)
here = os.path.dirname(__file__)
SWOP = '/usr/share/color/icc/ghostscript/default_cmyk.icc'
GRAYS = {'gray_linear': '/usr/share/color/icc/Gray.icc',
         'gray_gs': '/usr/share/color/icc/ghostscript/default_gray.icc'}
srgb = ImageCms.createProfile('sRGB')
rocket = os.path.join(here, '../../../shared/corpus/jpeg/skimage_rocket.jpg')
photo = os.path.join(here, '../../samples/rocket.jpg')
src = Image.open(rocket if os.path.exists(rocket) else photo).convert('RGB').resize((128, 96))
made = {}

def save_ref(name, image, profile_bytes):
    profile = ImageCms.ImageCmsProfile(io.BytesIO(profile_bytes))
    ref = ImageCms.profileToProfile(Image.open(os.path.join(out, name)), profile, srgb, outputMode='RGB',
                                    renderingIntent=ImageCms.Intent.RELATIVE_COLORIMETRIC)
    ref.save(os.path.join(out, name + '.ref.png'))
    made[name] = list(image.size)

cmyk_icc = open(SWOP, 'rb').read()
cmyk = ImageCms.profileToProfile(src, srgb, ImageCms.ImageCmsProfile(io.BytesIO(cmyk_icc)), outputMode='CMYK')
cmyk.save(os.path.join(out, 'cmyk.jpg'), quality=95, icc_profile=cmyk_icc)
save_ref('cmyk.jpg', cmyk, cmyk_icc)
# The same samples without the profile: Pillow's own conversion (each ink times the black).
cmyk.save(os.path.join(out, 'cmyk_plain.jpg'), quality=95)
Image.open(os.path.join(out, 'cmyk_plain.jpg')).convert('RGB').save(os.path.join(out, 'cmyk_plain.jpg.ref.png'))
made['cmyk_plain.jpg'] = list(cmyk.size)
gray = src.convert('L')
for name, path in GRAYS.items():
    icc = open(path, 'rb').read()
    gray.save(os.path.join(out, name + '.png'), icc_profile=icc)
    save_ref(name + '.png', gray, icc)
    gray.save(os.path.join(out, name + '.jpg'), quality=95, icc_profile=icc)
    save_ref(name + '.jpg', gray, icc)
gray.save(os.path.join(out, 'gray_raw.png'))
# 16-bit grey ramps (every 16-bit level 257 apart from the next 8-bit one falls between two),
# as PNG and TIFF: the samples pixflow must round, each to its nearest 8-bit level.
ramp = Image.frombytes('I;16', (256, 64), bytes(
    b for y in range(64) for x in range(256) for b in ((x * 256 + y * 4 + 1) & 0xFFFF).to_bytes(2, 'little')))
ramp.save(os.path.join(out, 'deep16.png'))
ramp.save(os.path.join(out, 'deep16.tif'))
made['deep16.png'] = made['deep16.tif'] = [256, 64]
print(json.dumps(made))
