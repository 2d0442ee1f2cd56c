#include "core/mil/fp16.h"

#include <cmath>
#include <cstring>

namespace ts2coreml::mil {

uint16_t FloatToHalf(float value) {
  uint32_t f;
  std::memcpy(&f, &value, sizeof f);
  const uint32_t sign = (f >> 16) & 0x8000u;
  const uint32_t abs = f & 0x7fffffffu;
  if (abs >= 0x7f800000u) {  // inf or nan
    return static_cast<uint16_t>(sign | 0x7c00u | (abs > 0x7f800000u ? 0x200u : 0u));
  }
  if (abs >= 0x477ff000u) {  // rounds to >= 65520: overflow to infinity
    return static_cast<uint16_t>(sign | 0x7c00u);
  }
  if (abs < 0x38800000u) {  // below 2^-14: subnormal or zero in FP16
    if (abs < 0x33000000u) return static_cast<uint16_t>(sign);  // < 2^-25 rounds to zero
    const uint32_t exp = abs >> 23;
    const uint32_t mant = (abs & 0x7fffffu) | 0x800000u;
    const uint32_t shift = 126u - exp;  // 14 + 23 - 10 + (127 - 1 - exp) adjusted
    // value = mant * 2^(exp-150); half subnormal unit = 2^-24 -> bits = mant >> (126 - exp)
    uint32_t bits = mant >> shift;
    const uint32_t rem = mant & ((1u << shift) - 1u);
    const uint32_t half = 1u << (shift - 1u);
    if (rem > half || (rem == half && (bits & 1u))) ++bits;
    return static_cast<uint16_t>(sign | bits);
  }
  // Normal: rebias exponent from 127 to 15 and round the mantissa to 10 bits.
  uint32_t bits = ((abs >> 13) - ((127u - 15u) << 10));
  const uint32_t rem = abs & 0x1fffu;
  if (rem > 0x1000u || (rem == 0x1000u && (bits & 1u))) ++bits;
  return static_cast<uint16_t>(sign | bits);
}

float HalfToFloat(uint16_t h) {
  const uint32_t sign = (static_cast<uint32_t>(h) & 0x8000u) << 16;
  const uint32_t exp = (h >> 10) & 0x1fu;
  const uint32_t mant = h & 0x3ffu;
  uint32_t f;
  if (exp == 0) {
    if (mant == 0) {
      f = sign;
    } else {
      float v = std::ldexp(static_cast<float>(mant), -24);
      std::memcpy(&f, &v, sizeof f);
      f |= sign;
    }
  } else if (exp == 31) {
    f = sign | 0x7f800000u | (mant << 13);
  } else {
    f = sign | ((exp + 112u) << 23) | (mant << 13);
  }
  float out;
  std::memcpy(&out, &f, sizeof out);
  return out;
}

Fp16Fit ClassifyFp16(float value) {
  if (!std::isfinite(value) || value == 0.0f) return Fp16Fit::kExact;
  const float back = HalfToFloat(FloatToHalf(value));
  if (std::isinf(back)) return Fp16Fit::kOverflow;
  if (back == 0.0f) return Fp16Fit::kZero;
  if (std::fabs(value) < kFp16MinNormal) return Fp16Fit::kSubnormal;
  return Fp16Fit::kExact;
}

}  // namespace ts2coreml::mil
