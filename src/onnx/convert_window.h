#pragma once
// ONNX's spatial attributes (pads as [begins..., ends...], auto_pad, strides, dilations)
// resolved into WebNN's explicit window options: shared by the converters of the conv and
// pooling families (convert_conv.cpp, convert_pooling.cpp).
#include <cstdint>
#include <string>
#include <vector>

#include "onnx/import_context.h"

namespace cppnn::onnx_import {

// The extent of `kernel` taps `dilation` apart; DataError past int64 (a malformed model).
int64_t dilated_span(int64_t kernel, int64_t dilation);

// Strides, dilations and begin/end pads of the spatial dimensions, auto_pad resolved.
struct Window {
  std::vector<int64_t> kernel, strides, dilations, begins, ends;
};

// Attribute `name` with one value per spatial dimension (`n` of them), `fallback` for each
// when absent; DataError when it has another length.
std::vector<int64_t> ints_of_length(const NodeContext& ctx, const std::string& name, size_t n,
                                    int64_t fallback);

// The node's window over the spatial dimensions `spatial_in` for a kernel of `kernel` taps.
Window window_of(const NodeContext& ctx, const Dims& spatial_in, std::vector<int64_t> kernel);

// WebNN's [beginH, endH, beginW, endW].
std::vector<uint32_t> webnn_padding(const NodeContext& ctx, const Window& w);

// The dimensions after batch and channels (NCHW).
Dims spatial_of(const Dims& shape);

}  // namespace cppnn::onnx_import
