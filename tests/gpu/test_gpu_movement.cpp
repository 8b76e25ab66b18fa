// The data-movement ops on the CUDA backend's hand-written kernels (kernels/movement.cu)
// against the CPU backend, byte for byte: reshape, transpose, slice, expand, tile, reverse,
// concat, split, gather (clamped and negative indices), pad (every mode), triangular,
// cumulativeSum, argMin/argMax, resample2d. Every case also asserts from the plan's report
// that the op ran on the GPU ("[gpu] <op>"), and one case the decision turns down must
// fall back and still match.
#include <cstring>
#include <limits>

#include "gpu/gpu_test_support.h"

namespace cppnn {
namespace {

using gpu_testing::cpu_context;
using gpu_testing::cuda_context;
using gpu_testing::expect_rel_close;
using testing::random_tensor;

const DataType kAll[] = {DataType::float32, DataType::float16, DataType::int32, DataType::uint32,
                         DataType::int64,   DataType::uint64,  DataType::int8,  DataType::uint8};

uint32_t seed_counter = 700;

bool is_unsigned(DataType t) {
  return t == DataType::uint32 || t == DataType::uint64 || t == DataType::uint8;
}

// Random values of every data type: floats in [-10, 10), signed integers in [-100, 100),
// unsigned ones in [0, 200).
Tensor fresh(DataType t, const Dims& shape) {
  return is_unsigned(t) ? random_tensor(t, shape, 0, 200, ++seed_counter)
                        : random_tensor(t, shape, -100, 100, ++seed_counter);
}

std::string type_name(DataType t) { return std::string(to_string(t)); }

// Byte-for-byte equality; the first differing elements are named.
void expect_same(const Tensor& got, const Tensor& want, const std::string& what) {
  ASSERT_EQ(got.data_type(), want.data_type()) << what;
  ASSERT_EQ(got.shape(), want.shape()) << what;
  ASSERT_EQ(got.byte_size(), want.byte_size()) << what;
  if (std::memcmp(got.data(), want.data(), got.byte_size()) == 0) return;
  size_t esize = element_size(got.data_type()), bad = 0;
  std::vector<double> g = got.to_doubles(), w = want.to_doubles();
  const uint8_t* gb = static_cast<const uint8_t*>(got.data());
  const uint8_t* wb = static_cast<const uint8_t*>(want.data());
  for (size_t i = 0; i < got.element_count(); ++i)
    if (std::memcmp(gb + i * esize, wb + i * esize, esize) != 0 && bad++ < 5)
      ADD_FAILURE() << what << " element " << i << ": got " << g[i] << ", want " << w[i];
  ADD_FAILURE() << what << ": " << bad << " of " << got.element_count() << " elements differ";
}

// Runs `g` on both contexts; every output must match byte for byte (rtol == 0) or within
// the relative tolerance.
void expect_matches_cpu(const Graph& g, const NamedTensors& in, const std::string& what,
                        double rtol = 0) {
  NamedTensors want = cpu_context().compute(g, in);
  NamedTensors got = cuda_context().compute(g, in);
  ASSERT_EQ(got.size(), want.size()) << what;
  for (const auto& [name, tensor] : want) {
    if (rtol == 0)
      expect_same(got.at(name), tensor, what + " " + name);
    else
      expect_rel_close(got.at(name), tensor, rtol, what + " " + name);
  }
}

// The plan's report has the op's step on the GPU (and none of its kind on the CPU).
void expect_on_gpu(const Graph& g, const std::string& op, const std::string& what) {
  std::string report = cuda_context().report(g);
  EXPECT_NE(report.find("[gpu] " + op), std::string::npos) << what << "\n" << report;
  EXPECT_EQ(report.find("[cpu] " + op), std::string::npos) << what << "\n" << report;
}

// One op on one graph input "x": matches the CPU and ran on the GPU.
template <typename Build>
void check_op(const std::string& op, DataType t, const Dims& shape, Build build,
              const std::string& what, double rtol = 0) {
  std::string full = op + " " + type_name(t) + " " + to_string(shape) + " " + what;
  SCOPED_TRACE(full);
  GraphBuilder b;
  Operand x = b.input("x", t, shape);
  Graph g = b.build({{"y", build(b, x)}});
  expect_matches_cpu(g, {{"x", fresh(t, shape)}}, full, rtol);
  expect_on_gpu(g, op, full);
}

// "x0", "x1", ... (appended: g++ 12's -Wrestrict misfires on "x" + std::to_string(i)).
std::string numbered(const char* prefix, size_t i) {
  std::string name(prefix);
  name += std::to_string(i);
  return name;
}

std::vector<uint32_t> u32(std::initializer_list<uint32_t> v) { return v; }

TEST(GpuMovement, Reshape) {
  REQUIRE_CUDA();
  struct Case {
    Dims in;
    std::vector<uint32_t> out;
  };
  const Case cases[] = {{{24}, {2, 3, 4}}, {{2, 3, 4}, {4, 6}}, {{2, 3, 4, 5}, {120}},
                        {{2, 3, 2, 2, 5}, {6, 20}}, {{1}, {1, 1}}, {{7, 9}, {9, 7}}};
  for (DataType t : kAll)
    for (const Case& c : cases)
      check_op("reshape", t, c.in, [&](GraphBuilder& b, Operand x) { return b.reshape(x, c.out); },
               "to " + to_string(Dims(c.out.begin(), c.out.end())));
}

TEST(GpuMovement, Transpose) {
  REQUIRE_CUDA();
  struct Case {
    Dims in;
    std::optional<std::vector<uint32_t>> perm;
  };
  // No size-1 axis: the layout pass turns transposes that only move those into reshapes.
  const Case cases[] = {
      {{3, 5}, u32({1, 0})},
      {{4, 6, 5}, std::nullopt},  // default: reversed axes
      {{2, 3, 4}, u32({2, 0, 1})},
      {{2, 3, 4}, u32({1, 0, 2})},
      {{2, 8, 6, 5}, u32({0, 2, 3, 1})},  // NCHW -> NHWC
      {{2, 6, 5, 8}, u32({0, 3, 1, 2})},  // NHWC -> NCHW
      {{2, 3, 2, 4, 3}, u32({4, 2, 0, 3, 1})},
      {{2, 32, 28, 28}, u32({0, 2, 3, 1})},
  };
  for (DataType t : kAll)
    for (const Case& c : cases) {
      TransposeOptions o;
      o.permutation = c.perm;
      check_op("transpose", t, c.in, [&](GraphBuilder& b, Operand x) { return b.transpose(x, o); },
               c.perm ? "perm " + to_string(Dims(c.perm->begin(), c.perm->end())) : "default perm");
    }
}

TEST(GpuMovement, Slice) {
  REQUIRE_CUDA();
  struct Case {
    Dims in;
    std::vector<uint32_t> starts, sizes, strides;
  };
  const Case cases[] = {
      {{17}, {3}, {11}, {4}},
      {{17}, {2}, {9}, {}},                      // one contiguous run: a plain copy
      {{10, 12}, {1, 2}, {7, 9}, {2, 3}},
      {{4, 5, 6}, {1, 0, 0}, {2, 5, 6}, {}},     // whole rows: one run
      {{4, 5, 6}, {0, 1, 2}, {4, 3, 4}, {1, 1, 1}},
      {{3, 4, 5, 6}, {1, 1, 0, 3}, {2, 3, 5, 3}, {1, 2, 2, 1}},
      {{2, 3, 4, 5, 6}, {0, 1, 1, 0, 1}, {2, 2, 3, 5, 5}, {1, 1, 2, 3, 2}},
      {{8, 16}, {0, 8}, {8, 8}, {}},            // BERT-style halves of the last axis
  };
  for (DataType t : kAll)
    for (const Case& c : cases) {
      SliceOptions o;
      o.strides = c.strides;
      check_op("slice", t, c.in,
               [&](GraphBuilder& b, Operand x) { return b.slice(x, c.starts, c.sizes, o); },
               "starts " + to_string(Dims(c.starts.begin(), c.starts.end())) + " sizes " +
                   to_string(Dims(c.sizes.begin(), c.sizes.end())) + " strides " +
                   to_string(Dims(c.strides.begin(), c.strides.end())));
    }
}

TEST(GpuMovement, ExpandWithZeroStrides) {
  REQUIRE_CUDA();
  struct Case {
    Dims in;
    std::vector<uint32_t> out;
  };
  const Case cases[] = {{{3, 1}, {3, 4}},       {{1}, {2, 3, 4}},       {{4}, {2, 3, 4}},
                        {{2, 1, 3}, {5, 2, 4, 3}}, {{}, {2, 3}},          {{1, 1}, {3, 5}},
                        {{2, 1, 1, 4, 1}, {2, 3, 2, 4, 5}}, {{1, 8}, {6, 8}}};
  for (DataType t : kAll)
    for (const Case& c : cases)
      check_op("expand", t, c.in, [&](GraphBuilder& b, Operand x) { return b.expand(x, c.out); },
               "to " + to_string(Dims(c.out.begin(), c.out.end())));
}

TEST(GpuMovement, Tile) {
  REQUIRE_CUDA();
  struct Case {
    Dims in;
    std::vector<uint32_t> reps;
  };
  const Case cases[] = {{{3}, {4}},          {{2, 3}, {2, 3}},          {{2, 1, 3}, {1, 4, 2}},
                        {{2, 3, 2, 2}, {2, 1, 1, 3}}, {{2, 3}, {1, 1}}, {{3, 2, 2}, {2, 2, 2}}};
  for (DataType t : kAll)
    for (const Case& c : cases)
      check_op("tile", t, c.in, [&](GraphBuilder& b, Operand x) { return b.tile(x, c.reps); },
               "reps " + to_string(Dims(c.reps.begin(), c.reps.end())));
}

// A tile of rank 5 repeated along every axis is a 10-dimensional view: the decision says no,
// the CPU runs it and the plan still matches.
TEST(GpuMovement, TileOverEightDimsFallsBackAndMatches) {
  REQUIRE_CUDA();
  GraphBuilder b;
  Dims shape{2, 3, 2, 3, 2};
  Operand x = b.input("x", DataType::float32, shape);
  Graph g = b.build({{"y", b.tile(x, {2, 2, 2, 2, 2})}});
  expect_matches_cpu(g, {{"x", fresh(DataType::float32, shape)}}, "rank-10 tile");
  std::string report = cuda_context().report(g);
  EXPECT_NE(report.find("[cpu] tile"), std::string::npos) << report;
  EXPECT_NE(report.find("after merging dims"), std::string::npos) << report;
}

TEST(GpuMovement, ReverseWithNegativeStrides) {
  REQUIRE_CUDA();
  struct Case {
    Dims in;
    std::optional<std::vector<uint32_t>> axes;
  };
  const Case cases[] = {{{9}, std::nullopt},          {{4, 5}, u32({1})},
                        {{4, 5}, std::nullopt},       {{3, 4, 5}, u32({0, 2})},
                        {{2, 3, 4, 5}, u32({1})},     {{2, 3, 2, 4, 3}, u32({1, 3, 4})},
                        {{3, 4}, u32({})}};
  for (DataType t : kAll)
    for (const Case& c : cases) {
      ReverseOptions o;
      o.axes = c.axes;
      check_op("reverse", t, c.in, [&](GraphBuilder& b, Operand x) { return b.reverse(x, o); },
               c.axes ? "axes " + to_string(Dims(c.axes->begin(), c.axes->end())) : "all axes");
    }
}

TEST(GpuMovement, Concat) {
  REQUIRE_CUDA();
  struct Case {
    std::vector<Dims> parts;
    uint32_t axis;
  };
  const Case cases[] = {
      {{{5}, {3}, {7}}, 0},
      {{{2, 3}, {4, 3}}, 0},
      {{{2, 3}, {2, 5}, {2, 1}}, 1},
      {{{2, 3, 4}, {2, 1, 4}, {2, 2, 4}}, 1},
      {{{2, 3, 4}, {2, 3, 2}}, 2},
      {{{2, 16, 5, 5}, {2, 8, 5, 5}, {2, 24, 5, 5}, {2, 16, 5, 5}}, 1},  // channels
      {{{2, 3, 2, 2, 3}, {2, 3, 2, 2, 1}}, 4},
      {{{3, 4}}, 0},  // one input: a copy
  };
  for (DataType t : kAll)
    for (const Case& c : cases) {
      std::string what = "concat " + type_name(t) + " axis " + std::to_string(c.axis) + " of";
      for (const Dims& d : c.parts) {
        what += ' ';
        what += to_string(d);
      }
      SCOPED_TRACE(what);
      GraphBuilder b;
      std::vector<Operand> xs;
      NamedTensors in;
      for (size_t i = 0; i < c.parts.size(); ++i) {
        std::string name = numbered("x", i);
        xs.push_back(b.input(name, t, c.parts[i]));
        in[name] = fresh(t, c.parts[i]);
      }
      Graph g = b.build({{"y", b.concat(xs, c.axis)}});
      expect_matches_cpu(g, in, what);
      expect_on_gpu(g, "concat", what);
    }
}

TEST(GpuMovement, SplitIntoSeveralOutputs) {
  REQUIRE_CUDA();
  struct Case {
    Dims in;
    uint32_t axis;
    uint32_t count;                // 0: use sizes
    std::vector<uint32_t> sizes;
  };
  const Case cases[] = {
      {{12}, 0, 3, {}},
      {{9}, 0, 0, {2, 6, 1}},
      {{4, 6}, 1, 2, {}},
      {{4, 6}, 0, 0, {1, 3}},
      {{2, 9, 4}, 1, 0, {2, 5, 2}},
      {{2, 3, 4, 6}, 3, 3, {}},
      {{2, 6, 2, 3, 2}, 1, 0, {3, 1, 2}},
      {{2, 768 * 3}, 1, 3, {}},  // BERT's fused QKV split
  };
  for (DataType t : kAll)
    for (const Case& c : cases) {
      std::string what = "split " + type_name(t) + " " + to_string(c.in) + " axis " +
                         std::to_string(c.axis) +
                         (c.count ? " count " + std::to_string(c.count)
                                  : " sizes " + to_string(Dims(c.sizes.begin(), c.sizes.end())));
      SCOPED_TRACE(what);
      GraphBuilder b;
      Operand x = b.input("x", t, c.in);
      SplitOptions o;
      o.axis = c.axis;
      std::vector<Operand> parts = c.count ? b.split(x, c.count, o) : b.split(x, c.sizes, o);
      std::map<std::string, Operand> outs;
      for (size_t i = 0; i < parts.size(); ++i) outs[numbered("y", i)] = parts[i];
      Graph g = b.build(outs);
      expect_matches_cpu(g, {{"x", fresh(t, c.in)}}, what);
      expect_on_gpu(g, "split", what);
    }
}

Tensor indices_tensor(DataType t, const Dims& shape, const std::vector<double>& v) {
  return testing::tensor_from_doubles(t, shape, v);
}

// Out-of-range indices are clamped, negative ones count from the end (and are clamped when
// still out of range), exactly as on the CPU.
TEST(GpuMovement, GatherClampsIndices) {
  REQUIRE_CUDA();
  struct Case {
    Dims table;
    uint32_t axis;
    DataType index_type;
    Dims index_shape;
    std::vector<double> indices;
  };
  const Case cases[] = {
      {{10, 4}, 0, DataType::int32, {6}, {0, 9, 15, -3, -20, 4}},
      {{10, 4}, 0, DataType::int64, {2, 3}, {-1, -10, -11, 10, 1e12, -1e12}},
      {{10, 4}, 0, DataType::uint32, {4}, {0, 9, 10, 4e9}},
      {{3, 7, 5}, 1, DataType::int64, {2, 2}, {6, 0, -7, 3}},
      {{3, 7, 5}, 2, DataType::int32, {3}, {4, -1, 100}},
      {{3, 7, 5}, 1, DataType::uint32, {}, {5}},  // scalar index: the axis goes
      {{2, 3, 4, 5}, 3, DataType::int32, {2, 3}, {0, 1, 2, 3, 4, 5}},
      {{9}, 0, DataType::int64, {5}, {8, -9, 0, 3, -2}},
  };
  for (DataType t : kAll)
    for (const Case& c : cases) {
      std::string what = "gather " + type_name(t) + " " + to_string(c.table) + " axis " +
                         std::to_string(c.axis) + " indices " + type_name(c.index_type) + " " +
                         to_string(c.index_shape);
      SCOPED_TRACE(what);
      GraphBuilder b;
      Operand x = b.input("x", t, c.table);
      Operand idx = b.input("i", c.index_type, c.index_shape);
      GatherOptions o;
      o.axis = c.axis;
      Graph g = b.build({{"y", b.gather(x, idx, o)}});
      expect_matches_cpu(g, {{"x", fresh(t, c.table)}, {"i", indices_tensor(c.index_type, c.index_shape, c.indices)}},
                         what);
      expect_on_gpu(g, "gather", what);
    }
}

// BERT's embedding lookup: a constant table (on the device) and input token ids.
TEST(GpuMovement, GatherEmbeddingFromConstantTable) {
  REQUIRE_CUDA();
  for (DataType t : {DataType::float32, DataType::float16}) {
    SCOPED_TRACE(type_name(t));
    GraphBuilder b;
    Operand table = b.constant(fresh(t, {1000, 96}));
    Operand ids = b.input("ids", DataType::int32, {2, 16});
    Graph g = b.build({{"y", b.gather(table, ids)}});
    expect_matches_cpu(g, {{"ids", random_tensor(DataType::int32, {2, 16}, -5, 1005, ++seed_counter)}},
                       "embedding");
    expect_on_gpu(g, "gather", "embedding");
  }
}

TEST(GpuMovement, PadEveryMode) {
  REQUIRE_CUDA();
  struct Case {
    Dims in;
    std::vector<uint32_t> begin, end;
  };
  // Reflection needs padding smaller than each dimension.
  const Case cases[] = {{{7}, {2}, {3}},
                        {{4, 5}, {1, 0}, {2, 3}},
                        {{3, 4, 5}, {0, 2, 1}, {2, 0, 4}},
                        {{2, 3, 4, 5}, {0, 0, 1, 1}, {0, 0, 1, 1}},  // conv-style spatial pad
                        {{2, 3, 3, 4, 2}, {1, 2, 0, 3, 1}, {1, 0, 2, 1, 0}},
                        {{3, 3}, {0, 0}, {0, 0}}};
  const PaddingMode modes[] = {PaddingMode::constant, PaddingMode::edge, PaddingMode::reflection};
  for (DataType t : kAll)
    for (PaddingMode mode : modes)
      for (const Case& c : cases) {
        PadOptions o;
        o.mode = mode;
        o.value = is_float(t) ? 2.5 : 7;
        std::string name = mode == PaddingMode::constant ? "constant"
                           : mode == PaddingMode::edge   ? "edge"
                                                         : "reflection";
        check_op("pad", t, c.in, [&](GraphBuilder& b, Operand x) { return b.pad(x, c.begin, c.end, o); },
                 name + " begin " + to_string(Dims(c.begin.begin(), c.begin.end())) + " end " +
                     to_string(Dims(c.end.begin(), c.end.end())));
      }
}

// The constant is cast to the data type as on the CPU: saturated, NaN to 0 for integers.
TEST(GpuMovement, PadConstantValueIsCastLikeTheCpu) {
  REQUIRE_CUDA();
  const double values[] = {-3, 1e10, -1e10, 0.5, 1.5, std::numeric_limits<double>::quiet_NaN(),
                           std::numeric_limits<double>::infinity(), 1e300};
  for (DataType t : kAll)
    for (double v : values) {
      PadOptions o;
      o.value = v;
      check_op("pad", t, {3, 4}, [&](GraphBuilder& b, Operand x) { return b.pad(x, {1, 2}, {2, 1}, o); },
               "value " + std::to_string(v));
    }
}

TEST(GpuMovement, Triangular) {
  REQUIRE_CUDA();
  const Dims shapes[] = {{5, 5}, {4, 7}, {7, 3}, {2, 3, 6, 5}};
  for (DataType t : kAll)
    for (const Dims& shape : shapes)
      for (bool upper : {true, false})
        for (int32_t diagonal : {0, 1, -1, 2, -3, 10, -10}) {
          TriangularOptions o;
          o.upper = upper;
          o.diagonal = diagonal;
          check_op("triangular", t, shape,
                   [&](GraphBuilder& b, Operand x) { return b.triangular(x, o); },
                   std::string(upper ? "upper" : "lower") + " diagonal " + std::to_string(diagonal));
        }
}

TEST(GpuMovement, CumulativeSum) {
  REQUIRE_CUDA();
  struct Case {
    Dims in;
    uint32_t axis;
  };
  const Case cases[] = {{{37}, 0}, {{4, 9}, 1}, {{4, 9}, 0}, {{3, 5, 6}, 1}, {{2, 3, 4, 5}, 3},
                        {{2, 3, 4, 5, 2}, 2}};
  const DataType types[] = {DataType::float32, DataType::float16, DataType::int32,
                            DataType::uint32,  DataType::int64,   DataType::uint64};
  for (DataType t : types)
    for (const Case& c : cases)
      for (bool exclusive : {false, true})
        for (bool reversed : {false, true}) {
          CumulativeSumOptions o;
          o.exclusive = exclusive;
          o.reversed = reversed;
          check_op("cumulativeSum", t, c.in,
                   [&](GraphBuilder& b, Operand x) { return b.cumulative_sum(x, c.axis, o); },
                   "axis " + std::to_string(c.axis) + (exclusive ? " exclusive" : "") +
                       (reversed ? " reversed" : ""));
        }
}

TEST(GpuMovement, CumulativeSumIntegersWrap) {
  REQUIRE_CUDA();
  for (DataType t : {DataType::int32, DataType::uint32}) {
    GraphBuilder b;
    Operand x = b.input("x", t, {6});
    Graph g = b.build({{"y", b.cumulative_sum(x, 0)}});
    double big = t == DataType::int32 ? 2e9 : 4e9;
    Tensor in = testing::tensor_from_doubles(t, {6}, {big, big, 1, big, 3, big});
    expect_matches_cpu(g, {{"x", in}}, "wrap " + type_name(t));
    expect_on_gpu(g, "cumulativeSum", "wrap");
  }
}

TEST(GpuMovement, ArgMinArgMax) {
  REQUIRE_CUDA();
  struct Case {
    Dims in;
    uint32_t axis;
  };
  const Case cases[] = {{{37}, 0},       {{4, 9}, 1},       {{4, 9}, 0},
                        {{3, 5, 6}, 1},  {{2, 3, 4, 5}, 3}, {{2, 3, 4, 5, 2}, 2}};
  for (DataType t : kAll)
    for (const Case& c : cases)
      for (bool is_max : {true, false})
        for (bool keep : {false, true})
          for (DataType out : {DataType::int32, DataType::int64}) {
            ArgMinMaxOptions o;
            o.keep_dimensions = keep;
            o.output_data_type = out;
            std::string op = is_max ? "argMax" : "argMin";
            check_op(op, t, c.in,
                     [&](GraphBuilder& b, Operand x) {
                       return is_max ? b.arg_max(x, c.axis, o) : b.arg_min(x, c.axis, o);
                     },
                     "axis " + std::to_string(c.axis) + (keep ? " keep" : "") + " to " +
                         type_name(out));
          }
}

// Ties keep the first position; NaN never wins, except a NaN at position 0, which stays.
TEST(GpuMovement, ArgMinArgMaxTiesAndNaN) {
  REQUIRE_CUDA();
  const double nan = std::numeric_limits<double>::quiet_NaN();
  // Rows of 6 along the last axis; then the same values along axis 0 (columns).
  const std::vector<double> v = {1,   3, 3,   0, 0, 3,     // ties for max and min
                                 nan, 1, 5,   5, 0, 0,     // NaN first
                                 2,   nan, 7, 7, nan, -1,  // NaN in the middle
                                 nan, nan, nan, nan, nan, nan,
                                 -0.0, 0.0, -0.0, 0.0, 0.0, -0.0,
                                 4,   4, 4,   4, 4, 4};
  for (DataType t : {DataType::float32, DataType::float16})
    for (uint32_t axis : {0u, 1u})
      for (bool is_max : {true, false}) {
        GraphBuilder b;
        Operand x = b.input("x", t, {6, 6});
        Graph g = b.build({{"y", is_max ? b.arg_max(x, axis) : b.arg_min(x, axis)}});
        std::string what = type_name(t) + (is_max ? " argMax" : " argMin") + " axis " +
                           std::to_string(axis);
        expect_matches_cpu(g, {{"x", testing::tensor_from_doubles(t, {6, 6}, v)}}, what);
        expect_on_gpu(g, is_max ? "argMax" : "argMin", what);
      }
  // Integer ties: values in [0, 2].
  for (DataType t : {DataType::int32, DataType::uint8, DataType::int64})
    for (bool is_max : {true, false}) {
      GraphBuilder b;
      Operand x = b.input("x", t, {8, 30});
      Graph g = b.build({{"y", is_max ? b.arg_max(x, 1) : b.arg_min(x, 1)}});
      expect_matches_cpu(g, {{"x", random_tensor(t, {8, 30}, 0, 2, ++seed_counter)}},
                         "integer ties " + type_name(t));
    }
}

TEST(GpuMovement, Resample2d) {
  REQUIRE_CUDA();
  struct Case {
    Dims in;
    std::vector<float> scales;
    std::vector<uint32_t> sizes;
    std::vector<uint32_t> axes;
  };
  const Case cases[] = {
      {{1, 2, 5, 6}, {2, 2}, {}, {}},
      {{2, 3, 8, 6}, {0.5f, 0.5f}, {}, {}},
      {{1, 2, 5, 6}, {}, {7, 4}, {}},
      {{1, 5, 6, 3}, {1.5f, 3}, {}, {1, 2}},  // NHWC: channels innermost
      {{2, 4, 3, 5}, {}, {6, 9}, {2, 3}},
      {{3, 4, 2, 5}, {}, {3, 10}, {0, 3}},    // axes apart: a middle block
  };
  const DataType types[] = {DataType::float32, DataType::float16, DataType::uint8, DataType::int8};
  for (DataType t : types)
    for (InterpolationMode mode : {InterpolationMode::nearest_neighbor, InterpolationMode::linear})
      for (const Case& c : cases) {
        Resample2dOptions o;
        o.mode = mode;
        o.scales = c.scales;
        o.sizes = c.sizes;
        o.axes = c.axes;
        bool linear = mode == InterpolationMode::linear;
        // Nearest moves bytes: exact. Linear blends in float; the CPU compiler may contract
        // the blend into FMAs, so allow an ulp (and one step for 8-bit integers, whose
        // rounding can flip: one step is under 0.05 of the outputs' RMS).
        double rtol = !linear ? 0
                      : t == DataType::float32 ? 1e-6
                      : t == DataType::float16 ? 2e-3
                                               : 0.05;
        check_op("resample2d", t, c.in,
                 [&](GraphBuilder& b, Operand x) { return b.resample2d(x, o); },
                 std::string(linear ? "linear" : "nearest") + " axes " +
                     to_string(Dims(c.axes.begin(), c.axes.end())),
                 rtol);
      }
}

// Large enough for many blocks and for the wide (16-byte) copies; odd sizes for the narrow
// ones.
TEST(GpuMovement, LargeTensors) {
  REQUIRE_CUDA();
  check_op("transpose", DataType::float32, {8, 64, 56, 56},
           [](GraphBuilder& b, Operand x) {
             TransposeOptions o;
             o.permutation = u32({0, 2, 3, 1});
             return b.transpose(x, o);
           },
           "big NCHW -> NHWC");
  check_op("concat", DataType::float16, {4, 128, 768},
           [](GraphBuilder& b, Operand x) { return b.concat({x, x, x}, 2); }, "big concat");
  check_op("slice", DataType::uint8, {1001, 997},
           [](GraphBuilder& b, Operand x) { return b.slice(x, {3, 5}, {990, 981}); }, "odd slice");
  check_op("expand", DataType::int64, {1, 4096},
           [](GraphBuilder& b, Operand x) { return b.expand(x, {300, 4096}); }, "big expand");
}

// Several of these ops chained with a matmul and element-wise ops: the whole graph runs on
// the GPU and matches the CPU.
TEST(GpuMovement, ChainWithMatmulRunsWhollyOnGpu) {
  REQUIRE_CUDA();
  GraphBuilder b;
  Operand x = b.input("x", DataType::float32, {2, 16, 12});
  Operand ids = b.input("ids", DataType::int32, {5});
  TransposeOptions perm;
  perm.permutation = u32({0, 2, 1});
  Operand t = b.transpose(x, perm);                                          // [2, 12, 16]
  Operand r = b.reshape(t, {24, 16});
  Operand m = b.matmul(r, b.constant(random_tensor(DataType::float32, {16, 8}, -1, 1, 31)));  // [24, 8]
  Operand lo = b.slice(m, {0, 0}, {24, 4});
  Operand hi = b.slice(m, {0, 4}, {24, 4});
  Operand c = b.concat({hi, lo}, 1);                                         // [24, 8]
  Operand sq = b.mul(c, c);                                                  // a generated kernel
  Operand gth = b.gather(sq, ids);                                           // [5, 8]
  PadOptions edge;
  edge.mode = PaddingMode::edge;
  Operand p = b.pad(gth, {1, 0}, {0, 2}, edge);                             // [6, 10]
  SplitOptions on_columns;
  on_columns.axis = 1;
  std::vector<Operand> halves = b.split(p, 2, on_columns);                  // 2 x [6, 5]
  Operand e = b.expand(b.reshape(halves[0], {1, 6, 5}), {3, 6, 5});
  Operand tiled = b.reshape(b.tile(halves[1], {3, 1}), {3, 6, 5});
  ReverseOptions rev;
  rev.axes = u32({2});
  Operand y = b.reverse(b.add(e, tiled), rev);
  Graph g = b.build({{"y", y}, {"c", c}});
  for (int run = 0; run < 2; ++run)
    expect_matches_cpu(g,
                       {{"x", random_tensor(DataType::float32, {2, 16, 12}, -1, 1, ++seed_counter)},
                        {"ids", indices_tensor(DataType::int32, {5}, {3, -1, 40, 0, 7})}},
                       "chain", 1e-5);
  std::string report = cuda_context().report(g);
  EXPECT_NE(report.find("fallback ops: none"), std::string::npos) << report;
  for (const char* op : {"transpose", "reshape", "matmul", "slice", "concat", "gather", "pad",
                         "split", "expand", "tile", "reverse"})
    EXPECT_NE(report.find(std::string("[gpu] ") + op), std::string::npos) << op << "\n" << report;
  EXPECT_EQ(report.find("[cpu]"), std::string::npos) << report;
}

}  // namespace
}  // namespace cppnn
