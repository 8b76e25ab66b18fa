"""Runs an ONNX model with webnn and prints its top-5 classes.

    python examples/onnx_model.py [MODEL.onnx] [--dim N=1] [--iterations 10]

MODEL defaults to MobileNetV2 in ../shared/models beside the checkout. Every input gets a
fixed random tensor of its shape and data type; the first output's last axis is read as
class scores. Needs the webnn package (pip install ., or PYTHONPATH=build/python after
make build).
"""
import argparse
import pathlib
import time

import numpy as np
import webnn

DEFAULT_MODEL = pathlib.Path(__file__).resolve().parents[2] / "shared" / "models" / "mobilenet_v2.onnx"


def make_input(rng, shape, dtype):
    if np.dtype(dtype).kind == "f":
        return rng.standard_normal(shape).astype(dtype)
    return rng.integers(0, 100, shape).astype(dtype)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", nargs="?", default=str(DEFAULT_MODEL))
    parser.add_argument("--dim", action="append", default=[], metavar="NAME=VALUE",
                        help="value of a symbolic dimension, e.g. N=1 (repeatable)")
    parser.add_argument("--iterations", type=int, default=10)
    parser.add_argument("--cpu", action="store_true", help="force the CPU backend")
    args = parser.parse_args()
    dims = {k: int(v) for k, v in (d.split("=", 1) for d in args.dim)}
    dims.setdefault("N", 1)

    start = time.perf_counter()
    graph = webnn.load_onnx(args.model, dim_values=dims)
    load_ms = (time.perf_counter() - start) * 1e3
    context = webnn.ML().create_context(accelerated=not args.cpu)
    print(f"{pathlib.Path(args.model).name}: {graph.node_count} nodes, loaded in {load_ms:.0f} ms; "
          f"backend: {context.backend}")

    rng = np.random.default_rng(0)
    inputs = {name: make_input(rng, shape, dtype) for name, (shape, dtype) in graph.inputs.items()}
    for name, (shape, dtype) in graph.inputs.items():
        print(f"input {name}: {dtype} {shape}")

    out = context.compute(graph, inputs)  # the first run compiles
    times = []
    for _ in range(args.iterations):
        start = time.perf_counter()
        context.compute(graph, inputs)
        times.append((time.perf_counter() - start) * 1e3)

    name = sorted(graph.outputs)[0]
    scores = out[name].reshape(-1, out[name].shape[-1])[0].astype(np.float64)
    top = np.argsort(-scores)[:5]
    print(f"output {name}: {out[name].dtype} {list(out[name].shape)}")
    print("top-5: " + ", ".join(f"{c} ({scores[c]:.4g})" for c in top))
    if times:
        print(f"latency: median {np.median(times):.2f} ms, min {min(times):.2f} ms over "
              f"{len(times)} runs")


if __name__ == "__main__":
    main()
