// The host-memory defaults of the backend interface's device tensors (backend.h): what the
// CPU backend uses as is, and what a GPU backend overrides.
#include <cstdlib>
#include <cstring>

#include "runtime/backend.h"

namespace cppnn::detail {

std::shared_ptr<BackendTensor> Backend::create_tensor(size_t bytes) {
  auto t = std::make_shared<BackendTensor>();
  size_t rounded = (bytes + 63) / 64 * 64;
  void* p = rounded ? std::aligned_alloc(64, rounded) : nullptr;
  if (rounded && !p)
    fail(ErrorKind::OperationError, "create_tensor: out of host memory for " +
                                        std::to_string(bytes) + " bytes");
  if (p) std::memset(p, 0, rounded);
  t->owner = std::shared_ptr<void>(p, [](void* q) { std::free(q); });
  t->data = p;
  t->bytes = bytes;
  return t;
}

std::shared_ptr<BackendTensor> Backend::wrap_tensor(void* data, size_t bytes,
                                                    std::shared_ptr<void> owner) {
  auto t = std::make_shared<BackendTensor>();
  t->data = data;
  t->bytes = bytes;
  t->owner = std::move(owner);
  return t;
}

void Backend::write_tensor(BackendTensor& tensor, const void* src, size_t bytes) {
  std::memcpy(tensor.data, src, bytes);
}

void Backend::read_tensor(const BackendTensor& tensor, void* dst, size_t bytes) {
  std::memcpy(dst, tensor.data, bytes);
}

void Plan::dispatch(const GraphIR& graph, const BackendTensors& inputs,
                    const BackendTensors& outputs) {
  NamedTensors in;
  for (const auto& [name, t] : inputs) {
    const OperandDescriptor& d = graph.desc(graph.inputs.at(name));
    in[name] = Tensor::wrap(d.data_type, d.shape, t->data, nullptr);
  }
  NamedTensors out = compute(in);
  for (const auto& [name, t] : outputs) {
    const Tensor& r = out.at(name);
    if (r.byte_size()) std::memcpy(t->data, r.data(), r.byte_size());
  }
}

}  // namespace cppnn::detail
