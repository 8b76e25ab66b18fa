// cppnn run: run an ONNX model or an engine file, print its outputs' top classes and the
// latency; cppnn info: print a model's graph after import.
#include <algorithm>
#include <climits>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <numeric>

#include <map>

#include "cli.h"
#include "cppnn/graph_info.h"
#include "npy.h"

namespace cppnn::cli {

namespace {

struct RunArgs {
  ModelArgs model;
  std::vector<std::string> inputs;  // NAME=FILE.npy
  std::string save_dir;
  std::string device = "auto";
  int iterations = 20;
  int warmup = 3;
  int top = 5;
  int threads = 0;
  std::string precision = "float32";
  bool report = false;
  std::vector<std::string> symbols;  // NAME=VALUE: the shape a dynamic engine runs at
};

// --symbol NAME=VALUE for a dynamic-shape engine: the graph at those values (opt for the
// others); a usage error for a graph without symbols, an unknown name or a value outside its
// range.
Graph at_symbols(const Graph& graph, const std::vector<std::string>& given) {
  if (given.empty()) return graph;
  if (!graph.dynamic())
    usage_error("--symbol: the model has no dynamic shapes (build its engine with --dynamic)");
  std::map<std::string, int64_t> values;
  for (const auto& [name, range] : graph.symbols()) values[name] = range.opt;
  const auto symbols = graph.symbols();
  for (const std::string& g : given) {
    auto [name, text] = split_assignment(g, "--symbol");
    auto it = symbols.find(name);
    if (it == symbols.end()) {
      std::string list;
      for (const auto& [n, r] : symbols) list += (list.empty() ? "" : ", ") + n;
      usage_error("--symbol " + g + ": the graph has no symbol '" + name + "' (it has " + list + ")");
    }
    if (text.empty() || text.size() > 10 || text.find_first_not_of("0123456789") != std::string::npos)
      usage_error("--symbol " + g + ": the value must be a positive integer");
    int64_t v = std::stoll(text);
    if (v < it->second.min || v > it->second.max)
      usage_error("--symbol " + g + ": outside the range of '" + name + "', [" +
                  std::to_string(it->second.min) + ", " + std::to_string(it->second.max) + "]");
    values[name] = v;
  }
  return graph.specialize(values);
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

// A float16 graph whose activations underflow returns zeros without any error: say so when
// a float output is all zeros, and which command tells more.
void warn_if_float16_zeros(const Graph& graph, const NamedTensors& outputs,
                           const std::string& model) {
  if (graph_precision(graph) != Precision::float16) return;
  for (const auto& [name, t] : outputs) {
    if (!is_float(t.data_type()) || t.element_count() == 0) continue;
    std::vector<double> v = t.to_doubles();
    if (std::all_of(v.begin(), v.end(), [](double x) { return x == 0.0; }))
      std::fprintf(
          stderr,
          "cppnn: warning: output '%s' is all zeros in float16, which may be underflow; "
          "`cppnn compare %s --devices cpu --precision float16` compares it with float32\n",
          name.c_str(), model.c_str());
  }
}

int run(const RunArgs& a) {
  // Usage errors first, then the folder (a bad one fails at once), then the work.
  check_model_args(a.model);
  for (const auto& spec : a.inputs) split_assignment(spec, "--input");
  prepare_save_dir(a.save_dir);
  LoadedModel m = load_model(a.model, a.precision);
  const Graph graph = at_symbols(m.graph, a.symbols);

  auto tc = std::chrono::steady_clock::now();
  Context context = create_context(a.device, context_options(a.device, a.threads));
  double context_ms = ms_since(tc);

  NamedTensors inputs = make_inputs(graph, a.inputs, pattern_input);

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

  if (m.engine.valid())
    std::printf("model    %s (engine, %zu nodes, hash %s)\n", a.model.model.c_str(),
                graph.node_count(), m.engine.hash().c_str());
  else
    std::printf("model    %s (%zu nodes)\n", a.model.model.c_str(), graph.node_count());
  std::printf("device   %s (%s)\n", context.backend().c_str(), context.backend_reason().c_str());
  for (const auto& [name, t] : outputs) {
    std::printf("output   %s %s %s\n", name.c_str(), std::string(to_string(t.data_type())).c_str(),
                to_string(t.shape()).c_str());
    if (!is_float(t.data_type()) || t.shape().empty()) continue;
    size_t classes = size_t(t.shape().back());
    // The first row in float64 (a float16 engine built with --no-keep-io-types returns float16).
    std::vector<double> row = Tensor(t.data_type(), {int64_t(classes)}, t.data(),
                                     classes * element_size(t.data_type())).to_doubles();
    const double* p = row.data();
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
  std::printf("context  %.1f ms (backend creation%s)\n", context_ms,
              cuda ? ": CUDA context, libraries" : "");
  std::printf("compile  %.1f ms\n", compile_ms);
  std::printf("first    %.1f ms (the first compute%s)\n", first_ms,
              cuda ? ": CUDA graph capture, kernels loaded on first use" : "");
  std::printf("latency  median %.3f ms, min %.3f ms, p90 %.3f ms over %zu runs\n",
              percentile(ms, 0.5), ms.front(), percentile(ms, 0.9), ms.size());
  warn_if_float16_zeros(graph, outputs, a.model.model);
  if (a.report) std::printf("report\n%s", context.report(graph).c_str());
  if (!a.save_dir.empty()) save_outputs(a.save_dir, outputs);
  return kExitOk;
}

int info(const ModelArgs& a) {
  Graph graph = load_model(a).graph;
  for (const auto& [name, d] : graph.inputs())
    std::printf("input  %s %s %s\n", name.c_str(), std::string(to_string(d.data_type)).c_str(),
                to_string(d.shape).c_str());
  for (const auto& [name, d] : graph.outputs())
    std::printf("output %s %s %s\n", name.c_str(), std::string(to_string(d.data_type)).c_str(),
                to_string(d.shape).c_str());
  std::printf("%s", graph.summary().c_str());
  return kExitOk;
}

}  // namespace

Command add_run(CLI::App& app) {
  auto r = std::make_shared<RunArgs>();
  CLI::App* cmd = app.add_subcommand("run", "run an ONNX model or an engine file and time it");
  add_model_options(cmd, r->model, "ONNX model or engine file");
  cmd->add_option("--input", r->inputs,
                  "input from a .npy file, NAME=FILE (default: a fixed pattern)");
  cmd->add_option("--device", r->device,
                  "auto (the GPU when there is one), cpu, or cuda (an error without one)")
      ->check(CLI::IsMember({"auto", "cpu", "cuda"}))
      ->capture_default_str();
  cmd->add_option("--iterations", r->iterations, "timed runs")
      ->check(CLI::Range(1, INT_MAX))
      ->capture_default_str();
  cmd->add_option("--warmup", r->warmup, "untimed runs first")
      ->check(CLI::Range(0, INT_MAX))
      ->capture_default_str();
  cmd->add_option("--top", r->top, "classes to print")
      ->check(CLI::Range(0, INT_MAX))
      ->capture_default_str();
  cmd->add_option("--threads", r->threads, "CPU threads (0: all cores)")
      ->check(CLI::Range(0, INT_MAX))
      ->capture_default_str();
  cmd->add_option("--save", r->save_dir,
                  "write each output to DIR/FILE.npy (DIR made if missing; FILE the output's name "
                  "with every character but letters, digits, '.', '-' and '_' made '_', no "
                  "leading '.'; the mapping is printed)");
  cmd->add_option("--precision", r->precision,
                  "float32, or float16: an ONNX model is first built into a float16 engine")
      ->check(CLI::IsMember({"float32", "float16", "bfloat16"}))
      ->capture_default_str();
  cmd->add_flag("--report", r->report, "print the backend's plan: what runs where");
  cmd->add_option("--symbol", r->symbols,
                  "the shape a dynamic-shape engine runs at, NAME=VALUE per symbol (e.g. "
                  "batch=4 seq=77; the others at their opt values)");
  return {cmd, [r] { return run(*r); }};
}

Command add_info(CLI::App& app) {
  auto a = std::make_shared<ModelArgs>();
  CLI::App* cmd = app.add_subcommand("info", "print a model's graph after import (or an engine's)");
  add_model_options(cmd, *a, "ONNX model or engine file");
  return {cmd, [a] { return info(*a); }};
}

}  // namespace cppnn::cli
