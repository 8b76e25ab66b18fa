// Exporters of the recurrent family: lstm and gru as ONNX's LSTM and GRU (layout 0), the
// cells as one-step LSTM / GRU nodes between Reshapes. WebNN's default gate orders are
// ONNX's (iofg = i, o, f, c; zrn = z, r, h); the others are reordered with Split and Concat
// along the gate axis. The biases are concatenated into ONNX's B (zeros for an absent
// one). A peephole weight is refused: ONNX's output gate peeks at the new cell state,
// WebNN's at the previous one (convert_recurrent.cpp), so ONNX's LSTM would compute
// something else.
#include <sstream>

#include "onnx/export_context.h"

namespace cppnn::onnx_export {

namespace {

using Ints = std::vector<int64_t>;

std::string reshaped(NodeContext& ctx, const std::string& value, DataType type, const Dims& shape) {
  return ctx.emit_value("Reshape", {value, ctx.writer().int64s(shape, "shape")}, elem_type(type));
}

// Input i reordered along `axis` from blocks `order` (the position of ONNX's k-th gate in
// WebNN's layout), each `block` long; unchanged when the order is the identity.
std::string gate_order(NodeContext& ctx, const std::string& value, DataType type, int64_t axis,
                       int64_t block, const std::vector<int>& order) {
  bool identity = true;
  for (size_t k = 0; k < order.size(); ++k) identity = identity && order[k] == int(k);
  if (identity) return value;
  ElemType t = elem_type(type);
  std::vector<std::string> parts;
  for (size_t k = 0; k < order.size(); ++k) parts.push_back(ctx.temp(t));
  auto& split = ctx.emit("Split", {value, ctx.writer().int64s(Ints(order.size(), block), "split")}, parts);
  set_attr(split, "axis", axis);
  std::vector<std::string> ordered;
  for (int k : order) ordered.push_back(parts[size_t(k)]);
  std::string out = ctx.temp(t);
  set_attr(ctx.emit("Concat", ordered, {out}), "axis", axis);
  return out;
}

std::string zeros(NodeContext& ctx, DataType type, const Dims& shape) {
  Tensor z(type, shape);  // zero-filled
  return ctx.writer().initializer(z, "zeros");
}

// ONNX's activations attribute from WebNN's comma-separated list, once per direction.
std::vector<std::string> onnx_activations(const std::string& text, int directions) {
  std::vector<std::string> names;
  std::stringstream in(text);
  for (std::string n; std::getline(in, n, ',');)
    names.push_back(n == "relu" ? "Relu" : n == "sigmoid" ? "Sigmoid" : "Tanh");
  std::vector<std::string> out;
  for (int d = 0; d < directions; ++d) out.insert(out.end(), names.begin(), names.end());
  return out;
}

void set_strings(onnx::NodeProto& node, const std::string& name, const std::vector<std::string>& v) {
  auto* a = node.add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::STRINGS);
  for (const std::string& s : v) a->add_strings(s);
}

// One recurrent node as ONNX's LSTM or GRU.
void recurrent(NodeContext& ctx) {
  const detail::Node& node = ctx.node();
  const detail::Attrs& a = ctx.attrs();
  bool lstm = node.op == detail::OpId::lstm || node.op == detail::OpId::lstmCell;
  bool cell = node.op == detail::OpId::lstmCell || node.op == detail::OpId::gruCell;
  int64_t gates = lstm ? 4 : 3, H = a.i("hiddenSize");
  DataType type = ctx.input_desc(0).data_type;
  ElemType t = elem_type(type);
  std::string direction = cell ? "forward" : a.s("direction");
  int64_t dirs = direction == "both" ? 2 : 1;
  // Operand positions (graph/ops/recurrent.cpp).
  size_t bias, rbias, h0, c0 = 99, peep = 99;
  switch (node.op) {
    case detail::OpId::lstm: bias = 3, rbias = 4, peep = 5, h0 = 6, c0 = 7; break;
    case detail::OpId::lstmCell: h0 = 3, c0 = 4, bias = 5, rbias = 6, peep = 7; break;
    case detail::OpId::gru: bias = 3, rbias = 4, h0 = 5; break;
    default: h0 = 3, bias = 4, rbias = 5; break;
  }
  if (lstm && ctx.has_input(peep))
    ctx.not_supported("peepholeWeight has no ONNX form: ONNX's LSTM output gate peeks at the new "
                      "cell state, WebNN's lstm at the previous one");
  // The position in WebNN's layout of ONNX's gates (i, o, f, c or z, r, h).
  const std::string& layout = a.s("layout");
  std::vector<int> order = lstm ? (layout == "iofg" ? std::vector<int>{0, 1, 2, 3}
                                                    : std::vector<int>{0, 3, 1, 2})
                                : (layout == "zrn" ? std::vector<int>{0, 1, 2}
                                                   : std::vector<int>{1, 0, 2});
  const Dims& xs = ctx.input_desc(0).shape;
  int64_t batch = xs[cell ? 0 : 1], input_size = xs[cell ? 1 : 2];
  auto operand3 = [&](size_t i, const Dims& shape3) {
    return cell ? reshaped(ctx, ctx.input(i), type, shape3) : ctx.input(i);
  };
  std::string X = operand3(0, {1, batch, input_size});
  std::string W = gate_order(ctx, operand3(1, {1, gates * H, input_size}), type, 1, H, order);
  std::string R = gate_order(ctx, operand3(2, {1, gates * H, H}), type, 1, H, order);
  std::string B;
  if (ctx.has_input(bias) || ctx.has_input(rbias)) {
    Dims bshape{dirs, gates * H};
    auto part = [&](size_t i) {
      if (!ctx.has_input(i)) return zeros(ctx, type, bshape);
      return gate_order(ctx, cell ? reshaped(ctx, ctx.input(i), type, bshape) : ctx.input(i), type, 1, H, order);
    };
    std::string b = part(bias), rb = part(rbias);
    B = ctx.temp(t);
    set_attr(ctx.emit("Concat", {b, rb}, {B}), "axis", int64_t(1));
  }
  auto state = [&](size_t i) -> std::string {
    if (i == 99 || !ctx.has_input(i)) return "";
    return operand3(i, {1, batch, H});
  };
  std::vector<std::string> inputs = {X, W, R, B, "", state(h0)};
  if (lstm) inputs.push_back(state(c0));
  // Outputs: Y (sequence), Y_h, Y_c.
  std::vector<std::string> outputs;
  if (cell) {
    outputs = {"", ctx.temp(t)};
    if (lstm) outputs.push_back(ctx.temp(t));
  } else {
    bool sequence = a.b("returnSequence");
    outputs = {sequence ? ctx.output(lstm ? 2 : 1) : "", ctx.output(0)};
    if (lstm) outputs.push_back(ctx.output(1));
  }
  // Trailing absent inputs are left off.
  while (!inputs.empty() && inputs.back().empty()) inputs.pop_back();
  auto& n = ctx.emit(lstm ? "LSTM" : "GRU", inputs, outputs);
  set_attr(n, "hidden_size", H);
  set_attr(n, "direction", std::string(direction == "both"       ? "bidirectional"
                                       : direction == "backward" ? "reverse"
                                                                 : "forward"));
  set_strings(n, "activations", onnx_activations(a.s("activations"), int(dirs)));
  if (!lstm) set_attr(n, "linear_before_reset", int64_t(a.b("resetAfter") ? 1 : 0));
  if (cell) {
    ctx.emit("Reshape", {outputs[1], ctx.writer().int64s({batch, H}, "shape")}, {ctx.output(0)});
    if (lstm)
      ctx.emit("Reshape", {outputs[2], ctx.writer().int64s({batch, H}, "shape")}, {ctx.output(1)});
  }
}

}  // namespace

void register_recurrent_exporters(ConverterTable& t) {
  for (detail::OpId op : {detail::OpId::lstm, detail::OpId::lstmCell, detail::OpId::gru,
                          detail::OpId::gruCell})
    t[op] = recurrent;
}

}  // namespace cppnn::onnx_export
