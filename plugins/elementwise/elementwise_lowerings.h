/// Built-in lowerings of elementwise arithmetic: aten::add, sub, mul, div (Tensor and Scalar
/// overloads).
#ifndef TS2COREML_PLUGINS_ELEMENTWISE_ELEMENTWISE_LOWERINGS_H_
#define TS2COREML_PLUGINS_ELEMENTWISE_ELEMENTWISE_LOWERINGS_H_

#include "ts2coreml/plugin_abi.h"

namespace ts2coreml::plugins {

/// The elementwise family's plugin info (constant data; no lowering code runs to build it).
const t2c_plugin_info* ElementwisePluginInfo();

}  // namespace ts2coreml::plugins

#endif  // TS2COREML_PLUGINS_ELEMENTWISE_ELEMENTWISE_LOWERINGS_H_
