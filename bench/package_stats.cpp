// Facts about a converted package for bench/run, as one JSON object on stdout:
//
//   package_stats OUT.mlpackage
//   {"package_bytes": ..., "weight_bin_bytes": ..., "blobs": ..., "blob_float_elements": ...,
//    "blob_fp16_bytes": ..., "blob_data_bytes": ..., "immediate_float_elements": ...}
//
// blob_fp16_bytes is 2 bytes per element of every float constant the program keeps in weight.bin:
// what weight.bin would hold if every kept weight were FP16, without headers or padding.
// Exit code 0, or 1 with a one-line error when the package cannot be read or is invalid.
#include <cstdint>
#include <filesystem>
#include <iostream>
#include <string>

#include "absl/strings/str_cat.h"
#include "core/base/json.h"
#include "core/mil/package_reader.h"

namespace {

namespace fs = std::filesystem;
namespace mil_pb = CoreML::Specification::MILSpec;

uint64_t TreeBytes(const fs::path& root) {
  uint64_t total = 0;
  for (const fs::directory_entry& e : fs::recursive_directory_iterator(root)) {
    if (e.is_regular_file()) total += e.file_size();
  }
  return total;
}

bool IsFloatType(int t) {
  return t == mil_pb::FLOAT16 || t == mil_pb::FLOAT32 || t == mil_pb::FLOAT64 ||
         t == mil_pb::BFLOAT16;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: package_stats OUT.mlpackage\n";
    return 2;
  }
  absl::StatusOr<ts2coreml::mil::Package> p = ts2coreml::mil::ReadPackage(argv[1]);
  absl::Status valid = p.ok() ? ts2coreml::mil::ValidatePackage(*p) : p.status();
  if (!valid.ok()) {
    std::cerr << "package_stats: " << argv[1] << ": " << valid.message() << "\n";
    return 1;
  }
  absl::StatusOr<const mil_pb::Block*> block = ts2coreml::mil::MainBlock(*p);
  if (!block.ok()) {
    std::cerr << "package_stats: " << argv[1] << ": " << block.status().message() << "\n";
    return 1;
  }
  int64_t blobs = 0, blob_float_elements = 0, immediate_float_elements = 0, blob_data_bytes = 0;
  for (const mil_pb::Operation& op : (*block)->operations()) {
    if (op.type() != "const") continue;
    const mil_pb::Value& val = op.attributes().at("val");
    const mil_pb::TensorType& t = val.type().tensortype();
    int64_t numel = 1;
    for (const mil_pb::Dimension& d : t.dimensions()) numel *= d.constant().size();
    const int64_t elem = t.datatype() == mil_pb::FLOAT32 ? 4 : 2;
    if (val.has_blobfilevalue()) {
      ++blobs;
      if (IsFloatType(t.datatype())) blob_float_elements += numel;
      blob_data_bytes += numel * elem;
    } else if (IsFloatType(t.datatype())) {
      immediate_float_elements += numel;
    }
  }
  std::error_code ec;
  const uint64_t weight_bin = fs::exists(p->weights_path, ec) ? fs::file_size(p->weights_path) : 0;
  ts2coreml::json::Writer w;
  w.BeginObject()
      .Key("package_bytes")
      .Int(static_cast<int64_t>(TreeBytes(argv[1])))
      .Key("weight_bin_bytes")
      .Int(static_cast<int64_t>(weight_bin))
      .Key("blobs")
      .Int(blobs)
      .Key("blob_float_elements")
      .Int(blob_float_elements)
      .Key("blob_fp16_bytes")
      .Int(2 * blob_float_elements)
      .Key("blob_data_bytes")
      .Int(blob_data_bytes)
      .Key("immediate_float_elements")
      .Int(immediate_float_elements)
      .EndObject();
  std::cout << w.Finish();
  return 0;
}
