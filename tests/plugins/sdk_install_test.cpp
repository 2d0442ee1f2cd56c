// The SDK as a plugin author gets it (docs/plugin-guide.md): `cmake --install` into a fresh prefix,
// examples/fancy_gelu_plugin configured and built against it as a separate CMake project, its
// fake-host unit test run, and the installed CLI converting a model that calls mylib::fancy_gelu
// with the plugin loaded through --plugin-dir.
#include <filesystem>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "core/base/json.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/plugins/plugin_test_util.h"

namespace ts2coreml::plugin_test {
namespace {

namespace fs = std::filesystem;
using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

/// Configures and builds examples/fancy_gelu_plugin in `build` against the SDK installed at
/// `prefix` (a separate project that knows nothing of this source tree), then runs its fake-host
/// unit test, the guide's.
void BuildExampleAndRunItsTest(const fs::path& prefix, const fs::path& build) {
  RunResult r = RunCommand(
      TS2COREML_CMAKE_COMMAND,
      {"-S", TS2COREML_EXAMPLE_DIR, "-B", build.string(), "-G", TS2COREML_CMAKE_GENERATOR,
       absl::StrCat("-DCMAKE_MAKE_PROGRAM=", TS2COREML_MAKE_PROGRAM),
       absl::StrCat("-DCMAKE_CXX_COMPILER=", TS2COREML_CXX_COMPILER),
       absl::StrCat("-DCMAKE_PREFIX_PATH=", prefix.string()), "-DCMAKE_BUILD_TYPE=Release"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  r = RunCommand(TS2COREML_CMAKE_COMMAND, {"--build", build.string()});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  r = RunCommand((build / "fancy_gelu_test").string(), {});
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr("all checks passed"));
}

TEST(SdkInstallTest, ExamplePluginBuildsAgainstTheInstalledSdkAndConverts) {
  ScratchDir scratch;
  const fs::path prefix = scratch / "prefix";
  const fs::path build = scratch / "example-build";

  RunResult r = RunCommand(TS2COREML_CMAKE_COMMAND,
                           {"--install", TS2COREML_BUILD_DIR, "--prefix", prefix.string()});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  for (const char* file : {"include/ts2coreml/plugin_abi.h", "include/ts2coreml/sdk.h",
                           "include/ts2coreml/mil_opset.h", "include/ts2coreml/mil_validate.h",
                           "include/ts2coreml/testing/fake_host.h",
                           "lib/cmake/ts2coreml_sdk/ts2coreml_sdkConfig.cmake",
                           "lib/cmake/ts2coreml_sdk/ts2coreml_sdkConfigVersion.cmake",
                           "lib/cmake/ts2coreml_sdk/plugin_exports.map", "bin/ts2coreml",
                           "lib/ts2coreml/libts2coreml_torch_commands.so"}) {
    EXPECT_TRUE(fs::exists(prefix / file)) << file;
  }
  EXPECT_FALSE(fs::is_empty(prefix / "lib/ts2coreml/plugins"));

  BuildExampleAndRunItsTest(prefix, build);
  if (HasFatalFailure()) return;

  // The installed CLI finds its built-in plugins next to itself and the example via --plugin-dir.
  const std::string cli = (prefix / "bin/ts2coreml").string();
  const fs::path plugins = build / "plugins";
  const fs::path out = scratch / "fancy.mlpackage";
  r = RunCommand(
      cli, {"convert", (fs::path(TS2COREML_CUSTOM_OP_MODELS_DIR) / "fancy_gelu.pt").string(), "-o",
            out.string(), "--input", "x:1x8", "--plugin-dir", plugins.string()});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr("mylib::fancy_gelu computes in fp16"));
  // fancy_gelu(x) + 1: the plugin's mul, sigmoid, mul, then the model's add, between casts.
  EXPECT_THAT(MainOpTypes(out), ElementsAre("cast", "mul", "sigmoid", "mul", "add", "cast"));

  r = RunCommand(
      cli, {"registry", "show", "mylib::fancy_gelu", "--json", "--plugin-dir", plugins.string()});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  absl::StatusOr<json::Value> doc = json::Parse(r.output);
  ASSERT_TRUE(doc.ok()) << doc.status() << r.output;
  const json::Value* winner = doc->Find("resolutions")->array.at(0).Find("winner");
  ASSERT_NE(winner, nullptr);
  EXPECT_EQ(winner->Find("plugin")->string, "mylib.fancy_gelu");
  EXPECT_EQ(winner->Find("schemas")->array.at(0).string, "mylib::fancy_gelu(Tensor x) -> Tensor");

  r = RunCommand(cli, {"registry"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_THAT(r.output, AllOf(HasSubstr((prefix / "lib/ts2coreml/plugins").string()),
                              HasSubstr("ts2coreml.activation")));
}

// The SDK alone (docs/plugin-guide.md): configured with every heavy dependency disabled, so a
// find_package of LibTorch, protobuf, Boost, abseil or GoogleTest would fail the configure; the
// example plugin and its fake-host test build against what it installs.
TEST(SdkInstallTest, SdkOnlyConfigureNeedsNoLibTorchAndTheExampleBuildsAgainstIt) {
  ScratchDir scratch;
  const fs::path sdk_build = scratch / "sdk-build";
  const fs::path prefix = scratch / "sdk-prefix";
  const fs::path build = scratch / "example-build";
  std::vector<std::string> configure = {
      "-S",
      TS2COREML_SOURCE_DIR,
      "-B",
      sdk_build.string(),
      "-G",
      TS2COREML_CMAKE_GENERATOR,
      absl::StrCat("-DCMAKE_MAKE_PROGRAM=", TS2COREML_MAKE_PROGRAM),
      "-DTS2COREML_SDK_ONLY=ON"};
  for (const char* package : {"Torch", "Protobuf", "Boost", "absl", "GTest"}) {
    configure.push_back(absl::StrCat("-DCMAKE_DISABLE_FIND_PACKAGE_", package, "=ON"));
  }
  RunResult r = RunCommand(TS2COREML_CMAKE_COMMAND, configure);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  r = RunCommand(TS2COREML_CMAKE_COMMAND,
                 {"--install", sdk_build.string(), "--prefix", prefix.string()});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_TRUE(fs::exists(prefix / "include/ts2coreml/sdk.h"));
  EXPECT_FALSE(fs::exists(prefix / "bin/ts2coreml")) << "the SDK-only install holds no CLI";

  BuildExampleAndRunItsTest(prefix, build);
}

}  // namespace
}  // namespace ts2coreml::plugin_test
