#include "core/convert/keep_fp32_rules.h"

#include <string>

#include "absl/strings/match.h"
#include "core/base/errors.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace ts2coreml::core {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

KeepFp32Rule Rule(absl::string_view text) {
  absl::StatusOr<KeepFp32Rule> rule = KeepFp32Rule::Parse(text);
  EXPECT_TRUE(rule.ok()) << rule.status();
  return *rule;
}

Node MakeNode(std::string kind, std::string overload, std::string scope) {
  Node n;
  n.kind = std::move(kind);
  n.overload = std::move(overload);
  n.scope = std::move(scope);
  return n;
}

TEST(KeepFp32Rule, OpKindMatchesOverloadsAndInPlaceVariants) {
  const Node add_ = MakeNode("aten::add_", "Tensor", "");
  const Node add_scalar = MakeNode("aten::add", "Scalar", "");
  EXPECT_TRUE(Rule("aten::add").Matches(add_));
  EXPECT_TRUE(Rule("aten::add.Tensor").Matches(add_));
  EXPECT_TRUE(Rule("aten::add_").Matches(add_scalar));
  EXPECT_FALSE(Rule("aten::add.Tensor").Matches(add_scalar));
  EXPECT_FALSE(Rule("aten::sub").Matches(add_));
  // A dunder is not an in-place variant.
  EXPECT_FALSE(Rule("aten::__and_").Matches(MakeNode("aten::__and__", "", "")));
}

TEST(KeepFp32Rule, ModulePathMatchesTheModuleAndEverythingInside) {
  EXPECT_TRUE(Rule("enc.layers.0").Matches(MakeNode("aten::linear", "", "enc.layers.0.attn")));
  EXPECT_TRUE(Rule("enc.layers.0").Matches(MakeNode("aten::linear", "", "enc.layers.0")));
  EXPECT_FALSE(Rule("enc.layers.0").Matches(MakeNode("aten::linear", "", "enc.layers.01")));
}

TEST(KeepFp32Rule, RegexesMatchInLinearTime) {
  // Nested repetition backtracks exponentially in a backtracking matcher (this took over a
  // minute on a 30-character scope), and a long scope overflowed its recursion.
  const Node node = MakeNode("aten::linear", "", "encoder.layers.0.self_attention.out_proj");
  EXPECT_FALSE(Rule("re:(.*.*.*)*X").Matches(node));
  EXPECT_TRUE(Rule("re:(a|aa|.)*proj").Matches(node));
  EXPECT_TRUE(Rule("re:.*attn.*|.*attention.*").Matches(node));
  EXPECT_TRUE(
      Rule("re:e.*j").Matches(MakeNode("aten::add", "", "e" + std::string(200000, 'x') + "j")));
  // Back-references cannot be matched that way: a usage error when the rule is read.
  absl::StatusOr<KeepFp32Rule> backref = KeepFp32Rule::Parse("re:(a)\\1");
  ASSERT_FALSE(backref.ok());
  EXPECT_EQ(ClassOf(backref.status()), ErrorClass::kUsage);
  EXPECT_THAT(backref.status().message(), HasSubstr("bad regex"));
}

Graph TwoNodeGraph() {
  Graph g;
  Node& conv = g.AddNode("aten::_convolution", "", {}, 1);
  conv.scope = "features.0.block";
  Node& act = g.AddNode("aten::hardswish_", "", {}, 1);
  act.scope = "features.1";
  return g;
}

TEST(CheckRulesMatch, RulesThatMatchPass) {
  const Graph g = TwoNodeGraph();
  const KeepFp32Rule rules[] = {Rule("aten::hardswish"), Rule("features.0"), Rule("re:.*conv.*")};
  EXPECT_TRUE(CheckRulesMatch(g, rules).ok());
}

TEST(CheckRulesMatch, AnOpKindThatMatchesNothingNamesTheNearestKinds) {
  const Graph g = TwoNodeGraph();
  const KeepFp32Rule rules[] = {Rule("aten::conv2d")};
  const absl::Status s = CheckRulesMatch(g, rules);
  EXPECT_EQ(ClassOf(s), ErrorClass::kUsage);
  EXPECT_THAT(s.message(), HasSubstr("--keep-fp32 aten::conv2d matches no node of the model; op "
                                     "kinds near it: aten::_convolution"));
  EXPECT_THAT(s.message(), ::testing::Not(HasSubstr("hardswish")));
}

TEST(CheckRulesMatch, AModulePathWithATypoNamesTheNearestPaths) {
  const Graph g = TwoNodeGraph();
  const KeepFp32Rule rules[] = {Rule("featres.0")};
  const absl::Status s = CheckRulesMatch(g, rules);
  EXPECT_EQ(ClassOf(s), ErrorClass::kUsage);
  EXPECT_THAT(s.message(), HasSubstr("module paths near it: features.0"));
}

TEST(CheckRulesMatch, ARegexThatMatchesNothingIsAnError) {
  const Graph g = TwoNodeGraph();
  const KeepFp32Rule rules[] = {Rule("re:.*attn.*")};
  EXPECT_EQ(ClassOf(CheckRulesMatch(g, rules)), ErrorClass::kUsage);
}

TEST(Nearest, SharedRunsFirstThenFewestEdits) {
  EXPECT_THAT(Nearest("aten::conv2d", {"aten::relu", "aten::_convolution", "aten::cat"}, 3),
              ElementsAre("aten::_convolution"));
  EXPECT_THAT(Nearest("enc.layrs.0", {"enc", "enc.layers", "enc.layers.0", "head"}, 2),
              ElementsAre("enc.layers.0", "enc.layers"));
  EXPECT_TRUE(Nearest("zzz", {"aten::relu"}, 3).empty());
}

}  // namespace
}  // namespace ts2coreml::core
