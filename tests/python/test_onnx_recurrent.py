"""ONNX LSTM and GRU: models built with onnx.helper, imported by cppnn (load_onnx) and run on
the CPU next to ONNX Runtime's CPU provider; graphs with lstm / gru built in Python,
exported (export_onnx) and run in ONNX Runtime against cppnn; the import's refusals."""
import numpy as np
import onnxruntime as ort
import pytest
import webnn
from onnx import TensorProto, helper, numpy_helper

RNG = np.random.default_rng(11)
F = TensorProto.FLOAT


def rand(*shape, lo=-0.7, hi=0.7, rng=None):
    return (rng or RNG).uniform(lo, hi, shape).astype(np.float32)


def rnn_model(path, op, *, steps=4, batch=2, input_size=5, hidden=6, direction="forward",
              layout=0, bias=True, initial=False, sequence_lens=None, peephole=None,
              weights_as_inputs=False, outputs=("Y", "Y_h", "Y_c"), seed=0, **attrs):
    """One LSTM or GRU node; returns the feeds. Weights are initializers unless asked. The
    values depend on the seed only, not on the layout: layout 1 gets layout 0's transposed."""
    rng = np.random.default_rng(seed)
    gates = {"LSTM": 4, "GRU": 3, "RNN": 1}[op]
    dirs = 2 if direction == "bidirectional" else 1
    feeds = {"X": rand(steps, batch, input_size, lo=-1, hi=1, rng=rng)}
    consts = {"W": rand(dirs, gates * hidden, input_size, rng=rng),
              "R": rand(dirs, gates * hidden, hidden, rng=rng)}
    if bias:
        consts["B"] = rand(dirs, 2 * gates * hidden, lo=-0.5, hi=0.5, rng=rng)
    if initial:
        feeds["initial_h"] = rand(dirs, batch, hidden, lo=-1, hi=1, rng=rng)
        if op == "LSTM":
            feeds["initial_c"] = rand(dirs, batch, hidden, lo=-1, hi=1, rng=rng)
    if layout:
        feeds = {k: np.ascontiguousarray(v.transpose(1, 0, 2)) for k, v in feeds.items()}
    inits = []
    if sequence_lens is not None:
        inits.append(numpy_helper.from_array(np.array(sequence_lens, np.int32), "seq_lens"))
    if peephole is not None:
        inits.append(numpy_helper.from_array(peephole.astype(np.float32), "P"))
    if weights_as_inputs:
        feeds.update(consts)
    else:
        inits += [numpy_helper.from_array(v, k) for k, v in consts.items()]
    names = ["X", "W", "R", "B" if bias else "", "seq_lens" if sequence_lens is not None else "",
             "initial_h" if initial else ""]
    if op == "LSTM":
        names += ["initial_c" if initial else "", "P" if peephole is not None else ""]
    while names and not names[-1]:
        names.pop()
    outs = list(outputs if op == "LSTM" else [o for o in outputs if o != "Y_c"])
    node = helper.make_node(op, names, [o if o else "" for o in outs], hidden_size=hidden,
                            direction=direction, layout=layout, **attrs)
    graph_inputs = [helper.make_tensor_value_info(k, F, list(v.shape)) for k, v in feeds.items()]
    graph_outputs = [helper.make_tensor_value_info(o, F, None) for o in outs if o]
    graph = helper.make_graph([node], "rnn", graph_inputs, graph_outputs, initializer=inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    path.write_bytes(model.SerializeToString())
    return feeds


def compare(path, feeds, tol=2e-5, reference=None):
    """cppnn on `path` against ONNX Runtime on `reference` (default: the same model). ONNX
    Runtime has no layout 1: such a model is compared with its layout 0 twin, transposed."""
    graph = webnn.load_onnx(path)
    got = webnn.ML().create_context(accelerated=False).compute(graph, feeds)
    batch_first = reference is not None
    if batch_first:
        path, feeds = reference, {k: np.ascontiguousarray(v.transpose(1, 0, 2)) for k, v in feeds.items()}
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    names = [o.name for o in sess.get_outputs()]
    for name, want in zip(names, sess.run(None, feeds)):
        if batch_first:  # Y [steps, dirs, batch, hidden] -> [batch, steps, dirs, hidden]
            want = want.transpose(2, 0, 1, 3) if want.ndim == 4 else want.transpose(1, 0, 2)
        assert got[name].shape == want.shape, name
        np.testing.assert_allclose(got[name], want, rtol=tol, atol=tol, err_msg=name)


LSTM_CASES = {
    "forward": {},
    "reverse": {"direction": "reverse"},
    "bidirectional_initial": {"direction": "bidirectional", "initial": True},
    "no_bias": {"bias": False},
    "layout1": {"layout": 1, "initial": True},
    "layout1_bidirectional": {"layout": 1, "direction": "bidirectional", "initial": True},
    "only_y_h": {"outputs": ("", "Y_h")},
    "activations": {"activations": ["Sigmoid", "Relu", "Tanh"]},
    "full_sequence_lens": {"sequence_lens": [4, 4]},
    "weights_as_inputs": {"weights_as_inputs": True, "direction": "bidirectional"},
    "zero_output_peephole": {"peephole": np.concatenate(
        [rand(1, 6), np.zeros((1, 6), np.float32), rand(1, 6)], axis=1)},
}


@pytest.mark.parametrize("case", list(LSTM_CASES))
def test_lstm_matches_onnxruntime(tmp_path, case):
    path = tmp_path / "lstm.onnx"
    kwargs = LSTM_CASES[case]
    feeds = rnn_model(path, "LSTM", **kwargs)
    reference = None
    if kwargs.get("layout"):
        reference = tmp_path / "lstm_layout0.onnx"
        rnn_model(reference, "LSTM", **dict(kwargs, layout=0))
    compare(path, feeds, reference=reference)


GRU_CASES = {
    "forward": {},
    "linear_before_reset": {"linear_before_reset": 1},
    "reverse_initial": {"direction": "reverse", "initial": True},
    "bidirectional": {"direction": "bidirectional", "initial": True, "linear_before_reset": 1},
    "bidirectional_reset_before": {"direction": "bidirectional"},
    "layout1": {"layout": 1, "initial": True},
    "activations": {"activations": ["Sigmoid", "Relu"]},
    "no_bias": {"bias": False},
}


@pytest.mark.parametrize("case", list(GRU_CASES))
def test_gru_matches_onnxruntime(tmp_path, case):
    path = tmp_path / "gru.onnx"
    kwargs = GRU_CASES[case]
    feeds = rnn_model(path, "GRU", **kwargs)
    reference = None
    if kwargs.get("layout"):
        reference = tmp_path / "gru_layout0.onnx"
        rnn_model(reference, "GRU", **dict(kwargs, layout=0))
    compare(path, feeds, reference=reference)


RNN_CASES = {
    "forward": {},
    "bidirectional_initial": {"direction": "bidirectional", "initial": True},
    "relu_no_bias": {"activations": ["Relu"], "bias": False},
    "layout1_reverse": {"layout": 1, "direction": "reverse", "initial": True},
}


@pytest.mark.parametrize("case", list(RNN_CASES))
def test_rnn_matches_onnxruntime(tmp_path, case):
    path = tmp_path / "rnn.onnx"
    kwargs = RNN_CASES[case]
    feeds = rnn_model(path, "RNN", **kwargs)
    reference = None
    if kwargs.get("layout"):
        reference = tmp_path / "rnn_layout0.onnx"
        rnn_model(reference, "RNN", **dict(kwargs, layout=0))
    compare(path, feeds, reference=reference)


@pytest.mark.parametrize("op, kwargs, message", [
    ("LSTM", {"sequence_lens": [4, 3]}, "sequence_lens"),
    ("GRU", {"sequence_lens": [2, 4]}, "sequence_lens"),
    ("LSTM", {"clip": 3.0}, "clip"),
    ("LSTM", {"input_forget": 1}, "input_forget"),
    ("LSTM", {"activations": ["Sigmoid", "Tanh", "HardSigmoid"]}, "HardSigmoid"),
    ("GRU", {"direction": "bidirectional", "activations": ["Sigmoid", "Tanh", "Sigmoid", "Relu"]},
     "differs between the directions"),
    ("LSTM", {"peephole": np.ones((1, 18), np.float32)}, "peephole"),
])
def test_unsupported_onnx_rnns_name_the_node(tmp_path, op, kwargs, message):
    path = tmp_path / "bad.onnx"
    rnn_model(path, op, **kwargs)
    with pytest.raises(Exception, match=message) as e:
        webnn.load_onnx(path)
    assert op in str(e.value)


def test_sequence_lens_computed_at_run_time_is_refused(tmp_path):
    x = helper.make_tensor_value_info("X", F, [3, 2, 4])
    lens = helper.make_tensor_value_info("lens", TensorProto.INT32, [2])
    inits = [numpy_helper.from_array(rand(1, 12, 4), "W"), numpy_helper.from_array(rand(1, 12, 4), "R")]
    node = helper.make_node("GRU", ["X", "W", "R", "", "lens"], ["Y"], hidden_size=4, name="my_gru")
    graph = helper.make_graph([node], "g", [x, lens], [helper.make_tensor_value_info("Y", F, None)],
                              initializer=inits)
    path = tmp_path / "gru_lens.onnx"
    path.write_bytes(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
                     .SerializeToString())
    with pytest.raises(Exception, match="my_gru.*sequence_lens|sequence_lens.*my_gru"):
        webnn.load_onnx(path)


def test_exported_lstm_and_gru_run_in_onnxruntime_as_in_cppnn(tmp_path):
    b = webnn.MLGraphBuilder()
    x = b.input("x", [3, 2, 5], "float32")
    h0 = b.input("h0", [2, 2, 4], "float32")
    lstm = b.lstm(x, b.constant(rand(2, 16, 5)), b.constant(rand(2, 16, 4)), 3, 4,
                  bias=b.constant(rand(2, 16)), initial_hidden_state=h0, return_sequence=True,
                  direction="both", layout="ifgo", activations=["sigmoid", "relu", "tanh"])
    gru = b.gru(x, b.constant(rand(1, 12, 5)), b.constant(rand(1, 12, 4)), 3, 4,
                recurrent_bias=b.constant(rand(1, 12)), reset_after=False, layout="rzn",
                return_sequence=True, direction="backward")
    xc = b.input("xc", [2, 5], "float32")
    hc = b.input("hc", [2, 4], "float32")
    cell = b.lstm_cell(xc, b.constant(rand(16, 5)), b.constant(rand(16, 4)), hc, hc, 4,
                       bias=b.constant(rand(16)))
    gcell = b.gru_cell(xc, b.constant(rand(12, 5)), b.constant(rand(12, 4)), hc, 4,
                       bias=b.constant(rand(12)), recurrent_bias=b.constant(rand(12)))
    graph = b.build({"lh": lstm[0], "lc": lstm[1], "ls": lstm[2], "gh": gru[0], "gs": gru[1],
                     "ch": cell[0], "cc": cell[1], "gc": gcell})
    feeds = {"x": rand(3, 2, 5, lo=-1, hi=1), "h0": rand(2, 2, 4, lo=-1, hi=1),
             "xc": rand(2, 5, lo=-1, hi=1), "hc": rand(2, 4, lo=-1, hi=1)}
    want = webnn.ML().create_context(accelerated=False).compute(graph, feeds)
    path = tmp_path / "rnn.onnx"
    webnn.export_onnx(graph, path)
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    names = [o.name for o in sess.get_outputs()]
    got = dict(zip(names, sess.run(None, feeds)))
    for k, w in want.items():
        np.testing.assert_allclose(got[k], w, rtol=2e-5, atol=2e-5, err_msg=k)


def test_python_builder_validates_like_the_spec():
    b = webnn.MLGraphBuilder()
    x = b.input("x", [3, 2, 5], "float32")
    w = b.constant(rand(1, 16, 5))
    r = b.constant(rand(1, 16, 4))
    with pytest.raises(TypeError, match="lstm.*weight"):
        b.lstm(x, w, r, 3, 5)
    with pytest.raises(TypeError, match="activations"):
        b.lstm(x, w, r, 3, 4, activations=["sigmoid", "tanh"])
    with pytest.raises(TypeError, match="direction"):
        b.lstm(x, w, r, 3, 4, direction="sideways")
    hidden, cell = b.lstm(x, w, r, 3, 4)
    assert hidden.shape == [1, 2, 4] and cell.shape == [1, 2, 4]
