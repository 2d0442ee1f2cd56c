/// Built-in lowerings of reductions and search ops: aten::mean(.dim), sum(.dim_IntList), amax,
/// amin, aminmax, max / min (full, binary, .dim with indices), var, std, var_mean, std_mean,
/// argmax, argmin, nansum, nanmean, prod, logsumexp, all, any, count_nonzero, cumsum, cumprod,
/// logcumsumexp, cummax, cummin, topk, sort, argsort, median, kthvalue, norm, linalg_vector_norm,
/// linalg_norm, linalg_matrix_norm and frobenius_norm.
#ifndef TS2COREML_PLUGINS_REDUCTION_REDUCTION_LOWERINGS_H_
#define TS2COREML_PLUGINS_REDUCTION_REDUCTION_LOWERINGS_H_

#include "ts2coreml/plugin_abi.h"

namespace ts2coreml::plugins {

/// The reduction family's plugin info (constant data; no lowering code runs to build it).
const t2c_plugin_info* ReductionPluginInfo();

}  // namespace ts2coreml::plugins

#endif  // TS2COREML_PLUGINS_REDUCTION_REDUCTION_LOWERINGS_H_
