#include "core/convert/constant_evaluator.h"

#include <cmath>
#include <functional>
#include <map>
#include <optional>

#include "absl/strings/str_cat.h"
#include "core/base/errors.h"

namespace ts2coreml::core {
namespace {

/// A guard (`if cond: raise ...`, imported as ts2coreml::raise_if(cond, raise_when, message)):
/// folded away when the static condition does not raise; an error naming the exception when it
/// does, or when the condition is only known at run time.
absl::StatusOr<EvalResult> EvaluateRaiseIf(const Graph& g, const Node& n);

/// aten::item / _local_scalar_dense: a one-element tensor known at conversion time as the
/// number of its class (int, float or bool). A run-time tensor is not handled here: its
/// lowering keeps the number as a tensor of rank 0.
absl::StatusOr<EvalResult> EvaluateItem(Graph& g, const Node& n);

/// Whether `n` is aten::item or aten::_local_scalar_dense.
bool IsItem(const Node& n) {
  return n.kind == "aten::item" || n.kind == "aten::_local_scalar_dense";
}

/// aten::_assert_async(cond): folded away when the one-element condition is a nonzero constant;
/// an error when it is zero (the model fails its assertion) or only known at run time (Core ML
/// cannot raise, and dropping the check would hide inputs the model rejects).
absl::StatusOr<EvalResult> EvaluateAssertAsync(const Graph& g, const Node& n);

absl::Status NotStatic(const Node& n, const std::string& why) {
  return Error(
      ErrorClass::kConversion,
      absl::StrCat(Where(n), ": ", why, "; only shapes known at conversion time are supported"));
}

bool IsNumber(const Value& v) {
  return v.is_const &&
         (v.kind == ValueKind::kInt || v.kind == ValueKind::kFloat || v.kind == ValueKind::kBool);
}

/// A one-element constant tensor (prim::NumToTensor of shape arithmetic, or a 0-d weight).
bool IsScalarTensor(const Value& v) {
  return v.is_const && v.kind == ValueKind::kTensor && v.tensor && v.tensor->numel() == 1 &&
         v.tensor->shape.empty();
}

double AsDouble(const Value& v) {
  if (v.kind == ValueKind::kInt) return static_cast<double>(v.i);
  if (v.kind == ValueKind::kBool) return v.b ? 1.0 : 0.0;
  if (v.kind == ValueKind::kTensor && v.tensor) return v.tensor->At(0);
  return v.f;
}

/// Whether a number or scalar tensor is of integer (or bool) class.
bool IsIntLike(const Value& v) {
  if (v.kind == ValueKind::kTensor) return v.tensor && v.tensor->type_class() != TypeClass::kFloat;
  return v.kind == ValueKind::kInt || v.kind == ValueKind::kBool;
}

void SetInt(Value& v, int64_t x) {
  v.is_const = true;
  v.kind = ValueKind::kInt;
  v.i = x;
}
void SetFloat(Value& v, double x) {
  v.is_const = true;
  v.kind = ValueKind::kFloat;
  v.f = x;
}
void SetBool(Value& v, bool x) {
  v.is_const = true;
  v.kind = ValueKind::kBool;
  v.b = x;
}

/// c10::ScalarType codes, as TorchScript passes dtypes.
int64_t ScalarTypeCode(ConstTensor::Storage s) {
  switch (s) {
    case ConstTensor::Storage::kFloat32:
      return 6;
    case ConstTensor::Storage::kFloat16:
      return 5;
    case ConstTensor::Storage::kFloat64:
      return 7;
    case ConstTensor::Storage::kInt64:
      return 4;
    case ConstTensor::Storage::kInt32:
      return 3;
    case ConstTensor::Storage::kBool:
      return 11;
  }
  return 6;
}
int64_t ScalarTypeCode(TypeClass c) {
  return c == TypeClass::kBool ? 11 : c == TypeClass::kInt ? 4 : 6;
}

/// A 0-d constant tensor holding a number (prim::NumToTensor).
void SetScalarTensor(Value& v, const Value& number) {
  auto t = std::make_shared<ConstTensor>();
  if (number.kind == ValueKind::kFloat) {
    auto data = std::make_shared<double>(number.f);
    t->storage = ConstTensor::Storage::kFloat64;
    t->data = data.get();
    t->owner = data;
  } else {
    auto data = std::make_shared<int64_t>(number.kind == ValueKind::kBool ? number.b : number.i);
    t->storage = ConstTensor::Storage::kInt64;
    t->data = data.get();
    t->owner = data;
  }
  v.is_const = true;
  v.kind = ValueKind::kTensor;
  v.typed = true;
  v.type_class = t->type_class();
  v.shape = {};
  v.tensor = std::move(t);
}

/// is_floating_point (from the tensor's type class) and _shape_as_tensor (its shape as a 1-d
/// int64 constant): both need only the type of their input.
absl::StatusOr<EvalResult> EvaluateTypeQuery(Graph& g, const Node& n) {
  const Value& t = g.value(g.Resolve(n.inputs.at(0)));
  if (!t.typed && !t.tensor) return NotStatic(n, absl::StrCat("'", t.name, "' has no known type"));
  Value& out = g.value(n.outputs[0]);
  if (n.kind == "aten::is_floating_point") {
    SetBool(out, (t.tensor ? t.tensor->type_class() : t.type_class) == TypeClass::kFloat);
    return EvalResult::kFolded;
  }
  const std::vector<int64_t> shape = t.tensor ? t.tensor->shape : t.shape;
  auto data = std::make_shared<std::vector<int64_t>>(shape);
  auto c = std::make_shared<ConstTensor>();
  c->storage = ConstTensor::Storage::kInt64;
  c->shape = {static_cast<int64_t>(shape.size())};
  c->data = data->data();
  c->owner = data;
  out.is_const = true;
  out.kind = ValueKind::kTensor;
  out.typed = true;
  out.type_class = TypeClass::kInt;
  out.shape = c->shape;
  out.tensor = std::move(c);
  return EvalResult::kFolded;
}

/// Scalar arithmetic and comparisons on constant numbers (aten::add.int, aten::floordiv, ...),
/// and the same ops on one-element constant tensors, which traced shape arithmetic produces
/// (aten::floor_divide(prim::NumToTensor(size), 2)): those fold to one-element constants.
/// `==` and `!=` of two constant int lists (a scripted `hx.size() != expected_size`).
absl::StatusOr<EvalResult> EvaluateListEquality(Graph& g, const Node& n) {
  if ((n.kind != "aten::eq" && n.kind != "aten::ne") || n.inputs.size() != 2 ||
      n.outputs.size() != 1) {
    return EvalResult::kNotHandled;
  }
  const Value& a = g.value(g.Resolve(n.inputs[0]));
  const Value& b = g.value(g.Resolve(n.inputs[1]));
  if (!a.is_const || !b.is_const || a.kind != ValueKind::kIntList ||
      b.kind != ValueKind::kIntList) {
    return EvalResult::kNotHandled;
  }
  SetBool(g.value(n.outputs[0]), (a.ints == b.ints) == (n.kind == "aten::eq"));
  return EvalResult::kFolded;
}

/// `x in list` on a constant list and a constant element (aten::__contains__.int_list,
/// .float_list, .str_list): a scripted `input.dim() in (1, 2)` once the rank is known.
absl::StatusOr<EvalResult> EvaluateListContains(Graph& g, const Node& n) {
  if (n.kind != "aten::__contains__" || n.inputs.size() != 2 || n.outputs.size() != 1) {
    return EvalResult::kNotHandled;
  }
  const Value& list = g.value(g.Resolve(n.inputs[0]));
  const Value& x = g.value(g.Resolve(n.inputs[1]));
  if (!list.is_const || !x.is_const) return EvalResult::kNotHandled;
  bool found = false;
  if (list.kind == ValueKind::kIntList && x.kind == ValueKind::kInt) {
    found = std::find(list.ints.begin(), list.ints.end(), x.i) != list.ints.end();
  } else if (list.kind == ValueKind::kFloatList && x.kind == ValueKind::kFloat) {
    found = std::find(list.floats.begin(), list.floats.end(), x.f) != list.floats.end();
  } else {
    return EvalResult::kNotHandled;
  }
  SetBool(g.value(n.outputs[0]), found);
  return EvalResult::kFolded;
}

/// The operands of a scalar op, read and normalised: the op's kind with its spellings merged
/// (floor_divide and div(rounding_mode='floor') are floordiv, rsub is sub with swapped operands),
/// add/sub's alpha apart from the operands.
struct ScalarOperands {
  std::string kind;
  std::vector<const Value*> in;
  double alpha = 1;
  bool all_int = false;
};

/// Reads the numeric operands of `n`; nullopt when `n` is not a scalar op on constant numbers
/// (or one-element constant tensors).
std::optional<ScalarOperands> ReadScalarOperands(const Graph& g, const Node& n, bool tensor_out) {
  ScalarOperands ops;
  // div(self, other, rounding_mode): the mode is a string (or None), not an operand.
  std::string rounding;
  size_t operands = n.inputs.size();
  if (n.kind == "aten::div" && operands == 3) {
    const Value& mode = g.value(g.Resolve(n.inputs[2]));
    if (!mode.is_const) return std::nullopt;
    if (mode.kind == ValueKind::kString) rounding = mode.s;
    operands = 2;
  }
  bool any_tensor = false;
  for (size_t i = 0; i < operands; ++i) {
    const Value& v = g.value(g.Resolve(n.inputs[i]));
    if (IsScalarTensor(v)) {
      any_tensor = true;
    } else if (!IsNumber(v)) {
      return std::nullopt;
    }
    ops.in.push_back(&v);
  }
  // A tensor result only from scalar tensors (not, say, aten::zeros(int) -> tensor).
  if (tensor_out && !any_tensor) return std::nullopt;
  ops.kind = n.kind == "aten::floor_divide"  ? "aten::floordiv"
             : n.kind == "aten::true_divide" ? "aten::div"
             : rounding == "floor"           ? "aten::floordiv"
             : rounding == "trunc"           ? "aten::div_trunc"
                                             : n.kind;
  // add/sub/rsub(self, other, alpha): alpha scales other.
  const std::string& k = ops.kind;
  if (ops.in.size() == 3 && (k == "aten::add" || k == "aten::sub" || k == "aten::rsub")) {
    ops.alpha = AsDouble(*ops.in[2]);
    ops.in.pop_back();
  }
  if (ops.kind == "aten::rsub" && ops.in.size() == 2) {
    std::swap(ops.in[0], ops.in[1]);
    ops.kind = "aten::sub";
  }
  ops.all_int =
      std::all_of(ops.in.begin(), ops.in.end(), [](const Value* v) { return IsIntLike(*v); }) &&
      ops.alpha == std::floor(ops.alpha);
  return ops;
}

/// Writes a scalar op's result into `out` as the output's kind: a number, or a 0-d tensor
/// promoted as torch does (int op int stays int, except true division and sqrt).
EvalResult SetScalarResult(Value& out, ValueKind out_kind, const ScalarOperands& ops, double x) {
  if (out_kind == ValueKind::kTensor) {
    Value number;
    number.is_const = true;
    // True division and sqrt of ints give floats; div_trunc and floordiv of ints stay int.
    if (ops.all_int && ops.kind != "aten::div" && ops.kind != "aten::sqrt") {
      number.kind = ValueKind::kInt;
      number.i = static_cast<int64_t>(x);
    } else {
      number.kind = ValueKind::kFloat;
      number.f = x;
    }
    SetScalarTensor(out, number);
  } else if (out_kind == ValueKind::kInt) {
    SetInt(out, static_cast<int64_t>(x));
  } else if (out_kind == ValueKind::kBool) {
    SetBool(out, x != 0);
  } else {
    SetFloat(out, x);
  }
  return EvalResult::kFolded;
}

std::optional<double> UnaryScalar(const std::string& k, double a) {
  if (k == "aten::neg") return -a;
  if (k == "aten::floor") return std::floor(a);
  if (k == "aten::ceil") return std::ceil(a);
  if (k == "aten::Int" || k == "aten::Float" || k == "aten::Bool") return a;
  if (k == "aten::__not__") return a == 0 ? 1 : 0;
  if (k == "aten::sqrt") return std::sqrt(a);
  return std::nullopt;
}

/// Integer arithmetic done exactly (no round trip through double); nullopt for the ops that are
/// the same on doubles (comparisons, pow).
absl::StatusOr<std::optional<int64_t>> IntBinary(const Node& n, const std::string& k, int64_t a,
                                                 int64_t b) {
  const bool divides = k == "aten::floordiv" || k == "aten::remainder" || k == "aten::__mod__" ||
                       k == "aten::div_trunc";
  if (divides && b == 0) return NotStatic(n, "integer division by zero");
  if (k == "aten::add") return a + b;
  if (k == "aten::sub") return a - b;
  if (k == "aten::mul") return a * b;
  if (k == "aten::div_trunc")
    return a / b;  // C++ truncates toward zero, like rounding_mode='trunc'
  if (k == "aten::floordiv") {
    int64_t q = a / b;
    if ((a % b != 0) && ((a < 0) != (b < 0))) --q;  // Python floors
    return q;
  }
  if (k == "aten::remainder" || k == "aten::__mod__") {
    int64_t r = a % b;
    if (r != 0 && ((r < 0) != (b < 0))) r += b;
    return r;
  }
  if (k == "prim::min") return std::min(a, b);
  if (k == "prim::max") return std::max(a, b);
  return std::optional<int64_t>();
}

std::optional<double> FloatBinary(const std::string& k, double a, double b) {
  if (k == "aten::add") return a + b;
  if (k == "aten::sub") return a - b;
  if (k == "aten::mul") return a * b;
  if (k == "aten::div") return a / b;
  if (k == "aten::div_trunc") return std::trunc(a / b);
  if (k == "aten::floordiv") return std::floor(a / b);
  if (k == "aten::remainder" || k == "aten::__mod__") return a - std::floor(a / b) * b;
  if (k == "aten::pow") return std::pow(a, b);
  if (k == "aten::eq") return a == b;
  if (k == "aten::ne") return a != b;
  if (k == "aten::lt") return a < b;
  if (k == "aten::le") return a <= b;
  if (k == "aten::gt") return a > b;
  if (k == "aten::ge") return a >= b;
  if (k == "prim::min") return std::min(a, b);
  if (k == "prim::max") return std::max(a, b);
  return std::nullopt;
}

absl::StatusOr<EvalResult> EvaluateScalarOp(Graph& g, const Node& n) {
  if (absl::StatusOr<EvalResult> r = EvaluateListEquality(g, n);
      !r.ok() || *r == EvalResult::kFolded) {
    return r;
  }
  if (absl::StatusOr<EvalResult> r = EvaluateListContains(g, n);
      !r.ok() || *r == EvalResult::kFolded) {
    return r;
  }
  if (n.outputs.size() != 1) return EvalResult::kNotHandled;
  const ValueKind out_kind = g.value(n.outputs[0]).kind;
  if (out_kind != ValueKind::kInt && out_kind != ValueKind::kFloat &&
      out_kind != ValueKind::kBool && out_kind != ValueKind::kTensor) {
    return EvalResult::kNotHandled;
  }
  std::optional<ScalarOperands> ops = ReadScalarOperands(g, n, out_kind == ValueKind::kTensor);
  if (!ops) return EvalResult::kNotHandled;
  Value& out = g.value(n.outputs[0]);
  if (ops->in.size() == 1) {
    std::optional<double> x = UnaryScalar(ops->kind, AsDouble(*ops->in[0]));
    return x ? SetScalarResult(out, out_kind, *ops, *x) : EvalResult::kNotHandled;
  }
  if (ops->in.size() != 2) return EvalResult::kNotHandled;
  if (ops->all_int) {
    const int64_t a = static_cast<int64_t>(AsDouble(*ops->in[0]));
    const int64_t b =
        static_cast<int64_t>(AsDouble(*ops->in[1])) * static_cast<int64_t>(ops->alpha);
    absl::StatusOr<std::optional<int64_t>> x = IntBinary(n, ops->kind, a, b);
    if (!x.ok()) return x.status();
    if (x->has_value()) {
      if (out_kind != ValueKind::kInt) {
        return SetScalarResult(out, out_kind, *ops, static_cast<double>(**x));
      }
      SetInt(out, **x);
      return EvalResult::kFolded;
    }
  }
  std::optional<double> x =
      FloatBinary(ops->kind, AsDouble(*ops->in[0]), AsDouble(*ops->in[1]) * ops->alpha);
  return x ? SetScalarResult(out, out_kind, *ops, *x) : EvalResult::kNotHandled;
}

absl::StatusOr<EvalResult> EvaluateListConstruct(Graph& g, const Node& n) {
  Value& out = g.value(n.outputs[0]);
  std::vector<const Value*> in;
  for (ValueId id : n.inputs) in.push_back(&g.value(g.Resolve(id)));
  if (out.kind == ValueKind::kTensorList || out.kind == ValueKind::kOther ||
      n.kind == "prim::TupleConstruct") {
    // Elements stay values of their own; the list is only a grouping (cat, stack, outputs).
    for (ValueId id : n.inputs) out.elements.push_back(g.Resolve(id));
    if (out.kind == ValueKind::kOther && n.kind == "prim::ListConstruct") {
      out.kind = ValueKind::kTensorList;
    }
    return EvalResult::kFolded;
  }
  for (const Value* v : in) {
    if (!v->is_const) {
      return NotStatic(n, absl::StrCat("list element '", v->name, "' is computed at run time"));
    }
  }
  out.is_const = true;
  for (const Value* v : in) {
    switch (out.kind) {
      case ValueKind::kIntList:
        out.ints.push_back(v->kind == ValueKind::kFloat ? static_cast<int64_t>(v->f) : v->i);
        break;
      case ValueKind::kFloatList:
        out.floats.push_back(AsDouble(*v));
        break;
      case ValueKind::kBoolList:
        out.bools.push_back(v->b);
        break;
      default:
        return NotStatic(n, "list of unsupported element type");
    }
  }
  return EvalResult::kFolded;
}

absl::StatusOr<EvalResult> EvaluateUnpack(Graph& g, const Node& n) {
  const Value& list = g.value(g.Resolve(n.inputs.at(0)));
  if (!list.elements.empty() || list.kind == ValueKind::kTensorList) {
    if (list.elements.size() != n.outputs.size()) {
      return NotStatic(n, absl::StrCat("unpacks ", n.outputs.size(), " values from a list of ",
                                       list.elements.size()));
    }
    for (size_t k = 0; k < n.outputs.size(); ++k) g.value(n.outputs[k]).alias = list.elements[k];
    return EvalResult::kFolded;
  }
  if (list.is_const && list.kind == ValueKind::kIntList && list.ints.size() == n.outputs.size()) {
    for (size_t k = 0; k < n.outputs.size(); ++k) SetInt(g.value(n.outputs[k]), list.ints[k]);
    return EvalResult::kFolded;
  }
  return NotStatic(n, "unpacks a list that is not known at conversion time");
}

/// Only model outputs use dicts here (the importer names outputs by their keys): the dict's
/// elements are its values.
absl::StatusOr<EvalResult> EvaluateDictConstruct(Graph& g, const Node& n) {
  Value& out = g.value(n.outputs[0]);
  for (size_t i = 1; i < n.inputs.size(); i += 2) out.elements.push_back(g.Resolve(n.inputs[i]));
  return EvalResult::kFolded;
}

/// aten::size and aten::sym_size (whole or one dimension), aten::dim and aten::numel of a typed
/// tensor.
absl::StatusOr<EvalResult> EvaluateShapeQuery(Graph& g, const Node& n) {
  const Value& t = g.value(g.Resolve(n.inputs.at(0)));
  if (!t.typed) return NotStatic(n, absl::StrCat("the shape of '", t.name, "' is unknown"));
  Value& out = g.value(n.outputs[0]);
  const int64_t rank = static_cast<int64_t>(t.shape.size());
  if (n.kind == "aten::dim") {
    SetInt(out, rank);
  } else if (n.kind == "aten::numel") {
    int64_t numel = 1;
    for (int64_t d : t.shape) numel *= d;
    SetInt(out, numel);
  } else if (n.inputs.size() == 1) {
    out.is_const = true;
    out.kind = ValueKind::kIntList;
    out.ints = t.shape;
  } else {
    const Value& dim = g.value(g.Resolve(n.inputs[1]));
    if (!dim.is_const) return NotStatic(n, "the dimension is computed at run time");
    if (n.kind == "aten::sym_size" && dim.i < 0) {
      return Error(
          ErrorClass::kConversion,
          absl::StrCat(
              Where(n), ": negative dimension ", dim.i,
              ": torch 1.13's sym_size does not wrap it and reads past the sizes; use x.size(dim)"));
    }
    const int64_t d = dim.i < 0 ? dim.i + rank : dim.i;
    if (d < 0 || d >= rank) {
      return Error(ErrorClass::kConversion,
                   absl::StrCat(Where(n), ": dimension ", dim.i, " out of range for rank ", rank));
    }
    SetInt(out, t.shape[static_cast<size_t>(d)]);
  }
  return EvalResult::kFolded;
}

absl::StatusOr<EvalResult> EvaluateLen(Graph& g, const Node& n) {
  const Value& l = g.value(g.Resolve(n.inputs.at(0)));
  if (l.kind == ValueKind::kTensorList) {
    SetInt(g.value(n.outputs[0]), static_cast<int64_t>(l.elements.size()));
  } else if (l.is_const && l.kind == ValueKind::kIntList) {
    SetInt(g.value(n.outputs[0]), static_cast<int64_t>(l.ints.size()));
  } else {
    return NotStatic(n, "length of a list not known at conversion time");
  }
  return EvalResult::kFolded;
}

/// list[i] and tuple[i] with a constant index: an int of a constant int list, else an alias of
/// the element.
absl::StatusOr<EvalResult> EvaluateGetItem(Graph& g, const Node& n) {
  const Value& l = g.value(g.Resolve(n.inputs.at(0)));
  const Value& idx = g.value(g.Resolve(n.inputs.at(1)));
  if (!idx.is_const) return NotStatic(n, "the index is computed at run time");
  const int64_t size =
      static_cast<int64_t>(l.kind == ValueKind::kIntList ? l.ints.size() : l.elements.size());
  const int64_t i = idx.i < 0 ? idx.i + size : idx.i;
  if (i < 0 || i >= size) return NotStatic(n, absl::StrCat("index ", idx.i, " out of range"));
  if (l.is_const && l.kind == ValueKind::kIntList) {
    SetInt(g.value(n.outputs[0]), l.ints[static_cast<size_t>(i)]);
  } else {
    g.value(n.outputs[0]).alias = l.elements.at(static_cast<size_t>(i));
  }
  return EvalResult::kFolded;
}

absl::StatusOr<EvalResult> EvaluateNumToTensor(Graph& g, const Node& n) {
  const Value& num = g.value(g.Resolve(n.inputs.at(0)));
  if (!IsNumber(num)) return NotStatic(n, "the number is computed at run time");
  SetScalarTensor(g.value(n.outputs[0]), num);
  return EvalResult::kFolded;
}

/// aten::Int/Float and the implicit scalar conversions of a number or one-element constant.
absl::StatusOr<EvalResult> EvaluateNumberCast(Graph& g, const Node& n) {
  const std::string& k = n.kind;
  const Value& in = g.value(g.Resolve(n.inputs.at(0)));
  double x = 0;
  if (IsNumber(in)) {
    x = AsDouble(in);
  } else if (in.is_const && in.tensor && in.tensor->numel() == 1) {
    x = in.tensor->At(0);
  } else {
    return NotStatic(n, absl::StrCat("'", in.name, "' is computed at run time"));
  }
  const bool to_int =
      k == "aten::Int" || k == "aten::IntImplicit" ||
      (k == "aten::ScalarImplicit" &&
       (in.kind == ValueKind::kInt || (in.tensor && in.tensor->type_class() == TypeClass::kInt)));
  if (to_int) {
    SetInt(g.value(n.outputs[0]), static_cast<int64_t>(x));
  } else {
    SetFloat(g.value(n.outputs[0]), x);
  }
  return EvalResult::kFolded;
}

absl::StatusOr<EvalResult> EvaluateDevice(Graph& g, const Node& n) {
  g.value(n.outputs[0]).is_const = true;
  return EvalResult::kFolded;
}

/// TorchScript passes dtypes as c10::ScalarType codes: a constant's own, else the nominal dtype
/// of the tensor's class (run-time float tensors are float32 here).
absl::StatusOr<EvalResult> EvaluateDtype(Graph& g, const Node& n) {
  const Value& t = g.value(g.Resolve(n.inputs.at(0)));
  if (!t.typed && !t.tensor) return NotStatic(n, absl::StrCat("'", t.name, "' has no known type"));
  SetInt(g.value(n.outputs[0]),
         t.tensor ? ScalarTypeCode(t.tensor->storage) : ScalarTypeCode(t.type_class));
  return EvalResult::kFolded;
}

/// prim::min/max of one constant int list; of two numbers, the scalar ops.
absl::StatusOr<EvalResult> EvaluateMinMax(Graph& g, const Node& n) {
  const Value& l = g.value(g.Resolve(n.inputs.at(0)));
  if (n.inputs.size() == 1 && l.is_const && l.kind == ValueKind::kIntList && !l.ints.empty()) {
    SetInt(g.value(n.outputs[0]), n.kind == "prim::min"
                                      ? *std::min_element(l.ints.begin(), l.ints.end())
                                      : *std::max_element(l.ints.begin(), l.ints.end()));
    return EvalResult::kFolded;
  }
  return EvaluateScalarOp(g, n);
}

using Evaluator = absl::StatusOr<EvalResult> (*)(Graph&, const Node&);

/// The ops the core evaluates itself, each with its evaluator: the one home of "what is a core
/// op". Other ops reach the scalar folding (EvaluateScalarOp) and otherwise their lowering.
const std::map<std::string, Evaluator>& CoreEvaluators() {
  static const auto* table = new std::map<std::string, Evaluator>{
      {"prim::ListConstruct", EvaluateListConstruct},
      {"prim::TupleConstruct", EvaluateListConstruct},
      {"prim::DictConstruct", EvaluateDictConstruct},
      {"prim::ListUnpack", EvaluateUnpack},
      {"prim::TupleUnpack", EvaluateUnpack},
      {"aten::size", EvaluateShapeQuery},
      {"aten::sym_size", EvaluateShapeQuery},
      {"aten::_assert_async", [](Graph& g, const Node& n) { return EvaluateAssertAsync(g, n); }},
      {"aten::dim", EvaluateShapeQuery},
      {"aten::numel", EvaluateShapeQuery},
      {"aten::len", EvaluateLen},
      {"aten::__getitem__", EvaluateGetItem},
      {"prim::TupleIndex", EvaluateGetItem},
      {"prim::NumToTensor", EvaluateNumToTensor},
      {"aten::Int", EvaluateNumberCast},
      {"aten::Float", EvaluateNumberCast},
      {"aten::ScalarImplicit", EvaluateNumberCast},
      {"aten::IntImplicit", EvaluateNumberCast},
      {"aten::FloatImplicit", EvaluateNumberCast},
      {"aten::is_floating_point", EvaluateTypeQuery},
      {"aten::_shape_as_tensor", EvaluateTypeQuery},
      {"prim::device", EvaluateDevice},
      {"prim::dtype", EvaluateDtype},
      {"ts2coreml::raise_if", [](Graph& g, const Node& n) { return EvaluateRaiseIf(g, n); }},
      {"prim::min", EvaluateMinMax},
      {"prim::max", EvaluateMinMax},
  };
  return *table;
}

}  // namespace

bool IsCoreOp(const Node& node) { return CoreEvaluators().count(node.kind) != 0; }

absl::StatusOr<EvalResult> EvaluateNode(Graph& g, int index) {
  const Node& n = g.nodes().at(static_cast<size_t>(index));
  const auto it = CoreEvaluators().find(n.kind);
  if (IsItem(n)) return EvaluateItem(g, n);
  if (it == CoreEvaluators().end()) return EvaluateScalarOp(g, n);
  absl::StatusOr<EvalResult> r = it->second(g, n);
  if (!r.ok() || *r == EvalResult::kFolded) return r;
  return NotStatic(n, "its inputs are not known at conversion time");
}

namespace {

absl::StatusOr<EvalResult> EvaluateItem(Graph& g, const Node& n) {
  const Value& in = g.value(g.Resolve(n.inputs.at(0)));
  Value& out = g.value(n.outputs[0]);
  if (IsNumber(in)) {
    if (in.kind == ValueKind::kInt) SetInt(out, in.i);
    if (in.kind == ValueKind::kFloat) SetFloat(out, in.f);
    if (in.kind == ValueKind::kBool) SetBool(out, in.b);
    return EvalResult::kFolded;
  }
  if (!in.is_const) return EvalResult::kNotHandled;
  if (!in.tensor) {
    return NotStatic(n, absl::StrCat("'", in.name, "' is not a tensor known at conversion time"));
  }
  if (in.tensor->numel() != 1) {
    return Error(ErrorClass::kConversion,
                 absl::StrCat(Where(n), ": a tensor with ", in.tensor->numel(),
                              " elements cannot be converted to a number (item needs one)"));
  }
  const double x = in.tensor->At(0);
  switch (in.tensor->type_class()) {
    case TypeClass::kBool:
      SetBool(out, x != 0);
      break;
    case TypeClass::kInt:
      SetInt(out, static_cast<int64_t>(x));
      break;
    default:
      SetFloat(out, x);
  }
  return EvalResult::kFolded;
}

absl::StatusOr<EvalResult> EvaluateAssertAsync(const Graph& g, const Node& n) {
  const Value& cond = g.value(g.Resolve(n.inputs.at(0)));
  double x = 0;
  if (IsNumber(cond)) {
    x = AsDouble(cond);
  } else if (cond.is_const && cond.tensor && cond.tensor->numel() == 1) {
    x = cond.tensor->At(0);
  } else if (cond.is_const && cond.tensor) {
    return Error(ErrorClass::kConversion,
                 absl::StrCat(Where(n), ": the condition has ", cond.tensor->numel(),
                              " elements; torch._assert_async needs one"));
  } else {
    return Error(
        ErrorClass::kConversion,
        absl::StrCat(
            Where(n), ": the asserted condition '", cond.name,
            "' depends on run-time tensor values; checks on tensor values cannot be converted (remove the torch._assert_async call)"));
  }
  if (x != 0) return EvalResult::kFolded;
  return Error(ErrorClass::kConversion,
               absl::StrCat("the model fails its assertion for the given input shapes (", Where(n),
                            ": the condition is zero)"));
}

absl::StatusOr<EvalResult> EvaluateRaiseIf(const Graph& g, const Node& n) {
  const Value& cond = g.value(g.Resolve(n.inputs.at(0)));
  const Value& when = g.value(g.Resolve(n.inputs.at(1)));
  const Value& message = g.value(g.Resolve(n.inputs.at(2)));
  const std::string text = message.s.empty() ? "" : absl::StrCat(": \"", message.s, "\"");
  if (!cond.is_const || (cond.kind != ValueKind::kBool && cond.kind != ValueKind::kInt)) {
    return Error(
        ErrorClass::kConversion,
        absl::StrCat(
            "prim::RaiseException", n.source.empty() ? "" : " at ", n.source, text,
            ": whether it raises depends on run-time tensor values; checks on tensor values cannot be converted"));
  }
  const bool value = cond.kind == ValueKind::kBool ? cond.b : cond.i != 0;
  if (value != when.b) return EvalResult::kFolded;
  return Error(
      ErrorClass::kConversion,
      absl::StrCat("the model raises an exception for the given input shapes (",
                   "prim::RaiseException", n.source.empty() ? "" : " at ", n.source, text, ")"));
}

}  // namespace

}  // namespace ts2coreml::core
