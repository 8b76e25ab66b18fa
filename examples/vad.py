"""Finds speech in audio with Silero VAD's pretrained ONNX model running on cppnn.

    python examples/vad.py [--text "Something to say"] [--wav FILE] [--model FILE] [--cpu]
                           [--engine cppnn|onnxruntime]

Without --wav it synthesizes --text with espeak-ng (Debian package espeak-ng), resamples it to
16 kHz and pads it with a second of silence on each side, so that the result can be checked:
the speech segments printed should cover the sentence and nothing of the silence. The model
is silero_vad.onnx from the silero-vad wheel (scripts/fetch_pretrained.py puts it in
build/pretrained/silero_vad).

Silero VAD is a recurrent model: each call takes 512 new samples (32 ms at 16 kHz) after the
64 samples before them, the LSTM state of the previous call, and the sample rate; it returns
the speech probability of the window and the next state. Windows above 0.5 start speech,
windows below 0.35 end it (Silero's own thresholds), and segments shorter than 250 ms or gaps
shorter than 100 ms are merged away.
"""
import argparse
import pathlib
import subprocess
import sys
import tempfile
import time
import wave

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parents[1]
DEFAULT_MODEL = ROOT / "build" / "pretrained" / "silero_vad" / "silero_vad.onnx"
RATE, WINDOW, CONTEXT = 16000, 512, 64


def synthesize(text):
    """espeak-ng's rendering of text, as float32 samples at 16 kHz."""
    with tempfile.TemporaryDirectory() as tmp:
        path = pathlib.Path(tmp) / "speech.wav"
        subprocess.run(["espeak-ng", "-w", str(path), text], check=True)
        return read_wav(path)


def read_wav(path):
    with wave.open(str(path)) as w:
        rate, channels, width = w.getframerate(), w.getnchannels(), w.getsampwidth()
        raw = w.readframes(w.getnframes())
    if width != 2:
        sys.exit(f"vad: {path}: only 16-bit PCM WAV files")
    x = np.frombuffer(raw, dtype="<i2").astype(np.float32) / 32768.0
    x = x.reshape(-1, channels).mean(axis=1)
    return resample(x, rate, RATE)


def resample(x, rate, target):
    """Band-limited resampling through the spectrum (the signal is short)."""
    if rate == target:
        return x.astype(np.float32)
    n = int(round(len(x) * target / rate))
    spectrum = np.fft.rfft(x)
    keep = n // 2 + 1
    out = np.zeros(keep, dtype=complex)
    out[:min(keep, len(spectrum))] = spectrum[:min(keep, len(spectrum))]
    return (np.fft.irfft(out, n) * (n / len(x))).astype(np.float32)


class CppnnVad:
    def __init__(self, model, cpu):
        import webnn
        self.context = webnn.ML().create_context(accelerated=not cpu)
        start = time.perf_counter()
        # silero_vad.onnx leaves its dims unnamed ('': input:0, input:1, state:1); the sample
        # rate is fixed at load time, so the If on it imports only the 16 kHz branch.
        n = CONTEXT + WINDOW
        self.graph = webnn.load_onnx(
            str(model), dim_values={"batch": 1, "sequence": n, "input:0": 1, "input:1": n, "state:1": 1},
            input_values={"sr": np.array(RATE, dtype=np.int64)})
        self.load_ms = (time.perf_counter() - start) * 1e3
        self.backend = f"cppnn {self.context.backend} ({self.context.backend_reason})"
        self.inputs = set(self.graph.inputs)

    def __call__(self, x, state):
        feeds = {"input": x, "state": state}
        if "sr" in self.inputs:
            feeds["sr"] = np.array(RATE, dtype=np.int64)
        out = self.context.compute(self.graph, feeds)
        return out["output"], out["stateN"]


class OrtVad:
    def __init__(self, model, cpu):
        import onnxruntime as ort
        start = time.perf_counter()
        self.session = ort.InferenceSession(str(model), providers=["CPUExecutionProvider"])
        self.load_ms = (time.perf_counter() - start) * 1e3
        self.backend = "onnxruntime cpu"

    def __call__(self, x, state):
        out, state = self.session.run(None, {"input": x, "state": state,
                                             "sr": np.array(RATE, dtype=np.int64)})
        return out, state


def speech_probabilities(samples, vad):
    """One probability per 512-sample window, the state and context carried across calls."""
    state = np.zeros((2, 1, 128), dtype=np.float32)
    context = np.zeros(CONTEXT, dtype=np.float32)
    probs, spent = [], 0.0
    for start in range(0, len(samples) - WINDOW + 1, WINDOW):
        chunk = samples[start:start + WINDOW]
        x = np.concatenate([context, chunk])[None].astype(np.float32)
        t = time.perf_counter()
        out, state = vad(x, state)
        spent += time.perf_counter() - t
        probs.append(float(np.asarray(out).reshape(-1)[0]))
        context = chunk[-CONTEXT:]
    return np.array(probs), spent * 1e3 / max(1, len(probs))


def segments(probs, on=0.5, off=0.35, min_speech_ms=250, min_gap_ms=100):
    """Speech segments [(start s, end s)] from window probabilities, with hysteresis."""
    window_s = WINDOW / RATE
    found, start = [], None
    for i, p in enumerate(probs):
        if start is None and p >= on:
            start = i
        elif start is not None and p < off:
            found.append([start, i])
            start = None
    if start is not None:
        found.append([start, len(probs)])
    merged = []
    for s, e in found:
        if merged and (s - merged[-1][1]) * window_s * 1e3 < min_gap_ms:
            merged[-1][1] = e
        else:
            merged.append([s, e])
    return [(s * window_s, e * window_s) for s, e in merged if (e - s) * window_s * 1e3 >= min_speech_ms]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--text", default="Voice activity detection finds the speech in a recording.")
    parser.add_argument("--wav", help="a 16-bit PCM WAV file instead of synthesized --text")
    parser.add_argument("--model", default=str(DEFAULT_MODEL))
    parser.add_argument("--silence", type=float, default=1.0, help="seconds of silence padded on each side")
    parser.add_argument("--cpu", action="store_true", help="force cppnn's CPU backend")
    parser.add_argument("--engine", choices=["cppnn", "onnxruntime"], default="cppnn")
    args = parser.parse_args()
    if not pathlib.Path(args.model).is_file():
        sys.exit(f"vad: no {args.model}: run `python3 scripts/fetch_pretrained.py` first")

    speech = read_wav(args.wav) if args.wav else synthesize(args.text)
    pad = np.zeros(int(args.silence * RATE), dtype=np.float32)
    samples = np.concatenate([pad, speech, pad])
    vad = (CppnnVad if args.engine == "cppnn" else OrtVad)(args.model, args.cpu)
    probs, per_window_ms = speech_probabilities(samples, vad)
    print(f"backend: {vad.backend}")
    print(f"audio: {len(samples) / RATE:.2f} s, speech placed at {args.silence:.2f}-"
          f"{args.silence + len(speech) / RATE:.2f} s")
    for s, e in segments(probs):
        print(f"speech: {s:.2f} s - {e:.2f} s")
    print(f"load {vad.load_ms:.1f} ms, {len(probs)} windows of 32 ms, {per_window_ms:.3f} ms per window")


if __name__ == "__main__":
    main()
