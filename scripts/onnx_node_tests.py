#!/usr/bin/env python3
"""The ONNX backend node tests as a conformance suite for cppnn's ONNX import.

    python3 scripts/onnx_node_tests.py [--data DIR] [--json OUT] [--docs docs/onnx.md] [-k PATTERN]

The 1,288 node tests (onnx/backend/test/data/node/<test>/model.onnx with
test_data_set_*/{input,output}_*.pb) ship in the onnx 1.17.0 wheel (later wheels dropped
them). They are fetched once with `pip download --no-deps` (nothing installed) and extracted
into DIR (default build/onnx-node-tests). Each test runs on a CPU context and every output is
compared with the expected one (numpy.testing's rule, rtol 1e-3, atol 1e-7, as ONNX's own
backend test runner does; NaN must match NaN).

Each test ends as one of:
  pass         every output of every data set matches;
  wrong        an output has the wrong value, shape or type (never acceptable);
  fail         cppnn maps the model's ops but failed to import or run it;
  unsupported  an ONNX op cppnn does not map, or data WebNN cannot hold (float64, strings,
               sequences, optionals, bfloat16, complex, 4-bit and 8-bit float types): skipped,
               with the reason.
Prints the counts and the reasons; --json writes every result, --docs rewrites docs/onnx.md,
--known-failures rewrites tests/python/onnx_node_known_failures.txt (the failing tests the
test command expects).
"""
import argparse
import collections
import json
import os
import pathlib
import re
import subprocess
import sys
import tempfile
import time
import zipfile

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parents[1]
WHEEL = "onnx==1.17.0"
PREFIX = "onnx/backend/test/data/node/"

# ONNX element types WebNN has no data type for (TensorProto.DataType numbers).
UNREPRESENTABLE = {8: "string", 11: "float64", 14: "complex64", 15: "complex128", 16: "bfloat16",
                   17: "float8e4m3fn", 18: "float8e4m3fnuz", 19: "float8e5m2", 20: "float8e5m2fnuz",
                   21: "uint4", 22: "int4", 23: "float4e2m1"}


def fetch(dest: pathlib.Path) -> None:
    """Extracts the node tests into dest once (dest/<test>/...)."""
    if (dest / ".complete").is_file():
        return
    dest.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        # The data is the same in every wheel of the release: ask for one that exists
        # whatever this interpreter is.
        subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--quiet",
                        "--disable-pip-version-check", "--only-binary=:all:",
                        "--platform", "manylinux_2_17_x86_64", "--python-version", "3.11",
                        "-d", tmp, WHEEL], check=True)
        wheel = next(pathlib.Path(tmp).glob("*.whl"))
        with zipfile.ZipFile(wheel) as z:
            for name in z.namelist():
                if name.startswith(PREFIX) and not name.endswith("/"):
                    out = dest / name[len(PREFIX):]
                    out.parent.mkdir(parents=True, exist_ok=True)
                    out.write_bytes(z.read(name))
    (dest / ".complete").write_text(WHEEL + "\n")


def model_ops(model):
    ops = set()

    def walk(graph):
        for n in graph.node:
            ops.add(n.op_type if n.domain in ("", "ai.onnx") else f"{n.domain}.{n.op_type}")
            for a in n.attribute:
                if a.HasField("g"):
                    walk(a.g)
                for g in a.graphs:
                    walk(g)
    walk(model.graph)
    return ops


def unrepresentable(model):
    """Why WebNN cannot hold the model's inputs or outputs, or None."""
    for v in list(model.graph.input) + list(model.graph.output):
        t = v.type
        kind = t.WhichOneof("value")
        if kind != "tensor_type":
            return f"{kind.replace('_type', '')} input or output '{v.name}'"
        if t.tensor_type.elem_type in UNREPRESENTABLE:
            return f"{UNREPRESENTABLE[t.tensor_type.elem_type]} input or output '{v.name}'"
    return None


def load_pb(path):
    import onnx
    from onnx import numpy_helper
    t = onnx.TensorProto()
    t.ParseFromString(path.read_bytes())
    return t.name, numpy_helper.to_array(t)


def data_sets(test_dir):
    """[(inputs, expected outputs)] of each test_data_set_*, as arrays in file order."""
    out = []
    for data_set in sorted(test_dir.glob("test_data_set_*")):
        order = lambda p: int(p.stem.split("_")[1])  # noqa: E731
        ins = [load_pb(p)[1] for p in sorted(data_set.glob("input_*.pb"), key=order)]
        outs = [load_pb(p)[1] for p in sorted(data_set.glob("output_*.pb"), key=order)]
        out.append((ins, outs))
    return out


def bound_model(model, names, values):
    """A copy of the model with the graph inputs `names` turned into initializers."""
    import onnx
    from onnx import numpy_helper
    m = onnx.ModelProto()
    m.CopyFrom(model)
    keep = [i for i in m.graph.input if i.name not in names]
    del m.graph.input[:]
    m.graph.input.extend(keep)
    for name in names:
        m.graph.initializer.append(numpy_helper.from_array(values[name], name))
    return m


def run_test(test_dir: pathlib.Path, ctx, webnn):
    import onnx
    model = onnx.load(str(test_dir / "model.onnx"))
    ops = sorted(model_ops(model))
    result = {"test": test_dir.name, "ops": ops}
    why = unrepresentable(model)
    if why:
        return {**result, "status": "unsupported", "why": why}
    initializers = {i.name for i in model.graph.initializer}
    inputs = [i.name for i in model.graph.input if i.name not in initializers]
    outputs = [o.name for o in model.graph.output]
    sets = data_sets(test_dir)
    for ins, _ in sets:
        for array in ins:
            if array.size == 0:
                return {**result, "status": "unsupported",
                        "why": "an empty tensor (WebNN's dimensions are > 0)"}

    def classify_load_error(e):
        msg = f"{type(e).__name__}: {e}"
        # cppnn says NotSupportedError for what it deliberately does not map (an op, an
        # attribute value WebNN cannot express); older webnn builds had only RuntimeError,
        # hence the messages below too.
        if isinstance(e, getattr(webnn, "NotSupportedError", ())):
            return {**result, "status": "unsupported", "why": msg[:300]}
        if re.search(r"is not supported|NotSupported|which WebNN does not have|only \d-D|"
                     r"does not match WebNN|WebNN has no|no version of the default ONNX opset|"
                     r": only '|WebNN's (scatters|lstm)",
                     msg):
            return {**result, "status": "unsupported", "why": msg[:300]}
        if "must be > 0" in msg or "not a valid dimension" in msg:
            return {**result, "status": "unsupported",
                    "why": "an empty tensor (WebNN's dimensions are > 0): " + msg[:200]}
        return {**result, "status": "fail", "why": msg[:300]}

    # Inputs the import needs as values (axes, shapes, pads, scales, ratios... that a
    # static-shape runtime fixes when it loads a model) are bound from each data set, as a
    # user of such a runtime does, as the import names them (or, when it names a value
    # computed from them, all integer and bool inputs); the model is then loaded once per
    # data set.
    bound = []
    graph = None
    values0 = dict(zip(inputs, sets[0][0])) if sets else {}
    for _ in range(len(inputs) + 1):
        try:
            graph = webnn.load_onnx(str(test_dir / "model.onnx")) if not bound else None
            if bound:
                with tempfile.TemporaryDirectory() as tmp:
                    path = pathlib.Path(tmp) / "model.onnx"
                    onnx.save(bound_model(model, bound, values0), str(path))
                    webnn.load_onnx(str(path))
            break
        except Exception as e:  # noqa: BLE001  (every import failure is classified)
            if "computed at run time" not in str(e):
                return classify_load_error(e)
            named = [n for n in inputs if n not in bound and
                     re.search(r"(?<![\w.])" + re.escape(n) + r"(?![\w.])", str(e))]
            # A value computed from inputs (a window size, a crop size, a trip count): bind
            # every integer and bool input, once.
            if not named:
                named = [n for n in inputs if n not in bound and n in values0 and
                         values0[n].dtype.kind in "iub"]
            if not named:
                return classify_load_error(e)
            bound += named
    for ins, expected in sets:
        values = dict(zip(inputs, ins))
        if bound:
            try:
                with tempfile.TemporaryDirectory() as tmp:
                    path = pathlib.Path(tmp) / "model.onnx"
                    onnx.save(bound_model(model, bound, values), str(path))
                    graph = webnn.load_onnx(str(path))
            except Exception as e:  # noqa: BLE001
                return classify_load_error(e)
            result["bound"] = bound
        have_inputs = graph.inputs
        feeds = {n: (a.astype(np.uint8) if a.dtype == np.bool_ else a)
                 for n, a in values.items() if n in have_inputs}
        try:
            got = ctx.compute(graph, feeds)
        except Exception as e:  # noqa: BLE001
            return {**result, "status": "fail", "why": f"compute: {type(e).__name__}: {e}"[:300]}
        for name, want in zip(outputs, expected):
            have = got.get(name)
            if have is None:
                return {**result, "status": "wrong", "why": f"output '{name}' missing"}
            if want.dtype == np.bool_:
                want = want.astype(np.uint8)
            if have.shape != want.shape:
                return {**result, "status": "wrong",
                        "why": f"output '{name}': shape {list(have.shape)}, want {list(want.shape)}"}
            if have.dtype != want.dtype:
                return {**result, "status": "wrong",
                        "why": f"output '{name}': type {have.dtype}, want {want.dtype}"}
            try:
                np.testing.assert_allclose(have, want, rtol=1e-3, atol=1e-7)
            except AssertionError as e:
                lines = [ln for ln in str(e).splitlines() if ln.strip()][:4]
                return {**result, "status": "wrong", "why": f"output '{name}': " + " | ".join(lines)}
    return {**result, "status": "pass", "sets": len(sets)}


def run_all(data: pathlib.Path, pattern=None):
    import webnn
    ctx = webnn.ML().create_context(accelerated=False)
    results = []
    for test_dir in sorted(p for p in data.iterdir() if (p / "model.onnx").is_file()):
        if pattern and not re.search(pattern, test_dir.name):
            continue
        try:
            results.append(run_test(test_dir, ctx, webnn))
        except Exception as e:  # noqa: BLE001  (the runner itself must not stop)
            results.append({"test": test_dir.name, "ops": [], "status": "fail",
                            "why": f"runner: {type(e).__name__}: {e}"[:300]})
    return results


def reason(r, short=False):
    """The why of a result, without the model path; short: one reason per kind of problem."""
    why = re.sub(r"^\w+Error: ", "", re.sub(r"ONNX file '[^']*': ", "", r.get("why", "")))
    why = why.replace("|", "\\|").replace("\n", " ")
    if short:
        m = re.search(r"\((\w+)\): op type '[^']*' is not supported", why)
        if m:
            return f"ONNX op {m.group(1)} is not mapped"
        m = re.search(r"\((\w+)\): (.*)", why)
        if m:
            return f"{m.group(1)}: " + re.sub(r"'[^']*'", "'...'", m.group(2))[:120]
        return re.sub(r"'[^']*'", "'...'", why)[:120]
    return why[:240]


def write_docs(results, path: pathlib.Path):
    by_op = collections.defaultdict(collections.Counter)
    for r in results:
        for op in r["ops"] or ["?"]:
            by_op[op][r["status"]] += 1
    counts = collections.Counter(r["status"] for r in results)
    lines = [
        "# ONNX coverage",
        "",
        "Generated by `python3 scripts/onnx_node_tests.py --docs docs/onnx.md` from the ONNX",
        f"backend node tests of {WHEEL} ({len(results)} tests), each run on a CPU context against its",
        "expected outputs (rtol 1e-3, atol 1e-7). `tests/python/test_onnx_node_tests.py` runs them in",
        "the test command: no test may give a wrong value, and the tests that fail must be the ones",
        "listed at the end (a fixed test must leave the list).",
        "",
        f"**{counts['pass']} pass, {counts['fail']} fail, {counts['wrong']} wrong, "
        f"{counts['unsupported']} unsupported** (an ONNX op cppnn does not map, or data WebNN",
        "cannot hold: float64, strings, sequences, optionals, bfloat16, complex and the 4- and",
        "8-bit float types; ONNX `bool` maps to WebNN's uint8).",
        "",
        "What the importer accepts beyond single ops (symbolic dimensions, inputs fixed at load",
        "time, float64, external data, If / Loop / Scan, Einsum): docs/onnx-import.md.",
        "",
        "## By ONNX op (tests that use it: pass / fail / wrong / unsupported)",
        "",
        "| ONNX op | pass | fail | wrong | unsupported |",
        "| --- | --- | --- | --- | --- |",
    ]
    for op in sorted(by_op):
        c = by_op[op]
        lines.append(f"| {op} | {c['pass']} | {c['fail']} | {c['wrong']} | {c['unsupported']} |")
    lines += ["", "## Failing tests (ops cppnn maps), and why", ""]
    for r in results:
        if r["status"] in ("fail", "wrong"):
            lines.append(f"- `{r['test']}` ({r['status']}): {reason(r)}")
    groups = collections.defaultdict(list)
    for r in results:
        if r["status"] == "unsupported":
            groups[reason(r, short=True)].append(r["test"])
    lines += ["", "## Unsupported tests, by reason", ""]
    for why, tests in sorted(groups.items(), key=lambda kv: (-len(kv[1]), kv[0])):
        lines.append(f"- {why} ({len(tests)}): " + ", ".join(f"`{t}`" for t in sorted(tests)))
    path.write_text("\n".join(lines) + "\n")


def write_known_failures(results, path: pathlib.Path):
    lines = ["# ONNX backend node tests (onnx 1.17.0) that cppnn maps but does not pass yet, with why.",
             "# tests/python/test_onnx_node_tests.py fails when this list and the run disagree: a test",
             "# that now passes must leave the list, and a test that newly fails is a regression.",
             "# Regenerate with: python3 scripts/onnx_node_tests.py --known-failures "
             "tests/python/onnx_node_known_failures.txt",
             "# The tests that pass may not become fewer (a mapped op that stops importing would",
             "# turn its tests into 'unsupported', not failures):",
             f"# passing: {sum(r['status'] == 'pass' for r in results)}"]
    for r in sorted(results, key=lambda r: r["test"]):
        if r["status"] == "fail":
            why = re.sub(r"ONNX file '[^']*': ", "", r.get("why", "")).replace("\n", " ")[:160]
            lines.append(f"{r['test']}  # {why}")
    path.write_text("\n".join(lines) + "\n")


def read_passing_floor(path: pathlib.Path):
    """The number of passing tests the known-failures file was written with."""
    for line in path.read_text().splitlines():
        m = re.match(r"# passing: (\d+)", line)
        if m:
            return int(m.group(1))
    return 0


def read_known_failures(path: pathlib.Path):
    names = set()
    for line in path.read_text().splitlines():
        name = line.split("#", 1)[0].strip()
        if name:
            names.add(name)
    return names


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=str(ROOT / "build" / "onnx-node-tests"))
    parser.add_argument("--json", help="write every result here")
    parser.add_argument("--docs", help="rewrite this markdown file (docs/onnx.md)")
    parser.add_argument("--known-failures", help="rewrite this list of failing tests")
    parser.add_argument("-k", dest="pattern", help="only tests whose name matches this regex")
    args = parser.parse_args()
    data = pathlib.Path(args.data)
    fetch(data)
    start = time.perf_counter()
    results = run_all(data, args.pattern)
    counts = collections.Counter(r["status"] for r in results)
    for status in ("wrong", "fail"):
        for r in results:
            if r["status"] == status:
                print(f"{status:5s} {r['test']}: {r.get('why', '')}")
    print(f"onnx node tests: {counts['pass']} passed, {counts['fail']} failed, {counts['wrong']} wrong, "
          f"{counts['unsupported']} unsupported, of {len(results)} ({time.perf_counter() - start:.0f} s)")
    if args.json:
        pathlib.Path(args.json).write_text(json.dumps(results, indent=1))
    if args.docs:
        write_docs(results, pathlib.Path(args.docs))
    if args.known_failures:
        write_known_failures(results, pathlib.Path(args.known_failures))
    return 1 if counts["wrong"] else 0


if __name__ == "__main__":
    sys.exit(main())
