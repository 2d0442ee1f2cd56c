/// Assembling one plugin's constant lowering table from arrays defined in several files.
///
///   constexpr auto kAll = ConcatLowerings(kLowerings, other::kLowerings);
///   constexpr t2c_plugin_info kInfo = {T2C_ABI_VERSION, sizeof(t2c_plugin_info), "name",
///                                      "1.0", kAll.data(), static_cast<uint32_t>(kAll.size())};
#ifndef TS2COREML_PLUGINS_COMMON_LOWERING_TABLE_H_
#define TS2COREML_PLUGINS_COMMON_LOWERING_TABLE_H_

#include <array>
#include <cstddef>

#include "ts2coreml/plugin_abi.h"

namespace ts2coreml::plugins {

/// `a` followed by `b`, as one constant array.
template <size_t A, size_t B>
constexpr std::array<t2c_lowering_decl, A + B> ConcatLowerings(const t2c_lowering_decl (&a)[A],
                                                               const t2c_lowering_decl (&b)[B]) {
  std::array<t2c_lowering_decl, A + B> out{};
  for (size_t i = 0; i < A; ++i) out[i] = a[i];
  for (size_t i = 0; i < B; ++i) out[A + i] = b[i];
  return out;
}

/// `a` (an assembled table) followed by `b`.
template <size_t A, size_t B>
constexpr std::array<t2c_lowering_decl, A + B> ConcatLowerings(
    const std::array<t2c_lowering_decl, A>& a, const t2c_lowering_decl (&b)[B]) {
  std::array<t2c_lowering_decl, A + B> out{};
  for (size_t i = 0; i < A; ++i) out[i] = a[i];
  for (size_t i = 0; i < B; ++i) out[A + i] = b[i];
  return out;
}

}  // namespace ts2coreml::plugins

#endif  // TS2COREML_PLUGINS_COMMON_LOWERING_TABLE_H_
