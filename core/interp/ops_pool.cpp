// Pooling (MIL defs: pool.py): avg_pool, max_pool, l2_pool with pad_type, explicit begin/end
// padding, ceil_mode and exclude_padding_from_average.
//
// Each op pads x explicitly to exactly the extent the MIL output size needs ((out - 1) * s + k
// per dimension: the declared padding, then past it for ceil_mode windows, or cut when the
// padding is larger than any window reaches) and pools without padding. Averages divide a
// window sum by a count of the window's elements in x (exclude_padding_from_average) or in x and
// its declared padding; cells a ceil_mode window covers beyond the padding never count.
#include <limits>

#include "core/interp/op_context.h"
#include "core/interp/op_table.h"
#include "core/interp/spatial.h"

namespace ts2coreml::interp {
namespace {

enum class PoolKind { kMax, kAvg, kL2 };

/// Fails unless `reason` is empty.
void Check(OpContext& c, const std::string& reason) {
  if (!reason.empty()) c.Fail(reason);
}

/// Pads `t` ([N, C, *D]) by `begin`/`end` per spatial dim (negative end crops) with `value`.
at::Tensor PadSpatial(const at::Tensor& t, const std::vector<int64_t>& begin,
                      const std::vector<int64_t>& end, double value) {
  std::vector<int64_t> pad;
  for (size_t i = begin.size(); i-- > 0;) {
    pad.push_back(begin[i]);
    pad.push_back(end[i]);
  }
  return at::constant_pad_nd(t, pad, value);
}

/// Sum (or max) over windows of a tensor already padded to the exact extent: no padding.
at::Tensor Windows(const at::Tensor& t, const std::vector<int64_t>& k,
                   const std::vector<int64_t>& s, bool max) {
  at::Tensor x = t;
  std::vector<int64_t> kk = k, ss = s;
  if (k.size() == 1) {  // 1-D as 2-D with a unit height
    x = x.unsqueeze(-2);
    kk.insert(kk.begin(), 1);
    ss.insert(ss.begin(), 1);
  }
  at::Tensor y;
  if (kk.size() == 2) {
    y = max ? at::max_pool2d(x, kk, ss) : at::avg_pool2d(x, kk, ss, 0, false, true, 1);
  } else {
    y = max ? at::max_pool3d(x, kk, ss) : at::avg_pool3d(x, kk, ss, 0, false, true, 1);
  }
  return k.size() == 1 ? y.squeeze(-2) : y;
}

void Pool(OpContext& c, PoolKind kind) {
  const at::Tensor x = c.Tensor("x");
  const int64_t n = x.dim() - 2;
  if (n < 1 || n > 3) c.Fail("x must have rank 3 to 5");
  const std::vector<int64_t> k = c.Ints("kernel_sizes");
  const std::vector<int64_t> s = c.Ints("strides", std::vector<int64_t>(n, 1));
  if (static_cast<int64_t>(k.size()) != n || static_cast<int64_t>(s.size()) != n) {
    c.Fail("kernel_sizes and strides need one value per spatial dimension");
  }
  Check(c, CheckSpatialParam("kernel_sizes", k, 1));
  Check(c, CheckSpatialParam("strides", s, 1));
  const bool ceil_mode = c.Bool("ceil_mode", false);
  std::vector<int64_t> in;
  for (int64_t i = 0; i < n; ++i) in.push_back(x.size(2 + i));
  const std::string pad_type = c.String("pad_type", "valid");
  const std::vector<int64_t> custom = c.Ints("pad", std::vector<int64_t>(2 * n, 0));
  if (pad_type == "custom") Check(c, CheckSpatialParam("pad", custom, 0));
  Pads pads;
  if (!SpatialPads(pad_type, in, k, s, custom, &pads)) {
    c.Fail("bad pad_type '" + pad_type + "' or pad length");
  }
  std::vector<int64_t> begin, end, extra;
  for (int64_t i = 0; i < n; ++i) {
    const int64_t out = PoolOutputSize(in[i], pads[i].first, pads[i].second, k[i], s[i],
                                       ceil_mode && pad_type != "same" && pad_type != "same_lower");
    if (out <= 0) c.Fail("the kernel is larger than the padded input");
    begin.push_back(pads[i].first);
    end.push_back(pads[i].second);
    // Extent the windows need beyond (or short of) the declared padding.
    extra.push_back((out - 1) * s[i] + k[i] - (in[i] + pads[i].first + pads[i].second));
  }
  std::vector<int64_t> end_extra(end), grown(in);
  for (int64_t i = 0; i < n; ++i) {
    end_extra[i] += extra[i];
    grown[i] += begin[i] + end_extra[i];
  }
  Check(c, CheckGrownSize(static_cast<uint64_t>(x.numel()), in, grown));
  if (kind == PoolKind::kMax) {
    const double low = -std::numeric_limits<double>::infinity();
    c.SetOutput(0, Windows(PadSpatial(x, begin, end_extra, low), k, s, /*max=*/true));
    return;
  }
  if (kind == PoolKind::kL2) {
    c.SetOutput(0, at::sqrt(Windows(PadSpatial(x * x, begin, end_extra, 0), k, s, false)));
    return;
  }
  const at::Tensor sum = Windows(PadSpatial(x, begin, end_extra, 0), k, s, false);
  std::vector<int64_t> ones_shape = {1, 1};
  for (int64_t d : in) ones_shape.push_back(d);
  at::Tensor mask = at::ones(ones_shape, x.options());
  if (c.Bool("exclude_padding_from_average", false)) {
    mask = PadSpatial(mask, begin, end_extra, 0);
  } else {
    mask = PadSpatial(mask, begin, end, 1);
    mask = PadSpatial(mask, std::vector<int64_t>(n, 0), extra, 0);
  }
  c.SetOutput(0, sum / Windows(mask, k, s, false));
}

}  // namespace

void RegisterPoolOps(OpTable& t) {
  t.Add("max_pool", [](OpContext& c) { Pool(c, PoolKind::kMax); });
  t.Add("avg_pool", [](OpContext& c) { Pool(c, PoolKind::kAvg); });
  t.Add("l2_pool", [](OpContext& c) { Pool(c, PoolKind::kL2); });
}

}  // namespace ts2coreml::interp
