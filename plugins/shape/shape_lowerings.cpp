/// Built-in lowerings of shape ops. Output shapes are resolved in infer (-1 in view/reshape,
/// flatten ranges), so lower emits constant shapes and permutations. Also the identity ops
/// (dropout, contiguous, detach, clone) that the core removes through T2C_LOWERING_PASSTHROUGH.
#include "shape/shape_lowerings.h"

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

/// Output 0 is input 0 with `shape`, in input 0's dtype class.
Status SetReshaped(InferContext& ctx, const std::vector<int64_t>& shape) {
  TS2COREML_ASSIGN_OR_RETURN(TensorType x, ctx.InputType(0));
  return ctx.SetOutputType(0, TensorType(x.dtype, shape));
}

/// Lowers any op whose output is a reshape of input 0 to the planned output shape.
Status LowerAsReshape(LowerContext& ctx) {
  TS2COREML_ASSIGN_OR_RETURN(TensorType out, ctx.OutputType(0));
  TS2COREML_ASSIGN_OR_RETURN(Var x, ctx.Input(0));
  TS2COREML_ASSIGN_OR_RETURN(Var shape, ctx.ConstInts(out.shape));
  return ctx.EmitOutput("reshape", {{"x", x}, {"shape", shape}});
}

/// flatten.using_ints(self, start_dim, end_dim).
Status InferFlatten(InferContext& ctx) {
  TS2COREML_ASSIGN_OR_RETURN(TensorType x, ctx.InputType(0));
  if (x.rank() == 0) return SetReshaped(ctx, {1});
  TS2COREML_ASSIGN_OR_RETURN(int64_t start, ReadAxis(ctx, 1, x.rank(), "flatten"));
  TS2COREML_ASSIGN_OR_RETURN(int64_t end, ReadAxis(ctx, 2, x.rank(), "flatten"));
  if (start > end) {
    return ctx.Error("flatten: start_dim " + std::to_string(start) + " is after end_dim " +
                     std::to_string(end));
  }
  std::vector<int64_t> shape(x.shape.begin(), x.shape.begin() + start);
  int64_t n = 1;
  for (int64_t i = start; i <= end; ++i) n *= x.shape[i];
  shape.push_back(n);
  shape.insert(shape.end(), x.shape.begin() + end + 1, x.shape.end());
  return SetReshaped(ctx, shape);
}

/// reshape(self, shape) / view(self, size), with at most one -1.
Status InferReshape(InferContext& ctx) {
  TS2COREML_ASSIGN_OR_RETURN(TensorType x, ctx.InputType(0));
  TS2COREML_ASSIGN_OR_RETURN(std::vector<int64_t> shape, ctx.Ints(1));
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
  return SetReshaped(ctx, shape);
}

/// The permutation of permute(self, dims) or transpose.int(self, dim0, dim1).
Expected<std::vector<int64_t>> ReadPerm(const NodeView& ctx, int64_t rank) {
  const std::string op = ctx.kind();
  std::vector<int64_t> perm;
  if (op.rfind("aten::permute", 0) == 0) {
    TS2COREML_ASSIGN_OR_RETURN(std::vector<int64_t> dims, ctx.Ints(1));
    if (static_cast<int64_t>(dims.size()) != rank) {
      return ctx.Error("permute: dims " + FormatInts(dims) + " do not match rank " +
                       std::to_string(rank));
    }
    std::vector<bool> seen(rank, false);
    for (int64_t d : dims) {
      int64_t a = sdk::NormalizeAxis(d, rank);
      if (a < 0 || seen[a]) return ctx.Error("permute: dims " + FormatInts(dims) + " invalid");
      seen[a] = true;
      perm.push_back(a);
    }
    return perm;
  }
  for (int64_t i = 0; i < rank; ++i) perm.push_back(i);
  if (rank == 0) return perm;
  TS2COREML_ASSIGN_OR_RETURN(int64_t a, ReadAxis(ctx, 1, rank, "transpose"));
  TS2COREML_ASSIGN_OR_RETURN(int64_t b, ReadAxis(ctx, 2, rank, "transpose"));
  std::swap(perm[a], perm[b]);
  return perm;
}

Status InferPermute(InferContext& ctx) {
  TS2COREML_ASSIGN_OR_RETURN(TensorType x, ctx.InputType(0));
  TS2COREML_ASSIGN_OR_RETURN(std::vector<int64_t> perm, ReadPerm(ctx, x.rank()));
  std::vector<int64_t> shape;
  for (int64_t p : perm) shape.push_back(x.shape[p]);
  return SetReshaped(ctx, shape);
}

Status LowerPermute(LowerContext& ctx) {
  TS2COREML_ASSIGN_OR_RETURN(TensorType out, ctx.OutputType(0));
  TS2COREML_ASSIGN_OR_RETURN(std::vector<int64_t> perm, ReadPerm(ctx, out.rank()));
  TS2COREML_ASSIGN_OR_RETURN(Var x, ctx.Input(0));
  if (out.rank() == 0) return ctx.EmitOutput("identity", {{"x", x}});
  TS2COREML_ASSIGN_OR_RETURN(Var perm_var, ctx.ConstInts(perm));
  return ctx.EmitOutput("transpose", {{"x", x}, {"perm", perm_var}});
}

/// unsqueeze(self, dim): dim is normalized against rank + 1.
Expected<int64_t> UnsqueezeAxis(const NodeView& ctx, int64_t rank) {
  TS2COREML_ASSIGN_OR_RETURN(int64_t dim, ctx.Int(1));
  int64_t a = sdk::NormalizeAxis(dim, rank + 1);
  if (a < 0) {
    return ctx.Error("unsqueeze: dim " + std::to_string(dim) + " is out of range for rank " +
                     std::to_string(rank));
  }
  return a;
}

Status InferUnsqueeze(InferContext& ctx) {
  TS2COREML_ASSIGN_OR_RETURN(TensorType x, ctx.InputType(0));
  TS2COREML_ASSIGN_OR_RETURN(int64_t a, UnsqueezeAxis(ctx, x.rank()));
  x.shape.insert(x.shape.begin() + a, 1);
  return SetReshaped(ctx, x.shape);
}

Status LowerUnsqueeze(LowerContext& ctx) {
  TS2COREML_ASSIGN_OR_RETURN(TensorType out, ctx.OutputType(0));
  TS2COREML_ASSIGN_OR_RETURN(int64_t a, UnsqueezeAxis(ctx, out.rank() - 1));
  TS2COREML_ASSIGN_OR_RETURN(Var x, ctx.Input(0));
  TS2COREML_ASSIGN_OR_RETURN(Var axes, ctx.ConstInts({a}));
  return ctx.EmitOutput("expand_dims", {{"x", x}, {"axes", axes}});
}

/// The axes squeeze removes: every size-1 dim (squeeze) or `dim` when its size is 1 (squeeze.dim).
Expected<std::vector<int64_t>> SqueezeAxes(const NodeView& ctx, const TensorType& x) {
  std::vector<int64_t> axes;
  if (ctx.num_inputs() > 1 && !ctx.IsNone(1)) {
    if (x.rank() == 0) return axes;
    TS2COREML_ASSIGN_OR_RETURN(int64_t a, ReadAxis(ctx, 1, x.rank(), "squeeze"));
    if (x.shape[a] == 1) axes.push_back(a);
    return axes;
  }
  for (int64_t i = 0; i < x.rank(); ++i) {
    if (x.shape[i] == 1) axes.push_back(i);
  }
  return axes;
}

Status InferSqueeze(InferContext& ctx) {
  TS2COREML_ASSIGN_OR_RETURN(TensorType x, ctx.InputType(0));
  TS2COREML_ASSIGN_OR_RETURN(std::vector<int64_t> axes, SqueezeAxes(ctx, x));
  std::vector<int64_t> shape;
  for (int64_t i = 0, k = 0; i < x.rank(); ++i) {
    if (k < static_cast<int64_t>(axes.size()) && axes[k] == i) {
      ++k;
    } else {
      shape.push_back(x.shape[i]);
    }
  }
  return SetReshaped(ctx, shape);
}

Status LowerSqueeze(LowerContext& ctx) {
  TS2COREML_ASSIGN_OR_RETURN(Var x, ctx.Input(0));
  TS2COREML_ASSIGN_OR_RETURN(TensorType xt, ctx.TypeOf(x));
  TS2COREML_ASSIGN_OR_RETURN(std::vector<int64_t> axes, SqueezeAxes(ctx, xt));
  if (axes.empty()) return ctx.EmitOutput("identity", {{"x", x}});
  TS2COREML_ASSIGN_OR_RETURN(Var axes_var, ctx.ConstInts(axes));
  return ctx.EmitOutput("squeeze", {{"x", x}, {"axes", axes_var}});
}

/// cat(tensors, dim): shapes agree except along dim; float when any element is float.
Status InferCat(InferContext& ctx) {
  TS2COREML_ASSIGN_OR_RETURN(uint32_t n, ctx.ListSize(0));
  if (n == 0) return ctx.Error("cat: the tensor list is empty");
  TS2COREML_ASSIGN_OR_RETURN(TensorType first, ctx.ListType(0, 0));
  if (first.rank() == 0) return ctx.Error("cat: zero-dimensional tensors cannot be concatenated");
  TS2COREML_ASSIGN_OR_RETURN(int64_t axis, ReadAxis(ctx, 1, first.rank(), "cat"));
  TensorType out = first;
  for (uint32_t k = 1; k < n; ++k) {
    TS2COREML_ASSIGN_OR_RETURN(TensorType t, ctx.ListType(0, k));
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
  TS2COREML_ASSIGN_OR_RETURN(int64_t axis, ReadAxis(ctx, 1, out.rank(), "cat"));
  TS2COREML_ASSIGN_OR_RETURN(std::vector<Var> values, ctx.InputList(0));
  if (values.size() == 1) return ctx.EmitOutput("identity", {{"x", values[0]}});
  TS2COREML_ASSIGN_OR_RETURN(Var axis_var, ctx.ConstInt(axis));
  TS2COREML_ASSIGN_OR_RETURN(Var interleave, ctx.ConstBool(false));
  return ctx.EmitOutput("concat",
                        {{"values", values}, {"axis", axis_var}, {"interleave", interleave}});
}

constexpr t2c_dtype_mask kAny = T2C_MASK_ANY;

constexpr const char* kFlattenOps[] = {"aten::flatten.using_ints"};
constexpr t2c_input_decl kFlattenInputs[] = {sdk::Tensor("self", kAny), sdk::Host("start_dim"),
                                             sdk::Host("end_dim")};
constexpr const char* kReshapeOps[] = {"aten::reshape", "aten::view"};
constexpr t2c_input_decl kReshapeInputs[] = {sdk::Tensor("self", kAny), sdk::Host("shape")};
constexpr const char* kPermuteOps[] = {"aten::permute"};
constexpr t2c_input_decl kPermuteInputs[] = {sdk::Tensor("self", kAny), sdk::Host("dims")};
constexpr const char* kTransposeOps[] = {"aten::transpose.int", "aten::swapaxes", "aten::swapdims"};
constexpr t2c_input_decl kTransposeInputs[] = {sdk::Tensor("self", kAny), sdk::Host("dim0"),
                                               sdk::Host("dim1")};
constexpr const char* kUnsqueezeOps[] = {"aten::unsqueeze"};
constexpr t2c_input_decl kUnsqueezeInputs[] = {sdk::Tensor("self", kAny), sdk::Host("dim")};
constexpr const char* kSqueezeOps[] = {"aten::squeeze", "aten::squeeze.dim"};
constexpr t2c_input_decl kSqueezeInputs[] = {sdk::Tensor("self", kAny),
                                             sdk::Host("dim", T2C_INPUT_OPTIONAL)};
constexpr const char* kCatOps[] = {"aten::cat"};
constexpr t2c_input_decl kCatInputs[] = {sdk::TensorList("tensors", kAny), sdk::Host("dim")};
// Identities in inference; the core removes them while canonicalizing.
constexpr const char* kIdentityOps[] = {"aten::dropout",       "aten::feature_dropout",
                                        "aten::alpha_dropout", "aten::feature_alpha_dropout",
                                        "aten::contiguous",    "aten::detach",
                                        "aten::clone"};
constexpr t2c_input_decl kIdentityInputs[] = {
    sdk::Tensor("input", kAny), sdk::Ignored("p_or_memory_format"), sdk::Ignored("train")};

constexpr t2c_lowering_decl kLowerings[] = {
    sdk::Lowering("flatten", kFlattenOps, kFlattenInputs, T2C_FP16_NATIVE, T2C_INFER_CUSTOM,
                  sdk::InferFn<InferFlatten>, sdk::LowerFn<LowerAsReshape>),
    sdk::Lowering("reshape", kReshapeOps, kReshapeInputs, T2C_FP16_NATIVE, T2C_INFER_CUSTOM,
                  sdk::InferFn<InferReshape>, sdk::LowerFn<LowerAsReshape>),
    sdk::Lowering("permute", kPermuteOps, kPermuteInputs, T2C_FP16_NATIVE, T2C_INFER_CUSTOM,
                  sdk::InferFn<InferPermute>, sdk::LowerFn<LowerPermute>),
    sdk::Lowering("transpose", kTransposeOps, kTransposeInputs, T2C_FP16_NATIVE, T2C_INFER_CUSTOM,
                  sdk::InferFn<InferPermute>, sdk::LowerFn<LowerPermute>),
    sdk::Lowering("unsqueeze", kUnsqueezeOps, kUnsqueezeInputs, T2C_FP16_NATIVE, T2C_INFER_CUSTOM,
                  sdk::InferFn<InferUnsqueeze>, sdk::LowerFn<LowerUnsqueeze>),
    sdk::Lowering("squeeze", kSqueezeOps, kSqueezeInputs, T2C_FP16_NATIVE, T2C_INFER_CUSTOM,
                  sdk::InferFn<InferSqueeze>, sdk::LowerFn<LowerSqueeze>),
    sdk::Lowering("cat", kCatOps, kCatInputs, T2C_FP16_NATIVE, T2C_INFER_CUSTOM,
                  sdk::InferFn<InferCat>, sdk::LowerFn<LowerCat>),
    sdk::Lowering("identity", kIdentityOps, kIdentityInputs, T2C_FP16_NATIVE,
                  T2C_INFER_SAME_AS_INPUT0, nullptr, nullptr, /*priority=*/0,
                  T2C_LOWERING_PASSTHROUGH),
};

constexpr t2c_plugin_info kInfo = sdk::PluginInfo("ts2coreml.shape", "0.1.0", kLowerings);

}  // namespace

const t2c_plugin_info* ShapePluginInfo() { return &kInfo; }

}  // namespace ts2coreml::plugins
