// Compiler passes: the structure they produce and the values of the fused graph against
// float64 references computed here.
#include "compiler/passes.h"
#include "test_support.h"

namespace cppnn {
namespace {

using detail::GraphIR;
using testing::random_tensor;

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

const detail::Node* find_op(const GraphIR& g, const std::string& op) {
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

  auto opt = detail::optimize(g.ir_ptr());
  ASSERT_EQ(opt->nodes.size(), 1u);
  const detail::Node& n = opt->nodes[0];
  EXPECT_EQ(n.op, "conv2d");
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
  auto opt = detail::optimize(g.ir_ptr());
  EXPECT_EQ(opt->nodes.size(), 3u);
  EXPECT_FALSE(find_op(*opt, "conv2d")->attrs.has("activation"));
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
  auto opt = detail::optimize(g.ir_ptr());
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
  auto opt = detail::optimize(g.ir_ptr());
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

TEST(Compiler, ConstantSubgraphsFold) {
  GraphBuilder b;
  Operand x = b.input("x", DataType::float32, {3});
  Operand c1 = b.constant(Tensor::from(DataType::float32, {3}, std::vector<float>{1, 2, 3}));
  Operand c2 = b.mul(c1, c1);  // constant: folds
  Graph g = b.build({{"y", b.add(x, c2)}});
  auto opt = detail::optimize(g.ir_ptr());
  ASSERT_EQ(opt->nodes.size(), 1u);
  EXPECT_EQ(opt->nodes[0].op, "add");
  Tensor xt = Tensor::from(DataType::float32, {3}, std::vector<float>{1, 1, 1});
  testing::expect_close(testing::run_cpu(g, {{"x", xt}}).at("y"), {2, 5, 10}, {0, 0});
}

}  // namespace
}  // namespace cppnn
