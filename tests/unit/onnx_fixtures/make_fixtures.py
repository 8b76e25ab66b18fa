#!/usr/bin/env python3
"""Makes the ONNX importer's fixtures (needs numpy, onnx, onnxruntime; run from anywhere):

  mobilenet_v2_logits.txt  ONNX Runtime's logits of ../shared/models/mobilenet_v2.onnx
                           ('input.1' [1,3,224,224] -> '536' [1,1000]) for x[i] = sin(i * 0.001)
                           (row-major, float64 rounded to float32; the C++ test makes the same x).
  tiny_bert.onnx           a 1-layer BERT (hidden 16, 2 heads, ffn 32, vocab 50, 16 positions)
                           from ../shared/models/make_models_onnx.py, with its symbolic N and S
                           and torch-style shape arithmetic (Shape, Slice, Expand, Unsqueeze...).
  tiny_bert_output.txt     its last_hidden_state [2, 8, 16] from ONNX Runtime for
                           input_ids[i] = (7 * i + 3) % 50 and attention_mask[n][s] = 0 when
                           n == 1 and s >= 6, else 1.

Usage: python3 make_fixtures.py [SHARED_MODELS_DIR]
"""
import sys
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort

here = Path(__file__).resolve().parent
models = Path(sys.argv[1]) if len(sys.argv) > 1 else here / "../../../../shared/models"
sys.path.insert(0, str(models))
import make_models_onnx  # noqa: E402


def session(model):
    opts = ort.SessionOptions()
    # The reference is the plain fp32 graph, without ONNX Runtime's fusions.
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    return ort.InferenceSession(model, opts, providers=["CPUExecutionProvider"])


def write_values(path, header, values):
    with open(path, "w") as f:
        f.write(f"# {header}; made by make_fixtures.py\n")
        for v in values.reshape(-1):
            f.write(f"{float(v):.9g}\n")
    print(f"wrote {path}: {values.size} values, std {values.std():.4g}")


shape = (1, 3, 224, 224)
x = np.sin(np.arange(np.prod(shape), dtype=np.float64) * 0.001).astype(np.float32).reshape(shape)
(logits,) = session(str(models / "mobilenet_v2.onnx")).run(["536"], {"input.1": x})
write_values(here / "mobilenet_v2_logits.txt", "mobilenet_v2.onnx logits for x[i] = sin(i * 0.001)",
             logits)

g = make_models_onnx.build_bert_base(0, layers=1, hidden=16, heads=2, ffn=32, vocab=50, max_pos=16)
bert = here / "tiny_bert.onnx"
onnx.save_model(g.model(), str(bert))
onnx.checker.check_model(str(bert), full_check=True)
n, s = 2, 8
ids = ((7 * np.arange(n * s) + 3) % 50).astype(np.int64).reshape(n, s)
mask = np.ones((n, s), np.int64)
mask[1, 6:] = 0
(hidden,) = session(str(bert)).run(["last_hidden_state"], {"input_ids": ids, "attention_mask": mask})
write_values(here / "tiny_bert_output.txt", "tiny_bert.onnx last_hidden_state [2, 8, 16]", hidden)
print(f"wrote {bert}: {bert.stat().st_size} bytes")
