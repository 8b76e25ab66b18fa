"""A small image classifier built with the WebNN builder, from random weights.

    python examples/image_classifier.py [--size 224] [--batch 1] [--classes 10]

It builds conv -> relu -> depthwise conv -> relu -> pointwise conv -> relu -> global
average pool -> gemm -> softmax, runs it on random images and prints each image's top
classes. With random weights the classes mean nothing: this shows the API, not a model.
Needs the webnn package (pip install ., or PYTHONPATH=build/python after make build).
"""
import argparse
import time

import numpy as np
import webnn


def conv_weights(rng, out_channels, in_channels, k):
    """He-initialised oihw filter and zero bias, as float32."""
    std = np.sqrt(2.0 / (in_channels * k * k))
    w = rng.normal(0, std, (out_channels, in_channels, k, k)).astype(np.float32)
    return w, np.zeros(out_channels, np.float32)


def build_classifier(builder, batch, size, classes, rng):
    x = builder.input("image", [batch, 3, size, size], "float32")

    def conv(x, out_channels, in_channels, k, stride=1, groups=1):
        w, b = conv_weights(rng, out_channels, in_channels // groups, k)
        pad = k // 2
        y = builder.conv2d(x, builder.constant(w), padding=[pad] * 4, strides=[stride] * 2,
                           groups=groups, bias=builder.constant(b))
        return builder.relu(y)

    x = conv(x, 16, 3, 3, stride=2)
    x = conv(x, 16, 16, 3, stride=2, groups=16)  # depthwise
    x = conv(x, 32, 16, 1)  # pointwise
    x = builder.average_pool2d(x)  # global: the window defaults to the whole image
    x = builder.reshape(x, [batch, 32])
    w = rng.normal(0, np.sqrt(1.0 / 32), (32, classes)).astype(np.float32)
    logits = builder.gemm(x, builder.constant(w), c=builder.constant(np.zeros(classes, np.float32)))
    return builder.softmax(logits, 1)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=224, help="image height and width")
    parser.add_argument("--batch", type=int, default=1)
    parser.add_argument("--classes", type=int, default=10)
    parser.add_argument("--top", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--cpu", action="store_true", help="force the CPU backend")
    args = parser.parse_args()

    rng = np.random.default_rng(args.seed)
    context = webnn.ML().create_context(accelerated=not args.cpu)
    builder = context.create_graph_builder()
    probs = build_classifier(builder, args.batch, args.size, args.classes, rng)
    graph = builder.build({"probabilities": probs})
    print(f"backend: {context.backend}; graph of {graph.node_count} nodes")

    images = rng.uniform(0, 1, (args.batch, 3, args.size, args.size)).astype(np.float32)
    start = time.perf_counter()
    out = context.compute(graph, {"image": images})["probabilities"]
    ms = (time.perf_counter() - start) * 1e3
    for i, p in enumerate(out):
        top = np.argsort(-p)[:args.top]
        classes = ", ".join(f"{c} ({p[c]:.3f})" for c in top)
        print(f"image {i}: top-{args.top} classes {classes}")
    print(f"latency: {ms:.2f} ms (one run, batch {args.batch})")


if __name__ == "__main__":
    main()
