// Data-movement ops (and gather): values against naive index arithmetic written here, for
// every data type the spec allows (data movement must be bit exact), plus the parallel and
// blocked paths of large tensors. Validation errors are in test_ops_movement_errors.cpp;
// gatherElements and gatherND are test_ops_gather.cpp's.
#include <algorithm>
#include <cmath>

#include "index_test_support.h"

namespace cppnn {
namespace {

using testing::random_tensor;

using testing::count;
using testing::Index;
using testing::random_of;
using testing::ravel;
using testing::unravel;
constexpr const auto& kAll = testing::kAllDataTypes;

std::string name_of(DataType type, const Dims& shape) {
  return std::string(to_string(type)) + " " + to_string(shape);
}

// Checks one output: data type, shape and bit-exact values.
void expect_output(const Tensor& got, DataType type, const Dims& shape,
                   const std::vector<double>& want, const std::string& what) {
  EXPECT_EQ(got.data_type(), type) << what;
  EXPECT_EQ(got.shape(), shape) << what;
  testing::expect_close(got, want, {0, 0}, what);
}

// Builds y = op(x) for an input x, runs it and compares with ref(x values) of `out_shape`.
template <typename Build, typename Ref>
void check_unary(DataType type, const Dims& shape, Build build, const Dims& out_shape, Ref ref,
                 uint32_t seed = 7) {
  GraphBuilder b;
  Operand x = b.input("x", type, shape);
  Operand y = build(b, x);
  Tensor xt = random_of(type, shape, seed);
  // Read before running: a kernel that wrote into its input must not fix the reference.
  std::vector<double> xv = xt.to_doubles();
  NamedTensors out = testing::run_cpu(b.build({{"y", y}}), {{"x", xt}});
  std::vector<double> want(count(out_shape));
  for (size_t i = 0; i < want.size(); ++i) want[i] = ref(xv, unravel(i, out_shape));
  expect_output(out.at("y"), type, out_shape, want, name_of(type, shape));
}

TEST(ShapeReshape, KeepsValuesInOrder) {
  for (DataType t : kAll) {
    check_unary(t, {2, 3, 4}, [](GraphBuilder& b, Operand x) { return b.reshape(x, {4, 1, 6}); },
                {4, 1, 6}, [](const std::vector<double>& x, const Index& o) {
                  return x[ravel(o, {4, 1, 6})];
                });
  }
  // To and from a scalar.
  check_unary(DataType::float32, {1, 1}, [](GraphBuilder& b, Operand x) { return b.reshape(x, {}); },
              {}, [](const std::vector<double>& x, const Index&) { return x[0]; });
  check_unary(DataType::float16, {}, [](GraphBuilder& b, Operand x) { return b.reshape(x, {1, 1, 1}); },
              {1, 1, 1}, [](const std::vector<double>& x, const Index&) { return x[0]; });
  // Large enough to be copied by several threads.
  check_unary(DataType::int8, {300, 701}, [](GraphBuilder& b, Operand x) { return b.reshape(x, {701, 300}); },
              {701, 300}, [](const std::vector<double>& x, const Index& o) { return x[ravel(o, {701, 300})]; });
}

void check_transpose(DataType t, const Dims& shape, const std::vector<uint32_t>& perm) {
  Dims out(shape.size());
  for (size_t i = 0; i < perm.size(); ++i) out[i] = shape[perm[i]];
  check_unary(
      t, shape,
      [&](GraphBuilder& b, Operand x) {
        TransposeOptions o;
        o.permutation = perm;
        return b.transpose(x, o);
      },
      out,
      [&](const std::vector<double>& x, const Index& o) {
        Index in(shape.size());
        for (size_t i = 0; i < perm.size(); ++i) in[perm[i]] = o[i];
        return x[ravel(in, shape)];
      });
}

TEST(ShapeTranspose, EveryPermutationOfRank3) {
  std::vector<uint32_t> perm = {0, 1, 2};
  do {
    for (DataType t : {DataType::float32, DataType::float16, DataType::int32})
      check_transpose(t, {3, 5, 7}, perm);
  } while (std::next_permutation(perm.begin(), perm.end()));
}

TEST(ShapeTranspose, EveryTypeAndRank) {
  for (DataType t : kAll) {
    check_transpose(t, {2, 3, 4, 5}, {3, 1, 0, 2});
    check_transpose(t, {2, 3, 1, 4, 5}, {4, 2, 0, 3, 1});
    check_transpose(t, {9}, {0});
  }
  check_transpose(DataType::float32, {}, {});
  check_transpose(DataType::float32, {1, 6}, {1, 0});  // a pure reshape in disguise
}

TEST(ShapeTranspose, LargeTensorsUseTheBlockedPath) {
  for (DataType t : {DataType::float32, DataType::float16, DataType::int8, DataType::int64}) {
    check_transpose(t, {257, 131}, {1, 0});
    check_transpose(t, {3, 67, 45, 5}, {0, 2, 3, 1});  // NCHW -> NHWC-like
    check_transpose(t, {2, 40, 33, 17}, {3, 2, 1, 0});
  }
}

// A short innermost output dim fed by the input's contiguous one (the interleaving path):
// an image's NCHW -> NHWC with 3 channels (one outer item, in chunks of k across threads),
// ShuffleNet's channel shuffle channels-last (J = 2, 4), and the generic J (5, 16).
TEST(ShapeTranspose, ShortInnermostDimsInterleave) {
  for (DataType t : {DataType::float32, DataType::float16, DataType::int8, DataType::int64}) {
    check_transpose(t, {1, 3, 40, 41}, {0, 2, 3, 1});       // k = 1640: two chunks
    check_transpose(t, {2, 3, 5, 7}, {0, 2, 3, 1});          // two outer items
    check_transpose(t, {1, 6, 7, 2, 13}, {0, 1, 2, 4, 3});   // the shuffle, J = 2
    check_transpose(t, {3, 4, 9}, {0, 2, 1});                // J = 4
    check_transpose(t, {2, 5, 300}, {0, 2, 1});              // J = 5
    check_transpose(t, {4, 16, 33}, {0, 2, 1});              // J = 16
  }
}

TEST(ShapeTranspose, DefaultReversesAxes) {
  for (DataType t : {DataType::float32, DataType::float16, DataType::uint8}) {
    check_unary(
        t, {2, 3, 4}, [](GraphBuilder& b, Operand x) { return b.transpose(x); }, {4, 3, 2},
        [](const std::vector<double>& x, const Index& o) {
          return x[ravel({o[2], o[1], o[0]}, {2, 3, 4})];
        });
  }
}

// Runs concat of inputs with the given shapes along axis and checks against a naive walk.
void check_concat(DataType t, const std::vector<Dims>& shapes, uint32_t axis) {
  GraphBuilder b;
  std::vector<Operand> xs;
  NamedTensors inputs;
  std::vector<std::vector<double>> values;
  for (size_t i = 0; i < shapes.size(); ++i) {
    std::string name(1, char('a' + i));
    xs.push_back(b.input(name, t, shapes[i]));
    inputs[name] = random_of(t, shapes[i], uint32_t(10 + i));
    values.push_back(inputs[name].to_doubles());
  }
  Dims out_shape = shapes[0];
  for (size_t i = 1; i < shapes.size(); ++i) out_shape[axis] += shapes[i][axis];
  NamedTensors out = testing::run_cpu(b.build({{"y", b.concat(xs, axis)}}), inputs);
  std::vector<double> want(count(out_shape));
  for (size_t f = 0; f < want.size(); ++f) {
    Index o = unravel(f, out_shape);
    size_t part = 0;
    while (o[axis] >= shapes[part][axis]) o[axis] -= shapes[part++][axis];
    want[f] = values[part][ravel(o, shapes[part])];
  }
  expect_output(out.at("y"), t, out_shape, want, name_of(t, out_shape));
}

TEST(ShapeConcat, AlongEachAxis) {
  for (DataType t : kAll) {
    check_concat(t, {{2, 3, 4}, {2, 1, 4}, {2, 5, 4}}, 1);
    check_concat(t, {{2, 3, 4}, {3, 3, 4}}, 0);
    check_concat(t, {{2, 3, 1}, {2, 3, 6}, {2, 3, 2}}, 2);
    check_concat(t, {{5}}, 0);
  }
}

TEST(ShapeConcat, LargePartsSplitAcrossThreads) {
  check_concat(DataType::float32, {{300, 100}, {211, 100}}, 0);
  check_concat(DataType::float16, {{4, 3000, 7}, {4, 1, 7}, {4, 2999, 7}}, 1);
  check_concat(DataType::uint8, {{1000, 31}, {1000, 97}}, 1);
}

TEST(ShapeSplit, ByCountAndBySizes) {
  for (DataType t : kAll) {
    for (bool by_count : {true, false}) {
      Dims shape = {3, 6, 5};
      GraphBuilder b;
      Operand x = b.input("x", t, shape);
      SplitOptions o;
      o.axis = 1;
      std::vector<uint32_t> sizes = by_count ? std::vector<uint32_t>{2, 2, 2}
                                             : std::vector<uint32_t>{1, 4, 1};
      std::vector<Operand> parts = by_count ? b.split(x, 3, o) : b.split(x, sizes, o);
      ASSERT_EQ(parts.size(), 3u);
      Tensor xt = random_of(t, shape);
      std::vector<double> xv = xt.to_doubles();
      NamedTensors out = testing::run_cpu(
          b.build({{"a", parts[0]}, {"b", parts[1]}, {"c", parts[2]}}), {{"x", xt}});
      int64_t start = 0;
      for (size_t p = 0; p < 3; ++p) {
        Dims ps = {3, int64_t(sizes[p]), 5};
        std::vector<double> want(count(ps));
        for (size_t f = 0; f < want.size(); ++f) {
          Index i = unravel(f, ps);
          i[1] += start;
          want[f] = xv[ravel(i, shape)];
        }
        expect_output(out.at(std::string(1, char('a' + p))), t, ps, want, name_of(t, ps));
        start += sizes[p];
      }
    }
  }
}

TEST(ShapeSplit, LargeSplitAlongLastAxis) {
  GraphBuilder b;
  Operand x = b.input("x", DataType::float32, {500, 130});
  SplitOptions o;
  o.axis = 1;
  std::vector<Operand> parts = b.split(x, {100, 30}, o);
  Tensor xt = random_of(DataType::float32, {500, 130});
  std::vector<double> xv = xt.to_doubles(), wa, wb;
  NamedTensors out = testing::run_cpu(b.build({{"a", parts[0]}, {"b", parts[1]}}), {{"x", xt}});
  for (size_t r = 0; r < 500; ++r)
    for (size_t c = 0; c < 130; ++c) (c < 100 ? wa : wb).push_back(xv[r * 130 + c]);
  expect_output(out.at("a"), DataType::float32, {500, 100}, wa, "a");
  expect_output(out.at("b"), DataType::float32, {500, 30}, wb, "b");
}

void check_slice(DataType t, const Dims& shape, const std::vector<uint32_t>& starts,
                 const std::vector<uint32_t>& sizes, const std::vector<uint32_t>& strides) {
  Dims out(shape.size());
  for (size_t d = 0; d < shape.size(); ++d) {
    uint32_t s = strides.empty() ? 1 : strides[d];
    out[d] = (sizes[d] + s - 1) / s;
  }
  check_unary(
      t, shape,
      [&](GraphBuilder& b, Operand x) {
        SliceOptions o;
        o.strides = strides;
        return b.slice(x, starts, sizes, o);
      },
      out,
      [&](const std::vector<double>& x, const Index& o) {
        Index in(shape.size());
        for (size_t d = 0; d < shape.size(); ++d)
          in[d] = starts[d] + o[d] * (strides.empty() ? 1 : strides[d]);
        return x[ravel(in, shape)];
      });
}

TEST(ShapeSlice, StartsSizesAndStrides) {
  for (DataType t : kAll) {
    check_slice(t, {5, 6, 7}, {1, 0, 2}, {3, 6, 4}, {});
    check_slice(t, {5, 6, 7}, {0, 1, 1}, {5, 5, 6}, {2, 3, 4});
    check_slice(t, {9}, {8}, {1}, {});
    check_slice(t, {2, 3, 4, 5, 6}, {1, 0, 1, 2, 0}, {1, 3, 3, 3, 6}, {1, 2, 1, 1, 5});
  }
  check_slice(DataType::float32, {}, {}, {}, {});
  check_slice(DataType::float16, {700, 400}, {13, 7}, {600, 390}, {1, 1});
}

// indices values are exact integers; returns the naive gather with the spec's clamping.
template <typename I>
void check_gather(DataType t, const Dims& shape, uint32_t axis, DataType itype, const Dims& ishape,
                  const std::vector<I>& indices) {
  GraphBuilder b;
  Operand x = b.input("x", t, shape);
  Operand idx = b.input("i", itype, ishape);
  GatherOptions o;
  o.axis = axis;
  Tensor xt = random_of(t, shape);
  Tensor it = Tensor::from(itype, ishape, indices);
  std::vector<double> xv = xt.to_doubles();
  NamedTensors out = testing::run_cpu(b.build({{"y", b.gather(x, idx, o)}}), {{"x", xt}, {"i", it}});
  Dims out_shape(shape.begin(), shape.begin() + axis);
  out_shape.insert(out_shape.end(), ishape.begin(), ishape.end());
  out_shape.insert(out_shape.end(), shape.begin() + axis + 1, shape.end());
  std::vector<double> want(count(out_shape));
  int64_t dim = shape[axis];
  for (size_t f = 0; f < want.size(); ++f) {
    Index o_idx = unravel(f, out_shape);
    Index i_idx(o_idx.begin() + axis, o_idx.begin() + axis + int64_t(ishape.size()));
    double v = double(indices[ravel(i_idx, ishape)]);
    if (v < 0) v += double(dim);
    v = std::min(std::max(v, 0.0), double(dim - 1));
    Index in(o_idx.begin(), o_idx.begin() + axis);
    in.push_back(int64_t(v));
    in.insert(in.end(), o_idx.begin() + axis + int64_t(ishape.size()), o_idx.end());
    want[f] = xv[ravel(in, shape)];
  }
  expect_output(out.at("y"), t, out_shape, want, name_of(t, shape) + " axis " + std::to_string(axis));
}

TEST(ShapeGather, EveryAxisAndIndexType) {
  for (DataType t : kAll) {
    check_gather<int32_t>(t, {4, 3, 5}, 0, DataType::int32, {2, 2}, {3, 0, 1, 3});
    check_gather<int32_t>(t, {4, 3, 5}, 1, DataType::int32, {4}, {2, 2, 0, 1});
    check_gather<int64_t>(t, {4, 3, 5}, 2, DataType::int64, {3}, {4, 0, 2});
    check_gather<uint32_t>(t, {4, 3, 5}, 1, DataType::uint32, {}, {2});
  }
}

TEST(ShapeGather, NegativeIndicesCountFromTheEndAndOutOfRangeIsClamped) {
  for (DataType t : {DataType::float32, DataType::float16, DataType::int8}) {
    check_gather<int32_t>(t, {6, 4}, 0, DataType::int32, {5}, {-1, -6, 100, -100, 2});
    check_gather<int64_t>(t, {6, 4}, 1, DataType::int64, {2, 3},
                          {-1, int64_t(1) << 40, -(int64_t(1) << 40), 3, -4, 0});
    check_gather<uint32_t>(t, {6, 4}, 1, DataType::uint32, {2}, {0xffffffffu, 1});
  }
  // Scalar input after gathering the only axis.
  check_gather<int32_t>(DataType::float32, {7}, 0, DataType::int32, {}, {-2});
}

TEST(ShapeGather, LargeRowsAndManyIndices) {
  std::vector<int32_t> idx;
  for (int i = 0; i < 3000; ++i) idx.push_back((i * 7919) % 1000 - 500);
  check_gather<int32_t>(DataType::float32, {1000, 64}, 0, DataType::int32, {3000}, idx);
  check_gather<int32_t>(DataType::float16, {8, 1000}, 1, DataType::int32, {3000}, idx);
}

void check_expand(DataType t, const Dims& shape, const std::vector<uint32_t>& new_shape) {
  Dims out(new_shape.begin(), new_shape.end());
  check_unary(
      t, shape, [&](GraphBuilder& b, Operand x) { return b.expand(x, new_shape); }, out,
      [&](const std::vector<double>& x, const Index& o) {
        Index in(shape.size());
        size_t lead = out.size() - shape.size();
        for (size_t d = 0; d < shape.size(); ++d) in[d] = shape[d] == 1 ? 0 : o[lead + d];
        return x[ravel(in, shape)];
      });
}

TEST(ShapeExpand, BroadcastsUnitAndMissingDims) {
  for (DataType t : kAll) {
    check_expand(t, {3, 1}, {2, 3, 4});
    check_expand(t, {1, 4, 1}, {3, 4, 5});
    check_expand(t, {}, {2, 3});
    check_expand(t, {2, 3}, {2, 3});
  }
  check_expand(DataType::float32, {1, 1, 300}, {7, 100, 300});
  check_expand(DataType::int32, {500, 1}, {500, 300});
  check_expand(DataType::float32, {1, 70001}, {3, 70001});
}

void check_tile(DataType t, const Dims& shape, const std::vector<uint32_t>& reps) {
  Dims out = shape;
  for (size_t d = 0; d < shape.size(); ++d) out[d] *= reps[d];
  check_unary(
      t, shape, [&](GraphBuilder& b, Operand x) { return b.tile(x, reps); }, out,
      [&](const std::vector<double>& x, const Index& o) {
        Index in(shape.size());
        for (size_t d = 0; d < shape.size(); ++d) in[d] = o[d] % shape[d];
        return x[ravel(in, shape)];
      });
}

TEST(ShapeTile, RepeatsEachDimension) {
  for (DataType t : kAll) {
    check_tile(t, {2, 3}, {3, 2});
    check_tile(t, {2, 1, 3}, {1, 4, 1});
    check_tile(t, {4}, {1});
  }
  check_tile(DataType::float16, {50, 70, 3}, {3, 2, 5});
}

void check_reverse(DataType t, const Dims& shape, std::optional<std::vector<uint32_t>> axes) {
  check_unary(
      t, shape,
      [&](GraphBuilder& b, Operand x) {
        ReverseOptions o;
        o.axes = axes;
        return b.reverse(x, o);
      },
      shape,
      [&](const std::vector<double>& x, const Index& o) {
        Index in = o;
        for (size_t d = 0; d < shape.size(); ++d) {
          bool rev = !axes || std::count(axes->begin(), axes->end(), uint32_t(d));
          if (rev) in[d] = shape[d] - 1 - o[d];
        }
        return x[ravel(in, shape)];
      });
}

TEST(ShapeReverse, SelectedDefaultAndNoAxes) {
  for (DataType t : kAll) {
    check_reverse(t, {3, 4, 5}, std::nullopt);
    check_reverse(t, {3, 4, 5}, std::vector<uint32_t>{1});
    check_reverse(t, {3, 4, 5}, std::vector<uint32_t>{2, 0});
    check_reverse(t, {3, 4, 5}, std::vector<uint32_t>{});
  }
  check_reverse(DataType::float32, {}, std::nullopt);
  check_reverse(DataType::float32, {400, 300}, std::vector<uint32_t>{1});
  // Long rows that threads split in the middle.
  check_reverse(DataType::float32, {100003}, std::nullopt);
  check_reverse(DataType::float16, {3, 50001}, std::vector<uint32_t>{1});
}

void check_pad(DataType t, const Dims& shape, const std::vector<uint32_t>& begin,
               const std::vector<uint32_t>& end, PaddingMode mode, double value) {
  Dims out = shape;
  for (size_t d = 0; d < shape.size(); ++d) out[d] += begin[d] + end[d];
  // The pad value as the data type holds it.
  double stored = testing::tensor_from_doubles(t, {}, {value}).to_doubles()[0];
  check_unary(
      t, shape,
      [&](GraphBuilder& b, Operand x) {
        PadOptions o;
        o.mode = mode;
        o.value = value;
        return b.pad(x, begin, end, o);
      },
      out,
      [&](const std::vector<double>& x, const Index& o) {
        Index in(shape.size());
        for (size_t d = 0; d < shape.size(); ++d) {
          int64_t i = o[d] - begin[d], n = shape[d];
          if (i < 0 || i >= n) {
            if (mode == PaddingMode::constant) return stored;
            if (mode == PaddingMode::edge) i = i < 0 ? 0 : n - 1;
            else i = i < 0 ? -i : 2 * (n - 1) - i;
          }
          in[d] = i;
        }
        return x[ravel(in, shape)];
      });
}

TEST(ShapePad, ConstantEdgeReflection) {
  for (DataType t : kAll) {
    for (PaddingMode m : {PaddingMode::constant, PaddingMode::edge, PaddingMode::reflection}) {
      check_pad(t, {3, 4}, {1, 2}, {2, 3}, m, 7);
      check_pad(t, {2, 3, 4}, {0, 2, 1}, {1, 0, 3}, m, 3);
      check_pad(t, {5}, {4}, {4}, m, 1);
    }
  }
  check_pad(DataType::float32, {}, {}, {}, PaddingMode::constant, 1);
  check_pad(DataType::float16, {300, 200}, {5, 9}, {17, 3}, PaddingMode::reflection, 0);
  check_pad(DataType::float32, {300, 200}, {5, 9}, {17, 3}, PaddingMode::constant, -2.5);
}

TEST(ShapePad, SpecExample) {
  GraphBuilder b;
  Operand x = b.constant(Tensor::from(DataType::float32, {2, 3}, std::vector<float>{1, 2, 3, 4, 5, 6}));
  PadOptions o;
  o.mode = PaddingMode::reflection;
  Operand y = b.pad(x, {1, 2}, {1, 2}, o);
  NamedTensors out = testing::run_cpu(b.build({{"y", y}}), {});
  testing::expect_close(out.at("y"), {6, 5, 4, 5, 6, 5, 4, 3, 2, 1, 2, 3, 2, 1,
                                      6, 5, 4, 5, 6, 5, 4, 3, 2, 1, 2, 3, 2, 1}, {0, 0});
}

TEST(ShapePad, ValueIsCastToTheDataType) {
  // The spec's cast saturates integers and rounds half to even; floats overflow to infinity.
  struct Case {
    DataType type;
    double value, want;
  };
  for (Case c : std::vector<Case>{{DataType::int8, 1000, 127},
                                  {DataType::int8, -1000, -128},
                                  {DataType::uint8, -3, 0},
                                  {DataType::uint8, 2.5, 2},
                                  {DataType::int32, 3.5, 4},
                                  {DataType::uint32, 1e12, 4294967295.0},
                                  {DataType::int64, 1e30, 9223372036854775807.0},
                                  {DataType::uint64, 1e30, 18446744073709551615.0},
                                  {DataType::float16, 1e6, INFINITY},
                                  {DataType::float32, -1e300, -INFINITY},
                                  {DataType::int32, NAN, 0}}) {
    GraphBuilder b;
    Operand x = b.input("x", c.type, {1});
    PadOptions o;
    o.value = c.value;
    NamedTensors out = testing::run_cpu(b.build({{"y", b.pad(x, {1}, {0}, o)}}),
                                        {{"x", Tensor(c.type, {1})}});
    EXPECT_EQ(out.at("y").to_doubles()[0], c.want) << to_string(c.type) << " " << c.value;
  }
}

void check_triangular(DataType t, const Dims& shape, bool upper, int32_t diagonal) {
  check_unary(
      t, shape,
      [&](GraphBuilder& b, Operand x) {
        TriangularOptions o;
        o.upper = upper;
        o.diagonal = diagonal;
        return b.triangular(x, o);
      },
      shape,
      [&](const std::vector<double>& x, const Index& o) {
        int64_t i = o[o.size() - 2], j = o[o.size() - 1];
        bool keep = upper ? j - i >= diagonal : j - i <= diagonal;
        return keep ? x[ravel(o, shape)] : 0.0;
      });
}

TEST(ShapeTriangular, UpperLowerAndDiagonals) {
  for (DataType t : kAll)
    for (bool upper : {true, false})
      for (int32_t diag : {0, 1, -1, 2, -3, 10, -10}) {
        check_triangular(t, {3, 3}, upper, diag);
        check_triangular(t, {2, 3, 4, 5}, upper, diag);
      }
  check_triangular(DataType::float32, {300, 257}, true, 5);
}

TEST(ShapeTriangular, SpecExample) {
  GraphBuilder b;
  Operand x = b.constant(Tensor::from(DataType::float32, {3, 3},
                                      std::vector<float>{7, 1, 2, 9, 4, 8, 2, 6, 3}));
  TriangularOptions lower;
  lower.upper = false;
  lower.diagonal = -1;
  NamedTensors out = testing::run_cpu(
      b.build({{"u", b.triangular(x)}, {"l", b.triangular(x, lower)}}), {});
  testing::expect_close(out.at("u"), {7, 1, 2, 0, 4, 8, 0, 0, 3}, {0, 0});
  testing::expect_close(out.at("l"), {0, 0, 0, 9, 0, 0, 2, 6, 0}, {0, 0});
}

// The spec's half-pixel mapping with scale = outputSize / inputSize, written per axis.
double source_coordinate(int64_t o, int64_t in, int64_t out) {
  double c = (double(o) + 0.5) / (double(out) / double(in)) - 0.5;
  return std::min(std::max(c, 0.0), double(in - 1));
}

void check_resample(DataType t, const Dims& shape, const Resample2dOptions& o) {
  std::vector<uint32_t> axes = o.axes.empty() ? std::vector<uint32_t>{2, 3} : o.axes;
  Dims out = shape;
  for (size_t k = 0; k < 2; ++k) {
    double scale = o.scales.empty() ? 1.0 : double(o.scales[k]);
    out[axes[k]] = o.sizes.empty() ? int64_t(std::floor(double(shape[axes[k]]) * scale))
                                   : int64_t(o.sizes[k]);
  }
  GraphBuilder b;
  Operand x = b.input("x", t, shape);
  Tensor xt = random_of(t, shape, 3);
  std::vector<double> xv = xt.to_doubles(), want(count(out));
  NamedTensors res = testing::run_cpu(b.build({{"y", b.resample2d(x, o)}}), {{"x", xt}});
  size_t ay = axes[0], ax = axes[1];
  for (size_t f = 0; f < want.size(); ++f) {
    Index oi = unravel(f, out);
    double cy = source_coordinate(oi[ay], shape[ay], out[ay]);
    double cx = source_coordinate(oi[ax], shape[ax], out[ax]);
    if (o.mode == InterpolationMode::nearest_neighbor) {
      Index in = oi;
      in[ay] = int64_t(std::ceil(cy - 0.5));
      in[ax] = int64_t(std::ceil(cx - 0.5));
      want[f] = xv[ravel(in, shape)];
      continue;
    }
    double v = 0;
    for (int dy = 0; dy < 2; ++dy)
      for (int dx = 0; dx < 2; ++dx) {
        Index in = oi;
        in[ay] = int64_t(dy ? std::ceil(cy) : std::floor(cy));
        in[ax] = int64_t(dx ? std::ceil(cx) : std::floor(cx));
        double wy = dy ? cy - std::floor(cy) : 1 - (cy - std::floor(cy));
        double wx = dx ? cx - std::floor(cx) : 1 - (cx - std::floor(cx));
        v += wy * wx * xv[ravel(in, shape)];
      }
    want[f] = is_float(t) ? v : std::nearbyint(v);
  }
  // Integer linear results may round the other way where float and double disagree on a tie.
  testing::Tolerance tol = o.mode == InterpolationMode::nearest_neighbor
                               ? testing::Tolerance{0, 0}
                               : (is_float(t) ? testing::default_tolerance(t) : testing::Tolerance{1, 0});
  EXPECT_EQ(res.at("y").shape(), out);
  testing::expect_close(res.at("y"), want, tol, name_of(t, shape) + " -> " + to_string(out));
}

Resample2dOptions resample_options(InterpolationMode mode, std::vector<float> scales,
                                   std::vector<uint32_t> sizes, std::vector<uint32_t> axes) {
  Resample2dOptions o;
  o.mode = mode;
  o.scales = std::move(scales);
  o.sizes = std::move(sizes);
  o.axes = std::move(axes);
  return o;
}

TEST(ShapeResample2d, NearestAndLinearOverScalesSizesAndAxes) {
  for (DataType t : {DataType::float32, DataType::float16, DataType::int8, DataType::uint8})
    for (InterpolationMode m : {InterpolationMode::nearest_neighbor, InterpolationMode::linear}) {
      check_resample(t, {2, 3, 4, 5}, resample_options(m, {2, 2}, {}, {}));
      check_resample(t, {2, 3, 5, 7}, resample_options(m, {1.5f, 0.6f}, {}, {}));
      check_resample(t, {1, 2, 4, 6}, resample_options(m, {}, {7, 3}, {}));
      check_resample(t, {2, 5, 4, 3}, resample_options(m, {}, {9, 2}, {1, 2}));  // NHWC
      check_resample(t, {3, 4, 5, 2}, resample_options(m, {0.5f, 3}, {}, {0, 2}));
      check_resample(t, {2, 3, 4, 5}, resample_options(m, {}, {6, 11}, {3, 1}));  // axes reversed
      check_resample(t, {2, 3, 4, 5}, resample_options(m, {}, {}, {}));  // identity
    }
  check_resample(DataType::float32, {2, 16, 40, 50},
                 resample_options(InterpolationMode::linear, {}, {97, 33}, {}));
}

TEST(ShapeResample2d, SizesWinOverScales) {
  GraphBuilder b;
  Operand x = b.input("x", DataType::float32, {1, 1, 4, 4});
  Operand y = b.resample2d(x, resample_options(InterpolationMode::linear, {2, 2}, {3, 5}, {}));
  EXPECT_EQ(y.shape(), (Dims{1, 1, 3, 5}));
}

TEST(ShapeResample2d, SpecLinearExample) {
  GraphBuilder b;
  Operand x = b.constant(Tensor::from(
      DataType::float32, {1, 1, 4, 4},
      std::vector<float>{0, 1, 2, 3, 0, 1, 2, 3, 12, 13, 14, 15, 12, 13, 14, 15}));
  Operand y = b.resample2d(x, resample_options(InterpolationMode::linear, {}, {8, 8}, {}));
  NamedTensors out = testing::run_cpu(b.build({{"y", y}}), {});
  std::vector<double> row = {0, 0.25, 0.75, 1.25, 1.75, 2.25, 2.75, 3};
  std::vector<double> offsets = {0, 0, 0, 3, 9, 12, 12, 12};
  std::vector<double> want;
  for (double off : offsets)
    for (double v : row) want.push_back(v + off);
  testing::expect_close(out.at("y"), want, {1e-6, 0});
}

}  // namespace
}  // namespace cppnn
