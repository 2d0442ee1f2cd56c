/// Calibration of the vars that exist only in the MIL decomposition (calibration.h): the model is
/// lowered with every op in FP32, that program runs in the reference interpreter on each
/// calibration run's inputs, and every float var an op of a node's lowering makes that holds no
/// TorchScript value (LibTorch measured those already) gets its range, attributed to the node
/// (LoweredProgram::op_origin). The planner keeps a node FP32 when one of its vars overflows FP16
/// (ApplyCalibratedIntermediates). One interpreter run per calibration run; nothing per element
/// is kept past a run. Used by the converter only.
///
///   if (absl::Status s = MeasureMilIntermediates(graph, analysis, options, runs, &calibration);
///       !s.ok()) return s;
#ifndef TS2COREML_CORE_CONVERT_MIL_CALIBRATION_H_
#define TS2COREML_CORE_CONVERT_MIL_CALIBRATION_H_

#include <vector>

#include "absl/status/status.h"
#include "core/convert/analysis.h"
#include "core/convert/calibrate.h"
#include "core/convert/calibration.h"
#include "core/convert/precision_plan.h"
#include "core/ir/graph.h"

namespace ts2coreml::core {

/// Runs `graph`'s FP32 program (target from `precision`) on the inputs of `runs` and records
/// `calibration->intermediates`, `mil_runs` and `mil_seconds`. Errors are lowering's, writing's
/// or the interpreter's, prefixed with "calibration: ".
absl::Status MeasureMilIntermediates(Graph& graph, const Analysis& analysis,
                                     const PrecisionOptions& precision,
                                     const std::vector<ReferenceRun>& runs,
                                     Calibration* calibration);

}  // namespace ts2coreml::core

#endif  // TS2COREML_CORE_CONVERT_MIL_CALIBRATION_H_
