#!/usr/bin/env python3
"""ONNX backend node tests through cppnn's importer.

Takes onnx/backend/test/data/node/* from the onnx 1.17.0 wheel (downloaded once with
`pip download --no-deps onnx==1.17.0` into BUILD/onnx_conformance/, extracted beside it), imports
each model with webnn.load_onnx, runs it on the CPU with test_data_set_0's inputs and compares
with its outputs. Prints passed / failed / skipped (unsupported) and, with --list, why.

A test is skipped, not failed, when cppnn refuses it in a documented way: the importer or the
builder says NotSupportedError (RuntimeError in Python) or TypeError (a type WebNN's op does not
take), its inputs/outputs are no tensors (sequences, optionals), or it has an empty (size 0)
input, which WebNN cannot express. It fails when the import says the model is malformed
(ValueError), when computing raises, or when values differ.

cppnn fixes shapes at load time, so an op whose shape-like input (Reshape's shape, Reduce's
axes, Resize's sizes...) is a graph input is refused. Node tests feed those as inputs; such a
test is run again with its int64 inputs made initializers of the test's values ("passed with
constants"), as an exported model with fixed shapes has them.

  PYTHONPATH=build/python python3 scripts/onnx_conformance.py --build build [--list] [-k expr]
"""
import argparse
import glob
import pathlib
import re
import subprocess
import sys
import time
import zipfile

import numpy as np

ONNX_VERSION = "1.17.0"
# ONNX's own backend tests compare with rtol 1e-3, atol 1e-7; float32 kernels here that
# reassociate (matmul, reductions) need a small absolute tolerance near zero.
RTOL, ATOL = 1e-3, 1e-5


def prepare(build: pathlib.Path) -> pathlib.Path:
    """The extracted node-test folder (downloads and extracts once)."""
    root = build / "onnx_conformance"
    node = root / "node"
    if node.is_dir() and any(node.iterdir()):
        return node
    root.mkdir(parents=True, exist_ok=True)
    wheels = glob.glob(str(root / f"onnx-{ONNX_VERSION}-*.whl"))
    if not wheels:
        subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--quiet",
                        f"onnx=={ONNX_VERSION}", "-d", str(root)], check=True, timeout=600)
        wheels = glob.glob(str(root / f"onnx-{ONNX_VERSION}-*.whl"))
    prefix = "onnx/backend/test/data/node/"
    with zipfile.ZipFile(wheels[0]) as z:
        for name in z.namelist():
            if name.startswith(prefix) and not name.endswith("/"):
                target = node / name[len(prefix):]
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(z.read(name))
    return node


def cases(node: pathlib.Path):
    return sorted(p for p in node.iterdir() if (p / "model.onnx").exists())


def read_tensor(path):
    import onnx
    from onnx import numpy_helper

    t = onnx.TensorProto()
    t.ParseFromString(path.read_bytes())
    if t.data_type == 0 or t.data_type == onnx.TensorProto.STRING:
        return None  # a SequenceProto or OptionalProto parsed as a tensor, or strings
    return numpy_helper.to_array(t)


def run_case(case: pathlib.Path, as_constants=False, as_float32=False, named=frozenset()):
    """('passed' | 'failed' | 'skipped', reason)."""
    import onnx
    import webnn
    from onnx import numpy_helper

    model = onnx.load(str(case / "model.onnx"), load_external_data=False)
    graph_inputs = [i.name for i in model.graph.input
                    if i.name not in {t.name for t in model.graph.initializer}]
    for v in list(model.graph.input) + list(model.graph.output):
        if not v.type.HasField("tensor_type"):
            return "skipped", f"'{v.name}' is not a tensor (sequence, optional or map)"
    data = case / "test_data_set_0"
    inputs, outputs = {}, []
    for i, name in enumerate(graph_inputs):
        p = data / f"input_{i}.pb"
        if not p.exists():
            return "skipped", "no test data for input " + name
        a = read_tensor(p)
        if a is None:
            return "skipped", f"input '{name}' is not a numeric tensor"
        if a.size == 0:
            return "skipped", f"input '{name}' is empty (WebNN has no size-0 tensors)"
        inputs[name] = a
    path = case / "model.onnx"
    if as_constants:
        constants = {n: a for n, a in inputs.items()
                     if a.dtype == np.int64 or a.ndim == 0 or n in named}
        if not constants:
            return "skipped", "no input to make constant"
        kept = [i for i in model.graph.input if i.name not in constants]
        del model.graph.input[:]
        model.graph.input.extend(kept)
        model.graph.initializer.extend(numpy_helper.from_array(a, n) for n, a in constants.items())
        for n in constants:
            del inputs[n]
        path = case / "model_constants.onnx"
        onnx.save_model(model, str(path))
    for i, v in enumerate(model.graph.output):
        a = read_tensor(data / f"output_{i}.pb")
        if a is None:
            return "skipped", f"output '{v.name}' is not a numeric tensor"
        outputs.append((v.name, a))
    try:
        graph = webnn.load_onnx(path, float64_as_float32=as_float32)
    except (RuntimeError, TypeError) as e:
        return "skipped", f"{type(e).__name__}: {e}"
    except ValueError as e:
        return "failed", f"import: {e}"
    feeds = {}
    for name, a in inputs.items():
        if name not in graph.inputs:
            continue  # an input no op reads is not part of a cppnn graph
        feeds[name] = a.astype(graph.inputs[name][1]) if a.dtype in (np.bool_, np.float64) else a
    try:
        got = webnn.ML().create_context(accelerated=False).compute(graph, feeds)
    except (RuntimeError, TypeError) as e:
        return "skipped", f"{type(e).__name__} at compute: {e}"
    except Exception as e:  # noqa: BLE001 - every other failure is a failed test
        return "failed", f"compute: {type(e).__name__}: {e}"
    for name, want in outputs:
        if name not in got:
            return "failed", f"output '{name}' missing"
        g = got[name]
        if want.dtype == np.bool_:
            want = want.astype(np.uint8)
        if g.shape != want.shape:
            return "failed", f"output '{name}': shape {g.shape}, want {want.shape}"
        if want.dtype.kind in "fc":
            gd, wd = g.astype(np.float64), want.astype(np.float64)
            rtol, atol = (RTOL, ATOL) if want.dtype != np.float16 else (1e-2, 1e-3)
            ok = np.isclose(gd, wd, rtol=rtol, atol=atol, equal_nan=True)
            if not ok.all():
                bad = np.argwhere(~ok)[0]
                return "failed", (f"output '{name}': {int((~ok).sum())} of {ok.size} differ, "
                                  f"e.g. at {tuple(bad)} got {gd[tuple(bad)]} want {wd[tuple(bad)]}")
        elif not np.array_equal(g.astype(np.int64), want.astype(np.int64)):
            return "failed", f"output '{name}': integer values differ"
    return "passed", ""


def run_guarded(case, as_constants=False, as_float32=False, named=frozenset()):
    try:
        return run_case(case, as_constants, as_float32, named)
    except Exception as e:  # noqa: BLE001 - the runner itself must not stop
        return "failed", f"runner: {type(e).__name__}: {e}"


def run_all(build: pathlib.Path, only=""):
    """{status: [(test name, reason)]} over every node test whose name contains `only`."""
    node = prepare(build)
    results = {"passed": [], "passed with constants": [], "passed in float32": [], "failed": [],
               "skipped": []}
    for case in cases(node):
        if only not in case.name:
            continue
        status, why = run_guarded(case)
        # Retries: shape-like inputs as constants (int64 and scalar inputs, and any the
        # refusal names), float64 computed in float32 (compared with the float64 outputs at
        # float32's tolerance), or both, as the refusals ask.
        constants, f32, named = False, False, frozenset()
        while status == "skipped":
            runtime = "is computed at run time" in why
            need = (constants or runtime, f32 or "WebNN has no float64" in why,
                    named | set(re.findall(r"\(input '([^']+)'\) is computed at run time", why)))
            if need == (constants, f32, named):
                break
            constants, f32, named = need
            status, why2 = run_guarded(case, constants, f32, named)
            if status == "passed":
                status, why = ("passed in float32" if f32 else "passed with constants"), ""
            elif status == "failed":
                why = f"retried (constants={constants}, float32={f32}): " + why2
            else:
                why = why2
        results[status].append((case.name, why))
    return results


def summary(results):
    return ", ".join(f"{status} {len(v)}" for status, v in results.items())


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", default="build", type=pathlib.Path)
    ap.add_argument("--list", action="store_true", help="print each failed and skipped test")
    ap.add_argument("-k", default="", help="only tests whose name contains this")
    args = ap.parse_args()
    t0 = time.time()
    results = run_all(args.build, args.k)
    if args.list:
        for status in ("failed", "skipped"):
            for name, why in results[status]:
                print(f"{status:8} {name}: {why.splitlines()[0][:300]}")
    print(f"{summary(results)} (skipped: unsupported), in {time.time() - t0:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
