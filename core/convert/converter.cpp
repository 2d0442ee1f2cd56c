#include "core/convert/converter.h"

#include <utf8cpp/utf8.h>

#include <chrono>
#include <fstream>
#include <set>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "core/base/errors.h"
#include "core/base/json.h"
#include "core/base/process_exit.h"
#include "core/convert/calibrate.h"
#include "core/convert/mil_calibration.h"
#include "core/convert/precision_search.h"
#include "core/mil/output_target.h"
#include "core/torch/aten_evaluator.h"
#include "core/torch/canonicalize.h"
#include "core/torch/fp32_reference.h"
#include "core/torch/graph_importer.h"
#include "core/torch/torchscript_loader.h"

namespace ts2coreml::core {
namespace {

/// The process's peak resident set size so far (Linux VmHWM), 0 when unknown.
uint64_t PeakRssBytes() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmHWM:", 0) == 0) {
      uint64_t kb = 0;
      if (absl::SimpleAtoi(absl::StripAsciiWhitespace(
                               absl::StripSuffix(absl::StripAsciiWhitespace(line.substr(6)), "kB")),
                           &kb)) {
        return kb * 1024;
      }
    }
  }
  return 0;
}

/// `status` with the model file named first (keeps its class), unless the message already does.
absl::Status InModel(const std::filesystem::path& model, const absl::Status& status) {
  const std::string path = model.string();
  if (absl::StartsWith(status.message(), path)) return status;
  return Error(ClassOf(status), absl::StrCat(path, ": ", status.message()));
}

class PhaseTimer {
 public:
  explicit PhaseTimer(std::vector<PhaseTime>& phases) : phases_(phases) {}
  void Done(std::string name) {
    const auto now = std::chrono::steady_clock::now();
    phases_.push_back(
        {std::move(name), std::chrono::duration<double>(now - start_).count(), PeakRssBytes()});
    start_ = now;
  }

 private:
  std::vector<PhaseTime>& phases_;
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
};

std::map<std::string, int> KindHistogram(const torch::jit::Graph& g) {
  std::map<std::string, int> kinds;
  for (const torch::jit::Node* n : g.nodes()) {
    if (n->kind() != c10::prim::Constant) ++kinds[n->kind().toQualString()];
  }
  return kinds;
}

std::string HumanBytes(uint64_t n) {
  if (n >= 1000000) return absl::StrFormat("%.2f MB", n / 1e6);
  if (n >= 1000) return absl::StrFormat("%.1f kB", n / 1e3);
  return absl::StrCat(n, " B");
}

/// {"mil var": {"value": torch value, "op": kind, "source": location}, ...}
std::string SourceMapJson(const LoweredProgram& p) {
  json::Writer w;
  w.BeginObject();
  for (const SourceMapEntry& e : p.source_map) {
    w.Key(p.main.var(e.var).name).BeginObject();
    w.Key("value").String(e.value).Key("op").String(e.kind).Key("source").String(e.source);
    w.EndObject();
  }
  w.EndObject();
  return w.Finish();
}

/// {"var": {"op", "reason", "source"}} for MIL ops that compute in FP32 under fp16.
std::string Fp32OpsJson(const Graph& g, const PrecisionPlan& plan, const LoweredProgram& p) {
  json::Writer w;
  w.BeginObject();
  if (plan.options.precision == Precision::kFp16) {
    for (size_t k = 0; k < p.main.ops().size(); ++k) {
      const mil::Operation& op = p.main.ops()[k];
      const int node = k < p.op_origin.size() ? p.op_origin[k] : -1;
      if (node < 0 || op.type == "const" || op.outputs.empty() ||
          p.main.var(op.outputs[0]).type.dtype != mil::DType::kFloat32) {
        continue;
      }
      const Node& n = g.nodes()[static_cast<size_t>(node)];
      w.Key(p.main.var(op.outputs[0]).name).BeginObject();
      w.Key("op").String(n.QualifiedKind());
      w.Key("mil_op").String(op.type);
      w.Key("reason").String(plan.nodes[static_cast<size_t>(node)].ReasonText());
      w.Key("source").String(n.source);
      w.EndObject();
    }
  }
  w.EndObject();
  return w.Finish();
}

/// {"cast output var": "reason"}.
std::string CastsJson(const LoweredProgram& p) {
  json::Writer w;
  w.BeginObject();
  for (const EmittedCast& c : p.casts) w.Key(c.var).String(c.reason);
  w.EndObject();
  return w.Finish();
}

}  // namespace

/// The --input shapes and the plugins' passthrough ops: how the model and its FP32 reference
/// are canonicalized.
CanonicalizeOptions CanonicalOptions(const ConvertOptions& options,
                                     const registry::Registry& registry) {
  CanonicalizeOptions canon_options;
  for (const std::string& op : registry.PassthroughOps()) canon_options.passthrough_ops.insert(op);
  canon_options.inputs = options.inputs;
  return canon_options;
}

/// Runs calibration (and, for --precision auto, the held-back runs) into `prepared`, in LibTorch
/// on `canonical`, or on the canonical form of `reference` when it is an upcast clone; under fp16,
/// then the FP32 program in the interpreter on the same inputs (mil_calibration.h): when that
/// fails, a warning in `report` says its vars are not measured.
absl::Status CalibrateModel(const ConvertOptions& options, const registry::Registry& registry,
                            CanonicalModel& canonical, const Fp32Reference& reference,
                            PreparedModel* prepared, ConversionReport* report) {
  CalibrationRequest request = options.calibration;
  auto references = std::make_shared<ReferenceRuns>();
  references->keep_values = options.precision_auto;
  if (options.precision_auto) {
    if (!request.requested()) request.random_runs = 3;
    // Verify's seeds 0, 1, 2, unless the calibration seeds overlap them.
    request.holdout_runs = 3;
    request.holdout_seed = request.seed < 3 ? request.seed + request.random_runs : 0;
  }
  std::optional<CanonicalModel> upcast;
  if (reference.upcast()) {
    absl::StatusOr<CanonicalModel> c =
        CanonicalizeReference(reference, CanonicalOptions(options, registry), canonical);
    if (!c.ok()) return InModel(options.model, c.status());
    upcast.emplace(*std::move(c));
  }
  absl::StatusOr<Calibration> calibration =
      Calibrate(upcast ? *upcast : canonical, prepared->graph, prepared->analysis,
                prepared->integer_uses, request, options.precision, references.get());
  if (!calibration.ok()) return InModel(options.model, calibration.status());
  if (reference.upcast()) absl::StrAppend(&calibration->source, ", on ", reference.Describe());
  if (options.precision.precision == Precision::kFp16) {
    if (absl::Status s =
            MeasureMilIntermediates(prepared->graph, prepared->analysis, options.precision,
                                    references->calibration, &*calibration);
        !s.ok()) {
      report->warnings.push_back(absl::StrCat(
          s.message(), "; the vars only the MIL decomposition holds are not measured"));
    }
  }
  prepared->calibration = *std::move(calibration);
  if (options.precision_auto) prepared->references = std::move(references);
  return absl::OkStatus();
}

namespace {

/// Step 1 of PrepareModel: registers the plugins' custom schemas with LibTorch, then loads the
/// model. Each plugin's schemas on their own: a schema LibTorch rejects costs only its own op (a
/// warning in `report`, and named in the load error if the model then fails to load).
absl::StatusOr<torch::jit::Module> LoadModel(const ConvertOptions& options,
                                             const registry::Registry& registry,
                                             ConversionReport* report) {
  std::vector<std::string> schema_problems;
  for (const registry::Lowering* l : registry.lowerings()) {
    if (l->schemas.empty()) continue;
    if (absl::Status s = RegisterCustomSchemas(l->schemas); !s.ok()) {
      schema_problems.push_back(absl::StrCat("plugin ", l->plugin ? l->plugin->name : l->name, " (",
                                             l->plugin ? l->plugin->path.string() : "?",
                                             "): ", s.message(), "; its op stays unavailable"));
    }
  }
  report->warnings.insert(report->warnings.end(), schema_problems.begin(), schema_problems.end());
  absl::StatusOr<torch::jit::Module> module = LoadTorchScript(options.model);
  if (!module.ok() && !schema_problems.empty()) {
    return Error(ClassOf(module.status()), absl::StrCat(module.status().message(), " (",
                                                        absl::StrJoin(schema_problems, "; "), ")"));
  }
  return module;
}

/// Step 2: canonicalizes `module` (handed over: torch::jit::Module has no move constructor,
/// std::exchange drops our handle, so the frozen graph becomes the only owner of the weights and
/// no second FP32 copy is held), recording what the passes changed in `report`.
absl::StatusOr<CanonicalModel> CanonicalizeModel(const ConvertOptions& options,
                                                 const registry::Registry& registry,
                                                 torch::jit::Module& module,
                                                 ConversionReport* report) {
  absl::StatusOr<CanonicalModel> canonical = Canonicalize(
      std::exchange(module, torch::jit::Module()), CanonicalOptions(options, registry));
  if (!canonical.ok()) return InModel(options.model, canonical.status());
  report->passes_changed = canonical->changed_by;
  report->kinds_canonical = KindHistogram(*canonical->graph);
  report->kinds_loaded = canonical->kinds_before;
  return canonical;
}

/// Step 3: dispatch and type inference, input-independent ops (swin_t's attention mask)
/// evaluated with ATen on the host; then the checks of arguments used as integers (weights folded
/// by now: a float one feeding indices is an error naming it, before the op's own refusal; one
/// compared with an integer, a note) and of the --keep-fp32 rules. Decisions and warnings go to
/// `report`.
absl::Status AnalyzeModel(const ConvertOptions& options, const registry::Registry& registry,
                          PreparedModel* prepared, ConversionReport* report) {
  AtenEvaluator host;
  prepared->analysis = Analyze(prepared->graph, registry, &host);
  prepared->integer_uses = IntegerArgumentUses(prepared->graph);
  if (absl::Status s =
          CheckIntegerArguments(prepared->graph, prepared->integer_uses, &report->warnings);
      !s.ok()) {
    return InModel(options.model, s);
  }
  if (absl::Status s = CheckRulesMatch(prepared->graph, options.precision.keep_fp32); !s.ok()) {
    return InModel(options.model, s);
  }
  for (const NodeAnalysis& na : prepared->analysis.nodes) {
    ++report->decisions[std::string(NodeDecisionName(na.decision))];
    for (const std::string& w : na.warnings) report->warnings.push_back(w);
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<PreparedModel> PrepareModel(const ConvertOptions& options,
                                           const registry::Registry& registry,
                                           bool allow_unshaped_inputs, ConversionReport* report) {
  PhaseTimer timer(report->phases);
  absl::StatusOr<torch::jit::Module> module = LoadModel(options, registry, report);
  if (!module.ok()) return module.status();
  timer.Done("load");

  // A model with half weights is calibrated on its FP32 reference, a clone taken before
  // canonicalization takes the model over (an FP32 model is its own: no handle is kept).
  const bool calibrate = options.calibration.requested() || options.precision_auto;
  Fp32Reference reference;
  if (calibrate && !ReducedPrecisionWeights(*module).empty()) {
    reference = MakeFp32Reference(*module);
  }
  absl::StatusOr<CanonicalModel> canonical = CanonicalizeModel(options, registry, *module, report);
  if (!canonical.ok()) return canonical.status();
  absl::StatusOr<Graph> graph =
      ImportGraph(*canonical, options.inputs, options.output_names, allow_unshaped_inputs);
  if (!graph.ok()) return InModel(options.model, graph.status());
  timer.Done("canonicalize");

  PreparedModel prepared{*std::move(graph), {}, {}};
  if (absl::Status s = AnalyzeModel(options, registry, &prepared, report); !s.ok()) return s;
  timer.Done("analyze");
  if (calibrate && AnalysisStatus(prepared.analysis).ok()) {
    if (absl::Status s =
            CalibrateModel(options, registry, *canonical, reference, &prepared, report);
        !s.ok()) {
      return s;
    }
    timer.Done("calibrate");
  }
  return prepared;
}

namespace {

/// kInputsKey: each model input's forward() dtype, and for embedding ids the bound verify draws
/// them below.
std::string InputsJson(const Graph& g, const std::map<ValueId, IntegerUse>& uses,
                       const LoweredProgram& lowered) {
  json::Writer w;
  w.BeginObject();
  for (size_t i = 0; i < g.inputs().size() && i < lowered.inputs.size(); ++i) {
    const Value& v = g.value(g.inputs()[i]);
    w.Key(lowered.inputs[i].name).BeginObject();
    w.Key("dtype").String(v.input_dtype == InputDtype::kDefault
                              ? std::string(mil::DTypeName(lowered.inputs[i].dtype))
                              : std::string(InputDtypeName(v.input_dtype)));
    if (auto it = uses.find(g.inputs()[i]); it != uses.end() && it->second.high > 0) {
      w.Key("high").Int(it->second.high);
    }
    w.EndObject();
  }
  w.EndObject();
  return w.Finish();
}

/// How calibration ran and what the plan decided from it; a second line for the vars only the
/// MIL decomposition holds, when the FP32 program ran.
std::string CalibrationSummary(const Calibration& c, const PrecisionPlan& plan) {
  int limit = 0, range = 0, intermediate = 0, released = 0;
  for (const NodePlan& np : plan.nodes) {
    if (!np.planned) continue;
    limit += np.reason == PrecisionReason::kCalibratedLimit;
    range += np.reason == PrecisionReason::kCalibratedRange;
    intermediate += np.reason == PrecisionReason::kMilIntermediate;
    released += np.compute == mil::DType::kFloat16 && absl::StartsWith(np.detail, "calibration:");
  }
  std::string out = absl::StrFormat(
      "%d run%s (%s): %d op%s computing fp16 within their declared fp16 limits, %d kept fp32 by a measured limit, %d by a measured range beyond fp16, %d by a measured MIL intermediate beyond fp16",
      c.runs, c.runs == 1 ? "" : "s", c.source, released, released == 1 ? "" : "s", limit, range,
      intermediate);
  if (!c.mil_lowered) return out;
  if (c.mil_runs == 0) {
    absl::StrAppendFormat(
        &out,
        "\n    MIL intermediates: none (every MIL op of the fp32 program holds a TorchScript value; lowered in %.1f s, not run)",
        c.mil_seconds);
    return out;
  }
  int vars = 0, beyond = 0, underflowing = 0;
  for (const auto& [node, list] : c.intermediates) {
    for (const MilIntermediate& m : list) {
      ++vars;
      beyond += m.range.max_abs > mil::kFp16Max;
      underflowing += m.range.ShareBelowNormal() > 0.5;
    }
  }
  absl::StrAppendFormat(
      &out,
      "\n    MIL intermediates: %d var%s of %d op%s measured in the fp32 program (%d interpreter run%s, %.1f s): %d beyond fp16's 65504, %d with most values below fp16's normal range (not a reason for fp32)",
      vars, vars == 1 ? "" : "s", c.intermediates.size(), c.intermediates.size() == 1 ? "" : "s",
      c.mil_runs, c.mil_runs == 1 ? "" : "s", c.mil_seconds, beyond, underflowing);
  return out;
}

/// A bad output path (kUsage for a malformed one, else kOutput), refused before any time is
/// spent on the model.
absl::Status CheckOutput(const ConvertOptions& options) {
  absl::Status s = mil::CheckOutputTarget(options.output, options.force, {options.model});
  if (s.ok()) return s;
  const bool usage = s.code() == absl::StatusCode::kInvalidArgument;
  return Error(usage ? ErrorClass::kUsage : ErrorClass::kOutput, s.message());
}

/// The precision plan: for --precision auto the search for an FP32 prefix first (phase
/// "search"), then PlanPrecision with the calibration's evidence. The search, calibration,
/// warnings and the FP32 ops under fp16 go to `report`.
absl::StatusOr<PrecisionPlan> PlanModel(const ConvertOptions& options, PreparedModel& prepared,
                                        PhaseTimer& timer, ConversionReport* report) {
  Graph& graph = prepared.graph;
  PrecisionOptions precision = options.precision;
  if (prepared.calibration) precision.calibration = &*prepared.calibration;
  if (options.precision_auto && prepared.references) {
    absl::StatusOr<PrecisionSearch> search = SearchPrecision(
        graph, prepared.analysis, precision, *prepared.references, options.min_cosine);
    if (!search.ok()) return InModel(options.model, search.status());
    precision.search_fp32 = search->fp32_nodes;
    precision.search_reason = search->Reason();
    report->search = search->Summary();
    timer.Done("search");
  }
  absl::StatusOr<PrecisionPlan> plan = PlanPrecision(graph, prepared.analysis, precision);
  if (!plan.ok()) return InModel(options.model, plan.status());
  plan->options.calibration = nullptr;  // prepared.calibration may be kept past this call
  if (prepared.calibration) report->calibration = CalibrationSummary(*prepared.calibration, *plan);
  for (const std::string& w : plan->warnings) report->warnings.push_back(w);
  for (size_t i = 0; i < plan->nodes.size(); ++i) {
    const NodePlan& np = plan->nodes[i];
    if (np.planned && np.compute == mil::DType::kFloat32 &&
        options.precision.precision == Precision::kFp16) {
      ++report->fp32_nodes[{graph.nodes()[i].QualifiedKind(), np.ReasonText()}];
    }
  }
  return plan;
}

/// The lowered program's warnings, casts, features and MIL ops by type and dtype, into `report`.
void ReportLowered(const LoweredProgram& lowered, ConversionReport* report) {
  for (const std::string& w : lowered.warnings) report->warnings.push_back(w);
  report->casts = lowered.casts;
  report->validate_seconds = lowered.validate_seconds;
  report->inputs = lowered.inputs;
  report->outputs = lowered.outputs;
  std::map<std::pair<std::string, mil::DType>, int> ops;
  for (const mil::Operation& op : lowered.main.ops()) {
    if (op.type == "const") continue;
    const mil::DType d =
        op.outputs.empty() ? mil::DType::kInvalid : lowered.main.var(op.outputs[0]).type.dtype;
    ++ops[{op.type, d}];
  }
  for (const auto& [key, count] : ops) report->ops.push_back({key.first, key.second, count});
}

/// The package's model description: features, and the metadata inspect and verify read.
mil::ModelSpec PackageSpec(const ConvertOptions& options, const PreparedModel& prepared,
                           const PrecisionPlan& plan, const LoweredProgram& lowered) {
  mil::ModelSpec spec;
  spec.specification_version = SpecificationVersion(options.precision.target);
  spec.inputs = lowered.inputs;
  spec.outputs = lowered.outputs;
  // Protobuf strings must be UTF-8; a file name in another encoding gets U+FFFD for its bytes.
  spec.short_description = utf8::replace_invalid(
      absl::StrCat("Converted from ", options.model.filename().string(), " by ts2coreml"));
  spec.author = "ts2coreml";
  spec.user_defined[kPrecisionKey] =
      options.precision.precision == Precision::kFp16 ? "fp16" : "fp32";
  spec.user_defined[kTargetKey] = std::string(TargetName(options.precision.target));
  spec.user_defined[kSourceMapKey] = SourceMapJson(lowered);
  spec.user_defined[kFp32OpsKey] = Fp32OpsJson(prepared.graph, plan, lowered);
  spec.user_defined[kCastsKey] = CastsJson(lowered);
  spec.user_defined[kInputsKey] = InputsJson(prepared.graph, prepared.integer_uses, lowered);
  return spec;
}

}  // namespace

absl::StatusOr<ConversionReport> Convert(const ConvertOptions& options,
                                         const registry::Registry& registry) {
  ConversionReport report;
  report.model = options.model;
  report.output = options.output;
  report.precision = options.precision;
  if (absl::Status s = CheckOutput(options); !s.ok()) return s;
  absl::StatusOr<PreparedModel> prepared =
      PrepareModel(options, registry, /*allow_unshaped_inputs=*/false, &report);
  if (!prepared.ok()) return prepared.status();
  if (absl::Status s = AnalysisStatus(prepared->analysis); !s.ok()) {
    return InModel(options.model, s);
  }
  PhaseTimer timer(report.phases);
  absl::StatusOr<PrecisionPlan> plan = PlanModel(options, *prepared, timer, &report);
  if (!plan.ok()) return plan.status();
  timer.Done("plan_precision");

  absl::StatusOr<LoweredProgram> lowered = LowerGraph(prepared->graph, prepared->analysis, *plan);
  if (!lowered.ok()) return InModel(options.model, lowered.status());
  ReportLowered(*lowered, &report);
  timer.Done("lower");

  absl::StatusOr<mil::WriteStats> stats =
      mil::WritePackageAtomically(PackageSpec(options, *prepared, *plan, *lowered), lowered->main,
                                  options.output, options.force);
  if (!stats.ok()) {
    const ErrorClass c = ClassOf(stats.status());
    return Error(c == ErrorClass::kInternal ? ErrorClass::kOutput : c, stats.status().message());
  }
  report.write = *stats;
  timer.Done("write");
  if (!options.free_memory_on_return) {
    KeepUntilExit(*std::move(prepared));
    KeepUntilExit(*std::move(lowered));
  }
  return report;
}

absl::StatusOr<CoverageReport> Coverage(const ConvertOptions& options,
                                        const registry::Registry& registry) {
  ConversionReport scratch;
  absl::StatusOr<PreparedModel> prepared =
      PrepareModel(options, registry, /*allow_unshaped_inputs=*/true, &scratch);
  if (!prepared.ok()) return prepared.status();
  absl::StatusOr<PrecisionPlan> plan =
      PlanPrecision(prepared->graph, prepared->analysis, options.precision);
  if (!plan.ok()) return plan.status();
  CoverageReport report =
      BuildCoverageReport(prepared->graph, prepared->analysis, &*plan, registry);
  report.model = options.model;
  return report;
}

namespace {

/// The summary's first lines: model and package, target and precision, features.
void AppendHeader(const ConversionReport& r, std::string* out) {
  const bool fp16 = r.precision.precision == Precision::kFp16;
  absl::StrAppendFormat(out, "ts2coreml: %s -> %s\n", r.model.string(), r.output.string());
  absl::StrAppendFormat(out, "  ML Program, %s (specification %d, opset %s), precision %s\n",
                        TargetName(r.precision.target), SpecificationVersion(r.precision.target),
                        Opset(r.precision.target), fp16 ? "fp16" : "fp32");
  auto features = [](const std::vector<mil::FeatureSpec>& fs) {
    std::vector<std::string> parts;
    for (const auto& f : fs) {
      parts.push_back(absl::StrCat(f.name, " ", mil::TensorType{f.dtype, f.shape}.ToString()));
    }
    return absl::StrJoin(parts, ", ");
  };
  absl::StrAppendFormat(out, "  inputs:  %s\n  outputs: %s\n", features(r.inputs),
                        features(r.outputs));
}

/// What canonicalization removed or folded, and the analysis decisions by kind.
void AppendGraph(const ConversionReport& r, std::string* out) {
  std::vector<std::string> removed;
  for (const auto& [kind, count] : r.kinds_loaded) {
    auto it = r.kinds_canonical.find(kind);
    const int left = it == r.kinds_canonical.end() ? 0 : it->second;
    if (left < count) removed.push_back(absl::StrCat(count - left, " ", kind));
  }
  absl::StrAppendFormat(out, "  canonicalize: passes [%s]; removed %s\n",
                        absl::StrJoin(r.passes_changed, ", "),
                        removed.empty() ? "nothing" : absl::StrJoin(removed, ", "));
  std::vector<std::string> decisions;
  for (const auto& [d, count] : r.decisions) decisions.push_back(absl::StrCat(count, " ", d));
  absl::StrAppendFormat(out, "  TorchScript nodes: %s\n", absl::StrJoin(decisions, ", "));
}

/// MIL ops by type and dtype (consts and casts not counted: casts are listed by AppendCasts, as
/// in inspect and docs/coverage.md), then calibration, search and the ops kept FP32.
void AppendOps(const ConversionReport& r, std::string* out) {
  int total = 0, fp16_ops = 0, fp32_ops = 0;
  for (const OpCount& c : r.ops) {
    if (c.type == "cast") continue;
    total += c.count;
    if (c.dtype == mil::DType::kFloat16) fp16_ops += c.count;
    if (c.dtype == mil::DType::kFloat32) fp32_ops += c.count;
  }
  absl::StrAppendFormat(out, "  MIL ops (%d, consts and casts not counted; %d fp16, %d fp32):\n",
                        total, fp16_ops, fp32_ops);
  for (const OpCount& c : r.ops) {
    if (c.type == "cast") continue;
    absl::StrAppendFormat(out, "    %-16s %-6s %5d\n", c.type, std::string(mil::DTypeName(c.dtype)),
                          c.count);
  }
  if (!r.calibration.empty()) absl::StrAppendFormat(out, "  calibration: %s\n", r.calibration);
  if (!r.search.empty()) absl::StrAppendFormat(out, "  %s\n", r.search);
  if (!r.fp32_nodes.empty()) {
    absl::StrAppend(out, "  kept fp32:\n");
    for (const auto& [key, count] : r.fp32_nodes) {
      absl::StrAppendFormat(out, "    %d x %s: %s\n", count, key.first, key.second);
    }
  }
}

/// Casts of runtime values one by one; weight upcasts (one per weight) counted by reason.
void AppendCasts(const ConversionReport& r, std::string* out) {
  std::map<std::string, int> upcasts;
  for (const EmittedCast& c : r.casts) {
    if (c.constant) ++upcasts[c.reason];
  }
  absl::StrAppendFormat(out, "  casts inserted (%d):\n", r.casts.size());
  for (const EmittedCast& c : r.casts) {
    if (c.constant) continue;
    absl::StrAppendFormat(out, "    %s: %s -> %s  (%s)\n", c.var,
                          std::string(mil::DTypeName(c.from)), std::string(mil::DTypeName(c.to)),
                          c.reason);
  }
  for (const auto& [reason, count] : upcasts) {
    absl::StrAppendFormat(out, "    %d weight%s fp16 -> fp32  (%s)\n", count, count == 1 ? "" : "s",
                          reason);
  }
}

/// Weight bytes by dtype, then the first warnings.
void AppendWeightsAndWarnings(const ConversionReport& r, std::string* out) {
  std::vector<std::string> bytes;
  for (const auto& [dtype, n] : r.write.weight_bytes_by_dtype) {
    bytes.push_back(absl::StrFormat("%s %s", std::string(mil::DTypeName(dtype)), HumanBytes(n)));
  }
  absl::StrAppendFormat(out, "  weights: %s in %d blobs; weight.bin %s\n",
                        bytes.empty() ? "none" : absl::StrJoin(bytes, ", "), r.write.num_blobs,
                        HumanBytes(r.write.weight_file_bytes));
  constexpr size_t kMaxWarnings = 8;
  for (size_t k = 0; k < r.warnings.size() && k < kMaxWarnings; ++k) {
    absl::StrAppendFormat(out, "  warning: %s\n", r.warnings[k]);
  }
  if (r.warnings.size() > kMaxWarnings) {
    absl::StrAppendFormat(out, "  ... and %d more warnings (ts2coreml coverage --json lists all)\n",
                          r.warnings.size() - kMaxWarnings);
  }
}

/// Time per phase and the peak memory after each.
void AppendTimes(const ConversionReport& r, std::string* out) {
  std::vector<std::string> times;
  double sum = 0;
  for (const PhaseTime& p : r.phases) {
    times.push_back(absl::StrFormat("%s %.3fs", p.name, p.seconds));
    sum += p.seconds;
  }
  absl::StrAppendFormat(out, "  time: %s; total %.3fs; opset validation %.3fs (in lower)\n",
                        absl::StrJoin(times, ", "), sum, r.validate_seconds);
  std::vector<std::string> peaks;
  for (const PhaseTime& p : r.phases) {
    if (p.peak_rss_bytes) peaks.push_back(absl::StrCat(p.name, " ", HumanBytes(p.peak_rss_bytes)));
  }
  if (!peaks.empty()) {
    absl::StrAppendFormat(out, "  peak memory after: %s\n", absl::StrJoin(peaks, ", "));
  }
}

}  // namespace

std::string FormatSummary(const ConversionReport& r) {
  std::string out;
  AppendHeader(r, &out);
  AppendGraph(r, &out);
  AppendOps(r, &out);
  AppendCasts(r, &out);
  AppendWeightsAndWarnings(r, &out);
  AppendTimes(r, &out);
  return out;
}

}  // namespace ts2coreml::core
