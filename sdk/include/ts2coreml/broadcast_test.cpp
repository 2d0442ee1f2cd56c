/// Tests of the one broadcasting rule the core, the fake host and the plugins share.
#include "ts2coreml/broadcast.h"

#include <gtest/gtest.h>

#include <vector>

namespace ts2coreml::sdk {
namespace {

using Shape = std::vector<int64_t>;

TEST(BroadcastShapesTest, StretchesSizeOneAndAlignsRight) {
  Shape out;
  ASSERT_TRUE(BroadcastShapes({1, 16, 7, 7}, {1, 16, 1, 1}, &out));
  EXPECT_EQ(out, (Shape{1, 16, 7, 7}));
  ASSERT_TRUE(BroadcastShapes({5, 1, 3}, {4, 1}, &out));
  EXPECT_EQ(out, (Shape{5, 4, 3}));
  ASSERT_TRUE(BroadcastShapes({}, {2, 3}, &out));
  EXPECT_EQ(out, (Shape{2, 3}));
}

TEST(BroadcastShapesTest, RefusesMismatchAndLeavesOutputAlone) {
  Shape out = {9};
  EXPECT_FALSE(BroadcastShapes({2, 3}, {3, 2}, &out));
  EXPECT_EQ(out, (Shape{9}));
}

TEST(BroadcastShapesTest, OutputMayAliasAnInput) {
  Shape a = {3, 1};
  ASSERT_TRUE(BroadcastShapes(a, {1, 4}, &a));
  EXPECT_EQ(a, (Shape{3, 4}));
}

TEST(BroadcastRuleTest, EmptyUntilAnOperandIsAdded) {
  BroadcastRule rule;
  EXPECT_TRUE(rule.empty());
  ASSERT_TRUE(rule.Add({2, 1}, T2C_DTYPE_INT32));
  EXPECT_FALSE(rule.empty());
  EXPECT_EQ(rule.shape(), (Shape{2, 1}));
}

TEST(BroadcastRuleTest, FloatWinsThenIntThenBool) {
  BroadcastRule ints;
  ASSERT_TRUE(ints.Add({2}, T2C_DTYPE_INT32));
  ASSERT_TRUE(ints.Add({}, T2C_DTYPE_BOOL));
  EXPECT_EQ(ints.dtype(), T2C_DTYPE_INT32);

  BroadcastRule floats;
  ASSERT_TRUE(floats.Add({2, 1}, T2C_DTYPE_INT32));
  ASSERT_TRUE(floats.Add({3}, T2C_DTYPE_FP16));
  EXPECT_EQ(floats.dtype(), T2C_DTYPE_FP32);
  EXPECT_EQ(floats.shape(), (Shape{2, 3}));

  BroadcastRule bools;
  ASSERT_TRUE(bools.Add({4}, T2C_DTYPE_BOOL));
  ASSERT_TRUE(bools.Add({1}, T2C_DTYPE_BOOL));
  EXPECT_EQ(bools.dtype(), T2C_DTYPE_BOOL);
}

TEST(BroadcastRuleTest, RefusedOperandLeavesTheRuleUnchanged) {
  BroadcastRule rule;
  ASSERT_TRUE(rule.Add({2, 3}, T2C_DTYPE_INT32));
  EXPECT_FALSE(rule.Add({4}, T2C_DTYPE_FP32));
  EXPECT_EQ(rule.shape(), (Shape{2, 3}));
  EXPECT_EQ(rule.dtype(), T2C_DTYPE_INT32);
}

}  // namespace
}  // namespace ts2coreml::sdk
