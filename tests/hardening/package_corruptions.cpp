#include "tests/hardening/package_corruptions.h"

#include <cstdint>
#include <fstream>
#include <iterator>
#include <utility>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "core/base/json.h"
#include "core/mil/package_reader.h"
#include "core/mil/package_writer.h"
#include "core/mil/program.h"

namespace ts2coreml::testing {
namespace {

namespace fs = std::filesystem;
namespace spec_pb = CoreML::Specification;
namespace mil_pb = CoreML::Specification::MILSpec;

// Blob layout of the valid package: w fp16[16,3] (96 bytes) then b fp16[16] (32 bytes).
constexpr uint64_t kWeightRecord = 64;  // data at 128..224
constexpr uint64_t kBiasRecord = 256;   // data at 320..352
constexpr uint64_t kWeightFileSize = 384;

fs::path ManifestPath(const fs::path& root) { return root / "Manifest.json"; }
fs::path ModelPath(const fs::path& root) { return root / "Data/com.apple.CoreML/model.mlmodel"; }
fs::path WeightsPath(const fs::path& root) {
  return root / "Data/com.apple.CoreML/weights/weight.bin";
}

absl::StatusOr<std::string> ReadBytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot open ", path.string()));
  return std::string(std::istreambuf_iterator<char>(in), {});
}

absl::Status WriteBytes(const fs::path& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  out.close();
  return out ? absl::OkStatus() : absl::InternalError(absl::StrCat("cannot write ", path.string()));
}

absl::Status Remove(const fs::path& path) {
  std::error_code ec;
  if (!fs::remove(path, ec) || ec) return absl::InternalError("cannot remove " + path.string());
  return absl::OkStatus();
}

absl::Status Truncate(const fs::path& path, uint64_t size) {
  std::error_code ec;
  fs::resize_file(path, size, ec);
  return ec ? absl::InternalError("cannot truncate " + path.string()) : absl::OkStatus();
}

// Overwrites the little-endian integer at `offset` of `path`.
template <typename T>
absl::Status Poke(const fs::path& path, uint64_t offset, T value) {
  absl::StatusOr<std::string> bytes = ReadBytes(path);
  if (!bytes.ok()) return bytes.status();
  if (offset + sizeof(T) > bytes->size()) return absl::OutOfRangeError("poke past the end");
  for (size_t i = 0; i < sizeof(T); ++i) {
    (*bytes)[offset + i] = static_cast<char>((static_cast<uint64_t>(value) >> (8 * i)) & 0xff);
  }
  return WriteBytes(path, *bytes);
}

// Reads the package, lets `edit` change the model protobuf, writes model.mlmodel back.
absl::Status EditModel(const fs::path& root,
                       const std::function<absl::Status(spec_pb::Model*)>& edit) {
  absl::StatusOr<mil::Package> p = mil::ReadPackage(root);
  if (!p.ok()) return p.status();
  if (absl::Status s = edit(&p->model); !s.ok()) return s;
  std::string bytes;
  if (!p->model.SerializeToString(&bytes)) return absl::InternalError("cannot serialize");
  return WriteBytes(p->model_path, bytes);
}

mil_pb::Block* MainBlockOf(spec_pb::Model* model) {
  mil_pb::Function& f = (*model->mutable_mlprogram()->mutable_functions())["main"];
  return &(*f.mutable_block_specializations())[f.opset()];
}

// The op of the main block producing `var`; an error when there is none.
absl::StatusOr<mil_pb::Operation*> Producer(spec_pb::Model* model, const std::string& var) {
  for (mil_pb::Operation& op : *MainBlockOf(model)->mutable_operations()) {
    if (op.outputs_size() > 0 && op.outputs(0).name() == var) return &op;
  }
  return absl::NotFoundError("no op produces " + var);
}

// Sets the blob offset of the const producing `var`.
absl::Status SetBlobOffset(spec_pb::Model* model, const std::string& var, uint64_t offset) {
  absl::StatusOr<mil_pb::Operation*> op = Producer(model, var);
  if (!op.ok()) return op.status();
  auto it = (*op)->mutable_attributes()->find("val");
  if (it == (*op)->mutable_attributes()->end() || !it->second.has_blobfilevalue()) {
    return absl::NotFoundError(var + " is not a blob const");
  }
  it->second.mutable_blobfilevalue()->set_offset(offset);
  return absl::OkStatus();
}

void WriteJson(const json::Value& v, json::Writer* w) {
  switch (v.kind) {
    case json::Value::Kind::kNull:
      w->Null();
      break;
    case json::Value::Kind::kBool:
      w->Bool(v.boolean);
      break;
    case json::Value::Kind::kNumber:
      w->Double(v.number);
      break;
    case json::Value::Kind::kString:
      w->String(v.string);
      break;
    case json::Value::Kind::kArray:
      w->BeginArray();
      for (const json::Value& e : v.array) WriteJson(e, w);
      w->EndArray();
      break;
    case json::Value::Kind::kObject:
      w->BeginObject();
      for (const auto& [k, e] : v.object) {
        w->Key(k);
        WriteJson(e, w);
      }
      w->EndObject();
      break;
  }
}

json::Value* Member(json::Value* v, const std::string& key) {
  for (auto& [k, e] : v->object) {
    if (k == key) return &e;
  }
  return nullptr;
}

// Parses Manifest.json, lets `edit` change it (given the root item), writes it back.
absl::Status EditManifest(const fs::path& root,
                          const std::function<void(json::Value* manifest, json::Value* root_item,
                                                   const std::string& root_id)>& edit) {
  absl::StatusOr<std::string> text = ReadBytes(ManifestPath(root));
  if (!text.ok()) return text.status();
  absl::StatusOr<json::Value> manifest = json::Parse(*text);
  if (!manifest.ok()) return manifest.status();
  const std::string root_id = manifest->Find("rootModelIdentifier")->string;
  json::Value* item = Member(Member(&*manifest, "itemInfoEntries"), root_id);
  if (item == nullptr) return absl::InternalError("the valid manifest has no root item");
  edit(&*manifest, item, root_id);
  json::Writer w;
  WriteJson(*manifest, &w);
  return WriteBytes(ManifestPath(root), w.Finish());
}

PackageCorruption Make(std::string name, std::string expected,
                       std::function<absl::Status(const fs::path&)> apply) {
  return PackageCorruption{std::move(name), std::move(apply), std::move(expected)};
}

}  // namespace

absl::Status WriteValidPackage(const fs::path& dir) {
  mil::Function f("CoreML6");
  const mil::VarId x = f.AddInput("x", {mil::DType::kFloat32, {1, 3}});
  const mil::VarId dtype = f.AddConst("dtype", mil::ConstValue::String("fp16"));
  std::vector<float> w(48), b(16);
  for (size_t i = 0; i < w.size(); ++i) w[i] = 0.25f * static_cast<float>(i) - 4.0f;
  for (size_t i = 0; i < b.size(); ++i) b[i] = 0.5f - 0.125f * static_cast<float>(i);
  const mil::VarId wv = f.AddConst("w", mil::ConstValue::Float16({16, 3}, w.data()));
  const mil::VarId bv = f.AddConst("b", mil::ConstValue::Float16({16}, b.data()));
  auto x16 = f.AddOp("cast", "x_to_fp16", {{"x", {x}}, {"dtype", {dtype}}},
                     {{mil::DType::kFloat16, {1, 3}}});
  if (!x16.ok()) return x16.status();
  auto y = f.AddOp("linear", "y", {{"x", {(*x16)[0]}}, {"weight", {wv}}, {"bias", {bv}}},
                   {{mil::DType::kFloat16, {1, 16}}});
  if (!y.ok()) return y.status();
  auto r = f.AddOp("relu", "r", {{"x", {(*y)[0]}}}, {{mil::DType::kFloat16, {1, 16}}});
  if (!r.ok()) return r.status();
  const mil::VarId dtype32 = f.AddConst("dtype32", mil::ConstValue::String("fp32"));
  auto out = f.AddOp("cast", "out", {{"x", {(*r)[0]}}, {"dtype", {dtype32}}},
                     {{mil::DType::kFloat32, {1, 16}}});
  if (!out.ok()) return out.status();
  if (absl::Status s = f.AddOutput((*out)[0]); !s.ok()) return s;
  mil::ModelSpec spec;
  spec.specification_version = 7;
  spec.inputs = {{"x", mil::DType::kFloat32, {1, 3}}};
  spec.outputs = {{"out", mil::DType::kFloat32, {1, 16}}};
  spec.author = "ts2coreml hardening tests";
  absl::StatusOr<mil::WriteStats> stats = mil::WritePackageDir(spec, f, dir);
  if (!stats.ok()) return stats.status();
  if (stats->weight_file_bytes != kWeightFileSize) {
    return absl::InternalError(absl::StrCat("weight.bin is ", stats->weight_file_bytes,
                                            " bytes; the corruptions expect ", kWeightFileSize));
  }
  return absl::OkStatus();
}

const std::vector<PackageCorruption>& PackageCorruptions() {
  static const auto* list = new std::vector<PackageCorruption>{
      // Manifest.json
      Make("manifest_missing", "Manifest.json",
           [](const fs::path& r) { return Remove(ManifestPath(r)); }),
      Make("manifest_empty", "Manifest.json",
           [](const fs::path& r) { return WriteBytes(ManifestPath(r), ""); }),
      Make("manifest_not_json", "Manifest.json",
           [](const fs::path& r) {
             return WriteBytes(ManifestPath(r), "{\"fileFormatVersion\": ");
           }),
      Make("manifest_root_entry_missing", "has no entry in itemInfoEntries",
           [](const fs::path& r) {
             return EditManifest(r, [](json::Value* m, json::Value*, const std::string& id) {
               auto& items = Member(m, "itemInfoEntries")->object;
               for (auto it = items.begin(); it != items.end(); ++it) {
                 if (it->first == id) {
                   items.erase(it);
                   break;
                 }
               }
             });
           }),
      Make("manifest_item_without_path", "lacks string \"path\"",
           [](const fs::path& r) {
             return EditManifest(r, [](json::Value*, json::Value* item, const std::string&) {
               auto& fields = item->object;
               for (auto it = fields.begin(); it != fields.end(); ++it) {
                 if (it->first == "path") {
                   fields.erase(it);
                   break;
                 }
               }
             });
           }),
      Make("manifest_path_leaves_package", "leaves the package",
           [](const fs::path& r) {
             return EditManifest(r, [](json::Value*, json::Value* item, const std::string&) {
               Member(item, "path")->string = "../../outside/model.mlmodel";
             });
           }),
      Make("manifest_root_id_not_string", "rootModelIdentifier",
           [](const fs::path& r) {
             return EditManifest(r, [](json::Value* m, json::Value*, const std::string&) {
               json::Value* id = Member(m, "rootModelIdentifier");
               id->kind = json::Value::Kind::kNumber;
               id->number = 7;
             });
           }),
      // model.mlmodel
      Make("model_file_missing", "model.mlmodel",
           [](const fs::path& r) { return Remove(ModelPath(r)); }),
      Make("model_not_protobuf", "not a valid Core ML model protobuf",
           [](const fs::path& r) { return WriteBytes(ModelPath(r), "\xff\xff\xff\xff garbage"); }),
      Make("model_truncated", "not a valid Core ML model protobuf",
           [](const fs::path& r) -> absl::Status {
             absl::StatusOr<std::string> bytes = ReadBytes(ModelPath(r));
             if (!bytes.ok()) return bytes.status();
             return WriteBytes(ModelPath(r), bytes->substr(0, bytes->size() / 2));
           }),
      Make("undefined_var", "'ghost', which is not defined",
           [](const fs::path& r) {
             return EditModel(r, [](spec_pb::Model* m) -> absl::Status {
               absl::StatusOr<mil_pb::Operation*> relu = Producer(m, "r");
               if (!relu.ok()) return relu.status();
               (*(*relu)->mutable_inputs())["x"].mutable_arguments(0)->set_name("ghost");
               return absl::OkStatus();
             });
           }),
      Make("op_before_its_input", "SSA order",
           [](const fs::path& r) {
             return EditModel(r, [](spec_pb::Model* m) {
               auto* ops = MainBlockOf(m)->mutable_operations();
               ops->SwapElements(ops->size() - 1, ops->size() - 2);  // `out` before `dtype32`
               return absl::OkStatus();
             });
           }),
      Make("block_output_undefined", "is not defined",
           [](const fs::path& r) {
             return EditModel(r, [](spec_pb::Model* m) {
               MainBlockOf(m)->set_outputs(0, "ghost");
               return absl::OkStatus();
             });
           }),
      Make("no_main_function", "no function 'main'",
           [](const fs::path& r) {
             return EditModel(r, [](spec_pb::Model* m) {
               auto* fns = m->mutable_mlprogram()->mutable_functions();
               (*fns)["other"] = (*fns)["main"];
               fns->erase("main");
               return absl::OkStatus();
             });
           }),
      Make("description_names_unknown_input", "is not an input of 'main'",
           [](const fs::path& r) {
             return EditModel(r, [](spec_pb::Model* m) {
               m->mutable_description()->mutable_input(0)->set_name("y");
               return absl::OkStatus();
             });
           }),
      Make("blob_offset_past_end", "past the end",
           [](const fs::path& r) {
             return EditModel(r, [](spec_pb::Model* m) { return SetBlobOffset(m, "w", 1u << 20); });
           }),
      Make("blob_offset_unaligned", "not 64-byte aligned",
           [](const fs::path& r) {
             return EditModel(
                 r, [](spec_pb::Model* m) { return SetBlobOffset(m, "w", kWeightRecord + 8); });
           }),
      Make("blob_offset_in_header", "overlaps the file header",
           [](const fs::path& r) {
             return EditModel(r, [](spec_pb::Model* m) { return SetBlobOffset(m, "w", 0); });
           }),
      Make("blob_offset_max", "past the end",
           [](const fs::path& r) {
             return EditModel(
                 r, [](spec_pb::Model* m) { return SetBlobOffset(m, "b", UINT64_MAX - 63); });
           }),
      Make("const_dims_overflow", "more than 2^48 elements",
           [](const fs::path& r) {
             // 2^62 x 4 fp16 elements: the byte count wraps to 0, which an empty blob would match.
             return EditModel(r, [](spec_pb::Model* m) -> absl::Status {
               absl::StatusOr<mil_pb::Operation*> w = Producer(m, "w");
               if (!w.ok()) return w.status();
               for (mil_pb::TensorType* t :
                    {(*w)->mutable_attributes()->at("val").mutable_type()->mutable_tensortype(),
                     (*w)->mutable_outputs(0)->mutable_type()->mutable_tensortype()}) {
                 t->mutable_dimensions(0)->mutable_constant()->set_size(uint64_t{1} << 62);
                 t->mutable_dimensions(1)->mutable_constant()->set_size(4);
               }
               return absl::OkStatus();
             });
           }),
      // weight.bin
      Make("weight_bin_missing", "cannot open weight file",
           [](const fs::path& r) { return Remove(WeightsPath(r)); }),
      Make("weight_bin_shorter_than_header", "shorter than its 64-byte header",
           [](const fs::path& r) { return Truncate(WeightsPath(r), 10); }),
      Make("weight_bin_truncated_in_data", "past the end",
           [](const fs::path& r) { return Truncate(WeightsPath(r), kBiasRecord + 64 + 16); }),
      Make("weight_bin_truncated_in_record", "past the end",
           [](const fs::path& r) { return Truncate(WeightsPath(r), kBiasRecord + 32); }),
      Make("weight_bin_wrong_version", "has version 3",
           [](const fs::path& r) { return Poke<uint32_t>(WeightsPath(r), 4, 3); }),
      Make("wrong_sentinel", "sentinel",
           [](const fs::path& r) {
             return Poke<uint32_t>(WeightsPath(r), kWeightRecord, 0xCAFEBABE);
           }),
      Make("blob_dtype_unknown", "unknown data type code 99",
           [](const fs::path& r) { return Poke<uint32_t>(WeightsPath(r), kWeightRecord + 4, 99); }),
      Make("blob_dtype_mismatch", "holds Float32",
           [](const fs::path& r) { return Poke<uint32_t>(WeightsPath(r), kBiasRecord + 4, 2); }),
      Make("blob_size_mismatch", "needs 96 bytes",
           [](const fs::path& r) { return Poke<uint64_t>(WeightsPath(r), kWeightRecord + 8, 64); }),
      Make("blob_size_huge", "past the end",
           [](const fs::path& r) {
             return Poke<uint64_t>(WeightsPath(r), kWeightRecord + 8, UINT64_MAX - 1);
           }),
      Make("blob_data_offset_past_end", "past the end",
           [](const fs::path& r) {
             return Poke<uint64_t>(WeightsPath(r), kWeightRecord + 16, 1u << 20);
           }),
  };
  return *list;
}

}  // namespace ts2coreml::testing
