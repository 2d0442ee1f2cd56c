/// IEEE 754 binary16 conversion, independent of any framework.
#ifndef TS2COREML_CORE_MIL_FP16_H_
#define TS2COREML_CORE_MIL_FP16_H_

#include <cstddef>
#include <cstdint>

namespace ts2coreml::mil {

/// Largest finite FP16 value.
inline constexpr float kFp16Max = 65504.0f;
/// Smallest positive normal FP16 value.
inline constexpr float kFp16MinNormal = 6.103515625e-05f;

/// Rounds a float to the nearest FP16 bit pattern (ties to even); overflow gives infinity.
uint16_t FloatToHalf(float value);
/// Widens an FP16 bit pattern to float exactly.
float HalfToFloat(uint16_t bits);

/// The value a scalar constant (an epsilon, a clamp bound, a plugin's number) has in FP16:
/// FloatToHalf's rounding of `value`, except that a nonzero value FP16 would round to zero keeps
/// its sign as the smallest subnormal, +-2^-24, so that a guard against division by zero
/// (`norm.clamp_min(1e-12)`, `var + 1e-12`) stays a guard. Tensors (weights) round as they are.
float Fp16ScalarValue(float value);

/// FloatToHalf over `n` elements, bit-identical to it for every input (NaNs included) on every
/// machine; uses the CPU's F16C conversion when it has one (8 elements per instruction), the
/// scalar FloatToHalf otherwise. This is the weight writer's inner loop (docs/performance.md).
void FloatsToHalves(const float* in, uint16_t* out, size_t n);

/// What storing a float array in FP16 does to it, found in one pass (AVX2 when the CPU has it).
/// The counts classify exactly as ClassifyFp16 would, element by element.
struct Fp16Scan {
  float max_abs = 0;        ///< largest |x| over the finite elements, 0 when none
  bool non_finite = false;  ///< some element is infinite or NaN
  int64_t zeros = 0;        ///< nonzero elements that round to zero (Fp16Fit::kZero)
  int64_t subnormals = 0;   ///< elements that become FP16 subnormals (Fp16Fit::kSubnormal)
  int64_t overflows = 0;    ///< finite elements that become infinity (Fp16Fit::kOverflow)
};
Fp16Scan ScanForFp16(const float* data, size_t n);

/// How a float survives conversion to FP16.
enum class Fp16Fit {
  kExact,      ///< representable without loss beyond normal FP16 rounding
  kSubnormal,  ///< nonzero but below the smallest normal: loses relative precision
  kZero,       ///< nonzero, rounds to zero
  kOverflow,   ///< finite, beyond the FP16 range: becomes infinity
};
Fp16Fit ClassifyFp16(float value);

}  // namespace ts2coreml::mil

#endif  // TS2COREML_CORE_MIL_FP16_H_
