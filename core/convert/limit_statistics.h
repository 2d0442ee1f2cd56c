/// The statistics of the FP16 limits lowerings declare (t2c_fp16_statistic), measured by
/// calibration (calibrate.cpp) on LibTorch's FP32 values: one home for what each statistic is.
///
///   double s = LimitStatistic(T2C_FP16_STAT_SUM_ABS, x, {1}, /*p=*/2);  // largest sum of |x|
#ifndef TS2COREML_CORE_CONVERT_LIMIT_STATISTICS_H_
#define TS2COREML_CORE_CONVERT_LIMIT_STATISTICS_H_

#include <ATen/ATen.h>

#include <cstdint>
#include <vector>

#include "ts2coreml/plugin_abi.h"

namespace ts2coreml::core {

/// `statistic` of `x` reduced over `axes` (sorted, distinct, in range), the largest over the
/// groups reduced together; `p` is POWER_SUM's order (unused by the others). 0 for an empty `x`,
/// NaN for a statistic this build does not know or PREFIX_SUM_RANGE over other than one axis.
double LimitStatistic(t2c_fp16_statistic statistic, const at::Tensor& x,
                      const std::vector<int64_t>& axes, double p);

/// max - min over `axis` of the running sums of `x` with the empty sum 0: the largest |sum of a
/// contiguous run| (T2C_FP16_STAT_PREFIX_SUM_RANGE).
double PrefixSumRange(const at::Tensor& x, int64_t axis);

/// The largest product over `axes` of max(1, |x|) (T2C_FP16_STAT_PROD_GROWTH), computed as a
/// power of 2 of a sum of logarithms (inf past double's range).
double ProdGrowth(const at::Tensor& x, const std::vector<int64_t>& axes);

/// The largest product over `axes` of max(1, 1 / |x|) over the nonzero x
/// (T2C_FP16_STAT_PROD_SHRINK).
double ProdShrink(const at::Tensor& x, const std::vector<int64_t>& axes);

/// The largest sum over `axes` of |x|^p; p = 0: the count of nonzero x; p = +-inf: the largest
/// |x| (T2C_FP16_STAT_POWER_SUM).
double PowerSum(const at::Tensor& x, const std::vector<int64_t>& axes, double p);

/// The largest sum over `axes` of exp(x - max over `axes`) (T2C_FP16_STAT_EXP_SUM).
double ExpSum(const at::Tensor& x, const std::vector<int64_t>& axes);

}  // namespace ts2coreml::core

#endif  // TS2COREML_CORE_CONVERT_LIMIT_STATISTICS_H_
