#pragma once
// Compiler passes over the graph IR. They need no device: the CPU backend, the CUDA plan
// and the engine builder run them before binding kernels. They sit below every backend
// (docs/layers.md): anything a pass must compute, it is given by its caller.
#include <functional>
#include <map>
#include <memory>
#include <vector>

#include "graph/ir.h"

namespace cppnn::detail {

// How constant folding computes a node: given by the caller, so that the passes need no
// backend. The CPU backend's (backends/cpu/evaluator.h) runs its own kernels; the engine
// builder and the CUDA plan use it too, so every consumer folds to the same values.
struct ConstantEvaluator {
  // Whether `op` can be computed; a node of another op stays a runtime op.
  std::function<bool(OpId op)> can_evaluate;
  // Computes `node` of `graph`, all of whose inputs are constants: `inputs` are their data
  // (nullptr for an absent optional operand), `outputs` are allocated with the node's
  // output descriptors.
  std::function<void(const GraphIR& graph, const Node& node,
                     const std::vector<const Tensor*>& inputs,
                     const std::vector<Tensor*>& outputs)>
      evaluate;
  explicit operator bool() const { return can_evaluate && evaluate; }
};

// An attention that fuse_attention can replace by one node, for the backend to accept or not.
struct AttentionCandidate {
  int64_t batch = 0, heads = 0, query_length = 0, key_length = 0, head_dim = 0, value_dim = 0;
  DataType data_type = DataType::float32;  // of q, k, v and the output
  bool masked = false;
  DataType mask_type = DataType::float32;
  bool conditioned = false;  // a where(uint8 cond, scores, fill) mask
  // A constant causal mask, recognized and dropped (fuse_attention.cpp): masked and
  // conditioned say what is left of the masks.
  bool causal = false;
};

struct PassOptions {
  bool fold_constants = true;
  bool fuse = true;
  // choose_channels_last: a device's layout, so the backends' choice (the CPU always, the
  // CUDA plan where its kernels want it); an engine's portable graph is built without it.
  bool channels_last = true;
  // Lower lstm, lstmCell, gru and gruCell into matmuls, slices and element-wise ops
  // (lower_recurrent) before anything else: for a backend with no recurrent kernel of its
  // own (the CUDA plan). The CPU keeps them: its kernel runs the whole sequence.
  bool lower_recurrent = false;
  // Fused attention (fuse_attention): asked about each candidate, true replaces it by one
  // internal attention node; unset: no fusion (a backend without an attention kernel; the
  // engine builder, whose graphs stay backend-neutral).
  std::function<bool(const AttentionCandidate&)> attention;
  // Merged projections (merge_projections): asked with the data type and head dimension
  // of each group of matmuls of one input by constant weights whose results an attention
  // splits into heads; true makes them one matmul and a split. Unset: none (fuse_attention
  // then reads q, k and v where the merged matmul wrote them, so it is for a backend whose
  // attention kernel takes that type and head dimension: else the split is a copy).
  std::function<bool(DataType type, int64_t head_dim)> merge_projections;
  // layerNormalization takes over the add before it (fuse_norm_residual): asked about each
  // candidate node; unset: no fusion.
  std::function<bool(const GraphIR& graph, const Node& layer_norm)> norm_residual;
  // The CPU backend's own fusions, whose attributes only its kernels read (fuse_swish,
  // fold_transposes_into_matmul): set for a CPU plan's graph alone, never for an engine's
  // portable graph or another backend's.
  bool cpu_plan_fusions = false;
  // The graph is one concrete shape's, about to become a backend's plan (never an engine's
  // portable graph, whose dynamic-shape form must hold at every size): rewrites that hold
  // only at these sizes may run (unit_transposes_to_reshapes).
  bool concrete_shapes = false;
  // Folding is for weights and shape arithmetic: a node whose results are larger than
  // max_folded_node_bytes, or that would take the graph's folded total past
  // max_folded_bytes, stays a runtime op, so that a small graph (an expand of a scalar,
  // repeated) can neither balloon into a huge engine nor exhaust memory while compiling.
  size_t max_folded_node_bytes = size_t(64) << 20;
  size_t max_folded_bytes = size_t(1) << 30;
  // Constants whose values change from one specialization of a dynamic-shape graph to the
  // next (graph/symbolic.h, patched positions): nodes that read them are not folded, so
  // that the folded graph still holds the place the patch writes.
  std::vector<OperandId> runtime_constants;
  // Without an evaluator, fold_constants does nothing: the graph keeps its constant
  // subgraphs as runtime ops (correct, only slower).
  ConstantEvaluator evaluator;
};

// Returns an optimized copy; the input graph is never changed (a Graph is immutable and
// may be shared by several contexts).
std::shared_ptr<const GraphIR> optimize(const std::shared_ptr<const GraphIR>& graph,
                                        const PassOptions& options = {});

// The individual passes, in the order optimize() runs them.
// Replaces every recurrent node (lstm, lstmCell, gru, gruCell) by the spec's decomposition,
// unrolled over its steps (lower_recurrent.cpp); its outputs keep their operand ids.
void lower_recurrent(GraphIR& graph);
// Evaluates nodes whose inputs are all constants (with options.evaluator; none: no
// folding) into constants.
void fold_constants(GraphIR& graph, const PassOptions& options = {});
// conv2d / convTranspose2d / matmul / gemm absorb a following per-channel bias add,
// a residual add (conv2d) and an activation, per the attribute contract in fusion.cpp.
void fuse_producers(GraphIR& graph);
// Rewrites x * 0.5 * (1 + erf(x / sqrt(2))), as exporters spell WebNN's gelu, into one gelu
// node, which fuse_producers can then put into a matmul's epilogue.
void fuse_gelu(GraphIR& graph);
// Rewrites x * clamp(x + 3, 0, 6) / 6 (and its orderings) into one hardSwish, which
// fuse_producers can put into a conv's epilogue.
void fuse_hard_swish(GraphIR& graph);
// mul by a scalar constant then add (or subtract) a scalar constant -> one linear node.
void fuse_linear(GraphIR& graph);
// The CPU backend's own: y * sigmoid(y) after a conv or product (SiLU, EfficientNet's and
// YOLO's activation) becomes its "swish" epilogue (oneDNN's eltwise_swish). Not a WebNN
// activation: only for a plan's private graph, never validated or written (fusion.cpp).
void fuse_swish(GraphIR& graph);
// The CPU backend's own: relu after a batchNormalization (DenseNet's pre-activation
// BN -> ReLU -> conv) becomes the batch norm's "activation" attribute, one pass instead of
// two; read by the CPU's batch norm kernel only (cpu_plan_fusions).
void fuse_batch_norm_relu(GraphIR& graph);
// The CPU backend's own: a batched matmul reads its inputs through the transposes that feed
// it, and writes through the transpose that alone reads it (attention's head splits and
// k^T), as strided oneDNN memory; attributes "aPermutation" / "bPermutation" /
// "outPermutation" (backends/cpu/matmul.cpp). Float32 only.
void fold_transposes_into_matmul(GraphIR& graph);
// A transpose that keeps the order of every axis longer than 1 moves no bytes: it becomes a
// reshape, which the backends run as a view (a decoder step's head split, [1, 1, 12, 64] ->
// [1, 12, 1, 64], was a copy kernel per layer and per q and k). Only at concrete shapes
// (PassOptions::concrete_shapes): a size-1 axis at one size may be longer at another.
void unit_transposes_to_reshapes(GraphIR& graph);
// Whether transposing `shape` by `perm` keeps the order of its axes longer than 1 (false for
// an axis out of range).
bool moves_only_unit_axes(const Dims& shape, const std::vector<int64_t>& perm);
// That rewrite for one node (the layout pass makes it too): a transpose that moves only
// size-1 axes becomes a reshape; returns whether it did.
bool transpose_to_reshape(GraphIR& graph, Node& transpose);
// The query, key and value projections of one input (matmuls by constant weights, their
// bias adds, read only by reshapes into heads) become one matmul, one add and a split where
// options.merge_projections accepts them (merge_projections.cpp).
void merge_projections(GraphIR& graph, const PassOptions& options);
// softmax(q k^T * scale + mask) v, as exported models spell it (matmul, scalar mul/div,
// an added mask, softmax, matmul, with the transposes of split heads around them), becomes
// one internal attention node where options.attention accepts it (fuse_attention.cpp says
// what is matched and the node's attributes).
void fuse_attention(GraphIR& graph, const PassOptions& options);
// layerNormalization(add(a, b)) with equal shapes, the sum read by nothing else, becomes
// layerNormalization with input 3 "residual": y = LN(a + b), where options.norm_residual
// accepts it.
void fuse_norm_residual(GraphIR& graph, const PassOptions& options);
// Runs NCHW conv2d (and pools fed by them) in NHWC, cancelling the transposes. A backend's
// choice, made when it compiles: engines keep the graph's own layout. Fused convs (bias,
// residual, activation) are moved too, so running it after fuse_producers (an engine's
// graph, optimized again by the backend) gives the layout it gives before.
void choose_channels_last(GraphIR& graph);
// Drops nodes and operands no output depends on, renumbering operands.
void remove_dead_code(GraphIR& graph);

// Not part of optimize(): float16 precision (an engine's or a context's; the engine layer's
// portable_graph runs it after optimize). Computes every float32 operand in float16 behind
// an unchanged float32 interface (casts at the inputs and outputs); reductions stay
// float32. precision.cpp says exactly what changes. Sets graph.precision; a graph whose
// precision is not float32 (lowered already, or read from a float16 engine) is left as it is.
//
// `cache`, when given, keeps each float32 constant's lowered copy by its source (held alive,
// so an address is never reused while the cache lives): a dynamic-shape engine build lowers
// the same weights at every probe, and converts them once.
struct LoweredConstants {
  struct Entry {
    std::shared_ptr<const Tensor> source, lowered;
  };
  std::map<std::pair<const void*, DataType>, Entry> entries;
};
// keep_io_types false: the graph's float32 inputs and outputs become float16 too (no casts
// at the interface; EngineBuildOptions::keep_io_types).
void lower_to_float16(GraphIR& graph, LoweredConstants* cache = nullptr, bool keep_io_types = true);
// The same in bfloat16 (an internal type: cppnn/types.h). Backends run ops on bfloat16
// operands in float32 where they have no bfloat16 kernel (the CPU: make_node_kernel).
void lower_to_bfloat16(GraphIR& graph, LoweredConstants* cache = nullptr);

}  // namespace cppnn::detail
