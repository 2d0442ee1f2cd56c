/// Layout lowerings added to the shape plugin: t, movedim/moveaxis, unflatten, atleast_1d/2d/3d,
/// view_as/reshape_as, channel_shuffle, tile, rot90, Tensor.unfold (sliding windows), diagonal,
/// diag, diag_embed, take, tensor_split/hsplit/vsplit/dsplit, select_scatter and slice_scatter.
/// Every index is resolved on the host: the MIL is reshape, transpose, reverse, tile, slices and
/// gathers of constant indices (take reads its index at run time).
#ifndef TS2COREML_PLUGINS_SHAPE_LAYOUT_LOWERINGS_H_
#define TS2COREML_PLUGINS_SHAPE_LAYOUT_LOWERINGS_H_

#include "ts2coreml/plugin_abi.h"
#include "ts2coreml/sdk.h"

namespace ts2coreml::plugins::layout {

#define T2C_LAYOUT_LOWERING(Name)                  \
  sdk::Status Infer##Name(sdk::InferContext& ctx); \
  sdk::Status Lower##Name(sdk::LowerContext& ctx);
T2C_LAYOUT_LOWERING(T)
T2C_LAYOUT_LOWERING(Movedim)
T2C_LAYOUT_LOWERING(Unflatten)
T2C_LAYOUT_LOWERING(AtLeast)
T2C_LAYOUT_LOWERING(AtLeastList)
T2C_LAYOUT_LOWERING(ReshapeAs)
T2C_LAYOUT_LOWERING(ChannelShuffle)
T2C_LAYOUT_LOWERING(Tile)
T2C_LAYOUT_LOWERING(Rot90)
T2C_LAYOUT_LOWERING(Unfold)
T2C_LAYOUT_LOWERING(Diagonal)
T2C_LAYOUT_LOWERING(Diag)
T2C_LAYOUT_LOWERING(DiagEmbed)
T2C_LAYOUT_LOWERING(Take)
T2C_LAYOUT_LOWERING(TensorSplit)
T2C_LAYOUT_LOWERING(SliceScatter)
#undef T2C_LAYOUT_LOWERING

inline constexpr t2c_dtype_mask kAny = T2C_MASK_ANY;
inline constexpr t2c_dtype_mask kGatherable = T2C_MASK_FLOAT_INT;

inline constexpr t2c_input_decl kSelfInputs[] = {sdk::Tensor("self", kAny)};
inline constexpr t2c_input_decl kTensorsInputs[] = {sdk::TensorList("tensors", kAny)};
inline constexpr t2c_input_decl kMovedimInputs[] = {sdk::Tensor("self", kAny), sdk::Host("source"),
                                                    sdk::Host("destination")};
inline constexpr t2c_input_decl kUnflattenInputs[] = {sdk::Tensor("self", kAny), sdk::Host("dim"),
                                                      sdk::Host("sizes")};
inline constexpr t2c_input_decl kReshapeAsInputs[] = {sdk::Tensor("self", kAny),
                                                      sdk::Tensor("other", kAny)};
inline constexpr t2c_input_decl kChannelShuffleInputs[] = {sdk::Tensor("self", kAny),
                                                           sdk::Host("groups")};
inline constexpr t2c_input_decl kTileInputs[] = {sdk::Tensor("self", kAny), sdk::Host("dims")};
inline constexpr t2c_input_decl kRot90Inputs[] = {sdk::Tensor("self", kAny), sdk::Host("k"),
                                                  sdk::Host("dims")};
inline constexpr t2c_input_decl kUnfoldInputs[] = {
    sdk::Tensor("self", kGatherable), sdk::Host("dimension"), sdk::Host("size"), sdk::Host("step")};
/// diagonal(self, offset, dim1, dim2) and diag_embed(self, offset, dim1, dim2).
inline constexpr t2c_input_decl kDiagonalInputs[] = {
    sdk::Tensor("self", kGatherable), sdk::Host("offset"), sdk::Host("dim1"), sdk::Host("dim2")};
inline constexpr t2c_input_decl kDiagInputs[] = {sdk::Tensor("self", kGatherable),
                                                 sdk::Host("diagonal")};
inline constexpr t2c_input_decl kTakeInputs[] = {
    sdk::Tensor("self", kGatherable), sdk::Tensor("index", T2C_DTYPE_BIT(T2C_DTYPE_INT32))};
/// tensor_split.sections/.indices (self, sections or indices, dim); hsplit/vsplit/dsplit .int and
/// .array (self, sections or indices).
inline constexpr t2c_input_decl kTensorSplitInputs[] = {sdk::Tensor("self", kAny),
                                                        sdk::Host("sections_or_indices"),
                                                        sdk::Host("dim", T2C_INPUT_OPTIONAL)};
/// slice_scatter(self, src, dim, start?, end?, step); select_scatter(self, src, dim, index).
inline constexpr t2c_input_decl kSliceScatterInputs[] = {
    sdk::Tensor("self", kGatherable),
    sdk::Tensor("src", kGatherable),
    sdk::Host("dim"),
    sdk::Host("start_or_index", T2C_INPUT_OPTIONAL),
    sdk::Host("end", T2C_INPUT_OPTIONAL),
    sdk::Host("step", T2C_INPUT_OPTIONAL)};

inline constexpr const char* kTOps[] = {"aten::t"};
inline constexpr const char* kMovedimOps[] = {"aten::movedim.int", "aten::movedim.intlist",
                                              "aten::moveaxis.int", "aten::moveaxis.intlist"};
inline constexpr const char* kUnflattenOps[] = {"aten::unflatten.int"};
inline constexpr const char* kAtLeastOps[] = {"aten::atleast_1d", "aten::atleast_2d",
                                              "aten::atleast_3d"};
/// The tensor-list overloads (an exact overload claim wins over kAtLeastOps' bare names).
inline constexpr const char* kAtLeastListOps[] = {
    "aten::atleast_1d.Sequence", "aten::atleast_2d.Sequence", "aten::atleast_3d.Sequence"};
inline constexpr const char* kReshapeAsOps[] = {"aten::view_as", "aten::reshape_as"};
inline constexpr const char* kChannelShuffleOps[] = {"aten::channel_shuffle",
                                                     "aten::native_channel_shuffle"};
inline constexpr const char* kTileOps[] = {"aten::tile"};
inline constexpr const char* kRot90Ops[] = {"aten::rot90"};
inline constexpr const char* kUnfoldOps[] = {"aten::unfold"};
inline constexpr const char* kDiagonalOps[] = {"aten::diagonal", "aten::diagonal_copy"};
inline constexpr const char* kDiagOps[] = {"aten::diag"};
inline constexpr const char* kDiagEmbedOps[] = {"aten::diag_embed"};
inline constexpr const char* kTakeOps[] = {"aten::take"};
inline constexpr const char* kTensorSplitOps[] = {"aten::tensor_split.sections",
                                                  "aten::tensor_split.indices",
                                                  "aten::hsplit.int",
                                                  "aten::hsplit.array",
                                                  "aten::vsplit.int",
                                                  "aten::vsplit.array",
                                                  "aten::dsplit.int",
                                                  "aten::dsplit.array"};
inline constexpr const char* kSliceScatterOps[] = {"aten::slice_scatter", "aten::select_scatter"};

#define T2C_LAYOUT_DECL(name, Name, ops, inputs)                                                 \
  sdk::Lowering(name, ops, inputs, T2C_FP16_NATIVE, T2C_INFER_CUSTOM, sdk::InferFn<Infer##Name>, \
                sdk::LowerFn<Lower##Name>)
inline constexpr t2c_lowering_decl kLowerings[] = {
    T2C_LAYOUT_DECL("t", T, kTOps, kSelfInputs),
    T2C_LAYOUT_DECL("movedim", Movedim, kMovedimOps, kMovedimInputs),
    T2C_LAYOUT_DECL("unflatten", Unflatten, kUnflattenOps, kUnflattenInputs),
    T2C_LAYOUT_DECL("atleast_nd", AtLeast, kAtLeastOps, kSelfInputs),
    T2C_LAYOUT_DECL("atleast_nd_list", AtLeastList, kAtLeastListOps, kTensorsInputs),
    T2C_LAYOUT_DECL("reshape_as", ReshapeAs, kReshapeAsOps, kReshapeAsInputs),
    T2C_LAYOUT_DECL("channel_shuffle", ChannelShuffle, kChannelShuffleOps, kChannelShuffleInputs),
    T2C_LAYOUT_DECL("tile", Tile, kTileOps, kTileInputs),
    T2C_LAYOUT_DECL("rot90", Rot90, kRot90Ops, kRot90Inputs),
    T2C_LAYOUT_DECL("unfold", Unfold, kUnfoldOps, kUnfoldInputs),
    T2C_LAYOUT_DECL("diagonal", Diagonal, kDiagonalOps, kDiagonalInputs),
    T2C_LAYOUT_DECL("diag", Diag, kDiagOps, kDiagInputs),
    T2C_LAYOUT_DECL("diag_embed", DiagEmbed, kDiagEmbedOps, kDiagonalInputs),
    T2C_LAYOUT_DECL("take", Take, kTakeOps, kTakeInputs),
    T2C_LAYOUT_DECL("tensor_split", TensorSplit, kTensorSplitOps, kTensorSplitInputs),
    T2C_LAYOUT_DECL("slice_scatter", SliceScatter, kSliceScatterOps, kSliceScatterInputs),
};
#undef T2C_LAYOUT_DECL

}  // namespace ts2coreml::plugins::layout

#endif  // TS2COREML_PLUGINS_SHAPE_LAYOUT_LOWERINGS_H_
