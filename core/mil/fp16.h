/// IEEE 754 binary16 conversion, independent of any framework.
#ifndef TS2COREML_CORE_MIL_FP16_H_
#define TS2COREML_CORE_MIL_FP16_H_

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
