#!/usr/bin/env python3
"""CPU benchmark (issue #20): cppnn against ONNX Runtime in one process, same machine, same
input, same thread count, over the model set of bench/cpu_models.py (CNNs small and large,
vision / text transformers, an audio encoder, pretrained PP-OCRv4 and Silero VAD), fp32.

Per model, batch and thread count T:
- cppnn: webnn.load_onnx(file, dim_values=...) compiled on
  webnn.ML().create_context(accelerated=False, num_threads=T), timed as context.compute;
- ONNX Runtime: InferenceSession with intra_op_num_threads=T, inter_op_num_threads=1,
  ORT_ENABLE_ALL, CPUExecutionProvider, timed as session.run.
Both get the same numpy inputs and return fresh numpy outputs. Correctness first: every
output of cppnn against ONNX Runtime's as a relative L2 error ||a - b|| / ||b|| (the largest
over the outputs), flagged above --tolerance (1e-3). Then the runtimes alternate for
--rounds rounds of the same number of iterations (chosen so that a round of the slower one
lasts about --round-seconds), and each keeps the median of its best round: load from other
processes on a shared machine only ever adds time, and alternating lets a drift hit both.
A model that fails in cppnn (load, compile or compute) is recorded with the error, ONNX
Runtime alone is still timed, and the benchmark goes on.

    python3 bench/bench_cpu.py [--threads 2] [--batches 1,8] [--models a,b] [--rounds 4]
                               [--round-seconds 0.5] [--tag NAME] [--out FILE]
    python3 bench/bench_cpu.py --report bench/results/cpu_2core.json bench/results/cpu_16core.json

--threads takes a list (1,2,4,8,16) for thread scaling (default: every core of the machine).
The JSON (default bench/results/cpu_<tag>.json, tag = <cores>core) is rewritten after every
case: machine (CPU model, cores, load average before and after), ONNX Runtime version,
cppnn commit, per case the times of every round. --report turns one or more JSONs into the
README's markdown: ratio cppnn / ORT per model and batch with the geometric mean, and where
a file has several thread counts the latency at each.
"""
import argparse
import datetime
import hashlib
import importlib.util
import json
import math
import os
import pathlib
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
import traceback

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
import cpu_models  # noqa: E402

TOLERANCE = 1e-3
TARGET = 0.8  # the target: cppnn / ORT <= 0.8


def log(msg):
    print(msg, flush=True)


# ------------------------------------------------------------------ helpers

def dim_values(path, feeds):
    """cppnn's dim_values for an ONNX file from the arrays it will get: a named symbolic
    dimension by its name, an unnamed one (-1, 0, '' or '?') as '<input>:<index>'."""
    import onnx
    m = onnx.load(str(path), load_external_data=False)
    inits = {t.name for t in m.graph.initializer}
    out = {}
    for inp in m.graph.input:
        if inp.name in inits or inp.name not in feeds:
            continue
        shape = np.shape(feeds[inp.name])
        for i, d in enumerate(inp.type.tensor_type.shape.dim):
            if d.HasField("dim_value") and d.dim_value > 0:
                continue
            name = d.dim_param if d.HasField("dim_param") and d.dim_param not in ("", "?") \
                else f"{inp.name}:{i}"
            if i < len(shape):
                out[name] = int(shape[i])
    return out


def align_feeds(path, feeds):
    """The feeds under the file's own input names: a model whose one image input is named
    otherwise (the shared MobileNetV2's 'input.1') gets the one array under its name."""
    import onnx
    m = onnx.load(str(path), load_external_data=False)
    inits = {t.name for t in m.graph.initializer}
    names = [i.name for i in m.graph.input if i.name not in inits]
    missing = [n for n in names if n not in feeds]
    unused = [k for k in feeds if k not in names]
    if len(missing) == 1 and len(unused) == 1:
        feeds = dict(feeds)
        feeds[missing[0]] = feeds.pop(unused[0])
    return feeds


def compare(got, want, tolerance=TOLERANCE):
    """cppnn's outputs (name -> array) against ONNX Runtime's: relative L2 and max |a - b|
    per output (float64), the largest of each, and whether all are within tolerance."""
    per = {}
    for name, w in want.items():
        if name not in got:
            per[name] = {"error": "missing in cppnn's outputs"}
            continue
        a, b = np.asarray(got[name], np.float64), np.asarray(w, np.float64)
        if a.shape != b.shape:
            per[name] = {"error": f"shape {list(a.shape)} != ORT's {list(b.shape)}"}
            continue
        nb = float(np.linalg.norm(b))
        per[name] = {"rel_l2": float(np.linalg.norm(a - b)) / (nb if nb > 0 else 1e-30),
                     "max_abs": float(np.max(np.abs(a - b))) if a.size else 0.0,
                     "finite": bool(np.isfinite(a).all())}
    errs = [v.get("rel_l2", math.inf) for v in per.values()]
    rel = max(errs) if errs else math.inf
    if any(not v.get("finite", False) for v in per.values()):
        rel = math.inf
    return {"rel_l2": rel, "max_abs": max((v.get("max_abs", math.inf) for v in per.values()), default=math.inf),
            "ok": bool(rel <= tolerance), "outputs": per}


def interleave_rounds(rounds_of, rounds, pause=0.02):
    """rounds_of: name -> a callable that runs one round and returns its median (ms). Runs
    `rounds` rounds of each, names alternating (the first runtime of a round alternates
    too), and returns name -> the medians of each round."""
    names = list(rounds_of)
    medians = {n: [] for n in names}
    for r in range(rounds):
        for n in (names if r % 2 == 0 else names[::-1]):
            medians[n].append(rounds_of[n]())
            time.sleep(pause)  # the other runtime's spinning threads go to sleep
    return medians


def timed_round(fn, iters):
    """The median (ms) of iters calls of fn."""
    ms = []
    for _ in range(iters):
        t = time.perf_counter()
        fn()
        ms.append((time.perf_counter() - t) * 1e3)
    return statistics.median(ms)


def interleave(fns, rounds, iters, pause=0.02):
    """fns: name -> callable. interleave_rounds with rounds of iters calls each."""
    return interleave_rounds({n: (lambda fn=fn: timed_round(fn, iters)) for n, fn in fns.items()},
                             rounds, pause)


def record_rounds(row, medians, iters, rounds):
    """A case's timing fields: each runtime's best round median, all rounds, the ratio."""
    row["iters"], row["rounds"] = iters, rounds
    for n, ms in medians.items():
        row[f"{n}_ms"] = round(min(ms), 4)
        row[f"{n}_round_ms"] = [round(m, 4) for m in ms]
    if "ort_ms" in row and "cppnn_ms" in row:
        row["ratio"] = round(row["cppnn_ms"] / row["ort_ms"], 4)


def pick_iters(t_ms, round_s, min_iters, max_iters=10000):
    return int(max(min_iters, min(max_iters, round(round_s * 1e3 / max(t_ms, 1e-3)))))


def short(e, n=500):
    msg = str(e).strip().replace("\n", " | ")
    return f"{type(e).__name__}: {msg[:n]}"


def others_busy(seconds=0.5):
    """Cores busy over `seconds` while this process sleeps (so: other processes), from
    /proc/stat; None where there is none."""
    def sample():
        f = [int(x) for x in pathlib.Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
        idle = f[3] + (f[4] if len(f) > 4 else 0)
        return sum(f[:8]), idle
    try:
        t0, i0 = sample()
        time.sleep(seconds)
        t1, i1 = sample()
    except (OSError, ValueError, IndexError):
        return None
    cores = os.cpu_count() or 1
    return cores * (1 - (i1 - i0) / max(1, t1 - t0))


def wait_for_idle(max_wait, threshold):
    """On a shared machine: waits up to max_wait seconds for other processes to use fewer
    than `threshold` cores; returns (seconds waited, cores they used when it started)."""
    t0 = time.perf_counter()
    busy = others_busy()
    while busy is not None and busy >= threshold and time.perf_counter() - t0 < max_wait:
        time.sleep(1.5)
        busy = others_busy()
    return round(time.perf_counter() - t0, 1), None if busy is None else round(busy, 2)


def git_commit():
    if os.environ.get("CPPNN_COMMIT"):
        return os.environ["CPPNN_COMMIT"]
    try:
        c = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short=12", "HEAD"],
                           capture_output=True, text=True, timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(ROOT), "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, timeout=10).stdout.strip()
        return (c + ("-dirty" if dirty else "")) if c else "unknown"
    except Exception:  # noqa: BLE001 - no git on the machine
        return "unknown"


def machine_info():
    import onnxruntime as ort
    cpu = platform.processor() or platform.machine()
    try:
        for line in pathlib.Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:
        usable = os.cpu_count()
    flags = ""
    try:
        text = pathlib.Path("/proc/cpuinfo").read_text()
        f = next(ln for ln in text.splitlines() if ln.startswith("flags")).split()
        flags = " ".join(x for x in ("avx2", "fma", "avx512f", "avx512_bf16", "amx_tile") if x in f)
    except (OSError, StopIteration):
        pass
    return {"cpu": cpu, "cores": usable, "logical_cpus": os.cpu_count(), "simd": flags,
            "os": platform.platform(), "python": platform.python_version(),
            "onnxruntime": ort.__version__, "numpy": np.__version__, "cppnn_commit": git_commit(),
            "loadavg_start": list(os.getloadavg())}


# ------------------------------------------------------------------ one case

class CppnnRunner:
    """One context per thread count, made just before its cases: the CPU backend sets the
    OpenMP thread count of the creating thread, so the latest context's count is the one
    every context of this thread runs with."""

    def __init__(self):
        import webnn
        self.webnn, self.threads, self.ctx = webnn, None, None

    def context(self, threads):
        if self.threads != threads:
            self.ctx = self.webnn.ML().create_context(accelerated=False, num_threads=threads)
            self.threads = threads
        return self.ctx


class CliRunner:
    """cppnn through its command-line tool instead of the Python package (--cppnn-cli): for a
    machine where building the package costs more than the benchmark (the GPU machine's 16
    cores, where that build compiles the CUDA plugin too). Each cppnn round is one
    `cppnn run` process timing `iters` computes after its own warm-up (its median is the
    round's), alternating with ONNX Runtime's rounds in this process; the inputs are the
    same arrays (.npy files), and the outputs, saved once, are checked as in-process ones."""

    def __init__(self, tool):
        self.tool = str(tool)
        self.work = pathlib.Path(tempfile.mkdtemp(prefix="cppnn-cli-bench-"))

    def command(self, path, feeds, threads, input_values, iters, warmup, save=None):
        cmd = [self.tool, "run", str(path), "--device", "cpu", "--threads", str(threads),
               "--iterations", str(iters), "--warmup", str(warmup), "--top", "0"]
        for name, value in dim_values(path, feeds).items():
            cmd += ["--dim", f"{name}={value}"]
        for name, value in (input_values or {}).items():
            flat = np.asarray(value).reshape(-1)
            cmd += ["--bind", f"{name}=" + ",".join(str(v) for v in flat.tolist())]
        for name, array in feeds.items():
            if name in (input_values or {}):
                continue
            f = self.work / (hashlib.sha1(name.encode()).hexdigest()[:12] + ".npy")
            np.save(f, array)
            cmd += ["--input", f"{name}={f}"]
        if save:
            cmd += ["--save", str(save)]
        return cmd

    def run(self, path, feeds, threads, input_values, iters, warmup=3, save=None):
        """(median ms, {output name: array} when save)"""
        out = subprocess.run(self.command(path, feeds, threads, input_values, iters, warmup, save),
                             capture_output=True, text=True)
        if out.returncode != 0:
            raise RuntimeError((out.stderr or out.stdout).strip().splitlines()[-1:] or ["failed"])
        m = re.search(r"median ([0-9.]+) ms", out.stdout)
        if not m:
            raise RuntimeError("no median in: " + out.stdout[-300:])
        outputs = {}
        for name, file in re.findall(r"^saved\s+(.+?) -> (.+\.npy)$", out.stdout, re.M):
            outputs[name] = np.load(file)
        return float(m.group(1)), outputs


def bench_case_cli(name, path, feeds, batch, threads, runner, rounds=4, round_s=0.5, min_iters=3,
                   warmup=2, input_values=None, tolerance=TOLERANCE):
    """bench_case with cppnn through CliRunner: the same row."""
    row = {"model": name, "batch": batch, "threads": threads, "file": str(path), "status": "ok",
           "errors": {}, "cppnn_via": "cli"}
    try:
        sess = ort_session(path, threads)
        names = [o.name for o in sess.get_outputs()]
        ort_feeds = {i.name: feeds[i.name] for i in sess.get_inputs()}
        want = dict(zip(names, sess.run(None, ort_feeds)))
    except Exception as e:  # noqa: BLE001
        row["errors"]["ort"], row["status"] = short(e), "ort failed"
        return row
    try:
        save = runner.work / f"out-{name}-{batch}-{threads}"
        first_cppnn, got = runner.run(path, feeds, threads, input_values, 3, 1, save)
        c = compare(got, want, tolerance)
        row.update(rel_l2=c["rel_l2"], max_abs=c["max_abs"], correct=c["ok"],
                   outputs_checked=len(c["outputs"]))
    except Exception as e:  # noqa: BLE001
        row["errors"]["cppnn"], row["status"] = short(e), "cppnn failed"
        return row
    for _ in range(warmup):
        sess.run(None, ort_feeds)
    first_ort = timed_round(lambda: sess.run(None, ort_feeds), 1)
    iters = pick_iters(max(first_ort, first_cppnn), round_s, min_iters)
    med = interleave_rounds(
        {"ort": lambda: timed_round(lambda: sess.run(None, ort_feeds), iters),
         "cppnn": lambda: runner.run(path, feeds, threads, input_values, iters)[0]},
        rounds)
    record_rounds(row, med, iters, rounds)
    return row


def ort_session(path, threads):
    import onnxruntime as ort
    so = ort.SessionOptions()
    so.intra_op_num_threads = threads
    so.inter_op_num_threads = 1
    so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    return ort.InferenceSession(str(path), so, providers=["CPUExecutionProvider"])


def bench_case(name, path, feeds, batch, threads, runner, rounds=4, round_s=0.5, min_iters=3,
               warmup=2, input_values=None, tolerance=TOLERANCE, reference=None):
    """One model, batch and thread count -> a result row (never raises for a model that
    fails in either runtime). reference: a function applied to ONNX Runtime's outputs before
    the comparison (the test perturbs them to see the check fire)."""
    row = {"model": name, "batch": batch, "threads": threads, "file": str(path), "status": "ok",
           "errors": {}}
    input_values = input_values or {}
    fns = {}
    # ONNX Runtime first: it is the reference.
    try:
        t0 = time.perf_counter()
        sess = ort_session(path, threads)
        names = [o.name for o in sess.get_outputs()]
        ort_feeds = {i.name: feeds[i.name] for i in sess.get_inputs()}
        want = dict(zip(names, sess.run(None, ort_feeds)))
        row["ort_load_s"] = round(time.perf_counter() - t0, 3)
        fns["ort"] = lambda: sess.run(None, ort_feeds)
    except Exception as e:  # noqa: BLE001
        row["errors"]["ort"] = short(e)
        row["status"] = "ort failed"
        want = None
    if reference is not None and want is not None:
        want = reference(want)
    try:
        ctx = runner.context(threads)
        t0 = time.perf_counter()
        stage = "load_onnx"
        g = runner.webnn.load_onnx(str(path), dim_values=dim_values(path, feeds),
                                   input_values=input_values or None)
        t1 = time.perf_counter()
        stage = "compile"
        ctx.compile(g)
        t2 = time.perf_counter()
        stage = "compute"
        cfeeds = {k: feeds[k] for k in g.inputs}
        got = ctx.compute(g, cfeeds)
        row["cppnn_load_s"], row["cppnn_compile_s"] = round(t1 - t0, 3), round(t2 - t1, 3)
        fns["cppnn"] = lambda: ctx.compute(g, cfeeds)
        if want is not None:
            c = compare(got, want, tolerance)
            row.update(rel_l2=c["rel_l2"], max_abs=c["max_abs"], correct=c["ok"],
                       outputs_checked=len(c["outputs"]))
            bad = {k: v for k, v in c["outputs"].items() if "error" in v}
            if bad:
                row["errors"]["compare"] = "; ".join(f"{k}: {v['error']}" for k, v in bad.items())
    except Exception as e:  # noqa: BLE001
        row["errors"]["cppnn"] = f"{stage}: {short(e)}"
        row["status"] = "cppnn failed" if row["status"] == "ok" else "both failed"
        if os.environ.get("CPPNN_BENCH_TRACEBACK"):
            traceback.print_exc()
    if not fns:
        return row
    try:
        first = {}
        for n, fn in fns.items():
            for _ in range(warmup):
                fn()
            # The fastest of at least 3 runs (and of what fits in a quarter round) sizes the
            # rounds: a run slowed by other processes would shrink them to a few iterations.
            ms, t_cal = [], time.perf_counter()
            while len(ms) < 3 or (time.perf_counter() - t_cal < round_s / 4 and len(ms) < 200):
                t = time.perf_counter()
                fn()
                ms.append((time.perf_counter() - t) * 1e3)
                if ms[-1] > round_s * 1e3:  # a slow model: one run says enough
                    break
            first[n] = min(ms)
        iters = pick_iters(max(first.values()), round_s, min_iters)
        record_rounds(row, interleave(fns, rounds, iters), iters, rounds)
    except Exception as e:  # noqa: BLE001 - a compute that fails on a later run
        row["errors"]["timing"] = short(e)
        row["status"] = "timing failed"
    return row


# ------------------------------------------------------------------ markdown

def fmt_ms(v):
    if v is None:
        return "-"
    return f"{v:.3f}" if v < 1 else f"{v:.2f}" if v < 100 else f"{v:.0f}"


def case_table(rows):
    lines = ["| model | batch | threads | ONNX Runtime (ms) | cppnn (ms) | cppnn / ORT | rel. L2 vs ORT | note |",
             "| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |"]
    for r in rows:
        note = "; ".join(f"{k}: {v}" for k, v in r.get("errors", {}).items())
        if r.get("correct") is False:
            note = ("**outputs differ** " + note).strip()
        ratio = f"{r['ratio']:.3f}" if "ratio" in r else "-"
        rel = f"{r['rel_l2']:.1e}" if r.get("rel_l2") is not None else "-"
        lines.append(f"| {r['model']} | {r['batch']} | {r['threads']} | {fmt_ms(r.get('ort_ms'))} | "
                     f"{fmt_ms(r.get('cppnn_ms'))} | {ratio} | {rel} | {note} |")
    return "\n".join(lines)


def geomean(xs):
    xs = [x for x in xs if x and x > 0]
    return math.exp(sum(map(math.log, xs)) / len(xs)) if xs else None


BUSY = 0.5  # cores other processes kept busy when a case started, above which it is marked


def quieter(new, old):
    """Whether a case's new row replaces its old one under --prefer-quiet: the one where
    both runtimes ran faster, by the product of their times (the load of other processes
    slows both; symmetric, so it favours neither runtime's lucky runs; the busy-core count
    at a case's start misses load that comes later); without both times, the one that
    started with fewer cores taken by others (--wait-idle); a tie: the new one."""
    a = [new.get("ort_ms"), new.get("cppnn_ms")]
    b = [old.get("ort_ms"), old.get("cppnn_ms")]
    if None not in a and None not in b:
        return a[0] * a[1] <= b[0] * b[1]
    a, b = new.get("others_busy_cores"), old.get("others_busy_cores")
    return a is None or b is None or a <= b


def merge(docs, prefer_quiet=False):
    """Result documents of the same machine (CPU model and core count) merged into one, in
    order: a later file's case (model, batch, threads) replaces an earlier one's, or with
    prefer_quiet the one that started on the quieter machine (a shared machine's reruns)."""
    out = {}
    for d in docs:
        key = (d["machine"]["cpu"], d["machine"]["cores"])
        if key not in out:
            out[key] = json.loads(json.dumps(d))
            out[key]["sources"] = [d.get("date")]
            continue
        m = out[key]
        m["sources"].append(d.get("date"))
        m["models"].update(d.get("models", {}))
        rows = {(r["model"], r["batch"], r["threads"]): r for r in m["rows"]}
        for r in d["rows"]:
            k = (r["model"], r["batch"], r["threads"])
            if k not in rows or not prefer_quiet or quieter(r, rows[k]):
                rows[k] = r
        m["rows"] = list(rows.values())
        m["settings"]["threads"] = sorted({r["threads"] for r in m["rows"]})
        m["settings"]["batches"] = sorted({r["batch"] for r in m["rows"]})
    for m in out.values():  # the set's order, then batch and threads
        order = {n: i for i, n in enumerate(cpu_models.MODELS)}
        m["rows"].sort(key=lambda r: (order.get(r["model"], len(order)), r["batch"], r["threads"]))
    return list(out.values())


def report(docs, names=None):
    """README markdown from result documents: per document, the ratio table at its largest
    thread count (batches as columns) with the geometric means, and a thread-scaling table
    where it has several thread counts."""
    out = []
    for i, doc in enumerate(docs):
        m = doc["machine"]
        rows = doc["rows"]
        threads = sorted({r["threads"] for r in rows})
        batches = sorted({r["batch"] for r in rows})
        models = list(dict.fromkeys(r["model"] for r in rows))
        t_main = [t for t in threads if t == m.get("cores")] or threads[-1:]
        t_main = t_main[0]
        by = {(r["model"], r["batch"], r["threads"]): r for r in rows}
        src = f" ({names[i]})" if names else ""
        out.append(f"**{m['cpu']}, {t_main} thread{'s' if t_main > 1 else ''}** "
                   f"({m['cores']} cores; ONNX Runtime {m['onnxruntime']}, cppnn {m['cppnn_commit']}, "
                   f"{doc['date']}){src}\n")
        head = "| model |" + "".join(f" b{b} ORT (ms) | b{b} cppnn (ms) | b{b} cppnn / ORT |" for b in batches) \
            + " rel. L2 vs ORT |"
        out.append(head)
        out.append("| --- |" + " ---: | ---: | ---: |" * len(batches) + " ---: |")
        notes, loaded = [], False
        for mod in models:
            cells, rels = [], []
            for b in batches:
                r = by.get((mod, b, t_main))
                if r is None:
                    cells.append(" - | - | - |")
                    continue
                ratio = r.get("ratio")
                if ratio is None:
                    text = "not run" if r.get("status") == "skipped" else "fails"
                else:
                    text = f"**{ratio:.2f}**" if ratio <= TARGET else f"{ratio:.2f}"
                if (r.get("others_busy_cores") or 0) >= BUSY:
                    text += " \u2020"
                    loaded = True
                cells.append(f" {fmt_ms(r.get('ort_ms'))} | {fmt_ms(r.get('cppnn_ms'))} | {text} |")
                if r.get("rel_l2") is not None:
                    rels.append(r["rel_l2"])
                for k, v in r.get("errors", {}).items():
                    notes.append(f"{mod} batch {b}: {k}: {v}")
                if r.get("correct") is False:
                    notes.append(f"{mod} batch {b}: outputs differ from ORT (rel. L2 {r['rel_l2']:.1e})")
            rel = f"{max(rels):.1e}" if rels else "-"
            out.append(f"| {mod} |" + "".join(cells) + f" {rel} |")
        gm = []
        for b in batches:
            rs = [by[(mod, b, t_main)].get("ratio") for mod in models if (mod, b, t_main) in by]
            rs = [x for x in rs if x is not None]  # of the cases that ran
            g = geomean(rs)
            met = sum(1 for x in rs if x <= TARGET)
            gm.append(f" | | {g:.2f} ({met}/{len(rs)} <= {TARGET}) |" if g else " | | - |")
        out.append("| geometric mean |" + "".join(gm) + " |")
        out.append(f"\nBold: within the target cppnn / ORT <= {TARGET}. Ratio below 1: cppnn is faster.")
        if loaded:
            out.append(f"\u2020: other processes kept >= {BUSY} of the machine's cores busy when the case "
                       "started (--wait-idle ran out; `others_busy_cores` in the JSON).")
        if notes:
            out.append("\n" + "\n".join(f"- {n}" for n in notes))
        if len(threads) > 1:
            out.append(f"\nThread scaling, cppnn / ONNX Runtime (ms):\n")
            out.append("| model | batch |" + "".join(f" {t} |" for t in threads) + " cppnn falls? |")
            out.append("| --- | ---: |" + " ---: |" * len(threads) + " --- |")
            for mod in models:
                for b in batches:
                    if sum((mod, b, t) in by for t in threads) < 2:
                        continue  # measured at one thread count only
                    cs, cells = [], []
                    for t in threads:
                        r = by.get((mod, b, t))
                        if r is None or r.get("status") == "skipped":
                            cells.append(" - |")
                            continue
                        cells.append(f" {fmt_ms(r.get('cppnn_ms'))} / {fmt_ms(r.get('ort_ms'))} |")
                        cs.append(r.get("cppnn_ms"))
                    if len(cs) < 2:
                        verdict = " not measured |"  # skipped (budget) at all but one count
                    else:
                        ok = all(x is not None for x in cs) and \
                            all(cs[j + 1] <= cs[j] * 1.05 for j in range(len(cs) - 1))
                        verdict = " yes |" if ok else " **no** |"
                    out.append(f"| {mod} | {b} |" + "".join(cells) + verdict)
        out.append("")
    return "\n".join(out)


# ------------------------------------------------------------------ main

def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--models", default=",".join(cpu_models.MODELS),
                   help="comma-separated, from: " + ", ".join(cpu_models.MODELS))
    p.add_argument("--batches", default="1,8")
    p.add_argument("--threads", default=None,
                   help="thread counts, e.g. 1,2,4,8,16 (default: the machine's usable cores)")
    p.add_argument("--rounds", type=int, default=int(os.environ.get("CPPNN_BENCH_ROUNDS", "4")))
    p.add_argument("--round-seconds", type=float, default=0.5,
                   help="a round of the slower runtime lasts about this long")
    p.add_argument("--min-iters", type=int, default=3, help="iterations per round at least")
    p.add_argument("--tolerance", type=float, default=TOLERANCE,
                   help="relative L2 against ONNX Runtime above which a case is flagged")
    p.add_argument("--tag", default=None, help="the JSON's name: cpu_<tag>.json (default <cores>core)")
    p.add_argument("--cppnn-cli", default=None, metavar="TOOL",
                   help="time cppnn through its command-line tool (`cppnn run`, one process per "
                        "round) instead of the Python package: where building the package costs "
                        "more than the benchmark")
    p.add_argument("--out", default=None, help="the JSON (default bench/results/cpu_<tag>.json)")
    p.add_argument("--generate", action="store_true",
                   help="export missing PyTorch-made models first (bench/cpu_models.py; needs torch)")
    p.add_argument("--wait-idle", type=float, default=0.0,
                   help="on a shared machine: before each case wait up to this many seconds for "
                        "other processes to use fewer than --idle-below cores (/proc/stat)")
    p.add_argument("--idle-below", type=float, default=0.3,
                   help="cores other processes may keep busy when a case starts (--wait-idle)")
    p.add_argument("--budget", type=float, default=None,
                   help="seconds after which cases not started yet are recorded as skipped "
                        "(a device call ends at 600 s)")
    p.add_argument("--report", nargs="+", metavar="JSON", default=None,
                   help="report mode: README markdown from these result files (files of one "
                        "machine, e.g. a run split over calls, are merged)")
    p.add_argument("--prefer-quiet", action="store_true",
                   help="report mode: of a case measured in several files keep the row where "
                        "both runtimes ran fastest (product of their times), i.e. the quietest "
                        "machine (else the last file's)")
    p.add_argument("--merged", default=None,
                   help="report mode: also write the merged results here (one machine's files)")
    a = p.parse_args(argv)
    if a.report is not None:
        return a
    a.model_list = [m.strip() for m in a.models.split(",") if m.strip()]
    bad = [m for m in a.model_list if m not in cpu_models.MODELS]
    if bad:
        p.error(f"unknown model(s) {', '.join(bad)}; known: {', '.join(cpu_models.MODELS)}")
    a.batch_list = [int(b) for b in a.batches.split(",") if b.strip()]
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:
        cores = os.cpu_count()
    a.thread_list = [int(t) for t in a.threads.split(",")] if a.threads else [cores]
    if a.rounds < 1 or any(b < 1 for b in a.batch_list) or any(t < 1 for t in a.thread_list):
        p.error("--rounds, --batches and --threads must be >= 1")
    if a.out is None:
        a.out = str(ROOT / "bench" / "results" / f"cpu_{a.tag or f'{cores}core'}.json")
    return a


def write_json(path, doc):
    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(doc, indent=2) + "\n")
    tmp.replace(path)


def main(argv=None):
    a = parse_args(argv)
    if a.report is not None:
        docs = merge([json.loads(pathlib.Path(f).read_text()) for f in a.report], a.prefer_quiet)
        if a.merged:
            if len(docs) != 1:
                sys.exit(f"--merged: the files come from {len(docs)} machines, not one")
            write_json(a.merged, docs[0])
        print(report(docs))
        return 0
    if a.generate and importlib.util.find_spec("torch") is None:
        log("== torch is not installed: the PyTorch-made models that are missing are skipped")
    elif a.generate:
        subprocess.run([sys.executable, str(ROOT / "bench" / "cpu_models.py"), "--models",
                        ",".join(m for m in a.model_list if cpu_models.MODELS[m].source == "torch")],
                       check=False)
    runner = CliRunner(a.cppnn_cli) if a.cppnn_cli else CppnnRunner()
    doc = {"date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
           "machine": machine_info(), "precision": "fp32",
           "method": (f"one process; per case {a.rounds} rounds alternating cppnn and ONNX Runtime, "
                      f"the same iteration count each (a round of the slower about {a.round_seconds} s, "
                      f"at least {a.min_iters}); each runtime's best round median. cppnn: "
                      + ("`cppnn run --threads T` (the CLI, one process per round: the median of "
                         "its computes in the round); ORT: " if a.cppnn_cli else
                         "context.compute on create_context(accelerated=False, num_threads=T); ORT: ")
                      + "session.run, intra_op_num_threads=T, inter_op 1, ORT_ENABLE_ALL"),
           "settings": {"threads": a.thread_list, "batches": a.batch_list, "rounds": a.rounds,
                        "round_seconds": a.round_seconds, "tolerance": a.tolerance},
           "models": {}, "rows": []}
    log(f"== {doc['machine']['cpu']}, {doc['machine']['cores']} cores, load {doc['machine']['loadavg_start']}, "
        f"ORT {doc['machine']['onnxruntime']}, cppnn {doc['machine']['cppnn_commit']}")
    t_start = time.perf_counter()
    for name in a.model_list:
        model = cpu_models.MODELS[name]
        info = {"label": model.label, "stresses": model.stresses, "source": model.source, "files": {}}
        doc["models"][name] = info
        for batch in a.batch_list:
            path = model.path(batch)
            if not path.exists():
                hint = {"torch": "python3 bench/cpu_models.py (needs torch + transformers)",
                        "numpy": "make models", "pretrained": "make pretrained",
                        "shared": "../shared/models"}[model.source]
                for t in a.thread_list:
                    row = {"model": name, "batch": batch, "threads": t, "file": str(path),
                           "status": "missing", "errors": {"file": f"{path} is missing: {hint}"}}
                    doc["rows"].append(row)
                log(f"{name:22s} b{batch}: missing {path} ({hint})")
                continue
            if str(path) not in info["files"]:
                try:
                    info["files"][str(path)] = cpu_models.file_info(path)
                except Exception as e:  # noqa: BLE001
                    info["files"][str(path)] = {"error": short(e)}
            feeds = align_feeds(path, cpu_models.make_inputs(model, batch))
            for t in a.thread_list:
                t0 = time.perf_counter()
                if a.budget is not None and t0 - t_start > a.budget:
                    doc["rows"].append({"model": name, "batch": batch, "threads": t, "file": str(path),
                                        "status": "skipped",
                                        "errors": {"budget": f"not started: past --budget {a.budget:g} s"}})
                    log(f"{name:22s} b{batch} T{t}: skipped (budget)")
                    write_json(a.out, doc)
                    continue
                waited = wait_for_idle(a.wait_idle, a.idle_below) if a.wait_idle > 0 else None
                case = bench_case_cli if a.cppnn_cli else bench_case
                row = case(name, path, feeds, batch, t, runner, rounds=a.rounds,
                                 round_s=a.round_seconds, min_iters=a.min_iters,
                                 input_values=model.input_values, tolerance=a.tolerance)
                row["case_s"] = round(time.perf_counter() - t0, 1)
                row["loadavg_1min"] = round(os.getloadavg()[0], 2)  # other processes' load, roughly
                if waited is not None:
                    row["waited_s"], row["others_busy_cores"] = waited
                doc["rows"].append(row)
                doc["machine"]["loadavg_end"] = list(os.getloadavg())
                doc["total_s"] = round(time.perf_counter() - t_start, 1)
                write_json(a.out, doc)
                ratio = f"{row['ratio']:.3f}" if "ratio" in row else "-"
                rel = f"{row['rel_l2']:.1e}" if row.get("rel_l2") is not None else "-"
                flag = "" if row.get("correct", True) else "  OUTPUTS DIFFER"
                err = "" if not row["errors"] else "  " + "; ".join(f"{k}: {v}" for k, v in row["errors"].items())
                log(f"{name:22s} b{batch} T{t:<3d} ORT {fmt_ms(row.get('ort_ms')):>8s} ms  cppnn "
                    f"{fmt_ms(row.get('cppnn_ms')):>8s} ms  ratio {ratio}  rel L2 {rel}  "
                    f"({row.get('iters', 0)} x {a.rounds}, {row['case_s']} s){flag}{err}")
    doc["machine"]["loadavg_end"] = list(os.getloadavg())
    doc["total_s"] = round(time.perf_counter() - t_start, 1)
    write_json(a.out, doc)
    print()
    print(case_table(doc["rows"]))
    print()
    print(report([doc]))
    log(f"written to {a.out} ({doc['total_s']} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
