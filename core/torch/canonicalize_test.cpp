// Canonicalization on modules built in C++: conv+batch_norm folding is numerically right and
// done in FP32 (also for half weights), passthrough ops disappear, the pass list is ordered.
#include "core/torch/canonicalize.h"

#include <torch/script.h>

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace ts2coreml::core {
namespace {

using ::testing::ElementsAre;

/// conv(3->4, 3x3, bias) -> batch_norm(eps) -> dropout -> relu, with calibrated-looking stats.
torch::jit::Module ConvBnModule(at::ScalarType dtype, bool conv_bias) {
  torch::manual_seed(0);
  torch::jit::Module m("M");
  m.register_parameter("w", torch::randn({4, 3, 3, 3}).to(dtype), false);
  if (conv_bias) m.register_parameter("b", torch::randn({4}).to(dtype), false);
  m.register_parameter("gamma", (torch::rand({4}) + 0.5).to(dtype), false);
  m.register_parameter("beta", torch::randn({4}).to(dtype), false);
  m.register_buffer("mean", torch::randn({4}).to(dtype));
  m.register_buffer("var", (torch::rand({4}) + 0.1).to(dtype));
  m.define(std::string(R"(
def forward(self, x):
    y = torch._convolution(x, self.w, )") +
           (conv_bias ? "self.b" : "None") + R"(, [1, 1], [1, 1], [1, 1], False, [0, 0], 1,
                           False, False, True, True)
    y = torch.batch_norm(y, self.gamma, self.beta, self.mean, self.var, False, 0.1, 1e-3, True)
    y = torch.dropout(y, 0.2, False)
    return torch.relu(y)
)");
  m.eval();
  return m;
}

std::vector<std::string> Kinds(const torch::jit::Graph& g) {
  std::vector<std::string> kinds;
  for (const torch::jit::Node* n : g.nodes()) {
    if (n->kind() != c10::prim::Constant) kinds.emplace_back(n->kind().toQualString());
  }
  return kinds;
}

at::Tensor RunGraph(const CanonicalModel& c, const at::Tensor& x) {
  torch::jit::GraphFunction fn("canonical", c.graph->copy(), nullptr);
  // The frozen graph keeps its (unused) self input.
  return fn({c.frozen._ivalue(), x}).toTensor();
}

CanonicalizeOptions DropoutIsPassthrough() {
  CanonicalizeOptions o;
  o.passthrough_ops = {"aten::dropout"};
  return o;
}

TEST(CanonicalizeTest, FoldsBatchNormIntoConvWithTheSameNumbers) {
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

TEST(CanonicalizeTest, HalfModelFoldsInFp32WithoutLibTorchHalfKernels) {
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

// When the graph alone owns an FP32 conv weight, the fold scales it where it is (no second copy
// of the layer is allocated) and the numbers are those of the unfolded module.
TEST(CanonicalizeTest, SolelyOwnedWeightIsFoldedInPlace) {
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
TEST(CanonicalizeTest, SharedWeightIsCopiedNotWritten) {
  torch::jit::Module m = ConvBnModule(at::kFloat, true);
  const at::Tensor before = m.attr("w").toTensor().clone();
  absl::StatusOr<CanonicalModel> c = Canonicalize(m, DropoutIsPassthrough());
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_TRUE(torch::equal(m.attr("w").toTensor(), before));
}

TEST(CanonicalizeTest, BatchNormWhoseConvHasAnotherUserIsNotFolded) {
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

TEST(CanonicalizeTest, PassthroughOpsAreRemovedOnlyWhenDeclared) {
  torch::jit::Module m = ConvBnModule(at::kFloat, true);
  absl::StatusOr<CanonicalModel> without = Canonicalize(m, {});
  ASSERT_TRUE(without.ok());
  EXPECT_THAT(Kinds(*without->graph),
              ElementsAre("aten::_convolution", "aten::dropout", "aten::relu"));
}

TEST(CanonicalizeTest, TrainingDropoutIsRefusedNotRemoved) {
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
TEST(CanonicalizeTest, TrainingDropoutWithZeroProbabilityIsRemoved) {
  torch::jit::Module m("M");
  m.define("def forward(self, x):\n    return torch.dropout(x, 0.0, True) + 1.0\n");
  m.eval();
  CanonicalizeOptions o;
  o.passthrough_ops = {"aten::dropout"};
  absl::StatusOr<CanonicalModel> c = Canonicalize(m, o);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_THAT(Kinds(*c->graph), ElementsAre("aten::add"));
}

TEST(CanonicalizeTest, CloneWrittenInPlaceIsKept) {
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

TEST(CanonicalizeTest, PipelineIsAnExplicitOrderedList) {
  std::vector<std::string> names;
  for (const TorchPass& p : CanonicalizationPipeline({})) names.emplace_back(p.name);
  EXPECT_THAT(names,
              ElementsAre("inline", "decompose-fused-transformer-ops", "decompose-complex",
                          "rewrite-copy-into-fresh-tensors", "remove-passthrough-ops",
                          "fold-constant-scalars", "fold-conv-batch-norm", "eliminate-dead-code"));
}

}  // namespace
}  // namespace ts2coreml::core
