#pragma once
// An Engine is a graph after the compiler's passes (constant folding, fusion, dead-code
// removal), in a portable, versioned, checksummed file that can be built on any machine
// and loaded by a backend. It is layout-neutral: its convolutions stay in the layout the
// model was written in, and each backend lays the graph out for its device when it
// compiles it (NHWC on the CPU; on the GPU as its kernels want), so an engine runs as fast
// as the same graph compiled directly. docs/engine-format.md describes the file.
#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "cppnn/graph.h"

namespace cppnn {

// The format version this build writes; it reads every version up to this one.
inline constexpr uint32_t kEngineFormatVersion = 1;

struct EngineBuildOptions {
  // float16: every float32 operand is computed in float16 (weights stored in float16,
  // half the bytes) behind the graph's unchanged float32 inputs and outputs; reductions
  // stay float32 and softmax / normalization statistics are computed in float32. Made for
  // the GPU (tensor cores); the CPU backend runs such an engine too, but not faster.
  // bfloat16: the same in bfloat16 (float32's range, 8 mantissa bits): weights stored in
  // bfloat16, each op computed in float32 and its result rounded to bfloat16 (relative
  // error ~1e-2 on a deep model). auto_ is a TypeError (a context's).
  Precision precision = Precision::float32;
  // Dynamic shapes (a graph from load_onnx with OnnxImportOptions::dynamic): the profile
  // per input, min / opt / max dimensions, as TensorRT's optimization profiles (e.g.
  // {"input_ids", {{1, 16}, {8, 128}, {32, 512}}}). Each symbolic axis takes its range from
  // here, which must lie inside the range the graph was imported with; a fixed axis must be
  // given its size in all three. Inputs not named keep the graph's ranges; empty: all do.
  // The engine is then one graph for every shape in the profile: kernels are chosen for
  // opt, and each shape run is specialized on first use (docs/dynamic-shapes.md).
  struct InputProfile {
    Dims min, opt, max;
    bool operator==(const InputProfile& o) const { return min == o.min && opt == o.opt && max == o.max; }
  };
  std::map<std::string, InputProfile> shapes{};
  // float16 only: false makes the graph's float32 inputs and outputs float16 too, with no
  // casts at the interface (ONNX Runtime's float16 converter with keep_io_types=False;
  // TensorRT's strongly typed networks): a caller that holds float16 data, such as a float16
  // PyTorch model's tensors or a decoder's float16 KV cache, passes and receives it as it
  // is. true (the default): the interface stays float32. A loaded engine reports false when
  // its graph has float16 inputs or outputs where it computes in float16.
  bool keep_io_types = true;
  bool operator==(const EngineBuildOptions& o) const {
    return precision == o.precision && shapes == o.shapes && keep_io_types == o.keep_io_types;
  }
  bool operator!=(const EngineBuildOptions& o) const { return !(*this == o); }
};

namespace detail {
struct EngineState;
}

class Engine {
 public:
  Engine() = default;

  // Optimizes the graph and serializes it; the engine then holds the optimized graph. A
  // graph that is float16 already (a float16 engine's) stays float16, whatever `options`.
  static Engine build(const Graph& graph, const EngineBuildOptions& options = {});
  // Reads and fully validates an engine file. A corrupt or inconsistent file is a
  // DataError; a file from a newer format version is a NotSupportedError.
  static Engine load(const std::string& path);
  static Engine from_bytes(const std::string& bytes);
  // True if the file starts with the engine file's magic bytes (it may still be corrupt).
  static bool is_engine_file(const std::string& path);

  // Writes atomically (temporary file in the same directory, fsync, rename); on failure
  // leaves no file behind and throws DataError naming the path.
  void save(const std::string& path) const;
  std::string to_bytes() const;
  size_t byte_size() const;

  // The optimized graph; run it with Context::compute.
  const Graph& graph() const;
  // Content hash of the file's payload as 16 hex digits: equal engines have equal hashes,
  // which is what the runtime cache is keyed by.
  std::string hash() const;
  uint32_t format_version() const;
  const EngineBuildOptions& options() const;
  // Who wrote the file: the cppnn version and the producer string.
  const std::string& cppnn_version() const;
  const std::string& producer() const;
  bool valid() const { return state_ != nullptr; }

 private:
  explicit Engine(std::shared_ptr<const detail::EngineState> state) : state_(std::move(state)) {}
  const detail::EngineState& state() const;
  std::shared_ptr<const detail::EngineState> state_;
};

}  // namespace cppnn
