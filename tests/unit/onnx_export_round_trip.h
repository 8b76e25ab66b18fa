#pragma once
// Round trips for the ONNX export tests: a graph is exported, imported back with cppnn's
// importer and computed on the CPU next to the original on the same random inputs.
#include <cstring>
#include <functional>
#include <map>
#include <string>

#include "unit/test_support.h"

namespace cppnn::testing {

using Outputs = std::map<std::string, Operand>;
using Range = std::pair<double, double>;

inline constexpr DataType F32 = DataType::float32, F16 = DataType::float16, I32 = DataType::int32,
                          U32 = DataType::uint32, I64 = DataType::int64, I8 = DataType::int8,
                          U8 = DataType::uint8;

struct Case {
  Case(std::string n, std::function<Outputs(GraphBuilder&)> b, bool e = false,
       std::map<std::string, Range> r = {})
      : name(std::move(n)), build(std::move(b)), exact(e), ranges(std::move(r)) {}
  std::string name;
  std::function<Outputs(GraphBuilder&)> build;
  bool exact;                           // data movement or integer math: bit for bit
  std::map<std::string, Range> ranges;  // per input; else by data type
};

inline void PrintTo(const Case& c, std::ostream* os) { *os << c.name; }

inline Graph build_graph(const Case& c) {
  GraphBuilder b;
  Outputs outs = c.build(b);
  return b.build(outs);
}

inline Range default_range(DataType type) {
  if (is_float(type)) return {-2, 2};
  if (type == U8) return {0, 3};  // logical values: 0, 1 and other nonzero ones
  return is_signed(type) ? Range{-8, 8} : Range{0, 16};
}

inline NamedTensors inputs_for(const Graph& g, const Case& c) {
  NamedTensors in;
  uint32_t seed = uint32_t(std::hash<std::string>()(c.name));
  for (const auto& [name, desc] : g.inputs()) {
    auto it = c.ranges.find(name);
    Range r = it != c.ranges.end() ? it->second : default_range(desc.data_type);
    in[name] = random_tensor(desc.data_type, desc.shape, r.first, r.second, ++seed);
  }
  return in;
}

inline void expect_same(const Tensor& got, const Tensor& want, bool exact,
                        const std::string& what) {
  ASSERT_EQ(got.data_type(), want.data_type()) << what;
  ASSERT_EQ(got.shape(), want.shape()) << what;
  if (exact || !is_float(want.data_type())) {
    if (std::memcmp(got.data(), want.data(), want.byte_size()) == 0) return;
    std::vector<double> g = got.to_doubles(), w = want.to_doubles();
    for (size_t i = 0; i < w.size(); ++i)
      if (std::memcmp(&g[i], &w[i], sizeof(double)) != 0) {
        ADD_FAILURE() << what << " element " << i << ": got " << g[i] << ", want " << w[i];
        return;
      }
    return;
  }
  Tolerance tol = want.data_type() == F16 ? Tolerance{1e-3, 2e-3} : Tolerance{1e-6, 1e-5};
  expect_close(got, want.to_doubles(), tol, what);
}

// Export, import back, and compute both graphs on the same inputs.
inline void expect_round_trip(const Graph& original, const Graph& exported, const Case& c) {
  std::string bytes = export_onnx_bytes(exported);
  Graph back = load_onnx_from_bytes(bytes);
  EXPECT_EQ(back.inputs(), original.inputs());
  EXPECT_EQ(back.outputs(), original.outputs());
  NamedTensors in = inputs_for(original, c);
  NamedTensors want = run_cpu(original, in), got = run_cpu(back, in);
  for (const auto& [name, tensor] : want) expect_same(got.at(name), tensor, c.exact, name);
}

inline Operand input(GraphBuilder& b, const std::string& name, DataType t, const Dims& shape) {
  return b.input(name, t, shape);
}
inline Operand weights(GraphBuilder& b, DataType t, const Dims& shape, uint32_t seed,
                       double lo = -1, double hi = 1) {
  return b.constant(random_tensor(t, shape, lo, hi, seed));
}

}  // namespace cppnn::testing
