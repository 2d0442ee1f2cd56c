#include "core/convert/control_flow_ops.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace ts2coreml::core {
namespace {

std::string TypeText(TypeClass cls, const std::vector<int64_t>& shape) {
  return absl::StrCat(TypeClassName(cls), "[", absl::StrJoin(shape, ","), "]");
}

/// Whether value `id` is a bool usable as a condition: a bool constant or a bool tensor of
/// rank 0.
bool IsCondition(const Graph& g, ValueId id) {
  TypeClass cls = TypeClass::kUnknown;
  std::vector<int64_t> shape;
  return CarriedType(g, id, &cls, &shape) && cls == TypeClass::kBool && shape.empty();
}

void SetTensorType(Value& v, TypeClass cls, std::vector<int64_t> shape) {
  v.kind = ValueKind::kTensor;
  v.typed = true;
  v.is_const = false;
  v.type_class = cls;
  v.shape = std::move(shape);
}

std::string TypeIfOutputs(Graph& g, int idx) {
  Node& n = g.nodes()[static_cast<size_t>(idx)];
  if (n.blocks.size() != 2 || n.inputs.size() != 1) return absl::StrCat(Where(n), ": malformed");
  if (!IsCondition(g, n.inputs[0])) {
    return absl::StrCat(Where(n), ": the branch condition is not a bool of rank 0");
  }
  for (size_t k = 0; k < n.outputs.size(); ++k) {
    TypeClass c[2];
    std::vector<int64_t> s[2];
    for (int b = 0; b < 2; ++b) {
      if (!CarriedType(g, n.blocks[static_cast<size_t>(b)].outputs.at(k), &c[b], &s[b])) {
        return absl::StrCat(Where(n), ": result ", k, " of the ", b == 0 ? "then" : "else",
                            " branch is not a tensor; MIL cond yields tensors only");
      }
    }
    if (c[0] != c[1] || s[0] != s[1]) {
      return absl::StrCat(Where(n), ": result ", k, " is ", TypeText(c[0], s[0]),
                          " in the then branch and ", TypeText(c[1], s[1]),
                          " in the else branch; MIL cond needs one type from both branches");
    }
    SetTensorType(g.value(n.outputs[k]), c[0], s[0]);
  }
  return "";
}

std::string TypeLoopOutputs(Graph& g, int idx) {
  Node& n = g.nodes()[static_cast<size_t>(idx)];
  if (n.blocks.size() != 1 || n.inputs.size() < 2) return absl::StrCat(Where(n), ": malformed");
  const Block& body = n.blocks[0];
  const Value& trips = g.value(g.Resolve(n.inputs[0]));
  if (!trips.is_const || trips.kind != ValueKind::kInt) {
    return absl::StrCat(Where(n), ": the loop's trip count is not known at conversion time");
  }
  if (!IsCondition(g, n.inputs[1]) || !IsCondition(g, body.outputs.at(0))) {
    return absl::StrCat(Where(n), ": the loop's condition is not a bool of rank 0");
  }
  for (size_t k = 0; k < n.outputs.size(); ++k) {
    const Value& in = g.value(body.inputs.at(k + 1));
    TypeClass cls = TypeClass::kUnknown;
    std::vector<int64_t> shape;
    if (!CarriedType(g, body.outputs.at(k + 1), &cls, &shape)) {
      return absl::StrCat(Where(n), ": the body yields '", in.name,
                          "' as a value that is not a tensor");
    }
    if (cls != in.type_class || shape != in.shape) {
      return absl::StrCat(Where(n), ": loop-carried '", in.name, "' enters the loop as ",
                          TypeText(in.type_class, in.shape), " but the body yields ",
                          TypeText(cls, shape),
                          "; a while_loop's values keep one type through the loop");
    }
    SetTensorType(g.value(n.outputs[k]), cls, shape);
  }
  return "";
}

}  // namespace

const registry::Lowering& ControlFlowLowering() {
  static const registry::Lowering* lowering = [] {
    auto* l = new registry::Lowering();
    l->name = "core:control_flow";
    l->ops = {"prim::If", "prim::Loop"};
    return l;
  }();
  return *lowering;
}

bool IsControlFlow(const Node& n) {
  return !n.blocks.empty() && (n.kind == "prim::If" || n.kind == "prim::Loop");
}

bool CarriedType(const Graph& g, ValueId id, TypeClass* cls, std::vector<int64_t>* shape) {
  const Value& v = g.value(g.Resolve(id));
  if (v.kind == ValueKind::kBool || (v.kind == ValueKind::kInt && v.is_const)) {
    *cls = v.kind == ValueKind::kBool ? TypeClass::kBool : TypeClass::kInt;
    shape->clear();
    return true;
  }
  if (v.kind != ValueKind::kTensor || !v.typed) return false;
  *cls = v.type_class;
  *shape = v.shape;
  return v.type_class != TypeClass::kUnknown;
}

std::optional<int> TakenBlock(const Graph& g, const Node& n) {
  if (n.kind != "prim::If" || n.blocks.size() != 2 || n.inputs.size() != 1) return std::nullopt;
  const Value& cond = g.value(g.Resolve(n.inputs[0]));
  if (!cond.is_const) return std::nullopt;
  if (cond.kind == ValueKind::kBool) return cond.b ? 0 : 1;
  if (cond.kind == ValueKind::kInt) return cond.i != 0 ? 0 : 1;
  if (cond.kind == ValueKind::kTensor && cond.tensor && cond.tensor->numel() == 1) {
    return cond.tensor->At(0) != 0 ? 0 : 1;
  }
  return std::nullopt;
}

std::string TypeBlockInputs(Graph& g, int owner, int block) {
  const Node& n = g.nodes()[static_cast<size_t>(owner)];
  if (n.kind != "prim::Loop") return "";
  const Block& body = n.blocks.at(static_cast<size_t>(block));
  if (body.inputs.size() != n.inputs.size() - 1) return absl::StrCat(Where(n), ": malformed");
  SetTensorType(g.value(body.inputs[0]), TypeClass::kInt, {});
  for (size_t k = 1; k < body.inputs.size(); ++k) {
    TypeClass cls = TypeClass::kUnknown;
    std::vector<int64_t> shape;
    const ValueId init = n.inputs[k + 1];
    if (!CarriedType(g, init, &cls, &shape)) {
      return absl::StrCat(Where(n), ": the loop carries '", g.value(g.Resolve(init)).name,
                          "', which is not a typed tensor; a while_loop carries tensors only");
    }
    SetTensorType(g.value(body.inputs[k]), cls, std::move(shape));
  }
  return "";
}

std::string TypeControlFlowOutputs(Graph& g, int idx) {
  const Node& n = g.nodes()[static_cast<size_t>(idx)];
  return n.kind == "prim::If" ? TypeIfOutputs(g, idx) : TypeLoopOutputs(g, idx);
}

const registry::Lowering& ScalarOpLowering() {
  static const registry::Lowering* lowering = [] {
    auto* l = new registry::Lowering();
    l->name = "core:scalar_op";
    return l;
  }();
  return *lowering;
}

std::string ScalarOpMil(const Graph& g, const Node& n, TypeClass* result) {
  struct Op {
    const char* kind;
    const char* mil;
    TypeClass operands;
    TypeClass result;
  };
  static const Op kOps[] = {
      {"aten::add", "add", TypeClass::kInt, TypeClass::kInt},
      {"aten::sub", "sub", TypeClass::kInt, TypeClass::kInt},
      {"aten::mul", "mul", TypeClass::kInt, TypeClass::kInt},
      {"aten::lt", "less", TypeClass::kInt, TypeClass::kBool},
      {"aten::le", "less_equal", TypeClass::kInt, TypeClass::kBool},
      {"aten::gt", "greater", TypeClass::kInt, TypeClass::kBool},
      {"aten::ge", "greater_equal", TypeClass::kInt, TypeClass::kBool},
      {"aten::eq", "equal", TypeClass::kInt, TypeClass::kBool},
      {"aten::ne", "not_equal", TypeClass::kInt, TypeClass::kBool},
      {"aten::__and__", "logical_and", TypeClass::kBool, TypeClass::kBool},
      {"aten::__or__", "logical_or", TypeClass::kBool, TypeClass::kBool},
      {"aten::__not__", "logical_not", TypeClass::kBool, TypeClass::kBool},
  };
  if (n.outputs.size() != 1 || n.inputs.empty() || n.inputs.size() > 2 ||
      (n.overload != "int" && n.overload != "bool" && !n.overload.empty())) {
    return "";  // tensor overloads are the plugins'
  }
  const Op* op = nullptr;
  for (const Op& o : kOps) {
    if (n.kind == o.kind) op = &o;
  }
  if (op == nullptr || (n.inputs.size() == 1) != (op->mil == std::string("logical_not"))) {
    return "";
  }
  bool any_run_time = false;
  for (ValueId id : n.inputs) {
    const Value& v = g.value(g.Resolve(id));
    const bool number =
        v.is_const &&
        (op->operands == TypeClass::kInt ? v.kind == ValueKind::kInt : v.kind == ValueKind::kBool);
    const bool scalar = !v.is_const && v.kind == ValueKind::kTensor && v.typed &&
                        v.type_class == op->operands && v.shape.empty();
    if (!number && !scalar) return "";
    any_run_time |= scalar;
  }
  if (!any_run_time) return "";
  *result = op->result;
  return op->mil;
}

const registry::Lowering& DynamicIndexLowering() {
  static const registry::Lowering* lowering = [] {
    auto* l = new registry::Lowering();
    l->name = "core:dynamic_index";
    return l;
  }();
  return *lowering;
}

namespace {

/// Whether `id` is a run-time int scalar (an int32 tensor of rank 0 made at run time).
bool IsRunTimeInt(const Graph& g, ValueId id) {
  const Value& v = g.value(g.Resolve(id));
  return !v.is_const && v.kind == ValueKind::kTensor && v.typed &&
         v.type_class == TypeClass::kInt && v.shape.empty();
}

bool ConstInt(const Graph& g, ValueId id, int64_t* out) {
  const Value& v = g.value(g.Resolve(id));
  if (!v.is_const || v.kind != ValueKind::kInt) return false;
  *out = v.i;
  return true;
}

/// c when `end` is `start + c` (or `c + start`) for a constant int c, else nullopt.
std::optional<int64_t> OffsetFrom(const Graph& g, ValueId start, ValueId end) {
  const Value& e = g.value(g.Resolve(end));
  if (e.producer < 0) return std::nullopt;
  const Node& add = g.nodes()[static_cast<size_t>(e.producer)];
  if (add.kind != "aten::add" || add.inputs.size() != 2) return std::nullopt;
  const ValueId s = g.Resolve(start);
  int64_t c = 0;
  if (g.Resolve(add.inputs[0]) == s && ConstInt(g, add.inputs[1], &c)) return c;
  if (g.Resolve(add.inputs[1]) == s && ConstInt(g, add.inputs[0], &c)) return c;
  return std::nullopt;
}

/// select_scatter(self, src, dim, i) as a DynamicIndex `d` (self, start and dim set): src must
/// have the type of self[i].
std::optional<DynamicIndex> AsDynamicWrite(const Graph& g, const Node& n, DynamicIndex d,
                                           std::string* why) {
  d.src = n.inputs[1];
  const Value& self = g.value(g.Resolve(d.self));
  const Value& src = g.value(g.Resolve(d.src));
  std::vector<int64_t> row = self.shape;
  row.erase(row.begin() + d.dim);
  if (src.kind != ValueKind::kTensor || !src.typed || src.shape != row ||
      src.type_class != self.type_class) {
    *why = absl::StrCat(Where(n), ": writing ", TypeText(src.type_class, src.shape),
                        " at a run-time index of dimension ", d.dim, " of a ",
                        TypeText(self.type_class, self.shape),
                        " tensor; the written tensor must have the type of one slice");
    return std::nullopt;
  }
  return d;
}

}  // namespace

std::optional<DynamicIndex> AsDynamicIndex(const Graph& g, const Node& n, std::string* why) {
  const bool select = n.kind == "aten::select" && n.inputs.size() == 3;
  const bool slice = n.kind == "aten::slice" && n.inputs.size() == 5;
  const bool narrow = n.kind == "aten::narrow" && n.inputs.size() == 4;
  const bool scatter = n.kind == "aten::select_scatter" && n.inputs.size() == 4;
  const size_t at = scatter ? 3 : 2;
  if ((!select && !slice && !narrow && !scatter) || n.outputs.size() != 1 ||
      !IsRunTimeInt(g, n.inputs[at])) {
    return std::nullopt;
  }
  const Value& self = g.value(g.Resolve(n.inputs[0]));
  DynamicIndex d;
  d.self = n.inputs[0];
  d.start = n.inputs[at];
  d.select = select || scatter;
  const int64_t rank = static_cast<int64_t>(self.shape.size());
  if (self.kind != ValueKind::kTensor || !self.typed || !ConstInt(g, n.inputs[at - 1], &d.dim) ||
      d.dim < -rank || d.dim >= rank) {
    return std::nullopt;
  }
  if (d.dim < 0) d.dim += rank;
  if (scatter) return AsDynamicWrite(g, n, d, why);
  if (select && self.type_class == TypeClass::kBool) {
    *why = absl::StrCat(
        Where(n),
        ": selecting from a bool tensor by a run-time index does not convert (MIL gather takes no bools)");
    return std::nullopt;
  }
  int64_t step = 1;
  if (slice && (!ConstInt(g, n.inputs[4], &step) || step != 1)) {
    *why = absl::StrCat(Where(n), ": a slice from a run-time index converts with step 1 only");
    return std::nullopt;
  }
  std::optional<int64_t> length = 1;
  if (slice) length = OffsetFrom(g, n.inputs[2], n.inputs[3]);
  if (int64_t c = 0; narrow)
    length = ConstInt(g, n.inputs[3], &c) ? std::optional(c) : std::nullopt;
  if (!length || *length < 0 || *length > self.shape[static_cast<size_t>(d.dim)]) {
    *why = absl::StrCat(
        Where(n), ": the slice from run-time index '", g.value(g.Resolve(d.start)).name,
        "' must have a length known at conversion time, at most the dimension's: end it at the index plus a constant (x[i:i+2])");
    return std::nullopt;
  }
  d.length = *length;
  return d;
}

std::vector<int64_t> DynamicIndexShape(const Graph& g, const DynamicIndex& d) {
  std::vector<int64_t> shape = g.value(g.Resolve(d.self)).shape;
  if (d.src != kNoValue) return shape;
  if (d.select) {
    shape.erase(shape.begin() + d.dim);
  } else {
    shape[static_cast<size_t>(d.dim)] = d.length;
  }
  return shape;
}

std::string AliasTensorToBool(Graph& g, const Node& n) {
  const ValueId in = g.Resolve(n.inputs.at(0));
  const Value& v = g.value(in);
  if (v.type_class != TypeClass::kBool || !v.shape.empty()) {
    return absl::StrCat(Where(n), ": bool() of a ", TypeText(v.type_class, v.shape),
                        " tensor; only a comparison's bool result of rank 0 (bool(x.sum() > 0)) "
                        "converts");
  }
  g.value(n.outputs.at(0)).alias = in;
  return "";
}

}  // namespace ts2coreml::core
