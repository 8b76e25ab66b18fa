#pragma once
// Dynamic shapes: a graph whose integers (operand dimensions, attribute values such as a
// reshape's newShape or a slice's sizes) depend on named symbols (N, S, ...), each within
// a range. docs/dynamic-shapes.md has the design.
//
// The graph IR stays concrete: it is the graph at the symbols' opt values, and
// SymbolicShapes lists, for each integer that depends on a symbol, where it is and the
// multilinear polynomial in the symbols that gives it (c0 + c1 N + c2 S + c3 N S, ...: what
// reshapes of flattened batch and sequence produce). specialize() evaluates them at other
// values and re-validates every node through the op table, so a specialized graph is as
// valid as one built at those values, or an error.
//
// The polynomials are found by probing, not by symbolic shape inference: fit_symbolic builds
// the graph at a grid of values around opt (each symbol at opt and opt +- 1), solves each
// integer that differs for its polynomial, and checks the result at the corners of the
// ranges and at a point inside. The graphs must have one structure (same ops, edges and
// attribute names): a model whose structure, or a value that no multilinear polynomial fits,
// changes with a symbol is a NotSupportedError naming the node. Constants whose shape depends
// on a symbol (a position table sliced to the sequence length, a broadcast embedding) become
// a slice and/or expand of one table, taken from the graph at the ranges' maxima, whose
// sizes are polynomials like any other.
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "graph/ir.h"

namespace cppnn::detail {

// At most this many symbols change within their ranges (2^k probes each way).
inline constexpr size_t kMaxDynamicSymbols = 4;
// At most this many symbols in all (fixed ones included), so masks fit 8 bits.
inline constexpr size_t kMaxSymbols = 8;

struct Polynomial {
  struct Term {
    uint32_t mask = 0;  // the product of the symbols whose bits are set (0: the constant)
    int64_t coeff = 0;
    bool operator==(const Term&) const = default;
  };
  std::vector<Term> terms;  // distinct masks, no zero coefficient

  // nullopt if a product or sum overflows 64 bits.
  std::optional<int64_t> eval(const std::vector<int64_t>& values) const;
  // The symbol, if the polynomial is exactly 1 * that symbol.
  std::optional<size_t> single_symbol() const;
  std::string to_string(const std::vector<std::string>& names) const;
  bool operator==(const Polynomial&) const = default;
};

// A small integer constant (a position id, a shape the graph computes with at run time:
// int32 or int64, at most this many elements) may hold values that depend on the symbols.
inline constexpr size_t kMaxPatchedConstantElements = 64;

// An int32 / int64 constant whose shape changes with the symbols (an index grid n * S + s
// that a flattened gather reads, a run of position ids) is generated at each shape from a
// polynomial in the symbols and its element's indices: bit i of a term's mask is symbol i
// (i < kMaxSymbols), bit kAxisBit + a the index along axis a.
inline constexpr uint32_t kAxisBit = 8;
// A generated constant holds at most this many elements anywhere in the ranges.
inline constexpr int64_t kMaxGeneratedElements = int64_t(1) << 26;

struct ShapePatch {
  enum class Kind : uint8_t {
    operand_dim = 0,
    attr_int = 1,
    attr_ints = 2,
    constant_value = 3,
    constant_generated = 4,  // the whole constant (index), from a polynomial (kAxisBit)
  };
  Kind kind = Kind::operand_dim;
  int32_t index = 0;  // the operand (operand_dim, constant_value) or the node (attr_*)
  std::string attr;   // the attribute's name (attr_*)
  uint32_t pos = 0;   // the dimension (operand_dim), the element (attr_ints, constant_value)
  Polynomial value;
  bool operator==(const ShapePatch&) const = default;
};

struct SymbolicShapes {
  std::vector<std::string> names;
  std::vector<SymbolRange> ranges;
  std::vector<ShapePatch> patches;
  // Derived by check_symbolic (not stored in files): for each symbol that changes, the
  // graph input and axis whose size is that symbol, where compute reads its value.
  struct Source {
    std::string input;
    size_t axis = 0;
  };
  std::vector<std::optional<Source>> sources;

  std::vector<int64_t> opt_values() const;
  bool changes(size_t symbol) const { return ranges[symbol].min != ranges[symbol].max; }
};

// Builds the graph at the given values (one per symbol, in the order of the names).
using GraphAt = std::function<std::shared_ptr<GraphIR>(const std::vector<int64_t>& values)>;

struct FittedGraph {
  std::shared_ptr<const GraphIR> ir;  // at the opt values
  std::shared_ptr<const SymbolicShapes> symbolic;  // nullptr when no symbol changes
};

// Probes `at` and fits the polynomials (see the file comment). `what` names the caller in
// messages ("ONNX import", "engine build").
FittedGraph fit_symbolic(const std::vector<std::string>& names,
                         const std::vector<SymbolRange>& ranges, const GraphAt& at,
                         const std::string& what);

// Checks that `s` fits `ir` (the engine reader's check of a file's symbols; fit_symbolic's
// result passes it too): names, ranges, each patch's place, every polynomial equal to the
// IR's value at opt and inside [1, kMaxDimension] (dimensions) or the 64-bit range
// (attributes) at every corner of the ranges (a multilinear polynomial takes its extremes
// at the corners), no patch on a constant, and a graph input dimension that reads each
// symbol that changes. Fills `sources`. Throws `kind` (DataError for files).
void check_symbolic(const GraphIR& ir, SymbolicShapes& s, ErrorKind kind);

// The graph at `values`: the polynomials evaluated and every node re-inferred through the op
// table, which must agree (an OperationError otherwise, never a wrong graph). A value
// outside its symbol's range is a TypeError. `run_time_shape`: a context's specialization
// for a run (GraphIR::run_time_shape), whose kernels are chosen without timing.
std::shared_ptr<const GraphIR> specialize(const GraphIR& ir, const SymbolicShapes& s,
                                          const std::vector<int64_t>& values,
                                          bool run_time_shape = false);

// The symbols' values for these input shapes (each symbol read where `sources` says; the
// other dimensions are checked when the specialized graph's inputs are). TypeError naming
// the input if a value is outside its range or an input is missing. `what`: "compute", ...
std::vector<int64_t> symbol_values_for(const GraphIR& ir, const SymbolicShapes& s,
                                       const std::map<std::string, Dims>& input_shapes,
                                       const std::string& what);

}  // namespace cppnn::detail
