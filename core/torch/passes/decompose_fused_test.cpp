// The fused-transformer decomposition against LibTorch's own fused kernels: modules calling
// aten::_native_multi_head_attention and aten::_transformer_encoder_layer_fwd run before and
// after canonicalization on the same inputs (key padding masks, every flag), and the refusals.
#include "core/torch/passes/decompose_fused.h"

#include <torch/script.h>

#include <string>

#include "core/torch/canonicalize.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace ts2coreml::core {
namespace {

using ::testing::HasSubstr;

constexpr int64_t kE = 16, kHeads = 4, kFf = 32, kB = 2, kT = 5;

/// A module with the projections of one attention block and of an encoder layer's FFN and norms,
/// whose forward is `body` (TorchScript).
torch::jit::Module Module(const std::string& body) {
  torch::manual_seed(0);
  torch::jit::Module m("M");
  m.register_parameter("qkv_w", torch::randn({3 * kE, kE}) / 4, false);
  m.register_parameter("qkv_b", torch::randn({3 * kE}) / 4, false);
  m.register_parameter("proj_w", torch::randn({kE, kE}) / 4, false);
  m.register_parameter("proj_b", torch::randn({kE}) / 4, false);
  m.register_parameter("n1_w", torch::rand({kE}) + 0.5, false);
  m.register_parameter("n1_b", torch::randn({kE}) / 4, false);
  m.register_parameter("n2_w", torch::rand({kE}) + 0.5, false);
  m.register_parameter("n2_b", torch::randn({kE}) / 4, false);
  m.register_parameter("f1_w", torch::randn({kFf, kE}) / 4, false);
  m.register_parameter("f1_b", torch::randn({kFf}) / 4, false);
  m.register_parameter("f2_w", torch::randn({kE, kFf}) / 4, false);
  m.register_parameter("f2_b", torch::randn({kE}) / 4, false);
  m.define(body);
  m.eval();
  return m;
}

std::string Mha(const std::string& args) {
  return "def forward(self, q, k, v, mask):\n"
         "    out, w = torch._native_multi_head_attention(q, k, v, 16, 4, self.qkv_w, self.qkv_b,"
         " self.proj_w, self.proj_b, " +
         args + ")\n    return out, w\n";
}

std::string Encoder(bool gelu, bool norm_first, const std::string& mask) {
  return std::string("def forward(self, x, mask):\n") +
         "    return torch._transformer_encoder_layer_fwd(x, 16, 4, self.qkv_w, self.qkv_b, "
         "self.proj_w, self.proj_b, " +
         (gelu ? "True" : "False") + ", " + (norm_first ? "True" : "False") +
         ", 1e-5, self.n1_w, self.n1_b, self.n2_w, self.n2_b, self.f1_w, self.f1_b, self.f2_w, "
         "self.f2_b, " +
         mask + ")\n";
}

/// Key padding [B, S]: batch 0 drops its last two keys.
at::Tensor PaddingMask() {
  at::Tensor pad = torch::zeros({kB, kT}, torch::kBool);
  pad.index_put_({0, torch::indexing::Slice(3, torch::indexing::None)}, true);
  return pad;
}

bool HasFusedOps(const torch::jit::Graph& g) {
  for (const torch::jit::Node* n : g.nodes()) {
    const std::string kind = n->kind().toQualString();
    if (kind == "aten::_native_multi_head_attention" ||
        kind == "aten::_transformer_encoder_layer_fwd") {
      return true;
    }
  }
  return false;
}

/// Runs `m` (fused kernels) and its canonical graph (decomposed) on `inputs`; expects every
/// output close.
void ExpectSameOutputs(torch::jit::Module m, std::vector<c10::IValue> inputs) {
  torch::NoGradGuard no_grad;
  const c10::IValue fused = m.forward(inputs);
  absl::StatusOr<CanonicalModel> c = Canonicalize(m.clone(), {});
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_FALSE(HasFusedOps(*c->graph)) << *c->graph;
  torch::jit::GraphFunction fn("canonical", c->graph->copy(), nullptr);
  inputs.insert(inputs.begin(), c->frozen._ivalue());
  const c10::IValue decomposed = fn(inputs);
  std::vector<at::Tensor> a, b;
  if (fused.isTuple()) {
    for (const auto& e : fused.toTupleRef().elements()) a.push_back(e.toTensor());
    for (const auto& e : decomposed.toTupleRef().elements()) b.push_back(e.toTensor());
  } else {
    a.push_back(fused.toTensor());
    b.push_back(decomposed.toTensor());
  }
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    ASSERT_EQ(a[i].sizes(), b[i].sizes()) << "output " << i;
    EXPECT_TRUE(torch::allclose(a[i], b[i], 1e-4, 1e-5))
        << "output " << i << " differs by " << (a[i] - b[i]).abs().max().item<float>();
  }
}

TEST(DecomposeFusedTest, AttentionWithKeyPaddingMaskPerHeadAndAveraged) {
  const at::Tensor q = torch::randn({kB, kT, kE});
  const at::Tensor k = torch::randn({kB, kT, kE});
  const at::Tensor v = torch::randn({kB, kT, kE});
  ExpectSameOutputs(Module(Mha("mask, True, False, 1")), {q, k, v, PaddingMask()});
  ExpectSameOutputs(Module(Mha("mask, True, True, 1")), {q, k, v, PaddingMask()});
  ExpectSameOutputs(Module(Mha("None, True, True, None")), {q, k, v, PaddingMask()});
}

TEST(DecomposeFusedTest, SelfAttentionUsesOnePackedProjection) {
  torch::jit::Module m = Module(
      "def forward(self, x, mask):\n"
      "    out, w = torch._native_multi_head_attention(x, x, x, 16, 4, self.qkv_w, self.qkv_b,"
      " self.proj_w, self.proj_b, mask, True, True, 1)\n"
      "    return out, w\n");
  ExpectSameOutputs(m, {torch::randn({kB, kT, kE}), PaddingMask()});
}

TEST(DecomposeFusedTest, EncoderLayerEveryActivationAndNormOrder) {
  for (bool gelu : {false, true}) {
    for (bool norm_first : {false, true}) {
      SCOPED_TRACE(testing::Message() << "gelu " << gelu << " norm_first " << norm_first);
      ExpectSameOutputs(Module(Encoder(gelu, norm_first, "mask, 1")),
                        {torch::randn({kB, kT, kE}), PaddingMask()});
      ExpectSameOutputs(Module(Encoder(gelu, norm_first, "None, None")),
                        {torch::randn({kB, kT, kE}), PaddingMask()});
    }
  }
}

TEST(DecomposeFusedTest, RefusesSrcMaskType) {
  absl::StatusOr<CanonicalModel> c = Canonicalize(Module(Mha("mask, True, True, 0")), {});
  ASSERT_FALSE(c.ok());
  EXPECT_THAT(std::string(c.status().message()), HasSubstr("mask_type 0 is not supported"));
}

// need_weights=False: the weights are what ATen returns then, an empty tensor (a scripted
// module's early `return out, weights` passes them to callers that drop them).
TEST(DecomposeFusedTest, WeightsNotComputedAreAnEmptyTensor) {
  absl::StatusOr<CanonicalModel> c = Canonicalize(Module(Mha("mask, False, True, 1")), {});
  ASSERT_TRUE(c.ok()) << c.status();
  const torch::jit::Node* ret = c->graph->outputs()[0]->node();
  ASSERT_EQ(ret->kind(), c10::prim::TupleConstruct);
  c10::optional<c10::IValue> w = torch::jit::toIValue(ret->input(1));
  ASSERT_TRUE(w.has_value() && w->isTensor());
  EXPECT_EQ(w->toTensor().numel(), 0);
}

TEST(DecomposeFusedTest, RefusesRuntimeFlags) {
  torch::jit::Module m = Module(
      "def forward(self, x, mask, gelu: bool):\n"
      "    return torch._transformer_encoder_layer_fwd(x, 16, 4, self.qkv_w, self.qkv_b, "
      "self.proj_w, self.proj_b, gelu, False, 1e-5, self.n1_w, self.n1_b, self.n2_w, self.n2_b, "
      "self.f1_w, self.f1_b, self.f2_w, self.f2_b, mask, 1)\n");
  absl::StatusOr<CanonicalModel> c = Canonicalize(m, {});
  ASSERT_FALSE(c.ok());
  EXPECT_THAT(std::string(c.status().message()), HasSubstr("use_gelu must be a constant bool"));
}

}  // namespace
}  // namespace ts2coreml::core
