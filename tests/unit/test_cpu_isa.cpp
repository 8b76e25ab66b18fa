// The CPU kernels' instruction-set levels (src/backends/cpu/isa.h): the level chosen is
// never above what the CPU runs, CPPNN_CPU_ISA lowers it (a value it cannot follow is
// reported, and fails EnvironmentIsFollowed so CI notices), and every level computes what
// the default level does: bit for bit where the math is the same (element-wise arithmetic,
// float16 conversions, selects), within a few float ulps where a level's FMA or lane order
// rounds differently (normalization, softmax, pooling, reductions, recurrent dot products).
#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "backends/cpu/isa.h"
#include "scoped_cpu_isa.h"
#include "test_support.h"

namespace cppnn {
namespace {

using detail::CpuIsa;
using testing::random_tensor;
using testing::run_cpu;

constexpr DataType kF32 = DataType::float32;
constexpr DataType kF16 = DataType::float16;

using testing::ScopedIsa;

std::vector<CpuIsa> supported_levels() {
  std::vector<CpuIsa> levels;
  for (int l = 0; l <= int(detail::cpu_isa_supported()); ++l) levels.push_back(CpuIsa(l));
  return levels;
}

TEST(CpuIsa, NamesRoundTrip) {
  for (int l = 0; l < detail::kCpuIsaCount; ++l) {
    std::optional<CpuIsa> back = detail::parse_cpu_isa(detail::cpu_isa_name(CpuIsa(l)));
    ASSERT_TRUE(back.has_value());
    EXPECT_EQ(*back, CpuIsa(l));
  }
  EXPECT_EQ(detail::parse_cpu_isa("avx512"), CpuIsa::avx512);
  EXPECT_FALSE(detail::parse_cpu_isa("AVX2").has_value());
  EXPECT_FALSE(detail::parse_cpu_isa("sse4").has_value());
  EXPECT_FALSE(detail::parse_cpu_isa("").has_value());
}

TEST(CpuIsa, ChooseLowersButNeverRaises) {
  std::string warning;
  EXPECT_EQ(detail::choose_cpu_isa(nullptr, CpuIsa::avx512, &warning), CpuIsa::avx512);
  EXPECT_TRUE(warning.empty());
  EXPECT_EQ(detail::choose_cpu_isa("", CpuIsa::avx2, &warning), CpuIsa::avx2);
  EXPECT_TRUE(warning.empty());
  EXPECT_EQ(detail::choose_cpu_isa("baseline", CpuIsa::avx512, &warning), CpuIsa::baseline);
  EXPECT_TRUE(warning.empty());
  EXPECT_EQ(detail::choose_cpu_isa("avx2", CpuIsa::avx512, &warning), CpuIsa::avx2);
  EXPECT_TRUE(warning.empty());
  EXPECT_EQ(detail::choose_cpu_isa("avx2", CpuIsa::avx2, &warning), CpuIsa::avx2);
  // Above the CPU: the CPU's level, never an instruction it lacks.
  EXPECT_EQ(detail::choose_cpu_isa("avx512", CpuIsa::avx2, &warning), CpuIsa::avx2);
  EXPECT_NE(warning.find("CPPNN_CPU_ISA=avx512 is above what this CPU"), std::string::npos)
      << warning;
  EXPECT_EQ(detail::choose_cpu_isa("avx2", CpuIsa::baseline, &warning), CpuIsa::baseline);
  EXPECT_NE(warning.find("using baseline"), std::string::npos) << warning;
  // Not a level: the supported one, with a message that names the levels.
  EXPECT_EQ(detail::choose_cpu_isa("fastest", CpuIsa::avx512, &warning), CpuIsa::avx512);
  EXPECT_NE(warning.find("CPPNN_CPU_ISA=fastest is not a level (baseline, avx2 or avx512); "
                         "using avx512"),
            std::string::npos)
      << warning;
  EXPECT_EQ(detail::choose_cpu_isa("fastest", CpuIsa::baseline), CpuIsa::baseline);
}

TEST(CpuIsa, NeverAboveWhatTheCpuRuns) {
  CpuIsa supported = detail::cpu_isa_supported();
  EXPECT_LE(int(detail::cpu_isa()), int(supported));
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
  // The compiler's own CPU check, independent of isa.cpp's cpuid reading.
  __builtin_cpu_init();
  bool avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") &&
              __builtin_cpu_supports("bmi2");
  bool avx512 = avx2 && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq");
  // This build has every level: the CPU's features decide which it runs.
  CpuIsa expected = avx512 ? CpuIsa::avx512 : avx2 ? CpuIsa::avx2 : CpuIsa::baseline;
  EXPECT_EQ(supported, expected);
#else
  EXPECT_EQ(supported, CpuIsa::baseline);  // no other level is compiled here
#endif
  {
    ScopedIsa top(CpuIsa::avx512);  // asks for the top: gets at most the CPU's
    EXPECT_EQ(detail::cpu_isa(), supported);
    ScopedIsa low(CpuIsa::baseline);
    EXPECT_EQ(detail::cpu_isa(), CpuIsa::baseline);
  }
}

// With CPPNN_CPU_ISA set (as CI sets it to test the lower levels), the level in effect is the
// one it names: a value that is no level, or one above this CPU, fails here rather than
// letting a run meant for the fallback test the default level.
TEST(CpuIsa, EnvironmentIsFollowed) {
  const char* value = std::getenv("CPPNN_CPU_ISA");
  std::string warning;
  CpuIsa chosen = detail::choose_cpu_isa(value, detail::cpu_isa_supported(), &warning);
  EXPECT_TRUE(warning.empty()) << warning;
  EXPECT_EQ(detail::cpu_isa(), chosen);
  if (value && *value) {
    std::printf("CPPNN_CPU_ISA=%s: the kernels run at level %s\n", value,
                detail::cpu_isa_name(detail::cpu_isa()));
  }
}

// ---- every level computes what the default level computes

// Outputs of `graph` at `isa`.
NamedTensors run_at(CpuIsa isa, const Graph& graph, const NamedTensors& inputs) {
  ScopedIsa scoped(isa);
  return run_cpu(graph, inputs);
}

// Same values; NaNs alike. `ulps` > 0 allows that many ulps of the type at the value's
// magnitude or at 1, whichever is larger (the values here are sums and normalized values of
// magnitude about 1, whose cancellation leaves small results with absolute errors of that
// scale).
void expect_same(const Tensor& got, const Tensor& want, double ulps, const std::string& what) {
  ASSERT_EQ(got.data_type(), want.data_type()) << what;
  ASSERT_EQ(got.shape(), want.shape()) << what;
  std::vector<double> g = got.to_doubles(), w = want.to_doubles();
  double eps = got.data_type() == kF16 ? 9.77e-4 : 1.19e-7;
  size_t bad = 0;
  for (size_t i = 0; i < w.size(); ++i) {
    if (std::isnan(g[i]) && std::isnan(w[i])) continue;
    bool ok = ulps == 0 ? g[i] == w[i]
                        : std::abs(g[i] - w[i]) <= ulps * eps * std::max(std::abs(w[i]), 1.0);
    if (!ok && ++bad <= 5)
      ADD_FAILURE() << what << ": element " << i << " is " << g[i] << ", default level gives "
                    << w[i];
  }
  EXPECT_EQ(bad, 0u) << what;
}

struct LevelCase {
  std::string name;
  double ulps;  // 0: bit for bit
  std::function<Operand(GraphBuilder&, Operand x, Operand y)> make;
};

void check_levels(DataType type, const Dims& x_shape, const Dims& y_shape,
                  const std::vector<LevelCase>& cases, double lo = -3, double hi = 3) {
  Tensor x = random_tensor(type, x_shape, lo, hi, 7);
  Tensor y = random_tensor(type, y_shape, lo, hi, 8);
  GraphBuilder b;
  Operand xi = b.input("x", type, x_shape), yi = b.input("y", type, y_shape);
  std::map<std::string, Operand> outputs;
  for (const LevelCase& c : cases) outputs[c.name] = c.make(b, xi, yi);
  Graph g = b.build(outputs);
  NamedTensors inputs{{"x", x}, {"y", y}};
  NamedTensors want = run_at(detail::cpu_isa_supported(), g, inputs);
  for (CpuIsa isa : supported_levels()) {
    NamedTensors got = run_at(isa, g, inputs);
    for (const LevelCase& c : cases)
      expect_same(got.at(c.name), want.at(c.name), c.ulps,
                  std::string(detail::cpu_isa_name(isa)) + " " + std::string(to_string(type)) +
                      " " + c.name);
  }
}

std::vector<LevelCase> elementwise_cases(DataType type) {
  DataType other = type == kF32 ? kF16 : kF32;
  return {
      {"add", 0, [](GraphBuilder& b, Operand x, Operand y) { return b.add(x, y); }},
      {"mul", 0, [](GraphBuilder& b, Operand x, Operand y) { return b.mul(x, x); }},
      {"div", 0, [](GraphBuilder& b, Operand x, Operand y) { return b.div(y, x); }},
      {"max", 0, [](GraphBuilder& b, Operand x, Operand y) { return b.max(x, y); }},
      {"relu", 0, [](GraphBuilder& b, Operand x, Operand) { return b.relu(x); }},
      {"sqrt", 0, [](GraphBuilder& b, Operand x, Operand) { return b.sqrt(b.abs(x)); }},
      {"cast", 0, [other](GraphBuilder& b, Operand x, Operand) { return b.cast(x, other); }},
      {"where", 0,
       [](GraphBuilder& b, Operand x, Operand y) { return b.where(b.greater(x, y), x, y); }},
      {"gelu", 4, [](GraphBuilder& b, Operand x, Operand) { return b.gelu(x); }},
      {"sigmoid", 4, [](GraphBuilder& b, Operand x, Operand) { return b.sigmoid(x); }},
  };
}

TEST(CpuIsa, ElementwiseLevelsAgree) {
  // 65-wide rows: vector bodies and scalar tails; y broadcasts along the rows.
  for (DataType t : {kF32, kF16}) check_levels(t, {4, 33, 65}, {65}, elementwise_cases(t));
}

TEST(CpuIsa, NormalizationAndReductionLevelsAgree) {
  for (DataType t : {kF32, kF16}) {
    double ulps = t == kF32 ? 8 : 2;
    std::vector<LevelCase> cases = {
        {"layer_norm", ulps,
         [](GraphBuilder& b, Operand x, Operand) {
           LayerNormalizationOptions o;
           o.axes = std::vector<uint32_t>{3};
           return b.layer_normalization(x, o);
         }},
        {"instance_norm", ulps,
         [](GraphBuilder& b, Operand x, Operand) { return b.instance_normalization(x); }},
        {"softmax", ulps, [](GraphBuilder& b, Operand x, Operand) { return b.softmax(x, 3); }},
        {"reduce_sum", ulps,
         [](GraphBuilder& b, Operand x, Operand) {
           ReduceOptions o;
           o.axes = std::vector<uint32_t>{1, 3};
           return b.reduce_sum(x, o);
         }},
        {"reduce_log_sum_exp", ulps,
         [](GraphBuilder& b, Operand x, Operand) {
           ReduceOptions o;
           o.axes = std::vector<uint32_t>{3};
           return b.reduce_log_sum_exp(x, o);
         }},
        {"l2_pool", ulps,
         [](GraphBuilder& b, Operand x, Operand) {
           Pool2dOptions o;
           o.window_dimensions = {3, 3};
           return b.l2_pool2d(x, o);
         }},
        {"average_pool", ulps,
         [](GraphBuilder& b, Operand x, Operand) {
           Pool2dOptions o;
           o.window_dimensions = {2, 5};
           o.layout = InputLayout::nhwc;
           return b.average_pool2d(x, o);
         }},
        {"transpose_add", 0,
         [](GraphBuilder& b, Operand x, Operand y) { return b.add(b.transpose(x), y); }},
    };
    // Rows of 100 (three 32-lane blocks and a tail), a mean far from 0 for the normalizations.
    check_levels(t, {2, 3, 9, 100}, {100, 9, 3, 2}, cases, 1, 5);
  }
}

TEST(CpuIsa, RecurrentLevelsAgree) {
  // lstmCell: dot products of 40 (16-lane blocks, an 8-lane block and a tail).
  const uint32_t hidden = 12, input = 40, batch = 3;
  Tensor w = random_tensor(kF32, {4 * hidden, input}, -0.5, 0.5, 11);
  Tensor r = random_tensor(kF32, {4 * hidden, hidden}, -0.5, 0.5, 12);
  Tensor x = random_tensor(kF32, {batch, input}, -1, 1, 13);
  Tensor h = random_tensor(kF32, {batch, hidden}, -1, 1, 14);
  Tensor c = random_tensor(kF32, {batch, hidden}, -1, 1, 15);
  GraphBuilder b;
  std::vector<Operand> out =
      b.lstm_cell(b.input("x", kF32, x.shape()), b.constant(w), b.constant(r),
                  b.input("h", kF32, h.shape()), b.input("c", kF32, c.shape()), hidden);
  Graph g = b.build({{"h", out[0]}, {"c", out[1]}});
  NamedTensors inputs{{"x", x}, {"h", h}, {"c", c}};
  NamedTensors want = run_at(detail::cpu_isa_supported(), g, inputs);
  for (CpuIsa isa : supported_levels()) {
    NamedTensors got = run_at(isa, g, inputs);
    for (const char* name : {"h", "c"})
      expect_same(got.at(name), want.at(name), 16,
                  std::string(detail::cpu_isa_name(isa)) + " lstmCell " + name);
  }
}

}  // namespace
}  // namespace cppnn
