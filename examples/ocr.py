"""Reads text out of an image with PP-OCR's pretrained models running on cppnn.

    python examples/ocr.py [--text "A line to read"] [--image FILE] [--models DIR] [--cpu]
                           [--no-cls] [--engine cppnn|onnxruntime]

Without --image it renders --text into an image with Pillow first, so the result can be
checked: the line printed should be the line rendered. The models are the ONNX files that
the rapidocr-onnxruntime wheel ships (scripts/fetch_pretrained.py puts them in
build/pretrained/rapidocr): PP-OCRv4 text detection (a DB segmentation map), the PP-OCR v2
direction classifier (upright or upside down), and PP-OCRv4 recognition (CTC over the 6,623
characters listed in the model's metadata, key `character`).

Pipeline (class Reader): detect -> boxes of text from the probability map -> crop each box ->
turn it upright if the classifier says so -> recognize -> greedy CTC decoding. Each stage
prints its latency and the backend it ran on (the GPU when there is one, else the CPU);
--engine onnxruntime runs the same pipeline on ONNX Runtime, the reference.
examples/ocr_demo.py (`make demo`) is this pipeline as the README's first command.

cppnn has no dynamic shapes yet: every input size is fixed when a model is loaded, so the
detector is loaded for the image's size (padded to a multiple of 32) and the recognizer once
per crop width bucket (a multiple of 64), each kept for reuse.
"""
import argparse
import pathlib
import sys
import time

import numpy as np
from PIL import Image, ImageDraw, ImageFont

ROOT = pathlib.Path(__file__).resolve().parents[1]
DEFAULT_MODELS = ROOT / "build" / "pretrained" / "rapidocr"
DET, CLS, REC = ("ch_PP-OCRv4_det_infer.onnx", "ch_ppocr_mobile_v2.0_cls_infer.onnx",
                 "ch_PP-OCRv4_rec_infer.onnx")
REC_HEIGHT, CLS_SHAPE, DET_MAX_SIDE = 48, (48, 192), 960


def render(text, height=48, margin=24):
    """Black text on white, one line, as an RGB image."""
    font = None
    for path in ("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",):
        if pathlib.Path(path).is_file():
            font = ImageFont.truetype(path, height)
    if font is None:
        try:  # Pillow >= 10.1 has a scalable font of its own
            font = ImageFont.load_default(size=height)
        except TypeError:
            sys.exit("ocr: no DejaVuSans.ttf and this Pillow has no scalable font of its own: "
                     "install fonts-dejavu-core (scripts/setup.sh does)")
    left, top, right, bottom = font.getbbox(text)
    image = Image.new("RGB", (right - left + 2 * margin, bottom - top + 2 * margin), "white")
    ImageDraw.Draw(image).text((margin - left, margin - top), text, font=font, fill="black")
    return image


def normalize(rgb):
    """HWC uint8 -> NCHW float32 in [-1, 1], as PP-OCR's models expect (mean = std = 0.5)."""
    x = (np.asarray(rgb, dtype=np.float32) / 255.0 - 0.5) / 0.5
    return np.ascontiguousarray(x.transpose(2, 0, 1)[None])


def _varint(data, i):
    value, shift = 0, 0
    while True:
        byte = data[i]
        value |= (byte & 0x7F) << shift
        i, shift = i + 1, shift + 7
        if byte < 0x80:
            return value, i


def model_metadata(path):
    """An ONNX file's metadata_props (ModelProto field 14) as a dict, read straight from the
    protobuf wire format: every other top-level field, the graph included, is skipped by its
    length, so this needs neither the onnx package (seconds to import) nor a parse of the
    weights."""
    data = pathlib.Path(path).read_bytes()
    try:
        return _metadata(data)
    except (IndexError, UnicodeDecodeError) as e:
        raise ValueError(f"{path}: not an ONNX model ({e})") from None


def _metadata(data):
    meta, i = {}, 0
    while i < len(data):
        tag, i = _varint(data, i)
        field, wire = tag >> 3, tag & 7
        if wire == 0:
            _, i = _varint(data, i)
        elif wire == 1 or wire == 5:
            i += 8 if wire == 1 else 4
        elif wire == 2:
            n, i = _varint(data, i)
            if field == 14:  # StringStringEntryProto: key = 1, value = 2
                entry, j, end = {}, i, i + n
                while j < end:
                    t, j = _varint(data, j)
                    m, j = _varint(data, j)
                    entry[t >> 3] = data[j:j + m].decode("utf-8")
                    j += m
                meta[entry.get(1, "")] = entry.get(2, "")
            i += n
        else:
            raise IndexError(f"protobuf wire type {wire} at byte {i}")
    if i != len(data):
        raise IndexError("truncated")
    return meta


def character_list(path):
    """The recognizer's classes: CTC blank, the characters in its metadata, and a space."""
    return ["<blank>"] + model_metadata(path)["character"].splitlines() + [" "]


class Stage:
    """One model on cppnn: its graphs by input shape (imported and compiled on first use, since
    cppnn fixes every input size at load time) and the time each part took."""

    def __init__(self, context, path, name, dims_for):
        self.context, self.path, self.name, self.dims_for = context, path, name, dims_for
        self.graphs, self.load_ms, self.compile_ms, self.run_ms = {}, 0.0, 0.0, []

    def __call__(self, x):
        key = x.shape
        if key not in self.graphs:
            import webnn
            start = time.perf_counter()
            graph = webnn.load_onnx(str(self.path), dim_values=self.dims_for(x.shape))
            loaded = time.perf_counter()
            self.context.compile(graph)  # for this context's backend, ahead of the first run
            self.graphs[key] = graph
            self.load_ms += (loaded - start) * 1e3
            self.compile_ms += (time.perf_counter() - loaded) * 1e3
        start = time.perf_counter()
        out = self.context.compute(self.graphs[key], {"x": x})
        self.run_ms.append((time.perf_counter() - start) * 1e3)
        return next(iter(out.values()))


class OrtStage:
    """The same model on ONNX Runtime's CPU provider (the reference: --engine onnxruntime)."""

    def __init__(self, path, name):
        self.path, self.name, self.session = path, name, None
        self.load_ms, self.compile_ms, self.run_ms = 0.0, 0.0, []

    def __call__(self, x):
        if self.session is None:
            import onnxruntime
            start = time.perf_counter()
            self.session = onnxruntime.InferenceSession(str(self.path),
                                                        providers=["CPUExecutionProvider"])
            self.load_ms += (time.perf_counter() - start) * 1e3
        start = time.perf_counter()
        out = self.session.run(None, {"x": x})[0]
        self.run_ms.append((time.perf_counter() - start) * 1e3)
        return out


def text_boxes(prob, threshold=0.3, min_area=16):
    """Boxes (top, bottom, left, right) of the text regions in the detector's probability map:
    rows with text make bands (lines), each band's columns split where a gap is wider than the
    band is high; each box then grows by DB's unclip distance (area * 1.6 / perimeter), since
    the detector marks a shrunk core of each text region."""
    mask = prob > threshold
    boxes = []
    rows = np.flatnonzero(mask.any(axis=1))
    for band in np.split(rows, np.flatnonzero(np.diff(rows) > 1) + 1) if rows.size else []:
        top, bottom = band[0], band[-1] + 1
        cols = np.flatnonzero(mask[top:bottom].any(axis=0))
        gap = max(2, bottom - top)
        for run in np.split(cols, np.flatnonzero(np.diff(cols) > gap) + 1):
            left, right = run[0], run[-1] + 1
            h, w = bottom - top, right - left
            if h * w < min_area:
                continue
            d = int(round(h * w * 1.6 / (2 * (h + w))))
            boxes.append((max(0, top - d), min(prob.shape[0], bottom + d),
                          max(0, left - d), min(prob.shape[1], right + d)))
    return boxes


def ctc_greedy(probs, characters):
    """Best class per step; repeats merged, blanks dropped; the mean probability kept."""
    best = probs.argmax(axis=1)
    text, scores, previous = [], [], -1
    for step, c in enumerate(best):
        if c != previous and c != 0:
            text.append(characters[c] if c < len(characters) else "?")
            scores.append(float(probs[step, c]))
        previous = c
    return "".join(text), (float(np.mean(scores)) if scores else 0.0)


class Reader:
    """The pipeline, its models loaded once: read(image) -> [(text, confidence, box)].
    engine 'cppnn' runs the models on context; 'onnxruntime' on ONNX Runtime's CPU provider."""

    def __init__(self, models, context=None, engine="cppnn", use_cls=True):
        models = pathlib.Path(models)
        if engine == "cppnn":
            # Unnamed dimensions (-1, '?') are named "<input>:<index>".
            self.det = Stage(context, models / DET, "detect",
                             lambda s: {"p2o.DynamicDimension.0": s[0], "p2o.DynamicDimension.1": s[2],
                                        "p2o.DynamicDimension.2": s[3]})
            self.cls = Stage(context, models / CLS, "classify",
                             lambda s: {"x:0": s[0], "x:2": s[2], "x:3": s[3]})
            self.rec = Stage(context, models / REC, "recognize",
                             lambda s: {"p2o.DynamicDimension.0": s[0], "x:2": s[2],
                                        "p2o.DynamicDimension.1": s[3]})
        else:
            self.det, self.cls, self.rec = (OrtStage(models / DET, "detect"),
                                            OrtStage(models / CLS, "classify"),
                                            OrtStage(models / REC, "recognize"))
        self.stages = [self.det, self.cls, self.rec] if use_cls else [self.det, self.rec]
        self.use_cls = use_cls
        self.characters = character_list(models / REC)
        self.post_ms = []  # numpy/Pillow pre- and post-processing time, per read()

    def detect(self, image):
        """Text boxes (left, top, right, bottom) in image. The detector sees the image scaled
        down to at most DET_MAX_SIDE pixels a side (PP-OCR's limit) and padded (white) to
        multiples of 32; its boxes are scaled back."""
        start = time.perf_counter()
        scale = min(1.0, DET_MAX_SIDE / max(image.size))
        small = image if scale == 1.0 else image.resize(
            (max(1, round(image.width * scale)), max(1, round(image.height * scale))))
        w, h = small.size
        padded = Image.new("RGB", ((w + 31) // 32 * 32, (h + 31) // 32 * 32), "white")
        padded.paste(small, (0, 0))
        x = normalize(padded)
        self._post += (time.perf_counter() - start) * 1e3
        prob = self.det(x)[0, 0, :h, :w]
        start = time.perf_counter()
        boxes = [(min(image.width, round(left / scale)), min(image.height, round(top / scale)),
                  min(image.width, round(right / scale)), min(image.height, round(bottom / scale)))
                 for top, bottom, left, right in text_boxes(prob)]
        self._post += (time.perf_counter() - start) * 1e3
        return boxes

    def recognizer_input(self, crop):
        """The crop scaled to REC_HEIGHT rows, normalized, zero-padded to a width bucket."""
        width = max(1, round(crop.width * REC_HEIGHT / crop.height))
        bucket = (width + 63) // 64 * 64
        canvas = Image.new("RGB", (bucket, REC_HEIGHT), "black")
        canvas.paste(crop.resize((width, REC_HEIGHT)), (0, 0))
        x = normalize(canvas)
        x[..., width:] = 0.0  # PP-OCR pads recognizer input with zeros after normalizing
        return x

    def upright(self, crop):
        small = crop.resize((min(CLS_SHAPE[1], max(1, round(crop.width * CLS_SHAPE[0] / crop.height))),
                             CLS_SHAPE[0]))
        canvas = Image.new("RGB", (CLS_SHAPE[1], CLS_SHAPE[0]), "black")
        canvas.paste(small, (0, 0))
        p = self.cls(normalize(canvas))[0]
        return crop.rotate(180) if p[1] > p[0] and p[1] > 0.9 else crop  # labels '0' and '180'

    def read(self, image):
        self._post = 0.0
        lines = []
        for box in self.detect(image):
            start = time.perf_counter()
            crop = image.crop(box)
            self._post += (time.perf_counter() - start) * 1e3
            if self.use_cls:
                crop = self.upright(crop)
            start = time.perf_counter()
            x = self.recognizer_input(crop)
            self._post += (time.perf_counter() - start) * 1e3
            probs = self.rec(x)[0]
            start = time.perf_counter()
            text, score = ctc_greedy(probs, self.characters)
            self._post += (time.perf_counter() - start) * 1e3
            lines.append((text, score, box))
        self.post_ms.append(self._post)
        return lines


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--text", default="cppnn reads this line 2026")
    parser.add_argument("--image", help="an image file to read instead of rendered --text")
    parser.add_argument("--models", default=str(DEFAULT_MODELS))
    parser.add_argument("--cpu", action="store_true", help="force the CPU backend")
    parser.add_argument("--no-cls", action="store_true", help="skip the direction classifier")
    parser.add_argument("--engine", choices=["cppnn", "onnxruntime"], default="cppnn")
    args = parser.parse_args()
    models = pathlib.Path(args.models)
    if not (models / DET).is_file():
        sys.exit(f"ocr: no {DET} in {models}: run `python3 scripts/fetch_pretrained.py` first")

    image = Image.open(args.image).convert("RGB") if args.image else render(args.text)
    if args.engine == "cppnn":
        import webnn
    context = webnn.ML().create_context(accelerated=not args.cpu) if args.engine == "cppnn" else None
    reader = Reader(models, context, args.engine, use_cls=not args.no_cls)
    lines = reader.read(image)
    if context is not None:
        print(f"backend: {context.backend} ({context.backend_reason})")
    else:
        print("backend: onnxruntime (CPUExecutionProvider)")
    for text, score, box in lines:
        print(f"text: {text}  (confidence {score:.3f}, box {box})")
    for s in reader.stages:
        print(f"{s.name:10s} load+compile {s.load_ms + s.compile_ms:8.1f} ms, compute "
              f"{sum(s.run_ms) / max(1, len(s.run_ms)):7.2f} ms x {len(s.run_ms)}")
    if not lines:
        print("text: (none found)")


if __name__ == "__main__":
    main()
