// The CPU kernel of the internal attention node (fuse_attention.cpp: softmax(q k^T * scale
// + mask) v as one node; matmul_attention.h reads it), float32, flash-attention style: the
// [sq, sk] scores of a head are never written out (Whisper's 1500 x 1500 per head, 9 MB,
// would stream through memory four times unfused).
//
// A task is one (batch, head) and a block of kBQ queries; the tasks are shared among the
// threads (parallel_for, contiguous ranges: a thread's tasks mostly share a head, whose keys
// and values stay in its L2). A task walks the keys kBK at a time, with an online softmax
// (running row maximum and sum, the accumulated output rescaled when the maximum grows).
//
// Everything runs transposed, vectorized along the queries: the block's queries are packed
// once as Qt [d][kBQ] (times the scale), so that
//   St [key][query] = sum_e k[key][e] * Qt[e][query]    (k's rows read in place, broadcast)
//   Ot [e][query]  += sum_key v[key][e] * Pt[key][query] (v's rows read in place, broadcast)
// and the softmax's per-query maximum, exp and sum are plain element-wise vector operations
// over the rows of St: no horizontal reductions, no packing of k or v (which may be strided
// views of a merged projection), and the score block (kBK x kBQ) stays in L1. The output
// block is transposed back once, divided by the row sums, at the end of the task.
//
// Values as the unfused graph: the maximum skips NaN scores; a row whose scores are all
// -inf (masked) is NaN, or 0 with zeroNanRows, as is a row with a NaN or +inf score.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <vector>

#include "backends/cpu/isa_target.h"
#include "backends/cpu/kernel.h"
#include "backends/cpu/matmul_attention.h"
#include "backends/cpu/reduction_math.h"

namespace cppnn::detail {
CPPNN_ISA_BEGIN

namespace {

// Vector width and register tiles per level: a tile of R rows (keys, or output columns)
// by C vectors of queries keeps R * C accumulators, C loaded vectors and a broadcast in
// registers (32 zmm at AVX-512, 16 ymm / xmm below).
#if CPPNN_ISA_AVX512
constexpr int kW = 16;
constexpr int kRows = 6, kCols = 4;
#elif CPPNN_ISA_AVX2
constexpr int kW = 8;
constexpr int kRows = 6, kCols = 2;
#else
constexpr int kW = 4;  // SSE2's 128 bits
constexpr int kRows = 4, kCols = 2;
#endif
constexpr int kBQ = 4 * kW;  // queries per task
constexpr int kBK = 64;      // keys per block: St is kBK x kBQ floats (16 KB at AVX-512)

using vf = float __attribute__((vector_size(kW * sizeof(float))));
using vi = int32_t __attribute__((vector_size(kW * sizeof(float))));

// Loads and stores through memcpy (unaligned; no vector passes a function boundary by
// value: reduction_math.h says why).
#define CPPNN_LOAD(v, p) std::memcpy(&(v), (p), sizeof(vf))
#define CPPNN_STORE(p, v) std::memcpy((p), &(v), sizeof(vf))

// One register tile of both products, out[r * kBQ + c * kW ...] (r < R, c < C) =
//   (corr ? out[...] * corr[c * kW ...] : 0) + sum_e a[r * a_row + e * a_step] * b[e * kBQ + c * kW ...]
// The scores: a = k (a_row its row stride, a_step 1), b = the packed queries, no corr. The
// values: a = v (a_row 1, a_step its row stride), b = the probabilities, corr the online
// softmax's rescaling of what the earlier key blocks added.
template <int R, int C>
inline void product_tile(const float* a, int64_t a_row, int64_t a_step, const float* b, int64_t steps,
                         const float* corr, float* out) {
  vf acc[R][C];
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r)
#pragma GCC unroll 4
    for (int c = 0; c < C; ++c) {
      acc[r][c] = vf{};
      if (corr) {
        vf o, f;
        CPPNN_LOAD(o, out + r * kBQ + c * kW);
        CPPNN_LOAD(f, corr + c * kW);
        acc[r][c] = o * f;
      }
    }
  for (int64_t e = 0; e < steps; ++e) {
    vf x[C];
#pragma GCC unroll 4
    for (int c = 0; c < C; ++c) CPPNN_LOAD(x[c], b + e * kBQ + c * kW);
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) {
      const vf ab = vf{} + a[r * a_row + e * a_step];
#pragma GCC unroll 4
      for (int c = 0; c < C; ++c) acc[r][c] += ab * x[c];
    }
  }
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r)
#pragma GCC unroll 4
    for (int c = 0; c < C; ++c) CPPNN_STORE(out + r * kBQ + c * kW, acc[r][c]);
}

// Calls tile.template operator()<R, C>(row, vector) over rows [0, rows) and query vectors
// [0, vectors): full kRows x kCols tiles, then the edges with fewer.
template <int R, typename Tile>
inline void tile_columns(int64_t row, int vectors, Tile& tile) {
  int c = 0;
  for (; c + kCols <= vectors; c += kCols) tile.template operator()<R, kCols>(row, c);
  switch (vectors - c) {
    case 1: tile.template operator()<R, 1>(row, c); break;
    case 2: if constexpr (kCols > 2) tile.template operator()<R, 2>(row, c); break;
    case 3: if constexpr (kCols > 3) tile.template operator()<R, 3>(row, c); break;
    default: break;
  }
}

template <typename Tile>
inline void tile_all(int64_t rows, int vectors, Tile& tile) {
  int64_t r = 0;
  for (; r + kRows <= rows; r += kRows) tile_columns<kRows>(r, vectors, tile);
  if constexpr (kRows > 4)
    if (r + 4 <= rows) tile_columns<4>(r, vectors, tile), r += 4;
  if (r + 2 <= rows) tile_columns<2>(r, vectors, tile), r += 2;
  if (r < rows) tile_columns<1>(r, vectors, tile);
}

// One thread's blocks.
struct Scratch {
  std::vector<float> storage;
  float *qt, *st, *ot, *m, *l, *base, *corr, *sum;
  Scratch(int64_t d, int64_t dv) {
    // 64-byte aligned pieces.
    const size_t pieces[] = {size_t(d) * kBQ, size_t(kBK) * kBQ, size_t(dv) * kBQ, kBQ, kBQ, kBQ, kBQ, kBQ};
    size_t total = 16;
    for (size_t n : pieces) total += (n + 15) / 16 * 16;
    storage.resize(total);
    float* p = storage.data();
    p += (16 - (reinterpret_cast<uintptr_t>(p) / sizeof(float)) % 16) % 16;
    float** out[] = {&qt, &st, &ot, &m, &l, &base, &corr, &sum};
    for (size_t i = 0; i < 8; ++i) {
      *out[i] = p;
      p += (pieces[i] + 15) / 16 * 16;
    }
  }
};

struct Inputs {
  const float *q, *k, *v;
  const float* mask;
  const uint8_t* cond;
  float* out;
};

// Masks of the key block [k0, k0 + kn) on St (cols queries from q0): the cond's fill, the
// added mask, then the causal diagonal (hidden: -inf, whatever the others gave).
void mask_block(const AttentionProblem& p, const Inputs& in, int64_t b, int64_t h, int64_t q0, int64_t qn,
                int64_t cols, int64_t k0, int64_t kn, float* st) {
  if (p.conditioned) {
    const uint8_t* c = in.cond + b * p.cond.b + h * p.cond.h;
    for (int64_t j = 0; j < kn; ++j) {
      const uint8_t* row = c + (k0 + j) * p.cond.k;
      float* s = st + j * kBQ;
      if (p.cond.q == 0) {
        if ((row[0] != 0) == p.fill_where_true) std::fill(s, s + cols, p.fill);
      } else {
        for (int64_t i = 0; i < qn; ++i)
          if ((row[(q0 + i) * p.cond.q] != 0) == p.fill_where_true) s[i] = p.fill;
      }
    }
  }
  if (p.masked) {
    const float* m = in.mask + b * p.mask.b + h * p.mask.h;
    for (int64_t j = 0; j < kn; ++j) {
      const float* row = m + (k0 + j) * p.mask.k;
      float* s = st + j * kBQ;
      if (p.mask.q == 0) {
        const float x = row[0];
        for (int64_t i = 0; i < cols; ++i) s[i] += x;
      } else {
        for (int64_t i = 0; i < qn; ++i) s[i] += row[(q0 + i) * p.mask.q];
      }
    }
  }
  if (p.causal) {
    // Key k0 + j is hidden from query q0 + i when k0 + j > q0 + i + offset.
    for (int64_t j = 0; j < kn; ++j) {
      const int64_t hidden = std::min(cols, k0 + j - p.causal_offset - q0);
      float* s = st + j * kBQ;
      for (int64_t i = 0; i < hidden; ++i) s[i] = -std::numeric_limits<float>::infinity();
    }
  }
}

void run_task(const AttentionProblem& p, const Inputs& in, int64_t b, int64_t h, int64_t q0, Scratch& s) {
  const int64_t qn = std::min<int64_t>(kBQ, p.sq - q0);
  const int vectors = int((qn + kW - 1) / kW);
  const int64_t cols = int64_t(vectors) * kW;
  const float inf = std::numeric_limits<float>::infinity();

  // Qt: the block's queries, transposed and scaled; the columns past the last query 0.
  const float* q = in.q + p.q.offset + b * p.q.sb + h * p.q.sh + q0 * p.q.ss;
  for (int64_t e = 0; e < p.d; ++e) {
    float* row = s.qt + e * kBQ;
    for (int64_t i = 0; i < qn; ++i) row[i] = q[i * p.q.ss + e] * p.scale;
    for (int64_t i = qn; i < cols; ++i) row[i] = 0;
  }
  std::fill(s.ot, s.ot + p.dv * kBQ, 0.0f);
  std::fill(s.m, s.m + kBQ, -inf);
  std::fill(s.l, s.l + kBQ, 0.0f);

  // Causal: no key past the block's last query's diagonal.
  int64_t kend = p.sk;
  if (p.causal) kend = std::min(kend, q0 + qn + p.causal_offset);
  const float* kh = in.k + p.k.offset + b * p.k.sb + h * p.k.sh;
  const float* vh = in.v + p.v.offset + b * p.v.sb + h * p.v.sh;
  for (int64_t k0 = 0; k0 < kend; k0 += kBK) {
    const int64_t kn = std::min<int64_t>(kBK, kend - k0);
    const float* kb = kh + k0 * p.k.ss;
    auto scores = [&]<int R, int C>(int64_t j, int c) {
      product_tile<R, C>(kb + j * p.k.ss, p.k.ss, 1, s.qt + c * kW, p.d, nullptr, s.st + j * kBQ + c * kW);
    };
    tile_all(kn, vectors, scores);
    mask_block(p, in, b, h, q0, qn, cols, k0, kn, s.st);

    // The online softmax, a vector of queries at a time: the block's maxima (NaN never
    // taken, as the unfused softmax), the new base, the factor for what was summed so far.
    for (int c = 0; c < vectors; ++c) {
      vf mx = vf{} - inf, x;
      for (int64_t j = 0; j < kn; ++j) {
        CPPNN_LOAD(x, s.st + j * kBQ + c * kW);
        mx = x > mx ? x : mx;
      }
      vf m, base, corr;
      CPPNN_LOAD(m, s.m + c * kW);
      const vf n = m > mx ? m : mx;
      base = n == (vf{} - inf) ? vf{} : n;  // all -inf so far: exp(-inf - 0) = 0, no NaN
      corr = m - base;
      exp_lanes<vf, vi>(corr);
      CPPNN_STORE(s.m + c * kW, n);
      CPPNN_STORE(s.base + c * kW, base);
      CPPNN_STORE(s.corr + c * kW, corr);
      vf sum = vf{};
      for (int64_t j = 0; j < kn; ++j) {
        float* row = s.st + j * kBQ + c * kW;
        CPPNN_LOAD(x, row);
        x -= base;
        exp_lanes<vf, vi>(x);
        sum += x;
        CPPNN_STORE(row, x);
      }
      vf l;
      CPPNN_LOAD(l, s.l + c * kW);
      l = l * corr + sum;
      CPPNN_STORE(s.l + c * kW, l);
    }

    const float* vb = vh + k0 * p.v.ss;
    auto values = [&]<int R, int C>(int64_t e, int c) {
      product_tile<R, C>(vb + e, 1, p.v.ss, s.st + c * kW, kn, s.corr + c * kW, s.ot + e * kBQ + c * kW);
    };
    tile_all(p.dv, vectors, values);
  }

  // out = Ot^T / l; l is 0 when every key was at -inf and NaN after a NaN or +inf score:
  // the unfused softmax's NaN row, or zeros where the graph replaced NaN probabilities by 0.
  float* out = in.out + p.out.offset + b * p.out.sb + h * p.out.sh + q0 * p.out.ss;
  for (int64_t i = 0; i < qn; ++i) {
    const float l = s.l[i];
    const bool nan_row = !(l > 0.0f);
    float* o = out + i * p.out.ss;
    if (nan_row && p.zero_nan_rows) {
      std::fill(o, o + p.dv, 0.0f);
      continue;
    }
    const float inv = nan_row ? std::numeric_limits<float>::quiet_NaN() : 1.0f / l;
    for (int64_t e = 0; e < p.dv; ++e) o[e] = s.ot[e * kBQ + i] * inv;
  }
}

class AttentionKernel final : public CpuKernel {
 public:
  explicit AttentionKernel(const KernelContext& cx) : p_(attention_problem(cx.graph, cx.node)) {
    for (size_t i = 0; i < 3; ++i)
      if (cx.inputs[i]->data_type != DataType::float32)
        fail(ErrorKind::NotSupportedError, "attention: the CPU kernel takes float32 q, k and v");
    if (cx.outputs[0]->data_type != DataType::float32)
      fail(ErrorKind::NotSupportedError, "attention: the CPU kernel writes float32");
    if (p_.masked && cx.inputs[3]->data_type != DataType::float32)
      fail(ErrorKind::NotSupportedError, "attention: the CPU kernel takes a float32 mask");
    if (p_.conditioned && cx.inputs[4]->data_type != DataType::uint8)
      fail(ErrorKind::NotSupportedError, "attention: the cond is not uint8");
  }

  void run(const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out) override {
    Inputs x{in[0]->data_as<float>(), in[1]->data_as<float>(), in[2]->data_as<float>(),
             p_.masked ? in[3]->data_as<float>() : nullptr,
             p_.conditioned ? in[4]->data_as<uint8_t>() : nullptr, out[0]->data_as<float>()};
    const AttentionProblem& p = p_;
    const int64_t blocks = (p.sq + kBQ - 1) / kBQ;
    const size_t tasks = size_t(p.batch * p.heads * blocks);
    parallel_for(tasks, 1, [&](size_t begin, size_t end) {
      Scratch s(p.d, p.dv);
      for (size_t t = begin; t < end; ++t) {
        const int64_t bh = int64_t(t) / blocks, qb = int64_t(t) % blocks;
        run_task(p, x, bh / p.heads, bh % p.heads, qb * kBQ, s);
      }
    });
  }

 private:
  AttentionProblem p_;
};

#undef CPPNN_LOAD
#undef CPPNN_STORE

}  // namespace

KernelFactory attention_kernel_factory() {
  return [](const KernelContext& cx) -> std::unique_ptr<CpuKernel> { return std::make_unique<AttentionKernel>(cx); };
}

CPPNN_ISA_END
}  // namespace cppnn::detail
