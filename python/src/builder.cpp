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

// A data type as the first argument of constant(): a name ('float32'), a numpy dtype or a
// numpy scalar type (numpy.float32). No value is one of these.
bool is_data_type(nb::handle value) {
  if (nb::isinstance<nb::str>(value) || nb::isinstance<nb::type_object>(value)) return true;
  return nb::isinstance(value, nb::module_::import_("numpy").attr("dtype"));
}

// The numpy form: an array keeps its data type unless data_type asks for another one;
// Python scalars and lists become arrays of data_type (default float32). shape (rustnn's
// argument) reshapes it, keeping the element count.
Operand constant_from_value(PyGraphBuilder& b, nb::handle value, nb::handle shape,
                            nb::handle data_type) {
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
  if (!shape.is_none()) {
    std::vector<int64_t> dims;
    if (!nb::try_cast(shape, dims))
      cppnn::fail(ErrorKind::TypeError, "constant: shape must be a list of ints, got " +
                                            nb::cast<std::string>(nb::repr(shape)));
    cppnn::Dims wanted(dims.begin(), dims.end());
    size_t count = cppnn::element_count(wanted);
    array = np.attr("asarray")(array);
    size_t have = nb::cast<size_t>(array.attr("size"));
    if (count != have)
      cppnn::fail(ErrorKind::TypeError, "constant: shape " + cppnn::to_string(wanted) + " has " +
                                            std::to_string(count) + " elements, the value " +
                                            std::to_string(have));
    array = np.attr("reshape")(array, nb::cast(dims));
  }
  cppnn::Tensor t = to_tensor(array, "constant: value", false);
  return b.builder.constant(t.data_type(), t.shape(), t.data(), t.byte_size());
}

// constant() in every form the spec and rustnn write:
//   constant(value, shape=None, data_type=None)    numpy form (rustnn's signature)
//   constant(data_type, shape, buffer)             the spec's constant(descriptor, buffer)
//   constant(data_type, number)                    the spec's constant(type, value): 0-D
// The first argument tells them apart: no value is a data type.
Operand constant(PyGraphBuilder& b, nb::handle value, nb::handle shape, nb::handle data_type,
                 nb::handle buffer) {
  if (value.is_none() && !buffer.is_none()) {  // all keywords: data_type=, shape=, buffer=
    std::vector<int64_t> dims;
    if (!nb::try_cast(shape, dims))
      cppnn::fail(ErrorKind::TypeError,
                  "constant(data_type, shape, buffer): shape must be a list of ints, got " +
                      nb::cast<std::string>(nb::repr(shape)));
    return constant_from_buffer(b, data_type, dims, buffer);
  }
  // A lone string is a bad value, not a data type without its shape.
  if (!value.is_none() && is_data_type(value) && !shape.is_none()) {
    if (!buffer.is_none() && !data_type.is_none())
      cppnn::fail(ErrorKind::TypeError, "constant: both a buffer and a third argument were given");
    nb::handle bytes = buffer.is_none() ? data_type : buffer;
    if (bytes.is_none() && (nb::isinstance<nb::int_>(shape) || nb::isinstance<nb::float_>(shape) ||
                            nb::isinstance<nb::bool_>(shape)))
      return constant_from_value(b, shape, nb::none(), value);
    std::vector<int64_t> dims;
    if (!nb::try_cast(shape, dims))
      cppnn::fail(ErrorKind::TypeError,
                  "constant(data_type, shape, buffer): shape must be a list of ints, got " +
                      nb::cast<std::string>(nb::repr(shape)));
    if (bytes.is_none())
      cppnn::fail(ErrorKind::TypeError, "constant(data_type, shape, buffer): the buffer is missing");
    return constant_from_buffer(b, value, dims, bytes);
  }
  if (!buffer.is_none())
    cppnn::fail(ErrorKind::TypeError,
                "constant: buffer= goes with data_type= and shape= (the spec's form), not a value");
  // constant(value, data_type): cppnn's earlier positional form.
  if (data_type.is_none() && !shape.is_none() && is_data_type(shape))
    return constant_from_value(b, value, nb::none(), shape);
  return constant_from_value(b, value, shape, data_type);
}

}  // namespace

void bind_builder(nb::module_& m, BuilderClass& cls) {
  // dynamic_attr: input() keeps the input's name on its operand (rustnn's MLOperand.name).
  nb::class_<Operand>(m, "MLOperand", "An operand of a graph being built: its shape and data type.",
                      nb::dynamic_attr())
      .def_prop_ro(
          "name",
          [](nb::handle self) -> nb::object {
            return nb::hasattr(self, "_name") ? nb::object(self.attr("_name")) : nb::none();
          },
          "The input's name for an operand made by input(), else None.")
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
            nb::object operand = nb::cast(
                b.builder.input(name, to_data_type(data_type, "input '" + name + "': data_type"),
                                cppnn::Dims(shape.begin(), shape.end())));
            operand.attr("_name") = name;
            return operand;
          },
          "name"_a, "shape"_a, "data_type"_a = "float32",
          "A named graph input. data_type: 'float32', ... or a numpy dtype.")
      .def("constant", &constant, "value"_a = nb::none(), "shape"_a = nb::none(),
           "data_type"_a = nb::none(), "buffer"_a = nb::none(),
           "A constant (the data is copied), in the spec's forms and rustnn's:\n"
           "  constant(value, shape=None, data_type=None): a numpy array (any of the 8 WebNN\n"
           "    types, float16 included), an object with __dlpack__, a list or a Python scalar\n"
           "    (0-D). data_type converts the value (default: the array's type; float32 for\n"
           "    lists and scalars); shape reshapes it (same element count).\n"
           "  constant(data_type, shape, buffer): the bytes of any object with the buffer\n"
           "    protocol (the spec's constant(descriptor, buffer)).\n"
           "  constant(data_type, number): a 0-D constant (the spec's constant(type, value)).")
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
