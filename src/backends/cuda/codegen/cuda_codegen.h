#pragma once
// CUDA code generation for chains of element-wise ops. Pure C++: it writes CUDA C++ source
// text and never touches a CUDA header or library, so engines with generated kernels are
// built on machines without CUDA; the GPU backend compiles the text with NVRTC at JIT time.
//
// Grouping. Element-wise nodes (arithmetic, comparisons, logical ops, unary math,
// activations, clamp, prelu, cast, where) are grouped into one kernel each way that keeps
// every intermediate in registers: a node joins the group of its consumers when its output
// is not a graph output, all its consumers are element-wise nodes of that one group, and
// its shape is the group's output shape (so nothing is recomputed per broadcast element).
// A group is then a convex sub-DAG with exactly ONE output, its last node's: a value
// needed outside the group ends it (multi-output kernels are not generated yet). The
// group's external inputs (graph inputs, constants, other kernels' outputs) may broadcast
// to the output shape with numpy rules.
//
// Kernels. One thread per output element over a grid-stride loop. The element count, the
// walk's sizes and every broadcast stride are the kernel's last argument (a struct of
// integers, `size_args`), not literals: the source depends only on the shape's structure
// (which inputs broadcast along which dimensions, vectorized or not, 32- or 64-bit
// indices), so one compile serves every shape of that structure (a dynamic-shape engine's
// new sequence length, every batch size, layers of different widths). 32-bit index math
// divides by multiplying with a precomputed reciprocal (cuda_fast_divisor), as NVRTC would
// for a literal divisor. float16 is stored as 16-bit patterns and
// computed in float, rounded back to float16 after every op exactly as the CPU backend
// does; integer arithmetic wraps, integer division by zero gives 0, float max/min
// propagate NaN and cast saturates as in src/backends/cpu/elementwise_cast.cpp. Compile
// with --fmad=false so that every op rounds on its own, as on the CPU. No header is
// included: the source compiles with NVRTC and no include path.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "graph/ir.h"

namespace cppnn::detail {

// Threads per block every generated kernel is written for (its __launch_bounds__).
inline constexpr unsigned kCudaBlockSize = 256;
// Constants with at most this many elements are written into the source (as literals, or
// as a __constant__ array when they vary) instead of being kernel arguments.
inline constexpr size_t kMaxInlinedConstantElements = 16;

// True for the ops the code generator handles: the element-wise ops of ops.def
// (is_elementwise).
bool is_cuda_elementwise_op(OpId op);

// A group of element-wise nodes that becomes one kernel.
struct ElementwiseGroup {
  std::vector<size_t> nodes;         // indices into GraphIR::nodes, in topological order
  OperandId output = kNoOperand;     // the last node's output
  std::vector<OperandId> externals;  // operands read from outside, first use first
};

// The groups of a graph, ordered by their last node: that order is topological for the
// kernels too. Every live element-wise node is in exactly one group.
std::vector<ElementwiseGroup> group_elementwise_nodes(const GraphIR& graph);

struct GeneratedKernel {
  std::string name;    // the __global__ function's name (extern "C")
  std::string source;  // CUDA C++; same graph, same bytes
  // The kernel's parameters, in order: one device pointer per input, then the output, then
  // the sizes (cuda_size_argument). Inputs are graph inputs, constants too large to inline,
  // and other kernels' outputs.
  std::vector<OperandId> inputs;
  OperandId output = kNoOperand;
  // The values of the sizes argument, in order: the loop's count, then the walk's divisors
  // and strides. Each is 32-bit in a kernel with 32-bit indices (`wide_indices` false),
  // else 64-bit.
  std::vector<uint64_t> size_args;
  bool wide_indices = false;
  size_t elements = 0;    // output elements
  size_t work_items = 0;  // grid-stride loop iterations: elements, or elements / 4
  // Each loop iteration handles 4 consecutive elements with vector loads and stores: every
  // pointer parameter must then be 16-byte aligned (cudaMalloc'd buffers are). The output
  // may be the same buffer as an input of its shape (in place): each element is read
  // before it is written, by the same thread.
  bool vectorized = false;
  std::vector<size_t> nodes;                 // the graph nodes this kernel computes
  std::vector<OperandId> inlined_constants;  // constants written into the source
  // `source` is the shared device helpers (a CudaHelper bit mask, cuda_codegen_ops.h)
  // followed by `definitions`, the kernel's own code, whose every name starts with `name`.
  unsigned helpers = 0;
  std::string definitions;
};

// One kernel per group of group_elementwise_nodes(graph), in the same order.
std::vector<GeneratedKernel> generate_cuda_kernels(const GraphIR& graph);

// A kernel's definitions without their comment lines (which name the graph's nodes,
// operands and shapes): the code that is compiled, the same at every shape of the same
// structure.
std::string cuda_kernel_code(const GeneratedKernel& kernel);

// The bytes of a kernel's last parameter, its sizes: `size_args` as an array of 32-bit
// (or, with wide_indices, 64-bit) unsigned integers, host byte order, which is the device's.
std::vector<unsigned char> cuda_size_argument(const GeneratedKernel& kernel);

// floor(x / d) == __umulhi(x, multiplier) >> shift for every 32-bit x below 2^31 and every
// divisor d from 2 to 2^31: shift = ceil(log2 d) - 1 and multiplier = ceil(2^(32 + shift) / d).
// (With x < 2^31 <= 2^(31 + shift + 1) / d the rounding error of the multiplier stays
// below 1/d, which cannot carry the quotient past the next integer.)
struct CudaFastDivisor {
  uint32_t multiplier = 0;
  uint32_t shift = 0;
};
CudaFastDivisor cuda_fast_divisor(uint64_t divisor);

// One source holding all `kernels` (of one graph: their names must differ), the helpers
// they share written once. NVRTC has a fixed cost per program of some 20 ms and does not
// compile two programs of one process at once, so one program for a whole graph is how
// JIT stays fast.
std::string cuda_module_source(const std::vector<GeneratedKernel>& kernels);

// Blocks of kCudaBlockSize threads to launch for `kernel` on a device with
// `multiprocessors` SMs: enough to cover the work, capped at a few waves (the loop strides
// over the rest). Always at least 1. Kernels expect grid * block <= 2^31 (their 32-bit
// index math leaves room for one stride past the end, no more).
unsigned cuda_grid_size(const GeneratedKernel& kernel, unsigned multiprocessors);

}  // namespace cppnn::detail
