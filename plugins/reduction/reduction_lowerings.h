/// Built-in lowerings of reductions: aten::mean(.dim), sum(.dim_IntList), amax, amin, max.dim,
/// min.dim (values), var and std.
#ifndef TS2COREML_PLUGINS_REDUCTION_REDUCTION_LOWERINGS_H_
#define TS2COREML_PLUGINS_REDUCTION_REDUCTION_LOWERINGS_H_

#include "ts2coreml/plugin_abi.h"

namespace ts2coreml::plugins {

/// The reduction family's plugin info (constant data; no lowering code runs to build it).
const t2c_plugin_info* ReductionPluginInfo();

}  // namespace ts2coreml::plugins

#endif  // TS2COREML_PLUGINS_REDUCTION_REDUCTION_LOWERINGS_H_
