// Plugins end to end, through the real CLI: custom ops known only from a plugin's declaration,
// `ts2coreml registry [show OP]`, overrides and conflicts, and broken plugins that never take the
// converter down. Test plugins are copied into private folders (tests/plugins/CMakeLists.txt).
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "core/base/json.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "registry/plugin_security.h"
#include "tests/plugins/plugin_test_util.h"

namespace ts2coreml::plugin_test {
namespace {

namespace fs = std::filesystem;
using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

fs::path Model(const std::string& name) {
  return fs::path(TS2COREML_CUSTOM_OP_MODELS_DIR) / (name + ".pt");
}

fs::path TestPlugin(const std::string& short_name) {
  return fs::path(TS2COREML_TEST_PLUGIN_LIB_DIR) / (short_name + ".so");
}

std::vector<std::string> ConvertArgs(const std::string& model, const fs::path& out,
                                     const std::vector<fs::path>& plugin_dirs,
                                     const std::vector<std::string>& extra = {}) {
  std::vector<std::string> args = {"convert", Model(model).string(), "-o", out.string(), "--input",
                                   "x:1x8"};
  for (const fs::path& d : plugin_dirs) {
    args.push_back("--plugin-dir");
    args.push_back(d.string());
  }
  args.insert(args.end(), extra.begin(), extra.end());
  return args;
}

/// "<maker script>:<line>" of the first line of make_custom_op_models.py containing `text`.
std::string SourceLineOf(const std::string& text) {
  std::ifstream in(TS2COREML_CUSTOM_OP_MAKER);
  std::string line;
  for (int n = 1; std::getline(in, line); ++n) {
    if (line.find(text) != std::string::npos) {
      return absl::StrCat(TS2COREML_CUSTOM_OP_MAKER, ":", n);
    }
  }
  ADD_FAILURE() << text << " is not in " << TS2COREML_CUSTOM_OP_MAKER;
  return "";
}

RunResult Cli(const std::vector<std::string>& args, const RunOptions& options = {}) {
  return RunCommand(TS2COREML_CLI, args, options);
}

json::Value ParseJson(const std::string& text) {
  absl::StatusOr<json::Value> v = json::Parse(text);
  EXPECT_TRUE(v.ok()) << v.status() << "\n" << text;
  return v.ok() ? *std::move(v) : json::Value();
}

/// The string member `key` of `v` ("" when missing).
std::string Str(const json::Value& v, const std::string& key) {
  const json::Value* m = v.Find(key);
  return m != nullptr ? m->string : "";
}

/// The element of array member `key` whose member `field` is `value`; null when none.
const json::Value* FindIn(const json::Value& v, const std::string& key, const std::string& field,
                          const std::string& value) {
  const json::Value* array = v.Find(key);
  if (array == nullptr) return nullptr;
  for (const json::Value& e : array->array) {
    if (Str(e, field) == value) return &e;
  }
  return nullptr;
}

std::vector<std::string> Strings(const json::Value* array) {
  std::vector<std::string> out;
  if (array != nullptr) {
    for (const json::Value& e : array->array) out.push_back(e.string);
  }
  return out;
}

class PluginE2eTest : public ::testing::Test {
 protected:
  /// A private plugin folder holding copies of the given test plugins.
  fs::path PluginDir(const std::string& name, const std::vector<std::string>& plugins) {
    const fs::path dir = scratch_.Subdir(name);
    for (const std::string& p : plugins) CopyInto(TestPlugin(p), dir);
    return dir;
  }
  fs::path Out(const std::string& name) { return scratch_ / (name + ".mlpackage"); }

  ScratchDir scratch_;
};

// --- custom ops ---------------------------------------------------------------------------------

TEST_F(PluginE2eTest, CustomOpDeclaredOnlyByATestPluginConverts) {
  const fs::path plugins = PluginDir("p", {"scale_shift"});
  RunResult r = Cli(ConvertArgs("scale_shift", Out("fp16"), {plugins}));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  // scale_shift(x, 2.0, 0.5) * x: the plugin's mul and add, then the model's mul.
  EXPECT_THAT(MainOpTypes(Out("fp16")), ElementsAre("cast", "mul", "add", "mul", "cast"));
  r = Cli(ConvertArgs("scale_shift", Out("fp32"), {plugins}, {"--precision", "fp32"}));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_THAT(MainOpTypes(Out("fp32")), ElementsAre("mul", "add", "mul"));
}

TEST_F(PluginE2eTest, CustomOpWithoutItsPluginIsAModelError) {
  // Nothing but the plugin declares t2ctest::scale_shift: without it LibTorch cannot load the file.
  RunResult r = Cli(ConvertArgs("scale_shift", Out("none"), {}));
  EXPECT_EQ(r.exit_code, 4) << r.output;
  EXPECT_THAT(r.output, AllOf(HasSubstr(Model("scale_shift").string()),
                              HasSubstr("Unknown builtin op: t2ctest::scale_shift")));
  EXPECT_FALSE(fs::exists(Out("none")));
}

// --- verify of a custom op ----------------------------------------------------------------------

/// Converts fancy_gelu.pt with the fancy_gelu plugin of `plugins` into `out`.
void ConvertFancyGelu(const fs::path& plugins, const fs::path& out) {
  RunResult r = Cli(ConvertArgs("fancy_gelu", out, {plugins}));
  ASSERT_EQ(r.exit_code, 0) << r.output;
}

/// The name of the package's only output, from `inspect --json`.
std::string OnlyOutputName(const fs::path& package) {
  RunResult r = Cli({"inspect", package.string(), "--json"});
  EXPECT_EQ(r.exit_code, 0) << r.output;
  const json::Value doc = ParseJson(r.output);
  const json::Value* outputs = doc.Find("outputs");
  if (outputs == nullptr || outputs->array.size() != 1) {
    ADD_FAILURE() << "not one output: " << r.output;
    return "";
  }
  return Str(outputs->array[0], "name");
}

std::vector<std::string> VerifyArgs(const fs::path& package, const fs::path& plugins,
                                    const std::vector<std::string>& extra) {
  std::vector<std::string> args = {"verify", Model("fancy_gelu").string(), package.string(),
                                   "--plugin-dir", plugins.string()};
  args.insert(args.end(), extra.begin(), extra.end());
  return args;
}

TEST_F(PluginE2eTest, VerifyOfACustomOpWithoutItsKernelNamesTheOpAndBothFlags) {
  const fs::path plugins = PluginDir("p", {"fancy_gelu"});
  ConvertFancyGelu(plugins, Out("fg"));
  RunResult r = Cli(VerifyArgs(Out("fg"), plugins, {}));
  EXPECT_EQ(r.exit_code, 4) << r.output;
  EXPECT_EQ(r.output.find('\n'), r.output.size() - 1) << "one line: " << r.output;
  EXPECT_THAT(r.output, AllOf(HasSubstr(Model("fancy_gelu").string()),
                              HasSubstr("mylib::fancy_gelu has no kernel"),
                              HasSubstr("--torch-library FILE.so"),
                              HasSubstr("--reference NAME=FILE.npy"), Not(HasSubstr("internal"))));
}

TEST_F(PluginE2eTest, VerifyRunsACustomOpWithItsTorchLibrary) {
  const fs::path plugins = PluginDir("p", {"fancy_gelu"});
  const fs::path lib = CopyInto(TestPlugin("fancy_gelu_op"), scratch_.Subdir("ops"));
  ConvertFancyGelu(plugins, Out("fg"));
  RunResult r = Cli(
      VerifyArgs(Out("fg"), plugins, {"--torch-library", lib.string(), "--runs", "2", "--json"}));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const json::Value doc = ParseJson(r.output);
  EXPECT_EQ(Str(doc, "reference"), "libtorch");
  ASSERT_NE(doc.Find("outputs"), nullptr);
  EXPECT_GT(doc.Find("outputs")->array.at(0).Find("cosine")->number, 0.999);
  // The library is checked like a plugin: a world-writable copy is refused, naming it (exit 6).
  const fs::path open = CopyInto(lib, scratch_.Subdir("open"), 0757);
  r = Cli(VerifyArgs(Out("fg"), plugins, {"--torch-library", open.string()}));
  EXPECT_EQ(r.exit_code, 6) << r.output;
  EXPECT_THAT(r.output,
              AllOf(HasSubstr("--torch-library " + open.string()), HasSubstr("is world-writable"),
                    HasSubstr("--allow-insecure-plugins")));
}

TEST_F(PluginE2eTest, VerifyComparesWithReferenceOutputsComputedElsewhere) {
  const fs::path plugins = PluginDir("p", {"fancy_gelu"});
  ConvertFancyGelu(plugins, Out("fg"));
  const std::string out = OnlyOutputName(Out("fg"));
  ASSERT_FALSE(out.empty());
  const fs::path dir = TS2COREML_CUSTOM_OP_MODELS_DIR;
  const std::string x = "x=" + (dir / "fancy_gelu_x.npy").string();
  // The Python kernel's outputs, computed by make_custom_op_models.py: within tolerance.
  RunResult r = Cli(
      VerifyArgs(Out("fg"), plugins,
                 {"--input", x, "--reference", out + "=" + (dir / "fancy_gelu_y.npy").string()}));
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr("(reference outputs from --reference)"));
  // Wrong references fail the check (exit 1), not the run.
  r = Cli(VerifyArgs(Out("fg"), plugins,
                     {"--input", x, "--reference",
                      out + "=" + (dir / "fancy_gelu_y_wrong.npy").string(), "--localize"}));
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_THAT(r.output, AllOf(HasSubstr("output '" + out + "' differs from its --reference"),
                              HasSubstr("localize: unavailable")));
  // Every input must be given, and every output needs a reference.
  r = Cli(VerifyArgs(Out("fg"), plugins,
                     {"--reference", out + "=" + (dir / "fancy_gelu_y.npy").string()}));
  EXPECT_EQ(r.exit_code, 5) << r.output;
  EXPECT_THAT(r.output, HasSubstr("give --input x=FILE.npy"));
  r = Cli(VerifyArgs(Out("fg"), plugins,
                     {"--input", x, "--reference", "nope=" + (dir / "fancy_gelu_y.npy").string()}));
  EXPECT_EQ(r.exit_code, 5) << r.output;
  EXPECT_THAT(r.output, HasSubstr("the package has no output 'nope' (outputs: " + out + ")"));
}

// The guide's lowerings beyond one tensor (examples/more_lowerings) convert, the weight of the
// needs_fp32_compute op stored fp16 and cast up, and agree with the Python kernels' outputs.
TEST_F(PluginE2eTest, GuideLoweringsConvertAndMatchThePythonKernels) {
  const fs::path plugins = PluginDir("p", {"more_lowerings"});
  const fs::path pkg = Out("more");
  RunResult r = Cli({"convert", Model("more_lowerings").string(), "-o", pkg.string(), "--input",
                     "x:1x4x16", "--plugin-dir", plugins.string()});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_THAT(r.output, AllOf(HasSubstr("1 weight fp16 -> fp32  (weight stored fp16; "
                                        "mylib::rms_norm computes in fp32"),
                              HasSubstr("mylib::min_max computes in fp16")));
  RunResult inspect = Cli({"inspect", pkg.string(), "--json"});
  ASSERT_EQ(inspect.exit_code, 0) << inspect.output;
  const json::Value doc = ParseJson(inspect.output);
  const json::Value* outputs = doc.Find("outputs");
  ASSERT_TRUE(outputs != nullptr && outputs->array.size() == 3) << inspect.output;
  const fs::path dir = TS2COREML_CUSTOM_OP_MODELS_DIR;
  std::vector<std::string> args = {"verify",
                                   Model("more_lowerings").string(),
                                   pkg.string(),
                                   "--plugin-dir",
                                   plugins.string(),
                                   "--input",
                                   "x=" + (dir / "more_lowerings_x.npy").string()};
  for (size_t k = 0; k < 3; ++k) {
    args.push_back("--reference");
    args.push_back(absl::StrCat(Str(outputs->array[k], "name"), "=",
                                (dir / absl::StrCat("more_lowerings_y", k, ".npy")).string()));
  }
  r = Cli(args);
  EXPECT_EQ(r.exit_code, 0) << r.output;
}

// --- registry queries ---------------------------------------------------------------------------

TEST_F(PluginE2eTest, RegistryListsPluginsAndLoweringsAsJson) {
  const fs::path plugins = PluginDir("p", {"scale_shift"});
  RunResult r = Cli({"registry", "--json", "--plugin-dir", plugins.string()});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const json::Value doc = ParseJson(r.output);
  EXPECT_EQ(doc.Find("abi_version")->number, 1);
  EXPECT_THAT(Strings(doc.Find("plugin_dirs")),
              ElementsAre(fs::path(TS2COREML_BUILTIN_PLUGIN_DIR).lexically_normal().string(),
                          plugins.string()));
  const json::Value* plugin = FindIn(doc, "plugins", "name", "t2ctest.scale_shift");
  ASSERT_NE(plugin, nullptr) << r.output;
  EXPECT_EQ(Str(*plugin, "version"), "0.3.1");
  EXPECT_EQ(Str(*plugin, "path"), fs::canonical(plugins / "scale_shift.so").string());
  EXPECT_EQ(plugin->Find("abi_version")->number, 1);
  EXPECT_EQ(plugin->Find("lowerings")->number, 1);
  EXPECT_NE(FindIn(doc, "plugins", "name", "ts2coreml.activation"), nullptr);
  EXPECT_TRUE(doc.Find("refused")->array.empty());
  EXPECT_TRUE(doc.Find("conflicts")->array.empty());

  const json::Value* lowering = FindIn(doc, "lowerings", "name", "scale_shift");
  ASSERT_NE(lowering, nullptr);
  EXPECT_EQ(Str(*lowering, "plugin"), "t2ctest.scale_shift");
  EXPECT_THAT(Strings(lowering->Find("ops")), ElementsAre("t2ctest::scale_shift"));
  EXPECT_THAT(Strings(lowering->Find("schemas")),
              ElementsAre("t2ctest::scale_shift(Tensor x, float a, float b) -> Tensor"));
  EXPECT_EQ(lowering->Find("priority")->number, 0);
  EXPECT_EQ(Str(*lowering, "fp16_policy"), "native");
  EXPECT_EQ(Str(*lowering, "infer_rule"), "same_as_input0");
  EXPECT_TRUE(lowering->Find("flags")->array.empty());
  const json::Value& inputs = *lowering->Find("inputs");
  ASSERT_EQ(inputs.array.size(), 3u);
  EXPECT_EQ(Str(inputs.array[0], "name"), "x");
  EXPECT_EQ(Str(inputs.array[0], "role"), "tensor");
  EXPECT_THAT(Strings(inputs.array[0].Find("dtypes")), ElementsAre("fp16", "fp32"));
  EXPECT_FALSE(inputs.array[0].Find("optional")->boolean);
  EXPECT_EQ(Str(inputs.array[2], "name"), "b");
  EXPECT_EQ(Str(inputs.array[2], "role"), "host");
  EXPECT_TRUE(inputs.array[2].Find("dtypes")->array.empty());

  // Passthrough and optional inputs of the built-ins show up too.
  const json::Value* gelu = FindIn(doc, "lowerings", "name", "gelu");
  ASSERT_NE(gelu, nullptr);
  EXPECT_TRUE(gelu->Find("inputs")->array.at(1).Find("optional")->boolean);

  // The same facts as text.
  r = Cli({"registry", "--plugin-dir", plugins.string()});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_THAT(r.output,
              AllOf(HasSubstr("t2ctest.scale_shift 0.3.1  ABI 1  1 lowerings  "),
                    HasSubstr("scale_shift (plugin t2ctest.scale_shift)"),
                    HasSubstr("schema: t2ctest::scale_shift(Tensor x, float a, float b) -> Tensor"),
                    HasSubstr("inputs: x: tensor fp16|fp32; a: host; b: host")));
}

TEST_F(PluginE2eTest, RegistryShowGivesOneOpAndExitCodes) {
  const fs::path plugins = PluginDir("p", {"scale_shift"});
  RunResult r =
      Cli({"registry", "show", "t2ctest::scale_shift", "--json", "--plugin-dir", plugins.string()});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  json::Value doc = ParseJson(r.output);
  EXPECT_EQ(Str(doc, "query"), "t2ctest::scale_shift");
  ASSERT_EQ(doc.Find("resolutions")->array.size(), 1u);
  const json::Value& res = doc.Find("resolutions")->array[0];
  EXPECT_EQ(Str(res, "op"), "t2ctest::scale_shift");
  EXPECT_EQ(Str(res, "status"), "ok");
  EXPECT_FALSE(res.Find("in_place_fallback")->boolean);
  EXPECT_EQ(Str(*res.Find("winner"), "plugin"), "t2ctest.scale_shift");
  ASSERT_EQ(res.Find("candidates")->array.size(), 1u);
  EXPECT_EQ(Str(res.Find("candidates")->array[0], "outcome"), "winner");

  // In-place variants fall back to the functional op.
  r = Cli({"registry", "show", "aten::relu_", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  doc = ParseJson(r.output);
  const json::Value& relu = doc.Find("resolutions")->array.at(0);
  EXPECT_EQ(Str(relu, "op"), "aten::relu");
  EXPECT_TRUE(relu.Find("in_place_fallback")->boolean);

  // A bare name lists every overload claimed on its own.
  r = Cli({"registry", "show", "aten::add"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_THAT(r.output, AllOf(HasSubstr("aten::add.Tensor\n"), HasSubstr("aten::add.Scalar\n")));

  r = Cli({"registry", "show", "t2ctest::scale_shift"});  // without the plugin
  EXPECT_EQ(r.exit_code, 3) << r.output;
  EXPECT_THAT(r.output, HasSubstr("t2ctest::scale_shift: no lowering for it"));
  EXPECT_EQ(Cli({"registry", "show", "relu"}).exit_code, 2);
  EXPECT_EQ(Cli({"registry", "show"}).exit_code, 2);
  EXPECT_EQ(Cli({"registry", "list"}).exit_code, 2);
  EXPECT_EQ(Cli({"registry", "--bogus"}).exit_code, 2);
}

// --- overrides and conflicts --------------------------------------------------------------------

TEST_F(PluginE2eTest, HigherPriorityOverridesTheBuiltinLowering) {
  RunResult r = Cli(ConvertArgs("plain", Out("builtin"), {}));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_THAT(MainOpTypes(Out("builtin")), ::testing::Contains("relu"));

  const fs::path plugins = PluginDir("p", {"relu_override"});
  r = Cli(ConvertArgs("plain", Out("override"), {plugins}));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const std::vector<std::string> ops = MainOpTypes(Out("override"));
  EXPECT_THAT(ops, ::testing::Contains("threshold"));
  EXPECT_THAT(ops, Not(::testing::Contains("relu")));

  r = Cli({"registry", "show", "aten::relu", "--json", "--plugin-dir", plugins.string()});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const json::Value doc = ParseJson(r.output);
  const json::Value& res = doc.Find("resolutions")->array.at(0);
  EXPECT_EQ(Str(*res.Find("winner"), "plugin"), "t2ctest.relu_override");
  const json::Value& candidates = *res.Find("candidates");
  ASSERT_EQ(candidates.array.size(), 2u);
  EXPECT_EQ(Str(candidates.array[0], "outcome"), "winner");
  EXPECT_EQ(candidates.array[0].Find("priority")->number, 10);
  EXPECT_EQ(Str(candidates.array[1], "plugin"), "ts2coreml.activation");
  EXPECT_EQ(Str(candidates.array[1], "outcome"), "lower_priority");
  EXPECT_THAT(Str(candidates.array[1], "reason"),
              HasSubstr("priority 0 is below priority 10 of 'relu_as_threshold'"));
}

TEST_F(PluginE2eTest, EqualPrioritiesAreAnErrorNamingBothPlugins) {
  const fs::path plugins = PluginDir("p", {"relu_tie", "scale_shift"});
  RunResult r = Cli(ConvertArgs("plain", Out("tie"), {plugins}));
  EXPECT_EQ(r.exit_code, 6) << r.output;
  EXPECT_THAT(r.output, AllOf(HasSubstr("conflicting lowerings for aten::relu"),
                              HasSubstr("plugin 't2ctest.relu_tie'"),
                              HasSubstr("plugin 'ts2coreml.activation'")));
  EXPECT_FALSE(fs::exists(Out("tie")));
  // A model that does not need the op converts.
  r = Cli(ConvertArgs("scale_shift", Out("ok"), {plugins}));
  EXPECT_EQ(r.exit_code, 0) << r.output;

  r = Cli({"registry", "show", "aten::relu", "--json", "--plugin-dir", plugins.string()});
  EXPECT_EQ(r.exit_code, 6) << r.output;
  EXPECT_EQ(Str(ParseJson(r.output.substr(0, r.output.find("ts2coreml: error:")))
                    .Find("resolutions")
                    ->array.at(0),
                "status"),
            "conflict");
  r = Cli({"registry", "--json", "--plugin-dir", plugins.string()});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const json::Value doc = ParseJson(r.output);
  ASSERT_EQ(doc.Find("conflicts")->array.size(), 1u);
  EXPECT_EQ(Str(doc.Find("conflicts")->array[0], "op"), "aten::relu");
}

// --- broken plugins -----------------------------------------------------------------------------

struct RefusedCase {
  std::string plugin;  ///< short name; "not_a_library" is a text file written by the test
  std::string reason;
  /// The refusal needs what the entry returns, so the library was loaded (its constructor ran);
  /// false: refused from the file alone, and none of its code may have run.
  bool loaded = false;
};

TEST_F(PluginE2eTest, EachBrokenPluginIsRefusedWithItsReasonAndOthersKeepWorking) {
  const std::vector<RefusedCase> cases = {
      {"not_a_library", "not a loadable plugin library"},
      {"no_entry", "does not export ts2coreml_plugin_entry"},
      {"null_entry", "does not export ts2coreml_plugin_entry (it is declared but not defined"},
      {"abi_too_new", "plugin ABI 42 is newer than this ts2coreml (ABI 1)"},
      {"abi_zero", "plugin declares ABI version 0, which is invalid"},
      {"struct_too_small", "t2c_plugin_info.struct_size is 16 bytes, expected at least"},
      {"header_mismatch",
       "ts2coreml_plugin_entry returned t2c_plugin_info has ABI 1 and struct_size 40 but "
       "ts2coreml_plugin_header declares ABI 1 and plugin_info_size 48",
       true},
      {"no_header_abi_too_new", "plugin ABI 42 is newer than this ts2coreml (ABI 1)", true},
      {"bad_dtype", "lowering 'broken' (#0): input 'x' has dtype bits outside", true},
      {"empty_schema", "lowering 'broken' (#0): schema #0 is empty", true},
      {"empty_op", "lowering 'broken' (#0): op #0 is empty", true},
  };
  for (const RefusedCase& c : cases) {
    SCOPED_TRACE(c.plugin);
    const fs::path plugins = PluginDir(c.plugin, {"scale_shift"});
    const fs::path bad = plugins / (c.plugin + ".so");
    if (c.plugin == "not_a_library") {
      std::ofstream(bad) << "this is not a shared library\n";
      fs::permissions(bad, fs::perms(0755));
    } else {
      CopyInto(TestPlugin(c.plugin), plugins);
    }
    const fs::path markers = scratch_.Subdir(c.plugin + "_markers");
    RunOptions with_markers;
    with_markers.env = {"T2C_TEST_MARKER_DIR=" + markers.string()};
    const std::string warning =
        absl::StrCat("ts2coreml: warning: plugin refused: ", bad.string(), ": ", c.reason);
    // The good plugin beside it keeps working.
    RunResult r = Cli(ConvertArgs("scale_shift", Out(c.plugin), {plugins}), with_markers);
    EXPECT_EQ(r.exit_code, 0) << r.output;
    EXPECT_THAT(r.output, HasSubstr(warning));
    EXPECT_EQ(MainOpTypes(Out(c.plugin)).size(), 5u);
    // The good plugin's constructor ran; the refused one's only if the refusal needed loading.
    EXPECT_TRUE(fs::exists(markers / "t2ctest.scale_shift"));
    EXPECT_EQ(fs::exists(markers / ("t2ctest.broken_" + c.plugin)), c.loaded)
        << (c.loaded ? "expected the library to be loaded" : "refused plugin code ran");
    // A model needing the op only the refused plugin declares fails, and nothing is written.
    r = Cli(ConvertArgs("broken_op", Out(c.plugin + "_broken"), {plugins}));
    EXPECT_EQ(r.exit_code, 4) << r.output;
    EXPECT_THAT(r.output,
                AllOf(HasSubstr(warning), HasSubstr("Unknown builtin op: t2ctest::broken")));
    EXPECT_FALSE(fs::exists(Out(c.plugin + "_broken")));
    // The registry reports it.
    r = Cli({"registry", "--json", "--plugin-dir", plugins.string()});
    ASSERT_EQ(r.exit_code, 0) << r.output;
    const json::Value doc = ParseJson(r.output);
    const json::Value* refused = FindIn(doc, "refused", "path", bad.string());
    ASSERT_NE(refused, nullptr) << r.output;
    EXPECT_THAT(Str(*refused, "reason"), HasSubstr(c.reason));
    EXPECT_NE(FindIn(doc, "plugins", "name", "t2ctest.scale_shift"), nullptr);
  }
}

TEST_F(PluginE2eTest, FirstLayoutPluginWithoutHeaderConverts) {
  // Built against the frozen first published plugin_abi.h (tests/plugins/abi_v1): no header
  // symbol, loaded as before, and it lowers the op the same way as today's scale_shift plugin.
  const fs::path plugins = scratch_.Subdir("v1");
  CopyInto(TS2COREML_V1_PLUGIN, plugins);
  RunResult r = Cli(ConvertArgs("scale_shift", Out("v1"), {plugins}));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_THAT(r.output, Not(HasSubstr("plugin refused")));
  EXPECT_THAT(MainOpTypes(Out("v1")), ElementsAre("cast", "mul", "add", "mul", "cast"));
  r = Cli({"registry", "show", "t2ctest::scale_shift", "--json", "--plugin-dir", plugins.string()});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const json::Value doc = ParseJson(r.output);
  EXPECT_EQ(Str(*doc.Find("resolutions")->array.at(0).Find("winner"), "plugin"),
            "t2ctest.scale_shift_v1");
}

TEST_F(PluginE2eTest, EachBrokenLoweringFailsNamingPluginOpAndSourceLine) {
  const std::vector<RefusedCase> cases = {
      {"reports_error", "failed: t2ctest: this lowering always reports an error"},
      {"throws", "failed: lower threw an exception across the plugin ABI"},
      // The opset check sees a wrong output type as the op is emitted, before it is bound.
      {"wrong_dtype",
       "emitted sigmoid declaring output 0 as fp32[1,8] where the table infers fp16[1,8]"},
      {"wrong_rank",
       "emitted sigmoid declaring output 0 as fp16[8] where the table infers fp16[1,8]"},
      {"undefined_var", "input 'x' names undefined var 424242"},
  };
  for (const RefusedCase& c : cases) {
    SCOPED_TRACE(c.plugin);
    const fs::path plugins = PluginDir(c.plugin, {c.plugin, "scale_shift"});
    RunResult r = Cli(ConvertArgs("broken_op", Out(c.plugin), {plugins}));
    EXPECT_EQ(r.exit_code, 6) << r.output;
    // "<model>.pt: t2ctest::broken at <make_custom_op_models.py>:45: plugin t2ctest.broken_throws
    // (lowering broken) ...": the model file and the Python line calling the op.
    EXPECT_THAT(
        r.output,
        AllOf(HasSubstr(absl::StrCat("ts2coreml: error: ", Model("broken_op").string(),
                                     ": t2ctest::broken at ",
                                     SourceLineOf("torch.ops.t2ctest.broken(x)"), ": ")),
              HasSubstr(absl::StrCat("plugin t2ctest.broken_", c.plugin)), HasSubstr(c.reason)))
        << r.output;
    EXPECT_FALSE(fs::exists(Out(c.plugin)));
    // The plugin loaded: models that do not need its op convert, with its neighbours' help.
    r = Cli(ConvertArgs("scale_shift", Out(c.plugin + "_ok"), {plugins}));
    EXPECT_EQ(r.exit_code, 0) << r.output;
    r = Cli(ConvertArgs("plain", Out(c.plugin + "_plain"), {plugins}));
    EXPECT_EQ(r.exit_code, 0) << r.output;
  }
}

TEST_F(PluginE2eTest, EachInvalidMilFailsNamingPluginAndInputAtFault) {
  // tests/plugins/broken/bad_mil_plugin.cpp: MIL Core ML would refuse, caught as it is emitted.
  const std::vector<RefusedCase> cases = {
      {"bad_mil_wrong_shape",
       "emitted relu declaring output 0 as fp16[8] where the table infers fp16[1,8]"},
      {"bad_mil_misspelled",
       "emitted reduce_mean with unknown input 'axis' (inputs: x, axes, keep_dims)"},
      {"bad_mil_unknown_op", "emitted rsqr, which is not an op of Core ML's opset"},
      {"bad_mil_mixed_dtypes",
       "emitted mul with input 'y' of dtype fp32 where 'x' is fp16 (x and y share T in {fp16, "
       "fp32, int32})"},
      {"bad_mil_float_for_int",
       "emitted split with input 'num_splits' of dtype fp32 (accepts int32)"},
  };
  for (const RefusedCase& c : cases) {
    SCOPED_TRACE(c.plugin);
    const fs::path plugins = PluginDir(c.plugin, {c.plugin, "scale_shift"});
    RunResult r = Cli(ConvertArgs("broken_op", Out(c.plugin), {plugins}));
    EXPECT_EQ(r.exit_code, 6) << r.output;
    EXPECT_THAT(r.output,
                AllOf(HasSubstr(absl::StrCat("ts2coreml: error: ", Model("broken_op").string(),
                                             ": t2ctest::broken at ",
                                             SourceLineOf("torch.ops.t2ctest.broken(x)"), ": ")),
                      HasSubstr(absl::StrCat("plugin t2ctest.", c.plugin, "/bad_mil ", c.reason)),
                      HasSubstr("docs/mil-ops.md")))
        << r.output;
    EXPECT_EQ(std::count(r.output.begin(), r.output.end(), '\n'), 1) << r.output;
    EXPECT_FALSE(fs::exists(Out(c.plugin)));
  }
}

TEST_F(PluginE2eTest, PluginsInTheCurrentDirectoryAreNeverLoaded) {
  const fs::path cwd = PluginDir("cwd", {"scale_shift"});
  RunOptions in_cwd;
  in_cwd.cwd = cwd;
  for (const std::vector<std::string>& env :
       {std::vector<std::string>{}, std::vector<std::string>{"TS2COREML_PLUGIN_PATH="},
        std::vector<std::string>{"TS2COREML_PLUGIN_PATH=::"}}) {
    in_cwd.env = env;
    RunResult r = Cli(ConvertArgs("scale_shift", Out("cwd"), {}), in_cwd);
    EXPECT_EQ(r.exit_code, 4) << r.output;
    EXPECT_FALSE(fs::exists(Out("cwd")));
    r = Cli({"registry", "--json"}, in_cwd);
    ASSERT_EQ(r.exit_code, 0) << r.output;
    EXPECT_EQ(FindIn(ParseJson(r.output), "plugins", "name", "t2ctest.scale_shift"), nullptr);
  }
  // Relative entries of TS2COREML_PLUGIN_PATH are skipped with a warning, never resolved against
  // the current directory.
  for (const std::string& entry : {".", "./", "../cwd"}) {
    SCOPED_TRACE(entry);
    in_cwd.env = {"TS2COREML_PLUGIN_PATH=/nonexistent:" + entry};
    RunResult r = Cli(ConvertArgs("scale_shift", Out("env_relative"), {}), in_cwd);
    EXPECT_EQ(r.exit_code, 4) << r.output;
    EXPECT_THAT(r.output,
                HasSubstr(absl::StrCat("ts2coreml: warning: TS2COREML_PLUGIN_PATH entry '", entry,
                                       "' is relative and is ignored")));
    EXPECT_FALSE(fs::exists(Out("env_relative")));
    r = Cli({"registry", "--json"}, in_cwd);
    ASSERT_EQ(r.exit_code, 0) << r.output;
    const json::Value doc = ParseJson(r.output);
    EXPECT_EQ(FindIn(doc, "plugins", "name", "t2ctest.scale_shift"), nullptr);
    EXPECT_THAT(Strings(doc.Find("warnings")),
                ::testing::Contains(HasSubstr("TS2COREML_PLUGIN_PATH entry '" + entry + "'")));
  }
  // Named explicitly, the same folder is searched.
  in_cwd.env = {};
  RunResult r = Cli(ConvertArgs("scale_shift", Out("named"), {"."}), in_cwd);
  EXPECT_EQ(r.exit_code, 0) << r.output;
}

// --- permissions, as an unprivileged user -------------------------------------------------------

/// Runs the CLI as `nobody` when the tests run as root (where no permission check can fail), from
/// a private copy of the CLI and its built-in plugins that `nobody` can read and execute.
class PluginPermissionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() == 0) options_.uid = kNobodyUid;
    const fs::path bin = scratch_.Subdir("inst/bin");
    const fs::path builtin = scratch_.Subdir("inst/lib/ts2coreml/plugins");
    scratch_.Subdir("inst/lib");
    const fs::path lib = scratch_.Subdir("inst/lib/ts2coreml");
    cli_ = CopyInto(TS2COREML_CLI, bin);
    // convert runs in the LibTorch commands' library beside the plugins
    // (core/cli/torch_commands.h).
    CopyInto(fs::path(TS2COREML_CLI).parent_path().parent_path() /
                 "lib/ts2coreml/libts2coreml_torch_commands.so",
             lib, 0644);
    for (const fs::directory_entry& e : fs::directory_iterator(TS2COREML_BUILTIN_PLUGIN_DIR)) {
      if (e.path().extension() == ".so") CopyInto(e.path(), builtin);
    }
    models_ = scratch_.Subdir("models");
    CopyInto(Model("scale_shift"), models_, 0644);
    out_ = scratch_.Subdir("out", 0755);
    Own(out_);
  }

  /// Gives `path` to the user the CLI runs as (when that is not us).
  void Own(const fs::path& path) {
    if (options_.uid.has_value()) {
      ASSERT_EQ(::chown(path.c_str(), *options_.uid, kNobodyGid), 0) << path;
    }
  }

  /// A plugin folder with mode `dir_mode` holding scale_shift.so with mode `file_mode`, both
  /// owned by the CLI's user.
  fs::path Plugin(const std::string& name, unsigned dir_mode, unsigned file_mode) {
    const fs::path dir = scratch_.Subdir(name, dir_mode);
    const fs::path file = CopyInto(TestPlugin("scale_shift"), dir, file_mode);
    Own(dir);
    Own(file);
    return dir;
  }

  RunResult Convert(const fs::path& plugins, const std::string& out, bool allow = false) {
    std::vector<std::string> args = {"convert",      (models_ / "scale_shift.pt").string(),
                                     "-o",           (out_ / (out + ".mlpackage")).string(),
                                     "--input",      "x:1x8",
                                     "--plugin-dir", plugins.string()};
    if (allow) args.push_back("--allow-insecure-plugins");
    return RunCommand(cli_.string(), args, options_);
  }

  /// The refusal warning for the plugin of folder `dir`, and its conversion without and with
  /// --allow-insecure-plugins.
  void ExpectRefusedUnlessAllowed(const fs::path& dir, const std::string& problem) {
    const std::string warning = absl::StrCat(
        "ts2coreml: warning: plugin refused: ", (dir / "scale_shift.so").string(), ": ");
    RunResult r = Convert(dir, dir.filename().string());
    EXPECT_EQ(r.exit_code, 4) << r.output;
    EXPECT_THAT(r.output, AllOf(HasSubstr(warning), HasSubstr(problem),
                                HasSubstr("or pass --allow-insecure-plugins")));
    r = Convert(dir, dir.filename().string() + "_allowed", /*allow=*/true);
    EXPECT_EQ(r.exit_code, 0) << r.output;
    EXPECT_THAT(r.output, Not(HasSubstr("plugin refused")));
  }

  ScratchDir scratch_;
  RunOptions options_;
  fs::path cli_;
  fs::path models_;
  fs::path out_;
};

TEST_F(PluginPermissionTest, RunsUnprivileged) {
  // As root the permission checks cannot fail: these tests must really drop privileges.
  RunResult r = RunCommand("/usr/bin/id", {"-u"}, options_);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output, "0\n") << "the permission tests must not run the CLI as root";
  if (options_.uid.has_value()) EXPECT_EQ(r.output, absl::StrCat(*options_.uid, "\n"));
}

TEST_F(PluginPermissionTest, SecurePluginLoads) {
  RunResult r = Convert(Plugin("secure", 0755, 0755), "secure");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_THAT(r.output, Not(HasSubstr("plugin refused")));
}

TEST_F(PluginPermissionTest, WorldWritableFileIsRefused) {
  ExpectRefusedUnlessAllowed(Plugin("file_o_w", 0755, 0757), "scale_shift.so is world-writable");
}

TEST_F(PluginPermissionTest, GroupWritableFileIsRefused) {
  ExpectRefusedUnlessAllowed(Plugin("file_g_w", 0755, 0775), "scale_shift.so is group-writable");
}

TEST_F(PluginPermissionTest, WorldWritableFolderIsRefused) {
  ExpectRefusedUnlessAllowed(Plugin("dir_o_w", 0757, 0755), "dir_o_w is world-writable");
}

TEST_F(PluginPermissionTest, GroupWritableFolderIsRefused) {
  ExpectRefusedUnlessAllowed(Plugin("dir_g_w", 0775, 0755), "dir_g_w is group-writable");
}

TEST_F(PluginPermissionTest, PluginOwnedByAnotherUserIsRefused) {
  const fs::path dir = Plugin("foreign", 0755, 0755);
  if (!options_.uid.has_value()) {
    // Not root: no file can be given away, so check the CLI's own rule with a foreign uid.
    EXPECT_THAT(registry::CheckPluginPermissions(dir / "scale_shift.so", ::geteuid() + 1).message(),
                HasSubstr("neither root nor the current user"));
    return;
  }
  ASSERT_EQ(::chown((dir / "scale_shift.so").c_str(), 12345, 12345), 0);
  ExpectRefusedUnlessAllowed(dir,
                             "scale_shift.so is owned by uid 12345, neither root nor the "
                             "current user (uid 65534)");
}

}  // namespace
}  // namespace ts2coreml::plugin_test
