// CUDA code generation without CUDA: which nodes each generated kernel covers, what it
// reads, how constants and broadcast inputs appear in its source, and that the source is
// the same for the same graph. NVRTC compiles these kernels in tests/cuda_jit; their values
// are checked on a GPU by tests/gpu.
#include <set>

#include "backends/cuda/codegen/cuda_codegen.h"
#include "graph/op_table.h"
#include "test_support.h"

namespace cppnn {
namespace {

using detail::ElementwiseGroup;
using detail::GeneratedKernel;
using detail::GraphIR;
using detail::OperandId;

// The group's ops by name, for expectations that read (and fail) as op lists.
std::vector<std::string> group_ops(const GraphIR& g, const ElementwiseGroup& group) {
  std::vector<std::string> ops;
  for (size_t n : group.nodes) ops.push_back(detail::op_name(g.nodes[n].op));
  return ops;
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

using Ops = std::vector<std::string>;

TEST(CudaCodegen, CoversExactlyTheElementwiseFamily) {
  detail::OpTable family;
  detail::register_elementwise_ops(family);
  ASSERT_GT(family.names().size(), 40u);
  // Every op of the element-wise family's file, and no other op of ops.def.
  for (const detail::OpInfo& op : detail::all_ops())
    EXPECT_EQ(detail::is_cuda_elementwise_op(op.id), family.find(op.id) != nullptr) << op.name;
  EXPECT_FALSE(detail::is_cuda_elementwise_op(detail::OpId::none));
}

TEST(CudaCodegen, ChainBecomesOneKernelWithInlinedScalar) {
  GraphBuilder b;
  Operand x = b.input("x", DataType::float32, {2, 3, 4});
  Operand y = b.input("y", DataType::float32, {2, 3, 4});
  Operand out = b.relu(b.add(b.mul(x, b.constant(DataType::float32, 0.25)), y));
  Graph graph = b.build({{"out", out}});
  const GraphIR& g = graph.ir();

  auto groups = detail::group_elementwise_nodes(g);
  ASSERT_EQ(groups.size(), 1u);
  EXPECT_EQ(group_ops(g, groups[0]), (Ops{"mul", "add", "relu"}));
  EXPECT_EQ(groups[0].output, g.outputs.at("out"));

  auto kernels = detail::generate_cuda_kernels(g);
  ASSERT_EQ(kernels.size(), 1u);
  const GeneratedKernel& k = kernels[0];
  EXPECT_EQ(k.name, "cppnn_ew0_mul_add_relu");
  EXPECT_EQ(k.inputs, (std::vector<OperandId>{g.inputs.at("x"), g.inputs.at("y")}));
  EXPECT_EQ(k.output, g.outputs.at("out"));
  EXPECT_EQ(k.elements, 24u);
  EXPECT_EQ(k.nodes, groups[0].nodes);
  EXPECT_EQ(k.inlined_constants.size(), 1u);
  EXPECT_TRUE(contains(k.source, "(x0 * 0.25f)")) << k.source;
  EXPECT_TRUE(contains(k.source,
                       "extern \"C\" __global__ void __launch_bounds__(256) "
                       "cppnn_ew0_mul_add_relu(const float* __restrict__ in0, const "
                       "float* __restrict__ in1, float* __restrict__ out, const "
                       "cppnn_ew0_mul_add_relu_sizes sz)"))
      << k.source;
  EXPECT_FALSE(contains(k.source, "#include")) << "generated kernels need no include path";
}

TEST(CudaCodegen, DiamondThroughASharedIntermediateIsOneKernel) {
  GraphBuilder b;
  Operand x = b.input("x", DataType::float32, {8, 5});
  Operand y = b.input("y", DataType::float32, {8, 5});
  Operand t = b.mul(x, y);  // read by both branches, both inside the group
  // (Separate statements: the order of evaluation of arguments is unspecified.)
  Operand sig = b.sigmoid(t);
  Operand out = b.add(sig, b.tanh(t));
  // And a diamond through a graph input: x read by exp and sin.
  Operand ex = b.exp(x);
  Operand out2 = b.mul(ex, b.sin(x));
  Graph graph = b.build({{"out", out}, {"out2", out2}});
  const GraphIR& g = graph.ir();
  auto groups = detail::group_elementwise_nodes(g);
  ASSERT_EQ(groups.size(), 2u);
  EXPECT_EQ(group_ops(g, groups[0]), (Ops{"mul", "sigmoid", "tanh", "add"}));
  EXPECT_EQ(group_ops(g, groups[1]), (Ops{"exp", "sin", "mul"}));
  // Each external is read once, in order of first use.
  EXPECT_EQ(groups[0].externals, (std::vector<OperandId>{g.inputs.at("x"), g.inputs.at("y")}));
  EXPECT_EQ(groups[1].externals, (std::vector<OperandId>{g.inputs.at("x")}));
  auto kernels = detail::generate_cuda_kernels(g);
  // The shared value is computed once and used twice.
  EXPECT_TRUE(contains(kernels[0].source, "const float v0 = (x0 * x1);")) << kernels[0].source;
  EXPECT_TRUE(contains(kernels[0].source, "expf(-v0)")) << kernels[0].source;
  EXPECT_TRUE(contains(kernels[0].source, "tanhf(v0)")) << kernels[0].source;
}

TEST(CudaCodegen, IntermediateReadOutsideItsGroupEndsTheGroup) {
  GraphBuilder b;
  Operand x = b.input("x", DataType::float32, {4, 6});
  Operand t = b.exp(b.neg(x));
  Operand a = b.relu(t);  // t's consumers end up in two different groups
  Operand c = b.sin(t);
  ReduceOptions sum;
  sum.axes = std::vector<uint32_t>{1};
  Operand r = b.reduce_sum(b.abs(x), sum);  // abs feeds a non-element-wise op
  Operand s = b.sqrt(b.abs(x));             // the same value through another abs node
  Graph graph = b.build({{"a", a}, {"c", c}, {"r", r}, {"s", s}});
  const GraphIR& g = graph.ir();
  auto groups = detail::group_elementwise_nodes(g);
  std::vector<Ops> ops;
  for (const auto& group : groups) ops.push_back(group_ops(g, group));
  EXPECT_EQ(ops, (std::vector<Ops>{{"neg", "exp"}, {"relu"}, {"sin"}, {"abs"}, {"abs", "sqrt"}}));
  // relu and sin read the shared value from memory.
  EXPECT_EQ(groups[1].externals, (std::vector<OperandId>{groups[0].output}));
  EXPECT_EQ(groups[2].externals, (std::vector<OperandId>{groups[0].output}));
  // Every element-wise node is in exactly one group; reduceSum is in none.
  std::multiset<size_t> covered;
  for (const auto& group : groups) covered.insert(group.nodes.begin(), group.nodes.end());
  EXPECT_EQ(covered.size(), g.nodes.size() - 1);
  for (size_t n = 0; n < g.nodes.size(); ++n)
    EXPECT_EQ(covered.count(n), g.nodes[n].op == detail::OpId::reduceSum ? 0u : 1u)
        << detail::op_name(g.nodes[n].op);
}

TEST(CudaCodegen, GraphOutputInsideAChainSplitsIt) {
  GraphBuilder b;
  Operand x = b.input("x", DataType::float16, {3, 7});
  Operand e = b.exp(x);
  Operand out = b.neg(b.tanh(e));
  Graph graph = b.build({{"e", e}, {"out", out}});
  const GraphIR& g = graph.ir();
  auto kernels = detail::generate_cuda_kernels(g);
  ASSERT_EQ(kernels.size(), 2u);
  EXPECT_EQ(kernels[0].name, "cppnn_ew0_exp");
  EXPECT_EQ(kernels[0].output, g.outputs.at("e"));
  EXPECT_EQ(kernels[1].name, "cppnn_ew1_tanh_neg");
  EXPECT_EQ(kernels[1].inputs, (std::vector<OperandId>{g.outputs.at("e")}));
  EXPECT_EQ(kernels[1].output, g.outputs.at("out"));
}

TEST(CudaCodegen, BroadcastIntermediateIsNotRecomputedPerElement) {
  GraphBuilder b;
  Operand x = b.input("x", DataType::float32, {2, 4, 3, 3});
  Operand c = b.input("c", DataType::float32, {4, 1, 1});
  Operand out = b.add(x, b.sigmoid(c));  // sigmoid(c) has 4 elements, the add 72
  Graph graph = b.build({{"out", out}});
  auto groups = detail::group_elementwise_nodes(graph.ir());
  ASSERT_EQ(groups.size(), 2u);
  EXPECT_EQ(group_ops(graph.ir(), groups[0]), (Ops{"sigmoid"}));
  EXPECT_EQ(group_ops(graph.ir(), groups[1]), (Ops{"add"}));
}

TEST(CudaCodegen, BroadcastInputsGetIndexMathFromTheSizesArgument) {
  GraphBuilder b;
  Operand x = b.input("x", DataType::float32, {2, 3, 4, 5});
  Operand y = b.input("y", DataType::float32, {3, 1, 5});
  Operand z = b.input("z", DataType::float32, {4, 1});
  Graph graph = b.build({{"out", b.sub(b.add(x, y), z)}});
  auto kernels = detail::generate_cuda_kernels(graph.ir());
  ASSERT_EQ(kernels.size(), 1u);
  const std::string& s = kernels[0].source;
  // Output dims innermost first: 5, 4, 3, 2. y walks 5 (stride 1) and 3 (stride 5); z walks
  // 4 (stride 1); nothing needs the outermost coordinate. Every size is an element of the
  // last argument, in order: the count, then each division's divisor, multiplier and shift,
  // then the strides.
  EXPECT_TRUE(contains(s, "struct cppnn_ew0_add_sub_sizes { unsigned v[11]; };")) << s;
  EXPECT_TRUE(contains(s, "float* __restrict__ out, const cppnn_ew0_add_sub_sizes sz) {")) << s;
  EXPECT_TRUE(contains(s, "const unsigned n = sz.v[0];")) << s;
  EXPECT_TRUE(contains(s,
                       "const unsigned q0 = __umulhi(r, sz.v[2]) >> sz.v[3];\n"
                       "    const unsigned c0 = r - q0 * sz.v[1];\n    r = q0;\n"
                       "    const unsigned q1 = __umulhi(r, sz.v[5]) >> sz.v[6];\n"
                       "    const unsigned c1 = r - q1 * sz.v[4];\n    r = q1;\n"
                       "    const unsigned q2 = __umulhi(r, sz.v[8]) >> sz.v[9];\n"
                       "    const unsigned c2 = r - q2 * sz.v[7];\n"))
      << s;
  EXPECT_FALSE(contains(s, "c3")) << s;
  EXPECT_TRUE(contains(s, "const unsigned o0 = c0 + c2 * sz.v[10];")) << s;
  EXPECT_TRUE(contains(s, "const unsigned o1 = c1;")) << s;
  EXPECT_TRUE(contains(s, "body(in0[i], in1[o0], in2[o1])")) << s;
  EXPECT_TRUE(contains(s, "i < n;")) << s;
  detail::CudaFastDivisor d5 = detail::cuda_fast_divisor(5), d4 = detail::cuda_fast_divisor(4),
                         d3 = detail::cuda_fast_divisor(3);
  EXPECT_EQ(kernels[0].size_args, (std::vector<uint64_t>{120, 5, d5.multiplier, d5.shift, 4, d4.multiplier,
                                                         d4.shift, 3, d3.multiplier, d3.shift, 5}))
      << s;
  EXPECT_FALSE(kernels[0].wide_indices);
  EXPECT_EQ(detail::cuda_size_argument(kernels[0]).size(), 11 * 4u);
  EXPECT_FALSE(kernels[0].vectorized);
  EXPECT_EQ(kernels[0].work_items, 120u);
}

// The source depends on the shape's structure only: two sizes of one op are one program,
// and a broadcast along another axis is another.
TEST(CudaCodegen, SourceIsTheSameAtEveryShapeOfOneStructure) {
  auto kernel = [](Dims x_shape, Dims y_shape) {
    GraphBuilder b;
    Operand x = b.input("x", DataType::float16, x_shape);
    Operand y = b.input("y", DataType::float16, y_shape);
    Graph graph = b.build({{"out", b.add(b.mul(x, y), x)}});
    return detail::generate_cuda_kernels(graph.ir()).at(0);
  };
  auto code = [](const GeneratedKernel& k) { return detail::cuda_kernel_code(k); };
  GeneratedKernel a = kernel({2, 77, 768}, {768}), b = kernel({8, 128, 768}, {768});
  EXPECT_EQ(code(a), code(b));
  EXPECT_NE(a.size_args, b.size_args);
  EXPECT_EQ(a.size_args.front(), 2u * 77 * 768);
  EXPECT_NE(code(a), code(kernel({2, 77, 768}, {77, 1})));
  // The comments name the shapes; the code does not.
  EXPECT_NE(a.definitions, b.definitions);
  EXPECT_EQ(code(a).find("//"), std::string::npos);
  EXPECT_EQ(code(a).find("77"), std::string::npos) << code(a);
}

// cuda_fast_divisor's promise, floor(x / d) == umulhi(x, m) >> s for x < 2^31, checked at
// the edges where a rounding error would show: multiples of d and their neighbours, near
// 2^31, for small, power-of-two, odd and huge divisors.
TEST(CudaCodegen, FastDivisorDividesExactlyBelowTwoToThe31) {
  auto umulhi = [](uint32_t a, uint32_t b) { return uint32_t((uint64_t(a) * b) >> 32); };
  const uint32_t top = (1u << 31) - 1;
  for (uint64_t d : {2ull, 3ull, 5ull, 7ull, 10ull, 12ull, 64ull, 77ull, 768ull, 3072ull, 50257ull,
                     65535ull, 65536ull, 1000003ull, (1ull << 30) + 1, (1ull << 31) - 1, 1ull << 31}) {
    detail::CudaFastDivisor f = detail::cuda_fast_divisor(d);
    std::vector<uint64_t> xs = {0, 1, d - 1, d, d + 1, top, top - 1, top - d, top - d + 1};
    for (uint64_t m = 1; m < 40; ++m) xs.insert(xs.end(), {m * d - 1, m * d, m * d + 1, top / d * d - m});
    for (uint64_t k = top / d; k > top / d - 40 && k > 0; --k) xs.insert(xs.end(), {k * d - 1, k * d});
    for (uint64_t x : xs) {
      if (x > top) continue;
      ASSERT_EQ(umulhi(uint32_t(x), f.multiplier) >> f.shift, x / d) << "x " << x << " d " << d;
    }
  }
  // A random sweep over the whole range.
  uint64_t seed = 1;
  for (int i = 0; i < 200000; ++i) {
    seed = seed * 6364136223846793005ull + 1442695040888963407ull;
    uint64_t d = 2 + (seed >> 33) % ((seed & 1) ? 5000 : (1u << 31) - 1);
    seed = seed * 6364136223846793005ull + 1442695040888963407ull;
    uint64_t x = (seed >> 33) & top;
    detail::CudaFastDivisor f = detail::cuda_fast_divisor(d);
    ASSERT_EQ(umulhi(uint32_t(x), f.multiplier) >> f.shift, x / d) << "x " << x << " d " << d;
  }
  EXPECT_THROW(detail::cuda_fast_divisor(1), Error);
  EXPECT_THROW(detail::cuda_fast_divisor((1ull << 31) + 1), Error);
}

TEST(CudaCodegen, MergedBroadcastDimensionsNeedOneDivision) {
  GraphBuilder b;
  // A per-channel value in NCHW: H and W merge, as do nothing else.
  Operand x = b.input("x", DataType::float32, {2, 8, 6, 7});
  Operand c = b.input("c", DataType::float32, {8, 1, 1});
  Graph graph = b.build({{"out", b.mul(x, c)}});
  const std::string s = detail::generate_cuda_kernels(graph.ir())[0].source;
  // One division: by the merged 6 x 7, then the remainder by 8 is the channel.
  EXPECT_TRUE(contains(s, "const unsigned q0 = __umulhi(r, sz.v[2]) >> sz.v[3];\n    r = q0;\n"
                          "    const unsigned q1 = __umulhi(r, sz.v[5]) >> sz.v[6];\n"
                          "    const unsigned c1 = r - q1 * sz.v[4];\n    const unsigned o0 = c1;"))
      << s;
  GeneratedKernel k = detail::generate_cuda_kernels(graph.ir())[0];
  EXPECT_EQ(k.size_args[1], 42u);
  EXPECT_EQ(k.size_args[4], 8u);
}

TEST(CudaCodegen, ConstantsAreInlinedOnlyWhenSmall) {
  GraphBuilder b;
  Operand x = b.input("x", DataType::float32, {2, 20, 16});
  Operand scalar = b.constant(testing::tensor_from_doubles(DataType::float32, {1, 1}, {-1.5}));
  Operand row = b.constant(testing::random_tensor(DataType::float32, {16}, -1, 1, 3));
  Operand big = b.constant(testing::random_tensor(DataType::float32, {20, 1}, -1, 1, 4));
  Graph graph = b.build({{"out", b.add(b.mul(b.add(x, scalar), row), big)}});
  const GraphIR& g = graph.ir();
  auto kernels = detail::generate_cuda_kernels(g);
  ASSERT_EQ(kernels.size(), 1u);
  const GeneratedKernel& k = kernels[0];
  EXPECT_EQ(k.inputs, (std::vector<OperandId>{g.inputs.at("x"), big.id()}));
  EXPECT_EQ(k.inlined_constants, (std::vector<OperandId>{scalar.id(), row.id()}));
  EXPECT_TRUE(contains(k.source, "(x0 + (-1.5f))")) << k.source;
  // The 16 values are a __constant__ array of float bits, indexed by the walk.
  EXPECT_TRUE(contains(k.source, "__constant__ unsigned cppnn_ew0_add_mul_add_k2[16] = {0x"))
      << k.source;
  EXPECT_TRUE(contains(k.source, "__uint_as_float(cppnn_ew0_add_mul_add_k2[o0])")) << k.source;
  EXPECT_TRUE(contains(k.source, "in1[o1]")) << k.source;
}

std::string kernel_source_of(const std::function<Operand(GraphBuilder&, Operand)>& make,
                             DataType type, Dims shape = {3, 5}) {
  GraphBuilder b;
  Operand x = b.input("x", type, shape);
  Graph graph = b.build({{"out", make(b, x)}});
  return detail::generate_cuda_kernels(graph.ir()).at(0).source;
}

TEST(CudaCodegen, LiteralsAreExact) {
  auto with_constant = [](DataType type, double v) {
    return kernel_source_of(
        [&](GraphBuilder& b, Operand x) { return b.add(x, b.constant(type, v)); }, type);
  };
  EXPECT_TRUE(contains(with_constant(DataType::int32, -2147483648.0), "(-2147483647 - 1)"));
  EXPECT_TRUE(contains(with_constant(DataType::uint32, 4294967295.0), "4294967295u"));
  EXPECT_TRUE(contains(with_constant(DataType::int8, -128), "((signed char)-128)"));
  EXPECT_TRUE(contains(with_constant(DataType::uint64, 1e19), "10000000000000000000ull"));
  EXPECT_TRUE(contains(with_constant(DataType::float32, 0.1), "0.1f"));
  EXPECT_TRUE(contains(with_constant(DataType::float32, 3), "3.0f"));
  // float16 constants are written as their (exact) float values.
  EXPECT_TRUE(contains(with_constant(DataType::float16, 0.1), "0.099975586f"));
  EXPECT_TRUE(contains(with_constant(DataType::float32, 1.0 / 0.0), "__int_as_float(2139095040)"));
  EXPECT_TRUE(
      contains(with_constant(DataType::float32, std::nan("")), "__int_as_float(2143289344)"));
  // int64 constants keep all their digits (a double would not).
  GraphBuilder b;
  Operand x = b.input("x", DataType::int64, {2});
  int64_t v = -9007199254740993;  // 2^53 + 1
  Operand c = b.constant(Tensor(DataType::int64, {}, &v, sizeof v));
  Graph graph = b.build({{"out", b.mul(x, c)}});
  EXPECT_TRUE(
      contains(detail::generate_cuda_kernels(graph.ir())[0].source, "(-9007199254740993ll)"));
}

TEST(CudaCodegen, SemanticsFollowTheCpuKernels) {
  // float16 computes in float and rounds after each op that can leave float16's grid, but
  // not where the store rounds anyway.
  std::string h = kernel_source_of(
      [](GraphBuilder& b, Operand x) { return b.max(b.exp(b.abs(x)), x); }, DataType::float16);
  EXPECT_TRUE(contains(h, "const float v0 = fabsf(x0);")) << h;
  EXPECT_TRUE(contains(h, "const float v1 = cg_rh(expf(v0));")) << h;
  EXPECT_TRUE(contains(h, "const float v2 = cg_fmax(v1, x0);")) << h;
  EXPECT_TRUE(contains(h, "asm(\"cvt.rn.f16.f32 %0, %1;\"")) << h;
  std::string f = kernel_source_of([](GraphBuilder& b, Operand x) { return b.gelu(b.div(x, x)); },
                                   DataType::float16);
  EXPECT_TRUE(
      contains(f, "const float v1 = (0.5f * v0 * (1.0f + erff(v0 * 0.70710678118654752f)));"))
      << f;
  // Integers wrap through the unsigned type; division by zero is 0.
  std::string i = kernel_source_of([](GraphBuilder& b, Operand x) { return b.div(b.add(x, x), x); },
                                   DataType::int32);
  EXPECT_TRUE(contains(i, "((int)((unsigned)(x0) + (unsigned)(x0)))")) << i;
  EXPECT_TRUE(contains(i, "cg_sdiv<int, unsigned>(v0, x0)")) << i;
  EXPECT_TRUE(contains(i, "b == C(0) ? C(0)")) << i;
  // cast saturates from float to integer, NaN to 0.
  std::string c = kernel_source_of(
      [](GraphBuilder& b, Operand x) { return b.cast(x, DataType::uint8); }, DataType::float32);
  EXPECT_TRUE(contains(c,
                       "cg_f2i<unsigned char>(x0, 0.0f, 256.0f, ((unsigned char)0), "
                       "((unsigned char)255))"))
      << c;
  EXPECT_TRUE(contains(c, "f != f ? T(0)")) << c;
}

TEST(CudaCodegen, SpecialValueOpsAreIeeeComparisonsAndRoundEvenIsRint) {
  for (DataType t : {DataType::float32, DataType::float16}) {
    std::string n = kernel_source_of([](GraphBuilder& b, Operand x) { return b.is_nan(x); }, t);
    EXPECT_TRUE(contains(n, "((unsigned char)(x0 != x0))")) << n;
    std::string i =
        kernel_source_of([](GraphBuilder& b, Operand x) { return b.is_infinite(x); }, t);
    EXPECT_TRUE(contains(i, "((unsigned char)(fabsf(x0) == __int_as_float(2139095040)))")) << i;
    // Integers are exact in float16, so the rounded value is stored without rounding again.
    std::string r = kernel_source_of([](GraphBuilder& b, Operand x) { return b.round_even(x); }, t);
    EXPECT_TRUE(contains(r, "const float v0 = rintf(x0);")) << r;
  }
}

TEST(CudaCodegen, VectorizedWhenContiguousAndAMultipleOfFour) {
  auto kernel = [](DataType type, Dims shape, Dims other) {
    GraphBuilder b;
    Operand x = b.input("x", type, shape), y = b.input("y", type, other);
    Graph graph = b.build({{"out", b.add(x, y)}});
    return detail::generate_cuda_kernels(graph.ir()).at(0);
  };
  GeneratedKernel f32 = kernel(DataType::float32, {6, 10}, {6, 10});
  EXPECT_TRUE(f32.vectorized);
  EXPECT_EQ(f32.work_items, 15u);
  EXPECT_TRUE(contains(f32.source, "reinterpret_cast<const cg_vec4<float>*>(in0)[i]"))
      << f32.source;
  EXPECT_EQ(f32.size_args, (std::vector<uint64_t>{15})) << f32.source;
  // A one-element input is loaded once per thread and does not prevent vectorizing.
  GeneratedKernel scalar = kernel(DataType::float16, {4, 2}, {});
  EXPECT_TRUE(scalar.vectorized);
  EXPECT_TRUE(contains(scalar.source, "const float s1 = cg_h2f(in1[0]);")) << scalar.source;
  EXPECT_FALSE(kernel(DataType::float32, {6, 10}, {10}).vectorized);   // broadcast
  EXPECT_FALSE(kernel(DataType::float32, {3, 5}, {3, 5}).vectorized);  // 15 elements
  EXPECT_FALSE(kernel(DataType::int64, {4, 4}, {4, 4}).vectorized);    // 32-byte vectors
  EXPECT_TRUE(kernel(DataType::int8, {4, 4}, {4, 4}).vectorized);
}

TEST(CudaCodegen, SixtyFourBitIndicesOnlyForHugeOutputs) {
  std::string small = kernel_source_of([](GraphBuilder& b, Operand x) { return b.relu(x); },
                                       DataType::float32, {1024, 1024});
  EXPECT_TRUE(contains(small, "for (unsigned i = ")) << small;
  // 2^31 + 8 elements: nothing is allocated, the graph only describes them.
  std::string huge = kernel_source_of([](GraphBuilder& b, Operand x) { return b.relu(x); },
                                      DataType::int8, {2, 1073741828});
  EXPECT_TRUE(contains(huge, "for (unsigned long long i = ")) << huge;
  EXPECT_TRUE(contains(huge, "struct cppnn_ew0_relu_sizes { unsigned long long v[1]; };")) << huge;
}

TEST(CudaCodegen, SourceIsDeterministic) {
  auto build = [] {
    GraphBuilder b;
    Operand x = b.input("x", DataType::float16, {2, 24, 5, 7});
    Operand s = b.constant(testing::random_tensor(DataType::float16, {24, 1, 1}, -1, 1, 9));
    Operand t = b.constant(testing::random_tensor(DataType::float16, {1, 7}, -1, 1, 10));
    Operand e = b.exp(b.mul(x, s));
    return b.build({{"a", b.add(e, t)}, {"b", b.cast(b.clamp(e), DataType::int8)}});
  };
  Graph g1 = build(), g2 = build();
  auto k1 = detail::generate_cuda_kernels(g1.ir());
  auto k2 = detail::generate_cuda_kernels(g1.ir());
  auto k3 = detail::generate_cuda_kernels(g2.ir());
  ASSERT_EQ(k1.size(), 3u);
  for (size_t i = 0; i < k1.size(); ++i) {
    EXPECT_EQ(k1[i].source, k2[i].source);
    EXPECT_EQ(k1[i].source, k3[i].source);
    EXPECT_EQ(k1[i].name, k3[i].name);
  }
}

TEST(CudaCodegen, NamesAreUniqueAndSayWhatTheKernelDoes) {
  GraphBuilder b;
  Operand x = b.input("x", DataType::float32, {4});
  Operand y = x;
  for (int i = 0; i < 6; ++i) y = i % 2 ? b.exp(y) : b.neg(y);
  Graph graph = b.build({{"y", y}, {"z", b.relu(x)}, {"w", b.relu(x)}});
  auto kernels = detail::generate_cuda_kernels(graph.ir());
  ASSERT_EQ(kernels.size(), 3u);
  EXPECT_EQ(kernels[0].name, "cppnn_ew0_neg_exp_neg_exp_and2more");
  EXPECT_EQ(kernels[1].name, "cppnn_ew1_relu");
  EXPECT_EQ(kernels[2].name, "cppnn_ew2_relu");
  EXPECT_TRUE(contains(kernels[0].source, "cppnn_ew0_neg_exp_neg_exp_and2more_body("));
}

TEST(CudaCodegen, ModuleSourceHoldsEveryKernelAndEachHelperOnce) {
  GraphBuilder b;
  Operand x = b.input("x", DataType::float16, {4, 4});
  Operand e = b.exp(x);
  Graph graph = b.build({{"e", e}, {"s", b.sin(e)}, {"m", b.max(x, e)}});
  auto kernels = detail::generate_cuda_kernels(graph.ir());
  ASSERT_EQ(kernels.size(), 3u);
  std::string module = detail::cuda_module_source(kernels);
  auto count = [&](const std::string& part) {
    size_t n = 0;
    for (size_t p = module.find(part); p != std::string::npos; p = module.find(part, p + 1)) ++n;
    return n;
  };
  EXPECT_EQ(count("float cg_h2f(unsigned short h)"), 1u) << module;
  EXPECT_EQ(count("float cg_fmax(float a, float b)"), 1u) << module;
  for (const GeneratedKernel& k : kernels) {
    EXPECT_NE(module.find(k.definitions), std::string::npos) << k.name;
    EXPECT_EQ(k.source.substr(k.source.size() - k.definitions.size()), k.definitions);
  }
}

TEST(CudaCodegen, GridCoversTheWorkUpToAFewWaves) {
  GeneratedKernel k;
  k.work_items = 1000;
  EXPECT_EQ(detail::cuda_grid_size(k, 132), 4u);
  k.work_items = 100000000;
  EXPECT_EQ(detail::cuda_grid_size(k, 132), 132u * 8);
  EXPECT_EQ(detail::cuda_grid_size(k, 0), 8u);
  k.work_items = 0;
  EXPECT_EQ(detail::cuda_grid_size(k, 132), 1u);
}

}  // namespace
}  // namespace cppnn
