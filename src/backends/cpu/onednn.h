#pragma once
// What the oneDNN-backed kernels (conv2d, convTranspose2d, matmul, gemm) share: the engine,
// the fused-activation post-ops, float16 staging, and the move of an operand between the
// layout the graph gives it and the layout the primitive wants.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <memory>
#include <optional>
#include <string>

#include <oneapi/dnnl/dnnl.hpp>

#include "backends/cpu/isa_target.h"
#include "backends/cpu/kernel.h"
#include "backends/cpu/packed_constants.h"

namespace cppnn::detail {
CPPNN_ISA_BEGIN

namespace onednn {

inline const dnnl::engine& engine() {
  static const dnnl::engine e(dnnl::engine::kind::cpu, 0);
  return e;
}

// oneDNN reports failures as dnnl::error; the plan expects cppnn::Error: NotSupportedError
// while preparing a node (oneDNN cannot do it), OperationError while running it.
template <typename F>
decltype(auto) guarded(const char* what, F&& f, ErrorKind kind = ErrorKind::NotSupportedError) {
  try {
    return f();
  } catch (const dnnl::error& e) {
    fail(kind, std::string(what) + ": oneDNN: " + e.what());
  }
}

// Appends the activation that a fusion pass put into attr "activation" (validated by the op's
// infer function, so an unknown name cannot reach here).
inline void append_activation(dnnl::post_ops& ops, const Attrs& attrs) {
  using dnnl::algorithm;
  std::string act = attrs.s_or("activation", "");
  if (act.empty()) return;
  if (act == "swish") {  // the CPU plan's own (fuse_swish): x * sigmoid(x)
    ops.append_eltwise(1.f, algorithm::eltwise_swish, 1.f, 0.f);
    return;
  }
  std::optional<OpId> op = find_op(act);
  if (!op) fail(ErrorKind::OperationError, "internal: unknown fused activation '" + act + "'");
  float alpha = float(attrs.f_or("activationAlpha", *op == OpId::leakyRelu ? 0.01 : 1.0));
  switch (*op) {
    case OpId::relu: ops.append_eltwise(1.f, algorithm::eltwise_relu, 0.f, 0.f); break;
    case OpId::leakyRelu: ops.append_eltwise(1.f, algorithm::eltwise_relu, alpha, 0.f); break;
    case OpId::elu: ops.append_eltwise(1.f, algorithm::eltwise_elu, alpha, 0.f); break;
    case OpId::sigmoid: ops.append_eltwise(1.f, algorithm::eltwise_logistic, 0.f, 0.f); break;
    case OpId::tanh: ops.append_eltwise(1.f, algorithm::eltwise_tanh, 0.f, 0.f); break;
    case OpId::hardSwish: ops.append_eltwise(1.f, algorithm::eltwise_hardswish, 0.f, 0.f); break;
    case OpId::gelu: ops.append_eltwise(1.f, algorithm::eltwise_gelu_erf, 0.f, 0.f); break;
    case OpId::clamp:
      ops.append_eltwise(1.f, algorithm::eltwise_clip_v2,
                         float(attrs.f_or("activationMin", -INFINITY)),
                         float(attrs.f_or("activationMax", INFINITY)));
      break;
    default: fail(ErrorKind::OperationError, "internal: unknown fused activation '" + act + "'");
  }
}

// Post-ops: an optional sum (the output's prior content, scaled) then the activation, so that
// out = act(op + sum_scale * prior).
inline dnnl::primitive_attr make_attr(const Attrs& attrs, bool sum, float sum_scale = 1.f) {
  dnnl::post_ops ops;
  if (sum) ops.append_sum(sum_scale);
  append_activation(ops, attrs);
  dnnl::primitive_attr attr;
  attr.set_post_ops(ops);
  return attr;
}

inline void half_to_float(const void* src, float* dst, size_t n) {
  const uint16_t* s = static_cast<const uint16_t*>(src);
  parallel_for((n + 7) / 8, 4096, [&](size_t begin, size_t end) {
    for (size_t b = begin; b < end; ++b) {
      size_t i = b * 8;
#if CPPNN_ISA_AVX2
      if (i + 8 <= n) {
        __m128i h = _mm_loadu_si128(reinterpret_cast<const __m128i*>(s + i));
        _mm256_storeu_ps(dst + i, _mm256_cvtph_ps(h));
        continue;
      }
#endif
      for (size_t e = std::min(n, i + 8); i < e; ++i) dst[i] = cppnn::half_to_float(s[i]);
    }
  });
}

inline void float_to_half(const float* src, void* dst, size_t n) {
  uint16_t* d = static_cast<uint16_t*>(dst);
  parallel_for((n + 7) / 8, 4096, [&](size_t begin, size_t end) {
    for (size_t b = begin; b < end; ++b) {
      size_t i = b * 8;
#if CPPNN_ISA_AVX2
      if (i + 8 <= n) {
        __m128i h = _mm256_cvtps_ph(_mm256_loadu_ps(src + i), _MM_FROUND_TO_NEAREST_INT);
        _mm_storeu_si128(reinterpret_cast<__m128i*>(d + i), h);
        continue;
      }
#endif
      for (size_t e = std::min(n, i + 8); i < e; ++i) d[i] = cppnn::float_to_half(src[i]);
    }
  });
}

inline void parallel_copy(const void* src, void* dst, size_t bytes) {
  const char* s = static_cast<const char*>(src);
  char* d = static_cast<char*>(dst);
  parallel_for(bytes, size_t(1) << 18,
               [&](size_t begin, size_t end) { std::memcpy(d + begin, s + begin, end - begin); });
}

// 8x8 block of a row-major matrix transposed: dst[j][i] = src[i][j].
inline void transpose8x8(const float* src, size_t ss, float* dst, size_t ds) {
#if !CPPNN_ISA_AVX2
  for (size_t i = 0; i < 8; ++i)
    for (size_t j = 0; j < 8; ++j) dst[j * ds + i] = src[i * ss + j];
#else
  __m256 r0 = _mm256_loadu_ps(src), r1 = _mm256_loadu_ps(src + ss);
  __m256 r2 = _mm256_loadu_ps(src + 2 * ss), r3 = _mm256_loadu_ps(src + 3 * ss);
  __m256 r4 = _mm256_loadu_ps(src + 4 * ss), r5 = _mm256_loadu_ps(src + 5 * ss);
  __m256 r6 = _mm256_loadu_ps(src + 6 * ss), r7 = _mm256_loadu_ps(src + 7 * ss);
  __m256 t0 = _mm256_unpacklo_ps(r0, r1), t1 = _mm256_unpackhi_ps(r0, r1);
  __m256 t2 = _mm256_unpacklo_ps(r2, r3), t3 = _mm256_unpackhi_ps(r2, r3);
  __m256 t4 = _mm256_unpacklo_ps(r4, r5), t5 = _mm256_unpackhi_ps(r4, r5);
  __m256 t6 = _mm256_unpacklo_ps(r6, r7), t7 = _mm256_unpackhi_ps(r6, r7);
  __m256 u0 = _mm256_shuffle_ps(t0, t2, 0x44), u1 = _mm256_shuffle_ps(t0, t2, 0xEE);
  __m256 u2 = _mm256_shuffle_ps(t1, t3, 0x44), u3 = _mm256_shuffle_ps(t1, t3, 0xEE);
  __m256 u4 = _mm256_shuffle_ps(t4, t6, 0x44), u5 = _mm256_shuffle_ps(t4, t6, 0xEE);
  __m256 u6 = _mm256_shuffle_ps(t5, t7, 0x44), u7 = _mm256_shuffle_ps(t5, t7, 0xEE);
  _mm256_storeu_ps(dst, _mm256_permute2f128_ps(u0, u4, 0x20));
  _mm256_storeu_ps(dst + ds, _mm256_permute2f128_ps(u1, u5, 0x20));
  _mm256_storeu_ps(dst + 2 * ds, _mm256_permute2f128_ps(u2, u6, 0x20));
  _mm256_storeu_ps(dst + 3 * ds, _mm256_permute2f128_ps(u3, u7, 0x20));
  _mm256_storeu_ps(dst + 4 * ds, _mm256_permute2f128_ps(u0, u4, 0x31));
  _mm256_storeu_ps(dst + 5 * ds, _mm256_permute2f128_ps(u1, u5, 0x31));
  _mm256_storeu_ps(dst + 6 * ds, _mm256_permute2f128_ps(u2, u6, 0x31));
  _mm256_storeu_ps(dst + 7 * ds, _mm256_permute2f128_ps(u3, u7, 0x31));
#endif
}

// `count` row-major [rows, cols] matrices transposed to [cols, rows]: nchw <-> nhwc. oneDNN
// 2.6's reorder does this at a fraction of memory bandwidth; 64x64 tiles of 8x8 blocks keep
// both sides in cache and run near it.
inline void transpose_matrices(const float* src, float* dst, size_t count, size_t rows, size_t cols) {
  constexpr size_t T = 64;
  size_t tr = (rows + T - 1) / T, tc = (cols + T - 1) / T;
  parallel_for(count * tr * tc, 4, [&](size_t begin, size_t end) {
    for (size_t t = begin; t < end; ++t) {
      size_t m = t / (tr * tc), r0 = (t / tc) % tr * T, c0 = t % tc * T;
      size_t r1 = std::min(rows, r0 + T), c1 = std::min(cols, c0 + T);
      const float* s = src + m * rows * cols;
      float* d = dst + m * rows * cols;
      size_t r = r0;
      for (; r + 8 <= r1; r += 8) {
        size_t c = c0;
        for (; c + 8 <= c1; c += 8) transpose8x8(s + r * cols + c, cols, d + c * rows + r, rows);
        for (; c < c1; ++c)
          for (size_t k = r; k < r + 8; ++k) d[c * rows + k] = s[k * cols + c];
      }
      for (; r < r1; ++r)
        for (size_t c = c0; c < c1; ++c) d[c * rows + r] = s[r * cols + c];
    }
  });
}

// One operand of a primitive: the tensor's buffer (float32 or float16, in the graph's layout,
// described as float32 by `user`) and the memory the primitive reads or writes (`prim`).
// Converts float16 and moves data only where they differ, so plain float32 operands in the
// primitive's own layout are zero-copy: the primitive works on the tensor's buffer.
class Staged {
 public:
  enum class Direction { in, out };
  Staged() = default;
  // `external`: a memory of `prim`'s layout owned by another Staged that this one loads into
  // (a residual loaded into the output before a sum post-op).
  Staged(const dnnl::memory::desc& user, const dnnl::memory::desc& prim, bool half,
         Direction dir, const dnnl::memory* external = nullptr)
      : half_(half), external_(external != nullptr) {
    using tag = dnnl::memory::format_tag;
    const dnnl::engine& eng = engine();
    elements_ = user.get_size() / sizeof(float);
    dnnl::memory::dims d = user.dims();
    if (user == prim) {
      move_ = Move::none;
    } else if (d.size() == 4 && user == dnnl::memory::desc(d, user.data_type(), tag::nchw) &&
               prim == dnnl::memory::desc(d, user.data_type(), tag::nhwc)) {
      move_ = Move::to_nhwc;
      batches_ = size_t(d[0]), channels_ = size_t(d[1]), pixels_ = size_t(d[2] * d[3]);
    } else {
      move_ = Move::reorder;
    }
    user_ = half ? dnnl::memory(user, eng) : dnnl::memory(user, eng, DNNL_MEMORY_NONE);
    if (external) prim_ = *external;
    else prim_ = move_ != Move::none ? dnnl::memory(prim, eng) : user_;
    if (move_ == Move::reorder) {
      if (dir == Direction::in) to_prim_ = dnnl::reorder(user_, prim_);
      else to_user_ = dnnl::reorder(prim_, user_);
    }
  }

  // The tensor's buffer holds the primitive's layout itself (a buffer handed between two
  // primitives of one layout: link_native_layout), so nothing moves: the primitive reads or
  // writes the buffer directly. Only where the two layouts have the same size (no padding)
  // and there is no float16 staging. Returns whether it did.
  bool go_native() {
    if (half_ || external_ || move_ != Move::reorder || user_.get_desc().get_size() != prim_.get_desc().get_size())
      return false;
    native_ = true;
    return true;
  }
  bool native() const { return native_; }

  // Makes the primitive's memory hold `data`.
  const dnnl::memory& load(const void* data, dnnl::stream& s) {
    if (native_) {
      prim_.set_data_handle(const_cast<void*>(data));
      return prim_;
    }
    if (external_ && move_ == Move::none) {
      void* target = prim_.get_data_handle();
      // The memory plan may already have put the residual where the output goes.
      if (half_) half_to_float(data, static_cast<float*>(target), elements_);
      else if (data != target) parallel_copy(data, target, elements_ * sizeof(float));
      return prim_;
    }
    const float* src = static_cast<const float*>(data);
    if (half_) {
      half_to_float(data, static_cast<float*>(user_.get_data_handle()), elements_);
      src = static_cast<const float*>(user_.get_data_handle());
    } else if (move_ != Move::to_nhwc) {
      user_.set_data_handle(const_cast<void*>(data));
    }
    if (move_ == Move::reorder) to_prim_.execute(s, user_, prim_);
    if (move_ == Move::to_nhwc)
      transpose_matrices(src, static_cast<float*>(prim_.get_data_handle()), batches_, channels_,
                         pixels_);
    return prim_;
  }

  // The memory the primitive writes; call store() with the same `data` after execution.
  const dnnl::memory& target(void* data) {
    if (native_) prim_.set_data_handle(data);
    else if (!half_ && move_ != Move::to_nhwc) user_.set_data_handle(data);
    return prim_;
  }

  void store(void* data, dnnl::stream& s) {
    if (native_) return;
    float* user = half_ ? static_cast<float*>(user_.get_data_handle()) : static_cast<float*>(data);
    if (move_ == Move::reorder) to_user_.execute(s, prim_, user_);
    if (move_ == Move::to_nhwc) {
      s.wait();
      transpose_matrices(static_cast<const float*>(prim_.get_data_handle()), user, batches_,
                         pixels_, channels_);
    }
    if (half_) {
      s.wait();
      float_to_half(user, data, elements_);
    }
  }

  const dnnl::memory& memory() const { return prim_; }

 private:
  // How data goes between the tensor and the primitive: not at all, by a oneDNN reorder, or
  // by our own nchw <-> nhwc transpose.
  enum class Move { none, reorder, to_nhwc };
  bool half_ = false, external_ = false, native_ = false;
  Move move_ = Move::none;
  size_t elements_ = 0, batches_ = 0, channels_ = 0, pixels_ = 0;
  dnnl::memory user_;  // float32 view of the tensor: its own buffer, or a float16 staging copy
  dnnl::memory prim_;  // what the primitive uses (user_ itself when nothing moves)
  dnnl::reorder to_prim_, to_user_;
};

// A constant operand (weights, bias) moved once into the primitive's layout.
inline dnnl::memory pack_constant(const dnnl::memory::desc& user, const dnnl::memory::desc& prim,
                                  const Tensor& data) {
  dnnl::stream s(engine());
  Staged staged(user, prim, data.data_type() == DataType::float16, Staged::Direction::in);
  dnnl::memory m = staged.load(data.data(), s);
  s.wait();
  return m;
}

// An operand that is either a packed constant (shared with the plans that pack the same
// tensor the same way: packed_constants.h) or staged at every run.
struct Weights {
  dnnl::memory packed;
  std::shared_ptr<const PackedConstant> shared;  // holds `packed` for the other plans
  Staged staged;
  bool constant = false;

  Weights() = default;
  Weights(const dnnl::memory::desc& user, const dnnl::memory::desc& prim, bool half,
          const Tensor* constant_data) {
    if (constant_data) {
      shared = shared_packed_constant(*constant_data, user, prim,
                                      [&] { return pack_constant(user, prim, *constant_data); });
      packed = shared->memory;
      constant = true;
    } else {
      staged = Staged(user, prim, half, Staged::Direction::in);
    }
  }
  const dnnl::memory& get(const Tensor* t, dnnl::stream& s) {
    return constant ? packed : staged.load(t->data(), s);
  }
};

}  // namespace onednn
CPPNN_ISA_END
}  // namespace cppnn::detail
