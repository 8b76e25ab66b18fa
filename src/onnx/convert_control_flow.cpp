// Converters of ONNX's control flow: If, Loop and Scan. cppnn graphs have no control flow, so
// these are resolved at import time:
// - If whose condition is known at import time (the usual export: a shape test) imports the
//   chosen branch in place; a condition computed at run time imports both branches and picks
//   each output with `where`, which needs both branches' outputs to have the same shape and
//   type (a NotSupportedError otherwise; outputs of different types are a DataError).
// - Loop with a trip count (and a condition) known at import time, and Scan (whose trip count
//   is a dimension), are unrolled: the body imported once per iteration, up to
//   kMaxLoopIterations iterations per loop and kMaxUnrolledNodes unrolled nodes per import.
#include <algorithm>

#include "onnx/host_ops.h"
#include "onnx/import_context.h"

namespace cppnn::onnx_import {

namespace {

ValuePtr host_value(Tensor t, bool is_bool = false) {
  auto v = std::make_shared<Value>();
  v->type = t.data_type();
  v->shape = t.shape();
  v->is_bool = is_bool;
  v->data = std::move(t);
  return v;
}

ValuePtr graph_value(const Operand& operand, bool is_bool) {
  auto v = std::make_shared<Value>();
  v->type = operand.data_type();
  v->shape = operand.shape();
  v->is_bool = is_bool;
  v->operand = operand;
  return v;
}

std::string type_name(const Value& v) {
  return v.is_bool ? "bool" : std::string(to_string(v.type));
}

const onnx::GraphProto& required_graph(const NodeContext& ctx, const std::string& name) {
  const onnx::GraphProto* g = ctx.attr_graph(name);
  if (!g) ctx.bad_model("attribute '" + name + "' (a graph) is required");
  return *g;
}

// Counts one more unrolled copy of `body` against the import's bound.
void count_unrolled(NodeContext& ctx, const onnx::GraphProto& body) {
  size_t& n = ctx.session().unrolled_nodes;
  // An empty body counts as one node: nested loops of empty bodies are bounded too.
  n += std::max<size_t>(1, size_t(body.node_size()));
  if (n > kMaxUnrolledNodes)
    ctx.not_supported("unrolling makes more than " + std::to_string(kMaxUnrolledNodes) +
                      " nodes in this import; cppnn has no loops, it unrolls them");
}

void if_op(NodeContext& ctx) {
  const onnx::GraphProto& then_g = required_graph(ctx, "then_branch");
  const onnx::GraphProto& else_g = required_graph(ctx, "else_branch");
  const ValuePtr& cond = ctx.input(0);
  if (element_count(cond->shape) != 1)
    ctx.bad_model("the condition has shape " + to_string(cond->shape) + "; it must hold one value");
  auto check_count = [&](const std::vector<ValuePtr>& outs, const char* branch) {
    if (outs.size() != ctx.output_count())
      ctx.bad_model(std::string("the ") + branch + " branch has " + std::to_string(outs.size()) +
                    " outputs, the node " + std::to_string(ctx.output_count()));
  };
  if (cond->data) {
    // Known at import time: only the chosen branch is imported (the other may not even be
    // valid for these shapes, which is often why the exporter wrote an If).
    bool take_then = int64_values(*cond->data).at(0) != 0;
    std::vector<ValuePtr> outs =
        ctx.import_subgraph(take_then ? then_g : else_g, {}, take_then ? "then" : "else");
    check_count(outs, take_then ? "then" : "else");
    for (size_t i = 0; i < outs.size(); ++i) ctx.alias_output(i, outs[i]);
    return;
  }
  std::vector<ValuePtr> t = ctx.import_subgraph(then_g, {}, "then");
  std::vector<ValuePtr> e = ctx.import_subgraph(else_g, {}, "else");
  check_count(t, "then");
  check_count(e, "else");
  Operand c = ctx.operand(0);
  if (!cond->is_bool && c.data_type() != DataType::uint8)
    ctx.bad_model("the condition is " + type_name(*cond) + "; it must be bool");
  if (!c.shape().empty()) c = reshape_value(ctx, cond, {});
  for (size_t i = 0; i < t.size(); ++i) {
    if (!ctx.output_used(i)) continue;
    const std::string what =
        "output " + std::to_string(i) + " ('" + ctx.node().output(int(i)) + "')";
    if (t[i]->type != e[i]->type || t[i]->is_bool != e[i]->is_bool)
      ctx.bad_model(what + " is " + type_name(*t[i]) + " in the then branch and " +
                    type_name(*e[i]) + " in the else branch; an If's branches must agree");
    if (t[i] == e[i]) {
      ctx.alias_output(i, t[i]);
      continue;
    }
    if (t[i]->shape != e[i]->shape)
      ctx.not_supported("the condition is computed at run time and " + what + " has shape " +
                        to_string(t[i]->shape) + " in the then branch, " + to_string(e[i]->shape) +
                        " in the else branch: cppnn has no dynamic shapes (it runs both "
                        "branches and selects, which needs equal shapes)");
    ctx.set_output(
        i, ctx.builder().where(c, ctx.operand_of(t[i]), ctx.operand_of(e[i]), ctx.options()),
        t[i]->is_bool);
  }
}

// Stacks equal-shaped values along a new axis `axis` (a Loop's or Scan's scan outputs), on
// the host when all are known at import time.
void set_stacked(NodeContext& ctx, size_t output, const std::vector<ValuePtr>& parts,
                 int64_t axis) {
  const Dims& shape = parts.at(0)->shape;
  for (const ValuePtr& p : parts)
    if (p->shape != shape || p->type != parts[0]->type)
      ctx.not_supported("scan output " + std::to_string(output) + " has shape " + to_string(shape) +
                        " in one iteration and " + to_string(p->shape) +
                        " in another: cppnn has no dynamic shapes");
  Dims one = shape;
  one.insert(one.begin() + axis, 1);
  bool is_bool = parts[0]->is_bool;
  bool host = std::all_of(parts.begin(), parts.end(),
                          [&](const ValuePtr& p) { return p->data && ctx.foldable(one); });
  if (host && parts.size() * element_count(shape) <= ctx.fold_limit()) {
    std::vector<Tensor> reshaped;
    for (const ValuePtr& p : parts) reshaped.push_back(p->data->reshaped(one));
    std::vector<const Tensor*> ptrs;
    for (const Tensor& r : reshaped) ptrs.push_back(&r);
    ctx.set_output(output, host_concat(ptrs, size_t(axis)), is_bool);
    return;
  }
  std::vector<Operand> ops;
  for (const ValuePtr& p : parts) ops.push_back(reshape_value(ctx, p, one));
  Operand y = ops.size() == 1 ? ops[0] : ctx.builder().concat(ops, uint32_t(axis), ctx.options());
  ctx.set_output(output, y, is_bool);
}

// ONNX Loop: inputs M (trip count), cond, v_initial...; body (iteration_num, cond, v...) ->
// (cond, v..., scan outputs...); outputs v_final..., scan outputs stacked along axis 0.
void loop(NodeContext& ctx) {
  const onnx::GraphProto& body = required_graph(ctx, "body");
  if (ctx.input_count() < 2) ctx.bad_model("Loop needs inputs M and cond (either may be empty)");
  size_t n_state = ctx.input_count() - 2;
  if (size_t(body.input_size()) != n_state + 2 || size_t(body.output_size()) < n_state + 1)
    ctx.bad_model("the body has " + std::to_string(body.input_size()) + " inputs and " +
                  std::to_string(body.output_size()) + " outputs for " + std::to_string(n_state) +
                  " loop-carried values");
  size_t n_scan = size_t(body.output_size()) - 1 - n_state;
  const std::string bound =
      "cppnn has no loops: it unrolls a Loop whose trip count and "
      "condition are known at import time, up to " +
      std::to_string(kMaxLoopIterations) + " iterations";
  std::optional<int64_t> trip;
  if (ctx.has_input(0)) {
    if (!ctx.constant(0)) ctx.not_supported("the trip count M is computed at run time; " + bound);
    trip = int64_values(*ctx.constant(0)).at(0);
    if (*trip > kMaxLoopIterations)
      ctx.not_supported("the trip count " + std::to_string(*trip) + " is too large; " + bound);
  }
  bool cond = true;
  if (ctx.has_input(1)) {
    if (!ctx.constant(1)) ctx.not_supported("the condition is computed at run time; " + bound);
    cond = int64_values(*ctx.constant(1)).at(0) != 0;
  }
  std::vector<ValuePtr> state;
  for (size_t i = 0; i < n_state; ++i) state.push_back(ctx.input(2 + i));
  std::vector<std::vector<ValuePtr>> scans(n_scan);
  for (int64_t i = 0; cond && (!trip || i < *trip); ++i) {
    if (i >= kMaxLoopIterations)
      ctx.not_supported("the condition is still true after " + std::to_string(i) + " iterations; " +
                        bound);
    count_unrolled(ctx, body);
    std::vector<ValuePtr> in = {
        host_value(int64_tensor({}, {i})),
        host_value(Tensor::from(DataType::uint8, {}, std::vector<uint8_t>{1}), true)};
    in.insert(in.end(), state.begin(), state.end());
    std::vector<ValuePtr> out = ctx.import_subgraph(body, in, "iteration" + std::to_string(i));
    if (!out[0]->data) ctx.not_supported("the body computes its condition at run time; " + bound);
    cond = int64_values(*out[0]->data).at(0) != 0;
    for (size_t k = 0; k < n_state; ++k) {
      if (out[1 + k]->type != state[k]->type || out[1 + k]->shape != state[k]->shape)
        ctx.not_supported("loop-carried value " + std::to_string(k) + " changes from " +
                          to_string(state[k]->shape) + " to " + to_string(out[1 + k]->shape) +
                          " (or its type): cppnn has no dynamic shapes");
      state[k] = out[1 + k];
    }
    for (size_t k = 0; k < n_scan; ++k) scans[k].push_back(out[1 + n_state + k]);
  }
  for (size_t k = 0; k < n_state; ++k) ctx.alias_output(k, state[k]);
  for (size_t k = 0; k < n_scan; ++k) {
    if (!ctx.output_used(n_state + k)) continue;
    if (scans[k].empty())
      ctx.not_supported("the loop runs no iteration, so scan output " + std::to_string(k) +
                        " is empty (its shape is unknown)");
    set_stacked(ctx, n_state + k, scans[k], 0);
  }
}

// Element `index` of `v` along `axis`, without that axis.
ValuePtr take(NodeContext& ctx, const ValuePtr& v, size_t axis, int64_t index) {
  if (v->data && ctx.foldable(v->shape))
    return host_value(host_gather(*v->data, int64_tensor({}, {index}), axis), v->is_bool);
  std::vector<uint32_t> starts(v->shape.size(), 0), sizes;
  for (int64_t d : v->shape) sizes.push_back(uint32_t(d));
  starts[axis] = uint32_t(index);
  sizes[axis] = 1;
  SliceOptions o;
  o.label = ctx.label();
  Operand s = ctx.builder().slice(ctx.operand_of(v), starts, sizes, o);
  Dims dims = v->shape;
  dims.erase(dims.begin() + int64_t(axis));
  return graph_value(
      ctx.builder().reshape(s, to_u32(ctx, dims, "Scan slice dimension"), ctx.options()),
      v->is_bool);
}

// ONNX Scan (opset 9+): inputs initial states..., scan inputs...; body (states..., slices...)
// -> (states..., scan outputs...); outputs final states..., scan outputs stacked.
void scan(NodeContext& ctx) {
  if (ctx.opset() < 9)
    ctx.not_supported("Scan before opset 9 (with sequence_lens) is not supported");
  const onnx::GraphProto& body = required_graph(ctx, "body");
  int64_t m = ctx.attr_int("num_scan_inputs", -1);
  if (m < 1 || size_t(m) > ctx.input_count())
    ctx.bad_model("attribute 'num_scan_inputs' " + std::to_string(m) + " must be in [1, " +
                  std::to_string(ctx.input_count()) + "]");
  size_t n_scan_in = size_t(m), n_state = ctx.input_count() - n_scan_in;
  if (size_t(body.input_size()) != ctx.input_count() || size_t(body.output_size()) < n_state)
    ctx.bad_model("the body's inputs and outputs do not match the node's");
  size_t n_scan_out = size_t(body.output_size()) - n_state;
  auto list = [&](const char* name, size_t n) {
    std::vector<int64_t> v = ctx.attr_ints(name).value_or(std::vector<int64_t>(n, 0));
    if (v.size() != n)
      ctx.bad_model(std::string("attribute '") + name + "' has " + std::to_string(v.size()) +
                    " values for " + std::to_string(n));
    return v;
  };
  std::vector<int64_t> in_axes = list("scan_input_axes", n_scan_in);
  std::vector<int64_t> in_dirs = list("scan_input_directions", n_scan_in);
  std::vector<int64_t> out_axes = list("scan_output_axes", n_scan_out);
  std::vector<int64_t> out_dirs = list("scan_output_directions", n_scan_out);
  int64_t length = -1;
  for (size_t j = 0; j < n_scan_in; ++j) {
    const ValuePtr& x = ctx.input(n_state + j);
    in_axes[j] = normalize_axis(ctx, in_axes[j], x->shape.size(), "scan_input_axes value");
    int64_t len = x->shape[size_t(in_axes[j])];
    if (length >= 0 && len != length)
      ctx.bad_model("scan inputs have lengths " + std::to_string(length) + " and " +
                    std::to_string(len));
    length = len;
  }
  if (length > kMaxLoopIterations)
    ctx.not_supported("the scan length " + std::to_string(length) +
                      " is too large: cppnn has no loops, it unrolls a Scan up to " +
                      std::to_string(kMaxLoopIterations) + " iterations");
  std::vector<ValuePtr> state;
  for (size_t i = 0; i < n_state; ++i) state.push_back(ctx.input(i));
  std::vector<std::vector<ValuePtr>> scans(n_scan_out);
  for (int64_t t = 0; t < length; ++t) {
    count_unrolled(ctx, body);
    std::vector<ValuePtr> in = state;
    for (size_t j = 0; j < n_scan_in; ++j)
      in.push_back(
          take(ctx, ctx.input(n_state + j), size_t(in_axes[j]), in_dirs[j] ? length - 1 - t : t));
    std::vector<ValuePtr> out = ctx.import_subgraph(body, in, "iteration" + std::to_string(t));
    for (size_t k = 0; k < n_state; ++k) {
      if (out[k]->type != state[k]->type || out[k]->shape != state[k]->shape)
        ctx.not_supported("state " + std::to_string(k) + " changes from " +
                          to_string(state[k]->shape) + " to " + to_string(out[k]->shape) +
                          " (or its type): cppnn has no dynamic shapes");
      state[k] = out[k];
    }
    for (size_t k = 0; k < n_scan_out; ++k) scans[k].push_back(out[n_state + k]);
  }
  for (size_t k = 0; k < n_state; ++k) ctx.alias_output(k, state[k]);
  for (size_t k = 0; k < n_scan_out; ++k) {
    if (!ctx.output_used(n_state + k)) continue;
    if (scans[k].empty()) ctx.not_supported("the scan inputs are empty");
    if (out_dirs[k]) std::reverse(scans[k].begin(), scans[k].end());
    int64_t axis =
        normalize_axis(ctx, out_axes[k], scans[k][0]->shape.size() + 1, "scan_output_axes value");
    set_stacked(ctx, n_state + k, scans[k], axis);
  }
}

}  // namespace

void register_control_flow_converters(ConverterTable& t) {
  t["If"] = if_op;
  t["Loop"] = loop;
  t["Scan"] = scan;
}

}  // namespace cppnn::onnx_import
