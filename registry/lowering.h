/// What the registry knows about a plugin and its lowerings, copied out of the plugin's C structs.
///
/// Every string here is owned by the registry: nothing points into a plugin's memory except the
/// callbacks and `user_data`, which stay valid while the `Registry` that produced them is alive.
///
///   const Lowering* relu = *registry.Find("aten::relu", "");
///   std::cout << relu->name << " from " << relu->plugin->name << ", fp16 policy "
///             << Fp16PolicyName(relu->fp16_policy) << "\n";
#ifndef TS2COREML_REGISTRY_LOWERING_H_
#define TS2COREML_REGISTRY_LOWERING_H_

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "ts2coreml/plugin_abi.h"

namespace ts2coreml::registry {

/// A loaded plugin library.
struct PluginInfo {
  std::string name;            ///< the plugin's own name ("ts2coreml_builtin")
  std::string version;         ///< free-form version string; may be empty
  std::filesystem::path path;  ///< the canonical path the library was loaded from
  uint32_t abi_version = 0;    ///< the ABI version the plugin was built against
};

/// What a lowering expects of one TorchScript input of the node (a copy of `t2c_input_decl`).
struct InputDecl {
  std::string name;  ///< the schema argument name, for reports; may be empty
  t2c_input_role role = T2C_ROLE_TENSOR;
  t2c_dtype_mask dtypes = 0;  ///< accepted MIL dtypes for TENSOR/PARAM/TENSOR_LIST roles
  uint32_t flags = 0;         ///< T2C_INPUT_*

  bool optional() const { return (flags & T2C_INPUT_OPTIONAL) != 0; }
  bool keeps_class() const { return (flags & T2C_INPUT_KEEPS_CLASS) != 0; }
};

/// A limit of FP16 the lowering declares (a copy of `t2c_fp16_limit`): FP16 is safe while
/// `statistic` of input `input`, reduced over `axes`, stays at or below `bound`.
struct Fp16Limit {
  t2c_fp16_statistic statistic = T2C_FP16_STAT_MAGNITUDE;
  uint32_t input = 0;  ///< a T2C_ROLE_TENSOR input
  t2c_fp16_axes axes = T2C_FP16_AXES_ALL;
  uint32_t axes_input = 0;  ///< a T2C_ROLE_HOST input, unless axes is T2C_FP16_AXES_ALL
  double bound = 0;
  std::string what;          ///< "the sum of squares"
  uint32_t param_input = 0;  ///< a T2C_ROLE_HOST input holding the statistic's parameter (p)
};

/// One validated lowering declaration (a copy of `t2c_lowering_decl`).
struct Lowering {
  std::string name;  ///< short name for reports ("convolution")
  /// The plugin that declared it; owned by the same Registry (null only before registration).
  const PluginInfo* plugin = nullptr;
  /// Index of `plugin` in `Registry::plugins()`.
  size_t plugin_index = 0;
  /// Claimed ops: "ns::name.overload" for one overload, "ns::name" for all of them. Duplicates
  /// within one declaration are removed; the declared order is kept.
  std::vector<std::string> ops;
  int32_t priority = 0;  ///< higher wins when several lowerings claim an op
  t2c_fp16_policy fp16_policy = T2C_FP16_NATIVE;
  std::vector<InputDecl> inputs;
  t2c_infer_rule infer_rule = T2C_INFER_CUSTOM;
  t2c_infer_fn infer = nullptr;  ///< set when infer_rule is T2C_INFER_CUSTOM
  t2c_lower_fn lower = nullptr;  ///< null only for passthrough lowerings
  void* user_data = nullptr;     ///< passed back to infer and lower
  uint32_t flags = 0;            ///< T2C_LOWERING_*
  /// Full schemas of non-aten ops the core registers with LibTorch before loading a model.
  std::vector<std::string> schemas;
  /// FP16 limits the planner checks against calibration (empty for first-layout plugins).
  std::vector<Fp16Limit> fp16_limits;

  /// True for identity ops (dropout, contiguous) the core removes instead of lowering.
  bool passthrough() const { return (flags & T2C_LOWERING_PASSTHROUGH) != 0; }
};

/// The dtype bits a declaration may use: bool, fp16, fp32 and int32 (MIL strings are not tensors).
inline constexpr t2c_dtype_mask kKnownDtypeBits = T2C_MASK_ANY;

/// "native", "needs_fp32_compute", "fp32_params"; "unknown" for other values.
std::string_view Fp16PolicyName(t2c_fp16_policy policy);
/// "magnitude", "centered_squares", "exp_range", "sum_abs"; "unknown" for other values.
std::string_view Fp16StatisticName(t2c_fp16_statistic statistic);
/// "tensor", "param", "host", "tensor_list", "ignored"; "unknown" for other values.
std::string_view InputRoleName(t2c_input_role role);
/// "custom", "same_as_input0", "broadcast"; "unknown" for other values.
std::string_view InferRuleName(t2c_infer_rule rule);
/// "bool", "string", "fp16", "fp32", "int32"; "invalid" for other values.
std::string_view DtypeName(t2c_dtype dtype);
/// The dtypes of a mask joined by '|' in dtype order ("fp16|fp32|int32"); "none" for 0. Bits that
/// name no dtype are appended as one hex value ("fp32|0x80").
std::string DtypeMaskToString(t2c_dtype_mask mask);

}  // namespace ts2coreml::registry

#endif  // TS2COREML_REGISTRY_LOWERING_H_
