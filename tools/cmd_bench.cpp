// cppnn bench: start-up (context, compile, first compute) with a cold runtime cache (a fresh
// temporary folder) and a warm one (the user's), then latency percentiles and throughput,
// for one or several batch sizes.
#include <algorithm>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>

#include "cli.h"
#include "cppnn/runtime_cache.h"

namespace cppnn::cli {

namespace {

using nlohmann::json;

struct BenchArgs {
  ModelArgs model;
  std::string device = "auto";
  std::string precision = "float32";
  std::vector<int> batches;
  int iterations = 20;
  double duration = 0;  // seconds; 0: --iterations counts
  int warmup = 3;
  int threads = 0;
  uint64_t seed = 0;
  std::string json_file;
};

struct Start {
  double context_ms = 0, compile_ms = 0, first_ms = 0;
  json to_json() const {
    return {{"context_ms", context_ms}, {"compile_ms", compile_ms}, {"first_compute_ms", first_ms}};
  }
};

// CPPNN_CACHE_DIR set to `dir` while it lives, then as it was: the runtime cache reads the
// variable when a backend compiles, so a context made meanwhile starts cold.
class ScopedCacheDir {
 public:
  explicit ScopedCacheDir(const std::string& dir) {
    if (const char* v = std::getenv("CPPNN_CACHE_DIR")) old_ = v;
    ::setenv("CPPNN_CACHE_DIR", dir.c_str(), 1);
  }
  ~ScopedCacheDir() {
    if (old_)
      ::setenv("CPPNN_CACHE_DIR", old_->c_str(), 1);
    else
      ::unsetenv("CPPNN_CACHE_DIR");
  }

 private:
  std::optional<std::string> old_;
};

// A fresh, empty folder of our own under the temporary directory, removed at the end.
class TempDir {
 public:
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "cppnn-bench-XXXXXX").string();
    if (!::mkdtemp(pattern.data()))
      fail(ErrorKind::OperationError, "cannot make a temporary folder for the cold runtime cache");
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

Start start_once(const BenchArgs& a, const Graph& graph, const NamedTensors& inputs,
                 std::optional<Context>* keep = nullptr) {
  Start s;
  if (keep) keep->reset();  // an earlier start's context and its memory are gone first
  auto t0 = std::chrono::steady_clock::now();
  Context context = create_context(a.device, context_options(a.device, a.threads));
  s.context_ms = ms_since(t0);
  // The peak device memory then reported is this start's and its runs' (the counts are the
  // process's, per GPU).
  context.reset_peak_memory();
  auto t1 = std::chrono::steady_clock::now();
  context.compile(graph);
  s.compile_ms = ms_since(t1);
  auto t2 = std::chrono::steady_clock::now();
  context.compute(graph, inputs);
  s.first_ms = ms_since(t2);
  if (keep) keep->emplace(std::move(context));
  return s;
}

// A dynamic-shape engine's batch symbol: the symbol of every input's first axis, with each
// --batch value inside its range; a usage error saying why otherwise (an engine built with
// fixed shapes, no common batch symbol, a value out of range), before any timing.
std::string engine_batch_symbol(const Graph& graph, const std::vector<int>& batches) {
  if (!graph.dynamic())
    usage_error("--batch: this engine was built with fixed shapes; build it with --dynamic "
                "NAME=MIN:OPT:MAX (one engine for every batch in range), or give the ONNX model");
  std::string name;
  for (const auto& [input, axes] : graph.input_symbols()) {
    if (axes.empty() || axes[0].empty())
      usage_error("--batch: the first dimension of input '" + input + "' is fixed in this engine");
    if (!name.empty() && axes[0] != name)
      usage_error("--batch: the inputs' first dimensions are different symbols ('" + name + "', '" +
                  axes[0] + "')");
    name = axes[0];
  }
  if (name.empty()) usage_error("--batch: the engine has no inputs");
  const SymbolRange range = graph.symbols().at(name);
  for (int b : batches)
    if (b < range.min || b > range.max)
      usage_error("--batch " + std::to_string(b) + ": outside the range of '" + name + "' this engine was built for, [" +
                  std::to_string(range.min) + ", " + std::to_string(range.max) + "]");
  return name;
}

// The name of an ONNX model's batch dimension: the first dimension of every input (those
// fixed by --bind aside) must be one symbolic name. Anything else is a usage error saying why.
std::string batch_dim_name(const BenchArgs& a) {
  OnnxModelDecl decl = read_onnx_decl(a.model.model);
  std::set<std::string> bound;
  for (const auto& b : a.model.binds) bound.insert(split_assignment(b, "--bind").first);
  std::string name;
  for (const OnnxInputDecl& in : decl.inputs) {
    if (bound.count(in.name)) continue;
    if (in.dims.empty())
      usage_error("--batch: input '" + in.name +
                  "' has no batch dimension (it is a scalar or has no shape)");
    const std::string& d = in.dims[0];
    bool fixed = !d.empty() && d.find_first_not_of("0123456789") == std::string::npos;
    if (fixed)
      usage_error(
          "--batch needs the model's batch dimension to be symbolic; the first dimension "
          "of input '" +
          in.name + "' is fixed at " + d);
    if (!name.empty() && d != name)
      usage_error("--batch: the inputs' first dimensions differ ('" + name + "', '" + d +
                  "'); set them with --dim instead");
    name = d;
  }
  if (name.empty()) usage_error("--batch: the model has no inputs");
  for (const auto& d : a.model.dims)
    if (split_assignment(d, "--dim").first == name)
      usage_error("--batch and --dim " + d + " both set the batch dimension '" + name + "'");
  return name;
}

int bench(const BenchArgs& a) {
  // An engine file is read once: its graph is the same at every batch (an ONNX model is
  // imported again per batch, with its batch dimension set).
  std::optional<LoadedModel> engine;
  if (Engine::is_engine_file(a.model.model)) engine = load_model(a.model, a.precision);
  std::string batch_name;
  std::vector<int> batches = a.batches;
  if (!batches.empty()) batch_name = engine ? engine_batch_symbol(engine->graph, batches) : batch_dim_name(a);
  if (batches.empty()) batches.push_back(0);  // the model's own shapes

  json report;
  report["model"] = a.model.model;
  report["precision"] = a.precision;
  report["cold_cache"] = "a fresh temporary folder (CPPNN_CACHE_DIR)";
  report["warm_cache"] = default_runtime_cache_folder();
  std::printf("model    %s\n", a.model.model.c_str());
  for (int batch : batches) {
    std::map<std::string, int64_t> extra;
    if (batch > 0) extra[batch_name] = batch;
    std::optional<LoadedModel> imported;
    if (!engine) imported = load_model(a.model, a.precision, extra);
    const LoadedModel& m = engine ? *engine : *imported;
    const Graph& graph = m.graph;
    // A dynamic engine runs as itself at this batch (the context specializes it, as an
    // application's would: its first compute there builds that shape's plan), on inputs
    // of the batch's shapes (the other symbols at their opt values).
    Graph shaped = graph;
    if (batch > 0 && m.from_engine_file) {
      std::map<std::string, int64_t> values;
      for (const auto& [name, range] : graph.symbols()) values[name] = range.opt;
      values[batch_name] = batch;
      shaped = graph.specialize(values);
    }
    NamedTensors inputs =
        make_inputs(shaped, {}, [&](const OperandDescriptor& d) { return seeded_input(d, a.seed); });

    Start cold;
    {
      TempDir dir;
      ScopedCacheDir scoped(dir.path());
      cold = start_once(a, graph, inputs);
    }
    std::optional<Context> context;
    // The user's cache: on a GPU, one start first so that it holds this graph's entry
    // (a first run ever would otherwise measure a cold start twice).
    Start warm = start_once(a, graph, inputs, &context);
    const bool caches = context->backend() != "cpu";
    if (caches) warm = start_once(a, graph, inputs, &context);

    for (int i = 0; i < a.warmup; ++i) context->compute(graph, inputs);
    std::vector<double> ms;
    auto t_all = std::chrono::steady_clock::now();
    while (a.duration > 0 ? (ms.empty() || ms_since(t_all) < a.duration * 1000)
                          : int(ms.size()) < a.iterations) {
      auto s = std::chrono::steady_clock::now();
      context->compute(graph, inputs);
      ms.push_back(ms_since(s));
    }
    std::sort(ms.begin(), ms.end());
    double mean = 0;
    for (double v : ms) mean += v;
    mean /= double(ms.size());
    int64_t samples = batch > 0 ? batch : 1;
    double throughput = mean > 0 ? double(samples) * 1000.0 / mean : 0;

    if (!report.contains("device")) {
      report["device"] = context->backend();
      report["device_reason"] = context->backend_reason();
      std::printf("device   %s (%s)\n", context->backend().c_str(),
                  context->backend_reason().c_str());
    }
    std::printf("%s\n", batch > 0 ? ("batch    " + batch_name + "=" + std::to_string(batch)).c_str()
                                  : "shapes   the model's (no --batch)");
    std::printf(
        "  cold   context %.1f ms, compile %.1f ms, first compute %.1f ms (fresh runtime cache)\n",
        cold.context_ms, cold.compile_ms, cold.first_ms);
    std::printf("  warm   context %.1f ms, compile %.1f ms, first compute %.1f ms (%s)\n",
                warm.context_ms, warm.compile_ms, warm.first_ms,
                caches ? "the user's runtime cache"
                       : "the cpu backend keeps no runtime cache: cold and warm differ only by "
                         "what the OS and allocators keep");
    std::printf("  latency min %.3f, median %.3f, p90 %.3f, p99 %.3f, max %.3f ms over %zu runs\n",
                ms.front(), percentile(ms, 0.5), percentile(ms, 0.9), percentile(ms, 0.99),
                ms.back(), ms.size());
    std::printf("  throughput %.1f samples/s (%lld per run / mean %.3f ms)\n", throughput,
                static_cast<long long>(samples), mean);
    const size_t peak = context->peak_memory();
    if (peak)
      std::printf("  peak device memory %.1f MiB (cppnn's allocations: plans, workspaces, tensors)\n",
                  double(peak) / double(1 << 20));
    else
      std::printf("  peak device memory n/a (the %s backend reports none)\n", context->backend().c_str());
    json b = {{"cold", cold.to_json()},
              {"warm", warm.to_json()},
              {"runs", ms.size()},
              {"latency_ms",
               {{"min", ms.front()},
                {"median", percentile(ms, 0.5)},
                {"p90", percentile(ms, 0.9)},
                {"p99", percentile(ms, 0.99)},
                {"max", ms.back()},
                {"mean", mean}}},
              {"throughput_per_s", throughput},
              {"peak_device_memory_bytes", peak ? json(peak) : json(nullptr)}};
    if (batch > 0) b["batch"] = batch, b["batch_dim"] = batch_name;
    report["results"].push_back(b);
  }
  if (!a.json_file.empty()) {
    std::ofstream f(a.json_file, std::ios::trunc);
    std::string text = report.dump(2) + "\n";
    if (!f || !f.write(text.data(), std::streamsize(text.size())) || !f.flush())
      fail(ErrorKind::DataError, "--json '" + a.json_file + "': cannot write the file");
    std::printf("json     %s\n", a.json_file.c_str());
  }
  return kExitOk;
}

}  // namespace

Command add_bench(CLI::App& app) {
  auto a = std::make_shared<BenchArgs>();
  CLI::App* cmd = app.add_subcommand(
      "bench", "time start-up (cold and warm runtime cache), latency and throughput");
  add_model_options(cmd, a->model, "ONNX model or engine file");
  cmd->add_option("--device", a->device, "auto, cpu, or cuda (an error without one)")
      ->check(CLI::IsMember({"auto", "cpu", "cuda"}))
      ->capture_default_str();
  cmd->add_option("--precision", a->precision,
                  "float32, or float16 (an ONNX model is built into a float16 engine)")
      ->check(CLI::IsMember({"float32", "float16", "bfloat16"}))
      ->capture_default_str();
  cmd->add_option("--batch", a->batches,
                  "batch sizes to time, e.g. 1,8,32: the model's batch dimension (the first of "
                  "its inputs) must be symbolic, or the engine built with it dynamic (--dynamic)")
      ->delimiter(',')
      ->check(CLI::Range(1, INT_MAX));
  CLI::Option* iterations =
      cmd->add_option("--iterations", a->iterations, "timed runs per batch size")
          ->check(CLI::Range(1, INT_MAX))
          ->capture_default_str();
  CLI::Option* duration =
      cmd->add_option("--duration", a->duration,
                      "time runs for this many seconds instead (at least one run)")
          ->check(CLI::PositiveNumber);
  iterations->excludes(duration);
  cmd->add_option("--warmup", a->warmup, "untimed runs first")
      ->check(CLI::Range(0, INT_MAX))
      ->capture_default_str();
  cmd->add_option("--threads", a->threads, "CPU threads (0: all cores)")
      ->check(CLI::Range(0, INT_MAX))
      ->capture_default_str();
  cmd->add_option("--seed", a->seed, "seed of the random inputs")->capture_default_str();
  cmd->add_option("--json", a->json_file, "also write the results as JSON to FILE");
  return {cmd, [a] { return bench(*a); }};
}

}  // namespace cppnn::cli
