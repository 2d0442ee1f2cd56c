#include "core/convert/calibrate.h"

#include <ATen/CPUGeneratorImpl.h>
#include <torch/script.h>

#include <algorithm>
#include <cmath>
#include <iterator>
#include <limits>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "core/base/errors.h"
#include "core/convert/limit_statistics.h"
#include "core/interp/npy.h"
#include "core/mil/fp16.h"

namespace ts2coreml::core {
namespace {

/// The run-time float tensors lowered nodes read or make, resolved, list elements included.
std::set<ValueId> MeasuredValues(const Graph& g, const Analysis& analysis) {
  std::set<ValueId> out;
  auto add = [&](ValueId id) {
    const ValueId r = g.Resolve(id);
    const Value& v = g.value(r);
    if (v.kind == ValueKind::kTensorList) {
      for (ValueId e : v.elements) {
        const Value& ev = g.value(g.Resolve(e));
        if (!ev.is_const && ev.type_class == TypeClass::kFloat) out.insert(g.Resolve(e));
      }
    } else if (v.kind == ValueKind::kTensor && !v.is_const && v.type_class == TypeClass::kFloat) {
      out.insert(r);
    }
  };
  for (size_t i = 0; i < g.nodes().size(); ++i) {
    if (analysis.nodes[i].decision != NodeDecision::kLowered) continue;
    for (ValueId in : g.nodes()[i].inputs) add(in);
    for (ValueId o : g.nodes()[i].outputs) add(o);
  }
  return out;
}

/// One run's inputs by position (the graph's inputs), random from `gen` unless given in `files`:
/// as verify makes them (normal floats, integers in [0, high) or [0, 10), fair bools; values an
/// fp16 input feature cannot hold rounded).
absl::StatusOr<std::vector<at::Tensor>> RunInputs(const Graph& g,
                                                  const std::map<ValueId, IntegerUse>& uses,
                                                  const std::map<std::string, at::Tensor>& files,
                                                  const PrecisionOptions& precision,
                                                  at::Generator& gen) {
  std::vector<at::Tensor> inputs;
  for (ValueId id : g.inputs()) {
    const Value& v = g.value(id);
    at::Tensor t;
    auto use = uses.find(id);
    const int64_t high = use != uses.end() && use->second.high > 0 ? use->second.high : 10;
    if (auto f = files.find(v.name); f != files.end()) {
      t = f->second;
      if (t.sizes().vec() != v.shape) {
        return Error(
            ErrorClass::kInputSpec,
            absl::StrCat("--calibration-data ", v.name, ": the array has shape ",
                         c10::str(t.sizes()), ", the input ", c10::str(c10::IntArrayRef(v.shape))));
      }
    } else if (v.input_dtype == InputDtype::kUint8) {  // image bytes: the whole range
      t = at::randint(0, 256, v.shape, gen, at::kByte);
    } else if (v.input_dtype == InputDtype::kInt64 || v.input_dtype == InputDtype::kInt32) {
      t = at::randint(0, high, v.shape, gen,
                      v.input_dtype == InputDtype::kInt64 ? at::kLong : at::kInt);
    } else if (v.input_dtype == InputDtype::kBool) {
      t = at::randint(0, 2, v.shape, gen, at::kInt).to(at::kBool);
    } else {
      t = at::randn(v.shape, gen, at::kFloat);
    }
    if (InputFeatureDtype(v, precision) == mil::DType::kFloat16) {
      t = t.to(at::kHalf).to(at::kFloat);
    }
    inputs.push_back(t);
  }
  return inputs;
}

/// The --calibration-data arrays by input name, as float tensors (integers exact).
absl::StatusOr<std::map<std::string, at::Tensor>> ReadFiles(const Graph& g,
                                                            const CalibrationRequest& request) {
  std::map<std::string, at::Tensor> out;
  for (const auto& [name, path] : request.files) {
    const bool known = std::any_of(g.inputs().begin(), g.inputs().end(),
                                   [&](ValueId id) { return g.value(id).name == name; });
    if (!known) {
      return Error(ErrorClass::kInputSpec, absl::StrCat("--calibration-data ", name,
                                                        ": the model has no input of that name"));
    }
    absl::StatusOr<interp::NpyArray> a = interp::ReadNpy(path);
    if (!a.ok()) {
      return Error(ErrorClass::kInputSpec,
                   absl::StrCat("--calibration-data ", name, ": ", a.status().message()));
    }
    at::Tensor t = at::tensor(a->values, at::kFloat).reshape(a->shape);
    if (interp::IsIntegerNpy(a->dtype)) t = at::tensor(a->ints, at::kLong).reshape(a->shape);
    out[name] = t;
  }
  return out;
}

}  // namespace

void AddRange(const at::Tensor& t, ValueRange* r) {
  const at::Tensor a = t.detach().to(at::kFloat).abs();
  if (a.numel() == 0) return;
  r->max_abs = std::max(r->max_abs, a.max().item<double>());
  const at::Tensor nonzero = a > 0;
  r->below_normal += (nonzero & (a < mil::kFp16MinNormal)).sum().item<int64_t>();
  r->below_subnormal += (nonzero & (a < std::ldexp(1.0, -24))).sum().item<int64_t>();
  r->elements += a.numel();
}

namespace {

/// The tensor limit `limit` of node `n` is measured on (`x`, reshaped to [N, G, rest] for
/// channel groups) and the axes it reduces over; none when they cannot be read (then the limit
/// is not measured).
std::optional<std::pair<at::Tensor, std::vector<int64_t>>> LimitGroups(
    const Graph& g, const Node& n, const registry::Fp16Limit& limit, const at::Tensor& x) {
  const int64_t rank = x.dim();
  std::vector<int64_t> axes;
  if (limit.axes == T2C_FP16_AXES_ALL || limit.axes == T2C_FP16_AXES_SPATIAL) {
    for (int64_t d = limit.axes == T2C_FP16_AXES_ALL ? 0 : 2; d < rank; ++d) axes.push_back(d);
    if (limit.axes == T2C_FP16_AXES_SPATIAL && axes.empty()) return std::nullopt;
    return std::make_pair(x, axes);
  }
  // An optional dims input the node leaves out (norm.Scalar's) is None: every axis.
  if (limit.axes_input >= n.inputs.size() && limit.axes != T2C_FP16_AXES_DIMS) return std::nullopt;
  std::vector<int64_t> listed;
  if (limit.axes_input < n.inputs.size()) {
    const Value& h = g.value(g.Resolve(n.inputs[limit.axes_input]));
    if (h.kind == ValueKind::kInt) {
      listed = {h.i};
    } else if (h.kind == ValueKind::kIntList) {
      listed = h.ints;
    } else if (h.kind != ValueKind::kNone) {
      return std::nullopt;
    }
  }
  if (limit.axes == T2C_FP16_AXES_CHANNEL_GROUPS) {
    if (listed.size() != 1 || rank < 2 || listed[0] <= 0 || x.size(1) % listed[0] != 0) {
      return std::nullopt;
    }
    return std::make_pair(x.reshape({x.size(0), listed[0], -1}), std::vector<int64_t>{2});
  }
  if (limit.axes == T2C_FP16_AXES_TRAILING) {
    if (static_cast<int64_t>(listed.size()) > rank) return std::nullopt;
    for (int64_t d = rank - static_cast<int64_t>(listed.size()); d < rank; ++d) axes.push_back(d);
    return std::make_pair(x, axes);
  }
  if (listed.empty()) {
    for (int64_t d = 0; d < rank; ++d) axes.push_back(d);
  }
  for (int64_t d : listed) {
    const int64_t a = d < 0 ? d + rank : d;
    if (a < 0 || a >= rank) return std::nullopt;
    axes.push_back(a);
  }
  return std::make_pair(x, axes);
}

/// The parameter of `limit` at node `n` (POWER_SUM's order p: a number, None or 'fro': 2); none
/// when its host input holds something else (then the limit is not measured).
std::optional<double> LimitParameter(const Graph& g, const Node& n,
                                     const registry::Fp16Limit& limit) {
  if (limit.statistic != T2C_FP16_STAT_POWER_SUM) return 0.0;
  if (limit.param_input >= n.inputs.size()) return 2.0;
  const Value& h = g.value(g.Resolve(n.inputs[limit.param_input]));
  if (h.kind == ValueKind::kNone || (h.kind == ValueKind::kString && h.s == "fro")) return 2.0;
  if (h.kind == ValueKind::kInt) return static_cast<double>(h.i);
  if (h.kind == ValueKind::kFloat) return h.f;
  return std::nullopt;
}

/// Folds one run's tensors (by value) into `c`: ranges, and each declared limit's statistic.
void MeasureRun(const Graph& g, const Analysis& analysis,
                const std::map<ValueId, at::Tensor>& tensors, Calibration* c) {
  for (const auto& [id, t] : tensors) {
    if (t.is_floating_point()) AddRange(t, &c->values[id]);
  }
  for (size_t i = 0; i < g.nodes().size(); ++i) {
    const NodeAnalysis& na = analysis.nodes[i];
    if (na.decision != NodeDecision::kLowered || !na.lowering || na.lowering->fp16_limits.empty()) {
      continue;
    }
    const Node& n = g.nodes()[i];
    std::vector<double>& measured = c->limits[static_cast<int>(i)];
    measured.resize(na.lowering->fp16_limits.size(), -std::numeric_limits<double>::infinity());
    for (size_t k = 0; k < na.lowering->fp16_limits.size(); ++k) {
      const registry::Fp16Limit& limit = na.lowering->fp16_limits[k];
      auto t = limit.input < n.inputs.size() ? tensors.find(g.Resolve(n.inputs[limit.input]))
                                             : tensors.end();
      std::optional<std::pair<at::Tensor, std::vector<int64_t>>> groups;
      if (t != tensors.end()) groups = LimitGroups(g, n, limit, t->second);
      const std::optional<double> p = LimitParameter(g, n, limit);
      const double stat = groups && p
                              ? LimitStatistic(limit.statistic, groups->first, groups->second, *p)
                              : std::numeric_limits<double>::quiet_NaN();
      if (!std::isnan(measured[k]))
        measured[k] = std::isnan(stat) ? stat : std::max(measured[k], stat);
    }
  }
}

/// Canonicalization removed the `contiguous` calls (identities in the converted program), so a
/// `view` of a transposed tensor that LibTorch would refuse is run as the `reshape` it equals.
void ViewsAsReshapes(torch::jit::Graph& graph) {
  std::vector<torch::jit::Node*> views;
  for (torch::jit::Node* n : graph.nodes()) {
    if (n->kind() == c10::aten::view && n->inputs().size() == 2 &&
        n->input(1)->type()->kind() == c10::TypeKind::ListType) {
      views.push_back(n);
    }
  }
  for (torch::jit::Node* n : views) {
    torch::jit::WithInsertPoint before(n);
    torch::jit::Value* r = graph.insert(c10::aten::reshape, {n->input(0), n->input(1)});
    n->output()->replaceAllUsesWith(r);
    n->destroy();
  }
}

/// Makes `canonical`'s forward graph return, after its own outputs, a clone of each value of
/// `wanted` it produces (taken right where it is produced, before any in-place op changes it).
/// Returns the value each returned extra stands for; graph inputs are not returned.
std::vector<ValueId> Instrument(CanonicalModel& canonical, const Graph& g,
                                const std::set<ValueId>& wanted) {
  std::map<std::string, ValueId> by_name;
  for (ValueId id : wanted) by_name[g.value(id).name] = id;
  const std::shared_ptr<torch::jit::Graph>& graph = canonical.graph;
  std::vector<torch::jit::Value*> returned(graph->outputs().begin(), graph->outputs().end());
  std::vector<ValueId> ids;
  std::vector<torch::jit::Node*> nodes(graph->nodes().begin(), graph->nodes().end());
  for (torch::jit::Node* n : nodes) {
    for (torch::jit::Value* v : n->outputs()) {
      auto it = by_name.find(v->debugName());
      if (it == by_name.end() || v->type()->kind() != c10::TypeKind::TensorType) continue;
      torch::jit::WithInsertPoint after(n->next());
      returned.push_back(graph->insert(c10::aten::clone, {v}));
      ids.push_back(it->second);
    }
  }
  torch::jit::Node* tuple = graph->insertNode(graph->createTuple(returned));
  while (!graph->outputs().empty()) graph->eraseOutput(0);
  graph->registerOutput(tuple->output());
  ViewsAsReshapes(*graph);
  return ids;
}

/// The last non-empty line of a LibTorch error (TorchScript's own, after its traceback).
std::string LastLine(const std::string& what) {
  std::vector<std::string> lines;
  size_t start = 0;
  for (size_t end = what.find('\n'); start < what.size();
       start = end + 1, end = what.find('\n', start)) {
    if (end == std::string::npos) end = what.size();
    std::string line = what.substr(start, end - start);
    if (line.find_first_not_of(" \t") != std::string::npos) lines.push_back(line);
  }
  return lines.empty() ? what : lines.back();
}

/// Runs the instrumented `fn` on `inputs`: the model's outputs flattened into `outputs`, and the
/// instrumented values (`ids`) into `tensors` with the inputs.
absl::Status RunOnce(torch::jit::GraphFunction& fn, const CanonicalModel& canonical,
                     const Graph& graph, const std::vector<ValueId>& ids, size_t base_outputs,
                     const std::vector<at::Tensor>& inputs, std::vector<at::Tensor>* outputs,
                     std::map<ValueId, at::Tensor>* tensors) {
  torch::jit::Stack stack;
  stack.emplace_back(canonical.frozen._ivalue());
  for (const at::Tensor& t : inputs) stack.emplace_back(t);
  try {
    c10::InferenceMode guard;
    fn.run(stack);
  } catch (const std::exception& e) {
    return Error(ErrorClass::kModel, absl::StrCat("calibration: LibTorch failed to run the model: ",
                                                  LastLine(e.what())));
  }
  const auto& elements = stack.at(0).toTupleRef().elements();
  std::vector<c10::IValue> pending(elements.begin(), elements.begin() + base_outputs);
  for (size_t k = 0; k < pending.size(); ++k) {
    const c10::IValue& v = pending[k];
    if (v.isTensor()) {
      outputs->push_back(v.toTensor());
    } else if (v.isTuple() || v.isList()) {
      const std::vector<c10::IValue> items =
          v.isTuple() ? v.toTupleRef().elements().vec() : v.toList().vec();
      pending.insert(pending.begin() + static_cast<std::ptrdiff_t>(k) + 1, items.begin(),
                     items.end());
    } else if (v.isGenericDict()) {
      std::vector<c10::IValue> items;
      for (const auto& kv : v.toGenericDict()) items.push_back(kv.value());
      pending.insert(pending.begin() + static_cast<std::ptrdiff_t>(k) + 1, items.begin(),
                     items.end());
    }
  }
  for (size_t i = 0; i < graph.inputs().size(); ++i) (*tensors)[graph.inputs()[i]] = inputs[i];
  for (size_t k = 0; k < ids.size() && base_outputs + k < elements.size(); ++k) {
    if (elements[base_outputs + k].isTensor()) {
      (*tensors)[ids[k]] = elements[base_outputs + k].toTensor();
    }
  }
  return absl::OkStatus();
}

/// The names of the values `block`'s nodes make, its sub-blocks' included.
void OutputNames(const torch::jit::Block* block, std::set<std::string>* names) {
  for (const torch::jit::Node* n : block->nodes()) {
    for (const torch::jit::Value* v : n->outputs()) names->insert(v->debugName());
    for (const torch::jit::Block* b : n->blocks()) OutputNames(b, names);
  }
}

}  // namespace

absl::StatusOr<CanonicalModel> CanonicalizeReference(const Fp32Reference& reference,
                                                     const CanonicalizeOptions& options,
                                                     const CanonicalModel& converted) {
  absl::StatusOr<CanonicalModel> canonical = Canonicalize(reference.module, options);
  if (!canonical.ok()) {
    return Error(ErrorClass::kModel, absl::StrCat("the FP32 reference (", reference.Describe(),
                                                  "): ", canonical.status().message()));
  }
  std::set<std::string> want, have;
  OutputNames(converted.graph->block(), &want);
  OutputNames(canonical->graph->block(), &have);
  std::vector<std::string> missing;
  std::set_difference(want.begin(), want.end(), have.begin(), have.end(),
                      std::back_inserter(missing));
  if (!missing.empty()) {
    return Error(ErrorClass::kInternal,
                 absl::StrCat("calibration: the canonical graph of the FP32 reference (",
                              reference.Describe(), ") lacks ", missing.size(),
                              " values of the model's (first: %", missing.front(),
                              "); calibrate an FP32 copy of the model (model.float()) instead"));
  }
  return canonical;
}

absl::StatusOr<Calibration> Calibrate(CanonicalModel& canonical, const Graph& graph,
                                      const Analysis& analysis,
                                      const std::map<ValueId, IntegerUse>& integer_uses,
                                      const CalibrationRequest& request,
                                      const PrecisionOptions& precision,
                                      ReferenceRuns* references) {
  absl::StatusOr<std::map<std::string, at::Tensor>> files = ReadFiles(graph, request);
  if (!files.ok()) return files.status();
  const size_t base_outputs = canonical.graph->outputs().size();
  const std::vector<ValueId> ids = Instrument(canonical, graph, MeasuredValues(graph, analysis));
  torch::jit::GraphFunction fn("calibrate", canonical.graph, nullptr);
  Calibration c;
  c.runs = request.random_runs + (files->empty() ? 0 : 1);
  c.source = absl::StrCat(request.random_runs, " random input", request.random_runs == 1 ? "" : "s",
                          " from seed ", request.seed,
                          files->empty() ? "" : " and the --calibration-data inputs");
  const int holdout = references != nullptr ? request.holdout_runs : 0;
  for (int r = 0; r < c.runs + holdout; ++r) {
    const bool held = r >= c.runs;
    const bool from_files = !held && r == request.random_runs;
    const uint64_t seed = held ? request.holdout_seed + static_cast<uint64_t>(r - c.runs)
                               : request.seed + static_cast<uint64_t>(r);
    at::Generator gen = at::detail::createCPUGenerator(seed);
    absl::StatusOr<std::vector<at::Tensor>> inputs =
        RunInputs(graph, integer_uses, from_files ? *files : std::map<std::string, at::Tensor>{},
                  precision, gen);
    if (!inputs.ok()) return inputs.status();
    ReferenceRun run{*inputs, {}};
    std::map<ValueId, at::Tensor> tensors;
    if (absl::Status s =
            RunOnce(fn, canonical, graph, ids, base_outputs, *inputs, &run.outputs, &tensors);
        !s.ok()) {
      return s;
    }
    if (!held) MeasureRun(graph, analysis, tensors, &c);
    if (references != nullptr && references->keep_values && r == 0 && !held) {
      run.values = std::move(tensors);
    }
    if (references != nullptr) {
      (held ? references->holdout : references->calibration).push_back(std::move(run));
    }
  }
  return c;
}

}  // namespace ts2coreml::core
