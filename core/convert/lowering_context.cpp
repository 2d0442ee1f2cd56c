#include "core/convert/lowering_context.h"

#include <limits>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "core/convert/program_emitter.h"
#include "core/mil/fp16.h"
#include "core/mil/validator.h"

using ts2coreml::core::Graph;
using ts2coreml::core::TypeClass;
using ts2coreml::core::Value;
using ts2coreml::core::ValueId;
using ts2coreml::core::ValueKind;
namespace mil = ts2coreml::mil;

const Value* t2c_context::input(uint32_t i) const {
  const auto& inputs = node().inputs;
  if (i >= inputs.size()) return nullptr;
  return &graph->value(graph->Resolve(inputs[i]));
}

void t2c_context::Fail(std::string message) {
  for (const std::string& e : errors) {
    if (e == message) return;
  }
  errors.push_back(std::move(message));
}

std::string t2c_context::ErrorMessage() const {
  if (errors.empty()) return "failed without a message";
  // The lowering's own message comes last (it returns after the host call that failed).
  std::vector<std::string> ordered(errors.rbegin(), errors.rend());
  return absl::StrJoin(ordered, "; ");
}

namespace ts2coreml::core {

mil::DType ToMil(int32_t dtype) {
  switch (dtype) {
    case T2C_DTYPE_BOOL:
      return mil::DType::kBool;
    case T2C_DTYPE_STRING:
      return mil::DType::kString;
    case T2C_DTYPE_FP16:
      return mil::DType::kFloat16;
    case T2C_DTYPE_FP32:
      return mil::DType::kFloat32;
    case T2C_DTYPE_INT32:
      return mil::DType::kInt32;
    default:
      return mil::DType::kInvalid;
  }
}

mil::DType NominalDType(TypeClass c) {
  switch (c) {
    case TypeClass::kFloat:
      return mil::DType::kFloat32;
    case TypeClass::kInt:
      return mil::DType::kInt32;
    case TypeClass::kBool:
      return mil::DType::kBool;
    case TypeClass::kUnknown:
      break;
  }
  return mil::DType::kInvalid;
}

TypeClass ClassOf(mil::DType dtype) {
  switch (dtype) {
    case mil::DType::kFloat16:
    case mil::DType::kFloat32:
      return TypeClass::kFloat;
    case mil::DType::kInt32:
      return TypeClass::kInt;
    case mil::DType::kBool:
      return TypeClass::kBool;
    default:
      return TypeClass::kUnknown;
  }
}

namespace {

using Ctx = t2c_context;
using Phase = t2c_context::Phase;

template <typename F>
t2c_status Guard(Ctx* ctx, const char* fn, F&& body) noexcept {
  try {
    return body();
  } catch (const std::exception& e) {
    ctx->Fail(absl::StrCat(fn, ": ", e.what()));
  } catch (...) {
    ctx->Fail(absl::StrCat(fn, ": unknown exception"));
  }
  return T2C_ERROR;
}

t2c_status Bad(Ctx* ctx, std::string message) {
  ctx->Fail(std::move(message));
  return T2C_ERROR;
}

std::string InputName(Ctx* ctx, uint32_t i) {
  const auto& decls = ctx->lowering->inputs;
  if (i < decls.size() && !decls[i].name.empty()) {
    return absl::StrCat("input ", i, " '", decls[i].name, "'");
  }
  return absl::StrCat("input ", i);
}

bool WantPhase(Ctx* ctx, Phase phase, const char* fn) {
  if (ctx->phase == phase) return true;
  ctx->Fail(
      absl::StrCat(fn, " is only available during ", phase == Phase::kInfer ? "infer" : "lower"));
  return false;
}

bool FillType(const mil::TensorType& t, t2c_tensor_type* out) {
  if (t.shape.size() > T2C_MAX_RANK) return false;
  out->dtype = static_cast<int32_t>(t.dtype);
  out->rank = static_cast<int32_t>(t.shape.size());
  for (size_t k = 0; k < t.shape.size(); ++k) out->dims[k] = t.shape[k];
  return true;
}

/// The type a lowering sees for a tensor value: nominal during infer, planned during lower.
mil::TensorType SeenType(Ctx* ctx, const Value& v, uint32_t i) {
  mil::TensorType t{NominalDType(v.type_class), v.shape};
  if (ctx->phase == Phase::kLower && ctx->plan && i < ctx->plan->inputs.size() &&
      ctx->plan->inputs[i] != mil::DType::kInvalid) {
    t.dtype = ctx->plan->inputs[i];
  }
  return t;
}

const char* NodeKind(Ctx* ctx) { return ctx->kind.c_str(); }
uint32_t NumInputs(Ctx* ctx) { return static_cast<uint32_t>(ctx->node().inputs.size()); }
uint32_t NumOutputs(Ctx* ctx) { return static_cast<uint32_t>(ctx->node().outputs.size()); }

int32_t InputKind(Ctx* ctx, uint32_t i) {
  const Value* v = ctx->input(i);
  return v ? static_cast<int32_t>(v->kind) : static_cast<int32_t>(ValueKind::kOther);
}

t2c_status InputType(Ctx* ctx, uint32_t i, t2c_tensor_type* out) {
  return Guard(ctx, "input_type", [&] {
    const Value* v = ctx->input(i);
    if (!v) return Bad(ctx, absl::StrCat(InputName(ctx, i), " does not exist"));
    // A number on a tensor input is a rank-0 tensor of its class (the ABI's promise).
    if (v->is_const && (v->kind == ValueKind::kInt || v->kind == ValueKind::kFloat ||
                        v->kind == ValueKind::kBool)) {
      Value scalar;
      scalar.type_class = v->kind == ValueKind::kFloat ? TypeClass::kFloat
                          : v->kind == ValueKind::kInt ? TypeClass::kInt
                                                       : TypeClass::kBool;
      if (!FillType(SeenType(ctx, scalar, i), out)) return Bad(ctx, "rank exceeds T2C_MAX_RANK");
      return T2C_OK;
    }
    if (v->kind != ValueKind::kTensor || !v->typed) {
      return Bad(ctx, absl::StrCat(InputName(ctx, i), " is ", ValueKindName(v->kind),
                                   ", not a typed tensor"));
    }
    if (!FillType(SeenType(ctx, *v, i), out)) return Bad(ctx, "rank exceeds T2C_MAX_RANK");
    return T2C_OK;
  });
}

int32_t InputIsConst(Ctx* ctx, uint32_t i) {
  const Value* v = ctx->input(i);
  return v && v->is_const ? 1 : 0;
}

/// A host number from an int/float/bool constant or a one-element constant tensor.
bool HostNumber(const Value& v, double* out, bool* is_int) {
  if (!v.is_const) return false;
  switch (v.kind) {
    case ValueKind::kInt:
      *out = static_cast<double>(v.i);
      *is_int = true;
      return true;
    case ValueKind::kFloat:
      *out = v.f;
      *is_int = false;
      return true;
    case ValueKind::kBool:
      *out = v.b ? 1 : 0;
      *is_int = true;
      return true;
    case ValueKind::kTensor:
      if (v.tensor && v.tensor->numel() == 1) {
        *out = v.tensor->At(0);
        *is_int = v.tensor->type_class() != TypeClass::kFloat;
        return true;
      }
      return false;
    default:
      return false;
  }
}

t2c_status InputInt(Ctx* ctx, uint32_t i, int64_t* out) {
  return Guard(ctx, "input_int", [&] {
    const Value* v = ctx->input(i);
    double x = 0;
    bool is_int = false;
    if (!v || !HostNumber(*v, &x, &is_int) || !is_int) {
      return Bad(ctx, absl::StrCat(InputName(ctx, i), " is not a constant int"));
    }
    *out = v->kind == ValueKind::kInt ? v->i : static_cast<int64_t>(x);
    return T2C_OK;
  });
}

t2c_status InputFloat(Ctx* ctx, uint32_t i, double* out) {
  return Guard(ctx, "input_float", [&] {
    const Value* v = ctx->input(i);
    bool is_int = false;
    if (!v || !HostNumber(*v, out, &is_int)) {
      return Bad(ctx, absl::StrCat(InputName(ctx, i), " is not a constant number"));
    }
    return T2C_OK;
  });
}

t2c_status InputBool(Ctx* ctx, uint32_t i, int32_t* out) {
  return Guard(ctx, "input_bool", [&] {
    const Value* v = ctx->input(i);
    if (!v || !v->is_const || (v->kind != ValueKind::kBool && v->kind != ValueKind::kInt)) {
      return Bad(ctx, absl::StrCat(InputName(ctx, i), " is not a constant bool"));
    }
    *out = v->kind == ValueKind::kBool ? (v->b ? 1 : 0) : (v->i != 0 ? 1 : 0);
    return T2C_OK;
  });
}

t2c_status InputInts(Ctx* ctx, uint32_t i, const int64_t** data, uint32_t* n) {
  return Guard(ctx, "input_ints", [&] {
    const Value* v = ctx->input(i);
    if (!v || !v->is_const) {
      return Bad(ctx, absl::StrCat(InputName(ctx, i), " is not a constant int list"));
    }
    std::vector<int64_t> ints;
    if (v->kind == ValueKind::kIntList) {
      ints = v->ints;
    } else if (v->kind == ValueKind::kInt) {
      ints = {v->i};
    } else if (v->kind == ValueKind::kTensor && v->tensor &&
               v->tensor->type_class() == TypeClass::kInt && v->tensor->shape.size() <= 1) {
      ints = v->tensor->ToInts();
    } else {
      return Bad(ctx, absl::StrCat(InputName(ctx, i), " is ", ValueKindName(v->kind),
                                   ", not a constant int list"));
    }
    ctx->int_lists.push_back(std::move(ints));
    *data = ctx->int_lists.back().data();
    *n = static_cast<uint32_t>(ctx->int_lists.back().size());
    return T2C_OK;
  });
}

t2c_status InputFloats(Ctx* ctx, uint32_t i, const double** data, uint32_t* n) {
  return Guard(ctx, "input_floats", [&] {
    const Value* v = ctx->input(i);
    if (!v || !v->is_const) {
      return Bad(ctx, absl::StrCat(InputName(ctx, i), " is not a constant float list"));
    }
    std::vector<double> floats;
    if (v->kind == ValueKind::kFloatList) {
      floats = v->floats;
    } else if (v->kind == ValueKind::kIntList) {
      floats.assign(v->ints.begin(), v->ints.end());
    } else if (v->kind == ValueKind::kFloat) {
      floats = {v->f};
    } else if (v->kind == ValueKind::kInt) {
      floats = {static_cast<double>(v->i)};
    } else {
      return Bad(ctx, absl::StrCat(InputName(ctx, i), " is ", ValueKindName(v->kind),
                                   ", not a constant float list"));
    }
    ctx->float_lists.push_back(std::move(floats));
    *data = ctx->float_lists.back().data();
    *n = static_cast<uint32_t>(ctx->float_lists.back().size());
    return T2C_OK;
  });
}

t2c_status InputBools(Ctx* ctx, uint32_t i, const int32_t** data, uint32_t* n) {
  return Guard(ctx, "input_bools", [&] {
    const Value* v = ctx->input(i);
    if (!v || !v->is_const || (v->kind != ValueKind::kBoolList && v->kind != ValueKind::kBool)) {
      return Bad(ctx,
                 absl::StrCat(InputName(ctx, i), " is ", v ? ValueKindName(v->kind) : "missing",
                              ", not a constant bool list"));
    }
    std::vector<int32_t> bools;
    if (v->kind == ValueKind::kBool) {
      bools = {v->b ? 1 : 0};
    } else {
      for (bool b : v->bools) bools.push_back(b ? 1 : 0);
    }
    ctx->bool_lists.push_back(std::move(bools));
    *data = ctx->bool_lists.back().data();
    *n = static_cast<uint32_t>(ctx->bool_lists.back().size());
    return T2C_OK;
  });
}

t2c_status InputString(Ctx* ctx, uint32_t i, const char** out) {
  return Guard(ctx, "input_string", [&] {
    const Value* v = ctx->input(i);
    if (!v || !v->is_const || v->kind != ValueKind::kString) {
      return Bad(ctx, absl::StrCat(InputName(ctx, i), " is not a constant string"));
    }
    *out = v->s.c_str();
    return T2C_OK;
  });
}

t2c_status InputListSize(Ctx* ctx, uint32_t i, uint32_t* n) {
  return Guard(ctx, "input_list_size", [&] {
    const Value* v = ctx->input(i);
    if (!v || v->kind != ValueKind::kTensorList) {
      return Bad(ctx, absl::StrCat(InputName(ctx, i), " is not a tensor list"));
    }
    *n = static_cast<uint32_t>(v->elements.size());
    return T2C_OK;
  });
}

t2c_status InputListType(Ctx* ctx, uint32_t i, uint32_t k, t2c_tensor_type* out) {
  return Guard(ctx, "input_list_type", [&] {
    const Value* v = ctx->input(i);
    if (!v || v->kind != ValueKind::kTensorList || k >= v->elements.size()) {
      return Bad(ctx, absl::StrCat(InputName(ctx, i), " has no tensor-list element ", k));
    }
    const Value& e = ctx->graph->value(ctx->graph->Resolve(v->elements[k]));
    if (!e.typed)
      return Bad(ctx, absl::StrCat("element ", k, " of ", InputName(ctx, i), " has no known type"));
    if (!FillType(SeenType(ctx, e, i), out)) return Bad(ctx, "rank exceeds T2C_MAX_RANK");
    return T2C_OK;
  });
}

t2c_status SetOutputType(Ctx* ctx, uint32_t i, const t2c_tensor_type* type) {
  return Guard(ctx, "set_output_type", [&] {
    if (!WantPhase(ctx, Phase::kInfer, "set_output_type")) return T2C_ERROR;
    if (i >= ctx->inferred.size()) {
      return Bad(ctx, absl::StrCat("set_output_type: the node has no output ", i));
    }
    if (type->rank < 0 || type->rank > T2C_MAX_RANK) {
      return Bad(ctx, absl::StrCat("set_output_type: invalid rank ", type->rank));
    }
    mil::DType d = ToMil(type->dtype);
    if (d == mil::DType::kInvalid || d == mil::DType::kString) {
      return Bad(ctx, absl::StrCat("set_output_type: invalid dtype ", type->dtype));
    }
    mil::TensorType t{d, std::vector<int64_t>(type->dims, type->dims + type->rank)};
    for (int64_t dim : t.shape) {
      if (dim < 0) return Bad(ctx, absl::StrCat("set_output_type: negative dimension ", dim));
    }
    ctx->inferred[i] = std::move(t);
    return T2C_OK;
  });
}

int32_t ComputeDtype(Ctx* ctx) {
  if (!WantPhase(ctx, Phase::kLower, "compute_dtype") || !ctx->plan) return T2C_DTYPE_INVALID;
  mil::DType d = ctx->plan->compute;
  return static_cast<int32_t>(mil::IsFloat(d) ? d : mil::DType::kFloat32);
}

int32_t ParamDtype(Ctx* ctx) {
  if (!WantPhase(ctx, Phase::kLower, "param_dtype") || !ctx->plan) return T2C_DTYPE_INVALID;
  mil::DType d = ctx->plan->param;
  return static_cast<int32_t>(mil::IsFloat(d) ? d : mil::DType::kFloat32);
}

t2c_status OutputType(Ctx* ctx, uint32_t i, t2c_tensor_type* out) {
  return Guard(ctx, "output_type", [&] {
    if (!WantPhase(ctx, Phase::kLower, "output_type")) return T2C_ERROR;
    const auto& outs = ctx->node().outputs;
    if (i >= outs.size()) return Bad(ctx, absl::StrCat("output_type: no output ", i));
    const Value& v = ctx->graph->value(outs[i]);
    if (!v.typed || i >= ctx->plan->outputs.size()) {
      return Bad(ctx, absl::StrCat("output_type: output ", i, " is not a tensor"));
    }
    if (!FillType({ctx->plan->outputs[i], v.shape}, out)) return Bad(ctx, "rank too large");
    return T2C_OK;
  });
}

t2c_status InputVar(Ctx* ctx, uint32_t i, t2c_var* out) {
  return Guard(ctx, "input_var", [&] {
    if (!WantPhase(ctx, Phase::kLower, "input_var")) return T2C_ERROR;
    const auto& inputs = ctx->node().inputs;
    if (i >= inputs.size()) return Bad(ctx, absl::StrCat("input_var: no input ", i));
    const mil::DType want =
        i < ctx->plan->inputs.size() ? ctx->plan->inputs[i] : mil::DType::kInvalid;
    if (want == mil::DType::kInvalid) {
      return Bad(ctx, absl::StrCat(InputName(ctx, i),
                                   " is not a tensor input of this lowering (None, or declared "
                                   "host/ignored)"));
    }
    auto var = ctx->emitter->VarFor(inputs[i], want, ctx->node_index);
    if (!var.ok()) return Bad(ctx, std::string(var.status().message()));
    *out = *var;
    return T2C_OK;
  });
}

t2c_status InputListVar(Ctx* ctx, uint32_t i, uint32_t k, t2c_var* out) {
  return Guard(ctx, "input_list_var", [&] {
    if (!WantPhase(ctx, Phase::kLower, "input_list_var")) return T2C_ERROR;
    const Value* v = ctx->input(i);
    if (!v || v->kind != ValueKind::kTensorList || k >= v->elements.size()) {
      return Bad(ctx, absl::StrCat(InputName(ctx, i), " has no tensor-list element ", k));
    }
    const mil::DType want =
        i < ctx->plan->inputs.size() ? ctx->plan->inputs[i] : mil::DType::kInvalid;
    if (want == mil::DType::kInvalid) {
      return Bad(ctx, absl::StrCat(InputName(ctx, i), " is not a tensor-list input"));
    }
    auto var = ctx->emitter->VarFor(v->elements[k], want, ctx->node_index);
    if (!var.ok()) return Bad(ctx, std::string(var.status().message()));
    *out = *var;
    return T2C_OK;
  });
}

t2c_status VarType(Ctx* ctx, t2c_var var, t2c_tensor_type* out) {
  return Guard(ctx, "var_type", [&] {
    if (!WantPhase(ctx, Phase::kLower, "var_type")) return T2C_ERROR;
    const mil::Function& f = ctx->emitter->function();
    if (!f.IsValid(var)) return Bad(ctx, absl::StrCat("var_type: undefined var ", var));
    if (!FillType(f.var(var).type, out)) return Bad(ctx, "rank too large");
    return T2C_OK;
  });
}

bool ReadShape(Ctx* ctx, int32_t rank, const int64_t* dims, std::vector<int64_t>* shape,
               int64_t* numel) {
  if (rank < 0 || rank > T2C_MAX_RANK || (rank > 0 && dims == nullptr)) {
    ctx->Fail(absl::StrCat("constant with invalid rank ", rank));
    return false;
  }
  shape->assign(dims, dims + rank);
  *numel = 1;
  for (int64_t d : *shape) {
    if (d < 0) {
      ctx->Fail(absl::StrCat("constant with negative dimension ", d));
      return false;
    }
    *numel *= d;
  }
  return true;
}

t2c_status ConstFloats(Ctx* ctx, int32_t dtype, const float* data, int32_t rank,
                       const int64_t* dims, t2c_var* out) {
  return Guard(ctx, "const_floats", [&] {
    if (!WantPhase(ctx, Phase::kLower, "const_floats")) return T2C_ERROR;
    const mil::DType d = ToMil(dtype);
    if (!mil::IsFloat(d)) return Bad(ctx, "const_floats: dtype must be FP16 or FP32");
    std::vector<int64_t> shape;
    int64_t numel = 0;
    if (!ReadShape(ctx, rank, dims, &shape, &numel)) return T2C_ERROR;
    if (numel > 0 && data == nullptr) return Bad(ctx, "const_floats: null data");
    mil::ConstValue v = mil::ConstValue::Float32(shape, data);
    if (d == mil::DType::kFloat16 && numel == 1) {
      const float scalar = mil::Fp16ScalarValue(data[0]);  // an epsilon stays nonzero
      v = mil::ConstValue::Float16(shape, &scalar);
    } else if (d == mil::DType::kFloat16) {
      v = mil::ConstValue::Float16(shape, data);
    }
    *out = ctx->emitter->AddConst(ctx->emitter->HintFor(ctx->node_index) + "_const", std::move(v));
    return T2C_OK;
  });
}

t2c_status ConstInts(Ctx* ctx, const int64_t* data, int32_t rank, const int64_t* dims,
                     t2c_var* out) {
  return Guard(ctx, "const_ints", [&] {
    if (!WantPhase(ctx, Phase::kLower, "const_ints")) return T2C_ERROR;
    std::vector<int64_t> shape;
    int64_t numel = 0;
    if (!ReadShape(ctx, rank, dims, &shape, &numel)) return T2C_ERROR;
    if (numel > 0 && data == nullptr) return Bad(ctx, "const_ints: null data");
    std::vector<int32_t> narrow(static_cast<size_t>(numel));
    for (int64_t k = 0; k < numel; ++k) {
      if (data[k] < std::numeric_limits<int32_t>::min() ||
          data[k] > std::numeric_limits<int32_t>::max()) {
        return Bad(ctx, absl::StrCat("const_ints: ", data[k], " does not fit in int32"));
      }
      narrow[static_cast<size_t>(k)] = static_cast<int32_t>(data[k]);
    }
    *out = ctx->emitter->AddConst(ctx->emitter->HintFor(ctx->node_index) + "_const",
                                  mil::ConstValue::Int32(shape, narrow.data()));
    return T2C_OK;
  });
}

t2c_status ConstBools(Ctx* ctx, const int32_t* data, int32_t rank, const int64_t* dims,
                      t2c_var* out) {
  return Guard(ctx, "const_bools", [&] {
    if (!WantPhase(ctx, Phase::kLower, "const_bools")) return T2C_ERROR;
    std::vector<int64_t> shape;
    int64_t numel = 0;
    if (!ReadShape(ctx, rank, dims, &shape, &numel)) return T2C_ERROR;
    if (numel > 0 && data == nullptr) return Bad(ctx, "const_bools: null data");
    std::unique_ptr<bool[]> bools(new bool[static_cast<size_t>(std::max<int64_t>(numel, 1))]);
    for (int64_t k = 0; k < numel; ++k) bools[static_cast<size_t>(k)] = data[k] != 0;
    *out = ctx->emitter->AddConst(ctx->emitter->HintFor(ctx->node_index) + "_const",
                                  mil::ConstValue::Bool(shape, bools.get()));
    return T2C_OK;
  });
}

t2c_status ConstString(Ctx* ctx, const char* value, t2c_var* out) {
  return Guard(ctx, "const_string", [&] {
    if (!WantPhase(ctx, Phase::kLower, "const_string")) return T2C_ERROR;
    if (!value) return Bad(ctx, "const_string: null string");
    *out = ctx->emitter->AddConst(ctx->emitter->HintFor(ctx->node_index) + "_const",
                                  mil::ConstValue::String(value));
    return T2C_OK;
  });
}

t2c_status Emit(Ctx* ctx, const char* op_type, const t2c_named_arg* args, uint32_t num_args,
                const t2c_tensor_type* out_types, uint32_t num_outputs, t2c_var* out_vars) {
  return Guard(ctx, "emit", [&] {
    if (!WantPhase(ctx, Phase::kLower, "emit")) return T2C_ERROR;
    if (!op_type || !*op_type) return Bad(ctx, "emit: empty op type");
    const std::string type = op_type;
    if (type == "cast") {
      return Bad(ctx,
                 "emit: lowerings never emit 'cast'; declare input dtypes and let the core "
                 "insert casts");
    }
    if (type == "const") return Bad(ctx, "emit: use the const_* functions for constants");
    if (num_outputs == 0) return Bad(ctx, absl::StrCat("emit ", type, ": no outputs"));
    std::vector<mil::OpInput> inputs;
    for (uint32_t a = 0; a < num_args; ++a) {
      if (!args[a].name || !*args[a].name)
        return Bad(ctx, absl::StrCat("emit ", type, ": unnamed input"));
      mil::OpInput in{args[a].name, {}};
      for (uint32_t k = 0; k < args[a].num_vars; ++k) in.vars.push_back(args[a].vars[k]);
      inputs.push_back(std::move(in));
    }
    std::vector<mil::TensorType> outs;
    for (uint32_t o = 0; o < num_outputs; ++o) {
      const t2c_tensor_type& t = out_types[o];
      const mil::DType d = ToMil(t.dtype);
      if (d == mil::DType::kInvalid || t.rank < 0 || t.rank > T2C_MAX_RANK) {
        return Bad(ctx, absl::StrCat("emit ", type, ": output ", o, " has an invalid type"));
      }
      outs.push_back({d, std::vector<int64_t>(t.dims, t.dims + t.rank)});
    }
    auto vars = ctx->emitter->AddOp(type, ctx->emitter->HintFor(ctx->node_index), std::move(inputs),
                                    std::move(outs));
    if (!vars.ok()) return Bad(ctx, std::string(vars.status().message()));
    for (size_t o = 0; o < vars->size(); ++o) out_vars[o] = (*vars)[o];
    return T2C_OK;
  });
}

t2c_status SetOutput(Ctx* ctx, uint32_t i, t2c_var var) {
  return Guard(ctx, "set_output", [&] {
    if (!WantPhase(ctx, Phase::kLower, "set_output")) return T2C_ERROR;
    if (i >= ctx->bound.size()) return Bad(ctx, absl::StrCat("set_output: no output ", i));
    if (!ctx->emitter->function().IsValid(var)) {
      return Bad(ctx, absl::StrCat("set_output: undefined var ", var));
    }
    ctx->bound[i] = var;
    return T2C_OK;
  });
}

t2c_status SetOutputListTypes(Ctx* ctx, uint32_t i, const t2c_tensor_type* types, uint32_t n) {
  return Guard(ctx, "set_output_list_types", [&] {
    if (!WantPhase(ctx, Phase::kInfer, "set_output_list_types")) return T2C_ERROR;
    if (i >= ctx->inferred_lists.size()) {
      return Bad(ctx, absl::StrCat("set_output_list_types: the node has no output ", i));
    }
    if (n > 0 && types == nullptr) return Bad(ctx, "set_output_list_types: null types");
    std::vector<mil::TensorType> list;
    for (uint32_t k = 0; k < n; ++k) {
      const mil::DType d = ToMil(types[k].dtype);
      if (d == mil::DType::kInvalid || d == mil::DType::kString || types[k].rank < 0 ||
          types[k].rank > T2C_MAX_RANK) {
        return Bad(ctx, absl::StrCat("set_output_list_types: element ", k, " has an invalid type"));
      }
      mil::TensorType t{d, std::vector<int64_t>(types[k].dims, types[k].dims + types[k].rank)};
      for (int64_t dim : t.shape) {
        if (dim < 0) return Bad(ctx, absl::StrCat("set_output_list_types: negative dimension"));
      }
      list.push_back(std::move(t));
    }
    ctx->inferred_lists[i] = std::move(list);
    return T2C_OK;
  });
}

/// The element values of list output i (made by analysis), or null.
const std::vector<ValueId>* ListElements(Ctx* ctx, uint32_t i) {
  const auto& outs = ctx->node().outputs;
  if (i >= outs.size()) return nullptr;
  const Value& v = ctx->graph->value(outs[i]);
  return v.kind == ValueKind::kTensorList ? &v.elements : nullptr;
}

t2c_status OutputListType(Ctx* ctx, uint32_t i, uint32_t k, t2c_tensor_type* out) {
  return Guard(ctx, "output_list_type", [&] {
    if (!WantPhase(ctx, Phase::kLower, "output_list_type")) return T2C_ERROR;
    const std::vector<ValueId>* elements = ListElements(ctx, i);
    if (!elements || k >= elements->size() || i >= ctx->plan->outputs.size()) {
      return Bad(ctx, absl::StrCat("output_list_type: output ", i, " has no element ", k));
    }
    const Value& e = ctx->graph->value((*elements)[k]);
    if (!FillType({ctx->plan->outputs[i], e.shape}, out)) return Bad(ctx, "rank too large");
    return T2C_OK;
  });
}

t2c_status SetOutputList(Ctx* ctx, uint32_t i, const t2c_var* vars, uint32_t n) {
  return Guard(ctx, "set_output_list", [&] {
    if (!WantPhase(ctx, Phase::kLower, "set_output_list")) return T2C_ERROR;
    const std::vector<ValueId>* elements = ListElements(ctx, i);
    if (!elements || i >= ctx->bound_lists.size()) {
      return Bad(ctx, absl::StrCat("set_output_list: output ", i, " is not a tensor list"));
    }
    if (n != elements->size() || (n > 0 && vars == nullptr)) {
      return Bad(ctx, absl::StrCat("set_output_list: output ", i, " has ", elements->size(),
                                   " elements, ", n, " vars given"));
    }
    std::vector<mil::VarId> bound(vars, vars + n);
    for (mil::VarId v : bound) {
      if (!ctx->emitter->function().IsValid(v)) {
        return Bad(ctx, absl::StrCat("set_output_list: undefined var ", v));
      }
    }
    ctx->bound_lists[i] = std::move(bound);
    return T2C_OK;
  });
}

int32_t OutputIsUsed(Ctx* ctx, uint32_t i) {
  const auto& outs = ctx->node().outputs;
  if (i >= outs.size() || ctx->uses == nullptr) return 1;
  const ValueId id = outs[i];
  if ((*ctx->uses)[static_cast<size_t>(id)] > 0) return 1;
  for (ValueId e : ctx->graph->value(id).elements) {
    if ((*ctx->uses)[static_cast<size_t>(e)] > 0) return 1;
  }
  return 0;
}

void FailFn(Ctx* ctx, const char* message) {
  try {
    ctx->Fail(message ? message : "failed without a message");
  } catch (...) {
  }
}

void WarnFn(Ctx* ctx, const char* message) {
  try {
    if (message) ctx->warnings.emplace_back(message);
  } catch (...) {
  }
}

int32_t InputListKind(Ctx* ctx, uint32_t i, uint32_t k) {
  const Value* v = ctx == nullptr ? nullptr : ctx->input(i);
  if (!v || v->kind != ValueKind::kTensorList || k >= v->elements.size()) {
    return static_cast<int32_t>(ValueKind::kOther);
  }
  return static_cast<int32_t>(ctx->graph->value(ctx->graph->Resolve(v->elements[k])).kind);
}

int32_t DeploymentTarget(Ctx* ctx) {
  if (ctx == nullptr || ctx->phase != Phase::kLower || ctx->emitter == nullptr) return 0;
  return mil::IosOf(ctx->emitter->function());
}

}  // namespace

const t2c_host_api* HostApi() {
  static const t2c_host_api api = {
      sizeof(t2c_host_api),
      T2C_ABI_VERSION,
      NodeKind,
      NumInputs,
      NumOutputs,
      InputKind,
      InputType,
      InputIsConst,
      InputInt,
      InputFloat,
      InputBool,
      InputInts,
      InputString,
      InputListSize,
      InputListType,
      SetOutputType,
      ComputeDtype,
      ParamDtype,
      OutputType,
      InputVar,
      InputListVar,
      VarType,
      ConstFloats,
      ConstInts,
      ConstBools,
      ConstString,
      Emit,
      SetOutput,
      FailFn,
      WarnFn,
      SetOutputListTypes,
      OutputListType,
      SetOutputList,
      OutputIsUsed,
      InputFloats,
      DeploymentTarget,
      InputListKind,
      InputBools,
  };
  return &api;
}

}  // namespace ts2coreml::core
