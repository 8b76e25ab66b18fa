"""MLTensor (device tensors) and DLPack zero-copy: create / write / read / dispatch on the CPU
context, numpy views of MLTensors, numpy arrays dispatched in place, every misuse as the
right exception with the context still working. The GPU tests run only where
create_context() gets the CUDA backend and torch has CUDA: torch tensors in and out of
dispatch, torch.from_dlpack(MLTensor), a graph1 -> MLTensor -> graph2 pipeline."""
import gc

import numpy as np
import pytest
import webnn

ML = webnn.ML()
RNG = np.random.default_rng(7)
W = RNG.uniform(-1, 1, (3, 4)).astype(np.float32)


def cpu():
    return ML.create_context(accelerated=False)


def affine(ctx):
    """y = relu(x @ W + 1) for x [2, 3] float32."""
    b = ctx.create_graph_builder()
    x = b.input("x", [2, 3], "float32")
    y = b.relu(b.add(b.matmul(x, b.constant(W)), b.constant(np.ones((1,), np.float32))))
    return b.build({"y": y})


def twice(ctx):
    """z = y * 2 for y [2, 4] float32."""
    b = ctx.create_graph_builder()
    y = b.input("y", [2, 4], "float32")
    return b.build({"z": b.mul(y, b.constant(np.full((1,), 2, np.float32)))})


def affine_ref(x):
    return np.maximum(x.astype(np.float64) @ W.astype(np.float64) + 1, 0)


def x_value(seed=0):
    return np.random.default_rng(seed).uniform(-1, 1, (2, 3)).astype(np.float32)


# ---- CPU context: the API


def test_create_write_read_round_trip():
    ctx = cpu()
    t = ctx.create_tensor([2, 3], "float32")
    assert isinstance(t, webnn.MLTensor)
    assert t.shape == [2, 3] and t.data_type == "float32"
    assert t.on_device is False and t.byte_size == 24 and not t.destroyed
    assert repr(t) == "MLTensor(shape=[2, 3], data_type='float32', on_device=False)"
    np.testing.assert_array_equal(ctx.read_tensor(t), np.zeros((2, 3), np.float32))
    x = x_value()
    ctx.write_tensor(t, x)
    got = ctx.read_tensor(t)
    assert got.dtype == np.float32 and got.shape == (2, 3)
    np.testing.assert_array_equal(got, x)
    # read_tensor returns a copy: changing it leaves the tensor alone
    got[:] = 5
    np.testing.assert_array_equal(ctx.read_tensor(t), x)


@pytest.mark.parametrize("dtype", [np.float16, np.int32, np.uint32, np.int64, np.uint64,
                                   np.int8, np.uint8])
def test_round_trip_every_type(dtype):
    ctx = cpu()
    t = ctx.create_tensor((4,), np.dtype(dtype))
    assert t.data_type == np.dtype(dtype).name
    v = np.arange(4).astype(dtype)
    ctx.write_tensor(t, v)
    np.testing.assert_array_equal(ctx.read_tensor(t), v)


def test_write_tensor_copies_a_strided_array():
    ctx = cpu()
    t = ctx.create_tensor([2, 3], "float32")
    big = np.arange(24, dtype=np.float32).reshape(4, 6)
    view = big[::2, ::2]
    assert not view.flags.c_contiguous
    ctx.write_tensor(t, view)
    np.testing.assert_array_equal(ctx.read_tensor(t), view)
    ctx.write_tensor(t, big[::-2, ::-2])  # negative strides too
    np.testing.assert_array_equal(ctx.read_tensor(t), big[::-2, ::-2])


def test_dispatch_chains_two_graphs():
    ctx = cpu()
    g1, g2 = affine(ctx), twice(ctx)
    x = ctx.create_tensor([2, 3], "float32")
    mid = ctx.create_tensor([2, 4], "float32")
    z = ctx.create_tensor([2, 4], "float32")
    for seed in range(3):
        xv = x_value(seed)
        ctx.write_tensor(x, xv)
        assert ctx.dispatch(g1, {"x": x}, {"y": mid}) is None
        ctx.dispatch(g2, {"y": mid}, outputs={"z": z})
        ctx.synchronize()
        np.testing.assert_allclose(ctx.read_tensor(z), 2 * affine_ref(xv), rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(ctx.read_tensor(mid), affine_ref(xv), rtol=1e-5, atol=1e-6)


# ---- DLPack on the CPU context


def test_numpy_from_dlpack_shares_memory():
    ctx = cpu()
    t = ctx.create_tensor([2, 3], "float32")
    assert t.__dlpack_device__() == (1, 0)
    a = np.from_dlpack(t)
    assert a.shape == (2, 3) and a.dtype == np.float32
    x = x_value(1)
    ctx.write_tensor(t, x)  # through the MLTensor ...
    np.testing.assert_array_equal(a, x)  # ... seen in the numpy view
    a[1, 2] = 42  # through the view ...
    assert ctx.read_tensor(t)[1, 2] == 42  # ... seen in the MLTensor
    # a dispatch writing the tensor shows in the view
    y = ctx.create_tensor([2, 4], "float32")
    ya = np.from_dlpack(y)
    ctx.dispatch(affine(ctx), {"x": t}, {"y": y})
    np.testing.assert_allclose(ya, affine_ref(a), rtol=1e-5, atol=1e-6)


def test_dlpack_view_keeps_the_memory_alive():
    ctx = cpu()
    t = ctx.create_tensor([3], "int32")
    ctx.write_tensor(t, np.array([1, 2, 3], np.int32))
    a = np.from_dlpack(t)
    t.destroy()  # the view still holds it: freed with the view
    assert t.destroyed and repr(t) == "MLTensor(destroyed)"
    with pytest.raises(RuntimeError, match="destroyed"):
        ctx.read_tensor(t)
    with pytest.raises(RuntimeError, match="destroyed"):
        np.from_dlpack(t)
    np.testing.assert_array_equal(a, [1, 2, 3])
    t2 = ctx.create_tensor([3], "int32")
    b = np.from_dlpack(t2)
    del t2
    gc.collect()
    b[:] = 7  # the tensor object is gone, its memory is not
    np.testing.assert_array_equal(b, [7, 7, 7])


def test_dlpack_protocol_arguments():
    ctx = cpu()
    t = ctx.create_tensor([2], "float32")
    cap = t.__dlpack__()
    assert type(cap).__name__ == "PyCapsule"
    assert t.__dlpack__(max_version=(1, 0)) is not None
    assert t.__dlpack__(stream=-1) is not None
    with pytest.raises(BufferError):
        t.__dlpack__(copy=True)
    with pytest.raises(BufferError):
        t.__dlpack__(dl_device=(2, 0))
    with pytest.raises(TypeError):
        t.__dlpack__(stream="x")
    np.testing.assert_array_equal(np.from_dlpack(t, copy=False), [0, 0])


def test_dispatch_numpy_arrays_in_place():
    ctx = cpu()
    g = affine(ctx)
    x = x_value(2)
    y = np.full((2, 4), -1, np.float32)
    ptr = y.ctypes.data
    ctx.dispatch(g, {"x": x}, {"y": y})
    assert y.ctypes.data == ptr  # the same array, filled in place
    np.testing.assert_allclose(y, affine_ref(x), rtol=1e-5, atol=1e-6)
    # mixed: numpy in, MLTensor out, and back
    mid = ctx.create_tensor([2, 4], "float32")
    z = np.zeros((2, 4), np.float32)
    ctx.dispatch(g, {"x": x}, {"y": mid})
    ctx.dispatch(twice(ctx), {"y": mid}, {"z": z})
    np.testing.assert_allclose(z, 2 * affine_ref(x), rtol=1e-5, atol=1e-6)
    # a read-only input is fine
    x.flags.writeable = False
    ctx.dispatch(g, {"x": x}, {"y": y})
    np.testing.assert_allclose(y, affine_ref(x), rtol=1e-5, atol=1e-6)


def test_wrap_tensor_uses_numpy_memory():
    ctx = cpu()
    x = x_value(3)
    out = np.zeros((2, 4), np.float32)
    tx, ty = ctx.wrap_tensor(x), ctx.wrap_tensor(out)
    assert tx.shape == [2, 3] and tx.data_type == "float32" and not tx.on_device
    assert "wrapped" in repr(tx)
    ctx.dispatch(affine(ctx), {"x": tx}, {"y": ty})
    np.testing.assert_allclose(out, affine_ref(x), rtol=1e-5, atol=1e-6)
    x[:] = 0.5  # numpy writes show through the MLTensor
    np.testing.assert_array_equal(ctx.read_tensor(tx), np.full((2, 3), 0.5, np.float32))
    ctx.write_tensor(tx, np.ones((2, 3), np.float32))  # and the other way
    np.testing.assert_array_equal(x, np.ones((2, 3), np.float32))
    # the MLTensor keeps the array alive
    keep = ctx.wrap_tensor(np.arange(4, dtype=np.int64))
    gc.collect()
    np.testing.assert_array_equal(ctx.read_tensor(keep), np.arange(4))


# ---- misuse: the right exception, and the context keeps working


def still_works(ctx):
    g = affine(ctx)
    x, y = ctx.create_tensor([2, 3], "float32"), ctx.create_tensor([2, 4], "float32")
    xv = x_value(9)
    ctx.write_tensor(x, xv)
    ctx.dispatch(g, {"x": x}, {"y": y})
    np.testing.assert_allclose(ctx.read_tensor(y), affine_ref(xv), rtol=1e-5, atol=1e-6)


def test_wrong_data_type_and_shape():
    ctx = cpu()
    g = affine(ctx)
    t = ctx.create_tensor([2, 3], "float32")
    y = ctx.create_tensor([2, 4], "float32")
    with pytest.raises(TypeError, match="float64"):
        ctx.write_tensor(t, np.zeros((2, 3)))
    with pytest.raises(TypeError, match="data is float16"):
        ctx.write_tensor(t, np.zeros((2, 3), np.float16))
    with pytest.raises(TypeError, match=r"the tensor is float32 \[2, 3\]"):
        ctx.write_tensor(t, np.zeros((3, 2), np.float32))
    with pytest.raises(TypeError, match="numpy array or an object with __dlpack__"):
        ctx.write_tensor(t, [[1, 2, 3], [4, 5, 6]])
    with pytest.raises(TypeError, match="the graph expects float32"):
        ctx.dispatch(g, {"x": ctx.create_tensor([2, 3], "float16")}, {"y": y})
    with pytest.raises(TypeError, match=r"the graph expects float32 \[2, 3\]"):
        ctx.dispatch(g, {"x": ctx.create_tensor([3, 2], "float32")}, {"y": y})
    with pytest.raises(TypeError, match="the graph expects float32"):
        ctx.dispatch(g, {"x": np.zeros((2, 3), np.int32)}, {"y": y})
    with pytest.raises(TypeError, match="float64, which WebNN does not have"):
        ctx.dispatch(g, {"x": np.zeros((2, 3))}, {"y": y})
    with pytest.raises(TypeError, match=r"the graph expects float32 \[2, 4\]"):
        ctx.dispatch(g, {"x": t}, {"y": np.zeros((4, 2), np.float32)})
    with pytest.raises(TypeError, match="input 'x' is missing"):
        ctx.dispatch(g, {}, {"y": y})
    with pytest.raises(TypeError, match="no output named 'q'"):
        ctx.dispatch(g, {"x": t}, {"y": y, "q": ctx.create_tensor([1], "float32")})
    with pytest.raises(TypeError, match="names must be strings"):
        ctx.dispatch(g, {1: t}, {"y": y})
    with pytest.raises(TypeError, match="__dlpack__"):
        ctx.dispatch(g, {"x": [[0.0] * 3] * 2}, {"y": y})
    with pytest.raises(TypeError, match="negative dimension"):
        ctx.create_tensor([2, -1], "float32")
    with pytest.raises(TypeError, match="float64"):
        ctx.create_tensor([2], "float64")
    with pytest.raises(TypeError):
        ctx.write_tensor(np.zeros(3), np.zeros(3))  # not an MLTensor
    still_works(ctx)


def test_non_contiguous_imports_are_rejected():
    ctx = cpu()
    g = affine(ctx)
    y = np.zeros((2, 4), np.float32)
    strided = np.zeros((2, 6), np.float32)[:, ::2]
    with pytest.raises(TypeError, match="C-contiguous"):
        ctx.dispatch(g, {"x": strided}, {"y": y})
    with pytest.raises(TypeError, match="C-contiguous"):
        ctx.dispatch(g, {"x": np.zeros((3, 2), np.float32).T}, {"y": y})
    with pytest.raises(TypeError, match="C-contiguous"):
        ctx.dispatch(g, {"x": x_value()}, {"y": np.zeros((2, 8), np.float32)[:, ::2]})
    with pytest.raises(TypeError, match="C-contiguous"):
        ctx.dispatch(g, {"x": x_value()[::-1]}, {"y": y})
    with pytest.raises(TypeError, match="C-contiguous"):
        ctx.wrap_tensor(strided)
    ro = np.zeros((2, 4), np.float32)
    ro.flags.writeable = False
    with pytest.raises(TypeError, match="read-only"):
        ctx.dispatch(g, {"x": x_value()}, {"y": ro})
    np.testing.assert_array_equal(y, 0)  # nothing was written
    still_works(ctx)


def test_tensor_of_another_context():
    ctx, other = cpu(), cpu()
    g = affine(ctx)
    foreign = other.create_tensor([2, 3], "float32")
    y = ctx.create_tensor([2, 4], "float32")
    with pytest.raises(TypeError, match="another context"):
        ctx.dispatch(g, {"x": foreign}, {"y": y})
    with pytest.raises(TypeError, match="another context"):
        ctx.read_tensor(foreign)
    with pytest.raises(TypeError, match="another context"):
        ctx.write_tensor(foreign, x_value())
    still_works(ctx)
    still_works(other)


def test_destroyed_tensor():
    ctx = cpu()
    g = affine(ctx)
    x = ctx.create_tensor([2, 3], "float32")
    y = ctx.create_tensor([2, 4], "float32")
    x.destroy()
    x.destroy()  # twice is fine
    assert x.destroyed
    for call in (lambda: ctx.read_tensor(x), lambda: ctx.write_tensor(x, x_value()),
                 lambda: ctx.dispatch(g, {"x": x}, {"y": y}), lambda: x.shape,
                 lambda: x.__dlpack__(), lambda: x.__dlpack_device__()):
        with pytest.raises(RuntimeError, match="destroyed"):
            call()
    still_works(ctx)


def test_destroyed_context():
    ctx = cpu()
    g = affine(ctx)
    x = ctx.create_tensor([2, 3], "float32")
    y = ctx.create_tensor([2, 4], "float32")
    ctx.destroy()
    for call in (lambda: ctx.create_tensor([2], "float32"), lambda: ctx.read_tensor(x),
                 lambda: ctx.write_tensor(x, x_value()), lambda: ctx.synchronize(),
                 lambda: ctx.dispatch(g, {"x": x}, {"y": y}),
                 lambda: ctx.dispatch(g, {"x": x_value()}, {"y": np.zeros((2, 4), np.float32)}),
                 lambda: ctx.wrap_tensor(x_value()), lambda: np.from_dlpack(x)):
        with pytest.raises(RuntimeError, match="destroyed"):
            call()
    assert x.shape == [2, 3]
    x.destroy()  # after its context: no crash
    still_works(cpu())


def test_same_memory_in_and_out():
    ctx = cpu()
    b = ctx.create_graph_builder()
    a = b.input("a", [2, 4], "float32")
    neg = b.build({"b": b.neg(a)})
    t = ctx.create_tensor([2, 4], "float32")
    with pytest.raises(TypeError, match="both read and written"):
        ctx.dispatch(neg, {"a": t}, {"b": t})
    arr = np.ones((2, 4), np.float32)
    with pytest.raises(TypeError, match="both read and written"):
        ctx.dispatch(neg, {"a": arr}, {"b": arr})
    with pytest.raises(TypeError, match="both read and written"):
        ctx.dispatch(neg, {"a": arr}, {"b": ctx.wrap_tensor(arr)})
    big = np.ones((3, 4), np.float32)  # overlapping views, not the same start
    with pytest.raises(TypeError, match="both read and written"):
        ctx.dispatch(neg, {"a": big[:2]}, {"b": big[1:]})
    with pytest.raises(TypeError, match="both read and written"):
        ctx.dispatch(neg, {"a": np.from_dlpack(t)}, {"b": t})
    b2 = ctx.create_graph_builder()
    a2 = b2.input("a", [2, 4], "float32")
    two = b2.build({"p": b2.neg(a2), "q": b2.abs(a2)})
    out = ctx.create_tensor([2, 4], "float32")
    with pytest.raises(TypeError, match="share memory"):
        ctx.dispatch(two, {"a": t}, {"p": out, "q": out})
    np.testing.assert_array_equal(arr, 1)
    # disjoint halves of one array are fine
    ctx.dispatch(neg, {"a": big[:2]}, {"b": np.zeros((2, 4), np.float32)})
    still_works(ctx)


def test_gil_released_during_dispatch():
    import threading
    ctx = cpu()
    g = affine(ctx)
    errors = []

    def work(seed):
        try:
            for _ in range(20):
                x, y = x_value(seed), np.zeros((2, 4), np.float32)
                ctx.dispatch(g, {"x": x}, {"y": y})
                np.testing.assert_allclose(y, affine_ref(x), rtol=1e-5, atol=1e-6)
        except Exception as e:  # noqa: BLE001
            errors.append(e)

    threads = [threading.Thread(target=work, args=(s,)) for s in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors


# ---- GPU: torch CUDA tensors (skipped without a CUDA backend and torch with CUDA)


def _gpu():
    try:
        ctx = ML.create_context()
    except Exception:  # noqa: BLE001
        return None
    if ctx.backend != "cuda":
        return None
    try:
        import torch
    except ImportError:
        return None
    return ctx if torch.cuda.is_available() else None


GPU = _gpu()
gpu = pytest.mark.skipif(GPU is None, reason="needs the CUDA backend and torch with CUDA")


def torch_affine(x):
    import torch
    w = torch.from_numpy(W).to(x.device)
    return torch.relu(x @ w + 1)


@gpu
def test_gpu_mltensor_create_write_read():
    ctx = GPU
    t = ctx.create_tensor([2, 3], "float32")
    assert t.on_device is True
    import torch
    assert t.__dlpack_device__() == (2, torch.cuda.current_device())
    x = x_value(4)
    ctx.write_tensor(t, x)
    np.testing.assert_array_equal(ctx.read_tensor(t), x)
    with pytest.raises(TypeError, match="computes on the GPU"):
        ctx.dispatch(affine(ctx), {"x": x}, {"y": ctx.create_tensor([2, 4], "float32")})


@gpu
def test_gpu_torch_tensors_in_and_out_of_dispatch():
    import torch
    ctx = GPU
    g = affine(ctx)
    x = torch.rand(2, 3, device="cuda") * 2 - 1
    y = torch.full((2, 4), -7.0, device="cuda")
    ptr = y.data_ptr()
    ctx.dispatch(g, {"x": x}, {"y": y})
    assert y.data_ptr() == ptr and y.device.type == "cuda"
    torch.testing.assert_close(y, torch_affine(x), rtol=1e-4, atol=1e-5)
    # the producer's queued work is seen: x written by a kernel just before the dispatch
    for i in range(5):
        x.copy_(torch.linspace(-1, 1, 6, device="cuda").reshape(2, 3) * (i + 1))
        ctx.dispatch(g, {"x": x}, {"y": y})
        torch.testing.assert_close(y, torch_affine(x), rtol=1e-4, atol=1e-5)
    # on a side stream too
    s = torch.cuda.Stream()
    with torch.cuda.stream(s):
        big = torch.randn(2, 3, device="cuda")
        x2 = big * 3
        y2 = torch.empty(2, 4, device="cuda")
        ctx.dispatch(g, {"x": x2}, {"y": y2})
        torch.testing.assert_close(y2, torch_affine(x2), rtol=1e-4, atol=1e-5)
    # errors: strided, wrong dtype, CPU tensor
    with pytest.raises(TypeError, match="C-contiguous"):
        ctx.dispatch(g, {"x": torch.zeros(3, 2, device="cuda").t()}, {"y": y})
    with pytest.raises(TypeError, match="the graph expects float32"):
        ctx.dispatch(g, {"x": torch.zeros(2, 3, device="cuda", dtype=torch.float16)}, {"y": y})
    with pytest.raises(TypeError, match="computes on the GPU"):
        ctx.dispatch(g, {"x": torch.zeros(2, 3)}, {"y": y})


@gpu
def test_gpu_wrap_tensor_of_torch():
    import torch
    ctx = GPU
    x = torch.randn(2, 3, device="cuda")
    tx = ctx.wrap_tensor(x)
    assert tx.on_device and tx.shape == [2, 3]
    np.testing.assert_array_equal(ctx.read_tensor(tx), x.cpu().numpy())
    y = ctx.create_tensor([2, 4], "float32")
    ctx.dispatch(affine(ctx), {"x": tx}, {"y": y})
    torch.testing.assert_close(torch.from_dlpack(y), torch_affine(x), rtol=1e-4, atol=1e-5)


@gpu
def test_gpu_torch_from_dlpack_shares_memory():
    import torch
    ctx = GPU
    t = ctx.create_tensor([2, 3], "float32")
    v = torch.from_dlpack(t)
    assert v.device.type == "cuda" and v.shape == (2, 3) and v.dtype == torch.float32
    x = x_value(5)
    ctx.write_tensor(t, x)
    torch.testing.assert_close(v.cpu(), torch.from_numpy(x))
    v.mul_(2)  # torch writes show in the MLTensor
    torch.cuda.synchronize()
    np.testing.assert_allclose(ctx.read_tensor(t), 2 * x)
    assert v.data_ptr() == torch.from_dlpack(t).data_ptr()
    t.destroy()  # the view keeps the memory
    torch.testing.assert_close(v.cpu(), torch.from_numpy(2 * x))


@gpu
def test_gpu_pipeline_graph1_mltensor_graph2():
    import torch
    ctx = GPU
    g1, g2 = affine(ctx), twice(ctx)
    mid = ctx.create_tensor([2, 4], "float32")
    for i in range(3):
        x = torch.randn(2, 3, device="cuda")
        z = torch.empty(2, 4, device="cuda")
        ctx.dispatch(g1, {"x": x}, {"y": mid})   # torch -> MLTensor
        ctx.dispatch(g2, {"y": mid}, {"z": z})   # MLTensor -> torch
        torch.testing.assert_close(z, 2 * torch_affine(x), rtol=1e-4, atol=1e-5)
        # and the middle as a torch view, after the context's queued work
        m = torch.from_dlpack(mid)
        torch.testing.assert_close(m, torch_affine(x), rtol=1e-4, atol=1e-5)


@gpu
def test_gpu_cupy_from_dlpack_shares_memory():
    cupy = pytest.importorskip("cupy")
    ctx = GPU
    t = ctx.create_tensor([2, 3], "float32")
    x = x_value(6)
    ctx.write_tensor(t, x)
    c = cupy.from_dlpack(t)
    np.testing.assert_array_equal(cupy.asnumpy(c), x)
    c *= 3
    cupy.cuda.Device().synchronize()
    np.testing.assert_allclose(ctx.read_tensor(t), 3 * x)
