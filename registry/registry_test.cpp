#include "registry/registry.h"

#include <dlfcn.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "registry/plugin_security.h"
#include "registry/test_support.h"

namespace ts2coreml::registry {
namespace {

namespace fs = std::filesystem;
using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::StartsWith;

/// Every test plugin the build produced, by file name.
const std::vector<fs::path>& AllTestPlugins() {
  static const std::vector<fs::path> kPlugins = {
      TEST_PLUGIN_GOOD,         TEST_PLUGIN_OVERRIDE,      TEST_PLUGIN_CONFLICT_A,
      TEST_PLUGIN_CONFLICT_B,   TEST_PLUGIN_BAD_DTYPE,     TEST_PLUGIN_TOO_NEW_ABI,
      TEST_PLUGIN_SMALL_STRUCT, TEST_PLUGIN_NO_ENTRY,      TEST_PLUGIN_NULL_ENTRY,
      TEST_PLUGIN_EMPTY_OP,     TEST_PLUGIN_FUTURE_STRUCT, TEST_PLUGIN_UNRESOLVED};
  return kPlugins;
}

std::vector<std::string> Names(const std::vector<const Lowering*>& lowerings) {
  std::vector<std::string> names;
  for (const Lowering* l : lowerings) names.push_back(l->name);
  return names;
}

std::vector<std::string> PluginNames(const Registry& registry) {
  std::vector<std::string> names;
  for (const PluginInfo& p : registry.plugins()) names.push_back(p.name);
  return names;
}

/// The lowering's name, or the error text.
std::string Winner(const Registry& registry, std::string_view name, std::string_view overload) {
  absl::StatusOr<const Lowering*> found = registry.Find(name, overload);
  if (!found.ok()) return std::string(found.status().message());
  return (*found)->name;
}

/// Plugins are copied into a private temp directory first, so that the tests do not depend on the
/// permissions of the build tree.
class RegistryTest : public ::testing::Test {
 protected:
  /// A registry with the given test plugins loaded from their private copies.
  /// Each call copies into a new subdirectory: overwriting a library that is still loaded (by an
  /// earlier registry of the same test) would corrupt its mapped code.
  Registry LoadCopies(const std::vector<fs::path>& plugins, LoadOptions options = {}) {
    Registry registry(options);
    const fs::path copies = dir_.Subdir(absl::StrCat("copies", ++num_copies_));
    for (const fs::path& plugin : plugins) {
      absl::Status s = registry.LoadFile(dir_.CopyIn(plugin, "", copies));
      EXPECT_TRUE(s.ok()) << s;
    }
    return registry;
  }

  /// Loads one copied plugin that must be refused; returns the one refusal reason.
  std::string RefusalOf(const fs::path& plugin) {
    Registry registry;
    const fs::path copy = dir_.CopyIn(plugin);
    absl::Status s = registry.LoadFile(copy);
    EXPECT_FALSE(s.ok());
    EXPECT_THAT(registry.plugins(), IsEmpty());
    EXPECT_THAT(registry.lowerings(), IsEmpty());
    EXPECT_THAT(registry.ClaimedOps(), IsEmpty());
    if (registry.refused().size() != 1) {
      ADD_FAILURE() << "expected one refusal, got " << registry.refused().size();
      return "";
    }
    const RefusedPlugin& refused = registry.refused()[0];
    EXPECT_EQ(refused.path, copy);
    EXPECT_THAT(refused.reason, StartsWith(copy.string() + ": "));
    EXPECT_EQ(refused.reason.find('\n'), std::string::npos) << refused.reason;
    EXPECT_EQ(s.message(), refused.reason);
    return refused.reason;
  }

  TempDir dir_;
  int num_copies_ = 0;
};

TEST_F(RegistryTest, GoodPluginLoadsWithEveryFieldCopied) {
  Registry registry = LoadCopies({TEST_PLUGIN_GOOD});
  EXPECT_THAT(registry.refused(), IsEmpty());
  ASSERT_EQ(registry.plugins().size(), 1u);
  const PluginInfo& plugin = registry.plugins()[0];
  EXPECT_EQ(plugin.name, "test_good");
  EXPECT_EQ(plugin.version, "1.2.3");
  EXPECT_EQ(plugin.abi_version, T2C_ABI_VERSION);
  EXPECT_EQ(plugin.path, fs::canonical(dir_.path() / "copies1" / "good.so"));

  EXPECT_THAT(Names(registry.lowerings()),
              ElementsAre("relu", "add", "add_scalar", "softmax", "batch_norm", "identity", "cat",
                          "fancy_gelu"));
  for (const Lowering* l : registry.lowerings()) {
    EXPECT_EQ(l->plugin, &registry.plugins()[0]);
    EXPECT_EQ(l->plugin_index, 0u);
  }

  absl::StatusOr<const Lowering*> relu = registry.Find("aten::relu", "");
  ASSERT_TRUE(relu.ok()) << relu.status();
  EXPECT_EQ((*relu)->name, "relu");
  EXPECT_EQ((*relu)->plugin->name, "test_good");
  EXPECT_EQ((*relu)->fp16_policy, T2C_FP16_NATIVE);
  EXPECT_EQ((*relu)->infer_rule, T2C_INFER_SAME_AS_INPUT0);
  EXPECT_NE((*relu)->lower, nullptr);
  ASSERT_EQ((*relu)->inputs.size(), 1u);
  EXPECT_EQ((*relu)->inputs[0].name, "self");
  EXPECT_EQ((*relu)->inputs[0].dtypes, T2C_MASK_FLOAT);

  const Lowering* softmax = *registry.Find("aten::softmax", "int");
  EXPECT_EQ(softmax->fp16_policy, T2C_FP16_NEEDS_FP32_COMPUTE);
  EXPECT_EQ(softmax->infer_rule, T2C_INFER_CUSTOM);
  EXPECT_NE(softmax->infer, nullptr);
  EXPECT_EQ(softmax->inputs[2].role, T2C_ROLE_IGNORED);

  const Lowering* bn = *registry.Find("aten::batch_norm", "");
  EXPECT_EQ(bn->fp16_policy, T2C_FP16_FP32_PARAMS);
  ASSERT_EQ(bn->inputs.size(), 9u);
  EXPECT_EQ(bn->inputs[1].role, T2C_ROLE_PARAM);
  EXPECT_TRUE(bn->inputs[1].optional());
  EXPECT_EQ(bn->inputs[5].role, T2C_ROLE_HOST);

  EXPECT_EQ((*registry.Find("aten::cat", ""))->inputs[0].role, T2C_ROLE_TENSOR_LIST);
  EXPECT_EQ((*registry.Find("aten::add", "Tensor"))->inputs[0].dtypes, T2C_MASK_FLOAT_INT);
  EXPECT_THAT(registry.CustomSchemas(), ElementsAre("testns::fancy_gelu(Tensor x) -> Tensor"));
  EXPECT_EQ(Winner(registry, "testns::fancy_gelu", ""), "fancy_gelu");
  EXPECT_THAT(registry.ClaimedOps(),
              ElementsAre("aten::add", "aten::add.Scalar", "aten::batch_norm", "aten::cat",
                          "aten::contiguous", "aten::dropout", "aten::relu", "aten::softmax.int",
                          "aten::sub", "testns::fancy_gelu"));
  EXPECT_THAT(registry.conflicts(), IsEmpty());
  EXPECT_THAT(registry.warnings(), IsEmpty());
}

/// A host that records what a lowering emits, to run plugin callbacks without the core.
struct FakeNode {
  std::vector<std::string> emitted;
  std::vector<t2c_var> outputs;
  std::string failure;
};

t2c_host_api FakeHostApi() {
  t2c_host_api api{};
  api.struct_size = sizeof(api);
  api.abi_version = T2C_ABI_VERSION;
  api.node_kind = [](t2c_context*) -> const char* { return "aten::relu"; };
  api.input_var = [](t2c_context*, uint32_t i, t2c_var* out) -> t2c_status {
    *out = static_cast<t2c_var>(i + 1);
    return T2C_OK;
  };
  api.output_type = [](t2c_context*, uint32_t, t2c_tensor_type* out) -> t2c_status {
    *out = {};
    out->dtype = T2C_DTYPE_FP16;
    out->rank = 1;
    out->dims[0] = 3;
    return T2C_OK;
  };
  api.emit = [](t2c_context* ctx, const char* op_type, const t2c_named_arg*, uint32_t,
                const t2c_tensor_type*, uint32_t num_outputs, t2c_var* out_vars) -> t2c_status {
    auto* node = reinterpret_cast<FakeNode*>(ctx);
    node->emitted.push_back(op_type);
    for (uint32_t k = 0; k < num_outputs; ++k) out_vars[k] = static_cast<t2c_var>(100 + k);
    return T2C_OK;
  };
  api.set_output = [](t2c_context* ctx, uint32_t, t2c_var var) -> t2c_status {
    reinterpret_cast<FakeNode*>(ctx)->outputs.push_back(var);
    return T2C_OK;
  };
  api.fail = [](t2c_context* ctx, const char* message) {
    reinterpret_cast<FakeNode*>(ctx)->failure = message;
  };
  return api;
}

TEST_F(RegistryTest, CallbacksStayValidAcrossMoves) {
  Registry loaded = LoadCopies({TEST_PLUGIN_GOOD, TEST_PLUGIN_OVERRIDE});
  const Lowering* before = *loaded.Find("aten::relu", "");
  Registry moved = std::move(loaded);
  Registry assigned;
  assigned = std::move(moved);
  absl::StatusOr<const Lowering*> relu = assigned.Find("aten::relu", "");
  ASSERT_TRUE(relu.ok()) << relu.status();
  EXPECT_EQ(*relu, before);
  EXPECT_EQ((*relu)->plugin, &assigned.plugins()[1]);

  const t2c_host_api api = FakeHostApi();
  FakeNode node;
  EXPECT_EQ((*relu)->lower(&api, reinterpret_cast<t2c_context*>(&node), (*relu)->user_data), T2C_OK)
      << node.failure;
  EXPECT_THAT(node.emitted, ElementsAre("fast_relu"));
  EXPECT_THAT(node.outputs, ElementsAre(100));

  FakeNode add_node;
  const Lowering* add = *assigned.Find("aten::sub", "Tensor");
  EXPECT_EQ(add->lower(&api, reinterpret_cast<t2c_context*>(&add_node), add->user_data), T2C_OK);
  EXPECT_THAT(add_node.emitted, ElementsAre("add"));
}

TEST_F(RegistryTest, ExactOverloadBeatsBareNameAtEqualPriority) {
  Registry registry = LoadCopies({TEST_PLUGIN_GOOD});
  EXPECT_EQ(Winner(registry, "aten::add", "Scalar"), "add_scalar");
  EXPECT_EQ(Winner(registry, "aten::add", "Tensor"), "add");
  EXPECT_EQ(Winner(registry, "aten::add", ""), "add");
  EXPECT_EQ((*registry.Find("aten::add.Scalar"))->name, "add_scalar");
  EXPECT_EQ((*registry.Find("aten::add"))->name, "add");
  // An exact claim covers one overload only.
  EXPECT_EQ(Winner(registry, "aten::softmax", "int"), "softmax");
  EXPECT_EQ(Winner(registry, "aten::softmax", "Dimname"), "no lowering for aten::softmax.Dimname");
  EXPECT_EQ(Winner(registry, "aten::softmax", ""), "no lowering for aten::softmax");
}

TEST_F(RegistryTest, InPlaceVariantsFallBackToFunctionalOps) {
  Registry registry = LoadCopies({TEST_PLUGIN_GOOD});
  EXPECT_EQ(Winner(registry, "aten::relu_", ""), "relu");
  EXPECT_EQ(Winner(registry, "aten::add_", "Tensor"), "add");
  EXPECT_EQ(Winner(registry, "aten::add_", "Scalar"), "add_scalar");
  EXPECT_EQ(Winner(registry, "aten::sigmoid_", ""), "no lowering for aten::sigmoid_");
  // Dunder names are not in-place variants.
  EXPECT_EQ(Winner(registry, "aten::__relu__", ""), "no lowering for aten::__relu__");
}

TEST_F(RegistryTest, NotFoundNamesTheOp) {
  Registry registry = LoadCopies({TEST_PLUGIN_GOOD});
  absl::StatusOr<const Lowering*> found = registry.Find("aten::foo", "");
  EXPECT_EQ(found.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(found.status().message(), "no lowering for aten::foo");
  EXPECT_EQ(registry.Find("aten::foo", "bar").status().message(), "no lowering for aten::foo.bar");
  EXPECT_EQ(Registry().Find("aten::relu", "").status().code(), absl::StatusCode::kNotFound);
}

TEST_F(RegistryTest, HigherPriorityOverridesInAnyLoadOrder) {
  for (const auto& order : {std::vector<fs::path>{TEST_PLUGIN_GOOD, TEST_PLUGIN_OVERRIDE},
                            std::vector<fs::path>{TEST_PLUGIN_OVERRIDE, TEST_PLUGIN_GOOD}}) {
    Registry registry = LoadCopies(order);
    EXPECT_EQ(Winner(registry, "aten::relu", ""), "fast_relu");
    EXPECT_EQ((*registry.Find("aten::relu", ""))->plugin->name, "test_override");
    // Priority comes before specificity: a bare claim at 5 beats an exact claim at 0.
    EXPECT_EQ(Winner(registry, "aten::add", "Scalar"), "add_high");
    EXPECT_EQ(Winner(registry, "aten::add", "Tensor"), "add_high");
    EXPECT_EQ(Winner(registry, "aten::sub", "Tensor"), "add");
    EXPECT_EQ(Winner(registry, "aten::relu_", ""), "fast_relu");
    EXPECT_THAT(registry.conflicts(), IsEmpty());
  }
}

TEST_F(RegistryTest, PassthroughOpsFollowPriorities) {
  Registry good = LoadCopies({TEST_PLUGIN_GOOD});
  EXPECT_THAT(good.PassthroughOps(), ElementsAre("aten::contiguous", "aten::dropout"));
  const Lowering* dropout = *good.Find("aten::dropout", "");
  EXPECT_TRUE(dropout->passthrough());
  EXPECT_EQ(dropout->lower, nullptr);

  Registry overridden = LoadCopies({TEST_PLUGIN_GOOD, TEST_PLUGIN_OVERRIDE});
  EXPECT_THAT(overridden.PassthroughOps(), ElementsAre("aten::contiguous"));
  EXPECT_FALSE((*overridden.Find("aten::dropout", ""))->passthrough());
}

TEST_F(RegistryTest, EqualClaimsConflictAndNameBothPlugins) {
  Registry registry =
      LoadCopies({TEST_PLUGIN_CONFLICT_A, TEST_PLUGIN_CONFLICT_B, TEST_PLUGIN_GOOD});
  absl::StatusOr<const Lowering*> found = registry.Find("aten::sigmoid", "");
  EXPECT_EQ(found.status().code(), absl::StatusCode::kFailedPrecondition);
  const std::string a = fs::canonical(dir_.path() / "copies1" / "conflict_a.so").string();
  const std::string b = fs::canonical(dir_.path() / "copies1" / "conflict_b.so").string();
  EXPECT_EQ(found.status().message(),
            absl::StrCat("conflicting lowerings for aten::sigmoid: 'sigmoid_a' from plugin "
                         "'test_conflict_a' (",
                         a, ") and 'sigmoid_b' from plugin 'test_conflict_b' (", b,
                         ") both claim it with priority 0; change the priority of one of them "
                         "(or remove a plugin)"));
  // The in-place variant reaches the same conflict; other ops are unaffected.
  EXPECT_EQ(registry.Find("aten::sigmoid_", "").status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(Winner(registry, "aten::relu", ""), "relu");

  ASSERT_EQ(registry.conflicts().size(), 1u);
  const Conflict& conflict = registry.conflicts()[0];
  EXPECT_EQ(conflict.op, "aten::sigmoid");
  EXPECT_EQ(conflict.first->plugin->name, "test_conflict_a");
  EXPECT_EQ(conflict.second->plugin->name, "test_conflict_b");
  EXPECT_EQ(conflict.message, found.status().message());
}

TEST_F(RegistryTest, ExplainGivesEveryCandidateAndWhyItLost) {
  Registry registry = LoadCopies({TEST_PLUGIN_GOOD, TEST_PLUGIN_OVERRIDE});
  // aten::add.Scalar: add_high (bare, 5) beats add_scalar (exact, 0) and add (bare, 0).
  absl::StatusOr<OpResolution> add = registry.Explain("aten::add.Scalar");
  ASSERT_TRUE(add.ok()) << add.status();
  EXPECT_EQ(add->claimed_op, "aten::add.Scalar");
  EXPECT_FALSE(add->in_place_fallback);
  ASSERT_NE(add->winner, nullptr);
  EXPECT_EQ(add->winner->name, "add_high");
  EXPECT_TRUE(add->conflict.empty());
  ASSERT_EQ(add->candidates.size(), 3u);
  EXPECT_EQ(add->candidates[0].lowering->name, "add_high");
  EXPECT_EQ(add->candidates[0].outcome, CandidateOutcome::kWinner);
  EXPECT_EQ(add->candidates[0].claim, "aten::add");
  EXPECT_EQ(add->candidates[1].lowering->name, "add_scalar");
  EXPECT_EQ(add->candidates[1].outcome, CandidateOutcome::kLowerPriority);
  EXPECT_TRUE(add->candidates[1].exact);
  EXPECT_THAT(add->candidates[1].reason,
              HasSubstr("priority 0 is below priority 5 of 'add_high' from plugin"));
  EXPECT_EQ(add->candidates[2].lowering->name, "add");
  EXPECT_EQ(CandidateOutcomeName(add->candidates[2].outcome), "lower_priority");

  // Without the override: exact beats bare at equal priority.
  Registry good = LoadCopies({TEST_PLUGIN_GOOD});
  absl::StatusOr<OpResolution> scalar = good.Explain("aten::add.Scalar");
  ASSERT_TRUE(scalar.ok()) << scalar.status();
  ASSERT_EQ(scalar->candidates.size(), 2u);
  EXPECT_EQ(scalar->candidates[0].lowering->name, "add_scalar");
  EXPECT_EQ(scalar->candidates[1].outcome, CandidateOutcome::kLessSpecific);
  EXPECT_THAT(scalar->candidates[1].reason, HasSubstr("claims the overload aten::add.Scalar"));

  // An overload nobody names exactly is answered by the bare claim; in-place falls back.
  absl::StatusOr<OpResolution> relu = registry.Explain("aten::relu_");
  ASSERT_TRUE(relu.ok()) << relu.status();
  EXPECT_TRUE(relu->in_place_fallback);
  EXPECT_EQ(relu->claimed_op, "aten::relu");
  EXPECT_EQ(relu->winner, *registry.Find("aten::relu_"));
  EXPECT_EQ(registry.Explain("aten::foo").status().message(), "no lowering for aten::foo");
}

TEST_F(RegistryTest, ExplainReportsConflictsWithBothCandidates) {
  Registry registry = LoadCopies({TEST_PLUGIN_CONFLICT_A, TEST_PLUGIN_CONFLICT_B});
  absl::StatusOr<OpResolution> sigmoid = registry.Explain("aten::sigmoid");
  ASSERT_TRUE(sigmoid.ok()) << sigmoid.status();
  EXPECT_EQ(sigmoid->winner, nullptr);
  EXPECT_EQ(sigmoid->conflict, registry.conflicts()[0].message);
  ASSERT_EQ(sigmoid->candidates.size(), 2u);
  EXPECT_EQ(sigmoid->candidates[0].outcome, CandidateOutcome::kConflict);
  EXPECT_EQ(sigmoid->candidates[1].outcome, CandidateOutcome::kConflict);
}

TEST_F(RegistryTest, TooNewAbiIsRefused) {
  EXPECT_THAT(RefusalOf(TEST_PLUGIN_TOO_NEW_ABI),
              HasSubstr("plugin ABI 7 is newer than this ts2coreml (ABI 1); rebuild the plugin "
                        "against this ts2coreml's SDK or upgrade ts2coreml"));
}

TEST_F(RegistryTest, TooSmallStructIsRefused) {
  EXPECT_THAT(RefusalOf(TEST_PLUGIN_SMALL_STRUCT),
              HasSubstr("t2c_lowering_decl.struct_size is 16 bytes, expected at least"));
}

TEST_F(RegistryTest, MissingEntrySymbolIsRefused) {
  EXPECT_THAT(RefusalOf(TEST_PLUGIN_NO_ENTRY),
              HasSubstr("does not export ts2coreml_plugin_entry; is it a ts2coreml plugin?"));
}

TEST_F(RegistryTest, NullEntryResultIsRefused) {
  EXPECT_THAT(RefusalOf(TEST_PLUGIN_NULL_ENTRY), HasSubstr("ts2coreml_plugin_entry returned null"));
}

TEST_F(RegistryTest, StringDtypeIsRefusedNamingTheLowering) {
  EXPECT_THAT(RefusalOf(TEST_PLUGIN_BAD_DTYPE),
              HasSubstr("lowering 'copy' (#1): input 'self' has dtype bits outside "
                        "bool|fp16|fp32|int32: string"));
}

TEST_F(RegistryTest, EmptyOpNameIsRefusedNamingTheLowering) {
  EXPECT_THAT(RefusalOf(TEST_PLUGIN_EMPTY_OP),
              HasSubstr("lowering 'nothing' (#1): op #0 is empty"));
}

TEST_F(RegistryTest, UnresolvedSymbolFailsAtLoadTime) {
  EXPECT_THAT(RefusalOf(TEST_PLUGIN_UNRESOLVED),
              AllOf(HasSubstr("not a loadable plugin library"),
                    HasSubstr("undefined symbol: t2c_test_symbol_that_does_not_exist")));
}

TEST_F(RegistryTest, TextFileNamedSoIsRefused) {
  // Longer than an ELF header, so that the loader reads it as one and rejects it.
  const fs::path text = dir_.WriteFile(
      "bad.so", std::string(20, '\n') + "not a library\n" + std::string(100, 'x') + "\n");
  Registry registry;
  absl::Status s = registry.LoadFile(text);
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  ASSERT_EQ(registry.refused().size(), 1u);
  EXPECT_THAT(registry.refused()[0].reason,
              AllOf(StartsWith(text.string() + ": not a loadable plugin library: "),
                    HasSubstr("invalid ELF header")));
}

TEST_F(RegistryTest, MissingFileAndDirectoryAreRefused) {
  Registry registry;
  EXPECT_EQ(registry.LoadFile(dir_.path() / "missing.so").code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(registry.LoadFile(dir_.Subdir("dir.so")).code(), absl::StatusCode::kInvalidArgument);
  ASSERT_EQ(registry.refused().size(), 2u);
  EXPECT_THAT(registry.refused()[0].reason, HasSubstr("missing.so: cannot read the plugin file"));
  EXPECT_THAT(registry.refused()[1].reason, HasSubstr("dir.so: not a regular file"));
}

TEST_F(RegistryTest, FutureLayoutLoadsWithItsOwnStride) {
  Registry registry = LoadCopies({TEST_PLUGIN_FUTURE_STRUCT});
  ASSERT_THAT(PluginNames(registry), ElementsAre("test_future"));
  EXPECT_THAT(Names(registry.lowerings()), ElementsAre("relu_future", "tanh_future", "exp_future"));
  EXPECT_EQ(Winner(registry, "aten::tanh", ""), "tanh_future");
  EXPECT_EQ(Winner(registry, "aten::exp", ""), "exp_future");
  const Lowering* tanh = *registry.Find("aten::tanh", "");
  ASSERT_NE(tanh->user_data, nullptr);
  EXPECT_EQ(*static_cast<const int*>(tanh->user_data), 42);
  EXPECT_EQ((*registry.Find("aten::relu", ""))->user_data, nullptr);
}

TEST_F(RegistryTest, DirectoryLoadKeepsGoodPluginsAndRefusesBadOnes) {
  for (const fs::path& plugin : AllTestPlugins()) dir_.CopyIn(plugin);
  dir_.WriteFile("bad.so", "not a library");
  dir_.WriteFile("README.txt", "ignored");
  dir_.CopyIn(TEST_PLUGIN_GOOD, "libgood.so.1");  // not named *.so: ignored
  dir_.Subdir("subdir.so");                       // a directory: ignored
  fs::path nested = dir_.Subdir("nested");
  dir_.CopyIn(TEST_PLUGIN_GOOD, "nested_good.so", nested);  // not searched recursively

  Registry registry = Registry::Load({dir_.path()});
  EXPECT_THAT(PluginNames(registry), ElementsAre("test_conflict_a", "test_conflict_b",
                                                 "test_future", "test_good", "test_override"));
  std::vector<std::string> refused;
  for (const RefusedPlugin& r : registry.refused()) {
    refused.push_back(r.path.filename().string());
    EXPECT_THAT(r.reason, StartsWith(r.path.string() + ": "));
  }
  EXPECT_THAT(refused,
              ElementsAre("bad.so", "bad_dtype.so", "empty_op.so", "no_entry.so", "null_entry.so",
                          "small_struct.so", "too_new_abi.so", "unresolved.so"));
  // test_good and test_future tie on aten::relu at priority 0, but test_override's 10 decides.
  EXPECT_EQ(Winner(registry, "aten::relu", ""), "fast_relu");
  EXPECT_EQ(Winner(registry, "aten::tanh", ""), "tanh_future");
  ASSERT_EQ(registry.conflicts().size(), 1u);
  EXPECT_EQ(registry.conflicts()[0].op, "aten::sigmoid");
  EXPECT_THAT(registry.warnings(), IsEmpty());
}

TEST_F(RegistryTest, MissingDirectoryIsAWarningNotAnError) {
  const fs::path good_dir = dir_.Subdir("good");
  dir_.CopyIn(TEST_PLUGIN_GOOD, "", good_dir);
  const fs::path missing = dir_.path() / "does_not_exist";
  const fs::path file = dir_.WriteFile("file", "");
  Registry registry = Registry::Load({missing, file, good_dir});
  EXPECT_THAT(PluginNames(registry), ElementsAre("test_good"));
  EXPECT_THAT(registry.refused(), IsEmpty());
  EXPECT_THAT(registry.warnings(),
              ElementsAre(absl::StrCat("plugin directory ", missing.string(),
                                       " does not exist; check the path"),
                          absl::StrCat("plugin directory ", file.string(),
                                       " is not a directory; pass a directory")));
  Registry direct;
  EXPECT_EQ(direct.LoadDirectory(missing).code(), absl::StatusCode::kNotFound);
}

TEST_F(RegistryTest, SameLibraryIsLoadedOnce) {
  const fs::path good_dir = dir_.Subdir("good");
  const fs::path good = dir_.CopyIn(TEST_PLUGIN_GOOD, "", good_dir);
  fs::create_symlink(good, good_dir / "zz_link_to_good.so");
  const fs::path bad = dir_.CopyIn(TEST_PLUGIN_TOO_NEW_ABI, "", good_dir);
  Registry registry = Registry::Load({good_dir, good_dir, dir_.path() / "good" / "."});
  EXPECT_THAT(PluginNames(registry), ElementsAre("test_good"));
  EXPECT_EQ(registry.lowerings().size(), 8u);
  ASSERT_EQ(registry.refused().size(), 1u);  // reported once although found three times
  EXPECT_EQ(registry.refused()[0].path, bad);
  EXPECT_TRUE(registry.LoadFile(good).ok());
  EXPECT_EQ(registry.plugins().size(), 1u);
  EXPECT_THAT(registry.conflicts(), IsEmpty());
}

TEST_F(RegistryTest, SamePluginNameInTwoFilesRefusesTheSecond) {
  const fs::path first = dir_.CopyIn(TEST_PLUGIN_GOOD, "", dir_.Subdir("one"));
  const fs::path second = dir_.CopyIn(TEST_PLUGIN_GOOD, "", dir_.Subdir("two"));
  Registry registry = Registry::Load({first.parent_path(), second.parent_path()});
  EXPECT_THAT(PluginNames(registry), ElementsAre("test_good"));
  EXPECT_EQ(registry.plugins()[0].path, fs::canonical(first));
  ASSERT_EQ(registry.refused().size(), 1u);
  EXPECT_EQ(registry.refused()[0].reason,
            absl::StrCat(second.string(), ": plugin name 'test_good' is already taken by ",
                         fs::canonical(first).string(), "; remove one of the two files"));
  EXPECT_EQ(Winner(registry, "aten::relu", ""), "relu");  // no self-conflict
}

TEST_F(RegistryTest, WorldWritablePluginIsRefusedUnlessAllowed) {
  const fs::path plugin = dir_.CopyIn(TEST_PLUGIN_GOOD);
  fs::permissions(plugin, fs::perms::others_write, fs::perm_options::add);
  Registry strict;
  absl::Status s = strict.LoadFile(plugin);
  EXPECT_EQ(s.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(s.message(), absl::StrCat(plugin.string(), ": ", fs::canonical(plugin).string(),
                                      " is world-writable; fix permissions (chmod go-w, chown) or "
                                      "pass --allow-insecure-plugins"));
  EXPECT_THAT(strict.plugins(), IsEmpty());

  LoadOptions options;
  options.allow_insecure = true;
  Registry lax(options);
  EXPECT_TRUE(lax.LoadFile(plugin).ok());
  EXPECT_THAT(PluginNames(lax), ElementsAre("test_good"));
}

TEST_F(RegistryTest, WritablePluginDirectoryIsRefusedUnlessAllowed) {
  const fs::path open_dir = dir_.Subdir("open");
  dir_.CopyIn(TEST_PLUGIN_GOOD, "", open_dir);
  fs::permissions(open_dir, fs::perms::group_write, fs::perm_options::add);
  Registry strict = Registry::Load({open_dir});
  EXPECT_THAT(strict.plugins(), IsEmpty());
  ASSERT_EQ(strict.refused().size(), 1u);
  EXPECT_THAT(strict.refused()[0].reason,
              HasSubstr(fs::canonical(open_dir).string() + " is group-writable"));

  LoadOptions options;
  options.allow_insecure = true;
  EXPECT_THAT(PluginNames(Registry::Load({open_dir}, options)), ElementsAre("test_good"));
}

TEST_F(RegistryTest, PluginOwnedBySomeoneElseIsRefusedUnlessAllowed) {
  const fs::path plugin = dir_.CopyIn(TEST_PLUGIN_GOOD);
  if (::geteuid() != 0) {
    // Only root can give a file away; check the same condition through the permission check.
    EXPECT_THAT(CheckPluginPermissions(plugin, ::geteuid() + 1).message(),
                HasSubstr("neither root nor the current user"));
    return;
  }
  ASSERT_EQ(::chown(plugin.c_str(), 12345, 12345), 0);
  Registry strict;
  EXPECT_THAT(strict.LoadFile(plugin).message(),
              AllOf(HasSubstr(" is owned by uid 12345, neither root nor the current user (uid 0)"),
                    HasSubstr("--allow-insecure-plugins")));
  LoadOptions options;
  options.allow_insecure = true;
  Registry lax(options);
  EXPECT_TRUE(lax.LoadFile(plugin).ok());
}

/// Sets T2C_TEST_MARKER_DIR to a fresh folder for the test plugins' constructors (raw_plugin.cpp)
/// while it lives.
class ConstructorMarkers {
 public:
  explicit ConstructorMarkers(const TempDir& dir) : dir_(dir.Subdir("markers")) {
    ::setenv("T2C_TEST_MARKER_DIR", dir_.c_str(), 1);
  }
  ~ConstructorMarkers() { ::unsetenv("T2C_TEST_MARKER_DIR"); }
  /// Whether the constructor of the raw_plugin.cpp case `name` has run.
  bool Ran(const std::string& name) const { return fs::exists(dir_ / name); }

 private:
  fs::path dir_;
};

struct HeaderCase {
  const char* plugin;
  const char* name;  ///< the raw_plugin.cpp case, which names its marker file
  const char* reason;
};

TEST_F(RegistryTest, HeaderRefusalsRunNoPluginCode) {
  ConstructorMarkers markers(dir_);
  const HeaderCase cases[] = {
      {TEST_PLUGIN_HEADER_TOO_NEW_ABI, "header_too_new_abi",
       "plugin ABI 99 is newer than this ts2coreml (ABI 1); rebuild the plugin"},
      {TEST_PLUGIN_HEADER_ABI_ZERO, "header_abi_zero",
       "plugin declares ABI version 0, which is invalid"},
      {TEST_PLUGIN_HEADER_TINY_INFO, "header_tiny_info",
       "t2c_plugin_info.struct_size is 4 bytes, expected at least 40 (the first published "
       "layout)"},
      {TEST_PLUGIN_HEADER_SMALL_HOST_API, "header_small_host_api",
       "t2c_host_api.struct_size is 16 bytes, expected at least 272"},
      {TEST_PLUGIN_HEADER_BAD_MAGIC, "header_bad_magic",
       "ts2coreml_plugin_header has magic 0x464c457f, expected 0x48433254; rebuild the plugin"},
      {TEST_PLUGIN_HEADER_NO_ENTRY, "header_no_entry",
       "does not export ts2coreml_plugin_entry; is it a ts2coreml plugin?"},
      {TEST_PLUGIN_HEADER_NULL_ENTRY, "header_null_entry",
       "does not export ts2coreml_plugin_entry (it is declared but not defined, so it would be "
       "null)"},
      // Without a header too: the entry is looked up in the file.
      {TEST_PLUGIN_NO_ENTRY, "no_entry", "does not export ts2coreml_plugin_entry"},
  };
  for (const HeaderCase& c : cases) {
    SCOPED_TRACE(c.name);
    EXPECT_THAT(RefusalOf(c.plugin), HasSubstr(c.reason));
    EXPECT_FALSE(markers.Ran(c.name)) << "the refused plugin's constructor ran";
  }
}

TEST_F(RegistryTest, ConstructorMarkersShowWhatWasLoaded) {
  ConstructorMarkers markers(dir_);
  // A plugin with a valid header is loaded, so its constructor runs.
  Registry registry = LoadCopies({TEST_PLUGIN_HEADER_GOOD});
  EXPECT_THAT(PluginNames(registry), ElementsAre("test_header_good"));
  EXPECT_TRUE(markers.Ran("header_good"));
  // An entry whose data disagrees with the header can only be found out by loading.
  EXPECT_THAT(RefusalOf(TEST_PLUGIN_HEADER_MISMATCH),
              HasSubstr("ts2coreml_plugin_entry returned t2c_plugin_info has ABI 1 and "
                        "struct_size 40 but ts2coreml_plugin_header declares ABI 1 and "
                        "plugin_info_size 48; the header and the entry must come from one SDK "
                        "build"));
  EXPECT_TRUE(markers.Ran("header_mismatch"));
  // A plugin without a header (an SDK before it) is loaded as before, then refused.
  EXPECT_THAT(RefusalOf(TEST_PLUGIN_TOO_NEW_ABI), HasSubstr("plugin ABI 7 is newer"));
  EXPECT_TRUE(markers.Ran("too_new_abi"));
}

TEST_F(RegistryTest, TheCheckedDescriptorIsWhatGetsLoaded) {
  // After OpenPluginFile has checked a file, swapping another library in under its name does not
  // change what loading through the descriptor's /proc path runs.
  const fs::path plugin = dir_.CopyIn(TEST_PLUGIN_GOOD, "p.so");
  absl::StatusOr<PluginFile> opened = OpenPluginFile(plugin, ::geteuid(), true);
  ASSERT_TRUE(opened.ok()) << opened.status();
  fs::rename(dir_.CopyIn(TEST_PLUGIN_OVERRIDE, "other.so"), plugin);
  absl::StatusOr<ScopedFd> load_fd = FreshDescriptor(opened->fd.get());
  ASSERT_TRUE(load_fd.ok()) << load_fd.status();
  void* handle = ::dlopen(ProcFdPath(load_fd->get()).c_str(), RTLD_NOW | RTLD_LOCAL);
  ASSERT_NE(handle, nullptr) << ::dlerror();
  const auto entry = reinterpret_cast<t2c_entry_fn>(::dlsym(handle, T2C_ENTRY_SYMBOL));
  ASSERT_NE(entry, nullptr);
  EXPECT_STREQ(entry()->name, "test_good");
  ::dlclose(handle);
}

TEST_F(RegistryTest, CurrentDirectoryIsNeverSearchedImplicitly) {
  dir_.CopyIn(TEST_PLUGIN_GOOD);
  const fs::path saved = fs::current_path();
  fs::current_path(dir_.path());
  Registry empty = Registry::Load({});
  Registry named = Registry::Load({"."});
  Registry relative_file;
  absl::Status relative = relative_file.LoadFile("good.so");
  fs::current_path(saved);
  EXPECT_THAT(empty.plugins(), IsEmpty());
  EXPECT_THAT(PluginNames(named), ElementsAre("test_good"));
  EXPECT_TRUE(relative.ok()) << relative;
  EXPECT_EQ(relative_file.plugins()[0].path, fs::canonical(dir_.path() / "good.so"));
}

}  // namespace
}  // namespace ts2coreml::registry
