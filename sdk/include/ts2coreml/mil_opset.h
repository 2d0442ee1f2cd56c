/// Core ML's MIL opset as data: every op of iOS15 (CoreML5) through iOS18 (CoreML8), its inputs
/// and the dtypes each accepts, for validating programs without Core ML.
///
/// The table follows Apple's public op definitions (coremltools, `mil/ops/defs/iOS15..iOS18`). An
/// entry describes an op from the opset that introduced or last changed it; the entry with the
/// highest `since` not above the target applies. Inputs are written the way Apple's definitions
/// read:
///
///   {"reduce_mean", 15, "x:T, axes?!:int32[1], keep_dims?!:bool[0]", "T=fp16|fp32|int32", ...}
///
/// `name?` is optional, `name!` must be a constant (a `const` or `constexpr_*` op's output),
/// `name*` takes several vars (a tuple, as concat's `values`); the type is a dtype list (`int32`,
/// `fp16|fp32`) or a domain shared by every input naming it (`T`); `[0]` is a rank (`[3-5]` a
/// range); `any`, `list` and `state` are not checked. Torch- and protobuf-free: the converter core
/// and the fake host (sdk/testing/fake_host.h) both use it through ts2coreml/mil_validate.h.
///
///   const ts2coreml::opset::OpSpec* op = ts2coreml::opset::Opset::Get().Find("reduce_mean", 16);
///   for (const auto& in : op->inputs) std::puts(in.name.c_str());
#ifndef TS2COREML_MIL_OPSET_H_
#define TS2COREML_MIL_OPSET_H_

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace ts2coreml::opset {

/// MIL dtypes; the values equal MILSpec.DataType (and t2c_dtype where both have one).
enum Dtype : int32_t {
  kBool = 1,
  kString = 2,
  kFp16 = 10,
  kFp32 = 11,
  kFp64 = 12,
  kBf16 = 13,
  kInt8 = 21,
  kInt16 = 22,
  kInt32 = 23,
  kInt64 = 24,
  kInt4 = 25,
  kUint8 = 31,
  kUint16 = 32,
  kUint32 = 33,
  kUint64 = 34,
  kUint4 = 35,
  kUint2 = 36,
  kUint1 = 37,
  kUint6 = 38,
  kUint3 = 39,
  kFp8E4M3 = 40,
  kFp8E5M2 = 41,
};

/// A dtype's MIL name ("fp16", as the `cast` op spells it).
struct DtypeName {
  int32_t code;
  const char* name;
};
inline constexpr DtypeName kDtypeNames[] = {
    {kBool, "bool"},       {kString, "string"},   {kFp16, "fp16"},     {kFp32, "fp32"},
    {kFp64, "fp64"},       {kBf16, "bf16"},       {kInt8, "int8"},     {kInt16, "int16"},
    {kInt32, "int32"},     {kInt64, "int64"},     {kInt4, "int4"},     {kUint8, "uint8"},
    {kUint16, "uint16"},   {kUint32, "uint32"},   {kUint64, "uint64"}, {kUint4, "uint4"},
    {kUint2, "uint2"},     {kUint1, "uint1"},     {kUint6, "uint6"},   {kUint3, "uint3"},
    {kFp8E4M3, "fp8e4m3"}, {kFp8E5M2, "fp8e5m2"},
};

/// "fp16"; "dtype<N>" for a code MIL does not define.
inline std::string DtypeToString(int32_t code) {
  for (const DtypeName& d : kDtypeNames) {
    if (d.code == code) return d.name;
  }
  return "dtype" + std::to_string(code);
}

/// The code of a MIL dtype name; 0 when unknown.
inline int32_t DtypeFromString(std::string_view name) {
  for (const DtypeName& d : kDtypeNames) {
    if (name == d.name) return d.code;
  }
  return 0;
}

/// A set of dtypes: bit `code` set for each member.
using DtypeSet = uint64_t;
inline constexpr DtypeSet DtypeBit(int32_t code) {
  return code > 0 && code < 64 ? DtypeSet{1} << code : 0;
}

/// "fp16, fp32, int32".
inline std::string DtypeSetToString(DtypeSet set) {
  std::string r;
  for (const DtypeName& d : kDtypeNames) {
    if ((set & DtypeBit(d.code)) == 0) continue;
    if (!r.empty()) r += ", ";
    r += d.name;
  }
  return r;
}

/// How an op's output types follow from its inputs, where the table can say.
enum class Infer {
  kNone,          ///< not inferred (outputs are not checked)
  kSameAsX,       ///< one output of x's type (unary elementwise, activations, norms)
  kBroadcast,     ///< numpy broadcast of x and y, x's dtype
  kCompare,       ///< numpy broadcast of x and y, bool
  kSelect,        ///< broadcast of cond, a and b, a's dtype
  kReduce,        ///< x reduced over `axes` (all when absent), `keep_dims`
  kArgReduce,     ///< x reduced over `axis`, int32 (or `output_dtype`)
  kConv,          ///< [N, Cout, spatial...] from strides, pad_type, pad, dilations
  kPool,          ///< [N, C, spatial...] from kernel_sizes, strides, pad_type, pad
  kMatmul,        ///< batched matrix product with transpose_x/transpose_y
  kLinear,        ///< x[..., in] times weight[out, in]: [..., out]
  kReshape,       ///< `shape` (0 copies a dim, -1 is inferred)
  kConcat,        ///< `values` joined along `axis`
  kSliceByIndex,  ///< begin/end/stride with masks
  kSliceBySize,   ///< begin/size (-1: to the end)
  kTranspose,     ///< x permuted by `perm`
  kExpandDims,    ///< x with size-1 dims inserted at `axes`
  kSqueeze,       ///< x without the size-1 dims at `axes` (all when absent)
  kCast,          ///< x's shape in `dtype`
  kSplit,         ///< x split along `axis` by `num_splits` or `split_sizes`
  kTile,          ///< x repeated `reps` times per dim
  kGather,        ///< x.shape[:axis] + indices.shape + x.shape[axis+1:]
};

/// One table row, as written.
struct OpEntry {
  const char* name;
  int since;  ///< the iOS version (15..18) that introduced or changed the op
  const char* inputs;
  const char* domains;
  Infer infer;
};

/// Every op of iOS15..iOS18, one row per op and opset change, in the order of Apple's definition
/// files.
// clang-format off
inline constexpr OpEntry kOpTable[] = {
    {"clamped_relu", 15, "x:T, alpha!:T[0], beta!:T[0]", "T=fp16|fp32", Infer::kSameAsX},
    {"elu", 15, "x:T, alpha!:T[0]", "T=fp16|fp32", Infer::kSameAsX},
    {"gelu", 15, "x:T, mode?!:string", "T=fp16|fp32", Infer::kSameAsX},
    {"leaky_relu", 15, "x:T, alpha!:T[0]", "T=fp16|fp32", Infer::kSameAsX},
    {"linear_activation", 15, "x:T, alpha!:T[0], beta!:T[0]", "T=fp16|fp32", Infer::kSameAsX},
    {"prelu", 15, "x:T, alpha!:T", "T=fp16|fp32", Infer::kSameAsX},
    {"relu", 15, "x:T", "T=fp16|fp32", Infer::kSameAsX},
    {"relu6", 15, "x:T", "T=fp16|fp32", Infer::kSameAsX},
    {"scaled_tanh", 15, "x:T, alpha!:T[0], beta!:T[0]", "T=fp16|fp32", Infer::kSameAsX},
    {"sigmoid", 15, "x:T", "T=fp16|fp32", Infer::kSameAsX},
    {"sigmoid_hard", 15, "x:T, alpha!:T[0], beta!:T[0]", "T=fp16|fp32", Infer::kSameAsX},
    {"silu", 15, "x:T", "T=fp16|fp32", Infer::kSameAsX},
    {"softplus", 15, "x:T", "T=fp16|fp32", Infer::kSameAsX},
    {"softplus_parametric", 15, "x:T, alpha!:T, beta!:T", "T=fp16|fp32", Infer::kSameAsX},
    {"softmax", 15, "x:T, axis?!:int32[0]", "T=fp16|fp32", Infer::kSameAsX},
    {"softsign", 15, "x:T", "T=fp16|fp32", Infer::kSameAsX},
    {"thresholded_relu", 15, "x:T, alpha!:T[0]", "T=fp16|fp32", Infer::kSameAsX},
    {"classify", 15, "probabilities:fp32, classes!:list", "", Infer::kNone},
    {"cond", 15, "pred:bool[0]", "", Infer::kNone},
    {"const", 15, "", "", Infer::kNone},
    {"select", 15, "cond:bool, a:T, b:T", "T=fp16|fp32|bool|int32", Infer::kSelect},
    {"while_loop", 15, "loop_vars*:any", "", Infer::kNone},
    {"make_list", 15, "init_length?:int32[0], dynamic_length?!:bool[0], elem_shape*:any, dtype?!:string[0]", "", Infer::kNone},
    {"list_length", 15, "ls:list", "", Infer::kNone},
    {"list_write", 15, "ls:list, index:int32, value:T", "T=fp16|fp32|bool|int32", Infer::kNone},
    {"list_read", 15, "ls:list, index:int32", "", Infer::kNone},
    {"list_gather", 15, "ls:list, indices:int32", "", Infer::kNone},
    {"list_scatter", 15, "ls:list, indices:int32, value:T", "T=fp16|fp32|bool|int32", Infer::kNone},
    {"conv", 15, "x:T[3-5], weight:T[3-5], bias?!:T, strides?!:int32[1], pad_type?!:string[0], pad?!:int32[1], dilations?!:int32[1], groups?!:int32[0]", "T=fp16|fp32", Infer::kConv},
    {"conv_quantized", 15, "x:T, weight:U, bias?!:U, quantization_type!:string[0], nbits?!:int32[0], quant_scale!:T, quant_bias!:T, strides?!:int32[1], pad_type?!:string[0], pad?!:int32, dilations?!:int32[1], groups?!:int32[0]", "T=fp32|fp16; U=uint8", Infer::kNone},
    {"conv_transpose", 15, "x:T[3-5], weight!:T[3-5], bias?!:T, pad?!:int32[1], output_shape?!:int32[1], pad_type?!:string[0], strides?!:int32[1], dilations?!:int32[1], groups?!:int32[0]", "T=fp16|fp32", Infer::kNone},
    {"add", 15, "x:T, y:T", "T=fp16|fp32|int32", Infer::kBroadcast},
    {"equal", 15, "x:T, y:T", "T=fp16|fp32|int32", Infer::kCompare},
    {"floor_div", 15, "x:T, y:T", "T=fp16|fp32|int32", Infer::kBroadcast},
    {"greater", 15, "x:T, y:T", "T=fp16|fp32|int32", Infer::kCompare},
    {"greater_equal", 15, "x:T, y:T", "T=fp16|fp32|int32", Infer::kCompare},
    {"less", 15, "x:T, y:T", "T=fp16|fp32|int32", Infer::kCompare},
    {"less_equal", 15, "x:T, y:T", "T=fp16|fp32|int32", Infer::kCompare},
    {"logical_and", 15, "x:T, y:T", "T=bool", Infer::kBroadcast},
    {"logical_or", 15, "x:T, y:T", "T=bool", Infer::kBroadcast},
    {"logical_xor", 15, "x:T, y:T", "T=bool", Infer::kBroadcast},
    {"maximum", 15, "x:T, y:T", "T=fp16|fp32|int32", Infer::kBroadcast},
    {"minimum", 15, "x:T, y:T", "T=fp16|fp32|int32", Infer::kBroadcast},
    {"mod", 15, "x:T, y:T", "T=fp16|fp32|int32", Infer::kBroadcast},
    {"mul", 15, "x:T, y:T", "T=fp16|fp32|int32", Infer::kBroadcast},
    {"not_equal", 15, "x:T, y:T", "T=fp16|fp32|int32", Infer::kCompare},
    {"real_div", 15, "x:T, y:T", "T=fp16|fp32|int32", Infer::kBroadcast},
    {"pow", 15, "x:T, y:T", "T=fp16|fp32|int32", Infer::kBroadcast},
    {"sub", 15, "x:T, y:T", "T=fp16|fp32|int32", Infer::kBroadcast},
    {"abs", 15, "x:T", "T=fp16|fp32|int32", Infer::kSameAsX},
    {"acos", 15, "x:T", "T=fp16|fp32", Infer::kSameAsX},
    {"asin", 15, "x:T", "T=fp16|fp32", Infer::kSameAsX},
    {"atan", 15, "x:T", "T=fp16|fp32", Infer::kSameAsX},
    {"atanh", 15, "x:T", "T=fp16|fp32", Infer::kSameAsX},
    {"ceil", 15, "x:T", "T=fp16|fp32", Infer::kSameAsX},
    {"clip", 15, "x:T, alpha!:T[0], beta!:T[0]", "T=fp16|fp32", Infer::kSameAsX},
    {"cos", 15, "x:T", "T=fp16|fp32", Infer::kSameAsX},
    {"cosh", 15, "x:T", "T=fp16|fp32", Infer::kSameAsX},
    {"erf", 15, "x:T", "T=fp16|fp32", Infer::kSameAsX},
    {"exp", 15, "x:T", "T=fp16|fp32", Infer::kSameAsX},
    {"exp2", 15, "x:T", "T=fp16|fp32|int32", Infer::kSameAsX},
    {"floor", 15, "x:T", "T=fp16|fp32", Infer::kSameAsX},
    {"inverse", 15, "x:T, epsilon?!:T[0]", "T=fp16|fp32", Infer::kSameAsX},
    {"log", 15, "x:T, epsilon?!:T[0]", "T=fp16|fp32", Infer::kSameAsX},
    {"logical_not", 15, "x:bool", "", Infer::kSameAsX},
    {"round", 15, "x:T", "T=fp16|fp32", Infer::kSameAsX},
    {"rsqrt", 15, "x:T, epsilon?!:T[0]", "T=fp16|fp32", Infer::kSameAsX},
    {"sign", 15, "x:T", "T=fp16|fp32|int32", Infer::kSameAsX},
    {"sin", 15, "x:T", "T=fp16|fp32", Infer::kSameAsX},
    {"sinh", 15, "x:T", "T=fp16|fp32", Infer::kSameAsX},
    {"sqrt", 15, "x:T", "T=fp16|fp32", Infer::kSameAsX},
    {"square", 15, "x:T", "T=fp16|fp32|int32", Infer::kSameAsX},
    {"tan", 15, "x:T", "T=fp16|fp32", Infer::kSameAsX},
    {"tanh", 15, "x:T", "T=fp16|fp32", Infer::kSameAsX},
    {"threshold", 15, "x:T, alpha!:T[0]", "T=fp16|fp32|int32", Infer::kSameAsX},
    {"cast", 15, "x:T, dtype!:string[0]", "T=fp16|fp32|int32|bool", Infer::kCast},
    {"upsample_nearest_neighbor", 15, "x:T, scale_factor_height?!:U[0], scale_factor_width?!:U[0]", "T=fp16|fp32; U=fp32|int32", Infer::kNone},
    {"resize_nearest_neighbor", 15, "x:T, target_size_height!:int32[0], target_size_width!:int32[0]", "T=fp16|fp32", Infer::kNone},
    {"upsample_bilinear", 15, "x:T, scale_factor_height?!:U[0], scale_factor_width?!:U[0], align_corners?!:bool[0]", "T=fp16|fp32; U=int32|fp32", Infer::kNone},
    {"resize_bilinear", 15, "x:T, target_size_height?!:int32[0], target_size_width?!:int32[0], sampling_mode?!:string[0]", "T=fp16|fp32", Infer::kNone},
    {"crop_resize", 15, "x:T, roi:T, target_height?!:int32[0], target_width?!:int32[0], normalized_coordinates?!:bool[0], spatial_scale?!:fp32[0], box_coordinate_mode?!:string[0], sampling_mode?!:string[0]", "T=fp16|fp32", Infer::kNone},
    {"crop", 15, "x:T, crop_height!:int32[0], crop_width!:int32[0]", "T=fp16|fp32", Infer::kNone},
    {"affine", 15, "x:T, transform_matrix:T, output_height!:int32[0], output_width!:int32[0], sampling_mode!:string[0], padding_mode!:string[0], padding_value!:T[0], coordinates_mode!:string[0], align_corners!:bool[0]", "T=fp16|fp32", Infer::kNone},
    {"resample", 15, "x:T, coordinates:U, sampling_mode!:string[0], padding_mode!:string[0], padding_value!:T[0], coordinates_mode!:string[0], align_corners!:bool[0]", "T=fp16|fp32; U=int32|fp32", Infer::kNone},
    {"linear", 15, "x:T[1-5], weight!:T[2], bias?!:T[1]", "T=fp16|fp32|int32", Infer::kLinear},
    {"matmul", 15, "x:T[1-5], y:T[1-5], transpose_x?!:bool[0], transpose_y?!:bool[0]", "T=fp16|fp32|int32", Infer::kMatmul},
    {"einsum", 15, "values*:any, equation!:string[0]", "", Infer::kNone},
    {"batch_norm", 15, "x:T[3-5], mean!:T[1], variance!:T[1], gamma?!:T[1], beta?!:T[1], epsilon?!:T[0]", "T=fp16|fp32", Infer::kSameAsX},
    {"instance_norm", 15, "x:T, gamma?!:T, beta?!:T, epsilon?!:T[0]", "T=fp16|fp32", Infer::kSameAsX},
    {"l2_norm", 15, "x:T, epsilon?!:T[0]", "T=fp16|fp32", Infer::kSameAsX},
    {"layer_norm", 15, "x:T, axes?!:int32[1], gamma?!:T, beta?!:T, epsilon?!:T[0]", "T=fp16|fp32", Infer::kSameAsX},
    {"local_response_norm", 15, "x:T, size!:int32[0], alpha?!:T[0], beta?!:T[0], k?!:T[0]", "T=fp16|fp32", Infer::kSameAsX},
    {"avg_pool", 15, "exclude_padding_from_average?!:bool[0], x:T[3-5], kernel_sizes!:int32[1], strides?!:int32[1], pad_type!:string[0], pad?!:int32[1], ceil_mode?!:bool[0]", "T=fp16|fp32", Infer::kPool},
    {"l2_pool", 15, "x:T[3-5], kernel_sizes!:int32[1], strides?!:int32[1], pad_type!:string[0], pad?!:int32[1], ceil_mode?!:bool[0]", "T=fp16|fp32", Infer::kPool},
    {"max_pool", 15, "x:T[3-5], kernel_sizes!:int32[1], strides?!:int32[1], pad_type!:string[0], pad?!:int32[1], ceil_mode?!:bool[0]", "T=fp16|fp32", Infer::kPool},
    {"random_bernoulli", 15, "shape:int32, prob?!:T, seed?!:int32[0]", "T=fp16|fp32", Infer::kNone},
    {"random_categorical", 15, "x:T, mode?!:string, size?!:int32[0], seed?!:int32[0]", "T=fp16|fp32", Infer::kNone},
    {"random_normal", 15, "shape:int32, mean?!:T, stddev?!:T, seed?!:int32[0]", "T=fp16|fp32", Infer::kNone},
    {"random_uniform", 15, "shape:int32, low?!:T, high?!:T, seed?!:int32[0]", "T=fp16|fp32", Infer::kNone},
    {"gru", 15, "x:T, initial_h:T, weight_ih!:T, weight_hh!:T, bias?!:T, direction?!:string[0], output_sequence?!:bool[0], recurrent_activation?!:string[0], activation?!:string[0]", "T=fp32", Infer::kNone},
    {"lstm", 15, "x:T, initial_h:T, initial_c:T, weight_ih!:T, weight_hh!:T, bias?!:T, peephole?!:T, weight_ih_back?!:T, weight_hh_back?!:T, bias_back?!:T, peephole_back?!:T, direction?!:string[0], output_sequence?!:bool[0], recurrent_activation?!:string[0], cell_activation?!:string[0], activation?!:string[0], clip?!:T[0]", "T=fp32", Infer::kNone},
    {"rnn", 15, "x:T, initial_h:T, weight_ih!:T, weight_hh!:T, bias?!:T, direction?!:string[0], output_sequence?!:bool[0], activation?!:string[0]", "T=fp32", Infer::kNone},
    {"reduce_argmax", 15, "x:T, axis?!:int32[0], keep_dims?!:bool[0]", "T=fp16|fp32|int32", Infer::kArgReduce},
    {"reduce_argmin", 15, "x:T, axis?!:int32[0], keep_dims?!:bool[0]", "T=fp16|fp32|int32", Infer::kArgReduce},
    {"reduce_l1_norm", 15, "x:T, axes?!:int32[1], keep_dims?!:bool[0]", "T=fp16|fp32|int32", Infer::kReduce},
    {"reduce_l2_norm", 15, "x:T, axes?!:int32[1], keep_dims?!:bool[0]", "T=fp16|fp32|int32", Infer::kReduce},
    {"reduce_log_sum", 15, "x:T, axes?!:int32[1], keep_dims?!:bool[0]", "T=fp16|fp32|int32", Infer::kReduce},
    {"reduce_log_sum_exp", 15, "x:T, axes?!:int32[1], keep_dims?!:bool[0]", "T=fp16|fp32|int32", Infer::kReduce},
    {"reduce_max", 15, "x:T, axes?!:int32[1], keep_dims?!:bool[0]", "T=fp16|fp32|int32", Infer::kReduce},
    {"reduce_mean", 15, "x:T, axes?!:int32[1], keep_dims?!:bool[0]", "T=fp16|fp32|int32", Infer::kReduce},
    {"reduce_min", 15, "x:T, axes?!:int32[1], keep_dims?!:bool[0]", "T=fp16|fp32|int32", Infer::kReduce},
    {"reduce_prod", 15, "x:T, axes?!:int32[1], keep_dims?!:bool[0]", "T=fp16|fp32|int32", Infer::kReduce},
    {"reduce_sum", 15, "x:T, axes?!:int32[1], keep_dims?!:bool[0]", "T=fp16|fp32|int32", Infer::kReduce},
    {"reduce_sum_square", 15, "x:T, axes?!:int32[1], keep_dims?!:bool[0]", "T=fp16|fp32|int32", Infer::kReduce},
    {"gather", 15, "x:T, indices:int32, axis?!:int32[0]", "T=fp16|fp32|int32", Infer::kGather},
    {"scatter", 15, "data:T, indices:int32, updates:T, axis?!:int32[0], mode?!:string", "T=fp16|fp32|int32", Infer::kNone},
    {"gather_along_axis", 15, "x:T, indices:int32, axis?!:int32[0]", "T=fp16|fp32|int32", Infer::kNone},
    {"scatter_along_axis", 15, "data:T, indices:int32, updates:T, axis?!:int32[0], mode?!:string", "T=fp16|fp32|int32", Infer::kNone},
    {"gather_nd", 15, "x:T, indices:int32", "T=fp16|fp32|int32", Infer::kNone},
    {"scatter_nd", 15, "data:T, indices:int32, updates:T, mode?!:string", "T=fp16|fp32|int32", Infer::kNone},
    {"band_part", 15, "x:T, lower?!:int32[0], upper?!:int32[0]", "T=fp16|fp32|int32|bool", Infer::kSameAsX},
    {"cumsum", 15, "x:T, axis?!:int32[0], exclusive?!:bool[0], reverse?!:bool", "T=fp16|fp32|int32", Infer::kSameAsX},
    {"fill", 15, "shape:int32[1], value?!:T", "T=fp16|fp32|int32|bool", Infer::kNone},
    {"non_maximum_suppression", 15, "boxes:T, scores:T, iou_threshold!:T[0], score_threshold!:T[0], max_boxes!:int32[0], per_class_suppression?!:bool[0]", "T=fp16|fp32", Infer::kNone},
    {"non_zero", 15, "x:T", "T=fp16|fp32|int32|bool", Infer::kNone},
    {"one_hot", 15, "indices:int32, one_hot_vector_size:int32[0], axis?!:int32[0], on_value?!:T[0], off_value?!:T[0]", "T=fp16|fp32|int32|bool", Infer::kNone},
    {"pad", 15, "x:T, pad:int32[1], mode?!:string, constant_val?!:T[0]", "T=fp16|fp32", Infer::kNone},
    {"range_1d", 15, "end:T, start:T, step:T", "T=fp16|fp32|int32", Infer::kNone},
    {"tile", 15, "x:T, reps:int32[1]", "T=fp16|fp32|int32|bool", Infer::kTile},
    {"argsort", 15, "x:T, axis?!:int32[0], ascending?!:bool[0]", "T=fp16|fp32|int32", Infer::kNone},
    {"topk", 15, "x:T, k?!:int32[0], axis?!:int32[0], ascending?!:bool[0]", "T=fp16|fp32|int32", Infer::kNone},
    {"flatten2d", 15, "x:T, axis?!:int32[0]", "T=fp16|fp32|int32|bool", Infer::kNone},
    {"shape", 15, "x:T", "T=fp16|fp32|int32|bool", Infer::kNone},
    {"concat", 15, "values*:T, axis!:int32[0], interleave?!:bool[0]", "T=fp16|fp32|int32|bool", Infer::kConcat},
    {"split", 15, "x:T, num_splits?!:int32[0], split_sizes?!:int32[1], axis!:int32[0]", "T=fp16|fp32|int32|bool", Infer::kSplit},
    {"stack", 15, "values*:T, axis!:int32[0]", "T=fp16|fp32|int32|bool", Infer::kNone},
    {"identity", 15, "x:any", "", Infer::kSameAsX},
    {"depth_to_space", 15, "x:T, block_size!:int32[0]", "T=fp16|fp32", Infer::kNone},
    {"expand_dims", 15, "x:T, axes!:int32[1]", "T=fp16|fp32|int32|bool", Infer::kExpandDims},
    {"reshape", 15, "x:T, shape:int32[1]", "T=fp16|fp32|int32|bool", Infer::kReshape},
    {"reverse", 15, "x:T, axes?!:int32[1]", "T=fp16|fp32|int32|bool", Infer::kSameAsX},
    {"reverse_sequence", 15, "x:T, lengths:int32, seq_axis?!:int32[0], batch_axis?!:int32[0]", "T=fp16|fp32|int32|bool", Infer::kSameAsX},
    {"slice_by_index", 15, "x:T, begin:int32[1], end:int32[1], stride?!:int32[1], begin_mask?!:bool[1], end_mask?!:bool[1], squeeze_mask?!:bool[1]", "T=fp16|fp32|int32|bool", Infer::kSliceByIndex},
    {"slice_by_size", 15, "x:T, begin:int32[1], size:int32[1]", "T=fp16|fp32|int32|bool", Infer::kSliceBySize},
    {"space_to_depth", 15, "x:T, block_size!:int32[0]", "T=fp16|fp32", Infer::kNone},
    {"space_to_batch", 15, "x:T, block_shape!:int32, paddings!:int32", "T=fp16|fp32", Infer::kNone},
    {"batch_to_space", 15, "x:T, block_shape!:int32, crops!:int32", "T=fp16|fp32", Infer::kNone},
    {"squeeze", 15, "x:T, axes?!:int32[1]", "T=fp16|fp32|int32|bool", Infer::kSqueeze},
    {"transpose", 15, "x:T, perm!:int32[1]", "T=fp16|fp32|int32|bool", Infer::kTranspose},
    {"pixel_shuffle", 15, "x:T, upscale_factor!:int32[0]", "T=fp16|fp32", Infer::kNone},
    {"sliding_windows", 15, "x:T, axis!:int32[0], size!:int32[0], stride?!:int32[0]", "T=fp16|fp32|int32", Infer::kNone},
    {"constexpr_affine_dequantize", 16, "quantized_data!:SrcT, zero_point!:ZeroPointT, scale!:DstT, axis!:int32[0]", "SrcT=uint8|int8; ZeroPointT=uint8|int8|fp32; DstT=fp16|fp32", Infer::kNone},
    {"constexpr_cast", 16, "source_val!:fp16, output_dtype!:string[0]", "", Infer::kNone},
    {"constexpr_lut_to_dense", 16, "indices!:uint8, lut!:T, shape!:uint32", "T=int8|uint8|fp16|fp32", Infer::kNone},
    {"constexpr_sparse_to_dense", 16, "nonzero_data!:T, mask!:uint8, shape!:uint32", "T=int8|uint8|fp16|fp32", Infer::kNone},
    {"resample", 16, "x:T, coordinates:U, sampling_mode!:string[0], padding_mode!:string[0], padding_value!:T[0], coordinates_mode!:string[0], align_corners!:bool[0]", "T=fp16|fp32; U=int32|fp16|fp32", Infer::kNone},
    {"upsample_bilinear", 16, "x:T, scale_factor_height?!:U[0], scale_factor_width?!:U[0], align_corners?!:bool[0], half_pixel_centers?!:bool[0]", "T=fp16|fp32; U=int32|fp32", Infer::kNone},
    {"crop_resize", 16, "x:T, roi:T, target_height?!:int32[0], target_width?!:int32[0], normalized_coordinates?!:bool[0], spatial_scale?!:fp32[0], box_coordinate_mode?!:string[0], sampling_mode?!:string[0], pad_value?!:T", "T=fp16|fp32", Infer::kNone},
    {"gather", 16, "x:T, indices:I, axis?!:int32[0], batch_dims?!:int32[0]", "T=fp16|fp32|int32; I=int32|uint16|int16", Infer::kGather},
    {"gather_along_axis", 16, "x:T, indices:I, axis?!:int32[0]", "T=fp16|fp32|int32; I=int32|uint16|int16", Infer::kNone},
    {"gather_nd", 16, "x:T, indices:I, batch_dims?!:int32[0]", "T=fp16|fp32|int32; I=int32|uint16|int16", Infer::kNone},
    {"fill_like", 16, "ref_tensor:T, value?!:U", "T=fp16|fp32|int32|bool; U=fp16|fp32|int32|bool", Infer::kNone},
    {"topk", 16, "x:T, k?!:int32[0], axis?!:int32[0], ascending?!:bool[0], sort?!:bool[0], return_indices?!:bool[0]", "T=fp16|fp32|int32", Infer::kNone},
    {"reshape_like", 16, "x:T, ref_tensors*:any, begins*:any, ends*:any, end_masks*:any", "T=fp16|fp32|int32|bool", Infer::kNone},
    {"pixel_unshuffle", 16, "x:T, downscale_factor!:uint32[0]", "T=fp16|fp32", Infer::kNone},
    {"clamped_relu", 17, "x:T, alpha!:U[0], beta!:U[0]", "T=fp16|fp32; U=fp16|fp32", Infer::kSameAsX},
    {"elu", 17, "x:T, alpha!:U[0]", "T=fp16|fp32; U=fp16|fp32", Infer::kSameAsX},
    {"leaky_relu", 17, "x:T, alpha!:U[0]", "T=fp16|fp32; U=fp16|fp32", Infer::kSameAsX},
    {"linear_activation", 17, "x:T, alpha!:U[0], beta!:U[0]", "T=fp16|fp32; U=fp16|fp32", Infer::kSameAsX},
    {"prelu", 17, "x:T, alpha!:U", "T=fp16|fp32; U=fp16|fp32", Infer::kSameAsX},
    {"scaled_tanh", 17, "x:T, alpha!:U[0], beta!:U[0]", "T=fp16|fp32; U=fp16|fp32", Infer::kSameAsX},
    {"sigmoid_hard", 17, "x:T, alpha!:U[0], beta!:U[0]", "T=fp16|fp32; U=fp16|fp32", Infer::kSameAsX},
    {"softplus_parametric", 17, "x:T, alpha!:U, beta!:U", "T=fp16|fp32; U=fp16|fp32", Infer::kSameAsX},
    {"thresholded_relu", 17, "x:T, alpha!:U[0]", "T=fp16|fp32; U=fp16|fp32", Infer::kSameAsX},
    {"conv", 17, "x:T[3-5], weight:U[3-5], bias?:U, strides?!:int32[1], pad_type?!:string[0], pad?!:int32[1], dilations?!:int32[1], groups?!:int32[0]", "T=fp16|fp32; U=fp16|fp32", Infer::kConv},
    {"conv_transpose", 17, "x:T[3-5], weight:U[3-5], bias?:U, pad?!:int32[1], output_shape?!:int32[1], pad_type?!:string[0], strides?!:int32[1], dilations?!:int32[1], groups?!:int32[0]", "T=fp16|fp32; U=fp16|fp32", Infer::kNone},
    {"cast", 17, "x:T, dtype!:string[0]", "T=fp16|fp32|int8|uint8|int16|uint16|int32|bool", Infer::kCast},
    {"clip", 17, "x:T, alpha!:T[0], beta!:T[0]", "T=fp16|fp32", Infer::kSameAsX},
    {"inverse", 17, "x:T, epsilon?!:U[0]", "T=fp16|fp32; U=fp16|fp32", Infer::kSameAsX},
    {"log", 17, "x:T, epsilon?!:U[0]", "T=fp16|fp32; U=fp16|fp32", Infer::kSameAsX},
    {"rsqrt", 17, "x:T, epsilon?!:U[0]", "T=fp16|fp32; U=fp16|fp32", Infer::kSameAsX},
    {"crop_resize", 17, "x:T, boxes:BOX_T, box_indices?:BOX_INDEX_T, target_height?!:int32[0], target_width?!:int32[0], normalized_coordinates?!:bool[0], spatial_scale?!:fp32[0], box_coordinate_mode?!:string[0], sampling_mode?!:string[0], pad_value?!:T", "T=fp16|fp32; BOX_T=fp16|fp32|uint16; BOX_INDEX_T=uint16|int32", Infer::kNone},
    {"resample", 17, "x:T, coordinates:U, sampling_mode!:string[0], padding_mode!:string[0], padding_value!:T[0], coordinates_mode!:string[0], align_corners!:bool[0]", "T=fp16|fp32; U=int8|uint8|int16|uint16|int32|fp16|fp32", Infer::kNone},
    {"resize", 17, "x:T, shape:U, resized_dims!:uint32[0], interpolation_mode?!:string[0], sampling_mode?!:string[0]", "T=fp16|fp32|int32; U=int32|int16|uint16|uint32", Infer::kNone},
    {"linear", 17, "x:T[1-5], weight!:U[2], bias?!:U[1]", "T=fp16|fp32|int32; U=fp16|fp32|int32", Infer::kLinear},
    {"matmul", 17, "x:T[1-5], y:U[1-5], transpose_x?!:bool[0], transpose_y?!:bool[0]", "T=fp16|fp32|int32; U=fp16|fp32|int32", Infer::kMatmul},
    {"batch_norm", 17, "x:T[3-5], mean!:U[1], variance!:U[1], gamma?!:U[1], beta?!:U[1], epsilon?!:U[0]", "T=fp16|fp32; U=fp16|fp32", Infer::kSameAsX},
    {"instance_norm", 17, "x:T, gamma?!:U, beta?!:U, epsilon?!:U[0]", "T=fp16|fp32; U=fp16|fp32", Infer::kSameAsX},
    {"l2_norm", 17, "x:T, epsilon?!:U[0]", "T=fp16|fp32; U=fp16|fp32", Infer::kSameAsX},
    {"layer_norm", 17, "x:T, axes?!:int32[1], gamma?!:U, beta?!:U, epsilon?!:U[0]", "T=fp16|fp32; U=fp16|fp32", Infer::kSameAsX},
    {"local_response_norm", 17, "x:T, size!:int32[0], alpha?!:U[0], beta?!:U[0], k?!:U[0]", "T=fp16|fp32; U=fp16|fp32", Infer::kSameAsX},
    {"quantize", 17, "input:SrcT, zero_point?!:DstT, scale!:SrcT, axis?!:int32[0], output_dtype!:string[0]", "SrcT=fp16|fp32; DstT=uint8|int8", Infer::kNone},
    {"dequantize", 17, "input:SrcT, zero_point?!:SrcT, scale!:DstT, axis?!:int32[0]", "DstT=fp16|fp32; SrcT=uint8|int8", Infer::kNone},
    {"gru", 17, "x:T, initial_h:T, weight_ih!:T, weight_hh!:T, bias?!:T, direction?!:string[0], output_sequence?!:bool[0], recurrent_activation?!:string[0], activation?!:string[0]", "T=fp16|fp32", Infer::kNone},
    {"lstm", 17, "x:T, initial_h:T, initial_c:T, weight_ih!:T, weight_hh!:T, bias?!:T, peephole?!:T, weight_ih_back?!:T, weight_hh_back?!:T, bias_back?!:T, peephole_back?!:T, direction?!:string[0], output_sequence?!:bool[0], recurrent_activation?!:string[0], cell_activation?!:string[0], activation?!:string[0], clip?!:T[0]", "T=fp16|fp32", Infer::kNone},
    {"rnn", 17, "x:T, initial_h:T, weight_ih!:T, weight_hh!:T, bias?!:T, direction?!:string[0], output_sequence?!:bool[0], activation?!:string[0]", "T=fp16|fp32", Infer::kNone},
    {"reduce_argmax", 17, "x:T, axis?!:int32[0], keep_dims?!:bool[0], output_dtype?!:string[0]", "T=fp16|fp32|int32", Infer::kArgReduce},
    {"reduce_argmin", 17, "x:T, axis?!:int32[0], keep_dims?!:bool[0], output_dtype?!:string[0]", "T=fp16|fp32|int32", Infer::kArgReduce},
    {"scatter", 17, "data:T, indices:int32, updates:T, axis?!:int32[0], mode?!:string, validate_indices?!:bool[0]", "T=fp16|fp32|int32", Infer::kNone},
    {"scatter_along_axis", 17, "data:T, indices:int32, updates:T, axis?!:int32[0], mode?!:string, validate_indices?!:bool[0]", "T=fp16|fp32|int32", Infer::kNone},
    {"scatter_nd", 17, "data:T, indices:int32, updates:T, mode?!:string, validate_indices?!:bool[0]", "T=fp16|fp32|int32", Infer::kNone},
    {"gather", 17, "x:T, indices:I, axis?!:int32[0], batch_dims?!:int32[0], validate_indices?!:bool[0]", "T=fp16|fp32|int32|int16|uint16|int8|uint8; I=int32|int16|uint16|int8|uint8", Infer::kGather},
    {"gather_along_axis", 17, "x:T, indices:I, axis?!:int32[0], validate_indices?!:bool[0]", "T=fp16|fp32|int32|int16|uint16|int8|uint8; I=int32|int16|uint16|int8|uint8", Infer::kNone},
    {"gather_nd", 17, "x:T, indices:I, batch_dims?!:int32[0], validate_indices?!:bool[0]", "T=fp16|fp32|int32|int16|uint16|int8|uint8; I=int32|int16|uint16|int8|uint8", Infer::kNone},
    {"non_maximum_suppression", 17, "boxes:T, scores:T, iou_threshold!:T[0], max_boxes!:int32[0], per_class_suppression?!:bool[0]", "T=fp16|fp32", Infer::kNone},
    {"topk", 17, "x:T, k?!:K[0], axis?!:int32[0], ascending?!:bool[0], sort?!:bool[0], return_indices?!:bool[0], output_indices_dtype?!:string[0]", "T=fp16|fp32|int8|int16|int32|uint8|uint16; K=int8|int16|int32", Infer::kNone},
    {"reshape", 17, "x:T, shape:U[1]", "T=fp16|fp32|int8|uint8|int16|uint16|int32|bool; U=int8|int16|int32", Infer::kReshape},
    {"reshape_like", 17, "x:T, ref_tensors*:any, begins*:any, ends*:any, end_masks*:any", "T=fp16|fp32|int8|int16|int32|uint8|uint16|bool", Infer::kNone},
    {"expand_dims", 17, "x:T, axes!:int32[1]", "T=fp16|fp32|int8|int16|int32|uint8|uint16|bool", Infer::kExpandDims},
    {"squeeze", 17, "x:T, axes?!:int32[1]", "T=fp16|fp32|int8|int16|int32|uint8|uint16|bool", Infer::kSqueeze},
    {"reverse", 17, "x:T, axes?!:int32[1]", "T=fp16|fp32|int8|int16|int32|uint8|uint16|bool", Infer::kSameAsX},
    {"reverse_sequence", 17, "x:T, lengths:U, seq_axis?!:int32[0], batch_axis?!:int32[0]", "T=fp16|fp32|int8|int16|int32|uint8|uint16|bool; U=int8|int16|int32", Infer::kSameAsX},
    {"sliding_windows", 17, "x:T, axis!:int32[0], size!:int32[0], stride?!:int32[0]", "T=fp16|fp32|int8|int16|int32|uint8|uint16|bool", Infer::kNone},
    {"transpose", 17, "x:T, perm!:int32[1]", "T=fp16|fp32|int8|int16|int32|uint8|uint16|bool", Infer::kTranspose},
    {"slice_by_index", 17, "x:T, begin:U[1], end:U[1], stride?!:U[1], begin_mask?!:bool[1], end_mask?!:bool[1], squeeze_mask?!:bool[1]", "T=fp16|fp32|int8|int16|int32|uint8|uint16|bool; U=int8|int16|int32", Infer::kSliceByIndex},
    {"slice_by_size", 17, "x:T, begin:U[1], size:U[1]", "T=fp16|fp32|int8|int16|int32|uint8|uint16|bool; U=int8|int16|int32", Infer::kSliceBySize},
    {"constexpr_blockwise_shift_scale", 18, "data!:SrcT, scale!:DstT, offset?!:OffsetT", "SrcT=int4|uint4|int8|uint8|fp16|fp32; DstT=fp16|fp32; OffsetT=int4|uint4|int8|uint8|fp16|fp32", Infer::kNone},
    {"constexpr_lut_to_dense", 18, "indices!:IndicesT, lut!:T, vector_axis?!:int32[0]", "IndicesT=uint1|uint2|uint3|uint4|uint6|uint8; T=int8|uint8|fp16|fp32", Infer::kNone},
    {"constexpr_sparse_to_dense", 18, "nonzero_data!:T, mask!:uint1", "T=int4|uint4|int8|uint8|fp16|fp32", Infer::kNone},
    {"constexpr_lut_to_sparse", 18, "indices_mask!:uint1, indices_nonzero_data!:IndicesT, lut!:T, vector_axis?!:int32[0]", "IndicesT=uint1|uint2|uint3|uint4|uint6|uint8; T=int8|uint8|fp16|fp32", Infer::kNone},
    {"constexpr_sparse_blockwise_shift_scale", 18, "data_mask!:uint1, nonzero_data!:SrcT, scale!:DstT, offset?!:OffsetT", "SrcT=int4|uint4|int8|uint8|fp16|fp32; DstT=fp16|fp32; OffsetT=int4|uint4|int8|uint8|fp16|fp32", Infer::kNone},
    {"constexpr_cast", 18, "source_val!:fp16, output_dtype!:string[0]", "", Infer::kNone},
    {"gru", 18, "x:T, initial_h:T, weight_ih!:T, weight_hh!:T, bias?!:T, direction?!:string[0], output_sequence?!:bool[0], recurrent_activation?!:string[0], activation?!:string[0], reset_after?!:bool[0], input_bias?!:T", "T=fp16|fp32", Infer::kNone},
    {"read_state", 18, "input:state", "", Infer::kNone},
    {"coreml_update_state", 18, "state:state, value:T", "T=fp16|fp32|int8|int16|int32|uint8|uint16|bool", Infer::kNone},
    {"slice_update", 18, "x:T, update:T, begin:U[1], end:U[1], stride?!:U[1], begin_mask?!:bool[1], end_mask?!:bool[1], squeeze_mask?!:bool[1]", "T=fp16|fp32|int8|int16|int32|uint8|uint16|bool; U=int8|int16|int32", Infer::kNone},
    {"scaled_dot_product_attention", 18, "query:T, key:T, value:T, attn_mask?:M", "T=fp16|fp32; M=bool|fp16|fp32", Infer::kNone},
};
// clang-format on

/// One input of an op, parsed from its row.
struct InputSpec {
  std::string name;
  bool optional = false;
  bool must_be_const = false;
  bool variadic = false;  ///< a tuple: one or more vars
  std::string domain;     ///< the shared type domain ("T"), empty for a fixed dtype list
  DtypeSet dtypes = 0;    ///< accepted dtypes; 0: not checked (any, list, state)
  std::string type_text;  ///< the type as written ("T", "int32", "any")
  int min_rank = -1;      ///< -1: not checked
  int max_rank = -1;
};

/// One op as it exists from `since` up to (not including) `until` (0: still current).
struct OpSpec {
  std::string name;
  int since = 15;
  int until = 0;
  std::vector<InputSpec> inputs;
  std::vector<std::pair<std::string, DtypeSet>> domains;
  Infer infer = Infer::kNone;

  const InputSpec* FindInput(std::string_view input) const {
    for (const InputSpec& in : inputs) {
      if (in.name == input) return &in;
    }
    return nullptr;
  }
  /// "x, axes, keep_dims".
  std::string InputNames() const {
    std::string r;
    for (const InputSpec& in : inputs) r += (r.empty() ? "" : ", ") + in.name;
    return r;
  }
};

/// The iOS version of an opset name ("CoreML5" -> 15 ... "CoreML8" -> 18); 0 when unknown.
inline int IosForOpset(std::string_view opset) {
  if (opset == "CoreML5") return 15;
  if (opset == "CoreML6") return 16;
  if (opset == "CoreML7") return 17;
  if (opset == "CoreML8") return 18;
  return 0;
}

/// "CoreML7" for 17.
inline std::string OpsetForIos(int ios) { return "CoreML" + std::to_string(ios - 10); }

namespace internal {

inline std::string_view Trim(std::string_view s) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  return s;
}

inline std::vector<std::string_view> SplitOn(std::string_view s, char sep) {
  std::vector<std::string_view> parts;
  while (!s.empty()) {
    const size_t p = s.find(sep);
    parts.push_back(Trim(s.substr(0, p)));
    if (p == std::string_view::npos) break;
    s.remove_prefix(p + 1);
  }
  return parts;
}

/// "fp16|fp32" -> the set; false on an unknown name.
inline bool ParseDtypeList(std::string_view text, DtypeSet* set) {
  *set = 0;
  for (std::string_view name : SplitOn(text, '|')) {
    const int32_t code = DtypeFromString(name);
    if (code == 0) return false;
    *set |= DtypeBit(code);
  }
  return true;
}

/// "axes?!:int32[1]" -> an InputSpec; false when malformed.
inline bool ParseInput(std::string_view text, const OpSpec& op, InputSpec* in) {
  const size_t colon = text.find(':');
  if (colon == std::string_view::npos) return false;
  std::string_view head = text.substr(0, colon);
  std::string_view type = text.substr(colon + 1);
  while (!head.empty() && (head.back() == '?' || head.back() == '!' || head.back() == '*')) {
    in->optional |= head.back() == '?';
    in->must_be_const |= head.back() == '!';
    in->variadic |= head.back() == '*';
    head.remove_suffix(1);
  }
  in->name = std::string(head);
  if (const size_t b = type.find('['); b != std::string_view::npos) {
    std::string_view rank = type.substr(b + 1, type.size() - b - 2);
    type = type.substr(0, b);
    const size_t dash = rank.find('-');
    in->min_rank = std::stoi(std::string(rank.substr(0, dash)));
    in->max_rank = dash == std::string_view::npos ? in->min_rank
                                                  : std::stoi(std::string(rank.substr(dash + 1)));
  }
  in->type_text = std::string(type);
  if (type == "any" || type == "list" || type == "state") return true;
  for (const auto& d : op.domains) {
    if (d.first == type) {
      in->domain = d.first;
      in->dtypes = d.second;
      return true;
    }
  }
  return ParseDtypeList(type, &in->dtypes);
}

/// Parses one row; false when malformed (the table test parses every row).
inline bool ParseEntry(const OpEntry& e, OpSpec* op) {
  op->name = e.name;
  op->since = e.since;
  op->infer = e.infer;
  for (std::string_view dom : SplitOn(e.domains, ';')) {
    const size_t eq = dom.find('=');
    DtypeSet set = 0;
    if (eq == std::string_view::npos || !ParseDtypeList(dom.substr(eq + 1), &set)) return false;
    op->domains.emplace_back(std::string(dom.substr(0, eq)), set);
  }
  for (std::string_view text : SplitOn(e.inputs, ',')) {
    InputSpec in;
    if (!ParseInput(text, *op, &in)) return false;
    op->inputs.push_back(std::move(in));
  }
  return true;
}

}  // namespace internal

/// The parsed table, built once.
class Opset {
 public:
  /// The process-wide table.
  static const Opset& Get() {
    static const Opset* const kOpset = new Opset();
    return *kOpset;
  }

  /// The op as it exists in iOS `ios` (15..18), or null when it does not (yet) exist there.
  const OpSpec* Find(std::string_view name, int ios) const {
    auto it = by_name_.find(name);
    if (it == by_name_.end()) return nullptr;
    const OpSpec* found = nullptr;
    for (size_t i : it->second) {
      if (ops_[i].since <= ios) found = &ops_[i];
    }
    return found;
  }
  /// The first iOS version defining `name`; 0 when no version does.
  int FirstVersion(std::string_view name) const {
    auto it = by_name_.find(name);
    return it == by_name_.end() ? 0 : ops_[it->second.front()].since;
  }
  /// Every row, parsed, in table order.
  const std::vector<OpSpec>& ops() const { return ops_; }
  /// Rows that failed to parse (empty for a well-formed table).
  const std::vector<std::string>& malformed() const { return malformed_; }

 private:
  Opset() {
    for (const OpEntry& e : kOpTable) {
      OpSpec op;
      if (!internal::ParseEntry(e, &op)) {
        malformed_.push_back(e.name);
        continue;
      }
      by_name_[op.name].push_back(ops_.size());
      ops_.push_back(std::move(op));
    }
    for (auto& [name, rows] : by_name_) {
      for (size_t k = 0; k + 1 < rows.size(); ++k) ops_[rows[k]].until = ops_[rows[k + 1]].since;
    }
  }

  std::vector<OpSpec> ops_;
  std::map<std::string, std::vector<size_t>, std::less<>> by_name_;
  std::vector<std::string> malformed_;
};

}  // namespace ts2coreml::opset

#endif  // TS2COREML_MIL_OPSET_H_
