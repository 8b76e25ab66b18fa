// cppnn build: an ONNX model becomes an engine file; a summary of what the compiler did.
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <map>
#include <memory>
#include <mutex>
#include <thread>

#include "cli.h"
#include "cppnn/graph_info.h"

namespace cppnn::cli {

namespace {

struct BuildArgs {
  ModelArgs model;
  std::string output;
  std::string precision = "float32";
  bool keep_io_types = true;
  std::vector<std::string> dynamic;  // NAME=MIN:OPT:MAX: dynamic shapes' ranges
};

// --dynamic NAME=MIN:OPT:MAX, checked against the model's symbolic dimensions and --dim.
std::map<std::string, SymbolRange> dynamic_ranges(const BuildArgs& a) {
  std::map<std::string, SymbolRange> out;
  if (a.dynamic.empty()) return out;
  std::vector<std::string> known = read_onnx_decl(a.model.model).symbolic_dims();
  for (const std::string& d : a.dynamic) {
    auto [name, text] = split_assignment(d, "--dynamic");
    int64_t v[3] = {0, 0, 0};
    size_t at = 0;
    for (int i = 0; i < 3; ++i) {
      size_t end = i < 2 ? text.find(':', at) : text.size();
      std::string part = end == std::string::npos ? "" : text.substr(at, end - at);
      if (part.empty() || part.find_first_not_of("0123456789") != std::string::npos || part.size() > 10)
        usage_error("--dynamic " + d + ": give NAME=MIN:OPT:MAX with three positive integers");
      v[i] = std::stoll(part);
      at = end + 1;
    }
    if (!(1 <= v[0] && v[0] <= v[1] && v[1] <= v[2]))
      usage_error("--dynamic " + d + ": needs 1 <= MIN <= OPT <= MAX");
    if (std::find(known.begin(), known.end(), name) == known.end())
      usage_error("--dynamic " + d + ": the model has no symbolic dimension '" + name + "'" +
                  (known.empty() ? std::string("; its inputs' shapes are all fixed") : ""));
    for (const std::string& dim : a.model.dims)
      if (split_assignment(dim, "--dim").first == name)
        usage_error("--dynamic " + d + ": '" + name + "' is given a value with --dim too");
    out[name] = {v[0], v[1], v[2]};
  }
  return out;
}

// The stage and its running time on one line of stderr, redrawn every 100 ms, only when
// stderr is a terminal: a pipe or a log file gets none of it (Engine::build reports no
// finer progress than its stages).
class Progress {
 public:
  explicit Progress(int stages) : enabled_(::isatty(STDERR_FILENO) == 1), stages_(stages) {
    if (enabled_) ticker_ = std::thread([this] { tick(); });
  }
  ~Progress() { finish(); }
  void stage(const std::string& what) {
    if (!enabled_) return;
    std::lock_guard lock(mutex_);
    ++index_;
    what_ = what;
    started_ = std::chrono::steady_clock::now();
    draw();
  }
  void finish() {
    if (!enabled_ || !ticker_.joinable()) return;
    {
      std::lock_guard lock(mutex_);
      done_ = true;
    }
    wake_.notify_all();
    ticker_.join();
    std::fprintf(stderr, "\r\033[K");
    std::fflush(stderr);
  }

 private:
  void draw() {
    std::fprintf(stderr, "\r\033[K[%d/%d] %s ... %.1f s", index_, stages_, what_.c_str(),
                 ms_since(started_) / 1000);
    std::fflush(stderr);
  }
  void tick() {
    std::unique_lock lock(mutex_);
    while (!wake_.wait_for(lock, std::chrono::milliseconds(100), [this] { return done_; }))
      if (index_ > 0) draw();
  }
  bool enabled_;
  int stages_;
  int index_ = 0;
  std::string what_;
  std::chrono::steady_clock::time_point started_;
  bool done_ = false;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::thread ticker_;
};

// What a node computes in: its first output's type when that is a float, else its first
// input's (a comparison's or a cast's output says less than its input).
std::string compute_type(const NodeSummary& n, const std::vector<OperandSummary>& operands) {
  auto is_float = [](DataType t) { return t == DataType::float32 || t == DataType::float16; };
  if (!n.outputs.empty() && is_float(operands[size_t(n.outputs[0])].desc.data_type))
    return std::string(to_string(operands[size_t(n.outputs[0])].desc.data_type));
  for (int32_t id : n.inputs)
    if (id >= 0) return std::string(to_string(operands[size_t(id)].desc.data_type));
  return n.outputs.empty() ? "-"
                           : std::string(to_string(operands[size_t(n.outputs[0])].desc.data_type));
}

int build(const BuildArgs& a) {
  auto t_all = std::chrono::steady_clock::now();
  Progress progress(3);
  progress.stage("importing " + a.model.model);
  auto t0 = std::chrono::steady_clock::now();
  OnnxImportOptions import = import_options(a.model);
  for (const auto& [name, range] : dynamic_ranges(a)) {
    import.dim_values.erase(name);  // N and S get default values; a range replaces them
    import.dynamic[name] = range;
  }
  Graph graph = load_onnx(a.model.model, import);
  double import_ms = ms_since(t0);
  progress.stage("optimizing (" + std::to_string(graph.node_count()) + " nodes, " + a.precision +
                 ")");
  auto t1 = std::chrono::steady_clock::now();
  EngineBuildOptions build_options;
  build_options.precision = precision_of(a.precision);
  build_options.keep_io_types = a.keep_io_types;
  Engine engine = Engine::build(graph, build_options);
  double build_ms = ms_since(t1);
  progress.stage("writing " + a.output);
  auto t2 = std::chrono::steady_clock::now();
  engine.save(a.output);
  double save_ms = ms_since(t2);
  progress.finish();

  const Graph& built = engine.graph();
  std::vector<NodeSummary> nodes = graph_nodes(built);
  std::vector<OperandSummary> operands = graph_operands(built);
  std::map<std::string, std::map<std::string, size_t>> kinds;  // op -> compute type -> count
  std::map<std::string, size_t> fusions;
  for (const NodeSummary& n : nodes) {
    ++kinds[n.op][compute_type(n, operands)];
    for (const std::string& f : n.fused) ++fusions[n.op + "+" + f];
  }
  std::printf("model     %s\n", a.model.model.c_str());
  std::printf("engine    %s (%s, format version %u, hash %s)\n", a.output.c_str(),
              human_bytes(engine.byte_size()).c_str(), engine.format_version(),
              engine.hash().c_str());
  std::printf("nodes     %zu imported, %zu after optimization\n", graph.node_count(), nodes.size());
  std::printf("fusions   ");
  if (fusions.empty()) std::printf("none");
  bool first = true;
  for (const auto& [what, count] : fusions) {
    std::printf("%s%s x%zu", first ? "" : ", ", what.c_str(), count);
    first = false;
  }
  std::printf("\nprecision %s%s\n", std::string(to_string(graph_precision(built))).c_str(),
              engine.options().keep_io_types ? "" : " (float16 inputs and outputs)");
  if (built.dynamic()) {
    std::printf("shapes    dynamic:");
    for (const auto& [name, r] : built.symbols())
      std::printf(" %s in [%lld, %lld] (opt %lld)", name.c_str(), (long long)r.min, (long long)r.max,
                  (long long)r.opt);
    std::printf("\n");
  }
  for (const auto& [op, types] : kinds) {
    std::printf("  %-24s", op.c_str());
    bool f = true;
    for (const auto& [type, count] : types) {
      std::printf("%s%zu %s", f ? "" : ", ", count, type.c_str());
      f = false;
    }
    std::printf("\n");
  }
  std::printf("weights   %s (%zu bytes; %s imported)\n", human_bytes(constant_bytes(built)).c_str(),
              constant_bytes(built), human_bytes(constant_bytes(graph)).c_str());
  std::printf("time      %.1f ms: import %.1f ms, build %.1f ms, write %.1f ms\n", ms_since(t_all),
              import_ms, build_ms, save_ms);
  return kExitOk;
}

}  // namespace

Command add_build(CLI::App& app) {
  auto b = std::make_shared<BuildArgs>();
  CLI::App* cmd = app.add_subcommand("build", "optimize an ONNX model into an engine file");
  add_model_options(cmd, b->model, "ONNX model file");
  cmd->add_option("-o,--output", b->output, "engine file to write")->required();
  cmd->add_option("--precision", b->precision,
                  "float32, or float16 (computed in float16 behind float32 inputs and outputs)")
      ->check(CLI::IsMember({"float32", "float16", "bfloat16"}))
      ->capture_default_str();
  cmd->add_flag("--keep-io-types,!--no-keep-io-types", b->keep_io_types,
                "with --precision float16: --no-keep-io-types makes the float32 inputs and "
                "outputs float16 too (no casts at the interface; the caller passes float16)")
      ->capture_default_str();
  cmd->add_option("--dynamic", b->dynamic,
                  "keep a symbolic dimension symbolic within a range, NAME=MIN:OPT:MAX (e.g. "
                  "N=1:8:32, repeatable): one engine runs every shape in the ranges, kernels "
                  "chosen at OPT (docs/dynamic-shapes.md)");
  return {cmd, [b] {
            check_model_args(b->model);
            if (Engine::is_engine_file(b->model.model))
              usage_error("build: '" + b->model.model +
                          "' is an engine file already; give the ONNX model");
            return build(*b);
          }};
}

}  // namespace cppnn::cli
