// Host folding of tensors known at import time. Sizes are bounded by kFoldLimit, so plain
// per-element index arithmetic is fast enough and keeps every op obviously correct.
#include "onnx/host_ops.h"

#include <cmath>
#include <cstring>
#include <limits>
#include <type_traits>

#include "core/checked.h"
#include "core/dispatch.h"
#include "graph/validation.h"

namespace cppnn::onnx_import {

namespace {

// half is only storage: arithmetic on it happens in float.
template <typename T>
using Compute = std::conditional_t<std::is_same_v<T, half>, float, T>;

std::vector<int64_t> row_major_strides(const Dims& shape) {
  std::vector<int64_t> s(shape.size(), 1);
  for (size_t d = shape.size(); d-- > 1;) s[d - 1] = s[d] * shape[d];
  return s;
}

// Strides of `in` read as if it had `out`'s shape (numpy broadcasting: 0 where repeated).
// Every caller's indices are bounded by `out`, so `in` must broadcast to it: otherwise the
// strides would reach past `in`'s data (or, with more dims than `out`, past `s`).
std::vector<int64_t> broadcast_strides(const Dims& in, const Dims& out) {
  if (!detail::unidirectionally_broadcastable(in, out))
    fail(ErrorKind::TypeError, "shape " + to_string(in) + " cannot be broadcast to " +
                                   to_string(out));
  std::vector<int64_t> s(out.size(), 0);
  std::vector<int64_t> st = row_major_strides(in);
  size_t offset = out.size() - in.size();
  for (size_t i = 0; i < in.size(); ++i) s[offset + i] = in[i] == 1 ? 0 : st[i];
  return s;
}

int64_t dot(const std::vector<int64_t>& coords, const std::vector<int64_t>& strides) {
  int64_t o = 0;
  for (size_t d = 0; d < coords.size(); ++d) o += coords[d] * strides[d];
  return o;
}

// Calls fn(flat_index, coords) for every element of `shape` in row-major order.
template <typename F>
void for_each_index(const Dims& shape, F&& fn) {
  size_t n = element_count(shape);
  std::vector<int64_t> c(shape.size(), 0);
  for (size_t i = 0; i < n; ++i) {
    fn(i, c);
    for (size_t d = shape.size(); d-- > 0;) {
      if (++c[d] < shape[d]) break;
      c[d] = 0;
    }
  }
}

// out[coords] = src[source(coords)], copying whole elements of any type.
template <typename F>
Tensor remap(const Tensor& src, const Dims& out_shape, F&& source) {
  Tensor out(src.data_type(), out_shape);
  size_t es = element_size(src.data_type());
  const auto* s = static_cast<const uint8_t*>(src.data());
  auto* d = out.data_as<uint8_t>();
  for_each_index(out_shape, [&](size_t i, const std::vector<int64_t>& c) {
    std::memcpy(d + i * es, s + size_t(source(c)) * es, es);
  });
  return out;
}

template <typename D, typename S>
D convert(S value) {
  using C = Compute<S>;
  if constexpr (std::is_same_v<D, half>) {
    return half(float(C(value)));
  } else if constexpr (std::is_floating_point_v<C> && std::is_integral_v<D>) {
    // Out-of-range float -> int is undefined in C++; saturate instead.
    double x = double(C(value));
    if (std::isnan(x)) return D(0);
    if (x <= double(std::numeric_limits<D>::lowest())) return std::numeric_limits<D>::lowest();
    if (x >= double(std::numeric_limits<D>::max())) return std::numeric_limits<D>::max();
    return D(x);
  } else {
    return D(C(value));
  }
}

template <typename C>
C arithmetic(HostBinary op, C x, C y) {
  if constexpr (std::is_integral_v<C>) {
    // Wrap like the hardware does instead of signed-overflow undefined behaviour.
    using U = std::make_unsigned_t<C>;
    switch (op) {
      case HostBinary::add:
        return C(U(x) + U(y));
      case HostBinary::sub:
        return C(U(x) - U(y));
      case HostBinary::mul:
        return C(U(x) * U(y));
      case HostBinary::div:
        if (y == 0) fail(ErrorKind::DataError, "integer division by zero in a constant");
        if constexpr (std::is_signed_v<C>)
          if (y == C(-1)) return C(U(0) - U(x));
        return C(x / y);
      case HostBinary::mod:
      case HostBinary::fmod: {
        if (y == 0) fail(ErrorKind::DataError, "integer Mod by zero in a constant");
        if constexpr (std::is_signed_v<C>)
          if (y == C(-1)) return C(0);  // lowest % -1 overflows in C++
        C r = C(x % y);
        if constexpr (std::is_signed_v<C>)
          if (op == HostBinary::mod && r != 0 && ((r < 0) != (y < 0))) r = C(r + y);
        return r;
      }
      default:
        break;
    }
  } else {
    switch (op) {
      case HostBinary::add:
        return x + y;
      case HostBinary::sub:
        return x - y;
      case HostBinary::mul:
        return x * y;
      case HostBinary::div:
        return x / y;
      case HostBinary::mod:
      case HostBinary::fmod: {
        C r = C(std::fmod(double(x), double(y)));
        if (op == HostBinary::mod && r != C(0) && ((r < C(0)) != (y < C(0)))) r = C(r + y);
        return r;
      }
      default:
        break;
    }
  }
  if (op == HostBinary::max) return x > y ? x : y;
  return x < y ? x : y;
}

template <typename C>
bool compare(HostBinary op, C x, C y) {
  switch (op) {
    case HostBinary::equal:
      return x == y;
    case HostBinary::greater:
      return x > y;
    case HostBinary::less:
      return x < y;
    case HostBinary::greater_or_equal:
      return x >= y;
    case HostBinary::less_or_equal:
      return x <= y;
    case HostBinary::logical_and:
      return x != C(0) && y != C(0);
    case HostBinary::logical_or:
      return x != C(0) || y != C(0);
    default:
      return (x != C(0)) != (y != C(0));
  }
}

}  // namespace

std::vector<int64_t> int64_values(const Tensor& t) {
  std::vector<int64_t> out(t.element_count());
  visit_type(t.data_type(), [&]<typename T>() {
    const T* p = t.data_as<T>();
    for (size_t i = 0; i < out.size(); ++i) out[i] = convert<int64_t>(p[i]);
  });
  return out;
}

Tensor int64_tensor(const Dims& shape, const std::vector<int64_t>& values) {
  return Tensor::from(DataType::int64, shape, values);
}

bool is_comparison(HostBinary op) {
  return op != HostBinary::add && op != HostBinary::sub && op != HostBinary::mul &&
         op != HostBinary::div && op != HostBinary::mod && op != HostBinary::fmod &&
         op != HostBinary::max && op != HostBinary::min;
}

Tensor host_binary(HostBinary op, const Tensor& a, const Tensor& b) {
  if (a.data_type() != b.data_type())
    fail(ErrorKind::TypeError, "operands have different data types (" +
                                   std::string(to_string(a.data_type())) + " and " +
                                   std::string(to_string(b.data_type())) + ")");
  Dims out_shape = detail::broadcast_shapes(a.shape(), b.shape());
  std::vector<int64_t> sa = broadcast_strides(a.shape(), out_shape);
  std::vector<int64_t> sb = broadcast_strides(b.shape(), out_shape);
  bool logical = is_comparison(op);
  Tensor out(logical ? DataType::uint8 : a.data_type(), out_shape);
  visit_type(a.data_type(), [&]<typename T>() {
    using C = Compute<T>;
    const T* pa = a.data_as<T>();
    const T* pb = b.data_as<T>();
    for_each_index(out_shape, [&](size_t i, const std::vector<int64_t>& c) {
      C x = C(pa[dot(c, sa)]), y = C(pb[dot(c, sb)]);
      if (logical)
        out.data_as<uint8_t>()[i] = compare(op, x, y) ? 1 : 0;
      else
        out.data_as<T>()[i] = T(arithmetic(op, x, y));
    });
  });
  return out;
}

Tensor host_logical_not(const Tensor& t) {
  Tensor out(DataType::uint8, t.shape());
  visit_type(t.data_type(), [&]<typename T>() {
    const T* p = t.data_as<T>();
    for (size_t i = 0; i < t.element_count(); ++i)
      out.data_as<uint8_t>()[i] = Compute<T>(p[i]) == Compute<T>(0) ? 1 : 0;
  });
  return out;
}

Tensor host_cast(const Tensor& t, DataType to, bool to_bool) {
  Tensor out(to_bool ? DataType::uint8 : to, t.shape());
  visit_type(t.data_type(), [&]<typename S>() {
    const S* src = t.data_as<S>();
    visit_type(out.data_type(), [&]<typename D>() {
      D* dst = out.data_as<D>();
      for (size_t i = 0; i < t.element_count(); ++i)
        dst[i] = to_bool ? D(Compute<S>(src[i]) != Compute<S>(0) ? 1 : 0) : convert<D>(src[i]);
    });
  });
  return out;
}

Tensor host_where(const Tensor& condition, const Tensor& a, const Tensor& b) {
  if (a.data_type() != b.data_type())
    fail(ErrorKind::TypeError, "the two value operands of Where have different data types");
  Dims out_shape =
      detail::broadcast_shapes(detail::broadcast_shapes(condition.shape(), a.shape()), b.shape());
  std::vector<int64_t> sc = broadcast_strides(condition.shape(), out_shape);
  std::vector<int64_t> sa = broadcast_strides(a.shape(), out_shape);
  std::vector<int64_t> sb = broadcast_strides(b.shape(), out_shape);
  std::vector<int64_t> cond = int64_values(condition);
  Tensor out(a.data_type(), out_shape);
  size_t es = element_size(a.data_type());
  for_each_index(out_shape, [&](size_t i, const std::vector<int64_t>& c) {
    bool take_a = cond[size_t(dot(c, sc))] != 0;
    const auto* src = static_cast<const uint8_t*>(take_a ? a.data() : b.data());
    int64_t at = take_a ? dot(c, sa) : dot(c, sb);
    std::memcpy(out.data_as<uint8_t>() + i * es, src + size_t(at) * es, es);
  });
  return out;
}

Tensor host_gather(const Tensor& data, const Tensor& indices, size_t axis) {
  const Dims& ds = data.shape();
  const Dims& is = indices.shape();
  if (axis >= ds.size()) fail(ErrorKind::DataError, "gather of a constant: axis out of range");
  Dims out_shape(ds.begin(), ds.begin() + int64_t(axis));
  out_shape.insert(out_shape.end(), is.begin(), is.end());
  out_shape.insert(out_shape.end(), ds.begin() + int64_t(axis) + 1, ds.end());
  std::vector<int64_t> idx = int64_values(indices);
  int64_t dim = ds[axis];
  for (int64_t& v : idx) {
    if (v < -dim || v >= dim)
      fail(ErrorKind::DataError, "gather index " + std::to_string(v) +
                                     " is out of range for a "
                                     "dimension of size " +
                                     std::to_string(dim));
    if (v < 0) v += dim;
  }
  std::vector<int64_t> dstr = row_major_strides(ds);
  std::vector<int64_t> istr = row_major_strides(is);
  size_t ir = is.size();
  return remap(data, out_shape, [&](const std::vector<int64_t>& c) {
    int64_t o = 0, flat = 0;
    for (size_t d = 0; d < axis; ++d) o += c[d] * dstr[d];
    for (size_t d = 0; d < ir; ++d) flat += c[axis + d] * istr[d];
    o += idx[size_t(flat)] * dstr[axis];
    for (size_t d = axis + 1; d < ds.size(); ++d) o += c[d + ir - 1] * dstr[d];
    return o;
  });
}

Tensor host_slice(const Tensor& data, const std::vector<int64_t>& starts,
                  const std::vector<int64_t>& steps, const Dims& out_shape) {
  const Dims& in = data.shape();
  if (starts.size() != in.size() || steps.size() != in.size() || out_shape.size() != in.size())
    fail(ErrorKind::DataError, "slice of a constant: the starts, steps and sizes must have its rank");
  // The first and the last element read on each axis must lie inside it; the ones between
  // do then too.
  for (size_t d = 0; d < in.size(); ++d) {
    if (out_shape[d] == 0) continue;
    int64_t last = detail::checked_add(
        starts[d], detail::checked_mul(out_shape[d] - 1, steps[d], "slice of a constant"),
        "slice of a constant");
    if (starts[d] < 0 || starts[d] >= in[d] || last < 0 || last >= in[d])
      fail(ErrorKind::DataError, "slice of a constant: axis " + std::to_string(d) +
                                     " reads outside its " + std::to_string(in[d]) + " elements");
  }
  std::vector<int64_t> st = row_major_strides(data.shape());
  return remap(data, out_shape, [&](const std::vector<int64_t>& c) {
    int64_t o = 0;
    for (size_t d = 0; d < c.size(); ++d) o += (starts[d] + c[d] * steps[d]) * st[d];
    return o;
  });
}

Tensor host_concat(const std::vector<const Tensor*>& parts, size_t axis) {
  Dims out_shape = parts.at(0)->shape();
  if (axis >= out_shape.size())
    fail(ErrorKind::DataError, "concat of constants: axis out of range");
  out_shape[axis] = 0;
  for (const Tensor* p : parts) {
    const Dims& s = p->shape();
    bool fits = s.size() == out_shape.size() && p->data_type() == parts[0]->data_type();
    for (size_t d = 0; fits && d < s.size(); ++d) fits = d == axis || s[d] == out_shape[d];
    if (!fits)
      fail(ErrorKind::DataError, "concat of constants: shape " + to_string(s) +
                                     " does not match the first part's off axis " +
                                     std::to_string(axis));
    out_shape[axis] = detail::checked_add(out_shape[axis], s[axis], "concat of constants",
                                          ErrorKind::DataError);
  }
  Tensor out(parts[0]->data_type(), out_shape);
  size_t es = element_size(out.data_type());
  size_t outer = 1, inner = 1;
  for (size_t d = 0; d < axis; ++d) outer *= size_t(out_shape[d]);
  for (size_t d = axis + 1; d < out_shape.size(); ++d) inner *= size_t(out_shape[d]);
  auto* dst = out.data_as<uint8_t>();
  for (size_t o = 0; o < outer; ++o)
    for (const Tensor* p : parts) {
      size_t block = size_t(p->shape()[axis]) * inner * es;
      std::memcpy(dst, static_cast<const uint8_t*>(p->data()) + o * block, block);
      dst += block;
    }
  return out;
}

Tensor host_expand(const Tensor& t, const Dims& out_shape) {
  std::vector<int64_t> s = broadcast_strides(t.shape(), out_shape);
  return remap(t, out_shape, [&](const std::vector<int64_t>& c) { return dot(c, s); });
}

Tensor host_transpose(const Tensor& t, const std::vector<int64_t>& perm) {
  std::vector<bool> seen(t.shape().size(), false);
  if (perm.size() != seen.size())
    fail(ErrorKind::DataError, "transpose of a constant: the permutation must have its rank");
  for (int64_t p : perm) {
    if (p < 0 || size_t(p) >= seen.size() || seen[size_t(p)])
      fail(ErrorKind::DataError, "transpose of a constant: " + to_string(perm) +
                                     " is not a permutation");
    seen[size_t(p)] = true;
  }
  std::vector<int64_t> in_strides = row_major_strides(t.shape());
  Dims out_shape(perm.size());
  std::vector<int64_t> s(perm.size());
  for (size_t i = 0; i < perm.size(); ++i) {
    out_shape[i] = t.shape()[size_t(perm[i])];
    s[i] = in_strides[size_t(perm[i])];
  }
  return remap(t, out_shape, [&](const std::vector<int64_t>& c) { return dot(c, s); });
}

}  // namespace cppnn::onnx_import
