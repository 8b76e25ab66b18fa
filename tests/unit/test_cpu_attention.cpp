// The CPU backend's fused attention (src/backends/cpu/matmul_attention.cpp): the plan takes
// the float32 attentions fuse_attention finds (CpuBackend::compile) and runs them as one
// kernel, which must give what the unfused graph gives. Each case is built twice: as is
// (fused), and with the softmax's output as a second graph output (read twice, so the pass
// leaves the chain alone: the unfused ops on the same inputs). Both are checked against a
// float64 reference written here, at every instruction-set level the CPU runs.
#include <array>
#include <cmath>
#include <limits>
#include <map>
#include <sstream>

#include "backends/cpu/isa.h"
#include "cppnn/onnx.h"
#include "scoped_cpu_isa.h"
#include "test_support.h"

namespace cppnn {
namespace {

using detail::CpuIsa;
using testing::random_tensor;

constexpr DataType kF32 = DataType::float32;

using testing::ScopedIsa;

TransposeOptions perm(std::vector<uint32_t> p) {
  TransposeOptions o;
  o.permutation = std::move(p);
  return o;
}

enum class Mask {
  none,
  padding,    // added [b, 1, 1, sk] (BERT's extended attention mask)
  full,       // added [b, h, sq, sk]
  causal,     // a constant [sq, sk] of 0 and -inf (offset sk - sq): dropped for "causal"
  cond,       // where(cond [b, 1, sq, sk] uint8, scores, -1e9)
  all_hidden  // padding with every key of batch 0 at -inf: NaN rows (0 with sdpa)
};

struct Case {
  uint32_t b, h, sq, sk, d, dv;
  Mask mask = Mask::none;
  bool sdpa = false;  // PyTorch's spelling: q and k^T scaled, where(isNaN(p), 0, p) after
  // q [b, h, sq, d], k [b, h, sk, d] and v [b, h, sk, dv] as inputs (k^T one transpose),
  // the output [b, h, sq, dv]: a transpose that only moves a length-1 axis becomes a
  // reshape, which the pass does not follow, so single queries need this spelling.
  bool heads_first = false;
};

std::string name(const Case& c) {
  static const char* masks[] = {"none", "padding", "full", "causal", "cond", "all_hidden"};
  // (An ostringstream: GCC 12 warns falsely on "b" + std::to_string(...), -Wrestrict.)
  std::ostringstream s;
  s << "b" << c.b << " h" << c.h << " sq" << c.sq << " sk" << c.sk << " d" << c.d << " dv" << c.dv << " mask "
    << masks[int(c.mask)] << (c.sdpa ? " sdpa" : "") << (c.heads_first ? " heads first" : "");
  return s.str();
}

// BERT's spelling: q, k, v [b, s, h, d] split into heads by transposes, the output
// transposed back and reshaped to [b, sq, h * dv]. With `unfused`, p is an output too.
Graph build(const Case& c, bool unfused) {
  GraphBuilder g;
  Operand q, kt, v;
  if (c.heads_first) {
    q = g.input("q", kF32, {c.b, c.h, c.sq, c.d});
    kt = g.transpose(g.input("k", kF32, {c.b, c.h, c.sk, c.d}), perm({0, 1, 3, 2}));
    v = g.input("v", kF32, {c.b, c.h, c.sk, c.dv});
  } else {
    q = g.transpose(g.input("q", kF32, {c.b, c.sq, c.h, c.d}), perm({0, 2, 1, 3}));
    kt = g.transpose(g.input("k", kF32, {c.b, c.sk, c.h, c.d}), perm({0, 2, 3, 1}));
    v = g.transpose(g.input("v", kF32, {c.b, c.sk, c.h, c.dv}), perm({0, 2, 1, 3}));
  }
  Operand s;
  if (c.sdpa) {
    Operand f = g.constant(kF32, std::pow(double(c.d), -0.25));
    s = g.matmul(g.mul(q, f), g.mul(kt, f));
  } else {
    s = g.div(g.matmul(q, kt), g.constant(kF32, std::sqrt(double(c.d))));
  }
  switch (c.mask) {
    case Mask::none: break;
    case Mask::padding:
    case Mask::all_hidden: s = g.add(s, g.input("mask", kF32, {c.b, 1, 1, c.sk})); break;
    case Mask::full: s = g.add(s, g.input("mask", kF32, {c.b, c.h, c.sq, c.sk})); break;
    case Mask::causal: {
      std::vector<float> m(size_t(c.sq) * c.sk);
      for (uint32_t i = 0; i < c.sq; ++i)
        for (uint32_t j = 0; j < c.sk; ++j)
          m[size_t(i) * c.sk + j] = j <= i + (c.sk - c.sq) ? 0.0f : -std::numeric_limits<float>::infinity();
      s = g.add(s, g.constant(kF32, {c.sq, c.sk}, m.data(), m.size() * sizeof(float)));
      break;
    }
    case Mask::cond:
      s = g.where(g.input("cond", DataType::uint8, {c.b, 1, c.sq, c.sk}), s, g.constant(kF32, -1e9));
      break;
  }
  Operand p = g.softmax(s, 3);
  if (c.sdpa) p = g.where(g.is_nan(p), g.constant(kF32, 0.0), p);
  Operand out = g.matmul(p, v);
  if (!c.heads_first) out = g.reshape(g.transpose(out, perm({0, 2, 1, 3})), {c.b, c.sq, c.h * c.dv});
  if (unfused) return g.build({{"y", out}, {"p", p}});
  return g.build({{"y", out}});
}

NamedTensors inputs(const Case& c) {
  NamedTensors in;
  in["q"] = random_tensor(kF32, {c.b, c.sq, c.h, c.d}, -2, 2, 1);
  in["k"] = random_tensor(kF32, {c.b, c.sk, c.h, c.d}, -2, 2, 2);
  in["v"] = random_tensor(kF32, {c.b, c.sk, c.h, c.dv}, -1, 1, 3);
  if (c.mask == Mask::padding || c.mask == Mask::all_hidden) {
    Tensor m = random_tensor(kF32, {c.b, 1, 1, c.sk}, -3, 0, 4);
    float* p = m.data_as<float>();
    // BERT's padding: the last keys of the last sequence hidden by -10000.
    for (uint32_t j = c.sk - std::min(c.sk - 1, 2u); j < c.sk; ++j) p[size_t(c.b - 1) * c.sk + j] = -10000.0f;
    if (c.mask == Mask::all_hidden)
      for (uint32_t j = 0; j < c.sk; ++j) p[j] = -std::numeric_limits<float>::infinity();
    in["mask"] = m;
  } else if (c.mask == Mask::full) {
    in["mask"] = random_tensor(kF32, {c.b, c.h, c.sq, c.sk}, -4, 1, 4);
  } else if (c.mask == Mask::cond) {
    Tensor t = random_tensor(DataType::uint8, {c.b, 1, c.sq, c.sk}, 0, 1, 5);  // 0 or 1
    for (uint32_t i = 0; i < c.sq; ++i) t.data_as<uint8_t>()[size_t(i) * c.sk] = 1;  // key 0 visible
    in["cond"] = t;
  }
  return in;
}

// softmax(q k^T / sqrt(d) + mask) v in float64, as [b, sq, h, dv].
std::vector<double> reference(const Case& c, const NamedTensors& in) {
  const std::vector<double> q = in.at("q").to_doubles(), k = in.at("k").to_doubles(), v = in.at("v").to_doubles();
  std::vector<double> mask, cond;
  if (in.count("mask")) mask = in.at("mask").to_doubles();
  if (in.count("cond")) cond = in.at("cond").to_doubles();
  const double inf = std::numeric_limits<double>::infinity();
  std::vector<double> out(size_t(c.b) * c.sq * c.h * c.dv);
  std::vector<double> s(c.sk);
  for (uint32_t b = 0; b < c.b; ++b)
    for (uint32_t h = 0; h < c.h; ++h)
      for (uint32_t i = 0; i < c.sq; ++i) {
        double mx = -inf;
        for (uint32_t j = 0; j < c.sk; ++j) {
          double dot = 0;
          for (uint32_t e = 0; e < c.d; ++e)
            dot += q[((size_t(b) * c.sq + i) * c.h + h) * c.d + e] * k[((size_t(b) * c.sk + j) * c.h + h) * c.d + e];
          double x = dot / std::sqrt(double(c.d));
          switch (c.mask) {
            case Mask::none: break;
            case Mask::padding:
            case Mask::all_hidden: x += mask[size_t(b) * c.sk + j]; break;
            case Mask::full: x += mask[((size_t(b) * c.h + h) * c.sq + i) * c.sk + j]; break;
            case Mask::causal: if (j > i + (c.sk - c.sq)) x = -inf; break;
            case Mask::cond: if (cond[(size_t(b) * c.sq + i) * c.sk + j] == 0) x = -1e9; break;
          }
          s[j] = x;
          mx = std::max(mx, x);
        }
        double sum = 0;
        for (uint32_t j = 0; j < c.sk; ++j) sum += s[j] = std::exp(s[j] - mx);  // all -inf: NaN
        for (uint32_t e = 0; e < c.dv; ++e) {
          double acc = 0;
          for (uint32_t j = 0; j < c.sk; ++j) acc += s[j] / sum * v[((size_t(b) * c.sk + j) * c.h + h) * c.dv + e];
          if (std::isnan(acc) && c.sdpa) acc = 0;
          out[((size_t(b) * c.sq + i) * c.h + h) * c.dv + e] = acc;
        }
      }
  return out;
}

// A [n0, n1, n2, n3] tensor's values with axes permuted: out axis i is in axis p[i].
Tensor permuted(const Tensor& t, const std::array<int, 4>& p) {
  const Dims& s = t.shape();
  Dims o = {s[size_t(p[0])], s[size_t(p[1])], s[size_t(p[2])], s[size_t(p[3])]};
  Tensor out(t.data_type(), o);
  const Dims st = {s[1] * s[2] * s[3], s[2] * s[3], s[3], 1};
  const float* src = t.data_as<float>();
  float* dst = out.data_as<float>();
  size_t n = 0;
  for (int64_t a = 0; a < o[0]; ++a)
    for (int64_t b = 0; b < o[1]; ++b)
      for (int64_t c = 0; c < o[2]; ++c)
        for (int64_t d = 0; d < o[3]; ++d)
          dst[n++] = src[a * st[size_t(p[0])] + b * st[size_t(p[1])] + c * st[size_t(p[2])] + d * st[size_t(p[3])]];
  return out;
}

bool has_step(const std::string& report, const std::string& op) {
  return report.find("\n  " + op + " ") != std::string::npos;
}

void check(const Case& c, bool fused_expected = true) {
  SCOPED_TRACE(name(c));
  NamedTensors in = inputs(c);
  std::vector<double> want = reference(c, in);
  if (c.heads_first) {
    // The same values in the graph's layout: q, k, v [b, h, s, d]; the
    // reference [b, sq, h, dv] as the graph's [b, h, sq, dv].
    in["q"] = permuted(in["q"], {0, 2, 1, 3});
    in["k"] = permuted(in["k"], {0, 2, 1, 3});
    in["v"] = permuted(in["v"], {0, 2, 1, 3});
    std::vector<double> w(want.size());
    for (uint32_t b = 0; b < c.b; ++b)
      for (uint32_t i = 0; i < c.sq; ++i)
        for (uint32_t h = 0; h < c.h; ++h)
          for (uint32_t e = 0; e < c.dv; ++e)
            w[((size_t(b) * c.h + h) * c.sq + i) * c.dv + e] = want[((size_t(b) * c.sq + i) * c.h + h) * c.dv + e];
    want = std::move(w);
  }
  ContextOptions options;
  options.accelerated = false;
  Graph fused = build(c, false), unfused = build(c, true);
  std::vector<double> plain;
  {
    Context ctx = Context::create(options);
    EXPECT_FALSE(has_step(ctx.report(unfused), "attention")) << ctx.report(unfused);
    plain = ctx.compute(unfused, in).at("y").to_doubles();
  }
  for (int level = 0; level <= int(detail::cpu_isa_supported()); ++level) {
    SCOPED_TRACE(detail::cpu_isa_name(CpuIsa(level)));
    ScopedIsa isa{CpuIsa(level)};
    Context ctx = Context::create(options);
    const std::string report = ctx.report(fused);
    EXPECT_EQ(has_step(report, "attention"), fused_expected) << report;
    EXPECT_NE(has_step(report, "softmax"), fused_expected) << report;
    Tensor y = ctx.compute(fused, in).at("y");
    testing::expect_close(y, want, {2e-5, 2e-5}, "fused vs float64");
    testing::expect_close(y, plain, {1e-5, 1e-5}, "fused vs unfused");
  }
  // The unfused graph against the same reference: the reference is the graph's meaning.
  Context ctx = Context::create(options);
  testing::expect_close(ctx.compute(unfused, in).at("y"), want, {2e-5, 2e-5}, "unfused vs float64");
}

TEST(CpuAttention, HeadDimsAndLengths) {
  for (uint32_t d : {32u, 64u, 80u}) {
    for (uint32_t s : {7u, 128u}) check({2, 3, s, s, d, d, Mask::padding});
    // One query (a decode step) over 40 keys.
    check({2, 3, 1, 40, d, d, Mask::padding, false, true});
  }
  // One key: k^T's transpose [b, h, 1, d] -> [b, h, d, 1] is a reshape, which the pass does
  // not follow: unfused, and still right.
  for (uint32_t s : {1u, 7u}) {
    Case one{2, 3, s, 1, 32, 32, Mask::padding, false, true};
    check(one, false);
  }
}

TEST(CpuAttention, NoMaskAndPyTorchSpelling) {
  check({1, 2, 7, 7, 64, 64, Mask::none});
  check({2, 2, 70, 70, 32, 32, Mask::none, true});
  // Queries and keys of other lengths, values of another width.
  check({2, 2, 5, 131, 32, 48, Mask::none});
}

// Whisper's encoder: 1500 tokens, head dim 64, no mask, the PyTorch spelling.
TEST(CpuAttention, LongSequence) { check({1, 2, 1500, 1500, 64, 64, Mask::none, true}); }

TEST(CpuAttention, MasksOfEveryKind) {
  check({2, 3, 9, 9, 32, 32, Mask::full});
  check({2, 3, 67, 67, 64, 64, Mask::full});
  check({2, 2, 70, 70, 32, 32, Mask::cond});
  check({1, 2, 100, 100, 64, 64, Mask::causal});
  check({2, 2, 37, 150, 32, 32, Mask::causal});  // offset 113
}

// A row whose keys are all at -inf is NaN, as the unfused softmax makes it, or 0 where the
// graph zeroes NaN probabilities (PyTorch's exported SDPA).
TEST(CpuAttention, FullyMaskedRows) {
  check({2, 2, 7, 7, 32, 32, Mask::all_hidden});
  check({2, 2, 7, 7, 32, 32, Mask::all_hidden, true});
}

// The backend declines what its kernel does not take (float16): the chain stays as it is.
TEST(CpuAttention, Float16StaysUnfused) {
  GraphBuilder g;
  const uint32_t b = 1, h = 2, s = 9, d = 32;
  Operand q = g.input("q", DataType::float16, {b, h, s, d});
  Operand kt = g.input("kt", DataType::float16, {b, h, d, s});
  Operand v = g.input("v", DataType::float16, {b, h, s, d});
  Operand p = g.softmax(g.mul(g.matmul(q, kt), g.constant(DataType::float16, 0.125)), 3);
  Graph graph = g.build({{"y", g.matmul(p, v)}});
  ContextOptions options;
  options.accelerated = false;
  Context ctx = Context::create(options);
  const std::string report = ctx.report(graph);
  EXPECT_FALSE(has_step(report, "attention")) << report;
  EXPECT_TRUE(has_step(report, "softmax")) << report;
  NamedTensors in{{"q", random_tensor(DataType::float16, {b, h, s, d}, -1, 1, 1)},
                  {"kt", random_tensor(DataType::float16, {b, h, d, s}, -1, 1, 2)},
                  {"v", random_tensor(DataType::float16, {b, h, s, d}, -1, 1, 3)}};
  const std::vector<double> qd = in["q"].to_doubles(), kd = in["kt"].to_doubles(), vd = in["v"].to_doubles();
  std::vector<double> want(size_t(b) * h * s * d);
  for (uint32_t hh = 0; hh < h; ++hh)
    for (uint32_t i = 0; i < s; ++i) {
      std::vector<double> e(s);
      double mx = -1e300, sum = 0;
      for (uint32_t j = 0; j < s; ++j) {
        double dot = 0;
        for (uint32_t x = 0; x < d; ++x) dot += qd[(hh * s + i) * d + x] * kd[(hh * d + x) * s + j];
        mx = std::max(mx, e[j] = dot * 0.125);
      }
      for (uint32_t j = 0; j < s; ++j) sum += e[j] = std::exp(e[j] - mx);
      for (uint32_t x = 0; x < d; ++x) {
        double acc = 0;
        for (uint32_t j = 0; j < s; ++j) acc += e[j] / sum * vd[(hh * s + j) * d + x];
        want[(hh * s + i) * d + x] = acc;
      }
    }
  testing::expect_close(ctx.compute(graph, in).at("y"), want, testing::default_tolerance(DataType::float16));
}

// The PyTorch exports of tests/python/dynamic_fixtures (transformers' BERT with its padding
// mask, Whisper's encoder without one, GPT-2's causal prefill): every layer's attention is
// one fused step of the CPU plan (their values against ONNX Runtime:
// tests/python/test_cpu_attention.py).
TEST(CpuAttention, PlansOfExportedTransformers) {
  struct Export {
    std::string file;
    std::map<std::string, int64_t> dims;
  };
  for (const Export& e : {Export{"bert_tiny.onnx", {{"batch", 2}, {"seq", 9}}},
                          Export{"whisper_tiny_encoder.onnx", {{"batch", 2}}},
                          Export{"gpt2_tiny_prefill.onnx", {{"batch", 1}, {"seq", 13}}}}) {
    SCOPED_TRACE(e.file);
    OnnxImportOptions o;
    o.dim_values = e.dims;
    Graph g = load_onnx(CPPNN_SOURCE_DIR "/tests/python/dynamic_fixtures/" + e.file, o);
    ContextOptions options;
    options.accelerated = false;
    const std::string report = Context::create(options).report(g);
    size_t steps = 0;
    for (size_t at = report.find("\n  attention "); at != std::string::npos; at = report.find("\n  attention ", at + 1))
      ++steps;
    EXPECT_EQ(steps, 2u) << report;
    EXPECT_FALSE(has_step(report, "softmax")) << report;
  }
}

}  // namespace
}  // namespace cppnn
