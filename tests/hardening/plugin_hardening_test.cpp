// Hostile plugin files given to the real CLI: a good plugin whose header bytes are patched, a
// truncated library, and a root-owned plugin folder inside a folder another user owns. Every one is
// refused before any of its code runs (its constructor writes a marker file when it does), with
// one warning line naming the file and what is wrong, and the conversion that needed it ends with
// a documented exit code. The crafted files are made here, at test time, from the built
// scale_shift test plugin (tests/plugins/good/scale_shift_plugin.cpp).
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/hardening/hostile_run.h"
#include "tests/plugins/plugin_test_util.h"
#include "ts2coreml/plugin_abi.h"

namespace ts2coreml::hardening {
namespace {

namespace fs = std::filesystem;
using plugin_test::CopyInto;
using plugin_test::RunOptions;
using plugin_test::RunResult;
using plugin_test::ScratchDir;
using ::testing::HasSubstr;

/// The name the scale_shift plugin's constructor gives its marker file.
constexpr char kMarker[] = "t2ctest.scale_shift";

std::vector<char> ReadBytes(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  return std::vector<char>(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

void WriteBytes(const fs::path& file, const std::vector<char>& bytes) {
  std::ofstream(file, std::ios::binary | std::ios::trunc)
      .write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  fs::permissions(file, fs::perms(0755));
}

/// The offset of the plugin's t2c_plugin_header in the library file: the one place where the
/// magic is followed by this SDK's header size and ABI version.
size_t HeaderOffset(const std::vector<char>& bytes) {
  const uint32_t want[3] = {T2C_HEADER_MAGIC, sizeof(t2c_plugin_header), T2C_ABI_VERSION};
  const char* begin = reinterpret_cast<const char*>(want);
  const auto it = std::search(bytes.begin(), bytes.end(), begin, begin + sizeof(want));
  EXPECT_NE(it, bytes.end()) << "no plugin header in the scale_shift plugin";
  EXPECT_EQ(std::search(it + 1, bytes.end(), begin, begin + sizeof(want)), bytes.end())
      << "the header pattern occurs twice";
  return static_cast<size_t>(it - bytes.begin());
}

/// One uint32 field of the header, patched to a value.
struct HeaderPatch {
  std::string name;
  size_t field_offset;
  uint32_t value;
  std::string reason;  ///< what the refusal must say
};

class PluginHardeningTest : public ::testing::Test {
 protected:
  /// Converts the scale_shift model with the plugins of `dir`, with constructor markers on.
  RunResult Convert(const fs::path& dir, const std::string& out, bool allow = false) {
    RunOptions options;
    options.env = {"T2C_TEST_MARKER_DIR=" + markers_.string()};
    std::vector<std::string> args = {"convert", Model().string(), "-o",           Out(out).string(),
                                     "--input", "x:1x8",          "--plugin-dir", dir.string()};
    if (allow) args.push_back("--allow-insecure-plugins");
    return RunHostile(TS2COREML_CLI, args, options);
  }

  /// The refusal of `plugin` as the CLI reports it: exit code 4 (the model's op is then unknown),
  /// one error line naming the model, one warning line naming the plugin file with `reason`, no
  /// output, and the plugin's constructor never ran.
  void ExpectRefusedUnloaded(const RunResult& r, const fs::path& plugin, const std::string& out,
                             const std::string& reason) {
    EXPECT_TRUE(Refused(r, 4, Model().filename().string()));
    EXPECT_THAT(r.output, HasSubstr("Unknown builtin op: t2ctest::scale_shift"));
    EXPECT_THAT(r.output, HasSubstr(absl::StrCat("ts2coreml: warning: plugin refused: ",
                                                 plugin.string(), ": ", reason)));
    EXPECT_FALSE(fs::exists(Out(out)));
    EXPECT_FALSE(fs::exists(markers_ / kMarker)) << "the refused plugin's code ran";
  }

  static fs::path Model() { return fs::path(TS2COREML_CUSTOM_OP_MODELS_DIR) / "scale_shift.pt"; }
  fs::path Out(const std::string& name) const { return scratch_ / (name + ".mlpackage"); }

  ScratchDir scratch_;
  fs::path markers_ = scratch_.Subdir("markers");
};

TEST_F(PluginHardeningTest, TheUnpatchedPluginLoadsAndItsMarkerShows) {
  // The control: the same file unpatched converts, and its constructor leaves the marker.
  const fs::path dir = scratch_.Subdir("good");
  CopyInto(TS2COREML_SCALE_SHIFT_PLUGIN, dir);
  RunResult r = Convert(dir, "good");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_TRUE(fs::exists(markers_ / kMarker));
}

TEST_F(PluginHardeningTest, PatchedHeaderIsRefusedBeforeLoading) {
  const std::vector<HeaderPatch> patches = {
      {"abi_99", offsetof(t2c_plugin_header, abi_version), 99,
       "plugin ABI 99 is newer than this ts2coreml (ABI 1)"},
      {"abi_0", offsetof(t2c_plugin_header, abi_version), 0,
       "plugin declares ABI version 0, which is invalid"},
      {"info_4_bytes", offsetof(t2c_plugin_header, plugin_info_size), 4,
       "t2c_plugin_info.struct_size is 4 bytes, expected at least 40"},
      {"decl_16_bytes", offsetof(t2c_plugin_header, lowering_decl_size), 16,
       "t2c_lowering_decl.struct_size is 16 bytes, expected at least 104"},
      {"decl_huge", offsetof(t2c_plugin_header, lowering_decl_size), 0xfffffff0u,
       "t2c_lowering_decl.struct_size is 4294967280 bytes, expected at least 104"},
      {"host_api_8_bytes", offsetof(t2c_plugin_header, host_api_size), 8,
       "t2c_host_api.struct_size is 8 bytes, expected at least 272"},
      {"bad_magic", offsetof(t2c_plugin_header, magic), 0x464c457fu,
       "ts2coreml_plugin_header has magic 0x464c457f, expected 0x48433254"},
      {"header_size_4", offsetof(t2c_plugin_header, header_size), 4,
       "ts2coreml_plugin_header declares header_size 4 but holds 24 bytes"},
      {"header_size_huge", offsetof(t2c_plugin_header, header_size), 1u << 30,
       "ts2coreml_plugin_header declares header_size 1073741824 but holds 24 bytes"},
  };
  const std::vector<char> original = ReadBytes(TS2COREML_SCALE_SHIFT_PLUGIN);
  const size_t header = HeaderOffset(original);
  for (const HeaderPatch& p : patches) {
    SCOPED_TRACE(p.name);
    std::vector<char> bytes = original;
    std::memcpy(bytes.data() + header + p.field_offset, &p.value, sizeof(p.value));
    const fs::path dir = scratch_.Subdir(p.name);
    const fs::path plugin = dir / "scale_shift.so";
    WriteBytes(plugin, bytes);
    ExpectRefusedUnloaded(Convert(dir, p.name), plugin, p.name, p.reason);
  }
}

TEST_F(PluginHardeningTest, TruncatedPluginIsRefusedBeforeLoading) {
  const std::vector<char> original = ReadBytes(TS2COREML_SCALE_SHIFT_PLUGIN);
  for (size_t size : {size_t{0}, size_t{4}, size_t{63}, size_t{64}, size_t{1024},
                      original.size() / 2, original.size() - 1}) {
    SCOPED_TRACE(size);
    const std::string name = absl::StrCat("truncated_", size);
    const fs::path dir = scratch_.Subdir(name);
    const fs::path plugin = dir / "scale_shift.so";
    WriteBytes(plugin, std::vector<char>(original.begin(), original.begin() + size));
    ExpectRefusedUnloaded(Convert(dir, name), plugin, name, "not a loadable plugin library: ");
  }
}

TEST_F(PluginHardeningTest, RootOwnedFolderInsideAnotherUsersFolderIsRefused) {
  // Whoever owns or may write an ancestor folder can swap the plugin folder below it between the
  // check and the load. As root: the ancestor belongs to nobody. Otherwise (no file can be given
  // away): the ancestor is group-writable.
  const fs::path theirs = scratch_.Subdir("theirs");
  const fs::path ours = scratch_.Subdir("theirs/plugins");
  const fs::path plugin = CopyInto(TS2COREML_SCALE_SHIFT_PLUGIN, ours);
  std::string problem;
  if (::geteuid() == 0) {
    ASSERT_EQ(::chown(theirs.c_str(), plugin_test::kNobodyUid, plugin_test::kNobodyGid), 0);
    problem = " is owned by uid 65534, neither root nor the current user (uid 0); fix permissions";
  } else {
    fs::permissions(theirs, fs::perms(0775));
    problem = " is group-writable; fix permissions";
  }
  ExpectRefusedUnloaded(Convert(ours, "theirs"), plugin, "theirs",
                        absl::StrCat(theirs.string(), problem));
  // The user may still choose to load it.
  RunResult r = Convert(ours, "theirs_allowed", /*allow=*/true);
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_TRUE(fs::exists(markers_ / kMarker));
}

}  // namespace
}  // namespace ts2coreml::hardening
