// Whole models through the ONNX importer on the CPU, against ONNX Runtime's outputs stored
// as fixtures (tests/unit/onnx_fixtures/make_fixtures.py).
// They need the op families of the other branches; move this file to tests/unit/ once
// they are merged.
#include <cmath>
#include <fstream>

#include "unit/onnx_test_model.h"
#include "unit/test_support.h"

namespace cppnn {
namespace {

using testing::read_values;
using testing::rel_l2;

// ----- whole models ----------------------------------------------------------------------------

// torchvision's MobileNetV2 (Conv, Clip from Constant nodes, Add, Identity-shared weights,
// GlobalAveragePool, Flatten, Gemm) against ONNX Runtime's logits for a fixed input.
TEST(OnnxModels, MobileNetV2MatchesOnnxRuntime) {
  Graph g = load_onnx(CPPNN_SHARED_DIR "/models/mobilenet_v2.onnx");
  ASSERT_EQ(g.inputs().at("input.1").shape, (Dims{1, 3, 224, 224}));
  Tensor x(DataType::float32, {1, 3, 224, 224});
  for (size_t i = 0; i < x.element_count(); ++i)
    x.data_as<float>()[i] = float(std::sin(double(i) * 0.001));
  NamedTensors out = testing::run_cpu(g, {{"input.1", x}});
  std::vector<double> want =
      read_values(CPPNN_SOURCE_DIR "/tests/unit/onnx_fixtures/mobilenet_v2_logits.txt");
  ASSERT_EQ(want.size(), 1000u);
  ASSERT_EQ(out["536"].shape(), (Dims{1, 1000}));
  EXPECT_LT(rel_l2(out["536"].to_doubles(), want), 1e-4);
}

// A 1-layer BERT from the shared model generator: symbolic N and S, int64 ids, and all of
// PyTorch's shape arithmetic, which must fold away before the graph is built.
TEST(OnnxModels, TinyBertMatchesOnnxRuntime) {
  OnnxImportOptions options;
  options.dim_values = {{"N", 2}, {"S", 8}};
  Graph g = load_onnx(CPPNN_SOURCE_DIR "/tests/unit/onnx_fixtures/tiny_bert.onnx", options);
  std::string summary = g.summary();
  for (const char* folded : {"slice", "expand", "concat"})
    EXPECT_EQ(summary.find(folded), std::string::npos) << folded << " survived:\n" << summary;
  Tensor ids(DataType::int64, {2, 8}), mask(DataType::int64, {2, 8});
  for (int64_t i = 0; i < 16; ++i) {
    ids.data_as<int64_t>()[i] = (7 * i + 3) % 50;
    mask.data_as<int64_t>()[i] = i / 8 == 1 && i % 8 >= 6 ? 0 : 1;
  }
  NamedTensors out = testing::run_cpu(g, {{"input_ids", ids}, {"attention_mask", mask}});
  std::vector<double> want =
      read_values(CPPNN_SOURCE_DIR "/tests/unit/onnx_fixtures/tiny_bert_output.txt");
  ASSERT_EQ(out["last_hidden_state"].shape(), (Dims{2, 8, 16}));
  EXPECT_LT(rel_l2(out["last_hidden_state"].to_doubles(), want), 1e-4);
}

}  // namespace
}  // namespace cppnn
