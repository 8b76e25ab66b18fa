"""webnn.export_onnx: graphs built in Python are exported, checked with the onnx package's
full checker and run in ONNX Runtime, whose results are compared with NumPy float64
references written here (cppnn computes nothing that is compared). MobileNetV2, imported
from ../shared and exported again, must match ONNX Runtime on the original file."""
import math

import numpy as np
import onnx
import onnxruntime as ort
import pytest
import webnn

RNG = np.random.default_rng(7)


def rand(shape, lo=-1.0, hi=1.0, dtype=np.float32):
    return RNG.uniform(lo, hi, shape).astype(dtype)


def session(graph, tmp_path, name="model.onnx"):
    """Exports to a file, checks it with onnx's own checker and opens it in ONNX Runtime."""
    path = tmp_path / name
    webnn.export_onnx(graph, path)
    model = onnx.load(str(path))
    onnx.checker.check_model(model, full_check=True)
    assert [(o.domain, o.version) for o in model.opset_import] == [("", 17)]
    assert model.producer_name == "cppnn"
    return ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])


def run_ort(sess, feeds):
    names = [o.name for o in sess.get_outputs()]
    return dict(zip(names, sess.run(None, feeds)))


def close(got, want, rtol=1e-4):
    assert got.shape == want.shape
    scale = max(1.0, float(np.max(np.abs(want))))
    np.testing.assert_allclose(got.astype(np.float64), want, rtol=rtol, atol=rtol * scale)


# ---- float64 references --------------------------------------------------------------------

def conv2d_ref(x, w, bias, pads, strides):
    """NCHW x, OIHW w; pads [beginH, endH, beginW, endW] (WebNN's order)."""
    x = np.pad(x.astype(np.float64), ((0, 0), (0, 0), (pads[0], pads[1]), (pads[2], pads[3])))
    n, c, h, wd = x.shape
    o, _, kh, kw = w.shape
    oh, ow = (h - kh) // strides[0] + 1, (wd - kw) // strides[1] + 1
    out = np.zeros((n, o, oh, ow))
    for i in range(oh):
        for j in range(ow):
            patch = x[:, :, i * strides[0]:i * strides[0] + kh, j * strides[1]:j * strides[1] + kw]
            out[:, :, i, j] = np.einsum("nchw,ochw->no", patch, w.astype(np.float64))
    return out + bias.astype(np.float64)[None, :, None, None]


def pool_ref(x, window, pads, strides, kind, ceil=False):
    """Max or average (padding excluded from the count) over NCHW windows."""
    n, c, h, w = x.shape
    size = [h + pads[0] + pads[1] - window[0], w + pads[2] + pads[3] - window[1]]
    rnd = math.ceil if ceil else math.floor
    oh, ow = rnd(size[0] / strides[0]) + 1, rnd(size[1] / strides[1]) + 1
    out = np.zeros((n, c, oh, ow))
    for i in range(oh):
        for j in range(ow):
            r0, c0 = i * strides[0] - pads[0], j * strides[1] - pads[2]
            r = slice(max(r0, 0), min(r0 + window[0], h))
            q = slice(max(c0, 0), min(c0 + window[1], w))
            block = x[:, :, r, q].astype(np.float64)
            out[:, :, i, j] = block.max(axis=(2, 3)) if kind == "max" else block.mean(axis=(2, 3))
    return out


def layer_norm_ref(x, scale, bias, eps=1e-5):
    x = x.astype(np.float64)
    mean = x.mean(axis=-1, keepdims=True)
    var = ((x - mean) ** 2).mean(axis=-1, keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * scale + bias


def softmax_ref(x, axis):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def gelu_ref(x):
    return 0.5 * x * (1 + np.vectorize(math.erf)(x / math.sqrt(2)))


def resample_ref(x, out_sizes, axes, mode):
    """The WebNN spec's mapping: scale = out / in, c = clamp((o + 0.5) / scale - 0.5)."""
    x = x.astype(np.float64)
    for axis, out in zip(axes, out_sizes):
        n = x.shape[axis]
        coords = np.clip((np.arange(out) + 0.5) * n / out - 0.5, 0, n - 1)
        if mode == "nearest-neighbor":
            x = np.take(x, np.ceil(coords - 0.5).astype(int), axis=axis)
        else:
            lo, hi = np.floor(coords).astype(int), np.ceil(coords).astype(int)
            t = (coords - lo).reshape([-1 if d == axis else 1 for d in range(x.ndim)])
            x = np.take(x, lo, axis=axis) * (1 - t) + np.take(x, hi, axis=axis) * t
    return x


# ---- graphs --------------------------------------------------------------------------------

def conv_net(b, w, bias):
    x = b.input("x", [2, 3, 9, 8], "float32")
    conv = b.conv2d(x, b.constant(w), padding=[1, 0, 2, 1], strides=[2, 1], bias=b.constant(bias))
    y = b.relu(conv)
    return b.build({
        "max": b.max_pool2d(y, window_dimensions=[2, 2], strides=[2, 2],
                            output_shape_rounding="ceil"),
        "avg": b.average_pool2d(y, window_dimensions=[3, 3], padding=[1, 1, 1, 1], strides=[2, 2]),
    })


@pytest.mark.parametrize("engine", [False, True], ids=["graph", "engine"])
def test_conv_relu_pool_net(tmp_path, engine):
    w, bias = rand((4, 3, 3, 3)), rand((4,))
    graph = conv_net(webnn.MLGraphBuilder(), w, bias)
    if engine:  # fused conv + bias + relu, in the model's NCHW
        graph = webnn.Engine.build(graph).graph
    x = rand((2, 3, 9, 8))
    got = run_ort(session(graph, tmp_path), {"x": x})
    y = np.maximum(conv2d_ref(x, w, bias, [1, 0, 2, 1], [2, 1]), 0)
    close(got["max"], pool_ref(y, [2, 2], [0, 0, 0, 0], [2, 2], "max", ceil=True))
    close(got["avg"], pool_ref(y, [3, 3], [1, 1, 1, 1], [2, 2], "avg"))


def test_nhwc_conv_with_hwio_filter(tmp_path):
    b = webnn.MLGraphBuilder()
    w = rand((4, 3, 3, 3))  # OIHW for the reference
    x = b.input("x", [1, 6, 7, 3], "float32")
    y = b.conv2d(x, b.constant(np.ascontiguousarray(w.transpose(2, 3, 1, 0))), padding=[1, 1, 0, 2],
                 input_layout="nhwc", filter_layout="hwio")
    xv = rand((1, 6, 7, 3))
    got = run_ort(session(b.build({"y": y}), tmp_path), {"x": xv})["y"]
    want = conv2d_ref(xv.transpose(0, 3, 1, 2), w, np.zeros(4), [1, 1, 0, 2], [1, 1])
    close(got, want.transpose(0, 2, 3, 1))


@pytest.mark.parametrize("engine", [False, True], ids=["graph", "engine"])
def test_transformer_block(tmp_path, engine):
    d, f = 8, 16
    p = {k: rand(s, -0.5, 0.5) for k, s in
         [("wq", (d, d)), ("wk", (d, d)), ("wv", (d, d)), ("w1", (d, f)), ("b1", (f,)),
          ("w2", (f, d)), ("g1", (d,)), ("be1", (d,)), ("g2", (d,)), ("be2", (d,))]}
    b = webnn.MLGraphBuilder()
    c = {k: b.constant(v) for k, v in p.items()}
    x = b.input("x", [2, 5, d], "float32")
    h = b.layer_normalization(x, scale=c["g1"], bias=c["be1"], axes=[2])
    q, k, v = (b.matmul(h, c[n]) for n in ("wq", "wk", "wv"))
    scores = b.div(b.matmul(q, b.transpose(k, permutation=[0, 2, 1])),
                   b.constant(np.array(math.sqrt(d), np.float32)))
    attn = b.add(x, b.matmul(b.softmax(scores, 2), v))
    h2 = b.layer_normalization(attn, scale=c["g2"], bias=c["be2"], axes=[2])
    ff = b.matmul(b.gelu(b.add(b.matmul(h2, c["w1"]), c["b1"])), c["w2"])
    graph = b.build({"y": b.add(attn, ff)})
    if engine:  # matmul + bias + gelu fused
        graph = webnn.Engine.build(graph).graph
    xv = rand((2, 5, d))
    got = run_ort(session(graph, tmp_path), {"x": xv})["y"]

    P = {k: v.astype(np.float64) for k, v in p.items()}
    x64 = xv.astype(np.float64)
    h = layer_norm_ref(x64, P["g1"], P["be1"])
    q, k, v = h @ P["wq"], h @ P["wk"], h @ P["wv"]
    attn = x64 + softmax_ref(q @ k.transpose(0, 2, 1) / math.sqrt(d), 2) @ v
    h2 = layer_norm_ref(attn, P["g2"], P["be2"])
    close(got, attn + gelu_ref(h2 @ P["w1"] + P["b1"]) @ P["w2"])


def test_logical_where_cast(tmp_path):
    b = webnn.MLGraphBuilder()
    a, c = b.input("a", [3, 4], "float32"), b.input("c", [4], "float32")
    p, q = b.input("p", [3, 4], "uint8"), b.input("q", [4], "uint8")
    i = b.input("i", [3, 4], "int32")
    gt = b.greater(a, c)
    graph = b.build({
        "gt": gt, "ne": b.not_equal(i, b.constant(np.array(2, np.int32))),
        "le": b.lesser_or_equal(a, c),
        "and": b.logical_and(p, q), "or": b.logical_or(p, q), "xor": b.logical_xor(p, q),
        "not_gt": b.logical_not(gt),
        "where": b.where(gt, a, c), "where_u8": b.where(p, i, b.constant(np.array(-1, np.int32))),
        "to_int": b.cast(b.mul(a, b.constant(np.array(10, np.float32))), "int32"),
        "to_f16": b.cast(i, "float16"), "u8_to_f": b.cast(p, "float32"),
    })
    av, cv = rand((3, 4), -2, 2), rand((4,), -2, 2)
    pv, qv = RNG.integers(0, 4, (3, 4)).astype(np.uint8), RNG.integers(0, 4, (4,)).astype(np.uint8)
    iv = RNG.integers(-3, 4, (3, 4)).astype(np.int32)
    got = run_ort(session(graph, tmp_path), {"a": av, "c": cv, "p": pv, "q": qv, "i": iv})
    pb, qb = pv != 0, qv != 0
    want = {
        "gt": av > cv, "ne": iv != 2, "le": av <= cv, "and": pb & qb, "or": pb | qb,
        "xor": pb ^ qb, "not_gt": ~(av > cv),
        "where": np.where(av > cv, av, np.broadcast_to(cv, (3, 4))),
        "where_u8": np.where(pb, iv, -1),
        "to_int": np.trunc(av.astype(np.float64) * 10),
        "to_f16": iv.astype(np.float64), "u8_to_f": pv.astype(np.float64),
    }
    dtypes = {"where": np.float32, "where_u8": np.int32, "to_int": np.int32,
              "to_f16": np.float16, "u8_to_f": np.float32}
    for name, w in want.items():
        assert got[name].dtype == dtypes.get(name, np.uint8), name  # logical results stay uint8
        np.testing.assert_array_equal(got[name].astype(np.float64), w.astype(np.float64), name)


def test_resample2d(tmp_path):
    b = webnn.MLGraphBuilder()
    x = b.input("x", [1, 2, 4, 5], "float32")
    n = b.input("n", [1, 4, 6, 2], "float32")
    u = b.input("u", [1, 1, 3, 4], "uint8")
    graph = b.build({
        "nearest_up": b.resample2d(x, scales=[1.5, 2.0]),
        "nearest_down": b.resample2d(x, sizes=[3, 2]),
        "linear": b.resample2d(x, mode="linear", sizes=[7, 3]),
        "linear_axes": b.resample2d(n, mode="linear", scales=[1.5, 0.5], axes=[1, 2]),
        # Scale 2: the weights are 1/4 and 3/4, so halves occur and must round to even.
        "linear_u8": b.resample2d(u, mode="linear", sizes=[6, 8]),
    })
    xv, nv = rand((1, 2, 4, 5)), rand((1, 4, 6, 2))
    uv = RNG.integers(0, 256, (1, 1, 3, 4)).astype(np.uint8)
    got = run_ort(session(graph, tmp_path), {"x": xv, "n": nv, "u": uv})
    np.testing.assert_array_equal(got["nearest_up"], resample_ref(xv, [6, 10], [2, 3], "nearest-neighbor"))
    np.testing.assert_array_equal(got["nearest_down"], resample_ref(xv, [3, 2], [2, 3], "nearest-neighbor"))
    close(got["linear"], resample_ref(xv, [7, 3], [2, 3], "linear"))
    close(got["linear_axes"], resample_ref(nv, [6, 3], [1, 2], "linear"))
    assert got["linear_u8"].dtype == np.uint8
    np.testing.assert_array_equal(got["linear_u8"], np.rint(resample_ref(uv, [6, 8], [2, 3], "linear")))


@pytest.mark.parametrize("mode,numpy_mode", [("constant", "constant"), ("edge", "edge"),
                                             ("reflection", "reflect")])
def test_pad_modes(tmp_path, mode, numpy_mode):
    b = webnn.MLGraphBuilder()
    x = b.input("x", [3, 4, 5], "float32")
    graph = b.build({"y": b.pad(x, [1, 0, 2], [2, 3, 1], mode=mode, value=1.5)})
    xv = rand((3, 4, 5))
    got = run_ort(session(graph, tmp_path), {"x": xv})["y"]
    kw = {"constant_values": 1.5} if mode == "constant" else {}
    np.testing.assert_array_equal(got, np.pad(xv, ((1, 2), (0, 3), (2, 1)), mode=numpy_mode, **kw))


def test_export_onnx_bytes_and_errors(tmp_path):
    b = webnn.MLGraphBuilder()
    graph = b.build({"y": b.relu(b.input("x", [2, 2], "float32"))})
    data = webnn.export_onnx_bytes(graph)
    assert isinstance(data, bytes)
    webnn.export_onnx(graph, str(tmp_path / "relu.onnx"))
    assert (tmp_path / "relu.onnx").read_bytes() == data
    onnx.checker.check_model(onnx.load_from_string(data), full_check=True)
    with pytest.raises(ValueError, match="missing"):
        webnn.export_onnx(graph, tmp_path / "missing" / "relu.onnx")
    with pytest.raises(RuntimeError, match="opset 16"):
        webnn.export_onnx_bytes(graph, opset=16)
    b = webnn.MLGraphBuilder()
    pooled = b.average_pool2d(b.input("x", [1, 1, 6, 6], "float32"), window_dimensions=[2, 2],
                              dilations=[2, 2], label="dilated")
    with pytest.raises(RuntimeError, match="node 'dilated' \\(averagePool2d\\)"):
        webnn.export_onnx_bytes(b.build({"y": pooled}))


# ---- every op family in ONNX Runtime: the exported file means what the WebNN graph means --

def _f(*shape, lo=-2.0, hi=2.0, dtype=np.float32):
    return np.random.default_rng(len(shape) * 31 + shape[-1]).uniform(lo, hi, shape).astype(dtype)


def _ints(lo, hi, shape, dtype):
    return np.random.default_rng(hi * 7 + len(shape)).integers(lo, hi, shape).astype(dtype)


REDUCTIONS = ["reduce_l1", "reduce_l2", "reduce_log_sum", "reduce_log_sum_exp", "reduce_max",
              "reduce_mean", "reduce_min", "reduce_product", "reduce_sum", "reduce_sum_square"]

OP_CASES = {
    "pooling": (lambda b, x: {
        "l2_ceil": b.l2_pool2d(x, window_dimensions=[2, 3], padding=[0, 1, 1, 0], strides=[3, 2],
                               output_shape_rounding="ceil"),
        "l2": b.l2_pool2d(x),
        "max": b.max_pool2d(x, window_dimensions=[3, 3], padding=[1, 1, 0, 0], strides=[2, 2],
                            dilations=[2, 1], output_shape_rounding="ceil"),
        "avg_sizes": b.average_pool2d(x, window_dimensions=[2, 2], strides=[2, 2],
                                      output_sizes=[4, 4]),
        "global_nhwc": b.average_pool2d(x, layout="nhwc")}, {"x": _f(2, 3, 7, 8)}),
    "conv_transpose2d": (lambda b, x, w: {
        "iohw": b.conv_transpose2d(x, b.constant(_f(3, 2, 3, 3)), padding=[1, 0, 0, 1],
                                   strides=[2, 2], output_padding=[1, 0]),
        "nhwc": b.conv_transpose2d(b.transpose(x, permutation=[0, 2, 3, 1]),
                                   b.constant(_f(3, 3, 2, 3)), strides=[2, 2],
                                   output_sizes=[10, 11], input_layout="nhwc",
                                   filter_layout="hwoi"),
        "ohwi": b.conv_transpose2d(x, w, groups=3, dilations=[2, 1], filter_layout="ohwi")},
        {"x": _f(1, 3, 4, 5), "w": _f(2, 3, 3, 3)}),
    "conv2d_layouts": (lambda b, x, w: {
        "ohwi": b.conv2d(x, w, filter_layout="ohwi", padding=[1, 0, 0, 1]),
        "ihwo": b.conv2d(x, b.constant(_f(1, 3, 3, 3)), groups=3, filter_layout="ihwo")},
        {"x": _f(1, 3, 6, 6), "w": _f(4, 2, 2, 3)}),
    "normalization": (lambda b, x, m, v: {
        "batch_axis3": b.batch_normalization(x, m, v, axis=3),
        "instance_nhwc": b.instance_normalization(x, layout="nhwc"),
        "layer_middle": b.layer_normalization(x, axes=[1], scale=b.constant(_f(3))),
        "layer_unsorted": b.layer_normalization(x, axes=[3, 1], scale=b.constant(_f(8, 3)),
                                                bias=b.constant(_f(8, 3, lo=-1))),
        "layer_none": b.layer_normalization(x, axes=[])},
        {"x": _f(2, 3, 7, 8), "m": _f(8), "v": _f(8, lo=0.5)}),
    "reductions": (lambda b, x: {
        f"{r}_{i}": getattr(b, r)(x, axes=axes, keep_dimensions=i == 1)
        for r in REDUCTIONS for i, axes in enumerate([[1], [2, 0], None, []])},
        {"x": _f(2, 3, 4, lo=0.5)}),
    "arg_cumulative_sum": (lambda b, x, i: {
        "arg_max": b.arg_max(x, 1),
        "arg_min": b.arg_min(x, 2, keep_dimensions=True, output_data_type="int64"),
        "cumsum": b.cumulative_sum(x, 1, exclusive=True, reversed=True),
        "cumsum_int": b.cumulative_sum(i, 0, exclusive=True)},
        {"x": _f(2, 3, 4), "i": _ints(-5, 5, (7,), np.int32)}),
    "data_movement": (lambda b, x, i, u: {
        "gather_clamped": b.gather(x, i), "gather_u32": b.gather(x, u, axis=1),
        "triangular": b.triangular(x, upper=False, diagonal=-1),
        "reverse": b.reverse(x, axes=[0, 2]), "tile": b.tile(x, [2, 1, 3]),
        "expand": b.expand(b.reshape(x, [2, 3, 4, 1]), [2, 3, 4, 5]),
        "split": b.split(x, [1, 2], axis=1)[1],
        "slice": b.slice(x, [0, 1, 1], [2, 2, 3], strides=[1, 2, 2]),
        "concat": b.concat([x, x], 2)},
        {"x": _f(2, 3, 4), "i": _ints(-4, 4, (2, 2), np.int32), "u": _ints(0, 7, (3,), np.uint32)}),
    "activations": (lambda b, x, s: {
        "hard_swish": b.hard_swish(x), "softplus": b.softplus(x), "softsign": b.softsign(x),
        "prelu_wide": b.prelu(s, b.constant(_f(3, 4))),
        "hard_sigmoid": b.hard_sigmoid(x, alpha=0.3, beta=0.4),
        "linear": b.linear(x, alpha=2, beta=1), "elu": b.elu(x, alpha=0.5),
        "leaky_relu": b.leaky_relu(x, alpha=0.2), "clamp": b.clamp(x, min_value=-1),
        "sigmoid": b.sigmoid(x), "tanh": b.tanh(x), "exp": b.exp(x), "sign": b.sign(x)},
        {"x": _f(2, 3, 4, lo=-4, hi=4), "s": _f(4)}),
    "integers": (lambda b, x, y, z: {
        "prelu": b.prelu(x, y), "div": b.div(x, b.constant(np.array(3, np.int32))),
        "clamp": b.clamp(x, min_value=-2, max_value=3),
        "pad": b.pad(x, [1], [2], mode="reflection"),
        "prelu_i8": b.prelu(z, b.constant(np.array([2, -1, 3], np.int8))),
        "resample_i8": b.resample2d(b.reshape(z, [1, 1, 1, 3]), sizes=[4, 5]),
        "max_pool_i8": b.max_pool2d(b.reshape(z, [1, 1, 1, 3]))},
        {"x": _ints(-9, 9, (6,), np.int32), "y": _ints(-3, 3, (6,), np.int32),
         "z": _ints(-9, 9, (3,), np.int8)}),
    "float16": (lambda b, x: {
        "matmul": b.matmul(x, b.constant(_f(4, 3).astype(np.float16))),
        "layer_norm": b.layer_normalization(x, axes=[1]), "softmax": b.softmax(x, 1),
        "gelu": b.gelu(x),
        "resample": b.resample2d(b.reshape(x, [1, 1, 5, 4]), mode="linear", sizes=[7, 3])},
        {"x": _f(5, 4, dtype=np.float16)}),
}


@pytest.mark.parametrize("name", list(OP_CASES))
def test_exported_ops_run_in_onnxruntime_as_in_cppnn(name, tmp_path):
    """Beyond the NumPy-referenced graphs above: ONNX Runtime on the exported file against
    cppnn on the graph, for the rest of the op table's families."""
    build, inputs = OP_CASES[name]
    b = webnn.MLGraphBuilder()
    graph = b.build(build(b, **{k: b.input(k, list(v.shape), v.dtype) for k, v in inputs.items()}))
    want = webnn.ML().create_context(accelerated=False).compute(graph, inputs)
    got = run_ort(session(graph, tmp_path), inputs)
    for key, w in want.items():
        assert got[key].dtype == w.dtype and got[key].shape == w.shape, key
        if np.issubdtype(w.dtype, np.integer):
            np.testing.assert_array_equal(got[key], w, key)
        else:  # float16: ONNX Runtime may compute in float16, one ulp off
            tol = 2e-3 if w.dtype == np.float16 else 1e-5
            np.testing.assert_allclose(got[key].astype(np.float64), w.astype(np.float64),
                                       rtol=tol, atol=tol, err_msg=key)


def model_feeds(path, dims):
    model = onnx.load(str(path), load_external_data=False)
    init = {i.name for i in model.graph.initializer}
    rng = np.random.default_rng(0)
    feeds = {}
    for inp in model.graph.input:
        if inp.name in init:
            continue
        t = inp.type.tensor_type
        shape = [d.dim_value if d.HasField("dim_value") else dims[d.dim_param] for d in t.shape.dim]
        dtype = onnx.helper.tensor_dtype_to_np_dtype(t.elem_type)
        if "mask" in inp.name:
            feeds[inp.name] = np.ones(shape, dtype)
            feeds[inp.name][..., -3:] = 0
        elif np.issubdtype(dtype, np.integer):
            feeds[inp.name] = rng.integers(1, 30000, shape).astype(dtype)
        else:
            feeds[inp.name] = rng.standard_normal(shape).astype(dtype)
    return feeds


MODELS = [("shared", "mobilenet_v2.onnx", {"N": 1}, False),
          ("shared", "mobilenet_v2.onnx", {"N": 1}, True),
          ("generated", "resnet50.onnx", {"N": 2}, True),
          ("generated", "bert_base.onnx", {"N": 1, "S": 16}, False)]


@pytest.mark.parametrize("where,name,dims,engine", MODELS,
                         ids=[f"{m[1]}-{'engine' if m[3] else 'graph'}" for m in MODELS])
def test_model_exported_matches_the_original(where, name, dims, engine, shared_models,
                                             generated_models, tmp_path):
    """Import, (optimize,) export, and run both files in ONNX Runtime."""
    original = (shared_models if where == "shared" else generated_models) / name
    if not original.exists():
        pytest.fail(f"{original} is missing (run `make models`)")
    graph = webnn.load_onnx(original, dim_values=dims)
    if engine:  # fused, channels-last, constants folded
        graph = webnn.Engine.build(graph).graph
    feeds = model_feeds(original, dims)
    got = run_ort(session(graph, tmp_path), feeds)
    want_sess = ort.InferenceSession(str(original), providers=["CPUExecutionProvider"])
    want = dict(zip([o.name for o in want_sess.get_outputs()], want_sess.run(None, feeds)))
    assert got.keys() == want.keys()
    for key in want:
        assert got[key].shape == want[key].shape
        err = float(np.linalg.norm(got[key].astype(np.float64) - want[key]) /
                    np.linalg.norm(want[key]))
        assert err < 1e-5, f"{key}: relative L2 error {err:.3g}"
