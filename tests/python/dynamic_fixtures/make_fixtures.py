"""Makes the tiny PyTorch exports test_dynamic_shapes.py runs (committed; needs torch and
transformers to remake): the benchmark's own GPT-2 (bench/gpu/bench_gpu.py, plain PyTorch:
prefill, and one decode step with the KV cache as inputs), transformers' BertModel (whose
padding mask transformers 5 builds by gathering with a flattened index grid, n * S + s: a
constant generated per shape) and WhisperEncoder,
each with a tiny configuration and random weights, exported as bench_gpu.py exports the
full-size ones (TorchScript exporter, opset 17, dynamic batch / sequence / past axes).

    python3 tests/python/dynamic_fixtures/make_fixtures.py
"""
import pathlib
import sys

import torch

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[2] / "bench" / "gpu"))
import bench_gpu as b  # noqa: E402

TINY_GPT2 = {"n_layer": 2, "n_embd": 32, "n_head": 2, "vocab": 97, "n_positions": 64}


def export(module, inputs, names, outputs, dynamic_axes, path):
    with torch.no_grad():
        torch.onnx.export(module, inputs, str(path), opset_version=17, dynamo=False,
                          input_names=names, output_names=outputs, dynamic_axes=dynamic_axes,
                          do_constant_folding=True)
    print(path.name, path.stat().st_size, "bytes")


def main():
    torch.manual_seed(0)
    GPT2Model, Prefill, Decode = b.gpt2_modules()
    core = GPT2Model(dict(TINY_GPT2)).eval()
    n = TINY_GPT2["n_layer"]
    past = [f"past_{kv}_{i}" for i in range(n) for kv in ("key", "value")]
    present = [f"present_{kv}_{i}" for i in range(n) for kv in ("key", "value")]
    ids = torch.randint(0, TINY_GPT2["vocab"], (2, 5))
    dyn = {"input_ids": {0: "batch", 1: "seq"}, "logits": {0: "batch", 1: "seq"}}
    dyn.update({p: {0: "batch", 2: "seq"} for p in present})
    export(Prefill(core).eval(), (ids,), ["input_ids"], ["logits"] + present, dyn,
           HERE / "gpt2_tiny_prefill.onnx")
    heads, hd = TINY_GPT2["n_head"], TINY_GPT2["n_embd"] // TINY_GPT2["n_head"]
    kv = tuple(torch.randn(2, heads, 7, hd) for _ in past)
    dyn = {"input_ids": {0: "batch"}, "logits": {0: "batch"}}
    dyn.update({p: {0: "batch", 2: "past"} for p in past})
    dyn.update({p: {0: "batch", 2: "total"} for p in present})
    export(Decode(core).eval(), (ids[:, :1],) + kv, ["input_ids"] + past, ["logits"] + present, dyn,
           HERE / "gpt2_tiny_decode.onnx")

    from transformers import BertConfig

    bert_cfg = BertConfig(vocab_size=99, hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                          intermediate_size=64, max_position_embeddings=64)
    bert = b.bert_last_hidden(bert_cfg)
    dyn = {k: {0: "batch", 1: "seq"} for k in ("input_ids", "attention_mask", "last_hidden_state")}
    export(bert, (torch.randint(0, 99, (2, 9)), torch.ones(2, 9, dtype=torch.int64)),
           ["input_ids", "attention_mask"], ["last_hidden_state"], dyn, HERE / "bert_tiny.onnx")

    from transformers import WhisperConfig

    cfg = WhisperConfig(d_model=32, encoder_layers=2, encoder_attention_heads=2, encoder_ffn_dim=64,
                        num_mel_bins=8, max_source_positions=24)
    enc = b.whisper_last_hidden(cfg)
    export(enc, (torch.randn(2, 8, 48),), ["input_features"], ["last_hidden_state"],
           {"input_features": {0: "batch"}, "last_hidden_state": {0: "batch"}},
           HERE / "whisper_tiny_encoder.onnx")


if __name__ == "__main__":
    main()
