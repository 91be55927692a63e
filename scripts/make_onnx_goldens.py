#!/usr/bin/env python3
"""Writes small ONNX models and onnxruntime's outputs on them, for the ONNX reader of `convbank import`.

    python3 scripts/make_onnx_goldens.py      # from the repository root; needs onnx, onnxruntime, numpy
                                              # (tested with onnx 1.23.2, onnxruntime 1.32.0, numpy 2.4)

Writes Tests/ConvBankTests/Fixtures/onnx/:
  input.npy          float32 (12, 12, 3), H×W×C: the image every model reads (as NCHW (1, 3, 12, 12))
  stack.onnx         Conv(3→8, pads 1) → BatchNormalization → Relu → MaxPool(2, pads matching same) →
                     Conv(8→8, group 2, SAME_UPPER) → PRelu([8,1,1]) → Conv(8→6, dilation 2, pads [0,1,2,1]) →
                     AveragePool(2) → Flatten → Gemm; weights in raw_data
  stack_<node>.npy   onnxruntime's output of each runnable node (H×W×C), run on a copy of the graph that also
                     outputs the middle tensors (the fixture itself has the one Gemm output)
  photo.png          10×14 RGB, 8-bit; photo_pool1.npy, photo_pool3.npy: the stack's outputs on its raw samples
                     (0…255, as convbank decodes them), for `convbank apply` through the binary
  op_<name>.onnx     one op alone after a 3→4 Conv (so the network fixes its channel count); op_<name>.npy its output
  malformed/*.onnx   files the reader must refuse with a one-line error (see malformed() below)
  stops/*.onnx       models whose chain ends early, with the reason (see stops() below)
  cases.json         for each model: file, layers (name, golden), stop (layer, type) or null, convolutions (name, shape)

Weight storage varies on purpose: raw_data (numpy_helper.from_array), float_data (helper.make_tensor, raw=False),
a Constant node, FLOAT16 and DOUBLE initializers. onnxruntime runs float32 graphs only, so the FLOAT16/DOUBLE
fixtures are saved from a float32 graph whose weights are the exactly converted values, and the golden is that
float32 graph's output.
"""
import json
import os

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper

OUT = os.path.join("Tests", "ConvBankTests", "Fixtures", "onnx")
os.makedirs(os.path.join(OUT, "malformed"), exist_ok=True)
os.makedirs(os.path.join(OUT, "stops"), exist_ok=True)
rng = np.random.default_rng(1313)
H = W = 12
image = rng.uniform(-1, 1, (H, W, 3)).astype(np.float32)
np.save(os.path.join(OUT, "input.npy"), image)
nchw = image.transpose(2, 0, 1)[None]
OPSET = 17


def w(*shape, scale=0.5):
    return (rng.standard_normal(shape) * scale).astype(np.float32)


def model(nodes, inits, out_name, rank=4, name="g", opset=OPSET, inputs=None):
    graph = helper.make_graph(
        nodes, name,
        inputs or [helper.make_tensor_value_info("image", TensorProto.FLOAT, [1, 3, H, W])],
        [helper.make_tensor_value_info(out_name, TensorProto.FLOAT, [None] * rank)],
        initializer=inits)
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)], producer_name="make_onnx_goldens")
    m.ir_version = 8
    return m


def run(m, names):
    """onnxruntime's outputs `names` of model `m` (extra graph outputs added to a copy), as H×W×C arrays."""
    m2 = onnx.ModelProto()
    m2.CopyFrom(m)
    have = {o.name for o in m2.graph.output}
    for n in names:
        if n not in have:
            m2.graph.output.append(helper.make_tensor_value_info(n, TensorProto.FLOAT, [None] * 4))
    sess = ort.InferenceSession(m2.SerializeToString(), providers=["CPUExecutionProvider"])
    feed = {"image": nchw}
    for i in m2.graph.input[1:]:  # other inputs (a second image), zeros
        feed[i.name] = np.zeros([d.dim_value for d in i.type.tensor_type.shape.dim], np.float32)
    outs = sess.run(names, feed)
    return [o[0].transpose(1, 2, 0) for o in outs]


def save(m, path):
    onnx.checker.check_model(m)
    onnx.save(m, os.path.join(OUT, path))


cases = []


def case(file, m, layers, stop=None, convs=None, names=None):
    """Records model `m` (saved as `file`): layers = [(layer name, tensor name)], goldens from onnxruntime;
    names: the layers the reader must make, when more than those with goldens."""
    save(m, file)
    stem = file[:-5].replace("/", "_")
    outs = run(m, [t for _, t in layers]) if layers else []
    entries = []
    for (name, _), arr in zip(layers, outs):
        golden = f"{stem}_{name}.npy"
        np.save(os.path.join(OUT, golden), arr.astype(np.float32))
        entries.append({"name": name, "golden": golden, "shape": list(arr.shape)})
    if convs is None:
        convs = [[n.name or n.output[0], [int(d) for d in next(i.dims for i in m.graph.initializer if i.name == n.input[1])]]
                 for n in m.graph.node if n.op_type == "Conv"]
    cases.append({"file": file, "names": names or [n for n, _ in layers], "layers": entries, "stop": stop,
                  "convolutions": [{"name": c, "shape": s} for c, s in convs]})


# --- The stack -------------------------------------------------------------------------------------------------
def stack():
    inits = [
        numpy_helper.from_array(w(8, 3, 3, 3), "conv1.w"), numpy_helper.from_array(w(8, scale=0.1), "conv1.b"),
        numpy_helper.from_array(rng.uniform(0.5, 1.5, 8).astype(np.float32), "bn.scale"),
        numpy_helper.from_array(w(8, scale=0.2), "bn.B"),
        numpy_helper.from_array(w(8, scale=0.2), "bn.mean"),
        numpy_helper.from_array(rng.uniform(0.5, 2, 8).astype(np.float32), "bn.var"),
        numpy_helper.from_array(w(8, 4, 3, 3, scale=0.3), "conv2.w"), numpy_helper.from_array(w(8, scale=0.1), "conv2.b"),
        numpy_helper.from_array(rng.uniform(0.05, 0.4, (8, 1, 1)).astype(np.float32), "prelu.slope"),
        numpy_helper.from_array(w(6, 8, 3, 3, scale=0.3), "conv3.w"),
        numpy_helper.from_array(w(6 * 2 * 2, 5, scale=0.2), "fc.w"), numpy_helper.from_array(w(5, scale=0.1), "fc.b"),
    ]
    nodes = [
        helper.make_node("Conv", ["image", "conv1.w", "conv1.b"], ["c1"], name="conv1", pads=[1, 1, 1, 1], kernel_shape=[3, 3]),
        helper.make_node("BatchNormalization", ["c1", "bn.scale", "bn.B", "bn.mean", "bn.var"], ["b1"], name="bn1", epsilon=1e-3),
        helper.make_node("Relu", ["b1"], ["r1"], name="relu1"),
        # 12×12, 3×3 window, stride 2: same pads [0, 0, 1, 1] ([top, left, bottom, right]).
        helper.make_node("MaxPool", ["r1"], ["p1"], name="pool1", kernel_shape=[3, 3], strides=[2, 2], pads=[0, 0, 1, 1]),
        helper.make_node("Conv", ["p1", "conv2.w", "conv2.b"], ["c2"], name="block2/conv", group=2, auto_pad="SAME_UPPER"),
        helper.make_node("PRelu", ["c2", "prelu.slope"], ["a2"], name="block2/prelu"),
        helper.make_node("Conv", ["a2", "conv3.w"], ["c3"], name="", dilations=[2, 2], pads=[0, 1, 2, 1]),
        helper.make_node("AveragePool", ["c3"], ["p3"], name="pool3", kernel_shape=[2, 2], strides=[2, 2]),
        helper.make_node("Flatten", ["p3"], ["flat"], name="flatten"),
        helper.make_node("Gemm", ["flat", "fc.w", "fc.b"], ["logits"], name="fc"),
    ]
    m = model(nodes, inits, "logits", rank=2, name="stack")
    layers = [("conv1", "c1"), ("bn1", "b1"), ("relu1", "r1"), ("pool1", "p1"), ("block2_conv", "c2"),
              ("block2_prelu", "a2"), ("c3", "c3"), ("pool3", "p3")]
    case("stack.onnx", m, layers, stop={"layer": "flatten", "type": "Flatten"},
         convs=[["conv1", [8, 3, 3, 3]], ["block2_conv", [8, 4, 3, 3]], ["c3", [6, 8, 3, 3]]])


# --- One op at a time, after a 3→4 conv ------------------------------------------------------------------------
def single(name, op_nodes, extra_inits=(), conv_weights=None, conv_attrs=None, opset=OPSET, layer_names=None):
    cw = w(4, 3, 3, 3) if conv_weights is None else conv_weights
    inits = [numpy_helper.from_array(cw, "k"), numpy_helper.from_array(w(4, scale=0.1), "kb")] + list(extra_inits)
    nodes = [helper.make_node("Conv", ["image", "k", "kb"], ["x"], name="conv", **(conv_attrs or {}))] + op_nodes
    last = op_nodes[-1].output[0] if op_nodes else "x"
    m = model(nodes, inits, last, name=name, opset=opset)
    layers = [("conv", "x")] + [(n.name, n.output[0]) for n in op_nodes if n.op_type not in ("Identity", "Dropout")]
    return m, layers


def singles():
    ops = {
        "relu": [helper.make_node("Relu", ["x"], ["y"], name="act")],
        "sigmoid": [helper.make_node("Sigmoid", ["x"], ["y"], name="act")],
        "tanh": [helper.make_node("Tanh", ["x"], ["y"], name="act")],
        "elu": [helper.make_node("Elu", ["x"], ["y"], name="act")],
        "selu": [helper.make_node("Selu", ["x"], ["y"], name="act")],
        "softplus": [helper.make_node("Softplus", ["x"], ["y"], name="act")],
        "softsign": [helper.make_node("Softsign", ["x"], ["y"], name="act")],
        "hardsigmoid": [helper.make_node("HardSigmoid", ["x"], ["y"], name="act", alpha=1 / 6, beta=0.5)],
        "leakyrelu": [helper.make_node("LeakyRelu", ["x"], ["y"], name="act", alpha=0.1)],
        "leakyrelu02": [helper.make_node("LeakyRelu", ["x"], ["y"], name="act", alpha=0.2)],
        "clip6": [helper.make_node("Clip", ["x", "lo", "hi"], ["y"], name="act")],
        "identity_dropout": [helper.make_node("Identity", ["x"], ["i"], name="id"),
                             helper.make_node("Dropout", ["i"], ["d"], name="drop"),
                             helper.make_node("Relu", ["d"], ["y"], name="act")],
        "maxpool_same_upper": [helper.make_node("MaxPool", ["x"], ["y"], name="pool", kernel_shape=[3, 3], strides=[2, 2], auto_pad="SAME_UPPER")],
        "avgpool_same_pads": [helper.make_node("AveragePool", ["x"], ["y"], name="pool", kernel_shape=[3, 3], strides=[1, 1], pads=[1, 1, 1, 1])],
        "avgpool_valid_stride": [helper.make_node("AveragePool", ["x"], ["y"], name="pool", kernel_shape=[3, 2], strides=[2, 3], count_include_pad=1)],
        "prelu_c": [helper.make_node("PRelu", ["x", "slope"], ["y"], name="act")],
        "batchnorm": [helper.make_node("BatchNormalization", ["x", "s", "b", "m", "v"], ["y"], name="bn")],
    }
    extra = {
        "clip6": [numpy_helper.from_array(np.array(0, np.float32), "lo"), numpy_helper.from_array(np.array(6, np.float32), "hi")],
        "prelu_c": [numpy_helper.from_array(np.array([0.1, 0.2, 0.3, 0.4], np.float32).reshape(4, 1, 1), "slope")],
        "batchnorm": [numpy_helper.from_array(rng.uniform(0.5, 1.5, 4).astype(np.float32), "s"),
                      numpy_helper.from_array(w(4, scale=0.2), "b"), numpy_helper.from_array(w(4, scale=0.2), "m"),
                      numpy_helper.from_array(rng.uniform(0.5, 2, 4).astype(np.float32), "v")],
    }
    for name, nodes in ops.items():
        m, layers = single(name, nodes, extra.get(name, ()))
        case(f"op_{name}.onnx", m, layers)

    # Convolution forms: stride 2 with SAME_UPPER, SAME_LOWER, VALID, no bias, 1×5 kernel with dilation, depthwise.
    for name, attrs in {"conv_stride2_same_upper": {"strides": [2, 2], "auto_pad": "SAME_UPPER"},
                        "conv_same_lower": {"auto_pad": "SAME_LOWER", "strides": [2, 2]},
                        "conv_valid": {"auto_pad": "VALID"},
                        "conv_stride_pads": {"strides": [2, 1], "pads": [2, 0, 1, 3]}}.items():
        m, layers = single(name, [], conv_attrs=attrs)
        case(f"op_{name}.onnx", m, layers)
    # No bias, a 1×5 kernel, dilation [1, 2], weights in float_data.
    k = w(4, 3, 1, 5)
    nodes = [helper.make_node("Conv", ["image", "k"], ["x"], name="conv", dilations=[1, 2], pads=[0, 4, 0, 4])]
    m = model(nodes, [helper.make_tensor("k", TensorProto.FLOAT, k.shape, k.flatten().tolist())], "x", name="conv_float_data")
    case("op_conv_float_data.onnx", m, [("conv", "x")])
    # Depthwise 3→6 (group 3), weights from a Constant node.
    k = w(6, 1, 3, 3)
    nodes = [helper.make_node("Constant", [], ["k"], name="weights", value=numpy_helper.from_array(k, "k")),
             helper.make_node("Conv", ["image", "k"], ["x"], name="conv", group=3, pads=[1, 1, 1, 1])]
    m = model(nodes, [], "x", name="conv_constant_depthwise")
    case("op_conv_constant_depthwise.onnx", m, [("conv", "x")], convs=[["conv", [6, 1, 3, 3]]])
    # FLOAT16 and DOUBLE weights: the golden from the float32 graph of the same (exactly converted) values.
    k16 = w(4, 3, 3, 3).astype(np.float16)
    b16 = w(4, scale=0.1).astype(np.float16)
    nodes = [helper.make_node("Conv", ["image", "k", "kb"], ["x"], name="conv", pads=[1, 1, 1, 1])]
    m32 = model(nodes, [numpy_helper.from_array(k16.astype(np.float32), "k"), numpy_helper.from_array(b16.astype(np.float32), "kb")], "x", name="conv_float16")
    (golden,) = run(m32, ["x"])
    for name, inits in {"conv_float16": [numpy_helper.from_array(k16, "k"), numpy_helper.from_array(b16, "kb")],
                        "conv_float16_int32data": [helper.make_tensor("k", TensorProto.FLOAT16, k16.shape, k16.flatten().tolist()),
                                                   helper.make_tensor("kb", TensorProto.FLOAT16, b16.shape, b16.flatten().tolist())],
                        "conv_double": [numpy_helper.from_array(k16.astype(np.float64), "k"),
                                        helper.make_tensor("kb", TensorProto.DOUBLE, b16.shape, b16.astype(np.float64).tolist())]}.items():
        m = model(nodes, inits, "x", name=name)
        onnx.save(m, os.path.join(OUT, f"op_{name}.onnx"))  # not checked: ONNX wants float32 weights for a float32 Conv
        np.save(os.path.join(OUT, f"op_{name}_conv.npy"), golden)
        cases.append({"file": f"op_{name}.onnx", "names": ["conv"], "layers": [{"name": "conv", "golden": f"op_{name}_conv.npy", "shape": list(golden.shape)}],
                      "stop": None, "convolutions": [{"name": "conv", "shape": [4, 3, 3, 3]}]})
    # Clip with bounds from Constant nodes' value_float (as PyTorch exports ReLU6).
    m, layers = single("clip_constants", [helper.make_node("Constant", [], ["lo"], name="lo", value_float=0.0),
                                          helper.make_node("Constant", [], ["hi"], name="hi", value_float=6.0),
                                          helper.make_node("Clip", ["x", "lo", "hi"], ["y"], name="act")])
    case("op_clip_constants.onnx", m, [l for l in layers if l[0] not in ("lo", "hi")])
    # An input of unknown height and width: pads checked without the size (stride 1), SAME_UPPER pooling.
    dyn = [helper.make_tensor_value_info("image", TensorProto.FLOAT, [1, 3, "height", "width"])]
    inits = [numpy_helper.from_array(w(4, 3, 3, 3), "k")]
    nodes = [helper.make_node("Conv", ["image", "k"], ["x"], name="conv", pads=[1, 1, 1, 1]),
             helper.make_node("MaxPool", ["x"], ["p"], name="pool", kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
             helper.make_node("AveragePool", ["p"], ["y"], name="avg", kernel_shape=[2, 2], strides=[2, 2], auto_pad="SAME_UPPER")]
    m = model(nodes, inits, "y", name="dynamic", inputs=dyn)
    case("op_dynamic_size.onnx", m, [("conv", "x"), ("pool", "p"), ("avg", "y")])
    # Clip before opset 11: bounds as attributes.
    m, layers = single("clip_attrs", [helper.make_node("Clip", ["x"], ["y"], name="act", min=0.0, max=6.0)], opset=10)
    case("op_clip_attrs.onnx", m, layers)


# --- Stops: where the chain ends, and why ------------------------------------------------------------------------
def stops():
    def conv_then(name, nodes, inits=(), stop=None, layers=(("conv", "x"),)):
        m, _ = single(name, nodes, inits)
        case(f"stops/{name}.onnx", m, list(layers), stop=stop)

    conv_then("branch", [helper.make_node("Relu", ["x"], ["a"], name="relu_a"), helper.make_node("Sigmoid", ["x"], ["b"], name="sig_b"),
                         helper.make_node("Add", ["a", "b"], ["y"], name="add")],
              stop={"layer": "relu_a", "type": "Relu"})
    # A PRelu whose slope is a second graph input, not a weight.
    m, _ = single("slope_input", [helper.make_node("Relu", ["x"], ["a"], name="relu"), helper.make_node("PRelu", ["a", "other"], ["y"], name="prelu")])
    m.graph.input.append(helper.make_tensor_value_info("other", TensorProto.FLOAT, [4, 1, 1]))
    case("stops/slope_input.onnx", m, [("conv", "x"), ("relu", "a")], stop={"layer": "prelu", "type": "PRelu"})
    conv_then("maxpool_pads_not_same", [helper.make_node("MaxPool", ["x"], ["y"], name="pool", kernel_shape=[2, 2], strides=[2, 2], pads=[1, 1, 1, 1])],
              stop={"layer": "pool", "type": "MaxPool"})
    conv_then("maxpool_ceil", [helper.make_node("MaxPool", ["x"], ["y"], name="pool", kernel_shape=[3, 3], strides=[2, 2], ceil_mode=1)],
              stop={"layer": "pool", "type": "MaxPool"})
    conv_then("avgpool_count_pad", [helper.make_node("AveragePool", ["x"], ["y"], name="pool", kernel_shape=[3, 3], pads=[1, 1, 1, 1], count_include_pad=1)],
              stop={"layer": "pool", "type": "AveragePool"})
    conv_then("global_pool", [helper.make_node("Relu", ["x"], ["a"], name="relu"), helper.make_node("GlobalAveragePool", ["a"], ["y"], name="gap")],
              stop={"layer": "gap", "type": "GlobalAveragePool"}, layers=(("conv", "x"), ("relu", "a")))
    conv_then("clip_other", [helper.make_node("Clip", ["x", "lo", "hi"], ["y"], name="clip")],
              [numpy_helper.from_array(np.array(-1, np.float32), "lo"), numpy_helper.from_array(np.array(1, np.float32), "hi")],
              stop={"layer": "clip", "type": "Clip"})
    # Pooling pads on an input of unknown size with stride 2: whether they are same's depends on the size.
    dyn = [helper.make_tensor_value_info("image", TensorProto.FLOAT, [1, 3, "height", "width"])]
    nodes = [helper.make_node("Conv", ["image", "k"], ["x"], name="conv"),
             helper.make_node("MaxPool", ["x"], ["y"], name="pool", kernel_shape=[3, 3], strides=[2, 2], pads=[0, 0, 1, 1])]
    m = model(nodes, [numpy_helper.from_array(w(4, 3, 3, 3), "k")], "y", name="dynamic_pads", inputs=dyn)
    case("stops/pool_pads_unknown_size.onnx", m, [("conv", "x")], stop={"layer": "pool", "type": "MaxPool"})
    # A PRelu slope of shape [C] broadcasts over the last axis (W) by ONNX's numpy rules, not over channels.
    m, _ = single("prelu_vector", [helper.make_node("PRelu", ["x", "slope"], ["y"], name="prelu")],
                  [numpy_helper.from_array(np.array([0.1, 0.2, 0.3, 0.4], np.float32), "slope")])
    case("stops/prelu_vector.onnx", m, [], stop={"layer": "prelu", "type": "PRelu"}, names=["conv"])
    # A Conv after the stop still listed; one with external weights only a stop.
    k = w(4, 3, 3, 3)
    inits = [numpy_helper.from_array(k, "k"), numpy_helper.from_array(w(5, 4, 1, 1), "k2")]
    nodes = [helper.make_node("Conv", ["image", "k"], ["x"], name="conv"),
             helper.make_node("Mul", ["x", "x"], ["sq"], name="square"),
             helper.make_node("Conv", ["sq", "k2"], ["y"], name="after")]
    m = model(nodes, inits, "y", name="after_stop")
    case("stops/conv_after_stop.onnx", m, [("conv", "x")], stop={"layer": "square", "type": "Mul"},
         convs=[["conv", [4, 3, 3, 3]], ["after", [5, 4, 1, 1]]])
    # External data: the tensor points at a file that is not there.
    m = model([helper.make_node("Conv", ["image", "k"], ["x"], name="conv")], [numpy_helper.from_array(k, "k")], "x", name="external")
    t = m.graph.initializer[0]
    t.ClearField("raw_data")
    t.data_location = TensorProto.EXTERNAL
    t.external_data.add(key="location", value="weights.bin")
    onnx.save(m, os.path.join(OUT, "stops/external_data.onnx"))
    cases.append({"file": "stops/external_data.onnx", "names": [], "layers": [], "stop": {"layer": "conv", "type": "Conv"}, "convolutions": []})


# --- Malformed files ----------------------------------------------------------------------------------------------
def malformed():
    m, _ = single("base", [helper.make_node("Relu", ["x"], ["y"], name="act")])
    good = m.SerializeToString()
    files = {}
    files["truncated.onnx"] = good[: len(good) * 2 // 3]
    # Wrong wire type for ModelProto.graph (field 7): a varint where a message belongs.
    files["wrong_wire_type.onnx"] = bytes([0x08, 0x08, 0x38, 0x05])
    # raw_data shorter than the dims say.
    bad = onnx.ModelProto(); bad.CopyFrom(m)
    bad.graph.initializer[0].raw_data = bad.graph.initializer[0].raw_data[:-8]
    files["raw_data_short.onnx"] = bad.SerializeToString()
    # A huge declared dim (2^40) with a little data.
    bad = onnx.ModelProto(); bad.CopyFrom(m)
    bad.graph.initializer[0].dims[0] = 1 << 40
    files["huge_dim.onnx"] = bad.SerializeToString()
    # A negative dim.
    bad = onnx.ModelProto(); bad.CopyFrom(m)
    bad.graph.initializer[0].dims[1] = -3
    files["negative_dim.onnx"] = bad.SerializeToString()
    # dims whose product overflows 64 bits.
    bad = onnx.ModelProto(); bad.CopyFrom(m)
    del bad.graph.initializer[0].dims[:]
    bad.graph.initializer[0].dims.extend([1 << 31, 1 << 31, 1 << 31, 4])
    files["overflow_dims.onnx"] = bad.SerializeToString()
    # An attribute of the wrong type: group as a string.
    bad = onnx.ModelProto(); bad.CopyFrom(m)
    bad.graph.node[0].attribute.append(helper.make_attribute("group", "two"))
    files["attribute_type.onnx"] = bad.SerializeToString()
    # A graph without nodes; an input without a shape; deeply nested messages (a subgraph chain 200 deep).
    empty = model([], [], "image", name="empty")
    files["no_nodes.onnx"] = empty.SerializeToString()
    bad = onnx.ModelProto(); bad.CopyFrom(m)
    bad.graph.input[0].type.tensor_type.ClearField("shape")
    files["no_input_shape.onnx"] = bad.SerializeToString()
    nested = b""
    for _ in range(200):  # GraphProto.node (1) → NodeProto.attribute (5) → AttributeProto.g (6) → GraphProto …
        attr = bytes([0x32]) + varint(len(nested)) + nested          # AttributeProto.g
        node = bytes([0x2A]) + varint(len(attr)) + attr               # NodeProto.attribute
        nested = bytes([0x0A]) + varint(len(node)) + node             # GraphProto.node
    files["deep_nesting.onnx"] = bytes([0x08, 0x08, 0x3A]) + varint(len(nested)) + nested
    for name, data in files.items():
        with open(os.path.join(OUT, "malformed", name), "wb") as f:
            f.write(data)
    return sorted(files)


def varint(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def png_rgb8(path, pixels):
    """A plain 8-bit RGB PNG (no PIL needed): pixels is an H×W×3 uint8 array."""
    import struct, zlib
    h, w, _ = pixels.shape
    raw = b"".join(b"\x00" + pixels[y].tobytes() for y in range(h))
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
                + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def photo():
    """photo.png (10×14 RGB) and onnxruntime's stack outputs on its raw samples (0…255), for `convbank apply`."""
    pixels = rng.integers(0, 256, (10, 14, 3), dtype=np.uint8)
    png_rgb8(os.path.join(OUT, "photo.png"), pixels)
    m = onnx.load(os.path.join(OUT, "stack.onnx"))
    dims = m.graph.input[0].type.tensor_type.shape.dim
    dims[2].dim_value, dims[3].dim_value = 10, 14
    keep = [n for n in m.graph.node if n.op_type not in ("Flatten", "Gemm")]  # Gemm's weights fit 12×12 only
    del m.graph.node[:]
    m.graph.node.extend(keep)
    del m.graph.output[:]
    for name, tensor in [("pool1", "p1"), ("pool3", "p3")]:
        m.graph.output.append(helper.make_tensor_value_info(tensor, TensorProto.FLOAT, [None] * 4))
    sess = ort.InferenceSession(m.SerializeToString(), providers=["CPUExecutionProvider"])
    x = pixels.astype(np.float32).transpose(2, 0, 1)[None]
    p1, p3 = sess.run(["p1", "p3"], {"image": x})
    np.save(os.path.join(OUT, "photo_pool1.npy"), np.ascontiguousarray(p1[0].transpose(1, 2, 0)))
    np.save(os.path.join(OUT, "photo_pool3.npy"), np.ascontiguousarray(p3[0].transpose(1, 2, 0)))


stack()
photo()
singles()
stops()
bad = malformed()
with open(os.path.join(OUT, "cases.json"), "w") as f:
    json.dump({"input": "input.npy", "models": cases, "malformed": bad}, f, indent=1)
total = sum(os.path.getsize(os.path.join(d, n)) for d, _, ns in os.walk(OUT) for n in ns)
print(f"wrote {len(cases)} models, {len(bad)} malformed files, {total} bytes in {OUT}")
