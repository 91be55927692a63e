#!/usr/bin/env python3
"""Regenerate convbank's grouped-convolution goldens under Tests/ConvBankTests/Fixtures/grouped/.

Run from the repository root:

    python3 scripts/make_grouped_goldens.py

Needs the same Python stack as scripts/make_goldens.py (whose helpers it imports): Python 3.11,
numpy 2.4.6, keras 3.15.1 + jax/jaxlib 0.10.2 (CPU), run with KERAS_BACKEND=jax (set here).

What it writes (all paths relative to Tests/ConvBankTests/Fixtures/grouped/):

cases.json            list of {"name", "input", "bank", "expected", "reference", "note", "params", "kind",
                      "groups"}; file names relative to grouped/.
                        kind      "conv2d" (keras.layers.Conv2D(groups=G)) or "depthwise"
                                  (keras.layers.DepthwiseConv2D(depth_multiplier=M));
                        groups    the G the bank must load with (C for depthwise);
                        params    Keras's own layer.count_params() for the layer (kernel + bias);
                        reference "keras" (the Keras layer, JAX backend, float32) or "numpy" (naive float64 loop
                                  cast to float32; used where Conv2D refuses strides > 1 with dilation_rate > 1,
                                  cross-checked against a stride-1 Keras layer subsampled by the stride).
<name>_in.npy         float32 (H, W, C) input image, integer values 0..255.
<name>_bank.json      the bank, in one of four JSON forms:
                        "filters": {"groups": G, "filters": [{"name", "weights": [C/G][kh][kw], "bias"}]}
                                   (a one-channel kernel is sometimes written as the 2-D [kh][kw]);
                        "HWIO":    {"layout": "HWIO", "groups": G, "kernel": [kh][kw][C/G][F], "bias": [F]}
                                   = Keras Conv2D(groups=G).get_weights();
                        "OIHW":    {"layout": "OIHW", "groups": G, "weight": [F][C/G][kh][kw], "bias": [F]}
                                   = the HWIO kernel transposed (3, 2, 0, 1), PyTorch's grouped weight layout;
                        "HWCM":    {"layout": "HWCM", "depthwise_kernel": [kh][kw][C][M], "bias": [C*M]}
                                   = Keras DepthwiseConv2D.get_weights(); map c*M + m reads channel c.
                      Filter f of a grouped bank reads input channels g*C/G ... (g+1)*C/G - 1, g = floor(f*G/F).
<name>_out.npy        float32 (F, H_out, W_out): every filter map, activation applied.

Coverage: Conv2D with (C, G) in (2,2) (3,3) (4,2) (4,4) (6,2) (6,3) (6,6), each in the three Conv2D forms;
DepthwiseConv2D with C in 1, 2, 3, 4, 6 and M in 1..4; strides 1, 2, [2, 1]; dilations 1, 2; paddings valid,
same, 1, [0, 2, 1, 3]; padding modes zeros, reflect, replicate, circular (non-Keras paddings are applied with
numpy.pad first and the layer run with "valid", as make_goldens.py does); activations linear, relu, tanh;
kernels 1x1, 2x2, 3x3, 3x2, 1x3, 5x5 (some 5x5 kernels are exact rank-1 outer products, so an engine that
computes separable kernels as two 1-D passes takes that path); 8 and 16 filters per bank (blocks of
filters that share a group).

Every value comes from a fixed seed, so a rerun rewrites identical files. Each expected output is
cross-checked against the naive float64 loop; the script fails if they differ by more than 1e-5 of the sum of
|terms|.
"""

import json
import math
import os
import shutil
import sys

os.environ.setdefault("KERAS_BACKEND", "jax")
os.environ.setdefault("JAX_PLATFORMS", "cpu")

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_goldens import (  # noqa: E402  (helpers shared with the ungrouped goldens)
    FIX, NP_MODE, f32num, fmt, keras_mod, naive_conv, out_size, pad_ok, pads_for, pair, write_json, write_npy)

OUT = os.path.join(FIX, "grouped")

STRIDES = [1, 2, [2, 1]]
DILATIONS = [1, 2]
PADDINGS = ["valid", "same", 1, [0, 2, 1, 3]]
MODES = ["zeros", "reflect", "replicate", "circular"]
ACTS = ["linear", "relu", "tanh"]
KERNELS = [(3, 3), (2, 2), (3, 2), (1, 1), (1, 3), (5, 5)]
CG_PAIRS = [(2, 2), (3, 3), (4, 2), (4, 4), (6, 2), (6, 3), (6, 6)]
FORMS = ["filters", "HWIO", "OIHW"]


class Gen:
    def __init__(self):
        self.rng = np.random.default_rng(20250611)
        self.cases = []
        self.checks = []

    # ---- feasibility -----------------------------------------------------------------------------

    @staticmethod
    def feasible(sp):
        s, d = pair(sp["stride"]), pair(sp["dilation"])
        pads = pads_for(sp["padding"], (sp["H"], sp["W"]), sp["k"], s, d)
        if not pad_ok(sp["mode"], pads, sp["H"], sp["W"]):
            return False
        ho = out_size(sp["H"], sp["k"][0], s[0], d[0], pads[0], pads[1])
        wo = out_size(sp["W"], sp["k"][1], s[1], d[1], pads[2], pads[3])
        return ho >= 1 and wo >= 1

    def sized(self, sp):
        """Pick an image size (4..10) that makes the spec feasible."""
        for _ in range(1000):
            sp["H"], sp["W"] = int(self.rng.integers(4, 11)), int(self.rng.integers(4, 11))
            if self.feasible(sp):
                return sp
        raise RuntimeError(f"no feasible size for {sp}")

    # ---- weights ---------------------------------------------------------------------------------

    def weights(self, F, Cg, k, act, rank1=False):
        """F kernels of shape (Cg, kh, kw), float32; small for tanh so it does not saturate."""
        kh, kw = k
        n = Cg * kh * kw
        scale = 1.0 / (64.0 * math.sqrt(n)) if act == "tanh" else 1.0
        if rank1:
            u = self.rng.standard_normal((F, Cg, kh, 1))
            v = self.rng.standard_normal((F, Cg, 1, kw))
            w = (u * v * scale).astype(np.float32)
        else:
            w = (self.rng.standard_normal((F, Cg, kh, kw)) * scale).astype(np.float32)
        b = (self.rng.standard_normal(F) * (1.0 if act == "tanh" else 20.0)).astype(np.float32)
        return w, b

    # ---- references ------------------------------------------------------------------------------

    def keras_layer(self, sp, kind, G, F, M, kpad, stride, dilation):
        keras = keras_mod()
        k = sp["k"]
        if kind == "depthwise":
            return keras.layers.DepthwiseConv2D(k, strides=stride, padding=kpad, depth_multiplier=M,
                                                dilation_rate=dilation, activation=sp["act"], use_bias=True,
                                                dtype="float32")
        return keras.layers.Conv2D(F, k, strides=stride, padding=kpad, dilation_rate=dilation, groups=G,
                                   activation=sp["act"], use_bias=True, dtype="float32")

    def run_keras(self, sp, kind, img, keras_weights, G, F, M, stride, dilation, pads):
        """keras_weights = [kernel, bias] exactly as get_weights() returns them. Returns ((F, Ho, Wo), params, kpad)."""
        x = img.astype(np.float32)
        k = sp["k"]
        if sp["mode"] == "zeros" and pads == (0, 0, 0, 0):
            kpad = "valid"
        elif sp["mode"] == "zeros" and pads == pads_for("same", img.shape[:2], k, stride, dilation):
            kpad = "same"
        else:
            t, bo, l, r = pads
            x = np.pad(x, ((t, bo), (l, r), (0, 0)), mode=NP_MODE[sp["mode"]])
            kpad = "valid"
        layer = self.keras_layer(sp, kind, G, F, M, kpad, stride, dilation)
        layer.build((1,) + x.shape)
        assert [w.shape for w in layer.get_weights()] == [w.shape for w in keras_weights], \
            ([w.shape for w in layer.get_weights()], [w.shape for w in keras_weights])
        layer.set_weights(keras_weights)
        y = np.asarray(layer(x[None]))[0]
        return np.transpose(y, (2, 0, 1)).astype(np.float32), int(layer.count_params()), kpad

    # ---- one case --------------------------------------------------------------------------------

    def add(self, sp, note_extra=""):
        """sp: kind ("conv2d"|"depthwise"), C, G (conv2d), F (conv2d), M (depthwise), k, stride, dilation,
        padding, mode, act, form, H, W; optional rank1, flat (2-D one-channel kernels in the filters form)."""
        rng = self.rng
        name = "g%03d" % len(self.cases)
        kind, C, k = sp["kind"], sp["C"], sp["k"]
        H, W = sp["H"], sp["W"]
        stride, dilation = pair(sp["stride"]), pair(sp["dilation"])
        if kind == "depthwise":
            M = sp["M"]
            G, F = C, C * M
            form = "HWCM"
        else:
            M = None
            G, F = sp["G"], sp["F"]
            form = sp["form"]
        assert C % G == 0 and F % G == 0, sp
        Cg = C // G
        img = rng.integers(0, 256, size=(H, W, C)).astype(np.float32)
        w, b = self.weights(F, Cg, k, sp["act"], rank1=sp.get("rank1", False))  # w: (F, Cg, kh, kw)
        first = [(f * G // F) * Cg for f in range(F)]

        # Keras weights, as get_weights() returns them
        if kind == "depthwise":
            # DepthwiseConv2D kernel (kh, kw, C, M): output channel c*M + m = filter f reads channel c = f // M
            dk = np.zeros((k[0], k[1], C, M), dtype=np.float32)
            for f in range(F):
                dk[:, :, f // M, f % M] = w[f, 0]
            keras_w = [dk, b]
        else:
            keras_w = [np.ascontiguousarray(np.transpose(w, (2, 3, 1, 0))), b]  # HWIO (kh, kw, C/G, F)

        # bank JSON
        layer_keys = {"stride": sp["stride"], "padding": sp["padding"], "padding_mode": sp["mode"],
                      "dilation": sp["dilation"], "activation": sp["act"]}
        names = None
        if form == "filters":
            fnames = ["%s_%d" % (name, f) for f in range(F)]
            flat = sp.get("flat", False) and Cg == 1

            def kern(x):
                if flat:
                    return [[f32num(v) for v in row] for row in x[0]]
                return [[[f32num(v) for v in row] for row in ch] for ch in x]
            bank = {"name": name, **layer_keys, "groups": G,
                    "filters": [{"name": fn, "weights": kern(w[f]), "bias": f32num(b[f])}
                                for f, fn in enumerate(fnames)]}
        elif form == "HWIO":
            kk = keras_w[0]
            bank = {"name": name, "layout": "HWIO", "groups": G,
                    "kernel": [[[[f32num(v) for v in o] for o in c] for c in row] for row in kk],
                    "bias": [f32num(v) for v in b]}
        elif form == "OIHW":
            oihw = np.transpose(keras_w[0], (3, 2, 0, 1))  # (F, C/G, kh, kw), PyTorch's grouped layout
            assert np.array_equal(oihw, w)
            bank = {"name": name, "layout": "OIHW", "groups": G,
                    "weight": [[[[f32num(v) for v in row] for row in c] for c in f] for f in oihw],
                    "bias": [f32num(v) for v in b]}
        else:  # HWCM
            bank = {"name": name, "layout": "HWCM",
                    "depthwise_kernel": [[[[f32num(v) for v in m] for m in c] for c in row] for row in keras_w[0]],
                    "bias": [f32num(v) for v in b]}
        if form != "filters" and rng.integers(2):
            names = ["%s_%s" % (form.lower(), f) for f in range(F)]
            bank["names"] = names
        if form != "filters":
            bank.update(layer_keys)

        # the JSON numbers give back exactly the float32 weights and biases
        back = json.loads(json.dumps(bank))
        if form == "filters":
            bw = np.array([np.array(f["weights"], dtype=np.float32).reshape(Cg, *k) for f in back["filters"]])
            bb = np.array([f["bias"] for f in back["filters"]], dtype=np.float32)
        elif form == "HWIO":
            bw = np.array(back["kernel"], dtype=np.float32).transpose(3, 2, 0, 1)
            bb = np.array(back["bias"], dtype=np.float32)
        elif form == "OIHW":
            bw = np.array(back["weight"], dtype=np.float32)
            bb = np.array(back["bias"], dtype=np.float32)
        else:
            dk = np.array(back["depthwise_kernel"], dtype=np.float32)
            bw = np.array([dk[:, :, f // M, f % M][None] for f in range(F)])
            bb = np.array(back["bias"], dtype=np.float32)
        assert np.array_equal(bw, w) and np.array_equal(bb, b), name

        # reference: naive float64 loop per filter over its group's channels
        pads = pads_for(sp["padding"], (H, W), k, stride, dilation)
        naive, mags = [], []
        for f in range(F):
            o, m = naive_conv(img[:, :, first[f]:first[f] + Cg], w[f], b[f], stride, dilation, pads,
                              sp["mode"], sp["act"])
            naive.append(o)
            mags.append(m)
        naive, mags = np.stack(naive), np.stack(mags)

        # Conv2D refuses strides > 1 with dilation_rate > 1; DepthwiseConv2D (Keras 3.15) takes them.
        keras_ok = kind == "depthwise" or not (max(stride) > 1 and max(dilation) > 1)
        if keras_ok:
            kout, params, kpad = self.run_keras(sp, kind, img, keras_w, G, F, M, stride, dilation, pads)
        else:
            # Keras Conv2D refuses strides > 1 with dilation_rate > 1: check the loop against a
            # stride-1 Keras layer on the numpy-padded image, subsampled by the stride.
            t, bo, l, r = pads
            x = np.pad(img, ((t, bo), (l, r), (0, 0)), mode=NP_MODE[sp["mode"]])
            o1, params, kpad = self.run_keras(sp, kind, x, keras_w, G, F, M, (1, 1), dilation, (0, 0, 0, 0))
            kout = o1[:, ::stride[0], ::stride[1]]
            kpad = "stride-1 keras, subsampled"
        assert kout.shape == naive.shape, (name, kout.shape, naive.shape)
        expect_params = F * Cg * k[0] * k[1] + F
        assert params == expect_params, (name, params, expect_params)
        diff = np.abs(kout.astype(np.float64) - naive)
        rel = float(np.max(diff / np.maximum(mags, 1.0)))
        scale = np.array([float(np.abs(img).max()) * float(np.abs(w[f].astype(np.float64)).sum()) + abs(float(b[f]))
                          for f in range(F)])
        self.checks.append((name, "keras" if keras_ok else "numpy", float(diff.max()), rel,
                            float(np.max(diff / np.maximum(scale, 1.0)[:, None, None]))))
        if rel > 1e-5:
            raise AssertionError(f"{name}: Keras vs naive loop differ: max abs {diff.max()}, rel {rel}")
        expected = kout if keras_ok else naive.astype(np.float32)

        layer_text = ("DepthwiseConv2D(depth_multiplier=%d)" % M if kind == "depthwise"
                      else "Conv2D(filters=%d, groups=%d)" % (F, G))
        note = ("%s on %dx%dx%d, kernel %dx%d (C/G=%d), stride %s, dilation %s, padding %s, mode %s, %s, %s form"
                % (layer_text, H, W, C, k[0], k[1], Cg, fmt(sp["stride"]), fmt(sp["dilation"]),
                   fmt(sp["padding"]), sp["mode"], sp["act"], form))
        note += "; pads T,B,L,R=%s; out %dx%d; %d params" % (",".join(map(str, pads)), expected.shape[1],
                                                             expected.shape[2], params)
        if sp.get("rank1"):
            note += "; rank-1 (separable) kernels"
        if form == "filters" and sp.get("flat") and Cg == 1:
            note += "; one-channel kernels written 2-D"
        if not keras_ok:
            note += "; Keras refuses stride>1 with dilation>1: float64 loop (checked vs stride-1 Keras subsampled)"
        if note_extra:
            note += "; " + note_extra

        write_npy(os.path.join(OUT, name + "_in.npy"), img)
        write_npy(os.path.join(OUT, name + "_out.npy"), expected)
        write_json(os.path.join(OUT, name + "_bank.json"), bank, compact=True)
        self.cases.append({"name": name, "input": name + "_in.npy", "bank": name + "_bank.json",
                           "expected": name + "_out.npy", "reference": "keras" if keras_ok else "numpy",
                           "note": note, "params": params, "kind": kind, "groups": G})


def main():
    if os.path.isdir(OUT):
        shutil.rmtree(OUT)
    os.makedirs(OUT)
    g = Gen()
    rng = g.rng

    # 1. Conv2D(groups=G): every (C, G) pair in every JSON form, parameters cycling with co-prime periods
    #    (stride x dilation: period 6; padding x mode: period 16 over 21 cases).
    i = 0
    for C, G in CG_PAIRS:
        for form in FORMS:
            k = KERNELS[i % 5]
            F = G * (1 + i % 3)
            sp = dict(kind="conv2d", C=C, G=G, F=F, k=k, stride=STRIDES[i % 3], dilation=DILATIONS[(i // 3) % 2],
                      padding=PADDINGS[i % 4], mode=MODES[(i // 4) % 4], act=ACTS[(i // 2) % 3], form=form)
            g.add(g.sized(sp))
            i += 1

    # 2. DepthwiseConv2D(depth_multiplier=M), exported as HWCM
    dw = [(2, 1), (3, 1), (3, 2), (4, 1), (4, 3), (6, 2), (2, 4), (3, 3), (1, 3), (6, 1), (4, 2), (2, 2)]
    for j, (C, M) in enumerate(dw):
        k = KERNELS[(j + 2) % 5]
        sp = dict(kind="depthwise", C=C, M=M, k=k, stride=STRIDES[j % 3], dilation=DILATIONS[(j // 3) % 2],
                  padding=PADDINGS[(j + 1) % 4], mode=MODES[(j // 3 + 1) % 4], act=ACTS[j % 3])
        g.add(g.sized(sp), note_extra="groups = C = 1: an ordinary convolution" if C == 1 else "")

    # 3. fixed cases
    #    blocks of 8 / 4 filters that share a group (an engine batching filters must keep each block's channels)
    g.add(dict(kind="conv2d", C=4, G=2, F=16, k=(3, 3), stride=1, dilation=1, padding="same", mode="zeros",
               act="linear", form="HWIO", H=7, W=9), note_extra="16 filters, 8 per group")
    g.add(dict(kind="conv2d", C=6, G=3, F=12, k=(2, 2), stride=[2, 1], dilation=1, padding=1, mode="replicate",
               act="relu", form="OIHW", H=6, W=5), note_extra="12 filters, 4 per group")
    g.add(dict(kind="depthwise", C=2, M=8, k=(3, 3), stride=1, dilation=2, padding="same", mode="reflect",
               act="linear", H=8, W=8), note_extra="depth multiplier 8: 8 maps per channel")
    #    rank-1 5x5 kernels (separable path) in a grouped and a depthwise bank
    g.add(dict(kind="conv2d", C=4, G=2, F=4, k=(5, 5), stride=1, dilation=1, padding="same", mode="reflect",
               act="linear", form="filters", H=9, W=8, rank1=True))
    g.add(dict(kind="conv2d", C=6, G=6, F=6, k=(5, 5), stride=2, dilation=1, padding="valid", mode="zeros",
               act="relu", form="HWIO", H=10, W=9, rank1=True))
    g.add(dict(kind="depthwise", C=3, M=2, k=(5, 5), stride=1, dilation=1, padding=[0, 2, 1, 3], mode="circular",
               act="linear", H=7, W=8, rank1=True))
    #    SAME with the asymmetric split, stride 2, and the 2-D one-channel kernels in the per-filter form
    g.add(dict(kind="conv2d", C=3, G=3, F=6, k=(3, 3), stride=2, dilation=1, padding="same", mode="zeros",
               act="tanh", form="filters", H=6, W=6, flat=True), note_extra="SAME 6/k3/s2: pads 0 top, 1 bottom")
    g.add(dict(kind="depthwise", C=4, M=1, k=(3, 3), stride=[2, 1], dilation=2, padding="same", mode="replicate",
               act="relu", H=9, W=7))
    g.add(dict(kind="conv2d", C=6, G=2, F=2, k=(3, 2), stride=1, dilation=2, padding=[0, 2, 1, 3],
               mode="circular", act="linear", form="filters", H=6, W=5), note_extra="one filter per group")

    write_json(os.path.join(OUT, "cases.json"), g.cases)

    # coverage
    def seen(key):
        return {fmt(json.load(open(os.path.join(OUT, c["bank"])))[key]) for c in g.cases}
    banks = [json.load(open(os.path.join(OUT, c["bank"]))) for c in g.cases]
    assert {fmt(s) for s in STRIDES} <= seen("stride"), seen("stride")
    assert {fmt(d) for d in DILATIONS} <= seen("dilation")
    assert {fmt(p) for p in PADDINGS} <= seen("padding")
    assert set(ACTS) <= seen("activation")
    padded_modes = {b["padding_mode"] for b in banks if b["padding"] != "valid"}
    assert set(MODES) <= padded_modes, padded_modes
    pairs = {(json.load(open(os.path.join(OUT, c["input"].replace("_in.npy", "_bank.json")))).get("layout", "filters"),
              c["groups"]) for c in g.cases}
    nk = sum(1 for c in g.checks if c[1] == "keras")
    print(f"grouped: {len(g.cases)} cases ({nk} keras, {len(g.cases) - nk} numpy), "
          f"{sum(c['kind'] == 'depthwise' for c in g.cases)} depthwise -> {OUT}")
    print("grouped: forms x groups:", sorted(pairs))
    worst = max(g.checks, key=lambda c: c[3])
    print("grouped: cross-check vs naive float64 loop: max abs diff %.3g, worst relative %.3g (%s)"
          % (max(c[2] for c in g.checks), worst[3], worst[0]))
    print("grouped: max |reference - loop| / (max|input| * sum|w_f| + |b_f|) = %.3g" % max(c[4] for c in g.checks))


if __name__ == "__main__":
    main()
