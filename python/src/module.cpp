// The extension module webnn._webnn: error mapping, ML, MLContext, MLGraph, Engine, ONNX
// import and export.
// The builder and its ops are bound in builder.cpp and ops_<family>.cpp.
#include "cppnn/engine.h"
#include "cppnn/graph_info.h"
#include <nanobind/stl/filesystem.h>
#include <nanobind/stl/map.h>
#include <nanobind/stl/optional.h>
#include <nanobind/stl/pair.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>

#include <set>

#include "builder.h"

namespace webnn_py {
namespace {

// A path that names no file is FileNotFoundError (an OSError, with errno and filename), as
// open() raises, rather than the DataError cppnn gives for a file it cannot read.
void require_file(const std::filesystem::path& path) {
  std::error_code ec;
  if (std::filesystem::exists(path, ec) || ec) return;
  nb::object err = nb::module_::import_("builtins").attr("FileNotFoundError")(
      2, "No such file or directory", path.string());
  PyErr_SetObject(PyExc_FileNotFoundError, err.ptr());
  throw nb::python_error();
}

using namespace nb::literals;
using cppnn::Context;
using cppnn::ErrorKind;
using cppnn::Graph;

// Python's view of the DESIGN's error kinds: TypeError as Python's own; the others as
// webnn.DataError (a ValueError), webnn.NotSupportedError, webnn.OperationError and
// webnn.InvalidStateError (RuntimeErrors), so that code catching the builtin types keeps
// working and code that cares can tell the kinds apart. Made in bind_module.
PyObject* g_error_types[5] = {};

PyObject* error_type(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::TypeError: return PyExc_TypeError;
    case ErrorKind::DataError: return g_error_types[1] ? g_error_types[1] : PyExc_ValueError;
    case ErrorKind::NotSupportedError: return g_error_types[2] ? g_error_types[2] : PyExc_RuntimeError;
    case ErrorKind::OperationError: return g_error_types[3] ? g_error_types[3] : PyExc_RuntimeError;
    case ErrorKind::InvalidStateError: return g_error_types[4] ? g_error_types[4] : PyExc_RuntimeError;
  }
  return PyExc_RuntimeError;
}

void translate_error(const std::exception_ptr& p, void*) {
  try {
    std::rethrow_exception(p);
  } catch (const cppnn::Error& e) {
    PyErr_SetString(error_type(e.kind()), e.what());
  }
}

void make_error_types(nb::module_& m) {
  const struct {
    int index;
    const char* name;
    PyObject* base;
  } types[] = {{1, "DataError", PyExc_ValueError},
               {2, "NotSupportedError", PyExc_RuntimeError},
               {3, "OperationError", PyExc_RuntimeError},
               {4, "InvalidStateError", PyExc_RuntimeError}};
  for (const auto& t : types) {
    std::string qualified = std::string("webnn.") + t.name;
    PyObject* type = PyErr_NewException(qualified.c_str(), t.base, nullptr);
    if (!type) throw nb::python_error();
    g_error_types[t.index] = type;  // kept for the interpreter's life, as the module is
    m.attr(t.name) = nb::borrow(type);
  }
}

using Descriptors = std::map<std::string, std::pair<std::vector<int64_t>, std::string>>;

Descriptors describe(const std::map<std::string, cppnn::OperandDescriptor>& descs) {
  Descriptors out;
  for (const auto& [name, d] : descs)
    out[name] = {std::vector<int64_t>(d.shape.begin(), d.shape.end()),
                 std::string(cppnn::to_string(d.data_type))};
  return out;
}

nb::dict compute(Context& context, const Graph& graph, const nb::dict& inputs,
                 nb::handle outputs) {
  if (!graph.valid()) cppnn::fail(ErrorKind::DataError, "compute: the graph is not valid");
  // Declared before the GIL is released so that the wrapped arrays are released with it.
  cppnn::NamedTensors named;
  for (auto [key, value] : inputs) {
    if (!nb::isinstance<nb::str>(key))
      cppnn::fail(ErrorKind::TypeError, "compute: input names must be strings, got " +
                                            nb::cast<std::string>(nb::repr(key)));
    std::string name = nb::cast<std::string>(key);
    named[name] = to_tensor(value, "compute: input '" + name + "'", false);
  }
  cppnn::NamedTensors results;
  {
    nb::gil_scoped_release release;
    results = context.compute(graph, named);
  }
  nb::dict out;
  // Two output names may share one operand: each numpy array must own its buffer alone.
  std::set<const void*> taken;
  for (auto& [name, tensor] : results) {
    bool shared = !taken.insert(tensor.data()).second;
    out[nb::str(name.c_str())] = to_numpy(shared ? tensor.clone() : std::move(tensor));
  }
  // rustnn's compute(graph, inputs, outputs): preallocated numpy arrays, filled in place
  // (same shape; numpy's same-kind casting).
  if (!outputs.is_none()) {
    if (!nb::isinstance<nb::dict>(outputs))
      cppnn::fail(ErrorKind::TypeError, "compute: outputs must be a dict of name -> numpy array");
    nb::object np = nb::module_::import_("numpy");
    for (auto [key, target] : nb::borrow<nb::dict>(outputs)) {
      if (!out.contains(key))
        cppnn::fail(ErrorKind::TypeError, "compute: the graph has no output named " +
                                              nb::cast<std::string>(nb::repr(key)));
      nb::object result = out[key];
      if (!nb::isinstance(target, np.attr("ndarray")) ||
          !target.attr("shape").equal(result.attr("shape")))
        cppnn::fail(ErrorKind::TypeError,
                    "compute: outputs[" + nb::cast<std::string>(nb::repr(key)) +
                        "] must be a numpy array of shape " +
                        nb::cast<std::string>(nb::repr(result.attr("shape"))));
      np.attr("copyto")(target, result);
    }
  }
  return out;
}

// "float32" | "float16" | "bfloat16" | "auto", for contexts and engines alike.
cppnn::Precision parse_precision(const std::string& precision, const char* where) {
  return parse_enum<cppnn::Precision>(precision,
                                      {{"float32", cppnn::Precision::float32},
                                       {"float16", cppnn::Precision::float16},
                                       {"bfloat16", cppnn::Precision::bfloat16},
                                       {"auto", cppnn::Precision::auto_}},
                                      where, "precision");
}

Context create_context(bool accelerated, const std::string& power_preference, int num_threads,
                       const std::string& gpu_kernels, bool gpu_low_priority, double gpu_sm_share,
                       size_t max_graph_bytes, const std::string& precision) {
  cppnn::ContextOptions options;
  options.precision = parse_precision(precision, "create_context");
  options.max_graph_bytes = max_graph_bytes;
  // The README names the C++ enum (fastest_start); both spellings are accepted here.
  options.gpu_kernels = parse_enum<cppnn::GpuKernels>(
      gpu_kernels,
      {{"fastest-run", cppnn::GpuKernels::fastest_run},
       {"fastest-start", cppnn::GpuKernels::fastest_start},
       {"fastest_run", cppnn::GpuKernels::fastest_run},
       {"fastest_start", cppnn::GpuKernels::fastest_start}},
      "create_context", "gpu_kernels");
  options.gpu_low_priority = gpu_low_priority;
  options.gpu_sm_share = gpu_sm_share;  // checked by Context::create
  options.accelerated = accelerated;
  options.power_preference = parse_enum<cppnn::PowerPreference>(
      power_preference,
      {{"default", cppnn::PowerPreference::default_},
       {"high-performance", cppnn::PowerPreference::high_performance},
       {"low-power", cppnn::PowerPreference::low_power}},
      "create_context", "power_preference");
  if (num_threads < 0)
    cppnn::fail(ErrorKind::TypeError,
                "create_context: num_threads must be >= 0, got " + std::to_string(num_threads));
  options.num_threads = num_threads;
  return Context::create(options);
}

struct ML {};

}  // namespace

void bind_module(nb::module_& m) {
  make_error_types(m);
  nb::register_exception_translator(translate_error);

  nb::class_<ML>(m, "ML", "Entry point: creates contexts (WebNN's navigator.ml).")
      .def(nb::init<>())
      .def(
          "create_context",
          [](ML&, nb::handle power_preference, nb::handle accelerated,
             const std::string& device_type, int num_threads, const std::string& gpu_kernels,
             bool gpu_low_priority, double gpu_sm_share, size_t max_graph_bytes,
             const std::string& precision) {
            // rustnn's order is (power_preference, accelerated, device_type); a bool first is
            // cppnn's older positional create_context(accelerated).
            if (nb::isinstance<nb::bool_>(power_preference)) std::swap(power_preference, accelerated);
            std::string preference = "default";
            // After that swap a bool here is the default accelerated=True, not a preference.
            if (!power_preference.is_none() && !nb::isinstance<nb::bool_>(power_preference)) {
              if (!nb::isinstance<nb::str>(power_preference))
                cppnn::fail(ErrorKind::TypeError,
                            "create_context: power_preference must be a string, got " +
                                nb::cast<std::string>(nb::repr(power_preference)));
              preference = nb::cast<std::string>(power_preference);
            }
            bool wants_accelerated = true;
            if (!accelerated.is_none()) {
              if (!nb::isinstance<nb::bool_>(accelerated))
                cppnn::fail(ErrorKind::TypeError, "create_context: accelerated must be a bool, got " +
                                                      nb::cast<std::string>(nb::repr(accelerated)));
              wants_accelerated = nb::cast<bool>(accelerated);
            }
            // rustnn's device_type: 'cpu' forces the CPU, 'gpu' and 'npu' ask for acceleration
            // (cppnn has no NPU backend: the best accelerator there is, else the CPU, and
            // backend_info() says why), 'auto' leaves it to `accelerated`.
            parse_enum<int>(device_type, {{"auto", 0}, {"cpu", 1}, {"gpu", 2}, {"npu", 3}},
                            "create_context", "device_type");
            if (device_type == "cpu") wants_accelerated = false;
            if (device_type == "gpu" || device_type == "npu") wants_accelerated = true;
            nb::object context = nb::cast(create_context(wants_accelerated, preference, num_threads,
                                                         gpu_kernels, gpu_low_priority,
                                                         gpu_sm_share, max_graph_bytes,
                                                         precision));
            // What was asked, for power_preference and backend_info() (compat.cpp).
            context.attr("_power_preference") = preference;
            context.attr("_accelerated_requested") = wants_accelerated;
            context.attr("_device_type") = device_type;
            return context;
          },
          nb::arg("power_preference").none() = "default", nb::arg("accelerated").none() = true,
          "device_type"_a = "auto",
          "num_threads"_a = 0, "gpu_kernels"_a = "fastest-run", "gpu_low_priority"_a = false,
          "gpu_sm_share"_a = 1.0, "max_graph_bytes"_a = 0, "precision"_a = "float32",
          "A context on the best backend for the options. accelerated=False forces the CPU;\n"
          "power_preference is 'default', 'high-performance' or 'low-power'; device_type\n"
          "(rustnn's) is 'auto' (as accelerated says), 'cpu' (forces the CPU), 'gpu' or 'npu'\n"
          "(ask for acceleration; cppnn has no NPU backend); num_threads=0 uses every core.\n"
          "Never fails for lack of a GPU: check .backend (or .accelerated, backend_info()).\n"
          "GPU only: gpu_kernels 'fastest-run' (cppnn's kernels timed against cuDNN's and\n"
          "cuBLASLt's) or 'fastest-start' (cppnn's wherever they apply: a cached start loads no\n"
          "library; 'fastest_run' / 'fastest_start' are accepted too); gpu_low_priority runs on\n"
          "the lowest-priority stream; gpu_sm_share in (0, 1] confines the work to that share of\n"
          "the multiprocessors. max_graph_bytes caps the host memory of one graph's\n"
          "intermediates and outputs (0: the machine's memory); a graph that needs more is a\n"
          "RuntimeError when compiled, not an exhausted machine.\n"
          "precision: what graphs compiled on it compute their float32 operands in:\n"
          "'float32' (exact, the default), 'float16' (as Engine.build(precision='float16')\n"
          "lowers: float16 inside, float32 inputs and outputs), 'auto' (float16 on a GPU\n"
          "context with power_preference='high-performance', else float32), 'bfloat16' (the\n"
          "same in bfloat16: float32's range, 8 mantissa bits, float32 arithmetic).\n"
          "context.precision says what it got.");

  nb::class_<Graph>(m, "MLGraph",
                    "A validated, immutable graph with named inputs and outputs. It keeps\n"
                    "what it needs alive and can be computed on any context.")
      .def_prop_ro(
          "inputs", [](const Graph& g) { return describe(g.inputs()); },
          "dict: input name -> (shape, data type)")
      .def_prop_ro(
          "outputs", [](const Graph& g) { return describe(g.outputs()); },
          "dict: output name -> (shape, data type)")
      .def_prop_ro("node_count", &Graph::node_count)
      .def_prop_ro("operation_count", &Graph::node_count, "rustnn's name of node_count.")
      .def_prop_ro("operand_count", &cppnn::operand_count,
                   "Every operand: inputs, constants and node outputs (rustnn's).")
      .def(
          "get_input_names",
          [](const Graph& g) {
            std::vector<std::string> names;
            for (const auto& [name, _] : g.inputs()) names.push_back(name);
            return names;
          },
          "The input names, sorted (rustnn's accessor; .inputs has their descriptors).")
      .def(
          "get_output_names",
          [](const Graph& g) {
            std::vector<std::string> names;
            for (const auto& [name, _] : g.outputs()) names.push_back(name);
            return names;
          },
          "The output names, sorted.")
      .def("summary", &Graph::summary, "One line per node: op, label, input and output shapes.")
      .def_prop_ro("dynamic", &Graph::dynamic,
                   "Whether the graph has symbolic dimensions (load_onnx(dynamic=...)).")
      .def_prop_ro(
          "symbols",
          [](const Graph& g) {
            nb::dict d;
            for (const auto& [name, r] : g.symbols()) d[name.c_str()] = nb::make_tuple(r.min, r.opt, r.max);
            return d;
          },
          "dict: symbol name -> (min, opt, max); empty for fixed shapes. inputs and outputs\n"
          "give the shapes at the opt values.")
      .def_prop_ro("input_symbols", &Graph::input_symbols,
                   "dict: input name -> per axis the symbol (or product) it is, '' if fixed.")
      .def(
          "specialize",
          [](const Graph& g, const std::map<std::string, int64_t>& values) {
            nb::gil_scoped_release release;
            return g.specialize(values);
          },
          "values"_a,
          "The graph at these symbol values, e.g. {'N': 4, 'S': 77}: fixed shapes (compute\n"
          "does this by itself from the inputs' shapes; use it to learn the output shapes).")
      .def("__repr__", [](const Graph& g) {
        std::string s = "MLGraph(inputs=[";
        for (const auto& [name, _] : g.inputs()) s += (s.back() == '[' ? "'" : ", '") + name + "'";
        s += "], outputs=[";
        for (const auto& [name, _] : g.outputs()) s += (s.back() == '[' ? "'" : ", '") + name + "'";
        return s + "], nodes=" + std::to_string(g.node_count()) + ")";
      });

  // dynamic_attr: create_context keeps what was asked on the instance (see above).
  nb::class_<Context> context_class(m, "MLContext",
                                    "Runs graphs on one backend ('cpu' or 'cuda').",
                                    nb::dynamic_attr());
  context_class
      .def_prop_ro("backend", &Context::backend, "The backend it really got: 'cpu' or 'cuda'.")
      .def_prop_ro("backend_reason", &Context::backend_reason,
                   "Why it got that backend (e.g. why no GPU was usable).")
      .def_prop_ro(
          "precision", [](const Context& c) { return std::string(to_string(c.precision())); },
          "What graphs compiled on it compute in: 'float32' or 'float16' ('auto' resolved).")
      .def(
          "report",
          [](Context& c, const Graph& g) {
            nb::gil_scoped_release release;
            return c.report(g);
          },
          "graph"_a,
          "What the backend's plan of the graph runs (compiling it first if needed): the\n"
          "first lines name its precision and layout, then the plan's steps.")
      .def("peak_memory", &Context::peak_memory,
           "The most device memory cppnn's allocations held at once on this context's GPU, in\n"
           "bytes (plans, workspaces, device tensors; the process's count for that GPU); 0 on\n"
           "the CPU, which counts none. Like torch.cuda.max_memory_allocated().")
      .def("reset_peak_memory", &Context::reset_peak_memory,
           "Starts the peak_memory count again from what is held now.")
      .def_prop_ro("destroyed", &Context::destroyed)
      .def(
          "create_graph_builder",
          [](const Context& c) {
            if (c.destroyed())
              cppnn::fail(ErrorKind::InvalidStateError,
                          "create_graph_builder: the context has been destroyed");
            return PyGraphBuilder{cppnn::GraphBuilder(), c};
          },
          "A new builder whose build() compiles for this context.")
      .def("compute", &compute, "graph"_a, "inputs"_a, "outputs"_a = nb::none(),
           "Runs the graph. inputs: name -> numpy array, or any CPU object with __dlpack__\n"
           "(a torch CPU tensor, ...), of the input's exact data type and shape.\n"
           "Non-contiguous arrays are accepted and copied. Returns name -> numpy array;\n"
           "each array owns its memory. The GIL is released while the graph runs.\n"
           "outputs (optional, rustnn's): name -> numpy array of the output's shape, filled\n"
           "in place as well.")
      .def(
          "compile",
          [](Context& c, const Graph& g) {
            nb::gil_scoped_release release;
            c.compile(g);
          },
          "graph"_a, "Compiles ahead of the first compute (optional).")
      .def(
          "destroy",
          [](Context& c) {
            // Waits for a compute running on another thread.
            nb::gil_scoped_release release;
            c.destroy();
          },
          "Releases plans and backend resources; later calls raise RuntimeError.")
      .def("__repr__", [](const Context& c) {
        return c.destroyed() ? std::string("MLContext(destroyed)")
                             : "MLContext(backend='" + c.backend() + "')";
      });
  bind_device_tensors(m, context_class);

  nb::class_<cppnn::Engine>(m, "Engine",
                            "A graph after cppnn's compiler passes, in a portable, versioned,\n"
                            "checksummed file: build once, save, load anywhere.")
      .def_static(
          "build",
          [](const Graph& g, const std::string& precision,
             const std::optional<std::map<std::string, std::vector<std::vector<int64_t>>>>& shapes,
             bool keep_io_types) {
            cppnn::EngineBuildOptions o;
            o.precision = parse_precision(precision, "Engine.build");
            o.keep_io_types = keep_io_types;
            if (shapes)
              for (const auto& [name, profile] : *shapes) {
                if (profile.size() != 3)
                  cppnn::fail(ErrorKind::TypeError, "Engine.build: shapes['" + name +
                                                        "'] must be (min, opt, max) shapes");
                o.shapes[name] = {profile[0], profile[1], profile[2]};
              }
            if (o.precision == cppnn::Precision::auto_)
              cppnn::fail(ErrorKind::TypeError,
                          "Engine.build: precision must be 'float32', 'float16' or "
                          "'bfloat16', got 'auto' (a context's precision)");
            nb::gil_scoped_release release;
            return cppnn::Engine::build(g, o);
          },
          "graph"_a, "precision"_a = "float32", "shapes"_a = nb::none(), "keep_io_types"_a = true,
          "Optimizes the graph into an engine. shapes (dynamic shapes, for a graph from\n"
          "load_onnx(dynamic=...)): input name -> (min, opt, max) shapes, e.g.\n"
          "{'input_ids': ((1, 16), (8, 128), (32, 512))}, inside the ranges it was imported\n"
          "with; one engine then runs every shape in the profile. keep_io_types=False (with\n"
          "precision='float16'): the float32 inputs and outputs become float16, passed and\n"
          "returned as they are (a float16 torch model's tensors, a float16 KV cache).")
      .def_static(
          "load",
          [](const std::filesystem::path& path) {
            require_file(path);
            nb::gil_scoped_release release;
            return cppnn::Engine::load(path.string());
          },
          "path"_a, "Reads and fully validates an engine file (ValueError if corrupt).")
      .def_static(
          "from_bytes", [](nb::bytes b) { return cppnn::Engine::from_bytes(std::string(b.c_str(), b.size())); },
          "data"_a)
      .def(
          "save",
          [](const cppnn::Engine& e, const std::filesystem::path& path) {
            nb::gil_scoped_release release;
            e.save(path.string());
          },
          "path"_a, "Writes atomically: a failure leaves no file behind.")
      .def("to_bytes", [](const cppnn::Engine& e) {
        std::string b = e.to_bytes();
        return nb::bytes(b.data(), b.size());
      })
      .def_prop_ro("graph", &cppnn::Engine::graph, "The optimized graph; run it with compute().")
      .def_prop_ro("hash", &cppnn::Engine::hash)
      .def_prop_ro("format_version", &cppnn::Engine::format_version)
      .def_prop_ro("byte_size", &cppnn::Engine::byte_size)
      .def_prop_ro(
          "precision",
          [](const cppnn::Engine& e) { return std::string(to_string(e.options().precision)); },
          "What it computes its float32 operands in: 'float32', 'float16' or 'bfloat16'.")
      .def_prop_ro(
          "keep_io_types", [](const cppnn::Engine& e) { return e.options().keep_io_types; },
          "False where the graph's float inputs and outputs are float16 (built with\n"
          "keep_io_types=False); True where they stayed float32.")
      .def("__repr__", [](const cppnn::Engine& e) {
        return "Engine(hash='" + e.hash() + "', nodes=" + std::to_string(e.graph().node_count()) + ")";
      });

  m.def(
      "load_onnx",
      [](const std::filesystem::path& path,
         const std::optional<std::map<std::string, int64_t>>& dim_values,
         std::optional<size_t> max_import_bytes, bool float64_as_float32,
         const std::optional<nb::dict>& input_values,
         const std::optional<std::map<std::string, std::vector<int64_t>>>& dynamic) {
        cppnn::OnnxImportOptions options;
        if (dynamic)
          for (const auto& [name, r] : *dynamic) {
            if (r.size() != 3)
              cppnn::fail(ErrorKind::TypeError,
                          "load_onnx: dynamic['" + name + "'] must be (min, opt, max)");
            options.dynamic[name] = {r[0], r[1], r[2]};
          }
        if (input_values)
          for (auto [key, value] : *input_values) {
            std::string name = nb::cast<std::string>(key);
            options.input_values[name] =
                to_tensor(value, "load_onnx: input_values['" + name + "']", true);
          }
        if (dim_values) options.dim_values = *dim_values;
        if (max_import_bytes) options.max_import_bytes = *max_import_bytes;
        options.float64_as_float32 = float64_as_float32;
        require_file(path);
        nb::gil_scoped_release release;
        return cppnn::load_onnx(path.string(), options);
      },
      "path"_a, "dim_values"_a = nb::none(), "max_import_bytes"_a = nb::none(),
      "float64_as_float32"_a = false, "input_values"_a = nb::none(), "dynamic"_a = nb::none(),
      "Imports an ONNX model file as an MLGraph (external data read from its folder).\n"
      "dynamic keeps symbolic dimensions symbolic within ranges, e.g. {'N': (1, 8, 32)}\n"
      "(min, opt, max): the graph then runs at any such shape (docs/dynamic-shapes.md).\n"
      "dim_values fixes the symbolic dimensions, e.g. {'N': 1}; one the exporter left unnamed\n"
      "(-1, 0, '' or '?') is '<input>:<index>', e.g. {'x:0': 1}. float64_as_float32 computes\n"
      "float64 tensors in float32 (WebNN has no float64). input_values fixes graph inputs at load\n"
      "time, e.g. {'sr': np.array(16000)}: they become constants and what depends on them folds.\n"
      "max_import_bytes caps the memory the import itself creates (folded\n"
      "constants, ConstantOfShape; default 1 GiB): a model that needs more is a ValueError\n"
      "naming the node.");

  m.def(
      "export_onnx",
      [](const Graph& g, const std::filesystem::path& path, int64_t opset) {
        cppnn::OnnxExportOptions options;
        options.opset = opset;
        nb::gil_scoped_release release;
        cppnn::export_onnx(g, path.string(), options);
      },
      "graph"_a, "path"_a, "opset"_a = 17,
      "Writes the graph (an Engine's optimized graph too) as an ONNX model, atomically.\n"
      "RuntimeError names the node of an op with no faithful ONNX mapping; ValueError if\n"
      "the file cannot be written.");
  m.def(
      "export_onnx_bytes",
      [](const Graph& g, int64_t opset) {
        cppnn::OnnxExportOptions options;
        options.opset = opset;
        std::string bytes;
        {
          nb::gil_scoped_release release;
          bytes = cppnn::export_onnx_bytes(g, options);
        }
        return nb::bytes(bytes.data(), bytes.size());
      },
      "graph"_a, "opset"_a = 17, "The graph as a serialized ONNX ModelProto.");
}

}  // namespace webnn_py

NB_MODULE(_webnn, m) {
  m.doc() = "cppnn's WebNN API (the compiled part of the webnn package).";
  // The one version (project(cppnn VERSION ...) in CMakeLists.txt): the library's, the
  // cppnn and cppnn-cuda wheels' (pyproject.toml reads the same line) and `cppnn --version`.
  m.attr("__version__") = CPPNN_VERSION_STRING;
  webnn_py::bind_module(m);
  webnn_py::BuilderClass builder(m, "MLGraphBuilder",
                                 "Builds a graph: inputs, constants and one method per WebNN op.");
  webnn_py::bind_builder(m, builder);
  webnn_py::bind_elementwise_ops(builder);
  webnn_py::bind_reduction_ops(builder);
  webnn_py::bind_movement_ops(builder);
  webnn_py::bind_gather_ops(builder);
  webnn_py::bind_conv_ops(builder);
  webnn_py::bind_matmul_ops(builder);
  webnn_py::bind_pooling_ops(builder);
  webnn_py::bind_normalization_ops(builder);
  webnn_py::bind_recurrent_ops(builder);
  webnn_py::bind_quantization_ops(builder);
  auto context_class = nanobind::borrow<nanobind::class_<cppnn::Context>>(m.attr("MLContext"));
  webnn_py::bind_rustnn_compat(context_class, builder);
}
