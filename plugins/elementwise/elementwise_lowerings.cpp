/// Built-in lowerings of elementwise arithmetic. Shapes broadcast like numpy (T2C_INFER_BROADCAST
/// or common/broadcast.h); the core plans operand dtypes, so a lowering emits in the dtype of its
/// planned output and only checks that the operands agree with it.
#include "elementwise/elementwise_lowerings.h"

#include <cmath>
#include <string>
#include <vector>

#include "common/broadcast.h"
#include "common/lowering_util.h"
#include "ts2coreml/sdk.h"

namespace ts2coreml::plugins {
namespace {

using sdk::Expected;
using sdk::InferContext;
using sdk::LowerContext;
using sdk::Status;
using sdk::TensorType;
using sdk::Var;

/// Both operands as vars, checked against the planned output dtype.
Status ReadOperands(LowerContext& ctx, const std::string& op, Var* x, Var* y, TensorType* out) {
  TS2COREML_ASSIGN_OR_RETURN(*out, ctx.OutputType(0));
  TS2COREML_ASSIGN_OR_RETURN(*x, ctx.Input(0));
  TS2COREML_ASSIGN_OR_RETURN(*y, ctx.Input(1));
  for (Var v : {*x, *y}) {
    TS2COREML_ASSIGN_OR_RETURN(TensorType t, ctx.TypeOf(v));
    if (t.dtype != out->dtype) {
      return ctx.Error(op + ": operand dtype " + std::to_string(t.dtype) +
                       " differs from the planned output dtype " + std::to_string(out->dtype) +
                       " (the core must plan both operands in the output dtype)");
    }
  }
  return Status::Ok();
}

/// add/sub(self, other, alpha): other * alpha first when alpha != 1.
Status LowerAddSub(LowerContext& ctx, const std::string& op, const char* mil_op) {
  Var x, y;
  TensorType out;
  TS2COREML_RETURN_IF_ERROR(ReadOperands(ctx, op, &x, &y, &out));
  double alpha = 1.0;
  if (ctx.num_inputs() > 2 && !ctx.IsNone(2)) {
    TS2COREML_ASSIGN_OR_RETURN(alpha, ctx.Float(2));
  }
  if (alpha != 1.0) {
    Var a;
    if (out.is_float()) {
      TS2COREML_ASSIGN_OR_RETURN(a, ctx.ConstFloat(out.dtype, static_cast<float>(alpha)));
    } else {
      if (alpha != std::floor(alpha)) {
        return ctx.Error(op + ": alpha " + FormatNumber(alpha) +
                         " must be integral for integer "
                         "operands");
      }
      TS2COREML_ASSIGN_OR_RETURN(a, ctx.ConstInt(static_cast<int64_t>(alpha)));
    }
    TS2COREML_ASSIGN_OR_RETURN(TensorType yt, ctx.TypeOf(y));
    TS2COREML_ASSIGN_OR_RETURN(y, ctx.Emit1("mul", {{"x", y}, {"y", a}}, yt));
  }
  return ctx.EmitOutput(mil_op, {{"x", x}, {"y", y}});
}

Status LowerAdd(LowerContext& ctx) { return LowerAddSub(ctx, "add", "add"); }
Status LowerSub(LowerContext& ctx) { return LowerAddSub(ctx, "sub", "sub"); }

Status LowerMul(LowerContext& ctx) {
  Var x, y;
  TensorType out;
  TS2COREML_RETURN_IF_ERROR(ReadOperands(ctx, "mul", &x, &y, &out));
  return ctx.EmitOutput("mul", {{"x", x}, {"y", y}});
}

/// The broadcast type of inputs 0 and 1 (numbers are rank 0), float when `force_float`.
Status InferBinary(InferContext& ctx, bool force_float) {
  TS2COREML_ASSIGN_OR_RETURN(TensorType a, ctx.InputType(0));
  TS2COREML_ASSIGN_OR_RETURN(TensorType b, ctx.InputType(1));
  std::vector<int64_t> shape;
  if (!BroadcastShapes(a.shape, b.shape, &shape)) {
    return ctx.Error(ctx.kind() + ": shapes " + FormatInts(a.shape) + " and " +
                     FormatInts(b.shape) + " do not broadcast");
  }
  bool is_float = force_float || a.is_float() || b.is_float();
  return ctx.SetOutputType(0, TensorType(is_float ? T2C_DTYPE_FP32 : T2C_DTYPE_INT32, shape));
}

/// The rounding mode of div.*_mode (input 2), "" for None.
Expected<std::string> RoundingMode(const sdk::NodeView& ctx) {
  if (ctx.num_inputs() < 3 || ctx.IsNone(2)) return std::string();
  TS2COREML_ASSIGN_OR_RETURN(std::string mode, ctx.String(2));
  if (mode != "floor") {
    return ctx.Error("div: rounding_mode='" + mode + "' is not supported (only None or 'floor')");
  }
  return mode;
}

/// True division always gives a float; floor division keeps integer operands integer.
Status InferDiv(InferContext& ctx) {
  TS2COREML_ASSIGN_OR_RETURN(std::string mode, RoundingMode(ctx));
  return InferBinary(ctx, /*force_float=*/mode.empty());
}

Status LowerDiv(LowerContext& ctx) {
  TS2COREML_ASSIGN_OR_RETURN(std::string mode, RoundingMode(ctx));
  Var x, y;
  TensorType out;
  TS2COREML_RETURN_IF_ERROR(ReadOperands(ctx, "div", &x, &y, &out));
  return ctx.EmitOutput(mode.empty() ? "real_div" : "floor_div", {{"x", x}, {"y", y}});
}

constexpr const char* kAddOps[] = {"aten::add.Tensor", "aten::add.Scalar"};
constexpr const char* kSubOps[] = {"aten::sub.Tensor", "aten::sub.Scalar"};
constexpr t2c_input_decl kAddSubInputs[] = {
    sdk::Tensor("self", T2C_MASK_FLOAT_INT),
    sdk::Tensor("other", T2C_MASK_FLOAT_INT),
    sdk::Host("alpha", T2C_INPUT_OPTIONAL),
};
constexpr const char* kMulOps[] = {"aten::mul.Tensor", "aten::mul.Scalar"};
constexpr t2c_input_decl kMulInputs[] = {
    sdk::Tensor("self", T2C_MASK_FLOAT_INT),
    sdk::Tensor("other", T2C_MASK_FLOAT_INT),
};
// True division takes float operands only, so the core converts integer operands first.
constexpr const char* kDivOps[] = {"aten::div.Tensor", "aten::div.Scalar"};
constexpr t2c_input_decl kDivInputs[] = {
    sdk::Tensor("self", T2C_MASK_FLOAT),
    sdk::Tensor("other", T2C_MASK_FLOAT),
};
constexpr const char* kDivModeOps[] = {"aten::div.Tensor_mode", "aten::div.Scalar_mode"};
constexpr t2c_input_decl kDivModeInputs[] = {
    sdk::Tensor("self", T2C_MASK_FLOAT_INT),
    sdk::Tensor("other", T2C_MASK_FLOAT_INT),
    sdk::Host("rounding_mode", T2C_INPUT_OPTIONAL),
};

constexpr t2c_lowering_decl kLowerings[] = {
    sdk::Lowering("add", kAddOps, kAddSubInputs, T2C_FP16_NATIVE, T2C_INFER_BROADCAST, nullptr,
                  sdk::LowerFn<LowerAdd>),
    sdk::Lowering("sub", kSubOps, kAddSubInputs, T2C_FP16_NATIVE, T2C_INFER_BROADCAST, nullptr,
                  sdk::LowerFn<LowerSub>),
    sdk::Lowering("mul", kMulOps, kMulInputs, T2C_FP16_NATIVE, T2C_INFER_BROADCAST, nullptr,
                  sdk::LowerFn<LowerMul>),
    sdk::Lowering("div", kDivOps, kDivInputs, T2C_FP16_NATIVE, T2C_INFER_CUSTOM,
                  sdk::InferFn<InferDiv>, sdk::LowerFn<LowerDiv>),
    sdk::Lowering("div_rounding", kDivModeOps, kDivModeInputs, T2C_FP16_NATIVE, T2C_INFER_CUSTOM,
                  sdk::InferFn<InferDiv>, sdk::LowerFn<LowerDiv>),
};

constexpr t2c_plugin_info kInfo = {
    T2C_ABI_VERSION,
    sizeof(t2c_plugin_info),
    "ts2coreml.elementwise",
    "0.1.0",
    kLowerings,
    static_cast<uint32_t>(sizeof(kLowerings) / sizeof(kLowerings[0]))};

}  // namespace

const t2c_plugin_info* ElementwisePluginInfo() { return &kInfo; }

}  // namespace ts2coreml::plugins
