"""GPU results: cppnn against PyTorch on the GPU machine, from tests/gpu/models_vs_torch.py.

Reads the JSON that script writes (gpu_models.json, which tests/gpu/run_torch.sh copies to
$OUT), writes a stable subset to bench/results/gpu.json and prints a markdown table for the
README. Ratios are PyTorch / cppnn: above 1.0, cppnn is faster (the CPU benchmark's ratio is
the other way up: cppnn / ORT). A row whose cppnn did not run on the GPU has no GPU numbers.

    python3 bench/gpu_report.py PATH/gpu_models.json [--results bench/results/gpu.json] [--no-write]
"""
import argparse
import json
import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parents[1]
DEFAULT_RESULTS = ROOT / "bench" / "results" / "gpu.json"


def _num(v, digits):
    return None if v is None else round(float(v), digits)


def _sig(v, digits=2):
    """A small number kept to `digits` significant figures (errors like 3.4e-07)."""
    return None if v is None else float(f"{float(v):.{digits - 1}e}")


def _ratio(num, den):
    if num is None or den is None or den <= 0:
        return None
    return round(num / den, 3)


def _run(case, key):
    r = case.get("cppnn", {}).get(key)
    return r if isinstance(r, dict) else {}


def row(case):
    """The stable subset of one model/batch result."""
    t = case.get("torch", {})
    cold, warm, cpu, fp16 = (_run(case, k) for k in ("cuda_cold", "cuda_warm", "cpu", "fp16"))
    device = cold.get("device") or warm.get("device")
    on_gpu = device == "cuda"
    gpu = warm if warm.get("median_ms") is not None else cold
    cppnn_ms = _num(gpu.get("median_ms"), 3) if on_gpu else None
    fp16_ms = _num(fp16.get("median_ms"), 3) if fp16.get("device") == "cuda" else None
    cmp = case.get("compare", {}).get("cuda_cold") or case.get("compare", {}).get("cuda_warm") or {}
    torch_fp32 = _num(t.get("fp32_ms"), 3)
    torch_fp16 = _num(t.get("fp16_ms"), 3)
    fp16_state = case.get("cppnn", {}).get("fp16")
    return {
        "model": case["model"],
        "batch": case["batch"],
        "cppnn_device": device,
        "torch_fp32_ms": torch_fp32,
        "torch_fp16_ms": torch_fp16,
        "torch_compile_ms": _num(t.get("compile_ms"), 3),
        "cppnn_cuda_ms": cppnn_ms,
        "cppnn_fp16_ms": ("not available" if fp16_state == "not available" else fp16_ms),
        "cppnn_cpu_ms": _num(cpu.get("median_ms"), 3),
        "jit_cold_ms": _num(cold.get("compile_ms"), 1) if on_gpu else None,
        "jit_warm_ms": _num(warm.get("compile_ms"), 1) if on_gpu else None,
        "first_compute_warm_ms": _num(warm.get("first_ms"), 1) if on_gpu else None,
        "rel_l2_vs_torch": _sig(cmp.get("rel_l2")) if on_gpu else None,
        "max_abs_vs_torch": _sig(cmp.get("max_abs")) if on_gpu else None,
        "torch_fp32_over_cppnn": _ratio(torch_fp32, cppnn_ms),
        "torch_fp16_over_cppnn_fp16": _ratio(torch_fp16, fp16_ms),
        "export": (case.get("export") or {}).get("method"),
        "errors": len(case.get("errors", [])),
    }


def result(doc):
    """bench/results/gpu.json: the machine, the method and one row a model and batch."""
    m = doc.get("machine", {})
    return {
        "date": doc.get("date", "")[:10],
        "gpu": m.get("gpu"),
        "driver": m.get("driver"),
        "torch": m.get("torch"),
        "torch_cuda": m.get("torch_cuda"),
        "cudnn": m.get("cudnn"),
        "precision": "fp32 (PyTorch with TF32 off; cppnn fp32 is exact fp32); fp16 columns: model.half()",
        "method": "medians: PyTorch eager over 50 runs after 10 with synchronize around each, "
                  "GPU-resident tensors; cppnn `run --device auto --iterations 50 --warmup 10`, whole "
                  "compute() calls host to host; JIT cold = empty runtime cache, warm = the same cache",
        "ratio": "PyTorch / cppnn: above 1, cppnn is faster",
        "rows": [row(c) for c in doc.get("results", []) if "skipped" not in c and "model" in c],
    }


def _ms(v):
    return "-" if v is None else f"{v:.2f}"


def _jit(v):
    """Compile times: whole milliseconds, one decimal below 10 ms (a warm start is short)."""
    if v is None:
        return "-"
    return f"{v:.1f}" if v < 10 else f"{v:.0f}"


def markdown(res):
    head = ["model", "batch", "PyTorch fp32 (ms)", "cppnn fp32 (ms)", "PyTorch / cppnn",
            "PyTorch fp16 (ms)", "cppnn fp16 (ms)", "torch.compile (ms)", "cppnn CPU (ms)",
            "JIT cold / warm (+ first compute) (ms)", "rel. L2 vs PyTorch"]
    lines = ["| " + " | ".join(head) + " |", "|" + "|".join(" --- " for _ in head) + "|"]
    for r in res["rows"]:
        dev = r["cppnn_device"]
        cppnn = _ms(r["cppnn_cuda_ms"]) if dev == "cuda" else f"(ran on {dev or 'nothing'})"
        ratio = "-" if r["torch_fp32_over_cppnn"] is None else f"{r['torch_fp32_over_cppnn']:.2f}"
        f16 = r["cppnn_fp16_ms"]
        f16 = "n/a" if f16 == "not available" else _ms(f16)
        jit = "-" if r["jit_cold_ms"] is None else f"{_jit(r['jit_cold_ms'])} / {_jit(r['jit_warm_ms'])}"
        if r.get("first_compute_warm_ms") is not None:
            jit += f" (+ {_jit(r['first_compute_warm_ms'])})"
        err = "-" if r["rel_l2_vs_torch"] is None else f"{r['rel_l2_vs_torch']:.1e}"
        lines.append("| " + " | ".join([r["model"], str(r["batch"]), _ms(r["torch_fp32_ms"]), cppnn,
                                        ratio, _ms(r["torch_fp16_ms"]), f16,
                                        _ms(r["torch_compile_ms"]), _ms(r["cppnn_cpu_ms"]), jit,
                                        err]) + " |")
    return "\n".join(lines)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("json", help="gpu_models.json from tests/gpu/models_vs_torch.py")
    p.add_argument("--results", default=str(DEFAULT_RESULTS), help="where the subset goes")
    p.add_argument("--no-write", action="store_true", help="only print the table")
    a = p.parse_args(argv)
    doc = json.loads(pathlib.Path(a.json).read_text())
    res = result(doc)
    if not a.no_write:
        out = pathlib.Path(a.results)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(res, indent=2) + "\n")
    print(f"{res['gpu']}, driver {res['driver']}, PyTorch {res['torch']} ({res['date']}); "
          "ratio = PyTorch / cppnn, above 1: cppnn is faster\n")
    print(markdown(res))
    bad = [r for r in res["rows"] if r["cppnn_device"] != "cuda"]
    for r in bad:
        print(f"\nWARNING: {r['model']} batch {r['batch']}: cppnn ran on {r['cppnn_device']}, "
              "not cuda: no GPU numbers for it", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
