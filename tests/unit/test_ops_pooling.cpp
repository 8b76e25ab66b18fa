// Pooling (average, l2, max) against float64 references written here with naive loops,
// plus the spec's validation rules.
#include <algorithm>
#include <limits>

#include "test_support.h"

namespace cppnn {
namespace {

using testing::default_tolerance;
using testing::expect_close;
using testing::expect_error;
using testing::random_tensor;
using testing::run_cpu;

constexpr DataType kF32 = DataType::float32;
constexpr DataType kF16 = DataType::float16;

enum class Pool { average, l2, max };

struct PoolCase {
  std::vector<uint32_t> window;  // empty: global
  std::vector<uint32_t> padding{0, 0, 0, 0};
  std::vector<uint32_t> strides{1, 1};
  std::vector<uint32_t> dilations{1, 1};
};

// Padded taps never count: average divides by the taps inside the input.
std::vector<double> ref_pool(const Tensor& x, bool nchw, Pool kind, const PoolCase& pc, int64_t oh_,
                             int64_t ow_) {
  const Dims& s = x.shape();
  int64_t n_ = s[0], c_ = nchw ? s[1] : s[3], h_ = nchw ? s[2] : s[1], w_ = nchw ? s[3] : s[2];
  int64_t kh_ = pc.window.empty() ? h_ : pc.window[0], kw_ = pc.window.empty() ? w_ : pc.window[1];
  std::vector<double> v = x.to_doubles(), out(size_t(n_ * c_ * oh_ * ow_));
  auto at = [&](int64_t n, int64_t c, int64_t h, int64_t w, int64_t hh, int64_t ww) {
    return size_t(nchw ? ((n * c_ + c) * hh + h) * ww + w : ((n * hh + h) * ww + w) * c_ + c);
  };
  for (int64_t n = 0; n < n_; ++n)
    for (int64_t c = 0; c < c_; ++c)
      for (int64_t oh = 0; oh < oh_; ++oh)
        for (int64_t ow = 0; ow < ow_; ++ow) {
          double acc = kind == Pool::max ? -std::numeric_limits<double>::infinity() : 0;
          int count = 0;
          for (int64_t kh = 0; kh < kh_; ++kh)
            for (int64_t kw = 0; kw < kw_; ++kw) {
              int64_t ih = oh * pc.strides[0] - pc.padding[0] + kh * pc.dilations[0];
              int64_t iw = ow * pc.strides[1] - pc.padding[2] + kw * pc.dilations[1];
              if (ih < 0 || ih >= h_ || iw < 0 || iw >= w_) continue;
              double e = v[at(n, c, ih, iw, h_, w_)];
              ++count;
              if (kind == Pool::max)
                acc = std::max(acc, e);
              else if (kind == Pool::l2)
                acc += e * e;
              else
                acc += e;
            }
          double r = kind == Pool::average ? acc / count : kind == Pool::l2 ? std::sqrt(acc) : acc;
          out[at(n, c, oh, ow, oh_, ow_)] = r;
        }
  return out;
}

// ---- graph helpers

Tensor run_one(const Tensor& x, const std::function<Operand(GraphBuilder&, Operand)>& make) {
  GraphBuilder b;
  Operand in = b.input("x", x.data_type(), x.shape());
  Graph g = b.build({{"y", make(b, in)}});
  return run_cpu(g, {{"x", x}}).at("y");
}

Operand pool_op(GraphBuilder& b, Pool kind, const Operand& x, const Pool2dOptions& o) {
  if (kind == Pool::average) return b.average_pool2d(x, o);
  if (kind == Pool::l2) return b.l2_pool2d(x, o);
  return b.max_pool2d(x, o);
}

const char* pool_name(Pool kind) {
  return kind == Pool::average ? "average" : kind == Pool::l2 ? "l2" : "max";
}

// ---- pooling

void check_pool(DataType t, Pool kind, bool nchw, const Dims& nchw_shape, const PoolCase& pc,
                Pool2dOptions o, int64_t oh, int64_t ow, uint32_t seed) {
  Dims shape = nchw ? nchw_shape : Dims{nchw_shape[0], nchw_shape[2], nchw_shape[3], nchw_shape[1]};
  Tensor x = random_tensor(t, shape, -4, 4, seed);
  o.layout = nchw ? InputLayout::nchw : InputLayout::nhwc;
  Tensor y = run_one(x, [&](GraphBuilder& b, Operand in) { return pool_op(b, kind, in, o); });
  Dims want = nchw ? Dims{shape[0], shape[1], oh, ow} : Dims{shape[0], oh, ow, shape[3]};
  std::string what =
      std::string(pool_name(kind)) + " " + std::string(to_string(t)) + (nchw ? " nchw" : " nhwc");
  ASSERT_EQ(y.shape(), want) << what;
  testing::Tolerance tol = default_tolerance(t);
  if (kind == Pool::max) tol = {0, 0};  // max picks an element exactly
  expect_close(y, ref_pool(x, nchw, kind, pc, oh, ow), tol, what);
}

Pool2dOptions options_of(const PoolCase& pc) {
  Pool2dOptions o;
  o.window_dimensions = pc.window;
  o.padding = pc.padding;
  o.strides = pc.strides;
  o.dilations = pc.dilations;
  return o;
}

TEST(NormPoolPool, PaddingStridesDilations) {
  PoolCase pc{{3, 2}, {1, 2, 0, 1}, {2, 3}, {1, 1}};
  // H: (7 - 3 + 3) / 2 + 1 = 4.5 -> 4; W: (8 - 2 + 1) / 3 + 1 = 3.33 -> 3.
  PoolCase dil{{3, 3}, {2, 1, 2, 2}, {1, 2}, {2, 3}};
  // H: (7 - 5 + 3) / 1 + 1 = 6; W: (8 - 7 + 4) / 2 + 1 = 3.5 -> 3.
  for (DataType t : {kF32, kF16})
    for (Pool kind : {Pool::average, Pool::l2, Pool::max})
      for (bool nchw : {true, false}) {
        check_pool(t, kind, nchw, {2, 3, 7, 8}, pc, options_of(pc), 4, 3, 100);
        check_pool(t, kind, nchw, {2, 3, 7, 8}, dil, options_of(dil), 6, 3, 101);
      }
}

TEST(NormPoolPool, CeilRoundingAndOutputSizes) {
  PoolCase pc{{3, 3}, {0, 0, 0, 0}, {2, 2}, {1, 1}};
  // (6 - 3) / 2 + 1 = 2.5: floor 2, ceil 3; the ceil windows hang over the input's end.
  for (DataType t : {kF32, kF16})
    for (Pool kind : {Pool::average, Pool::l2, Pool::max})
      for (bool nchw : {true, false}) {
        Pool2dOptions o = options_of(pc);
        check_pool(t, kind, nchw, {1, 5, 6, 6}, pc, o, 2, 2, 110);
        o.output_shape_rounding = RoundingType::ceil;
        check_pool(t, kind, nchw, {1, 5, 6, 6}, pc, o, 3, 3, 111);
        o.output_shape_rounding = RoundingType::floor;
        o.output_sizes = {3, 3};  // explicit sizes override the rounding
        check_pool(t, kind, nchw, {1, 5, 6, 6}, pc, o, 3, 3, 112);
        o.output_shape_rounding = RoundingType::ceil;
        o.output_sizes = {2, 2};
        check_pool(t, kind, nchw, {1, 5, 6, 6}, pc, o, 2, 2, 113);
      }
}

TEST(NormPoolPool, OutputSizesResetPaddingAsTheSpecSays) {
  // With outputSizes the spec sets padding to zeros: (5 - 2) / 2 + 1 = 2.5 admits [2, 2],
  // which the given padding (giving 3.5: [3, 3] or [4, 4]) would not.
  PoolCase zero{{2, 2}, {0, 0, 0, 0}, {2, 2}, {1, 1}};
  Pool2dOptions o = options_of(zero);
  o.padding = {1, 1, 1, 1};
  o.output_sizes = {2, 2};
  check_pool(kF32, Pool::average, true, {1, 2, 5, 5}, zero, o, 2, 2, 120);
}

TEST(NormPoolPool, GlobalPooling) {
  for (DataType t : {kF32, kF16})
    for (Pool kind : {Pool::average, Pool::l2, Pool::max}) {
      check_pool(t, kind, true, {2, 16, 7, 7}, {}, {}, 1, 1, 130);
      check_pool(t, kind, false, {2, 300, 7, 7}, {}, {}, 1, 1, 131);  // > 1 channel block
      check_pool(t, kind, true, {1, 3, 23, 45}, {}, {}, 1, 1, 132);   // odd sizes, long plane
    }
}

TEST(NormPoolPool, MaxPoolAllDataTypes) {
  PoolCase pc{{2, 3}, {1, 1, 1, 0}, {2, 1}, {1, 1}};
  // H: (5 - 2 + 2) / 2 + 1 = 3.5 -> 3; W: (6 - 3 + 1) / 1 + 1 = 5.
  for (DataType t : kAllDataTypes)
    for (bool nchw : {true, false}) {
      Dims shape = nchw ? Dims{2, 3, 5, 6} : Dims{2, 5, 6, 3};
      // Negative values (where signed) show that padding is not read as zero.
      Tensor x = random_tensor(t, shape, is_signed(t) ? -100 : 0, 100, 140);
      Pool2dOptions o = options_of(pc);
      o.layout = nchw ? InputLayout::nchw : InputLayout::nhwc;
      Tensor y = run_one(x, [&](GraphBuilder& b, Operand in) { return b.max_pool2d(in, o); });
      EXPECT_EQ(y.data_type(), t);
      expect_close(y, ref_pool(x, nchw, Pool::max, pc, 3, 5), {0, 0},
                   std::string(to_string(t)) + (nchw ? " nchw" : " nhwc"));
    }
}

TEST(NormPoolPool, WindowEntirelyInPaddingGivesTheEmptyReduction) {
  // W: (4 - 1 + 1) / 2 + 1 = 3 with "ceil"; the third window starts at 4, in the padding.
  // The spec does not say; these kernels give 0 for average and l2, -infinity for max.
  Pool2dOptions o;
  o.window_dimensions = {1, 1};
  o.strides = {1, 2};
  o.padding = {0, 0, 0, 1};
  o.output_shape_rounding = RoundingType::ceil;
  double inf = std::numeric_limits<double>::infinity();
  for (DataType t : {kF32, kF16}) {
    Tensor x = testing::tensor_from_doubles(t, {1, 1, 1, 4}, {-1, 2, -3, 4});
    auto run = [&](Pool kind) {
      return run_one(x, [&](GraphBuilder& b, Operand in) { return pool_op(b, kind, in, o); });
    };
    expect_close(run(Pool::average), {-1, -3, 0}, {0, 0}, "average");
    expect_close(run(Pool::l2), {1, 3, 0}, {0, 0}, "l2");
    expect_close(run(Pool::max), {-1, -3, -inf}, {0, 0}, "max");
  }
}

TEST(NormPoolPool, ValidationErrors) {
  GraphBuilder b;
  Operand x = b.input("x", kF32, {1, 2, 4, 4});
  Pool2dOptions big;
  big.window_dimensions = {3, 6};
  big.padding = {0, 0, 1, 0};
  expect_error([&] { b.max_pool2d(x, big); }, ErrorKind::TypeError,
               "window width 6 (dilated) is larger than the padded input 5");
  Pool2dOptions dilated;
  dilated.window_dimensions = {3, 3};
  dilated.dilations = {2, 1};
  expect_error([&] { b.average_pool2d(x, dilated); }, ErrorKind::TypeError,
               "window height 5 (dilated) is larger than the padded input 4");
  Pool2dOptions pad3;
  pad3.padding = {1, 1, 1};
  expect_error([&] { b.l2_pool2d(x, pad3); }, ErrorKind::TypeError,
               "padding must have 4 values, got 3");
  Pool2dOptions window1;
  window1.window_dimensions = {2};
  expect_error([&] { b.max_pool2d(x, window1); }, ErrorKind::TypeError,
               "windowDimensions must have 2 values");
  Pool2dOptions window0;
  window0.window_dimensions = {0, 2};
  expect_error([&] { b.max_pool2d(x, window0); }, ErrorKind::TypeError,
               "windowDimensions must all be greater than 0");
  Pool2dOptions stride0;
  stride0.strides = {1, 0};
  expect_error([&] { b.max_pool2d(x, stride0); }, ErrorKind::TypeError,
               "strides must all be greater than 0");
  Pool2dOptions dil0;
  dil0.dilations = {0, 1};
  expect_error([&] { b.max_pool2d(x, dil0); }, ErrorKind::TypeError,
               "dilations must all be greater than 0");
  Pool2dOptions sizes;
  sizes.window_dimensions = {2, 2};
  sizes.strides = {2, 2};
  sizes.output_sizes = {3, 2};  // (4 - 2) / 2 + 1 = 2 exactly
  expect_error([&] { b.average_pool2d(x, sizes); }, ErrorKind::TypeError,
               "must be the floor [2, 2] or the ceil [2, 2]");
  Operand xi = b.input("xi", DataType::int32, {1, 2, 4, 4});
  expect_error([&] { b.average_pool2d(xi); }, ErrorKind::TypeError,
               "operand 'input' has data type int32");
  expect_error([&] { b.l2_pool2d(xi); }, ErrorKind::TypeError, "data type int32");
  Operand x3 = b.input("x3", kF32, {2, 4, 4});
  expect_error([&] { b.max_pool2d(x3); }, ErrorKind::TypeError, "must be 4-D");
  Pool2dOptions labelled;
  labelled.label = "pool1";
  labelled.window_dimensions = {5, 5};
  expect_error([&] { b.max_pool2d(x, labelled); }, ErrorKind::TypeError, "maxPool2d 'pool1'");
  // The builder keeps working; integer max pooling is allowed.
  Operand y = b.max_pool2d(xi);
  EXPECT_EQ(y.shape(), (Dims{1, 2, 1, 1}));
  Graph g = b.build({{"y", y}});
  Tensor xt = Tensor::from(
      DataType::int32, {1, 2, 4, 4},
      std::vector<int32_t>{1,  2,  3,  4,  5,  6,  7,  8,  9,  10,  11,  12,  13,  14,  15,  16,
                           -1, -2, -3, -4, -5, -6, -7, -8, -9, -10, -11, -12, -13, -14, -15, -16});
  expect_close(run_cpu(g, {{"xi", xt}}).at("y"), {16, -1}, {0, 0});
}

}  // namespace
}  // namespace cppnn
