// Converters of the ONNX ops that are no WebNN op: Shape, Size, Constant, ConstantOfShape and
// Range, whose results are always computed here on the host (shapes are static once symbolic
// dims are resolved), and Dropout, which inference passes through.
#include <algorithm>
#include <cmath>
#include <cstring>

#include "core/checked.h"
#include "onnx/host_ops.h"
#include "onnx/import_context.h"

namespace cppnn::onnx_import {

namespace {

using detail::checked_add;
// Sizes, steps and counts come from the file: arithmetic past int64 on them is a malformed
// model.
constexpr ErrorKind kMalformed = ErrorKind::DataError;

void shape(NodeContext& ctx) {
  const Dims& s = ctx.shape(0);
  int64_t rank = int64_t(s.size());
  auto clamp_index = [&](int64_t i) {
    if (i < 0) i += rank;
    return std::clamp<int64_t>(i, 0, rank);
  };
  int64_t start = clamp_index(ctx.attr_int("start", 0));
  int64_t end = clamp_index(ctx.attr_int("end", rank));
  std::vector<int64_t> dims;
  for (int64_t i = start; i < end; ++i) dims.push_back(s[size_t(i)]);
  ctx.set_output(0, int64_tensor({int64_t(dims.size())}, dims));
}

void size(NodeContext& ctx) {
  ctx.set_output(0, int64_tensor({}, {int64_t(element_count(ctx.shape(0)))}));
}

void constant_of_shape(NodeContext& ctx) {
  std::vector<int64_t> dims = int64_values(ctx.require_constant(0, "ConstantOfShape's shape"));
  for (int64_t d : dims)
    if (d < 0) ctx.bad_model("shape " + to_string(dims) + " has a negative dimension");
  if (element_count(dims) > kMaxHostElements)
    ctx.not_supported("shape " + to_string(dims) + " is too large for an import-time constant");
  bool is_bool = false;
  Tensor value = Tensor(DataType::float32, {1});
  if (const onnx::TensorProto* v = ctx.attr_tensor("value")) {
    value = ctx.decode(*v, "attribute 'value'", &is_bool);
    if (value.element_count() != 1) ctx.bad_model("attribute 'value' must hold one value");
  }
  ctx.check_host_bytes(byte_size(value.data_type(), element_count(dims)),
                       "the constant of shape " + to_string(dims));
  Tensor out(value.data_type(), dims);
  size_t es = element_size(value.data_type());
  for (size_t i = 0; i < out.element_count(); ++i)
    std::memcpy(out.data_as<uint8_t>() + i * es, value.data(), es);
  ctx.set_output(0, std::move(out), is_bool);
}

void range(NodeContext& ctx) {
  const Tensor& start = ctx.require_constant(0, "Range's start");
  const Tensor& limit = ctx.require_constant(1, "Range's limit");
  const Tensor& delta = ctx.require_constant(2, "Range's delta");
  DataType type = start.data_type();
  if (start.element_count() != 1 || limit.element_count() != 1 || delta.element_count() != 1)
    ctx.bad_model("start, limit and delta must be scalars");
  if (is_float(type)) {
    // ONNX defines element i as start + i * delta, computed in the tensor's type.
    float s = float(start.to_doubles()[0]), l = float(limit.to_doubles()[0]);
    float d = float(delta.to_doubles()[0]);
    if (d == 0) ctx.bad_model("delta is 0");
    double count = std::ceil((double(l) - s) / d);
    if (!(count < double(kFoldLimit))) ctx.bad_model("the range is too long to build");
    // A count below 0 (down to -infinity) is an empty range, converted only when in range.
    int64_t n = count > 0 ? int64_t(count) : 0;
    std::vector<float> v;
    for (int64_t i = 0; i < n; ++i) v.push_back(s + float(i) * d);
    ctx.set_output(0, host_cast(Tensor::from(DataType::float32, {n}, v), type, false));
    return;
  }
  int64_t s = int64_values(start)[0], l = int64_values(limit)[0], d = int64_values(delta)[0];
  if (d == 0) ctx.bad_model("delta is 0");
  double count = std::ceil((double(l) - double(s)) / double(d));
  if (!(count < double(kFoldLimit))) ctx.bad_model("the range is too long to build");
  int64_t n = count > 0 ? int64_t(count) : 0;
  // Step by step: every element lies between start and limit, where i * delta need not (from
  // -2^63 by 2^62); a count the double rounded up past int64 is a DataError.
  std::vector<int64_t> v;
  int64_t x = s;
  for (int64_t i = 0; i < n; ++i) {
    if (i > 0) x = checked_add(x, d, "a Range element", kMalformed);
    v.push_back(x);
  }
  ctx.set_output(0, host_cast(int64_tensor({n}, v), type, false));
}

void constant(NodeContext& ctx) {
  bool is_bool = false;
  if (const onnx::TensorProto* t = ctx.attr_tensor("value")) {
    Tensor value = ctx.decode(*t, "attribute 'value'", &is_bool);
    ctx.from_model(value);
    ctx.set_output(0, std::move(value), is_bool);
  } else if (ctx.has_attr("value_float")) {
    ctx.set_output(0, Tensor::from(DataType::float32, {},
                                   std::vector<float>{ctx.attr_float("value_float", 0)}));
  } else if (auto fs = ctx.attr_floats("value_floats")) {
    ctx.set_output(0, Tensor::from(DataType::float32, {int64_t(fs->size())}, *fs));
  } else if (ctx.has_attr("value_int")) {
    ctx.set_output(0, int64_tensor({}, {ctx.attr_int("value_int", 0)}));
  } else if (auto is = ctx.attr_ints("value_ints")) {
    ctx.set_output(0, int64_tensor({int64_t(is->size())}, *is));
  } else {
    ctx.not_supported(
        "only tensor, float and int values are supported (no strings or sparse "
        "tensors)");
  }
}

// Inference-time Dropout passes its input through; its mask is all true.
void dropout(NodeContext& ctx) {
  if (ctx.has_input(2) && ctx.constant(2) && int64_values(*ctx.constant(2)).at(0) != 0)
    ctx.not_supported("training_mode is true; only inference is supported");
  if (ctx.has_input(2) && !ctx.constant(2))
    ctx.not_supported("training_mode is computed at run time");
  ctx.alias_output(0, ctx.input(0));
  if (ctx.output_used(1)) {
    Tensor mask(DataType::uint8, ctx.shape(0));
    std::fill_n(mask.data_as<uint8_t>(), mask.element_count(), uint8_t(1));
    ctx.set_output(1, std::move(mask), true);
  }
}

}  // namespace

void register_onnx_only_converters(ConverterTable& t) {
  t["Shape"] = shape;
  t["Size"] = size;
  t["ConstantOfShape"] = constant_of_shape;
  t["Range"] = range;
  t["Constant"] = constant;
  t["Dropout"] = dropout;
}

}  // namespace cppnn::onnx_import
