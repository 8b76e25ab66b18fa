// A warm start asks cuBLASLt nothing: the heuristic's algorithm for each product is kept in
// the runtime cache (lt_matmul.cpp, "lt-algo/1" entries) and a fresh process with that cache
// uses it as stored. Checked in fresh processes, as a user meets it: the `cppnn` tool beside
// this test binary runs a float16 engine twice on one new cache folder with
// CPPNN_CUDA_BUILD_LOG=1; the first build's phases show the heuristic, the second's only the
// cache lookup, and both compute the same values as the CPU backend.
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "cppnn/engine.h"
#include "cppnn/graph.h"
#include "gpu/gpu_test_support.h"

namespace cppnn {
namespace {

using testing::random_tensor;
namespace fs = std::filesystem;

fs::path tool_beside_this_binary() {
  std::error_code ec;
  fs::path self = fs::read_symlink("/proc/self/exe", ec);
  return ec ? fs::path() : self.parent_path() / "cppnn";
}

std::string read_text(const fs::path& p) {
  std::ifstream f(p);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

// The little-endian float32 payload of a .npy file written by `cppnn run --save` (header
// skipped by its stated length).
std::vector<float> npy_floats(const fs::path& p) {
  std::string bytes = read_text(p);
  if (bytes.size() < 10) return {};
  size_t header = size_t(uint8_t(bytes[8])) | size_t(uint8_t(bytes[9])) << 8;
  size_t at = 10 + header;
  std::vector<float> v((bytes.size() - at) / sizeof(float));
  std::memcpy(v.data(), bytes.data() + at, v.size() * sizeof(float));
  return v;
}

double rel_l2(const std::vector<float>& got, const std::vector<float>& want) {
  double num = 0, den = 0;
  for (size_t i = 0; i < want.size() && i < got.size(); ++i) {
    num += (double(got[i]) - want[i]) * (double(got[i]) - want[i]);
    den += double(want[i]) * want[i];
  }
  return got.size() == want.size() && !want.empty() ? std::sqrt(num / std::max(den, 1e-300)) : 1e30;
}

TEST(CudaWarmStart, MatmulAlgorithmsComeFromTheRuntimeCache) {
  REQUIRE_CUDA();
  fs::path tool = tool_beside_this_binary();
  if (tool.empty() || !fs::exists(tool)) GTEST_SKIP() << "no cppnn tool beside the test binary";
  char tmpl[] = "/tmp/cppnn-warm-start-XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  fs::path dir = tmpl;

  // Two products of BERT's kinds (bias + gelu in the first, a residual after the second).
  GraphBuilder b;
  Operand x = b.input("x", DataType::float32, {96, 256});
  Operand w1 = b.constant(random_tensor(DataType::float32, {256, 1024}, -0.06, 0.06, 11));
  Operand b1 = b.constant(random_tensor(DataType::float32, {1024}, -0.1, 0.1, 12));
  Operand w2 = b.constant(random_tensor(DataType::float32, {1024, 256}, -0.03, 0.03, 13));
  Operand h = b.gelu(b.add(b.matmul(x, w1), b1));
  Operand y = b.add(b.matmul(h, w2), x);
  Graph g = b.build({{"y", y}});
  EngineBuildOptions eo;
  eo.precision = Precision::float16;
  Engine::build(g, eo).save((dir / "m.cppnn").string());

  auto run = [&](const char* device, const char* name) {
    std::string cmd = "cd '" + dir.string() + "' && CPPNN_CACHE_DIR='" + (dir / "cache").string() +
                      "' CPPNN_CUDA_BUILD_LOG=1 CPPNN_CUDA_OWN_KERNELS=0 '" + tool.string() +
                      "' run m.cppnn --device " + device + " --iterations 2 --save out_" + name +
                      " > " + name + ".log 2>&1";
    int rc = std::system(cmd.c_str());
    std::string log = read_text(dir / (std::string(name) + ".log"));
    EXPECT_EQ(rc, 0) << log;
    return log;
  };
  auto phases = [](const std::string& log) {
    size_t at = log.find("build phases:");
    return at == std::string::npos ? std::string("(no build phases)") : log.substr(at, log.find('\n', at) - at);
  };
  std::string cold = run("cuda", "cold");
  std::string warm = run("cuda", "warm");
  run("cpu", "cpu");
  std::printf("[ warm     ] cold: %s\n[ warm     ] warm: %s\n", phases(cold).c_str(), phases(warm).c_str());
  EXPECT_NE(phases(cold).find("matmul: heuristic"), std::string::npos) << cold;
  EXPECT_EQ(phases(warm).find("matmul: heuristic"), std::string::npos) << warm;
  EXPECT_NE(phases(warm).find("matmul: cache lookup"), std::string::npos) << warm;

  std::vector<float> c = npy_floats(dir / "out_cold" / "y.npy"), w = npy_floats(dir / "out_warm" / "y.npy"),
                     ref = npy_floats(dir / "out_cpu" / "y.npy");
  ASSERT_EQ(c.size(), size_t(96 * 256));
  // The same algorithm: the same bits, cold or warm.
  EXPECT_EQ(rel_l2(w, c), 0.0);
  // float16 against the CPU's float32.
  EXPECT_LT(rel_l2(w, ref), 3e-3);
  fs::remove_all(dir);
}

}  // namespace
}  // namespace cppnn
