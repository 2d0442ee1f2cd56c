#include "registry/declaration_reader.h"

#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace ts2coreml::registry {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

t2c_status Lower(const t2c_host_api*, t2c_context*, void*) { return T2C_OK; }
t2c_status Infer(const t2c_host_api*, t2c_context*, void*) { return T2C_OK; }

/// A valid one-lowering plugin whose parts each test can break.
class DeclarationReaderTest : public ::testing::Test {
 protected:
  DeclarationReaderTest() {
    inputs_[0] = {"self", T2C_ROLE_TENSOR, T2C_MASK_FLOAT, 0};
    inputs_[1] = {"alpha", T2C_ROLE_HOST, 0, T2C_INPUT_OPTIONAL};
    decl_ = {sizeof(t2c_lowering_decl),
             lowering_name_.c_str(),
             ops_,
             2,
             /*priority=*/3,
             T2C_FP16_NEEDS_FP32_COMPUTE,
             inputs_,
             2,
             T2C_INFER_CUSTOM,
             Infer,
             Lower,
             &user_data_,
             0,
             schemas_,
             1,
             nullptr,
             0};
    info_ = {T2C_ABI_VERSION, sizeof(t2c_plugin_info), plugin_name_.c_str(), "1.0", &decl_, 1};
  }

  absl::Status ReadStatus() { return ReadPluginDeclarations(&info_).status(); }

  std::string plugin_name_ = "test_plugin";
  std::string lowering_name_ = "relu";
  const char* ops_[3] = {"aten::relu", "aten::relu.out", "aten::relu"};
  const char* schemas_[1] = {"aten::relu.out(Tensor self, *, Tensor(a!) out) -> Tensor(a!)"};
  t2c_input_decl inputs_[2];
  int user_data_ = 7;
  t2c_lowering_decl decl_;
  t2c_plugin_info info_;
};

TEST_F(DeclarationReaderTest, CopiesEveryField) {
  absl::StatusOr<PluginDeclarations> decls = ReadPluginDeclarations(&info_);
  ASSERT_TRUE(decls.ok()) << decls.status();
  // The strings are copies: changing the plugin's buffers does not change them.
  plugin_name_[0] = 'X';
  lowering_name_[0] = 'X';
  EXPECT_EQ(decls->name, "test_plugin");
  EXPECT_EQ(decls->version, "1.0");
  EXPECT_EQ(decls->abi_version, T2C_ABI_VERSION);
  ASSERT_EQ(decls->lowerings.size(), 1u);
  const Lowering& l = decls->lowerings[0];
  EXPECT_EQ(l.name, "relu");
  EXPECT_THAT(l.ops, ElementsAre("aten::relu", "aten::relu.out"));  // duplicate removed
  EXPECT_EQ(l.priority, 3);
  EXPECT_EQ(l.fp16_policy, T2C_FP16_NEEDS_FP32_COMPUTE);
  ASSERT_EQ(l.inputs.size(), 2u);
  EXPECT_EQ(l.inputs[0].name, "self");
  EXPECT_EQ(l.inputs[0].role, T2C_ROLE_TENSOR);
  EXPECT_EQ(l.inputs[0].dtypes, T2C_MASK_FLOAT);
  EXPECT_FALSE(l.inputs[0].optional());
  EXPECT_EQ(l.inputs[1].role, T2C_ROLE_HOST);
  EXPECT_TRUE(l.inputs[1].optional());
  EXPECT_EQ(l.infer_rule, T2C_INFER_CUSTOM);
  EXPECT_EQ(l.infer, &Infer);
  EXPECT_EQ(l.lower, &Lower);
  EXPECT_EQ(l.user_data, &user_data_);
  EXPECT_FALSE(l.passthrough());
  EXPECT_THAT(l.schemas,
              ElementsAre("aten::relu.out(Tensor self, *, Tensor(a!) out) -> Tensor(a!)"));
  EXPECT_EQ(l.plugin, nullptr);
}

TEST_F(DeclarationReaderTest, NullInfoIsRefused) {
  absl::Status s = ReadPluginDeclarations(nullptr).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(), "ts2coreml_plugin_entry returned null");
}

TEST_F(DeclarationReaderTest, AbiVersionZeroIsRefused) {
  info_.abi_version = 0;
  EXPECT_EQ(ReadStatus().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(ReadStatus().message(), HasSubstr("ABI version 0"));
}

TEST_F(DeclarationReaderTest, NewerAbiIsRefusedWithRebuildHint) {
  info_.abi_version = 7;
  EXPECT_EQ(ReadStatus().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(ReadStatus().message(),
              HasSubstr("plugin ABI 7 is newer than this ts2coreml (ABI 1); rebuild"));
}

TEST_F(DeclarationReaderTest, SmallPluginInfoIsRefused) {
  info_.struct_size = 12;
  EXPECT_EQ(ReadStatus().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(ReadStatus().message(), HasSubstr("t2c_plugin_info.struct_size is 12 bytes"));
}

TEST_F(DeclarationReaderTest, SmallLoweringDeclIsRefused) {
  decl_.struct_size = T2C_LOWERING_DECL_MIN_SIZE - 8;
  EXPECT_EQ(ReadStatus().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(ReadStatus().message(), HasSubstr("t2c_lowering_decl.struct_size is"));
}

TEST_F(DeclarationReaderTest, ImplausibleLoweringDeclSizeIsRefused) {
  decl_.struct_size = 1u << 20;
  EXPECT_THAT(ReadStatus().message(), HasSubstr("at most 4096"));
  decl_.struct_size = sizeof(t2c_lowering_decl) + 4;
  EXPECT_THAT(ReadStatus().message(), HasSubstr("is not a multiple of 8"));
}

TEST_F(DeclarationReaderTest, MixedLoweringSizesAreRefused) {
  t2c_lowering_decl two[2] = {decl_, decl_};
  two[1].struct_size = sizeof(t2c_lowering_decl) + 8;
  info_.lowerings = two;
  info_.num_lowerings = 2;
  EXPECT_THAT(ReadStatus().message(), HasSubstr("lowering #1 has struct_size"));
}

TEST_F(DeclarationReaderTest, LargerFutureLayoutsUseTheirOwnStride) {
  struct Future {
    t2c_lowering_decl v1;
    uint64_t appended[3];
  };
  struct FutureInfo {
    t2c_plugin_info v1;
    uint64_t appended;
  };
  const char* ops_a[] = {"aten::a"};
  const char* ops_b[] = {"aten::b"};
  Future future[2] = {{decl_, {~0ull, ~0ull, ~0ull}}, {decl_, {~0ull, ~0ull, ~0ull}}};
  for (Future& f : future) {
    f.v1.struct_size = sizeof(Future);
    f.v1.num_schemas = 0;  // the schema names aten::relu.out, which these do not claim
  }
  future[0].v1.name = "first";
  future[0].v1.ops = ops_a;
  future[0].v1.num_ops = 1;
  future[1].v1.name = "second";
  future[1].v1.ops = ops_b;
  future[1].v1.num_ops = 1;
  FutureInfo info = {info_, 0};
  info.v1.struct_size = sizeof(FutureInfo);
  info.v1.lowerings = &future[0].v1;
  info.v1.num_lowerings = 2;
  absl::StatusOr<PluginDeclarations> decls = ReadPluginDeclarations(&info.v1);
  ASSERT_TRUE(decls.ok()) << decls.status();
  ASSERT_EQ(decls->lowerings.size(), 2u);
  EXPECT_EQ(decls->lowerings[0].name, "first");
  EXPECT_THAT(decls->lowerings[0].ops, ElementsAre("aten::a"));
  EXPECT_EQ(decls->lowerings[1].name, "second");
  EXPECT_THAT(decls->lowerings[1].ops, ElementsAre("aten::b"));
}

TEST_F(DeclarationReaderTest, Fp16LimitsAreCopiedAndCheckedAgainstTheInputs) {
  t2c_fp16_limit limits[2] = {
      {sizeof(t2c_fp16_limit), T2C_FP16_STAT_EXP_RANGE, 0, T2C_FP16_AXES_DIMS, 1, 16.5, "range"},
      {sizeof(t2c_fp16_limit), T2C_FP16_STAT_MAGNITUDE, 0, T2C_FP16_AXES_ALL, 0, 100.0, "peak"}};
  decl_.fp16_limits = limits;
  decl_.num_fp16_limits = 2;
  absl::StatusOr<PluginDeclarations> decls = ReadPluginDeclarations(&info_);
  ASSERT_TRUE(decls.ok()) << decls.status();
  const std::vector<Fp16Limit>& read = decls->lowerings.at(0).fp16_limits;
  ASSERT_EQ(read.size(), 2u);
  EXPECT_EQ(read[0].statistic, T2C_FP16_STAT_EXP_RANGE);
  EXPECT_EQ(read[0].axes, T2C_FP16_AXES_DIMS);
  EXPECT_EQ(read[0].axes_input, 1u);
  EXPECT_EQ(read[0].bound, 16.5);
  EXPECT_EQ(read[0].what, "range");
  EXPECT_EQ(read[1].statistic, T2C_FP16_STAT_MAGNITUDE);
  EXPECT_EQ(Fp16StatisticName(read[1].statistic), "magnitude");

  const auto refused = [&](const std::function<void(t2c_fp16_limit&)>& edit) {
    t2c_fp16_limit bad[2] = {limits[0], limits[1]};
    edit(bad[1]);
    decl_.fp16_limits = bad;
    return std::string(ReadStatus().message());
  };
  EXPECT_THAT(refused([](auto& l) { l.statistic = 11; }),
              HasSubstr("fp16 limit #1 has unknown statistic 11"));
  EXPECT_THAT(refused([](auto& l) { l.input = 1; }),
              HasSubstr("fp16 limit #1 measures input #1, which is not a tensor input"));
  EXPECT_THAT(refused([](auto& l) { l.axes = T2C_FP16_AXES_TRAILING; }),
              HasSubstr("reads its axes from input #0, which is not a host input"));
  EXPECT_THAT(refused([](auto& l) { l.axes = T2C_FP16_AXES_CHANNEL_GROUPS; }),
              HasSubstr("reads its axes from input #0, which is not a host input"));
  EXPECT_THAT(refused([](auto& l) { l.axes = 5; }), HasSubstr("has unknown axes 5 (known: 0..4)"));
  EXPECT_THAT(refused([](auto& l) { l.statistic = 0; }),
              HasSubstr("has unknown statistic 0 (known: 1..10)"));
  // The power sum reads its order p from a host input.
  EXPECT_THAT(
      refused([](auto& l) { l.statistic = T2C_FP16_STAT_POWER_SUM; }),
      HasSubstr("fp16 limit #1 reads its order p from input #0, which is not a host input"));
  EXPECT_EQ(refused([](auto& l) {
              l.statistic = T2C_FP16_STAT_POWER_SUM;
              l.param_input = 1;
            }),
            "");
  // The spatial axes and the sum of squares read no host input.
  EXPECT_EQ(refused([](auto& l) {
              l.axes = T2C_FP16_AXES_SPATIAL;
              l.statistic = T2C_FP16_STAT_SUM_SQUARES;
            }),
            "");
  EXPECT_THAT(refused([](auto& l) { l.bound = -1; }), HasSubstr("positive finite number"));
  EXPECT_THAT(refused([](auto& l) { l.what = nullptr; }), HasSubstr("what is null"));
  EXPECT_THAT(refused([](auto& l) { l.struct_size = 56; }),
              HasSubstr("fp16 limit #1 has struct_size 56 but fp16 limit #0 has"));
  decl_.fp16_limits = nullptr;
  EXPECT_THAT(ReadStatus().message(), HasSubstr("declares 2 fp16 limits but fp16_limits is null"));
}

TEST_F(DeclarationReaderTest, Fp16LimitsOfTheFirstLayoutReadNoParameter) {
  // A plugin built before param_input was appended: 40-byte limits, stepped through at 40.
  static_assert(sizeof(t2c_fp16_limit) > T2C_FP16_LIMIT_MIN_SIZE, "param_input is appended");
  alignas(t2c_fp16_limit) unsigned char bytes[2 * T2C_FP16_LIMIT_MIN_SIZE] = {};
  for (uint32_t k = 0; k < 2; ++k) {
    const t2c_fp16_limit l = {T2C_FP16_LIMIT_MIN_SIZE,
                              T2C_FP16_STAT_SUM_ABS,
                              0,
                              T2C_FP16_AXES_DIMS,
                              1,
                              100.0 + k,
                              "sum",
                              7};
    std::memcpy(bytes + k * T2C_FP16_LIMIT_MIN_SIZE, &l, T2C_FP16_LIMIT_MIN_SIZE);
  }
  decl_.fp16_limits = reinterpret_cast<const t2c_fp16_limit*>(bytes);
  decl_.num_fp16_limits = 2;
  absl::StatusOr<PluginDeclarations> decls = ReadPluginDeclarations(&info_);
  ASSERT_TRUE(decls.ok()) << decls.status();
  const std::vector<Fp16Limit>& read = decls->lowerings.at(0).fp16_limits;
  ASSERT_EQ(read.size(), 2u);
  EXPECT_EQ(read[1].bound, 101.0);
  EXPECT_EQ(read[1].param_input, 0u);  // not copied past the plugin's 40 bytes
}

TEST_F(DeclarationReaderTest, PluginWithoutLoweringsIsValid) {
  info_.lowerings = nullptr;
  info_.num_lowerings = 0;
  absl::StatusOr<PluginDeclarations> decls = ReadPluginDeclarations(&info_);
  ASSERT_TRUE(decls.ok()) << decls.status();
  EXPECT_TRUE(decls->lowerings.empty());
}

TEST_F(DeclarationReaderTest, PassthroughNeedsNoCallbacks) {
  decl_.flags = T2C_LOWERING_PASSTHROUGH;
  decl_.lower = nullptr;
  decl_.infer = nullptr;
  absl::StatusOr<PluginDeclarations> decls = ReadPluginDeclarations(&info_);
  ASSERT_TRUE(decls.ok()) << decls.status();
  EXPECT_TRUE(decls->lowerings[0].passthrough());
}

TEST_F(DeclarationReaderTest, ATensorInputMayKeepItsClass) {
  inputs_[0].flags = T2C_INPUT_KEEPS_CLASS;
  absl::StatusOr<PluginDeclarations> decls = ReadPluginDeclarations(&info_);
  ASSERT_TRUE(decls.ok()) << decls.status();
  EXPECT_TRUE(decls->lowerings[0].inputs[0].keeps_class());
  EXPECT_FALSE(decls->lowerings[0].inputs[0].optional());
  EXPECT_FALSE(decls->lowerings[0].inputs[1].keeps_class());
}

TEST_F(DeclarationReaderTest, NullVersionReadsAsEmpty) {
  info_.version = nullptr;
  absl::StatusOr<PluginDeclarations> decls = ReadPluginDeclarations(&info_);
  ASSERT_TRUE(decls.ok()) << decls.status();
  EXPECT_EQ(decls->version, "");
}

/// One way to break a valid plugin, and what the refusal must say.
struct InvalidCase {
  std::string what;
  std::function<void(t2c_plugin_info&, t2c_lowering_decl&, t2c_input_decl*)> breaker;
  std::string expected;
};

TEST_F(DeclarationReaderTest, InvalidDeclarationsAreRefusedWithReason) {
  static const char* kEmptyOp[] = {""};
  static const char* kNullOp[] = {nullptr};
  static const char* kUnqualified[] = {"relu"};
  static const char* kNullSchema[] = {nullptr};
  static const char* kBadSchema[] = {"not a schema"};
  static const char* kUnbalancedSchema[] = {"aten::relu(Tensor x -> Tensor"};
  static const char* kNoReturnSchema[] = {"aten::relu(Tensor x)"};
  static const char* kUnclaimedSchema[] = {"mylib::fancy_gleu(Tensor x) -> Tensor"};
  const std::vector<InvalidCase> cases = {
      {"null plugin name", [](auto& i, auto&, auto*) { i.name = nullptr; }, "plugin name is null"},
      {"empty plugin name", [](auto& i, auto&, auto*) { i.name = ""; }, "plugin name is empty"},
      {"multi-line plugin name", [](auto& i, auto&, auto*) { i.name = "a\nb"; },
       "plugin name contains non-printable characters"},
      {"null lowerings", [](auto& i, auto&, auto*) { i.lowerings = nullptr; },
       "plugin declares 1 lowerings but lowerings is null"},
      {"null lowering name", [](auto&, auto& d, auto*) { d.name = nullptr; },
       "lowering #0: name is null"},
      {"empty lowering name", [](auto&, auto& d, auto*) { d.name = ""; },
       "lowering #0: name is empty"},
      {"zero ops", [](auto&, auto& d, auto*) { d.num_ops = 0; },
       "lowering 'relu' (#0): declares no ops"},
      {"null ops", [](auto&, auto& d, auto*) { d.ops = nullptr; },
       "lowering 'relu' (#0): declares 2 ops but ops is null"},
      {"empty op",
       [](auto&, auto& d, auto*) {
         d.ops = kEmptyOp;
         d.num_ops = 1;
       },
       "lowering 'relu' (#0): op #0 is empty"},
      {"null op",
       [](auto&, auto& d, auto*) {
         d.ops = kNullOp;
         d.num_ops = 1;
       },
       "lowering 'relu' (#0): op #0 is null"},
      {"unqualified op",
       [](auto&, auto& d, auto*) {
         d.ops = kUnqualified;
         d.num_ops = 1;
       },
       "lowering 'relu' (#0): op 'relu' is not a qualified op name; write 'ns::name' or "
       "'ns::name.overload'"},
      {"fp16 policy out of range", [](auto&, auto& d, auto*) { d.fp16_policy = 3; },
       "unknown fp16_policy 3"},
      {"negative fp16 policy", [](auto&, auto& d, auto*) { d.fp16_policy = -1; },
       "unknown fp16_policy -1"},
      {"infer rule out of range", [](auto&, auto& d, auto*) { d.infer_rule = 9; },
       "unknown infer_rule 9"},
      {"custom rule without infer", [](auto&, auto& d, auto*) { d.infer = nullptr; },
       "infer_rule is custom but the infer callback is null"},
      {"null lower", [](auto&, auto& d, auto*) { d.lower = nullptr; },
       "the lower callback is null; set lower or flag the lowering T2C_LOWERING_PASSTHROUGH"},
      {"unknown lowering flag", [](auto&, auto& d, auto*) { d.flags = 0x80; },
       "unknown flag bits 0x80"},
      {"null inputs", [](auto&, auto& d, auto*) { d.inputs = nullptr; },
       "declares 2 inputs but inputs is null"},
      {"role out of range", [](auto&, auto&, auto* in) { in[0].role = 5; },
       "input 'self' has unknown role 5"},
      {"string dtype", [](auto&, auto&, auto* in) { in[0].dtypes |= 1u << T2C_DTYPE_STRING; },
       "lowering 'relu' (#0): input 'self' has dtype bits outside bool|fp16|fp32|int32: string"},
      {"unknown dtype bit", [](auto&, auto&, auto* in) { in[0].dtypes |= 1u << 30; },
       "input 'self' has dtype bits outside bool|fp16|fp32|int32: 0x40000000"},
      {"tensor accepting nothing", [](auto&, auto&, auto* in) { in[0].dtypes = 0; },
       "input 'self' has role tensor but accepts no dtype"},
      {"unknown input flag", [](auto&, auto&, auto* in) { in[1].flags = 13; },
       "input 'alpha' has unknown flag bits 0xc"},
      {"host input keeping its class",
       [](auto&, auto&, auto* in) { in[1].flags = T2C_INPUT_OPTIONAL | T2C_INPUT_KEEPS_CLASS; },
       "input 'alpha' has T2C_INPUT_KEEPS_CLASS but role host (only tensor inputs keep a class)"},
      {"unnamed input with bad role",
       [](auto&, auto&, auto* in) {
         in[1].name = nullptr;
         in[1].role = 17;
       },
       "input #1 has unknown role 17"},
      {"null schemas", [](auto&, auto& d, auto*) { d.schemas = nullptr; },
       "declares 1 schemas but schemas is null"},
      {"null schema", [](auto&, auto& d, auto*) { d.schemas = kNullSchema; }, "schema #0 is null"},
      {"not a schema", [](auto&, auto& d, auto*) { d.schemas = kBadSchema; },
       "schema 'not a schema' is not a full schema"},
      {"unbalanced schema", [](auto&, auto& d, auto*) { d.schemas = kUnbalancedSchema; },
       "schema 'aten::relu(Tensor x -> Tensor' has unbalanced parentheses"},
      {"schema without return", [](auto&, auto& d, auto*) { d.schemas = kNoReturnSchema; },
       "schema 'aten::relu(Tensor x)' has no return type"},
      {"schema of an unclaimed op", [](auto&, auto& d, auto*) { d.schemas = kUnclaimedSchema; },
       "schema 'mylib::fancy_gleu(Tensor x) -> Tensor' declares mylib::fancy_gleu, which the "
       "lowering does not claim (it claims aten::relu, aten::relu.out); fix the schema's name or "
       "claim the op"},
  };
  for (const InvalidCase& c : cases) {
    SCOPED_TRACE(c.what);
    t2c_plugin_info info = info_;
    t2c_lowering_decl decl = decl_;
    t2c_input_decl inputs[2] = {inputs_[0], inputs_[1]};
    decl.inputs = inputs;
    info.lowerings = &decl;
    c.breaker(info, decl, inputs);
    absl::Status s = ReadPluginDeclarations(&info).status();
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(s.message(), HasSubstr(c.expected));
    EXPECT_EQ(std::string(s.message()).find('\n'), std::string::npos);
  }
}

TEST_F(DeclarationReaderTest, ReportsWhichLoweringIsInvalid) {
  const char* bad_ops[] = {"aten::ok", "noop"};
  t2c_lowering_decl two[2] = {decl_, decl_};
  two[1].name = "second";
  two[1].ops = bad_ops;
  info_.lowerings = two;
  info_.num_lowerings = 2;
  EXPECT_THAT(ReadStatus().message(),
              HasSubstr("lowering 'second' (#1): op 'noop' is not a qualified op name"));
}

TEST(ValidateOpNameTest, AcceptsQualifiedNames) {
  for (const char* op : {"aten::add", "aten::add.Tensor", "aten::__and__", "prim::Constant",
                         "my_lib::fancy_gelu", "aten::max_pool2d.with_indices"}) {
    EXPECT_TRUE(ValidateOpName(op).ok()) << op;
  }
}

TEST(ValidateOpNameTest, RejectsMalformedNames) {
  for (const char* op : {"", "add", "::add", "aten::", "aten::add.", "aten::add.a.b", "aten:add",
                         "aten::add Tensor", "aten::add::x", ".aten::add"}) {
    absl::Status s = ValidateOpName(op);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << op;
    EXPECT_THAT(s.message(), HasSubstr("is not a qualified op name")) << op;
  }
}

}  // namespace
}  // namespace ts2coreml::registry
