"""Helpers shared by the webnn test files (the ctx fixture lives in conftest.py)."""


def run(ctx, fn, *arrays):
    """Builds fn(builder, *inputs) over graph inputs shaped like `arrays` and runs it."""
    b = ctx.create_graph_builder()
    ins = [b.input(f"x{i}", list(a.shape), a.dtype) for i, a in enumerate(arrays)]
    graph = b.build({"y": fn(b, *ins)})
    return ctx.compute(graph, {f"x{i}": a for i, a in enumerate(arrays)})["y"]


def export_feeds(sess, values, seed=0):
    """Inputs for an ONNX Runtime session of the dynamic_fixtures exports at these symbol
    values ("total" is past + 1): masks of ones with row 0 padded past its middle (so that
    an additive mask matters), token ids below 97, normal floats."""
    import numpy as np
    rng = np.random.default_rng(seed)
    feeds = {}
    for i in sess.get_inputs():
        shape = [values["past"] + 1 if d == "total" else values[d] if isinstance(d, str) else d
                 for d in i.shape]
        if "mask" in i.name:
            feeds[i.name] = np.ones(shape, np.int64)
            feeds[i.name][0, shape[1] // 2 + 1:] = 0
        elif "int" in i.type:
            feeds[i.name] = rng.integers(0, 97, size=shape).astype(np.int64)
        else:
            feeds[i.name] = rng.standard_normal(shape).astype(np.float32)
    return feeds
