/// Built-in lowerings of reductions over listed dimensions: aten::mean.dim -> reduce_mean,
/// aten::sum.dim_IntList -> reduce_sum, aten::amax -> reduce_max.
#include "reduction/reduction_lowerings.h"

#include <set>
#include <string>
#include <vector>

#include "common/lowering_util.h"
#include "ts2coreml/sdk.h"

namespace ts2coreml::plugins {
namespace {

using sdk::Expected;
using sdk::InferContext;
using sdk::LowerContext;
using sdk::NodeView;
using sdk::Status;
using sdk::TensorType;
using sdk::Var;

constexpr int64_t kScalarTypeHalf = 5;
constexpr int64_t kScalarTypeFloat = 6;
constexpr int64_t kScalarTypeDouble = 7;

/// A reduction resolved against its input: normalized sorted axes and the output shape.
struct Reduction {
  std::vector<int64_t> axes;
  bool keepdim = false;
  std::vector<int64_t> out_shape;
  bool float_out = false;
};

/// Reads (self, dim, keepdim[, dtype]); None or an empty dim list reduces every dimension.
Expected<Reduction> ReadReduction(const NodeView& ctx, bool always_float) {
  const std::string op = ctx.kind();
  TS2COREML_ASSIGN_OR_RETURN(TensorType x, ctx.InputType(0));
  Reduction r;
  std::vector<int64_t> dims;
  if (!ctx.IsNone(1)) {
    TS2COREML_ASSIGN_OR_RETURN(dims, ctx.Ints(1));
  }
  TS2COREML_ASSIGN_OR_RETURN(r.keepdim, ctx.Bool(2));
  if (ctx.num_inputs() > 3 && !ctx.IsNone(3)) {
    TS2COREML_ASSIGN_OR_RETURN(int64_t dtype, ctx.Int(3));
    if (dtype != kScalarTypeHalf && dtype != kScalarTypeFloat && dtype != kScalarTypeDouble) {
      return ctx.Error(op + ": dtype (ScalarType " + std::to_string(dtype) +
                       ") is not supported; only None or a float type");
    }
    always_float = true;
  }
  std::set<int64_t> axes;
  if (dims.empty()) {
    for (int64_t i = 0; i < x.rank(); ++i) axes.insert(i);
  }
  for (int64_t d : dims) {
    int64_t a = sdk::NormalizeAxis(d, x.rank() == 0 ? 1 : x.rank());
    if (a < 0) {
      return ctx.Error(op + ": dim " + std::to_string(d) + " is out of range for rank " +
                       std::to_string(x.rank()));
    }
    if (!axes.insert(a).second) {
      return ctx.Error(op + ": dim " + FormatInts(dims) + " repeats a dimension");
    }
  }
  if (x.rank() == 0) axes.clear();
  r.axes.assign(axes.begin(), axes.end());
  for (int64_t i = 0; i < x.rank(); ++i) {
    if (axes.count(i) != 0) {
      if (r.keepdim) r.out_shape.push_back(1);
    } else {
      r.out_shape.push_back(x.shape[i]);
    }
  }
  r.float_out = always_float || x.is_float();
  return r;
}

Status InferReduction(InferContext& ctx, bool always_float) {
  TS2COREML_ASSIGN_OR_RETURN(Reduction r, ReadReduction(ctx, always_float));
  return ctx.SetOutputType(0,
                           TensorType(r.float_out ? T2C_DTYPE_FP32 : T2C_DTYPE_INT32, r.out_shape));
}

Status LowerReduction(LowerContext& ctx, bool always_float, const char* mil_op) {
  TS2COREML_ASSIGN_OR_RETURN(Reduction r, ReadReduction(ctx, always_float));
  TS2COREML_ASSIGN_OR_RETURN(Var x, ctx.Input(0));
  if (r.axes.empty()) return ctx.EmitOutput("identity", {{"x", x}});
  TS2COREML_ASSIGN_OR_RETURN(Var axes, ctx.ConstInts(r.axes));
  TS2COREML_ASSIGN_OR_RETURN(Var keep, ctx.ConstBool(r.keepdim));
  return ctx.EmitOutput(mil_op, {{"x", x}, {"axes", axes}, {"keep_dims", keep}});
}

Status InferMean(InferContext& ctx) { return InferReduction(ctx, true); }
Status LowerMean(LowerContext& ctx) { return LowerReduction(ctx, true, "reduce_mean"); }
Status InferSum(InferContext& ctx) { return InferReduction(ctx, false); }
Status LowerSum(LowerContext& ctx) { return LowerReduction(ctx, false, "reduce_sum"); }
Status InferAmax(InferContext& ctx) { return InferReduction(ctx, false); }
Status LowerAmax(LowerContext& ctx) { return LowerReduction(ctx, false, "reduce_max"); }

constexpr const char* kMeanOps[] = {"aten::mean.dim"};
constexpr t2c_input_decl kMeanInputs[] = {
    sdk::Tensor("self"),
    sdk::Host("dim", T2C_INPUT_OPTIONAL),
    sdk::Host("keepdim"),
    sdk::Host("dtype", T2C_INPUT_OPTIONAL),
};
constexpr const char* kSumOps[] = {"aten::sum.dim_IntList"};
constexpr t2c_input_decl kSumInputs[] = {
    sdk::Tensor("self", T2C_MASK_FLOAT_INT),
    sdk::Host("dim", T2C_INPUT_OPTIONAL),
    sdk::Host("keepdim"),
    sdk::Host("dtype", T2C_INPUT_OPTIONAL),
};
constexpr const char* kAmaxOps[] = {"aten::amax"};
constexpr t2c_input_decl kAmaxInputs[] = {
    sdk::Tensor("self", T2C_MASK_FLOAT_INT),
    sdk::Host("dim"),
    sdk::Host("keepdim"),
};

constexpr t2c_lowering_decl kLowerings[] = {
    sdk::Lowering("mean", kMeanOps, kMeanInputs, T2C_FP16_NATIVE, T2C_INFER_CUSTOM,
                  sdk::InferFn<InferMean>, sdk::LowerFn<LowerMean>),
    sdk::Lowering("sum", kSumOps, kSumInputs, T2C_FP16_NATIVE, T2C_INFER_CUSTOM,
                  sdk::InferFn<InferSum>, sdk::LowerFn<LowerSum>),
    sdk::Lowering("amax", kAmaxOps, kAmaxInputs, T2C_FP16_NATIVE, T2C_INFER_CUSTOM,
                  sdk::InferFn<InferAmax>, sdk::LowerFn<LowerAmax>),
};

constexpr t2c_plugin_info kInfo = {
    T2C_ABI_VERSION,
    sizeof(t2c_plugin_info),
    "ts2coreml.reduction",
    "0.1.0",
    kLowerings,
    static_cast<uint32_t>(sizeof(kLowerings) / sizeof(kLowerings[0]))};

}  // namespace

const t2c_plugin_info* ReductionPluginInfo() { return &kInfo; }

}  // namespace ts2coreml::plugins
