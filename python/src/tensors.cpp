// WebNN's MLTensor in Python: device tensors (cppnn::DeviceTensor) made, written, read and
// dispatched through the context, and DLPack both ways without copies:
// - export: MLTensor.__dlpack__ / __dlpack_device__ (kDLCUDA for GPU tensors, kDLCPU for
//   host ones), so that torch / cupy / numpy .from_dlpack(t) see the tensor's memory;
// - import: context.wrap_tensor(obj) and dispatch() take any object with __dlpack__ of the
//   context's device, C-contiguous, of the graph's data type and shape, in place.
//
// Streams. cppnn's CUDA backend runs on its own (non-blocking) stream, which Python cannot
// name, so the simple rule that is always right is used:
// - exporting, cppnn is the producer: __dlpack__(stream=s) waits on the host for the
//   context's queued work unless s == -1 (the consumer asks for no synchronization);
// - importing, cppnn is the consumer: it asks the producer for stream=1 (CUDA's legacy
//   default stream, as the DLPack protocol allows), then waits on the host for the
//   producer's device (Context::synchronize_external: the CUDA backend synchronizes the
//   device's primary context, which covers producers that ignore the stream argument),
//   runs the dispatch and waits for it before returning, so that the producer may read the
//   outputs and reuse the inputs at once.
// The GPU a tensor is on (DLPack's device_id) is Context::device_of's answer. The module
// itself never calls CUDA: the backend does, in the plugin.
#include <nanobind/stl/pair.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>

#include <cstdint>
#include <map>
#include <memory>

#include "builder.h"

namespace webnn_py {
namespace {

using namespace nb::literals;
using cppnn::Context;
using cppnn::DeviceTensor;
using cppnn::ErrorKind;
using cppnn::fail;

// DLPack device types (dlpack.h's DLDeviceType).
constexpr int kDLCPU = 1, kDLCUDA = 2, kDLCUDAHost = 3, kDLCUDAManaged = 13;

std::string device_name(int type) {
  switch (type) {
    case kDLCPU:
      return "CPU";
    case kDLCUDA:
      return "CUDA device";
    case kDLCUDAHost:
      return "CUDA pinned host";
    case kDLCUDAManaged:
      return "CUDA managed";
    default:
      return "DLPack device type " + std::to_string(type);
  }
}

std::string value_type(nb::handle value) { return nb::cast<std::string>(nb::inst_name(value)); }

std::string dims_string(const cppnn::Dims& dims) {
  std::string s = "[";
  for (int64_t d : dims) s += (s.size() > 1 ? ", " : "") + std::to_string(d);
  return s + "]";
}

// ---- MLTensor

struct PyMLTensor {
  // Shared with the DLPack views handed out: while one lives, destroy() only drops this
  // reference and the memory goes with the last view.
  std::shared_ptr<DeviceTensor> tensor;
  Context context;
  // Imported memory (wrap_tensor): the producer is synchronized around every use.
  bool imported = false;
  int import_device_type = kDLCPU;
  int import_device_id = 0;
  // MLTensorDescriptor's usage flags. The spec defaults them to false; create_tensor
  // defaults them to true (cppnn's tensors always were readable and writable, and rustnn
  // documents True), and a flag set false is enforced as the spec says (TypeError).
  bool readable = true;
  bool writable = true;
  bool exportable_to_gpu = false;
};

void check_usage(const PyMLTensor& t, bool write, const char* what) {
  if (write ? !t.writable : !t.readable)
    fail(ErrorKind::TypeError, std::string(what) + ": the tensor is not " +
                                   (write ? "writable (created with writable=False)"
                                          : "readable (created with readable=False)"));
}

DeviceTensor& live(const PyMLTensor& t, const std::string& what) {
  if (!t.tensor || !t.tensor->valid())
    fail(ErrorKind::InvalidStateError, what + ": the tensor has been destroyed");
  return *t.tensor;
}

bool is_cuda(Context& context) { return context.backend() == "cuda"; }

// Imported memory, and which GPUs' producers to wait for before cppnn reads or writes it:
// for each GPU, the memory of one import there (the backend finds its device).
struct Imports {
  bool any = false;
  std::map<int, const void*> gpus;
  void note(int device_type, int device_id, const void* data) {
    any = true;
    if (device_type == kDLCUDA || device_type == kDLCUDAManaged) gpus.emplace(device_id, data);
  }
  // Without the GIL.
  void wait_for_producers(Context& context) const {
    for (const auto& [gpu, data] : gpus) context.synchronize_external(data);
  }
};

// Calls obj.__dlpack__(**kwargs) asking for a versioned capsule first, as the array API
// says, and an unversioned one from producers that predate max_version.
nb::object call_dlpack(nb::handle obj, bool with_stream) {
  nb::object method = obj.attr("__dlpack__");
  auto kwargs = [&](bool versioned) {
    nb::dict d;
    if (with_stream) d["stream"] = 1;  // CUDA's legacy default stream
    if (versioned) d["max_version"] = nb::make_tuple(1, 0);
    return d;
  };
  try {
    return method(**kwargs(true));
  } catch (nb::python_error& e) {
    if (!e.matches(PyExc_TypeError)) throw;
  }
  return method(**kwargs(false));
}

// Imports `obj` for `context` in place: device, data type, C-contiguity and alignment are
// checked; the DeviceTensor keeps the imported array (hence `obj`'s memory) alive.
template <typename Array>
DeviceTensor import_with(Context& context, nb::handle obj, const std::string& what, Imports& imports,
                         bool writable) {
  if (!nb::hasattr(obj, "__dlpack__"))
    fail(ErrorKind::TypeError, what + " must be an MLTensor or an object with __dlpack__ (a numpy "
                                      "array, a torch tensor, ...), got " + value_type(obj));
  int device_type = kDLCPU, device_id = 0;
  if (nb::hasattr(obj, "__dlpack_device__")) {
    auto dev = nb::cast<std::pair<int, int>>(obj.attr("__dlpack_device__")());
    device_type = dev.first;
    device_id = dev.second;
  }
  bool cuda = is_cuda(context);
  bool device_ok = cuda ? (device_type == kDLCUDA || device_type == kDLCUDAManaged)
                        : device_type == kDLCPU;
  if (!device_ok)
    fail(ErrorKind::TypeError,
         what + " is in " + device_name(device_type) + " memory, the context ('" +
             context.backend() + "') computes on " +
             (cuda ? std::string("the GPU: pass a CUDA tensor of the context's GPU")
                   : std::string("the CPU: pass host memory (e.g. tensor.cpu())")));
  // CUDA producers are asked to order their work before the legacy default stream; the
  // dispatch then waits for the whole device (see the top of the file).
  nb::object source = cuda ? call_dlpack(obj, true) : nb::borrow(obj);
  Array array;
  if (!nb::try_cast(source, array, false)) {
    nb::object np = nb::module_::import_("numpy");
    if (nb::isinstance(obj, np.attr("ndarray"))) {
      nb::object flags = obj.attr("flags");
      if (!nb::cast<bool>(flags.attr("c_contiguous")))
        fail(ErrorKind::TypeError, what + " is a strided (not C-contiguous) numpy array: pass "
                                          "numpy.ascontiguousarray(a), or use write_tensor, which copies");
      if (writable && !nb::cast<bool>(flags.attr("writeable")))
        fail(ErrorKind::TypeError, what + " is a read-only numpy array; cppnn writes it");
    }
    fail(ErrorKind::TypeError, what + " (" + value_type(obj) + ") could not be imported through "
                                      "DLPack" + (writable ? " as writable memory" : ""));
  }
  std::optional<cppnn::DataType> type = data_type_from_dlpack(array.dtype());
  if (!type)
    fail(ErrorKind::TypeError, what + " has data type " + dlpack_type_name(array.dtype()) +
                                   ", which WebNN does not have (float32, float16, int32, uint32, "
                                   "int64, uint64, int8, uint8)");
  cppnn::Dims shape;
  std::vector<int64_t> strides;
  bool contiguous = true;
  int64_t expect = 1;
  for (size_t i = array.ndim(); i-- > 0;) {
    int64_t dim = int64_t(array.shape(i));
    if (dim != 1 && array.stride(i) != expect) contiguous = false;
    expect *= dim;
  }
  for (size_t i = 0; i < array.ndim(); ++i) {
    shape.push_back(int64_t(array.shape(i)));
    strides.push_back(array.stride(i));
  }
  if (!contiguous && cppnn::element_count(shape) > 1)
    fail(ErrorKind::TypeError, what + " is a strided view (shape " + dims_string(shape) +
                                   ", strides " + dims_string(strides) +
                                   " in elements): cppnn uses memory in place, so it must be "
                                   "C-contiguous (numpy.ascontiguousarray(a), tensor.contiguous())");
  void* data = const_cast<void*>(static_cast<const void*>(array.data()));
  size_t esize = cppnn::element_size(*type);
  if (reinterpret_cast<uintptr_t>(data) % esize != 0)
    fail(ErrorKind::TypeError, what + " is not aligned to its " + std::to_string(esize) +
                                   "-byte elements");
  // The owner may go on a thread without the GIL.
  std::shared_ptr<void> owner(new Array(array), [](Array* p) {
    nb::gil_scoped_acquire gil;
    delete p;
  });
  DeviceTensor t = context.wrap_tensor(*type, shape, data, std::move(owner));
  imports.note(device_type, device_id, data);
  return t;
}

DeviceTensor import_dlpack(Context& context, nb::handle obj, const std::string& what,
                           Imports& imports, bool writable) {
  if (writable) return import_with<nb::ndarray<>>(context, obj, what, imports, true);
  return import_with<nb::ndarray<nb::ro>>(context, obj, what, imports, false);
}

// An MLTensor of `context`, or an imported DLPack object.
DeviceTensor bound_tensor(Context& context, nb::handle value, const std::string& what,
                          Imports& imports, bool writable) {
  if (nb::isinstance<PyMLTensor>(value)) {
    PyMLTensor& t = nb::cast<PyMLTensor&>(value);
    DeviceTensor& d = live(t, what);
    if (t.imported) imports.note(t.import_device_type, t.import_device_id, d.data());
    return d;
  }
  return import_dlpack(context, value, what, imports, writable);
}

using Bound = std::vector<std::pair<std::string, DeviceTensor>>;

Bound bind_all(Context& context, const nb::dict& given, const char* kind, Imports& imports) {
  Bound out;
  for (auto [key, value] : given) {
    if (!nb::isinstance<nb::str>(key))
      fail(ErrorKind::TypeError, std::string("dispatch: ") + kind + " names must be strings, got " +
                                     nb::cast<std::string>(nb::repr(key)));
    std::string name = nb::cast<std::string>(key);
    out.emplace_back(name, bound_tensor(context, value, std::string("dispatch: ") + kind + " '" +
                                                            name + "'",
                                        imports, std::string(kind) == "output"));
  }
  return out;
}

void dispatch(Context& context, const cppnn::Graph& graph, const nb::dict& inputs,
              const nb::dict& outputs) {
  // Declared before the GIL is released so that imported arrays are released with it.
  Imports imports;
  Bound in = bind_all(context, inputs, "input", imports);
  Bound out = bind_all(context, outputs, "output", imports);
  // No memory may be both read and written, nor written twice: imported views may overlap
  // without being the same tensor.
  auto overlap = [](const DeviceTensor& a, const DeviceTensor& b) {
    auto p = static_cast<const char*>(a.data()), q = static_cast<const char*>(b.data());
    return a.byte_size() && b.byte_size() && p < q + b.byte_size() && q < p + a.byte_size();
  };
  for (size_t i = 0; i < out.size(); ++i) {
    for (const auto& [iname, t] : in)
      if (overlap(out[i].second, t))
        fail(ErrorKind::TypeError, "dispatch: input '" + iname + "' and output '" + out[i].first +
                                       "' share memory (no tensor may be both read and written)");
    for (size_t j = i + 1; j < out.size(); ++j)
      if (overlap(out[i].second, out[j].second))
        fail(ErrorKind::TypeError, "dispatch: outputs '" + out[i].first + "' and '" + out[j].first +
                                       "' share memory");
  }
  cppnn::NamedDeviceTensors named_in(in.begin(), in.end()), named_out(out.begin(), out.end());
  nb::gil_scoped_release release;
  imports.wait_for_producers(context);
  context.dispatch(graph, named_in, named_out);
  if (imports.any) context.synchronize();
}

PyMLTensor make(Context& context, DeviceTensor t) {
  PyMLTensor py;
  py.tensor = std::make_shared<DeviceTensor>(std::move(t));
  py.context = context;
  return py;
}

// MLTensor.__dlpack__: a view of the tensor's memory that keeps it alive.
nb::object export_dlpack(PyMLTensor& t, nb::handle stream, nb::handle max_version,
                         nb::handle dl_device, nb::handle copy) {
  DeviceTensor& d = live(t, "__dlpack__");
  bool sync = true;
  if (!stream.is_none()) {
    if (!nb::isinstance<nb::int_>(stream))
      fail(ErrorKind::TypeError, "__dlpack__: stream must be an int or None, got " + value_type(stream));
    sync = nb::cast<int64_t>(stream) != -1;
  }
  if (sync) {
    // The consumer reads after the work queued on the tensor (dispatches writing it).
    nb::gil_scoped_release release;
    t.context.synchronize();
  } else if (t.context.destroyed()) {
    fail(ErrorKind::InvalidStateError, "__dlpack__: the context has been destroyed");
  }
  auto* held = new std::shared_ptr<DeviceTensor>(t.tensor);
  nb::capsule owner(held, [](void* p) noexcept {
    delete static_cast<std::shared_ptr<DeviceTensor>*>(p);
  });
  std::vector<size_t> shape(d.shape().begin(), d.shape().end());
  int32_t device_type = d.on_device() ? kDLCUDA : kDLCPU;
  int32_t device_id = d.on_device() ? t.context.device_of(d.data()) : 0;
  nb::ndarray<nb::array_api> view(d.data(), shape.size(), shape.data(), owner, nullptr,
                     dlpack_dtype(d.data_type()), device_type, device_id);
  nb::object array = nb::cast(view);
  nb::dict kwargs;
  if (!max_version.is_none()) kwargs["max_version"] = max_version;
  if (!dl_device.is_none()) kwargs["dl_device"] = dl_device;
  if (!copy.is_none()) kwargs["copy"] = copy;
  return array.attr("__dlpack__")(**kwargs);
}

void write_tensor(Context& c, PyMLTensor& t, nb::handle data) {
  DeviceTensor& d = live(t, "write_tensor");
  check_usage(t, true, "write_tensor");
  cppnn::Tensor host = to_tensor(data, "write_tensor: data", false);
  Imports imports;
  if (t.imported) imports.note(t.import_device_type, t.import_device_id, d.data());
  nb::gil_scoped_release release;
  imports.wait_for_producers(c);
  c.write_tensor(d, host);
}

nb::object read_tensor(Context& c, const PyMLTensor& t) {
  const DeviceTensor& d = live(t, "read_tensor");
  check_usage(t, false, "read_tensor");
  Imports imports;
  if (t.imported) imports.note(t.import_device_type, t.import_device_id, d.data());
  cppnn::Tensor host;
  {
    nb::gil_scoped_release release;
    imports.wait_for_producers(c);
    host = c.read_tensor(d);
  }
  return to_numpy(std::move(host));
}

}  // namespace

void bind_device_tensors(nb::module_& m, nb::class_<Context>& context_class) {
  nb::class_<PyMLTensor>(
      m, "MLTensor",
      "WebNN's MLTensor: a tensor in the memory its context computes in (GPU memory for a\n"
      "CUDA context, host memory for the CPU), so that graphs chained with\n"
      "context.dispatch() pass data without host copies. Made by context.create_tensor() or\n"
      "context.wrap_tensor(); bound to that context.\n\n"
      "DLPack: torch.from_dlpack(t), cupy.from_dlpack(t) and, for a CPU tensor,\n"
      "numpy.from_dlpack(t) see the same memory, with no copy. The view keeps the memory\n"
      "alive (destroy() then frees it only when the last view goes). __dlpack__(stream=s)\n"
      "waits on the host for the context's queued dispatches unless s == -1.")
      .def_prop_ro(
          "shape",
          [](const PyMLTensor& t) {
            const cppnn::Dims& s = live(t, "shape").shape();
            return std::vector<int64_t>(s.begin(), s.end());
          },
          "list of int")
      .def_prop_ro(
          "data_type",
          [](const PyMLTensor& t) { return std::string(cppnn::to_string(live(t, "data_type").data_type())); },
          "'float32', 'float16', ...")
      .def_prop_ro(
          "on_device", [](const PyMLTensor& t) { return live(t, "on_device").on_device(); },
          "True: GPU memory; False: host memory.")
      .def_prop_ro(
          "byte_size", [](const PyMLTensor& t) { return live(t, "byte_size").byte_size(); })
      .def_prop_ro(
          "destroyed", [](const PyMLTensor& t) { return !t.tensor || !t.tensor->valid(); })
      .def_prop_ro(
          "size", [](const PyMLTensor& t) { return cppnn::element_count(live(t, "size").shape()); },
          "The number of elements (rustnn's).")
      .def_prop_ro(
          "device",
          [](const PyMLTensor& t) { return std::string(live(t, "device").on_device() ? "cuda" : "cpu"); },
          "Where its memory is: 'cuda' (GPU memory) or 'cpu' (rustnn's device tensors).")
      .def_prop_ro(
          "backend", [](const PyMLTensor& t) { return t.context.backend(); },
          "The backend of its context: 'cpu' or 'cuda'.")
      .def_prop_ro("readable", [](const PyMLTensor& t) { return t.readable; })
      .def_prop_ro("writable", [](const PyMLTensor& t) { return t.writable; })
      .def_prop_ro("exportable_to_gpu", [](const PyMLTensor& t) { return t.exportable_to_gpu; })
      .def(
          "read", [](PyMLTensor& t) { return read_tensor(t.context, t); },
          "context.read_tensor(self) (rustnn's device-tensor method).")
      .def(
          "write", [](PyMLTensor& t, nb::handle data) { write_tensor(t.context, t, data); },
          "data"_a, "context.write_tensor(self, data) (rustnn's device-tensor method).")
      .def(
          "destroy",
          [](PyMLTensor& t) {
            if (!t.tensor) return;
            std::shared_ptr<DeviceTensor> mine = std::move(t.tensor);
            // Live DLPack views hold the other references: the memory goes with the last.
            if (mine.use_count() == 1) {
              nb::gil_scoped_release release;
              mine->destroy();
            }
          },
          "Frees the memory (after the work queued on it); later use raises RuntimeError.\n"
          "Memory still seen through DLPack views is freed when the last view goes.")
      .def(
          "__dlpack__", &export_dlpack, nb::kw_only(), "stream"_a = nb::none(),
          "max_version"_a = nb::none(), "dl_device"_a = nb::none(), "copy"_a = nb::none(),
          "The DLPack capsule of the tensor's memory (the array API's protocol), no copy.\n"
          "stream: the consumer's stream; cppnn waits on the host for the context's queued\n"
          "work unless it is -1. copy=True is refused (BufferError).")
      .def(
          "__dlpack_device__",
          [](const PyMLTensor& t) {
            const DeviceTensor& d = live(t, "__dlpack_device__");
            if (!d.on_device()) return nb::make_tuple(kDLCPU, 0);
            return nb::make_tuple(kDLCUDA, t.context.device_of(d.data()));
          },
          "(kDLCUDA = 2, GPU ordinal) for GPU tensors, (kDLCPU = 1, 0) for host ones.")
      .def("__repr__", [](const PyMLTensor& t) {
        if (!t.tensor || !t.tensor->valid()) return std::string("MLTensor(destroyed)");
        const DeviceTensor& d = *t.tensor;
        return "MLTensor(shape=" + dims_string(d.shape()) + ", data_type='" +
               std::string(cppnn::to_string(d.data_type())) + "', " +
               (d.on_device() ? "on_device=True" : "on_device=False") +
               (t.imported ? ", wrapped" : "") + ")";
      });

  context_class
      .def(
          "create_tensor",
          [](Context& c, const std::vector<int64_t>& shape, nb::handle data_type, bool readable,
             bool writable, bool exportable_to_gpu) {
            cppnn::DataType type = to_data_type(data_type, "create_tensor: data_type");
            PyMLTensor t;
            {
              nb::gil_scoped_release release;
              t = make(c, c.create_tensor(type, cppnn::Dims(shape.begin(), shape.end())));
            }
            t.readable = readable;
            t.writable = writable;
            t.exportable_to_gpu = exportable_to_gpu;
            return t;
          },
          "shape"_a, "data_type"_a, "readable"_a = true, "writable"_a = true,
          "exportable_to_gpu"_a = false,
          "A zeroed MLTensor on the context's device (GPU memory for a CUDA context).\n"
          "readable / writable=False make read_tensor / write_tensor a TypeError (the spec's\n"
          "MLTensorDescriptor flags); exportable_to_gpu is kept and has no other effect.")
      .def(
          "create_host_tensor",
          [](Context& c, const std::vector<int64_t>& shape, nb::handle data_type) {
            cppnn::DataType type = to_data_type(data_type, "create_host_tensor: data_type");
            nb::gil_scoped_release release;
            return make(c, c.create_tensor(type, cppnn::Dims(shape.begin(), shape.end())));
          },
          "shape"_a, "data_type"_a,
          "rustnn's name: create_tensor(shape, data_type), readable and writable.")
      .def(
          "create_device_tensor",
          [](Context& c, const cppnn::Graph&, const std::vector<int64_t>& shape,
             nb::handle data_type, nb::handle device) {
            if (!device.is_none())
              fail(ErrorKind::TypeError,
                   "create_device_tensor: cppnn places tensors on the context's device; pass no "
                   "device (got " + nb::cast<std::string>(nb::repr(device)) + ")");
            cppnn::DataType type = to_data_type(data_type, "create_device_tensor: data_type");
            nb::gil_scoped_release release;
            return make(c, c.create_tensor(type, cppnn::Dims(shape.begin(), shape.end())));
          },
          "graph"_a, "shape"_a, "data_type"_a, "device"_a = nb::none(),
          "rustnn's device tensor: an MLTensor on the context's device (the graph is not\n"
          "needed: any graph of the context may use it). Read and write it with\n"
          "tensor.read() / tensor.write(data) or the context's read_tensor / write_tensor.")
      .def(
          "wrap_tensor",
          [](Context& c, nb::handle obj) {
            Imports imports;
            DeviceTensor d = import_dlpack(c, obj, "wrap_tensor", imports, true);
            PyMLTensor t = make(c, std::move(d));
            t.imported = true;
            if (!imports.gpus.empty()) {
              t.import_device_type = kDLCUDA;
              t.import_device_id = imports.gpus.begin()->first;
            }
            return t;
          },
          "obj"_a,
          "An MLTensor over obj's memory, in place (zero copy): any object with __dlpack__\n"
          "on the context's device (a CUDA tensor of its GPU for a CUDA context, host memory\n"
          "such as a numpy array for the CPU), writable and C-contiguous (a strided view is a\n"
          "TypeError). The MLTensor keeps obj alive. Every use (dispatch, read, write) waits\n"
          "for obj's producer's queued GPU work first and for cppnn's work after, as\n"
          "dispatch() does with DLPack objects.")
      .def(
          "write_tensor",
          &write_tensor,
          "tensor"_a, "data"_a,
          "Copies host data into the tensor: a numpy array (or CPU object with __dlpack__)\n"
          "of the tensor's exact data type and shape. Non-contiguous arrays are accepted and\n"
          "copied to contiguous memory first, as compute() does. Ordered after the work\n"
          "queued on the context.")
      .def(
          "read_tensor",
          &read_tensor,
          "tensor"_a,
          "The tensor's data as a new numpy array, after the work queued on the context.")
      .def("dispatch", &dispatch, "graph"_a, "inputs"_a, "outputs"_a,
           "Runs the graph on tensors: inputs and outputs map every graph input and output\n"
           "name to an MLTensor of this context or to any object with __dlpack__ on the\n"
           "context's device (torch CUDA tensors for a CUDA context, numpy arrays for the\n"
           "CPU), used in place: outputs are written into that memory, no copy. Each must\n"
           "have the exact data type and shape, be C-contiguous (strided views are a\n"
           "TypeError) and outputs writable; no memory may be both read and written.\n\n"
           "With MLTensors only, it may return before the GPU is done; later writes, reads,\n"
           "dispatches and __dlpack__ exports are ordered after it.\n"
           "Streams, with DLPack objects: cppnn computes on its own CUDA stream. It asks\n"
           "each producer for __dlpack__(stream=1) (the legacy default stream), waits on the\n"
           "host for the producer's GPU (all its queued work) before running, and waits for\n"
           "its own work before returning, so the caller may use the outputs on any stream\n"
           "and overwrite the inputs at once: no torch.cuda.synchronize() is needed.\n"
           "The GIL is released while it runs.")
      .def(
          "synchronize",
          [](Context& c) {
            nb::gil_scoped_release release;
            c.synchronize();
          },
          "Waits for every dispatch queued on this context.");
}

}  // namespace webnn_py
