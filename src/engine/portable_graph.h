#pragma once
// The portable graph: what Engine::build serializes, and what a float16 context hands its
// backend for a graph built without an Engine step. One function, so that both optimize
// and lower alike.
#include <memory>
#include <vector>

#include "graph/ir.h"

namespace cppnn::detail {

// `graph` optimized with no device's choice baked in (constants folded with the CPU
// kernels, producers fused, dead code removed; the layout stays as the model was written,
// since each backend chooses its own when it compiles) and then computed in `precision`:
// float32 leaves the types as they are, float16 runs lower_to_float16, bfloat16
// lower_to_bfloat16. A graph whose precision is not float32 already (a float16 or bfloat16
// engine's) keeps it: it is never lowered twice, and the result's `precision` says what it
// is computed in. auto_ is a TypeError (a context resolves auto before this), prefixed
// with `what`.
// `runtime_constants`: constants a dynamic-shape graph patches per shape
// (PassOptions::runtime_constants), never folded into what reads them.
// `lowered`: float32 constants' lowered copies shared between calls (a dynamic-shape
// engine build's probes; compiler/passes.h LoweredConstants).
// `keep_io_types` false (float16 only): the float32 inputs and outputs become float16
// (EngineBuildOptions::keep_io_types).
struct LoweredConstants;
std::shared_ptr<const GraphIR> portable_graph(const std::shared_ptr<const GraphIR>& graph,
                                              Precision precision, const std::string& what,
                                              const std::vector<OperandId>& runtime_constants = {},
                                              LoweredConstants* lowered = nullptr,
                                              bool keep_io_types = true);

}  // namespace cppnn::detail
