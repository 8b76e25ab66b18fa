// What code written for rustnn's Python API (pywebnn) calls beyond the spec's names: the
// context's accelerated / power_preference / backend_info() / op_support_limits() /
// convert_to_onnx(), and the builder's where_, global_average_pool, global_max_pool,
// squeeze, unsqueeze and hard_swish(alpha, beta). Each is built from cppnn's own ops and
// API; the spec's spellings stay as they are (ops_<family>.cpp, module.cpp, tensors.cpp).
#include <nanobind/stl/filesystem.h>
#include <nanobind/stl/optional.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>

#include <cmath>
#include <filesystem>

#include "builder.h"
#include "cppnn/op_support.h"

namespace webnn_py {
namespace {

using namespace nb::literals;
using cppnn::Context;
using cppnn::ErrorKind;
using cppnn::Operand;
using Ints = std::optional<std::vector<int64_t>>;

// What create_context was asked (module.cpp keeps it on the instance), or `fallback`.
template <typename T>
T requested(nb::handle context, const char* name, T fallback) {
  if (!nb::hasattr(context, name)) return fallback;
  return nb::cast<T>(context.attr(name));
}

nb::dict tensor_limits(const cppnn::TensorLimits& l) {
  nb::list types;
  for (cppnn::DataType t : l.data_types) types.append(std::string(cppnn::to_string(t)));
  nb::dict rank;
  rank["min"] = l.min_rank;
  rank["max"] = l.max_rank;
  nb::dict d;
  d["dataTypes"] = types;
  d["rankRange"] = rank;
  return d;
}

// The spec's MLOpSupportLimits with its camelCase member names (as rustnn returns it).
nb::dict op_support_limits(const Context& c) {
  if (c.destroyed())
    cppnn::fail(ErrorKind::InvalidStateError, "op_support_limits: the context has been destroyed");
  cppnn::OpSupportLimits limits = cppnn::op_support_limits();
  nb::dict out;
  out["preferredInputLayout"] =
      limits.preferred_input_layout == cppnn::InputLayout::nchw ? "nchw" : "nhwc";
  out["maxTensorByteLength"] = limits.max_tensor_byte_length;
  out["input"] = tensor_limits(limits.input);
  out["constant"] = tensor_limits(limits.constant);
  out["output"] = tensor_limits(limits.output);
  for (const auto& [op, operands] : limits.ops) {
    nb::dict d;
    for (const auto& [name, l] : operands) d[name.c_str()] = tensor_limits(l);
    out[op.c_str()] = d;
  }
  return out;
}

nb::dict backend_info(nb::handle self) {
  const Context& c = nb::cast<const Context&>(self);
  std::string backend = c.backend();
  bool accelerated = backend != "cpu";
  bool asked = requested<bool>(self, "_accelerated_requested", true);
  std::string device_type = requested<std::string>(self, "_device_type", "auto");
  nb::dict info;
  info["backend"] = backend;
  info["accelerated_available"] = accelerated;
  info["accelerated_requested"] = asked;
  info["device_type"] = device_type;
  info["power_preference"] = requested<std::string>(self, "_power_preference", "default");
  // cppnn never returns zeros for want of a backend: the CPU always runs the graph.
  info["backend_available"] = true;
  info["backend_reason"] = c.backend_reason();
  // What graphs compiled on it compute in ('auto' resolved; create_context's precision).
  info["precision"] = std::string(to_string(c.precision()));
  if (device_type == "npu")
    info["fallback_reason"] = "cppnn has no NPU backend; using '" + backend + "': " +
                              c.backend_reason();
  else if (asked && !accelerated)
    info["fallback_reason"] = c.backend_reason();
  return info;
}

// squeeze(input, axes=None): drops the listed size-1 axes (negative ones count from the
// end), or every size-1 axis, as a reshape.
Operand squeeze(PyGraphBuilder& b, const Operand& x, const Ints& axes) {
  const cppnn::Dims& shape = x.shape();
  int64_t rank = int64_t(shape.size());
  std::vector<bool> drop(shape.size(), false);
  if (axes) {
    for (int64_t a : *axes) {
      int64_t axis = a < 0 ? a + rank : a;
      if (axis < 0 || axis >= rank)
        cppnn::fail(ErrorKind::TypeError, "squeeze: axis " + std::to_string(a) +
                                              " is out of range for rank " + std::to_string(rank));
      if (shape[size_t(axis)] != 1)
        cppnn::fail(ErrorKind::TypeError, "squeeze: axis " + std::to_string(a) + " has size " +
                                              std::to_string(shape[size_t(axis)]) + ", not 1");
      drop[size_t(axis)] = true;
    }
  } else {
    for (size_t i = 0; i < shape.size(); ++i) drop[i] = shape[i] == 1;
  }
  std::vector<int64_t> out;
  for (size_t i = 0; i < shape.size(); ++i)
    if (!drop[i]) out.push_back(shape[i]);
  return b.builder.reshape(x, to_u32s(out, "squeeze", "shape"));
}

// unsqueeze(input, axes): inserts size-1 axes at the listed positions of the output
// (negative ones count from its end), as ONNX's Unsqueeze and rustnn do.
Operand unsqueeze(PyGraphBuilder& b, const Operand& x, const std::vector<int64_t>& axes) {
  const cppnn::Dims& shape = x.shape();
  int64_t rank = int64_t(shape.size() + axes.size());
  std::vector<bool> inserted(size_t(rank), false);
  for (int64_t a : axes) {
    int64_t axis = a < 0 ? a + rank : a;
    if (axis < 0 || axis >= rank || inserted[size_t(axis)])
      cppnn::fail(ErrorKind::TypeError, "unsqueeze: axis " + std::to_string(a) +
                                            " is out of range or repeated for output rank " +
                                            std::to_string(rank));
    inserted[size_t(axis)] = true;
  }
  std::vector<int64_t> out;
  size_t next = 0;
  for (int64_t i = 0; i < rank; ++i) out.push_back(inserted[size_t(i)] ? 1 : shape[next++]);
  return b.builder.reshape(x, to_u32s(out, "unsqueeze", "shape"));
}

}  // namespace

void bind_rustnn_compat(nb::class_<Context>& context_class, BuilderClass& cls) {
  context_class
      .def_prop_ro(
          "accelerated", [](const Context& c) { return c.backend() != "cpu"; },
          "True when the context computes on an accelerator (rustnn's MLContext.accelerated;\n"
          "backend_info() says why not).")
      .def_prop_ro(
          "power_preference",
          [](nb::handle self) {
            return requested<std::string>(self, "_power_preference", "default");
          },
          "The power preference it was created with.")
      .def("backend_info", &backend_info,
           "A dict: backend ('cpu' or 'cuda'), accelerated_available, accelerated_requested,\n"
           "device_type, power_preference, backend_available, backend_reason, precision\n"
           "('float32' or 'float16': what graphs compiled on it compute in), and\n"
           "fallback_reason when acceleration was asked for and not had.")
      .def("op_support_limits", &op_support_limits,
           "The spec's opSupportLimits(): preferredInputLayout, maxTensorByteLength, the\n"
           "limits of input, constant and output operands, and per op (WebNN name, e.g.\n"
           "'conv2d', 'reduceSum') per operand ('input', 'filter', ..., 'output') a dict of\n"
           "dataTypes and rankRange, read from cppnn's op table.")
      .def(
          "convert_to_onnx",
          [](const Context&, const cppnn::Graph& g, const std::filesystem::path& path) {
            nb::gil_scoped_release release;
            cppnn::export_onnx(g, path.string());
          },
          "graph"_a, "output_path"_a,
          "Writes the graph as an ONNX model (opset 17), as webnn.export_onnx does.");

  cls.def(
      "where_",
      [](PyGraphBuilder& b, const Operand& condition, const Operand& true_value,
         const Operand& false_value) {
        // rustnn takes a condition of any type (non-zero is true); the spec's where takes
        // uint8 only, so another type is compared with zero first.
        Operand c = condition;
        if (c.data_type() != cppnn::DataType::uint8) {
          c = b.builder.not_equal(c, b.builder.constant(c.data_type(), 0.0));
        }
        return b.builder.where(c, true_value, false_value);
      },
      "condition"_a, "true_value"_a, "false_value"_a,
      "where (rustnn's name): true_value where condition is non-zero, else false_value;\n"
      "condition may have any data type.");
  cls.def(
      "global_average_pool",
      [](PyGraphBuilder& b, const Operand& x, const std::string& layout) {
        cppnn::Pool2dOptions o;  // the window: the whole spatial size
        o.layout = parse_layout(layout, "global_average_pool", "layout");
        return b.builder.average_pool2d(x, o);
      },
      "input"_a, "layout"_a = "nchw", "average_pool2d over the whole spatial size (1x1 out).");
  cls.def(
      "global_max_pool",
      [](PyGraphBuilder& b, const Operand& x, const std::string& layout) {
        cppnn::Pool2dOptions o;
        o.layout = parse_layout(layout, "global_max_pool", "layout");
        return b.builder.max_pool2d(x, o);
      },
      "input"_a, "layout"_a = "nchw", "max_pool2d over the whole spatial size (1x1 out).");
  cls.def("squeeze", &squeeze, "input"_a, "axes"_a = nb::none(),
          "Removes size-1 axes (all of them, or those listed), as a reshape.");
  cls.def("unsqueeze", &unsqueeze, "input"_a, "axes"_a,
          "Inserts size-1 axes at the listed positions of the output, as a reshape.");
  // An overload beside the spec's hard_swish(x) (no options), reached when alpha or beta
  // is passed: x * hard_sigmoid(x, alpha, beta); the defaults are hardSwish itself.
  cls.def(
      "hard_swish",
      [](PyGraphBuilder& b, const Operand& x, double alpha, double beta) {
        if (std::abs(alpha - 1.0 / 6.0) < 1e-7 && beta == 0.5) return b.builder.hard_swish(x);
        cppnn::HardSigmoidOptions o;
        o.alpha = alpha;
        o.beta = beta;
        return b.builder.mul(x, b.builder.hard_sigmoid(x, o));
      },
      "input"_a, "alpha"_a = 1.0 / 6.0, "beta"_a = 0.5,
      "x * max(0, min(1, alpha * x + beta)) (rustnn's options; the defaults are hardSwish).");
}

}  // namespace webnn_py
