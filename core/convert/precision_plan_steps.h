/// The steps of precision planning (precision_plan.h), one function each, in the order
/// PlanPrecision runs them. Internal to core/convert: exposed for precision_plan_test.cpp.
///
/// Per lowered node, like XLA's float normalization:
///   1. ChooseComputeDtype   the compute dtype and the reason for it
///   2. ChooseParamDtype     the dtype of T2C_ROLE_PARAM inputs
///   3. ChooseInputDtypes    the dtype each input reaches the lowering in, then
///      PlanWeightUpcasts    FP16-stored weights cast up for an FP32-only lowering,
///      WarnFp16Losses       what storing a constant FP16 loses, and
///      ChooseOutputDtypes   the dtype each output is produced in
///   4. PlanInputCasts       casts of run-time inputs to the planned dtypes
/// and then, once for the graph:
///   CastBook::DropUpcastsOfExactConstants, and
///   5. PlanOutputCasts      model outputs in the I/O dtype.
///
///   CastBook casts(g, &plan);
///   ChooseComputeDtype(g, node, lowering, options, &plan.nodes[idx]);
#ifndef TS2COREML_CORE_CONVERT_PRECISION_PLAN_STEPS_H_
#define TS2COREML_CORE_CONVERT_PRECISION_PLAN_STEPS_H_

#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "core/convert/precision_plan.h"
#include "core/ir/graph.h"
#include "core/mil/program.h"
#include "registry/registry.h"

namespace ts2coreml::core {

/// The casts of a plan under construction: at most one per value and dtype. It also remembers
/// the constants some FP32 user reads exactly, which therefore keep one FP32 form (no upcast).
class CastBook {
 public:
  /// Adds casts to `plan->casts`; reads `plan->produced` for the dtype each value is made in.
  CastBook(const Graph& graph, PrecisionPlan* plan) : graph_(graph), plan_(plan) {}

  /// Plans a cast of the run-time value `value` to `to` for node `consumer` (-1: a model
  /// output), unless the value is not produced at run time, is produced in `to`, or already has
  /// a cast to `to`.
  void CastRuntime(ValueId value, mil::DType to, int consumer, std::string reason);

  /// Plans the constant `value`, stored FP16, cast up to FP32 for node `consumer`, once.
  void UpcastWeight(ValueId value, int consumer, std::string reason);

  /// Records that an FP32 user reads constant `value` as it is (stored FP32).
  void ReadExactFp32(ValueId value);

  /// Drops the upcasts of constants that some user reads exactly: a constant has one FP32 form.
  void DropUpcastsOfExactConstants();

 private:
  const Graph& graph_;
  PrecisionPlan* plan_;
  std::set<std::pair<ValueId, mil::DType>> seen_;
  std::set<ValueId> exact_fp32_;
};

/// Refuses requests no target can honour (class kUsage): --io-dtype fp16 below iOS16, or an
/// I/O dtype that is not a float.
absl::Status CheckPrecisionOptions(const PrecisionOptions& options);

/// Step 1: `np->compute`, `np->reason` and `np->detail` for lowered node `n`. Integer and bool
/// nodes compute in their class; float nodes in the requested precision, except under fp16 where
/// a --keep-fp32 rule, the lowering's needs_fp32_compute (unless --fp16-all), a constant beyond
/// FP16's range or a tensor input that does not accept FP16 keeps them FP32.
void ChooseComputeDtype(const Graph& g, const Node& n, const registry::Lowering& l,
                        const PrecisionOptions& options, NodePlan* np);

/// Step 1a: whether node `n` computes in floats: a float output, or a float tensor (not a
/// number) read through a tensor role. `*any_int` tells an integer node from a bool one.
bool ComputesInFloat(const Graph& g, const Node& n, const registry::Lowering& l, bool* any_int);

/// Step 1b (fp16 only): a --keep-fp32 rule that matches `n`, else the lowering's
/// needs_fp32_compute policy (overridden by --fp16-all, which is then noted in the detail),
/// which under calibration holds only when a declared FP16 limit is crossed
/// (ApplyCalibratedLimits).
void ApplyFp32Requests(const Graph& g, const Node& n, const registry::Lowering& l,
                       const PrecisionOptions& options, NodePlan* np);

/// Step 1b under calibration: compares each FP16 limit `l` declares with its measured statistic
/// for node `n`. The first crossed makes the node FP32 (kCalibratedLimit, with the measured
/// number); when none is, a needs_fp32_compute node stays FP16 with the measured peaks as its
/// detail. False (nothing decided) when `l` declares no limit or one was not measured.
bool ApplyCalibratedLimits(const Graph& g, const Node& n, const registry::Lowering& l,
                           const Calibration& calibration, NodePlan* np);

/// Step 1d (under calibration, for a node still computing in FP16): FP32 when a run-time input
/// or output reached beyond FP16's range (65504) on calibration (kCalibratedRange).
void ApplyCalibratedRanges(const Graph& g, const Node& n, const Calibration& calibration,
                           NodePlan* np);

/// Step 1e (under calibration, for a node still computing in FP16): FP32 when a var that only
/// its MIL decomposition holds (measured in the FP32 program, Calibration::intermediates; the
/// vars holding TorchScript values are step 1d's) reached beyond FP16's range
/// (kMilIntermediate, naming the first such var in emission order, its op and its peak).
/// A var that falls below FP16's normal range is not a reason.
void ApplyCalibratedIntermediates(const Graph& g, const Node& n, const Calibration& calibration,
                                  NodePlan* np);

/// Step 1c (for a node still computing in FP16): the inputs FP16 cannot serve: a constant whose
/// magnitude exceeds FP16's range, or a float tensor input whose declaration excludes FP16.
void ApplyFp16InputLimits(const Graph& g, const Node& n, const registry::Lowering& l, NodePlan* np);

/// Step 2: `np->param` and `np->param_detail`. Parameters follow the compute dtype, except for
/// a T2C_FP16_FP32_PARAMS lowering computing in FP16: FP32 on iOS17+, FP16 (noted) before.
void ChooseParamDtype(const registry::Lowering& l, const PrecisionOptions& options, NodePlan* np);

/// Step 3: `np->inputs`, one per node input: kInvalid for host, ignored and None inputs; the
/// parameter dtype for params; else the compute dtype when the lowering accepts it, the value's
/// own class when not, else the first dtype the lowering accepts. An input declared
/// T2C_INPUT_KEEPS_CLASS gets its own class first where accepted (a bool mask stays bool).
void ChooseInputDtypes(const Graph& g, const Node& n, const registry::Lowering& l,
                       const PrecisionOptions& options, NodePlan* np);

/// Step 3a (fp16 only): constants node `idx` reads in FP32. Under needs_fp32_compute those that
/// FP16 holds (StoresAsFp16Weight) are stored FP16 and cast up; every other one is read exactly.
void PlanWeightUpcasts(const Graph& g, int idx, const NodePlan& np, const PrecisionOptions& options,
                       CastBook* casts);

/// Step 3b: a warning for each constant read in FP16 that FP16 does not hold: a float param
/// (an epsilon) that is not exact, a constant with values that round to infinity, or one whose
/// values that round to zero carry more than one FP16 rounding (2^-11) of its L2 norm (the
/// warning says how much). Biases the converter computed itself (a batch_norm folded into a
/// convolution, `*.folded_bias`) are not warned about: their values that small are rounding
/// residue of the fold, not the model's.
void WarnFp16Losses(const Graph& g, const Node& n, const registry::Lowering& l, const NodePlan& np,
                    std::vector<std::string>* warnings);

/// The share (0..1) of the L2 norm of float constant `v` carried by its nonzero values that FP16
/// rounds to zero, and the largest of them.
struct Fp16ZeroLoss {
  double norm_share = 0;
  double largest = 0;
};
Fp16ZeroLoss MeasureFp16ZeroLoss(const Value& v);

/// Step 3c: `np->outputs` and `produced` for every output (and Tensor[] element): the compute
/// dtype for floats, int32 or bool for the others.
void ChooseOutputDtypes(const Graph& g, const Node& n, NodePlan* np,
                        std::map<ValueId, mil::DType>* produced);

/// Step 4: a cast of each run-time input (list elements included) of node `idx` to its planned
/// dtype, with the reason.
void PlanInputCasts(const Graph& g, int idx, const NodePlan& np, const PrecisionOptions& options,
                    CastBook* casts);

/// Step 5: a cast of each run-time model output that is not in the I/O dtype (int32 and bool
/// outputs stay in their class).
void PlanOutputCasts(const Graph& g, const PrecisionOptions& options, CastBook* casts);

/// Whether constant `v` can be stored FP16 for a node computing in FP32 (then cast up): a float
/// tensor large enough to live in weight.bin that FP16 holds to its own rounding.
bool StoresAsFp16Weight(const Value& v);

}  // namespace ts2coreml::core

#endif  // TS2COREML_CORE_CONVERT_PRECISION_PLAN_STEPS_H_
