#include "core/cli/verify_command.h"

#include <ATen/CPUGeneratorImpl.h>
#include <torch/csrc/jit/api/function_impl.h>
#include <torch/script.h>

#include <algorithm>
#include <chrono>
#include <cmath>
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
#include "core/convert/converter.h"
#include "core/interp/interpreter.h"
#include "core/interp/npy.h"
#include "core/mil/program.h"
#include "core/torch/canonicalize.h"
#include "core/torch/torchscript_loader.h"

namespace ts2coreml::core {
namespace {

namespace fs = std::filesystem;
namespace milspec = ::CoreML::Specification::MILSpec;
using interp::Interpreter;

/// Localization rule: an op's error "jumps" when it exceeds both kJumpFactor times the largest
/// error among the values it is computed from and an absolute floor that depends on precision.
constexpr double kJumpFactor = 10.0;
constexpr double kJumpFloorFp32 = 1e-4;
constexpr double kJumpFloorFp16 = 1e-2;

struct Tolerance {
  double min_cosine = 0;
  double max_rel_error = 0;
  double max_abs_error = std::numeric_limits<double>::infinity();
  double min_top1 = 0;
};

Tolerance DefaultTolerance(bool fp16) {
  Tolerance t;
  t.min_cosine = fp16 ? 0.999 : 0.99999;
  t.max_rel_error = fp16 ? 3e-2 : 1e-3;
  return t;
}

struct VerifyArgs {
  fs::path model;
  fs::path package;
  int runs = 1;
  uint64_t seed = 0;
  std::map<std::string, fs::path> input_files;
  bool json = false;
  bool localize = false;
  bool time = false;
  std::optional<double> min_cosine, max_rel_error, max_abs_error, min_top1;
  CommonFlags common;
};

absl::StatusOr<VerifyArgs> Parse(const std::vector<std::string>& args) {
  VerifyArgs v;
  std::vector<std::string> positional;
  auto usage = [](const std::string& m) { return Error(ErrorClass::kUsage, m); };
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    auto value = [&](std::string* out) -> absl::Status {
      if (i + 1 >= args.size()) return usage(absl::StrCat(a, " needs a value"));
      *out = args[++i];
      return absl::OkStatus();
    };
    auto number = [&](std::optional<double>* out) -> absl::Status {
      std::string s;
      if (absl::Status st = value(&s); !st.ok()) return st;
      double d;
      if (!absl::SimpleAtod(s, &d)) return usage(absl::StrCat(a, ": '", s, "' is not a number"));
      *out = d;
      return absl::OkStatus();
    };
    absl::Status st;
    std::string s;
    if (a == "--runs") {
      if (st = value(&s); st.ok() && (!absl::SimpleAtoi(s, &v.runs) || v.runs < 1)) {
        st = usage(absl::StrCat("--runs: '", s, "' is not a positive integer"));
      }
    } else if (a == "--seed") {
      if (st = value(&s); st.ok() && !absl::SimpleAtoi(s, &v.seed)) {
        st = usage(absl::StrCat("--seed: '", s, "' is not a non-negative integer"));
      }
    } else if (a == "--input") {
      if (st = value(&s); st.ok()) {
        const size_t eq = s.find('=');
        if (eq == std::string::npos || eq == 0 || eq + 1 == s.size()) {
          st = usage(absl::StrCat("--input: '", s, "' is not NAME=FILE.npy"));
        } else {
          v.input_files[s.substr(0, eq)] = s.substr(eq + 1);
        }
      }
    } else if (a == "--json") {
      v.json = true;
    } else if (a == "--localize") {
      v.localize = true;
    } else if (a == "--time") {
      v.time = true;
    } else if (a == "--min-cosine") {
      st = number(&v.min_cosine);
    } else if (a == "--max-rel-error") {
      st = number(&v.max_rel_error);
    } else if (a == "--max-abs-error") {
      st = number(&v.max_abs_error);
    } else if (a == "--min-top1") {
      st = number(&v.min_top1);
    } else if (absl::Status error; ParseCommonFlag(args, &i, &v.common, &error)) {
      st = error;
    } else if (!a.empty() && a[0] == '-') {
      st = usage(absl::StrCat("verify: unknown option '", a, "'; see 'ts2coreml help'"));
    } else {
      positional.push_back(a);
    }
    if (!st.ok()) return st;
  }
  if (positional.size() != 2) {
    return usage("verify needs MODEL.pt and PKG.mlpackage; see 'ts2coreml help'");
  }
  v.model = positional[0];
  v.package = positional[1];
  return v;
}

/// How one output compares, worst over the runs.
struct Metrics {
  double max_abs = 0;
  double max_rel = 0;  ///< max abs error / (max - min of the reference)
  double cosine = 1;
  double top1 = -1;  ///< fraction of rows whose argmax agrees; -1 when not 2-D
};

Metrics Compare(const at::Tensor& ref_in, const at::Tensor& got_in) {
  const at::Tensor ref = ref_in.to(at::kDouble).flatten();
  const at::Tensor got = got_in.to(at::kDouble).flatten();
  Metrics m;
  if (ref.numel() == 0) return m;
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
  if (m.top1 >= 0) acc->top1 = acc->top1 < 0 ? m.top1 : std::min(acc->top1, m.top1);
}

/// Why an output is out of tolerance, or "" when it is within.
std::string Verdict(const Metrics& m, const Tolerance& t) {
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

/// The values of `--input name=path` for the package input `f`: a .npy of exactly f's shape (a
/// 0-d array only for a rank-0 input). Errors are class kInputSpec and name the input and file.
absl::StatusOr<at::Tensor> ReadInputNpy(const std::string& name, const fs::path& path,
                                        const interp::Feature& f) {
  interp::NpyReadLimits limits;
  uint64_t numel = 1;
  bool known = true;
  for (int64_t d : f.shape) {
    known = known && d >= 0 && !__builtin_mul_overflow(numel, static_cast<uint64_t>(d), &numel);
  }
  if (known) limits.max_elements = numel;
  absl::StatusOr<interp::NpyArray> npy = interp::ReadNpy(path, limits);
  const std::string what = absl::StrCat("--input ", name, ": ");
  if (!npy.ok()) {
    return Error(ErrorClass::kInputSpec,
                 absl::StrCat(what, npy.status().message(), "; the input is ", ShapeString(f)));
  }
  bool fits = npy->shape.size() == f.shape.size();
  for (size_t i = 0; fits && i < f.shape.size(); ++i) {
    fits = f.shape[i] < 0 || f.shape[i] == npy->shape[i];
  }
  if (!fits) {
    return Error(ErrorClass::kInputSpec,
                 absl::StrCat(what, path.string(), ": the array has shape ",
                              interp::NpyShapeString(npy->shape), " but input '", name, "' is ",
                              ShapeString(f), "; save an array of the input's shape"));
  }
  return at::tensor(npy->values).reshape(npy->shape);
}

/// One value compared during localization.
struct LocalValue {
  std::string var;
  std::string op_type;
  std::string ts_value, ts_op, source;
  double error = 0;        ///< max abs error / peak |reference|
  double input_error = 0;  ///< largest error among the compared values it is computed from
};

struct Localization {
  bool available = false;
  std::string note;  ///< why it is unavailable, or what was found
  int compared = 0;
  std::optional<LocalValue> first_jump;
  std::vector<LocalValue> values;  ///< program order
  double floor = 0;
};

double RelativeToPeak(const at::Tensor& ref, const at::Tensor& got) {
  const at::Tensor r = ref.to(at::kDouble);
  const at::Tensor g = got.to(at::kDouble).reshape(r.sizes());
  const double peak = r.numel() ? r.abs().max().item<double>() : 0;
  const double err = r.numel() ? (r - g).abs().max().item<double>() : 0;
  if (std::isnan(err)) return std::numeric_limits<double>::infinity();
  return err / std::max(peak, 1e-6);
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

absl::StatusOr<Localization> Localize(const torch::jit::Module& module,
                                      const registry::Registry& reg, const Interpreter& interp,
                                      const std::map<std::string, at::Tensor>& inputs, bool fp16) {
  Localization loc;
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
  absl::StatusOr<CanonicalModel> canonical = Canonicalize(module, options);
  if (!canonical.ok()) return canonical.status();
  // The source map names TorchScript values by debugName(). A value without a name is named by
  // its unique number, which Graph::copy() renumbers: instrument the canonical graph itself (a
  // copy private to this call), whose numbering is the converter's.
  std::shared_ptr<torch::jit::Graph> graph = canonical->graph;
  std::map<std::string, torch::jit::Value*> by_name;
  for (torch::jit::Node* n : graph->nodes()) {
    for (torch::jit::Value* v : n->outputs()) by_name[v->debugName()] = v;
  }
  const size_t base_outputs = graph->outputs().size();
  struct Mapped {
    std::string var;
    const json::Value* entry;
    torch::jit::Value* value;
  };
  std::vector<Mapped> mapped;
  int mismatched = 0;
  std::string example;
  for (const auto& [var, entry] : map->object) {
    const json::Value* value = entry.Find("value");
    if (value == nullptr) continue;
    auto v = by_name.find(value->string);
    if (v == by_name.end() || v->second->type()->kind() != c10::TypeKind::TensorType) continue;
    // A name must denote the same op here as in the package, or the values compared would be
    // unrelated tensors.
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
  if (mismatched > 0) {
    loc.note =
        absl::StrCat("the model's canonical graph does not match the package's source map (",
                     mismatched, " values differ; ", example,
                     "); convert the package from this model with the same plugins to localize");
    return loc;
  }
  // A method returns one value: the original outputs and every mapped value, as one tuple. Each
  // mapped value is cloned right where it is produced: later in-place ops (relu_, hardtanh_)
  // would otherwise change the tensor returned.
  std::vector<torch::jit::Value*> returned(graph->outputs().begin(), graph->outputs().end());
  for (const Mapped& m : mapped) {
    torch::jit::WithInsertPoint after(m.value->node()->next());
    returned.push_back(graph->insert(c10::aten::clone, {m.value}));
  }
  torch::jit::Node* tuple = graph->insertNode(graph->createTuple(returned));
  while (!graph->outputs().empty()) graph->eraseOutput(0);
  graph->registerOutput(tuple->output());
  torch::jit::GraphFunction fn("localize", graph, nullptr);
  torch::jit::Stack stack;
  stack.emplace_back(canonical->frozen._ivalue());
  for (const std::string& name : canonical->input_names) stack.emplace_back(inputs.at(name));
  fn.run(stack);
  if (stack.size() != 1 || !stack[0].isTuple() ||
      stack[0].toTupleRef().elements().size() != base_outputs + mapped.size()) {
    return Error(ErrorClass::kInternal,
                 "the instrumented TorchScript graph returned too few values");
  }
  const auto& elements = stack[0].toTupleRef().elements();
  std::map<std::string, std::pair<at::Tensor, const json::Value*>> reference;
  for (size_t i = 0; i < mapped.size(); ++i) {
    const c10::IValue& v = elements[base_outputs + i];
    if (v.isTensor()) reference[mapped[i].var] = {v.toTensor(), mapped[i].entry};
  }
  std::map<std::string, at::Tensor> pkg_inputs;
  for (const interp::Feature& f : interp.inputs()) pkg_inputs[f.name] = inputs.at(f.name);
  interp::RunOptions run_options;
  run_options.keep_intermediates = true;
  absl::StatusOr<interp::RunResult> run = interp.Run(pkg_inputs, run_options);
  if (!run.ok()) return run.status();

  std::map<std::string, double> inherited;  // var -> error carried to its users
  for (const milspec::Operation& op : interp.block().operations()) {
    if (op.type() == "const") continue;
    double in_err = 0;
    for (const auto& [arg_name, arg] : op.inputs()) {
      for (const auto& b : arg.arguments()) {
        if (!b.has_value()) {
          auto e = inherited.find(b.name());
          if (e != inherited.end()) in_err = std::max(in_err, e->second);
        }
      }
    }
    for (const milspec::NamedValueType& out : op.outputs()) {
      inherited[out.name()] = in_err;
      auto ref = reference.find(out.name());
      auto got = run->values.find(out.name());
      if (ref == reference.end() || got == run->values.end() || got->second.is_string() ||
          ref->second.first.numel() != got->second.tensor.numel()) {
        continue;
      }
      LocalValue lv;
      lv.var = out.name();
      lv.op_type = op.type();
      const json::Value& entry = *ref->second.second;
      auto field = [&](const char* k) {
        const json::Value* f = entry.Find(k);
        return f ? f->string : std::string();
      };
      lv.ts_value = field("value");
      lv.ts_op = field("op");
      lv.source = field("source");
      lv.error = RelativeToPeak(ref->second.first, got->second.tensor);
      lv.input_error = in_err;
      inherited[out.name()] = lv.error;
      ++loc.compared;
      if (!loc.first_jump && lv.error > loc.floor && lv.error > kJumpFactor * in_err) {
        loc.first_jump = lv;
      }
      loc.values.push_back(lv);
    }
  }
  loc.available = true;
  return loc;
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
      "localize: %d intermediate values compared (error = max abs error / peak |LibTorch value|; "
      "a jump: error > %g x its inputs' and > %g)\n",
      loc.compared, kJumpFactor, loc.floor);
  if (loc.first_jump) {
    const LocalValue& v = *loc.first_jump;
    std::cout << "  first op whose error jumps: " << Describe(v) << "\n"
              << absl::StrFormat("    error %.3g, its inputs' %.3g\n", v.error, v.input_error);
  } else {
    std::cout << "  no single op's error jumps: the error grows over many ops\n";
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

void JsonLocalization(json::Writer& w, const Localization& loc) {
  w.Key("localize").BeginObject();
  w.Key("available").Bool(loc.available);
  if (!loc.available) {
    w.Key("note").String(loc.note).EndObject();
    return;
  }
  w.Key("factor").Double(kJumpFactor).Key("floor").Double(loc.floor);
  w.Key("compared").Int(loc.compared);
  auto value = [&](const LocalValue& v) {
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
        .EndObject();
  };
  w.Key("first_jump");
  if (loc.first_jump) {
    value(*loc.first_jump);
  } else {
    w.Null();
  }
  w.Key("values").BeginArray();
  for (const LocalValue& v : loc.values) value(v);
  w.EndArray().EndObject();
}

bool IsHalfModule(const torch::jit::Module& m) {
  for (const at::Tensor& p : m.parameters()) {
    if (p.scalar_type() == at::kHalf) return true;
  }
  for (const at::Tensor& b : m.buffers()) {
    if (b.scalar_type() == at::kHalf) return true;
  }
  return false;
}

double Seconds(std::chrono::steady_clock::duration d) {
  return std::chrono::duration<double>(d).count();
}

}  // namespace

std::string VerifyUsage() {
  return R"(  verify MODEL.pt PKG.mlpackage [--runs N] [--seed S] [--input NAME=FILE.npy] [--json]
      Runs the model in LibTorch (FP32) and the package in the reference interpreter on the same
      inputs and compares each output. Exit 0 within tolerance, 1 when not.
      --runs N, --seed S        random inputs: N runs (default 1) from seed S (default 0)
      --input NAME=FILE.npy     an input's values (float16/32/64, C order) instead of random ones
      --min-cosine C, --max-rel-error R, --max-abs-error A, --min-top1 T
                                tolerances (defaults depend on the package's precision)
      --localize                when outputs disagree, name the first op whose error jumps
      --time                    print LibTorch's and the interpreter's time per run (the
                                first of several runs is a warm-up and not counted)
      --json                    the report as JSON
)";
}

int RunVerify(const std::vector<std::string>& args) {
  if (!args.empty() && (args[0] == "--help" || args[0] == "-h")) {
    std::cout << "usage: ts2coreml\n" << VerifyUsage();
    return 0;
  }
  absl::StatusOr<VerifyArgs> parsed = Parse(args);
  if (!parsed.ok()) return ReportError(parsed.status());
  const VerifyArgs& a = *parsed;
  at::NoGradGuard no_grad;
  try {
    absl::StatusOr<Interpreter> interp = Interpreter::Load(a.package);
    if (!interp.ok()) return ReportError(interp.status());
    CommonFlags common = a.common;
    common.quiet = common.quiet || a.json;
    registry::Registry reg = LoadPlugins(common);
    if (absl::Status s = RegisterCustomSchemas(reg.CustomSchemas()); !s.ok()) return ReportError(s);
    absl::StatusOr<torch::jit::Module> module = LoadTorchScript(a.model);
    if (!module.ok()) return ReportError(module.status());
    const bool half_model = IsHalfModule(*module);
    if (half_model) module->to(at::kFloat);  // verified against its FP32-upcast copy
    module->eval();

    // Precision: the converter's metadata, else any fp16 value in the program.
    bool fp16 = false;
    if (auto p = interp->metadata().find(kPrecisionKey); p != interp->metadata().end()) {
      fp16 = p->second == "fp16";
    } else {
      for (const milspec::Operation& op : interp->block().operations()) {
        for (const auto& o : op.outputs()) {
          fp16 = fp16 ||
                 (op.type() != "const" && o.type().tensortype().datatype() == milspec::FLOAT16);
        }
      }
    }
    Tolerance tol = DefaultTolerance(fp16);
    if (a.min_cosine) tol.min_cosine = *a.min_cosine;
    if (a.max_rel_error) tol.max_rel_error = *a.max_rel_error;
    if (a.max_abs_error) tol.max_abs_error = *a.max_abs_error;
    if (a.min_top1) tol.min_top1 = *a.min_top1;

    // forward() argument names, to pass inputs by name (else by position).
    std::vector<std::string> arg_names;
    const c10::FunctionSchema& schema = module->get_method("forward").function().getSchema();
    for (size_t i = 1; i < schema.arguments().size(); ++i) {
      arg_names.push_back(schema.arguments()[i].name());
    }
    const std::vector<interp::Feature>& features = interp->inputs();
    if (arg_names.size() != features.size()) {
      return ReportError(
          Error(ErrorClass::kInputSpec,
                absl::StrCat(a.model.string(), ": forward() takes ", arg_names.size(),
                             " inputs, the package has ", features.size())));
    }
    std::set<std::string> feature_names;
    for (const auto& f : features) feature_names.insert(f.name);
    for (const auto& [name, path] : a.input_files) {
      if (!feature_names.count(name)) {
        return ReportError(
            Error(ErrorClass::kInputSpec,
                  absl::StrCat("--input ", name, ": the package has no input '", name, "'")));
      }
    }
    std::map<std::string, at::Tensor> fixed;
    for (const auto& [name, path] : a.input_files) {
      const auto f = std::find_if(features.begin(), features.end(),
                                  [&](const interp::Feature& x) { return x.name == name; });
      absl::StatusOr<at::Tensor> t = ReadInputNpy(name, path, *f);
      if (!t.ok()) return ReportError(t.status());
      fixed[name] = *std::move(t);
    }
    const int runs = fixed.size() == features.size() ? 1 : a.runs;

    std::vector<Metrics> worst(interp->outputs().size());
    std::map<std::string, at::Tensor> first_inputs;
    double torch_seconds = 0, interp_seconds = 0;
    for (int r = 0; r < runs; ++r) {
      at::Generator gen = at::detail::createCPUGenerator(a.seed + static_cast<uint64_t>(r));
      std::map<std::string, at::Tensor> inputs;  // by package input name
      for (const interp::Feature& f : features) {
        at::Tensor t;
        if (auto it = fixed.find(f.name); it != fixed.end()) {
          t = it->second;
        } else if (interp::IsIntType(f.dtype)) {
          t = at::randint(0, 10, f.shape, gen, at::kInt);
        } else if (f.dtype == milspec::BOOL) {
          t = at::randint(0, 2, f.shape, gen, at::kInt).to(at::kBool);
        } else {
          t = at::randn(f.shape, gen, at::kFloat);
        }
        // Both sides see the values the package's input dtype can hold.
        if (f.dtype == milspec::FLOAT16) t = interp::RoundToFp16(t);
        inputs[f.name] = t;
      }
      if (r == 0) first_inputs = inputs;
      std::vector<c10::IValue> ts_inputs;
      const bool by_name = std::all_of(arg_names.begin(), arg_names.end(), [&](const auto& n) {
        return inputs.count(mil::SanitizeName(n)) > 0;
      });
      for (size_t i = 0; i < arg_names.size(); ++i) {
        ts_inputs.emplace_back(by_name ? inputs.at(mil::SanitizeName(arg_names[i]))
                                       : inputs.at(features[i].name));
      }
      auto t0 = std::chrono::steady_clock::now();
      c10::IValue result = module->forward(ts_inputs);
      auto t1 = std::chrono::steady_clock::now();
      absl::StatusOr<interp::RunResult> got = interp->Run(inputs);
      auto t2 = std::chrono::steady_clock::now();
      if (!got.ok()) {
        return ReportError(Error(ClassOf(got.status()),
                                 absl::StrCat(a.package.string(), ": ", got.status().message())));
      }
      if (r > 0 || runs == 1) {  // the first of several runs is a warm-up (JIT profiling)
        torch_seconds += Seconds(t1 - t0);
        interp_seconds += Seconds(t2 - t1);
      }
      std::vector<std::pair<std::string, at::Tensor>> flat;
      if (absl::Status s = FlattenOutputs(result, &flat); !s.ok()) return ReportError(s);
      absl::StatusOr<std::vector<at::Tensor>> refs = MatchOutputs(flat, interp->outputs());
      if (!refs.ok()) return ReportError(refs.status());
      for (size_t i = 0; i < refs->size(); ++i) {
        const interp::Feature& out = interp->outputs()[i];
        const at::Tensor& g = got->outputs.at(out.name);
        if ((*refs)[i].sizes() != g.sizes()) {
          return ReportError(
              Error(ErrorClass::kCheckFailed,
                    absl::StrCat(a.package.string(), ": output '", out.name, "' has shape [",
                                 absl::StrJoin(g.sizes(), ","), "], LibTorch gives [",
                                 absl::StrJoin((*refs)[i].sizes(), ","), "]")));
        }
        Worst(&worst[i], Compare((*refs)[i].to(at::kFloat), g), r == 0);
      }
    }

    const int timed = runs == 1 ? 1 : runs - 1;
    std::vector<std::string> verdicts;
    bool ok = true;
    for (const Metrics& m : worst) {
      verdicts.push_back(Verdict(m, tol));
      ok = ok && verdicts.back().empty();
    }
    std::optional<Localization> loc;
    if (a.localize && !ok) {
      std::map<std::string, at::Tensor> by_arg;
      for (size_t i = 0; i < arg_names.size(); ++i) {
        const std::string key = first_inputs.count(mil::SanitizeName(arg_names[i]))
                                    ? mil::SanitizeName(arg_names[i])
                                    : features[i].name;
        by_arg[arg_names[i]] = first_inputs.at(key);
      }
      std::map<std::string, at::Tensor> all = first_inputs;
      for (const auto& [k, v] : by_arg) all.emplace(k, v);
      absl::StatusOr<Localization> l = Localize(*module, reg, *interp, all, fp16);
      if (!l.ok()) return ReportError(l.status());
      loc = *std::move(l);
    }

    const char* precision = fp16 ? "fp16" : "fp32";
    if (a.json) {
      json::Writer w;
      w.BeginObject();
      w.Key("model").String(a.model.string()).Key("package").String(a.package.string());
      w.Key("precision").String(precision).Key("half_model").Bool(half_model);
      w.Key("runs").Int(runs).Key("seed").Int(static_cast<int64_t>(a.seed));
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
      w.Key("outputs").BeginArray();
      for (size_t i = 0; i < worst.size(); ++i) {
        const Metrics& m = worst[i];
        w.BeginObject().Key("name").String(interp->outputs()[i].name);
        w.Key("type").String(ShapeString(interp->outputs()[i]));
        w.Key("max_abs_error").Double(m.max_abs).Key("max_rel_error").Double(m.max_rel);
        w.Key("cosine").Double(m.cosine).Key("top1");
        if (m.top1 >= 0) {
          w.Double(m.top1);
        } else {
          w.Null();
        }
        w.Key("ok").Bool(verdicts[i].empty()).Key("reason").String(verdicts[i]).EndObject();
      }
      w.EndArray();
      w.Key("ok").Bool(ok);
      if (a.time) {
        w.Key("time")
            .BeginObject()
            .Key("libtorch_seconds")
            .Double(torch_seconds / timed)
            .Key("interpreter_seconds")
            .Double(interp_seconds / timed)
            .EndObject();
      }
      if (loc) JsonLocalization(w, *loc);
      w.EndObject();
      std::cout << w.Finish();
    } else {
      std::cout << "ts2coreml verify: " << a.model.string()
                << (half_model ? " (half, upcast to fp32)" : "") << " vs " << a.package.string()
                << "\n";
      std::cout << absl::StrFormat(
          "  precision %s; %d run%s from seed %d; tolerance: cosine >= %g, max error <= %g of "
          "the output's range%s\n",
          precision, runs, runs == 1 ? "" : "s", a.seed, tol.min_cosine, tol.max_rel_error,
          std::isinf(tol.max_abs_error)
              ? ""
              : absl::StrFormat(", max abs error <= %g", tol.max_abs_error));
      for (size_t i = 0; i < worst.size(); ++i) {
        const Metrics& m = worst[i];
        std::cout << absl::StrFormat(
            "  %s %s: max abs %.3g, max rel %.3g, cosine %.7f%s  %s\n", interp->outputs()[i].name,
            ShapeString(interp->outputs()[i]), m.max_abs, m.max_rel, m.cosine,
            m.top1 >= 0 ? absl::StrFormat(", top-1 %.1f%%", 100 * m.top1) : "",
            verdicts[i].empty() ? "ok" : "FAIL: " + verdicts[i]);
      }
      if (a.time) {
        std::cout << absl::StrFormat(
            "  time per run: LibTorch forward %.1f ms, interpreter %.1f ms\n",
            1e3 * torch_seconds / timed, 1e3 * interp_seconds / timed);
      }
      if (loc) PrintLocalization(*loc);
    }
    if (!ok) {
      for (size_t i = 0; i < worst.size(); ++i) {
        if (verdicts[i].empty()) continue;
        std::cerr << "ts2coreml: error: " << a.package.string() << ": output '"
                  << interp->outputs()[i].name << "' differs from LibTorch: " << verdicts[i]
                  << (a.localize ? "" : "; run with --localize to find the op") << "\n";
        break;
      }
      return static_cast<int>(ErrorClass::kCheckFailed);
    }
    return 0;
  } catch (const c10::Error& e) {
    return ReportError(Error(ErrorClass::kModel, absl::StrCat(a.model.string(), ": LibTorch: ",
                                                              e.what_without_backtrace())));
  }
}

}  // namespace ts2coreml::core
