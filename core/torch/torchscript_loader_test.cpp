// Schema registration for plugin-declared ops: one bad schema does not keep the others out.
#include "core/torch/torchscript_loader.h"

#include <torch/script.h>

#include <cstdio>
#include <fstream>

#include "core/base/errors.h"
#include "core/model/zip_test_util.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace ts2coreml::core {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::Not;

bool Registered(const char* name) {
  return !torch::jit::getAllOperatorsFor(c10::Symbol::fromQualString(name)).empty();
}

TEST(RegisterCustomSchemasTest, ARejectedSchemaIsReportedAndTheOthersAreRegistered) {
  absl::Status s = RegisterCustomSchemas({"t2cxtest::good(Tensor x) -> Tensor",
                                          "t2cxtest::bad(Tensor x, Bogus y) -> Tensor",
                                          "t2cxtest::good2(Tensor x, float a) -> Tensor"});
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(ClassOf(s), ErrorClass::kPlugin);
  const std::string msg(s.message());
  EXPECT_THAT(msg, AllOf(HasSubstr("t2cxtest::bad"), HasSubstr("Bogus"), Not(HasSubstr("\n"))));
  EXPECT_THAT(msg, Not(HasSubstr("good")));
  EXPECT_TRUE(Registered("t2cxtest::good"));
  EXPECT_TRUE(Registered("t2cxtest::good2"));
  EXPECT_FALSE(Registered("t2cxtest::bad"));
  // Registering again is harmless.
  EXPECT_TRUE(RegisterCustomSchemas({"t2cxtest::good(Tensor x) -> Tensor"}).ok());
}

TEST(LoadTorchScriptTest, FilesThatAreNotTorchScriptAreModelErrorsNamingTheFile) {
  absl::StatusOr<torch::jit::Module> m = LoadTorchScript("/nonexistent/model.pt");
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(ClassOf(m.status()), ErrorClass::kModel);
  EXPECT_THAT(std::string(m.status().message()), HasSubstr("/nonexistent/model.pt: no such file"));
}

// A file LibTorch's unpickler would crash on is refused before LibTorch sees it, in process.
TEST(LoadTorchScriptTest, ACraftedPickleIsRefusedBeforeLibTorchReadsIt) {
  const std::string path = ::testing::TempDir() + "/crafted_tuple3.pt";
  std::ofstream(path, std::ios::binary) << test::MakeZip(
      {{"archive/version", "3\n"},
       {"archive/data.pkl", std::string("\x80\x02K\x01\x87.")},
       {"archive/constants.pkl", std::string("\x80\x02).")},
       {"archive/code/__torch__.py", "def forward(self, x):\n    return x\n"}});
  absl::StatusOr<torch::jit::Module> m = LoadTorchScript(path);
  std::remove(path.c_str());
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(ClassOf(m.status()), ErrorClass::kModel);
  EXPECT_THAT(
      std::string(m.status().message()),
      AllOf(HasSubstr(path + ": archive entry 'archive/data.pkl': at byte 4: TUPLE3 needs 3"),
            HasSubstr("save the model again"), Not(HasSubstr("\n"))));
}

}  // namespace
}  // namespace ts2coreml::core
