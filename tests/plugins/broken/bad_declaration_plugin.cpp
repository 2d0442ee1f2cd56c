/// Plugins the registry must refuse, one case per build (compile definition). Refused from the
/// file alone, before the library is loaded:
///   CASE_NO_ENTRY        a shared library without ts2coreml_plugin_entry
///   CASE_NULL_ENTRY      ts2coreml_plugin_entry declared but never defined (it would be null)
///   CASE_ABI_TOO_NEW     ABI version newer than the core
///   CASE_ABI_ZERO        ABI version 0
///   CASE_STRUCT_TOO_SMALL  t2c_plugin_info.struct_size smaller than the first published layout
/// Refused after loading, from what the entry returns (the header cannot say):
///   CASE_HEADER_MISMATCH the entry's struct_size disagrees with the header's
///   CASE_NO_HEADER_ABI_TOO_NEW  ABI too new, without a header (as built before the header existed)
///   CASE_BAD_DTYPE       an input accepting a dtype bit that names no dtype
///   CASE_EMPTY_SCHEMA    an empty full schema
///   CASE_EMPTY_OP        an empty op name
/// Each otherwise declares t2ctest::broken like the good test plugins would, in the raw C ABI, and
/// has a constructor that proves whether the library was loaded (constructor_marker.h).
#include "tests/plugins/constructor_marker.h"
#include "ts2coreml/plugin_abi.h"

namespace {

t2c_status Lower(const t2c_host_api* api, t2c_context* ctx, void* /*user_data*/) {
  api->fail(ctx, "never reached: this plugin is refused at load time");
  return T2C_ERROR;
}

#ifdef CASE_EMPTY_OP
const char* const kOps[] = {""};
#else
const char* const kOps[] = {"t2ctest::broken"};
#endif

#ifdef CASE_EMPTY_SCHEMA
const char* const kSchemas[] = {""};
#else
const char* const kSchemas[] = {"t2ctest::broken(Tensor x) -> Tensor"};
#endif

#ifdef CASE_BAD_DTYPE
constexpr t2c_dtype_mask kDtypes = T2C_MASK_FLOAT | (1u << 5);  // bit 5 names no dtype
#else
constexpr t2c_dtype_mask kDtypes = T2C_MASK_FLOAT;
#endif

const t2c_input_decl kInputs[] = {{"x", T2C_ROLE_TENSOR, kDtypes, 0}};

const t2c_lowering_decl kLowerings[] = {
    {sizeof(t2c_lowering_decl), "broken", kOps, 1, /*priority=*/0, T2C_FP16_NATIVE, kInputs, 1,
     T2C_INFER_SAME_AS_INPUT0, nullptr, Lower, nullptr, /*flags=*/0, kSchemas, 1}};

#if defined(CASE_ABI_TOO_NEW) || defined(CASE_NO_HEADER_ABI_TOO_NEW)
constexpr uint32_t kAbi = T2C_ABI_VERSION + 41;
#elif defined(CASE_ABI_ZERO)
constexpr uint32_t kAbi = 0;
#else
constexpr uint32_t kAbi = T2C_ABI_VERSION;
#endif

#ifdef CASE_STRUCT_TOO_SMALL
constexpr uint32_t kInfoSize = 16;
#else
constexpr uint32_t kInfoSize = sizeof(t2c_plugin_info);
#endif

const t2c_plugin_info kInfo = {kAbi, kInfoSize, PLUGIN_NAME, "0.1", kLowerings, 1};

#ifdef CASE_HEADER_MISMATCH
constexpr uint32_t kHeaderInfoSize = kInfoSize + 8;
#else
constexpr uint32_t kHeaderInfoSize = kInfoSize;
#endif

}  // namespace

#ifndef CASE_NO_HEADER_ABI_TOO_NEW
extern "C" __attribute__((visibility("default")))
const t2c_plugin_header ts2coreml_plugin_header = {
    T2C_HEADER_MAGIC, sizeof(t2c_plugin_header), kAbi,
    kHeaderInfoSize,  sizeof(t2c_lowering_decl), sizeof(t2c_host_api)};
#endif

#if defined(CASE_NO_ENTRY)
extern "C" __attribute__((visibility("default"))) const void* not_the_plugin_entry(void) {
  return &kInfo;
}
#elif defined(CASE_NULL_ENTRY)
extern "C" __attribute__((visibility("default"), weak)) const t2c_plugin_info*
ts2coreml_plugin_entry(void);
// Takes the entry's address, so the library keeps an undefined weak reference to it.
extern "C" __attribute__((visibility("default"))) const void* not_the_plugin_entry(void) {
  return reinterpret_cast<const void*>(&ts2coreml_plugin_entry) != nullptr ? &kInfo : nullptr;
}
#else
extern "C" __attribute__((visibility("default"))) const t2c_plugin_info* ts2coreml_plugin_entry(
    void) {
  return &kInfo;
}
#endif
