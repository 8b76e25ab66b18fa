"""The cppnn tool: `run --save DIR` never writes outside DIR whatever the model names its
outputs (a downloaded model's names are untrusted), never writes through a symbolic link,
makes DIR, and fails before any work when DIR cannot be made; `--input FILE.npy` is read as
untrusted too (a malformed shape or a header claiming more than the file holds is a
DataError, not a crash or a huge allocation); bad arguments are usage errors (exit 2) before
any work; `--version`; `--device cuda` without a GPU is an error, not a CPU run; a CPU run's
timings do not speak of CUDA."""
import os
import re
import subprocess

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper

# Output names a model may carry, and the file each must become (None: one of the colliding
# names "x?", "x*", "X?", which become x_, X_ with "_2", "_3" added in the order of the
# outputs: distinct without case, for case-insensitive file systems).
NAMES = {
    "../escaped": "_._escaped",
    "/head/Relu_output_0": "_head_Relu_output_0",
    "a/b": "a_b",
    "..": "_.",
    ".hidden": "_hidden",
    "x?": None,
    "x*": None,
    "X?": None,
    "normal-1.0": "normal-1.0",
}
SAFE = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9._-]*\.npy")


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    folder = tmp_path_factory.mktemp("cli_model")
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [3])
    nodes, outputs = [], []
    for i, name in enumerate(NAMES):
        nodes.append(helper.make_node("Add", ["x", f"c{i}"], [name]))
        outputs.append(helper.make_tensor_value_info(name, TensorProto.FLOAT, [3]))
    inits = [helper.make_tensor(f"c{i}", TensorProto.FLOAT, [1], [float(i)]) for i in range(len(NAMES))]
    graph = helper.make_graph(nodes, "names", [x], outputs, initializer=inits)
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    path = folder / "names.onnx"
    path.write_bytes(m.SerializeToString())
    return path


def run(cli, *args):
    return subprocess.run([str(cli), "run", *map(str, args), "--device", "cpu", "--iterations", "1"],
                          capture_output=True, text=True, timeout=120)


def test_save_keeps_every_output_inside_the_folder(cppnn_cli, model, tmp_path):
    out = tmp_path / "new" / "folder"  # made by the tool
    x = np.array([1.0, 2.0, 3.0], np.float32)
    np.save(tmp_path / "x.npy", x)
    p = run(cppnn_cli, model, "--save", out, "--input", f"x={tmp_path / 'x.npy'}")
    assert p.returncode == 0, p.stderr
    saved = dict(re.findall(r"^saved    (.*) -> (.*)$", p.stdout, re.M))
    assert sorted(saved) == sorted(NAMES), p.stdout
    files = [os.path.basename(path) for path in saved.values()]
    assert sorted(os.listdir(out)) == sorted(files)
    assert len({f.lower() for f in files}) == len(NAMES)
    assert {f.lower() for f in files if f.lower().startswith("x_")} == {"x_.npy", "x__2.npy", "x__3.npy"}
    for i, (name, file) in enumerate(NAMES.items()):
        path = saved[name]
        assert os.path.dirname(path) == str(out) and SAFE.fullmatch(os.path.basename(path)), path
        if file is not None:
            assert os.path.basename(path) == file + ".npy"
        np.testing.assert_array_equal(np.load(path), x + i)
    # Nothing beside the folder: not "escaped.npy" one level up, nothing at the root.
    assert sorted(os.listdir(tmp_path)) == ["new", "x.npy"]
    assert sorted(os.listdir(tmp_path / "new")) == ["folder"]


def test_save_never_writes_through_a_link(cppnn_cli, model, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    target = tmp_path / "elsewhere.npy"
    (out / "normal-1.0.npy").symlink_to(target)
    p = run(cppnn_cli, model, "--save", out)
    assert p.returncode == 1, p.stdout
    assert "cannot write" in p.stderr and "normal-1.0.npy" in p.stderr, p.stderr
    assert not target.exists()


def test_save_folder_that_cannot_be_made_fails_before_any_work(cppnn_cli, model, tmp_path):
    blocker = tmp_path / "a_file"
    blocker.write_text("not a folder")
    p = run(cppnn_cli, model, "--save", blocker)
    assert p.returncode == 1
    assert "--save" in p.stderr and "a_file" in p.stderr, p.stderr
    assert "latency" not in p.stdout
    assert blocker.read_text() == "not a folder"


@pytest.mark.parametrize("flag,value", [("--iterations", "0"), ("--iterations", "-1"), ("--warmup", "-2"),
                                        ("--threads", "-1"), ("--top", "-3")])
def test_bad_counts_are_refused(cppnn_cli, model, flag, value):
    p = subprocess.run([str(cppnn_cli), "run", str(model), flag, value], capture_output=True, text=True,
                       timeout=60)
    assert p.returncode == 2
    assert flag in p.stderr, p.stderr
    assert "latency" not in p.stdout


def npy_bytes(header: str, payload: bytes = b"") -> bytes:
    header += " " * ((64 - (10 + len(header) + 1) % 64) % 64) + "\n"
    return b"\x93NUMPY\x01\x00" + len(header).to_bytes(2, "little") + header.encode() + payload


@pytest.mark.parametrize("header,message", [
    ("{'descr': '<f4', 'fortran_order': False, 'shape': (abc,), }", "malformed shape"),
    ("{'descr': '<f4', 'fortran_order': False, 'shape': (-3,), }", "malformed shape"),
    ("{'descr': '<f4', 'fortran_order': False, 'shape': (1000000000000,), }", "malformed shape"),
    ("{'descr': '<f4', 'fortran_order': False, 'shape': (100, 100), }", "claims more data"),
    ("{'descr': '<f4', 'fortran_order': False, 'shape': 3, }", "malformed shape"),
])
def test_malformed_npy_input_is_a_data_error(cppnn_cli, model, tmp_path, header, message):
    bad = tmp_path / "bad.npy"
    bad.write_bytes(npy_bytes(header, b"\0" * 12))
    p = run(cppnn_cli, model, "--input", f"x={bad}")
    assert p.returncode == 1, p.stdout
    assert p.stderr.startswith("cppnn: DataError"), p.stderr
    assert message in p.stderr, p.stderr


def test_npy_header_length_past_the_file(cppnn_cli, model, tmp_path):
    bad = tmp_path / "long.npy"
    bad.write_bytes(b"\x93NUMPY\x02\x00" + (0xFFFFFFF0).to_bytes(4, "little") + b"{")
    p = run(cppnn_cli, model, "--input", f"x={bad}")
    assert p.returncode == 1
    assert "header of" in p.stderr, p.stderr


@pytest.mark.parametrize("args", [[], ["run"], ["frobnicate"], ["run", "m.onnx", "--no-such-flag"],
                                  ["run", "m.onnx", "--device", "tpu"], ["run", "m.onnx", "--precision", "int4"]])
def test_usage_errors_exit_2(cppnn_cli, args):
    p = subprocess.run([str(cppnn_cli), *args], capture_output=True, text=True, timeout=60)
    assert p.returncode == 2, (args, p.stdout, p.stderr)
    assert p.stderr.strip(), args


def test_version_and_help(cppnn_cli):
    p = subprocess.run([str(cppnn_cli), "--version"], capture_output=True, text=True, timeout=60)
    assert p.returncode == 0 and re.fullmatch(r"cppnn \d+\.\d+\.\d+\s*", p.stdout), (p.stdout, p.stderr)
    p = subprocess.run([str(cppnn_cli), "run", "--help"], capture_output=True, text=True, timeout=60)
    assert p.returncode == 0
    assert re.search(r"--iterations .*=20", p.stdout), p.stdout  # defaults shown


def test_device_cuda_is_the_gpu_or_an_error(cppnn_cli, model):
    p = subprocess.run([str(cppnn_cli), "run", str(model), "--device", "cuda", "--iterations", "1"],
                       capture_output=True, text=True, timeout=300)
    if p.returncode == 0:
        assert re.search(r"^device   cuda ", p.stdout, re.M), p.stdout
    else:
        assert p.returncode == 1, p.stderr
        assert "--device cuda: no CUDA backend" in p.stderr, p.stderr
        assert "latency" not in p.stdout


def test_cpu_timings_do_not_speak_of_cuda(cppnn_cli, model):
    p = run(cppnn_cli, model)
    assert p.returncode == 0, p.stderr
    timing = [line for line in p.stdout.splitlines() if line.startswith(("context", "first"))]
    assert len(timing) == 2 and not any("CUDA" in line for line in timing), p.stdout
