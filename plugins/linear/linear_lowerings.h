/// Built-in lowerings of aten::linear, to MIL linear (constant weight) or matmul (runtime weight).
#ifndef TS2COREML_PLUGINS_LINEAR_LINEAR_LOWERINGS_H_
#define TS2COREML_PLUGINS_LINEAR_LINEAR_LOWERINGS_H_

#include "ts2coreml/plugin_abi.h"

namespace ts2coreml::plugins {

/// The linear family's plugin info (constant data; no lowering code runs to build it).
const t2c_plugin_info* LinearPluginInfo();

}  // namespace ts2coreml::plugins

#endif  // TS2COREML_PLUGINS_LINEAR_LINEAR_LOWERINGS_H_
