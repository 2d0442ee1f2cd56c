/// Tests of sdk::InputIndex, which names a lowering's input positions from its input table.
#include <gtest/gtest.h>

#include "ts2coreml/sdk.h"

namespace ts2coreml::sdk {
namespace {

constexpr t2c_input_decl kInputs[] = {Tensor("self"), Host("dim", T2C_INPUT_OPTIONAL),
                                      Host("dim_or_unbiased"), Ignored("dtype")};

// Resolved while compiling: these constants are usable wherever a constant expression is.
static_assert(InputIndex(kInputs, "self") == 0);
static_assert(InputIndex(kInputs, "dtype") == 3);

TEST(InputIndexTest, FindsEachDeclaredNameAtItsPosition) {
  EXPECT_EQ(InputIndex(kInputs, "self"), 0u);
  EXPECT_EQ(InputIndex(kInputs, "dim"), 1u);
  EXPECT_EQ(InputIndex(kInputs, "dim_or_unbiased"), 2u);
  EXPECT_EQ(InputIndex(kInputs, "dtype"), 3u);
}

TEST(InputIndexTest, MatchesWholeNamesOnly) {
  // "dim" is a prefix of "dim_or_unbiased"; neither may be taken for the other.
  constexpr t2c_input_decl kPrefixFirst[] = {Host("dim_or_unbiased"), Host("dim")};
  EXPECT_EQ(InputIndex(kPrefixFirst, "dim"), 1u);
  EXPECT_EQ(InputIndex(kPrefixFirst, "dim_or_unbiased"), 0u);
}

TEST(InputIndexTest, AnUndeclaredNameHasNoPosition) {
  // Evaluated at run time (never in a plugin, where a constant is required) it gives no valid
  // position; in a constant it stops the compilation instead.
  const char* name = "dims";
  EXPECT_EQ(InputIndex(kInputs, name), UINT32_MAX);
}

}  // namespace
}  // namespace ts2coreml::sdk
