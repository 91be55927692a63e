#!/usr/bin/env python3
"""Regenerate the independent references for edge strength (`combine`, `sobel-magnitude`) and inline kernels
('WxH: …'): Tests/ConvBankTests/Fixtures/edges/ (read by Tests/ConvBankCLITests/EdgeAndInlineTests.swift).

Run from the repository root:

    python3 scripts/make_edge_goldens.py

Needs (versions used to produce the committed fixtures): Python 3.11, numpy 2.4.6, scipy 1.17.1.

Nothing here imports convbank or copies its code. The gradients are scipy.ndimage.sobel (correlate1d with
[-1, 0, 1] along the derivative axis, [1, 2, 1] across it), the inline kernels scipy.ndimage.correlate with the
kernel written as numpy rows; `mode='constant', cval=0` is the contract's `same` padding with zeros for a 3-wide
kernel (one pixel on each side), `mode='nearest'` its `replicate`.

What it writes (float32 .npy, C order, shape (H, W)):
  image.png                  a 7x9 8-bit gray PNG, seeded random values 0..255 (written with zlib by hand)
  sobel_zeros_x.npy, _y.npy  scipy.ndimage.sobel(img, axis=1 / axis=0, mode='constant')
  sobel_zeros_magnitude.npy  sqrt(gx*gx + gy*gy) in float64, rounded once to float32 (the values are integers, so
                             the float64 squares and sum are exact and the result is the correctly rounded root)
  sobel_zeros_orientation.npy arctan2(gy, gx) in float64 (0 where both are 0), rounded to float32
  sobel_replicate_magnitude.npy  as above with mode='nearest' (the built-in sobel-magnitude bank)
  sharpen_zeros.npy          correlate(img, [[0,-1,0],[-1,5,-1],[0,-1,0]], mode='constant')  ('3x3: 0,-1,0,-1,5,-1,0,-1,0')
  row_zeros.npy              correlate(img, [[-1, 0, 2]], mode='constant')   ('3x1: -1 0 2': 3 columns, 1 row)
  column_zeros.npy           correlate(img, [[-1], [0], [2]], mode='constant')  ('1x3: -1,0,2': 1 column, 3 rows)
"""
import os
import struct
import zlib

import numpy as np
from scipy import ndimage

OUT = os.path.join("Tests", "ConvBankTests", "Fixtures", "edges")


def write_png_gray8(path, img):
    h, w = img.shape
    raw = b"".join(b"\0" + bytes(row.astype(np.uint8).tolist()) for row in img)

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 0, 0, 0, 0))
                + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def save(name, a):
    np.save(os.path.join(OUT, name), np.ascontiguousarray(a, dtype=np.float32))


def main():
    os.makedirs(OUT, exist_ok=True)
    rng = np.random.default_rng(20240612)
    img8 = rng.integers(0, 256, size=(7, 9), dtype=np.uint8)
    write_png_gray8(os.path.join(OUT, "image.png"), img8)
    img = img8.astype(np.float64)

    for mode, tag in (("constant", "zeros"), ("nearest", "replicate")):
        gx = ndimage.sobel(img, axis=1, mode=mode, cval=0.0)
        gy = ndimage.sobel(img, axis=0, mode=mode, cval=0.0)
        # Independent check of the orientation of scipy's sobel: a ramp growing to the right has gx > 0.
        ramp = np.tile(np.arange(5, dtype=np.float64), (5, 1))
        assert ndimage.sobel(ramp, axis=1, mode=mode)[2, 2] == 8
        gx32, gy32 = gx.astype(np.float32), gy.astype(np.float32)
        assert (gx32 == gx).all() and (gy32 == gy).all()  # integers: exact in float32
        dx, dy = gx32.astype(np.float64), gy32.astype(np.float64)
        magnitude = np.sqrt(dx * dx + dy * dy).astype(np.float32)
        assert np.allclose(magnitude, np.hypot(gx, gy), rtol=1e-6)
        save(f"sobel_{tag}_magnitude.npy", magnitude)
        if tag == "zeros":
            save("sobel_zeros_x.npy", gx32)
            save("sobel_zeros_y.npy", gy32)
            orientation = np.where((dx == 0) & (dy == 0), 0.0, np.arctan2(dy, dx)).astype(np.float32)
            save("sobel_zeros_orientation.npy", orientation)

    sharpen = np.array([[0, -1, 0], [-1, 5, -1], [0, -1, 0]], dtype=np.float64)
    save("sharpen_zeros.npy", ndimage.correlate(img, sharpen, mode="constant", cval=0.0))
    save("row_zeros.npy", ndimage.correlate(img, np.array([[-1.0, 0.0, 2.0]]), mode="constant", cval=0.0))
    save("column_zeros.npy", ndimage.correlate(img, np.array([[-1.0], [0.0], [2.0]]), mode="constant", cval=0.0))
    print("wrote", sorted(os.listdir(OUT)))


if __name__ == "__main__":
    main()
