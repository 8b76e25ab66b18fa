#pragma once
// Shared by the fuzz targets: what counts as a finding, and the run of a graph from a
// hostile model or engine through every later stage (engine build, save and load, CPU
// compute, ONNX export), each of which may refuse the graph with cppnn::Error and nothing
// else. Built two ways (docs/fuzzing.md): with libFuzzer under ASan + UBSan, and with
// replay_main.cpp in the normal build, where it replays the committed corpus in ctest.
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>
#include <typeinfo>
#include <variant>
#include <vector>

#include "cppnn/context.h"
#include "cppnn/engine.h"
#include "cppnn/error.h"
#include "cppnn/onnx.h"
#include "graph/ir.h"

namespace cppnn::fuzz {

// A finding that no sanitizer would report: an exception of another type than
// cppnn::Error, or an inconsistency between stages. Aborting makes libFuzzer keep the input.
[[noreturn]] inline void finding(const std::string& what) {
  std::fprintf(stderr, "\n==cppnn-fuzz== FINDING: %s\n", what.c_str());
  std::fflush(stderr);
  std::abort();
}

// CPPNN_FUZZ_VERBOSE=1: each stage says how it ended, to see how far an input gets.
inline bool verbose() {
  static const bool on = [] {
    const char* v = std::getenv("CPPNN_FUZZ_VERBOSE");
    return v && *v == '1';
  }();
  return on;
}

// Runs `step`; cppnn::Error is the one way to refuse input and ends the step (false).
template <typename Step>
bool guarded(const char* stage, Step&& step) {
  try {
    step();
    if (verbose()) std::fprintf(stderr, "  %s: ok\n", stage);
    return true;
  } catch (const Error& e) {
    if (verbose()) std::fprintf(stderr, "  %s: %s: %s\n", stage, to_string(e.kind()), e.what());
    return false;
  } catch (const std::exception& e) {
    finding(std::string(stage) + " threw " + typeid(e).name() + " (not cppnn::Error): " +
            e.what());
  } catch (...) {
    finding(std::string(stage) + " threw something that is not a std::exception");
  }
}

// Compute is skipped above these, so that a model that asks for a large (valid) tensor
// costs the fuzzer its import and validation only, not seconds of arithmetic.
inline constexpr double kMaxComputeElements = double(1 << 22);  // over every operand
inline constexpr double kMaxComputeWork = double(1 << 26);      // rough multiply-adds
// Past this even building the engine (which copies and may fold the constants) is skipped.
inline constexpr double kMaxBuildElements = double(1 << 24);

struct GraphCost {
  double elements = 0;
  double work = 0;
};

inline double count_of(const Dims& dims) {
  double n = 1;
  for (int64_t d : dims) n *= double(d < 0 ? 0 : d);
  return n;
}

// Elements over every operand, and the work of the ops whose cost is not their operands'
// size: products and convolutions (output x reduction length) and pooling (output x window).
inline GraphCost cost_of(const Graph& graph) {
  const detail::GraphIR& ir = graph.ir();
  GraphCost cost;
  for (const detail::OperandInfo& op : ir.operands) cost.elements += count_of(op.desc.shape);
  for (const detail::Node& node : ir.nodes) {
    double out = 0, in_max = 0;
    for (detail::OperandId id : node.outputs) out += count_of(ir.desc(id).shape);
    for (detail::OperandId id : node.inputs)
      if (id != detail::kNoOperand) in_max = std::fmax(in_max, count_of(ir.desc(id).shape));
    double per_output = 1;
    auto input_dims = [&](size_t i) -> Dims {
      if (i >= node.inputs.size() || node.inputs[i] == detail::kNoOperand) return {};
      return ir.desc(node.inputs[i]).shape;
    };
    if (node.op == detail::OpId::conv2d || node.op == detail::OpId::convTranspose2d) {
      // The filter over its largest dimension: at least the reduction per output element
      // for the usual layouts, and never more than the filter.
      Dims f = input_dims(1);
      double largest = 1;
      for (int64_t d : f) largest = std::fmax(largest, double(d));
      per_output = count_of(f) / largest;
    } else if (node.op == detail::OpId::matmul || node.op == detail::OpId::gemm) {
      Dims a = input_dims(0);
      for (size_t i = a.size() >= 2 ? a.size() - 2 : 0; i < a.size(); ++i)
        per_output = std::fmax(per_output, double(a[i]));
    } else if (auto it = node.attrs.all().find("windowDimensions"); it != node.attrs.all().end()) {
      // Read without Attrs::ints, which throws on another type: the harness itself must
      // not throw on a graph that validation passed, whatever it holds.
      if (const auto* window = std::get_if<std::vector<int64_t>>(&it->second))
        for (int64_t w : *window) per_output *= double(w < 0 ? 0 : w);
    } else {
      per_output = out > 0 ? std::fmax(1.0, in_max / out) : 1;
    }
    cost.work += out * per_output + in_max;
  }
  return cost;
}

// Inputs of the graph's own descriptors: small values of both signs for floating point
// (so that nothing overflows by itself), zeros for integers (valid indices everywhere).
inline NamedTensors inputs_for(const Graph& graph) {
  NamedTensors inputs;
  for (const auto& [name, desc] : graph.inputs()) {
    Tensor t(desc.data_type, desc.shape);
    if (desc.data_type == DataType::float32) {
      float* p = t.data_as<float>();
      for (size_t i = 0; i < t.element_count(); ++i) p[i] = float(int(i * 7919 % 17) - 8) * 0.25f;
    } else if (desc.data_type == DataType::float16) {
      uint16_t* p = t.data_as<uint16_t>();
      for (size_t i = 0; i < t.element_count(); ++i)
        p[i] = float_to_half(float(int(i * 7919 % 17) - 8) * 0.25f);
    }
    inputs.emplace(name, std::move(t));
  }
  return inputs;
}

// Stages that must agree: an engine this build wrote must load, and an ONNX model it
// exported must import. A refusal there is reported without aborting unless
// CPPNN_FUZZ_STRICT=1, since it is a bug of consistency rather than of memory.
inline void inconsistent(const std::string& what) {
  static const bool strict = [] {
    const char* s = std::getenv("CPPNN_FUZZ_STRICT");
    return s && *s == '1';
  }();
  if (strict) finding(what);
}

// The engine's graph on the CPU backend, then exported to ONNX and imported again.
inline void compute_and_export(const Engine& engine) {
  const Graph& g = engine.graph();
  GraphCost cost = cost_of(g);
  if (cost.elements <= kMaxComputeElements && cost.work <= kMaxComputeWork) {
    guarded("Context::compute", [&] {
      ContextOptions options;
      options.accelerated = false;
      options.num_threads = 1;
      Context context = Context::create(options);
      NamedTensors outputs = context.compute(g, inputs_for(g));
      for (const auto& [name, desc] : g.outputs()) {
        auto it = outputs.find(name);
        if (it == outputs.end()) finding("compute returned no output '" + name + "'");
        if (it->second.data_type() != desc.data_type || it->second.shape() != desc.shape)
          finding("output '" + name + "' differs from its descriptor");
      }
    });
  }
  std::string onnx_bytes;
  if (!guarded("export_onnx_bytes", [&] { onnx_bytes = export_onnx_bytes(g); })) return;
  bool ok = guarded("load_onnx_from_bytes (exported)", [&] { load_onnx_from_bytes(onnx_bytes); });
  if (!ok) inconsistent("an exported model does not import");
}

// A graph from a model or an engine through every later stage; without `compute`, only
// through the engine's build, save and load.
inline void run_graph(const Graph& graph, Precision precision, bool compute = true) {
  if (cost_of(graph).elements > kMaxBuildElements) return;
  Engine built;
  if (!guarded("Engine::build", [&] {
        EngineBuildOptions options;
        options.precision = precision;
        built = Engine::build(graph, options);
      }))
    return;
  Engine loaded;
  std::string bytes;
  guarded("Engine::to_bytes", [&] { bytes = built.to_bytes(); });
  if (!guarded("Engine::from_bytes (built)", [&] { loaded = Engine::from_bytes(bytes); })) {
    inconsistent("an engine this build wrote does not load");
    return;
  }
  if (loaded.hash() != built.hash()) finding("a saved and loaded engine changed its hash");
  if (compute) compute_and_export(loaded);
}

}  // namespace cppnn::fuzz
