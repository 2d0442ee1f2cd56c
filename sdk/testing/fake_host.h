/// A fake converter core for unit-testing lowerings without LibTorch.
///
/// `FakeNode` implements `t2c_host_api` in plain C++: a test describes one TorchScript node (its
/// kind, inputs and planned precision), runs a lowering declaration's type inference and lowering,
/// and inspects what the lowering emitted. The fake enforces the contract the real core enforces:
/// no "cast" or "const" ops, only known var ids, host reads only on T2C_ROLE_HOST inputs, infer
/// callbacks return FP32 for float outputs, every output is bound to a var of its planned type, and
/// every emitted op passes the same opset check as in the core (ts2coreml/mil_validate.h).
///
///   namespace t = ts2coreml::sdk::testing;
///   t::FakeNode node("aten::relu");
///   node.Add(t::Value::Tensor({1, 3, 8, 8}));
///   ASSERT_TRUE(node.Lower(*t::FindDecl(ActivationPluginInfo(), "aten::relu"))) << node.error();
///   EXPECT_EQ(node.ops()[0].type, "relu");
#ifndef TS2COREML_SDK_TESTING_FAKE_HOST_H_
#define TS2COREML_SDK_TESTING_FAKE_HOST_H_

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "ts2coreml/broadcast.h"
#include "ts2coreml/mil_validate.h"
#include "ts2coreml/plugin_abi.h"
#include "ts2coreml/sdk.h"

namespace ts2coreml::sdk::testing {

/// The name of a dtype for messages ("fp16").
inline std::string DtypeName(int32_t dtype) {
  switch (dtype) {
    case T2C_DTYPE_BOOL:
      return "bool";
    case T2C_DTYPE_STRING:
      return "string";
    case T2C_DTYPE_FP16:
      return "fp16";
    case T2C_DTYPE_FP32:
      return "fp32";
    case T2C_DTYPE_INT32:
      return "int32";
    default:
      return "invalid(" + std::to_string(dtype) + ")";
  }
}

/// A type as text, "fp16[1, 3, 8, 8]".
inline std::string TypeString(const TensorType& t) {
  std::string s = DtypeName(t.dtype) + "[";
  for (size_t i = 0; i < t.shape.size(); ++i) {
    if (i > 0) s += ", ";
    s += std::to_string(t.shape[i]);
  }
  return s + "]";
}

/// One input of a fake node, as the core sees it after constant evaluation.
struct Value {
  t2c_value_kind kind = T2C_KIND_NONE;
  TensorType type;               ///< T2C_KIND_TENSOR
  bool is_const = false;         ///< T2C_KIND_TENSOR: data known at conversion time (a weight)
  int64_t int_value = 0;         ///< T2C_KIND_INT, T2C_KIND_BOOL
  double float_value = 0;        ///< T2C_KIND_FLOAT
  std::vector<int64_t> ints;     ///< T2C_KIND_INT_LIST, T2C_KIND_BOOL_LIST (0 or 1)
  std::vector<double> floats;    ///< T2C_KIND_FLOAT_LIST
  std::string str;               ///< T2C_KIND_STRING
  std::vector<TensorType> list;  ///< T2C_KIND_TENSOR_LIST

  /// A runtime tensor (FP32 unless told).
  static Value Tensor(std::vector<int64_t> shape, t2c_dtype dtype = T2C_DTYPE_FP32) {
    Value v;
    v.kind = T2C_KIND_TENSOR;
    v.type = TensorType(dtype, std::move(shape));
    return v;
  }
  /// A constant tensor (a weight).
  static Value ConstTensor(std::vector<int64_t> shape, t2c_dtype dtype = T2C_DTYPE_FP32) {
    Value v = Tensor(std::move(shape), dtype);
    v.is_const = true;
    return v;
  }
  static Value Int(int64_t i) {
    Value v;
    v.kind = T2C_KIND_INT;
    v.int_value = i;
    return v;
  }
  static Value Float(double f) {
    Value v;
    v.kind = T2C_KIND_FLOAT;
    v.float_value = f;
    return v;
  }
  static Value Bool(bool b) {
    Value v;
    v.kind = T2C_KIND_BOOL;
    v.int_value = b ? 1 : 0;
    return v;
  }
  static Value Ints(std::vector<int64_t> values) {
    Value v;
    v.kind = T2C_KIND_INT_LIST;
    v.ints = std::move(values);
    return v;
  }
  static Value Bools(const std::vector<bool>& values) {
    Value v;
    v.kind = T2C_KIND_BOOL_LIST;
    for (bool b : values) v.ints.push_back(b ? 1 : 0);
    return v;
  }
  static Value Floats(std::vector<double> values) {
    Value v;
    v.kind = T2C_KIND_FLOAT_LIST;
    v.floats = std::move(values);
    return v;
  }
  static Value String(std::string s) {
    Value v;
    v.kind = T2C_KIND_STRING;
    v.str = std::move(s);
    return v;
  }
  static Value None() { return Value(); }
  static Value TensorList(std::vector<TensorType> types) {
    Value v;
    v.kind = T2C_KIND_TENSOR_LIST;
    v.list = std::move(types);
    return v;
  }
  /// A Tensor?[] list: std::nullopt elements are None (held as T2C_DTYPE_INVALID types).
  static Value OptionalTensorList(const std::vector<std::optional<TensorType>>& types) {
    Value v;
    v.kind = T2C_KIND_TENSOR_LIST;
    for (const auto& t : types) v.list.push_back(t ? *t : TensorType());
    return v;
  }
};

/// Where a var of the fake program came from.
enum class VarOrigin { kInput, kConst, kOp };

/// A var of the fake program.
struct FakeVar {
  TensorType type;
  VarOrigin origin = VarOrigin::kOp;
  int input_index = -1;        ///< kInput: the node input it reads
  int list_index = -1;         ///< kInput of a tensor list: the element
  std::vector<double> values;  ///< kConst: numeric data (ints, floats, bools as 0/1)
  std::string str;             ///< kConst of dtype STRING
  int op_index = -1;           ///< kOp: index into ops()
};

/// One emitted MIL op.
struct FakeOp {
  std::string type;
  std::vector<std::pair<std::string, std::vector<t2c_var>>> args;
  std::vector<t2c_var> outputs;
  std::vector<TensorType> output_types;

  /// The vars bound to input `name`, or null when unbound.
  const std::vector<t2c_var>* Arg(const std::string& name) const {
    for (const auto& a : args) {
      if (a.first == name) return &a.second;
    }
    return nullptr;
  }
  bool Has(const std::string& name) const { return Arg(name) != nullptr; }
  /// The input names in emission order.
  std::vector<std::string> ArgNames() const {
    std::vector<std::string> names;
    for (const auto& a : args) names.push_back(a.first);
    return names;
  }
};

/// The lowering declaration in `info` that claims `op` ("aten::add.Tensor" matches a claim of
/// "aten::add.Tensor" or of "aten::add"); null when none does.
inline const t2c_lowering_decl* FindDecl(const t2c_plugin_info* info, const std::string& op) {
  const t2c_lowering_decl* base_match = nullptr;
  std::string base = op.substr(0, op.find('.'));
  for (uint32_t i = 0; i < info->num_lowerings; ++i) {
    const t2c_lowering_decl& d = info->lowerings[i];
    for (uint32_t k = 0; k < d.num_ops; ++k) {
      if (op == d.ops[k]) return &d;
      if (base == d.ops[k] && base_match == nullptr) base_match = &d;
    }
  }
  return base_match;
}

/// One TorchScript node and a fake core around it. See the file comment.
class FakeNode {
 public:
  explicit FakeNode(std::string kind, uint32_t num_outputs = 1)
      : kind_(std::move(kind)), num_outputs_(num_outputs) {}

  /// Appends input i (the schema argument at that index).
  FakeNode& Add(Value v) {
    inputs_.push_back(std::move(v));
    return *this;
  }
  /// The user's --precision; the node's compute and param dtypes follow from the lowering's policy
  /// (FP32 params only when `fp32_params_allowed`, i.e. iOS17+).
  /// Marks output i as read by nothing (output_is_used answers 0).
  FakeNode& UnusedOutput(uint32_t i) {
    unused_outputs_.insert(i);
    return *this;
  }
  FakeNode& Precision(t2c_dtype precision, bool fp32_params_allowed = false) {
    precision_ = precision;
    fp32_params_allowed_ = fp32_params_allowed;
    return *this;
  }
  /// The deployment target as an iOS major version (15..18) that emitted ops are checked against
  /// and `deployment_target` answers. Default: 17 when FP32 params are allowed, else 16.
  FakeNode& Target(int32_t ios) {
    target_ = ios;
    return *this;
  }
  int32_t target() const { return target_ != 0 ? target_ : (fp32_params_allowed_ ? 17 : 16); }
  /// Overrides the planned compute dtype.
  FakeNode& ComputeDtype(t2c_dtype dtype) {
    compute_override_ = dtype;
    return *this;
  }
  /// Overrides the planned param dtype.
  FakeNode& ParamDtype(t2c_dtype dtype) {
    param_override_ = dtype;
    return *this;
  }

  /// Runs type inference (the decl's infer_rule or infer callback). False on failure; see error().
  bool Infer(const t2c_lowering_decl& decl) {
    Reset(decl);
    phase_ = Phase::kInfer;
    inferred_.assign(num_outputs_, std::nullopt);
    inferred_lists_.assign(num_outputs_, std::nullopt);
    if (inputs_.size() > decl.num_inputs) {
      return Violation("node has " + std::to_string(inputs_.size()) + " inputs, decl declares " +
                       std::to_string(decl.num_inputs));
    }
    bool ok = true;
    if (decl.infer_rule == T2C_INFER_SAME_AS_INPUT0) {
      if (inputs_.empty() || inputs_[0].kind != T2C_KIND_TENSOR) {
        return Violation("SAME_AS_INPUT0 needs a tensor input 0");
      }
      inferred_[0] = InferView(inputs_[0].type);
    } else if (decl.infer_rule == T2C_INFER_BROADCAST) {
      ok = InferBroadcast();
    } else {
      if (decl.infer == nullptr) return Violation("T2C_INFER_CUSTOM without an infer callback");
      t2c_status s = decl.infer(&api_, Ctx(), decl.user_data);
      ok = CheckStatus(s, "infer");
    }
    phase_ = Phase::kNone;
    if (!ok) return false;
    for (uint32_t i = 0; i < num_outputs_; ++i) {
      if (inferred_lists_[i]) {
        for (const TensorType& t : *inferred_lists_[i]) {
          if (t.dtype == T2C_DTYPE_FP16) {
            return Violation("infer must report float outputs as FP32 (list output " +
                             std::to_string(i) + ")");
          }
        }
        continue;
      }
      if (!inferred_[i]) return Violation("infer left output " + std::to_string(i) + " unset");
      if (inferred_[i]->dtype == T2C_DTYPE_FP16) {
        return Violation("infer must report float outputs as FP32 (output " + std::to_string(i) +
                         ")");
      }
    }
    inferred_done_ = true;
    return true;
  }

  /// Runs Infer, plans dtypes, then the decl's lower callback. False on failure; see error().
  bool Lower(const t2c_lowering_decl& decl) {
    if (!Infer(decl)) return false;
    if (decl.lower == nullptr) return Violation("lower is null");
    Plan(decl);
    phase_ = Phase::kLower;
    t2c_status s = decl.lower(&api_, Ctx(), decl.user_data);
    phase_ = Phase::kNone;
    if (!CheckStatus(s, "lower")) return false;
    for (uint32_t i = 0; i < num_outputs_; ++i) {
      if (inferred_lists_[i] ? !output_lists_[i] : outputs_[i] == 0) {
        return Violation("lower left output " + std::to_string(i) + " unbound");
      }
    }
    return true;
  }

  /// Inferred output types (float class as FP32).
  std::vector<TensorType> inferred_types() const {
    std::vector<TensorType> r;
    for (const auto& t : inferred_) r.push_back(t ? *t : TensorType());
    return r;
  }
  /// Inferred type of output i.
  TensorType inferred(uint32_t i = 0) const {
    return i < inferred_.size() && inferred_[i] ? *inferred_[i] : TensorType();
  }
  /// Planned type of output i (after Lower).
  TensorType planned(uint32_t i = 0) const {
    return i < planned_.size() ? planned_[i] : TensorType();
  }
  /// Whether output i was inferred as a Tensor[] list.
  bool is_list_output(uint32_t i = 0) const {
    return i < inferred_lists_.size() && inferred_lists_[i].has_value();
  }
  /// Inferred element types of list output i (float class as FP32); empty when not a list.
  std::vector<TensorType> inferred_list(uint32_t i = 0) const {
    return is_list_output(i) ? *inferred_lists_[i] : std::vector<TensorType>();
  }
  /// Planned element types of list output i (after Lower).
  std::vector<TensorType> planned_list(uint32_t i = 0) const {
    return i < planned_lists_.size() ? planned_lists_[i] : std::vector<TensorType>();
  }
  /// The vars bound to list output i (empty when unbound).
  std::vector<t2c_var> output_list(uint32_t i = 0) const {
    return i < output_lists_.size() && output_lists_[i] ? *output_lists_[i]
                                                        : std::vector<t2c_var>();
  }
  t2c_dtype compute_dtype() const { return compute_; }
  t2c_dtype param_dtype() const { return param_; }

  /// Every failure message recorded, joined with "; ".
  const std::string& error() const { return error_; }
  /// The status the last infer or lower callback returned (T2C_OK when none ran).
  t2c_status last_status() const { return last_status_; }
  const std::vector<std::string>& warnings() const { return warnings_; }

  const std::vector<FakeOp>& ops() const { return ops_; }
  /// Emitted op types in order.
  std::vector<std::string> op_types() const {
    std::vector<std::string> r;
    for (const auto& op : ops_) r.push_back(op.type);
    return r;
  }
  /// The nth emitted op of `type`, or null.
  const FakeOp* FindOp(const std::string& type, int nth = 0) const {
    for (const auto& op : ops_) {
      if (op.type == type && nth-- == 0) return &op;
    }
    return nullptr;
  }
  /// The var bound to output i (0 when unbound).
  t2c_var output(uint32_t i = 0) const { return i < outputs_.size() ? outputs_[i] : 0; }
  /// The op producing output i, or null when the output is an input or constant.
  const FakeOp* OutputOp(uint32_t i = 0) const { return Producer(output(i)); }

  bool HasVar(t2c_var id) const { return vars_.count(id) != 0; }
  const FakeVar& var(t2c_var id) const {
    static const FakeVar kNone;
    auto it = vars_.find(id);
    return it == vars_.end() ? kNone : it->second;
  }
  /// The op producing var `id`, or null.
  const FakeOp* Producer(t2c_var id) const {
    const FakeVar& v = var(id);
    return v.origin == VarOrigin::kOp && v.op_index >= 0 ? &ops_[v.op_index] : nullptr;
  }

  /// Helpers on op arguments: the first var bound to `name` (0 when unbound).
  t2c_var ArgVar(const FakeOp& op, const std::string& name) const {
    const auto* a = op.Arg(name);
    return a == nullptr || a->empty() ? 0 : (*a)[0];
  }
  TensorType ArgType(const FakeOp& op, const std::string& name) const {
    return var(ArgVar(op, name)).type;
  }
  /// Constant data of argument `name` (empty when not a constant).
  std::vector<double> ArgValues(const FakeOp& op, const std::string& name) const {
    return var(ArgVar(op, name)).values;
  }
  /// Constant int data of argument `name`.
  std::vector<int64_t> ArgInts(const FakeOp& op, const std::string& name) const {
    std::vector<int64_t> r;
    for (double d : ArgValues(op, name)) r.push_back(static_cast<int64_t>(d));
    return r;
  }
  /// A rank-0 constant argument as a double (NaN when absent).
  double ArgScalar(const FakeOp& op, const std::string& name) const {
    auto v = ArgValues(op, name);
    return v.size() == 1 ? v[0] : std::numeric_limits<double>::quiet_NaN();
  }
  std::string ArgString(const FakeOp& op, const std::string& name) const {
    return var(ArgVar(op, name)).str;
  }
  bool ArgIsConst(const FakeOp& op, const std::string& name) const {
    return var(ArgVar(op, name)).origin == VarOrigin::kConst;
  }
  /// The node input a var reads (-1 when it is not an input var).
  int ArgInputIndex(const FakeOp& op, const std::string& name) const {
    const FakeVar& v = var(ArgVar(op, name));
    return v.origin == VarOrigin::kInput ? v.input_index : -1;
  }

 private:
  enum class Phase { kNone, kInfer, kLower };

  t2c_context* Ctx() { return reinterpret_cast<t2c_context*>(this); }
  static FakeNode* Self(t2c_context* ctx) { return reinterpret_cast<FakeNode*>(ctx); }

  void Reset(const t2c_lowering_decl& decl) {
    decl_ = &decl;
    error_.clear();
    warnings_.clear();
    ops_.clear();
    vars_.clear();
    next_var_ = 1;
    outputs_.assign(num_outputs_, 0);
    output_lists_.assign(num_outputs_, std::nullopt);
    planned_.clear();
    planned_lists_.assign(num_outputs_, {});
    input_vars_.clear();
    list_vars_.clear();
    inferred_done_ = false;
    int_cache_.clear();
  }

  bool Violation(const std::string& message) {
    Fail("contract violation: " + message);
    return false;
  }
  void Fail(const std::string& message) {
    if (!error_.empty()) error_ += "; ";
    error_ += message;
  }
  bool CheckStatus(t2c_status s, const char* what) {
    last_status_ = s;
    if (s == T2C_OK && !error_.empty()) {
      return Violation(std::string(what) + " returned T2C_OK after calling fail");
    }
    if (s != T2C_OK) {
      if (error_.empty()) Violation(std::string(what) + " failed without calling fail");
      return false;
    }
    return true;
  }

  const t2c_input_decl* DeclOf(uint32_t i) const {
    return decl_ != nullptr && i < decl_->num_inputs ? &decl_->inputs[i] : nullptr;
  }
  int32_t RoleOf(uint32_t i) const {
    const t2c_input_decl* d = DeclOf(i);
    return d == nullptr ? -1 : d->role;
  }

  /// A tensor type as infer sees it: floats are FP32.
  static TensorType InferView(TensorType t) {
    if (t.dtype == T2C_DTYPE_FP16) t.dtype = T2C_DTYPE_FP32;
    return t;
  }
  /// The rank-0 type a number input becomes.
  static TensorType NumberType(const Value& v) {
    if (v.kind == T2C_KIND_FLOAT) return TensorType(T2C_DTYPE_FP32, {});
    if (v.kind == T2C_KIND_BOOL) return TensorType(T2C_DTYPE_BOOL, {});
    return TensorType(T2C_DTYPE_INT32, {});
  }
  static bool IsNumber(const Value& v) {
    return v.kind == T2C_KIND_INT || v.kind == T2C_KIND_FLOAT || v.kind == T2C_KIND_BOOL;
  }

  bool InferBroadcast() {
    BroadcastRule rule;
    for (uint32_t i = 0; i < inputs_.size(); ++i) {
      if (RoleOf(i) != T2C_ROLE_TENSOR) continue;
      const Value& v = inputs_[i];
      TensorType t;
      if (v.kind == T2C_KIND_TENSOR) {
        t = InferView(v.type);
      } else if (IsNumber(v)) {
        t = NumberType(v);
      } else {
        continue;
      }
      if (!rule.Add(t.shape, t.dtype)) {
        Fail("cannot broadcast input " + std::to_string(i) + " " + TypeString(t));
        return false;
      }
    }
    if (rule.empty()) return Violation("BROADCAST without tensor inputs");
    inferred_[0] = TensorType(rule.dtype(), rule.shape());
    return true;
  }

  /// The dtype the core would give a TENSOR-role value of `dtype` for this node (`flags`: the
  /// input's T2C_INPUT_* flags; T2C_INPUT_KEEPS_CLASS keeps an accepted bool or int32 as it is).
  t2c_dtype PlannedTensorDtype(t2c_dtype dtype, t2c_dtype_mask mask, uint32_t flags = 0) const {
    if ((flags & T2C_INPUT_KEEPS_CLASS) != 0 && dtype != T2C_DTYPE_FP16 &&
        dtype != T2C_DTYPE_FP32 && (mask & T2C_DTYPE_BIT(dtype)) != 0) {
      return dtype;
    }
    bool float_node = false;
    for (const auto& t : inferred_) float_node |= t && t->is_float();
    for (const auto& l : inferred_lists_) {
      for (size_t k = 0; l && k < l->size(); ++k) float_node |= (*l)[k].is_float();
    }
    if (dtype == T2C_DTYPE_FP16 || dtype == T2C_DTYPE_FP32) return compute_;
    if ((mask & T2C_DTYPE_BIT(dtype)) != 0 && !(float_node && (mask & T2C_MASK_FLOAT) != 0)) {
      return dtype;
    }
    if ((mask & T2C_MASK_FLOAT) != 0) return compute_;
    return dtype;
  }

  /// Plans the node as the core would: the compute and parameter dtypes from the declared FP16
  /// policy (or the test's overrides), the outputs' planned types and the input vars.
  void Plan(const t2c_lowering_decl& decl) {
    t2c_dtype precision = precision_;
    compute_ = precision;
    if (decl.fp16_policy == T2C_FP16_NEEDS_FP32_COMPUTE) compute_ = T2C_DTYPE_FP32;
    if (compute_override_) compute_ = *compute_override_;
    param_ = compute_;
    if (decl.fp16_policy == T2C_FP16_FP32_PARAMS && fp32_params_allowed_) param_ = T2C_DTYPE_FP32;
    if (param_override_) param_ = *param_override_;
    PlanOutputs();
    MaterializeInputs();
  }

  /// The outputs' inferred types with float dtypes in the compute dtype.
  void PlanOutputs() {
    planned_.clear();
    planned_lists_.assign(num_outputs_, {});
    for (uint32_t i = 0; i < num_outputs_; ++i) {
      if (inferred_lists_[i]) {
        for (TensorType p : *inferred_lists_[i]) {
          if (p.is_float()) p.dtype = compute_;
          planned_lists_[i].push_back(p);
        }
        planned_.push_back(TensorType());
        continue;
      }
      TensorType p = *inferred_[i];
      if (p.is_float()) p.dtype = compute_;
      planned_.push_back(p);
    }
  }

  /// Input vars, as the core would materialize them: tensors and numbers of tensor and param
  /// inputs in their planned dtypes, and each element of a tensor list.
  void MaterializeInputs() {
    for (uint32_t i = 0; i < inputs_.size(); ++i) {
      const Value& v = inputs_[i];
      int32_t role = RoleOf(i);
      t2c_dtype_mask mask = DeclOf(i) ? DeclOf(i)->dtypes : 0;
      const uint32_t flags = DeclOf(i) ? DeclOf(i)->flags : 0;
      if (role == T2C_ROLE_TENSOR || role == T2C_ROLE_PARAM) {
        TensorType t;
        std::vector<double> values;
        if (v.kind == T2C_KIND_TENSOR) {
          t = v.type;
        } else if (IsNumber(v)) {
          t = NumberType(v);
          values = {v.kind == T2C_KIND_FLOAT ? v.float_value : static_cast<double>(v.int_value)};
        } else {
          continue;
        }
        t.dtype = role == T2C_ROLE_PARAM ? param_ : PlannedTensorDtype(t.dtype, mask, flags);
        FakeVar fv;
        fv.type = t;
        fv.origin = values.empty() ? VarOrigin::kInput : VarOrigin::kConst;
        fv.input_index = static_cast<int>(i);
        fv.values = values;
        input_vars_[i] = NewVar(fv);
      } else if (role == T2C_ROLE_TENSOR_LIST && v.kind == T2C_KIND_TENSOR_LIST) {
        for (size_t k = 0; k < v.list.size(); ++k) {
          FakeVar fv;
          fv.type = v.list[k];
          fv.type.dtype = PlannedTensorDtype(fv.type.dtype, mask);
          fv.origin = VarOrigin::kInput;
          fv.input_index = static_cast<int>(i);
          fv.list_index = static_cast<int>(k);
          list_vars_[i].push_back(NewVar(fv));
        }
      }
    }
  }

  t2c_var NewVar(FakeVar v) {
    t2c_var id = next_var_++;
    vars_[id] = std::move(v);
    return id;
  }

  bool InPhase(Phase p, const char* fn) {
    if (phase_ == p) return true;
    Violation(std::string(fn) + " called outside " + (p == Phase::kInfer ? "infer" : "lower"));
    return false;
  }
  const Value* HostInput(uint32_t i, const char* fn) {
    if (i >= inputs_.size()) {
      Fail(std::string(fn) + ": input " + std::to_string(i) + " out of range");
      return nullptr;
    }
    if (RoleOf(i) != T2C_ROLE_HOST) {
      Violation(std::string(fn) + " on input " + std::to_string(i) +
                " whose declared role is not T2C_ROLE_HOST");
      return nullptr;
    }
    return &inputs_[i];
  }

  // --- the host API -------------------------------------------------------------------------
  static const char* NodeKind(t2c_context* c) { return Self(c)->kind_.c_str(); }
  static uint32_t NumInputs(t2c_context* c) {
    return static_cast<uint32_t>(Self(c)->inputs_.size());
  }
  static uint32_t NumOutputs(t2c_context* c) { return Self(c)->num_outputs_; }
  static int32_t InputKind(t2c_context* c, uint32_t i) {
    FakeNode* n = Self(c);
    return i < n->inputs_.size() ? n->inputs_[i].kind : T2C_KIND_NONE;
  }
  static t2c_status InputType(t2c_context* c, uint32_t i, t2c_tensor_type* out) {
    FakeNode* n = Self(c);
    if (i >= n->inputs_.size()) return n->Err("input_type: input out of range");
    const Value& v = n->inputs_[i];
    TensorType t;
    if (v.kind == T2C_KIND_TENSOR) {
      t = v.type;
    } else if (IsNumber(v) && n->RoleOf(i) != T2C_ROLE_HOST) {
      t = NumberType(v);
    } else {
      return n->Err("input_type: input " + std::to_string(i) + " is not a tensor");
    }
    if (n->phase_ == Phase::kInfer) {
      t = InferView(t);
    } else if (n->input_vars_.count(i) != 0) {
      t = n->vars_[n->input_vars_[i]].type;
    }
    t.ToAbi(out);
    return T2C_OK;
  }
  static int32_t InputIsConst(t2c_context* c, uint32_t i) {
    FakeNode* n = Self(c);
    if (i >= n->inputs_.size()) return 0;
    const Value& v = n->inputs_[i];
    return v.kind == T2C_KIND_TENSOR ? (v.is_const ? 1 : 0) : (v.kind != T2C_KIND_NONE ? 1 : 0);
  }
  static t2c_status InputInt(t2c_context* c, uint32_t i, int64_t* out) {
    FakeNode* n = Self(c);
    const Value* v = n->HostInput(i, "input_int");
    if (v == nullptr) return T2C_ERROR;
    if (v->kind != T2C_KIND_INT && v->kind != T2C_KIND_BOOL) {
      return n->Err("input_int: input " + std::to_string(i) + " is not an int");
    }
    *out = v->int_value;
    return T2C_OK;
  }
  static t2c_status InputFloat(t2c_context* c, uint32_t i, double* out) {
    FakeNode* n = Self(c);
    const Value* v = n->HostInput(i, "input_float");
    if (v == nullptr) return T2C_ERROR;
    if (v->kind == T2C_KIND_FLOAT) {
      *out = v->float_value;
    } else if (v->kind == T2C_KIND_INT) {
      *out = static_cast<double>(v->int_value);
    } else {
      return n->Err("input_float: input " + std::to_string(i) + " is not a number");
    }
    return T2C_OK;
  }
  static t2c_status InputBool(t2c_context* c, uint32_t i, int32_t* out) {
    FakeNode* n = Self(c);
    const Value* v = n->HostInput(i, "input_bool");
    if (v == nullptr) return T2C_ERROR;
    if (v->kind != T2C_KIND_BOOL && v->kind != T2C_KIND_INT) {
      return n->Err("input_bool: input " + std::to_string(i) + " is not a bool");
    }
    *out = v->int_value != 0 ? 1 : 0;
    return T2C_OK;
  }
  static t2c_status InputInts(t2c_context* c, uint32_t i, const int64_t** data, uint32_t* count) {
    FakeNode* n = Self(c);
    const Value* v = n->HostInput(i, "input_ints");
    if (v == nullptr) return T2C_ERROR;
    std::vector<int64_t>& cache = n->int_cache_[i];
    if (v->kind == T2C_KIND_INT_LIST) {
      cache = v->ints;
    } else if (v->kind == T2C_KIND_INT) {
      cache = {v->int_value};
    } else {
      return n->Err("input_ints: input " + std::to_string(i) + " is not an int list");
    }
    *data = cache.data();
    *count = static_cast<uint32_t>(cache.size());
    return T2C_OK;
  }
  static t2c_status InputBools(t2c_context* c, uint32_t i, const int32_t** data, uint32_t* count) {
    FakeNode* n = Self(c);
    const Value* v = n->HostInput(i, "input_bools");
    if (v == nullptr) return T2C_ERROR;
    std::vector<int32_t>& cache = n->bool_cache_[i];
    if (v->kind == T2C_KIND_BOOL_LIST) {
      cache.assign(v->ints.begin(), v->ints.end());
    } else if (v->kind == T2C_KIND_BOOL) {
      cache = {v->int_value != 0 ? 1 : 0};
    } else {
      return n->Err("input_bools: input " + std::to_string(i) + " is not a bool list");
    }
    *data = cache.data();
    *count = static_cast<uint32_t>(cache.size());
    return T2C_OK;
  }
  static t2c_status InputString(t2c_context* c, uint32_t i, const char** out) {
    FakeNode* n = Self(c);
    const Value* v = n->HostInput(i, "input_string");
    if (v == nullptr) return T2C_ERROR;
    if (v->kind != T2C_KIND_STRING) {
      return n->Err("input_string: input " + std::to_string(i) + " is not a string");
    }
    *out = v->str.c_str();
    return T2C_OK;
  }
  static t2c_status InputListSize(t2c_context* c, uint32_t i, uint32_t* out) {
    FakeNode* n = Self(c);
    if (i >= n->inputs_.size() || n->inputs_[i].kind != T2C_KIND_TENSOR_LIST) {
      return n->Err("input_list_size: input " + std::to_string(i) + " is not a tensor list");
    }
    *out = static_cast<uint32_t>(n->inputs_[i].list.size());
    return T2C_OK;
  }
  static t2c_status InputListType(t2c_context* c, uint32_t i, uint32_t k, t2c_tensor_type* out) {
    FakeNode* n = Self(c);
    if (i >= n->inputs_.size() || n->inputs_[i].kind != T2C_KIND_TENSOR_LIST ||
        k >= n->inputs_[i].list.size()) {
      return n->Err("input_list_type: no element " + std::to_string(k) + " in input " +
                    std::to_string(i));
    }
    TensorType t = n->inputs_[i].list[k];
    if (t.dtype == T2C_DTYPE_INVALID) {
      return n->Err("input_list_type: element " + std::to_string(k) + " of input " +
                    std::to_string(i) + " is None");
    }
    if (n->phase_ == Phase::kInfer) {
      t = InferView(t);
    } else if (n->list_vars_.count(i) != 0) {
      t = n->vars_[n->list_vars_[i][k]].type;
    }
    t.ToAbi(out);
    return T2C_OK;
  }
  static int32_t InputListKind(t2c_context* c, uint32_t i, uint32_t k) {
    FakeNode* n = Self(c);
    if (i >= n->inputs_.size() || n->inputs_[i].kind != T2C_KIND_TENSOR_LIST ||
        k >= n->inputs_[i].list.size()) {
      return T2C_KIND_OTHER;
    }
    return n->inputs_[i].list[k].dtype == T2C_DTYPE_INVALID ? T2C_KIND_NONE : T2C_KIND_TENSOR;
  }
  static t2c_status SetOutputType(t2c_context* c, uint32_t i, const t2c_tensor_type* type) {
    FakeNode* n = Self(c);
    if (!n->InPhase(Phase::kInfer, "set_output_type")) return T2C_ERROR;
    if (i >= n->num_outputs_) return n->Err("set_output_type: output out of range");
    if (n->inferred_lists_[i]) {
      n->Violation("output " + std::to_string(i) + " set both as a list and as a tensor");
      return T2C_ERROR;
    }
    n->inferred_[i] = TensorType(*type);
    return T2C_OK;
  }
  static int32_t ComputeDtypeFn(t2c_context* c) {
    FakeNode* n = Self(c);
    n->InPhase(Phase::kLower, "compute_dtype");
    return n->compute_;
  }
  static int32_t ParamDtypeFn(t2c_context* c) {
    FakeNode* n = Self(c);
    n->InPhase(Phase::kLower, "param_dtype");
    return n->param_;
  }
  static t2c_status OutputType(t2c_context* c, uint32_t i, t2c_tensor_type* out) {
    FakeNode* n = Self(c);
    if (!n->InPhase(Phase::kLower, "output_type")) return T2C_ERROR;
    if (i >= n->planned_.size()) return n->Err("output_type: output out of range");
    n->planned_[i].ToAbi(out);
    return T2C_OK;
  }
  static t2c_status InputVar(t2c_context* c, uint32_t i, t2c_var* out) {
    FakeNode* n = Self(c);
    if (!n->InPhase(Phase::kLower, "input_var")) return T2C_ERROR;
    int32_t role = n->RoleOf(i);
    if (role != T2C_ROLE_TENSOR && role != T2C_ROLE_PARAM) {
      n->Violation("input_var on input " + std::to_string(i) +
                   " whose role is not TENSOR or PARAM");
      return T2C_ERROR;
    }
    auto it = n->input_vars_.find(i);
    if (it == n->input_vars_.end()) {
      return n->Err("input_var: input " + std::to_string(i) + " has no var (None?)");
    }
    *out = it->second;
    return T2C_OK;
  }
  static t2c_status InputListVar(t2c_context* c, uint32_t i, uint32_t k, t2c_var* out) {
    FakeNode* n = Self(c);
    if (!n->InPhase(Phase::kLower, "input_list_var")) return T2C_ERROR;
    if (n->RoleOf(i) != T2C_ROLE_TENSOR_LIST) {
      n->Violation("input_list_var on input " + std::to_string(i) + " not declared a tensor list");
      return T2C_ERROR;
    }
    auto it = n->list_vars_.find(i);
    if (it == n->list_vars_.end() || k >= it->second.size()) {
      return n->Err("input_list_var: no element " + std::to_string(k));
    }
    *out = it->second[k];
    return T2C_OK;
  }
  static t2c_status VarType(t2c_context* c, t2c_var var, t2c_tensor_type* out) {
    FakeNode* n = Self(c);
    if (!n->InPhase(Phase::kLower, "var_type")) return T2C_ERROR;
    if (!n->HasVar(var)) {
      n->Violation("var_type of unknown var " + std::to_string(var));
      return T2C_ERROR;
    }
    n->vars_[var].type.ToAbi(out);
    return T2C_OK;
  }
  bool CheckConstShape(int32_t rank, const int64_t* dims, int64_t* count) {
    *count = 1;
    if (rank < 0 || rank > T2C_MAX_RANK || (rank > 0 && dims == nullptr)) {
      Violation("constant with a bad rank");
      return false;
    }
    for (int32_t k = 0; k < rank; ++k) {
      if (dims[k] < 0) {
        Violation("constant with a negative dimension");
        return false;
      }
      *count *= dims[k];
    }
    return true;
  }
  static t2c_status ConstFloats(t2c_context* c, int32_t dtype, const float* data, int32_t rank,
                                const int64_t* dims, t2c_var* out) {
    FakeNode* n = Self(c);
    if (!n->InPhase(Phase::kLower, "const_floats")) return T2C_ERROR;
    if (dtype != T2C_DTYPE_FP16 && dtype != T2C_DTYPE_FP32) {
      n->Violation("const_floats with dtype " + DtypeName(dtype));
      return T2C_ERROR;
    }
    int64_t count = 0;
    if (!n->CheckConstShape(rank, dims, &count)) return T2C_ERROR;
    FakeVar v;
    v.type = TensorType(static_cast<t2c_dtype>(dtype), std::vector<int64_t>(dims, dims + rank));
    v.origin = VarOrigin::kConst;
    v.values.assign(data, data + count);
    *out = n->NewVar(v);
    return T2C_OK;
  }
  static t2c_status ConstInts(t2c_context* c, const int64_t* data, int32_t rank,
                              const int64_t* dims, t2c_var* out) {
    FakeNode* n = Self(c);
    if (!n->InPhase(Phase::kLower, "const_ints")) return T2C_ERROR;
    int64_t count = 0;
    if (!n->CheckConstShape(rank, dims, &count)) return T2C_ERROR;
    FakeVar v;
    v.type = TensorType(T2C_DTYPE_INT32, std::vector<int64_t>(dims, dims + rank));
    v.origin = VarOrigin::kConst;
    for (int64_t k = 0; k < count; ++k) {
      if (data[k] < std::numeric_limits<int32_t>::min() ||
          data[k] > std::numeric_limits<int32_t>::max()) {
        return n->Err("const_ints: value " + std::to_string(data[k]) + " exceeds int32");
      }
      v.values.push_back(static_cast<double>(data[k]));
    }
    *out = n->NewVar(v);
    return T2C_OK;
  }
  static t2c_status ConstBools(t2c_context* c, const int32_t* data, int32_t rank,
                               const int64_t* dims, t2c_var* out) {
    FakeNode* n = Self(c);
    if (!n->InPhase(Phase::kLower, "const_bools")) return T2C_ERROR;
    int64_t count = 0;
    if (!n->CheckConstShape(rank, dims, &count)) return T2C_ERROR;
    FakeVar v;
    v.type = TensorType(T2C_DTYPE_BOOL, std::vector<int64_t>(dims, dims + rank));
    v.origin = VarOrigin::kConst;
    for (int64_t k = 0; k < count; ++k) v.values.push_back(data[k] != 0 ? 1.0 : 0.0);
    *out = n->NewVar(v);
    return T2C_OK;
  }
  static t2c_status ConstString(t2c_context* c, const char* value, t2c_var* out) {
    FakeNode* n = Self(c);
    if (!n->InPhase(Phase::kLower, "const_string")) return T2C_ERROR;
    FakeVar v;
    v.type = TensorType(T2C_DTYPE_STRING, {});
    v.origin = VarOrigin::kConst;
    v.str = value;
    *out = n->NewVar(v);
    return T2C_OK;
  }
  /// Refuses op types a lowering may not emit: casts (the core inserts them) and consts.
  bool CheckEmittedType(const std::string& type) {
    if (type == "cast") {
      Violation("a lowering never emits \"cast\"; the core inserts casts");
      return false;
    }
    if (type == "const" || type.empty()) {
      Violation("emit of op type \"" + type + "\"; use the const_* functions");
      return false;
    }
    return true;
  }
  /// Reads the named inputs into `op`: each name once, each with known vars.
  bool ReadEmittedArgs(const t2c_named_arg* args, uint32_t num_args, FakeOp* op) {
    const std::string& type = op->type;
    std::set<std::string> names;
    for (uint32_t a = 0; a < num_args; ++a) {
      if (args[a].name == nullptr || !names.insert(args[a].name).second) {
        Violation(type + ": missing or repeated input name");
        return false;
      }
      if (args[a].num_vars == 0) {
        Violation(type + ": input '" + args[a].name + "' has no vars");
        return false;
      }
      std::vector<t2c_var> vs(args[a].vars, args[a].vars + args[a].num_vars);
      for (t2c_var v : vs) {
        if (!HasVar(v)) {
          Violation(type + ": input '" + args[a].name + "' uses unknown var " + std::to_string(v));
          return false;
        }
      }
      op->args.emplace_back(args[a].name, std::move(vs));
    }
    return true;
  }
  /// Checks `op` with its declared output types against the opset and sets them: at least one,
  /// each of a dtype a MIL var can have.
  bool TypeEmittedOutputs(const t2c_tensor_type* out_types, uint32_t num_outputs, FakeOp* op) {
    const std::string& type = op->type;
    if (num_outputs == 0) {
      Violation(type + ": an op without outputs");
      return false;
    }
    for (uint32_t k = 0; k < num_outputs; ++k) op->output_types.emplace_back(out_types[k]);
    std::vector<std::string> problems = opset::CheckOp(ViewOf(*op), target());
    if (!problems.empty()) {
      Violation("emitted " + problems[0]);
      return false;
    }
    op->output_types.clear();
    for (uint32_t k = 0; k < num_outputs; ++k) {
      TensorType t(out_types[k]);
      if (t.dtype != T2C_DTYPE_FP16 && t.dtype != T2C_DTYPE_FP32 && t.dtype != T2C_DTYPE_INT32 &&
          t.dtype != T2C_DTYPE_BOOL) {
        Violation(type + ": output " + std::to_string(k) + " has dtype " + DtypeName(t.dtype));
        return false;
      }
      op->output_types.push_back(t);
    }
    return true;
  }
  static t2c_status Emit(t2c_context* c, const char* op_type, const t2c_named_arg* args,
                         uint32_t num_args, const t2c_tensor_type* out_types, uint32_t num_outputs,
                         t2c_var* out_vars) {
    FakeNode* n = Self(c);
    if (!n->InPhase(Phase::kLower, "emit")) return T2C_ERROR;
    FakeOp op;
    op.type = op_type == nullptr ? "" : op_type;
    if (!n->CheckEmittedType(op.type) || !n->ReadEmittedArgs(args, num_args, &op) ||
        !n->TypeEmittedOutputs(out_types, num_outputs, &op)) {
      return T2C_ERROR;
    }
    const int op_index = static_cast<int>(n->ops_.size());
    for (uint32_t k = 0; k < num_outputs; ++k) {
      FakeVar v;
      v.type = op.output_types[k];
      v.origin = VarOrigin::kOp;
      v.op_index = op_index;
      out_vars[k] = n->NewVar(v);
      op.outputs.push_back(out_vars[k]);
    }
    n->ops_.push_back(std::move(op));
    return T2C_OK;
  }
  /// A var as the opset check reads it: node inputs that are numbers or weights are constants,
  /// as the core materializes them.
  opset::ArgView ArgOf(t2c_var id) const {
    const FakeVar& v = var(id);
    opset::ArgView a;
    a.type = {static_cast<int32_t>(v.type.dtype), v.type.shape};
    if (v.origin == VarOrigin::kConst) {
      a.is_const = true;
      if (v.type.dtype == T2C_DTYPE_STRING) a.str = v.str;
      if ((v.type.dtype == T2C_DTYPE_INT32 || v.type.dtype == T2C_DTYPE_BOOL) &&
          v.values.size() <= 64) {
        a.ints = std::vector<int64_t>(v.values.begin(), v.values.end());
      }
    } else if (v.origin == VarOrigin::kInput && v.list_index < 0 && v.input_index >= 0 &&
               static_cast<size_t>(v.input_index) < inputs_.size()) {
      const Value& in = inputs_[static_cast<size_t>(v.input_index)];
      a.is_const = in.kind == T2C_KIND_TENSOR ? in.is_const : in.kind != T2C_KIND_NONE;
      if (in.kind == T2C_KIND_INT || in.kind == T2C_KIND_BOOL) a.ints = {in.int_value};
    }
    return a;
  }
  opset::OpView ViewOf(const FakeOp& op) const {
    opset::OpView view;
    view.type = op.type;
    for (const auto& arg : op.args) {
      opset::InputView in{arg.first, {}};
      for (t2c_var v : arg.second) in.vars.push_back(ArgOf(v));
      view.inputs.push_back(std::move(in));
    }
    for (const TensorType& t : op.output_types) {
      view.outputs.push_back({static_cast<int32_t>(t.dtype), t.shape});
    }
    return view;
  }
  static int32_t DeploymentTarget(t2c_context* c) {
    FakeNode* n = Self(c);
    return n->phase_ == Phase::kLower ? n->target() : 0;
  }
  static t2c_status SetOutput(t2c_context* c, uint32_t i, t2c_var var) {
    FakeNode* n = Self(c);
    if (!n->InPhase(Phase::kLower, "set_output")) return T2C_ERROR;
    if (i >= n->num_outputs_) return n->Err("set_output: output out of range");
    if (n->inferred_lists_[i]) {
      n->Violation("set_output on list output " + std::to_string(i) + "; use set_output_list");
      return T2C_ERROR;
    }
    if (!n->HasVar(var)) {
      n->Violation("set_output with unknown var " + std::to_string(var));
      return T2C_ERROR;
    }
    if (n->outputs_[i] != 0) {
      n->Violation("output " + std::to_string(i) + " bound twice");
      return T2C_ERROR;
    }
    const TensorType& t = n->vars_[var].type;
    if (!(t == n->planned_[i])) {
      n->Violation("output " + std::to_string(i) + " is " + TypeString(t) + " but planned " +
                   TypeString(n->planned_[i]));
      return T2C_ERROR;
    }
    n->outputs_[i] = var;
    return T2C_OK;
  }
  static t2c_status SetOutputListTypes(t2c_context* c, uint32_t i, const t2c_tensor_type* types,
                                       uint32_t count) {
    FakeNode* n = Self(c);
    if (!n->InPhase(Phase::kInfer, "set_output_list_types")) return T2C_ERROR;
    if (i >= n->num_outputs_) return n->Err("set_output_list_types: output out of range");
    if (count > 0 && types == nullptr) {
      n->Violation("set_output_list_types with null types");
      return T2C_ERROR;
    }
    if (n->inferred_[i]) {
      n->Violation("output " + std::to_string(i) + " set both as a tensor and as a list");
      return T2C_ERROR;
    }
    std::vector<TensorType> list;
    for (uint32_t k = 0; k < count; ++k) list.emplace_back(types[k]);
    n->inferred_lists_[i] = std::move(list);
    return T2C_OK;
  }
  static t2c_status OutputListType(t2c_context* c, uint32_t i, uint32_t k, t2c_tensor_type* out) {
    FakeNode* n = Self(c);
    if (!n->InPhase(Phase::kLower, "output_list_type")) return T2C_ERROR;
    if (i >= n->num_outputs_ || !n->inferred_lists_[i]) {
      return n->Err("output_list_type: output " + std::to_string(i) + " is not a list");
    }
    if (k >= n->planned_lists_[i].size()) {
      return n->Err("output_list_type: no element " + std::to_string(k) + " in output " +
                    std::to_string(i));
    }
    n->planned_lists_[i][k].ToAbi(out);
    return T2C_OK;
  }
  static t2c_status SetOutputList(t2c_context* c, uint32_t i, const t2c_var* vars, uint32_t count) {
    FakeNode* n = Self(c);
    if (!n->InPhase(Phase::kLower, "set_output_list")) return T2C_ERROR;
    if (i >= n->num_outputs_ || !n->inferred_lists_[i]) {
      return n->Err("set_output_list: output " + std::to_string(i) + " is not a list");
    }
    if (n->output_lists_[i]) {
      n->Violation("list output " + std::to_string(i) + " bound twice");
      return T2C_ERROR;
    }
    const std::vector<TensorType>& planned = n->planned_lists_[i];
    if (count != planned.size()) {
      n->Violation("list output " + std::to_string(i) + " bound to " + std::to_string(count) +
                   " vars, planned " + std::to_string(planned.size()));
      return T2C_ERROR;
    }
    for (uint32_t k = 0; k < count; ++k) {
      if (!n->HasVar(vars[k])) {
        n->Violation("set_output_list with unknown var " + std::to_string(vars[k]));
        return T2C_ERROR;
      }
      const TensorType& t = n->vars_[vars[k]].type;
      if (!(t == planned[k])) {
        n->Violation("element " + std::to_string(k) + " of list output " + std::to_string(i) +
                     " is " + TypeString(t) + " but planned " + TypeString(planned[k]));
        return T2C_ERROR;
      }
    }
    n->output_lists_[i] = std::vector<t2c_var>(vars, vars + count);
    return T2C_OK;
  }
  static int32_t OutputIsUsed(t2c_context* c, uint32_t i) {
    return Self(c)->unused_outputs_.count(i) != 0 ? 0 : 1;
  }
  static t2c_status InputFloatsFn(t2c_context* c, uint32_t i, const double** data, uint32_t* n) {
    FakeNode* f = Self(c);
    if (i >= f->inputs_.size()) return f->Err("input_floats: input out of range");
    const Value& v = f->inputs_[i];
    std::vector<double> floats;
    if (v.kind == T2C_KIND_FLOAT_LIST) {
      floats = v.floats;
    } else if (v.kind == T2C_KIND_INT_LIST) {
      floats.assign(v.ints.begin(), v.ints.end());
    } else if (v.kind == T2C_KIND_FLOAT) {
      floats = {v.float_value};
    } else if (v.kind == T2C_KIND_INT) {
      floats = {static_cast<double>(v.int_value)};
    } else {
      return f->Err("input_floats: input " + std::to_string(i) + " is not a float list");
    }
    f->float_cache_[i] = std::move(floats);
    *data = f->float_cache_[i].data();
    *n = static_cast<uint32_t>(f->float_cache_[i].size());
    return T2C_OK;
  }
  static void FailFn(t2c_context* c, const char* message) { Self(c)->Fail(message); }
  static void WarnFn(t2c_context* c, const char* message) { Self(c)->warnings_.push_back(message); }

  t2c_status Err(const std::string& message) {
    Fail(message);
    return T2C_ERROR;
  }

  static t2c_host_api MakeApi() {
    t2c_host_api a{};
    a.struct_size = sizeof(t2c_host_api);
    a.abi_version = T2C_ABI_VERSION;
    a.node_kind = &NodeKind;
    a.num_inputs = &NumInputs;
    a.num_outputs = &NumOutputs;
    a.input_kind = &InputKind;
    a.input_type = &InputType;
    a.input_is_const = &InputIsConst;
    a.input_int = &InputInt;
    a.input_float = &InputFloat;
    a.input_bool = &InputBool;
    a.input_ints = &InputInts;
    a.input_string = &InputString;
    a.input_list_size = &InputListSize;
    a.input_list_type = &InputListType;
    a.set_output_type = &SetOutputType;
    a.compute_dtype = &ComputeDtypeFn;
    a.param_dtype = &ParamDtypeFn;
    a.output_type = &OutputType;
    a.input_var = &InputVar;
    a.input_list_var = &InputListVar;
    a.var_type = &VarType;
    a.const_floats = &ConstFloats;
    a.const_ints = &ConstInts;
    a.const_bools = &ConstBools;
    a.const_string = &ConstString;
    a.emit = &Emit;
    a.set_output = &SetOutput;
    a.fail = &FailFn;
    a.warn = &WarnFn;
    a.set_output_list_types = &SetOutputListTypes;
    a.output_list_type = &OutputListType;
    a.set_output_list = &SetOutputList;
    a.output_is_used = &OutputIsUsed;
    a.input_floats = &InputFloatsFn;
    a.deployment_target = &DeploymentTarget;
    a.input_list_kind = &InputListKind;
    a.input_bools = &InputBools;
    return a;
  }

  std::string kind_;
  uint32_t num_outputs_;
  std::vector<Value> inputs_;
  t2c_dtype precision_ = T2C_DTYPE_FP32;
  bool fp32_params_allowed_ = false;
  int32_t target_ = 0;
  std::optional<t2c_dtype> compute_override_;
  std::optional<t2c_dtype> param_override_;

  const t2c_host_api api_ = MakeApi();
  const t2c_lowering_decl* decl_ = nullptr;
  Phase phase_ = Phase::kNone;
  bool inferred_done_ = false;
  std::vector<std::optional<TensorType>> inferred_;
  std::vector<std::optional<std::vector<TensorType>>> inferred_lists_;
  std::vector<TensorType> planned_;
  std::vector<std::vector<TensorType>> planned_lists_;
  std::vector<std::optional<std::vector<t2c_var>>> output_lists_;
  t2c_dtype compute_ = T2C_DTYPE_FP32;
  t2c_dtype param_ = T2C_DTYPE_FP32;
  std::string error_;
  t2c_status last_status_ = T2C_OK;
  std::vector<std::string> warnings_;
  std::vector<FakeOp> ops_;
  std::map<t2c_var, FakeVar> vars_;
  t2c_var next_var_ = 1;
  std::vector<t2c_var> outputs_;
  std::map<uint32_t, t2c_var> input_vars_;
  std::map<uint32_t, std::vector<t2c_var>> list_vars_;
  std::map<uint32_t, std::vector<int64_t>> int_cache_;
  std::map<uint32_t, std::vector<double>> float_cache_;
  std::map<uint32_t, std::vector<int32_t>> bool_cache_;
  std::set<uint32_t> unused_outputs_;
};

}  // namespace ts2coreml::sdk::testing

#endif  // TS2COREML_SDK_TESTING_FAKE_HOST_H_
