/// Built-in lowerings of elementwise ops: arithmetic (add, sub, rsub, mul, div, floor_divide,
/// remainder, pow), comparisons, masked_fill, and (unary_lowerings.h, binary_math_lowerings.h)
/// unary math, rounding, predicates, logic, clamping, where, atan2, lerp, addcmul and the like.
#ifndef TS2COREML_PLUGINS_ELEMENTWISE_ELEMENTWISE_LOWERINGS_H_
#define TS2COREML_PLUGINS_ELEMENTWISE_ELEMENTWISE_LOWERINGS_H_

#include "ts2coreml/plugin_abi.h"

namespace ts2coreml::plugins {

/// The elementwise family's plugin info (constant data; no lowering code runs to build it).
const t2c_plugin_info* ElementwisePluginInfo();

}  // namespace ts2coreml::plugins

#endif  // TS2COREML_PLUGINS_ELEMENTWISE_ELEMENTWISE_LOWERINGS_H_
