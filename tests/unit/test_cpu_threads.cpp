// The CPU backend's thread count (num_threads, OMP_NUM_THREADS, affinity and cgroup quota)
// and the per-step choice between one thread and the whole team (backends/cpu/threads.h).
#include <sched.h>
#include <stdlib.h>

#include <cmath>

#include "backends/cpu/threads.h"
#include "test_support.h"

namespace cppnn {
namespace {

using detail::cpu_thread_count;
using detail::step_threads;

struct OmpEnv {
  explicit OmpEnv(const char* value) {
    if (const char* old = std::getenv("OMP_NUM_THREADS")) saved = old, had = true;
    if (value)
      setenv("OMP_NUM_THREADS", value, 1);
    else
      unsetenv("OMP_NUM_THREADS");
  }
  ~OmpEnv() {
    if (had)
      setenv("OMP_NUM_THREADS", saved.c_str(), 1);
    else
      unsetenv("OMP_NUM_THREADS");
  }
  std::string saved;
  bool had = false;
};

TEST(CpuThreads, CountHonoursNumThreadsThenOmpNumThreadsThenTheCoresAllowed) {
  {
    OmpEnv env("5");
    EXPECT_EQ(cpu_thread_count(3).count, 3);
    EXPECT_EQ(cpu_thread_count(3).why, "num_threads");
    EXPECT_EQ(cpu_thread_count(0).count, 5);
    EXPECT_EQ(cpu_thread_count(0).why, "OMP_NUM_THREADS");
  }
  {
    OmpEnv env("6,2");  // a nested list: the outer level counts
    EXPECT_EQ(cpu_thread_count(0).count, 6);
  }
  cpu_set_t set;
  CPU_ZERO(&set);
  ASSERT_EQ(sched_getaffinity(0, sizeof(set), &set), 0);
  int allowed = CPU_COUNT(&set);
  for (const char* value : {static_cast<const char*>(nullptr), "abc", "0", "-3"}) {
    OmpEnv env(value);
    detail::CpuThreads t = cpu_thread_count(0);
    EXPECT_GE(t.count, 1);
    EXPECT_LE(t.count, allowed) << "more threads than the cores this process may use";
    EXPECT_TRUE(t.why == "all cores" || t.why == "the cgroup's CPU quota") << t.why;
  }
}

Graph small_and_large_graph() {
  GraphBuilder b;
  Operand x = b.input("x", DataType::float32, {4});
  Operand a = b.input("a", DataType::float32, {256, 512});
  Operand w = b.constant(testing::random_tensor(DataType::float32, {512, 512}, -1, 1, 2));
  Operand big = b.input("big", DataType::float32, {96000});
  return b.build({{"small", b.relu(x)},
                  {"product", b.matmul(a, w)},
                  {"sum", b.add(big, big)}});
}

TEST(CpuThreads, SmallStepsRunOnOneThreadLargeOnesOnTheWholeTeam) {
  Graph g = small_and_large_graph();
  const detail::GraphIR& ir = g.ir();
  for (const detail::Node& n : ir.nodes) {
    int t16 = step_threads(ir, n, 16);
    if (n.op == detail::OpId::relu) {
      EXPECT_EQ(t16, 1);  // 4 elements
    }
    if (n.op == detail::OpId::matmul) {
      EXPECT_EQ(t16, 16);  // 134 MFLOP
    }
    // Never more than the context has, and one thread when it has one.
    EXPECT_GE(t16, 1);
    EXPECT_LE(t16, 16);
    EXPECT_EQ(step_threads(ir, n, 1), 1);
  }
}

// Steps on the whole team when fewer threads have work (96000 elements: 5 chunks of
// the element-wise grain for 8 threads) compute what one thread computes.
TEST(CpuThreads, ResultsDoNotDependOnTheThreadCount) {
  Graph g = small_and_large_graph();
  NamedTensors in{{"x", testing::random_tensor(DataType::float32, {4}, -1, 1, 3)},
                  {"a", testing::random_tensor(DataType::float32, {256, 512}, -1, 1, 4)},
                  {"big", testing::random_tensor(DataType::float32, {96000}, -1, 1, 5)}};
  ContextOptions one;
  one.num_threads = 1;
  NamedTensors want = Context::create(one).compute(g, in);
  for (int threads : {2, 3, 8}) {
    ContextOptions o;
    o.num_threads = threads;
    Context c = Context::create(o);
    NamedTensors got = c.compute(g, in);
    for (const auto& [name, t] : want)
      testing::expect_close(got.at(name), t.to_doubles(), {1e-5, 1e-5});
    std::string report = c.report(g);
    EXPECT_NE(report.find("on " + std::to_string(threads) + " threads (num_threads; 1 step too small"),
              std::string::npos)
        << report;
    EXPECT_NE(report.find("relu -> float32 [4] [1 thread]"), std::string::npos) << report;
  }
}

}  // namespace
}  // namespace cppnn
