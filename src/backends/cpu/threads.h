#pragma once
// How many threads the CPU backend runs on, and how many of them each step of a plan gets.
//
// A parallel region costs a fork and a join whatever it computes: waking the team, and a
// barrier that waits for the slowest thread. On 16 cores a region that computes for a few
// microseconds costs more than it saves, and on cores that other processes share the join
// waits for a thread the scheduler has put aside. So each step gets as many threads as its
// work can keep busy for at least a few tens of microseconds each, estimated at plan
// build from the bytes it moves and the arithmetic it does: in practice one thread or the
// whole team, because OpenMP pays for every change of team size.
#include <string>

#include "graph/ir.h"

namespace cppnn::detail {

struct CpuThreads {
  int count = 1;
  std::string why;  // what decided it, for the plan report
};

// The context's thread count: `requested` when positive; else OMP_NUM_THREADS when set;
// else the cores this process may run on (its affinity mask), at most its cgroup's CPU
// quota (a container limited to 2 CPUs on a 64-core host gets 2 threads, not 64).
CpuThreads cpu_thread_count(int requested);

// Sets the calling thread's OpenMP team size in the core's OpenMP runtime. The CUDA plugin
// calls this rather than omp_set_num_threads: installed from the wheels, libcppnn.so links
// the libgomp that auditwheel copied into the cppnn wheel under a name of its own, and the
// plugin's own call would set the count in whichever other libgomp it found, not the one
// that runs the CPU fallback's kernels.
void set_cpu_threads(int count);

// Microseconds of work worth a thread of its own: CPPNN_CPU_TASK_US (read once), default 25;
// 0 gives every step all of the context's threads.
double cpu_task_microseconds();

// The threads one node runs on: 1 when its estimated single-thread time is under twice
// cpu_task_microseconds(), else all `max_threads` (never a count between: see threads.cpp).
// Ops whose kernels run their own loop over time (recurrent nets) get `max_threads`.
int step_threads(const GraphIR& graph, const Node& node, int max_threads);

}  // namespace cppnn::detail
