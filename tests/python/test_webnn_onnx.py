"""webnn.load_onnx: MobileNetV2 from ../shared against ONNX Runtime (relative L2 < 1e-4),
the ONNX example script, and a bad file as a ValueError (the importer's DataError)."""
import pathlib
import re
import subprocess
import sys

import numpy as np
import onnxruntime as ort
import pytest
import webnn

EXAMPLES = pathlib.Path(__file__).resolve().parents[2] / "examples"


def rel_l2(got, want):
    got, want = got.astype(np.float64), want.astype(np.float64)
    return float(np.linalg.norm(got - want) / max(np.linalg.norm(want), 1e-30))


@pytest.fixture(scope="module")
def mobilenet(shared_models):
    path = shared_models / "mobilenet_v2.onnx"
    if not path.exists():
        pytest.fail(f"{path} is missing")
    return path


@pytest.mark.parametrize("as_path", [False, True])
def test_mobilenet_v2_matches_onnxruntime(mobilenet, as_path):
    graph = webnn.load_onnx(mobilenet if as_path else str(mobilenet), dim_values={"N": 1})
    assert graph.inputs == {"input.1": ([1, 3, 224, 224], "float32")}
    assert graph.outputs == {"536": ([1, 1000], "float32")}
    x = np.random.default_rng(0).standard_normal((1, 3, 224, 224)).astype(np.float32)
    context = webnn.ML().create_context(accelerated=False)
    got = context.compute(graph, {"input.1": x})["536"]
    sess = ort.InferenceSession(str(mobilenet), providers=["CPUExecutionProvider"])
    want = sess.run(None, {"input.1": x})[0]
    assert got.shape == want.shape
    err = rel_l2(got, want)
    assert err < 1e-4, f"relative L2 error {err:.3g}"
    assert list(np.argsort(-got[0])[:5]) == list(np.argsort(-want[0])[:5])


def test_onnx_model_example_prints_top5(mobilenet):
    res = subprocess.run([sys.executable, str(EXAMPLES / "onnx_model.py"), str(mobilenet),
                          "--iterations", "1", "--cpu"], capture_output=True, text=True,
                         timeout=300)
    assert res.returncode == 0, res.stderr
    top = re.search(r"top-5: (.*)", res.stdout)
    assert top, res.stdout
    classes = [int(c) for c in re.findall(r"(\d+) \(", top.group(1))]
    assert len(classes) == 5 and all(0 <= c < 1000 for c in classes)


def test_bad_onnx_file_is_a_value_error(tmp_path):
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(b"\x08\x07 not a model" * 10)
    with pytest.raises(ValueError):
        webnn.load_onnx(bad)
    # A path that names no file: FileNotFoundError, as open() raises (#21), for models and
    # engines alike.
    with pytest.raises(FileNotFoundError, match="missing.onnx") as e:
        webnn.load_onnx(tmp_path / "missing.onnx")
    assert e.value.errno == 2 and e.value.filename == str(tmp_path / "missing.onnx")
    with pytest.raises(FileNotFoundError, match="missing.cppnn"):
        webnn.Engine.load(tmp_path / "missing.cppnn")


def test_isnan_isinf_round_match_onnxruntime(tmp_path):
    """IsNaN (as transformers' SDPA mask exports it), IsInf with each choice of signs and
    Round (halves to even), imported by cppnn and run next to ONNX Runtime."""
    from onnx import TensorProto, helper

    nodes = [helper.make_node("IsNaN", ["x"], ["nan"]),
             helper.make_node("IsInf", ["x"], ["inf"]),
             helper.make_node("IsInf", ["x"], ["pos"], detect_negative=0),
             helper.make_node("IsInf", ["x"], ["neg"], detect_positive=0),
             helper.make_node("Round", ["x"], ["round"])]
    outs = [helper.make_tensor_value_info(n, TensorProto.BOOL, [4, 6])
            for n in ("nan", "inf", "pos", "neg")]
    outs.append(helper.make_tensor_value_info("round", TensorProto.FLOAT, [4, 6]))
    graph = helper.make_graph(nodes, "special", [helper.make_tensor_value_info(
        "x", TensorProto.FLOAT, [4, 6])], outs)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    path = tmp_path / "special.onnx"
    path.write_bytes(model.SerializeToString())

    x = np.random.default_rng(3).uniform(-4, 4, (4, 6)).astype(np.float32)
    x.flat[:10] = [np.nan, np.inf, -np.inf, -0.0, 0.5, 1.5, -2.5, 2.5, -0.5, -np.nan]
    context = webnn.ML().create_context(accelerated=False)
    got = context.compute(webnn.load_onnx(path), {"x": x})
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    names = ["nan", "inf", "pos", "neg", "round"]
    for name, want in zip(names, sess.run(names, {"x": x})):
        g = got[name]
        if want.dtype == np.bool_:
            assert g.dtype == np.uint8, name
            np.testing.assert_array_equal(g, want.astype(np.uint8), err_msg=name)
        else:
            np.testing.assert_array_equal(g, want, err_msg=name)
            number = ~np.isnan(want)
            np.testing.assert_array_equal(np.signbit(g[number]), np.signbit(want[number]),
                                          err_msg=name)


def gather_model(path, batch_dims=0):
    """GatherElements (axis -2) and GatherND over one float input; indices are graph inputs."""
    from onnx import TensorProto, helper, save
    nodes = [helper.make_node("GatherElements", ["x", "ei"], ["ge"], axis=-2),
             helper.make_node("GatherND", ["x", "ni"], ["gn"], batch_dims=batch_dims)]
    f, i64 = TensorProto.FLOAT, TensorProto.INT64
    graph = helper.make_graph(
        nodes, "gathers",
        [helper.make_tensor_value_info("x", f, [3, 4, 5]),
         helper.make_tensor_value_info("ei", i64, [3, 6, 5]),
         helper.make_tensor_value_info("ni", i64, [3, 2, 2] if batch_dims == 0 else [3, 2, 1])],
        [helper.make_tensor_value_info("ge", f, None), helper.make_tensor_value_info("gn", f, None)])
    save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), str(path))


@pytest.mark.parametrize("batch_dims", [0, 1])
def test_gather_elements_and_gather_nd_match_onnxruntime(tmp_path, batch_dims):
    path = tmp_path / "gathers.onnx"
    gather_model(path, batch_dims)
    rng = np.random.default_rng(4)
    # With a batch axis the tuples hold only the coordinate into x's axis 1.
    feeds = {"x": rng.standard_normal((3, 4, 5)).astype(np.float32),
             # In range for ONNX Runtime (which rejects the rest), negative ones included.
             "ei": rng.integers(-4, 4, (3, 6, 5)).astype(np.int64),
             "ni": np.stack(([rng.integers(-3, 3, (3, 2))] if batch_dims == 0 else []) +
                            [rng.integers(-4, 4, (3, 2))], -1)}
    graph = webnn.load_onnx(path)
    got = webnn.ML().create_context(accelerated=False).compute(graph, feeds)
    want = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"]).run(None, feeds)
    for name, w in zip(["ge", "gn"], want):
        assert got[name].shape == w.shape, name
        np.testing.assert_array_equal(got[name], w)


def gather_nd_model(path, dtype, data_shape, indices_shape, batch_dims, indices=None):
    """One GatherND; `indices` given become an initializer, else the graph input "i"."""
    from onnx import TensorProto, helper, numpy_helper, save
    elem = {np.float32: TensorProto.FLOAT, np.int64: TensorProto.INT64}[dtype]
    inputs = [helper.make_tensor_value_info("x", elem, data_shape)]
    inits = []
    if indices is None:
        inputs.append(helper.make_tensor_value_info("i", TensorProto.INT64, indices_shape))
    else:
        inits.append(numpy_helper.from_array(indices, "i"))
    graph = helper.make_graph(
        [helper.make_node("GatherND", ["x", "i"], ["y"], batch_dims=batch_dims)], "gather_nd",
        inputs, [helper.make_tensor_value_info("y", elem, None)], inits)
    save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), str(path))


# (batch_dims, data shape, indices shape): tuples that pick elements and ones that pick slices,
# with one batch index per batch and with several.
BATCHED_GATHER_ND = [(1, (3, 4, 5), (3, 2, 1)), (1, (3, 4, 5), (3, 2, 2, 2)),
                     (2, (2, 3, 4, 5), (2, 3, 2)), (2, (2, 3, 4, 5), (2, 3, 4, 1))]


@pytest.mark.parametrize("batch_dims,data_shape,indices_shape", BATCHED_GATHER_ND)
@pytest.mark.parametrize("dtype", [np.float32, np.int64])
@pytest.mark.parametrize("constant", [False, True], ids=["input", "constant"])
def test_gather_nd_batch_dims_matches_onnxruntime(tmp_path, batch_dims, data_shape,
                                                  indices_shape, dtype, constant):
    rng = np.random.default_rng(5)
    # Coordinate d runs over data axis batch_dims + d, in range for ONNX Runtime, negatives too.
    dims = data_shape[batch_dims:batch_dims + indices_shape[-1]]
    indices = np.stack([rng.integers(-n, n, indices_shape[:-1]) for n in dims], -1)
    indices = indices.astype(np.int64)
    x = rng.integers(-1000, 1000, data_shape).astype(dtype)
    if dtype == np.float32:
        x += rng.standard_normal(data_shape).astype(np.float32)
    path = tmp_path / "gather_nd.onnx"
    gather_nd_model(path, dtype, data_shape, indices_shape, batch_dims,
                    indices if constant else None)
    feeds = {"x": x} if constant else {"x": x, "i": indices}
    got = webnn.ML().create_context(accelerated=False).compute(webnn.load_onnx(path), feeds)["y"]
    want = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"]).run(None, feeds)[0]
    assert got.dtype == want.dtype
    assert got.shape == want.shape
    np.testing.assert_array_equal(got, want)


def test_gather_nd_batch_dims_that_differ_are_a_value_error(tmp_path):
    path = tmp_path / "mismatched.onnx"
    gather_nd_model(path, np.float32, (2, 3, 4), (3, 2, 1), 1)
    with pytest.raises(ValueError, match=r"the first 1 dimensions \(batch_dims\) of data "
                                         r"\[2, 3, 4\] and indices \[3, 2, 1\] must be equal"):
        webnn.load_onnx(path)


def _save_single(path, node, inputs, outputs, opset, initializers=()):
    from onnx import helper, save
    graph = helper.make_graph([node], node.op_type, inputs, outputs, list(initializers))
    save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)]), str(path))


def _run_both(path, feeds):
    got = webnn.ML().create_context(accelerated=False).compute(webnn.load_onnx(path), feeds)
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    names = [o.name for o in sess.get_outputs()]
    return [got[n] for n in names], sess.run(names, feeds)


# (opset, x shape, scale shape, axis, block_size): per-tensor (scalar and [1]), per-axis on
# several axes, and opset 21's block-wise form.
QUANT_GEOMETRIES = [(13, (3, 4, 5), (), 1, 0), (13, (3, 4, 5), (1,), 1, 0),
                    (13, (3, 4, 5), (4,), 1, 0), (13, (3, 4, 5), (5,), -1, 0),
                    (19, (6, 4), (6,), 0, 0), (21, (4, 6), (4, 3), 1, 2),
                    (21, (8, 3), (2, 3), 0, 4)]


@pytest.mark.parametrize("opset,x_shape,s_shape,axis,block", QUANT_GEOMETRIES)
@pytest.mark.parametrize("qtype", [np.uint8, np.int8])
@pytest.mark.parametrize("with_zero_point", [True, False], ids=["zp", "no_zp"])
def test_quantize_linear_matches_onnxruntime(tmp_path, opset, x_shape, s_shape, axis, block,
                                            qtype, with_zero_point):
    """QuantizeLinear: ties to even (x on multiples of scale / 2), saturation (x far past the
    range), per-tensor, per-axis and block-wise scales; the zero point absent too."""
    from onnx import TensorProto, helper, numpy_helper
    rng = np.random.default_rng(11)
    scale = rng.choice([0.5, 0.25, 2.0, 0.125], s_shape).astype(np.float32)
    x = (rng.integers(-600, 600, x_shape) * 0.25).astype(np.float32)
    x.flat[:4] = [0.5 * scale.flat[0], 1.5 * scale.flat[0], -2.5 * scale.flat[0], 1e6]
    inits = [numpy_helper.from_array(scale, "s")]
    names = ["x", "s"]
    if with_zero_point:
        lo, hi = (0, 40) if qtype == np.uint8 else (-20, 20)
        inits.append(numpy_helper.from_array(rng.integers(lo, hi, s_shape).astype(qtype), "z"))
        names.append("z")
    attrs = {"axis": axis}
    if block:
        attrs["block_size"] = block
    node = helper.make_node("QuantizeLinear", names, ["y"], **attrs)
    elem = TensorProto.UINT8 if (qtype == np.uint8 or not with_zero_point) else TensorProto.INT8
    _save_single(tmp_path / "q.onnx", node, [helper.make_tensor_value_info("x", TensorProto.FLOAT, x_shape)],
                 [helper.make_tensor_value_info("y", elem, None)], opset, inits)
    (got,), (want,) = _run_both(tmp_path / "q.onnx", {"x": x})
    assert got.dtype == want.dtype and got.shape == want.shape
    np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("opset,x_shape,s_shape,axis,block", QUANT_GEOMETRIES)
@pytest.mark.parametrize("qtype", [np.uint8, np.int8, np.int32])
def test_dequantize_linear_matches_onnxruntime(tmp_path, opset, x_shape, s_shape, axis, block,
                                              qtype):
    from onnx import TensorProto, helper, numpy_helper
    if qtype == np.int32 and (s_shape not in ((), (1,)) or opset >= 21):
        pytest.skip("ONNX's int32 DequantizeLinear is per-tensor with a zero zero point")
    rng = np.random.default_rng(12)
    info = np.iinfo(qtype)
    lo, hi = max(info.min, -100000), min(info.max, 100000)
    x = rng.integers(lo, hi, x_shape, endpoint=True).astype(qtype)
    scale = rng.uniform(0.001, 2, s_shape).astype(np.float32)
    zp = (np.zeros(s_shape) if qtype == np.int32 else rng.integers(lo, hi, s_shape)).astype(qtype)
    elem = {np.uint8: TensorProto.UINT8, np.int8: TensorProto.INT8, np.int32: TensorProto.INT32}[qtype]
    attrs = {"axis": axis}
    if block:
        attrs["block_size"] = block
    node = helper.make_node("DequantizeLinear", ["x", "s", "z"], ["y"], **attrs)
    _save_single(tmp_path / "dq.onnx", node, [helper.make_tensor_value_info("x", elem, x_shape)],
                 [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)], opset,
                 [numpy_helper.from_array(scale, "s"), numpy_helper.from_array(zp, "z")])
    (got,), (want,) = _run_both(tmp_path / "dq.onnx", {"x": x})
    assert got.dtype == want.dtype and got.shape == want.shape
    np.testing.assert_array_equal(got, want)


def test_quantize_linear_partial_block_is_not_supported(tmp_path):
    from onnx import TensorProto, helper, numpy_helper
    node = helper.make_node("QuantizeLinear", ["x", "s"], ["y"], axis=1, block_size=4)
    _save_single(tmp_path / "partial.onnx", node,
                 [helper.make_tensor_value_info("x", TensorProto.FLOAT, (2, 6))],
                 [helper.make_tensor_value_info("y", TensorProto.UINT8, None)], 21,
                 [numpy_helper.from_array(np.ones((2, 2), np.float32), "s")])
    with pytest.raises(RuntimeError, match=r"QuantizeLinear.*block_size 4 does not divide"):
        webnn.load_onnx(tmp_path / "partial.onnx")


@pytest.mark.parametrize("axis", [0, 1, -1])
@pytest.mark.parametrize("dtype", [np.float32, np.int64])
@pytest.mark.parametrize("constant", [False, True], ids=["input", "constant"])
def test_scatter_elements_matches_onnxruntime(tmp_path, axis, dtype, constant):
    """Duplicate-free indices, negative ones included (ONNX Runtime rejects out-of-range ones
    and leaves repeats undefined)."""
    from onnx import TensorProto, helper, numpy_helper
    rng = np.random.default_rng(13)
    shape = (4, 5, 6)
    a = axis % 3
    ishape = list(shape)
    ishape[a] = 3
    # Per column along the axis: 3 distinct positions, half of them from the end.
    pos = np.argsort(rng.random(tuple(ishape[:a]) + (shape[a],) + tuple(ishape[a + 1:])), axis=a)
    idx = np.take(pos, np.arange(3), axis=a)
    idx = np.where(rng.random(idx.shape) < 0.5, idx - shape[a], idx).astype(np.int64)
    elem = {np.float32: TensorProto.FLOAT, np.int64: TensorProto.INT64}[dtype]
    x = rng.integers(-100, 100, shape).astype(dtype)
    u = rng.integers(-100, 100, ishape).astype(dtype)
    inputs = [helper.make_tensor_value_info("x", elem, shape),
              helper.make_tensor_value_info("u", elem, ishape)]
    inits = []
    if constant:
        inits.append(numpy_helper.from_array(idx, "i"))
    else:
        inputs.append(helper.make_tensor_value_info("i", TensorProto.INT64, ishape))
    node = helper.make_node("ScatterElements", ["x", "i", "u"], ["y"], axis=axis)
    _save_single(tmp_path / "se.onnx", node, inputs, [helper.make_tensor_value_info("y", elem, None)],
                 16, inits)
    feeds = {"x": x, "u": u} if constant else {"x": x, "u": u, "i": idx}
    (got,), (want,) = _run_both(tmp_path / "se.onnx", feeds)
    assert got.dtype == want.dtype and got.shape == want.shape
    np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("shape,ishape", [((8,), (4, 1)), ((4, 5), (3, 2)), ((4, 5, 6), (2, 1)),
                                          ((4, 5, 6), (2, 2, 2))])
@pytest.mark.parametrize("dtype", [np.float32, np.int32])
def test_scatter_nd_matches_onnxruntime(tmp_path, shape, ishape, dtype):
    from onnx import TensorProto, helper
    rng = np.random.default_rng(14)
    c = ishape[-1]
    m = int(np.prod(ishape[:-1]))
    lead = shape[:c]
    flat = rng.permutation(int(np.prod(lead)))[:m]
    idx = np.stack(np.unravel_index(flat, lead), -1).reshape(ishape)
    idx = np.where(rng.random(idx.shape) < 0.5, idx - np.array(lead), idx).astype(np.int64)
    ushape = tuple(ishape[:-1]) + tuple(shape[c:])
    elem = {np.float32: TensorProto.FLOAT, np.int32: TensorProto.INT32}[dtype]
    x = rng.integers(-100, 100, shape).astype(dtype)
    u = rng.integers(-100, 100, ushape).astype(dtype)
    node = helper.make_node("ScatterND", ["x", "i", "u"], ["y"])
    _save_single(tmp_path / "snd.onnx", node,
                 [helper.make_tensor_value_info("x", elem, shape),
                  helper.make_tensor_value_info("i", TensorProto.INT64, ishape),
                  helper.make_tensor_value_info("u", elem, ushape)],
                 [helper.make_tensor_value_info("y", elem, None)], 16)
    (got,), (want,) = _run_both(tmp_path / "snd.onnx", {"x": x, "i": idx, "u": u})
    assert got.dtype == want.dtype and got.shape == want.shape
    np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("op", ["ScatterElements", "ScatterND"])
def test_scatter_reductions_are_not_supported(tmp_path, op):
    from onnx import TensorProto, helper
    node = helper.make_node(op, ["x", "i", "u"], ["y"], reduction="add", name="sum_into")
    ishape = (2, 1) if op == "ScatterND" else (2,)
    ushape = (2,)
    _save_single(tmp_path / "red.onnx", node,
                 [helper.make_tensor_value_info("x", TensorProto.FLOAT, (4,)),
                  helper.make_tensor_value_info("i", TensorProto.INT64, ishape),
                  helper.make_tensor_value_info("u", TensorProto.FLOAT, ushape)],
                 [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)], 16)
    with pytest.raises(RuntimeError, match=rf"ONNX node 'sum_into' \({op}\).*reduction.*'add'"):
        webnn.load_onnx(tmp_path / "red.onnx")
