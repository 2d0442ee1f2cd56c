/// broadcast_tensors: the broadcast shape is resolved on the host; a tensor already of that shape
/// passes through, the others are reshaped to its rank (leading 1s) and tiled.
#include "indexing/broadcast_tensors_lowering.h"

#include <string>
#include <vector>

#include "common/lowering_util.h"
#include "common/mil_emit.h"
#include "ts2coreml/broadcast.h"

namespace ts2coreml::plugins {
namespace {

constexpr uint32_t kTensors = sdk::InputIndex(kBroadcastTensorsInputs, "tensors");

/// Every element's type and the shape they all broadcast to.
Expected<Shape> CommonShape(const NodeView& ctx, std::vector<TensorType>* types) {
  TS2COREML_ASSIGN_OR_RETURN(uint32_t n, ctx.ListSize(kTensors));
  Shape shape;
  for (uint32_t k = 0; k < n; ++k) {
    TS2COREML_ASSIGN_OR_RETURN(TensorType t, ctx.ListType(kTensors, k));
    Shape next;
    if (!sdk::BroadcastShapes(shape, t.shape, &next)) {
      return ctx.InvalidInputs("aten::broadcast_tensors: shape " + FormatInts(t.shape) +
                               " does not broadcast with " + FormatInts(shape));
    }
    shape = next;
    if (!types->empty() && t.dtype != types->front().dtype) {
      return ctx.Error(
          "aten::broadcast_tensors: tensors of different dtypes are not supported (the core "
          "converts a list to one dtype); expand each tensor instead");
    }
    types->push_back(t);
  }
  return shape;
}

}  // namespace

sdk::Status InferBroadcastTensors(sdk::InferContext& ctx) {
  std::vector<TensorType> types;
  TS2COREML_ASSIGN_OR_RETURN(Shape shape, CommonShape(ctx, &types));
  for (TensorType& t : types) t.shape = shape;
  return ctx.SetOutputListTypes(0, types);
}

sdk::Status LowerBroadcastTensors(sdk::LowerContext& ctx) {
  std::vector<TensorType> types;
  TS2COREML_ASSIGN_OR_RETURN(Shape shape, CommonShape(ctx, &types));
  TS2COREML_ASSIGN_OR_RETURN(std::vector<Var> xs, ctx.InputList(kTensors));
  std::vector<Var> out;
  for (size_t k = 0; k < xs.size(); ++k) {
    TS2COREML_ASSIGN_OR_RETURN(Var x, EmitBroadcastTo(ctx, xs[k], shape));
    out.push_back(x);
  }
  return ctx.SetOutputList(0, out);
}

}  // namespace ts2coreml::plugins
