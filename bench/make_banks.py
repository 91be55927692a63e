#!/usr/bin/env python3
"""Writes the benchmark banks as convbank bank JSON (numpy only):

    python3 bench/make_banks.py [OUTDIR]      # default bench/banks

W1: the built-in `edges` bank (no file needed).
W2 (= W2dense for convbank: it finds the rank-1 structure itself): Gaussians sigma 2, 5, 10, size 2*ceil(3 sigma)+1,
    each the outer product of the normalised 1-D Gaussian, weight 1/3 on each of R, G, B; same padding, zeros.
W3: 64 filters 7x7x3, stride 2, same, relu, random normal weights (seed 13), as the anchors' CNN layer.
W5: VGG16 block 1 shape as a network: conv 3->64 3x3 same relu, conv 64->64 3x3 same relu, max-pool 2, with the
    anchors' seeded weights (He-normal scale, seed 5, OIHW) -- the same file as `anchors.py w5bank` prints.
"""
import json
import math
import os
import sys

import numpy as np

out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "banks")
os.makedirs(out, exist_ok=True)


def gauss1d(sigma):
    r = int(math.ceil(3 * sigma))
    x = np.arange(-r, r + 1, dtype=np.float64)
    g = np.exp(-(x * x) / (2.0 * sigma * sigma))
    return g / g.sum()


filters = []
for sigma in (2, 5, 10):
    g = gauss1d(sigma)
    k = (np.outer(g, g) / 3.0).astype(np.float32)
    filters.append({"name": f"gauss_s{sigma}", "weights": [k.tolist()] * 3, "bias": 0})
with open(os.path.join(out, "w2.json"), "w") as f:
    json.dump({"name": "w2-blur", "padding": "same", "padding_mode": "zeros", "filters": filters}, f)

rng = np.random.default_rng(13)
kernel = (rng.standard_normal((7, 7, 3, 64)) * 0.05).astype(np.float32)
bias = (rng.standard_normal(64) * 0.1).astype(np.float32)
with open(os.path.join(out, "w3.json"), "w") as f:
    json.dump({"name": "w3-cnn", "layout": "HWIO", "stride": 2, "padding": "same", "activation": "relu",
               "kernel": kernel.tolist(), "bias": bias.tolist()}, f)
rng = np.random.default_rng(5)
w1 = (rng.normal(0, 1, (64, 3, 3, 3)) * np.sqrt(2 / 27) / 255).astype(np.float32)
b1 = rng.normal(0, 0.05, 64).astype(np.float32)
w2 = (rng.normal(0, 1, (64, 64, 3, 3)) * np.sqrt(2 / 576)).astype(np.float32)
b2 = rng.normal(0, 0.05, 64).astype(np.float32)


def conv(name, w, b):
    return {"name": name, "layout": "OIHW", "weight": w.tolist(), "bias": b.tolist(), "padding": "same", "activation": "relu"}


with open(os.path.join(out, "w5.json"), "w") as f:
    json.dump({"name": "w5", "layers": [conv("block1_conv1", w1, b1), conv("block1_conv2", w2, b2),
                                        {"name": "block1_pool", "pool": "max", "size": 2, "stride": 2, "padding": "valid"}]}, f)
print("wrote", out)
