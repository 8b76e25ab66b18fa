// runtime/partition.h: where each node runs, given a backend's per-node answers, and which
// operands cross between device and host memory.
#include "runtime/partition.h"

#include "graph/op_id.h"
#include "test_support.h"

namespace cppnn {
namespace {

using detail::GraphIR;
using detail::NodeSupport;
using detail::OpId;

// x -> relu -> gelu -> add(., x) -> y; a device without gelu.
TEST(Partition, OperandsCrossingSidesAreMarked) {
  GraphBuilder b;
  Operand x = b.input("x", DataType::float32, {4});
  Operand r = b.relu(x);
  Operand g1 = b.gelu(r);
  Graph g = b.build({{"y", b.add(g1, x)}});
  const GraphIR& ir = g.ir();
  ASSERT_EQ(ir.nodes.size(), 3u);
  auto no_gelu = [](const GraphIR& graph, size_t i) {
    return graph.nodes[i].op == OpId::gelu ? NodeSupport{false, "no gelu"} : NodeSupport{};
  };
  detail::Partition p = detail::partition_graph(ir, no_gelu);
  EXPECT_TRUE(p.any_host_node);
  EXPECT_EQ(p.device_node_count(), 2u);
  EXPECT_EQ(p.summary(ir), "2 of 3 nodes on the device; on the host: gelu (no gelu)");
  size_t xi = size_t(ir.inputs.at("x"));
  size_t ri = size_t(ir.nodes[0].outputs[0]), gi = size_t(ir.nodes[1].outputs[0]);
  size_t yi = size_t(ir.outputs.at("y"));
  EXPECT_TRUE(p.read_on_device[xi]);   // relu and add
  EXPECT_FALSE(p.read_on_host[xi]);
  EXPECT_TRUE(p.read_on_host[ri]);     // gelu reads relu's output on the host
  EXPECT_TRUE(p.made_on_device[ri]);
  EXPECT_FALSE(p.made_on_device[gi]);  // made on the host, read by add on the device
  EXPECT_TRUE(p.read_on_device[gi]);
  EXPECT_TRUE(p.made_on_device[yi]);
  EXPECT_FALSE(p.made_on_device[xi]);  // an input is made by no node

  // A node forced to the host (a library turned it down) keeps the reason given.
  detail::Partition forced = detail::partition_graph(ir, no_gelu, {{2, "turned down"}});
  EXPECT_EQ(forced.summary(ir),
            "1 of 3 nodes on the device; on the host: gelu (no gelu), add (turned down)");
  EXPECT_TRUE(forced.read_on_host[gi]);
  EXPECT_FALSE(forced.made_on_device[yi]);

  // A refusal without a reason gets one.
  detail::Partition none = detail::partition_graph(
      ir, [](const GraphIR&, size_t) { return NodeSupport{false, ""}; });
  EXPECT_EQ(none.summary(ir), "0 of 3 nodes on the device; on the host: relu (not supported by "
                              "the device), gelu (not supported by the device), add (not "
                              "supported by the device)");
  detail::Partition all = detail::partition_graph(ir, [](const GraphIR&, size_t) { return NodeSupport{}; });
  EXPECT_FALSE(all.any_host_node);
  EXPECT_EQ(all.summary(ir), "3 of 3 nodes on the device");
}

}  // namespace
}  // namespace cppnn
