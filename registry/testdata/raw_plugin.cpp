/// Test plugins written against the raw C ABI, to produce what the SDK cannot: broken or future
/// layouts. Built once per case; exactly one RAW_CASE_* macro is defined.
///
/// The RAW_CASE_HEADER_* cases export a `ts2coreml_plugin_header` that the registry must refuse
/// from the file alone; the other cases have no header, like plugins built before it existed, and
/// are refused only after loading. Every case has a constructor that, when the environment
/// variable T2C_TEST_MARKER_DIR names a folder, creates a file there named after the case: a
/// refusal made before loading leaves no such file.
#include <cstdint>

#define PLUGIN_NAME RAW_CASE_NAME
#include "tests/plugins/constructor_marker.h"
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

#elif defined(RAW_CASE_SMALL_STRUCT)
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

#elif defined(RAW_CASE_HEADER_TOO_NEW_ABI) || defined(RAW_CASE_HEADER_ABI_ZERO) ||  \
    defined(RAW_CASE_HEADER_TINY_INFO) || defined(RAW_CASE_HEADER_BAD_MAGIC) ||     \
    defined(RAW_CASE_HEADER_NO_ENTRY) || defined(RAW_CASE_HEADER_NULL_ENTRY) ||     \
    defined(RAW_CASE_HEADER_MISMATCH) || defined(RAW_CASE_HEADER_SMALL_HOST_API) || \
    defined(RAW_CASE_HEADER_GOOD)
// A valid declaration; what is wrong is in the header below (or the entry's agreement with it).
constexpr t2c_lowering_decl kLowerings[] = {Decl("relu", kReluOps)};
constexpr t2c_plugin_info kInfo = {
    T2C_ABI_VERSION, sizeof(t2c_plugin_info), "test_" RAW_CASE_NAME, "1.0", kLowerings, 1};

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

// --- the header: what the registry reads from the file before loading ---------------------------
#if defined(RAW_CASE_FUTURE_STRUCT)
/// A header of a later SDK: appended header, info, declaration and host-table fields.
struct FutureHeader {
  t2c_plugin_header v1;
  uint32_t appended_size;
  uint32_t appended_flags;
};
T2C_TEST_EXPORT const FutureHeader ts2coreml_plugin_header = {
    {T2C_HEADER_MAGIC, sizeof(FutureHeader), T2C_ABI_VERSION, sizeof(FuturePluginInfo),
     sizeof(FutureLoweringDecl), sizeof(t2c_host_api) + 64},
    123,
    ~0u};
#elif defined(RAW_CASE_HEADER_TOO_NEW_ABI) || defined(RAW_CASE_HEADER_ABI_ZERO) ||  \
    defined(RAW_CASE_HEADER_TINY_INFO) || defined(RAW_CASE_HEADER_BAD_MAGIC) ||     \
    defined(RAW_CASE_HEADER_NO_ENTRY) || defined(RAW_CASE_HEADER_NULL_ENTRY) ||     \
    defined(RAW_CASE_HEADER_MISMATCH) || defined(RAW_CASE_HEADER_SMALL_HOST_API) || \
    defined(RAW_CASE_HEADER_GOOD)
#if defined(RAW_CASE_HEADER_TOO_NEW_ABI)
constexpr uint32_t kHeaderAbi = 99;
#elif defined(RAW_CASE_HEADER_ABI_ZERO)
constexpr uint32_t kHeaderAbi = 0;
#else
constexpr uint32_t kHeaderAbi = T2C_ABI_VERSION;
#endif
#if defined(RAW_CASE_HEADER_TINY_INFO)
constexpr uint32_t kHeaderInfoSize = 4;
#elif defined(RAW_CASE_HEADER_MISMATCH)
constexpr uint32_t kHeaderInfoSize = sizeof(t2c_plugin_info) + 8;  // the entry's data says 40
#else
constexpr uint32_t kHeaderInfoSize = sizeof(t2c_plugin_info);
#endif
#if defined(RAW_CASE_HEADER_SMALL_HOST_API)
constexpr uint32_t kHeaderHostApiSize = 16;
#else
constexpr uint32_t kHeaderHostApiSize = sizeof(t2c_host_api);
#endif
#if defined(RAW_CASE_HEADER_BAD_MAGIC)
constexpr uint32_t kHeaderMagic = 0x464c457fu;
#else
constexpr uint32_t kHeaderMagic = T2C_HEADER_MAGIC;
#endif
T2C_TEST_EXPORT const t2c_plugin_header ts2coreml_plugin_header = {
    kHeaderMagic,    sizeof(t2c_plugin_header), kHeaderAbi,
    kHeaderInfoSize, sizeof(t2c_lowering_decl), kHeaderHostApiSize};
#endif

// --- the entry --------------------------------------------------------------------------------
#if defined(RAW_CASE_NO_ENTRY)
T2C_TEST_EXPORT const t2c_plugin_info* ts2coreml_plugin_entry_misspelled(void) { return nullptr; }
#elif defined(RAW_CASE_HEADER_NO_ENTRY)
T2C_TEST_EXPORT const t2c_plugin_info* ts2coreml_plugin_entry_misspelled(void) { return &kInfo; }
#elif defined(RAW_CASE_HEADER_NULL_ENTRY)
// Declared, never defined: the library's dynamic symbol table holds an undefined weak reference
// that would resolve to null.
T2C_TEST_EXPORT __attribute__((weak)) const t2c_plugin_info* ts2coreml_plugin_entry(void);
T2C_TEST_EXPORT const void* t2c_test_entry_address(void) {
  return reinterpret_cast<const void*>(&ts2coreml_plugin_entry);
}
T2C_TEST_EXPORT const t2c_plugin_info* t2c_test_info(void) { return &kInfo; }
#elif defined(RAW_CASE_NULL_ENTRY)
T2C_TEST_EXPORT const t2c_plugin_info* ts2coreml_plugin_entry(void) { return nullptr; }
#elif defined(RAW_CASE_FUTURE_STRUCT)
T2C_TEST_EXPORT const t2c_plugin_info* ts2coreml_plugin_entry(void) { return &kFutureInfo.v1; }
#else
T2C_TEST_EXPORT const t2c_plugin_info* ts2coreml_plugin_entry(void) { return &kInfo; }
#endif
