/// Padding and output-size arithmetic shared by conv and pooling (MIL pad_type semantics).
#ifndef TS2COREML_CORE_INTERP_SPATIAL_H_
#define TS2COREML_CORE_INTERP_SPATIAL_H_

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace ts2coreml::interp {

/// Begin and end padding of each spatial dimension.
using Pads = std::vector<std::pair<int64_t, int64_t>>;

/// Largest stride, dilation, kernel size or padding the interpreter takes. Larger values only
/// come from broken packages; with this bound no size arithmetic below can overflow.
inline constexpr int64_t kMaxSpatialParam = int64_t{1} << 20;

/// "" when every value of the parameter `what` lies in [min_value, kMaxSpatialParam], else
/// the reason ("strides [1, 0] must be between 1 and 1048576").
std::string CheckSpatialParam(const std::string& what, const std::vector<int64_t>& values,
                              int64_t min_value);

/// "" when padding (or growing) a tensor of `numel` elements, whose spatial sizes are `in`, to
/// the spatial sizes `grown` keeps it within max(2^24, 4 * numel) elements, else the reason.
/// Ops check this before allocating a padded input or a transposed convolution's output.
std::string CheckGrownSize(uint64_t numel, const std::vector<int64_t>& in,
                           const std::vector<int64_t>& grown);

/// Padding for `pad_type` "valid", "custom" (from `custom` = [b0, e0, b1, e1, ...]), "same"
/// (output ceil(in / stride), odd padding's extra element at the end) or "same_lower" (at the
/// beginning). `kernel` is the effective (dilated) kernel extent. Returns false for an unknown
/// pad_type or a custom pad of the wrong length.
bool SpatialPads(const std::string& pad_type, const std::vector<int64_t>& in,
                 const std::vector<int64_t>& kernel, const std::vector<int64_t>& strides,
                 const std::vector<int64_t>& custom, Pads* pads);

/// Pooling output size of one dimension (MIL pool.py): floor((in + pads - k) / s) + 1, or with
/// ceil_mode ceil(...) + 1, minus one when that last window would start in the end padding
/// ((out - 1) * s >= in + pad_begin, when there is padding).
int64_t PoolOutputSize(int64_t in, int64_t pad_begin, int64_t pad_end, int64_t kernel,
                       int64_t stride, bool ceil_mode);

}  // namespace ts2coreml::interp

#endif  // TS2COREML_CORE_INTERP_SPATIAL_H_
