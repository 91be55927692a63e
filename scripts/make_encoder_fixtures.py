#!/usr/bin/env python3
"""Writes the references of the JPEG, WebP and TIFF encoder tests (EncoderTests.swift), and checks with tifffile
and Pillow that the TIFF files convbank wrote (committed beside them) hold exactly the maps they were made from.

    python3 -m venv /tmp/venv && /tmp/venv/bin/pip install numpy pillow tifffile imagecodecs
    /tmp/venv/bin/python scripts/make_encoder_fixtures.py          # from the repository root

Writes into Tests/ConvBankTests/Fixtures/encoders/ (seeded, so rerunning gives the same arrays):
  map-gray.npy, map-rgb.npy      float32 maps, (23, 37) and (19, 29, 3) channels last: fractions, negatives, huge
                                 values and the special values a convolution can give (-0, a subnormal, ±inf, NaN);
                                 the TIFF tests encode them and read them back bit for bit
  levels-gray.npy, levels-rgb.npy  float32 holding whole numbers 0…255, (45, 61) and (45, 61, 3) channels last: a
                                 smooth picture with edges and a little noise, sides not multiples of the 16-pixel
                                 JPEG MCU; the JPEG and WebP tests encode them as 8-bit maps (clamp leaves them as
                                 they are)
  pillow-gray-q90.jpg, pillow-rgb-q90.jpg, pillow-rgb-q50.jpg
                                 Pillow's JPEG of those levels (Image.save(quality=Q), defaults otherwise:
                                 baseline, 4:2:0, standard tables, no optimize); our encoder must write the same
                                 pixels (see JPEG_NOTE)
  pillow-decoded-*.npy           Pillow's decoding of each Pillow JPEG (float32, channels last), the pixels the
                                 test compares ours with after decoding our own file with libjpeg
  webp-psnr.json                 PSNR of Pillow's lossy WebP (quality 90, method 4, as libwebp's simple API) of the
                                 levels against the levels, decoded by Pillow: the bound ours must come near
Then checks, if present, the TIFFs convbank wrote for map-gray.npy, map-rgb.npy and levels-rgb.npy (16-bit):
  convbank-float-gray.tif, convbank-float-rgb.tif, convbank-u16-rgb.tif
(EncoderTests.committedTIFFsAreTheEncoders writes them when CONVBANK_UPDATE_ENCODER_FIXTURES=1 and otherwise
checks that the encoder still writes these very bytes): tifffile must read each back bit for bit equal to its
source array, little-endian, deflate (8), predictor 3 (float) or 2 (16-bit), chunky, MinIsBlack / RGB, and Pillow
must read the gray float one equal too (Pillow reads float TIFFs through libtiff, one channel only).
"""
import json
import os
import sys

import numpy as np
from PIL import Image

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "Tests", "ConvBankTests", "Fixtures", "encoders")

JPEG_NOTE = """Pillow bundles its own libjpeg-turbo; convbank links Debian's. Both write baseline JPEG with the
standard tables scaled by jpeg_set_quality, islow DCT, 4:2:0 for colour; the tests decode both files with libjpeg and
require equal pixels (within 1 level, for a different libjpeg-turbo build's rounding)."""


def special_values(a):
    flat = a.reshape(-1)
    flat[0] = -0.0
    flat[1] = np.float32(1e-40)  # subnormal
    flat[2] = np.inf
    flat[3] = -np.inf
    flat[4] = np.nan
    flat[5] = np.float32(3.0e38)
    flat[6] = np.float32(-1.5e-7)
    return a


def picture(h, w, rng, phase=0.0):
    y, x = np.mgrid[0:h, 0:w].astype(np.float64)
    v = 128 + 90 * np.sin(x / 7.0 + phase) * np.cos(y / 9.0 - phase)
    v[:, w // 2:] += 40                      # a vertical edge
    v[h // 3: h // 3 + 4, :] = 250          # a bright bar
    v += rng.normal(0, 4, size=v.shape)
    return np.clip(np.rint(v), 0, 255).astype(np.float32)


def psnr(a, b):
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return float("inf") if mse == 0 else float(10 * np.log10(255.0 ** 2 / mse))


def make():
    os.makedirs(OUT, exist_ok=True)
    rng = np.random.default_rng(12)
    gray = (rng.normal(0, 300, size=(23, 37)) + rng.random((23, 37))).astype(np.float32)
    np.save(os.path.join(OUT, "map-gray.npy"), special_values(gray))
    rgb = (rng.normal(50, 1000, size=(19, 29, 3)) * rng.random((19, 29, 3))).astype(np.float32)
    np.save(os.path.join(OUT, "map-rgb.npy"), special_values(rgb))

    lg = picture(45, 61, rng)
    lc = np.stack([picture(45, 61, rng, p) for p in (0.0, 1.0, 2.0)], axis=-1)
    np.save(os.path.join(OUT, "levels-gray.npy"), lg)
    np.save(os.path.join(OUT, "levels-rgb.npy"), lc)

    for name, levels, q in (("gray", lg, 90), ("rgb", lc, 90), ("rgb", lc, 50)):
        img = Image.fromarray(levels.astype(np.uint8), "L" if levels.ndim == 2 else "RGB")
        path = os.path.join(OUT, f"pillow-{name}-q{q}.jpg")
        img.save(path, "JPEG", quality=q)
        decoded = np.asarray(Image.open(path)).astype(np.float32)
        np.save(os.path.join(OUT, f"pillow-decoded-{name}-q{q}.npy"), decoded)

    bounds = {}
    for name, levels in (("gray", lg), ("rgb", lc)):
        img = Image.fromarray(levels.astype(np.uint8), "L" if levels.ndim == 2 else "RGB").convert("RGB")
        path = os.path.join("/tmp", f"convbank-encoder-fixture-{os.getpid()}.webp")
        img.save(path, "WEBP", quality=90, method=4)
        decoded = np.asarray(Image.open(path).convert("RGB")).astype(np.float64)
        os.remove(path)
        ref = levels if levels.ndim == 3 else np.repeat(levels[:, :, None], 3, axis=2)
        bounds[f"{name}_q90"] = round(psnr(decoded, ref), 3)
    with open(os.path.join(OUT, "webp-psnr.json"), "w") as f:
        json.dump({"note": "PSNR in dB of Pillow's lossy WebP (quality 90, method 4) decoded by Pillow, against the "
                           "levels (gray as R = G = B)", **bounds}, f, indent=1)
        f.write("\n")
    print("wrote", OUT)


def check():
    import tifffile
    expected = {
        "convbank-float-gray.tif": (np.load(os.path.join(OUT, "map-gray.npy")), np.float32, 3, "MINISBLACK"),
        "convbank-float-rgb.tif": (np.load(os.path.join(OUT, "map-rgb.npy")), np.float32, 3, "RGB"),
        "convbank-u16-rgb.tif": ((np.load(os.path.join(OUT, "levels-rgb.npy")) * 257).astype(np.uint16), np.uint16, 2, "RGB"),
    }
    failures = 0
    for name, (array, dtype, predictor, photometric) in expected.items():
        path = os.path.join(OUT, name)
        if not os.path.exists(path):
            print(f"{name}: missing (run CONVBANK_UPDATE_ENCODER_FIXTURES=1 swift test --filter committedTIFFs)")
            failures += 1
            continue
        with tifffile.TiffFile(path) as tif:
            page = tif.pages[0]
            got = page.asarray()
            problems = []
            if tif.byteorder != "<": problems.append(f"byte order {tif.byteorder}")
            if len(tif.pages) != 1: problems.append(f"{len(tif.pages)} pages")
            if page.compression != 8: problems.append(f"compression {page.compression}")
            if page.predictor != predictor: problems.append(f"predictor {page.predictor}")
            if page.photometric.name != photometric: problems.append(f"photometric {page.photometric.name}")
            if page.planarconfig != 1: problems.append(f"planar config {page.planarconfig}")
            if got.dtype != dtype: problems.append(f"dtype {got.dtype}")
            if got.shape != array.shape: problems.append(f"shape {got.shape} != {array.shape}")
            elif got.tobytes() != array.astype(dtype).tobytes(): problems.append("samples differ from the source array")
        if name == "convbank-float-gray.tif":
            pil = np.asarray(Image.open(path))
            if pil.dtype != np.float32 or pil.tobytes() != array.tobytes(): problems.append("Pillow reads different samples")
        print(f"{name}: {'ok' if not problems else '; '.join(problems)}")
        failures += bool(problems)
    return failures


if __name__ == "__main__":
    if "--check-only" not in sys.argv:
        make()
    sys.exit(1 if check() else 0)
