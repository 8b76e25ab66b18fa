// cppnn compare: the same seeded inputs through each device, each output compared in
// float64 with the reference: the first device, in float32. The reference is cppnn's own
// float32 run, not an independent float64 one: what compare answers is "does this device or
// precision agree with the float32 CPU result", the question a user switching devices or
// precisions has; the CPU kernels' own accuracy is what the test suite checks against
// independent float64 references and ONNX Runtime. (ONNX Runtime is no device here: it has
// no C++ API installed on the machines that build cppnn.)
#include <climits>
#include <cmath>
#include <cstdio>
#include <limits>
#include <memory>
#include <optional>
#include <set>

#include "cli.h"
#include "cppnn/graph_info.h"

namespace cppnn::cli {

namespace {

struct CompareArgs {
  ModelArgs model;
  std::vector<std::string> devices = {"cpu", "cuda"};
  std::string precision = "float32";
  std::optional<double> atol, rtol;
  uint64_t seed = 0;
  std::vector<std::string> inputs;
  int threads = 0;
};

struct Stats {
  double max_abs = 0, max_rel = 0, cosine = 1;
  size_t failures = 0;  // elements past atol + rtol * |reference|
  size_t nan_mismatch = 0;
  size_t zero_where_reference_not = 0, reference_nonzero = 0;
  size_t inf_where_reference_finite = 0;
  // float16 runs: at float16's largest magnitude (65504) where the reference is beyond it
  // (a conversion that saturates instead of giving infinity).
  size_t saturated = 0;
};

constexpr double kFloat16Max = 65504.0;
constexpr double kFloat16MinSubnormal = 5.9604644775390625e-8;  // 2^-24

// A float16 engine stores the float32 weights in float16: those beyond its range saturate
// and those below its smallest subnormal (rounding to 0) vanish. Counted on the float32
// graph, since the outputs may not show it (a saturated scale is a scale error).
void warn_about_float16_weights(const Graph& graph) {
  size_t over = 0, under = 0;
  for (const OperandSummary& o : graph_operands(graph)) {
    if (o.kind != OperandKind::constant || !o.data || o.data->data_type() != DataType::float32)
      continue;
    const float* p = o.data->data_as<float>();
    for (size_t i = 0; i < o.data->element_count(); ++i) {
      double v = std::fabs(double(p[i]));
      if (std::isfinite(v) && v > kFloat16Max) ++over;
      if (v != 0 && v < kFloat16MinSubnormal / 2) ++under;
    }
  }
  if (over > 0)
    std::fprintf(stderr,
                 "cppnn: warning: float16 overflows the weights: %zu float32 weight values are "
                 "beyond float16's largest (65504) and saturate\n",
                 over);
  if (under > 0)
    std::fprintf(stderr,
                 "cppnn: warning: float16 underflows the weights: %zu non-zero float32 weight "
                 "values are below float16's smallest (6e-8) and become 0\n",
                 under);
}

Stats compare(const Tensor& ref, const Tensor& got, double atol, double rtol, bool float16) {
  std::vector<double> r = ref.to_doubles(), g = got.to_doubles();
  Stats s;
  double dot = 0, rr = 0, gg = 0;
  for (size_t i = 0; i < r.size(); ++i) {
    double a = r[i], b = g[i];
    if (std::isnan(a) || std::isnan(b)) {
      if (std::isnan(a) != std::isnan(b)) ++s.nan_mismatch, ++s.failures;
      continue;
    }
    if (a != 0) ++s.reference_nonzero;
    if (a != 0 && b == 0) ++s.zero_where_reference_not;
    if (std::isinf(b) && !std::isinf(a)) ++s.inf_where_reference_finite;
    if (float16 && std::isfinite(b) && std::fabs(b) >= kFloat16Max && std::fabs(a) > kFloat16Max)
      ++s.saturated;
    double err = a == b ? 0 : std::fabs(a - b);  // equal infinities agree
    if (std::isnan(err)) err = std::numeric_limits<double>::infinity();
    s.max_abs = std::max(s.max_abs, err);
    if (a != 0) s.max_rel = std::max(s.max_rel, err / std::fabs(a));
    if (!(err <= atol + rtol * std::fabs(a))) ++s.failures;
    if (std::isfinite(a) && std::isfinite(b)) dot += a * b, rr += a * a, gg += b * b;
  }
  s.cosine = rr == 0 && gg == 0 ? 1.0 : (rr == 0 || gg == 0 ? 0.0 : dot / std::sqrt(rr * gg));
  return s;
}

int compare_devices(const CompareArgs& a) {
  std::set<std::string> seen;
  for (const std::string& d : a.devices)
    if (!seen.insert(d).second) usage_error("--devices: '" + d + "' is given twice");
  if (a.devices.size() < 2 && a.precision == "float32")
    usage_error("--devices " + a.devices[0] +
                " --precision float32 compares the reference with itself: give a second device "
                "or --precision float16");
  for (const auto& spec : a.inputs) split_assignment(spec, "--input");
  // bfloat16 keeps 8 significant bits (float16 11): two roundings make about 1e-2.
  const double low = a.precision == "float16" ? 1e-2 : a.precision == "bfloat16" ? 2e-2 : 0;
  const double atol = a.atol.value_or(low > 0 ? low : 1e-4);
  const double rtol = a.rtol.value_or(low > 0 ? low : 1e-3);

  // Every device first: one that is not there fails before any work (exit 1).
  std::vector<Context> contexts;
  for (const std::string& d : a.devices)
    contexts.push_back(create_context(d, context_options(d, a.threads), "--devices"));

  LoadedModel reference_model = load_model(a.model);  // float32
  if (reference_model.from_engine_file &&
      graph_precision(reference_model.graph) != Precision::float32)
    usage_error("compare: '" + a.model.model + "' is a " +
                std::string(to_string(graph_precision(reference_model.graph))) +
                " engine; the reference is a float32 run: give the ONNX model or a float32 engine");
  const Graph& ref_graph = reference_model.graph;
  Graph graph = ref_graph;
  if (a.precision != "float32") {
    warn_about_float16_weights(ref_graph);
    EngineBuildOptions options;
    options.precision = precision_of(a.precision);
    graph = Engine::build(ref_graph, options).graph();
  }
  NamedTensors inputs = make_inputs(
      ref_graph, a.inputs, [&](const OperandDescriptor& d) { return seeded_input(d, a.seed); });

  NamedTensors reference = contexts[0].compute(ref_graph, inputs);
  std::printf("model      %s\n", a.model.model.c_str());
  std::printf("reference  %s, float32 (%s)\n", contexts[0].backend().c_str(),
              contexts[0].backend_reason().c_str());
  std::printf("tolerance  |a - b| <= %g + %g * |reference| per element\n", atol, rtol);
  bool ok = true;
  for (size_t i = 0; i < a.devices.size(); ++i) {
    if (i == 0 && a.precision == "float32") continue;  // the reference itself
    NamedTensors got = contexts[i].compute(graph, inputs);
    std::printf("%s, %s\n", contexts[i].backend().c_str(), a.precision.c_str());
    for (const auto& [name, ref] : reference) {
      const Tensor& out = got.at(name);
      Stats s = compare(ref, out, atol, rtol, a.precision == "float16");
      bool pass = s.failures == 0;
      ok = ok && pass;
      std::printf("  %-28s max abs %.3g  max rel %.3g  cosine %.6f  %s\n", name.c_str(), s.max_abs,
                  s.max_rel, s.cosine,
                  pass ? "ok"
                       : ("FAIL (" + std::to_string(s.failures) + " of " +
                          std::to_string(ref.element_count()) + " past tolerance)")
                             .c_str());
      const std::string where = a.devices[i] + " " + a.precision + " output '" + name + "'";
      if (s.reference_nonzero > 0 && s.zero_where_reference_not * 2 > s.reference_nonzero)
        std::fprintf(stderr,
                     "cppnn: warning: %s underflows: %zu of the %zu elements that are non-zero in "
                     "the reference are 0%s\n",
                     where.c_str(), s.zero_where_reference_not, s.reference_nonzero,
                     s.zero_where_reference_not == s.reference_nonzero ? " (all of them)" : "");
      if (s.inf_where_reference_finite > 0)
        std::fprintf(stderr,
                     "cppnn: warning: %s overflows: %zu elements are infinite where the reference "
                     "is finite\n",
                     where.c_str(), s.inf_where_reference_finite);
      if (s.saturated > 0)
        std::fprintf(stderr,
                     "cppnn: warning: %s overflows: %zu elements are at float16's largest value "
                     "(65504) where the reference is beyond it\n",
                     where.c_str(), s.saturated);
      if (s.nan_mismatch > 0)
        std::fprintf(stderr,
                     "cppnn: warning: %s: %zu elements are NaN in one run and not the other\n",
                     where.c_str(), s.nan_mismatch);
    }
  }
  std::printf("result     %s\n", ok ? "within tolerance" : "PAST TOLERANCE");
  return ok ? kExitOk : kExitError;
}

}  // namespace

Command add_compare(CLI::App& app) {
  auto a = std::make_shared<CompareArgs>();
  CLI::App* cmd = app.add_subcommand(
      "compare",
      "run the same inputs on each device and compare every output with the first device's "
      "float32 run; exit 1 past tolerance");
  add_model_options(cmd, a->model, "ONNX model or engine file");
  cmd->add_option(
         "--devices", a->devices,
         "devices, the first the reference (run in float32): cpu, cuda (an error without one)")
      ->delimiter(',')
      ->check(CLI::IsMember({"cpu", "cuda"}))
      ->capture_default_str();
  cmd->add_option("--precision", a->precision,
                  "what the devices compute in; the reference is float32 whatever this is")
      ->check(CLI::IsMember({"float32", "float16", "bfloat16"}))
      ->capture_default_str();
  cmd->add_option("--atol", a->atol, "absolute tolerance (default 1e-4; 1e-2 for float16, 2e-2 for bfloat16)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--rtol", a->rtol, "relative tolerance (default 1e-3; 1e-2 for float16, 2e-2 for bfloat16)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--seed", a->seed,
                  "seed of the random inputs (floats in [-1, 1), integers in [0, 100))")
      ->capture_default_str();
  cmd->add_option("--input", a->inputs,
                  "input from a .npy file, NAME=FILE (default: seeded random)");
  cmd->add_option("--threads", a->threads, "CPU threads (0: all cores)")
      ->check(CLI::Range(0, INT_MAX));
  return {cmd, [a] { return compare_devices(*a); }};
}

}  // namespace cppnn::cli
