#include "core/convert/limit_statistics.h"

#include <cmath>
#include <limits>

namespace ts2coreml::core {
namespace {

/// `x` as double (the statistics are measured beyond FP32's range without overflowing early).
at::Tensor AsDouble(const at::Tensor& x) { return x.detach().to(at::kDouble); }

/// 2 to the largest sum over `axes` of `log2s`.
double LargestPowerOfTwo(const at::Tensor& log2s, const std::vector<int64_t>& axes) {
  return std::exp2(log2s.sum(axes).max().item<double>());
}

}  // namespace

double PrefixSumRange(const at::Tensor& x, int64_t axis) {
  const at::Tensor s = AsDouble(x).cumsum(axis);
  if (s.numel() == 0) return 0;
  const at::Tensor zero = at::zeros_like(s.select(axis, 0));
  const at::Tensor high = at::maximum(s.amax(axis), zero);
  const at::Tensor low = at::minimum(s.amin(axis), zero);
  return (high - low).max().item<double>();
}

double ProdGrowth(const at::Tensor& x, const std::vector<int64_t>& axes) {
  if (x.numel() == 0) return 0;
  return LargestPowerOfTwo(AsDouble(x).abs().clamp_min(1).log2(), axes);
}

double ProdShrink(const at::Tensor& x, const std::vector<int64_t>& axes) {
  if (x.numel() == 0) return 0;
  const at::Tensor a = AsDouble(x).abs();
  // log2 of max(1, 1 / |x|) is -log2(min(1, |x|)); a zero stops the product (contributes 0).
  const at::Tensor shrink = -a.clamp_max(1).log2();
  return LargestPowerOfTwo(at::where(a > 0, shrink, at::zeros_like(shrink)), axes);
}

double PowerSum(const at::Tensor& x, const std::vector<int64_t>& axes, double p) {
  if (x.numel() == 0) return 0;
  const at::Tensor a = AsDouble(x).abs();
  if (std::isinf(p)) return a.max().item<double>();
  if (p == 0) return (a > 0).to(at::kDouble).sum(axes).max().item<double>();
  // A zero's |x|^p with p < 0 is inf, whose root 0 is the norm in every precision: left out.
  const at::Tensor powered = a.pow(p);
  return at::where(a > 0, powered, at::zeros_like(powered)).sum(axes).max().item<double>();
}

double ExpSum(const at::Tensor& x, const std::vector<int64_t>& axes) {
  if (x.numel() == 0) return 0;
  const at::Tensor d = AsDouble(x);
  return (d - d.amax(axes, /*keepdim=*/true)).exp().sum(axes).max().item<double>();
}

double LimitStatistic(t2c_fp16_statistic statistic, const at::Tensor& x_in,
                      const std::vector<int64_t>& axes, double p) {
  const at::Tensor x = AsDouble(x_in);
  if (x.numel() == 0) return 0;
  switch (statistic) {
    case T2C_FP16_STAT_MAGNITUDE:
      return x.abs().max().item<double>();
    case T2C_FP16_STAT_CENTERED_SQUARES: {
      const at::Tensor c = x - x.mean(axes, /*keepdim=*/true);
      return (c * c).sum(axes).max().item<double>();
    }
    case T2C_FP16_STAT_EXP_RANGE:
      return (x.amax(axes) - x.amin(axes)).max().item<double>();
    case T2C_FP16_STAT_SUM_ABS:
      return x.abs().sum(axes).max().item<double>();
    case T2C_FP16_STAT_SUM_SQUARES:
      return (x * x).sum(axes).max().item<double>();
    case T2C_FP16_STAT_PREFIX_SUM_RANGE:
      return axes.size() == 1 ? PrefixSumRange(x, axes[0])
                              : std::numeric_limits<double>::quiet_NaN();
    case T2C_FP16_STAT_PROD_GROWTH:
      return ProdGrowth(x, axes);
    case T2C_FP16_STAT_PROD_SHRINK:
      return ProdShrink(x, axes);
    case T2C_FP16_STAT_POWER_SUM:
      return PowerSum(x, axes, p);
    case T2C_FP16_STAT_EXP_SUM:
      return ExpSum(x, axes);
  }
  return std::numeric_limits<double>::quiet_NaN();
}

}  // namespace ts2coreml::core
