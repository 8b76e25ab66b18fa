// Engine: build (optimize + serialize), load from a file or bytes, atomic save.
#include "cppnn/engine.h"

#include "core/file_io.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <utility>

#include "engine/engine_format.h"
#include "compiler/passes.h"
#include "engine/portable_graph.h"
#include "core/hash.h"

namespace cppnn {

using namespace detail;

namespace {

EngineBytes read_file(const std::string& path) {
  FileDescriptor f(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (f.fd < 0) fail(ErrorKind::DataError, "cannot open engine file '" + path + "': " + os_error());
  struct stat st {};
  if (::fstat(f.fd, &st) != 0 || !S_ISREG(st.st_mode))
    fail(ErrorKind::DataError, "engine file '" + path + "' is not a regular file");
  EngineBytes bytes = EngineBytes::allocate(size_t(st.st_size));
  size_t done = 0;
  while (done < bytes.size) {
    ssize_t n = ::read(f.fd, bytes.data.get() + done, bytes.size - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) fail(ErrorKind::DataError, "cannot read engine file '" + path + "': " + os_error());
    if (n == 0) break;  // the file shrank while being read; the header check reports it
    done += size_t(n);
  }
  bytes.size = done;
  return bytes;
}

EngineBytes bytes_of(const std::string& s) {
  EngineBytes b = EngineBytes::allocate(s.size());
  if (!s.empty()) std::memcpy(b.data.get(), s.data(), s.size());
  return b;
}

}  // namespace

const EngineState& Engine::state() const {
  if (!state_) fail(ErrorKind::InvalidStateError, "engine is not valid");
  return *state_;
}

namespace {

// The symbols' ranges for an engine build: the graph's, narrowed by the options' profiles.
std::vector<SymbolRange> profile_ranges(const Graph& graph, const EngineBuildOptions& options) {
  const SymbolicShapes& sym = *graph.symbolic();
  std::vector<SymbolRange> ranges = sym.ranges;
  std::vector<bool> given(ranges.size(), false);
  const auto symbols = graph.input_symbols();
  const auto inputs = graph.inputs();
  for (const auto& [name, profile] : options.shapes) {
    auto in = inputs.find(name);
    if (in == inputs.end())
      fail(ErrorKind::TypeError, "engine build: shapes names '" + name + "', which is no input of the graph");
    const Dims& dims = in->second.shape;
    std::string where = "engine build: the profile of input '" + name + "'";
    if (profile.min.size() != dims.size() || profile.opt.size() != dims.size() ||
        profile.max.size() != dims.size())
      fail(ErrorKind::TypeError, where + " must give " + std::to_string(dims.size()) +
                                     " dimensions in each of min, opt and max");
    const std::vector<std::string>& axes = symbols.at(name);
    for (size_t a = 0; a < dims.size(); ++a) {
      SymbolRange r{profile.min[a], profile.opt[a], profile.max[a]};
      auto it = std::find(sym.names.begin(), sym.names.end(), axes[a]);
      if (it == sym.names.end()) {
        if (!axes[a].empty()) continue;  // a product of symbols: set through its factors
        if (r.min != dims[a] || r.opt != dims[a] || r.max != dims[a])
          fail(ErrorKind::TypeError, where + ": dimension " + std::to_string(a) + " is fixed at " +
                                         std::to_string(dims[a]) + " in the graph");
        continue;
      }
      size_t i = size_t(it - sym.names.begin());
      const SymbolRange& graph_range = sym.ranges[i];
      if (!(r.min <= r.opt && r.opt <= r.max))
        fail(ErrorKind::TypeError, where + ": dimension " + std::to_string(a) + " must have min <= opt <= max");
      if (r.min < graph_range.min || r.max > graph_range.max)
        fail(ErrorKind::TypeError,
             where + ": dimension " + std::to_string(a) + " (" + axes[a] + ") asks for [" +
                 std::to_string(r.min) + ", " + std::to_string(r.max) +
                 "], outside the range the graph was imported with, [" + std::to_string(graph_range.min) +
                 ", " + std::to_string(graph_range.max) + "]: import it with a wider range");
      if (given[i] && ranges[i] != r)
        fail(ErrorKind::TypeError, where + ": dimension " + std::to_string(a) + " is " + axes[a] +
                                       ", which another input gives another range");
      ranges[i] = r;
      given[i] = true;
    }
  }
  return ranges;
}

}  // namespace

Engine Engine::build(const Graph& graph, const EngineBuildOptions& options) {
  if (!graph.valid()) fail(ErrorKind::DataError, "engine build: the graph is not valid");
  // The portable graph: optimized and lowered, with no layout choice in it (each backend
  // lays it out for its device when it compiles). A dynamic graph is optimized at the
  // profile's probe points and fitted again: the passes may rewrite the graph, and each
  // rewrite must hold for every shape in the profile; its symbols go in a SYMS section.
  std::shared_ptr<const GraphIR> optimized;
  std::vector<ExtraSection> extra;
  if (graph.dynamic()) {
    const SymbolicShapes& sym = *graph.symbolic();
    std::vector<OperandId> patched;
    for (const ShapePatch& p : sym.patches)
      if (p.kind == ShapePatch::Kind::constant_value) patched.push_back(p.index);
    LoweredConstants lowered;  // the weights converted once for every probe
    FittedGraph fitted = fit_symbolic(
        sym.names, profile_ranges(graph, options),
        [&](const std::vector<int64_t>& values) {
          std::shared_ptr<const GraphIR> at = specialize(graph.ir(), sym, values);
          return std::make_shared<GraphIR>(*portable_graph(at, options.precision, "engine build", patched,
                                                                 &lowered, options.keep_io_types));
        },
        "engine build");
    optimized = std::move(fitted.ir);
    if (fitted.symbolic) extra.push_back({{'S', 'Y', 'M', 'S'}, true, write_symbols(*fitted.symbolic)});
  } else {
    if (!options.shapes.empty())
      fail(ErrorKind::TypeError,
           "engine build: shapes (a dynamic-shape profile) needs a graph with symbolic dimensions: "
           "import it with ranges (OnnxImportOptions::dynamic, load_onnx(dynamic=...))");
    optimized = portable_graph(graph.ir_ptr(), options.precision, "engine build", {}, nullptr,
                               options.keep_io_types);
  }
  // The file's precision says what its graph computes in (a float16 engine's graph built
  // again stays float16).
  EngineBuildOptions written = options;
  written.precision = optimized->precision;
  if (!written.keep_io_types)
    // A float16 engine's graph, built again: it is lowered already and keeps its float32
    // interface.
    if (const std::string* name = float32_interface_operand(*optimized))
      fail(ErrorKind::TypeError, "engine build: keep_io_types false: '" + *name +
                                     "' stays float32 (the graph was lowered to float16 "
                                     "before); build from the float32 model");
  if (std::string b = write_build_options(written); !b.empty())
    extra.push_back({{'B', 'O', 'P', 'T'}, false, std::move(b)});
  EngineBytes bytes = write_engine(*optimized, written, extra);
  // Reading back what was written is the engine's only way in: the graph it then holds is
  // exactly what a later load gets, and its constants live in the file bytes, not twice.
  try {
    return Engine(read_engine(std::move(bytes)));
  } catch (const Error& e) {
    fail(ErrorKind::OperationError,
         std::string("internal: the engine just written does not load back: ") + e.what());
  }
}

Engine Engine::load(const std::string& path) {
  EngineBytes bytes = read_file(path);
  try {
    return Engine(read_engine(std::move(bytes)));
  } catch (const Error& e) {
    throw Error(e.kind(), "'" + path + "': " + e.what());
  }
}

Engine Engine::from_bytes(const std::string& bytes) { return Engine(read_engine(bytes_of(bytes))); }

bool Engine::is_engine_file(const std::string& path) {
  FileDescriptor f(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (f.fd < 0) return false;
  char magic[sizeof(kEngineMagic)];
  size_t done = 0;
  while (done < sizeof(magic)) {
    ssize_t n = ::read(f.fd, magic + done, sizeof(magic) - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    done += size_t(n);
  }
  return std::memcmp(magic, kEngineMagic, sizeof(magic)) == 0;
}

void Engine::save(const std::string& path) const {
  write_file_atomically(path, state().bytes.begin(), state().bytes.size, "cannot save engine to");
}

std::string Engine::to_bytes() const {
  const EngineBytes& b = state().bytes;
  return std::string(reinterpret_cast<const char*>(b.begin()), b.size);
}

size_t Engine::byte_size() const { return state().bytes.size; }
const Graph& Engine::graph() const { return state().graph; }
std::string Engine::hash() const { return hash_hex(state().payload_hash); }
uint32_t Engine::format_version() const { return state().format_version; }
const EngineBuildOptions& Engine::options() const { return state().options; }
const std::string& Engine::cppnn_version() const { return state().cppnn_version; }
const std::string& Engine::producer() const { return state().producer; }

}  // namespace cppnn
