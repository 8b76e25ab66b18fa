#pragma once
// CUDA's launch, emulated on the host, with blockIdx, threadIdx, blockDim and gridDim set as
// the GPU would set them. Two runners:
//   host_run_grid       every thread of every block in turn: kernels whose threads never wait
//                       for each other (the generated kernels, the depthwise convolution);
//   host_run_grid_sync  each block's threads as fibers that switch at host_sync_block()
//                       (__syncthreads) and host_sync_warp() (__syncwarp, and inside the
//                       warp-wide operations the tests emulate, such as mma): kernels with
//                       shared memory and tensor-core fragments.
// Used by the generated kernels' host test (host_shim.h) and the hand-written kernels'
// (tests/cuda_host).
#include <ucontext.h>

#include <cstddef>
#include <memory>
#include <stdexcept>
#include <type_traits>
#include <vector>

struct HostDim3 {
  unsigned x = 0, y = 1, z = 1;
};
inline HostDim3 blockIdx, threadIdx, blockDim, gridDim;

// Runs thread() once per thread of a one-dimensional grid of `grid` blocks of `block` threads.
template <typename Thread>
void host_run_grid(unsigned grid, unsigned block, Thread&& thread) {
  gridDim = {grid, 1, 1};
  blockDim = {block, 1, 1};
  blockIdx = {0, 0, 0};
  threadIdx = {0, 0, 0};
  for (blockIdx.x = 0; blockIdx.x < grid; ++blockIdx.x)
    for (threadIdx.x = 0; threadIdx.x < block; ++threadIdx.x) thread();
}

namespace host_grid_detail {

enum class State { runnable, at_warp, at_block, done };

struct Fiber {
  ucontext_t context{};
  std::unique_ptr<char[]> stack;
  State state = State::runnable;
};

struct Block {
  ucontext_t scheduler{};
  std::vector<Fiber> fibers;
  unsigned current = 0;
  void (*body)(void*) = nullptr;
  void* body_arg = nullptr;
};

inline Block*& active() {
  static Block* b = nullptr;
  return b;
}

inline void fiber_main() {
  Block& b = *active();
  b.body(b.body_arg);
  b.fibers[b.current].state = State::done;
  // Returning resumes uc_link: the scheduler.
}

inline void wait(State at) {
  if (!active()) throw std::logic_error("a CUDA barrier outside host_run_grid_sync");
  Block& b = *active();
  b.fibers[b.current].state = at;
  swapcontext(&b.fibers[b.current].context, &b.scheduler);
  threadIdx.x = b.current;  // back on this thread
}

}  // namespace host_grid_detail

// __syncthreads(): every thread of the block that has not finished arrives before any leaves.
inline void host_sync_block() { host_grid_detail::wait(host_grid_detail::State::at_block); }
// __syncwarp(): the same over the 32 threads of this thread's warp.
inline void host_sync_warp() { host_grid_detail::wait(host_grid_detail::State::at_warp); }

// A grid of x by y by z blocks: from a block count, or from CUDA's dim3.
struct HostGrid {
  unsigned x = 1, y = 1, z = 1;
  HostGrid(unsigned blocks) : x(blocks) {}
  template <typename Dim3>
  HostGrid(const Dim3& d) : x(d.x), y(d.y), z(d.z) {}
};

// Runs thread() for every thread of every block, each block's threads as fibers. Throws
// std::logic_error when the threads deadlock (some wait at a barrier the others never reach).
template <typename Thread>
void host_run_grid_sync(HostGrid grid, unsigned block, Thread&& thread, size_t stack_bytes = 64 << 10) {
  using namespace host_grid_detail;
  gridDim = {grid.x, grid.y, grid.z};
  blockDim = {block, 1, 1};
  blockIdx = {0, 0, 0};
  threadIdx = {0, 0, 0};
  Block b;
  b.fibers.resize(block);
  for (Fiber& f : b.fibers) f.stack.reset(new char[stack_bytes]);
  b.body = [](void* arg) { (*static_cast<std::remove_reference_t<Thread>*>(arg))(); };
  b.body_arg = &thread;
  active() = &b;
  // (blockIdx, a global, is the loop counter: a local one might be clobbered across the
  // context switches, as across a longjmp.)
  for (blockIdx = {0, 0, 0}; blockIdx.z < grid.z; blockIdx.y = 0, ++blockIdx.z)
  for (; blockIdx.y < grid.y; blockIdx.x = 0, ++blockIdx.y)
  for (; blockIdx.x < grid.x; ++blockIdx.x) {
    for (unsigned t = 0; t < block; ++t) {
      Fiber& f = b.fibers[t];
      f.state = State::runnable;
      getcontext(&f.context);
      f.context.uc_stack.ss_sp = f.stack.get();
      f.context.uc_stack.ss_size = stack_bytes;
      f.context.uc_link = &b.scheduler;
      makecontext(&f.context, fiber_main, 0);
    }
    // Warp by warp: each warp runs (its lanes switching at warp barriers) until every lane
    // waits at __syncthreads or is done, before the next warp starts. Warps thus drift as far
    // apart as the block's barriers allow, so that a missing __syncthreads shows as wrong
    // values rather than hiding behind lockstep execution.
    for (;;) {
      for (unsigned w = 0; w < block; w += 32) {
        const unsigned end = w + 32 < block ? w + 32 : block;
        for (;;) {
          bool ran = false;
          for (unsigned t = w; t < end; ++t) {
            if (b.fibers[t].state != State::runnable) continue;
            ran = true;
            b.current = t;
            threadIdx.x = t;
            swapcontext(&b.scheduler, &b.fibers[t].context);
          }
          if (ran) continue;
          bool warp_ready = true, any = false;
          for (unsigned t = w; t < end; ++t) {
            if (b.fibers[t].state == State::at_warp) any = true;
            else if (b.fibers[t].state != State::done) warp_ready = false;
          }
          if (!any) break;  // every lane at __syncthreads or done
          if (!warp_ready) {
            active() = nullptr;
            throw std::logic_error("emulated kernel deadlocked: a warp's lanes wait at different barriers");
          }
          for (unsigned t = w; t < end; ++t)
            if (b.fibers[t].state == State::at_warp) b.fibers[t].state = State::runnable;
        }
      }
      bool all_done = true;
      for (const Fiber& f : b.fibers)
        if (f.state != State::done) all_done = false;
      if (all_done) break;
      // Every live thread waits at __syncthreads (a warp-level wait would have been run above).
      for (Fiber& f : b.fibers)
        if (f.state == State::at_block) f.state = State::runnable;
    }
  }
  active() = nullptr;
}
