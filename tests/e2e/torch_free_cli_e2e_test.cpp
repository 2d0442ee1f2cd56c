// The commands that never read TorchScript (help, version, registry, inspect) run without the
// LibTorch commands' library and map no LibTorch; convert, coverage and verify load it
// (core/cli/torch_commands.h) and, when it is missing or refused, say so in one line naming it.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "absl/strings/str_split.h"
#include "tests/e2e/cli_runner.h"
#include "tests/hardening/package_corruptions.h"

namespace ts2coreml {
namespace {

namespace fs = std::filesystem;
using testing::CliResult;
using ::testing::HasSubstr;
using ::testing::Not;
using testing::RunProgram;
using ::testing::StartsWith;
using testing::TempDir;

constexpr int kInternal = 10;

/// A copy of the CLI's install tree: bin/ts2coreml, lib/ts2coreml/plugins and, when asked, the
/// LibTorch commands' library; plus a valid package to inspect.
struct Install {
  explicit Install(bool with_library) {
    fs::permissions(dir.path(), fs::perms(0755));
    fs::create_directories(dir / "bin");
    fs::create_directories(dir / "lib/ts2coreml");
    fs::copy_file(TS2COREML_CLI, cli);
    fs::permissions(cli, fs::perms(0755));
    fs::copy(TS2COREML_PLUGIN_DIR, dir / "lib/ts2coreml/plugins", fs::copy_options::recursive);
    if (with_library) {
      fs::copy_file(TS2COREML_TORCH_COMMANDS_LIBRARY, library);
      fs::permissions(library, fs::perms(0644));
    }
    EXPECT_TRUE(testing::WriteValidPackage(package).ok());
  }
  TempDir dir;
  const fs::path cli = dir / "bin/ts2coreml";
  const fs::path library = dir / "lib/ts2coreml/libts2coreml_torch_commands.so";
  const fs::path package = dir / "ok.mlpackage";
};

std::vector<std::string> Lines(const std::string& text) {
  return absl::StrSplit(text, '\n', absl::SkipEmpty());
}

TEST(TorchFreeCliE2E, CommandsThatReadNoTorchScriptRunWithoutTheLibrary) {
  Install install(/*with_library=*/false);
  ASSERT_FALSE(fs::exists(install.library));
  const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
      {{"version"}, "plugin ABI"},
      {{"help"}, "convert MODEL.pt"},
      {{"help", "verify"}, "verify MODEL.pt PKG.mlpackage"},
      {{"registry"}, "ts2coreml.activation"},
      {{"registry", "show", "aten::relu"}, "aten::relu"},
      {{"inspect", install.package.string()}, "linear"},
      {{"inspect", install.package.string(), "--check"}, "valid"},
  };
  for (const auto& [args, expected] : cases) {
    CliResult r = RunProgram(install.cli.string(), args);
    EXPECT_EQ(r.exit_code, 0) << args[0] << ": " << r.output;
    EXPECT_THAT(r.output, HasSubstr(expected)) << args[0];
  }
}

TEST(TorchFreeCliE2E, TorchScriptCommandsWithoutTheLibrarySayWhatToDo) {
  Install install(/*with_library=*/false);
  const std::string model = (install.dir / "m.pt").string();
  for (const std::vector<std::string>& args : std::vector<std::vector<std::string>>{
           {"convert", model, "-o", (install.dir / "m.mlpackage").string(), "--input", "x:1x3"},
           {"coverage", model},
           {"verify", model, install.package.string()}}) {
    CliResult r = RunProgram(install.cli.string(), args);
    EXPECT_EQ(r.exit_code, kInternal) << r.output;
    const std::vector<std::string> lines = Lines(r.output);
    ASSERT_EQ(lines.size(), 1u) << r.output;
    EXPECT_THAT(lines[0], StartsWith("ts2coreml: error: " + install.library.string() +
                                     ": cannot load the convert, coverage and verify commands: "));
    EXPECT_THAT(lines[0], HasSubstr("reinstall ts2coreml"));
  }
  EXPECT_FALSE(fs::exists(install.dir / "m.mlpackage"));
}

TEST(TorchFreeCliE2E, AWorldWritableLibraryIsRefusedUnlessInsecurePluginsAreAllowed) {
  Install install(/*with_library=*/true);
  fs::permissions(install.library, fs::perms(0666));
  CliResult refused = RunProgram(install.cli.string(), {"coverage", "--help"});
  EXPECT_EQ(refused.exit_code, kInternal) << refused.output;
  EXPECT_THAT(refused.output, HasSubstr(install.library.string() + " is world-writable"));
  ASSERT_EQ(Lines(refused.output).size(), 1u) << refused.output;
  CliResult allowed =
      RunProgram(install.cli.string(), {"coverage", "--help", "--allow-insecure-plugins"});
  EXPECT_EQ(allowed.exit_code, 0) << allowed.output;
  EXPECT_THAT(allowed.output, HasSubstr("coverage MODEL.pt"));
}

// The dynamic loader's own account (LD_DEBUG=files names every library it maps): the
// torch-free commands map no LibTorch; a LibTorch command does (so the check can fail).
TEST(TorchFreeCliE2E, OnlyTheTorchScriptCommandsMapLibTorch) {
  Install install(/*with_library=*/true);
  const std::vector<std::string> debug = {"LD_DEBUG=files"};
  for (const std::vector<std::string>& args : std::vector<std::vector<std::string>>{
           {"version"}, {"help"}, {"registry"}, {"inspect", install.package.string()}}) {
    CliResult r = RunProgram(install.cli.string(), args, debug);
    EXPECT_EQ(r.exit_code, 0) << r.output;
    EXPECT_THAT(r.output, HasSubstr("file=libprotobuf")) << "LD_DEBUG gave no account";
    EXPECT_THAT(r.output, Not(HasSubstr("libtorch"))) << args[0];
    EXPECT_THAT(r.output, Not(HasSubstr("libc10"))) << args[0];
  }
  CliResult convert_help = RunProgram(install.cli.string(), {"coverage", "--help"}, debug);
  EXPECT_EQ(convert_help.exit_code, 0) << convert_help.output;
  EXPECT_THAT(convert_help.output, HasSubstr("file=libtorch_cpu.so"));
  EXPECT_THAT(convert_help.output, HasSubstr("file=libc10.so"));
}

}  // namespace
}  // namespace ts2coreml
