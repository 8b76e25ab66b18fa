// The warp-wide operations of kernels/mma.cuh, emulated on the host for the kernels run
// with each block's threads as fibers (host_grid.h): mma.m16n8k16, ldmatrix.x4 (and .trans)
// and the shuffle, from the PTX ISA's fragment layouts. Shared by the host tests of the
// tensor-core convolution and of the attention kernel.
#include <cstring>

#include "cuda_host/host_kernel_support.h"
#include "backends/cuda/kernels/mma.cuh"

namespace cppnn::detail::cuda {

namespace {

constexpr int kMaxWarps = 32;  // blocks of up to 1024 threads

struct WarpFragments {
  uint32_t a[32][4];
  uint32_t b[32][2];
};
WarpFragments warp_fragments[kMaxWarps];

float half_of(uint32_t reg, int high) {
  __half_raw raw;
  raw.x = uint16_t(high ? reg >> 16 : reg & 0xFFFFu);
  return __half2float(__half(raw));
}

}  // namespace

// D = A * B + C for mma.m16n8k16.row.col with float accumulation, every lane of the warp
// passing its fragments: the PTX ISA's layouts, with g = lane / 4 and t = lane % 4.
void host_mma_m16n8k16(float c[4], const uint32_t a[4], const uint32_t b[2]) {
  const unsigned lane = threadIdx.x % 32;
  WarpFragments& f = warp_fragments[threadIdx.x / 32];
  std::memcpy(f.a[lane], a, sizeof f.a[lane]);
  std::memcpy(f.b[lane], b, sizeof f.b[lane]);
  host_sync_warp();  // every lane's fragments are in
  // A[row][k]: lane (row % 8) * 4 + (k % 8) / 2, register (row >= 8) + 2 * (k >= 8).
  auto A = [&](int row, int k) {
    return half_of(f.a[(row % 8) * 4 + (k % 8) / 2][(row >= 8 ? 1 : 0) + (k >= 8 ? 2 : 0)], k % 2);
  };
  // B[k][col]: lane col * 4 + (k % 8) / 2, register (k >= 8).
  auto B = [&](int k, int col) { return half_of(f.b[col * 4 + (k % 8) / 2][k >= 8 ? 1 : 0], k % 2); };
  const int g = int(lane / 4), t = int(lane % 4);
  const int rows[4] = {g, g, g + 8, g + 8}, cols[4] = {2 * t, 2 * t + 1, 2 * t, 2 * t + 1};
  float d[4];
  for (int e = 0; e < 4; ++e) {
    float s = c[e];
    for (int k = 0; k < 16; ++k) s += A(rows[e], k) * B(k, cols[e]);
    d[e] = s;
  }
  host_sync_warp();  // every lane has read the others' fragments
  std::memcpy(c, d, sizeof d);
}

namespace {

const void* warp_rows[kMaxWarps][32];
float warp_values[kMaxWarps][32];

}  // namespace

// ldmatrix.x4: lane l's register j gets row l / 4, halves 2 (l % 4) and + 1, of matrix j,
// whose 8 rows lanes 8 j .. 8 j + 7 supply.
void host_ldmatrix_x4(uint32_t r[4], const void* row) {
  const unsigned lane = threadIdx.x % 32;
  const void** rows = warp_rows[threadIdx.x / 32];
  rows[lane] = row;
  host_sync_warp();  // every lane's row address is in
  uint32_t got[4];
  for (int j = 0; j < 4; ++j) {
    const uint16_t* src = static_cast<const uint16_t*>(rows[8 * j + lane / 4]);
    got[j] = uint32_t(src[2 * (lane % 4)]) | uint32_t(src[2 * (lane % 4) + 1]) << 16;
  }
  host_sync_warp();  // every lane has read the others' addresses
  for (int j = 0; j < 4; ++j) r[j] = got[j];
}

// ldmatrix.x4.trans: lane l's register j gets rows 2 (l % 4) and + 1, column l / 4, of
// matrix j, whose 8 rows lanes 8 j .. 8 j + 7 supply.
void host_ldmatrix_x4_trans(uint32_t r[4], const void* row) {
  const unsigned lane = threadIdx.x % 32;
  const void** rows = warp_rows[threadIdx.x / 32];
  rows[lane] = row;
  host_sync_warp();
  uint32_t got[4];
  for (int j = 0; j < 4; ++j) {
    const uint16_t* r0 = static_cast<const uint16_t*>(rows[8 * j + 2 * (lane % 4)]);
    const uint16_t* r1 = static_cast<const uint16_t*>(rows[8 * j + 2 * (lane % 4) + 1]);
    got[j] = uint32_t(r0[lane / 4]) | uint32_t(r1[lane / 4]) << 16;
  }
  host_sync_warp();
  for (int j = 0; j < 4; ++j) r[j] = got[j];
}

float host_shfl_xor(float v, int mask) {
  const unsigned lane = threadIdx.x % 32;
  float* values = warp_values[threadIdx.x / 32];
  values[lane] = v;
  host_sync_warp();  // every lane's value is in
  float got = values[lane ^ unsigned(mask)];
  host_sync_warp();  // every lane has read its partner's
  return got;
}

}  // namespace cppnn::detail::cuda
