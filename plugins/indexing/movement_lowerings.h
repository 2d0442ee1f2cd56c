/// Lowerings of data-movement and index ops added to the indexing plugin: flip, stack,
/// hstack/vstack, pixel_shuffle/pixel_unshuffle, index_select, gather, take_along_dim,
/// repeat_interleave (int repeats), meshgrid, tril/triu and one_hot. Every index a lowering can
/// resolve on the host is; index tensors are read at run time through gather ops.
///
/// The declarations are constant data in this header so that the indexing plugin's table
/// (indexing_lowerings.cpp) appends them at compile time (ConcatLowerings, lowering_table.h).
#ifndef TS2COREML_PLUGINS_INDEXING_MOVEMENT_LOWERINGS_H_
#define TS2COREML_PLUGINS_INDEXING_MOVEMENT_LOWERINGS_H_

#include "ts2coreml/plugin_abi.h"
#include "ts2coreml/sdk.h"

namespace ts2coreml::plugins::movement {

sdk::Status InferFlip(sdk::InferContext& ctx);
sdk::Status LowerFlip(sdk::LowerContext& ctx);
sdk::Status InferStack(sdk::InferContext& ctx);
sdk::Status LowerStack(sdk::LowerContext& ctx);
sdk::Status InferPixelShuffle(sdk::InferContext& ctx);
sdk::Status LowerPixelShuffle(sdk::LowerContext& ctx);
sdk::Status InferIndexSelect(sdk::InferContext& ctx);
sdk::Status LowerIndexSelect(sdk::LowerContext& ctx);
sdk::Status InferGather(sdk::InferContext& ctx);
sdk::Status LowerGather(sdk::LowerContext& ctx);
sdk::Status InferTakeAlongDim(sdk::InferContext& ctx);
sdk::Status LowerTakeAlongDim(sdk::LowerContext& ctx);
sdk::Status InferRepeatInterleave(sdk::InferContext& ctx);
sdk::Status LowerRepeatInterleave(sdk::LowerContext& ctx);
sdk::Status InferMeshgrid(sdk::InferContext& ctx);
sdk::Status LowerMeshgrid(sdk::LowerContext& ctx);
sdk::Status InferTriangle(sdk::InferContext& ctx);
sdk::Status LowerTriangle(sdk::LowerContext& ctx);
sdk::Status InferOneHot(sdk::InferContext& ctx);
sdk::Status LowerOneHot(sdk::LowerContext& ctx);

inline constexpr t2c_dtype_mask kAny = T2C_MASK_ANY;
inline constexpr t2c_dtype_mask kGatherable = T2C_MASK_FLOAT_INT;
inline constexpr t2c_dtype_mask kIndex = T2C_DTYPE_BIT(T2C_DTYPE_INT32);

/// flip(self, dims); fliplr and flipud have no dims.
inline constexpr t2c_input_decl kFlipInputs[] = {sdk::Tensor("self", kAny),
                                                 sdk::Host("dims", T2C_INPUT_OPTIONAL)};
/// stack, hstack, vstack, dstack, column_stack share (tensors, dim?).
inline constexpr t2c_input_decl kStackInputs[] = {sdk::TensorList("tensors", kAny),
                                                  sdk::Host("dim", T2C_INPUT_OPTIONAL)};
inline constexpr t2c_input_decl kPixelShuffleInputs[] = {sdk::Tensor("self", kAny),
                                                         sdk::Host("factor")};
inline constexpr t2c_input_decl kIndexSelectInputs[] = {
    sdk::Tensor("self", kGatherable), sdk::Host("dim"), sdk::Tensor("index", kIndex)};
inline constexpr t2c_input_decl kGatherInputs[] = {sdk::Tensor("self", kGatherable),
                                                   sdk::Host("dim"), sdk::Tensor("index", kIndex),
                                                   sdk::Ignored("sparse_grad")};
inline constexpr t2c_input_decl kTakeAlongDimInputs[] = {sdk::Tensor("self", kGatherable),
                                                         sdk::Tensor("indices", kIndex),
                                                         sdk::Host("dim", T2C_INPUT_OPTIONAL)};
inline constexpr t2c_input_decl kRepeatInterleaveInputs[] = {
    sdk::Tensor("self", kAny), sdk::Host("repeats"), sdk::Host("dim", T2C_INPUT_OPTIONAL),
    sdk::Ignored("output_size")};
inline constexpr t2c_input_decl kMeshgridInputs[] = {sdk::TensorList("tensors", kAny),
                                                     sdk::Host("indexing", T2C_INPUT_OPTIONAL)};
inline constexpr t2c_input_decl kTriangleInputs[] = {sdk::Tensor("self", kAny),
                                                     sdk::Host("diagonal")};
inline constexpr t2c_input_decl kOneHotInputs[] = {sdk::Tensor("self", kIndex),
                                                   sdk::Host("num_classes")};

inline constexpr const char* kFlipOps[] = {"aten::flip", "aten::fliplr", "aten::flipud"};
inline constexpr const char* kStackOps[] = {"aten::stack",     "aten::hstack",
                                            "aten::vstack",    "aten::dstack",
                                            "aten::row_stack", "aten::column_stack"};
inline constexpr const char* kPixelShuffleOps[] = {"aten::pixel_shuffle", "aten::pixel_unshuffle"};
inline constexpr const char* kIndexSelectOps[] = {"aten::index_select"};
inline constexpr const char* kGatherOps[] = {"aten::gather"};
inline constexpr const char* kTakeAlongDimOps[] = {"aten::take_along_dim"};
inline constexpr const char* kRepeatInterleaveOps[] = {"aten::repeat_interleave.self_int"};
inline constexpr const char* kMeshgridOps[] = {"aten::meshgrid", "aten::meshgrid.indexing"};
inline constexpr const char* kTriangleOps[] = {"aten::tril", "aten::triu"};
inline constexpr const char* kOneHotOps[] = {"aten::one_hot"};

inline constexpr t2c_lowering_decl kLowerings[] = {
    sdk::Lowering("flip", kFlipOps, kFlipInputs, T2C_FP16_NATIVE, T2C_INFER_CUSTOM,
                  sdk::InferFn<InferFlip>, sdk::LowerFn<LowerFlip>),
    sdk::Lowering("stack", kStackOps, kStackInputs, T2C_FP16_NATIVE, T2C_INFER_CUSTOM,
                  sdk::InferFn<InferStack>, sdk::LowerFn<LowerStack>),
    sdk::Lowering("pixel_shuffle", kPixelShuffleOps, kPixelShuffleInputs, T2C_FP16_NATIVE,
                  T2C_INFER_CUSTOM, sdk::InferFn<InferPixelShuffle>,
                  sdk::LowerFn<LowerPixelShuffle>),
    sdk::Lowering("index_select", kIndexSelectOps, kIndexSelectInputs, T2C_FP16_NATIVE,
                  T2C_INFER_CUSTOM, sdk::InferFn<InferIndexSelect>, sdk::LowerFn<LowerIndexSelect>),
    sdk::Lowering("gather", kGatherOps, kGatherInputs, T2C_FP16_NATIVE, T2C_INFER_CUSTOM,
                  sdk::InferFn<InferGather>, sdk::LowerFn<LowerGather>),
    sdk::Lowering("take_along_dim", kTakeAlongDimOps, kTakeAlongDimInputs, T2C_FP16_NATIVE,
                  T2C_INFER_CUSTOM, sdk::InferFn<InferTakeAlongDim>,
                  sdk::LowerFn<LowerTakeAlongDim>),
    sdk::Lowering("repeat_interleave", kRepeatInterleaveOps, kRepeatInterleaveInputs,
                  T2C_FP16_NATIVE, T2C_INFER_CUSTOM, sdk::InferFn<InferRepeatInterleave>,
                  sdk::LowerFn<LowerRepeatInterleave>),
    sdk::Lowering("meshgrid", kMeshgridOps, kMeshgridInputs, T2C_FP16_NATIVE, T2C_INFER_CUSTOM,
                  sdk::InferFn<InferMeshgrid>, sdk::LowerFn<LowerMeshgrid>),
    sdk::Lowering("tril_triu", kTriangleOps, kTriangleInputs, T2C_FP16_NATIVE, T2C_INFER_CUSTOM,
                  sdk::InferFn<InferTriangle>, sdk::LowerFn<LowerTriangle>),
    sdk::Lowering("one_hot", kOneHotOps, kOneHotInputs, T2C_FP16_NATIVE, T2C_INFER_CUSTOM,
                  sdk::InferFn<InferOneHot>, sdk::LowerFn<LowerOneHot>),
};

}  // namespace ts2coreml::plugins::movement

#endif  // TS2COREML_PLUGINS_INDEXING_MOVEMENT_LOWERINGS_H_
