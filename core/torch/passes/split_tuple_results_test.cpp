// Tuple results of prim::If and tuples carried by prim::Loop split into their elements, the
// graph computing the same values.
#include "core/torch/passes/split_tuple_results.h"

#include <torch/script.h>

#include "gtest/gtest.h"
#include "torch/csrc/jit/frontend/ir_emitter.h"
#include "torch/csrc/jit/ir/irparser.h"

namespace ts2coreml::core {
namespace {

/// Whether a node of `block` (nested blocks included) is control flow with a tuple result.
bool HasTupleResults(const torch::jit::Block* block) {
  for (const torch::jit::Node* n : block->nodes()) {
    for (const torch::jit::Block* b : n->blocks()) {
      if (HasTupleResults(b)) return true;
    }
    if (n->kind() != c10::prim::If && n->kind() != c10::prim::Loop) continue;
    for (const torch::jit::Value* v : n->outputs()) {
      if (v->type()->kind() == c10::TypeKind::TupleType) return true;
    }
  }
  return false;
}

/// forward() of `source` (a module without parameters), its graph split, run on `args`, against
/// the graph before.
void ExpectSameAfterSplit(const std::string& source, std::vector<c10::IValue> args) {
  torch::jit::Module m("M");
  m.define(source);
  torch::jit::Method forward = m.get_method("forward");
  std::shared_ptr<torch::jit::Graph> g = forward.graph()->copy();
  ASSERT_TRUE(HasTupleResults(g->block()));
  ASSERT_TRUE(SplitTupleResults(g));
  EXPECT_FALSE(HasTupleResults(g->block())) << *g;
  g->lint();
  std::vector<c10::IValue> with_self = {m._ivalue()};
  with_self.insert(with_self.end(), args.begin(), args.end());
  torch::jit::GraphFunction before("before", forward.graph()->copy(), nullptr);
  torch::jit::GraphFunction after("after", g, nullptr);
  const at::Tensor want = before(with_self).toTensor();
  const at::Tensor got = after(with_self).toTensor();
  EXPECT_TRUE(at::allclose(want, got)) << *g;
}

TEST(SplitTupleResultsTest, IfYieldingATupleYieldsItsElements) {
  const std::string source = R"(
def forward(self, x, flag: bool):
    hx = (x, x * 2.0)
    if flag:
        hx = (hx[0].unsqueeze(0).squeeze(0) + 1.0, hx[1])
    h, c = hx
    return h * c
)";
  for (bool flag : {true, false}) {
    SCOPED_TRACE(flag);
    ExpectSameAfterSplit(source, {torch::randn({2, 3}), flag});
  }
}

TEST(SplitTupleResultsTest, LoopCarryingNestedTuplesCarriesTheirElements) {
  ExpectSameAfterSplit(R"(
def forward(self, x, n: int):
    s = ((x, x + 1.0), x * 0.5)
    for i in range(n):
        a, b = s[0]
        s = ((a + b, b * 0.9), s[1] - a)
    return s[0][0] + s[0][1] * s[1]
)",
                       {torch::randn({3}), int64_t{5}});
}

TEST(SplitTupleResultsTest, GraphWithoutTuplesIsUnchanged) {
  torch::jit::Module m("M");
  m.define("def forward(self, x, flag: bool):\n    if flag:\n        x = x + 1.0\n    return x\n");
  std::shared_ptr<torch::jit::Graph> g = m.get_method("forward").graph()->copy();
  EXPECT_FALSE(SplitTupleResults(g));
}

}  // namespace
}  // namespace ts2coreml::core
