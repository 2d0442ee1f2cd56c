/// Inspection of an ML Program package: what `ts2coreml inspect` prints.
///
/// Works on any package, ours or another tool's: op histogram by dtype, the precision label as
/// Xcode shows it, every FP32 op, FP16/FP32 transitions, weight bytes by dtype. For packages
/// ts2coreml wrote, the reason recorded for each FP32 op and cast at conversion time (metadata
/// userDefined) is shown too.
///
/// The precision label: the dtypes that compute ops produce (every op but `const` and `cast`;
/// bool results of comparisons are not counted), named Float16 / Float32 / Int32 in that order;
/// one dtype gives its name ("Float16"), several give "Mixed (Float16, Float32, Int32)".
#ifndef TS2COREML_CORE_REPORT_PACKAGE_INSPECTION_H_
#define TS2COREML_CORE_REPORT_PACKAGE_INSPECTION_H_

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "core/mil/validator.h"
#include "core/report/residency.h"

namespace ts2coreml::core {

struct InspectedFeature {
  std::string name;
  std::string dtype;
  std::vector<int64_t> shape;
};

struct InspectedFp32Op {
  std::string var;       ///< its output var
  std::string type;      ///< MIL op type
  std::string reason;    ///< recorded by ts2coreml; empty for other tools' packages
  std::string torch_op;  ///< the TorchScript op it came from, when recorded
  std::string source;    ///< TorchScript source location, when recorded
};

struct InspectedCast {
  std::string var;
  std::string from;
  std::string to;
  std::string reason;  ///< recorded by ts2coreml, when known
  /// Reads a const: a weight stored fp16 for an fp32 op, folded by Core ML when the model is
  /// compiled, so not a transition.
  bool of_constant = false;
};

struct PackageInspection {
  std::filesystem::path path;
  int32_t specification_version = 0;
  std::string opset;
  bool written_by_ts2coreml = false;
  std::vector<InspectedFeature> inputs;
  std::vector<InspectedFeature> outputs;
  /// op type -> output dtype -> count (consts excluded, casts included).
  std::map<std::string, std::map<std::string, int>> ops;
  /// The MIL ops, counted as everywhere (convert's summary, docs/coverage.md): consts and casts
  /// not counted.
  int num_ops = 0;
  int num_consts = 0;
  std::string precision_label;
  /// Label type ("Float16") -> op types that contribute it.
  std::map<std::string, std::vector<std::string>> label_contributors;
  std::vector<InspectedFp32Op> fp32_ops;
  std::vector<InspectedCast> casts;
  /// Casts of runtime values between fp16 and fp32: each a likely break in Neural Engine
  /// execution. Casts of constants are not counted.
  int transitions = 0;
  /// FP16 share of float ops and of FLOPs, and transitions inside the program (residency.h).
  Residency residency;
  /// dtype -> constant bytes, in weight.bin and inline in the model.
  std::map<std::string, uint64_t> blob_bytes;
  std::map<std::string, uint64_t> immediate_bytes;
};

/// Reads and validates `path` and inspects it. Errors are class kPackage and name the problem.
absl::StatusOr<PackageInspection> InspectPackage(const std::filesystem::path& path);

/// What `inspect --check` found: every op of a package against Core ML's opset for the package's
/// own opset (CoreML5..CoreML8), every problem at once.
struct PackageCheck {
  std::filesystem::path path;
  std::string opset;
  int num_ops = 0;  ///< ops checked, consts and nested blocks included
  /// A structural problem (ValidatePackage) first, op "package"; then the ops' in program order.
  std::vector<mil::OpProblem> problems;
};

/// Reads `path` and checks every op. Errors (class kPackage) only for a package that cannot be
/// read: no manifest or model, no main function, an opset outside CoreML5..CoreML8.
absl::StatusOr<PackageCheck> CheckPackage(const std::filesystem::path& path);

/// One line per problem ("PKG: op 'm' (mul): mul with input 'y' ..."), then a summary line.
std::string FormatCheckText(const PackageCheck& check);
/// {"path", "opset", "num_ops", "valid": bool, "problems": [{"op", "type", "message"}]}.
std::string FormatCheckJson(const PackageCheck& check);

std::string FormatInspectionText(const PackageInspection& inspection);
/// JSON with the keys documented in docs/cli.md.
std::string FormatInspectionJson(const PackageInspection& inspection);

}  // namespace ts2coreml::core

#endif  // TS2COREML_CORE_REPORT_PACKAGE_INSPECTION_H_
