"""webnn shape and data-movement ops against NumPy references (exact: these ops move
values without arithmetic, except resample2d's linear mode)."""
import math

import numpy as np
import pytest
import webnn


def run_many(ctx, fn, *arrays):
    """fn returns an operand or a list of them; the outputs come back in that order."""
    b = ctx.create_graph_builder()
    ins = [b.input(f"x{i}", list(a.shape), a.dtype) for i, a in enumerate(arrays)]
    outs = fn(b, *ins)
    single = not isinstance(outs, list)
    outs = [outs] if single else outs
    graph = b.build({f"y{i}": o for i, o in enumerate(outs)})
    res = ctx.compute(graph, {f"x{i}": a for i, a in enumerate(arrays)})
    got = [res[f"y{i}"] for i in range(len(outs))]
    return got[0] if single else got


def same(got, want):
    assert got.dtype == want.dtype and got.shape == want.shape, (got.dtype, got.shape, want.shape)
    np.testing.assert_array_equal(got, want)


TYPES = [np.float32, np.float16, np.int32, np.uint32, np.int64, np.uint64, np.int8, np.uint8]


def rand(shape, dtype, seed=0):
    return np.random.default_rng(seed).integers(0, 100, shape).astype(dtype)


@pytest.mark.parametrize("dtype", TYPES)
def test_reshape(ctx, dtype):
    x = rand((2, 3, 4), dtype)
    same(run_many(ctx, lambda g, a: g.reshape(a, [4, 1, 6]), x), x.reshape(4, 1, 6))


def test_reshape_to_scalar(ctx):
    x = np.array([[7.5]], np.float32)
    got = run_many(ctx, lambda g, a: g.reshape(a, []), x)
    assert got.shape == () and got == 7.5


@pytest.mark.parametrize("dtype", TYPES)
@pytest.mark.parametrize("perm", [None, [0, 2, 1, 3], [3, 1, 0, 2]])
def test_transpose(ctx, dtype, perm):
    x = rand((2, 3, 4, 5), dtype)
    same(run_many(ctx, lambda g, a: g.transpose(a, permutation=perm), x), np.transpose(x, perm))


@pytest.mark.parametrize("dtype", [np.float32, np.float16, np.int8, np.uint64])
@pytest.mark.parametrize("axis", [0, 1, 2])
def test_concat(ctx, dtype, axis):
    shapes = [[2, 3, 4], [2, 3, 4], [2, 3, 4]]
    for i, s in enumerate(shapes):
        s[axis] = i + 1
    xs = [rand(s, dtype, i) for i, s in enumerate(shapes)]
    same(run_many(ctx, lambda g, *ops: g.concat(list(ops), axis), *xs), np.concatenate(xs, axis))


@pytest.mark.parametrize("dtype", [np.float32, np.float16, np.int32, np.uint8])
def test_split_equal_parts(ctx, dtype):
    x = rand((2, 6, 3), dtype)
    got = run_many(ctx, lambda g, a: g.split(a, 3, axis=1), x)
    assert len(got) == 3
    for g_, w in zip(got, np.split(x, 3, axis=1)):
        same(g_, w)


def test_split_sizes(ctx):
    x = rand((4, 6), np.float32)
    got = run_many(ctx, lambda g, a: g.split(a, [1, 3, 2], axis=1), x)
    for g_, w in zip(got, np.split(x, [1, 4], axis=1)):
        same(g_, w)
    got0 = run_many(ctx, lambda g, a: g.split(a, [3, 1]), x)  # default axis 0
    same(got0[0], x[:3])
    same(got0[1], x[3:])


@pytest.mark.parametrize("dtype", [np.float32, np.float16, np.int64, np.int8])
@pytest.mark.parametrize("strides", [None, [1, 2, 3]])
def test_slice(ctx, dtype, strides):
    x = rand((5, 6, 7), dtype)
    got = run_many(ctx, lambda g, a: g.slice(a, [1, 0, 2], [3, 5, 4], strides=strides), x)
    st = strides or [1, 1, 1]
    same(got, x[1:4:st[0], 0:5:st[1], 2:6:st[2]])


@pytest.mark.parametrize("dtype", [np.float32, np.float16, np.int32, np.uint8])
@pytest.mark.parametrize("index_type", [np.int32, np.uint32, np.int64])
@pytest.mark.parametrize("axis", [0, 1, 2])
def test_gather(ctx, dtype, index_type, axis):
    x = rand((3, 4, 5), dtype)
    idx = np.random.default_rng(1).integers(0, x.shape[axis], (2, 3)).astype(index_type)
    got = run_many(ctx, lambda g, a, i: g.gather(a, i, axis=axis), x, idx)
    same(got, np.take(x, idx.astype(np.int64), axis=axis))


def clamp_index(idx, dim):
    """cppnn's rule for run-time indices: negative counts from the end, the rest is clamped."""
    idx = idx.astype(np.int64)
    return np.clip(np.where(idx < 0, idx + dim, idx), 0, dim - 1)


@pytest.mark.parametrize("dtype", [np.float32, np.float16, np.int32, np.uint8])
@pytest.mark.parametrize("index_type", [np.int32, np.uint32, np.int64])
@pytest.mark.parametrize("axis", [0, 1, 2])
def test_gather_elements(ctx, dtype, index_type, axis):
    x = rand((3, 4, 5), dtype)
    shape = list(x.shape)
    shape[axis] = 6
    low = 0 if index_type == np.uint32 else -x.shape[axis] - 2
    idx = np.random.default_rng(2).integers(low, x.shape[axis] + 2, shape).astype(index_type)
    got = run_many(ctx, lambda g, a, i: g.gather_elements(a, i, axis=axis), x, idx)
    same(got, np.take_along_axis(x, clamp_index(idx, x.shape[axis]), axis=axis))


@pytest.mark.parametrize("dtype", [np.float32, np.float16, np.int32, np.int8])
@pytest.mark.parametrize("index_type", [np.int32, np.uint32, np.int64])
@pytest.mark.parametrize("coords", [1, 2, 3])
def test_gather_nd(ctx, dtype, index_type, coords):
    x = rand((3, 4, 5), dtype)
    low = 0 if index_type == np.uint32 else -7
    idx = np.random.default_rng(3).integers(low, 7, (2, 3, coords)).astype(index_type)
    got = run_many(ctx, lambda g, a, i: g.gather_nd(a, i), x, idx)
    picks = tuple(clamp_index(idx[..., d], x.shape[d]) for d in range(coords))
    same(got, x[picks])


def test_gather_elements_and_nd_errors(ctx):
    g = ctx.create_graph_builder()
    x = g.input("x", [4, 5], "float32")
    with pytest.raises(TypeError, match="must have the rank of operand 'input'"):
        g.gather_elements(x, g.input("i", [4], "int32"))
    with pytest.raises(TypeError, match="coordinate size 3"):
        g.gather_nd(x, g.input("j", [2, 3], "int32"))
    with pytest.raises(TypeError, match="allowed: int32, uint32, int64"):
        g.gather_nd(x, g.input("k", [2, 1], "float32"))
    # The builder still works after the errors.
    y = g.gather_nd(x, g.input("ok", [3, 1], "int64"), label="nd")
    got = ctx.compute(g.build({"y": y}), {"x": np.ones((4, 5), np.float32),
                                          "ok": np.array([[3], [-1], [9]], np.int64)})["y"]
    same(got, np.ones((3, 5), np.float32))


@pytest.mark.parametrize("dtype", [np.float32, np.float16, np.int32, np.uint8])
@pytest.mark.parametrize("index_type", [np.int32, np.uint32, np.int64])
@pytest.mark.parametrize("axis", [0, 1, 2])
def test_scatter_elements(ctx, dtype, index_type, axis):
    """Indices past both ends are clamped; of repeated ones the last update (in row-major
    order) wins."""
    x = rand((3, 4, 5), dtype)
    shape = list(x.shape)
    shape[axis] = 2
    low = 0 if index_type == np.uint32 else -x.shape[axis] - 2
    idx = np.random.default_rng(4).integers(low, x.shape[axis] + 2, shape).astype(index_type)
    upd = rand(shape, dtype, seed=5)
    got = run_many(ctx, lambda g, a, i, u: g.scatter_elements(a, i, u, axis=axis), x, idx, upd)
    want = x.copy()
    clamped = clamp_index(idx, x.shape[axis])
    for pos in np.ndindex(*shape):
        at = list(pos)
        at[axis] = clamped[pos]
        want[tuple(at)] = upd[pos]
    same(got, want)


@pytest.mark.parametrize("dtype", [np.float32, np.float16, np.int32, np.int8])
@pytest.mark.parametrize("index_type", [np.int32, np.uint32, np.int64])
@pytest.mark.parametrize("coords", [1, 2, 3])
def test_scatter_nd(ctx, dtype, index_type, coords):
    x = rand((3, 4, 5), dtype)
    low = 0 if index_type == np.uint32 else -7
    idx = np.random.default_rng(6).integers(low, 7, (2, 3, coords)).astype(index_type)
    upd = rand((2, 3) + x.shape[coords:], dtype, seed=7)
    got = run_many(ctx, lambda g, a, i, u: g.scatter_nd(a, i, u), x, idx, upd)
    want = x.copy()
    for pos in np.ndindex(2, 3):
        at = tuple(int(clamp_index(idx[pos][d], x.shape[d])) for d in range(coords))
        want[at] = upd[pos]
    same(got, want)


def test_scatter_errors(ctx):
    g = ctx.create_graph_builder()
    x = g.input("x", [4, 5], "float32")
    with pytest.raises(TypeError, match="operand 'updates' of shape \\[2, 4\\] must have the shape"):
        g.scatter_elements(x, g.input("i", [2, 5], "int32"), g.input("u", [2, 4], "float32"))
    with pytest.raises(TypeError, match="operand 'updates' has data type int32"):
        g.scatter_nd(x, g.input("j", [2, 1], "int32"), g.input("v", [2, 5], "int32"))
    with pytest.raises(TypeError, match="axis 2 is out of range"):
        g.scatter_elements(x, g.input("k", [2, 5], "int64"), g.input("w", [2, 5], "float32"),
                           axis=2)
    y = g.scatter_nd(x, g.input("ok", [1, 2], "int64"), g.input("one", [1], "float32"))
    got = ctx.compute(g.build({"y": y}), {"x": np.zeros((4, 5), np.float32),
                                          "ok": np.array([[-1, 9]], np.int64),
                                          "one": np.ones(1, np.float32)})["y"]
    want = np.zeros((4, 5), np.float32)
    want[3, 4] = 1
    same(got, want)


@pytest.mark.parametrize("dtype", [np.float32, np.float16, np.int64, np.uint8])
def test_expand(ctx, dtype):
    x = rand((3, 1), dtype)
    same(run_many(ctx, lambda g, a: g.expand(a, [2, 3, 4]), x), np.broadcast_to(x, (2, 3, 4)))


@pytest.mark.parametrize("dtype", [np.float32, np.float16, np.int32, np.int8])
@pytest.mark.parametrize("mode,np_mode", [("constant", "constant"), ("edge", "edge"),
                                          ("reflection", "reflect")])
def test_pad(ctx, dtype, mode, np_mode):
    x = rand((2, 3, 4), dtype)
    begin, end = [0, 1, 2], [1, 2, 3]
    kwargs = {"constant_values": 7} if mode == "constant" else {}
    want = np.pad(x, list(zip(begin, end)), mode=np_mode, **kwargs)
    got = run_many(ctx, lambda g, a: g.pad(a, begin, end, mode=mode, value=7.0), x)
    same(got, want)


@pytest.mark.parametrize("dtype", [np.float32, np.float16, np.uint32, np.int8])
def test_tile(ctx, dtype):
    x = rand((2, 3), dtype)
    same(run_many(ctx, lambda g, a: g.tile(a, [3, 2]), x), np.tile(x, (3, 2)))


@pytest.mark.parametrize("dtype", [np.float32, np.float16, np.int64, np.uint8])
@pytest.mark.parametrize("axes", [None, [1], [0, 2], []])
def test_reverse(ctx, dtype, axes):
    x = rand((2, 3, 4), dtype)
    want = np.flip(x, axis=None if axes is None else tuple(axes))
    same(run_many(ctx, lambda g, a: g.reverse(a, axes=axes), x), want)


@pytest.mark.parametrize("dtype", [np.float32, np.float16, np.int32, np.uint8])
@pytest.mark.parametrize("upper", [True, False])
@pytest.mark.parametrize("diagonal", [-1, 0, 2])
def test_triangular(ctx, dtype, upper, diagonal):
    x = rand((2, 4, 5), dtype)
    want = np.triu(x, diagonal) if upper else np.tril(x, diagonal)
    same(run_many(ctx, lambda g, a: g.triangular(a, upper=upper, diagonal=diagonal), x), want)


def test_triangular_defaults_to_upper(ctx):
    x = rand((3, 3), np.float32)
    same(run_many(ctx, lambda g, a: g.triangular(a), x), np.triu(x))


def resample_ref(x, mode, sizes, axes):
    """Half-pixel source coordinates clamped to the input, as the spec's resample2d."""
    out_shape = list(x.shape)
    for k, a in enumerate(axes):
        out_shape[a] = sizes[k]
    out = np.zeros(out_shape)
    ay, ax = axes

    def coord(o, n_in, n_out):
        c = (o + 0.5) / (n_out / n_in) - 0.5
        return min(max(c, 0.0), n_in - 1.0)
    for oy in range(out_shape[ay]):
        for ox in range(out_shape[ax]):
            cy = coord(oy, x.shape[ay], out_shape[ay])
            cx = coord(ox, x.shape[ax], out_shape[ax])

            def at(iy, ix):
                idx = [slice(None)] * x.ndim
                idx[ay], idx[ax] = iy, ix
                return x[tuple(idx)].astype(np.float64)
            oidx = [slice(None)] * x.ndim
            oidx[ay], oidx[ax] = oy, ox
            if mode == "nearest-neighbor":
                out[tuple(oidx)] = at(math.ceil(cy - 0.5), math.ceil(cx - 0.5))
            else:
                y0, x0 = math.floor(cy), math.floor(cx)
                y1, x1 = math.ceil(cy), math.ceil(cx)
                wy, wx = cy - y0, cx - x0
                out[tuple(oidx)] = ((1 - wy) * (1 - wx) * at(y0, x0) + (1 - wy) * wx * at(y0, x1)
                                    + wy * (1 - wx) * at(y1, x0) + wy * wx * at(y1, x1))
    return out


@pytest.mark.parametrize("dtype", [np.float32, np.float16])
@pytest.mark.parametrize("mode", ["nearest-neighbor", "linear"])
@pytest.mark.parametrize("sizes,axes", [([7, 3], None), ([9, 2], [1, 2]), ([3, 8], [2, 3])])
def test_resample2d_sizes(ctx, dtype, mode, sizes, axes):
    x = np.random.default_rng(2).uniform(-1, 1, (2, 3, 4, 5)).astype(dtype)
    want = resample_ref(x, mode, sizes, axes or [2, 3])
    got = run_many(ctx, lambda g, a: g.resample2d(a, mode=mode, sizes=sizes, axes=axes), x)
    assert got.dtype == dtype and got.shape == want.shape
    tol = 1e-5 if dtype == np.float32 else 2e-3
    np.testing.assert_allclose(got.astype(np.float64), want, rtol=tol, atol=tol)


@pytest.mark.parametrize("mode", ["nearest-neighbor", "linear"])
def test_resample2d_scales(ctx, mode):
    x = np.random.default_rng(3).uniform(-1, 1, (1, 2, 3, 4)).astype(np.float32)
    want = resample_ref(x, mode, [6, 8], [2, 3])
    got = run_many(ctx, lambda g, a: g.resample2d(a, mode=mode, scales=[2.0, 2.0]), x)
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


def test_resample2d_nearest_integers(ctx):
    x = rand((1, 1, 3, 3), np.uint8)
    got = run_many(ctx, lambda g, a: g.resample2d(a, sizes=[6, 6]), x)
    same(got, resample_ref(x, "nearest-neighbor", [6, 6], [2, 3]).astype(np.uint8))
