#pragma once
// The WebNN graph builder: operands, options of every op, the builder and the built graph.
// Names follow the WebNN specification (camelCase ops become snake_case methods only in
// Python); every method validates its arguments with the spec's rules and throws
// cppnn::Error naming the op, the operand and the rule.
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cppnn/error.h"
#include "cppnn/tensor.h"
#include "cppnn/types.h"

namespace cppnn {

class Operand;
class GraphBuilder;
namespace detail {
struct BuilderState;
struct GraphIR;
struct SymbolicShapes;
Operand make_operand(GraphBuilder& builder, int32_t id);
}  // namespace detail

struct OperandDescriptor {
  DataType data_type = DataType::float32;
  Dims shape;
  // Written out: the public headers compile as C++17 (defaulted comparisons are C++20).
  bool operator==(const OperandDescriptor& o) const { return data_type == o.data_type && shape == o.shape; }
  bool operator!=(const OperandDescriptor& o) const { return !(*this == o); }
};

class Operand {
 public:
  Operand() = default;
  DataType data_type() const;
  const Dims& shape() const;
  size_t rank() const { return shape().size(); }
  bool valid() const { return state_ != nullptr; }
  int32_t id() const { return id_; }
  // The builder state that owns this operand (identity only).
  const detail::BuilderState* owner() const { return state_.get(); }

 private:
  friend class GraphBuilder;
  friend Operand detail::make_operand(GraphBuilder& builder, int32_t id);
  Operand(std::shared_ptr<detail::BuilderState> state, int32_t id)
      : state_(std::move(state)), id_(id) {}
  std::shared_ptr<detail::BuilderState> state_;
  int32_t id_ = -1;
};

enum class InputLayout { nchw, nhwc };
enum class Conv2dFilterLayout { oihw, hwio, ohwi, ihwo };
enum class ConvTranspose2dFilterLayout { iohw, hwoi, ohwi };
enum class PaddingMode { constant, edge, reflection };
enum class RoundingType { floor, ceil };
enum class InterpolationMode { nearest_neighbor, linear };
// Recurrent networks (lstm, lstmCell, gru, gruCell).
enum class RecurrentNetworkActivation { relu, sigmoid, tanh };
enum class RecurrentNetworkDirection { forward, backward, both };
// The order of the gates along the weights' and biases' gate dimension.
enum class LstmWeightLayout { iofg, ifgo };
enum class GruWeightLayout { zrn, rzn };

struct OperatorOptions {
  std::string label;
};

struct ArgMinMaxOptions : OperatorOptions {
  bool keep_dimensions = false;
  DataType output_data_type = DataType::int32;
};

struct BatchNormalizationOptions : OperatorOptions {
  Operand scale;
  Operand bias;
  uint32_t axis = 1;
  double epsilon = 1e-5;
};

struct ClampOptions : OperatorOptions {
  std::optional<double> min_value;
  std::optional<double> max_value;
};

struct Conv2dOptions : OperatorOptions {
  std::vector<uint32_t> padding;    // [beginH, endH, beginW, endW]
  std::vector<uint32_t> strides;    // [h, w]
  std::vector<uint32_t> dilations;  // [h, w]
  uint32_t groups = 1;
  InputLayout input_layout = InputLayout::nchw;
  Conv2dFilterLayout filter_layout = Conv2dFilterLayout::oihw;
  Operand bias;
};

struct ConvTranspose2dOptions : OperatorOptions {
  std::vector<uint32_t> padding;
  std::vector<uint32_t> strides;
  std::vector<uint32_t> dilations;
  std::vector<uint32_t> output_padding;
  std::vector<uint32_t> output_sizes;
  uint32_t groups = 1;
  InputLayout input_layout = InputLayout::nchw;
  ConvTranspose2dFilterLayout filter_layout = ConvTranspose2dFilterLayout::iohw;
  Operand bias;
};

struct CumulativeSumOptions : OperatorOptions {
  bool exclusive = false;
  bool reversed = false;
};

struct EluOptions : OperatorOptions {
  double alpha = 1.0;
};

struct GatherOptions : OperatorOptions {
  uint32_t axis = 0;
};

// scatterElements' options (WebNN MLScatterOptions).
struct ScatterOptions : OperatorOptions {
  uint32_t axis = 0;
};

struct GemmOptions : OperatorOptions {
  Operand c;
  double alpha = 1.0;
  double beta = 1.0;
  bool a_transpose = false;
  bool b_transpose = false;
};

struct HardSigmoidOptions : OperatorOptions {
  double alpha = 0.2;
  double beta = 0.5;
};

struct InstanceNormalizationOptions : OperatorOptions {
  Operand scale;
  Operand bias;
  double epsilon = 1e-5;
  InputLayout layout = InputLayout::nchw;
};

// Absent operands (invalid Operands) are the spec's absent options; an empty activations
// list is the spec's default.
struct GruOptions : OperatorOptions {
  Operand bias;                // [numDirections, 3 * hiddenSize]
  Operand recurrent_bias;      // [numDirections, 3 * hiddenSize]
  Operand initial_hidden_state;  // [numDirections, batchSize, hiddenSize]; default zeros
  bool reset_after = true;
  bool return_sequence = false;
  RecurrentNetworkDirection direction = RecurrentNetworkDirection::forward;
  GruWeightLayout layout = GruWeightLayout::zrn;
  std::vector<RecurrentNetworkActivation> activations;  // 2; default {sigmoid, tanh}
};

struct GruCellOptions : OperatorOptions {
  Operand bias;            // [3 * hiddenSize]
  Operand recurrent_bias;  // [3 * hiddenSize]
  bool reset_after = true;
  GruWeightLayout layout = GruWeightLayout::zrn;
  std::vector<RecurrentNetworkActivation> activations;  // 2; default {sigmoid, tanh}
};

struct LstmOptions : OperatorOptions {
  Operand bias;                  // [numDirections, 4 * hiddenSize]
  Operand recurrent_bias;        // [numDirections, 4 * hiddenSize]
  Operand peephole_weight;       // [numDirections, 3 * hiddenSize], gates i, o, f
  Operand initial_hidden_state;  // [numDirections, batchSize, hiddenSize]; default zeros
  Operand initial_cell_state;    // [numDirections, batchSize, hiddenSize]; default zeros
  bool return_sequence = false;
  RecurrentNetworkDirection direction = RecurrentNetworkDirection::forward;
  LstmWeightLayout layout = LstmWeightLayout::iofg;
  std::vector<RecurrentNetworkActivation> activations;  // 3; default {sigmoid, tanh, tanh}
};

struct LstmCellOptions : OperatorOptions {
  Operand bias;             // [4 * hiddenSize]
  Operand recurrent_bias;   // [4 * hiddenSize]
  Operand peephole_weight;  // [3 * hiddenSize], gates i, o, f
  LstmWeightLayout layout = LstmWeightLayout::iofg;
  std::vector<RecurrentNetworkActivation> activations;  // 3; default {sigmoid, tanh, tanh}
};

struct LayerNormalizationOptions : OperatorOptions {
  Operand scale;
  Operand bias;
  std::optional<std::vector<uint32_t>> axes;  // default: all but the first
  double epsilon = 1e-5;
};

struct LeakyReluOptions : OperatorOptions {
  double alpha = 0.01;
};

struct LinearOptions : OperatorOptions {
  double alpha = 1.0;
  double beta = 0.0;
};

struct PadOptions : OperatorOptions {
  PaddingMode mode = PaddingMode::constant;
  double value = 0.0;
};

struct Pool2dOptions : OperatorOptions {
  std::vector<uint32_t> window_dimensions;  // default: the input's spatial size
  std::vector<uint32_t> padding;
  std::vector<uint32_t> strides;
  std::vector<uint32_t> dilations;
  InputLayout layout = InputLayout::nchw;
  RoundingType output_shape_rounding = RoundingType::floor;
  std::vector<uint32_t> output_sizes;
};

struct ReduceOptions : OperatorOptions {
  std::optional<std::vector<uint32_t>> axes;  // default: all axes
  bool keep_dimensions = false;
};

struct Resample2dOptions : OperatorOptions {
  InterpolationMode mode = InterpolationMode::nearest_neighbor;
  std::vector<float> scales;
  std::vector<uint32_t> sizes;
  std::vector<uint32_t> axes;
};

struct ReverseOptions : OperatorOptions {
  std::optional<std::vector<uint32_t>> axes;
};

struct SliceOptions : OperatorOptions {
  std::vector<uint32_t> strides;
};

struct SplitOptions : OperatorOptions {
  uint32_t axis = 0;
};

struct TransposeOptions : OperatorOptions {
  std::optional<std::vector<uint32_t>> permutation;  // default: reversed axes
};

struct TriangularOptions : OperatorOptions {
  bool upper = true;
  int32_t diagonal = 0;
};

class Graph;

class GraphBuilder {
 public:
  GraphBuilder();

  Operand input(const std::string& name, DataType type, const Dims& shape);
  Operand input(const std::string& name, const OperandDescriptor& desc) {
    return input(name, desc.data_type, desc.shape);
  }
  // Copies the data; `bytes` must equal the descriptor's byte size.
  Operand constant(DataType type, const Dims& shape, const void* data, size_t bytes);
  Operand constant(const Tensor& tensor);
  // A scalar constant of `type` (0-D).
  Operand constant(DataType type, double value);

  // Builds a graph of the named outputs; the builder cannot be used afterwards.
  Graph build(const std::map<std::string, Operand>& outputs);

  // The plain element-wise ops, one method each, declared from include/cppnn/ops.def
  // (signature B: broadcasting binary (a, b); U: unary (x)): add, sub, mul, div, max, min,
  // pow; equal, not_equal, greater, greater_or_equal, lesser, lesser_or_equal (uint8 out);
  // logical_and, logical_or, logical_xor, logical_not (uint8); is_nan, is_infinite (float in,
  // uint8 out); abs, ceil, cos, erf, exp, floor, identity, log, neg, reciprocal, round_even
  // (halves to even: 0.5 -> 0, 1.5 -> 2, -2.5 -> -2), sin, sign, sqrt, tan; gelu, hard_swish,
  // relu, sigmoid, softplus, softsign, tanh. ops.def says what each computes.
#define CPPNN_OP(id, method, kind, sig, ...) CPPNN_GRAPH_H_##sig(method)
#define CPPNN_GRAPH_H_B(method) \
  Operand method(const Operand& a, const Operand& b, const OperatorOptions& o = {});
#define CPPNN_GRAPH_H_U(method) Operand method(const Operand& x, const OperatorOptions& o = {});
#define CPPNN_GRAPH_H_X(method)
#include "cppnn/ops.def"
#undef CPPNN_GRAPH_H_B
#undef CPPNN_GRAPH_H_U
#undef CPPNN_GRAPH_H_X

  // Activations.
  Operand clamp(const Operand& x, const ClampOptions& o = {});
  Operand elu(const Operand& x, const EluOptions& o = {});
  Operand hard_sigmoid(const Operand& x, const HardSigmoidOptions& o = {});
  Operand leaky_relu(const Operand& x, const LeakyReluOptions& o = {});
  Operand linear(const Operand& x, const LinearOptions& o = {});
  Operand prelu(const Operand& x, const Operand& slope, const OperatorOptions& o = {});
  Operand softmax(const Operand& x, uint32_t axis, const OperatorOptions& o = {});

  Operand cast(const Operand& x, DataType type, const OperatorOptions& o = {});
  Operand where(const Operand& condition, const Operand& true_value, const Operand& false_value,
                const OperatorOptions& o = {});

  // Linear algebra and convolution.
  Operand matmul(const Operand& a, const Operand& b, const OperatorOptions& o = {});
  Operand gemm(const Operand& a, const Operand& b, const GemmOptions& o = {});
  Operand conv2d(const Operand& input, const Operand& filter, const Conv2dOptions& o = {});
  Operand conv_transpose2d(const Operand& input, const Operand& filter,
                           const ConvTranspose2dOptions& o = {});

  // Pooling.
  Operand average_pool2d(const Operand& x, const Pool2dOptions& o = {});
  Operand l2_pool2d(const Operand& x, const Pool2dOptions& o = {});
  Operand max_pool2d(const Operand& x, const Pool2dOptions& o = {});

  // Normalization.
  Operand batch_normalization(const Operand& x, const Operand& mean, const Operand& variance,
                              const BatchNormalizationOptions& o = {});
  Operand instance_normalization(const Operand& x, const InstanceNormalizationOptions& o = {});
  Operand layer_normalization(const Operand& x, const LayerNormalizationOptions& o = {});

  // Recurrent networks. lstm returns {hidden, cell} of the last step, and the sequence of
  // every step's hidden state ([steps, numDirections, batchSize, hiddenSize]) third when
  // o.return_sequence; gru returns {hidden} and the sequence second. lstm_cell returns
  // {hidden, cell}.
  std::vector<Operand> lstm(const Operand& input, const Operand& weight,
                            const Operand& recurrent_weight, uint32_t steps, uint32_t hidden_size,
                            const LstmOptions& o = {});
  std::vector<Operand> lstm_cell(const Operand& input, const Operand& weight,
                                 const Operand& recurrent_weight, const Operand& hidden_state,
                                 const Operand& cell_state, uint32_t hidden_size,
                                 const LstmCellOptions& o = {});
  std::vector<Operand> gru(const Operand& input, const Operand& weight,
                           const Operand& recurrent_weight, uint32_t steps, uint32_t hidden_size,
                           const GruOptions& o = {});
  Operand gru_cell(const Operand& input, const Operand& weight, const Operand& recurrent_weight,
                   const Operand& hidden_state, uint32_t hidden_size,
                   const GruCellOptions& o = {});
  // Quantization: the scale and zero point have x's rank, their shape divides x's in every
  // dimension (per-tensor, per-axis or block-wise). quantize_linear: float x ->
  // saturate(roundEven(x / scale) + zeroPoint) of the zero point's type; dequantize_linear:
  // (x - zeroPoint) * scale of the scale's type.
  Operand quantize_linear(const Operand& x, const Operand& scale, const Operand& zero_point,
                          const OperatorOptions& o = {});
  Operand dequantize_linear(const Operand& x, const Operand& scale, const Operand& zero_point,
                            const OperatorOptions& o = {});

  // Reductions.
  Operand reduce_l1(const Operand& x, const ReduceOptions& o = {});
  Operand reduce_l2(const Operand& x, const ReduceOptions& o = {});
  Operand reduce_log_sum(const Operand& x, const ReduceOptions& o = {});
  Operand reduce_log_sum_exp(const Operand& x, const ReduceOptions& o = {});
  Operand reduce_max(const Operand& x, const ReduceOptions& o = {});
  Operand reduce_mean(const Operand& x, const ReduceOptions& o = {});
  Operand reduce_min(const Operand& x, const ReduceOptions& o = {});
  Operand reduce_product(const Operand& x, const ReduceOptions& o = {});
  Operand reduce_sum(const Operand& x, const ReduceOptions& o = {});
  Operand reduce_sum_square(const Operand& x, const ReduceOptions& o = {});
  Operand arg_max(const Operand& x, uint32_t axis, const ArgMinMaxOptions& o = {});
  Operand arg_min(const Operand& x, uint32_t axis, const ArgMinMaxOptions& o = {});
  Operand cumulative_sum(const Operand& x, uint32_t axis, const CumulativeSumOptions& o = {});

  // Shape and data movement.
  Operand reshape(const Operand& x, const std::vector<uint32_t>& new_shape,
                  const OperatorOptions& o = {});
  Operand transpose(const Operand& x, const TransposeOptions& o = {});
  Operand concat(const std::vector<Operand>& inputs, uint32_t axis,
                 const OperatorOptions& o = {});
  // Splits into `count` equal parts.
  std::vector<Operand> split(const Operand& x, uint32_t count, const SplitOptions& o = {});
  // Splits into parts of the given sizes.
  std::vector<Operand> split(const Operand& x, const std::vector<uint32_t>& sizes,
                             const SplitOptions& o = {});
  Operand slice(const Operand& x, const std::vector<uint32_t>& starts,
                const std::vector<uint32_t>& sizes, const SliceOptions& o = {});
  Operand gather(const Operand& x, const Operand& indices, const GatherOptions& o = {});
  // WebNN gatherElements: o.axis picks the axis the indices index (same rank as x).
  Operand gather_elements(const Operand& x, const Operand& indices, const GatherOptions& o = {});
  // WebNN gatherND: the last dimension of `indices` holds coordinates into x's leading axes.
  Operand gather_nd(const Operand& x, const Operand& indices, const OperatorOptions& o = {});
  // WebNN scatterElements: a copy of x with updates[i] written at indices[i] along o.axis
  // (indices and updates of one shape, x's rank). Negative indices count from the end;
  // out-of-range ones are clamped, as the gathers' are.
  Operand scatter_elements(const Operand& x, const Operand& indices, const Operand& updates,
                           const ScatterOptions& o = {});
  // WebNN scatterND: a copy of x with the slices of `updates` written at the coordinates of
  // indices' last dimension (indices clamped as gatherND's).
  Operand scatter_nd(const Operand& x, const Operand& indices, const Operand& updates,
                     const OperatorOptions& o = {});
  Operand expand(const Operand& x, const std::vector<uint32_t>& new_shape,
                 const OperatorOptions& o = {});
  Operand pad(const Operand& x, const std::vector<uint32_t>& beginning_padding,
              const std::vector<uint32_t>& ending_padding, const PadOptions& o = {});
  Operand tile(const Operand& x, const std::vector<uint32_t>& repetitions,
               const OperatorOptions& o = {});
  Operand reverse(const Operand& x, const ReverseOptions& o = {});
  Operand triangular(const Operand& x, const TriangularOptions& o = {});
  Operand resample2d(const Operand& x, const Resample2dOptions& o = {});

  // The internal state, for the ONNX importer and the op families' method definitions.
  detail::BuilderState& state() { return *state_; }

 private:
  friend Operand detail::make_operand(GraphBuilder& builder, int32_t id);
  std::shared_ptr<detail::BuilderState> state_;
};

// The range of a symbolic dimension (dynamic shapes), as TensorRT's optimization profiles
// give it: every value in [min, max] is valid, kernels are chosen for opt.
struct SymbolRange {
  int64_t min = 1;
  int64_t opt = 1;
  int64_t max = 1;
  bool operator==(const SymbolRange& o) const { return min == o.min && opt == o.opt && max == o.max; }
  bool operator!=(const SymbolRange& o) const { return !(*this == o); }
};

// A validated, immutable graph with named inputs and outputs. Cheap to copy.
//
// A dynamic graph (load_onnx with OnnxImportOptions::dynamic, or an engine built from one)
// has symbolic dimensions: inputs(), outputs() and the IR are the graph at the symbols' opt
// values, and Context::compute / dispatch run it at whatever shapes the inputs have within
// the ranges (specializing it, and keeping the specialized plans). docs/dynamic-shapes.md.
class Graph {
 public:
  Graph() = default;
  explicit Graph(std::shared_ptr<const detail::GraphIR> ir) : ir_(std::move(ir)) {}
  Graph(std::shared_ptr<const detail::GraphIR> ir,
        std::shared_ptr<const detail::SymbolicShapes> symbolic)
      : ir_(std::move(ir)), symbolic_(std::move(symbolic)) {}
  std::map<std::string, OperandDescriptor> inputs() const;
  std::map<std::string, OperandDescriptor> outputs() const;
  // Dynamic shapes: whether any dimension is symbolic; the symbols and their ranges; for
  // each input, per axis, the symbol that axis is ("" for a fixed axis).
  bool dynamic() const { return symbolic_ != nullptr; }
  std::map<std::string, SymbolRange> symbols() const;
  std::map<std::string, std::vector<std::string>> input_symbols() const;
  // The graph at these symbol values (every symbol that changes must be given), or at the
  // shapes of these inputs: a graph with fixed shapes. TypeError outside the ranges.
  Graph specialize(const std::map<std::string, int64_t>& values) const;
  Graph specialize_for(const std::map<std::string, Dims>& input_shapes) const;
  size_t node_count() const;
  // One line per node: op, label, input and output shapes.
  std::string summary() const;
  const detail::GraphIR& ir() const;
  const std::shared_ptr<const detail::GraphIR>& ir_ptr() const { return ir_; }
  const std::shared_ptr<const detail::SymbolicShapes>& symbolic() const { return symbolic_; }
  bool valid() const { return ir_ != nullptr; }

 private:
  std::shared_ptr<const detail::GraphIR> ir_;
  std::shared_ptr<const detail::SymbolicShapes> symbolic_;
};

}  // namespace cppnn
