// Op sweeps: every case of one family (tests/ops/families/<family>.py, made by
// make_op_models.py) converted in each of its precisions and verified against LibTorch, all in
// this one process (LibTorch and the plugins load once). The family is TS2COREML_OP_FAMILY (a
// file name of tests/ops/families/, or in_context_models for tests/models/in_context_models.py);
// TS2COREML_OP_CASE, when set, runs only the cases whose name contains it.
#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <iterator>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "core/cli/convert_command.h"
#include "core/cli/verify_command.h"
#include "core/mil/package_reader.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/e2e/cli_runner.h"
#include "tests/e2e/package_surgery.h"

namespace ts2coreml {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

/// One forward() argument of a case, as cases.json lists it.
struct SweepInput {
  std::string name, dtype, npy;
  std::vector<int64_t> shape;
};

/// One case of cases.json.
struct SweepCase {
  std::string name, model;
  std::vector<SweepInput> inputs;
  std::vector<std::string> precisions;
  std::optional<std::string> refuse;
};

std::vector<SweepCase> ReadCases(const fs::path& file) {
  std::ifstream in(file);
  const nlohmann::json j = nlohmann::json::parse(in);
  std::vector<SweepCase> cases;
  for (const auto& c : j.at("cases")) {
    SweepCase s{c.at("name"), c.at("model"), {}, c.at("precisions"), std::nullopt};
    if (!c.at("refuse").is_null()) s.refuse = c.at("refuse").get<std::string>();
    for (const auto& i : c.at("inputs")) {
      s.inputs.push_back({i.at("name"), i.at("dtype"), i.at("npy"), i.at("shape")});
    }
    cases.push_back(std::move(s));
  }
  return cases;
}

/// Runs `command` with standard output and error going to a file; returns its exit code and
/// sets `*printed` to what it printed.
int RunCaptured(const std::function<int()>& command, std::string* printed) {
  std::fflush(nullptr);
  std::cout.flush();
  std::cerr.flush();
  char path[] = "/tmp/ts2coreml-sweep-XXXXXX";
  const int fd = mkstemp(path);
  const int saved_out = dup(1), saved_err = dup(2);
  dup2(fd, 1);
  dup2(fd, 2);
  const int code = command();
  std::fflush(nullptr);
  std::cout.flush();
  std::cerr.flush();
  dup2(saved_out, 1);
  dup2(saved_err, 2);
  close(saved_out);
  close(saved_err);
  close(fd);
  std::ifstream in(path);
  printed->assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  unlink(path);
  return code;
}

/// `--input` of convert: NAME:SHAPE, with :DTYPE unless fp32.
std::string ShapeFlag(const SweepInput& i) {
  std::string flag = absl::StrCat(i.name, ":", absl::StrJoin(i.shape, "x"));
  if (i.dtype != "fp32") absl::StrAppend(&flag, ":", i.dtype);
  return flag;
}

/// What one conversion of one case came to; empty when it is as the case expects.
std::string RunCase(const fs::path& dir, const SweepCase& c, const std::string& precision,
                    const fs::path& work) {
  const fs::path model = dir / c.model;
  const fs::path package = work / absl::StrCat(c.name, "_", precision, ".mlpackage");
  std::vector<std::string> convert = {model.string(),      "-o",      package.string(),
                                      "--precision",       precision, "--plugin-dir",
                                      TS2COREML_PLUGIN_DIR};
  std::vector<std::string> verify = {model.string(), package.string(), "--plugin-dir",
                                     TS2COREML_PLUGIN_DIR};
  for (const SweepInput& i : c.inputs) {
    convert.insert(convert.end(), {"--input", ShapeFlag(i)});
    verify.insert(verify.end(), {"--input", absl::StrCat(i.name, "=", (dir / i.npy).string())});
  }
  std::string printed;
  const int code = RunCaptured([&] { return core::RunConvert(convert); }, &printed);
  if (c.refuse) {
    if (code == 0) return "converted, but the case expects a refusal naming '" + *c.refuse + "'";
    if (printed.find(*c.refuse) == std::string::npos) {
      return "refused without naming '" + *c.refuse + "':\n" + printed;
    }
    if (fs::exists(package)) return "refused, but left " + package.string();
    return "";
  }
  if (code != 0) return absl::StrCat("convert exited ", code, ":\n", printed);
  const int verified = RunCaptured([&] { return core::RunVerify(verify); }, &printed);
  fs::remove_all(package);
  if (verified != 0) return absl::StrCat("verify exited ", verified, ":\n", printed);
  return "";
}

TEST(OpSweep, EveryCaseConvertsAndVerifiesOrIsRefusedByName) {
  const char* family = std::getenv("TS2COREML_OP_FAMILY");
  ASSERT_NE(family, nullptr) << "set TS2COREML_OP_FAMILY to a file name of tests/ops/families/";
  const char* only = std::getenv("TS2COREML_OP_CASE");
  const fs::path dir = fs::path(TS2COREML_OP_MODELS_DIR) / family;
  const std::vector<SweepCase> cases = ReadCases(dir / "cases.json");
  ASSERT_FALSE(cases.empty()) << dir;
  testing::TempDir work;
  int runs = 0, failures = 0;
  for (const SweepCase& c : cases) {
    if (only != nullptr && c.name.find(only) == std::string::npos) continue;
    for (const std::string& precision : c.precisions) {
      ++runs;
      const std::string failure = RunCase(dir, c, precision, work.path());
      if (failure.empty()) continue;
      ++failures;
      ADD_FAILURE() << family << "/" << c.name << " (" << precision << "): " << failure;
    }
  }
  std::cout << family << ": " << runs - failures << " of " << runs << " conversions as expected\n";
  EXPECT_GT(runs, 0);
}

// ---- verify --localize inside control flow (registered with the control_flow family only) -------

/// The control_flow family's scripted `rnn_indexed_input` converted in fp32: 40 trips of
/// h = tanh(h @ w + x[i]) with w [8, 8], a while_loop.
class LocalizeInLoopTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string printed;
    ASSERT_EQ(RunCaptured(
                  [&] {
                    return core::RunConvert({model_.string(), "-o", pkg_.string(), "--input",
                                             "x:40x8", "--plugin-dir", TS2COREML_PLUGIN_DIR});
                  },
                  &printed),
              0)
        << printed;
  }

  /// verify --localize --json with `extra` flags: its exit code and JSON report.
  nlohmann::json Localize(const std::vector<std::string>& extra, int* code) {
    std::vector<std::string> args = {model_.string(),      pkg_.string(), "--plugin-dir",
                                     TS2COREML_PLUGIN_DIR, "--localize",  "--json"};
    args.insert(args.end(), extra.begin(), extra.end());
    std::string printed;
    *code = RunCaptured([&] { return core::RunVerify(args); }, &printed);
    const size_t begin = printed.find('{');
    const size_t end = printed.rfind('}');
    if (begin == std::string::npos || end == std::string::npos) return {{"printed", printed}};
    return nlohmann::json::parse(printed.substr(begin, end - begin + 1), nullptr, false);
  }

  testing::TempDir work_;
  fs::path model_ = fs::path(TS2COREML_OP_MODELS_DIR) / "control_flow" / "rnn_indexed_input.pt";
  fs::path pkg_ = work_.path() / "loop.mlpackage";
};

TEST_F(LocalizeInLoopTest, ComparesTheBodyOnTheFirstTrip) {
  int code = 0;
  const nlohmann::json r =
      Localize({"--min-cosine", "1", "--max-abs-error", "0"}, &code);  // forces it
  EXPECT_EQ(code, 1) << r.dump();
  const nlohmann::json& loc = r["localize"];
  ASSERT_TRUE(loc.is_object()) << r.dump();
  EXPECT_TRUE(loc["first_jump"].is_null()) << loc.dump();
  std::set<std::string> torch_ops;
  for (const auto& v : loc["values"]) torch_ops.insert(v["torch_op"].get<std::string>());
  EXPECT_EQ(torch_ops.count("aten::matmul"), 1u) << loc.dump();
  EXPECT_EQ(torch_ops.count("aten::tanh"), 1u) << loc.dump();
  EXPECT_EQ(torch_ops.count("prim::Loop"), 1u) << loc.dump();
}

TEST_F(LocalizeInLoopTest, NamesTheCorruptedWeightsReaderInsideTheBody) {
  absl::StatusOr<mil::Package> pkg = mil::ReadPackage(pkg_);
  ASSERT_TRUE(pkg.ok()) << pkg.status();
  absl::StatusOr<const CoreML::Specification::MILSpec::Block*> main = mil::MainBlock(*pkg);
  ASSERT_TRUE(main.ok()) << main.status();
  const CoreML::Specification::MILSpec::Operation* w = nullptr;
  for (const auto& op : (*main)->operations()) {
    if (op.type() == "const" && op.outputs(0).type().tensortype().dimensions_size() == 2) w = &op;
  }
  ASSERT_NE(w, nullptr) << "no [8, 8] const in the package";
  ASSERT_TRUE(testing::CorruptConst(*pkg, *w));
  int code = 0;
  const nlohmann::json r = Localize({}, &code);
  EXPECT_EQ(code, 1) << r.dump();
  const nlohmann::json& jump = r["localize"]["first_jump"];
  ASSERT_TRUE(jump.is_object()) << r.dump();
  EXPECT_EQ(jump["torch_op"], "aten::matmul") << jump.dump();
  EXPECT_NE(jump["op_type"], "while_loop") << jump.dump();
}

}  // namespace
}  // namespace ts2coreml
