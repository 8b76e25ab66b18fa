"""webnn element-wise ops (binary, logical, unary, activations, cast, where) against
float64 NumPy references written here, in float32, float16 and the integer types the spec
allows."""
import math

import numpy as np
import pytest
import webnn
from webnn_testing import run

INTS = [np.int32, np.uint32, np.int64, np.uint64, np.int8, np.uint8]
SIGNED_INTS = [np.int32, np.int64, np.int8]


def check(got, want, dtype, rtol=None, atol=None):
    """float64 reference `want`, compared in the output's precision."""
    dtype = np.dtype(dtype)
    assert got.dtype == dtype
    want = np.asarray(want, np.float64)
    assert got.shape == want.shape
    if dtype.kind in "iu":
        np.testing.assert_array_equal(got.astype(np.float64), want)
        return
    if rtol is None:
        rtol = 1e-5 if dtype == np.float32 else 2e-3
    if atol is None:
        atol = 1e-6 if dtype == np.float32 else 1e-3
    scale = max(1.0, float(np.max(np.abs(want)))) if want.size else 1.0
    np.testing.assert_allclose(got.astype(np.float64), want, rtol=rtol, atol=atol * scale)


def rand(rng, shape, dtype, lo=-3.0, hi=3.0):
    dtype = np.dtype(dtype)
    if dtype.kind == "f":
        return rng.uniform(lo, hi, shape).astype(dtype)
    info = np.iinfo(dtype)
    return rng.integers(max(info.min, int(lo) * 10), min(info.max, int(hi) * 10) + 1,
                        shape).astype(dtype)


BINARY = {
    "add": np.add,
    "sub": np.subtract,
    "mul": np.multiply,
    "div": np.divide,
    "max": np.maximum,
    "min": np.minimum,
    "pow": np.power,
}


@pytest.mark.parametrize("op", list(BINARY))
@pytest.mark.parametrize("dtype", [np.float32, np.float16])
def test_binary_float_broadcasts(ctx, op, dtype):
    rng = np.random.default_rng(1)
    a = rand(rng, (2, 3, 5), dtype, 0.5, 2.0)
    b = rand(rng, (3, 1), dtype, 0.5, 2.0)
    got = run(ctx, lambda g, x, y: getattr(g, op)(x, y), a, b)
    check(got, BINARY[op](a.astype(np.float64), b.astype(np.float64)), dtype)


@pytest.mark.parametrize("op", ["add", "sub", "mul", "max", "min"])
@pytest.mark.parametrize("dtype", INTS)
def test_binary_integers_are_exact(ctx, op, dtype):
    rng = np.random.default_rng(2)
    # Values whose results every type holds (int8 products, unsigned differences).
    a = rng.integers(0, 11, (4, 1, 3)).astype(dtype)
    b = rng.integers(0, 11, (2, 3)).astype(dtype)
    if op == "sub":
        a = (a + 10).astype(dtype)
    got = run(ctx, lambda g, x, y: getattr(g, op)(x, y), a, b)
    check(got, BINARY[op](a.astype(np.float64), b.astype(np.float64)), dtype)


COMPARE = {
    "equal": np.equal,
    "not_equal": np.not_equal,
    "greater": np.greater,
    "greater_or_equal": np.greater_equal,
    "lesser": np.less,
    "lesser_or_equal": np.less_equal,
}


@pytest.mark.parametrize("op", list(COMPARE))
@pytest.mark.parametrize("dtype", [np.float32, np.float16, np.int32, np.uint8, np.int64])
def test_comparisons_give_uint8(ctx, op, dtype):
    rng = np.random.default_rng(3)
    a = rng.integers(0, 4, (3, 4)).astype(dtype)  # small values: many ties
    b = rng.integers(0, 4, (4,)).astype(dtype)
    got = run(ctx, lambda g, x, y: getattr(g, op)(x, y), a, b)
    check(got, COMPARE[op](a, b).astype(np.float64), np.uint8)


@pytest.mark.parametrize("op,ref", [("logical_and", np.logical_and), ("logical_or", np.logical_or),
                                    ("logical_xor", np.logical_xor)])
def test_logical_binary(ctx, op, ref):
    rng = np.random.default_rng(4)
    a = rng.integers(0, 3, (2, 5)).astype(np.uint8)  # 2 is true too
    b = rng.integers(0, 3, (5,)).astype(np.uint8)
    got = run(ctx, lambda g, x, y: getattr(g, op)(x, y), a, b)
    check(got, ref(a != 0, b != 0).astype(np.float64), np.uint8)


def test_logical_not(ctx):
    a = np.array([0, 1, 2, 255, 0], np.uint8)
    check(run(ctx, lambda g, x: g.logical_not(x), a), [1, 0, 0, 0, 1], np.uint8)


def _erf(x):
    return np.vectorize(math.erf)(x)


# name -> (reference in float64, input range)
UNARY_FLOAT = {
    "ceil": (np.ceil, (-3, 3)),
    "cos": (np.cos, (-3, 3)),
    "erf": (_erf, (-2, 2)),
    "exp": (np.exp, (-3, 3)),
    "floor": (np.floor, (-3, 3)),
    "log": (np.log, (0.1, 5)),
    "reciprocal": (lambda x: 1 / x, (0.5, 4)),
    "sin": (np.sin, (-3, 3)),
    "sqrt": (np.sqrt, (0, 9)),
    "tan": (np.tan, (-1.2, 1.2)),
    "gelu": (lambda x: 0.5 * x * (1 + _erf(x / math.sqrt(2))), (-3, 3)),
    "hard_swish": (lambda x: x * np.clip(x + 3, 0, 6) / 6, (-5, 5)),
    "sigmoid": (lambda x: 1 / (1 + np.exp(-x)), (-5, 5)),
    "softplus": (lambda x: np.log1p(np.exp(x)), (-5, 5)),
    "softsign": (lambda x: x / (1 + np.abs(x)), (-5, 5)),
    "tanh": (np.tanh, (-3, 3)),
    "abs": (np.abs, (-3, 3)),
    "neg": (np.negative, (-3, 3)),
    "sign": (np.sign, (-3, 3)),
    "relu": (lambda x: np.maximum(x, 0), (-3, 3)),
    "identity": (lambda x: x, (-3, 3)),
}


@pytest.mark.parametrize("op", list(UNARY_FLOAT))
@pytest.mark.parametrize("dtype", [np.float32, np.float16])
def test_unary_float(ctx, op, dtype):
    ref, (lo, hi) = UNARY_FLOAT[op]
    rng = np.random.default_rng(5)
    x = rand(rng, (3, 7, 5), dtype, lo, hi)
    if op in ("sign", "relu", "abs"):
        x.flat[:3] = 0
    got = run(ctx, lambda g, a: getattr(g, op)(a), x)
    check(got, ref(x.astype(np.float64)), dtype)


@pytest.mark.parametrize("op,ref", [("abs", np.abs), ("neg", np.negative), ("sign", np.sign),
                                    ("relu", lambda x: np.maximum(x, 0))])
@pytest.mark.parametrize("dtype", SIGNED_INTS)
def test_signed_unary_integers(ctx, op, ref, dtype):
    x = rand(np.random.default_rng(6), (4, 6), dtype, -5, 5)
    check(run(ctx, lambda g, a: getattr(g, op)(a), x), ref(x.astype(np.float64)), dtype)


@pytest.mark.parametrize("dtype", [np.float32, np.float16, np.uint64, np.int8])
def test_identity_every_type(ctx, dtype):
    x = rand(np.random.default_rng(7), (2, 3), dtype, 0, 5)
    check(run(ctx, lambda g, a: g.identity(a), x), x.astype(np.float64), dtype)


@pytest.mark.parametrize("kwargs", [{}, {"min_value": -0.5}, {"max_value": 1.25},
                                    {"min_value": -1.0, "max_value": 0.5}])
@pytest.mark.parametrize("dtype", [np.float32, np.float16])
def test_clamp(ctx, kwargs, dtype):
    x = rand(np.random.default_rng(8), (5, 4), dtype)
    lo, hi = kwargs.get("min_value", -np.inf), kwargs.get("max_value", np.inf)
    check(run(ctx, lambda g, a: g.clamp(a, **kwargs), x), np.clip(x.astype(np.float64), lo, hi),
          dtype)


def test_clamp_integers(ctx):
    x = np.arange(-6, 6, dtype=np.int32).reshape(3, 4)
    check(run(ctx, lambda g, a: g.clamp(a, min_value=-2, max_value=3), x), np.clip(x, -2, 3),
          np.int32)


ACTIVATIONS = {
    "elu": ({"alpha": 0.7}, lambda x, alpha: np.where(x >= 0, x, alpha * (np.exp(x) - 1))),
    "hard_sigmoid": ({"alpha": 0.3, "beta": 0.4},
                     lambda x, alpha, beta: np.clip(alpha * x + beta, 0, 1)),
    "leaky_relu": ({"alpha": 0.05}, lambda x, alpha: np.where(x >= 0, x, alpha * x)),
    "linear": ({"alpha": -1.5, "beta": 0.25}, lambda x, alpha, beta: alpha * x + beta),
}


@pytest.mark.parametrize("op", list(ACTIVATIONS))
@pytest.mark.parametrize("dtype", [np.float32, np.float16])
@pytest.mark.parametrize("defaults", [False, True])
def test_activations_with_options(ctx, op, dtype, defaults):
    kwargs, ref = ACTIVATIONS[op]
    spec_defaults = {"elu": {"alpha": 1.0}, "hard_sigmoid": {"alpha": 0.2, "beta": 0.5},
                     "leaky_relu": {"alpha": 0.01}, "linear": {"alpha": 1.0, "beta": 0.0}}[op]
    x = rand(np.random.default_rng(9), (2, 3, 4), dtype)
    got = run(ctx, lambda g, a: getattr(g, op)(a) if defaults else getattr(g, op)(a, **kwargs), x)
    check(got, ref(x.astype(np.float64), **(spec_defaults if defaults else kwargs)), dtype)


@pytest.mark.parametrize("dtype", [np.float32, np.float16, np.int32, np.int8])
def test_prelu_broadcasts_slope(ctx, dtype):
    rng = np.random.default_rng(10)
    x = rand(rng, (2, 3, 4), dtype, -1, 1)
    slope = rng.integers(0, 6, (3, 1)).astype(dtype)  # int8 products stay in range
    want = np.where(x >= 0, x.astype(np.float64), slope.astype(np.float64) * x)
    check(run(ctx, lambda g, a, s: g.prelu(a, s), x, slope), want, dtype)


@pytest.mark.parametrize("axis", [0, 1, 2])
@pytest.mark.parametrize("dtype", [np.float32, np.float16])
def test_softmax(ctx, axis, dtype):
    x = rand(np.random.default_rng(11), (3, 4, 5), dtype)
    e = np.exp(x.astype(np.float64) - x.astype(np.float64).max(axis=axis, keepdims=True))
    check(run(ctx, lambda g, a: g.softmax(a, axis), x), e / e.sum(axis=axis, keepdims=True), dtype)


@pytest.mark.parametrize("src,dst", [(np.float32, np.float16), (np.float16, np.float32),
                                     (np.float32, np.int32), (np.int32, np.float32),
                                     (np.uint8, np.float32), (np.int64, np.int32),
                                     (np.float32, np.uint8), (np.int8, np.int64)])
def test_cast(ctx, src, dst):
    rng = np.random.default_rng(12)
    # Values every type holds; floats with fractions truncate toward zero into integers.
    x = (rng.integers(0, 100, (3, 5)) + (0.25 if np.dtype(src).kind == "f" else 0)).astype(src)
    want = x.astype(np.float64)
    if np.dtype(dst).kind in "iu":
        want = np.trunc(want)
    elif dst == np.float16:
        want = want.astype(np.float16).astype(np.float64)
    check(run(ctx, lambda g, a: g.cast(a, np.dtype(dst).name), x), want, dst, rtol=0, atol=0)


def test_cast_takes_numpy_dtypes(ctx):
    x = np.array([1.5, -2.5], np.float32)
    check(run(ctx, lambda g, a: g.cast(a, np.int32), x), [1, -2], np.int32)
    check(run(ctx, lambda g, a: g.cast(a, np.dtype("float16")), x), [1.5, -2.5], np.float16)


@pytest.mark.parametrize("dtype", [np.float32, np.float16, np.int32, np.uint8])
def test_where_broadcasts(ctx, dtype):
    rng = np.random.default_rng(13)
    cond = rng.integers(0, 3, (2, 1, 4)).astype(np.uint8)
    t = rand(rng, (3, 4), dtype, 0, 5)
    f = rand(rng, (4,), dtype, 0, 5)
    want = np.where(cond != 0, t.astype(np.float64), f.astype(np.float64))
    check(run(ctx, lambda g, c, a, b: g.where(c, a, b), cond, t, f), want, dtype)


SPECIALS = [np.nan, np.inf, -np.inf, -0.0, 0.0, 0.5, -0.5, 1.5, -2.5, 2.5, 65504.0, -np.nan]


def _round_half_even(x):
    """Round half to even in float64 by hand (not np.round, to stay independent)."""
    x = np.where(np.isfinite(x), x, 0.0)
    f = np.floor(x)
    d = x - f
    even = np.where(np.fmod(f, 2) == 0, f, f + 1)
    r = np.where(d < 0.5, f, np.where(d > 0.5, f + 1, even))
    return np.where(r == 0, np.copysign(0.0, x), r)


def round_half_even(x):
    """_round_half_even, passing NaN and the infinities through."""
    return np.where(np.isfinite(x), _round_half_even(x), x)


@pytest.mark.parametrize("dtype", [np.float32, np.float16])
def test_is_nan_and_is_infinite(ctx, dtype):
    x = rand(np.random.default_rng(11), (3, 4, 5), dtype, -1e3, 1e3)
    x.flat[:len(SPECIALS)] = SPECIALS
    x64 = x.astype(np.float64)
    check(run(ctx, lambda g, a: g.is_nan(a), x), np.isnan(x64), np.uint8)
    check(run(ctx, lambda g, a: g.is_infinite(a), x), np.isinf(x64), np.uint8)
    assert run(ctx, lambda g, a: g.is_nan(a), x).sum() == 2


@pytest.mark.parametrize("dtype", [np.float32, np.float16])
def test_round_even(ctx, dtype):
    rng = np.random.default_rng(12)
    x = (rng.integers(-200, 200, (4, 9, 7)) * 0.25).astype(dtype)  # a quarter are halves
    x.flat[:len(SPECIALS)] = SPECIALS
    want = round_half_even(x.astype(np.float64))
    got = run(ctx, lambda g, a: g.round_even(a), x)
    assert got.dtype == np.dtype(dtype)
    np.testing.assert_array_equal(got.astype(np.float64), want)
    finite = np.isfinite(want)
    np.testing.assert_array_equal(np.signbit(got[finite]), np.signbit(want[finite]))
    spec = np.array([0.1, 0.9, 1.1, 1.9, -3.5, -2.5, -1.5, 1.5, 2.5, 3.5], dtype)
    np.testing.assert_array_equal(run(ctx, lambda g, a: g.round_even(a), spec),
                                  [0, 1, 1, 2, -4, -2, -2, 2, 2, 4])


@pytest.mark.parametrize("op", ["is_nan", "is_infinite", "round_even"])
def test_special_value_ops_reject_integers(ctx, op):
    g = ctx.create_graph_builder()
    x = g.input("x", [3], np.int32)
    with pytest.raises(TypeError, match="allowed: float32, float16"):
        getattr(g, op)(x)
