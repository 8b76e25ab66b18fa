"""The webnn package's API: the issue's example, contexts, operands, graphs, constants,
input conversion (dtypes, DLPack, strided arrays), output ownership, lifetimes, threads."""
import gc
import threading
import time

import numpy as np
import pytest
import webnn


def test_issue_example_verbatim(capsys):
    import webnn, numpy as np  # noqa: E401,F811
    ml = webnn.ML()
    context = ml.create_context(accelerated=True, power_preference="high-performance")  # also "default", "low-power"; accelerated=False forces the CPU
    print(context.backend)            # "cuda" or "cpu": what it really got
    builder = context.create_graph_builder()
    x = builder.input("x", [2, 3], "float32")
    y = builder.input("y", [2, 3], "float32")
    z = builder.add(x, y)
    graph = builder.build({"output": z})
    out = context.compute(graph, {"x": np.ones((2, 3), np.float32), "y": np.ones((2, 3), np.float32)})

    assert capsys.readouterr().out.strip() in ("cpu", "cuda")
    assert list(out) == ["output"]
    assert out["output"].dtype == np.float32
    np.testing.assert_array_equal(out["output"], np.full((2, 3), 2, np.float32))


@pytest.mark.parametrize("pref", ["default", "high-performance", "low-power"])
def test_contexts_for_every_power_preference(pref):
    ml = webnn.ML()
    assert ml.create_context(accelerated=False, power_preference=pref).backend == "cpu"
    assert ml.create_context(power_preference=pref).backend in ("cpu", "cuda")


def test_context_with_thread_count_computes():
    c = webnn.ML().create_context(accelerated=False, num_threads=1)
    b = c.create_graph_builder()
    x = b.input("x", [3], "float32")
    g = b.build({"y": b.mul(x, x)})
    np.testing.assert_array_equal(c.compute(g, {"x": np.array([1, 2, 3], np.float32)})["y"],
                                  [1, 4, 9])


def test_operand_properties(ctx):
    b = ctx.create_graph_builder()
    x = b.input("x", (2, 5, 3), np.float16)
    assert x.shape == [2, 5, 3] and isinstance(x.shape, list)
    assert x.data_type == "float16"
    assert x.rank == 3
    s = b.reduce_sum(x, axes=[1])
    assert s.shape == [2, 3] and s.data_type == "float16"
    assert repr(s) == "MLOperand(shape=[2, 3], data_type='float16')"


@pytest.mark.parametrize("dtype", [np.float32, np.float16, np.int32, np.uint32, np.int64,
                                   np.uint64, np.int8, np.uint8])
def test_data_types_as_strings_and_numpy(ctx, dtype):
    name = np.dtype(dtype).name
    b = ctx.create_graph_builder()
    for i, spelling in enumerate([name, dtype, np.dtype(dtype)]):
        assert b.input(f"x{i}", [1], spelling).data_type == name


def test_graph_describes_inputs_and_outputs(ctx):
    b = ctx.create_graph_builder()
    x = b.input("x", [2, 4], "float32")
    i = b.input("i", [3], "int32")
    unused = b.input("unused", [1], "float32")  # noqa: F841 - not an ancestor of the outputs
    graph = b.build({"s": b.relu(x), "t": b.gather(x, i, axis=1, label="pick")})
    assert graph.inputs == {"x": ([2, 4], "float32"), "i": ([3], "int32")}
    assert graph.outputs == {"s": ([2, 4], "float32"), "t": ([2, 3], "float32")}
    assert graph.node_count == 2
    summary = graph.summary()
    assert "relu" in summary and "gather" in summary and "pick" in summary
    assert repr(graph) == "MLGraph(inputs=['i', 'x'], outputs=['s', 't'], nodes=2)"


@pytest.mark.parametrize("dtype", [np.float32, np.float16, np.int32, np.uint32, np.int64,
                                   np.uint64, np.int8, np.uint8])
def test_constants_and_inputs_of_every_type_round_trip(ctx, dtype):
    info = np.finfo(dtype) if np.dtype(dtype).kind == "f" else np.iinfo(dtype)
    c = np.array([[info.min, info.max, 1], [0, 2, 3]], dtype)
    x = np.array([[5, 6, info.max], [7, 0, info.min]], dtype)
    b = ctx.create_graph_builder()
    graph = b.build({"c": b.identity(b.constant(c)), "x": b.identity(b.input("x", [2, 3], dtype))})
    out = ctx.compute(graph, {"x": x})
    np.testing.assert_array_equal(out["c"], c)
    np.testing.assert_array_equal(out["x"], x)
    assert out["c"].dtype == dtype and out["x"].dtype == dtype


def test_constant_forms(ctx):
    b = ctx.create_graph_builder()
    x = b.input("x", [2], "float32")
    scalar = b.constant(2.5)  # float32 by default
    assert scalar.shape == [] and scalar.data_type == "float32"
    typed = b.constant(3, data_type="int64")
    assert typed.data_type == "int64" and typed.shape == []
    listed = b.constant([1.0, -1.0])
    converted = b.constant(np.array([10.0, 20.0]), np.float32)  # float64 converted on request
    raw = b.constant("float32", [2], np.array([100, 200], np.float32).tobytes())
    half = b.constant(np.array([0.5, 0.25], np.float16))
    assert half.data_type == "float16"
    y = b.add(b.add(b.add(b.mul(x, scalar), listed), converted), raw)
    graph = b.build({"y": y, "i": b.cast(typed, "int32"), "h": b.identity(half)})
    out = ctx.compute(graph, {"x": np.array([1, 2], np.float32)})
    np.testing.assert_array_equal(out["y"], [2.5 + 1 + 10 + 100, 5 - 1 + 20 + 200])
    assert out["i"] == 3 and out["i"].shape == ()
    np.testing.assert_array_equal(out["h"], np.array([0.5, 0.25], np.float16))


def test_constant_copies_its_data(ctx):
    w = np.ones(3, np.float32)
    b = ctx.create_graph_builder()
    x = b.input("x", [3], "float32")
    y = b.mul(x, b.constant(w))
    w[:] = 5  # after constant(): must not change the graph
    graph = b.build({"y": y})
    w[:] = 7
    np.testing.assert_array_equal(ctx.compute(graph, {"x": np.full(3, 2, np.float32)})["y"], 2)


def _relu_graph(ctx, shape, dtype="float32"):
    b = ctx.create_graph_builder()
    return b.build({"y": b.relu(b.input("x", list(shape), dtype))})


@pytest.mark.parametrize("view", ["transposed", "stepped", "reversed", "column"])
def test_non_contiguous_inputs_are_copied(ctx, view):
    base = np.random.default_rng(1).normal(size=(6, 8)).astype(np.float32)
    x = {"transposed": base.T, "stepped": base[::2, 1::3], "reversed": base[::-1, ::-2],
         "column": base[:, 3:4]}[view]
    assert not x.flags.c_contiguous or view == "column"
    graph = _relu_graph(ctx, x.shape)
    np.testing.assert_array_equal(ctx.compute(graph, {"x": x})["y"], np.maximum(x, 0))


def test_unaligned_input_is_copied(ctx):
    raw = bytearray(4 * 5 + 1)
    x = np.frombuffer(raw, np.float32, count=5, offset=1)
    assert not x.flags.aligned
    graph = _relu_graph(ctx, [5])
    np.testing.assert_array_equal(ctx.compute(graph, {"x": x})["y"], np.maximum(x, 0))


def test_read_only_inputs_are_accepted(ctx):
    x = np.arange(-2, 3, dtype=np.float32)
    x.flags.writeable = False
    np.testing.assert_array_equal(ctx.compute(_relu_graph(ctx, [5]), {"x": x})["y"],
                                  [0, 0, 0, 1, 2])


class DLPackOnly:
    """An object that is not a numpy array and has no buffer protocol, only __dlpack__
    (like a torch CPU tensor)."""

    def __init__(self, array):
        self._a = array

    def __dlpack__(self, *args, **kwargs):
        return self._a.__dlpack__(*args, **kwargs)

    def __dlpack_device__(self):
        return self._a.__dlpack_device__()


def test_inputs_through_dlpack(ctx):
    x = np.arange(-3, 3, dtype=np.float16).reshape(2, 3)
    obj = DLPackOnly(x)
    assert not isinstance(obj, np.ndarray)
    got = ctx.compute(_relu_graph(ctx, [2, 3], "float16"), {"x": obj})["y"]
    np.testing.assert_array_equal(got, np.maximum(x, 0))


def test_outputs_own_their_memory(ctx):
    b = ctx.create_graph_builder()
    x = b.input("x", [4], "float32")
    y = b.add(x, b.constant(np.ones(4, np.float32)))
    graph = b.build({"y": y, "same": y})  # two names, one operand
    a = np.arange(4, dtype=np.float32)
    first = ctx.compute(graph, {"x": a})
    assert first["y"].flags.writeable and first["y"].flags.c_contiguous
    first["y"][:] = -1  # must touch neither the other output nor the next compute
    np.testing.assert_array_equal(first["same"], a + 1)
    second = ctx.compute(graph, {"x": a * 10})
    np.testing.assert_array_equal(second["y"], a * 10 + 1)
    np.testing.assert_array_equal(first["y"], -1)
    assert not np.shares_memory(first["y"], second["y"])
    del graph, b, y, x
    gc.collect()
    np.testing.assert_array_equal(second["same"], a * 10 + 1)  # outlives graph and builder


def test_constant_folded_output_is_a_copy(ctx):
    b = ctx.create_graph_builder()
    x = b.input("x", [1], "float32")
    graph = b.build({"k": b.neg(b.constant(np.array([3.0], np.float32))), "x": b.relu(x)})
    one = ctx.compute(graph, {"x": np.ones(1, np.float32)})
    one["k"][0] = 99
    assert ctx.compute(graph, {"x": np.ones(1, np.float32)})["k"][0] == -3


def test_split_returns_a_list_and_graphs_have_many_outputs(ctx):
    b = ctx.create_graph_builder()
    x = b.input("x", [2, 6], "float32")
    parts = b.split(x, 2, axis=1)
    assert isinstance(parts, list) and [p.shape for p in parts] == [[2, 3], [2, 3]]
    graph = b.build({"a": b.identity(parts[0]), "b": b.identity(parts[1])})
    a = np.arange(12, dtype=np.float32).reshape(2, 6)
    out = ctx.compute(graph, {"x": a})
    np.testing.assert_array_equal(out["a"], a[:, :3])
    np.testing.assert_array_equal(out["b"], a[:, 3:])


def test_scalar_output_is_a_0d_array(ctx):
    b = ctx.create_graph_builder()
    graph = b.build({"s": b.reduce_sum(b.input("x", [3], "int32"))})
    s = ctx.compute(graph, {"x": np.array([1, 2, 3], np.int32)})["s"]
    assert s.shape == () and s == 6


def test_labels_appear_in_errors_and_summaries(ctx):
    b = ctx.create_graph_builder()
    x = b.input("x", [2, 2], "float32")
    with pytest.raises(TypeError, match="my_matmul"):
        b.matmul(x, b.input("w", [3, 2], "float32"), label="my_matmul")
    assert "my_relu" in b.build({"y": b.relu(x, label="my_relu")}).summary()


def test_graph_survives_its_context_and_runs_on_another():
    ml = webnn.ML()
    c1 = ml.create_context(accelerated=False)
    b = c1.create_graph_builder()
    x = b.input("x", [3], "float32")
    graph = b.build({"y": b.sqrt(x)})
    del c1
    gc.collect()
    c2 = ml.create_context(accelerated=False)
    np.testing.assert_allclose(c2.compute(graph, {"x": np.array([1, 4, 9], np.float32)})["y"],
                               [1, 2, 3])


def test_builder_survives_its_context():
    b = webnn.ML().create_context(accelerated=False).create_graph_builder()
    gc.collect()  # the context object is gone; the builder keeps what build() needs
    x = b.input("x", [2], "float32")
    graph = b.build({"y": b.exp(x)})
    c = webnn.ML().create_context(accelerated=False)
    np.testing.assert_allclose(c.compute(graph, {"x": np.zeros(2, np.float32)})["y"], [1, 1])


def test_operands_survive_their_builder(ctx):
    b = ctx.create_graph_builder()
    y = b.relu(b.input("x", [2], "float32"))
    del b
    gc.collect()
    assert y.shape == [2]


def test_builder_without_context_builds_graphs(ctx):
    b = webnn.MLGraphBuilder()
    graph = b.build({"y": b.abs(b.input("x", [2], "int8"))})
    np.testing.assert_array_equal(ctx.compute(graph, {"x": np.array([-3, 4], np.int8)})["y"], [3, 4])


def _chain_graph(ctx, layers):
    b = ctx.create_graph_builder()
    x = b.input("x", [256, 256], "float32")
    w = b.constant(np.random.default_rng(0).uniform(-0.05, 0.05, (256, 256)).astype(np.float32))
    y = x
    for _ in range(layers):
        y = b.tanh(b.matmul(y, w))
    return b.build({"y": y})


def _timed(ctx, graph, x):
    start = time.perf_counter()
    ctx.compute(graph, {"x": x})
    return time.perf_counter() - start


def test_compute_releases_the_gil():
    # One thread for the graph leaves a core to this thread, and a compute of ~250 ms
    # stands far above the scheduler's noise.
    ctx = webnn.ML().create_context(accelerated=False, num_threads=1)
    x = np.ones((256, 256), np.float32)
    probe = _chain_graph(ctx, 8)
    _timed(ctx, probe, x)
    layers = int(min(2000, max(8, 8 * 0.25 / max(_timed(ctx, probe, x), 1e-4))))
    graph = _chain_graph(ctx, layers)
    _timed(ctx, graph, x)
    duration = _timed(ctx, graph, x)

    t = threading.Thread(target=lambda: [ctx.compute(graph, {"x": x}) for _ in range(2)])
    stamps = []
    t.start()
    while t.is_alive():
        stamps.append(time.perf_counter())
    t.join()
    # Had compute kept the GIL, this thread would stand still for a whole compute.
    longest_stall = max(np.diff(stamps))
    assert longest_stall < duration / 2, (longest_stall, duration, layers)


def test_threads_compute_on_one_context(ctx):
    b = ctx.create_graph_builder()
    x = b.input("x", [64], "float32")
    graph = b.build({"y": b.mul(x, b.constant(2.0))})
    errors = []

    def work(k):
        try:
            for i in range(20):
                v = np.full(64, k * 100 + i, np.float32)
                np.testing.assert_array_equal(ctx.compute(graph, {"x": v})["y"], v * 2)
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(e)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors


def test_context_repr_and_destroy_state():
    c = webnn.ML().create_context(accelerated=False)
    assert repr(c) == "MLContext(backend='cpu')" and not c.destroyed
    c.destroy()
    assert c.destroyed and repr(c) == "MLContext(destroyed)"
    c.destroy()  # twice is harmless


@pytest.mark.parametrize("kernels", ["fastest-run", "fastest-start"])
def test_context_gpu_options_compute(kernels):
    # The GPU options are accepted everywhere (the CPU backend ignores them).
    c = webnn.ML().create_context(gpu_kernels=kernels, gpu_low_priority=True, gpu_sm_share=0.5)
    b = c.create_graph_builder()
    x = b.input("x", [3], "float32")
    g = b.build({"y": b.add(x, x)})
    np.testing.assert_array_equal(c.compute(g, {"x": np.array([1, 2, 3], np.float32)})["y"],
                                  [2, 4, 6])


def test_context_gpu_options_are_checked():
    ml = webnn.ML()
    with pytest.raises(TypeError, match="gpu_kernels"):
        ml.create_context(gpu_kernels="fastest")
    with pytest.raises(TypeError, match="gpu_sm_share"):
        ml.create_context(accelerated=False, gpu_sm_share=0.0)
    with pytest.raises(TypeError, match="gpu_sm_share"):
        ml.create_context(accelerated=False, gpu_sm_share=1.5)
