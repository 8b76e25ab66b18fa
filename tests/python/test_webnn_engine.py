"""webnn.Engine: build from a graph, save, load, compute: values against NumPy float64,
and corrupt or foreign files as clear errors that leave the context working."""
import numpy as np
import pytest
import webnn


def small_graph():
    b = webnn.MLGraphBuilder()
    x = b.input("x", [2, 3, 4, 4], "float32")
    w = np.linspace(-1, 1, 5 * 3 * 3 * 3).astype(np.float32).reshape(5, 3, 3, 3)
    bias = np.linspace(-0.5, 0.5, 5).astype(np.float32).reshape(1, 5, 1, 1)
    y = b.relu(b.add(b.conv2d(x, b.constant(w), padding=[1, 1, 1, 1]), b.constant(bias)))
    return b.build({"y": y}), w, bias


def reference(x, w, bias):
    n, c, h, wd = x.shape
    o = w.shape[0]
    xp = np.pad(x.astype(np.float64), ((0, 0), (0, 0), (1, 1), (1, 1)))
    out = np.zeros((n, o, h, wd))
    for i in range(3):
        for j in range(3):
            out += np.einsum("nchw,oc->nohw", xp[:, :, i:i + h, j:j + wd], w[:, :, i, j].astype(np.float64))
    return np.maximum(out + bias.astype(np.float64), 0)


def test_engine_round_trip_matches_float64(tmp_path):
    graph, w, bias = small_graph()
    engine = webnn.Engine.build(graph)
    path = tmp_path / "small.engine"
    engine.save(path)
    loaded = webnn.Engine.load(path)
    assert loaded.hash == engine.hash and len(loaded.hash) == 16
    assert loaded.format_version >= 1
    x = np.random.default_rng(1).standard_normal((2, 3, 4, 4)).astype(np.float32)
    context = webnn.ML().create_context(accelerated=False)
    got = context.compute(loaded.graph, {"x": x})["y"]
    np.testing.assert_allclose(got, reference(x, w, bias), rtol=1e-5, atol=1e-5)
    # The optimizer fused bias and relu into the conv (it may add layout transposes).
    ops = [line.split(" ")[0] for line in loaded.graph.summary().splitlines()]
    assert "conv2d" in ops and "relu" not in ops and "add" not in ops, ops
    assert webnn.Engine.from_bytes(engine.to_bytes()).hash == engine.hash


def test_corrupt_engine_is_a_value_error_and_context_keeps_working(tmp_path):
    graph, w, bias = small_graph()
    data = bytearray(webnn.Engine.build(graph).to_bytes())
    data[len(data) // 2] ^= 0x5A
    bad = tmp_path / "bad.engine"
    bad.write_bytes(bytes(data))
    with pytest.raises(ValueError, match="checksum"):
        webnn.Engine.load(bad)
    bad.write_bytes(bytes(data[:100]))
    with pytest.raises(ValueError):
        webnn.Engine.load(bad)
    with pytest.raises(ValueError, match="not a cppnn engine"):
        webnn.Engine.from_bytes(b"\x00" * 200)
    context = webnn.ML().create_context(accelerated=False)
    x = np.ones((2, 3, 4, 4), np.float32)
    np.testing.assert_allclose(context.compute(graph, {"x": x})["y"], reference(x, w, bias),
                               rtol=1e-5, atol=1e-5)


def test_float16_engine_without_keep_io_types_takes_and_returns_float16(tmp_path):
    graph, w, bias = small_graph()
    engine = webnn.Engine.build(graph, precision="float16", keep_io_types=False)
    assert engine.precision == "float16" and engine.keep_io_types is False
    assert engine.graph.inputs["x"][1] == "float16" and engine.graph.outputs["y"][1] == "float16"
    path = tmp_path / "io16.engine"
    engine.save(path)
    loaded = webnn.Engine.load(path)
    assert loaded.keep_io_types is False
    assert webnn.Engine.build(graph, precision="float16").keep_io_types is True
    x = np.random.default_rng(2).standard_normal((2, 3, 4, 4)).astype(np.float16)
    context = webnn.ML().create_context(accelerated=False)
    got = context.compute(loaded.graph, {"x": x})["y"]
    assert got.dtype == np.float16
    want = reference(x.astype(np.float32), w, bias)
    np.testing.assert_allclose(got.astype(np.float64), want, rtol=1e-2, atol=1e-2)
    with pytest.raises(TypeError, match="keep_io_types"):
        webnn.Engine.build(graph, keep_io_types=False)  # float32: nothing to change


def test_bad_precision_is_a_type_error():
    graph, _, _ = small_graph()
    with pytest.raises(TypeError, match="precision"):
        webnn.Engine.build(graph, precision="float64")


def test_context_says_why_it_got_its_backend():
    context = webnn.ML().create_context(accelerated=False)
    assert context.backend == "cpu"
    assert "accelerated = false" in context.backend_reason


def test_peak_memory_is_counted_on_a_gpu_only():
    # The CPU counts none (its memory is the process's); a GPU context counts at least what
    # a compute needed, and a reset starts again.
    graph, _, _ = small_graph()
    inputs = {"x": np.ones((2, 3, 4, 4), np.float32)}
    cpu = webnn.ML().create_context(accelerated=False)
    cpu.compute(graph, inputs)
    assert cpu.peak_memory() == 0
    cpu.reset_peak_memory()
    assert cpu.peak_memory() == 0
    gpu = webnn.ML().create_context(accelerated=True, power_preference="high-performance")
    if gpu.backend != "cuda":
        return
    gpu.compute(graph, inputs)
    assert gpu.peak_memory() > 0
