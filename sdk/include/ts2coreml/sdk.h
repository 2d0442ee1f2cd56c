/// ts2coreml plugin SDK: a header-only C++ layer over the C ABI in plugin_abi.h.
///
/// A plugin declares its lowerings as constexpr data and exports them with one macro:
///
///   namespace sdk = ts2coreml::sdk;
///   constexpr t2c_input_decl kReluInputs[] = {sdk::Tensor("self")};
///   constexpr uint32_t kReluSelf = sdk::InputIndex(kReluInputs, "self");
///   sdk::Status LowerRelu(sdk::LowerContext& ctx) {
///     TS2COREML_ASSIGN_OR_RETURN(sdk::Var x, ctx.Input(kReluSelf));
///     return ctx.EmitOutput("relu", {{"x", x}});
///   }
///   constexpr const char* kReluOps[] = {"aten::relu"};
///   constexpr t2c_lowering_decl kLowerings[] = {
///       sdk::Lowering("relu", kReluOps, kReluInputs, T2C_FP16_NATIVE, T2C_INFER_SAME_AS_INPUT0,
///                     nullptr, sdk::LowerFn<LowerRelu>)};
///   TS2COREML_PLUGIN("my_plugin", "1.0.0", kLowerings)
///
/// The macro exports the entry and the constant header the registry checks before loading the
/// library (see plugin_abi.h). Exceptions never leave a callback: the thunks turn them into errors.
#ifndef TS2COREML_SDK_H_
#define TS2COREML_SDK_H_

#include <cstddef>
#include <cstdint>
#include <exception>
#include <initializer_list>
#include <string>
#include <utility>
#include <vector>

#include "ts2coreml/plugin_abi.h"

namespace ts2coreml::sdk {

/// Success, or a message saying what went wrong.
class [[nodiscard]] Status {
 public:
  Status() = default;
  static Status Ok() { return Status(); }
  static Status Error(std::string message) {
    Status s;
    s.ok_ = false;
    s.message_ = std::move(message);
    return s;
  }
  /// The node's inputs do not fit the op (shapes or types PyTorch would reject): the core blames
  /// the model's input shapes, not the plugin (T2C_ERROR_INVALID_INPUTS).
  static Status InvalidInputs(std::string message) {
    Status s = Error(std::move(message));
    s.invalid_inputs_ = true;
    return s;
  }
  bool ok() const { return ok_; }
  bool invalid_inputs() const { return invalid_inputs_; }
  const std::string& message() const { return message_; }

 private:
  bool ok_ = true;
  bool invalid_inputs_ = false;
  std::string message_;
};

/// A value, or the Status saying why there is none.
template <typename T>
class [[nodiscard]] Expected {
 public:
  Expected(T value) : value_(std::move(value)) {}          // NOLINT: implicit by design
  Expected(Status status) : status_(std::move(status)) {}  // NOLINT
  bool ok() const { return status_.ok(); }
  const Status& status() const { return status_; }
  T& value() { return value_; }
  const T& value() const { return value_; }
  T& operator*() { return value_; }

 private:
  T value_{};
  Status status_;
};

#define TS2COREML_SDK_CONCAT_INNER(a, b) a##b
#define TS2COREML_SDK_CONCAT(a, b) TS2COREML_SDK_CONCAT_INNER(a, b)

/// Returns early from a function returning Status when `expr` is not ok.
#define TS2COREML_RETURN_IF_ERROR(expr)            \
  do {                                             \
    ::ts2coreml::sdk::Status _t2c_status = (expr); \
    if (!_t2c_status.ok()) return _t2c_status;     \
  } while (0)

#define TS2COREML_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                                    \
  if (!tmp.ok()) return tmp.status();                   \
  lhs = std::move(tmp.value())

/// `TS2COREML_ASSIGN_OR_RETURN(Var x, ctx.Input(0));`
#define TS2COREML_ASSIGN_OR_RETURN(lhs, expr) \
  TS2COREML_ASSIGN_OR_RETURN_IMPL(TS2COREML_SDK_CONCAT(_t2c_expected_, __LINE__), lhs, expr)

/// A static tensor type.
struct TensorType {
  t2c_dtype dtype = T2C_DTYPE_INVALID;
  std::vector<int64_t> shape;

  TensorType() = default;
  TensorType(t2c_dtype d, std::vector<int64_t> s) : dtype(d), shape(std::move(s)) {}
  explicit TensorType(const t2c_tensor_type& t)
      : dtype(static_cast<t2c_dtype>(t.dtype)), shape(t.dims, t.dims + t.rank) {}

  int64_t rank() const { return static_cast<int64_t>(shape.size()); }
  bool is_float() const { return dtype == T2C_DTYPE_FP16 || dtype == T2C_DTYPE_FP32; }
  int64_t numel() const {
    int64_t n = 1;
    for (int64_t d : shape) n *= d;
    return n;
  }
  /// Converts to the ABI struct; false when the rank exceeds T2C_MAX_RANK.
  bool ToAbi(t2c_tensor_type* out) const {
    if (shape.size() > T2C_MAX_RANK) return false;
    out->dtype = dtype;
    out->rank = static_cast<int32_t>(shape.size());
    for (size_t i = 0; i < shape.size(); ++i) out->dims[i] = shape[i];
    return true;
  }
  friend bool operator==(const TensorType& a, const TensorType& b) {
    return a.dtype == b.dtype && a.shape == b.shape;
  }
};

/// Normalizes a possibly negative axis against a rank; -1 when out of range.
inline int64_t NormalizeAxis(int64_t axis, int64_t rank) {
  if (axis < -rank || axis >= rank) return -1;
  return axis < 0 ? axis + rank : axis;
}

/// A MIL var handle.
struct Var {
  t2c_var id = 0;
  bool valid() const { return id != 0; }
};

/// One named argument of an emitted op: a var, or several for tuple parameters.
struct Arg {
  Arg(const char* n, Var v) : name(n), vars{v.id} {}
  Arg(const char* n, const std::vector<Var>& vs) : name(n) {
    for (const Var& v : vs) vars.push_back(v.id);
  }
  const char* name;
  std::vector<t2c_var> vars;
};

/// The inputs of a node, as both callbacks see them.
class NodeView {
 public:
  NodeView(const t2c_host_api* api, t2c_context* ctx) : api_(api), ctx_(ctx) {}

  std::string kind() const { return api_->node_kind(ctx_); }
  uint32_t num_inputs() const { return api_->num_inputs(ctx_); }
  uint32_t num_outputs() const { return api_->num_outputs(ctx_); }
  t2c_value_kind input_kind(uint32_t i) const {
    return static_cast<t2c_value_kind>(api_->input_kind(ctx_, i));
  }
  bool IsNone(uint32_t i) const { return input_kind(i) == T2C_KIND_NONE; }
  /// Whether output i is read by anything (false for an ignored second output, e.g. indices).
  bool OutputIsUsed(uint32_t i) const {
    return !HasHostFunction(offsetof(t2c_host_api, output_is_used)) ||
           api_->output_is_used(ctx_, i) != 0;
  }
  bool IsConst(uint32_t i) const { return api_->input_is_const(ctx_, i) != 0; }
  /// Lower: the iOS major version the program targets (15 = iOS15/CoreML5 ... 18), to choose an
  /// op per target (docs/mil-ops.md gives each op's first version). 0 during infer, and from a
  /// core that predates the function.
  int DeploymentTarget() const {
    if (!HasHostFunction(offsetof(t2c_host_api, deployment_target))) return 0;
    return api_->deployment_target(ctx_);
  }

  Expected<TensorType> InputType(uint32_t i) const {
    t2c_tensor_type t{};
    if (api_->input_type(ctx_, i, &t) != T2C_OK) return Failed("input " + std::to_string(i));
    return TensorType(t);
  }
  Expected<int64_t> Int(uint32_t i) const {
    int64_t v = 0;
    if (api_->input_int(ctx_, i, &v) != T2C_OK) return Failed("input " + std::to_string(i));
    return v;
  }
  Expected<double> Float(uint32_t i) const {
    double v = 0;
    if (api_->input_float(ctx_, i, &v) != T2C_OK) return Failed("input " + std::to_string(i));
    return v;
  }
  Expected<bool> Bool(uint32_t i) const {
    int32_t v = 0;
    if (api_->input_bool(ctx_, i, &v) != T2C_OK) return Failed("input " + std::to_string(i));
    return v != 0;
  }
  Expected<std::vector<int64_t>> Ints(uint32_t i) const {
    const int64_t* data = nullptr;
    uint32_t n = 0;
    if (api_->input_ints(ctx_, i, &data, &n) != T2C_OK) return Failed("input " + std::to_string(i));
    return std::vector<int64_t>(data, data + n);
  }
  /// A float list (ints and a single number are accepted too).
  Expected<std::vector<double>> Floats(uint32_t i) const {
    if (!HasHostFunction(offsetof(t2c_host_api, input_floats))) {
      return Error("this ts2coreml cannot read float lists");
    }
    const double* data = nullptr;
    uint32_t n = 0;
    if (api_->input_floats(ctx_, i, &data, &n) != T2C_OK)
      return Failed("input " + std::to_string(i));
    return std::vector<double>(data, data + n);
  }
  /// A bool list (`bool[3] output_mask`; a single bool is read as a list of one).
  Expected<std::vector<bool>> Bools(uint32_t i) const {
    if (!HasHostFunction(offsetof(t2c_host_api, input_bools))) {
      return Error("this ts2coreml cannot read bool lists");
    }
    const int32_t* data = nullptr;
    uint32_t n = 0;
    if (api_->input_bools(ctx_, i, &data, &n) != T2C_OK) {
      return Failed("input " + std::to_string(i));
    }
    std::vector<bool> bools(n);
    for (uint32_t k = 0; k < n; ++k) bools[k] = data[k] != 0;
    return bools;
  }
  Expected<std::string> String(uint32_t i) const {
    const char* s = nullptr;
    if (api_->input_string(ctx_, i, &s) != T2C_OK) return Failed("input " + std::to_string(i));
    return std::string(s);
  }
  Expected<uint32_t> ListSize(uint32_t i) const {
    uint32_t n = 0;
    if (api_->input_list_size(ctx_, i, &n) != T2C_OK) return Failed("input " + std::to_string(i));
    return n;
  }
  /// Whether element k of tensor-list input i is None (only in a list declared with
  /// OptionalTensorList; a core that predates input_list_kind never passes None elements).
  bool ListElementIsNone(uint32_t i, uint32_t k) const {
    if (!HasHostFunction(offsetof(t2c_host_api, input_list_kind))) return false;
    return api_->input_list_kind(ctx_, i, k) == T2C_KIND_NONE;
  }
  Expected<TensorType> ListType(uint32_t i, uint32_t k) const {
    t2c_tensor_type t{};
    if (api_->input_list_type(ctx_, i, k, &t) != T2C_OK)
      return Failed("input " + std::to_string(i));
    return TensorType(t);
  }

  /// True when the core's host table has the function at `offset` (it may predate it).
  bool HasHostFunction(size_t offset) const {
    return api_->struct_size >= offset + sizeof(void (*)());
  }

  /// A Status carrying a message; also records it with the core.
  Status Error(const std::string& message) const {
    api_->fail(ctx_, message.c_str());
    return Status::Error(message);
  }
  /// Like Error, for inputs that do not fit the op (Status::InvalidInputs).
  Status InvalidInputs(const std::string& message) const {
    api_->fail(ctx_, message.c_str());
    return Status::InvalidInputs(message);
  }
  void Warn(const std::string& message) const { api_->warn(ctx_, message.c_str()); }

 protected:
  /// The core has recorded why a host call failed; repeat it in the Status.
  Status Failed(const std::string& what) const {
    return Status::Error("cannot read " + what + " of " + kind());
  }

  const t2c_host_api* api_;
  t2c_context* ctx_;
};

/// What an `infer` callback sees.
class InferContext : public NodeView {
 public:
  using NodeView::NodeView;
  Status SetOutputType(uint32_t i, const TensorType& type) {
    t2c_tensor_type t{};
    if (!type.ToAbi(&t)) return Error("output rank exceeds T2C_MAX_RANK");
    if (api_->set_output_type(ctx_, i, &t) != T2C_OK) return Failed("output " + std::to_string(i));
    return Status::Ok();
  }
  /// Output i is a Tensor[] (chunk, split, unbind) with these element types.
  Status SetOutputListTypes(uint32_t i, const std::vector<TensorType>& types) {
    if (!HasHostFunction(offsetof(t2c_host_api, set_output_list_types))) {
      return Error("this ts2coreml does not support list outputs");
    }
    std::vector<t2c_tensor_type> abi(types.size());
    for (size_t k = 0; k < types.size(); ++k) {
      if (!types[k].ToAbi(&abi[k])) return Error("output rank exceeds T2C_MAX_RANK");
    }
    if (api_->set_output_list_types(ctx_, i, abi.data(), static_cast<uint32_t>(abi.size())) !=
        T2C_OK) {
      return Failed("output " + std::to_string(i));
    }
    return Status::Ok();
  }
};

/// What a `lower` callback sees.
class LowerContext : public NodeView {
 public:
  using NodeView::NodeView;

  t2c_dtype compute_dtype() const { return static_cast<t2c_dtype>(api_->compute_dtype(ctx_)); }
  t2c_dtype param_dtype() const { return static_cast<t2c_dtype>(api_->param_dtype(ctx_)); }

  Expected<TensorType> OutputType(uint32_t i) const {
    t2c_tensor_type t{};
    if (api_->output_type(ctx_, i, &t) != T2C_OK) return Failed("output " + std::to_string(i));
    return TensorType(t);
  }
  Expected<Var> Input(uint32_t i) const {
    Var v;
    if (api_->input_var(ctx_, i, &v.id) != T2C_OK) return Failed("input " + std::to_string(i));
    return v;
  }
  Expected<std::vector<Var>> InputList(uint32_t i) const {
    TS2COREML_ASSIGN_OR_RETURN(uint32_t n, ListSize(i));
    std::vector<Var> vars(n);
    for (uint32_t k = 0; k < n; ++k) {
      if (api_->input_list_var(ctx_, i, k, &vars[k].id) != T2C_OK) {
        return Failed("element " + std::to_string(k) + " of input " + std::to_string(i));
      }
    }
    return vars;
  }
  /// Element k of tensor-list input i (for lists with None elements, read element by element).
  Expected<Var> ListVar(uint32_t i, uint32_t k) const {
    Var v;
    if (api_->input_list_var(ctx_, i, k, &v.id) != T2C_OK) {
      return Failed("element " + std::to_string(k) + " of input " + std::to_string(i));
    }
    return v;
  }
  Expected<TensorType> TypeOf(Var v) const {
    t2c_tensor_type t{};
    if (api_->var_type(ctx_, v.id, &t) != T2C_OK) return Failed("a var type");
    return TensorType(t);
  }

  /// Constants. Float data is stored in `dtype` (FP16 or FP32) by the core.
  Expected<Var> ConstFloats(t2c_dtype dtype, const std::vector<float>& data,
                            const std::vector<int64_t>& shape) const {
    Var v;
    if (api_->const_floats(ctx_, dtype, data.data(), static_cast<int32_t>(shape.size()),
                           shape.data(), &v.id) != T2C_OK) {
      return Failed("a float constant");
    }
    return v;
  }
  Expected<Var> ConstFloat(t2c_dtype dtype, float value) const {
    return ConstFloats(dtype, {value}, {});
  }
  Expected<Var> ConstInts(const std::vector<int64_t>& data) const {
    int64_t n = static_cast<int64_t>(data.size());
    Var v;
    if (api_->const_ints(ctx_, data.data(), 1, &n, &v.id) != T2C_OK) {
      return Failed("an int constant");
    }
    return v;
  }
  Expected<Var> ConstInt(int64_t value) const {
    Var v;
    if (api_->const_ints(ctx_, &value, 0, nullptr, &v.id) != T2C_OK) {
      return Failed("an int constant");
    }
    return v;
  }
  Expected<Var> ConstBool(bool value) const {
    int32_t b = value ? 1 : 0;
    Var v;
    if (api_->const_bools(ctx_, &b, 0, nullptr, &v.id) != T2C_OK) return Failed("a bool constant");
    return v;
  }
  Expected<Var> ConstString(const std::string& value) const {
    Var v;
    if (api_->const_string(ctx_, value.c_str(), &v.id) != T2C_OK) {
      return Failed("a string constant");
    }
    return v;
  }

  /// Emits one MIL op with explicit output types.
  Expected<std::vector<Var>> Emit(const char* op_type, const std::vector<Arg>& args,
                                  const std::vector<TensorType>& outputs) const {
    std::vector<t2c_named_arg> abi_args;
    abi_args.reserve(args.size());
    for (const Arg& a : args) {
      abi_args.push_back({a.name, a.vars.data(), static_cast<uint32_t>(a.vars.size())});
    }
    std::vector<t2c_tensor_type> abi_outs(outputs.size());
    for (size_t i = 0; i < outputs.size(); ++i) {
      if (!outputs[i].ToAbi(&abi_outs[i])) return Error("output rank exceeds T2C_MAX_RANK");
    }
    std::vector<t2c_var> out_ids(outputs.size(), 0);
    if (api_->emit(ctx_, op_type, abi_args.data(), static_cast<uint32_t>(abi_args.size()),
                   abi_outs.data(), static_cast<uint32_t>(abi_outs.size()),
                   out_ids.data()) != T2C_OK) {
      return Status::Error(std::string("emitting MIL op '") + op_type + "' failed");
    }
    std::vector<Var> vars(out_ids.size());
    for (size_t i = 0; i < out_ids.size(); ++i) vars[i].id = out_ids[i];
    return vars;
  }
  /// Emits one single-output MIL op.
  Expected<Var> Emit1(const char* op_type, const std::vector<Arg>& args,
                      const TensorType& output) const {
    TS2COREML_ASSIGN_OR_RETURN(std::vector<Var> outs, Emit(op_type, args, {output}));
    return outs[0];
  }
  /// Emits one MIL op whose only output is the node's output 0, with its planned type.
  Status EmitOutput(const char* op_type, const std::vector<Arg>& args) {
    TS2COREML_ASSIGN_OR_RETURN(TensorType type, OutputType(0));
    TS2COREML_ASSIGN_OR_RETURN(Var v, Emit1(op_type, args, type));
    return SetOutput(0, v);
  }
  Status SetOutput(uint32_t i, Var v) {
    if (api_->set_output(ctx_, i, v.id) != T2C_OK) return Failed("output " + std::to_string(i));
    return Status::Ok();
  }
  /// The planned type of element k of list output i.
  Expected<TensorType> OutputListType(uint32_t i, uint32_t k) const {
    if (!HasHostFunction(offsetof(t2c_host_api, output_list_type))) {
      return Error("this ts2coreml does not support list outputs");
    }
    t2c_tensor_type t{};
    if (api_->output_list_type(ctx_, i, k, &t) != T2C_OK) {
      return Failed("element " + std::to_string(k) + " of output " + std::to_string(i));
    }
    return TensorType(t);
  }
  /// Binds list output i to vars, one per element.
  Status SetOutputList(uint32_t i, const std::vector<Var>& vars) {
    if (!HasHostFunction(offsetof(t2c_host_api, set_output_list))) {
      return Error("this ts2coreml does not support list outputs");
    }
    std::vector<t2c_var> ids;
    for (const Var& v : vars) ids.push_back(v.id);
    if (api_->set_output_list(ctx_, i, ids.data(), static_cast<uint32_t>(ids.size())) != T2C_OK) {
      return Failed("output " + std::to_string(i));
    }
    return Status::Ok();
  }
};

namespace internal {
inline t2c_status Report(const t2c_host_api* api, t2c_context* ctx, const Status& s) {
  if (s.ok()) return T2C_OK;
  api->fail(ctx, s.message().c_str());
  return s.invalid_inputs() ? T2C_ERROR_INVALID_INPUTS : T2C_ERROR;
}
}  // namespace internal

/// Adapts `Status F(InferContext&)` to t2c_infer_fn, catching every exception.
template <Status (*F)(InferContext&)>
t2c_status InferFn(const t2c_host_api* api, t2c_context* ctx, void* /*user_data*/) noexcept {
  try {
    InferContext c(api, ctx);
    return internal::Report(api, ctx, F(c));
  } catch (const std::exception& e) {
    api->fail(ctx, (std::string("exception in infer: ") + e.what()).c_str());
  } catch (...) {
    api->fail(ctx, "unknown exception in infer");
  }
  return T2C_ERROR;
}

/// Adapts `Status F(LowerContext&)` to t2c_lower_fn, catching every exception.
template <Status (*F)(LowerContext&)>
t2c_status LowerFn(const t2c_host_api* api, t2c_context* ctx, void* /*user_data*/) noexcept {
  try {
    LowerContext c(api, ctx);
    return internal::Report(api, ctx, F(c));
  } catch (const std::exception& e) {
    api->fail(ctx, (std::string("exception in lower: ") + e.what()).c_str());
  } catch (...) {
    api->fail(ctx, "unknown exception in lower");
  }
  return T2C_ERROR;
}

/// Input declarations.
constexpr t2c_input_decl Tensor(const char* name, t2c_dtype_mask dtypes = T2C_MASK_FLOAT,
                                uint32_t flags = 0) {
  return {name, T2C_ROLE_TENSOR, dtypes, flags};
}
constexpr t2c_input_decl OptionalTensor(const char* name, t2c_dtype_mask dtypes = T2C_MASK_FLOAT,
                                        uint32_t flags = 0) {
  return {name, T2C_ROLE_TENSOR, dtypes, flags | T2C_INPUT_OPTIONAL};
}
constexpr t2c_input_decl Param(const char* name, uint32_t flags = 0) {
  return {name, T2C_ROLE_PARAM, T2C_MASK_FLOAT, flags};
}
constexpr t2c_input_decl Host(const char* name, uint32_t flags = 0) {
  return {name, T2C_ROLE_HOST, 0, flags};
}
constexpr t2c_input_decl TensorList(const char* name, t2c_dtype_mask dtypes = T2C_MASK_FLOAT) {
  return {name, T2C_ROLE_TENSOR_LIST, dtypes, 0};
}
/// A Tensor?[] input: a tensor list whose elements may be None (ListElementIsNone).
constexpr t2c_input_decl OptionalTensorList(const char* name,
                                            t2c_dtype_mask dtypes = T2C_MASK_FLOAT) {
  return {name, T2C_ROLE_TENSOR_LIST, dtypes, T2C_INPUT_OPTIONAL};
}
constexpr t2c_input_decl Ignored(const char* name) {
  return {name, T2C_ROLE_IGNORED, 0, T2C_INPUT_OPTIONAL};
}

namespace internal {
constexpr bool SameName(const char* a, const char* b) {
  while (*a != '\0' && *a == *b) {
    ++a;
    ++b;
  }
  return *a == *b;
}
/// Not constexpr: reaching it while a constant is evaluated stops the compilation.
inline uint32_t InputNotDeclared() { return UINT32_MAX; }
}  // namespace internal

/// The position of the input declared as `name` in a lowering's input table, for reading that
/// input by name. Initialize a constant with it beside the table, so a name the table does not
/// declare stops the compilation:
///
///   constexpr t2c_input_decl kConvInputs[] = {sdk::Tensor("input"), sdk::Param("weight"), ...};
///   constexpr uint32_t kConvWeight = sdk::InputIndex(kConvInputs, "weight");
///   ...
///   TS2COREML_ASSIGN_OR_RETURN(sdk::Var w, ctx.Input(kConvWeight));
template <size_t N>
constexpr uint32_t InputIndex(const t2c_input_decl (&inputs)[N], const char* name) {
  for (size_t i = 0; i < N; ++i) {
    if (internal::SameName(inputs[i].name, name)) return static_cast<uint32_t>(i);
  }
  return internal::InputNotDeclared();
}

/// One lowering declaration from constexpr arrays.
template <size_t NOps, size_t NInputs>
constexpr t2c_lowering_decl Lowering(const char* name, const char* const (&ops)[NOps],
                                     const t2c_input_decl (&inputs)[NInputs],
                                     t2c_fp16_policy policy, t2c_infer_rule rule,
                                     t2c_infer_fn infer, t2c_lower_fn lower, int32_t priority = 0,
                                     uint32_t flags = 0) {
  return {sizeof(t2c_lowering_decl),
          name,
          ops,
          static_cast<uint32_t>(NOps),
          priority,
          policy,
          inputs,
          static_cast<uint32_t>(NInputs),
          rule,
          infer,
          lower,
          nullptr,
          flags,
          nullptr,
          0,
          nullptr,
          0};
}

/// Like Lowering, for an op outside aten whose full schema the core must register with LibTorch.
template <size_t NOps, size_t NInputs, size_t NSchemas>
constexpr t2c_lowering_decl CustomOpLowering(const char* name, const char* const (&ops)[NOps],
                                             const char* const (&schemas)[NSchemas],
                                             const t2c_input_decl (&inputs)[NInputs],
                                             t2c_fp16_policy policy, t2c_infer_rule rule,
                                             t2c_infer_fn infer, t2c_lower_fn lower,
                                             int32_t priority = 0) {
  t2c_lowering_decl d = Lowering(name, ops, inputs, policy, rule, infer, lower, priority);
  d.schemas = schemas;
  d.num_schemas = static_cast<uint32_t>(NSchemas);
  return d;
}

/// One FP16 limit (t2c_fp16_limit): FP16 is safe while `statistic` of tensor input `input`,
/// reduced over `axes` (named by host input `axes_input`), stays at or below `bound`;
/// `param_input` names the host input holding the statistic's parameter (POWER_SUM's p).
///
///   constexpr t2c_fp16_limit kLayerNormLimits[] = {sdk::Fp16Limit(
///       T2C_FP16_STAT_CENTERED_SQUARES, kLayerNormInput, 65504.0, "the sum of squares",
///       T2C_FP16_AXES_TRAILING, kLayerNormShape)};
///   sdk::WithFp16Limits(sdk::Lowering("layer_norm", ...), kLayerNormLimits)
constexpr t2c_fp16_limit Fp16Limit(t2c_fp16_statistic statistic, uint32_t input, double bound,
                                   const char* what, t2c_fp16_axes axes = T2C_FP16_AXES_ALL,
                                   uint32_t axes_input = 0, uint32_t param_input = 0) {
  return {sizeof(t2c_fp16_limit), statistic, input, axes, axes_input, bound, what, param_input};
}

/// `decl` with the FP16 limits `limits` (see t2c_fp16_limit).
template <size_t N>
constexpr t2c_lowering_decl WithFp16Limits(t2c_lowering_decl decl,
                                           const t2c_fp16_limit (&limits)[N]) {
  decl.fp16_limits = limits;
  decl.num_fp16_limits = static_cast<uint32_t>(N);
  return decl;
}

/// The plugin's description: its name, version and lowerings, at this SDK's ABI version.
template <size_t NLowerings>
constexpr t2c_plugin_info PluginInfo(const char* name, const char* version,
                                     const t2c_lowering_decl (&lowerings)[NLowerings]) {
  return {T2C_ABI_VERSION, sizeof(t2c_plugin_info),          name, version,
          lowerings,       static_cast<uint32_t>(NLowerings)};
}

/// The header a plugin built with this SDK exports: the ABI version and the layout sizes it was
/// compiled against, read by the registry before the library is loaded.
constexpr t2c_plugin_header PluginHeader() {
  return {T2C_HEADER_MAGIC,        sizeof(t2c_plugin_header), T2C_ABI_VERSION,
          sizeof(t2c_plugin_info), sizeof(t2c_lowering_decl), sizeof(t2c_host_api)};
}

}  // namespace ts2coreml::sdk

/// Defines the exported constant header the registry reads before loading the library. Use it
/// beside a hand-written `ts2coreml_plugin_entry`; TS2COREML_PLUGIN includes it.
#define TS2COREML_PLUGIN_HEADER()                         \
  extern "C" __attribute__((visibility("default"), used)) \
  const t2c_plugin_header ts2coreml_plugin_header = ts2coreml::sdk::PluginHeader();

/// Defines the plugin's two exported symbols: the constant header the registry reads before loading
/// the library, and the entry returning constant data built from `lowerings`.
#define TS2COREML_PLUGIN(plugin_name, plugin_version, lowerings)                                   \
  TS2COREML_PLUGIN_HEADER()                                                                        \
  extern "C" __attribute__((visibility("default"))) const t2c_plugin_info* ts2coreml_plugin_entry( \
      void) {                                                                                      \
    static constexpr t2c_plugin_info kInfo =                                                       \
        ts2coreml::sdk::PluginInfo(plugin_name, plugin_version, lowerings);                        \
    return &kInfo;                                                                                 \
  }

#endif  // TS2COREML_SDK_H_
