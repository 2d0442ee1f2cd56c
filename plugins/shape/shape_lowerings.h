/// Built-in lowerings of shape ops (flatten, reshape, view, permute, transpose, unsqueeze, squeeze,
/// cat) and the identity ops the core removes (dropout, contiguous, detach, clone).
#ifndef TS2COREML_PLUGINS_SHAPE_SHAPE_LOWERINGS_H_
#define TS2COREML_PLUGINS_SHAPE_SHAPE_LOWERINGS_H_

#include "ts2coreml/plugin_abi.h"

namespace ts2coreml::plugins {

/// The shape family's plugin info (constant data; no lowering code runs to build it).
const t2c_plugin_info* ShapePluginInfo();

}  // namespace ts2coreml::plugins

#endif  // TS2COREML_PLUGINS_SHAPE_SHAPE_LOWERINGS_H_
