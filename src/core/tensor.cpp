#include "cppnn/tensor.h"

#include <cstdlib>

#include "core/dispatch.h"

namespace cppnn {

namespace {
std::shared_ptr<uint8_t> allocate(size_t bytes, bool zero = true) {
  size_t rounded = (bytes + 63) / 64 * 64;
  if (rounded == 0) rounded = 64;
  void* p = std::aligned_alloc(64, rounded);
  if (!p) fail(ErrorKind::OperationError, "out of host memory allocating " + std::to_string(bytes) + " bytes");
  if (zero) std::memset(p, 0, rounded);
  return std::shared_ptr<uint8_t>(static_cast<uint8_t*>(p), [](uint8_t* q) { std::free(q); });
}
}  // namespace

Tensor::Tensor(DataType type, Dims shape) : type_(type), shape_(std::move(shape)) {
  elements_ = cppnn::element_count(shape_);
  bytes_ = cppnn::byte_size(type_, elements_);
  data_ = allocate(bytes_);
}

Tensor::Tensor(DataType type, Dims shape, const void* data, size_t bytes)
    : Tensor(type, std::move(shape)) {
  if (bytes != bytes_)
    fail(ErrorKind::DataError, "tensor of " + std::string(to_string(type_)) + " " +
                                   to_string(shape_) + " needs " + std::to_string(bytes_) +
                                   " bytes, got " + std::to_string(bytes));
  if (bytes) std::memcpy(data_.get(), data, bytes);
}

Tensor Tensor::wrap(DataType type, Dims shape, void* data, std::shared_ptr<void> owner) {
  Tensor t;
  t.type_ = type;
  t.shape_ = std::move(shape);
  t.elements_ = cppnn::element_count(t.shape_);
  t.bytes_ = cppnn::byte_size(type, t.elements_);
  t.data_ = std::shared_ptr<uint8_t>(std::move(owner), static_cast<uint8_t*>(data));
  return t;
}

Tensor Tensor::uninitialized(DataType type, Dims shape) {
  Tensor t;
  t.type_ = type;
  t.shape_ = std::move(shape);
  t.elements_ = cppnn::element_count(t.shape_);
  t.bytes_ = cppnn::byte_size(type, t.elements_);
  t.data_ = allocate(t.bytes_, false);
  return t;
}

std::vector<double> Tensor::to_doubles() const {
  std::vector<double> out(elements_);
  if (type_ == DataType::bfloat16) {  // a storage type, not templated (core/dispatch.h)
    for (size_t i = 0; i < elements_; ++i)
      out[i] = double(bfloat16_to_float(data_as<uint16_t>()[i]));
    return out;
  }
  visit_type(type_, [&]<typename T>() {
    const T* p = data_as<T>();
    for (size_t i = 0; i < elements_; ++i) out[i] = to_double(p[i]);
  });
  return out;
}

Tensor Tensor::reshaped(Dims shape) const {
  if (cppnn::element_count(shape) != elements_)
    fail(ErrorKind::DataError, "cannot reshape " + to_string(shape_) + " to " + to_string(shape));
  Tensor t = *this;
  t.shape_ = std::move(shape);
  return t;
}

Tensor Tensor::clone() const {
  Tensor t(type_, shape_);
  if (bytes_) std::memcpy(t.data_.get(), data_.get(), bytes_);
  return t;
}

}  // namespace cppnn
