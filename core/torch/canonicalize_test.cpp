// Canonicalization on modules built in C++: the pass list is ordered, and a module handed over
// leaves the folded graph the only owner of its weights. Each pass's own tests are beside it in
// passes/.
#include "core/torch/canonicalize.h"

#include <torch/script.h>

#include <utility>

#include "core/torch/passes/pass_testing.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace ts2coreml::core {
namespace {

using pass_testing::ConvBnModule;
using pass_testing::DropoutIsPassthrough;
using ::testing::ElementsAre;

// Handing the module over leaves the folded graph as the only owner of the weights: the replaced
// FP32 conv weight and batch_norm statistics are released during the pass, not held as a second
// copy (peak memory, docs/performance.md).
TEST(CanonicalizeTest, HandedOverModuleReleasesTheWeightsItFolds) {
  torch::jit::Module m = ConvBnModule(at::kFloat, true);
  const at::Tensor conv_weight = m.attr("w").toTensor();
  const at::Tensor running_var = m.attr("var").toTensor();
  ASSERT_GT(conv_weight.use_count(), 1);
  absl::StatusOr<CanonicalModel> c =
      Canonicalize(std::exchange(m, torch::jit::Module()), DropoutIsPassthrough());
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(conv_weight.use_count(), 1) << "the old conv weight is still referenced";
  EXPECT_EQ(running_var.use_count(), 1) << "the batch_norm statistics are still referenced";
  EXPECT_EQ(conv_weight.storage().use_count(), 1);
}

TEST(CanonicalizeTest, PipelineIsAnExplicitOrderedList) {
  std::vector<std::string> names;
  for (const TorchPass& p : CanonicalizationPipeline({})) names.emplace_back(p.name);
  EXPECT_THAT(names, ElementsAre("inline", "decompose-fused-transformer-ops", "decompose-complex",
                                 "rewrite-copy-into-fresh-tensors", "remove-passthrough-ops",
                                 "fold-packed-sequences", "fold-constant-scalars",
                                 "fold-conv-batch-norm", "eliminate-dead-code"));
}

}  // namespace
}  // namespace ts2coreml::core
