#include "core/mil/package_writer.h"

#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <optional>
#include <regex>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_join.h"
#include "core/mil/fp16.h"
#include "core/mil/output_target.h"
#include "core/mil/package_reader.h"
#include "core/mil/proto/mil.pb.h"
#include "core/mil/proto/model.pb.h"
#include "core/mil/test_dir.h"
#include "core/mil/weight_blob.h"
#include "gtest/gtest.h"

namespace ts2coreml::mil {
namespace {

namespace fs = std::filesystem;
namespace mil_pb = CoreML::Specification::MILSpec;

fs::path TestDir() { return test::TestDir("mil_writer_"); }

using test::ReadText;

// x: fp32[1,3] -> linear(weight fp32[4,3] in the blob file, bias fp16[4] immediate) -> y
//   -> concat(values=(y, y), axis int32) -> z: fp32[1,8]; plus an fp16 blob and small consts.
struct TestModel {
  Function fn{"CoreML6"};
  ModelSpec spec;
};

std::unique_ptr<TestModel> MakeModel(float weight_scale = 1.0f) {
  auto m = std::make_unique<TestModel>();
  Function& f = m->fn;
  const VarId x = f.AddInput("x", {DType::kFloat32, {1, 3}});
  std::vector<float> w(12);
  for (size_t i = 0; i < w.size(); ++i) w[i] = weight_scale * static_cast<float>(i) - 3.0f;
  const VarId weight = f.AddConst("w", ConstValue::Float32({4, 3}, w.data()));
  const float bias_values[4] = {0.5f, -1.0f, 2.0f, 65504.0f};
  const VarId bias = f.AddConst("b", ConstValue::Float16({4}, bias_values));
  std::vector<float> big_half(16, 0.25f);
  f.AddConst("h", ConstValue::Float16({16}, big_half.data()));
  const int32_t axis_value = 1;
  const VarId axis = f.AddConst("axis", ConstValue::Int32({}, &axis_value));
  const bool flag = true;
  f.AddConst("flag", ConstValue::Bool({}, &flag));
  f.AddConst("mode", ConstValue::String("fp16"));
  const VarId y = (*f.AddOp("linear", "y", {{"x", {x}}, {"weight", {weight}}, {"bias", {bias}}},
                            {{DType::kFloat32, {1, 4}}}))[0];
  const VarId z = (*f.AddOp("concat", "z", {{"values", {y, y}}, {"axis", {axis}}},
                            {{DType::kFloat32, {1, 8}}}))[0];
  EXPECT_TRUE(f.AddOutput(z).ok());
  m->spec.specification_version = 7;
  m->spec.inputs = {{"x", DType::kFloat32, {1, 3}}};
  m->spec.outputs = {{"z", DType::kFloat32, {1, 8}}};
  m->spec.short_description = "a test model";
  m->spec.author = "ts2coreml \"tests\"";
  m->spec.version_string = "1.0";
  m->spec.user_defined = {{"source", "unit test"}, {"converter", "ts2coreml"}};
  return m;
}

const mil_pb::Operation* FindOp(const mil_pb::Block& block, const std::string& name) {
  for (const mil_pb::Operation& op : block.operations()) {
    auto it = op.attributes().find("name");
    if (it != op.attributes().end() &&
        it->second.immediatevalue().tensor().strings().values(0) == name) {
      return &op;
    }
  }
  return nullptr;
}

TEST(MilPackageWriterTest, WritesACompletePackage) {
  auto m = MakeModel();
  const fs::path dir = TestDir() / "Net.mlpackage";
  absl::StatusOr<WriteStats> stats = WritePackageDir(m->spec, m->fn, dir);
  ASSERT_TRUE(stats.ok()) << stats.status();
  EXPECT_EQ(stats->num_ops, 8);
  EXPECT_EQ(stats->num_blobs, 2);
  EXPECT_EQ(stats->weight_bytes_by_dtype.at(DType::kFloat32), 48u);
  EXPECT_EQ(stats->weight_bytes_by_dtype.at(DType::kFloat16), 32u);
  EXPECT_EQ(stats->immediate_bytes_by_dtype.at(DType::kFloat16), 8u);
  EXPECT_EQ(stats->immediate_bytes_by_dtype.at(DType::kInt32), 4u);
  EXPECT_EQ(stats->immediate_bytes_by_dtype.at(DType::kBool), 1u);
  // header 64 + (64 record + 48 data -> 64) + (64 record + 32 data -> 64)
  EXPECT_EQ(stats->weight_file_bytes, 64u + 128u + 128u);

  const fs::path data = dir / "Data" / "com.apple.CoreML";
  ASSERT_TRUE(fs::is_regular_file(dir / "Manifest.json"));
  ASSERT_TRUE(fs::is_regular_file(data / "model.mlmodel"));
  ASSERT_TRUE(fs::is_regular_file(data / "weights" / "weight.bin"));
  EXPECT_EQ(fs::file_size(data / "weights" / "weight.bin"), stats->weight_file_bytes);

  CoreML::Specification::Model model;
  ASSERT_TRUE(model.ParseFromString(ReadText(data / "model.mlmodel")));
  EXPECT_EQ(model.specificationversion(), 7);
  ASSERT_EQ(model.description().input_size(), 1);
  EXPECT_EQ(model.description().input(0).name(), "x");
  const auto& array = model.description().input(0).type().multiarraytype();
  EXPECT_EQ(static_cast<int>(array.datatype()), 65568);
  EXPECT_EQ(std::vector<int64_t>(array.shape().begin(), array.shape().end()),
            (std::vector<int64_t>{1, 3}));
  EXPECT_EQ(model.description().output(0).name(), "z");
  const auto& meta = model.description().metadata();
  EXPECT_EQ(meta.author(), "ts2coreml \"tests\"");
  EXPECT_EQ(meta.shortdescription(), "a test model");
  EXPECT_EQ(meta.versionstring(), "1.0");
  EXPECT_EQ(meta.userdefined().at("source"), "unit test");

  ASSERT_TRUE(model.has_mlprogram());
  EXPECT_EQ(model.mlprogram().version(), 1);
  const mil_pb::Function& fn = model.mlprogram().functions().at("main");
  EXPECT_EQ(fn.opset(), "CoreML6");
  ASSERT_EQ(fn.inputs_size(), 1);
  EXPECT_EQ(fn.inputs(0).type().tensortype().datatype(), mil_pb::FLOAT32);
  EXPECT_EQ(fn.inputs(0).type().tensortype().rank(), 2);
  const mil_pb::Block& block = fn.block_specializations().at("CoreML6");
  ASSERT_EQ(block.operations_size(), 8);
  EXPECT_EQ(block.outputs(0), "z");

  const mil_pb::Operation* w = FindOp(block, "w");
  ASSERT_NE(w, nullptr);
  EXPECT_EQ(w->type(), "const");
  const mil_pb::Value& wv = w->attributes().at("val");
  ASSERT_TRUE(wv.has_blobfilevalue());
  EXPECT_EQ(wv.blobfilevalue().filename(), "@model_path/weights/weight.bin");
  EXPECT_EQ(wv.blobfilevalue().offset(), 64u);
  EXPECT_EQ(wv.type().tensortype().dimensions(0).constant().size(), 4u);
  EXPECT_EQ(w->outputs(0).name(), "w");

  const mil_pb::Operation* b = FindOp(block, "b");
  ASSERT_NE(b, nullptr);
  const std::string& halves = b->attributes().at("val").immediatevalue().tensor().bytes().values();
  ASSERT_EQ(halves.size(), 8u);
  uint16_t h3;
  std::memcpy(&h3, halves.data() + 6, 2);
  EXPECT_EQ(h3, 0x7bff);
  EXPECT_EQ(FindOp(block, "h")->attributes().at("val").blobfilevalue().offset(), 192u);
  EXPECT_EQ(
      FindOp(block, "axis")->attributes().at("val").immediatevalue().tensor().ints().values(0), 1);
  EXPECT_TRUE(
      FindOp(block, "flag")->attributes().at("val").immediatevalue().tensor().bools().values(0));
  EXPECT_EQ(
      FindOp(block, "mode")->attributes().at("val").immediatevalue().tensor().strings().values(0),
      "fp16");

  const mil_pb::Operation* linear = FindOp(block, "y_op");
  ASSERT_NE(linear, nullptr);
  EXPECT_EQ(linear->type(), "linear");
  EXPECT_EQ(linear->inputs().at("weight").arguments(0).name(), "w");
  EXPECT_EQ(linear->outputs(0).name(), "y");
  EXPECT_EQ(linear->outputs(0).type().tensortype().dimensions(1).constant().size(), 4u);
  const mil_pb::Operation* concat = FindOp(block, "z_op");
  ASSERT_NE(concat, nullptr);
  ASSERT_EQ(concat->inputs().at("values").arguments_size(), 2);
  EXPECT_EQ(concat->inputs().at("values").arguments(1).name(), "y");
}

TEST(MilPackageWriterTest, ManifestContent) {
  auto m = MakeModel();
  const fs::path dir = TestDir() / "Net.mlpackage";
  ASSERT_TRUE(WritePackageDir(m->spec, m->fn, dir).ok());
  const std::string json = ReadText(dir / "Manifest.json");
  const std::string uuid = "[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}";
  const std::regex model_item(
      "\"(" + uuid +
      ")\": \\{\n            \"author\": \"com.apple.CoreML\",\n            \"description\": "
      "\"CoreML Model Specification\",\n            \"name\": \"model.mlmodel\",\n            "
      "\"path\": \"com.apple.CoreML/model.mlmodel\"\n        \\}");
  const std::regex weights_item(
      "\"(" + uuid +
      ")\": \\{\n            \"author\": \"com.apple.CoreML\",\n            \"description\": "
      "\"CoreML Model Weights\",\n            \"name\": \"weights\",\n            \"path\": "
      "\"com.apple.CoreML/weights\"\n        \\}");
  std::smatch model_match, weights_match;
  ASSERT_TRUE(std::regex_search(json, model_match, model_item)) << json;
  ASSERT_TRUE(std::regex_search(json, weights_match, weights_item)) << json;
  EXPECT_NE(model_match[1].str(), weights_match[1].str());
  EXPECT_EQ(json.rfind("{\n    \"fileFormatVersion\": \"1.0.0\",\n    \"itemInfoEntries\": {\n", 0),
            0u)
      << json;
  EXPECT_NE(json.find("    \"rootModelIdentifier\": \"" + model_match[1].str() + "\"\n}\n"),
            std::string::npos)
      << json;
}

// Every file under `root`, relative path -> content.
std::map<std::string, std::string> Tree(const fs::path& root) {
  std::map<std::string, std::string> files;
  for (const auto& entry : fs::recursive_directory_iterator(root)) {
    const std::string rel = fs::relative(entry.path(), root).string();
    files[rel] = entry.is_regular_file() ? ReadText(entry.path()) : std::string("<dir>");
  }
  return files;
}

TEST(MilPackageWriterTest, Deterministic) {
  const fs::path dir = TestDir();
  auto first = MakeModel();
  auto second = MakeModel();
  ASSERT_TRUE(WritePackageDir(first->spec, first->fn, dir / "a.mlpackage").ok());
  ASSERT_TRUE(WritePackageDir(second->spec, second->fn, dir / "b.mlpackage").ok());
  const auto a = Tree(dir / "a.mlpackage");
  const auto b = Tree(dir / "b.mlpackage");
  EXPECT_EQ(a.size(), 6u);  // Manifest, Data, com.apple.CoreML, model, weights, weight.bin
  EXPECT_TRUE(a == b);

  // Different weights give different identifiers.
  auto other = MakeModel(/*weight_scale=*/2.0f);
  ASSERT_TRUE(WritePackageDir(other->spec, other->fn, dir / "c.mlpackage").ok());
  EXPECT_NE(ReadText(dir / "a.mlpackage" / "Manifest.json"),
            ReadText(dir / "c.mlpackage" / "Manifest.json"));
  EXPECT_EQ(ContentUuid("abc"), ContentUuid("abc"));
  EXPECT_NE(ContentUuid("abc"), ContentUuid("abd"));
}

TEST(MilPackageWriterTest, WeightFileAlwaysExists) {
  Function f("CoreML7");
  const VarId x = f.AddInput("x", {DType::kFloat16, {2}});
  const VarId y = (*f.AddOp("relu", "y", {{"x", {x}}}, {{DType::kFloat16, {2}}}))[0];
  ASSERT_TRUE(f.AddOutput(y).ok());
  ModelSpec spec;
  spec.specification_version = 8;
  spec.inputs = {{"x", DType::kFloat16, {2}}};
  spec.outputs = {{"y", DType::kFloat16, {2}}};
  const fs::path dir = TestDir() / "Tiny.mlpackage";
  absl::StatusOr<WriteStats> stats = WritePackageDir(spec, f, dir);
  ASSERT_TRUE(stats.ok()) << stats.status();
  EXPECT_EQ(stats->num_blobs, 0);
  const fs::path weights = dir / "Data" / "com.apple.CoreML" / "weights" / "weight.bin";
  ASSERT_TRUE(fs::is_regular_file(weights));
  EXPECT_EQ(fs::file_size(weights), 64u);
  CoreML::Specification::Model model;
  ASSERT_TRUE(model.ParseFromString(ReadText(dir / "Data" / "com.apple.CoreML" / "model.mlmodel")));
  EXPECT_EQ(static_cast<int>(model.description().input(0).type().multiarraytype().datatype()),
            65552);
}

TEST(MilPackageWriterTest, RejectsInconsistentInput) {
  const fs::path dir = TestDir();
  auto wrong_name = MakeModel();
  wrong_name->spec.inputs[0].name = "image";
  absl::StatusOr<WriteStats> s1 = WritePackageDir(wrong_name->spec, wrong_name->fn, dir / "a");
  EXPECT_EQ(s1.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s1.status().message().find("'image'"), absl::string_view::npos) << s1.status();
  EXPECT_FALSE(fs::exists(dir / "a"));

  auto fp16_io = MakeModel();
  fp16_io->spec.specification_version = 6;
  fp16_io->spec.outputs[0].dtype = DType::kFloat16;
  EXPECT_FALSE(WritePackageDir(fp16_io->spec, fp16_io->fn, dir / "b").ok());
  EXPECT_FALSE(fs::exists(dir / "b"));

  auto bad_const = MakeModel();
  ConstValue broken = ConstValue::String("x");
  broken.type = {DType::kFloat32, {4}};  // declares 4 floats, holds no bytes
  bad_const->fn.AddConst("broken", broken);
  absl::StatusOr<WriteStats> s3 = WritePackageDir(bad_const->spec, bad_const->fn, dir / "c");
  EXPECT_NE(s3.status().message().find("'broken'"), absl::string_view::npos) << s3.status();
  EXPECT_FALSE(fs::exists(dir / "c"));

  auto wrong_shape = MakeModel();
  wrong_shape->spec.outputs[0].shape = {1, 9};
  absl::StatusOr<WriteStats> s4 = WritePackageDir(wrong_shape->spec, wrong_shape->fn, dir / "e");
  EXPECT_NE(s4.status().message().find("has shape [1,9]"), absl::string_view::npos) << s4.status();

  fs::create_directory(dir / "d");
  auto ok = MakeModel();
  EXPECT_EQ(WritePackageDir(ok->spec, ok->fn, dir / "d").status().code(),
            absl::StatusCode::kAlreadyExists);
}

// Names in `dir` other than `keep` (temporaries left behind).
std::vector<std::string> Leftovers(const fs::path& dir, const std::string& keep) {
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (entry.path().filename() != keep) names.push_back(entry.path().filename().string());
  }
  return names;
}

TEST(MilPackageWriterTest, AtomicWriteRespectsExistingOutput) {
  const fs::path dir = TestDir();
  const fs::path out = dir / "Net.mlpackage";
  fs::create_directory(out);
  std::ofstream(out / "marker") << "old";
  auto m = MakeModel();
  // A folder without Manifest.json is not a package: even --force leaves it alone.
  absl::StatusOr<WriteStats> not_package = WritePackageAtomically(m->spec, m->fn, out, true);
  ASSERT_EQ(not_package.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(ReadText(out / "marker"), "old");
  EXPECT_TRUE(Leftovers(dir, "Net.mlpackage").empty());
  std::ofstream(out / "Manifest.json") << "{}";

  absl::StatusOr<WriteStats> refused = WritePackageAtomically(m->spec, m->fn, out, false);
  ASSERT_EQ(refused.status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_NE(refused.status().message().find(out.string()), absl::string_view::npos);
  EXPECT_NE(refused.status().message().find("--force"), absl::string_view::npos);
  EXPECT_EQ(ReadText(out / "marker"), "old");
  EXPECT_EQ(ReadText(out / "Manifest.json"), "{}");
  EXPECT_TRUE(Leftovers(dir, "Net.mlpackage").empty());

  absl::StatusOr<WriteStats> replaced = WritePackageAtomically(m->spec, m->fn, out, true);
  ASSERT_TRUE(replaced.ok()) << replaced.status();
  EXPECT_FALSE(fs::exists(out / "marker"));
  EXPECT_TRUE(fs::exists(out / "Manifest.json"));
  EXPECT_TRUE(Leftovers(dir, "Net.mlpackage").empty());
  absl::StatusOr<Package> p = ReadPackage(out);
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_TRUE(ValidatePackage(*p).ok());
}

// SIGTERM while the temporary folder exists, sent by a thread of the writing process the moment
// the folder appears: the process still ends by SIGTERM, and the folder is gone. (On a loaded
// machine the thread may send it only after the rename: then the complete package is in place.)
TEST(MilPackageWriterTest, InterruptedWriteLeavesNothing) {
  const fs::path dir = TestDir();
  const fs::path out = dir / "I.mlpackage";
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    auto m = MakeModel();
    const int64_t n = int64_t{1} << 23;  // 32 MiB to write and read back: the signal lands inside
    std::vector<float> big(static_cast<size_t>(n), 1.0f);
    const VarId big_var = m->fn.AddConst("big", ConstValue::Float32({n}, big.data()));
    const VarId sum =
        (*m->fn.AddOp("reduce_sum", "sum", {{"x", {big_var}}}, {{DType::kFloat32, {}}}))[0];
    if (!m->fn.AddOutput(sum).ok()) ::_exit(3);
    m->spec.outputs.push_back({"sum", DType::kFloat32, {}});
    const fs::path temp = TemporarySibling(out, ::getpid());
    std::thread([temp] {
      while (!fs::exists(temp)) {
      }
      ::kill(::getpid(), SIGTERM);
    }).detach();
    const absl::StatusOr<WriteStats> written = WritePackageAtomically(m->spec, m->fn, out, false);
    ::_exit(written.ok() ? 0 : 2);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM) << "wait status " << status;
  const std::vector<std::string> left = Leftovers(dir, "I.mlpackage");
  EXPECT_TRUE(left.empty()) << "left: " << absl::StrJoin(left, ", ");
  if (fs::exists(out)) {
    absl::StatusOr<Package> p = ReadPackage(out);
    ASSERT_TRUE(p.ok()) << p.status();
    EXPECT_TRUE(ValidatePackage(*p).ok());
  }
}

TEST(MilPackageWriterTest, AtomicWriteFailureLeavesNothing) {
  const fs::path dir = TestDir();
  auto bad = MakeModel();
  bad->spec.outputs[0].name = "nope";
  absl::StatusOr<WriteStats> fresh =
      WritePackageAtomically(bad->spec, bad->fn, dir / "A.mlpackage", false);
  EXPECT_FALSE(fresh.ok());
  EXPECT_TRUE(fs::is_empty(dir));

  const fs::path out = dir / "B.mlpackage";
  fs::create_directory(out);
  std::ofstream(out / "marker") << "old";
  std::ofstream(out / "Manifest.json") << "{}";
  EXPECT_FALSE(WritePackageAtomically(bad->spec, bad->fn, out, true).ok());
  EXPECT_EQ(ReadText(out / "marker"), "old");
  EXPECT_TRUE(Leftovers(dir, "B.mlpackage").empty());

  auto good = MakeModel();
  absl::StatusOr<WriteStats> no_parent =
      WritePackageAtomically(good->spec, good->fn, dir / "missing" / "C.mlpackage", false);
  EXPECT_EQ(no_parent.status().code(), absl::StatusCode::kNotFound);
  EXPECT_NE(no_parent.status().message().find((dir / "missing").string()), absl::string_view::npos)
      << no_parent.status();

  if (::geteuid() != 0) {  // root ignores permissions
    const fs::path locked = dir / "locked";
    fs::create_directory(locked);
    fs::permissions(locked, fs::perms::owner_read | fs::perms::owner_exec);
    absl::StatusOr<WriteStats> denied =
        WritePackageAtomically(good->spec, good->fn, locked / "D.mlpackage", false);
    fs::permissions(locked, fs::perms::owner_all);
    EXPECT_EQ(denied.status().code(), absl::StatusCode::kPermissionDenied);
    EXPECT_TRUE(fs::is_empty(locked));
  }
}

// ---------------------------------------------------------------------------------------------
// Field numbers checked with `protoc --decode_raw`, which knows nothing of our .proto files.

struct RawNode {
  std::vector<std::pair<int, std::string>> scalars;
  std::vector<int> child_fields;
  std::vector<RawNode> children;

  std::optional<std::string> Scalar(int field) const {
    for (const auto& [f, v] : scalars) {
      if (f == field) return v;
    }
    return std::nullopt;
  }
  std::vector<const RawNode*> All(int field) const {
    std::vector<const RawNode*> out;
    for (size_t i = 0; i < children.size(); ++i) {
      if (child_fields[i] == field) out.push_back(&children[i]);
    }
    return out;
  }
  const RawNode* Child(int field) const {
    auto all = All(field);
    return all.empty() ? nullptr : all[0];
  }
  // The map entry (field `field`) whose key (field 1) is `key`; its value is field 2.
  const RawNode* MapEntry(int field, const std::string& key) const {
    for (const RawNode* entry : All(field)) {
      if (entry->Scalar(1) == "\"" + key + "\"") return entry;
    }
    return nullptr;
  }
  const RawNode* MapValue(int field, const std::string& key) const {
    const RawNode* entry = MapEntry(field, key);
    return entry == nullptr ? nullptr : entry->Child(2);
  }
  std::optional<std::string> MapScalar(int field, const std::string& key) const {
    const RawNode* entry = MapEntry(field, key);
    return entry == nullptr ? std::nullopt : entry->Scalar(2);
  }
};

RawNode ParseDecodeRaw(const std::string& text) {
  RawNode root;
  std::vector<RawNode*> stack = {&root};
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string::npos) end = text.size();
    std::string line = text.substr(pos, end - pos);
    pos = end + 1;
    line.erase(0, line.find_first_not_of(' '));
    if (line.empty()) continue;
    if (line == "}") {
      stack.pop_back();
      continue;
    }
    if (line.size() > 2 && line.compare(line.size() - 2, 2, " {") == 0) {
      RawNode* parent = stack.back();
      parent->child_fields.push_back(std::stoi(line));
      parent->children.emplace_back();
      // Children vectors of enclosing nodes never grow while a deeper node is open.
      stack.push_back(&parent->children.back());
      continue;
    }
    const size_t colon = line.find(": ");
    if (colon != std::string::npos) {
      stack.back()->scalars.emplace_back(std::stoi(line.substr(0, colon)), line.substr(colon + 2));
    }
  }
  return root;
}

TEST(MilPackageWriterTest, FieldNumbersMatchTheFormatPerProtocDecodeRaw) {
  const std::string protoc = TS2COREML_PROTOC_PATH;
  ASSERT_TRUE(fs::exists(protoc)) << "protoc not found ('" << protoc << "'); it is required";
  auto m = MakeModel();
  const fs::path dir = TestDir() / "Net.mlpackage";
  ASSERT_TRUE(WritePackageDir(m->spec, m->fn, dir).ok());
  const fs::path model = dir / "Data" / "com.apple.CoreML" / "model.mlmodel";
  const std::string cmd = "'" + protoc + "' --decode_raw < '" + model.string() + "'";
  std::FILE* pipe = ::popen(cmd.c_str(), "r");
  ASSERT_NE(pipe, nullptr);
  std::string text;
  char buffer[4096];
  while (size_t n = std::fread(buffer, 1, sizeof buffer, pipe)) text.append(buffer, n);
  ASSERT_EQ(::pclose(pipe), 0) << text;
  const RawNode root = ParseDecodeRaw(text);

  EXPECT_EQ(root.Scalar(1), "7") << "Model.specificationVersion = 1\n" << text;
  const RawNode* desc = root.Child(2);  // Model.description
  ASSERT_NE(desc, nullptr) << text;
  const RawNode* input = desc->Child(1);  // ModelDescription.input
  ASSERT_NE(input, nullptr);
  EXPECT_EQ(input->Scalar(1), "\"x\"");         // FeatureDescription.name
  const RawNode* input_type = input->Child(3);  // FeatureDescription.type
  ASSERT_NE(input_type, nullptr);
  ASSERT_NE(input_type->Child(5), nullptr);             // FeatureType.multiArrayType
  EXPECT_EQ(input_type->Child(5)->Scalar(2), "65568");  // ArrayFeatureType.dataType = FLOAT32
  ASSERT_NE(desc->Child(10), nullptr);                  // ModelDescription.output
  EXPECT_EQ(desc->Child(10)->Scalar(1), "\"z\"");
  const RawNode* meta = desc->Child(100);  // ModelDescription.metadata
  ASSERT_NE(meta, nullptr);
  EXPECT_EQ(meta->Scalar(2), "\"1.0\"");                          // Metadata.versionString
  EXPECT_EQ(meta->MapScalar(100, "converter"), "\"ts2coreml\"");  // Metadata.userDefined
  EXPECT_EQ(meta->All(100).size(), 2u);

  const RawNode* program = root.Child(502);  // Model.mlProgram
  ASSERT_NE(program, nullptr) << text;
  EXPECT_EQ(program->Scalar(1), "1");                // Program.version
  const RawNode* fn = program->MapValue(2, "main");  // Program.functions["main"]
  ASSERT_NE(fn, nullptr) << text;
  EXPECT_EQ(fn->Scalar(2), "\"CoreML6\"");         // Function.opset
  ASSERT_NE(fn->Child(1), nullptr);                // Function.inputs
  EXPECT_EQ(fn->Child(1)->Scalar(1), "\"x\"");     // NamedValueType.name
  const RawNode* x_type = fn->Child(1)->Child(2);  // NamedValueType.type
  ASSERT_NE(x_type, nullptr);
  ASSERT_NE(x_type->Child(1), nullptr);            // ValueType.tensorType
  EXPECT_EQ(x_type->Child(1)->Scalar(1), "11");    // TensorType.dataType = FLOAT32
  EXPECT_EQ(x_type->Child(1)->Scalar(2), "2");     // TensorType.rank
  ASSERT_EQ(x_type->Child(1)->All(3).size(), 2u);  // TensorType.dimensions
  EXPECT_EQ(x_type->Child(1)->All(3)[1]->Child(1)->Scalar(1), "3");  // constant.size

  const RawNode* block = fn->MapValue(3, "CoreML6");  // Function.block_specializations
  ASSERT_NE(block, nullptr) << text;
  EXPECT_EQ(block->Scalar(2), "\"z\"");                   // Block.outputs
  const std::vector<const RawNode*> ops = block->All(3);  // Block.operations
  ASSERT_EQ(ops.size(), 8u);
  const RawNode* w = ops[0];
  EXPECT_EQ(w->Scalar(1), "\"const\"");          // Operation.type
  const RawNode* name = w->MapValue(5, "name");  // Operation.attributes["name"]
  ASSERT_NE(name, nullptr);
  // Value.immediateValue(3).tensor(1).strings(4). decode_raw stops nesting at depth 10 and prints
  // deeper messages as escaped bytes: 0x0a 0x01 'w' is RepeatedStrings.values(1) = "w".
  ASSERT_NE(name->Child(3), nullptr);
  ASSERT_NE(name->Child(3)->Child(1), nullptr);
  EXPECT_EQ(name->Child(3)->Child(1)->Scalar(4), "\"\\n\\001w\"");
  EXPECT_EQ(name->Child(2)->Child(1)->Scalar(1), "2");  // Value.type: STRING scalar
  const RawNode* val = w->MapValue(5, "val");
  ASSERT_NE(val, nullptr);
  const RawNode* blob = val->Child(5);  // Value.blobFileValue
  ASSERT_NE(blob, nullptr) << text;
  EXPECT_EQ(blob->Scalar(1), "\"@model_path/weights/weight.bin\"");  // BlobFileValue.fileName
  EXPECT_EQ(blob->Scalar(2), "64");                                  // BlobFileValue.offset
  ASSERT_NE(w->Child(3), nullptr);                                   // Operation.outputs
  EXPECT_EQ(w->Child(3)->Scalar(1), "\"w\"");

  // axis (op 3) is an int32 immediate: TensorValue.ints(2).values(1).
  const RawNode* axis_val = ops[3]->MapValue(5, "val");
  ASSERT_NE(axis_val, nullptr);
  EXPECT_EQ(axis_val->Child(2)->Child(1)->Scalar(1), "23");  // INT32
  // TensorValue.ints(2) as bytes: RepeatedInts.values(1), packed, length 1, value 1.
  EXPECT_EQ(axis_val->Child(3)->Child(1)->Scalar(2), "\"\\n\\001\\001\"");

  const RawNode* concat = ops[7];
  EXPECT_EQ(concat->Scalar(1), "\"concat\"");
  const RawNode* values = concat->MapValue(2, "values");  // Operation.inputs["values"]
  ASSERT_NE(values, nullptr) << text;
  const std::vector<const RawNode*> bindings = values->All(1);  // Argument.arguments
  ASSERT_EQ(bindings.size(), 2u);
  EXPECT_EQ(bindings[0]->Scalar(1), "\"y\"");  // Binding.name
}

}  // namespace
}  // namespace ts2coreml::mil
