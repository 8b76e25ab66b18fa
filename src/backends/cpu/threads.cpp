#include "backends/cpu/threads.h"

#include <omp.h>
#include <sched.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <fstream>

#include "backends/cpu/matmul_attention.h"
#include "graph/op_id.h"

namespace cppnn::detail {

namespace {

// A positive integer from the start of `text` (OMP_NUM_THREADS may be a list: "8,2"), or 0.
int leading_count(const char* text) {
  if (!text) return 0;
  char* end = nullptr;
  long v = std::strtol(text, &end, 10);
  if (end == text || v <= 0 || v > 4096) return 0;
  return int(v);
}

// The CPUs a cgroup quota allows (rounded up), or 0 when there is no quota. cgroup v2's
// cpu.max ("max 100000" or "200000 100000"), else v1's cfs_quota_us / cfs_period_us.
int cgroup_cpu_limit() {
  auto ratio = [](double quota, double period) {
    return quota > 0 && period > 0 ? std::max(1, int(std::ceil(quota / period))) : 0;
  };
  std::ifstream v2("/sys/fs/cgroup/cpu.max");
  if (v2) {
    std::string quota;
    double period = 0;
    if (v2 >> quota >> period && quota != "max") return ratio(std::atof(quota.c_str()), period);
    return 0;
  }
  std::ifstream q("/sys/fs/cgroup/cpu/cpu.cfs_quota_us"), p("/sys/fs/cgroup/cpu/cpu.cfs_period_us");
  double quota = 0, period = 0;
  if (q >> quota && p >> period) return ratio(quota, period);
  return 0;
}

int affinity_cpus() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof(set), &set) == 0) return std::max(1, CPU_COUNT(&set));
  return std::max(1, omp_get_num_procs());
}

double env_task_microseconds() {
  // 0 gives every step all threads (the behaviour before the cost model, for comparison).
  const char* text = std::getenv("CPPNN_CPU_TASK_US");
  if (!text || !*text) return 25.0;
  double v = std::atof(text);
  return v >= 0 ? v : 25.0;
}

size_t operand_bytes(const GraphIR& g, OperandId id) {
  if (id == kNoOperand) return 0;
  const OperandDescriptor& d = g.desc(id);
  return byte_size(d.data_type, element_count(d.shape));
}

size_t elements(const GraphIR& g, OperandId id) {
  return id == kNoOperand ? 0 : size_t(element_count(g.desc(id).shape));
}

// Ops that compute a libm function per element (a few nanoseconds each, not bandwidth).
bool transcendental(OpId op) {
  switch (op) {
    case OpId::exp:
    case OpId::log:
    case OpId::erf:
    case OpId::sin:
    case OpId::cos:
    case OpId::tan:
    case OpId::tanh:
    case OpId::sigmoid:
    case OpId::gelu:
    case OpId::softplus:
    case OpId::elu:
    case OpId::pow:
    case OpId::softmax:
      return true;
    default:
      return false;
  }
}

// Single-thread throughput assumed by the estimate: streaming bytes, multiply-adds in a
// oneDNN product, libm calls. Rough on purpose: they only need to separate microseconds
// of work from milliseconds.
constexpr double kBytesPerMicrosecond = 8000;     // 8 GB/s
constexpr double kFlopsPerMicrosecond = 50000;    // 50 GFLOP/s
constexpr double kCallsPerMicrosecond = 250;      // 4 ns per exp / erf / tanh

// Microseconds of `node` on one thread.
double estimate_microseconds(const GraphIR& g, const Node& node) {
  size_t bytes = 0;
  for (OperandId id : node.inputs) bytes += operand_bytes(g, id);
  for (OperandId id : node.outputs) bytes += operand_bytes(g, id);
  double t = double(bytes) / kBytesPerMicrosecond;
  size_t out = node.outputs.empty() ? 0 : elements(g, node.outputs[0]);
  double flops = 0;
  switch (op_kind(node.op)) {
    case OpKind::conv: {
      // 2 * outputs * (input channels per group) * kernel window: the filter's elements
      // per output channel, whatever its filterLayout.
      const Dims& y = g.desc(node.outputs[0]).shape;
      size_t channel_axis = node.attrs.s_or("inputLayout", "nchw") == "nhwc" ? 3 : 1;
      if (node.inputs.size() > 1 && node.inputs[1] != kNoOperand && y.size() == 4 && y[channel_axis] > 0)
        flops = 2 * double(out) * double(element_count(g.desc(node.inputs[1]).shape)) /
                double(y[channel_axis]);
      break;
    }
    case OpKind::matmul: {
      const Dims& a = g.desc(node.inputs[0]).shape;
      double k = 1;
      if (node.op == OpId::gemm)
        k = double(node.attrs.b("aTranspose") ? a[0] : a[a.size() - 1]);
      else if (!a.empty())
        k = double(a.back());
      flops = 2 * double(out) * k;
      break;
    }
    case OpKind::pool: {
      // Every output reads its window.
      size_t in = elements(g, node.inputs[0]);
      flops = double(std::max(in, out)) * 4;
      break;
    }
    default:
      break;
  }
  if (node.op == OpId::attention) {
    // Both products and an exp per score (matmul_attention.h).
    double exps = 0;
    attention_work(g, node, flops, exps);
    t = std::max(t, exps / kCallsPerMicrosecond / 4);  // the kernel's exp is vectorized
  }
  t = std::max(t, flops / kFlopsPerMicrosecond);
  if (transcendental(node.op)) t = std::max(t, double(std::max(out, elements(g, node.inputs[0]))) / kCallsPerMicrosecond);
  return t;
}

}  // namespace

CpuThreads cpu_thread_count(int requested) {
  if (requested > 0) return {requested, "num_threads"};
  if (int omp = leading_count(std::getenv("OMP_NUM_THREADS")))
    return {omp, "OMP_NUM_THREADS"};
  int cpus = affinity_cpus();
  int quota = cgroup_cpu_limit();
  if (quota > 0 && quota < cpus) return {quota, "the cgroup's CPU quota"};
  return {cpus, "all cores"};
}

void set_cpu_threads(int count) { omp_set_num_threads(count); }

double cpu_task_microseconds() {
  static const double us = env_task_microseconds();
  return us;
}

int step_threads(const GraphIR& g, const Node& node, int max_threads) {
  if (max_threads <= 1) return 1;
  if (op_kind(node.op) == OpKind::recurrent) return max_threads;
  if (cpu_task_microseconds() <= 0) return max_threads;
  // One thread or the whole team, nothing between: OpenMP re-forms its team whenever a
  // region asks for another size (measured on 16 cores: teams sized to each step's work,
  // any size or powers of two, ran MobileNetV2 2-3x slower than this).
  double n = std::floor(estimate_microseconds(g, node) / cpu_task_microseconds());
  return n >= 2 ? max_threads : 1;
}

}  // namespace cppnn::detail
