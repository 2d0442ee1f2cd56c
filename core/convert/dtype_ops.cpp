#include "core/convert/dtype_ops.h"

#include <algorithm>
#include <set>
#include <string_view>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "core/base/errors.h"

namespace ts2coreml::core {

const registry::Lowering& DtypeConversionLowering() {
  static const registry::Lowering* lowering = [] {
    auto* l = new registry::Lowering();
    l->name = "core:dtype_conversion";
    l->ops = {"aten::to", "aten::type_as", "aten::_to_copy", "aten::as_tensor"};
    l->inputs = {{"self", T2C_ROLE_TENSOR, T2C_MASK_ANY, 0}};
    return l;
  }();
  return *lowering;
}

bool IsDtypeOp(const Node& n) {
  // as_tensor of a tensor (no overload name) is `to(dtype)`; as_tensor.list builds a tensor.
  if (n.kind == "aten::as_tensor") return n.overload.empty();
  return n.kind == "aten::to" || n.kind == "aten::type_as" || n.kind == "aten::_to_copy";
}

namespace {

/// The input holding the ScalarType of a type op's overload, or -1 when it has none.
int DtypeInputIndex(const Node& n) {
  if (n.kind == "aten::_to_copy" || n.kind == "aten::as_tensor") return 1;
  const std::string& o = n.overload;
  if (o == "dtype" || o == "dtype_layout" || o == "prim_dtype") return 1;
  if (o == "device" || o == "prim_Device") return 2;
  return -1;
}

/// The class of c10::ScalarType `code` converted from class `from`, or an error for one Core ML
/// cannot hold.
absl::StatusOr<TypeClass> ClassOfScalarType(int64_t code, TypeClass from) {
  switch (code) {
    case 5:   // half
    case 6:   // float
    case 7:   // double
    case 15:  // bfloat16
      return TypeClass::kFloat;
    case 3:  // int32
    case 4:  // int64
      return TypeClass::kInt;
    case 11:
      return TypeClass::kBool;
    case 0:  // uint8
    case 1:  // int8
    case 2:  // int16
      // 0 and 1 are exact in any integer type; anything else would have to wrap around.
      if (from == TypeClass::kBool) return TypeClass::kInt;
      return Error(
          ErrorClass::kConversion,
          absl::StrCat(
              "converting to ",
              code == 0   ? "uint8"
              : code == 1 ? "int8"
                          : "int16",
              " wraps values around, which Core ML's int32 cannot express; convert to torch.int32 or torch.int64 instead"));
    default:
      return Error(ErrorClass::kConversion,
                   absl::StrCat("converting to ScalarType ", code,
                                " (complex or quantized): Core ML has no such dtype"));
  }
}

}  // namespace

absl::StatusOr<std::optional<TypeClass>> DtypeOpTarget(const Graph& g, const Node& n) {
  const Value& self = g.value(g.Resolve(n.inputs.at(0)));
  // type_as and to.other take the dtype of another tensor.
  if (n.kind == "aten::type_as" || n.overload == "other") {
    const Value& other = g.value(g.Resolve(n.inputs.at(1)));
    if (other.is_const && other.tensor) return other.tensor->type_class();
    if (!other.typed) return std::optional<TypeClass>();
    return std::optional<TypeClass>(other.type_class);
  }
  const int at = DtypeInputIndex(n);
  if (at < 0 || static_cast<size_t>(at) >= n.inputs.size()) return std::optional<TypeClass>();
  const Value& dtype = g.value(g.Resolve(n.inputs[static_cast<size_t>(at)]));
  if (dtype.kind == ValueKind::kNone) return std::optional<TypeClass>();
  if (!dtype.is_const || dtype.kind != ValueKind::kInt) {
    return Error(ErrorClass::kConversion,
                 absl::StrCat("the dtype '", dtype.name, "' is not known at conversion time"));
  }
  absl::StatusOr<TypeClass> c = ClassOfScalarType(dtype.i, self.type_class);
  if (!c.ok()) return c.status();
  return std::optional<TypeClass>(*c);
}

namespace {

/// Ops whose output holds the values of input 0 (views, copies, type ops): an argument's
/// integer use is seen through them.
bool KeepsValues(const Node& n) {
  static const std::set<std::string_view> kOps = {
      "aten::view",      "aten::reshape",  "aten::unsqueeze",  "aten::squeeze", "aten::flatten",
      "aten::select",    "aten::slice",    "aten::contiguous", "aten::expand",  "aten::permute",
      "aten::transpose", "aten::clone",    "aten::detach",     "aten::t",       "aten::to",
      "aten::type_as",   "aten::_to_copy", "aten::as_tensor"};
  return kOps.count(n.kind) != 0;
}

/// The input indices of `n` that are read as indices, or empty.
std::vector<size_t> IndexInputs(const Node& n) {
  if (n.kind == "aten::embedding" || n.kind == "aten::embedding_bag" ||
      n.kind == "aten::take_along_dim" || n.kind == "aten::index" || n.kind == "aten::take") {
    return {1};
  }
  if (n.kind == "aten::index_select" || n.kind == "aten::gather" || n.kind == "aten::scatter" ||
      n.kind == "aten::scatter_add" || n.kind == "aten::index_add" ||
      n.kind == "aten::index_fill" || n.kind == "aten::index_copy") {
    return {2};
  }
  if (n.kind == "aten::one_hot" || n.kind == "aten::bincount") return {0};
  return {};
}

bool IsComparison(const Node& n) {
  return n.kind == "aten::eq" || n.kind == "aten::ne" || n.kind == "aten::lt" ||
         n.kind == "aten::le" || n.kind == "aten::gt" || n.kind == "aten::ge";
}

}  // namespace

std::map<ValueId, IntegerUse> IntegerArgumentUses(const Graph& g) {
  // value -> the graph input whose values it holds, and whether a type op converted them (an
  // argument the model converts itself, x.long(), may well be a float).
  std::map<ValueId, std::pair<ValueId, bool>> origin;
  for (ValueId in : g.inputs()) origin[in] = {in, false};
  auto origin_of = [&](ValueId v) -> const std::pair<ValueId, bool>* {
    auto it = origin.find(g.Resolve(v));
    if (it == origin.end()) it = origin.find(v);
    return it == origin.end() ? nullptr : &it->second;
  };
  std::map<ValueId, IntegerUse> uses;
  auto record = [&](ValueId v, const Node& n, bool strong, int64_t high) {
    const std::pair<ValueId, bool>* o = origin_of(v);
    if (o == nullptr) return;
    strong = strong && !o->second;
    IntegerUse& u = uses[o->first];
    if (u.strong && !strong) {
      if (high > 0) u.high = u.high > 0 ? std::min(u.high, high) : high;
      return;
    }
    if (strong && !u.strong) u = IntegerUse{};
    u.strong = strong;
    if (u.how.empty()) {
      u.how = strong ? absl::StrCat(n.kind, " reads it as indices")
                     : absl::StrCat(n.kind, o->second ? " reads it (converted) as indices"
                                                      : " compares it with an integer");
    }
    if (high > 0) u.high = u.high > 0 ? std::min(u.high, high) : high;
  };
  for (const Node& n : g.nodes()) {
    if (n.inputs.empty()) continue;
    if (KeepsValues(n) && !n.outputs.empty()) {
      if (const std::pair<ValueId, bool>* o = origin_of(n.inputs[0])) {
        origin[n.outputs[0]] = {o->first, o->second || IsDtypeOp(n)};
      }
    }
    if (n.kind == "prim::ListConstruct" && n.outputs.size() == 1) {
      for (ValueId in : n.inputs) {
        if (const std::pair<ValueId, bool>* o = origin_of(in)) origin[n.outputs[0]] = *o;
      }
    }
    for (size_t i : IndexInputs(n)) {
      if (i >= n.inputs.size()) continue;
      int64_t high = 0;
      if (n.kind == "aten::embedding") {
        const Value& w = g.value(g.Resolve(n.inputs[0]));
        if (w.is_const && w.tensor && !w.tensor->shape.empty()) high = w.tensor->shape[0];
        if (!w.is_const && w.typed && !w.shape.empty()) high = w.shape[0];
      }
      record(n.inputs[i], n, true, high);
    }
    if (IsComparison(n) && n.inputs.size() == 2) {
      const Value& other = g.value(g.Resolve(n.inputs[1]));
      if (other.is_const && other.kind == ValueKind::kInt) record(n.inputs[0], n, false, 0);
    }
  }
  return uses;
}

namespace {

std::string ShapeText(const std::vector<int64_t>& shape) {
  return shape.empty() ? "1" : absl::StrJoin(shape, "x");
}

}  // namespace

absl::Status CheckIntegerArguments(const Graph& g, const std::map<ValueId, IntegerUse>& uses,
                                   std::vector<std::string>* notes) {
  for (const auto& [id, use] : uses) {
    const Value& v = g.value(id);
    if (!v.typed || v.type_class != TypeClass::kFloat) continue;
    const std::string fix = absl::StrCat("--input ", v.name, ":", ShapeText(v.shape), ":int64");
    const bool given = v.input_dtype != InputDtype::kDefault;
    if (use.strong) {
      return Error(ErrorClass::kInputSpec,
                   absl::StrCat("forward() argument '", v.name, "' is ",
                                given ? absl::StrCat("given as ", InputDtypeName(v.input_dtype))
                                      : "float (no DTYPE in its --input; traced models carry none)",
                                " but ", use.how, "; give ", fix));
    }
    if (!given) {
      notes->push_back(absl::StrCat("forward() argument '", v.name, "' is taken as float, but ",
                                    use.how, "; if it holds integers, give ", fix));
    }
  }
  return absl::OkStatus();
}

}  // namespace ts2coreml::core
