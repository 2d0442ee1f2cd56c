// FirstLine: the one line of a LibTorch exception message that goes into an error.
#include "core/base/errors.h"

#include "gtest/gtest.h"

namespace ts2coreml::core {
namespace {

TEST(FirstLineTest, TakesTheFirstNonBlankLineTrimmed) {
  EXPECT_EQ(FirstLine("shape mismatch\nException raised from foo at bar.cpp:12"), "shape mismatch");
  EXPECT_EQ(FirstLine("\n  \nExpected a value of type 'Tensor'\n  frame #0"),
            "Expected a value of type 'Tensor'");
  EXPECT_EQ(FirstLine("  indented  \r\nrest"), "indented");
}

TEST(FirstLineTest, DropsTheEnforcePrefixOfC10Checks) {
  EXPECT_EQ(FirstLine("[enforce fail at inline_container.cc:222] . file not found: a/b"),
            "file not found: a/b");
  EXPECT_EQ(FirstLine("[enforce fail at x.cc:1] size mismatch"), "size mismatch");
}

TEST(FirstLineTest, NothingToSayIsUnknownError) {
  EXPECT_EQ(FirstLine(""), "unknown error");
  EXPECT_EQ(FirstLine("\n \n"), "unknown error");
}

}  // namespace
}  // namespace ts2coreml::core
