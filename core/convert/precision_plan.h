/// Precision planning: the core picks every value's dtype and every cast, before any MIL exists.
///
/// Each lowered node gets a compute dtype from the requested precision and the lowering's
/// declared FP16 policy, with the reason as an enum. Inputs get the dtype the lowering declared
/// for their role; where a runtime value's dtype differs, a cast is planned (one per value and
/// dtype, however many users). Constants are stored in the dtype they are needed in, with one
/// exception under fp16: the weights of a node that computes in FP32 only because its lowering
/// needs FP32 arithmetic (fused attention, layer_norm) are stored FP16 and cast up in the
/// program, so an fp16 package holds FP16 weights (half the bytes) while the arithmetic stays
/// FP32. Weights that FP16 cannot hold (a value that overflows, or every value below FP16's
/// smallest normal), scalars and constants of --keep-fp32 nodes stay FP32. Lowerings never see a
/// dtype they did not declare.
#ifndef TS2COREML_CORE_CONVERT_PRECISION_PLAN_H_
#define TS2COREML_CORE_CONVERT_PRECISION_PLAN_H_

#include <map>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "core/convert/analysis.h"
#include "core/convert/calibration.h"
#include "core/convert/keep_fp32_rules.h"
#include "core/ir/graph.h"
#include "core/mil/program.h"

namespace ts2coreml::core {

enum class Precision { kFp16, kFp32 };
/// Deployment targets and what they imply.
enum class Target { kIos15, kIos16, kIos17 };
absl::string_view TargetName(Target t);  ///< "ios16"
int32_t SpecificationVersion(Target t);  ///< 6, 7, 8
absl::string_view Opset(Target t);       ///< "CoreML5", "CoreML6", "CoreML7"

struct PrecisionOptions {
  Precision precision = Precision::kFp16;
  Target target = Target::kIos16;
  /// dtype of model inputs and outputs (FP32 default; FP16 needs iOS16+).
  mil::DType io_dtype = mil::DType::kFloat32;
  /// --keep-fp32 rules: matching nodes compute in FP32 under fp16.
  std::vector<KeepFp32Rule> keep_fp32;
  /// --fp16-all: ignore lowerings' own wish for FP32 compute.
  bool fp16_all = false;
  /// What calibration measured (--calibrate), or null: then a lowering that declares
  /// needs_fp32_compute stays FP32 whatever its declared limits (the conservative plan). With it,
  /// such a lowering stays FP32 only when a declared limit is crossed, any lowering whose limit is
  /// crossed computes in FP32, and so does a node reading or making a value beyond FP16's range,
  /// or whose MIL decomposition holds one (Calibration::intermediates).
  const Calibration* calibration = nullptr;
  /// Nodes (by index) `--precision auto` moved to FP32, with the reason it gives them.
  std::set<int> search_fp32;
  std::string search_reason;
};

/// Why a node computes in the dtype it does.
enum class PrecisionReason {
  kRequestedFp16,       ///< --precision fp16, nothing against it
  kRequestedFp32,       ///< --precision fp32
  kLoweringNeedsFp32,   ///< the lowering declares T2C_FP16_NEEDS_FP32_COMPUTE
  kConstantOutOfRange,  ///< a constant input exceeds the FP16 range
  kInputNoFp16,         ///< a lowering input does not accept FP16
  kNotFloat,            ///< integer or bool computation
  kUserRule,            ///< a --keep-fp32 rule matched
  kCalibratedLimit,     ///< calibration measured a declared FP16 limit crossed
  kCalibratedRange,     ///< calibration measured an input or output beyond FP16's range
  kMilIntermediate,     ///< calibration measured a var only its MIL decomposition holds beyond it
  kPrecisionSearch,     ///< --precision auto moved it to FP32 to reach the target
};
absl::string_view PrecisionReasonName(PrecisionReason r);

struct NodePlan {
  bool planned = false;  ///< only lowered nodes are planned
  mil::DType compute = mil::DType::kInvalid;
  PrecisionReason reason = PrecisionReason::kNotFloat;
  std::string detail;  ///< e.g. which constant is out of range
  /// dtype of T2C_ROLE_PARAM inputs.
  mil::DType param = mil::DType::kInvalid;
  std::string param_detail;
  /// Planned dtype of each node input (kInvalid for host/ignored/None inputs). For tensor lists,
  /// the dtype of every element.
  std::vector<mil::DType> inputs;
  /// Planned dtype of each tensor output.
  std::vector<mil::DType> outputs;

  /// Why the node computes in `compute`: the detail when there is one, else the reason's name.
  std::string ReasonText() const;
};

/// One cast the core inserts.
struct PlannedCast {
  ValueId value = kNoValue;
  mil::DType from = mil::DType::kInvalid;
  mil::DType to = mil::DType::kInvalid;
  int consumer = -1;  ///< first node needing it; -1 for a model output
  std::string reason;
  /// A constant stored in `from` (FP16) and cast to `to` in the program: a weight upcast.
  bool constant = false;
};

struct PrecisionPlan {
  PrecisionOptions options;
  std::vector<NodePlan> nodes;
  std::vector<PlannedCast> casts;
  std::vector<std::string> warnings;
  /// dtype each runtime tensor value is produced in (graph inputs and node outputs).
  std::map<ValueId, mil::DType> produced;

  /// The planned cast of `value` to `to`, or null.
  const PlannedCast* FindCast(ValueId value, mil::DType to) const;
};

/// The dtype of model input `v` as a Core ML feature: its --input DTYPE (int64 and bool cross
/// the boundary as int32: Core ML features have neither), else the --io-dtype.
mil::DType InputFeatureDtype(const Value& v, const PrecisionOptions& options);

/// The dtype of a model output of class `c`: the --io-dtype for floats, int32 for int and bool
/// (Core ML features have no bool).
mil::DType OutputFeatureDtype(TypeClass c, const PrecisionOptions& options);

/// Plans `graph` after analysis. Errors (class kUsage) for impossible requests, such as
/// --io-dtype fp16 below iOS16.
absl::StatusOr<PrecisionPlan> PlanPrecision(const Graph& graph, const Analysis& analysis,
                                            const PrecisionOptions& options);

}  // namespace ts2coreml::core

#endif  // TS2COREML_CORE_CONVERT_PRECISION_PLAN_H_
