"""Helpers shared by the webnn test files (the ctx fixture lives in conftest.py)."""


def run(ctx, fn, *arrays):
    """Builds fn(builder, *inputs) over graph inputs shaped like `arrays` and runs it."""
    b = ctx.create_graph_builder()
    ins = [b.input(f"x{i}", list(a.shape), a.dtype) for i, a in enumerate(arrays)]
    graph = b.build({"y": fn(b, *ins)})
    return ctx.compute(graph, {f"x{i}": a for i, a in enumerate(arrays)})["y"]
