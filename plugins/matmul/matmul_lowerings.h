/// Built-in lowerings of matrix products: aten::matmul (every documented rank case), mm, bmm,
/// addmm, baddbmm and einsum (the equations MIL can express with transpose/reshape/matmul/
/// reduce_sum; diagonals and size-1 broadcasting of a subscript are refused by name).
#ifndef TS2COREML_PLUGINS_MATMUL_MATMUL_LOWERINGS_H_
#define TS2COREML_PLUGINS_MATMUL_MATMUL_LOWERINGS_H_

#include "ts2coreml/plugin_abi.h"

namespace ts2coreml::plugins {

/// The matmul family's plugin info (constant data; no lowering code runs to build it).
const t2c_plugin_info* MatmulPluginInfo();

}  // namespace ts2coreml::plugins

#endif  // TS2COREML_PLUGINS_MATMUL_MATMUL_LOWERINGS_H_
