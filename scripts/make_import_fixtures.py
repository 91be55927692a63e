#!/usr/bin/env python3
"""Writes .npy weight files as Keras and PyTorch users save them, for `convbank import` tests.

    python3 scripts/make_import_fixtures.py      # from the repository root; needs numpy

Writes Tests/ConvBankTests/Fixtures/import/:
  keras_kernel.npy  float32 (3, 2, 3, 4)  HWIO, as layer.get_weights()[0]
  keras_bias.npy    float32 (4,)
  torch_weight.npy  float64 (4, 3, 3, 2)  OIHW, big-endian '>f8' (numpy.save keeps the byte order)
  torch_bias.npy    int16   (4,)
  expected.json     the canonical [F][C][kh][kw] weights and biases, worked out here with numpy transposes
"""
import json
import os

import numpy as np

OUT = os.path.join("Tests", "ConvBankTests", "Fixtures", "import")
os.makedirs(OUT, exist_ok=True)
rng = np.random.default_rng(2024)

kernel = rng.standard_normal((3, 2, 3, 4)).astype(np.float32)  # kh, kw, C, F
bias = rng.standard_normal(4).astype(np.float32)
np.save(os.path.join(OUT, "keras_kernel.npy"), kernel)
np.save(os.path.join(OUT, "keras_bias.npy"), bias)

weight = rng.standard_normal((4, 3, 3, 2)).astype(">f8")  # F, C, kh, kw
tbias = np.array([-3, 0, 7, 100], dtype=np.int16)
np.save(os.path.join(OUT, "torch_weight.npy"), weight)
np.save(os.path.join(OUT, "torch_bias.npy"), tbias)

expected = {
    "keras": {"weights": kernel.transpose(3, 2, 0, 1).astype(np.float64).tolist(), "bias": bias.astype(np.float64).tolist()},
    "torch": {"weights": weight.astype(np.float32).astype(np.float64).tolist(), "bias": tbias.astype(np.float64).tolist()},
}
with open(os.path.join(OUT, "expected.json"), "w") as f:
    json.dump(expected, f)
print("wrote", OUT)
