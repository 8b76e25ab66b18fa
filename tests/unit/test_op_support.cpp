// op_support_limits() (the spec's opSupportLimits) against the op table and the builder:
// every op of the table is listed with every operand it takes, and the types listed for
// an op's first operand are exactly those the builder accepts.
#include <gtest/gtest.h>

#include <algorithm>

#include "cppnn/cppnn.h"
#include "cppnn/graph_info.h"
#include "cppnn/op_support.h"
#include "graph/op_id.h"
#include "graph/op_table.h"

namespace cppnn {
namespace {

using namespace detail;

bool has(const TensorLimits& l, DataType t) {
  return std::find(l.data_types.begin(), l.data_types.end(), t) != l.data_types.end();
}

TEST(OpSupportLimits, ListsEveryOpOfTheTable) {
  OpSupportLimits limits = op_support_limits();
  EXPECT_EQ(limits.input.data_types.size(), std::size(kAllDataTypes));
  size_t listed = 0;
  for (const OpInfo& info : all_ops()) {
    const OpSchema* schema = OpTable::instance().find(info.id);
    if (!schema || info.kind == OpKind::internal) {
      EXPECT_FALSE(limits.ops.count(info.name)) << info.name;
      continue;
    }
    ++listed;
    ASSERT_TRUE(limits.ops.count(info.name)) << info.name;
    const auto& operands = limits.ops.at(info.name);
    EXPECT_TRUE(operands.count("output") || operands.count("outputs")) << info.name;
    const TensorLimits& first = operands.at(schema->input_names[0]);
    auto types = op_types(info.types);
    EXPECT_EQ(first.data_types, std::vector<DataType>(types.begin(), types.end())) << info.name;
    for (const auto& [name, l] : operands) {
      EXPECT_FALSE(l.data_types.empty()) << info.name << "." << name;
      EXPECT_LE(l.min_rank, l.max_rank) << info.name << "." << name;
    }
  }
  EXPECT_EQ(limits.ops.size(), listed);
  // Fusion-only operands are not the builder's.
  EXPECT_FALSE(limits.ops.at("conv2d").count("residual"));
  EXPECT_FALSE(limits.ops.at("matmul").count("bias"));
  EXPECT_TRUE(limits.ops.at("conv2d").count("bias"));
}

TEST(OpSupportLimits, TypesFollowTheSpecConstraints) {
  OpSupportLimits limits = op_support_limits();
  const auto& gather = limits.ops.at("gather");
  EXPECT_TRUE(has(gather.at("indices"), DataType::int64));
  EXPECT_FALSE(has(gather.at("indices"), DataType::float32));
  EXPECT_EQ(limits.ops.at("lesser").at("output").data_types, std::vector{DataType::uint8});
  EXPECT_EQ(limits.ops.at("where").at("condition").data_types, std::vector{DataType::uint8});
  EXPECT_TRUE(has(limits.ops.at("where").at("trueValue"), DataType::int8));
  EXPECT_EQ(limits.ops.at("argMin").at("output").data_types,
            (std::vector{DataType::int32, DataType::int64}));
  EXPECT_TRUE(limits.ops.at("split").count("outputs"));
}

// The builder agrees with the listed types of unary and binary ops' first operand.
TEST(OpSupportLimits, BuilderAcceptsExactlyTheListedTypes) {
  OpSupportLimits limits = op_support_limits();
  for (const OpInfo& info : all_ops()) {
    if (info.sig == OpSig::X || info.kind == OpKind::internal) continue;
    const TensorLimits& first =
        limits.ops.at(info.name).at(OpTable::instance().find(info.id)->input_names[0]);
    for (DataType t : kAllDataTypes) {
      GraphBuilder b;
      Operand x = b.input("x", t, {2});
      bool built = true;
      try {
        if (info.sig == OpSig::B) {
          std::vector<Operand> in{x, x};
          b.build({{"y", detail::add_op(b, info.id, in, {}, "")[0]}});
        } else {
          b.build({{"y", detail::add_op(b, info.id, {x}, {}, "")[0]}});
        }
      } catch (const Error&) {
        built = false;
      }
      EXPECT_EQ(built, has(first, t)) << info.name << " " << to_string(t);
    }
  }
}

TEST(GraphInfo, OperandCountCountsInputsConstantsAndNodeOutputs) {
  GraphBuilder b;
  Operand x = b.input("x", DataType::float32, {2});
  Operand c = b.constant(DataType::float32, 2.0);
  Operand y = b.mul(x, c);
  std::vector<Operand> parts = b.split(b.relu(y), 2);
  Graph g = b.build({{"a", parts[0]}, {"b", parts[1]}});
  EXPECT_EQ(g.node_count(), 3u);
  EXPECT_EQ(operand_count(g), 6u);  // x, c, y, relu, two halves
}

}  // namespace
}  // namespace cppnn
