"""The README's first command: examples/ocr_demo.py (`make demo`) reads back the sentence it
rendered, with real pretrained models (PP-OCRv4 det + rec from the rapidocr-onnxruntime
wheel; scripts/fetch_pretrained.py puts them in build/pretrained, `make test` and `make demo`
fetch them first). The text read must be exactly the text rendered, and ONNX Runtime running
the same models on the same inputs (the detector's image, each recognizer crop) must find the
same boxes and read the same text."""
import os
import pathlib
import re
import subprocess
import sys

import numpy as np
import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
PRETRAINED = pathlib.Path(os.environ.get("CPPNN_PRETRAINED",
                                         pathlib.Path(os.environ.get("CPPNN_BUILD", ROOT / "build"))
                                         / "pretrained"))
RAPIDOCR = PRETRAINED / "rapidocr"

sys.path.insert(0, str(ROOT / "examples"))
import ocr  # noqa: E402
import ocr_demo  # noqa: E402

# Different words, digits and punctuation; each reads back exactly on ONNX Runtime too.
SENTENCES = ["WebNN runs here 42", "Pack my box with 5 dozen jugs", "OCR on 2 cores, 7 ms"]


def need_models():
    missing = [f for f in (ocr.DET, ocr.REC) if not (RAPIDOCR / f).is_file()]
    if missing:
        pytest.skip(f"{', '.join(missing)} not in {RAPIDOCR}: run `make pretrained` "
                    f"(make test and make demo do)")


def _context(backend):
    import webnn
    c = webnn.ML().create_context(accelerated=backend == "gpu")
    if backend == "gpu" and c.backend != "cuda":
        pytest.skip(f"no CUDA backend here ({c.backend_reason})")
    return c


@pytest.fixture(scope="module", params=["cpu", "gpu"])
def backend(request):
    """The CPU everywhere; the GPU where there is one (the GPU machine runs this file too)."""
    need_models()
    _context(request.param)
    return request.param


def run_demo(*args):
    return subprocess.run([sys.executable, str(ROOT / "examples" / "ocr_demo.py"), *args],
                          capture_output=True, text=True, timeout=600,
                          env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})


def test_demo_prints_the_default_sentence_backend_and_latency(backend):
    """What `make demo` prints: the default sentence read back, the backend, each stage's
    latency (import+compile, first run, warm median), exit status 0."""
    res = run_demo("--models", str(RAPIDOCR), "--repeat", "2", *(["--cpu"] if backend == "cpu" else []))
    assert res.returncode == 0, res.stdout + res.stderr
    out = res.stdout
    assert f'read       "{ocr_demo.DEFAULT_TEXT}" (1 box, confidence' in out, out
    assert "result     the text read is the text rendered" in out, out
    want = "cuda"
    if backend == "cpu":  # passive unless the caller chose a policy (see ocr_demo.py)
        want = (rf"cpu, {len(os.sched_getaffinity(0))} threads?, "
                rf"OMP_WAIT_POLICY={os.environ.get('OMP_WAIT_POLICY', 'passive')}")
    assert re.search(rf"^backend    {want} \(", out, re.M), out
    assert "warm (median of 2)" in out, out
    for stage in ("detect", "recognize", "end to end"):
        m = re.search(rf"^  {stage} +([0-9.]+) ms +([0-9.]+) ms +([0-9.]+) ms$", out, re.M)
        assert m and all(float(v) > 0 for v in m.groups()), out


@pytest.mark.parametrize("text", SENTENCES)
def test_demo_reads_back_exactly_what_it_rendered(backend, text):
    res = run_demo("--models", str(RAPIDOCR), "--repeat", "0", "--text", text,
                   *(["--cpu"] if backend == "cpu" else []))
    assert res.returncode == 0, res.stdout + res.stderr
    read = re.search(r'^read       "(.*)" \(', res.stdout, re.M)
    assert read and read.group(1) == text, res.stdout


class Recorder:
    """Wraps a stage: keeps each input and cppnn's output."""

    def __init__(self, stage):
        self.stage, self.calls = stage, []

    def __getattr__(self, name):
        return getattr(self.stage, name)

    def __call__(self, x):
        y = self.stage(x)
        self.calls.append((x.copy(), y))
        return y


@pytest.mark.parametrize("text", SENTENCES[:2])
def test_same_boxes_and_text_as_onnxruntime_on_the_same_inputs(backend, text):
    """ONNX Runtime as the independent reference: the detector's input image and each crop the
    recognizer saw go through ONNX Runtime too; the probability maps give the same boxes, the
    recognizer's class probabilities agree and decode to the same text, which is the text
    rendered."""
    import onnxruntime as ort
    reader = ocr.Reader(RAPIDOCR, _context(backend), "cppnn", use_cls=False)
    reader.det, reader.rec = Recorder(reader.det), Recorder(reader.rec)
    lines = reader.read(ocr.render(text))
    assert [t for t, _, _ in lines] == [text]

    det = ort.InferenceSession(str(RAPIDOCR / ocr.DET), providers=["CPUExecutionProvider"])
    rec = ort.InferenceSession(str(RAPIDOCR / ocr.REC), providers=["CPUExecutionProvider"])
    [(x, got)] = reader.det.calls
    want = det.run(None, {"x": x})[0]
    assert got.shape == want.shape
    # A probability map (sigmoid): an absolute tolerance, and the same boxes from it.
    assert np.abs(got - want).max() < 2e-3, np.abs(got - want).max()
    assert ocr.text_boxes(got[0, 0]) == ocr.text_boxes(want[0, 0])
    assert len(reader.rec.calls) == len(lines)
    for (x, got), (line, _, _) in zip(reader.rec.calls, lines):
        want = rec.run(None, {"x": x})[0]
        assert got.shape == want.shape
        assert np.abs(got - want).max() < 1e-3, np.abs(got - want).max()
        assert ocr.ctc_greedy(want[0], reader.characters)[0] == line


def test_a_large_image_is_scaled_down_for_the_detector(backend):
    """PP-OCR's detector sees at most 960 pixels a side; its boxes are scaled back onto the
    image, where the recognizer reads them at full resolution."""
    text = "Scaled down to fit 960"
    reader = ocr.Reader(RAPIDOCR, _context(backend), "cppnn", use_cls=False)
    reader.det = Recorder(reader.det)
    image = ocr.render(text, height=160)
    assert max(image.size) > ocr.DET_MAX_SIDE
    lines = reader.read(image)
    [(x, _)] = reader.det.calls
    assert max(x.shape[2:]) <= ocr.DET_MAX_SIDE + 31
    assert [t for t, _, _ in lines] == [text]
    left, top, right, bottom = lines[0][2]
    assert 0 <= left < right <= image.width and 0 <= top < bottom <= image.height
    assert right - left > 0.9 * (image.width - 2 * 24)  # the whole line, in image pixels


def test_upside_down_text_is_turned_upright_with_cls(backend):
    """--cls: PP-OCR's direction classifier turns an upside-down box before it is read; read
    without it, the same box gives something else."""
    if not (RAPIDOCR / ocr.CLS).is_file():
        pytest.skip(f"{ocr.CLS} not in {RAPIDOCR}: run `make pretrained`")
    text = "Upside down 180"
    image = ocr.render(text).rotate(180)
    context = _context(backend)
    assert [t for t, _, _ in ocr.Reader(RAPIDOCR, context, use_cls=True).read(image)] == [text]
    assert [t for t, _, _ in ocr.Reader(RAPIDOCR, context, use_cls=False).read(image)] != [text]


def test_demo_exit_status_says_whether_the_text_was_read(monkeypatch, capsys, tmp_path):
    """1 when the text read is not the text rendered (a demo that misreads must not pass as
    one that works), 2 when the models are missing."""
    need_models()

    class Misreads(ocr.Reader):
        def read(self, image):
            super().read(image)
            return [("not it", 0.5, (0, 0, 1, 1))]

    monkeypatch.setattr(ocr, "Reader", Misreads)
    assert ocr_demo.main(["--models", str(RAPIDOCR), "--repeat", "0", "--engine", "onnxruntime"]) == 1
    assert "WRONG: not the text rendered" in capsys.readouterr().out
    assert ocr_demo.main(["--models", str(tmp_path)]) == 2
    assert "run `make pretrained`" in capsys.readouterr().err


def test_character_list_is_read_from_the_model_metadata():
    """The recognizer's dictionary ships in the ONNX file's metadata (key `character`): the
    demo's wire-format reader gives what the onnx package gives."""
    need_models()
    import onnx
    path = RAPIDOCR / ocr.REC
    want = {p.key: p.value for p in onnx.load(str(path), load_external_data=False).metadata_props}
    assert ocr.model_metadata(path) == want
    chars = ocr.character_list(path)
    assert chars[0] == "<blank>" and chars[-1] == " "
    assert len(chars) == len(want["character"].splitlines()) + 2
    for c in "WebNN42,":
        assert c in chars
