"""cppnn's CUDA backend plugin (the cppnn-cuda wheel). Nothing to import: the webnn package
(the cppnn wheel) finds libcppnn_cuda.so here and loads it when a context asks for a GPU;
context.backend_reason says why it did not, if it did not (no driver, no GPU)."""
import os as _os

PLUGIN = _os.path.join(_os.path.dirname(__file__), "libcppnn_cuda.so")
