#include "core/convert/mil_calibration.h"

#include <algorithm>
#include <chrono>
#include <iterator>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "core/base/errors.h"
#include "core/convert/interpreted_plan.h"

namespace ts2coreml::core {
namespace {

/// Where a measured var's range goes: its node and its slot in that node's list.
struct Slot {
  int node = -1;
  size_t index = 0;
};

/// The FP32 plan of `graph`: every float op FP32, model inputs and outputs FP32.
absl::StatusOr<PrecisionPlan> Fp32Plan(const Graph& graph, const Analysis& analysis,
                                       const PrecisionOptions& precision) {
  PrecisionOptions o;
  o.precision = Precision::kFp32;
  o.target = precision.target;
  o.io_dtype = mil::DType::kFloat32;
  return PlanPrecision(graph, analysis, o);
}

/// The float vars of `lowered` that a node's own ops make and that hold no TorchScript value
/// (casts and I/O plumbing belong to no node), each given a slot in `intermediates`, by name.
std::map<std::string, Slot> MilOnlyVars(
    const LoweredProgram& lowered, std::map<int, std::vector<MilIntermediate>>* intermediates) {
  std::set<mil::VarId> bound;
  for (const SourceMapEntry& e : lowered.source_map) bound.insert(e.var);
  std::map<std::string, Slot> slots;
  const std::vector<mil::Operation>& ops = lowered.main.ops();
  for (size_t k = 0; k < ops.size() && k < lowered.op_origin.size(); ++k) {
    const int node = lowered.op_origin[k];
    if (node < 0 || ops[k].type == "const") continue;
    for (mil::VarId out : ops[k].outputs) {
      const mil::Var& var = lowered.main.var(out);
      if (bound.count(out) != 0 || !mil::IsFloat(var.type.dtype)) continue;
      std::vector<MilIntermediate>& list = (*intermediates)[node];
      slots[var.name] = Slot{node, list.size()};
      list.push_back(MilIntermediate{ops[k].type, var.name, {}});
    }
  }
  return slots;
}

/// Runs `program` on the inputs of `run` and folds each slotted var's range in.
absl::Status MeasureRun(const interp::Interpreter& program, const ReferenceRun& run,
                        const std::map<std::string, Slot>& slots,
                        std::map<int, std::vector<MilIntermediate>>* intermediates) {
  std::map<std::string, at::Tensor> inputs;
  for (size_t i = 0; i < program.inputs().size() && i < run.inputs.size(); ++i) {
    inputs[program.inputs()[i].name] = run.inputs[i];
  }
  interp::RunOptions options;
  options.keep_intermediates = true;
  absl::StatusOr<interp::RunResult> result = program.Run(inputs, options);
  if (!result.ok()) return result.status();
  for (const auto& [name, slot] : slots) {
    auto v = result->values.find(name);
    if (v == result->values.end() || !interp::IsFloatType(v->second.dtype)) continue;
    AddRange(v->second.tensor, &(*intermediates)[slot.node][slot.index].range);
  }
  return absl::OkStatus();
}

/// Drops the vars no run measured (the branch of a cond never taken).
void DropUnmeasured(std::map<int, std::vector<MilIntermediate>>* intermediates) {
  for (auto it = intermediates->begin(); it != intermediates->end();) {
    std::vector<MilIntermediate>& list = it->second;
    list.erase(std::remove_if(list.begin(), list.end(),
                              [](const MilIntermediate& m) { return m.range.elements == 0; }),
               list.end());
    it = list.empty() ? intermediates->erase(it) : std::next(it);
  }
}

/// Records what was measured, in `runs` interpreter runs since `start`, into `calibration`.
absl::Status Done(std::chrono::steady_clock::time_point start, int runs,
                  std::map<int, std::vector<MilIntermediate>> intermediates,
                  Calibration* calibration) {
  calibration->intermediates = std::move(intermediates);
  calibration->mil_lowered = true;
  calibration->mil_runs = runs;
  calibration->mil_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return absl::OkStatus();
}

}  // namespace

absl::Status MeasureMilIntermediates(Graph& graph, const Analysis& analysis,
                                     const PrecisionOptions& precision,
                                     const std::vector<ReferenceRun>& runs,
                                     Calibration* calibration) {
  const auto start = std::chrono::steady_clock::now();
  auto failed = [](const absl::Status& s) {
    return Error(ClassOf(s),
                 absl::StrCat("calibration: the fp32 program in the interpreter: ", s.message()));
  };
  absl::StatusOr<PrecisionPlan> plan = Fp32Plan(graph, analysis, precision);
  if (!plan.ok()) return failed(plan.status());
  std::map<int, std::vector<MilIntermediate>> intermediates;
  std::map<std::string, Slot> slots;
  std::optional<interp::Interpreter> program;
  ScratchDir scratch;
  {  // the lowered program is dropped once loaded: the interpreter holds its own weights
    absl::StatusOr<LoweredProgram> lowered = LowerGraph(graph, analysis, *plan);
    if (!lowered.ok()) return failed(lowered.status());
    slots = MilOnlyVars(*lowered, &intermediates);
    if (slots.empty()) return Done(start, 0, {}, calibration);  // every lowering is one op
    absl::StatusOr<interp::Interpreter> loaded =
        LoadInInterpreter(*lowered, plan->options, scratch);
    if (!loaded.ok()) return failed(loaded.status());
    program.emplace(*std::move(loaded));
  }
  for (const ReferenceRun& run : runs) {
    if (absl::Status s = MeasureRun(*program, run, slots, &intermediates); !s.ok()) {
      return failed(s);
    }
  }
  DropUnmeasured(&intermediates);
  return Done(start, static_cast<int>(runs.size()), std::move(intermediates), calibration);
}

}  // namespace ts2coreml::core
