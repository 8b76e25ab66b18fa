#!/usr/bin/env python3
"""Real models on the GPU machine: cppnn against PyTorch, same weights, same inputs.

MobileNetV2 and ResNet-50 (torchvision, random weights, batch 1 and 8, 224x224) and
BERT-base (transformers, default BertConfig, batch 1, sequence 128, the last 8 positions
masked, output last_hidden_state), all built after torch.manual_seed(0), eval(), fp32.
Each is exported to ONNX (opset 17, fixed shapes) and then timed:

- PyTorch eager fp32 on CUDA with TF32 off (cudnn.allow_tf32 and cuda.matmul.allow_tf32 =
  False): cppnn's fp32 is exact fp32, so this is the like-for-like number;
- PyTorch eager fp16 (model.half());
- torch.compile (default mode) fp32, only with TORCH_COMPILE=1 (adds about a minute a model);
- the cppnn tool on the ONNX file: --device auto with a fresh CPPNN_CACHE_DIR (cold JIT),
  again with the same folder (warm), --device cpu once for scale, and --precision float16
  where the tool has that option ("not available" otherwise).

cppnn's outputs are compared with PyTorch fp32's (relative L2 ||a-b||/||b|| and max abs).
Latencies are medians: PyTorch over 50 runs after 10 warm-up runs, each run between two
torch.cuda.synchronize() calls, inputs and outputs on the GPU (a second number includes the
host-to-device and device-to-host copies); cppnn's are whole compute() calls as the tool
times them, host inputs to host outputs. The ratio torch_fp32 / cppnn is above 1 where cppnn
is faster.

Every model is independent: a failure is printed and recorded, and the script goes on. The
JSON (--out) is rewritten after every model, so a run cut short still leaves its results.

    python3 tests/gpu/models_vs_torch.py --cppnn BUILD/cppnn --work /tmp/w [--out FILE]
        [--models mobilenet_v2,resnet50,bert_base] [--batches 1,8]

The environment variable CPPNN_LD_LIBRARY_PATH, when set, is the LD_LIBRARY_PATH given to
the cppnn processes only (run_torch.sh sets it: the carried libraries must not shadow the
ones PyTorch loads in this process).

torch, torchvision, transformers and onnx are imported inside the functions that use them,
so the argument parsing and the tool-output parsing can be tested without them.
"""
import argparse
import datetime
import json
import math
import os
import pathlib
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import traceback

MODELS = ("mobilenet_v2", "resnet50", "bert_base")
CNN_MODELS = ("mobilenet_v2", "resnet50")
BERT_SEQ = 128
BERT_MASKED = 8
TORCH_ITERS, TORCH_WARMUP = 50, 10
CPPNN_ITERS, CPPNN_WARMUP = 50, 10
CPPNN_CPU_ITERS, CPPNN_CPU_WARMUP = 10, 2


# ---------------------------------------------------------------- arguments

def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--cppnn", required=True, help="the cppnn tool (BUILD/cppnn)")
    p.add_argument("--work", default=None,
                   help="folder for ONNX files, inputs, outputs and logs (default: a new temp folder)")
    p.add_argument("--models", default=",".join(MODELS),
                   help="comma-separated, from: " + ", ".join(MODELS))
    p.add_argument("--batches", default="1,8",
                   help="batch sizes for the CNNs (BERT always runs batch 1)")
    p.add_argument("--out", default=None,
                   help="JSON results (default: $OUT/gpu_models.json, else WORK/gpu_models.json)")
    p.add_argument("--timeout", type=float, default=180.0,
                   help="seconds allowed to one cppnn process")
    p.add_argument("--budget", type=float, default=270.0,
                   help="seconds after which the models not started yet are skipped")
    p.add_argument("--torch-device", default="cuda", choices=["cuda", "cpu"],
                   help="where PyTorch runs (cpu only to try the script on a machine without a GPU)")
    a = p.parse_args(argv)
    models = [m.strip() for m in a.models.split(",") if m.strip()]
    bad = [m for m in models if m not in MODELS]
    if bad:
        p.error(f"unknown model(s) {', '.join(bad)}; known: {', '.join(MODELS)}")
    try:
        batches = [int(b) for b in a.batches.split(",") if b.strip()]
    except ValueError:
        p.error(f"--batches '{a.batches}' must be comma-separated integers")
    if not batches or any(b < 1 for b in batches):
        p.error("--batches needs positive integers")
    a.model_list, a.batch_list = models, batches
    if a.work is None:
        a.work = tempfile.mkdtemp(prefix="cppnn-torch-")
    if a.out is None:
        base = os.environ.get("OUT") or a.work
        a.out = os.path.join(base, "gpu_models.json")
    return a


def cases(models, batches):
    """(model, batch) pairs in run order: the CNNs at each batch, BERT at batch 1."""
    out = []
    for m in models:
        for b in (batches if m in CNN_MODELS else [1]):
            out.append((m, b))
    return out


# ---------------------------------------------------------------- the tool's output

_FLOAT = r"([0-9]+(?:\.[0-9]*)?(?:[eE][-+]?[0-9]+)?|nan|inf)"


def parse_cppnn_output(text):
    """The numbers in `cppnn run`'s output:

        model    FILE (100 nodes)
        device   cuda (NVIDIA H100 80GB HBM3, ...)
        output   536 float32 [1, 1000]
        context  0.6 ms (backend creation: CUDA context, libraries)   [newer tools]
        compile  43.3 ms
        latency  median 3.064 ms, min 2.9 ms, p90 3.2 ms over 50 runs

    Returns a dict with device, device_reason, context_ms, compile_ms, first_ms (the first
    compute: CUDA graph capture, library kernels loaded), median_ms, min_ms,
    p90_ms, runs and outputs ([{name, dtype, shape}]); what is missing is None."""
    r = {"device": None, "device_reason": None, "context_ms": None, "compile_ms": None,
         "first_ms": None, "median_ms": None,
         "min_ms": None, "p90_ms": None, "runs": None, "outputs": []}
    for line in text.splitlines():
        m = re.match(r"^device\s+(\S+)(?:\s+\((.*)\))?\s*$", line)
        if m:
            r["device"], r["device_reason"] = m.group(1), m.group(2)
            continue
        m = re.match(r"^(compile|context|first)\s+" + _FLOAT + r"\s*ms", line)
        if m:
            r[m.group(1) + "_ms"] = float(m.group(2))
            continue
        m = re.match(r"^latency\s+median\s+" + _FLOAT + r"\s*ms(?:,\s*min\s+" + _FLOAT +
                     r"\s*ms)?(?:,\s*p90\s+" + _FLOAT + r"\s*ms)?(?:\s+over\s+(\d+)\s+runs)?", line)
        if m:
            r["median_ms"] = float(m.group(1))
            r["min_ms"] = float(m.group(2)) if m.group(2) else None
            r["p90_ms"] = float(m.group(3)) if m.group(3) else None
            r["runs"] = int(m.group(4)) if m.group(4) else None
            continue
        m = re.match(r"^output\s+(\S+)\s+(\S+)\s+\[([^\]]*)\]", line)
        if m:
            dims = [int(d) for d in m.group(3).replace(" ", "").split(",") if d]
            r["outputs"].append({"name": m.group(1), "dtype": m.group(2), "shape": dims})
    return r


def option_in_help(help_text, option):
    """Whether `cppnn SUB --help` lists the option (CLI11 prints `  --name TYPE ...`)."""
    return re.search(r"(^|[\s,])" + re.escape(option) + r"(\b|=|\s|$)", help_text, re.M) is not None


def rejected_option(text):
    """Whether the tool's error output says it does not know an argument (CLI11 wording)."""
    t = text.lower()
    return ("not expected" in t or "extraargserror" in t or "unknown option" in t
            or "unrecognized" in t)


# ---------------------------------------------------------------- small helpers

def rel_l2(a, b):
    """||a-b|| / ||b|| in float64 and the max abs difference; b is the reference."""
    import numpy as np
    a = np.asarray(a, dtype=np.float64).ravel()
    b = np.asarray(b, dtype=np.float64).ravel()
    if a.shape != b.shape:
        raise ValueError(f"shapes differ: {a.size} vs {b.size} elements")
    nb = float(np.linalg.norm(b))
    err = float(np.linalg.norm(a - b)) / (nb if nb > 0 else 1e-30)
    return {"rel_l2": err, "max_abs": float(np.max(np.abs(a - b))) if a.size else 0.0,
            "finite": bool(np.isfinite(a).all())}


def ratio(num, den):
    if num is None or den is None or not den or math.isnan(num) or math.isnan(den):
        return None
    return num / den


def fmt(v, spec=".2f", none="-"):
    return none if v is None else format(v, spec)


def log(msg):
    print(msg, flush=True)


# ---------------------------------------------------------------- PyTorch side

def torch_setup():
    import torch
    torch.backends.cudnn.allow_tf32 = False
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.set_float32_matmul_precision("highest")
    torch.backends.cudnn.benchmark = True  # fixed shapes: let cuDNN pick its fastest algorithms
    return torch


def build_model(name):
    """The model on the CPU in fp32 eval mode, built right after torch.manual_seed(0)."""
    import torch
    torch.manual_seed(0)
    if name == "mobilenet_v2":
        import torchvision
        return torchvision.models.mobilenet_v2(weights=None).eval()
    if name == "resnet50":
        import torchvision
        return torchvision.models.resnet50(weights=None).eval()
    if name == "bert_base":
        from transformers import BertConfig, BertModel

        class LastHidden(torch.nn.Module):
            """BertModel returning only last_hidden_state (a plain tensor for the exporters)."""

            def __init__(self, bert):
                super().__init__()
                self.bert = bert

            def forward(self, input_ids, attention_mask):
                # token_type_ids given (zeros, as the default buffer): without it, recent
                # transformers gather from the buffer, which exports as GatherElements.
                return self.bert(input_ids=input_ids, attention_mask=attention_mask,
                                 token_type_ids=torch.zeros_like(input_ids),
                                 return_dict=True).last_hidden_state

        return LastHidden(BertModel(BertConfig()).eval()).eval()
    raise ValueError(name)


def make_inputs(name, batch):
    """Named CPU input tensors in forward() order (seeded, independent of the model's seed)."""
    import torch
    g = torch.Generator().manual_seed(1000 + batch)
    if name == "bert_base":
        ids = torch.randint(1, 30522, (batch, BERT_SEQ), generator=g, dtype=torch.int64)
        mask = torch.ones((batch, BERT_SEQ), dtype=torch.int64)
        mask[:, -BERT_MASKED:] = 0
        return {"input_ids": ids, "attention_mask": mask}
    return {"input": torch.randn((batch, 3, 224, 224), generator=g, dtype=torch.float32)}


TORCH_DEVICE = "cuda"


def sync():
    import torch
    if TORCH_DEVICE == "cuda":
        torch.cuda.synchronize()


def time_cuda(fn, iters=None, warmup=None):
    """Median milliseconds of fn() with torch.cuda.synchronize() before and after each run."""
    iters = TORCH_ITERS if iters is None else iters
    warmup = TORCH_WARMUP if warmup is None else warmup
    for _ in range(warmup):
        fn()
    sync()
    ms = []
    for _ in range(iters):
        sync()
        t = time.perf_counter()
        fn()
        sync()
        ms.append((time.perf_counter() - t) * 1e3)
    return statistics.median(ms)


def bert_eager_copy(wrapper):
    """The same BERT (same weights) with transformers' eager attention: its mask is a plain
    additive float, where the SDPA path exports ops cppnn may lack (IsNaN from the TorchScript
    exporter's SDPA, GatherND from the dynamo exporter's trace of the mask code)."""
    import copy
    from transformers import BertConfig, BertModel
    cfg = copy.deepcopy(wrapper.bert.config)
    try:
        cfg._attn_implementation = "eager"
    except Exception:  # noqa: BLE001
        cfg = BertConfig(attn_implementation="eager")
    bert = BertModel(cfg)
    bert.load_state_dict(wrapper.bert.state_dict())
    if hasattr(bert, "set_attn_implementation"):
        try:
            bert.set_attn_implementation("eager")
        except Exception:  # noqa: BLE001
            pass
    return type(wrapper)(bert.eval()).eval()


def export_variants(name, model):
    """(label, model or a function making it) to export, in order."""
    if name == "bert_base":
        return [("", model), ("eager attention", lambda: bert_eager_copy(model))]
    return [("", model)]


def export_onnx(variants, inputs, path, errors, check=None):
    """torch.onnx.export at opset 17, fixed shapes: for each variant of the model (see
    export_variants) the TorchScript exporter, then for each the dynamo one. The file is
    rewritten as one self-contained ModelProto (the dynamo exporter may put weights in an
    external file, which cppnn's importer does not read). check(path), when given, returns
    None if cppnn imports the file, else the error: then the next way is tried, and if none
    gives a file cppnn takes, the first file written is kept. Returns a dict (None when no
    exporter wrote a file); every failure is appended to errors."""
    import torch
    import onnx
    args = tuple(inputs.values())
    names = list(inputs.keys())
    out_name = "last_hidden_state" if "input_ids" in inputs else "logits"
    attempts = [("torchscript", v, dict(dynamo=False, do_constant_folding=True)) for v in variants]
    attempts += [("dynamo", v, dict(dynamo=True, external_data=False)) for v in variants]
    made = {}
    first = None
    while attempts:
        exporter, (variant, make), kw = attempts.pop(0)
        method = exporter + (f", {variant}" if variant else "")
        t0 = time.perf_counter()
        try:
            if variant not in made:
                made[variant] = make() if callable(make) and not isinstance(make, torch.nn.Module) else make
            model = made[variant]
            for leftover in path.parent.glob(path.name + "*"):
                if leftover != path and not leftover.name.endswith(".kept"):
                    leftover.unlink()
            with torch.no_grad():
                torch.onnx.export(model, args, str(path), opset_version=17, input_names=names,
                                  output_names=[out_name], **kw)
            m = onnx.load(str(path))  # pulls in external data, if any, from beside the file
            onnx.save_model(m, str(path), save_as_external_data=False)
            for leftover in path.parent.glob(path.name + ".data"):
                leftover.unlink()
            opset = next((o.version for o in m.opset_import if o.domain in ("", "ai.onnx")), None)
            info = {"method": method, "seconds": round(time.perf_counter() - t0, 2),
                    "opset": opset, "bytes": path.stat().st_size,
                    "inputs": [i.name for i in m.graph.input],
                    "outputs": [o.name for o in m.graph.output],
                    "nodes": len(m.graph.node),
                    "ops": sorted({n.op_type for n in m.graph.node})}
            del m
            problem = check(path) if check else None
            if problem is None:
                if first is not None:
                    first[1].unlink(missing_ok=True)
                return info
            info["cppnn_import_error"] = problem
            errors.append(f"export ({method}): cppnn does not import it: {problem}")
            if first is None:
                first = (info, path.with_name(path.name + ".kept"))
                shutil.copyfile(path, first[1])
        except Exception as e:  # noqa: BLE001 - every failure is reported, the next way tried
            errors.append(f"export ({method}): {type(e).__name__}: {str(e)[:500]}")
            if isinstance(e, TypeError) and "external_data" in str(e) and "external_data" in kw:
                kw = {k: v for k, v in kw.items() if k != "external_data"}
                attempts.insert(0, (exporter, (variant, make), kw))  # an older signature
    made.clear()
    if first is not None:
        first[1].replace(path)
        return first[0]
    return None


# ---------------------------------------------------------------- cppnn side

class Cppnn:
    def __init__(self, exe, timeout, logdir):
        self.exe = str(exe)
        self.timeout = timeout
        self.logdir = pathlib.Path(logdir)
        self.logdir.mkdir(parents=True, exist_ok=True)
        self.env = dict(os.environ)
        if os.environ.get("CPPNN_LD_LIBRARY_PATH"):
            self.env["LD_LIBRARY_PATH"] = os.environ["CPPNN_LD_LIBRARY_PATH"]
        self.fp16 = self._probe_fp16()
        self.has_report = option_in_help(self._help("run"), "--report")

    def _help(self, sub):
        try:
            p = subprocess.run([self.exe, sub, "--help"], capture_output=True, text=True,
                               env=self.env, timeout=30)
            return p.stdout + p.stderr
        except Exception as e:  # noqa: BLE001
            return f"({e})"

    def _probe_fp16(self):
        """How to get fp16 out of the tool: 'run' (run --precision float16), 'build' (build an
        engine with --precision float16, then run it) or None (not available)."""
        if option_in_help(self._help("run"), "--precision"):
            return "run"
        if option_in_help(self._help("build"), "--precision"):
            return "build"
        return None

    def _exec(self, argv, label, env_extra=None):
        env = dict(self.env)
        env.update(env_extra or {})
        t0 = time.perf_counter()
        try:
            p = subprocess.run([self.exe] + argv, capture_output=True, text=True, env=env,
                               timeout=self.timeout)
            text, rc = p.stdout + p.stderr, p.returncode
        except subprocess.TimeoutExpired as e:
            text = ((e.stdout or b"").decode(errors="replace") if isinstance(e.stdout, bytes)
                    else (e.stdout or "")) + f"\n(timed out after {self.timeout:.0f} s)"
            rc = -1
        wall = time.perf_counter() - t0
        (self.logdir / f"{label}.log").write_text(f"$ {self.exe} {' '.join(argv)}\n{text}")
        return rc, text, wall

    def run(self, model, inputs, save_dir, device, iters, warmup, cache_dir, label, extra=()):
        save_dir = pathlib.Path(save_dir)
        if save_dir.exists():
            shutil.rmtree(save_dir)
        save_dir.mkdir(parents=True)
        argv = ["run", str(model), "--device", device, "--iterations", str(iters),
                "--warmup", str(warmup), "--save", str(save_dir)] + list(extra)
        for name, path in inputs.items():
            argv += ["--input", f"{name}={path}"]
        rc, text, wall = self._exec(argv, label, {"CPPNN_CACHE_DIR": str(cache_dir)})
        r = parse_cppnn_output(text)
        r.update({"rc": rc, "wall_s": round(wall, 2), "save_dir": str(save_dir)})
        if "--report" in extra:
            r["report"] = text[-4000:]
        if rc != 0:
            r["error"] = text.strip()[-800:]
        return r

    def check_import(self, model, label):
        """None if `cppnn info MODEL` imports the file, else the tool's error message."""
        rc, text, _ = self._exec(["info", str(model)], label)
        if rc == 0:
            return None
        lines = [x for x in text.strip().splitlines() if "cppnn:" in x] or text.strip().splitlines()
        return (lines[-1] if lines else f"exit {rc}")[:500]

    def build(self, model, engine, label, extra=()):
        rc, text, wall = self._exec(["build", str(model), "-o", str(engine)] + list(extra), label)
        return rc, text


def saved_output(save_dir, name):
    """The tool's output NAME.npy, or the only .npy it wrote when the name differs."""
    import numpy as np
    d = pathlib.Path(save_dir)
    f = d / f"{name}.npy"
    if not f.exists():
        files = sorted(d.glob("*.npy"))
        if len(files) != 1:
            raise FileNotFoundError(f"{f} missing; {d} has {[x.name for x in files]}")
        f = files[0]
    return np.load(f)


# ---------------------------------------------------------------- one case

def run_case(torch, name, batch, model_cpu, cli, work, want_compile):
    import numpy as np
    res = {"model": name, "batch": batch, "errors": [], "export": None, "torch": {},
           "cppnn": {}, "compare": {}, "ratios": {}}
    errors = res["errors"]
    tag = f"{name}-b{batch}"
    cdir = work / tag
    cdir.mkdir(parents=True, exist_ok=True)
    inputs = make_inputs(name, batch)
    res["inputs"] = {k: {"dtype": str(v.dtype).replace("torch.", ""), "shape": list(v.shape)}
                     for k, v in inputs.items()}
    npy = {}
    for k, v in inputs.items():
        npy[k] = cdir / f"{k}.npy"
        np.save(npy[k], np.ascontiguousarray(v.numpy()))

    # --- export (CPU, fp32)
    onnx_path = cdir / f"{tag}.onnx"
    log(f"[{tag}] export to ONNX")
    res["export_errors"] = []
    res["export"] = export_onnx(export_variants(name, model_cpu), inputs, onnx_path,
                                res["export_errors"],
                                lambda f: cli.check_import(f, f"{tag}-info"))
    for e in res["export_errors"]:
        log(f"[{tag}]   {e.splitlines()[0][:300]}")
    if res["export"]:
        e = res["export"]
        log(f"[{tag}]   {e['method']} exporter, opset {e['opset']}, {e['nodes']} nodes, "
            f"{e['bytes'] / 1e6:.1f} MB, {e['seconds']} s")
    else:
        errors.append("export failed with both exporters: " + " | ".join(res["export_errors"]))
        log(f"[{tag}]   EXPORT FAILED (both exporters)")

    # --- PyTorch fp32 on CUDA
    ref = None
    out_name = (res["export"] or {}).get("outputs", ["last_hidden_state" if name == "bert_base"
                                                      else "logits"])[0]
    try:
        dev = TORCH_DEVICE
        model = model_cpu.to(dev)
        xg = {k: v.to(dev) for k, v in inputs.items()}
        with torch.inference_mode():
            ref_t = model(*xg.values())
            sync()
            ref = ref_t.float().cpu().numpy()
            # Random weights can leave tiny outputs (MobileNetV2's are ~1e-9): then fp16
            # underflows and its relative error says nothing.
            res["torch"]["output_rms"] = float((ref.astype("float64") ** 2).mean() ** 0.5)
            res["torch"]["fp32_ms"] = time_cuda(lambda: model(*xg.values()))
            res["torch"]["fp32_with_copies_ms"] = time_cuda(
                lambda: model(*[v.to(dev) for v in inputs.values()]).cpu())
            # The same model on the CPU, for scale of what two fp32 implementations differ by.
            if dev == "cuda" and batch == 1:
                try:
                    res["torch"]["cuda_vs_cpu"] = rel_l2(ref, model_cpu.to("cpu")(*inputs.values()).numpy())
                finally:
                    model = model_cpu.to(dev)
        log(f"[{tag}] torch fp32 {res['torch']['fp32_ms']:.3f} ms "
            f"({res['torch']['fp32_with_copies_ms']:.3f} ms with copies)")
    except Exception as e:  # noqa: BLE001
        errors.append(f"torch fp32: {type(e).__name__}: {str(e)[:500]}")
        log(f"[{tag}] torch fp32 FAILED: {e}")
        traceback.print_exc()

    # --- torch.compile fp32 (TORCH_COMPILE=1)
    if want_compile and ref is not None:
        try:
            torch._dynamo.reset()
            cm = torch.compile(model, dynamic=False)
            with torch.inference_mode():
                sync()
                t0 = time.perf_counter()
                out = cm(*xg.values())
                sync()
                res["torch"]["compile_s"] = time.perf_counter() - t0
                res["torch"]["compile_ms"] = time_cuda(lambda: cm(*xg.values()))
                res["compare"]["torch_compile"] = rel_l2(out.float().cpu().numpy(), ref)
            log(f"[{tag}] torch.compile: first call {res['torch']['compile_s']:.1f} s, "
                f"then {res['torch']['compile_ms']:.3f} ms")
            del cm
            torch._dynamo.reset()
        except Exception as e:  # noqa: BLE001
            errors.append(f"torch.compile: {type(e).__name__}: {str(e)[:500]}")
            log(f"[{tag}] torch.compile FAILED: {e}")

    # --- PyTorch fp16 (a half copy; the fp32 model stays as it is for the next batch)
    if ref is not None:
        try:
            import copy
            mh = copy.deepcopy(model_cpu).to(TORCH_DEVICE).half().eval()
            xh = {k: (v.half() if v.is_floating_point() else v) for k, v in xg.items()}
            with torch.inference_mode():
                out = mh(*xh.values())
                res["compare"]["torch_fp16"] = rel_l2(out.float().cpu().numpy(), ref)
                res["torch"]["fp16_ms"] = time_cuda(lambda: mh(*xh.values()))
            log(f"[{tag}] torch fp16 {res['torch']['fp16_ms']:.3f} ms "
                f"(rel L2 vs fp32 {res['compare']['torch_fp16']['rel_l2']:.1e})")
            del mh, xh
        except Exception as e:  # noqa: BLE001
            errors.append(f"torch fp16: {type(e).__name__}: {str(e)[:500]}")
            log(f"[{tag}] torch fp16 FAILED: {e}")
    try:
        model_cpu.to("cpu")
        del model
    except Exception:  # noqa: BLE001
        pass
    if TORCH_DEVICE == "cuda":
        torch.cuda.empty_cache()

    # --- cppnn
    if res["export"]:
        cache = pathlib.Path(tempfile.mkdtemp(prefix=f"cache-{tag}-", dir=work))
        report = ("--report",) if cli.has_report else ()  # what runs where, in the cold log
        runs = [("cuda_cold", "auto", CPPNN_ITERS, CPPNN_WARMUP, cache, report),
                ("cuda_warm", "auto", CPPNN_ITERS, CPPNN_WARMUP, cache, ()),
                ("cpu", "cpu", CPPNN_CPU_ITERS, CPPNN_CPU_WARMUP,
                 pathlib.Path(tempfile.mkdtemp(prefix=f"cache-cpu-{tag}-", dir=work)), ())]
        fp16_model = onnx_path
        if cli.fp16 == "run":
            runs.append(("fp16", "auto", CPPNN_ITERS, CPPNN_WARMUP,
                         pathlib.Path(tempfile.mkdtemp(prefix=f"cache-fp16-{tag}-", dir=work)),
                         ("--precision", "float16")))
        elif cli.fp16 == "build":
            fp16_model = cdir / f"{tag}-fp16.engine"
            rc, text = cli.build(onnx_path, fp16_model, f"{tag}-build-fp16",
                                 ("--precision", "float16"))
            if rc == 0:
                runs.append(("fp16", "auto", CPPNN_ITERS, CPPNN_WARMUP,
                             pathlib.Path(tempfile.mkdtemp(prefix=f"cache-fp16-{tag}-", dir=work)),
                             ()))
            else:
                res["cppnn"]["fp16"] = {"error": text.strip()[-800:]}
                errors.append("cppnn build --precision float16: " + text.strip()[-300:])
        else:
            res["cppnn"]["fp16"] = "not available"
        for key, device, iters, warmup, cdir_cache, extra in runs:
            model_file = fp16_model if key == "fp16" else onnx_path
            r = cli.run(model_file, npy, cdir / f"out-{key}", device, iters, warmup, cdir_cache,
                        f"{tag}-{key}", extra)
            if key == "fp16" and r["rc"] != 0 and rejected_option(r.get("error", "")):
                res["cppnn"]["fp16"] = "not available"
                continue
            res["cppnn"][key] = r
            if r["rc"] != 0:
                errors.append(f"cppnn {key}: " + r.get("error", "")[-300:])
                log(f"[{tag}] cppnn {key} FAILED (exit {r['rc']}):\n    "
                    + "\n    ".join(r.get("error", "").splitlines()[-6:]))
                continue
            if ref is not None:
                try:
                    res["compare"][key] = rel_l2(saved_output(r["save_dir"], out_name), ref)
                except Exception as e:  # noqa: BLE001
                    errors.append(f"compare {key}: {type(e).__name__}: {e}")
            c = res["compare"].get(key, {})
            log(f"[{tag}] cppnn {key:9s} device {r['device']}: compile {fmt(r['compile_ms'], '.1f')} ms,"
                f" median {fmt(r['median_ms'], '.3f')} ms, rel L2 vs torch "
                f"{fmt(c.get('rel_l2'), '.2e')}, max abs {fmt(c.get('max_abs'), '.2e')}")
            if device == "auto" and r["device"] != "cuda":
                log(f"!!!!! [{tag}] cppnn {key} ran on '{r['device']}', NOT cuda: "
                    f"{r['device_reason']} -- its GPU numbers mean nothing !!!!!")
        for d in cdir.glob("cache-*"):
            shutil.rmtree(d, ignore_errors=True)

    # --- ratios (torch / cppnn: above 1 where cppnn is faster)
    t, c = res["torch"], res["cppnn"]
    gpu = c.get("cuda_warm") if isinstance(c.get("cuda_warm"), dict) else None
    if not gpu or gpu.get("median_ms") is None:
        gpu = c.get("cuda_cold") if isinstance(c.get("cuda_cold"), dict) else None
    gpu_ms = gpu.get("median_ms") if gpu and gpu.get("device") == "cuda" else None
    f16 = c.get("fp16") if isinstance(c.get("fp16"), dict) else None
    f16_ms = f16.get("median_ms") if f16 and f16.get("device") == "cuda" else None
    res["cppnn_cuda_ms"] = gpu_ms
    res["ratios"] = {
        "torch_fp32_over_cppnn": ratio(t.get("fp32_ms"), gpu_ms),
        "torch_fp32_with_copies_over_cppnn": ratio(t.get("fp32_with_copies_ms"), gpu_ms),
        "torch_fp16_over_cppnn": ratio(t.get("fp16_ms"), gpu_ms),
        "torch_compile_over_cppnn": ratio(t.get("compile_ms"), gpu_ms),
        "torch_fp16_over_cppnn_fp16": ratio(t.get("fp16_ms"), f16_ms),
    }
    return res


# ---------------------------------------------------------------- report

def device_of(res):
    r = res.get("cppnn", {}).get("cuda_cold")
    return r.get("device") if isinstance(r, dict) else None


def table(results):
    head = ["model", "batch", "cppnn device", "rel L2 vs torch", "torch fp32 ms", "torch fp16 ms",
            "torch.compile ms", "cppnn cuda ms", "cppnn fp16 ms", "cppnn cpu ms",
            "JIT cold / warm ms", "torch fp32 / cppnn", "torch fp16 / cppnn fp16"]
    rows = []
    for r in results:
        t, c, cmp = r.get("torch", {}), r.get("cppnn", {}), r.get("compare", {})

        def cm(key, field):
            v = c.get(key)
            return v.get(field) if isinstance(v, dict) else None
        fp16 = c.get("fp16")
        fp16_cell = "n/a" if fp16 == "not available" else fmt(cm("fp16", "median_ms"), ".3f")
        rows.append([
            r["model"], str(r["batch"]), device_of(r) or "-",
            fmt(cmp.get("cuda_cold", {}).get("rel_l2"), ".1e"),
            fmt(t.get("fp32_ms"), ".3f"), fmt(t.get("fp16_ms"), ".3f"),
            fmt(t.get("compile_ms"), ".3f"), fmt(r.get("cppnn_cuda_ms"), ".3f"), fp16_cell,
            fmt(cm("cpu", "median_ms"), ".2f"),
            f"{fmt(cm('cuda_cold', 'compile_ms'), '.0f')} / {fmt(cm('cuda_warm', 'compile_ms'), '.0f')}",
            fmt(r.get("ratios", {}).get("torch_fp32_over_cppnn"), ".2f"),
            fmt(r.get("ratios", {}).get("torch_fp16_over_cppnn_fp16"), ".2f"),
        ])
    widths = [max(len(h), *(len(x[i]) for x in rows)) if rows else len(h) for i, h in enumerate(head)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(head, widths))]
    lines.append("  ".join("-" * w for w in widths))
    for x in rows:
        lines.append("  ".join(v.ljust(w) for v, w in zip(x, widths)))
    return "\n".join(lines)


def machine_info(torch):
    info = {"host": platform.node(), "python": platform.python_version(),
            "torch": torch.__version__, "torch_cuda": torch.version.cuda,
            "cudnn": torch.backends.cudnn.version() if torch.backends.cudnn.is_available() else None}
    for mod in ("torchvision", "transformers", "onnx", "numpy"):
        try:
            info[mod] = __import__(mod).__version__
        except Exception:  # noqa: BLE001
            info[mod] = None
    try:
        info["gpu"] = torch.cuda.get_device_name(0)
    except Exception as e:  # noqa: BLE001
        info["gpu"] = f"? ({e})"
    try:
        q = subprocess.run(["nvidia-smi", "--query-gpu=driver_version,memory.total",
                            "--format=csv,noheader"], capture_output=True, text=True, timeout=20)
        drv = q.stdout.strip().splitlines()[0].split(",")
        info["driver"], info["gpu_memory"] = drv[0].strip(), drv[1].strip() if len(drv) > 1 else None
    except Exception as e:  # noqa: BLE001
        info["driver"] = f"? ({e})"
    return info


def write_json(path, doc):
    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(doc, indent=2, default=str) + "\n")
    tmp.replace(path)


def main(argv=None):
    global TORCH_DEVICE
    a = parse_args(argv)
    TORCH_DEVICE = a.torch_device
    if TORCH_DEVICE == "cpu":  # a trial of the script, not a measurement: keep it short
        global TORCH_ITERS, TORCH_WARMUP, CPPNN_ITERS, CPPNN_WARMUP, CPPNN_CPU_ITERS, CPPNN_CPU_WARMUP
        TORCH_ITERS, TORCH_WARMUP = 3, 1
        CPPNN_ITERS, CPPNN_WARMUP, CPPNN_CPU_ITERS, CPPNN_CPU_WARMUP = 3, 1, 3, 1
    t_start = time.perf_counter()
    work = pathlib.Path(a.work).resolve()
    work.mkdir(parents=True, exist_ok=True)
    want_compile = os.environ.get("TORCH_COMPILE", "0") == "1"
    doc = {"date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
           "machine": {}, "settings": {
               "torch": "eager, fp32 with TF32 off (cudnn.allow_tf32 = matmul.allow_tf32 = False, "
                        "float32_matmul_precision highest), cudnn.benchmark on; fp16 = model.half(); "
                        f"median of {TORCH_ITERS} runs after {TORCH_WARMUP}, synchronize around each",
               "torch_compile": "default mode, dynamic=False, fp32" if want_compile else "off (TORCH_COMPILE=1 turns it on)",
               "cppnn": f"cppnn run --device auto --iterations {CPPNN_ITERS} --warmup {CPPNN_WARMUP}; "
                        "cold = fresh CPPNN_CACHE_DIR, warm = the same folder again; "
                        f"cpu: --device cpu --iterations {CPPNN_CPU_ITERS}; cppnn fp32 is exact fp32 (no TF32)",
               "latency": "torch: GPU-resident inputs and outputs (fp32_with_copies_ms adds the copies); "
                          "cppnn: whole compute() calls, host to host",
               "ratio": "torch_ms / cppnn_ms: above 1 where cppnn is faster",
               "rel_l2": "||cppnn - torch_fp32|| / ||torch_fp32||, torch fp32 on CUDA as reference"},
           "cppnn": {"binary": str(a.cppnn)}, "results": []}
    log(f"== models_vs_torch: {', '.join(f'{m} b{b}' for m, b in cases(a.model_list, a.batch_list))}"
        f"; work {work}; out {a.out}")
    if not os.access(a.cppnn, os.X_OK):
        log(f"!!!!! cppnn tool {a.cppnn} is missing or not executable: the cppnn columns will be empty")
    try:
        torch = torch_setup()
        if not torch.cuda.is_available():
            log("!!!!! torch.cuda.is_available() is False: no PyTorch GPU numbers")
        doc["machine"] = machine_info(torch)
        log("== machine " + json.dumps(doc["machine"]))
    except Exception as e:  # noqa: BLE001
        log(f"torch is not usable: {type(e).__name__}: {e}")
        doc["fatal"] = f"torch: {e}"
        write_json(a.out, doc)
        return 1

    cli = Cppnn(a.cppnn, a.timeout, work / "logs")
    doc["cppnn"]["fp16"] = ("not available" if cli.fp16 is None
                            else f"--precision float16 on `cppnn {cli.fp16}`")
    log(f"== cppnn --precision float16: {doc['cppnn']['fp16']}")
    write_json(a.out, doc)

    built = {}
    try:
        for name, batch in cases(a.model_list, a.batch_list):
            if time.perf_counter() - t_start > a.budget:
                log(f"[{name}-b{batch}] skipped: the {a.budget:.0f} s budget is spent")
                doc["results"].append({"model": name, "batch": batch, "skipped": "time budget",
                                       "errors": ["skipped: time budget"]})
                continue
            t0 = time.perf_counter()
            try:
                if name not in built:
                    built.clear()  # one model in memory at a time
                    built[name] = build_model(name)
                res = run_case(torch, name, batch, built[name], cli, work, want_compile)
            except Exception as e:  # noqa: BLE001
                traceback.print_exc()
                res = {"model": name, "batch": batch, "errors": [f"{type(e).__name__}: {e}"]}
                log(f"[{name}-b{batch}] FAILED: {type(e).__name__}: {e}")
            res["seconds"] = round(time.perf_counter() - t0, 1)
            doc["results"].append(res)
            write_json(a.out, doc)
    except KeyboardInterrupt:
        log("!!!!! interrupted: the table below has what finished")
        doc["interrupted"] = True

    done = [r for r in doc["results"] if "skipped" not in r]
    print("\n== cppnn vs PyTorch (ms are medians; ratio above 1: cppnn faster; "
          "rel L2 is cppnn cuda vs torch fp32)")
    print(table(done), flush=True)
    devices = sorted({device_of(r) or "none" for r in done})
    print(f"cppnn device(s) with --device auto: {', '.join(devices)}")
    if any(d != "cuda" for d in devices):
        print("!!!!! cppnn did NOT run on cuda for every model: those GPU numbers mean nothing !!!!!")
    for r in doc["results"]:
        for e in r.get("errors", []):
            print(f"error: {r['model']} b{r['batch']}: {e.splitlines()[0][:300] if e else e}")
    doc["seconds"] = round(time.perf_counter() - t_start, 1)
    write_json(a.out, doc)
    print(f"results: {a.out} ({doc['seconds']} s)")
    failed = [r for r in doc["results"] if r.get("errors")]
    return 1 if failed or any(d != "cuda" for d in devices) else 0


if __name__ == "__main__":
    sys.exit(main())
