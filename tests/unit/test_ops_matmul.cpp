// matmul and gemm against float64 references written here with naive loops: batch
// broadcasting, transposes, alpha/beta, c broadcasting, float32 and float16, constant and
// graph-input operands, the fused bias/activation contract, and errors.
#include <cmath>

#include "graph/ir.h"
#include "test_support.h"

namespace cppnn {
namespace {

using testing::expect_close;
using testing::expect_error;
using testing::random_tensor;
using testing::run_cpu;
using testing::Tolerance;

Tolerance tolerance(DataType t) {
  return t == DataType::float16 ? Tolerance{2e-3, 3e-3} : Tolerance{5e-5, 5e-5};
}

// matmul in float64 with numpy batch broadcasting.
std::vector<double> ref_matmul(const Tensor& a, const Tensor& b, Dims* out_shape) {
  Dims as = a.shape(), bs = b.shape();
  size_t rank = std::max(as.size(), bs.size());
  as.insert(as.begin(), rank - as.size(), 1);
  bs.insert(bs.begin(), rank - bs.size(), 1);
  int64_t M = as[rank - 2], K = as[rank - 1], N = bs[rank - 1];
  Dims os(rank);
  for (size_t i = 0; i + 2 < rank; ++i) os[i] = std::max(as[i], bs[i]);
  os[rank - 2] = M, os[rank - 1] = N;
  *out_shape = os;
  std::vector<double> av = a.to_doubles(), bv = b.to_doubles(), out(element_count(os));
  size_t batches = element_count(os) / size_t(M * N);
  for (size_t batch = 0; batch < batches; ++batch) {
    // Unravel the batch index and map it into a and b with broadcasting.
    size_t rem = batch, ao = 0, bo = 0, astride = 1, bstride = 1;
    for (size_t d = rank - 2; d-- > 0;) {
      size_t idx = rem % size_t(os[d]);
      rem /= size_t(os[d]);
      ao += (as[d] == 1 ? 0 : idx) * astride;
      bo += (bs[d] == 1 ? 0 : idx) * bstride;
      astride *= size_t(as[d]);
      bstride *= size_t(bs[d]);
    }
    for (int64_t m = 0; m < M; ++m)
      for (int64_t n = 0; n < N; ++n) {
        double s = 0;
        for (int64_t k = 0; k < K; ++k)
          s += av[ao * size_t(M * K) + size_t(m * K + k)] * bv[bo * size_t(K * N) + size_t(k * N + n)];
        out[batch * size_t(M * N) + size_t(m * N + n)] = s;
      }
  }
  return out;
}

void check_matmul(DataType t, const Dims& as, const Dims& bs, bool constant_b) {
  SCOPED_TRACE(std::string(to_string(t)) + " " + to_string(as) + " x " + to_string(bs) +
               (constant_b ? " const" : " input"));
  Tensor a = random_tensor(t, as, -1, 1, 21), b = random_tensor(t, bs, -1, 1, 22);
  GraphBuilder gb;
  Operand bi = constant_b ? gb.constant(b) : gb.input("b", t, bs);
  Operand y = gb.matmul(gb.input("a", t, as), bi);
  Dims want_shape;
  std::vector<double> want = ref_matmul(a, b, &want_shape);
  ASSERT_EQ(y.shape(), want_shape);
  NamedTensors in{{"a", a}};
  if (!constant_b) in["b"] = b;
  expect_close(run_cpu(gb.build({{"y", y}}), in).at("y"), want, tolerance(t));
}

TEST(ConvMatmul, TwoDimensional) {
  for (DataType t : {DataType::float32, DataType::float16})
    for (bool c : {true, false}) check_matmul(t, {7, 13}, {13, 5}, c);
}

TEST(ConvMatmul, BatchBroadcasting) {
  for (bool c : {true, false}) {
    check_matmul(DataType::float32, {2, 1, 3, 4}, {3, 4, 5}, c);
    check_matmul(DataType::float32, {3, 4, 5}, {2, 1, 5, 6}, c);
    check_matmul(DataType::float32, {4, 6, 3}, {4, 3, 2}, c);
    check_matmul(DataType::float16, {2, 1, 3, 4}, {1, 3, 4, 5}, c);
  }
}

TEST(ConvMatmul, MixedRanks) {
  for (bool c : {true, false}) {
    check_matmul(DataType::float32, {5, 7}, {3, 7, 4}, c);     // 2-D x 3-D
    check_matmul(DataType::float32, {2, 3, 5, 7}, {7, 4}, c);  // rows of all batches share b
    check_matmul(DataType::float32, {5, 7}, {1, 1, 7, 4}, c);
    check_matmul(DataType::float16, {2, 9, 16}, {16, 8}, c);
  }
}

TEST(ConvMatmul, BertSizedProjection) {
  check_matmul(DataType::float32, {1, 32, 256}, {256, 96}, true);
}

// gemm in float64.
std::vector<double> ref_gemm(const Tensor& a, const Tensor& b, const Tensor* c, double alpha,
                             double beta, bool at, bool bt) {
  int64_t M = at ? a.shape()[1] : a.shape()[0], K = at ? a.shape()[0] : a.shape()[1];
  int64_t N = bt ? b.shape()[0] : b.shape()[1];
  std::vector<double> av = a.to_doubles(), bv = b.to_doubles(), out(size_t(M * N));
  std::vector<double> cv = c ? c->to_doubles() : std::vector<double>{};
  Dims cs = c ? c->shape() : Dims{};
  cs.insert(cs.begin(), 2 - cs.size(), 1);
  for (int64_t m = 0; m < M; ++m)
    for (int64_t n = 0; n < N; ++n) {
      double s = 0;
      for (int64_t k = 0; k < K; ++k)
        s += av[size_t(at ? k * M + m : m * K + k)] * bv[size_t(bt ? n * K + k : k * N + n)];
      double cval = c ? cv[size_t((cs[0] == 1 ? 0 : m) * cs[1] + (cs[1] == 1 ? 0 : n))] : 0;
      out[size_t(m * N + n)] = alpha * s + beta * cval;
    }
  return out;
}

TEST(ConvGemm, TransposesAlphaBetaAndBroadcastC) {
  const int64_t M = 6, K = 9, N = 5;
  std::vector<Dims> c_shapes = {{}, {N}, {1, N}, {M, 1}, {M, N}, {1}};
  for (DataType t : {DataType::float32, DataType::float16})
    for (int tr = 0; tr < 4; ++tr) {
      bool at = tr & 1, bt = tr & 2;
      for (size_t ci = 0; ci <= c_shapes.size(); ++ci)
        for (bool constant : {true, false}) {
          bool has_c = ci < c_shapes.size();
          Dims cs = has_c ? c_shapes[ci] : Dims{};
          // A few alpha/beta pairs; alpha 1 with a constant row c takes the bias route.
          for (auto [alpha, beta] : {std::pair{1.0, 1.0}, {0.5, -2.0}, {1.0, 0.0}}) {
            SCOPED_TRACE(std::string(to_string(t)) + " at=" + std::to_string(at) + " bt=" +
                         std::to_string(bt) + " c=" + (has_c ? to_string(cs) : "none") +
                         (constant ? " const" : " input") + " alpha=" + std::to_string(alpha) +
                         " beta=" + std::to_string(beta));
            Dims as = at ? Dims{K, M} : Dims{M, K}, bs = bt ? Dims{N, K} : Dims{K, N};
            Tensor a = random_tensor(t, as, -1, 1, 31), b = random_tensor(t, bs, -1, 1, 32);
            Tensor c = random_tensor(t, cs, -1, 1, 33);
            GraphBuilder gb;
            GemmOptions o;
            o.alpha = alpha, o.beta = beta, o.a_transpose = at, o.b_transpose = bt;
            NamedTensors in{{"a", a}};
            Operand bi = constant ? gb.constant(b) : gb.input("b", t, bs);
            if (!constant) in["b"] = b;
            if (has_c) {
              o.c = constant ? gb.constant(c) : gb.input("c", t, cs);
              if (!constant) in["c"] = c;
            }
            Operand y = gb.gemm(gb.input("a", t, as), bi, o);
            ASSERT_EQ(y.shape(), (Dims{M, N}));
            expect_close(run_cpu(gb.build({{"y", y}}), in).at("y"),
                         ref_gemm(a, b, has_c ? &c : nullptr, alpha, beta, at, bt), tolerance(t));
          }
        }
    }
}

TEST(ConvGemm, AlphaIsCastToFloat16) {
  GraphBuilder gb;
  GemmOptions o;
  o.alpha = 0.1;  // not exact in float16: the spec casts it first
  gb.gemm(gb.input("a", DataType::float16, {2, 2}), gb.input("b", DataType::float16, {2, 2}), o);
  EXPECT_EQ(gb.state().ir.nodes.back().attrs.f("alpha"), double(half_to_float(float_to_half(0.1f))));
  EXPECT_NE(gb.state().ir.nodes.back().attrs.f("alpha"), double(0.1f));
}

double activate(const std::string& act, double x) {
  if (act == "relu") return std::max(0.0, x);
  if (act == "gelu") return 0.5 * x * (1 + std::erf(x / std::sqrt(2.0)));
  if (act == "sigmoid") return 1 / (1 + std::exp(-x));
  if (act == "clamp") return std::min(std::max(x, -0.5), 0.5);
  if (act == "clampMin") return std::max(x, -0.25);
  if (act == "elu") return x >= 0 ? x : 1.5 * (std::exp(x) - 1);
  return x;
}

detail::Attrs activation_attrs(const std::string& act) {
  detail::Attrs a;
  if (act == "clampMin") {  // no maximum: the default is +infinity
    a.set("activation", std::string("clamp"));
    a.set("activationMin", -0.25);
    return a;
  }
  a.set("activation", act);
  if (act == "clamp") a.set("activationMin", -0.5), a.set("activationMax", 0.5);
  if (act == "elu") a.set("activationAlpha", 1.5);
  return a;
}

TEST(ConvFusion, MatmulBiasActivation) {
  for (DataType t : {DataType::float32, DataType::float16})
    for (const char* act : {"", "relu", "gelu", "sigmoid", "clamp", "clampMin", "elu"})
      for (auto [as, bs] : {std::pair<Dims, Dims>{{2, 8, 32}, {32, 24}}, {{2, 8, 32}, {2, 32, 24}}})
        for (bool constant : {true, false}) {
          SCOPED_TRACE(std::string(act) + " " + std::string(to_string(t)) + " " + to_string(bs) +
                       (constant ? " const" : " input"));
          Tensor a = random_tensor(t, as, -1, 1, 41), b = random_tensor(t, bs, -1, 1, 42);
          Tensor bias = random_tensor(t, {24}, -1, 1, 43);
          GraphBuilder gb;
          NamedTensors in{{"a", a}};
          Operand bi = constant ? gb.constant(b) : gb.input("b", t, bs);
          Operand biasi = constant ? gb.constant(bias) : gb.input("bias", t, {24});
          if (!constant) in["b"] = b, in["bias"] = bias;
          Operand y = detail::add_op(gb, detail::OpId::matmul, {gb.input("a", t, as), bi, biasi},
                                     activation_attrs(act), "")[0];
          Dims os;
          std::vector<double> want = ref_matmul(a, b, &os), bv = bias.to_doubles();
          for (size_t i = 0; i < want.size(); ++i) want[i] = activate(act, want[i] + bv[i % 24]);
          expect_close(run_cpu(gb.build({{"y", y}}), in).at("y"), want, tolerance(t));
        }
}

TEST(ConvFusion, GemmActivationAfterC) {
  for (const char* act : {"relu", "sigmoid", "clamp"})
    for (bool constant : {true, false}) {
      SCOPED_TRACE(std::string(act) + (constant ? " const" : " input"));
      Tensor a = random_tensor(DataType::float32, {4, 6}, -1, 1, 51);
      Tensor b = random_tensor(DataType::float32, {3, 6}, -1, 1, 52);
      Tensor c = random_tensor(DataType::float32, {3}, -1, 1, 53);
      GraphBuilder gb;
      detail::Attrs attrs = activation_attrs(act);
      attrs.set_bool("bTranspose", true);
      attrs.set("beta", 0.5);
      NamedTensors in{{"a", a}};
      Operand ci = constant ? gb.constant(c) : gb.input("c", DataType::float32, {3});
      if (!constant) in["c"] = c;
      Operand y = detail::add_op(gb, detail::OpId::gemm,
                                 {gb.input("a", DataType::float32, {4, 6}), gb.constant(b), ci},
                                 attrs, "")[0];
      std::vector<double> want = ref_gemm(a, b, &c, 1.0, 0.5, false, true);
      for (double& v : want) v = activate(act, v);
      expect_close(run_cpu(gb.build({{"y", y}}), in).at("y"), want, tolerance(DataType::float32));
    }
}

TEST(ConvErrors, MatmulValidation) {
  GraphBuilder gb;
  Operand a = gb.input("a", DataType::float32, {2, 3, 4});
  auto mm = [&](const Operand& x, const Operand& y) { return [&gb, x, y] { gb.matmul(x, y); }; };
  expect_error(mm(gb.input("v", DataType::float32, {4}), a), ErrorKind::TypeError,
               "operand 'a' must be at least 2-D");
  expect_error(mm(a, gb.input("v2", DataType::float32, {4})), ErrorKind::TypeError,
               "operand 'b' must be at least 2-D");
  expect_error(mm(a, gb.input("k", DataType::float32, {5, 2})), ErrorKind::TypeError,
               "operand 'a' has 4 columns but operand 'b' has 5 rows");
  expect_error(mm(a, gb.input("bb", DataType::float32, {3, 4, 2})), ErrorKind::TypeError,
               "batch dimensions");
  expect_error(mm(a, gb.input("h", DataType::float16, {4, 2})), ErrorKind::TypeError,
               "operand 'b' has data type float16");
  expect_error(mm(gb.input("i", DataType::int32, {2, 2}), gb.input("i2", DataType::int32, {2, 2})),
               ErrorKind::TypeError, "data type int32");
  Operand b = gb.input("b", DataType::float32, {4, 5});
  expect_error([&] { detail::add_op(gb, detail::OpId::matmul, {a, b, gb.input("bias", DataType::float32, {4})}, {}, ""); },
               ErrorKind::TypeError, "operand 'bias' must have shape [5]");
  detail::Attrs bad;
  bad.set("activation", std::string("softmax"));
  expect_error([&] { detail::add_op(gb, detail::OpId::matmul, {a, b}, bad, ""); }, ErrorKind::TypeError,
               "unknown value 'softmax'");
  EXPECT_EQ(gb.matmul(a, b).shape(), (Dims{2, 3, 5}));
}

TEST(ConvErrors, GemmValidation) {
  GraphBuilder gb;
  Operand a = gb.input("a", DataType::float32, {3, 4});
  Operand b = gb.input("b", DataType::float32, {4, 5});
  auto gemm = [&](const Operand& x, const Operand& y, GemmOptions o) {
    return [&gb, x, y, o] { gb.gemm(x, y, o); };
  };
  expect_error(gemm(gb.input("a3", DataType::float32, {1, 3, 4}), b, {}), ErrorKind::TypeError,
               "operand 'a' must be 2-D");
  expect_error(gemm(a, gb.input("b1", DataType::float32, {4}), {}), ErrorKind::TypeError,
               "operand 'b' must be 2-D");
  GemmOptions at;
  at.a_transpose = true;
  expect_error(gemm(a, b, at), ErrorKind::TypeError, "inner dimensions differ");
  GemmOptions c;
  c.c = gb.input("c", DataType::float32, {3, 2});
  expect_error(gemm(a, b, c), ErrorKind::TypeError,
               "operand 'c' of shape [3, 2] is not unidirectionally broadcastable to the output shape [3, 5]");
  c.c = gb.input("c3", DataType::float32, {1, 3, 5});
  expect_error(gemm(a, b, c), ErrorKind::TypeError, "not unidirectionally broadcastable");
  c.c = gb.input("ch", DataType::float16, {5});
  expect_error(gemm(a, b, c), ErrorKind::TypeError, "operand 'c' has data type float16");
  expect_error(gemm(gb.input("ai", DataType::int32, {3, 4}), gb.input("bi", DataType::int32, {4, 5}), {}),
               ErrorKind::TypeError, "data type int32");
  GemmOptions ok;
  ok.c = gb.input("c5", DataType::float32, {5});
  ok.label = "g";
  EXPECT_EQ(gb.gemm(a, b, ok).shape(), (Dims{3, 5}));
}

}  // namespace
}  // namespace cppnn
