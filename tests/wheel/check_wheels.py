"""The wheels as a user gets them (`make test-wheel`): the repaired cppnn wheel and the
cppnn-cuda wheel that `make wheel` and `make wheel-cuda` leave in WHEELS, installed into a
fresh virtual environment (no system site packages) with pip --no-index, and used there with
no PYTHONPATH, no LD_LIBRARY_PATH and no CPPNN_CUDA_BACKEND, from a folder outside the
checkout:

  - the cppnn wheel: a manylinux tag, the version of CMakeLists.txt, the `cuda` extra naming
    cppnn-cuda of that version, no CUDA plugin in it, under WHEEL_MAX_MB;
  - in the venv: webnn imports from the venv, runs a small graph against a float64 numpy
    reference, raises its error classes (subclasses of the built-in ones), loads an ONNX
    model, and every C++ library the core needs (oneDNN, ONNX, protobuf, OpenMP) is the
    wheel's own copy (cppnn.libs/), none from the system; then the OCR demo
    (examples/ocr_demo.py, PP-OCRv4 from PRETRAINED) reads its rendered sentence on the CPU;
  - the cppnn-cuda wheel: the plugin alone (no core, no CUDA library), its run path into
    NVIDIA's wheels, its dependencies; installed (--no-deps: NVIDIA's wheels are
    hundreds of MB), webnn finds it: the backend choice names the cppnn_cuda package's plugin
    (on a machine without a GPU, why it did not load: the driver's libcuda.so.1 missing),
    and a CPPNN_CUDA_BACKEND of the user's own still wins.

    python3 tests/wheel/check_wheels.py WHEELS DEPS PRETRAINED WORK
DEPS holds numpy's and Pillow's wheels (`make test-wheel` downloads them); WORK is where the
venv goes (made anew). Exits non-zero naming the first check that failed.
"""
import os
import pathlib
import re
import subprocess
import sys
import zipfile

ROOT = pathlib.Path(__file__).resolve().parents[2]
WHEEL_MAX_MB = float(os.environ.get("WHEEL_MAX_MB", "25"))
WHEEL_CUDA_MAX_MB = float(os.environ.get("WHEEL_CUDA_MAX_MB", "100"))
SENTENCE = "Wheels read this line 42"
passed = 0


def check(ok, what):
    global passed
    if not ok:
        print(f"check_wheels: FAILED: {what}")
        sys.exit(1)
    passed += 1
    print(f"check_wheels: ok: {what}")


def project_version():
    text = (ROOT / "CMakeLists.txt").read_text()
    return re.search(r"project\(cppnn VERSION ([0-9][0-9.]*)", text).group(1)


def one(folder, pattern):
    found = sorted(folder.glob(pattern))
    check(len(found) == 1, f"one {pattern} in {folder} (found {[f.name for f in found]})")
    return found[0]


def metadata(wheel):
    with zipfile.ZipFile(wheel) as z:
        name = next(n for n in z.namelist() if n.endswith(".dist-info/METADATA"))
        return z.read(name).decode()


def clean_env():
    env = dict(os.environ)
    for k in ("PYTHONPATH", "LD_LIBRARY_PATH", "CPPNN_CUDA_BACKEND", "PYTHONHOME", "VIRTUAL_ENV"):
        env.pop(k, None)
    return env


def run(cmd, cwd, env=None, check_rc=True):
    r = subprocess.run(cmd, cwd=cwd, env=env or clean_env(), capture_output=True, text=True)
    if check_rc and r.returncode != 0:
        print(r.stdout[-4000:], r.stderr[-4000:], sep="\n")
        check(False, f"{' '.join(map(str, cmd[:4]))} ... exited {r.returncode}")
    return r


# Runs inside the venv: prints KEY=value lines for the checks below.
PROBE = r'''
import os, sys, numpy as np
import webnn
print("FILE=" + webnn.__file__)
print("VERSION=" + webnn.__version__)
ml = webnn.ML()
ctx = ml.create_context(accelerated=False)
b = ctx.create_graph_builder()
rng = np.random.default_rng(7)
a_v = rng.standard_normal((3, 4)).astype(np.float32)
w_v = rng.standard_normal((4, 5)).astype(np.float32)
a = b.input("a", [3, 4], "float32")
y = b.relu(b.add(b.matmul(a, b.constant(w_v)), b.constant(np.float32(0.5) * np.ones((5,), np.float32))))
g = b.build({"y": y})
out = ctx.compute(g, {"a": a_v})["y"]
ref = np.maximum(a_v.astype(np.float64) @ w_v.astype(np.float64) + 0.5, 0.0)
print("GRAPH_ERR=%g" % float(np.max(np.abs(out - ref))))
# Error classes: WebNN's kinds as subclasses of the built-in ones, raised for real.
print("ERR_BASES=%d" % (issubclass(webnn.DataError, ValueError)
                        and issubclass(webnn.NotSupportedError, RuntimeError)
                        and issubclass(webnn.OperationError, RuntimeError)
                        and issubclass(webnn.InvalidStateError, RuntimeError)))
try:
    b.build({"z": y})  # a builder builds once
    print("RAISED=none")
except webnn.InvalidStateError as e:
    print("RAISED=InvalidStateError" if isinstance(e, RuntimeError) else "RAISED=wrong base")
try:
    webnn.load_onnx(os.path.join(os.environ["PROBE_TMP"], "bad.onnx"))
    print("DATA=none")
except webnn.DataError as e:
    print("DATA=DataError" if isinstance(e, ValueError) else "DATA=wrong base")
# An ONNX model from a file: the pretrained recognizer, fixed to one input size.
model = webnn.load_onnx(os.environ["PROBE_MODEL"], dim_values={"p2o.DynamicDimension.0": 1,
                        "x:2": 48, "p2o.DynamicDimension.1": 320})
outs = ctx.compute(model, {"x": np.zeros((1, 3, 48, 320), np.float32)})
first = next(iter(outs.values()))
print("ONNX_SHAPE=" + "x".join(map(str, first.shape)))
print("ONNX_FINITE=%d" % bool(np.isfinite(first).all()))
# Every library the core runs on, and where it was loaded from.
libs = sorted({line.split()[-1] for line in open("/proc/self/maps") if ".so" in line})
print("LIBS=" + ";".join(libs))
gpu = ml.create_context(accelerated=True)
print("BACKEND=" + gpu.backend)
print("REASON=" + gpu.backend_reason)
'''


def probe(python, work, env=None):
    r = run([python, "-c", PROBE], cwd=work, env=env)
    return dict(line.split("=", 1) for line in r.stdout.splitlines() if "=" in line)


def main(wheels, deps, pretrained, work):
    wheels, deps, pretrained, work = map(lambda p: pathlib.Path(p).resolve(),
                                         (wheels, deps, pretrained, work))
    version = project_version()

    # The cppnn wheel, as a file.
    base = one(wheels, "cppnn-*.whl")
    check(re.search(r"-manylinux_2_\d+_x86_64\.whl$", base.name) is not None,
          f"{base.name} has a manylinux tag")
    check(base.name.startswith(f"cppnn-{version}-"), f"the wheel's version is CMakeLists.txt's {version}")
    size_mb = base.stat().st_size / 2**20
    check(size_mb < WHEEL_MAX_MB, f"the cppnn wheel is {size_mb:.1f} MB, under {WHEEL_MAX_MB:g} MB")
    names = zipfile.ZipFile(base).namelist()
    check(not any("libcppnn_cuda" in n for n in names), "the cppnn wheel holds no CUDA plugin")
    check("webnn/libcppnn.so" in names and any(n.startswith("cppnn.libs/libdnnl") for n in names),
          "the cppnn wheel holds the core and its vendored oneDNN")
    meta = metadata(base)
    check(f"\nVersion: {version}\n" in meta and "\nName: cppnn\n" in meta, "METADATA: name and version")
    check("Provides-Extra: cuda" in meta and f'Requires-Dist: cppnn-cuda=={version}; extra == "cuda"' in meta,
          "METADATA: the cuda extra pulls cppnn-cuda of the same version")

    # The cppnn-cuda wheel, as a file.
    cuda = one(wheels, "cppnn_cuda-*.whl")
    check(f"cppnn_cuda-{version}-" in cuda.name and "manylinux" in cuda.name,
          f"{cuda.name}: same version, manylinux tag")
    size_mb = cuda.stat().st_size / 2**20
    check(size_mb < WHEEL_CUDA_MAX_MB, f"the cppnn-cuda wheel is {size_mb:.1f} MB, under {WHEEL_CUDA_MAX_MB:g} MB")
    names = zipfile.ZipFile(cuda).namelist()
    check("cppnn_cuda/libcppnn_cuda.so" in names, "the cppnn-cuda wheel holds cppnn_cuda/libcppnn_cuda.so")
    vendored = [n for n in names if re.search(r"lib(cppnn\.so|cuda\.so|cublas|cudnn|nvrtc|cudart)", n)]
    check(not vendored, f"the cppnn-cuda wheel holds no core and no CUDA library ({vendored})")
    meta = metadata(cuda)
    for dep in (f"cppnn=={version}", "nvidia-cublas", "nvidia-cuda-nvrtc", "nvidia-cudnn-cu13"):
        check(f"Requires-Dist: {dep}" in meta, f"cppnn-cuda requires {dep}")
    with zipfile.ZipFile(cuda) as z:
        (work / "plugin").mkdir(parents=True, exist_ok=True)
        plugin = pathlib.Path(z.extract("cppnn_cuda/libcppnn_cuda.so", work / "plugin"))
    dyn = run(["readelf", "-d", str(plugin)], cwd=work).stdout
    check("$ORIGIN/../nvidia/cu13/lib" in dyn and "$ORIGIN/../nvidia/cudnn/lib" in dyn,
          "the plugin's run path reaches NVIDIA's wheels beside it in site-packages")
    check("Shared library: [libgomp" not in dyn, "the plugin links no OpenMP runtime of its own")

    # A fresh venv with the cppnn wheel and numpy + Pillow only, from files.
    venv = work / "venv"
    run([sys.executable, "-m", "venv", "--clear", str(venv)], cwd=work)
    python = str(venv / "bin" / "python")
    pip = [python, "-m", "pip", "install", "-q", "--no-index", "--find-links", str(deps)]
    run(pip + [str(base), "pillow"], cwd=work)
    r = run([python, "-c", "import sys, importlib.util as u; "
             "print(sys.prefix != sys.base_prefix, u.find_spec('onnx') is None)"], cwd=work)
    check(r.stdout.split() == ["True", "True"], "the venv is one, without the system's packages (no onnx)")
    (work / "bad.onnx").write_bytes(b"this is not a protobuf")
    env = clean_env()
    env.update(PROBE_TMP=str(work), PROBE_MODEL=str(pretrained / "ch_PP-OCRv4_rec_infer.onnx"))
    got = probe(python, work, env)
    site = str(venv / "lib")
    check(got.get("FILE", "").startswith(site), f"webnn imports from the venv ({got.get('FILE')})")
    check(got.get("VERSION") == version, f"webnn.__version__ is {version} ({got.get('VERSION')})")
    check(float(got.get("GRAPH_ERR", "inf")) < 1e-4, f"matmul+add+relu against float64 numpy (max error {got.get('GRAPH_ERR')})")
    check(got.get("ERR_BASES") == "1", "DataError is a ValueError; NotSupported/Operation/InvalidStateError are RuntimeErrors")
    check(got.get("RAISED") == "InvalidStateError", "a second build() raises webnn.InvalidStateError")
    check(got.get("DATA") == "DataError", "a malformed ONNX file raises webnn.DataError (a ValueError)")
    check(got.get("ONNX_SHAPE", "").startswith("1x") and got.get("ONNX_FINITE") == "1",
          f"the pretrained recognizer (ONNX) loads and computes ({got.get('ONNX_SHAPE')})")
    libs = got.get("LIBS", "").split(";")
    for name in ("libcppnn.so", "libdnnl", "libonnx", "libprotobuf", "libgomp"):
        where = [lib for lib in libs if os.path.basename(lib).startswith(name)]
        check(where and all(w.startswith(site) for w in where),
              f"{name} is loaded from the wheel, not the system ({where})")
    check(got.get("BACKEND") == "cpu" and got.get("REASON", "") ==
          f"no CUDA backend at {os.path.dirname(got.get('FILE', ''))}/libcppnn_cuda.so",
          f"without cppnn-cuda, the CPU with the reason ({got.get('REASON')})")

    # The OCR demo, from a folder outside the checkout (examples/ocr_demo.py imports ocr beside it).
    r = run([python, str(ROOT / "examples" / "ocr_demo.py"), "--cpu", "--repeat", "1",
             "--models", str(pretrained), "--text", SENTENCE], cwd=work, env=env, check_rc=False)
    print(r.stdout, r.stderr, sep="")
    check(r.returncode == 0 and f'read       "{SENTENCE}"' in r.stdout,
          "the OCR demo reads its rendered sentence through the installed wheel")

    # The plugin wheel on top: webnn finds it without help.
    run(pip + ["--no-deps", str(cuda)], cwd=work)
    got = probe(python, work, env)
    plugin_path = os.path.join(site, "python%d.%d" % sys.version_info[:2], "site-packages",
                               "cppnn_cuda", "libcppnn_cuda.so")
    reason = got.get("REASON", "")
    if got.get("BACKEND") == "cuda":
        check(reason.startswith("CUDA device found"), f"cppnn-cuda gives the GPU ({reason})")
    else:
        check(f"CUDA backend {plugin_path} did not load: " in reason,
              f"with cppnn-cuda, the backend choice names its plugin and why it did not load ({reason})")
    env_own = dict(env, CPPNN_CUDA_BACKEND=str(work / "mine" / "libcppnn_cuda.so"))
    got = probe(python, work, env_own)
    check(got.get("REASON") == f"no CUDA backend at {work / 'mine' / 'libcppnn_cuda.so'}",
          f"a CPPNN_CUDA_BACKEND of the user's own wins ({got.get('REASON')})")
    print(f"{passed} passed, 0 failed")


if __name__ == "__main__":
    if len(sys.argv) != 5:
        sys.exit(__doc__)
    main(*sys.argv[1:])
