// CPU kernels of lstm, lstmCell, gru and gruCell: the whole sequence in one kernel, a time
// loop over fused gate math. Each step computes the gates' pre-activations as dot products
// of the step's input and the hidden state with the weights' rows (row-major [gates *
// hiddenSize, size], so every dot product reads contiguous memory), then the element-wise
// gate equations of the spec's decomposition. Everything is computed in float32 (float16
// operands are converted; the states stay float32 between steps). Constant weights are
// converted once, when the kernel is prepared: silero VAD runs one lstm step per call, so
// per-call work must be the step's arithmetic only.
//
// A cell is the sequence op with one step, one direction and its state operands as the
// initial states: [batch, hidden] and [1, batch, hidden] have the same memory layout, as do
// the cells' weights and biases with their [1, ...] forms.
#include <algorithm>
#include <cmath>
#include <sstream>

#include "backends/cpu/isa_target.h"
#include "backends/cpu/kernel.h"

namespace cppnn::detail {
CPPNN_ISA_BEGIN

namespace {

enum class Act { relu, sigmoid, tanh };

std::vector<Act> parse_activations(const std::string& text) {
  std::vector<Act> out;
  std::stringstream in(text);
  for (std::string n; std::getline(in, n, ',');)
    out.push_back(n == "relu" ? Act::relu : n == "sigmoid" ? Act::sigmoid : Act::tanh);
  return out;
}

inline float apply(Act a, float x) {
  switch (a) {
    case Act::relu: return x > 0.f ? x : 0.f;
    case Act::sigmoid: return 1.f / (1.f + std::exp(-x));
    case Act::tanh: return std::tanh(x);
  }
  return x;
}

#if CPPNN_ISA_AVX2
inline float horizontal_sum(__m256 v) {
  __m128 r = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  r = _mm_add_ps(r, _mm_movehl_ps(r, r));
  r = _mm_add_ss(r, _mm_movehdup_ps(r));
  return _mm_cvtss_f32(r);
}
#endif

// Two accumulators keep the FMAs from waiting on each other.
inline float dot(const float* a, const float* b, size_t n) {
  size_t i = 0;
#if CPPNN_ISA_AVX2
  __m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps();
  for (; i + 16 <= n; i += 16) {
    s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), s0);
    s1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 8), _mm256_loadu_ps(b + i + 8), s1);
  }
  for (; i + 8 <= n; i += 8) s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), s0);
  float s = horizontal_sum(_mm256_add_ps(s0, s1));
#else
  // The same 16 lanes and order of adds as above; products rounded before adding.
  float acc[16] = {};
  for (; i + 16 <= n; i += 16)
    for (int j = 0; j < 16; ++j) acc[j] += a[i + j] * b[i + j];
  for (; i + 8 <= n; i += 8)
    for (int j = 0; j < 8; ++j) acc[j] += a[i + j] * b[i + j];
  float v[8];
  for (int j = 0; j < 8; ++j) v[j] = acc[j] + acc[8 + j];
  float s = ((v[0] + v[4]) + (v[2] + v[6])) + ((v[1] + v[5]) + (v[3] + v[7]));
#endif
  for (; i < n; ++i) s += a[i] * b[i];
  return s;
}

// A float32 copy of an operand (absent: n zeros).
std::vector<float> floats_of(const Tensor* t, size_t n) {
  std::vector<float> out(n, 0.f);
  if (!t) return out;
  if (t->data_type() == DataType::float16) {
    const half* p = t->data_as<half>();
    for (size_t i = 0; i < n; ++i) out[i] = float(p[i]);
  } else {
    std::copy_n(t->data_as<float>(), n, out.begin());
  }
  return out;
}

void store(Tensor* t, const std::vector<float>& v) {
  if (t->data_type() == DataType::float16) {
    half* p = t->data_as<half>();
    for (size_t i = 0; i < v.size(); ++i) p[i] = half(v[i]);
  } else {
    std::copy(v.begin(), v.end(), t->data_as<float>());
  }
}

// Where each operand of a node is, by op (absent: -1).
struct Slots {
  int input = 0, weight = 1, recurrent_weight = 2, bias = -1, recurrent_bias = -1, peephole = -1,
      hidden = -1, cell = -1;
  int out_hidden = 0, out_cell = -1, out_sequence = -1;
};

Slots slots_of(OpId op, bool sequence) {
  Slots s;
  switch (op) {
    case OpId::lstm:
      s.bias = 3, s.recurrent_bias = 4, s.peephole = 5, s.hidden = 6, s.cell = 7;
      s.out_cell = 1, s.out_sequence = sequence ? 2 : -1;
      break;
    case OpId::lstmCell:
      s.hidden = 3, s.cell = 4, s.bias = 5, s.recurrent_bias = 6, s.peephole = 7;
      s.out_cell = 1;
      break;
    case OpId::gru:
      s.bias = 3, s.recurrent_bias = 4, s.hidden = 5;
      s.out_sequence = sequence ? 1 : -1;
      break;
    default:  // gruCell
      s.hidden = 3, s.bias = 4, s.recurrent_bias = 5;
      break;
  }
  return s;
}

class RecurrentKernel final : public CpuKernel {
 public:
  explicit RecurrentKernel(const KernelContext& cx) {
    const Node& node = cx.node;
    const Attrs& a = node.attrs;
    lstm_ = node.op == OpId::lstm || node.op == OpId::lstmCell;
    bool cell = node.op == OpId::lstmCell || node.op == OpId::gruCell;
    bool sequence = !cell && a.b("returnSequence");
    slots_ = slots_of(node.op, sequence);
    gates_ = lstm_ ? 4 : 3;
    hidden_ = size_t(a.i("hiddenSize"));
    const Dims& in = cx.inputs[0]->shape;
    steps_ = cell ? 1 : size_t(in[0]);
    batch_ = size_t(in[cell ? 0 : 1]);
    input_size_ = size_t(in[cell ? 1 : 2]);
    std::string direction = cell ? "forward" : a.s("direction");
    directions_ = direction == "both" ? 2 : 1;
    backward_first_ = direction == "backward";
    acts_ = parse_activations(a.s("activations"));
    reset_after_ = !lstm_ && a.b("resetAfter");
    // The row block of each gate in the weights, in the kernel's order: lstm i, o, f, g;
    // gru z, r, n.
    const std::string& layout = a.s("layout");
    if (lstm_)
      block_ = layout == "iofg" ? std::vector<size_t>{0, 1, 2, 3} : std::vector<size_t>{0, 3, 1, 2};
    else
      block_ = layout == "zrn" ? std::vector<size_t>{0, 1, 2} : std::vector<size_t>{1, 0, 2};
    for (int slot : {slots_.weight, slots_.recurrent_weight, slots_.bias, slots_.recurrent_bias,
                     slots_.peephole}) {
      const Tensor* k = slot >= 0 && size_t(slot) < cx.constants.size() ? cx.constants[size_t(slot)] : nullptr;
      bool absent = slot < 0 || size_t(slot) >= cx.inputs.size() || !cx.inputs[size_t(slot)];
      if (k || absent) prepared_[slot_index(slot)] = floats_of(k, count_of(slot));
      ready_[slot_index(slot)] = k != nullptr || absent;
    }
  }

  void run(const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out) override {
    auto get = [&](int slot) -> const Tensor* {
      return slot >= 0 && size_t(slot) < in.size() ? in[size_t(slot)] : nullptr;
    };
    // Weights: prepared when constant (or absent), else converted now.
    std::vector<float> fresh[5];
    auto weights = [&](int slot) -> const std::vector<float>& {
      size_t i = slot_index(slot);
      if (ready_[i]) return prepared_[i];
      fresh[i] = floats_of(get(slot), count_of(slot));
      return fresh[i];
    };
    const std::vector<float>& W = weights(slots_.weight);
    const std::vector<float>& R = weights(slots_.recurrent_weight);
    const std::vector<float>& bias = weights(slots_.bias);
    const std::vector<float>& rbias = weights(slots_.recurrent_bias);
    const std::vector<float>& peep = weights(slots_.peephole);
    bool has_peephole = lstm_ && get(slots_.peephole) != nullptr;

    const size_t B = batch_, H = hidden_, I = input_size_, G = gates_ * hidden_;
    std::vector<float> x = floats_of(in[0], steps_ * B * I);
    std::vector<float> h_all = floats_of(get(slots_.hidden), directions_ * B * H);
    std::vector<float> c_all = lstm_ ? floats_of(get(slots_.cell), directions_ * B * H)
                                     : std::vector<float>();
    std::vector<float> seq;
    if (slots_.out_sequence >= 0) seq.assign(steps_ * directions_ * B * H, 0.f);

    std::vector<float> gx(B * G), gh(B * G), rh(B * H);
    for (size_t d = 0; d < directions_; ++d) {
      const float* Wd = W.data() + d * G * I;
      const float* Rd = R.data() + d * G * H;
      const float* bd = bias.data() + d * G;
      const float* rbd = rbias.data() + d * G;
      const float* pd = has_peephole ? peep.data() + d * 3 * H : nullptr;
      float* h = h_all.data() + d * B * H;
      float* c = lstm_ ? c_all.data() + d * B * H : nullptr;
      bool backward = d == 1 || backward_first_;
      // GRU without resetAfter multiplies the reset gate into the state before the new
      // gate's recurrent product: that block's rows are done in a second phase.
      size_t n_block = lstm_ ? G : block_[2] * H;
      for (size_t s = 0; s < steps_; ++s) {
        size_t t = backward ? steps_ - 1 - s : s;
        const float* xt = x.data() + t * B * I;
        // Phase 1: every gate row's products, rows split over the threads.
        parallel_for(G, grain(I + H), [&](size_t j0, size_t j1) {
          for (size_t b = 0; b < B; ++b)
            for (size_t j = j0; j < j1; ++j) {
              gx[b * G + j] = bd[j] + dot(xt + b * I, Wd + j * I, I);
              bool deferred = !lstm_ && !reset_after_ && j >= n_block && j < n_block + H;
              gh[b * G + j] = deferred ? 0.f : rbd[j] + dot(h + b * H, Rd + j * H, H);
            }
        });
        if (lstm_) {
          lstm_step(gx, gh, pd, h, c);
        } else {
          gru_step(gx, gh, rh, Rd, rbd, h);
        }
        if (!seq.empty())
          std::copy_n(h, B * H, seq.data() + (t * directions_ + d) * B * H);
      }
    }
    store(out[size_t(slots_.out_hidden)], h_all);
    if (slots_.out_cell >= 0) store(out[size_t(slots_.out_cell)], c_all);
    if (slots_.out_sequence >= 0) store(out[size_t(slots_.out_sequence)], seq);
  }

 private:
  // The spec's lstmCell: i, f, o see the previous cell state through the peepholes.
  void lstm_step(const std::vector<float>& gx, const std::vector<float>& gh, const float* peep,
                 float* h, float* c) const {
    const size_t B = batch_, H = hidden_, G = gates_ * hidden_;
    const size_t bi = block_[0] * H, bo = block_[1] * H, bf = block_[2] * H, bg = block_[3] * H;
    for (size_t b = 0; b < B; ++b) {
      const float* x = gx.data() + b * G;
      const float* r = gh.data() + b * G;
      for (size_t k = 0; k < H; ++k) {
        float cp = c[b * H + k];
        float pi = peep ? peep[k] * cp : 0.f, po = peep ? peep[H + k] * cp : 0.f,
              pf = peep ? peep[2 * H + k] * cp : 0.f;
        float i = apply(acts_[0], x[bi + k] + r[bi + k] + pi);
        float f = apply(acts_[0], x[bf + k] + r[bf + k] + pf);
        float g = apply(acts_[1], x[bg + k] + r[bg + k]);
        float o = apply(acts_[0], x[bo + k] + r[bo + k] + po);
        float ct = f * cp + i * g;
        c[b * H + k] = ct;
        h[b * H + k] = o * apply(acts_[2], ct);
      }
    }
  }

  // The spec's gruCell: resetAfter applies r to the new gate's recurrent product (with its
  // bias), otherwise to the state before that product.
  void gru_step(const std::vector<float>& gx, std::vector<float>& gh, std::vector<float>& rh,
                const float* Rd, const float* rbd, float* h) const {
    const size_t B = batch_, H = hidden_, G = gates_ * hidden_;
    const size_t bz = block_[0] * H, br = block_[1] * H, bn = block_[2] * H;
    std::vector<float> r(B * H);
    for (size_t b = 0; b < B; ++b)
      for (size_t k = 0; k < H; ++k)
        r[b * H + k] = apply(acts_[0], gx[b * G + br + k] + gh[b * G + br + k]);
    if (!reset_after_) {
      for (size_t i = 0; i < B * H; ++i) rh[i] = r[i] * h[i];
      parallel_for(H, grain(H), [&](size_t k0, size_t k1) {
        for (size_t b = 0; b < B; ++b)
          for (size_t k = k0; k < k1; ++k)
            gh[b * G + bn + k] = rbd[bn + k] + dot(rh.data() + b * H, Rd + (bn + k) * H, H);
      });
    }
    for (size_t b = 0; b < B; ++b) {
      const float* x = gx.data() + b * G;
      const float* rr = gh.data() + b * G;
      for (size_t k = 0; k < H; ++k) {
        float z = apply(acts_[0], x[bz + k] + rr[bz + k]);
        float rk = r[b * H + k];
        float n = reset_after_ ? apply(acts_[1], x[bn + k] + rk * rr[bn + k])
                               : apply(acts_[1], x[bn + k] + rr[bn + k]);
        float hp = h[b * H + k];
        h[b * H + k] = z * hp + (1.f - z) * n;
      }
    }
  }

  // Rows per thread chunk: enough multiply-adds (batch * row length each) to pay for
  // waking a thread, which costs more than a whole small step: silero's step (hidden 128,
  // 131k multiply-adds) ran 20x slower split over threads than on one.
  size_t grain(size_t row) const { return std::max<size_t>(1, (size_t(1) << 18) / std::max<size_t>(1, batch_ * row)); }

  size_t slot_index(int slot) const {
    if (slot == slots_.weight) return 0;
    if (slot == slots_.recurrent_weight) return 1;
    if (slot == slots_.bias) return 2;
    if (slot == slots_.recurrent_bias) return 3;
    return 4;
  }
  size_t count_of(int slot) const {
    size_t G = gates_ * hidden_;
    if (slot == slots_.weight) return directions_ * G * input_size_;
    if (slot == slots_.recurrent_weight) return directions_ * G * hidden_;
    if (slot == slots_.bias || slot == slots_.recurrent_bias) return directions_ * G;
    return directions_ * 3 * hidden_;  // peephole
  }

  Slots slots_;
  bool lstm_ = true, reset_after_ = true, backward_first_ = false;
  size_t gates_ = 4, hidden_ = 0, steps_ = 1, batch_ = 1, input_size_ = 0, directions_ = 1;
  std::vector<Act> acts_;
  std::vector<size_t> block_;
  std::vector<float> prepared_[5];
  bool ready_[5] = {false, false, false, false, false};
};

}  // namespace

void register_recurrent_kernels(CpuKernelRegistry& r) {
  auto factory = [](const KernelContext& cx) -> std::unique_ptr<CpuKernel> {
    return std::make_unique<RecurrentKernel>(cx);
  };
  r.add(OpId::lstm, factory);
  r.add(OpId::lstmCell, factory);
  r.add(OpId::gru, factory);
  r.add(OpId::gruCell, factory);
}

CPPNN_ISA_END
}  // namespace cppnn::detail
