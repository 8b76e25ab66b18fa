// A stand-in CUDA backend plugin for the selection tests: it exports the plugin ABI and
// answers as the build-time macros say (FAKE_ABI, FAKE_REFUSE); FAKE_ABI 0 exports nothing,
// -1 is this build's kBackendAbiVersion.
#include <cstring>

#include "runtime/backend.h"

namespace {

class FakePlan final : public cppnn::detail::Plan {
 public:
  cppnn::NamedTensors compute(const cppnn::NamedTensors&) override { return {}; }
  std::string report() const override { return "fake plan: everything on the fake device"; }
};

class FakeBackend final : public cppnn::detail::Backend {
 public:
  std::string name() const override { return "fake"; }
  std::unique_ptr<cppnn::detail::Plan> compile(std::shared_ptr<const cppnn::detail::GraphIR>) override {
    return std::make_unique<FakePlan>();
  }
};

}  // namespace

#if FAKE_ABI != 0
extern "C" __attribute__((visibility("default"))) uint32_t cppnn_backend_abi_version() {
  return FAKE_ABI == -1 ? cppnn::detail::kBackendAbiVersion : uint32_t(FAKE_ABI);
}

extern "C" __attribute__((visibility("default"))) int cppnn_cuda_backend_create(
    const cppnn::ContextOptions*, cppnn::detail::Backend** out, char* message, size_t size) {
  if (FAKE_REFUSE) {
    std::strncpy(message, "no NVIDIA GPU found (fake)", size - 1);
    return 1;
  }
  *out = new FakeBackend();
  return 0;
}
#endif
