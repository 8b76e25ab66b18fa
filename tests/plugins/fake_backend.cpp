// A stand-in CUDA backend plugin for the selection tests: it exports the plugin entry point
// (runtime/backend_plugin.h) and answers as the build-time macros say:
// - FAKE_VERSION: -1 this build's table version, 999 a table of another version, -2 no table
//   for this host (the entry point returns NULL), 0 no entry point at all;
// - FAKE_REFUSE: the backend cannot be made ("no NVIDIA GPU found (fake)");
// - FAKE_OTHER_CORE: the table claims another core ABI (built from other cppnn sources).
//
// The backend computes on host memory with the interface's defaults. Its plan copies the
// graph's first input to every output, and fails on purpose where the tests ask it to, so
// that every status and message is seen to cross the table.
#include <stdexcept>

#include "runtime/backend_plugin_export.h"

namespace {

using cppnn::ErrorKind;
using cppnn::fail;
using cppnn::detail::GraphIR;

class FakePlan final : public cppnn::detail::Plan {
 public:
  explicit FakePlan(std::shared_ptr<const GraphIR> graph) : graph_(std::move(graph)) {}
  cppnn::NamedTensors compute(const cppnn::NamedTensors& inputs) override {
    if (inputs.count("boom")) throw std::runtime_error("fake: boom");
    if (inputs.count("huge")) throw std::bad_alloc();
    cppnn::NamedTensors out;
    for (const auto& [name, id] : graph_->outputs) out[name] = inputs.begin()->second.clone();
    return out;
  }
  // The precision of the graph it was handed: a float16 context lowers it in the core.
  std::string report() const override {
    return "fake plan: everything on the fake device (precision " +
           std::string(cppnn::to_string(graph_->precision)) + ")";
  }

 private:
  std::shared_ptr<const GraphIR> graph_;
};

class FakeBackend final : public cppnn::detail::Backend {
 public:
  std::string name() const override { return "fake"; }
  std::unique_ptr<cppnn::detail::Plan> compile(std::shared_ptr<const GraphIR> graph) override {
    if (graph->inputs.count("unsupported"))
      fail(ErrorKind::NotSupportedError, "fake: the graph has an input named 'unsupported'");
    return std::make_unique<FakePlan>(std::move(graph));
  }
  // Partitioning: the fake device has no gelu.
  cppnn::detail::NodeSupport supports_op(const GraphIR& g, size_t node) override {
    if (g.nodes[node].op == cppnn::detail::OpId::gelu) return {false, "fake: no gelu here"};
    return {};
  }
  // External memory: "device" 7; a null pointer is refused, with a kind the tests check.
  int device_of(const void*) override { return 7; }
  // Peak memory: 1000 bytes more per read, back to 1000 after a reset, so that the tests see
  // both the value and the reset flag cross the table.
  size_t peak_memory(bool reset) override {
    peak_ += 1000;
    size_t now = peak_;
    if (reset) peak_ = 0;
    return now;
  }
  void synchronize_external(const void* data) override {
    if (!data) fail(ErrorKind::DataError, "fake: nothing to synchronize at a null pointer");
  }

 private:
  size_t peak_ = 0;
};

std::unique_ptr<cppnn::detail::Backend> make_fake_backend(const cppnn::ContextOptions&) {
  if (FAKE_REFUSE) throw std::runtime_error("no NVIDIA GPU found (fake)");
  return std::make_unique<FakeBackend>();
}

}  // namespace

#if FAKE_VERSION != 0
extern "C" __attribute__((visibility("default"))) const CppnnBackendPluginV1* cppnn_backend_plugin(
    uint32_t host_version) {
  const CppnnBackendPluginV1* ours = cppnn::detail::plugin::table<&make_fake_backend>(host_version);
  if (FAKE_VERSION == -2 || !ours) return nullptr;
  if (FAKE_VERSION == -1 && !FAKE_OTHER_CORE) return ours;
  // Another plugin's table: this one's functions under another version or core ABI.
  static CppnnBackendPluginV1 other = *ours;
  if (FAKE_VERSION != -1) other.version = uint32_t(FAKE_VERSION);
  if (FAKE_OTHER_CORE) other.core_abi = "0123456789abcdef";
  return &other;
}
#endif
