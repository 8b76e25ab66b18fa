#!/usr/bin/env python3
"""The GPU benchmark of issue #19: cppnn's float16 engines against PyTorch's two fastest
ways to run the same model, side by side in one process, plus accuracy and JIT times.

Models (built in PyTorch after torch.manual_seed(0), fp32 master copy on the GPU, a fresh
deep copy of it per precision):
- bert_base: transformers BertModel(BertConfig(), add_pooling_layer=False), the default
  attention implementation (sdpa), input_ids + attention_mask with the last 8 of 128
  positions masked; output last_hidden_state. Batch 1 and 32.
- resnet50, mobilenet_v2: torchvision, weights=None, batch-norm statistics calibrated on 4
  random batches (train() with momentum=None: a cumulative average), then eval(); without
  that, random statistics make activations vanish and float16 underflows. Batch 1 and 32.
- whisper_encoder: transformers WhisperEncoder (d_model 512, 6 layers, 8 heads, FFN 2048,
  80 mel bins, 1500 positions), input_features [B, 80, 3000]. Batch 1 and 8.
- gpt2_prefill / gpt2_decode: a GPT-2-small-style decoder written here in plain PyTorch
  (12 layers, 768 wide, 12 heads, vocabulary 50257, learned positions, pre-LN, GELU tanh,
  tied output projection, explicit matmul / softmax attention with a constant causal mask).
  prefill: 512 tokens -> logits and the present keys / values; decode: one token with the
  KV cache of 511 positions as inputs (past_key_i / past_value_i [B, 12, 511, 64]) ->
  logits and present_key_i / present_value_i [B, 12, 512, 64]. The past comes from the
  model's own fp32 prefill of 511 random tokens. Batch 1. The causal mask is applied with
  masked_fill(-inf) (ONNX Where, as transformers' GPT-2), or with --gpt2-mask add as an
  additive 0 / -inf bias (ONNX Add; its own ONNX file and rows).

Each model is exported once to ONNX (TorchScript exporter: opset 17, dynamo=False, dynamic
batch / sequence / past axes) into --work (default /tmp/cppnn-bench), keyed by model name
with a fingerprint of the weights: a second run reuses the file.

Timed per model and batch, medians of --iters runs after --warmup, inputs and outputs on
the GPU, torch.cuda.synchronize() before and after every run (host wall time, launch
included, as an application sees it):
- eager_graph_<p>: eager PyTorch in precision p, its forward captured once in a
  torch.cuda.CUDAGraph on static input tensors, replayed;
- compile_<p>: torch.compile(model, mode="reduce-overhead", dynamic=False) (CUDA graphs
  too); the first call's wall time is its compile time (compile_s);
- cppnn_<p>: webnn.Engine.build(load_onnx(file, dim_values), precision=p) compiled on a
  CUDA context (create_context(accelerated=True, power_preference="high-performance")),
  timed as context.dispatch(graph, inputs, outputs) on torch CUDA tensors bound once with
  context.wrap_tensor (ONNX Runtime's IO binding; a CUDA graph replays on static buffers
  too). A float16 engine is built with keep_io_types=False: it takes and returns float16
  as the float16 PyTorch model does (--keep-io-types: a float32 interface, cast inside;
  "cppnn_io" says which), int64 ids as they are. Imported tensors make dispatch wait for
  the producer's GPU before it runs and for its own work before it returns, so the loop is
  synchronous either way;
- cppnn_dlpack_<p>: the same, the torch tensors passed to dispatch directly (each one
  imported through DLPack on every call);
- cppnn_mltensor_<p>: the same engine on MLTensors made by the context (no DLPack import
  per call), dispatch then context.synchronize();
- cppnn_profile_<p>: an engine with a dynamic-shape profile (min / opt / max, opt = the
  measured shape), where Engine.build takes shapes=; otherwise "not available".
p is float16 and bfloat16 (--precisions): a precision cppnn's Engine.build does not take
(NotSupportedError today for bfloat16; TypeError for an unknown one) is recorded as "not available", and the script uses it
without edits once it lands. torch.compile runs in float16 only unless --compile-bf16.

Accuracy: every result's main output (last_hidden_state / logits) against the fp32 master
on the GPU with TF32 off: relative L2 ||a-b|| / ||b|| and max abs (plus every output of
the GPT-2 graphs, in "accuracy_all").

JIT: the float16 engine is saved, then compiled twice in fresh Python processes with the
same new CPPNN_CACHE_DIR (cold: empty runtime cache, warm: filled by the cold one):
context creation, compile and first compute, against torch.compile's first-call time.
--profile also runs the engine once through the cppnn tool (--cppnn, default BUILD/cppnn
beside the webnn package) with CPPNN_CUDA_PROFILE=1 and --report, and saves the per-step
profile to profiles/MODEL-bB-PRECISION.txt beside the JSON.

Output: --out (default $OUT/gpu_bench.json when OUT is set, else WORK/gpu_bench.json),
rewritten after every model and batch; each case is independent (a failure is recorded in
its "errors" and "status", the script goes on). Cases not started after --budget seconds
are recorded as skipped. Subsetting: --models a,b --batches 1 (the default batches of each
model that are in the list) or --cases bert_base:32,gpt2_decode:1; --no-compile, --no-torch
(cppnn only), --no-jit and --precisions float16 make a call shorter.

    PYTHONPATH=BUILD/python python3 bench/gpu/bench_gpu.py --models bert_base,resnet50 \
        [--batches 1,32] [--work /tmp/cppnn-bench] [--out FILE] [--profile]

Report mode (no torch, no GPU): merges result JSONs (a later file's case replaces an
earlier one's), writes the stable subset to --results, prints the markdown table (ratio =
cppnn / the faster of the two PyTorch times of the same run; below 1, cppnn is faster) and
draws bench/results/gpu_transformers.png with matplotlib:

    python3 bench/gpu/bench_gpu.py --report a.json b.json \
        [--results bench/results/gpu_transformers.json] [--plot PNG] [--readme-table]

torch, torchvision, transformers and webnn are imported inside the functions that use
them, so the report mode and the argument parsing run without them. bench/gpu/README.md
says how to run it on the GPU machine (bench/gpu/run_bench.sh).
"""
import argparse
import copy
import datetime
import hashlib
import json
import math
import os
import pathlib
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import traceback

ROOT = pathlib.Path(__file__).resolve().parents[2]
DEFAULT_RESULTS = ROOT / "bench" / "results" / "gpu_transformers.json"
DEFAULT_PLOT = ROOT / "bench" / "results" / "gpu_transformers.png"

# name -> default batches, the target for cppnn / best peer, and a label.
MODELS = {
    "bert_base": {"batches": (1, 32), "target": 0.7, "label": "BERT-base, seq 128"},
    "resnet50": {"batches": (1, 32), "target": 0.6, "label": "ResNet-50"},
    "mobilenet_v2": {"batches": (1, 32), "target": {1: 0.5, "else": 0.6}, "label": "MobileNetV2"},
    "whisper_encoder": {"batches": (1, 8), "target": 0.8,
                        "label": "Whisper encoder (512 wide, 6 layers, 30 s)"},
    "gpt2_prefill": {"batches": (1,), "target": 0.8, "label": "GPT-2 small, prefill 512"},
    "gpt2_decode": {"batches": (1,), "target": 0.8,
                    "label": "GPT-2 small, decode 1 token (past 511)"},
}
PRECISIONS = ("float16", "bfloat16")
BERT_SEQ, BERT_MASKED = 128, 8
GPT2_CONFIG = {"n_layer": 12, "n_embd": 768, "n_head": 12, "vocab": 50257, "n_positions": 1024}
GPT2_PREFILL, GPT2_PAST = 512, 511
BN_CALIBRATION_BATCHES, BN_CALIBRATION_SIZE = 4, 8
EXPORT_BATCH = 2  # not 1: a traced size-1 dimension can be specialized away


def target_of(model, batch):
    t = MODELS.get(model, {}).get("target")
    if isinstance(t, dict):
        return t.get(batch, t.get("else"))
    return t


def log(msg):
    print(msg, flush=True)


# ---------------------------------------------------------------- arguments

def parse_cases(text):
    out = []
    for item in text.split(","):
        item = item.strip()
        if not item:
            continue
        name, _, b = item.partition(":")
        if name not in MODELS:
            raise ValueError(f"unknown model '{name}' in --cases; known: {', '.join(MODELS)}")
        try:
            batch = int(b)
        except ValueError:
            raise ValueError(f"--cases item '{item}' must be MODEL:BATCH") from None
        if batch < 1:
            raise ValueError(f"--cases item '{item}': the batch must be >= 1")
        out.append((name, batch))
    return out


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--models", default=",".join(MODELS),
                   help="comma-separated, from: " + ", ".join(MODELS))
    p.add_argument("--batches", default=None,
                   help="keep only these of each model's default batches (e.g. 1 or 32)")
    p.add_argument("--cases", default=None,
                   help="exact MODEL:BATCH pairs, comma-separated (overrides --models / --batches)")
    p.add_argument("--precisions", default=",".join(PRECISIONS),
                   help="reduced precisions to time (float16, bfloat16)")
    p.add_argument("--compile-bf16", action="store_true",
                   help="torch.compile in bfloat16 too (another ~30-60 s a case)")
    p.add_argument("--no-compile", action="store_true", help="skip torch.compile (quick trials)")
    p.add_argument("--no-torch", action="store_true",
                   help="skip PyTorch's reduced-precision runs (cppnn only; the fp32 reference still runs)")
    p.add_argument("--keep-io-types", action="store_true",
                   help="float16 engines keep float32 inputs and outputs (cast at the interface) "
                        "instead of taking float16 as the float16 PyTorch model does")
    p.add_argument("--gpt2-mask", default="where", choices=["where", "add"],
                   help="GPT-2's causal mask: masked_fill (ONNX Where, as transformers' GPT-2) "
                        "or an additive 0 / -inf bias (ONNX Add)")
    p.add_argument("--iters", type=int, default=100, help="timed runs per measurement")
    p.add_argument("--warmup", type=int, default=20, help="untimed runs first")
    p.add_argument("--work", default=os.environ.get("CPPNN_BENCH_WORK", "/tmp/cppnn-bench"),
                   help="ONNX files, engines, caches (reused by a second call)")
    p.add_argument("--out", default=None,
                   help="JSON results (default $OUT/gpu_bench.json, else WORK/gpu_bench.json)")
    p.add_argument("--budget", type=float, default=540.0,
                   help="seconds after which cases not started yet are skipped")
    p.add_argument("--profile", action="store_true",
                   help="also run each float16 engine through the cppnn tool with "
                        "CPPNN_CUDA_PROFILE=1 --report; the text goes to profiles/ beside the JSON")
    p.add_argument("--cppnn", default=None,
                   help="the cppnn tool for --profile (default: BUILD/cppnn beside the webnn package)")
    p.add_argument("--no-jit", action="store_true", help="skip the cold / warm JIT subprocesses")
    p.add_argument("--device", default="cuda", choices=["cuda", "cpu"],
                   help="cpu: a trial of the script on a machine without a GPU (no CUDA graphs, "
                        "no torch.compile, cppnn on its CPU backend); its times mean nothing")
    # report mode
    p.add_argument("--report", nargs="+", metavar="JSON", default=None,
                   help="report mode: merge these result files, write --results, print the table")
    p.add_argument("--results", default=str(DEFAULT_RESULTS),
                   help="report mode: where the stable subset goes")
    p.add_argument("--plot", default=None,
                   help=f"report mode: the PNG (default {DEFAULT_PLOT.relative_to(ROOT)} when "
                        "--results is the default, else beside --results)")
    p.add_argument("--readme-table", action="store_true",
                   help="report mode: print the README's markdown table")
    p.add_argument("--no-write", action="store_true", help="report mode: write nothing")
    a = p.parse_args(argv)
    if a.report is not None:
        return a
    try:
        if a.cases:
            a.case_list = parse_cases(a.cases)
        else:
            models = [m.strip() for m in a.models.split(",") if m.strip()]
            bad = [m for m in models if m not in MODELS]
            if bad:
                p.error(f"unknown model(s) {', '.join(bad)}; known: {', '.join(MODELS)}")
            keep = None
            if a.batches:
                keep = {int(b) for b in a.batches.split(",") if b.strip()}
            a.case_list = [(m, b) for m in models for b in MODELS[m]["batches"]
                           if keep is None or b in keep]
    except ValueError as e:
        p.error(str(e))
    if not a.case_list:
        p.error("no case left to run (check --models / --batches / --cases)")
    a.precision_list = [x.strip() for x in a.precisions.split(",") if x.strip()]
    bad = [x for x in a.precision_list if x not in PRECISIONS]
    if bad or not a.precision_list:
        p.error(f"--precisions takes {', '.join(PRECISIONS)}")
    if a.iters < 1 or a.warmup < 0:
        p.error("--iters must be >= 1 and --warmup >= 0")
    if a.out is None:
        a.out = os.path.join(os.environ.get("OUT") or a.work, "gpu_bench.json")
    return a


# ---------------------------------------------------------------- small helpers

def rel_err(a, b):
    """||a-b|| / ||b|| (float64) and max |a-b|; b is the reference. Tensors or arrays."""
    import numpy as np
    a = _np64(a)
    b = _np64(b)
    if a.shape != b.shape:
        raise ValueError(f"shapes differ: {list(a.shape)} vs {list(b.shape)}")
    nb = float(np.linalg.norm(b))
    return {"rel_l2": float(np.linalg.norm(a - b)) / (nb if nb > 0 else 1e-30),
            "max_abs": float(np.max(np.abs(a - b))) if a.size else 0.0,
            "finite": bool(np.isfinite(a).all()), "ref_rms": float(np.sqrt(np.mean(b * b))) if b.size else 0.0}


def _np64(x):
    import numpy as np
    if hasattr(x, "detach"):
        x = x.detach().float().cpu().numpy()
    return np.asarray(x, dtype=np.float64)


def ratio(num, den):
    if num is None or den is None or not den or (isinstance(num, float) and math.isnan(num)):
        return None
    return num / den


def write_json(path, doc):
    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(doc, indent=2, default=str) + "\n")
    tmp.replace(path)


def short(e, n=600):
    return f"{type(e).__name__}: {str(e)[:n]}"


# ---------------------------------------------------------------- the models

def gpt2_modules():
    """The GPT-2-small-style decoder in plain PyTorch (classes made on first use, so that
    this file imports without torch). Parameter names follow transformers' GPT2Model, with
    nn.Linear (weight [out, in]) where GPT-2 has Conv1D (weight [in, out])."""
    import torch
    from torch import nn
    import torch.nn.functional as F

    class Attention(nn.Module):
        def __init__(self, c):
            super().__init__()
            self.n_head, self.head_dim = c["n_head"], c["n_embd"] // c["n_head"]
            self.c_attn = nn.Linear(c["n_embd"], 3 * c["n_embd"])
            self.c_proj = nn.Linear(c["n_embd"], c["n_embd"])
            n = c["n_positions"]
            # The causal mask: a constant upper-triangular matrix over the key positions a
            # query must NOT see (key position > query position), sliced to [past:total,
            # :total]. c["mask"] "where" (default, as transformers' GPT-2 does it):
            # masked_fill(-inf) with a bool matrix, exported as ONNX Where(mask, -inf,
            # scores); "add": an additive bias of 0 / -inf, exported as Add(scores, bias).
            # Every row keeps its own position, so no row is all -inf.
            self.additive = c.get("mask", "where") == "add"
            future = torch.triu(torch.ones(n, n, dtype=torch.bool), 1).view(1, 1, n, n)
            if self.additive:
                bias = torch.zeros(1, 1, n, n).masked_fill(future, float("-inf"))
                self.register_buffer("mask_bias", bias, persistent=False)
            else:
                self.register_buffer("future", future, persistent=False)

        def forward(self, x, past_k=None, past_v=None):
            b, s, c = x.size(0), x.size(1), x.size(2)
            q, k, v = self.c_attn(x).split(c, dim=2)
            q = q.view(b, s, self.n_head, self.head_dim).transpose(1, 2)
            k = k.view(b, s, self.n_head, self.head_dim).transpose(1, 2)
            v = v.view(b, s, self.n_head, self.head_dim).transpose(1, 2)
            if past_k is not None:
                k = torch.cat([past_k, k], dim=2)
                v = torch.cat([past_v, v], dim=2)
            total = k.size(2)
            past = total - s
            att = torch.matmul(q, k.transpose(-2, -1)) * (1.0 / math.sqrt(self.head_dim))
            if self.additive:
                att = att + self.mask_bias[:, :, past:total, :total]
            else:
                att = att.masked_fill(self.future[:, :, past:total, :total], float("-inf"))
            att = F.softmax(att, dim=-1)
            y = torch.matmul(att, v).transpose(1, 2).reshape(b, s, c)
            return self.c_proj(y), k, v

    class MLP(nn.Module):
        def __init__(self, c):
            super().__init__()
            self.c_fc = nn.Linear(c["n_embd"], 4 * c["n_embd"])
            self.c_proj = nn.Linear(4 * c["n_embd"], c["n_embd"])

        def forward(self, x):
            return self.c_proj(F.gelu(self.c_fc(x), approximate="tanh"))  # GPT-2's gelu_new

    class Block(nn.Module):
        def __init__(self, c):
            super().__init__()
            self.ln_1 = nn.LayerNorm(c["n_embd"], eps=1e-5)
            self.attn = Attention(c)
            self.ln_2 = nn.LayerNorm(c["n_embd"], eps=1e-5)
            self.mlp = MLP(c)

        def forward(self, x, past_k=None, past_v=None):
            a, k, v = self.attn(self.ln_1(x), past_k, past_v)
            x = x + a
            return x + self.mlp(self.ln_2(x)), k, v

    class GPT2Decoder(nn.Module):
        """forward(input_ids [B, S], pasts: [k_0, v_0, k_1, v_1, ...] or None) ->
        (logits [B, S, vocab], [present k_0, v_0, ...] each [B, heads, past + S, 64])."""

        def __init__(self, c=GPT2_CONFIG):
            super().__init__()
            self.config = dict(c)
            self.wte = nn.Embedding(c["vocab"], c["n_embd"])
            self.wpe = nn.Embedding(c["n_positions"], c["n_embd"])
            self.h = nn.ModuleList(Block(c) for _ in range(c["n_layer"]))
            self.ln_f = nn.LayerNorm(c["n_embd"], eps=1e-5)
            self.lm_head = nn.Linear(c["n_embd"], c["vocab"], bias=False)
            self.lm_head.weight = self.wte.weight  # tied, as GPT-2's
            self.apply(self._init)
            for name, p in self.named_parameters():  # GPT-2's scaled residual projections
                if name.endswith("c_proj.weight"):
                    nn.init.normal_(p, mean=0.0, std=0.02 / math.sqrt(2 * c["n_layer"]))

        @staticmethod
        def _init(m):
            if isinstance(m, (nn.Linear, nn.Embedding)):
                nn.init.normal_(m.weight, mean=0.0, std=0.02)
            if isinstance(m, nn.Linear) and m.bias is not None:
                nn.init.zeros_(m.bias)

        def forward(self, input_ids, pasts=None):
            s = input_ids.size(1)
            past = 0 if pasts is None else pasts[0].size(2)
            pos = torch.arange(past, past + s, dtype=torch.long, device=input_ids.device)
            x = self.wte(input_ids) + self.wpe(pos).unsqueeze(0)
            presents = []
            for i, block in enumerate(self.h):
                pk = None if pasts is None else pasts[2 * i]
                pv = None if pasts is None else pasts[2 * i + 1]
                x, k, v = block(x, pk, pv)
                presents += [k, v]
            return self.lm_head(self.ln_f(x)), presents

    class Prefill(nn.Module):
        """The prefill graph: input_ids -> (logits, present_key_0, present_value_0, ...)."""

        def __init__(self, model):
            super().__init__()
            self.model = model

        def forward(self, input_ids):
            logits, presents = self.model(input_ids)
            return (logits, *presents)

    class Decode(nn.Module):
        """One decode step: (input_ids [B, 1], past_key_0, past_value_0, ...) ->
        (logits, present_key_0, present_value_0, ...)."""

        def __init__(self, model):
            super().__init__()
            self.model = model

        def forward(self, input_ids, *pasts):
            logits, presents = self.model(input_ids, list(pasts))
            return (logits, *presents)

    return GPT2Decoder, Prefill, Decode


def gpt2_io_names(n_layer=GPT2_CONFIG["n_layer"]):
    past = [f"past_{kv}_{i}" for i in range(n_layer) for kv in ("key", "value")]
    present = [f"present_{kv}_{i}" for i in range(n_layer) for kv in ("key", "value")]
    return past, present


def calibrate_batch_norm(torch, model, seed=1):
    """Batch-norm running statistics from a few random batches: train() with momentum=None
    (a cumulative average), then eval()."""
    bns = [m for m in model.modules() if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)]
    for m in bns:
        m.reset_running_stats()
        m.momentum = None
    g = torch.Generator().manual_seed(seed)
    model.train()
    with torch.no_grad():
        for _ in range(BN_CALIBRATION_BATCHES):
            model(torch.randn((BN_CALIBRATION_SIZE, 3, 224, 224), generator=g))
    return model.eval()


class Spec:
    """What one model needs: its fp32 master (CPU, eval), the module exported and run (a
    wrapper returning plain tensors), input / output names, the dynamic axes, and the ONNX
    dimension values of a batch."""

    def __init__(self, name, module, inputs, outputs, dynamic_axes, dims):
        self.name, self.module = name, module
        self.inputs, self.outputs = list(inputs), list(outputs)
        self.dynamic_axes, self.dims = dynamic_axes, dims  # dims(batch) -> {axis name: value}
        self.file_key, self.variant = name, None  # the ONNX file's name; a variant's label


def bert_last_hidden(config):
    """transformers' BertModel (no pooler, random weights) as a module that takes input_ids
    and attention_mask and returns last_hidden_state (also the tiny export of
    tests/python/dynamic_fixtures)."""
    import torch
    from transformers import BertModel

    class LastHidden(torch.nn.Module):
        def __init__(self, bert):
            super().__init__()
            self.bert = bert

        def forward(self, input_ids, attention_mask):
            # token_type_ids given (zeros, the default buffer's values): without it recent
            # transformers gather from the buffer, which exports as GatherElements.
            return self.bert(input_ids=input_ids, attention_mask=attention_mask,
                             token_type_ids=torch.zeros_like(input_ids),
                             return_dict=True).last_hidden_state

    return LastHidden(BertModel(config, add_pooling_layer=False).eval()).eval()


def whisper_last_hidden(config):
    """transformers' WhisperEncoder (random weights) as a module from input_features to
    last_hidden_state (also the tiny export of tests/python/dynamic_fixtures)."""
    import torch
    from transformers.models.whisper.modeling_whisper import WhisperEncoder

    class Encoder(torch.nn.Module):
        def __init__(self, enc):
            super().__init__()
            self.enc = enc

        def forward(self, input_features):
            return self.enc(input_features, return_dict=True).last_hidden_state

    return Encoder(WhisperEncoder(config).eval()).eval()


def build_spec(name, gpt2_mask="where"):
    import torch
    torch.manual_seed(0)
    if name in ("resnet50", "mobilenet_v2"):
        import torchvision
        m = getattr(torchvision.models, name)(weights=None)
        m = calibrate_batch_norm(torch, m)
        return Spec(name, m, ["input"], ["logits"],
                    {"input": {0: "batch"}, "logits": {0: "batch"}}, lambda b: {"batch": b})
    if name == "bert_base":
        from transformers import BertConfig
        m = bert_last_hidden(BertConfig())
        dyn = {k: {0: "batch", 1: "seq"} for k in ("input_ids", "attention_mask", "last_hidden_state")}
        return Spec(name, m, ["input_ids", "attention_mask"], ["last_hidden_state"], dyn,
                    lambda b: {"batch": b, "seq": BERT_SEQ})
    if name == "whisper_encoder":
        from transformers import WhisperConfig
        cfg = WhisperConfig(d_model=512, encoder_layers=6, encoder_attention_heads=8,
                            encoder_ffn_dim=2048, num_mel_bins=80, max_source_positions=1500)
        m = whisper_last_hidden(cfg)
        return Spec(name, m, ["input_features"], ["last_hidden_state"],
                    {"input_features": {0: "batch"}, "last_hidden_state": {0: "batch"}},
                    lambda b: {"batch": b})
    if name in ("gpt2_prefill", "gpt2_decode"):
        GPT2Model, Prefill, Decode = gpt2_modules()
        core = GPT2Model(dict(GPT2_CONFIG, mask=gpt2_mask)).eval()
        past, present = gpt2_io_names()
        if name == "gpt2_prefill":
            dyn = {"input_ids": {0: "batch", 1: "seq"}, "logits": {0: "batch", 1: "seq"}}
            dyn.update({p: {0: "batch", 2: "seq"} for p in present})
            spec = Spec(name, Prefill(core).eval(), ["input_ids"], ["logits"] + present, dyn,
                        lambda b: {"batch": b, "seq": GPT2_PREFILL})
        else:
            dyn = {"input_ids": {0: "batch"}, "logits": {0: "batch"}}
            dyn.update({p: {0: "batch", 2: "past"} for p in past})
            dyn.update({p: {0: "batch", 2: "total"} for p in present})
            spec = Spec(name, Decode(core).eval(), ["input_ids"] + past, ["logits"] + present, dyn,
                        lambda b: {"batch": b, "past": GPT2_PAST})
        if gpt2_mask != "where":  # its own ONNX file: the mask buffers are not in the state dict
            spec.variant = f"{gpt2_mask} mask"
            spec.file_key = f"{name}-{gpt2_mask}mask"
        return spec
    raise ValueError(name)


def make_inputs(torch, spec, batch, device, for_export=False):
    """Named fp32 / int64 input tensors on `device`, seeded by model and batch. The decode
    step's past keys / values come from the model's own fp32 prefill of random tokens."""
    g = torch.Generator().manual_seed(1000 + batch)
    n = spec.name
    if n == "bert_base":
        ids = torch.randint(1, 30522, (batch, BERT_SEQ), generator=g)
        mask = torch.ones((batch, BERT_SEQ), dtype=torch.int64)
        mask[:, -BERT_MASKED:] = 0
        x = {"input_ids": ids, "attention_mask": mask}
    elif n in ("resnet50", "mobilenet_v2"):
        x = {"input": torch.randn((batch, 3, 224, 224), generator=g)}
    elif n == "whisper_encoder":
        x = {"input_features": torch.randn((batch, 80, 3000), generator=g)}
    elif n == "gpt2_prefill":
        s = 16 if for_export else GPT2_PREFILL
        x = {"input_ids": torch.randint(0, GPT2_CONFIG["vocab"], (batch, s), generator=g)}
    elif n == "gpt2_decode":
        p = 16 if for_export else GPT2_PAST
        ctx_ids = torch.randint(0, GPT2_CONFIG["vocab"], (batch, p), generator=g)
        x = {"input_ids": torch.randint(0, GPT2_CONFIG["vocab"], (batch, 1), generator=g)}
        core = spec.module.model
        dev = next(core.parameters()).device
        with torch.no_grad():
            _, presents = core(ctx_ids.to(dev))
        past, _ = gpt2_io_names()
        x = {k: v.to(device) for k, v in x.items()}
        x.update({name: t.to(device).contiguous() for name, t in zip(past, presents)})
        return x
    else:
        raise ValueError(n)
    return {k: v.to(device) for k, v in x.items()}


def fingerprint(torch, module):
    """sha256 of the state dict (names, dtypes, shapes, bytes): the cached ONNX is reused
    only for the very same weights."""
    h = hashlib.sha256()
    for k, v in module.state_dict().items():
        t = v.detach().cpu().contiguous().reshape(-1)
        h.update(f"{k}:{t.dtype}:{list(t.shape)};".encode())
        h.update(t.view(torch.uint8).numpy().tobytes() if t.numel() else b"")
    return h.hexdigest()[:16]


def export_onnx(torch, spec, work):
    """The model's ONNX file in WORK/onnx/NAME.onnx (TorchScript exporter, opset 17, dynamic
    axes), reused when its .json says it was made from the same weights."""
    d = pathlib.Path(work) / "onnx"
    d.mkdir(parents=True, exist_ok=True)
    path, meta_path = d / f"{spec.file_key}.onnx", d / f"{spec.file_key}.json"
    fp = fingerprint(torch, spec.module)
    if path.exists() and meta_path.exists():
        try:
            meta = json.loads(meta_path.read_text())
            if meta.get("fingerprint") == fp and meta.get("torch") == torch.__version__:
                meta["reused"] = True
                return path, meta
        except Exception:  # noqa: BLE001 - a broken meta file means export again
            pass
    x = make_inputs(torch, spec, EXPORT_BATCH, "cpu", for_export=True)
    t0 = time.perf_counter()
    tmp = path.with_suffix(".onnx.tmp")
    with torch.no_grad():
        torch.onnx.export(spec.module, tuple(x[k] for k in spec.inputs), str(tmp),
                          opset_version=17, dynamo=False, input_names=spec.inputs,
                          output_names=spec.outputs, dynamic_axes=spec.dynamic_axes,
                          do_constant_folding=True)
    tmp.replace(path)
    meta = {"fingerprint": fp, "torch": torch.__version__, "exporter": "torchscript",
            "opset": 17, "seconds": round(time.perf_counter() - t0, 1),
            "bytes": path.stat().st_size, "dynamic_axes": spec.dynamic_axes, "reused": False}
    write_json(meta_path, meta)
    return path, meta


# ---------------------------------------------------------------- timing

class Timer:
    def __init__(self, torch, device, iters, warmup):
        self.torch, self.device, self.iters, self.warmup = torch, device, iters, warmup

    def sync(self):
        if self.device == "cuda":
            self.torch.cuda.synchronize()

    def median_ms(self, fn, iters=None, warmup=None):
        """Median wall milliseconds of fn(), synchronize() before and after each run."""
        iters = self.iters if iters is None else iters
        warmup = self.warmup if warmup is None else warmup
        for _ in range(warmup):
            fn()
        self.sync()
        ms = []
        for _ in range(iters):
            self.sync()
            t = time.perf_counter()
            fn()
            self.sync()
            ms.append((time.perf_counter() - t) * 1e3)
        return statistics.median(ms)


TORCH_DTYPES = {"float32": "float32", "float16": "float16", "bfloat16": "bfloat16",
                "int64": "int64", "int32": "int32", "uint32": "uint32", "int8": "int8",
                "uint8": "uint8", "uint64": "uint64"}


def torch_dtype(torch, name):
    return getattr(torch, TORCH_DTYPES[name])


def as_list(out):
    return list(out) if isinstance(out, (tuple, list)) else [out]


def torch_precision_copy(torch, master, precision, device):
    dt = torch_dtype(torch, precision)
    return copy.deepcopy(master).to(device=device, dtype=dt).eval()


def cast_inputs(torch, x, precision):
    dt = torch_dtype(torch, precision)
    return [v.to(dt) if v.is_floating_point() else v for v in x]


def run_eager_graph(torch, timer, model, xs, res, key):
    """Eager forward captured in one CUDA graph on static inputs, replayed."""
    static = [v.clone() for v in xs]
    if timer.device != "cuda":  # the CPU trial: plain eager
        with torch.no_grad():
            out = as_list(model(*static))
            res["ms"][key] = timer.median_ms(lambda: model(*static))
        res["status"][key] = "cpu trial: eager, no CUDA graph"
        return out
    s = torch.cuda.Stream()
    s.wait_stream(torch.cuda.current_stream())
    with torch.no_grad(), torch.cuda.stream(s):
        for _ in range(3):  # warm-up off the capture: lazy init, cuDNN / cuBLAS choices
            model(*static)
    torch.cuda.current_stream().wait_stream(s)
    torch.cuda.synchronize()
    graph = torch.cuda.CUDAGraph()
    with torch.no_grad(), torch.cuda.graph(graph):
        out = as_list(model(*static))
    graph.replay()
    torch.cuda.synchronize()
    res["ms"][key] = timer.median_ms(graph.replay)
    result = [o.clone() for o in out]
    del graph
    return result


def run_compile(torch, timer, model, xs, res, key):
    """torch.compile(mode='reduce-overhead'): the first call's wall time is the compile time."""
    torch._dynamo.reset()
    cm = torch.compile(model, mode="reduce-overhead", dynamic=False)
    with torch.no_grad():
        timer.sync()
        t0 = time.perf_counter()
        cm(*xs)
        timer.sync()
        res["compile_s"][key] = round(time.perf_counter() - t0, 2)
        for _ in range(3):  # reduce-overhead records its CUDA graph on the following calls
            cm(*xs)
        timer.sync()
        out = [o.clone() for o in as_list(cm(*xs))]
        res["ms"][key] = timer.median_ms(lambda: cm(*xs))
    del cm
    torch._dynamo.reset()
    try:  # the CUDA graphs' memory pool, which reset() may keep
        from torch._inductor import cudagraph_trees
        cudagraph_trees.reset_cudagraph_trees()
    except Exception:  # noqa: BLE001 - an older or newer torch without it
        pass
    return out


# ---------------------------------------------------------------- cppnn

def engine_build_accepts(webnn, keyword):
    """Whether webnn.Engine.build takes `keyword` (its nanobind signature is in __doc__)."""
    return keyword in (getattr(webnn.Engine.build, "__doc__", "") or "")


def profile_shapes(spec, batch, x):
    """Dynamic-shape profile per input: (min, opt, max), opt = the measured shape."""
    shapes = {}
    for name, t in x.items():
        opt = tuple(int(d) for d in t.shape)
        lo, hi = list(opt), list(opt)
        axes = spec.dynamic_axes.get(name, {})
        for axis, label in axes.items():
            if label == "batch":
                lo[axis], hi[axis] = 1, max(32, opt[axis])
            elif label == "seq":
                lo[axis], hi[axis] = 1, max(512, opt[axis])
            elif label == "past":
                lo[axis], hi[axis] = 1, max(1023, opt[axis])
        shapes[name] = (tuple(lo), opt, tuple(hi))
    return shapes


def profile_symbols(spec, shapes):
    """The ONNX symbols' ranges (min, opt, max) that a profile gives, for
    load_onnx(dynamic=...): the exporter names each dynamic axis by its label."""
    symbols = {}
    for name, (lo, opt, hi) in shapes.items():
        for axis, label in spec.dynamic_axes.get(name, {}).items():
            symbols[label] = (lo[axis], opt[axis], hi[axis])
    return symbols


class CppnnRunner:
    """The webnn package; a fresh context per case (new_context), destroyed after it so that
    no case's plans and device memory stay for the next."""

    def __init__(self, device, keep_io_types=False):
        import webnn
        self.webnn = webnn
        self.device = device
        self.keep_io_types = keep_io_types
        self.context = None
        self.new_context()
        self.backend, self.reason = self.context.backend, self.context.backend_reason
        self._graph, self._graph_key = None, None

    def new_context(self):
        self.close()
        self.context = self.webnn.ML().create_context(accelerated=self.device == "cuda",
                                                      power_preference="high-performance")
        return self.context

    def close(self):
        if self.context is not None:
            self.context.destroy()
            self.context = None
        self._graph, self._graph_key = None, None

    def io_kwargs(self, precision):
        """float16 engines take and return float16 (keep_io_types=False), as the float16
        PyTorch model does, unless --keep-io-types or the package predates the option."""
        if precision != "float16" or self.keep_io_types or not engine_build_accepts(self.webnn, "keep_io_types"):
            return {}
        return {"keep_io_types": False}

    def build(self, onnx_path, dims, precision, shapes=None, symbols=None):
        """(engine, seconds). TypeError or NotSupportedError from Engine.build means the
        precision or shapes= is not there yet."""
        wb = self.webnn
        t0 = time.perf_counter()
        if shapes is None:
            key = (str(onnx_path), tuple(sorted(dims.items())))
            if self._graph_key != key:  # one import for every precision of a case
                self._graph, self._graph_key = None, None
                self._graph, self._graph_key = wb.load_onnx(str(onnx_path), dim_values=dims), key
            engine = wb.Engine.build(self._graph, precision=precision, **self.io_kwargs(precision))
        else:
            # symbolic dimensions kept within the profile's ranges; fixed ones at dims
            fixed = {k: v for k, v in dims.items() if k not in symbols}
            graph = wb.load_onnx(str(onnx_path), dim_values=fixed, dynamic=symbols)
            engine = wb.Engine.build(graph, precision=precision, shapes=shapes, **self.io_kwargs(precision))
        return engine, time.perf_counter() - t0

    def buffers(self, torch, graph, x, device):
        ins = {}
        for name, (shape, dt) in graph.inputs.items():
            if name not in x:
                raise KeyError(f"the engine has an input '{name}' the model does not: {sorted(x)}")
            ins[name] = x[name].to(torch_dtype(torch, dt)).contiguous()
        outs = {name: torch.empty([int(d) for d in shape], dtype=torch_dtype(torch, dt), device=device)
                for name, (shape, dt) in graph.outputs.items()}
        return ins, outs

    def time_dispatch(self, torch, timer, graph, x, res, key, compile_first=True):
        ctx = self.context
        if compile_first:
            t0 = time.perf_counter()
            ctx.compile(graph)
            res["cppnn_compile_s"][key] = round(time.perf_counter() - t0, 3)
        ins, outs = self.buffers(torch, graph, x, timer.device)
        t0 = time.perf_counter()
        ctx.dispatch(graph, ins, outs)
        timer.sync()
        res["cppnn_first_ms"][key] = round((time.perf_counter() - t0) * 1e3, 3)
        # Bound once (context.wrap_tensor: ONNX Runtime's IO binding, the static buffers a
        # CUDA graph replays on), then dispatched: the headline number. Per call through
        # DLPack (every tensor imported again on every call) beside it, as "_dlpack".
        dl_key = key.replace("cppnn_", "cppnn_dlpack_", 1)
        res["ms"][dl_key] = timer.median_ms(lambda: ctx.dispatch(graph, ins, outs))
        if hasattr(ctx, "wrap_tensor"):
            bins = {k: ctx.wrap_tensor(v) for k, v in ins.items()}
            bouts = {k: ctx.wrap_tensor(v) for k, v in outs.items()}
            ctx.dispatch(graph, bins, bouts)
            res["ms"][key] = timer.median_ms(lambda: ctx.dispatch(graph, bins, bouts))
            del bins, bouts
        else:
            res["ms"][key] = res["ms"][dl_key]
        return outs

    def time_mltensors(self, torch, timer, graph, x, res, key):
        """The same graph on the context's own tensors: no DLPack import per call."""
        ctx = self.context
        tin = {}
        for name, (shape, dt) in graph.inputs.items():
            tin[name] = ctx.create_tensor(list(shape), dt)
            ctx.write_tensor(tin[name], x[name].to(torch_dtype(torch, dt)).cpu().contiguous().numpy())
        tout = {name: ctx.create_tensor(list(shape), dt) for name, (shape, dt) in graph.outputs.items()}

        def run():
            ctx.dispatch(graph, tin, tout)
            ctx.synchronize()
        res["ms"][key] = timer.median_ms(run)


JIT_CHILD = r"""
import json, sys, time
t0 = time.perf_counter()
import numpy as np
import webnn
t1 = time.perf_counter()
engine = webnn.Engine.load(sys.argv[1])
t2 = time.perf_counter()
ctx = webnn.ML().create_context(accelerated=True, power_preference="high-performance")
t3 = time.perf_counter()
g = engine.graph
ctx.compile(g)
t4 = time.perf_counter()
ins = {n: np.zeros(s, dtype=d) for n, (s, d) in g.inputs.items()}
ctx.compute(g, ins)
t5 = time.perf_counter()
print("JIT " + json.dumps({"backend": ctx.backend, "import_ms": (t1 - t0) * 1e3,
      "load_ms": (t2 - t1) * 1e3, "context_ms": (t3 - t2) * 1e3, "compile_ms": (t4 - t3) * 1e3,
      "first_compute_ms": (t5 - t4) * 1e3}))
"""


def jit_times(engine_path, cache_dir, timeout=300):
    """Cold then warm compile of a saved engine, each in a fresh Python process, sharing one
    new CPPNN_CACHE_DIR."""
    env = dict(os.environ, CPPNN_CACHE_DIR=str(cache_dir))
    out = {}
    for key in ("cold", "warm"):
        t0 = time.perf_counter()
        p = subprocess.run([sys.executable, "-c", JIT_CHILD, str(engine_path)], capture_output=True,
                           text=True, env=env, timeout=timeout)
        wall = time.perf_counter() - t0
        line = next((x for x in p.stdout.splitlines() if x.startswith("JIT ")), None)
        if p.returncode != 0 or line is None:
            out[key] = {"error": (p.stdout + p.stderr).strip()[-800:], "rc": p.returncode}
            break
        r = json.loads(line[4:])
        r = {k: (round(v, 2) if isinstance(v, float) else v) for k, v in r.items()}
        r["process_s"] = round(wall, 2)
        out[key] = r
    return out


def default_cli():
    try:
        import webnn
        p = pathlib.Path(webnn.__file__).resolve().parents[2] / "cppnn"
        return str(p) if p.exists() else None
    except Exception:  # noqa: BLE001
        return None


def cli_profile(cli, engine_path, dest, timeout=300):
    """cppnn run ENGINE --report with CPPNN_CUDA_PROFILE=1: the per-step GPU profile."""
    env = dict(os.environ, CPPNN_CUDA_PROFILE="1")
    if os.environ.get("CPPNN_LD_LIBRARY_PATH"):
        env["LD_LIBRARY_PATH"] = os.environ["CPPNN_LD_LIBRARY_PATH"]
    argv = [cli, "run", str(engine_path), "--report", "--iterations", "10", "--warmup", "3"]
    p = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=timeout)
    dest = pathlib.Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_text(f"$ CPPNN_CUDA_PROFILE=1 {' '.join(argv)}\n(exit {p.returncode})\n"
                    + p.stdout + p.stderr)
    return p.returncode


# ---------------------------------------------------------------- one case

def run_case(torch, a, spec, onnx_path, batch, cppnn, timer, out_dir):
    dev = a.device
    label = MODELS[spec.name]["label"] + (f", {spec.variant}" if spec.variant else "")
    res = {"model": spec.name, "batch": batch, "label": label, "variant": spec.variant,
           "dims": spec.dims(batch), "ms": {}, "status": {}, "accuracy": {}, "accuracy_all": {},
           "compile_s": {}, "cppnn_compile_s": {}, "cppnn_first_ms": {}, "cppnn_build_s": {},
           "jit": {}, "errors": []}
    tag = f"{spec.name}-b{batch}"

    def failed(key, e):
        res["status"][key] = "failed: " + short(e, 300)
        res["errors"].append(f"{key}: {short(e)}")
        log(f"[{tag}] {key} FAILED: {short(e, 300)}")
        traceback.print_exc()

    x = make_inputs(torch, spec, batch, dev)
    res["inputs"] = {k: {"dtype": str(v.dtype).replace("torch.", ""), "shape": list(v.shape)}
                     for k, v in x.items()}
    xs = [x[k] for k in spec.inputs]
    ref = None
    with torch.no_grad():
        ref = [o.float() for o in as_list(spec.module(*xs))]
        timer.sync()
    res["ref_rms"] = rel_err(ref[0], ref[0])["ref_rms"]

    def score(key, outs):
        outs = [o.float() for o in outs]
        res["accuracy"][key] = rel_err(outs[0], ref[0])
        if len(ref) > 1:
            res["accuracy_all"][key] = max(rel_err(o, r)["rel_l2"] for o, r in zip(outs, ref))

    # --- PyTorch, each precision on a fresh copy of the fp32 master
    for p in ([] if a.no_torch else a.precision_list):
        t0 = time.perf_counter()
        try:
            model = torch_precision_copy(torch, spec.module, p, dev)
            xp = cast_inputs(torch, xs, p)
        except Exception as e:  # noqa: BLE001
            failed(f"torch_{p}", e)
            continue
        key = f"eager_graph_{p}"
        try:
            score(key, run_eager_graph(torch, timer, model, xp, res, key))
            log(f"[{tag}] eager + CUDA graph {p}: {res['ms'][key]:.3f} ms, "
                f"rel L2 {res['accuracy'][key]['rel_l2']:.1e}")
        except Exception as e:  # noqa: BLE001
            failed(key, e)
        key = f"compile_{p}"
        if a.no_compile or dev != "cuda" or (p == "bfloat16" and not a.compile_bf16):
            res["status"][key] = "not run" + (" (cpu trial)" if dev != "cuda" else "")
        else:
            try:
                score(key, run_compile(torch, timer, model, xp, res, key))
                log(f"[{tag}] torch.compile reduce-overhead {p}: {res['ms'][key]:.3f} ms, "
                    f"compile {res['compile_s'][key]:.1f} s, rel L2 {res['accuracy'][key]['rel_l2']:.1e}")
            except Exception as e:  # noqa: BLE001
                failed(key, e)
        del model, xp
        if dev == "cuda":
            torch.cuda.empty_cache()
        log(f"[{tag}] torch {p}: {time.perf_counter() - t0:.1f} s")

    # --- cppnn: a fixed-shape engine per precision, then a profile engine where there are
    if cppnn is None:
        res["status"]["cppnn"] = "failed: the webnn package did not load"
        return res
    try:
        cppnn.new_context()
        res["cppnn_backend"] = cppnn.context.backend
    except Exception as e:  # noqa: BLE001
        failed("cppnn_context", e)
        return res
    try:
        cppnn_case(torch, a, spec, onnx_path, batch, cppnn, timer, out_dir, x, res, tag, failed, score)
    finally:
        cppnn.close()
    return res


def cppnn_case(torch, a, spec, onnx_path, batch, cppnn, timer, out_dir, x, res, tag, failed, score):
    """The cppnn half of run_case: engines per precision, JIT processes, profile text."""
    shapes_ok = engine_build_accepts(cppnn.webnn, "shapes")
    for p in a.precision_list:
        key = f"cppnn_{p}"
        t0 = time.perf_counter()
        try:
            engine, build_s = cppnn.build(onnx_path, spec.dims(batch), p)
        except (TypeError, cppnn.webnn.NotSupportedError) as e:
            res["status"][key] = f"not available ({str(e)[:200]})"
            res["status"][f"cppnn_mltensor_{p}"] = res["status"][f"cppnn_profile_{p}"] = "not available"
            log(f"[{tag}] cppnn {p}: not available ({str(e)[:120]})")
            continue
        except Exception as e:  # noqa: BLE001
            failed(key, e)
            continue
        res["cppnn_build_s"][key] = round(build_s, 2)
        res.setdefault("cppnn_io", {})[p] = sorted({dt for _, dt in engine.graph.inputs.values()} |
                                                   {dt for _, dt in engine.graph.outputs.values()})
        try:
            outs = cppnn.time_dispatch(torch, timer, engine.graph, x, res, key)
            score(key, [outs[n] for n in spec.outputs])
            log(f"[{tag}] cppnn {p}: {res['ms'][key]:.3f} ms (build {build_s:.1f} s, compile "
                f"{res['cppnn_compile_s'][key]:.2f} s), rel L2 {res['accuracy'][key]['rel_l2']:.1e}")
            del outs
        except Exception as e:  # noqa: BLE001
            failed(key, e)
            continue
        try:
            cppnn.time_mltensors(torch, timer, engine.graph, x, res, f"cppnn_mltensor_{p}")
            log(f"[{tag}] cppnn {p} on MLTensors: {res['ms'][f'cppnn_mltensor_{p}']:.3f} ms")
        except Exception as e:  # noqa: BLE001
            failed(f"cppnn_mltensor_{p}", e)
        edir = pathlib.Path(a.work) / "engines"
        epath = edir / f"{tag}-{p}.engine"
        if not a.no_jit or a.profile:
            try:
                edir.mkdir(parents=True, exist_ok=True)
                engine.save(str(epath))
            except Exception as e:  # noqa: BLE001
                failed(f"save_{p}", e)
        if not a.no_jit and p == "float16" and epath.exists():
            try:
                cache = pathlib.Path(tempfile.mkdtemp(prefix=f"cache-{tag}-", dir=a.work))
                res["jit"] = jit_times(epath, cache)
                c, w = res["jit"].get("cold", {}), res["jit"].get("warm", {})
                log(f"[{tag}] cppnn JIT {p} (fresh processes): cold compile {c.get('compile_ms')} ms"
                    f" (+ context {c.get('context_ms')} ms), warm {w.get('compile_ms')} ms "
                    f"(+ context {w.get('context_ms')} ms)")
                if "error" in c or "error" in w:
                    res["errors"].append("jit: " + (c.get("error") or w.get("error") or "")[-300:])
            except Exception as e:  # noqa: BLE001
                failed("jit", e)
        if a.profile and epath.exists():
            cli = a.cppnn or default_cli()
            if not cli:
                res["status"][f"profile_{p}"] = "no cppnn tool (--cppnn)"
            else:
                try:
                    dest = out_dir / "profiles" / f"{tag}-{p}.txt"
                    rc = cli_profile(cli, epath, dest)
                    res["status"][f"profile_{p}"] = f"{dest.name} (exit {rc})"
                    log(f"[{tag}] profile {p}: {dest} (exit {rc})")
                except Exception as e:  # noqa: BLE001
                    failed(f"profile_{p}", e)
        del engine
        # the profile engine: one engine for a range of shapes, timed at this one
        pkey = f"cppnn_profile_{p}"
        if not shapes_ok:
            res["status"][pkey] = "not available (Engine.build has no shapes=)"
        else:
            try:
                shapes = profile_shapes(spec, batch, x)
                res["profile_shapes"] = {k: [list(s) for s in v] for k, v in shapes.items()}
                pengine, build_s = cppnn.build(onnx_path, spec.dims(batch), p, shapes=shapes,
                                               symbols=profile_symbols(spec, shapes))
                res["cppnn_build_s"][pkey] = round(build_s, 2)
                outs = cppnn.time_dispatch(torch, timer, pengine.graph, x, res, pkey)
                score(pkey, [outs[n] for n in spec.outputs])
                log(f"[{tag}] cppnn profile engine {p}: {res['ms'][pkey]:.3f} ms")
                del pengine, outs
            except TypeError as e:
                res["status"][pkey] = f"not available ({str(e)[:200]})"
            except Exception as e:  # noqa: BLE001
                failed(pkey, e)
        log(f"[{tag}] cppnn {p}: {time.perf_counter() - t0:.1f} s")
    return res


def machine_info(torch, device):
    info = {"host": platform.node(), "python": platform.python_version(),
            "torch": torch.__version__, "torch_cuda": torch.version.cuda}
    for mod in ("torchvision", "transformers", "numpy"):
        try:
            info[mod] = __import__(mod).__version__
        except Exception:  # noqa: BLE001
            info[mod] = None
    if device == "cuda":
        try:
            info["gpu"] = torch.cuda.get_device_name(0)
            info["cudnn"] = torch.backends.cudnn.version()
        except Exception as e:  # noqa: BLE001
            info["gpu"] = f"? ({e})"
        try:
            q = subprocess.run(["nvidia-smi", "--query-gpu=driver_version,memory.total",
                                "--format=csv,noheader"], capture_output=True, text=True, timeout=20)
            drv = q.stdout.strip().splitlines()[0].split(",")
            info["driver"] = drv[0].strip()
        except Exception as e:  # noqa: BLE001
            info["driver"] = f"? ({e})"
    else:
        info["gpu"] = "none (cpu trial)"
    # CPPNN_COMMIT first: a `git archive` copy (the device's carry/cuda-src) has no .git of
    # its own, and git would answer for whatever repository holds the folder.
    info["cppnn_commit"] = os.environ.get("CPPNN_COMMIT")
    if not info["cppnn_commit"] and (ROOT / ".git").exists():
        try:
            out = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
                                 capture_output=True, text=True, timeout=10).stdout.strip()
            info["cppnn_commit"] = out or None
        except Exception:  # noqa: BLE001
            info["cppnn_commit"] = None
    return info


def loaded_libraries():
    """The CUDA libraries this process has loaded, from /proc/self/maps (Linux): which
    copies torch and the cppnn plugin really use."""
    keys = ("libcublas", "libcudnn.so", "libnvrtc", "libcudart", "libcppnn")
    found = set()
    try:
        for line in pathlib.Path("/proc/self/maps").read_text().splitlines():
            path = line.split()[-1] if len(line.split()) >= 6 else ""
            if any(k in path for k in keys):
                found.add(path)
    except OSError:
        pass
    return sorted(found)


def run_bench(a):
    t_start = time.perf_counter()
    work = pathlib.Path(a.work).resolve()
    work.mkdir(parents=True, exist_ok=True)
    a.work = str(work)
    out_dir = pathlib.Path(a.out).resolve().parent
    import torch
    torch.backends.cudnn.allow_tf32 = False  # the fp32 reference is exact fp32
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.benchmark = True  # fixed shapes: cuDNN's fastest algorithms
    if a.device == "cuda" and not torch.cuda.is_available():
        log("!!!!! torch.cuda.is_available() is False: nothing to measure (--device cpu for a trial)")
        return 1
    doc = {"date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
           "machine": machine_info(torch, a.device),
           "settings": {
               "iters": a.iters, "warmup": a.warmup, "precisions": a.precision_list,
               "timing": "median wall ms, torch.cuda.synchronize() before and after each run, "
                         "inputs and outputs on the GPU",
               "eager_graph": "eager PyTorch captured in a torch.cuda.CUDAGraph, replayed",
               "compile": "torch.compile(mode='reduce-overhead', dynamic=False); compile_s = first call",
               "cppnn": "Engine.build(load_onnx(dims), precision) on a high-performance context; "
                        "context.dispatch on torch CUDA tensors (DLPack); mltensor: MLTensors + synchronize()",
               "interfaces": "PyTorch gets its inputs already cast to the precision (fp16 past keys / "
                             "values for the decode step) and returns that precision; cppnn's engines "
                             "take and return float32 (int64 ids), their conversions are in its time",
               "profile_engine": "Engine.build(..., shapes={input: (min, opt, max)}), opt = the measured shape",
               "accuracy": "main output vs the fp32 master on the GPU (TF32 off): ||a-b||/||b||, max abs",
               "jit": "float16 engine compiled in a fresh Python process, cold = empty CPPNN_CACHE_DIR, "
                      "warm = the same folder again",
               "ratio": "cppnn / min(eager_graph, compile) of the same run: below 1, cppnn is faster"},
           "results": []}
    log(f"== bench_gpu: {', '.join(f'{m} b{b}' for m, b in a.case_list)}; work {work}; out {a.out}")
    log("== machine " + json.dumps(doc["machine"]))
    cppnn = None
    try:
        cppnn = CppnnRunner(a.device, keep_io_types=a.keep_io_types)
        doc["cppnn"] = {"backend": cppnn.backend, "backend_reason": cppnn.reason,
                        "engine_build_doc": (cppnn.webnn.Engine.build.__doc__ or "").split("\n")[0]}
        log(f"== cppnn context: {cppnn.backend} ({cppnn.reason})")
        if a.device == "cuda" and cppnn.backend != "cuda":
            log("!!!!! cppnn did NOT get the CUDA backend: its numbers mean nothing !!!!!")
    except Exception as e:  # noqa: BLE001
        doc["cppnn"] = {"error": short(e)}
        log(f"!!!!! the webnn package is not usable: {short(e)}")
    if a.device == "cuda":
        torch.ones(64, 64, device="cuda") @ torch.ones(64, 64, device="cuda")  # loads cuBLAS
        torch.cuda.synchronize()
    doc["machine"]["loaded_libraries"] = loaded_libraries()
    log("== loaded: " + " ".join(doc["machine"]["loaded_libraries"]))
    write_json(a.out, doc)
    timer = Timer(torch, a.device, a.iters, a.warmup)

    specs = {}
    try:
        for name, batch in a.case_list:
            elapsed = time.perf_counter() - t_start
            tag = f"{name}-b{batch}"
            if elapsed > a.budget:
                log(f"[{tag}] skipped: the {a.budget:.0f} s budget is spent")
                doc["results"].append({"model": name, "batch": batch, "skipped": "time budget"})
                write_json(a.out, doc)
                continue
            log(f"[{tag}] start at {elapsed:.0f} s")
            t0 = time.perf_counter()
            try:
                if name not in specs:
                    specs.clear()  # one model in memory at a time
                    if a.device == "cuda":
                        torch.cuda.empty_cache()
                    spec = build_spec(name, a.gpt2_mask)
                    onnx_path, meta = export_onnx(torch, spec, work)
                    how = "reused" if meta.get("reused") else f"exported in {meta['seconds']} s"
                    log(f"[{tag}] ONNX {onnx_path} ({meta['bytes'] / 1e6:.0f} MB, {how})")
                    spec.module.to(a.device)
                    specs[name] = (spec, onnx_path, meta)
                spec, onnx_path, meta = specs[name]
                res = run_case(torch, a, spec, onnx_path, batch, cppnn, timer, out_dir)
                res["export"] = {k: meta.get(k) for k in ("exporter", "opset", "bytes", "seconds", "reused")}
            except Exception as e:  # noqa: BLE001
                traceback.print_exc()
                res = {"model": name, "batch": batch, "errors": [short(e)]}
                log(f"[{tag}] FAILED: {short(e, 300)}")
            res["seconds"] = round(time.perf_counter() - t0, 1)
            doc["results"].append(res)
            write_json(a.out, doc)
            log(f"[{tag}] done in {res['seconds']} s (elapsed {time.perf_counter() - t_start:.0f} s)")
    except KeyboardInterrupt:
        log("!!!!! interrupted: the JSON has what finished")
        doc["interrupted"] = True
    doc["seconds"] = round(time.perf_counter() - t_start, 1)
    write_json(a.out, doc)
    rep = report([doc])
    print("\n" + markdown(rep), flush=True)
    for r in doc["results"]:
        for e in r.get("errors", []):
            log(f"error: {r['model']} b{r['batch']}: {e.splitlines()[0][:300] if e else e}")
    log(f"results: {a.out} ({doc['seconds']} s)")
    return 1 if any(r.get("errors") for r in doc["results"]) else 0


# ---------------------------------------------------------------- report mode

def _r(v, digits=3):
    return None if v is None else round(float(v), digits)


def _sig(v, digits=2):
    return None if v is None else float(f"{float(v):.{digits - 1}e}")


def row_of(case, machine):
    """The stable subset of one case (float16 columns, the ones the targets are about)."""
    ms, st, acc = case.get("ms", {}), case.get("status", {}), case.get("accuracy", {})
    eager, comp, cp = ms.get("eager_graph_float16"), ms.get("compile_float16"), ms.get("cppnn_float16")
    peers = [v for v in (eager, comp) if v is not None]
    best = min(peers) if peers else None
    r = ratio(cp, best)
    tgt = target_of(case["model"], case["batch"])
    jit = case.get("jit", {})

    def cell(key):
        """A time, or the status string when there is none ("not available", "failed...")."""
        v = ms.get(key)
        if v is not None:
            return _r(v)
        s = st.get(key)
        if s is None:
            return None
        return "not available" if s.startswith("not available") else s.split(":")[0]

    return {
        "model": case["model"], "batch": case["batch"], "variant": case.get("variant"),
        "label": case.get("label", MODELS.get(case["model"], {}).get("label")),
        "gpu": machine.get("gpu"), "date": machine.get("date"),
        "cppnn_backend": case.get("cppnn_backend"),
        "eager_graph_fp16_ms": _r(eager), "compile_fp16_ms": _r(comp), "cppnn_fp16_ms": _r(cp),
        "best_peer": None if best is None else ("eager_graph" if best == eager else "compile"),
        "cppnn_over_best_peer": _r(r), "target": tgt,
        "cppnn_over_compile": _r(ratio(cp, comp)), "cppnn_over_eager_graph": _r(ratio(cp, eager)),
        "meets_target": None if r is None or tgt is None else bool(r <= tgt),
        "cppnn_mltensor_fp16_ms": cell("cppnn_mltensor_float16"),
        "cppnn_dlpack_fp16_ms": cell("cppnn_dlpack_float16"),
        "cppnn_io_fp16": case.get("cppnn_io", {}).get("float16"),
        "cppnn_profile_fp16_ms": cell("cppnn_profile_float16"),
        "eager_graph_bf16_ms": cell("eager_graph_bfloat16"),
        "compile_bf16_ms": cell("compile_bfloat16"),
        "cppnn_bf16_ms": cell("cppnn_bfloat16"),
        "rel_l2_torch_fp16": _sig(acc.get("compile_float16", acc.get("eager_graph_float16", {})).get("rel_l2")),
        "rel_l2_cppnn_fp16": _sig(acc.get("cppnn_float16", {}).get("rel_l2")),
        "max_abs_cppnn_fp16": _sig(acc.get("cppnn_float16", {}).get("max_abs")),
        "rel_l2_cppnn_bf16": _sig(acc.get("cppnn_bfloat16", {}).get("rel_l2")),
        "torch_compile_s": _r(case.get("compile_s", {}).get("compile_float16"), 1),
        "jit_cold_ms": _r((jit.get("cold") or {}).get("compile_ms"), 1),
        "jit_warm_ms": _r((jit.get("warm") or {}).get("compile_ms"), 1),
        "context_cold_ms": _r((jit.get("cold") or {}).get("context_ms"), 1),
        "errors": len(case.get("errors", [])),
    }


def report(docs):
    """Merged rows, one per model and batch (a later document's case wins), in MODELS order."""
    cases = {}
    machines = []
    for doc in docs:
        if "rows" in doc and "results" not in doc:
            # A results file this mode wrote (bench/results/gpu_transformers.json): its rows
            # stand as they are, and a later document's case of the same model replaces them.
            machines.extend(doc.get("runs", []))
            for r in doc["rows"]:
                cases[(r["model"], r["batch"], r.get("variant") or "")] = (r, None)
            continue
        m = dict(doc.get("machine", {}))
        m["date"] = doc.get("date")
        machines.append({k: m.get(k) for k in ("gpu", "driver", "torch", "torch_cuda", "cudnn",
                                               "cppnn_commit", "date")})
        for c in doc.get("results", []):
            if "model" not in c or "skipped" in c:
                continue
            cases[(c["model"], c["batch"], c.get("variant") or "")] = (c, m)
    order = list(MODELS)
    keys = sorted(cases, key=lambda k: (order.index(k[0]) if k[0] in order else len(order), k[1], k[2]))
    rows = [cases[k][0] if cases[k][1] is None else row_of(cases[k][0], cases[k][1]) for k in keys]
    gpus = sorted({r["gpu"] for r in rows if r["gpu"]})
    return {"runs": machines, "gpus": gpus,
            "method": "fp16; medians, torch.cuda.synchronize() around each run, GPU-resident "
                      "tensors; eager_graph = eager PyTorch in a CUDA graph, compile = "
                      "torch.compile(mode='reduce-overhead'), cppnn = float16 engine through "
                      "context.dispatch on torch CUDA tensors (rows with cppnn_dlpack_fp16_ms: "
                      "float16 inputs and outputs, tensors bound once with wrap_tensor; without "
                      "it, an earlier run's float32 interface imported on every call)",
            "ratio": "cppnn / the faster of eager_graph and compile, same run: below 1, cppnn is faster",
            "rows": rows}


def _ms(v):
    if v is None:
        return "-"
    if isinstance(v, str):
        return "n/a" if v == "not available" else v
    return f"{v:.3f}"


def markdown(rep):
    head = ["model", "batch", "eager + CUDA graph (ms)", "torch.compile r-o (ms)", "cppnn (ms)",
            "cppnn / best peer", "target", "error (rel. L2, torch / cppnn)"]
    lines = ["| " + " | ".join(head) + " |", "|" + "|".join(" --- " for _ in head) + "|"]
    for r in rep["rows"]:
        ratio_s = "-" if r["cppnn_over_best_peer"] is None else f"{r['cppnn_over_best_peer']:.2f}"
        if r["meets_target"] is not None:
            ratio_s += "" if r["meets_target"] else " (above)"
        tgt = "-" if r["target"] is None else f"<= {r['target']}"
        et = "-" if r["rel_l2_torch_fp16"] is None else f"{r['rel_l2_torch_fp16']:.1e}"
        ec = "-" if r["rel_l2_cppnn_fp16"] is None else f"{r['rel_l2_cppnn_fp16']:.1e}"
        cp = _ms(r["cppnn_fp16_ms"])
        if r.get("cppnn_backend") not in (None, "cuda"):
            cp += f" (on {r['cppnn_backend']}!)"
        lines.append("| " + " | ".join([r["label"] or r["model"], str(r["batch"]),
                                        _ms(r["eager_graph_fp16_ms"]), _ms(r["compile_fp16_ms"]),
                                        cp, ratio_s, tgt, f"{et} / {ec}"]) + " |")
    return "\n".join(lines)


def extra_table(rep):
    """The columns beside the targets: profile engine, bf16, JIT against torch.compile."""
    head = ["model", "batch", "cppnn on MLTensors (ms)", "cppnn profile engine (ms)",
            "bf16 eager + graph / cppnn (ms)", "JIT cold / warm (ms)", "torch.compile (s)"]
    lines = ["| " + " | ".join(head) + " |", "|" + "|".join(" --- " for _ in head) + "|"]
    for r in rep["rows"]:
        jit = "-" if r["jit_cold_ms"] is None else f"{r['jit_cold_ms']:.0f} / {r['jit_warm_ms'] or 0:.0f}"
        comp = "-" if r["torch_compile_s"] is None else f"{r['torch_compile_s']:.1f}"
        name = r["model"] + (f" ({r['variant']})" if r.get("variant") else "")
        lines.append("| " + " | ".join([name, str(r["batch"]), _ms(r["cppnn_mltensor_fp16_ms"]),
                                        _ms(r["cppnn_profile_fp16_ms"]),
                                        f"{_ms(r['eager_graph_bf16_ms'])} / {_ms(r['cppnn_bf16_ms'])}",
                                        jit, comp]) + " |")
    return "\n".join(lines)


def plot(rep, path):
    """Bars of cppnn / best peer per model and batch, the target as a tick, a line at 1.0.
    Returns False (and writes nothing) without matplotlib."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    rows = [r for r in rep["rows"] if r["cppnn_over_best_peer"] is not None]
    labels = [f"{r['model']}\nb{r['batch']}" for r in rows]
    vals = [r["cppnn_over_best_peer"] for r in rows]
    colors = ["#2a9d8f" if r["meets_target"] else ("#e9c46a" if v <= 1.0 else "#e76f51")
              for r, v in zip(rows, vals)]
    fig, ax = plt.subplots(figsize=(max(6.0, 1.0 + 0.9 * len(rows)), 4.2))
    xs = list(range(len(rows)))
    ax.bar(xs, vals, color=colors, width=0.6)
    ax.set_xlim(-0.6, len(rows) - 0.4)
    for x, r in zip(xs, rows):
        if r["target"] is not None:
            ax.plot([x - 0.4, x + 0.4], [r["target"], r["target"]], color="black", lw=1.2, ls="--")
    for x, v in zip(xs, vals):
        ax.text(x, v, f"{v:.2f}", ha="center", va="bottom", fontsize=8)
    ax.axhline(1.0, color="gray", lw=1)
    ax.set_xticks(xs)
    ax.set_xticklabels(labels, fontsize=8)
    ax.set_ylabel("cppnn / faster PyTorch (lower is better)")
    gpus = ", ".join(rep.get("gpus") or ["?"])
    ax.set_title(f"fp16, {gpus}: cppnn vs min(eager + CUDA graph, torch.compile r-o)\n"
                 "dashed: the issue's target; green: met", fontsize=9)
    fig.tight_layout()
    pathlib.Path(path).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return True


def report_main(a):
    docs = []
    for f in a.report:
        docs.append(json.loads(pathlib.Path(f).read_text()))
    rep = report(docs)
    if len(rep["gpus"]) > 1:
        print(f"WARNING: the merged files come from different GPUs ({', '.join(rep['gpus'])}): "
              "each row's ratio is from its own run, rows are not comparable", file=sys.stderr)
    results = pathlib.Path(a.results)
    png = pathlib.Path(a.plot) if a.plot else (
        DEFAULT_PLOT if results.resolve() == DEFAULT_RESULTS.resolve() else results.with_suffix(".png"))
    if not a.no_write:
        write_json(results, rep)
        if plot(rep, png):
            print(f"wrote {results} and {png}")
        else:
            print(f"wrote {results} (no matplotlib: no plot; pip install matplotlib)")
    runs = "; ".join(f"{m.get('gpu')}, {m.get('date')}, PyTorch {m.get('torch')}, cppnn "
                     f"{m.get('cppnn_commit')}" for m in rep["runs"])
    if a.readme_table:
        print(f"\n{runs}. Ratio = cppnn / the faster of the two PyTorch columns of the same run "
              "(below 1, cppnn is faster).\n")
        print(markdown(rep))
        print()
        print(extra_table(rep))
    missed = [r for r in rep["rows"] if r["meets_target"] is False]
    for r in missed:
        print(f"above target: {r['model']} b{r['batch']}: {r['cppnn_over_best_peer']:.2f} > {r['target']}",
              file=sys.stderr)
    return 0


def main(argv=None):
    a = parse_args(argv)
    if a.report is not None:
        return report_main(a)
    return run_bench(a)


if __name__ == "__main__":
    sys.exit(main())
