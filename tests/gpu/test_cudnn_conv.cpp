// conv2d and convTranspose2d on cuDNN against the CPU backend (oneDNN): both input layouts,
// every filter layout, strides, dilations, symmetric and asymmetric padding, groups and
// depthwise, bias, every fused activation, fused residuals (aliased with the output and
// not), convTranspose2d's outputPadding / outputSizes, fp16, filters that are graph inputs,
// a case cuDNN cannot express (CPU fallback), and a timing print.
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>
#include <tuple>

#include "gpu/gpu_test_support.h"
#include "graph/op_id.h"

namespace cppnn {
namespace {

using gpu_testing::cpu_context;
using gpu_testing::expect_rel_close;
using testing::random_tensor;

constexpr double kFp32Tolerance = 1e-4;
constexpr double kFp16Tolerance = 1e-2;

// Contexts made under this file's switches (see switched_cuda_context).
Context& cuda_context() { return gpu_testing::switched_cuda_context({"CPPNN_CUDA_OWN_KERNELS", "CPPNN_CUDNN_NO_TIMING"}); }

uint32_t seed_counter = 5000;
Tensor fresh(DataType t, const Dims& shape) { return random_tensor(t, shape, -1, 1, ++seed_counter); }

// Runs `g` twice with fresh inputs (the plan must keep nothing of the first run) on both
// contexts and compares every output.
void expect_matches_cpu(const Graph& g, const std::map<std::string, std::pair<DataType, Dims>>& ins,
                        double rtol, const std::string& what) {
  for (int run = 0; run < 2; ++run) {
    NamedTensors inputs;
    for (const auto& [name, td] : ins) inputs[name] = fresh(td.first, td.second);
    NamedTensors want = cpu_context().compute(g, inputs);
    NamedTensors got = cuda_context().compute(g, inputs);
    ASSERT_EQ(got.size(), want.size());
    for (const auto& [name, tensor] : want)
      expect_rel_close(got.at(name), tensor, rtol, what + " " + name);
  }
}

// The report's step line of the node labelled `label`, "" when there is none.
std::string step_line(const std::string& report, const std::string& op, const std::string& label) {
  std::string needle = op + " '" + label + "'";
  size_t steps = report.find("steps:");
  size_t pos = report.find(needle, steps == std::string::npos ? 0 : steps);
  if (pos == std::string::npos) return "";
  size_t begin = report.rfind('\n', pos);
  size_t end = report.find('\n', pos);
  return report.substr(begin == std::string::npos ? 0 : begin + 1,
                       end == std::string::npos ? std::string::npos : end - begin - 1);
}

void expect_on_gpu(const Graph& g, const std::string& op, const std::string& label) {
  std::string report = cuda_context().report(g);
  std::string line = step_line(report, op, label);
  EXPECT_NE(line.find("[gpu]"), std::string::npos) << "not on the GPU: " << label << "\n" << report;
}

size_t step_count(const std::string& report) {
  size_t steps = report.find("steps:"), n = 0;
  for (size_t p = report.find("\n  [", steps); p != std::string::npos; p = report.find("\n  [", p + 1)) ++n;
  return n;
}

Dims conv_filter_shape(Conv2dFilterLayout l, int64_t o, int64_t i, int64_t kh, int64_t kw) {
  switch (l) {
    case Conv2dFilterLayout::hwio: return {kh, kw, i, o};
    case Conv2dFilterLayout::ohwi: return {o, kh, kw, i};
    case Conv2dFilterLayout::ihwo: return {i, kh, kw, o};
    default: return {o, i, kh, kw};
  }
}

Dims transpose_filter_shape(ConvTranspose2dFilterLayout l, int64_t i, int64_t og, int64_t kh, int64_t kw) {
  switch (l) {
    case ConvTranspose2dFilterLayout::hwoi: return {kh, kw, og, i};
    case ConvTranspose2dFilterLayout::ohwi: return {og, kh, kw, i};
    default: return {i, og, kh, kw};
  }
}

Dims input_shape(InputLayout layout, int64_t n, int64_t c, int64_t h, int64_t w) {
  return layout == InputLayout::nhwc ? Dims{n, h, w, c} : Dims{n, c, h, w};
}

const char* name(InputLayout l) { return l == InputLayout::nhwc ? "nhwc" : "nchw"; }

struct ConvCase {
  int64_t n = 2, c = 8, h = 9, w = 10, o = 16, kh = 3, kw = 3;
  std::vector<uint32_t> padding, strides, dilations;
  uint32_t groups = 1;
  InputLayout layout = InputLayout::nhwc;
  Conv2dFilterLayout filter_layout = Conv2dFilterLayout::ohwi;
  bool bias = true;
  bool filter_input = false;  // the filter is a graph input, not a constant
  std::string activation;     // "", relu, clamp, leakyRelu, elu, sigmoid, tanh, hardSwish, gelu
  DataType type = DataType::float32;
};

Operand apply_activation(GraphBuilder& b, const Operand& x, const std::string& act) {
  if (act.empty()) return x;
  switch (detail::find_op(act).value_or(detail::OpId::none)) {
    case detail::OpId::relu:
      return b.relu(x);
    case detail::OpId::clamp: {
      ClampOptions o;
      o.min_value = 0.0, o.max_value = 6.0;
      return b.clamp(x, o);
    }
    case detail::OpId::leakyRelu: {
      LeakyReluOptions o;
      o.alpha = 0.2;
      return b.leaky_relu(x, o);
    }
    case detail::OpId::elu: {
      EluOptions o;
      o.alpha = 0.7;
      return b.elu(x, o);
    }
    case detail::OpId::sigmoid:
      return b.sigmoid(x);
    case detail::OpId::tanh:
      return b.tanh(x);
    case detail::OpId::hardSwish:
      return b.hard_swish(x);
    case detail::OpId::gelu:
      return b.gelu(x);
    default:
      ADD_FAILURE() << "unknown activation " << act;
      return x;
  }
}

// The conv of `k` (labelled "conv") and its activation; `ins` gets the graph's inputs.
Graph build_conv_graph(const ConvCase& k, std::map<std::string, std::pair<DataType, Dims>>* ins = nullptr) {
  GraphBuilder b;
  Operand x = b.input("x", k.type, input_shape(k.layout, k.n, k.c, k.h, k.w));
  Dims fshape = conv_filter_shape(k.filter_layout, k.o, k.c / k.groups, k.kh, k.kw);
  if (ins) (*ins)["x"] = {k.type, x.shape()};
  Operand f;
  if (k.filter_input) {
    f = b.input("f", k.type, fshape);
    if (ins) (*ins)["f"] = {k.type, fshape};
  } else {
    f = b.constant(fresh(k.type, fshape));
  }
  Conv2dOptions o;
  o.padding = k.padding, o.strides = k.strides, o.dilations = k.dilations, o.groups = k.groups;
  o.input_layout = k.layout, o.filter_layout = k.filter_layout;
  if (k.bias) o.bias = b.constant(fresh(k.type, {k.o}));
  o.label = "conv";
  Operand y = apply_activation(b, b.conv2d(x, f, o), k.activation);
  return b.build({{"y", y}});
}

// Checks the conv of `k` against the CPU backend; returns its step line of the report.
std::string check_conv(const ConvCase& k, const std::string& what) {
  SCOPED_TRACE(what);
  std::map<std::string, std::pair<DataType, Dims>> ins;
  Graph g = build_conv_graph(k, &ins);
  expect_matches_cpu(g, ins, k.type == DataType::float16 ? kFp16Tolerance : kFp32Tolerance, what);
  expect_on_gpu(g, "conv2d", "conv");
  std::string report = cuda_context().report(g);
  if (!k.activation.empty()) {
    // Fused and applied by cuDNN or the epilogue: no step of its own.
    EXPECT_NE(step_line(report, "conv2d", "conv").find(k.activation), std::string::npos) << report;
    EXPECT_EQ(report.find(k.activation + " as generated kernel"), std::string::npos) << report;
  }
  return step_line(report, "conv2d", "conv");
}

TEST(CudnnConv, LayoutsAndFilterLayouts) {
  REQUIRE_CUDA();
  gpu_testing::ScopedEnv libraries_only("CPPNN_CUDA_OWN_KERNELS", "0");  // the library paths
  for (InputLayout layout : {InputLayout::nchw, InputLayout::nhwc})
    for (Conv2dFilterLayout fl : {Conv2dFilterLayout::oihw, Conv2dFilterLayout::hwio,
                                  Conv2dFilterLayout::ohwi, Conv2dFilterLayout::ihwo})
      for (bool bias : {true, false}) {
        ConvCase k;
        k.layout = layout, k.filter_layout = fl, k.bias = bias, k.padding = {1, 1, 1, 1};
        check_conv(k, std::string(name(layout)) + " filter layout " + std::to_string(int(fl)) +
                          (bias ? " bias" : " no bias"));
      }
}

TEST(CudnnConv, StridesDilationsPadding) {
  REQUIRE_CUDA();
  gpu_testing::ScopedEnv libraries_only("CPPNN_CUDA_OWN_KERNELS", "0");  // the library paths
  struct P {
    std::vector<uint32_t> padding, strides, dilations;
    int64_t kh, kw;
  };
  const P cases[] = {
      {{1, 1, 1, 1}, {2, 2}, {}, 3, 3},
      {{2, 2, 0, 0}, {1, 2}, {2, 1}, 3, 3},
      {{0, 1, 0, 1}, {2, 2}, {}, 3, 3},   // TF SAME: height as symmetric, width padded explicitly
      {{0, 1, 0, 1}, {2, 2}, {}, 2, 2},   // TF SAME, even filter
      {{2, 0, 1, 3}, {1, 1}, {}, 3, 3},   // asymmetric both ways: padded explicitly
      {{1, 2, 2, 1}, {3, 3}, {}, 3, 3},
      {{3, 3, 3, 3}, {1, 1}, {3, 3}, 3, 3},
      {{0, 0, 0, 0}, {1, 1}, {}, 1, 1},
      {{0, 0, 0, 0}, {4, 4}, {}, 7, 5},
  };
  for (InputLayout layout : {InputLayout::nchw, InputLayout::nhwc})
    for (const P& p : cases) {
      ConvCase k;
      k.h = 17, k.w = 14, k.layout = layout;
      k.filter_layout = layout == InputLayout::nhwc ? Conv2dFilterLayout::ohwi : Conv2dFilterLayout::oihw;
      k.padding = p.padding, k.strides = p.strides, k.dilations = p.dilations, k.kh = p.kh, k.kw = p.kw;
      check_conv(k, std::string(name(layout)) + " k" + std::to_string(p.kh) + "x" +
                        std::to_string(p.kw) + " pad " + ::testing::PrintToString(p.padding) +
                        " strides " + ::testing::PrintToString(p.strides) + " dilations " +
                        ::testing::PrintToString(p.dilations));
    }
}

TEST(CudnnConv, GroupsAndDepthwise) {
  REQUIRE_CUDA();
  gpu_testing::ScopedEnv libraries_only("CPPNN_CUDA_OWN_KERNELS", "0");  // the library paths
  for (InputLayout layout : {InputLayout::nchw, InputLayout::nhwc})
    for (Conv2dFilterLayout fl : {Conv2dFilterLayout::oihw, Conv2dFilterLayout::ihwo,
                                  Conv2dFilterLayout::ohwi, Conv2dFilterLayout::hwio})
      for (bool bias : {true, false}) {
        ConvCase grouped;
        grouped.layout = layout, grouped.filter_layout = fl, grouped.bias = bias;
        grouped.c = 8, grouped.o = 12, grouped.groups = 4, grouped.padding = {1, 1, 1, 1};
        check_conv(grouped, std::string("grouped ") + name(layout) + " " + std::to_string(int(fl)));
        ConvCase dw = grouped;
        dw.c = 16, dw.o = 16, dw.groups = 16, dw.strides = {2, 2}, dw.activation = "clamp";
        check_conv(dw, std::string("depthwise ") + name(layout) + " " + std::to_string(int(fl)));
      }
}

TEST(CudnnConv, FusedActivations) {
  REQUIRE_CUDA();
  gpu_testing::ScopedEnv libraries_only("CPPNN_CUDA_OWN_KERNELS", "0");  // the library paths
  for (const char* act : {"relu", "clamp", "leakyRelu", "elu", "sigmoid", "tanh", "hardSwish", "gelu"})
    for (bool bias : {true, false}) {
      ConvCase k;
      k.padding = {1, 1, 1, 1}, k.activation = act, k.bias = bias;
      check_conv(k, std::string("activation ") + act + (bias ? " bias" : " no bias"));
    }
}

TEST(CudnnConv, FilterIsGraphInput) {
  REQUIRE_CUDA();
  gpu_testing::ScopedEnv libraries_only("CPPNN_CUDA_OWN_KERNELS", "0");  // the library paths
  for (InputLayout layout : {InputLayout::nchw, InputLayout::nhwc})
    for (Conv2dFilterLayout fl : {Conv2dFilterLayout::oihw, Conv2dFilterLayout::ohwi,
                                  Conv2dFilterLayout::hwio}) {
      ConvCase k;
      k.layout = layout, k.filter_layout = fl, k.filter_input = true, k.padding = {1, 1, 1, 1};
      check_conv(k, std::string("filter input ") + name(layout) + " " + std::to_string(int(fl)));
    }
  ConvCase dw;
  dw.filter_input = true, dw.c = 8, dw.o = 8, dw.groups = 8, dw.filter_layout = Conv2dFilterLayout::ihwo;
  dw.padding = {1, 1, 1, 1};
  check_conv(dw, "depthwise filter input ihwo");
}

TEST(CudnnConv, Float16) {
  REQUIRE_CUDA();
  gpu_testing::ScopedEnv libraries_only("CPPNN_CUDA_OWN_KERNELS", "0");  // the library paths
  ConvCase k;
  k.type = DataType::float16, k.c = 16, k.o = 32, k.padding = {1, 1, 1, 1}, k.activation = "relu";
  check_conv(k, "fp16 nhwc bias relu");
  ConvCase none = k;
  none.activation = "";
  check_conv(none, "fp16 nhwc bias");
  ConvCase dw = k;
  dw.o = 16, dw.groups = 16, dw.activation = "clamp", dw.strides = {2, 2};
  check_conv(dw, "fp16 depthwise clamp");
  ConvCase nchw = k;
  nchw.layout = InputLayout::nchw, nchw.filter_layout = Conv2dFilterLayout::oihw, nchw.activation = "hardSwish";
  nchw.padding = {0, 1, 0, 1}, nchw.strides = {2, 2};
  check_conv(nchw, "fp16 nchw asymmetric hardSwish");
  ConvCase input = k;
  input.filter_input = true, input.filter_layout = Conv2dFilterLayout::hwio;
  check_conv(input, "fp16 filter input");
}

// conv + add + relu fused into one conv step, the residual either a graph input (copied
// into the output first) or an intermediate the memory plan lets the output overwrite.
// expect_fused: the block's conv must run as cuDNN's fused conv + residual (z) + bias + relu.
void check_residual(DataType t, InputLayout layout, bool residual_is_input, bool expect_fused = false,
                    const char* expect_kernel = nullptr) {
  std::string what = "residual " + std::string(to_string(t)) + " " + name(layout) +
                     (residual_is_input ? " input" : " intermediate") + (expect_fused ? " fused" : "");
  SCOPED_TRACE(what);
  int64_t n = 2, c = 16, h = 8, w = 8;
  Dims shape = input_shape(layout, n, c, h, w);
  Conv2dFilterLayout fl = layout == InputLayout::nhwc ? Conv2dFilterLayout::ohwi : Conv2dFilterLayout::oihw;
  GraphBuilder b;
  Operand x = b.input("x", t, shape);
  std::map<std::string, std::pair<DataType, Dims>> ins{{"x", {t, shape}}};
  auto conv = [&](const Operand& in, const std::string& label, int64_t k) {
    Conv2dOptions o;
    o.padding = k == 3 ? std::vector<uint32_t>{1, 1, 1, 1} : std::vector<uint32_t>{};
    o.input_layout = layout, o.filter_layout = fl, o.label = label;
    o.bias = b.constant(fresh(t, {c}));
    return b.conv2d(in, b.constant(fresh(t, conv_filter_shape(fl, c, c, k, k))), o);
  };
  Operand residual;
  if (residual_is_input) {
    residual = b.input("r", t, shape);
    ins["r"] = {t, shape};
  } else {
    residual = conv(x, "side", 1);
  }
  Operand main = conv(x, "main", 1);
  Operand sum = b.relu(b.add(conv(main, "block", 3), residual));
  // Another conv after it, so the block's output is no graph output (else no aliasing).
  Graph g = b.build({{"y", conv(sum, "after", 1)}});
  expect_matches_cpu(g, ins, t == DataType::float16 ? kFp16Tolerance : kFp32Tolerance, what);
  std::string report = cuda_context().report(g);
  std::string line = step_line(report, "conv2d", "block");
  EXPECT_NE(line.find("[gpu]"), std::string::npos) << report;
  // An NCHW graph input as residual reaches the add through the layout pass's transpose
  // back to NCHW, which stops the fusion (the values are still checked above).
  if (layout == InputLayout::nchw && residual_is_input) return;
  EXPECT_NE(line.find("residual"), std::string::npos) << report;
  if (expect_kernel) {
    EXPECT_NE(line.find(expect_kernel), std::string::npos) << report;
    EXPECT_NE(line.find("residual fused"), std::string::npos) << report;
  }
  if (expect_fused) {
    EXPECT_NE(line.find("residual fused (z), bias+relu fused"), std::string::npos) << report;
  }
  for (const char* add : {"] add", "add as generated kernel", "add+"})
    EXPECT_EQ(report.find(add), std::string::npos) << "the add was not fused\n" << report;
  if (layout == InputLayout::nhwc) {
    size_t convs = residual_is_input ? 3 : 4;
    EXPECT_EQ(step_count(report), convs) << report;
  }
}

TEST(CudnnConv, ResidualFusion) {
  REQUIRE_CUDA();
  gpu_testing::ScopedEnv libraries_only("CPPNN_CUDA_OWN_KERNELS", "0");  // the library paths
  for (DataType t : {DataType::float32, DataType::float16})
    for (InputLayout layout : {InputLayout::nhwc, InputLayout::nchw})
      for (bool input : {true, false}) check_residual(t, layout, input);
  // The heuristic's first algorithm, untimed, is taken in its fused form when cuDNN runs it:
  // the residual then enters as z, also when it is the output's own bytes.
  gpu_testing::ScopedEnv untimed("CPPNN_CUDNN_NO_TIMING", "1");
  for (DataType t : {DataType::float32, DataType::float16})
    for (InputLayout layout : {InputLayout::nhwc, InputLayout::nchw})
      for (bool input : {true, false}) check_residual(t, layout, input, true);
}

struct TransposeCase {
  int64_t n = 2, c = 8, h = 5, w = 6, og = 6, kh = 3, kw = 3;
  std::vector<uint32_t> padding, strides, dilations, output_padding, output_sizes;
  uint32_t groups = 1;
  InputLayout layout = InputLayout::nchw;
  ConvTranspose2dFilterLayout filter_layout = ConvTranspose2dFilterLayout::iohw;
  bool bias = true, filter_input = false;
  std::string activation;
  DataType type = DataType::float32;
  bool expect_crop = false;  // padding cuDNN cannot express: the whole output, cropped
};

void check_transpose(const TransposeCase& k, const std::string& what) {
  SCOPED_TRACE(what);
  GraphBuilder b;
  Operand x = b.input("x", k.type, input_shape(k.layout, k.n, k.c, k.h, k.w));
  Dims fshape = transpose_filter_shape(k.filter_layout, k.c, k.og, k.kh, k.kw);
  std::map<std::string, std::pair<DataType, Dims>> ins{{"x", {k.type, x.shape()}}};
  Operand f;
  if (k.filter_input) {
    f = b.input("f", k.type, fshape);
    ins["f"] = {k.type, fshape};
  } else {
    f = b.constant(fresh(k.type, fshape));
  }
  ConvTranspose2dOptions o;
  o.padding = k.padding, o.strides = k.strides, o.dilations = k.dilations;
  o.output_padding = k.output_padding, o.output_sizes = k.output_sizes, o.groups = k.groups;
  o.input_layout = k.layout, o.filter_layout = k.filter_layout, o.label = "deconv";
  if (k.bias) o.bias = b.constant(fresh(k.type, {k.og * k.groups}));
  Operand y = apply_activation(b, b.conv_transpose2d(x, f, o), k.activation);
  Graph g = b.build({{"y", y}});
  expect_matches_cpu(g, ins, k.type == DataType::float16 ? kFp16Tolerance : kFp32Tolerance, what);
  std::string report = cuda_context().report(g);
  std::string line = step_line(report, "convTranspose2d", "deconv");
  EXPECT_NE(line.find("[gpu]"), std::string::npos) << report;
  EXPECT_EQ(line.find("output cropped") != std::string::npos, k.expect_crop) << report;
}

TEST(CudnnConvTranspose, Attributes) {
  REQUIRE_CUDA();
  gpu_testing::ScopedEnv libraries_only("CPPNN_CUDA_OWN_KERNELS", "0");  // the library paths
  for (InputLayout layout : {InputLayout::nchw, InputLayout::nhwc})
    for (ConvTranspose2dFilterLayout fl : {ConvTranspose2dFilterLayout::iohw, ConvTranspose2dFilterLayout::hwoi,
                                           ConvTranspose2dFilterLayout::ohwi}) {
      std::string base = std::string(name(layout)) + " filter " + std::to_string(int(fl));
      TransposeCase k;
      k.layout = layout, k.filter_layout = fl;
      check_transpose(k, base + " plain");
      TransposeCase s = k;
      s.strides = {2, 2}, s.padding = {1, 1, 1, 1}, s.output_padding = {1, 1};
      check_transpose(s, base + " stride 2 outputPadding");
      TransposeCase sizes = k;
      sizes.strides = {3, 2}, sizes.padding = {1, 1, 0, 0}, sizes.output_sizes = {15, 14};
      check_transpose(sizes, base + " outputSizes");
      TransposeCase g = k;
      g.groups = 2, g.og = 3, g.strides = {2, 2}, g.dilations = {1, 2}, g.activation = "relu", g.bias = true;
      check_transpose(g, base + " groups dilations relu");
      TransposeCase asym = k;
      asym.strides = {2, 2}, asym.padding = {1, 0, 1, 0}, asym.activation = "sigmoid";
      check_transpose(asym, base + " asymmetric padding cuDNN can express");
      TransposeCase input = k;
      input.filter_input = true, input.strides = {2, 2};
      check_transpose(input, base + " filter input");
    }
}

TEST(CudnnConvTranspose, Float16AndCroppedOutputs) {
  REQUIRE_CUDA();
  gpu_testing::ScopedEnv libraries_only("CPPNN_CUDA_OWN_KERNELS", "0");  // the library paths
  TransposeCase h;
  h.type = DataType::float16, h.layout = InputLayout::nhwc, h.filter_layout = ConvTranspose2dFilterLayout::ohwi;
  h.strides = {2, 2}, h.padding = {1, 1, 1, 1}, h.output_padding = {1, 1}, h.activation = "relu";
  check_transpose(h, "fp16 nhwc stride 2 relu");
  // Padding [0, 2] at stride 1: cuDNN's symmetric padding cannot give this output size, so
  // cuDNN computes the whole transposed output and the step crops it.
  TransposeCase r;
  r.padding = {0, 2, 0, 2}, r.expect_crop = true;
  check_transpose(r, "padding cuDNN cannot express");
  // A top padding over the stride, output padding past the whole output's end, fp16 NHWC,
  // groups, dilations, a fused activation, and a filter given as an input.
  TransposeCase big = r;
  big.strides = {2, 3}, big.padding = {3, 0, 0, 4}, big.output_padding = {1, 2};
  big.type = DataType::float16, big.layout = InputLayout::nhwc;
  big.filter_layout = ConvTranspose2dFilterLayout::hwoi, big.activation = "relu";
  check_transpose(big, "fp16 nhwc cropped, output padding past the end");
  TransposeCase g = r;
  g.groups = 2, g.og = 3, g.dilations = {2, 1}, g.padding = {2, 0, 1, 3}, g.filter_input = true;
  g.activation = "sigmoid";
  check_transpose(g, "cropped with groups, dilations, filter input");
  TransposeCase sizes = r;
  sizes.strides = {2, 2}, sizes.padding = {0, 3, 2, 0}, sizes.output_sizes = {9, 12};
  check_transpose(sizes, "cropped with outputSizes");
}

// Our kernels (CPPNN_CUDA_OWN_KERNELS=only) on the cases above and more: values against the
// CPU backend, and the report must name the kernel.
void check_own(const ConvCase& k, const std::string& what, const char* kernel) {
  std::string line = check_conv(k, what);
  EXPECT_NE(line.find(kernel), std::string::npos) << what << ": " << line;
}
void check_own_depthwise(const ConvCase& k, const std::string& what) {
  check_own(k, what, "own depthwise kernel");
}

TEST(OwnDepthwiseConv, MatchesTheCpuBackend) {
  REQUIRE_CUDA();
  gpu_testing::ScopedEnv own("CPPNN_CUDA_OWN_KERNELS", "only");
  for (DataType t : {DataType::float32, DataType::float16})
    for (InputLayout layout : {InputLayout::nchw, InputLayout::nhwc})
      for (Conv2dFilterLayout fl : {Conv2dFilterLayout::oihw, Conv2dFilterLayout::ihwo,
                                    Conv2dFilterLayout::ohwi, Conv2dFilterLayout::hwio})
        for (bool bias : {true, false}) {
          ConvCase dw;
          dw.type = t, dw.layout = layout, dw.filter_layout = fl, dw.bias = bias;
          dw.c = 16, dw.o = 16, dw.groups = 16, dw.strides = {2, 2}, dw.padding = {1, 1, 1, 1};
          dw.activation = "clamp";
          check_own_depthwise(dw, std::string("own ") + std::string(to_string(t)) + " " +
                                      name(layout) + " filter " + std::to_string(int(fl)) +
                                      (bias ? " bias" : ""));
        }
  ConvCase base;
  base.c = 24, base.o = 24, base.groups = 24, base.padding = {1, 1, 1, 1};
  for (const char* act : {"relu", "leakyRelu", "elu", "sigmoid", "tanh", "hardSwish", "gelu"})
    for (DataType t : {DataType::float32, DataType::float16}) {
      ConvCase k = base;
      k.type = t, k.activation = act;
      check_own_depthwise(k, std::string("own activation ") + act + " " + std::string(to_string(t)));
    }
  ConvCase big = base;  // 5x5, dilated, asymmetric padding
  big.kh = big.kw = 5, big.dilations = {2, 1}, big.padding = {3, 1, 0, 2}, big.h = 12, big.w = 11;
  check_own_depthwise(big, "own 5x5 dilated asymmetric");
  big.type = DataType::float16, big.layout = InputLayout::nchw, big.filter_layout = Conv2dFilterLayout::oihw;
  check_own_depthwise(big, "own 5x5 dilated asymmetric fp16 nchw");
  ConvCase odd = base;  // 2-wide and scalar float16 channel loads, a 3x1 window
  odd.type = DataType::float16, odd.c = odd.o = odd.groups = 6, odd.kh = 3, odd.kw = 1;
  odd.padding = {1, 1, 0, 0};
  check_own_depthwise(odd, "own fp16 6 channels 3x1");
  odd.c = odd.o = odd.groups = 3;
  check_own_depthwise(odd, "own fp16 3 channels 3x1");
  ConvCase mult = base;  // channel multiplier 2
  mult.c = 8, mult.o = 16, mult.groups = 8;
  for (InputLayout layout : {InputLayout::nchw, InputLayout::nhwc}) {
    mult.layout = layout;
    check_own_depthwise(mult, std::string("own multiplier 2 ") + name(layout));
  }
  for (InputLayout layout : {InputLayout::nchw, InputLayout::nhwc})
    for (DataType t : {DataType::float32, DataType::float16}) {
      ConvCase input = base;  // a computed filter: read in cuDNN's [k][tap] order
      input.filter_input = true, input.layout = layout, input.type = t;
      input.filter_layout = Conv2dFilterLayout::hwio;
      check_own_depthwise(input, std::string("own filter input ") + name(layout) + " " +
                                     std::string(to_string(t)));
    }
}

// A depthwise conv + add + relu: the residual fused into our kernel, aliased with the output
// (an intermediate) or not (a graph input).
TEST(OwnDepthwiseConv, Residual) {
  REQUIRE_CUDA();
  gpu_testing::ScopedEnv own("CPPNN_CUDA_OWN_KERNELS", "only");
  for (DataType t : {DataType::float32, DataType::float16})
    for (bool residual_is_input : {true, false}) {
      std::string what = std::string("own residual ") + std::string(to_string(t)) +
                         (residual_is_input ? " input" : " intermediate");
      SCOPED_TRACE(what);
      Dims shape{2, 8, 8, 32};
      GraphBuilder b;
      Operand x = b.input("x", t, shape);
      std::map<std::string, std::pair<DataType, Dims>> ins{{"x", {t, shape}}};
      auto conv = [&](const Operand& in, const std::string& label, bool depthwise) {
        Conv2dOptions o;
        o.padding = depthwise ? std::vector<uint32_t>{1, 1, 1, 1} : std::vector<uint32_t>{};
        o.groups = depthwise ? 32 : 1;
        o.input_layout = InputLayout::nhwc, o.filter_layout = Conv2dFilterLayout::ohwi, o.label = label;
        o.bias = b.constant(fresh(t, {32}));
        Dims f = depthwise ? Dims{32, 3, 3, 1} : Dims{32, 1, 1, 32};
        return b.conv2d(in, b.constant(fresh(t, f)), o);
      };
      Operand residual;
      if (residual_is_input) {
        residual = b.input("r", t, shape);
        ins["r"] = {t, shape};
      } else {
        residual = conv(x, "side", false);
      }
      Operand sum = b.relu(b.add(conv(conv(x, "main", false), "block", true), residual));
      Graph g = b.build({{"y", conv(sum, "after", false)}});
      expect_matches_cpu(g, ins, t == DataType::float16 ? kFp16Tolerance : kFp32Tolerance, what);
      std::string line = step_line(cuda_context().report(g), "conv2d", "block");
      EXPECT_NE(line.find("own depthwise kernel"), std::string::npos) << line;
      EXPECT_NE(line.find("residual fused"), std::string::npos) << line;
    }
}

TEST(OwnTensorConv, MatchesTheCpuBackend) {
  REQUIRE_CUDA();
  gpu_testing::ScopedEnv own("CPPNN_CUDA_OWN_KERNELS", "only");
  const char* kernel = "own tensor-core kernel";
  ConvCase base;
  base.type = DataType::float16, base.layout = InputLayout::nhwc;
  base.filter_layout = Conv2dFilterLayout::ohwi, base.c = 16, base.o = 24, base.kh = base.kw = 1;
  for (Conv2dFilterLayout fl : {Conv2dFilterLayout::oihw, Conv2dFilterLayout::ihwo,
                                Conv2dFilterLayout::ohwi, Conv2dFilterLayout::hwio})
    for (bool bias : {true, false}) {
      ConvCase k = base;
      k.filter_layout = fl, k.bias = bias, k.activation = "relu";
      check_own(k, "own tensor 1x1 filter " + std::to_string(int(fl)) + (bias ? " bias" : ""), kernel);
    }
  for (const char* act : {"clamp", "leakyRelu", "elu", "sigmoid", "tanh", "hardSwish", "gelu"}) {
    ConvCase k = base;
    k.kh = k.kw = 3, k.padding = {1, 1, 1, 1}, k.activation = act;
    check_own(k, std::string("own tensor 3x3 ") + act, kernel);
  }
  ConvCase s2 = base;  // ResNet's downsampling 1x1 stride 2 and a 7x7 stride 2 stem
  s2.strides = {2, 2}, s2.o = 64, s2.h = 14, s2.w = 13;
  check_own(s2, "own tensor 1x1 stride 2", kernel);
  ConvCase stem = base;
  stem.c = 8, stem.o = 64, stem.kh = stem.kw = 7, stem.strides = {2, 2}, stem.padding = {3, 3, 3, 3};
  stem.h = stem.w = 20, stem.activation = "relu";
  check_own(stem, "own tensor 7x7 stride 2", kernel);
  stem.c = 3;  // ResNet-50's own stem: 3 channels, gathered
  check_own(stem, "own tensor 7x7 stride 2, 3 channels", kernel);
  ConvCase mobile = base;  // MobileNetV2's first conv
  mobile.c = 3, mobile.o = 32, mobile.kh = mobile.kw = 3, mobile.strides = {2, 2}, mobile.padding = {0, 1, 0, 1};
  mobile.h = mobile.w = 17, mobile.activation = "clamp";
  check_own(mobile, "own tensor 3x3 stride 2, 3 channels", kernel);
  ConvCase odd = base;  // dilation, asymmetric padding, partial tiles both ways
  odd.c = 32, odd.o = 70, odd.kh = 3, odd.kw = 2, odd.dilations = {2, 1}, odd.padding = {2, 0, 1, 1};
  odd.n = 3, odd.h = 11, odd.w = 13;
  check_own(odd, "own tensor dilated asymmetric", kernel);
  ConvCase input = base;  // a computed filter, reordered per run into KRSC
  input.filter_input = true, input.filter_layout = Conv2dFilterLayout::hwio, input.kh = input.kw = 3;
  input.padding = {1, 1, 1, 1};
  check_own(input, "own tensor filter input", kernel);
  ConvCase large = base;  // many tiles and a long reduction
  large.n = 4, large.h = large.w = 28, large.c = 128, large.o = 128, large.kh = large.kw = 3;
  large.padding = {1, 1, 1, 1}, large.activation = "relu";
  check_own(large, "own tensor 4x28x28x128 3x3", kernel);
  // Untimed, the tile follows the count of 64x64 tiles against the H100's 132 SMs: under
  // 132 the 32x64 tile (all cases above), over 4 x 132 the 128x64 one, else 64x64.
  ConvCase medium = base;  // 49 x 4 tiles
  medium.n = 4, medium.h = medium.w = 28, medium.c = 64, medium.o = 256;
  check_own(medium, "own tensor 64x64 tile", "own tensor-core kernel 64x64");
  ConvCase many = base;  // 392 x 4 tiles
  many.n = 8, many.h = many.w = 56, many.c = 64, many.o = 256, many.activation = "relu";
  check_own(many, "own tensor 128x64 tile", "own tensor-core kernel 128x64");
}

TEST(OwnSimtConv, MatchesTheCpuBackend) {
  REQUIRE_CUDA();
  gpu_testing::ScopedEnv own("CPPNN_CUDA_OWN_KERNELS", "only");
  const char* kernel = "own fp32 kernel";
  ConvCase base;
  base.layout = InputLayout::nchw, base.filter_layout = Conv2dFilterLayout::oihw;
  base.c = 5, base.o = 12, base.padding = {1, 1, 1, 1};
  for (Conv2dFilterLayout fl : {Conv2dFilterLayout::oihw, Conv2dFilterLayout::ihwo,
                                Conv2dFilterLayout::ohwi, Conv2dFilterLayout::hwio})
    for (bool bias : {true, false}) {
      ConvCase k = base;
      k.filter_layout = fl, k.bias = bias, k.activation = "relu";
      check_own(k, "own fp32 3x3 filter " + std::to_string(int(fl)) + (bias ? " bias" : ""), kernel);
    }
  for (const char* act : {"clamp", "leakyRelu", "elu", "sigmoid", "tanh", "hardSwish", "gelu"}) {
    ConvCase k = base;
    k.activation = act;
    check_own(k, std::string("own fp32 ") + act, kernel);
  }
  ConvCase stem = base;  // MobileNetV2's first conv and ResNet-50's stem
  stem.c = 3, stem.o = 32, stem.strides = {2, 2}, stem.padding = {0, 1, 0, 1}, stem.h = stem.w = 17;
  stem.activation = "clamp";
  check_own(stem, "own fp32 3x3 stride 2 asymmetric", kernel);
  stem.o = 64, stem.kh = stem.kw = 7, stem.padding = {3, 3, 3, 3}, stem.activation = "relu";
  check_own(stem, "own fp32 7x7 stride 2", kernel);
  ConvCase pointwise = base;  // 1x1 over several images, and a dilated window
  pointwise.kh = pointwise.kw = 1, pointwise.padding = {}, pointwise.n = 3, pointwise.c = 96, pointwise.o = 24;
  check_own(pointwise, "own fp32 1x1", kernel);
  ConvCase dilated = base;
  dilated.dilations = {2, 3}, dilated.padding = {2, 2, 3, 3}, dilated.h = 12, dilated.w = 14;
  check_own(dilated, "own fp32 dilated", kernel);
  ConvCase input = base;  // a computed filter, reordered per run into KCRS
  input.filter_input = true, input.filter_layout = Conv2dFilterLayout::hwio;
  check_own(input, "own fp32 filter input", kernel);
  ConvCase large = base;  // every tile shape: untimed, the tile follows the tile count
  large.kh = large.kw = 1, large.padding = {}, large.c = 64;
  for (auto [n, hw, o, tile] : {std::tuple<int, int, int, const char*>{1, 14, 64, "32x64"},
                                {4, 28, 256, "64x64"}, {8, 56, 256, "64x128"}}) {
    ConvCase k = large;
    k.n = n, k.h = k.w = hw, k.o = o;
    check_own(k, std::string("own fp32 tile ") + tile, (std::string(kernel) + " " + tile).c_str());
  }
}

TEST(OwnSimtConv, Residual) {
  REQUIRE_CUDA();
  gpu_testing::ScopedEnv own("CPPNN_CUDA_OWN_KERNELS", "only");
  for (bool input : {true, false}) check_residual(DataType::float32, InputLayout::nchw, input, false, "own fp32 kernel");
}

TEST(OwnTensorConv, Residual) {
  REQUIRE_CUDA();
  gpu_testing::ScopedEnv own("CPPNN_CUDA_OWN_KERNELS", "only");
  for (bool input : {true, false}) check_residual(DataType::float16, InputLayout::nhwc, input, false, "own tensor-core kernel");
}

// Milliseconds per dispatch of `g` on device tensors (no host copies): the mean of 50
// dispatches after 5, the median of 5 such means.
double dispatch_ms(const Graph& g, const ConvCase& k) {
  Context& c = cuda_context();
  NamedDeviceTensors in, out;
  DeviceTensor x = c.create_tensor(k.type, input_shape(k.layout, k.n, k.c, k.h, k.w));
  c.write_tensor(x, fresh(k.type, x.shape()));
  in["x"] = x;
  NamedTensors probe = c.compute(g, {{"x", fresh(k.type, x.shape())}});
  out["y"] = c.create_tensor(k.type, probe.at("y").shape());
  for (int i = 0; i < 5; ++i) c.dispatch(g, in, out);
  c.synchronize();
  return gpu_testing::median_ms(
             [&] {
               for (int i = 0; i < 50; ++i) c.dispatch(g, in, out);
               c.synchronize();
             },
             0, 5) / 50;
}

// One conv under each CPPNN_CUDA_OWN_KERNELS mode (cuDNN only, ours only, timed), printed
// with what the timed choice took. No threshold: a print to read.
void print_own_timing(const char* tag, const ConvCase& k, const char* kernel) {
  auto time = [&](const char* mode, std::string* line) {
    gpu_testing::ScopedEnv own("CPPNN_CUDA_OWN_KERNELS", mode);
    Graph g = build_conv_graph(k);  // a graph of its own: a plan made under this mode
    double ms = dispatch_ms(g, k);
    *line = step_line(cuda_context().report(g), "conv2d", "conv");
    return ms;
  };
  std::string cudnn_line, own_line, timed_line;
  double cudnn = time("0", &cudnn_line), own = time("only", &own_line), timed = time("1", &timed_line);
  std::printf("[ %s ] %s %s n%lld %lldx%lld c%lld k%lld %lldx%lld s%u: cuDNN %.4f ms, own %.4f ms "
              "(cuDNN/own %.2f), timed choice %.4f ms: %s\n",
              tag, std::string(to_string(k.type)).c_str(), name(k.layout), (long long)k.n,
              (long long)k.h, (long long)k.w, (long long)k.c, (long long)k.o, (long long)k.kh,
              (long long)k.kw, k.strides.empty() ? 1u : k.strides[0], cudnn, own, cudnn / own, timed,
              timed_line.find(kernel) != std::string::npos ? "own" : "cuDNN");
  EXPECT_NE(own_line.find(kernel), std::string::npos) << own_line;
}

TEST(OwnDepthwiseConv, Timing) {
  REQUIRE_CUDA();
  struct Shape {
    int64_t n, hw, c, stride;
  };
  for (DataType t : {DataType::float16, DataType::float32})
    for (InputLayout layout : {InputLayout::nhwc, InputLayout::nchw})
      for (Shape sh : {Shape{1, 112, 32, 1}, Shape{1, 112, 96, 2}, Shape{1, 28, 192, 1},
                       Shape{1, 14, 576, 1}, Shape{8, 56, 144, 1}}) {
        ConvCase k;  // MobileNetV2's depthwise convolutions
        k.type = t, k.layout = layout, k.n = sh.n, k.h = k.w = sh.hw, k.c = k.o = sh.c;
        k.groups = uint32_t(sh.c), k.strides = {uint32_t(sh.stride), uint32_t(sh.stride)};
        k.padding = {1, 1, 1, 1}, k.activation = "clamp";
        k.filter_layout = layout == InputLayout::nhwc ? Conv2dFilterLayout::ohwi : Conv2dFilterLayout::oihw;
        print_own_timing("depthwise timing", k, "own depthwise kernel");
      }
}

TEST(OwnDenseConv, Timing) {
  REQUIRE_CUDA();
  struct Shape {
    int64_t hw, c, o, kernel, stride;
  };
  for (int64_t n : {1, 8})
    for (Shape sh : {Shape{56, 64, 64, 1, 1}, Shape{56, 64, 64, 3, 1}, Shape{56, 64, 256, 1, 1},
                     Shape{28, 128, 128, 3, 1}, Shape{14, 256, 1024, 1, 1}, Shape{7, 512, 512, 3, 1},
                     Shape{56, 256, 512, 1, 2}, Shape{112, 32, 16, 1, 1}, Shape{7, 160, 960, 1, 1}}) {
      ConvCase k;  // ResNet-50's and MobileNetV2's dense convolutions
      k.type = DataType::float16, k.layout = InputLayout::nhwc, k.filter_layout = Conv2dFilterLayout::ohwi;
      k.n = n, k.h = k.w = sh.hw, k.c = sh.c, k.o = sh.o, k.kh = k.kw = sh.kernel;
      k.strides = {uint32_t(sh.stride), uint32_t(sh.stride)};
      if (sh.kernel == 3) k.padding = {1, 1, 1, 1};
      k.activation = "relu";
      print_own_timing("tensor conv timing", k, "own tensor-core kernel");
      k.type = DataType::float32, k.layout = InputLayout::nchw, k.filter_layout = Conv2dFilterLayout::oihw;
      print_own_timing("fp32 conv timing", k, "own fp32 kernel");
    }
}

// ContextOptions::gpu_kernels = fastest_start takes our kernels untimed (as the environment's
// "only" does), and the environment, when set as a context is created, overrides the option.
TEST(OwnKernels, ContextOptionFastestStart) {
  REQUIRE_CUDA();
  ContextOptions o;
  o.power_preference = PowerPreference::high_performance;
  o.gpu_kernels = GpuKernels::fastest_start;
  Context fast = Context::create(o);
  ASSERT_EQ(fast.backend(), "cuda");
  ConvCase k;
  k.c = k.o = 16, k.groups = 16, k.padding = {1, 1, 1, 1}, k.activation = "relu";
  std::map<std::string, std::pair<DataType, Dims>> ins;
  Graph g = build_conv_graph(k, &ins);
  NamedTensors in{{"x", fresh(k.type, ins.at("x").second)}};
  expect_rel_close(fast.compute(g, in).at("y"), cpu_context().compute(g, in).at("y"), kFp32Tolerance,
                   "fastest_start");
  EXPECT_NE(step_line(fast.report(g), "conv2d", "conv").find("(own kernels only)"), std::string::npos)
      << fast.report(g);
  {
    gpu_testing::ScopedEnv libraries("CPPNN_CUDA_OWN_KERNELS", "0");
    Context overridden = Context::create(o);  // the same option, the environment read anew
    EXPECT_EQ(overridden.backend(), "cuda");
    Graph again = build_conv_graph(k);
    EXPECT_NE(step_line(overridden.report(again), "conv2d", "conv").find("cuDNN"), std::string::npos)
        << overridden.report(again);
    overridden.destroy();
  }
  fast.destroy();
}

TEST(CudnnConv, Timing) {
  REQUIRE_CUDA();
  gpu_testing::ScopedEnv libraries_only("CPPNN_CUDA_OWN_KERNELS", "0");  // the library paths
  for (DataType t : {DataType::float32, DataType::float16}) {
    Dims shape{8, 56, 56, 64};
    GraphBuilder b;
    Operand x = b.input("x", t, shape);
    Conv2dOptions o;
    o.padding = {1, 1, 1, 1}, o.input_layout = InputLayout::nhwc;
    o.filter_layout = Conv2dFilterLayout::ohwi, o.label = "res3x3";
    o.bias = b.constant(fresh(t, {64}));
    Graph g = b.build({{"y", b.relu(b.conv2d(x, b.constant(fresh(t, {64, 3, 3, 64})), o))}});
    NamedTensors in{{"x", fresh(t, shape)}};
    double gpu = gpu_testing::median_ms([&] { cuda_context().compute(g, in); }, 3, 20);
    double cpu = gpu_testing::median_ms([&] { cpu_context().compute(g, in); }, 1, 5);
    std::string line = step_line(cuda_context().report(g), "conv2d", "res3x3");
    std::printf("[ conv timing ] 3x3 conv [8,56,56,64] nhwc %s + bias + relu: CUDA %.3f ms, CPU %.3f ms (%s)\n",
                std::string(to_string(t)).c_str(), gpu, cpu, line.c_str());
  }
}

}  // namespace
}  // namespace cppnn
