#include "registry/op_names.h"

#include "gtest/gtest.h"

namespace ts2coreml::registry {
namespace {

TEST(OpNames, SplitOp) {
  EXPECT_EQ(SplitOp("aten::add.Tensor"),
            std::make_pair(std::string_view("aten::add"), std::string_view("Tensor")));
  EXPECT_EQ(SplitOp("aten::add"),
            std::make_pair(std::string_view("aten::add"), std::string_view()));
  EXPECT_EQ(SplitOp("add.Tensor").second, "Tensor");
}

TEST(OpNames, FunctionalNameOfInPlaceVariants) {
  EXPECT_EQ(FunctionalName("aten::relu_"), "aten::relu");
  EXPECT_EQ(FunctionalName("aten::hardswish_"), "aten::hardswish");
  EXPECT_EQ(FunctionalName("aten::relu"), "");
  EXPECT_EQ(FunctionalName("aten::__and__"), "");
  EXPECT_EQ(FunctionalName("aten::_"), "");
  EXPECT_EQ(FunctionalName("relu_"), "");
}

TEST(OpNames, ResolvedName) {
  EXPECT_EQ(ResolvedName("aten::add_"), "aten::add");
  EXPECT_EQ(ResolvedName("aten::add"), "aten::add");
  EXPECT_EQ(ResolvedName("aten::__iand__"), "aten::__iand__");
}

}  // namespace
}  // namespace ts2coreml::registry
