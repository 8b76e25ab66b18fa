#include "backends/cuda/matmul_geometry.h"

#include "core/dims.h"

namespace cppnn::detail::cuda {

namespace {

int64_t product(const Dims& d) { return dims_product(d, 0, d.size()); }

}  // namespace

MatmulGeometry matmul_geometry(const Dims& a, const Dims& b, const Dims& out) {
  MatmulGeometry geo;
  size_t rank = out.size(), nb = rank - 2;
  geo.m = out[rank - 2], geo.n = out[rank - 1], geo.k = a.back();
  auto batch_dims = [nb](const Dims& d) {
    Dims p(nb - (d.size() - 2), 1);
    p.insert(p.end(), d.begin(), d.end() - 2);
    return p;
  };
  Dims ab = batch_dims(a), bb = batch_dims(b), ob(out.begin(), out.end() - 2);
  int64_t a_mat = geo.m * geo.k, b_mat = geo.k * geo.n, d_mat = geo.m * geo.n;
  if (product(bb) == 1) {
    // Every row of every batch of `a` meets the same matrix: one tall product.
    geo.m *= product(ab);
    geo.calls.push_back({0, 0, 0});
    return geo;
  }
  // The longest run of trailing batch dimensions over which each operand is either whole
  // (stride one matrix) or broadcast (stride 0) becomes the strided batch of one call; the
  // dimensions before it are looped over.
  auto uniform = [&](const Dims& x, size_t j, bool& whole) {
    bool all_whole = true, all_one = true;
    for (size_t i = j; i < nb; ++i) all_whole &= x[i] == ob[i], all_one &= x[i] == 1;
    whole = all_whole;
    return all_whole || all_one;
  };
  size_t j = 0;
  bool a_whole = false, b_whole = false;
  while (j < nb && !(uniform(ab, j, a_whole) && uniform(bb, j, b_whole))) ++j;
  geo.batch = dims_product(ob, j, nb);
  geo.a_stride = geo.batch > 1 && a_whole ? a_mat : 0;
  geo.b_stride = geo.batch > 1 && b_whole ? b_mat : 0;

  std::vector<int64_t> a_step(nb, 0), b_step(nb, 0);  // in matrices
  for (size_t i = 0; i < nb; ++i) {
    a_step[i] = ab[i] == 1 ? 0 : dims_product(ab, i + 1, nb);
    b_step[i] = bb[i] == 1 ? 0 : dims_product(bb, i + 1, nb);
  }
  int64_t outer = dims_product(ob, 0, j);
  for (int64_t flat = 0; flat < outer; ++flat) {
    int64_t rest = flat, ao = 0, bo = 0;
    for (size_t i = j; i-- > 0;) {
      int64_t idx = rest % ob[i];
      rest /= ob[i];
      ao += idx * a_step[i], bo += idx * b_step[i];
    }
    geo.calls.push_back({ao * a_mat, bo * b_mat, flat * geo.batch * d_mat});
  }
  return geo;
}

MatmulGeometry gemm_geometry(const Node& node, const Dims& a, const Dims& out) {
  MatmulGeometry geo;
  geo.a_trans = node.attrs.b("aTranspose");
  geo.b_trans = node.attrs.b("bTranspose");
  geo.m = out[0], geo.n = out[1], geo.k = geo.a_trans ? a[0] : a[1];
  geo.calls.push_back({0, 0, 0});
  return geo;
}

// The same products with one matrix per call: the fallback when cuBLASLt has no
// algorithm for a strided batch with a broadcast (stride 0) operand.
MatmulGeometry unbatched(const MatmulGeometry& geo) {
  MatmulGeometry one = geo;
  one.batch = 1;
  one.a_stride = one.b_stride = 0;
  one.calls.clear();
  int64_t d_mat = geo.m * geo.n;
  for (const MatmulGeometry::Offsets& c : geo.calls)
    for (int64_t i = 0; i < geo.batch; ++i)
      one.calls.push_back({c.a + i * geo.a_stride, c.b + i * geo.b_stride, c.d + i * d_mat});
  return one;
}

}  // namespace cppnn::detail::cuda
