/// im2col / col2im through depthwise conv / conv_transpose with one-hot kernels (see the header).
#include "pooling/im2col_lowerings.h"

#include <string>
#include <vector>

#include "common/lowering_util.h"
#include "ts2coreml/sdk.h"

namespace ts2coreml::plugins::im2col {
namespace {

/// The block geometry both ops share, per spatial axis (height, width).
struct Blocks {
  std::vector<int64_t> kernel, dilation, padding, stride;
  int64_t channels = 0;  ///< C of the image
  bool batched = true;
  std::vector<int64_t> image;   ///< [H, W] of the image
  std::vector<int64_t> blocks;  ///< blocks per axis
};

Expected<std::vector<int64_t>> Pair(const NodeView& ctx, uint32_t i, const std::string& op,
                                    const std::string& what, int64_t min) {
  TS2COREML_ASSIGN_OR_RETURN(std::vector<int64_t> v, ReadSpatialInts(ctx, i, 2, op, what));
  for (int64_t x : v) {
    if (x < min) {
      return ctx.Error(op + ": " + what + " " + FormatInts(v) +
                       " must be >= " + std::to_string(min));
    }
  }
  return v;
}

/// Reads kernel_size, dilation, padding, stride and counts the blocks over `image`.
Status ReadGeometry(const NodeView& ctx, const std::string& op, uint32_t kernel, uint32_t dilation,
                    uint32_t padding, uint32_t stride, Blocks* b) {
  TS2COREML_ASSIGN_OR_RETURN(b->kernel, Pair(ctx, kernel, op, "kernel_size", 1));
  TS2COREML_ASSIGN_OR_RETURN(b->dilation, Pair(ctx, dilation, op, "dilation", 1));
  TS2COREML_ASSIGN_OR_RETURN(b->padding, Pair(ctx, padding, op, "padding", 0));
  TS2COREML_ASSIGN_OR_RETURN(b->stride, Pair(ctx, stride, op, "stride", 1));
  b->blocks.clear();
  for (size_t i = 0; i < 2; ++i) {
    const int64_t span = b->dilation[i] * (b->kernel[i] - 1) + 1;
    const int64_t room = b->image[i] + 2 * b->padding[i] - span;
    if (room < 0) {
      return ctx.InvalidInputs(op + ": kernel_size " + FormatInts(b->kernel) +
                               " with dilation does not fit the padded image " +
                               FormatInts(b->image));
    }
    b->blocks.push_back(room / b->stride[i] + 1);
  }
  return Status::Ok();
}

constexpr uint32_t kIm2colSelf = sdk::InputIndex(kIm2colInputs, "self");
constexpr uint32_t kIm2colKernel = sdk::InputIndex(kIm2colInputs, "kernel_size");
constexpr uint32_t kIm2colDilation = sdk::InputIndex(kIm2colInputs, "dilation");
constexpr uint32_t kIm2colPadding = sdk::InputIndex(kIm2colInputs, "padding");
constexpr uint32_t kIm2colStride = sdk::InputIndex(kIm2colInputs, "stride");

Expected<Blocks> ReadIm2col(const NodeView& ctx, const TensorType& x) {
  if (x.rank() != 3 && x.rank() != 4) {
    return ctx.InvalidInputs("im2col: expects [N, C, H, W] or [C, H, W], got " +
                             FormatInts(x.shape));
  }
  Blocks b;
  b.batched = x.rank() == 4;
  b.channels = x.shape[x.shape.size() - 3];
  b.image = {x.shape[x.shape.size() - 2], x.shape.back()};
  TS2COREML_RETURN_IF_ERROR(ReadGeometry(ctx, "im2col", kIm2colKernel, kIm2colDilation,
                                         kIm2colPadding, kIm2colStride, &b));
  return b;
}

constexpr uint32_t kCol2imSelf = sdk::InputIndex(kCol2imInputs, "self");
constexpr uint32_t kCol2imOutputSize = sdk::InputIndex(kCol2imInputs, "output_size");
constexpr uint32_t kCol2imKernel = sdk::InputIndex(kCol2imInputs, "kernel_size");
constexpr uint32_t kCol2imDilation = sdk::InputIndex(kCol2imInputs, "dilation");
constexpr uint32_t kCol2imPadding = sdk::InputIndex(kCol2imInputs, "padding");
constexpr uint32_t kCol2imStride = sdk::InputIndex(kCol2imInputs, "stride");

Expected<Blocks> ReadCol2im(const NodeView& ctx, const TensorType& x) {
  if (x.rank() != 2 && x.rank() != 3) {
    return ctx.InvalidInputs("col2im: expects [N, C * kh * kw, L] or [C * kh * kw, L], got " +
                             FormatInts(x.shape));
  }
  Blocks b;
  b.batched = x.rank() == 3;
  TS2COREML_ASSIGN_OR_RETURN(b.image, Pair(ctx, kCol2imOutputSize, "col2im", "output_size", 1));
  TS2COREML_RETURN_IF_ERROR(ReadGeometry(ctx, "col2im", kCol2imKernel, kCol2imDilation,
                                         kCol2imPadding, kCol2imStride, &b));
  const int64_t k = b.kernel[0] * b.kernel[1];
  const int64_t cols = x.shape[x.shape.size() - 2], l = x.shape.back();
  if (cols % k != 0 || l != b.blocks[0] * b.blocks[1]) {
    return ctx.InvalidInputs("col2im: input " + FormatInts(x.shape) + " does not hold " +
                             FormatInts(b.blocks) + " blocks of kernel " + FormatInts(b.kernel));
  }
  b.channels = cols / k;
  return b;
}

/// The [C * kh * kw, 1, kh, kw] one-hot kernels in `dtype`.
Expected<Var> OneHotKernels(const sdk::LowerContext& ctx, const Blocks& b, t2c_dtype dtype) {
  const int64_t kh = b.kernel[0], kw = b.kernel[1];
  std::vector<float> w(static_cast<size_t>(b.channels * kh * kw * kh * kw), 0.0f);
  for (int64_t c = 0; c < b.channels; ++c) {
    for (int64_t o = 0; o < kh * kw; ++o) {
      w[static_cast<size_t>(((c * kh * kw + o) * kh * kw) + o)] = 1.0f;
    }
  }
  return ctx.ConstFloats(dtype, w, {b.channels * kh * kw, 1, kh, kw});
}

/// strides, dilations and groups, plus pad_type custom with `pad`.
Expected<std::vector<sdk::Arg>> ConvArgs(const sdk::LowerContext& ctx, const Blocks& b,
                                         const std::vector<int64_t>& pad) {
  TS2COREML_ASSIGN_OR_RETURN(Var strides, ctx.ConstInts(b.stride));
  TS2COREML_ASSIGN_OR_RETURN(Var pad_type, ctx.ConstString("custom"));
  TS2COREML_ASSIGN_OR_RETURN(Var pad_var, ctx.ConstInts(pad));
  TS2COREML_ASSIGN_OR_RETURN(Var dilations, ctx.ConstInts(b.dilation));
  TS2COREML_ASSIGN_OR_RETURN(Var groups, ctx.ConstInt(b.channels));
  return std::vector<sdk::Arg>{{"strides", strides},
                               {"pad_type", pad_type},
                               {"pad", pad_var},
                               {"dilations", dilations},
                               {"groups", groups}};
}

Expected<Var> Reshape(const sdk::LowerContext& ctx, Var x, const std::vector<int64_t>& shape) {
  TS2COREML_ASSIGN_OR_RETURN(TensorType t, ctx.TypeOf(x));
  if (t.shape == shape) return x;
  TS2COREML_ASSIGN_OR_RETURN(Var s, ctx.ConstInts(shape));
  return ctx.Emit1("reshape", {{"x", x}, {"shape", s}}, TensorType(t.dtype, shape));
}

}  // namespace

Status InferIm2col(sdk::InferContext& ctx) {
  TS2COREML_ASSIGN_OR_RETURN(TensorType x, ctx.InputType(kIm2colSelf));
  TS2COREML_ASSIGN_OR_RETURN(Blocks b, ReadIm2col(ctx, x));
  std::vector<int64_t> shape = {b.channels * b.kernel[0] * b.kernel[1], b.blocks[0] * b.blocks[1]};
  if (b.batched) shape.insert(shape.begin(), x.shape[0]);
  return ctx.SetOutputType(0, TensorType(T2C_DTYPE_FP32, shape));
}

Status LowerIm2col(sdk::LowerContext& ctx) {
  TS2COREML_ASSIGN_OR_RETURN(Var x, ctx.Input(kIm2colSelf));
  TS2COREML_ASSIGN_OR_RETURN(TensorType xt, ctx.TypeOf(x));
  TS2COREML_ASSIGN_OR_RETURN(Blocks b, ReadIm2col(ctx, xt));
  const int64_t n = b.batched ? xt.shape[0] : 1;
  const int64_t cols = b.channels * b.kernel[0] * b.kernel[1];
  TS2COREML_ASSIGN_OR_RETURN(Var x4, Reshape(ctx, x, {n, b.channels, b.image[0], b.image[1]}));
  TS2COREML_ASSIGN_OR_RETURN(Var w, OneHotKernels(ctx, b, xt.dtype));
  TS2COREML_ASSIGN_OR_RETURN(
      std::vector<sdk::Arg> args,
      ConvArgs(ctx, b, {b.padding[0], b.padding[0], b.padding[1], b.padding[1]}));
  args.insert(args.begin(), {{"x", x4}, {"weight", w}});
  TS2COREML_ASSIGN_OR_RETURN(
      Var y, ctx.Emit1("conv", args, TensorType(xt.dtype, {n, cols, b.blocks[0], b.blocks[1]})));
  TS2COREML_ASSIGN_OR_RETURN(TensorType out, ctx.OutputType(0));
  TS2COREML_ASSIGN_OR_RETURN(y, Reshape(ctx, y, out.shape));
  return ctx.SetOutput(0, y);
}

Status InferCol2im(sdk::InferContext& ctx) {
  TS2COREML_ASSIGN_OR_RETURN(TensorType x, ctx.InputType(kCol2imSelf));
  TS2COREML_ASSIGN_OR_RETURN(Blocks b, ReadCol2im(ctx, x));
  std::vector<int64_t> shape = {b.channels, b.image[0], b.image[1]};
  if (b.batched) shape.insert(shape.begin(), x.shape[0]);
  return ctx.SetOutputType(0, TensorType(T2C_DTYPE_FP32, shape));
}

/// conv_transpose crops `padding` before and whatever of the full result lies past the image
/// after; what the blocks never reach (the image is larger than the full result) is zero padding.
Status LowerCol2im(sdk::LowerContext& ctx) {
  TS2COREML_ASSIGN_OR_RETURN(Var x, ctx.Input(kCol2imSelf));
  TS2COREML_ASSIGN_OR_RETURN(TensorType xt, ctx.TypeOf(x));
  TS2COREML_ASSIGN_OR_RETURN(Blocks b, ReadCol2im(ctx, xt));
  const int64_t n = b.batched ? xt.shape[0] : 1;
  const int64_t cols = b.channels * b.kernel[0] * b.kernel[1];
  std::vector<int64_t> pad, reached, extra;
  for (size_t i = 0; i < 2; ++i) {
    const int64_t full = (b.blocks[i] - 1) * b.stride[i] + b.dilation[i] * (b.kernel[i] - 1) + 1;
    const int64_t after = full - b.padding[i] - b.image[i];
    pad.push_back(b.padding[i]);
    pad.push_back(std::max<int64_t>(after, 0));
    reached.push_back(full - b.padding[i] - std::max<int64_t>(after, 0));
    extra.push_back(std::max<int64_t>(-after, 0));
  }
  TS2COREML_ASSIGN_OR_RETURN(Var x4, Reshape(ctx, x, {n, cols, b.blocks[0], b.blocks[1]}));
  TS2COREML_ASSIGN_OR_RETURN(Var w, OneHotKernels(ctx, b, xt.dtype));
  TS2COREML_ASSIGN_OR_RETURN(std::vector<sdk::Arg> args, ConvArgs(ctx, b, pad));
  args.insert(args.begin(), {{"x", x4}, {"weight", w}});
  const TensorType image(xt.dtype, {n, b.channels, reached[0], reached[1]});
  TS2COREML_ASSIGN_OR_RETURN(Var y, ctx.Emit1("conv_transpose", args, image));
  if (extra[0] > 0 || extra[1] > 0) {
    TS2COREML_ASSIGN_OR_RETURN(Var pads, ctx.ConstInts({0, 0, 0, 0, 0, extra[0], 0, extra[1]}));
    TS2COREML_ASSIGN_OR_RETURN(Var mode, ctx.ConstString("constant"));
    TS2COREML_ASSIGN_OR_RETURN(Var zero, ctx.ConstFloat(xt.dtype, 0.0f));
    TS2COREML_ASSIGN_OR_RETURN(
        y, ctx.Emit1("pad", {{"x", y}, {"pad", pads}, {"mode", mode}, {"constant_val", zero}},
                     TensorType(xt.dtype, {n, b.channels, b.image[0], b.image[1]})));
  }
  TS2COREML_ASSIGN_OR_RETURN(TensorType out, ctx.OutputType(0));
  TS2COREML_ASSIGN_OR_RETURN(y, Reshape(ctx, y, out.shape));
  return ctx.SetOutput(0, y);
}

}  // namespace ts2coreml::plugins::im2col
