/// broadcast_tensors(tensors): every tensor expanded (reshape + tile) to the broadcast shape of
/// all of them, each in its own dtype. indexing_lowerings.cpp lists kBroadcastTensorsLowering.
#ifndef TS2COREML_PLUGINS_INDEXING_BROADCAST_TENSORS_LOWERING_H_
#define TS2COREML_PLUGINS_INDEXING_BROADCAST_TENSORS_LOWERING_H_

#include "ts2coreml/sdk.h"

namespace ts2coreml::plugins {

sdk::Status InferBroadcastTensors(sdk::InferContext& ctx);
sdk::Status LowerBroadcastTensors(sdk::LowerContext& ctx);

inline constexpr t2c_input_decl kBroadcastTensorsInputs[] = {
    sdk::TensorList("tensors", T2C_MASK_ANY)};
inline constexpr const char* kBroadcastTensorsOps[] = {"aten::broadcast_tensors"};
inline constexpr t2c_lowering_decl kBroadcastTensorsLowering = sdk::Lowering(
    "broadcast_tensors", kBroadcastTensorsOps, kBroadcastTensorsInputs, T2C_FP16_NATIVE,
    T2C_INFER_CUSTOM, sdk::InferFn<InferBroadcastTensors>, sdk::LowerFn<LowerBroadcastTensors>);

}  // namespace ts2coreml::plugins

#endif  // TS2COREML_PLUGINS_INDEXING_BROADCAST_TENSORS_LOWERING_H_
