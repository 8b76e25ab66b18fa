#pragma once
// Constants in a oneDNN primitive's layout, shared by the CPU plans that pack the same
// tensor the same way: a dynamic graph's plan per shape (the 8 kept per graph) then packs
// and holds BERT-base's 440 MB of weights once, not once per shape, and a new shape's plan
// skips the packing (most of its build time). Keyed by the constant's Tensor object, which
// every plan using an entry holds through its graph, so no other tensor can take its address
// while the entry is alive; an entry lives while a plan's kernel holds it.
#include <cstddef>
#include <functional>
#include <memory>

#include <oneapi/dnnl/dnnl.hpp>

#include "cppnn/tensor.h"

namespace cppnn::detail {

struct PackedConstant {
  dnnl::memory memory;
};

// The packed form of `data` from `user` into `prim`: made by `pack` unless a live plan made
// it already.
std::shared_ptr<const PackedConstant> shared_packed_constant(const Tensor& data, const dnnl::memory::desc& user,
                                                             const dnnl::memory::desc& prim,
                                                             const std::function<dnnl::memory()>& pack);

// How many times `pack` ran in this process (the tests' view of the sharing).
size_t packed_constants_made();

}  // namespace cppnn::detail
