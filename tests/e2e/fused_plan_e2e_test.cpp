// Fused transformer traces (torch.no_grad(): aten::_transformer_encoder_layer_fwd and
// aten::_native_multi_head_attention) get the plan of their unfused twins through the real CLI:
// the same ops by kind and dtype (so the same FP32 ops), the same FP16 share of ops and FLOPs
// and the same FP16/FP32 transitions, as `inspect --json` reports them (its residency section),
// and `coverage --json` plans as many transitions as inspect then finds in each package.
#include <filesystem>
#include <map>
#include <string>
#include <utility>

#include "core/base/json.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/e2e/cli_runner.h"

namespace ts2coreml {
namespace {

namespace fs = std::filesystem;
using testing::CliResult;
using testing::RunProgram;
using testing::TempDir;

json::Value ParseJson(const std::string& text) {
  absl::StatusOr<json::Value> v = json::Parse(text);
  EXPECT_TRUE(v.ok()) << v.status() << "\n" << text.substr(0, 500);
  return v.ok() ? *v : json::Value();
}

const json::Value& Member(const json::Value& v, const std::string& key) {
  static const json::Value kNull;
  const json::Value* m = v.Find(key);
  EXPECT_NE(m, nullptr) << "missing key " << key;
  return m ? *m : kNull;
}

/// Converts a zoo model with its input shape and returns `inspect --json` of the package.
json::Value ConvertAndInspect(const TempDir& dir, const std::string& model,
                              const std::string& input) {
  const fs::path pkg = dir / (model + ".mlpackage");
  const std::string pt = (fs::path(TS2COREML_TEST_MODELS_DIR) / (model + ".pt")).string();
  CliResult c = RunProgram(TS2COREML_CLI, {"convert", pt, "-o", pkg.string(), "--input", input});
  EXPECT_EQ(c.exit_code, 0) << c.output;
  CliResult js = RunProgram(TS2COREML_CLI, {"inspect", pkg.string(), "--json"});
  EXPECT_EQ(js.exit_code, 0) << js.output;
  return ParseJson(js.output);
}

/// `coverage --json` of a zoo model: the plan, before conversion.
json::Value Coverage(const std::string& model, const std::string& input) {
  const std::string pt = (fs::path(TS2COREML_TEST_MODELS_DIR) / (model + ".pt")).string();
  CliResult c = RunProgram(TS2COREML_CLI, {"coverage", pt, "--input", input, "--json"});
  EXPECT_EQ(c.exit_code, 0) << c.output;
  return ParseJson(c.output);
}

/// "op dtype" -> count, from inspect's op histogram.
std::map<std::string, int> OpsByKind(const json::Value& report) {
  std::map<std::string, int> out;
  for (const auto& [type, dtypes] : Member(report, "ops").object) {
    for (const auto& [dtype, count] : dtypes.object) {
      out[type + " " + dtype] = static_cast<int>(count.number);
    }
  }
  return out;
}

struct Pair {
  std::string unfused, fused, input;
};

class FusedPlanTest : public ::testing::TestWithParam<Pair> {};

TEST_P(FusedPlanTest, FusedTraceGetsTheUnfusedPlan) {
  const Pair& p = GetParam();
  TempDir dir;
  const json::Value unfused = ConvertAndInspect(dir, p.unfused, p.input);
  const json::Value fused = ConvertAndInspect(dir, p.fused, p.input);
  EXPECT_EQ(OpsByKind(fused), OpsByKind(unfused));
  const json::Value& ru = Member(unfused, "residency");
  const json::Value& rf = Member(fused, "residency");
  for (const char* key :
       {"float_ops", "fp16_ops", "fp16_op_share", "fp16_flop_share", "transitions"}) {
    EXPECT_EQ(Member(rf, key).number, Member(ru, key).number) << key;
  }
  EXPECT_EQ(Member(fused, "transitions").number, Member(unfused, "transitions").number);
  // coverage plans the transitions inspect finds in the package: each a cast of a computed
  // value between fp16 and fp32, not at the model's boundary.
  for (const auto& [model, report] : {std::pair{p.unfused, &unfused}, std::pair{p.fused, &fused}}) {
    const json::Value cov = Coverage(model, p.input);
    EXPECT_EQ(Member(Member(cov, "summary"), "transitions").number,
              Member(Member(*report, "residency"), "transitions").number)
        << model;
    EXPECT_GT(Member(Member(*report, "residency"), "transitions").number, 0) << model;
    EXPECT_LT(Member(Member(*report, "residency"), "transitions").number,
              Member(*report, "transitions").number)
        << model << ": the input's cast to fp16 is at the boundary";
  }
  // The share the fused trace had when its lowering asked for FP32 as a whole (4.3% and
  // 25.2% of ops in docs/coverage.md) is far below this.
  EXPECT_GT(Member(rf, "fp16_op_share").number, 0.85);
  EXPECT_GT(Member(rf, "fp16_flop_share").number, 0.99);
}

INSTANTIATE_TEST_SUITE_P(
    Zoo, FusedPlanTest,
    ::testing::Values(Pair{"transformer_encoder", "transformer_encoder_fused", "x:1x32x128"},
                      Pair{"vit_b_16", "vit_b_16_fused", "x:1x3x224x224"}),
    [](const ::testing::TestParamInfo<Pair>& info) { return info.param.unfused; });

}  // namespace
}  // namespace ts2coreml
