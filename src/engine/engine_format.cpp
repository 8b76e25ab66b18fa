// The engine file format, version 1. docs/engine-format.md says the same for readers
// outside this code; keep the two in step.
//
// Every integer is little-endian and fixed-width; every string and list carries its
// length (u32) first; a string is UTF-8 bytes without a terminator. Offsets are from the
// start of the payload, and the payload starts at a multiple of 64 in the file, so an
// offset that is a multiple of 64 is 64-byte aligned in the file too.
//
//   header (64 bytes, not covered by the checksum)
//     0  u8[8]  magic "CPPNNENG"
//     8  u32    format version (1); a reader refuses versions newer than it knows
//    12  u32    header size in bytes (64; a multiple of 64, at least 64)
//    16  u64    payload size in bytes; the file ends exactly where the payload ends
//    24  u64    checksum of the payload: XXH64, seed 0 (src/core/hash.h); as 16 hex
//               digits it is also the engine's hash(), the runtime cache's key
//    32  u8[32] reserved, zero
//   payload
//     u32 section count, u32 reserved (0)
//     section table: per section {u32 tag, u32 flags, u64 offset, u64 size}, in
//       ascending offset order, non-overlapping, after the table, inside the payload.
//       tag: four ASCII characters as bytes ("META" is the bytes M E T A).
//       flags bit 0 "required": a reader that does not know the tag must refuse the file
//       (NotSupportedError); without it, unknown sections are skipped. Other bits: 0.
//     section bodies
//
//   "META" (exactly once)
//     str cppnn version, str producer, u32 precision (0 float32, 1 float16, 2 bfloat16)
//   "BOPT" (at most once, not required; only where an option is not its default)
//     u32 flags: bit 0 the float32 inputs and outputs were made float16 (keep_io_types
//     false); other bits 0
//   "GRPH" (exactly once): the optimized graph IR (src/graph/ir.h), layout-neutral
//     (engine/portable_graph.h: the backends lay it out); an earlier builder's NHWC graph
//     is just as valid
//     u32 operand count; per operand:
//       u8 data type (DataType's order: float32 float16 int32 uint32 int64 uint64 int8
//       uint8 bfloat16; bfloat16 only in a bfloat16 engine, never a graph input or output), u8 role (0 input, 1 constant, 2 intermediate), u16 reserved (0),
//       u32 rank, i64 dims[rank] (each 1 .. 2^31-1), str name (graph inputs' names)
//     u32 node count; per node, in topological order:
//       str op (the op's WebNN name, as ops.def spells it), str label,
//       u32 n, i32 input operand ids[n] (-1: an absent optional operand),
//       u32 n, i32 output operand ids[n],
//       u32 n, attributes[n] sorted by name: str name, u8 kind, value; kinds:
//         0 i64, 1 f64 (IEEE bits), 2 str, 3 u32 count + i64[count], 4 u32 count + f64[count]
//     u32 n, graph inputs[n]: str name, i32 operand id
//     u32 n, graph outputs[n]: str name, i32 operand id
//   "CNST" (exactly once): constants' bytes
//     u32 count, u32 reserved (0)
//     entries[count]: i32 operand id, u32 reserved (0), u64 offset, u64 size
//     data: each entry's raw element bytes (little-endian, C order) at its offset, which
//       is a multiple of 64, inside this section, ascending, non-overlapping
//   "SYMS" (at most once, flagged required; only in an engine of a dynamic-shape graph,
//   graph/symbolic.h): the graph section holds the graph at the symbols' opt values, and
//   this section how its integers depend on the symbols
//     u32 n, symbols[n] (1 .. 8): str name, i64 min, i64 opt, i64 max
//     u32 n, patches[n]: u8 kind (0 an operand's dimension, 1 an i64 attribute, 2 an
//       element of an i64-list attribute, 3 an element of a constant of at most 64 int32
//       or int64 elements, 4 a whole int32 / int64 constant generated at each shape: its
//       terms' mask bits 8 + a stand for the element's index along axis a), u8[3]
//       reserved (0), i32 operand or node index,
//       str attribute name (empty for kind 0), u32 dimension or element index,
//       u32 m, terms[m]: u32 mask (bit i: symbol i is a factor), i64 coefficient
//     The reader checks every polynomial against the graph at opt and within bounds at
//     every corner of the ranges (graph/symbolic.h check_symbolic).
//   Sections a later version may add (tags reserved): "KSRC" generated kernel sources,
//   "MPLN" memory plan. A new version adds sections rather than changing these three.
//
// Every section must be consumed exactly: stray bytes inside a known section are
// corruption. Loading (engine_reader.cpp) never trusts the file: every read is
// bounds-checked, every count is capped by the bytes left, the checksum is verified before
// anything is parsed, and the parsed graph is re-validated through the op table
// (engine_validate.cpp). This file is the writer.
#include "engine/engine_format.h"

#include <bit>
#include <cstdlib>
#include <cstring>

#include "core/hash.h"

namespace cppnn::detail {

using namespace engine_file;

// Constants are copied byte for byte into the file, which is little-endian.
static_assert(std::endian::native == std::endian::little,
              "the engine format stores constants' bytes as they are in memory");
static_assert(std::variant_size_v<AttrValue> == 5, "a new attribute kind needs a format tag");

namespace {

std::string write_meta(const EngineBuildOptions& options) {
  ByteWriter w("engine");
  w.str(CPPNN_VERSION_STRING);
  w.str("cppnn " CPPNN_VERSION_STRING " engine builder");
  w.u32(uint32_t(options.precision));
  return w.take();
}

}  // namespace

std::string write_build_options(const EngineBuildOptions& options) {
  if (options.keep_io_types) return {};
  ByteWriter w("engine");
  w.u32(engine_file::kFloat16Interface);
  return w.take();
}

const std::string* float32_interface_operand(const GraphIR& graph) {
  for (const auto* io : {&graph.inputs, &graph.outputs})
    for (const auto& [name, id] : *io)
      if (graph.desc(id).data_type == DataType::float32) return &name;
  return nullptr;
}

namespace {

void write_attr(ByteWriter& w, const AttrValue& value) {
  w.u8(uint8_t(value.index()));
  std::visit(
      [&](const auto& v) {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, int64_t>)
          w.i64(v);
        else if constexpr (std::is_same_v<T, double>)
          w.f64(v);
        else if constexpr (std::is_same_v<T, std::string>)
          w.str(v);
        else if constexpr (std::is_same_v<T, std::vector<int64_t>>) {
          w.count(v.size());
          for (int64_t x : v) w.i64(x);
        } else {
          w.count(v.size());
          for (double x : v) w.f64(x);
        }
      },
      value);
}

std::string write_graph(const GraphIR& g) {
  ByteWriter w("engine");
  w.count(g.operands.size());
  for (const OperandInfo& op : g.operands) {
    w.u8(uint8_t(op.desc.data_type));
    w.u8(uint8_t(op.role));
    w.u8(0);
    w.u8(0);
    w.count(op.desc.shape.size());
    for (int64_t d : op.desc.shape) w.i64(d);
    w.str(op.name);
  }
  w.count(g.nodes.size());
  for (const Node& node : g.nodes) {
    w.str(op_name(node.op));  // the WebNN name: files never store an OpId
    w.str(node.label);
    w.count(node.inputs.size());
    for (OperandId id : node.inputs) w.i32(id);
    w.count(node.outputs.size());
    for (OperandId id : node.outputs) w.i32(id);
    w.count(node.attrs.all().size());
    for (const auto& [name, value] : node.attrs.all()) {
      w.str(name);
      write_attr(w, value);
    }
  }
  for (const auto* names : {&g.inputs, &g.outputs}) {
    w.count(names->size());
    for (const auto& [name, id] : *names) {
      w.str(name);
      w.i32(id);
    }
  }
  return w.take();
}

}  // namespace

std::string write_symbols(const SymbolicShapes& symbolic) {
  ByteWriter w("engine");
  w.count(symbolic.names.size());
  for (size_t i = 0; i < symbolic.names.size(); ++i) {
    w.str(symbolic.names[i]);
    w.i64(symbolic.ranges[i].min);
    w.i64(symbolic.ranges[i].opt);
    w.i64(symbolic.ranges[i].max);
  }
  w.count(symbolic.patches.size());
  for (const ShapePatch& p : symbolic.patches) {
    w.u8(uint8_t(p.kind));
    w.u8(0);
    w.u8(0);
    w.u8(0);
    w.i32(p.index);
    w.str(p.attr);
    w.u32(p.pos);
    w.count(p.value.terms.size());
    for (const Polynomial::Term& t : p.value.terms) {
      w.u32(t.mask);
      w.i64(t.coeff);
    }
  }
  return w.take();
}

EngineBytes EngineBytes::allocate(size_t size) {
  size_t rounded = align_up(std::max<size_t>(size, 1));
  void* p = std::aligned_alloc(kEngineAlignment, rounded);
  if (!p)
    fail(ErrorKind::OperationError,
         "out of host memory allocating " + std::to_string(size) + " bytes for an engine");
  std::memset(p, 0, rounded);
  EngineBytes b;
  b.data = std::shared_ptr<uint8_t>(static_cast<uint8_t*>(p), [](uint8_t* q) { std::free(q); });
  b.size = size;
  return b;
}

uint64_t engine_payload_hash(const uint8_t* payload, size_t size) {
  return hash64(payload, size, 0);
}

EngineBytes write_engine(const GraphIR& g, const EngineBuildOptions& options,
                         const std::vector<ExtraSection>& extra) {
  std::string meta = write_meta(options);
  std::string graph = write_graph(g);
  std::vector<OperandId> constants;
  for (size_t i = 0; i < g.operands.size(); ++i)
    if (g.operands[i].role == OperandRole::constant) constants.push_back(OperandId(i));

  // Layout first, so the constants' offsets are known before anything is copied.
  const Section sections_proto[] = {{kMetaTag, kRequiredSection, 0, meta.size()},
                                    {kGraphTag, kRequiredSection, 0, graph.size()},
                                    {kConstantsTag, kRequiredSection, 0, 0}};
  std::vector<Section> sections(std::begin(sections_proto), std::end(sections_proto));
  for (const ExtraSection& x : extra)
    sections.push_back({tag_of(x.tag), x.required ? kRequiredSection : 0, 0, x.bytes.size()});
  size_t at = 8 + sections.size() * kSectionEntryBytes;
  sections[0].offset = at;
  sections[1].offset = at += meta.size();
  sections[2].offset = align_up(at + graph.size());
  size_t end = sections[2].offset + 8 + constants.size() * kConstantEntryBytes;
  std::vector<size_t> data_at;
  for (OperandId id : constants) {
    data_at.push_back(align_up(end));
    end = data_at.back() + g.operands[size_t(id)].data->byte_size();
  }
  sections[2].size = end - sections[2].offset;
  for (size_t i = 3; i < sections.size(); ++i) {
    sections[i].offset = end;
    end += sections[i].size;
  }
  const size_t payload_size = end;

  EngineBytes out = EngineBytes::allocate(kEngineHeaderBytes + payload_size);
  uint8_t* payload = out.data.get() + kEngineHeaderBytes;
  put_le32(payload, uint32_t(sections.size()));
  for (size_t i = 0; i < sections.size(); ++i) {
    uint8_t* e = payload + 8 + i * kSectionEntryBytes;
    put_le32(e, sections[i].tag);
    put_le32(e + 4, sections[i].flags);
    put_le64(e + 8, sections[i].offset);
    put_le64(e + 16, sections[i].size);
  }
  std::memcpy(payload + sections[0].offset, meta.data(), meta.size());
  std::memcpy(payload + sections[1].offset, graph.data(), graph.size());
  uint8_t* c = payload + sections[2].offset;
  put_le32(c, uint32_t(constants.size()));
  for (size_t i = 0; i < constants.size(); ++i) {
    const Tensor& t = *g.operands[size_t(constants[i])].data;
    uint8_t* e = c + 8 + i * kConstantEntryBytes;
    put_le32(e, uint32_t(constants[i]));
    put_le64(e + 8, data_at[i]);
    put_le64(e + 16, t.byte_size());
    if (t.byte_size()) std::memcpy(payload + data_at[i], t.data(), t.byte_size());
  }
  for (size_t i = 3; i < sections.size(); ++i)
    if (sections[i].size)
      std::memcpy(payload + sections[i].offset, extra[i - 3].bytes.data(), sections[i].size);

  uint8_t* h = out.data.get();
  std::memcpy(h, kEngineMagic, sizeof(kEngineMagic));
  put_le32(h + 8, kEngineFormatVersion);
  put_le32(h + 12, uint32_t(kEngineHeaderBytes));
  put_le64(h + 16, payload_size);
  put_le64(h + 24, engine_payload_hash(payload, payload_size));
  return out;
}

}  // namespace cppnn::detail
