#!/usr/bin/env python3
"""Writes the fuzz targets' seed corpora (tests/fuzz/corpus/<target>/), small files that
reach deep: libFuzzer mutates these rather than starting from nothing.

  fuzz_onnx/           small ONNX models (opset 17, IR version 8: what the linked libonnx
                       1.12 reads), a few ops each, together covering every op family the
                       importer converts, PyTorch-style shape arithmetic, symbolic
                       dimensions, float16 and integer graphs
  fuzz_engine/         engines built from those models by the cppnn tool (--cppnn), float32,
                       float16, bfloat16 and float16 with float16 inputs and outputs
  fuzz_runtime_cache/  runtime-cache files (docs/runtime-cache.md) for the key that
                       fuzz_runtime_cache.cpp expects

Usage: python3 tests/fuzz/make_seeds.py [--cppnn build/cppnn] [--out tests/fuzz/corpus]
Needs numpy and onnx. Deterministic: running it again writes the same files.
"""
import argparse
import shutil
import struct
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

HERE = Path(__file__).resolve().parent
F32, F16, I64, I32, U8, BOOL = (TensorProto.FLOAT, TensorProto.FLOAT16, TensorProto.INT64,
                                TensorProto.INT32, TensorProto.UINT8, TensorProto.BOOL)
rng = np.random.default_rng(1234)


def vi(name, elem, shape):
    return helper.make_tensor_value_info(name, elem, shape)


def init(name, array):
    return numpy_helper.from_array(np.asarray(array), name)


def w(*shape, dtype=np.float32):
    return (rng.standard_normal(shape) * 0.5).astype(dtype)


def ints(*values):
    return np.array(values, dtype=np.int64)


def model(nodes, inputs, outputs, inits=(), name="seed"):
    graph = helper.make_graph(nodes, name, inputs, outputs, list(inits))
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)],
                          producer_name="cppnn make_seeds")
    m.ir_version = 8
    # Outputs declared without a shape get the one shape inference finds.
    inferred = onnx.shape_inference.infer_shapes(m)
    known = {v.name: v for v in list(inferred.graph.value_info) + list(inferred.graph.output)}
    for out in m.graph.output:
        if not out.type.tensor_type.HasField("shape") and out.name in known:
            out.type.CopyFrom(known[out.name].type)
    onnx.checker.check_model(m)
    return m


def unary_chain(ops, elem=F32):
    """x -> op1 -> op2 ... -> y, each op with one input."""
    nodes, prev = [], "x"
    for i, op in enumerate(ops):
        out = "y" if i == len(ops) - 1 else f"t{i}"
        nodes.append(helper.make_node(op, [prev], [out]))
        prev = out
    return model(nodes, [vi("x", elem, [2, 3, 4])], [vi("y", elem, [2, 3, 4])])


def onnx_seeds():
    s = {}
    x4 = vi("x", F32, [1, 3, 8, 8])
    s["unary_math"] = unary_chain(["Abs", "Neg", "Exp", "Log", "Sqrt", "Reciprocal", "Floor",
                                   "Ceil", "Round", "Sign"])
    s["unary_trig"] = unary_chain(["Sin", "Cos", "Tan", "Erf", "Tanh", "Sigmoid", "Softplus",
                                   "Softsign", "Relu", "Identity"])
    s["activations"] = model(
        [helper.make_node("LeakyRelu", ["x"], ["a"], alpha=0.1),
         helper.make_node("Elu", ["a"], ["b"], alpha=0.5),
         helper.make_node("HardSigmoid", ["b"], ["c"], alpha=0.3, beta=0.4),
         helper.make_node("HardSwish", ["c"], ["d"]),
         helper.make_node("PRelu", ["d", "slope"], ["e"]),
         helper.make_node("Clip", ["e", "lo", "hi"], ["y"])],
        [vi("x", F32, [2, 3, 4])], [vi("y", F32, [2, 3, 4])],
        [init("slope", w(3, 1)), init("lo", np.float32(-0.5)), init("hi", np.float32(0.5))])
    s["binary_broadcast"] = model(
        [helper.make_node("Add", ["x", "b"], ["a"]), helper.make_node("Sub", ["a", "c"], ["d"]),
         helper.make_node("Mul", ["d", "b"], ["e"]), helper.make_node("Div", ["e", "c"], ["f"]),
         helper.make_node("Max", ["f", "b", "c"], ["g"]), helper.make_node("Min", ["g", "x"], ["h"]),
         helper.make_node("Sum", ["h", "b"], ["i"]), helper.make_node("Mean", ["i", "c"], ["j"]),
         helper.make_node("Pow", ["j", "two"], ["y"])],
        [vi("x", F32, [2, 3, 4])], [vi("y", F32, [2, 3, 4])],
        [init("b", w(3, 1)), init("c", w(4) + 2), init("two", np.float32(2))])
    s["logical_where"] = model(
        [helper.make_node("Greater", ["x", "z"], ["g"]), helper.make_node("Less", ["x", "z"], ["l"]),
         helper.make_node("Equal", ["x", "z"], ["e"]),
         helper.make_node("GreaterOrEqual", ["x", "z"], ["ge"]),
         helper.make_node("LessOrEqual", ["x", "z"], ["le"]),
         helper.make_node("Or", ["g", "l"], ["o"]), helper.make_node("And", ["o", "ge"], ["a"]),
         helper.make_node("Xor", ["a", "le"], ["xo"]), helper.make_node("Not", ["xo"], ["n"]),
         helper.make_node("Or", ["n", "e"], ["m"]),
         helper.make_node("IsNaN", ["x"], ["nan"]), helper.make_node("IsInf", ["x"], ["inf"]),
         helper.make_node("Or", ["nan", "inf"], ["bad"]), helper.make_node("Or", ["m", "bad"], ["c"]),
         helper.make_node("Where", ["c", "x", "z"], ["y"])],
        [vi("x", F32, [2, 5])], [vi("y", F32, [2, 5])], [init("z", w(5))])
    s["cast_int"] = model(
        [helper.make_node("Cast", ["x"], ["i"], to=I32), helper.make_node("Add", ["i", "k"], ["a"]),
         helper.make_node("Mul", ["a", "k"], ["b"]), helper.make_node("Div", ["b", "k"], ["c"]),
         helper.make_node("Cast", ["c"], ["u"], to=U8), helper.make_node("Cast", ["u"], ["y"], to=F32)],
        [vi("x", F32, [6])], [vi("y", F32, [6])], [init("k", np.array([3, -2, 7, 1, -1, 5], np.int32))])
    s["int64_ops"] = model(
        [helper.make_node("Add", ["x", "k"], ["a"]), helper.make_node("Mul", ["a", "k"], ["b"]),
         helper.make_node("Neg", ["b"], ["c"]), helper.make_node("Abs", ["c"], ["d"]),
         helper.make_node("Div", ["d", "k"], ["y"])],
        [vi("x", I64, [2, 3])], [vi("y", I64, [2, 3])], [init("k", ints(1, -3, 9))])
    s["float16"] = model(
        [helper.make_node("Mul", ["x", "s"], ["a"]), helper.make_node("Relu", ["a"], ["b"]),
         helper.make_node("MatMul", ["b", "m"], ["c"]), helper.make_node("Softmax", ["c"], ["y"], axis=-1)],
        [vi("x", F16, [2, 4])], [vi("y", F16, [2, 3])],
        [init("s", w(4, dtype=np.float16)), init("m", w(4, 3, dtype=np.float16))])
    s["conv_relu_pool"] = model(
        [helper.make_node("Conv", ["x", "cw", "cb"], ["c"], kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
         helper.make_node("Relu", ["c"], ["r"]),
         helper.make_node("MaxPool", ["r"], ["p"], kernel_shape=[2, 2], strides=[2, 2]),
         helper.make_node("GlobalAveragePool", ["p"], ["g"]),
         helper.make_node("Flatten", ["g"], ["f"]),
         helper.make_node("Gemm", ["f", "gw", "gb"], ["y"], transB=1)],
        [x4], [vi("y", F32, [1, 5])],
        [init("cw", w(4, 3, 3, 3)), init("cb", w(4)), init("gw", w(5, 4)), init("gb", w(5))])
    s["conv_variants"] = model(
        [helper.make_node("Conv", ["x", "dw"], ["d"], group=3, kernel_shape=[3, 3],
                          strides=[2, 2], dilations=[1, 1], pads=[1, 1, 1, 1]),
         helper.make_node("Conv", ["d", "pw"], ["p"], kernel_shape=[1, 1]),
         helper.make_node("Conv", ["p", "aw"], ["y"], auto_pad="SAME_UPPER", kernel_shape=[3, 3],
                          dilations=[2, 2])],
        [x4], [vi("y", F32, [1, 6, 4, 4])],
        [init("dw", w(3, 1, 3, 3)), init("pw", w(6, 3, 1, 1)), init("aw", w(6, 6, 3, 3))])
    s["conv_transpose"] = model(
        [helper.make_node("ConvTranspose", ["x", "tw", "tb"], ["y"], kernel_shape=[3, 3],
                          strides=[2, 2], pads=[1, 1, 1, 1], output_padding=[1, 1])],
        [x4], [vi("y", F32, [1, 2, 16, 16])], [init("tw", w(3, 2, 3, 3)), init("tb", w(2))])
    s["pools"] = model(
        [helper.make_node("AveragePool", ["x"], ["a"], kernel_shape=[3, 3], pads=[1, 1, 1, 1],
                          count_include_pad=1),
         helper.make_node("MaxPool", ["a"], ["m"], kernel_shape=[3, 3], strides=[2, 2], ceil_mode=1),
         helper.make_node("LpPool", ["m"], ["l"], kernel_shape=[2, 2], p=2),
         helper.make_node("GlobalMaxPool", ["l"], ["y"])],
        [x4], [vi("y", F32, [1, 3, 1, 1])])
    s["norms"] = model(
        [helper.make_node("BatchNormalization", ["x", "sc", "bi", "me", "va"], ["b"], epsilon=1e-3),
         helper.make_node("InstanceNormalization", ["b", "sc", "bi"], ["i"]),
         helper.make_node("LayerNormalization", ["i", "ls", "lb"], ["y"], axis=-1, epsilon=1e-5)],
        [x4], [vi("y", F32, [1, 3, 8, 8])],
        [init("sc", w(3)), init("bi", w(3)), init("me", w(3)), init("va", np.abs(w(3)) + 0.5),
         init("ls", w(8)), init("lb", w(8))])
    s["reductions"] = model(
        [helper.make_node("ReduceSum", ["x", "ax"], ["a"], keepdims=1),
         helper.make_node("ReduceMean", ["x"], ["b"], axes=[1], keepdims=0),
         helper.make_node("ReduceMax", ["x"], ["c"], axes=[0, 2], keepdims=0),
         helper.make_node("ReduceMin", ["x"], ["d"], keepdims=0),
         helper.make_node("ReduceProd", ["x"], ["e"], axes=[2]),
         helper.make_node("ReduceSumSquare", ["x"], ["f"], axes=[-1]),
         helper.make_node("ReduceLogSumExp", ["x"], ["g"], axes=[1]),
         helper.make_node("Abs", ["x"], ["ab"]),
         helper.make_node("ReduceLogSum", ["ab"], ["h"], axes=[1]),
         helper.make_node("ArgMax", ["x"], ["i"], axis=1, keepdims=0),
         helper.make_node("ArgMin", ["x"], ["j"], axis=-1, keepdims=1)],
        [vi("x", F32, [2, 3, 4])],
        [vi("a", F32, None), vi("b", F32, None), vi("c", F32, None), vi("d", F32, None),
         vi("e", F32, None), vi("f", F32, None), vi("g", F32, None), vi("h", F32, None),
         vi("i", I64, None), vi("j", I64, None)], [init("ax", ints(0, 2))])
    s["softmax_cumsum"] = model(
        [helper.make_node("Softmax", ["x"], ["a"], axis=1),
         helper.make_node("LogSoftmax", ["a"], ["b"], axis=-1),
         helper.make_node("CumSum", ["b", "ax"], ["y"], exclusive=1, reverse=1)],
        [vi("x", F32, [2, 3, 4])], [vi("y", F32, [2, 3, 4])], [init("ax", np.int64(1))])
    s["shape_ops"] = model(
        [helper.make_node("Reshape", ["x", "shape"], ["r"]),
         helper.make_node("Transpose", ["r"], ["t"], perm=[2, 0, 1]),
         helper.make_node("Unsqueeze", ["t", "ua"], ["u"]),
         helper.make_node("Squeeze", ["u", "ua"], ["q"]),
         helper.make_node("Concat", ["q", "q"], ["c"], axis=1),
         helper.make_node("Split", ["c", "sp"], ["s0", "s1"], axis=1),
         helper.make_node("Expand", ["s0", "es"], ["e"]),
         helper.make_node("Tile", ["s1", "reps"], ["y"])],
        [vi("x", F32, [2, 3, 4])], [vi("e", F32, None), vi("y", F32, None)],
        [init("shape", ints(6, 1, 4)), init("ua", ints(0)), init("sp", ints(6, 6)),
         init("es", ints(2, 4, 1, 1)), init("reps", ints(1, 2, 1))])
    s["slice_pad"] = model(
        [helper.make_node("Slice", ["x", "st", "en", "ax", "steps"], ["s"]),
         helper.make_node("Pad", ["s", "pads", "pv"], ["p"], mode="constant"),
         helper.make_node("Pad", ["p", "pads"], ["q"], mode="reflect"),
         helper.make_node("Pad", ["q", "pads"], ["y"], mode="edge")],
        [vi("x", F32, [1, 2, 6, 6])], [vi("y", F32, None)],
        [init("st", ints(5, 0)), init("en", ints(-7, 6)), init("ax", ints(2, 3)),
         init("steps", ints(-2, 2)), init("pads", ints(0, 0, 1, 2, 0, 0, 2, 1)),
         init("pv", np.float32(0.5))])
    s["gathers"] = model(
        [helper.make_node("Gather", ["x", "gi"], ["a"], axis=1),
         helper.make_node("GatherElements", ["x", "ei"], ["b"], axis=2),
         helper.make_node("GatherND", ["x", "ni"], ["c"])],
        [vi("x", F32, [2, 3, 4])], [vi("a", F32, None), vi("b", F32, None), vi("c", F32, None)],
        [init("gi", ints(2, -1, 0)), init("ei", np.array([[[3, 0], [1, 2], [0, 0]]] * 2, np.int64)),
         init("ni", np.array([[0, 1], [1, 2]], np.int64))])
    s["resize"] = model(
        [helper.make_node("Resize", ["x", "", "sc"], ["a"], mode="nearest"),
         helper.make_node("Resize", ["a", "", "", "sz"], ["y"], mode="linear",
                          coordinate_transformation_mode="half_pixel")],
        [vi("x", F32, [1, 2, 4, 4])], [vi("y", F32, [1, 2, 6, 10])],
        [init("sc", np.array([1, 1, 2, 2], np.float32)), init("sz", ints(1, 2, 6, 10))])
    s["trilu_matmul"] = model(
        [helper.make_node("Trilu", ["x", "k"], ["t"], upper=1),
         helper.make_node("Trilu", ["x"], ["l"], upper=0),
         helper.make_node("MatMul", ["t", "l"], ["m"]),
         helper.make_node("MatMul", ["m", "v"], ["y"])],
        [vi("x", F32, [2, 4, 4])], [vi("y", F32, [2, 4, 3])], [init("k", np.int64(1)), init("v", w(4, 3))])
    s["constants_folding"] = model(
        [helper.make_node("Constant", [], ["c"], value=init("cv", ints(2, 3, 4))),
         helper.make_node("ConstantOfShape", ["c"], ["z"], value=init("zv", np.array([1.5], np.float32))),
         helper.make_node("Range", ["r0", "r1", "r2"], ["r"]),
         helper.make_node("Cast", ["r"], ["rf"], to=F32),
         helper.make_node("Add", ["x", "z"], ["a"]),
         helper.make_node("Add", ["a", "rf"], ["y"])],
        [vi("x", F32, [2, 3, 4])], [vi("y", F32, [2, 3, 4])],
        [init("r0", np.int64(0)), init("r1", np.int64(4)), init("r2", np.int64(1))])
    # PyTorch's shape arithmetic on a symbolic batch: Shape -> Gather -> Unsqueeze -> Concat
    # -> Reshape, folded at import once N has a value.
    s["symbolic_reshape"] = model(
        [helper.make_node("Shape", ["x"], ["s"]),
         helper.make_node("Gather", ["s", "i0"], ["n"], axis=0),
         helper.make_node("Unsqueeze", ["n", "a0"], ["nu"]),
         helper.make_node("Concat", ["nu", "m1"], ["shape"], axis=0),
         helper.make_node("Reshape", ["x", "shape"], ["r"]),
         helper.make_node("Size", ["x"], ["sz"]),
         helper.make_node("Cast", ["sz"], ["szf"], to=F32),
         helper.make_node("Mul", ["r", "szf"], ["y"])],
        [vi("x", F32, ["N", 3, 4])], [vi("y", F32, ["N", 12])],
        [init("i0", np.int64(0)), init("a0", ints(0)), init("m1", ints(-1))])
    s["attention_like"] = model(
        [helper.make_node("MatMul", ["x", "wq"], ["q"]), helper.make_node("MatMul", ["x", "wk"], ["k"]),
         helper.make_node("Transpose", ["k"], ["kt"], perm=[0, 2, 1]),
         helper.make_node("MatMul", ["q", "kt"], ["s"]), helper.make_node("Div", ["s", "d"], ["sd"]),
         helper.make_node("Add", ["sd", "mask"], ["sm"]),
         helper.make_node("Softmax", ["sm"], ["p"], axis=-1),
         helper.make_node("MatMul", ["p", "x"], ["o"]),
         helper.make_node("Add", ["o", "x"], ["r"]),
         helper.make_node("LayerNormalization", ["r", "g", "b"], ["y"], axis=-1)],
        [vi("x", F32, ["batch", "seq", 8])], [vi("y", F32, ["batch", "seq", 8])],
        [init("wq", w(8, 8)), init("wk", w(8, 8)), init("d", np.float32(2.83)),
         init("mask", np.zeros((1, 1, 4), np.float32)), init("g", w(8)), init("b", w(8))])
    s["dropout_identity"] = model(
        [helper.make_node("Dropout", ["x"], ["d"]), helper.make_node("Identity", ["d"], ["y"])],
        [vi("x", F32, [3, 3])], [vi("y", F32, [3, 3])])
    s["uint8_input"] = model(
        [helper.make_node("Cast", ["x"], ["f"], to=F32), helper.make_node("Div", ["f", "s"], ["y"])],
        [vi("x", U8, [1, 3, 2, 2])], [vi("y", F32, [1, 3, 2, 2])], [init("s", np.float32(255))])
    return s


def write_onnx(out):
    d = out / "fuzz_onnx"
    d.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, m in onnx_seeds().items():
        p = d / f"{name}.onnx"
        p.write_bytes(m.SerializeToString())
        paths.append(p)
    # The tiny BERT of the importer's tests: PyTorch's real export of symbolic N and S.
    bert = HERE.parent / "unit" / "onnx_fixtures" / "tiny_bert.onnx"
    if bert.exists() and bert.stat().st_size < 100_000:
        shutil.copyfile(bert, d / "tiny_bert.onnx")
        paths.append(d / "tiny_bert.onnx")
    return paths


def write_engines(out, onnx_paths, cppnn):
    d = out / "fuzz_engine"
    d.mkdir(parents=True, exist_ok=True)
    made, failed = 0, []
    with tempfile.TemporaryDirectory() as tmp:
        for p in onnx_paths:
            # float16io: a float16 engine with float16 inputs and outputs (--no-keep-io-types),
            # whose BOPT section the reader parses.
            for precision in ("float32", "float16", "bfloat16", "float16io"):
                engine = d / f"{p.stem}.{precision}.engine"
                # Only the names the model has: the tool refuses a --dim it lacks.
                values = {"N": 2, "batch": 1, "seq": 4, "S": 8}
                try:
                    declared = {d.dim_param for i in onnx.load(str(p), load_external_data=False).graph.input
                                for d in i.type.tensor_type.shape.dim if d.dim_param}
                except Exception:  # a seed the onnx package cannot read: the tool says why
                    declared = set()
                dims = [a for k, v in values.items() if k in declared for a in ("--dim", f"{k}={v}")]
                flags = (["--precision", "float16", "--no-keep-io-types"] if precision == "float16io"
                         else ["--precision", precision])
                r = subprocess.run([cppnn, "build", str(p), "-o", str(Path(tmp) / "e")] + flags + dims,
                                   capture_output=True, text=True)
                if r.returncode == 0:
                    shutil.copyfile(Path(tmp) / "e", engine)
                    made += 1
                else:
                    failed.append(f"{p.name} ({precision}): {r.stderr.strip()[:200]}")
    return made, failed


def xxh64(data: bytes, seed: int = 0) -> int:
    """XXH64, as src/core/hash.cpp computes it (the published algorithm)."""
    P1, P2, P3, P4, P5 = (0x9E3779B185EBCA87, 0xC2B2AE3D27D4EB4F, 0x165667B19E3779F9,
                          0x85EBCA77C2B2AE63, 0x27D4EB2F165667C5)
    M = (1 << 64) - 1

    def rotl(x, r):
        return ((x << r) | (x >> (64 - r))) & M

    def round_(acc, lane):
        return (rotl((acc + lane * P2) & M, 31) * P1) & M

    def merge(acc, v):
        return (((acc ^ round_(0, v)) * P1) + P4) & M

    n, i = len(data), 0
    if n >= 32:
        v = [(seed + P1 + P2) & M, (seed + P2) & M, seed & M, (seed - P1) & M]
        while i + 32 <= n:
            for k in range(4):
                v[k] = round_(v[k], struct.unpack_from("<Q", data, i + 8 * k)[0])
            i += 32
        h = (rotl(v[0], 1) + rotl(v[1], 7) + rotl(v[2], 12) + rotl(v[3], 18)) & M
        for k in range(4):
            h = merge(h, v[k])
    else:
        h = (seed + P5) & M
    h = (h + n) & M
    while i + 8 <= n:
        h = (rotl(h ^ round_(0, struct.unpack_from("<Q", data, i)[0]), 27) * P1 + P4) & M
        i += 8
    if i + 4 <= n:
        h = (rotl(h ^ ((struct.unpack_from("<I", data, i)[0] * P1) & M), 23) * P2 + P3) & M
        i += 4
    while i < n:
        h = (rotl(h ^ ((data[i] * P5) & M), 11) * P1) & M
        i += 1
    h ^= h >> 33
    h = (h * P2) & M
    h ^= h >> 29
    h = (h * P3) & M
    h ^= h >> 32
    return h


def cache_file(blobs, key=None):
    """docs/runtime-cache.md, version 1, for fuzz_runtime_cache.cpp's key by default."""
    key = key or ["0123456789abcdef", "sm_90", "580.65.06", "cuda13.0;cudnn9.19;cublasLt13.0",
                  "0.1.0 fuzz"]

    def s(b):
        return struct.pack("<I", len(b)) + b

    out = b"CPPNNRTC" + struct.pack("<II", 1, 0)
    out += b"".join(s(k.encode()) for k in key)
    out += struct.pack("<I", len(blobs))
    for name in sorted(blobs):
        out += s(name) + struct.pack("<Q", len(blobs[name])) + blobs[name]
    return out + struct.pack("<Q", xxh64(out))


def write_runtime_cache(out):
    d = out / "fuzz_runtime_cache"
    d.mkdir(parents=True, exist_ok=True)
    cubin = bytes(rng.integers(0, 256, 700, dtype=np.uint8))
    seeds = {
        "empty_entry": cache_file({}),
        "one_blob": cache_file({b"algo:conv_0": b"cudnn engine 7, knobs 1,0,4"}),
        "cubins": cache_file({b"cubin:fused_gelu_3": cubin, b"cubin:gemm_bias_relu_0": cubin[:300],
                              b"algo:conv_3": b"own:tensor_conv:2", b"": b"unnamed",
                              b"empty": b"", b"name\0with nul": b"x"}),
        "every_byte": cache_file({b"bytes": bytes(range(256))}),
        "other_key": cache_file({b"a": b"b"}, ["fedcba9876543210", "sm_80", "550.1", "cuda12.4",
                                               "0.1.0 fuzz"]),
    }
    for name, data in seeds.items():
        (d / name).write_bytes(data)
    return len(seeds)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=HERE / "corpus")
    ap.add_argument("--cppnn", default=None, help="the cppnn tool, to build the engine seeds")
    args = ap.parse_args()
    assert xxh64(b"") == 0xEF46DB3751D8E999 and xxh64(b"abc") == 0x44BC2CF5AD770999
    for sub in ("fuzz_onnx", "fuzz_engine", "fuzz_runtime_cache"):
        if sub != "fuzz_engine" or args.cppnn:
            shutil.rmtree(args.out / sub, ignore_errors=True)
    onnx_paths = write_onnx(args.out)
    print(f"fuzz_onnx: {len(onnx_paths)} models")
    if args.cppnn:
        made, failed = write_engines(args.out, onnx_paths, args.cppnn)
        print(f"fuzz_engine: {made} engines")
        for f in failed:
            print(f"  not built: {f}", file=sys.stderr)
    print(f"fuzz_runtime_cache: {write_runtime_cache(args.out)} files")


if __name__ == "__main__":
    main()
