"""The CPU backend's fused attention (src/backends/cpu/matmul_attention.cpp) on real PyTorch
exports (dynamic_fixtures: transformers' BERT with its padding mask, Whisper's encoder
without a mask, GPT-2's causal prefill and its decode step): the plan runs every layer's
attention as one step, and the outputs match ONNX Runtime on the same file and inputs.
(test_dynamic_shapes.py checks the same exports at more shapes; this file makes sure those
checks go through the fused kernel.)"""
import pathlib

import numpy as np
import onnxruntime as ort
import pytest
from webnn_testing import export_feeds

webnn = pytest.importorskip("webnn")

FIXTURES = pathlib.Path(__file__).resolve().parent / "dynamic_fixtures"

CASES = [
    ("bert_tiny.onnx", {"batch": 3, "seq": 11}),
    ("whisper_tiny_encoder.onnx", {"batch": 2}),
    ("gpt2_tiny_prefill.onnx", {"batch": 2, "seq": 13}),
    ("gpt2_tiny_decode.onnx", {"batch": 2, "past": 20}),
]


def rel_l2(got, want):
    got, want = np.asarray(got, np.float64), np.asarray(want, np.float64)
    return float(np.linalg.norm(got - want) / max(np.linalg.norm(want), 1e-30))


@pytest.mark.parametrize("name,values", CASES, ids=[c[0] for c in CASES])
def test_exports_run_fused_attention_and_match_onnxruntime(ctx, name, values):
    path = str(FIXTURES / name)
    sess = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    feeds = export_feeds(sess, values)
    g = webnn.load_onnx(path, dim_values=values)
    report = ctx.report(g)
    steps = [line for line in report.splitlines() if line.startswith("  attention ")]
    assert len(steps) == 2, report  # two layers, each one fused step
    assert not any(line.startswith("  softmax ") for line in report.splitlines()), report
    names = [o.name for o in sess.get_outputs()]
    want = dict(zip(names, sess.run(None, feeds)))
    got = ctx.compute(g, {k: feeds[k] for k in g.inputs})
    for out in names:
        assert got[out].shape == want[out].shape, out
        assert rel_l2(got[out], want[out]) < 1e-5, (out, rel_l2(got[out], want[out]))
