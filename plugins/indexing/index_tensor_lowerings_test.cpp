/// Tests of aten::index.Tensor: one and several index tensors, broadcasting, refusals.
#include "indexing/index_tensor_lowerings.h"

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

#include "indexing/indexing_lowerings.h"
#include "sdk/testing/fake_host.h"

namespace ts2coreml::plugins {
namespace {

namespace t = sdk::testing;
using sdk::TensorType;
using Shape = std::vector<int64_t>;

const t2c_lowering_decl& Decl() {
  const t2c_lowering_decl* d = t::FindDecl(IndexingPluginInfo(), "aten::index.Tensor");
  EXPECT_NE(d, nullptr);
  return *d;
}

TEST(IndexTensorTest, OneIndexIsAGatherOnDim0) {
  t::FakeNode n("aten::index.Tensor");
  n.Add(t::Value::Tensor({5, 4})).Add(t::Value::TensorList({TensorType(T2C_DTYPE_INT32, {2, 3})}));
  n.Precision(T2C_DTYPE_FP16);
  ASSERT_TRUE(n.Lower(Decl())) << n.error();
  EXPECT_EQ(n.planned(), TensorType(T2C_DTYPE_FP16, {2, 3, 4}));
  EXPECT_EQ(n.OutputOp()->type, "gather");
  EXPECT_EQ(n.ArgScalar(*n.OutputOp(), "axis"), 0);
  EXPECT_NE(n.FindOp("less", 0), nullptr);  // negative indices wrap
}

TEST(IndexTensorTest, SeveralIndicesMakeOneFlatIndex) {
  t::FakeNode n("aten::index.Tensor");
  n.Add(t::Value::Tensor({5, 4, 3}));
  n.Add(t::Value::TensorList(
      {TensorType(T2C_DTYPE_INT32, {2}), TensorType(T2C_DTYPE_INT32, {3, 1})}));
  ASSERT_TRUE(n.Lower(Decl())) << n.error();
  EXPECT_EQ(n.planned().shape, (Shape{3, 2, 3}));
  // The first index is scaled by the second dim's size; x becomes [20, 3].
  const t::FakeOp* mul = n.FindOp("mul", 0);
  ASSERT_NE(mul, nullptr);
  EXPECT_EQ(n.ArgScalar(*mul, "y"), 4);
  EXPECT_EQ(n.ArgType(*n.OutputOp(), "x").shape, (Shape{20, 3}));
  EXPECT_EQ(n.ArgType(*n.OutputOp(), "indices").shape, (Shape{3, 2}));
}

TEST(IndexTensorTest, NoneEntriesKeepTheirDims) {
  // x[:, idx]: the index dims replace dim 1 in place.
  t::FakeNode mid("aten::index.Tensor");
  mid.Add(t::Value::Tensor({2, 5, 3}));
  mid.Add(t::Value::OptionalTensorList({std::nullopt, TensorType(T2C_DTYPE_INT32, {4, 1})}));
  ASSERT_TRUE(mid.Lower(Decl())) << mid.error();
  EXPECT_EQ(mid.planned().shape, (Shape{2, 4, 1, 3}));
  EXPECT_EQ(mid.ArgInts(*mid.FindOp("transpose", 0), "perm"), (Shape{1, 0, 2}));
  EXPECT_EQ(mid.ArgInts(*mid.OutputOp(), "perm"), (Shape{2, 0, 1, 3}));

  // x[i, :, j]: indexed dims apart, so the index dims go first.
  t::FakeNode apart("aten::index.Tensor");
  apart.Add(t::Value::Tensor({2, 5, 3}));
  apart.Add(t::Value::OptionalTensorList(
      {TensorType(T2C_DTYPE_INT32, {6}), std::nullopt, TensorType(T2C_DTYPE_INT32, {6})}));
  ASSERT_TRUE(apart.Lower(Decl())) << apart.error();
  EXPECT_EQ(apart.planned().shape, (Shape{6, 5}));
  EXPECT_EQ(apart.OutputOp()->type, "gather");
}

TEST(IndexTensorTest, Refusals) {
  t::FakeNode mask("aten::index.Tensor");
  mask.Add(t::Value::Tensor({5, 4})).Add(t::Value::TensorList({TensorType(T2C_DTYPE_BOOL, {5})}));
  EXPECT_FALSE(mask.Infer(Decl()));
  EXPECT_NE(mask.error().find("boolean mask"), std::string::npos) << mask.error();

  t::FakeNode many("aten::index.Tensor");
  many.Add(t::Value::Tensor({5}))
      .Add(t::Value::TensorList(
          {TensorType(T2C_DTYPE_INT32, {2}), TensorType(T2C_DTYPE_INT32, {2})}));
  EXPECT_FALSE(many.Infer(Decl()));
}

}  // namespace
}  // namespace ts2coreml::plugins
