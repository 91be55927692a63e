#!/usr/bin/env python3
"""Regenerate convbank's per-channel goldens (`apply --per-channel`) under Tests/ConvBankTests/Fixtures/per_channel/.

Run from the repository root:

    python3 scripts/make_per_channel_goldens.py

Needs: Python 3.11, numpy, Pillow (PNG inputs and their decoding), and keras 3 + jax (CPU) for the reference
layer, run with KERAS_BACKEND=jax (set here). Versions used for the committed files are printed at the end and
recorded in cases.json ("versions"). It shares the contract helpers (padding arithmetic, the naive float64 loop)
with scripts/make_goldens.py.

Semantics checked: every filter of a one-channel bank runs on each colour channel on its own, as Keras
DepthwiseConv2D(depth_multiplier=1) with the filter's kernel and bias on every channel, then the activation.
The reference for each filter is one such Keras layer whose depthwise_kernel is the filter's kh x kw kernel
repeated over the C channels ((kh, kw, C, 1)) and whose bias is the filter's bias repeated C times; paddings
other than Keras's own "valid"/"same" with zeros are applied with numpy.pad first and the layer run "valid", as
make_goldens.py does. Where Keras refuses strides > 1 with dilation > 1, the naive float64 loop is the
reference. Every expected value is cross-checked against the naive float64 loop (make_goldens.naive_conv on
each channel alone); the script fails if they differ by more than 1e-5 of the sum of |terms|.

What it writes (paths relative to Tests/ConvBankTests/Fixtures/per_channel/):

cases.json      {"versions": {...}, "engine": [...], "cli": {...}}
  engine        list of {"name", "input", "bank", "expected", "reference", "exact", "note"}:
                  input     <name>_in.npy, float32 (H, W, C), integer values 0..255 (C = 1, 3 or 4: the engine
                            filters whatever channels it is given);
                  bank      <name>_bank.json, a one-channel bank (contract "filters" form);
                  expected  <name>_out.npy, float32 (F, H_out, W_out, C): per filter, channels last;
                  exact     true when the image is integer and the weights dyadic (k/8, |k| <= 32) and the bias a
                            multiple of 1/8, so every partial sum is exact in float32 and the engine must equal the
                            reference bit for bit.
  cli           {"bank": "cli_bank.json", "inputs": [{"file", "mode", "channels", "expected": {filter: file}}],
                 "levels": [{"file", "filter", "format", "normalize", "expected"}]}:
                  cli_bank.json          two one-channel filters, "blur" (3x3, positive dyadic weights, bias 1/2)
                                         and "edge" (3x3, signed dyadic weights, bias -4), same padding, zeros,
                                         linear: every value exact in float32;
                  cli_<mode>.png         7 x 9 (H x W) inputs written by Pillow: L (gray), LA (gray+alpha), RGB,
                                         RGBA, P (palette; libpng expands it to RGB);
                  cli_<mode>_<filter>.npy float32 (H, W, C) expected `--format npy` output, C = the input's colour
                                         channels (alpha dropped; gray gives (H, W, 1));
                  levels                 expected PNG samples (float32 npy (H, W, C) holding the integer levels) for
                                         the RGB and gray inputs under every --normalize, 8 and 16 bits, computed
                                         from the exact values with the contract's formulas: clamp and abs per
                                         sample; minmax and symmetric with ONE min/max (max|v|) over all channels
                                         of the filter's result; rounding half away from zero in float64.
"""

import json
import os
import sys

os.environ.setdefault("KERAS_BACKEND", "jax")
os.environ.setdefault("JAX_PLATFORMS", "cpu")

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_goldens import (  # noqa: E402  (helpers shared with the ordinary goldens)
    FIX, NP_MODE, f32num, keras_mod, naive_conv, pads_for, pair, write_json)

OUT = os.path.join(FIX, "per_channel")


def write_npy(path, array):
    np.save(path, np.ascontiguousarray(array.astype(np.float32)))


def bank_json(name, filters, stride, dilation, padding, mode, act):
    """filters: list of (name, (kh, kw) float32 kernel, float32 bias) -> the contract's "filters" form."""
    return {"name": name, "stride": stride, "dilation": dilation, "padding": padding, "padding_mode": mode,
            "activation": act,
            "filters": [{"name": n, "weights": [[[f32num(v) for v in row] for row in k]], "bias": f32num(b)}
                        for n, k, b in filters]}


def keras_depthwise(img, kernel, bias, stride, dilation, pads, mode, act):
    """One filter on every channel: keras.layers.DepthwiseConv2D(depth_multiplier=1). Returns (Ho, Wo, C)."""
    keras = keras_mod()
    H, W, C = img.shape
    kh, kw = kernel.shape
    x = img.astype(np.float32)
    if mode == "zeros" and pads == (0, 0, 0, 0):
        kpad = "valid"
    elif mode == "zeros" and pads == pads_for("same", (H, W), (kh, kw), stride, dilation):
        kpad = "same"
    else:
        t, b, l, r = pads
        x = np.pad(x, ((t, b), (l, r), (0, 0)), mode=NP_MODE[mode])
        kpad = "valid"
    layer = keras.layers.DepthwiseConv2D((kh, kw), strides=stride, padding=kpad, depth_multiplier=1,
                                         dilation_rate=dilation, activation=act, use_bias=True, dtype="float32")
    layer.build((1,) + x.shape)
    dk = np.repeat(kernel.astype(np.float32)[:, :, None, None], C, axis=2)  # (kh, kw, C, 1)
    layer.set_weights([dk, np.full(C, bias, dtype=np.float32)])
    return np.asarray(layer(x[None]))[0].astype(np.float32)


def naive_per_channel(img, kernel, bias, stride, dilation, pads, mode, act):
    """The naive float64 loop on each channel alone: (Ho, Wo, C) values and magnitudes."""
    outs, mags = [], []
    for c in range(img.shape[2]):
        o, m = naive_conv(img[:, :, c:c + 1], kernel[None].astype(np.float64), bias, stride, dilation, pads, mode, act)
        outs.append(o)
        mags.append(m)
    return np.stack(outs, axis=-1), np.stack(mags, axis=-1)


class Gen:
    def __init__(self):
        self.rng = np.random.default_rng(20260412)
        self.engine = []
        self.worst = 0.0

    def kernel(self, kh, kw, dyadic, rank1=False, scale=1.0):
        if dyadic:
            return (self.rng.integers(-32, 33, size=(kh, kw)) / 8.0).astype(np.float32)
        if rank1:
            u = self.rng.standard_normal((kh, 1))
            v = self.rng.standard_normal((1, kw))
            return (u * v * scale).astype(np.float32)
        return (self.rng.standard_normal((kh, kw)) * scale).astype(np.float32)

    def gaussian(self, sigma, radius):
        x = np.arange(-radius, radius + 1, dtype=np.float64)
        g = np.exp(-x * x / (2 * sigma * sigma))
        g /= g.sum()
        return np.outer(g, g).astype(np.float32)

    def case(self, note, H, W, C, filters, stride=1, dilation=1, padding="valid", mode="zeros", act="linear",
             exact=False):
        name = f"p{len(self.engine):03d}"
        img = self.rng.integers(0, 256, size=(H, W, C)).astype(np.float32)
        s, d = pair(stride), pair(dilation)
        expected, reference = [], "keras"
        for fname, k, b in filters:
            pads = pads_for(padding, (H, W), k.shape, s, d)
            naive, mag = naive_per_channel(img, k, b, s, d, pads, mode, act)
            if max(s) > 1 and max(d) > 1:
                ref, reference = naive.astype(np.float32), "numpy"
            else:
                ref = keras_depthwise(img, k, b, s, d, pads, mode, act)
            assert ref.shape == naive.shape, (name, ref.shape, naive.shape)
            err = np.max(np.abs(ref.astype(np.float64) - naive) / np.maximum(mag, 1.0))
            self.worst = max(self.worst, float(err))
            assert err <= 1e-5, f"{name}: keras and the naive loop differ by {err}"
            if exact:
                # Exact arithmetic: the float64 loop is the float32 value.
                assert np.all(naive == naive.astype(np.float32)), name
                ref = naive.astype(np.float32)
            expected.append(ref)
        write_npy(os.path.join(OUT, f"{name}_in.npy"), img)
        write_json(os.path.join(OUT, f"{name}_bank.json"), bank_json(name, filters, stride, dilation, padding, mode, act))
        write_npy(os.path.join(OUT, f"{name}_out.npy"), np.stack(expected))
        self.engine.append({"name": name, "input": f"{name}_in.npy", "bank": f"{name}_bank.json",
                            "expected": f"{name}_out.npy", "reference": reference, "exact": exact, "note": note})

    def make_engine(self):
        k = self.kernel
        self.case("RGB, 3x3 dyadic, bias 1/2, valid", 9, 11, 3, [("a", k(3, 3, True), 0.5)], exact=True)
        self.case("RGB, 3x3, bias -3, relu, same", 8, 10, 3, [("a", k(3, 3, False), -3.0)], padding="same", act="relu")
        self.case("RGB, 4x4 stride 2 same (asymmetric pads)", 9, 8, 3, [("a", k(4, 4, False), 2.0)], stride=2,
                  padding="same")
        self.case("RGB, 3x3 dilation 2, pads [1,2,0,3], reflect", 10, 9, 3, [("a", k(3, 3, False), 0.0)], dilation=2,
                  padding=[1, 2, 0, 3], mode="reflect")
        self.case("gray, 5x5 replicate same, tanh", 8, 9, 1, [("a", k(5, 5, False, scale=1 / 320), 0.25)],
                  padding="same", mode="replicate", act="tanh")
        self.case("4 channels, 3x2 circular, stride [2,1]", 7, 9, 4, [("a", k(3, 2, False), 1.0)], stride=[2, 1],
                  padding=1, mode="circular")
        self.case("RGB, 13x13 Gaussian sigma 2 (low-rank path) and a 3x3, same", 17, 19, 3,
                  [("gauss", self.gaussian(2.0, 6), 0.0), ("b", k(3, 3, False), 5.0)], padding="same")
        self.case("RGB, 9 filters 3x3 (a block of 8 and one), stride [2,1], relu, biases", 9, 10, 3,
                  [(f"f{i}", k(3, 3, True), float(i) - 4.5) for i in range(9)], stride=[2, 1], padding="same",
                  act="relu", exact=True)
        self.case("RGB, 7x7 rank-1 kernels, stride 2, reflect same", 12, 11, 3,
                  [("r1", k(7, 7, False, rank1=True), 1.5), ("r2", k(7, 7, False, rank1=True), -2.0)], stride=2,
                  padding="same", mode="reflect")
        self.case("RGB, 1x1 sigmoid", 5, 6, 3, [("s", np.array([[1 / 64]], dtype=np.float32), -2.0)],
                  act="sigmoid")
        self.case("RGB, 3x3 stride 2 dilation 2 (numpy reference), replicate", 11, 12, 3,
                  [("a", k(3, 3, False), 0.0)], stride=2, dilation=2, padding="same", mode="replicate")
        self.case("gray, 3x3 dyadic, valid", 6, 7, 1, [("a", k(3, 3, True), -0.125)], exact=True)

    # ---- through the CLI ------------------------------------------------------------------------

    def make_cli(self):
        from PIL import Image

        H, W = 7, 9
        blur = np.array([[1, 2, 1], [2, 4, 2], [1, 2, 1]], dtype=np.float32) / 16
        edge = np.array([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]], dtype=np.float32) / 2
        filters = [("blur", blur, 0.5), ("edge", edge, -4.0)]
        write_json(os.path.join(OUT, "cli_bank.json"), bank_json("pc", filters, 1, 1, "same", "zeros", "linear"))
        rgb = self.rng.integers(0, 256, size=(H, W, 3)).astype(np.uint8)
        # Channel ranges differ on purpose: G spans a narrow band, so a per-channel stretch would differ from the
        # joint one.
        rgb[:, :, 1] = 100 + rgb[:, :, 1] // 16
        alpha = self.rng.integers(0, 256, size=(H, W)).astype(np.uint8)
        gray = self.rng.integers(0, 256, size=(H, W)).astype(np.uint8)
        palette_rgb = (self.rng.integers(0, 256, size=(16, 3))).astype(np.uint8)
        index = self.rng.integers(0, 16, size=(H, W)).astype(np.uint8)
        images = {
            "L": Image.fromarray(gray, "L"),
            "LA": Image.fromarray(np.dstack([gray, alpha]), "LA"),
            "RGB": Image.fromarray(rgb, "RGB"),
            "RGBA": Image.fromarray(np.dstack([rgb, alpha]), "RGBA"),
        }
        p = Image.fromarray(index, "P")
        p.putpalette(palette_rgb.flatten().tolist() + [0] * (768 - 48))
        images["P"] = p
        inputs, levels = [], []
        for mode, im in images.items():
            file = f"cli_{mode.lower()}.png"
            im.save(os.path.join(OUT, file))
            back = Image.open(os.path.join(OUT, file))
            back.load()
            # The colour channels the contract keeps: alpha dropped, palette expanded.
            colours = back.convert("L" if mode in ("L", "LA") else "RGB")
            x = np.asarray(colours, dtype=np.float32)
            if x.ndim == 2:
                x = x[:, :, None]
            expected = {}
            for fname, k, b in filters:
                pads = pads_for("same", (H, W), k.shape, (1, 1), (1, 1))
                ref, _ = naive_per_channel(x, k, b, (1, 1), (1, 1), pads, "zeros", "linear")
                assert np.all(ref == ref.astype(np.float32)), "values must be exact"
                out = f"cli_{mode.lower()}_{fname}.npy"
                write_npy(os.path.join(OUT, out), ref)
                expected[fname] = out
                if mode in ("RGB", "L"):
                    for fmt, top in (("png", 255), ("png16", 65535)):
                        for norm in ("clamp", "abs", "minmax", "symmetric"):
                            lv = contract_levels(ref, norm, top)
                            lf = f"cli_{mode.lower()}_{fname}_{fmt}_{norm}.npy"
                            write_npy(os.path.join(OUT, lf), lv)
                            levels.append({"file": file, "filter": fname, "format": fmt, "normalize": norm,
                                           "expected": lf})
            inputs.append({"file": file, "mode": mode, "channels": int(x.shape[2]), "expected": expected})
        return {"bank": "cli_bank.json", "inputs": inputs, "levels": levels}


def contract_levels(v, norm, top):
    """The contract's --normalize on one filter's whole result (all channels together), float64."""
    v = v.astype(np.float64)

    def clip(t):
        t = np.where(np.isnan(t), 0, t)
        r = np.floor(t + 0.5)  # t >= 0 where it matters: half away from zero
        return np.clip(np.where(t > 0, r, 0), 0, top)

    if norm == "clamp":
        return clip(v)
    if norm == "abs":
        return clip(np.abs(v))
    if norm == "minmax":
        lo, hi = v.min(), v.max()
        if not hi > lo:
            return np.zeros_like(v)
        return clip((v - lo) * (top / (hi - lo)))
    if norm == "symmetric":
        m = np.abs(v).max()
        if m == 0:
            return np.full_like(v, clip(np.array(0.5 * top)))
        return clip((v / (2 * m) + 0.5) * top)
    raise ValueError(norm)


def main():
    import PIL
    os.makedirs(OUT, exist_ok=True)
    for f in os.listdir(OUT):
        os.remove(os.path.join(OUT, f))
    g = Gen()
    g.make_engine()
    cli = g.make_cli()
    keras = keras_mod()
    import jax
    versions = {"numpy": np.__version__, "keras": keras.__version__, "jax": jax.__version__, "pillow": PIL.__version__}
    write_json(os.path.join(OUT, "cases.json"), {"versions": versions, "engine": g.engine, "cli": cli})
    print(f"{len(g.engine)} engine cases, {len(cli['inputs'])} CLI inputs, {len(cli['levels'])} level files; "
          f"worst keras vs naive {g.worst:.2e}; {versions}")


if __name__ == "__main__":
    main()
