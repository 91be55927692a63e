#!/usr/bin/env python3
"""Writes Tests/ConvBankTests/Fixtures/formats/: small TIFF and WebP files, each with the array it must decode to
(an .npy, float32, shape (H, W, C), upright), and cases.json listing them. The expected arrays come from the source
arrays (lossless files), from numpy (orientations, palettes, min-is-white, sub-byte gray), and from Pillow's or
tifffile's own decoders (lossy files: equal to ours here, so every tolerance is 0; a case may state one). Files convbank must refuse are listed with
the error kind. Tests never run Python: this script is run by hand and its output committed.

    python3 -m venv /tmp/venv && /tmp/venv/bin/pip install numpy pillow tifffile imagecodecs
    /tmp/venv/bin/python scripts/make_format_fixtures.py

Made with numpy 2.4, Pillow 13.0 (its bundled libwebp 1.6 and libtiff 4.7), tifffile 2026.3 and imagecodecs 2026.3.
Every TIFF is also read back with tifffile (imagecodecs' codecs, not libtiff) and checked against its expected array
here, so the references do not rest on libtiff alone.
"""
import io
import json
import os
import struct

import numpy as np
import tifffile
from PIL import Image, ImageOps

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(os.path.dirname(HERE), "Tests", "ConvBankTests", "Fixtures", "formats")
RNG = np.random.default_rng(20240612)
CASES = []


def save_expected(name, array):
    a = np.asarray(array, dtype=np.float32)
    if a.ndim == 2:
        a = a[:, :, None]
    np.save(os.path.join(OUT, name + ".npy"), np.ascontiguousarray(a))
    return name + ".npy"


def case(file, expected=None, tolerance=0, error=None, note="", shared=None):
    """A file and what it must decode to (`shared`: the name of an .npy several cases share) or the error kind."""
    entry = {"file": file, "note": note}
    if expected is not None:
        entry["expected"] = save_expected(shared or os.path.splitext(file)[0], expected)
        entry["tolerance"] = tolerance
    if error is not None:
        entry["error"] = error
    CASES.append(entry)


def sample(h, w, c, dtype):
    if dtype == np.uint8:
        a = RNG.integers(0, 256, size=(h, w, c), dtype=np.uint16).astype(np.uint8)
    elif dtype == np.uint16:
        a = RNG.integers(0, 65536, size=(h, w, c), dtype=np.uint32).astype(np.uint16)
        a[0, 0, :] = 65535  # the extremes
        a[0, 1, :] = 0
    else:
        a = (RNG.standard_normal(size=(h, w, c)) * 1000).astype(np.float32)
        a[0, 0, 0] = np.float32(1e-30)
        a[0, 1, 0] = np.float32(-3.0e38)
    return a


def write_tiff(file, data, check=None, **kw):
    kw.setdefault("metadata", None)
    path = os.path.join(OUT, file)
    tifffile.imwrite(path, data, **kw)
    return path


def check_tifffile(file, expected, tolerance=0):
    """The independent read: tifffile (with imagecodecs), colour map and min-is-white left to the caller."""
    got = tifffile.imread(os.path.join(OUT, file), key=0)
    exp = np.asarray(expected)
    got = got.reshape(exp.shape) if got.size == exp.size else got
    diff = np.abs(got.astype(np.float64) - exp.astype(np.float64)).max()
    assert diff <= tolerance, (file, diff)


def tiffs():
    # Every sample kind: u8, u16, f32 × gray, gray+alpha, RGB, RGBA; uncompressed strips of 3 rows, 11×7.
    for dtype, tag in ((np.uint8, "u8"), (np.uint16, "u16"), (np.float32, "f32")):
        for channels, mode in ((1, "gray"), (2, "graya"), (3, "rgb"), (4, "rgba")):
            a = sample(7, 11, channels, dtype)
            file = f"tiff_{tag}_{mode}.tif"
            kw = dict(photometric="rgb" if channels >= 3 else "minisblack", rowsperstrip=3)
            if channels in (2, 4):
                kw.update(extrasamples=["unassalpha"], planarconfig="contig")
            write_tiff(file, a[:, :, 0] if channels == 1 else a, **kw)
            check_tifffile(file, a[:, :, 0] if channels == 1 else a)
            case(file, a, note=f"{tag} {mode}, strips")

    # Compressions on one 8-bit RGB image (and 16-bit gray with the horizontal predictor, float with the float one).
    rgb = sample(17, 33, 3, np.uint8)
    rgb[4:12, 4:28] = [200, 10, 90]  # runs, so every compressor has something to do
    for comp, tag in ((tifffile.COMPRESSION.NONE, "none"), (tifffile.COMPRESSION.LZW, "lzw"),
                      (tifffile.COMPRESSION.ADOBE_DEFLATE, "adobe_deflate"), (tifffile.COMPRESSION.DEFLATE, "deflate"),
                      (tifffile.COMPRESSION.PACKBITS, "packbits"), (tifffile.COMPRESSION.ZSTD, "zstd"),
                      (tifffile.COMPRESSION.LZMA, "lzma")):
        file = f"tiff_rgb_{tag}.tif"
        write_tiff(file, rgb, photometric="rgb", compression=comp, rowsperstrip=8)
        check_tifffile(file, rgb)
        case(file, rgb, note=f"u8 RGB, {tag}", shared="rgb_u8")
    gray16 = sample(17, 33, 1, np.uint16)[:, :, 0]
    write_tiff("tiff_u16_lzw_predictor.tif", gray16, photometric="minisblack", compression="lzw", predictor=2, rowsperstrip=5)
    check_tifffile("tiff_u16_lzw_predictor.tif", gray16)
    case("tiff_u16_lzw_predictor.tif", gray16, note="u16 gray, LZW, horizontal predictor")
    float_rgb = sample(9, 13, 3, np.float32)
    write_tiff("tiff_f32_deflate_fpredictor.tif", float_rgb, photometric="rgb", compression="zlib", predictor=3, rowsperstrip=4)
    check_tifffile("tiff_f32_deflate_fpredictor.tif", float_rgb)
    case("tiff_f32_deflate_fpredictor.tif", float_rgb, note="f32 RGB, deflate, floating-point predictor")

    # JPEG in TIFF: YCbCr 2×2 subsampled (Pillow through libtiff), and gray (tifffile). Lossy: against the decoders
    # of Pillow (libtiff 4.7 + libjpeg-turbo) and tifffile (imagecodecs' libjpeg-turbo).
    smooth = np.clip(np.add.outer(np.arange(24) * 8, np.arange(32) * 6)[:, :, None] + np.array([0, 40, 90]), 0, 255).astype(np.uint8)
    Image.fromarray(smooth).save(os.path.join(OUT, "tiff_jpeg_ycbcr.tif"), compression="jpeg", quality=90)
    pil = np.asarray(Image.open(os.path.join(OUT, "tiff_jpeg_ycbcr.tif")).convert("RGB"))
    check_tifffile("tiff_jpeg_ycbcr.tif", pil, tolerance=3)
    case("tiff_jpeg_ycbcr.tif", pil, note="JPEG-compressed YCbCr 4:2:0 (Pillow/libtiff), equal to Pillow's decode (tifffile's is within 3)")
    gray8 = smooth[:, :, 1]
    write_tiff("tiff_jpeg_gray.tif", gray8, photometric="minisblack", compression="jpeg", compressionargs={"level": 90}, rowsperstrip=16)
    ref = tifffile.imread(os.path.join(OUT, "tiff_jpeg_gray.tif"))
    assert np.abs(ref.astype(int) - np.asarray(Image.open(os.path.join(OUT, "tiff_jpeg_gray.tif"))).astype(int)).max() <= 1
    case("tiff_jpeg_gray.tif", ref, note="JPEG-compressed gray, against tifffile's decode (Pillow's within 1)")

    # Tiles (overhanging the image), planar separate (strips and tiles), multi-page, big-endian, BigTIFF.
    write_tiff("tiff_rgb_tiles.tif", rgb, photometric="rgb", tile=(16, 16), compression="zlib")
    check_tifffile("tiff_rgb_tiles.tif", rgb)
    case("tiff_rgb_tiles.tif", rgb, shared="rgb_u8", note="u8 RGB, 16×16 tiles over 33×17, deflate")
    fgray = sample(17, 33, 1, np.float32)[:, :, 0]
    write_tiff("tiff_f32_tiles.tif", fgray, photometric="minisblack", tile=(16, 32), compression="lzw")
    check_tifffile("tiff_f32_tiles.tif", fgray)
    case("tiff_f32_tiles.tif", fgray, note="f32 gray, 32 wide × 16 high tiles, LZW")
    rgb16 = sample(11, 13, 3, np.uint16)
    write_tiff("tiff_u16_rgb_separate.tif", np.moveaxis(rgb16, 2, 0), photometric="rgb", planarconfig="separate", rowsperstrip=6)
    check_tifffile("tiff_u16_rgb_separate.tif", np.moveaxis(rgb16, 2, 0))
    case("tiff_u16_rgb_separate.tif", rgb16, note="u16 RGB, planar separate, strips")
    rgba = sample(17, 33, 4, np.uint8)
    write_tiff("tiff_u8_rgba_separate_tiles.tif", np.moveaxis(rgba, 2, 0), photometric="rgb", planarconfig="separate",
               extrasamples=["unassalpha"], tile=(16, 16), compression="packbits")
    check_tifffile("tiff_u8_rgba_separate_tiles.tif", np.moveaxis(rgba, 2, 0))
    case("tiff_u8_rgba_separate_tiles.tif", rgba, note="u8 RGBA, planar separate, tiles, packbits")
    page0, page1 = sample(9, 13, 3, np.uint8), sample(9, 13, 3, np.uint8)
    with tifffile.TiffWriter(os.path.join(OUT, "tiff_multipage.tif")) as w:
        w.write(page0, photometric="rgb", metadata=None)
        w.write(page1, photometric="rgb", metadata=None)
    check_tifffile("tiff_multipage.tif", page0)
    case("tiff_multipage.tif", page0, note="two pages: the first is taken")
    be16 = sample(9, 13, 1, np.uint16)[:, :, 0]
    write_tiff("tiff_u16_bigendian.tif", be16, photometric="minisblack", byteorder=">", compression="lzw", predictor=2)
    check_tifffile("tiff_u16_bigendian.tif", be16)
    case("tiff_u16_bigendian.tif", be16, note="u16 gray, big-endian (MM), LZW + predictor")
    bef = sample(9, 13, 3, np.float32)
    write_tiff("tiff_f32_bigendian.tif", bef, photometric="rgb", byteorder=">")
    check_tifffile("tiff_f32_bigendian.tif", bef)
    case("tiff_f32_bigendian.tif", bef, note="f32 RGB, big-endian")
    big = sample(9, 13, 4, np.uint8)
    write_tiff("tiff_bigtiff.tif", big, photometric="rgb", extrasamples=["assocalpha"], bigtiff=True, compression="zlib")
    check_tifffile("tiff_bigtiff.tif", big)
    case("tiff_bigtiff.tif", big, note="BigTIFF, u8 RGBA (associated alpha), deflate")

    # Orientation tag 1…8: stored pixels and the upright array numpy makes of them (EXIF/TIFF 6.0 meanings).
    stored = sample(3, 5, 3, np.uint8)
    upright = {1: stored, 2: stored[:, ::-1], 3: stored[::-1, ::-1], 4: stored[::-1, :],
               5: stored.transpose(1, 0, 2), 6: np.rot90(stored, -1), 7: stored[::-1, ::-1].transpose(1, 0, 2),
               8: np.rot90(stored, 1)}
    for value in range(1, 9):
        file = f"tiff_orientation_{value}.tif"
        write_tiff(file, stored, photometric="rgb", extratags=[(274, 3, 1, value, False)])
        # Pillow's exif_transpose is a second, independent statement of the same table.
        pil = np.asarray(ImageOps.exif_transpose(Image.open(os.path.join(OUT, file))).convert("RGB"))
        assert np.array_equal(pil, upright[value]), value
        case(file, upright[value], note=f"Orientation {value}")

    # Gray variants: min-is-white (inverted to min-is-black), 1/2/4-bit (scaled as PNG's), palette (the colour map).
    g8 = sample(7, 11, 1, np.uint8)[:, :, 0]
    write_tiff("tiff_u8_miniswhite.tif", g8, photometric="miniswhite")
    check_tifffile("tiff_u8_miniswhite.tif", g8)
    case("tiff_u8_miniswhite.tif", 255 - g8.astype(np.int32), note="min-is-white u8: 255 − v")
    g16 = sample(7, 11, 1, np.uint16)[:, :, 0]
    write_tiff("tiff_u16_miniswhite.tif", g16, photometric="miniswhite", compression="zlib")
    check_tifffile("tiff_u16_miniswhite.tif", g16)
    case("tiff_u16_miniswhite.tif", 65535 - g16.astype(np.int32), note="min-is-white u16: 65535 − v")
    for bits in (1, 2, 4):
        levels = RNG.integers(0, 1 << bits, size=(7, 11), dtype=np.uint8)
        file = f"tiff_gray{bits}.tif"
        write_tiff(file, levels, photometric="minisblack", bitspersample=bits, rowsperstrip=3)
        check_tifffile(file, levels)
        case(file, levels.astype(np.int32) * 255 // ((1 << bits) - 1), note=f"{bits}-bit gray: v · 255 / {(1 << bits) - 1}")
    bilevel = (RNG.random((13, 21)) > 0.5).astype(np.uint8)
    Image.fromarray(bilevel * 255).convert("1").save(os.path.join(OUT, "tiff_bilevel_g4.tif"), compression="group4")
    ref = np.asarray(Image.open(os.path.join(OUT, "tiff_bilevel_g4.tif")).convert("L"))
    assert np.array_equal(ref, bilevel * 255)
    case("tiff_bilevel_g4.tif", ref, note="1-bit, CCITT group 4 (Pillow/libtiff, min-is-black): 0 or 255")
    write_tiff("tiff_bilevel_miniswhite.tif", bilevel, photometric="miniswhite", bitspersample=1)
    check_tifffile("tiff_bilevel_miniswhite.tif", bilevel)
    case("tiff_bilevel_miniswhite.tif", (1 - bilevel.astype(np.int32)) * 255, note="1-bit min-is-white: stored 1 (black) → 0")
    colormap = RNG.integers(0, 65536, size=(3, 256), dtype=np.uint32).astype(np.uint16)
    index = RNG.integers(0, 256, size=(9, 13), dtype=np.uint16).astype(np.uint8)
    write_tiff("tiff_palette8.tif", index, photometric="palette", colormap=colormap, compression="lzw")
    check_tifffile("tiff_palette8.tif", index)
    case("tiff_palette8.tif", colormap[:, index].transpose(1, 2, 0), note="8-bit palette → the colour map's 16-bit RGB")

    # Refused as unsupported, naming the kind.
    write_tiff("tiff_int16.tif", sample(5, 6, 1, np.uint16)[:, :, 0].astype(np.int16), photometric="minisblack")
    case("tiff_int16.tif", error="unsupported", note="signed")
    write_tiff("tiff_f16.tif", (sample(5, 6, 1, np.uint16)[:, :, 0] / 7).astype(np.float16), photometric="minisblack")
    case("tiff_f16.tif", error="unsupported", note="16-bit float")
    write_tiff("tiff_f64.tif", sample(5, 6, 1, np.float32)[:, :, 0].astype(np.float64), photometric="minisblack")
    case("tiff_f64.tif", error="unsupported", note="64-bit float")
    write_tiff("tiff_cmyk.tif", sample(5, 6, 4, np.uint8), photometric="separated")
    case("tiff_cmyk.tif", error="unsupported", note="CMYK")
    write_tiff("tiff_u32.tif", sample(5, 6, 1, np.uint16)[:, :, 0].astype(np.uint32), photometric="minisblack")
    case("tiff_u32.tif", error="unsupported", note="32-bit unsigned")
    nan = sample(5, 6, 1, np.float32)[:, :, 0]
    nan[2, 3] = np.nan
    write_tiff("tiff_f32_nan.tif", nan, photometric="minisblack")
    case("tiff_f32_nan.tif", error="unsupported", note="a NaN sample")

    # Damaged: cut in the strips, cut in the directory, the first directory's offset past the end.
    with open(os.path.join(OUT, "tiff_rgb_lzw.tif"), "rb") as f:
        whole = f.read()
    first_ifd = struct.unpack("<I", whole[4:8])[0]
    with open(os.path.join(OUT, "tiff_truncated_strips.tif"), "wb") as f:
        f.write(whole[: first_ifd // 2] if first_ifd > 100 else whole[: len(whole) // 2])
    case("tiff_truncated_strips.tif", error="corrupt", note="cut halfway through the strips")
    with open(os.path.join(OUT, "tiff_truncated_directory.tif"), "wb") as f:
        f.write(whole[: first_ifd + 20])
    case("tiff_truncated_directory.tif", error="corrupt", note="cut inside the first directory")
    with open(os.path.join(OUT, "tiff_bad_offset.tif"), "wb") as f:
        f.write(b"II*\x00" + struct.pack("<I", 1 << 30) + b"\x00" * 8)
    case("tiff_bad_offset.tif", error="corrupt", note="first directory past the end of the file")

    # A header claiming 100000×100000 8-bit gray, one strip of 4 bytes: refused from the directory.
    entries = [(256, 4, 1, 100000), (257, 4, 1, 100000), (258, 3, 1, 8), (259, 3, 1, 1), (262, 3, 1, 1),
               (273, 4, 1, 8), (277, 3, 1, 1), (278, 4, 1, 100000), (279, 4, 1, 4)]
    ifd = struct.pack("<H", len(entries)) + b"".join(
        struct.pack("<HHI", tag, kind, n) + (struct.pack("<HH", value, 0) if kind == 3 else struct.pack("<I", value))
        for tag, kind, n, value in entries) + struct.pack("<I", 0)
    with open(os.path.join(OUT, "tiff_huge_header.tif"), "wb") as f:
        f.write(b"II*\x00" + struct.pack("<I", 12) + b"\x01\x02\x03\x04" + ifd)
    case("tiff_huge_header.tif", error="tooLarge", note="100000×100000 header: over the pixel limit")


def webps():
    rgb = sample(13, 17, 3, np.uint8)
    rgb[3:9, 2:12] = [30, 200, 120]
    Image.fromarray(rgb).save(os.path.join(OUT, "webp_lossless_rgb.webp"), lossless=True)
    case("webp_lossless_rgb.webp", rgb, note="lossless RGB: the source array")
    rgba = sample(13, 17, 4, np.uint8)
    Image.fromarray(rgba, "RGBA").save(os.path.join(OUT, "webp_lossless_rgba.webp"), lossless=True, exact=True)
    case("webp_lossless_rgba.webp", rgba, note="lossless RGBA (exact: colour under transparent pixels kept)")
    smooth = np.clip(np.add.outer(np.arange(16) * 10, np.arange(24) * 8)[:, :, None] + np.array([0, 50, 100]), 0, 255).astype(np.uint8)
    smooth[5:11, 6:18] = [240, 20, 20]
    for name, image, kw in (("webp_lossy_rgb.webp", Image.fromarray(smooth), dict(quality=80)),
                            ("webp_lossy_rgba.webp", Image.fromarray(np.dstack([smooth, (np.arange(24)[None, :] * 10 + np.zeros((16, 1))).astype(np.uint8)]), "RGBA"), dict(quality=80))):
        image.save(os.path.join(OUT, name), **kw)
        decoded = np.asarray(Image.open(os.path.join(OUT, name)))
        case(name, decoded, note="lossy, equal to Pillow's decode (its bundled libwebp 1.6; the system's is 1.2.4)")
    frame0 = sample(10, 12, 3, np.uint8)
    frame1 = sample(10, 12, 3, np.uint8)
    Image.fromarray(frame0).save(os.path.join(OUT, "webp_animated.webp"), save_all=True,
                                 append_images=[Image.fromarray(frame1)], lossless=True, duration=100, loop=0)
    with Image.open(os.path.join(OUT, "webp_animated.webp")) as im:
        assert im.n_frames == 2
        first = np.asarray(im.convert("RGB"))
    assert np.array_equal(first, frame0)
    case("webp_animated.webp", frame0, note="animation of 2 lossless frames: the first")

    with open(os.path.join(OUT, "webp_lossless_rgb.webp"), "rb") as f:
        whole = f.read()
    with open(os.path.join(OUT, "webp_truncated_lossless.webp"), "wb") as f:
        f.write(whole[: len(whole) // 2])
    case("webp_truncated_lossless.webp", error="corrupt", note="lossless, cut in half")
    with open(os.path.join(OUT, "webp_lossy_rgb.webp"), "rb") as f:
        whole = f.read()
    with open(os.path.join(OUT, "webp_truncated_lossy.webp"), "wb") as f:
        f.write(whole[: len(whole) * 2 // 3])
    case("webp_truncated_lossy.webp", error="corrupt", note="lossy, cut at two thirds")
    with open(os.path.join(OUT, "webp_header_only.webp"), "wb") as f:
        f.write(whole[:20])
    case("webp_header_only.webp", error="corrupt", note="RIFF header and chunk header only")

    # An animation whose canvas (VP8X: 24 bits a side; libwebp refuses 2^32 pixels or more) is 60000×60000: refused
    # from the header by the pixel limit.
    vp8x = b"VP8X" + struct.pack("<I", 10) + bytes([0x02, 0, 0, 0]) + (60000 - 1).to_bytes(3, "little") + (60000 - 1).to_bytes(3, "little")
    anim = b"ANIM" + struct.pack("<I", 6) + b"\x00\x00\x00\x00\x00\x00"
    body = b"WEBP" + vp8x + anim
    with open(os.path.join(OUT, "webp_huge_canvas.webp"), "wb") as f:
        f.write(b"RIFF" + struct.pack("<I", len(body)) + body)
    case("webp_huge_canvas.webp", error="tooLarge", note="VP8X canvas 60000×60000")


def main():
    os.makedirs(OUT, exist_ok=True)
    for name in os.listdir(OUT):
        os.remove(os.path.join(OUT, name))
    tiffs()
    webps()
    with open(os.path.join(OUT, "cases.json"), "w") as f:
        json.dump(CASES, f, indent=1)
        f.write("\n")
    total = sum(os.path.getsize(os.path.join(OUT, n)) for n in os.listdir(OUT))
    print(f"{len(CASES)} cases, {total} bytes in {OUT}")


if __name__ == "__main__":
    main()
