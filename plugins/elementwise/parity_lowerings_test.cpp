/// Tests of nan_to_num (three selects with PyTorch's defaults per planned dtype, integers passed
/// through) and cross/linalg_cross (rolled gathers, dims, refusals).
#include "elementwise/parity_lowerings.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "elementwise/elementwise_lowerings.h"
#include "sdk/testing/fake_host.h"

namespace ts2coreml::plugins {
namespace {

namespace t = sdk::testing;
using Shape = std::vector<int64_t>;
using Ops = std::vector<std::string>;

const t2c_lowering_decl& Decl(const std::string& op) {
  const t2c_lowering_decl* d = t::FindDecl(ElementwisePluginInfo(), op);
  EXPECT_NE(d, nullptr) << op;
  return *d;
}

t::FakeNode NanToNum(t2c_dtype dtype, t::Value nan, t::Value posinf, t::Value neginf) {
  t::FakeNode n("aten::nan_to_num");
  n.Add(t::Value::Tensor({2, 3}, dtype)).Add(nan).Add(posinf).Add(neginf);
  return n;
}

TEST(ElementwiseParityTest, NanToNumSelectsWithDefaults) {
  t::FakeNode n = NanToNum(T2C_DTYPE_FP32, t::Value::None(), t::Value::None(), t::Value::None());
  ASSERT_TRUE(n.Lower(Decl("aten::nan_to_num"))) << n.error();
  EXPECT_EQ(n.op_types(), (Ops{"not_equal", "select", "equal", "select", "equal", "select"}));
  EXPECT_EQ(n.ArgScalar(n.ops()[1], "a"), 0);
  EXPECT_FLOAT_EQ(n.ArgScalar(n.ops()[3], "a"), 3.4028234663852886e38);
  EXPECT_FLOAT_EQ(n.ArgScalar(n.ops()[5], "a"), -3.4028234663852886e38);
  EXPECT_EQ(Decl("aten::nan_to_num").fp16_policy, T2C_FP16_NEEDS_FP32_COMPUTE);
  t::FakeNode given =
      NanToNum(T2C_DTYPE_FP32, t::Value::Float(0.5), t::Value::Float(7), t::Value::Float(-3));
  ASSERT_TRUE(given.Lower(Decl("aten::nan_to_num"))) << given.error();
  EXPECT_EQ(given.ArgScalar(given.ops()[1], "a"), 0.5);
  EXPECT_EQ(given.ArgScalar(given.ops()[3], "a"), 7);
  EXPECT_EQ(given.ArgScalar(given.ops()[5], "a"), -3);
  t::FakeNode ints =
      NanToNum(T2C_DTYPE_INT32, t::Value::Float(1), t::Value::None(), t::Value::None());
  ASSERT_TRUE(ints.Lower(Decl("aten::nan_to_num"))) << ints.error();
  EXPECT_EQ(ints.op_types(), (Ops{"identity"}));
}

TEST(ElementwiseParityTest, CrossGathersRolls) {
  t::FakeNode n("aten::linalg_cross");
  n.Add(t::Value::Tensor({1, 3})).Add(t::Value::Tensor({4, 3})).Add(t::Value::Int(-1));
  ASSERT_TRUE(n.Lower(Decl("aten::linalg_cross"))) << n.error();
  EXPECT_EQ(n.inferred().shape, (Shape{4, 3}));
  EXPECT_EQ(n.op_types(), (Ops{"gather", "gather", "gather", "gather", "mul", "mul", "sub"}));
  EXPECT_EQ(n.ArgInts(n.ops()[0], "indices"), (Shape{1, 2, 0}));
  EXPECT_EQ(n.ArgInts(n.ops()[1], "indices"), (Shape{2, 0, 1}));
  EXPECT_EQ(n.ArgScalar(n.ops()[0], "axis"), 1);
  t::FakeNode first("aten::cross");
  first.Add(t::Value::Tensor({2, 3, 3})).Add(t::Value::Tensor({2, 3, 3})).Add(t::Value::None());
  ASSERT_TRUE(first.Lower(Decl("aten::cross"))) << first.error();
  EXPECT_EQ(first.ArgScalar(first.ops()[0], "axis"), 1);  // the first dim of size 3
}

TEST(ElementwiseParityTest, CrossRefusals) {
  t::FakeNode size("aten::linalg_cross");
  size.Add(t::Value::Tensor({4, 2})).Add(t::Value::Tensor({4, 2})).Add(t::Value::Int(-1));
  EXPECT_FALSE(size.Infer(Decl("aten::linalg_cross")));
  EXPECT_NE(size.error().find("must have size 3"), std::string::npos) << size.error();
  t::FakeNode none("aten::cross");
  none.Add(t::Value::Tensor({4, 2})).Add(t::Value::Tensor({4, 2})).Add(t::Value::None());
  EXPECT_FALSE(none.Infer(Decl("aten::cross")));
  EXPECT_NE(none.error().find("no dim of size 3"), std::string::npos) << none.error();
  t::FakeNode rank("aten::linalg_cross");
  rank.Add(t::Value::Tensor({3})).Add(t::Value::Tensor({4, 3})).Add(t::Value::Int(-1));
  EXPECT_FALSE(rank.Infer(Decl("aten::linalg_cross")));
  EXPECT_NE(rank.error().find("must have one rank"), std::string::npos) << rank.error();
}

}  // namespace
}  // namespace ts2coreml::plugins
