/// Built-in lowerings of convolutions. Every TorchScript convolution schema is read into one
/// ConvParams; infer and lower then share the same size arithmetic (common/conv_math.h). Padding is
/// always emitted as pad_type "custom" with explicit [before, after] pairs, so PyTorch's placement
/// of odd 'same' padding (the extra element after) is kept exactly. A transposed convolution whose
/// output_padding exceeds its padding is followed by a zero pad and the bias.
#include "conv/conv_lowerings.h"

#include <string>
#include <vector>

#include "common/conv_math.h"
#include "common/lowering_util.h"
#include "common/mil_emit.h"
#include "ts2coreml/sdk.h"

namespace ts2coreml::plugins {
namespace {

/// Where a schema keeps each convolution argument, by name from its input table (-1: absent).
struct ConvSchema {
  uint32_t input;
  uint32_t weight;
  uint32_t bias;
  uint32_t stride;
  uint32_t padding;
  uint32_t dilation;
  int transposed;      ///< a bool input, or -1
  int output_padding;  ///< -1 when the schema has none
  uint32_t groups;
  bool always_transposed;
};

/// The arguments every convolution schema has, found by name in `inputs`.
template <size_t N>
constexpr ConvSchema CommonSchema(const t2c_input_decl (&inputs)[N]) {
  ConvSchema s{};
  s.input = sdk::InputIndex(inputs, "input");
  s.weight = sdk::InputIndex(inputs, "weight");
  s.bias = sdk::InputIndex(inputs, "bias");
  s.stride = sdk::InputIndex(inputs, "stride");
  s.padding = sdk::InputIndex(inputs, "padding");
  s.dilation = sdk::InputIndex(inputs, "dilation");
  s.groups = sdk::InputIndex(inputs, "groups");
  s.transposed = -1;
  s.output_padding = -1;
  s.always_transposed = false;
  return s;
}

/// aten::_convolution and aten::convolution: `transposed` is an input.
template <size_t N>
constexpr ConvSchema TransposableSchema(const t2c_input_decl (&inputs)[N]) {
  ConvSchema s = CommonSchema(inputs);
  s.transposed = static_cast<int>(sdk::InputIndex(inputs, "transposed"));
  s.output_padding = static_cast<int>(sdk::InputIndex(inputs, "output_padding"));
  return s;
}

/// aten::conv_transpose{1,2,3}d.
template <size_t N>
constexpr ConvSchema TransposedSchema(const t2c_input_decl (&inputs)[N]) {
  ConvSchema s = CommonSchema(inputs);
  s.output_padding = static_cast<int>(sdk::InputIndex(inputs, "output_padding"));
  s.always_transposed = true;
  return s;
}

// aten::_convolution (13 arguments; the .deprecated overload lacks allow_tf32) and
// aten::convolution (the first 9).
constexpr t2c_input_decl kUnderscoreConvolutionInputs[] = {
    sdk::Tensor("input"),       sdk::Tensor("weight"),         sdk::OptionalTensor("bias"),
    sdk::Host("stride"),        sdk::Host("padding"),          sdk::Host("dilation"),
    sdk::Host("transposed"),    sdk::Host("output_padding"),   sdk::Host("groups"),
    sdk::Ignored("benchmark"),  sdk::Ignored("deterministic"), sdk::Ignored("cudnn_enabled"),
    sdk::Ignored("allow_tf32"),
};
constexpr ConvSchema kUnderscoreConvolutionSchema =
    TransposableSchema(kUnderscoreConvolutionInputs);
constexpr t2c_input_decl kConvolutionInputs[] = {
    sdk::Tensor("input"),    sdk::Tensor("weight"),       sdk::OptionalTensor("bias"),
    sdk::Host("stride"),     sdk::Host("padding"),        sdk::Host("dilation"),
    sdk::Host("transposed"), sdk::Host("output_padding"), sdk::Host("groups"),
};
constexpr ConvSchema kConvolutionSchema = TransposableSchema(kConvolutionInputs);
// conv{1,2,3}d, with int padding or the string padding of the .padding overloads, and
// aten::_convolution_mode (what F.conv*d(padding='same'/'valid') traces to), which shares the
// .padding overloads' schema.
constexpr t2c_input_decl kConvNdInputs[] = {
    sdk::Tensor("input"), sdk::Tensor("weight"), sdk::OptionalTensor("bias"), sdk::Host("stride"),
    sdk::Host("padding"), sdk::Host("dilation"), sdk::Host("groups"),
};
constexpr ConvSchema kConvNdSchema = CommonSchema(kConvNdInputs);
constexpr t2c_input_decl kConvTransposeNdInputs[] = {
    sdk::Tensor("input"), sdk::Tensor("weight"), sdk::OptionalTensor("bias"),
    sdk::Host("stride"),  sdk::Host("padding"),  sdk::Host("output_padding"),
    sdk::Host("groups"),  sdk::Host("dilation"),
};
constexpr ConvSchema kConvTransposeNdSchema = TransposedSchema(kConvTransposeNdInputs);

/// One convolution, fully resolved against its input and weight shapes.
struct ConvParams {
  std::string op;
  TensorType x;  ///< as given (possibly unbatched)
  TensorType weight;
  bool batched = true;
  size_t spatial = 0;
  bool transposed = false;
  int64_t groups = 1;
  std::vector<int64_t> stride, pad_before, pad_after, dilation, output_padding;
  std::vector<int64_t> out_shape;  ///< batched output shape
};

/// Reads the padding: explicit sizes, or the strings 'valid' and 'same' resolved against the
/// kernel; then checks it and the output padding are non-negative.
Status ReadPadding(const NodeView& ctx, const ConvSchema& schema,
                   const std::vector<int64_t>& kernel, ConvParams* p) {
  const size_t n = p->spatial;
  if (ctx.input_kind(schema.padding) == T2C_KIND_STRING) {
    TS2COREML_ASSIGN_OR_RETURN(std::string mode, ctx.String(schema.padding));
    if (mode == "valid") {
      p->pad_before = p->pad_after = std::vector<int64_t>(n, 0);
    } else if (mode == "same") {
      if (!AllEqual(p->stride, 1)) {
        return ctx.Error(p->op + ": padding='same' needs stride 1, got " + FormatInts(p->stride));
      }
      for (size_t i = 0; i < n; ++i) {
        // PyTorch puts the odd element of 'same' padding after the data.
        int64_t total = p->dilation[i] * (kernel[i] - 1);
        p->pad_before.push_back(total / 2);
        p->pad_after.push_back(total - total / 2);
      }
    } else {
      return ctx.Error(p->op + ": padding='" + mode +
                       "' is not supported (expected 'same' or 'valid')");
    }
  } else {
    TS2COREML_ASSIGN_OR_RETURN(p->pad_before,
                               ReadSpatialInts(ctx, schema.padding, n, p->op, "padding"));
    p->pad_after = p->pad_before;
  }
  for (size_t i = 0; i < n; ++i) {
    if (p->pad_before[i] < 0 || p->output_padding[i] < 0) {
      return ctx.Error(p->op + ": negative padding " + FormatInts(p->pad_before) +
                       " or output padding " + FormatInts(p->output_padding) + " is not supported");
    }
  }
  return Status::Ok();
}

/// Checks the input channels and groups against the weight; gives the output channels.
Expected<int64_t> OutputChannels(const NodeView& ctx, const ConvParams& p) {
  if (p.groups < 1) return ctx.Error(p.op + ": groups must be positive");
  const int64_t c_in = p.x.shape[p.batched ? 1 : 0];
  if (p.transposed) {
    // ConvTranspose weight: [C_in, C_out / groups, *K].
    if (p.weight.shape[0] != c_in) {
      return ctx.Error(p.op + ": input has " + std::to_string(c_in) +
                       " channels but the transposed weight expects " +
                       std::to_string(p.weight.shape[0]));
    }
    if (c_in % p.groups != 0) {
      return ctx.Error(p.op + ": " + std::to_string(c_in) +
                       " input channels are not divisible by groups " + std::to_string(p.groups));
    }
    for (size_t i = 0; i < p.spatial; ++i) {
      if (p.output_padding[i] >= p.stride[i] && p.output_padding[i] >= p.dilation[i]) {
        return ctx.Error(p.op + ": output_padding " + FormatInts(p.output_padding) +
                         " must be smaller than stride or dilation");
      }
    }
    return p.weight.shape[1] * p.groups;
  }
  // Conv weight: [C_out, C_in / groups, *K].
  if (c_in != p.weight.shape[1] * p.groups) {
    return ctx.InvalidInputs(p.op + ": input has " + std::to_string(c_in) +
                             " channels but weight expects " + std::to_string(p.weight.shape[1]) +
                             " x groups " + std::to_string(p.groups));
  }
  const int64_t c_out = p.weight.shape[0];
  if (c_out % p.groups != 0) {
    return ctx.Error(p.op + ": " + std::to_string(c_out) +
                     " output channels are not divisible by groups " + std::to_string(p.groups));
  }
  if (!AllEqual(p.output_padding, 0)) {
    return ctx.Error(p.op + ": output_padding " + FormatInts(p.output_padding) +
                     " is only valid for transposed convolutions");
  }
  return c_out;
}

/// PyTorch's output shape [N, c_out, *spatial] (N is 1 for an unbatched input).
Status ComputeOutputShape(const NodeView& ctx, const std::vector<int64_t>& kernel, int64_t c_out,
                          ConvParams* p) {
  const size_t n = p->spatial;
  const std::vector<int64_t> in(p->x.shape.end() - n, p->x.shape.end());
  p->out_shape = {p->batched ? p->x.shape[0] : 1, c_out};
  for (size_t i = 0; i < n; ++i) {
    int64_t o = p->transposed
                    ? ConvTransposeOutputSize(in[i], kernel[i], p->stride[i], p->pad_before[i],
                                              p->dilation[i], p->output_padding[i])
                    : ConvOutputSize(in[i], kernel[i], p->stride[i], p->pad_before[i],
                                     p->pad_after[i], p->dilation[i]);
    if (o < 1) {
      return ctx.Error(p->op + ": output size " + std::to_string(o) + " along spatial dim " +
                       std::to_string(i) + " is not positive (input " + FormatInts(in) +
                       ", kernel " + FormatInts(kernel) + ")");
    }
    p->out_shape.push_back(o);
  }
  return Status::Ok();
}

/// Reads and validates a convolution node; computes PyTorch's output shape.
Expected<ConvParams> ReadConv(const NodeView& ctx, const ConvSchema& schema) {
  ConvParams p;
  p.op = ctx.kind();
  TS2COREML_ASSIGN_OR_RETURN(p.x, ctx.InputType(schema.input));
  TS2COREML_ASSIGN_OR_RETURN(p.weight, ctx.InputType(schema.weight));
  const int64_t wrank = p.weight.rank();
  if (wrank < 3 || wrank > 5) {
    return ctx.Error(p.op + ": weight rank " + std::to_string(wrank) +
                     " is not supported; MIL convolutions have 1 to 3 spatial dimensions");
  }
  if (p.x.rank() != wrank && p.x.rank() != wrank - 1) {
    return ctx.InvalidInputs(p.op + ": input rank " + std::to_string(p.x.rank()) +
                             " does not match weight rank " + std::to_string(wrank));
  }
  p.batched = p.x.rank() == wrank;
  p.spatial = static_cast<size_t>(wrank - 2);
  const size_t n = p.spatial;
  p.transposed = schema.always_transposed;
  if (schema.transposed >= 0) {
    TS2COREML_ASSIGN_OR_RETURN(p.transposed, ctx.Bool(schema.transposed));
  }
  TS2COREML_ASSIGN_OR_RETURN(p.groups, ctx.Int(schema.groups));
  TS2COREML_ASSIGN_OR_RETURN(p.stride, ReadSpatialInts(ctx, schema.stride, n, p.op, "stride"));
  TS2COREML_ASSIGN_OR_RETURN(p.dilation,
                             ReadSpatialInts(ctx, schema.dilation, n, p.op, "dilation"));
  p.output_padding.assign(n, 0);
  if (schema.output_padding >= 0) {
    TS2COREML_ASSIGN_OR_RETURN(
        p.output_padding, ReadSpatialInts(ctx, schema.output_padding, n, p.op, "output_padding"));
  }
  const std::vector<int64_t> kernel(p.weight.shape.begin() + 2, p.weight.shape.end());
  for (size_t i = 0; i < n; ++i) {
    if (p.stride[i] < 1 || p.dilation[i] < 1) {
      return ctx.Error(p.op + ": stride " + FormatInts(p.stride) + " and dilation " +
                       FormatInts(p.dilation) + " must be positive");
    }
  }
  TS2COREML_RETURN_IF_ERROR(ReadPadding(ctx, schema, kernel, &p));
  TS2COREML_ASSIGN_OR_RETURN(int64_t c_out, OutputChannels(ctx, p));
  TS2COREML_RETURN_IF_ERROR(ComputeOutputShape(ctx, kernel, c_out, &p));
  return p;
}

std::vector<int64_t> Unbatched(const ConvParams& p) {
  return p.batched ? p.out_shape : std::vector<int64_t>(p.out_shape.begin() + 1, p.out_shape.end());
}

Status InferConv(InferContext& ctx, const ConvSchema& schema) {
  TS2COREML_ASSIGN_OR_RETURN(ConvParams p, ReadConv(ctx, schema));
  return ctx.SetOutputType(0, TensorType(T2C_DTYPE_FP32, Unbatched(p)));
}

/// MIL's [before, after] padding pairs. A transposed convolution crops padding - output_padding
/// from the end of the full result; where output_padding exceeds padding the output is longer
/// than the full result and `tail` gets the count of rows past it (which hold only the bias).
Expected<std::vector<int64_t>> MilPads(const LowerContext& ctx, const ConvParams& p,
                                       std::vector<int64_t>* tail) {
  std::vector<int64_t> pad;
  tail->assign(p.spatial, 0);
  for (size_t i = 0; i < p.spatial; ++i) {
    int64_t after = p.pad_after[i];
    if (p.transposed) {
      after = p.pad_before[i] - p.output_padding[i];
      if (after < 0) {
        (*tail)[i] = -after;
        after = 0;
      }
      int64_t in = p.x.shape[p.x.shape.size() - p.spatial + i];
      int64_t mil = MilConvTransposeOutputSize(in, p.weight.shape[2 + i], p.stride[i],
                                               p.pad_before[i], after, p.dilation[i]);
      if (mil + (*tail)[i] != p.out_shape[2 + i]) {
        return ctx.Error(p.op + ": internal size mismatch between PyTorch and MIL conv_transpose");
      }
    }
    pad.push_back(p.pad_before[i]);
    pad.push_back(after);
  }
  return pad;
}

/// Appends `tail[i]` zeros at the end of spatial dimension i of `y`, then adds the bias input (if
/// any) per channel: a transposed convolution's rows past its full result hold only the bias.
Expected<Var> EmitTail(LowerContext& ctx, Var y, const std::vector<int64_t>& tail,
                       const ConvSchema& schema) {
  TS2COREML_ASSIGN_OR_RETURN(TensorType t, ctx.TypeOf(y));
  std::vector<int64_t> pads(4, 0);
  for (size_t i = 0; i < tail.size(); ++i) {
    pads.push_back(0);
    pads.push_back(tail[i]);
    t.shape[2 + i] += tail[i];
  }
  TS2COREML_ASSIGN_OR_RETURN(Var pad_var, ctx.ConstInts(pads));
  TS2COREML_ASSIGN_OR_RETURN(Var mode, ctx.ConstString("constant"));
  TS2COREML_ASSIGN_OR_RETURN(Var zero, ctx.ConstFloat(t.dtype, 0.0f));
  TS2COREML_ASSIGN_OR_RETURN(
      y, ctx.Emit1("pad", {{"x", y}, {"pad", pad_var}, {"mode", mode}, {"constant_val", zero}}, t));
  if (ctx.IsNone(schema.bias)) return y;
  std::vector<int64_t> per_channel(t.shape.size() - 1, 1);
  per_channel[0] = t.shape[1];
  TS2COREML_ASSIGN_OR_RETURN(Var bias, ctx.Input(schema.bias));
  TS2COREML_ASSIGN_OR_RETURN(bias, EmitReshape(ctx, bias, per_channel));
  return EmitBinary(ctx, "add", y, bias);
}

/// Checks what MIL conv and conv_transpose need constant.
Status CheckConstantOperands(const LowerContext& ctx, const ConvParams& p,
                             const ConvSchema& schema) {
  const bool weight_const = ctx.IsConst(schema.weight);
  if (p.transposed && !weight_const) {
    return ctx.Error(
        p.op +
        ": a runtime weight is not supported for transposed convolution (MIL conv_transpose needs a constant weight)");
  }
  if (!p.transposed && !weight_const && !AllEqual(p.dilation, 1)) {
    return ctx.Error(p.op + ": dilation " + FormatInts(p.dilation) +
                     " with a runtime weight is not supported by MIL conv");
  }
  if (!ctx.IsNone(schema.bias) && !ctx.IsConst(schema.bias)) {
    return ctx.Error(p.op + ": a runtime bias is not supported (MIL conv needs a constant bias)");
  }
  return Status::Ok();
}

Status LowerConv(LowerContext& ctx, const ConvSchema& schema) {
  TS2COREML_ASSIGN_OR_RETURN(ConvParams p, ReadConv(ctx, schema));
  TS2COREML_RETURN_IF_ERROR(CheckConstantOperands(ctx, p, schema));
  std::vector<int64_t> tail;
  TS2COREML_ASSIGN_OR_RETURN(std::vector<int64_t> pad, MilPads(ctx, p, &tail));
  const bool has_tail = !AllEqual(tail, 0);
  TS2COREML_ASSIGN_OR_RETURN(Var x, ctx.Input(schema.input));
  TS2COREML_ASSIGN_OR_RETURN(Var weight, ctx.Input(schema.weight));
  TS2COREML_ASSIGN_OR_RETURN(TensorType conv_type, ctx.OutputType(0));
  conv_type.shape = p.out_shape;
  for (size_t i = 0; i < tail.size(); ++i) conv_type.shape[2 + i] -= tail[i];
  if (!p.batched) {
    TS2COREML_ASSIGN_OR_RETURN(Var axes, ctx.ConstInts({0}));
    TS2COREML_ASSIGN_OR_RETURN(TensorType bx, ctx.TypeOf(x));
    bx.shape.insert(bx.shape.begin(), 1);
    TS2COREML_ASSIGN_OR_RETURN(x, ctx.Emit1("expand_dims", {{"x", x}, {"axes", axes}}, bx));
  }
  std::vector<sdk::Arg> args = {{"x", x}, {"weight", weight}};
  if (!ctx.IsNone(schema.bias) && !has_tail) {
    TS2COREML_ASSIGN_OR_RETURN(Var bias, ctx.Input(schema.bias));
    args.push_back({"bias", bias});
  }
  TS2COREML_ASSIGN_OR_RETURN(Var strides, ctx.ConstInts(p.stride));
  TS2COREML_ASSIGN_OR_RETURN(Var pad_type, ctx.ConstString("custom"));
  TS2COREML_ASSIGN_OR_RETURN(Var pad_var, ctx.ConstInts(pad));
  TS2COREML_ASSIGN_OR_RETURN(Var dilations, ctx.ConstInts(p.dilation));
  TS2COREML_ASSIGN_OR_RETURN(Var groups, ctx.ConstInt(p.groups));
  args.push_back({"strides", strides});
  args.push_back({"pad_type", pad_type});
  args.push_back({"pad", pad_var});
  args.push_back({"dilations", dilations});
  args.push_back({"groups", groups});
  const char* mil_op = p.transposed ? "conv_transpose" : "conv";
  if (p.batched && !has_tail) return ctx.EmitOutput(mil_op, args);
  TS2COREML_ASSIGN_OR_RETURN(Var y, ctx.Emit1(mil_op, args, conv_type));
  if (has_tail) {
    TS2COREML_ASSIGN_OR_RETURN(y, EmitTail(ctx, y, tail, schema));
  }
  if (p.batched) return ctx.SetOutput(0, y);
  TS2COREML_ASSIGN_OR_RETURN(Var axes, ctx.ConstInts({0}));
  return ctx.EmitOutput("squeeze", {{"x", y}, {"axes", axes}});
}

Status InferUnderscoreConvolution(InferContext& ctx) {
  return InferConv(ctx, kUnderscoreConvolutionSchema);
}
Status LowerUnderscoreConvolution(LowerContext& ctx) {
  return LowerConv(ctx, kUnderscoreConvolutionSchema);
}
Status InferConvolution(InferContext& ctx) { return InferConv(ctx, kConvolutionSchema); }
Status LowerConvolution(LowerContext& ctx) { return LowerConv(ctx, kConvolutionSchema); }
Status InferConvNd(InferContext& ctx) { return InferConv(ctx, kConvNdSchema); }
Status LowerConvNd(LowerContext& ctx) { return LowerConv(ctx, kConvNdSchema); }
Status InferConvTransposeNd(InferContext& ctx) { return InferConv(ctx, kConvTransposeNdSchema); }
Status LowerConvTransposeNd(LowerContext& ctx) { return LowerConv(ctx, kConvTransposeNdSchema); }

constexpr const char* kUnderscoreConvolutionOps[] = {"aten::_convolution"};
constexpr const char* kConvolutionOps[] = {"aten::convolution"};
constexpr const char* kConvNdOps[] = {"aten::conv1d", "aten::conv2d", "aten::conv3d",
                                      "aten::_convolution_mode"};
constexpr const char* kConvTransposeNdOps[] = {"aten::conv_transpose1d", "aten::conv_transpose2d",
                                               "aten::conv_transpose3d"};

constexpr t2c_lowering_decl kLowerings[] = {
    sdk::Lowering("_convolution", kUnderscoreConvolutionOps, kUnderscoreConvolutionInputs,
                  T2C_FP16_NATIVE, T2C_INFER_CUSTOM, sdk::InferFn<InferUnderscoreConvolution>,
                  sdk::LowerFn<LowerUnderscoreConvolution>),
    sdk::Lowering("convolution", kConvolutionOps, kConvolutionInputs, T2C_FP16_NATIVE,
                  T2C_INFER_CUSTOM, sdk::InferFn<InferConvolution>, sdk::LowerFn<LowerConvolution>),
    sdk::Lowering("conv_nd", kConvNdOps, kConvNdInputs, T2C_FP16_NATIVE, T2C_INFER_CUSTOM,
                  sdk::InferFn<InferConvNd>, sdk::LowerFn<LowerConvNd>),
    sdk::Lowering("conv_transpose_nd", kConvTransposeNdOps, kConvTransposeNdInputs, T2C_FP16_NATIVE,
                  T2C_INFER_CUSTOM, sdk::InferFn<InferConvTransposeNd>,
                  sdk::LowerFn<LowerConvTransposeNd>),
};

constexpr t2c_plugin_info kInfo = sdk::PluginInfo("ts2coreml.conv", "0.1.0", kLowerings);

}  // namespace

const t2c_plugin_info* ConvPluginInfo() { return &kInfo; }

}  // namespace ts2coreml::plugins
