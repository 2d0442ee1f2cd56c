#include "core/mil/validator.h"

#include <cstring>
#include <map>
#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "core/base/errors.h"

namespace ts2coreml::mil {
namespace {

namespace mil_pb = CoreML::Specification::MILSpec;

/// Consts with at most this many elements carry their values into the check (shape arguments,
/// axes, flags); larger ones are weights no inference reads.
constexpr int64_t kMaxValues = 64;

bool IsConstProducer(std::string_view type) {
  return type == "const" || type.substr(0, 9) == "constexpr";
}

/// A `cast` of a constant (a weight stored fp16 for an op computing in fp32) is known at compile
/// time, and Core ML folds it when the model is compiled: it counts as a const.
bool IsCastOfConst(const Function& f, const Operation& op) {
  if (op.type != "cast") return false;
  for (const OpInput& in : op.inputs) {
    if (in.name != "x" || in.vars.size() != 1 || !f.IsValid(in.vars[0])) continue;
    const int producer = f.var(in.vars[0]).producer;
    return producer >= 0 && IsConstProducer(f.ops()[static_cast<size_t>(producer)].type);
  }
  return false;
}

/// The small int or bool values of a const, read from its little-endian bytes.
std::optional<std::vector<int64_t>> SmallInts(const ConstValue& c) {
  if (c.source || c.type.numel() > kMaxValues) return std::nullopt;
  std::vector<int64_t> r;
  if (c.type.dtype == DType::kInt32) {
    for (size_t k = 0; k + 4 <= c.bytes.size(); k += 4) {
      int32_t v;
      std::memcpy(&v, &c.bytes[k], 4);
      r.push_back(v);
    }
  } else if (c.type.dtype == DType::kBool) {
    for (uint8_t b : c.bytes) r.push_back(b != 0);
  } else {
    return std::nullopt;
  }
  return r;
}

opset::ArgView ArgOfVar(const Function& f, VarId id) {
  const Var& v = f.var(id);
  opset::ArgView a;
  a.type = {static_cast<int32_t>(v.type.dtype), v.type.shape};
  if (v.producer < 0) return a;
  const Operation& op = f.ops()[static_cast<size_t>(v.producer)];
  a.is_const = IsConstProducer(op.type) || IsCastOfConst(f, op);
  if (op.value) {
    a.ints = SmallInts(*op.value);
    if (op.value->type.dtype == DType::kString && op.value->strings.size() == 1) {
      a.str = op.value->strings[0];
    }
  }
  return a;
}

}  // namespace

int IosOf(const Function& f) { return opset::IosForOpset(f.opset()); }

opset::OpView ViewOfNewOp(const Function& f, std::string_view type,
                          const std::vector<OpInput>& inputs,
                          const std::vector<TensorType>& outputs) {
  opset::OpView view;
  view.type = std::string(type);
  for (const OpInput& in : inputs) {
    opset::InputView iv{in.name, {}};
    for (VarId id : in.vars) {
      if (f.IsValid(id)) iv.vars.push_back(ArgOfVar(f, id));
    }
    view.inputs.push_back(std::move(iv));
  }
  for (const TensorType& t : outputs) {
    view.outputs.push_back({static_cast<int32_t>(t.dtype), t.shape});
  }
  return view;
}

std::vector<std::string> CheckNewOp(const Function& f, std::string_view type,
                                    const std::vector<OpInput>& inputs,
                                    const std::vector<TensorType>& outputs) {
  return opset::CheckOp(ViewOfNewOp(f, type, inputs, outputs), IosOf(f));
}

namespace {

/// What the check knows about a var of a package: its type, and for consts their small values.
using VarTable = std::map<std::string, opset::ArgView, std::less<>>;

opset::TypeView TypeOf(const mil_pb::ValueType& t) {
  opset::TypeView r;
  if (!t.has_tensortype()) return r;
  r.dtype = static_cast<int32_t>(t.tensortype().datatype());
  for (const mil_pb::Dimension& d : t.tensortype().dimensions()) {
    r.shape.push_back(d.has_constant() ? static_cast<int64_t>(d.constant().size()) : -1);
  }
  return r;
}

/// An immediate value's small ints/bools and its string.
void ReadImmediate(const mil_pb::Value& v, opset::ArgView* a) {
  if (!v.has_immediatevalue() || !v.immediatevalue().has_tensor()) return;
  const mil_pb::TensorValue& t = v.immediatevalue().tensor();
  std::vector<int64_t> ints;
  if (t.has_ints()) ints.assign(t.ints().values().begin(), t.ints().values().end());
  if (t.has_bools()) ints.assign(t.bools().values().begin(), t.bools().values().end());
  if (t.has_longints()) ints.assign(t.longints().values().begin(), t.longints().values().end());
  if ((t.has_ints() || t.has_bools() || t.has_longints()) &&
      ints.size() <= static_cast<size_t>(kMaxValues)) {
    a->ints = std::move(ints);
  }
  if (t.has_strings() && t.strings().values_size() == 1) a->str = t.strings().values(0);
}

opset::ArgView ArgOfValue(const mil_pb::Value& v) {
  opset::ArgView a;
  a.type = TypeOf(v.type());
  a.is_const = true;
  ReadImmediate(v, &a);
  return a;
}

std::string OpName(const mil_pb::Operation& op) {
  auto it = op.attributes().find("name");
  if (it != op.attributes().end() && it->second.has_immediatevalue() &&
      it->second.immediatevalue().tensor().strings().values_size() == 1) {
    return it->second.immediatevalue().tensor().strings().values(0);
  }
  return op.outputs_size() > 0 ? op.outputs(0).name() : op.type();
}

/// The op as CheckOp reads it; inputs naming unknown vars are reported in `problems`.
opset::OpView ViewOfOp(const mil_pb::Operation& op, const VarTable& vars,
                       std::vector<std::string>* unknown) {
  opset::OpView view;
  view.type = op.type();
  // Inputs in name order: protobuf maps have no order, and reports must be reproducible.
  std::map<std::string, const mil_pb::Argument*> sorted;
  for (const auto& [name, arg] : op.inputs()) sorted[name] = &arg;
  for (const auto& [name, arg] : sorted) {
    opset::InputView in{name, {}};
    for (const mil_pb::Argument::Binding& b : arg->arguments()) {
      if (b.has_value()) {
        in.vars.push_back(ArgOfValue(b.value()));
        continue;
      }
      auto it = vars.find(b.name());
      if (it == vars.end()) {
        unknown->push_back(b.name());
        continue;
      }
      in.vars.push_back(it->second);
    }
    view.inputs.push_back(std::move(in));
  }
  for (const mil_pb::NamedValueType& out : op.outputs()) view.outputs.push_back(TypeOf(out.type()));
  return view;
}

VarTable CheckBlock(const mil_pb::Block& block, int ios, VarTable vars,
                    std::vector<OpProblem>* problems);

bool SameType(const opset::TypeView& a, const opset::TypeView& b) {
  return a.dtype == b.dtype && a.shape == b.shape;
}

/// What a nested block yields (or receives) against the types it must have: `what` names them.
void CheckTypes(const std::vector<opset::TypeView>& got, const std::vector<opset::TypeView>& want,
                const std::string& what, std::vector<std::string>* out) {
  if (got.size() != want.size()) {
    out->push_back(absl::StrCat(what, " ", got.size(), " values, not ", want.size()));
    return;
  }
  for (size_t k = 0; k < got.size(); ++k) {
    if (!SameType(got[k], want[k])) {
      out->push_back(absl::StrCat(what, " ", got[k].ToString(), " as value ", k, ", not ",
                                  want[k].ToString()));
    }
  }
}

std::vector<opset::TypeView> OutputTypes(const mil_pb::Block& block, const VarTable& vars) {
  std::vector<opset::TypeView> r;
  for (const std::string& name : block.outputs()) {
    auto it = vars.find(name);
    r.push_back(it == vars.end() ? opset::TypeView{} : it->second.type);
  }
  return r;
}

std::vector<opset::TypeView> InputTypes(const mil_pb::Block& block) {
  std::vector<opset::TypeView> r;
  for (const mil_pb::NamedValueType& in : block.inputs()) r.push_back(TypeOf(in.type()));
  return r;
}

/// The nested blocks of cond and while_loop against the op (coremltools' control_flow.py):
/// cond's two branches take no inputs and yield the op's output types; while_loop's condition
/// and body blocks take the loop vars' types, the condition yields one bool scalar, the body the
/// loop vars' types again, which are also the op's outputs. `nested` holds each block's vars.
std::vector<std::string> CheckNestedBlocks(const mil_pb::Operation& op, const opset::OpView& view,
                                           const std::vector<VarTable>& nested) {
  std::vector<std::string> out;
  const bool is_cond = op.type() == "cond";
  if (!is_cond && op.type() != "while_loop") {
    if (op.blocks_size() != 0) out.push_back(absl::StrCat(op.type(), " with nested blocks"));
    return out;
  }
  if (op.blocks_size() != 2) {
    out.push_back(absl::StrCat(op.type(), " with ", op.blocks_size(), " blocks, not 2"));
    return out;
  }
  const std::vector<opset::TypeView>& results = view.outputs;
  if (is_cond) {
    for (int b = 0; b < 2; ++b) {
      const std::string branch = b == 0 ? "true" : "false";
      if (op.blocks(b).inputs_size() != 0) {
        out.push_back(absl::StrCat("cond whose ", branch, " branch takes inputs"));
      }
      CheckTypes(OutputTypes(op.blocks(b), nested[static_cast<size_t>(b)]), results,
                 absl::StrCat("cond whose ", branch, " branch yields"), &out);
    }
    return out;
  }
  std::vector<opset::TypeView> loop_vars;
  for (const opset::InputView& in : view.inputs) {
    if (in.name != "loop_vars") continue;
    for (const opset::ArgView& a : in.vars) loop_vars.push_back(a.type);
  }
  CheckTypes(InputTypes(op.blocks(0)), loop_vars, "while_loop whose condition block takes", &out);
  CheckTypes(InputTypes(op.blocks(1)), loop_vars, "while_loop whose body takes", &out);
  const opset::TypeView flag{static_cast<int32_t>(mil_pb::BOOL), {}};
  CheckTypes(OutputTypes(op.blocks(0), nested[0]), {flag}, "while_loop whose condition yields",
             &out);
  CheckTypes(OutputTypes(op.blocks(1), nested[1]), loop_vars, "while_loop whose body yields", &out);
  CheckTypes(results, loop_vars, "while_loop with outputs", &out);
  return out;
}

/// Checks one op, then records its outputs (with a const's values) in `vars`.
void CheckOneOp(const mil_pb::Operation& op, int ios, VarTable* vars,
                std::vector<OpProblem>* problems) {
  std::vector<std::string> unknown;
  const opset::OpView view = ViewOfOp(op, *vars, &unknown);
  const std::string name = OpName(op);
  for (const std::string& u : unknown) {
    problems->push_back(
        {name, op.type(),
         absl::StrCat(op.type(), " reading '", u, "', which no earlier op defines")});
  }
  for (std::string& p : opset::CheckOp(view, ios)) {
    problems->push_back({name, op.type(), std::move(p)});
  }
  std::vector<VarTable> nested;
  for (const mil_pb::Block& b : op.blocks()) nested.push_back(CheckBlock(b, ios, *vars, problems));
  for (std::string& p : CheckNestedBlocks(op, view, nested)) {
    problems->push_back({name, op.type(), std::move(p)});
  }
  const opset::ArgView* cast_of = nullptr;
  if (op.type() == "cast") {
    for (const opset::InputView& in : view.inputs) {
      if (in.name == "x" && in.vars.size() == 1) cast_of = &in.vars[0];
    }
  }
  // As for a Function: a cast of a const is folded by Core ML, so it is a const.
  const bool is_const = IsConstProducer(op.type()) || (cast_of != nullptr && cast_of->is_const);
  for (int k = 0; k < op.outputs_size(); ++k) {
    opset::ArgView a;
    a.type = view.outputs[static_cast<size_t>(k)];
    a.is_const = is_const;
    if (op.type() == "const") {
      auto val = op.attributes().find("val");
      if (val != op.attributes().end()) ReadImmediate(val->second, &a);
    }
    (*vars)[op.outputs(k).name()] = std::move(a);
  }
}

/// A nested block sees the vars of the blocks around it (by value: its own stay inside); returns
/// the vars it sees at its end.
VarTable CheckBlock(const mil_pb::Block& block, int ios, VarTable vars,
                    std::vector<OpProblem>* problems) {
  for (const mil_pb::NamedValueType& in : block.inputs()) {
    vars[in.name()].type = TypeOf(in.type());
  }
  for (const mil_pb::Operation& op : block.operations()) CheckOneOp(op, ios, &vars, problems);
  return vars;
}

}  // namespace

absl::StatusOr<std::vector<OpProblem>> CheckProgram(const Package& package) {
  absl::StatusOr<const mil_pb::Block*> block = MainBlock(package);
  if (!block.ok()) {
    return core::Error(core::ErrorClass::kPackage,
                       absl::StrCat(package.root.string(), ": ", block.status().message()));
  }
  const auto& main = package.model.mlprogram().functions().at("main");
  const int ios = opset::IosForOpset(main.opset());
  if (ios == 0) {
    return core::Error(core::ErrorClass::kPackage,
                       absl::StrCat(package.root.string(), ": opset '", main.opset(),
                                    "' is not one of CoreML5..CoreML8; check knows those"));
  }
  VarTable vars;
  for (const mil_pb::NamedValueType& in : main.inputs()) vars[in.name()].type = TypeOf(in.type());
  std::vector<OpProblem> problems;
  CheckBlock(**block, ios, std::move(vars), &problems);
  return problems;
}

}  // namespace ts2coreml::mil
