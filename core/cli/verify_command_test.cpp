/// Tests of the steps of `ts2coreml verify` (verify_steps.h): argument parsing, tolerances, the
/// metrics and verdicts, the inputs of each run, and localization's error measure. The command as
/// a whole runs in tests/e2e.
#include "core/cli/verify_command.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <torch/script.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <limits>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "core/base/errors.h"
#include "core/cli/verify_steps.h"
#include "core/interp/npy.h"

namespace ts2coreml::core {
namespace {

namespace milspec = ::CoreML::Specification::MILSpec;
namespace fs = std::filesystem;

/// The message of a parse that must fail with class kUsage.
std::string UsageError(const std::vector<std::string>& args) {
  absl::StatusOr<VerifyArgs> a = ParseVerifyArgs(args);
  EXPECT_FALSE(a.ok());
  EXPECT_EQ(ClassOf(a.status()), ErrorClass::kUsage) << a.status();
  return std::string(a.status().message());
}

TEST(VerifyStepsTest, ParseVerifyArgsReadsEveryOption) {
  absl::StatusOr<VerifyArgs> a = ParseVerifyArgs({"m.pt",
                                                  "--runs",
                                                  "3",
                                                  "--seed",
                                                  "7",
                                                  "--input",
                                                  "x=a.npy",
                                                  "--json",
                                                  "--localize",
                                                  "--time",
                                                  "--min-cosine",
                                                  "0.5",
                                                  "--max-rel-error",
                                                  "0.1",
                                                  "--max-abs-error",
                                                  "2",
                                                  "--min-top1",
                                                  "0.9",
                                                  "--quiet",
                                                  "--plugin-dir",
                                                  "d",
                                                  "p.mlpackage"});
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(a->model, "m.pt");
  EXPECT_EQ(a->package, "p.mlpackage");
  EXPECT_EQ(a->runs, 3);
  EXPECT_EQ(a->seed, 7u);
  ASSERT_EQ(a->input_files.size(), 1u);
  EXPECT_EQ(a->input_files.at("x"), "a.npy");
  EXPECT_TRUE(a->json && a->localize && a->time);
  EXPECT_EQ(a->min_cosine, 0.5);
  EXPECT_EQ(a->max_rel_error, 0.1);
  EXPECT_EQ(a->max_abs_error, 2);
  EXPECT_EQ(a->min_top1, 0.9);
  EXPECT_TRUE(a->common.quiet);
  ASSERT_EQ(a->common.plugin_dirs.size(), 1u);
  EXPECT_EQ(a->common.plugin_dirs[0], "d");

  a = ParseVerifyArgs({"m.pt", "p.mlpackage"});
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(a->runs, 1);
  EXPECT_FALSE(a->json || a->localize || a->time);
  EXPECT_FALSE(a->min_cosine.has_value());
}

TEST(VerifyStepsTest, ParseVerifyArgsRefusesBadValuesInOneLine) {
  EXPECT_EQ(UsageError({"m.pt", "p", "--runs", "0"}), "--runs: '0' is not a positive integer");
  EXPECT_EQ(UsageError({"m.pt", "p", "--runs"}), "--runs needs a value");
  EXPECT_EQ(UsageError({"m.pt", "p", "--seed", "-1"}),
            "--seed: '-1' is not a non-negative integer");
  EXPECT_EQ(UsageError({"m.pt", "p", "--input", "x"}), "--input: 'x' is not NAME=FILE.npy");
  EXPECT_EQ(UsageError({"m.pt", "p", "--input", "=a.npy"}),
            "--input: '=a.npy' is not NAME=FILE.npy");
  EXPECT_EQ(UsageError({"m.pt", "p", "--input", "x=a.npy", "--input", "x=b.npy"}),
            "--input x is given twice; give each name once");
  EXPECT_EQ(UsageError({"m.pt", "p", "--reference", "y=a.npy", "--reference", "y=a.npy"}),
            "--reference y is given twice; give each name once");
  EXPECT_EQ(UsageError({"m.pt", "p", "--min-cosine", "high"}),
            "--min-cosine high: give a cosine in (0, 1], e.g. 0.9999");
  // NaN or infinite tolerances would pass or fail every output whatever its error.
  EXPECT_EQ(UsageError({"m.pt", "p", "--min-cosine", "nan"}),
            "--min-cosine nan: give a cosine in (0, 1], e.g. 0.9999");
  EXPECT_EQ(UsageError({"m.pt", "p", "--min-cosine", "1.5"}),
            "--min-cosine 1.5: give a cosine in (0, 1], e.g. 0.9999");
  EXPECT_EQ(UsageError({"m.pt", "p", "--max-abs-error", "-inf"}),
            "--max-abs-error -inf: give a finite error >= 0, e.g. 0.05");
  EXPECT_EQ(UsageError({"m.pt", "p", "--max-rel-error", "inf"}),
            "--max-rel-error inf: give a finite error >= 0, e.g. 0.05");
  EXPECT_EQ(UsageError({"m.pt", "p", "--min-top1", "nan"}),
            "--min-top1 nan: give a share in [0, 1], e.g. 0.99");
  EXPECT_EQ(UsageError({"m.pt", "p", "--min-top1", "1.01"}),
            "--min-top1 1.01: give a share in [0, 1], e.g. 0.99");
  EXPECT_EQ(UsageError({"m.pt", "p", "--max-abs-error"}), "--max-abs-error needs a value");
  EXPECT_EQ(UsageError({"m.pt", "p", "--bogus"}),
            "verify: unknown option '--bogus'; see 'ts2coreml help'");
  EXPECT_EQ(UsageError({"m.pt"}), "verify needs MODEL.pt and PKG.mlpackage; see 'ts2coreml help'");
  EXPECT_EQ(UsageError({"m.pt", "p", "q"}),
            "verify needs MODEL.pt and PKG.mlpackage; see 'ts2coreml help'");
}

TEST(VerifyStepsTest, ParseVerifyArgsReadsTorchLibrariesAndReferences) {
  absl::StatusOr<VerifyArgs> a =
      ParseVerifyArgs({"m.pt", "p.mlpackage", "--torch-library", "a.so", "--torch-library", "b.so",
                       "--reference", "y=y.npy", "--reference", "z=z.npy"});
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(a->torch_libraries, (std::vector<fs::path>{"a.so", "b.so"}));
  ASSERT_EQ(a->reference_files.size(), 2u);
  EXPECT_EQ(a->reference_files.at("z"), "z.npy");
  EXPECT_EQ(UsageError({"m.pt", "p", "--reference", "y"}), "--reference: 'y' is not NAME=FILE.npy");
  EXPECT_EQ(UsageError({"m.pt", "p", "--torch-library"}), "--torch-library needs a value");
}

// The shares of nonzero magnitudes below fp16's smallest normal (2^-14) and subnormal (2^-24).
TEST(VerifyStepsTest, PackagesWhoseInputsCannotFitInMemoryAreRefused) {
  const std::vector<interp::Feature> small = {{"x", milspec::FLOAT32, {1, 3, 8, 8}}};
  const std::vector<interp::Feature> huge = {{"x", milspec::FLOAT32, {1, int64_t{1} << 33}}};
  EXPECT_TRUE(CheckMemoryFits("p.mlpackage", small, small, 1e6).ok());
  const absl::Status s = CheckMemoryFits("p.mlpackage", huge, small, 8e9);
  EXPECT_EQ(ClassOf(s), ErrorClass::kInputSpec);
  EXPECT_THAT(std::string(s.message()),
              ::testing::HasSubstr("p.mlpackage: its inputs and outputs alone need 68.7 GB"));
  EXPECT_THAT(std::string(s.message()), ::testing::HasSubstr("more than the 8 GB of memory"));
  EXPECT_GT(AvailableMemoryBytes(), 0);
}

TEST(VerifyStepsTest, MeasureFp16UnderflowCountsNonzeroMagnitudes) {
  const at::Tensor t = at::tensor({0.0, 1e-9, -1e-6, 0.5, -2.0}, at::kFloat);
  const Fp16Underflow u = MeasureFp16Underflow(t);
  EXPECT_DOUBLE_EQ(u.below_normal, 0.5);  // 1e-9 and 1e-6 of the four nonzero
  EXPECT_DOUBLE_EQ(u.below_subnormal, 0.25);
  EXPECT_FALSE(u.Falls());
  EXPECT_TRUE(MeasureFp16Underflow(t * 1e-6).Falls());
  EXPECT_EQ(MeasureFp16Underflow(at::zeros({3})).below_normal, 0);
  EXPECT_EQ(MeasureFp16Underflow(at::tensor({1, 2}, at::kLong)).below_normal, 0);
}

TEST(VerifyStepsTest, ToleranceDependsOnPrecisionAndTheFlagsGiven) {
  VerifyArgs a;
  Tolerance t = ToleranceFor(a, /*fp16=*/true);
  EXPECT_EQ(t.min_cosine, 0.999);
  EXPECT_EQ(t.max_rel_error, 3e-2);
  EXPECT_TRUE(std::isinf(t.max_abs_error));
  EXPECT_EQ(t.min_top1, 0);
  t = ToleranceFor(a, /*fp16=*/false);
  EXPECT_EQ(t.min_cosine, 0.99999);
  EXPECT_EQ(t.max_rel_error, 1e-3);
  a.min_cosine = 0.9;
  a.max_abs_error = 0.5;
  a.min_top1 = 1;
  t = ToleranceFor(a, /*fp16=*/true);
  EXPECT_EQ(t.min_cosine, 0.9);
  EXPECT_EQ(t.max_rel_error, 3e-2);
  EXPECT_EQ(t.max_abs_error, 0.5);
  EXPECT_EQ(t.min_top1, 1);
}

TEST(VerifyStepsTest, CompareMeasuresErrorsCosineAndTop1) {
  const at::Tensor ref = at::tensor({1.0f, 3.0f, 2.0f, 0.0f}).reshape({2, 2});
  Metrics m = Compare(ref, ref);
  EXPECT_EQ(m.max_abs, 0);
  EXPECT_EQ(m.max_rel, 0);
  EXPECT_DOUBLE_EQ(m.cosine, 1);
  EXPECT_EQ(m.top1, 1);

  const at::Tensor got = at::tensor({1.0f, 3.0f, 2.0f, 3.0f}).reshape({2, 2});
  m = Compare(ref, got);
  EXPECT_DOUBLE_EQ(m.max_abs, 3);
  EXPECT_DOUBLE_EQ(m.max_rel, 1);  // range 3
  EXPECT_EQ(m.top1, 0.5);          // row 1's argmax moved
  EXPECT_LT(m.cosine, 1);

  m = Compare(at::tensor({1.0f, 2.0f}), at::tensor({1.0f, NAN}));
  EXPECT_TRUE(std::isnan(m.cosine) && std::isnan(m.max_abs) && std::isnan(m.max_rel));
  EXPECT_EQ(m.top1, -1) << "not 2-D";
}

TEST(VerifyStepsTest, WorstKeepsTheWorstOfEveryMetric) {
  Metrics acc;
  Metrics a;
  a.max_abs = 0.1;
  a.max_rel = 0.01;
  a.cosine = 0.99;
  a.top1 = 1;
  Worst(&acc, a, /*first=*/true);
  EXPECT_EQ(acc.max_abs, 0.1);
  Metrics b;
  b.max_abs = 0.05;
  b.max_rel = 0.02;
  b.cosine = 0.999;
  b.top1 = 0.5;
  Worst(&acc, b, /*first=*/false);
  EXPECT_EQ(acc.max_abs, 0.1);
  EXPECT_EQ(acc.max_rel, 0.02);
  EXPECT_EQ(acc.cosine, 0.99);
  EXPECT_EQ(acc.top1, 0.5);
  b.cosine = NAN;
  Worst(&acc, b, /*first=*/false);
  EXPECT_TRUE(std::isnan(acc.cosine));
}

TEST(VerifyStepsTest, VerdictNamesTheFirstMetricOutOfTolerance) {
  Tolerance t;
  t.min_cosine = 0.999;
  t.max_rel_error = 0.01;
  t.max_abs_error = 0.5;
  t.min_top1 = 0.9;
  Metrics m;
  EXPECT_EQ(Verdict(m, t), "");
  m.cosine = NAN;
  EXPECT_EQ(Verdict(m, t), "non-finite values where LibTorch has finite ones");
  m.cosine = 0.5;
  EXPECT_EQ(Verdict(m, t), "cosine 0.5000000 < 0.999");
  m.cosine = 1;
  m.max_rel = 0.02;
  EXPECT_EQ(Verdict(m, t), "max error relative to range 0.02 > 0.01");
  m.max_rel = 0;
  m.max_abs = 0.75;
  EXPECT_EQ(Verdict(m, t), "max abs error 0.75 > 0.5");
  m.max_abs = 0;
  m.top1 = 0.5;
  EXPECT_EQ(Verdict(m, t), "top-1 agreement 0.5000 < 0.9");
}

std::vector<interp::Feature> Features() {
  return {{"x", milspec::FLOAT32, {2, 3}},
          {"h", milspec::FLOAT16, {64}},
          {"i", milspec::INT32, {5}},
          {"b", milspec::BOOL, {4}}};
}

TEST(VerifyStepsTest, RandomInputsAreSeededTypedAndRoundedForFp16) {
  at::Generator g1 = at::detail::createCPUGenerator(3);
  at::Generator g2 = at::detail::createCPUGenerator(3);
  const std::map<std::string, at::Tensor> a = RandomInputs(Features(), {}, {}, g1);
  const std::map<std::string, at::Tensor> b = RandomInputs(Features(), {}, {}, g2);
  ASSERT_EQ(a.size(), 4u);
  for (const auto& [name, t] : a) EXPECT_TRUE(t.equal(b.at(name))) << name;
  EXPECT_EQ(a.at("x").sizes(), (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(a.at("x").scalar_type(), at::kFloat);
  const at::Tensor h = a.at("h");
  EXPECT_TRUE(h.equal(h.to(at::kHalf).to(at::kFloat))) << "fp16 inputs hold fp16 values";
  EXPECT_EQ(a.at("i").scalar_type(), at::kInt);
  EXPECT_GE(a.at("i").min().item<int>(), 0);
  EXPECT_LT(a.at("i").max().item<int>(), 10);
  EXPECT_EQ(a.at("b").scalar_type(), at::kBool);

  const at::Tensor given = at::ones({2, 3});
  at::Generator g3 = at::detail::createCPUGenerator(3);
  EXPECT_TRUE(RandomInputs(Features(), {}, {{"x", given}}, g3).at("x").equal(given));
}

TEST(VerifyStepsTest, RandomInputsFollowTheArgumentDtypeAndRange) {
  // int64 ids below an embedding's size; a bool argument behind an int32 feature.
  const std::vector<interp::Feature> features = {{"ids", milspec::INT32, {4000}},
                                                 {"mask", milspec::INT32, {16}}};
  const std::map<std::string, InputInfo> info = {{"ids", {"int64", 7}}, {"mask", {"bool", 0}}};
  at::Generator g = at::detail::createCPUGenerator(5);
  const std::map<std::string, at::Tensor> a = RandomInputs(features, info, {}, g);
  EXPECT_EQ(a.at("ids").scalar_type(), at::kLong);
  EXPECT_EQ(a.at("ids").min().item<int64_t>(), 0);
  EXPECT_EQ(a.at("ids").max().item<int64_t>(), 6) << "ids lie in [0, high)";
  EXPECT_EQ(a.at("mask").scalar_type(), at::kBool);
}

TEST(VerifyStepsTest, IntegerOutputsAreComparedExactly) {
  const at::Tensor ref = at::tensor({1, 2, 3, 4}, at::kLong);
  Metrics m = Compare(ref, at::tensor({1, 2, 3, 4}, at::kInt));
  EXPECT_EQ(m.mismatches, 0);
  EXPECT_EQ(m.elements, 4);
  Tolerance t;
  t.min_cosine = 0.999;
  EXPECT_EQ(Verdict(m, t), "");
  m = Compare(ref, at::tensor({1, 2, 3, 5}, at::kInt));
  EXPECT_EQ(m.mismatches, 1);
  EXPECT_EQ(Verdict(m, t), "1 of 4 elements differ (integer output, compared exactly)");
  // Off by one in a large output is a failure whatever its cosine.
  m = Compare(at::arange(1000, at::kLong), at::arange(1000, at::kInt) + (at::arange(1000) == 5));
  EXPECT_EQ(m.mismatches, 1);
  EXPECT_NE(Verdict(m, t), "");
  m = Compare(at::tensor({1, 0}).to(at::kBool), at::tensor({1, 1}).to(at::kBool));
  EXPECT_EQ(m.mismatches, 1);
  Metrics acc;
  Worst(&acc, Compare(ref, ref.to(at::kInt)), true);
  Worst(&acc, m, false);
  EXPECT_EQ(acc.mismatches, 1);
}

TEST(VerifyStepsTest, ReadInputFilesReadsIntegersExactlyInTheArgumentDtype) {
  const std::vector<interp::Feature> features = {{"ids", milspec::INT32, {3}},
                                                 {"x", milspec::FLOAT32, {3}}};
  const std::map<std::string, InputInfo> info = {{"ids", {"int64", 0}}, {"x", {"fp32", 0}}};
  const fs::path dir = fs::temp_directory_path();
  interp::NpyArray ids;
  ids.shape = {3};
  ids.ints = {16777217, 0, 2};  // beyond float's mantissa: exact only as an integer
  ids.values = {16777216.0f, 0, 2};
  const fs::path ids_path = dir / absl::StrCat("verify_ids_", getpid(), ".npy");
  ASSERT_TRUE(interp::WriteNpy(ids_path, ids, interp::NpyDtype::kInt64).ok());
  VerifyArgs a;
  a.input_files["ids"] = ids_path;
  absl::StatusOr<std::map<std::string, at::Tensor>> r = ReadInputFiles(a, features, info);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->at("ids").scalar_type(), at::kLong);
  EXPECT_EQ(r->at("ids")[0].item<int64_t>(), 16777217);

  // A float array for an integer input is refused, naming the input.
  const fs::path float_path = dir / absl::StrCat("verify_float_", getpid(), ".npy");
  ASSERT_TRUE(interp::WriteNpy(float_path, ids, interp::NpyDtype::kFloat32).ok());
  a.input_files["ids"] = float_path;
  r = ReadInputFiles(a, features, info);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(ClassOf(r.status()), ErrorClass::kInputSpec);
  EXPECT_THAT(std::string(r.status().message()),
              ::testing::HasSubstr("holds floats but input 'ids' is int64"));

  // Integers beyond int32 do not fit the package's input.
  ids.ints = {int64_t{1} << 33, 0, 0};
  ASSERT_TRUE(interp::WriteNpy(ids_path, ids, interp::NpyDtype::kInt64).ok());
  a.input_files["ids"] = ids_path;
  r = ReadInputFiles(a, features, info);
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(std::string(r.status().message()), ::testing::HasSubstr("beyond int32"));
  fs::remove(ids_path);
  fs::remove(float_path);
}

TEST(VerifyStepsTest, TorchInputsGoByNameWhenEveryArgumentIsAnInput) {
  const std::vector<interp::Feature> features = {{"y", milspec::FLOAT32, {1}},
                                                 {"x", milspec::FLOAT32, {1}}};
  const std::map<std::string, at::Tensor> inputs = {{"x", at::ones({1})}, {"y", at::zeros({1})}};
  std::vector<c10::IValue> args = TorchInputs({"x", "y"}, features, inputs);
  ASSERT_EQ(args.size(), 2u);
  EXPECT_EQ(args[0].toTensor().item<float>(), 1);  // x by name
  EXPECT_EQ(args[1].toTensor().item<float>(), 0);
  args = TorchInputs({"a", "b"}, features, inputs);
  ASSERT_EQ(args.size(), 2u);
  EXPECT_EQ(args[0].toTensor().item<float>(), 0);  // by position: the package's first input, y
  EXPECT_EQ(args[1].toTensor().item<float>(), 1);

  const std::map<std::string, at::Tensor> all = LocalizeInputs({"a", "b"}, features, inputs);
  EXPECT_EQ(all.size(), 4u);
  EXPECT_EQ(all.at("a").item<float>(), 0);
  EXPECT_EQ(all.at("b").item<float>(), 1);
  EXPECT_EQ(all.at("x").item<float>(), 1);
}

TEST(VerifyStepsTest, ForwardArgNamesSkipSelf) {
  torch::jit::Module m("TwoInputs");
  m.define(R"(
def forward(self, image, mask):
    return image * mask
)");
  EXPECT_EQ(ForwardArgNames(m), (std::vector<std::string>{"image", "mask"}));
}

TEST(VerifyStepsTest, ReadInputFilesRefusesUnknownNamesAndUnreadableFiles) {
  VerifyArgs a;
  a.input_files["z"] = "/nonexistent/z.npy";
  absl::StatusOr<std::map<std::string, at::Tensor>> r = ReadInputFiles(a, Features());
  EXPECT_EQ(ClassOf(r.status()), ErrorClass::kInputSpec);
  EXPECT_EQ(r.status().message(), "--input z: the package has no input 'z'");
  a.input_files.clear();
  a.input_files["x"] = "/nonexistent/x.npy";
  r = ReadInputFiles(a, Features());
  EXPECT_EQ(ClassOf(r.status()), ErrorClass::kInputSpec) << r.status();
  a.input_files.clear();
  r = ReadInputFiles(a, Features());
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(r->empty());
}

TEST(VerifyStepsTest, RelativeToPeakDividesByTheLargestMagnitude) {
  EXPECT_DOUBLE_EQ(RelativeToPeak(at::tensor({1.0f, -4.0f}), at::tensor({1.0f, -3.5f})), 0.125);
  EXPECT_TRUE(std::isinf(RelativeToPeak(at::tensor({1.0f}), at::tensor({NAN}))));
  EXPECT_EQ(RelativeToPeak(at::zeros({0}), at::zeros({0})), 0);
}

}  // namespace
}  // namespace ts2coreml::core
