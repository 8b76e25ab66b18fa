// Reading an engine file (format: engine_format.cpp). Nothing in the file is trusted:
// every read is bounds-checked and names what it was reading, every count is capped by
// the bytes left, and the graph is re-validated (engine_validate.cpp) before use.
#include <bit>
#include <cstring>
#include <limits>
#include <set>

#include "core/hash.h"
#include "engine/engine_format.h"

namespace cppnn::detail {

// Constants are used in place from the file's little-endian bytes.
static_assert(std::endian::native == std::endian::little,
              "the engine format maps little-endian constants directly");

using namespace engine_file;

namespace {

std::string tag_name(uint32_t tag) {
  std::string s;
  for (int i = 0; i < 4; ++i) {
    char c = char((tag >> (8 * i)) & 0xff);
    if (c < 0x20 || c > 0x7e) return "0x" + hash_hex(tag).substr(8);
    s += c;
  }
  return s;
}

[[noreturn]] void corrupt(const std::string& message) {
  fail(ErrorKind::DataError, "engine file is corrupt: " + message);
}

// A section's reader (core/bytes.h): a read past its end throws DataError naming the
// section, the item and what it was reading.
ByteReader section_reader(const uint8_t* data, size_t size, std::string section) {
  return ByteReader(data, size, "engine file is corrupt", std::move(section));
}

// Section table, checked: in bounds, ordered, non-overlapping, known tags once.
std::vector<Section> read_sections(const uint8_t* payload, size_t size) {
  ByteReader r = section_reader(payload, size, "section table");
  size_t n = r.count("the section count", 4 + kSectionEntryBytes);
  r.u32("the reserved word");
  size_t table_end = 8 + n * kSectionEntryBytes;
  std::vector<Section> sections;
  size_t prev_end = table_end;
  std::set<uint32_t> seen;
  for (size_t i = 0; i < n; ++i) {
    r.at("entry " + std::to_string(i));
    Section s;
    s.tag = r.u32("the tag");
    s.flags = r.u32("the flags");
    uint64_t offset = r.u64("the offset"), bytes = r.u64("the size");
    std::string name = "section " + tag_name(s.tag);
    if (offset < prev_end || offset > size || bytes > size - offset)
      corrupt(name + " at offset " + std::to_string(offset) + " of " + std::to_string(bytes) +
              " bytes lies outside the payload or overlaps another section");
    s.offset = size_t(offset);
    s.size = size_t(bytes);
    prev_end = s.offset + s.size;
    bool known = s.tag == kMetaTag || s.tag == kGraphTag || s.tag == kConstantsTag ||
                 s.tag == kSymbolsTag || s.tag == kBuildOptionsTag;
    if (known && !seen.insert(s.tag).second) corrupt(name + " appears twice");
    if (!known && (s.flags & kRequiredSection))
      fail(ErrorKind::NotSupportedError, "the engine file needs " + name +
                                             ", which this build of cppnn does not know (it "
                                             "reads engine format version " +
                                             std::to_string(kEngineFormatVersion) +
                                             "); rebuild the engine with this version of cppnn");
    if (known) sections.push_back(s);
  }
  for (uint32_t tag : {kMetaTag, kGraphTag, kConstantsTag})
    if (!seen.count(tag)) corrupt("the " + tag_name(tag) + " section is missing");
  return sections;
}

std::shared_ptr<SymbolicShapes> read_symbols(ByteReader r) {
  auto s = std::make_shared<SymbolicShapes>();
  size_t n = r.count("the symbol count", 4 + 24);
  if (n == 0 || n > kMaxSymbols) corrupt("the symbols section names " + std::to_string(n) + " symbols");
  for (size_t i = 0; i < n; ++i) {
    r.at("symbol " + std::to_string(i));
    s->names.push_back(r.str("the name", 256));
    SymbolRange range;
    range.min = r.i64("the minimum");
    range.opt = r.i64("the opt value");
    range.max = r.i64("the maximum");
    s->ranges.push_back(range);
  }
  size_t m = r.count("the patch count", 4 + 4 + 4 + 4 + 4);
  for (size_t i = 0; i < m; ++i) {
    r.at("patch " + std::to_string(i));
    ShapePatch p;
    uint8_t kind = r.u8("the kind");
    if (kind > uint8_t(ShapePatch::Kind::constant_generated)) corrupt("patch " + std::to_string(i) + " has an unknown kind");
    p.kind = ShapePatch::Kind(kind);
    if (r.u8("a reserved byte") || r.u8("a reserved byte") || r.u8("a reserved byte"))
      corrupt("patch " + std::to_string(i) + " has reserved bytes that are not zero");
    p.index = r.i32("the index");
    p.attr = r.str("the attribute name", 256);
    p.pos = r.u32("the position");
    size_t terms = r.count("the term count", 12);
    for (size_t t = 0; t < terms; ++t) {
      Polynomial::Term term;
      term.mask = r.u32("a term's mask");
      term.coeff = r.i64("a term's coefficient");
      p.value.terms.push_back(term);
    }
    s->patches.push_back(std::move(p));
  }
  r.expect_end();
  return s;
}

void read_meta(ByteReader r, EngineState& state) {
  state.cppnn_version = r.str("the cppnn version");
  state.producer = r.str("the producer");
  uint32_t precision = r.u32("the precision");
  if (precision > uint32_t(Precision::bfloat16))
    corrupt("unknown precision " + std::to_string(precision));
  state.options.precision = Precision(precision);
  r.expect_end();
}

AttrValue read_attr(ByteReader& r) {
  uint8_t kind = r.u8("the attribute kind");
  switch (kind) {
    case 0:
      return r.i64("an integer attribute");
    case 1:
      return r.f64("a float attribute");
    case 2:
      return r.str("a string attribute");
    case 3: {
      std::vector<int64_t> v(r.count("the integer list length", 8));
      for (int64_t& x : v) x = r.i64("an integer list element");
      return v;
    }
    case 4: {
      std::vector<double> v(r.count("the float list length", 8));
      for (double& x : v) x = r.f64("a float list element");
      return v;
    }
  }
  fail(ErrorKind::DataError, r.where() + ": unknown attribute kind " + std::to_string(kind));
}

// The builder's limits on a descriptor, so that sizes computed from it cannot overflow.
void check_descriptor(ByteReader& r, const OperandDescriptor& desc) {
  for (int64_t d : desc.shape)
    if (d < 1 || d > std::numeric_limits<int32_t>::max())
      fail(ErrorKind::DataError,
           r.where() + ": shape " + to_string(desc.shape) + " has a dimension outside 1 .. 2^31-1");
  size_t n = 1;
  for (int64_t d : desc.shape) {
    n *= size_t(d);
    if (n > size_t(std::numeric_limits<int32_t>::max()) * 4)
      fail(ErrorKind::DataError,
           r.where() + ": shape " + to_string(desc.shape) + " has too many elements");
  }
}

void read_names(ByteReader& r, std::map<std::string, OperandId>& names, const char* kind) {
  size_t n = r.count(kind, 8);
  for (size_t i = 0; i < n; ++i) {
    r.at(std::string(kind) + " " + std::to_string(i));
    std::string name = r.str("the name");
    OperandId id = r.i32("the operand id");
    if (!names.emplace(name, id).second)
      fail(ErrorKind::DataError, r.where() + ": the name '" + name + "' appears twice");
  }
}

std::shared_ptr<GraphIR> read_graph(ByteReader r, UnknownOps& unknown_ops) {
  auto g = std::make_shared<GraphIR>();
  size_t n_operands = r.count("the operand count", 12);
  g->operands.resize(n_operands);
  for (size_t i = 0; i < n_operands; ++i) {
    r.at("operand " + std::to_string(i));
    OperandInfo& op = g->operands[i];
    uint8_t type = r.u8("the data type");
    if (type >= std::size(kAllDataTypes) && type != uint8_t(DataType::bfloat16))
      fail(ErrorKind::DataError, r.where() + ": unknown data type " + std::to_string(type));
    op.desc.data_type = DataType(type);
    uint8_t role = r.u8("the role");
    if (role > uint8_t(OperandRole::intermediate))
      fail(ErrorKind::DataError, r.where() + ": unknown role " + std::to_string(role));
    op.role = OperandRole(role);
    r.u16("the reserved bytes");
    op.desc.shape.resize(r.count("the rank", 8));
    for (int64_t& d : op.desc.shape) d = r.i64("a dimension");
    check_descriptor(r, op.desc);
    op.name = r.str("the name");
  }
  size_t n_nodes = r.count("the node count", 20);
  g->nodes.resize(n_nodes);
  for (size_t i = 0; i < n_nodes; ++i) {
    r.at("node " + std::to_string(i));
    Node& node = g->nodes[i];
    std::string op = r.str("the op name");
    // A graph holds only ops users can build: a pseudo-op of a plan is as unknown as a
    // name from a newer cppnn. Validation rejects the node, naming it (UnknownOps).
    std::optional<OpId> known = find_op(op);
    if (known && op_kind(*known) != OpKind::internal)
      node.op = *known;
    else
      unknown_ops.emplace(i, std::move(op));
    node.label = r.str("the label");
    node.inputs.resize(r.count("the input count", 4));
    for (OperandId& id : node.inputs) id = r.i32("an input id");
    node.outputs.resize(r.count("the output count", 4));
    for (OperandId& id : node.outputs) id = r.i32("an output id");
    size_t n_attrs = r.count("the attribute count", 5);
    for (size_t a = 0; a < n_attrs; ++a) {
      std::string name = r.str("an attribute name");
      if (node.attrs.has(name))
        fail(ErrorKind::DataError, r.where() + ": attribute '" + name + "' appears twice");
      node.attrs.set(name, read_attr(r));
    }
  }
  read_names(r, g->inputs, "graph input");
  read_names(r, g->outputs, "graph output");
  r.at("");
  r.expect_end();
  return g;
}

// Wraps each constant's bytes in place: the file buffer owns them.
void read_constants(const EngineBytes& bytes, size_t payload_at, const Section& s, GraphIR& g) {
  const uint8_t* payload = bytes.begin() + payload_at;
  ByteReader r = section_reader(payload + s.offset, s.size, "constants section");
  size_t n = r.count("the constant count", 4 + kConstantEntryBytes);
  r.u32("the reserved word");
  size_t prev_end = s.offset + 8 + n * kConstantEntryBytes;
  const size_t section_end = s.offset + s.size;
  for (size_t i = 0; i < n; ++i) {
    r.at("entry " + std::to_string(i));
    OperandId id = r.i32("the operand id");
    r.u32("the reserved word");
    uint64_t offset = r.u64("the offset"), size = r.u64("the size");
    if (id < 0 || size_t(id) >= g.operands.size())
      fail(ErrorKind::DataError,
           r.where() + ": operand id " + std::to_string(id) + " is out of range");
    OperandInfo& op = g.operands[size_t(id)];
    std::string what = r.where() + ": operand " + std::to_string(id);
    if (op.role != OperandRole::constant) fail(ErrorKind::DataError, what + " is not a constant");
    if (op.data) fail(ErrorKind::DataError, what + " has data twice");
    size_t want = byte_size(op.desc.data_type, element_count(op.desc.shape));
    if (size != want)
      fail(ErrorKind::DataError, what + " (" + std::string(to_string(op.desc.data_type)) + " " +
                                     to_string(op.desc.shape) + ") needs " + std::to_string(want) +
                                     " bytes, the file holds " + std::to_string(size));
    if (offset % kEngineAlignment)
      fail(ErrorKind::DataError,
           what + ": data offset " + std::to_string(offset) + " is not 64-byte aligned");
    if (offset < prev_end || offset > section_end || size > section_end - offset)
      fail(ErrorKind::DataError, what + ": data at offset " + std::to_string(offset) +
                                     " lies outside the section or overlaps other data");
    prev_end = size_t(offset + size);
    auto* p = const_cast<uint8_t*>(payload + offset);
    op.data = std::make_shared<const Tensor>(
        Tensor::wrap(op.desc.data_type, op.desc.shape, p, std::shared_ptr<void>(bytes.data)));
  }
  for (size_t i = 0; i < g.operands.size(); ++i)
    if (g.operands[i].role == OperandRole::constant && !g.operands[i].data)
      corrupt("constant operand " + std::to_string(i) + " has no data");
}

struct Header {
  uint32_t version = 0;
  size_t header_size = 0, payload_size = 0;
  uint64_t checksum = 0;
};

Header read_header(const uint8_t* p, size_t size) {
  size_t magic = sizeof(kEngineMagic);
  if (std::memcmp(p, kEngineMagic, std::min(size, magic)) != 0)
    fail(ErrorKind::DataError,
         "not a cppnn engine file (its first bytes are not the engine magic)");
  if (size < kEngineHeaderBytes)
    fail(ErrorKind::DataError, "engine file is truncated: the header needs " +
                                   std::to_string(kEngineHeaderBytes) + " bytes, the file has " +
                                   std::to_string(size));
  Header h;
  h.version = get_le32(p + 8);
  if (h.version == 0) corrupt("format version 0 does not exist");
  if (h.version > kEngineFormatVersion)
    fail(ErrorKind::NotSupportedError,
         "the engine file has format version " + std::to_string(h.version) +
             ", newer than this build of cppnn reads (version " +
             std::to_string(kEngineFormatVersion) + "); rebuild the engine or upgrade cppnn");
  uint32_t header_size = get_le32(p + 12);
  if (header_size < kEngineHeaderBytes || header_size % kEngineAlignment)
    corrupt("header size " + std::to_string(header_size) +
            " is not a multiple of 64 of at least 64");
  if (header_size > size)
    fail(ErrorKind::DataError, "engine file is truncated: the header needs " +
                                   std::to_string(header_size) + " bytes, the file has " +
                                   std::to_string(size));
  h.header_size = header_size;
  uint64_t payload = get_le64(p + 16);
  size_t have = size - h.header_size;
  if (payload > have)
    fail(ErrorKind::DataError, "engine file is truncated: the payload needs " +
                                   std::to_string(payload) + " bytes, the file has " +
                                   std::to_string(have) + " after the header");
  if (payload < have)
    corrupt(std::to_string(have - payload) + " unexpected bytes after the payload");
  h.payload_size = size_t(payload);
  h.checksum = get_le64(p + 24);
  return h;
}
// bfloat16 is internal (cppnn/types.h): only a bfloat16 engine's lowered graph has it, and
// never at its interface, which callers feed and read in WebNN types.
void read_build_options(ByteReader r, EngineState& state) {
  uint32_t flags = r.u32("the build option flags");
  if (flags & ~kFloat16Interface) corrupt("unknown build option flags " + std::to_string(flags));
  state.options.keep_io_types = (flags & kFloat16Interface) == 0;
  r.expect_end();
}

// keep_io_types false: a float16 engine with no float32 input or output left.
void check_float16_interface(const GraphIR& g) {
  if (g.precision != Precision::float16)
    corrupt("the build options say float16 inputs and outputs, but the engine's precision is " +
            std::string(to_string(g.precision)));
  if (const std::string* name = float32_interface_operand(g))
    corrupt("the build options say float16 inputs and outputs, but '" + *name + "' is float32");
}

void check_bfloat16_operands(const GraphIR& g, Precision precision) {
  for (const auto* names : {&g.inputs, &g.outputs})
    for (const auto& [name, id] : *names)
      if (g.desc(id).data_type == DataType::bfloat16)
        corrupt("graph " + std::string(names == &g.inputs ? "input" : "output") + " '" + name +
                "' has data type bfloat16, which is no WebNN type");
  if (precision == Precision::bfloat16) return;
  for (size_t i = 0; i < g.operands.size(); ++i)
    if (g.operands[i].desc.data_type == DataType::bfloat16)
      corrupt("operand " + std::to_string(i) + " has data type bfloat16 in a " +
              std::string(to_string(precision)) + " engine (only bfloat16 engines store it)");
}

}  // namespace

std::shared_ptr<EngineState> read_engine(EngineBytes bytes) {
  Header h = read_header(bytes.begin(), bytes.size);
  const uint8_t* payload = bytes.begin() + h.header_size;
  uint64_t actual = engine_payload_hash(payload, h.payload_size);
  if (actual != h.checksum)
    fail(ErrorKind::DataError, "engine checksum mismatch: the file is corrupt (the header says " +
                                   hash_hex(h.checksum) + ", the payload hashes to " +
                                   hash_hex(actual) + ")");
  auto state = std::make_shared<EngineState>();
  state->format_version = h.version;
  state->payload_hash = actual;

  // The graph first: the constants section refers to its operands.
  std::vector<Section> sections = read_sections(payload, h.payload_size);
  std::shared_ptr<GraphIR> graph;
  std::shared_ptr<SymbolicShapes> symbolic;
  UnknownOps unknown_ops;
  for (const Section& s : sections) {
    if (s.tag == kMetaTag)
      read_meta(section_reader(payload + s.offset, s.size, "metadata section"), *state);
    if (s.tag == kGraphTag)
      graph = read_graph(section_reader(payload + s.offset, s.size, "graph section"), unknown_ops);
    if (s.tag == kSymbolsTag)
      symbolic = read_symbols(section_reader(payload + s.offset, s.size, "symbols section"));
    if (s.tag == kBuildOptionsTag)
      read_build_options(section_reader(payload + s.offset, s.size, "build options section"), *state);
  }
  for (const Section& s : sections)
    if (s.tag == kConstantsTag) read_constants(bytes, h.header_size, s, *graph);
  validate_engine_graph(*graph, unknown_ops);
  check_bfloat16_operands(*graph, state->options.precision);
  // A float16 engine's graph is lowered already: a float16 context must not lower it again.
  graph->precision = state->options.precision;
  if (!state->options.keep_io_types) check_float16_interface(*graph);
  if (symbolic) {
    try {
      check_symbolic(*graph, *symbolic, ErrorKind::DataError);
    } catch (const Error& e) {
      corrupt(std::string("the symbols section: ") + e.what());
    }
  }
  state->graph = Graph(std::move(graph), std::move(symbolic));
  state->bytes = std::move(bytes);
  return state;
}

}  // namespace cppnn::detail
