// Calibration through the real CLI (convert --calibrate, --calibration-data; docs/precision.md):
// on large_activations and large_reductions (tests/models/make_precision_models.py), exactly the
// ops whose measured ranges cross their lowerings' declared FP16 limits stay FP32, with the
// measured number as the reason, and the package verifies; --precision auto keeps plain FP16 when
// it reaches the target, and otherwise moves the ops localize's blame or the prefix rule names;
// models made half are calibrated on their FP32 reference; bad calibration options are one-line
// errors.
#include <algorithm>
#include <cctype>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <regex>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/e2e/cli_runner.h"

namespace ts2coreml {
namespace {

namespace fs = std::filesystem;
using testing::CliResult;
using ::testing::HasSubstr;
using ::testing::Not;
using testing::RunProgram;
using testing::TempDir;

const std::string kInput = "x:1x6x16";

std::string Model(const std::string& name = "large_activations") {
  return (fs::path(TS2COREML_CALIBRATION_MODELS_DIR) / (name + ".pt")).string();
}

/// Converts model `name` with input `input` into `out`.
CliResult ConvertModel(const std::string& name, const std::string& input, const fs::path& out,
                       const std::vector<std::string>& flags) {
  std::vector<std::string> args = {"convert", Model(name), "-o",     out.string(),
                                   "--input", input,       "--force"};
  args.insert(args.end(), flags.begin(), flags.end());
  return RunProgram(TS2COREML_CLI, args);
}

CliResult Convert(const fs::path& out, const std::vector<std::string>& flags) {
  return ConvertModel("large_activations", kInput, out, flags);
}

/// The summary's "kept fp32" lines ("1 x aten::softmax: why").
std::vector<std::string> KeptFp32(const std::string& summary) {
  std::vector<std::string> kept;
  bool in = false;
  for (absl::string_view line : absl::StrSplit(summary, '\n')) {
    if (line == "  kept fp32:") {
      in = true;
    } else if (in && absl::StartsWith(line, "    ")) {
      kept.emplace_back(line.substr(4));
    } else {
      in = false;
    }
  }
  return kept;
}

/// Writes a float32 .npy of `shape` holding `values`.
void WriteNpy(const fs::path& path, const std::vector<int64_t>& shape,
              const std::vector<float>& values) {
  std::string dims;
  for (int64_t d : shape) absl::StrAppend(&dims, d, ", ");
  std::string header =
      absl::StrCat("{'descr': '<f4', 'fortran_order': False, 'shape': (", dims, "), }");
  while ((10 + header.size() + 1) % 64 != 0) header += ' ';
  header += '\n';
  std::ofstream f(path, std::ios::binary);
  f.write("\x93NUMPY\x01\x00", 8);
  const uint16_t n = static_cast<uint16_t>(header.size());
  f.write(reinterpret_cast<const char*>(&n), 2);
  f << header;
  f.write(reinterpret_cast<const char*>(values.data()),
          static_cast<std::streamsize>(values.size() * sizeof(float)));
}

TEST(CalibrationE2E, WithoutCalibrationEveryNormAndSoftmaxStaysFp32) {
  TempDir dir;
  const CliResult r = Convert(dir / "plain.mlpackage", {});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_THAT(r.output, Not(HasSubstr("calibration:")));
  EXPECT_THAT(KeptFp32(r.output),
              ::testing::UnorderedElementsAre(HasSubstr("2 x aten::layer_norm: lowering"),
                                              HasSubstr("2 x aten::softmax.int: lowering")))
      << r.output;
}

TEST(CalibrationE2E, KeepsExactlyTheOpsWhoseMeasuredRangesCrossTheirLimitsAndVerifies) {
  TempDir dir;
  const fs::path pkg = dir / "calibrated.mlpackage";
  const CliResult r = Convert(pkg, {"--calibrate", "2"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr("calibration: 2 runs (2 random inputs from seed 1000): 2 ops "
                                  "computing fp16 within their declared fp16 limits, 2 kept fp32 "
                                  "by a measured limit, 0 by a measured range beyond fp16"));
  const std::vector<std::string> kept = KeptFp32(r.output);
  ASSERT_EQ(kept.size(), 2u) << r.output;
  // The scaled layer_norm: its sum of squares is of order 1e6-1e7; the softmax on logits of
  // order 1e4: its exponent range is of order 1e4. Each reason carries the measured number.
  const std::regex norm(
      "1 x aten::layer_norm: calibration: the sum of squares of \\(input - mean\\) over "
      "normalized_shape reaches [0-9.e+]+, beyond the 65504 lowering .*layer_norm declares for "
      "fp16");
  const std::regex softmax(
      "1 x aten::softmax.int: calibration: the exponent range after the max subtraction \\(max - min "
      "along dim\\) reaches [0-9.e+]+, beyond the 2048 lowering .*softmax declares for fp16");
  EXPECT_TRUE(std::regex_match(kept[0], norm)) << kept[0];
  EXPECT_TRUE(std::regex_match(kept[1], softmax)) << kept[1];
  const double sum_of_squares = std::stod(kept[0].substr(kept[0].find("reaches ") + 8));
  const double range = std::stod(kept[1].substr(kept[1].find("reaches ") + 8));
  EXPECT_GT(sum_of_squares, 1e5);
  EXPECT_LT(sum_of_squares, 1e8);
  EXPECT_GT(range, 1e3);
  EXPECT_LT(range, 1e5);

  // Verified on verify's seeds 0..2, apart from the calibration's 1000, 1001.
  const CliResult v = RunProgram(TS2COREML_CLI, {"verify", Model(), pkg.string(), "--runs", "3"});
  EXPECT_EQ(v.exit_code, 0) << v.output;
}

TEST(CalibrationE2E, CalibrationDataFilesAreOneMoreRun) {
  TempDir dir;
  std::vector<float> x(96);
  for (size_t k = 0; k < x.size(); ++k)
    x[k] = static_cast<float>(static_cast<int>(k % 7) - 3) * 0.25f;
  WriteNpy(dir / "x.npy", {1, 6, 16}, x);
  const CliResult r = Convert(dir / "data.mlpackage",
                              {"--calibration-data", absl::StrCat("x=", (dir / "x.npy").string())});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr("calibration: 1 run (0 random inputs from seed 1000 and the "
                                  "--calibration-data inputs)"));
  EXPECT_EQ(KeptFp32(r.output).size(), 2u) << r.output;
}

/// The lines of the summary starting with `prefix` (after indentation).
std::string SummaryLine(const std::string& summary, const std::string& prefix) {
  for (absl::string_view line : absl::StrSplit(summary, '\n')) {
    const absl::string_view trimmed = absl::StripLeadingAsciiWhitespace(line);
    if (absl::StartsWith(trimmed, prefix)) return std::string(trimmed);
  }
  return "";
}

/// The measured number after "reaches " in `line`.
double Reached(const std::string& line) {
  const size_t at = line.find("reaches ");
  return at == std::string::npos ? 0 : std::stod(line.substr(at + 8));
}

const std::string kMilInput = "x:1x32x6";

TEST(CalibrationE2E, MilOnlyIntermediatesBeyondFp16KeepExactlyTheirOpsFp32AndVerify) {
  TempDir dir;
  const fs::path pkg = dir / "mil.mlpackage";
  const CliResult r = ConvertModel("mil_intermediates", kMilInput, pkg, {"--calibrate", "2"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  // Every TorchScript value stays inside fp16's range: only the vars of the cross product's
  // and the lerp's own MIL ops overflow, measured in the fp32 program in the interpreter.
  EXPECT_THAT(r.output, HasSubstr("0 kept fp32 by a measured limit, 0 by a measured range beyond "
                                  "fp16, 2 by a measured MIL intermediate beyond fp16"));
  EXPECT_THAT(
      SummaryLine(r.output, "MIL intermediates:"),
      ::testing::MatchesRegex("MIL intermediates: [0-9]+ vars of 2 ops measured in the "
                              "fp32 program \\(2 interpreter runs, [0-9.]+ s\\): [1-9][0-9]* "
                              "beyond fp16's 65504, .*"))
      << r.output;
  const std::vector<std::string> kept = KeptFp32(r.output);
  ASSERT_EQ(kept.size(), 2u) << r.output;
  EXPECT_THAT(kept[0], ::testing::MatchesRegex("1 x aten::cross: calibration: intermediate mul "
                                               "'[A-Za-z0-9_]+' of this op's MIL reaches "
                                               "[0-9.e+]+, beyond fp16's 65504"));
  EXPECT_THAT(kept[1], ::testing::MatchesRegex("1 x aten::lerp.Scalar: calibration: intermediate "
                                               "sub '[A-Za-z0-9_]+' of this op's MIL reaches "
                                               "[0-9.e+]+, beyond fp16's 65504"));
  // Products of magnitudes ~300 (~1e5), and end - start of points ~4e4 on either side of zero.
  EXPECT_GT(Reached(kept[0]), 65504);
  EXPECT_LT(Reached(kept[0]), 2e6);
  EXPECT_GT(Reached(kept[1]), 65504);
  EXPECT_LT(Reached(kept[1]), 8e4);
  const CliResult v = RunProgram(
      TS2COREML_CLI, {"verify", Model("mil_intermediates"), pkg.string(), "--runs", "3"});
  EXPECT_EQ(v.exit_code, 0) << v.output;
}

TEST(CalibrationE2E, MilIntermediatesOfOrdinaryRangeKeepNothingFp32) {
  TempDir dir;
  const CliResult r = ConvertModel("mil_intermediates_unit", kMilInput, dir / "unit.mlpackage",
                                   {"--calibrate", "2"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr(", 0 by a measured MIL intermediate beyond fp16"));
  EXPECT_THAT(SummaryLine(r.output, "MIL intermediates:"),
              ::testing::ContainsRegex("of 2 ops measured in the fp32 program \\(2 interpreter "
                                       "runs, [0-9.]+ s\\): 0 beyond fp16's 65504"))
      << r.output;
  EXPECT_THAT(KeptFp32(r.output), ::testing::IsEmpty()) << r.output;
}

TEST(PrecisionAutoE2E, OpsKeptFp32ByMilIntermediatesStartFp32AndAreMeasuredOnce) {
  TempDir dir;
  const CliResult r =
      ConvertModel("mil_intermediates", kMilInput, dir / "auto.mlpackage", {"--precision", "auto"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  // One fp32 interpreter run per calibration run (none for the held-back ones); the search
  // starts from the plan that keeps the cross product and the lerp fp32, which reaches the target.
  EXPECT_THAT(SummaryLine(r.output, "MIL intermediates:"), HasSubstr("(3 interpreter runs, "));
  EXPECT_THAT(SummaryLine(r.output, "precision auto:"), HasSubstr("with 0 ops moved to fp32"))
      << r.output;
  EXPECT_THAT(SummaryLine(r.output, "fp16:"), HasSubstr("fp16: 12 of 14 float ops")) << r.output;
  EXPECT_THAT(KeptFp32(r.output),
              ::testing::ElementsAre(HasSubstr("aten::cross: calibration: intermediate mul"),
                                     HasSubstr("aten::lerp.Scalar: calibration: intermediate sub")))
      << r.output;
}

TEST(CalibrationE2E, NormsAndReductionsKeepExactlyTheOpsCrossingTheirLimits) {
  TempDir dir;
  const fs::path pkg = dir / "r.mlpackage";
  const CliResult r = ConvertModel("large_reductions", "x:2x8x4x4", pkg, {"--calibrate", "1"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  // Each op on the input scaled by 1e3 crosses its limit, with the measured number; the same ops
  // on the input itself stay within theirs, and so do the inf-norm and logsumexp on both (they
  // accumulate nothing beyond FP16's range), which without limits stayed FP32.
  const std::string number = " reaches [0-9.e+]+, beyond the 65504 lowering ";
  const std::string partial = ", the largest partial product" + number;
  EXPECT_THAT(
      KeptFp32(r.output),
      ::testing::UnorderedElementsAre(
          ::testing::MatchesRegex("1 x aten::group_norm: calibration: the sum of squares of "
                                  "\\(input - mean\\) over each group of channels" +
                                  number + ".*group_norm declares for fp16"),
          ::testing::MatchesRegex("1 x aten::instance_norm: calibration: the sum of squares of "
                                  "\\(input - mean\\) over the spatial dimensions" +
                                  number + ".*instance_norm declares for fp16"),
          ::testing::MatchesRegex("1 x aten::std.dim: calibration: the sum of squares of "
                                  "\\(input - mean\\) over dim" +
                                  number + ".*var_std declares for fp16"),
          ::testing::MatchesRegex("1 x aten::sum.dim_IntList: calibration: the sum of \\|input\\| "
                                  "over dim, which the sum accumulates" +
                                  number + ".*sum declares for fp16"),
          ::testing::MatchesRegex("1 x aten::mean.dim: calibration: the sum of \\|input\\| over "
                                  "dim, which the mean accumulates" +
                                  number + ".*mean declares for fp16"),
          ::testing::MatchesRegex("1 x aten::frobenius_norm.dim: calibration: the sum of squares "
                                  "of input over dim" +
                                  number + ".*frobenius_norm declares for fp16"),
          ::testing::MatchesRegex("1 x aten::norm.ScalarOpt_dim: calibration: the sum of "
                                  "\\|input\\|\\^p over dim, which the p-norm accumulates" +
                                  number + ".*reduction/norm declares for fp16"),
          ::testing::MatchesRegex("1 x aten::prod.dim_int: calibration: the product over dim of "
                                  "max\\(1, \\|input\\|\\)" +
                                  partial + ".*reduction/prod_dim declares for fp16"),
          ::testing::MatchesRegex("1 x aten::prod: calibration: the product of "
                                  "max\\(1, \\|input\\|\\)" +
                                  partial + ".*reduction/prod declares for fp16"),
          ::testing::MatchesRegex("1 x aten::cumprod: calibration: the product over dim of "
                                  "max\\(1, \\|input\\|\\)" +
                                  partial + ".*reduction/cumprod declares for fp16"),
          ::testing::MatchesRegex("1 x aten::cumsum: calibration: the largest \\|sum of a run of "
                                  "input\\| along dim, which the cumsum accumulates" +
                                  number + ".*reduction/cumsum declares for fp16"),
          ::testing::MatchesRegex("1 x aten::cosine_similarity: calibration: the sum of squares "
                                  "of x1 over dim" +
                                  number + ".*cosine_similarity declares for fp16")))
      << r.output;
  // The numbers are the statistics on calibration's input (seed 1000), of order: 3-norm 7e10,
  // products 2e13 and 3e11, running sums 1e5 (the outputs reach only 5e4), squares 2e7.
  const auto measured = [&](const std::string& kind) {
    for (const std::string& line : KeptFp32(r.output)) {
      if (absl::StartsWith(line, "1 x " + kind + ": ")) {
        return std::stod(line.substr(line.find("reaches ") + 8));
      }
    }
    return 0.0;
  };
  EXPECT_GT(measured("aten::norm.ScalarOpt_dim"), 1e9);
  EXPECT_GT(measured("aten::prod.dim_int"), 1e11);
  EXPECT_GT(measured("aten::cumsum"), 65504);
  EXPECT_LT(measured("aten::cumsum"), 2e5);
  EXPECT_GT(measured("aten::cosine_similarity"), 1e6);
  // The fp16 package (the ops within their limits computing fp16) verifies on seeds 0, 1.
  const CliResult v =
      RunProgram(TS2COREML_CLI, {"verify", Model("large_reductions"), pkg.string(), "--runs", "2"});
  EXPECT_EQ(v.exit_code, 0) << v.output;
}

TEST(PrecisionAutoE2E, PlainFp16ThatReachesTheTargetIsKept) {
  TempDir dir;
  const CliResult r = Convert(dir / "auto.mlpackage", {"--precision", "auto"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_THAT(SummaryLine(r.output, "precision auto:"),
              ::testing::MatchesRegex("precision auto: target cosine >= 0.9999; reached on 3 "
                                      "calibration runs \\(cosine [0-9.]+, spread [0-9.]+: "
                                      "[0-9.]+ expected on unseen inputs\\) with 0 ops moved "
                                      "to fp32"))
      << r.output;
  EXPECT_THAT(SummaryLine(r.output, "held-back seeds 0..2:"), HasSubstr("target met"));
  EXPECT_THAT(SummaryLine(r.output, "chosen:"), "chosen: plain fp16 reaches the target");
  // Probed on the first calibration run, confirmed on the two others.
  EXPECT_THAT(SummaryLine(r.output, "search:"),
              ::testing::ContainsRegex("search: 1 plans in 2 measurements \\(rule fp32 "
                                       "ops:cosine/runs plain 0:[0-9.]+/1, plain 0:[0-9.]+/2\\)"));
  EXPECT_THAT(SummaryLine(r.output, "search:"), HasSubstr("6 interpreter runs"));
  EXPECT_EQ(SummaryLine(r.output, "without search:"), "") << r.output;
}

TEST(PrecisionAutoE2E, AMissedTargetMovesOpsToFp32AndSaysHow) {
  TempDir dir;
  const fs::path pkg = dir / "auto.mlpackage";
  // Plain fp16 reaches about 0.9999998 on the second output: ask for more.
  const CliResult r = Convert(pkg, {"--precision", "auto", "--min-cosine", "0.99999999"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const std::string head = SummaryLine(r.output, "precision auto:");
  EXPECT_THAT(head, HasSubstr("target cosine >= 0.99999999; ")) << r.output;
  EXPECT_THAT(head, ::testing::ContainsRegex("ops? moved to fp32")) << r.output;
  EXPECT_THAT(head, Not(HasSubstr("with 0 ops"))) << r.output;
  EXPECT_THAT(SummaryLine(r.output, "search:"),
              ::testing::ContainsRegex("interpreter runs, [0-9.]+ s"));
  EXPECT_THAT(SummaryLine(r.output, "fp16:"),
              ::testing::ContainsRegex("of the estimated FLOPs; [0-9]+ fp16/fp32 transitions"));
  EXPECT_THAT(r.output, HasSubstr("x aten::")) << r.output;
  EXPECT_THAT(SummaryLine(r.output, "chosen:"),
              ::testing::ContainsRegex("chosen: (the prefix rule|localize's blame): [0-9]+ ops?,"));
  // What it reports on held-back seeds is what verify measures on them.
  const std::string held = SummaryLine(r.output, "held-back seeds 0..2:");
  ASSERT_THAT(held, ::testing::ContainsRegex("cosine [0-9.]+")) << r.output;
  const double claimed = std::stod(held.substr(held.find("cosine ") + 7));
  const CliResult v = RunProgram(TS2COREML_CLI, {"verify", Model(), pkg.string(), "--runs", "3"});
  EXPECT_EQ(v.exit_code, 0) << v.output;
  double worst = 1;
  for (size_t at = v.output.find("cosine "); at != std::string::npos;
       at = v.output.find("cosine ", at + 1)) {
    if (std::isdigit(static_cast<unsigned char>(v.output[at + 7]))) {
      worst = std::min(worst, std::stod(v.output.substr(at + 7)));
    }
  }
  // Both in double over the same inputs; the last printed digit may round differently.
  EXPECT_NEAR(worst, claimed, 2e-7) << held << "\n" << v.output;
}

TEST(PrecisionAutoE2E, LocalizesBlameMovesTheOneOpThatMakesTheError) {
  TempDir dir;
  // Plain fp16 rounds away the small parts of the last Linear's weights (cosine about 0.9):
  // that op's error jumps, and moving it alone keeps more FLOPs in fp16 than any prefix.
  const CliResult r =
      ConvertModel("cancelling_linear", "x:1x16", dir / "auto.mlpackage", {"--precision", "auto"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_THAT(SummaryLine(r.output, "precision auto:"),
              ::testing::ContainsRegex("reached on 3 calibration runs \\(cosine [0-9.]+, spread "
                                       "[0-9.]+: [0-9.]+ expected on unseen inputs\\) with 1 op "
                                       "moved to fp32"))
      << r.output;
  EXPECT_THAT(SummaryLine(r.output, "held-back seeds 0..2:"), HasSubstr("target met"));
  EXPECT_THAT(SummaryLine(r.output, "chosen:"),
              ::testing::ContainsRegex("chosen: localize's blame: 1 op, cosine [0-9.]+ on 3 runs( "
                                       "\\(spread [0-9.]+, so [0-9.]+ expected on unseen "
                                       "inputs\\))?, [0-9.]+% of the FLOPs fp16; not the prefix "
                                       "rule"))
      << r.output;
  EXPECT_THAT(KeptFp32(r.output),
              ::testing::Contains(HasSubstr(
                  "1 x aten::linear: --precision auto: localize's rule blames its fp16 error")))
      << r.output;
}

TEST(CalibrationE2E, HalfAndMixedModelsAreCalibratedOnTheirFp32ReferenceAndVerify) {
  TempDir dir;
  // half_small's weights are all FP16 (`traced.half()`), half_mixed's head only: LibTorch runs
  // neither on FP32 inputs, so calibration runs a clone with those weights cast to float32.
  const std::string reference = "on the model with its half parameters and buffers cast to float32";
  for (const std::string model : {"half_small", "half_mixed"}) {
    const fs::path pkg = dir / (model + ".mlpackage");
    const CliResult r = ConvertModel(model, "x:1x3x8x8", pkg, {"--calibrate", "2"});
    ASSERT_EQ(r.exit_code, 0) << r.output;
    // The layer_norm and the softmax are measured within their limits: the reference ran.
    EXPECT_THAT(r.output, HasSubstr(absl::StrCat("calibration: 2 runs (2 random inputs from seed "
                                                 "1000, ",
                                                 reference,
                                                 "): 2 ops computing fp16 within their declared "
                                                 "fp16 limits")))
        << r.output;
    EXPECT_THAT(r.output, HasSubstr("inputs:  x fp32[1,3,8,8]")) << r.output;
  }
  const CliResult v = RunProgram(
      TS2COREML_CLI, {"verify", Model("half_small"), (dir / "half_small.mlpackage").string()});
  EXPECT_EQ(v.exit_code, 0) << v.output;
  EXPECT_THAT(v.output, HasSubstr("(half, upcast to fp32)")) << v.output;
  const fs::path pkg = dir / "auto.mlpackage";
  const CliResult a = ConvertModel("half_small", "x:1x3x8x8", pkg, {"--precision", "auto"});
  ASSERT_EQ(a.exit_code, 0) << a.output;
  EXPECT_THAT(a.output, HasSubstr(reference)) << a.output;
  EXPECT_THAT(SummaryLine(a.output, "precision auto:"), HasSubstr("reached on 3 calibration runs"))
      << a.output;
  EXPECT_THAT(SummaryLine(a.output, "held-back seeds 0..2:"), HasSubstr("target met"));
  const CliResult va =
      RunProgram(TS2COREML_CLI, {"verify", Model("half_small"), pkg.string(), "--runs", "3"});
  EXPECT_EQ(va.exit_code, 0) << va.output;
}

TEST(CalibrationE2E, BadCalibrationOptionsAreOneLineErrors) {
  TempDir dir;
  const fs::path pkg = dir / "bad.mlpackage";
  struct Case {
    std::vector<std::string> flags;
    int exit_code;
    std::string message;
  };
  const std::vector<Case> cases = {
      {{"--calibrate", "0"}, 2, "--calibrate 0: give a number of runs from 1 to 1000"},
      {{"--calibrate", "many"}, 2, "--calibrate many: give a number of runs"},
      {{"--calibrate", "2", "--precision", "fp32"}, 2, "they need --precision fp16"},
      {{"--calibration-seed", "5"}, 2, "--calibration-seed needs --calibrate N"},
      {{"--calibration-data", "x"}, 2, "--calibration-data x: write NAME=FILE.npy"},
      {{"--calibration-data", "y=/nonexistent.npy"},
       5,
       "--calibration-data y: the model has no input of that name"},
      {{"--calibration-data", "x=/nonexistent/x.npy"}, 5, "--calibration-data x: "},
  };
  for (const Case& c : cases) {
    const CliResult r = Convert(pkg, c.flags);
    EXPECT_EQ(r.exit_code, c.exit_code) << r.output;
    EXPECT_THAT(r.output, HasSubstr(c.message));
    EXPECT_EQ(std::count(r.output.begin(), r.output.end(), '\n'), 1) << r.output;
    EXPECT_FALSE(fs::exists(pkg));
  }
  WriteNpy(dir / "wrong.npy", {1, 5, 16}, std::vector<float>(80, 1.0f));
  const CliResult r =
      Convert(pkg, {"--calibration-data", absl::StrCat("x=", (dir / "wrong.npy").string())});
  EXPECT_EQ(r.exit_code, 5) << r.output;
  EXPECT_THAT(r.output, HasSubstr("--calibration-data x: the array has shape [1, 5, 16], the "
                                  "input [1, 6, 16]"));
}

}  // namespace
}  // namespace ts2coreml
