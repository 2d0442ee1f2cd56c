/// _weight_norm and _weight_norm_interface (see weight_norm_lowerings.h).
#include "norm/weight_norm_lowerings.h"

#include <string>
#include <vector>

#include "common/lowering_util.h"
#include "common/mil_emit.h"

namespace ts2coreml::plugins::weight_norm {
namespace {

constexpr uint32_t kV = sdk::InputIndex(kWeightNormInputs, "v");
constexpr uint32_t kG = sdk::InputIndex(kWeightNormInputs, "g");
constexpr uint32_t kDim = sdk::InputIndex(kWeightNormInputs, "dim");

/// How a node normalises: the axes the norm runs over, and whether g is read per index of `dim`
/// (ATen's fused kernel, dim 0 or the last dim) rather than broadcast.
struct Plan {
  Shape axes;
  Shape norm_shape;  ///< the norm with kept dims
  bool fused = false;
  TensorType v, g;
  Shape out;
};

bool IsInterface(const NodeView& ctx) {
  return ctx.kind().find("_weight_norm_interface") != std::string::npos;
}

Expected<Plan> ReadPlan(const NodeView& ctx) {
  const std::string op = ctx.kind();
  Plan p;
  TS2COREML_ASSIGN_OR_RETURN(p.v, ctx.InputType(kV));
  TS2COREML_ASSIGN_OR_RETURN(p.g, ctx.InputType(kG));
  TS2COREML_ASSIGN_OR_RETURN(int64_t dim, ctx.Int(kDim));
  const int64_t rank = p.v.rank();
  p.fused = rank > 0 && (dim == 0 || dim == rank - 1);
  if (IsInterface(ctx) && !p.fused) {
    return ctx.Error(op + ": dim " + std::to_string(dim) + " of a rank-" + std::to_string(rank) +
                     " v is not supported by PyTorch's kernel (only 0 and " +
                     std::to_string(rank - 1) + "); call torch._weight_norm instead");
  }
  if (dim < -rank || dim >= rank) {
    return ctx.Error(op + ": dim " + std::to_string(dim) + " is out of range for rank " +
                     std::to_string(rank));
  }
  // norm_except_dim: -1 is the norm of the whole tensor; other negative dims wrap.
  const int64_t keep = dim == -1 ? -1 : (dim < 0 ? dim + rank : dim);
  for (int64_t i = 0; i < rank; ++i) {
    if (i != keep) p.axes.push_back(i);
    p.norm_shape.push_back(i == keep ? p.v.shape[static_cast<size_t>(i)] : 1);
  }
  if (p.fused && p.g.numel() != p.v.shape[static_cast<size_t>(keep)]) {
    return ctx.Error(op + ": g " + FormatInts(p.g.shape) +
                     " must hold one value per index of dim " + std::to_string(dim) + " of v " +
                     FormatInts(p.v.shape));
  }
  if (p.fused) {
    p.out = p.v.shape;
  } else if (!sdk::BroadcastShapes(p.g.shape, p.norm_shape, &p.out) ||
             !sdk::BroadcastShapes(p.v.shape, Shape(p.out), &p.out)) {
    return ctx.Error(op + ": g " + FormatInts(p.g.shape) + " does not broadcast with v " +
                     FormatInts(p.v.shape) + " normalised over every dim but " +
                     std::to_string(dim));
  }
  return p;
}

}  // namespace

sdk::Status InferWeightNorm(sdk::InferContext& ctx) {
  TS2COREML_ASSIGN_OR_RETURN(Plan p, ReadPlan(ctx));
  TS2COREML_RETURN_IF_ERROR(ctx.SetOutputType(0, TensorType(p.v.dtype, p.out)));
  if (!IsInterface(ctx)) return sdk::Status::Ok();
  // The norm comes back in g's shape.
  return ctx.SetOutputType(1, TensorType(p.v.dtype, p.g.shape));
}

sdk::Status LowerWeightNorm(sdk::LowerContext& ctx) {
  TS2COREML_ASSIGN_OR_RETURN(Plan p, ReadPlan(ctx));
  TS2COREML_ASSIGN_OR_RETURN(Var v, ctx.Input(kV));
  TS2COREML_ASSIGN_OR_RETURN(Var g, ctx.Input(kG));
  Var norm = v;
  if (!p.axes.empty()) {
    TS2COREML_ASSIGN_OR_RETURN(norm, EmitReduce(ctx, "reduce_l2_norm", v, p.axes, true));
  } else {
    TS2COREML_ASSIGN_OR_RETURN(norm,
                               ctx.Emit1("abs", {{"x", v}}, TensorType(p.v.dtype, p.v.shape)));
  }
  if (p.fused && p.g.shape != p.norm_shape) {
    TS2COREML_ASSIGN_OR_RETURN(g, EmitReshape(ctx, g, p.norm_shape));
  }
  TS2COREML_ASSIGN_OR_RETURN(Var scale, EmitBinary(ctx, "real_div", g, norm));
  TS2COREML_ASSIGN_OR_RETURN(TensorType out, ctx.OutputType(0));
  TS2COREML_ASSIGN_OR_RETURN(Var w, ctx.Emit1("mul", {{"x", v}, {"y", scale}}, out));
  TS2COREML_RETURN_IF_ERROR(ctx.SetOutput(0, w));
  if (!IsInterface(ctx)) return sdk::Status::Ok();
  if (p.g.shape == p.norm_shape) return ctx.SetOutput(1, norm);
  TS2COREML_ASSIGN_OR_RETURN(Var flat, EmitReshape(ctx, norm, p.g.shape));
  return ctx.SetOutput(1, flat);
}

}  // namespace ts2coreml::plugins::weight_norm
