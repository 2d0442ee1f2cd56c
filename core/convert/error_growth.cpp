#include "core/convert/error_growth.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace ts2coreml::core {

double RelativeToPeak(const at::Tensor& ref, const at::Tensor& got) {
  const at::Tensor r = ref.to(at::kDouble);
  const at::Tensor g = got.to(at::kDouble).reshape(r.sizes());
  const double peak = r.numel() ? r.abs().max().item<double>() : 0;
  const double err = r.numel() ? (r - g).abs().max().item<double>() : 0;
  if (std::isnan(err)) return std::numeric_limits<double>::infinity();
  return err / std::max(peak, 1e-6);
}

}  // namespace ts2coreml::core
