// runtime/memory_plan.h: which intermediates share bytes. Reshape views share their
// input's bytes for as long as either is read; everything else keeps the lifetime rules.
#include "runtime/memory_plan.h"

#include "graph/op_id.h"
#include "test_support.h"

namespace cppnn {
namespace {

using detail::GraphIR;
using detail::OpId;

size_t out_of(const GraphIR& g, size_t node) { return size_t(g.nodes[node].outputs[0]); }

// x -> relu a -> reshape r -> relu b -> add(b, a) -> y: the reshape's input a is read again
// after the reshape, so a view must keep a's bytes alive until the add.
TEST(MemoryPlan, ReshapeViewSharesBytesAndExtendsTheLifetime) {
  GraphBuilder b;
  Operand x = b.input("x", DataType::float32, {4, 6});
  Operand a = b.relu(x);
  Operand r = b.reshape(a, {24});
  Operand c = b.relu(r);
  Operand d = b.relu(b.reshape(c, {4, 6}));
  Graph g = b.build({{"y", b.add(d, a)}});
  const GraphIR& ir = g.ir();
  ASSERT_EQ(ir.nodes.size(), 6u);
  ASSERT_EQ(ir.nodes[1].op, OpId::reshape);
  ASSERT_EQ(ir.nodes[3].op, OpId::reshape);

  detail::MemoryPlan copies = detail::plan_memory(ir);
  EXPECT_NE(copies.offset[out_of(ir, 0)], copies.offset[out_of(ir, 1)]);

  std::vector<bool> views(ir.nodes.size(), false);
  views[1] = views[3] = true;
  detail::MemoryPlan plan = detail::plan_memory(ir, views);
  size_t ai = out_of(ir, 0), ri = out_of(ir, 1), ci = out_of(ir, 2), c2 = out_of(ir, 3),
         di = out_of(ir, 4);
  EXPECT_EQ(plan.offset[ai], plan.offset[ri]);
  EXPECT_EQ(plan.offset[ci], plan.offset[c2]);
  // a (through its view r) is alive from node 0 to the add: nothing made meanwhile may
  // take its bytes, though r itself dies at node 2.
  for (size_t other : {ci, di}) {
    size_t lo = plan.offset[other], hi = lo + 24 * 4;
    size_t alo = plan.offset[ai], ahi = alo + 24 * 4;
    EXPECT_TRUE(hi <= alo || ahi <= lo) << "operand " << other << " overlaps a";
  }
  EXPECT_LT(plan.arena_bytes, copies.arena_bytes + 1);
}

// Graph inputs and outputs have bytes of their own: a reshape of an input or into an
// output is no view.
TEST(MemoryPlan, ReshapeOfInputOrIntoOutputIsNoView) {
  GraphBuilder b;
  Operand x = b.input("x", DataType::float32, {4, 6});
  Operand r = b.reshape(x, {24});
  Graph g = b.build({{"y", b.reshape(b.relu(r), {6, 4})}});
  const GraphIR& ir = g.ir();
  std::vector<bool> views(ir.nodes.size(), true);
  detail::MemoryPlan plan = detail::plan_memory(ir, views);
  EXPECT_EQ(plan.offset[size_t(ir.inputs.at("x"))], SIZE_MAX);
  EXPECT_EQ(plan.offset[size_t(ir.outputs.at("y"))], SIZE_MAX);
  EXPECT_NE(plan.offset[out_of(ir, 0)], SIZE_MAX) << "r is a copy of the input, in the arena";
}

}  // namespace
}  // namespace cppnn
