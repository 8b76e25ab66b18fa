"""Reads text out of an image with PP-OCR's pretrained models running on cppnn.

    python examples/ocr.py [--text "A line to read"] [--image FILE] [--models DIR] [--cpu]

Without --image it renders --text into an image with Pillow first, so the result can be
checked: the line printed should be the line rendered. The models are the ONNX files that
the rapidocr-onnxruntime wheel ships (scripts/fetch_pretrained.py puts them in
build/pretrained/rapidocr): PP-OCRv4 text detection (a DB segmentation map), the PP-OCR v2
direction classifier (upright or upside down), and PP-OCRv4 recognition (CTC over the 6,623
characters listed in the model's metadata, key `character`).

Pipeline: detect -> boxes of text from the probability map -> crop each box -> turn it
upright if the classifier says so -> recognize -> greedy CTC decoding. Each stage prints its
latency and the backend it ran on (the GPU when there is one, else the CPU).

cppnn has no dynamic shapes yet: every input size is fixed when a model is loaded, so the
detector is loaded for the image's size (padded to a multiple of 32) and the recognizer once
per crop width bucket (a multiple of 64), each kept for reuse.
"""
import argparse
import pathlib
import sys
import time

import numpy as np
import webnn
from PIL import Image, ImageDraw, ImageFont

ROOT = pathlib.Path(__file__).resolve().parents[1]
DEFAULT_MODELS = ROOT / "build" / "pretrained" / "rapidocr"
DET, CLS, REC = ("ch_PP-OCRv4_det_infer.onnx", "ch_ppocr_mobile_v2.0_cls_infer.onnx",
                 "ch_PP-OCRv4_rec_infer.onnx")
REC_HEIGHT, CLS_SHAPE = 48, (48, 192)


def render(text, height=48, margin=24):
    """Black text on white, one line, as an RGB image."""
    font = None
    for path in ("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",):
        if pathlib.Path(path).is_file():
            font = ImageFont.truetype(path, height)
    if font is None:
        font = ImageFont.load_default(size=height)
    left, top, right, bottom = font.getbbox(text)
    image = Image.new("RGB", (right - left + 2 * margin, bottom - top + 2 * margin), "white")
    ImageDraw.Draw(image).text((margin - left, margin - top), text, font=font, fill="black")
    return image


def normalize(rgb):
    """HWC uint8 -> NCHW float32 in [-1, 1], as PP-OCR's models expect (mean = std = 0.5)."""
    x = (np.asarray(rgb, dtype=np.float32) / 255.0 - 0.5) / 0.5
    return np.ascontiguousarray(x.transpose(2, 0, 1)[None])


def character_list(path):
    """The recognizer's classes: CTC blank, the characters in its metadata, and a space."""
    import onnx
    meta = {p.key: p.value for p in onnx.load(str(path), load_external_data=False).metadata_props}
    return ["<blank>"] + meta["character"].splitlines() + [" "]


class Stage:
    """One model: its graphs by input shape (loaded on first use) and its time spent."""

    def __init__(self, context, path, name, dims_for):
        self.context, self.path, self.name, self.dims_for = context, path, name, dims_for
        self.graphs, self.load_ms, self.run_ms, self.runs = {}, 0.0, 0.0, 0

    def __call__(self, x):
        key = x.shape
        if key not in self.graphs:
            start = time.perf_counter()
            graph = webnn.load_onnx(str(self.path), dim_values=self.dims_for(x.shape))
            self.context.compute(graph, {"x": x})  # compiles for this context's backend
            self.graphs[key] = graph
            self.load_ms += (time.perf_counter() - start) * 1e3
        start = time.perf_counter()
        out = self.context.compute(self.graphs[key], {"x": x})
        self.run_ms += (time.perf_counter() - start) * 1e3
        self.runs += 1
        return next(iter(out.values()))


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


def read_text(image, context, models, use_cls=True):
    det = Stage(context, models / DET, "detect",
                lambda s: {"p2o.DynamicDimension.0": s[0], "p2o.DynamicDimension.1": s[2],
                           "p2o.DynamicDimension.2": s[3]})
    # Unnamed dimensions (-1, '?') are named "<input>:<index>".
    cls = Stage(context, models / CLS, "classify", lambda s: {"x:0": s[0], "x:2": s[2], "x:3": s[3]})
    rec = Stage(context, models / REC, "recognize",
                lambda s: {"p2o.DynamicDimension.0": s[0], "x:2": s[2], "p2o.DynamicDimension.1": s[3]})
    characters = character_list(models / REC)

    # Detection on the image padded (white) to multiples of 32.
    w, h = image.size
    padded = Image.new("RGB", ((w + 31) // 32 * 32, (h + 31) // 32 * 32), "white")
    padded.paste(image, (0, 0))
    prob = det(normalize(padded))[0, 0, :h, :w]
    lines = []
    for top, bottom, left, right in text_boxes(prob):
        crop = image.crop((left, top, right, bottom))
        if use_cls:
            small = crop.resize((min(CLS_SHAPE[1], max(1, round(crop.width * CLS_SHAPE[0] / crop.height))),
                                 CLS_SHAPE[0]))
            canvas = Image.new("RGB", (CLS_SHAPE[1], CLS_SHAPE[0]), "black")
            canvas.paste(small, (0, 0))
            p = cls(normalize(canvas))[0]
            if p[1] > p[0] and p[1] > 0.9:  # labels '0' and '180'
                crop = crop.rotate(180)
        width = max(1, round(crop.width * REC_HEIGHT / crop.height))
        bucket = (width + 63) // 64 * 64
        canvas = Image.new("RGB", (bucket, REC_HEIGHT), "black")
        canvas.paste(crop.resize((width, REC_HEIGHT)), (0, 0))
        x = normalize(canvas)
        x[..., width:] = 0.0  # PP-OCR pads recognizer input with zeros after normalizing
        text, score = ctc_greedy(rec(x)[0], characters)
        lines.append((text, score, (int(left), int(top), int(right), int(bottom))))
    return lines, [det, cls, rec] if use_cls else [det, rec]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--text", default="cppnn reads this line 2026")
    parser.add_argument("--image", help="an image file to read instead of rendered --text")
    parser.add_argument("--models", default=str(DEFAULT_MODELS))
    parser.add_argument("--cpu", action="store_true", help="force the CPU backend")
    parser.add_argument("--no-cls", action="store_true", help="skip the direction classifier")
    args = parser.parse_args()
    models = pathlib.Path(args.models)
    if not (models / DET).is_file():
        sys.exit(f"ocr: no {DET} in {models}: run `python3 scripts/fetch_pretrained.py` first")

    image = Image.open(args.image).convert("RGB") if args.image else render(args.text)
    context = webnn.ML().create_context(accelerated=not args.cpu)
    lines, stages = read_text(image, context, models, use_cls=not args.no_cls)
    print(f"backend: {context.backend} ({context.backend_reason})")
    for text, score, box in lines:
        print(f"text: {text}  (confidence {score:.3f}, box {box})")
    for s in stages:
        print(f"{s.name:10s} load+compile {s.load_ms:8.1f} ms, compute {s.run_ms / max(1, s.runs):7.2f} ms"
              f" x {s.runs}")
    if not lines:
        print("text: (none found)")


if __name__ == "__main__":
    main()
