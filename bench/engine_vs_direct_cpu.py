"""CPU latency of a model compiled directly from its graph against the same model run from
its engine (Engine.build, float32), in one process on one context, in interleaved rounds.

Engines are layout-neutral: each backend lays the engine's graph out when it compiles it,
so the two plans are the same plan and the ratio should be 1.0 within noise. (Before, the
engine held the CPU's NHWC choice: equal on the CPU, but 1.75x slower on an H100 for
float32 ResNet-50, whose cuDNN kernels want NCHW.) Results: bench/results/engine_vs_direct_cpu.txt.

    CPPNN_BUILD=build CPPNN_SHARED=../shared CPPNN_MODELS=build/models \
        PYTHONPATH=build/python python3 bench/engine_vs_direct_cpu.py
"""
import datetime
import os
import pathlib
import platform
import statistics
import subprocess
import sys
import time

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parents[1]
BUILD = pathlib.Path(os.environ.get("CPPNN_BUILD", ROOT / "build"))
SHARED = pathlib.Path(os.environ.get("CPPNN_SHARED", ROOT.parent / "shared"))
MODELS = pathlib.Path(os.environ.get("CPPNN_MODELS", BUILD / "models"))
ROUNDS = int(os.environ.get("CPPNN_BENCH_ROUNDS", "5"))
sys.path.insert(0, str(BUILD / "python"))
import webnn  # noqa: E402

CASES = [  # name, file, iterations per round
    ("mobilenet_v2 (shared)", SHARED / "models" / "mobilenet_v2.onnx", 30),
    ("resnet50 (generator)", MODELS / "resnet50.onnx", 6),
]


def median_ms(context, graph, feeds, iters):
    times = []
    for _ in range(iters):
        t = time.perf_counter()
        context.compute(graph, feeds)
        times.append((time.perf_counter() - t) * 1e3)
    return statistics.median(times)


def cpu_name():
    for line in pathlib.Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


def main():
    context = webnn.ML().create_context(accelerated=False)
    rows = []
    for name, path, iters in CASES:
        if not path.exists():
            print(f"skipped {name}: {path} is missing (make models)")
            continue
        graph = webnn.load_onnx(str(path), dim_values={"N": 1})
        engine = webnn.Engine.build(graph)
        (inp,) = graph.inputs
        shape = graph.inputs[inp][0]
        x = np.sin(np.arange(int(np.prod(shape))) * 0.001).astype(np.float32).reshape(shape)
        feeds = {inp: x}
        # Same plan? The CPU plan's report (precision, layout, steps) says so.
        same_plan = context.report(graph) == context.report(engine.graph)
        layout = context.report(engine.graph).splitlines()[0].split(", layout ")[1]
        for g in (graph, engine.graph):  # warm up both plans
            median_ms(context, g, feeds, 2)
        # Interleaved rounds, so that load on the shared machine hits both alike; each
        # side's best median over the rounds (noise only adds time).
        direct, from_engine = float("inf"), float("inf")
        for _ in range(ROUNDS):
            direct = min(direct, median_ms(context, graph, feeds, iters))
            from_engine = min(from_engine, median_ms(context, engine.graph, feeds, iters))
        rows.append((name, direct, from_engine, from_engine / direct, same_plan, layout))
        print(f"{name:24s} direct {direct:8.2f} ms  engine {from_engine:8.2f} ms  "
              f"ratio {from_engine / direct:.3f}  same plan: {same_plan}", flush=True)

    commit = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
                            capture_output=True, text=True).stdout.strip()
    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        "# CPU: float32, batch 1, model compiled directly vs from its engine (Engine.build)",
        f"# {stamp}, commit {commit}, {cpu_name()}, {os.cpu_count()} cores (threads: all),",
        "# a machine shared with other jobs: one process, one context, both plans warm;",
        f"# best of {ROUNDS} interleaved rounds of each side's median latency.",
        "# 'same plan': the CPU plan reports (precision, layout, every step) are identical.",
        "",
        "| model | direct (ms) | from engine (ms) | engine / direct | same plan | CPU plan layout |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for name, d, e, r, same, layout in rows:
        lines.append(f"| {name} | {d:.2f} | {e:.2f} | {r:.3f} | {'yes' if same else 'NO'} | {layout} |")
    out = ROOT / "bench" / "results" / "engine_vs_direct_cpu.txt"
    out.write_text("\n".join(lines) + "\n")
    print("\n".join(lines[6:]))
    print(f"written to {out}")


if __name__ == "__main__":
    main()
