/// Built-in lowerings of pooling: aten::max_pool{1,2,3}d, avg_pool{1,2,3}d,
/// adaptive_avg_pool{1,2}d.
#ifndef TS2COREML_PLUGINS_POOLING_POOLING_LOWERINGS_H_
#define TS2COREML_PLUGINS_POOLING_POOLING_LOWERINGS_H_

#include "ts2coreml/plugin_abi.h"

namespace ts2coreml::plugins {

/// The pooling family's plugin info (constant data; no lowering code runs to build it).
const t2c_plugin_info* PoolingPluginInfo();

}  // namespace ts2coreml::plugins

#endif  // TS2COREML_PLUGINS_POOLING_POOLING_LOWERINGS_H_
