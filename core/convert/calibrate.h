/// Calibration (calibration.h): runs the canonical TorchScript graph in LibTorch at FP32 on the
/// calibration inputs, returning every run-time float value lowered nodes read or make (each
/// cloned where it is produced, as verify's localization does), and measures their ranges and the
/// statistics of the FP16 limits the nodes' lowerings declare. Used by the converter only.
///
///   absl::StatusOr<Calibration> c = Calibrate(canonical, graph, analysis, uses, request, opts);
#ifndef TS2COREML_CORE_CONVERT_CALIBRATE_H_
#define TS2COREML_CORE_CONVERT_CALIBRATE_H_

#include <torch/script.h>

#include <map>
#include <vector>

#include "absl/status/statusor.h"
#include "core/convert/analysis.h"
#include "core/convert/calibration.h"
#include "core/convert/dtype_ops.h"
#include "core/convert/precision_plan.h"
#include "core/ir/graph.h"
#include "core/torch/canonicalize.h"
#include "core/torch/fp32_reference.h"

namespace ts2coreml::core {

/// One run's model inputs (graph input order) and LibTorch's outputs (flattened in order).
struct ReferenceRun {
  std::vector<at::Tensor> inputs;
  std::vector<at::Tensor> outputs;
  /// LibTorch's value of every measured value (the lowered nodes' float inputs and outputs), kept
  /// for the first calibration run only: the search compares a package with it value by value.
  std::map<ValueId, at::Tensor> values;
};

/// The runs calibration made, kept for `--precision auto`: the calibration runs and the
/// held-back ones (CalibrationRequest::holdout_runs).
struct ReferenceRuns {
  std::vector<ReferenceRun> calibration;
  std::vector<ReferenceRun> holdout;
  /// Whether the first calibration run keeps ReferenceRun::values (the search's; calibration
  /// alone needs only the inputs).
  bool keep_values = true;
};

/// Adds the range of float tensor `t` (its largest magnitude and its nonzero elements below
/// FP16's normal and subnormal ranges) to `r`.
void AddRange(const at::Tensor& t, ValueRange* r);

/// The canonical graph calibration runs for a model referenced by an upcast clone
/// (Fp32Reference::upcast()): the clone canonicalized with `options`, as the model was into
/// `converted`. Errors: kModel when canonicalization fails, kInternal when a value of the
/// converted graph has no value of the same name in the reference's (calibration finds values by
/// name).
absl::StatusOr<CanonicalModel> CanonicalizeReference(const Fp32Reference& reference,
                                                     const CanonicalizeOptions& options,
                                                     const CanonicalModel& converted);

/// Measures `graph` (imported from `canonical`, analyzed as `analysis`) on the inputs `request`
/// names; `canonical` is the graph LibTorch runs: the model's, or its FP32 reference's
/// (CanonicalizeReference). Instruments `canonical.graph` in place: call it last. Errors:
/// kInputSpec for a
/// --calibration-data file that cannot be read or does not fit its input, kModel when LibTorch
/// fails to run the model.
absl::StatusOr<Calibration> Calibrate(CanonicalModel& canonical, const Graph& graph,
                                      const Analysis& analysis,
                                      const std::map<ValueId, IntegerUse>& integer_uses,
                                      const CalibrationRequest& request,
                                      const PrecisionOptions& precision,
                                      ReferenceRuns* references = nullptr);

}  // namespace ts2coreml::core

#endif  // TS2COREML_CORE_CONVERT_CALIBRATE_H_
