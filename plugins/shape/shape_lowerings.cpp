/// Built-in lowerings of shape ops. Output shapes are resolved in infer (-1 in view/reshape,
/// flatten ranges), so lower emits constant shapes and permutations. Also the identity ops
/// (dropout, contiguous, detach, clone) that the core removes through T2C_LOWERING_PASSTHROUGH,
/// and native_dropout (two outputs: the input and an all-true mask) lowered as one.
#include "shape/shape_lowerings.h"

#include <string>
#include <vector>

#include "common/lowering_table.h"
#include "common/lowering_util.h"
#include "common/mil_emit.h"
#include "shape/layout_lowerings.h"
#include "ts2coreml/sdk.h"

namespace ts2coreml::plugins {
namespace {

constexpr t2c_dtype_mask kAny = T2C_MASK_ANY;

/// Output 0 is input `self` with `shape`, in that input's dtype class.
Status SetReshaped(InferContext& ctx, uint32_t self, const std::vector<int64_t>& shape) {
  TS2COREML_ASSIGN_OR_RETURN(TensorType x, ctx.InputType(self));
  return ctx.SetOutputType(0, TensorType(x.dtype, shape));
}

/// Lowers an op whose output is a reshape of input `self` to the planned output shape.
Status LowerAsReshape(LowerContext& ctx, uint32_t self) {
  TS2COREML_ASSIGN_OR_RETURN(TensorType out, ctx.OutputType(0));
  TS2COREML_ASSIGN_OR_RETURN(Var x, ctx.Input(self));
  TS2COREML_ASSIGN_OR_RETURN(Var shape, ctx.ConstInts(out.shape));
  return ctx.EmitOutput("reshape", {{"x", x}, {"shape", shape}});
}

constexpr t2c_input_decl kFlattenInputs[] = {sdk::Tensor("self", kAny), sdk::Host("start_dim"),
                                             sdk::Host("end_dim")};
constexpr uint32_t kFlattenSelf = sdk::InputIndex(kFlattenInputs, "self");
constexpr uint32_t kFlattenStartDim = sdk::InputIndex(kFlattenInputs, "start_dim");
constexpr uint32_t kFlattenEndDim = sdk::InputIndex(kFlattenInputs, "end_dim");

/// flatten.using_ints(self, start_dim, end_dim).
Status InferFlatten(InferContext& ctx) {
  TS2COREML_ASSIGN_OR_RETURN(TensorType x, ctx.InputType(kFlattenSelf));
  if (x.rank() == 0) return SetReshaped(ctx, kFlattenSelf, {1});
  TS2COREML_ASSIGN_OR_RETURN(int64_t start, ReadAxis(ctx, kFlattenStartDim, x.rank(), "flatten"));
  TS2COREML_ASSIGN_OR_RETURN(int64_t end, ReadAxis(ctx, kFlattenEndDim, x.rank(), "flatten"));
  if (start > end) {
    return ctx.Error("flatten: start_dim " + std::to_string(start) + " is after end_dim " +
                     std::to_string(end));
  }
  std::vector<int64_t> shape(x.shape.begin(), x.shape.begin() + start);
  int64_t n = 1;
  for (int64_t i = start; i <= end; ++i) n *= x.shape[i];
  shape.push_back(n);
  shape.insert(shape.end(), x.shape.begin() + end + 1, x.shape.end());
  return SetReshaped(ctx, kFlattenSelf, shape);
}

Status LowerFlatten(LowerContext& ctx) { return LowerAsReshape(ctx, kFlattenSelf); }

constexpr t2c_input_decl kReshapeInputs[] = {sdk::Tensor("self", kAny), sdk::Host("shape")};
constexpr uint32_t kReshapeSelf = sdk::InputIndex(kReshapeInputs, "self");
constexpr uint32_t kReshapeShape = sdk::InputIndex(kReshapeInputs, "shape");

/// reshape(self, shape) / view(self, size), with at most one -1.
Status InferReshape(InferContext& ctx) {
  TS2COREML_ASSIGN_OR_RETURN(TensorType x, ctx.InputType(kReshapeSelf));
  TS2COREML_ASSIGN_OR_RETURN(std::vector<int64_t> shape, ctx.Ints(kReshapeShape));
  int64_t known = 1;
  int infer_at = -1;
  for (size_t i = 0; i < shape.size(); ++i) {
    if (shape[i] == -1) {
      if (infer_at >= 0)
        return ctx.Error(ctx.kind() + ": shape " + FormatInts(shape) + " has more than one -1");
      infer_at = static_cast<int>(i);
    } else if (shape[i] < 0) {
      return ctx.Error(ctx.kind() + ": invalid shape " + FormatInts(shape));
    } else {
      known *= shape[i];
    }
  }
  if (infer_at >= 0) {
    if (known == 0 || x.numel() % known != 0) {
      return ctx.InvalidInputs(ctx.kind() + ": shape " + FormatInts(shape) +
                               " is invalid for input " + FormatInts(x.shape));
    }
    shape[infer_at] = x.numel() / known;
  } else if (known != x.numel()) {
    return ctx.InvalidInputs(ctx.kind() + ": shape " + FormatInts(shape) +
                             " is invalid for input " + FormatInts(x.shape));
  }
  return SetReshaped(ctx, kReshapeSelf, shape);
}

Status LowerReshape(LowerContext& ctx) { return LowerAsReshape(ctx, kReshapeSelf); }

constexpr t2c_input_decl kPermuteInputs[] = {sdk::Tensor("self", kAny), sdk::Host("dims")};
constexpr uint32_t kPermuteSelf = sdk::InputIndex(kPermuteInputs, "self");
constexpr uint32_t kPermuteDims = sdk::InputIndex(kPermuteInputs, "dims");
constexpr t2c_input_decl kTransposeInputs[] = {sdk::Tensor("self", kAny), sdk::Host("dim0"),
                                               sdk::Host("dim1")};
constexpr uint32_t kTransposeSelf = sdk::InputIndex(kTransposeInputs, "self");
constexpr uint32_t kTransposeDim0 = sdk::InputIndex(kTransposeInputs, "dim0");
constexpr uint32_t kTransposeDim1 = sdk::InputIndex(kTransposeInputs, "dim1");

/// The permutation of permute(self, dims).
Expected<std::vector<int64_t>> ReadPermuteDims(const NodeView& ctx, int64_t rank) {
  TS2COREML_ASSIGN_OR_RETURN(std::vector<int64_t> dims, ctx.Ints(kPermuteDims));
  if (static_cast<int64_t>(dims.size()) != rank) {
    return ctx.Error("permute: dims " + FormatInts(dims) + " do not match rank " +
                     std::to_string(rank));
  }
  std::vector<int64_t> perm;
  std::vector<bool> seen(rank, false);
  for (int64_t d : dims) {
    int64_t a = sdk::NormalizeAxis(d, rank);
    if (a < 0 || seen[a]) return ctx.Error("permute: dims " + FormatInts(dims) + " invalid");
    seen[a] = true;
    perm.push_back(a);
  }
  return perm;
}

/// The permutation of transpose.int(self, dim0, dim1).
Expected<std::vector<int64_t>> ReadTransposeDims(const NodeView& ctx, int64_t rank) {
  std::vector<int64_t> perm;
  for (int64_t i = 0; i < rank; ++i) perm.push_back(i);
  if (rank == 0) return perm;
  TS2COREML_ASSIGN_OR_RETURN(int64_t a, ReadAxis(ctx, kTransposeDim0, rank, "transpose"));
  TS2COREML_ASSIGN_OR_RETURN(int64_t b, ReadAxis(ctx, kTransposeDim1, rank, "transpose"));
  std::swap(perm[a], perm[b]);
  return perm;
}

/// Reads the permutation of a node of the given rank.
using PermReader = Expected<std::vector<int64_t>> (*)(const NodeView& ctx, int64_t rank);

Status InferPermuted(InferContext& ctx, uint32_t self, PermReader read_perm) {
  TS2COREML_ASSIGN_OR_RETURN(TensorType x, ctx.InputType(self));
  TS2COREML_ASSIGN_OR_RETURN(std::vector<int64_t> perm, read_perm(ctx, x.rank()));
  std::vector<int64_t> shape;
  for (int64_t p : perm) shape.push_back(x.shape[p]);
  return SetReshaped(ctx, self, shape);
}

Status LowerPermuted(LowerContext& ctx, uint32_t self, PermReader read_perm) {
  TS2COREML_ASSIGN_OR_RETURN(TensorType out, ctx.OutputType(0));
  TS2COREML_ASSIGN_OR_RETURN(std::vector<int64_t> perm, read_perm(ctx, out.rank()));
  TS2COREML_ASSIGN_OR_RETURN(Var x, ctx.Input(self));
  if (out.rank() == 0) return ctx.EmitOutput("identity", {{"x", x}});
  TS2COREML_ASSIGN_OR_RETURN(Var perm_var, ctx.ConstInts(perm));
  return ctx.EmitOutput("transpose", {{"x", x}, {"perm", perm_var}});
}

Status InferPermute(InferContext& ctx) { return InferPermuted(ctx, kPermuteSelf, ReadPermuteDims); }
Status LowerPermute(LowerContext& ctx) { return LowerPermuted(ctx, kPermuteSelf, ReadPermuteDims); }
Status InferTranspose(InferContext& ctx) {
  return InferPermuted(ctx, kTransposeSelf, ReadTransposeDims);
}
Status LowerTranspose(LowerContext& ctx) {
  return LowerPermuted(ctx, kTransposeSelf, ReadTransposeDims);
}

constexpr t2c_input_decl kUnsqueezeInputs[] = {sdk::Tensor("self", kAny), sdk::Host("dim")};
constexpr uint32_t kUnsqueezeSelf = sdk::InputIndex(kUnsqueezeInputs, "self");
constexpr uint32_t kUnsqueezeDim = sdk::InputIndex(kUnsqueezeInputs, "dim");

/// unsqueeze(self, dim): dim is normalized against rank + 1.
Expected<int64_t> UnsqueezeAxis(const NodeView& ctx, int64_t rank) {
  TS2COREML_ASSIGN_OR_RETURN(int64_t dim, ctx.Int(kUnsqueezeDim));
  int64_t a = sdk::NormalizeAxis(dim, rank + 1);
  if (a < 0) {
    return ctx.Error("unsqueeze: dim " + std::to_string(dim) + " is out of range for rank " +
                     std::to_string(rank));
  }
  return a;
}

Status InferUnsqueeze(InferContext& ctx) {
  TS2COREML_ASSIGN_OR_RETURN(TensorType x, ctx.InputType(kUnsqueezeSelf));
  TS2COREML_ASSIGN_OR_RETURN(int64_t a, UnsqueezeAxis(ctx, x.rank()));
  x.shape.insert(x.shape.begin() + a, 1);
  return SetReshaped(ctx, kUnsqueezeSelf, x.shape);
}

Status LowerUnsqueeze(LowerContext& ctx) {
  TS2COREML_ASSIGN_OR_RETURN(TensorType out, ctx.OutputType(0));
  TS2COREML_ASSIGN_OR_RETURN(int64_t a, UnsqueezeAxis(ctx, out.rank() - 1));
  TS2COREML_ASSIGN_OR_RETURN(Var x, ctx.Input(kUnsqueezeSelf));
  TS2COREML_ASSIGN_OR_RETURN(Var axes, ctx.ConstInts({a}));
  return ctx.EmitOutput("expand_dims", {{"x", x}, {"axes", axes}});
}

constexpr t2c_input_decl kSqueezeInputs[] = {sdk::Tensor("self", kAny),
                                             sdk::Host("dim", T2C_INPUT_OPTIONAL)};
constexpr uint32_t kSqueezeSelf = sdk::InputIndex(kSqueezeInputs, "self");
constexpr uint32_t kSqueezeDim = sdk::InputIndex(kSqueezeInputs, "dim");

/// The axes squeeze removes: every size-1 dim (squeeze) or `dim` when its size is 1 (squeeze.dim).
Expected<std::vector<int64_t>> SqueezeAxes(const NodeView& ctx, const TensorType& x) {
  std::vector<int64_t> axes;
  if (ctx.num_inputs() > kSqueezeDim && !ctx.IsNone(kSqueezeDim)) {
    if (x.rank() == 0) return axes;
    TS2COREML_ASSIGN_OR_RETURN(int64_t a, ReadAxis(ctx, kSqueezeDim, x.rank(), "squeeze"));
    if (x.shape[a] == 1) axes.push_back(a);
    return axes;
  }
  for (int64_t i = 0; i < x.rank(); ++i) {
    if (x.shape[i] == 1) axes.push_back(i);
  }
  return axes;
}

Status InferSqueeze(InferContext& ctx) {
  TS2COREML_ASSIGN_OR_RETURN(TensorType x, ctx.InputType(kSqueezeSelf));
  TS2COREML_ASSIGN_OR_RETURN(std::vector<int64_t> axes, SqueezeAxes(ctx, x));
  std::vector<int64_t> shape;
  for (int64_t i = 0, k = 0; i < x.rank(); ++i) {
    if (k < static_cast<int64_t>(axes.size()) && axes[k] == i) {
      ++k;
    } else {
      shape.push_back(x.shape[i]);
    }
  }
  return SetReshaped(ctx, kSqueezeSelf, shape);
}

Status LowerSqueeze(LowerContext& ctx) {
  TS2COREML_ASSIGN_OR_RETURN(Var x, ctx.Input(kSqueezeSelf));
  TS2COREML_ASSIGN_OR_RETURN(TensorType xt, ctx.TypeOf(x));
  TS2COREML_ASSIGN_OR_RETURN(std::vector<int64_t> axes, SqueezeAxes(ctx, xt));
  if (axes.empty()) return ctx.EmitOutput("identity", {{"x", x}});
  TS2COREML_ASSIGN_OR_RETURN(Var axes_var, ctx.ConstInts(axes));
  return ctx.EmitOutput("squeeze", {{"x", x}, {"axes", axes_var}});
}

constexpr t2c_input_decl kCatInputs[] = {sdk::TensorList("tensors", kAny), sdk::Host("dim")};
constexpr uint32_t kCatTensors = sdk::InputIndex(kCatInputs, "tensors");
constexpr uint32_t kCatDim = sdk::InputIndex(kCatInputs, "dim");

/// cat(tensors, dim): shapes agree except along dim; float when any element is float.
Status InferCat(InferContext& ctx) {
  TS2COREML_ASSIGN_OR_RETURN(uint32_t n, ctx.ListSize(kCatTensors));
  if (n == 0) return ctx.Error("cat: the tensor list is empty");
  TS2COREML_ASSIGN_OR_RETURN(TensorType first, ctx.ListType(kCatTensors, 0));
  if (first.rank() == 0) return ctx.Error("cat: zero-dimensional tensors cannot be concatenated");
  TS2COREML_ASSIGN_OR_RETURN(int64_t axis, ReadAxis(ctx, kCatDim, first.rank(), "cat"));
  TensorType out = first;
  for (uint32_t k = 1; k < n; ++k) {
    TS2COREML_ASSIGN_OR_RETURN(TensorType t, ctx.ListType(kCatTensors, k));
    if (t.rank() != first.rank()) {
      return ctx.InvalidInputs("cat: tensor " + std::to_string(k) + " has rank " +
                               std::to_string(t.rank()) + ", expected " +
                               std::to_string(first.rank()));
    }
    for (int64_t d = 0; d < t.rank(); ++d) {
      if (d != axis && t.shape[d] != first.shape[d]) {
        return ctx.InvalidInputs("cat: tensor " + std::to_string(k) + " shape " +
                                 FormatInts(t.shape) + " does not match " +
                                 FormatInts(first.shape) + " outside dim " + std::to_string(axis));
      }
    }
    out.shape[axis] += t.shape[axis];
    if (t.is_float()) out.dtype = T2C_DTYPE_FP32;
  }
  return ctx.SetOutputType(0, out);
}

Status LowerCat(LowerContext& ctx) {
  TS2COREML_ASSIGN_OR_RETURN(TensorType out, ctx.OutputType(0));
  TS2COREML_ASSIGN_OR_RETURN(int64_t axis, ReadAxis(ctx, kCatDim, out.rank(), "cat"));
  TS2COREML_ASSIGN_OR_RETURN(std::vector<Var> values, ctx.InputList(kCatTensors));
  if (values.size() == 1) return ctx.EmitOutput("identity", {{"x", values[0]}});
  TS2COREML_ASSIGN_OR_RETURN(Var axis_var, ctx.ConstInt(axis));
  TS2COREML_ASSIGN_OR_RETURN(Var interleave, ctx.ConstBool(false));
  return ctx.EmitOutput("concat",
                        {{"values", values}, {"axis", axis_var}, {"interleave", interleave}});
}

constexpr t2c_input_decl kNativeDropoutInputs[] = {
    sdk::Tensor("input", T2C_MASK_FLOAT), sdk::Host("p"), sdk::Host("train", T2C_INPUT_OPTIONAL)};
constexpr uint32_t kNativeDropoutInput = sdk::InputIndex(kNativeDropoutInputs, "input");
constexpr uint32_t kNativeDropoutP = sdk::InputIndex(kNativeDropoutInputs, "p");
constexpr uint32_t kNativeDropoutTrain = sdk::InputIndex(kNativeDropoutInputs, "train");

/// native_dropout(input, p, train?) -> (output, mask). In eval (train=False) ATen returns the
/// input and an all-true bool mask; in training (train True or None) with p = 0 it keeps every
/// element and the mask is ones in the input's dtype; other training dropouts are random.
Status InferNativeDropout(InferContext& ctx) {
  TS2COREML_ASSIGN_OR_RETURN(TensorType x, ctx.InputType(kNativeDropoutInput));
  bool train = true;
  if (!ctx.IsNone(kNativeDropoutTrain)) {
    TS2COREML_ASSIGN_OR_RETURN(train, ctx.Bool(kNativeDropoutTrain));
  }
  TS2COREML_ASSIGN_OR_RETURN(double p, ctx.Float(kNativeDropoutP));
  if (train && p != 0.0) {
    return ctx.Error(
        ctx.kind() + ": train=True with p=" + FormatNumber(p) +
        " draws a random mask, which is not converted; call model.eval() (or pass train=False) before tracing");
  }
  TS2COREML_RETURN_IF_ERROR(ctx.SetOutputType(0, x));
  // An unread mask shares the output's type and var.
  if (!ctx.OutputIsUsed(1)) return ctx.SetOutputType(1, x);
  return ctx.SetOutputType(1, TensorType(train ? x.dtype : T2C_DTYPE_BOOL, x.shape));
}

/// The output is the input; the mask, when read, a fill of true (or 1).
Status LowerNativeDropout(LowerContext& ctx) {
  TS2COREML_ASSIGN_OR_RETURN(Var x, ctx.Input(kNativeDropoutInput));
  TS2COREML_ASSIGN_OR_RETURN(TensorType out, ctx.OutputType(0));
  TS2COREML_ASSIGN_OR_RETURN(Var y, ctx.Emit1("identity", {{"x", x}}, out));
  TS2COREML_RETURN_IF_ERROR(ctx.SetOutput(0, y));
  if (!ctx.OutputIsUsed(1)) return ctx.SetOutput(1, y);
  TS2COREML_ASSIGN_OR_RETURN(TensorType mask, ctx.OutputType(1));
  TS2COREML_ASSIGN_OR_RETURN(Var shape, ctx.ConstInts(mask.shape));
  TS2COREML_ASSIGN_OR_RETURN(Var one, mask.dtype == T2C_DTYPE_BOOL
                                          ? ctx.ConstBool(true)
                                          : ctx.ConstFloat(mask.dtype, 1.0f));
  TS2COREML_ASSIGN_OR_RETURN(Var m, ctx.Emit1("fill", {{"shape", shape}, {"value", one}}, mask));
  return ctx.SetOutput(1, m);
}

constexpr t2c_input_decl kItemInputs[] = {sdk::Tensor("self", kAny)};
constexpr uint32_t kItemSelf = sdk::InputIndex(kItemInputs, "self");

/// item / _local_scalar_dense of a tensor computed at run time (the core folds a constant one):
/// the number stays a tensor of rank 0 in the input's class, which every consumer taking a
/// tensor operand reads (`x * t.sum().item()`); a consumer needing the number at conversion time
/// (a shape, a dim) is refused by the core, naming it.
Status InferItem(InferContext& ctx) {
  TS2COREML_ASSIGN_OR_RETURN(TensorType x, ctx.InputType(kItemSelf));
  if (x.numel() != 1) {
    return ctx.InvalidInputs(ctx.kind() + ": a tensor of shape " + FormatInts(x.shape) +
                             " cannot be converted to a number (item needs one element)");
  }
  return ctx.SetOutputType(0, TensorType(x.dtype, {}));
}

/// The element as a rank-0 tensor: squeeze, or an identity for a rank-0 input.
Status LowerItem(LowerContext& ctx) {
  TS2COREML_ASSIGN_OR_RETURN(Var x, ctx.Input(kItemSelf));
  TS2COREML_ASSIGN_OR_RETURN(TensorType t, ctx.TypeOf(x));
  if (t.rank() == 0) return ctx.EmitOutput("identity", {{"x", x}});
  TS2COREML_ASSIGN_OR_RETURN(Var y, EmitReshape(ctx, x, {}));
  return ctx.SetOutput(0, y);
}

constexpr const char* kItemOps[] = {"aten::item", "aten::_local_scalar_dense"};
constexpr const char* kFlattenOps[] = {"aten::flatten.using_ints"};
constexpr const char* kReshapeOps[] = {"aten::reshape", "aten::view", "aten::view_copy",
                                       "aten::_unsafe_view", "aten::_reshape_from_tensor"};
constexpr const char* kNativeDropoutOps[] = {"aten::native_dropout"};
constexpr const char* kPermuteOps[] = {"aten::permute", "aten::permute_copy"};
constexpr const char* kTransposeOps[] = {"aten::transpose.int", "aten::swapaxes", "aten::swapdims"};
constexpr const char* kUnsqueezeOps[] = {"aten::unsqueeze", "aten::unsqueeze_copy"};
constexpr const char* kSqueezeOps[] = {"aten::squeeze", "aten::squeeze.dim", "aten::squeeze_copy",
                                       "aten::squeeze_copy.dim"};
constexpr const char* kCatOps[] = {"aten::cat"};
// Identities in inference; the core removes them while canonicalizing.
constexpr const char* kIdentityOps[] = {"aten::dropout",         "aten::feature_dropout",
                                        "aten::alpha_dropout",   "aten::feature_alpha_dropout",
                                        "aten::contiguous",      "aten::detach",
                                        "aten::clone",           "aten::alias",
                                        "aten::alias_copy",      "aten::lift_fresh",
                                        "aten::lift_fresh_copy", "aten::cpu"};
constexpr t2c_input_decl kIdentityInputs[] = {
    sdk::Tensor("input", kAny), sdk::Ignored("p_or_memory_format"), sdk::Ignored("train")};

constexpr t2c_lowering_decl kLowerings[] = {
    sdk::Lowering("flatten", kFlattenOps, kFlattenInputs, T2C_FP16_NATIVE, T2C_INFER_CUSTOM,
                  sdk::InferFn<InferFlatten>, sdk::LowerFn<LowerFlatten>),
    sdk::Lowering("reshape", kReshapeOps, kReshapeInputs, T2C_FP16_NATIVE, T2C_INFER_CUSTOM,
                  sdk::InferFn<InferReshape>, sdk::LowerFn<LowerReshape>),
    sdk::Lowering("permute", kPermuteOps, kPermuteInputs, T2C_FP16_NATIVE, T2C_INFER_CUSTOM,
                  sdk::InferFn<InferPermute>, sdk::LowerFn<LowerPermute>),
    sdk::Lowering("transpose", kTransposeOps, kTransposeInputs, T2C_FP16_NATIVE, T2C_INFER_CUSTOM,
                  sdk::InferFn<InferTranspose>, sdk::LowerFn<LowerTranspose>),
    sdk::Lowering("unsqueeze", kUnsqueezeOps, kUnsqueezeInputs, T2C_FP16_NATIVE, T2C_INFER_CUSTOM,
                  sdk::InferFn<InferUnsqueeze>, sdk::LowerFn<LowerUnsqueeze>),
    sdk::Lowering("squeeze", kSqueezeOps, kSqueezeInputs, T2C_FP16_NATIVE, T2C_INFER_CUSTOM,
                  sdk::InferFn<InferSqueeze>, sdk::LowerFn<LowerSqueeze>),
    sdk::Lowering("cat", kCatOps, kCatInputs, T2C_FP16_NATIVE, T2C_INFER_CUSTOM,
                  sdk::InferFn<InferCat>, sdk::LowerFn<LowerCat>),
    sdk::Lowering("native_dropout", kNativeDropoutOps, kNativeDropoutInputs, T2C_FP16_NATIVE,
                  T2C_INFER_CUSTOM, sdk::InferFn<InferNativeDropout>,
                  sdk::LowerFn<LowerNativeDropout>),
    sdk::Lowering("item", kItemOps, kItemInputs, T2C_FP16_NATIVE, T2C_INFER_CUSTOM,
                  sdk::InferFn<InferItem>, sdk::LowerFn<LowerItem>),
    sdk::Lowering("identity", kIdentityOps, kIdentityInputs, T2C_FP16_NATIVE,
                  T2C_INFER_SAME_AS_INPUT0, nullptr, nullptr, /*priority=*/0,
                  T2C_LOWERING_PASSTHROUGH),
};

/// This file's lowerings, then layout_lowerings.cpp's.
constexpr auto kAllLowerings = ConcatLowerings(kLowerings, layout::kLowerings);

constexpr t2c_plugin_info kInfo = {
    T2C_ABI_VERSION, sizeof(t2c_plugin_info), "ts2coreml.shape",
    "0.2.0",         kAllLowerings.data(),    static_cast<uint32_t>(kAllLowerings.size())};

}  // namespace

const t2c_plugin_info* ShapePluginInfo() { return &kInfo; }

}  // namespace ts2coreml::plugins
