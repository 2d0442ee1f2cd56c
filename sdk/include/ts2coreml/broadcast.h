/// NumPy broadcasting of static shapes and the T2C_INFER_BROADCAST rule, as PyTorch and MIL
/// elementwise ops apply them. Header-only and free of LibTorch, so the core, the fake host and
/// plugins share this one definition:
///
///   std::vector<int64_t> out;
///   if (!ts2coreml::sdk::BroadcastShapes({1, 16, 7, 7}, {16, 1, 1}, &out)) { ... }
///   // out == {1, 16, 7, 7}
///
///   ts2coreml::sdk::BroadcastRule rule;   // the output type of a T2C_INFER_BROADCAST node
///   for (each TENSOR-role operand) if (!rule.Add(shape, dtype)) { ...does not broadcast... }
///   if (rule.empty()) { ...no operand... }
///   // rule.shape(), rule.dtype()
#ifndef TS2COREML_BROADCAST_H_
#define TS2COREML_BROADCAST_H_

#include <algorithm>
#include <cstdint>
#include <utility>
#include <vector>

#include "ts2coreml/plugin_abi.h"

namespace ts2coreml::sdk {

/// Broadcasts `a` and `b` (right-aligned; a dimension of 1 stretches). False when incompatible,
/// leaving `out` unchanged.
inline bool BroadcastShapes(const std::vector<int64_t>& a, const std::vector<int64_t>& b,
                            std::vector<int64_t>* out) {
  const size_t rank = std::max(a.size(), b.size());
  std::vector<int64_t> result(rank, 1);
  for (size_t i = 0; i < rank; ++i) {
    const int64_t da = i < rank - a.size() ? 1 : a[i - (rank - a.size())];
    const int64_t db = i < rank - b.size() ? 1 : b[i - (rank - b.size())];
    if (da != db && da != 1 && db != 1) return false;
    result[i] = da == 1 ? db : da;
  }
  *out = std::move(result);
  return true;
}

/// The output type of T2C_INFER_BROADCAST, built one operand at a time: the broadcast of every
/// operand's shape; FP32 when any operand is float, else BOOL when every operand is bool, else
/// INT32.
class BroadcastRule {
 public:
  /// Adds an operand. False, leaving the rule unchanged, when its shape does not broadcast with the
  /// operands added before.
  bool Add(const std::vector<int64_t>& shape, t2c_dtype dtype) {
    if (!BroadcastShapes(shape_, shape, &shape_)) return false;
    empty_ = false;
    any_float_ |= dtype == T2C_DTYPE_FP16 || dtype == T2C_DTYPE_FP32;
    all_bool_ &= dtype == T2C_DTYPE_BOOL;
    return true;
  }
  /// True until an operand is added.
  bool empty() const { return empty_; }
  /// The broadcast shape of the operands added so far.
  const std::vector<int64_t>& shape() const { return shape_; }
  /// The output dtype for the operands added so far.
  t2c_dtype dtype() const {
    if (any_float_) return T2C_DTYPE_FP32;
    return all_bool_ ? T2C_DTYPE_BOOL : T2C_DTYPE_INT32;
  }

 private:
  std::vector<int64_t> shape_;
  bool empty_ = true;
  bool any_float_ = false;
  bool all_bool_ = true;
};

}  // namespace ts2coreml::sdk

#endif  // TS2COREML_BROADCAST_H_
