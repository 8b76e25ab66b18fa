// The device step of the internal attention op (made by the fusion pass fuse_attention,
// src/compiler/fuse_attention.cpp, which documents its inputs and attributes) on the fused
// kernel of kernels/attention.cuh: q, k, v and the output are read and written where they
// are, through the strides their permutations give.
#include <memory>
#include <string>

#include "backends/cuda/kernel_steps.h"
#include "backends/cuda/kernels/attention.h"
#include "core/dims.h"

namespace cppnn::detail::cuda {

namespace {

// Input `i` of the node ("q", "k" or "v"; the output: "out") as the kernel reads it: the
// rank-4 tensor whose axis perm[j] is logical axis j ([batch, heads, sequence, head dim]),
// either the operand itself (contiguous) or a view of its columns (fuse_attention.cpp:
// "qOffset", "qShape", "qStrides").
struct Operand4 {
  Dims shape;
  int64_t strides[4] = {0, 0, 0, 0};
  int64_t offset = 0;
  std::vector<int64_t> perm;
  int64_t dim(int logical) const { return shape[size_t(perm[size_t(logical)])]; }
  AttentionStrides logical_strides() const {
    return {strides[perm[0]], strides[perm[1]], strides[perm[2]]};
  }
};

Operand4 operand4(const GraphIR& g, const Node& node, OperandId id, const std::string& name) {
  Operand4 o;
  o.perm = node.attrs.ints(name + "Permutation");
  if (node.attrs.has(name + "Shape")) {
    const std::vector<int64_t>& shape = node.attrs.ints(name + "Shape");
    const std::vector<int64_t>& strides = node.attrs.ints(name + "Strides");
    o.shape = Dims(shape.begin(), shape.end());
    for (size_t a = 0; a < 4; ++a) o.strides[a] = strides[a];
    o.offset = node.attrs.i(name + "Offset");
    return o;
  }
  o.shape = g.desc(id).shape;
  for (size_t a = 0; a < 4; ++a) o.strides[a] = dims_product(o.shape, a + 1, o.shape.size());
  return o;
}

const void* at_offset(const void* base, int64_t elements) {
  return static_cast<const char*>(base) + elements * int64_t(sizeof(uint16_t));  // float16
}

// A mask's strides aligned right against [batch, heads, sq, sk]; 0 along broadcast axes.
void broadcast_strides(const Dims& shape, int64_t& b, int64_t& h, int64_t& q, int64_t& k) {
  int64_t st[4] = {0, 0, 0, 0}, stride = 1;
  for (size_t i = shape.size(); i-- > 0;) {
    size_t axis = 4 - shape.size() + i;
    st[axis] = shape[i] == 1 ? 0 : stride;
    stride *= int64_t(shape[i]);
  }
  b = st[0], h = st[1], q = st[2], k = st[3];
}

DeviceDecision decide_attention(const GraphIR& g, const Node& node, const Device&) {
  DeviceDecision d;
  const OperandDescriptor& q = g.desc(node.inputs[0]);
  if (q.data_type != DataType::float16) {
    d.why_not = "the fused attention kernel takes float16";
    return d;
  }
  int64_t head_dim = operand4(g, node, node.inputs[0], "q").dim(3);
  if (!attention_head_dim_supported(int(head_dim))) {
    d.why_not = "no fused attention kernel for head dimension " + std::to_string(head_dim);
    return d;
  }
  d.on_gpu = true;
  return d;
}

std::unique_ptr<Step> make_attention(std::shared_ptr<Device> device, const GraphIR& g, const Node& node,
                                     const std::vector<Placement>& places) {
  const Operand4 q = operand4(g, node, node.inputs[0], "q"), k = operand4(g, node, node.inputs[1], "k");
  const Operand4 v = operand4(g, node, node.inputs[2], "v"), out = operand4(g, node, node.outputs[0], "out");
  AttentionParams p;
  p.q = at_offset(device_address(places, node.inputs[0], node, "q"), q.offset);
  p.k = at_offset(device_address(places, node.inputs[1], node, "k"), k.offset);
  p.v = at_offset(device_address(places, node.inputs[2], node, "v"), v.offset);
  p.out = device_address(places, node.outputs[0], node, "output");
  p.qs = q.logical_strides();
  p.ks = k.logical_strides();
  p.vs = v.logical_strides();
  p.os = out.logical_strides();
  p.batch = int(q.dim(0)), p.heads = int(q.dim(1));
  p.sq = int(q.dim(2)), p.sk = int(k.dim(2));
  p.head_dim = int(q.dim(3));
  p.scale = float(node.attrs.f("scale"));
  p.zero_nan_rows = node.attrs.b("zeroNanRows");
  std::string mask_text = "no mask";
  if (node.attrs.i_or("causal", 0) != 0) {
    p.causal = true;
    p.causal_offset = int(node.attrs.i("causalOffset"));
    mask_text = "causal (offset " + std::to_string(p.causal_offset) + ")";
  }
  if (has_input(node, 3)) {
    const OperandDescriptor& m = g.desc(node.inputs[3]);
    p.mask = device_address(places, node.inputs[3], node, "mask");
    p.mask_type = m.data_type == DataType::float16 ? AttentionMask::f16 : AttentionMask::f32;
    if (m.data_type != DataType::float16 && m.data_type != DataType::float32)
      fail(ErrorKind::OperationError, "cuda plan: " + node_name(node) + ": a mask of type " + type_text(m.data_type));
    broadcast_strides(m.shape, p.mask_b, p.mask_h, p.mask_q, p.mask_k);
    mask_text = (p.causal ? mask_text + ", mask " : "mask ") + to_string(m.shape) + " " + type_text(m.data_type);
  }
  if (has_input(node, 4)) {
    const Dims& c = g.desc(node.inputs[4]).shape;
    p.cond = static_cast<const uint8_t*>(device_address(places, node.inputs[4], node, "cond"));
    broadcast_strides(c, p.cond_b, p.cond_h, p.cond_q, p.cond_k);
    p.fill = float(node.attrs.f("maskFill"));
    p.fill_where_true = node.attrs.b("fillWhereTrue");
    mask_text += std::string(", ") + (p.fill_where_true ? "masked_fill " : "where ") + to_string(c);
  }
  // Too few query blocks to fill the GPU (a decode step): the keys split over more blocks,
  // their partial rows merged by a second pass. The partial rows are the step's own.
  attention_choose_splits(p, device->sm_count, size_t(64) << 20);
  std::shared_ptr<DeviceBuffer> partial;
  if (p.splits > 1) {
    partial = std::make_shared<DeviceBuffer>(attention_partial_bytes(p), "the fused attention's partial rows");
    p.partial = reinterpret_cast<float*>(partial->data());
    mask_text += ", keys in " + std::to_string(p.splits) + " splits";
  }
  if (!attention_supported(p))
    fail(ErrorKind::OperationError, "cuda plan: " + node_name(node) +
                                        ": the fused attention kernel does not take this problem");
  char line[224];
  std::snprintf(line, sizeof line, " [%d, %d heads, %d x %d keys, head dim %d]: fused cuda kernel, float16, %s%s",
                p.batch, p.heads, p.sq, p.sk, p.head_dim, mask_text.c_str(),
                p.zero_nan_rows ? ", NaN rows zeroed" : "");
  return std::make_unique<KernelStep>(node, node_name(node) + line, [p, partial](cudaStream_t s) {
    return launch_attention(p, s);
  });
}

}  // namespace

bool attention_takes(const AttentionCandidate& c) {
  return c.data_type == DataType::float16 && c.head_dim == c.value_dim &&
         attention_head_dim_supported(int(c.head_dim)) && c.batch <= 65535 && c.heads <= 65535 &&
         c.query_length < (int64_t(1) << 30) && c.key_length < (int64_t(1) << 30) &&
         (!c.masked || c.mask_type == DataType::float16 || c.mask_type == DataType::float32);
}

bool attention_reads_merged_projections(DataType type, int64_t head_dim) {
  return type == DataType::float16 && head_dim <= 128 && attention_head_dim_supported(int(head_dim));
}

void add_attention_ops(DeviceOpTable& table) {
  table[OpId::attention] = DeviceOp{decide_attention, make_attention};
}

}  // namespace cppnn::detail::cuda
