#include "core/convert/precision_search.h"

#include <algorithm>
#include <chrono>
#include <functional>
#include <map>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "core/base/errors.h"
#include "core/convert/error_growth.h"
#include "core/convert/interpreted_plan.h"
#include "core/convert/program_emitter.h"
#include "core/interp/interpreter.h"
#include "core/report/coverage_report.h"

namespace ts2coreml::core {
namespace {

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

using Runs = std::vector<const ReferenceRun*>;

double Since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

/// A candidate plan's package, loaded in the interpreter, and the var holding each graph value.
struct Candidate {
  interp::Interpreter interp;
  std::map<std::string, std::string> var_of_value;  ///< TorchScript value name -> MIL var name
};

/// Measures candidate plans: plans, lowers and writes each, and runs it in the interpreter.
class Evaluator {
 public:
  Evaluator(Graph& graph, const Analysis& analysis, const PrecisionOptions& base,
            PrecisionSearch* s)
      : graph_(graph), analysis_(analysis), base_(base), s_(s) {}

  absl::StatusOr<PrecisionPlan> Plan(const std::set<int>& fp32) const {
    PrecisionOptions o = base_;
    o.search_fp32 = fp32;
    o.search_reason = "--precision auto: the measured error needs it in fp32";
    return PlanPrecision(graph_, analysis_, o);
  }

  /// The package of the plan keeping `fp32` FP32, loaded (the last one is kept: a plan probed
  /// and then confirmed is lowered once).
  absl::StatusOr<const Candidate*> Load(const std::set<int>& fp32) {
    if (last_ && last_->first == fp32) return &last_->second;
    last_.reset();
    const auto start = std::chrono::steady_clock::now();
    absl::StatusOr<PrecisionPlan> plan = Plan(fp32);
    if (!plan.ok()) return plan.status();
    absl::StatusOr<LoweredProgram> lowered = LowerGraph(graph_, analysis_, *plan);
    if (!lowered.ok()) return lowered.status();
    absl::StatusOr<interp::Interpreter> interp =
        LoadInInterpreter(*lowered, plan->options, scratch_);
    if (!interp.ok()) return interp.status();
    Candidate c{*std::move(interp), {}};
    for (const SourceMapEntry& e : lowered->source_map) {
      c.var_of_value[e.value] = lowered->main.var(e.var).name;
    }
    last_.emplace(fp32, std::move(c));
    s_->lower_seconds += Since(start);
    return &last_->second;
  }

  /// Each of `runs`' cosine (the worst over its outputs); the first run's intermediate values
  /// go to `first` when given.
  absl::StatusOr<RunCosines> Run(const Candidate& c, const Runs& runs,
                                 interp::RunResult* first = nullptr) {
    const auto start = std::chrono::steady_clock::now();
    RunCosines cosines;
    for (const ReferenceRun* run : runs) {
      std::map<std::string, at::Tensor> inputs;
      for (size_t i = 0; i < c.interp.inputs().size() && i < run->inputs.size(); ++i) {
        inputs[c.interp.inputs()[i].name] = run->inputs[i];
      }
      interp::RunOptions options;
      options.keep_intermediates = first != nullptr && run == runs.front();
      absl::StatusOr<interp::RunResult> r = c.interp.Run(inputs, options);
      if (!r.ok()) return r.status();
      ++s_->interpreter_runs;
      double worst = 1;
      for (size_t j = 0; j < c.interp.outputs().size() && j < run->outputs.size(); ++j) {
        if (!run->outputs[j].is_floating_point()) continue;
        worst = std::min(worst, Cosine(run->outputs[j], r->outputs.at(c.interp.outputs()[j].name)));
      }
      cosines.Add(worst);
      if (options.keep_intermediates) *first = *std::move(r);
    }
    s_->interpreter_seconds += Since(start);
    return cosines;
  }

 private:
  Graph& graph_;
  const Analysis& analysis_;
  const PrecisionOptions& base_;
  PrecisionSearch* s_;
  ScratchDir scratch_;
  std::optional<std::pair<std::set<int>, Candidate>> last_;
};

/// Each run-time value's error in `result` against LibTorch's `ref` (RelativeToPeak); values
/// the package does not hold inherit the largest error of their node's inputs.
std::map<ValueId, double> ValueErrors(const Graph& g, const Candidate& c,
                                      const interp::RunResult& result, const ReferenceRun& ref) {
  std::map<ValueId, double> err;
  for (const auto& [id, t] : ref.values) {
    auto var = c.var_of_value.find(g.value(id).name);
    if (var == c.var_of_value.end()) continue;
    auto got = result.values.find(var->second);
    if (got == result.values.end() || got->second.is_string() ||
        got->second.tensor.numel() != t.numel()) {
      continue;
    }
    err[id] = RelativeToPeak(t, got->second.tensor);
  }
  return err;
}

/// The largest error among `n`'s inputs (list elements included).
double InputError(const Graph& g, const Node& n, const std::map<ValueId, double>& err) {
  double worst = 0;
  auto add = [&](ValueId id) {
    auto e = err.find(g.Resolve(id));
    if (e != err.end()) worst = std::max(worst, e->second);
  };
  for (ValueId in : n.inputs) {
    const Value& v = g.value(g.Resolve(in));
    if (v.kind == ValueKind::kTensorList) {
      for (ValueId e : v.elements) add(e);
    } else {
      add(in);
    }
  }
  return worst;
}

/// localize's blame: the FP16 nodes of `plan` whose error jumps (ErrorJumps), in graph order.
std::set<int> Blame(const Graph& g, const PrecisionPlan& plan, std::map<ValueId, double> err) {
  std::set<int> blamed;
  for (size_t i = 0; i < g.nodes().size() && i < plan.nodes.size(); ++i) {
    const Node& n = g.nodes()[i];
    const double in_err = InputError(g, n, err);
    double out_err = -1;
    for (ValueId o : n.outputs) {
      auto e = err.find(o);
      if (e == err.end()) {
        err[o] = in_err;
      } else {
        out_err = std::max(out_err, e->second);
      }
    }
    const NodePlan& np = plan.nodes[i];
    if (np.planned && np.compute == mil::DType::kFloat16 &&
        ErrorJumps(out_err, in_err, kJumpFloorFp16)) {
      blamed.insert(static_cast<int>(i));
    }
  }
  return blamed;
}

/// The float nodes the base plan computes in FP16, in graph order: the prefix rule's candidates.
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

const char* RuleName(SearchRule rule) {
  switch (rule) {
    case SearchRule::kNone:
      return "plain";
    case SearchRule::kPrefix:
      return "prefix";
    case SearchRule::kBlame:
      return "blame";
  }
  return "?";
}

/// A plan meeting the target (RunCosines::Meets) on every calibration run, or not.
struct Outcome {
  std::set<int> fp32;
  RunCosines cosines;
  bool reached = false;
};

/// The steps of the search: plans are probed on the first calibration run and confirmed on the
/// others (every run is probed once the first has misled).
class Searcher {
 public:
  Searcher(const Graph& g, Evaluator& eval, const ReferenceRuns& refs, double target,
           PrecisionSearch* s)
      : g_(g), eval_(eval), target_(target), s_(s) {
    for (const ReferenceRun& r : refs.calibration) all_.push_back(&r);
    first_.assign(all_.begin(), all_.begin() + 1);
    rest_.assign(all_.begin() + 1, all_.end());
    probe_ = first_;
  }

  /// The cosines of the plan keeping `fp32` FP32 on `runs`, recorded as a trial.
  absl::StatusOr<RunCosines> Measure(SearchRule rule, const std::set<int>& fp32, const Runs& runs) {
    absl::StatusOr<const Candidate*> c = eval_.Load(fp32);
    if (!c.ok()) return c.status();
    absl::StatusOr<RunCosines> cosines = eval_.Run(**c, runs);
    if (cosines.ok()) s_->trials.push_back({rule, static_cast<int>(fp32.size()), *cosines});
    return cosines;
  }

  /// `fp32` measured on the probe runs and, when it meets the target there, on the rest.
  absl::StatusOr<Outcome> Confirm(SearchRule rule, const std::set<int>& fp32,
                                  std::optional<RunCosines> probed = std::nullopt) {
    if (!probed) {
      absl::StatusOr<RunCosines> c = Measure(rule, fp32, probe_);
      if (!c.ok()) return c.status();
      probed = *c;
    }
    Outcome o{fp32, *probed, false};
    if (o.cosines.Meets(target_) && probe_.size() < all_.size()) {
      absl::StatusOr<RunCosines> c = Measure(rule, fp32, rest_);
      if (!c.ok()) return c.status();
      o.cosines.Merge(*c);
      // The first run misled: probe every run from now on.
      if (!o.cosines.Meets(target_)) probe_ = all_;
    }
    o.reached = o.cosines.Meets(target_) && o.cosines.runs == static_cast<int>(all_.size());
    return o;
  }

  /// Plain FP16 (with calibration's plan) and the ops localize's rule blames in it.
  absl::StatusOr<Outcome> Plain(const PrecisionPlan& plan, const ReferenceRun& first,
                                std::set<int>* blamed) {
    absl::StatusOr<const Candidate*> c = eval_.Load({});
    if (!c.ok()) return c.status();
    interp::RunResult values;
    absl::StatusOr<RunCosines> cosine = eval_.Run(**c, first_, &values);
    if (!cosine.ok()) return cosine.status();
    s_->trials.push_back({SearchRule::kNone, 0, *cosine});
    *blamed = Blame(g_, plan, ValueErrors(g_, **c, values, first));
    absl::StatusOr<Outcome> o = Confirm(SearchRule::kNone, {}, *cosine);
    if (o.ok()) plain_ = *o;
    return o;
  }

  /// The shortest prefix of `candidates` reaching the target (all of them when none does),
  /// searched on the probe runs; when the others then miss, searched again above it on every
  /// run.
  absl::StatusOr<Outcome> ShortestPrefix(const std::vector<int>& candidates) {
    const int n = static_cast<int>(candidates.size());
    if (n == 0) return plain_;  // nothing computes in fp16: the plain plan is the frontier
    std::map<int, RunCosines> probed;
    auto on_probe = [&](int k) -> absl::StatusOr<bool> {
      absl::StatusOr<RunCosines> c = Measure(SearchRule::kPrefix, Prefix(candidates, k), probe_);
      if (!c.ok()) return c.status();
      probed[k] = *c;
      return c->Meets(target_);
    };
    const bool probed_first_only = probe_.size() < all_.size();
    absl::StatusOr<int> hi = Smallest(0, n, on_probe);
    if (!hi.ok()) return hi.status();
    if (!probed[*hi].Meets(target_)) return Outcome{Prefix(candidates, n), probed[n], false};
    absl::StatusOr<Outcome> o = Confirm(SearchRule::kPrefix, Prefix(candidates, *hi), probed[*hi]);
    if (!o.ok() || o->reached || o->cosines.runs < static_cast<int>(all_.size()) || *hi == n)
      return o;
    return OnEveryRun(candidates, *hi, probed_first_only ? probed : std::map<int, RunCosines>{});
  }

  /// The shortest prefix longer than `lo` (which misses) reaching the target on every run;
  /// `first_run` holds what prefixes measured on the first run alone.
  absl::StatusOr<Outcome> OnEveryRun(const std::vector<int>& candidates, int lo,
                                     const std::map<int, RunCosines>& first_run) {
    std::map<int, Outcome> seen;
    auto on_every_run = [&](int k) -> absl::StatusOr<bool> {
      probe_ = first_;
      std::optional<RunCosines> first;
      if (auto f = first_run.find(k); f != first_run.end()) first = f->second;
      absl::StatusOr<Outcome> o = Confirm(SearchRule::kPrefix, Prefix(candidates, k), first);
      probe_ = all_;
      if (!o.ok()) return o.status();
      seen[k] = *o;
      return o->reached;
    };
    absl::StatusOr<int> hi = Smallest(lo, static_cast<int>(candidates.size()), on_every_run);
    if (!hi.ok()) return hi.status();
    return seen[*hi];
  }

  /// The smallest k in (lo, n] for which `reaches(k)` (n when none does; `reaches(lo)` is false):
  /// a gallop up from lo (lo + 1, lo + 2, lo + 4, ...), then a bisection in the bracket found.
  /// Short prefixes, the common answer, take few measurements.
  static absl::StatusOr<int> Smallest(int lo, int n,
                                      const std::function<absl::StatusOr<bool>(int)>& reaches) {
    int hi = n;
    for (int step = 1; lo < n; step *= 2) {
      const int k = std::min(n, lo + step);
      absl::StatusOr<bool> r = reaches(k);
      if (!r.ok()) return r.status();
      if (*r) {
        hi = k;
        break;
      }
      lo = k;
    }
    while (hi - lo > 1) {
      const int mid = lo + (hi - lo) / 2;
      absl::StatusOr<bool> r = reaches(mid);
      if (!r.ok()) return r.status();
      (*r ? hi : lo) = mid;
    }
    return hi;
  }

 private:
  const Graph& g_;
  Evaluator& eval_;
  double target_;
  PrecisionSearch* s_;
  Runs first_, rest_, all_, probe_;
  Outcome plain_;
};

/// "cosine W on N runs", with the runs' spread and the cosine expected on unseen inputs when
/// they differ (precision_search_rule.h).
std::string CosineText(const RunCosines& c) {
  std::string out =
      absl::StrFormat("cosine %.7f on %d run%s", c.worst, c.runs, c.runs == 1 ? "" : "s");
  if (c.Spread() > 0) {
    absl::StrAppendFormat(&out, " (spread %.7f, so %.7f expected on unseen inputs)", c.Spread(),
                          c.Expected());
  }
  return out;
}

/// The estimated FLOPs share (0..1) `fp32` leaves in FP16.
absl::StatusOr<double> Fp16FlopShare(const Graph& g, const Evaluator& eval,
                                     const std::set<int>& fp32) {
  absl::StatusOr<PrecisionPlan> plan = eval.Plan(fp32);
  if (!plan.ok()) return plan.status();
  PrecisionSearch d;
  Describe(g, *plan, &d);
  return d.flops > 0 ? d.fp16_flops / d.flops : 0.0;
}

/// Of the blamed and the prefix plans, the one reaching the target with the larger FP16 share
/// of the estimated FLOPs (the prefix, the frontier, when neither reaches it); says why.
absl::StatusOr<Outcome> Choose(const Graph& g, const Evaluator& eval,
                               const std::optional<Outcome>& blame, const Outcome& prefix,
                               PrecisionSearch* s) {
  absl::StatusOr<double> prefix_share = Fp16FlopShare(g, eval, prefix.fp32);
  if (!prefix_share.ok()) return prefix_share.status();
  const std::string prefix_text = absl::StrFormat(
      "the prefix rule: %d op%s, %s, %.1f%% of the FLOPs fp16%s", prefix.fp32.size(),
      prefix.fp32.size() == 1 ? "" : "s", CosineText(prefix.cosines), 100 * *prefix_share,
      prefix.reached ? "" : " (short of the target)");
  if (!blame) {
    s->rule = SearchRule::kPrefix;
    s->choice = absl::StrCat(prefix_text, "; localize's blame: no op's error jumps in fp16");
    return prefix;
  }
  absl::StatusOr<double> blame_share = Fp16FlopShare(g, eval, blame->fp32);
  if (!blame_share.ok()) return blame_share.status();
  const std::string blame_text = absl::StrFormat(
      "localize's blame: %d op%s, %s, %.1f%% of the FLOPs fp16%s", blame->fp32.size(),
      blame->fp32.size() == 1 ? "" : "s", CosineText(blame->cosines), 100 * *blame_share,
      blame->reached ? "" : " (short of the target)");
  const bool use_blame = blame->reached && (!prefix.reached || *blame_share > *prefix_share);
  s->rule = use_blame ? SearchRule::kBlame : SearchRule::kPrefix;
  s->choice = use_blame ? absl::StrCat(blame_text, "; not ", prefix_text)
                        : absl::StrCat(prefix_text, "; not ", blame_text);
  return use_blame ? *blame : prefix;
}

/// The search after plain FP16 missed: localize's blame and the prefix rule, the better chosen.
absl::StatusOr<Outcome> SearchFp32Ops(const Graph& graph, Evaluator& eval, Searcher& searcher,
                                      const PrecisionPlan& plain, const std::set<int>& blamed,
                                      PrecisionSearch* s) {
  std::optional<Outcome> blame;
  if (!blamed.empty()) {
    absl::StatusOr<Outcome> b = searcher.Confirm(SearchRule::kBlame, blamed);
    if (!b.ok()) return b.status();
    blame = *b;
  }
  absl::StatusOr<Outcome> prefix = searcher.ShortestPrefix(Candidates(plain));
  if (!prefix.ok()) return prefix.status();
  return Choose(graph, eval, blame, *prefix, s);
}

}  // namespace

std::string PrecisionSearch::Summary() const {
  constexpr char kNotClaimed[] =
      "BELOW the target (not claimed; the plans measured are under search:; more calibration runs, --calibrate N, let the search see more of the inputs)";
  std::string out = absl::StrFormat(
      "precision auto: target cosine >= %.8g; %s on %d calibration run%s (cosine %.7f, spread "
      "%.7f: %.7f expected on unseen inputs) with %d op%s moved to fp32",
      target, reached ? "reached" : "NOT reached", calibration_runs,
      calibration_runs == 1 ? "" : "s", cosine, spread, cosine - spread, fp32_nodes.size(),
      fp32_nodes.size() == 1 ? "" : "s");
  absl::StrAppendFormat(&out, "\n    held-back seeds 0..%d: cosine %.7f, %s", holdout_runs - 1,
                        holdout_cosine, holdout_reached ? "target met" : kNotClaimed);
  absl::StrAppendFormat(
      &out,
      "\n    fp16: %d of %d float ops (%.1f%%), %.1f%% of the estimated FLOPs; %d fp16/fp32 "
      "transitions",
      fp16_ops, ops, ops ? 100.0 * fp16_ops / ops : 0.0,
      flops > 0 ? 100.0 * fp16_flops / flops : 0.0, transitions);
  absl::StrAppend(&out, "\n    chosen: ", choice);
  std::vector<std::string> tried;
  std::set<std::pair<SearchRule, int>> plans;
  for (const SearchTrial& t : trials) {
    tried.push_back(absl::StrFormat("%s %d:%.7f/%d", RuleName(t.rule), t.fp32_ops, t.cosines.worst,
                                    t.cosines.runs));
    plans.insert({t.rule, t.fp32_ops});
  }
  absl::StrAppendFormat(&out,
                        "\n    search: %d plans in %d measurements (rule fp32 ops:cosine/runs %s), "
                        "%d interpreter runs, %.1f s (planning, lowering and loading %.1f s, "
                        "interpreter %.1f s)",
                        plans.size(), trials.size(), absl::StrJoin(tried, ", "), interpreter_runs,
                        seconds, lower_seconds, interpreter_seconds);
  if (!fp32_nodes.empty()) {
    std::vector<std::string> flags;
    for (const std::string& r : rules) flags.push_back(absl::StrCat("--keep-fp32 ", r));
    absl::StrAppendFormat(&out, "\n    without search: %s%s",
                          flags.empty() ? "(no module rule)" : absl::StrJoin(flags, " "),
                          rules_note.empty() ? "" : absl::StrCat(" (", rules_note, ")"));
  }
  return out;
}

std::string PrecisionSearch::Reason() const {
  return rule == SearchRule::kBlame ? "--precision auto: localize's rule blames its fp16 error"
                                    : "--precision auto: the measured error needs an fp32 prefix";
}

absl::StatusOr<PrecisionSearch> SearchPrecision(Graph& graph, const Analysis& analysis,
                                                const PrecisionOptions& base,
                                                const ReferenceRuns& references,
                                                double min_cosine) {
  const auto start = std::chrono::steady_clock::now();
  PrecisionSearch s;
  s.target = min_cosine;
  s.holdout_runs = static_cast<int>(references.holdout.size());
  if (references.calibration.empty()) {
    return Error(ErrorClass::kInternal, "--precision auto: no calibration run to measure on");
  }
  Evaluator eval(graph, analysis, base, &s);
  absl::StatusOr<PrecisionPlan> plain = eval.Plan({});
  if (!plain.ok()) return plain.status();
  Searcher searcher(graph, eval, references, min_cosine, &s);
  std::set<int> blamed;
  absl::StatusOr<Outcome> chosen = searcher.Plain(*plain, references.calibration.front(), &blamed);
  if (!chosen.ok()) return chosen.status();
  if (!chosen->reached) {
    chosen = SearchFp32Ops(graph, eval, searcher, *plain, blamed, &s);
    if (!chosen.ok()) return chosen.status();
  } else {
    s.choice = "plain fp16 reaches the target";
  }
  s.fp32_nodes = chosen->fp32;
  s.cosine = chosen->cosines.worst;
  s.spread = chosen->cosines.Spread();
  s.calibration_runs = chosen->cosines.runs;
  s.reached = chosen->reached;
  Runs holdout;
  for (const ReferenceRun& r : references.holdout) holdout.push_back(&r);
  absl::StatusOr<const Candidate*> final_package = eval.Load(s.fp32_nodes);
  if (!final_package.ok()) return final_package.status();
  absl::StatusOr<RunCosines> held = eval.Run(**final_package, holdout);
  if (!held.ok()) return held.status();
  s.holdout_cosine = held->worst;
  s.holdout_reached = s.holdout_runs > 0 && held->worst >= min_cosine;
  absl::StatusOr<PrecisionPlan> final_plan = eval.Plan(s.fp32_nodes);
  if (!final_plan.ok()) return final_plan.status();
  Describe(graph, *final_plan, &s);
  DeriveRules(graph, *final_plan, s.fp32_nodes, &s);
  s.seconds = Since(start);
  return s;
}

}  // namespace ts2coreml::core
