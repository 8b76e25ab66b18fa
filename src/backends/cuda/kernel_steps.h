#pragma once
// What the per-family files whose ops run on our hand-written kernels (kernels/math.cu,
// kernels/movement.cu) share: the two kinds of step (one precomputed launch, or a list of
// launches with the tables they read) and the helpers their decisions and descriptions use.
// The families: reduction_ops.cpp, pooling_ops.cpp, normalization_ops.cpp,
// movement_ops.cpp and gather_ops.cpp (device_ops.h lists them all).
#include <algorithm>
#include <cstring>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "backends/cuda/device_ops.h"
#include "backends/cuda/kernels/math_kernels.h"
#include "backends/cuda/kernels/movement_kernels.h"

namespace cppnn::detail::cuda {

// ---- steps on the kernels of kernels/math.cu --------------------------------------------

kernels::MathType math_type(DataType t);

bool has_input(const Node& node, size_t i);

// Yes, unless an input or the output is empty or the data type is not one the kernels take.
DeviceDecision basic_decision(const GraphIR& g, const Node& node, bool floats_only);

// A step that launches one precomputed kernel call.
class KernelStep final : public Step {
 public:
  using Launch = std::function<cudaError_t(cudaStream_t)>;
  KernelStep(const Node& node, std::string description, Launch launch)
      : Step(node), description_(std::move(description)), launch_(std::move(launch)) {}
  bool on_device() const override { return true; }
  void run(cudaStream_t stream) override { CPPNN_CUDA_CHECK(launch_(stream)); }
  std::string describe() const override { return description_; }

 private:
  std::string description_;
  Launch launch_;
};

std::string type_text(DataType t);

const void* optional_input(const std::vector<Placement>& places, const Node& node, size_t i,
                           const char* what);

// ---- steps on the kernels of kernels/movement.cu ----------------------------------------

bool aligned(const void* p, size_t bytes);

// A GPU step made of launches fixed at creation.
class MovementStep final : public Step {
 public:
  MovementStep(const Node& node, std::shared_ptr<Device> device)
      : Step(node), device_(std::move(device)), max_blocks_(int(device_->max_grid_blocks())) {}

  bool on_device() const override { return true; }
  void run(cudaStream_t stream) override {
    for (const auto& launch : launches_) launch(stream);
  }
  std::string describe() const override { return description_; }

  const Device& device() const { return *device_; }
  int max_blocks() const { return max_blocks_; }
  void add(std::function<void(cudaStream_t)> launch) { launches_.push_back(std::move(launch)); }
  void describe_as(std::string text) { description_ = std::move(text); }

  // A device copy of a host table, uploaded on the plan's stream (the plan synchronizes
  // before the first compute; the host bytes stay alive with the step).
  template <typename T>
  const T* upload(const std::vector<T>& table, const std::string& what) {
    host_tables_.emplace_back(table.size() * sizeof(T));
    std::memcpy(host_tables_.back().data(), table.data(), table.size() * sizeof(T));
    owned_.emplace_back(std::max<size_t>(host_tables_.back().size(), 1), what);
    if (!table.empty())
      CPPNN_CUDA_CHECK(cudaMemcpyAsync(owned_.back().data(), host_tables_.back().data(),
                                       host_tables_.back().size(), cudaMemcpyHostToDevice,
                                       device_->stream));
    return reinterpret_cast<const T*>(owned_.back().data());
  }

 private:
  std::shared_ptr<Device> device_;
  int max_blocks_;
  std::vector<std::function<void(cudaStream_t)>> launches_;
  std::vector<std::vector<uint8_t>> host_tables_;
  std::vector<DeviceBuffer> owned_;
  std::string description_;
};

const Dims& in_shape(const GraphIR& g, const Node& n, size_t i = 0);
const Dims& out_shape(const GraphIR& g, const Node& n, size_t i = 0);

DeviceDecision yes();
DeviceDecision no(std::string why);

bool any_empty(const GraphIR& g, const Node& n);

void* address(const std::vector<Placement>& places, OperandId id, const Node& n, const char* what);

// The start of a movement step's description: the node, its shapes and data type.
std::string head(const GraphIR& g, const Node& n);

movement::ElemType elem_type(DataType t);

}  // namespace cppnn::detail::cuda
