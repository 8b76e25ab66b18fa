"""Code as rustnn's Python API (pywebnn) users write it, run on cppnn's webnn package.

Each test is written the way rustnn's examples and tests write code (ML(), create_context
with device_type, constant(value, shape, data_type), pads=..., where_, pad(x, flat), ...)
and checks the values against numpy in float64. The spec's spellings of the same things are
checked beside them, so that both keep working.
"""
import asyncio

import numpy as np
import pytest

import webnn

RNG = np.random.default_rng(7)


@pytest.fixture
def ml():
    return webnn.ML()


@pytest.fixture
def context(ml):
    return ml.create_context(accelerated=False)


def rand(*shape):
    return RNG.standard_normal(shape).astype(np.float32)


def close(actual, expected, tol=1e-5):
    np.testing.assert_allclose(np.asarray(actual, np.float64), expected, rtol=tol, atol=tol)


# ---- numpy float64 references -------------------------------------------------------


def conv2d_ref(x, w, padding, strides=(1, 1), dilations=(1, 1)):
    """NCHW input, OIHW filter, padding [top, bottom, left, right] (the spec's order)."""
    x = np.pad(x.astype(np.float64), ((0, 0), (0, 0), padding[0:2], padding[2:4]))
    n, c, h, wd = x.shape
    o, _, kh, kw = w.shape
    eh, ew = dilations[0] * (kh - 1) + 1, dilations[1] * (kw - 1) + 1
    oh, ow = (h - eh) // strides[0] + 1, (wd - ew) // strides[1] + 1
    out = np.zeros((n, o, oh, ow))
    for i in range(oh):
        for j in range(ow):
            patch = x[:, :, i * strides[0]:i * strides[0] + eh:dilations[0],
                      j * strides[1]:j * strides[1] + ew:dilations[1]]
            out[:, :, i, j] = np.einsum("nchw,ochw->no", patch, w.astype(np.float64))
    return out


def conv_transpose2d_ref(x, w, padding, strides):
    """NCHW input, IOHW filter (the spec's default), padding [top, bottom, left, right]."""
    n, c, h, wd = x.shape
    _, o, kh, kw = w.shape
    full = np.zeros((n, o, (h - 1) * strides[0] + kh, (wd - 1) * strides[1] + kw))
    for i in range(h):
        for j in range(wd):
            full[:, :, i * strides[0]:i * strides[0] + kh, j * strides[1]:j * strides[1] + kw] += \
                np.einsum("nc,cohw->nohw", x[:, :, i, j].astype(np.float64), w.astype(np.float64))
    return full[:, :, padding[0]:full.shape[2] - padding[1], padding[2]:full.shape[3] - padding[3]]


def pool2d_ref(x, window, padding, strides, kind):
    """padding [top, bottom, left, right]; average excludes the padding, max ignores it."""
    fill = -np.inf if kind == "max" else np.nan
    x = np.pad(x.astype(np.float64), ((0, 0), (0, 0), padding[0:2], padding[2:4]),
               constant_values=fill)
    n, c, h, w = x.shape
    oh, ow = (h - window[0]) // strides[0] + 1, (w - window[1]) // strides[1] + 1
    out = np.zeros((n, c, oh, ow))
    for i in range(oh):
        for j in range(ow):
            win = x[:, :, i * strides[0]:i * strides[0] + window[0],
                    j * strides[1]:j * strides[1] + window[1]]
            out[:, :, i, j] = win.max(axis=(2, 3)) if kind == "max" else np.nanmean(win, axis=(2, 3))
    return out


# ---- context creation -----------------------------------------------------------------


def test_create_context_rustnn_signature(ml):
    context = ml.create_context(power_preference="high-performance", accelerated=False,
                                device_type="auto")
    assert context.power_preference == "high-performance"
    assert context.accelerated is False
    assert context.backend == "cpu"
    # rustnn's positional order: (power_preference, accelerated, device_type)
    positional = ml.create_context("low-power", True, "cpu")
    assert positional.power_preference == "low-power"
    assert positional.backend == "cpu" and not positional.accelerated
    # cppnn's earlier positional create_context(accelerated[, power_preference])
    legacy = ml.create_context(False)
    assert legacy.backend == "cpu" and legacy.power_preference == "default"
    legacy2 = ml.create_context(False, "low-power")
    assert legacy2.backend == "cpu" and legacy2.power_preference == "low-power"
    default = ml.create_context()
    assert default.power_preference == "default"
    assert default.accelerated == (default.backend != "cpu")


@pytest.mark.parametrize("device_type", ["auto", "cpu", "gpu", "npu"])
def test_create_context_device_types(ml, device_type):
    context = ml.create_context(device_type=device_type)
    info = context.backend_info()
    assert info["backend"] == context.backend
    assert info["accelerated_available"] == context.accelerated == (context.backend != "cpu")
    assert info["device_type"] == device_type
    assert info["backend_available"] is True
    assert info["accelerated_requested"] == (device_type != "cpu")
    if device_type == "cpu":
        assert context.backend == "cpu" and "fallback_reason" not in info
    elif device_type == "npu":
        assert "no NPU backend" in info["fallback_reason"]
    elif context.backend == "cpu":  # asked for an accelerator, none was usable here
        assert info["fallback_reason"] == context.backend_reason != ""
    # Whatever it got, it computes.
    builder = context.create_graph_builder()
    x = builder.input("x", [3], "float32")
    graph = builder.build({"y": builder.mul(x, x)})
    close(context.compute(graph, {"x": np.array([1, -2, 3], np.float32)})["y"], [1, 4, 9])


def test_create_context_bad_options(ml):
    with pytest.raises(TypeError, match="device_type"):
        ml.create_context(device_type="tpu")
    with pytest.raises(TypeError, match="power_preference"):
        ml.create_context(power_preference="fast")
    with pytest.raises(TypeError, match="accelerated must be a bool"):
        ml.create_context(accelerated="yes")


@pytest.mark.parametrize("kernels", ["fastest-start", "fastest_start", "fastest-run",
                                     "fastest_run"])
def test_gpu_kernels_both_spellings(ml, kernels):
    context = ml.create_context(gpu_kernels=kernels)
    builder = context.create_graph_builder()
    x = builder.input("x", [2], "float32")
    graph = builder.build({"y": builder.add(x, x)})
    close(context.compute(graph, {"x": np.array([1, 2], np.float32)})["y"], [2, 4])


# ---- op_support_limits ----------------------------------------------------------------


def snake(name):
    """The builder method of a WebNN op name: reduceSum -> reduce_sum, gatherND -> gather_nd."""
    methods = {m.replace("_", ""): m for m in dir(webnn.MLGraphBuilder) if not m.startswith("_")}
    return methods.get(name.lower(), name)


def test_op_support_limits_structure(context):
    limits = context.op_support_limits()
    assert limits["preferredInputLayout"] in ("nchw", "nhwc")
    assert limits["maxTensorByteLength"] > 2**32
    for key in ("input", "constant", "output"):
        assert set(limits[key]["dataTypes"]) == {"float32", "float16", "int32", "uint32",
                                                 "int64", "uint64", "int8", "uint8"}
    ops = {k: v for k, v in limits.items()
           if k not in ("preferredInputLayout", "maxTensorByteLength", "input", "constant",
                        "output")}
    builder = context.create_graph_builder()
    # Every op the table has is a builder method, and every operand has limits.
    assert len(ops) > 60
    for op, operands in ops.items():
        assert hasattr(builder, snake(op)), op
        assert "output" in operands or "outputs" in operands, op
        for operand, l in operands.items():
            assert l["dataTypes"] and l["rankRange"]["min"] <= l["rankRange"]["max"], (op, operand)
    assert set(ops["conv2d"]) == {"input", "filter", "bias", "output"}
    assert ops["conv2d"]["filter"]["dataTypes"] == ["float32", "float16"]
    assert set(ops["gather"]["indices"]["dataTypes"]) == {"int32", "uint32", "int64"}
    assert ops["equal"]["output"]["dataTypes"] == ["uint8"]
    assert ops["where"]["condition"]["dataTypes"] == ["uint8"]
    assert len(ops["cast"]["output"]["dataTypes"]) == 8
    assert set(ops["argMax"]["output"]["dataTypes"]) == {"int32", "int64"}
    assert set(ops["add"]) == {"a", "b", "output"}
    assert set(ops["concat"]) == {"inputs", "output"}
    assert set(ops["split"]) == {"input", "outputs"}


@pytest.mark.parametrize("op", ["add", "relu", "sigmoid", "abs", "reduceSum", "neg", "exp"])
def test_op_support_limits_match_what_builds(context, op):
    """The listed types build and compute; the others are refused by the builder."""
    listed = context.op_support_limits()[op]
    first = listed["a" if "a" in listed else "input"]["dataTypes"]
    method = snake(op)
    for dtype in ["float32", "float16", "int32", "uint32", "int64", "uint64", "int8", "uint8"]:
        builder = context.create_graph_builder()
        x = builder.input("x", [2, 2], dtype)
        args = (x, x) if "a" in listed else (x,)
        if dtype not in first:
            with pytest.raises(TypeError):
                getattr(builder, method)(*args)
            continue
        y = getattr(builder, method)(*args)
        assert y.data_type in listed["output"]["dataTypes"]
        graph = builder.build({"y": y})
        data = np.array([[1, 2], [3, 1]], dtype=dtype)
        out = context.compute(graph, {"x": data})["y"]
        d = data.astype(np.float64)
        expected = {"add": d + d, "relu": np.maximum(d, 0), "sigmoid": 1 / (1 + np.exp(-d)),
                    "abs": np.abs(d), "reduceSum": d.sum(), "neg": -d, "exp": np.exp(d)}[op]
        close(out, expected, 1e-2 if dtype == "float16" else 1e-5)


# ---- constants -------------------------------------------------------------------------


def test_constant_value_shape_data_type(context):
    builder = context.create_graph_builder()
    x = builder.input("x", [2, 3], "float32")
    w = np.arange(6, dtype=np.float32)
    # rustnn: constant(value, shape, data_type) -- positional and keyword
    c1 = builder.constant(w.reshape(2, 3), [2, 3], "float32")
    c2 = builder.constant(w, shape=[2, 3], data_type="float32")
    c3 = builder.constant([[1, 2, 3], [4, 5, 6]], [2, 3], "float32")  # a list, converted
    c4 = builder.constant(np.array([0.5]), [1], "float32")  # float64 converted on request
    c5 = builder.constant(np.full((2, 3), 2.0, dtype=np.float32))
    assert c1.shape == c2.shape == c3.shape == [2, 3] and c4.shape == [1]
    y = builder.add(builder.mul(builder.add(x, c1), c4), builder.sub(c5, builder.sub(c3, c2)))
    graph = builder.build({"y": y})
    data = rand(2, 3)
    wd = np.arange(6, dtype=np.float64).reshape(2, 3)
    listed = np.array([[1, 2, 3], [4, 5, 6]], np.float64)
    expected = (data + wd) * 0.5 + (2.0 - (listed - wd))
    close(context.compute(graph, {"x": data})["y"], expected)


def test_constant_spec_forms_still_work(context):
    builder = context.create_graph_builder()
    x = builder.input("x", [2], "float32")
    raw = builder.constant("float32", [2], np.array([1.5, -2.0], np.float32).tobytes())
    raw_kw = builder.constant(data_type="float32", shape=[2], buffer=np.array([3, 4], np.float32))
    scalar = builder.constant("float32", 10.0)  # constant(type, value)
    old = builder.constant(np.array([1.0, 2.0]), np.float32)  # constant(value, data_type)
    assert scalar.shape == []
    y = builder.add(builder.mul(builder.add(x, raw), raw_kw), builder.mul(scalar, old))
    graph = builder.build({"y": y})
    data = np.array([1, 2], np.float32)
    close(context.compute(graph, {"x": data})["y"], (data + [1.5, -2]) * [3, 4] + 10 * np.array([1, 2]))


def test_constant_bad_shape_is_a_type_error(context):
    builder = context.create_graph_builder()
    with pytest.raises(TypeError, match=r"shape \[4\] has 4 elements, the value 6"):
        builder.constant(np.zeros(6, np.float32), [4], "float32")
    with pytest.raises(TypeError, match="value must be"):
        builder.constant("hello")
    with pytest.raises(TypeError, match="the buffer is missing"):
        builder.constant("float32", [2])


# ---- conv and pool pads -----------------------------------------------------------------


def test_conv2d_pads(context):
    builder = context.create_graph_builder()
    x_data, w_data = rand(1, 2, 5, 6), rand(3, 2, 3, 3)
    x = builder.input("input", [1, 2, 5, 6], "float32")
    filter_op = builder.constant(w_data)
    # rustnn's pads: [begin_h, begin_w, end_h, end_w]
    out = builder.conv2d(x, filter_op, strides=[2, 1], pads=[1, 2, 0, 3])
    # the spec's padding: [begin_h, end_h, begin_w, end_w]
    spec = builder.conv2d(x, filter_op, strides=[2, 1], padding=[1, 0, 2, 3])
    same = builder.conv2d(x, filter_op, pads=[1, 1, 1, 1], dilations=[1, 1], groups=1)
    graph = builder.build({"out": out, "spec": spec, "same": same})
    results = context.compute(graph, {"input": x_data})
    expected = conv2d_ref(x_data, w_data, [1, 0, 2, 3], strides=(2, 1))
    assert out.shape == list(expected.shape)
    close(results["out"], expected, 1e-4)
    close(results["spec"], expected, 1e-4)
    close(results["same"], conv2d_ref(x_data, w_data, [1, 1, 1, 1]), 1e-4)
    with pytest.raises(TypeError, match="not both"):
        context.create_graph_builder().conv2d(x, filter_op, pads=[0] * 4, padding=[0] * 4)
    with pytest.raises(TypeError, match="pads must have 4 values"):
        builder2 = context.create_graph_builder()
        builder2.conv2d(builder2.input("x", [1, 2, 5, 6]), builder2.constant(w_data), pads=[1, 1])


def test_conv_transpose2d_pads(context):
    builder = context.create_graph_builder()
    x_data, w_data = rand(1, 2, 3, 4), rand(2, 3, 3, 3)
    x = builder.input("input", [1, 2, 3, 4], "float32")
    filter_op = builder.constant(w_data)
    out = builder.conv_transpose2d(x, filter_op, strides=[2, 2], pads=[1, 0, 2, 1])
    spec = builder.conv_transpose2d(x, filter_op, strides=[2, 2], padding=[1, 2, 0, 1])
    graph = builder.build({"out": out, "spec": spec})
    results = context.compute(graph, {"input": x_data})
    expected = conv_transpose2d_ref(x_data, w_data, [1, 2, 0, 1], (2, 2))
    assert out.shape == list(expected.shape)
    close(results["out"], expected, 1e-4)
    close(results["spec"], expected, 1e-4)


@pytest.mark.parametrize("kind", ["average", "max"])
def test_pool2d_pads(context, kind):
    builder = context.create_graph_builder()
    x_data = rand(1, 3, 6, 5)
    x = builder.input("input", [1, 3, 6, 5], "float32")
    pool = builder.average_pool2d if kind == "average" else builder.max_pool2d
    out = pool(x, window_dimensions=[3, 2], strides=[2, 1], pads=[1, 0, 2, 1])
    spec = pool(x, window_dimensions=[3, 2], strides=[2, 1], padding=[1, 2, 0, 1])
    graph = builder.build({"out": out, "spec": spec})
    results = context.compute(graph, {"input": x_data})
    expected = pool2d_ref(x_data, (3, 2), [1, 2, 0, 1], (2, 1), kind)
    close(results["out"], expected)
    close(results["spec"], expected)


def test_global_pools(context):
    builder = context.create_graph_builder()
    x_data = rand(2, 4, 5, 3)
    x = builder.input("x", [2, 4, 5, 3], "float32")
    avg = builder.global_average_pool(x)
    mx = builder.global_max_pool(x)
    nhwc = builder.global_average_pool(builder.transpose(x, permutation=[0, 2, 3, 1]),
                                       layout="nhwc")
    assert avg.shape == [2, 4, 1, 1] and nhwc.shape == [2, 1, 1, 4]
    results = context.compute(builder.build({"avg": avg, "max": mx, "nhwc": nhwc}), {"x": x_data})
    d = x_data.astype(np.float64)
    close(results["avg"], d.mean(axis=(2, 3), keepdims=True))
    close(results["max"], d.max(axis=(2, 3), keepdims=True))
    close(results["nhwc"], d.mean(axis=(2, 3)).reshape(2, 1, 1, 4))


# ---- element-wise and movement -----------------------------------------------------------


def test_where_underscore_and_where(context):
    builder = context.create_graph_builder()
    a = builder.input("a", [2, 3], "float32")
    b = builder.input("b", [2, 3], "float32")
    cond = builder.greater(a, b)
    graph = builder.build({"w_": builder.where_(cond, a, b), "w": builder.where(cond, b, a)})
    a_data, b_data = rand(2, 3), rand(2, 3)
    results = context.compute(graph, {"a": a_data, "b": b_data})
    close(results["w_"], np.where(a_data > b_data, a_data, b_data))
    close(results["w"], np.where(a_data > b_data, b_data, a_data))
    # rustnn's where_ takes a condition of any type (non-zero is true); the spec's, uint8 only
    builder = context.create_graph_builder()
    cond = builder.input("cond", [2, 3], "int32")
    t = builder.input("t", [1, 3], "float32")
    f = builder.input("f", [2, 1], "float32")
    graph = builder.build({"out": builder.where_(cond, t, f)})
    c_data = np.array([[0, 2, -1], [0, 0, 7]], np.int32)
    t_data, f_data = rand(1, 3), rand(2, 1)
    close(context.compute(graph, {"cond": c_data, "t": t_data, "f": f_data})["out"],
          np.where(c_data != 0, t_data, f_data))
    with pytest.raises(TypeError, match="allowed: uint8"):
        builder2 = context.create_graph_builder()
        i = builder2.input("cond", [2], "int32")
        builder2.where(i, builder2.input("t", [2]), builder2.input("f", [2]))


def test_pad_flat_and_spec(context):
    builder = context.create_graph_builder()
    x_data = rand(2, 3, 4)
    x = builder.input("x", [2, 3, 4], "float32")
    flat = [0, 1, 2, 1, 0, 3]  # beginnings of the three axes, then their ends
    outs = {
        "constant": builder.pad(x, flat),
        "none_options": builder.pad(x, flat, mode=None, value=None),  # rustnn's defaults
        "value": builder.pad(x, padding=flat, mode="constant", value=-7.5),
        "edge": builder.pad(x, flat, "edge"),  # rustnn's positional mode
        "reflection": builder.pad(x, [0, 1, 2, 0, 1, 1], "reflection"),
        "positional_value": builder.pad(x, flat, "constant", 2.0),
        "spec": builder.pad(x, [0, 1, 2], [1, 0, 3], mode="constant", value=1.0),
    }
    results = context.compute(builder.build(outs), {"x": x_data})
    d = x_data.astype(np.float64)
    widths = [(0, 1), (1, 0), (2, 3)]
    close(results["constant"], np.pad(d, widths))
    close(results["none_options"], np.pad(d, widths))
    close(results["value"], np.pad(d, widths, constant_values=-7.5))
    close(results["edge"], np.pad(d, widths, mode="edge"))
    close(results["reflection"], np.pad(d, [(0, 0), (1, 1), (2, 1)], mode="reflect"))
    close(results["positional_value"], np.pad(d, widths, constant_values=2.0))
    close(results["spec"], np.pad(d, [(0, 1), (1, 0), (2, 3)], constant_values=1.0))
    with pytest.raises(TypeError, match="must list 6 values"):
        builder.pad(x, [1, 1])


def test_squeeze_unsqueeze(context):
    builder = context.create_graph_builder()
    x_data = rand(1, 3, 1, 2)
    x = builder.input("x", [1, 3, 1, 2], "float32")
    s_all = builder.squeeze(x)
    s_one = builder.squeeze(x, axes=[2])
    u = builder.unsqueeze(s_all, axes=[0, -1])
    assert s_all.shape == [3, 2] and s_one.shape == [1, 3, 2] and u.shape == [1, 3, 2, 1]
    results = context.compute(builder.build({"s": s_all, "s1": s_one, "u": u}), {"x": x_data})
    close(results["s"], x_data.squeeze())
    close(results["s1"], x_data.squeeze(2))
    close(results["u"], x_data.squeeze()[None, :, :, None])
    with pytest.raises(TypeError, match="has size 3, not 1"):
        builder.squeeze(x, axes=[1])


def test_hard_swish_with_alpha_beta(context):
    builder = context.create_graph_builder()
    x = builder.input("x", [7], "float32")
    graph = builder.build({"default": builder.hard_swish(x),
                           "custom": builder.hard_swish(x, alpha=0.2, beta=0.3),
                           "hs": builder.hard_sigmoid(x, alpha=0.2, beta=0.5)})
    data = np.array([-4, -2, -0.5, 0, 0.5, 2, 4], np.float32)
    results = context.compute(graph, {"x": data})
    d = data.astype(np.float64)
    close(results["default"], d * np.clip(d / 6 + 0.5, 0, 1))
    close(results["custom"], d * np.clip(0.2 * d + 0.3, 0, 1))
    close(results["hs"], np.clip(0.2 * d + 0.5, 0, 1))


def test_rustnn_keyword_ops(context):
    """Ops whose rustnn keywords are the spec's: a small transformer-like block."""
    builder = context.create_graph_builder()
    x_data, w_data, b_data = rand(2, 4), rand(4, 6), rand(1, 6)
    x = builder.input("x", [2, 4], "float32")
    w = builder.constant(w_data, list(w_data.shape), "float32")
    bias = builder.constant(b_data, [1, 6], "float32")
    h = builder.gemm(x, w, c=bias, alpha=0.5, beta=2.0)
    h = builder.clamp(h, min_value=-1.0, max_value=1.5)
    n = builder.layer_normalization(h, axes=[1], epsilon=1e-5)
    s = builder.softmax(n, axis=1)
    r = builder.reduce_sum(s, axes=[1], keep_dimensions=True)
    t = builder.transpose(s, permutation=[1, 0])
    am = builder.arg_max(h, axis=1, keep_dimensions=False, output_data_type="int64")
    graph = builder.build({"s": s, "r": r, "t": t, "am": am})
    results = context.compute(graph, {"x": x_data})
    hd = np.clip(0.5 * x_data.astype(np.float64) @ w_data + 2.0 * b_data, -1.0, 1.5)
    nd = (hd - hd.mean(1, keepdims=True)) / np.sqrt(hd.var(1, keepdims=True) + 1e-5)
    sd = np.exp(nd) / np.exp(nd).sum(1, keepdims=True)
    close(results["s"], sd, 1e-4)
    close(results["r"], np.ones((2, 1)), 1e-5)
    close(results["t"], sd.T, 1e-4)
    np.testing.assert_array_equal(results["am"], hd.argmax(1))
    assert results["am"].dtype == np.int64


# ---- graphs, compute, tensors --------------------------------------------------------------


def simple_graph(context):
    builder = context.create_graph_builder()
    x = builder.input("x", [2, 3], "float32")
    y = builder.input("y", [2, 3], "float32")
    z = builder.add(x, y)
    return builder.build({"output": builder.relu(z), "sum": z})


def test_graph_names_and_compute_outputs(context):
    graph = simple_graph(context)
    assert graph.get_input_names() == ["x", "y"]
    assert sorted(graph.get_output_names()) == ["output", "sum"]
    assert graph.operation_count == graph.node_count == 2
    assert graph.operand_count == 4  # x, y, add, relu
    x_data, y_data = rand(2, 3), rand(2, 3)
    preallocated = np.zeros((2, 3), np.float32)
    results = context.compute(graph, {"x": x_data, "y": y_data}, {"output": preallocated})
    expected = np.maximum(x_data.astype(np.float64) + y_data, 0)
    close(results["output"], expected)
    close(preallocated, expected)
    close(results["sum"], x_data.astype(np.float64) + y_data)
    with pytest.raises(TypeError, match="no output named"):
        context.compute(graph, {"x": x_data, "y": y_data}, {"nope": preallocated})
    with pytest.raises(TypeError, match="shape"):
        context.compute(graph, {"x": x_data, "y": y_data}, {"sum": np.zeros(6, np.float32)})


def test_tensors_dispatch_and_flags(context):
    graph = simple_graph(context)
    x_tensor = context.create_tensor([2, 3], "float32", readable=True, writable=True,
                                     exportable_to_gpu=False)
    y_tensor = context.create_host_tensor([2, 3], "float32")
    out_tensor = context.create_tensor([2, 3], "float32", readable=True, writable=False)
    sum_tensor = context.create_tensor([2, 3], "float32")
    assert x_tensor.shape == [2, 3] and x_tensor.data_type == "float32" and x_tensor.size == 6
    assert out_tensor.readable and not out_tensor.writable and not out_tensor.exportable_to_gpu
    x_data = np.array([[1, -2, 3], [-4, 5, -6]], dtype=np.float32)
    y_data = np.array([[0.5, 0.5, 0.5], [1, 1, 1]], dtype=np.float32)
    context.write_tensor(x_tensor, x_data)
    y_tensor.write(y_data)  # rustnn's device-tensor method
    context.dispatch(graph, {"x": x_tensor, "y": y_tensor}, {"output": out_tensor,
                                                            "sum": sum_tensor})
    expected = np.maximum(x_data.astype(np.float64) + y_data, 0)
    close(context.read_tensor(out_tensor), expected)
    close(sum_tensor.read(), x_data.astype(np.float64) + y_data)
    with pytest.raises(TypeError, match="not writable"):
        context.write_tensor(out_tensor, x_data)
    write_only = context.create_tensor([2, 3], "float32", readable=False, writable=True)
    context.write_tensor(write_only, x_data)
    with pytest.raises(TypeError, match="not readable"):
        context.read_tensor(write_only)
    gpu_exportable = context.create_tensor([2], "float32", exportable_to_gpu=True)
    assert gpu_exportable.exportable_to_gpu
    device_tensor = context.create_device_tensor(graph, [2, 3], "float32")
    assert device_tensor.device == "cpu" and device_tensor.backend == context.backend == "cpu"
    device_tensor.write(x_data)
    np.testing.assert_array_equal(device_tensor.read(), x_data)
    x_tensor.destroy()
    assert x_tensor.destroyed
    with pytest.raises(RuntimeError, match="destroyed"):
        context.read_tensor(x_tensor)
    x_tensor.destroy()  # the spec's destroy() is idempotent


def test_convert_to_onnx_matches_compute(context, tmp_path):
    ort = pytest.importorskip("onnxruntime")
    builder = context.create_graph_builder()
    x = builder.input("x", [1, 2, 5, 5], "float32")
    w_data = rand(4, 2, 3, 3)
    w = builder.constant(w_data)
    y = builder.relu(builder.conv2d(x, w, pads=[1, 0, 1, 2]))
    y = builder.max_pool2d(y, window_dimensions=[2, 2], strides=[2, 2])
    graph = builder.build({"y": y})
    path = tmp_path / "model.onnx"
    context.convert_to_onnx(graph, str(path))
    x_data = rand(1, 2, 5, 5)
    ours = context.compute(graph, {"x": x_data})["y"]
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    theirs = session.run(None, {"x": x_data})[0]
    np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-5)
    conv = np.maximum(conv2d_ref(x_data, w_data, [1, 1, 0, 2]), 0)
    close(ours, pool2d_ref(conv, (2, 2), [0, 0, 0, 0], (2, 2), "max"), 1e-4)


# ---- AsyncMLContext ----------------------------------------------------------------------


def test_async_context_dispatch_and_tensors(context):
    async_context = webnn.AsyncMLContext(context)

    async def main():
        builder = async_context.create_graph_builder()
        x = builder.input("x", [2, 3], "float32")
        graph = builder.build({"output": builder.relu(x)})
        input_tensor = async_context.create_tensor([2, 3], "float32")
        output_tensor = async_context.create_tensor([2, 3], "float32")
        input_data = np.array([[1, -2, 3], [-4, 5, -6]], dtype=np.float32)
        await async_context.write_tensor_async(input_tensor, input_data)
        await async_context.dispatch(graph, {"x": input_tensor}, {"output": output_tensor})
        result = await async_context.read_tensor_async(output_tensor)
        close(result, np.maximum(input_data.astype(np.float64), 0))
        # compute: awaited (WebNN) or not (rustnn's AsyncMLContext.compute)
        awaited = await async_context.compute(graph, {"x": input_data})
        plain = async_context.compute(graph, {"x": input_data})
        threaded = await async_context.compute_async(graph, {"x": -input_data})
        close(awaited["output"], np.maximum(input_data.astype(np.float64), 0))
        close(plain["output"], np.maximum(input_data.astype(np.float64), 0))
        close(threaded["output"], np.maximum(-input_data.astype(np.float64), 0))
        # concurrent operations
        tensors = [async_context.create_tensor([2, 2], "float32") for _ in range(4)]
        await asyncio.gather(*[async_context.write_tensor_async(t, np.full((2, 2), i, np.float32))
                               for i, t in enumerate(tensors)])
        results = await asyncio.gather(*[async_context.read_tensor_async(t) for t in tensors])
        for i, r in enumerate(results):
            np.testing.assert_array_equal(r, np.full((2, 2), i, np.float32))
        # the wrapped context's other methods pass through
        assert async_context.accelerated == context.accelerated
        assert async_context.backend_info()["backend"] == context.backend

    asyncio.run(main())
    with pytest.raises(TypeError, match="wraps an MLContext"):
        webnn.AsyncMLContext(object())


def test_operand_name_layer_norm_axes_and_arg_max_default(context):
    builder = context.create_graph_builder()
    x = builder.input("tokens", [2, 3, 4], "float32")
    assert x.name == "tokens" and builder.relu(x).name is None
    gamma_data, beta_data = rand(4), rand(4)
    gamma = builder.constant(gamma_data, [4], "float32")
    beta = builder.constant(beta_data, [4], "float32")
    # rustnn: no axes and a 1-D scale on a 3-D input -> the last axis (the spec would refuse)
    ln = builder.layer_normalization(x, scale=gamma, bias=beta)
    # the spec's default (every axis but the first) where the scale fits it
    ln_spec = builder.layer_normalization(x, scale=builder.constant(np.ones((3, 4), np.float32)))
    am = builder.arg_max(x, axis=2, output_data_type=None)
    graph = builder.build({"ln": ln, "spec": ln_spec, "am": am})
    data = rand(2, 3, 4)
    results = context.compute(graph, {"tokens": data})
    d = data.astype(np.float64)
    last = (d - d.mean(2, keepdims=True)) / np.sqrt(d.var(2, keepdims=True) + 1e-5)
    close(results["ln"], last * gamma_data + beta_data, 1e-4)
    both = (d - d.mean((1, 2), keepdims=True)) / np.sqrt(d.var((1, 2), keepdims=True) + 1e-5)
    close(results["spec"], both, 1e-4)
    np.testing.assert_array_equal(results["am"], d.argmax(2))
    assert results["am"].dtype == np.int32  # the spec's default type
