// Reduction ops: the ten reduce* ops, argMin/argMax, cumulativeSum and softmax (all of them
// combine values along axes of one input).
#include <algorithm>
#include <limits>

#include "graph/op_table.h"
#include "graph/validation.h"

namespace cppnn {
namespace detail {

namespace {

// The spec's "calculate reduction output sizes"; `axes` must already be checked.
Dims reduction_output_shape(const Dims& shape, const std::vector<int64_t>& axes, bool keep) {
  std::vector<bool> reduced(shape.size(), false);
  for (int64_t axis : axes) reduced[size_t(axis)] = true;
  Dims out;
  for (size_t i = 0; i < shape.size(); ++i) {
    if (!reduced[i])
      out.push_back(shape[i]);
    else if (keep)
      out.push_back(1);
  }
  return out;
}

// Reads the single "axis" attribute of argMin/argMax/cumulativeSum/softmax and checks it
// against the input's rank.
int64_t checked_axis(const Attrs& attrs, const OperandDescriptor& input) {
  int64_t axis = attrs.i("axis");
  if (axis < 0 || size_t(axis) >= input.shape.size())
    type_error("axis " + std::to_string(axis) + " must be less than the rank " +
               std::to_string(input.shape.size()) + " of " + operand_name("input"));
  return axis;
}

// `allowed` empty means any data type (reduceMax, reduceMin).
OpSchema reduce(OpId id, std::vector<DataType> allowed) {
  return OpSchema{id, {"input"}, 1, false, [allowed](const InputDescs& in, Attrs& attrs) {
                    const OperandDescriptor& x = *in[0];
                    if (!allowed.empty()) check_data_type(x, "input", allowed);
                    size_t rank = x.shape.size();
                    if (!attrs.has("axes")) {
                      std::vector<int64_t> all(rank);
                      for (size_t i = 0; i < rank; ++i) all[i] = int64_t(i);
                      attrs.set("axes", all);
                    }
                    const std::vector<int64_t>& axes = attrs.ints("axes");
                    check_axes(axes, rank, "option 'axes' " + to_string(axes));
                    bool keep = attrs.i_or("keepDimensions", 0) != 0;
                    attrs.set_bool("keepDimensions", keep);
                    return std::vector<OperandDescriptor>{
                        {x.data_type, reduction_output_shape(x.shape, axes, keep)}};
                  }};
}

OpSchema arg_min_max(OpId id) {
  return OpSchema{
      id, {"input"}, 1, false, [](const InputDescs& in, Attrs& attrs) {
        const OperandDescriptor& x = *in[0];
        int64_t axis = checked_axis(attrs, x);
        DataType out = data_type_from_string(attrs.s_or("outputDataType", "int32"));
        if (out != DataType::int32 && out != DataType::int64)
          type_error("option 'outputDataType' must be int32 or int64, got " +
                     std::string(to_string(out)));
        attrs.set("outputDataType", std::string(to_string(out)));
        int64_t max_index = out == DataType::int32 ? std::numeric_limits<int32_t>::max()
                                                   : std::numeric_limits<int64_t>::max();
        if (x.shape[size_t(axis)] > max_index)
          type_error("dimension " + std::to_string(axis) + " of " + operand_name("input") +
                     " does not fit in " + std::string(to_string(out)));
        bool keep = attrs.i_or("keepDimensions", 0) != 0;
        attrs.set_bool("keepDimensions", keep);
        return std::vector<OperandDescriptor>{{out, reduction_output_shape(x.shape, {axis}, keep)}};
      }};
}

}  // namespace

void register_reduction_ops(OpTable& table) {
  const std::vector<DataType> float_types(kFloatTypes);
  const std::vector<DataType> sum_types = {DataType::float32, DataType::float16, DataType::int32,
                                           DataType::uint32,  DataType::int64,   DataType::uint64};
  for (OpId op : {OpId::reduceL1, OpId::reduceProduct, OpId::reduceSum, OpId::reduceSumSquare})
    table.add(reduce(op, sum_types));
  for (OpId op : {OpId::reduceL2, OpId::reduceLogSum, OpId::reduceLogSumExp, OpId::reduceMean})
    table.add(reduce(op, float_types));
  for (OpId op : {OpId::reduceMax, OpId::reduceMin}) table.add(reduce(op, {}));

  table.add(arg_min_max(OpId::argMin));
  table.add(arg_min_max(OpId::argMax));

  table.add(OpSchema{OpId::cumulativeSum, {"input"}, 1, false, [](const InputDescs& in, Attrs& attrs) {
                       const OperandDescriptor& x = *in[0];
                       check_data_type(x, "input",
                                       {DataType::float32, DataType::float16, DataType::int32,
                                        DataType::uint32, DataType::int64, DataType::uint64});
                       checked_axis(attrs, x);
                       attrs.set_bool("exclusive", attrs.i_or("exclusive", 0) != 0);
                       attrs.set_bool("reversed", attrs.i_or("reversed", 0) != 0);
                       return std::vector<OperandDescriptor>{x};
                     }});

  table.add(OpSchema{OpId::softmax, {"input"}, 1, false, [](const InputDescs& in, Attrs& attrs) {
                       const OperandDescriptor& x = *in[0];
                       check_data_type(x, "input", kFloatTypes);
                       checked_axis(attrs, x);
                       return std::vector<OperandDescriptor>{x};
                     }});
}

}  // namespace detail

using namespace detail;

#define CPPNN_REDUCE_METHOD(method, op)                                    \
  Operand GraphBuilder::method(const Operand& x, const ReduceOptions& o) { \
    Attrs attrs;                                                           \
    if (o.axes) attrs.set_ints("axes", *o.axes);                           \
    attrs.set_bool("keepDimensions", o.keep_dimensions);                   \
    return add_op(*this, op, {x}, std::move(attrs), o.label)[0];           \
  }
CPPNN_REDUCE_METHOD(reduce_l1, OpId::reduceL1)
CPPNN_REDUCE_METHOD(reduce_l2, OpId::reduceL2)
CPPNN_REDUCE_METHOD(reduce_log_sum, OpId::reduceLogSum)
CPPNN_REDUCE_METHOD(reduce_log_sum_exp, OpId::reduceLogSumExp)
CPPNN_REDUCE_METHOD(reduce_max, OpId::reduceMax)
CPPNN_REDUCE_METHOD(reduce_mean, OpId::reduceMean)
CPPNN_REDUCE_METHOD(reduce_min, OpId::reduceMin)
CPPNN_REDUCE_METHOD(reduce_product, OpId::reduceProduct)
CPPNN_REDUCE_METHOD(reduce_sum, OpId::reduceSum)
CPPNN_REDUCE_METHOD(reduce_sum_square, OpId::reduceSumSquare)
#undef CPPNN_REDUCE_METHOD

namespace {
Attrs arg_min_max_attrs(uint32_t axis, const ArgMinMaxOptions& o) {
  Attrs attrs;
  attrs.set("axis", int64_t(axis));
  attrs.set_bool("keepDimensions", o.keep_dimensions);
  attrs.set("outputDataType", std::string(to_string(o.output_data_type)));
  return attrs;
}
}  // namespace

Operand GraphBuilder::arg_max(const Operand& x, uint32_t axis, const ArgMinMaxOptions& o) {
  return add_op(*this, OpId::argMax, {x}, arg_min_max_attrs(axis, o), o.label)[0];
}

Operand GraphBuilder::arg_min(const Operand& x, uint32_t axis, const ArgMinMaxOptions& o) {
  return add_op(*this, OpId::argMin, {x}, arg_min_max_attrs(axis, o), o.label)[0];
}

Operand GraphBuilder::cumulative_sum(const Operand& x, uint32_t axis,
                                     const CumulativeSumOptions& o) {
  Attrs attrs;
  attrs.set("axis", int64_t(axis));
  attrs.set_bool("exclusive", o.exclusive);
  attrs.set_bool("reversed", o.reversed);
  return add_op(*this, OpId::cumulativeSum, {x}, std::move(attrs), o.label)[0];
}

Operand GraphBuilder::softmax(const Operand& x, uint32_t axis, const OperatorOptions& o) {
  Attrs attrs;
  attrs.set("axis", int64_t(axis));
  return add_op(*this, OpId::softmax, {x}, std::move(attrs), o.label)[0];
}

}  // namespace cppnn
