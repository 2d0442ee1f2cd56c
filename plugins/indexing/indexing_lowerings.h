/// Built-in lowerings of indexing and data-movement ops: slice, select, narrow, chunk, split,
/// unbind (Tensor[] outputs), expand, expand_as, repeat, roll and pad (constant, reflect,
/// replicate, circular).
#ifndef TS2COREML_PLUGINS_INDEXING_INDEXING_LOWERINGS_H_
#define TS2COREML_PLUGINS_INDEXING_INDEXING_LOWERINGS_H_

#include "ts2coreml/plugin_abi.h"

namespace ts2coreml::plugins {

/// The indexing family's plugin info (constant data; no lowering code runs to build it).
const t2c_plugin_info* IndexingPluginInfo();

}  // namespace ts2coreml::plugins

#endif  // TS2COREML_PLUGINS_INDEXING_INDEXING_LOWERINGS_H_
