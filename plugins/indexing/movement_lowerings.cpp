/// Data-movement and index lowerings (see movement_lowerings.h). Shapes are static: every axis,
/// size and constant index is resolved on the host; index tensors stay run-time MIL vars.
#include "indexing/movement_lowerings.h"

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "common/lowering_util.h"
#include "common/mil_emit.h"
#include "ts2coreml/sdk.h"

namespace ts2coreml::plugins::movement {
namespace {

int64_t Product(const std::vector<int64_t>& v, size_t begin, size_t end) {
  int64_t p = 1;
  for (size_t i = begin; i < end && i < v.size(); ++i) p *= v[i];
  return p;
}

/// A scalar zero in `dtype` (false for bool).
Expected<Var> Zero(const LowerContext& ctx, t2c_dtype dtype) {
  if (dtype == T2C_DTYPE_BOOL) return ctx.ConstBool(false);
  return ScalarLike(ctx, dtype, 0);
}

}  // namespace

// --- flip --------------------------------------------------------------------------------------

constexpr uint32_t kFlipSelf = sdk::InputIndex(kFlipInputs, "self");
constexpr uint32_t kFlipDims = sdk::InputIndex(kFlipInputs, "dims");

/// flip(self, dims): the normalized, distinct axes to reverse.
Expected<std::vector<int64_t>> FlipAxes(const NodeView& ctx, const TensorType& x) {
  std::vector<int64_t> dims;
  if (ctx.kind() == "aten::fliplr" || ctx.kind() == "aten::flipud") {
    const bool lr = ctx.kind() == "aten::fliplr";
    if (x.rank() < (lr ? 2 : 1)) {
      return ctx.InvalidInputs(ctx.kind() + ": expects at least " + (lr ? "2" : "1") +
                               " dims, got " + FormatInts(x.shape));
    }
    dims = {lr ? 1 : 0};
  } else {
    TS2COREML_ASSIGN_OR_RETURN(dims, ctx.Ints(kFlipDims));
  }
  std::vector<int64_t> axes;
  const int64_t rank = std::max<int64_t>(x.rank(), 1);
  for (int64_t d : dims) {
    const int64_t a = sdk::NormalizeAxis(d, rank);
    if (a < 0) {
      return ctx.Error("flip: dim " + std::to_string(d) + " is out of range for rank " +
                       std::to_string(x.rank()));
    }
    if (std::find(axes.begin(), axes.end(), a) != axes.end()) {
      return ctx.Error("flip: dims " + FormatInts(dims) + " has a duplicate");
    }
    axes.push_back(a);
  }
  if (x.rank() == 0) axes.clear();  // flipping a scalar is the scalar
  std::sort(axes.begin(), axes.end());
  return axes;
}

Status InferFlip(InferContext& ctx) {
  TS2COREML_ASSIGN_OR_RETURN(TensorType x, ctx.InputType(kFlipSelf));
  TS2COREML_RETURN_IF_ERROR(FlipAxes(ctx, x).status());
  return ctx.SetOutputType(0, x);
}

Status LowerFlip(LowerContext& ctx) {
  TS2COREML_ASSIGN_OR_RETURN(Var x, ctx.Input(kFlipSelf));
  TS2COREML_ASSIGN_OR_RETURN(TensorType xt, ctx.TypeOf(x));
  TS2COREML_ASSIGN_OR_RETURN(std::vector<int64_t> axes, FlipAxes(ctx, xt));
  std::vector<int64_t> flipped;
  for (int64_t a : axes) {
    if (xt.shape[static_cast<size_t>(a)] > 1) flipped.push_back(a);
  }
  if (flipped.empty()) return ctx.EmitOutput("identity", {{"x", x}});
  TS2COREML_ASSIGN_OR_RETURN(Var axes_var, ctx.ConstInts(flipped));
  return ctx.EmitOutput("reverse", {{"x", x}, {"axes", axes_var}});
}

// --- stack, hstack, vstack, row_stack, dstack, column_stack ------------------------------------

constexpr uint32_t kStackTensors = sdk::InputIndex(kStackInputs, "tensors");
constexpr uint32_t kStackDim = sdk::InputIndex(kStackInputs, "dim");

/// How the stacking ops join: each element reshaped to `shapes[k]`, then concatenated along
/// `axis` (stack: a new axis, so every element gets a unit axis there).
struct StackPlan {
  std::vector<std::vector<int64_t>> shapes;
  int64_t axis = 0;
  TensorType out;
};

/// The shape `t` takes in the op named by `base` (atleast_1d/2d/3d, column_stack's columns).
std::vector<int64_t> StackedShape(const std::string& base, const std::vector<int64_t>& t) {
  const size_t r = t.size();
  if (base == "aten::hstack") return r == 0 ? std::vector<int64_t>{1} : t;
  if (base == "aten::vstack" || base == "aten::row_stack") {
    if (r == 0) return {1, 1};
    return r == 1 ? std::vector<int64_t>{1, t[0]} : t;
  }
  if (base == "aten::dstack") {
    if (r == 0) return {1, 1, 1};
    if (r == 1) return {1, t[0], 1};
    if (r == 2) return {t[0], t[1], 1};
    return t;
  }
  if (base == "aten::column_stack" && r <= 1) return {r == 0 ? 1 : t[0], 1};
  return t;
}

Expected<StackPlan> ReadStack(const NodeView& ctx) {
  const std::string base = ctx.kind().substr(0, ctx.kind().find('.'));
  const std::string op = OpBaseName(ctx.kind());
  TS2COREML_ASSIGN_OR_RETURN(uint32_t n, ctx.ListSize(kStackTensors));
  if (n == 0) return ctx.Error(op + ": the tensor list is empty");
  StackPlan p;
  TS2COREML_ASSIGN_OR_RETURN(TensorType first, ctx.ListType(kStackTensors, 0));
  p.out.dtype = first.dtype;
  for (uint32_t k = 0; k < n; ++k) {
    TS2COREML_ASSIGN_OR_RETURN(TensorType t, ctx.ListType(kStackTensors, k));
    if (t.is_float()) p.out.dtype = T2C_DTYPE_FP32;
    if (!p.out.is_float() && t.dtype != p.out.dtype) p.out.dtype = T2C_DTYPE_INT32;
    p.shapes.push_back(StackedShape(base, t.shape));
  }
  const int64_t rank = static_cast<int64_t>(p.shapes[0].size());
  if (base == "aten::stack") {
    TS2COREML_ASSIGN_OR_RETURN(p.axis, ReadAxis(ctx, kStackDim, rank + 1, op));
    for (auto& s : p.shapes) s.insert(s.begin() + p.axis, 1);
  } else if (base == "aten::hstack") {
    p.axis = rank == 1 ? 0 : 1;
  } else if (base == "aten::dstack") {
    p.axis = 2;
  } else {
    p.axis = base == "aten::column_stack" ? 1 : 0;
  }
  p.out.shape = p.shapes[0];
  p.out.shape[static_cast<size_t>(p.axis)] = 0;
  for (size_t k = 0; k < p.shapes.size(); ++k) {
    const std::vector<int64_t>& s = p.shapes[k];
    bool fits = s.size() == p.out.shape.size();
    for (size_t d = 0; fits && d < s.size(); ++d) {
      fits = d == static_cast<size_t>(p.axis) || s[d] == p.out.shape[d];
    }
    if (!fits) {
      return ctx.InvalidInputs(op + ": tensor " + std::to_string(k) + " of shape " + FormatInts(s) +
                               " does not match " + FormatInts(p.shapes[0]));
    }
    p.out.shape[static_cast<size_t>(p.axis)] += s[static_cast<size_t>(p.axis)];
  }
  return p;
}

Status InferStack(InferContext& ctx) {
  TS2COREML_ASSIGN_OR_RETURN(StackPlan p, ReadStack(ctx));
  return ctx.SetOutputType(0, p.out);
}

Status LowerStack(LowerContext& ctx) {
  TS2COREML_ASSIGN_OR_RETURN(StackPlan p, ReadStack(ctx));
  TS2COREML_ASSIGN_OR_RETURN(const std::vector<Var> inputs, ctx.InputList(kStackTensors));
  std::vector<Var> values(inputs.size());
  for (size_t k = 0; k < values.size(); ++k) {
    TS2COREML_ASSIGN_OR_RETURN(values[k], EmitReshape(ctx, inputs[k], p.shapes[k]));
  }
  if (values.size() == 1) return BindOutput(ctx, values[0], inputs[0]);
  TS2COREML_ASSIGN_OR_RETURN(Var axis_var, ctx.ConstInt(p.axis));
  TS2COREML_ASSIGN_OR_RETURN(Var interleave, ctx.ConstBool(false));
  return ctx.EmitOutput("concat",
                        {{"values", values}, {"axis", axis_var}, {"interleave", interleave}});
}

// --- pixel_shuffle, pixel_unshuffle ------------------------------------------------------------

constexpr uint32_t kPixelSelf = sdk::InputIndex(kPixelShuffleInputs, "self");
constexpr uint32_t kPixelFactor = sdk::InputIndex(kPixelShuffleInputs, "factor");

/// The output shape of pixel_shuffle (upscale) or pixel_unshuffle of `x` by `r`.
Expected<std::vector<int64_t>> PixelShape(const NodeView& ctx, const TensorType& x, bool up,
                                          int64_t r) {
  const std::string op = up ? "pixel_shuffle" : "pixel_unshuffle";
  if (x.rank() < 3) {
    return ctx.Error(op + ": expects at least 3 dims [*, C, H, W], got " + FormatInts(x.shape));
  }
  if (r <= 0) return ctx.Error(op + ": factor " + std::to_string(r) + " must be positive");
  std::vector<int64_t> s = x.shape;
  const size_t c = s.size() - 3, h = s.size() - 2, w = s.size() - 1;
  if (up) {
    if (s[c] % (r * r) != 0) {
      return ctx.InvalidInputs(op + ": channels " + std::to_string(s[c]) +
                               " are not divisible by " + std::to_string(r * r));
    }
    s[c] /= r * r;
    s[h] *= r;
    s[w] *= r;
  } else {
    if (s[h] % r != 0 || s[w] % r != 0) {
      return ctx.InvalidInputs(op + ": height and width " + FormatInts({s[h], s[w]}) +
                               " are not divisible by " + std::to_string(r));
    }
    s[c] *= r * r;
    s[h] /= r;
    s[w] /= r;
  }
  return s;
}

bool IsShuffle(const NodeView& ctx) { return ctx.kind().find("unshuffle") == std::string::npos; }

Status InferPixelShuffle(InferContext& ctx) {
  TS2COREML_ASSIGN_OR_RETURN(TensorType x, ctx.InputType(kPixelSelf));
  TS2COREML_ASSIGN_OR_RETURN(int64_t r, ctx.Int(kPixelFactor));
  TS2COREML_ASSIGN_OR_RETURN(std::vector<int64_t> s, PixelShape(ctx, x, IsShuffle(ctx), r));
  return ctx.SetOutputType(0, TensorType(x.dtype, s));
}

/// shuffle: [B*C, r, r, H, W] -> [B*C, H, r, W, r]; unshuffle: [B*C, H, r, W, r] ->
/// [B*C, r, r, H, W] (B: the leading dims folded, C: the output or input channels).
Status LowerPixelShuffle(LowerContext& ctx) {
  TS2COREML_ASSIGN_OR_RETURN(Var x, ctx.Input(kPixelSelf));
  TS2COREML_ASSIGN_OR_RETURN(TensorType xt, ctx.TypeOf(x));
  TS2COREML_ASSIGN_OR_RETURN(int64_t r, ctx.Int(kPixelFactor));
  const bool up = IsShuffle(ctx);
  TS2COREML_ASSIGN_OR_RETURN(std::vector<int64_t> out, PixelShape(ctx, xt, up, r));
  if (r == 1) return ctx.EmitOutput("identity", {{"x", x}});
  const size_t c = xt.shape.size() - 3;
  const int64_t lead = Product(xt.shape, 0, c);
  Var y;
  if (up) {
    const int64_t bc = lead * out[c], h = xt.shape[c + 1], w = xt.shape[c + 2];
    TS2COREML_ASSIGN_OR_RETURN(y, EmitReshape(ctx, x, {bc, r, r, h, w}));
    TS2COREML_ASSIGN_OR_RETURN(y, EmitTranspose(ctx, y, {0, 3, 1, 4, 2}));
  } else {
    const int64_t bc = lead * xt.shape[c], h = out[c + 1], w = out[c + 2];
    TS2COREML_ASSIGN_OR_RETURN(y, EmitReshape(ctx, x, {bc, h, r, w, r}));
    TS2COREML_ASSIGN_OR_RETURN(y, EmitTranspose(ctx, y, {0, 2, 4, 1, 3}));
  }
  TS2COREML_ASSIGN_OR_RETURN(y, EmitReshape(ctx, y, out));
  return ctx.SetOutput(0, y);
}

// --- index_select, gather, take_along_dim ------------------------------------------------------

constexpr uint32_t kIndexSelectSelf = sdk::InputIndex(kIndexSelectInputs, "self");
constexpr uint32_t kIndexSelectDim = sdk::InputIndex(kIndexSelectInputs, "dim");
constexpr uint32_t kIndexSelectIndex = sdk::InputIndex(kIndexSelectInputs, "index");

Expected<TensorType> IndexSelectType(const NodeView& ctx, const TensorType& x,
                                     const TensorType& index) {
  if (x.rank() == 0) return ctx.Error("index_select: a 0-d input is not supported");
  if (index.rank() > 1) {
    return ctx.InvalidInputs("index_select: index must be 0-d or 1-d, got " +
                             FormatInts(index.shape));
  }
  TS2COREML_ASSIGN_OR_RETURN(int64_t axis,
                             ReadAxis(ctx, kIndexSelectDim, x.rank(), "index_select"));
  TensorType out = x;
  out.shape[static_cast<size_t>(axis)] = index.numel();
  if (index.numel() == 0) {
    return ctx.Error("index_select: an empty index gives an empty tensor, which MIL cannot hold");
  }
  return out;
}

Status InferIndexSelect(InferContext& ctx) {
  TS2COREML_ASSIGN_OR_RETURN(TensorType x, ctx.InputType(kIndexSelectSelf));
  TS2COREML_ASSIGN_OR_RETURN(TensorType index, ctx.InputType(kIndexSelectIndex));
  TS2COREML_ASSIGN_OR_RETURN(TensorType out, IndexSelectType(ctx, x, index));
  return ctx.SetOutputType(0, out);
}

Status LowerIndexSelect(LowerContext& ctx) {
  TS2COREML_ASSIGN_OR_RETURN(Var x, ctx.Input(kIndexSelectSelf));
  TS2COREML_ASSIGN_OR_RETURN(Var index, ctx.Input(kIndexSelectIndex));
  TS2COREML_ASSIGN_OR_RETURN(TensorType xt, ctx.TypeOf(x));
  TS2COREML_ASSIGN_OR_RETURN(TensorType it, ctx.TypeOf(index));
  TS2COREML_ASSIGN_OR_RETURN(int64_t axis,
                             ReadAxis(ctx, kIndexSelectDim, xt.rank(), "index_select"));
  // A 0-d index keeps the dim (size 1) in PyTorch; MIL gather would drop it.
  TS2COREML_ASSIGN_OR_RETURN(index, EmitReshape(ctx, index, {it.numel()}));
  TS2COREML_ASSIGN_OR_RETURN(Var axis_var, ctx.ConstInt(axis));
  return ctx.EmitOutput("gather", {{"x", x}, {"indices", index}, {"axis", axis_var}});
}

constexpr uint32_t kGatherSelf = sdk::InputIndex(kGatherInputs, "self");
constexpr uint32_t kGatherDim = sdk::InputIndex(kGatherInputs, "dim");
constexpr uint32_t kGatherIndex = sdk::InputIndex(kGatherInputs, "index");

/// gather's checks: same rank, index no larger than self outside dim.
Expected<int64_t> GatherAxis(const NodeView& ctx, const TensorType& x, const TensorType& index) {
  if (x.rank() == 0) return ctx.Error("gather: a 0-d input is not supported");
  if (index.rank() != x.rank()) {
    return ctx.InvalidInputs("gather: index " + FormatInts(index.shape) + " and input " +
                             FormatInts(x.shape) + " differ in rank");
  }
  TS2COREML_ASSIGN_OR_RETURN(int64_t axis, ReadAxis(ctx, kGatherDim, x.rank(), "gather"));
  for (int64_t d = 0; d < x.rank(); ++d) {
    if (d != axis && index.shape[d] > x.shape[d]) {
      return ctx.InvalidInputs("gather: index " + FormatInts(index.shape) +
                               " is larger than the input " + FormatInts(x.shape) +
                               " outside dim " + std::to_string(axis));
    }
  }
  if (index.numel() == 0) {
    return ctx.Error("gather: an empty index gives an empty tensor, which MIL cannot hold");
  }
  return axis;
}

Status InferGather(InferContext& ctx) {
  TS2COREML_ASSIGN_OR_RETURN(TensorType x, ctx.InputType(kGatherSelf));
  TS2COREML_ASSIGN_OR_RETURN(TensorType index, ctx.InputType(kGatherIndex));
  TS2COREML_RETURN_IF_ERROR(GatherAxis(ctx, x, index).status());
  return ctx.SetOutputType(0, TensorType(x.dtype, index.shape));
}

/// gather_along_axis of `x` cut to the index's extent outside `axis` (MIL wants them equal).
Expected<Var> EmitGatherAlongAxis(const LowerContext& ctx, Var x, Var index, int64_t axis) {
  TS2COREML_ASSIGN_OR_RETURN(TensorType xt, ctx.TypeOf(x));
  TS2COREML_ASSIGN_OR_RETURN(TensorType it, ctx.TypeOf(index));
  std::vector<int64_t> size = it.shape;
  size[static_cast<size_t>(axis)] = xt.shape[static_cast<size_t>(axis)];
  if (size != xt.shape) {
    TS2COREML_ASSIGN_OR_RETURN(Var begin, ctx.ConstInts(std::vector<int64_t>(size.size(), 0)));
    TS2COREML_ASSIGN_OR_RETURN(Var size_var, ctx.ConstInts(size));
    TS2COREML_ASSIGN_OR_RETURN(
        x, ctx.Emit1("slice_by_size", {{"x", x}, {"begin", begin}, {"size", size_var}},
                     TensorType(xt.dtype, size)));
  }
  TS2COREML_ASSIGN_OR_RETURN(Var axis_var, ctx.ConstInt(axis));
  return ctx.Emit1("gather_along_axis", {{"x", x}, {"indices", index}, {"axis", axis_var}},
                   TensorType(xt.dtype, it.shape));
}

Status LowerGather(LowerContext& ctx) {
  TS2COREML_ASSIGN_OR_RETURN(Var x, ctx.Input(kGatherSelf));
  TS2COREML_ASSIGN_OR_RETURN(Var index, ctx.Input(kGatherIndex));
  TS2COREML_ASSIGN_OR_RETURN(TensorType xt, ctx.TypeOf(x));
  TS2COREML_ASSIGN_OR_RETURN(TensorType it, ctx.TypeOf(index));
  TS2COREML_ASSIGN_OR_RETURN(int64_t axis, GatherAxis(ctx, xt, it));
  TS2COREML_ASSIGN_OR_RETURN(Var y, EmitGatherAlongAxis(ctx, x, index, axis));
  return ctx.SetOutput(0, y);
}

constexpr uint32_t kTakeSelf = sdk::InputIndex(kTakeAlongDimInputs, "self");
constexpr uint32_t kTakeIndices = sdk::InputIndex(kTakeAlongDimInputs, "indices");
constexpr uint32_t kTakeDim = sdk::InputIndex(kTakeAlongDimInputs, "dim");

/// take_along_dim: with dim, self and indices broadcast outside it; without, both are flattened.
struct TakePlan {
  bool flatten = false;
  int64_t axis = 0;
  std::vector<int64_t> self_shape, index_shape;  ///< after broadcasting
};

Expected<TakePlan> ReadTake(const NodeView& ctx, const TensorType& x, const TensorType& index) {
  TakePlan p;
  if (!Given(ctx, kTakeDim)) {
    p.flatten = true;
    p.self_shape = {x.numel()};
    p.index_shape = {index.numel()};
    return p;
  }
  if (x.rank() == 0 || index.rank() != x.rank()) {
    return ctx.InvalidInputs("take_along_dim: input " + FormatInts(x.shape) + " and indices " +
                             FormatInts(index.shape) + " must have the same (non-zero) rank");
  }
  TS2COREML_ASSIGN_OR_RETURN(p.axis, ReadAxis(ctx, kTakeDim, x.rank(), "take_along_dim"));
  p.self_shape = x.shape;
  p.index_shape = index.shape;
  for (int64_t d = 0; d < x.rank(); ++d) {
    if (d == p.axis) continue;
    int64_t& a = p.self_shape[d];
    int64_t& b = p.index_shape[d];
    if (a != b && a != 1 && b != 1) {
      return ctx.InvalidInputs("take_along_dim: input " + FormatInts(x.shape) + " and indices " +
                               FormatInts(index.shape) + " do not broadcast outside dim " +
                               std::to_string(p.axis));
    }
    a = b = std::max(a, b);
  }
  return p;
}

Status InferTakeAlongDim(InferContext& ctx) {
  TS2COREML_ASSIGN_OR_RETURN(TensorType x, ctx.InputType(kTakeSelf));
  TS2COREML_ASSIGN_OR_RETURN(TensorType index, ctx.InputType(kTakeIndices));
  TS2COREML_ASSIGN_OR_RETURN(TakePlan p, ReadTake(ctx, x, index));
  return ctx.SetOutputType(0, TensorType(x.dtype, p.index_shape));
}

Status LowerTakeAlongDim(LowerContext& ctx) {
  TS2COREML_ASSIGN_OR_RETURN(Var x, ctx.Input(kTakeSelf));
  TS2COREML_ASSIGN_OR_RETURN(Var index, ctx.Input(kTakeIndices));
  TS2COREML_ASSIGN_OR_RETURN(TensorType xt, ctx.TypeOf(x));
  TS2COREML_ASSIGN_OR_RETURN(TensorType it, ctx.TypeOf(index));
  TS2COREML_ASSIGN_OR_RETURN(TakePlan p, ReadTake(ctx, xt, it));
  if (p.flatten) {
    TS2COREML_ASSIGN_OR_RETURN(x, EmitReshape(ctx, x, p.self_shape));
    TS2COREML_ASSIGN_OR_RETURN(index, EmitReshape(ctx, index, p.index_shape));
  } else {
    std::vector<int64_t> xr, ir;
    for (size_t d = 0; d < xt.shape.size(); ++d) {
      xr.push_back(p.self_shape[d] / xt.shape[d]);
      ir.push_back(p.index_shape[d] / it.shape[d]);
    }
    TS2COREML_ASSIGN_OR_RETURN(x, EmitTile(ctx, x, xr));
    TS2COREML_ASSIGN_OR_RETURN(index, EmitTile(ctx, index, ir));
  }
  TS2COREML_ASSIGN_OR_RETURN(Var y, EmitGatherAlongAxis(ctx, x, index, p.axis));
  return ctx.SetOutput(0, y);
}

// --- repeat_interleave -------------------------------------------------------------------------

constexpr uint32_t kInterleaveSelf = sdk::InputIndex(kRepeatInterleaveInputs, "self");
constexpr uint32_t kInterleaveRepeats = sdk::InputIndex(kRepeatInterleaveInputs, "repeats");
constexpr uint32_t kInterleaveDim = sdk::InputIndex(kRepeatInterleaveInputs, "dim");

/// repeat_interleave(self, int repeats, dim?): the shape repeated (flattened when dim is None),
/// its axis and the count.
struct Interleave {
  std::vector<int64_t> shape;
  int64_t axis = 0;
  int64_t repeats = 1;
};

Expected<Interleave> ReadInterleave(const NodeView& ctx, const TensorType& x) {
  Interleave r;
  TS2COREML_ASSIGN_OR_RETURN(r.repeats, ctx.Int(kInterleaveRepeats));
  if (r.repeats <= 0) {
    return ctx.Error("repeat_interleave: repeats " + std::to_string(r.repeats) +
                     " must be positive (MIL cannot hold empty tensors)");
  }
  if (Given(ctx, kInterleaveDim)) {
    TS2COREML_ASSIGN_OR_RETURN(r.axis,
                               ReadAxis(ctx, kInterleaveDim, x.rank(), "repeat_interleave"));
    r.shape = x.shape;
    if (r.shape.empty()) r.shape = {1};
  } else {
    r.shape = {x.numel()};
  }
  return r;
}

Status InferRepeatInterleave(InferContext& ctx) {
  TS2COREML_ASSIGN_OR_RETURN(TensorType x, ctx.InputType(kInterleaveSelf));
  TS2COREML_ASSIGN_OR_RETURN(Interleave r, ReadInterleave(ctx, x));
  r.shape[static_cast<size_t>(r.axis)] *= r.repeats;
  return ctx.SetOutputType(0, TensorType(x.dtype, r.shape));
}

/// [.., n, ..] -> [.., n, 1, ..] tiled to [.., n, k, ..] -> [.., n * k, ..].
Status LowerRepeatInterleave(LowerContext& ctx) {
  TS2COREML_ASSIGN_OR_RETURN(Var x, ctx.Input(kInterleaveSelf));
  TS2COREML_ASSIGN_OR_RETURN(TensorType xt, ctx.TypeOf(x));
  TS2COREML_ASSIGN_OR_RETURN(Interleave r, ReadInterleave(ctx, xt));
  std::vector<int64_t> split = r.shape;
  split.insert(split.begin() + r.axis + 1, 1);
  TS2COREML_ASSIGN_OR_RETURN(Var y, EmitReshape(ctx, x, split));
  std::vector<int64_t> reps(split.size(), 1);
  reps[static_cast<size_t>(r.axis + 1)] = r.repeats;
  TS2COREML_ASSIGN_OR_RETURN(y, EmitTile(ctx, y, reps));
  std::vector<int64_t> out = r.shape;
  out[static_cast<size_t>(r.axis)] *= r.repeats;
  TS2COREML_ASSIGN_OR_RETURN(y, EmitReshape(ctx, y, out));
  return BindOutput(ctx, y, x);
}

// --- meshgrid ----------------------------------------------------------------------------------

constexpr uint32_t kMeshTensors = sdk::InputIndex(kMeshgridInputs, "tensors");
constexpr uint32_t kMeshIndexing = sdk::InputIndex(kMeshgridInputs, "indexing");

/// meshgrid: the common output shape and the axis each input spans ('xy' swaps the first two).
struct Mesh {
  std::vector<int64_t> shape;
  std::vector<int64_t> axis_of;
  std::vector<TensorType> types;
};

Expected<Mesh> ReadMesh(const NodeView& ctx) {
  TS2COREML_ASSIGN_OR_RETURN(uint32_t n, ctx.ListSize(kMeshTensors));
  if (n == 0) return ctx.Error("meshgrid: the tensor list is empty");
  bool xy = false;
  if (Given(ctx, kMeshIndexing)) {
    TS2COREML_ASSIGN_OR_RETURN(std::string indexing, ctx.String(kMeshIndexing));
    if (indexing != "ij" && indexing != "xy") {
      return ctx.Error("meshgrid: indexing '" + indexing + "' must be 'ij' or 'xy'");
    }
    xy = indexing == "xy" && n >= 2;
  }
  Mesh m;
  for (uint32_t k = 0; k < n; ++k) {
    TS2COREML_ASSIGN_OR_RETURN(TensorType t, ctx.ListType(kMeshTensors, k));
    if (t.rank() > 1) {
      return ctx.InvalidInputs("meshgrid: tensor " + std::to_string(k) + " of shape " +
                               FormatInts(t.shape) + " is not 0-d or 1-d");
    }
    m.types.push_back(t);
    m.shape.push_back(t.numel());
    m.axis_of.push_back(k);
  }
  if (xy) {
    std::swap(m.shape[0], m.shape[1]);
    std::swap(m.axis_of[0], m.axis_of[1]);
  }
  return m;
}

Status InferMeshgrid(InferContext& ctx) {
  TS2COREML_ASSIGN_OR_RETURN(Mesh m, ReadMesh(ctx));
  std::vector<TensorType> types;
  for (const TensorType& t : m.types) types.emplace_back(t.dtype, m.shape);
  return ctx.SetOutputListTypes(0, types);
}

Status LowerMeshgrid(LowerContext& ctx) {
  TS2COREML_ASSIGN_OR_RETURN(Mesh m, ReadMesh(ctx));
  TS2COREML_ASSIGN_OR_RETURN(std::vector<Var> inputs, ctx.InputList(kMeshTensors));
  std::vector<Var> outs;
  for (size_t k = 0; k < inputs.size(); ++k) {
    const size_t axis = static_cast<size_t>(m.axis_of[k]);
    std::vector<int64_t> line(m.shape.size(), 1), reps = m.shape;
    line[axis] = m.shape[axis];
    reps[axis] = 1;
    TS2COREML_ASSIGN_OR_RETURN(Var y, EmitReshape(ctx, inputs[k], line));
    TS2COREML_ASSIGN_OR_RETURN(y, EmitTile(ctx, y, reps));
    TS2COREML_ASSIGN_OR_RETURN(y, EmitIdentityIfInput(ctx, y, inputs[k]));
    outs.push_back(y);
  }
  return ctx.SetOutputList(0, outs);
}

// --- tril, triu --------------------------------------------------------------------------------

constexpr uint32_t kTriangleSelf = sdk::InputIndex(kTriangleInputs, "self");
constexpr uint32_t kTriangleDiagonal = sdk::InputIndex(kTriangleInputs, "diagonal");

Status InferTriangle(InferContext& ctx) {
  TS2COREML_ASSIGN_OR_RETURN(TensorType x, ctx.InputType(kTriangleSelf));
  if (x.rank() < 2) {
    return ctx.InvalidInputs(ctx.kind() + ": expects at least 2 dims, got " + FormatInts(x.shape));
  }
  TS2COREML_RETURN_IF_ERROR(ctx.Int(kTriangleDiagonal).status());
  return ctx.SetOutputType(0, x);
}

/// tril keeps j - i <= diagonal, triu keeps j - i >= diagonal (last two dims); the rest is zero:
/// select(mask, x, 0) with the mask a constant (an int 0/1 table compared with 1).
Status LowerTriangle(LowerContext& ctx) {
  TS2COREML_ASSIGN_OR_RETURN(Var x, ctx.Input(kTriangleSelf));
  TS2COREML_ASSIGN_OR_RETURN(TensorType xt, ctx.TypeOf(x));
  TS2COREML_ASSIGN_OR_RETURN(int64_t k, ctx.Int(kTriangleDiagonal));
  const bool lower = ctx.kind().find("tril") != std::string::npos;
  const int64_t rows = xt.shape[xt.shape.size() - 2], cols = xt.shape.back();
  std::vector<int64_t> keep;
  bool all = true;
  for (int64_t i = 0; i < rows; ++i) {
    for (int64_t j = 0; j < cols; ++j) {
      const bool kept = lower ? j - i <= k : j - i >= k;
      keep.push_back(kept ? 1 : 0);
      all &= kept;
    }
  }
  if (all) return ctx.EmitOutput("identity", {{"x", x}});
  TS2COREML_ASSIGN_OR_RETURN(Var table, ctx.ConstInts(keep));
  TS2COREML_ASSIGN_OR_RETURN(table, EmitReshape(ctx, table, {rows, cols}));
  TS2COREML_ASSIGN_OR_RETURN(Var one, ctx.ConstInt(1));
  TS2COREML_ASSIGN_OR_RETURN(Var mask, ctx.Emit1("equal", {{"x", table}, {"y", one}},
                                                 TensorType(T2C_DTYPE_BOOL, {rows, cols})));
  TS2COREML_ASSIGN_OR_RETURN(Var zero, Zero(ctx, xt.dtype));
  return ctx.EmitOutput("select", {{"cond", mask}, {"a", x}, {"b", zero}});
}

// --- one_hot -----------------------------------------------------------------------------------

constexpr uint32_t kOneHotSelf = sdk::InputIndex(kOneHotInputs, "self");
constexpr uint32_t kOneHotClasses = sdk::InputIndex(kOneHotInputs, "num_classes");

Expected<int64_t> ReadClasses(const NodeView& ctx) {
  TS2COREML_ASSIGN_OR_RETURN(int64_t n, ctx.Int(kOneHotClasses));
  if (n == -1) {
    return ctx.Error(
        "one_hot: num_classes=-1 (the largest index + 1) depends on the input values; pass num_classes");
  }
  if (n <= 0) {
    return ctx.Error("one_hot: num_classes " + std::to_string(n) +
                     " must be positive (MIL cannot hold empty tensors)");
  }
  return n;
}

Status InferOneHot(InferContext& ctx) {
  TS2COREML_ASSIGN_OR_RETURN(TensorType x, ctx.InputType(kOneHotSelf));
  TS2COREML_ASSIGN_OR_RETURN(int64_t n, ReadClasses(ctx));
  std::vector<int64_t> shape = x.shape;
  shape.push_back(n);
  return ctx.SetOutputType(0, TensorType(T2C_DTYPE_INT32, shape));
}

/// equal(x[..., None], arange(n)) selects 1 or 0.
Status LowerOneHot(LowerContext& ctx) {
  TS2COREML_ASSIGN_OR_RETURN(Var x, ctx.Input(kOneHotSelf));
  TS2COREML_ASSIGN_OR_RETURN(TensorType xt, ctx.TypeOf(x));
  TS2COREML_ASSIGN_OR_RETURN(int64_t n, ReadClasses(ctx));
  std::vector<int64_t> column = xt.shape;
  column.push_back(1);
  TS2COREML_ASSIGN_OR_RETURN(Var xc, EmitReshape(ctx, x, column));
  std::vector<int64_t> classes;
  for (int64_t i = 0; i < n; ++i) classes.push_back(i);
  TS2COREML_ASSIGN_OR_RETURN(Var range, ctx.ConstInts(classes));
  std::vector<int64_t> shape = xt.shape;
  shape.push_back(n);
  TS2COREML_ASSIGN_OR_RETURN(
      Var hit, ctx.Emit1("equal", {{"x", xc}, {"y", range}}, TensorType(T2C_DTYPE_BOOL, shape)));
  TS2COREML_ASSIGN_OR_RETURN(Var one, ctx.ConstInt(1));
  TS2COREML_ASSIGN_OR_RETURN(Var zero, ctx.ConstInt(0));
  return ctx.EmitOutput("select", {{"cond", hit}, {"a", one}, {"b", zero}});
}

}  // namespace ts2coreml::plugins::movement
