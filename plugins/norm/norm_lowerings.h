/// Built-in lowerings of normalizations: aten::batch_norm, layer_norm, group_norm and
/// instance_norm.
#ifndef TS2COREML_PLUGINS_NORM_NORM_LOWERINGS_H_
#define TS2COREML_PLUGINS_NORM_NORM_LOWERINGS_H_

#include "ts2coreml/plugin_abi.h"

namespace ts2coreml::plugins {

/// The norm family's plugin info (constant data; no lowering code runs to build it).
const t2c_plugin_info* NormPluginInfo();

}  // namespace ts2coreml::plugins

#endif  // TS2COREML_PLUGINS_NORM_NORM_LOWERINGS_H_
