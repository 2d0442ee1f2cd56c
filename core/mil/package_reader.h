/// Reads a Core ML package (.mlpackage) back and checks it the way Core ML would, plus small
/// helpers for tests and tools that inspect a converted model.
///
///   absl::StatusOr<Package> p = ReadPackage("Net.mlpackage");
///   absl::Status valid = ValidatePackage(*p);
///   absl::StatusOr<std::map<std::string, int>> ops = OpTypeHistogram(*p);
#ifndef TS2COREML_CORE_MIL_PACKAGE_READER_H_
#define TS2COREML_CORE_MIL_PACKAGE_READER_H_

#include <filesystem>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "core/mil/proto/mil.pb.h"
#include "core/mil/proto/model.pb.h"

namespace ts2coreml::mil {

/// A package as read from disk.
struct Package {
  /// The .mlpackage folder.
  std::filesystem::path root;
  /// The parsed Data/com.apple.CoreML/model.mlmodel.
  CoreML::Specification::Model model;
  /// Manifest.json verbatim.
  std::string manifest_json;
  /// The manifest's rootModelIdentifier.
  std::string root_model_identifier;
  /// The root model file the manifest points to.
  std::filesystem::path model_path;
  /// Where "@model_path/weights/weight.bin" resolves to (may not exist for weightless models).
  std::filesystem::path weights_path;
};

/// Parses Manifest.json (checking the root identifier and that every item has author,
/// description, name and path) and loads the root model.
absl::StatusOr<Package> ReadPackage(const std::filesystem::path& dir);

/// Checks what Core ML relies on: spec version >= 6, an ML Program with a "main" function and a
/// block for its opset, SSA order (every binding names a var defined earlier), valid and unique
/// names, defined block outputs, a description matching the function's inputs/outputs, and every
/// const's value (immediate element counts; blob records, dtypes and sizes in weight.bin). The
/// error names the op or var at fault.
absl::Status ValidatePackage(const Package& package);

/// "fp16", "fp32", "int32", ... for a MIL data type; "dtype(N)" for one without a name.
std::string DataTypeName(CoreML::Specification::MILSpec::DataType dtype);
/// Bytes per element of `dtype` in raw data and blobs; 0 for a dtype without a fixed size.
size_t ElementSize(CoreML::Specification::MILSpec::DataType dtype);

/// Whether `name` matches `[A-Za-z_][A-Za-z0-9_@]*`.
bool IsValidMilIdentifier(std::string_view name);

/// The block of function "main" for its opset.
absl::StatusOr<const CoreML::Specification::MILSpec::Block*> MainBlock(const Package& package);

/// Calls `fn` on every op of `block` in program order, each op before the ops of its nested blocks
/// (cond's branches, while_loop's condition and body).
void ForEachOperation(
    const CoreML::Specification::MILSpec::Block& block,
    const std::function<void(const CoreML::Specification::MILSpec::Operation&)>& fn);

/// Number of ops of each type in the main block (nested blocks included).
absl::StatusOr<std::map<std::string, int>> OpTypeHistogram(const Package& package);

/// The op of the main block that produces `var_name`.
absl::StatusOr<const CoreML::Specification::MILSpec::Operation*> FindProducer(
    const Package& package, std::string_view var_name);

/// The elements of a tensor value (a const's "val"), immediate or in weight.bin, widened to
/// float. Supports fp16, fp32, int32 and bool tensors.
absl::StatusOr<std::vector<float>> ReadConstFloats(
    const Package& package, const CoreML::Specification::MILSpec::Value& value);

}  // namespace ts2coreml::mil

#endif  // TS2COREML_CORE_MIL_PACKAGE_READER_H_
