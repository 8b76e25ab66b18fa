// The cppnn tool's shared pieces (tools/cli.h).
#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <set>

#include "cli.h"
#include "npy.h"

namespace cppnn::cli {

namespace {

constexpr const char* kDimHelp =
    "value of a symbolic dimension, NAME=VALUE (N=1 S=128 by default; an unnamed one is "
    "INPUT:INDEX, e.g. x:0); NAME must be one of the model's";
constexpr const char* kFloat64Help =
    "compute float64 inputs, outputs and constants in float32 (WebNN has no float64)";
constexpr const char* kBindHelp =
    "fix a graph input at load time, NAME=VALUE or NAME=V1,V2,... (e.g. a sample rate: "
    "sr=16000); it becomes a constant, so tests on it fold";

std::string join(const std::vector<std::string>& parts, const std::string& sep) {
  std::string s;
  for (size_t i = 0; i < parts.size(); ++i) s += (i ? sep : "") + parts[i];
  return s;
}

// --bind NAME=V[,V...]: one value a scalar, several a 1-D tensor; int64 when every value is
// an integer, else float32 (the importer converts them to the input's type).
Tensor bound_value(const std::string& assignment) {
  auto [name, text] = split_assignment(assignment, "--bind");
  std::vector<std::string> parts;
  for (size_t start = 0;;) {
    size_t comma = text.find(',', start);
    parts.push_back(
        text.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
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
      usage_error("--bind '" + assignment + "': '" + p + "' is not a number");
    floats.push_back(f);
  }
  Dims shape = parts.size() == 1 ? Dims{} : Dims{int64_t(parts.size())};
  return all_ints ? Tensor::from(DataType::int64, shape, ints)
                  : Tensor::from(DataType::float32, shape, floats);
}

}  // namespace

void usage_error(const std::string& message) { throw UsageError(message); }

void add_model_options(CLI::App* cmd, ModelArgs& a, const std::string& model_help) {
  cmd->add_option("model", a.model, model_help)->required();
  cmd->add_option("--dim", a.dims, kDimHelp);
  cmd->add_flag("--float64-as-float32", a.float64_as_float32, kFloat64Help);
  cmd->add_option("--bind", a.binds, kBindHelp);
}

std::pair<std::string, std::string> split_assignment(const std::string& s, const char* what) {
  size_t eq = s.find('=');
  if (eq == std::string::npos || eq == 0)
    usage_error(std::string(what) + " '" + s + "' must be NAME=VALUE");
  return {s.substr(0, eq), s.substr(eq + 1)};
}

namespace {

std::pair<std::string, int64_t> dim_value(const std::string& d) {
  auto [name, value] = split_assignment(d, "--dim");
  int64_t v = 0;
  auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), v);
  if (value.empty() || ec != std::errc() || end != value.data() + value.size() || v <= 0)
    usage_error("--dim '" + d + "': the value must be an integer > 0");
  return {name, v};
}

}  // namespace

void check_model_args(const ModelArgs& a) {
  for (const auto& d : a.dims) dim_value(d);
  for (const auto& b : a.binds) bound_value(b);
}

OnnxImportOptions import_options(const ModelArgs& a, const std::map<std::string, int64_t>& extra) {
  OnnxImportOptions import;
  for (const auto& assignment : a.binds)
    import.input_values[split_assignment(assignment, "--bind").first] = bound_value(assignment);
  std::vector<std::pair<std::string, std::string>> given;
  for (const auto& d : a.dims) {
    auto [name, v] = dim_value(d);
    import.dim_values[name] = v;
    given.emplace_back(name, d);
  }
  if (!given.empty()) {
    // The file's declared inputs, read before the import: a name the model lacks is a typo
    // that would otherwise be silently ignored.
    OnnxModelDecl decl = read_onnx_decl(a.model);
    std::vector<std::string> known = decl.symbolic_dims();
    std::set<std::string> names(known.begin(), known.end());
    // "?" (which earlier versions took as a name) sets every unnamed dimension, when any.
    bool unnamed = std::any_of(known.begin(), known.end(), [](const std::string& n) {
      return n.find(':') != std::string::npos;
    });
    for (const auto& [name, d] : given) {
      if (names.count(name) || (name == "?" && unnamed)) continue;
      usage_error("--dim " + d + ": the model has no symbolic dimension '" + name + "'; " +
                  (known.empty() ? std::string("its inputs' shapes are all fixed")
                                 : "its symbolic dimensions are " + join(known, ", ") +
                                       " (set each with --dim NAME=VALUE)"));
    }
  }
  for (const auto& [name, v] : extra) import.dim_values[name] = v;
  if (!import.dim_values.count("N")) import.dim_values["N"] = 1;
  if (!import.dim_values.count("S")) import.dim_values["S"] = 128;
  import.float64_as_float32 = a.float64_as_float32;
  return import;
}

Precision precision_of(const std::string& name) {
  return name == "float32" ? Precision::float32 : precision_from_string(name);
}

LoadedModel load_model(const ModelArgs& a, const std::string& precision,
                       const std::map<std::string, int64_t>& extra) {
  LoadedModel m;
  auto t0 = std::chrono::steady_clock::now();
  // An engine is recognized by its magic bytes, whatever the file is called.
  if (Engine::is_engine_file(a.model)) {
    if (!a.dims.empty() || !a.binds.empty())
      std::fprintf(stderr,
                   "cppnn: --dim and --bind are ignored: an engine's shapes and constants are "
                   "set when it is built\n");
    m.engine = Engine::load(a.model);
    if (precision != "float32" && m.engine.options().precision != precision_of(precision))
      std::fprintf(stderr, "cppnn: --precision is ignored: the engine was built with its own\n");
    m.graph = m.engine.graph();
    m.from_engine_file = true;
  } else {
    m.graph = load_onnx(a.model, import_options(a, extra));
    if (precision != "float32") {
      // The same path as `cppnn build --precision`, kept in memory.
      EngineBuildOptions build_options;
      build_options.precision = precision_of(precision);
      m.engine = Engine::build(m.graph, build_options);
      m.graph = m.engine.graph();
    }
  }
  m.load_ms = ms_since(t0);
  return m;
}

Tensor pattern_input(const OperandDescriptor& desc) {
  Tensor t(desc.data_type, desc.shape);
  size_t n = t.element_count();
  switch (desc.data_type) {
    case DataType::float32: {
      float* p = t.data_as<float>();
      for (size_t i = 0; i < n; ++i) p[i] = float(std::sin(double(i) * 0.001));
      break;
    }
    case DataType::float16: {  // the float32 pattern, rounded
      uint16_t* p = t.data_as<uint16_t>();
      for (size_t i = 0; i < n; ++i) p[i] = float_to_half(float(std::sin(double(i) * 0.001)));
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

Tensor seeded_input(const OperandDescriptor& desc, uint64_t seed) {
  Tensor t(desc.data_type, desc.shape);
  size_t n = t.element_count();
  // mt19937_64's output is fixed by the standard; the mapping below uses no
  // implementation-defined distribution, so the bytes are the same everywhere.
  std::mt19937_64 gen(seed);
  auto unit = [&] { return double(gen() >> 11) * (1.0 / 9007199254740992.0); };  // [0, 1)
  switch (desc.data_type) {
    case DataType::float32: {
      float* p = t.data_as<float>();
      for (size_t i = 0; i < n; ++i) p[i] = float(unit() * 2.0 - 1.0);
      break;
    }
    case DataType::float16: {  // the float32 values of the same seed, rounded
      uint16_t* p = t.data_as<uint16_t>();
      for (size_t i = 0; i < n; ++i) p[i] = float_to_half(float(unit() * 2.0 - 1.0));
      break;
    }
    case DataType::int64: {
      int64_t* p = t.data_as<int64_t>();
      for (size_t i = 0; i < n; ++i) p[i] = int64_t(gen() % 100);
      break;
    }
    case DataType::int32: {
      int32_t* p = t.data_as<int32_t>();
      for (size_t i = 0; i < n; ++i) p[i] = int32_t(gen() % 100);
      break;
    }
    case DataType::uint8: {
      uint8_t* p = t.data_as<uint8_t>();
      for (size_t i = 0; i < n; ++i) p[i] = uint8_t(gen() & 1);
      break;
    }
    default:
      fail(ErrorKind::NotSupportedError, "no random input for data type " +
                                             std::string(to_string(desc.data_type)) +
                                             "; pass --input NAME=FILE.npy");
  }
  return t;
}

NamedTensors make_inputs(const Graph& graph, const std::vector<std::string>& input_files,
                         const std::function<Tensor(const OperandDescriptor&)>& fill) {
  NamedTensors inputs;
  for (const auto& spec : input_files) {
    auto [name, path] = split_assignment(spec, "--input");
    inputs[name] = tools::read_npy(path);
  }
  for (const auto& [name, desc] : graph.inputs())
    if (!inputs.count(name)) inputs[name] = fill(desc);
  return inputs;
}

ContextOptions context_options(const std::string& device, int threads) {
  ContextOptions options;
  options.accelerated = device != "cpu";
  options.power_preference = PowerPreference::high_performance;
  options.num_threads = threads;
  return options;
}

Context create_context(const std::string& device, const ContextOptions& options,
                       const std::string& flag) {
  Context context = Context::create(options);
  if (device == "cuda" && context.backend() != "cuda")
    fail(ErrorKind::NotSupportedError,
         flag + " cuda: no CUDA backend: " + context.backend_reason());
  return context;
}

double ms_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

std::string human_bytes(uint64_t bytes) {
  char buf[64];
  if (bytes < 1024) {
    std::snprintf(buf, sizeof buf, "%llu B", static_cast<unsigned long long>(bytes));
  } else {
    const char* units[] = {"KiB", "MiB", "GiB", "TiB"};
    double v = double(bytes) / 1024;
    int u = 0;
    while (v >= 1024 && u < 3) v /= 1024, ++u;
    std::snprintf(buf, sizeof buf, "%.1f %s", v, units[u]);
  }
  return buf;
}

double percentile(const std::vector<double>& sorted, double q) {
  if (sorted.empty()) return 0;
  size_t rank = size_t(std::ceil(q * double(sorted.size())));
  return sorted[std::min(sorted.size() - 1, rank == 0 ? 0 : rank - 1)];
}

}  // namespace cppnn::cli
