/// Small helpers shared by the built-in lowerings: reading parameter lists, formatting messages.
#ifndef TS2COREML_PLUGINS_COMMON_LOWERING_UTIL_H_
#define TS2COREML_PLUGINS_COMMON_LOWERING_UTIL_H_

#include <cstdint>
#include <string>
#include <vector>

#include "ts2coreml/sdk.h"

namespace ts2coreml::plugins {

// The SDK types every family's lowerings name, used unqualified across the built-in plugins.
using sdk::Expected;
using sdk::InferContext;
using sdk::LowerContext;
using sdk::NodeView;
using sdk::Status;
using sdk::TensorType;
using sdk::Var;
/// A tensor shape, as the SDK's TensorType holds it.
using Shape = std::vector<int64_t>;

/// True when optional input `input` is given (present and not None).
inline bool Given(const sdk::NodeView& ctx, uint32_t input) {
  return ctx.num_inputs() > input && !ctx.IsNone(input);
}

/// The op name of a node kind without namespace and overload ("aten::movedim.int" -> "movedim").
inline std::string OpBaseName(const std::string& kind) {
  const size_t colons = kind.find("::");
  std::string name = kind.substr(colons == std::string::npos ? 0 : colons + 2);
  return name.substr(0, name.find('.'));
}

/// Formats an int list as "[1, 2, 3]" for messages.
inline std::string FormatInts(const std::vector<int64_t>& values) {
  std::string s = "[";
  for (size_t i = 0; i < values.size(); ++i) {
    if (i > 0) s += ", ";
    s += std::to_string(values[i]);
  }
  return s + "]";
}

/// Formats a number for messages without trailing zeros ("0.5", "6").
inline std::string FormatNumber(double v) {
  std::string s = std::to_string(v);
  if (s.find('.') != std::string::npos) {
    while (!s.empty() && s.back() == '0') s.pop_back();
    if (!s.empty() && s.back() == '.') s.pop_back();
  }
  return s;
}

/// Reads a per-spatial-dimension int list (kernel sizes, strides, ...) of `n` entries. PyTorch
/// repeats a single value for every dimension; an empty list gives `empty_default` when it is set.
inline sdk::Expected<std::vector<int64_t>> ReadSpatialInts(
    const sdk::NodeView& ctx, uint32_t input, size_t n, const std::string& op,
    const std::string& what, const std::vector<int64_t>* empty_default = nullptr) {
  TS2COREML_ASSIGN_OR_RETURN(std::vector<int64_t> v, ctx.Ints(input));
  if (v.empty() && empty_default != nullptr) return *empty_default;
  if (v.size() == 1 && n > 1) v.assign(n, v[0]);
  if (v.size() != n) {
    return ctx.Error(op + ": " + what + " " + FormatInts(v) + " must have 1 or " +
                     std::to_string(n) + " entries for " + std::to_string(n) +
                     " spatial dimension(s)");
  }
  return v;
}

/// Reads an axis argument and normalizes it against `rank`, failing with a message naming `op`.
inline sdk::Expected<int64_t> ReadAxis(const sdk::NodeView& ctx, uint32_t input, int64_t rank,
                                       const std::string& op) {
  TS2COREML_ASSIGN_OR_RETURN(int64_t axis, ctx.Int(input));
  // PyTorch accepts dim 0 and -1 on scalars as if they had rank 1.
  int64_t effective_rank = rank == 0 ? 1 : rank;
  int64_t a = sdk::NormalizeAxis(axis, effective_rank);
  if (a < 0) {
    return ctx.Error(op + ": dim " + std::to_string(axis) + " is out of range for rank " +
                     std::to_string(rank));
  }
  return a;
}

/// The type of an operand that may be a tensor or a number (a number is the rank-0 tensor the core
/// makes of it: INT32, FP32 or BOOL). Use in `infer` for TENSOR-role inputs that accept numbers.
inline sdk::Expected<sdk::TensorType> OperandType(const sdk::NodeView& ctx, uint32_t input) {
  switch (ctx.input_kind(input)) {
    case T2C_KIND_INT:
      return sdk::TensorType(T2C_DTYPE_INT32, {});
    case T2C_KIND_FLOAT:
      return sdk::TensorType(T2C_DTYPE_FP32, {});
    case T2C_KIND_BOOL:
      return sdk::TensorType(T2C_DTYPE_BOOL, {});
    default:
      return ctx.InputType(input);
  }
}

/// True when every value is `v`.
inline bool AllEqual(const std::vector<int64_t>& values, int64_t v) {
  for (int64_t x : values) {
    if (x != v) return false;
  }
  return true;
}

}  // namespace ts2coreml::plugins

#endif  // TS2COREML_PLUGINS_COMMON_LOWERING_UTIL_H_
