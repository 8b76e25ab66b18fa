"""bench/gpu_report.py and the parts of tests/gpu/models_vs_torch.py that need no PyTorch and
no GPU: the parsing of `cppnn run`'s output, the argument parsing, the error and ratio
arithmetic, the table. The GPU run itself happens on the GPU machine (tests/gpu/run_torch.sh)."""
import importlib.util
import json
import math
import pathlib
import subprocess

import numpy as np
import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]


def _load(name, path):
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


mvt = _load("models_vs_torch", ROOT / "tests" / "gpu" / "models_vs_torch.py")
report = _load("gpu_report", ROOT / "bench" / "gpu_report.py")

# `cppnn run ../shared/models/mobilenet_v2.onnx --iterations 3` on the developer machine
# (no GPU driver, so the CPU backend), as the tool printed it.
CLI_CPU = """\
model    /work/shared/models/mobilenet_v2.onnx (100 nodes)
device   cpu (CUDA backend /work/main/build/libcppnn_cuda.so did not load: libcuda.so.1: cannot open shared object file: No such file or directory)
output   536 float32 [1, 1000]
top-5    570 (1.893e-09), 517 (1.773e-09), 108 (1.732e-09), 265 (1.643e-09), 490 (1.603e-09)   [first row]
context  0.6 ms (backend creation: CUDA context, libraries)
compile  913.6 ms
latency  median 32.220 ms, min 24.423 ms, p90 96.359 ms over 3 runs
"""

# The same lines as the CUDA backend prints them (device name in the reason, an output
# without top-k: BERT's int64-free float output still gets one, a 0-d one does not).
CLI_CUDA = """\
model    /tmp/cppnn-torch/bert_base-b1/bert_base-b1.onnx (666 nodes)
device   cuda (NVIDIA H100 80GB HBM3 (sm_90), driver 13.0, 132 SMs)
output   last_hidden_state float32 [1, 128, 768]
top-5    1 (3.2), 2 (3.1)   [first row]
compile  1243.0 ms
first    21.5 ms (the first compute: CUDA graph capture, kernels loaded on first use)
latency  median 3.064 ms, min 2.981 ms, p90 3.210 ms over 50 runs
"""

CLI_ERROR = "cppnn: NotSupportedError: ONNX file 'x.onnx': ONNX node 'n' (GatherND): " \
            "op type 'GatherND' is not supported\n"

HELP_WITH = """\
Options:
  --save TEXT                 write each output to DIR/NAME.npy
  --precision TEXT:{float32,float16}
                              float32, or float16
  --report                    print the backend's plan
"""
HELP_WITHOUT = """\
Options:
  --save TEXT                 write each output to DIR/NAME.npy
  --threads INT               CPU threads (0: all cores)
"""


def test_parse_cli_cpu_output():
    r = mvt.parse_cppnn_output(CLI_CPU)
    assert r["device"] == "cpu"
    assert r["device_reason"].startswith("CUDA backend") and "libcuda.so.1" in r["device_reason"]
    assert r["context_ms"] == 0.6
    assert r["compile_ms"] == 913.6
    assert r["first_ms"] is None  # an older tool prints no "first" line
    assert (r["median_ms"], r["min_ms"], r["p90_ms"], r["runs"]) == (32.22, 24.423, 96.359, 3)
    assert r["outputs"] == [{"name": "536", "dtype": "float32", "shape": [1, 1000]}]


def test_parse_cli_cuda_output():
    r = mvt.parse_cppnn_output(CLI_CUDA)
    assert r["device"] == "cuda"
    assert r["device_reason"] == "NVIDIA H100 80GB HBM3 (sm_90), driver 13.0, 132 SMs"
    assert r["context_ms"] is None
    assert r["compile_ms"] == 1243.0 and r["first_ms"] == 21.5
    assert r["median_ms"] == 3.064 and r["runs"] == 50
    assert r["outputs"][0]["shape"] == [1, 128, 768]


def test_parse_cli_error_output():
    r = mvt.parse_cppnn_output(CLI_ERROR)
    assert r["device"] is None and r["median_ms"] is None and r["outputs"] == []
    assert not mvt.rejected_option(CLI_ERROR)
    assert mvt.rejected_option("The following arguments were not expected: float16 --precision\n"
                               "Run with --help for more information.")


def test_parse_live_cli_output(cppnn_cli, shared_models):
    """The tool of this build still prints what the parser reads."""
    model = shared_models / "mobilenet_v2.onnx"
    if not model.exists():
        pytest.skip(f"{model} is missing")
    out = subprocess.run([str(cppnn_cli), "run", str(model), "--device", "cpu", "--iterations", "2",
                          "--warmup", "1"], capture_output=True, text=True, check=True).stdout
    r = mvt.parse_cppnn_output(out)
    assert r["device"] == "cpu"
    assert r["compile_ms"] > 0 and r["median_ms"] > 0 and r["runs"] == 2
    assert r["outputs"] == [{"name": "536", "dtype": "float32", "shape": [1, 1000]}]


def test_option_probe():
    assert mvt.option_in_help(HELP_WITH, "--precision")
    assert mvt.option_in_help(HELP_WITH, "--report")
    assert not mvt.option_in_help(HELP_WITHOUT, "--precision")
    assert not mvt.option_in_help("  --precisions TEXT\n", "--precision")


def test_args(tmp_path, monkeypatch):
    monkeypatch.setenv("OUT", str(tmp_path / "out"))
    a = mvt.parse_args(["--cppnn", "/x/cppnn", "--work", str(tmp_path)])
    assert a.model_list == ["mobilenet_v2", "resnet50", "bert_base"]
    assert a.batch_list == [1, 8]
    assert a.out == str(tmp_path / "out" / "gpu_models.json")
    assert a.torch_device == "cuda"
    assert mvt.cases(a.model_list, a.batch_list) == [
        ("mobilenet_v2", 1), ("mobilenet_v2", 8), ("resnet50", 1), ("resnet50", 8), ("bert_base", 1)]
    monkeypatch.delenv("OUT")
    a = mvt.parse_args(["--cppnn", "c", "--work", str(tmp_path), "--models", "bert_base,resnet50",
                        "--batches", "4"])
    assert a.out == str(tmp_path / "gpu_models.json")
    assert mvt.cases(a.model_list, a.batch_list) == [("bert_base", 1), ("resnet50", 4)]
    with pytest.raises(SystemExit):
        mvt.parse_args(["--cppnn", "c", "--models", "vgg16"])
    with pytest.raises(SystemExit):
        mvt.parse_args(["--cppnn", "c", "--batches", "one"])
    with pytest.raises(SystemExit):
        mvt.parse_args(["--work", str(tmp_path)])  # --cppnn is required


def test_error_metrics():
    b = np.array([3.0, 4.0], np.float32)  # ||b|| = 5
    a = np.array([3.0, 4.5], np.float32)
    e = mvt.rel_l2(a, b)
    assert e["rel_l2"] == pytest.approx(0.1)
    assert e["max_abs"] == pytest.approx(0.5)
    assert e["finite"]
    assert mvt.rel_l2(b, b)["rel_l2"] == 0.0
    assert not mvt.rel_l2(np.array([np.nan, 1.0]), b)["finite"]
    with pytest.raises(ValueError):
        mvt.rel_l2(np.zeros(3), b)
    assert mvt.ratio(3.0, 1.5) == 2.0
    assert mvt.ratio(None, 1.0) is None and mvt.ratio(1.0, 0.0) is None
    assert mvt.ratio(float("nan"), 1.0) is None


def _run(device, compile_ms, median_ms, **extra):
    return dict({"device": device, "device_reason": "x", "compile_ms": compile_ms,
                 "median_ms": median_ms, "min_ms": median_ms, "p90_ms": median_ms, "runs": 50,
                 "outputs": [], "rc": 0}, **extra)


def fabricated():
    """gpu_models.json as models_vs_torch.py writes it, with round numbers."""
    return {
        "date": "2026-11-24 10:00 UTC",
        "machine": {"gpu": "NVIDIA H100 80GB HBM3", "driver": "580.159.04", "torch": "2.11.0+cu130",
                    "torch_cuda": "13.0", "cudnn": 91300},
        "results": [
            {"model": "resnet50", "batch": 1, "errors": [],
             "export": {"method": "torchscript", "opset": 17},
             "torch": {"fp32_ms": 3.0, "fp16_ms": 1.2, "compile_ms": 2.0},
             "cppnn": {"cuda_cold": _run("cuda", 850.0, 1.6), "cuda_warm": _run("cuda", 4.25, 1.5, first_ms=30.04),
                       "cpu": _run("cpu", 30.0, 41.5), "fp16": _run("cuda", 900.0, 0.8)},
             "compare": {"cuda_cold": {"rel_l2": 3.4567e-7, "max_abs": 1.24e-6}}},
            {"model": "bert_base", "batch": 1, "errors": [],
             "export": {"method": "torchscript, eager attention", "opset": 17},
             "torch": {"fp32_ms": 4.0, "fp16_ms": 2.0},
             "cppnn": {"cuda_cold": _run("cuda", 2000.0, 5.0), "cuda_warm": _run("cuda", 120.0, 8.0),
                       "cpu": _run("cpu", 100.0, 60.0), "fp16": "not available"},
             "compare": {"cuda_cold": {"rel_l2": 1.0e-6, "max_abs": 2.0e-5}}},
            {"model": "mobilenet_v2", "batch": 8, "errors": ["cppnn fell back"],
             "export": {"method": "torchscript", "opset": 17},
             "torch": {"fp32_ms": 2.0},
             "cppnn": {"cuda_cold": _run("cpu", 40.0, 20.0), "cuda_warm": _run("cpu", 40.0, 20.0),
                       "cpu": _run("cpu", 40.0, 20.0), "fp16": "not available"},
             "compare": {"cuda_cold": {"rel_l2": 1e-7, "max_abs": 1e-12}}},
            {"model": "resnet50", "batch": 8, "skipped": "time budget", "errors": []},
        ],
    }


def test_report_rows_and_ratios():
    res = report.result(fabricated())
    assert res["gpu"] == "NVIDIA H100 80GB HBM3" and res["date"] == "2026-11-24"
    assert [(r["model"], r["batch"]) for r in res["rows"]] == [
        ("resnet50", 1), ("bert_base", 1), ("mobilenet_v2", 8)]  # the skipped one is left out
    rn, bert, mnv2 = res["rows"]
    # ResNet-50: the warm run's median is cppnn's number; torch 3.0 / cppnn 1.5 = 2.0
    assert rn["cppnn_cuda_ms"] == 1.5 and rn["torch_fp32_over_cppnn"] == 2.0
    assert rn["cppnn_fp16_ms"] == 0.8 and rn["torch_fp16_over_cppnn_fp16"] == 1.5
    assert (rn["jit_cold_ms"], rn["jit_warm_ms"]) == (850.0, 4.2)  # round(4.25, 1) -> 4.2
    assert rn["first_compute_warm_ms"] == 30.0
    assert rn["rel_l2_vs_torch"] == 3.5e-7 and rn["max_abs_vs_torch"] == 1.2e-6
    assert rn["torch_compile_ms"] == 2.0 and rn["cppnn_cpu_ms"] == 41.5
    # BERT: cppnn slower (4.0 / 8.0 = 0.5); fp16 not in the tool
    assert bert["torch_fp32_over_cppnn"] == 0.5
    assert bert["cppnn_fp16_ms"] == "not available" and bert["torch_fp16_over_cppnn_fp16"] is None
    assert bert["torch_compile_ms"] is None and bert["export"] == "torchscript, eager attention"
    # MobileNetV2 fell back to the CPU: no GPU numbers, no ratio
    assert mnv2["cppnn_device"] == "cpu"
    assert mnv2["cppnn_cuda_ms"] is None and mnv2["torch_fp32_over_cppnn"] is None
    assert mnv2["rel_l2_vs_torch"] is None and mnv2["jit_cold_ms"] is None
    assert mnv2["errors"] == 1


def test_report_markdown():
    md = report.markdown(report.result(fabricated())).splitlines()
    assert md[0].startswith("| model | batch | PyTorch fp32 (ms) | cppnn fp32 (ms) | PyTorch / cppnn |")
    assert set(md[1].replace(" ", "")) == set("|-")
    assert md[1].count("|") == md[0].count("|")
    assert md[2] == ("| resnet50 | 1 | 3.00 | 1.50 | 2.00 | 1.20 | 0.80 | 2.00 | 41.50 | "
                     "850 / 4.2 (+ 30) | 3.5e-07 |")
    assert md[3] == ("| bert_base | 1 | 4.00 | 8.00 | 0.50 | 2.00 | n/a | - | 60.00 | "
                     "2000 / 120 | 1.0e-06 |")
    assert md[4] == "| mobilenet_v2 | 8 | 2.00 | (ran on cpu) | - | - | n/a | - | 20.00 | - | - |"
    assert len(md) == 5


def test_report_main_writes_results(tmp_path, capsys):
    src = tmp_path / "gpu_models.json"
    src.write_text(json.dumps(fabricated()))
    out = tmp_path / "results" / "gpu.json"
    assert report.main([str(src), "--results", str(out)]) == 0
    written = json.loads(out.read_text())
    assert written == report.result(fabricated())
    assert written["rows"][0]["torch_fp32_over_cppnn"] == 2.0
    printed = capsys.readouterr()
    assert "| resnet50 | 1 | 3.00 | 1.50 | 2.00 |" in printed.out
    assert "mobilenet_v2 batch 8: cppnn ran on cpu" in printed.err
    report.main([str(src), "--results", str(tmp_path / "other.json"), "--no-write"])
    assert not (tmp_path / "other.json").exists()


def test_script_table_on_fabricated_results():
    """models_vs_torch.py's own end-of-run table takes the same results."""
    results = [r for r in fabricated()["results"] if "skipped" not in r]
    for r in results:
        t, c = r["torch"], r["cppnn"]
        gpu = c["cuda_warm"] if c["cuda_warm"]["device"] == "cuda" else None
        r["cppnn_cuda_ms"] = gpu["median_ms"] if gpu else None
        r["ratios"] = {"torch_fp32_over_cppnn": mvt.ratio(t.get("fp32_ms"), r["cppnn_cuda_ms"])}
    lines = mvt.table(results).splitlines()
    assert lines[0].split()[:2] == ["model", "batch"]
    assert len(lines) == 2 + len(results)
    rn = lines[2].split()
    assert rn[:4] == ["resnet50", "1", "cuda", "3.5e-07"] and "2.00" in rn
    assert "n/a" in lines[3].split()  # BERT: fp16 not available
    assert lines[4].split()[2] == "cpu"
    assert math.isclose(results[0]["ratios"]["torch_fp32_over_cppnn"], 2.0)
