#include "core/convert/program_emitter.h"

#include <chrono>
#include <limits>
#include <memory>
#include <set>

#include "absl/strings/str_cat.h"
#include "core/base/errors.h"
#include "core/convert/control_flow_ops.h"
#include "core/convert/dtype_ops.h"
#include "core/convert/lowering_context.h"
#include "core/mil/fp16.h"
#include "core/mil/validator.h"

namespace ts2coreml::core {
namespace {

/// "ts2coreml.norm/layer_norm": who emitted an op.
std::string LoweringPath(const registry::Lowering& l) {
  return l.plugin ? absl::StrCat(l.plugin->name, "/", l.name) : l.name;
}

std::string PluginName(const registry::Lowering& l) {
  return l.plugin ? absl::StrCat("plugin ", l.plugin->name, " (lowering ", l.name, ")")
                  : absl::StrCat("lowering ", l.name);
}

}  // namespace

std::string ProgramEmitter::HintFor(int index) const {
  if (index < 0) return "v";
  const Node& n = graph_.nodes().at(static_cast<size_t>(index));
  return n.outputs.empty() ? "v" : graph_.value(n.outputs[0]).name;
}

void ProgramEmitter::Bind(ValueId value, mil::VarId var) {
  vars_[value][out_.main.var(var).type.dtype] = var;
}

mil::VarId ProgramEmitter::AddConst(std::string_view hint, mil::ConstValue value) {
  return out_.main.AddConst(hint, std::move(value));
}

std::vector<std::string> ProgramEmitter::Check(std::string_view type,
                                               const std::vector<mil::OpInput>& inputs,
                                               const std::vector<mil::TensorType>& outputs) {
  const auto start = std::chrono::steady_clock::now();
  std::vector<std::string> problems = mil::CheckNewOp(out_.main, type, inputs, outputs);
  out_.validate_seconds +=
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return problems;
}

absl::StatusOr<std::vector<mil::VarId>> ProgramEmitter::AddOp(
    std::string_view type, std::string_view hint, std::vector<mil::OpInput> inputs,
    std::vector<mil::TensorType> outputs) {
  // Every op a lowering emits is checked against Core ML's opset before it joins the program
  // (an input naming no var is Function::AddOp's to report).
  for (const mil::OpInput& in : inputs) {
    for (mil::VarId v : in.vars) {
      if (!out_.main.IsValid(v)) return out_.main.AddOp(type, hint, std::move(inputs), {});
    }
  }
  std::vector<std::string> problems = Check(type, inputs, outputs);
  if (!problems.empty()) {
    if (violation_.empty()) violation_ = problems[0];
    return Error(ErrorClass::kPlugin, absl::StrCat("emitted ", problems[0]));
  }
  return out_.main.AddOp(type, hint, std::move(inputs), std::move(outputs));
}

absl::StatusOr<std::vector<mil::VarId>> ProgramEmitter::AddCoreOp(
    std::string_view type, std::string_view hint, std::vector<mil::OpInput> inputs,
    std::vector<mil::TensorType> outputs, std::vector<int> blocks) {
  std::vector<std::string> problems = Check(type, inputs, outputs);
  if (!problems.empty()) {
    return Error(ErrorClass::kInternal,
                 absl::StrCat("ts2coreml emitted ", problems[0],
                              "; this is a bug in ts2coreml, please report it"));
  }
  return out_.main.AddOp(type, hint, std::move(inputs), std::move(outputs), std::move(blocks));
}

mil::VarId ProgramEmitter::Cached(ValueId value, mil::DType dtype) const {
  auto it = vars_.find(value);
  if (it == vars_.end()) return 0;
  auto v = it->second.find(dtype);
  if (v == it->second.end()) return 0;
  return out_.main.Visible(v->second, out_.main.current_block()) ? v->second : 0;
}

namespace {

/// The constant of tensor `t` in float `dtype`. Weights stored FP32 or FP16 are deferred: they
/// are converted to their stored dtype while the package is written, so no second copy of the
/// weights is held (`owner` keeps LibTorch's storage).
mil::ConstValue FloatTensorConst(const std::shared_ptr<const ConstTensor>& owner,
                                 mil::DType dtype) {
  const ConstTensor& t = *owner;
  if (t.storage == ConstTensor::Storage::kFloat32 || t.storage == ConstTensor::Storage::kFloat16) {
    mil::ConstSource source;
    source.dtype =
        t.storage == ConstTensor::Storage::kFloat16 ? mil::DType::kFloat16 : mil::DType::kFloat32;
    source.data = t.data;
    source.owner = owner;
    return mil::ConstValue::Deferred(dtype, t.shape, std::move(source));
  }
  std::vector<float> data = t.ToFloats();
  return dtype == mil::DType::kFloat16 ? mil::ConstValue::Float16(t.shape, data.data())
                                       : mil::ConstValue::Float32(t.shape, data.data());
}

/// The numbers of constant `v` (a tensor's elements, or one int, bool or float) and its shape.
bool ConstNumbers(const Value& v, std::vector<int64_t>* shape, std::vector<double>* numbers) {
  if (v.kind == ValueKind::kTensor && v.tensor) {
    *shape = v.tensor->shape;
    const int64_t n = v.tensor->numel();
    numbers->resize(static_cast<size_t>(n));
    for (int64_t k = 0; k < n; ++k) (*numbers)[static_cast<size_t>(k)] = v.tensor->At(k);
    return true;
  }
  if (!v.is_const ||
      (v.kind != ValueKind::kInt && v.kind != ValueKind::kFloat && v.kind != ValueKind::kBool)) {
    return false;
  }
  shape->clear();
  numbers->assign(1, v.kind == ValueKind::kInt    ? static_cast<double>(v.i)
                     : v.kind == ValueKind::kBool ? (v.b ? 1.0 : 0.0)
                                                  : v.f);
  return true;
}

/// `numbers` of constant `v` as a constant of `dtype` and `shape`.
absl::StatusOr<mil::ConstValue> NumbersConst(const Value& v, mil::DType dtype,
                                             const std::vector<int64_t>& shape,
                                             const std::vector<double>& numbers) {
  if (mil::IsFloat(dtype)) {
    std::vector<float> floats(numbers.begin(), numbers.end());
    if (dtype == mil::DType::kFloat16 && IsFloatScalarConstant(v)) {
      floats[0] = mil::Fp16ScalarValue(floats[0]);  // an epsilon stays nonzero
    }
    return dtype == mil::DType::kFloat16 ? mil::ConstValue::Float16(shape, floats.data())
                                         : mil::ConstValue::Float32(shape, floats.data());
  }
  if (dtype == mil::DType::kInt32) {
    std::vector<int32_t> ints;
    for (double x : numbers) {
      if (x < std::numeric_limits<int32_t>::min() || x > std::numeric_limits<int32_t>::max()) {
        return Error(ErrorClass::kConversion, absl::StrCat("constant '", v.name, "' holds ", x,
                                                           ", which does not fit in int32"));
      }
      ints.push_back(static_cast<int32_t>(x));
    }
    return mil::ConstValue::Int32(shape, ints.data());
  }
  if (dtype == mil::DType::kBool) {
    std::unique_ptr<bool[]> bools(new bool[std::max<size_t>(numbers.size(), 1)]);
    for (size_t k = 0; k < numbers.size(); ++k) bools[k] = numbers[k] != 0;
    return mil::ConstValue::Bool(shape, bools.get());
  }
  return Error(ErrorClass::kInternal, absl::StrCat("constant '", v.name, "' requested as ",
                                                   std::string(mil::DTypeName(dtype))));
}

}  // namespace

absl::StatusOr<mil::VarId> ProgramEmitter::ConstFor(const Value& v, ValueId id, mil::DType dtype) {
  auto& cache = vars_[id];
  if (auto it = cache.find(dtype); it != cache.end()) return it->second;
  absl::StatusOr<mil::ConstValue> c;
  if (v.kind == ValueKind::kTensor && v.tensor && mil::IsFloat(dtype) &&
      !(dtype == mil::DType::kFloat16 && IsFloatScalarConstant(v))) {
    c = FloatTensorConst(v.tensor, dtype);
  } else {
    std::vector<int64_t> shape;
    std::vector<double> numbers;
    if (!ConstNumbers(v, &shape, &numbers)) {
      return Error(ErrorClass::kInternal,
                   absl::StrCat("value '", v.name, "' cannot be materialized as a constant"));
    }
    c = NumbersConst(v, dtype, shape, numbers);
  }
  if (!c.ok()) return c.status();
  const mil::VarId var = out_.main.AddConst(v.name, *std::move(c));
  cache[dtype] = var;
  return var;
}

absl::StatusOr<mil::VarId> ProgramEmitter::VarFor(ValueId value, mil::DType dtype, int consumer) {
  const ValueId r = graph_.Resolve(value);
  const Value& v = graph_.value(r);
  if (mil::VarId cached = Cached(r, dtype); cached != 0) return cached;
  if (v.is_const) {
    // A weight the plan stores FP16 for an FP32 node: the FP16 constant, then its cast.
    const PlannedCast* upcast = plan_.FindCast(r, dtype);
    if (upcast == nullptr || !upcast->constant) return ConstFor(v, r, dtype);
    absl::StatusOr<mil::VarId> stored = ConstFor(v, r, upcast->from);
    if (!stored.ok()) return stored.status();
    return EmitCast(v, r, *stored, *upcast);
  }
  auto produced = plan_.produced.find(r);
  const mil::VarId made = produced == plan_.produced.end() ? 0 : Cached(r, produced->second);
  if (made == 0) {
    return Error(ErrorClass::kInternal,
                 absl::StrCat("value '", v.name, "' is used before it is computed"));
  }
  // Casts are inserted here, and only where the precision plan put them.
  const PlannedCast* cast = plan_.FindCast(r, dtype);
  if (cast == nullptr) {
    return Error(
        ErrorClass::kInternal,
        absl::StrCat("value '", v.name, "' is ", std::string(mil::DTypeName(produced->second)),
                     " but ", std::string(mil::DTypeName(dtype)),
                     " was asked for without a planned cast (node ", consumer, ")"));
  }
  return EmitCast(v, r, made, *cast);
}

absl::StatusOr<mil::VarId> ProgramEmitter::TruncateTowardZero(const Value& v, mil::VarId x,
                                                              mil::DType dtype) {
  // MIL's cast does not say how it rounds; trunc(x) = sign(x) * floor(|x|) is exact first.
  const std::string base = absl::StrCat(v.name, "_trunc");
  const mil::TensorType t{dtype, v.shape};
  absl::StatusOr<std::vector<mil::VarId>> abs = AddCoreOp("abs", base + "_abs", {{"x", {x}}}, {t});
  if (!abs.ok()) return abs.status();
  absl::StatusOr<std::vector<mil::VarId>> floor =
      AddCoreOp("floor", base + "_floor", {{"x", {(*abs)[0]}}}, {t});
  if (!floor.ok()) return floor.status();
  absl::StatusOr<std::vector<mil::VarId>> sign =
      AddCoreOp("sign", base + "_sign", {{"x", {x}}}, {t});
  if (!sign.ok()) return sign.status();
  absl::StatusOr<std::vector<mil::VarId>> mul =
      AddCoreOp("mul", base, {{"x", {(*sign)[0]}}, {"y", {(*floor)[0]}}}, {t});
  if (!mul.ok()) return mul.status();
  return (*mul)[0];
}

absl::StatusOr<mil::VarId> ProgramEmitter::NotEqualZero(const Value& v, mil::VarId x,
                                                        mil::DType dtype) {
  const std::string hint = absl::StrCat(v.name, "_to_bool");
  mil::ConstValue zero;
  const float f = 0;
  const int32_t i = 0;
  zero = dtype == mil::DType::kFloat16   ? mil::ConstValue::Float16({}, &f)
         : dtype == mil::DType::kFloat32 ? mil::ConstValue::Float32({}, &f)
                                         : mil::ConstValue::Int32({}, &i);
  const mil::VarId z = out_.main.AddConst(hint + "_zero", std::move(zero));
  absl::StatusOr<std::vector<mil::VarId>> ne =
      AddCoreOp("not_equal", hint, {{"x", {x}}, {"y", {z}}}, {{mil::DType::kBool, v.shape}});
  if (!ne.ok()) return ne.status();
  return (*ne)[0];
}

absl::StatusOr<mil::VarId> ProgramEmitter::EmitCast(const Value& v, ValueId id, mil::VarId from,
                                                    const PlannedCast& cast) {
  const mil::DType dtype = cast.to;
  absl::StatusOr<mil::VarId> result;
  if (dtype == mil::DType::kBool && cast.from != mil::DType::kBool) {
    // PyTorch's conversion to bool is x != 0.
    result = NotEqualZero(v, from, cast.from);
  } else {
    mil::VarId x = from;
    if (mil::IsFloat(cast.from) && !mil::IsFloat(dtype)) {
      // PyTorch truncates toward zero.
      absl::StatusOr<mil::VarId> t = TruncateTowardZero(v, from, cast.from);
      if (!t.ok()) return t.status();
      x = *t;
    }
    const mil::VarId dtype_name = out_.main.AddConst(
        absl::StrCat(v.name, "_to_", std::string(mil::DTypeName(dtype)), "_dtype"),
        mil::ConstValue::String(std::string(mil::DTypeName(dtype))));
    absl::StatusOr<std::vector<mil::VarId>> outs =
        AddCoreOp("cast", absl::StrCat(v.name, "_to_", std::string(mil::DTypeName(dtype))),
                  {{"x", {x}}, {"dtype", {dtype_name}}}, {{dtype, v.shape}});
    if (!outs.ok()) return outs.status();
    result = (*outs)[0];
  }
  if (!result.ok()) return result.status();
  out_.casts.push_back(
      {out_.main.var(*result).name, cast.from, cast.to, cast.reason, cast.constant});
  vars_[id][dtype] = *result;
  return *result;
}

absl::Status ProgramEmitter::EmitDtypeConversion(int index) {
  const Node& n = graph_.nodes().at(static_cast<size_t>(index));
  const NodePlan& np = plan_.nodes.at(static_cast<size_t>(index));
  absl::StatusOr<mil::VarId> var = VarFor(n.inputs.at(0), np.outputs.at(0), index);
  if (!var.ok()) return var.status();
  const Value& out = graph_.value(n.outputs.at(0));
  vars_[n.outputs[0]][np.outputs[0]] = *var;
  out_.source_map.push_back({*var, out.name, n.QualifiedKind(), n.source});
  out_.op_origin.resize(out_.main.ops().size(), -1);
  return absl::OkStatus();
}

absl::Status ProgramEmitter::EmitInputs() {
  // Core ML feature names must be distinct after sanitizing.
  std::set<std::string> output_names;
  for (const GraphOutput& o : graph_.outputs()) {
    if (!output_names.insert(mil::SanitizeName(o.name)).second) {
      return Error(ErrorClass::kInputSpec,
                   absl::StrCat("two model outputs are named '", mil::SanitizeName(o.name),
                                "'; give distinct names with --output"));
    }
    out_.main.ReserveName(o.name);
  }
  for (ValueId in : graph_.inputs()) {
    if (output_names.count(mil::SanitizeName(graph_.value(in).name)) != 0) {
      return Error(ErrorClass::kInputSpec,
                   absl::StrCat("output name '", mil::SanitizeName(graph_.value(in).name),
                                "' is also an input name; give another with --output"));
    }
  }
  for (ValueId in : graph_.inputs()) {
    const Value& v = graph_.value(in);
    const mil::DType dtype = plan_.produced.at(in);
    const mil::VarId var = out_.main.AddInput(v.name, {dtype, v.shape});
    Bind(in, var);
    out_.inputs.push_back({out_.main.var(var).name, dtype, v.shape});
  }
  return absl::OkStatus();
}

absl::Status ProgramEmitter::EmitNode(int index, const NodeAnalysis& na) {
  if (na.decision != NodeDecision::kLowered) return absl::OkStatus();
  const Node& n = graph_.nodes().at(static_cast<size_t>(index));
  const registry::Lowering& l = *na.lowering;
  const NodePlan& np = plan_.nodes.at(static_cast<size_t>(index));
  if (&l == &DtypeConversionLowering()) return EmitDtypeConversion(index);
  if (&l == &ControlFlowLowering()) return EmitControlFlow(index);
  if (&l == &ScalarOpLowering()) return EmitScalarOp(index);
  if (&l == &DynamicIndexLowering()) return EmitDynamicIndex(index);
  const size_t first_op = out_.main.ops().size();

  t2c_context ctx;
  ctx.phase = t2c_context::Phase::kLower;
  ctx.graph = &graph_;
  ctx.node_index = index;
  ctx.lowering = &l;
  ctx.kind = n.QualifiedKind();
  ctx.plan = &np;
  ctx.emitter = this;
  ctx.uses = uses_;
  ctx.bound.assign(n.outputs.size(), 0);
  ctx.bound_lists.assign(n.outputs.size(), {});
  if (absl::Status s = RunLowering(n, l, ctx); !s.ok()) return s;
  for (size_t k = 0; k < n.outputs.size(); ++k) {
    absl::Status s = graph_.value(n.outputs[k]).kind == ValueKind::kTensorList
                         ? BindListOutput(n, l, np, ctx, k)
                         : BindOutput(n, l, np, ctx, k);
    if (!s.ok()) return s;
  }
  out_.op_origin.resize(first_op, -1);
  for (size_t k = first_op; k < out_.main.ops().size(); ++k) {
    out_.op_origin.push_back(out_.main.ops()[k].type == "cast" ? -1 : index);
  }
  return absl::OkStatus();
}

absl::Status ProgramEmitter::RunLowering(const Node& n, const registry::Lowering& l,
                                         t2c_context& ctx) {
  t2c_status rc = T2C_ERROR;
  violation_.clear();
  if (l.lower == nullptr) {
    ctx.Fail("the lowering has no lower callback");
  } else {
    try {
      rc = l.lower(HostApi(), &ctx, l.user_data);
    } catch (...) {
      ctx.Fail("lower threw an exception across the plugin ABI");
      rc = T2C_ERROR;
    }
  }
  for (const std::string& w : ctx.warnings) {
    out_.warnings.push_back(absl::StrCat(Where(n), ": ", w));
  }
  if (!violation_.empty()) {
    // Whatever the lowering did with the refused emit, the MIL it tried to write is invalid.
    return Error(ErrorClass::kPlugin,
                 absl::StrCat(Where(n), ": ", l.plugin ? "plugin " : "lowering ", LoweringPath(l),
                              " emitted ", violation_,
                              "; fix the lowering (Core ML's ops and inputs: docs/mil-ops.md)"));
  }
  if (rc != T2C_OK) {
    return Error(ErrorClass::kPlugin,
                 absl::StrCat(Where(n), ": ", PluginName(l), " failed: ", ctx.ErrorMessage()));
  }
  return absl::OkStatus();
}

absl::Status ProgramEmitter::BindListOutput(const Node& n, const registry::Lowering& l,
                                            const NodePlan& np, const t2c_context& ctx, size_t k) {
  const Value& out = graph_.value(n.outputs[k]);
  if (ctx.bound_lists[k].size() != out.elements.size()) {
    return Error(ErrorClass::kPlugin,
                 absl::StrCat(Where(n), ": ", PluginName(l), " bound no list to output ", k));
  }
  for (size_t e = 0; e < out.elements.size(); ++e) {
    const Value& ev = graph_.value(out.elements[e]);
    const mil::VarId var = ctx.bound_lists[k][e];
    const mil::TensorType& got = out_.main.var(var).type;
    const mil::TensorType want{np.outputs.at(k), ev.shape};
    if (got != want) {
      return Error(
          ErrorClass::kPlugin,
          absl::StrCat(Where(n), ": ", PluginName(l),
                       " emitted MIL that breaks its declaration: element ", e, " of output ", k,
                       " is ", got.ToString(), " but the planned type is ", want.ToString()));
    }
    vars_[out.elements[e]][got.dtype] = var;
    out_.source_map.push_back({var, ev.name, n.QualifiedKind(), n.source});
  }
  return absl::OkStatus();
}

absl::Status ProgramEmitter::BindOutput(const Node& n, const registry::Lowering& l,
                                        const NodePlan& np, const t2c_context& ctx, size_t k) {
  const Value& out = graph_.value(n.outputs[k]);
  if (ctx.bound[k] == 0) {
    return Error(ErrorClass::kPlugin,
                 absl::StrCat(Where(n), ": ", PluginName(l), " bound no var to output ", k));
  }
  const mil::TensorType& got = out_.main.var(ctx.bound[k]).type;
  const mil::TensorType want{np.outputs.at(k), out.shape};
  if (got != want) {
    return Error(ErrorClass::kPlugin,
                 absl::StrCat(Where(n), ": ", PluginName(l),
                              " emitted MIL that breaks its declaration: output ", k, " is ",
                              got.ToString(), " but the planned type is ", want.ToString()));
  }
  // A lowering may return a var it did not create (an identity); bind it all the same.
  vars_[n.outputs[k]][got.dtype] = ctx.bound[k];
  out_.source_map.push_back({ctx.bound[k], out.name, n.QualifiedKind(), n.source});
  return absl::OkStatus();
}

absl::StatusOr<mil::VarId> ProgramEmitter::LocalVar(mil::VarId var, std::string_view hint) {
  if (out_.main.var(var).block == out_.main.current_block()) return var;
  absl::StatusOr<std::vector<mil::VarId>> id =
      AddCoreOp("identity", hint, {{"x", {var}}}, {out_.main.var(var).type});
  if (!id.ok()) return id.status();
  return (*id)[0];
}

namespace {

mil::ConstValue Int32Scalar(int32_t v) { return mil::ConstValue::Int32({}, &v); }

}  // namespace

absl::StatusOr<mil::VarId> ProgramEmitter::LoopInitialValues(int owner, Flow& flow) {
  const Node& n = graph_.nodes().at(static_cast<size_t>(owner));
  const NodePlan& np = plan_.nodes.at(static_cast<size_t>(owner));
  const int64_t trips = graph_.value(graph_.Resolve(n.inputs[0])).i;
  const Value& start = graph_.value(graph_.Resolve(n.inputs[1]));
  const Value& again = graph_.value(graph_.Resolve(n.blocks[0].outputs[0]));
  const ValueId index_value = n.blocks[0].inputs.at(0);
  const bool index_used = uses_ != nullptr && (*uses_)[static_cast<size_t>(index_value)] > 0;
  flow.has_index = trips < kUnboundedTrips || index_used;
  flow.has_cond = !(start.is_const && start.kind == ValueKind::kBool && start.b) ||
                  !(again.is_const && again.kind == ValueKind::kBool && again.b);
  if (!flow.has_index && !flow.has_cond) {
    return Error(ErrorClass::kModel, absl::StrCat(Where(n), ": the loop never ends"));
  }
  const std::string hint = HintFor(owner);
  mil::VarId limit = 0;
  if (flow.has_index) {
    flow.init.push_back(out_.main.AddConst(hint + "_i0", Int32Scalar(0)));
    const int64_t bound = std::min<int64_t>(std::max<int64_t>(trips, 0), kUnboundedTrips - 1);
    limit = out_.main.AddConst(hint + "_trips", Int32Scalar(static_cast<int32_t>(bound)));
  }
  if (flow.has_cond) {
    absl::StatusOr<mil::VarId> c = VarFor(n.inputs[1], mil::DType::kBool, owner);
    if (!c.ok()) return c.status();
    flow.init.push_back(*c);
  }
  for (size_t k = 2; k < n.inputs.size(); ++k) {
    flow.dtypes.push_back(np.inputs.at(k));
    absl::StatusOr<mil::VarId> v = VarFor(n.inputs[k], np.inputs[k], owner);
    if (!v.ok()) return v.status();
    flow.init.push_back(*v);
  }
  return limit;
}

absl::Status ProgramEmitter::EmitLoopCondition(const std::string& hint, Flow& flow,
                                               mil::VarId limit) {
  flow.blocks.push_back(out_.main.BeginBlock());
  std::vector<mil::VarId> vars;
  for (mil::VarId v : flow.init) {
    vars.push_back(out_.main.AddBlockInput(hint + "_c", out_.main.var(v).type));
  }
  const mil::TensorType flag{mil::DType::kBool, {}};
  mil::VarId go = flow.has_cond ? vars[flow.has_index ? 1 : 0] : 0;
  if (flow.has_index) {
    absl::StatusOr<std::vector<mil::VarId>> lt =
        AddCoreOp("less", hint + "_in_range", {{"x", {vars[0]}}, {"y", {limit}}}, {flag});
    if (!lt.ok()) return lt.status();
    go = (*lt)[0];
    if (flow.has_cond) {
      absl::StatusOr<std::vector<mil::VarId>> both =
          AddCoreOp("logical_and", hint + "_go", {{"x", {go}}, {"y", {vars[1]}}}, {flag});
      if (!both.ok()) return both.status();
      go = (*both)[0];
    }
  }
  absl::StatusOr<mil::VarId> result = LocalVar(go, hint + "_go");
  if (!result.ok()) return result.status();
  return out_.main.EndBlock({*result});
}

absl::Status ProgramEmitter::BeginLoop(int owner) {
  const Node& n = graph_.nodes().at(static_cast<size_t>(owner));
  Flow& flow = flows_[owner];
  absl::StatusOr<mil::VarId> limit = LoopInitialValues(owner, flow);
  if (!limit.ok()) return limit.status();
  const std::string hint = HintFor(owner);
  // The condition block: index < trips, and the body's (or the initial) condition.
  if (absl::Status s = EmitLoopCondition(hint, flow, *limit); !s.ok()) return s;
  // The body block; its carried inputs are the TorchScript body's.
  flow.blocks.push_back(out_.main.BeginBlock());
  const size_t first_carried = (flow.has_index ? 1 : 0) + (flow.has_cond ? 1 : 0);
  for (size_t k = 0; k < flow.init.size(); ++k) {
    const mil::VarId in = out_.main.AddBlockInput(hint + "_b", out_.main.var(flow.init[k]).type);
    if (flow.has_index && k == 0) {
      flow.index = in;
      Bind(n.blocks[0].inputs.at(0), in);
    }
    if (k >= first_carried) Bind(n.blocks[0].inputs.at(k - first_carried + 1), in);
  }
  return absl::OkStatus();
}

absl::Status ProgramEmitter::EnterBlock(int owner, int block) {
  const Node& n = graph_.nodes().at(static_cast<size_t>(owner));
  if (n.kind == "prim::Loop") return BeginLoop(owner);
  flows_[owner].blocks.push_back(out_.main.BeginBlock());
  (void)block;
  return absl::OkStatus();
}

absl::Status ProgramEmitter::ExitBlock(int owner, int block) {
  const Node& n = graph_.nodes().at(static_cast<size_t>(owner));
  const NodePlan& np = plan_.nodes.at(static_cast<size_t>(owner));
  const Block& b = n.blocks.at(static_cast<size_t>(block));
  const std::string hint = absl::StrCat(HintFor(owner), "_out");
  Flow& flow = flows_[owner];
  std::vector<mil::VarId> results;
  const bool loop = n.kind == "prim::Loop";
  if (loop && flow.has_index) {
    const mil::VarId one = out_.main.AddConst(hint + "_one", Int32Scalar(1));
    absl::StatusOr<std::vector<mil::VarId>> next =
        AddCoreOp("add", hint + "_next", {{"x", {flow.index}}, {"y", {one}}},
                  {out_.main.var(flow.index).type});
    if (!next.ok()) return next.status();
    results.push_back((*next)[0]);
  }
  std::vector<std::pair<ValueId, mil::DType>> yields;
  if (loop && flow.has_cond) yields.push_back({b.outputs.at(0), mil::DType::kBool});
  for (size_t k = 0; k < n.outputs.size(); ++k) {
    yields.push_back({b.outputs.at(k + (loop ? 1 : 0)), np.outputs.at(k)});
  }
  for (const auto& [value, dtype] : yields) {
    absl::StatusOr<mil::VarId> var = VarFor(value, dtype, owner);
    if (!var.ok()) return var.status();
    absl::StatusOr<mil::VarId> local = LocalVar(*var, hint);
    if (!local.ok()) return local.status();
    results.push_back(*local);
  }
  return out_.main.EndBlock(std::move(results));
}

absl::Status ProgramEmitter::EmitScalarOp(int index) {
  const Node& n = graph_.nodes().at(static_cast<size_t>(index));
  const NodePlan& np = plan_.nodes.at(static_cast<size_t>(index));
  const size_t first_op = out_.main.ops().size();
  TypeClass result = TypeClass::kUnknown;
  const std::string mil_op = ScalarOpMil(graph_, n, &result);
  std::vector<mil::OpInput> inputs;
  for (size_t i = 0; i < n.inputs.size(); ++i) {
    absl::StatusOr<mil::VarId> v = VarFor(n.inputs[i], np.inputs.at(i), index);
    if (!v.ok()) return v.status();
    inputs.push_back({i == 0 ? "x" : "y", {*v}});
  }
  absl::StatusOr<std::vector<mil::VarId>> out =
      AddCoreOp(mil_op, HintFor(index), std::move(inputs), {{np.outputs.at(0), {}}});
  if (!out.ok()) return out.status();
  Bind(n.outputs[0], (*out)[0]);
  out_.source_map.push_back(
      {(*out)[0], graph_.value(n.outputs[0]).name, n.QualifiedKind(), n.source});
  out_.op_origin.resize(first_op, -1);
  for (size_t k = first_op; k < out_.main.ops().size(); ++k) out_.op_origin.push_back(index);
  return absl::OkStatus();
}

absl::StatusOr<mil::VarId> ProgramEmitter::IndexVector(const std::string& hint, mil::VarId start) {
  const std::vector<int32_t> axis0 = {0};
  const mil::VarId axes =
      out_.main.AddConst(hint + "_axes", mil::ConstValue::Int32({1}, axis0.data()));
  absl::StatusOr<std::vector<mil::VarId>> start1 =
      AddCoreOp("expand_dims", hint + "_start", {{"x", {start}}, {"axes", {axes}}},
                {{mil::DType::kInt32, {1}}});
  if (!start1.ok()) return start1.status();
  return (*start1)[0];
}

absl::StatusOr<mil::VarId> ProgramEmitter::RunTimeBegin(const std::string& hint, mil::VarId start1,
                                                        int64_t dim, size_t rank) {
  if (rank == 1) return start1;
  std::vector<mil::VarId> parts;
  const std::vector<int32_t> zeros(rank, 0);
  const int64_t after = static_cast<int64_t>(rank) - dim - 1;
  if (dim > 0) {
    parts.push_back(
        out_.main.AddConst(hint + "_before", mil::ConstValue::Int32({dim}, zeros.data())));
  }
  parts.push_back(start1);
  if (after > 0) {
    parts.push_back(
        out_.main.AddConst(hint + "_after", mil::ConstValue::Int32({after}, zeros.data())));
  }
  absl::StatusOr<std::vector<mil::VarId>> begin =
      AddCoreOp("concat", hint + "_begin",
                {{"values", parts}, {"axis", {out_.main.AddConst(hint + "_axis", Int32Scalar(0))}}},
                {{mil::DType::kInt32, {static_cast<int64_t>(rank)}}});
  if (!begin.ok()) return begin.status();
  return (*begin)[0];
}

absl::StatusOr<mil::VarId> ProgramEmitter::SelectAt(const std::string& hint, mil::VarId x,
                                                    mil::VarId start1, int64_t dim,
                                                    const mil::TensorType& out_type) {
  // gather with a one-element index vector, then squeeze: Core ML's gather takes indices of
  // rank 1 or more.
  std::vector<int64_t> kept = out_type.shape;
  kept.insert(kept.begin() + dim, 1);
  const mil::VarId axis =
      out_.main.AddConst(hint + "_axis", Int32Scalar(static_cast<int32_t>(dim)));
  absl::StatusOr<std::vector<mil::VarId>> row =
      AddCoreOp("gather", hint + "_row", {{"x", {x}}, {"indices", {start1}}, {"axis", {axis}}},
                {{out_type.dtype, kept}});
  if (!row.ok()) return row.status();
  const int32_t d = static_cast<int32_t>(dim);
  const mil::VarId axes = out_.main.AddConst(hint + "_squeeze", mil::ConstValue::Int32({1}, &d));
  absl::StatusOr<std::vector<mil::VarId>> out =
      AddCoreOp("squeeze", hint, {{"x", {(*row)[0]}}, {"axes", {axes}}}, {out_type});
  if (!out.ok()) return out.status();
  return (*out)[0];
}

absl::StatusOr<mil::VarId> ProgramEmitter::WriteAt(const std::string& hint, mil::VarId x,
                                                   mil::VarId src, mil::VarId start1, int64_t dim,
                                                   const mil::TensorType& out_type) {
  // select(position == index, expand_dims(src), x): the mask broadcasts along every dimension
  // but `dim`, src along `dim`; exact in every dtype.
  const int64_t n = out_type.shape.at(static_cast<size_t>(dim));
  std::vector<int32_t> positions(static_cast<size_t>(n));
  for (int32_t k = 0; k < static_cast<int32_t>(n); ++k) positions[static_cast<size_t>(k)] = k;
  const mil::VarId all =
      out_.main.AddConst(hint + "_positions", mil::ConstValue::Int32({n}, positions.data()));
  absl::StatusOr<std::vector<mil::VarId>> hit = AddCoreOp(
      "equal", hint + "_hit", {{"x", {all}}, {"y", {start1}}}, {{mil::DType::kBool, {n}}});
  if (!hit.ok()) return hit.status();
  std::vector<int32_t> mask_shape(out_type.shape.size(), 1);
  mask_shape[static_cast<size_t>(dim)] = static_cast<int32_t>(n);
  std::vector<int64_t> mask_dims(mask_shape.begin(), mask_shape.end());
  const mil::VarId shape_var = out_.main.AddConst(
      hint + "_mask_shape",
      mil::ConstValue::Int32({static_cast<int64_t>(mask_shape.size())}, mask_shape.data()));
  absl::StatusOr<std::vector<mil::VarId>> mask =
      AddCoreOp("reshape", hint + "_mask", {{"x", {(*hit)[0]}}, {"shape", {shape_var}}},
                {{mil::DType::kBool, mask_dims}});
  if (!mask.ok()) return mask.status();
  std::vector<int64_t> row = out_type.shape;
  row[static_cast<size_t>(dim)] = 1;
  const int32_t d = static_cast<int32_t>(dim);
  const mil::VarId axes = out_.main.AddConst(hint + "_row_axes", mil::ConstValue::Int32({1}, &d));
  absl::StatusOr<std::vector<mil::VarId>> src1 = AddCoreOp(
      "expand_dims", hint + "_row", {{"x", {src}}, {"axes", {axes}}}, {{out_type.dtype, row}});
  if (!src1.ok()) return src1.status();
  absl::StatusOr<std::vector<mil::VarId>> out = AddCoreOp(
      "select", hint, {{"cond", {(*mask)[0]}}, {"a", {(*src1)[0]}}, {"b", {x}}}, {out_type});
  if (!out.ok()) return out.status();
  return (*out)[0];
}

absl::Status ProgramEmitter::EmitDynamicIndex(int index) {
  const Node& n = graph_.nodes().at(static_cast<size_t>(index));
  const NodePlan& np = plan_.nodes.at(static_cast<size_t>(index));
  const size_t first_op = out_.main.ops().size();
  std::string why;
  const std::optional<DynamicIndex> d = AsDynamicIndex(graph_, n, &why);
  absl::StatusOr<mil::VarId> x = VarFor(d->self, np.inputs.at(0), index);
  if (!x.ok()) return x.status();
  absl::StatusOr<mil::VarId> start = VarFor(d->start, mil::DType::kInt32, index);
  if (!start.ok()) return start.status();
  const std::string hint = HintFor(index);
  absl::StatusOr<mil::VarId> start1 = IndexVector(hint, *start);
  if (!start1.ok()) return start1.status();
  const mil::TensorType out_type{np.outputs.at(0), DynamicIndexShape(graph_, *d)};
  absl::StatusOr<mil::VarId> out;
  if (d->src != kNoValue) {
    absl::StatusOr<mil::VarId> src = VarFor(d->src, np.inputs.at(1), index);
    if (!src.ok()) return src.status();
    out = WriteAt(hint, *x, *src, *start1, d->dim, out_type);
  } else if (d->select) {
    out = SelectAt(hint, *x, *start1, d->dim, out_type);
  } else {
    const std::vector<int64_t>& shape = out_type.shape;
    absl::StatusOr<mil::VarId> begin = RunTimeBegin(hint, *start1, d->dim, shape.size());
    if (!begin.ok()) return begin.status();
    const std::vector<int32_t> size(shape.begin(), shape.end());
    const mil::VarId size_var = out_.main.AddConst(
        hint + "_size", mil::ConstValue::Int32({static_cast<int64_t>(size.size())}, size.data()));
    absl::StatusOr<std::vector<mil::VarId>> sliced =
        AddCoreOp("slice_by_size", hint, {{"x", {*x}}, {"begin", {*begin}}, {"size", {size_var}}},
                  {out_type});
    out = sliced.ok() ? absl::StatusOr<mil::VarId>((*sliced)[0]) : sliced.status();
  }
  if (!out.ok()) return out.status();
  Bind(n.outputs[0], *out);
  out_.source_map.push_back({*out, graph_.value(n.outputs[0]).name, n.QualifiedKind(), n.source});
  out_.op_origin.resize(first_op, -1);
  for (size_t k = first_op; k < out_.main.ops().size(); ++k) out_.op_origin.push_back(index);
  return absl::OkStatus();
}

absl::Status ProgramEmitter::EmitControlFlow(int index) {
  const Node& n = graph_.nodes().at(static_cast<size_t>(index));
  const NodePlan& np = plan_.nodes.at(static_cast<size_t>(index));
  const size_t first_op = out_.main.ops().size();
  Flow flow = std::move(flows_[index]);
  flows_.erase(index);
  std::vector<mil::TensorType> types;
  absl::StatusOr<std::vector<mil::VarId>> outs;
  if (n.kind == "prim::If") {
    for (size_t k = 0; k < n.outputs.size(); ++k) {
      types.push_back({np.outputs[k], graph_.value(n.outputs[k]).shape});
    }
    absl::StatusOr<mil::VarId> pred = VarFor(n.inputs[0], mil::DType::kBool, index);
    if (!pred.ok()) return pred.status();
    outs = AddCoreOp("cond", HintFor(index), {{"pred", {*pred}}}, types, flow.blocks);
  } else {
    for (mil::VarId v : flow.init) types.push_back(out_.main.var(v).type);
    outs = AddCoreOp("while_loop", HintFor(index), {{"loop_vars", flow.init}}, types, flow.blocks);
  }
  if (!outs.ok()) {
    return Error(ClassOf(outs.status()), absl::StrCat(Where(n), ": ", outs.status().message()));
  }
  const size_t skip = outs->size() - n.outputs.size();
  for (size_t k = 0; k < n.outputs.size(); ++k) {
    const mil::VarId var = (*outs)[skip + k];
    vars_[n.outputs[k]][out_.main.var(var).type.dtype] = var;
    out_.source_map.push_back({var, graph_.value(n.outputs[k]).name, n.kind, n.source});
  }
  out_.op_origin.resize(first_op, -1);
  for (size_t k = first_op; k < out_.main.ops().size(); ++k) out_.op_origin.push_back(index);
  return absl::OkStatus();
}

absl::Status ProgramEmitter::EmitOutputs() {
  std::set<mil::VarId> used;
  for (const GraphOutput& o : graph_.outputs()) {
    const ValueId r = graph_.Resolve(o.value);
    const Value& v = graph_.value(r);
    const mil::DType need = OutputFeatureDtype(v.type_class, plan_.options);
    absl::StatusOr<mil::VarId> var = VarFor(r, need, -1);
    if (!var.ok()) return var.status();
    mil::VarId out = *var;
    const mil::Var& mv = out_.main.var(out);
    const bool is_input = mv.producer < 0;
    const bool is_const =
        !is_input && out_.main.ops()[static_cast<size_t>(mv.producer)].type == "const";
    if (is_input || is_const || used.count(out) != 0) {
      absl::StatusOr<std::vector<mil::VarId>> id =
          AddCoreOp("identity", o.name, {{"x", {out}}}, {mv.type});
      if (!id.ok()) return id.status();
      out = (*id)[0];
    }
    used.insert(out);
    const std::string old_name = out_.main.var(out).name;
    if (absl::Status s = out_.main.RenameVar(out, o.name); !s.ok()) {
      return Error(ErrorClass::kInputSpec,
                   absl::StrCat("output name '", o.name, "': ", s.message()));
    }
    // A cast made for this output is recorded (with its reason) under the output's name.
    for (EmittedCast& c : out_.casts) {
      if (c.var == old_name) c.var = o.name;
    }
    if (absl::Status s = out_.main.AddOutput(out); !s.ok()) return s;
    const mil::Var& final_var = out_.main.var(out);
    out_.outputs.push_back({final_var.name, final_var.type.dtype, final_var.type.shape});
  }
  out_.op_origin.resize(out_.main.ops().size(), -1);
  return absl::OkStatus();
}

namespace {

/// Emits the nodes in order, nested MIL blocks for the blocks of control flow.
class EmitVisitor : public BlockVisitor {
 public:
  EmitVisitor(ProgramEmitter& e, const Analysis& a) : e_(e), a_(a) {}
  absl::Status EnterBlock(int owner, int block) override {
    if (a_.nodes.at(static_cast<size_t>(owner)).decision != NodeDecision::kLowered) {
      return absl::OkStatus();
    }
    return e_.EnterBlock(owner, block);
  }
  absl::Status ExitBlock(int owner, int block) override {
    if (a_.nodes.at(static_cast<size_t>(owner)).decision != NodeDecision::kLowered) {
      return absl::OkStatus();
    }
    return e_.ExitBlock(owner, block);
  }
  absl::Status VisitNode(int index) override {
    return e_.EmitNode(index, a_.nodes.at(static_cast<size_t>(index)));
  }

 private:
  ProgramEmitter& e_;
  const Analysis& a_;
};

}  // namespace

absl::StatusOr<LoweredProgram> LowerGraph(Graph& graph, const Analysis& analysis,
                                          const PrecisionPlan& plan) {
  LoweredProgram out{
      mil::Function(std::string(Opset(plan.options.target))), {}, {}, {}, {}, {}, {}, 0};
  ProgramEmitter emitter(graph, plan, out, &analysis.uses);
  if (absl::Status s = emitter.EmitInputs(); !s.ok()) return s;
  EmitVisitor visitor(emitter, analysis);
  if (absl::Status s = WalkGraph(graph, visitor); !s.ok()) return s;
  if (absl::Status s = emitter.EmitOutputs(); !s.ok()) return s;
  return out;
}

}  // namespace ts2coreml::core
