// CPU kernels of matmul and gemm on oneDNN's matmul primitive, created once per node; a
// constant right-hand side is packed once into the layout the primitive prefers.
#include <algorithm>
#include <numeric>

#include "backends/cpu/isa_target.h"
#include "backends/cpu/onednn.h"

namespace cppnn::detail {
CPPNN_ISA_BEGIN

namespace {

using dnnl::memory;
using dt = memory::data_type;
using onednn::Staged;

memory::dims row_major_strides(const memory::dims& dims) {
  memory::dims s(dims.size(), 1);
  for (size_t i = dims.size(); i-- > 1;) s[i - 1] = s[i] * dims[i];
  return s;
}

memory::desc plain(const memory::dims& dims) {
  return memory::desc(dims, dt::f32, row_major_strides(dims));
}

// A matrix stored transposed: logical [rows, cols], stored [cols, rows].
memory::desc transposed(int64_t rows, int64_t cols) {
  return memory::desc({rows, cols}, dt::f32, memory::dims{1, rows});
}

// The CPU plan's fold_transposes_into_matmul attributes: "aPermutation" / "bPermutation"
// (the input is the transpose's source; the matmul reads view[i] = source[perm[i]]) and
// "outPermutation" (the node's output is the transpose's; the product Y is written where
// output[j] = Y[perm[j]]). Each view is a memory descriptor with the source's strides.
memory::dims source_strides(const Dims& shape) {
  return row_major_strides(memory::dims(shape.begin(), shape.end()));
}

memory::desc input_view(const Dims& source, const std::vector<int64_t>& perm) {
  memory::dims strides = source_strides(source), d(perm.size()), st(perm.size());
  for (size_t i = 0; i < perm.size(); ++i) {
    d[i] = source[size_t(perm[i])];
    st[i] = strides[size_t(perm[i])];
  }
  return memory::desc(d, dt::f32, st);
}

memory::desc output_view(const Dims& out, const std::vector<int64_t>& perm) {
  memory::dims strides = source_strides(out), d(perm.size()), st(perm.size());
  for (size_t j = 0; j < perm.size(); ++j) {
    d[size_t(perm[j])] = out[j];
    st[size_t(perm[j])] = strides[j];
  }
  return memory::desc(d, dt::f32, st);
}

Dims view_shape(const memory::desc& d) {
  memory::dims dims = d.dims();
  return Dims(dims.begin(), dims.end());
}

int64_t product(const Dims& d, size_t begin, size_t end) {
  return std::accumulate(d.begin() + long(begin), d.begin() + long(end), int64_t(1),
                         std::multiplies<>());
}

// Spec ranks are unbounded; oneDNN takes at most DNNL_MAX_NDIMS.
void check_supported_rank(size_t rank) {
  if (rank > DNNL_MAX_NDIMS)
    fail(ErrorKind::NotSupportedError, "matmul of rank " + std::to_string(rank) +
                                           " exceeds the CPU backend's limit of " +
                                           std::to_string(DNNL_MAX_NDIMS));
}

class MatmulKernel final : public CpuKernel {
 public:
  MatmulKernel(const KernelContext& cx, bool gemm)
      : stream_(onednn::engine()), op_(op_name(cx.node.op).c_str()) {
    const Attrs& attrs = cx.node.attrs;
    half_ = cx.inputs[0]->data_type == DataType::float16;
    const Dims& out = cx.outputs[0]->shape;
    memory::desc a_user, b_user, dst_user;
    dnnl::primitive_attr attr;
    memory::desc bias_user;
    const Tensor* bias_data = nullptr;
    std::vector<float> folded_c;  // gemm's beta * c as a bias row, when that is exact
    bool permuted = false;  // a matmul reading or writing through a folded transpose

    if (gemm) {
      int64_t m = out[0], n = out[1];
      int64_t k = attrs.b("aTranspose") ? cx.inputs[0]->shape[0] : cx.inputs[0]->shape[1];
      a_user = attrs.b("aTranspose") ? transposed(m, k) : plain({m, k});
      b_user = attrs.b("bTranspose") ? transposed(k, n) : plain({k, n});
      dst_user = plain({m, n});
      float alpha = float(attrs.f("alpha")), beta = float(attrs.f("beta"));
      const OperandDescriptor* c = cx.inputs.size() > 2 ? cx.inputs[2] : nullptr;
      const Tensor* c_const = cx.inputs.size() > 2 ? cx.constants[2] : nullptr;
      if (c && beta != 0.f) {
        c_rows_ = c->shape.size() == 2 ? c->shape[0] : 1;
        c_cols_ = c->shape.empty() ? 1 : c->shape.back();
        // A constant row (or scalar) with alpha 1 rides on the bias, which needs no copy.
        if (c_const && c_rows_ == 1 && alpha == 1.f) {
          std::vector<double> v = c_const->to_doubles();
          folded_c.resize(size_t(n));
          for (int64_t j = 0; j < n; ++j) folded_c[size_t(j)] = float(beta * v[c_cols_ == 1 ? 0 : size_t(j)]);
          bias_user = memory::desc({1, n}, dt::f32, memory::dims{n, 1});
        } else {
          c_sum_ = true;
          m_ = m, n_ = n;
        }
      }
      dnnl::post_ops ops;
      if (c_sum_) ops.append_sum(beta);
      onednn::append_activation(ops, attrs);
      attr.set_post_ops(ops);
      if (alpha != 1.f) attr.set_output_scales(0, {alpha});
    } else {
      const bool a_perm = attrs.has("aPermutation"), b_perm = attrs.has("bPermutation");
      permuted = a_perm || b_perm || attrs.has("outPermutation");
      memory::desc a_view, b_view, out_view;
      if (a_perm) a_view = input_view(cx.inputs[0]->shape, attrs.ints("aPermutation"));
      if (b_perm) b_view = input_view(cx.inputs[1]->shape, attrs.ints("bPermutation"));
      if (attrs.has("outPermutation")) out_view = output_view(out, attrs.ints("outPermutation"));
      const Dims a = a_perm ? view_shape(a_view) : cx.inputs[0]->shape;
      const Dims b = b_perm ? view_shape(b_view) : cx.inputs[1]->shape;
      const Dims y = out_view.is_zero() ? out : view_shape(out_view);
      size_t rank = y.size();
      int64_t k = a.back(), n = y.back();
      bool b_unbatched = product(b, 0, b.size() - 2) == 1;
      if (b_unbatched && !permuted) {
        // Every row of every batch of `a` meets the same matrix: one large 2-D product.
        int64_t rows = product(a, 0, a.size() - 1);
        a_user = plain({rows, k});
        b_user = plain({k, n});
        dst_user = plain({rows, n});
      } else {
        check_supported_rank(rank);
        auto padded = [rank](const Dims& d) {
          memory::dims p(rank - d.size(), 1);
          p.insert(p.end(), d.begin(), d.end());
          return p;
        };
        a_user = a_perm ? a_view : plain(padded(a));
        b_user = b_perm ? b_view : plain(padded(b));
        dst_user = out_view.is_zero() ? plain(memory::dims(y.begin(), y.end())) : out_view;
      }
      if (cx.inputs.size() > 2 && cx.inputs[2]) {
        memory::dims bd(size_t(dst_user.data.ndims), 1);
        bd.back() = n;
        bias_user = plain(bd);
        bias_data = cx.constants[2];
      }
      attr = onednn::make_attr(attrs, false);
    }

    has_bias_ = !bias_user.is_zero();
    memory::desc b_want = cx.constants[1]
                              ? memory::desc(b_user.dims(), dt::f32, memory::format_tag::any)
                              : b_user;
    auto primitive_desc = [&](const memory::desc& a, const memory::desc& b, const memory::desc& dst) {
      dnnl::matmul::desc d = has_bias_ ? dnnl::matmul::desc(a, b, bias_user, dst)
                                       : dnnl::matmul::desc(a, b, dst);
      return dnnl::matmul::primitive_desc(d, attr, onednn::engine());
    };
    dnnl::matmul::primitive_desc pd = primitive_desc(a_user, b_want, dst_user);
    if (permuted && std::string(pd.impl_info_str()).find("ref") != std::string::npos) {
      // oneDNN has only its reference kernel for these strides: multiply dense copies
      // (the Staged loads reorder the views, as the transposes did) on its fast one.
      auto dense = [](const memory::desc& v) { return plain(v.dims()); };
      pd = primitive_desc(dense(a_user), cx.constants[1] ? b_want : dense(b_user), dense(dst_user));
    }
    prim_ = dnnl::matmul(pd);

    a_ = Staged(a_user, pd.src_desc(), half_, Staged::Direction::in);
    dst_ = Staged(dst_user, pd.dst_desc(), half_, Staged::Direction::out);
    b_ = onednn::Weights(b_user, pd.weights_desc(), half_, cx.constants[1]);
    if (!folded_c.empty()) {
      bias_ = onednn::Weights();
      bias_.packed = memory(bias_user, onednn::engine());
      std::memcpy(bias_.packed.get_data_handle(), folded_c.data(), folded_c.size() * sizeof(float));
      bias_.constant = true;
    } else if (has_bias_) {
      bias_ = onednn::Weights(bias_user, pd.bias_desc(), half_, bias_data);
    }
  }

  void run(const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out) override {
    onednn::guarded(op_, [&] {
      std::unordered_map<int, memory> args;
      args[DNNL_ARG_SRC] = a_.load(in[0]->data(), stream_);
      args[DNNL_ARG_WEIGHTS] = b_.get(in[1], stream_);
      if (has_bias_) args[DNNL_ARG_BIAS] = bias_.get(in.size() > 2 ? in[2] : nullptr, stream_);
      const memory& dst = dst_.target(out[0]->data());
      args[DNNL_ARG_DST] = dst;
      if (c_sum_) broadcast_c(*in[2], static_cast<float*>(dst.get_data_handle()));
      prim_.execute(stream_, args);
      dst_.store(out[0]->data(), stream_);
      stream_.wait();
    }, ErrorKind::OperationError);
  }

 private:
  // Writes c, broadcast to [m, n], where the sum post-op will find it.
  void broadcast_c(const Tensor& c, float* target) {
    int64_t n = n_, rows = c_rows_, cols = c_cols_;
    auto row_of = [&](int64_t i, float* dst) {
      int64_t base = (rows == 1 ? 0 : i) * cols;
      if (half_) {
        const half* p = c.data_as<half>() + base;
        for (int64_t j = 0; j < n; ++j) dst[j] = float(p[cols == 1 ? 0 : j]);
      } else {
        const float* p = c.data_as<float>() + base;
        if (cols == 1) std::fill(dst, dst + n, p[0]);
        else std::memcpy(dst, p, size_t(n) * sizeof(float));
      }
    };
    parallel_for(size_t(m_), std::max<size_t>(1, 16384 / size_t(n)), [&](size_t begin, size_t end) {
      for (size_t i = begin; i < end; ++i) row_of(int64_t(i), target + i * size_t(n));
    });
  }

  dnnl::stream stream_;
  const char* op_;  // op_name's storage lives as long as the program
  dnnl::primitive prim_;
  Staged a_, dst_;
  onednn::Weights b_, bias_;
  bool half_ = false, has_bias_ = false, c_sum_ = false;
  int64_t m_ = 0, n_ = 0, c_rows_ = 1, c_cols_ = 1;
};

KernelFactory matmul_factory(bool gemm) {
  return [gemm](const KernelContext& cx) -> std::unique_ptr<CpuKernel> {
    return onednn::guarded(op_name(cx.node.op).c_str(),
                           [&] { return std::make_unique<MatmulKernel>(cx, gemm); });
  };
}

}  // namespace

// The fused attention node (matmul_attention.cpp): two products and a softmax in one kernel.
KernelFactory attention_kernel_factory();

void register_matmul_kernels(CpuKernelRegistry& r) {
  r.add(OpId::matmul, matmul_factory(false));
  r.add(OpId::gemm, matmul_factory(true));
  r.add(OpId::attention, attention_kernel_factory());
}

CPPNN_ISA_END
}  // namespace cppnn::detail
