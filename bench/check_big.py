#!/usr/bin/env python3
"""Checks `make bench-big`'s maps against the formula, independently of convbank (Pillow decodes, numpy computes).

    python3 bench/check_big.py INPUT.png OUT_FOLDER [ROWS]

INPUT.png is bench/make_big_png.py's image: pixel (x, y) = (x XOR y) & 255. The maps are `sobel` (3×3, same
padding, replicate, linear) written as 8-bit PNG under `clamp`. ROWS (default 64) rows spread over the image, the
first and last included, are compared whole; prints `big-check N rows exact` or the first difference and exits 1.
Needs Pillow and numpy; decoding holds one map (width × height bytes) at a time.
"""
import os
import struct
import sys

import numpy as np
from PIL import Image

Image.MAX_IMAGE_PIXELS = None


def pattern_rows(ys, width):
    x = np.arange(width, dtype=np.int64)
    return np.stack([(x ^ y) & 255 for y in ys]).astype(np.int64)


def expected_row(y, width, height, kernel):
    ys = [min(max(y + d, 0), height - 1) for d in (-1, 0, 1)]  # replicate
    p = pattern_rows(ys, width)
    padded = np.concatenate([p[:, :1], p, p[:, -1:]], axis=1)
    out = np.zeros(width, dtype=np.int64)
    for i in range(3):
        for j in range(3):
            out += kernel[i][j] * padded[i, j:j + width]
    return np.clip(out, 0, 255).astype(np.uint8)


def main() -> None:
    source, folder = sys.argv[1], sys.argv[2]
    count = int(sys.argv[3]) if len(sys.argv) > 3 else 64
    with open(source, "rb") as f:
        width, height = struct.unpack(">II", f.read(24)[16:24])
    stem = os.path.splitext(os.path.basename(source))[0]
    kernels = {"sobel_x": [[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]], "sobel_y": [[-1, -2, -1], [0, 0, 0], [1, 2, 1]]}
    rows = sorted(set([0, 1, height - 2, height - 1] + list(np.linspace(0, height - 1, count).astype(int))))
    rows = [r for r in rows if 0 <= r < height]
    for name, kernel in kernels.items():
        image = Image.open(os.path.join(folder, stem, name + ".png"))
        if image.size != (width, height) or image.mode != "L":
            print(f"big-check {name}: {image.size} {image.mode}, expected ({width}, {height}) L")
            sys.exit(1)
        data = np.asarray(image)
        for y in rows:
            want = expected_row(y, width, height, kernel)
            if not np.array_equal(data[y], want):
                x = int(np.nonzero(data[y] != want)[0][0])
                print(f"big-check {name}: row {y} column {x}: {data[y][x]}, expected {want[x]}")
                sys.exit(1)
        del data, image
    print(f"big-check {len(rows)} rows of each map exact")


if __name__ == "__main__":
    main()
