#include "core/convert/precision_search_rule.h"

#include "gtest/gtest.h"

namespace ts2coreml::core {
namespace {

TEST(RunCosinesTest, OneRunHasNoSpreadAndMeetsTheTargetItReaches) {
  RunCosines c;
  EXPECT_FALSE(c.Meets(0.9));  // nothing measured
  c.Add(0.99992);
  EXPECT_EQ(c.Spread(), 0.0);
  EXPECT_DOUBLE_EQ(c.Expected(), 0.99992);
  EXPECT_TRUE(c.Meets(0.9999));
  EXPECT_FALSE(c.Meets(0.99995));
}

TEST(RunCosinesTest, RunsThatAgreeCostNoMargin) {
  RunCosines c;
  for (int r = 0; r < 3; ++r) c.Add(0.99993);
  EXPECT_EQ(c.Spread(), 0.0);
  EXPECT_TRUE(c.Meets(0.9999));
}

TEST(RunCosinesTest, RunsThatDisagreeNeedTheTargetWithTheirSpreadAsMargin) {
  // Every run reaches 0.9999, but they spread by 0.00008: an unseen input may be that much
  // worse than the worst run, so the plan is not claimed.
  RunCosines c;
  c.Add(0.99999);
  c.Add(0.99991);
  c.Add(0.99995);
  EXPECT_NEAR(c.Spread(), 0.00008, 1e-12);
  EXPECT_NEAR(c.Expected(), 0.99983, 1e-12);
  EXPECT_FALSE(c.Meets(0.9999));
  EXPECT_TRUE(c.Meets(0.9998));
}

TEST(RunCosinesTest, MergingIsAddingTheRuns) {
  RunCosines probe, rest, all;
  probe.Add(0.99996);
  rest.Add(0.99992);
  rest.Add(0.99994);
  for (double x : {0.99996, 0.99992, 0.99994}) all.Add(x);
  probe.Merge(rest);
  EXPECT_EQ(probe.runs, 3);
  EXPECT_EQ(probe.worst, all.worst);
  EXPECT_EQ(probe.best, all.best);
  EXPECT_DOUBLE_EQ(probe.Expected(), 0.99988);
  RunCosines none;
  probe.Merge(none);
  EXPECT_EQ(probe.runs, 3);
}

}  // namespace
}  // namespace ts2coreml::core
