#include "core/cli/verify_command.h"

#include <ATen/CPUGeneratorImpl.h>
#include <sys/resource.h>
#include <torch/csrc/jit/api/function_impl.h>
#include <torch/script.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <fstream>
#include <functional>
#include <iostream>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "core/base/errors.h"
#include "core/base/json.h"
#include "core/cli/cli_common.h"
#include "core/cli/command_usage.h"
#include "core/cli/torch_library.h"
#include "core/cli/verify_steps.h"
#include "core/convert/converter.h"
#include "core/interp/interpreter.h"
#include "core/interp/npy.h"
#include "core/mil/program.h"
#include "core/torch/canonicalize.h"
#include "core/torch/control_flow.h"
#include "core/torch/fp32_reference.h"
#include "core/torch/torchscript_loader.h"

namespace ts2coreml::core {
namespace {

namespace fs = std::filesystem;
namespace milspec = ::CoreML::Specification::MILSpec;
using interp::Interpreter;

Tolerance DefaultTolerance(bool fp16) {
  Tolerance t;
  t.min_cosine = fp16 ? 0.999 : 0.99999;
  t.max_rel_error = fp16 ? 3e-2 : 1e-3;
  return t;
}

absl::Status Usage(const std::string& message) { return Error(ErrorClass::kUsage, message); }

/// Consumes the value of option args[*i] into `out`.
absl::Status OptionValue(const std::vector<std::string>& args, size_t* i, std::string* out) {
  if (*i + 1 >= args.size()) return Usage(absl::StrCat(args[*i], " needs a value"));
  *out = args[++*i];
  return absl::OkStatus();
}

/// Consumes the number value of option args[*i], which must lie in `range`, into `out`.
absl::Status OptionNumber(const std::vector<std::string>& args, size_t* i, const NumberRange& range,
                          std::optional<double>* out) {
  const std::string& a = args[*i];
  std::string s;
  if (absl::Status st = OptionValue(args, i, &s); !st.ok()) return st;
  absl::StatusOr<double> d = ParseNumberFlag(a, s, range);
  if (!d.ok()) return d.status();
  *out = *d;
  return absl::OkStatus();
}

constexpr double kMaxFinite = std::numeric_limits<double>::max();
constexpr NumberRange kErrorRange{0, kMaxFinite, false, "a finite error >= 0, e.g. 0.05"};
constexpr NumberRange kShareRange{0, 1, false, "a share in [0, 1], e.g. 0.99"};

/// Consumes `--input NAME=FILE.npy` (or `--reference ...`) at args[*i] into `files`.
absl::Status OptionNamedFile(const std::vector<std::string>& args, size_t* i,
                             std::map<std::string, fs::path>* files) {
  const std::string flag = args[*i];
  std::string s;
  if (absl::Status st = OptionValue(args, i, &s); !st.ok()) return st;
  const size_t eq = s.find('=');
  if (eq == std::string::npos || eq == 0 || eq + 1 == s.size()) {
    return Usage(absl::StrCat(flag, ": '", s, "' is not NAME=FILE.npy"));
  }
  if (!files->emplace(s.substr(0, eq), s.substr(eq + 1)).second) {
    return Usage(absl::StrCat(flag, " ", s.substr(0, eq), " is given twice; give each name once"));
  }
  return absl::OkStatus();
}

/// If args[*i] is one of verify's own options, consumes it (and its value) into `v` and returns
/// true; a bad value sets `*error`.
bool ParseVerifyOption(const std::vector<std::string>& args, size_t* i, VerifyArgs* v,
                       absl::Status* error) {
  const std::string& a = args[*i];
  std::string s;
  if (a == "--runs") {
    if (*error = OptionValue(args, i, &s);
        error->ok() && (!absl::SimpleAtoi(s, &v->runs) || v->runs < 1)) {
      *error = Usage(absl::StrCat("--runs: '", s, "' is not a positive integer"));
    }
  } else if (a == "--seed") {
    if (*error = OptionValue(args, i, &s); error->ok() && !absl::SimpleAtoi(s, &v->seed)) {
      *error = Usage(absl::StrCat("--seed: '", s, "' is not a non-negative integer"));
    }
  } else if (a == "--input") {
    *error = OptionNamedFile(args, i, &v->input_files);
  } else if (a == "--reference") {
    *error = OptionNamedFile(args, i, &v->reference_files);
  } else if (a == "--torch-library") {
    if (*error = OptionValue(args, i, &s); error->ok()) v->torch_libraries.push_back(s);
  } else if (a == "--json") {
    v->json = true;
  } else if (a == "--localize") {
    v->localize = true;
  } else if (a == "--time") {
    v->time = true;
  } else if (a == "--min-cosine") {
    *error = OptionNumber(args, i, kCosineRange, &v->min_cosine);
  } else if (a == "--max-rel-error") {
    *error = OptionNumber(args, i, kErrorRange, &v->max_rel_error);
  } else if (a == "--max-abs-error") {
    *error = OptionNumber(args, i, kErrorRange, &v->max_abs_error);
  } else if (a == "--min-top1") {
    *error = OptionNumber(args, i, kShareRange, &v->min_top1);
  } else {
    return false;
  }
  return true;
}

/// Flattens a TorchScript result into named tensors (dict entries keep their keys).
absl::Status FlattenOutputs(const c10::IValue& v,
                            std::vector<std::pair<std::string, at::Tensor>>* out) {
  if (v.isTensor()) {
    out->emplace_back("", v.toTensor());
  } else if (v.isTuple()) {
    for (const c10::IValue& e : v.toTupleRef().elements()) {
      if (absl::Status s = FlattenOutputs(e, out); !s.ok()) return s;
    }
  } else if (v.isList()) {
    for (const c10::IValue& e : v.toListRef()) {
      if (absl::Status s = FlattenOutputs(e, out); !s.ok()) return s;
    }
  } else if (v.isGenericDict()) {
    for (const auto& kv : v.toGenericDict()) {
      if (!kv.value().isTensor()) {
        return Error(ErrorClass::kModel, "a dict output holds something other than tensors");
      }
      out->emplace_back(kv.key().isString() ? kv.key().toStringRef() : std::string(),
                        kv.value().toTensor());
    }
  } else {
    return Error(ErrorClass::kModel,
                 absl::StrCat("the model returns a ", v.tagKind(), ", not tensors"));
  }
  return absl::OkStatus();
}

/// The model's outputs in the package's output order: by dict key when every package output
/// is a (sanitized) key, else by position.
absl::StatusOr<std::vector<at::Tensor>> MatchOutputs(
    const std::vector<std::pair<std::string, at::Tensor>>& flat,
    const std::vector<interp::Feature>& outputs) {
  if (flat.size() != outputs.size()) {
    return Error(ErrorClass::kCheckFailed,
                 absl::StrCat("the model returns ", flat.size(), " tensors, the package has ",
                              outputs.size(), " outputs"));
  }
  std::map<std::string, at::Tensor> by_key;
  for (const auto& [k, t] : flat) {
    if (!k.empty()) by_key[mil::SanitizeName(k)] = t;
  }
  std::vector<at::Tensor> out;
  for (size_t i = 0; i < outputs.size(); ++i) {
    auto it = by_key.find(outputs[i].name);
    out.push_back(by_key.size() == flat.size() && it != by_key.end() ? it->second : flat[i].second);
  }
  return out;
}

std::string ShapeString(const interp::Feature& f) {
  return absl::StrCat(interp::DataTypeName(f.dtype), "[", absl::StrJoin(f.shape, ","), "]");
}

/// A node's kind as the source map records it: "aten::add_.Tensor" (kind and overload name).
std::string QualifiedKindOf(const torch::jit::Node* n) {
  std::string kind = n->kind().toQualString();
  if (const c10::FunctionSchema* schema = n->maybeSchema();
      schema != nullptr && !schema->overload_name().empty()) {
    absl::StrAppend(&kind, ".", schema->overload_name());
  }
  return kind;
}

/// A TorchScript value the package's source map ties to a program var.
struct Mapped {
  std::string var;
  const json::Value* entry;
  torch::jit::Value* value;
};

/// LibTorch's value of each mapped var, with its source map entry.
using References = std::map<std::string, std::pair<at::Tensor, const json::Value*>>;

/// Calls `fn` on each node of `block` and of the blocks nested in it, in program order.
void ForEachNode(torch::jit::Block* block, const std::function<void(torch::jit::Node*)>& fn) {
  for (torch::jit::Node* n : block->nodes()) {
    for (torch::jit::Block* b : n->blocks()) ForEachNode(b, fn);
    fn(n);
  }
}

/// Within the body of `loop`: `v` on the loop's first trip, carried to the loop's end (a new
/// carried value, an empty tensor until the first trip sets it).
torch::jit::Value* FirstTripValue(torch::jit::Graph& graph, torch::jit::Node* loop,
                                  torch::jit::Value* v, torch::jit::Value* empty) {
  torch::jit::Block* body = loop->blocks()[0];
  loop->addInput(empty);
  torch::jit::Value* kept = body->addInput()->setType(c10::TensorType::get());
  torch::jit::WithInsertPoint end(body->return_node());
  torch::jit::Value* first =
      graph.insert(c10::aten::eq, {body->inputs()[0], graph.insertConstant(int64_t{0})});
  torch::jit::Node* pick = graph.insertNode(graph.create(c10::prim::If, {first}, 1));
  pick->addBlock()->registerOutput(v);
  pick->addBlock()->registerOutput(kept);
  pick->output()->setType(c10::TensorType::get());
  return pick->output();
}

/// Tensor `v`, produced inside a block, made a value of the graph's own block, with the values
/// the package's interpreter keeps: an extra result of each prim::If around it (the branch not
/// holding it yields an empty tensor) and an extra carried value of each prim::Loop around it,
/// holding its value of the first trip (the empty tensor when no trip runs).
torch::jit::Value* ExitBlocks(torch::jit::Graph& graph, torch::jit::Value* v) {
  for (torch::jit::Block* block = v->node()->owningBlock(); block != graph.block();
       block = block->owningNode()->owningBlock()) {
    torch::jit::Node* owner = block->owningNode();
    torch::jit::Value* empty = nullptr;
    {
      torch::jit::WithInsertPoint before(owner);
      empty = graph.insertConstant(at::empty({0}));
    }
    if (owner->kind() == c10::prim::Loop) {
      block->registerOutput(FirstTripValue(graph, owner, v, empty));
    } else {
      for (torch::jit::Block* b : owner->blocks()) b->registerOutput(b == block ? v : empty);
    }
    v = owner->addOutput()->setType(c10::TensorType::get());
  }
  return v;
}

/// The tensor values of `graph` the source map `map` names (by debugName()), each of the op the
/// map records. When some name denotes another op here than in the package (the values compared
/// would be unrelated tensors), `*mismatch` says so and nothing is returned.
std::vector<Mapped> MapSourceValues(torch::jit::Graph& graph, const json::Value& map,
                                    std::string* mismatch) {
  std::map<std::string, torch::jit::Value*> by_name;
  ForEachNode(graph.block(), [&](torch::jit::Node* n) {
    for (torch::jit::Value* v : n->outputs()) by_name[v->debugName()] = v;
  });
  std::vector<Mapped> mapped;
  int mismatched = 0;
  std::string example;
  for (const auto& [var, entry] : map.object) {
    const json::Value* value = entry.Find("value");
    if (value == nullptr) continue;
    auto v = by_name.find(value->string);
    if (v == by_name.end() || v->second->type()->kind() != c10::TypeKind::TensorType) continue;
    const json::Value* op = entry.Find("op");
    const std::string kind = QualifiedKindOf(v->second->node());
    if (op != nullptr && op->string != kind) {
      if (mismatched++ == 0) {
        example = absl::StrCat("%", value->string, " is ", kind, " here, ", op->string,
                               " in the package");
      }
      continue;
    }
    mapped.push_back({var, &entry, v->second});
  }
  if (mismatched == 0) return mapped;
  *mismatch =
      absl::StrCat("the model's canonical graph does not match the package's source map (",
                   mismatched, " values differ; ", example,
                   "); convert the package from this model with the same plugins to localize");
  return {};
}

/// Runs the canonical graph on `inputs` returning every mapped value too, and gives LibTorch's
/// value of each mapped var.
absl::StatusOr<References> RunInstrumented(const CanonicalModel& canonical,
                                           const std::vector<Mapped>& mapped,
                                           const std::map<std::string, at::Tensor>& inputs) {
  // A method returns one value: the original outputs and every mapped value, as one tuple. Each
  // mapped value is cloned right where it is produced: later in-place ops (relu_, hardtanh_)
  // would otherwise change the tensor returned.
  const std::shared_ptr<torch::jit::Graph>& graph = canonical.graph;
  const size_t base_outputs = graph->outputs().size();
  std::vector<torch::jit::Value*> returned(graph->outputs().begin(), graph->outputs().end());
  for (const Mapped& m : mapped) {
    torch::jit::Value* clone = nullptr;
    {
      torch::jit::WithInsertPoint after(m.value->node()->next());
      clone = graph->insert(c10::aten::clone, {m.value});
    }
    returned.push_back(ExitBlocks(*graph, clone));
  }
  torch::jit::Node* tuple = graph->insertNode(graph->createTuple(returned));
  while (!graph->outputs().empty()) graph->eraseOutput(0);
  graph->registerOutput(tuple->output());
  torch::jit::GraphFunction fn("localize", graph, nullptr);
  torch::jit::Stack stack;
  stack.emplace_back(canonical.frozen._ivalue());
  for (const std::string& name : canonical.input_names) stack.emplace_back(inputs.at(name));
  fn.run(stack);
  if (stack.size() != 1 || !stack[0].isTuple() ||
      stack[0].toTupleRef().elements().size() != base_outputs + mapped.size()) {
    return Error(ErrorClass::kInternal,
                 "the instrumented TorchScript graph returned too few values");
  }
  const auto& elements = stack[0].toTupleRef().elements();
  References reference;
  for (size_t i = 0; i < mapped.size(); ++i) {
    const c10::IValue& v = elements[base_outputs + i];
    if (v.isTensor()) reference[mapped[i].var] = {v.toTensor(), mapped[i].entry};
  }
  return reference;
}

/// The largest error carried to `op` by the values it reads.
double InputError(const milspec::Operation& op, const std::map<std::string, double>& inherited) {
  double in_err = 0;
  for (const auto& [arg_name, arg] : op.inputs()) {
    for (const auto& b : arg.arguments()) {
      if (b.has_value()) continue;
      auto e = inherited.find(b.name());
      if (e != inherited.end()) in_err = std::max(in_err, e->second);
    }
  }
  return in_err;
}

/// Var `var` of op `op` compared with LibTorch's `ref` (recorded under source map `entry`).
LocalValue CompareValue(const milspec::Operation& op, const std::string& var, const at::Tensor& ref,
                        const json::Value& entry, const at::Tensor& got, double in_err) {
  auto field = [&](const char* k) {
    const json::Value* f = entry.Find(k);
    return f ? f->string : std::string();
  };
  LocalValue lv;
  lv.var = var;
  lv.op_type = op.type();
  lv.ts_value = field("value");
  lv.ts_op = field("op");
  lv.source = field("source");
  lv.error = RelativeToPeak(ref, got);
  lv.input_error = in_err;
  lv.underflow = MeasureFp16Underflow(ref);
  return lv;
}

/// Whether var `name` has a run-time value and a LibTorch reference of the same size.
bool Comparable(const std::string& name, const interp::RunResult& run,
                const References& reference) {
  auto ref = reference.find(name);
  auto got = run.values.find(name);
  return ref != reference.end() && got != run.values.end() && !got->second.is_string() &&
         ref->second.first.numel() == got->second.tensor.numel();
}

/// The errors carried into the blocks of control-flow op `op`: a while_loop's blocks are
/// compared on the first trip, whose inputs are the loop vars' initial values.
void EnterBlocks(const milspec::Operation& op, std::map<std::string, double>& inherited) {
  auto vars = op.inputs().find("loop_vars");
  if (vars == op.inputs().end()) return;
  for (const milspec::Block& b : op.blocks()) {
    for (int k = 0; k < b.inputs_size() && k < vars->second.arguments_size(); ++k) {
      auto e = inherited.find(vars->second.arguments(k).name());
      inherited[b.inputs(k).name()] = e == inherited.end() ? 0 : e->second;
    }
  }
}

/// Compares, in program order, every op output of `block` (and of the blocks nested in it: a
/// cond's branch taken, a while_loop's first trip) that has a LibTorch reference, carrying errors
/// through ops without one; records the first whose error jumps.
void CompareBlock(const milspec::Block& block, const interp::RunResult& run,
                  const References& reference, std::map<std::string, double>& inherited,
                  Localization* loc) {
  for (const milspec::Operation& op : block.operations()) {
    if (op.type() == "const") continue;
    const double in_err = InputError(op, inherited);
    EnterBlocks(op, inherited);
    for (const milspec::Block& b : op.blocks()) CompareBlock(b, run, reference, inherited, loc);
    for (const milspec::NamedValueType& out : op.outputs()) {
      inherited[out.name()] = in_err;
      if (!Comparable(out.name(), run, reference)) continue;
      auto ref = reference.find(out.name());
      auto got = run.values.find(out.name());
      const LocalValue lv = CompareValue(op, out.name(), ref->second.first, *ref->second.second,
                                         got->second.tensor, in_err);
      inherited[out.name()] = lv.error;
      ++loc->compared;
      if (!loc->first_jump && ErrorJumps(lv.error, in_err, loc->floor)) {
        loc->first_jump = lv;
      }
      if (loc->fp16 && !loc->first_underflow && lv.underflow.Falls()) loc->first_underflow = lv;
      loc->values.push_back(lv);
    }
  }
}

/// CompareBlock on the program's main block.
void CompareIntermediates(const Interpreter& interp, const interp::RunResult& run,
                          const References& reference, Localization* loc) {
  std::map<std::string, double> inherited;  // var -> error carried to its users
  CompareBlock(interp.block(), run, reference, inherited, loc);
}

/// Folds the static control flow of a scripted model's canonical graph as the converter's
/// importer does for these input types, so its values are the ones the source map names.
void FoldLikeTheConverter(const CanonicalModel& canonical,
                          const std::map<std::string, at::Tensor>& inputs) {
  if (!HasScriptedConstructs(*canonical.graph)) return;
  std::vector<std::optional<StaticInputType>> types;
  for (const std::string& name : canonical.input_names) {
    auto in = inputs.find(name);
    types.push_back(in == inputs.end() ? std::nullopt
                                       : std::optional<StaticInputType>(StaticInputType{
                                             in->second.sizes().vec(), in->second.scalar_type()}));
  }
  FoldStaticControlFlow(canonical.graph, types);
}

/// Compares the intermediate values the package's source map ties to TorchScript values and
/// names the first op whose error jumps (docs/verify.md).
absl::StatusOr<Localization> Localize(const torch::jit::Module& module,
                                      const registry::Registry& reg, const Interpreter& interp,
                                      const std::map<std::string, at::Tensor>& inputs, bool fp16) {
  Localization loc;
  loc.fp16 = fp16;
  loc.floor = fp16 ? kJumpFloorFp16 : kJumpFloorFp32;
  auto it = interp.metadata().find(kSourceMapKey);
  if (it == interp.metadata().end()) {
    loc.note = absl::StrCat("the package has no source map (metadata '", kSourceMapKey,
                            "'); convert it with ts2coreml to localize");
    return loc;
  }
  absl::StatusOr<json::Value> map = json::Parse(it->second);
  if (!map.ok() || map->kind != json::Value::Kind::kObject) {
    return Error(ErrorClass::kPackage, "the package's source map is not a JSON object");
  }
  CanonicalizeOptions options;
  for (const std::string& op : reg.PassthroughOps()) options.passthrough_ops.insert(op);
  // The shapes and dtypes of the inputs the run uses.
  for (const auto& [name, tensor] : inputs) {
    const at::ScalarType t = tensor.scalar_type();
    const InputDtype dtype = t == at::kInt    ? InputDtype::kInt32
                             : t == at::kLong ? InputDtype::kInt64
                             : t == at::kByte ? InputDtype::kUint8
                             : t == at::kBool ? InputDtype::kBool
                                              : InputDtype::kDefault;
    options.inputs.push_back({name, tensor.sizes().vec(), dtype});
  }
  absl::StatusOr<CanonicalModel> canonical = Canonicalize(module, options);
  if (!canonical.ok()) return canonical.status();
  FoldLikeTheConverter(*canonical, inputs);
  // The source map names TorchScript values by debugName(). A value without a name is named by
  // its unique number, which Graph::copy() renumbers: instrument the canonical graph itself (a
  // copy private to this call), whose numbering is the converter's.
  const std::vector<Mapped> mapped = MapSourceValues(*canonical->graph, *map, &loc.note);
  if (!loc.note.empty()) return loc;
  absl::StatusOr<References> reference = RunInstrumented(*canonical, mapped, inputs);
  if (!reference.ok()) return reference.status();
  std::map<std::string, at::Tensor> pkg_inputs;
  for (const interp::Feature& f : interp.inputs()) pkg_inputs[f.name] = inputs.at(f.name);
  interp::RunOptions run_options;
  run_options.keep_intermediates = true;
  absl::StatusOr<interp::RunResult> run = interp.Run(pkg_inputs, run_options);
  if (!run.ok()) return run.status();
  CompareIntermediates(interp, *run, *reference, &loc);
  loc.available = true;
  return loc;
}

/// "97% of its nonzero magnitudes are below fp16's smallest normal (2^-14), 95% below ..."
std::string UnderflowShares(const Fp16Underflow& u) {
  return absl::StrFormat(
      "%.0f%% of its nonzero magnitudes are below fp16's smallest normal (2^-14), %.0f%% below its smallest subnormal (2^-24)",
      100 * u.below_normal, 100 * u.below_subnormal);
}

std::string Describe(const LocalValue& v) {
  return absl::StrCat(v.op_type, " -> '", v.var, "' = %", v.ts_value, " (", v.ts_op, ")",
                      v.source.empty() ? "" : absl::StrCat(" at ", v.source));
}

void PrintLocalization(const Localization& loc) {
  if (!loc.available) {
    std::cout << "localize: unavailable: " << loc.note << "\n";
    return;
  }
  std::cout << absl::StrFormat(
      "localize: %d intermediate values compared (error = max abs error / peak |LibTorch value|; a jump: error > %g x its inputs' and > %g)\n",
      loc.compared, kJumpFactor, loc.floor);
  if (loc.first_jump) {
    const LocalValue& v = *loc.first_jump;
    std::cout << "  first op whose error jumps: " << Describe(v) << "\n"
              << absl::StrFormat("    error %.3g, its inputs' %.3g\n", v.error, v.input_error);
  } else if (!loc.first_underflow) {
    std::cout << "  no single op's error jumps: the error grows over many ops\n";
  }
  if (loc.first_underflow) {
    const LocalValue& v = *loc.first_underflow;
    std::cout
        << "  cause: LibTorch's values fall below fp16's range from " << Describe(v) << " on\n"
        << absl::StrFormat(
               "    %s; keep the ops from there on in fp32 (--keep-fp32) or rescale the model's activations\n",
               UnderflowShares(v.underflow));
  }
  std::vector<const LocalValue*> worst;
  for (const LocalValue& v : loc.values) worst.push_back(&v);
  std::stable_sort(worst.begin(), worst.end(), [](const LocalValue* a, const LocalValue* b) {
    return a->error / std::max(a->input_error, 1e-12) > b->error / std::max(b->input_error, 1e-12);
  });
  std::cout << "  largest error growth:\n";
  for (size_t i = 0; i < worst.size() && i < 5; ++i) {
    std::cout << absl::StrFormat("    %.3g (inputs %.3g)  ", worst[i]->error, worst[i]->input_error)
              << Describe(*worst[i]) << "\n";
  }
}

void JsonLocalValue(json::Writer& w, const LocalValue& v) {
  w.BeginObject()
      .Key("var")
      .String(v.var)
      .Key("op_type")
      .String(v.op_type)
      .Key("torch_value")
      .String(v.ts_value)
      .Key("torch_op")
      .String(v.ts_op)
      .Key("source")
      .String(v.source)
      .Key("error")
      .Double(v.error)
      .Key("input_error")
      .Double(v.input_error)
      .Key("below_fp16_normal")
      .Double(v.underflow.below_normal)
      .Key("below_fp16_subnormal")
      .Double(v.underflow.below_subnormal)
      .EndObject();
}

void JsonLocalization(json::Writer& w, const Localization& loc) {
  w.Key("localize").BeginObject();
  w.Key("available").Bool(loc.available);
  if (!loc.available) {
    w.Key("note").String(loc.note).EndObject();
    return;
  }
  w.Key("factor").Double(kJumpFactor).Key("floor").Double(loc.floor);
  w.Key("compared").Int(loc.compared);
  w.Key("first_jump");
  if (loc.first_jump) {
    JsonLocalValue(w, *loc.first_jump);
  } else {
    w.Null();
  }
  w.Key("first_underflow");
  if (loc.first_underflow) {
    JsonLocalValue(w, *loc.first_underflow);
  } else {
    w.Null();
  }
  w.Key("values").BeginArray();
  for (const LocalValue& v : loc.values) JsonLocalValue(w, v);
  w.EndArray().EndObject();
}

double Seconds(std::chrono::steady_clock::duration d) {
  return std::chrono::duration<double>(d).count();
}

/// What verify compares: the package in the interpreter, the model in LibTorch.
struct Subjects {
  Interpreter interp;
  registry::Registry reg;  ///< for custom schemas and canonicalization's passthrough ops
  torch::jit::Module module;
  bool half_model = false;  ///< a half model, verified against its FP32-upcast copy
  /// --reference: each output's reference values in output order; empty when LibTorch runs.
  std::vector<at::Tensor> references;
};

/// Adds the kind of every node of `block` and its sub-blocks to `kinds`.
void CollectKinds(const torch::jit::Block* block, std::set<std::string>* kinds) {
  for (const torch::jit::Node* n : block->nodes()) {
    kinds->insert(n->kind().toQualString());
    for (const torch::jit::Block* b : n->blocks()) CollectKinds(b, kinds);
  }
}

/// Fails (class kModel) when the model calls an op whose plugin declared its schema but nothing
/// loaded its kernel: LibTorch cannot run it.
absl::Status CheckKernels(const VerifyArgs& a, const torch::jit::Module& module) {
  std::set<std::string> kinds;
  for (const torch::jit::Module& m : module.modules()) {
    for (const torch::jit::Method& method : m.get_methods()) {
      CollectKinds(method.graph()->block(), &kinds);
    }
  }
  const std::set<std::string> missing = OpsWithoutKernel(kinds);
  if (missing.empty()) return absl::OkStatus();
  return Error(
      ErrorClass::kModel,
      absl::StrCat(
          a.model.string(), ": ", absl::StrJoin(missing, ", "),
          " has no kernel here (a plugin declares only its schema), so LibTorch cannot run the model; load the library implementing it with --torch-library FILE.so, or compare with outputs computed elsewhere: --reference NAME=FILE.npy per output, with --input NAME=FILE.npy per input"));
}

/// Step 2: loads the package, the --torch-library libraries, the plugins (whose custom schemas
/// the model may use) and the model, in FP32 and eval mode; with --reference, the reference
/// outputs instead of checking that LibTorch can run the model.
absl::StatusOr<Subjects> LoadSubjects(const VerifyArgs& a) {
  absl::StatusOr<Interpreter> interp = Interpreter::Load(a.package);
  if (!interp.ok()) return interp.status();
  if (absl::Status s = CheckMemoryFits(a.package.string(), interp->inputs(), interp->outputs(),
                                       AvailableMemoryBytes());
      !s.ok()) {
    return s;
  }
  CommonFlags common = a.common;
  common.quiet = common.quiet || a.json;
  for (const fs::path& lib : a.torch_libraries) {
    if (absl::Status s = LoadTorchLibrary(lib, common.allow_insecure_plugins); !s.ok()) return s;
  }
  registry::Registry reg = LoadPlugins(common);
  if (absl::Status s = RegisterCustomSchemas(reg.CustomSchemas()); !s.ok()) return s;
  absl::StatusOr<torch::jit::Module> module = LoadTorchScript(a.model);
  if (!module.ok()) return module.status();
  std::vector<at::Tensor> references;
  if (!a.reference_files.empty()) {
    absl::StatusOr<std::vector<at::Tensor>> r =
        ReadReferenceFiles(a, interp->inputs(), interp->outputs());
    if (!r.ok()) return r.status();
    references = *std::move(r);
  } else if (absl::Status s = CheckKernels(a, *module); !s.ok()) {
    return s;
  }
  Fp32Reference reference = MakeFp32Reference(*module);
  *module = torch::jit::Module();  // the upcast clone, when there is one, is all verify runs
  reference.module.eval();
  return Subjects{*std::move(interp), std::move(reg), reference.module, reference.upcast(),
                  std::move(references)};
}

/// The reference of every output of one run: the --reference files, else LibTorch's result.
absl::StatusOr<std::vector<at::Tensor>> ReferenceOutputs(Subjects& s, const c10::IValue& result) {
  if (!s.references.empty()) return s.references;
  std::vector<std::pair<std::string, at::Tensor>> flat;
  if (absl::Status st = FlattenOutputs(result, &flat); !st.ok()) return st;
  return MatchOutputs(flat, s.interp.outputs());
}

/// Step 5, one run: LibTorch and the interpreter on the same inputs; every output's metrics
/// folded into `c->worst`, the time of every run but a warm-up into `c`.
absl::Status CompareRun(const VerifyArgs& a, Subjects& s, const std::vector<c10::IValue>& ts_inputs,
                        const std::map<std::string, at::Tensor>& inputs, int r, Comparison* c) {
  auto t0 = std::chrono::steady_clock::now();
  c10::IValue result = s.references.empty() ? s.module.forward(ts_inputs) : c10::IValue();
  auto t1 = std::chrono::steady_clock::now();
  absl::StatusOr<interp::RunResult> got = s.interp.Run(inputs);
  auto t2 = std::chrono::steady_clock::now();
  if (!got.ok()) {
    return Error(ClassOf(got.status()),
                 absl::StrCat(a.package.string(), ": ", got.status().message()));
  }
  if (r > 0 || c->runs == 1) {  // the first of several runs is a warm-up (JIT profiling)
    c->torch_seconds += Seconds(t1 - t0);
    c->interp_seconds += Seconds(t2 - t1);
  }
  absl::StatusOr<std::vector<at::Tensor>> refs = ReferenceOutputs(s, result);
  if (!refs.ok()) return refs.status();
  for (size_t i = 0; i < refs->size(); ++i) {
    const interp::Feature& out = s.interp.outputs()[i];
    const at::Tensor& g = got->outputs.at(out.name);
    if ((*refs)[i].sizes() != g.sizes()) {
      return Error(ErrorClass::kCheckFailed,
                   absl::StrCat(a.package.string(), ": output '", out.name, "' has shape [",
                                absl::StrJoin(g.sizes(), ","), "], ",
                                s.references.empty() ? "LibTorch gives" : "its reference is", " [",
                                absl::StrJoin((*refs)[i].sizes(), ","), "]"));
    }
    const at::Tensor& ref = (*refs)[i];
    Worst(&c->worst[i], Compare(ref.is_floating_point() ? ref.to(at::kFloat) : ref, g), r == 0);
  }
  return absl::OkStatus();
}

/// Step 5: every run (one when every input is given), each from its own seed.
absl::StatusOr<Comparison> CompareRuns(const VerifyArgs& a, Subjects& s,
                                       const std::vector<std::string>& arg_names,
                                       const std::map<std::string, InputInfo>& info,
                                       const std::map<std::string, at::Tensor>& fixed) {
  const std::vector<interp::Feature>& features = s.interp.inputs();
  Comparison c;
  c.runs = fixed.size() == features.size() ? 1 : a.runs;
  c.worst.resize(s.interp.outputs().size());
  for (int r = 0; r < c.runs; ++r) {
    at::Generator gen = at::detail::createCPUGenerator(a.seed + static_cast<uint64_t>(r));
    const std::map<std::string, at::Tensor> inputs = RandomInputs(features, info, fixed, gen);
    if (r == 0) c.first_inputs = inputs;
    absl::Status st = CompareRun(a, s, TorchInputs(arg_names, features, inputs), inputs, r, &c);
    if (!st.ok()) return st;
  }
  return c;
}

/// Everything the report shows.
struct VerifyReport {
  const VerifyArgs& args;
  const std::vector<interp::Feature>& outputs;
  bool fp16 = false;
  bool half_model = false;
  Tolerance tol;
  const Comparison& comparison;
  std::vector<std::string> verdicts;  ///< per output, "" within tolerance
  bool ok = true;
  std::optional<Localization> loc;

  int timed() const { return comparison.runs == 1 ? 1 : comparison.runs - 1; }
};

void JsonTolerance(json::Writer& w, const Tolerance& tol) {
  w.Key("tolerance")
      .BeginObject()
      .Key("min_cosine")
      .Double(tol.min_cosine)
      .Key("max_rel_error")
      .Double(tol.max_rel_error)
      .Key("max_abs_error")
      .Double(std::isinf(tol.max_abs_error) ? -1 : tol.max_abs_error)
      .Key("min_top1")
      .Double(tol.min_top1)
      .EndObject();
}

void JsonOutputs(json::Writer& w, const VerifyReport& r) {
  w.Key("outputs").BeginArray();
  for (size_t i = 0; i < r.comparison.worst.size(); ++i) {
    const Metrics& m = r.comparison.worst[i];
    w.BeginObject().Key("name").String(r.outputs[i].name);
    w.Key("type").String(ShapeString(r.outputs[i]));
    w.Key("max_abs_error").Double(m.max_abs).Key("max_rel_error").Double(m.max_rel);
    w.Key("cosine").Double(m.cosine);
    w.Key("reference_below_fp16_normal").Double(m.underflow.below_normal);
    if (m.mismatches >= 0) {
      w.Key("exact").Bool(true).Key("mismatched_elements").Int(m.mismatches);
      w.Key("elements").Int(m.elements);
    }
    w.Key("top1");
    if (m.top1 >= 0) {
      w.Double(m.top1);
    } else {
      w.Null();
    }
    w.Key("ok").Bool(r.verdicts[i].empty()).Key("reason").String(r.verdicts[i]).EndObject();
  }
  w.EndArray();
}

/// Step 8 (--json): the report as one JSON object on stdout.
void WriteJsonReport(const VerifyReport& r) {
  const VerifyArgs& a = r.args;
  json::Writer w;
  w.BeginObject();
  w.Key("model").String(a.model.string()).Key("package").String(a.package.string());
  w.Key("precision").String(r.fp16 ? "fp16" : "fp32").Key("half_model").Bool(r.half_model);
  w.Key("runs").Int(r.comparison.runs).Key("seed").Int(static_cast<int64_t>(a.seed));
  w.Key("reference").String(a.reference_files.empty() ? "libtorch" : "files");
  JsonTolerance(w, r.tol);
  JsonOutputs(w, r);
  w.Key("ok").Bool(r.ok);
  if (a.time) {
    w.Key("time")
        .BeginObject()
        .Key("libtorch_seconds")
        .Double(r.comparison.torch_seconds / r.timed())
        .Key("interpreter_seconds")
        .Double(r.comparison.interp_seconds / r.timed())
        .EndObject();
  }
  if (r.loc) JsonLocalization(w, *r.loc);
  w.EndObject();
  std::cout << w.Finish();
}

/// Step 8: the report as text on stdout.
void PrintTextReport(const VerifyReport& r) {
  const VerifyArgs& a = r.args;
  const Tolerance& tol = r.tol;
  const int runs = r.comparison.runs;
  std::cout << "ts2coreml verify: " << a.model.string()
            << (r.half_model ? " (half, upcast to fp32)" : "") << " vs " << a.package.string()
            << (a.reference_files.empty() ? "" : " (reference outputs from --reference)") << "\n";
  std::cout << absl::StrFormat(
      "  precision %s; %d run%s from seed %d; tolerance: cosine >= %g, max error <= %g of the output's range%s\n",
      r.fp16 ? "fp16" : "fp32", runs, runs == 1 ? "" : "s", a.seed, tol.min_cosine,
      tol.max_rel_error,
      std::isinf(tol.max_abs_error) ? ""
                                    : absl::StrFormat(", max abs error <= %g", tol.max_abs_error));
  for (size_t i = 0; i < r.comparison.worst.size(); ++i) {
    const Metrics& m = r.comparison.worst[i];
    if (m.mismatches >= 0) {
      std::cout << absl::StrFormat("  %s %s: exact, %d of %d elements differ  %s\n",
                                   r.outputs[i].name, ShapeString(r.outputs[i]), m.mismatches,
                                   m.elements, r.verdicts[i].empty() ? "ok" : "FAIL");
      continue;
    }
    std::cout << absl::StrFormat("  %s %s: max abs %.3g, max rel %.3g, cosine %.7f%s  %s\n",
                                 r.outputs[i].name, ShapeString(r.outputs[i]), m.max_abs, m.max_rel,
                                 m.cosine,
                                 m.top1 >= 0 ? absl::StrFormat(", top-1 %.1f%%", 100 * m.top1) : "",
                                 r.verdicts[i].empty() ? "ok" : "FAIL: " + r.verdicts[i]);
  }
  if (a.time) {
    std::cout << absl::StrFormat("  time per run: LibTorch forward %.1f ms, interpreter %.1f ms\n",
                                 1e3 * r.comparison.torch_seconds / r.timed(),
                                 1e3 * r.comparison.interp_seconds / r.timed());
  }
  if (r.loc) PrintLocalization(*r.loc);
}

/// Step 8: the error line of the first output out of tolerance.
void ReportFirstFailure(const VerifyReport& r) {
  for (size_t i = 0; i < r.verdicts.size(); ++i) {
    if (r.verdicts[i].empty()) continue;
    std::cerr << "ts2coreml: error: " << r.args.package.string() << ": output '"
              << r.outputs[i].name << "' differs from "
              << (r.args.reference_files.empty() ? "LibTorch" : "its --reference") << ": "
              << r.verdicts[i] << (r.args.localize ? "" : "; run with --localize to find the op")
              << "\n";
    return;
  }
}

/// Steps 2 to 8 for parsed arguments; the exit code.
int Verify(const VerifyArgs& a) {
  absl::StatusOr<Subjects> s = LoadSubjects(a);
  if (!s.ok()) return ReportError(s.status());
  const std::vector<std::string> arg_names = ForwardArgNames(s->module);
  const std::vector<interp::Feature>& features = s->interp.inputs();
  if (arg_names.size() != features.size()) {
    return ReportError(Error(ErrorClass::kInputSpec,
                             absl::StrCat(a.model.string(), ": forward() takes ", arg_names.size(),
                                          " inputs, the package has ", features.size())));
  }
  const std::map<std::string, InputInfo> info = ReadInputInfo(s->interp);
  absl::StatusOr<std::map<std::string, at::Tensor>> fixed = ReadInputFiles(a, features, info);
  if (!fixed.ok()) return ReportError(fixed.status());
  absl::StatusOr<Comparison> c = CompareRuns(a, *s, arg_names, info, *fixed);
  if (!c.ok()) return ReportError(c.status());
  const bool fp16 = PackageIsFp16(s->interp);
  VerifyReport r{a, s->interp.outputs(), fp16, s->half_model, ToleranceFor(a, fp16), *c};
  for (const Metrics& m : c->worst) {
    r.verdicts.push_back(Verdict(m, r.tol));
    r.ok = r.ok && r.verdicts.back().empty();
    if (fp16 && !r.verdicts.back().empty() && m.underflow.Falls()) {
      absl::StrAppend(&r.verdicts.back(),
                      "; the reference underflows fp16: ", UnderflowShares(m.underflow));
    }
  }
  if (a.localize && !r.ok && !a.reference_files.empty()) {
    r.loc = Localization();
    r.loc->note =
        "--localize compares LibTorch's intermediate values, and with --reference LibTorch does not run the model";
  } else if (a.localize && !r.ok) {
    absl::StatusOr<Localization> l = Localize(
        s->module, s->reg, s->interp, LocalizeInputs(arg_names, features, c->first_inputs), fp16);
    if (!l.ok()) return ReportError(l.status());
    r.loc = *std::move(l);
  }
  if (a.json) {
    WriteJsonReport(r);
  } else {
    PrintTextReport(r);
  }
  if (r.ok) return 0;
  ReportFirstFailure(r);
  return static_cast<int>(ErrorClass::kCheckFailed);
}

}  // namespace

absl::Status CheckMemoryFits(const std::string& package, const std::vector<interp::Feature>& inputs,
                             const std::vector<interp::Feature>& outputs, double available_bytes) {
  double elements = 0;
  for (const std::vector<interp::Feature>* features : {&inputs, &outputs}) {
    for (const interp::Feature& f : *features) {
      double n = 1;
      for (int64_t d : f.shape) n *= static_cast<double>(d);
      elements += n;
    }
  }
  // Each input and output lives in LibTorch and in the interpreter, 4 bytes an element at least.
  const double needed = elements * 4 * 2;
  if (needed <= available_bytes) return absl::OkStatus();
  return Error(
      ErrorClass::kInputSpec,
      absl::StrFormat(
          "%s: its inputs and outputs alone need %.3g GB in LibTorch and the interpreter, more than the %.3g GB of memory available here; verify a package converted at smaller --input shapes",
          package, needed / 1e9, available_bytes / 1e9));
}

double AvailableMemoryBytes() {
  double available = std::numeric_limits<double>::infinity();
  std::ifstream meminfo("/proc/meminfo");
  std::string key;
  double kb = 0;
  std::string unit;
  while (meminfo >> key >> kb >> unit) {
    if (key == "MemAvailable:") available = kb * 1024;
  }
  rlimit limit{};
  if (getrlimit(RLIMIT_AS, &limit) == 0 && limit.rlim_cur != RLIM_INFINITY) {
    available = std::min(available, static_cast<double>(limit.rlim_cur));
  }
  return available;
}

absl::StatusOr<VerifyArgs> ParseVerifyArgs(const std::vector<std::string>& args) {
  VerifyArgs v;
  std::vector<std::string> positional;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    absl::Status st;
    const bool option =
        ParseVerifyOption(args, &i, &v, &st) || ParseCommonFlag(args, &i, &v.common, &st);
    if (!option && !a.empty() && a[0] == '-') {
      st = Usage(absl::StrCat("verify: unknown option '", a, "'; see 'ts2coreml help'"));
    } else if (!option) {
      positional.push_back(a);
    }
    if (!st.ok()) return st;
  }
  if (positional.size() != 2) {
    return Usage("verify needs MODEL.pt and PKG.mlpackage; see 'ts2coreml help'");
  }
  v.model = positional[0];
  v.package = positional[1];
  return v;
}

bool PackageIsFp16(const Interpreter& interp) {
  if (auto p = interp.metadata().find(kPrecisionKey); p != interp.metadata().end()) {
    return p->second == "fp16";
  }
  for (const milspec::Operation& op : interp.block().operations()) {
    if (op.type() == "const") continue;
    for (const auto& o : op.outputs()) {
      if (o.type().tensortype().datatype() == milspec::FLOAT16) return true;
    }
  }
  return false;
}

Tolerance ToleranceFor(const VerifyArgs& a, bool fp16) {
  Tolerance tol = DefaultTolerance(fp16);
  if (a.min_cosine) tol.min_cosine = *a.min_cosine;
  if (a.max_rel_error) tol.max_rel_error = *a.max_rel_error;
  if (a.max_abs_error) tol.max_abs_error = *a.max_abs_error;
  if (a.min_top1) tol.min_top1 = *a.min_top1;
  return tol;
}

std::vector<std::string> ForwardArgNames(const torch::jit::Module& module) {
  std::vector<std::string> arg_names;
  const c10::FunctionSchema& schema = module.get_method("forward").function().getSchema();
  for (size_t i = 1; i < schema.arguments().size(); ++i) {
    arg_names.push_back(schema.arguments()[i].name());
  }
  return arg_names;
}

namespace {

/// The values of `--input name=path` for the package input `f`: a .npy of exactly f's shape (a
/// 0-d array only for a rank-0 input). Errors are class kInputSpec and name the input and file.
absl::StatusOr<at::Tensor> ReadInputNpy(const std::string& name, const fs::path& path,
                                        const interp::Feature& f,
                                        const std::string& flag = "--input") {
  interp::NpyReadLimits limits;
  uint64_t numel = 1;
  bool known = true;
  for (int64_t d : f.shape) {
    known = known && d >= 0 && !__builtin_mul_overflow(numel, static_cast<uint64_t>(d), &numel);
  }
  if (known) limits.max_elements = numel;
  absl::StatusOr<interp::NpyArray> npy = interp::ReadNpy(path, limits);
  const std::string what = absl::StrCat(flag, " ", name, ": ");
  const std::string kind = flag == "--input" ? "input" : "output";
  if (!npy.ok()) {
    return Error(ErrorClass::kInputSpec, absl::StrCat(what, npy.status().message(), "; the ", kind,
                                                      " is ", ShapeString(f)));
  }
  bool fits = npy->shape.size() == f.shape.size();
  for (size_t i = 0; fits && i < f.shape.size(); ++i) {
    fits = f.shape[i] < 0 || f.shape[i] == npy->shape[i];
  }
  if (!fits) {
    return Error(ErrorClass::kInputSpec, absl::StrCat(what, path.string(), ": the array has shape ",
                                                      interp::NpyShapeString(npy->shape), " but ",
                                                      kind, " '", name, "' is ", ShapeString(f),
                                                      "; save an array of the ", kind, "'s shape"));
  }
  if (interp::IsIntegerNpy(npy->dtype)) {
    const at::Tensor t = at::tensor(npy->ints, at::kLong).reshape(npy->shape);
    return npy->dtype == interp::NpyDtype::kBool ? t.to(at::kBool) : t;
  }
  return at::tensor(npy->values).reshape(npy->shape);
}

/// `t` (read for input `name`) in the dtype of its forward() argument, or an error for a float
/// array given for an integer input or integers beyond int32.
absl::StatusOr<at::Tensor> InArgumentDtype(const std::string& name, const fs::path& path,
                                           const at::Tensor& t, const InputInfo& info) {
  const bool int_input = info.dtype == "int32" || info.dtype == "int64" || info.dtype == "bool" ||
                         info.dtype == "uint8";
  if (!int_input) return t.to(at::kFloat);
  const std::string what = absl::StrCat("--input ", name, ": ", path.string(), ": ");
  if (t.is_floating_point()) {
    return Error(ErrorClass::kInputSpec,
                 absl::StrCat(what, "holds floats but input '", name, "' is ", info.dtype,
                              "; save an integer array (numpy int64, int32 or bool)"));
  }
  if (info.dtype == "bool") return t.to(at::kBool);
  if (info.dtype == "uint8") {
    if (t.numel() > 0 && (t.max().item<int64_t>() > 255 || t.min().item<int64_t>() < 0)) {
      return Error(
          ErrorClass::kInputSpec,
          absl::StrCat(what, "holds values outside 0..255, the range of uint8 input '", name, "'"));
    }
    return t.to(at::kByte);
  }
  if (t.numel() > 0 && (t.max().item<int64_t>() > std::numeric_limits<int32_t>::max() ||
                        t.min().item<int64_t>() < std::numeric_limits<int32_t>::min())) {
    return Error(ErrorClass::kInputSpec,
                 absl::StrCat(what, "holds values beyond int32, the package's input dtype"));
  }
  return t.to(info.dtype == "int64" ? at::kLong : at::kInt);
}

}  // namespace

absl::StatusOr<std::map<std::string, at::Tensor>> ReadInputFiles(
    const VerifyArgs& a, const std::vector<interp::Feature>& features,
    const std::map<std::string, InputInfo>& info) {
  std::set<std::string> feature_names;
  for (const auto& f : features) feature_names.insert(f.name);
  for (const auto& [name, path] : a.input_files) {
    if (!feature_names.count(name)) {
      return Error(ErrorClass::kInputSpec,
                   absl::StrCat("--input ", name, ": the package has no input '", name, "'"));
    }
  }
  std::map<std::string, at::Tensor> fixed;
  for (const auto& [name, path] : a.input_files) {
    const auto f = std::find_if(features.begin(), features.end(),
                                [&](const interp::Feature& x) { return x.name == name; });
    absl::StatusOr<at::Tensor> t = ReadInputNpy(name, path, *f);
    if (!t.ok()) return t.status();
    auto it = info.find(name);
    if (it != info.end()) t = InArgumentDtype(name, path, *t, it->second);
    if (!t.ok()) return t.status();
    fixed[name] = *std::move(t);
  }
  return fixed;
}

absl::StatusOr<std::vector<at::Tensor>> ReadReferenceFiles(
    const VerifyArgs& a, const std::vector<interp::Feature>& inputs,
    const std::vector<interp::Feature>& outputs) {
  std::vector<std::string> names;
  for (const interp::Feature& f : outputs) names.push_back(f.name);
  for (const auto& [name, path] : a.reference_files) {
    if (std::find(names.begin(), names.end(), name) == names.end()) {
      return Error(ErrorClass::kInputSpec,
                   absl::StrCat("--reference ", name, ": the package has no output '", name,
                                "' (outputs: ", absl::StrJoin(names, ", "), ")"));
    }
  }
  for (const interp::Feature& f : inputs) {
    if (a.input_files.count(f.name) == 0) {
      return Error(
          ErrorClass::kInputSpec,
          absl::StrCat(
              "--reference needs the inputs the references were computed from: give --input ",
              f.name, "=FILE.npy"));
    }
  }
  std::vector<at::Tensor> references;
  for (const interp::Feature& f : outputs) {
    auto it = a.reference_files.find(f.name);
    if (it == a.reference_files.end()) {
      return Error(ErrorClass::kInputSpec,
                   absl::StrCat("--reference: output '", f.name,
                                "' has none; give one --reference NAME=FILE.npy per output (",
                                absl::StrJoin(names, ", "), ")"));
    }
    absl::StatusOr<at::Tensor> t = ReadInputNpy(f.name, it->second, f, "--reference");
    if (!t.ok()) return t.status();
    references.push_back(t->is_floating_point() ? t->to(at::kFloat) : *t);
  }
  return references;
}

std::map<std::string, InputInfo> ReadInputInfo(const Interpreter& interp) {
  std::map<std::string, InputInfo> info;
  for (const interp::Feature& f : interp.inputs()) {
    info[f.name].dtype = interp::IsIntType(f.dtype)    ? "int32"
                         : f.dtype == milspec::BOOL    ? "bool"
                         : f.dtype == milspec::FLOAT16 ? "fp16"
                                                       : "fp32";
  }
  auto it = interp.metadata().find(kInputsKey);
  if (it == interp.metadata().end()) return info;
  absl::StatusOr<json::Value> v = json::Parse(it->second);
  if (!v.ok() || v->kind != json::Value::Kind::kObject) return info;
  for (const auto& [name, entry] : v->object) {
    auto known = info.find(name);
    if (known == info.end()) continue;
    const json::Value* dtype = entry.Find("dtype");
    const json::Value* high = entry.Find("high");
    if (dtype && dtype->kind == json::Value::Kind::kString) known->second.dtype = dtype->string;
    if (high && high->kind == json::Value::Kind::kNumber && high->number >= 1 &&
        high->number <= std::numeric_limits<int32_t>::max()) {
      known->second.high = static_cast<int64_t>(high->number);
    }
  }
  return info;
}

std::map<std::string, at::Tensor> RandomInputs(const std::vector<interp::Feature>& features,
                                               const std::map<std::string, InputInfo>& info,
                                               const std::map<std::string, at::Tensor>& fixed,
                                               at::Generator& gen) {
  std::map<std::string, at::Tensor> inputs;
  for (const interp::Feature& f : features) {
    at::Tensor t;
    InputInfo in{interp::IsIntType(f.dtype) ? "int32"
                 : f.dtype == milspec::BOOL ? "bool"
                                            : "fp32",
                 0};
    if (auto it = info.find(f.name); it != info.end()) in = it->second;
    if (auto it = fixed.find(f.name); it != fixed.end()) {
      t = it->second;
    } else if (in.dtype == "uint8") {  // image bytes: the whole range
      t = at::randint(0, 256, f.shape, gen, at::kByte);
    } else if (in.dtype == "int32" || in.dtype == "int64") {
      t = at::randint(0, in.high > 0 ? in.high : 10, f.shape, gen,
                      in.dtype == "int64" ? at::kLong : at::kInt);
    } else if (in.dtype == "bool") {
      t = at::randint(0, 2, f.shape, gen, at::kInt).to(at::kBool);
    } else {
      t = at::randn(f.shape, gen, at::kFloat);
    }
    // Both sides see the values the package's input dtype can hold.
    if (f.dtype == milspec::FLOAT16) t = interp::RoundToFp16(t);
    inputs[f.name] = t;
  }
  return inputs;
}

std::vector<c10::IValue> TorchInputs(const std::vector<std::string>& arg_names,
                                     const std::vector<interp::Feature>& features,
                                     const std::map<std::string, at::Tensor>& inputs) {
  const bool by_name = std::all_of(arg_names.begin(), arg_names.end(), [&](const auto& n) {
    return inputs.count(mil::SanitizeName(n)) > 0;
  });
  std::vector<c10::IValue> ts_inputs;
  for (size_t i = 0; i < arg_names.size(); ++i) {
    ts_inputs.emplace_back(by_name ? inputs.at(mil::SanitizeName(arg_names[i]))
                                   : inputs.at(features[i].name));
  }
  return ts_inputs;
}

Metrics Compare(const at::Tensor& ref_in, const at::Tensor& got_in) {
  const at::Tensor ref = ref_in.to(at::kDouble).flatten();
  const at::Tensor got = got_in.to(at::kDouble).flatten();
  Metrics m;
  if (!ref_in.is_floating_point()) {
    // Integers and bools: exact.
    m.elements = ref.numel();
    m.mismatches = ref.numel() ? (ref != got).sum().item<int64_t>() : 0;
    m.max_abs = ref.numel() ? (ref - got).abs().max().item<double>() : 0;
    m.max_rel = m.max_abs;
    m.cosine = m.mismatches == 0 ? 1 : 0;
    return m;
  }
  if (ref.numel() == 0) return m;
  m.underflow = MeasureFp16Underflow(ref);
  const bool finite = at::isfinite(got).all().item<bool>() == at::isfinite(ref).all().item<bool>();
  const at::Tensor diff = (ref - got).abs();
  m.max_abs = diff.max().item<double>();
  const double range = (ref.max() - ref.min()).item<double>();
  m.max_rel = range > 0 ? m.max_abs / range : (m.max_abs == 0 ? 0 : m.max_abs);
  const double na = ref.norm().item<double>(), nb = got.norm().item<double>();
  if (na == 0 && nb == 0) {
    m.cosine = 1;
  } else if (na == 0 || nb == 0) {
    m.cosine = 0;
  } else {
    m.cosine = (ref * got).sum().item<double>() / (na * nb);
  }
  if (!finite) m.cosine = m.max_abs = m.max_rel = std::numeric_limits<double>::quiet_NaN();
  if (ref_in.dim() == 2 && ref_in.size(1) > 1) {
    m.top1 = (ref_in.argmax(1) == got_in.argmax(1)).to(at::kDouble).mean().item<double>();
  }
  return m;
}

void Worst(Metrics* acc, const Metrics& m, bool first) {
  if (first) {
    *acc = m;
    return;
  }
  auto worse_max = [](double a, double b) {
    return std::isnan(a) || std::isnan(b) ? NAN : std::max(a, b);
  };
  auto worse_min = [](double a, double b) {
    return std::isnan(a) || std::isnan(b) ? NAN : std::min(a, b);
  };
  acc->max_abs = worse_max(acc->max_abs, m.max_abs);
  acc->max_rel = worse_max(acc->max_rel, m.max_rel);
  acc->cosine = worse_min(acc->cosine, m.cosine);
  acc->mismatches = std::max(acc->mismatches, m.mismatches);
  acc->underflow.below_normal = std::max(acc->underflow.below_normal, m.underflow.below_normal);
  acc->underflow.below_subnormal =
      std::max(acc->underflow.below_subnormal, m.underflow.below_subnormal);
  if (m.top1 >= 0) acc->top1 = acc->top1 < 0 ? m.top1 : std::min(acc->top1, m.top1);
}

std::string Verdict(const Metrics& m, const Tolerance& t) {
  if (m.mismatches > 0) {
    return absl::StrFormat("%d of %d elements differ (integer output, compared exactly)",
                           m.mismatches, m.elements);
  }
  if (m.mismatches == 0) return "";
  if (std::isnan(m.cosine)) return "non-finite values where LibTorch has finite ones";
  if (!(m.cosine >= t.min_cosine))
    return absl::StrFormat("cosine %.7f < %g", m.cosine, t.min_cosine);
  if (!(m.max_rel <= t.max_rel_error)) {
    return absl::StrFormat("max error relative to range %.3g > %g", m.max_rel, t.max_rel_error);
  }
  if (!(m.max_abs <= t.max_abs_error)) {
    return absl::StrFormat("max abs error %.3g > %g", m.max_abs, t.max_abs_error);
  }
  if (m.top1 >= 0 && !(m.top1 >= t.min_top1)) {
    return absl::StrFormat("top-1 agreement %.4f < %g", m.top1, t.min_top1);
  }
  return "";
}

std::map<std::string, at::Tensor> LocalizeInputs(const std::vector<std::string>& arg_names,
                                                 const std::vector<interp::Feature>& features,
                                                 const std::map<std::string, at::Tensor>& first) {
  std::map<std::string, at::Tensor> by_arg;
  for (size_t i = 0; i < arg_names.size(); ++i) {
    const std::string key = first.count(mil::SanitizeName(arg_names[i]))
                                ? mil::SanitizeName(arg_names[i])
                                : features[i].name;
    by_arg[arg_names[i]] = first.at(key);
  }
  std::map<std::string, at::Tensor> all = first;
  for (const auto& [k, v] : by_arg) all.emplace(k, v);
  return all;
}

Fp16Underflow MeasureFp16Underflow(const at::Tensor& ref) {
  Fp16Underflow u;
  if (!ref.is_floating_point()) return u;
  const at::Tensor a = ref.to(at::kDouble).abs().flatten();
  const at::Tensor nonzero = a.masked_select(a > 0);
  if (nonzero.numel() == 0) return u;
  const double n = static_cast<double>(nonzero.numel());
  u.below_normal = (nonzero < std::ldexp(1.0, -14)).sum().item<double>() / n;
  u.below_subnormal = (nonzero < std::ldexp(1.0, -24)).sum().item<double>() / n;
  return u;
}

int RunVerify(const std::vector<std::string>& args) {
  if (!args.empty() && (args[0] == "--help" || args[0] == "-h")) {
    std::cout << "usage: ts2coreml\n" << VerifyUsage();
    return 0;
  }
  absl::StatusOr<VerifyArgs> parsed = ParseVerifyArgs(args);
  if (!parsed.ok()) return ReportError(parsed.status());
  at::NoGradGuard no_grad;
  try {
    return Verify(*parsed);
  } catch (const c10::Error& e) {
    return ReportError(
        Error(ErrorClass::kModel,
              absl::StrCat(parsed->model.string(), ": LibTorch: ", e.what_without_backtrace())));
  }
}

}  // namespace ts2coreml::core
