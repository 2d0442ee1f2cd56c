// An if with a raising branch becomes a guard followed by the other branch's computation.
#include "core/torch/passes/hoist_raising_branches.h"

#include <torch/script.h>

#include "core/torch/control_flow.h"
#include "gtest/gtest.h"

namespace ts2coreml::core {
namespace {

/// The prim::If nodes of `g`'s top-level block.
std::vector<torch::jit::Node*> Ifs(torch::jit::Graph& g) {
  std::vector<torch::jit::Node*> ifs;
  for (torch::jit::Node* n : g.nodes()) {
    if (n->kind() == c10::prim::If) ifs.push_back(n);
  }
  return ifs;
}

TEST(HoistRaisingBranchesTest, IfWithARaisingBranchBecomesAGuardAndStraightLineCode) {
  torch::jit::Module m("M");
  m.define(R"(
def forward(self, x):
    if x.dim() == 2:
        y = x * 2.0 + 1.0
    else:
        assert False, "expected a matrix"
        y = x
    return y - x
)");
  torch::jit::Method forward = m.get_method("forward");
  std::shared_ptr<torch::jit::Graph> g = forward.graph()->copy();
  ASSERT_EQ(Ifs(*g).size(), 1u);
  ASSERT_EQ(Ifs(*g)[0]->outputs().size(), 1u);
  ASSERT_TRUE(HoistRaisingBranches(*g));
  g->lint();
  const std::vector<torch::jit::Node*> ifs = Ifs(*g);
  ASSERT_EQ(ifs.size(), 1u);
  EXPECT_TRUE(ifs[0]->outputs().empty());
  std::optional<Guard> guard = AsGuard(ifs[0]);
  ASSERT_TRUE(guard.has_value()) << *g;
  EXPECT_TRUE(guard->raises);
  EXPECT_FALSE(guard->raise_when);  // raises when x.dim() == 2 is false
  EXPECT_EQ(guard->message, "AssertionError: expected a matrix");
  torch::jit::GraphFunction after("after", g, nullptr);
  const at::Tensor x = torch::randn({2, 3});
  EXPECT_TRUE(at::allclose(after({m._ivalue(), x}).toTensor(), x + 1.0));
  EXPECT_THROW(after({m._ivalue(), torch::randn({3})}), std::exception);
}

TEST(HoistRaisingBranchesTest, IfWithoutRaisesIsUnchanged) {
  torch::jit::Module m("M");
  m.define(
      "def forward(self, x, f: bool):\n    y = x\n    if f:\n        y = x + 1.0\n    return y\n");
  std::shared_ptr<torch::jit::Graph> g = m.get_method("forward").graph()->copy();
  EXPECT_FALSE(HoistRaisingBranches(*g));
}

}  // namespace
}  // namespace ts2coreml::core
