// The FP16 limits' statistics on small tensors with known answers.
#include "core/convert/limit_statistics.h"

#include <cmath>
#include <limits>

#include "gtest/gtest.h"

namespace ts2coreml::core {
namespace {

at::Tensor T(std::vector<double> values, std::vector<int64_t> shape) {
  return at::tensor(values, at::kDouble).reshape(shape).to(at::kFloat);
}

TEST(LimitStatisticsTest, PrefixSumRangeIsTheLargestContiguousRunSum) {
  // Running sums 0 (empty), 3, -1, 4, 0: the largest run is [5], 4 - (-1).
  EXPECT_DOUBLE_EQ(PrefixSumRange(T({3, -4, 5, -4}, {4}), 0), 5.0);
  // Alternating +-1000: every partial sum is 0 or 1000, while the sum of |x| is 8000.
  EXPECT_DOUBLE_EQ(PrefixSumRange(T({1000, -1000, 1000, -1000, 1000, -1000, 1000, -1000}, {8}), 0),
                   1000.0);
  // All negative: the running sums fall to -6 from the empty sum 0.
  EXPECT_DOUBLE_EQ(PrefixSumRange(T({-1, -2, -3}, {3}), 0), 6.0);
  // Along axis 1 of [2, 3]: the largest over the rows.
  EXPECT_DOUBLE_EQ(PrefixSumRange(T({1, 1, 1, 10, -20, 5}, {2, 3}), 1), 20.0);
  EXPECT_TRUE(std::isnan(
      LimitStatistic(T2C_FP16_STAT_PREFIX_SUM_RANGE, T({1, 2, 3, 4}, {2, 2}), {0, 1}, 0)));
}

TEST(LimitStatisticsTest, ProdGrowthAndShrinkBoundEveryPartialProduct) {
  // 1000 * 1000 * 1e-6 = 1, but the partial product 1000 * 1000 reaches 1e6.
  const at::Tensor x = T({1000, 1000, 1e-6}, {3});
  EXPECT_NEAR(ProdGrowth(x, {0}), 1e6, 1e6 * 1e-9);
  EXPECT_NEAR(ProdShrink(x, {0}), 1e6, 1e6 * 1e-6);  // 1e-6 in float
  // Zeros end a product: they neither grow nor shrink it; |x| <= 1 never grows it.
  EXPECT_DOUBLE_EQ(ProdGrowth(T({0.5, -0.25, 0}, {3}), {0}), 1.0);
  EXPECT_DOUBLE_EQ(ProdShrink(T({0.5, -0.25, 0, 4}, {4}), {0}), 8.0);
  // Per row of [2, 2], the largest: rows (2, 3) and (-4, 5).
  EXPECT_DOUBLE_EQ(ProdGrowth(T({2, 3, -4, 5}, {2, 2}), {1}), 20.0);
  EXPECT_DOUBLE_EQ(ProdGrowth(T({2, 3, -4, 5}, {2, 2}), {0, 1}), 120.0);
}

TEST(LimitStatisticsTest, PowerSumFollowsTheOrder) {
  const at::Tensor x = T({3, -4, 0}, {3});
  EXPECT_DOUBLE_EQ(PowerSum(x, {0}, 2), 25.0);
  EXPECT_DOUBLE_EQ(PowerSum(x, {0}, 1), 7.0);
  EXPECT_DOUBLE_EQ(PowerSum(x, {0}, 3), 91.0);
  EXPECT_DOUBLE_EQ(PowerSum(x, {0}, 0), 2.0);
  EXPECT_DOUBLE_EQ(PowerSum(x, {0}, std::numeric_limits<double>::infinity()), 4.0);
  EXPECT_DOUBLE_EQ(PowerSum(x, {0}, -std::numeric_limits<double>::infinity()), 4.0);
  // p < 0: small |x| make large terms; the zero (a norm of 0 in every precision) is left out.
  EXPECT_DOUBLE_EQ(PowerSum(T({0.5, 0.25, 0}, {3}), {0}, -2), 20.0);
  EXPECT_DOUBLE_EQ(LimitStatistic(T2C_FP16_STAT_POWER_SUM, T({1, 2, 3, 4}, {2, 2}), {1}, 2), 25.0);
}

TEST(LimitStatisticsTest, ExpSumIsTheStableLogSumExpsAccumulation) {
  // exp(0) + exp(-ln 4) + exp(-ln 4) = 1.5, whatever the shift: 1000 + that.
  const double l4 = std::log(4.0);
  EXPECT_NEAR(ExpSum(T({1000, 1000 - l4, 1000 - l4}, {3}), {0}), 1.5, 1e-4);
  // Equal values sum to their count: here 4 per row of [2, 4].
  EXPECT_DOUBLE_EQ(ExpSum(T({7, 7, 7, 7, 1, 2, 3, 4}, {2, 4}), {1}), 4.0);
}

TEST(LimitStatisticsTest, TheFirstStatisticsKeepTheirAnswers) {
  const at::Tensor x = T({1, 3, -2, 6}, {2, 2});
  EXPECT_DOUBLE_EQ(LimitStatistic(T2C_FP16_STAT_MAGNITUDE, x, {0, 1}, 0), 6.0);
  EXPECT_DOUBLE_EQ(LimitStatistic(T2C_FP16_STAT_CENTERED_SQUARES, x, {1}, 0), 32.0);
  EXPECT_DOUBLE_EQ(LimitStatistic(T2C_FP16_STAT_EXP_RANGE, x, {1}, 0), 8.0);
  EXPECT_DOUBLE_EQ(LimitStatistic(T2C_FP16_STAT_SUM_ABS, x, {1}, 0), 8.0);
  EXPECT_DOUBLE_EQ(LimitStatistic(T2C_FP16_STAT_SUM_SQUARES, x, {1}, 0), 40.0);
  EXPECT_DOUBLE_EQ(LimitStatistic(T2C_FP16_STAT_SUM_ABS, T({}, {0}), {0}, 0), 0.0);
}

}  // namespace
}  // namespace ts2coreml::core
