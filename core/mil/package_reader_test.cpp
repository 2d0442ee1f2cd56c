#include "core/mil/package_reader.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <string>
#include <system_error>
#include <vector>

#include "absl/status/status.h"
#include "core/mil/package_writer.h"
#include "core/mil/program.h"
#include "core/mil/test_dir.h"
#include "gtest/gtest.h"

namespace ts2coreml::mil {
namespace {

namespace fs = std::filesystem;
namespace mil_pb = CoreML::Specification::MILSpec;

fs::path TestDir() { return test::TestDir("mil_reader_"); }

using test::ReadText;

void WriteText(const fs::path& path, const std::string& text) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << text;
}

const std::vector<float> kWeights = {0.5f, 1.5f, -2.0f, 3.0f, 4.0f, 5.0f,
                                     6.0f, 7.0f, 8.0f,  9.0f, 10.f, 11.f};

// x: fp32[1,3] -> linear(w fp32[4,3] blob, b fp16[4] immediate) -> y -> relu -> out
fs::path WriteTestPackage(const fs::path& dir) {
  Function f("CoreML7");
  const VarId x = f.AddInput("x", {DType::kFloat32, {1, 3}});
  const VarId w = f.AddConst("w", ConstValue::Float32({4, 3}, kWeights.data()));
  const float bias[4] = {0.5f, -1.0f, 2.0f, 65504.0f};
  const VarId b = f.AddConst("b", ConstValue::Float16({4}, bias));
  const int32_t axis = -1;
  f.AddConst("axis", ConstValue::Int32({1}, &axis));
  const VarId y = (*f.AddOp("linear", "y", {{"x", {x}}, {"weight", {w}}, {"bias", {b}}},
                            {{DType::kFloat32, {1, 4}}}))[0];
  const VarId out = (*f.AddOp("relu", "out", {{"x", {y}}}, {{DType::kFloat32, {1, 4}}}))[0];
  EXPECT_TRUE(f.AddOutput(out).ok());
  ModelSpec spec;
  spec.specification_version = 8;
  spec.inputs = {{"x", DType::kFloat32, {1, 3}}};
  spec.outputs = {{"out", DType::kFloat32, {1, 4}}};
  const fs::path pkg = dir / "Test.mlpackage";
  absl::StatusOr<WriteStats> stats = WritePackageDir(spec, f, pkg);
  EXPECT_TRUE(stats.ok()) << stats.status();
  return pkg;
}

mil_pb::Block* Block(CoreML::Specification::Model& model) {
  return &(*model.mutable_mlprogram()->mutable_functions())["main"]
              .mutable_block_specializations()
              ->at("CoreML7");
}

mil_pb::Operation* Op(CoreML::Specification::Model& model, const std::string& type) {
  for (mil_pb::Operation& op : *Block(model)->mutable_operations()) {
    if (op.type() == type) return &op;
  }
  return nullptr;
}

mil_pb::Operation* Const(CoreML::Specification::Model& model, const std::string& var) {
  for (mil_pb::Operation& op : *Block(model)->mutable_operations()) {
    if (op.outputs(0).name() == var) return &op;
  }
  return nullptr;
}

// Reads the package, applies `mutate` to its model, writes it back and validates the result.
absl::Status ValidateMutated(const fs::path& pkg,
                             const std::function<void(CoreML::Specification::Model&)>& mutate) {
  absl::StatusOr<Package> p = ReadPackage(pkg);
  if (!p.ok()) return p.status();
  mutate(p->model);
  WriteText(p->model_path, p->model.SerializeAsString());
  absl::StatusOr<Package> again = ReadPackage(pkg);
  if (!again.ok()) return again.status();
  return ValidatePackage(*again);
}

#define EXPECT_INVALID(status, fragment)                                             \
  do {                                                                               \
    const absl::Status s_ = (status);                                                \
    EXPECT_FALSE(s_.ok());                                                           \
    EXPECT_NE(s_.message().find(fragment), absl::string_view::npos) << s_.message(); \
  } while (0)

TEST(MilPackageReaderTest, ReadsAndValidatesAWrittenPackage) {
  const fs::path pkg = WriteTestPackage(TestDir());
  absl::StatusOr<Package> p = ReadPackage(pkg);
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->root, pkg);
  EXPECT_EQ(p->model_path, pkg / "Data" / "com.apple.CoreML" / "model.mlmodel");
  EXPECT_EQ(p->weights_path, pkg / "Data" / "com.apple.CoreML" / "weights" / "weight.bin");
  EXPECT_EQ(p->root_model_identifier.size(), 36u);
  EXPECT_NE(p->manifest_json.find(p->root_model_identifier), std::string::npos);
  EXPECT_EQ(p->model.specificationversion(), 8);
  absl::Status valid = ValidatePackage(*p);
  EXPECT_TRUE(valid.ok()) << valid;

  absl::StatusOr<std::map<std::string, int>> histogram = OpTypeHistogram(*p);
  ASSERT_TRUE(histogram.ok());
  EXPECT_EQ(*histogram, (std::map<std::string, int>{{"const", 3}, {"linear", 1}, {"relu", 1}}));

  absl::StatusOr<const mil_pb::Operation*> linear = FindProducer(*p, "y");
  ASSERT_TRUE(linear.ok());
  EXPECT_EQ((*linear)->type(), "linear");
  EXPECT_EQ(FindProducer(*p, "nothing").status().code(), absl::StatusCode::kNotFound);

  absl::StatusOr<const mil_pb::Operation*> w = FindProducer(*p, "w");
  ASSERT_TRUE(w.ok());
  absl::StatusOr<std::vector<float>> weights = ReadConstFloats(*p, (*w)->attributes().at("val"));
  ASSERT_TRUE(weights.ok()) << weights.status();
  EXPECT_EQ(*weights, kWeights);
  absl::StatusOr<std::vector<float>> bias =
      ReadConstFloats(*p, (*FindProducer(*p, "b"))->attributes().at("val"));
  ASSERT_TRUE(bias.ok()) << bias.status();
  EXPECT_EQ(*bias, (std::vector<float>{0.5f, -1.0f, 2.0f, 65504.0f}));
  absl::StatusOr<std::vector<float>> axis =
      ReadConstFloats(*p, (*FindProducer(*p, "axis"))->attributes().at("val"));
  ASSERT_TRUE(axis.ok()) << axis.status();
  EXPECT_EQ(*axis, std::vector<float>{-1.0f});
}

TEST(MilPackageReaderTest, UndefinedVar) {
  const fs::path pkg = WriteTestPackage(TestDir());
  EXPECT_INVALID(
      ValidateMutated(pkg,
                      [](auto& m) {
                        (*Op(m, "linear")->mutable_inputs())["x"].mutable_arguments(0)->set_name(
                            "ghost");
                      }),
      "op 'y_op' (linear) input 'x' names var 'ghost', which is not defined");
}

TEST(MilPackageReaderTest, OutOfOrderOp) {
  const fs::path pkg = WriteTestPackage(TestDir());
  EXPECT_INVALID(ValidateMutated(pkg,
                                 [](auto& m) {
                                   auto* ops = Block(m)->mutable_operations();
                                   ops->SwapElements(ops->size() - 1, ops->size() - 2);
                                 }),
                 "uses var 'y' before op #4 defines it");
}

TEST(MilPackageReaderTest, BadSentinel) {
  const fs::path pkg = WriteTestPackage(TestDir());
  const fs::path weights = pkg / "Data" / "com.apple.CoreML" / "weights" / "weight.bin";
  std::string bytes = ReadText(weights);
  ASSERT_GT(bytes.size(), 64u);
  bytes[64] = 0;
  WriteText(weights, bytes);
  absl::StatusOr<Package> p = ReadPackage(pkg);
  ASSERT_TRUE(p.ok());
  const absl::Status s = ValidatePackage(*p);
  EXPECT_INVALID(s, "op 'w' (const)");
  EXPECT_INVALID(s, "sentinel");
  EXPECT_FALSE(ReadConstFloats(*p, (*FindProducer(*p, "w"))->attributes().at("val")).ok());
}

TEST(MilPackageReaderTest, BlobMismatches) {
  const fs::path pkg = WriteTestPackage(TestDir());
  auto set_type = [](mil_pb::Operation* op, mil_pb::DataType dtype, std::vector<uint64_t> dims) {
    for (mil_pb::TensorType* t :
         {op->mutable_attributes()->at("val").mutable_type()->mutable_tensortype(),
          op->mutable_outputs(0)->mutable_type()->mutable_tensortype()}) {
      t->set_datatype(dtype);
      t->set_rank(static_cast<int64_t>(dims.size()));
      t->clear_dimensions();
      for (uint64_t d : dims) t->add_dimensions()->mutable_constant()->set_size(d);
    }
  };
  const std::string original = ReadText(pkg / "Data" / "com.apple.CoreML" / "model.mlmodel");
  auto restore = [&] { WriteText(pkg / "Data" / "com.apple.CoreML" / "model.mlmodel", original); };

  EXPECT_INVALID(ValidateMutated(pkg,
                                 [&](auto& m) {
                                   set_type(Const(m, "w"), mil_pb::FLOAT16, {4, 6});
                                 }),
                 "op 'w' (const) is FLOAT16 but its blob at offset 64 holds Float32");
  restore();
  EXPECT_INVALID(ValidateMutated(pkg,
                                 [&](auto& m) {
                                   set_type(Const(m, "w"), mil_pb::FLOAT32, {4, 2});
                                 }),
                 "op 'w' (const) needs 32 bytes but its blob at offset 64 holds 48");
  restore();
  EXPECT_INVALID(
      ValidateMutated(
          pkg,
          [](auto& m) {
            Const(m, "w")->mutable_attributes()->at("val").mutable_blobfilevalue()->set_offset(
                4096);
          }),
      "past the end");
  restore();
  EXPECT_INVALID(
      ValidateMutated(
          pkg,
          [](auto& m) {
            Const(m, "w")->mutable_attributes()->at("val").mutable_blobfilevalue()->set_filename(
                "@model_path/weights/other.bin");
          }),
      "other.bin");
}

// A missing path and a file in place of the package folder are told apart.
TEST(MilPackageReaderTest, MissingPathAndFileAreToldApart) {
  const fs::path dir = TestDir();
  absl::StatusOr<Package> missing = ReadPackage(dir / "nowhere.mlpackage");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("does not exist"), std::string::npos)
      << missing.status();
  const fs::path file = dir / "file.mlpackage";
  std::ofstream(file) << "not a package";
  absl::StatusOr<Package> not_folder = ReadPackage(file);
  ASSERT_FALSE(not_folder.ok());
  EXPECT_NE(not_folder.status().message().find("is not a folder"), std::string::npos)
      << not_folder.status();
}

TEST(MilPackageReaderTest, StructuralErrors) {
  const fs::path pkg = WriteTestPackage(TestDir());
  const fs::path model_file = pkg / "Data" / "com.apple.CoreML" / "model.mlmodel";
  const std::string original = ReadText(model_file);
  struct Case {
    std::function<void(CoreML::Specification::Model&)> mutate;
    std::string fragment;
  };
  const std::vector<Case> cases = {
      {[](auto& m) { m.set_specificationversion(5); }, "specification version 5"},
      {[](auto& m) { m.clear_mlprogram(); }, "no mlProgram"},
      {[](auto& m) {
         auto* fns = m.mutable_mlprogram()->mutable_functions();
         (*fns)["other"] = fns->at("main");
         fns->erase("main");
       },
       "no function 'main'"},
      {[](auto& m) { (*m.mutable_mlprogram()->mutable_functions())["main"].set_opset("CoreML8"); },
       "no block for its opset 'CoreML8'"},
      {[](auto& m) { Op(m, "relu")->mutable_outputs(0)->set_name("1bad"); },
       "'1bad' is not a valid MIL identifier"},
      {[](auto& m) { Op(m, "relu")->mutable_outputs(0)->set_name("y"); },
       "var 'y' is defined more than once"},
      {[](auto& m) { Const(m, "b")->mutable_attributes()->erase("val"); },
       "op 'b' (const) has no attribute 'val'"},
      {[](auto& m) { Const(m, "axis")->mutable_attributes()->erase("name"); },
       "op #2 (const) has no string attribute 'name'"},
      {[](auto& m) {
         (*Const(m, "axis")->mutable_attributes())["name"] = Const(m, "b")->attributes().at("name");
       },
       "another op has the same name"},
      {[](auto& m) {
         Const(m, "axis")
             ->mutable_attributes()
             ->at("val")
             .mutable_immediatevalue()
             ->mutable_tensor()
             ->mutable_ints()
             ->add_values(7);
       },
       "op 'axis' (const) 'val' holds 2 elements, its type needs 1"},
      {[](auto& m) { Block(m)->set_outputs(0, "missing"); }, "output 'missing' is not defined"},
      {[](auto& m) { m.mutable_description()->mutable_input(0)->set_name("image"); },
       "model input 'image' is not an input of 'main'"},
      {[](auto& m) {
         m.mutable_description()
             ->mutable_output(0)
             ->mutable_type()
             ->mutable_multiarraytype()
             ->set_datatype(CoreML::Specification::ArrayFeatureType::INT32);
       },
       "model output 'out' has array type 131104"},
      {[](auto& m) { m.mutable_description()->add_output()->set_name("extra"); },
       "the description has 2 outputs"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.fragment);
    WriteText(model_file, original);
    EXPECT_INVALID(ValidateMutated(pkg, c.mutate), c.fragment);
  }
  WriteText(model_file, original);
  absl::StatusOr<Package> p = ReadPackage(pkg);
  ASSERT_TRUE(p.ok());
  EXPECT_TRUE(ValidatePackage(*p).ok());
}

TEST(MilPackageReaderTest, ManifestErrors) {
  const fs::path pkg = WriteTestPackage(TestDir());
  const fs::path manifest = pkg / "Manifest.json";
  const std::string original = ReadText(manifest);
  absl::StatusOr<Package> good = ReadPackage(pkg);
  ASSERT_TRUE(good.ok());
  const std::string id = good->root_model_identifier;
  auto replaced = [&](const std::string& from, const std::string& to) {
    std::string text = original;
    const size_t at = text.find(from);
    EXPECT_NE(at, std::string::npos) << from;
    if (at != std::string::npos) text.replace(at, from.size(), to);
    return text;
  };

  WriteText(manifest, replaced("\"rootModelIdentifier\": \"" + id,
                               "\"rootModelIdentifier\": \"00000000-0000-0000-0000-000000000000"));
  EXPECT_INVALID(ReadPackage(pkg).status(), "has no entry in itemInfoEntries");

  WriteText(manifest, replaced("\"author\": \"com.apple.CoreML\",", ""));
  EXPECT_INVALID(ReadPackage(pkg).status(), "lacks string \"author\"");

  WriteText(manifest, replaced("\"path\": \"com.apple.CoreML/model.mlmodel\"",
                               "\"path\": \"../../etc/model.mlmodel\""));
  EXPECT_INVALID(ReadPackage(pkg).status(), "leaves the package");

  WriteText(manifest, original.substr(0, original.size() / 2));
  EXPECT_INVALID(ReadPackage(pkg).status(), "invalid JSON");

  WriteText(manifest, "[1, 2]");
  EXPECT_INVALID(ReadPackage(pkg).status(), "not an object");

  // Escapes, unicode, numbers and literals elsewhere in the document are accepted.
  WriteText(manifest, replaced("\"fileFormatVersion\": \"1.0.0\",",
                               "\"fileFormatVersion\": \"1.0.0\", \"x\": [-1.5e3, true, false, "
                               "null, {}, \"caf\\u00e9 \\ud83d\\ude00 \\\"q\\\" \\/\"],"));
  absl::StatusOr<Package> extended = ReadPackage(pkg);
  EXPECT_TRUE(extended.ok()) << extended.status();

  WriteText(manifest, original);
  fs::remove(pkg / "Data" / "com.apple.CoreML" / "model.mlmodel");
  EXPECT_EQ(ReadPackage(pkg).status().code(), absl::StatusCode::kNotFound);
  fs::remove(manifest);
  EXPECT_EQ(ReadPackage(pkg).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(ReadPackage(pkg / "nope").status().code(), absl::StatusCode::kNotFound);
}

TEST(MilPackageReaderTest, Identifiers) {
  EXPECT_TRUE(IsValidMilIdentifier("x"));
  EXPECT_TRUE(IsValidMilIdentifier("_a1"));
  EXPECT_TRUE(IsValidMilIdentifier("var@cast"));
  EXPECT_FALSE(IsValidMilIdentifier(""));
  EXPECT_FALSE(IsValidMilIdentifier("1a"));
  EXPECT_FALSE(IsValidMilIdentifier("@a"));
  EXPECT_FALSE(IsValidMilIdentifier("a.b"));
  EXPECT_FALSE(IsValidMilIdentifier("a-b"));
}

}  // namespace
}  // namespace ts2coreml::mil
