#include "core/convert/precision_plan.h"

#include <algorithm>
#include <cmath>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "core/base/errors.h"
#include "core/convert/lowering_context.h"
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

/// Largest |x| of a constant float input (tensor or number), or nullopt for anything else.
std::optional<double> ConstFloatMagnitude(const Value& v) {
  if (!v.is_const) return std::nullopt;
  if (v.kind == ValueKind::kFloat) return std::fabs(v.f);
  if (v.kind == ValueKind::kTensor && v.tensor && v.tensor->type_class() == TypeClass::kFloat) {
    return v.tensor->MaxAbs();
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

std::string Where(const Node& n) {
  return n.source.empty() ? n.QualifiedKind() : absl::StrCat(n.QualifiedKind(), " at ", n.source);
}

/// The dtype a tensor-role input gets: the node's compute dtype when the lowering accepts it,
/// else the value's own class, else the first accepted dtype.
mil::DType InputDtype(TypeClass cls, mil::DType compute, mil::DType float_dtype,
                      t2c_dtype_mask mask) {
  if (Allows(mask, compute)) return compute;
  const mil::DType own = cls == TypeClass::kFloat ? float_dtype
                         : cls == TypeClass::kInt ? mil::DType::kInt32
                                                  : mil::DType::kBool;
  if (Allows(mask, own)) return own;
  for (mil::DType d : {float_dtype, mil::DType::kFloat32, mil::DType::kFloat16, mil::DType::kInt32,
                       mil::DType::kBool}) {
    if (Allows(mask, d)) return d;
  }
  return mil::DType::kInvalid;
}

}  // namespace

absl::StatusOr<PrecisionPlan> PlanPrecision(const Graph& g, const Analysis& analysis,
                                            const PrecisionOptions& options) {
  if (options.io_dtype == mil::DType::kFloat16 && options.target == Target::kIos15) {
    return Error(ErrorClass::kUsage, "--io-dtype fp16 needs --target ios16 or later");
  }
  if (!mil::IsFloat(options.io_dtype)) {
    return Error(ErrorClass::kUsage, "--io-dtype must be fp16 or fp32");
  }
  PrecisionPlan plan;
  plan.options = options;
  plan.nodes.resize(g.nodes().size());
  const bool fp16 = options.precision == Precision::kFp16;
  const mil::DType float_dtype = fp16 ? mil::DType::kFloat16 : mil::DType::kFloat32;
  for (ValueId in : g.inputs()) plan.produced[in] = options.io_dtype;
  std::set<std::pair<ValueId, mil::DType>> cast_seen;
  // Constants some FP32 user reads exactly (not through a weight upcast).
  std::set<ValueId> exact_fp32;

  auto add_cast = [&](ValueId value, mil::DType to, int consumer, std::string reason) {
    const ValueId r = g.Resolve(value);
    auto it = plan.produced.find(r);
    if (it == plan.produced.end() || it->second == to) return;
    if (!cast_seen.insert({r, to}).second) return;
    plan.casts.push_back({r, it->second, to, consumer, std::move(reason)});
  };

  for (int idx = 0; idx < static_cast<int>(g.nodes().size()); ++idx) {
    const NodeAnalysis& na = analysis.nodes[static_cast<size_t>(idx)];
    if (na.decision != NodeDecision::kLowered || !na.lowering) continue;
    const Node& n = g.nodes()[static_cast<size_t>(idx)];
    const registry::Lowering& l = *na.lowering;
    NodePlan& np = plan.nodes[static_cast<size_t>(idx)];
    np.planned = true;

    // 1. Compute dtype and its reason.
    bool is_float = false;
    bool any_int = false;
    for (ValueId o : n.outputs) {
      const TypeClass c = OutputClass(g, o);
      is_float |= c == TypeClass::kFloat;
      any_int |= c == TypeClass::kInt;
    }
    for (size_t i = 0; i < n.inputs.size() && i < l.inputs.size(); ++i) {
      if (IsTensorRole(l.inputs[i].role) && InputClass(g, n.inputs[i]) == TypeClass::kFloat &&
          g.value(g.Resolve(n.inputs[i])).kind != ValueKind::kFloat) {
        is_float = true;
      }
    }
    if (!is_float) {
      np.compute = any_int ? mil::DType::kInt32 : mil::DType::kBool;
      np.reason = PrecisionReason::kNotFloat;
    } else {
      np.compute = float_dtype;
      np.reason = fp16 ? PrecisionReason::kRequestedFp16 : PrecisionReason::kRequestedFp32;
      const KeepFp32Rule* rule = nullptr;
      for (const KeepFp32Rule& r : options.keep_fp32) {
        if (r.Matches(n)) {
          rule = &r;
          break;
        }
      }
      if (fp16 && rule != nullptr) {
        np.compute = mil::DType::kFloat32;
        np.reason = PrecisionReason::kUserRule;
        np.detail = absl::StrCat("--keep-fp32 ", rule->text());
      } else if (fp16 && l.fp16_policy == T2C_FP16_NEEDS_FP32_COMPUTE) {
        const std::string lowering = absl::StrCat(l.plugin ? l.plugin->name + "/" : "", l.name);
        if (options.fp16_all) {
          np.detail =
              absl::StrCat("--fp16-all overrides lowering ", lowering, "'s needs_fp32_compute");
        } else {
          np.compute = mil::DType::kFloat32;
          np.reason = PrecisionReason::kLoweringNeedsFp32;
          np.detail = absl::StrCat("lowering ", lowering, " declares needs_fp32_compute");
        }
      }
      for (size_t i = 0;
           fp16 && np.compute == mil::DType::kFloat16 && i < n.inputs.size() && i < l.inputs.size();
           ++i) {
        if (!IsTensorRole(l.inputs[i].role)) continue;
        const Value& v = g.value(g.Resolve(n.inputs[i]));
        std::optional<double> mag = ConstFloatMagnitude(v);
        if (mag && *mag > mil::kFp16Max) {
          np.compute = mil::DType::kFloat32;
          np.reason = PrecisionReason::kConstantOutOfRange;
          np.detail =
              absl::StrFormat("constant '%s' reaches %g, beyond FP16's 65504", v.name, *mag);
        } else if (l.inputs[i].role == T2C_ROLE_TENSOR &&
                   InputClass(g, n.inputs[i]) == TypeClass::kFloat &&
                   !Allows(l.inputs[i].dtypes, mil::DType::kFloat16)) {
          np.compute = mil::DType::kFloat32;
          np.reason = PrecisionReason::kInputNoFp16;
          np.detail = absl::StrCat("input '", l.inputs[i].name, "' does not accept fp16");
        }
      }
    }

    // 2. Parameter dtype (T2C_FP16_FP32_PARAMS).
    np.param = mil::IsFloat(np.compute) ? np.compute : float_dtype;
    if (np.compute == mil::DType::kFloat16 && l.fp16_policy == T2C_FP16_FP32_PARAMS) {
      if (options.target >= Target::kIos17) {
        np.param = mil::DType::kFloat32;
        np.param_detail = "parameters kept fp32 (iOS17+ allows them beside fp16 input)";
      } else {
        np.param_detail = absl::StrCat("parameters stored fp16: ", TargetName(options.target),
                                       " needs them in the input's dtype");
      }
    }

    // 3. Input and output dtypes.
    np.inputs.assign(n.inputs.size(), mil::DType::kInvalid);
    for (size_t i = 0; i < n.inputs.size() && i < l.inputs.size(); ++i) {
      const registry::InputDecl& d = l.inputs[i];
      const Value& v = g.value(g.Resolve(n.inputs[i]));
      if (!IsTensorRole(d.role) || v.kind == ValueKind::kNone) continue;
      np.inputs[i] =
          d.role == T2C_ROLE_PARAM
              ? np.param
              : InputDtype(InputClass(g, n.inputs[i]), np.compute,
                           mil::IsFloat(np.compute) ? np.compute : float_dtype, d.dtypes);
      if (fp16 && np.inputs[i] == mil::DType::kFloat32 && v.is_const) {
        const ValueId r = g.Resolve(n.inputs[i]);
        if (np.reason != PrecisionReason::kLoweringNeedsFp32 || !StoresAsFp16Weight(v)) {
          exact_fp32.insert(r);  // e.g. a --keep-fp32 node's weight
        } else if (cast_seen.insert({r, mil::DType::kFloat32}).second) {
          plan.casts.push_back({r, mil::DType::kFloat16, mil::DType::kFloat32, idx,
                                absl::StrCat("weight stored fp16; ", n.QualifiedKind(),
                                             " computes in fp32 (", np.detail, ")"),
                                /*constant=*/true});
        }
      }
      if (np.inputs[i] == mil::DType::kFloat16 && v.is_const) {
        Fp16Losses losses = CountFp16Losses(v);
        if (d.role == T2C_ROLE_PARAM && v.kind == ValueKind::kFloat &&
            (losses.zeros || losses.subnormals || losses.overflows)) {
          plan.warnings.push_back(absl::StrFormat(
              "%s: %s %g is not representable in fp16 (stored as %g); --target ios17 keeps it "
              "fp32",
              Where(n), d.name, v.f, mil::HalfToFloat(mil::FloatToHalf(static_cast<float>(v.f)))));
        } else if (losses.zeros || losses.overflows) {
          plan.warnings.push_back(absl::StrFormat(
              "%s: constant '%s' has %d nonzero value%s that round%s to zero and %d that "
              "round%s to infinity in fp16",
              Where(n), v.name, losses.zeros, losses.zeros == 1 ? "" : "s",
              losses.zeros == 1 ? "s" : "", losses.overflows, losses.overflows == 1 ? "s" : ""));
        }
      }
    }
    for (ValueId o : n.outputs) {
      const TypeClass c = OutputClass(g, o);
      const mil::DType d = c == TypeClass::kFloat ? np.compute
                           : c == TypeClass::kInt ? mil::DType::kInt32
                                                  : mil::DType::kBool;
      np.outputs.push_back(d);
      plan.produced[o] = d;
      for (ValueId e : g.value(o).elements) plan.produced[e] = d;
    }

    // 4. Casts of runtime inputs to what the lowering declared.
    for (size_t i = 0; i < n.inputs.size(); ++i) {
      if (np.inputs[i] == mil::DType::kInvalid) continue;
      const Value& v = g.value(g.Resolve(n.inputs[i]));
      std::vector<ValueId> runtime;
      if (v.kind == ValueKind::kTensorList) {
        runtime = v.elements;
      } else if (!v.is_const) {
        runtime.push_back(n.inputs[i]);
      }
      for (ValueId r : runtime) {
        const ValueId rv = g.Resolve(r);
        if (g.value(rv).is_const) continue;
        std::string why;
        if (g.value(rv).producer < 0) {
          why = absl::StrCat("model input '", g.value(rv).name, "' is ",
                             std::string(mil::DTypeName(options.io_dtype)), "; ", n.QualifiedKind(),
                             " computes in ", std::string(mil::DTypeName(np.compute)));
        } else {
          why = absl::StrCat(n.QualifiedKind(), " computes in ",
                             std::string(mil::DTypeName(np.compute)));
          if (np.reason != PrecisionReason::kRequestedFp16 &&
              np.reason != PrecisionReason::kRequestedFp32) {
            absl::StrAppend(
                &why, " (",
                np.detail.empty() ? PrecisionReasonName(np.reason) : absl::string_view(np.detail),
                ")");
          }
        }
        add_cast(rv, np.inputs[i], idx, std::move(why));
      }
    }
  }

  // A constant has one FP32 form: stored FP16 and cast up only when no FP32 user needs it exact.
  plan.casts.erase(std::remove_if(plan.casts.begin(), plan.casts.end(),
                                  [&](const PlannedCast& c) {
                                    return c.constant && exact_fp32.count(c.value) != 0;
                                  }),
                   plan.casts.end());

  // 5. Model outputs in the I/O dtype.
  for (const GraphOutput& o : g.outputs()) {
    const ValueId r = g.Resolve(o.value);
    const Value& v = g.value(r);
    const mil::DType need = v.type_class == TypeClass::kFloat ? options.io_dtype
                            : v.type_class == TypeClass::kInt ? mil::DType::kInt32
                                                              : mil::DType::kBool;
    if (v.is_const) continue;
    add_cast(r, need, -1,
             absl::StrCat("model output '", o.name, "' is ", std::string(mil::DTypeName(need))));
  }
  return plan;
}

}  // namespace ts2coreml::core
