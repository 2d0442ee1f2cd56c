#include "core/mil/fp16.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <system_error>
#include <thread>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#include <immintrin.h>
#define TS2COREML_X86 1
#endif

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

namespace {

// Bit pattern of |x| for the magnitude scan: for non-negative floats, integer order is float
// order, +inf is 0x7f800000 and every NaN is above it.
constexpr uint32_t kAbsMask = 0x7fffffffu;
constexpr uint32_t kInfBits = 0x7f800000u;

uint32_t Bits(float f) {
  uint32_t b;
  std::memcpy(&b, &f, sizeof b);
  return b;
}

float FromBits(uint32_t b) {
  float f;
  std::memcpy(&f, &b, sizeof f);
  return f;
}

// Thresholds on |x|'s bits, matching FloatToHalf: at most 2^-25 rounds to zero; below 2^-14 is
// subnormal; from 65520 - half an ulp up, finite values overflow.
constexpr uint32_t kZeroMaxBits = 0x33000000u;
constexpr uint32_t kMinNormalBits = 0x38800000u;
constexpr uint32_t kOverflowBits = 0x477ff000u;

/// Scalar scan of [begin, end), added to `scan` (max_abs kept as bits in `max_bits`).
void ScanScalar(const float* data, size_t begin, size_t end, uint32_t& max_bits, Fp16Scan& scan) {
  for (size_t i = begin; i < end; ++i) {
    const uint32_t a = Bits(data[i]) & kAbsMask;
    if (a >= kInfBits) {
      scan.non_finite = true;
      continue;
    }
    if (a > max_bits) max_bits = a;
    if (a == 0) continue;
    if (a <= kZeroMaxBits) {
      ++scan.zeros;
    } else if (a < kMinNormalBits) {
      ++scan.subnormals;
    } else if (a >= kOverflowBits) {
      ++scan.overflows;
    }
  }
}

void FloatsToHalvesScalar(const float* in, uint16_t* out, size_t n) {
  for (size_t i = 0; i < n; ++i) out[i] = FloatToHalf(in[i]);
}

#ifdef TS2COREML_X86
__attribute__((target("avx,f16c"))) void FloatsToHalvesF16c(const float* in, uint16_t* out,
                                                            size_t n) {
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256 x = _mm256_loadu_ps(in + i);
    // Round to nearest even, whatever MXCSR says; exceptions suppressed.
    const __m128i h = _mm256_cvtps_ph(x, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out + i), h);
    // NaN payloads: F16C keeps the payload's top bits, FloatToHalf writes one canonical quiet
    // NaN; redo those lanes so the bytes never depend on the CPU.
    if (_mm256_movemask_ps(_mm256_cmp_ps(x, x, _CMP_UNORD_Q)) != 0) {
      for (size_t k = i; k < i + 8; ++k) out[k] = FloatToHalf(in[k]);
    }
  }
  FloatsToHalvesScalar(in + i, out + i, n - i);
}

__attribute__((target("avx2"))) Fp16Scan ScanAvx2(const float* data, size_t n) {
  const __m256i abs_mask = _mm256_set1_epi32(static_cast<int>(kAbsMask));
  // Signed compares are fine: |x| has no sign bit.
  const __m256i inf_m1 = _mm256_set1_epi32(static_cast<int>(kInfBits - 1));
  const __m256i zero = _mm256_setzero_si256();
  const __m256i zero_max = _mm256_set1_epi32(static_cast<int>(kZeroMaxBits));
  const __m256i min_normal = _mm256_set1_epi32(static_cast<int>(kMinNormalBits));
  const __m256i overflow_m1 = _mm256_set1_epi32(static_cast<int>(kOverflowBits - 1));
  Fp16Scan scan;
  uint32_t max_bits = 0;
  size_t i = 0;
  while (i + 8 <= n) {
    // Lane counters are 32-bit: flush them to the 64-bit totals every 2^31 vectors at most.
    const size_t block_end = i + std::min<size_t>((n - i) / 8, size_t{1} << 30) * 8;
    __m256i vmax = zero, vbad = zero, vzeros = zero, vsub = zero, vover = zero;
    for (; i < block_end; i += 8) {
      const __m256i a = _mm256_and_si256(
          _mm256_loadu_si256(reinterpret_cast<const __m256i*>(data + i)), abs_mask);
      const __m256i bad = _mm256_cmpgt_epi32(a, inf_m1);
      vbad = _mm256_or_si256(vbad, bad);
      vmax = _mm256_max_epu32(vmax, _mm256_andnot_si256(bad, a));
      const __m256i nonzero = _mm256_xor_si256(_mm256_cmpeq_epi32(a, zero), _mm256_set1_epi32(-1));
      const __m256i to_zero = _mm256_andnot_si256(_mm256_cmpgt_epi32(a, zero_max), nonzero);
      const __m256i below_normal = _mm256_cmpgt_epi32(min_normal, a);
      const __m256i sub = _mm256_andnot_si256(to_zero, _mm256_and_si256(below_normal, nonzero));
      const __m256i over = _mm256_andnot_si256(bad, _mm256_cmpgt_epi32(a, overflow_m1));
      vzeros = _mm256_sub_epi32(vzeros, to_zero);  // mask lanes are -1
      vsub = _mm256_sub_epi32(vsub, sub);
      vover = _mm256_sub_epi32(vover, over);
    }
    alignas(32) uint32_t lanes[4][8];
    _mm256_store_si256(reinterpret_cast<__m256i*>(lanes[0]), vmax);
    _mm256_store_si256(reinterpret_cast<__m256i*>(lanes[1]), vzeros);
    _mm256_store_si256(reinterpret_cast<__m256i*>(lanes[2]), vsub);
    _mm256_store_si256(reinterpret_cast<__m256i*>(lanes[3]), vover);
    for (int k = 0; k < 8; ++k) {
      max_bits = std::max(max_bits, lanes[0][k]);
      scan.zeros += lanes[1][k];
      scan.subnormals += lanes[2][k];
      scan.overflows += lanes[3][k];
    }
    scan.non_finite |= !_mm256_testz_si256(vbad, vbad);
  }
  ScanScalar(data, i, n, max_bits, scan);
  scan.max_abs = FromBits(max_bits);
  return scan;
}

bool HasF16c() {
  // "avx" also checks that the OS saves the YMM registers; F16C itself is read from CPUID (leaf
  // 1, ECX bit 29) since clang 14's __builtin_cpu_supports does not know "f16c".
  static const bool has = [] {
    unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
    return __builtin_cpu_supports("avx") && __get_cpuid(1, &eax, &ebx, &ecx, &edx) != 0 &&
           (ecx & bit_F16C) != 0;
  }();
  return has;
}

bool HasAvx2() {
  static const bool has = __builtin_cpu_supports("avx2");
  return has;
}
#endif

}  // namespace

void FloatsToHalves(const float* in, uint16_t* out, size_t n) {
#ifdef TS2COREML_X86
  if (HasF16c()) return FloatsToHalvesF16c(in, out, n);
#endif
  FloatsToHalvesScalar(in, out, n);
}

namespace {

Fp16Scan ScanOneThread(const float* data, size_t n) {
#ifdef TS2COREML_X86
  if (HasAvx2()) return ScanAvx2(data, n);
#endif
  Fp16Scan scan;
  uint32_t max_bits = 0;
  ScanScalar(data, 0, n, max_bits, scan);
  scan.max_abs = FromBits(max_bits);
  return scan;
}

}  // namespace

Fp16Scan ScanForFp16(const float* data, size_t n) {
  // Large weights (vgg11's classifier: 400 MB) are scanned in two halves on two threads; the
  // result does not depend on the split (max, or, sums).
  constexpr size_t kSplitElements = size_t{1} << 21;  // 8 MB
  if (n < kSplitElements || std::thread::hardware_concurrency() < 2) return ScanOneThread(data, n);
  const size_t half = n / 2;
  Fp16Scan second;
  std::thread worker;
  try {
    worker = std::thread([&] { second = ScanOneThread(data + half, n - half); });
  } catch (const std::system_error&) {  // no thread to be had: one pass
    return ScanOneThread(data, n);
  }
  Fp16Scan scan = ScanOneThread(data, half);
  worker.join();
  scan.max_abs = std::max(scan.max_abs, second.max_abs);
  scan.non_finite = scan.non_finite || second.non_finite;
  scan.zeros += second.zeros;
  scan.subnormals += second.subnormals;
  scan.overflows += second.overflows;
  return scan;
}

float Fp16ScalarValue(float value) {
  const float rounded = HalfToFloat(FloatToHalf(value));
  if (rounded != 0 || value == 0 || std::isnan(value)) return rounded;
  return std::copysign(0x1p-24f, value);
}

}  // namespace ts2coreml::mil
