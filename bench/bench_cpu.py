"""CPU benchmark: cppnn against ONNX Runtime in the same run, same machine, same threads.

For MobileNetV2 and ResNet-50, fp32, batch 1 and 8: median latency of each runtime and the
ratio cppnn / ORT (below 1.0: cppnn is faster). Results go to bench/results/."""
import datetime
import json
import os
import pathlib
import platform
import re
import statistics
import subprocess
import sys
import time

import numpy as np
import onnxruntime as ort

ROOT = pathlib.Path(__file__).resolve().parents[1]
BUILD = pathlib.Path(os.environ.get("CPPNN_BUILD", ROOT / "build"))
SHARED = pathlib.Path(os.environ.get("CPPNN_SHARED", ROOT.parent / "shared"))
MODELS = pathlib.Path(os.environ.get("CPPNN_MODELS", BUILD / "models"))
THREADS = os.cpu_count()
ROUNDS = int(os.environ.get("CPPNN_BENCH_ROUNDS", "4"))

CASES = [
    ("mobilenet_v2", SHARED / "models" / "mobilenet_v2.onnx", 1, 100),
    ("mobilenet_v2", MODELS / "mobilenet_v2.onnx", 8, 30),
    ("resnet50", MODELS / "resnet50.onnx", 1, 30),
    ("resnet50", MODELS / "resnet50.onnx", 8, 8),
]


def ort_latency(model, batch, iters):
    so = ort.SessionOptions()
    so.intra_op_num_threads = THREADS
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    sess = ort.InferenceSession(str(model), so, providers=["CPUExecutionProvider"])
    inp = sess.get_inputs()[0]
    x = np.sin(np.arange(batch * 3 * 224 * 224) * 0.001).astype(np.float32).reshape(batch, 3, 224, 224)
    for _ in range(5):
        sess.run(None, {inp.name: x})
    times = []
    for _ in range(iters):
        t = time.perf_counter()
        sess.run(None, {inp.name: x})
        times.append((time.perf_counter() - t) * 1e3)
    return statistics.median(times)


def cppnn_latency(model, batch, iters):
    # --dim only for a model whose batch N is symbolic (the tool refuses a name the model
    # lacks); the shared MobileNetV2's batch is fixed at 1.
    symbolic = {d for i in ort.InferenceSession(str(model)).get_inputs() for d in i.shape if isinstance(d, str)}
    dims = ["--dim", f"N={batch}"] if "N" in symbolic else []
    out = subprocess.run([str(BUILD / "cppnn"), "run", str(model), "--device", "cpu", *dims,
                          "--iterations", str(iters), "--warmup", "5"],
                         capture_output=True, text=True, check=True).stdout
    return float(re.search(r"median ([0-9.]+) ms", out).group(1))


def main():
    rows = []
    for name, model, batch, iters in CASES:
        if not model.exists():
            sys.exit(f"{model} is missing: run `make models`")
        # Interleave runtimes so drift in machine load hits both alike, and keep each
        # runtime's best median over the rounds: noise on a shared machine only adds time.
        o, c = float("inf"), float("inf")
        for _ in range(ROUNDS):
            o = min(o, ort_latency(model, batch, iters))
            c = min(c, cppnn_latency(model, batch, iters))
        rows.append({"model": name, "batch": batch, "ort_ms": round(o, 3), "cppnn_ms": round(c, 3),
                     "ratio": round(c / o, 3)})
        print(f"{name:14s} batch {batch}: ORT {o:8.2f} ms  cppnn {c:8.2f} ms  ratio {c / o:.3f}",
              flush=True)
    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d")
    result = {"date": stamp, "machine": platform.processor() or platform.machine(),
              "cores": THREADS, "onnxruntime": ort.__version__, "precision": "fp32",
              "method": f"best of {ROUNDS} interleaved rounds of each runtime's median latency",
              "rows": rows}
    out = ROOT / "bench" / "results" / "cpu.json"
    out.write_text(json.dumps(result, indent=2) + "\n")
    print("\n| model | batch | ONNX Runtime (ms) | cppnn (ms) | cppnn / ORT |")
    print("| --- | --- | --- | --- | --- |")
    for r in rows:
        print(f"| {r['model']} | {r['batch']} | {r['ort_ms']} | {r['cppnn_ms']} | {r['ratio']} |")
    print(f"\nwritten to {out}")


if __name__ == "__main__":
    main()
