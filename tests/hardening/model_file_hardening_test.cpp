// Crafted model files (made at test time by make_hostile_models.py from a real saved model) given
// to `convert` and `verify`: each must end in exit 4 with one line naming the file and the
// problem, within the time and memory limits of hostile_run.h, with the model file and an
// existing output left as they were. The real models the generator also writes must convert.
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "tests/hardening/hostile_run.h"
#include "tests/plugins/plugin_test_util.h"

namespace ts2coreml::hardening {
namespace {

namespace fs = std::filesystem;
using plugin_test::RunResult;
using plugin_test::ScratchDir;

constexpr int kModel = 4;

fs::path Hostile(const std::string& name) {
  return fs::path(TS2COREML_HOSTILE_MODELS) / (name + ".pt");
}

std::string ReadFile(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

struct Case {
  const char* file;
  const char* problem;  ///< a fragment of the error line that names what is wrong
};

// Item by item: weights that reach past their storage, pickles and code that crash LibTorch's
// unpickler and parser, and zip containers LibTorch would read without checking.
const Case kCases[] = {
    {"record_short", "storage '0' declares 432 bytes but its record holds 216"},
    {"record_empty", "storage '0' declares 432 bytes but its record holds 0"},
    {"numel_too_big", "storage '0' declares 4000 bytes but its record holds 432"},
    {"sizes_past_storage", "a tensor reaches element 215 of a storage of 108 elements"},
    {"huge_offset", "a tensor reaches element 1099511627883 of a storage of 108"},
    {"huge_stride", "a tensor reaches element 3298534883354 of a storage of 108"},
    {"negative_stride", "sizes and strides must be non-negative"},
    {"negative_offset", "negative storage offset -1"},
    {"zero_stride_big_size", "repeats the 108 elements of its storage"},
    {"pickle_tuple3", "'archive/data.pkl': at byte 4: TUPLE3 needs 3 values"},
    {"pickle_reduce_empty", "REDUCE needs 2 values above the last mark; there are 0"},
    {"pickle_build_empty", "BUILD needs 2 values above the last mark; there are 0"},
    {"pickle_nested_tuples", "containers nest more than 1000 deep"},
    {"pickle_marks", "more than 1000 MARKs open"},
    {"pickle_memo_far", "memo index 4294967280 skips ahead"},
    {"pickle_many_values", "more than 2000000 values held at once"},
    {"pickle_self_list", "fills a container after it was memoized"},
    {"constants_bad", "'archive/constants.pkl': at byte 4: TUPLE3"},
    {"debug_pkl_bad", ".debug_pkl': at byte 2: REDUCE needs 2 values"},
    {"code_parens", "brackets and chained operators nest more than 200 deep"},
    {"code_plus_chain", "brackets and chained operators nest more than 200 deep"},
    {"code_elif_chain", "blocks and elif chains nest more than 100 deep"},
    {"code_nested_blocks", "blocks and elif chains nest more than 100 deep"},
    {"zip_bomb", "inflates to 1073741824 bytes"},
    {"crc_mismatch", "entry 'archive/data/0' fails its CRC-32 check"},
    {"duplicate_entry", "entry 'archive/data/0' appears twice in the archive"},
    {"sizes_disagree", "local and central headers state different sizes"},
    {"case_duplicate", "'archive/data/0' and 'archive/DATA/0' differ only in letter case"},
    {"code_case_renamed", "brackets and chained operators nest more than 200 deep"},
    {"fake_end_record", "a second end record inside its comment"},
};

class CraftedModel : public ::testing::TestWithParam<Case> {};

TEST_P(CraftedModel, ConvertRefusesItAndLeavesEveryFileAsItWas) {
  const fs::path model = Hostile(GetParam().file);
  const std::string before = ReadFile(model);
  ASSERT_FALSE(before.empty()) << model;
  // An existing output package, given with --force: a refused conversion must not touch it.
  ScratchDir out;
  const fs::path package = out / "out.mlpackage";
  fs::create_directories(package);
  std::ofstream(package / "Manifest.json") << "{}";
  std::ofstream(package / "marker") << "kept";
  const RunResult r = RunHostile(TS2COREML_CLI, {"convert", model.string(), "-o", package.string(),
                                                 "--input", "x:1x3x8x8", "--force"});
  EXPECT_TRUE(Refused(r, kModel, model.string(), before.size()));
  EXPECT_NE(r.output.find(GetParam().problem), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("save the model again"), std::string::npos) << r.output;
  EXPECT_EQ(ReadFile(model), before);
  EXPECT_EQ(ReadFile(package / "marker"), "kept");
  std::vector<fs::path> left;
  for (const fs::directory_entry& e : fs::directory_iterator(out.path())) left.push_back(e.path());
  EXPECT_EQ(left, std::vector<fs::path>{package});
}

INSTANTIATE_TEST_SUITE_P(Hostile, CraftedModel, ::testing::ValuesIn(kCases),
                         [](const ::testing::TestParamInfo<Case>& info) {
                           return std::string(info.param.file);
                         });

// `verify` loads the model through the same checks.
TEST(CraftedModelVerify, VerifyRefusesACraftedModel) {
  ScratchDir out;
  const fs::path package = out / "good.mlpackage";
  const RunResult made = RunHostile(TS2COREML_CLI, {"convert", Hostile("good").string(), "-o",
                                                    package.string(), "--input", "x:1x3x8x8"});
  ASSERT_EQ(made.exit_code, 0) << made.output;
  const fs::path model = Hostile("pickle_tuple3");
  const RunResult r = RunHostile(TS2COREML_CLI, {"verify", model.string(), package.string()});
  EXPECT_TRUE(Refused(r, kModel, model.string(), fs::file_size(model)));
  EXPECT_NE(r.output.find("TUPLE3 needs 3 values"), std::string::npos) << r.output;
}

// The pre-checks' bounds let real models through: the unchanged model, and one whose module tree
// is 150 nn.Sequential deep (its pickle nests far deeper than any torchvision model's).
TEST(CraftedModelVerify, RealModelsStillConvert) {
  for (const auto& [name, input] :
       {std::pair{"good", "x:1x3x8x8"}, std::pair{"deep_sequential", "input:1x3x8x8"}}) {
    SCOPED_TRACE(name);
    ScratchDir out;
    // No kill timer: a valid model may take its time on a loaded machine.
    const RunResult r =
        plugin_test::RunCommand(TS2COREML_CLI, {"convert", Hostile(name).string(), "-o",
                                                (out / "m.mlpackage").string(), "--input", input});
    EXPECT_EQ(r.exit_code, 0) << r.output;
  }
}

}  // namespace
}  // namespace ts2coreml::hardening
