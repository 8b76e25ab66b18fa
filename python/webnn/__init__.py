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

Errors: TypeError for wrong arguments (types, shapes, data types, option values),
ValueError for malformed data, RuntimeError for what cannot be done (unsupported, failed
while running, destroyed context, builder already built), each with cppnn's message.
"""
from ._webnn import (
    Engine,
    ML,
    MLContext,
    MLGraph,
    MLGraphBuilder,
    MLOperand,
    MLTensor,
    export_onnx,
    export_onnx_bytes,
    load_onnx,
)

__all__ = [
    "Engine",
    "ML",
    "MLContext",
    "MLGraph",
    "MLGraphBuilder",
    "MLOperand",
    "MLTensor",
    "export_onnx",
    "export_onnx_bytes",
    "load_onnx",
]
__version__ = "0.1.0"
