#!/usr/bin/env python3
"""Writes fuzz/seeds/: small PNGs, JPEGs, TIFFs and WebPs built around what is not pixels, so libFuzzer starts from every ancillary
chunk and marker kind with valid CRCs and lengths (the PngSuite and test JPEGs that make_corpus.sh adds cover the
pixel paths). Standard library only; the output is the same on every run.

    python3 fuzz/make_seeds.py          # rewrites fuzz/seeds/ (committed; run.sh copies it into the corpus)

PNG (8-bit gray 8x8 unless named otherwise): each ancillary chunk type before IDAT (text compressed and not, iCCP,
sPLT, eXIf, tRNS for each colour type, colour and time chunks, private chunks), text after IDAT, many small chunks,
IDAT split into 1-byte chunks, empty IDATs, data after the end of the zlib stream (in the same IDAT, in extra IDATs,
and more than the 8 KiB cio_decode_png reads past the last row), an ancillary chunk before IHDR, a chunk length
over the 8 MiB chunk limit in a short file. JPEG (flat 8x8 blocks, DC-only Huffman tables): baseline gray, YCbCr
4:2:0, progressive, restart markers, CMYK with Adobe APP14, each with APPn/COM segments: JFIF, EXIF orientation
(little- and big-endian), XMP, ICC_PROFILE, Photoshop, COM, and a run of many segments. TIFF (a directory after its
data): strips and tiles, planar separate, both byte orders, BigTIFF, deflate with the horizontal predictor, packbits,
float, 16-bit, palette, 1-bit min-is-white, orientation, ancillary tags, and YCbCr/CMYK that are refused. WebP: simple
lossless and lossy files, the extended format with ICCP/EXIF/XMP, ALPH, an animation with offset frames, an unknown
chunk (two libwebp bitstreams, made through Pillow, are embedded as hex; the containers are built here).
"""
import os
import struct
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "seeds")


# ---------------------------------------------------------------- PNG

def chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def ihdr(w, h, depth=8, ctype=0, interlace=0):
    return chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, depth, ctype, 0, 0, interlace))


def rows(w, h, bpp):
    return b"".join(b"\x00" + bytes((17 * y + 5 * x + 3 * k) % 256 for x in range(w) for k in range(bpp)) for y in range(h))


def png(before=b"", idat=None, after=b"", w=8, h=8, depth=8, ctype=0, bpp=1, head=None):
    if idat is None:
        idat = chunk(b"IDAT", zlib.compress(rows(w, h, bpp), 9))
    return b"\x89PNG\r\n\x1a\n" + (head if head is not None else ihdr(w, h, depth, ctype)) + before + idat + after + chunk(b"IEND", b"")


def ztxt(keyword, text):
    return chunk(b"zTXt", keyword + b"\x00\x00" + zlib.compress(text, 9))


def itxt(keyword, text, compressed):
    body = zlib.compress(text, 9) if compressed else text
    return chunk(b"iTXt", keyword + b"\x00" + bytes([1 if compressed else 0, 0]) + b"en\x00" + keyword + b"\x00" + body)


def tiff_orientation(little, value):
    if little:
        return b"II*\x00" + struct.pack("<IH", 8, 1) + struct.pack("<HHIHH", 0x0112, 3, 1, value, 0) + b"\x00" * 4
    return b"MM\x00*" + struct.pack(">IH", 8, 1) + struct.pack(">HHIHH", 0x0112, 3, 1, value, 0) + b"\x00" * 4


def icc_profile():
    body = bytearray(132)
    struct.pack_into(">I", body, 0, 132)
    body[36:40] = b"acsp"
    body[12:16] = b"mntr"
    body[16:20] = b"GRAY"
    body[20:24] = b"XYZ "
    return bytes(body)


XMP = b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF/></x:xmpmeta>'


def png_seeds():
    s = {}
    g = rows(8, 8, 1)
    s["png_text.png"] = png(chunk(b"tEXt", b"Comment\x00made by convbank fuzz/make_seeds.py"))
    s["png_ztxt.png"] = png(ztxt(b"Description", b"zTXt text " * 40))
    s["png_itxt.png"] = png(itxt(b"XML:com.adobe.xmp", XMP, False) + itxt(b"Title", "ünïcode".encode() * 8, True))
    s["png_text_after_idat.png"] = png(after=chunk(b"tEXt", b"Author\x00after") + ztxt(b"Comment", b"late " * 30))
    s["png_iccp.png"] = png(chunk(b"iCCP", b"gray profile\x00\x00" + zlib.compress(icc_profile(), 9)))
    s["png_srgb_gama_chrm.png"] = png(chunk(b"sRGB", b"\x00") + chunk(b"gAMA", struct.pack(">I", 45455))
                                      + chunk(b"cHRM", struct.pack(">8I", 31270, 32900, 64000, 33000, 30000, 60000, 15000, 6000)))
    s["png_cicp_mdcv_clli.png"] = png(chunk(b"cICP", b"\x01\x0d\x00\x01") + chunk(b"mDCv", bytes(24)) + chunk(b"cLLi", bytes(8)),
                                     ctype=2, bpp=3)
    s["png_splt.png"] = png(chunk(b"sPLT", b"six\x00\x08" + b"".join(bytes([k * 40, 255 - k * 40, 7, 255]) + b"\x00\x01" for k in range(6))))
    s["png_exif.png"] = png(chunk(b"eXIf", tiff_orientation(False, 6)))
    s["png_trns_gray.png"] = png(chunk(b"tRNS", b"\x00\x11"))
    s["png_trns_rgb16.png"] = png(chunk(b"tRNS", b"\x00\x11\x00\x22\x00\x33"), depth=16, ctype=2, bpp=6)
    palette = chunk(b"PLTE", bytes((k * 37 + c * 91) % 256 for k in range(16) for c in range(3)))
    pal_rows = b"".join(b"\x00" + bytes(((x + y) % 16) << 4 | (x * y) % 16 for x in range(4)) for y in range(8))
    s["png_palette4_trns_bkgd_hist.png"] = png(palette + chunk(b"tRNS", bytes(range(0, 256, 32))) + chunk(b"bKGD", b"\x03")
                                               + chunk(b"hIST", bytes(32)), idat=chunk(b"IDAT", zlib.compress(pal_rows)),
                                               head=ihdr(8, 8, 4, 3))
    s["png_sbit_phys_time.png"] = png(chunk(b"sBIT", b"\x05") + chunk(b"pHYs", struct.pack(">IIB", 3780, 3780, 1))
                                      + chunk(b"tIME", struct.pack(">HBBBBB", 2024, 2, 29, 12, 0, 0)))
    s["png_offs_pcal_scal_ster.png"] = png(chunk(b"oFFs", struct.pack(">iiB", -5, 7, 0))
                                           + chunk(b"pCAL", b"temp\x00" + struct.pack(">iiBB", 0, 255, 0, 2) + b"K\x00" + b"0\x00" + b"1")
                                           + chunk(b"sCAL", b"\x011.5\x002.5") + chunk(b"sTER", b"\x00"))
    s["png_private_chunks.png"] = png(chunk(b"prVt", b"private data") + chunk(b"caBX", b"jumb" + bytes(20))
                                      + chunk(b"vpAg", bytes(9)), after=chunk(b"zzZz", b"after"))
    s["png_rgba16_xmp.png"] = png(itxt(b"XML:com.adobe.xmp", XMP * 4, True), w=4, h=4, depth=16, ctype=6, bpp=8)
    s["png_many_small_chunks.png"] = png(b"".join(chunk(b"tEXt", b"k%d\x00v" % k) for k in range(150)))
    s["png_idat_1byte_chunks.png"] = png(idat=b"".join(chunk(b"IDAT", bytes([b])) for b in zlib.compress(g, 9)))
    z = zlib.compress(g, 9)
    s["png_idat_empty_chunks.png"] = png(idat=chunk(b"IDAT", b"") + chunk(b"IDAT", z[:10]) + chunk(b"IDAT", b"") + chunk(b"IDAT", z[10:]))
    s["png_idat_extra_in_stream.png"] = png(idat=chunk(b"IDAT", z + b"extra bytes after the zlib stream"))
    s["png_idat_extra_chunks.png"] = png(idat=chunk(b"IDAT", z) + chunk(b"IDAT", zlib.compress(bytes(300))))
    # The zlib stream goes on after the rows, in an IDAT chunk of its own: 9 KB of stored blocks (more than the
    # 8 KiB read past the last row, so the decoder stops there), and 64 KB of letters in 130 bytes.
    def trailing(extra_raw, extra_plain):
        first = b"\x78\x01" + b"\x00" + struct.pack("<HH", len(g), len(g) ^ 0xFFFF) + g
        return (chunk(b"IDAT", first) + chunk(b"IDAT", extra_raw)
                + chunk(b"IDAT", b"\x03\x00" + struct.pack(">I", zlib.adler32(g + extra_plain))))
    junk = bytes((k * 131 + 7) % 251 for k in range(3000))
    stored = b"".join(b"\x00" + struct.pack("<HH", len(junk), len(junk) ^ 0xFFFF) + junk for _ in range(3))
    s["png_idat_trailing_stored_9k.png"] = png(idat=trailing(stored, junk * 3))
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    letters = c.compress(b"A" * 65536) + c.flush(zlib.Z_FULL_FLUSH)
    s["png_idat_trailing_letters_64k.png"] = png(idat=trailing(letters, b"A" * 65536))
    s["png_interlaced_trailing.png"] = png(idat=chunk(b"IDAT", zlib.compress(
        b"".join(b"\x00" + bytes((x * 9 + y) % 256 for x in range(x0, 8, dx)) for x0, y0, dx, dy in
                 [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)]
                 for y in range(y0, 8, dy)) + b"\x00" * 4000, 9)), head=ihdr(8, 8, 8, 0, 1))
    s["png_ancillary_before_ihdr.png"] = b"\x89PNG\r\n\x1a\n" + chunk(b"tEXt", b"k\x00v") + png()[8:]
    big = b"\x89PNG\r\n\x1a\n" + ihdr(8, 8) + struct.pack(">I", 9 << 20) + b"zTXt" + b"Comment\x00\x00" + zlib.compress(b"x" * 500)
    s["png_chunk_over_limit_truncated.bin"] = big
    return s


# ---------------------------------------------------------------- JPEG
# Flat 8x8 blocks only: a DC table of 12 four-bit codes (categories 0..11) and an AC table whose only code, '0',
# is EOB (baseline) or EOB0 (progressive AC scans), shared by all components.

def seg(marker, body):
    return b"\xff" + bytes([marker]) + struct.pack(">H", len(body) + 2) + body


class Bits:
    def __init__(self):
        self.out, self.acc, self.n = bytearray(), 0, 0

    def put(self, value, count):
        for i in range(count - 1, -1, -1):
            self.acc = self.acc << 1 | (value >> i & 1)
            self.n += 1
            if self.n == 8:
                self.out.append(self.acc)
                if self.acc == 0xFF:
                    self.out.append(0)
                self.acc, self.n = 0, 0

    def flush(self):
        while self.n:
            self.put(1, 1)
        data, self.out = bytes(self.out), bytearray()
        return data


def dc_code(bits, diff):
    size = abs(diff).bit_length()
    bits.put(size, 4)
    if size:
        bits.put(diff if diff > 0 else diff + (1 << size) - 1, size)


DQT = seg(0xDB, b"\x00" + b"\x01" * 64)
DHT_DC = seg(0xC4, b"\x00" + bytes([0, 0, 0, 12] + [0] * 12) + bytes(range(12)))
DHT_AC = seg(0xC4, b"\x10" + bytes([1] + [0] * 15) + b"\x00")


def jpeg(components, blocks_wide, blocks_high, sampling=None, progressive=False, restart=0, markers=b"", adobe=None):
    """A JPEG of flat blocks; `components` ids, `sampling` (h, v) per component (all 1x1 if None)."""
    n = len(components)
    sampling = sampling or [(1, 1)] * n
    hmax, vmax = max(h for h, _ in sampling), max(v for _, v in sampling)
    w, h = blocks_wide * 8 * hmax, blocks_high * 8 * vmax
    sof = bytes([8]) + struct.pack(">HH", h, w) + bytes([n]) + b"".join(bytes([c, sh << 4 | sv, 0]) for c, (sh, sv) in zip(components, sampling))
    head = b"\xff\xd8" + markers + (seg(0xEE, b"Adobe" + struct.pack(">HHHB", 100, 0, 0, adobe)) if adobe is not None else b"")
    head += DQT + seg(0xC2 if progressive else 0xC0, sof) + DHT_DC + DHT_AC
    if restart:
        head += seg(0xDD, struct.pack(">H", restart))
    mcus = blocks_wide * blocks_high
    bits = Bits()
    data = bytearray()
    pred = [0] * n
    for m in range(mcus):
        if restart and m and m % restart == 0:
            data += bits.flush() + bytes([0xFF, 0xD0 + (m // restart - 1) % 8])
            pred = [0] * n
        for ci, (sh, sv) in enumerate(sampling):
            for b in range(sh * sv):
                dc = ((m * 7 + b * 13 + ci * 29) % 41 - 20) * 8
                dc_code(bits, dc - pred[ci])
                pred[ci] = dc
                if not progressive:
                    bits.put(0, 1)  # EOB
    data += bits.flush()
    scan_all = bytes([n]) + b"".join(bytes([c, 0x00]) for c in components)
    if not progressive:
        return head + seg(0xDA, scan_all + b"\x00\x3f\x00") + bytes(data) + b"\xff\xd9"
    out = head + seg(0xDA, scan_all + b"\x00\x00\x00") + bytes(data)
    for c, (sh, sv) in zip(components, sampling):  # one AC scan per component: EOB0 for every block
        count = blocks_wide * sh * blocks_high * sv
        ac = Bits()
        for _ in range(count):
            ac.put(0, 1)
        out += seg(0xDA, bytes([1, c, 0x00]) + b"\x01\x3f\x00") + ac.flush()
    return out + b"\xff\xd9"


def app1_exif(little, value):
    return seg(0xE1, b"Exif\x00\x00" + tiff_orientation(little, value))


JFIF = seg(0xE0, b"JFIF\x00\x01\x02\x00\x00\x01\x00\x01\x00\x00")


def jpeg_seeds():
    s = {}
    s["jpeg_gray_jfif_com.jpg"] = jpeg([1], 2, 2, markers=JFIF + seg(0xFE, b"made by convbank fuzz/make_seeds.py"))
    s["jpeg_gray_exif_le6.jpg"] = jpeg([1], 2, 1, markers=app1_exif(True, 6))
    s["jpeg_gray_exif_be8_after_jfif.jpg"] = jpeg([1], 1, 2, markers=JFIF + app1_exif(False, 8))
    s["jpeg_ycc420_xmp_icc.jpg"] = jpeg([1, 2, 3], 1, 1, [(2, 2), (1, 1), (1, 1)],
                                        markers=JFIF + seg(0xE1, b"http://ns.adobe.com/xap/1.0/\x00" + XMP)
                                        + seg(0xE2, b"ICC_PROFILE\x00\x01\x01" + icc_profile()))
    s["jpeg_ycc420_restart.jpg"] = jpeg([1, 2, 3], 3, 2, [(2, 2), (1, 1), (1, 1)], restart=1, markers=JFIF)
    s["jpeg_gray_progressive_exif.jpg"] = jpeg([1], 2, 2, progressive=True, markers=app1_exif(True, 3))
    s["jpeg_ycc_progressive.jpg"] = jpeg([1, 2, 3], 2, 1, [(2, 1), (1, 1), (1, 1)], progressive=True)
    s["jpeg_cmyk_adobe.jpg"] = jpeg([1, 2, 3, 4], 1, 1, adobe=0, markers=seg(0xED, b"Photoshop 3.0\x00" + b"8BIM" + bytes(8)))
    s["jpeg_ycck_adobe.jpg"] = jpeg([1, 2, 3, 4], 1, 1, adobe=2)
    many = b"".join(seg(0xE0 + k % 16, bytes([k]) * (k % 50)) for k in range(1, 120)) + seg(0xFE, b"") * 50
    s["jpeg_many_segments_then_exif.jpg"] = jpeg([1], 1, 1, markers=many + app1_exif(True, 5))
    return s


# ---------------------------------------------------------------- TIFF

TYPES = {"B": (1, 1), "A": (2, 1), "H": (3, 2), "I": (4, 4), "R": (5, 8), "f": (11, 4), "Q": (16, 8)}


def tiff(w, h, chunks, tags, little=True, big=False):
    """A TIFF of one directory: `chunks` (strip or tile bytes) stored first, then the directory. `tags` maps a tag
    number to (type letter, values); offsets (273/324) and byte counts (279/325) are filled in from `chunks`."""
    e = "<" if little else ">"
    head = (b"II" if little else b"MM") + (struct.pack(e + "HHHQ", 43, 8, 0, 0) if big else struct.pack(e + "HI", 42, 0))
    body = bytearray(head)
    offsets = []
    for c in chunks:
        offsets.append(len(body))
        body += c
        if len(body) % 2:
            body += b"\x00"
    tags = dict(tags)
    tags.setdefault(256, ("I", [w]))
    tags.setdefault(257, ("I", [h]))
    tiled = 322 in tags
    tags[324 if tiled else 273] = ("Q" if big else "I", offsets)
    tags[325 if tiled else 279] = ("Q" if big else "I", [len(c) for c in chunks])
    entry_size, count_fmt, inline = (20, "Q", 8) if big else (12, "I", 4)
    ifd_at = len(body)
    n = len(tags)
    extra_at = ifd_at + (8 if big else 2) + n * entry_size + (8 if big else 4)
    entries, extra = b"", bytearray()
    for tag in sorted(tags):
        kind, values = tags[tag]
        code, size = TYPES[kind]
        if kind == "A":
            data, count = values + b"\x00", len(values) + 1
        elif kind == "R":
            data, count = b"".join(struct.pack(e + "II", a, b) for a, b in values), len(values)
        else:
            data, count = struct.pack(e + kind * len(values), *values), len(values)
        if len(data) <= inline:
            field = data.ljust(inline, b"\x00")
        else:
            field = struct.pack(e + count_fmt, extra_at + len(extra))
            extra += data + (b"\x00" if len(data) % 2 else b"")
        entries += struct.pack(e + "HH" + count_fmt, tag, code, count) + field
    body += struct.pack(e + ("Q" if big else "H"), n) + entries + struct.pack(e + count_fmt, 0) + extra
    struct.pack_into(e + ("Q" if big else "I"), body, 8 if big else 4, ifd_at)
    return bytes(body)


def pattern(n, seed=0):
    return bytes((37 * k + 11 * seed + (k * k) % 7) % 256 for k in range(n))


def tiff_seeds():
    s = {}
    gray = {258: ("H", [8]), 259: ("H", [1]), 262: ("H", [1]), 277: ("H", [1]), 278: ("I", [4])}
    s["tiff_gray8_strips.tif"] = tiff(8, 8, [pattern(32, 1), pattern(32, 2)], gray)
    s["tiff_gray8_be_orient6.tif"] = tiff(8, 8, [pattern(32, 3), pattern(32, 4)], {**gray, 274: ("H", [6])}, little=False)
    s["tiff_gray16_deflate.tif"] = tiff(6, 5, [zlib.compress(pattern(60, 5))], {**gray, 258: ("H", [16]), 259: ("H", [8]), 278: ("I", [5])})
    s["tiff_rgb8_deflate_predictor.tif"] = tiff(7, 4, [zlib.compress(pattern(84, 6))], {
        258: ("H", [8, 8, 8]), 259: ("H", [32946]), 262: ("H", [2]), 277: ("H", [3]), 278: ("I", [4]), 317: ("H", [2])})
    s["tiff_rgba16_separate.tif"] = tiff(4, 3, [pattern(24, p) for p in range(4)], {
        258: ("H", [16] * 4), 259: ("H", [1]), 262: ("H", [2]), 277: ("H", [4]), 278: ("I", [3]), 284: ("H", [2]), 338: ("H", [2])})
    s["tiff_float_tiles.tif"] = tiff(20, 18, [struct.pack("<256f", *[k * 0.5 - 30 for k in range(256)])] * 4, {
        258: ("H", [32]), 259: ("H", [1]), 262: ("H", [1]), 277: ("H", [1]), 339: ("H", [3]), 322: ("I", [16]), 323: ("I", [16])})
    s["tiff_graya8_tiles_deflate.tif"] = tiff(16, 16, [zlib.compress(pattern(512, 7))], {
        258: ("H", [8, 8]), 259: ("H", [8]), 262: ("H", [1]), 277: ("H", [2]), 338: ("H", [1]), 322: ("I", [16]), 323: ("I", [16])})
    s["tiff_palette4.tif"] = tiff(6, 4, [pattern(12, 8)], {
        258: ("H", [4]), 259: ("H", [1]), 262: ("H", [3]), 277: ("H", [1]), 278: ("I", [4]), 320: ("H", [(k * 4099) % 65536 for k in range(48)])})
    s["tiff_bilevel_miniswhite.tif"] = tiff(12, 3, [pattern(6, 9)], {**gray, 258: ("H", [1]), 262: ("H", [0]), 278: ("I", [3])})
    s["tiff_packbits.tif"] = tiff(8, 2, [bytes([0xF9, 0x55]) + bytes([0x07]) + pattern(8, 10)], {**gray, 259: ("H", [32773]), 278: ("I", [2])})
    s["tiff_bigtiff_rgb.tif"] = tiff(3, 2, [pattern(18, 11)], {258: ("H", [8, 8, 8]), 259: ("H", [1]), 262: ("H", [2]), 277: ("H", [3]), 278: ("I", [2])}, big=True)
    s["tiff_ancillary_tags.tif"] = tiff(4, 4, [pattern(16, 12)], {
        **gray, 278: ("I", [4]), 270: ("A", b"made by fuzz/make_seeds.py"), 282: ("R", [(72, 1)]), 283: ("R", [(72, 1)]),
        296: ("H", [2]), 305: ("A", b"convbank"), 306: ("A", b"2024:06:12 12:00:00"), 65000: ("B", list(range(40)))})
    s["tiff_ycbcr_raw.tif"] = tiff(4, 4, [pattern(24, 13)], {
        258: ("H", [8, 8, 8]), 259: ("H", [1]), 262: ("H", [6]), 277: ("H", [3]), 278: ("I", [4]), 530: ("H", [2, 2])})
    s["tiff_cmyk.tif"] = tiff(2, 2, [pattern(16, 14)], {258: ("H", [8] * 4), 259: ("H", [1]), 262: ("H", [5]), 277: ("H", [4]), 278: ("I", [2])})
    return s


# ---------------------------------------------------------------- WebP

# Bitstreams made by libwebp (through Pillow): a 4×3 lossless image and a 4×4 lossy one (chunk payloads only).
VP8L_4X3 = bytes.fromhex("2f038000005f20164cce11e46f1bc354dca162fe13db81208044219658669965964923fa1f98ee00")
VP8_4X4 = bytes.fromhex("b001009d012a0400040002c04c259c0274010efe02ec00fdc02d93121cb694000000")


def riff_chunk(kind, data):
    return kind + struct.pack("<I", len(data)) + data + (b"\x00" if len(data) % 2 else b"")


def webp(*chunks):
    body = b"WEBP" + b"".join(chunks)
    return b"RIFF" + struct.pack("<I", len(body)) + body


def vp8x(flags, w, h):
    return riff_chunk(b"VP8X", bytes([flags, 0, 0, 0]) + (w - 1).to_bytes(3, "little") + (h - 1).to_bytes(3, "little"))


def anmf(x, y, w, h, payload, duration=100, flags=0):
    return riff_chunk(b"ANMF", (x // 2).to_bytes(3, "little") + (y // 2).to_bytes(3, "little") + (w - 1).to_bytes(3, "little")
                      + (h - 1).to_bytes(3, "little") + duration.to_bytes(3, "little") + bytes([flags]) + payload)


def webp_seeds():
    s = {}
    s["webp_lossless.webp"] = webp(riff_chunk(b"VP8L", VP8L_4X3))
    s["webp_lossy.webp"] = webp(riff_chunk(b"VP8 ", VP8_4X4))
    s["webp_extended_meta.webp"] = webp(vp8x(0x20 | 0x08 | 0x04, 4, 3), riff_chunk(b"ICCP", b"\x00" * 20),
                                        riff_chunk(b"VP8L", VP8L_4X3), riff_chunk(b"EXIF", b"II*\x00\x08\x00\x00\x00\x00\x00"),
                                        riff_chunk(b"XMP ", b"<x:xmpmeta/>"))
    s["webp_lossy_alpha.webp"] = webp(vp8x(0x10, 4, 4), riff_chunk(b"ALPH", b"\x00" + pattern(16, 15)), riff_chunk(b"VP8 ", VP8_4X4))
    s["webp_animated.webp"] = webp(vp8x(0x02 | 0x10, 8, 6), riff_chunk(b"ANIM", b"\xff\xff\xff\xff\x00\x00"),
                                   anmf(2, 2, 4, 3, riff_chunk(b"VP8L", VP8L_4X3)),
                                   anmf(0, 0, 4, 4, riff_chunk(b"VP8 ", VP8_4X4), flags=2))
    s["webp_unknown_chunk.webp"] = webp(vp8x(0, 4, 4), riff_chunk(b"ABCD", b"odd"), riff_chunk(b"VP8 ", VP8_4X4))
    return s


def main():
    os.makedirs(OUT, exist_ok=True)
    for name in os.listdir(OUT):
        os.remove(os.path.join(OUT, name))
    seeds = {**png_seeds(), **jpeg_seeds(), **tiff_seeds(), **webp_seeds()}
    for name, data in sorted(seeds.items()):
        with open(os.path.join(OUT, name), "wb") as f:
            f.write(data)
    total = sum(len(d) for d in seeds.values())
    print(f"{len(seeds)} seeds, {total} bytes in {OUT}")


if __name__ == "__main__":
    main()
