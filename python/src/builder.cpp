// MLOperand and the builder's own methods: input, constant, build.
#include "builder.h"

#include <nanobind/stl/map.h>
#include <nanobind/stl/optional.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>

namespace webnn_py {
namespace {

using namespace nb::literals;
using cppnn::DataType;
using cppnn::ErrorKind;
using cppnn::Operand;

// The raw form: bytes from any object with the buffer protocol, as WebNN's
// constant(descriptor, buffer).
Operand constant_from_buffer(PyGraphBuilder& b, nb::handle data_type,
                             const std::vector<int64_t>& shape, nb::handle buffer) {
  DataType type = to_data_type(data_type, "constant: data_type");
  Py_buffer view;
  if (PyObject_GetBuffer(buffer.ptr(), &view, PyBUF_C_CONTIGUOUS) != 0) {
    PyErr_Clear();
    cppnn::fail(ErrorKind::TypeError,
                "constant: buffer must be a contiguous object with the buffer protocol "
                "(bytes, bytearray, numpy array)");
  }
  struct Release {
    Py_buffer* v;
    ~Release() { PyBuffer_Release(v); }
  } release{&view};
  return b.builder.constant(type, cppnn::Dims(shape.begin(), shape.end()), view.buf,
                            size_t(view.len));
}

// The numpy form: an array keeps its data type unless data_type asks for another one;
// Python scalars and lists become arrays of data_type (default float32).
Operand constant_from_value(PyGraphBuilder& b, nb::handle value, nb::handle data_type) {
  nb::object np = nb::module_::import_("numpy");
  bool array_like = nb::hasattr(value, "__dlpack__") || PyObject_CheckBuffer(value.ptr());
  nb::object array = nb::borrow(value);
  if (!data_type.is_none()) {
    DataType type = to_data_type(data_type, "constant: data_type");
    array = np.attr("asarray")(value, "dtype"_a = std::string(cppnn::to_string(type)));
  } else if (!array_like) {
    if (nb::isinstance<nb::str>(value) || value.is_none())
      cppnn::fail(ErrorKind::TypeError,
                  "constant: value must be a number, a list or an array, got " +
                      nb::cast<std::string>(nb::repr(value)));
    array = np.attr("asarray")(value, "dtype"_a = "float32");
  }
  cppnn::Tensor t = to_tensor(array, "constant: value", false);
  return b.builder.constant(t.data_type(), t.shape(), t.data(), t.byte_size());
}

}  // namespace

void bind_builder(nb::module_& m, BuilderClass& cls) {
  nb::class_<Operand>(m, "MLOperand", "An operand of a graph being built: its shape and data type.")
      .def_prop_ro(
          "shape",
          [](const Operand& o) { return std::vector<int64_t>(o.shape().begin(), o.shape().end()); })
      .def_prop_ro("data_type",
                   [](const Operand& o) { return std::string(cppnn::to_string(o.data_type())); })
      .def_prop_ro("rank", &Operand::rank)
      .def("__repr__", [](const Operand& o) {
        if (!o.valid()) return std::string("MLOperand(invalid)");
        std::string shape = "[";
        for (int64_t d : o.shape()) shape += (shape.size() > 1 ? ", " : "") + std::to_string(d);
        return "MLOperand(shape=" + shape + "], data_type='" +
               std::string(cppnn::to_string(o.data_type())) + "')";
      });

  cls.def(
         "__init__",
         [](PyGraphBuilder* self, std::optional<cppnn::Context> context) {
           new (self) PyGraphBuilder{cppnn::GraphBuilder(), std::move(context)};
         },
         "context"_a = nb::none(), "A builder; with a context, build() compiles the graph for it.")
      .def(
          "input",
          [](PyGraphBuilder& b, const std::string& name, const std::vector<int64_t>& shape,
             nb::handle data_type) {
            return b.builder.input(name, to_data_type(data_type, "input '" + name + "': data_type"),
                                   cppnn::Dims(shape.begin(), shape.end()));
          },
          "name"_a, "shape"_a, "data_type"_a = "float32",
          "A named graph input. data_type: 'float32', ... or a numpy dtype.")
      .def("constant", &constant_from_buffer, "data_type"_a, "shape"_a, "buffer"_a,
           "A constant of data_type and shape from the bytes of a buffer (copied).")
      .def("constant", &constant_from_value, "value"_a, "data_type"_a = nb::none(),
           "A constant from a numpy array (any of the 8 WebNN types, float16 included), an\n"
           "object with __dlpack__, a list or a Python scalar (0-D). The data is copied.\n"
           "data_type converts the value (default: the array's type; float32 for lists and\n"
           "scalars).")
      .def(
          "build",
          [](PyGraphBuilder& b, const std::map<std::string, Operand>& outputs) {
            cppnn::Graph graph = b.builder.build(outputs);
            if (b.context) {
              nb::gil_scoped_release release;
              b.context->compile(graph);
            }
            return graph;
          },
          "outputs"_a,
          "Builds the graph of the named outputs (name -> MLOperand). The builder cannot be\n"
          "used afterwards.");
}

}  // namespace webnn_py
