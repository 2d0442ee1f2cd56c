#include "core/report/coverage_report.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "core/base/json.h"
#include "core/mil/program.h"

namespace ts2coreml::core {
namespace {

int64_t Numel(const std::vector<int64_t>& shape) {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

std::string LoweringName(const registry::Lowering& l) {
  return l.plugin ? absl::StrCat(l.plugin->name, "/", l.name) : l.name;
}

/// The hint for an unsupported op: what the registry can say about it.
std::string UnsupportedHint(const registry::Registry& registry) {
  std::string hint = "no lowering found in the loaded plugins";
  if (!registry.refused().empty()) {
    std::vector<std::string> refused;
    for (const registry::RefusedPlugin& r : registry.refused()) refused.push_back(r.reason);
    absl::StrAppend(&hint, "; refused plugin", refused.size() == 1 ? "" : "s",
                    " (one may lower it): ", absl::StrJoin(refused, " | "));
  } else {
    absl::StrAppend(&hint, "; write a plugin for it (docs/plugin-guide.md) and pass --plugin-dir");
  }
  return hint;
}

}  // namespace

double EstimateFlops(const Graph& g, const Node& n) {
  double out_numel = 0;
  for (ValueId o : n.outputs) {
    const Value& v = g.value(o);
    if (v.typed) out_numel += static_cast<double>(Numel(v.shape));
    for (ValueId e : v.elements) out_numel += static_cast<double>(Numel(g.value(e).shape));
  }
  auto input_shape = [&](size_t i) -> const std::vector<int64_t>* {
    if (i >= n.inputs.size()) return nullptr;
    const Value& v = g.value(g.Resolve(n.inputs[i]));
    return v.typed ? &v.shape : nullptr;
  };
  const std::string& k = n.kind;
  if (k == "aten::_convolution" || k == "aten::convolution" || k == "aten::conv1d" ||
      k == "aten::conv2d" || k == "aten::conv3d") {
    const std::vector<int64_t>* w = input_shape(1);
    if (w && w->size() >= 2) {
      return 2.0 * out_numel * static_cast<double>(Numel(*w) / (*w)[0]);
    }
  } else if (k == "aten::linear") {
    const std::vector<int64_t>* w = input_shape(1);
    if (w && w->size() == 2) return 2.0 * out_numel * static_cast<double>((*w)[1]);
  } else if (k == "aten::matmul" || k == "aten::bmm" || k == "aten::mm" || k == "aten::addmm" ||
             k == "aten::baddbmm") {
    const size_t a = (k == "aten::addmm" || k == "aten::baddbmm") ? 1 : 0;
    const std::vector<int64_t>* x = input_shape(a);
    if (x && !x->empty()) return 2.0 * out_numel * static_cast<double>(x->back());
  }
  return out_numel;
}

namespace {

/// Planned fp16<->fp32 casts of values computed inside the program (CoverageReport::transitions).
int CountTransitions(const Graph& g, const PrecisionPlan& plan) {
  int n = 0;
  for (const PlannedCast& c : plan.casts) {
    const bool f16_f32 = (c.from == mil::DType::kFloat16 && c.to == mil::DType::kFloat32) ||
                         (c.from == mil::DType::kFloat32 && c.to == mil::DType::kFloat16);
    if (f16_f32 && !c.constant && c.consumer >= 0 && g.value(c.value).producer >= 0) ++n;
  }
  return n;
}

/// Node `i`'s row before planning: kind, source, outputs, decision and lowering.
NodeCoverage DescribeNode(const Graph& g, size_t i, const NodeAnalysis& na) {
  const Node& n = g.nodes()[i];
  NodeCoverage nc;
  nc.index = static_cast<int>(i);
  nc.kind = n.QualifiedKind();
  nc.source = n.source;
  nc.scope = n.scope;
  nc.decision = std::string(NodeDecisionName(na.decision));
  nc.reason = na.reason;
  for (ValueId o : n.outputs) nc.outputs.push_back(g.value(o).name);
  if (na.lowering) nc.lowering = LoweringName(*na.lowering);
  return nc;
}

/// Counts node `nc` in its kind's row: one decision per kind (the worst seen), the lowering.
void CountInKind(const NodeCoverage& nc, const NodeAnalysis& na, OpKindCoverage& kc) {
  kc.kind = nc.kind;
  ++kc.count;
  if (kc.decision.empty() || na.decision == NodeDecision::kUnsupported ||
      (na.decision == NodeDecision::kError && kc.decision != "unsupported")) {
    kc.decision = nc.decision;
  }
  if (na.lowering) {
    kc.lowering = nc.lowering;
    kc.plugin_version = na.lowering->plugin ? na.lowering->plugin->version : "";
    kc.fp16_policy = std::string(registry::Fp16PolicyName(na.lowering->fp16_policy));
  }
}

/// A planned node's compute dtype, reason and FLOPs, into its row, its kind's row and the totals.
void AddPlannedDtype(const Graph& g, const Node& n, const NodePlan& np, NodeCoverage& nc,
                     OpKindCoverage& kc, CoverageReport& r) {
  const bool fp16 = r.precision.precision == Precision::kFp16;
  nc.compute_dtype = std::string(mil::DTypeName(np.compute));
  nc.reason = np.ReasonText();
  ++kc.compute_dtypes[nc.compute_dtype];
  if (!mil::IsFloat(np.compute)) return;
  nc.flops = EstimateFlops(g, n);
  r.flops += nc.flops;
  ++r.lowered_nodes;
  if (np.compute == mil::DType::kFloat16) {
    ++r.fp16_nodes;
    r.fp16_flops += nc.flops;
  } else if (fp16) {
    kc.reasons.insert(nc.reason);
  }
}

/// A lowered node skipped for unknown shapes: its dtype follows from the lowering's policy
/// alone ("fp32?", "fp16?").
void AddPolicyDtype(const registry::Lowering& lowering, NodeCoverage& nc, OpKindCoverage& kc,
                    const CoverageReport& r) {
  const bool fp16 = r.precision.precision == Precision::kFp16;
  const bool wants_fp32 =
      !fp16 || (lowering.fp16_policy == T2C_FP16_NEEDS_FP32_COMPUTE && !r.precision.fp16_all);
  nc.compute_dtype = wants_fp32 ? "fp32?" : "fp16?";
  ++kc.compute_dtypes[nc.compute_dtype];
  if (fp16 && wants_fp32) kc.reasons.insert("lowering declares needs_fp32_compute");
}

}  // namespace

CoverageReport BuildCoverageReport(const Graph& g, const Analysis& a, const PrecisionPlan* plan,
                                   const registry::Registry& registry) {
  CoverageReport r;
  if (plan) r.precision = plan->options;
  for (ValueId in : g.inputs()) r.shapes_known &= g.value(in).typed;
  std::map<std::string, OpKindCoverage> kinds;
  for (size_t i = 0; i < g.nodes().size(); ++i) {
    const Node& n = g.nodes()[i];
    const NodeAnalysis& na = a.nodes[i];
    NodeCoverage nc = DescribeNode(g, i, na);
    OpKindCoverage& kc = kinds[nc.kind];
    CountInKind(nc, na, kc);
    if (plan && i < plan->nodes.size() && plan->nodes[i].planned) {
      AddPlannedDtype(g, n, plan->nodes[i], nc, kc, r);
    } else if (na.lowering && na.decision == NodeDecision::kSkipped) {
      AddPolicyDtype(*na.lowering, nc, kc, r);
    }
    if (na.decision == NodeDecision::kUnsupported) {
      r.unsupported.push_back({nc.kind, n.source, n.scope, UnsupportedHint(registry)});
    } else if (na.decision == NodeDecision::kError) {
      r.errors.push_back(na.reason);
    }
    for (const std::string& w : na.warnings) r.warnings.push_back(w);
    r.nodes.push_back(std::move(nc));
  }
  for (const Problem& p : a.problems) {
    if (p.node < 0) r.errors.push_back(p.message);
  }
  if (plan) {
    for (const std::string& w : plan->warnings) r.warnings.push_back(w);
    r.transitions = CountTransitions(g, *plan);
  }
  for (auto& [kind, kc] : kinds) r.ops.push_back(std::move(kc));
  return r;
}

namespace {

/// One row of the text table: op kind, count, lowering, compute dtypes, reasons.
struct TextRow {
  std::string kind, count, lowering, compute, reasons;
};

TextRow RowOf(const OpKindCoverage& k) {
  std::vector<std::string> dtypes;
  for (const auto& [d, c] : k.compute_dtypes) dtypes.push_back(absl::StrCat(d, " x", c));
  std::string lowering = k.lowering;
  if (lowering.empty()) lowering = k.decision == "folded" ? "(folded by the core)" : "-";
  if (!k.plugin_version.empty()) absl::StrAppend(&lowering, " ", k.plugin_version);
  std::string compute = absl::StrJoin(dtypes, ", ");
  if (compute.empty()) compute = k.decision == "folded" ? "host" : k.decision;
  return {k.kind, absl::StrCat(k.count), lowering, compute, absl::StrJoin(k.reasons, "; ")};
}

/// The rows as columns as wide as their widest cell, so long lowering names keep the alignment.
std::string FormatTable(const std::vector<TextRow>& rows) {
  size_t w[4] = {0, 0, 0, 0};
  for (const TextRow& r : rows) {
    w[0] = std::max(w[0], r.kind.size());
    w[1] = std::max(w[1], r.count.size());
    w[2] = std::max(w[2], r.lowering.size());
    w[3] = std::max(w[3], r.compute.size());
  }
  std::string out;
  for (const TextRow& r : rows) {
    absl::StrAppendFormat(&out, "  %-*s %*s  %-*s %-*s %s", w[0], r.kind, w[1], r.count, w[2],
                          r.lowering, w[3], r.compute, r.reasons);
    while (!out.empty() && out.back() == ' ') out.pop_back();
    out += '\n';
  }
  return out;
}

/// "fp16: 12 of 40 float ops (30.0%), ..." or, without shapes, why the share is unknown.
std::string Fp16ShareLine(const CoverageReport& r) {
  const std::string coverage = r.covered() ? "every op is covered"
                                           : absl::StrCat(r.unsupported.size(), " unsupported, ",
                                                          r.errors.size(), " errors");
  if (!r.shapes_known) {
    return absl::StrCat("  fp16: share unknown without --input shapes (no plan); ", coverage, "\n");
  }
  const double op_share = r.lowered_nodes ? 100.0 * r.fp16_nodes / r.lowered_nodes : 0;
  const double flop_share = r.flops > 0 ? 100.0 * r.fp16_flops / r.flops : 0;
  return absl::StrFormat(
      "  fp16: %d of %d float ops (%.1f%%), %.3g of %.3g estimated FLOPs (%.1f%%), %d fp16/fp32 transitions; %s\n",
      r.fp16_nodes, r.lowered_nodes, op_share, r.fp16_flops, r.flops, flop_share, r.transitions,
      coverage);
}

}  // namespace

std::string FormatCoverageText(const CoverageReport& r) {
  std::string out;
  const bool fp16 = r.precision.precision == Precision::kFp16;
  absl::StrAppendFormat(
      &out, "ts2coreml coverage: %s (precision %s, %s)%s\n", r.model.string(),
      fp16 ? "fp16" : "fp32", std::string(TargetName(r.precision.target)),
      r.shapes_known
          ? ""
          : " -- shapes unknown: dtypes marked ? follow the lowerings' policies; give --input for the plan");
  std::vector<TextRow> rows = {{"op", "count", "lowering", "compute", "why not fp16"}};
  for (const OpKindCoverage& k : r.ops) rows.push_back(RowOf(k));
  out += FormatTable(rows);
  if (!r.unsupported.empty()) {
    absl::StrAppendFormat(&out, "  unsupported (%d):\n", r.unsupported.size());
    for (const UnsupportedOp& u : r.unsupported) {
      absl::StrAppendFormat(&out, "    %s at %s%s: %s\n", u.kind,
                            u.source.empty() ? "(unknown location)" : u.source,
                            u.scope.empty() ? "" : absl::StrCat(" in ", u.scope), u.hint);
    }
  }
  for (const std::string& e : r.errors) absl::StrAppendFormat(&out, "  error: %s\n", e);
  for (const std::string& w : r.warnings) absl::StrAppendFormat(&out, "  warning: %s\n", w);
  out += Fp16ShareLine(r);
  return out;
}

namespace {

void WriteOpKindJson(json::Writer& w, const OpKindCoverage& k) {
  w.BeginObject();
  w.Key("kind").String(k.kind);
  w.Key("count").Int(k.count);
  w.Key("decision").String(k.decision);
  w.Key("lowering").String(k.lowering);
  w.Key("plugin_version").String(k.plugin_version);
  w.Key("fp16_policy").String(k.fp16_policy);
  w.Key("compute_dtypes").BeginObject();
  for (const auto& [d, c] : k.compute_dtypes) w.Key(d).Int(c);
  w.EndObject();
  w.Key("reasons").BeginArray();
  for (const std::string& reason : k.reasons) w.String(reason);
  w.EndArray();
  w.EndObject();
}

void WriteNodeJson(json::Writer& w, const NodeCoverage& n) {
  w.BeginObject();
  w.Key("index").Int(n.index);
  w.Key("kind").String(n.kind);
  w.Key("source").String(n.source);
  w.Key("scope").String(n.scope);
  w.Key("decision").String(n.decision);
  w.Key("lowering").String(n.lowering);
  w.Key("compute_dtype").String(n.compute_dtype);
  w.Key("reason").String(n.reason);
  w.Key("flops").Double(n.flops);
  w.Key("outputs").BeginArray();
  for (const std::string& o : n.outputs) w.String(o);
  w.EndArray();
  w.EndObject();
}

void WriteSummaryJson(json::Writer& w, const CoverageReport& r) {
  w.BeginObject();
  w.Key("nodes").Int(static_cast<int64_t>(r.nodes.size()));
  w.Key("float_ops").Int(r.lowered_nodes);
  w.Key("fp16_ops").Int(r.fp16_nodes);
  w.Key("fp16_op_share").Double(r.lowered_nodes ? double(r.fp16_nodes) / r.lowered_nodes : 0);
  w.Key("flops").Double(r.flops);
  w.Key("fp16_flop_share").Double(r.flops > 0 ? r.fp16_flops / r.flops : 0);
  w.Key("transitions").Int(r.transitions);
  w.EndObject();
}

void WriteStringsJson(json::Writer& w, const std::vector<std::string>& strings) {
  w.BeginArray();
  for (const std::string& s : strings) w.String(s);
  w.EndArray();
}

}  // namespace

std::string FormatCoverageJson(const CoverageReport& r) {
  json::Writer w;
  w.BeginObject();
  w.Key("model").String(r.model.string());
  w.Key("precision").String(r.precision.precision == Precision::kFp16 ? "fp16" : "fp32");
  w.Key("target").String(std::string(TargetName(r.precision.target)));
  w.Key("shapes_known").Bool(r.shapes_known);
  w.Key("covered").Bool(r.covered());
  w.Key("summary");
  WriteSummaryJson(w, r);
  w.Key("ops").BeginArray();
  for (const OpKindCoverage& k : r.ops) WriteOpKindJson(w, k);
  w.EndArray();
  w.Key("unsupported").BeginArray();
  for (const UnsupportedOp& u : r.unsupported) {
    w.BeginObject().Key("kind").String(u.kind).Key("source").String(u.source);
    w.Key("scope").String(u.scope).Key("hint").String(u.hint).EndObject();
  }
  w.EndArray();
  w.Key("errors");
  WriteStringsJson(w, r.errors);
  w.Key("warnings");
  WriteStringsJson(w, r.warnings);
  w.Key("nodes").BeginArray();
  for (const NodeCoverage& n : r.nodes) WriteNodeJson(w, n);
  w.EndArray();
  w.EndObject();
  return w.Finish();
}

}  // namespace ts2coreml::core
