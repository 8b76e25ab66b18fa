"""A context's precision (create_context(precision=...)): builder graphs computed in float16
without an Engine step, checked against NumPy float64; 'auto' on the CPU is float32; bad
names are TypeErrors and 'bfloat16' is not available yet. And engines are layout-neutral:
MobileNetV2 from its float32 and float16 engines computes what it computes compiled
directly, and what ONNX Runtime computes."""
import numpy as np
import pytest
import webnn

ML = webnn.ML()


def mlp():
    rng = np.random.default_rng(5)
    w1 = rng.uniform(-0.3, 0.3, (64, 32)).astype(np.float32)
    b1 = rng.uniform(-0.5, 0.5, (32,)).astype(np.float32)
    w2 = rng.uniform(-0.5, 0.5, (32, 8)).astype(np.float32)
    b = webnn.MLGraphBuilder()
    x = b.input("x", [4, 64], "float32")
    y = b.matmul(b.relu(b.add(b.matmul(x, b.constant(w1)), b.constant(b1))), b.constant(w2))
    graph = b.build({"y": y, "p": b.softmax(y, 1)})
    xv = rng.uniform(-1, 1, (4, 64)).astype(np.float32)
    y64 = np.maximum(xv.astype(np.float64) @ w1 + b1, 0) @ w2
    e = np.exp(y64 - y64.max(axis=1, keepdims=True))
    return graph, xv, {"y": y64, "p": e / e.sum(axis=1, keepdims=True)}


def test_float16_context_computes_in_float16():
    graph, x, want = mlp()
    c32 = ML.create_context(accelerated=False)
    c16 = ML.create_context(accelerated=False, precision="float16")
    assert c32.precision == "float32" and c16.precision == "float16"
    assert c16.backend_info()["precision"] == "float16"
    out32, out16 = c32.compute(graph, {"x": x}), c16.compute(graph, {"x": x})
    for name in ("y", "p"):
        assert out16[name].dtype == np.float32  # the interface stays float32
        np.testing.assert_allclose(out32[name], want[name], rtol=1e-5, atol=1e-5)
        np.testing.assert_allclose(out16[name], want[name], rtol=1e-2, atol=1e-2)
        # Without the lowering these would be the float32 bytes.
        assert not np.array_equal(out16[name], out32[name]), name
    first = c16.report(graph).splitlines()[0]
    assert first.startswith("cpu plan:") and "precision float16" in first


def test_auto_on_the_cpu_is_float32():
    graph, x, _ = mlp()
    auto = ML.create_context(accelerated=False, precision="auto")
    plain = ML.create_context(accelerated=False)
    assert auto.precision == "float32"
    assert auto.backend_info()["precision"] == "float32"
    a, b = auto.compute(graph, {"x": x}), plain.compute(graph, {"x": x})
    for name in ("y", "p"):
        assert np.array_equal(a[name], b[name])
    assert auto.report(graph) == plain.report(graph)


@pytest.mark.parametrize("bad", ["float64", "fp16", "", "Float16", "half"])
def test_bad_precision_names_are_type_errors(bad):
    with pytest.raises(TypeError, match="precision"):
        ML.create_context(accelerated=False, precision=bad)


def test_bad_precision_types_are_type_errors():
    with pytest.raises(TypeError):
        ML.create_context(accelerated=False, precision=16)


def test_bfloat16_context_and_engine_compute_alike():
    # bfloat16: 8 significant bits, each op in float32 rounded once to bfloat16; the
    # outputs stay float32. 2e-2 is ~5x the error measured here (the C++ tests say why).
    graph, x, want = mlp()
    cbf = ML.create_context(accelerated=False, precision="bfloat16")
    assert cbf.precision == "bfloat16"
    direct = cbf.compute(graph, {"x": x})
    engine = webnn.Engine.from_bytes(webnn.Engine.build(graph, precision="bfloat16").to_bytes())
    assert engine.precision == "bfloat16"
    from_engine = ML.create_context(accelerated=False).compute(engine.graph, {"x": x})
    exact = ML.create_context(accelerated=False).compute(graph, {"x": x})
    for name in ("y", "p"):
        assert direct[name].dtype == np.float32
        np.testing.assert_allclose(direct[name], want[name], rtol=2e-2, atol=2e-2)
        assert not np.array_equal(direct[name], exact[name]), "not lowered"
        assert np.array_equal(from_engine[name], direct[name])
    assert "precision bfloat16" in cbf.report(graph).splitlines()[0]
    with pytest.raises(TypeError, match="auto"):
        webnn.Engine.build(graph, precision="auto")


def test_bfloat16_is_no_operand_type():
    b = webnn.MLGraphBuilder()
    with pytest.raises(TypeError):
        b.input("x", [2], "bfloat16")
    x = b.input("x", [2], "float32")
    with pytest.raises(TypeError):
        b.cast(x, "bfloat16")


def test_a_float16_engine_is_not_lowered_again():
    graph, x, _ = mlp()
    engine = webnn.Engine.build(graph, precision="float16")
    c32 = ML.create_context(accelerated=False)
    c16 = ML.create_context(accelerated=False, precision="float16")
    direct = c16.compute(graph, {"x": x})
    for c in (c32, c16):
        assert c.report(engine.graph) == c16.report(graph)
        got = c.compute(engine.graph, {"x": x})
        for name in ("y", "p"):
            assert np.array_equal(got[name], direct[name])


# ---- layout-neutral engines on a real model ---------------------------------------------

def rel_l2(got, want):
    got, want = got.astype(np.float64), want.astype(np.float64)
    return float(np.linalg.norm(got - want) / max(np.linalg.norm(want), 1e-30))


def test_mobilenet_v2_engines_match_direct_and_onnxruntime(generated_models):
    """The generator's MobileNetV2 (activations near unit variance, so float16 is
    meaningful): float32 engine == direct plan byte for byte, both within 1e-4 of ONNX
    Runtime; the float16 engine == a float16 context's direct plan, within 1e-2."""
    ort = pytest.importorskip("onnxruntime")
    path = generated_models / "mobilenet_v2.onnx"
    if not path.exists():
        pytest.skip(f"{path} is missing: run `make models`")
    graph = webnn.load_onnx(str(path), dim_values={"N": 1})
    (name,) = graph.inputs
    x = np.sin(np.arange(3 * 224 * 224) * 0.001).astype(np.float32).reshape(1, 3, 224, 224)
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    want = sess.run(None, {sess.get_inputs()[0].name: x})[0]
    (out,) = graph.outputs

    c32 = ML.create_context(accelerated=False)
    c16 = ML.create_context(accelerated=False, precision="float16")
    e32 = webnn.Engine.build(graph)
    e16 = webnn.Engine.build(graph, precision="float16")
    assert c32.report(e32.graph) == c32.report(graph)
    assert c32.report(e16.graph) == c16.report(graph)
    direct32 = c32.compute(graph, {name: x})[out]
    direct16 = c16.compute(graph, {name: x})[out]
    assert np.array_equal(c32.compute(e32.graph, {name: x})[out], direct32)
    assert np.array_equal(c32.compute(e16.graph, {name: x})[out], direct16)
    assert rel_l2(direct32, want) < 1e-4
    assert rel_l2(direct16, want) < 1e-2
