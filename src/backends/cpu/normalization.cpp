// CPU kernels of batchNormalization, instanceNormalization and layerNormalization.
// Everything is computed in float32 (float16 is converted per row or block). Per-channel
// parameters that are constants are converted (and for batch normalization folded into one
// multiplier per channel) once, when the kernel is prepared.
#include <algorithm>
#include <cmath>

#include "backends/cpu/isa_target.h"
#include "backends/cpu/kernel.h"
#include "backends/cpu/normalization_rows.h"

namespace cppnn::detail {
CPPNN_ISA_BEGIN

namespace {

// The mean is kept as shift + offset, with shift a float near the mean and offset small:
// ((x - shift) - offset) then keeps the digits that x - (shift + offset) would lose when the
// mean is large against the spread.
struct Moments {
  float shift, offset;
  float rstd;  // 1 / sqrt(variance + epsilon)
};

#if CPPNN_ISA_AVX2
inline float horizontal_sum(__m256 v) {
  __m128 r = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  r = _mm_add_ps(r, _mm_movehl_ps(r, r));
  r = _mm_add_ss(r, _mm_movehdup_ps(r));
  return _mm_cvtss_f32(r);
}
#endif

// The sum of n floats, a first estimate of the mean: four independent accumulators keep the
// adds from waiting on each other (a single chain runs at the add's latency).
inline float plain_sum(const float* x, size_t n) {
  size_t i = 0;
#if CPPNN_ISA_AVX2
  __m256 s[4];
  for (int k = 0; k < 4; ++k) s[k] = _mm256_setzero_ps();
  for (; i + 32 <= n; i += 32)
    for (int k = 0; k < 4; ++k) s[k] = _mm256_add_ps(s[k], _mm256_loadu_ps(x + i + 8 * k));
  for (; i + 8 <= n; i += 8) s[0] = _mm256_add_ps(s[0], _mm256_loadu_ps(x + i));
  float sum = horizontal_sum(_mm256_add_ps(_mm256_add_ps(s[0], s[1]), _mm256_add_ps(s[2], s[3])));
#else
  // The same 32 lanes, added in the same order as above: the same sum, bit for bit.
  float s[32] = {};
  for (; i + 32 <= n; i += 32)
    for (int j = 0; j < 32; ++j) s[j] += x[i + j];
  for (; i + 8 <= n; i += 8)
    for (int j = 0; j < 8; ++j) s[j] += x[i + j];
  float v[8];
  for (int j = 0; j < 8; ++j) v[j] = (s[j] + s[8 + j]) + (s[16 + j] + s[24 + j]);
  float sum = ((v[0] + v[4]) + (v[2] + v[6])) + ((v[1] + v[5]) + (v[3] + v[7]));
#endif
  for (; i < n; ++i) sum += x[i];
  return sum;
}

// Sums of e = x - shift (exact in double) and of e^2 over n floats, accumulated in double (their
// rounding is what is left of the mean's and the variance's error): the second pass of
// moments().
inline void centered_sums(const float* x, size_t n, float shift, double& sum, double& sq) {
  size_t i = 0;
#if CPPNN_ISA_AVX2
  __m256d vshift = _mm256_set1_pd(double(shift));
  // Four chains of each sum, so that the adds do not wait on each other's latency.
  __m256d s[4], q[4];
  for (int k = 0; k < 4; ++k) s[k] = q[k] = _mm256_setzero_pd();
  for (; i + 16 <= n; i += 16)
    for (int k = 0; k < 2; ++k) {
      __m256 v = _mm256_loadu_ps(x + i + 8 * k);
      __m256d lo = _mm256_sub_pd(_mm256_cvtps_pd(_mm256_castps256_ps128(v)), vshift);
      __m256d hi = _mm256_sub_pd(_mm256_cvtps_pd(_mm256_extractf128_ps(v, 1)), vshift);
      s[2 * k] = _mm256_add_pd(s[2 * k], lo);
      s[2 * k + 1] = _mm256_add_pd(s[2 * k + 1], hi);
      q[2 * k] = _mm256_fmadd_pd(lo, lo, q[2 * k]);
      q[2 * k + 1] = _mm256_fmadd_pd(hi, hi, q[2 * k + 1]);
    }
  for (; i + 8 <= n; i += 8) {
    __m256 v = _mm256_loadu_ps(x + i);
    __m256d lo = _mm256_sub_pd(_mm256_cvtps_pd(_mm256_castps256_ps128(v)), vshift);
    __m256d hi = _mm256_sub_pd(_mm256_cvtps_pd(_mm256_extractf128_ps(v, 1)), vshift);
    s[0] = _mm256_add_pd(s[0], lo);
    s[1] = _mm256_add_pd(s[1], hi);
    q[0] = _mm256_fmadd_pd(lo, lo, q[0]);
    q[1] = _mm256_fmadd_pd(hi, hi, q[1]);
  }
  auto total = [](__m256d a, __m256d b) {
    __m256d t = _mm256_add_pd(a, b);
    __m128d h = _mm_add_pd(_mm256_castpd256_pd128(t), _mm256_extractf128_pd(t, 1));
    return _mm_cvtsd_f64(_mm_add_sd(h, _mm_unpackhi_pd(h, h)));
  };
  sum = total(_mm256_add_pd(s[0], s[1]), _mm256_add_pd(s[2], s[3]));
  sq = total(_mm256_add_pd(q[0], q[1]), _mm256_add_pd(q[2], q[3]));
#else
  // The same 16 lanes and order of adds as above (sum the same bit for bit; sq rounds e^2
  // before adding where the FMA does not).
  double s[16] = {}, q[16] = {};
  for (; i + 16 <= n; i += 16)
    for (int j = 0; j < 16; ++j) {
      double e = double(x[i + j]) - double(shift);
      s[j] += e;
      q[j] += e * e;
    }
  for (; i + 8 <= n; i += 8)
    for (int j = 0; j < 8; ++j) {
      double e = double(x[i + j]) - double(shift);
      s[j] += e;
      q[j] += e * e;
    }
  auto total = [](const double* a) {
    double t[4];
    for (int j = 0; j < 4; ++j) t[j] = (a[j] + a[4 + j]) + (a[8 + j] + a[12 + j]);
    return (t[0] + t[2]) + (t[1] + t[3]);
  };
  sum = total(s);
  sq = total(q);
#endif
  for (; i < n; ++i) {
    double e = double(x[i]) - double(shift);
    sum += e;
    sq += e * e;
  }
}

// Mean and variance of n floats in two passes: a first mean, rounded to a float `shift`,
// then the sums of e = x - shift and of e^2 in double (e exact there). The mean is
// shift + sum(e) / n, kept as shift + offset: the offset holds the digits a float mean would
// drop when the mean is large against the spread. The variance
// is the corrected two-pass formula (Chan, Golub and LeVeque), (sum e^2 - (sum e)^2 / n) / n,
// with nothing left to cancel since e is centred. The one-pass E[d^2] - E[d]^2 around the
// first element this replaces was up to ~70 ULP from float64 on a 24-element
// layerNormalization with scale and bias; tests/unit/test_ops_normalization.cpp bounds it.
// The row is in cache for the second pass.
inline Moments moments(const float* x, size_t n, float epsilon) {
  float shift = plain_sum(x, n) / float(n);
  double esum, esq;
  centered_sums(x, n, shift, esum, esq);
  double mean_e = esum / double(n);
  float variance = float((esq - esum * mean_e) / double(n));
  return {shift, float(mean_e), 1.0f / std::sqrt(std::max(variance, 0.0f) + epsilon)};
}

// A float copy of a parameter tensor (absent: `fill` repeated `n` times), element i taken
// from flat index order[i] when an order is given.
std::vector<float> float_params(const Tensor* t, size_t n, float fill,
                                const std::vector<size_t>& order = {}) {
  std::vector<float> out(n, fill);
  if (!t) return out;
  visit_type(t->data_type(), [&]<typename T>() {
    if constexpr (std::is_same_v<T, float> || std::is_same_v<T, half>) {
      const T* p = t->data_as<T>();
      for (size_t i = 0; i < n; ++i) out[i] = to_float(p[order.empty() ? i : order[i]]);
    }
  });
  return out;
}

// Runs fn with the kernel's float type, float32 or float16 (infer admits no other).
template <typename F>
void visit_float(DataType type, F&& fn) {
  if (type == DataType::float16)
    fn.template operator()<half>();
  else
    fn.template operator()<float>();
}

// ---- batchNormalization: y = (x - mean[c]) * multiplier[c] + bias[c] over [outer, C, inner].

struct BatchNormParams {
  std::vector<float> mean, multiplier, bias;
};

BatchNormParams batch_norm_params(const Tensor* mean, const Tensor* variance, const Tensor* scale,
                                  const Tensor* bias, size_t channels, double epsilon) {
  BatchNormParams p;
  p.mean = float_params(mean, channels, 0);
  std::vector<float> var = float_params(variance, channels, 1);
  std::vector<float> sc = float_params(scale, channels, 1);
  p.bias = float_params(bias, channels, 0);
  p.multiplier.resize(channels);
  for (size_t c = 0; c < channels; ++c)
    p.multiplier[c] = float(double(sc[c]) / std::sqrt(double(var[c]) + epsilon));
  return p;
}

class BatchNormKernel final : public CpuKernel {
 public:
  explicit BatchNormKernel(const KernelContext& cx) {
    const Dims& shape = cx.inputs[0]->shape;
    size_t axis = size_t(cx.node.attrs.i("axis"));
    epsilon_ = cx.node.attrs.f("epsilon");
    // fuse_batch_norm_relu (the CPU plan's own fusion): relu applied in the same pass.
    relu_ = cx.node.attrs.s_or("activation", "") == "relu";
    channels_ = size_t(shape[axis]);
    outer_ = 1;
    inner_ = 1;
    for (size_t d = 0; d < axis; ++d) outer_ *= size_t(shape[d]);
    for (size_t d = axis + 1; d < shape.size(); ++d) inner_ *= size_t(shape[d]);
    const auto& k = cx.constants;
    auto constant_or_absent = [&](size_t i) {
      return i >= cx.inputs.size() || !cx.inputs[i] || k[i] != nullptr;
    };
    prepared_ = constant_or_absent(1) && constant_or_absent(2) && constant_or_absent(3) &&
                constant_or_absent(4);
    if (prepared_)
      params_ = batch_norm_params(k[1], k[2], k.size() > 3 ? k[3] : nullptr,
                                  k.size() > 4 ? k[4] : nullptr, channels_, epsilon_);
  }

  void run(const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out) override {
    BatchNormParams computed;
    if (!prepared_)
      computed = batch_norm_params(in[1], in[2], in.size() > 3 ? in[3] : nullptr,
                                   in.size() > 4 ? in[4] : nullptr, channels_, epsilon_);
    const BatchNormParams& p = prepared_ ? params_ : computed;
    const float* mean = p.mean.data();
    const float* mul = p.multiplier.data();
    const float* bias = p.bias.data();
    size_t channels = channels_, inner = inner_;
    // relu as max(v, 0) keeps a NaN as the unfused relu kernel does (relu_f: v < 0 ? 0 : v).
    const float floor = relu_ ? 0.0f : -INFINITY;
    visit_float(in[0]->data_type(), [&]<typename T>() {
      const T* x = in[0]->data_as<T>();
      T* y = out[0]->data_as<T>();
      if (inner == 1) {
        // Channels are the contiguous axis: every row sees all parameters.
        parallel_for(outer_, std::max<size_t>(1, 16384 / channels), [&](size_t b, size_t e) {
          for (size_t r = b; r < e; ++r)
            map_floats(x + r * channels, y + r * channels, channels,
                       [&](const float* v, float* o, size_t base, size_t n) {
                         for (size_t i = 0; i < n; ++i) {
                           float t = (v[i] - mean[base + i]) * mul[base + i] + bias[base + i];
                           o[i] = t < floor ? floor : t;
                         }
                       });
        });
        return;
      }
      parallel_for(outer_ * channels, std::max<size_t>(1, 16384 / inner), [&](size_t b, size_t e) {
        for (size_t s = b; s < e; ++s) {
          size_t c = s % channels;
          float m = mean[c], a = mul[c], bb = bias[c];
          map_floats(x + s * inner, y + s * inner, inner,
                     [&](const float* v, float* o, size_t, size_t n) {
                       for (size_t i = 0; i < n; ++i) {
                         float t = (v[i] - m) * a + bb;
                         o[i] = t < floor ? floor : t;
                       }
                     });
        }
      });
    });
  }

 private:
  size_t outer_ = 1, channels_ = 1, inner_ = 1;
  double epsilon_ = 0;
  bool prepared_ = false, relu_ = false;
  BatchNormParams params_;
};

// ---- instanceNormalization: moments per (batch, channel) over the spatial dimensions.

class InstanceNormKernel final : public CpuKernel {
 public:
  explicit InstanceNormKernel(const KernelContext& cx) {
    const Dims& s = cx.inputs[0]->shape;
    nchw_ = cx.node.attrs.s("layout") == "nchw";
    batches_ = size_t(s[0]);
    channels_ = size_t(nchw_ ? s[1] : s[3]);
    spatial_ = size_t(nchw_ ? s[2] * s[3] : s[1] * s[2]);
    epsilon_ = float(cx.node.attrs.f("epsilon"));
    for (size_t i = 1; i < 3; ++i) {
      bool absent = i >= cx.inputs.size() || !cx.inputs[i];
      if (absent || cx.constants[i])
        params_[i - 1] =
            float_params(absent ? nullptr : cx.constants[i], channels_, i == 1 ? 1.0f : 0.0f);
    }
  }

  void run(const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out) override {
    std::vector<float> computed[2];
    const float* param[2];
    for (size_t i = 0; i < 2; ++i) {
      if (params_[i].empty())
        computed[i] = float_params(in[i + 1], channels_, i == 0 ? 1.0f : 0.0f);
      param[i] = params_[i].empty() ? computed[i].data() : params_[i].data();
    }
    visit_float(in[0]->data_type(), [&]<typename T>() {
      const T* x = in[0]->data_as<T>();
      T* y = out[0]->data_as<T>();
      if (nchw_)
        run_nchw(x, y, param[0], param[1]);
      else
        run_nhwc(x, y, param[0], param[1]);
    });
  }

 private:
  template <typename T>
  void run_nchw(const T* x, T* y, const float* scale, const float* bias) const {
    size_t len = spatial_, channels = channels_;
    float eps = epsilon_;
    parallel_for(batches_ * channels, std::max<size_t>(1, 16384 / len), [&](size_t b, size_t e) {
      std::vector<float> scratch(std::is_same_v<T, half> ? len : 0);
      for (size_t r = b; r < e; ++r) {
        const float* v = floats_of(x + r * len, scratch.data(), len);
        Moments mo = moments(v, len, eps);
        size_t c = r % channels;
        float a = mo.rstd * scale[c], bb = bias[c], sh = mo.shift, m = mo.offset;
        if constexpr (std::is_same_v<T, float>) {
          float* o = y + r * len;
          for (size_t i = 0; i < len; ++i) o[i] = ((v[i] - sh) - m) * a + bb;
        } else {
          for (size_t i = 0; i < len; ++i) scratch[i] = ((scratch[i] - sh) - m) * a + bb;
          store_floats(scratch.data(), y + r * len, len);
        }
      }
    });
  }

  // Channels are contiguous: statistics of a block of channels accumulate lane-wise over
  // the spatial rows, then a second sweep normalizes.
  template <typename T>
  void run_nhwc(const T* x, T* y, const float* scale, const float* bias) const {
    constexpr size_t kBlock = 64;
    size_t channels = channels_, spatial = spatial_;
    size_t blocks = (channels + kBlock - 1) / kBlock;
    float eps = epsilon_;
    parallel_for(batches_ * blocks, 1, [&](size_t b, size_t e) {
      float shift[kBlock], s[kBlock], offset[kBlock], var[kBlock];
      double es[kBlock], eq[kBlock];
      float mul[kBlock], add[kBlock];
      float in[kBlock], res[kBlock];
      for (size_t task = b; task < e; ++task) {
        size_t n = task / blocks, c0 = (task % blocks) * kBlock;
        size_t nc = std::min(kBlock, channels - c0);
        const T* base = x + n * spatial * channels + c0;
        T* obase = y + n * spatial * channels + c0;
        // Two passes, as moments(): a first mean as the shift, then the sums around it in
        // double.
        load_floats(base, shift, nc);
        std::fill_n(s, nc, 0.0f);
        for (size_t j = 0; j < spatial; ++j) {
          const float* v = floats_of(base + j * channels, in, nc);
          for (size_t c = 0; c < nc; ++c) s[c] += v[c] - shift[c];
        }
        for (size_t c = 0; c < nc; ++c) shift[c] += s[c] / float(spatial);
        std::fill_n(es, nc, 0.0);
        std::fill_n(eq, nc, 0.0);
        for (size_t j = 0; j < spatial; ++j) {
          const float* v = floats_of(base + j * channels, in, nc);
          for (size_t c = 0; c < nc; ++c) {
            double d = double(v[c]) - double(shift[c]);
            es[c] += d;
            eq[c] += d * d;
          }
        }
        for (size_t c = 0; c < nc; ++c) {
          double mean_e = es[c] / double(spatial);
          offset[c] = float(mean_e);
          var[c] = float((eq[c] - es[c] * mean_e) / double(spatial));
        }
        for (size_t c = 0; c < nc; ++c) {
          mul[c] = scale[c0 + c] / std::sqrt(std::max(var[c], 0.0f) + eps);
          add[c] = bias[c0 + c];
        }
        for (size_t j = 0; j < spatial; ++j) {
          const float* v = floats_of(base + j * channels, in, nc);
          for (size_t c = 0; c < nc; ++c)
            res[c] = ((v[c] - shift[c]) - offset[c]) * mul[c] + add[c];
          store_floats(res, obase + j * channels, nc);
        }
      }
    });
  }

  size_t batches_ = 1, channels_ = 1, spatial_ = 1;
  float epsilon_ = 0;
  bool nchw_ = true;
  std::vector<float> params_[2];  // scale, bias; empty when they come at run time
};

// ---- layerNormalization: moments per row over the reduced axes.

// Normalizes `rows` contiguous rows of `len` elements; scale and bias are in row order.
// `residual` (or null): added to x first (input 3, fuse_norm_residual's), in float.
template <typename T>
void layer_norm_rows(const T* x, const T* residual, T* y, size_t rows, size_t len, const float* scale,
                     const float* bias, float eps) {
  parallel_for(rows, std::max<size_t>(1, 8192 / len), [&](size_t b, size_t e) {
    std::vector<float> scratch(std::is_same_v<T, half> || residual ? len : 0);
    for (size_t r = b; r < e; ++r) {
      const float* v = nullptr;
      if (residual) {
        const T* xr = x + r * len;
        const T* rr = residual + r * len;
        for (size_t i = 0; i < len; ++i) scratch[i] = to_float(xr[i]) + to_float(rr[i]);
        v = scratch.data();
      } else {
        v = floats_of(x + r * len, scratch.data(), len);
      }
      Moments mo = moments(v, len, eps);
      float sh = mo.shift, m = mo.offset, rs = mo.rstd;
      if constexpr (std::is_same_v<T, float>) {
        float* o = y + r * len;
        for (size_t i = 0; i < len; ++i) o[i] = ((v[i] - sh) - m) * rs * scale[i] + bias[i];
      } else {
        for (size_t i = 0; i < len; ++i)
          scratch[i] = ((scratch[i] - sh) - m) * rs * scale[i] + bias[i];
        store_floats(scratch.data(), y + r * len, len);
      }
    }
  });
}

// Visits a tensor in the order of a permutation of its axes, as rows of the last permuted
// axis: fn(row index, source offset of the row's first element, source stride in the row).
template <typename F>
void for_permuted_rows(const Dims& perm_shape, const std::vector<size_t>& perm_strides, F&& fn) {
  size_t rank = perm_shape.size();
  size_t inner = size_t(perm_shape[rank - 1]);
  size_t rows = element_count(perm_shape) / inner;
  parallel_for(rows, std::max<size_t>(1, 16384 / inner), [&](size_t b, size_t e) {
    for (size_t r = b; r < e; ++r) {
      size_t rem = r, off = 0;
      for (size_t d = rank - 1; d-- > 0;) {
        off += (rem % size_t(perm_shape[d])) * perm_strides[d];
        rem /= size_t(perm_shape[d]);
      }
      fn(r, off, perm_strides[rank - 1]);
    }
  });
}

class LayerNormKernel final : public CpuKernel {
 public:
  explicit LayerNormKernel(const KernelContext& cx) {
    const Dims& shape = cx.inputs[0]->shape;
    size_t rank = shape.size();
    epsilon_ = float(cx.node.attrs.f("epsilon"));
    const std::vector<int64_t>& axes = cx.node.attrs.ints("axes");
    std::vector<size_t> sorted(axes.begin(), axes.end());
    std::sort(sorted.begin(), sorted.end());
    len_ = 1;
    for (size_t a : sorted) len_ *= size_t(shape[a]);
    rows_ = element_count(shape) / len_;
    // Reduced axes that are the trailing ones make each row contiguous.
    trailing_ = true;
    for (size_t i = 0; i < sorted.size(); ++i)
      if (sorted[i] != rank - sorted.size() + i) trailing_ = false;
    if (!trailing_) {
      std::vector<size_t> strides = strides_of(shape);
      std::vector<size_t> perm;
      for (size_t a = 0; a < rank; ++a)
        if (!std::binary_search(sorted.begin(), sorted.end(), a)) perm.push_back(a);
      perm.insert(perm.end(), sorted.begin(), sorted.end());
      for (size_t a : perm) {
        perm_shape_.push_back(shape[a]);
        perm_strides_.push_back(strides[a]);
      }
    }
    // scale and bias are laid out in the order of `axes`; rows follow ascending axes.
    if (!std::is_sorted(axes.begin(), axes.end())) {
      Dims param_shape;
      for (int64_t a : axes) param_shape.push_back(shape[size_t(a)]);
      std::vector<size_t> param_strides = strides_of(param_shape);
      param_order_.resize(len_);
      for (size_t i = 0; i < len_; ++i) {
        size_t rem = i, idx = 0;
        for (size_t k = sorted.size(); k-- > 0;) {
          size_t size = size_t(shape[sorted[k]]);
          size_t pos =
              size_t(std::find(axes.begin(), axes.end(), int64_t(sorted[k])) - axes.begin());
          idx += (rem % size) * param_strides[pos];
          rem /= size;
        }
        param_order_[i] = idx;
      }
    }
    for (size_t i = 1; i < 3; ++i) {
      bool absent = i >= cx.inputs.size() || !cx.inputs[i];
      if (absent || cx.constants[i])
        params_[i - 1] = float_params(absent ? nullptr : cx.constants[i], len_,
                                      i == 1 ? 1.0f : 0.0f, param_order_);
    }
  }

  void run(const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out) override {
    std::vector<float> computed[2];
    const float* param[2];
    for (size_t i = 0; i < 2; ++i) {
      if (params_[i].empty())
        computed[i] = float_params(in[i + 1], len_, i == 0 ? 1.0f : 0.0f, param_order_);
      param[i] = params_[i].empty() ? computed[i].data() : params_[i].data();
    }
    // Input 3: the residual fuse_norm_residual moved in (x + residual is normalized).
    const Tensor* res = in.size() > 3 ? in[3] : nullptr;
    visit_float(in[0]->data_type(), [&]<typename T>() {
      const T* x = in[0]->data_as<T>();
      const T* r = res ? res->data_as<T>() : nullptr;
      T* y = out[0]->data_as<T>();
      if (trailing_) {
        layer_norm_rows(x, r, y, rows_, len_, param[0], param[1], epsilon_);
        return;
      }
      // Reduced axes in the middle: gather into [kept..., reduced...] order, normalize the
      // now contiguous rows, scatter back.
      std::vector<float> buf(rows_ * len_);
      size_t inner = size_t(perm_shape_.back());
      for_permuted_rows(perm_shape_, perm_strides_, [&](size_t row, size_t off, size_t stride) {
        float* d = buf.data() + row * inner;
        for (size_t i = 0; i < inner; ++i)
          d[i] = to_float(x[off + i * stride]) + (r ? to_float(r[off + i * stride]) : 0.0f);
      });
      layer_norm_rows(buf.data(), static_cast<const float*>(nullptr), buf.data(), rows_, len_, param[0],
                      param[1], epsilon_);
      for_permuted_rows(perm_shape_, perm_strides_, [&](size_t r, size_t off, size_t stride) {
        const float* s = buf.data() + r * inner;
        for (size_t i = 0; i < inner; ++i) y[off + i * stride] = from_float<T>(s[i]);
      });
    });
  }

 private:
  size_t rows_ = 1, len_ = 1;
  float epsilon_ = 0;
  bool trailing_ = true;
  Dims perm_shape_;
  std::vector<size_t> perm_strides_;
  std::vector<size_t> param_order_;  // flat scale/bias index of each row position
  std::vector<float> params_[2];     // scale, bias in row order; empty when given at run time
};

}  // namespace

void register_normalization_kernels(CpuKernelRegistry& r) {
  r.add(OpId::batchNormalization,
        [](const KernelContext& cx) { return std::make_unique<BatchNormKernel>(cx); });
  r.add(OpId::instanceNormalization,
        [](const KernelContext& cx) { return std::make_unique<InstanceNormKernel>(cx); });
  r.add(OpId::layerNormalization,
        [](const KernelContext& cx) { return std::make_unique<LayerNormKernel>(cx); });
}

CPPNN_ISA_END
}  // namespace cppnn::detail
