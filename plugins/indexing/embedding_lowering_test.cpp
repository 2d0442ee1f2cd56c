/// Tests of aten::embedding: ids of every rank gathered on axis 0 in the planned dtype, padding_idx
/// checked but not applied, and refusals of float ids, a weight that is not 2-D and results
/// beyond rank 5.
#include "indexing/embedding_lowering.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "indexing/indexing_lowerings.h"
#include "sdk/testing/fake_host.h"

namespace ts2coreml::plugins {
namespace {

namespace t = sdk::testing;
using Shape = std::vector<int64_t>;

const t2c_lowering_decl& Decl() {
  const t2c_lowering_decl* d = t::FindDecl(IndexingPluginInfo(), "aten::embedding");
  EXPECT_NE(d, nullptr);
  return *d;
}

t::FakeNode Embedding(const Shape& weight, const Shape& ids, t::Value padding_idx,
                      t2c_dtype ids_dtype = T2C_DTYPE_INT32) {
  t::FakeNode n("aten::embedding");
  n.Add(t::Value::ConstTensor(weight))
      .Add(t::Value::Tensor(ids, ids_dtype))
      .Add(padding_idx)
      .Add(t::Value::Bool(false))
      .Add(t::Value::Bool(false));
  return n;
}

TEST(EmbeddingTest, GathersRowsForIdsOfEveryRank) {
  for (const Shape& ids : std::vector<Shape>{{}, {7}, {2, 7}, {2, 3, 4}, {1, 2, 3, 4}}) {
    for (t2c_dtype precision : {T2C_DTYPE_FP16, T2C_DTYPE_FP32}) {
      t::FakeNode n = Embedding({100, 16}, ids, t::Value::Int(-1));
      n.Precision(precision);
      ASSERT_TRUE(n.Lower(Decl())) << n.error();
      Shape out = ids;
      out.push_back(16);
      EXPECT_EQ(n.inferred().shape, out);
      const t::FakeOp* op = n.OutputOp();
      ASSERT_NE(op, nullptr);
      EXPECT_EQ(op->type, "gather");
      EXPECT_EQ(n.ArgInputIndex(*op, "x"), 0);
      EXPECT_EQ(n.ArgInputIndex(*op, "indices"), 1);
      EXPECT_EQ(n.ArgType(*op, "indices").dtype, T2C_DTYPE_INT32);
      EXPECT_EQ(n.ArgScalar(*op, "axis"), 0);
      EXPECT_EQ(op->output_types[0].dtype, precision);
      EXPECT_EQ(op->output_types[0].shape, out);
    }
  }
}

TEST(EmbeddingTest, PaddingIdxIsCheckedButOnlyChangesGradients) {
  for (int64_t pad : {0, 5, 99, -1, -100}) {
    t::FakeNode n = Embedding({100, 8}, {3}, t::Value::Int(pad));
    ASSERT_TRUE(n.Lower(Decl())) << pad << ": " << n.error();
    EXPECT_EQ(n.op_types(), std::vector<std::string>{"gather"}) << pad;
  }
  t::FakeNode none = Embedding({10, 8}, {3}, t::Value::None());
  EXPECT_TRUE(none.Lower(Decl())) << none.error();
  for (int64_t pad : {100, -101}) {
    t::FakeNode n = Embedding({100, 8}, {3}, t::Value::Int(pad));
    EXPECT_FALSE(n.Lower(Decl()));
    EXPECT_NE(
        n.error().find("padding_idx " + std::to_string(pad) + " is outside the 100 embeddings"),
        std::string::npos)
        << n.error();
  }
}

TEST(EmbeddingTest, RefusesFloatIdsBadWeightsAndResultsBeyondRank5) {
  t::FakeNode float_ids = Embedding({10, 4}, {3}, t::Value::Int(-1), T2C_DTYPE_FP32);
  EXPECT_FALSE(float_ids.Infer(Decl()));
  EXPECT_NE(float_ids.error().find("aten::embedding: indices must be integers"), std::string::npos)
      << float_ids.error();
  t::FakeNode rank3 = Embedding({10, 4, 2}, {3}, t::Value::Int(-1));
  EXPECT_FALSE(rank3.Infer(Decl()));
  EXPECT_NE(rank3.error().find("weight must be 2-D"), std::string::npos) << rank3.error();
  t::FakeNode deep = Embedding({10, 4}, {1, 1, 1, 1, 2}, t::Value::Int(-1));
  EXPECT_FALSE(deep.Infer(Decl()));
  EXPECT_NE(deep.error().find("indices of rank 5 give a result of rank 6"), std::string::npos)
      << deep.error();
}

}  // namespace
}  // namespace ts2coreml::plugins
