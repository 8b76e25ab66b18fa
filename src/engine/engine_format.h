#pragma once
// The engine file format (described in engine_format.cpp and docs/engine-format.md):
// writing a graph into file bytes, and reading file bytes back into a validated graph.
#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "core/bytes.h"
#include "cppnn/engine.h"
#include "graph/ir.h"
#include "graph/symbolic.h"

namespace cppnn::detail {

inline constexpr char kEngineMagic[8] = {'C', 'P', 'P', 'N', 'N', 'E', 'N', 'G'};
inline constexpr size_t kEngineHeaderBytes = 64;
// Constants start at multiples of this within the file, so they can be used in place
// (here: wrapped by Tensors without a copy; later: mmap).
inline constexpr size_t kEngineAlignment = 64;

// Layout details shared by the writer (engine_format.cpp) and the reader
// (engine_reader.cpp). Their bytes are read and written with core/bytes.h.
namespace engine_file {

inline constexpr uint32_t kRequiredSection = 1;  // section flag: unknown means refuse
inline constexpr size_t kSectionEntryBytes = 24;
inline constexpr size_t kConstantEntryBytes = 24;

constexpr uint32_t tag_of(const char* s) {
  return uint32_t(uint8_t(s[0])) | uint32_t(uint8_t(s[1])) << 8 | uint32_t(uint8_t(s[2])) << 16 |
         uint32_t(uint8_t(s[3])) << 24;
}
inline constexpr uint32_t kMetaTag = tag_of("META");
inline constexpr uint32_t kGraphTag = tag_of("GRPH");
inline constexpr uint32_t kConstantsTag = tag_of("CNST");
// Dynamic shapes (graph/symbolic.h): written, flagged required, only for a dynamic graph,
// so that a build that predates them refuses such a file instead of running it at opt.
inline constexpr uint32_t kSymbolsTag = tag_of("SYMS");
// Build options beyond META's precision (EngineBuildOptions::keep_io_types): written, not
// required, only when one differs from its default. A build that predates it skips it and
// runs the graph as it is (its float16 inputs and outputs are plain WebNN operands).
inline constexpr uint32_t kBuildOptionsTag = tag_of("BOPT");
// BOPT's u32 flags: bit 0, the float32 inputs and outputs were made float16.
inline constexpr uint32_t kFloat16Interface = 1;

struct Section {
  uint32_t tag = 0;
  uint32_t flags = 0;
  size_t offset = 0, size = 0;
};

inline size_t align_up(size_t n) {
  return (n + kEngineAlignment - 1) / kEngineAlignment * kEngineAlignment;
}

}  // namespace engine_file

// A whole engine file in memory, 64-byte aligned so constants inside it are aligned.
struct EngineBytes {
  std::shared_ptr<uint8_t> data;
  size_t size = 0;
  static EngineBytes allocate(size_t size);  // zero-filled
  const uint8_t* begin() const { return data.get(); }
};

struct EngineState {
  EngineBytes bytes;
  uint32_t format_version = 0;
  uint64_t payload_hash = 0;
  EngineBuildOptions options;
  std::string cppnn_version;
  std::string producer;
  Graph graph;  // constants point into `bytes`
};

// A section beyond the three every engine has (a later version's generated kernel
// sources, say). A reader that does not know `tag` skips it unless it is `required`.
struct ExtraSection {
  char tag[4];
  bool required = false;
  std::string bytes;
};

// The "SYMS" section's bytes for a dynamic graph's symbols (an ExtraSection, required).
std::string write_symbols(const SymbolicShapes& symbolic);
// The "BOPT" section's bytes (an ExtraSection, not required), or empty where every option
// it holds has its default.
std::string write_build_options(const EngineBuildOptions& options);
// The first graph input or output that is float32, or null: what BOPT's float16 interface
// rules out (the builder refuses such a graph, the reader such a file).
const std::string* float32_interface_operand(const GraphIR& graph);

// Serializes the graph (which must be valid) with the build options; extra sections go
// after the standard ones.
EngineBytes write_engine(const GraphIR& graph, const EngineBuildOptions& options,
                         const std::vector<ExtraSection>& extra = {});

// Parses and validates; constants of the returned graph share `bytes`' storage.
// Throws DataError (corrupt, truncated, inconsistent) or NotSupportedError (newer version,
// or a section this build does not know and may not skip).
std::shared_ptr<EngineState> read_engine(EngineBytes bytes);

// The nodes whose stored op name is no op a graph may hold (a name this build does not
// know, or an internal pseudo-op), by node index, with that name. The reader gives such a
// node OpId::none and keeps its name here, so that validation rejects it in node order,
// naming it as the file spells it.
using UnknownOps = std::map<size_t, std::string>;

// Re-validates a parsed graph as the builder would have: ids, roles, topological order,
// names, constants' sizes, and every node through the op table's infer. Each node keeps
// the attributes infer returns (defaults filled), exactly as if the builder had added it,
// so kernels never see a set that infer did not complete. A node of OpId::none is an
// unknown op (named from `unknown_ops`). Throws DataError.
void validate_engine_graph(GraphIR& graph, const UnknownOps& unknown_ops = {});

// The checksum of the payload as the header stores it (for tests that patch a payload).
uint64_t engine_payload_hash(const uint8_t* payload, size_t size);

}  // namespace cppnn::detail
