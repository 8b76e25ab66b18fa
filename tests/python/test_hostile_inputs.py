"""Crafted ONNX models and engine files through the two doors users open them with: the
`cppnn` command line and the Python module. Each must end in a clean error (the CLI exits
with 1 and a message, Python raises TypeError / ValueError / RuntimeError), never a signal,
and quickly, without eating the machine's memory. Every case runs in a child process, so a
crash shows as a signal instead of taking the test runner down with it. Each of these
crashed, aborted or took gigabytes before the fixes of the "hostile models" issue."""
import os
import pathlib
import resource
import subprocess
import sys
import textwrap

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

INT64_MAX = 2**63 - 1


def model(nodes, inputs=(), outputs=("y",), initializers=(), opset=17):
    graph = helper.make_graph(
        list(nodes), "hostile",
        [helper.make_tensor_value_info(n, t, s) for n, t, s in inputs],
        [helper.make_tensor_value_info(n, TensorProto.FLOAT, None) for n in outputs],
        [numpy_helper.from_array(np.asarray(v), n) for n, v in initializers])
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    m.ir_version = 8
    return m.SerializeToString()


def layer_norm_unbroadcastable():
    return model([helper.make_node("LayerNormalization", ["x", "scale"], ["y"], name="ln")],
                 [("x", TensorProto.FLOAT, [2, 4])], initializers=[
                     ("scale", np.ones((2, 3), np.float32))])


def layer_norm_short_scale():
    return model([helper.make_node("LayerNormalization", ["x", "scale"], ["y"], name="ln")],
                 [("x", TensorProto.FLOAT, [1, 4096])], initializers=[
                     ("scale", np.ones((16,), np.float32))])


def add_one_input():
    return model([helper.make_node("Add", ["a"], ["y"])],
                 initializers=[("a", np.ones(2, np.float32))])


def not_no_input():
    return model([helper.make_node("Not", [], ["y"])])


def slice_only_data():
    return model([helper.make_node("Slice", ["x"], ["y"])], [("x", TensorProto.FLOAT, [4])])


def constant_of_shape_bomb():
    value = helper.make_tensor("v", TensorProto.INT64, [1], [1])
    nodes = [helper.make_node("ConstantOfShape", ["shape"], [f"c{i}"], name=f"bomb{i}",
                              value=value) for i in range(12)]
    return model(nodes, outputs=[f"c{i}" for i in range(12)],
                 initializers=[("shape", np.array([2**28], np.int64))])


def cycle():
    return model([helper.make_node("Add", ["x", "b"], ["a"]),
                  helper.make_node("Relu", ["a"], ["b"])],
                 [("x", TensorProto.FLOAT, [2])], outputs=["b"])


def pool_huge_window():
    return model([helper.make_node("MaxPool", ["x"], ["y"], kernel_shape=[INT64_MAX, INT64_MAX])],
                 [("x", TensorProto.FLOAT, [1, 1, 4, 4])])


def pad_wrapping():
    # ONNX pads as an input: begin + end wraps to a small total in 64 bits.
    return model([helper.make_node("Pad", ["x", "pads"], ["y"])],
                 [("x", TensorProto.FLOAT, [1, 8])],
                 initializers=[("pads", np.array([0, INT64_MAX, 0, INT64_MAX], np.int64))])


def range_overflow():
    # Four elements, but start + 3 * delta computed as 3 * delta first overflows.
    return model([helper.make_node("Range", ["s", "l", "d"], ["y"])], initializers=[
        ("s", np.array(-INT64_MAX - 1, np.int64)), ("l", np.array(INT64_MAX, np.int64)),
        ("d", np.array(2**62, np.int64))])


def reshape_overflow():
    return model([helper.make_node("Reshape", ["x", "shape"], ["y"])],
                 [("x", TensorProto.FLOAT, [2, 3])],
                 initializers=[("shape", np.array([2**62, 4, -1], np.int64))])


def garbage():
    return b"\x08\x07\x12\x04junk" + bytes(range(256)) * 4


# name -> (model, what must come of it: that Python exception, None for any clean error,
# "any" for a clean error or a correct load).
CASES = {
    "layer_norm_unbroadcastable": (layer_norm_unbroadcastable, "ValueError"),
    "layer_norm_short_scale": (layer_norm_short_scale, "ValueError"),
    "add_one_input": (add_one_input, "ValueError"),
    "not_no_input": (not_no_input, "ValueError"),
    "slice_only_data": (slice_only_data, "ValueError"),
    "constant_of_shape_bomb": (constant_of_shape_bomb, "ValueError"),
    "cycle": (cycle, "ValueError"),
    "pool_huge_window": (pool_huge_window, None),
    "pad_wrapping": (pad_wrapping, None),
    "range_overflow": (range_overflow, "any"),
    "reshape_overflow": (reshape_overflow, None),
    "garbage": (garbage, "ValueError"),
}

# What the error must say, where the kind alone would not tell a fix from luck (before
# the budget, the bomb ended as an allocation failure under the memory limit below).
MESSAGES = {
    "constant_of_shape_bomb": "'bomb0' (ConstantOfShape)",
    "layer_norm_unbroadcastable": "does not broadcast",
    "layer_norm_short_scale": "does not broadcast",
    "add_one_input": "input 1 is required but absent",
    "not_no_input": "input 0 is required but absent",
    "slice_only_data": "input 1 is required but absent",
}

# What a child may allocate (RLIMIT_DATA: writable private memory, not the address space
# a GPU driver reserves): 4 GiB is far past what any case needs once fixed,
# and far below what the constant bomb took before.
MEMORY_LIMIT = 4 << 30


def limit_memory():
    resource.setrlimit(resource.RLIMIT_DATA, (MEMORY_LIMIT, MEMORY_LIMIT))


@pytest.fixture(scope="module")
def crafted(tmp_path_factory):
    folder = tmp_path_factory.mktemp("hostile")
    paths = {}
    for name, (make, _) in CASES.items():
        path = folder / f"{name}.onnx"
        path.write_bytes(make())
        paths[name] = path
    return paths


@pytest.mark.parametrize("name", sorted(CASES))
def test_cli_rejects_crafted_model(cppnn_cli, crafted, name):
    for command in ("run", "info"):
        p = subprocess.run([str(cppnn_cli), command, str(crafted[name])], capture_output=True,
                           text=True, timeout=120, preexec_fn=limit_memory)
        if CASES[name][1] == "any" and p.returncode == 0:
            continue
        assert p.returncode == 1, (command, p.returncode, p.stderr[-2000:])
        assert p.stderr.startswith("cppnn: "), p.stderr[-2000:]
        assert "Error" in p.stderr, p.stderr
        assert MESSAGES.get(name, "") in p.stderr, p.stderr


CHILD = textwrap.dedent("""
    import sys, webnn
    try:
        graph = webnn.load_onnx(sys.argv[1])
        ctx = webnn.ML().create_context(accelerated=False)
        import numpy as np
        inputs = {n: np.zeros(s, dtype=t) for n, (s, t) in graph.inputs.items()}
        ctx.compute(graph, inputs)
        print("LOADED")
    except (TypeError, ValueError, RuntimeError) as e:
        # The builtin kind (webnn.DataError is a ValueError, the other WebNN kinds
        # RuntimeErrors).
        print(next(t.__name__ for t in (TypeError, ValueError, RuntimeError) if isinstance(e, t))
              + ": " + str(e))
    # The module still works after the error.
    ctx = webnn.ML().create_context(accelerated=False)
    b = ctx.create_graph_builder()
    import numpy as np
    g = b.build({"y": b.relu(b.input("x", [2], "float32"))})
    assert list(ctx.compute(g, {"x": np.array([-1, 2], np.float32)})["y"]) == [0, 2]
    print("STILL WORKS")
""")


@pytest.mark.parametrize("name", sorted(CASES))
def test_python_rejects_crafted_model(crafted, name):
    p = subprocess.run([sys.executable, "-c", CHILD, str(crafted[name])], capture_output=True,
                       text=True, timeout=120, preexec_fn=limit_memory, env=dict(os.environ))
    assert p.returncode == 0, (p.returncode, p.stderr[-2000:])
    lines = p.stdout.splitlines()
    assert lines[-1] == "STILL WORKS", p.stdout
    expected = CASES[name][1]
    if expected == "any":
        return
    assert "LOADED" not in lines, p.stdout
    if expected:
        assert lines[0].startswith(expected + ": "), lines[0]
    assert MESSAGES.get(name, "") in lines[0], lines[0]


def test_import_budget_is_a_keyword(tmp_path):
    import webnn

    path = tmp_path / "cos.onnx"
    path.write_bytes(model([helper.make_node("ConstantOfShape", ["shape"], ["y"], name="cos")],
                           initializers=[("shape", np.array([1 << 20], np.int64))]))
    with pytest.raises(ValueError, match="'cos'.*max_import_bytes"):
        webnn.load_onnx(path, max_import_bytes=1 << 20)
    assert webnn.load_onnx(path, max_import_bytes=8 << 20).outputs["y"][0] == [1 << 20]


def test_graph_memory_limit_is_a_keyword():
    import webnn

    ctx = webnn.ML().create_context(accelerated=False, max_graph_bytes=1 << 30)
    b = ctx.create_graph_builder()
    y = b.reduce_sum(b.expand(b.input("x", [1], "float32"), [65536, 65536], label="huge"))
    # build() compiles the graph for the builder's context: that is where it fails.
    with pytest.raises(RuntimeError, match="expand 'huge'.*|max_graph_bytes"):
        b.build({"y": y})
    b = ctx.create_graph_builder()
    g = b.build({"y": b.reduce_sum(b.expand(b.input("x", [1], "float32"), [4, 4]))})
    assert ctx.compute(g, {"x": np.ones(1, np.float32)})["y"] == 16


def test_engine_bytes_mutated(cppnn_cli, tmp_path):
    """A real engine with bytes flipped: a clean error or a correct run, through both doors.
    (Mutations that keep the checksum valid are the fuzzers' and the C++ suite's job.)"""
    import webnn

    b = webnn.ML().create_context(accelerated=False).create_graph_builder()
    x = b.input("x", [1, 8], "float32")
    g = b.build({"y": b.pad(b.relu(x), [0, 2], [0, 2])})
    good = webnn.Engine.build(g).to_bytes()
    rng = np.random.default_rng(5)
    for i in range(20):
        bad = bytearray(good)
        for at in rng.integers(0, len(bad), 4):
            bad[at] ^= 1 << int(rng.integers(0, 8))
        path = tmp_path / f"m{i}.engine"
        path.write_bytes(bytes(bad))
        p = subprocess.run([str(cppnn_cli), "run", str(path)], capture_output=True, text=True,
                           timeout=60, preexec_fn=limit_memory)
        assert p.returncode in (0, 1), p.stderr[-2000:]
        with pytest.raises((ValueError, TypeError, RuntimeError)):
            webnn.Engine.from_bytes(bytes(bad))
