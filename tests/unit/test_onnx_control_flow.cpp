// ONNX import of Einsum (the forms one batched matmul computes) and of control flow resolved
// at import time: If inlined or selected with `where`, Loop and Scan unrolled. References are
// computed here in float64.
#include <map>

#include "test_support.h"
#include "unit/onnx_test_model.h"

namespace cppnn {
namespace {

using testing::attr;
using testing::expect_close;
using testing::expect_error;
using testing::OnnxTestModel;
using testing::random_tensor;
using testing::run_cpu;
using testing::tensor_from_doubles;
using P = onnx::TensorProto;

// ----- Einsum --------------------------------------------------------------------------------

// Float64 einsum over explicit subscripts: every assignment of the letters, summed into the
// output's element.
std::vector<double> einsum_reference(const std::vector<std::string>& terms, const std::string& out,
                                     const std::vector<Tensor>& xs) {
  std::map<char, int64_t> size;
  for (size_t i = 0; i < terms.size(); ++i)
    for (size_t k = 0; k < terms[i].size(); ++k) size[terms[i][k]] = xs[i].shape()[k];
  std::vector<char> letters;
  for (const auto& [c, n] : size) letters.push_back(c);
  int64_t out_count = 1;
  for (char c : out) out_count *= size[c];
  std::vector<double> result(size_t(out_count), 0.0);
  std::vector<std::vector<double>> data;
  for (const Tensor& x : xs) data.push_back(x.to_doubles());
  std::map<char, int64_t> at;
  for (char c : letters) at[c] = 0;
  auto flat = [&](const std::string& term) {
    int64_t f = 0;
    for (char c : term) f = f * size[c] + at[c];
    return size_t(f);
  };
  while (true) {
    double p = 1;
    for (size_t i = 0; i < terms.size(); ++i) p *= data[i][flat(terms[i])];
    result[flat(out)] += p;
    size_t k = letters.size();
    while (k > 0 && ++at[letters[k - 1]] == size[letters[k - 1]]) at[letters[--k]] = 0;
    if (k == 0) break;
  }
  return result;
}

struct EinsumCase {
  std::string equation;
  std::vector<std::string> terms;  // the explicit subscripts, for the reference
  std::string out;
  std::vector<Dims> shapes;
};

TEST(OnnxEinsum, MatmulTransposeAndReduceForms) {
  const EinsumCase cases[] = {
      {"bij,bjk->bik", {"bij", "bjk"}, "bik", {{2, 3, 4}, {2, 4, 5}}},
      {"ij,jk", {"ij", "jk"}, "ik", {{3, 4}, {4, 2}}},
      {"bhqd,bhkd->bhqk", {"bhqd", "bhkd"}, "bhqk", {{2, 3, 4, 5}, {2, 3, 6, 5}}},
      {"i,i->", {"i", "i"}, "", {{7}, {7}}},
      {"ij->ji", {"ij"}, "ji", {{3, 4}}},
      {"ij->i", {"ij"}, "i", {{3, 4}}},
      {"ij->", {"ij"}, "", {{3, 4}}},
      {"i,j->ij", {"i", "j"}, "ij", {{3}, {4}}},
      {"bik,kj->bji", {"bik", "kj"}, "bji", {{2, 3, 4}, {4, 5}}},
      {"ijk,jl->li", {"ijk", "jl"}, "li", {{2, 3, 4}, {3, 5}}},  // k summed alone first
      {"ba, ca", {"ba", "ca"}, "bc", {{3, 4}, {2, 4}}},          // implicit, spaces
      {"ij,ij->ij", {"ij", "ij"}, "ij", {{3, 4}, {3, 4}}},       // element-wise product
      {"...ij,...jk->...ik", {"abij", "abjk"}, "abik", {{2, 3, 4, 5}, {2, 3, 5, 2}}},
      {"...ij,jk", {"aij", "jk"}, "aik", {{2, 3, 4}, {4, 5}}},  // implicit: '...' first
      {"b...i,b...i->b...", {"bxi", "bxi"}, "bx", {{2, 3, 4}, {2, 3, 4}}},
      {"...,...->...", {"ab", "ab"}, "ab", {{2, 3}, {2, 3}}},
      {"i...->...", {"iab"}, "ab", {{3, 2, 2}}},
  };
  for (const EinsumCase& c : cases) {
    SCOPED_TRACE(c.equation);
    OnnxTestModel m(12);
    std::vector<std::string> names;
    NamedTensors inputs;
    std::vector<Tensor> xs;
    for (size_t i = 0; i < c.shapes.size(); ++i) {
      std::string name = "x";  // (not "x" + to_string: GCC 12's -Wrestrict false positive)
      name += std::to_string(i);
      std::vector<testing::OnnxDim> dims(c.shapes[i].begin(), c.shapes[i].end());
      m.input(name, P::FLOAT, dims);
      names.push_back(name);
      xs.push_back(random_tensor(DataType::float32, c.shapes[i], -1, 1, uint32_t(10 + i)));
      inputs[name] = xs.back();
    }
    attr(m.node("Einsum", names, {"y"}, "einsum0"), "equation", c.equation.c_str());
    m.output("y");
    Graph g = m.load();
    Dims want_shape;
    for (char ch : c.out)
      for (size_t i = 0; i < c.terms.size(); ++i)
        if (auto k = c.terms[i].find(ch); k != std::string::npos) {
          want_shape.push_back(c.shapes[i][k]);
          break;
        }
    EXPECT_EQ(g.outputs().at("y").shape, want_shape);
    expect_close(run_cpu(g, inputs)["y"], einsum_reference(c.terms, c.out, xs), {1e-5, 1e-5});
  }
}

TEST(OnnxEinsum, OtherFormsNameTheNodeAndEquation) {
  auto load = [](const std::string& eq, const std::vector<Dims>& shapes) {
    OnnxTestModel m(12);
    std::vector<std::string> names;
    for (size_t i = 0; i < shapes.size(); ++i) {
      names.push_back("x");
      names.back() += std::to_string(i);
      m.input(names.back(), P::FLOAT,
              std::vector<testing::OnnxDim>(shapes[i].begin(), shapes[i].end()));
    }
    attr(m.node("Einsum", names, {"y"}, "ein"), "equation", eq.c_str());
    m.output("y");
    m.load();
  };
  expect_error(
      [&] {
        load("ii->i", {{3, 3}});
      },
      ErrorKind::NotSupportedError,
      "ONNX node 'ein' (Einsum): equation 'ii->i': 'i' repeats in one operand");
  expect_error(
      [&] {
        load("...ij,...jk->...ik", {{2, 3, 4}, {1, 4, 5}});
      },
      ErrorKind::NotSupportedError,
      "equation '...ij,...jk->...ik': the axes '...' covers have sizes 2 and 1");
  expect_error([&] { load("...i...,i", {{2, 3}, {3}}); }, ErrorKind::DataError, "two ellipses");
  expect_error(
      [&] {
        load("...ijk,i", {{2, 3}, {2}});
      },
      ErrorKind::DataError, "fewer axes than its subscripts");
  expect_error(
      [&] {
        load("ij,jk,kl->il", {{2, 3}, {3, 4}, {4, 5}});
      },
      ErrorKind::NotSupportedError, "only one or two operands");
  expect_error(
      [&] {
        load("ij,jk->ik", {{2, 3}, {4, 5}});
      },
      ErrorKind::DataError, "'j' has sizes 3 and 4");
  expect_error([&] { load("ijk,jk->ik", {{2, 3}, {3, 4}}); }, ErrorKind::DataError, "has rank 2");
  expect_error(
      [&] {
        load("ij,jk->iz", {{2, 3}, {3, 4}});
      },
      ErrorKind::DataError, "output subscript 'z'");
  expect_error([&] { load("ij->ii", {{2, 2}}); }, ErrorKind::DataError, "repeats");
  expect_error([&] { load("i1->i", {{2, 2}}); }, ErrorKind::DataError, "not a subscript");
  expect_error([&] { load("ij,jk->ik", {{2, 3}}); }, ErrorKind::DataError, "names 2 operands");
}

// ----- If ----------------------------------------------------------------------------------

onnx::NodeProto& add(onnx::GraphProto& g, const std::string& op,
                     const std::vector<std::string>& ins, const std::vector<std::string>& outs,
                     const std::string& name = "") {
  auto* n = g.add_node();
  n->set_op_type(op);
  if (!name.empty()) n->set_name(name);
  for (const auto& i : ins) n->add_input(i);
  for (const auto& o : outs) n->add_output(o);
  return *n;
}

void graph_attr(onnx::NodeProto& n, const std::string& name, const onnx::GraphProto& g) {
  auto* a = n.add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::GRAPH);
  *a->mutable_g() = g;
}

onnx::GraphProto branch(const std::string& name, const std::vector<std::string>& outs) {
  onnx::GraphProto g;
  g.set_name(name);
  for (const auto& o : outs) g.add_output()->set_name(o);
  return g;
}

TEST(OnnxIf, ConditionKnownAtImportIsInlined) {
  // if x.shape[0] > 1: y = x * 2 else: an op cppnn lacks (never imported).
  OnnxTestModel m;
  m.input("x", P::FLOAT, {std::string("N"), int64_t(3)});
  m.node("Shape", {"x"}, {"shape"});
  m.int64s("zero", {}, {0});
  m.int64s("one", {}, {1});
  m.node("Gather", {"shape", "zero"}, {"n"});
  m.node("Greater", {"n", "one"}, {"cond"});
  m.floats("two", {}, {2});
  onnx::GraphProto then_g = branch("then", {"t"});
  add(then_g, "Mul", {"x", "two"}, {"t"});  // outer-scope names
  onnx::GraphProto else_g = branch("else", {"e"});
  add(else_g, "NoSuchOp", {"x"}, {"e"});
  onnx::NodeProto& n = m.node("If", {"cond"}, {"y"}, "if0");
  graph_attr(n, "then_branch", then_g);
  graph_attr(n, "else_branch", else_g);
  m.output("y");
  Graph g = m.load({{{"N", 2}}});
  Tensor x = random_tensor(DataType::float32, {2, 3}, -1, 1, 4);
  std::vector<double> want;
  for (double v : x.to_doubles()) want.push_back(2 * v);
  expect_close(run_cpu(g, {{"x", x}})["y"], want, {0, 0});
  // N = 1 takes the else branch: its error names the If and the inner node.
  expect_error(
      [&] {
        m.load({{{"N", 1}}});
      },
      ErrorKind::NotSupportedError,
      "ONNX node 'if0' (If): ONNX node 'if0/else/NoSuchOp_0' (NoSuchOp)");
}

// Silero VAD's shape: the whole model is an If on its sample-rate input. Fixing that input at
// load time (input_values) folds the condition, so only the chosen branch is imported.
TEST(OnnxIf, InputValuesFixedAtLoadTimeFoldTheCondition) {
  OnnxTestModel m;
  m.input("sr", P::INT64, {});
  m.input("x", P::FLOAT, {int64_t(3)});
  m.int64s("k16", {}, {16000});
  m.node("Equal", {"sr", "k16"}, {"is16k"});
  m.floats("two", {}, {2});
  onnx::GraphProto then_g = branch("then", {"t"});
  add(then_g, "Mul", {"x", "two"}, {"t"});
  onnx::GraphProto else_g = branch("else", {"e"});
  add(else_g, "NoSuchOp", {"x"}, {"e"});
  onnx::NodeProto& n = m.node("If", {"is16k"}, {"y"}, "by_rate");
  graph_attr(n, "then_branch", then_g);
  graph_attr(n, "else_branch", else_g);
  m.output("y");
  // At run time the condition is unknown: both branches are imported, and one cannot be.
  expect_error([&] { m.load(); }, ErrorKind::NotSupportedError, "'by_rate/else/NoSuchOp_0'");
  OnnxImportOptions options;
  options.input_values["sr"] = testing::tensor_from_doubles(DataType::int64, {}, {16000});
  Graph g = m.load(options);
  EXPECT_EQ(g.inputs().count("sr"), 0u);
  Tensor x = tensor_from_doubles(DataType::float32, {3}, {1, -2, 0.5});
  expect_close(run_cpu(g, {{"x", x}})["y"], {2, -4, 1}, {0, 0});
  options.input_values["sr"] = testing::tensor_from_doubles(DataType::int64, {}, {8000});
  expect_error([&] { m.load(options); }, ErrorKind::NotSupportedError, "'by_rate/else/NoSuchOp_0'");
  // A value of another type converts where every value fits the input's type.
  options.input_values["sr"] = testing::tensor_from_doubles(DataType::int32, {}, {16000});
  EXPECT_EQ(m.load(options).inputs().count("sr"), 0u);
  options.input_values["sr"] = testing::tensor_from_doubles(DataType::float32, {}, {16000.5});
  expect_error([&] { m.load(options); }, ErrorKind::TypeError,
               "graph input 'sr' is int64; the value given for it in input_values (float32) does "
               "not fit that type");
  options.input_values["sr"] = testing::tensor_from_doubles(DataType::int64, {1}, {16000});
  expect_error([&] { m.load(options); }, ErrorKind::TypeError, "does not match");
}

OnnxTestModel runtime_if(const onnx::GraphProto& then_g, const onnx::GraphProto& else_g) {
  OnnxTestModel m;
  m.input("c", P::BOOL, {});
  m.input("x", P::FLOAT, {int64_t(2), int64_t(3)});
  m.floats("one", {}, {1});
  m.floats("two", {}, {2});
  onnx::NodeProto& n = m.node("If", {"c"}, {"y", "z"}, "if1");
  graph_attr(n, "then_branch", then_g);
  graph_attr(n, "else_branch", else_g);
  m.output("y");
  m.output("z");
  return m;
}

TEST(OnnxIf, ConditionAtRunTimeSelectsWithWhere) {
  onnx::GraphProto then_g = branch("then", {"a", "x"});
  add(then_g, "Add", {"x", "one"}, {"a"});
  onnx::GraphProto else_g = branch("else", {"a", "x"});  // the same inner name in both
  add(else_g, "Mul", {"x", "two"}, {"a"});
  Graph g = runtime_if(then_g, else_g).load();
  Tensor x = random_tensor(DataType::float32, {2, 3}, -1, 1, 6);
  for (int c : {1, 0}) {
    SCOPED_TRACE(c);
    NamedTensors out =
        run_cpu(g, {{"c", tensor_from_doubles(DataType::uint8, {}, {double(c)})}, {"x", x}});
    std::vector<double> want;
    for (double v : x.to_doubles()) want.push_back(c ? v + 1 : v * 2);
    expect_close(out["y"], want, testing::default_tolerance(DataType::float32));
    expect_close(out["z"], x.to_doubles(), {0, 0});
  }
}

TEST(OnnxIf, BranchesThatDisagreeNameTheNode) {
  onnx::GraphProto then_g = branch("then", {"a", "x"});
  add(then_g, "Add", {"x", "one"}, {"a"});
  onnx::GraphProto cast_g = branch("else", {"a", "x"});
  attr(add(cast_g, "Cast", {"x"}, {"a"}), "to", int64_t(P::INT32));
  expect_error([&] { runtime_if(then_g, cast_g).load(); }, ErrorKind::DataError,
               "ONNX node 'if1' (If): output 0 ('y') is float32 in the then branch and int32 in "
               "the else branch");
  onnx::GraphProto bool_g = branch("else", {"a", "x"});
  add(bool_g, "Greater", {"x", "one"}, {"a"});
  attr(add(bool_g, "Cast", {"a"}, {"a2"}), "to", int64_t(P::FLOAT));
  expect_error([&] { runtime_if(then_g, bool_g).load(); }, ErrorKind::DataError,
               "bool in the else branch");
  onnx::GraphProto reduce_g = branch("else", {"a", "x"});
  attr(add(reduce_g, "ReduceSum", {"x"}, {"a"}), "keepdims", int64_t(0));
  expect_error([&] { runtime_if(then_g, reduce_g).load(); }, ErrorKind::NotSupportedError,
               "ONNX node 'if1' (If): the condition is computed at run time and output 0 ('y') "
               "has shape [2, 3] in the then branch, [] in the else branch");
  onnx::GraphProto short_g = branch("else", {"x"});
  expect_error([&] { runtime_if(then_g, short_g).load(); }, ErrorKind::DataError,
               "the else branch has 1 outputs");
  onnx::GraphProto undefined_g = branch("else", {"nowhere", "x"});
  expect_error([&] { runtime_if(then_g, undefined_g).load(); }, ErrorKind::DataError,
               "output 'nowhere' is not defined");
}

// ----- Loop and Scan -------------------------------------------------------------------------

// for i in range(M): v = v + float(i); scan = v
OnnxTestModel counting_loop(const std::string& trip_name) {
  OnnxTestModel m;
  m.input("x", P::FLOAT, {int64_t(2)});
  onnx::GraphProto body = branch("body", {"cond_out", "v_out", "scan"});
  body.add_input()->set_name("i");
  body.add_input()->set_name("cond_in");
  body.add_input()->set_name("v");
  attr(add(body, "Cast", {"i"}, {"fi"}), "to", int64_t(P::FLOAT));
  add(body, "Add", {"v", "fi"}, {"v_out"});
  add(body, "Identity", {"cond_in"}, {"cond_out"});
  add(body, "Identity", {"v_out"}, {"scan"});
  graph_attr(m.node("Loop", {trip_name, "", "x"}, {"v_final", "scans"}, "loop0"), "body", body);
  m.output("v_final");
  m.output("scans");
  return m;
}

TEST(OnnxLoop, ConstantTripCountIsUnrolled) {
  OnnxTestModel m = counting_loop("M");
  m.int64s("M", {}, {3});
  Graph g = m.load();
  EXPECT_EQ(g.outputs().at("scans").shape, (Dims{3, 2}));
  Tensor x = tensor_from_doubles(DataType::float32, {2}, {0.5, -1});
  NamedTensors out = run_cpu(g, {{"x", x}});
  expect_close(out["v_final"], {3.5, 2}, {0, 0});
  expect_close(out["scans"], {0.5, -1, 1.5, 0, 3.5, 2}, {0, 0});
}

TEST(OnnxLoop, WhatCannotBeUnrolledNamesTheNode) {
  OnnxTestModel runtime = counting_loop("M");
  runtime.input("M", P::INT64, {});
  expect_error([&] { runtime.load(); }, ErrorKind::NotSupportedError,
               "ONNX node 'loop0' (Loop): the trip count M is computed at run time");
  OnnxTestModel big = counting_loop("M");
  big.int64s("M", {}, {1000000});
  expect_error([&] { big.load(); }, ErrorKind::NotSupportedError, "up to 1024 iterations");
  OnnxTestModel zero = counting_loop("M");
  zero.int64s("M", {}, {0});
  expect_error([&] { zero.load(); }, ErrorKind::NotSupportedError, "runs no iteration");
  // No trip count and a condition that stays true: bounded, not endless.
  OnnxTestModel endless = counting_loop("");
  expect_error([&] { endless.load(); }, ErrorKind::NotSupportedError,
               "still true after 1024 iterations");
  // A body whose condition depends on data.
  OnnxTestModel data_cond = counting_loop("M");
  data_cond.int64s("M", {}, {3});
  onnx::GraphProto& body = *data_cond.graph().mutable_node(0)->mutable_attribute(0)->mutable_g();
  body.mutable_node(2)->set_op_type("ReduceMax");  // cond_out = max(v_out) > i
  body.mutable_node(2)->clear_input();
  body.mutable_node(2)->add_input("v_out");
  body.mutable_node(2)->set_output(0, "vmax");
  add(body, "Greater", {"vmax", "fi"}, {"cond_out"});
  attr(*body.mutable_node(2), "keepdims", int64_t(0));
  expect_error([&] { data_cond.load(); }, ErrorKind::NotSupportedError,
               "the body computes its condition at run time");
}

// Loops of (nearly) empty bodies nested in each other are bounded by the unrolled-node count,
// not only by each loop's iterations.
TEST(OnnxLoop, NestedLoopsAreBounded) {
  OnnxTestModel m;
  m.input("x", P::FLOAT, {int64_t(2)});
  m.int64s("M", {}, {1000});
  onnx::GraphProto inner = branch("inner", {"c", "w"});  // outputs its inputs: no nodes
  inner.add_input()->set_name("j");
  inner.add_input()->set_name("c");
  inner.add_input()->set_name("w");
  onnx::GraphProto outer = branch("outer", {"cond_out", "v_out"});
  outer.add_input()->set_name("i");
  outer.add_input()->set_name("cond");
  outer.add_input()->set_name("v");
  graph_attr(add(outer, "Loop", {"M", "", "v"}, {"v_out"}, "inner_loop"), "body", inner);
  add(outer, "Identity", {"cond"}, {"cond_out"});
  graph_attr(m.node("Loop", {"M", "", "x"}, {"y"}, "outer_loop"), "body", outer);
  m.output("y");
  expect_error([&] { m.load(); }, ErrorKind::NotSupportedError,
               "unrolling makes more than 100000 nodes");
  m.graph().mutable_initializer(0)->set_raw_data(std::string("\x03\0\0\0\0\0\0\0", 8));
  Graph g = m.load();  // 3 x 3 iterations
  Tensor x = tensor_from_doubles(DataType::float32, {2}, {1, 2});
  expect_close(run_cpu(g, {{"x", x}})["y"], {1, 2}, {0, 0});
}

TEST(OnnxScan, CumulativeSumForwardAndReversed) {
  for (int64_t reverse : {0, 1}) {
    SCOPED_TRACE(reverse);
    OnnxTestModel m;
    m.input("s0", P::FLOAT, {int64_t(2)});
    m.input("xs", P::FLOAT, {int64_t(4), int64_t(2)});
    onnx::GraphProto body = branch("body", {"s_out", "y"});
    body.add_input()->set_name("s");
    body.add_input()->set_name("x_t");
    add(body, "Add", {"s", "x_t"}, {"s_out"});
    add(body, "Identity", {"s_out"}, {"y"});
    onnx::NodeProto& n = m.node("Scan", {"s0", "xs"}, {"s_final", "ys"}, "scan0");
    graph_attr(n, "body", body);
    attr(n, "num_scan_inputs", int64_t(1));
    attr(n, "scan_input_directions", std::vector<int64_t>{reverse});
    attr(n, "scan_output_axes", std::vector<int64_t>{-1});  // stacked as [2, 4]
    m.output("s_final");
    m.output("ys");
    Graph g = m.load();
    EXPECT_EQ(g.outputs().at("ys").shape, (Dims{2, 4}));
    Tensor s0 = tensor_from_doubles(DataType::float32, {2}, {10, 20});
    Tensor xs = tensor_from_doubles(DataType::float32, {4, 2}, {1, 2, 3, 4, 5, 6, 7, 8});
    NamedTensors out = run_cpu(g, {{"s0", s0}, {"xs", xs}});
    std::vector<double> acc = {10, 20}, ys(8);
    for (int t = 0; t < 4; ++t) {
      int row = reverse ? 3 - t : t;
      for (int j = 0; j < 2; ++j) {
        acc[size_t(j)] += xs.to_doubles()[size_t(row * 2 + j)];
        ys[size_t(j * 4 + t)] = acc[size_t(j)];
      }
    }
    expect_close(out["s_final"], acc, {0, 0});
    expect_close(out["ys"], ys, {0, 0});
  }
}

}  // namespace
}  // namespace cppnn
