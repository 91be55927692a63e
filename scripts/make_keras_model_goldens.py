#!/usr/bin/env python3
"""Regenerate convbank's Keras model-file fixtures under Tests/ConvBankTests/Fixtures/keras/.

Run from the repository root:

    python3 scripts/make_keras_model_goldens.py

Needs Python 3.11, numpy, h5py 3.16, keras 3.15.1 + jax (CPU), run with KERAS_BACKEND=jax (set here).

What it writes (relative to Tests/ConvBankTests/Fixtures/keras/):

input.npy              float32 (12, 10, 3), integer values 0..255: the image every model sees (raw samples).
stack.keras            model.save(): a Sequential model Input -> Conv2D(6, 3, same) -> BatchNormalization -> ReLU
                       -> MaxPooling2D(2) -> DepthwiseConv2D(3, depth_multiplier 2, same) -> PReLU(shared_axes [1, 2])
                       -> Conv2D(4, 3, valid, relu6) -> Dropout -> AveragePooling2D(2, strides 1, same) -> Flatten
                       -> Dense(3): convbank runs everything up to Flatten.
stack.h5               model.save("stack.h5"): the same model, legacy full-model HDF5 (model_config + model_weights).
stack.weights.h5       model.save_weights(): Keras 3 weights only (layers/<group>/vars/<i>).
stack_legacy.weights.h5  the Keras 2 weights-only layout (root attribute layer_names, weight_names per layer), as
                       keras.src.legacy.saving.legacy_h5_format.save_weights_to_hdf5_group writes it.
chain.keras, chain.h5  a Functional model: Input -> Rescaling(1/127.5, -1) -> Conv2D(4, 3, strides 2, same, tanh)
                       -> Conv2D(6, 3, groups 2, dilation 2, same, no bias) -> LeakyReLU(0.2)
                       -> BatchNormalization(scale=False) -> then a branch (two Conv2D reading the same layer) and
                       an Add: convbank runs up to the second branch conv ('right'), which reads 'bn', not 'left'.
<model>_<layer>.npy    float32 (H, W, C): that layer's Keras output on input.npy (inference mode).
keras2.h5              a full-model .h5 in tf.keras 2's layout written with h5py (see keras2_file): Keras 2 config
                       spellings and fixed-length byte-string attributes; goldens from the same layers in Keras 3.
bad_*.h5 / bad_*.keras malformed files: strings.weights.h5 (a kernel dataset of strings), huge.weights.h5 (a
                       dataset declaring 100000 x 100000 x 10 float32, no data written), config.h5 (model_config
                       is not JSON), noweights.keras (a .keras zip without model.weights.h5), badconfig.keras
                       (config.json is not JSON).
cases.json             {"models": [{"name", "files": [...], "stop": {"layer", "type"} or null, "count_params",
                       "layers": [{"name", "output": file, "shape": [H, W, C], "params"}],
                       "convolutions": [names of every conv layer]}]}.

Every weight comes from a fixed seed (batch-norm statistics and PReLU slopes random, not the defaults), so a
rerun rewrites the same values (HDF5 files carry no timestamps; the .keras zips do, so they change bytes only).
"""

import io
import json
import os
import zipfile

os.environ.setdefault("KERAS_BACKEND", "jax")
os.environ.setdefault("JAX_PLATFORMS", "cpu")

import h5py  # noqa: E402
import numpy as np  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "Tests", "ConvBankTests", "Fixtures", "keras")


def randomize(model, rng):
    import keras
    for layer in model.layers:
        weights = layer.get_weights()
        if not weights:
            continue
        if isinstance(layer, keras.layers.BatchNormalization):
            c = weights[-1].shape[0]
            new = []
            if layer.scale:
                new.append(rng.uniform(0.5, 1.5, c))
            if layer.center:
                new.append(rng.uniform(-1, 1, c))
            new += [rng.uniform(-2, 2, c), rng.uniform(0.2, 3, c)]
            layer.set_weights([w.astype("f4") for w in new])
        elif isinstance(layer, keras.layers.PReLU):
            layer.set_weights([rng.uniform(-0.5, 0.8, weights[0].shape).astype("f4")])
        else:
            layer.set_weights([rng.uniform(-0.5, 0.5, w.shape).astype("f4") for w in weights])


def goldens(model, name, image, runnable):
    import keras
    layers = []
    for layer_name in runnable:
        layer = model.get_layer(layer_name)
        probe = keras.Model(model.inputs, layer.output)
        out = np.asarray(probe(image[None], training=False))[0].astype("f4")
        file = f"{name}_{layer_name}.npy"
        np.save(os.path.join(OUT, file), out)
        layers.append({"name": layer_name, "output": file, "shape": list(out.shape), "params": int(layer.count_params())})
    return layers


def stack_model():
    import keras
    from keras import layers as L
    return keras.Sequential([
        keras.Input((12, 10, 3)),
        L.Conv2D(6, 3, padding="same", name="conv1"),
        L.BatchNormalization(name="bn1"),
        L.ReLU(name="relu1"),
        L.MaxPooling2D(2, name="pool1"),
        L.DepthwiseConv2D(3, depth_multiplier=2, padding="same", name="dw"),
        L.PReLU(shared_axes=[1, 2], name="prelu"),
        L.Conv2D(4, 3, activation="relu6", name="conv2"),
        L.Dropout(0.5, name="drop"),
        L.AveragePooling2D(2, strides=1, padding="same", name="avg"),
        L.Flatten(name="flatten"),
        L.Dense(3, name="dense"),
    ], name="stack")


def chain_model():
    import keras
    from keras import layers as L
    x = inp = keras.Input((12, 10, 3), name="image")
    x = L.Rescaling(1 / 127.5, offset=-1, name="scale")(x)
    x = L.Conv2D(4, 3, strides=2, padding="same", activation="tanh", name="c1")(x)
    x = L.Conv2D(6, 3, groups=2, dilation_rate=2, padding="same", use_bias=False, name="c2")(x)
    x = L.LeakyReLU(negative_slope=0.2, name="leaky")(x)
    x = L.BatchNormalization(scale=False, name="bn")(x)
    a = L.Conv2D(2, 1, name="left")(x)
    b = L.Conv2D(2, 1, name="right")(x)
    out = L.Add(name="add")([a, b])
    return keras.Model(inp, out, name="chain")


def keras2_file(image, rng):
    """A full-model .h5 in tf.keras 2's layout, written with h5py (no TensorFlow here): a functional model
    input_1 -> conv2d (4, 3x3, same, relu) -> depthwise_conv2d (3x3, valid) -> max_pooling2d (2) -> re_lu (max 6),
    Keras 2's config spellings (batch_input_shape, inbound_nodes as [[[name, 0, 0, {}]]]), byte-string attributes of
    fixed length (model_config, layer_names, weight_names), weights at model_weights/<layer>/<layer>/<name>:0.
    The goldens come from the same layers and weights built in Keras 3."""
    import keras
    from keras import layers as L
    k1 = rng.uniform(-0.5, 0.5, (3, 3, 3, 4)).astype("f4")
    b1 = rng.uniform(-0.5, 0.5, 4).astype("f4")
    k2 = rng.uniform(-0.5, 0.5, (3, 3, 4, 1)).astype("f4")
    b2 = rng.uniform(-0.5, 0.5, 4).astype("f4")
    x = inp = keras.Input((12, 10, 3))
    c = L.Conv2D(4, 3, padding="same", activation="relu", name="conv2d")
    d = L.DepthwiseConv2D(3, name="depthwise_conv2d")
    x = L.ReLU(max_value=6.0, name="re_lu")(L.MaxPooling2D(2, name="max_pooling2d")(d(c(x))))
    model = keras.Model(inp, x)
    c.set_weights([k1, b1])
    d.set_weights([k2, b2])

    def node(src):
        return [[[src, 0, 0, {}]]]
    layers = [
        {"class_name": "InputLayer", "config": {"batch_input_shape": [None, 12, 10, 3], "dtype": "float32", "sparse": False,
                                                "ragged": False, "name": "input_1"}, "name": "input_1", "inbound_nodes": []},
        {"class_name": "Conv2D", "config": {"name": "conv2d", "trainable": True, "dtype": "float32", "filters": 4, "kernel_size": [3, 3],
                                            "strides": [1, 1], "padding": "same", "data_format": "channels_last", "dilation_rate": [1, 1],
                                            "groups": 1, "activation": "relu", "use_bias": True},
         "name": "conv2d", "inbound_nodes": node("input_1")},
        {"class_name": "DepthwiseConv2D", "config": {"name": "depthwise_conv2d", "trainable": True, "dtype": "float32", "kernel_size": [3, 3],
                                                     "strides": [1, 1], "padding": "valid", "data_format": "channels_last",
                                                     "dilation_rate": [1, 1], "activation": "linear", "use_bias": True, "depth_multiplier": 1},
         "name": "depthwise_conv2d", "inbound_nodes": node("conv2d")},
        {"class_name": "MaxPooling2D", "config": {"name": "max_pooling2d", "trainable": True, "dtype": "float32", "pool_size": [2, 2],
                                                  "padding": "valid", "strides": [2, 2], "data_format": "channels_last"},
         "name": "max_pooling2d", "inbound_nodes": node("depthwise_conv2d")},
        {"class_name": "ReLU", "config": {"name": "re_lu", "trainable": True, "dtype": "float32", "max_value": 6.0, "negative_slope": 0.0,
                                          "threshold": 0.0}, "name": "re_lu", "inbound_nodes": node("max_pooling2d")},
    ]
    config = {"class_name": "Functional", "config": {"name": "model", "layers": layers, "input_layers": [["input_1", 0, 0]],
                                                     "output_layers": [["re_lu", 0, 0]]}, "keras_version": "2.11.0", "backend": "tensorflow"}
    weights = {"conv2d": [("kernel:0", k1), ("bias:0", b1)], "depthwise_conv2d": [("depthwise_kernel:0", k2), ("bias:0", b2)],
               "max_pooling2d": [], "re_lu": [], "input_1": []}
    order = ["input_1", "conv2d", "depthwise_conv2d", "max_pooling2d", "re_lu"]
    with h5py.File(os.path.join(OUT, "keras2.h5"), "w") as f:
        f.attrs["keras_version"] = b"2.11.0"
        f.attrs["backend"] = b"tensorflow"
        f.attrs["model_config"] = json.dumps(config).encode("utf8")
        g = f.create_group("model_weights")
        g.attrs["layer_names"] = np.array([n.encode() for n in order])
        for name in order:
            lg = g.create_group(name)
            lg.attrs["weight_names"] = np.array([f"{name}/{w}".encode() for w, _ in weights[name]], dtype="S")
            for w, value in weights[name]:
                lg.create_dataset(f"{name}/{w}", data=value)
    return goldens(model, "keras2", image, ["conv2d", "depthwise_conv2d", "max_pooling2d", "re_lu"]), int(model.count_params())


def write_bad():
    with h5py.File(os.path.join(OUT, "bad_strings.weights.h5"), "w", libver="latest") as f:
        g = f.create_group("layers/conv2d/vars")
        g.attrs["name"] = "conv"
        g.create_dataset("0", data=np.array([b"not", b"numbers"]))
    with h5py.File(os.path.join(OUT, "bad_huge.weights.h5"), "w", libver="latest") as f:
        g = f.create_group("layers/conv2d/vars")
        g.attrs["name"] = "conv"
        g.create_dataset("0", shape=(100000, 100000, 10, 1), dtype="f4", chunks=(1, 1, 10, 1))
    with h5py.File(os.path.join(OUT, "bad_config.h5"), "w", libver="latest") as f:
        f.attrs["model_config"] = "{\"class_name\": \"Sequential\", not json"
        f.create_group("model_weights").attrs["layer_names"] = np.array([], dtype="S1")
    with zipfile.ZipFile(os.path.join(OUT, "bad_noweights.keras"), "w") as z:
        z.writestr("config.json", json.dumps({"class_name": "Sequential", "config": {"name": "x", "layers": []}}))
        z.writestr("metadata.json", "{}")
    with zipfile.ZipFile(os.path.join(OUT, "bad_badconfig.keras"), "w") as z:
        z.writestr("config.json", "{\"class_name\": ")
        buf = io.BytesIO()
        with h5py.File(buf, "w") as f:
            f.create_group("layers")
        z.writestr("model.weights.h5", buf.getvalue())


def main():
    import keras
    from keras.src.legacy.saving import legacy_h5_format
    os.makedirs(OUT, exist_ok=True)
    rng = np.random.default_rng(20261130)
    image = rng.integers(0, 256, (12, 10, 3)).astype("f4")
    np.save(os.path.join(OUT, "input.npy"), image)
    cases = []

    m = stack_model()
    randomize(m, rng)
    m.save(os.path.join(OUT, "stack.keras"))
    m.save(os.path.join(OUT, "stack.h5"))
    m.save_weights(os.path.join(OUT, "stack.weights.h5"))
    with h5py.File(os.path.join(OUT, "stack_legacy.weights.h5"), "w") as f:
        legacy_h5_format.save_weights_to_hdf5_group(f, m)
    runnable = ["conv1", "bn1", "relu1", "pool1", "dw", "prelu", "conv2", "avg"]  # drop is skipped
    cases.append({"name": "stack", "files": ["stack.keras", "stack.h5"], "stop": {"layer": "flatten", "type": "Flatten"},
                  "count_params": int(m.count_params()), "layers": goldens(m, "stack", image, runnable),
                  "convolutions": ["conv1", "dw", "conv2"]})

    m = chain_model()
    randomize(m, rng)
    m.save(os.path.join(OUT, "chain.keras"))
    m.save(os.path.join(OUT, "chain.h5"))
    runnable = ["c1", "c2", "leaky", "bn", "left"]
    cases.append({"name": "chain", "files": ["chain.keras", "chain.h5"], "stop": {"layer": "right", "type": "Conv2D"},
                  "count_params": int(m.count_params()), "layers": goldens(m, "chain", image, runnable),
                  "convolutions": ["c1", "c2", "left", "right"]})

    layers, params = keras2_file(image, rng)
    cases.append({"name": "model", "files": ["keras2.h5"], "stop": None, "count_params": params, "layers": layers,
                  "convolutions": ["conv2d", "depthwise_conv2d"]})

    write_bad()
    with open(os.path.join(OUT, "cases.json"), "w") as f:
        json.dump({"models": cases}, f, indent=1)
        f.write("\n")
    total = sum(os.path.getsize(os.path.join(OUT, n)) for n in os.listdir(OUT))
    print(f"wrote {len(os.listdir(OUT))} files, {total} bytes, under {OUT}")


if __name__ == "__main__":
    main()
