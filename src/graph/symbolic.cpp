// Dynamic shapes: fitting, checking and specializing a graph's symbolic integers
// (graph/symbolic.h has the approach).
#include "graph/symbolic.h"

#include <algorithm>
#include <bit>
#include <climits>
#include <cstring>
#include <set>

#include "graph/op_table.h"
#include "graph/validation.h"

namespace cppnn::detail {

// ---- polynomials

std::optional<int64_t> Polynomial::eval(const std::vector<int64_t>& values) const {
  int64_t sum = 0;
  for (const Term& t : terms) {
    int64_t p = t.coeff;
    for (size_t i = 0; i < values.size() && i < 32; ++i)
      if ((t.mask >> i) & 1u)
        if (__builtin_mul_overflow(p, values[i], &p)) return std::nullopt;
    if (t.mask >> std::min<size_t>(values.size(), 31)) return std::nullopt;  // a symbol not given
    if (__builtin_add_overflow(sum, p, &sum)) return std::nullopt;
  }
  return sum;
}

std::optional<size_t> Polynomial::single_symbol() const {
  if (terms.size() != 1 || terms[0].coeff != 1 || std::popcount(terms[0].mask) != 1)
    return std::nullopt;
  return size_t(std::countr_zero(terms[0].mask));
}

std::string Polynomial::to_string(const std::vector<std::string>& names) const {
  if (terms.empty()) return "0";
  std::string s;
  for (const Term& t : terms) {
    bool first = s.empty();
    int64_t c = t.coeff;
    if (!first) s += c < 0 ? " - " : " + ";
    else if (c < 0) s += "-";
    uint64_t mag = c < 0 ? uint64_t(0) - uint64_t(c) : uint64_t(c);
    std::string product;
    for (size_t i = 0; i < 32; ++i)
      if ((t.mask >> i) & 1u) {
        if (!product.empty()) product += "*";
        product += i < names.size() ? names[i] : std::string("x") += std::to_string(i);
      }
    if (product.empty()) s += std::to_string(mag);
    else if (mag == 1) s += product;
    else s += std::to_string(mag) + "*" + product;
  }
  return s;
}

std::vector<int64_t> SymbolicShapes::opt_values() const {
  std::vector<int64_t> v;
  for (const SymbolRange& r : ranges) v.push_back(r.opt);
  return v;
}

namespace {

std::string node_name(const GraphIR& g, size_t k) {
  const Node& n = g.nodes[k];
  std::string s = "node " + std::to_string(k) + " (" + op_name(n.op);
  if (!n.label.empty()) s += " '" + n.label + "'";
  return s + ")";
}

std::string values_text(const std::vector<std::string>& names, const std::vector<int64_t>& v) {
  std::string s;
  for (size_t i = 0; i < names.size(); ++i)
    s += (i ? ", " : "") + names[i] + "=" + std::to_string(v[i]);
  return s;
}

// The node that reads an operand (for messages about constants), or "operand N".
std::string reader_of(const GraphIR& g, OperandId id) {
  for (size_t k = 0; k < g.nodes.size(); ++k)
    for (OperandId in : g.nodes[k].inputs)
      if (in == id) return "the constant read by " + node_name(g, k);
  return "constant operand " + std::to_string(id);
}

// Where an integer of the graph lives; the order of `locations` is the order of
// `integers_of`.
struct Location {
  ShapePatch::Kind kind;
  int32_t index;
  std::string attr;
  uint32_t pos;
};

// The small integer constants whose elements are fitted like the other integers (a fit
// passes the generated constants, by operand, as `generated`: their values are not).
bool patchable_constant(const OperandInfo& op) {
  return op.role == OperandRole::constant && op.data &&
         (op.desc.data_type == DataType::int32 || op.desc.data_type == DataType::int64) &&
         op.data->element_count() <= kMaxPatchedConstantElements;
}

int64_t constant_element(const Tensor& t, size_t e) {
  return t.data_type() == DataType::int32 ? int64_t(t.data_as<int32_t>()[e]) : t.data_as<int64_t>()[e];
}

std::vector<Location> locations_of(const GraphIR& g, const std::vector<bool>& generated) {
  std::vector<Location> out;
  for (size_t i = 0; i < g.operands.size(); ++i) {
    for (size_t d = 0; d < g.operands[i].desc.shape.size(); ++d)
      out.push_back({ShapePatch::Kind::operand_dim, int32_t(i), {}, uint32_t(d)});
    if (patchable_constant(g.operands[i]) && !generated[i])
      for (size_t e = 0; e < g.operands[i].data->element_count(); ++e)
        out.push_back({ShapePatch::Kind::constant_value, int32_t(i), {}, uint32_t(e)});
  }
  for (size_t k = 0; k < g.nodes.size(); ++k)
    for (const auto& [name, value] : g.nodes[k].attrs.all()) {
      if (std::holds_alternative<int64_t>(value))
        out.push_back({ShapePatch::Kind::attr_int, int32_t(k), name, 0});
      else if (auto* v = std::get_if<std::vector<int64_t>>(&value))
        for (size_t e = 0; e < v->size(); ++e)
          out.push_back({ShapePatch::Kind::attr_ints, int32_t(k), name, uint32_t(e)});
    }
  return out;
}

std::vector<int64_t> integers_of(const GraphIR& g, const std::vector<bool>& generated) {
  std::vector<int64_t> out;
  for (size_t i = 0; i < g.operands.size(); ++i) {
    const OperandInfo& op = g.operands[i];
    out.insert(out.end(), op.desc.shape.begin(), op.desc.shape.end());
    if (patchable_constant(op) && !generated[i])
      for (size_t e = 0; e < op.data->element_count(); ++e) out.push_back(constant_element(*op.data, e));
  }
  for (const Node& n : g.nodes)
    for (const auto& [name, value] : n.attrs.all()) {
      if (auto* i = std::get_if<int64_t>(&value)) out.push_back(*i);
      else if (auto* v = std::get_if<std::vector<int64_t>>(&value)) out.insert(out.end(), v->begin(), v->end());
    }
  return out;
}

std::string location_text(const GraphIR& g, const Location& l) {
  if (l.kind == ShapePatch::Kind::constant_value)
    return "element " + std::to_string(l.pos) + " of " + reader_of(g, l.index);
  if (l.kind == ShapePatch::Kind::operand_dim) {
    const OperandInfo& op = g.operands[size_t(l.index)];
    std::string who = op.role == OperandRole::input ? "input '" + op.name + "'"
                                                    : "operand " + std::to_string(l.index);
    for (size_t k = 0; k < g.nodes.size() && op.role != OperandRole::input; ++k)
      for (OperandId o : g.nodes[k].outputs)
        if (o == l.index) who = "the output of " + node_name(g, k);
    return "dimension " + std::to_string(l.pos) + " of " + who;
  }
  std::string s = node_name(g, size_t(l.index)) + "'s " + l.attr;
  if (l.kind == ShapePatch::Kind::attr_ints) s += "[" + std::to_string(l.pos) + "]";
  return s;
}

[[noreturn]] void not_supported(const std::string& what, const std::string& message) {
  fail(ErrorKind::NotSupportedError,
       what + ": dynamic shapes: " + message +
           "; give that symbol a fixed value (dim_values) instead of a range");
}

// Everything but the integers must agree between two probes (and constants' bytes).
void check_same_structure(const GraphIR& base, const GraphIR& g, const std::string& what,
                          const std::string& at, const std::vector<bool>& generated) {
  auto differ = [&](const std::string& m) {
    not_supported(what, "the graph's structure changes with the symbols (" + m + " at " + at + ")");
  };
  if (g.operands.size() != base.operands.size() || g.nodes.size() != base.nodes.size())
    differ(std::to_string(base.nodes.size()) + " nodes and " + std::to_string(base.operands.size()) +
           " operands at opt, " + std::to_string(g.nodes.size()) + " and " +
           std::to_string(g.operands.size()));
  if (g.inputs != base.inputs || g.outputs != base.outputs) differ("other inputs or outputs");
  if (g.precision != base.precision) differ("another precision");
  for (size_t i = 0; i < g.operands.size(); ++i) {
    const OperandInfo &a = base.operands[i], &b = g.operands[i];
    if (a.desc.data_type != b.desc.data_type || a.role != b.role || a.name != b.name ||
        a.desc.shape.size() != b.desc.shape.size())
      differ("operand " + std::to_string(i) + " differs");
    if (a.role != OperandRole::constant || generated[i]) continue;
    if (a.desc.shape != b.desc.shape)
      differ(reader_of(base, OperandId(i)) + " has shape " + to_string(a.desc.shape) +
             " at opt and " + to_string(b.desc.shape));
    if (a.data != b.data && !patchable_constant(a) &&
        (a.data->byte_size() != b.data->byte_size() ||
         std::memcmp(a.data->data(), b.data->data(), a.data->byte_size()) != 0))
      not_supported(what, reader_of(base, OperandId(i)) + " has values that depend on the symbols (at " + at + ")");
  }
  for (size_t k = 0; k < g.nodes.size(); ++k) {
    const Node &a = base.nodes[k], &b = g.nodes[k];
    if (a.op != b.op || a.inputs != b.inputs || a.outputs != b.outputs ||
        a.attrs.all().size() != b.attrs.all().size())
      differ(node_name(base, k) + " differs");
    auto ia = a.attrs.all().begin();
    for (auto ib = b.attrs.all().begin(); ib != b.attrs.all().end(); ++ia, ++ib) {
      if (ia->first != ib->first || ia->second.index() != ib->second.index())
        differ(node_name(base, k) + "'s attributes differ");
      if (auto* v = std::get_if<std::vector<int64_t>>(&ia->second)) {
        if (v->size() != std::get<std::vector<int64_t>>(ib->second).size())
          differ(node_name(base, k) + "'s " + ia->first + " has another length");
      } else if (!std::holds_alternative<int64_t>(ia->second) && ia->second != ib->second) {
        not_supported(what, node_name(base, k) + "'s attribute " + ia->first +
                                " depends on the symbols (at " + at + ")");
      }
    }
  }
}

// ---- constants whose shape depends on a symbol

// An int32 / int64 constant whose shape changes: generated from a polynomial (ShapePatch::
// Kind::constant_generated), fitted on the grid's probes at the element index corners.
struct Generated {
  OperandId id;
  std::vector<size_t> axes;        // index variables: the axes of size >= 2 at opt
  std::vector<int64_t> f;          // per (grid bits, index corner bits)
  std::optional<Polynomial> poly;
};

// How one such constant is rebuilt from a table: table -> slice (the axes whose size
// changes and whose values do) -> expand (the axes along which the table repeats).
struct VaryingConstant {
  OperandId id;
  Tensor table;                 // the constant at the maxima, repeated axes cut to 1
  std::vector<bool> repeated;   // per axis: the table holds size 1 there
  std::vector<bool> sliced;     // per axis: the size changes and the table is cut to it
};

// Whether every slice of t along `axis` equals the first; if so, t cut to size 1 there.
std::optional<Tensor> cut_if_repeated(const Tensor& t, size_t axis) {
  const Dims& s = t.shape();
  size_t elem = byte_size(t.data_type(), 1);
  size_t outer = 1, inner = elem;
  for (size_t d = 0; d < axis; ++d) outer *= size_t(s[d]);
  for (size_t d = axis + 1; d < s.size(); ++d) inner *= size_t(s[d]);
  size_t n = size_t(s[axis]);
  const uint8_t* p = static_cast<const uint8_t*>(t.data());
  for (size_t o = 0; o < outer; ++o)
    for (size_t j = 1; j < n; ++j)
      if (std::memcmp(p + (o * n + j) * inner, p + o * n * inner, inner) != 0) return std::nullopt;
  Dims cut = s;
  cut[axis] = 1;
  Tensor out = Tensor::uninitialized(t.data_type(), cut);
  uint8_t* q = static_cast<uint8_t*>(out.data());
  for (size_t o = 0; o < outer; ++o) std::memcpy(q + o * inner, p + o * n * inner, inner);
  return out;
}

// Whether `c` (a probe's constant) is what `v`'s table gives at c's shape.
bool rebuilds(const VaryingConstant& v, const Tensor& c) {
  const Dims &shape = c.shape(), &ts = v.table.shape();
  for (size_t d = 0; d < shape.size(); ++d)
    if (!v.repeated[d] && shape[d] > ts[d]) return false;
  size_t elem = byte_size(c.data_type(), 1), n = c.element_count(), rank = shape.size();
  std::vector<int64_t> idx(rank, 0);
  const uint8_t* src = static_cast<const uint8_t*>(v.table.data());
  const uint8_t* dst = static_cast<const uint8_t*>(c.data());
  for (size_t e = 0; e < n; ++e) {
    size_t at = 0;
    for (size_t d = 0; d < rank; ++d) at = at * size_t(ts[d]) + size_t(v.repeated[d] ? 0 : idx[d]);
    if (std::memcmp(src + at * elem, dst + e * elem, elem) != 0) return false;
    for (size_t d = rank; d-- > 0;) {
      if (++idx[d] < shape[d]) break;
      idx[d] = 0;
    }
  }
  return true;
}

void infer_node(const GraphIR& g, Node& node, const std::string& where) {
  const OpSchema* schema = OpTable::instance().find(node.op);
  if (!schema) fail(ErrorKind::OperationError, where + ": no schema for " + op_name(node.op));
  InputDescs descs;
  for (OperandId id : node.inputs) descs.push_back(id == kNoOperand ? nullptr : &g.desc(id));
  std::vector<OperandDescriptor> out = schema->infer(descs, node.attrs);
  if (out.size() != node.outputs.size())
    fail(ErrorKind::OperationError, where + ": the op infers another number of outputs");
  for (size_t i = 0; i < out.size(); ++i)
    if (out[i] != g.desc(node.outputs[i]))
      fail(ErrorKind::OperationError,
           where + ": output " + std::to_string(i) + " is " + to_string(g.desc(node.outputs[i]).shape) +
               " but the op infers " + to_string(out[i].shape));
}

// Replaces each varying constant of `g` by its table and a slice / expand, in the same
// places in every probe (new operands at the end, new nodes first), and checks that the
// table rebuilds g's value.
void replace_varying(GraphIR& g, const std::vector<VaryingConstant>& varying,
                     const std::string& what, const std::string& at) {
  std::vector<Node> prologue;
  for (const VaryingConstant& v : varying) {
    OperandInfo& info = g.operands[size_t(v.id)];
    if (info.role != OperandRole::constant || !info.data)
      not_supported(what, "operand " + std::to_string(v.id) + " is a constant at some values only");
    if (!rebuilds(v, *info.data))
      not_supported(what, reader_of(g, v.id) + " (shape " + to_string(info.desc.shape) +
                              " at " + at + ") is neither a leading part nor a repetition of its value at the maxima");
    const Dims shape = info.desc.shape;
    const DataType type = info.desc.data_type;
    info.role = OperandRole::intermediate;
    info.data.reset();
    OperandId table = OperandId(g.operands.size());
    g.operands.push_back({{type, v.table.shape()}, OperandRole::constant, {},
                          std::make_shared<const Tensor>(v.table)});
    OperandId cur = table;
    bool any_sliced = std::find(v.sliced.begin(), v.sliced.end(), true) != v.sliced.end();
    bool any_repeated = std::find(v.repeated.begin(), v.repeated.end(), true) != v.repeated.end();
    if (any_sliced) {
      Dims sizes = v.table.shape();
      for (size_t d = 0; d < shape.size(); ++d)
        if (v.sliced[d]) sizes[d] = shape[d];
      OperandId out = v.id;
      if (any_repeated) {
        out = OperandId(g.operands.size());
        g.operands.push_back({{type, sizes}, OperandRole::intermediate, {}, nullptr});
      }
      Node n;
      n.op = OpId::slice;
      n.inputs = {cur};
      n.outputs = {out};
      n.attrs.set("starts", std::vector<int64_t>(shape.size(), 0));
      n.attrs.set("sizes", std::vector<int64_t>(sizes.begin(), sizes.end()));
      n.label = "dynamic-shape table";
      prologue.push_back(std::move(n));
      cur = out;
    }
    if (any_repeated) {
      Node n;
      n.op = OpId::expand;
      n.inputs = {cur};
      n.outputs = {v.id};
      n.attrs.set("newShape", std::vector<int64_t>(shape.begin(), shape.end()));
      n.label = "dynamic-shape table";
      prologue.push_back(std::move(n));
    }
  }
  for (Node& n : prologue) infer_node(g, n, what + ": the table of a dynamic-shape constant");
  g.nodes.insert(g.nodes.begin(), std::make_move_iterator(prologue.begin()),
                 std::make_move_iterator(prologue.end()));
}

std::vector<VaryingConstant> find_varying(const GraphIR& min, const GraphIR& max,
                                          const std::string& what, std::vector<Generated>* generated) {
  std::vector<VaryingConstant> out;
  if (min.operands.size() != max.operands.size())
    not_supported(what, "the graph's structure changes with the symbols (" +
                            std::to_string(min.operands.size()) + " operands at the minima, " +
                            std::to_string(max.operands.size()) + " at the maxima)");
  for (size_t i = 0; i < min.operands.size(); ++i) {
    const OperandInfo &a = min.operands[i], &b = max.operands[i];
    if (a.role != OperandRole::constant || b.role != OperandRole::constant) continue;
    if (a.desc.shape == b.desc.shape || a.desc.shape.size() != b.desc.shape.size()) continue;
    if (a.desc.data_type == DataType::int32 || a.desc.data_type == DataType::int64) {
      generated->push_back(Generated{OperandId(i), {}, {}, std::nullopt});
      continue;
    }
    VaryingConstant v;
    v.id = OperandId(i);
    v.table = *b.data;
    size_t rank = a.desc.shape.size();
    v.repeated.assign(rank, false);
    v.sliced.assign(rank, false);
    for (size_t d = 0; d < rank; ++d) {
      if (a.desc.shape[d] == b.desc.shape[d]) continue;
      if (auto cut = cut_if_repeated(v.table, d)) {
        v.table = std::move(*cut);
        v.repeated[d] = true;
      } else {
        v.sliced[d] = true;
      }
    }
    out.push_back(std::move(v));
  }
  return out;
}

// ---- fitting

// A variable of a fit: the value slot (and mask bit) it has in a polynomial, and the two
// grid values g0 and g0 + delta (delta = +-1) it was probed at.
struct Var {
  uint32_t bit;
  int64_t g0, delta;
};

// The multilinear polynomial through f on the grid of `vars`: f(bits) is the value with
// variable j at g0 + delta if bit j is set, else at g0.
std::optional<Polynomial> interpolate(const std::vector<int64_t>& f, const std::vector<Var>& vars) {
  size_t k = vars.size(), n = size_t(1) << k;
  // Coefficients in the basis prod_{j in S} delta_j (x_j - g0_j): the Moebius transform.
  std::vector<__int128> c(f.begin(), f.end());
  for (size_t j = 0; j < k; ++j)
    for (size_t s = 0; s < n; ++s)
      if (s >> j & 1) c[s] -= c[s ^ (size_t(1) << j)];
  // Expanded into monomials prod_{j in U} x_j.
  std::vector<__int128> m(n, 0);
  for (size_t s = 0; s < n; ++s) {
    if (c[s] == 0) continue;
    for (size_t u = s;; u = (u - 1) & s) {  // every subset U of S
      __int128 term = c[s];
      for (size_t j = 0; j < k; ++j) {
        if (!(s >> j & 1)) continue;
        // |factor| < 2^31: a term under 2^90 stays far inside 128 bits.
        if (term > (__int128(1) << 90) || term < -(__int128(1) << 90)) return std::nullopt;
        term *= (u >> j & 1) ? __int128(vars[j].delta) : -__int128(vars[j].delta) * vars[j].g0;
      }
      m[u] += term;
      if (u == 0) break;
    }
  }
  Polynomial p;
  for (size_t u = 0; u < n; ++u) {
    if (m[u] == 0) continue;
    if (m[u] > INT64_MAX || m[u] < INT64_MIN) return std::nullopt;
    uint32_t mask = 0;
    for (size_t j = 0; j < k; ++j)
      if (u >> j & 1) mask |= uint32_t(1) << vars[j].bit;
    p.terms.push_back({mask, int64_t(m[u])});
  }
  std::sort(p.terms.begin(), p.terms.end(), [](auto& a, auto& b) { return a.mask < b.mask; });
  return p;
}

// The evaluation slots of a generated constant's polynomial: the symbols (padded to
// kAxisBit), then the element's index along each axis.
std::vector<int64_t> generator_slots(const std::vector<int64_t>& symbols, size_t rank) {
  std::vector<int64_t> v(kAxisBit + rank, 0);
  std::copy(symbols.begin(), symbols.end(), v.begin());
  return v;
}

// Fills `t` (its shape set) from `p` at these symbol values; false if a value overflows the
// element type or the polynomial.
bool generate(const Polynomial& p, const std::vector<int64_t>& symbols, Tensor& t) {
  const Dims& shape = t.shape();
  std::vector<int64_t> slots = generator_slots(symbols, shape.size());
  for (size_t e = 0, n = t.element_count(); e < n; ++e) {
    std::optional<int64_t> v = p.eval(slots);
    if (!v) return false;
    if (t.data_type() == DataType::int32) {
      if (*v < INT32_MIN || *v > INT32_MAX) return false;
      t.data_as<int32_t>()[e] = int32_t(*v);
    } else {
      t.data_as<int64_t>()[e] = *v;
    }
    for (size_t d = shape.size(); d-- > 0;) {
      if (++slots[kAxisBit + d] < shape[d]) break;
      slots[kAxisBit + d] = 0;
    }
  }
  return true;
}


}  // namespace

FittedGraph fit_symbolic(const std::vector<std::string>& names,
                         const std::vector<SymbolRange>& ranges, const GraphAt& make,
                         const std::string& what) {
  // A graph that cannot be built at some probe (a window larger than the input at the
  // minima, say) fails naming the values, which the caller's own message cannot know.
  auto at = [&](const std::vector<int64_t>& values) {
    try {
      return make(values);
    } catch (const Error& e) {
      throw Error(e.kind(), what + " at " + values_text(names, values) +
                                " (dynamic shapes: the graph must be valid everywhere in the ranges): " +
                                e.what());
    }
  };
  if (names.size() != ranges.size() || names.size() > kMaxSymbols)
    fail(ErrorKind::TypeError, what + ": at most " + std::to_string(kMaxSymbols) + " symbols");
  std::vector<size_t> dyn;
  for (size_t i = 0; i < names.size(); ++i) {
    const SymbolRange& r = ranges[i];
    if (!(1 <= r.min && r.min <= r.opt && r.opt <= r.max && r.max <= kMaxDimension))
      fail(ErrorKind::TypeError, what + ": the range of '" + names[i] + "' must have 1 <= min <= opt <= max <= " +
                                     std::to_string(kMaxDimension) + ", got (" + std::to_string(r.min) + ", " +
                                     std::to_string(r.opt) + ", " + std::to_string(r.max) + ")");
    if (r.min != r.max) dyn.push_back(i);
  }
  if (dyn.size() > kMaxDynamicSymbols)
    fail(ErrorKind::NotSupportedError, what + ": at most " + std::to_string(kMaxDynamicSymbols) +
                                           " symbols may change in one graph");
  std::vector<int64_t> g0, delta(names.size(), 0);
  for (size_t i = 0; i < names.size(); ++i) {
    g0.push_back(ranges[i].opt);
    delta[i] = ranges[i].opt < ranges[i].max ? 1 : -1;
  }
  std::shared_ptr<GraphIR> base = at(g0);
  if (dyn.empty()) return {std::move(base), nullptr};

  // The probes: the grid (first, base at index 0), the corners, one point inside.
  size_t k = dyn.size(), grid = size_t(1) << k;
  std::vector<std::vector<int64_t>> points;
  for (size_t b = 0; b < grid; ++b) {
    std::vector<int64_t> v = g0;
    for (size_t j = 0; j < k; ++j)
      if (b >> j & 1) v[dyn[j]] += delta[dyn[j]];
    points.push_back(v);
  }
  std::vector<int64_t> maxima = g0, inside = g0;
  for (size_t i : dyn) {
    maxima[i] = ranges[i].max;
    inside[i] = ranges[i].min + (ranges[i].max - ranges[i].min) * 2 / 3;
  }
  for (size_t b = 0; b < grid; ++b) {
    std::vector<int64_t> v = g0;
    for (size_t j = 0; j < k; ++j) v[dyn[j]] = (b >> j & 1) ? ranges[dyn[j]].max : ranges[dyn[j]].min;
    points.push_back(v);
  }
  points.push_back(inside);
  {
    std::vector<std::vector<int64_t>> unique;
    for (auto& p : points)
      if (std::find(unique.begin(), unique.end(), p) == unique.end()) unique.push_back(p);
    points = std::move(unique);
  }

  // Constants whose shape changes: found between the corners all at min and all at max
  // (opt may be either), their tables taken at the maxima.
  std::vector<int64_t> minima = g0;
  for (size_t i : dyn) minima[i] = ranges[i].min;
  std::shared_ptr<GraphIR> max_graph = at(maxima), min_graph = at(minima);
  if (!max_graph || !min_graph) fail(ErrorKind::OperationError, what + ": no graph at the range's corners");
  std::vector<Generated> gen;
  std::vector<VaryingConstant> varying = find_varying(*min_graph, *max_graph, what, &gen);
  const std::string opt_text = values_text(names, g0);
  replace_varying(*base, varying, what, opt_text);
  std::vector<bool> generated(base->operands.size(), false);
  for (Generated& c : gen) generated[size_t(c.id)] = true;
  std::vector<Var> gen_vars;  // the symbols' grid, for every other integer
  for (size_t j = 0; j < k; ++j) gen_vars.push_back({uint32_t(dyn[j]), g0[dyn[j]], delta[dyn[j]]});

  // The generated constants are fitted on a grid of their own, where each symbol is at least
  // 2 if its range allows (a batch of 1 has no second row to show how values step along
  // it), from their values at the corners of the element indices; then checked on every
  // element of every probe.
  auto verify = [&](Generated& c, const Tensor& t, const std::vector<int64_t>& values) {
    Tensor want = Tensor::uninitialized(t.data_type(), t.shape());
    if (!generate(*c.poly, values, want) || std::memcmp(want.data(), t.data(), t.byte_size()) != 0)
      not_supported(what, reader_of(*base, c.id) + " (shape " + to_string(t.shape()) + " at " +
                              values_text(names, values) +
                              ") holds values that no multilinear polynomial in the symbols and its "
                              "element's indices gives");
  };
  auto check_generated_place = [&](const GraphIR& g, const Generated& c, const std::vector<int64_t>& values) {
    const OperandInfo& op = g.operands[size_t(c.id)];
    if (op.role != OperandRole::constant || op.desc.data_type != base->desc(c.id).data_type ||
        op.desc.shape.size() != base->desc(c.id).shape.size())
      not_supported(what, "the graph's structure changes with the symbols (" + reader_of(*base, c.id) +
                              " at " + values_text(names, values) + ")");
    return op.data;
  };
  if (!gen.empty()) {
    std::vector<Var> vars;
    for (size_t j = 0; j < k; ++j) {
      const SymbolRange& r = ranges[dyn[j]];
      int64_t a = std::clamp(r.opt, std::max<int64_t>(r.min, 2), std::max<int64_t>(r.max - 1, r.min));
      vars.push_back({uint32_t(dyn[j]), a, a < r.max ? 1 : -1});
    }
    std::vector<std::shared_ptr<GraphIR>> graphs;
    std::vector<std::vector<int64_t>> at_values;
    for (size_t b = 0; b < grid; ++b) {
      std::vector<int64_t> v = g0;
      for (size_t j = 0; j < k; ++j) v[dyn[j]] = vars[j].g0 + ((b >> j & 1) ? vars[j].delta : 0);
      graphs.push_back(v == g0 ? base : at(v));
      at_values.push_back(v);
    }
    for (Generated& c : gen) {
      const Dims& shape = check_generated_place(*graphs[0], c, at_values[0])->shape();
      for (size_t a = 0; a < shape.size(); ++a)
        if (shape[a] >= 2) c.axes.push_back(a);
      if (k + c.axes.size() > kAxisBit)
        not_supported(what, reader_of(*base, c.id) + " has too many axes that change");
      c.f.assign(grid << c.axes.size(), 0);
      for (size_t b = 0; b < grid; ++b) {
        std::shared_ptr<const Tensor> t = check_generated_place(*graphs[b], c, at_values[b]);
        std::vector<size_t> stride(t->shape().size(), 1);
        for (size_t d = stride.size(); d-- > 1;) stride[d - 1] = stride[d] * size_t(t->shape()[d]);
        for (size_t corner = 0; corner < (size_t(1) << c.axes.size()); ++corner) {
          size_t e = 0;
          for (size_t j = 0; j < c.axes.size(); ++j) {
            if (!(corner >> j & 1)) continue;
            if (t->shape()[c.axes[j]] < 2)
              not_supported(what, reader_of(*base, c.id) + " has size 1 along axis " +
                                      std::to_string(c.axes[j]) + " at " + values_text(names, at_values[b]));
            e += stride[c.axes[j]];
          }
          c.f[b | (corner << k)] = constant_element(*t, e);
        }
      }
      std::vector<Var> all = vars;
      for (size_t a : c.axes) all.push_back({uint32_t(kAxisBit + a), 0, 1});
      c.poly = interpolate(c.f, all);
      if (!c.poly) not_supported(what, reader_of(*base, c.id) + " holds values that grow too fast");
      for (size_t b = 0; b < grid; ++b) verify(c, *check_generated_place(*graphs[b], c, at_values[b]), at_values[b]);
    }
  }
  auto collect = [&](const GraphIR& g, size_t p) {
    for (Generated& c : gen) verify(c, *check_generated_place(g, c, points[p]), points[p]);
  };
  const std::vector<Location> locations = locations_of(*base, generated);
  std::vector<std::vector<int64_t>> ints;  // per point
  ints.push_back(integers_of(*base, generated));
  collect(*base, 0);
  for (size_t p = 1; p < points.size(); ++p) {
    std::shared_ptr<GraphIR> g = points[p] == maxima   ? std::move(max_graph)
                                 : points[p] == minima ? std::move(min_graph)
                                                       : at(points[p]);
    if (!g) fail(ErrorKind::OperationError, what + ": no graph at " + values_text(names, points[p]));
    const std::string at_text = values_text(names, points[p]);
    replace_varying(*g, varying, what, at_text);
    check_same_structure(*base, *g, what, at_text, generated);
    ints.push_back(integers_of(*g, generated));
    if (ints.back().size() != locations.size())
      not_supported(what, "the graph's structure changes with the symbols (at " + at_text + ")");
    collect(*g, p);
  }
  max_graph.reset();
  min_graph.reset();

  auto sym = std::make_shared<SymbolicShapes>();
  sym->names = names;
  sym->ranges = ranges;
  std::vector<int64_t> f(grid);
  for (size_t l = 0; l < locations.size(); ++l) {
    bool changes = false;
    for (size_t p = 1; p < points.size() && !changes; ++p) changes = ints[p][l] != ints[0][l];
    if (!changes) continue;
    for (size_t b = 0; b < grid; ++b) f[b] = ints[b][l];
    std::optional<Polynomial> poly = interpolate(f, gen_vars);
    for (size_t p = grid; poly && p < points.size(); ++p)
      if (poly->eval(points[p]) != ints[p][l]) {
        not_supported(what, location_text(*base, locations[l]) + " is " + std::to_string(ints[0][l]) +
                                " at " + opt_text + " and " + std::to_string(ints[p][l]) + " at " +
                                values_text(names, points[p]) +
                                ", which no multilinear polynomial in the symbols fits (" +
                                poly->to_string(names) + " would give " +
                                std::to_string(poly->eval(points[p]).value_or(0)) + ")");
      }
    if (!poly) not_supported(what, location_text(*base, locations[l]) + " grows too fast");
    const Location& loc = locations[l];
    if (loc.kind == ShapePatch::Kind::operand_dim &&
        base->operands[size_t(loc.index)].role == OperandRole::constant && !generated[size_t(loc.index)])
      not_supported(what, reader_of(*base, loc.index) + " changes shape with the symbols");
    sym->patches.push_back({loc.kind, loc.index, loc.attr, loc.pos, std::move(*poly)});
  }
  for (Generated& c : gen)
    sym->patches.push_back({ShapePatch::Kind::constant_generated, c.id, "", 0, std::move(*c.poly)});
  check_symbolic(*base, *sym, ErrorKind::NotSupportedError);
  return {std::move(base), std::move(sym)};
}

// ---- checking and specializing

namespace {

// A generated constant: its shape at every corner within kMaxGeneratedElements, its values at
// opt the stored ones, and its polynomial inside the element type over the box of the
// corners and every index up to the largest size (multilinear: extremes at its corners).
template <typename Bad>
void check_generated(const GraphIR& ir, const SymbolicShapes& s, const ShapePatch& gen,
                     const std::vector<std::vector<int64_t>>& corners, const std::string& where, Bad bad) {
  const OperandInfo& op = ir.operands[size_t(gen.index)];
  const size_t rank = op.desc.shape.size();
  std::vector<int64_t> largest(op.desc.shape.begin(), op.desc.shape.end());
  for (const auto& c : corners) {
    Dims shape = op.desc.shape;
    for (const ShapePatch& p : s.patches)
      if (p.kind == ShapePatch::Kind::operand_dim && p.index == gen.index && p.pos < rank)
        shape[p.pos] = p.value.eval(c).value_or(0);
    int64_t n = 1;
    for (size_t d = 0; d < rank; ++d) {
      if (shape[d] < 1 || __builtin_mul_overflow(n, shape[d], &n) || n > kMaxGeneratedElements)
        bad(where + ": the generated constant's shape leaves its bounds within the ranges");
      largest[d] = std::max(largest[d], shape[d]);
    }
  }
  const bool wide = op.desc.data_type == DataType::int64;
  for (const auto& c : corners)
    for (size_t b = 0; b < (size_t(1) << rank); ++b) {
      std::vector<int64_t> slots = generator_slots(c, rank);
      for (size_t d = 0; d < rank; ++d) slots[kAxisBit + d] = (b >> d & 1) ? largest[d] - 1 : 0;
      std::optional<int64_t> v = gen.value.eval(slots);
      if (!v || (!wide && (*v < INT32_MIN || *v > INT32_MAX)))
        bad(where + ": the generated values leave the constant's type within the ranges");
    }
  Tensor want = Tensor::uninitialized(op.desc.data_type, op.desc.shape);
  if (!generate(gen.value, s.opt_values(), want) ||
      std::memcmp(want.data(), op.data->data(), want.byte_size()) != 0)
    bad(where + ": its polynomial does not give the graph's values at opt");
}

}  // namespace

void check_symbolic(const GraphIR& ir, SymbolicShapes& s, ErrorKind kind) {
  auto bad = [&](const std::string& m) { fail(kind, "dynamic shapes: " + m); };
  if (s.names.size() != s.ranges.size() || s.names.empty() || s.names.size() > kMaxSymbols)
    bad("1 to " + std::to_string(kMaxSymbols) + " symbols, each with a range");
  std::set<std::string> seen;
  std::vector<size_t> dyn;
  for (size_t i = 0; i < s.names.size(); ++i) {
    const SymbolRange& r = s.ranges[i];
    if (s.names[i].empty() || !seen.insert(s.names[i]).second) bad("symbol names must be distinct and not empty");
    if (!(1 <= r.min && r.min <= r.opt && r.opt <= r.max && r.max <= kMaxDimension))
      bad("the range of '" + s.names[i] + "' is not 1 <= min <= opt <= max <= 2^31-1");
    if (r.min != r.max) dyn.push_back(i);
  }
  if (dyn.empty() || dyn.size() > kMaxDynamicSymbols)
    bad("1 to " + std::to_string(kMaxDynamicSymbols) + " symbols may change");
  const uint32_t all = (uint32_t(1) << s.names.size()) - 1;
  const std::vector<int64_t> opt = s.opt_values();
  // The corners of the ranges (opt for the fixed symbols).
  std::vector<std::vector<int64_t>> corners;
  for (size_t b = 0; b < (size_t(1) << dyn.size()); ++b) {
    std::vector<int64_t> v = opt;
    for (size_t j = 0; j < dyn.size(); ++j) v[dyn[j]] = (b >> j & 1) ? s.ranges[dyn[j]].max : s.ranges[dyn[j]].min;
    corners.push_back(std::move(v));
  }
  std::set<std::tuple<int, int32_t, std::string, uint32_t>> places;
  std::set<int32_t> generated;
  for (const ShapePatch& p : s.patches)
    if (p.kind == ShapePatch::Kind::constant_generated) generated.insert(p.index);
  for (const ShapePatch& p : s.patches) {
    std::string where = "patch of " + std::string(p.kind == ShapePatch::Kind::operand_dim ? "operand " : "node ") +
                        std::to_string(p.index);
    if (!places.insert({int(p.kind), p.index, p.attr, p.pos}).second) bad(where + " repeats a place");
    if (p.value.terms.size() > (size_t(1) << s.names.size())) bad(where + ": too many terms");
    uint32_t allowed = all;
    if (p.kind == ShapePatch::Kind::constant_generated && p.index >= 0 && size_t(p.index) < ir.operands.size())
      allowed |= ((uint32_t(1) << ir.operands[size_t(p.index)].desc.shape.size()) - 1) << kAxisBit;
    for (const Polynomial::Term& t : p.value.terms)
      if ((t.mask & ~allowed) != 0 || t.coeff == 0) bad(where + ": a term names no symbol or is zero");
    int64_t current = 0, lo = 1, hi = kMaxDimension;
    switch (p.kind) {
      case ShapePatch::Kind::operand_dim: {
        if (p.index < 0 || size_t(p.index) >= ir.operands.size()) bad(where + ": no such operand");
        const OperandInfo& op = ir.operands[size_t(p.index)];
        if (op.role == OperandRole::constant && !generated.count(p.index))
          bad(where + ": a constant's shape cannot change");
        if (p.pos >= op.desc.shape.size()) bad(where + ": no such dimension");
        current = op.desc.shape[p.pos];
        break;
      }
      case ShapePatch::Kind::attr_int:
      case ShapePatch::Kind::attr_ints: {
        if (p.index < 0 || size_t(p.index) >= ir.nodes.size()) bad(where + ": no such node");
        const Attrs& a = ir.nodes[size_t(p.index)].attrs;
        auto it = a.all().find(p.attr);
        if (it == a.all().end()) bad(where + ": no attribute '" + p.attr + "'");
        if (p.kind == ShapePatch::Kind::attr_int) {
          auto* i = std::get_if<int64_t>(&it->second);
          if (!i || p.pos != 0) bad(where + ": '" + p.attr + "' is not an integer");
          current = *i;
        } else {
          auto* v = std::get_if<std::vector<int64_t>>(&it->second);
          if (!v || p.pos >= v->size()) bad(where + ": '" + p.attr + "' has no element " + std::to_string(p.pos));
          current = (*v)[p.pos];
        }
        lo = -kMaxDimension;  // attributes: starts, axes and sizes; bounded like dimensions
        break;
      }
      case ShapePatch::Kind::constant_value: {
        if (p.index < 0 || size_t(p.index) >= ir.operands.size()) bad(where + ": no such operand");
        const OperandInfo& op = ir.operands[size_t(p.index)];
        if (!patchable_constant(op)) bad(where + ": not a small int32 or int64 constant");
        if (p.pos >= op.data->element_count()) bad(where + ": no such element");
        current = constant_element(*op.data, p.pos);
        bool wide = op.desc.data_type == DataType::int64;
        lo = wide ? INT64_MIN : INT32_MIN;
        hi = wide ? INT64_MAX : INT32_MAX;
        break;
      }
      case ShapePatch::Kind::constant_generated: {
        if (p.index < 0 || size_t(p.index) >= ir.operands.size()) bad(where + ": no such operand");
        const OperandInfo& op = ir.operands[size_t(p.index)];
        if (op.role != OperandRole::constant || !op.data ||
            (op.desc.data_type != DataType::int32 && op.desc.data_type != DataType::int64))
          bad(where + ": not an int32 or int64 constant");
        if (p.pos != 0 || op.desc.shape.size() > 8) bad(where + ": a generated constant has rank at most 8");
        check_generated(ir, s, p, corners, where, bad);
        continue;  // checked whole, not as one value
      }
      default:
        bad(where + ": unknown kind");
    }
    if (p.value.eval(opt) != current) bad(where + ": its polynomial does not give the graph's value at opt");
    for (const auto& c : corners) {
      std::optional<int64_t> v = p.value.eval(c);
      if (!v || *v < lo || *v > hi) bad(where + ": its polynomial leaves [" + std::to_string(lo) + ", " +
                                        std::to_string(hi) + "] within the ranges");
    }
  }
  s.sources.assign(s.names.size(), std::nullopt);
  for (const ShapePatch& p : s.patches) {
    if (p.kind != ShapePatch::Kind::operand_dim) continue;
    const OperandInfo& op = ir.operands[size_t(p.index)];
    std::optional<size_t> sym = p.value.single_symbol();
    if (op.role == OperandRole::input && sym && !s.sources[*sym])
      s.sources[*sym] = SymbolicShapes::Source{op.name, p.pos};
  }
  for (size_t i : dyn)
    if (!s.sources[i]) bad("the symbol '" + s.names[i] + "' is no dimension of any graph input");
}

std::shared_ptr<const GraphIR> specialize(const GraphIR& ir, const SymbolicShapes& s,
                                          const std::vector<int64_t>& values, bool run_time_shape) {
  if (values.size() != s.names.size())
    fail(ErrorKind::TypeError, "dynamic shapes: " + std::to_string(s.names.size()) + " symbol values needed");
  for (size_t i = 0; i < values.size(); ++i) {
    const SymbolRange& r = s.ranges[i];
    if (values[i] < r.min || values[i] > r.max)
      fail(ErrorKind::TypeError, "dynamic shapes: " + s.names[i] + "=" + std::to_string(values[i]) +
                                     " is outside the graph's range [" + std::to_string(r.min) + ", " +
                                     std::to_string(r.max) + "]");
  }
  const std::string at = values_text(s.names, values);
  auto g = std::make_shared<GraphIR>(ir);
  g->run_time_shape = run_time_shape;
  for (const ShapePatch& p : s.patches) {
    if (p.kind == ShapePatch::Kind::constant_generated) continue;  // after the shapes, below
    std::optional<int64_t> v = p.value.eval(values);
    // check_symbolic bounded every polynomial at the corners, so this cannot happen.
    if (!v) fail(ErrorKind::OperationError, "dynamic shapes: a polynomial overflows at " + at);
    if (p.kind == ShapePatch::Kind::operand_dim)
      g->operands.at(size_t(p.index)).desc.shape.at(p.pos) = *v;
    else if (p.kind == ShapePatch::Kind::constant_value) {
      // A copy of the constant per specialized graph (the original may be shared).
      OperandInfo& op = g->operands.at(size_t(p.index));
      if (op.data == ir.operands[size_t(p.index)].data) op.data = std::make_shared<const Tensor>(op.data->clone());
      Tensor& t = const_cast<Tensor&>(*op.data);
      if (p.pos >= t.element_count()) fail(ErrorKind::OperationError, "dynamic shapes: a constant patch is out of range");
      if (t.data_type() == DataType::int32) {
        if (*v < INT32_MIN || *v > INT32_MAX) fail(ErrorKind::OperationError, "dynamic shapes: a constant overflows int32 at " + at);
        t.data_as<int32_t>()[p.pos] = int32_t(*v);
      } else {
        t.data_as<int64_t>()[p.pos] = *v;
      }
    } else if (p.kind == ShapePatch::Kind::attr_int)
      g->nodes.at(size_t(p.index)).attrs.set(p.attr, *v);
    else if (p.kind == ShapePatch::Kind::attr_ints) {
      auto value = std::get<std::vector<int64_t>>(g->nodes.at(size_t(p.index)).attrs.all().at(p.attr));
      value.at(p.pos) = *v;
      g->nodes.at(size_t(p.index)).attrs.set(p.attr, std::move(value));
    }
  }
  for (const ShapePatch& p : s.patches) {
    if (p.kind != ShapePatch::Kind::constant_generated) continue;
    OperandInfo& op = g->operands.at(size_t(p.index));
    Tensor t = Tensor::uninitialized(op.desc.data_type, op.desc.shape);
    if (!generate(p.value, values, t))
      fail(ErrorKind::OperationError, "dynamic shapes: a generated constant overflows at " + at);
    op.data = std::make_shared<const Tensor>(std::move(t));
  }
  for (size_t k = 0; k < g->nodes.size(); ++k) {
    try {
      infer_node(*g, g->nodes[k], node_name(*g, k));
    } catch (const Error& e) {
      fail(ErrorKind::OperationError, "dynamic shapes: the graph at " + at + " is not valid: " + e.what());
    }
  }
  return g;
}

std::vector<int64_t> symbol_values_for(const GraphIR& ir, const SymbolicShapes& s,
                                       const std::map<std::string, Dims>& input_shapes,
                                       const std::string& what) {
  std::vector<int64_t> values = s.opt_values();
  for (size_t i = 0; i < s.names.size(); ++i) {
    if (!s.sources[i]) continue;
    const auto& src = *s.sources[i];
    auto it = input_shapes.find(src.input);
    if (it == input_shapes.end()) fail(ErrorKind::TypeError, what + ": input '" + src.input + "' is missing");
    const Dims& want = ir.desc(ir.inputs.at(src.input)).shape;
    if (it->second.size() != want.size())
      fail(ErrorKind::TypeError, what + ": input '" + src.input + "' has shape " + to_string(it->second) +
                                     ", the graph expects rank " + std::to_string(want.size()));
    int64_t v = it->second[src.axis];
    const SymbolRange& r = s.ranges[i];
    if (v < r.min || v > r.max)
      fail(ErrorKind::TypeError, what + ": input '" + src.input + "' has shape " + to_string(it->second) +
                                     ": its dimension " + std::to_string(src.axis) + " is " + s.names[i] +
                                     ", whose range is [" + std::to_string(r.min) + ", " +
                                     std::to_string(r.max) + "]");
    values[i] = v;
  }
  return values;
}

}  // namespace cppnn::detail

// ---- the public Graph's view

namespace cppnn {

using detail::SymbolicShapes;

std::map<std::string, SymbolRange> Graph::symbols() const {
  std::map<std::string, SymbolRange> out;
  if (symbolic_)
    for (size_t i = 0; i < symbolic_->names.size(); ++i) out[symbolic_->names[i]] = symbolic_->ranges[i];
  return out;
}

std::map<std::string, std::vector<std::string>> Graph::input_symbols() const {
  std::map<std::string, std::vector<std::string>> out;
  for (const auto& [name, id] : ir().inputs) out[name].assign(ir().desc(id).shape.size(), "");
  if (!symbolic_) return out;
  for (const detail::ShapePatch& p : symbolic_->patches) {
    if (p.kind != detail::ShapePatch::Kind::operand_dim) continue;
    const detail::OperandInfo& op = ir().operands[size_t(p.index)];
    if (op.role != detail::OperandRole::input) continue;
    out[op.name][p.pos] = p.value.to_string(symbolic_->names);
  }
  return out;
}

Graph Graph::specialize(const std::map<std::string, int64_t>& values) const {
  if (!symbolic_) {
    if (!values.empty())
      fail(ErrorKind::TypeError, "specialize: the graph has no symbolic dimensions");
    return *this;
  }
  const SymbolicShapes& s = *symbolic_;
  std::vector<int64_t> v = s.opt_values();
  for (const auto& [name, value] : values) {
    auto it = std::find(s.names.begin(), s.names.end(), name);
    if (it == s.names.end())
      fail(ErrorKind::TypeError, "specialize: the graph has no symbol '" + name + "'");
    v[size_t(it - s.names.begin())] = value;
  }
  for (size_t i = 0; i < s.names.size(); ++i)
    if (s.changes(i) && !values.count(s.names[i]))
      fail(ErrorKind::TypeError, "specialize: no value for the symbol '" + s.names[i] + "'");
  return Graph(detail::specialize(ir(), s, v));
}

Graph Graph::specialize_for(const std::map<std::string, Dims>& input_shapes) const {
  if (!symbolic_) return *this;
  std::vector<int64_t> v = detail::symbol_values_for(ir(), *symbolic_, input_shapes, "specialize");
  if (v == symbolic_->opt_values()) return Graph(ir_ptr());
  return Graph(detail::specialize(ir(), *symbolic_, v));
}

}  // namespace cppnn
