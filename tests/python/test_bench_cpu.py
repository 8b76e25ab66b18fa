"""bench/bench_cpu.py's machinery on a tiny model made with onnx.helper (no torch needed):
a case times both runtimes and records their rounds, the correctness check fires on a wrong
output, a model cppnn fails on is recorded (ONNX Runtime still timed), and the JSON and its
report have the structure the README tables are made from."""
import json
import pathlib
import sys

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "bench"))
import bench_cpu  # noqa: E402
import cpu_models  # noqa: E402


def tiny_model(path, unnamed=False):
    """input [N, 3, 8, 8] -> Conv 3x3 (4 channels) -> Relu -> GlobalAveragePool -> Flatten
    -> Gemm [N, 5] ('logits'); the batch is 'N', or unnamed (-> 'input:0' in cppnn)."""
    rng = np.random.default_rng(0)
    w = numpy_helper.from_array(rng.standard_normal((4, 3, 3, 3)).astype(np.float32), "w")
    b = numpy_helper.from_array(rng.standard_normal(4).astype(np.float32), "b")
    fw = numpy_helper.from_array(rng.standard_normal((5, 4)).astype(np.float32), "fw")
    fb = numpy_helper.from_array(rng.standard_normal(5).astype(np.float32), "fb")
    batch = "" if unnamed else "N"
    nodes = [helper.make_node("Conv", ["input", "w", "b"], ["c"], pads=[1, 1, 1, 1]),
             helper.make_node("Relu", ["c"], ["r"]),
             helper.make_node("GlobalAveragePool", ["r"], ["p"]),
             helper.make_node("Flatten", ["p"], ["f"]),
             helper.make_node("Gemm", ["f", "fw", "fb"], ["logits"], transB=1)]
    graph = helper.make_graph(nodes, "tiny", [helper.make_tensor_value_info("input", TensorProto.FLOAT, [batch, 3, 8, 8])],
                              [helper.make_tensor_value_info("logits", TensorProto.FLOAT, [batch, 5])],
                              [w, b, fw, fb])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.save(model, str(path))
    return path


@pytest.fixture
def tiny(tmp_path):
    return tiny_model(tmp_path / "tiny.onnx")


def feeds(batch):
    return {"input": np.random.default_rng(batch).standard_normal((batch, 3, 8, 8)).astype(np.float32)}


FAST = dict(rounds=2, round_s=0.005, min_iters=2, warmup=1)


def test_a_case_times_both_runtimes_and_agrees(tiny):
    row = bench_cpu.bench_case("tiny", tiny, feeds(2), 2, 1, bench_cpu.CppnnRunner(), **FAST)
    assert row["status"] == "ok" and row["errors"] == {}, row
    assert row["correct"] is True and row["rel_l2"] < 1e-5, row
    for rt in ("ort", "cppnn"):
        assert len(row[f"{rt}_round_ms"]) == 2 and row[f"{rt}_ms"] == min(row[f"{rt}_round_ms"])
    assert row["ratio"] == pytest.approx(row["cppnn_ms"] / row["ort_ms"], rel=1e-3)
    assert row["iters"] >= 2 and row["threads"] == 1 and row["batch"] == 2


def test_the_check_catches_a_wrong_output(tiny):
    """ONNX Runtime's outputs 1 % off (as if cppnn were wrong by that much): flagged, with
    the relative L2 the perturbation makes; a 1e-5 change passes."""
    runner = bench_cpu.CppnnRunner()
    off = bench_cpu.bench_case("tiny", tiny, feeds(2), 2, 1, runner,
                               reference=lambda w: {k: v * 1.01 for k, v in w.items()}, **FAST)
    assert off["correct"] is False and off["rel_l2"] == pytest.approx(0.01 / 1.01, rel=1e-3), off
    assert "outputs differ" in bench_cpu.case_table([off])
    near = bench_cpu.bench_case("tiny", tiny, feeds(2), 2, 1, runner,
                                reference=lambda w: {k: v * (1 + 1e-5) for k, v in w.items()}, **FAST)
    assert near["correct"] is True
    c = bench_cpu.compare({"logits": np.ones(3)}, {"logits": np.ones(4)})
    assert c["ok"] is False and "shape" in c["outputs"]["logits"]["error"]
    c = bench_cpu.compare({"logits": np.array([np.nan, 1.0])}, {"logits": np.ones(2)})
    assert c["ok"] is False


def test_a_model_cppnn_fails_on_is_recorded(tiny):
    class Broken:
        @staticmethod
        def load_onnx(*args, **kwargs):
            raise ValueError("node 'Conv_0': unsupported")

    runner = bench_cpu.CppnnRunner()
    runner.webnn = Broken
    runner.threads, runner.ctx = 1, object()
    row = bench_cpu.bench_case("tiny", tiny, feeds(1), 1, 1, runner, **FAST)
    assert row["status"] == "cppnn failed", row
    assert row["errors"]["cppnn"] == "load_onnx: ValueError: node 'Conv_0': unsupported"
    assert row["ort_ms"] > 0 and "cppnn_ms" not in row and "ratio" not in row


def test_dim_values_and_input_names(tmp_path):
    named = tiny_model(tmp_path / "named.onnx")
    unnamed = tiny_model(tmp_path / "unnamed.onnx", unnamed=True)
    assert bench_cpu.dim_values(named, feeds(3)) == {"N": 3}
    assert bench_cpu.dim_values(unnamed, feeds(3)) == {"input:0": 3}
    # One image input under another name gets the array.
    assert list(bench_cpu.align_feeds(named, {"input.1": feeds(1)["input"]})) == ["input"]


def test_json_and_report(tiny, tmp_path, monkeypatch):
    monkeypatch.setenv("CPPNN_BENCH_MODELS", str(tmp_path))
    monkeypatch.setitem(cpu_models.MODELS, "tiny", cpu_models.Model(
        "tiny", "torch", "tiny.onnx", "tiny CNN", "a test", lambda rng, b: feeds(b)))
    monkeypatch.setitem(cpu_models.MODELS, "absent", cpu_models.Model(
        "absent", "torch", "absent.onnx", "no file", "a test", lambda rng, b: feeds(b)))
    out = tmp_path / "cpu_test.json"
    assert bench_cpu.main(["--models", "tiny,absent", "--batches", "1,2", "--threads", "1,2",
                           "--rounds", "2", "--round-seconds", "0.005", "--min-iters", "2",
                           "--out", str(out)]) == 0
    doc = json.loads(out.read_text())
    m = doc["machine"]
    for key in ("cpu", "cores", "onnxruntime", "cppnn_commit", "loadavg_start", "loadavg_end"):
        assert key in m, key
    assert doc["settings"]["threads"] == [1, 2] and doc["settings"]["batches"] == [1, 2]
    ok = [r for r in doc["rows"] if r["model"] == "tiny"]
    assert sorted((r["batch"], r["threads"]) for r in ok) == [(1, 1), (1, 2), (2, 1), (2, 2)]
    assert all(r["status"] == "ok" and r["correct"] for r in ok)
    missing = [r for r in doc["rows"] if r["model"] == "absent"]
    assert len(missing) == 4 and all(r["status"] == "missing" for r in missing)
    info = doc["models"]["tiny"]["files"][str(tmp_path / "tiny.onnx")]
    assert info["params"] == 4 * 3 * 9 + 4 + 20 + 5 and info["bytes"] > 0
    md = bench_cpu.report([doc])
    lines = md.splitlines()
    assert any(ln.startswith("| tiny |") for ln in lines), md
    assert any(ln.startswith("| geometric mean |") for ln in lines), md
    assert "Thread scaling" in md and any(ln.startswith("| tiny | 2 |") for ln in lines), md
    assert "absent batch 1: file:" in md
    # Every row of a table has as many cells as its header.
    for block in md.split("\n\n"):
        rows = [ln for ln in block.splitlines() if ln.startswith("|")]
        if rows:
            assert len({ln.count("|") for ln in rows}) == 1, block
    # A second file of the same machine merges in: its case replaces the first file's.
    out2 = tmp_path / "cpu_test_2.json"
    assert bench_cpu.main(["--models", "tiny", "--batches", "2", "--threads", "2", "--rounds", "1",
                           "--round-seconds", "0.005", "--min-iters", "2", "--out", str(out2)]) == 0
    doc2 = json.loads(out2.read_text())
    merged = bench_cpu.merge([doc, doc2])
    assert len(merged) == 1 and len(merged[0]["rows"]) == len(doc["rows"])
    again = [r for r in merged[0]["rows"] if (r["model"], r["batch"], r["threads"]) == ("tiny", 2, 2)]
    assert again == [r for r in doc2["rows"]]
    assert bench_cpu.main(["--report", str(out), str(out2), "--merged", str(tmp_path / "m.json")]) == 0
    assert json.loads((tmp_path / "m.json").read_text())["rows"] == merged[0]["rows"]
    # A case skipped for the budget reads "not run", neither a failure nor a scaling verdict,
    # and the geometric mean counts the cases that ran.
    skipped = json.loads(json.dumps(doc))
    skipped["rows"] = [r for r in skipped["rows"] if not (r["model"] == "tiny" and r["batch"] == 2)]
    skipped["rows"] += [{"model": "tiny", "batch": 2, "threads": t, "status": "skipped",
                         "errors": {"budget": "not started"}} for t in (1, 2)]
    md = bench_cpu.report([skipped])
    row = next(ln for ln in md.splitlines() if ln.startswith("| tiny |"))
    assert "not run" in row and "fails" not in row, md
    assert any(ln.startswith("| tiny | 2 |") and ln.endswith("not measured |") for ln in md.splitlines()), md
    assert "(0/1 <= 0.8)" in md or "(1/1 <= 0.8)" in md, md


def test_merge_prefers_the_quieter_run_when_asked():
    def doc(busy, ms):
        return {"date": "d", "machine": {"cpu": "x", "cores": 2, "onnxruntime": "1", "cppnn_commit": "c"}, "settings": {}, "models": {},
                "rows": [{"model": "resnet18", "batch": 1, "threads": 2, "others_busy_cores": busy,
                          "ort_ms": ms, "cppnn_ms": ms, "ratio": 1.0, "errors": {}}]}
    quiet, loaded = doc(0.0, 10.0), doc(2.0, 30.0)
    assert bench_cpu.merge([quiet, loaded])[0]["rows"][0]["ort_ms"] == 30.0
    assert bench_cpu.merge([quiet, loaded], prefer_quiet=True)[0]["rows"][0]["ort_ms"] == 10.0
    assert bench_cpu.merge([loaded, quiet], prefer_quiet=True)[0]["rows"][0]["ort_ms"] == 10.0
    # The times decide where there are some: a case that started idle can be loaded later.
    late = doc(0.0, 40.0)
    assert bench_cpu.merge([loaded, late], prefer_quiet=True)[0]["rows"][0]["ort_ms"] == 30.0
    md = bench_cpu.report(bench_cpu.merge([loaded]))
    assert "1.00 \u2020" in md and "\u2020: other processes" in md
    assert "\u2020" not in bench_cpu.report(bench_cpu.merge([quiet]))


def test_the_command_line_mode_times_and_checks_the_same_case(tiny):
    """--cppnn-cli: cppnn's rounds are `cppnn run` processes on the same .npy inputs, and its
    saved outputs are checked against ONNX Runtime's like the package's."""
    import os
    tool = pathlib.Path(os.environ.get("CPPNN_BUILD", ROOT / "build")) / "cppnn"
    if not tool.exists():
        pytest.skip(f"{tool} is not built")
    runner = bench_cpu.CliRunner(tool)
    row = bench_cpu.bench_case_cli("tiny", tiny, feeds(2), 2, 1, runner, rounds=2, round_s=0.005,
                                   min_iters=2)
    assert row["status"] == "ok" and row["errors"] == {}, row
    assert row["cppnn_via"] == "cli" and row["correct"] is True and row["rel_l2"] < 1e-5, row
    for rt in ("ort", "cppnn"):
        assert len(row[f"{rt}_round_ms"]) == 2 and row[f"{rt}_ms"] == min(row[f"{rt}_round_ms"])
    # A file the tool cannot load is a recorded failure, not an exception.
    bad = tiny.parent / "bad.onnx"
    bad.write_bytes(tiny.read_bytes()[:100])
    row = bench_cpu.bench_case_cli("bad", bad, feeds(2), 2, 1, runner, rounds=1, round_s=0.005,
                                   min_iters=1)
    assert row["status"] != "ok"
