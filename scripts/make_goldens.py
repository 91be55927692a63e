#!/usr/bin/env python3
"""Regenerate convbank's test fixtures (golden files) under Tests/ConvBankTests/Fixtures/.

Run from the repository root:

    python3 scripts/make_goldens.py            # everything
    python3 scripts/make_goldens.py --only decode|conv|testdata

Needs (versions used to produce the committed fixtures):
    Python 3.11, numpy 2.4.6
    pypng 0.20220715.0      (pip install pypng)   pure-Python PNG reference, independent of libpng
    Pillow 13.0.0           (pip install pillow)  JPEG reference (bundles libjpeg-turbo 3.2.0)
    keras 3.15.1 + jax/jaxlib 0.10.2 (CPU)        (pip install keras jax), run with KERAS_BACKEND=jax
                                                  (this script sets it); no tensorflow / torch needed

What it writes (all paths relative to Tests/ConvBankTests/Fixtures/):

testdata/                copy of the shared conformance images (pngsuite/, jpeg/, exif/, README.md,
                         SHA256SUMS) when the source folder exists (default ../shared/testdata next to
                         the repo, or --testdata-src DIR); otherwise the existing copy is used as is.

decode/expected.json     list sorted by "file", one object per valid image:
                           {"file": "pngsuite/basn0g01.png", "width": W, "height": H, "channels": C,
                            "fnv1a64": "<16 lowercase hex>", "sum": <float64>, "first": [pixel (0,0)]}
                         The samples are the contract's raw samples as float32, H x W x C interleaved,
                         row-major from the top-left; fnv1a64 = FNV-1a 64 over their little-endian float32
                         bytes; sum = float64 sum of all samples; "first" = the C samples of pixel (0,0)
                         (each written as the exact double value of the float32).
                         PNG (pypng Reader.read(), raw rows): gray 1 / gray+alpha 2 / RGB 3 / RGBA 4 /
                         palette -> 3 (RGB from PLTE); tRNS ignored everywhere; 16-bit raw 0..65535;
                         1/2/4-bit gray scaled by 255/(2^bits-1); no gamma, no sBIT.
                         JPEG (Pillow): gray 1, YCbCr -> RGB 3; CMYK/YCCK (Pillow un-inverts Adobe) ->
                         RGB 3 as R=(255-C)(255-K)/255 etc. in float64, cast to float32 (NOT rounded);
                         EXIF orientation applied with ImageOps.exif_transpose.
decode/corrupt.json      list of the 14 pngsuite/x*.png paths (a decoder must refuse them).

conv/cases.json          list of {"name", "input", "bank", "expected", "reference", "note"}; file names are
                         relative to conv/.  reference = "keras" (keras.layers.Conv2D, JAX backend,
                         float32) or "numpy" (naive float64 loop, then cast to float32; used where Keras
                         refuses strides > 1 together with dilation_rate > 1).
conv/<name>_in.npy       float32 (H, W, C) input image (values 0..255 integers, except ex40404).
conv/<name>_bank.json    bank in one of the contract's three JSON forms ("filters", HWIO, OIHW).
conv/<name>_out.npy      float32 (F, H_out, W_out): all filter maps stacked, activation applied.
conv/refused.json        list of {"input_shape": [H, W, C], "bank": "rXX_bank.json", "note"}: banks
                         whose reflect padding is wider than image-1; the engine must refuse them.
conv/rXX_bank.json       the banks of refused.json.

Case generation: ~80 seeded random combinations over strides 1,2,3,[2,1],[1,3]; dilations 1,2,[1,2],[3,1];
paddings valid, same, 1, 2, [0,2,1,3], [2,0,0,1]; modes zeros/reflect/replicate/circular; activations
linear/relu/sigmoid/tanh; kernels 1x1..5x5, 3x2, 2x4; 1-4 filters; 1-4 channels; images 4..17 (every mode x
padding pair appears with a stride > 1 and with a dilation > 1), plus fixed cases (SAME asymmetric splits,
a 3x224 1x7 stride-2 case, banks mixing 3x3 and 5x5 filters, ex40404).  Combinations are kept only when
reflect pads are <= size-1 and circular pads <= size (a single wrap), and the output is at least 1x1.
Weights are float32 normals, std 1 (std 1/(64 sqrt(n)), n = C*kh*kw, for sigmoid/tanh so they do not saturate), biases
std 20 (std 1 for sigmoid/tanh); JSON numbers are the exact double value of each float32.

Every value is generated from fixed seeds, so a rerun rewrites identical files.  The conv part
cross-checks each expected output against the naive float64 loop and prints a summary (it fails if any
difference is larger than 1e-5 of the magnitude of the sum of |terms|).
"""

import argparse
import glob
import json
import math
import os
import shutil
import sys

os.environ.setdefault("KERAS_BACKEND", "jax")
os.environ.setdefault("JAX_PLATFORMS", "cpu")

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIX = os.path.join(ROOT, "Tests", "ConvBankTests", "Fixtures")
TESTDATA = os.path.join(FIX, "testdata")


def write_json(path, obj, compact=False):
    with open(path, "w") as f:
        if compact:
            json.dump(obj, f, separators=(",", ":"))
        else:
            json.dump(obj, f, indent=1)
        f.write("\n")


def f32num(v):
    """A float32 value as a JSON number: the exact double value of the float32 (integers as ints).

    Parsing it as Double (then converting to Float) or directly as Float gives back the same float32.
    """
    v = float(np.float32(v))
    if v.is_integer() and abs(v) < 2 ** 53:
        return int(v)
    return v


# --------------------------------------------------------------------------------------------
# Task 1: copy the conformance images
# --------------------------------------------------------------------------------------------

def copy_testdata(src):
    if not src or not os.path.isdir(src):
        print(f"testdata: source {src!r} not found, keeping {TESTDATA}")
        return
    os.makedirs(TESTDATA, exist_ok=True)
    for sub in ("pngsuite", "jpeg", "exif"):
        dst = os.path.join(TESTDATA, sub)
        if os.path.isdir(dst):
            shutil.rmtree(dst)
        shutil.copytree(os.path.join(src, sub), dst)
    for name in ("README.md", "SHA256SUMS"):
        if os.path.exists(os.path.join(src, name)):
            shutil.copy2(os.path.join(src, name), os.path.join(TESTDATA, name))
    print(f"testdata: copied {src} -> {TESTDATA}")


# --------------------------------------------------------------------------------------------
# Task 2: decode goldens
# --------------------------------------------------------------------------------------------

FNV_OFFSET = 0xCBF29CE484222325
FNV_PRIME = 0x100000001B3
MASK64 = (1 << 64) - 1


def fnv1a64(data):
    h = FNV_OFFSET
    for b in data:
        h = ((h ^ b) * FNV_PRIME) & MASK64
    return h


def decode_png(path):
    import png  # pypng

    r = png.Reader(filename=path)
    w, h, rows, info = r.read()
    planes = info["planes"]
    a = np.array([list(row) for row in rows], dtype=np.int64).reshape(h, w, planes)
    ct = r.color_type
    bd = info["bitdepth"]
    if ct == 3:
        plte = np.array(r.palette(), dtype=np.int64)[:, :3]  # drop tRNS alpha, if any
        idx = a[:, :, 0]
        if idx.max() >= len(plte):
            raise ValueError(f"{path}: palette index {idx.max()} >= {len(plte)} entries")
        a = plte[idx]
    elif ct == 0 and bd < 8:
        a = a * 255 // ((1 << bd) - 1)  # exact: 255, 85 and 17 are integers
    # ct 0 (8/16), 2, 4, 6: raw samples, channel count of the file (alpha kept)
    return a.astype(np.float32)


def decode_jpeg(path):
    from PIL import Image, ImageOps

    im = Image.open(path)
    im.load()
    im = ImageOps.exif_transpose(im)
    if im.mode == "L":
        a = np.asarray(im, dtype=np.float64)[:, :, None]
    elif im.mode == "RGB":
        a = np.asarray(im, dtype=np.float64)
    elif im.mode == "CMYK":
        cmyk = np.asarray(im, dtype=np.float64)
        c, m, y, k = (cmyk[:, :, i] for i in range(4))
        a = np.stack([(255 - c) * (255 - k) / 255,
                      (255 - m) * (255 - k) / 255,
                      (255 - y) * (255 - k) / 255], axis=2)
    else:
        raise ValueError(f"{path}: unexpected Pillow mode {im.mode}")
    return a.astype(np.float32)


def make_decode():
    out_dir = os.path.join(FIX, "decode")
    os.makedirs(out_dir, exist_ok=True)
    files = sorted(
        os.path.relpath(p, TESTDATA)
        for pat in ("pngsuite/*.png", "exif/*.jpg", "jpeg/*.jpg")
        for p in glob.glob(os.path.join(TESTDATA, pat))
    )
    corrupt = [f for f in files if os.path.basename(f).startswith("x")]
    valid = [f for f in files if f not in corrupt]
    assert len(corrupt) == 14, corrupt

    for f in corrupt:  # pypng refuses all 14 too (informative only)
        try:
            decode_png(os.path.join(TESTDATA, f))
            print(f"decode: NOTE pypng accepted corrupt {f}")
        except Exception:  # noqa: BLE001
            pass

    entries = []
    for f in valid:
        path = os.path.join(TESTDATA, f)
        a = decode_png(path) if f.endswith(".png") else decode_jpeg(path)
        if f.startswith("exif/"):
            assert a.shape[:2] == (1200, 1800), (f, a.shape)
        a = np.ascontiguousarray(a, dtype="<f4")
        h, w, c = a.shape
        entries.append({
            "file": f,
            "width": w,
            "height": h,
            "channels": c,
            "fnv1a64": "%016x" % fnv1a64(a.tobytes()),
            "sum": float(np.sum(a, dtype=np.float64)),
            "first": [f32num(v) for v in a[0, 0, :]],
        })
    write_json(os.path.join(out_dir, "expected.json"), entries)
    write_json(os.path.join(out_dir, "corrupt.json"), corrupt)
    print(f"decode: {len(entries)} valid images, {len(corrupt)} corrupt -> {out_dir}")


# --------------------------------------------------------------------------------------------
# Task 3: convolution goldens
# --------------------------------------------------------------------------------------------

NP_MODE = {"zeros": "constant", "reflect": "reflect", "replicate": "edge", "circular": "wrap"}


def pair(v):
    return (v, v) if isinstance(v, int) else (v[0], v[1])


def pads_for(padding, in_hw, k_hw, s_hw, d_hw):
    """(top, bottom, left, right) as the contract defines them."""
    if padding == "valid":
        return (0, 0, 0, 0)
    if padding == "same":
        res = []
        for n, k, s, d in zip(in_hw, k_hw, s_hw, d_hw):
            out = -(-n // s)
            total = max((out - 1) * s + (k - 1) * d + 1 - n, 0)
            res += [total // 2, total - total // 2]
        return tuple(res)
    if isinstance(padding, int):
        return (padding,) * 4
    return tuple(padding)


def out_size(n, k, s, d, p0, p1):
    return (n + p0 + p1 - (k - 1) * d - 1) // s + 1


def pad_ok(mode, pads, h, w):
    t, b, l, r = pads
    if mode == "reflect":
        return max(t, b) <= h - 1 and max(l, r) <= w - 1
    if mode == "circular":
        return max(t, b) <= h and max(l, r) <= w
    return True


def act_np(x, name):
    if name == "linear":
        return x
    if name == "relu":
        return np.maximum(x, 0)
    if name == "sigmoid":
        return 1 / (1 + np.exp(-x))
    if name == "tanh":
        return np.tanh(x)
    raise ValueError(name)


def naive_conv(img, w, b, stride, dilation, pads, mode, act):
    """Naive float64 loop straight from the contract's formula.

    img (H, W, C); w (C, kh, kw) for one filter; returns (act(out) (Ho, Wo), magnitude (Ho, Wo)),
    magnitude = |b| + sum |terms|, for judging float32 rounding error."""
    H, W, C = img.shape
    _, kh, kw = w.shape
    sh, sw = stride
    dh, dw = dilation
    t, bo, l, r = pads
    Ho = out_size(H, kh, sh, dh, t, bo)
    Wo = out_size(W, kw, sw, dw, l, r)
    img = img.astype(np.float64)
    w = w.astype(np.float64)

    def sample(c, yy, xx):
        if 0 <= yy < H and 0 <= xx < W:
            return img[yy, xx, c]
        if mode == "zeros":
            return 0.0
        if mode == "replicate":
            return img[min(max(yy, 0), H - 1), min(max(xx, 0), W - 1), c]
        if mode == "circular":
            return img[yy % H, xx % W, c]
        if mode == "reflect":
            def refl(i, n):
                if i < 0:
                    i = -i
                if i >= n:
                    i = 2 * (n - 1) - i
                assert 0 <= i < n
                return i
            return img[refl(yy, H), refl(xx, W), c]
        raise ValueError(mode)

    out = np.zeros((Ho, Wo))
    mag = np.zeros((Ho, Wo))
    for y in range(Ho):
        for x in range(Wo):
            acc = float(b)
            m = abs(float(b))
            for c in range(C):
                for i in range(kh):
                    for j in range(kw):
                        term = sample(c, y * sh + i * dh - t, x * sw + j * dw - l) * w[c, i, j]
                        acc += term
                        m += abs(term)
            out[y, x] = acc
            mag[y, x] = m
    return act_np(out, act), mag


_KERAS = None


def keras_mod():
    global _KERAS
    if _KERAS is None:
        import keras
        _KERAS = keras
    return _KERAS


def keras_conv(img, w, b, stride, dilation, pads, mode, act):
    """One filter (or several of one kernel size) through keras.layers.Conv2D.

    w (F, C, kh, kw), b (F,).  Zero padding with pads equal to valid/same is handed to Keras'
    own padding; everything else is padded with numpy first and run as valid."""
    keras = keras_mod()
    F, C, kh, kw = w.shape
    kernel = np.transpose(w, (2, 3, 1, 0)).astype(np.float32)  # HWIO
    x = img.astype(np.float32)
    if mode == "zeros" and pads == (0, 0, 0, 0):
        kpad = "valid"
    elif mode == "zeros" and pads == pads_for("same", img.shape[:2], (kh, kw), stride, dilation):
        kpad = "same"
    else:
        t, bo, l, r = pads
        x = np.pad(x, ((t, bo), (l, r), (0, 0)), mode=NP_MODE[mode])
        kpad = "valid"
    layer = keras.layers.Conv2D(F, (kh, kw), strides=stride, padding=kpad, dilation_rate=dilation,
                                activation=act, use_bias=True, dtype="float32")
    layer.build((1,) + x.shape)
    layer.set_weights([kernel, b.astype(np.float32)])
    y = np.asarray(layer(x[None]))[0]  # (Ho, Wo, F)
    return np.transpose(y, (2, 0, 1)).astype(np.float32), kpad


# ---- bank JSON writers -------------------------------------------------------------------

def layer_keys(stride, dilation, padding, mode, act):
    return {"stride": stride, "padding": padding, "padding_mode": mode, "dilation": dilation,
            "activation": act}


def bank_filters_form(name, filters, biases, fnames, stride, dilation, padding, mode, act):
    d = {"name": name}
    d.update(layer_keys(stride, dilation, padding, mode, act))
    d["filters"] = [
        {"name": fn, "weights": [[[f32num(v) for v in row] for row in ch] for ch in w],
         "bias": f32num(bb)}
        for fn, w, bb in zip(fnames, filters, biases)
    ]
    return d


def bank_hwio(w, b, names, stride, dilation, padding, mode, act):
    k = np.transpose(w, (2, 3, 1, 0))  # (F,C,kh,kw) -> (kh,kw,C,F)
    d = {"layout": "HWIO",
         "kernel": [[[[f32num(v) for v in o] for o in c] for c in row] for row in k],
         "bias": [f32num(v) for v in b]}
    if names:
        d["names"] = names
    d.update(layer_keys(stride, dilation, padding, mode, act))
    return d


def bank_oihw(w, b, names, stride, dilation, padding, mode, act):
    d = {"layout": "OIHW",
         "weight": [[[[f32num(v) for v in row] for row in c] for c in f] for f in w],
         "bias": [f32num(v) for v in b]}
    if names:
        d["names"] = names
    d.update(layer_keys(stride, dilation, padding, mode, act))
    return d


def fmt(v):
    return v if isinstance(v, str) else json.dumps(v).replace(" ", "")


STRIDES = [1, 2, 3, [2, 1], [1, 3]]
DILATIONS = [1, 2, [1, 2], [3, 1]]
PADDINGS = ["valid", "same", 1, 2, [0, 2, 1, 3], [2, 0, 0, 1]]
MODES = ["zeros", "reflect", "replicate", "circular"]
ACTS = ["linear", "relu", "sigmoid", "tanh"]
KERNELS = [(1, 1), (2, 2), (3, 3), (4, 4), (5, 5), (3, 2), (2, 4)]
FORMS = ["filters", "HWIO", "OIHW"]


class ConvGen:
    def __init__(self, out_dir):
        self.out_dir = out_dir
        self.rng = np.random.default_rng(20240917)
        self.cases = []
        self.checks = []  # (name, reference, max abs diff, max rel diff)

    # one spec: dict(H, W, C, kernels=[(kh,kw)]*F, stride, dilation, padding, mode, act, form)
    def feasible(self, sp):
        s, d = pair(sp["stride"]), pair(sp["dilation"])
        sizes = set()
        for k in sp["kernels"]:
            pads = pads_for(sp["padding"], (sp["H"], sp["W"]), k, s, d)
            if not pad_ok(sp["mode"], pads, sp["H"], sp["W"]):
                return False
            ho = out_size(sp["H"], k[0], s[0], d[0], pads[0], pads[1])
            wo = out_size(sp["W"], k[1], s[1], d[1], pads[2], pads[3])
            if ho < 1 or wo < 1:
                return False
            sizes.add((ho, wo))
        return len(sizes) == 1

    def random_spec(self, **fixed):
        rng = self.rng
        for _ in range(10000):
            k = KERNELS[rng.integers(len(KERNELS))]
            sp = {
                "H": int(rng.integers(4, 18)), "W": int(rng.integers(4, 18)),
                "C": int(rng.integers(1, 5)), "F": int(rng.integers(1, 5)),
                "stride": STRIDES[rng.integers(len(STRIDES))],
                "dilation": DILATIONS[rng.integers(len(DILATIONS))],
                "padding": PADDINGS[rng.integers(len(PADDINGS))],
                "mode": MODES[rng.integers(len(MODES))],
                "act": ACTS[rng.integers(len(ACTS))],
                "form": FORMS[rng.integers(len(FORMS))],
                "k": k,
            }
            sp.update(fixed)
            sp["kernels"] = [tuple(sp["k"])] * sp["F"]
            if self.feasible(sp):
                return sp
        raise RuntimeError(f"no feasible spec for {fixed}")

    def weights(self, C, kernels, act):
        """float32 normals; small for sigmoid/tanh so the pre-activations are O(1)."""
        ws, bs = [], []
        for kh, kw in kernels:
            n = C * kh * kw
            scale = 1.0 / (64.0 * math.sqrt(n)) if act in ("sigmoid", "tanh") else 1.0
            ws.append((self.rng.standard_normal((C, kh, kw)) * scale).astype(np.float32))
            bs.append(np.float32(self.rng.standard_normal() * (1.0 if act in ("sigmoid", "tanh") else 20.0)))
        return ws, np.array(bs, dtype=np.float32)

    def add(self, sp, name=None, img=None, ws=None, bs=None, note_extra=""):
        name = name or "c%03d" % len([c for c in self.cases if c["name"].startswith("c")])
        H, W, C = sp["H"], sp["W"], sp["C"]
        kernels = sp["kernels"]
        if img is None:
            img = self.rng.integers(0, 256, size=(H, W, C)).astype(np.float32)
        if ws is None:
            ws, bs = self.weights(C, kernels, sp["act"])
        stride, dilation = pair(sp["stride"]), pair(sp["dilation"])
        F = len(kernels)
        fnames = ["f%d" % i for i in range(F)]
        mixed = len(set(kernels)) > 1

        # bank JSON
        form = sp["form"]
        if mixed:
            assert form == "filters"
        args = (sp["stride"], sp["dilation"], sp["padding"], sp["mode"], sp["act"])
        if form == "filters":
            fnames = ["%s_%d" % (name, i) for i in range(F)] if self.rng.integers(2) else fnames
            bank = bank_filters_form(name, ws, bs, fnames, *args)
        else:
            w4 = np.stack(ws)
            names = None
            if self.rng.integers(2):
                names = fnames = ["%s_%s" % (form.lower(), i) for i in range(F)]
            bank = (bank_hwio if form == "HWIO" else bank_oihw)(w4, bs, names, *args)

        # the JSON numbers must give back exactly the float32 weights and biases
        back = json.loads(json.dumps(bank))
        if form == "filters":
            bw = [np.array(f["weights"], dtype=np.float32) for f in back["filters"]]
            bb = np.array([f["bias"] for f in back["filters"]], dtype=np.float32)
        elif form == "HWIO":
            bw = list(np.array(back["kernel"], dtype=np.float32).transpose(3, 2, 0, 1))
            bb = np.array(back["bias"], dtype=np.float32)
        else:
            bw = list(np.array(back["weight"], dtype=np.float32))
            bb = np.array(back["bias"], dtype=np.float32)
        assert all(np.array_equal(x, y) for x, y in zip(bw, ws)) and np.array_equal(bb, bs), name

        # reference
        keras_ok = not (max(stride) > 1 and max(dilation) > 1)
        outs, naive, mags, kpads = [], [], [], []
        groups = [[i] for i in range(F)] if mixed else [list(range(F))]
        for g in groups:
            k = kernels[g[0]]
            pads = pads_for(sp["padding"], (H, W), k, stride, dilation)
            for i in g:
                o, m = naive_conv(img, ws[i], bs[i], stride, dilation, pads, sp["mode"], sp["act"])
                naive.append(o)
                mags.append(m)
            if keras_ok:
                o, kp = keras_conv(img, np.stack([ws[i] for i in g]), bs[g], stride, dilation, pads,
                                   sp["mode"], sp["act"])
                outs.append(o)
                kpads.append(kp)
            else:
                # Keras refuses strides > 1 with dilation_rate > 1; still check the loop against a
                # stride-1 Keras conv subsampled by the stride (exact for any padding).
                t, bo, l, r = pads
                x = np.pad(img, ((t, bo), (l, r), (0, 0)), mode=NP_MODE[sp["mode"]])
                o1, kp = keras_conv(x, np.stack([ws[i] for i in g]), bs[g], (1, 1), dilation,
                                    (0, 0, 0, 0), "zeros", sp["act"])
                sub = o1[:, ::stride[0], ::stride[1]]
                outs.append(sub)
                kpads.append("stride-1 keras, subsampled")
        naive = np.stack(naive)
        mags = np.stack(mags)
        kout = np.concatenate(outs, axis=0)
        assert kout.shape == naive.shape, (name, kout.shape, naive.shape)
        diff = np.abs(kout.astype(np.float64) - naive)
        # tolerance: float32 accumulation error relative to sum |terms| (activations are 1-Lipschitz)
        rel = float(np.max(diff / np.maximum(mags, 1.0)))
        # scale a consumer can compute from the fixture alone: max|input| * sum|w_f| + |b_f|
        scale = np.array([float(np.abs(img).max()) * float(np.abs(ws[i].astype(np.float64)).sum())
                          + abs(float(bs[i])) for i in range(F)])
        self.checks.append((name, "keras" if keras_ok else "numpy", float(diff.max()), rel,
                            float(np.max(diff / np.maximum(scale, 1.0)[:, None, None]))))
        if rel > 1e-5:
            raise AssertionError(f"{name}: Keras vs naive loop differ: max abs {diff.max()}, rel {rel}")
        expected = kout if keras_ok else naive.astype(np.float32)

        # notes
        ks = ", ".join(sorted({"%dx%d" % k for k in kernels}))
        note = ("in %dx%dx%d, %d filter(s) %s, stride %s, dilation %s, padding %s, mode %s, %s, %s form"
                % (H, W, C, F, ks, fmt(sp["stride"]), fmt(sp["dilation"]), fmt(sp["padding"]),
                   sp["mode"], sp["act"], form))
        pads0 = pads_for(sp["padding"], (H, W), kernels[0], stride, dilation)
        note += "; pads T,B,L,R=%s; out %dx%d" % (",".join(map(str, pads0)), expected.shape[1],
                                                   expected.shape[2])
        if mixed:
            note += "; mixed kernel sizes, one Keras layer per filter"
        if not keras_ok:
            note += "; Keras refuses stride>1 with dilation>1: float64 loop (checked vs stride-1 Keras subsampled)"
        if note_extra:
            note += "; " + note_extra

        write_npy(os.path.join(self.out_dir, name + "_in.npy"), img.astype(np.float32))
        write_npy(os.path.join(self.out_dir, name + "_out.npy"), expected.astype(np.float32))
        write_json(os.path.join(self.out_dir, name + "_bank.json"), bank, compact=True)
        self.cases.append({"name": name, "input": name + "_in.npy", "bank": name + "_bank.json",
                           "expected": name + "_out.npy", "reference": "keras" if keras_ok else "numpy",
                           "note": note})


def write_npy(path, arr):
    np.save(path, np.ascontiguousarray(arr, dtype="<f4"), allow_pickle=False)


def make_conv():
    out_dir = os.path.join(FIX, "conv")
    if os.path.isdir(out_dir):
        shutil.rmtree(out_dir)
    os.makedirs(out_dir)
    g = ConvGen(out_dir)
    rng = g.rng

    # 1. coverage: every padding mode x every padding value, once with stride > 1 (dilation 1)
    #    and once with dilation > 1 (stride alternating 1 / > 1).
    big_strides = [s for s in STRIDES if s != 1]
    big_dils = [d for d in DILATIONS if d != 1]
    n = 0
    for mode in MODES:
        for padding in PADDINGS:
            g.add(g.random_spec(mode=mode, padding=padding, stride=big_strides[n % 4], dilation=1))
            g.add(g.random_spec(mode=mode, padding=padding, dilation=big_dils[n % 3],
                                stride=1 if n % 2 == 0 else big_strides[(n // 2) % 4]))
            n += 1
    # every activation, kernel size and form with plain stride 1 / dilation 1
    for i, k in enumerate(KERNELS):
        g.add(g.random_spec(k=k, act=ACTS[i % 4], form=FORMS[i % 3], stride=1, dilation=1))
    for act in ACTS:
        for form in FORMS:
            g.add(g.random_spec(act=act, form=form))

    # 2. SAME with an asymmetric split (the extra row/column goes bottom/right)
    g.add(dict(H=6, W=6, C=2, kernels=[(3, 3)] * 2, stride=2, dilation=1, padding="same",
               mode="zeros", act="linear", form="HWIO"), note_extra="SAME 6/k3/s2: total 1 -> 0 top, 1 bottom")
    g.add(dict(H=6, W=6, C=3, kernels=[(3, 3)] * 1, stride=2, dilation=1, padding="same",
               mode="reflect", act="linear", form="filters"), note_extra="SAME 6/k3/s2 with reflect")
    g.add(dict(H=10, W=10, C=1, kernels=[(4, 4)] * 3, stride=1, dilation=1, padding="same",
               mode="zeros", act="linear", form="OIHW"), note_extra="SAME 10/k4/s1: total 3 -> 1 top, 2 bottom")
    g.add(dict(H=10, W=7, C=2, kernels=[(4, 4)] * 2, stride=1, dilation=1, padding="same",
               mode="replicate", act="relu", form="filters"), note_extra="SAME 10/k4/s1 with replicate")
    g.add(dict(H=3, W=224, C=1, kernels=[(1, 7)] * 2, stride=2, dilation=1, padding="same",
               mode="zeros", act="linear", form="HWIO"),
          note_extra="1-D-ish: 224 wide, k7 s2 SAME: total 5 -> 2 left, 3 right, out 112")
    g.add(dict(H=3, W=224, C=3, kernels=[(1, 7)], stride=[1, 2], dilation=1, padding="same",
               mode="circular", act="linear", form="OIHW"), note_extra="1-D-ish with circular")

    # 3. filters of different kernel sizes in one bank (per-filter SAME padding)
    g.add(dict(H=9, W=12, C=3, kernels=[(3, 3), (5, 5), (3, 3)], stride=1, dilation=1, padding="same",
               mode="zeros", act="linear", form="filters"))
    g.add(dict(H=11, W=8, C=1, kernels=[(5, 5), (3, 3)], stride=2, dilation=1, padding="same",
               mode="reflect", act="relu", form="filters"))

    # 4. a few more random ones
    while len(g.cases) < 80:
        g.add(g.random_spec())

    # 5. hand-checkable case: 2x2 ones over R=1, G=100, B=10000 -> 40404
    img = np.zeros((3, 3, 3), dtype=np.float32)
    img[:, :, 0], img[:, :, 1], img[:, :, 2] = 1, 100, 10000
    sp = dict(H=3, W=3, C=3, kernels=[(2, 2)], stride=1, dilation=1, padding="valid", mode="zeros",
              act="relu", form="filters")
    g.add(sp, name="ex40404", img=img, ws=[np.ones((3, 2, 2), dtype=np.float32)],
          bs=np.zeros(1, dtype=np.float32), note_extra="hand-checkable: every output is 4*(1+100+10000) = 40404")
    assert np.all(np.load(os.path.join(out_dir, "ex40404_out.npy")) == 40404)

    write_json(os.path.join(out_dir, "cases.json"), g.cases)

    # refused: reflect wider than image - 1
    refused = []
    w, b = g.weights(1, [(3, 3)], "linear")
    bank = bank_filters_form("r00", w, b, ["f0"], 1, 1, 3, "reflect", "linear")
    write_json(os.path.join(out_dir, "r00_bank.json"), bank, compact=True)
    refused.append({"input_shape": [3, 5, 1], "bank": "r00_bank.json",
                    "note": "reflect padding 3 on a 3-high image (at most 2 possible)"})
    w, b = g.weights(2, [(5, 5)], "linear")
    bank = bank_oihw(np.stack(w), b, None, 1, 1, "same", "reflect", "linear")
    write_json(os.path.join(out_dir, "r01_bank.json"), bank, compact=True)
    refused.append({"input_shape": [2, 6, 2], "bank": "r01_bank.json",
                    "note": "5x5 SAME reflect on a 2-high image: pads 2,2 > 1"})
    write_json(os.path.join(out_dir, "refused.json"), refused)

    # summary
    cov = {}
    for c in g.cases:
        bank = json.load(open(os.path.join(out_dir, c["bank"])))
        s, d = pair(bank["stride"]), pair(bank["dilation"])
        key = (bank["padding_mode"], fmt(bank["padding"]))
        cov.setdefault(key, [0, 0])
        cov[key][0] += max(s) > 1
        cov[key][1] += max(d) > 1
    missing = [k for k, v in cov.items() if not (v[0] and v[1])]
    assert len(cov) == len(MODES) * len(PADDINGS) and not missing, missing
    nk = sum(1 for c in g.checks if c[1] == "keras")
    print(f"conv: {len(g.cases)} cases ({nk} keras, {len(g.cases) - nk} numpy), {len(refused)} refused "
          f"-> {out_dir}")
    worst = max(g.checks, key=lambda c: c[3])
    print("conv: cross-check vs naive float64 loop: max abs diff %.3g, worst relative %.3g (%s)"
          % (max(c[2] for c in g.checks), worst[3], worst[0]))
    print("conv: max |keras - loop| / (max|input| * sum|w_f| + |b_f|) = %.3g"
          % max(c[4] for c in g.checks))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--only", choices=["testdata", "decode", "conv"])
    ap.add_argument("--testdata-src", default=os.path.join(os.path.dirname(ROOT), "shared", "testdata"))
    a = ap.parse_args()
    if a.only in (None, "testdata"):
        copy_testdata(a.testdata_src)
    if a.only in (None, "decode"):
        make_decode()
    if a.only in (None, "conv"):
        make_conv()


if __name__ == "__main__":
    main()
