"""webnn: the W3C WebNN graph API in Python, on cppnn's CPU (and, where present, CUDA)
backends.

    import webnn, numpy as np
    ml = webnn.ML()
    context = ml.create_context(accelerated=True, power_preference="high-performance")
    builder = context.create_graph_builder()
    x = builder.input("x", [2, 3], "float32")
    y = builder.input("y", [2, 3], "float32")
    graph = builder.build({"output": builder.add(x, y)})
    out = context.compute(graph, {"x": np.ones((2, 3), np.float32),
                                  "y": np.ones((2, 3), np.float32)})

Ops are the builder's snake_case methods with the spec's options as keyword arguments
(conv2d(input, filter, padding=..., input_layout="nhwc")); enum options are the spec's
strings; data types are strings ("float32") or numpy dtypes.

Precision: graphs compiled on a context compute in exact float32 unless the context asks
otherwise: ml.create_context(..., precision="float16") computes float32 graphs in float16
behind their float32 inputs and outputs (the lowering Engine.build(graph,
precision="float16") does; a float16 engine is not lowered again), precision="auto" picks
float16 on a GPU context with power_preference="high-performance" and float32 elsewhere.
context.precision, context.backend_info()["precision"] and context.report(graph) say what
it got. precision="bfloat16" is the same lowering in bfloat16 (float32's range, 8 mantissa
bits; each op computed in float32, its result rounded to bfloat16); Engine.precision says
what an engine computes in.

compute() takes numpy arrays, or any CPU object with __dlpack__, of the input's exact data
type and shape; non-contiguous arrays are copied to contiguous memory first. It returns
numpy arrays that own their memory. The GIL is released while a graph runs.

Device tensors (WebNN's MLTensor) chain graphs without host copies, and DLPack shares
memory with torch / cupy / numpy both ways, zero copy:

    t = context.create_tensor([2, 3], "float32")     # GPU memory on a CUDA context
    context.write_tensor(t, np.ones((2, 3), np.float32))
    context.dispatch(graph1, {"x": t}, {"y": mid})      # MLTensors ...
    context.dispatch(graph2, {"y": mid}, {"z": torch_cuda_tensor})  # ... or DLPack objects
    context.read_tensor(mid)                             # a numpy copy
    torch.from_dlpack(mid)                               # a view, no copy

dispatch() takes MLTensors of the context or any object with __dlpack__ on its device,
C-contiguous (strided views are a TypeError), used in place; write_tensor() copies (and
accepts strided arrays). With DLPack objects dispatch waits for their producer's queued
GPU work before it runs and for its own before it returns; with MLTensors only it may
return early, and later reads, writes, dispatches and DLPack exports are ordered after it.

Code written for rustnn's Python API (pywebnn) runs too: create_context(power_preference,
accelerated, device_type), context.accelerated / power_preference / backend_info() /
op_support_limits() / convert_to_onnx(), constant(value, shape, data_type), conv and pool
pads=[begin_h, begin_w, end_h, end_w], pad(x, [beginnings..., ends...]), where_,
graph.get_input_names(), create_tensor(..., readable=, writable=, exportable_to_gpu=),
tensor.destroy(), and AsyncMLContext (below) with awaitable dispatch and compute.

Errors: TypeError for wrong arguments (types, shapes, data types, option values),
webnn.DataError (a ValueError) for malformed data, and for what cannot be done
webnn.NotSupportedError (unsupported), webnn.OperationError (failed while running) and
webnn.InvalidStateError (destroyed context, builder already built), all RuntimeErrors;
each with cppnn's message. A model or engine path that names no file is FileNotFoundError.

The CUDA backend: a build with CUDA keeps the plugin libcppnn_cuda.so beside the core in this
package; the wheels ship it as the package cppnn_cuda of the cppnn-cuda wheel
(`pip install cppnn[cuda]`), whose plugin this package hands to the core through
CPPNN_CUDA_BACKEND at import (see _find_cuda_wheel). A CPPNN_CUDA_BACKEND of your own wins.
"""
import os as _os


def _find_cuda_wheel():
    """Points the core's plugin loader (CPPNN_CUDA_BACKEND, read when a context is made) at
    the cppnn-cuda wheel's plugin, unless the variable is set already or a plugin lies
    beside the core here (a source build with CUDA), which the loader finds by itself.
    Child processes inherit the variable, as they would the user's own."""
    if _os.environ.get("CPPNN_CUDA_BACKEND"):
        return
    if _os.path.exists(_os.path.join(_os.path.dirname(__file__), "libcppnn_cuda.so")):
        return
    import importlib.util
    try:
        spec = importlib.util.find_spec("cppnn_cuda")
    except (ImportError, ValueError):
        return
    for folder in (spec.submodule_search_locations or []) if spec else []:
        plugin = _os.path.join(folder, "libcppnn_cuda.so")
        if _os.path.exists(plugin):
            _os.environ["CPPNN_CUDA_BACKEND"] = plugin
            return


_find_cuda_wheel()

from ._webnn import (  # noqa: E402
    __version__,
    DataError,
    Engine,
    InvalidStateError,
    ML,
    MLContext,
    MLGraph,
    MLGraphBuilder,
    MLOperand,
    MLTensor,
    NotSupportedError,
    OperationError,
    export_onnx,
    export_onnx_bytes,
    load_onnx,
)

import asyncio as _asyncio


class _ComputeResults(dict):
    """compute()'s results (name -> numpy array), also awaitable: rustnn calls
    AsyncMLContext.compute() without await, WebNN's compute() is awaited; both get the dict."""

    def __await__(self):
        if False:  # a generator that returns at once
            yield
        return self


class AsyncMLContext:
    """An MLContext with awaitable methods (rustnn's AsyncMLContext): dispatch(),
    compute_async(), read_tensor_async() and write_tensor_async() run on a worker thread
    (cppnn releases the GIL while it computes), so the event loop keeps running.
    compute() computes at once and returns the results, which may also be awaited.
    Everything else is the wrapped context's (context.backend_info(), ...).

        actx = webnn.AsyncMLContext(context)
        await actx.write_tensor_async(x, data)
        await actx.dispatch(graph, {"x": x}, {"y": y})
        result = await actx.read_tensor_async(y)
    """

    def __init__(self, context: "MLContext"):
        if not isinstance(context, MLContext):
            raise TypeError(f"AsyncMLContext wraps an MLContext, got {type(context).__name__}")
        self._context = context

    @property
    def context(self) -> "MLContext":
        return self._context

    async def _run(self, fn, *args):
        return await _asyncio.get_running_loop().run_in_executor(None, fn, *args)

    async def dispatch(self, graph, inputs, outputs) -> None:
        await self._run(self._context.dispatch, graph, inputs, outputs)

    async def compute_async(self, graph, inputs, outputs=None) -> dict:
        return await self._run(self._context.compute, graph, inputs, outputs)

    def compute(self, graph, inputs, outputs=None) -> dict:
        return _ComputeResults(self._context.compute(graph, inputs, outputs))

    async def read_tensor_async(self, tensor):
        return await self._run(self._context.read_tensor, tensor)

    async def write_tensor_async(self, tensor, data) -> None:
        await self._run(self._context.write_tensor, tensor, data)

    def create_graph_builder(self):
        return self._context.create_graph_builder()

    def create_tensor(self, shape, data_type, readable=True, writable=True,
                      exportable_to_gpu=False):
        return self._context.create_tensor(shape, data_type, readable, writable,
                                           exportable_to_gpu)

    def read_tensor(self, tensor):
        return self._context.read_tensor(tensor)

    def write_tensor(self, tensor, data) -> None:
        self._context.write_tensor(tensor, data)

    def __getattr__(self, name):
        if name == "_context":  # not set yet (copy, pickle): no recursion
            raise AttributeError(name)
        return getattr(self._context, name)

    def __repr__(self) -> str:
        return f"AsyncMLContext({self._context!r})"


__all__ = [
    "AsyncMLContext",
    "DataError",
    "Engine",
    "InvalidStateError",
    "ML",
    "MLContext",
    "MLGraph",
    "MLGraphBuilder",
    "MLOperand",
    "MLTensor",
    "NotSupportedError",
    "OperationError",
    "export_onnx",
    "export_onnx_bytes",
    "load_onnx",
]
