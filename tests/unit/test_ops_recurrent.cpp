// lstm, lstmCell, gru and gruCell against a float64 reference written here with plain loops
// over the spec's equations (the lstmCell / gruCell decompositions of webnn-index.bs, run
// over the steps as the lstm / gru decompositions do), on the CPU kernel and on the graph
// the compiler's lower_recurrent makes of them (what the CUDA plan runs), plus the spec's
// validation steps.
#include <cmath>
#include <map>
#include <optional>

#include "compiler/passes.h"
#include "graph/ir.h"
#include "graph/op_table.h"
#include "test_support.h"

namespace cppnn {
namespace {

using testing::expect_close;
using testing::expect_error;
using testing::random_tensor;
using testing::run_cpu;
using testing::Tolerance;

constexpr DataType kF32 = DataType::float32;
constexpr DataType kF16 = DataType::float16;

struct RnnCase {
  std::string name;
  bool lstm = true;
  bool cell = false;
  uint32_t steps = 3, batch = 2, input_size = 5, hidden = 4;
  std::string direction = "forward";  // forward, backward, both
  std::string layout;                 // "" = the op's default
  std::vector<std::string> activations;  // empty = the default
  bool bias = true, recurrent_bias = true, peephole = false, initial_hidden = false,
       initial_cell = false, return_sequence = false, reset_after = true;
  bool constant_weights = true;  // weights as constants (prepared) or graph inputs
  DataType type = kF32;
};

// "y0", "y1"... (appended, not "y" + ...: g++ 12's -Wrestrict misfires on that).
std::string out_name(size_t i) {
  std::string s = "y";
  s += std::to_string(i);
  return s;
}

double act(const std::string& name, double x) {
  if (name == "relu") return x > 0 ? x : 0;
  if (name == "sigmoid") return 1 / (1 + std::exp(-x));
  return std::tanh(x);
}

// The operands of one case, as doubles (after rounding to the case's type).
struct Operands {
  std::map<std::string, Tensor> tensors;
  std::vector<double> get(const std::string& name) const {
    auto it = tensors.find(name);
    return it == tensors.end() ? std::vector<double>() : it->second.to_doubles();
  }
};

// The reference: outputs {hidden, cell (lstm), sequence (when asked)}, shaped as the op's.
std::vector<std::vector<double>> reference(const RnnCase& c, const Operands& ops) {
  const size_t T = c.cell ? 1 : c.steps, B = c.batch, I = c.input_size, H = c.hidden;
  const size_t dirs = c.direction == "both" ? 2 : 1, G = (c.lstm ? 4 : 3) * H;
  std::string layout = !c.layout.empty() ? c.layout : c.lstm ? "iofg" : "zrn";
  std::vector<std::string> a = c.activations;
  if (a.empty()) a = c.lstm ? std::vector<std::string>{"sigmoid", "tanh", "tanh"}
                            : std::vector<std::string>{"sigmoid", "tanh"};
  // Row offset of a gate in the weights: its position in the layout string.
  auto off = [&](char gate) { return layout.find(gate) * H; };
  std::vector<double> x = ops.get("input"), W = ops.get("weight"), R = ops.get("recurrentWeight");
  std::vector<double> b = ops.get("bias"), rb = ops.get("recurrentBias"), p = ops.get("peephole");
  std::vector<double> h0 = ops.get("h0"), c0 = ops.get("c0");
  std::vector<double> out_h(dirs * B * H), out_c(dirs * B * H), seq(T * dirs * B * H);
  for (size_t d = 0; d < dirs; ++d) {
    auto w = [&](size_t row, size_t k) { return W[(d * G + row) * I + k]; };
    auto r = [&](size_t row, size_t k) { return R[(d * G + row) * H + k]; };
    auto bias = [&](size_t row) { return b.empty() ? 0.0 : b[d * G + row]; };
    auto rbias = [&](size_t row) { return rb.empty() ? 0.0 : rb[d * G + row]; };
    std::vector<double> h(B * H, 0.0), cs(B * H, 0.0);
    for (size_t i = 0; i < B * H; ++i) {
      if (!h0.empty()) h[i] = h0[d * B * H + i];
      if (!c0.empty()) cs[i] = c0[d * B * H + i];
    }
    bool backward = d == 1 || c.direction == "backward";
    for (size_t s = 0; s < T; ++s) {
      size_t t = backward ? T - 1 - s : s;
      std::vector<double> nh(B * H), nc(B * H);
      for (size_t n = 0; n < B; ++n) {
        const double* xt = &x[(t * B + n) * I];
        const double* ht = &h[n * H];
        auto xw = [&](size_t row) {
          double v = 0;
          for (size_t k = 0; k < I; ++k) v += xt[k] * w(row, k);
          return v;
        };
        auto hr = [&](size_t row, const double* state) {
          double v = 0;
          for (size_t k = 0; k < H; ++k) v += state[k] * r(row, k);
          return v;
        };
        if (c.lstm) {
          for (size_t j = 0; j < H; ++j) {
            auto pre = [&](char g) {
              size_t row = off(g) + j;
              return bias(row) + rbias(row) + xw(row) + hr(row, ht);
            };
            double cp = cs[n * H + j];
            double pi = p.empty() ? 0 : p[d * 3 * H + j] * cp;
            double po = p.empty() ? 0 : p[d * 3 * H + H + j] * cp;
            double pf = p.empty() ? 0 : p[d * 3 * H + 2 * H + j] * cp;
            double ig = act(a[0], pre('i') + pi), fg = act(a[0], pre('f') + pf);
            double gg = act(a[1], pre('g')), og = act(a[0], pre('o') + po);
            double ct = fg * cp + ig * gg;
            nc[n * H + j] = ct;
            nh[n * H + j] = og * act(a[2], ct);
          }
        } else {
          std::vector<double> rg(H), rh(H);
          for (size_t j = 0; j < H; ++j) {
            size_t row = off('r') + j;
            rg[j] = act(a[0], bias(row) + rbias(row) + xw(row) + hr(row, ht));
            rh[j] = rg[j] * ht[j];
          }
          for (size_t j = 0; j < H; ++j) {
            size_t zr = off('z') + j, nr = off('n') + j;
            double z = act(a[0], bias(zr) + rbias(zr) + xw(zr) + hr(zr, ht));
            double nn = c.reset_after
                            ? act(a[1], bias(nr) + xw(nr) + rg[j] * (rbias(nr) + hr(nr, ht)))
                            : act(a[1], bias(nr) + rbias(nr) + xw(nr) + hr(nr, rh.data()));
            nh[n * H + j] = z * ht[j] + (1 - z) * nn;
          }
        }
      }
      h = nh;
      if (c.lstm) cs = nc;
      for (size_t i = 0; i < B * H; ++i) seq[((t * dirs + d) * B) * H + i] = h[i];
    }
    for (size_t i = 0; i < B * H; ++i) {
      out_h[d * B * H + i] = h[i];
      out_c[d * B * H + i] = cs[i];
    }
  }
  std::vector<std::vector<double>> out = {out_h};
  if (c.lstm) out.push_back(out_c);
  if (c.return_sequence && !c.cell) out.push_back(seq);
  return out;
}

std::vector<RecurrentNetworkActivation> to_acts(const std::vector<std::string>& names) {
  std::vector<RecurrentNetworkActivation> out;
  for (const std::string& n : names)
    out.push_back(n == "relu" ? RecurrentNetworkActivation::relu
                  : n == "sigmoid" ? RecurrentNetworkActivation::sigmoid
                                   : RecurrentNetworkActivation::tanh);
  return out;
}

struct Built {
  Graph graph;
  NamedTensors inputs;
  Operands operands;
};

Built build(const RnnCase& c, uint32_t seed = 1) {
  GraphBuilder b;
  Built out;
  const int64_t dirs = c.direction == "both" ? 2 : 1, G = (c.lstm ? 4 : 3) * int64_t(c.hidden);
  const int64_t T = c.steps, B = c.batch, I = c.input_size, H = c.hidden;
  // Leading [dirs] / [steps] dimensions only for the sequence ops.
  auto shape = [&](Dims tail, bool per_dir) {
    if (!c.cell) tail.insert(tail.begin(), per_dir ? dirs : T);
    return tail;
  };
  auto make = [&](const std::string& name, const Dims& dims, bool input, double lo, double hi) {
    Tensor t = random_tensor(c.type, dims, lo, hi, seed += 7);
    out.operands.tensors[name] = t;
    if (input) {
      out.inputs[name] = t;
      return b.input(name, c.type, dims);
    }
    return b.constant(t);
  };
  Operand x = make("input", shape({B, I}, false), true, -1, 1);
  bool wi = !c.constant_weights;
  Operand W = make("weight", shape({G, I}, true), wi, -0.6, 0.6);
  Operand R = make("recurrentWeight", shape({G, H}, true), wi, -0.6, 0.6);
  Operand bias, rbias, peep, h0, c0;
  if (c.bias) bias = make("bias", shape({G}, true), wi, -0.5, 0.5);
  if (c.recurrent_bias) rbias = make("recurrentBias", shape({G}, true), wi, -0.5, 0.5);
  if (c.peephole) peep = make("peephole", shape({3 * H}, true), wi, -0.5, 0.5);
  Dims state = c.cell ? Dims{B, H} : Dims{dirs, B, H};
  if (c.initial_hidden || c.cell) h0 = make("h0", state, true, -1, 1);
  if (c.lstm && (c.initial_cell || c.cell)) c0 = make("c0", state, true, -1, 1);
  std::vector<Operand> outs;
  RecurrentNetworkDirection dir = c.direction == "both"       ? RecurrentNetworkDirection::both
                                  : c.direction == "backward" ? RecurrentNetworkDirection::backward
                                                              : RecurrentNetworkDirection::forward;
  if (c.lstm && !c.cell) {
    LstmOptions o;
    o.bias = bias, o.recurrent_bias = rbias, o.peephole_weight = peep;
    o.initial_hidden_state = h0, o.initial_cell_state = c0;
    o.return_sequence = c.return_sequence, o.direction = dir;
    if (c.layout == "ifgo") o.layout = LstmWeightLayout::ifgo;
    o.activations = to_acts(c.activations);
    outs = b.lstm(x, W, R, c.steps, c.hidden, o);
  } else if (c.lstm) {
    LstmCellOptions o;
    o.bias = bias, o.recurrent_bias = rbias, o.peephole_weight = peep;
    if (c.layout == "ifgo") o.layout = LstmWeightLayout::ifgo;
    o.activations = to_acts(c.activations);
    outs = b.lstm_cell(x, W, R, h0, c0, c.hidden, o);
  } else if (!c.cell) {
    GruOptions o;
    o.bias = bias, o.recurrent_bias = rbias, o.initial_hidden_state = h0;
    o.reset_after = c.reset_after, o.return_sequence = c.return_sequence, o.direction = dir;
    if (c.layout == "rzn") o.layout = GruWeightLayout::rzn;
    o.activations = to_acts(c.activations);
    outs = b.gru(x, W, R, c.steps, c.hidden, o);
  } else {
    GruCellOptions o;
    o.bias = bias, o.recurrent_bias = rbias, o.reset_after = c.reset_after;
    if (c.layout == "rzn") o.layout = GruWeightLayout::rzn;
    o.activations = to_acts(c.activations);
    outs = {b.gru_cell(x, W, R, h0, c.hidden, o)};
  }
  std::map<std::string, Operand> named;
  for (size_t i = 0; i < outs.size(); ++i) named[out_name(i)] = outs[i];
  out.graph = b.build(named);
  return out;
}

// The graph the CUDA plan runs: the recurrent nodes lowered into primitive ops.
Graph lowered(const Graph& g) {
  auto ir = std::make_shared<detail::GraphIR>(g.ir());
  detail::lower_recurrent(*ir);
  for (const detail::Node& n : ir->nodes)
    EXPECT_NE(detail::op_kind(n.op), detail::OpKind::recurrent) << "left unlowered";
  return Graph(ir);
}

Tolerance tolerance(DataType t, bool lowered_graph) {
  if (t == kF32) return {2e-5, 2e-5};
  // float16: the kernel keeps its states in float32 and rounds once; the lowered graph
  // rounds every op's result to float16, over several steps.
  return lowered_graph ? Tolerance{2e-2, 2e-2} : Tolerance{2e-3, 4e-3};
}

void check(const RnnCase& c) {
  SCOPED_TRACE(c.name + (c.type == kF16 ? " float16" : " float32"));
  Built built = build(c);
  std::vector<std::vector<double>> want = reference(c, built.operands);
  NamedTensors got = run_cpu(built.graph, built.inputs);
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < want.size(); ++i)
    expect_close(got.at(out_name(i)), want[i], tolerance(c.type, false),
                 "kernel output " + std::to_string(i));
  NamedTensors low = run_cpu(lowered(built.graph), built.inputs);
  ASSERT_EQ(low.size(), want.size());
  for (size_t i = 0; i < want.size(); ++i) {
    std::string name = out_name(i);
    expect_close(low.at(name), want[i], tolerance(c.type, true), "lowered output " + std::to_string(i));
    // The lowered graph against the kernel, as the GPU suite compares the backends.
    if (c.type == kF32)
      expect_close(low.at(name), got.at(name).to_doubles(), tolerance(kF32, false),
                   "lowered vs kernel, output " + std::to_string(i));
  }
}

std::vector<RnnCase> lstm_cases() {
  std::vector<RnnCase> v;
  auto add = [&](const std::string& name, auto edit) {
    RnnCase c;
    c.name = name;
    edit(c);
    v.push_back(c);
  };
  add("lstm_default", [](RnnCase&) {});
  add("lstm_no_bias", [](RnnCase& c) { c.bias = c.recurrent_bias = false; });
  add("lstm_only_recurrent_bias", [](RnnCase& c) { c.bias = false; });
  add("lstm_backward_sequence", [](RnnCase& c) {
    c.direction = "backward", c.return_sequence = true;
  });
  add("lstm_both_all_options", [](RnnCase& c) {
    c.direction = "both", c.return_sequence = true, c.peephole = true;
    c.initial_hidden = c.initial_cell = true;
  });
  add("lstm_ifgo_peephole", [](RnnCase& c) {
    c.layout = "ifgo", c.peephole = true, c.initial_cell = true;
  });
  add("lstm_custom_activations", [](RnnCase& c) {
    c.activations = {"tanh", "relu", "sigmoid"}, c.return_sequence = true;
  });
  add("lstm_weights_as_inputs", [](RnnCase& c) {
    c.constant_weights = false, c.direction = "both", c.peephole = true, c.initial_hidden = true;
  });
  add("lstm_one_step", [](RnnCase& c) { c.steps = 1, c.return_sequence = true; });
  // silero VAD's shape: hidden 128, one step, batch 1, with states carried in.
  add("lstm_silero_shape", [](RnnCase& c) {
    c.steps = 1, c.batch = 1, c.input_size = 128, c.hidden = 128;
    c.initial_hidden = c.initial_cell = true;
  });
  add("lstm_long_wide", [](RnnCase& c) {
    c.steps = 7, c.batch = 3, c.input_size = 37, c.hidden = 19, c.direction = "both";
    c.return_sequence = true;
  });
  add("lstmCell", [](RnnCase& c) { c.cell = true; });
  add("lstmCell_ifgo_peephole_acts", [](RnnCase& c) {
    c.cell = true, c.layout = "ifgo", c.peephole = true, c.activations = {"sigmoid", "relu", "tanh"};
  });
  add("lstmCell_no_bias_inputs", [](RnnCase& c) {
    c.cell = true, c.bias = c.recurrent_bias = false, c.constant_weights = false;
  });
  return v;
}

std::vector<RnnCase> gru_cases() {
  std::vector<RnnCase> v;
  auto add = [&](const std::string& name, auto edit) {
    RnnCase c;
    c.name = name;
    c.lstm = false;
    edit(c);
    v.push_back(c);
  };
  add("gru_default", [](RnnCase&) {});
  add("gru_reset_before", [](RnnCase& c) { c.reset_after = false; });
  add("gru_reset_before_no_bias", [](RnnCase& c) {
    c.reset_after = false, c.bias = c.recurrent_bias = false;
  });
  add("gru_backward_sequence", [](RnnCase& c) { c.direction = "backward", c.return_sequence = true; });
  add("gru_both_initial", [](RnnCase& c) {
    c.direction = "both", c.return_sequence = true, c.initial_hidden = true;
  });
  add("gru_both_reset_before_rzn", [](RnnCase& c) {
    c.direction = "both", c.reset_after = false, c.layout = "rzn", c.return_sequence = true;
  });
  add("gru_rzn", [](RnnCase& c) { c.layout = "rzn", c.initial_hidden = true; });
  add("gru_custom_activations", [](RnnCase& c) {
    c.activations = {"tanh", "relu"}, c.reset_after = false;
  });
  add("gru_weights_as_inputs", [](RnnCase& c) {
    c.constant_weights = false, c.direction = "both", c.initial_hidden = true, c.bias = false;
  });
  add("gru_long_wide", [](RnnCase& c) {
    c.steps = 6, c.batch = 3, c.input_size = 33, c.hidden = 21, c.return_sequence = true;
  });
  add("gruCell", [](RnnCase& c) { c.cell = true; });
  add("gruCell_reset_before_rzn", [](RnnCase& c) {
    c.cell = true, c.reset_after = false, c.layout = "rzn";
  });
  add("gruCell_acts_inputs", [](RnnCase& c) {
    c.cell = true, c.activations = {"relu", "sigmoid"}, c.constant_weights = false,
    c.recurrent_bias = false;
  });
  return v;
}

TEST(OpsRecurrent, LstmMatchesReference) {
  for (RnnCase c : lstm_cases()) {
    check(c);
    c.type = kF16;
    check(c);
  }
}

TEST(OpsRecurrent, GruMatchesReference) {
  for (RnnCase c : gru_cases()) {
    check(c);
    c.type = kF16;
    check(c);
  }
}

// The reference is not the kernel's mirror: a case whose layout or reset mode is swapped in
// the reference alone must disagree, or the tests above could not fail.
TEST(OpsRecurrent, ReferenceTellsOptionsApart) {
  auto differs = [](RnnCase c, auto edit) {
    Built built = build(c);
    NamedTensors got = run_cpu(built.graph, built.inputs);
    edit(c);
    std::vector<double> want = reference(c, built.operands)[0];
    std::vector<double> g = got.at("y0").to_doubles();
    double worst = 0;
    for (size_t i = 0; i < g.size(); ++i) worst = std::max(worst, std::abs(g[i] - want[i]));
    return worst > 1e-3;
  };
  RnnCase l;
  EXPECT_TRUE(differs(l, [](RnnCase& c) { c.layout = "ifgo"; }));
  EXPECT_TRUE(differs(l, [](RnnCase& c) { c.direction = "backward"; }));
  RnnCase g;
  g.lstm = false;
  EXPECT_TRUE(differs(g, [](RnnCase& c) { c.reset_after = false; }));
  EXPECT_TRUE(differs(g, [](RnnCase& c) { c.layout = "rzn"; }));
}

// Engines keep the recurrent nodes (the CPU kernel runs them) and their attributes survive
// the file; a float16 engine runs them in float16 behind float32 inputs and outputs.
TEST(OpsRecurrent, EnginesRoundTrip) {
  RnnCase c;
  c.direction = "both", c.return_sequence = true, c.peephole = true, c.layout = "ifgo";
  c.initial_hidden = c.initial_cell = true, c.activations = {"sigmoid", "relu", "tanh"};
  Built built = build(c);
  std::vector<std::vector<double>> want = reference(c, built.operands);
  for (Precision p : {Precision::float32, Precision::float16}) {
    EngineBuildOptions o;
    o.precision = p;
    Engine e = Engine::from_bytes(Engine::build(built.graph, o).to_bytes());
    bool kept = false;
    for (const detail::Node& n : e.graph().ir().nodes) kept = kept || n.op == detail::OpId::lstm;
    EXPECT_TRUE(kept);
    NamedTensors got = run_cpu(e.graph(), built.inputs);
    for (size_t i = 0; i < want.size(); ++i)
      expect_close(got.at(out_name(i)), want[i],
                   p == Precision::float32 ? tolerance(kF32, false) : Tolerance{1e-2, 1e-2},
                   "engine output " + std::to_string(i));
  }
}

// ---- validation (the spec's steps): TypeError naming the op

struct Fixture {
  GraphBuilder b;
  Operand f32(const Dims& d) { return b.input("i" + std::to_string(n++), kF32, d); }
  Operand f16(const Dims& d) { return b.input("i" + std::to_string(n++), kF16, d); }
  int n = 0;
};

TEST(OpsRecurrent, LstmValidation) {
  auto lstm = [](auto edit, const std::string& fragment) {
    Fixture f;
    Operand x = f.f32({3, 2, 5}), W = f.f32({1, 16, 5}), R = f.f32({1, 16, 4});
    uint32_t steps = 3, hidden = 4;
    LstmOptions o;
    edit(f, x, W, R, steps, hidden, o);
    expect_error([&] { f.b.lstm(x, W, R, steps, hidden, o); }, ErrorKind::TypeError, fragment);
  };
  using F = Fixture;
  using O = LstmOptions;
  // Mismatched hidden sizes: weights of hidden size 4, hiddenSize 5.
  lstm([](F&, Operand&, Operand&, Operand&, uint32_t&, uint32_t& h, O&) { h = 5; }, "lstm: operand 'weight' must have shape [1, 20, 5]");
  lstm([](F& f, Operand&, Operand&, Operand& R, uint32_t&, uint32_t&, O&) { R = f.f32({1, 16, 5}); }, "operand 'recurrentWeight' must have shape [1, 16, 4]");
  lstm([](F& f, Operand&, Operand& W, Operand&, uint32_t&, uint32_t&, O&) { W = f.f32({16, 5}); }, "operand 'weight' must be 3-D");
  lstm([](F& f, Operand&, Operand& W, Operand&, uint32_t&, uint32_t&, O&) { W = f.f16({1, 16, 5}); }, "lstm");
  lstm([](F&, Operand&, Operand&, Operand&, uint32_t& s, uint32_t&, O&) { s = 4; }, "steps");
  lstm([](F&, Operand&, Operand&, Operand&, uint32_t& s, uint32_t&, O&) { s = 0; }, "steps must be greater than 0");
  lstm([](F& f, Operand& x, Operand&, Operand&, uint32_t&, uint32_t&, O&) { x = f.b.input("ix", DataType::int32, {3, 2, 5}); }, "lstm");
  // direction "both" wants two sets of weights.
  lstm([](F&, Operand&, Operand&, Operand&, uint32_t&, uint32_t&, O& o) { o.direction = RecurrentNetworkDirection::both; }, "operand 'weight' must have shape [2, 16, 5]");
  lstm([](F& f, Operand&, Operand&, Operand&, uint32_t&, uint32_t&, O& o) { o.bias = f.f32({1, 12}); }, "operand 'bias' must have shape [1, 16]");
  lstm([](F& f, Operand&, Operand&, Operand&, uint32_t&, uint32_t&, O& o) { o.recurrent_bias = f.f32({16}); }, "operand 'recurrentBias' must have shape [1, 16]");
  lstm([](F& f, Operand&, Operand&, Operand&, uint32_t&, uint32_t&, O& o) { o.peephole_weight = f.f32({1, 16}); }, "operand 'peepholeWeight' must have shape [1, 12]");
  lstm([](F& f, Operand&, Operand&, Operand&, uint32_t&, uint32_t&, O& o) { o.initial_hidden_state = f.f32({1, 3, 4}); }, "operand 'initialHiddenState' must have shape [1, 2, 4]");
  lstm([](F& f, Operand&, Operand&, Operand&, uint32_t&, uint32_t&, O& o) { o.initial_cell_state = f.f16({1, 2, 4}); }, "lstm");
  lstm([](F&, Operand&, Operand&, Operand&, uint32_t&, uint32_t&, O& o) { o.activations = {RecurrentNetworkActivation::tanh}; }, "activations must list 3 activations");
  lstm([](F&, Operand&, Operand&, Operand&, uint32_t&, uint32_t& h, O&) { h = 0; }, "lstm");
}

TEST(OpsRecurrent, CellAndGruValidation) {
  {
    Fixture f;
    Operand x = f.f32({2, 5}), W = f.f32({16, 5}), R = f.f32({16, 4}), h = f.f32({2, 4}), c = f.f32({2, 3});
    expect_error([&] { f.b.lstm_cell(x, W, R, h, c, 4); }, ErrorKind::TypeError,
                 "lstmCell: operand 'cellState' must have shape [2, 4]");
    Operand c2 = f.f32({2, 4});
    LstmCellOptions o;
    o.activations = {RecurrentNetworkActivation::tanh, RecurrentNetworkActivation::tanh};
    expect_error([&] { f.b.lstm_cell(x, W, R, h, c2, 4, o); }, ErrorKind::TypeError, "lstmCell: activations");
    expect_error([&] { f.b.lstm_cell(x, W, R, h, c2, 3); }, ErrorKind::TypeError, "lstmCell: operand 'weight'");
  }
  {
    Fixture f;
    Operand x = f.f32({3, 2, 5}), W = f.f32({1, 12, 5}), R = f.f32({1, 12, 4});
    GruOptions o;
    o.activations = {RecurrentNetworkActivation::tanh, RecurrentNetworkActivation::tanh,
                     RecurrentNetworkActivation::tanh};
    expect_error([&] { f.b.gru(x, W, R, 3, 4, o); }, ErrorKind::TypeError, "gru: activations must list 2");
    expect_error([&] { f.b.gru(x, W, R, 3, 3); }, ErrorKind::TypeError, "gru: operand 'weight' must have shape [1, 9, 5]");
    GruOptions o2;
    o2.bias = f.f32({1, 16});
    expect_error([&] { f.b.gru(x, W, R, 3, 4, o2); }, ErrorKind::TypeError, "gru: operand 'bias' must have shape [1, 12]");
    GruOptions o3;
    o3.direction = RecurrentNetworkDirection::both;
    expect_error([&] { f.b.gru(x, W, R, 3, 4, o3); }, ErrorKind::TypeError, "gru: operand 'weight' must have shape [2, 12, 5]");
    // Outputs: hidden, and the sequence when asked.
    GruOptions o4;
    o4.return_sequence = true;
    std::vector<Operand> out = f.b.gru(x, W, R, 3, 4, o4);
    ASSERT_EQ(out.size(), 2u);
    EXPECT_EQ(out[0].shape(), (Dims{1, 2, 4}));
    EXPECT_EQ(out[1].shape(), (Dims{3, 1, 2, 4}));
  }
  {
    Fixture f;
    Operand x = f.f32({2, 5}), W = f.f32({12, 5}), R = f.f32({12, 4}), h = f.f32({2, 5});
    expect_error([&] { f.b.gru_cell(x, W, R, h, 4); }, ErrorKind::TypeError,
                 "gruCell: operand 'hiddenState' must have shape [2, 4]");
    Operand h16 = f.f16({2, 4});
    expect_error([&] { f.b.gru_cell(x, W, R, h16, 4); }, ErrorKind::TypeError, "gruCell");
  }
}

// An engine or an ONNX file can carry any attribute: the op table checks them too.
TEST(OpsRecurrent, AttributeValidation) {
  const detail::OpSchema* schema = detail::OpTable::instance().find(detail::OpId::lstm);
  ASSERT_NE(schema, nullptr);
  OperandDescriptor x{kF32, {3, 2, 5}}, W{kF32, {1, 16, 5}}, R{kF32, {1, 16, 4}};
  auto infer = [&](detail::Attrs a) { return schema->infer({&x, &W, &R}, a); };
  detail::Attrs a;
  a.set("steps", int64_t(3));
  a.set("hiddenSize", int64_t(4));
  EXPECT_EQ(infer(a).size(), 2u);
  detail::Attrs bad = a;
  bad.set("activations", std::string("sigmoid,gelu,tanh"));
  expect_error([&] { infer(bad); }, ErrorKind::TypeError, "activation \"gelu\"");
  bad = a;
  bad.set("direction", std::string("sideways"));
  expect_error([&] { infer(bad); }, ErrorKind::TypeError, "direction must be one of");
  bad = a;
  bad.set("layout", std::string("zrn"));
  expect_error([&] { infer(bad); }, ErrorKind::TypeError, "layout must be one of");
  bad = a;
  bad.set("hiddenSize", int64_t(-4));
  expect_error([&] { infer(bad); }, ErrorKind::TypeError, "hiddenSize");
}

}  // namespace
}  // namespace cppnn
