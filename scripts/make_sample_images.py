#!/usr/bin/env python3
"""Re-create SampleImages/: a few real, freely licensed photographs plus images
derived from them, so that every image decode path of convbank has a sample.

    python3 scripts/make_sample_images.py [--out DIR] [--scratch DIR] [--offline]

Sources (the same as ../shared/bench/get_photos.sh; nothing is installed):
  * Debian 12 packages plasma-workspace-wallpapers and mate-backgrounds,
    fetched with `apt-get download` and unpacked with `dpkg-deb -x`;
  * the scikit-image wheel from PyPI (`pip download --no-deps`), from which
    skimage/data/{astronaut,coffee,chelsea}.png are unzipped.
The originals are copied byte for byte and checked against pinned sha256 sums.
The derived PNGs are made here with numpy + zlib (16-bit) and Pillow
(grayscale, palette), then checked by parsing their IHDR chunks.
SOURCES.md and LICENSES/ are written as well.

Needs: Debian with apt-get + dpkg-deb (run as root, or where `apt-get download`
works), python3 with pip, numpy and Pillow (`python3 -m pip install numpy pillow`).
--offline: do not download; use the .deb / .whl files already in --scratch.
"""
import argparse
import glob
import hashlib
import json
import os
import shutil
import struct
import subprocess
import sys
import zipfile
import zlib

import numpy as np
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)

PLASMA = ("plasma-workspace-wallpapers", "4:5.27.5-2")
MATE = ("mate-backgrounds", "1.26.0-1")
SKIMAGE_VERSION = "0.26.0"

# name in SampleImages, package, path inside package, author, licence, pinned sha256
ORIGINALS = [
    ("kde-summer-1am.jpg", PLASMA, "/usr/share/wallpapers/summer_1am/contents/images/2560x1600.jpg",
     "Risto Saukonpää <paristo@gmail.com>",
     "LGPL-3 (wallpaper metadata.json: \"LGPLv3\"); Debian copyright file: GPL-2+",
     "c868b50789591dd42910153c768053f1ba0a98cb36bbfc2b7a96a1045d0477f8"),
    ("kde-grey.jpg", PLASMA, "/usr/share/wallpapers/Grey/contents/images/2560x1600.jpg",
     "Sigi Sagi <sigi-sagi@gmx.de>",
     "LGPL-3 (wallpaper metadata.json: \"LGPLv3\"); Debian copyright file: GPL-2+",
     "88c31d8944b7e6935d1b9a296654c692f0772cb512491713eb30a972a604c0ed"),
    ("mate-ladybird.jpg", MATE, "/usr/share/backgrounds/mate/nature/LadyBird.jpg",
     "Charles Barbin <barbinch@free.fr> (2008)", "GPL-2+ (Debian copyright file)",
     "e35a9a4126ef969c90b29c038058c5a575a20eadd84106a37bf1fa9931e7b61d"),
    ("mate-wood.jpg", MATE, "/usr/share/backgrounds/mate/nature/Wood.jpg",
     "Jean-François Fortin Tam <nekohayo@gmail.com> (2008)", "GPL-2+ (Debian copyright file)",
     "19c78500ac00a622e19907ab9cc7d06d46fe08c4a6142759a84195696150ec07"),
    ("astronaut.png", "skimage", "skimage/data/astronaut.png",
     "NASA (photograph of astronaut Eileen Collins, NASA Great Images)",
     "public domain (\"No known copyright restrictions, released into the public domain\", skimage.data.astronaut docstring)",
     "88431cd9653ccd539741b555fb0a46b61558b301d4110412b5bc28b5e3ea6cb5"),
    ("coffee.png", "skimage", "skimage/data/coffee.png",
     "Rachel Michetti (courtesy of Pikolo Espresso Bar)",
     "CC0 (\"No copyright restrictions. CC0 by the photographer\", skimage.data.coffee docstring)",
     "cc02f8ca188b167c775a7101b5d767d1e71792cf762c33d6fa15a4599b5a8de7"),
    ("chelsea.png", "skimage", "skimage/data/chelsea.png",
     "Stefan van der Walt",
     "CC0 (\"No copyright restrictions. CC0 by the photographer\", skimage.data.chelsea docstring)",
     "596aa1e7cb875eb79f437e310381d26b338a81c2da23439704a73c4651e8c4bb"),
]
KDE_WALLPAPERS = {"kde-summer-1am.jpg": "summer_1am", "kde-grey.jpg": "Grey"}


def sh(*cmd, cwd=None):
    print("+", " ".join(cmd), file=sys.stderr)
    subprocess.run(cmd, check=True, cwd=cwd)


def sha256(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


# ---------------------------------------------------------------- fetching
def fetch(scratch, offline):
    os.makedirs(scratch, exist_ok=True)
    debs = {}
    for pkg, ver in (PLASMA, MATE):
        pat = os.path.join(scratch, f"{pkg}_*.deb")
        if not glob.glob(pat):
            if offline:
                sys.exit(f"--offline: no {pat}")
            if subprocess.run(["apt-cache", "show", f"{pkg}={ver}"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode:
                sh("apt-get", "update", "-q")
            sh("apt-get", "download", f"{pkg}={ver}", cwd=scratch)
        deb = sorted(glob.glob(pat))[0]
        got = subprocess.run(["dpkg-deb", "-f", deb, "Version"], check=True,
                             capture_output=True, text=True).stdout.strip()
        if got != ver:
            sys.exit(f"{deb}: version {got}, expected {ver}")
        x = os.path.join(scratch, "deb-x", pkg)
        shutil.rmtree(x, ignore_errors=True)
        os.makedirs(x)
        sh("dpkg-deb", "-x", deb, x)
        debs[pkg] = (os.path.basename(deb), x)
    pat = os.path.join(scratch, f"scikit_image-{SKIMAGE_VERSION}-*.whl")
    if not glob.glob(pat):
        if offline:
            sys.exit(f"--offline: no {pat}")
        sh(sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--only-binary", ":all:",
           f"scikit-image=={SKIMAGE_VERSION}", "-d", scratch)
    whl = sorted(glob.glob(pat))[0]
    x = os.path.join(scratch, "sk-x")
    shutil.rmtree(x, ignore_errors=True)
    with zipfile.ZipFile(whl) as z:
        members = [n for n in z.namelist()
                   if n in ("skimage/data/astronaut.png", "skimage/data/coffee.png",
                            "skimage/data/chelsea.png", "skimage/data/_fetchers.py")
                   or (n.startswith(f"scikit_image-{SKIMAGE_VERSION}.dist-info/")
                       and "LICENSE" in n)]
        z.extractall(x, members)
    return debs, (os.path.basename(whl), x)


# ---------------------------------------------------------------- PNG writer
def _filter_rows(raw, bpp):
    """PNG filtering of uint8 scanlines raw[h, n]: per row, the filter type
    (0..4) whose output has the smallest sum of |signed bytes| (libpng's heuristic)."""
    r = raw.astype(np.int16)
    h, n = r.shape
    left = np.zeros_like(r); left[:, bpp:] = r[:, :-bpp]
    up = np.zeros_like(r); up[1:] = r[:-1]
    ul = np.zeros_like(r); ul[1:, bpp:] = r[:-1, :-bpp]
    p = left + up - ul
    pa, pb, pc = np.abs(p - left), np.abs(p - up), np.abs(p - ul)
    paeth = np.where((pa <= pb) & (pa <= pc), left, np.where(pb <= pc, up, ul))
    cands = np.stack([r, r - left, r - up, r - ((left + up) >> 1), r - paeth]) & 0xFF
    cost = np.abs(cands.astype(np.uint8).view(np.int8).astype(np.int32)).sum(axis=2)
    ft = cost.argmin(axis=0)
    out = np.empty((h, n + 1), np.uint8)
    out[:, 0] = ft
    out[:, 1:] = cands[ft, np.arange(h)]
    return out.tobytes()


def write_png16_rgb(path, rgb16):
    """Write uint16 [h, w, 3] as a PNG with bit depth 16, colour type 2."""
    h, w, c = rgb16.shape
    assert c == 3 and rgb16.dtype == np.uint16
    raw = rgb16.astype(">u2").view(np.uint8).reshape(h, w * 6)   # PNG samples are big-endian
    data = zlib.compress(_filter_rows(raw, 6), 9)

    def chunk(t, d):
        return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d))
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n")
        f.write(chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 16, 2, 0, 0, 0)))
        f.write(chunk(b"IDAT", data))
        f.write(chunk(b"IEND", b""))


def png_ihdr(path):
    with open(path, "rb") as f:
        d = f.read(33)
    assert d[:8] == b"\x89PNG\r\n\x1a\n" and d[12:16] == b"IHDR", path
    w, h, depth, ctype, _, _, interlace = struct.unpack(">IIBBBBB", d[16:29])
    return w, h, depth, ctype, interlace


def read_png16_rgb(path):
    """Minimal reader for the file written above (checks the round trip)."""
    with open(path, "rb") as f:
        d = f.read()
    pos, idat, ihdr = 8, b"", None
    while pos < len(d):
        n, t = struct.unpack(">I4s", d[pos:pos + 8])
        body = d[pos + 8:pos + 8 + n]
        if t == b"IHDR":
            ihdr = struct.unpack(">IIBBBBB", body)
        elif t == b"IDAT":
            idat += body
        pos += 12 + n
    w, h = ihdr[0], ihdr[1]
    raw = zlib.decompress(idat)
    n, bpp = w * 6, 6
    out, prev = bytearray(), bytearray(n)
    for y in range(h):
        ft, line = raw[y * (n + 1)], raw[y * (n + 1) + 1:(y + 1) * (n + 1)]
        cur = bytearray(n)
        for x in range(n):
            a = cur[x - bpp] if x >= bpp else 0
            b = prev[x]
            if ft == 0:
                pr = 0
            elif ft == 1:
                pr = a
            elif ft == 2:
                pr = b
            elif ft == 3:
                pr = (a + b) >> 1
            else:
                c = prev[x - bpp] if x >= bpp else 0
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                pr = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
            cur[x] = (line[x] + pr) & 0xFF
        out += cur
        prev = cur
    return np.frombuffer(bytes(out), ">u2").reshape(h, w, 3).astype(np.uint16)


# ---------------------------------------------------------------- JPEG facts
def jpeg_facts(path):
    with open(path, "rb") as f:
        d = f.read()
    pos, apps, sof, dri = 2, [], None, 0
    names = {0xC0: "baseline", 0xC1: "extended sequential", 0xC2: "progressive"}
    while pos < len(d):
        m = d[pos + 1]; n = struct.unpack(">H", d[pos + 2:pos + 4])[0]; body = d[pos + 4:pos + 2 + n]
        if 0xE0 <= m <= 0xEF:
            tag = body.split(b"\0", 1)[0].decode("latin-1")
            tag = "XMP" if tag.startswith("http://ns.adobe.com/xap") else tag[:12]
            apps.append(f"APP{m - 0xE0}:{tag}")
        elif m in names or (0xC3 <= m <= 0xCF and m not in (0xC4, 0xC8, 0xCC)):
            prec, h, w, nc = struct.unpack(">BHHB", body[:6])
            comps = [(body[6 + 3 * i] , body[7 + 3 * i] >> 4, body[7 + 3 * i] & 15) for i in range(nc)]
            sof = (names.get(m, f"SOF{m - 0xC0}"), prec, w, h, comps)
        elif m == 0xDD:
            dri = struct.unpack(">H", body[:2])[0]
        elif m == 0xDA:
            break
        pos += 2 + n
    kind, prec, w, h, comps = sof
    if len(comps) == 1:
        sub = "grayscale (1 component)"
    else:
        hs, vs = comps[0][1], comps[0][2]
        ok = all(c[1] == 1 and c[2] == 1 for c in comps[1:])
        sub = {(1, 1): "4:4:4", (2, 1): "4:2:2", (2, 2): "4:2:0", (1, 2): "4:4:0"}.get((hs, vs), "?") \
            if ok else "unusual"
        sub += " (Y sampling %dx%d)" % (hs, vs)
    exif_orient = Image.open(path).getexif().get(0x0112)
    return dict(kind=kind, precision=prec, w=w, h=h, sub=sub, dri=dri, apps=apps, orient=exif_orient)


# ---------------------------------------------------------------- main
def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=os.path.join(REPO, "SampleImages"))
    ap.add_argument("--scratch", default="/tmp/convbank-sample-src")
    ap.add_argument("--offline", action="store_true")
    a = ap.parse_args()
    out = os.path.abspath(a.out)
    debs, (whl, skx) = fetch(os.path.abspath(a.scratch), a.offline)

    for f in glob.glob(os.path.join(out, "*.png")) + glob.glob(os.path.join(out, "*.jpg")):
        os.remove(f)
    shutil.rmtree(os.path.join(out, "LICENSES"), ignore_errors=True)
    lic = os.path.join(out, "LICENSES")
    os.makedirs(lic)

    rows = []
    for name, pkg, inner, author, licence, want in ORIGINALS:
        if pkg == "skimage":
            src = os.path.join(skx, inner)
            origin = f"PyPI wheel `{whl}` (scikit-image {SKIMAGE_VERSION}), path `{inner}`"
        else:
            debfile, x = debs[pkg[0]]
            src = os.path.realpath(x + inner)
            origin = f"Debian 12 package `{pkg[0]}` {pkg[1]} (`{debfile}`), path `{inner}`"
        got = sha256(src)
        if got != want:
            sys.exit(f"{src}: sha256 {got}, expected {want}")
        shutil.copyfile(src, os.path.join(out, name))
        rows.append((name, origin, author, licence))

    # Licence / copyright files
    shutil.copyfile(os.path.join(debs[PLASMA[0]][1], "usr/share/doc/plasma-workspace-wallpapers/copyright"),
                    os.path.join(lic, "plasma-workspace-wallpapers.copyright"))
    shutil.copyfile(os.path.join(debs[MATE[0]][1], "usr/share/doc/mate-backgrounds/copyright"),
                    os.path.join(lic, "mate-backgrounds.copyright"))
    for name, w in KDE_WALLPAPERS.items():
        shutil.copyfile(os.path.join(debs[PLASMA[0]][1], f"usr/share/wallpapers/{w}/metadata.json"),
                        os.path.join(lic, name.rsplit(".", 1)[0] + ".metadata.json"))
    for f in glob.glob(os.path.join(skx, f"scikit_image-{SKIMAGE_VERSION}.dist-info", "**", "LICENSE*"),
                       recursive=True):
        shutil.copyfile(f, os.path.join(lic, "scikit-image.LICENSE.txt"))
    # the per-image licence statements of scikit-image are in the docstrings of skimage/data/_fetchers.py
    src = open(os.path.join(skx, "skimage/data/_fetchers.py"), encoding="utf-8").read()
    with open(os.path.join(lic, "scikit-image-data-notes.txt"), "w", encoding="utf-8") as f:
        f.write(f"Docstrings of skimage/data/_fetchers.py, scikit-image {SKIMAGE_VERSION} wheel `{whl}`\n"
                "(the licence statements for astronaut.png, chelsea.png and coffee.png).\n\n")
        for fn in ("astronaut", "chelsea", "coffee"):
            i = src.index(f"\ndef {fn}():")
            j = src.index('"""', src.index('"""', i) + 3) + 3
            f.write(src[i + 1:j] + "\n\n")
    for t in ("GPL-2", "LGPL-3", "CC0-1.0"):
        p = f"/usr/share/common-licenses/{t}"
        if os.path.exists(p):
            shutil.copyfile(p, os.path.join(lic, t + ".txt"))

    # Derived images
    coffee = np.asarray(Image.open(os.path.join(out, "coffee.png")).convert("RGB"))
    c16 = coffee.astype(np.uint16) * 257            # 0 -> 0, 255 -> 65535, exact v*257
    write_png16_rgb(os.path.join(out, "coffee-16bit.png"), c16)
    assert np.array_equal(read_png16_rgb(os.path.join(out, "coffee-16bit.png")), c16)

    chelsea = Image.open(os.path.join(out, "chelsea.png")).convert("RGB")
    gray = chelsea.convert("L")                     # L = (299 R + 587 G + 114 B) / 1000
    gray.save(os.path.join(out, "chelsea-gray.png"), optimize=True)

    astro = Image.open(os.path.join(out, "astronaut.png")).convert("RGB")
    pal = astro.quantize(colors=256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    pal.save(os.path.join(out, "astronaut-palette.png"), optimize=False)

    expect = {"coffee-16bit.png": (16, 2), "chelsea-gray.png": (8, 0), "astronaut-palette.png": (8, 3)}
    for name, (depth, ctype) in expect.items():
        w, h, d, c, il = png_ihdr(os.path.join(out, name))
        assert (d, c, il) == (depth, ctype, 0), (name, d, c, il)
        assert max(w, h) <= 600, name
    assert len(Image.open(os.path.join(out, "astronaut-palette.png")).getpalette()) // 3 == 256
    c = np.asarray(Image.open(os.path.join(out, "chelsea-gray.png")))
    assert c.ndim == 2

    derived = [
        ("coffee-16bit.png", "coffee.png",
         "every 8-bit sample v written as the 16-bit sample v*257 (0..255 -> 0..65535, so the full "
         "16-bit range is used and v16 >> 8 == v16 & 0xFF == v); same 600x400 size as coffee.png; "
         "written with numpy + zlib (PNG bit depth 16, colour type 2 = RGB, non-interlaced, "
         "per-row adaptive filters), verified by a round-trip decode"),
        ("chelsea-gray.png", "chelsea.png",
         "Pillow `convert(\"L\")` (ITU-R 601-2 luma: L = R*299/1000 + G*587/1000 + B*114/1000); "
         "451x300, bit depth 8, colour type 0 = grayscale"),
        ("astronaut-palette.png", "astronaut.png",
         "Pillow `quantize(colors=256, method=MEDIANCUT, dither=NONE)`; 512x512, bit depth 8, "
         "colour type 3 = indexed, 256-entry PLTE, no tRNS"),
    ]
    write_sources(out, rows, derived)
    total = sum(os.path.getsize(os.path.join(out, n)) for n in os.listdir(out)
                if n.endswith((".png", ".jpg")))
    print(f"wrote {out} ({total} bytes of images)")


def describe(path):
    im = Image.open(path)
    if path.endswith(".jpg"):
        j = jpeg_facts(path)
        s = f"JPEG {j['w']}x{j['h']}, {j['kind']}, {j['sub']}, {j['precision']}-bit"
        s += f", restart interval {j['dri']}" if j["dri"] else ", no restart markers"
        s += ", markers " + (" ".join(j["apps"]) if j["apps"] else "none")
        if j["orient"]:
            s += f", EXIF orientation {j['orient']}"
        return s
    w, h, d, c, il = png_ihdr(path)
    ct = {0: "grayscale", 2: "RGB", 3: "indexed (palette)", 4: "gray+alpha", 6: "RGBA"}[c]
    return f"PNG {w}x{h}, {d}-bit {ct} (colour type {c}), {'Adam7' if il else 'non-interlaced'}"


def write_sources(out, rows, derived):
    L = []
    L.append("# SampleImages — sources and licences\n")
    L.append("Small set of real photographs (freely licensed) plus PNGs derived from them, one for each "
             "decode path of convbank. Everything here is (re)generated by "
             "`scripts/make_sample_images.py` (run `python3 scripts/make_sample_images.py`; it downloads "
             "the pinned Debian packages with `apt-get download` and the scikit-image wheel with "
             "`pip download`, unpacks them without installing, checks the pinned sha256 of every "
             "original, copies them byte for byte, and derives the other images). The same sources "
             "are used by `../shared/bench/get_photos.sh`.\n")
    L.append("Licence and copyright files are in `LICENSES/`. Note the GPL/LGPL wallpapers: "
             "redistributing them (e.g. in this repository) carries the GPL-2+ / LGPL-3 terms "
             "(keep the notices; the \"source\" of a JPEG photo is the JPEG itself).\n")
    L.append("## Files\n")
    L.append("| file | bytes | format | licence | sha256 |")
    L.append("| --- | ---: | --- | --- | --- |")
    lic_of = {r[0]: r[3].split(" (")[0] for r in rows}
    for d in derived:
        lic_of[d[0]] = lic_of[d[1]] + f" (as {d[1]})"
    lic_of["kde-summer-1am.jpg"] = lic_of["kde-grey.jpg"] = "LGPL-3 / GPL-2+"
    for n in [r[0] for r in rows] + [d[0] for d in derived]:
        p = os.path.join(out, n)
        L.append(f"| `{n}` | {os.path.getsize(p)} | {describe(p)} | {lic_of[n]} | `{sha256(p)}` |")
    L.append("")
    L.append("## Originals (unmodified copies)\n")
    for name, origin, author, licence in rows:
        L.append(f"### `{name}`\n")
        L.append(f"- origin: {origin}")
        L.append(f"- author / photographer: {author}")
        L.append(f"- licence: {licence}")
        L.append(f"- sha256: `{sha256(os.path.join(out, name))}`\n")
    L.append("## Derived (made by `scripts/make_sample_images.py`)\n")
    for name, src, how in derived:
        L.append(f"### `{name}`\n")
        L.append(f"- from: `{src}` (same author and licence as `{src}`)")
        L.append(f"- how: {how}")
        L.append(f"- made with: Python {sys.version.split()[0]}, numpy {np.__version__}, "
                 f"Pillow {Image.__version__}, zlib {zlib.ZLIB_RUNTIME_VERSION} "
                 "(other versions may give different bytes for the Pillow-written files)")
        L.append(f"- sha256: `{sha256(os.path.join(out, name))}`\n")
    L.append("## LICENSES/\n")
    L.append("- `plasma-workspace-wallpapers.copyright`, `mate-backgrounds.copyright`: the Debian "
             "copyright files of the two packages (`/usr/share/doc/<package>/copyright`).")
    L.append("- `kde-summer-1am.metadata.json`, `kde-grey.metadata.json`: the wallpapers' "
             "`metadata.json` (author, e-mail, licence \"LGPLv3\").")
    L.append("- `scikit-image.LICENSE.txt`: the wheel's `LICENSE.txt` (code licence, BSD-3-Clause); "
             "`scikit-image-data-notes.txt`: the docstrings of `skimage/data/_fetchers.py` that give "
             "the licence of each sample photo.")
    L.append("- `GPL-2.txt`, `LGPL-3.txt`, `CC0-1.0.txt`: licence texts (from Debian's "
             "`/usr/share/common-licenses/`).")
    with open(os.path.join(out, "SOURCES.md"), "w", encoding="utf-8") as f:
        f.write("\n".join(L) + "\n")


if __name__ == "__main__":
    main()
