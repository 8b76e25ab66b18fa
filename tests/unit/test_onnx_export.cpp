// ONNX export round trips: graphs covering every op of the op table (float32, with float16
// and integer samples) are exported, imported back with cppnn's importer and computed on
// the CPU next to the original graph on the same random inputs: data movement must match
// exactly, math to 1e-5 relative. The independent reference (ONNX Runtime and NumPy) is
// tests/python/test_webnn_export.py; test_onnx_export_model.cpp checks the ONNX it writes.
#include <set>

#include "graph/op_table.h"
#include "unit/onnx_export_round_trip.h"

namespace cppnn {
namespace {

using namespace testing;

// ---- element-wise ----------------------------------------------------------------------

std::vector<Case> elementwise_cases() {
  std::vector<Case> v;
  v.push_back({"binary_f32",
               [](GraphBuilder& b) {
                 Operand x = input(b, "x", F32, {2, 3, 4}), y = input(b, "y", F32, {3, 1});
                 return Outputs{{"add", b.add(x, y)}, {"sub", b.sub(y, x)}, {"mul", b.mul(x, y)},
                                {"div", b.div(x, y)}, {"max", b.max(x, y)}, {"min", b.min(x, y)},
                                {"pow", b.pow(x, y)}};
               },
               false,
               {{"x", {0.5, 2}}, {"y", {0.5, 2}}}});
  v.push_back({"binary_f16",
               [](GraphBuilder& b) {
                 Operand x = input(b, "x", F16, {2, 5}), y = input(b, "y", F16, {5});
                 return Outputs{{"add", b.add(x, y)}, {"mul", b.mul(x, y)}, {"div", b.div(y, x)}};
               },
               false,
               {{"x", {0.5, 2}}}});
  v.push_back({"binary_int",
               [](GraphBuilder& b) {
                 Operand x = input(b, "x", I32, {3, 4}), y = input(b, "y", I32, {4});
                 Operand u = input(b, "u", U8, {2, 2}), w = input(b, "w", U8, {2, 2});
                 return Outputs{{"add", b.add(x, y)},   {"sub", b.sub(x, y)}, {"mul", b.mul(x, y)},
                                {"div", b.div(x, y)},   {"max", b.max(x, y)}, {"min", b.min(x, y)},
                                {"add_u8", b.add(u, w)}};
               },
               true,
               {{"y", {1, 6}}}});
  v.push_back({"comparison",
               [](GraphBuilder& b) {
                 Operand x = input(b, "x", I32, {2, 6}), y = input(b, "y", I32, {6});
                 Operand f = input(b, "f", F32, {3}), g = input(b, "g", F32, {3});
                 return Outputs{{"eq", b.equal(x, y)},      {"ne", b.not_equal(x, y)},
                                {"gt", b.greater(x, y)},    {"ge", b.greater_or_equal(x, y)},
                                {"lt", b.lesser(x, y)},     {"le", b.lesser_or_equal(x, y)},
                                {"gt_f32", b.greater(f, g)}};
               },
               true,
               {{"x", {-2, 2}}, {"y", {-2, 2}}}});
  v.push_back({"logical",
               [](GraphBuilder& b) {
                 Operand p = input(b, "p", U8, {2, 4}), q = input(b, "q", U8, {4});
                 Operand x = input(b, "x", I32, {4}), y = input(b, "y", I32, {4});
                 Operand eq = b.equal(x, y);
                 return Outputs{{"and", b.logical_and(p, q)},
                                {"or", b.logical_or(p, q)},
                                {"xor", b.logical_xor(p, q)},
                                {"not", b.logical_not(p)},
                                {"not_eq", b.logical_not(eq)},
                                {"and_eq", b.logical_and(eq, q)},
                                {"eq", eq}};
               },
               true,
               {{"x", {-1, 1}}, {"y", {-1, 1}}}});
  v.push_back({"unary",
               [](GraphBuilder& b) {
                 Operand x = input(b, "x", F32, {3, 7});
                 return Outputs{
                     {"abs", b.abs(x)}, {"ceil", b.ceil(x)},        {"cos", b.cos(x)},
                     {"erf", b.erf(x)}, {"exp", b.exp(x)},          {"floor", b.floor(x)},
                     {"neg", b.neg(x)}, {"sin", b.sin(x)},          {"sign", b.sign(x)},
                     {"tan", b.tan(x)}, {"identity", b.identity(x)}};
               },
               false,
               {{"x", {-1.5, 1.5}}}});
  // floor(x) is 0 on [0, 1): x / floor(x) is +inf there and floor(x) / floor(x) NaN, so
  // the flags are not all 0; float16 IsInf goes through a Cast at opset 17.
  v.push_back({"special_values",
               [](GraphBuilder& b) {
                 Operand x = input(b, "x", F32, {4, 6}), h = input(b, "h", F16, {5});
                 Operand f = b.floor(x), hf = b.floor(h);
                 return Outputs{{"is_nan", b.is_nan(b.div(f, f))},
                                {"is_inf", b.is_infinite(b.div(x, f))},
                                {"is_nan_f16", b.is_nan(b.div(hf, hf))},
                                {"is_inf_f16", b.is_infinite(b.div(h, hf))},
                                {"round_even", b.round_even(b.mul(x, b.constant(F32, 2.0)))},
                                {"round_even_f16", b.round_even(h)}};
               },
               true,
               {{"x", {-1.5, 1.5}}, {"h", {-2.5, 2.5}}}});
  v.push_back(
      {"unary_positive",
       [](GraphBuilder& b) {
         Operand x = input(b, "x", F32, {4, 5});
         return Outputs{{"log", b.log(x)}, {"reciprocal", b.reciprocal(x)}, {"sqrt", b.sqrt(x)}};
       },
       false,
       {{"x", {0.25, 3}}}});
  v.push_back({"unary_int",
               [](GraphBuilder& b) {
                 Operand x = input(b, "x", I32, {9}), y = input(b, "y", I8, {2, 3});
                 return Outputs{{"abs", b.abs(x)},
                                {"neg", b.neg(y)},
                                {"sign", b.sign(x)},
                                {"relu", b.relu(y)},
                                {"identity", b.identity(y)}};
               },
               true});
  v.push_back({"activations",
               [](GraphBuilder& b) {
                 Operand x = input(b, "x", F32, {2, 3, 5});
                 ClampOptions c1, c2;
                 c1.min_value = -0.5, c1.max_value = 0.75;
                 c2.max_value = 0.25;
                 EluOptions elu;
                 elu.alpha = 0.7;
                 LeakyReluOptions leaky;
                 leaky.alpha = 0.2;
                 HardSigmoidOptions hs;
                 hs.alpha = 0.3, hs.beta = 0.4;
                 LinearOptions lin;
                 lin.alpha = 1.5, lin.beta = -0.25;
                 return Outputs{{"relu", b.relu(x)},
                                {"sigmoid", b.sigmoid(x)},
                                {"tanh", b.tanh(x)},
                                {"softplus", b.softplus(x)},
                                {"softsign", b.softsign(x)},
                                {"hard_swish", b.hard_swish(x)},
                                {"gelu", b.gelu(x)},
                                {"elu", b.elu(x, elu)},
                                {"leaky_relu", b.leaky_relu(x, leaky)},
                                {"hard_sigmoid", b.hard_sigmoid(x, hs)},
                                {"linear", b.linear(x, lin)},
                                {"clamp", b.clamp(x, c1)},
                                {"clamp_max", b.clamp(x, c2)},
                                {"softmax", b.softmax(x, 1)}};
               },
               false,
               {{"x", {-4, 4}}}});
  v.push_back({"activations_f16", [](GraphBuilder& b) {
                 Operand x = input(b, "x", F16, {3, 8});
                 ClampOptions c;
                 c.min_value = 0.0;
                 return Outputs{{"relu", b.relu(x)},
                                {"sigmoid", b.sigmoid(x)},
                                {"gelu", b.gelu(x)},
                                {"clamp", b.clamp(x, c)},
                                {"softmax", b.softmax(x, 1)}};
               }});
  v.push_back({"clamp_int",
               [](GraphBuilder& b) {
                 ClampOptions c;
                 c.min_value = -3;
                 return Outputs{{"y", b.clamp(input(b, "x", I64, {10}), c)}};
               },
               true});
  v.push_back({"prelu", [](GraphBuilder& b) {
                 Operand x = input(b, "x", F32, {2, 3, 4}), s = weights(b, F32, {3, 1}, 3);
                 // A slope larger than the input: the output takes the broadcast shape.
                 Operand small = input(b, "small", F32, {4});
                 Operand xi = input(b, "xi", I32, {2, 3}), si = input(b, "si", I32, {3});
                 return Outputs{{"y", b.prelu(x, s)},
                                {"wide", b.prelu(small, weights(b, F32, {3, 4}, 4))},
                                {"int", b.prelu(xi, si)}};
               }});
  v.push_back({"cast",
               [](GraphBuilder& b) {
                 Operand f = input(b, "f", F32, {2, 5}), i = input(b, "i", I32, {6});
                 Operand u = input(b, "u", U8, {4});
                 return Outputs{{"f_to_i32", b.cast(f, I32)},
                                {"i_to_f16", b.cast(i, F16)},
                                {"u8_to_f32", b.cast(u, F32)},
                                {"f_to_u8", b.cast(f, U8)},
                                {"i_to_i64", b.cast(i, I64)}};
               },
               true,
               {{"f", {0, 200}}, {"i", {-1000, 1000}}}});
  v.push_back({"where",
               [](GraphBuilder& b) {
                 Operand c = input(b, "c", U8, {2, 1, 4});
                 Operand x = input(b, "x", F32, {3, 4}), y = input(b, "y", F32, {4});
                 Operand xi = input(b, "xi", I64, {4});
                 Operand gt = b.greater(x, y);
                 return Outputs{{"where", b.where(c, x, y)},
                                {"where_gt", b.where(gt, x, y)},
                                {"where_i64", b.where(c, xi, xi)}};
               },
               true});
  return v;
}

// ---- convolution, matrix products, pooling ------------------------------------------------

std::vector<Case> nn_cases() {
  std::vector<Case> v;
  v.push_back({"matmul_gemm", [](GraphBuilder& b) {
                 Operand a = input(b, "a", F32, {2, 3, 4, 5});
                 Operand m = input(b, "m", F32, {3, 4});
                 GemmOptions g1, g2;
                 g1.c = weights(b, F32, {5}, 1);
                 g1.alpha = 0.5, g1.beta = 2.0, g1.b_transpose = true;
                 g2.a_transpose = true;
                 return Outputs{{"matmul", b.matmul(a, weights(b, F32, {5, 6}, 2))},
                                {"batch", b.matmul(m, input(b, "n", F32, {2, 4, 6}))},
                                {"gemm", b.gemm(m, weights(b, F32, {5, 4}, 3), g1)},
                                {"gemm_t", b.gemm(input(b, "k", F32, {4, 3}),
                                                  input(b, "l", F32, {4, 2}), g2)}};
               }});
  v.push_back(
      {"matmul_f16", [](GraphBuilder& b) {
         return Outputs{{"y", b.matmul(input(b, "a", F16, {3, 8}), weights(b, F16, {8, 4}, 5))}};
       }});
  v.push_back({"conv2d", [](GraphBuilder& b) {
                 Conv2dOptions o1, o2, o3, o4;
                 o1.padding = {1, 0, 2, 1}, o1.strides = {2, 1}, o1.dilations = {1, 2};
                 o1.bias = weights(b, F32, {4}, 11);
                 o2.input_layout = InputLayout::nhwc, o2.filter_layout = Conv2dFilterLayout::hwio;
                 o2.groups = 2, o2.padding = {1, 1, 1, 1};
                 o3.filter_layout = Conv2dFilterLayout::ohwi;
                 o4.input_layout = InputLayout::nhwc, o4.filter_layout = Conv2dFilterLayout::ihwo;
                 o4.groups = 4, o4.strides = {2, 2}, o4.bias = weights(b, F32, {4}, 12);
                 return Outputs{{"oihw", b.conv2d(input(b, "x", F32, {2, 3, 7, 6}),
                                                  weights(b, F32, {4, 3, 3, 2}, 13), o1)},
                                {"nhwc_hwio", b.conv2d(input(b, "xn", F32, {1, 5, 5, 4}),
                                                       weights(b, F32, {3, 3, 2, 6}, 14), o2)},
                                {"ohwi_input", b.conv2d(input(b, "xo", F32, {1, 3, 5, 5}),
                                                        input(b, "w", F32, {4, 2, 2, 3}), o3)},
                                {"depthwise", b.conv2d(input(b, "xd", F32, {1, 6, 6, 4}),
                                                       weights(b, F32, {1, 3, 3, 4}, 15), o4)}};
               }});
  v.push_back({"conv2d_f16", [](GraphBuilder& b) {
                 Conv2dOptions o;
                 o.padding = {1, 1, 0, 0};
                 return Outputs{{"y", b.conv2d(input(b, "x", F16, {1, 2, 5, 5}),
                                               weights(b, F16, {3, 2, 3, 3}, 16), o)}};
               }});
  v.push_back({"conv_transpose2d", [](GraphBuilder& b) {
                 ConvTranspose2dOptions o1, o2, o3;
                 o1.padding = {1, 0, 0, 1}, o1.strides = {2, 2}, o1.output_padding = {1, 0};
                 o1.bias = weights(b, F32, {2}, 21);
                 o2.input_layout = InputLayout::nhwc;
                 o2.filter_layout = ConvTranspose2dFilterLayout::hwoi;
                 o2.strides = {2, 2}, o2.output_sizes = {10, 9};
                 o3.filter_layout = ConvTranspose2dFilterLayout::ohwi;
                 o3.groups = 2, o3.dilations = {2, 1};
                 return Outputs{
                     {"iohw", b.conv_transpose2d(input(b, "x", F32, {1, 3, 4, 5}),
                                                 weights(b, F32, {3, 2, 3, 3}, 22), o1)},
                     {"nhwc_sizes", b.conv_transpose2d(input(b, "xn", F32, {1, 4, 4, 4}),
                                                       weights(b, F32, {3, 3, 2, 4}, 23), o2)},
                     {"ohwi_groups", b.conv_transpose2d(input(b, "xo", F32, {1, 4, 3, 3}),
                                                        input(b, "w", F32, {2, 3, 3, 4}), o3)}};
               }});
  v.push_back(
      {"pooling", [](GraphBuilder& b) {
         Operand x = input(b, "x", F32, {2, 3, 7, 8});
         Pool2dOptions max, avg, l2, sizes, global;
         max.window_dimensions = {3, 3}, max.padding = {1, 1, 0, 0};
         max.strides = {2, 2}, max.dilations = {2, 1};
         max.output_shape_rounding = RoundingType::ceil;
         avg.window_dimensions = {3, 3}, avg.padding = {1, 0, 0, 0}, avg.strides = {2, 2};
         avg.output_shape_rounding = RoundingType::ceil;
         // Its last row of windows lies wholly in the padding.
         l2.window_dimensions = {2, 3}, l2.padding = {0, 1, 1, 0}, l2.strides = {3, 2};
         l2.output_shape_rounding = RoundingType::ceil;
         sizes.window_dimensions = {2, 2}, sizes.strides = {2, 2}, sizes.output_sizes = {4, 4};
         global.layout = InputLayout::nhwc;
         return Outputs{{"max", b.max_pool2d(x, max)},
                        {"average", b.average_pool2d(x, avg)},
                        {"l2", b.l2_pool2d(input(b, "xl", F32, {1, 2, 6, 7}), l2)},
                        {"sizes", b.average_pool2d(x, sizes)},
                        {"global_nhwc", b.average_pool2d(x, global)},
                        {"l2_plain", b.l2_pool2d(x)}};
       }});
  v.push_back({"max_pool_u8",
               [](GraphBuilder& b) {
                 Pool2dOptions o;
                 o.layout = InputLayout::nhwc, o.window_dimensions = {2, 2};
                 return Outputs{{"y", b.max_pool2d(input(b, "x", U8, {1, 4, 5, 3}), o)}};
               },
               true,
               {{"x", {0, 255}}}});
  return v;
}

// ---- normalization, reductions ------------------------------------------------------------

std::vector<Case> norm_reduce_cases() {
  std::vector<Case> v;
  v.push_back(
      {"batch_normalization",
       [](GraphBuilder& b) {
         BatchNormalizationOptions o1, o2, o3;
         o1.scale = weights(b, F32, {3}, 31), o1.bias = weights(b, F32, {3}, 32);
         o1.epsilon = 1e-3;
         o2.axis = 3, o2.bias = weights(b, F32, {5}, 33);
         o3.axis = 0, o3.scale = weights(b, F32, {4}, 34);
         Operand x = input(b, "x", F32, {2, 3, 4, 5});
         return Outputs{
             {"axis1", b.batch_normalization(x, weights(b, F32, {3}, 35),
                                             weights(b, F32, {3}, 36, 0.5, 2), o1)},
             {"axis3",
              b.batch_normalization(x, input(b, "mean", F32, {5}), input(b, "var", F32, {5}), o2)},
             {"rank2", b.batch_normalization(input(b, "m", F32, {4, 3}), weights(b, F32, {4}, 37),
                                             weights(b, F32, {4}, 38, 0.5, 2), o3)}};
       },
       false,
       {{"var", {0.5, 2}}}});
  v.push_back({"instance_normalization", [](GraphBuilder& b) {
                 InstanceNormalizationOptions o1, o2;
                 o1.scale = weights(b, F32, {3}, 41), o1.bias = weights(b, F32, {3}, 42);
                 o2.layout = InputLayout::nhwc, o2.epsilon = 1e-2;
                 return Outputs{
                     {"nchw", b.instance_normalization(input(b, "x", F32, {2, 3, 4, 5}), o1)},
                     {"nhwc", b.instance_normalization(input(b, "xn", F32, {2, 4, 5, 3}), o2)}};
               }});
  v.push_back({"layer_normalization", [](GraphBuilder& b) {
                 Operand x = input(b, "x", F32, {3, 4, 5});
                 LayerNormalizationOptions all, last, middle, unsorted, none;
                 all.scale = weights(b, F32, {4, 5}, 51), all.bias = weights(b, F32, {4, 5}, 52);
                 last.axes = std::vector<uint32_t>{2}, last.bias = weights(b, F32, {5}, 53);
                 middle.axes = std::vector<uint32_t>{1}, middle.scale = weights(b, F32, {4}, 54);
                 middle.bias = input(b, "bias", F32, {4});
                 unsorted.axes = std::vector<uint32_t>{2, 0};
                 unsorted.scale = input(b, "scale", F32, {5, 3});
                 none.axes = std::vector<uint32_t>{};
                 return Outputs{{"all", b.layer_normalization(x, all)},
                                {"last", b.layer_normalization(x, last)},
                                {"middle", b.layer_normalization(x, middle)},
                                {"unsorted", b.layer_normalization(x, unsorted)},
                                {"none", b.layer_normalization(x, none)}};
               }});
  v.push_back({"layer_normalization_f16", [](GraphBuilder& b) {
                 LayerNormalizationOptions o;
                 o.axes = std::vector<uint32_t>{1}, o.scale = weights(b, F16, {8}, 55);
                 return Outputs{{"y", b.layer_normalization(input(b, "x", F16, {4, 8}), o)}};
               }});
  using Reduce = Operand (GraphBuilder::*)(const Operand&, const ReduceOptions&);
  const std::vector<std::pair<std::string, Reduce>> reductions = {
      {"l1", &GraphBuilder::reduce_l1},
      {"l2", &GraphBuilder::reduce_l2},
      {"log_sum", &GraphBuilder::reduce_log_sum},
      {"log_sum_exp", &GraphBuilder::reduce_log_sum_exp},
      {"max", &GraphBuilder::reduce_max},
      {"mean", &GraphBuilder::reduce_mean},
      {"min", &GraphBuilder::reduce_min},
      {"product", &GraphBuilder::reduce_product},
      {"sum", &GraphBuilder::reduce_sum},
      {"sum_square", &GraphBuilder::reduce_sum_square}};
  v.push_back({"reductions",
               [reductions](GraphBuilder& b) {
                 Operand x = input(b, "x", F32, {2, 3, 4});
                 Outputs out;
                 ReduceOptions one, two, all, none;
                 one.axes = std::vector<uint32_t>{1};
                 two.axes = std::vector<uint32_t>{2, 0}, two.keep_dimensions = true;
                 none.axes = std::vector<uint32_t>{};
                 for (const auto& [name, method] : reductions) {
                   out[name + "_1"] = (b.*method)(x, one);
                   out[name + "_20"] = (b.*method)(x, two);
                   out[name + "_all"] = (b.*method)(x, all);
                   out[name + "_none"] = (b.*method)(x, none);
                 }
                 return out;
               },
               false,
               {{"x", {0.5, 2}}}});
  v.push_back({"reductions_int",
               [](GraphBuilder& b) {
                 Operand x = input(b, "x", I32, {3, 4}), u = input(b, "u", U8, {2, 5});
                 ReduceOptions o;
                 o.axes = std::vector<uint32_t>{1};
                 return Outputs{
                     {"sum", b.reduce_sum(x, o)},         {"l1", b.reduce_l1(x, o)},
                     {"product", b.reduce_product(x, o)}, {"sum_square", b.reduce_sum_square(x)},
                     {"max_u8", b.reduce_max(u, o)},      {"min_u8", b.reduce_min(u)}};
               },
               true,
               {{"u", {0, 255}}}});
  v.push_back({"reduce_mean_f16", [](GraphBuilder& b) {
                 ReduceOptions o;
                 o.axes = std::vector<uint32_t>{0};
                 return Outputs{{"y", b.reduce_mean(input(b, "x", F16, {6, 3}), o)}};
               }});
  v.push_back({"arg_min_max",
               [](GraphBuilder& b) {
                 Operand x = input(b, "x", F32, {3, 4, 5});
                 ArgMinMaxOptions o1, o2;
                 o2.keep_dimensions = true, o2.output_data_type = I64;
                 return Outputs{{"max", b.arg_max(x, 1, o1)},
                                {"min", b.arg_min(x, 2, o2)},
                                {"max_i32", b.arg_max(input(b, "i", I32, {2, 6}), 1, o2)}};
               },
               true,
               {{"i", {-100, 100}}}});
  v.push_back({"cumulative_sum", [](GraphBuilder& b) {
                 Operand x = input(b, "x", F32, {2, 5, 3});
                 CumulativeSumOptions ex, rev, both;
                 ex.exclusive = true, rev.reversed = true, both.exclusive = both.reversed = true;
                 return Outputs{{"plain", b.cumulative_sum(x, 0)},
                                {"exclusive", b.cumulative_sum(x, 1, ex)},
                                {"reversed", b.cumulative_sum(x, 2, rev)},
                                {"both", b.cumulative_sum(x, 1, both)},
                                {"int", b.cumulative_sum(input(b, "i", I32, {7}), 0, both)}};
               }});
  return v;
}

// ---- shape and data movement (exact) -------------------------------------------------------

std::vector<Case> shape_cases() {
  std::vector<Case> v;
  v.push_back(
      {"reshape_transpose_concat",
       [](GraphBuilder& b) {
         Operand x = input(b, "x", F32, {2, 3, 4});
         TransposeOptions perm;
         perm.permutation = std::vector<uint32_t>{1, 0, 2};
         return Outputs{
             {"reshape", b.reshape(x, {4, 6})},
             {"flat", b.reshape(x, {24})},
             {"transpose", b.transpose(x)},
             {"perm", b.transpose(x, perm)},
             {"concat",
              b.concat({input(b, "a", F32, {2, 1, 4}), x, input(b, "c", F32, {2, 2, 4})}, 1)}};
       },
       true});
  v.push_back({"split_slice",
               [](GraphBuilder& b) {
                 Operand x = input(b, "x", F32, {2, 5, 6});
                 SplitOptions axis2, axis1;
                 axis2.axis = 2, axis1.axis = 1;
                 std::vector<Operand> halves = b.split(x, 2, axis2);
                 std::vector<Operand> parts = b.split(x, std::vector<uint32_t>{1, 3, 1}, axis1);
                 SliceOptions strided;
                 strided.strides = {1, 2, 3};
                 return Outputs{{"half0", halves[0]},
                                {"half1", halves[1]},
                                {"p0", parts[0]},
                                {"p1", parts[1]},
                                {"p2", parts[2]},
                                {"slice", b.slice(x, {1, 0, 2}, {1, 5, 4}, strided)},
                                {"plain", b.slice(x, {0, 1, 1}, {2, 3, 4})}};
               },
               true});
  v.push_back({"gather",
               [](GraphBuilder& b) {
                 Operand x = input(b, "x", F32, {4, 5});
                 GatherOptions axis1;
                 axis1.axis = 1;
                 Tensor idx = Tensor::from(I64, {3}, std::vector<int64_t>{4, -1, 0});
                 return Outputs{
                     // Negative and out-of-range run-time indices: counted from the end, clamped.
                     {"int32", b.gather(x, input(b, "i", I32, {2, 3}))},
                     {"const", b.gather(x, b.constant(idx), axis1)},
                     {"uint32", b.gather(x, input(b, "u", U32, {4}), axis1)},
                     {"int64_u8", b.gather(input(b, "p", U8, {6}), input(b, "j", I64, {2, 2}))}};
               },
               true,
               {{"i", {-6, 6}}, {"u", {0, 8}}, {"j", {-6, 5}}}});
  v.push_back({"gather_elements_nd",
               [](GraphBuilder& b) {
                 Operand x = input(b, "x", F32, {4, 5, 3});
                 GatherOptions axis1;
                 axis1.axis = 1;
                 Tensor idx = Tensor::from(I32, {2, 2}, std::vector<int32_t>{3, -1, 9, -7});
                 return Outputs{
                     // Run-time indices past both ends: counted from the end, clamped.
                     {"elements_i32", b.gather_elements(x, input(b, "i", I32, {4, 7, 3}), axis1)},
                     {"elements_u32", b.gather_elements(x, input(b, "u", U32, {2, 5, 3}))},
                     {"nd_i64", b.gather_nd(x, input(b, "j", I64, {3, 2}))},
                     {"nd_u32", b.gather_nd(x, input(b, "k", U32, {2, 2, 3}))},
                     {"nd_const", b.gather_nd(x, b.constant(idx))}};
               },
               true,
               {{"i", {-8, 7}}, {"u", {0, 6}}, {"j", {-7, 6}}, {"k", {0, 6}}}});
  v.push_back({"scatter",
               [](GraphBuilder& b) {
                 Operand x = input(b, "x", F32, {4, 5, 3});
                 ScatterOptions axis1;
                 axis1.axis = 1;
                 Tensor idx = Tensor::from(I32, {2, 2}, std::vector<int32_t>{3, -1, 9, -7});
                 return Outputs{
                     // Run-time indices past both ends (clamped) and repeated (the last wins).
                     {"elements_i32", b.scatter_elements(x, input(b, "i", I32, {4, 7, 3}),
                                                         input(b, "ui", F32, {4, 7, 3}), axis1)},
                     {"elements_u32", b.scatter_elements(input(b, "p", U8, {4, 5, 3}),
                                                         input(b, "u", U32, {2, 5, 3}),
                                                         input(b, "uu", U8, {2, 5, 3}))},
                     {"nd_i64", b.scatter_nd(x, input(b, "j", I64, {3, 2}),
                                             input(b, "uj", F32, {3, 3}))},
                     {"nd_const", b.scatter_nd(x, b.constant(idx), input(b, "uc", F32, {2, 3}))}};
               },
               true,
               {{"i", {-8, 7}}, {"u", {0, 6}}, {"j", {-7, 6}}}});
  v.push_back({"quantization",
               [](GraphBuilder& b) {
                 Operand x = input(b, "x", F32, {4, 6});
                 Operand h = input(b, "h", F16, {4, 6});
                 return Outputs{
                     {"q_u8_tensor", b.quantize_linear(x, input(b, "s1", F32, {1, 1}),
                                                       input(b, "z1", U8, {1, 1}))},
                     {"q_i8_axis", b.quantize_linear(x, input(b, "s2", F32, {4, 1}),
                                                     input(b, "z2", I8, {4, 1}))},
                     {"q_i32_blocks", b.quantize_linear(x, input(b, "s3", F32, {2, 3}),
                                                        input(b, "z3", I32, {2, 3}))},
                     {"q_u32_half", b.quantize_linear(h, input(b, "s4", F16, {1, 6}),
                                                      input(b, "z4", U32, {1, 6}))},
                     {"dq_u8_blocks", b.dequantize_linear(input(b, "a", U8, {4, 6}),
                                                          input(b, "s5", F32, {2, 2}),
                                                          input(b, "z5", U8, {2, 2}))},
                     {"dq_i8_half", b.dequantize_linear(input(b, "c", I8, {4, 6}),
                                                        input(b, "s6", F16, {1, 6}),
                                                        input(b, "z6", I8, {1, 6}))},
                     {"dq_i32", b.dequantize_linear(input(b, "d", I32, {4, 6}),
                                                    input(b, "s7", F32, {4, 3}),
                                                    input(b, "z7", I32, {4, 3}))}};
               },
               true,
               {{"x", {-40, 40}}, {"h", {-40, 40}}, {"s1", {0.1, 1}}, {"s2", {0.1, 1}},
                {"s3", {0.01, 1}}, {"s4", {0.1, 1}}, {"s5", {0.1, 1}}, {"s6", {0.1, 1}},
                {"s7", {0.1, 1}}, {"z1", {0, 255}}, {"z2", {-128, 127}}, {"z3", {-1000, 1000}},
                {"a", {0, 255}}, {"z5", {0, 255}}, {"c", {-128, 127}}, {"d", {-100000, 100000}},
                {"z7", {-100000, 100000}}}});
  v.push_back({"expand_tile_pad",
               [](GraphBuilder& b) {
                 Operand x = input(b, "x", F32, {3, 4});
                 PadOptions constant, edge, reflect;
                 constant.value = 1.5;
                 edge.mode = PaddingMode::edge;
                 reflect.mode = PaddingMode::reflection;
                 return Outputs{{"expand", b.expand(input(b, "e", F32, {3, 1}), {2, 3, 4})},
                                {"tile", b.tile(x, {2, 3})},
                                {"constant", b.pad(x, {1, 0}, {0, 2}, constant)},
                                {"edge", b.pad(x, {2, 1}, {1, 3}, edge)},
                                {"reflection", b.pad(x, {2, 1}, {1, 3}, reflect)},
                                {"pad_i8", b.pad(input(b, "i", I8, {2, 2}), {1, 1}, {1, 0})}};
               },
               true});
  v.push_back({"reverse_triangular",
               [](GraphBuilder& b) {
                 Operand x = input(b, "x", F32, {2, 4, 5});
                 ReverseOptions some, none;
                 some.axes = std::vector<uint32_t>{0, 2};
                 none.axes = std::vector<uint32_t>{};
                 TriangularOptions upper, lower;
                 upper.diagonal = 1;
                 lower.upper = false, lower.diagonal = -1;
                 return Outputs{{"some", b.reverse(x, some)},
                                {"all", b.reverse(x)},
                                {"none", b.reverse(x, none)},
                                {"upper", b.triangular(x, upper)},
                                {"lower", b.triangular(x, lower)},
                                {"int", b.triangular(input(b, "i", I32, {3, 3}))}};
               },
               true});
  v.push_back({"resample2d_nearest",
               [](GraphBuilder& b) {
                 Operand x = input(b, "x", F32, {1, 2, 4, 5});
                 Resample2dOptions up, down, i8;
                 up.scales = {2.0f, 2.0f};
                 down.scales = {0.5f, 0.75f};
                 i8.sizes = {7, 3};
                 return Outputs{{"up", b.resample2d(x, up)},
                                {"down", b.resample2d(x, down)},
                                {"int8", b.resample2d(input(b, "i", I8, {2, 3, 4, 5}), i8)}};
               },
               true});
  v.push_back({"resample2d_linear", [](GraphBuilder& b) {
                 Operand x = input(b, "x", F32, {1, 2, 4, 5});
                 // Integer linear resampling exports with ONNX's Round, which WebNN (and so
                 // the importer) lacks: test_onnx_export_model.cpp and the Python tests cover it.
                 Resample2dOptions sizes, axes, f16;
                 sizes.mode = axes.mode = f16.mode = InterpolationMode::linear;
                 sizes.sizes = {7, 3};
                 axes.axes = {1, 2}, axes.scales = {1.5f, 0.5f};
                 f16.scales = {2.0f, 1.0f};
                 return Outputs{{"sizes", b.resample2d(x, sizes)},
                                {"axes", b.resample2d(input(b, "n", F32, {1, 4, 6, 2}), axes)},
                                {"f16", b.resample2d(input(b, "h", F16, {1, 1, 3, 3}), f16)}};
               }});
  return v;
}

std::vector<Case> recurrent_cases() {
  std::vector<Case> v;
  // Non-default layouts and activations go through Split/Concat and the activations
  // attribute; the cells through one-step LSTM / GRU nodes between Reshapes.
  v.push_back({"lstm", [](GraphBuilder& b) {
                 Operand x = input(b, "x", F32, {3, 2, 5});
                 LstmOptions o;
                 o.direction = RecurrentNetworkDirection::both, o.layout = LstmWeightLayout::ifgo;
                 o.bias = weights(b, F32, {2, 16}, 61), o.initial_cell_state = input(b, "c0", F32, {2, 2, 4});
                 o.return_sequence = true;
                 o.activations = {RecurrentNetworkActivation::sigmoid, RecurrentNetworkActivation::relu,
                                  RecurrentNetworkActivation::tanh};
                 std::vector<Operand> y =
                     b.lstm(x, weights(b, F32, {2, 16, 5}, 62), weights(b, F32, {2, 16, 4}, 63), 3, 4, o);
                 LstmCellOptions co;
                 co.recurrent_bias = weights(b, F32, {16}, 64);
                 Operand xc = input(b, "xc", F32, {2, 5}), hc = input(b, "hc", F32, {2, 4});
                 std::vector<Operand> c = b.lstm_cell(xc, weights(b, F32, {16, 5}, 65),
                                                      weights(b, F32, {16, 4}, 66), hc, hc, 4, co);
                 return Outputs{{"h", y[0]}, {"c", y[1]}, {"seq", y[2]}, {"ch", c[0]}, {"cc", c[1]}};
               }});
  v.push_back({"gru", [](GraphBuilder& b) {
                 Operand x = input(b, "x", F32, {3, 2, 5});
                 GruOptions o;
                 o.direction = RecurrentNetworkDirection::backward, o.layout = GruWeightLayout::rzn;
                 o.reset_after = false, o.return_sequence = true;
                 o.recurrent_bias = weights(b, F32, {1, 12}, 71);
                 std::vector<Operand> y =
                     b.gru(x, weights(b, F32, {1, 12, 5}, 72), weights(b, F32, {1, 12, 4}, 73), 3, 4, o);
                 GruCellOptions co;
                 co.bias = weights(b, F32, {12}, 74);
                 Operand c = b.gru_cell(input(b, "xc", F32, {2, 5}), weights(b, F32, {12, 5}, 75),
                                        weights(b, F32, {12, 4}, 76), input(b, "hc", F32, {2, 4}), 4, co);
                 return Outputs{{"h", y[0]}, {"seq", y[1]}, {"ch", c}};
               }});
  return v;
}

std::vector<Case> all_cases() {
  std::vector<Case> v;
  for (auto part : {elementwise_cases(), nn_cases(), norm_reduce_cases(), shape_cases(),
                    recurrent_cases()})
    v.insert(v.end(), part.begin(), part.end());
  return v;
}

class OnnxExportOps : public ::testing::TestWithParam<Case> {};

TEST_P(OnnxExportOps, RoundTripComputesTheOriginalsResults) {
  Graph g = build_graph(GetParam());
  expect_round_trip(g, g, GetParam());
}

INSTANTIATE_TEST_SUITE_P(OnnxExport, OnnxExportOps, ::testing::ValuesIn(all_cases()),
                         [](const ::testing::TestParamInfo<Case>& info) {
                           return info.param.name;
                         });

TEST(OnnxExport, CasesCoverEveryOpOfTheOpTable) {
  // Guards the round trips' coverage: an op added to the table without a case fails here.
  std::set<detail::OpId> covered;
  for (const Case& c : all_cases()) {
    Graph g = build_graph(c);
    for (const detail::Node& node : g.ir().nodes) covered.insert(node.op);
  }
  std::vector<std::string> names = detail::OpTable::instance().names();
  for (const std::string& op : names)
    EXPECT_TRUE(covered.count(detail::find_op(op).value())) << op << " has no case";
}

}  // namespace
}  // namespace cppnn
