// Compiler passes: the structure they produce and the values of the fused graph against
// float64 references computed here.
#include <algorithm>
#include <map>

#include "backends/cpu/evaluator.h"
#include "compiler/passes.h"
#include "test_support.h"

namespace cppnn {
namespace {

using detail::GraphIR;
using testing::random_tensor;

// Fusion tests look at the fused node alone, without the layout pass's transposes.
// Constants fold with the CPU kernels, as every backend and the engine builder fold them.
const detail::PassOptions kNoLayout = [] {
  detail::PassOptions o = detail::cpu_pass_options();
  o.channels_last = false;
  return o;
}();

std::vector<double> naive_conv_nchw(const Tensor& x, const Tensor& w, const std::vector<double>& bias,
                                    int64_t pad) {
  auto xv = x.to_doubles(), wv = w.to_doubles();
  int64_t N = x.shape()[0], C = x.shape()[1], H = x.shape()[2], W = x.shape()[3];
  int64_t O = w.shape()[0], K = w.shape()[2];
  int64_t OH = H + 2 * pad - K + 1, OW = W + 2 * pad - K + 1;
  std::vector<double> out(size_t(N * O * OH * OW));
  for (int64_t n = 0; n < N; ++n)
    for (int64_t o = 0; o < O; ++o)
      for (int64_t y = 0; y < OH; ++y)
        for (int64_t xx = 0; xx < OW; ++xx) {
          double acc = bias.empty() ? 0 : bias[size_t(o)];
          for (int64_t c = 0; c < C; ++c)
            for (int64_t ky = 0; ky < K; ++ky)
              for (int64_t kx = 0; kx < K; ++kx) {
                int64_t iy = y + ky - pad, ix = xx + kx - pad;
                if (iy < 0 || iy >= H || ix < 0 || ix >= W) continue;
                acc += xv[size_t(((n * C + c) * H + iy) * W + ix)] *
                       wv[size_t(((o * C + c) * K + ky) * K + kx)];
              }
          out[size_t(((n * O + o) * OH + y) * OW + xx)] = acc;
        }
  return out;
}

const detail::Node* find_node(const GraphIR& g, detail::OpId op) {
  for (const auto& n : g.nodes)
    if (n.op == op) return &n;
  return nullptr;
}

TEST(Compiler, ConvBiasResidualReluFuseIntoOneNode) {
  GraphBuilder b;
  Tensor xt = random_tensor(DataType::float32, {2, 4, 6, 5}, -1, 1, 1);
  Tensor wt = random_tensor(DataType::float32, {4, 4, 3, 3}, -1, 1, 2);
  Tensor bt = random_tensor(DataType::float32, {1, 4, 1, 1}, -1, 1, 3);
  Operand x = b.input("x", DataType::float32, xt.shape());
  Conv2dOptions co;
  co.padding = {1, 1, 1, 1};
  Operand conv = b.conv2d(x, b.constant(wt), co);
  Operand biased = b.add(conv, b.constant(bt));
  Operand res = b.add(biased, x);
  Graph g = b.build({{"y", b.relu(res)}});
  ASSERT_EQ(g.node_count(), 4u);

  auto opt = detail::optimize(g.ir_ptr(), kNoLayout);
  ASSERT_EQ(opt->nodes.size(), 1u);
  const detail::Node& n = opt->nodes[0];
  EXPECT_EQ(n.op, detail::OpId::conv2d);
  ASSERT_EQ(n.inputs.size(), 4u);
  EXPECT_NE(n.inputs[2], detail::kNoOperand);
  EXPECT_EQ(n.inputs[3], opt->inputs.at("x"));
  EXPECT_EQ(n.attrs.s("activation"), "relu");

  std::vector<double> bias = bt.to_doubles();
  std::vector<double> want = naive_conv_nchw(xt, wt, bias, 1);
  std::vector<double> xv = xt.to_doubles();
  for (size_t i = 0; i < want.size(); ++i) want[i] = std::max(0.0, want[i] + xv[i]);
  testing::expect_close(testing::run_cpu(g, {{"x", xt}}).at("y"), want, {1e-4, 1e-4});
}

TEST(Compiler, SharedIntermediateIsNotFused) {
  GraphBuilder b;
  Tensor wt = random_tensor(DataType::float32, {3, 3, 1, 1}, -1, 1, 2);
  Operand x = b.input("x", DataType::float32, {1, 3, 4, 4});
  Operand conv = b.conv2d(x, b.constant(wt));
  // conv feeds both relu and the second output: fusing relu would change that output.
  Graph g = b.build({{"a", b.relu(conv)}, {"b", b.sigmoid(conv)}});
  auto opt = detail::optimize(g.ir_ptr(), kNoLayout);
  EXPECT_EQ(opt->nodes.size(), 3u);
  EXPECT_FALSE(find_node(*opt, detail::OpId::conv2d)->attrs.has("activation"));
}

TEST(Compiler, ClampAfterConvBecomesClampActivation) {
  GraphBuilder b;
  Tensor xt = random_tensor(DataType::float32, {1, 2, 5, 5}, -3, 3, 4);
  Tensor wt = random_tensor(DataType::float32, {2, 2, 3, 3}, -1, 1, 5);
  Operand x = b.input("x", DataType::float32, xt.shape());
  ClampOptions c;
  c.min_value = 0;
  c.max_value = 6;
  Graph g = b.build({{"y", b.clamp(b.conv2d(x, b.constant(wt)), c)}});
  auto opt = detail::optimize(g.ir_ptr(), kNoLayout);
  ASSERT_EQ(opt->nodes.size(), 1u);
  EXPECT_EQ(opt->nodes[0].attrs.s("activation"), "clamp");
  EXPECT_EQ(opt->nodes[0].attrs.f("activationMax"), 6.0);
  std::vector<double> want = naive_conv_nchw(xt, wt, {}, 0);
  for (double& v : want) v = std::min(6.0, std::max(0.0, v));
  testing::expect_close(testing::run_cpu(g, {{"x", xt}}).at("y"), want, {1e-4, 1e-4});
}

TEST(Compiler, MatmulBiasGeluFuse) {
  GraphBuilder b;
  Tensor at = random_tensor(DataType::float32, {2, 3, 8}, -1, 1, 6);
  Tensor wt = random_tensor(DataType::float32, {8, 5}, -1, 1, 7);
  Tensor bt = random_tensor(DataType::float32, {5}, -1, 1, 8);
  Operand a = b.input("a", DataType::float32, at.shape());
  Graph g = b.build({{"y", b.gelu(b.add(b.matmul(a, b.constant(wt)), b.constant(bt)))}});
  auto opt = detail::optimize(g.ir_ptr(), kNoLayout);
  ASSERT_EQ(opt->nodes.size(), 1u);
  EXPECT_EQ(opt->nodes[0].attrs.s("activation"), "gelu");
  auto av = at.to_doubles(), wv = wt.to_doubles(), bv = bt.to_doubles();
  std::vector<double> want(2 * 3 * 5);
  for (int r = 0; r < 6; ++r)
    for (int j = 0; j < 5; ++j) {
      double acc = bv[size_t(j)];
      for (int k = 0; k < 8; ++k) acc += av[size_t(r * 8 + k)] * wv[size_t(k * 5 + j)];
      want[size_t(r * 5 + j)] = 0.5 * acc * (1 + std::erf(acc / std::sqrt(2.0)));
    }
  testing::expect_close(testing::run_cpu(g, {{"a", at}}).at("y"), want, {1e-4, 1e-4});
}

// The erf spellings of GELU that exporters write become one gelu node, which then goes into
// the matmul's epilogue; a near miss (a wrong constant, an intermediate read elsewhere) stays.
TEST(Compiler, ErfGeluSpellingsBecomeGelu) {
  Tensor at = random_tensor(DataType::float32, {2, 3, 8}, -2, 2, 6);
  Tensor wt = random_tensor(DataType::float32, {8, 5}, -1, 1, 7);
  auto scalar = [](GraphBuilder& b, double v) { return b.constant(DataType::float32, v); };
  // 0: (x * 0.5) * (1 + erf(x / sqrt2))   1: x * (1 + erf(x * (1/sqrt2))) * 0.5
  // 2: (0.5 * (1 + erf(x / sqrt2))) * x    3: divisor 1.5 (no GELU)   4: erf read twice
  for (int form = 0; form < 5; ++form) {
    SCOPED_TRACE(form);
    GraphBuilder b;
    Operand a = b.input("a", DataType::float32, at.shape());
    Operand x = b.matmul(a, b.constant(wt));
    Operand d = form == 1 ? b.mul(scalar(b, 0.7071067811865476), x)
                          : b.div(x, scalar(b, form == 3 ? 1.5 : 1.4142135623730951));
    Operand e = b.erf(d);
    Operand one_plus = b.add(scalar(b, 1), e);
    Operand y;
    if (form == 1)
      y = b.mul(b.mul(x, one_plus), scalar(b, 0.5));
    else if (form == 2)
      y = b.mul(b.mul(scalar(b, 0.5), one_plus), x);
    else
      y = b.mul(b.mul(x, scalar(b, 0.5)), one_plus);
    std::map<std::string, Operand> outs{{"y", y}};
    if (form == 4) outs["e"] = e;
    Graph g = b.build(outs);
    auto opt = detail::optimize(g.ir_ptr(), kNoLayout);
    bool fused = form <= 2;
    EXPECT_EQ(find_node(*opt, detail::OpId::erf) == nullptr, fused) << g.summary();
    if (fused) {
      ASSERT_EQ(opt->nodes.size(), 1u);
      EXPECT_EQ(opt->nodes[0].attrs.s("activation"), "gelu");
    }
    auto av = at.to_doubles(), wv = wt.to_doubles();
    double divisor = form == 3 ? 1.5 : std::sqrt(2.0);
    std::vector<double> want(2 * 3 * 5);
    for (int r = 0; r < 6; ++r)
      for (int j = 0; j < 5; ++j) {
        double acc = 0;
        for (int k = 0; k < 8; ++k) acc += av[size_t(r * 8 + k)] * wv[size_t(k * 5 + j)];
        want[size_t(r * 5 + j)] = 0.5 * acc * (1 + std::erf(acc / divisor));
      }
    testing::expect_close(testing::run_cpu(g, {{"a", at}}).at("y"), want, {1e-5, 1e-5});
  }
}

TEST(Compiler, ConstantSubgraphsFold) {
  GraphBuilder b;
  Operand x = b.input("x", DataType::float32, {3});
  Operand c1 = b.constant(Tensor::from(DataType::float32, {3}, std::vector<float>{1, 2, 3}));
  Operand c2 = b.mul(c1, c1);  // constant: folds
  Graph g = b.build({{"y", b.add(x, c2)}});
  auto opt = detail::optimize(g.ir_ptr(), kNoLayout);
  ASSERT_EQ(opt->nodes.size(), 1u);
  EXPECT_EQ(opt->nodes[0].op, detail::OpId::add);
  Tensor xt = Tensor::from(DataType::float32, {3}, std::vector<float>{1, 1, 1});
  testing::expect_close(testing::run_cpu(g, {{"x", xt}}).at("y"), {2, 5, 10}, {0, 0});
}

// The passes compute nothing themselves: without an evaluator from the caller, constant
// subgraphs stay runtime ops; with one, only the ops it says it can compute fold.
TEST(Compiler, FoldingNeedsAnEvaluator) {
  GraphBuilder b;
  Operand x = b.input("x", DataType::float32, {3});
  Operand c1 = b.constant(Tensor::from(DataType::float32, {3}, std::vector<float>{1, 2, 3}));
  Graph g = b.build({{"y", b.add(x, b.neg(b.mul(c1, c1)))}});
  detail::PassOptions none = kNoLayout;
  none.evaluator = {};
  EXPECT_EQ(detail::optimize(g.ir_ptr(), none)->nodes.size(), 3u);

  detail::PassOptions only_mul = kNoLayout;
  std::vector<detail::OpId> asked;
  only_mul.evaluator.can_evaluate = [&](detail::OpId op) {
    asked.push_back(op);
    return op == detail::OpId::mul;
  };
  auto opt = detail::optimize(g.ir_ptr(), only_mul);
  EXPECT_EQ(opt->nodes.size(), 2u);  // mul folded; neg of the folded constant was not
  EXPECT_EQ(asked, (std::vector<detail::OpId>{detail::OpId::mul, detail::OpId::neg}));
  Tensor xt = Tensor::from(DataType::float32, {3}, std::vector<float>{1, 1, 1});
  testing::expect_close(testing::run_cpu(g, {{"x", xt}}).at("y"), {0, -3, -8}, {0, 0});
}

TEST(Compiler, ResidualThatDiesAtTheConvIsOverwrittenInPlace) {
  // h is an intermediate whose last reader is the fused conv: the plan writes the conv's
  // result over h. The values must still be conv(sigmoid(h)) + h. NHWC, so no layout
  // transposes stand between the conv and the add.
  const int64_t H = 5, W = 4, C = 3;
  GraphBuilder b;
  Tensor xt = random_tensor(DataType::float32, {1, H, W, C}, -2, 2, 21);
  Tensor wt = random_tensor(DataType::float32, {C, C, 3, 3}, -1, 1, 22);
  Operand x = b.input("x", DataType::float32, xt.shape());
  Operand h = b.relu(x);
  Conv2dOptions co;
  co.padding = {1, 1, 1, 1};
  co.input_layout = InputLayout::nhwc;
  // neg keeps the conv's result from being the graph output (outputs get their own memory).
  Graph g = b.build({{"y", b.neg(b.add(b.conv2d(b.sigmoid(h), b.constant(wt), co), h))}});
  auto opt = detail::optimize(g.ir_ptr(), detail::cpu_pass_options());
  const detail::Node* conv = find_node(*opt, detail::OpId::conv2d);
  ASSERT_NE(conv, nullptr);
  ASSERT_EQ(conv->inputs.size(), 4u);  // the residual add was fused

  std::vector<double> hv = xt.to_doubles();  // NHWC
  for (double& v : hv) v = std::max(0.0, v);
  std::vector<double> s_nchw(hv.size());
  for (int64_t y = 0; y < H; ++y)
    for (int64_t xx = 0; xx < W; ++xx)
      for (int64_t c = 0; c < C; ++c)
        s_nchw[size_t((c * H + y) * W + xx)] = 1 / (1 + std::exp(-hv[size_t((y * W + xx) * C + c)]));
  Tensor st = testing::tensor_from_doubles(DataType::float32, {1, C, H, W}, s_nchw);
  std::vector<double> conv_nchw = naive_conv_nchw(st, wt, {}, 1);
  std::vector<double> want(hv.size());
  for (int64_t y = 0; y < H; ++y)
    for (int64_t xx = 0; xx < W; ++xx)
      for (int64_t c = 0; c < C; ++c)
        want[size_t((y * W + xx) * C + c)] =
            -(conv_nchw[size_t((c * H + y) * W + xx)] + hv[size_t((y * W + xx) * C + c)]);
  testing::expect_close(testing::run_cpu(g, {{"x", xt}}).at("y"), want, {1e-5, 1e-5});
}

size_t count_op(const GraphIR& g, detail::OpId op) {
  return size_t(std::count_if(g.nodes.begin(), g.nodes.end(),
                              [&](const detail::Node& n) { return n.op == op; }));
}

TEST(Compiler, ChannelsLastChainKeepsOneTransposeAtEachEdge) {
  // conv -> +bias -> relu -> conv -> +residual -> relu -> maxPool -> conv, all NCHW.
  GraphBuilder b;
  Tensor xt = random_tensor(DataType::float32, {2, 4, 7, 6}, -1, 1, 11);
  Tensor w1 = random_tensor(DataType::float32, {4, 4, 3, 3}, -0.5, 0.5, 12);
  Tensor w2 = random_tensor(DataType::float32, {4, 4, 1, 1}, -0.5, 0.5, 13);
  Tensor w3 = random_tensor(DataType::float32, {3, 4, 1, 1}, -0.5, 0.5, 14);
  Tensor bt = random_tensor(DataType::float32, {4, 1, 1}, -1, 1, 15);
  Operand x = b.input("x", DataType::float32, xt.shape());
  Conv2dOptions pad1;
  pad1.padding = {1, 1, 1, 1};
  Operand h = b.relu(b.add(b.conv2d(x, b.constant(w1), pad1), b.constant(bt)));
  Operand r = b.relu(b.add(b.conv2d(h, b.constant(w2)), x));
  Pool2dOptions po;
  po.window_dimensions = {2, 2};
  po.strides = {2, 2};
  Operand y = b.conv2d(b.max_pool2d(r, po), b.constant(w3));
  Graph g = b.build({{"y", y}});

  auto opt = detail::optimize(g.ir_ptr(), detail::cpu_pass_options());
  EXPECT_EQ(count_op(*opt, detail::OpId::transpose), 2u) << Graph(opt).summary();
  EXPECT_EQ(count_op(*opt, detail::OpId::conv2d), 3u);
  for (const auto& n : opt->nodes)
    if (n.op == detail::OpId::conv2d) {
      EXPECT_EQ(n.attrs.s("inputLayout"), "nhwc");
    }

  // Reference: the same network in float64, NCHW, with naive loops.
  std::vector<double> bias = bt.to_doubles();
  std::vector<double> hv = naive_conv_nchw(xt, w1, bias, 1);
  for (double& v : hv) v = std::max(0.0, v);
  Tensor ht = testing::tensor_from_doubles(DataType::float32, {2, 4, 7, 6}, hv);
  std::vector<double> rv = naive_conv_nchw(ht, w2, {}, 0);
  std::vector<double> xv = xt.to_doubles();
  for (size_t i = 0; i < rv.size(); ++i) rv[i] = std::max(0.0, rv[i] + xv[i]);
  std::vector<double> pv(2 * 4 * 3 * 3);
  for (int n = 0; n < 2; ++n)
    for (int c = 0; c < 4; ++c)
      for (int i = 0; i < 3; ++i)
        for (int j = 0; j < 3; ++j) {
          double m = -1e300;
          for (int di = 0; di < 2; ++di)
            for (int dj = 0; dj < 2; ++dj)
              m = std::max(m, rv[size_t(((n * 4 + c) * 7 + 2 * i + di) * 6 + 2 * j + dj)]);
          pv[size_t(((n * 4 + c) * 3 + i) * 3 + j)] = m;
        }
  Tensor pt = testing::tensor_from_doubles(DataType::float32, {2, 4, 3, 3}, pv);
  std::vector<double> want = naive_conv_nchw(pt, w3, {}, 0);
  testing::expect_close(testing::run_cpu(g, {{"x", xt}}).at("y"), want, {1e-4, 1e-4});
}


// A squeeze-excite block (global mean, two 1x1 convs, sigmoid, channel scale) between two
// convs stays channels-last: the mean reduces NHWC axes, the [N, C, 1, 1] scale joins the
// product through a reshape, and the chain keeps one transpose at each edge.
TEST(Compiler, SqueezeExciteStaysChannelsLast) {
  for (bool keep : {true, false}) {
    SCOPED_TRACE(keep);
    GraphBuilder b;
    Tensor xt = random_tensor(DataType::float32, {2, 8, 5, 6}, -1, 1, 21);
    Tensor w0 = random_tensor(DataType::float32, {8, 8, 1, 1}, -0.5, 0.5, 22);
    Tensor wa = random_tensor(DataType::float32, {2, 8, 1, 1}, -0.5, 0.5, 23);
    Tensor wb = random_tensor(DataType::float32, {8, 2, 1, 1}, -0.5, 0.5, 24);
    Tensor w1 = random_tensor(DataType::float32, {3, 8, 1, 1}, -0.5, 0.5, 25);
    Operand x = b.input("x", DataType::float32, xt.shape());
    Operand h = b.conv2d(x, b.constant(w0));
    ReduceOptions ro;
    ro.axes = std::vector<uint32_t>{2, 3};
    ro.keep_dimensions = keep;
    Operand m = b.reduce_mean(h, ro);
    if (!keep) m = b.reshape(m, {2, 8, 1, 1});
    Operand s = b.sigmoid(b.conv2d(b.relu(b.conv2d(m, b.constant(wa))), b.constant(wb)));
    Operand y = b.conv2d(b.mul(h, s), b.constant(w1));
    Graph g = b.build({{"y", y}});
    auto opt = detail::optimize(g.ir_ptr(), detail::cpu_pass_options());
    EXPECT_EQ(count_op(*opt, detail::OpId::transpose), 2u) << Graph(opt).summary();

    // float64 reference in NCHW.
    std::vector<double> hv = naive_conv_nchw(xt, w0, {}, 0);
    std::vector<double> mean(16, 0);
    for (size_t i = 0; i < hv.size(); ++i) mean[i / 30] += hv[i] / 30;
    auto matvec = [](const Tensor& w, const std::vector<double>& v, int out, int in) {
      std::vector<double> r(size_t(2 * out), 0);
      auto wv = w.to_doubles();
      for (int n = 0; n < 2; ++n)
        for (int o = 0; o < out; ++o)
          for (int c = 0; c < in; ++c) r[size_t(n * out + o)] += wv[size_t(o * in + c)] * v[size_t(n * in + c)];
      return r;
    };
    std::vector<double> a = matvec(wa, mean, 2, 8);
    for (double& v : a) v = std::max(0.0, v);
    std::vector<double> sc = matvec(wb, a, 8, 2);
    for (double& v : sc) v = 1 / (1 + std::exp(-v));
    for (size_t i = 0; i < hv.size(); ++i) hv[i] *= sc[i / 30];
    Tensor ht = testing::tensor_from_doubles(DataType::float32, {2, 8, 5, 6}, hv);
    testing::expect_close(testing::run_cpu(g, {{"x", xt}}).at("y"), naive_conv_nchw(ht, w1, {}, 0),
                          {1e-4, 1e-4});
  }
}


// SiLU after a conv (y * sigmoid(y)) goes into the CPU plan's conv as oneDNN's swish; with y
// read by a third node it stays apart. Values against float64 either way.
TEST(Compiler, SiluAfterConvIsTheCpuPlansSwishEpilogue) {
  for (bool third_reader : {false, true}) {
    SCOPED_TRACE(third_reader);
    GraphBuilder b;
    Tensor xt = random_tensor(DataType::float32, {1, 3, 5, 4}, -2, 2, 31);
    Tensor wt = random_tensor(DataType::float32, {4, 3, 1, 1}, -1, 1, 32);
    Operand x = b.input("x", DataType::float32, xt.shape());
    Operand y = b.conv2d(x, b.constant(wt));
    std::map<std::string, Operand> outs{{"silu", b.mul(y, b.sigmoid(y))}};
    if (third_reader) outs["y"] = y;
    Graph g = b.build(outs);
    auto opt = std::make_shared<detail::GraphIR>(*detail::optimize(g.ir_ptr(), kNoLayout));
    detail::fuse_swish(*opt);
    detail::remove_dead_code(*opt);
    EXPECT_EQ(count_op(*opt, detail::OpId::sigmoid), third_reader ? 1u : 0u) << Graph(opt).summary();
    const detail::Node* conv = find_node(*opt, detail::OpId::conv2d);
    ASSERT_NE(conv, nullptr);
    EXPECT_EQ(conv->attrs.s_or("activation", ""), third_reader ? "" : "swish");
    std::vector<double> want = naive_conv_nchw(xt, wt, {}, 0);
    for (double& v : want) v = v / (1 + std::exp(-v));
    testing::expect_close(testing::run_cpu(g, {{"x", xt}}).at("silu"), want, {1e-5, 1e-5});
    if (!third_reader) {
      EXPECT_NE(Context::create().report(g).find("+swish"), std::string::npos);
    }
  }
}


// Attention's head splits, k^T (with PyTorch's scale after the transpose) and the merge of
// heads fold into the CPU plan's batched matmuls as strided reads and writes.
TEST(Compiler, TransposesAroundBatchedMatmulsFoldIntoStrides) {
  const int64_t N = 2, S = 5, H = 3, D = 4;
  GraphBuilder b;
  Tensor qt = random_tensor(DataType::float32, {N, S, H, D}, -1, 1, 41);
  Tensor kt = random_tensor(DataType::float32, {N, S, H, D}, -1, 1, 42);
  Tensor vt = random_tensor(DataType::float32, {N, S, H, D}, -1, 1, 43);
  Operand q = b.input("q", DataType::float32, qt.shape());
  Operand k = b.input("k", DataType::float32, kt.shape());
  Operand v = b.input("v", DataType::float32, vt.shape());
  TransposeOptions heads, keys;
  heads.permutation = std::vector<uint32_t>{0, 2, 1, 3};
  keys.permutation = std::vector<uint32_t>{0, 2, 3, 1};
  Operand scores = b.matmul(b.mul(b.transpose(q, heads), b.constant(DataType::float32, 0.5)),
                            b.transpose(k, keys));
  Operand o = b.matmul(scores, b.transpose(v, heads));
  Graph g = b.build({{"y", b.transpose(o, heads)}});
  auto opt = std::make_shared<detail::GraphIR>(*detail::optimize(g.ir_ptr(), kNoLayout));
  detail::fold_transposes_into_matmul(*opt);
  detail::remove_dead_code(*opt);
  EXPECT_EQ(count_op(*opt, detail::OpId::transpose), 0u) << Graph(opt).summary();

  auto qv = qt.to_doubles(), kv = kt.to_doubles(), vv = vt.to_doubles();
  auto at = [&](const std::vector<double>& x, int64_t n, int64_t s, int64_t h, int64_t d) {
    return x[size_t(((n * S + s) * H + h) * D + d)];
  };
  std::vector<double> want(size_t(N * S * H * D), 0);
  for (int64_t n = 0; n < N; ++n)
    for (int64_t h = 0; h < H; ++h)
      for (int64_t i = 0; i < S; ++i)
        for (int64_t j = 0; j < S; ++j) {
          double sc = 0;
          for (int64_t d = 0; d < D; ++d) sc += 0.5 * at(qv, n, i, h, d) * at(kv, n, j, h, d);
          for (int64_t d = 0; d < D; ++d) want[size_t(((n * S + i) * H + h) * D + d)] += sc * at(vv, n, j, h, d);
        }
  testing::expect_close(testing::run_cpu(g, {{"q", qt}, {"k", kt}, {"v", vt}}).at("y"), want,
                        {1e-5, 1e-5});
}


// A DenseNet block (conv, concat with its input along channels, batch norm that folds into
// no conv, relu, conv) stays channels-last: one transpose at each edge.
TEST(Compiler, DenseBlockConcatAndBatchNormStayChannelsLast) {
  GraphBuilder b;
  Tensor xt = random_tensor(DataType::float32, {2, 3, 4, 5}, -1, 1, 51);
  Tensor w0 = random_tensor(DataType::float32, {3, 3, 1, 1}, -1, 1, 52);
  Tensor w1 = random_tensor(DataType::float32, {2, 6, 1, 1}, -1, 1, 53);
  Tensor mt = random_tensor(DataType::float32, {6}, -1, 1, 54);
  Tensor vt = random_tensor(DataType::float32, {6}, 0.5, 2, 55);
  Tensor st = random_tensor(DataType::float32, {6}, 0.5, 2, 56);
  Tensor bt = random_tensor(DataType::float32, {6}, -1, 1, 57);
  Operand x = b.input("x", DataType::float32, xt.shape());
  Operand h = b.conv2d(x, b.constant(w0));
  Operand cat = b.concat({b.conv2d(h, b.constant(w0)), h}, 1);
  BatchNormalizationOptions bo;
  bo.scale = b.constant(st);
  bo.bias = b.constant(bt);
  Operand y = b.conv2d(b.relu(b.batch_normalization(cat, b.constant(mt), b.constant(vt), bo)),
                       b.constant(w1));
  Graph g = b.build({{"y", y}});
  auto opt = detail::optimize(g.ir_ptr(), detail::cpu_pass_options());
  EXPECT_EQ(count_op(*opt, detail::OpId::transpose), 2u) << Graph(opt).summary();

  std::vector<double> hv = naive_conv_nchw(xt, w0, {}, 0);
  Tensor ht = testing::tensor_from_doubles(DataType::float32, {2, 3, 4, 5}, hv);
  std::vector<double> h2 = naive_conv_nchw(ht, w0, {}, 0);
  auto mv = mt.to_doubles(), vv = vt.to_doubles(), sv = st.to_doubles(), bv = bt.to_doubles();
  std::vector<double> cv(2 * 6 * 20);
  for (int n = 0; n < 2; ++n)
    for (int c = 0; c < 6; ++c)
      for (int p = 0; p < 20; ++p) {
        double v = c < 3 ? h2[size_t((n * 3 + c) * 20 + p)] : hv[size_t((n * 3 + c - 3) * 20 + p)];
        v = (v - mv[size_t(c)]) / std::sqrt(vv[size_t(c)] + 1e-5) * sv[size_t(c)] + bv[size_t(c)];
        cv[size_t((n * 6 + c) * 20 + p)] = std::max(0.0, v);
      }
  Tensor ct = testing::tensor_from_doubles(DataType::float32, {2, 6, 4, 5}, cv);
  testing::expect_close(testing::run_cpu(g, {{"x", xt}}).at("y"), naive_conv_nchw(ct, w1, {}, 0),
                        {1e-4, 1e-4});
}


// A feature pyramid's upsampling (resample2d) and a transposed conv stay channels-last
// between convs: two transposes in all (PP-OCR's detector had a pair around each of its six
// Resize nodes and its two ConvTranspose nodes), and the values are those of the NCHW graph.
TEST(Compiler, ResampleAndTransposedConvStayChannelsLast) {
  Tensor xt = random_tensor(DataType::float32, {2, 3, 4, 5}, -1, 1, 61);
  Tensor w0 = random_tensor(DataType::float32, {4, 3, 1, 1}, -1, 1, 62);
  Tensor w1 = random_tensor(DataType::float32, {2, 4, 1, 1}, -1, 1, 63);
  Tensor wt = random_tensor(DataType::float32, {2, 3, 2, 2}, -1, 1, 64);
  for (bool transposed : {false, true}) {
    SCOPED_TRACE(transposed);
    GraphBuilder b;
    Operand x = b.input("x", DataType::float32, xt.shape());
    Resample2dOptions ro;
    ro.scales = {2.0f, 2.0f};
    Operand up = b.resample2d(b.conv2d(x, b.constant(w0)), ro);
    Operand y = b.conv2d(up, b.constant(w1));
    if (transposed) {
      ConvTranspose2dOptions to;
      to.strides = {2, 2};
      y = b.conv_transpose2d(y, b.constant(wt), to);
    }
    Graph g = b.build({{"y", y}});
    auto opt = detail::optimize(g.ir_ptr(), detail::cpu_pass_options());
    EXPECT_EQ(count_op(*opt, detail::OpId::transpose), 2u) << Graph(opt).summary();
    if (transposed) continue;  // the values of transposed convs: test_ops_conv.cpp
    std::vector<double> h = naive_conv_nchw(xt, w0, {}, 0), hu(2 * 4 * 8 * 10);
    for (int n = 0; n < 2; ++n)
      for (int c = 0; c < 4; ++c)
        for (int i = 0; i < 8; ++i)
          for (int j = 0; j < 10; ++j)
            hu[size_t(((n * 4 + c) * 8 + i) * 10 + j)] = h[size_t(((n * 4 + c) * 4 + i / 2) * 5 + j / 2)];
    Tensor ht = testing::tensor_from_doubles(DataType::float32, {2, 4, 8, 10}, hu);
    testing::expect_close(testing::run_cpu(g, {{"x", xt}}).at("y"), naive_conv_nchw(ht, w1, {}, 0),
                          {1e-5, 1e-5});
  }
}


// A ShuffleNet V2 block: conv, the channel halves (split, or two slices), a conv on one
// half, concat, the channel shuffle (reshape to [N, 2, C/2, H, W], transpose (0, 2, 1, 3,
// 4), reshape back) and a conv stays channels-last: two transposes in all (torchvision's
// ShuffleNet V2 had 51, a third of its time on 2 cores); values against float64.
TEST(Compiler, ShuffleBlockSplitAndChannelShuffleStayChannelsLast) {
  const int64_t N = 2, C = 4, H = 5, W = 6, P = H * W;
  Tensor xt = random_tensor(DataType::float32, {N, C, H, W}, -1, 1, 71);
  Tensor w0 = random_tensor(DataType::float32, {C, C, 1, 1}, -1, 1, 72);
  Tensor w1 = random_tensor(DataType::float32, {C / 2, C / 2, 1, 1}, -1, 1, 73);
  Tensor w2 = random_tensor(DataType::float32, {3, C, 1, 1}, -1, 1, 74);
  // float64: h = conv(x), b = conv(h[:, C/2:]), cat = [h[:, :C/2], b], shuffled channel
  // k = cat channel (k % 2) * C/2 + k / 2, y = conv(shuffled).
  std::vector<double> h = naive_conv_nchw(xt, w0, {}, 0);
  std::vector<double> upper(size_t(N * C / 2 * P));
  for (int64_t n = 0; n < N; ++n)
    for (int64_t c = 0; c < C / 2; ++c)
      for (int64_t p = 0; p < P; ++p) upper[size_t((n * C / 2 + c) * P + p)] = h[size_t((n * C + C / 2 + c) * P + p)];
  std::vector<double> bv =
      naive_conv_nchw(testing::tensor_from_doubles(DataType::float32, {N, C / 2, H, W}, upper), w1, {}, 0);
  std::vector<double> shuffled(size_t(N * C * P));
  for (int64_t n = 0; n < N; ++n)
    for (int64_t k = 0; k < C; ++k) {
      int64_t src = (k % 2) * (C / 2) + k / 2;
      for (int64_t p = 0; p < P; ++p)
        shuffled[size_t((n * C + k) * P + p)] = src < C / 2 ? h[size_t((n * C + src) * P + p)]
                                                            : bv[size_t((n * C / 2 + src - C / 2) * P + p)];
    }
  std::vector<double> want =
      naive_conv_nchw(testing::tensor_from_doubles(DataType::float32, {N, C, H, W}, shuffled), w2, {}, 0);
  for (bool slices : {false, true})
    for (bool shuffle_out : {false, true}) {
      SCOPED_TRACE(std::string(slices ? "two slices" : "split") + (shuffle_out ? ", shuffle an output" : ""));
      GraphBuilder b;
      Operand x = b.input("x", DataType::float32, xt.shape());
      Operand hh = b.conv2d(x, b.constant(w0));
      std::vector<Operand> halves;
      const uint32_t n = uint32_t(N), c = uint32_t(C), hs = uint32_t(H), ws = uint32_t(W);
      if (slices) {
        halves = {b.slice(hh, {0, 0, 0, 0}, {n, c / 2, hs, ws}), b.slice(hh, {0, c / 2, 0, 0}, {n, c / 2, hs, ws})};
      } else {
        SplitOptions so;
        so.axis = 1;
        halves = b.split(hh, 2, so);
      }
      Operand cat = b.concat({halves[0], b.conv2d(halves[1], b.constant(w1))}, 1);
      TransposeOptions to;
      to.permutation = std::vector<uint32_t>{0, 2, 1, 3, 4};
      Operand shuffle = b.reshape(b.transpose(b.reshape(cat, {n, 2, c / 2, hs, ws}), to), {n, c, hs, ws});
      Operand y = b.conv2d(shuffle, b.constant(w2));
      Graph g = shuffle_out ? b.build({{"y", y}, {"s", shuffle}}) : b.build({{"y", y}});
      auto opt = detail::optimize(g.ir_ptr(), detail::cpu_pass_options());
      // One transpose at each edge, the shuffle's own, and (as an output) the shuffle's
      // result back to NCHW.
      EXPECT_EQ(count_op(*opt, detail::OpId::transpose), shuffle_out ? 4u : 3u) << Graph(opt).summary();
      NamedTensors out = testing::run_cpu(g, {{"x", xt}});
      testing::expect_close(out.at("y"), want, {1e-5, 1e-5});
      if (shuffle_out) testing::expect_close(out.at("s"), shuffled, {1e-5, 1e-5});
    }
}


// Whisper's stem: two 1-D convolutions (conv2d over a height of 1 between reshapes, as the
// ONNX importer writes Conv over [N, C, L]) with a GELU after each, then permute(0, 2, 1):
// channels-last from the first conv to the end, one transpose in all (the input's way in);
// values against float64.
TEST(Compiler, Conv1dStemStaysChannelsLastThroughItsReshapes) {
  const int64_t N = 2, C = 3, L = 10, K1 = 4, K2 = 5;
  Tensor xt = random_tensor(DataType::float32, {N, C, L}, -1, 1, 95);
  Tensor w1 = random_tensor(DataType::float32, {K1, C, 1, 3}, -1, 1, 96);
  Tensor w2 = random_tensor(DataType::float32, {K2, K1, 1, 3}, -1, 1, 97);
  auto conv1d = [](const std::vector<double>& x, int64_t cin, const Tensor& w, int64_t cout) {
    std::vector<double> wv = w.to_doubles(), y(size_t(N * cout * L), 0.0);
    for (int64_t n = 0; n < N; ++n)
      for (int64_t o = 0; o < cout; ++o)
        for (int64_t l = 0; l < L; ++l) {
          double acc = 0;
          for (int64_t c = 0; c < cin; ++c)
            for (int64_t k = 0; k < 3; ++k) {
              int64_t at = l + k - 1;
              if (at >= 0 && at < L) acc += x[size_t((n * cin + c) * L + at)] * wv[size_t((o * cin + c) * 3 + k)];
            }
          y[size_t((n * cout + o) * L + l)] = 0.5 * acc * (1 + std::erf(acc / std::sqrt(2.0)));  // gelu
        }
    return y;
  };
  std::vector<double> h = conv1d(xt.to_doubles(), C, w1, K1), y = conv1d(h, K1, w2, K2);
  Tensor pos = random_tensor(DataType::float32, {L, K2}, -1, 1, 98);  // Whisper's positions
  std::vector<double> pv = pos.to_doubles(), want(y.size());  // permuted to [N, L, K2], + pos
  for (int64_t n = 0; n < N; ++n)
    for (int64_t o = 0; o < K2; ++o)
      for (int64_t l = 0; l < L; ++l)
        want[size_t((n * L + l) * K2 + o)] = y[size_t((n * K2 + o) * L + l)] + pv[size_t(l * K2 + o)];

  GraphBuilder b;
  Conv2dOptions co;
  co.padding = {0, 0, 1, 1};
  auto stem = [&](Operand v, int64_t cin, const Tensor& w, int64_t cout) {
    Operand v4 = b.reshape(v, {uint32_t(N), uint32_t(cin), 1, uint32_t(L)});
    Operand c = b.reshape(b.conv2d(v4, b.constant(w), co), {uint32_t(N), uint32_t(cout), uint32_t(L)});
    // GELU as exported at opset 17: x * 0.5 * (1 + erf(x / sqrt 2)).
    Operand half = b.constant(Tensor::from<float>(DataType::float32, {}, {0.5f}));
    Operand one = b.constant(Tensor::from<float>(DataType::float32, {}, {1.0f}));
    Operand root2 = b.constant(Tensor::from<float>(DataType::float32, {}, {1.41421356f}));
    return b.mul(b.mul(c, half), b.add(one, b.erf(b.div(c, root2))));
  };
  Operand x = b.input("x", DataType::float32, xt.shape());
  TransposeOptions to;
  to.permutation = std::vector<uint32_t>{0, 2, 1};
  Operand out = b.add(b.transpose(stem(stem(x, C, w1, K1), K1, w2, K2), to), b.constant(pos));
  Graph g = b.build({{"y", out}});
  auto opt = detail::optimize(g.ir_ptr(), detail::cpu_pass_options());
  EXPECT_EQ(count_op(*opt, detail::OpId::transpose), 1u) << Graph(opt).summary();
  testing::expect_close(testing::run_cpu(g, {{"x", xt}}).at("y"), want, {1e-5, 1e-5});
}


// A decoder step's head split, [1, 1, 12, 64] -> [1, 12, 1, 64], moves only a size-1 axis:
// at concrete shapes (a backend's plan) it becomes a reshape, which runs as a view; an
// engine's graph (shapes that may change) keeps the transpose. One that moves data stays.
TEST(Compiler, UnitAxisTransposesBecomeReshapesAtConcreteShapes) {
  Tensor xt = random_tensor(DataType::float32, {1, 1, 12, 64}, -1, 1, 91);
  for (bool concrete : {false, true}) {
    GraphBuilder b;
    Operand x = b.input("x", DataType::float32, xt.shape());
    TransposeOptions heads, swap;
    heads.permutation = std::vector<uint32_t>{0, 2, 1, 3};
    swap.permutation = std::vector<uint32_t>{0, 1, 3, 2};  // moves data: stays
    Graph g = b.build({{"y", b.relu(b.transpose(x, heads))}, {"z", b.relu(b.transpose(x, swap))}});
    detail::PassOptions po = detail::cpu_pass_options();
    po.concrete_shapes = concrete;
    po.channels_last = false;  // (the layout pass makes the same rewrite among its own)
    auto opt = detail::optimize(g.ir_ptr(), po);
    EXPECT_EQ(count_op(*opt, detail::OpId::transpose), concrete ? 1u : 2u) << Graph(opt).summary();
    EXPECT_EQ(count_op(*opt, detail::OpId::reshape), concrete ? 1u : 0u) << Graph(opt).summary();
  }
  // The CPU plan (concrete shapes) computes the same values as the transposes.
  GraphBuilder b;
  Operand x = b.input("x", DataType::float32, xt.shape());
  TransposeOptions heads;
  heads.permutation = std::vector<uint32_t>{0, 2, 1, 3};
  Graph g = b.build({{"y", b.relu(b.transpose(x, heads))}});
  std::vector<double> xv = xt.to_doubles(), want(xv.size());
  for (size_t i = 0; i < xv.size(); ++i) want[i] = std::max(0.0, xv[i]);  // same order
  testing::expect_close(testing::run_cpu(g, {{"x", xt}}).at("y"), want, {0, 0});
}


// DenseNet's pre-activation batch norm -> relu is one pass in the CPU plan (its own fusion):
// one node with the activation, values against float64, a NaN kept as the relu keeps it.
TEST(Compiler, BatchNormReluIsOnePassInTheCpuPlan) {
  Tensor xt = random_tensor(DataType::float32, {2, 3, 4, 5}, -2, 2, 81);
  xt.data_as<float>()[7] = std::nanf("");
  Tensor mt = random_tensor(DataType::float32, {3}, -1, 1, 82), vt = random_tensor(DataType::float32, {3}, 0.5, 2, 83);
  Tensor st = random_tensor(DataType::float32, {3}, 0.5, 2, 84), bt = random_tensor(DataType::float32, {3}, -1, 1, 85);
  GraphBuilder b;
  BatchNormalizationOptions bo;
  bo.scale = b.constant(st), bo.bias = b.constant(bt);
  Operand y = b.relu(b.batch_normalization(b.input("x", DataType::float32, xt.shape()), b.constant(mt),
                                           b.constant(vt), bo));
  Graph g = b.build({{"y", y}});
  detail::PassOptions po = detail::cpu_pass_options();
  po.channels_last = false;
  po.cpu_plan_fusions = true;
  auto opt = detail::optimize(g.ir_ptr(), po);
  ASSERT_EQ(opt->nodes.size(), 1u) << Graph(opt).summary();
  EXPECT_EQ(opt->nodes[0].attrs.s_or("activation", ""), "relu");
  po.cpu_plan_fusions = false;  // an engine's or another backend's graph keeps the relu
  EXPECT_EQ(detail::optimize(g.ir_ptr(), po)->nodes.size(), 2u);
  auto xv = xt.to_doubles(), mv = mt.to_doubles(), vv = vt.to_doubles(), sv = st.to_doubles(), bv = bt.to_doubles();
  std::vector<double> want(xv.size());
  for (size_t i = 0; i < xv.size(); ++i) {
    size_t c = (i / 20) % 3;
    double v = (xv[i] - mv[c]) / std::sqrt(vv[c] + 1e-5) * sv[c] + bv[c];
    want[i] = std::isnan(v) ? v : std::max(v, 0.0);
  }
  Tensor got = testing::run_cpu(g, {{"x", xt}}).at("y");
  EXPECT_TRUE(std::isnan(got.data_as<float>()[7]));
  want[7] = 0, got.data_as<float>()[7] = 0;
  testing::expect_close(got, want, {1e-5, 1e-5});
}

}  // namespace
}  // namespace cppnn
