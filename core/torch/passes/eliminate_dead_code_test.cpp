// EliminateDeadNodes on TorchScript IR: unread pure nodes go (nested blocks counted), and a graph
// without any is reported unchanged (one test: each test is a LibTorch process).
#include "core/torch/passes/eliminate_dead_code.h"

#include <torch/script.h>

#include "gtest/gtest.h"
#include "torch/csrc/jit/ir/irparser.h"

namespace ts2coreml::core {
namespace {

std::shared_ptr<torch::jit::Graph> Parse(const char* ir) {
  auto g = std::make_shared<torch::jit::Graph>();
  torch::jit::parseIR(ir, g.get());
  return g;
}

TEST(EliminateDeadCodeTest, UnreadNodesGoAndAreReportedNestedBlocksIncluded) {
  std::shared_ptr<torch::jit::Graph> g = Parse(R"IR(
graph(%x : Tensor):
  %dead : Tensor = aten::relu(%x)
  %y : Tensor = aten::neg(%x)
  return (%y))IR");
  absl::StatusOr<bool> changed = EliminateDeadNodes(g);
  ASSERT_TRUE(changed.ok()) << changed.status();
  EXPECT_TRUE(*changed);
  ASSERT_EQ(std::distance(g->nodes().begin(), g->nodes().end()), 1);
  EXPECT_EQ(g->nodes().front()->kind(), c10::aten::neg);
  changed = EliminateDeadNodes(g);
  ASSERT_TRUE(changed.ok()) << changed.status();
  EXPECT_FALSE(*changed) << "a clean graph is unchanged";

  // A dead node inside a block counts too.
  g = Parse(R"IR(
graph(%x : Tensor, %c : bool):
  %y : Tensor = prim::If(%c)
    block0():
      %dead : Tensor = aten::relu(%x)
      -> (%x)
    block1():
      -> (%x)
  return (%y))IR");
  changed = EliminateDeadNodes(g);
  ASSERT_TRUE(changed.ok()) << changed.status();
  EXPECT_TRUE(*changed);
  ASSERT_EQ(std::distance(g->nodes().begin(), g->nodes().end()), 1);
  EXPECT_TRUE(g->nodes().front()->blocks()[0]->nodes().begin() ==
              g->nodes().front()->blocks()[0]->nodes().end());
}

}  // namespace
}  // namespace ts2coreml::core
