/// Numpy broadcasting of static shapes, as PyTorch and MIL elementwise ops apply it.
#ifndef TS2COREML_PLUGINS_COMMON_BROADCAST_H_
#define TS2COREML_PLUGINS_COMMON_BROADCAST_H_

#include <algorithm>
#include <cstdint>
#include <vector>

namespace ts2coreml::plugins {

/// Broadcasts `a` and `b` (right-aligned; a dimension of 1 stretches). False when incompatible.
inline bool BroadcastShapes(const std::vector<int64_t>& a, const std::vector<int64_t>& b,
                            std::vector<int64_t>* out) {
  size_t rank = std::max(a.size(), b.size());
  std::vector<int64_t> result(rank, 1);
  for (size_t i = 0; i < rank; ++i) {
    int64_t da = i < rank - a.size() ? 1 : a[i - (rank - a.size())];
    int64_t db = i < rank - b.size() ? 1 : b[i - (rank - b.size())];
    if (da != db && da != 1 && db != 1) return false;
    result[i] = da == 1 ? db : da;
  }
  *out = std::move(result);
  return true;
}

}  // namespace ts2coreml::plugins

#endif  // TS2COREML_PLUGINS_COMMON_BROADCAST_H_
