// Engine files that must not load: corrupt bytes, truncation, wrong magic, newer versions,
// and crafted files whose checksum is right but whose graph is not (patched payloads with
// the checksum recomputed), up to a mutation loop that exercises the parser itself. Every
// failure must be a cppnn::Error, and the context must keep working afterwards.
#include <cstring>
#include <random>
#include <set>

#include "engine/engine_format.h"
#include "engine_forgery.h"
#include "engine_test_model.h"

namespace cppnn {
namespace {

using testing::expect_error;
using testing::make_engine_test_model;
using testing::random_tensor;

constexpr size_t kHeader = testing::kEngineHeader;
using testing::le32;
using testing::le64;
using testing::patched;
using testing::str;
using testing::with_checksum;

// An operand record's fixed part: data type, role, reserved, rank, dims.
std::string operand_record(uint8_t type, uint8_t role, const Dims& dims) {
  std::string s{char(type), char(role), '\0', '\0'};
  s += le32(uint32_t(dims.size()));
  for (int64_t d : dims) s += le64(uint64_t(d));
  return s;
}

class EngineLoad : public ::testing::Test {
 protected:
  void SetUp() override {
    model_ = make_engine_test_model();
    engine_ = Engine::build(model_.graph);
    bytes_ = engine_.to_bytes();
    ContextOptions options;
    options.accelerated = false;
    context_ = Context::create(options);
    inputs_ = {{"x", random_tensor(DataType::float32, {2, 3, 4, 5}, -2.0, 2.0, 5)}};
    expected_ = context_.compute(model_.graph, inputs_);
  }

  // After an error, the context still computes the good engine correctly.
  void expect_context_works() {
    NamedTensors got = context_.compute(Engine::from_bytes(bytes_).graph(), inputs_);
    for (const auto& [name, t] : expected_)
      EXPECT_EQ(std::memcmp(t.data(), got.at(name).data(), t.byte_size()), 0) << name;
  }

  void expect_load_error(const std::string& bytes, ErrorKind kind, const std::string& fragment) {
    expect_error([&] { Engine::from_bytes(bytes); }, kind, fragment);
  }

  testing::EngineTestModel model_;
  Engine engine_;
  std::string bytes_;
  Context context_;
  NamedTensors inputs_, expected_;
};

TEST_F(EngineLoad, AFlippedPayloadByteAnywhereIsAChecksumMismatch) {
  for (size_t i = kHeader; i < bytes_.size(); ++i) {
    std::string bad = bytes_;
    bad[i] = char(bad[i] ^ 0x01);
    try {
      Engine::from_bytes(bad);
      ADD_FAILURE() << "byte " << i << " flipped and the engine loaded";
    } catch (const Error& e) {
      ASSERT_EQ(e.kind(), ErrorKind::DataError) << e.what();
      ASSERT_NE(std::string(e.what()).find("engine checksum mismatch"), std::string::npos)
          << e.what();
    }
  }
  expect_context_works();
}

TEST_F(EngineLoad, TruncationAtAnyPointIsADataErrorNamingIt) {
  for (size_t cut = 0; cut < bytes_.size(); cut += (cut < 80 ? 1 : 7)) {
    try {
      Engine::from_bytes(bytes_.substr(0, cut));
      ADD_FAILURE() << "truncated to " << cut << " bytes and the engine loaded";
    } catch (const Error& e) {
      ASSERT_EQ(e.kind(), ErrorKind::DataError) << e.what();
      std::string what = e.what();
      ASSERT_NE(what.find("truncated"), std::string::npos) << what;
      ASSERT_NE(what.find(cut < kHeader ? "header" : "payload"), std::string::npos) << what;
    }
  }
  expect_load_error(bytes_ + "x", ErrorKind::DataError, "1 unexpected bytes after the payload");
  expect_context_works();
}

TEST_F(EngineLoad, WrongMagicIsNotAnEngine) {
  std::string bad = bytes_;
  bad[0] = 'X';
  expect_load_error(bad, ErrorKind::DataError, "not a cppnn engine file");
  expect_load_error("ir_version: 8\nproducer_name: \"onnx\"\n", ErrorKind::DataError,
                    "not a cppnn engine file");
  expect_load_error("", ErrorKind::DataError, "truncated");
  expect_context_works();
}

TEST_F(EngineLoad, ANewerFormatVersionIsNotSupported) {
  std::string newer = bytes_;
  newer.replace(8, 4, le32(kEngineFormatVersion + 1));
  expect_load_error(newer, ErrorKind::NotSupportedError,
                    "format version " + std::to_string(kEngineFormatVersion + 1));
  expect_load_error(newer, ErrorKind::NotSupportedError,
                    "reads (version " + std::to_string(kEngineFormatVersion) + ")");
  std::string zero = bytes_;
  zero.replace(8, 4, le32(0));
  expect_load_error(zero, ErrorKind::DataError, "format version 0");
  std::string header = bytes_;
  header.replace(12, 4, le32(65));
  expect_load_error(header, ErrorKind::DataError, "header size 65");
  expect_context_works();
}

TEST_F(EngineLoad, ACraftedGraphThatDisagreesWithTheOpTableIsADataError) {
  // A node's stored output shape differs from what the op infers (the first float32
  // [2, 1, 6, 8] operand is resample2d's output; softmax's comes later).
  expect_load_error(
      patched(bytes_, operand_record(0, 2, {2, 1, 6, 8}), operand_record(0, 2, {2, 1, 6, 9}), true),
      ErrorKind::DataError,
      "is stored as float32 [2, 1, 6, 9] but the op infers float32 [2, 1, 6, 8]");
  expect_load_error(patched(bytes_, str("leakyRelu"), str("leakyRelz")), ErrorKind::DataError,
                    "unknown op 'leakyRelz'");
  expect_context_works();
}

TEST_F(EngineLoad, ACraftedFileWithBadIdsOrNamesIsADataError) {
  const detail::GraphIR& ir = engine_.graph().ir();
  const detail::Node* pool = nullptr;
  for (const auto& node : ir.nodes)
    if (node.label == "pool") pool = &node;
  ASSERT_NE(pool, nullptr);
  // The node record after the label: input count, then the input ids.
  std::string reads = str("pool") + le32(1) + le32(uint32_t(pool->inputs[0]));
  expect_load_error(patched(bytes_, reads, str("pool") + le32(1) + le32(9999)),
                    ErrorKind::DataError, "input operand id 9999 is out of range");
  uint32_t later = uint32_t(ir.nodes.back().outputs[0]);
  expect_load_error(patched(bytes_, reads, str("pool") + le32(1) + le32(later)),
                    ErrorKind::DataError, "before any node produces it");
  uint32_t soft = uint32_t(ir.outputs.at("soft"));
  expect_load_error(patched(bytes_, str("soft") + le32(soft), str("soft") + le32(5000)),
                    ErrorKind::DataError,
                    "graph output 'soft' refers to operand 5000, out of range");
  expect_load_error(patched(bytes_, str("part") + le32(uint32_t(ir.outputs.at("part"))),
                            str("soft") + le32(soft)),
                    ErrorKind::DataError, "the name 'soft' appears twice");
  expect_load_error(
      patched(bytes_, str("x") + le32(uint32_t(ir.inputs.at("x"))), str("y") + le32(0)),
      ErrorKind::DataError, "graph input 'y'");
  expect_context_works();
}

TEST_F(EngineLoad, ACraftedConstantOfTheWrongSizeIsADataError) {
  // One of batchNormalization's float32 [3] constants becomes [4]: 16 bytes against 12.
  expect_load_error(patched(bytes_, operand_record(0, 1, {3}), operand_record(0, 1, {4}), true),
                    ErrorKind::DataError, "needs 16 bytes, the file holds 12");
  expect_context_works();
}

TEST_F(EngineLoad, ACraftedIrIsRevalidated) {
  // Written by the writer itself, so only validation can reject them.
  auto write = [](const detail::GraphIR& ir) {
    detail::EngineBytes b = detail::write_engine(ir, {});
    return std::string(reinterpret_cast<const char*>(b.begin()), b.size);
  };
  detail::GraphIR orphan = engine_.graph().ir();
  orphan.operands.push_back(
      {{DataType::float32, {2}}, detail::OperandRole::intermediate, {}, nullptr});
  expect_load_error(write(orphan), ErrorKind::DataError, "is never produced by a node");

  detail::GraphIR swapped = engine_.graph().ir();
  std::swap(swapped.nodes.front(), swapped.nodes.back());
  expect_load_error(write(swapped), ErrorKind::DataError, "topological order");

  detail::GraphIR absent = engine_.graph().ir();
  absent.nodes.front().inputs[0] = detail::kNoOperand;
  expect_load_error(write(absent), ErrorKind::DataError, "required input 0 is absent");

  detail::GraphIR wrong_attr = engine_.graph().ir();
  for (auto& node : wrong_attr.nodes)
    if (node.op == detail::OpId::softmax) node.attrs.set("axis", std::string("three"));
  expect_load_error(write(wrong_attr), ErrorKind::DataError, "softmax");

  // Sizes whose sum overflows int64 (a builder call cannot make them, a file can).
  detail::GraphIR huge_split = engine_.graph().ir();
  for (auto& node : huge_split.nodes)
    if (node.op == detail::OpId::split)
      node.attrs.set("splits", std::vector<int64_t>{int64_t(1) << 62, int64_t(1) << 62,
                                                    int64_t(1) << 62, int64_t(1) << 62});
  expect_load_error(write(huge_split), ErrorKind::DataError, "larger than dimension");
  expect_context_works();
}

TEST_F(EngineLoad, UnknownSectionsAreSkippedUnlessRequired) {
  detail::ExtraSection kernels{{'K', 'S', 'R', 'C'}, false, "__global__ void k() {}"};
  detail::EngineBytes b = detail::write_engine(engine_.graph().ir(), {}, {kernels});
  Engine with_extra =
      Engine::from_bytes(std::string(reinterpret_cast<const char*>(b.begin()), b.size));
  EXPECT_NE(with_extra.hash(), engine_.hash());
  NamedTensors got = context_.compute(with_extra.graph(), inputs_);
  for (const auto& [name, t] : expected_)
    EXPECT_EQ(std::memcmp(t.data(), got.at(name).data(), t.byte_size()), 0) << name;

  kernels.required = true;
  b = detail::write_engine(engine_.graph().ir(), {}, {kernels});
  expect_load_error(std::string(reinterpret_cast<const char*>(b.begin()), b.size),
                    ErrorKind::NotSupportedError, "needs section KSRC");
  expect_load_error(patched(bytes_, "GRPH", "GRPX"), ErrorKind::NotSupportedError, "GRPX");
  expect_context_works();
}

TEST_F(EngineLoad, RandomMutationsOnlyEverThrowCppnnErrors) {
  // Mutations with the checksum recomputed reach the parser and the validator; a loaded
  // mutant is also run, since validation is what kernels rely on.
  std::mt19937 gen(20240601);
  std::uniform_int_distribution<size_t> position(kHeader, bytes_.size() - 1);
  std::uniform_int_distribution<int> byte(0, 255), count(1, 4), style(0, 3);
  size_t loaded = 0, rejected = 0;
  std::set<std::string> messages;
  for (int iteration = 0; iteration < 2000; ++iteration) {
    std::string bad = bytes_;
    for (int k = count(gen); k > 0; --k) {
      size_t at = position(gen);
      switch (style(gen)) {
        case 0:
          bad[at] = char(byte(gen));
          break;
        case 1:
          bad[at] = char(bad[at] ^ (1 << (byte(gen) % 8)));
          break;
        case 2:
          bad[at] = char(bad[at] + (byte(gen) % 2 ? 1 : -1));
          break;
        default:  // a large count or id
          bad.replace(at, std::min<size_t>(4, bad.size() - at),
                      le32(0xfffffff0u + uint32_t(byte(gen) % 16))
                          .substr(0, std::min<size_t>(4, bad.size() - at)));
      }
    }
    bad = with_checksum(std::move(bad));
    try {
      Engine e = Engine::from_bytes(bad);
      ++loaded;
      NamedTensors inputs;
      for (const auto& [name, desc] : e.graph().inputs())
        inputs[name] = random_tensor(desc.data_type, desc.shape, -2.0, 2.0, 3);
      context_.compute(e.graph(), inputs);
    } catch (const Error& e) {
      ++rejected;
      messages.insert(std::string(e.what()).substr(0, 40));
    } catch (const std::exception& e) {
      FAIL() << "iteration " << iteration << ": not a cppnn::Error: " << e.what();
    }
  }
  EXPECT_GT(loaded, 0u);
  EXPECT_GT(rejected, 1000u);
  EXPECT_GT(messages.size(), 10u);
  expect_context_works();
}

}  // namespace
}  // namespace cppnn
