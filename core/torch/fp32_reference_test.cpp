#include "core/torch/fp32_reference.h"

#include <torch/script.h>

#include "gtest/gtest.h"

namespace ts2coreml::core {
namespace {

/// A module with a half parameter, a float one and, in a submodule, a half buffer.
torch::jit::Module MixedModule() {
  torch::jit::Module sub("sub");
  sub.register_buffer("running", torch::full({3}, 0.5, at::kHalf));
  torch::jit::Module m("m");
  m.register_parameter("w", torch::full({2}, 1.5, at::kHalf), false);
  m.register_parameter("v", torch::full({2}, 2.0, at::kFloat), false);
  m.register_module("sub", sub);
  return m;
}

TEST(Fp32ReferenceTest, AnFp32ModelIsItsOwnReference) {
  torch::jit::Module m("m");
  m.register_parameter("w", torch::ones({2}, at::kFloat), false);
  const Fp32Reference r = MakeFp32Reference(m);
  EXPECT_FALSE(r.upcast());
  EXPECT_EQ(r.Describe(), "the model");
  EXPECT_TRUE(r.module.attr("w").toTensor().is_same(m.attr("w").toTensor()));
}

TEST(Fp32ReferenceTest, HalfWeightsAreCastInACloneAndTheModelKeepsThem) {
  const torch::jit::Module m = MixedModule();
  EXPECT_EQ(ReducedPrecisionWeights(m), "half");
  const Fp32Reference r = MakeFp32Reference(m);
  ASSERT_TRUE(r.upcast());
  EXPECT_EQ(r.Describe(), "the model with its half parameters and buffers cast to float32");
  for (const at::Tensor& t : r.module.parameters()) EXPECT_EQ(t.scalar_type(), at::kFloat);
  for (const at::Tensor& t : r.module.buffers()) EXPECT_EQ(t.scalar_type(), at::kFloat);
  EXPECT_EQ(r.module.attr("w").toTensor()[0].item<float>(), 1.5f);
  EXPECT_EQ(m.attr("w").toTensor().scalar_type(), at::kHalf);
  EXPECT_EQ(m.attr("sub").toModule().attr("running").toTensor().scalar_type(), at::kHalf);
  EXPECT_EQ(ReducedPrecisionWeights(r.module), "");
}

TEST(Fp32ReferenceTest, NamesEveryReducedDtype) {
  torch::jit::Module m = MixedModule();
  m.register_parameter("b", torch::ones({2}, at::kBFloat16), false);
  EXPECT_EQ(ReducedPrecisionWeights(m), "half and bfloat16");
  const Fp32Reference r = MakeFp32Reference(m);
  EXPECT_EQ(r.module.attr("b").toTensor().scalar_type(), at::kFloat);
  EXPECT_EQ(r.module.attr("v").toTensor().scalar_type(), at::kFloat);
}

}  // namespace
}  // namespace ts2coreml::core
