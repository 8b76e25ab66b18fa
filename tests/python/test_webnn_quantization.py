"""webnn quantize_linear / dequantize_linear against NumPy references in float64 (exact:
the inputs are chosen so that the quotients and products are exact in every type)."""
import numpy as np
import pytest
import webnn

QTYPES = [np.int8, np.uint8, np.int32, np.uint32]
# (input shape, scale shape): per-tensor, per-axis, block-wise.
GEOMETRIES = [((2, 3, 4), (1, 1, 1)), ((2, 3, 4), (1, 3, 1)), ((4, 6), (2, 3)), ((6,), (6,)),
              ((), ())]


def blockwise(a, shape):
    for d, n in enumerate(shape):
        a = np.repeat(a, n // a.shape[d], axis=d)
    return a


def compute(ctx, build, feeds):
    g = ctx.create_graph_builder()
    ins = {k: g.input(k, list(v.shape), v.dtype) for k, v in feeds.items()}
    return ctx.compute(g.build({"y": build(g, ins)}), feeds)["y"]


@pytest.mark.parametrize("ftype", [np.float32, np.float16])
@pytest.mark.parametrize("qtype", QTYPES)
@pytest.mark.parametrize("shape,sshape", GEOMETRIES)
def test_quantize_linear(ctx, ftype, qtype, shape, sshape):
    rng = np.random.default_rng(1)
    x = (rng.integers(-800, 800, shape) / 8).astype(ftype)  # many ties after the division
    s = rng.choice([0.25, 0.5, 2.0], sshape).astype(ftype)
    info = np.iinfo(qtype)
    z = rng.integers(max(info.min, -50), min(info.max, 50), sshape, endpoint=True).astype(qtype)
    got = compute(ctx, lambda g, i: g.quantize_linear(i["x"], i["s"], i["z"]),
                  {"x": x, "s": s, "z": z})
    q = np.rint(x.astype(np.float64) / blockwise(s.astype(np.float64), shape))  # half to even
    want = np.clip(q + blockwise(z.astype(np.float64), shape), info.min, info.max).astype(qtype)
    assert got.dtype == qtype and got.shape == x.shape
    np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("ftype", [np.float32, np.float16])
@pytest.mark.parametrize("qtype", QTYPES)
@pytest.mark.parametrize("shape,sshape", GEOMETRIES)
def test_dequantize_linear(ctx, ftype, qtype, shape, sshape):
    rng = np.random.default_rng(2)
    info = np.iinfo(qtype)
    lo, hi = max(info.min, -1000), min(info.max, 1000)
    x = rng.integers(lo, hi, shape, endpoint=True).astype(qtype)
    z = rng.integers(lo, hi, sshape, endpoint=True).astype(qtype)
    s = rng.choice([0.25, 0.5, 2.0, 0.125], sshape).astype(ftype)
    got = compute(ctx, lambda g, i: g.dequantize_linear(i["x"], i["s"], i["z"]),
                  {"x": x, "s": s, "z": z})
    want = ((x.astype(np.float64) - blockwise(z.astype(np.float64), shape)) *
            blockwise(s.astype(np.float64), shape)).astype(ftype)
    assert got.dtype == ftype and got.shape == x.shape
    np.testing.assert_array_equal(got, want)


def test_quantization_errors(ctx):
    g = ctx.create_graph_builder()
    x = g.input("x", [4, 6], "float32")
    with pytest.raises(TypeError, match="not blockwise broadcastable"):
        g.quantize_linear(x, g.input("s", [4, 4], "float32"), g.input("z", [4, 4], "uint8"))
    with pytest.raises(TypeError, match="operand 'zeroPoint' has data type float32"):
        g.quantize_linear(x, g.input("s1", [1, 1], "float32"), g.input("z1", [1, 1], "float32"))
    with pytest.raises(TypeError, match="dequantizeLinear 'dq'"):
        g.dequantize_linear(g.input("q", [4, 6], "int8"), g.input("s2", [1, 1], "float32"),
                            g.input("z2", [1, 1], "uint8"), label="dq")
