#include "core/mil/fp16.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <vector>

#include "gtest/gtest.h"

namespace ts2coreml::mil {
namespace {

TEST(MilFp16Test, ExactValues) {
  EXPECT_EQ(FloatToHalf(0.0f), 0x0000);
  EXPECT_EQ(FloatToHalf(-0.0f), 0x8000);
  EXPECT_EQ(FloatToHalf(1.0f), 0x3c00);
  EXPECT_EQ(FloatToHalf(-2.0f), 0xc000);
  EXPECT_EQ(FloatToHalf(0.5f), 0x3800);
  EXPECT_EQ(FloatToHalf(0.333251953125f), 0x3555);
  EXPECT_EQ(FloatToHalf(65504.0f), 0x7bff);
  EXPECT_EQ(FloatToHalf(kFp16MinNormal), 0x0400);
  EXPECT_EQ(HalfToFloat(0x3c00), 1.0f);
  EXPECT_EQ(HalfToFloat(0x7bff), 65504.0f);
  EXPECT_EQ(HalfToFloat(0xc000), -2.0f);
  EXPECT_EQ(HalfToFloat(0x0400), kFp16MinNormal);
}

TEST(MilFp16Test, RoundsToNearestTiesToEven) {
  const float ulp = std::ldexp(1.0f, -10);  // FP16 spacing just above 1
  // Exactly halfway between 1 (even mantissa) and 1 + ulp: stays at 1.
  EXPECT_EQ(FloatToHalf(1.0f + ulp / 2), 0x3c00);
  // Halfway between 1 + ulp (odd) and 1 + 2 ulp (even): goes up to the even one.
  EXPECT_EQ(FloatToHalf(1.0f + 3 * ulp / 2), 0x3c02);
  // Just above a tie rounds up, just below rounds down.
  EXPECT_EQ(FloatToHalf(1.0f + ulp / 2 + std::ldexp(1.0f, -20)), 0x3c01);
  EXPECT_EQ(FloatToHalf(1.0f + ulp / 2 - std::ldexp(1.0f, -20)), 0x3c00);
  // A carry out of the mantissa bumps the exponent: 2 - ulp/4 rounds to 2.
  EXPECT_EQ(FloatToHalf(2.0f - ulp / 4), 0x4000);
}

TEST(MilFp16Test, Subnormals) {
  const float tiny = std::ldexp(1.0f, -24);  // smallest FP16 subnormal
  EXPECT_EQ(FloatToHalf(tiny), 0x0001);
  EXPECT_EQ(HalfToFloat(0x0001), tiny);
  EXPECT_EQ(HalfToFloat(0x03ff), 1023 * tiny);
  EXPECT_EQ(FloatToHalf(1023 * tiny), 0x03ff);
  EXPECT_EQ(FloatToHalf(tiny / 2), 0x0000);      // tie between 0 and 1: even is 0
  EXPECT_EQ(FloatToHalf(tiny * 1.5f), 0x0002);   // tie between 1 and 2: even is 2
  EXPECT_EQ(FloatToHalf(tiny * 2.5f), 0x0002);   // tie between 2 and 3: even is 2
  EXPECT_EQ(FloatToHalf(tiny * 0.75f), 0x0001);  // above the tie
  EXPECT_EQ(FloatToHalf(-tiny), 0x8001);
  EXPECT_EQ(FloatToHalf(1e-5f), 0x00a8);  // 1e-5 / 2^-24 = 167.77 -> 168
  EXPECT_EQ(FloatToHalf(1e-12f), 0x0000);
  EXPECT_EQ(FloatToHalf(std::numeric_limits<float>::denorm_min()), 0x0000);
  // The largest subnormal rounds up into the smallest normal.
  EXPECT_EQ(FloatToHalf(1023.75f * tiny), 0x0400);
}

TEST(MilFp16Test, OverflowAndSpecials) {
  EXPECT_EQ(FloatToHalf(65519.0f), 0x7bff);  // below the halfway point to 65536
  EXPECT_EQ(FloatToHalf(65520.0f), 0x7c00);  // the tie rounds to even: infinity
  EXPECT_EQ(FloatToHalf(1e6f), 0x7c00);
  EXPECT_EQ(FloatToHalf(-1e6f), 0xfc00);
  EXPECT_EQ(FloatToHalf(std::numeric_limits<float>::infinity()), 0x7c00);
  EXPECT_EQ(FloatToHalf(-std::numeric_limits<float>::infinity()), 0xfc00);
  const uint16_t nan = FloatToHalf(std::numeric_limits<float>::quiet_NaN());
  EXPECT_EQ(nan & 0x7c00, 0x7c00);
  EXPECT_NE(nan & 0x03ff, 0);
  EXPECT_TRUE(std::isnan(HalfToFloat(nan)));
  EXPECT_TRUE(std::isinf(HalfToFloat(0x7c00)));
}

TEST(MilFp16Test, EveryHalfRoundTripsThroughFloat) {
  for (uint32_t h = 0; h <= 0xffff; ++h) {
    const float f = HalfToFloat(static_cast<uint16_t>(h));
    if (std::isnan(f)) continue;
    ASSERT_EQ(FloatToHalf(f), h) << "bits 0x" << std::hex << h;
  }
}

// A scalar constant keeps its sign and stays nonzero: 1e-12 is the smallest subnormal, not 0.
TEST(MilFp16Test, ScalarValueStaysNonzero) {
  EXPECT_EQ(Fp16ScalarValue(1e-12f), 0x1p-24f);
  EXPECT_EQ(Fp16ScalarValue(-1e-12f), -0x1p-24f);
  EXPECT_EQ(Fp16ScalarValue(0x1p-25f), 0x1p-24f);  // FloatToHalf rounds this tie to zero
  EXPECT_EQ(Fp16ScalarValue(0.0f), 0.0f);
  EXPECT_EQ(Fp16ScalarValue(1e-7f), HalfToFloat(FloatToHalf(1e-7f)));  // a subnormal: as rounded
  EXPECT_EQ(Fp16ScalarValue(1.0f / 3.0f), HalfToFloat(FloatToHalf(1.0f / 3.0f)));
  EXPECT_TRUE(std::isnan(Fp16ScalarValue(std::nanf(""))));
  EXPECT_EQ(Fp16ScalarValue(1e6f), std::numeric_limits<float>::infinity());
}

TEST(MilFp16Test, Classify) {
  EXPECT_EQ(ClassifyFp16(0.0f), Fp16Fit::kExact);
  EXPECT_EQ(ClassifyFp16(1.0f), Fp16Fit::kExact);
  EXPECT_EQ(ClassifyFp16(0.1f), Fp16Fit::kExact);  // ordinary rounding only
  EXPECT_EQ(ClassifyFp16(65504.0f), Fp16Fit::kExact);
  EXPECT_EQ(ClassifyFp16(-65504.0f), Fp16Fit::kExact);
  EXPECT_EQ(ClassifyFp16(kFp16MinNormal), Fp16Fit::kExact);
  EXPECT_EQ(ClassifyFp16(1e-5f), Fp16Fit::kSubnormal);
  EXPECT_EQ(ClassifyFp16(-1e-5f), Fp16Fit::kSubnormal);
  EXPECT_EQ(ClassifyFp16(1e-12f), Fp16Fit::kZero);
  EXPECT_EQ(ClassifyFp16(70000.0f), Fp16Fit::kOverflow);
  EXPECT_EQ(ClassifyFp16(-1e30f), Fp16Fit::kOverflow);
  EXPECT_EQ(ClassifyFp16(std::numeric_limits<float>::infinity()), Fp16Fit::kExact);
}

/// Float bit patterns that exercise every exponent (normals, subnormals, zero, inf, NaN, both
/// signs) with mantissas at and around every FP16 rounding tie, plus pseudo-random ones.
std::vector<float> Patterns() {
  std::vector<uint32_t> bits;
  for (uint32_t sign = 0; sign < 2; ++sign) {
    for (uint32_t exp = 0; exp < 256; ++exp) {
      for (uint32_t high = 0; high < 1024; high += 7) {  // the mantissa bits FP16 keeps
        for (uint32_t low : {0u, 1u, 0xfffu, 0x1000u, 0x1001u, 0x1fffu, 0x0800u}) {
          bits.push_back(sign << 31 | exp << 23 | high << 13 | low);
        }
      }
      bits.push_back(sign << 31 | exp << 23 | 0x7fffffu);
    }
  }
  uint32_t state = 12345;              // xorshift: deterministic
  for (int i = 0; i < 2000003; ++i) {  // odd count: exercises the non-vector tail
    state ^= state << 13;
    state ^= state >> 17;
    state ^= state << 5;
    bits.push_back(state);
  }
  std::vector<float> out(bits.size());
  std::memcpy(out.data(), bits.data(), bits.size() * sizeof(float));
  return out;
}

TEST(MilFp16Test, BulkConversionIsBitIdenticalToScalar) {
  const std::vector<float> in = Patterns();
  std::vector<uint16_t> bulk(in.size());
  FloatsToHalves(in.data(), bulk.data(), in.size());
  int mismatches = 0;
  for (size_t i = 0; i < in.size() && mismatches < 5; ++i) {
    if (bulk[i] != FloatToHalf(in[i])) {
      ++mismatches;
      ADD_FAILURE() << "input bits 0x" << std::hex <<
          [&] {
            uint32_t b;
            std::memcpy(&b, &in[i], 4);
            return b;
          }() << ": bulk 0x"
                    << bulk[i] << ", scalar 0x" << FloatToHalf(in[i]);
    }
  }
  // Every length below a vector and odd offsets (unaligned loads and stores).
  for (size_t n = 0; n < 20; ++n) {
    std::vector<uint16_t> part(n + 1, 0xabcd);
    FloatsToHalves(in.data() + 3, part.data() + 1, n);
    EXPECT_EQ(part[0], 0xabcd);
    for (size_t k = 0; k < n; ++k) EXPECT_EQ(part[k + 1], FloatToHalf(in[3 + k])) << n << " " << k;
  }
}

TEST(MilFp16Test, ScanForFp16AgreesWithClassifyElementByElement) {
  const std::vector<float> all = Patterns();
  for (size_t n :
       {size_t{0}, size_t{1}, size_t{7}, size_t{8}, size_t{9}, size_t{1000}, all.size()}) {
    for (bool finite_only : {false, true}) {
      std::vector<float> data;
      for (size_t i = 0; i < all.size() && data.size() < n; ++i) {
        if (!finite_only || std::isfinite(all[i])) data.push_back(all[i]);
      }
      Fp16Scan want;
      for (float x : data) {
        if (!std::isfinite(x)) {
          want.non_finite = true;
          continue;
        }
        want.max_abs = std::max(want.max_abs, std::fabs(x));
        switch (ClassifyFp16(x)) {
          case Fp16Fit::kZero:
            ++want.zeros;
            break;
          case Fp16Fit::kSubnormal:
            ++want.subnormals;
            break;
          case Fp16Fit::kOverflow:
            ++want.overflows;
            break;
          case Fp16Fit::kExact:
            break;
        }
      }
      const Fp16Scan got = ScanForFp16(data.data(), data.size());
      EXPECT_EQ(got.max_abs, want.max_abs) << n;
      EXPECT_EQ(got.non_finite, want.non_finite) << n;
      EXPECT_EQ(got.zeros, want.zeros) << n;
      EXPECT_EQ(got.subnormals, want.subnormals) << n;
      EXPECT_EQ(got.overflows, want.overflows) << n;
      if (n == all.size()) {  // the patterns reach every class
        EXPECT_GT(want.zeros, 0);
        EXPECT_GT(want.subnormals, 0);
        EXPECT_GT(want.overflows, 0);
      }
    }
  }
}

// Large arrays are scanned in two halves on two threads: what either half finds is in the result.
TEST(MilFp16Test, ScanOfALargeArrayCombinesBothHalves) {
  const size_t n = (size_t{1} << 22) + 3;
  for (size_t where : {size_t{0}, n / 2 - 1, n / 2, n - 1}) {
    std::vector<float> data(n, 0.5f);
    data[where] = 70000.0f;            // overflows
    data[(where + 1) % n] = 1e-30f;    // flushes to zero
    data[(where + 2) % n] = 1e-6f;     // subnormal
    data[(where + 3) % n] = -3.0e38f;  // the largest magnitude
    data[(where + 4) % n] = std::nanf("");
    const Fp16Scan got = ScanForFp16(data.data(), data.size());
    EXPECT_EQ(got.overflows, 2) << where;  // 70000 and -3e38
    EXPECT_EQ(got.zeros, 1) << where;
    EXPECT_EQ(got.subnormals, 1) << where;
    EXPECT_EQ(got.max_abs, 3.0e38f) << where;
    EXPECT_TRUE(got.non_finite) << where;
  }
}

}  // namespace
}  // namespace ts2coreml::mil
