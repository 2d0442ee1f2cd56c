#include "core/convert/precision_search.h"

#include <stdlib.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <map>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "core/base/errors.h"
#include "core/base/metadata_keys.h"
#include "core/convert/program_emitter.h"
#include "core/interp/interpreter.h"
#include "core/mil/package_writer.h"
#include "core/report/coverage_report.h"

namespace ts2coreml::core {
namespace {

namespace fs = std::filesystem;

/// A private temporary folder, removed with its contents when the object dies.
class ScratchDir {
 public:
  ScratchDir() {
    std::string tmpl = (fs::temp_directory_path() / "ts2coreml-auto-XXXXXX").string();
    if (mkdtemp(tmpl.data()) != nullptr) path_ = tmpl;
  }
  ~ScratchDir() {
    std::error_code ec;
    if (!path_.empty()) fs::remove_all(path_, ec);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

/// Cosine similarity of two tensors, in double.
double Cosine(const at::Tensor& ref, const at::Tensor& got) {
  const at::Tensor a = ref.detach().to(at::kDouble).flatten();
  const at::Tensor b = got.detach().to(at::kDouble).flatten();
  if (a.numel() != b.numel()) return 0;
  const double na = a.norm().item<double>(), nb = b.norm().item<double>();
  if (na == 0 && nb == 0) return 1;
  if (na == 0 || nb == 0) return 0;
  const double c = (a * b).sum().item<double>() / (na * nb);
  return std::isnan(c) ? 0 : c;
}

/// Measures candidate plans: plans, lowers and writes each, and runs it in the interpreter.
class Evaluator {
 public:
  Evaluator(Graph& graph, const Analysis& analysis, const PrecisionOptions& base)
      : graph_(graph), analysis_(analysis), base_(base) {}

  absl::StatusOr<PrecisionPlan> Plan(const std::set<int>& fp32) const {
    PrecisionOptions o = base_;
    o.search_fp32 = fp32;
    o.search_reason = "--precision auto: the measured error needs an fp32 prefix";
    return PlanPrecision(graph_, analysis_, o);
  }

  /// The worst cosine over every output of `runs` for the plan keeping `fp32` FP32.
  absl::StatusOr<double> Measure(const std::set<int>& fp32, const std::vector<ReferenceRun>& runs,
                                 int* interpreter_runs) {
    if (scratch_.path().empty()) {
      return Error(ErrorClass::kOutput, "--precision auto: cannot make a temporary folder");
    }
    absl::StatusOr<PrecisionPlan> plan = Plan(fp32);
    if (!plan.ok()) return plan.status();
    absl::StatusOr<LoweredProgram> lowered = LowerGraph(graph_, analysis_, *plan);
    if (!lowered.ok()) return lowered.status();
    mil::ModelSpec spec;
    spec.specification_version = SpecificationVersion(base_.target);
    spec.inputs = lowered->inputs;
    spec.outputs = lowered->outputs;
    spec.user_defined[kPrecisionKey] = "fp16";
    const fs::path pkg = scratch_.path() / "candidate.mlpackage";
    absl::StatusOr<mil::WriteStats> written =
        mil::WritePackageAtomically(spec, lowered->main, pkg, /*force=*/true);
    if (!written.ok()) return written.status();
    absl::StatusOr<interp::Interpreter> interp = interp::Interpreter::Load(pkg);
    if (!interp.ok()) return interp.status();
    double worst = 1;
    for (const ReferenceRun& run : runs) {
      std::map<std::string, at::Tensor> inputs;
      for (size_t i = 0; i < interp->inputs().size() && i < run.inputs.size(); ++i) {
        inputs[interp->inputs()[i].name] = run.inputs[i];
      }
      absl::StatusOr<interp::RunResult> r = interp->Run(inputs);
      if (!r.ok()) return r.status();
      ++*interpreter_runs;
      for (size_t j = 0; j < interp->outputs().size() && j < run.outputs.size(); ++j) {
        if (!run.outputs[j].is_floating_point()) continue;
        worst = std::min(worst, Cosine(run.outputs[j], r->outputs.at(interp->outputs()[j].name)));
      }
    }
    return worst;
  }

 private:
  Graph& graph_;
  const Analysis& analysis_;
  const PrecisionOptions& base_;
  ScratchDir scratch_;
};

/// The float nodes the base plan computes in FP16, in graph order: the search's candidates.
std::vector<int> Candidates(const PrecisionPlan& plan) {
  std::vector<int> out;
  for (size_t i = 0; i < plan.nodes.size(); ++i) {
    if (plan.nodes[i].planned && plan.nodes[i].compute == mil::DType::kFloat16) {
      out.push_back(static_cast<int>(i));
    }
  }
  return out;
}

std::set<int> Prefix(const std::vector<int>& candidates, int k) {
  return std::set<int>(candidates.begin(), candidates.begin() + k);
}

/// Module-path rules matching exactly `fp32` among the float nodes of `plan`: for each node, the
/// outermost module enclosing it whose float nodes are all in `fp32`.
void DeriveRules(const Graph& g, const PrecisionPlan& plan, const std::set<int>& fp32,
                 PrecisionSearch* s) {
  std::map<std::string, std::pair<int, int>> per_scope;  // scope -> (in fp32, all float)
  auto ancestors = [](const std::string& scope) {
    std::vector<std::string> out;
    for (size_t dot = scope.find('.'); dot != std::string::npos; dot = scope.find('.', dot + 1)) {
      out.push_back(scope.substr(0, dot));
    }
    out.push_back(scope);
    return out;
  };
  for (size_t i = 0; i < plan.nodes.size(); ++i) {
    if (!plan.nodes[i].planned || !mil::IsFloat(plan.nodes[i].compute)) continue;
    for (const std::string& a : ancestors(g.nodes()[i].scope)) {
      per_scope[a].first += fp32.count(static_cast<int>(i));
      per_scope[a].second += 1;
    }
  }
  std::set<std::string> rules;
  int unscoped = 0;
  for (int i : fp32) {
    const std::string& scope = g.nodes()[static_cast<size_t>(i)].scope;
    if (scope.empty()) {
      ++unscoped;
      continue;
    }
    for (const std::string& a : ancestors(scope)) {
      if (per_scope[a].first == per_scope[a].second) {
        rules.insert(a);
        break;
      }
    }
  }
  // A rule whose module encloses another's makes that one redundant.
  for (const std::string& r : rules) {
    const bool covered = std::any_of(rules.begin(), rules.end(), [&](const std::string& o) {
      return o != r && r.rfind(o + ".", 0) == 0;
    });
    if (!covered) s->rules.push_back(r);
  }
  if (unscoped > 0) {
    s->rules_note = absl::StrCat(unscoped,
                                 " of the fp32 ops have no module path, so no rule "
                                 "reproduces them exactly");
  }
}

/// The shares of ops and FLOPs and the transitions of the plan keeping `fp32` FP32.
void Describe(const Graph& g, const PrecisionPlan& plan, PrecisionSearch* s) {
  for (size_t i = 0; i < plan.nodes.size(); ++i) {
    const NodePlan& np = plan.nodes[i];
    if (!np.planned || !mil::IsFloat(np.compute)) continue;
    const double flops = EstimateFlops(g, g.nodes()[i]);
    ++s->ops;
    s->flops += flops;
    if (np.compute == mil::DType::kFloat16) {
      ++s->fp16_ops;
      s->fp16_flops += flops;
    }
  }
  for (const PlannedCast& c : plan.casts) {
    s->transitions += !c.constant && mil::IsFloat(c.from) && mil::IsFloat(c.to);
  }
}

}  // namespace

std::string PrecisionSearch::Summary() const {
  std::string out = absl::StrFormat(
      "precision auto: target cosine >= %.8g; %s on %d calibration run%s (cosine %.7f) with %d "
      "op%s moved to fp32",
      target, reached ? "reached" : "NOT reached", calibration_runs,
      calibration_runs == 1 ? "" : "s", cosine, fp32_nodes.size(),
      fp32_nodes.size() == 1 ? "" : "s");
  absl::StrAppendFormat(&out, "\n    held-back seeds 0..%d: cosine %.7f, %s", holdout_runs - 1,
                        holdout_cosine,
                        holdout_reached ? "target met" : "BELOW the target (not claimed)");
  absl::StrAppendFormat(
      &out,
      "\n    fp16: %d of %d float ops (%.1f%%), %.1f%% of the estimated FLOPs; %d fp16/fp32 "
      "transitions",
      fp16_ops, ops, ops ? 100.0 * fp16_ops / ops : 0.0,
      flops > 0 ? 100.0 * fp16_flops / flops : 0.0, transitions);
  std::vector<std::string> tried;
  for (const SearchTrial& t : trials)
    tried.push_back(absl::StrFormat("%d:%.7f", t.prefix, t.cosine));
  absl::StrAppendFormat(&out,
                        "\n    search: %d plans (fp32 prefix length:cosine %s), %d interpreter "
                        "runs, %.1f s",
                        trials.size(), absl::StrJoin(tried, " "), interpreter_runs, seconds);
  if (!fp32_nodes.empty()) {
    std::vector<std::string> flags;
    for (const std::string& r : rules) flags.push_back(absl::StrCat("--keep-fp32 ", r));
    absl::StrAppendFormat(&out, "\n    without search: %s%s",
                          flags.empty() ? "(no module rule)" : absl::StrJoin(flags, " "),
                          rules_note.empty() ? "" : absl::StrCat(" (", rules_note, ")"));
  }
  return out;
}

absl::StatusOr<PrecisionSearch> SearchPrecision(Graph& graph, const Analysis& analysis,
                                                const PrecisionOptions& base,
                                                const ReferenceRuns& references,
                                                double min_cosine) {
  const auto start = std::chrono::steady_clock::now();
  PrecisionSearch s;
  s.target = min_cosine;
  s.calibration_runs = static_cast<int>(references.calibration.size());
  s.holdout_runs = static_cast<int>(references.holdout.size());
  Evaluator eval(graph, analysis, base);
  absl::StatusOr<PrecisionPlan> plain = eval.Plan({});
  if (!plain.ok()) return plain.status();
  const std::vector<int> candidates = Candidates(*plain);
  auto measure = [&](int k) -> absl::StatusOr<double> {
    absl::StatusOr<double> c =
        eval.Measure(Prefix(candidates, k), references.calibration, &s.interpreter_runs);
    if (c.ok()) s.trials.push_back({k, *c});
    return c;
  };
  // The shortest prefix reaching the target: 0 if plain fp16 does, else a binary search between
  // a prefix that misses (lo) and one that reaches it (hi; all of them, checked first).
  int lo = 0, hi = 0;
  absl::StatusOr<double> c = measure(0);
  if (!c.ok()) return c.status();
  if (*c < min_cosine) {
    hi = static_cast<int>(candidates.size());
    absl::StatusOr<double> all = measure(hi);
    if (!all.ok()) return all.status();
    if (*all < min_cosine) lo = hi;  // not even all of them: the frontier is all fp32
    while (hi - lo > 1) {
      const int mid = lo + (hi - lo) / 2;
      absl::StatusOr<double> m = measure(mid);
      if (!m.ok()) return m.status();
      (*m >= min_cosine ? hi : lo) = mid;
    }
  }
  for (const SearchTrial& t : s.trials) {
    if (t.prefix == hi) s.cosine = t.cosine;
  }
  s.reached = s.cosine >= min_cosine;
  s.fp32_nodes = Prefix(candidates, hi);
  absl::StatusOr<double> held = eval.Measure(s.fp32_nodes, references.holdout, &s.interpreter_runs);
  if (!held.ok()) return held.status();
  s.holdout_cosine = *held;
  s.holdout_reached = s.holdout_runs > 0 && *held >= min_cosine;
  absl::StatusOr<PrecisionPlan> final_plan = eval.Plan(s.fp32_nodes);
  if (!final_plan.ok()) return final_plan.status();
  Describe(graph, *final_plan, &s);
  DeriveRules(graph, *final_plan, s.fp32_nodes, &s);
  s.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return s;
}

}  // namespace ts2coreml::core
