#!/usr/bin/env python3
"""Writes .npz and .safetensors weight files as NumPy and the safetensors library save them, and hostile ones,
for the `convbank import` readers' tests (WeightFileTests, ImportReaderCLITests).

    python3 scripts/make_reader_fixtures.py      # from the repository root; needs numpy and safetensors

Writes Tests/ConvBankTests/Fixtures/readers/:
  keras.npz              numpy.savez (stored, zip64 local headers): conv2d/kernel f32 (3,3,3,4) HWIO, conv2d/bias,
                         conv2d_1/kernel f64 (2,2,4,2), conv2d_1/bias, dense/kernel (8,3), dense/bias
  torch.npz              numpy.savez_compressed (deflated): conv1.weight f32 (4,3,3,3) OIHW, conv1.bias,
                         features.0.weight f16 (2,4,5,5) without a bias
  torch.safetensors      safetensors.numpy.save_file: conv1.weight F32 (4,3,3,2), conv1.bias F32, conv2.weight F16
                         (3,4,3,3), conv2.bias F16, bn.running_mean F64 (4,), step I64 ()
  bf16.safetensors       hand-written (NumPy has no bfloat16): conv.weight BF16 (2,1,3,3), conv.bias BF16
  depthwise.npz          numpy.savez: depthwise_conv2d/depthwise_kernel f32 (3,3,2,2) HWCM (Keras DepthwiseConv2D,
                         filter c·M + m reads channel c only), depthwise_conv2d/bias (4,)
  single.safetensors     one kernel named "w", shape (3,3,1,2): HWIO by shape alone, imported without --layer
  expected.json          {file: {layer: {"weights": [F][C][kh][kw], "bias": [F] | null, "layout": …}}}, worked out
                         here with NumPy transposes (bf16: the float32 whose top 16 bits were written)
Hostile files (each must be a one-line error, never a crash or a big allocation):
  bomb.npz               member a.npy declares 1,000 bytes; its deflate stream inflates to 16 MiB of zeros
  overlap.npz            200 central-directory entries all pointing at one local header (the overlapping zip bomb)
  huge.npz               member a.npy declares 4,000,000,000 bytes uncompressed (32-bit field), 20 compressed
  huge_shape.safetensors shape [1048576, 1048576, 1048576] with 4 bytes of data
  offsets.safetensors    data_offsets [0, 4096] in a file with 16 bytes of data
  overlap.safetensors    two tensors on the same 16 bytes
"""
import json
import os
import struct
import zlib

import numpy as np
from safetensors.numpy import save_file

OUT = os.path.join("Tests", "ConvBankTests", "Fixtures", "readers")
os.makedirs(OUT, exist_ok=True)
rng = np.random.default_rng(1313)


def canon(weights, layout):
    """[F][C][kh][kw] as nested lists of Python floats (exact: float64 holds every f16/f32 value)."""
    w = weights.astype(np.float64)
    if layout == "HWIO":
        w = w.transpose(3, 2, 0, 1)
    return w.tolist()


expected = {}

# numpy.savez: stored members, zip64 local headers.
k1 = rng.standard_normal((3, 3, 3, 4)).astype(np.float32)
b1 = rng.standard_normal(4).astype(np.float32)
k2 = rng.standard_normal((2, 2, 4, 2))
b2 = rng.standard_normal(2)
np.savez(os.path.join(OUT, "keras.npz"), **{"conv2d/kernel": k1, "conv2d/bias": b1, "conv2d_1/kernel": k2, "conv2d_1/bias": b2,
                                            "dense/kernel": np.ones((8, 3), np.float32), "dense/bias": np.zeros(3, np.float32)})
expected["keras.npz"] = {
    "conv2d/kernel": {"weights": canon(k1, "HWIO"), "bias": b1.astype(np.float64).tolist(), "layout": "HWIO"},
    "conv2d_1/kernel": {"weights": canon(k2, "HWIO"), "bias": b2.tolist(), "layout": "HWIO"},
}

# numpy.savez_compressed: deflated members.
w1 = rng.standard_normal((4, 3, 3, 3)).astype(np.float32)
c1 = rng.standard_normal(4).astype(np.float32)
w2 = rng.standard_normal((2, 4, 5, 5)).astype(np.float16)
np.savez_compressed(os.path.join(OUT, "torch.npz"), **{"conv1.weight": w1, "conv1.bias": c1, "features.0.weight": w2})
expected["torch.npz"] = {
    "conv1.weight": {"weights": canon(w1, "OIHW"), "bias": c1.astype(np.float64).tolist(), "layout": "OIHW"},
    "features.0.weight": {"weights": canon(w2, "OIHW"), "bias": None, "layout": "OIHW"},
}

# Keras DepthwiseConv2D: (kh, kw, C, M); filter c*M + m is kernel[:, :, c, m] on channel c alone.
dk = rng.standard_normal((3, 3, 2, 2)).astype(np.float32)
db = rng.standard_normal(4).astype(np.float32)
np.savez(os.path.join(OUT, "depthwise.npz"), **{"depthwise_conv2d/depthwise_kernel": dk, "depthwise_conv2d/bias": db})
expected["depthwise.npz"] = {"depthwise_conv2d/depthwise_kernel": {
    "weights": [[dk[:, :, c, m].astype(np.float64).tolist()] for c in range(2) for m in range(2)],
    "bias": db.astype(np.float64).tolist(), "layout": "HWCM", "groups": 2}}

# safetensors, torch-free numpy API.
s1 = rng.standard_normal((4, 3, 3, 2)).astype(np.float32)
t1 = rng.standard_normal(4).astype(np.float32)
s2 = rng.standard_normal((3, 4, 3, 3)).astype(np.float16)
t2 = rng.standard_normal(3).astype(np.float16)
save_file({"conv1.weight": s1, "conv1.bias": t1, "conv2.weight": s2, "conv2.bias": t2,
           "bn.running_mean": rng.standard_normal(4), "step": np.array(7, dtype=np.int64)},
          os.path.join(OUT, "torch.safetensors"))
expected["torch.safetensors"] = {
    "conv1.weight": {"weights": canon(s1, "OIHW"), "bias": t1.astype(np.float64).tolist(), "layout": "OIHW"},
    "conv2.weight": {"weights": canon(s2, "OIHW"), "bias": t2.astype(np.float64).tolist(), "layout": "OIHW"},
}

s3 = rng.standard_normal((3, 3, 1, 2)).astype(np.float32)
save_file({"w": s3}, os.path.join(OUT, "single.safetensors"))
expected["single.safetensors"] = {"w": {"weights": canon(s3, "HWIO"), "bias": None, "layout": "HWIO"}}


def safetensors_bytes(header, data):
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text + data


# bfloat16 by hand: the top 16 bits of float32 values (truncation), little-endian.
bf_w = rng.standard_normal((2, 1, 3, 3)).astype(np.float32)
bf_b = rng.standard_normal(2).astype(np.float32)
bits_w = (bf_w.view(np.uint32) >> 16).astype("<u2")
bits_b = (bf_b.view(np.uint32) >> 16).astype("<u2")
back = lambda bits: (bits.astype(np.uint32) << 16).view(np.float32).astype(np.float64)
data = bits_w.tobytes() + bits_b.tobytes()
with open(os.path.join(OUT, "bf16.safetensors"), "wb") as f:
    f.write(safetensors_bytes({"__metadata__": {"format": "pt"},
                               "conv.weight": {"dtype": "BF16", "shape": [2, 1, 3, 3], "data_offsets": [0, 36]},
                               "conv.bias": {"dtype": "BF16", "shape": [2], "data_offsets": [36, 40]}}, data))
expected["bf16.safetensors"] = {"conv.weight": {"weights": back(bits_w).tolist(), "bias": back(bits_b).tolist(), "layout": "OIHW"}}

with open(os.path.join(OUT, "expected.json"), "w") as f:
    json.dump(expected, f, indent=1)


# --- hostile files -------------------------------------------------------------------------------------------
def zip_bytes(members, central=None):
    """A zip of (name, method, crc, compressed bytes, declared size) members; `central` lists (name, member index)
    central-directory entries (default: one per member)."""
    out, offsets = b"", []
    for name, method, crc, data, size in members:
        offsets.append(len(out))
        n = name.encode()
        out += struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, method, 0, 0, crc, len(data), size, len(n), 0) + n + data
    start, directory = len(out), b""
    for name, i in central or [(m[0], i) for i, m in enumerate(members)]:
        _, method, crc, data, size = members[i]
        n = name.encode()
        directory += struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, method, 0, 0, crc, len(data), size, len(n), 0, 0, 0,
                                 0, 0, offsets[i]) + n
    count = len(central or members)
    return out + directory + struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, count, count, len(directory), start, 0)


def raw_deflate(data):
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    return c.compress(data) + c.flush()


zeros = bytes(16 << 20)
with open(os.path.join(OUT, "bomb.npz"), "wb") as f:
    f.write(zip_bytes([("a.npy", 8, zlib.crc32(zeros[:1000]), raw_deflate(zeros), 1000)]))

small = raw_deflate(bytes(1000))
with open(os.path.join(OUT, "overlap.npz"), "wb") as f:
    f.write(zip_bytes([("a.npy", 8, zlib.crc32(bytes(1000)), small, 1000)], central=[(f"m{i}.npy", 0) for i in range(200)]))

with open(os.path.join(OUT, "huge.npz"), "wb") as f:
    f.write(zip_bytes([("a.npy", 8, 0, raw_deflate(b"x"), 4_000_000_000)]))

with open(os.path.join(OUT, "huge_shape.safetensors"), "wb") as f:
    f.write(safetensors_bytes({"w": {"dtype": "F32", "shape": [1 << 20] * 3, "data_offsets": [0, 4]}}, bytes(4)))
with open(os.path.join(OUT, "offsets.safetensors"), "wb") as f:
    f.write(safetensors_bytes({"w": {"dtype": "F32", "shape": [1024], "data_offsets": [0, 4096]}}, bytes(16)))
with open(os.path.join(OUT, "overlap.safetensors"), "wb") as f:
    f.write(safetensors_bytes({"a": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]},
                               "b": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]}}, bytes(16)))
print("wrote", OUT)
