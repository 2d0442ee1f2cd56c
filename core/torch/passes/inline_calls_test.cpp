// InlineCalls on an unfrozen module's graph: a submodule call is inlined, and a flat graph is
// left alone (reported unchanged).
#include "core/torch/passes/inline_calls.h"

#include <torch/script.h>

#include <string>

#include "gtest/gtest.h"

namespace ts2coreml::core {
namespace {

int CountKind(const torch::jit::Graph& g, c10::Symbol kind) {
  int count = 0;
  for (const torch::jit::Node* n : g.nodes()) count += n->kind() == kind;
  return count;
}

TEST(InlineCallsTest, SubmoduleCallIsInlinedOnce) {
  torch::jit::Module inner("Inner");
  inner.define("def forward(self, x):\n    return torch.relu(x)\n");
  torch::jit::Module outer("Outer");
  outer.register_module("inner", inner);
  outer.define("def forward(self, x):\n    return self.inner.forward(x) + 1.0\n");
  std::shared_ptr<torch::jit::Graph> g = outer.get_method("forward").graph()->copy();
  ASSERT_EQ(CountKind(*g, c10::prim::CallMethod), 1);
  absl::StatusOr<bool> changed = InlineCalls(*g);
  ASSERT_TRUE(changed.ok()) << changed.status();
  EXPECT_TRUE(*changed);
  EXPECT_EQ(CountKind(*g, c10::prim::CallMethod), 0);
  EXPECT_EQ(CountKind(*g, c10::aten::relu), 1);
  changed = InlineCalls(*g);
  ASSERT_TRUE(changed.ok()) << changed.status();
  EXPECT_FALSE(*changed) << "nothing left to inline";
}

}  // namespace
}  // namespace ts2coreml::core
