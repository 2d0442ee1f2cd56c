// Passthrough removal through Canonicalize: declared identities go (unless written in place
// after them), undeclared ones stay, and training-mode dropouts are refused.
#include "core/torch/passes/remove_passthrough_ops.h"

#include <torch/script.h>

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "core/torch/canonicalize.h"
#include "core/torch/passes/pass_testing.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace ts2coreml::core {
namespace {

using pass_testing::ConvBnModule;
using pass_testing::Kinds;
using pass_testing::RunGraph;
using ::testing::ElementsAre;

TEST(RemovePassthroughOpsTest, PassthroughOpsAreRemovedOnlyWhenDeclared) {
  torch::jit::Module m = ConvBnModule(at::kFloat, true);
  absl::StatusOr<CanonicalModel> without = Canonicalize(m, {});
  ASSERT_TRUE(without.ok());
  EXPECT_THAT(Kinds(*without->graph),
              ElementsAre("aten::_convolution", "aten::dropout", "aten::relu"));
}

TEST(RemovePassthroughOpsTest, TrainingDropoutIsRefusedNotRemoved) {
  for (const char* op : {"dropout", "feature_dropout", "alpha_dropout_"}) {
    SCOPED_TRACE(op);
    torch::jit::Module m("M");
    m.define(absl::StrCat("def forward(self, x):\n    return torch.", op, "(x, 0.5, True)\n"));
    m.eval();
    CanonicalizeOptions o;
    o.passthrough_ops = {"aten::dropout", "aten::feature_dropout", "aten::alpha_dropout"};
    absl::StatusOr<CanonicalModel> c = Canonicalize(m, o);
    ASSERT_FALSE(c.ok());
    EXPECT_THAT(std::string(c.status().message()), ::testing::HasSubstr("train=True"));
  }
}

// With p = 0 a dropout is the identity in training mode too (torchvision's swin_t attention).
TEST(RemovePassthroughOpsTest, TrainingDropoutWithZeroProbabilityIsRemoved) {
  torch::jit::Module m("M");
  m.define("def forward(self, x):\n    return torch.dropout(x, 0.0, True) + 1.0\n");
  m.eval();
  CanonicalizeOptions o;
  o.passthrough_ops = {"aten::dropout"};
  absl::StatusOr<CanonicalModel> c = Canonicalize(m, o);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_THAT(Kinds(*c->graph), ElementsAre("aten::add"));
}

TEST(RemovePassthroughOpsTest, CloneWrittenInPlaceIsKept) {
  // y's clone must stay: without it, y[0] = 0 would write into x, which z reads.
  torch::jit::Module m("M");
  m.define(R"(
def forward(self, x):
    y = x.clone()
    y[0] = 0.0
    z = x.clone()
    return y + z + x
)");
  m.eval();
  CanonicalizeOptions clone_is_passthrough;
  clone_is_passthrough.passthrough_ops = {"aten::clone"};
  absl::StatusOr<CanonicalModel> c = Canonicalize(m, clone_is_passthrough);
  ASSERT_TRUE(c.ok()) << c.status();
  const std::vector<std::string> kinds = Kinds(*c->graph);
  EXPECT_EQ(std::count(kinds.begin(), kinds.end(), "aten::clone"), 1)
      << "the written clone stays, the other goes";
  const at::Tensor x = torch::randn({3, 2});
  EXPECT_TRUE(torch::equal(RunGraph(*c, x), m.forward({x}).toTensor()));
}

}  // namespace
}  // namespace ts2coreml::core
