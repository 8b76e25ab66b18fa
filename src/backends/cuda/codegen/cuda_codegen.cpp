// Groups element-wise nodes into fused kernels and writes each kernel's CUDA C++ source.
// The per-op expressions are in cuda_codegen_ops.cpp; this file decides what a kernel
// covers, what it reads and how each thread finds its elements.
#include "backends/cuda/codegen/cuda_codegen.h"

#include <algorithm>
#include <cstring>
#include <map>
#include <set>

#include "backends/cuda/codegen/cuda_codegen_ops.h"

namespace cppnn::detail {

namespace {

bool live_elementwise(const Node& node) {
  return node.op != OpId::none && node.outputs.size() == 1 && is_cuda_elementwise_op(node.op);
}

bool is_inlined(const GraphIR& g, OperandId id) {
  const OperandInfo& info = g.operands[size_t(id)];
  return info.role == OperandRole::constant && info.data &&
         element_count(info.desc.shape) <= kMaxInlinedConstantElements;
}

// How a kernel reads one external operand.
enum class Source { literal, pointer, array };

struct External {
  OperandId id;
  DataType type;
  size_t count;
  Source source;
  std::string name;    // the parameter (in<m>), the array, or the literal itself
  int broadcast = -1;  // index into the broadcast offsets, -1 if read at i or at 0
};

// Dimensions of the output over which broadcast inputs are walked, innermost first, with
// adjacent dimensions merged wherever every such input stays contiguous (or broadcast)
// across them: fewer divisions per element.
struct BroadcastWalk {
  std::vector<size_t> sizes;
  std::vector<std::vector<size_t>> strides;  // per broadcast input, per merged dimension
};

BroadcastWalk make_walk(const std::vector<Dims>& inputs, const Dims& out) {
  BroadcastWalk w;
  size_t k_count = inputs.size();
  std::vector<size_t> sizes;
  std::vector<std::vector<size_t>> strides(k_count);
  for (size_t d = 0; d < out.size(); ++d) {
    if (out[d] == 1) continue;
    sizes.push_back(size_t(out[d]));
    for (size_t k = 0; k < k_count; ++k) {
      const Dims& s = inputs[k];
      size_t off = out.size() - s.size();
      size_t stride = 0;
      if (d >= off && s[d - off] != 1) {
        stride = 1;
        for (size_t e = d - off + 1; e < s.size(); ++e) stride *= size_t(s[e]);
      }
      strides[k].push_back(stride);
    }
  }
  w.strides.resize(k_count);
  for (size_t d = sizes.size(); d-- > 0;) {
    bool merge = !w.sizes.empty();
    for (size_t k = 0; merge && k < k_count; ++k)
      merge = strides[k][d] == w.strides[k].back() * w.sizes.back();
    if (merge) {
      w.sizes.back() *= sizes[d];
    } else {
      w.sizes.push_back(sizes[d]);
      for (size_t k = 0; k < k_count; ++k) w.strides[k].push_back(strides[k][d]);
    }
  }
  return w;
}

// "x3". (Not "x" + std::to_string(3): GCC 12 warns falsely on that, -Wrestrict.)
std::string indexed(const char* prefix, size_t i) {
  std::string s = prefix;
  s += std::to_string(i);
  return s;
}

std::string shape_text(const OperandDescriptor& d) {
  return std::string(to_string(d.data_type)) + " " + to_string(d.shape);
}

std::string kernel_name(const GraphIR& g, const ElementwiseGroup& group, size_t index) {
  std::string name = indexed("cppnn_ew", index);
  constexpr size_t kNamedOps = 4;
  for (size_t k = 0; k < group.nodes.size() && k < kNamedOps; ++k)
    name += "_" + op_name(g.nodes[group.nodes[k]].op);
  if (group.nodes.size() > kNamedOps)
    name += indexed("_and", group.nodes.size() - kNamedOps) + "more";
  return name;
}

class KernelWriter {
 public:
  KernelWriter(const GraphIR& g, const ElementwiseGroup& group, size_t index)
      : g_(g), group_(group), out_(g.desc(group.output)) {
    k_.name = kernel_name(g, group, index);
    k_.output = group.output;
    k_.nodes = group.nodes;
    k_.elements = element_count(out_.shape);
    // 32-bit index math where every index fits, with room for the grid stride.
    k_.wide_indices = k_.elements >= (size_t(1) << 31);
    index_type_ = k_.wide_indices ? "unsigned long long" : "unsigned";
  }

  GeneratedKernel write() {
    classify_externals();
    std::string body = body_function();
    k_.vectorized = can_vectorize();
    k_.work_items = k_.vectorized ? k_.elements / 4 : k_.elements;
    std::string kernel = k_.vectorized ? vector_kernel() : scalar_kernel();
    k_.helpers = helpers_;
    k_.definitions = header() + arrays_ + sizes_struct() + body + kernel;
    k_.source = cuda_helper_source(helpers_) + k_.definitions;
    return std::move(k_);
  }

 private:
  // A size, stride or divisor constant of the kernel's shape, as a reference to its sizes
  // argument: the source then depends on the shape's structure (which dimensions broadcast,
  // vectorized or not, 32- or 64-bit indices), not on its values.
  std::string size_arg(uint64_t v) {
    k_.size_args.push_back(v);
    return "sz.v[" + std::to_string(k_.size_args.size() - 1) + "]";
  }

  std::string sizes_struct() const {
    return "struct " + k_.name + "_sizes { " + index_type_ + " v[" +
           std::to_string(k_.size_args.size()) + "]; };\n";
  }

  void classify_externals() {
    std::vector<Dims> broadcast_shapes;
    for (OperandId id : group_.externals) {
      const OperandInfo& info = g_.operands[size_t(id)];
      External e{id, info.desc.data_type, element_count(info.desc.shape), Source::pointer, "", -1};
      if (is_inlined(g_, id)) {
        k_.inlined_constants.push_back(id);
        e.source = e.count == 1 ? Source::literal : Source::array;
      }
      if (e.source == Source::literal) {
        e.name = cuda_tensor_literal(*info.data, 0);
      } else if (e.source == Source::array) {
        e.name = k_.name + indexed("_k", externals_.size());
        // float32 elements are written as their bits, the only exact spelling of NaN.
        const char* element = e.type == DataType::float32 ? "unsigned" : cuda_storage_type(e.type);
        arrays_ += "__constant__ " + std::string(element) + " " + e.name + "[" +
                   std::to_string(e.count) + "] = {";
        for (size_t i = 0; i < e.count; ++i)
          arrays_ += (i ? ", " : "") + cuda_storage_literal(*info.data, i);
        arrays_ += "};\n";
      } else {
        e.name = indexed("in", k_.inputs.size());
        k_.inputs.push_back(id);
      }
      if (e.source != Source::literal && e.count != 1 && e.count != k_.elements) {
        e.broadcast = int(broadcast_shapes.size());
        broadcast_shapes.push_back(info.desc.shape);
      }
      externals_.push_back(std::move(e));
    }
    walk_ = make_walk(broadcast_shapes, out_.shape);
  }

  // The op expressions as one function of the externals' values, shared by the scalar and
  // the vector loop. Returns the value of the group's output, compute type.
  std::string body_function() {
    std::string params, body;
    std::map<OperandId, std::string> values;
    for (size_t j = 0; j < externals_.size(); ++j) {
      const External& e = externals_[j];
      if (e.source == Source::literal) {
        values[e.id] = e.name;
        continue;
      }
      std::string x = indexed("x", j);
      params += (params.empty() ? "" : ", ") + std::string(cuda_compute_type(e.type)) + " " + x;
      values[e.id] = x;
    }
    for (size_t k = 0; k < group_.nodes.size(); ++k) {
      const Node& node = g_.nodes[group_.nodes[k]];
      std::vector<DataType> types;
      std::vector<std::string> args;
      for (OperandId in : node.inputs) {
        types.push_back(g_.desc(in).data_type);
        args.push_back(values.at(in));
      }
      DataType out_type = g_.desc(node.outputs[0]).data_type;
      bool last = k + 1 == group_.nodes.size();  // stored right away, rounded by the store
      std::string v = indexed("v", k);
      body += "  const " + std::string(cuda_compute_type(out_type)) + " " + v + " = " +
              cuda_op_expression(node, types, out_type, args, helpers_, !last) + ";\n";
      values[node.outputs[0]] = v;
    }
    return "__device__ __forceinline__ " + std::string(cuda_compute_type(out_.data_type)) + " " +
           k_.name + "_body(" + params + ") {\n" + body + "  return " + values.at(group_.output) +
           ";\n}\n";
  }

  bool can_vectorize() const {
    if (k_.elements % 4 != 0 || k_.elements == 0) return false;
    if (element_size(out_.data_type) > 4) return false;
    for (const External& e : externals_) {
      if (e.source == Source::literal || (e.source == Source::pointer && e.count == 1)) continue;
      if (e.source == Source::array || e.count != k_.elements || element_size(e.type) > 4)
        return false;
    }
    return true;
  }

  std::string signature() const {
    std::string s = "extern \"C\" __global__ void __launch_bounds__(" +
                    std::to_string(kCudaBlockSize) + ") " + k_.name + "(";
    for (const External& e : externals_)
      if (e.source == Source::pointer)
        s += "const " + std::string(cuda_storage_type(e.type)) + "* __restrict__ " + e.name + ", ";
    return s + cuda_storage_type(out_.data_type) + "* __restrict__ out, const " + k_.name +
           "_sizes sz) {\n";
  }

  // Loads of inputs that are one element, once per thread rather than per element.
  std::string scalar_loads() {
    std::string s;
    for (size_t j = 0; j < externals_.size(); ++j) {
      const External& e = externals_[j];
      if (e.source != Source::pointer || e.count != 1) continue;
      s += "  const " + std::string(cuda_compute_type(e.type)) + " s" + std::to_string(j) + " = " +
           cuda_load(e.type, e.name + "[0]", helpers_) + ";\n";
    }
    return s;
  }

  std::string loop_head(size_t iterations) {
    const std::string& t = index_type_;
    std::string n = size_arg(iterations);
    return "  const " + t + " stride = " + t + "(blockDim.x) * " + t + "(gridDim.x);\n" +
           "  const " + t + " n = " + n + ";\n" + "  for (" + t + " i = " + t +
           "(blockIdx.x) * " + t + "(blockDim.x) + " + t +
           "(threadIdx.x); i < n; i += stride) {\n";
  }

  // Coordinates of element i along the walk's dimensions and each broadcast input's offset.
  std::string offsets() {
    if (walk_.strides.empty()) return "";
    size_t dims = walk_.sizes.size();
    auto needed = [&](size_t d) {
      for (const auto& s : walk_.strides)
        if (s[d] != 0) return true;
      return false;
    };
    size_t last = 0;
    for (size_t d = 0; d < dims; ++d)
      if (needed(d)) last = d;
    const std::string& t = index_type_;
    bool narrow = t == "unsigned";
    std::string s = "    " + t + " r = i;\n";
    for (size_t d = 0; d <= last; ++d) {
      std::string c = indexed("c", d);
      if (d + 1 == dims) {
        s += "    const " + t + " " + c + " = r;\n";
        break;
      }
      // Walk sizes are at least 2 (size-1 dimensions are left out). 32-bit indices divide
      // by multiplying (cuda_fast_divisor); 64-bit ones, for outputs past 2^31 elements,
      // divide.
      // (One size_arg per statement: the order of the arguments is the order of the calls.)
      std::string size = size_arg(walk_.sizes[d]);
      std::string q = indexed("q", d);
      if (narrow) {
        CudaFastDivisor f = cuda_fast_divisor(walk_.sizes[d]);
        std::string multiplier = size_arg(f.multiplier);
        std::string shift = size_arg(f.shift);
        s += "    const unsigned " + q + " = __umulhi(r, " + multiplier + ") >> " + shift + ";\n";
      } else {
        s += "    const " + t + " " + q + " = r / " + size + ";\n";
      }
      if (needed(d)) s += "    const " + t + " " + c + " = r - " + q + " * " + size + ";\n";
      if (d < last) s += "    r = " + q + ";\n";
    }
    for (size_t k = 0; k < walk_.strides.size(); ++k) {
      std::string sum;
      for (size_t d = 0; d < dims; ++d) {
        size_t st = walk_.strides[k][d];
        if (st == 0) continue;
        sum += (sum.empty() ? "" : " + ") + (indexed("c", d)) +
               (st == 1 ? "" : " * " + size_arg(st));
      }
      s += "    const " + t + " o" + std::to_string(k) + " = " + (sum.empty() ? "0" : sum) + ";\n";
    }
    return s;
  }

  std::string element_value(size_t j, const std::string& index) {
    const External& e = externals_[j];
    if (e.source == Source::pointer && e.count == 1) return indexed("s", j);
    std::string at = e.broadcast >= 0 ? indexed("o", size_t(e.broadcast)) : index;
    std::string raw = e.name + "[" + at + "]";
    if (e.source == Source::array && e.type == DataType::float32)
      return "__uint_as_float(" + raw + ")";
    return cuda_load(e.type, raw, helpers_);
  }

  std::string body_call(const std::vector<std::string>& args) const {
    std::string s = k_.name + "_body(";
    for (size_t i = 0; i < args.size(); ++i) s += (i ? ", " : "") + args[i];
    return s + ")";
  }

  std::string scalar_kernel() {
    std::string s = signature() + scalar_loads() + loop_head(k_.elements);
    s += offsets();
    std::vector<std::string> args;
    for (size_t j = 0; j < externals_.size(); ++j)
      if (externals_[j].source != Source::literal) args.push_back(element_value(j, "i"));
    s += "    out[i] = " + cuda_store(out_.data_type, body_call(args), helpers_) + ";\n";
    return s + "  }\n}\n";
  }

  // Four consecutive elements per iteration: one 4-element load per input, one store.
  std::string vector_kernel() {
    helpers_ |= kCudaHelperVec4;
    std::string s = signature() + scalar_loads() + loop_head(k_.elements / 4);
    std::vector<std::string> args;
    for (size_t j = 0; j < externals_.size(); ++j) {
      const External& e = externals_[j];
      if (e.source == Source::literal) continue;
      if (e.count == 1) {
        args.push_back(indexed("s", j));
        continue;
      }
      std::string vec = "cg_vec4<" + std::string(cuda_storage_type(e.type)) + ">";
      std::string a = indexed("a", j);
      s += "    const " + vec + " " + a + " = reinterpret_cast<const " + vec + "*>(" + e.name +
           ")[i];\n";
      args.push_back(cuda_load(e.type, a + ".v[l]", helpers_));
    }
    std::string vec = "cg_vec4<" + std::string(cuda_storage_type(out_.data_type)) + ">";
    s += "    " + vec + " r;\n#pragma unroll\n    for (int l = 0; l < 4; ++l) r.v[l] = " +
         cuda_store(out_.data_type, body_call(args), helpers_) + ";\n";
    s += "    reinterpret_cast<" + vec + "*>(out)[i] = r;\n";
    return s + "  }\n}\n";
  }

  std::string header() const {
    std::string s = "// Generated by cppnn: element-wise kernel " + k_.name + ".\n// Nodes:";
    for (size_t n : group_.nodes)
      s += " " + std::to_string(n) + " " + op_name(g_.nodes[n].op) + ";";
    s += "\n// Output: operand " + std::to_string(k_.output) + ", " + shape_text(out_) + ".\n";
    for (const External& e : externals_) {
      s += "// Reads operand " + std::to_string(e.id) + ", " + shape_text(g_.desc(e.id));
      s += e.source == Source::pointer ? " as " + e.name : " inlined";
      s += ".\n";
    }
    return s;
  }

  const GraphIR& g_;
  const ElementwiseGroup& group_;
  const OperandDescriptor& out_;
  GeneratedKernel k_;
  std::vector<External> externals_;
  BroadcastWalk walk_;
  std::string arrays_;
  std::string index_type_;
  unsigned helpers_ = 0;
};

}  // namespace

// The element-wise kinds of ops.def (unary, binary, comparison, logical, activation, select,
// cast): every one of them has an expression in cuda_codegen_ops.cpp.
bool is_cuda_elementwise_op(OpId op) { return is_elementwise(op); }

std::vector<ElementwiseGroup> group_elementwise_nodes(const GraphIR& g) {
  std::vector<std::vector<size_t>> consumers(g.operands.size());
  for (size_t n = 0; n < g.nodes.size(); ++n) {
    if (g.nodes[n].op == OpId::none) continue;
    for (OperandId in : g.nodes[n].inputs)
      if (in != kNoOperand && (consumers[size_t(in)].empty() || consumers[size_t(in)].back() != n))
        consumers[size_t(in)].push_back(n);
  }
  std::vector<bool> graph_output(g.operands.size(), false);
  for (const auto& [_, id] : g.outputs) graph_output[size_t(id)] = true;

  // Consumers come later in topological order, so walking backwards places every node's
  // consumers before the node itself.
  std::vector<int> group_of(g.nodes.size(), -1);
  std::vector<ElementwiseGroup> groups;
  for (size_t n = g.nodes.size(); n-- > 0;) {
    const Node& node = g.nodes[n];
    if (!live_elementwise(node)) continue;
    OperandId out = node.outputs[0];
    const std::vector<size_t>& users = consumers[size_t(out)];
    int join = -1;
    if (!graph_output[size_t(out)] && !users.empty()) {
      join = group_of[users[0]];
      for (size_t u : users)
        if (group_of[u] != join) join = -1;
      if (join >= 0 && g.desc(out).shape != g.desc(groups[size_t(join)].output).shape) join = -1;
    }
    if (join < 0) {
      join = int(groups.size());
      groups.push_back(ElementwiseGroup{{}, out, {}});
    }
    group_of[n] = join;
    groups[size_t(join)].nodes.push_back(n);
  }
  std::reverse(groups.begin(), groups.end());
  for (ElementwiseGroup& group : groups) {
    std::reverse(group.nodes.begin(), group.nodes.end());
    std::set<OperandId> inside, seen;
    for (size_t n : group.nodes) inside.insert(g.nodes[n].outputs[0]);
    for (size_t n : group.nodes)
      for (OperandId in : g.nodes[n].inputs)
        if (in != kNoOperand && !inside.count(in) && seen.insert(in).second)
          group.externals.push_back(in);
  }
  return groups;
}

std::vector<GeneratedKernel> generate_cuda_kernels(const GraphIR& graph) {
  std::vector<GeneratedKernel> kernels;
  std::vector<ElementwiseGroup> groups = group_elementwise_nodes(graph);
  for (size_t i = 0; i < groups.size(); ++i)
    kernels.push_back(KernelWriter(graph, groups[i], i).write());
  return kernels;
}

std::string cuda_module_source(const std::vector<GeneratedKernel>& kernels) {
  unsigned helpers = 0;
  std::set<std::string> names;
  for (const GeneratedKernel& k : kernels) {
    helpers |= k.helpers;
    if (!names.insert(k.name).second)
      fail(ErrorKind::OperationError, "two kernels named '" + k.name +
                                          "' in one CUDA module: they come from different graphs");
  }
  std::string source = "// Generated by cppnn: " + std::to_string(kernels.size()) + " kernels.\n";
  source += cuda_helper_source(helpers);
  for (const GeneratedKernel& k : kernels) source += k.definitions;
  return source;
}

std::string cuda_kernel_code(const GeneratedKernel& kernel) {
  const std::string& text = kernel.definitions;
  std::string code;
  for (size_t line = 0; line < text.size();) {
    size_t end = text.find('\n', line);
    end = end == std::string::npos ? text.size() : end + 1;
    if (text.compare(line, 2, "//") != 0) code.append(text, line, end - line);
    line = end;
  }
  return code;
}

std::vector<unsigned char> cuda_size_argument(const GeneratedKernel& kernel) {
  std::vector<unsigned char> bytes;
  for (uint64_t v : kernel.size_args) {
    if (kernel.wide_indices) {
      unsigned char b[8];
      std::memcpy(b, &v, 8);
      bytes.insert(bytes.end(), b, b + 8);
    } else {
      uint32_t n = uint32_t(v);
      unsigned char b[4];
      std::memcpy(b, &n, 4);
      bytes.insert(bytes.end(), b, b + 4);
    }
  }
  return bytes;
}

CudaFastDivisor cuda_fast_divisor(uint64_t divisor) {
  if (divisor < 2 || divisor > (uint64_t(1) << 31))
    fail(ErrorKind::OperationError, "cuda codegen: no fast divisor for " + std::to_string(divisor));
  uint32_t log = 0;  // ceil(log2 divisor)
  while ((uint64_t(1) << log) < divisor) ++log;
  CudaFastDivisor f;
  f.shift = log - 1;
  // ceil(2^(32 + shift) / d) < 2^32: 2^(32 + shift) / d <= 2^(31 + log) / (2^(log - 1) + 1).
  unsigned __int128 numerator = (unsigned __int128)1 << (32 + f.shift);
  f.multiplier = uint32_t((numerator + divisor - 1) / divisor);
  return f;
}

unsigned cuda_grid_size(const GeneratedKernel& kernel, unsigned multiprocessors) {
  // A few resident blocks per multiprocessor hide memory latency; more only add launch
  // overhead, the grid-stride loop covering the rest.
  constexpr size_t kBlocksPerMultiprocessor = 8;
  size_t blocks = (kernel.work_items + kCudaBlockSize - 1) / kCudaBlockSize;
  size_t cap = size_t(std::max(1u, multiprocessors)) * kBlocksPerMultiprocessor;
  return unsigned(std::max<size_t>(1, std::min(blocks, cap)));
}

}  // namespace cppnn::detail
