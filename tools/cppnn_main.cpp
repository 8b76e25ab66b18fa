// cppnn: the command-line tool. `cppnn run MODEL` runs an ONNX model or an engine file on
// the best device there is and prints the top classes and the latency; `cppnn build`
// turns an ONNX model into an engine file.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <charconv>
#include <climits>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <numeric>

#include "cppnn/cppnn.h"
#include "npy.h"

namespace {

using namespace cppnn;

// The fixed input of the README's main job and of the tests that compare with ONNX
// Runtime: a smooth pattern every runtime can reproduce exactly.
Tensor pattern_input(const OperandDescriptor& desc) {
  Tensor t(desc.data_type, desc.shape);
  size_t n = t.element_count();
  switch (desc.data_type) {
    case DataType::float32: {
      float* p = t.data_as<float>();
      for (size_t i = 0; i < n; ++i) p[i] = float(std::sin(double(i) * 0.001));
      break;
    }
    case DataType::int64: {
      int64_t* p = t.data_as<int64_t>();
      for (size_t i = 0; i < n; ++i) p[i] = int64_t(i % 100 + 1);
      break;
    }
    case DataType::int32: {
      int32_t* p = t.data_as<int32_t>();
      for (size_t i = 0; i < n; ++i) p[i] = int32_t(i % 100 + 1);
      break;
    }
    default:
      fail(ErrorKind::NotSupportedError, "no pattern input for data type " +
                                             std::string(to_string(desc.data_type)) +
                                             "; pass --input NAME=FILE.npy");
  }
  return t;
}

struct RunArgs {
  std::string model;
  std::vector<std::string> dims;    // NAME=VALUE
  std::vector<std::string> binds;   // NAME=V[,V...]
  bool float64_as_float32 = false;
  std::vector<std::string> inputs;  // NAME=FILE.npy
  std::string save_dir;
  std::string device = "auto";
  int iterations = 20;
  int warmup = 3;
  int top = 5;
  int threads = 0;
  std::string precision = "float32";
  bool report = false;
};

Precision precision_of(const std::string& name) {
  return name == "float32" ? Precision::float32 : precision_from_string(name);
}

std::pair<std::string, std::string> split_assignment(const std::string& s, const char* what) {
  size_t eq = s.find('=');
  if (eq == std::string::npos || eq == 0)
    fail(ErrorKind::TypeError, std::string(what) + " '" + s + "' must be NAME=VALUE");
  return {s.substr(0, eq), s.substr(eq + 1)};
}

// The ONNX import options of run, build and info alike. N (batch) and S (sequence) get the
// README's values unless given; any other symbolic dimension, named or unnamed ("x:0" for the
// first dimension of input x, when the exporter wrote -1 or no name), needs its --dim.
// --bind NAME=V[,V...]: a graph input fixed at load time (OnnxImportOptions::input_values),
// one value a scalar, several a 1-D tensor; int64 when every value is an integer, else
// float32 (the importer converts them to the input's type).
Tensor bound_value(const std::string& assignment) {
  auto [name, text] = split_assignment(assignment, "--bind");
  std::vector<std::string> parts;
  for (size_t start = 0;;) {
    size_t comma = text.find(',', start);
    parts.push_back(text.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  std::vector<int64_t> ints;
  std::vector<float> floats;
  bool all_ints = true;
  for (const std::string& p : parts) {
    int64_t i = 0;
    auto [end, ec] = std::from_chars(p.data(), p.data() + p.size(), i);
    all_ints = all_ints && !p.empty() && ec == std::errc() && end == p.data() + p.size();
    ints.push_back(i);
    char* fend = nullptr;
    float f = p.empty() ? 0.0f : std::strtof(p.c_str(), &fend);
    if (p.empty() || fend != p.c_str() + p.size())
      fail(ErrorKind::TypeError, "--bind '" + assignment + "': '" + p + "' is not a number");
    floats.push_back(f);
  }
  Dims shape = parts.size() == 1 ? Dims{} : Dims{int64_t(parts.size())};
  return all_ints ? Tensor::from(DataType::int64, shape, ints)
                  : Tensor::from(DataType::float32, shape, floats);
}

OnnxImportOptions import_options(const std::vector<std::string>& dims, bool float64_as_float32,
                                 const std::vector<std::string>& binds = {}) {
  OnnxImportOptions import;
  for (const auto& assignment : binds)
    import.input_values[split_assignment(assignment, "--bind").first] = bound_value(assignment);
  for (const auto& d : dims) {
    auto [name, value] = split_assignment(d, "--dim");
    int64_t v = 0;
    auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), v);
    if (value.empty() || ec != std::errc() || end != value.data() + value.size() || v <= 0)
      fail(ErrorKind::TypeError, "--dim '" + d + "': the value must be an integer > 0");
    import.dim_values[name] = v;
  }
  if (!import.dim_values.count("N")) import.dim_values["N"] = 1;
  if (!import.dim_values.count("S")) import.dim_values["S"] = 128;
  import.float64_as_float32 = float64_as_float32;
  return import;
}

double ms_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

// --save DIR: made now, before any work, so that a bad folder fails at once.
void prepare_save_dir(const std::string& dir) {
  if (dir.empty()) return;
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec || !std::filesystem::is_directory(dir))
    fail(ErrorKind::DataError, "--save '" + dir + "': cannot create the folder" +
                                   (ec ? ": " + ec.message() : ": a file of that name exists"));
}

// Each output to DIR/FILE.npy, FILE a safe, unique file name made from the output's name
// (a model's names are untrusted: "../x" or "/head/Relu_output_0" must not leave DIR).
void save_outputs(const std::string& dir, const NamedTensors& outputs) {
  std::vector<std::string> names;
  for (const auto& [name, _] : outputs) names.push_back(name);
  std::vector<std::string> files = tools::unique_file_names(names);
  size_t i = 0;
  for (const auto& [name, t] : outputs) {
    std::string path = (std::filesystem::path(dir) / (files[i++] + ".npy")).string();
    tools::write_npy(path, t);
    std::printf("saved    %s -> %s\n", name.c_str(), path.c_str());
  }
}

int run(const RunArgs& a) {
  prepare_save_dir(a.save_dir);
  // An engine is recognized by its magic bytes, whatever the file is called.
  Engine engine;
  Graph graph;
  if (Engine::is_engine_file(a.model)) {
    if (!a.dims.empty() || !a.binds.empty())
      std::fprintf(stderr,
                   "cppnn: --dim and --bind are ignored: an engine's shapes and constants are "
                   "fixed when it is built\n");
    engine = Engine::load(a.model);
    if (a.precision != "float32" && engine.options().precision != precision_of(a.precision))
      std::fprintf(stderr, "cppnn: --precision is ignored: the engine was built with its own\n");
    graph = engine.graph();
  } else {
    graph = load_onnx(a.model, import_options(a.dims, a.float64_as_float32, a.binds));
    if (a.precision != "float32") {
      // The same path as `cppnn build --precision`, kept in memory.
      EngineBuildOptions build_options;
      build_options.precision = precision_of(a.precision);
      engine = Engine::build(graph, build_options);
      graph = engine.graph();
    }
  }

  ContextOptions options;
  options.accelerated = a.device != "cpu";
  options.power_preference = PowerPreference::high_performance;
  options.num_threads = a.threads;
  auto tc = std::chrono::steady_clock::now();
  Context context = Context::create(options);
  double context_ms = ms_since(tc);
  if (a.device == "cuda" && context.backend() != "cuda")
    fail(ErrorKind::NotSupportedError, "--device cuda: no CUDA backend: " + context.backend_reason());

  NamedTensors inputs;
  for (const auto& spec : a.inputs) {
    auto [name, path] = split_assignment(spec, "--input");
    inputs[name] = tools::read_npy(path);
  }
  for (const auto& [name, desc] : graph.inputs())
    if (!inputs.count(name)) inputs[name] = pattern_input(desc);

  auto t0 = std::chrono::steady_clock::now();
  context.compile(graph);
  double compile_ms = ms_since(t0);
  auto tf = std::chrono::steady_clock::now();
  NamedTensors outputs = context.compute(graph, inputs);
  double first_ms = ms_since(tf);
  for (int i = 0; i < a.warmup; ++i) outputs = context.compute(graph, inputs);
  std::vector<double> ms;
  for (int i = 0; i < a.iterations; ++i) {
    auto s = std::chrono::steady_clock::now();
    outputs = context.compute(graph, inputs);
    ms.push_back(ms_since(s));
  }
  std::sort(ms.begin(), ms.end());

  if (engine.valid())
    std::printf("model    %s (engine, %zu nodes, hash %s)\n", a.model.c_str(), graph.node_count(),
                engine.hash().c_str());
  else
    std::printf("model    %s (%zu nodes)\n", a.model.c_str(), graph.node_count());
  std::printf("device   %s (%s)\n", context.backend().c_str(), context.backend_reason().c_str());
  for (const auto& [name, t] : outputs) {
    std::printf("output   %s %s %s\n", name.c_str(), std::string(to_string(t.data_type())).c_str(),
                to_string(t.shape()).c_str());
    if (t.data_type() != DataType::float32 || t.shape().empty()) continue;
    size_t classes = size_t(t.shape().back());
    const float* p = t.data_as<float>();
    std::vector<size_t> idx(classes);
    std::iota(idx.begin(), idx.end(), 0);
    size_t k = std::min<size_t>(size_t(std::max(a.top, 0)), classes);
    std::partial_sort(idx.begin(), idx.begin() + long(k), idx.end(),
                      [&](size_t x, size_t y) { return p[x] > p[y]; });
    std::printf("top-%zu    ", k);
    for (size_t i = 0; i < k; ++i) std::printf("%s%zu (%.4g)", i ? ", " : "", idx[i], p[idx[i]]);
    std::printf("   [first row]\n");
  }
  const bool cuda = context.backend() == "cuda";
  std::printf("context  %.1f ms (backend creation%s)\n", context_ms, cuda ? ": CUDA context, libraries" : "");
  std::printf("compile  %.1f ms\n", compile_ms);
  std::printf("first    %.1f ms (the first compute%s)\n", first_ms,
              cuda ? ": CUDA graph capture, kernels loaded on first use" : "");
  std::printf("latency  median %.3f ms, min %.3f ms, p90 %.3f ms over %zu runs\n", ms[ms.size() / 2],
              ms.front(), ms[ms.size() * 9 / 10], ms.size());
  if (a.report) std::printf("report\n%s", context.report(graph).c_str());
  if (!a.save_dir.empty()) save_outputs(a.save_dir, outputs);
  return 0;
}

struct BuildArgs {
  std::string model;
  std::string output;
  std::vector<std::string> dims;
  std::vector<std::string> binds;
  bool float64_as_float32 = false;
  std::string precision = "float32";
};

int build(const BuildArgs& a) {
  auto t0 = std::chrono::steady_clock::now();
  Graph graph = load_onnx(a.model, import_options(a.dims, a.float64_as_float32, a.binds));
  double import_ms = ms_since(t0);
  auto t1 = std::chrono::steady_clock::now();
  EngineBuildOptions build_options;
  build_options.precision = precision_of(a.precision);
  Engine engine = Engine::build(graph, build_options);
  double build_ms = ms_since(t1);
  engine.save(a.output);
  std::printf("model    %s\n", a.model.c_str());
  std::printf("engine   %s (%zu bytes, format version %u, %s)\n", a.output.c_str(),
              engine.byte_size(), engine.format_version(), a.precision.c_str());
  std::printf("nodes    %zu imported, %zu after optimization\n", graph.node_count(),
              engine.graph().node_count());
  std::printf("hash     %s\n", engine.hash().c_str());
  std::printf("time     import %.1f ms, build %.1f ms\n", import_ms, build_ms);
  return 0;
}

int info(const std::string& model, const std::vector<std::string>& dims,
         bool float64_as_float32, const std::vector<std::string>& binds) {
  Graph graph = Engine::is_engine_file(model)
                    ? Engine::load(model).graph()
                    : load_onnx(model, import_options(dims, float64_as_float32, binds));
  for (const auto& [name, d] : graph.inputs())
    std::printf("input  %s %s %s\n", name.c_str(), std::string(to_string(d.data_type)).c_str(),
                to_string(d.shape).c_str());
  for (const auto& [name, d] : graph.outputs())
    std::printf("output %s %s %s\n", name.c_str(), std::string(to_string(d.data_type)).c_str(),
                to_string(d.shape).c_str());
  std::printf("%s", graph.summary().c_str());
  return 0;
}

}  // namespace

constexpr const char* kDimHelp =
    "value of a symbolic dimension, NAME=VALUE (N=1 S=128 by default; an unnamed one is "
    "INPUT:INDEX, e.g. x:0)";
constexpr const char* kFloat64Help =
    "compute float64 inputs, outputs and constants in float32 (WebNN has no float64)";
constexpr const char* kBindHelp =
    "fix a graph input at load time, NAME=VALUE or NAME=V1,V2,... (e.g. a sample rate: "
    "sr=16000); it becomes a constant, so tests on it fold";

int main(int argc, char** argv) {
  CLI::App app{"cppnn: run WebNN graphs and ONNX models on the CPU or an NVIDIA GPU\n"
               "exit codes: 0 done, 1 a model, file or runtime error, 2 a usage error"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "cppnn " CPPNN_VERSION_STRING);

  RunArgs r;
  CLI::App* run_cmd = app.add_subcommand("run", "run an ONNX model or an engine file and time it");
  run_cmd->add_option("model", r.model, "ONNX model or engine file")->required();
  run_cmd->add_option("--dim", r.dims, kDimHelp);
  run_cmd->add_flag("--float64-as-float32", r.float64_as_float32, kFloat64Help);
  run_cmd->add_option("--bind", r.binds, kBindHelp);
  run_cmd->add_option("--input", r.inputs, "input from a .npy file, NAME=FILE (default: a fixed pattern)");
  run_cmd->add_option("--device", r.device, "auto (the GPU when there is one), cpu, or cuda (an error without one)")
      ->check(CLI::IsMember({"auto", "cpu", "cuda"}))
      ->capture_default_str();
  run_cmd->add_option("--iterations", r.iterations, "timed runs")->check(CLI::Range(1, INT_MAX))->capture_default_str();
  run_cmd->add_option("--warmup", r.warmup, "untimed runs first")->check(CLI::Range(0, INT_MAX))->capture_default_str();
  run_cmd->add_option("--top", r.top, "classes to print")->check(CLI::Range(0, INT_MAX))->capture_default_str();
  run_cmd->add_option("--threads", r.threads, "CPU threads (0: all cores)")->check(CLI::Range(0, INT_MAX))->capture_default_str();
  run_cmd->add_option("--save", r.save_dir,
                      "write each output to DIR/FILE.npy (DIR made if missing; FILE the output's name "
                      "with every character but letters, digits, '.', '-' and '_' made '_', no "
                      "leading '.'; the mapping is printed)");
  run_cmd->add_option("--precision", r.precision,
                      "float32, or float16: an ONNX model is first built into a float16 engine")
      ->check(CLI::IsMember({"float32", "float16", "bfloat16"}));
  run_cmd->add_flag("--report", r.report, "print the backend's plan: what runs where");

  BuildArgs b;
  CLI::App* build_cmd = app.add_subcommand("build", "optimize an ONNX model into an engine file");
  build_cmd->add_option("model", b.model, "ONNX model file")->required();
  build_cmd->add_option("-o,--output", b.output, "engine file to write")->required();
  build_cmd->add_option("--dim", b.dims, kDimHelp);
  build_cmd->add_flag("--float64-as-float32", b.float64_as_float32, kFloat64Help);
  build_cmd->add_option("--bind", b.binds, kBindHelp);
  build_cmd->add_option("--precision", b.precision,
                        "float32, or float16 (computed in float16 behind float32 inputs and outputs)")
      ->check(CLI::IsMember({"float32", "float16", "bfloat16"}));

  std::string info_model;
  std::vector<std::string> info_dims;
  bool info_float64 = false;
  CLI::App* info_cmd =
      app.add_subcommand("info", "print a model's graph after import (or an engine's)");
  info_cmd->add_option("model", info_model, "ONNX model or engine file")->required();
  info_cmd->add_option("--dim", info_dims, kDimHelp);
  info_cmd->add_flag("--float64-as-float32", info_float64, kFloat64Help);
  std::vector<std::string> info_binds;
  info_cmd->add_option("--bind", info_binds, kBindHelp);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // --help and --version exit 0; every other parse error is a usage error: 2.
    return app.exit(e) == 0 ? 0 : 2;
  }
  try {
    if (*run_cmd) return run(r);
    if (*build_cmd) return build(b);
    if (*info_cmd) return info(info_model, info_dims, info_float64, info_binds);
  } catch (const Error& e) {
    std::fprintf(stderr, "cppnn: %s: %s\n", to_string(e.kind()), e.what());
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "cppnn: %s\n", e.what());
    return 1;
  }
  return 0;
}
