// Reproducible output: every model of the coverage list (every NAME.pt + NAME.json that
// tests/models/make_models.py wrote into the test models folder) converted twice, in two processes
// and to two different output paths with the same flags, gives byte-identical package trees. A
// model that does not convert (yet) must fail the same way twice and leave nothing behind.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "core/base/json.h"
#include "gtest/gtest.h"
#include "tests/e2e/cli_runner.h"

namespace ts2coreml::testing {
namespace {

namespace fs = std::filesystem;

struct TestModel {
  std::string name;
  fs::path file;
  std::string shape;  // "1x3x224x224"
};

std::vector<TestModel> ListModels(std::string* error) {
  std::vector<TestModel> models;
  std::error_code ec;
  for (const fs::directory_entry& e : fs::directory_iterator(TS2COREML_TEST_MODELS_DIR, ec)) {
    if (e.path().extension() != ".json") continue;
    fs::path pt = e.path();
    pt.replace_extension(".pt");
    if (!fs::exists(pt)) continue;
    std::ifstream in(e.path());
    std::stringstream text;
    text << in.rdbuf();
    absl::StatusOr<json::Value> facts = json::Parse(text.str());
    const json::Value* shape = facts.ok() ? facts->Find("input_shape") : nullptr;
    if (shape == nullptr || shape->kind != json::Value::Kind::kArray) {
      *error = absl::StrCat(e.path().string(), ": no input_shape array");
      return {};
    }
    std::vector<std::string> dims;
    for (const json::Value& d : shape->array) dims.push_back(absl::StrCat(d.number));
    models.push_back({e.path().stem().string(), pt, absl::StrJoin(dims, "x")});
  }
  if (ec) *error = absl::StrCat(TS2COREML_TEST_MODELS_DIR, ": ", ec.message());
  std::sort(models.begin(), models.end(),
            [](const TestModel& a, const TestModel& b) { return a.name < b.name; });
  return models;
}

// Every file below `root`, relative, sorted.
std::vector<std::string> Files(const fs::path& root) {
  std::vector<std::string> files;
  for (const fs::directory_entry& e : fs::recursive_directory_iterator(root)) {
    files.push_back(fs::relative(e.path(), root).string() + (e.is_directory() ? "/" : ""));
  }
  std::sort(files.begin(), files.end());
  return files;
}

// "" when both trees hold the same files with the same bytes; else what differs. Streams the
// files: packages of the larger models are hundreds of MB.
std::string CompareTrees(const fs::path& a, const fs::path& b) {
  const std::vector<std::string> fa = Files(a), fb = Files(b);
  if (fa != fb) {
    return absl::StrCat("different files: [", absl::StrJoin(fa, ", "), "] vs [",
                        absl::StrJoin(fb, ", "), "]");
  }
  if (fa.size() < 3) return absl::StrCat("only ", fa.size(), " entries in ", a.string());
  for (const std::string& f : fa) {
    if (f.back() == '/') continue;
    std::ifstream ia(a / f, std::ios::binary), ib(b / f, std::ios::binary);
    std::vector<char> ba(1 << 20), bb(1 << 20);
    uint64_t offset = 0;
    while (ia && ib) {
      ia.read(ba.data(), static_cast<std::streamsize>(ba.size()));
      ib.read(bb.data(), static_cast<std::streamsize>(bb.size()));
      if (ia.gcount() != ib.gcount() ||
          !std::equal(ba.begin(), ba.begin() + ia.gcount(), bb.begin())) {
        return absl::StrCat(f, " differs in the MiB at offset ", offset);
      }
      offset += static_cast<uint64_t>(ia.gcount());
    }
  }
  return "";
}

// The models the converter has converted since its first version; they must keep converting.
const std::set<std::string> kMustConvert = {"mobilenet_v3_large", "mobilenet_v2", "resnet18",
                                            "mobilenet_v3_large_half", "bn_after_concat"};

TEST(Determinism, EveryTestModelGivesByteIdenticalPackages) {
  std::string error;
  const std::vector<TestModel> models = ListModels(&error);
  ASSERT_TRUE(error.empty()) << error;
  std::set<std::string> names;
  for (const TestModel& m : models) names.insert(m.name);
  for (const std::string& must : kMustConvert) {
    ASSERT_EQ(names.count(must), 1u) << must << " is missing from " << TS2COREML_TEST_MODELS_DIR;
  }
  int converted = 0;
  for (const TestModel& m : models) {
    SCOPED_TRACE(m.name);
    TempDir dir;
    fs::create_directories(dir / "one");
    fs::create_directories(dir / "two");
    const fs::path a = dir / "one" / "a.mlpackage";
    const fs::path b = dir / "two" / "b.mlpackage";
    std::string input = "x";
    auto convert = [&](const fs::path& out) {
      return RunProgram(TS2COREML_CLI, {"convert", m.file.string(), "-o", out.string(), "--input",
                                        input + ":" + m.shape, "--precision", "fp16"});
    };
    CliResult ra = convert(a);
    // The facts give the shape, not the argument name (torchvision segmentation models take
    // `input`); the CLI lists forward()'s arguments when a name does not fit.
    const std::string marker = "the model's inputs are: ";
    if (const size_t at = ra.output.find(marker); ra.exit_code == 5 && at != std::string::npos) {
      input = ra.output.substr(at + marker.size());
      input = input.substr(0, input.find_first_of(", \n"));
      ra = convert(a);
    }
    const CliResult rb = convert(b);
    ASSERT_EQ(ra.exit_code, rb.exit_code) << ra.output << "\n---\n" << rb.output;
    if (ra.exit_code != 0) {
      EXPECT_EQ(kMustConvert.count(m.name), 0u) << ra.output;
      // The same failure, reported the same way, and nothing written.
      EXPECT_EQ(absl::StrReplaceAll(ra.output, {{a.string(), "OUT"}}),
                absl::StrReplaceAll(rb.output, {{b.string(), "OUT"}}));
      EXPECT_TRUE(Entries(dir / "one").empty()) << absl::StrJoin(Entries(dir / "one"), ", ");
      EXPECT_TRUE(Entries(dir / "two").empty()) << absl::StrJoin(Entries(dir / "two"), ", ");
      continue;
    }
    ++converted;
    const std::string diff = CompareTrees(a, b);
    EXPECT_TRUE(diff.empty()) << diff;
    // Only the package itself lands in each folder (no temporary or backup copies).
    EXPECT_EQ(Entries(dir / "one"), std::vector<std::string>{"a.mlpackage"});
    EXPECT_EQ(Entries(dir / "two"), std::vector<std::string>{"b.mlpackage"});
  }
  EXPECT_GE(converted, static_cast<int>(kMustConvert.size()));
}

}  // namespace
}  // namespace ts2coreml::testing
