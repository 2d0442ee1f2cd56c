// Inputs whose size, not content, is hostile: every phase must be linear or n log n in it. A
// Manifest.json with 200,000 items (valid, and with a duplicate key after them), a package whose
// main block holds 20,000 vars and an op with 20,000 nested blocks, and a 20,000-node TorchScript
// chain (bench/make_chain.py, made at test time). Each run must end within the time limit with
// success or a documented exit code and one error line naming the file.
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "core/mil/proto/mil.pb.h"
#include "core/mil/proto/model.pb.h"
#include "gtest/gtest.h"
#include "tests/e2e/cli_runner.h"
#include "tests/hardening/hostile_cli.h"
#include "tests/hardening/package_corruptions.h"

namespace ts2coreml::testing {
namespace {

namespace fs = std::filesystem;
namespace spec_pb = CoreML::Specification;
namespace mil_pb = CoreML::Specification::MILSpec;

constexpr int kItems = 200000;
constexpr int kBlocks = 20000;

std::string ReadFile(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

/// A valid package's Manifest.json with `kItems` more items before the real ones and, when
/// `duplicate`, the last item's key given twice.
void InflateManifest(const fs::path& pkg, bool duplicate) {
  const fs::path manifest = pkg / "Manifest.json";
  std::string text = ReadFile(manifest);
  const std::string anchor = "\"itemInfoEntries\": {";
  const size_t at = text.find(anchor);
  ASSERT_NE(at, std::string::npos) << text;
  std::string items;
  items.reserve(static_cast<size_t>(kItems) * 130);
  for (int i = 0; i < kItems; ++i) {
    absl::StrAppend(&items, "\"item-", i,
                    "\": {\"author\": \"a\", \"description\": \"d\", \"name\": \"n\", \"path\": "
                    "\"com.apple.CoreML/extra\"},\n");
  }
  if (duplicate) {
    absl::StrAppend(&items, "\"item-", kItems - 1,
                    "\": {\"author\": \"a\", \"description\": \"d\", \"name\": \"n\", \"path\": "
                    "\"com.apple.CoreML/extra\"},\n");
  }
  text.insert(at + anchor.size(), items);
  std::ofstream(manifest, std::ios::binary | std::ios::trunc) << text;
}

TEST(ScaleHardening, ManifestWithManyItemsParsesInLinearTime) {
  TempDir dir;
  const fs::path pkg = dir / "many_items.mlpackage";
  ASSERT_TRUE(WriteValidPackage(pkg).ok());
  InflateManifest(pkg, /*duplicate=*/false);
  HostileResult r = RunCliHostile({"inspect", pkg.string()}, /*model_bytes=*/0);
  ExpectSucceeded(r);
}

TEST(ScaleHardening, DuplicateKeyAfterManyItemsIsRefusedInLinearTime) {
  TempDir dir;
  const fs::path pkg = dir / "duplicate_key.mlpackage";
  ASSERT_TRUE(WriteValidPackage(pkg).ok());
  InflateManifest(pkg, /*duplicate=*/true);
  const std::string before = ReadFile(pkg / "Manifest.json");
  HostileResult r = RunCliHostile({"inspect", pkg.string()}, /*model_bytes=*/0);
  ExpectRefusedNaming(r, /*exit_code=*/8, (pkg / "Manifest.json").string());
  EXPECT_NE(r.output.find(absl::StrCat("duplicate key \"item-", kItems - 1, "\"")),
            std::string::npos)
      << r.output;
  EXPECT_EQ(ReadFile(pkg / "Manifest.json"), before);
}

/// Puts `kBlocks` consts at the start of the main block and `kBlocks` nested blocks, each
/// defining one const it outputs, into the block's relu: validation sees 20,000 blocks with
/// 20,000 vars in scope.
void AddManyBlocks(const fs::path& pkg) {
  const fs::path path = pkg / "Data/com.apple.CoreML/model.mlmodel";
  spec_pb::Model model;
  ASSERT_TRUE(model.ParseFromString(ReadFile(path)));
  mil_pb::Function& fn = (*model.mutable_mlprogram()->mutable_functions())["main"];
  mil_pb::Block& block = (*fn.mutable_block_specializations())[fn.opset()];
  const mil_pb::Operation* string_const = nullptr;
  mil_pb::Operation* relu = nullptr;
  for (mil_pb::Operation& op : *block.mutable_operations()) {
    if (op.type() == "const" && op.outputs(0).name() == "dtype") string_const = &op;
    if (op.type() == "relu") relu = &op;
  }
  ASSERT_NE(string_const, nullptr);
  ASSERT_NE(relu, nullptr);
  auto named_const = [&](const std::string& name) {
    mil_pb::Operation op = *string_const;
    (*op.mutable_attributes())["name"]
        .mutable_immediatevalue()
        ->mutable_tensor()
        ->mutable_strings()
        ->set_values(0, name);
    op.mutable_outputs(0)->set_name(name);
    return op;
  };
  for (int i = 0; i < kBlocks; ++i) {
    mil_pb::Block* nested = relu->add_blocks();
    *nested->add_operations() = named_const(absl::StrCat("nested_", i));
    nested->add_outputs(absl::StrCat("nested_", i));
  }
  google::protobuf::RepeatedPtrField<mil_pb::Operation> ops;
  for (int i = 0; i < kBlocks; ++i) *ops.Add() = named_const(absl::StrCat("outer_", i));
  for (const mil_pb::Operation& op : block.operations()) *ops.Add() = op;
  block.mutable_operations()->Swap(&ops);
  std::string bytes;
  ASSERT_TRUE(model.SerializeToString(&bytes));
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
}

TEST(ScaleHardening, ManyNestedBlocksValidateInLinearTime) {
  TempDir dir;
  const fs::path pkg = dir / "many_blocks.mlpackage";
  ASSERT_TRUE(WriteValidPackage(pkg).ok());
  AddManyBlocks(pkg);
  HostileResult r = RunCliHostile({"inspect", pkg.string()}, /*model_bytes=*/0);
  ExpectSucceeded(r);
}

TEST(ScaleHardening, LongChainConvertsInLinearTime) {
  const fs::path model = fs::path(TS2COREML_CHAIN_MODELS) / "chain_20000.pt";
  ASSERT_TRUE(fs::exists(model)) << model;
  TempDir dir;
  const fs::path out = dir / "chain.mlpackage";
  HostileResult r =
      RunCliHostile({"convert", model.string(), "-o", out.string(), "--input", "x:1x8", "--quiet"},
                    fs::file_size(model));
  ExpectSucceeded(r);
  EXPECT_TRUE(fs::exists(out / "Manifest.json"));
}

}  // namespace
}  // namespace ts2coreml::testing
