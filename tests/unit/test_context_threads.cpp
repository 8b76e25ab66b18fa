// A context used from several threads, and destroyed while they compute. Every call must
// either finish with the right values or be an InvalidStateError, and nothing may run in
// the context after destroy() returns. `make test-tsan` runs these under ThreadSanitizer,
// which is what saw computes that passed the "destroyed?" check before destroy() and ran
// after it (the flag was read outside the mutex).
#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include "cppnn/context.h"
#include "unit/test_support.h"

namespace cppnn {
namespace {

// y = relu(x) + 1 over n values; a fresh graph each call makes every compute build a plan.
Graph small_graph(int64_t n) {
  GraphBuilder b;
  Operand x = b.input("x", DataType::float32, {n});
  Operand one = b.constant(Tensor::from(DataType::float32, {1}, std::vector<float>{1}));
  return b.build({{"y", b.add(b.relu(x), one)}});
}

NamedTensors inputs(int64_t n) {
  std::vector<float> v(static_cast<size_t>(n));
  for (size_t i = 0; i < v.size(); ++i) v[i] = float(int(i % 7) - 3);
  return {{"x", Tensor::from(DataType::float32, {n}, v)}};
}

bool right_values(const NamedTensors& out, int64_t n) {
  std::vector<double> y = out.at("y").to_doubles();
  if (y.size() != size_t(n)) return false;
  for (size_t i = 0; i < y.size(); ++i)
    if (y[i] != std::max(double(int(i % 7) - 3), 0.0) + 1) return false;
  return true;
}

ContextOptions cpu_options() {
  ContextOptions o;
  o.accelerated = false;
  o.num_threads = 1;
  return o;
}

TEST(ContextThreads, ComputeWhileDestroy) {
  for (int round = 0; round < 20; ++round) {
    Context c = Context::create(cpu_options());
    std::atomic<bool> destroy_returned{false};
    std::atomic<int> ok{0}, rejected{0}, wrong{0}, late{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t)
      threads.emplace_back([&, t] {
        for (int i = 0; i < 200; ++i) {
          bool after = destroy_returned.load();
          int64_t n = 64 + 16 * t + i % 3;
          try {
            Graph g = small_graph(n);
            NamedTensors out = c.compute(g, inputs(n));
            ok += 1;
            if (!right_values(out, n)) wrong += 1;
            // A compute that began after destroy() returned must not run.
            if (after) late += 1;
          } catch (const Error& e) {
            if (e.kind() != ErrorKind::InvalidStateError) wrong += 1;
            rejected += 1;
          }
        }
      });
    std::this_thread::sleep_for(std::chrono::microseconds(200 * (round % 5)));
    c.destroy();
    destroy_returned = true;
    EXPECT_TRUE(c.destroyed());
    for (auto& th : threads) th.join();
    EXPECT_EQ(wrong.load(), 0);
    EXPECT_EQ(late.load(), 0);
    EXPECT_EQ(ok + rejected, 800);
    EXPECT_THROW(c.compute(small_graph(4), inputs(4)), Error);
  }
}

TEST(ContextThreads, ConcurrentComputeOnOneContext) {
  Context c = Context::create(cpu_options());
  std::vector<Graph> graphs;
  for (int t = 0; t < 4; ++t) graphs.push_back(small_graph(100 + t));
  std::atomic<int> wrong{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      for (int i = 0; i < 100; ++i) {
        NamedTensors out = c.compute(graphs[size_t(t)], inputs(100 + t));
        if (!right_values(out, 100 + t)) wrong += 1;
        if (i % 10 == 0) (void)c.backend();
      }
    });
  for (auto& th : threads) th.join();
  EXPECT_EQ(wrong.load(), 0);
}

// A device tensor destroyed while other threads write and read it: each call succeeds or
// is an InvalidStateError; none touches freed memory (ASan's build sees that).
TEST(ContextThreads, TensorDestroyedWhileUsed) {
  for (int round = 0; round < 20; ++round) {
    Context c = Context::create(cpu_options());
    DeviceTensor t = c.create_tensor(DataType::float32, {1024});
    Tensor data = Tensor::from(DataType::float32, {1024}, std::vector<float>(1024, 2.0f));
    std::atomic<int> wrong{0};
    std::vector<std::thread> threads;
    for (int k = 0; k < 3; ++k)
      threads.emplace_back([&, k] {
        DeviceTensor mine = t;  // a copy shares the memory
        for (int i = 0; i < 200; ++i) {
          try {
            if (k == 0) {
              c.write_tensor(mine, data);
            } else {
              Tensor back = c.read_tensor(mine);
              if (back.element_count() != 1024) wrong += 1;
            }
          } catch (const Error& e) {
            if (e.kind() != ErrorKind::InvalidStateError) wrong += 1;
          }
        }
      });
    std::this_thread::sleep_for(std::chrono::microseconds(100 * (round % 4)));
    DeviceTensor other = t;
    other.destroy();
    for (auto& th : threads) th.join();
    EXPECT_EQ(wrong.load(), 0);
    EXPECT_FALSE(t.valid());
    c.destroy();
  }
}

}  // namespace
}  // namespace cppnn
