/// How error growth is judged when a package is compared with LibTorch value by value: the rule
/// `verify --localize` names the first op by, and `--precision auto` blames ops by
/// (docs/verify.md). An op's error "jumps" when it exceeds both kJumpFactor times the largest
/// error among the values it is computed from and a floor that depends on the precision.
///
///   const double e = RelativeToPeak(libtorch_value, package_value);
///   if (ErrorJumps(e, input_error, kJumpFloorFp16)) ...  // this op made the error
#ifndef TS2COREML_CORE_CONVERT_ERROR_GROWTH_H_
#define TS2COREML_CORE_CONVERT_ERROR_GROWTH_H_

#include <ATen/ATen.h>

namespace ts2coreml::core {

inline constexpr double kJumpFactor = 10.0;
inline constexpr double kJumpFloorFp32 = 1e-4;
inline constexpr double kJumpFloorFp16 = 1e-2;

/// The error of `got` relative to the peak magnitude of `ref` (infinite for NaN).
double RelativeToPeak(const at::Tensor& ref, const at::Tensor& got);

/// Whether an op whose output has `error`, computed from values whose largest error is
/// `input_error`, made the error rather than carried it.
inline bool ErrorJumps(double error, double input_error, double floor) {
  return error > floor && error > kJumpFactor * input_error;
}

}  // namespace ts2coreml::core

#endif  // TS2COREML_CORE_CONVERT_ERROR_GROWTH_H_
