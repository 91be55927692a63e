#!/usr/bin/env python3
"""Each tap is one fused multiply-add (acc + x*w rounded once), at every kernel level of a release binary.

    fused.py write DIR        writes DIR/fma.tif (float32 gray) and DIR/fma8.json, DIR/fma32.json (8 and 32 filters,
                              8x8 kernels: the 8-filter and the wide kernel)
    fused.py check DIR MAPS   compares every MAPS/fma/<filter>.npy with the exact reference; exit 1 on a difference

The reference is exact rational arithmetic (fractions), each step rounded once to float32 (nearest, ties to even), in
the documented order: taps row-major from zero, then the bias. The image holds, every 8 rows and columns, the pair
(1 + 2^-23, 2^-12 (1 + 2^-18)) under weights (1, 2^-12 (1 - 2^-18)): the exact sum lies just below a float midpoint,
so a multiply then an add, or a naive double-precision emulation, round it to other bits (checked here as well).
Standard library only.
"""
import json
import os
import random
import struct
import sys
from fractions import Fraction

HEIGHT, WIDTH, K = 24, 88, 8
FIRST = 1 + 2.0 ** -23
LEFT = 2.0 ** -12 * (1 + 2.0 ** -18)
RIGHT = 2.0 ** -12 * (1 - 2.0 ** -18)


def round_f32(q):
    """The float32 nearest to the rational q (ties to even), as a Python float (exact)."""
    if q == 0:
        return 0.0
    sign = -1 if q < 0 else 1
    q = abs(q)
    e = q.numerator.bit_length() - q.denominator.bit_length()  # 2^e <= q < 2^(e+2)
    while Fraction(2) ** e > q:
        e -= 1
    while Fraction(2) ** (e + 1) <= q:
        e += 1
    ulp = Fraction(2) ** (max(e, -126) - 23)
    n = q / ulp
    k = n.numerator // n.denominator
    rest = n - k
    if rest > Fraction(1, 2) or (rest == Fraction(1, 2) and k % 2 == 1):
        k += 1
    value = k * ulp
    if value >= Fraction(2) ** 128:
        return sign * float("inf")
    return sign * float(value)


def image():
    values = [0.0] * (HEIGHT * WIDTH)
    for y in range(0, HEIGHT, 8):
        for x in range(0, WIDTH - 1, 8):
            values[y * WIDTH + x] = FIRST
            values[y * WIDTH + x + 1] = LEFT
    return values


def bank(filters, seed):
    rng = random.Random(seed)
    kernels, biases = [], []
    for _ in range(filters):
        w = [rng.randint(-1024, 1024) / 1024 for _ in range(K * K)]
        w[0], w[1] = 1.0, RIGHT
        kernels.append(w)
        biases.append(rng.randint(-8, 8) / 8)
    return kernels, biases


def bank_json(filters, seed):
    kernels, biases = bank(filters, seed)
    return {"name": "fma%d" % filters, "padding": "valid", "activation": "linear",
            "filters": [{"name": "f%02d" % f, "weights": [[kernels[f][i * K + j] for j in range(K)] for i in range(K)],
                         "bias": biases[f]} for f in range(filters)]}


def write_tiff(path, values):
    """Uncompressed little-endian float32 gray TIFF, one strip."""
    data = struct.pack("<%df" % len(values), *values)
    tags = [(256, 4, 1, WIDTH), (257, 4, 1, HEIGHT), (258, 3, 1, 32), (259, 3, 1, 1), (262, 3, 1, 1),
            (273, 4, 1, 0), (277, 3, 1, 1), (278, 4, 1, HEIGHT), (279, 4, 1, len(data)), (339, 3, 1, 3)]
    ifd_offset = 8
    data_offset = ifd_offset + 2 + 12 * len(tags) + 4
    out = bytearray(b"II*\x00" + struct.pack("<I", ifd_offset) + struct.pack("<H", len(tags)))
    for tag, kind, count, value in tags:
        if tag == 273:
            value = data_offset
        out += struct.pack("<HHI", tag, kind, count) + (struct.pack("<HH", value, 0) if kind == 3 else struct.pack("<I", value))
    out += struct.pack("<I", 0) + data
    with open(path, "wb") as f:
        f.write(out)


def read_npy(path):
    raw = open(path, "rb").read()
    assert raw[:6] == b"\x93NUMPY", path
    header_len = struct.unpack("<H", raw[8:10])[0]
    header = raw[10:10 + header_len].decode("latin1")
    assert "'<f4'" in header and "False" in header, header
    body = raw[10 + header_len:]
    return struct.unpack("<%df" % (len(body) // 4), body)


def reference(kernel, bias, pixels, step):
    out = []
    for y in range(HEIGHT - K + 1):
        for x in range(WIDTH - K + 1):
            acc = 0.0
            for i in range(K):
                for j in range(K):
                    v = pixels[(y + i) * WIDTH + x + j]
                    if v != 0:  # acc + 0·w is acc, whatever the rounding (acc is never -0)
                        acc = step(acc, v, kernel[i * K + j])
            out.append(round_f32(Fraction(acc) + Fraction(bias)))
    return out


def fused(acc, x, w):
    return round_f32(Fraction(acc) + Fraction(x) * Fraction(w))


def plain(acc, x, w):
    return round_f32(Fraction(acc) + Fraction(round_f32(Fraction(x) * Fraction(w))))


def double_then_float(acc, x, w):
    return round_f32(Fraction(acc + x * w))  # the sum rounded to double first


def main():
    if sys.argv[1] == "write":
        folder = sys.argv[2]
        write_tiff(os.path.join(folder, "fma.tif"), image())
        for filters in (8, 32):
            with open(os.path.join(folder, "fma%d.json" % filters), "w") as f:
                json.dump(bank_json(filters, filters), f)
        return 0
    maps_dir, filters = sys.argv[2], int(sys.argv[3])
    kernels, biases = bank(filters, filters)
    pixels = image()
    # The inputs tell the roundings apart (else this check could not fail on an unfused kernel).
    assert fused(FIRST, LEFT, RIGHT) == FIRST and plain(FIRST, LEFT, RIGHT) != FIRST
    assert double_then_float(FIRST, LEFT, RIGHT) != FIRST
    bad = 0
    for f in range(filters):
        want = reference(kernels[f], biases[f], pixels, fused)
        found = read_npy(os.path.join(maps_dir, "fma", "f%02d.npy" % f))
        if len(found) != len(want) or any(struct.pack("<f", a) != struct.pack("<f", b) for a, b in zip(found, want)):
            i = next((k for k, (a, b) in enumerate(zip(found, want)) if struct.pack("<f", a) != struct.pack("<f", b)), 0)
            print("fused: %s f%02d value %d: %r, exact fused %r" % (maps_dir, f, i, found[i] if found else None, want[i]),
                  file=sys.stderr)
            bad += 1
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
