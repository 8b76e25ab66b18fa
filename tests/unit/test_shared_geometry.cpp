// The op math both backends share (src/graph/op_math/), on the host: window sizes and taps
// against brute force, conv filter strides against the layouts' row-major order, the
// reduction ops and their type admission, the reduce layout's groups, and resample2d's
// coordinates and blends against the spec's formulas.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <string>
#include <vector>

#include "core/checked.h"
#include "graph/op_math/layout.h"
#include "graph/op_math/reduce.h"
#include "graph/op_math/resample.h"
#include "graph/op_math/window.h"
#include "graph/op_math/window_attrs.h"

namespace cppnn::detail {
namespace {

namespace om = op_math;

TEST(SharedGeometry, FloorDivMatchesCheckedFloorDiv) {
  for (int64_t a = -50; a <= 50; ++a)
    for (int64_t b = 1; b <= 7; ++b)
      EXPECT_EQ(om::floor_div(a, b), floor_div(a, b)) << a << " / " << b;
  static_assert(om::floor_div(-1, 2) == -1 && om::floor_div(-4, 2) == -2 &&
                om::floor_div(5, 2) == 2);
}

// Window positions whose dilated taps all land in [0, input + pads), counted one by one.
int64_t brute_output_size(int64_t input, int64_t window, int64_t dilation, int64_t begin,
                          int64_t end, int64_t stride) {
  int64_t padded = input + begin + end, count = 0;
  for (int64_t start = 0; start + (window - 1) * dilation < padded; start += stride) ++count;
  return count;
}

TEST(SharedGeometry, ConvOutputSizes) {
  for (int64_t input = 1; input <= 9; ++input)
    for (int64_t window = 1; window <= 4; ++window)
      for (int64_t dilation = 1; dilation <= 3; ++dilation)
        for (int64_t begin = 0; begin <= 2; ++begin)
          for (int64_t end = 0; end <= 2; ++end)
            for (int64_t stride = 1; stride <= 3; ++stride) {
              int64_t want = brute_output_size(input, window, dilation, begin, end, stride);
              int64_t got = om::conv_output_size(input, window, dilation, begin, end, stride);
              if (want > 0)
                EXPECT_EQ(got, want);
              else
                EXPECT_LE(got, 0);
              // convTranspose2d's size is the largest whose conv gives `input` back.
              int64_t t =
                  om::conv_transpose_output_size(input, window, dilation, begin, end, stride);
              if (t > 0) {
                EXPECT_EQ(om::conv_output_size(t, window, dilation, begin, end, stride), input);
                EXPECT_EQ(om::conv_output_size(t + stride, window, dilation, begin, end, stride),
                          input + 1);
              }
            }
  EXPECT_EQ(om::dilated_size(3, 2), 5);
}

TEST(SharedGeometry, WindowTapsAreTheTapsInsideTheInput) {
  for (int64_t in = 1; in <= 7; ++in)
    for (int64_t window = 1; window <= 4; ++window)
      for (int64_t dilation = 1; dilation <= 3; ++dilation)
        for (int64_t pad = 0; pad <= 3; ++pad)
          for (int64_t stride = 1; stride <= 3; ++stride)
            for (int64_t out = 0; out <= 6; ++out) {
              std::vector<int64_t> inside;
              for (int64_t k = 0; k < window; ++k) {
                int64_t i = out * stride - pad + k * dilation;
                if (i >= 0 && i < in) inside.push_back(k);
              }
              auto t = om::window_taps<int64_t>(out, stride, pad, dilation, window, in);
              auto t32 = om::window_taps<int32_t>(int32_t(out), int32_t(stride), int32_t(pad),
                                                  int32_t(dilation), int32_t(window), int32_t(in));
              ASSERT_EQ(t.count(), int64_t(inside.size()));
              EXPECT_EQ(t.first, int64_t(t32.first));
              EXPECT_EQ(t.end, int64_t(t32.end));
              if (!inside.empty()) {
                EXPECT_EQ(t.first, inside.front());
                EXPECT_EQ(t.end, inside.back() + 1);
              }
              EXPECT_EQ(om::inverse_count(t.count()),
                        inside.empty() ? 0.0f : 1.0f / float(inside.size()));
            }
}

TEST(SharedGeometry, PoolCoversPlaneOnlyForOneUnpaddedWindow) {
  om::PoolWindow w;
  w.height = 5, w.width = 3, w.out_h = 1, w.out_w = 1, w.window_h = 5, w.window_w = 3;
  EXPECT_TRUE(om::pool_covers_plane(w));
  w.window_h = 7;  // a window past the end still takes every element once
  EXPECT_TRUE(om::pool_covers_plane(w));
  w.window_h = 4;  // misses the last row
  EXPECT_FALSE(om::pool_covers_plane(w));
  w.window_h = 5, w.pad_top = 1;
  EXPECT_FALSE(om::pool_covers_plane(w));
  w.pad_top = 0, w.dilation_w = 2;  // gaps between the taps
  EXPECT_FALSE(om::pool_covers_plane(w));
  w.width = 1, w.window_w = 1;  // one column: the dilation moves nothing
  EXPECT_TRUE(om::pool_covers_plane(w));
  w.out_h = 2;
  EXPECT_FALSE(om::pool_covers_plane(w));
}

TEST(SharedGeometry, PoolArithmetic) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  EXPECT_EQ((om::pool_identity<om::kPoolMax, float>()), -std::numeric_limits<float>::infinity());
  EXPECT_EQ((om::pool_identity<om::kPoolMax, int8_t>()), int8_t(-128));
  EXPECT_EQ((om::pool_identity<om::kPoolAverage, float>()), 0.0f);
  EXPECT_EQ(om::pool_combine<om::kPoolAverage>(1.5f, 2.0f), 3.5f);
  EXPECT_EQ(om::pool_combine<om::kPoolL2>(1.0f, 3.0f), 10.0f);
  EXPECT_EQ(om::pool_combine<om::kPoolMax>(1.0f, 3.0f), 3.0f);
  EXPECT_EQ(om::pool_combine<om::kPoolMax>(1.0f, nan), 1.0f);  // NaN never wins
}

// The row-major strides of a filter whose dims are named by the letters of `layout`.
std::map<char, int64_t> layout_strides(const std::string& layout,
                                       const std::map<char, int64_t>& dims) {
  std::map<char, int64_t> strides;
  int64_t s = 1;
  for (size_t i = layout.size(); i-- > 0;) {
    strides[layout[i]] = s;
    s *= dims.at(layout[i]);
  }
  return strides;
}

Dims shape_of(const std::string& layout, const std::map<char, int64_t>& dims) {
  Dims d;
  for (char c : layout) d.push_back(dims.at(c));
  return d;
}

Attrs conv_attrs(const std::string& input_layout, const std::string& filter_layout,
                 int64_t groups) {
  Attrs a;
  a.set("inputLayout", input_layout);
  a.set("filterLayout", filter_layout);
  a.set("groups", groups);
  a.set("padding", std::vector<int64_t>{1, 2, 3, 4});
  a.set("strides", std::vector<int64_t>{2, 3});
  a.set("dilations", std::vector<int64_t>{4, 5});
  return a;
}

TEST(SharedGeometry, ConvWindowFilterStrides) {
  const int64_t N = 2, C = 6, H = 11, W = 13, K = 9, OH = 4, OW = 5, KH = 2, KW = 3, G = 3;
  for (std::string input_layout : {"nchw", "nhwc"}) {
    Dims in = input_layout == "nchw" ? Dims{N, C, H, W} : Dims{N, H, W, C};
    Dims out = input_layout == "nchw" ? Dims{N, K, OH, OW} : Dims{N, OH, OW, K};
    for (bool transposed : {false, true}) {
      std::vector<std::string> layouts =
          transposed ? std::vector<std::string>{"iohw", "hwoi", "ohwi"}
                     : std::vector<std::string>{"oihw", "hwio", "ohwi", "ihwo"};
      // conv2d: o = all outputs, i = inputs per group; convTranspose2d the other way round.
      std::map<char, int64_t> dims =
          transposed ? std::map<char, int64_t>{{'o', K / G}, {'i', C}, {'h', KH}, {'w', KW}}
                     : std::map<char, int64_t>{{'o', K}, {'i', C / G}, {'h', KH}, {'w', KW}};
      for (const std::string& l : layouts) {
        SCOPED_TRACE(input_layout + " " + l + (transposed ? " transposed" : ""));
        om::ConvWindow s =
            om::conv_window(in, shape_of(l, dims), out, conv_attrs(input_layout, l, G), transposed);
        std::map<char, int64_t> want = layout_strides(l, dims);
        EXPECT_EQ(s.filter_o, want['o']);
        EXPECT_EQ(s.filter_i, want['i']);
        EXPECT_EQ(s.filter_h, want['h']);
        EXPECT_EQ(s.filter_w, want['w']);
        EXPECT_EQ(s.transposed, transposed);
        EXPECT_EQ(s.nhwc, input_layout == "nhwc");
        EXPECT_EQ(std::vector<int64_t>({s.n, s.c, s.h, s.w}), std::vector<int64_t>({N, C, H, W}));
        EXPECT_EQ(std::vector<int64_t>({s.k, s.oh, s.ow}), std::vector<int64_t>({K, OH, OW}));
        EXPECT_EQ(std::vector<int64_t>({s.kh, s.kw, s.groups}), std::vector<int64_t>({KH, KW, G}));
        EXPECT_EQ(std::vector<int64_t>({s.pad_top, s.pad_bottom, s.pad_left, s.pad_right}),
                  std::vector<int64_t>({1, 2, 3, 4}));
        EXPECT_EQ(std::vector<int64_t>({s.stride_h, s.stride_w, s.dil_h, s.dil_w}),
                  std::vector<int64_t>({2, 3, 4, 5}));
      }
    }
  }
}

TEST(SharedGeometry, PoolWindowFromAttributes) {
  Attrs a;
  a.set("layout", std::string("nhwc"));
  a.set("windowDimensions", std::vector<int64_t>{2, 3});
  a.set("padding", std::vector<int64_t>{1, 2, 3, 4});
  a.set("strides", std::vector<int64_t>{5, 6});
  a.set("dilations", std::vector<int64_t>{7, 8});
  om::PoolWindow w = om::pool_window(Dims{2, 10, 11, 3}, Dims{2, 4, 5, 3}, a);
  EXPECT_TRUE(w.nhwc);
  EXPECT_EQ(std::vector<int64_t>({w.batches, w.channels, w.height, w.width, w.out_h, w.out_w}),
            std::vector<int64_t>({2, 3, 10, 11, 4, 5}));
  EXPECT_EQ(std::vector<int64_t>({w.window_h, w.window_w, w.pad_top, w.pad_left, w.stride_h,
                                  w.stride_w, w.dilation_h, w.dilation_w}),
            std::vector<int64_t>({2, 3, 1, 3, 5, 6, 7, 8}));
}

// Folds `values` through an op as a kernel does, in order.
template <typename Op, typename E>
typename Op::Acc fold(const Op& op, const std::vector<E>& values, typename Op::Acc shift = {}) {
  typename Op::Acc acc = op.identity();
  for (E v : values) acc = op.combine(acc, op.map(v, shift));
  return op.finish(acc, shift);
}

TEST(SharedGeometry, ReduceOps) {
  std::vector<float> f{1.5f, -2.0f, 3.0f};
  EXPECT_EQ(fold(om::ReduceSum<float>{}, f), 2.5f);
  EXPECT_EQ(fold(om::ReduceL1<float>{}, f), 6.5f);
  EXPECT_EQ(fold(om::ReduceSumSquare<float>{}, f), 15.25f);
  EXPECT_EQ(fold(om::ReduceL2{}, f), std::sqrt(15.25f));
  EXPECT_EQ(fold(om::ReduceProduct<float>{}, f), -9.0f);
  EXPECT_EQ(fold(om::ReduceLogSum{}, std::vector<float>{2.0f, 3.0f}), std::log(5.0f));
  om::ReduceMean mean;
  mean.count = 3;
  EXPECT_EQ(fold(mean, f), 2.5f / 3.0f);
  EXPECT_EQ(fold(om::ReduceMax<float>{}, f), 3.0f);
  EXPECT_EQ(fold(om::ReduceMin<float>{}, f), -2.0f);
  // NaN never wins max or min; the identity of nothing is -inf / +inf or the type's extreme.
  const float nan = std::numeric_limits<float>::quiet_NaN();
  EXPECT_EQ(fold(om::ReduceMax<float>{}, std::vector<float>{nan, 1.0f}), 1.0f);
  EXPECT_EQ(fold(om::ReduceMin<int8_t>{}, std::vector<int8_t>{}), int8_t(127));
  // logSumExp finishes a sum of e^(x - shift) taken beforehand; an infinite shift is the result.
  EXPECT_EQ(om::ReduceLogSumExp{}.finish(2.0f, 1.0f), std::log(2.0f) + 1.0f);
  EXPECT_EQ(om::ReduceLogSumExp{}.finish(0.0f, -INFINITY), -INFINITY);
  // Integers sum, square and multiply in 64-bit unsigned arithmetic, wrapping like the type.
  std::vector<int32_t> i{std::numeric_limits<int32_t>::max(), 1};
  EXPECT_EQ(int32_t(fold(om::ReduceSum<int32_t>{}, i)), std::numeric_limits<int32_t>::min());
  std::vector<int32_t> j{std::numeric_limits<int32_t>::min(), -1, 2};
  EXPECT_EQ(int32_t(fold(om::ReduceL1<int32_t>{}, j)), std::numeric_limits<int32_t>::min() + 3);
  EXPECT_EQ(int64_t(fold(om::ReduceL1<int64_t>{}, std::vector<int64_t>{-5, 7})), 12);
  EXPECT_EQ(int32_t(fold(om::ReduceProduct<int32_t>{}, std::vector<int32_t>{-3, 4})), -12);
  EXPECT_EQ(uint32_t(fold(om::ReduceSumSquare<uint32_t>{}, std::vector<uint32_t>{65536u, 3u})), 9u);
}

// Which ops with_reduce_op admits for element type E.
template <typename E>
std::vector<int> admitted() {
  std::vector<int> kinds;
  for (int k = om::kReduceL1; k <= om::kReduceSumSquare; ++k)
    if (om::with_reduce_op<E>(om::ReduceKind(k), 4, [](auto) {})) kinds.push_back(k);
  return kinds;
}

TEST(SharedGeometry, ReduceOpAdmission) {
  std::vector<int> all;
  for (int k = om::kReduceL1; k <= om::kReduceSumSquare; ++k) all.push_back(k);
  EXPECT_EQ(admitted<float>(), all);
  std::vector<int> integer{om::kReduceL1,      om::kReduceMax, om::kReduceMin,
                           om::kReduceProduct, om::kReduceSum, om::kReduceSumSquare};
  EXPECT_EQ(admitted<int32_t>(), integer);
  EXPECT_EQ(admitted<uint64_t>(), integer);
  EXPECT_EQ(admitted<int8_t>(), (std::vector<int>{om::kReduceMax, om::kReduceMin}));
  float count = 0;
  om::with_reduce_op<float>(om::kReduceMean, 7, [&](auto op) {
    if constexpr (std::is_same_v<decltype(op), om::ReduceMean>) count = op.count;
  });
  EXPECT_EQ(count, 7.0f);
}

TEST(SharedGeometry, ArgBetterIsStrictAndNaNNeverWins) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  EXPECT_TRUE(om::arg_better<true>(2.0f, 1.0f));
  EXPECT_FALSE(om::arg_better<true>(1.0f, 1.0f));  // the first of ties stays
  EXPECT_FALSE(om::arg_better<true>(nan, 1.0f));
  EXPECT_FALSE(om::arg_better<true>(1.0f, nan));  // a NaN at position 0 stays
  EXPECT_TRUE(om::arg_better<false>(1, 2));
  EXPECT_FALSE(om::arg_better<false>(2, 2));
}

TEST(SharedGeometry, ReduceLayoutGroups) {
  // [2, 1, 3, 4, 5] reducing axes 2 and 3: kept {2} (the 1 dropped), reduced {3 * 4}, kept {5}.
  om::ReduceLayout l = om::reduce_layout(Dims{2, 1, 3, 4, 5}, {2, 3});
  EXPECT_FALSE(l.inner_reduced);
  EXPECT_EQ(l.inner, 5);
  EXPECT_EQ(l.kept_sizes, (std::vector<int64_t>{2}));
  EXPECT_EQ(l.kept_strides, (std::vector<int64_t>{60}));
  EXPECT_EQ(l.row_sizes, (std::vector<int64_t>{12}));
  EXPECT_EQ(l.row_strides, (std::vector<int64_t>{5}));
  EXPECT_EQ(l.out_count, 10);
  EXPECT_EQ(l.reduce_count, 12);
  // Reducing the innermost dims: rows are the other reduced groups.
  l = om::reduce_layout(Dims{4, 3, 2}, {0, 2});
  EXPECT_TRUE(l.inner_reduced);
  EXPECT_EQ(l.inner, 2);
  EXPECT_EQ(l.kept_sizes, (std::vector<int64_t>{3}));
  EXPECT_EQ(l.kept_strides, (std::vector<int64_t>{2}));
  EXPECT_EQ(l.row_sizes, (std::vector<int64_t>{4}));
  EXPECT_EQ(l.row_strides, (std::vector<int64_t>{6}));
  EXPECT_EQ(l.out_count, 3);
  EXPECT_EQ(l.reduce_count, 8);
  // All ones: a single element.
  l = om::reduce_layout(Dims{1, 1}, {0});
  EXPECT_EQ(l.out_count, 1);
  EXPECT_EQ(l.reduce_count, 1);
}

TEST(SharedGeometry, ResampleSplit) {
  om::ResampleSplit s = om::resample_split(Dims{2, 3, 4, 5, 6}, Dims{2, 7, 4, 8, 6}, {3, 1});
  EXPECT_EQ(std::vector<int64_t>({s.outer, s.mid, s.inner, s.in_h, s.in_w, s.out_h, s.out_w}),
            std::vector<int64_t>({2, 4, 6, 3, 5, 7, 8}));
}

TEST(SharedGeometry, ResampleCoordinates) {
  for (int64_t in = 1; in <= 9; ++in)
    for (int64_t out = 1; out <= 19; ++out)
      for (int64_t o = 0; o < out; ++o) {
        double scale = double(out) / double(in);
        double want = std::clamp((double(o) + 0.5) / scale - 0.5, 0.0, double(in - 1));
        double c = om::resample_input_coordinate(o, in, out);
        ASSERT_EQ(c, want);
        int64_t nearest = om::resample_nearest_index(o, in, out);
        EXPECT_EQ(nearest, int64_t(std::ceil(want - 0.5)));
        EXPECT_GE(nearest, 0);
        EXPECT_LT(nearest, in);
        om::ResampleTap t = om::resample_linear_tap(o, in, out);
        EXPECT_EQ(t.i0, int64_t(std::floor(want)));
        EXPECT_EQ(t.i1, int64_t(std::ceil(want)));
        EXPECT_EQ(t.t, float(want - std::floor(want)));
        EXPECT_LT(t.i1, in);
      }
}

TEST(SharedGeometry, ResampleBlends) {
  // Both forms are the bilinear value; at the corners exactly the corner.
  EXPECT_EQ(om::resample_blend_lerp(1, 2, 3, 4, 0, 0), 1.0f);
  EXPECT_EQ(om::resample_blend_lerp(1, 2, 3, 4, 1, 1), 4.0f);
  EXPECT_EQ(om::resample_blend_weighted(1, 2, 3, 4, 0, 1), 3.0f);
  EXPECT_EQ(om::resample_blend_weighted(1, 2, 3, 4, 0.5f, 0.5f), 2.5f);
  EXPECT_FLOAT_EQ(om::resample_blend_lerp(1, 2, 3, 4, 0.25f, 0.75f),
                  om::resample_blend_weighted(1, 2, 3, 4, 0.25f, 0.75f));
}

}  // namespace
}  // namespace cppnn::detail
