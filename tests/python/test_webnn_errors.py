"""webnn error cases: each is a clear Python exception (TypeError for wrong arguments,
RuntimeError for wrong state), and the context and builder keep working afterwards."""
import gc

import numpy as np
import pytest
import webnn


@pytest.fixture
def ctx():
    return webnn.ML().create_context(accelerated=False)


@pytest.fixture
def graph(ctx):
    b = ctx.create_graph_builder()
    x = b.input("x", [2, 3], "float32")
    y = b.input("y", [3], "float32")
    return b.build({"z": b.add(x, y)})


def good_inputs():
    return {"x": np.ones((2, 3), np.float32), "y": np.arange(3, dtype=np.float32)}


def still_works(ctx, graph):
    """The context computes correctly after the error."""
    out = ctx.compute(graph, good_inputs())
    np.testing.assert_array_equal(out["z"], np.ones((2, 3)) + np.arange(3))
    b = ctx.create_graph_builder()
    g = b.build({"w": b.neg(b.input("v", [1], "int32"))})
    assert ctx.compute(g, {"v": np.array([4], np.int32)})["w"][0] == -4


@pytest.mark.parametrize("bad,message", [
    (np.ones((2, 3), np.float16), "input 'x' has data type float16, the graph expects float32"),
    (np.ones((2, 3), np.int32), "input 'x' has data type int32"),
    (np.ones((2, 3), np.float64), "input 'x' has data type float64, which WebNN does not have"),
    (np.ones((2, 3), bool), "input 'x' has data type bool"),
    (np.ones((3, 2), np.float32), "input 'x' has shape [3, 2], the graph expects [2, 3]"),
    (np.ones((6,), np.float32), "input 'x' has shape [6]"),
    ([[1.0] * 3] * 2, "input 'x' must be a numpy array or an object with __dlpack__, got list"),
    (None, "input 'x' must be a numpy array"),
])
def test_bad_input_arrays(ctx, graph, bad, message):
    inputs = good_inputs()
    inputs["x"] = bad
    with pytest.raises(TypeError) as e:
        ctx.compute(graph, inputs)
    assert message in str(e.value)
    still_works(ctx, graph)


def test_missing_and_extra_inputs(ctx, graph):
    with pytest.raises(TypeError, match="input 'y' is missing"):
        ctx.compute(graph, {"x": good_inputs()["x"]})
    with pytest.raises(TypeError, match="the graph has no input named 'w'"):
        ctx.compute(graph, {**good_inputs(), "w": np.ones(1, np.float32)})
    with pytest.raises(TypeError, match="input names must be strings"):
        ctx.compute(graph, {**good_inputs(), 3: np.ones(1, np.float32)})
    still_works(ctx, graph)


def test_non_contiguous_input_is_accepted_not_an_error(ctx, graph):
    inputs = good_inputs()
    inputs["x"] = np.arange(6, dtype=np.float32).reshape(3, 2).T
    np.testing.assert_array_equal(ctx.compute(graph, inputs)["z"],
                                  inputs["x"] + np.arange(3, dtype=np.float32))


def test_operand_from_another_builder(ctx, graph):
    b1, b2 = ctx.create_graph_builder(), ctx.create_graph_builder()
    x1 = b1.input("x", [2], "float32")
    x2 = b2.input("x", [2], "float32")
    with pytest.raises(TypeError, match="operand 'b' was created by another builder"):
        b2.add(x2, x1)
    with pytest.raises(TypeError, match="another builder"):
        b2.build({"y": b1.relu(x1)})
    # Both builders still work.
    g2 = b2.build({"y": b2.relu(x2)})
    assert ctx.compute(g2, {"x": np.array([-1, 1], np.float32)})["y"].tolist() == [0, 1]
    still_works(ctx, graph)


def test_building_twice_and_using_a_built_builder(ctx, graph):
    b = ctx.create_graph_builder()
    x = b.input("x", [2], "float32")
    y = b.relu(x)
    b.build({"y": y})
    with pytest.raises(RuntimeError, match="build: the builder has already built a graph"):
        b.build({"y": y})
    with pytest.raises(RuntimeError, match="already built"):
        b.sigmoid(x)
    with pytest.raises(RuntimeError, match="already built"):
        b.input("q", [1], "float32")
    with pytest.raises(RuntimeError, match="already built"):
        b.constant(1.0)
    still_works(ctx, graph)


def test_compute_after_destroy(graph):
    c = webnn.ML().create_context(accelerated=False)
    c.compute(graph, good_inputs())
    c.destroy()
    with pytest.raises(RuntimeError, match="compute: the context has been destroyed"):
        c.compute(graph, good_inputs())
    with pytest.raises(RuntimeError, match="destroyed"):
        c.create_graph_builder()
    with pytest.raises(RuntimeError, match="destroyed"):
        _ = c.backend
    # Other contexts and the graph are unaffected.
    still_works(webnn.ML().create_context(accelerated=False), graph)


def test_build_after_its_context_is_destroyed(ctx, graph):
    c = webnn.ML().create_context(accelerated=False)
    b = c.create_graph_builder()
    x = b.input("x", [2], "float32")
    c.destroy()
    with pytest.raises(RuntimeError, match="destroyed"):
        b.build({"y": b.relu(x)})
    still_works(ctx, graph)


def test_destroyed_context_garbage_collected_with_graphs_alive(graph):
    c = webnn.ML().create_context(accelerated=False)
    c.compute(graph, good_inputs())
    c.destroy()
    del c
    gc.collect()
    still_works(webnn.ML().create_context(accelerated=False), graph)


BAD_OPTIONS = [
    ("conv2d input_layout", lambda b, x4, w: b.conv2d(x4, w, input_layout="nhcw"),
     "conv2d: input_layout must be one of 'nchw', 'nhwc', got 'nhcw'"),
    ("conv2d filter_layout", lambda b, x4, w: b.conv2d(x4, w, filter_layout="oihw "),
     "filter_layout must be one of 'oihw', 'hwio', 'ohwi', 'ihwo'"),
    ("conv_transpose2d filter_layout",
     lambda b, x4, w: b.conv_transpose2d(x4, w, filter_layout="oihw"),
     "conv_transpose2d: filter_layout must be one of 'iohw', 'hwoi', 'ohwi', got 'oihw'"),
    ("pool layout", lambda b, x4, w: b.max_pool2d(x4, layout="NCHW"),
     "max_pool2d: layout must be one of 'nchw', 'nhwc', got 'NCHW'"),
    ("pool rounding", lambda b, x4, w: b.average_pool2d(x4, output_shape_rounding="round"),
     "output_shape_rounding must be one of 'floor', 'ceil', got 'round'"),
    ("pad mode", lambda b, x4, w: b.pad(x4, [0] * 4, [1] * 4, mode="reflect"),
     "pad: mode must be one of 'constant', 'edge', 'reflection', got 'reflect'"),
    ("resample mode", lambda b, x4, w: b.resample2d(x4, mode="nearest"),
     "resample2d: mode must be one of 'nearest-neighbor', 'linear', got 'nearest'"),
    ("instance norm layout", lambda b, x4, w: b.instance_normalization(x4, layout="chw"),
     "instance_normalization: layout must be one of 'nchw', 'nhwc'"),
    ("cast data type", lambda b, x4, w: b.cast(x4, "float64"),
     "cast: data_type: unknown data type 'float64'"),
    ("cast numpy data type", lambda b, x4, w: b.cast(x4, np.complex64),
     "unknown data type 'complex64'"),
    ("cast nonsense", lambda b, x4, w: b.cast(x4, 12),
     "cast: data_type must be a data type name"),
    ("arg_max output type", lambda b, x4, w: b.arg_max(x4, 1, output_data_type="float32"),
     "option 'outputDataType' must be int32 or int64, got float32"),
    ("negative padding", lambda b, x4, w: b.conv2d(x4, w, padding=[0, -1, 0, 0]),
     "conv2d: padding values must be unsigned 32-bit integers, got -1"),
    ("negative axis", lambda b, x4, w: b.softmax(x4, -1),
     "softmax: axis must be an unsigned 32-bit integer, got -1"),
    ("axis out of range", lambda b, x4, w: b.softmax(x4, 4),
     "softmax: axis 4 must be less than the rank 4 of operand 'input'"),
    ("bad split", lambda b, x4, w: b.split(x4, "2"), "split: splits must be an int"),
    ("uneven split", lambda b, x4, w: b.split(x4, 3, axis=1),
     "split: split count 3 does not evenly divide dimension 1"),
    ("filter rank", lambda b, x4, w: b.conv2d(x4, b.constant(np.ones((1, 1, 1), np.float32))),
     "operand 'filter' must be 4-D, got shape [1, 1, 1]"),
    ("matmul shapes", lambda b, x4, w: b.matmul(x4, b.constant(np.ones((3, 2), np.float32))),
     "matmul: operand 'a' has 4 columns but operand 'b' has 3 rows"),
    ("integer conv", lambda b, x4, w: b.conv2d(b.cast(x4, "int32"), b.cast(w, "int32")),
     "conv2d: operand 'input' has data type int32; allowed: float32, float16"),
    ("clamp bounds", lambda b, x4, w: b.clamp(x4, min_value=2, max_value=1),
     "option 'minValue' (2) is greater than 'maxValue' (1)"),
    ("constant buffer size", lambda b, x4, w: b.constant("float32", [3], b"\0" * 8),
     "constant: float32 [3] needs 12 bytes, the buffer has 8"),
    ("constant float64", lambda b, x4, w: b.constant(np.ones(2)),
     "constant: value has data type float64, which WebNN does not have"),
    ("constant string", lambda b, x4, w: b.constant("hello"), "constant: value must be"),
    ("duplicate input", lambda b, x4, w: b.input("x4", [1], "float32"),
     "duplicate input name 'x4'"),
    ("bad input shape", lambda b, x4, w: b.input("q", [2, 0], "float32"),
     "input 'q': shape [2, 0] has a dimension that is not a valid dimension"),
    ("bad input type", lambda b, x4, w: b.input("q", [2], "bfloat16"),
     "unknown data type 'bfloat16'"),
    ("output is an input", lambda b, x4, w: b.build({"y": x4}),
     "output 'y' is an input or a constant"),
    ("no outputs", lambda b, x4, w: b.build({}), "at least one output"),
]


@pytest.mark.parametrize("name,call,message", BAD_OPTIONS, ids=[c[0] for c in BAD_OPTIONS])
def test_bad_arguments_are_type_errors(ctx, graph, name, call, message):
    b = ctx.create_graph_builder()
    x4 = b.input("x4", [1, 2, 4, 4], "float32")
    w = b.constant(np.ones((3, 2, 1, 1), np.float32))
    with pytest.raises(TypeError) as e:
        call(b, x4, w)
    assert message in str(e.value)
    # The same builder goes on building, and the context goes on computing.
    g = b.build({"y": b.conv2d(x4, w)})
    out = ctx.compute(g, {"x4": np.ones((1, 2, 4, 4), np.float32)})["y"]
    np.testing.assert_array_equal(out, np.full((1, 3, 4, 4), 2, np.float32))
    still_works(ctx, graph)


def test_bad_power_preference(ctx, graph):
    with pytest.raises(TypeError, match="power_preference must be one of 'default', "
                                        "'high-performance', 'low-power', got 'fast'"):
        webnn.ML().create_context(power_preference="fast")
    with pytest.raises(TypeError, match="num_threads"):
        webnn.ML().create_context(num_threads=-2)
    still_works(ctx, graph)


def test_wrong_python_types_are_type_errors(ctx, graph):
    b = ctx.create_graph_builder()
    x = b.input("x", [2], "float32")
    with pytest.raises(TypeError):
        b.add(x, 1.0)  # operands only, as in the spec
    with pytest.raises(TypeError):
        b.relu("x")
    with pytest.raises(TypeError):
        ctx.compute("not a graph", good_inputs())
    with pytest.raises(TypeError):
        b.build({"y": "x"})
    still_works(ctx, graph)


def test_error_kinds_are_their_own_types_and_still_the_builtin_ones(tmp_path):
    """WebNN's error kinds as Python types: DataError is a ValueError, NotSupportedError,
    OperationError and InvalidStateError are RuntimeErrors (code catching the builtins keeps
    working), TypeError stays Python's."""
    import webnn
    assert issubclass(webnn.DataError, ValueError)
    for t in (webnn.NotSupportedError, webnn.OperationError, webnn.InvalidStateError):
        assert issubclass(t, RuntimeError)
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(b"not a model")
    with pytest.raises(webnn.DataError):
        webnn.load_onnx(str(bad))
    import onnx
    from onnx import TensorProto, helper
    g = helper.make_graph([helper.make_node("Hardmax", ["x"], ["y"])], "g",
                          [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 3])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2, 3])])
    path = tmp_path / "hardmax.onnx"
    onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)]), str(path))
    with pytest.raises(webnn.NotSupportedError, match="Hardmax"):
        webnn.load_onnx(str(path))
    ctx = webnn.ML().create_context(accelerated=False)
    b = ctx.create_graph_builder()
    x = b.input("x", [2], "float32")
    b.build({"y": b.relu(x)})
    with pytest.raises(webnn.InvalidStateError):
        b.relu(x)  # the builder is spent once built
    with pytest.raises(TypeError):
        ctx.create_graph_builder().input("x", [0], "float32")
