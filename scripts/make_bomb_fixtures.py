#!/usr/bin/env python3
"""Writes the building block of the decoder-bomb tests, and (with --full DIR) the bombs themselves.

    python3 scripts/make_bomb_fixtures.py               # from the repository root; standard library only
    python3 scripts/make_bomb_fixtures.py --full /tmp/bombs

Writes Tests/ConvBankTests/Fixtures/bombs/a_1MiB.deflate: 1 MiB of the letter "A" as raw deflate (no zlib
header, level 9), ended by a full flush instead of a final block. The piece is byte-aligned, its blocks are not
final and it refers to nothing before its own start, so any number of copies can be put one after another inside
one deflate stream: that is how DecoderBombTests.swift builds, in memory and in milliseconds, PNGs whose text
chunks or IDAT stream inflate to gigabytes while the committed fixture stays at about 1 KB. A zlib stream made
of k copies is: 78 DA, the copies, 03 00 (an empty final block), and the Adler-32 of what they inflate to.
Letters rather than zeros: libpng keeps a text chunk up to its first NUL, so a text of zeros costs inflating
time but no memory; a text of letters costs both.

--full DIR also writes the full-size bombs, the same bytes as the tests build, for measuring a decoder by hand
(e.g. `/usr/bin/time -v`); they are not committed:
  ztxt_1000x7MiB.png        4x4 gray PNG, 1000 zTXt chunks before IDAT, each inflating to 7 MiB of "A" (7.3 GB)
  idat_trailing_8GiB.png    16x16 gray PNG whose IDAT zlib stream goes on with 8 GiB of "A" after the pixels
  chunk_9MiB.png            4x4 gray PNG with a 9 MiB private ancillary chunk (over the 8 MiB chunk limit)
  jpeg_marker_flood.jpg     gray_progressive.jpg with 2000 APP/COM segments of 64 KB and 20000 empty COMs first
"""
import os
import struct
import sys
import zlib

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "Tests", "ConvBankTests", "Fixtures", "bombs")
MIB = 1 << 20


LETTER = 0x41


def letter_piece(size=MIB):
    """`size` letters as raw deflate, non-final blocks, byte-aligned end (full flush: no history carried)."""
    c = zlib.compressobj(9, zlib.DEFLATED, -15, 9)
    return c.compress(bytes([LETTER]) * size) + c.flush(zlib.Z_FULL_FLUSH)


def adler_letters(adler, n):
    """Adler-32 after `n` more LETTER bytes: a grows by n·c, b by n·a + c·n(n+1)/2 (the closed form the tests use)."""
    a, b = adler & 0xFFFF, adler >> 16
    return ((b + n * a + LETTER * (n * (n + 1) // 2)) % 65521) << 16 | (a + n * LETTER) % 65521


def zlib_of(prefix_raw, prefix_plain, piece, copies, piece_size=MIB):
    """A zlib stream: the raw deflate `prefix_raw` (inflating to `prefix_plain`), then `copies` pieces, then the end."""
    adler = adler_letters(zlib.adler32(prefix_plain), copies * piece_size)
    return b"\x78\xda" + prefix_raw + piece * copies + b"\x03\x00" + struct.pack(">I", adler)


def chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def stored(data):
    """`data` as one non-final stored deflate block (len < 65536)."""
    return b"\x00" + struct.pack("<HH", len(data), len(data) ^ 0xFFFF) + data


def gray_rows(side):
    """Filter type 0 rows of a side x side 8-bit gray image with the tests' pattern: (17·y + 5·x) mod 256."""
    return b"".join(b"\x00" + bytes((17 * y + 5 * x) % 256 for x in range(side)) for y in range(side))


def png(side, before_idat=b"", idat=None):
    ihdr = chunk(b"IHDR", struct.pack(">IIBBBBB", side, side, 8, 0, 0, 0, 0))
    if idat is None:
        idat = chunk(b"IDAT", zlib.compress(gray_rows(side)))
    return b"\x89PNG\r\n\x1a\n" + ihdr + before_idat + idat + chunk(b"IEND", b"")


def full(folder, piece):
    os.makedirs(folder, exist_ok=True)
    text = chunk(b"zTXt", b"Comment\x00\x00" + zlib_of(b"", b"", piece, 7))
    bombs = {"ztxt_1000x7MiB.png": png(4, before_idat=text * 1000)}
    rows = gray_rows(16)
    # IDAT chunks of 64 pieces each, as the tests write them.
    stream = zlib_of(stored(rows), rows, piece, 8 * 1024)
    head = 2 + len(stored(rows))
    body = stream[head:-6]
    step = 64 * len(piece)
    idats = chunk(b"IDAT", stream[:head]) + b"".join(chunk(b"IDAT", body[i:i + step]) for i in range(0, len(body), step))
    bombs["idat_trailing_8GiB.png"] = png(16, idat=idats + chunk(b"IDAT", stream[-6:]))
    bombs["chunk_9MiB.png"] = png(4, before_idat=chunk(b"prVt", bytes(9 * MIB)))
    base = open(os.path.join(ROOT, "Tests", "ConvBankTests", "Fixtures", "testdata", "jpeg", "gray_progressive.jpg"), "rb").read()
    big = 65533
    flood = b"".join(b"\xff" + bytes([0xE0 + k % 16 if k % 17 else 0xFE]) + struct.pack(">H", big + 2) + bytes(big) for k in range(2000))
    flood += b"\xff\xfe\x00\x02" * 20000
    bombs["jpeg_marker_flood.jpg"] = base[:2] + flood + base[2:]
    for name, data in bombs.items():
        with open(os.path.join(folder, name), "wb") as f:
            f.write(data)
        print(os.path.join(folder, name), len(data), "bytes")


def main():
    piece = letter_piece()
    # The piece inflates to exactly 1 MiB of letters, also when repeated inside one stream (zlib checks the Adler-32).
    assert zlib.decompress(zlib_of(b"", b"", piece, 3)) == bytes([LETTER]) * (3 * MIB)
    rows = gray_rows(16)
    assert zlib.decompress(zlib_of(stored(rows), rows, piece, 2)) == rows + bytes([LETTER]) * (2 * MIB)
    os.makedirs(OUT, exist_ok=True)
    path = os.path.join(OUT, "a_1MiB.deflate")
    with open(path, "wb") as f:
        f.write(piece)
    print(path, len(piece), "bytes")
    if len(sys.argv) == 3 and sys.argv[1] == "--full":
        full(sys.argv[2], piece)


if __name__ == "__main__":
    main()
