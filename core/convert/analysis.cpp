#include "core/convert/analysis.h"

#include <algorithm>
#include <iterator>
#include <limits>
#include <map>
#include <optional>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "core/base/errors.h"
#include "core/convert/analysis_steps.h"
#include "core/convert/constant_evaluator.h"
#include "core/convert/control_flow_ops.h"
#include "core/convert/dtype_ops.h"
#include "core/convert/lowering_context.h"
#include "ts2coreml/broadcast.h"

namespace ts2coreml::core {

absl::string_view NodeDecisionName(NodeDecision d) {
  switch (d) {
    case NodeDecision::kLowered:
      return "lowered";
    case NodeDecision::kFolded:
      return "folded";
    case NodeDecision::kUnsupported:
      return "unsupported";
    case NodeDecision::kError:
      return "error";
    case NodeDecision::kSkipped:
      return "skipped";
  }
  return "unknown";
}

namespace {

std::string PluginName(const registry::Lowering& l) {
  return l.plugin ? absl::StrCat(l.plugin->name, "/", l.name) : l.name;
}

/// Applies a declared infer rule. Numbers count as rank-0 tensors of their class.
absl::Status ApplyInferRule(const Graph& g, const Node& n, const registry::Lowering& l,
                            std::vector<std::optional<mil::TensorType>>& out) {
  if (out.size() != 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("infer rule ", std::string(registry::InferRuleName(l.infer_rule)),
                     " needs one output, ", "the node has ", out.size()));
  }
  auto type_of = [&](size_t i) -> std::optional<mil::TensorType> {
    const Value& v = g.value(g.Resolve(n.inputs[i]));
    if (v.kind == ValueKind::kTensor && v.typed)
      return mil::TensorType{NominalDType(v.type_class), v.shape};
    if (v.kind == ValueKind::kFloat) return mil::TensorType{mil::DType::kFloat32, {}};
    if (v.kind == ValueKind::kInt) return mil::TensorType{mil::DType::kInt32, {}};
    if (v.kind == ValueKind::kBool) return mil::TensorType{mil::DType::kBool, {}};
    return std::nullopt;
  };
  if (l.infer_rule == T2C_INFER_SAME_AS_INPUT0) {
    auto t = n.inputs.empty() ? std::nullopt : type_of(0);
    if (!t) return absl::InvalidArgumentError("input 0 is not a typed tensor");
    out[0] = *t;
    return absl::OkStatus();
  }
  // Broadcast over tensor-role inputs (sdk::BroadcastRule says how).
  sdk::BroadcastRule rule;
  for (size_t i = 0; i < n.inputs.size() && i < l.inputs.size(); ++i) {
    if (l.inputs[i].role != T2C_ROLE_TENSOR) continue;
    const Value& v = g.value(g.Resolve(n.inputs[i]));
    if (v.kind == ValueKind::kNone) continue;
    auto t = type_of(i);
    if (!t) return absl::InvalidArgumentError(absl::StrCat("input ", i, " is not a tensor"));
    if (!rule.Add(t->shape, static_cast<t2c_dtype>(t->dtype))) {
      // OutOfRange marks inputs that do not fit the op (the caller blames the input shapes).
      return absl::OutOfRangeError(absl::StrCat("shapes [", absl::StrJoin(rule.shape(), ","),
                                                "] and [", absl::StrJoin(t->shape, ","),
                                                "] do not broadcast"));
    }
  }
  if (rule.empty()) return absl::InvalidArgumentError("no tensor inputs to broadcast");
  out[0] = mil::TensorType{static_cast<mil::DType>(rule.dtype()), rule.shape()};
  return absl::OkStatus();
}

/// The graph's input shapes as --input specs ("x:1x3x224x224, y:1x8").
std::string InputShapesText(const Graph& g) {
  std::vector<std::string> specs;
  for (ValueId in : g.inputs()) {
    const Value& v = g.value(in);
    specs.push_back(v.typed ? absl::StrCat("--input ", v.name, ":", absl::StrJoin(v.shape, "x"))
                            : absl::StrCat("--input ", v.name));
  }
  return absl::StrJoin(specs, " ");
}

/// Why a run-time value cannot stand for a number: "" unless aten::item produced it.
std::string RunTimeOrigin(const Graph& g, const Value& v) {
  if (v.producer < 0) return "";
  const Node& p = g.nodes().at(static_cast<size_t>(v.producer));
  if (p.kind != "aten::item" && p.kind != "aten::_local_scalar_dense") return "";
  return absl::StrCat(" (", p.kind,
                      " of a run-time tensor is a rank-0 tensor, which only tensor operands take)");
}

}  // namespace

std::string CheckInputs(const Graph& g, const Node& n, const registry::Lowering& l) {
  if (n.inputs.size() > l.inputs.size()) {
    return absl::StrCat("the node has ", n.inputs.size(), " inputs but lowering ", PluginName(l),
                        " declares ", l.inputs.size(), " (a schema it does not know?)");
  }
  if (n.inputs.size() < l.inputs.size()) {
    for (size_t i = n.inputs.size(); i < l.inputs.size(); ++i) {
      if (!l.inputs[i].optional()) {
        return absl::StrCat("the node has ", n.inputs.size(), " inputs but lowering ",
                            PluginName(l), " requires input '", l.inputs[i].name, "'");
      }
    }
  }
  for (size_t i = 0; i < n.inputs.size(); ++i) {
    const registry::InputDecl& d = l.inputs[i];
    const Value& v = g.value(g.Resolve(n.inputs[i]));
    const std::string what = absl::StrCat("input ", i, d.name.empty() ? "" : " '" + d.name + "'");
    if (v.kind == ValueKind::kNone) {
      if (d.role != T2C_ROLE_IGNORED && !d.optional()) {
        return absl::StrCat(what, " is None, which ", PluginName(l), " does not accept");
      }
      continue;
    }
    switch (d.role) {
      case T2C_ROLE_HOST:
        if (!v.is_const) {
          return absl::StrCat(what, " must be known at conversion time, but '", v.name,
                              "' is computed at run time", RunTimeOrigin(g, v));
        }
        break;
      case T2C_ROLE_TENSOR:
      case T2C_ROLE_PARAM:
        if (v.kind == ValueKind::kTensor) {
          if (!v.typed) return absl::StrCat(what, " has no known type");
        } else if (!(v.is_const && (v.kind == ValueKind::kInt || v.kind == ValueKind::kFloat ||
                                    v.kind == ValueKind::kBool))) {
          return absl::StrCat(what, " is ", ValueKindName(v.kind), ", not a tensor");
        }
        break;
      case T2C_ROLE_TENSOR_LIST:
        if (v.kind != ValueKind::kTensorList) {
          return absl::StrCat(what, " is ", ValueKindName(v.kind), ", not a tensor list");
        }
        for (ValueId e : v.elements) {
          const Value& ev = g.value(g.Resolve(e));
          // A Tensor?[] input (declared optional) takes None elements.
          if (ev.kind == ValueKind::kNone && d.optional()) continue;
          if (ev.kind == ValueKind::kNone) {
            return absl::StrCat(what, " has a None element, which ", PluginName(l),
                                " does not accept");
          }
          if (!ev.typed) return absl::StrCat(what, " has an untyped element");
        }
        break;
      default:
        break;
    }
  }
  return "";
}

namespace {

/// True when some input comes from a node that could not be analyzed.
bool HasPoisonedInput(const Graph& g, const Node& n, const std::set<ValueId>& poisoned) {
  for (ValueId id : n.inputs) {
    const ValueId r = g.Resolve(id);
    if (poisoned.count(r)) return true;
    for (ValueId e : g.value(r).elements) {
      if (poisoned.count(g.Resolve(e))) return true;
    }
  }
  return false;
}

/// Why a node downstream of a problem was not analyzed.
std::string SkipReason(const Graph& g) {
  for (ValueId in : g.inputs()) {
    if (!g.value(in).typed) return "shapes unknown: give --input for every forward() argument";
  }
  return "an input comes from a node that could not be converted";
}

/// Whether what block output k of `owner`'s blocks yields counts as read, given the counts so
/// far: a branch's result k only when the prim::If's result k is read (an early
/// `return out, weights` of which the caller keeps `out`); a loop body's yields always.
bool YieldIsRead(const Node& owner, size_t k, const std::vector<int>& uses) {
  return owner.kind != "prim::If" || k >= owner.outputs.size() ||
         uses[static_cast<size_t>(owner.outputs[k])] > 0;
}

/// How many readers each value has: node inputs, model outputs and block outputs (YieldIsRead).
std::vector<int> CountUses(const Graph& g) {
  std::vector<int> uses(g.values().size(), 0);
  for (const Node& n : g.nodes()) {
    for (ValueId in : n.inputs) ++uses[static_cast<size_t>(in)];
  }
  for (const GraphOutput& o : g.outputs()) ++uses[static_cast<size_t>(o.value)];
  // Post-order storage puts an owner after its blocks' nodes: backwards, an outer prim::If's
  // results are counted before the nested ones that yield them.
  for (auto n = g.nodes().rbegin(); n != g.nodes().rend(); ++n) {
    for (const Block& b : n->blocks) {
      for (size_t k = 0; k < b.outputs.size(); ++k) {
        if (YieldIsRead(*n, k, uses)) ++uses[static_cast<size_t>(b.outputs[k])];
      }
    }
  }
  return uses;
}

/// The first input of `n` that is computed at run time (shape-only inputs aside), described for
/// a message; empty when there is none.
std::string FirstRunTimeInput(const Graph& g, const Node& n) {
  const std::vector<int> shape_only = ShapeOnlyInputs(n);
  for (size_t i = 0; i < n.inputs.size(); ++i) {
    if (std::find(shape_only.begin(), shape_only.end(), static_cast<int>(i)) != shape_only.end()) {
      continue;
    }
    const Value& v = g.value(g.Resolve(n.inputs[i]));
    bool run_time = v.kind != ValueKind::kNone && !v.is_const;
    if (v.kind == ValueKind::kTensorList) {
      run_time = false;
      for (ValueId e : v.elements) {
        const Value& ev = g.value(g.Resolve(e));
        run_time |= ev.kind != ValueKind::kNone && !ev.is_const;
      }
    }
    if (run_time) return absl::StrCat("input ", i, " ('", v.name, "') is computed at run time");
  }
  return "";
}

/// Whether `n` provably ignores its input `i`: addmm, baddbmm, addbmm, addmv and addr (self,
/// a, b, beta, alpha) never read self when beta is a constant 0 (diffusers' attention passes
/// torch.empty there).
bool IgnoresInput(const Graph& g, const Node& n, size_t i) {
  static constexpr absl::string_view kAddProducts[] = {"aten::addmm", "aten::baddbmm",
                                                       "aten::addbmm", "aten::addmv", "aten::addr"};
  if (i != 0 || n.inputs.size() < 4 ||
      std::find(std::begin(kAddProducts), std::end(kAddProducts), n.kind) ==
          std::end(kAddProducts)) {
    return false;
  }
  const Value& beta = g.value(g.Resolve(n.inputs[3]));
  if (!beta.is_const) return false;
  if (beta.kind == ValueKind::kInt) return beta.i == 0;
  if (beta.kind == ValueKind::kFloat) return beta.f == 0.0;
  return false;
}

/// The first input of `n` (list elements included) that is a host tensor whose memory was never
/// fully written (aten::new_empty, aten::empty_like) and that `n` may read, or kNoValue.
ValueId UninitializedInput(const Graph& g, const Node& n) {
  auto uninitialized = [&](ValueId id) {
    const Value& v = g.value(g.Resolve(id));
    return v.is_const && v.kind == ValueKind::kTensor && !v.tensor;
  };
  for (size_t i = 0; i < n.inputs.size(); ++i) {
    const ValueId in = n.inputs[i];
    if (IgnoresInput(g, n, i)) continue;
    if (uninitialized(in)) return g.Resolve(in);
    for (ValueId e : g.value(g.Resolve(in)).elements) {
      if (uninitialized(e)) return g.Resolve(e);
    }
  }
  return kNoValue;
}

/// Copies a host-evaluated result into graph value `id`, keeping its name and producer.
void SetHostValue(Graph& g, ValueId id, const Value& result) {
  Value& out = g.value(id);
  out.kind = result.kind;
  out.is_const = true;
  out.i = result.i;
  out.f = result.f;
  out.b = result.b;
  out.tensor = result.tensor;
  out.typed = result.typed;
  out.type_class = result.type_class;
  out.shape = result.shape;
}

/// The reason a node without a lowering is reported with; when the host could evaluate its op,
/// also what kept it from being folded.
std::string MissingLoweringReason(const AnalysisWalk& w, const Node& n, const NodeStep& s) {
  std::string reason =
      absl::StrCat("no lowering for ", n.QualifiedKind(), " in the loaded plugins");
  if (!s.blocked && w.host != nullptr && w.host->CanEvaluate(n)) {
    const std::string why = s.host_failure.empty() ? FirstRunTimeInput(w.g, n) : s.host_failure;
    if (!why.empty()) {
      absl::StrAppend(
          &reason, "; it is evaluated at conversion time only when it reads no run-time data, but ",
          why);
    }
  }
  return reason;
}

/// Ops whose output shape is the count of some input values: no static-shape lowering exists.
bool HasDataDependentShape(const Node& n) {
  static const std::set<std::string>* const kOps = new std::set<std::string>{
      "aten::nonzero",    "aten::nonzero_numpy",      "aten::masked_select", "aten::_unique2",
      "aten::unique_dim", "aten::unique_consecutive", "aten::argwhere"};
  return kOps->count(n.kind) != 0;
}

/// Decides a node the registry has no lowering for: unsupported (or a registry error), or
/// skipped when it reads no input data and the host folds it once its inputs are known.
/// An unsupported op whose output types its ATen kernel gives from its inputs' types alone
/// (HostEvaluator::InferOutputTypes): its outputs are typed, not blocked, so the nodes after it
/// are analyzed and their own problems (more unsupported ops, shape or dtype errors) reported in
/// the same run.
void TypeBehindUnsupported(AnalysisWalk& w, const NodeStep& s) {
  if (s.blocked || w.host == nullptr) return;
  const Node& n = w.g.nodes()[static_cast<size_t>(s.idx)];
  absl::StatusOr<std::vector<Value>> types = w.host->InferOutputTypes(w.g, s.idx);
  if (!types.ok() || types->size() != n.outputs.size()) return;
  for (ValueId o : n.outputs) {
    const ValueKind kind = w.g.value(o).kind;
    if (kind != ValueKind::kTensor && kind != ValueKind::kOther) return;
  }
  for (size_t k = 0; k < n.outputs.size(); ++k) {
    Value& out = w.g.value(n.outputs[k]);
    out.kind = ValueKind::kTensor;
    out.typed = true;
    out.type_class = (*types)[k].type_class;
    out.shape = (*types)[k].shape;
    w.poisoned.erase(n.outputs[k]);
  }
}

void RefuseWithoutLowering(AnalysisWalk& w, const NodeStep& s, const absl::Status& status) {
  const Node& n = w.g.nodes()[static_cast<size_t>(s.idx)];
  if (!absl::IsNotFound(status)) {
    w.Refuse(s.idx, NodeDecision::kError, std::string(status.message()), ErrorClass::kPlugin);
    return;
  }
  if (s.blocked && !s.reads_input && w.host != nullptr && w.host->CanEvaluate(n)) {
    w.Skip(s.idx);
    return;
  }
  if (HasDataDependentShape(n)) {
    w.Refuse(
        s.idx, NodeDecision::kError,
        absl::StrCat(
            Where(n),
            ": its output shape depends on the input values (a run-time count), and Core ML programs converted by ts2coreml have static shapes"),
        ErrorClass::kConversion);
    return;
  }
  w.Refuse(s.idx, NodeDecision::kUnsupported, MissingLoweringReason(w, n, s),
           ErrorClass::kUnsupportedOps);
  TypeBehindUnsupported(w, s);
}

/// Stores a host evaluation's results: the node's outputs become constants, and every host tensor
/// it wrote gets a new version, under which the evaluator knows it from now on.
void StoreHostResult(AnalysisWalk& w, int idx, const HostEvaluator::Result& r) {
  const Node& n = w.g.nodes()[static_cast<size_t>(idx)];
  for (size_t k = 0; k < n.outputs.size(); ++k) SetHostValue(w.g, n.outputs[k], r.outputs[k]);
  for (const auto& [written, contents] : r.written) {
    const ValueId id = w.versions.Add(w.g, written, contents, idx);
    w.host->Rename(written, id);
  }
}

/// Runs lowering `l`'s infer callback, or applies its declared rule, into `ctx`; then checks
/// that every output got a type. `*invalid_inputs` tells inputs that do not fit the op (shapes
/// that do not broadcast, channels that differ from the weight's): the model's input shapes'
/// fault, not the plugin's.
absl::Status RunInfer(const Graph& g, const Node& n, const registry::Lowering& l, t2c_context* ctx,
                      bool* invalid_inputs) {
  absl::Status st;
  if (l.infer_rule == T2C_INFER_CUSTOM) {
    t2c_status rc = T2C_ERROR;
    try {
      rc = l.infer(HostApi(), ctx, l.user_data);
    } catch (...) {
      ctx->Fail("infer threw an exception across the plugin ABI");
    }
    if (rc != T2C_OK) st = absl::InvalidArgumentError(ctx->ErrorMessage());
    *invalid_inputs = rc == T2C_ERROR_INVALID_INPUTS;
  } else {
    st = ApplyInferRule(g, n, l, ctx->inferred);
    *invalid_inputs = absl::IsOutOfRange(st);
  }
  if (!st.ok()) return st;
  for (size_t k = 0; k < n.outputs.size(); ++k) {
    if (!ctx->inferred[k] && !ctx->inferred_lists[k]) {
      return absl::InvalidArgumentError(absl::StrCat("infer set no type for output ", k));
    }
  }
  return absl::OkStatus();
}

/// The first value read after node `w` that is older than the write, not a constant, and shares
/// `storage` (StorageRoots), by a lowered node or a model output; `*reader` describes who reads
/// it. kNoValue when there is none.
ValueId StaleRead(const Graph& g, const Analysis& a, int w, ValueId storage,
                  const std::vector<ValueId>& root, std::string* reader) {
  auto stale = [&](ValueId id) {
    const ValueId r = g.Resolve(id);
    return root[static_cast<size_t>(r)] == storage && !g.value(r).is_const &&
           g.value(r).producer < w;
  };
  for (size_t m = static_cast<size_t>(w) + 1; m < g.nodes().size(); ++m) {
    if (a.nodes[m].decision != NodeDecision::kLowered) continue;
    for (ValueId in : g.nodes()[m].inputs) {
      std::vector<ValueId> read_values = {in};
      const Value& iv = g.value(g.Resolve(in));
      read_values.insert(read_values.end(), iv.elements.begin(), iv.elements.end());
      for (ValueId r : read_values) {
        if (!stale(r)) continue;
        *reader = Where(g.nodes()[m]);
        return g.Resolve(r);
      }
    }
  }
  for (const GraphOutput& o : g.outputs()) {
    if (!stale(o.value)) continue;
    *reader = absl::StrCat("model output '", o.name, "'");
    return g.Resolve(o.value);
  }
  return kNoValue;
}

/// Refuses writer node `w`: after its write into `target`, `reader` still reads `read`, an older
/// value on the same storage, which a functional lowering leaves with the old contents.
void RefuseStaleRead(const Graph& g, int w, ValueId target, const std::string& reader, ValueId read,
                     Analysis& a) {
  const Node& writer = g.nodes()[static_cast<size_t>(w)];
  NodeAnalysis& na = a.nodes[static_cast<size_t>(w)];
  na.decision = NodeDecision::kError;
  na.reason = absl::StrCat(
      Where(writer), ": writes in place into '", g.value(target).name, "', and ", reader,
      " then reads '", g.value(read).name,
      "' as it was before the write; ts2coreml lowers in-place ops on run-time tensors as functional ones, so that read would see the old values: use the op's result instead (x = x.relu_(), or y = torch.relu(x) and read y), or trace the model");
  a.problems.push_back(
      {w, na.decision, writer.QualifiedKind(), writer.source, na.reason, ErrorClass::kConversion});
}

/// Puts problems back in graph order; problems of no node (model outputs) last.
void SortProblemsByNode(std::vector<Problem>& problems) {
  auto order = [](const Problem& p) {
    return p.node < 0 ? std::numeric_limits<int>::max() : p.node;
  };
  std::stable_sort(problems.begin(), problems.end(),
                   [&](const Problem& x, const Problem& y) { return order(x) < order(y); });
}

}  // namespace

RunTimeValues::RunTimeValues(const Graph& g) : run_time_(g.values().size(), 0) {
  for (ValueId in : g.inputs()) run_time_[static_cast<size_t>(in)] = 1;
  // What a block receives changes from run to run (a loop's carried values).
  for (const Node& n : g.nodes()) {
    for (const Block& b : n.blocks) {
      for (ValueId in : b.inputs) run_time_[static_cast<size_t>(in)] = 1;
    }
  }
}

void RunTimeValues::Mark(ValueId id) {
  if (static_cast<size_t>(id) < run_time_.size()) run_time_[static_cast<size_t>(id)] = 1;
}

bool RunTimeValues::Contains(const Graph& g, ValueId id) const {
  const ValueId r = g.Resolve(id);
  if (g.value(r).is_const) return false;
  // Values made during analysis (elements of inferred tensor lists) are run-time values.
  return static_cast<size_t>(r) >= run_time_.size() || run_time_[static_cast<size_t>(r)] != 0;
}

bool RunTimeValues::MarkNode(const Graph& g, const Node& n) {
  const std::vector<int> shape_only = ShapeOnlyInputs(n);
  bool reads = false;
  for (size_t i = 0; i < n.inputs.size(); ++i) {
    if (std::find(shape_only.begin(), shape_only.end(), static_cast<int>(i)) == shape_only.end()) {
      reads |= Contains(g, n.inputs[i]);
    }
  }
  for (ValueId o : n.outputs) {
    if (static_cast<size_t>(o) < run_time_.size()) run_time_[static_cast<size_t>(o)] = reads;
  }
  return reads;
}

ValueId ValueVersions::Newest(const Graph& g, ValueId id) const {
  const ValueId r = g.Resolve(id);
  auto f = first_version_.find(r);
  auto it = newest_.find(f == first_version_.end() ? r : f->second);
  return it == newest_.end() ? id : it->second;
}

ValueId ValueVersions::Add(Graph& g, ValueId written, const Value& contents, int producer) {
  Value version = g.value(written);
  auto f = first_version_.find(written);
  const ValueId origin = f == first_version_.end() ? written : f->second;
  version.name = absl::StrCat(g.value(origin).name, ".v", first_version_.size() + 1);
  version.producer = producer;
  version.alias = kNoValue;
  const ValueId id = g.AddValue(std::move(version));
  SetHostValue(g, id, contents);
  first_version_[id] = origin;
  newest_[origin] = id;
  return id;
}

AnalysisWalk::AnalysisWalk(Graph& graph, const registry::Registry& reg, HostEvaluator* h)
    : g(graph), registry(reg), host(h), run_time(graph) {
  a.nodes.resize(g.nodes().size());
  a.uses = CountUses(g);
  // Inputs without a shape (coverage without --input): everything they reach is looked up but
  // not typed.
  for (ValueId in : g.inputs()) {
    if (!g.value(in).typed) poisoned.insert(in);
  }
}

void AnalysisWalk::Refuse(int idx, NodeDecision decision, std::string reason,
                          ErrorClass error_class) {
  const Node& n = g.nodes()[static_cast<size_t>(idx)];
  NodeAnalysis& na = a.nodes[static_cast<size_t>(idx)];
  na.decision = decision;
  na.reason = std::move(reason);
  a.problems.push_back({idx, decision, n.QualifiedKind(), n.source, na.reason, error_class});
  for (ValueId o : n.outputs) poisoned.insert(o);
}

void AnalysisWalk::Skip(int idx) {
  NodeAnalysis& na = a.nodes[static_cast<size_t>(idx)];
  na.decision = NodeDecision::kSkipped;
  na.reason = SkipReason(g);
  for (ValueId o : g.nodes()[static_cast<size_t>(idx)].outputs) poisoned.insert(o);
}

bool AnalysisWalk::Blocked(const Node& n) const { return HasPoisonedInput(g, n, poisoned); }

bool FoldWithCore(AnalysisWalk& w, const NodeStep& s) {
  if (s.blocked) {
    if (!IsCoreOp(w.g.nodes()[static_cast<size_t>(s.idx)])) return false;
    w.Skip(s.idx);
    return true;
  }
  absl::StatusOr<EvalResult> r = EvaluateNode(w.g, s.idx);
  if (!r.ok()) {
    w.Refuse(s.idx, NodeDecision::kError, std::string(r.status().message()),
             ErrorClass::kConversion);
    return true;
  }
  if (*r != EvalResult::kFolded) return false;
  w.a.nodes[static_cast<size_t>(s.idx)].decision = NodeDecision::kFolded;
  return true;
}

bool FoldOnHost(AnalysisWalk& w, NodeStep* s) {
  const Node& n = w.g.nodes()[static_cast<size_t>(s->idx)];
  if (s->blocked || w.host == nullptr || !ReadsOnlyConstants(w.g, n) || !w.host->CanEvaluate(n)) {
    return false;
  }
  absl::StatusOr<HostEvaluator::Result> r = w.host->Evaluate(w.g, s->idx);
  if (r.ok() && r->outputs.size() != n.outputs.size()) {
    r = Error(ErrorClass::kInternal, absl::StrCat("the host evaluator gave ", r->outputs.size(),
                                                  " values for ", n.outputs.size(), " outputs"));
  }
  if (r.ok()) {
    StoreHostResult(w, s->idx, *r);
    w.a.nodes[static_cast<size_t>(s->idx)].decision = NodeDecision::kFolded;
    return true;
  }
  if (!absl::IsUnimplemented(r.status())) {
    w.Refuse(s->idx, NodeDecision::kError, absl::StrCat(Where(n), ": ", r.status().message()),
             ClassOf(r.status()));
    return true;
  }
  s->host_failure = std::string(r.status().message());
  return false;
}

std::string HostTensorMisuse(const Graph& g, const Node& n, const std::string& host_failure) {
  for (int i : n.mutated_inputs) {
    const Value& target = g.value(g.Resolve(n.inputs.at(static_cast<size_t>(i))));
    if (!target.is_const || target.kind != ValueKind::kTensor) continue;
    std::string why = host_failure.empty() ? FirstRunTimeInput(g, n) : host_failure;
    if (why.empty()) why = "no host evaluator";
    return absl::StrCat(
        "writes in place into '", target.name,
        "', a tensor known at conversion time, but could not be evaluated at conversion time (",
        why,
        "); ts2coreml converts in-place writes into such tensors only when what they write is known at conversion time too");
  }
  if (const ValueId u = UninitializedInput(g, n); u != kNoValue) {
    return absl::StrCat(
        "reads '", g.value(u).name,
        "', uninitialized memory (aten::empty, new_empty, empty_like) not fully written before; write all of it first (fill_, zero_, copy_)");
  }
  return "";
}

bool RefuseHostTensorMisuse(AnalysisWalk& w, const NodeStep& s) {
  if (s.blocked) return false;
  const Node& n = w.g.nodes()[static_cast<size_t>(s.idx)];
  const std::string refusal = HostTensorMisuse(w.g, n, s.host_failure);
  if (refusal.empty()) return false;
  w.Refuse(s.idx, NodeDecision::kError, absl::StrCat(Where(n), ": ", refusal),
           ErrorClass::kConversion);
  return true;
}

bool AnalyzeDtypeOp(AnalysisWalk& w, const NodeStep& s) {
  Node& n = w.g.nodes()[static_cast<size_t>(s.idx)];
  if (!IsDtypeOp(n) || n.inputs.empty() || n.outputs.size() != 1) return false;
  if (s.blocked) {
    // Covered whatever the types turn out to be (coverage without shapes).
    w.a.nodes[static_cast<size_t>(s.idx)].lowering = &DtypeConversionLowering();
    w.Skip(s.idx);
    return true;
  }
  const ValueId in = w.g.Resolve(n.inputs[0]);
  const Value& self = w.g.value(in);
  if (self.kind != ValueKind::kTensor || !self.typed || self.is_const) return false;
  absl::StatusOr<std::optional<TypeClass>> target = DtypeOpTarget(w.g, n);
  NodeAnalysis& na = w.a.nodes[static_cast<size_t>(s.idx)];
  if (!target.ok()) {
    w.Refuse(s.idx, NodeDecision::kError, absl::StrCat(Where(n), ": ", target.status().message()),
             ClassOf(target.status()));
    return true;
  }
  if (!target->has_value() || **target == self.type_class) {
    // Same class: the precision plan alone picks the dtype (.float() under fp16 stays fp16).
    w.g.value(n.outputs[0]).alias = in;
    na.decision = NodeDecision::kFolded;
    return true;
  }
  Value& out = w.g.value(n.outputs[0]);
  out.kind = ValueKind::kTensor;
  out.typed = true;
  out.type_class = **target;
  out.shape = self.shape;
  na.lowering = &DtypeConversionLowering();
  na.decision = NodeDecision::kLowered;
  na.matched = n.QualifiedKind();
  return true;
}

const registry::Lowering* FindLowering(AnalysisWalk& w, const NodeStep& s) {
  const Node& n = w.g.nodes()[static_cast<size_t>(s.idx)];
  // Looked up even when blocked: every unsupported op is reported at once.
  absl::StatusOr<const registry::Lowering*> found = w.registry.Find(n.kind, n.overload);
  if (!found.ok()) {
    RefuseWithoutLowering(w, s, found.status());
    return nullptr;
  }
  w.a.nodes[static_cast<size_t>(s.idx)].lowering = *found;
  if (s.blocked) {
    w.Skip(s.idx);
    return nullptr;
  }
  return *found;
}

bool FoldPassthrough(AnalysisWalk& w, const NodeStep& s, const registry::Lowering& l) {
  const Node& n = w.g.nodes()[static_cast<size_t>(s.idx)];
  if (!l.passthrough() || n.inputs.empty() || n.outputs.size() != 1) return false;
  w.g.value(n.outputs[0]).alias = w.g.Resolve(n.inputs[0]);
  w.a.nodes[static_cast<size_t>(s.idx)].decision = NodeDecision::kFolded;
  return true;
}

bool RefuseBadInputs(AnalysisWalk& w, const NodeStep& s, const registry::Lowering& l) {
  const Node& n = w.g.nodes()[static_cast<size_t>(s.idx)];
  const std::string bad = CheckInputs(w.g, n, l);
  if (bad.empty()) return false;
  w.Refuse(s.idx, NodeDecision::kError, absl::StrCat(Where(n), ": ", bad), ErrorClass::kConversion);
  return true;
}

void InferOutputTypes(AnalysisWalk& w, const NodeStep& s, const registry::Lowering& l) {
  Graph& g = w.g;
  const Node& n = g.nodes()[static_cast<size_t>(s.idx)];
  t2c_context ctx;
  ctx.phase = t2c_context::Phase::kInfer;
  ctx.graph = &g;
  ctx.node_index = s.idx;
  ctx.lowering = &l;
  ctx.kind = n.QualifiedKind();
  ctx.inferred.resize(n.outputs.size());
  ctx.inferred_lists.resize(n.outputs.size());
  ctx.uses = &w.a.uses;
  bool invalid_inputs = false;
  const absl::Status st = RunInfer(g, n, l, &ctx, &invalid_inputs);
  NodeAnalysis& na = w.a.nodes[static_cast<size_t>(s.idx)];
  na.warnings = ctx.warnings;
  if (!st.ok()) {
    std::string reason = absl::StrCat(Where(n), ": lowering ", PluginName(l), ": ", st.message());
    if (invalid_inputs) {
      absl::StrAppend(&reason, "; the model does not accept the input shapes given (",
                      InputShapesText(g), ")");
    }
    w.Refuse(s.idx, NodeDecision::kError, std::move(reason),
             invalid_inputs ? ErrorClass::kInputSpec : ErrorClass::kPlugin);
    return;
  }
  StoreInferredTypes(g, s.idx, ctx.inferred, ctx.inferred_lists);
  na.decision = NodeDecision::kLowered;
  na.matched = n.QualifiedKind();
}

void StoreInferredTypes(Graph& g, int idx,
                        const std::vector<std::optional<mil::TensorType>>& inferred,
                        const std::vector<std::optional<std::vector<mil::TensorType>>>& lists) {
  const std::vector<ValueId> outputs = g.nodes()[static_cast<size_t>(idx)].outputs;
  for (size_t k = 0; k < outputs.size(); ++k) {
    if (k < lists.size() && lists[k]) {
      // A Tensor[] output: one fresh value per element, read through ListUnpack aliases.
      std::vector<ValueId> elements;
      for (size_t e = 0; e < lists[k]->size(); ++e) {
        Value ev;
        ev.name = absl::StrCat(g.value(outputs[k]).name, "_", e);
        ev.kind = ValueKind::kTensor;
        ev.producer = idx;
        ev.typed = true;
        ev.type_class = ClassOf((*lists[k])[e].dtype);
        ev.shape = (*lists[k])[e].shape;
        elements.push_back(g.AddValue(std::move(ev)));
      }
      Value& out = g.value(outputs[k]);
      out.kind = ValueKind::kTensorList;
      out.elements = std::move(elements);
      continue;
    }
    Value& out = g.value(outputs[k]);
    out.kind = ValueKind::kTensor;
    out.typed = true;
    out.type_class = ClassOf(inferred[k]->dtype);
    out.shape = inferred[k]->shape;
  }
}

bool AnalyzeControlFlow(AnalysisWalk& w, const NodeStep& s) {
  const Node& n = w.g.nodes()[static_cast<size_t>(s.idx)];
  if (!IsControlFlow(n)) return false;
  w.a.nodes[static_cast<size_t>(s.idx)].lowering = &ControlFlowLowering();
  bool blocked = s.blocked;
  for (const Block& b : n.blocks) {
    for (ValueId out : b.outputs) blocked |= w.poisoned.count(w.g.Resolve(out)) != 0;
  }
  if (blocked) {
    w.Skip(s.idx);
    return true;
  }
  std::string why = TypeControlFlowOutputs(w.g, s.idx);
  if (!why.empty()) {
    w.Refuse(s.idx, NodeDecision::kError, std::move(why), ErrorClass::kModel);
    return true;
  }
  for (ValueId o : n.outputs) w.run_time.Mark(o);
  NodeAnalysis& na = w.a.nodes[static_cast<size_t>(s.idx)];
  na.decision = NodeDecision::kLowered;
  na.matched = n.kind;
  return true;
}

bool AnalyzeScalarOp(AnalysisWalk& w, const NodeStep& s) {
  const Node& n = w.g.nodes()[static_cast<size_t>(s.idx)];
  TypeClass result = TypeClass::kUnknown;
  if (s.blocked || ScalarOpMil(w.g, n, &result).empty()) return false;
  Value& out = w.g.value(n.outputs[0]);
  out.kind = ValueKind::kTensor;
  out.typed = true;
  out.type_class = result;
  out.shape.clear();
  w.run_time.Mark(n.outputs[0]);
  NodeAnalysis& na = w.a.nodes[static_cast<size_t>(s.idx)];
  na.lowering = &ScalarOpLowering();
  na.decision = NodeDecision::kLowered;
  na.matched = n.QualifiedKind();
  return true;
}

bool AnalyzeDynamicIndex(AnalysisWalk& w, const NodeStep& s) {
  const Node& n = w.g.nodes()[static_cast<size_t>(s.idx)];
  if (s.blocked) return false;
  std::string why;
  std::optional<DynamicIndex> d = AsDynamicIndex(w.g, n, &why);
  if (!why.empty()) {
    w.Refuse(s.idx, NodeDecision::kError, std::move(why), ErrorClass::kConversion);
    return true;
  }
  if (!d) return false;
  Value& out = w.g.value(n.outputs[0]);
  out.kind = ValueKind::kTensor;
  out.typed = true;
  out.type_class = w.g.value(w.g.Resolve(d->self)).type_class;
  out.shape = DynamicIndexShape(w.g, *d);
  w.run_time.Mark(n.outputs[0]);
  NodeAnalysis& na = w.a.nodes[static_cast<size_t>(s.idx)];
  na.lowering = &DynamicIndexLowering();
  na.decision = NodeDecision::kLowered;
  na.matched = n.QualifiedKind();
  return true;
}

bool AnalyzeTensorToBool(AnalysisWalk& w, const NodeStep& s) {
  const Node& n = w.g.nodes()[static_cast<size_t>(s.idx)];
  if (s.blocked || n.kind != "aten::Bool" || n.inputs.size() != 1 || n.outputs.size() != 1) {
    return false;
  }
  const Value& in = w.g.value(w.g.Resolve(n.inputs[0]));
  if (in.kind != ValueKind::kTensor || in.is_const || !in.typed) return false;
  std::string why = AliasTensorToBool(w.g, n);
  if (!why.empty()) {
    w.Refuse(s.idx, NodeDecision::kError, std::move(why), ErrorClass::kConversion);
    return true;
  }
  w.a.nodes[static_cast<size_t>(s.idx)].decision = NodeDecision::kFolded;
  return true;
}

void AnalyzeNode(AnalysisWalk& w, int idx) {
  Node& n = w.g.nodes()[static_cast<size_t>(idx)];
  for (ValueId& in : n.inputs) in = w.versions.Newest(w.g, in);
  NodeStep s;
  s.idx = idx;
  s.blocked = w.Blocked(n);
  s.reads_input = w.run_time.MarkNode(w.g, n);
  if (AnalyzeControlFlow(w, s) || AnalyzeScalarOp(w, s) || AnalyzeDynamicIndex(w, s) ||
      FoldWithCore(w, s) || FoldOnHost(w, &s) || RefuseHostTensorMisuse(w, s) ||
      AnalyzeTensorToBool(w, s) || AnalyzeDtypeOp(w, s)) {
    return;
  }
  const registry::Lowering* l = FindLowering(w, s);
  if (l == nullptr || FoldPassthrough(w, s, *l) || RefuseBadInputs(w, s, *l)) return;
  InferOutputTypes(w, s, *l);
}

void CheckUninitializedOutputs(AnalysisWalk& w) {
  for (GraphOutput& o : w.g.outputs()) {
    o.value = w.versions.Newest(w.g, o.value);
    const Value& v = w.g.value(w.g.Resolve(o.value));
    if (!v.is_const || v.kind != ValueKind::kTensor || v.tensor) continue;
    std::string message = absl::StrCat("model output '", o.name, "' is '", v.name);
    absl::StrAppend(
        &message, "', uninitialized memory (aten::empty, new_empty, empty_like) not fully written");
    w.a.problems.push_back(
        {-1, NodeDecision::kError, "output", "", std::move(message), ErrorClass::kConversion});
  }
}

std::vector<ValueId> StorageRoots(const Graph& g) {
  std::vector<ValueId> root(g.values().size());
  for (size_t v = 0; v < root.size(); ++v) root[v] = static_cast<ValueId>(v);
  auto root_of = [&](ValueId id) { return root[static_cast<size_t>(g.Resolve(id))]; };
  for (const Node& n : g.nodes()) {
    for (size_t k = 0; k < n.output_aliases.size() && k < n.outputs.size(); ++k) {
      const int i = n.output_aliases[k];
      if (i < 0 || static_cast<size_t>(i) >= n.inputs.size()) continue;
      const ValueId shared = root_of(n.inputs[static_cast<size_t>(i)]);
      const ValueId out = g.Resolve(n.outputs[k]);
      root[static_cast<size_t>(out)] = shared;
      for (ValueId e : g.value(out).elements) root[static_cast<size_t>(g.Resolve(e))] = shared;
    }
  }
  return root;
}

/// Lowerings are functional: an in-place op's result is a new tensor, so a reader of the written
/// tensor (or of a view of it taken before the write) would see the old contents. Reading the
/// op's result (what tracing records: `x = x.relu_()`) is fine.
void CheckRunTimeWrites(const Graph& g, Analysis& a) {
  const std::vector<ValueId> root = StorageRoots(g);
  for (int w = 0; w < static_cast<int>(g.nodes().size()); ++w) {
    const Node& writer = g.nodes()[static_cast<size_t>(w)];
    if (a.nodes[static_cast<size_t>(w)].decision != NodeDecision::kLowered) continue;
    for (int i : writer.mutated_inputs) {
      const ValueId target = g.Resolve(writer.inputs.at(static_cast<size_t>(i)));
      if (g.value(target).is_const) continue;
      std::string reader;
      const ValueId read = StaleRead(g, a, w, root[static_cast<size_t>(target)], root, &reader);
      if (read == kNoValue) continue;
      RefuseStaleRead(g, w, target, reader, read, a);
      break;
    }
  }
  SortProblemsByNode(a.problems);
}

void CheckOutputsTyped(AnalysisWalk& w) {
  for (const GraphOutput& o : w.g.outputs()) {
    const Value& v = w.g.value(w.g.Resolve(o.value));
    if (v.typed || w.poisoned.count(w.g.Resolve(o.value))) continue;
    w.a.problems.push_back({-1, NodeDecision::kError, "output", "",
                            absl::StrCat("model output '", o.name, "' has no known type"),
                            ErrorClass::kConversion});
  }
}

namespace {

/// Marks node `idx`, in the block a constant condition does not take, as not converted.
void MarkNotTaken(AnalysisWalk& w, int idx) {
  NodeAnalysis& na = w.a.nodes[static_cast<size_t>(idx)];
  na.decision = NodeDecision::kFolded;
  na.reason = "in the branch of an if whose condition is constant and does not take it";
}

/// Folds prim::If `idx` whose condition is constant: its outputs are the taken block's.
void FoldConstantIf(AnalysisWalk& w, int idx, int taken) {
  const Node& n = w.g.nodes()[static_cast<size_t>(idx)];
  const Block& b = n.blocks[static_cast<size_t>(taken)];
  for (size_t k = 0; k < n.outputs.size() && k < b.outputs.size(); ++k) {
    const ValueId from = w.g.Resolve(b.outputs[k]);
    w.g.value(n.outputs[k]).alias = from;
    if (w.poisoned.count(from)) w.poisoned.insert(n.outputs[k]);
  }
  NodeAnalysis& na = w.a.nodes[static_cast<size_t>(idx)];
  na.decision = NodeDecision::kFolded;
  na.reason = absl::StrCat("the condition is constant: the ", taken == 0 ? "then" : "else",
                           " branch is taken");
}

/// Entering block `block` of prim::If `owner` whose condition is constant: when it is the block
/// not taken, what it reads no longer counts as read (a lowering asks whether its outputs are).
/// Undoes CountUses for the block: its yields first, backwards, as CountUses counted them (a
/// count left too high only keeps an output computed), then its nodes' inputs.
void ForgetUnreachedUses(AnalysisWalk& w, int owner, int block, bool taken) {
  if (taken) return;
  std::vector<int>& uses = w.a.uses;
  const Node& n = w.g.nodes()[static_cast<size_t>(owner)];
  const Block& b = n.blocks[static_cast<size_t>(block)];
  for (size_t k = 0; k < b.outputs.size(); ++k) {
    if (YieldIsRead(n, k, uses)) --uses[static_cast<size_t>(b.outputs[k])];
  }
  for (int32_t i = b.end - 1; i >= b.begin; --i) {
    const Node& inner = w.g.nodes()[static_cast<size_t>(i)];
    for (const Block& nested : inner.blocks) {
      for (size_t k = 0; k < nested.outputs.size(); ++k) {
        if (YieldIsRead(inner, k, uses)) --uses[static_cast<size_t>(nested.outputs[k])];
      }
    }
  }
  for (int32_t i = b.begin; i < b.end; ++i) {
    for (ValueId in : w.g.nodes()[static_cast<size_t>(i)].inputs) --uses[static_cast<size_t>(in)];
  }
}

/// Analyzes the nodes in order, typing each block's inputs as it starts. The blocks of an `if`
/// whose condition analysis found constant are the enclosing block's nodes (the taken one) or
/// not converted (the other).
class AnalysisVisitor : public BlockVisitor {
 public:
  explicit AnalysisVisitor(AnalysisWalk& w) : w_(w) {}
  absl::Status EnterBlock(int owner, int block) override {
    const std::optional<int> taken =
        dead_ > 0 ? std::nullopt : TakenBlock(w_.g, w_.g.nodes()[static_cast<size_t>(owner)]);
    const bool dead = dead_ > 0 || (taken && *taken != block);
    if (taken) ForgetUnreachedUses(w_, owner, block, *taken == block);
    entered_dead_.push_back(dead);
    if (dead) ++dead_;
    if (dead || taken) return absl::OkStatus();
    std::string why = TypeBlockInputs(w_.g, owner, block);
    if (why.empty()) return absl::OkStatus();
    // Refused at the block's owner; what reads the block's inputs is skipped.
    const Node& n = w_.g.nodes()[static_cast<size_t>(owner)];
    for (ValueId in : n.blocks[static_cast<size_t>(block)].inputs) w_.poisoned.insert(in);
    w_.a.problems.push_back(
        {owner, NodeDecision::kError, n.kind, n.source, std::move(why), ErrorClass::kModel});
    return absl::OkStatus();
  }
  absl::Status ExitBlock(int owner, int block) override {
    if (entered_dead_.back()) --dead_;
    entered_dead_.pop_back();
    return absl::OkStatus();
  }
  absl::Status VisitNode(int index) override {
    if (dead_ > 0) {
      MarkNotTaken(w_, index);
    } else if (std::optional<int> taken =
                   TakenBlock(w_.g, w_.g.nodes()[static_cast<size_t>(index)]);
               taken) {
      FoldConstantIf(w_, index, *taken);
    } else {
      AnalyzeNode(w_, index);
    }
    return absl::OkStatus();
  }

 private:
  AnalysisWalk& w_;
  int dead_ = 0;                    ///< how many enclosing blocks are not taken
  std::vector<bool> entered_dead_;  ///< per open block: whether entering it made it dead
};

}  // namespace

Analysis Analyze(Graph& g, const registry::Registry& registry, HostEvaluator* host) {
  AnalysisWalk w(g, registry, host);
  AnalysisVisitor visitor(w);
  (void)WalkGraph(g, visitor);  // the visitor records problems; it never fails
  CheckUninitializedOutputs(w);
  CheckRunTimeWrites(g, w.a);
  CheckOutputsTyped(w);
  return std::move(w.a);
}

absl::Status AnalysisStatus(const Analysis& a) {
  if (a.problems.empty()) return absl::OkStatus();
  std::vector<std::string> unsupported;
  std::set<std::string> seen;
  const Problem* first_error = nullptr;
  for (const Problem& p : a.problems) {
    if (p.decision == NodeDecision::kUnsupported) {
      if (seen.insert(p.kind).second) {
        unsupported.push_back(p.source.empty() ? p.kind
                                               : absl::StrCat(p.kind, " (", p.source, ")"));
      }
    } else if (!first_error) {
      first_error = &p;
    }
  }
  // The first problem in graph order decides the class: an error found behind an unsupported op
  // (typed by InferOutputTypes) is reported with it, not instead of it.
  if (first_error && (unsupported.empty() || &a.problems.front() == first_error)) {
    std::string extra = unsupported.empty() ? ""
                                            : absl::StrCat("; also unsupported: ",
                                                           absl::StrJoin(unsupported, ", "));
    return Error(first_error->error_class, absl::StrCat(first_error->message, extra));
  }
  return Error(
      ErrorClass::kUnsupportedOps,
      absl::StrCat(
          unsupported.size(), " unsupported op", unsupported.size() == 1 ? "" : "s", ": ",
          absl::StrJoin(unsupported, ", "),
          "; add a plugin that lowers them (--plugin-dir) or check that the built-in plugins were found",
          first_error ? absl::StrCat("; also, after them: ", first_error->message) : ""));
}

}  // namespace ts2coreml::core
