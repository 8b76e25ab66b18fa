"""Dynamic shapes (docs/dynamic-shapes.md) on real ONNX files, against ONNX Runtime.

A model imported with load_onnx(dynamic={symbol: (min, opt, max)}) runs at any shape in
the ranges; an engine built from it with a profile (Engine.build(shapes=...)) too. Each is
checked at the corners of the ranges and at odd shapes between them against ONNX Runtime
on the same file and inputs (relative L2 of the whole output), and against a fixed-shape
import at the same shape (the same computation, so within float32 rounding)."""
import os
import pathlib

import numpy as np
import onnxruntime as ort
import pytest
from webnn_testing import export_feeds

webnn = pytest.importorskip("webnn")

ROOT = pathlib.Path(__file__).resolve().parents[2]
PRETRAINED = pathlib.Path(os.environ.get("CPPNN_PRETRAINED",
                                         pathlib.Path(os.environ.get("CPPNN_BUILD", ROOT / "build"))
                                         / "pretrained"))


def rel_l2(got, want):
    got, want = np.asarray(got, np.float64), np.asarray(want, np.float64)
    return float(np.linalg.norm(got - want) / max(np.linalg.norm(want), 1e-30))


def bert_inputs(n, s, seed):
    rng = np.random.default_rng(seed)
    ids = rng.integers(1, 30000, size=(n, s)).astype(np.int64)
    mask = np.ones((n, s), np.int64)
    mask[0, s // 2 + 1:] = 0  # padding in the first row: the additive mask matters
    return {"input_ids": ids, "attention_mask": mask}


@pytest.fixture(scope="module")
def bert(generated_models):
    path = generated_models / "bert_base.onnx"
    if not path.exists():
        pytest.skip(f"{path} is missing (make models)")
    return path


@pytest.fixture(scope="module")
def bert_dynamic(bert):
    return webnn.load_onnx(str(bert), dynamic={"N": (1, 2, 3), "S": (4, 16, 40)})


@pytest.fixture(scope="module")
def bert_ort(bert):
    return ort.InferenceSession(str(bert), providers=["CPUExecutionProvider"])


def test_bert_symbols_and_their_inputs(bert_dynamic):
    g = bert_dynamic
    assert g.dynamic
    assert g.symbols == {"N": (1, 2, 3), "S": (4, 16, 40)}
    assert g.input_symbols == {"input_ids": ["N", "S"], "attention_mask": ["N", "S"]}
    assert g.inputs["input_ids"][0] == [2, 16]  # the graph at opt
    assert g.specialize({"N": 3, "S": 7}).outputs["last_hidden_state"][0] == [3, 7, 768]
    assert not g.specialize({"N": 3, "S": 7}).dynamic


@pytest.mark.parametrize("n,s", [(2, 16), (1, 4), (3, 40), (1, 40), (3, 4), (2, 23)])
def test_bert_at_every_shape_of_the_range_matches_onnxruntime(ctx, bert_dynamic, bert_ort, n, s):
    feeds = bert_inputs(n, s, seed=n * 100 + s)
    got = ctx.compute(bert_dynamic, feeds)["last_hidden_state"]
    want = bert_ort.run(["last_hidden_state"], feeds)[0]
    assert got.shape == (n, s, 768)
    assert rel_l2(got, want) < 1e-5


def test_bert_dynamic_equals_a_fixed_import_at_the_same_shape(ctx, bert, bert_dynamic):
    feeds = bert_inputs(3, 9, seed=5)
    fixed = webnn.load_onnx(str(bert), dim_values={"N": 3, "S": 9})
    a = ctx.compute(bert_dynamic, feeds)["last_hidden_state"]
    b = ctx.compute(fixed, feeds)["last_hidden_state"]
    assert rel_l2(a, b) < 1e-6


def test_bert_profile_engine_round_trip_float32_and_float16(ctx, bert_dynamic, bert_ort):
    profile = ((1, 4), (2, 16), (3, 32))
    for precision, bound in (("float32", 1e-5), ("float16", 5e-3)):
        engine = webnn.Engine.build(bert_dynamic, precision,
                                    shapes={"input_ids": profile, "attention_mask": profile})
        loaded = webnn.Engine.from_bytes(engine.to_bytes())
        assert loaded.graph.symbols == {"N": (1, 2, 3), "S": (4, 16, 32)}
        for n, s in ((1, 4), (3, 32), (2, 13)):
            feeds = bert_inputs(n, s, seed=s)
            got = ctx.compute(loaded.graph, feeds)["last_hidden_state"]
            want = bert_ort.run(["last_hidden_state"], feeds)[0]
            assert rel_l2(got, want) < bound, (precision, n, s)
        with pytest.raises(TypeError, match="whose range is"):
            ctx.compute(loaded.graph, bert_inputs(1, 33, seed=0))


def test_profile_errors(bert_dynamic):
    with pytest.raises(TypeError, match="wider range"):
        webnn.Engine.build(bert_dynamic, shapes={"input_ids": ((1, 4), (2, 16), (3, 41))})
    with pytest.raises(TypeError, match="no input of the graph"):
        webnn.Engine.build(bert_dynamic, shapes={"ids": ((1, 4), (2, 16), (3, 40))})
    with pytest.raises(TypeError, match="another range"):
        webnn.Engine.build(bert_dynamic, shapes={"input_ids": ((1, 4), (2, 16), (3, 40)),
                                                 "attention_mask": ((1, 4), (2, 16), (3, 30))})


def test_import_errors(bert):
    with pytest.raises(TypeError, match="no symbolic dimension 'T'"):
        webnn.load_onnx(str(bert), dim_values={"N": 1}, dynamic={"T": (1, 2, 3)})
    with pytest.raises(TypeError, match="both a value"):
        webnn.load_onnx(str(bert), dim_values={"N": 1, "S": 8}, dynamic={"S": (1, 2, 3)})
    with pytest.raises(TypeError, match="min <= opt <= max"):
        webnn.load_onnx(str(bert), dim_values={"N": 1}, dynamic={"S": (4, 2, 8)})
    # A position table of 512 rows: a range past it fails at the maxima, naming them.
    with pytest.raises(Exception, match="S=600"):
        webnn.load_onnx(str(bert), dim_values={"N": 1}, dynamic={"S": (4, 8, 600)})


def test_mobilenet_dynamic_batch_matches_onnxruntime(ctx, generated_models):
    path = generated_models / "mobilenet_v2.onnx"
    if not path.exists():
        path = generated_models.parent.parent / "shared" / "models" / "mobilenet_v2.onnx"
    if not path.exists():
        pytest.skip("mobilenet_v2.onnx is missing")
    g = webnn.load_onnx(str(path), dynamic={"N": (1, 1, 4)})
    assert g.input_symbols["input"] == ["N", "", "", ""]
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    rng = np.random.default_rng(3)
    for n in (3, 1):
        x = rng.standard_normal((n, 3, 224, 224)).astype(np.float32)
        got = list(ctx.compute(g, {"input": x}).values())[0]
        want = sess.run(None, {"input": x})[0]
        assert got.shape == want.shape
        assert rel_l2(got, want) < 1e-4


def test_a_convolution_over_a_dynamic_width_is_not_supported():
    """Strided convolutions make sizes like floor(W / 4): not polynomials in W. The error
    names the node and says what to do instead."""
    path = PRETRAINED / "rapidocr" / "ch_PP-OCRv4_rec_infer.onnx"
    if not path.exists():
        pytest.skip(f"{path} is missing (make pretrained)")
    with pytest.raises(webnn.NotSupportedError, match="(multilinear|structure).*fixed value"):
        webnn.load_onnx(str(path), dim_values={"p2o.DynamicDimension.0": 1, "x:2": 48},
                        dynamic={"p2o.DynamicDimension.1": (96, 160, 320)})


FIXTURES = pathlib.Path(__file__).resolve().parent / "dynamic_fixtures"

# Tiny PyTorch exports (dynamic_fixtures/make_fixtures.py): the benchmark's GPT-2 prefill
# and decode step (the position of the new token is the past length: a gather index that the
# graph patches per shape) and transformers' Whisper encoder.
EXPORTS = {
    "gpt2_tiny_prefill.onnx": ({"batch": (1, 1, 4), "seq": (1, 8, 64)},
                               [{"batch": 1, "seq": 1}, {"batch": 4, "seq": 64}, {"batch": 2, "seq": 13}]),
    "gpt2_tiny_decode.onnx": ({"batch": (1, 1, 4), "past": (1, 7, 63)},
                              [{"batch": 1, "past": 1}, {"batch": 3, "past": 63}, {"batch": 2, "past": 20}]),
    "whisper_tiny_encoder.onnx": ({"batch": (1, 2, 8)}, [{"batch": 1}, {"batch": 8}, {"batch": 5}]),
    "bert_tiny.onnx": ({"batch": (1, 1, 6), "seq": (1, 16, 64)},
                       [{"batch": 1, "seq": 1}, {"batch": 6, "seq": 64}, {"batch": 3, "seq": 11}]),
}


@pytest.mark.parametrize("name", sorted(EXPORTS))
def test_pytorch_exports_at_every_shape_of_the_range_match_onnxruntime(ctx, name):
    ranges, shapes = EXPORTS[name]
    path = str(FIXTURES / name)
    g = webnn.load_onnx(path, dynamic=ranges)
    assert g.symbols == ranges
    sess = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    names = [o.name for o in sess.get_outputs()]
    engine = webnn.Engine.from_bytes(webnn.Engine.build(g).to_bytes())
    for k, values in enumerate(shapes):
        feeds = export_feeds(sess, values, seed=k)
        want = dict(zip(names, sess.run(None, feeds)))
        for graph in (g, engine.graph):
            got = ctx.compute(graph, feeds)
            for out in names:
                assert got[out].shape == want[out].shape, (name, values, out)
                assert rel_l2(got[out], want[out]) < 1e-5, (name, values, out)


def test_gpt2_decode_patches_the_position_it_looks_up(ctx):
    """The new token's position (the past length) is a constant index into the position
    table: it must follow the past length, not stay at the opt value."""
    path = str(FIXTURES / "gpt2_tiny_decode.onnx")
    g = webnn.load_onnx(path, dynamic={"batch": (1, 1, 1), "past": (1, 7, 63)})
    sess = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    feeds = export_feeds(sess, {"batch": 1, "past": 40}, seed=9)
    want = sess.run(["logits"], feeds)[0]
    got = ctx.compute(g, feeds)["logits"]
    assert rel_l2(got, want) < 1e-5
    # The graph at opt with this past's caches would be another result (the check can fail).
    fixed = webnn.load_onnx(path, dim_values={"batch": 1, "past": 7})
    short = {k: (v[:, :, :7] if v.ndim == 4 else v) for k, v in feeds.items()}
    assert rel_l2(ctx.compute(fixed, short)["logits"], want) > 1e-3
