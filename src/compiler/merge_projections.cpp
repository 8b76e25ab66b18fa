// Merged projections: the query, key and value projections of an attention, three (or, for
// cross-attention's key and value, two) matmuls of one input by constant weights, each with
// its constant bias added, become one matmul by the weights side by side and one bias add,
// split along the last axis into what the three computed:
//
//   y_i = x W_i (+ b_i), W_i [K, N_i]   ->   [y_0, y_1, ...] = split(x [W_0 W_1 ...] + [b_0 b_1 ...])
//
// so a GPU runs one GEMM of N = sum N_i instead of several narrow ones. The split outputs
// keep the operand ids of the y_i, so nothing that reads them changes. Taken only where each
// y_i is read by nothing but reshapes to [.., heads, head dim] (an attention's split
// heads), which fuse_attention then reads where the merged product wrote them (its "qOffset"
// views): the split itself is dead after that, and no copy remains. A projection without a
// bias among ones with a bias (Whisper's key) gets zeros. A scale by a power of two after a
// projection (Whisper's q * d^-0.5) is folded into its weights and bias, exactly. The
// backend opts in
// (PassOptions::merge_projections, asked with the data type and the head dimension).
//
// The merged weights of the same source tensors are made once per process and shared while
// any graph holds them (merged_constants): a dynamic graph's plan per shape then neither
// copies them again nor, on a backend that shares device constants by host tensor (the CUDA
// plans of a context), uploads them again.
#include <cmath>
#include <cstdio>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "compiler/passes.h"
#include "compiler/uses.h"
#include "core/dims.h"
#include "core/dispatch.h"

namespace cppnn::detail {

namespace {

struct Projection {
  size_t matmul = 0;
  int32_t add = -1;            // the bias add, if any
  OperandId weight = kNoOperand, bias = kNoOperand;  // bias: the add's or the matmul's own
  int32_t mul = -1;            // a scale by a power of two after it, if any
  double scale = 1.0;
  OperandId out = kNoOperand;  // y_i: the mul's output, the add's, or the matmul's
  int64_t n = 0;
  int64_t head_dim = 0;        // of the reshapes into heads
};

bool is_constant(const GraphIR& g, OperandId id) {
  return id != kNoOperand && g.operands[size_t(id)].role == OperandRole::constant && g.operands[size_t(id)].data;
}

// Every node reading each operand (Uses keeps only the last).
std::vector<std::vector<int32_t>> readers(const GraphIR& g) {
  std::vector<std::vector<int32_t>> r(g.operands.size());
  for (size_t n = 0; n < g.nodes.size(); ++n)
    if (g.nodes[n].op != OpId::none)
      for (OperandId in : g.nodes[n].inputs)
        if (in != kNoOperand) r[size_t(in)].push_back(int32_t(n));
  return r;
}

// Node `m` as a projection of its input 0 by a constant [K, N] weight, or nullopt.
std::optional<Projection> projection(const GraphIR& g, const Uses& uses,
                                     const std::vector<std::vector<int32_t>>& read, size_t m) {
  const Node& mm = g.nodes[m];
  if (mm.op != OpId::matmul || mm.inputs.size() < 2 || mm.attrs.has("activation")) return {};
  const OperandDescriptor& x = g.desc(mm.inputs[0]);
  const OperandDescriptor& w = g.desc(mm.inputs[1]);
  if (!is_constant(g, mm.inputs[1]) || w.shape.size() != 2 || x.shape.size() < 2 || w.data_type != x.data_type)
    return {};
  Projection p;
  p.matmul = m, p.weight = mm.inputs[1], p.out = mm.outputs[0], p.n = int64_t(w.shape[1]);
  // The bias: fused already (a graph optimized before, as a context's float16 graph or an
  // engine's is: fusion.cpp's input 2, 1-D), or an add of a constant holding N values along
  // the last axis, alone reading y.
  const OperandId y = mm.outputs[0];
  if (mm.inputs.size() > 2 && mm.inputs[2] != kNoOperand) {
    const OperandDescriptor& bd = g.desc(mm.inputs[2]);
    if (!is_constant(g, mm.inputs[2]) || bd.data_type != x.data_type || bd.shape != Dims{p.n}) return {};
    p.bias = mm.inputs[2];
  } else if (uses.count[size_t(y)] == 1 && read[size_t(y)].size() == 1) {
    const int32_t a = read[size_t(y)][0];
    const Node& add = g.nodes[size_t(a)];
    if (add.op == OpId::add) {
      const OperandId b = add.inputs[0] == y ? add.inputs[1] : add.inputs[0];
      const OperandDescriptor& bd = g.desc(b);
      if (b != y && is_constant(g, b) && bd.data_type == x.data_type && !bd.shape.empty() &&
          int64_t(bd.shape.back()) == p.n && int64_t(element_count(bd.shape)) == p.n &&
          bd.shape.size() <= g.desc(y).shape.size() && g.desc(add.outputs[0]) == g.desc(y)) {
        p.add = a, p.bias = b, p.out = add.outputs[0];
      }
    }
  }
  // A scale by a power of two after it (Whisper's q * d^-0.5): folded into the weights and
  // the bias, which it changes exactly (a float's exponent), unless it is read otherwise.
  if (uses.count[size_t(p.out)] == 1 && read[size_t(p.out)].size() == 1) {
    const int32_t mi = read[size_t(p.out)][0];
    const Node& mul = g.nodes[size_t(mi)];
    if (mul.op == OpId::mul) {
      const OperandId c = mul.inputs[0] == p.out ? mul.inputs[1] : mul.inputs[0];
      const OperandInfo& ci = g.operands[size_t(c)];
      if (c != p.out && is_constant(g, c) && element_count(ci.desc.shape) == 1 && ci.desc.data_type == x.data_type &&
          (x.data_type == DataType::float16 || x.data_type == DataType::float32) &&
          g.desc(mul.outputs[0]) == g.desc(p.out)) {
        int exponent = 0;
        const double f = ci.data->to_doubles()[0];
        if (f > 0 && std::frexp(f, &exponent) == 0.5 && exponent > -8 && exponent < 8)
          p.mul = mi, p.scale = f, p.out = mul.outputs[0];
      }
    }
  }
  // y read only by the reshapes that split it into heads, and not a graph output.
  const OperandId out = p.out;
  if (uses.count[size_t(out)] != int32_t(read[size_t(out)].size()) || read[size_t(out)].empty()) return {};
  const Dims& ys = g.desc(out).shape;
  for (int32_t r : read[size_t(out)]) {
    const Node& rs = g.nodes[size_t(r)];
    const Dims& o = g.desc(rs.outputs[0]).shape;
    if (rs.op != OpId::reshape || o.size() != 4 || int64_t(o[2] * o[3]) != p.n ||
        dims_product(ys, 0, ys.size() - 1) != o[0] * o[1] || (p.head_dim && p.head_dim != o[3]))
      return {};
    p.head_dim = o[3];
  }
  return p;
}

// Columns [col, col + count) of the [k, n] weights and of the bias times `scale`.
template <typename T>
void scale_columns(Tensor& w, Tensor& b, int64_t k, int64_t n, int64_t col, int64_t count, double scale) {
  T* wt = w.data_as<T>();
  T* bt = b.data_as<T>();
  for (int64_t r = 0; r < k; ++r)
    for (int64_t j = col; j < col + count; ++j) wt[r * n + j] = from_double<T>(to_double(wt[r * n + j]) * scale);
  for (int64_t j = col; j < col + count; ++j) bt[j] = from_double<T>(to_double(bt[j]) * scale);
}

// A new operand of `g`.
OperandId add_operand(GraphIR& g, OperandDescriptor desc, std::shared_ptr<const Tensor> data = nullptr) {
  OperandInfo info;
  info.desc = std::move(desc);
  info.role = data ? OperandRole::constant : OperandRole::intermediate;
  info.data = std::move(data);
  g.operands.push_back(std::move(info));
  return OperandId(g.operands.size() - 1);
}

// The merged weights and bias of one group: made from its sources, or the ones made earlier
// from the same source tensors (and scales) while some graph still holds them. An entry holds
// its sources, so that no other tensor takes their addresses while it lives, and is dropped
// once the merged tensors are gone.
struct MergedConstants {
  std::shared_ptr<const Tensor> w, b;
};
MergedConstants merged_constants(const GraphIR& g, const std::vector<Projection>& group, DataType type,
                                 int64_t k, int64_t n) {
  struct Entry {
    std::vector<std::shared_ptr<const Tensor>> sources;
    std::weak_ptr<const Tensor> w, b;
  };
  static std::mutex mutex;
  static std::map<std::string, Entry> made;
  std::string key = std::string(to_string(type)) + " " + std::to_string(k) + "x" + std::to_string(n);
  std::vector<std::shared_ptr<const Tensor>> sources;
  for (const Projection& p : group) {
    char part[96];
    const Tensor* bias = p.bias != kNoOperand ? g.operands[size_t(p.bias)].data.get() : nullptr;
    std::snprintf(part, sizeof part, "; %p %p %.17g", static_cast<const void*>(g.operands[size_t(p.weight)].data.get()),
                  static_cast<const void*>(bias), p.mul >= 0 ? p.scale : 1.0);
    key += part;
    sources.push_back(g.operands[size_t(p.weight)].data);
    if (p.bias != kNoOperand) sources.push_back(g.operands[size_t(p.bias)].data);
  }
  {
    std::lock_guard<std::mutex> lock(mutex);
    for (auto it = made.begin(); it != made.end();) it = it->second.w.expired() ? made.erase(it) : std::next(it);
    if (auto it = made.find(key); it != made.end())
      if (auto w = it->second.w.lock()) return {w, it->second.b.lock()};
  }
  const size_t elem = byte_size(type, 1);
  // [W_0 W_1 ...]: row r is the rows r of each side by side; the biases likewise (zeros
  // where there is none).
  Tensor w = Tensor::uninitialized(type, {k, n});  // every column is written below
  Tensor b(type, {n});                              // zero-filled
  int64_t col = 0;
  for (const Projection& p : group) {
    const auto* src = static_cast<const unsigned char*>(g.operands[size_t(p.weight)].data->data());
    auto* dst = static_cast<unsigned char*>(w.data());
    for (int64_t r = 0; r < k; ++r)
      std::memcpy(dst + size_t(r * n + col) * elem, src + size_t(r * p.n) * elem, size_t(p.n) * elem);
    if (p.bias != kNoOperand)
      std::memcpy(static_cast<unsigned char*>(b.data()) + size_t(col) * elem,
                  g.operands[size_t(p.bias)].data->data(), size_t(p.n) * elem);
    if (p.mul >= 0) {
      // Times a power of two: exact in the type (outside its subnormals).
      if (type == DataType::float16) scale_columns<half>(w, b, k, n, col, p.n, p.scale);
      else scale_columns<float>(w, b, k, n, col, p.n, p.scale);
    }
    col += p.n;
  }
  MergedConstants out{std::make_shared<const Tensor>(std::move(w)), std::make_shared<const Tensor>(std::move(b))};
  std::lock_guard<std::mutex> lock(mutex);
  made[key] = Entry{std::move(sources), out.w, out.b};
  return out;
}

void merge(GraphIR& g, const std::vector<Projection>& group) {
  const Node first = g.nodes[group[0].matmul];
  const OperandId x = first.inputs[0];
  const DataType type = g.desc(x).data_type;
  const int64_t k = int64_t(g.desc(group[0].weight).shape[0]);
  int64_t n = 0;
  bool biased = false;
  for (const Projection& p : group) n += p.n, biased = biased || p.bias != kNoOperand;
  MergedConstants merged = merged_constants(g, group, type, k, n);
  Dims yshape = g.desc(group[0].out).shape;
  yshape.back() = n;
  const OperandId wid = add_operand(g, {type, {k, n}}, merged.w);
  const OperandId y = add_operand(g, {type, yshape});
  std::vector<Node> nodes;
  // The biases as the matmul's own (fusion.cpp: input 2), whether they were fused or added.
  Node mm = first;
  mm.inputs = {x, wid};
  if (biased) mm.inputs.push_back(add_operand(g, {type, {n}}, merged.b));
  mm.outputs = {y};
  nodes.push_back(mm);
  Node split;
  split.op = OpId::split;
  split.inputs = {y};
  split.label = first.label;
  split.attrs.set("axis", int64_t(yshape.size() - 1));
  std::vector<int64_t> splits;
  for (const Projection& p : group) split.outputs.push_back(p.out), splits.push_back(p.n);
  split.attrs.set("splits", splits);
  nodes.push_back(split);
  // The merged nodes take the first matmul's place: x exists there, and every reader of a
  // y_i comes after its own matmul, so after the first.
  for (const Projection& p : group) {
    g.nodes[p.matmul].op = OpId::none;
    if (p.add >= 0) g.nodes[size_t(p.add)].op = OpId::none;
    if (p.mul >= 0) g.nodes[size_t(p.mul)].op = OpId::none;
  }
  g.nodes.erase(g.nodes.begin() + std::ptrdiff_t(group[0].matmul));
  g.nodes.insert(g.nodes.begin() + std::ptrdiff_t(group[0].matmul), nodes.begin(), nodes.end());
}

}  // namespace

void merge_projections(GraphIR& g, const PassOptions& options) {
  if (!options.merge_projections) return;
  for (bool merged = true; merged;) {
    merged = false;
    Uses uses(g);
    const std::vector<std::vector<int32_t>> read = readers(g);
    // The projections of each input, with the same K and type, in graph order.
    std::map<OperandId, std::vector<Projection>> by_input;
    for (size_t m = 0; m < g.nodes.size(); ++m)
      if (std::optional<Projection> p = projection(g, uses, read, m)) by_input[g.nodes[m].inputs[0]].push_back(*p);
    for (auto& [x, group] : by_input) {
      // One head dimension for all (an attention's q, k and v), one the backend takes.
      bool same = true;
      for (const Projection& p : group) same = same && p.head_dim == group[0].head_dim;
      if (group.size() < 2 || !same || !options.merge_projections(g.desc(x).data_type, group[0].head_dim)) continue;
      if (group.size() > 3) group.resize(3);  // q, k, v: more is not an attention's
      merge(g, group);
      merged = true;  // node indices moved: look again
      break;
    }
  }
}

}  // namespace cppnn::detail
