#include "core/report/coverage_report.h"

#include <string>
#include <vector>

#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace ts2coreml::core {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

OpKindCoverage Kind(std::string kind, std::string lowering, std::string compute) {
  OpKindCoverage k;
  k.kind = std::move(kind);
  k.count = 3;
  k.decision = "lowered";
  k.lowering = std::move(lowering);
  k.compute_dtypes[compute] = 3;
  return k;
}

CoverageReport Report() {
  CoverageReport r;
  r.model = "m.pt";
  r.precision.precision = Precision::kFp16;
  r.ops = {Kind("aten::relu", "ts2coreml.activation/relu", "fp16"),
           Kind("aten::_native_multi_head_attention",
                "ts2coreml.attention/native_multi_head_attention_with_a_long_name", "fp32")};
  r.lowered_nodes = 6;
  r.fp16_nodes = 3;
  r.flops = 100;
  r.fp16_flops = 25;
  return r;
}

TEST(FormatCoverageText, ColumnsStayAlignedWithLongNames) {
  const std::string text = FormatCoverageText(Report());
  std::vector<std::string> lines = absl::StrSplit(text, '\n');
  // Header and the two rows: the compute column starts at the same offset in each.
  ASSERT_GE(lines.size(), 4u);
  const size_t header = lines[1].find("compute");
  ASSERT_NE(header, std::string::npos) << text;
  EXPECT_EQ(lines[2].find("fp16 x3"), header) << text;
  EXPECT_EQ(lines[3].find("fp32 x3"), header) << text;
  EXPECT_THAT(text, HasSubstr("fp16: 3 of 6 float ops (50.0%), 25 of 100 estimated FLOPs (25.0%)"));
}

TEST(FormatCoverageText, WithoutShapesTheFp16ShareIsUnknown) {
  CoverageReport r = Report();
  r.shapes_known = false;
  r.lowered_nodes = r.fp16_nodes = 0;
  r.flops = r.fp16_flops = 0;
  const std::string text = FormatCoverageText(r);
  EXPECT_THAT(text, HasSubstr("fp16: share unknown without --input shapes"));
  EXPECT_THAT(text, Not(HasSubstr("0 of 0")));
}

}  // namespace
}  // namespace ts2coreml::core
