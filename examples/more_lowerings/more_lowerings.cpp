/// Lowerings beyond one tensor in, one tensor out (docs/plugin-guide.md, section 8), for three
/// custom ops:
///
///   mylib::min_max(Tensor x, int[] dims) -> (Tensor, Tensor)          two outputs, an int list
///   mylib::weighted_sum(Tensor[] xs, float[] weights) -> Tensor        a Tensor[], a float list
///   mylib::rms_norm(Tensor x, Tensor weight, float eps) -> Tensor      needs_fp32_compute with
///                                                                      a weight (a Param)
#include <cstdint>
#include <vector>

#include "ts2coreml/sdk.h"

namespace sdk = ts2coreml::sdk;

namespace {

/// `dims` (negative counting from the end) as axes of a rank-`rank` tensor, or InvalidInputs.
sdk::Expected<std::vector<int64_t>> Axes(const sdk::NodeView& ctx, std::vector<int64_t> dims,
                                         int64_t rank) {
  for (int64_t& d : dims) {
    if (d < -rank || d >= rank) return ctx.InvalidInputs("dim out of range for the input's rank");
    if (d < 0) d += rank;
  }
  return dims;
}

// --- min_max: two outputs and an int[] ------------------------------------------------------

constexpr const char* kMinMaxOps[] = {"mylib::min_max"};
constexpr const char* kMinMaxSchemas[] = {
    "mylib::min_max(Tensor x, int[] dims) -> (Tensor, Tensor)"};
constexpr t2c_input_decl kMinMaxInputs[] = {sdk::Tensor("x"), sdk::Host("dims")};
constexpr uint32_t kMinMaxX = sdk::InputIndex(kMinMaxInputs, "x");
constexpr uint32_t kMinMaxDims = sdk::InputIndex(kMinMaxInputs, "dims");

/// Both outputs have x's shape without the reduced dims.
sdk::Status InferMinMax(sdk::InferContext& ctx) {
  TS2COREML_ASSIGN_OR_RETURN(sdk::TensorType x, ctx.InputType(kMinMaxX));
  TS2COREML_ASSIGN_OR_RETURN(std::vector<int64_t> dims, ctx.Ints(kMinMaxDims));
  TS2COREML_ASSIGN_OR_RETURN(std::vector<int64_t> axes, Axes(ctx, dims, x.rank()));
  std::vector<int64_t> shape;
  for (int64_t d = 0; d < x.rank(); ++d) {
    bool reduced = false;
    for (int64_t a : axes) reduced = reduced || a == d;
    if (!reduced) shape.push_back(x.shape[static_cast<size_t>(d)]);
  }
  TS2COREML_RETURN_IF_ERROR(ctx.SetOutputType(0, sdk::TensorType(x.dtype, shape)));
  return ctx.SetOutputType(1, sdk::TensorType(x.dtype, shape));
}

sdk::Status LowerMinMax(sdk::LowerContext& ctx) {
  TS2COREML_ASSIGN_OR_RETURN(sdk::Var x, ctx.Input(kMinMaxX));
  TS2COREML_ASSIGN_OR_RETURN(sdk::TensorType x_type, ctx.TypeOf(x));
  TS2COREML_ASSIGN_OR_RETURN(std::vector<int64_t> dims, ctx.Ints(kMinMaxDims));
  TS2COREML_ASSIGN_OR_RETURN(std::vector<int64_t> axes, Axes(ctx, dims, x_type.rank()));
  TS2COREML_ASSIGN_OR_RETURN(sdk::Var axes_var, ctx.ConstInts(axes));
  TS2COREML_ASSIGN_OR_RETURN(sdk::Var keep, ctx.ConstBool(false));
  const char* reductions[] = {"reduce_min", "reduce_max"};
  for (uint32_t out = 0; out < 2; ++out) {
    TS2COREML_ASSIGN_OR_RETURN(sdk::TensorType type, ctx.OutputType(out));
    TS2COREML_ASSIGN_OR_RETURN(
        sdk::Var v,
        ctx.Emit1(reductions[out], {{"x", x}, {"axes", axes_var}, {"keep_dims", keep}}, type));
    TS2COREML_RETURN_IF_ERROR(ctx.SetOutput(out, v));
  }
  return sdk::Status::Ok();
}

// --- weighted_sum: a Tensor[] and a float[] ---------------------------------------------------

constexpr const char* kWeightedSumOps[] = {"mylib::weighted_sum"};
constexpr const char* kWeightedSumSchemas[] = {
    "mylib::weighted_sum(Tensor[] xs, float[] weights) -> Tensor"};
constexpr t2c_input_decl kWeightedSumInputs[] = {sdk::TensorList("xs"), sdk::Host("weights")};
constexpr uint32_t kWeightedSumXs = sdk::InputIndex(kWeightedSumInputs, "xs");
constexpr uint32_t kWeightedSumWeights = sdk::InputIndex(kWeightedSumInputs, "weights");

/// The output has the type of every element; one weight per element.
sdk::Status InferWeightedSum(sdk::InferContext& ctx) {
  TS2COREML_ASSIGN_OR_RETURN(uint32_t n, ctx.ListSize(kWeightedSumXs));
  TS2COREML_ASSIGN_OR_RETURN(std::vector<double> weights, ctx.Floats(kWeightedSumWeights));
  if (n == 0 || weights.size() != n) {
    return ctx.InvalidInputs("weighted_sum needs one weight per tensor, and a tensor");
  }
  TS2COREML_ASSIGN_OR_RETURN(sdk::TensorType first, ctx.ListType(kWeightedSumXs, 0));
  for (uint32_t k = 1; k < n; ++k) {
    TS2COREML_ASSIGN_OR_RETURN(sdk::TensorType t, ctx.ListType(kWeightedSumXs, k));
    if (t.shape != first.shape) return ctx.InvalidInputs("weighted_sum's tensors differ in shape");
  }
  return ctx.SetOutputType(0, first);
}

sdk::Status LowerWeightedSum(sdk::LowerContext& ctx) {
  TS2COREML_ASSIGN_OR_RETURN(std::vector<sdk::Var> xs, ctx.InputList(kWeightedSumXs));
  TS2COREML_ASSIGN_OR_RETURN(std::vector<double> weights, ctx.Floats(kWeightedSumWeights));
  TS2COREML_ASSIGN_OR_RETURN(sdk::TensorType type, ctx.OutputType(0));
  sdk::Var sum;
  for (size_t k = 0; k < xs.size(); ++k) {
    TS2COREML_ASSIGN_OR_RETURN(sdk::Var w,
                               ctx.ConstFloat(ctx.compute_dtype(), static_cast<float>(weights[k])));
    TS2COREML_ASSIGN_OR_RETURN(sdk::Var term, ctx.Emit1("mul", {{"x", xs[k]}, {"y", w}}, type));
    if (k == 0) {
      sum = term;
    } else {
      TS2COREML_ASSIGN_OR_RETURN(sum, ctx.Emit1("add", {{"x", sum}, {"y", term}}, type));
    }
  }
  return ctx.SetOutput(0, sum);
}

// --- rms_norm: needs_fp32_compute, with a weight --------------------------------------------

constexpr const char* kRmsNormOps[] = {"mylib::rms_norm"};
constexpr const char* kRmsNormSchemas[] = {
    "mylib::rms_norm(Tensor x, Tensor weight, float eps) -> Tensor"};
constexpr t2c_input_decl kRmsNormInputs[] = {sdk::Tensor("x"), sdk::Param("weight"),
                                             sdk::Host("eps")};
constexpr uint32_t kRmsNormX = sdk::InputIndex(kRmsNormInputs, "x");
constexpr uint32_t kRmsNormWeight = sdk::InputIndex(kRmsNormInputs, "weight");
constexpr uint32_t kRmsNormEps = sdk::InputIndex(kRmsNormInputs, "eps");

/// x * rsqrt(mean(x * x over the last dim) + eps) * weight. The policy is needs_fp32_compute: x
/// and the weight arrive in fp32 (compute_dtype() and param_dtype() are fp32) even under
/// --precision fp16, and the core casts around the node.
sdk::Status LowerRmsNorm(sdk::LowerContext& ctx) {
  TS2COREML_ASSIGN_OR_RETURN(sdk::Var x, ctx.Input(kRmsNormX));
  TS2COREML_ASSIGN_OR_RETURN(sdk::Var weight, ctx.Input(kRmsNormWeight));
  TS2COREML_ASSIGN_OR_RETURN(double eps, ctx.Float(kRmsNormEps));
  TS2COREML_ASSIGN_OR_RETURN(sdk::TensorType type, ctx.OutputType(0));
  const t2c_dtype dtype = ctx.compute_dtype();
  sdk::TensorType reduced = type;
  reduced.shape.back() = 1;
  TS2COREML_ASSIGN_OR_RETURN(sdk::Var square, ctx.Emit1("mul", {{"x", x}, {"y", x}}, type));
  TS2COREML_ASSIGN_OR_RETURN(sdk::Var last, ctx.ConstInts({-1}));
  TS2COREML_ASSIGN_OR_RETURN(sdk::Var keep, ctx.ConstBool(true));
  TS2COREML_ASSIGN_OR_RETURN(
      sdk::Var mean,
      ctx.Emit1("reduce_mean", {{"x", square}, {"axes", last}, {"keep_dims", keep}}, reduced));
  TS2COREML_ASSIGN_OR_RETURN(sdk::Var epsilon, ctx.ConstFloat(dtype, static_cast<float>(eps)));
  TS2COREML_ASSIGN_OR_RETURN(sdk::Var shifted,
                             ctx.Emit1("add", {{"x", mean}, {"y", epsilon}}, reduced));
  TS2COREML_ASSIGN_OR_RETURN(sdk::Var inv, ctx.Emit1("rsqrt", {{"x", shifted}}, reduced));
  TS2COREML_ASSIGN_OR_RETURN(sdk::Var normed, ctx.Emit1("mul", {{"x", x}, {"y", inv}}, type));
  return ctx.EmitOutput("mul", {{"x", normed}, {"y", weight}});
}

constexpr t2c_lowering_decl kLowerings[] = {
    sdk::CustomOpLowering("min_max", kMinMaxOps, kMinMaxSchemas, kMinMaxInputs, T2C_FP16_NATIVE,
                          T2C_INFER_CUSTOM, sdk::InferFn<InferMinMax>, sdk::LowerFn<LowerMinMax>),
    sdk::CustomOpLowering("weighted_sum", kWeightedSumOps, kWeightedSumSchemas, kWeightedSumInputs,
                          T2C_FP16_NATIVE, T2C_INFER_CUSTOM, sdk::InferFn<InferWeightedSum>,
                          sdk::LowerFn<LowerWeightedSum>),
    sdk::CustomOpLowering("rms_norm", kRmsNormOps, kRmsNormSchemas, kRmsNormInputs,
                          T2C_FP16_NEEDS_FP32_COMPUTE, T2C_INFER_SAME_AS_INPUT0,
                          /*infer=*/nullptr, sdk::LowerFn<LowerRmsNorm>),
};

}  // namespace

/// For the unit test, which links this file directly.
const t2c_plugin_info* MoreLoweringsPluginInfo();

TS2COREML_PLUGIN("mylib.more_lowerings", "1.0.0", kLowerings)

const t2c_plugin_info* MoreLoweringsPluginInfo() { return ts2coreml_plugin_entry(); }
