// FoldConvBatchNorm through Canonicalize on modules built in C++: the folded conv computes what
// conv + batch_norm did, in FP32 (also for half weights), in place only when nothing else holds
// the weight, and only when the conv has no other reader.
#include "core/torch/passes/fold_conv_batch_norm.h"

#include <torch/script.h>

#include <utility>

#include "core/torch/canonicalize.h"
#include "core/torch/passes/pass_testing.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace ts2coreml::core {
namespace {

using pass_testing::ConvBnModule;
using pass_testing::DropoutIsPassthrough;
using pass_testing::Kinds;
using pass_testing::RunGraph;
using ::testing::ElementsAre;

TEST(FoldConvBatchNormTest, FoldsBatchNormIntoConvWithTheSameNumbers) {
  for (bool bias : {true, false}) {
    torch::jit::Module m = ConvBnModule(at::kFloat, bias);
    absl::StatusOr<CanonicalModel> c = Canonicalize(m, DropoutIsPassthrough());
    ASSERT_TRUE(c.ok()) << c.status();
    EXPECT_THAT(Kinds(*c->graph), ElementsAre("aten::_convolution", "aten::relu"));
    EXPECT_THAT(c->input_names, ElementsAre("x"));
    const at::Tensor x = torch::randn({2, 3, 8, 8});
    const at::Tensor want = m.forward({x}).toTensor();
    const at::Tensor got = RunGraph(*c, x);
    EXPECT_TRUE(torch::allclose(got, want, /*rtol=*/1e-5, /*atol=*/1e-5))
        << (got - want).abs().max().item<float>();
  }
}

TEST(FoldConvBatchNormTest, HalfModelFoldsInFp32WithoutLibTorchHalfKernels) {
  torch::jit::Module half = ConvBnModule(at::kHalf, true);
  absl::StatusOr<CanonicalModel> c = Canonicalize(half, DropoutIsPassthrough());
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_THAT(Kinds(*c->graph), ElementsAre("aten::_convolution", "aten::relu"));
  // The folded weight is FP32 and equals folding the widened half parameters.
  torch::jit::Node* conv = nullptr;
  for (torch::jit::Node* n : c->graph->nodes()) {
    if (n->kind().toQualString() == std::string("aten::_convolution")) conv = n;
  }
  ASSERT_NE(conv, nullptr);
  const at::Tensor w = torch::jit::toIValue(conv->input(1))->toTensor();
  const at::Tensor b = torch::jit::toIValue(conv->input(2))->toTensor();
  EXPECT_EQ(w.scalar_type(), at::kFloat);
  auto attr = [&](const char* name) { return half.attr(name).toTensor().to(at::kFloat); };
  const at::Tensor scale = attr("gamma") / torch::sqrt(attr("var") + 1e-3);
  EXPECT_TRUE(torch::allclose(w, attr("w") * scale.reshape({4, 1, 1, 1})));
  EXPECT_TRUE(torch::allclose(b, (attr("b") - attr("mean")) * scale + attr("beta")));
}

// When the graph alone owns an FP32 conv weight, the fold scales it where it is (no second copy
// of the layer is allocated) and the numbers are those of the unfolded module.
TEST(FoldConvBatchNormTest, SolelyOwnedWeightIsFoldedInPlace) {
  for (bool bias : {true, false}) {
    torch::jit::Module m = ConvBnModule(at::kFloat, bias);
    const at::Tensor x = torch::randn({2, 3, 8, 8});
    const at::Tensor want = m.forward({x}).toTensor();
    const void* original = m.attr("w").toTensor().data_ptr();
    absl::StatusOr<CanonicalModel> c =
        Canonicalize(std::exchange(m, torch::jit::Module()), DropoutIsPassthrough());
    ASSERT_TRUE(c.ok()) << c.status();
    torch::jit::Node* conv = nullptr;
    for (torch::jit::Node* n : c->graph->nodes()) {
      if (n->kind().toQualString() == std::string("aten::_convolution")) conv = n;
    }
    ASSERT_NE(conv, nullptr);
    EXPECT_EQ(torch::jit::toIValue(conv->input(1))->toTensor().data_ptr(), original);
    const at::Tensor got = RunGraph(*c, x);
    EXPECT_TRUE(torch::allclose(got, want, /*rtol=*/1e-5, /*atol=*/1e-5))
        << (got - want).abs().max().item<float>();
  }
}

// A weight someone else also holds (here: the caller's module) is never written: the fold makes a
// new tensor and the caller's module computes what it did before.
TEST(FoldConvBatchNormTest, SharedWeightIsCopiedNotWritten) {
  torch::jit::Module m = ConvBnModule(at::kFloat, true);
  const at::Tensor before = m.attr("w").toTensor().clone();
  absl::StatusOr<CanonicalModel> c = Canonicalize(m, DropoutIsPassthrough());
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_TRUE(torch::equal(m.attr("w").toTensor(), before));
}

TEST(FoldConvBatchNormTest, BatchNormWhoseConvHasAnotherUserIsNotFolded) {
  torch::jit::Module m("M");
  m.register_parameter("w", torch::randn({4, 3, 1, 1}), false);
  m.register_buffer("mean", torch::zeros({4}));
  m.register_buffer("var", torch::ones({4}));
  m.define(R"(
def forward(self, x):
    y = torch.conv2d(x, self.w)
    z = torch.batch_norm(y, None, None, self.mean, self.var, False, 0.1, 1e-5, True)
    return y + z
)");
  m.eval();
  absl::StatusOr<CanonicalModel> c = Canonicalize(m, {});
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_THAT(Kinds(*c->graph), ElementsAre("aten::conv2d", "aten::batch_norm", "aten::add"));
}

}  // namespace
}  // namespace ts2coreml::core
