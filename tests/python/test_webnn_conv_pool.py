"""webnn matmul, gemm, conv2d, conv_transpose2d and pooling against naive float64 NumPy
references (loops over the kernel window), in float32 and float16, every layout."""
import math

import numpy as np
import pytest
import webnn
from webnn_testing import run


def check(got, want, dtype):
    """Sums of products: tolerances scaled by the largest reference value."""
    assert got.dtype == np.dtype(dtype) and got.shape == want.shape
    tol = 1e-4 if np.dtype(dtype) == np.float32 else 8e-3
    scale = max(1.0, float(np.max(np.abs(want))))
    np.testing.assert_allclose(got.astype(np.float64), want, rtol=tol, atol=tol * scale)


def rand(rng, shape, dtype):
    return rng.uniform(-1, 1, shape).astype(dtype)


def f64(a):
    return a.astype(np.float64)


FLOATS = [np.float32, np.float16]


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("sa,sb", [((5, 7), (7, 3)), ((2, 4, 6), (6, 5)),
                                   ((3, 1, 4, 5), (2, 5, 3)), ((1, 6), (3, 6, 4))])
def test_matmul_broadcasts_batches(ctx, dtype, sa, sb):
    rng = np.random.default_rng(1)
    a, b = rand(rng, sa, dtype), rand(rng, sb, dtype)
    check(run(ctx, lambda g, x, y: g.matmul(x, y), a, b), np.matmul(f64(a), f64(b)), dtype)


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("a_t,b_t", [(False, False), (True, False), (False, True), (True, True)])
@pytest.mark.parametrize("with_c", [False, True])
def test_gemm(ctx, dtype, a_t, b_t, with_c):
    rng = np.random.default_rng(2)
    a = rand(rng, (5, 4) if a_t else (4, 5), dtype)
    b = rand(rng, (3, 5) if b_t else (5, 3), dtype)
    c = rand(rng, (3,), dtype)
    A, B = (f64(a).T if a_t else f64(a)), (f64(b).T if b_t else f64(b))
    want = 0.5 * A @ B + (-2.0 * f64(c) if with_c else 0)
    if with_c:
        got = run(ctx, lambda g, x, y, z: g.gemm(x, y, c=z, alpha=0.5, beta=-2.0, a_transpose=a_t,
                                                 b_transpose=b_t), a, b, c)
    else:
        got = run(ctx, lambda g, x, y: g.gemm(x, y, alpha=0.5, a_transpose=a_t, b_transpose=b_t),
                  a, b)
    check(got, want, dtype)


def conv2d_ref(x, w, pads, strides, dils, groups, bias=None):
    """nchw input, oihw filter."""
    n, c, h, wd = x.shape
    o, cg, kh, kw = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (pads[0], pads[1]), (pads[2], pads[3])))
    oh = (h + pads[0] + pads[1] - (kh - 1) * dils[0] - 1) // strides[0] + 1
    ow = (wd + pads[2] + pads[3] - (kw - 1) * dils[1] - 1) // strides[1] + 1
    out = np.zeros((n, o, oh, ow))
    og = o // groups
    for g in range(groups):
        xs, ws = xp[:, g * cg:(g + 1) * cg], w[g * og:(g + 1) * og]
        for i in range(kh):
            for j in range(kw):
                patch = xs[:, :, i * dils[0]:i * dils[0] + strides[0] * (oh - 1) + 1:strides[0],
                           j * dils[1]:j * dils[1] + strides[1] * (ow - 1) + 1:strides[1]]
                out[:, g * og:(g + 1) * og] += np.einsum("nchw,oc->nohw", patch, ws[:, :, i, j])
    if bias is not None:
        out += bias[None, :, None, None]
    return out


# filter layout -> permutation that turns an oihw array into it
CONV_FILTER = {"oihw": (0, 1, 2, 3), "hwio": (2, 3, 1, 0), "ohwi": (0, 2, 3, 1),
               "ihwo": (1, 2, 3, 0)}

CONV_CASES = [
    # input nchw shape, filter oihw shape, padding, strides, dilations, groups
    ((2, 3, 7, 6), (4, 3, 3, 3), [1, 1, 1, 1], [1, 1], [1, 1], 1),
    ((1, 4, 9, 8), (6, 2, 3, 2), [0, 2, 1, 0], [2, 1], [1, 2], 2),
    ((1, 6, 6, 6), (6, 1, 3, 3), [1, 1, 1, 1], [2, 2], [1, 1], 6),  # depthwise
    ((3, 5, 4, 5), (2, 5, 1, 1), None, None, None, 1),  # pointwise, defaults
]


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("case", range(len(CONV_CASES)))
@pytest.mark.parametrize("input_layout", ["nchw", "nhwc"])
@pytest.mark.parametrize("filter_layout", list(CONV_FILTER))
def test_conv2d(ctx, dtype, case, input_layout, filter_layout):
    xs, wsh, pads, strides, dils, groups = CONV_CASES[case]
    rng = np.random.default_rng(3 + case)
    x, w, bias = rand(rng, xs, dtype), rand(rng, wsh, dtype), rand(rng, (wsh[0],), dtype)
    want = conv2d_ref(f64(x), f64(w), pads or [0] * 4, strides or [1, 1], dils or [1, 1], groups,
                      f64(bias))
    xin = x if input_layout == "nchw" else np.ascontiguousarray(x.transpose(0, 2, 3, 1))
    win = np.ascontiguousarray(w.transpose(CONV_FILTER[filter_layout]))
    if input_layout == "nhwc":
        want = want.transpose(0, 2, 3, 1)

    def build(g, a):
        return g.conv2d(a, g.constant(win), padding=pads, strides=strides, dilations=dils,
                        groups=groups, input_layout=input_layout, filter_layout=filter_layout,
                        bias=g.constant(bias))
    check(run(ctx, build, xin), want, dtype)


def conv_transpose2d_ref(x, w, pads, strides, dils, out_pad, groups, bias=None):
    """nchw input, iohw filter."""
    n, c, h, wd = x.shape
    _, og, kh, kw = w.shape
    cg = c // groups
    fh = (h - 1) * strides[0] + (kh - 1) * dils[0] + 1 + out_pad[0]
    fw = (wd - 1) * strides[1] + (kw - 1) * dils[1] + 1 + out_pad[1]
    full = np.zeros((n, og * groups, fh, fw))
    for g in range(groups):
        xs, ws = x[:, g * cg:(g + 1) * cg], w[g * cg:(g + 1) * cg]
        for i in range(kh):
            for j in range(kw):
                full[:, g * og:(g + 1) * og,
                     i * dils[0]:i * dils[0] + strides[0] * (h - 1) + 1:strides[0],
                     j * dils[1]:j * dils[1] + strides[1] * (wd - 1) + 1:strides[1]] += \
                    np.einsum("nchw,co->nohw", xs, ws[:, :, i, j])
    out = full[:, :, pads[0]:fh - pads[1], pads[2]:fw - pads[3]]
    if bias is not None:
        out = out + bias[None, :, None, None]
    return out


TRANSPOSE_FILTER = {"iohw": (0, 1, 2, 3), "hwoi": (2, 3, 1, 0), "ohwi": (1, 2, 3, 0)}

CONVT_CASES = [
    # input, filter iohw, padding, strides, dilations, output_padding, groups
    ((2, 3, 4, 5), (3, 2, 3, 3), [0, 0, 0, 0], [1, 1], [1, 1], [0, 0], 1),
    ((1, 4, 3, 4), (4, 3, 3, 2), [1, 0, 0, 1], [2, 3], [1, 1], [1, 2], 2),
    ((1, 2, 5, 3), (2, 2, 2, 3), [1, 1, 0, 0], [2, 1], [2, 1], [0, 0], 1),
]


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("case", range(len(CONVT_CASES)))
@pytest.mark.parametrize("input_layout", ["nchw", "nhwc"])
@pytest.mark.parametrize("filter_layout", list(TRANSPOSE_FILTER))
def test_conv_transpose2d(ctx, dtype, case, input_layout, filter_layout):
    xs, wsh, pads, strides, dils, out_pad, groups = CONVT_CASES[case]
    rng = np.random.default_rng(20 + case)
    x, w = rand(rng, xs, dtype), rand(rng, wsh, dtype)
    bias = rand(rng, (wsh[1] * groups,), dtype)
    want = conv_transpose2d_ref(f64(x), f64(w), pads, strides, dils, out_pad, groups, f64(bias))
    xin = x if input_layout == "nchw" else np.ascontiguousarray(x.transpose(0, 2, 3, 1))
    win = np.ascontiguousarray(w.transpose(TRANSPOSE_FILTER[filter_layout]))
    if input_layout == "nhwc":
        want = want.transpose(0, 2, 3, 1)

    def build(g, a):
        return g.conv_transpose2d(a, g.constant(win), padding=pads, strides=strides,
                                  dilations=dils, output_padding=out_pad, groups=groups,
                                  input_layout=input_layout, filter_layout=filter_layout,
                                  bias=g.constant(bias))
    check(run(ctx, build, xin), want, dtype)


def test_conv_transpose2d_output_sizes(ctx):
    rng = np.random.default_rng(30)
    x, w = rand(rng, (1, 2, 3, 3), np.float32), rand(rng, (2, 1, 3, 3), np.float32)
    # Sizes 8 x 7 from strides 2: output padding 1 and 0 implied.
    want = conv_transpose2d_ref(f64(x), f64(w), [0] * 4, [2, 2], [1, 1], [1, 0], 1)
    got = run(ctx, lambda g, a: g.conv_transpose2d(a, g.constant(w), strides=[2, 2],
                                                   output_sizes=[8, 7]), x)
    check(got, want, np.float32)


def pool_ref(x, kind, window, pads, strides, dils, rounding="floor"):
    """nchw; padded taps are not counted (the average divides by the taps inside)."""
    n, c, h, w = x.shape
    kh, kw = window
    round_ = math.floor if rounding == "floor" else math.ceil
    oh = round_((h + pads[0] + pads[1] - (kh - 1) * dils[0] - 1) / strides[0]) + 1
    ow = round_((w + pads[2] + pads[3] - (kw - 1) * dils[1] - 1) / strides[1]) + 1
    out = np.zeros((n, c, oh, ow))
    for i in range(oh):
        for j in range(ow):
            taps = [x[:, :, y, z]
                    for a in range(kh) for b in range(kw)
                    for y, z in [(i * strides[0] - pads[0] + a * dils[0],
                                  j * strides[1] - pads[2] + b * dils[1])]
                    if 0 <= y < h and 0 <= z < w]
            t = np.stack(taps)
            out[:, :, i, j] = {"average": lambda: t.mean(0), "max": lambda: t.max(0),
                               "l2": lambda: np.sqrt((t * t).sum(0))}[kind]()
    return out


POOL_CASES = [
    # shape, window, padding, strides, dilations, rounding
    ((2, 3, 6, 7), [2, 2], [0, 0, 0, 0], [2, 2], [1, 1], "floor"),
    ((1, 2, 7, 7), [3, 3], [1, 1, 1, 1], [2, 2], [1, 1], "floor"),
    ((1, 2, 5, 8), [2, 3], [0, 1, 1, 0], [1, 2], [2, 1], "ceil"),
    ((2, 4, 4, 5), None, None, None, None, "floor"),  # global
]
POOLS = {"average": "average_pool2d", "max": "max_pool2d", "l2": "l2_pool2d"}


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("kind", list(POOLS))
@pytest.mark.parametrize("case", range(len(POOL_CASES)))
@pytest.mark.parametrize("layout", ["nchw", "nhwc"])
def test_pooling(ctx, dtype, kind, case, layout):
    shape, window, pads, strides, dils, rounding = POOL_CASES[case]
    x = rand(np.random.default_rng(40 + case), shape, dtype)
    want = pool_ref(f64(x), kind, window or list(shape[2:]), pads or [0] * 4, strides or [1, 1],
                    dils or [1, 1], rounding)
    xin = x if layout == "nchw" else np.ascontiguousarray(x.transpose(0, 2, 3, 1))
    if layout == "nhwc":
        want = want.transpose(0, 2, 3, 1)
    got = run(ctx, lambda g, a: getattr(g, POOLS[kind])(
        a, window_dimensions=window, padding=pads, strides=strides, dilations=dils,
        layout=layout, output_shape_rounding=rounding), xin)
    check(got, want, dtype)


@pytest.mark.parametrize("dtype", [np.int8, np.uint8, np.int32])
def test_max_pool2d_integers(ctx, dtype):
    x = np.random.default_rng(50).integers(-100 if dtype != np.uint8 else 0, 100,
                                           (1, 2, 4, 6)).astype(dtype)
    want = pool_ref(f64(x), "max", [2, 3], [0] * 4, [2, 3], [1, 1])
    got = run(ctx, lambda g, a: g.max_pool2d(a, window_dimensions=[2, 3], strides=[2, 3]), x)
    assert got.dtype == dtype
    np.testing.assert_array_equal(got, want)


def test_pool_output_sizes(ctx):
    x = rand(np.random.default_rng(51), (1, 1, 5, 5), np.float32)
    # (5 - 2) / 2 + 1 = 2.5: output_sizes [3, 3] picks the ceiling.
    want = pool_ref(f64(x), "max", [2, 2], [0] * 4, [2, 2], [1, 1], "ceil")
    got = run(ctx, lambda g, a: g.max_pool2d(a, window_dimensions=[2, 2], strides=[2, 2],
                                             output_sizes=[3, 3]), x)
    check(got, want, np.float32)
