/// Test plugins written against the raw C ABI, to produce what the SDK cannot: broken or future
/// layouts. Built once per case; exactly one RAW_CASE_* macro is defined.
#include <cstdint>

#include "ts2coreml/plugin_abi.h"

#define T2C_TEST_EXPORT extern "C" __attribute__((visibility("default")))

namespace {

t2c_status Lower(const t2c_host_api* /*api*/, t2c_context* /*ctx*/, void* /*user_data*/) {
  return T2C_OK;
}

constexpr const char* kReluOps[] = {"aten::relu"};
constexpr t2c_input_decl kInputs[] = {{"self", T2C_ROLE_TENSOR, T2C_MASK_FLOAT, 0}};

/// A valid declaration of the first published layout, with `struct_size` and `ops` replaceable.
constexpr t2c_lowering_decl Decl(const char* name, const char* const* ops,
                                 uint32_t struct_size = sizeof(t2c_lowering_decl)) {
  return {struct_size,
          name,
          ops,
          1,
          /*priority=*/0,
          T2C_FP16_NATIVE,
          kInputs,
          1,
          T2C_INFER_SAME_AS_INPUT0,
          nullptr,
          Lower,
          nullptr,
          0,
          nullptr,
          0};
}

#if defined(RAW_CASE_TOO_NEW_ABI)
constexpr t2c_lowering_decl kLowerings[] = {Decl("relu", kReluOps)};
constexpr t2c_plugin_info kInfo = {7, sizeof(t2c_plugin_info), "test_too_new", "9.0", kLowerings,
                                   1};

#elif defined(RAW_CASE_SMALL_LOWERING_STRUCT)
constexpr t2c_lowering_decl kLowerings[] = {Decl("relu", kReluOps, /*struct_size=*/16)};
constexpr t2c_plugin_info kInfo = {
    T2C_ABI_VERSION, sizeof(t2c_plugin_info), "test_small", "0.0", kLowerings, 1};

#elif defined(RAW_CASE_NULL_ENTRY) || defined(RAW_CASE_NO_ENTRY)
// No data: the entry returns null, or there is no entry at all.

#elif defined(RAW_CASE_EMPTY_OP)
constexpr const char* kEmptyOps[] = {""};
constexpr t2c_lowering_decl kLowerings[] = {Decl("relu", kReluOps), Decl("nothing", kEmptyOps)};
constexpr t2c_plugin_info kInfo = {
    T2C_ABI_VERSION, sizeof(t2c_plugin_info), "test_empty_op", "1.0", kLowerings, 2};

#elif defined(RAW_CASE_FUTURE_STRUCT)
// What a plugin built against a later SDK looks like: both structures have grown by appended
// fields.
struct FutureLoweringDecl {
  t2c_lowering_decl v1;
  uint64_t appended_bits;
  const char* appended_text;
};
struct FuturePluginInfo {
  t2c_plugin_info v1;
  const char* appended_text;
};
int user_data_marker = 42;
constexpr const char* kTanhOps[] = {"aten::tanh"};
constexpr const char* kExpOps[] = {"aten::exp"};
constexpr FutureLoweringDecl MakeFuture(const char* name, const char* const* ops, void* user_data) {
  FutureLoweringDecl d = {Decl(name, ops, sizeof(FutureLoweringDecl)), ~uint64_t{0},
                          "appended field"};
  d.v1.user_data = user_data;
  return d;
}
constexpr FutureLoweringDecl kFuture[] = {
    MakeFuture("relu_future", kReluOps, nullptr),
    MakeFuture("tanh_future", kTanhOps, &user_data_marker),
    MakeFuture("exp_future", kExpOps, nullptr),
};
constexpr FuturePluginInfo kFutureInfo = {
    {T2C_ABI_VERSION, sizeof(FuturePluginInfo), "test_future", "2.0", &kFuture[0].v1, 3},
    "appended field"};

#elif defined(RAW_CASE_UNRESOLVED_SYMBOL)
extern "C" int t2c_test_symbol_that_does_not_exist(void);
t2c_status LowerUnresolved(const t2c_host_api* /*api*/, t2c_context* /*ctx*/, void* /*data*/) {
  return t2c_test_symbol_that_does_not_exist();
}
constexpr t2c_lowering_decl kLowerings[] = {{sizeof(t2c_lowering_decl), "relu", kReluOps, 1, 0,
                                             T2C_FP16_NATIVE, kInputs, 1, T2C_INFER_SAME_AS_INPUT0,
                                             nullptr, LowerUnresolved, nullptr, 0, nullptr, 0}};
constexpr t2c_plugin_info kInfo = {
    T2C_ABI_VERSION, sizeof(t2c_plugin_info), "test_unresolved", "1.0", kLowerings, 1};

#else
#error "define one RAW_CASE_* macro"
#endif

}  // namespace

#if defined(RAW_CASE_NO_ENTRY)
T2C_TEST_EXPORT const t2c_plugin_info* ts2coreml_plugin_entry_misspelled(void) { return nullptr; }
#elif defined(RAW_CASE_NULL_ENTRY)
T2C_TEST_EXPORT const t2c_plugin_info* ts2coreml_plugin_entry(void) { return nullptr; }
#elif defined(RAW_CASE_FUTURE_STRUCT)
T2C_TEST_EXPORT const t2c_plugin_info* ts2coreml_plugin_entry(void) { return &kFutureInfo.v1; }
#else
T2C_TEST_EXPORT const t2c_plugin_info* ts2coreml_plugin_entry(void) { return &kInfo; }
#endif
