"""bench/gpu/bench_gpu.py without a GPU: the argument parsing, the targets, the report mode
(merge, stable subset, markdown table, PNG) on synthetic result files, the dynamic-shape
profile and feature detection, and, where PyTorch is installed, the plain-PyTorch GPT-2
decoder against itself (decode with a KV cache = prefill) and against transformers' GPT-2
with the same weights. The GPU run itself happens on the GPU machine (bench/gpu/run_bench.sh)."""
import importlib.util
import json
import math
import pathlib
import subprocess
import sys

import numpy as np
import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "bench" / "gpu" / "bench_gpu.py"


def _load():
    spec = importlib.util.spec_from_file_location("bench_gpu", SCRIPT)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


bg = _load()


# ---------------------------------------------------------------- arguments

def test_default_cases_cover_every_model_at_its_batches(monkeypatch):
    monkeypatch.delenv("OUT", raising=False)
    a = bg.parse_args(["--work", "/tmp/w"])
    assert a.case_list == [("bert_base", 1), ("bert_base", 32), ("resnet50", 1), ("resnet50", 32),
                           ("mobilenet_v2", 1), ("mobilenet_v2", 32), ("whisper_encoder", 1),
                           ("whisper_encoder", 8), ("gpt2_prefill", 1), ("gpt2_decode", 1)]
    assert a.precision_list == ["float16", "bfloat16"]
    assert a.out == "/tmp/w/gpu_bench.json"
    assert a.report is None and not a.profile


def test_out_defaults_to_the_out_folder(monkeypatch):
    monkeypatch.setenv("OUT", "/tmp/device-out")
    assert bg.parse_args([]).out == "/tmp/device-out/gpu_bench.json"


def test_models_and_batches_filter_the_defaults():
    a = bg.parse_args(["--models", "bert_base,whisper_encoder,gpt2_decode", "--batches", "1,8"])
    assert a.case_list == [("bert_base", 1), ("whisper_encoder", 1), ("whisper_encoder", 8),
                           ("gpt2_decode", 1)]
    a = bg.parse_args(["--models", "resnet50", "--batches", "32", "--precisions", "float16"])
    assert a.case_list == [("resnet50", 32)] and a.precision_list == ["float16"]


def test_cases_name_exact_pairs():
    a = bg.parse_args(["--cases", "gpt2_decode:4, bert_base:32"])
    assert a.case_list == [("gpt2_decode", 4), ("bert_base", 32)]


@pytest.mark.parametrize("argv", [
    ["--models", "gpt3"],
    ["--cases", "bert_base"],
    ["--cases", "bert_base:0"],
    ["--cases", "nope:1"],
    ["--models", "gpt2_prefill", "--batches", "32"],  # nothing left
    ["--precisions", "float8"],
    ["--iters", "0"],
])
def test_bad_arguments_exit_with_a_message(argv, capsys):
    with pytest.raises(SystemExit) as e:
        bg.parse_args(argv)
    assert e.value.code == 2
    assert "error:" in capsys.readouterr().err


def test_targets_from_the_issue():
    assert bg.target_of("bert_base", 1) == 0.7 and bg.target_of("bert_base", 32) == 0.7
    assert bg.target_of("resnet50", 32) == 0.6
    assert bg.target_of("mobilenet_v2", 1) == 0.5 and bg.target_of("mobilenet_v2", 32) == 0.6
    assert bg.target_of("whisper_encoder", 8) == 0.8
    assert bg.target_of("gpt2_prefill", 1) == 0.8 and bg.target_of("gpt2_decode", 1) == 0.8
    assert bg.target_of("unknown", 1) is None


def test_rel_err_is_relative_l2_and_max_abs():
    ref = np.array([3.0, 4.0])
    r = bg.rel_err(np.array([3.0, 4.5]), ref)
    assert r["rel_l2"] == pytest.approx(0.5 / 5.0)
    assert r["max_abs"] == pytest.approx(0.5) and r["finite"]
    assert not bg.rel_err(np.array([np.inf, 4.0]), ref)["finite"]
    with pytest.raises(ValueError):
        bg.rel_err(np.zeros(3), ref)


# ---------------------------------------------------------------- feature detection

class _FakeBuild:
    def __init__(self, doc):
        self.__doc__ = doc

    def __call__(self, *a, **k):
        raise AssertionError("not called")


class _FakeWebnn:
    def __init__(self, doc):
        self.Engine = type("Engine", (), {"build": _FakeBuild(doc)})


def test_profile_engines_are_detected_from_the_signature():
    today = "build(graph: webnn._webnn.MLGraph, precision: str = 'float32') -> webnn._webnn.Engine"
    later = ("build(graph: webnn._webnn.MLGraph, precision: str = 'float32', shapes: "
             "dict | None = None) -> webnn._webnn.Engine")
    assert not bg.engine_build_accepts(_FakeWebnn(today), "shapes")
    assert bg.engine_build_accepts(_FakeWebnn(later), "shapes")


def test_profile_shapes_vary_only_the_dynamic_axes():
    class S:
        dynamic_axes = {"input_ids": {0: "batch", 1: "seq"}, "past_key_0": {0: "batch", 2: "past"},
                        "input": {0: "batch"}}
    x = {"input_ids": np.zeros((32, 128)), "past_key_0": np.zeros((1, 12, 511, 64)),
         "input": np.zeros((1, 3, 224, 224)), "fixed": np.zeros((2, 5))}
    p = bg.profile_shapes(S, 32, x)
    assert p["input_ids"] == ((1, 1), (32, 128), (32, 512))
    assert p["past_key_0"] == ((1, 12, 1, 64), (1, 12, 511, 64), (32, 12, 1023, 64))
    assert p["input"] == ((1, 3, 224, 224), (1, 3, 224, 224), (32, 3, 224, 224))
    assert p["fixed"] == ((2, 5), (2, 5), (2, 5))


# ---------------------------------------------------------------- report mode

def _case(model, batch, eager, comp, cppnn, **extra):
    c = {"model": model, "batch": batch, "label": bg.MODELS[model]["label"], "cppnn_backend": "cuda",
         "ms": {"eager_graph_float16": eager, "compile_float16": comp, "cppnn_float16": cppnn,
                "cppnn_mltensor_float16": cppnn * 0.9 if cppnn else None,
                "eager_graph_bfloat16": eager * 1.01 if eager else None},
         "status": {"cppnn_bfloat16": "not available (Engine.build: precision ...)",
                    "cppnn_profile_float16": "not available (Engine.build has no shapes=)",
                    "compile_bfloat16": "not run"},
         "accuracy": {"eager_graph_float16": {"rel_l2": 1.1e-3, "max_abs": 0.01},
                      "compile_float16": {"rel_l2": 1.2e-3, "max_abs": 0.01},
                      "cppnn_float16": {"rel_l2": 2.34567e-3, "max_abs": 0.02}},
         "compile_s": {"compile_float16": 41.234},
         "jit": {"cold": {"compile_ms": 251.7, "context_ms": 80.0}, "warm": {"compile_ms": 140.2}},
         "errors": []}
    for k, v in {k: v for k, v in c["ms"].items() if v is None}.items():
        del c["ms"][k]
    c.update(extra)
    return c


def _doc(date, gpu, results):
    return {"date": date, "machine": {"gpu": gpu, "torch": "2.11.0", "cppnn_commit": "abc1234"},
            "results": results}


def test_report_ratio_is_against_the_faster_peer_and_later_files_win(tmp_path):
    first = _doc("2026-12-07 12:00 UTC", "NVIDIA H100 80GB HBM3", [
        _case("bert_base", 1, 0.76, 0.887, 1.001),
        _case("resnet50", 32, 3.613, 1.648, 1.156),
        {"model": "whisper_encoder", "batch": 8, "skipped": "time budget"},
    ])
    second = _doc("2026-12-07 12:30 UTC", "NVIDIA H100 80GB HBM3", [
        _case("bert_base", 1, 0.80, 0.70, 0.42),  # replaces the first file's bert_base b1
        _case("mobilenet_v2", 1, 0.573, 0.531, 0.275),
        _case("gpt2_decode", 1, None, None, 2.0,
              status={"eager_graph_float16": "failed: RuntimeError: capture"}),
    ])
    rep = bg.report([first, second])
    rows = {(r["model"], r["batch"]): r for r in rep["rows"]}
    # MODELS order, then batch; the skipped case has no row
    assert [(r["model"], r["batch"]) for r in rep["rows"]] == [
        ("bert_base", 1), ("resnet50", 32), ("mobilenet_v2", 1), ("gpt2_decode", 1)]
    b = rows[("bert_base", 1)]
    assert b["cppnn_over_best_peer"] == pytest.approx(0.42 / 0.70, abs=1e-3)
    assert b["best_peer"] == "compile" and b["meets_target"] is True and b["date"].startswith("2026-12-07 12:30")
    assert b["cppnn_over_compile"] == pytest.approx(0.42 / 0.70, abs=1e-3)
    assert b["cppnn_over_eager_graph"] == pytest.approx(0.42 / 0.80, abs=1e-3)
    r = rows[("resnet50", 32)]
    assert r["cppnn_over_best_peer"] == pytest.approx(1.156 / 1.648, abs=1e-3)
    assert r["meets_target"] is False and r["target"] == 0.6
    m = rows[("mobilenet_v2", 1)]
    assert m["cppnn_over_best_peer"] == pytest.approx(0.275 / 0.531, abs=1e-3) and m["target"] == 0.5
    g = rows[("gpt2_decode", 1)]
    assert g["cppnn_over_best_peer"] is None and g["meets_target"] is None
    assert g["eager_graph_fp16_ms"] is None and g["cppnn_fp16_ms"] == 2.0
    assert b["cppnn_bf16_ms"] == "not available" and b["cppnn_profile_fp16_ms"] == "not available"
    assert b["rel_l2_cppnn_fp16"] == 2.3e-3 and b["rel_l2_torch_fp16"] == 1.2e-3
    assert b["jit_cold_ms"] == 251.7 and b["jit_warm_ms"] == 140.2 and b["torch_compile_s"] == 41.2
    assert rep["gpus"] == ["NVIDIA H100 80GB HBM3"] and len(rep["runs"]) == 2

    md = bg.markdown(rep).splitlines()
    assert md[0].startswith("| model | batch | eager + CUDA graph (ms) | torch.compile r-o (ms) | cppnn (ms)")
    assert len(md) == 2 + 4
    assert "| BERT-base, seq 128 | 1 | 0.800 | 0.700 | 0.420 | 0.60 | <= 0.7 | 1.2e-03 / 2.3e-03 |" in md
    assert "| ResNet-50 | 32 | 3.613 | 1.648 | 1.156 | 0.70 (above) | <= 0.6 |" in md[3]
    assert "| - | - | 2.000 | - | <= 0.8 |" in md[5]
    extra = bg.extra_table(rep)
    assert "| bert_base | 1 | 0.378 | n/a | 0.808 / n/a | 252 / 140 | 41.2 |" in extra


def test_report_mode_writes_the_subset_and_the_plot(tmp_path):
    a = tmp_path / "a.json"
    b = tmp_path / "b.json"
    a.write_text(json.dumps(_doc("2026-12-07 12:00 UTC", "NVIDIA H200", [
        _case("bert_base", 32, 2.18, 2.055, 4.485)])))
    b.write_text(json.dumps(_doc("2026-12-07 12:10 UTC", "NVIDIA H200", [
        _case("whisper_encoder", 1, 1.0, 0.958, 1.502)])))
    results = tmp_path / "out" / "gpu_transformers.json"
    p = subprocess.run([sys.executable, str(SCRIPT), "--report", str(a), str(b), "--results",
                        str(results), "--readme-table"], capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    saved = json.loads(results.read_text())
    assert [(r["model"], r["batch"]) for r in saved["rows"]] == [("bert_base", 32), ("whisper_encoder", 1)]
    assert saved["rows"][0]["cppnn_over_best_peer"] == pytest.approx(4.485 / 2.055, abs=1e-3)
    assert "| BERT-base, seq 128 | 32 | 2.180 | 2.055 | 4.485 | 2.18 (above) | <= 0.7 |" in p.stdout
    assert "above target: bert_base b32" in p.stderr
    png = results.with_suffix(".png")
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        assert not png.exists() and "no matplotlib" in p.stdout
        return
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 5000


def test_report_takes_its_own_results_file_and_later_runs_replace_its_rows():
    earlier = bg.report([_doc("2026-12-07 10:00 UTC", "NVIDIA H100 80GB HBM3", [
        _case("bert_base", 1, 0.76, 0.887, 1.001), _case("gpt2_decode", 1, 0.717, 0.837, 2.725)])])
    earlier = json.loads(json.dumps(earlier))  # as read back from bench/results
    later = _doc("2026-12-08 00:00 UTC", "NVIDIA H100 80GB HBM3", [
        _case("gpt2_decode", 1, 0.721, 1.113, 1.155)])
    later["results"][0]["ms"]["cppnn_dlpack_float16"] = 2.4
    later["results"][0]["cppnn_io"] = {"float16": ["float16", "int64"]}
    rep = bg.report([earlier, later])
    rows = {(r["model"], r["batch"]): r for r in rep["rows"]}
    assert rows[("bert_base", 1)]["cppnn_fp16_ms"] == 1.001  # kept as it was
    g = rows[("gpt2_decode", 1)]
    assert g["cppnn_fp16_ms"] == 1.155 and g["cppnn_dlpack_fp16_ms"] == 2.4
    assert g["cppnn_io_fp16"] == ["float16", "int64"]
    assert g["cppnn_over_best_peer"] == pytest.approx(1.155 / 0.721, abs=1e-3)
    assert len(rep["runs"]) == 2


def test_report_keeps_a_variant_beside_the_default(tmp_path):
    plain = _case("gpt2_decode", 1, 1.0, 0.9, 0.8)
    add = _case("gpt2_decode", 1, 1.0, 0.9, 0.6, variant="add mask",
                label=bg.MODELS["gpt2_decode"]["label"] + ", add mask")
    rep = bg.report([_doc("d", "H100", [plain]), _doc("d", "H100", [add])])
    assert [(r["variant"], r["cppnn_fp16_ms"]) for r in rep["rows"]] == [(None, 0.8), ("add mask", 0.6)]
    assert "(past 511), add mask | 1 |" in bg.markdown(rep)
    assert "| gpt2_decode (add mask) | 1 |" in bg.extra_table(rep)


def test_report_warns_when_runs_come_from_different_gpus(tmp_path, capsys):
    a = tmp_path / "a.json"
    b = tmp_path / "b.json"
    a.write_text(json.dumps(_doc("d1", "NVIDIA H100 80GB HBM3", [_case("bert_base", 1, 1, 1, 1)])))
    b.write_text(json.dumps(_doc("d2", "NVIDIA H200", [_case("bert_base", 32, 1, 1, 1)])))
    assert bg.main(["--report", str(a), str(b), "--no-write"]) == 0
    assert "different GPUs" in capsys.readouterr().err


# ---------------------------------------------------------------- the GPT-2 module (PyTorch)

SMALL = {"n_layer": 2, "n_embd": 64, "n_head": 4, "vocab": 101, "n_positions": 32}


@pytest.fixture(scope="module")
def gpt2():
    torch = pytest.importorskip("torch")
    GPT2Decoder, Prefill, Decode = bg.gpt2_modules()
    torch.manual_seed(0)
    model = GPT2Decoder(SMALL).double().eval()
    return torch, model, Prefill, Decode


def test_gpt2_decode_with_the_kv_cache_equals_the_prefill(gpt2):
    torch, model, Prefill, Decode = gpt2
    ids = torch.randint(0, SMALL["vocab"], (2, 12), generator=torch.Generator().manual_seed(3))
    with torch.no_grad():
        full = Prefill(model)(ids)
        part = Prefill(model)(ids[:, :-1])
        step = Decode(model)(ids[:, -1:], *part[1:])
    assert len(full) == 1 + 2 * SMALL["n_layer"]
    assert full[0].shape == (2, 12, SMALL["vocab"]) and step[0].shape == (2, 1, SMALL["vocab"])
    assert step[1].shape == (2, SMALL["n_head"], 12, SMALL["n_embd"] // SMALL["n_head"])
    torch.testing.assert_close(step[0][:, 0], full[0][:, -1], rtol=1e-10, atol=1e-10)
    for s, f in zip(step[1:], full[1:]):  # present keys / values of the step = the prefill's
        torch.testing.assert_close(s, f, rtol=1e-10, atol=1e-10)


def test_gpt2_additive_mask_computes_the_same(gpt2):
    torch, model, Prefill, Decode = gpt2
    GPT2Decoder, _, _ = bg.gpt2_modules()
    add = GPT2Decoder(dict(SMALL, mask="add")).double().eval()
    add.load_state_dict(model.state_dict())  # the masks are buffers outside the state dict
    assert add.h[0].attn.additive and not model.h[0].attn.additive
    ids = torch.randint(0, SMALL["vocab"], (2, 9), generator=torch.Generator().manual_seed(6))
    with torch.no_grad():
        a, b = Prefill(model)(ids[:, :-1]), Prefill(add)(ids[:, :-1])
        sa, sb = Decode(model)(ids[:, -1:], *a[1:]), Decode(add)(ids[:, -1:], *b[1:])
    torch.testing.assert_close(a[0], b[0], rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(sa[0], sb[0], rtol=1e-12, atol=1e-12)


def test_gpt2_is_causal(gpt2):
    torch, model, Prefill, _ = gpt2
    ids = torch.randint(0, SMALL["vocab"], (1, 10), generator=torch.Generator().manual_seed(4))
    later = ids.clone()
    later[0, 6:] = (later[0, 6:] + 1) % SMALL["vocab"]
    with torch.no_grad():
        a, b = Prefill(model)(ids)[0], Prefill(model)(later)[0]
    torch.testing.assert_close(a[:, :6], b[:, :6], rtol=1e-12, atol=1e-12)
    assert not torch.allclose(a[:, 6:], b[:, 6:])


def test_gpt2_matches_transformers_gpt2_with_the_same_weights(gpt2):
    torch, model, Prefill, _ = gpt2
    transformers = pytest.importorskip("transformers")
    cfg = transformers.GPT2Config(vocab_size=SMALL["vocab"], n_positions=SMALL["n_positions"],
                                  n_embd=SMALL["n_embd"], n_layer=SMALL["n_layer"],
                                  n_head=SMALL["n_head"], activation_function="gelu_new",
                                  resid_pdrop=0.0, embd_pdrop=0.0, attn_pdrop=0.0)
    try:
        hf = transformers.GPT2LMHeadModel(cfg, attn_implementation="eager")
    except TypeError:
        hf = transformers.GPT2LMHeadModel(cfg)
    hf = hf.double().eval()
    # Ours: nn.Linear weight [out, in]; GPT-2's Conv1D: [in, out].
    sd = {}
    for k, v in model.state_dict().items():
        if k.startswith("lm_head"):
            continue
        t = v.t() if (k.endswith(".weight") and (".attn.c_" in k or ".mlp.c_" in k)) else v
        sd["transformer." + k] = t
    missing, unexpected = hf.load_state_dict(sd, strict=False)
    assert not unexpected and all(k.endswith(("attn.bias", "masked_bias", "lm_head.weight"))
                                  for k in missing), missing
    ids = torch.randint(0, SMALL["vocab"], (2, 16), generator=torch.Generator().manual_seed(5))
    with torch.no_grad():
        ours = Prefill(model)(ids)
        theirs = hf(ids, use_cache=True)
    torch.testing.assert_close(ours[0], theirs.logits, rtol=1e-9, atol=1e-9)
    assert math.isfinite(float(ours[0].abs().max()))
