#include "core/convert/precision_plan.h"

#include <algorithm>
#include <cmath>
#include <set>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "core/base/errors.h"
#include "core/convert/control_flow_ops.h"
#include "core/convert/dtype_ops.h"
#include "core/convert/lowering_context.h"
#include "core/convert/precision_plan_steps.h"
#include "core/mil/fp16.h"
#include "core/mil/package_writer.h"

namespace ts2coreml::core {

absl::string_view TargetName(Target t) {
  switch (t) {
    case Target::kIos15:
      return "ios15";
    case Target::kIos16:
      return "ios16";
    case Target::kIos17:
      return "ios17";
  }
  return "unknown";
}

int32_t SpecificationVersion(Target t) {
  switch (t) {
    case Target::kIos15:
      return 6;
    case Target::kIos16:
      return 7;
    case Target::kIos17:
      return 8;
  }
  return 7;
}

absl::string_view Opset(Target t) {
  switch (t) {
    case Target::kIos15:
      return "CoreML5";
    case Target::kIos16:
      return "CoreML6";
    case Target::kIos17:
      return "CoreML7";
  }
  return "CoreML6";
}

absl::string_view PrecisionReasonName(PrecisionReason r) {
  switch (r) {
    case PrecisionReason::kRequestedFp16:
      return "requested_fp16";
    case PrecisionReason::kRequestedFp32:
      return "requested_fp32";
    case PrecisionReason::kLoweringNeedsFp32:
      return "lowering_needs_fp32";
    case PrecisionReason::kConstantOutOfRange:
      return "constant_out_of_fp16_range";
    case PrecisionReason::kInputNoFp16:
      return "input_does_not_accept_fp16";
    case PrecisionReason::kNotFloat:
      return "not_float";
    case PrecisionReason::kUserRule:
      return "user_rule";
    case PrecisionReason::kCalibratedLimit:
      return "calibrated_limit";
    case PrecisionReason::kCalibratedRange:
      return "calibrated_range";
    case PrecisionReason::kMilIntermediate:
      return "calibrated_mil_intermediate";
    case PrecisionReason::kPrecisionSearch:
      return "precision_search";
  }
  return "unknown";
}

std::string NodePlan::ReasonText() const {
  return detail.empty() ? std::string(PrecisionReasonName(reason)) : detail;
}

const PlannedCast* PrecisionPlan::FindCast(ValueId value, mil::DType to) const {
  for (const PlannedCast& c : casts) {
    if (c.value == value && c.to == to) return &c;
  }
  return nullptr;
}

namespace {

bool Allows(t2c_dtype_mask mask, mil::DType d) {
  return (mask & T2C_DTYPE_BIT(static_cast<uint32_t>(d))) != 0;
}

/// Class of a tensor-role input: a tensor's class, or a number's.
TypeClass InputClass(const Graph& g, ValueId id) {
  const Value& v = g.value(g.Resolve(id));
  switch (v.kind) {
    case ValueKind::kTensor:
      return v.type_class;
    case ValueKind::kFloat:
      return TypeClass::kFloat;
    case ValueKind::kInt:
      return TypeClass::kInt;
    case ValueKind::kBool:
      return TypeClass::kBool;
    case ValueKind::kTensorList: {
      TypeClass c = TypeClass::kUnknown;
      for (ValueId e : v.elements) {
        TypeClass ec = g.value(g.Resolve(e)).type_class;
        if (c == TypeClass::kUnknown || ec == TypeClass::kFloat) c = ec;
      }
      return c;
    }
    default:
      return TypeClass::kUnknown;
  }
}

/// Class of a node output: a tensor's, or the first element's of a Tensor[] output.
TypeClass OutputClass(const Graph& g, ValueId o) {
  const Value& v = g.value(o);
  if (v.kind == ValueKind::kTensorList && !v.elements.empty()) {
    return g.value(v.elements[0]).type_class;
  }
  return v.type_class;
}

bool IsTensorRole(int32_t role) {
  return role == T2C_ROLE_TENSOR || role == T2C_ROLE_PARAM || role == T2C_ROLE_TENSOR_LIST;
}

/// Largest finite |x| of a constant float input (tensor or number), or nullopt for anything else.
/// Infinities and NaN are left out: FP16 holds them exactly (a causal mask's -inf).
std::optional<double> ConstFloatMagnitude(const Value& v) {
  if (!v.is_const) return std::nullopt;
  if (v.kind == ValueKind::kFloat) return std::isfinite(v.f) ? std::fabs(v.f) : 0.0;
  if (v.kind == ValueKind::kTensor && v.tensor && v.tensor->type_class() == TypeClass::kFloat) {
    return v.tensor->MaxFiniteAbs();
  }
  return std::nullopt;
}

/// What storing a float constant in FP16 loses.
struct Fp16Losses {
  int64_t zeros = 0;       ///< nonzero values that become zero
  int64_t subnormals = 0;  ///< values that keep only part of their precision
  int64_t overflows = 0;   ///< finite values that become infinity
};

Fp16Losses CountFp16Losses(const Value& v) {
  Fp16Losses l;
  auto visit = [&](float x) {
    // Fast path: normal FP16 range (the common case for weights).
    const float a = std::fabs(x);
    if (a == 0.0f || (a >= mil::kFp16MinNormal && a <= mil::kFp16Max) || !std::isfinite(a)) {
      return;
    }
    switch (mil::ClassifyFp16(x)) {
      case mil::Fp16Fit::kZero:
        ++l.zeros;
        break;
      case mil::Fp16Fit::kSubnormal:
        ++l.subnormals;
        break;
      case mil::Fp16Fit::kOverflow:
        ++l.overflows;
        break;
      case mil::Fp16Fit::kExact:
        break;
    }
  };
  if (v.kind == ValueKind::kFloat) {
    visit(static_cast<float>(v.f));
  } else if (v.tensor && v.tensor->storage == ConstTensor::Storage::kFloat32) {
    // The same cached pass as the range check (ConstTensor::Fp16Stats), not a second one.
    const mil::Fp16Scan& stats = v.tensor->Fp16Stats();
    l.zeros = stats.zeros;
    l.subnormals = stats.subnormals;
    l.overflows = stats.overflows;
  } else if (v.tensor && v.tensor->type_class() == TypeClass::kFloat &&
             v.tensor->storage != ConstTensor::Storage::kFloat16) {
    const int64_t n = v.tensor->numel();
    for (int64_t k = 0; k < n; ++k) visit(static_cast<float>(v.tensor->At(k)));
  }
  return l;
}

/// The dtype a tensor-role input gets: the node's compute dtype when the lowering accepts it
/// (type promotion: a bool or int operand of a float op becomes a float), else the value's own
/// class, else the first accepted dtype. An input declared T2C_INPUT_KEEPS_CLASS gets its own
/// class first where the lowering accepts it (a bool mask stays bool).
mil::DType PlannedInputDtype(TypeClass cls, mil::DType compute, mil::DType float_dtype,
                             const registry::InputDecl& decl) {
  const t2c_dtype_mask mask = decl.dtypes;
  const mil::DType own = cls == TypeClass::kFloat ? float_dtype
                         : cls == TypeClass::kInt ? mil::DType::kInt32
                                                  : mil::DType::kBool;
  if (decl.keeps_class() && Allows(mask, own)) return own;
  if (Allows(mask, compute)) return compute;
  if (Allows(mask, own)) return own;
  for (mil::DType d : {float_dtype, mil::DType::kFloat32, mil::DType::kFloat16, mil::DType::kInt32,
                       mil::DType::kBool}) {
    if (Allows(mask, d)) return d;
  }
  return mil::DType::kInvalid;
}

/// The float dtype of the requested precision.
mil::DType RequestedFloat(const PrecisionOptions& options) {
  return options.precision == Precision::kFp16 ? mil::DType::kFloat16 : mil::DType::kFloat32;
}

/// The dtype a value of class `c` is produced in when floats are `float_dtype`.
mil::DType DtypeOfClass(TypeClass c, mil::DType float_dtype) {
  return c == TypeClass::kFloat ? float_dtype
         : c == TypeClass::kInt ? mil::DType::kInt32
                                : mil::DType::kBool;
}

/// The first --keep-fp32 rule matching `n`, or null.
const KeepFp32Rule* MatchingRule(const std::vector<KeepFp32Rule>& rules, const Node& n) {
  for (const KeepFp32Rule& r : rules) {
    if (r.Matches(n)) return &r;
  }
  return nullptr;
}

/// Why run-time value `rv` is cast for node `n` (computing as `np` says).
std::string InputCastReason(const Graph& g, const Node& n, ValueId rv, const NodePlan& np,
                            const PrecisionOptions& options) {
  const std::string compute(mil::DTypeName(np.compute));
  if (g.value(rv).producer < 0) {
    const Value& in = g.value(rv);
    return absl::StrCat(
        "model input '", in.name, "' is ",
        std::string(mil::DTypeName(InputFeatureDtype(in, options))),
        in.type_class == TypeClass::kBool ? " (Core ML model inputs have no bool)" : "", "; ",
        n.QualifiedKind(), " computes in ", compute);
  }
  std::string why = absl::StrCat(n.QualifiedKind(), " computes in ", compute);
  if (np.reason != PrecisionReason::kRequestedFp16 &&
      np.reason != PrecisionReason::kRequestedFp32) {
    absl::StrAppend(
        &why, " (",
        np.detail.empty() ? PrecisionReasonName(np.reason) : absl::string_view(np.detail), ")");
  }
  return why;
}

/// The run-time values node input `id` stands for: itself, or a list's run-time elements.
std::vector<ValueId> RuntimeValuesOf(const Graph& g, ValueId id) {
  const Value& v = g.value(g.Resolve(id));
  std::vector<ValueId> runtime;
  if (v.kind == ValueKind::kTensorList) {
    runtime = v.elements;
  } else if (!v.is_const) {
    runtime.push_back(id);
  }
  std::vector<ValueId> resolved;
  for (ValueId r : runtime) {
    if (!g.value(g.Resolve(r)).is_const) resolved.push_back(g.Resolve(r));
  }
  return resolved;
}

/// Plans type op `idx` (dtype_ops.h): its output is its input cast to the dtype of the output's
/// class, a cast planned with the reason kModelConvertsDtype.
void PlanDtypeConversion(const Graph& g, int idx, CastBook& casts, PrecisionPlan& plan) {
  const Node& n = g.nodes()[static_cast<size_t>(idx)];
  NodePlan& np = plan.nodes[static_cast<size_t>(idx)];
  np.planned = true;
  const ValueId in = g.Resolve(n.inputs.at(0));
  const ValueId out = n.outputs.at(0);
  const mil::DType to = DtypeOfClass(g.value(out).type_class, RequestedFloat(plan.options));
  auto from = plan.produced.find(in);
  np.compute = to;
  np.reason = !mil::IsFloat(to)                            ? PrecisionReason::kNotFloat
              : plan.options.precision == Precision::kFp16 ? PrecisionReason::kRequestedFp16
                                                           : PrecisionReason::kRequestedFp32;
  np.param = RequestedFloat(plan.options);
  np.inputs.assign(n.inputs.size(), mil::DType::kInvalid);
  np.inputs[0] = from == plan.produced.end() ? to : from->second;
  np.outputs = {to};
  plan.produced[out] = to;
  casts.CastRuntime(in, to, idx, kModelConvertsDtype);
}

/// The dtype a value of class `cls` carried by cond / while_loop has: the requested float for
/// floats, int32, bool.
mil::DType CarriedDtype(const Graph& g, ValueId id, const PrecisionOptions& options) {
  TypeClass cls = TypeClass::kUnknown;
  std::vector<int64_t> shape;
  CarriedType(g, id, &cls, &shape);
  return DtypeOfClass(cls, RequestedFloat(options));
}

/// Plans control-flow node `idx` (control_flow_ops.h): each result in the dtype of its class,
/// what each block yields (and a loop's initial values) cast to it where produced otherwise.
void PlanControlFlow(const Graph& g, int idx, CastBook& casts, PrecisionPlan& plan) {
  const Node& n = g.nodes()[static_cast<size_t>(idx)];
  NodePlan& np = plan.nodes[static_cast<size_t>(idx)];
  np.planned = true;
  np.compute = mil::DType::kBool;
  np.reason = PrecisionReason::kNotFloat;
  np.param = RequestedFloat(plan.options);
  np.inputs.assign(n.inputs.size(), mil::DType::kInvalid);
  const bool loop = n.kind == "prim::Loop";
  np.inputs[loop ? 1 : 0] = mil::DType::kBool;
  for (size_t k = 0; k < n.outputs.size(); ++k) {
    const mil::DType d = CarriedDtype(g, n.outputs[k], plan.options);
    if (mil::IsFloat(d)) {
      np.compute = d;
      np.reason = plan.options.precision == Precision::kFp16 ? PrecisionReason::kRequestedFp16
                                                             : PrecisionReason::kRequestedFp32;
    }
    np.outputs.push_back(d);
    plan.produced[n.outputs[k]] = d;
    const std::string reason =
        absl::StrCat(n.kind, " result ", k, " is ", std::string(mil::DTypeName(d)));
    for (const Block& b : n.blocks)
      casts.CastRuntime(b.outputs.at(k + (loop ? 1 : 0)), d, idx, reason);
    if (loop) {
      np.inputs[k + 2] = d;
      casts.CastRuntime(n.inputs[k + 2], d, idx, reason);
    }
  }
  casts.CastRuntime(n.inputs[loop ? 1 : 0], mil::DType::kBool, idx, "a condition is bool");
  if (loop)
    casts.CastRuntime(n.blocks[0].outputs.at(0), mil::DType::kBool, idx, "a condition is bool");
}

/// Plans a scalar op (control_flow_ops.h): int32 or bool operands and result.
void PlanScalarOp(const Graph& g, int idx, PrecisionPlan& plan) {
  const Node& n = g.nodes()[static_cast<size_t>(idx)];
  NodePlan& np = plan.nodes[static_cast<size_t>(idx)];
  TypeClass result = TypeClass::kUnknown;
  ScalarOpMil(g, n, &result);
  np.planned = true;
  np.reason = PrecisionReason::kNotFloat;
  np.param = RequestedFloat(plan.options);
  for (ValueId in : n.inputs) np.inputs.push_back(CarriedDtype(g, in, plan.options));
  np.compute = np.inputs.at(0);
  np.outputs = {DtypeOfClass(result, RequestedFloat(plan.options))};
  plan.produced[n.outputs[0]] = np.outputs[0];
}

/// Plans run-time indexing (control_flow_ops.h): the indexed tensor (and a written one) in the
/// dtype of its class (cast to it where produced otherwise), the index int32, the result as the
/// tensor.
void PlanDynamicIndex(const Graph& g, int idx, CastBook& casts, PrecisionPlan& plan) {
  const Node& n = g.nodes()[static_cast<size_t>(idx)];
  NodePlan& np = plan.nodes[static_cast<size_t>(idx)];
  std::string why;
  const std::optional<DynamicIndex> d = AsDynamicIndex(g, n, &why);
  const mil::DType dtype = CarriedDtype(g, d->self, plan.options);
  np.planned = true;
  np.param = RequestedFloat(plan.options);
  np.compute = dtype;
  np.reason = !mil::IsFloat(dtype)                         ? PrecisionReason::kNotFloat
              : plan.options.precision == Precision::kFp16 ? PrecisionReason::kRequestedFp16
                                                           : PrecisionReason::kRequestedFp32;
  np.inputs.assign(n.inputs.size(), mil::DType::kInvalid);
  np.inputs[0] = dtype;
  np.inputs[d->src != kNoValue ? 3 : 2] = mil::DType::kInt32;
  np.outputs = {dtype};
  plan.produced[n.outputs[0]] = dtype;
  casts.CastRuntime(d->self, dtype, idx, absl::StrCat(n.kind, " by a run-time index"));
  if (d->src != kNoValue) {
    np.inputs[1] = dtype;
    casts.CastRuntime(d->src, dtype, idx, absl::StrCat(n.kind, " by a run-time index"));
  }
}

/// Plans every step of lowered node `idx` in order (precision_plan_steps.h).
void PlanNode(const Graph& g, int idx, const registry::Lowering& l, CastBook& casts,
              PrecisionPlan& plan) {
  if (&l == &DtypeConversionLowering()) return PlanDtypeConversion(g, idx, casts, plan);
  if (&l == &ControlFlowLowering()) return PlanControlFlow(g, idx, casts, plan);
  if (&l == &ScalarOpLowering()) return PlanScalarOp(g, idx, plan);
  if (&l == &DynamicIndexLowering()) return PlanDynamicIndex(g, idx, casts, plan);
  const Node& n = g.nodes()[static_cast<size_t>(idx)];
  NodePlan& np = plan.nodes[static_cast<size_t>(idx)];
  np.planned = true;
  ChooseComputeDtype(g, n, l, plan.options, &np);
  ChooseParamDtype(l, plan.options, &np);
  ChooseInputDtypes(g, n, l, plan.options, &np);
  PlanWeightUpcasts(g, idx, np, plan.options, &casts);
  WarnFp16Losses(g, n, l, np, &plan.warnings);
  ChooseOutputDtypes(g, n, &np, &plan.produced);
  PlanInputCasts(g, idx, np, plan.options, &casts);
}

/// Plans the nodes in order; a loop body's inputs are produced in their carried dtype.
class PlanVisitor : public BlockVisitor {
 public:
  PlanVisitor(const Graph& g, const Analysis& a, CastBook& casts, PrecisionPlan& plan)
      : g_(g), a_(a), casts_(casts), plan_(plan) {}
  absl::Status EnterBlock(int owner, int block) override {
    const Node& n = g_.nodes()[static_cast<size_t>(owner)];
    if (n.kind != "prim::Loop") return absl::OkStatus();
    const std::vector<ValueId>& inputs = n.blocks[static_cast<size_t>(block)].inputs;
    for (ValueId in : inputs) plan_.produced[in] = CarriedDtype(g_, in, plan_.options);
    return absl::OkStatus();
  }
  absl::Status VisitNode(int idx) override {
    const NodeAnalysis& na = a_.nodes[static_cast<size_t>(idx)];
    if (na.decision != NodeDecision::kLowered || !na.lowering) return absl::OkStatus();
    PlanNode(g_, idx, *na.lowering, casts_, plan_);  // steps 1 to 4
    return absl::OkStatus();
  }

 private:
  const Graph& g_;
  const Analysis& a_;
  CastBook& casts_;
  PrecisionPlan& plan_;
};

}  // namespace

void CastBook::CastRuntime(ValueId value, mil::DType to, int consumer, std::string reason) {
  const ValueId r = graph_.Resolve(value);
  auto it = plan_->produced.find(r);
  if (it == plan_->produced.end() || it->second == to) return;
  if (!seen_.insert({r, to}).second) return;
  plan_->casts.push_back({r, it->second, to, consumer, std::move(reason)});
}

void CastBook::UpcastWeight(ValueId value, int consumer, std::string reason) {
  if (!seen_.insert({value, mil::DType::kFloat32}).second) return;
  plan_->casts.push_back({value, mil::DType::kFloat16, mil::DType::kFloat32, consumer,
                          std::move(reason), /*constant=*/true});
}

void CastBook::ReadExactFp32(ValueId value) { exact_fp32_.insert(value); }

void CastBook::DropUpcastsOfExactConstants() {
  std::vector<PlannedCast>& casts = plan_->casts;
  casts.erase(std::remove_if(casts.begin(), casts.end(),
                             [&](const PlannedCast& c) {
                               return c.constant && exact_fp32_.count(c.value) != 0;
                             }),
              casts.end());
}

/// Whether constant `v` can be stored FP16 for a node computing in FP32 (then cast up): a float
/// tensor large enough to live in weight.bin that FP16 holds to its own rounding: nothing
/// overflows, and its largest magnitude is an FP16 normal. A value flushed to zero is then below
/// 2^-25 while the largest is at least 2^-14: an error within the FP16 rounding of the largest
/// (random initializations put a few such values in any large weight). A tensor whose values are
/// all below 2^-14 (and not all zero) would lose its relative precision and stays FP32. Half
/// weights always qualify: the cast up is exact.
bool StoresAsFp16Weight(const Value& v) {
  if (!v.is_const || v.kind != ValueKind::kTensor || !v.tensor ||
      v.tensor->numel() < mil::kMinBlobElements) {
    return false;
  }
  if (v.tensor->storage == ConstTensor::Storage::kFloat16) return true;
  if (v.tensor->storage != ConstTensor::Storage::kFloat32) return false;
  const mil::Fp16Scan& stats = v.tensor->Fp16Stats();
  return stats.overflows == 0 && !stats.non_finite &&
         (stats.max_abs == 0 || stats.max_abs >= mil::kFp16MinNormal);
}

absl::Status CheckPrecisionOptions(const PrecisionOptions& options) {
  if (options.io_dtype == mil::DType::kFloat16 && options.target == Target::kIos15) {
    return Error(ErrorClass::kUsage, "--io-dtype fp16 needs --target ios16 or later");
  }
  if (!mil::IsFloat(options.io_dtype)) {
    return Error(ErrorClass::kUsage, "--io-dtype must be fp16 or fp32");
  }
  return absl::OkStatus();
}

bool ComputesInFloat(const Graph& g, const Node& n, const registry::Lowering& l, bool* any_int) {
  bool is_float = false;
  *any_int = false;
  for (ValueId o : n.outputs) {
    const TypeClass c = OutputClass(g, o);
    is_float |= c == TypeClass::kFloat;
    *any_int |= c == TypeClass::kInt;
  }
  for (size_t i = 0; i < n.inputs.size() && i < l.inputs.size(); ++i) {
    if (IsTensorRole(l.inputs[i].role) && InputClass(g, n.inputs[i]) == TypeClass::kFloat &&
        g.value(g.Resolve(n.inputs[i])).kind != ValueKind::kFloat) {
      is_float = true;
    }
  }
  return is_float;
}

void ApplyFp32Requests(const Graph& g, const Node& n, const registry::Lowering& l,
                       const PrecisionOptions& options, NodePlan* np) {
  if (options.precision != Precision::kFp16) return;
  if (const KeepFp32Rule* rule = MatchingRule(options.keep_fp32, n); rule != nullptr) {
    np->compute = mil::DType::kFloat32;
    np->reason = PrecisionReason::kUserRule;
    np->detail = absl::StrCat("--keep-fp32 ", rule->text());
    return;
  }
  if (options.search_fp32.count(static_cast<int>(&n - g.nodes().data())) != 0) {
    np->compute = mil::DType::kFloat32;
    np->reason = PrecisionReason::kPrecisionSearch;
    np->detail = options.search_reason.empty() ? "--precision auto" : options.search_reason;
    return;
  }
  const std::string lowering = absl::StrCat(l.plugin ? l.plugin->name + "/" : "", l.name);
  if (l.fp16_policy != T2C_FP16_NEEDS_FP32_COMPUTE) {
    if (options.calibration != nullptr && !options.fp16_all) {
      ApplyCalibratedLimits(g, n, l, *options.calibration, np);
    }
    return;
  }
  if (options.fp16_all) {
    np->detail = absl::StrCat("--fp16-all overrides lowering ", lowering, "'s needs_fp32_compute");
    return;
  }
  if (options.calibration != nullptr && !l.fp16_limits.empty() &&
      ApplyCalibratedLimits(g, n, l, *options.calibration, np)) {
    return;
  }
  np->compute = mil::DType::kFloat32;
  np->reason = PrecisionReason::kLoweringNeedsFp32;
  np->detail = absl::StrCat("lowering ", lowering, " declares needs_fp32_compute");
  if (options.calibration != nullptr) {
    absl::StrAppend(&np->detail, l.fp16_limits.empty()
                                     ? " and no fp16 limit to measure"
                                     : " (calibration did not measure its limits)");
  }
}

bool ApplyCalibratedLimits(const Graph& g, const Node& n, const registry::Lowering& l,
                           const Calibration& calibration, NodePlan* np) {
  if (l.fp16_limits.empty()) return false;
  const int idx = static_cast<int>(&n - g.nodes().data());
  auto it = calibration.limits.find(idx);
  if (it == calibration.limits.end() || it->second.size() != l.fp16_limits.size()) return false;
  const std::string lowering = absl::StrCat(l.plugin ? l.plugin->name + "/" : "", l.name);
  std::vector<std::string> within;
  for (size_t k = 0; k < l.fp16_limits.size(); ++k) {
    const registry::Fp16Limit& limit = l.fp16_limits[k];
    const double measured = it->second[k];
    if (std::isnan(measured)) return false;
    if (measured > limit.bound) {
      np->compute = mil::DType::kFloat32;
      np->reason = PrecisionReason::kCalibratedLimit;
      np->detail = absl::StrFormat(
          "calibration: %s reaches %.6g, beyond the %.6g lowering %s declares for fp16", limit.what,
          measured, limit.bound, lowering);
      return true;
    }
    within.push_back(
        absl::StrFormat("%s peaks at %.6g (limit %.6g)", limit.what, measured, limit.bound));
  }
  if (l.fp16_policy == T2C_FP16_NEEDS_FP32_COMPUTE) {
    np->detail = absl::StrCat("calibration: ", absl::StrJoin(within, "; "), ", within lowering ",
                              lowering, "'s fp16 limits");
  }
  return true;
}

void ApplyCalibratedRanges(const Graph& g, const Node& n, const Calibration& calibration,
                           NodePlan* np) {
  auto check = [&](ValueId id, const char* role) {
    if (np->compute != mil::DType::kFloat16) return;
    const ValueId r = g.Resolve(id);
    const ValueRange* range = calibration.Range(r);
    if (range == nullptr || !(range->max_abs > mil::kFp16Max)) return;
    np->compute = mil::DType::kFloat32;
    np->reason = PrecisionReason::kCalibratedRange;
    np->detail = absl::StrFormat("calibration: %s '%s' reaches %.6g, beyond fp16's 65504", role,
                                 g.value(r).name, range->max_abs);
  };
  for (ValueId in : n.inputs) {
    const Value& v = g.value(g.Resolve(in));
    if (v.kind == ValueKind::kTensorList) {
      for (ValueId e : v.elements) check(e, "input");
    } else {
      check(in, "input");
    }
  }
  for (ValueId out : n.outputs) {
    const Value& v = g.value(out);
    if (v.kind == ValueKind::kTensorList) {
      for (ValueId e : v.elements) check(e, "output");
    } else {
      check(out, "output");
    }
  }
}

void ApplyCalibratedIntermediates(const Graph& g, const Node& n, const Calibration& calibration,
                                  NodePlan* np) {
  if (np->compute != mil::DType::kFloat16) return;
  auto it = calibration.intermediates.find(static_cast<int>(&n - g.nodes().data()));
  if (it == calibration.intermediates.end()) return;
  for (const MilIntermediate& m : it->second) {
    if (!(m.range.max_abs > mil::kFp16Max)) continue;
    np->compute = mil::DType::kFloat32;
    np->reason = PrecisionReason::kMilIntermediate;
    np->detail = absl::StrFormat(
        "calibration: intermediate %s '%s' of this op's MIL reaches %.6g, beyond fp16's 65504",
        m.op, m.var, m.range.max_abs);
    return;
  }
}

void ApplyFp16InputLimits(const Graph& g, const Node& n, const registry::Lowering& l,
                          NodePlan* np) {
  for (size_t i = 0;
       np->compute == mil::DType::kFloat16 && i < n.inputs.size() && i < l.inputs.size(); ++i) {
    if (!IsTensorRole(l.inputs[i].role)) continue;
    const Value& v = g.value(g.Resolve(n.inputs[i]));
    std::optional<double> mag = ConstFloatMagnitude(v);
    if (mag && *mag > mil::kFp16Max) {
      np->compute = mil::DType::kFloat32;
      np->reason = PrecisionReason::kConstantOutOfRange;
      np->detail = absl::StrFormat("constant '%s' reaches %g, beyond FP16's 65504", v.name, *mag);
    } else if (l.inputs[i].role == T2C_ROLE_TENSOR &&
               InputClass(g, n.inputs[i]) == TypeClass::kFloat &&
               !Allows(l.inputs[i].dtypes, mil::DType::kFloat16)) {
      np->compute = mil::DType::kFloat32;
      np->reason = PrecisionReason::kInputNoFp16;
      np->detail = absl::StrCat("input '", l.inputs[i].name, "' does not accept fp16");
    }
  }
}

void ChooseComputeDtype(const Graph& g, const Node& n, const registry::Lowering& l,
                        const PrecisionOptions& options, NodePlan* np) {
  bool any_int = false;
  if (!ComputesInFloat(g, n, l, &any_int)) {
    np->compute = any_int ? mil::DType::kInt32 : mil::DType::kBool;
    np->reason = PrecisionReason::kNotFloat;
    return;
  }
  const bool fp16 = options.precision == Precision::kFp16;
  np->compute = RequestedFloat(options);
  np->reason = fp16 ? PrecisionReason::kRequestedFp16 : PrecisionReason::kRequestedFp32;
  if (!fp16) return;
  ApplyFp32Requests(g, n, l, options, np);
  ApplyFp16InputLimits(g, n, l, np);
  if (options.calibration != nullptr) {
    ApplyCalibratedRanges(g, n, *options.calibration, np);
    ApplyCalibratedIntermediates(g, n, *options.calibration, np);
  }
}

void ChooseParamDtype(const registry::Lowering& l, const PrecisionOptions& options, NodePlan* np) {
  np->param = mil::IsFloat(np->compute) ? np->compute : RequestedFloat(options);
  if (np->compute != mil::DType::kFloat16 || l.fp16_policy != T2C_FP16_FP32_PARAMS) return;
  if (options.target >= Target::kIos17) {
    np->param = mil::DType::kFloat32;
    np->param_detail = "parameters kept fp32 (iOS17+ allows them beside fp16 input)";
  } else {
    np->param_detail = absl::StrCat("parameters stored fp16: ", TargetName(options.target),
                                    " needs them in the input's dtype");
  }
}

void ChooseInputDtypes(const Graph& g, const Node& n, const registry::Lowering& l,
                       const PrecisionOptions& options, NodePlan* np) {
  const mil::DType float_dtype = mil::IsFloat(np->compute) ? np->compute : RequestedFloat(options);
  np->inputs.assign(n.inputs.size(), mil::DType::kInvalid);
  for (size_t i = 0; i < n.inputs.size() && i < l.inputs.size(); ++i) {
    const registry::InputDecl& d = l.inputs[i];
    if (!IsTensorRole(d.role) || g.value(g.Resolve(n.inputs[i])).kind == ValueKind::kNone) {
      continue;
    }
    np->inputs[i] = d.role == T2C_ROLE_PARAM ? np->param
                                             : PlannedInputDtype(InputClass(g, n.inputs[i]),
                                                                 np->compute, float_dtype, d);
  }
}

void PlanWeightUpcasts(const Graph& g, int idx, const NodePlan& np, const PrecisionOptions& options,
                       CastBook* casts) {
  if (options.precision != Precision::kFp16) return;
  const Node& n = g.nodes()[static_cast<size_t>(idx)];
  for (size_t i = 0; i < np.inputs.size() && i < n.inputs.size(); ++i) {
    const ValueId r = g.Resolve(n.inputs[i]);
    const Value& v = g.value(r);
    if (np.inputs[i] != mil::DType::kFloat32 || !v.is_const) continue;
    if (np.reason != PrecisionReason::kLoweringNeedsFp32 || !StoresAsFp16Weight(v)) {
      casts->ReadExactFp32(r);  // e.g. a --keep-fp32 node's weight
    } else {
      casts->UpcastWeight(r, idx,
                          absl::StrCat("weight stored fp16; ", n.QualifiedKind(),
                                       " computes in fp32 (", np.detail, ")"));
    }
  }
}

Fp16ZeroLoss MeasureFp16ZeroLoss(const Value& v) {
  Fp16ZeroLoss loss;
  double lost = 0, all = 0;
  auto visit = [&](double x) {
    all += x * x;
    if (x != 0 && mil::ClassifyFp16(static_cast<float>(x)) == mil::Fp16Fit::kZero) {
      lost += x * x;
      loss.largest = std::max(loss.largest, std::fabs(x));
    }
  };
  if (v.kind == ValueKind::kFloat) {
    visit(v.f);
  } else if (v.tensor && v.tensor->type_class() == TypeClass::kFloat) {
    const int64_t n = v.tensor->numel();
    for (int64_t k = 0; k < n; ++k) visit(v.tensor->At(k));
  }
  loss.norm_share = all > 0 ? std::sqrt(lost / all) : 0;
  return loss;
}

namespace {

/// Values a constant loses in FP16 that are worth a warning: any that become infinite; values
/// that become zero when they carry more than one FP16 rounding of the constant's L2 norm and the
/// converter did not make the constant itself (a folded bias).
void WarnConstantLosses(const Node& n, const Value& v, const Fp16Losses& losses,
                        std::vector<std::string>* warnings) {
  constexpr double kOneFp16Rounding = 0x1p-11;
  std::vector<std::string> parts;
  if (losses.zeros > 0 && !absl::EndsWith(v.name, ".folded_bias")) {
    const Fp16ZeroLoss loss = MeasureFp16ZeroLoss(v);
    if (loss.norm_share > kOneFp16Rounding) {
      parts.push_back(absl::StrFormat(
          "%d nonzero value%s that round%s to zero (%.3g%% of its L2 norm, the largest %.3g)",
          losses.zeros, losses.zeros == 1 ? "" : "s", losses.zeros == 1 ? "s" : "",
          100 * loss.norm_share, loss.largest));
    }
  }
  if (losses.overflows > 0) {
    parts.push_back(absl::StrFormat("%d value%s that round%s to infinity", losses.overflows,
                                    losses.overflows == 1 ? "" : "s",
                                    losses.overflows == 1 ? "s" : ""));
  }
  if (parts.empty()) return;
  warnings->push_back(absl::StrCat(Where(n), ": constant '", v.name, "' has ",
                                   absl::StrJoin(parts, " and "), " in fp16"));
}

}  // namespace

void WarnFp16Losses(const Graph& g, const Node& n, const registry::Lowering& l, const NodePlan& np,
                    std::vector<std::string>* warnings) {
  for (size_t i = 0; i < np.inputs.size() && i < l.inputs.size(); ++i) {
    const Value& v = g.value(g.Resolve(n.inputs[i]));
    if (np.inputs[i] != mil::DType::kFloat16 || !v.is_const) continue;
    const Fp16Losses losses = CountFp16Losses(v);
    const std::string& name = l.inputs[i].name;
    if (l.inputs[i].role == T2C_ROLE_PARAM && v.kind == ValueKind::kFloat &&
        (losses.zeros || losses.subnormals || losses.overflows)) {
      const double stored = mil::Fp16ScalarValue(static_cast<float>(v.f));
      warnings->push_back(absl::StrFormat(
          "%s: %s %g is not representable in fp16 (stored as %g); --target ios17 keeps it fp32",
          Where(n), name, v.f, stored));
    } else if (IsFloatScalarConstant(v) && losses.zeros) {
      const float x = static_cast<float>(v.kind == ValueKind::kFloat ? v.f : v.tensor->At(0));
      warnings->push_back(absl::StrFormat(
          "%s: %s %g is below fp16's smallest subnormal: stored as %g, the smallest nonzero fp16, so that it stays nonzero",
          Where(n), name, x, mil::Fp16ScalarValue(x)));
    } else if (losses.zeros || losses.overflows) {
      WarnConstantLosses(n, v, losses, warnings);
    }
  }
}

void ChooseOutputDtypes(const Graph& g, const Node& n, NodePlan* np,
                        std::map<ValueId, mil::DType>* produced) {
  for (ValueId o : n.outputs) {
    const mil::DType d = DtypeOfClass(OutputClass(g, o), np->compute);
    np->outputs.push_back(d);
    (*produced)[o] = d;
    for (ValueId e : g.value(o).elements) (*produced)[e] = d;
  }
}

void PlanInputCasts(const Graph& g, int idx, const NodePlan& np, const PrecisionOptions& options,
                    CastBook* casts) {
  const Node& n = g.nodes()[static_cast<size_t>(idx)];
  for (size_t i = 0; i < n.inputs.size() && i < np.inputs.size(); ++i) {
    if (np.inputs[i] == mil::DType::kInvalid) continue;
    for (ValueId rv : RuntimeValuesOf(g, n.inputs[i])) {
      casts->CastRuntime(rv, np.inputs[i], idx, InputCastReason(g, n, rv, np, options));
    }
  }
}

void PlanOutputCasts(const Graph& g, const PrecisionOptions& options, CastBook* casts) {
  for (const GraphOutput& o : g.outputs()) {
    const ValueId r = g.Resolve(o.value);
    const Value& v = g.value(r);
    if (v.is_const) continue;
    const mil::DType need = OutputFeatureDtype(v.type_class, options);
    casts->CastRuntime(
        r, need, -1,
        absl::StrCat(
            "model output '", o.name, "' is ", std::string(mil::DTypeName(need)),
            v.type_class == TypeClass::kBool ? " (Core ML model outputs have no bool)" : ""));
  }
}

mil::DType InputFeatureDtype(const Value& v, const PrecisionOptions& options) {
  switch (v.input_dtype) {
    case InputDtype::kFp32:
      return mil::DType::kFloat32;
    case InputDtype::kFp16:
      return mil::DType::kFloat16;
    case InputDtype::kInt32:
    case InputDtype::kInt64:
    case InputDtype::kBool:
    case InputDtype::kUint8:
      return mil::DType::kInt32;
    case InputDtype::kDefault:
      break;
  }
  return options.io_dtype;
}

mil::DType OutputFeatureDtype(TypeClass c, const PrecisionOptions& options) {
  return c == TypeClass::kFloat ? options.io_dtype : mil::DType::kInt32;
}

absl::StatusOr<PrecisionPlan> PlanPrecision(const Graph& g, const Analysis& analysis,
                                            const PrecisionOptions& options) {
  if (absl::Status s = CheckPrecisionOptions(options); !s.ok()) return s;
  PrecisionPlan plan;
  plan.options = options;
  plan.nodes.resize(g.nodes().size());
  for (ValueId in : g.inputs()) {
    const Value& v = g.value(in);
    plan.produced[in] = InputFeatureDtype(v, options);
    if (v.input_dtype == InputDtype::kFp16 && options.target == Target::kIos15) {
      return Error(ErrorClass::kUsage,
                   absl::StrCat("--input ", v.name, ":...:fp16 needs --target ios16 or later"));
    }
    if (v.input_dtype == InputDtype::kInt64 || v.input_dtype == InputDtype::kBool ||
        v.input_dtype == InputDtype::kUint8) {
      plan.warnings.push_back(
          absl::StrCat("model input '", v.name, "' (", InputDtypeName(v.input_dtype),
                       ") crosses the Core ML boundary as int32: Core ML model inputs have no ",
                       InputDtypeName(v.input_dtype)));
    }
  }
  CastBook casts(g, &plan);
  PlanVisitor visitor(g, analysis, casts, plan);
  (void)WalkGraph(g, visitor);  // never fails
  casts.DropUpcastsOfExactConstants();
  PlanOutputCasts(g, options, &casts);  // step 5
  return plan;
}

}  // namespace ts2coreml::core
