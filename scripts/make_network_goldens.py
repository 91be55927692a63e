#!/usr/bin/env python3
"""Regenerate convbank's network goldens under Tests/ConvBankTests/Fixtures/networks/.

Run from the repository root:

    python3 scripts/make_network_goldens.py

Needs the same Python stack as scripts/make_goldens.py: Python 3.11, numpy 2.4.6, keras 3.15.1 + jax/jaxlib
0.10.2 (CPU), run with KERAS_BACKEND=jax (set here).

What it writes (paths relative to Tests/ConvBankTests/Fixtures/networks/):

input.npy             float32 (13, 11, 3), integer values 0..255: the image every network sees (raw samples).
input.png             the same image as an 8-bit RGB PNG (for the command-line tests).
pre_<mode>.npy        float32 (13, 11, 3): keras.applications.imagenet_utils.preprocess_input(input, mode=<mode>)
                      for mode caffe, tf, torch (numpy path, channels_last).
<net>.json            a Keras Sequential model of real Keras layers exported as a convbank network JSON:
                      Conv2D -> {"layout": "HWIO", "kernel", "bias", "stride", "padding", "activation"},
                      DepthwiseConv2D -> {"layout": "HWCM", "depthwise_kernel", "bias", ...},
                      MaxPooling2D / AveragePooling2D -> {"pool", "size", "stride", "padding"},
                      BatchNormalization -> {"batchnorm": {"gamma", "beta", "mean", "variance", "epsilon"}},
                      PReLU(shared_axes=[1, 2]) -> {"activation": "prelu", "alpha": [C]},
                      Activation / ReLU -> {"activation": NAME}.
                      The network's "preprocess" is applied to input.npy (preprocess_input) before the model runs.
<net>_<layer>.npy     float32 (H_out, W_out, C): that layer's Keras output (the model run on the preprocessed
                      input, inference mode).
cases.json            {"networks": [{"name", "file", "preprocess", "count_params", "layers": [{"name",
                      "output": file, "shape": [H, W, C], "params": layer.count_params()}]}],
                       "preprocess": [{"mode", "expected": file}]}.

Every weight comes from a fixed seed (batch-norm moving statistics and PReLU slopes are set to random values,
not the trivial defaults), so a rerun rewrites identical files.
"""

import json
import os
import struct
import sys
import zlib

os.environ.setdefault("KERAS_BACKEND", "jax")
os.environ.setdefault("JAX_PLATFORMS", "cpu")

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_goldens import FIX, f32num, write_json, write_npy  # noqa: E402

OUT = os.path.join(FIX, "networks")


def nested(a):
    """A float32 array as nested lists of JSON numbers (exact float32 values)."""
    if a.ndim == 0:
        return f32num(a)
    return [nested(x) for x in a]


def write_png_rgb(path, img):
    """An 8-bit RGB PNG of an (H, W, 3) uint8 array (no filter, zlib)."""
    h, w, _ = img.shape
    raw = b"".join(b"\x00" + img[y].astype(np.uint8).tobytes() for y in range(h))

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
    png += chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b"")
    with open(path, "wb") as f:
        f.write(png)


def pair(v):
    return list(v) if v[0] != v[1] else v[0]


def export_layer(layer):
    """A Keras layer as a convbank network layer object."""
    import keras
    cfg = layer.get_config()
    name = layer.name
    if isinstance(layer, keras.layers.DepthwiseConv2D):
        k, b = layer.get_weights()
        return {"name": name, "layout": "HWCM", "depthwise_kernel": nested(k), "bias": nested(b),
                "stride": pair(cfg["strides"]), "padding": cfg["padding"], "activation": cfg["activation"]}
    if isinstance(layer, keras.layers.Conv2D):
        k, b = layer.get_weights()
        return {"name": name, "layout": "HWIO", "kernel": nested(k), "bias": nested(b),
                "stride": pair(cfg["strides"]), "padding": cfg["padding"], "activation": cfg["activation"]}
    if isinstance(layer, (keras.layers.MaxPooling2D, keras.layers.AveragePooling2D)):
        kind = "max" if isinstance(layer, keras.layers.MaxPooling2D) else "average"
        return {"name": name, "pool": kind, "size": pair(cfg["pool_size"]), "stride": pair(cfg["strides"]),
                "padding": cfg["padding"]}
    if isinstance(layer, keras.layers.BatchNormalization):
        gamma, beta, mean, var = layer.get_weights()
        return {"name": name, "batchnorm": {"gamma": nested(gamma), "beta": nested(beta), "mean": nested(mean),
                                            "variance": nested(var), "epsilon": f32num(cfg["epsilon"])}}
    if isinstance(layer, keras.layers.PReLU):
        (alpha,) = layer.get_weights()
        return {"name": name, "activation": "prelu", "alpha": nested(alpha.reshape(-1))}
    if isinstance(layer, keras.layers.ReLU):
        return {"name": name, "activation": "relu"}
    if isinstance(layer, keras.layers.Activation):
        return {"name": name, "activation": cfg["activation"]}
    raise SystemExit(f"unsupported layer {layer}")


def randomize(layer, rng):
    """Non-trivial weights for every layer that has some (seeded)."""
    import keras
    weights = layer.get_weights()
    if not weights:
        return
    if isinstance(layer, keras.layers.BatchNormalization):
        c = weights[0].shape[0]
        layer.set_weights([rng.uniform(0.5, 1.5, c).astype("f4"), rng.uniform(-1, 1, c).astype("f4"),
                           rng.uniform(-2, 2, c).astype("f4"), rng.uniform(0.2, 3, c).astype("f4")])
    elif isinstance(layer, keras.layers.PReLU):
        layer.set_weights([rng.uniform(-0.5, 0.8, weights[0].shape).astype("f4")])
    else:
        # Conv kernels scaled so activations stay O(1..100) through the stack.
        k, b = weights
        fan_in = int(np.prod(k.shape[:-1])) if not isinstance(layer, keras.layers.DepthwiseConv2D) else int(np.prod(k.shape[:2]))
        layer.set_weights([(rng.standard_normal(k.shape) / np.sqrt(fan_in)).astype("f4"),
                           rng.uniform(-1, 1, b.shape).astype("f4")])


def networks():
    import keras
    L = keras.layers
    return [
        # Conv2D same -> max pool valid -> batchnorm -> PReLU -> Conv2D valid.
        ("net_a", "none", [
            L.Conv2D(6, 3, padding="same", activation="relu", name="conv1"),
            L.MaxPooling2D(2, name="pool1"),
            L.BatchNormalization(epsilon=0.001, name="bn1"),
            L.PReLU(shared_axes=[1, 2], name="prelu1"),
            L.Conv2D(4, 3, padding="valid", name="conv2"),
        ]),
        # Strided valid Conv2D -> average pool same (border windows count real pixels only) -> tanh ->
        # depthwise -> Conv2D 1x1.
        ("net_b", "tf", [
            L.Conv2D(5, (3, 2), strides=(2, 1), padding="valid", name="conv_s2"),
            L.AveragePooling2D(3, strides=2, padding="same", name="avg_same"),
            L.Activation("tanh", name="tanh"),
            L.DepthwiseConv2D(3, depth_multiplier=2, padding="same", activation="relu", name="dw"),
            L.Conv2D(4, 1, name="mix"),
        ]),
        # Preprocessing before same padding (torch), strided same Conv2D -> max pool same -> average pool valid
        # -> ReLU -> batchnorm -> Conv2D same.
        ("net_c", "torch", [
            L.Conv2D(8, 3, strides=2, padding="same", activation="linear", name="c1"),
            L.MaxPooling2D(3, strides=1, padding="same", name="mp_same"),
            L.AveragePooling2D(2, strides=1, padding="valid", name="ap_valid"),
            L.ReLU(name="relu"),
            L.BatchNormalization(epsilon=0.01, name="bn"),
            L.Conv2D(4, 3, padding="same", activation="sigmoid", name="c2"),
        ]),
        # caffe (BGR) before a same convolution whose border sees the mean-subtracted zeros.
        ("net_d", "caffe", [
            L.Conv2D(4, 5, padding="same", activation="relu", name="vggish"),
            L.MaxPooling2D(2, strides=2, padding="same", name="pool"),
        ]),
    ]


def main():
    import keras
    from keras.applications import imagenet_utils

    os.makedirs(OUT, exist_ok=True)
    rng = np.random.default_rng(20261130)
    img8 = rng.integers(0, 256, size=(13, 11, 3)).astype(np.uint8)
    img = img8.astype("f4")
    write_npy(os.path.join(OUT, "input.npy"), img)
    write_png_rgb(os.path.join(OUT, "input.png"), img8)

    cases = {"networks": [], "preprocess": []}
    for mode in ["caffe", "tf", "torch"]:
        pre = imagenet_utils.preprocess_input(img.copy(), mode=mode, data_format="channels_last")
        write_npy(os.path.join(OUT, f"pre_{mode}.npy"), pre)
        cases["preprocess"].append({"mode": mode, "expected": f"pre_{mode}.npy"})

    for net_name, preprocess, layers in networks():
        model = keras.Sequential([keras.Input(shape=img.shape)] + layers, name=net_name)
        for layer in model.layers:
            randomize(layer, rng)
        x = img.copy() if preprocess == "none" else imagenet_utils.preprocess_input(img.copy(), mode=preprocess)
        probe = keras.Model(model.inputs, [layer.output for layer in model.layers])
        outputs = probe.predict(x[None], verbose=0)
        doc = {"name": net_name, "preprocess": preprocess, "layers": [export_layer(layer) for layer in model.layers]}
        write_json(os.path.join(OUT, net_name + ".json"), doc, compact=True)
        entry = {"name": net_name, "file": net_name + ".json", "preprocess": preprocess,
                 "count_params": int(model.count_params()), "layers": []}
        for layer, out in zip(model.layers, outputs):
            file = f"{net_name}_{layer.name}.npy"
            write_npy(os.path.join(OUT, file), out[0])
            entry["layers"].append({"name": layer.name, "output": file, "shape": list(out[0].shape),
                                    "params": int(layer.count_params())})
        cases["networks"].append(entry)
    write_json(os.path.join(OUT, "cases.json"), cases)


if __name__ == "__main__":
    main()
