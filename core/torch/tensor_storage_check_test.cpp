// The post-load tensor check on modules whose tensors were made to reach outside their storage
// (as a crafted file makes LibTorch build them), and on what torch builds itself.
#include "core/torch/tensor_storage_check.h"

#include <torch/script.h>

#include "core/base/errors.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace ts2coreml::core {
namespace {

using ::testing::HasSubstr;

std::string Refusal(const absl::Status& s) {
  EXPECT_FALSE(s.ok()) << "accepted";
  EXPECT_EQ(ClassOf(s), ErrorClass::kModel);
  return std::string(s.message());
}

/// A module with a sub-module holding buffer `w` (4x3 floats) and a list of tensors.
torch::jit::Module MakeModule() {
  torch::jit::Module sub("Sub");
  sub.register_buffer("w", torch::ones({4, 3}));
  torch::jit::Module m("M");
  m.register_module("conv", sub);
  c10::List<at::Tensor> list;
  list.push_back(torch::zeros({2}));
  m.register_attribute("extra", c10::ListType::ofTensors(), list);
  m.define("def forward(self, x):\n  return x + self.conv.w\n");
  return m;
}

TEST(TensorStorageCheckTest, AcceptsWhatTorchBuilds) {
  torch::jit::Module m = MakeModule();
  EXPECT_TRUE(CheckModuleTensors(m).ok()) << CheckModuleTensors(m);
  // Views inside their storage: a transposed slice, a zero-stride expand, an empty tensor.
  at::Tensor base = torch::arange(24, torch::kFloat).reshape({4, 6});
  EXPECT_TRUE(CheckTensorInStorage(base.slice(1, 2, 5).t(), "v").ok());
  EXPECT_TRUE(CheckTensorInStorage(torch::ones({1}).expand({1000000}), "e").ok());
  EXPECT_THAT(Refusal(CheckTensorInStorage(torch::ones({1}).expand({int64_t{1} << 31}), "big")),
              HasSubstr("repeats its storage's elements (zero strides) beyond 2^24"));
  EXPECT_TRUE(CheckTensorInStorage(torch::ones({0, 3}), "z").ok());
}

TEST(TensorStorageCheckTest, RefusesAnAttributeReachingPastItsStorage) {
  torch::jit::Module m = MakeModule();
  at::Tensor w = m.attr("conv").toModule().attr("w").toTensor();
  w.unsafeGetTensorImpl()->set_storage_offset(1);
  EXPECT_THAT(Refusal(CheckModuleTensors(m)),
              HasSubstr("tensor 'conv.w' (Float [4, 3], offset 1, strides [3, 1]) needs 52 bytes "
                        "of its storage, which holds 48"));
}

TEST(TensorStorageCheckTest, RefusesNegativeAndHugeStrides) {
  at::Tensor t = torch::ones({4, 3});
  t.unsafeGetTensorImpl()->set_stride(0, -3);  // set_sizes_and_strides would make it positive
  EXPECT_THAT(Refusal(CheckTensorInStorage(t, "t")), HasSubstr("negative size or stride"));
  t.unsafeGetTensorImpl()->set_sizes_and_strides(at::IntArrayRef{4, 3},
                                                 at::IntArrayRef{int64_t{1} << 62, 1});
  EXPECT_THAT(Refusal(CheckTensorInStorage(t, "t")), HasSubstr("beyond 2^64"));
  t.unsafeGetTensorImpl()->set_sizes_and_strides(at::IntArrayRef{1 << 20, 3},
                                                 at::IntArrayRef{3, 1});
  EXPECT_THAT(Refusal(CheckTensorInStorage(t, "t")), HasSubstr("needs 12582912 bytes"));
}

TEST(TensorStorageCheckTest, ChecksTensorsInListsAndGraphConstants) {
  torch::jit::Module m = MakeModule();
  m.attr("extra").toTensorList().get(0).unsafeGetTensorImpl()->set_storage_offset(5);
  EXPECT_THAT(Refusal(CheckModuleTensors(m)), HasSubstr("tensor 'extra[0]'"));

  torch::jit::Module c = MakeModule();
  at::Tensor bad = torch::ones({2});
  std::shared_ptr<torch::jit::Graph> graph = c.get_method("forward").graph();
  graph->setInsertPoint(graph->block()->nodes().front());
  graph->insertConstant(bad);
  bad.unsafeGetTensorImpl()->set_storage_offset(7);
  EXPECT_THAT(Refusal(CheckModuleTensors(c)), HasSubstr("forward constant %"));
}

}  // namespace
}  // namespace ts2coreml::core
