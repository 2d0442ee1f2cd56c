// The bounded nesting scan of TorchScript source: printed code passes, each construct that makes
// LibTorch's parser recurse past its stack is refused with the line.
#include "core/model/code_check.h"

#include <string>

#include "core/base/errors.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace ts2coreml::core {
namespace {

using ::testing::HasSubstr;

std::string Repeat(const std::string& s, int n) {
  std::string out;
  for (int i = 0; i < n; ++i) out += s;
  return out;
}

std::string Refusal(const std::string& code) {
  absl::Status s = CheckTorchScriptCode(code);
  EXPECT_FALSE(s.ok()) << "accepted";
  EXPECT_EQ(ClassOf(s), ErrorClass::kModel);
  return std::string(s.message());
}

/// A forward() whose body is `body` (already indented by four spaces).
std::string Forward(const std::string& body) {
  return "class M(Module):\n  __parameters__ = []\n  def forward(self: __torch__.M,\n"
         "    x: Tensor) -> Tensor:\n" +
         body;
}

TEST(CodeCheckTest, AcceptsPrintedCode) {
  const std::string code = Forward(
      "    _0 = torch.relu(torch._convolution(x, self.w, None, [1, 1], [0, 0], [1, 1], False, "
      "[0, 0], 1, False, False, True, True))\n"
      "    if torch.gt(x, 0):\n      y = torch.neg(x)\n    else:\n      y = x\n"
      "    s = \"((((( not a bracket\"  # (((( nor this\n"
      "    t = [-1, -2, -3, -4, -5, -6, -7, -8, -9, -10, -11, -12, -13, -14, -15, -16, -17, -18]\n"
      "    e = 1.0e-05 + 2e+3\n"
      "    return torch.add(y, _0, alpha=1)\n");
  EXPECT_TRUE(CheckTorchScriptCode(code).ok()) << CheckTorchScriptCode(code);
  // A long list of negative numbers is wide, not deep.
  std::string wide = "    t = [" + Repeat("-1, ", 5000) + "-1]\n    return x\n";
  EXPECT_TRUE(CheckTorchScriptCode(Forward(wide)).ok());
  // 150 nested calls stay inside the bound.
  const std::string calls =
      "    return " + Repeat("torch.neg(", 150) + "x" + Repeat(")", 150) + "\n";
  EXPECT_TRUE(CheckTorchScriptCode(Forward(calls)).ok());
}

TEST(CodeCheckTest, RefusesDeepBrackets) {
  const std::string code =
      Forward("    return " + Repeat("(", 10000) + "x" + Repeat(")", 10000) + "\n");
  EXPECT_THAT(Refusal(code),
              HasSubstr("line 5: brackets and chained operators nest more than 200 deep"));
  EXPECT_THAT(Refusal(Forward("    return " + Repeat("[", 201) + "x\n")),
              HasSubstr("more than 200"));
}

TEST(CodeCheckTest, RefusesLongOperatorChains) {
  EXPECT_THAT(Refusal(Forward("    return x" + Repeat(" + x", 10000) + "\n")), HasSubstr("line 5"));
  EXPECT_THAT(Refusal(Forward("    return " + Repeat("-", 10000) + "x\n")),
              HasSubstr("more than 200"));
  EXPECT_THAT(Refusal(Forward("    return " + Repeat("not ", 300) + "x\n")),
              HasSubstr("more than 200"));
  // A chain continued over lines inside brackets is one expression.
  EXPECT_THAT(Refusal(Forward("    return (x" + Repeat("\n      + x", 300) + ")\n")),
              HasSubstr("line 205"));
}

TEST(CodeCheckTest, RefusesDeepBlocksAndElifChains) {
  std::string nest;
  for (int i = 0; i < 200; ++i) nest += std::string(4 + 2 * i, ' ') + "if True:\n";
  nest += std::string(404, ' ') + "x = x\n    return x\n";
  EXPECT_THAT(Refusal(Forward(nest)), HasSubstr("blocks and elif chains nest more than 100 deep"));
  std::string elifs = "    if True:\n      y = x\n";
  for (int i = 0; i < 300; ++i) elifs += "    elif True:\n      y = x\n";
  elifs += "    else:\n      y = x\n    return y\n";
  EXPECT_THAT(Refusal(Forward(elifs)), HasSubstr("elif chains nest more than 100"));
  // Many if statements one after the other are not a chain.
  std::string ifs;
  for (int i = 0; i < 300; ++i) ifs += "    if True:\n      y = x\n    else:\n      y = x\n";
  EXPECT_TRUE(CheckTorchScriptCode(Forward(ifs + "    return y\n")).ok());
}

TEST(CodeCheckTest, UnterminatedStringsAndCommentsEndCleanly) {
  EXPECT_TRUE(CheckTorchScriptCode("x = \"(((\n").ok());
  EXPECT_TRUE(CheckTorchScriptCode("x = '''(((\n").ok());
  EXPECT_TRUE(CheckTorchScriptCode("# ((((").ok());
  EXPECT_TRUE(CheckTorchScriptCode("x = \"\\").ok());
  EXPECT_TRUE(CheckTorchScriptCode(")))]]]").ok());
}

}  // namespace
}  // namespace ts2coreml::core
