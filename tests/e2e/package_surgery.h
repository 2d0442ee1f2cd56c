/// Packages broken on purpose, for tests that verify must fail and `--localize` must pin.
///
///   ASSERT_TRUE(CorruptConst(*pkg, *weight_const_op));
#ifndef TS2COREML_TESTS_E2E_PACKAGE_SURGERY_H_
#define TS2COREML_TESTS_E2E_PACKAGE_SURGERY_H_

#include "core/mil/package_reader.h"
#include "gtest/gtest.h"

namespace ts2coreml::testing {

/// Overwrites the first 64 elements of const op `weight`'s data in `pkg`'s weight.bin with 4.0
/// (the const must be stored there, not inline).
::testing::AssertionResult CorruptConst(const mil::Package& pkg,
                                        const CoreML::Specification::MILSpec::Operation& weight);

}  // namespace ts2coreml::testing

#endif  // TS2COREML_TESTS_E2E_PACKAGE_SURGERY_H_
