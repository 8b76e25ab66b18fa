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
    "export_onnx",
    "export_onnx_bytes",
    "load_onnx",
]
__version__ = "0.1.0"
