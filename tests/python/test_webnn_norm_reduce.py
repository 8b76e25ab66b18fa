"""webnn normalizations, reductions, arg_min/arg_max and cumulative_sum against float64
NumPy references, in float32, float16 and the integer types the spec allows."""
import numpy as np
import pytest
import webnn
from webnn_testing import run


def check(got, want, dtype):
    dtype = np.dtype(dtype)
    want = np.asarray(want, np.float64)
    assert got.dtype == dtype and got.shape == want.shape, (got.dtype, got.shape, want.shape)
    if dtype.kind in "iu":
        np.testing.assert_array_equal(got.astype(np.float64), want)
        return
    tol = 1e-5 if dtype == np.float32 else 5e-3
    scale = max(1.0, float(np.max(np.abs(want)))) if want.size else 1.0
    np.testing.assert_allclose(got.astype(np.float64), want, rtol=tol, atol=tol * scale)


def f64(a):
    return a.astype(np.float64)


FLOATS = [np.float32, np.float16]


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("axis", [1, 3])
@pytest.mark.parametrize("with_scale_bias", [False, True])
def test_batch_normalization(ctx, dtype, axis, with_scale_bias):
    rng = np.random.default_rng(1)
    x = rng.normal(size=(2, 3, 4, 5)).astype(dtype)
    c = x.shape[axis]
    mean = rng.normal(size=c).astype(dtype)
    var = rng.uniform(0.5, 2, c).astype(dtype)
    scale = rng.normal(size=c).astype(dtype)
    bias = rng.normal(size=c).astype(dtype)
    shape = [1] * 4
    shape[axis] = c
    r = lambda a: f64(a).reshape(shape)  # noqa: E731
    want = (f64(x) - r(mean)) / np.sqrt(r(var) + 1e-3)
    if with_scale_bias:
        want = want * r(scale) + r(bias)

    def build(g, a):
        kw = {"scale": g.constant(scale), "bias": g.constant(bias)} if with_scale_bias else {}
        return g.batch_normalization(a, g.constant(mean), g.constant(var), axis=axis,
                                     epsilon=1e-3, **kw)
    check(run(ctx, build, x), want, dtype)


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("layout", ["nchw", "nhwc"])
def test_instance_normalization(ctx, dtype, layout):
    rng = np.random.default_rng(2)
    x = rng.normal(1, 2, (2, 3, 4, 5)).astype(dtype)
    scale = rng.normal(size=3).astype(dtype)
    bias = rng.normal(size=3).astype(dtype)
    xd = f64(x)
    mean = xd.mean(axis=(2, 3), keepdims=True)
    var = xd.var(axis=(2, 3), keepdims=True)
    want = (xd - mean) / np.sqrt(var + 1e-5) * f64(scale)[None, :, None, None] + \
        f64(bias)[None, :, None, None]
    xin = x if layout == "nchw" else np.ascontiguousarray(x.transpose(0, 2, 3, 1))
    if layout == "nhwc":
        want = want.transpose(0, 2, 3, 1)
    got = run(ctx, lambda g, a: g.instance_normalization(
        a, scale=g.constant(scale), bias=g.constant(bias), layout=layout), xin)
    check(got, want, dtype)


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("axes", [None, [2], [1, 2], [0, 2]])
@pytest.mark.parametrize("with_scale_bias", [False, True])
def test_layer_normalization(ctx, dtype, axes, with_scale_bias):
    rng = np.random.default_rng(3)
    x = rng.normal(0.5, 1.5, (3, 4, 6)).astype(dtype)
    red = tuple(axes) if axes is not None else (1, 2)
    pshape = [x.shape[a] for a in red]
    scale = rng.normal(size=pshape).astype(dtype)
    bias = rng.normal(size=pshape).astype(dtype)
    xd = f64(x)
    want = (xd - xd.mean(axis=red, keepdims=True)) / np.sqrt(xd.var(axis=red, keepdims=True) + 1e-4)
    if with_scale_bias:
        bshape = [x.shape[a] if a in red else 1 for a in range(3)]
        # The parameters' axes are in the order of `axes`, which may differ from x's.
        order = np.argsort(red)
        want = want * f64(scale).transpose(order).reshape(bshape) + \
            f64(bias).transpose(order).reshape(bshape)

    def build(g, a):
        kw = {"scale": g.constant(scale), "bias": g.constant(bias)} if with_scale_bias else {}
        return g.layer_normalization(a, axes=axes, epsilon=1e-4, **kw)
    check(run(ctx, build, x), want, dtype)


SUM_TYPES = [np.float32, np.float16, np.int32, np.uint32, np.int64, np.uint64]
ALL_TYPES = SUM_TYPES + [np.int8, np.uint8]
REDUCTIONS = {
    "reduce_l1": (lambda x, ax, k: np.abs(x).sum(axis=ax, keepdims=k), SUM_TYPES),
    "reduce_l2": (lambda x, ax, k: np.sqrt((x * x).sum(axis=ax, keepdims=k)), FLOATS),
    "reduce_log_sum": (lambda x, ax, k: np.log(x.sum(axis=ax, keepdims=k)), FLOATS),
    "reduce_log_sum_exp": (lambda x, ax, k: np.log(np.exp(x).sum(axis=ax, keepdims=k)), FLOATS),
    "reduce_max": (lambda x, ax, k: x.max(axis=ax, keepdims=k), ALL_TYPES),
    "reduce_mean": (lambda x, ax, k: x.mean(axis=ax, keepdims=k), FLOATS),
    "reduce_min": (lambda x, ax, k: x.min(axis=ax, keepdims=k), ALL_TYPES),
    "reduce_product": (lambda x, ax, k: x.prod(axis=ax, keepdims=k), SUM_TYPES),
    "reduce_sum": (lambda x, ax, k: x.sum(axis=ax, keepdims=k), SUM_TYPES),
    "reduce_sum_square": (lambda x, ax, k: (x * x).sum(axis=ax, keepdims=k), SUM_TYPES),
}
REDUCE_CASES = [(op, t) for op, (_, types) in REDUCTIONS.items() for t in types]


@pytest.mark.parametrize("op,dtype", REDUCE_CASES, ids=[f"{o}-{np.dtype(t).name}"
                                                       for o, t in REDUCE_CASES])
@pytest.mark.parametrize("axes,keep", [(None, False), ([1], False), ([0, 2], True), ([2], True)])
def test_reductions(ctx, op, dtype, axes, keep):
    rng = np.random.default_rng(4)
    if np.dtype(dtype).kind == "f":
        lo = 0.1 if op == "reduce_log_sum" else -1.0
        x = rng.uniform(lo, 1.0, (3, 4, 5)).astype(dtype)
    else:  # small values so that products and sums of squares stay exact
        x = rng.integers(0 if np.dtype(dtype).kind == "u" else -2, 3, (3, 4, 5)).astype(dtype)
    if op == "reduce_product" and axes is None:
        x = x[:, :2, :2].copy()  # a product of 60 values overflows every type
    ref = REDUCTIONS[op][0]
    want = ref(f64(x), None if axes is None else tuple(axes), keep)
    got = run(ctx, lambda g, a: getattr(g, op)(a, axes=axes, keep_dimensions=keep), x)
    check(got, want, dtype)


def test_reduce_with_empty_axes_is_identity(ctx):
    x = np.arange(6, dtype=np.float32).reshape(2, 3)
    check(run(ctx, lambda g, a: g.reduce_sum(a, axes=[]), x), x, np.float32)


@pytest.mark.parametrize("op", ["arg_max", "arg_min"])
@pytest.mark.parametrize("dtype", [np.float32, np.float16, np.int32, np.uint8])
@pytest.mark.parametrize("axis,keep", [(0, False), (1, True), (2, False)])
@pytest.mark.parametrize("out_type", ["int32", "int64"])
def test_arg_min_max(ctx, op, dtype, axis, keep, out_type):
    rng = np.random.default_rng(5)
    x = rng.permutation(60).reshape(3, 4, 5).astype(dtype)  # no ties
    ref = np.argmax if op == "arg_max" else np.argmin
    want = ref(f64(x), axis=axis)
    if keep:
        want = np.expand_dims(want, axis)
    got = run(ctx, lambda g, a: getattr(g, op)(a, axis, keep_dimensions=keep,
                                               output_data_type=out_type), x)
    check(got, want, out_type)


@pytest.mark.parametrize("dtype", [np.float32, np.float16, np.int32, np.uint64])
@pytest.mark.parametrize("exclusive", [False, True])
@pytest.mark.parametrize("reversed_", [False, True])
@pytest.mark.parametrize("axis", [0, 2])
def test_cumulative_sum(ctx, dtype, exclusive, reversed_, axis):
    x = np.random.default_rng(6).integers(0, 9, (3, 2, 5)).astype(dtype)
    xd = f64(x)
    if reversed_:
        xd = np.flip(xd, axis)
    want = np.cumsum(xd, axis=axis)
    if exclusive:
        want = want - xd
    if reversed_:
        want = np.flip(want, axis)
    got = run(ctx, lambda g, a: g.cumulative_sum(a, axis, exclusive=exclusive,
                                                 reversed=reversed_), x)
    check(got, want, dtype)
