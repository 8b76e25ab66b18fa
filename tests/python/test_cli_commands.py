"""The cppnn tool's subcommands (build, inspect, bench, compare, cache, info, run) and their
bad arguments: --dim names the model lacks are usage errors listing its symbolic
dimensions, `build` summarizes what the compiler did and shows progress only on a terminal,
`inspect` describes models and engines (--json, --dot with and without Graphviz), `bench`
times cold and warm starts and latency, `compare` checks devices and precisions against a
float32 reference (and warns when float16 underflows or overflows), `cache clear` removes
only cppnn's own files. Exit codes: 0 done, 1 a model/runtime error, 2 a usage error."""
import json
import os
import pty
import re
import struct
import subprocess

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper

SUBCOMMANDS = ["run", "info", "build", "inspect", "bench", "compare", "cache"]
W = np.arange(12, dtype=np.float32).reshape(4, 3) / 10
B = np.array([1.0, -2.0, 3.0], np.float32)


def save(model, path):
    path.write_bytes(model.SerializeToString())
    return path


def mlp(batch):
    """y = relu(x @ W + B): three ONNX nodes the engine builder fuses into one matmul."""
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [batch, 4])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [batch, 3])
    nodes = [helper.make_node("MatMul", ["x", "W"], ["m"]), helper.make_node("Add", ["m", "B"], ["a"]),
             helper.make_node("Relu", ["a"], ["y"])]
    inits = [helper.make_tensor("W", TensorProto.FLOAT, [4, 3], W.flatten().tolist()),
             helper.make_tensor("B", TensorProto.FLOAT, [3], B.tolist())]
    g = helper.make_graph(nodes, "mlp", [x], [y], initializer=inits)
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])


def scale(factor, output="y", twice=False):
    """y = x * factor (* factor again if twice), x [N, 8]."""
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 8])
    y = helper.make_tensor_value_info(output, TensorProto.FLOAT, ["N", 8])
    c = helper.make_tensor("c", TensorProto.FLOAT, [1], [factor])
    nodes = ([helper.make_node("Mul", ["x", "c"], ["t"]), helper.make_node("Mul", ["t", "c"], [output])] if twice
             else [helper.make_node("Mul", ["x", "c"], [output])])
    g = helper.make_graph(nodes, "scale", [x], [y], initializer=[c])
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    d = tmp_path_factory.mktemp("cli_commands")
    return {
        "mlp": save(mlp("N"), d / "mlp.onnx"),
        "fixed": save(mlp(1), d / "fixed.onnx"),
        "batch_b": save(mlp("B"), d / "batch_b.onnx"),
        "underflow": save(scale(1e-8), d / "underflow.onnx"),
        "big_weight": save(scale(1e5), d / "big_weight.onnx"),
        "overflow": save(scale(300.0, twice=True), d / "overflow.onnx"),
        "hostile": save(scale(2.0, output='a"b\\c\nd'), d / "hostile.onnx"),
        "dir": d,
    }


@pytest.fixture(scope="module")
def engine(cppnn_cli, models):
    path = models["dir"] / "mlp.cppnn"
    p = subprocess.run([str(cppnn_cli), "build", str(models["mlp"]), "-o", str(path)], capture_output=True,
                       text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    return path


def cli(cppnn_cli, *args, env=None, timeout=300, **kw):
    return subprocess.run([str(cppnn_cli), *map(str, args)], capture_output=True, text=True, timeout=timeout,
                          env=env, **kw)


# --- --dim and the shared model options, in every subcommand that loads a model ---------------

def model_commands(models, tmp_path):
    return {
        "run": ["run", models["mlp"], "--device", "cpu", "--iterations", "1"],
        "info": ["info", models["mlp"]],
        "build": ["build", models["mlp"], "-o", tmp_path / "out.cppnn"],
        "inspect": ["inspect", models["mlp"]],
        "bench": ["bench", models["mlp"], "--device", "cpu", "--iterations", "1"],
        "compare": ["compare", models["mlp"], "--devices", "cpu", "--precision", "float16"],
    }


@pytest.mark.parametrize("command", ["run", "info", "build", "inspect", "bench", "compare"])
def test_unknown_dim_name_is_a_usage_error_listing_the_models(cppnn_cli, models, tmp_path, command):
    args = model_commands(models, tmp_path)[command]
    p = cli(cppnn_cli, *args, "--dim", "M=4")
    assert p.returncode == 2, (p.stdout, p.stderr)
    assert "--dim M=4" in p.stderr and "no symbolic dimension 'M'" in p.stderr, p.stderr
    assert "symbolic dimensions are N" in p.stderr, p.stderr
    assert "latency" not in p.stdout and not (tmp_path / "out.cppnn").exists()


@pytest.mark.parametrize("command", ["run", "info", "build", "inspect", "bench", "compare"])
def test_known_dim_is_taken_everywhere(cppnn_cli, models, tmp_path, command):
    p = cli(cppnn_cli, *model_commands(models, tmp_path)[command], "--dim", "N=3")
    assert p.returncode == 0, (p.stdout, p.stderr)


def test_dim_on_a_model_with_fixed_shapes(cppnn_cli, models):
    p = cli(cppnn_cli, "info", models["fixed"], "--dim", "N=2")
    assert p.returncode == 2
    assert "no symbolic dimension 'N'" in p.stderr and "shapes are all fixed" in p.stderr, p.stderr


@pytest.mark.parametrize("value,message", [("N=abc", "integer > 0"), ("N=0", "integer > 0"), ("N=-2", "integer > 0"),
                                           ("N=", "integer > 0"), ("N", "NAME=VALUE"), ("=3", "NAME=VALUE")])
def test_malformed_dim_is_a_usage_error(cppnn_cli, models, value, message):
    p = cli(cppnn_cli, "info", models["mlp"], "--dim", value)
    assert p.returncode == 2, p.stderr
    assert message in p.stderr and "stoll" not in p.stderr, p.stderr


@pytest.mark.parametrize("value", ["sr", "sr=abc", "sr=1,,2"])
def test_malformed_bind_is_a_usage_error(cppnn_cli, models, value):
    p = cli(cppnn_cli, "info", models["mlp"], "--bind", value)
    assert p.returncode == 2, p.stderr
    assert "--bind" in p.stderr


@pytest.mark.parametrize("args,message", [
    (["--input", "x"], "--input 'x' must be NAME=VALUE"),
    (["--bind", "x=1,a"], "--bind"),
    (["--dim", "N=x"], "--dim"),
    (["--top", "-1"], "--top"),
    (["--precision", "float8"], "--precision"),
])
def test_run_usage_errors_before_any_work(cppnn_cli, models, tmp_path, args, message):
    p = cli(cppnn_cli, "run", models["mlp"], "--device", "cpu", "--save", tmp_path / "out", *args)
    assert p.returncode == 2, (p.stdout, p.stderr)
    assert message in p.stderr, p.stderr
    assert "latency" not in p.stdout and not (tmp_path / "out").exists()


def test_engine_files_through_every_model_subcommand(cppnn_cli, engine, tmp_path):
    for args in (["run", "--device", "cpu", "--iterations", "1"], ["info"], ["inspect"],
                 ["bench", "--device", "cpu", "--iterations", "1"],
                 ["compare", "--devices", "cpu", "--precision", "float16"]):
        p = cli(cppnn_cli, args[0], engine, *args[1:])
        assert p.returncode == 0, (args, p.stderr)
    # --dim means nothing to an engine (its shapes are fixed): a warning, not an error.
    p = cli(cppnn_cli, "info", engine, "--dim", "N=4")
    assert p.returncode == 0 and "--dim and --bind are ignored" in p.stderr, p.stderr


def test_info_takes_symbolic_dims_and_names_the_flag(cppnn_cli, models):
    p = cli(cppnn_cli, "info", models["mlp"], "--dim", "N=2")
    assert p.returncode == 0, p.stderr
    assert "input  x float32 [2, 4]" in p.stdout
    p = cli(cppnn_cli, "info", models["mlp"])  # N is 1 by default
    assert "input  x float32 [1, 4]" in p.stdout, p.stdout
    # A symbolic dimension without a value: the message says which flag sets it.
    p = cli(cppnn_cli, "info", models["batch_b"])
    assert p.returncode == 1
    assert "--dim B=" in p.stderr, p.stderr
    assert "OnnxImportOptions" not in p.stderr and "::" not in p.stderr, p.stderr
    assert cli(cppnn_cli, "info", models["batch_b"], "--dim", "B=5").returncode == 0


# --- build ------------------------------------------------------------------------------------

def test_build_summary(cppnn_cli, models, tmp_path):
    out = tmp_path / "m.cppnn"
    p = cli(cppnn_cli, "build", models["mlp"], "-o", out)
    assert p.returncode == 0, p.stderr
    assert out.exists()
    s = p.stdout
    assert re.search(r"^nodes +3 imported, 1 after optimization$", s, re.M), s
    assert re.search(r"^fusions +matmul\+bias x1, matmul\+relu x1$", s, re.M), s
    assert re.search(r"^precision float32$", s, re.M) and re.search(r"^  matmul +1 float32$", s, re.M), s
    assert re.search(r"^weights +60 B \(60 bytes", s, re.M), s  # W and B: 15 floats
    assert re.search(r"^time +[\d.]+ ms: import [\d.]+ ms, build [\d.]+ ms, write [\d.]+ ms$", s, re.M), s
    assert re.search(rf"^engine +{re.escape(str(out))} \(\d+ B, format version 1, hash [0-9a-f]{{16}}\)$", s, re.M), s
    assert p.stderr == ""  # not a terminal: no progress


def test_build_float16_summary(cppnn_cli, models, tmp_path):
    p = cli(cppnn_cli, "build", models["mlp"], "-o", tmp_path / "h.cppnn", "--precision", "float16")
    assert p.returncode == 0, p.stderr
    assert re.search(r"^precision float16$", p.stdout, re.M), p.stdout
    assert re.search(r"^  matmul +1 float16$", p.stdout, re.M), p.stdout
    assert re.search(r"^weights +30 B", p.stdout, re.M), p.stdout  # float16 weights: half


def test_build_float16_without_keep_io_types_runs_on_float16(cppnn_cli, models, tmp_path):
    out = tmp_path / "io16.cppnn"
    p = cli(cppnn_cli, "build", models["mlp"], "-o", out, "--precision", "float16", "--no-keep-io-types")
    assert p.returncode == 0, p.stderr
    assert re.search(r"^precision float16 \(float16 inputs and outputs\)$", p.stdout, re.M), p.stdout
    p = cli(cppnn_cli, "info", out)
    assert re.search(r"^input  x float16 \[", p.stdout, re.M) and re.search(r"^output y float16 ", p.stdout, re.M), p.stdout
    x = (np.arange(4, dtype=np.float32).reshape(1, 4) / 3 - 0.5).astype(np.float16)  # N was built as 1
    np.save(tmp_path / "x.npy", x)
    p = cli(cppnn_cli, "run", out, "--input", f"x={tmp_path / 'x.npy'}", "--save", tmp_path / "o")
    assert p.returncode == 0, p.stderr
    assert re.search(r"^output   y float16 \[1, 3\]$", p.stdout, re.M) and "top-" in p.stdout, p.stdout
    y = np.load(tmp_path / "o" / "y.npy")
    assert y.dtype == np.float16
    want = np.maximum(x.astype(np.float64) @ W.astype(np.float64) + B, 0)
    np.testing.assert_allclose(y.astype(np.float64), want, rtol=1e-2, atol=1e-2)
    # Seeded inputs of float16 too (no --input).
    assert cli(cppnn_cli, "run", out).returncode == 0
    p = cli(cppnn_cli, "build", models["mlp"], "-o", tmp_path / "bad.cppnn", "--no-keep-io-types")
    assert p.returncode != 0 and "keep_io_types" in p.stderr, p.stderr


def test_build_progress_only_on_a_terminal(cppnn_cli, models, tmp_path):
    try:
        main, child = pty.openpty()
    except OSError as e:  # a sandbox without /dev/ptmx
        pytest.skip(f"no pseudo-terminal: {e}")
    try:
        p = subprocess.run([str(cppnn_cli), "build", str(models["mlp"]), "-o", str(tmp_path / "t.cppnn")],
                           stdout=subprocess.PIPE, stderr=child, timeout=120)
        os.close(child)
        child = -1
        seen = b""
        while True:
            try:
                chunk = os.read(main, 4096)
            except OSError:
                break
            if not chunk:
                break
            seen += chunk
    finally:
        if child >= 0:
            os.close(child)
        os.close(main)
    assert p.returncode == 0
    assert b"[1/3] importing" in seen and b"[3/3] writing" in seen, seen
    assert b"[1/3]" not in p.stdout  # the summary stays clean


@pytest.mark.parametrize("args,code", [
    (["build"], 2),
    (["build", "MODEL"], 2),  # no -o
    (["build", "MODEL", "-o", "OUT", "--precision", "int8"], 2),
    (["build", "ENGINE", "-o", "OUT"], 2),  # an engine is no ONNX model
    (["build", "MISSING", "-o", "OUT"], 1),
])
def test_build_bad_arguments(cppnn_cli, models, engine, tmp_path, args, code):
    subst = {"MODEL": models["mlp"], "ENGINE": engine, "OUT": tmp_path / "o.cppnn", "MISSING": tmp_path / "no.onnx"}
    p = cli(cppnn_cli, *[subst.get(a, a) for a in args])
    assert p.returncode == code, (args, p.stdout, p.stderr)
    assert p.stderr.strip()
    assert not (tmp_path / "o.cppnn").exists()


def test_build_dynamic_engine_runs_every_batch_of_its_range(cppnn_cli, models, tmp_path):
    out = tmp_path / "dyn.cppnn"
    p = cli(cppnn_cli, "build", models["mlp"], "-o", out, "--dynamic", "N=1:2:6")
    assert p.returncode == 0, p.stderr
    assert re.search(r"^shapes +dynamic: N in \[1, 6\] \(opt 2\)$", p.stdout, re.M), p.stdout
    import webnn
    engine = webnn.Engine.load(str(out))
    assert engine.graph.symbols == {"N": (1, 2, 6)}
    ctx = webnn.ML().create_context(accelerated=False)
    for n in (1, 5, 6):
        x = np.arange(n * 4, dtype=np.float32).reshape(n, 4) / 7
        y = ctx.compute(engine.graph, {"x": x})["y"]
        np.testing.assert_allclose(y, np.maximum(x.astype(np.float64) @ W + B, 0), rtol=1e-6, atol=1e-6)
    with pytest.raises(TypeError, match="range is"):
        ctx.compute(engine.graph, {"x": np.zeros((7, 4), np.float32)})


def test_run_a_dynamic_engine_at_a_chosen_shape(cppnn_cli, models, tmp_path):
    out = tmp_path / "dyn.cppnn"
    assert cli(cppnn_cli, "build", models["mlp"], "-o", out, "--dynamic", "N=1:2:6").returncode == 0
    p = cli(cppnn_cli, "run", out, "--symbol", "N=5", "--iterations", "1", "--warmup", "0",
            "--device", "cpu", "--save", tmp_path / "o")
    assert p.returncode == 0, p.stderr
    y = np.load(tmp_path / "o" / "y.npy")
    assert y.shape == (5, 3)
    for bad in ("N=7", "M=2", "N=x", "N"):
        q = cli(cppnn_cli, "run", out, "--symbol", bad, "--device", "cpu")
        assert q.returncode == 2 and "--symbol" in q.stderr, (bad, q.stderr)
    q = cli(cppnn_cli, "run", models["mlp"], "--symbol", "N=2", "--device", "cpu")
    assert q.returncode == 2 and "no dynamic shapes" in q.stderr, q.stderr


@pytest.mark.parametrize("value", ["N=1:2", "N=0:1:2", "N=3:2:4", "N=a:b:c", "M=1:2:3", "x"])
def test_build_dynamic_bad_ranges_are_usage_errors(cppnn_cli, models, tmp_path, value):
    p = cli(cppnn_cli, "build", models["mlp"], "-o", tmp_path / "d.cppnn", "--dynamic", value)
    assert p.returncode == 2, (value, p.stdout, p.stderr)
    assert "--dynamic" in p.stderr, p.stderr
    assert not (tmp_path / "d.cppnn").exists()


def test_build_dynamic_and_dim_for_one_name_is_a_usage_error(cppnn_cli, models, tmp_path):
    p = cli(cppnn_cli, "build", models["mlp"], "-o", tmp_path / "d.cppnn", "--dynamic", "N=1:2:3",
            "--dim", "N=2")
    assert p.returncode == 2 and "--dim too" in p.stderr, p.stderr


# --- inspect ----------------------------------------------------------------------------------

def test_inspect_onnx_text(cppnn_cli, models):
    p = cli(cppnn_cli, "inspect", models["mlp"], "--dim", "N=2")
    assert p.returncode == 0, p.stderr
    s = p.stdout
    assert re.search(r"^format +ONNX, IR version \d+, opsets ai.onnx 17", s, re.M), s
    assert re.search(r"^input +x float32 \[2, 4\]  \(declared \[N, 4\]\)$", s, re.M), s
    assert re.search(r"^output +y float32 \[2, 3\]$", s, re.M), s
    assert re.search(r"^nodes +3 imported, 1 after optimization$", s, re.M), s
    assert re.search(r"^ops +matmul x1$", s, re.M), s
    assert "matmul+bias x1" in s and "matmul+relu x1" in s
    assert re.search(r"^hash +[0-9a-f]{16} ", s, re.M) and "none recorded in the file" in s, s


def test_inspect_engine_json_matches_build(cppnn_cli, models, engine):
    p = cli(cppnn_cli, "inspect", engine, "--json")
    assert p.returncode == 0, p.stderr
    j = json.loads(p.stdout)
    assert j["format"] == "engine" and j["format_version"] == 1
    assert re.fullmatch(r"[0-9a-f]{16}", j["hash"])
    assert j["inputs"] == [{"name": "x", "type": "float32", "shape": [1, 4]}]
    assert j["outputs"] == [{"name": "y", "type": "float32", "shape": [1, 3]}]
    assert j["ops"] == {"matmul": 1} and j["fusions"] == {"matmul+bias": 1, "matmul+relu": 1}
    assert j["precision"] == "float32" and j["weight_bytes"] == 60
    assert j["target_architectures"]["recorded_in_file"] == []
    assert j["engine_bytes"] == engine.stat().st_size
    # The ONNX model's hash is that of the engine `build` made of it.
    o = json.loads(cli(cppnn_cli, "inspect", models["mlp"], "--json").stdout)
    assert o["hash"] == j["hash"] and o["nodes"] == {"imported": 3, "optimized": 1}
    assert o["format"] == "onnx" and o["symbolic_dims"] == ["N"]
    assert o["inputs"][0]["declared_shape"] == ["N", "4"]
    h = json.loads(cli(cppnn_cli, "inspect", models["mlp"], "--json", "--precision", "float16").stdout)
    assert h["precision"] == "float16" and h["hash"] != j["hash"]


def test_inspect_target_architectures_from_the_runtime_cache(cppnn_cli, engine, tmp_path):
    h = json.loads(cli(cppnn_cli, "inspect", engine, "--json").stdout)["hash"]
    cache = tmp_path / "cache"
    write_cache_file(cache / h / ("0" * 16 + ".cache"), h, "sm_90")
    p = cli(cppnn_cli, "inspect", engine, "--json", env={**os.environ, "CPPNN_CACHE_DIR": str(cache)})
    targets = json.loads(p.stdout)["target_architectures"]["runtime_cache"]
    assert [t["device_arch"] for t in targets] == ["sm_90"], targets


def test_inspect_dynamic_engine(cppnn_cli, models, tmp_path):
    """An engine built with a shape profile (the Python API's Engine.build(shapes=...))."""
    webnn = pytest.importorskip("webnn")
    graph = webnn.load_onnx(str(models["mlp"]), dynamic={"N": (1, 4, 16)})
    engine = webnn.Engine.build(graph, shapes={"x": ((2, 4), (4, 4), (8, 4))})
    path = tmp_path / "dyn.cppnn"
    path.write_bytes(engine.to_bytes())
    p = cli(cppnn_cli, "inspect", path, "--json")
    assert p.returncode == 0, p.stderr
    j = json.loads(p.stdout)
    assert j["dynamic"]["symbols"] == {"N": {"min": 2, "opt": 4, "max": 8}}, j
    assert j["dynamic"]["input_symbols"] == {"x": ["N", ""]}
    assert j["inputs"][0]["shape"] == [4, 4]
    p = cli(cppnn_cli, "inspect", path)
    assert re.search(r"^dynamic +N in \[2, 8\] \(opt 4\); the shapes shown are at opt$", p.stdout, re.M), p.stdout
    # A static engine has no such section.
    assert "dynamic" not in json.loads(cli(cppnn_cli, "inspect", models["mlp"], "--json").stdout)


def fake_dot(folder):
    """A stand-in for Graphviz's dot that records its arguments and writes an SVG."""
    folder.mkdir()
    script = folder / "dot"
    script.write_text('#!/bin/sh\necho "$@" > "${0%/*}/args"\n'
                      'while [ $# -gt 0 ]; do if [ "$1" = -o ]; then echo "<svg/>" > "$2"; fi; shift; done\n')
    script.chmod(0o755)
    return folder


def test_inspect_dot_without_graphviz(cppnn_cli, models, tmp_path):
    empty = tmp_path / "bin"
    empty.mkdir()
    out = tmp_path / "g.dot"
    p = cli(cppnn_cli, "inspect", models["mlp"], "--dot", out, env={**os.environ, "PATH": str(empty)})
    assert p.returncode == 0, p.stderr
    text = out.read_text()
    assert text.startswith("digraph cppnn {") and text.rstrip().endswith("}")
    assert '"matmul + bias + relu\\nMatMul_0' in text, text
    assert re.search(r'in\d+ -> n0', text) and re.search(r'n0 -> out\d+', text), text
    assert "not on PATH" in p.stderr and not (tmp_path / "g.svg").exists()


def test_inspect_dot_renders_with_dot_on_path(cppnn_cli, models, tmp_path):
    bin_dir = fake_dot(tmp_path / "bin")
    out = tmp_path / "g.dot"
    p = cli(cppnn_cli, "inspect", models["mlp"], "--dot", out, "--json", env={**os.environ, "PATH": str(bin_dir)})
    assert p.returncode == 0, p.stderr
    json.loads(p.stdout)  # messages go to stderr: the JSON stays parseable
    assert (bin_dir / "args").read_text().split() == ["-Tsvg", str(out), "-o", str(tmp_path / "g.svg")]
    assert (tmp_path / "g.svg").read_text().strip() == "<svg/>"
    assert "rendered" in p.stderr


@pytest.mark.skipif(subprocess.run(["which", "dot"], capture_output=True).returncode != 0,
                    reason="Graphviz is not installed (not needed: the fake dot above covers the call)")
def test_inspect_dot_real_graphviz(cppnn_cli, models, tmp_path):
    p = cli(cppnn_cli, "inspect", models["hostile"], "--dot", tmp_path / "h.dot")
    assert p.returncode == 0, p.stderr
    assert "<svg" in (tmp_path / "h.svg").read_text()


def test_inspect_dot_quotes_hostile_names(cppnn_cli, models, tmp_path):
    empty = tmp_path / "bin"
    empty.mkdir()
    p = cli(cppnn_cli, "inspect", models["hostile"], "--dot", tmp_path / "h.dot", env={**os.environ, "PATH": str(empty)})
    assert p.returncode == 0, p.stderr
    text = (tmp_path / "h.dot").read_text()
    assert 'label="a\\"b\\\\c\\nd\\nfloat32[1, 8]"' in text, text


@pytest.mark.parametrize("args,code", [
    (["inspect"], 2), (["inspect", "MODEL", "--dot"], 2), (["inspect", "MODEL", "--precision", "x"], 2),
    (["inspect", "MISSING"], 1), (["inspect", "MODEL", "--dot", "NODIR/g.dot"], 1),
])
def test_inspect_bad_arguments(cppnn_cli, models, tmp_path, args, code):
    subst = {"MODEL": models["mlp"], "MISSING": tmp_path / "none.onnx", "NODIR/g.dot": tmp_path / "no" / "g.dot"}
    p = cli(cppnn_cli, *[subst.get(a, a) for a in args])
    assert p.returncode == code, (p.stdout, p.stderr)
    assert p.stderr.strip()


# --- bench ------------------------------------------------------------------------------------

def test_bench_batches_json(cppnn_cli, models, tmp_path):
    out = tmp_path / "b.json"
    cache = tmp_path / "cache"
    cache.mkdir()
    p = cli(cppnn_cli, "bench", models["mlp"], "--device", "cpu", "--batch", "1,4", "--iterations", "5",
            "--warmup", "1", "--json", out, env={**os.environ, "CPPNN_CACHE_DIR": str(cache)})
    assert p.returncode == 0, p.stderr
    j = json.loads(out.read_text())
    assert j["device"] == "cpu" and j["warm_cache"] == str(cache)
    assert [r["batch"] for r in j["results"]] == [1, 4] and {r["batch_dim"] for r in j["results"]} == {"N"}
    for r in j["results"]:
        lat = r["latency_ms"]
        assert r["runs"] == 5
        assert 0 <= lat["min"] <= lat["median"] <= lat["p90"] <= lat["p99"] <= lat["max"]
        assert r["throughput_per_s"] == pytest.approx(r["batch"] * 1000 / lat["mean"], rel=1e-6)
        for start in ("cold", "warm"):
            assert set(r[start]) == {"context_ms", "compile_ms", "first_compute_ms"}
            assert all(v >= 0 for v in r[start].values())
        assert r["peak_device_memory_bytes"] is None
    assert "peak device memory n/a" in p.stdout
    assert re.search(r"^batch +N=4$", p.stdout, re.M), p.stdout
    assert "cpu backend keeps no runtime cache" in p.stdout
    assert os.listdir(cache) == []  # the CPU writes no cache; the cold one was temporary


@pytest.fixture(scope="module")
def dynamic_engine(cppnn_cli, models):
    path = models["dir"] / "mlp_dynamic.cppnn"
    p = subprocess.run([str(cppnn_cli), "build", str(models["mlp"]), "-o", str(path), "--dynamic", "N=1:2:8"],
                       capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    return path


def test_bench_batches_of_a_dynamic_engine(cppnn_cli, dynamic_engine, tmp_path):
    # One engine, every batch in its range: each timed as the dynamic engine itself (the
    # context specializes it), on inputs of that batch.
    out = tmp_path / "b.json"
    p = cli(cppnn_cli, "bench", dynamic_engine, "--device", "cpu", "--batch", "1,3,8", "--iterations", "3",
            "--warmup", "0", "--json", out)
    assert p.returncode == 0, p.stderr
    j = json.loads(out.read_text())
    assert [r["batch"] for r in j["results"]] == [1, 3, 8] and {r["batch_dim"] for r in j["results"]} == {"N"}
    assert re.search(r"^batch +N=3$", p.stdout, re.M), p.stdout
    for r in j["results"]:
        assert r["runs"] == 3
        assert r["throughput_per_s"] == pytest.approx(r["batch"] * 1000 / r["latency_ms"]["mean"], rel=1e-6)


def test_bench_duration(cppnn_cli, models):
    p = cli(cppnn_cli, "bench", models["fixed"], "--device", "cpu", "--duration", "0.2")
    assert p.returncode == 0, p.stderr
    runs = int(re.search(r"over (\d+) runs", p.stdout).group(1))
    assert runs >= 1
    assert "the model's (no --batch)" in p.stdout


@pytest.mark.parametrize("args,message", [
    (["FIXED", "--batch", "1,8"], "batch dimension to be symbolic"),
    (["ENGINE", "--batch", "2"], "built with fixed shapes"),
    (["DYNAMIC", "--batch", "1,9"], "--batch 9: outside the range of 'N' this engine was built for, [1, 8]"),
    (["MODEL", "--batch", "2", "--dim", "N=4"], "both set the batch dimension 'N'"),
    (["MODEL", "--batch", "0"], "--batch"),
    (["MODEL", "--batch", "a"], "--batch"),
    (["MODEL", "--iterations", "3", "--duration", "1"], "excludes"),
    (["MODEL", "--duration", "-1"], "--duration"),
    (["MODEL", "--iterations", "0"], "--iterations"),
    (["MODEL", "--warmup", "-1"], "--warmup"),
    (["MODEL", "--device", "tpu"], "--device"),
])
def test_bench_usage_errors(cppnn_cli, models, engine, dynamic_engine, tmp_path, args, message):
    subst = {"MODEL": models["mlp"], "FIXED": models["fixed"], "ENGINE": engine, "DYNAMIC": dynamic_engine}
    p = cli(cppnn_cli, "bench", *[subst.get(a, a) for a in args], "--json", tmp_path / "b.json")
    assert p.returncode == 2, (args, p.stdout, p.stderr)
    assert message in p.stderr, p.stderr
    assert "latency" not in p.stdout and not (tmp_path / "b.json").exists()


def test_bench_cuda_is_the_gpu_or_an_error(cppnn_cli, models):
    p = cli(cppnn_cli, "bench", models["mlp"], "--device", "cuda", "--iterations", "2")
    if p.returncode == 0:
        assert re.search(r"^device +cuda ", p.stdout, re.M), p.stdout
    else:
        assert p.returncode == 1 and "--device cuda: no CUDA backend" in p.stderr, p.stderr


# --- compare ----------------------------------------------------------------------------------

def test_compare_float16_against_float32(cppnn_cli, models):
    p = cli(cppnn_cli, "compare", models["mlp"], "--devices", "cpu", "--precision", "float16", "--dim", "N=16")
    assert p.returncode == 0, p.stderr
    assert re.search(r"^reference +cpu, float32", p.stdout, re.M), p.stdout
    m = re.search(r"^  y +max abs (\S+)  max rel (\S+)  cosine (\S+)  ok$", p.stdout, re.M)
    assert m, p.stdout
    assert 0 < float(m.group(1)) < 1e-2 and float(m.group(3)) > 0.9999
    assert "within tolerance" in p.stdout and "warning" not in p.stderr


def test_compare_metrics_are_float64_against_the_reference(cppnn_cli, models, tmp_path):
    # float16 cannot hold 1e-8: the float16 engine's output is all zeros, so the errors are
    # the reference itself (computed here in float64 from the float32 run's values).
    x = np.linspace(-1, 1, 16, dtype=np.float32).reshape(2, 8)
    np.save(tmp_path / "x.npy", x)
    p = cli(cppnn_cli, "compare", models["underflow"], "--devices", "cpu", "--precision", "float16",
            "--input", f"x={tmp_path / 'x.npy'}", "--dim", "N=2")
    ref = (x * np.float32(1e-8)).astype(np.float64)
    m = re.search(r"^  y +max abs (\S+)  max rel (\S+)  cosine (\S+)  (.*)$", p.stdout, re.M)
    assert m, p.stdout
    assert float(m.group(1)) == pytest.approx(np.abs(ref).max(), rel=1e-2)
    assert float(m.group(2)) == pytest.approx(1.0, rel=1e-2)
    assert float(m.group(3)) == 0
    assert p.returncode == 0  # within the float16 tolerance (atol 1e-2): but warned
    assert "underflows" in p.stderr and "(all of them)" in p.stderr, p.stderr


def test_run_float16_all_zeros_warns(cppnn_cli, models, tmp_path):
    p = cli(cppnn_cli, "run", models["underflow"], "--device", "cpu", "--precision", "float16", "--iterations", "1")
    assert p.returncode == 0, p.stderr
    assert "output 'y' is all zeros in float16" in p.stderr and "cppnn compare" in p.stderr, p.stderr
    engine = tmp_path / "u.cppnn"  # the same from a float16 engine file
    assert cli(cppnn_cli, "build", models["underflow"], "-o", engine, "--precision", "float16").returncode == 0
    p = cli(cppnn_cli, "run", engine, "--device", "cpu", "--iterations", "1")
    assert "all zeros in float16" in p.stderr, p.stderr
    for args in (["--precision", "float32"], []):  # float32 keeps 1e-8; the mlp is not zero
        model = models["underflow"] if args else models["mlp"]
        p = cli(cppnn_cli, "run", model, "--device", "cpu", "--iterations", "1", *args)
        assert p.returncode == 0 and "warning" not in p.stderr, p.stderr


def test_compare_float16_overflow_warns_and_fails(cppnn_cli, models):
    # x * 300 * 300 passes 65504 for |x| > 0.73 (the seeded inputs have some): infinite in float16.
    p = cli(cppnn_cli, "compare", models["overflow"], "--devices", "cpu", "--precision", "float16")
    assert p.returncode == 1, (p.stdout, p.stderr)
    assert "output 'y' overflows" in p.stderr and "infinite where the reference is finite" in p.stderr, p.stderr
    assert "PAST TOLERANCE" in p.stdout and "FAIL" in p.stdout and "max abs inf" in p.stdout


def test_compare_float16_weights_out_of_range_warn(cppnn_cli, models):
    # float16 cannot hold the weight 1e5: the engine saturates it at 65504, which the outputs
    # show only as a scale error; compare says why. And 1e-8 becomes 0.
    p = cli(cppnn_cli, "compare", models["big_weight"], "--devices", "cpu", "--precision", "float16")
    assert p.returncode == 1, (p.stdout, p.stderr)
    assert "float16 overflows the weights: 1 float32 weight values are beyond" in p.stderr, p.stderr
    p = cli(cppnn_cli, "compare", models["underflow"], "--devices", "cpu", "--precision", "float16")
    assert "float16 underflows the weights: 1 non-zero" in p.stderr, p.stderr
    p = cli(cppnn_cli, "compare", models["mlp"], "--devices", "cpu", "--precision", "float16")
    assert "warning" not in p.stderr, p.stderr


def test_compare_past_tolerance_exits_1(cppnn_cli, models):
    p = cli(cppnn_cli, "compare", models["mlp"], "--devices", "cpu", "--precision", "float16", "--dim", "N=16",
            "--atol", "0", "--rtol", "0")
    assert p.returncode == 1, p.stdout
    assert re.search(r"FAIL \(\d+ of 48 past tolerance\)", p.stdout), p.stdout


def test_compare_missing_device_is_an_error(cppnn_cli, models):
    p = cli(cppnn_cli, "compare", models["mlp"], "--devices", "cpu,cuda")
    if p.returncode == 0:
        assert re.search(r"^cuda, float32$", p.stdout, re.M), p.stdout
    else:
        assert p.returncode == 1, p.stderr
        assert "--devices cuda: no CUDA backend" in p.stderr, p.stderr
        assert "max abs" not in p.stdout


def test_compare_bfloat16_within_its_default_tolerance(cppnn_cli, models):
    p = cli(cppnn_cli, "compare", models["mlp"], "--devices", "cpu", "--precision", "bfloat16", "--dim", "N=16")
    assert p.returncode == 0, (p.stdout, p.stderr)
    assert "max abs" in p.stdout


@pytest.mark.parametrize("args,message", [
    (["--devices", "cpu,tpu"], "--devices"),
    (["--devices", "cpu,cpu", "--precision", "float16"], "given twice"),
    (["--devices", "cpu"], "compares the reference with itself"),
    (["--devices", "cpu", "--precision", "float16", "--atol", "-1"], "--atol"),
    (["--devices", "cpu", "--precision", "float16", "--rtol", "x"], "--rtol"),
    (["--devices", "cpu", "--precision", "int8"], "--precision"),
    (["--devices", "cpu", "--precision", "float16", "--input", "x"], "NAME=VALUE"),
])
def test_compare_usage_errors(cppnn_cli, models, args, message):
    p = cli(cppnn_cli, "compare", models["mlp"], *args)
    assert p.returncode == 2, (args, p.stdout, p.stderr)
    assert message in p.stderr, p.stderr
    assert "max abs" not in p.stdout


# --- cache ------------------------------------------------------------------------------------

def write_cache_file(path, engine_hash, arch, magic=b"CPPNNRTC"):
    """The header of a runtime cache file (docs/runtime-cache.md): enough for list and clear."""
    def s(text):
        b = text.encode()
        return struct.pack("<I", len(b)) + b
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(magic + struct.pack("<II", 1, 0) + s(engine_hash) + s(arch) + s("580.65.06") +
                     s("cuda13.0") + s("0.1.0+test") + struct.pack("<I", 0) + b"\0" * 8)
    return path


def cache_env(folder):
    env = {k: v for k, v in os.environ.items() if k not in ("CPPNN_CACHE_DIR", "XDG_CACHE_HOME")}
    env["CPPNN_CACHE_DIR"] = str(folder)
    return env


def test_cache_path(cppnn_cli, tmp_path):
    p = cli(cppnn_cli, "cache", "path", env=cache_env(tmp_path / "c"))
    assert p.returncode == 0 and p.stdout.strip() == str(tmp_path / "c")
    env = {k: v for k, v in os.environ.items() if k not in ("CPPNN_CACHE_DIR",)}
    env["XDG_CACHE_HOME"] = str(tmp_path / "xdg")
    assert cli(cppnn_cli, "cache", "path", env=env).stdout.strip() == str(tmp_path / "xdg" / "cppnn")
    env = {"PATH": os.environ.get("PATH", "")}  # no HOME, no XDG, no CPPNN_CACHE_DIR
    p = cli(cppnn_cli, "cache", "path", env=env)
    assert p.returncode == 1 and "no folder" in p.stderr, p.stderr


def test_cache_list_and_clear_remove_only_cppnns_files(cppnn_cli, tmp_path):
    folder = tmp_path / "shared"  # a folder CPPNN_CACHE_DIR points at, holding other files too
    h = "0123456789abcdef"
    ours = [write_cache_file(folder / h / ("a" * 16 + ".cache"), h, "sm_90"),
            write_cache_file(folder / h / ("b" * 16 + ".cache"), h, "sm_80"),
            write_cache_file(folder / h / ("b" * 16 + ".cache.tmp-42-" + "c" * 16), h, "sm_80")]
    outside = tmp_path / "outside"
    foreign = {
        folder / "notes.txt": b"keep",
        folder / "important.cache": b"keep",
        folder / h / "readme.txt": b"keep",
        folder / h / ("d" * 16 + ".cache"): b"not a cache file",
        folder / "not-a-hash" / ("e" * 16 + ".cache"): None,
        outside / ("f" * 16 + ".cache"): None,
    }
    for path, data in foreign.items():
        if data is None:
            foreign[path] = write_cache_file(path, h, "sm_90").read_bytes()
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
    (folder / "fedcba9876543210").symlink_to(outside, target_is_directory=True)
    env = cache_env(folder)

    p = cli(cppnn_cli, "cache", "list", "--json", env=env)
    assert p.returncode == 0, p.stderr
    j = json.loads(p.stdout)
    assert sorted(f["path"] for f in j["files"]) == sorted(map(str, ours))
    assert {f["device_arch"] for f in j["files"] if not f["temporary"]} == {"sm_90", "sm_80"}
    assert [f["temporary"] for f in j["files"]].count(True) == 1
    assert j["bytes"] == sum(p.stat().st_size for p in ours)
    p = cli(cppnn_cli, "cache", "list", env=env)
    assert "total    3 files" in p.stdout and "sm_90" in p.stdout, p.stdout

    p = cli(cppnn_cli, "cache", "clear", env=env)
    assert p.returncode == 0, p.stderr
    assert "removed  3 files" in p.stdout, p.stdout
    assert not any(path.exists() for path in ours)
    for path, data in foreign.items():
        assert path.read_bytes() == data, path
    assert (folder / h).is_dir() and (folder / "fedcba9876543210").is_symlink()
    assert "total    0 files" in cli(cppnn_cli, "cache", "list", env=env).stdout


def test_cache_clear_of_a_missing_folder(cppnn_cli, tmp_path):
    p = cli(cppnn_cli, "cache", "clear", env=cache_env(tmp_path / "none"))
    assert p.returncode == 0 and "removed  0 files" in p.stdout
    assert not (tmp_path / "none").exists()


@pytest.mark.parametrize("args", [["cache"], ["cache", "frob"], ["cache", "list", "--bogus"], ["cache", "path", "x"]])
def test_cache_usage_errors(cppnn_cli, args):
    assert cli(cppnn_cli, *args).returncode == 2


# --- exit codes and help ----------------------------------------------------------------------

def test_help_lists_subcommands_and_exit_codes(cppnn_cli):
    p = cli(cppnn_cli, "--help")
    assert p.returncode == 0
    for command in SUBCOMMANDS:
        assert re.search(rf"^  {command} ", p.stdout, re.M), (command, p.stdout)
    text = " ".join(p.stdout.split())
    assert "exit codes: 0 done; 1 a model, file or runtime error" in text, p.stdout
    assert "2 a usage error" in text
    for command in SUBCOMMANDS:
        assert cli(cppnn_cli, command, "--help").returncode == 0


def test_readme_documents_every_subcommand_and_the_exit_codes():
    readme = open(os.path.join(os.path.dirname(__file__), "..", "..", "README.md")).read()
    section = readme.split("## Command line", 1)[1].split("\n## ", 1)[0]
    for command in SUBCOMMANDS:
        assert f"cppnn {command}" in section, command
    assert "| 0 |" in section and "| 1 |" in section and "| 2 |" in section


@pytest.mark.parametrize("command", ["run", "info", "inspect", "bench", "compare"])
def test_missing_model_file_is_exit_1(cppnn_cli, tmp_path, command):
    extra = {"compare": ["--devices", "cpu", "--precision", "float16"], "run": ["--device", "cpu"],
             "bench": ["--device", "cpu"]}.get(command, [])
    p = cli(cppnn_cli, command, tmp_path / "none.onnx", *extra)
    assert p.returncode == 1, (p.stdout, p.stderr)
    assert "none.onnx" in p.stderr
