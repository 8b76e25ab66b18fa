"""A few ops on the accelerated context against the CPU context. They run only where
create_context() gets the CUDA backend (the GPU machine); elsewhere they are skipped."""
import numpy as np
import pytest
import webnn

ML = webnn.ML()
HAS_CUDA = ML.create_context().backend == "cuda"
pytestmark = pytest.mark.skipif(not HAS_CUDA, reason="no CUDA backend on this machine")


def run_both(fn, *arrays):
    outs = []
    for accelerated in (True, False):
        ctx = ML.create_context(accelerated=accelerated)
        assert ctx.backend == ("cuda" if accelerated else "cpu")
        b = ctx.create_graph_builder()
        ins = [b.input(f"x{i}", list(a.shape), a.dtype) for i, a in enumerate(arrays)]
        graph = b.build({"y": fn(b, *ins)})
        outs.append(ctx.compute(graph, {f"x{i}": a for i, a in enumerate(arrays)})["y"])
    return outs


@pytest.mark.parametrize("dtype,tol", [(np.float32, 1e-4), (np.float16, 1e-2)])
def test_matmul_gpu_matches_cpu(dtype, tol):
    rng = np.random.default_rng(0)
    a, b = rng.uniform(-1, 1, (4, 64, 32)).astype(dtype), rng.uniform(-1, 1, (32, 48)).astype(dtype)
    gpu, cpu = run_both(lambda g, x, y: g.matmul(x, y), a, b)
    np.testing.assert_allclose(gpu.astype(np.float64), cpu.astype(np.float64), rtol=tol, atol=tol)


def test_conv2d_relu_gpu_matches_cpu():
    rng = np.random.default_rng(1)
    x = rng.uniform(-1, 1, (2, 8, 17, 15)).astype(np.float32)
    w = rng.uniform(-1, 1, (16, 8, 3, 3)).astype(np.float32)
    gpu, cpu = run_both(lambda g, a: g.relu(g.conv2d(a, g.constant(w), padding=[1, 1, 1, 1],
                                                     strides=[2, 2])), x)
    np.testing.assert_allclose(gpu, cpu, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("op", ["sigmoid", "tanh", "exp", "gelu"])
def test_unary_gpu_matches_cpu(op):
    x = np.random.default_rng(2).uniform(-3, 3, (3, 1000)).astype(np.float32)
    gpu, cpu = run_both(lambda g, a: getattr(g, op)(a), x)
    np.testing.assert_allclose(gpu, cpu, rtol=1e-5, atol=1e-6)


def test_softmax_and_reduce_gpu_match_cpu():
    x = np.random.default_rng(3).normal(size=(8, 128)).astype(np.float32)
    gpu, cpu = run_both(lambda g, a: g.reduce_sum(g.softmax(a, 1), axes=[1]), x)
    np.testing.assert_allclose(gpu, cpu, rtol=1e-5, atol=1e-6)
