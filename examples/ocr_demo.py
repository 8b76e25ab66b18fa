"""The README's first command (`make demo`): cppnn reads back a sentence it rendered.

    python examples/ocr_demo.py [--text "A short line"] [--image FILE] [--cpu] [--threads N] [--repeat N]
                                [--cls] [--engine cppnn|onnxruntime] [--models DIR]

Renders --text (DejaVu Sans, black on white, 48 px) into an image, finds the text in it with
PP-OCRv4's detector, reads each box with PP-OCRv4's recognizer, and prints the text read,
whether it is the text rendered, the backend the models ran on (the GPU when the context got
CUDA, else the CPU) and each stage's latency: import + compile, the first run, and the median
of --repeat more runs. The models are real pretrained ones, the ONNX files of the
rapidocr-onnxruntime wheel (`make pretrained` puts them in build/pretrained/rapidocr); the
pipeline and its numpy pre- and post-processing are examples/ocr.py's.

Exit status 0 when the text read is the text rendered (or with --image, when something was
read), 1 when not, 2 for a usage error or missing models.
"""
import argparse
import os
import pathlib
import statistics
import sys
import time

# OpenMP's default wait policy lets a thread that finished its share of a parallel region spin
# before it sleeps. On cores that other work keeps busy (a shared 2-core machine) the spinning
# thread holds a core the region's last thread needs, and each of the hundreds of parallel
# regions of a run can cost a scheduler time slice: measured on 2 shared cores, the first
# detection took 2-3.8 s and warm runs 0.15-0.48 s, against 12-23 ms and 45-54 ms with passive
# waiting, the fastest policy measured there. So the demo asks for it unless the caller chose
# a policy (libgomp reads it once, when the library loads: before `import webnn`).
os.environ.setdefault("OMP_WAIT_POLICY", "passive")

import ocr  # noqa: E402

DEFAULT_TEXT = "cppnn reads this line 2026"


def per_read(times, counts):
    """Stage call times (ms) grouped into one total per read(): counts[i] calls in read i."""
    out, i = [], 0
    for n in counts:
        out.append(sum(times[i:i + n]))
        i += n
    return out


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--text", default=DEFAULT_TEXT,
                        help=f"the line to render (default: {DEFAULT_TEXT!r})")
    parser.add_argument("--image", help="read this image file instead of a rendered --text")
    parser.add_argument("--models", default=str(ocr.DEFAULT_MODELS),
                        help="the folder of the PP-OCR ONNX files (default: %(default)s)")
    parser.add_argument("--cpu", action="store_true", help="the CPU backend even where there is a GPU")
    parser.add_argument("--threads", type=int, default=0,
                        help="CPU threads (default 0: every core)")
    parser.add_argument("--repeat", type=int, default=10,
                        help="warm runs after the first, for the median latency (default: %(default)s)")
    parser.add_argument("--cls", action="store_true",
                        help="turn each box upright with PP-OCR's direction classifier first")
    parser.add_argument("--engine", choices=["cppnn", "onnxruntime"], default="cppnn",
                        help="run the models on cppnn (default) or on ONNX Runtime, the reference")
    args = parser.parse_args(argv)
    if args.repeat < 0 or args.threads < 0:
        parser.error("--repeat and --threads must be 0 or more")
    models = pathlib.Path(args.models)
    needed = (ocr.DET, ocr.REC) + ((ocr.CLS,) if args.cls else ())
    missing = [f for f in needed if not (models / f).is_file()]
    if missing:
        print(f"ocr_demo: {', '.join(missing)} not in {models}: run `make pretrained` "
              f"(or python3 scripts/fetch_pretrained.py build/pretrained)", file=sys.stderr)
        return 2

    try:
        image = ocr.Image.open(args.image).convert("RGB") if args.image else ocr.render(args.text)
    except OSError as e:  # no such file, not an image
        print(f"ocr_demo: {e}", file=sys.stderr)
        return 2
    if args.engine == "cppnn":
        import webnn
        context = webnn.ML().create_context(accelerated=not args.cpu, num_threads=args.threads)
        backend = context.backend
        if backend == "cpu":  # the CPU backend's default: a thread per core it may run on
            threads = args.threads or len(os.sched_getaffinity(0))
            backend += (f", {threads} thread{'s' if threads != 1 else ''}, "
                        f"OMP_WAIT_POLICY={os.environ['OMP_WAIT_POLICY']}")
        backend += f" ({context.backend_reason})"
    else:
        context, backend = None, "ONNX Runtime, CPUExecutionProvider (the reference)"
    start = time.perf_counter()
    reader = ocr.Reader(models, context, args.engine, use_cls=args.cls)
    setup_ms = (time.perf_counter() - start) * 1e3  # the character list from the model's metadata

    reads, totals = [], []
    for _ in range(1 + args.repeat):
        before = [len(s.run_ms) for s in reader.stages]
        start = time.perf_counter()
        lines = reader.read(image)
        totals.append((time.perf_counter() - start) * 1e3)
        reads.append([len(s.run_ms) - b for s, b in zip(reader.stages, before)])
    # The first read imports and compiles each model for its input size; take that out of the
    # end-to-end time so that "first run" is the first computation.
    totals[0] -= sum(s.load_ms + s.compile_ms for s in reader.stages)

    text = " / ".join(t for t, _, _ in lines)
    print("cppnn OCR demo: PP-OCRv4 text detection + recognition, pretrained ONNX models "
          "(rapidocr-onnxruntime wheel)")
    print(f"backend    {backend}")
    if args.image:
        print(f"image      {args.image} ({image.width}x{image.height} px)")
    else:
        print(f"rendered   \"{args.text}\" ({image.width}x{image.height} px)")
    if lines:
        confidence = min(s for _, s, _ in lines)
        print(f"read       \"{text}\" ({len(lines)} box{'es' if len(lines) != 1 else ''}, "
              f"confidence {confidence:.3f})")
    else:
        print("read       nothing (no text found)")
    ok = bool(lines) if args.image else text == args.text
    if not args.image:
        verdict = "the text read is the text rendered" if ok else "WRONG: not the text rendered"
        print(f"result     {verdict}")

    warm = f"warm (median of {args.repeat})" if args.repeat else "warm"
    print(f"{'latency':17s}{'import+compile':>14s} {'first run':>10s} {warm:>20s}")
    rows = [(s.name, s.load_ms + s.compile_ms, per_read(s.run_ms, [r[i] for r in reads]))
            for i, s in enumerate(reader.stages)]
    rows.append(("numpy pre/post", None, reader.post_ms))
    rows.append(("end to end", setup_ms + sum(s.load_ms + s.compile_ms for s in reader.stages), totals))
    for name, load, runs in rows:
        median = f"{statistics.median(runs[1:]):17.1f} ms" if len(runs) > 1 else f"{'-':>20s}"
        loaded = f"{load:11.1f} ms" if load is not None else f"{'':14s}"
        print(f"  {name:15s}{loaded} {runs[0]:7.1f} ms {median}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
