/// Built-in lowerings of convolutions: aten::_convolution, aten::convolution, aten::conv1d/2d/3d
/// (int and string padding) and aten::conv_transpose1d/2d/3d, to MIL conv and conv_transpose.
#ifndef TS2COREML_PLUGINS_CONV_CONV_LOWERINGS_H_
#define TS2COREML_PLUGINS_CONV_CONV_LOWERINGS_H_

#include "ts2coreml/plugin_abi.h"

namespace ts2coreml::plugins {

/// The conv family's plugin info (constant data; no lowering code runs to build it).
const t2c_plugin_info* ConvPluginInfo();

}  // namespace ts2coreml::plugins

#endif  // TS2COREML_PLUGINS_CONV_CONV_LOWERINGS_H_
