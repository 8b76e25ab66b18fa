#!/usr/bin/env python3
"""Downloads the wheels of PyPI packages that ship pretrained ONNX models (without installing
them) and extracts their models into DEST (default build/pretrained), once: a file already
there is kept. Each model lands in DEST/<package>/<file>.onnx.

  rapidocr-onnxruntime 1.4.4: PP-OCRv4 text detection and recognition, PP-OCR v2 direction
                              classifier (the recognizer's character list is in its metadata,
                              key `character`)
  silero-vad 6.2.3:           the six ONNX variants of Silero VAD (LSTM, If, float16)
"""
import pathlib
import subprocess
import sys
import tempfile
import zipfile

PACKAGES = {
    "rapidocr": ("rapidocr-onnxruntime==1.4.4", "rapidocr_onnxruntime/models/", [
        "ch_PP-OCRv4_det_infer.onnx", "ch_PP-OCRv4_rec_infer.onnx",
        "ch_ppocr_mobile_v2.0_cls_infer.onnx"]),
    "silero_vad": ("silero-vad==6.2.3", "silero_vad/data/", [
        "silero_vad.onnx", "silero_vad_16k_op15.onnx", "silero_vad_16k_sequence.onnx",
        "silero_vad_half.onnx", "silero_vad_op18_ifless.onnx", "silero_vad_openvino_16k.onnx"]),
}


def fetch(dest: pathlib.Path) -> None:
    for folder, (requirement, prefix, files) in PACKAGES.items():
        out = dest / folder
        if all((out / f).is_file() for f in files):
            continue
        out.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory() as tmp:
            subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--quiet",
                            "--disable-pip-version-check", "-d", tmp, requirement], check=True)
            wheels = list(pathlib.Path(tmp).glob("*.whl"))
            if len(wheels) != 1:
                sys.exit(f"fetch_pretrained: expected one wheel for {requirement}, got {wheels}")
            with zipfile.ZipFile(wheels[0]) as wheel:
                for name in files:
                    data = wheel.read(prefix + name)
                    part = out / (name + ".part")
                    part.write_bytes(data)
                    part.replace(out / name)
        print(f"fetch_pretrained: {requirement} -> {out}")


if __name__ == "__main__":
    fetch(pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else "build/pretrained"))
