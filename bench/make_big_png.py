#!/usr/bin/env python3
"""Writes a large 8-bit gray PNG in bounded memory (a few rows at a time), for `make bench-big`.

    python3 bench/make_big_png.py OUT.png [WIDTH HEIGHT]      default 40000 × 25000 = 1 gigapixel

Pixel (x, y) = (x XOR y) & 255, a pattern with edges everywhere, so a `sobel` bank has work on every pixel and
its output can be checked anywhere from the formula. The stream is compressed with zlib level 1 into IDAT chunks
of 1 MiB; memory stays under a few MB whatever the size. Standard library only.
"""
import struct
import sys
import zlib


def chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def main() -> None:
    out = sys.argv[1]
    width = int(sys.argv[2]) if len(sys.argv) > 2 else 40000
    height = int(sys.argv[3]) if len(sys.argv) > 3 else 25000
    base = bytes(x & 255 for x in range(width))
    # Row y is base XOR (y & 255): 256 distinct rows, each with its filter byte 0 in front.
    rows = [b"\x00" + bytes(b ^ k for b in base) for k in range(256)]
    compressor = zlib.compressobj(1)
    pending = bytearray()
    with open(out, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n")
        f.write(chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)))
        for y in range(height):
            pending += compressor.compress(rows[y & 255])
            while len(pending) >= 1 << 20:
                f.write(chunk(b"IDAT", bytes(pending[: 1 << 20])))
                del pending[: 1 << 20]
        pending += compressor.flush()
        while pending:
            f.write(chunk(b"IDAT", bytes(pending[: 1 << 20])))
            del pending[: 1 << 20]
        f.write(chunk(b"IEND", b""))


if __name__ == "__main__":
    main()
