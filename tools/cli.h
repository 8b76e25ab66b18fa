#pragma once
// What the cppnn tool's subcommands share: the model options (--dim, --bind,
// --float64-as-float32) and their checks, loading an ONNX model or an engine file, inputs,
// timing, and the exit codes. Each subcommand lives in its own tools/cmd_*.cpp and adds
// itself to the command line with an add_* function below; cppnn_main.cpp runs the one given.
//
// Exit codes: 0 done; 1 a model, file or runtime error (cppnn::Error, a missing device, a
// comparison past its tolerance); 2 a usage error (bad or missing arguments, an unknown
// --dim name, ...), found before any work.
#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

#include "cppnn/cppnn.h"

namespace cppnn::cli {

inline constexpr int kExitOk = 0;
inline constexpr int kExitError = 1;
inline constexpr int kExitUsage = 2;

// A bad argument found after parsing (an --dim name the model lacks, a malformed value):
// main prints it and exits 2, as for CLI11's own parse errors.
struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};
[[noreturn]] void usage_error(const std::string& message);

// A subcommand as main sees it: the parsed CLI11 app, and what runs it (its exit code).
struct Command {
  CLI::App* app = nullptr;
  std::function<int()> run;
};

Command add_run(CLI::App& app);
Command add_info(CLI::App& app);
Command add_build(CLI::App& app);
Command add_inspect(CLI::App& app);
Command add_bench(CLI::App& app);
Command add_compare(CLI::App& app);
Command add_cache(CLI::App& app);

// The options every subcommand that loads a model takes.
struct ModelArgs {
  std::string model;
  std::vector<std::string> dims;   // NAME=VALUE
  std::vector<std::string> binds;  // NAME=V[,V...]
  bool float64_as_float32 = false;
};
// Adds MODEL (required) and --dim, --bind, --float64-as-float32 to `cmd`.
void add_model_options(CLI::App* cmd, ModelArgs& args, const std::string& model_help);

std::pair<std::string, std::string> split_assignment(const std::string& s, const char* what);
// The checks of --dim and --bind that need no model (NAME=VALUE, the values' syntax), for a
// subcommand that has work to do before loading it.
void check_model_args(const ModelArgs& args);

// The ONNX import options of `args` for the ONNX file args.model: N (batch) and S
// (sequence) get 1 and 128 unless given; `extra` values (bench's --batch) go in too. Every
// --dim name must be one of the model's symbolic dimensions (a UsageError listing them), and
// every value an integer > 0.
OnnxImportOptions import_options(const ModelArgs& args,
                                 const std::map<std::string, int64_t>& extra = {});

// A model as the subcommands use it. From an ONNX file: `graph` is the imported graph and
// `engine` is empty unless built in memory (precision float16). From an engine file:
// `engine` is it and `graph` its graph; --dim and --bind are ignored with a warning.
struct LoadedModel {
  Graph graph;
  Engine engine;
  bool from_engine_file = false;
  double load_ms = 0;
};
LoadedModel load_model(const ModelArgs& args, const std::string& precision = "float32",
                       const std::map<std::string, int64_t>& extra = {});

// "float32" | "float16", checked by CLI11 before.
Precision precision_of(const std::string& name);

// The fixed input of `run` and the README's main job: a smooth pattern any runtime can
// reproduce exactly (float32, int32, int64).
Tensor pattern_input(const OperandDescriptor& desc);
// A seeded random input (compare, bench): floats uniform in [-1, 1), integers in [0, 100),
// uint8 in {0, 1}; the same seed gives the same bytes on every machine.
Tensor seeded_input(const OperandDescriptor& desc, uint64_t seed);
// --input NAME=FILE.npy for the inputs named, `fill` for the others.
NamedTensors make_inputs(const Graph& graph, const std::vector<std::string>& input_files,
                         const std::function<Tensor(const OperandDescriptor&)>& fill);

// ContextOptions for --device auto|cpu|cuda; create_context fails (NotSupportedError,
// exit 1) for cuda when the context got no CUDA backend.
ContextOptions context_options(const std::string& device, int threads = 0);
Context create_context(const std::string& device, const ContextOptions& options,
                       const std::string& flag = "--device");

double ms_since(std::chrono::steady_clock::time_point t0);
std::string human_bytes(uint64_t bytes);
// Nearest-rank percentile (0 <= q <= 1) of sorted values.
double percentile(const std::vector<double>& sorted, double q);

}  // namespace cppnn::cli
