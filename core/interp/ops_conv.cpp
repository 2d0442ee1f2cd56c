// Convolutions (MIL defs: conv.py): conv and conv_transpose, 1-3 spatial dimensions, pad_type
// valid/same/same_lower/custom with explicit begin/end padding per dimension.
#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "core/interp/op_context.h"
#include "core/interp/op_table.h"
#include "core/interp/spatial.h"

namespace ts2coreml::interp {

bool SpatialPads(const std::string& pad_type, const std::vector<int64_t>& in,
                 const std::vector<int64_t>& kernel, const std::vector<int64_t>& strides,
                 const std::vector<int64_t>& custom, Pads* pads) {
  const size_t n = in.size();
  pads->assign(n, {0, 0});
  if (pad_type == "valid") return true;
  if (pad_type == "custom") {
    if (custom.size() != 2 * n) return false;
    for (size_t i = 0; i < n; ++i) (*pads)[i] = {custom[2 * i], custom[2 * i + 1]};
    return true;
  }
  if (pad_type != "same" && pad_type != "same_lower") return false;
  for (size_t i = 0; i < n; ++i) {
    const int64_t out = (in[i] + strides[i] - 1) / strides[i];
    const int64_t total = std::max<int64_t>((out - 1) * strides[i] + kernel[i] - in[i], 0);
    const int64_t small = total / 2;
    (*pads)[i] = pad_type == "same" ? std::make_pair(small, total - small)
                                    : std::make_pair(total - small, small);
  }
  return true;
}

std::string CheckSpatialParam(const std::string& what, const std::vector<int64_t>& values,
                              int64_t min_value) {
  for (int64_t v : values) {
    if (v < min_value || v > kMaxSpatialParam) {
      return absl::StrCat(what, " [", absl::StrJoin(values, ", "), "] must be between ", min_value,
                          " and ", kMaxSpatialParam);
    }
  }
  return "";
}

std::string CheckGrownSize(uint64_t numel, const std::vector<int64_t>& in,
                           const std::vector<int64_t>& grown) {
  constexpr uint64_t kFloor = uint64_t{1} << 24;
  uint64_t spatial = 1;
  for (int64_t d : in) spatial *= static_cast<uint64_t>(std::max<int64_t>(d, 1));
  const uint64_t cap = std::max(kFloor, 4 * numel);
  uint64_t total = numel / spatial;
  for (int64_t d : grown) {
    if (d < 0 || __builtin_mul_overflow(total, static_cast<uint64_t>(d), &total) || total > cap) {
      return absl::StrCat("spatial sizes [", absl::StrJoin(in, ", "), "] grow to [",
                          absl::StrJoin(grown, ", "), "], more than ", cap,
                          " elements: the op's padding, strides or output shape are broken");
    }
  }
  return "";
}

int64_t PoolOutputSize(int64_t in, int64_t pad_begin, int64_t pad_end, int64_t kernel,
                       int64_t stride, bool ceil_mode) {
  const int64_t span = in + pad_begin + pad_end - kernel;
  int64_t out = (ceil_mode ? (span + stride - 1) / stride : span / stride) + 1;
  if (ceil_mode && pad_begin + pad_end > 0 && (out - 1) * stride >= in + pad_begin) --out;
  return out;
}

namespace {

struct ConvParams {
  std::vector<int64_t> strides, dilations, kernel_eff;
  Pads pads;
  int64_t groups = 1;
};

/// Fails unless `reason` is empty.
void Check(OpContext& c, const std::string& reason) {
  if (!reason.empty()) c.Fail(reason);
}

ConvParams ReadParams(OpContext& c, const at::Tensor& x, const at::Tensor& w) {
  const int64_t n = x.dim() - 2;
  if (n < 1 || n > 3 || w.dim() != x.dim()) {
    c.Fail("x must have rank 3 to 5 and weight the same rank");
  }
  ConvParams p;
  p.strides = c.Ints("strides", std::vector<int64_t>(n, 1));
  p.dilations = c.Ints("dilations", std::vector<int64_t>(n, 1));
  p.groups = c.Int("groups", 1);
  if (static_cast<int64_t>(p.strides.size()) != n ||
      static_cast<int64_t>(p.dilations.size()) != n) {
    c.Fail("strides and dilations need one value per spatial dimension");
  }
  Check(c, CheckSpatialParam("strides", p.strides, 1));
  Check(c, CheckSpatialParam("dilations", p.dilations, 1));
  if (p.groups < 1 || p.groups > w.size(0)) {
    c.Fail(absl::StrCat("groups ", p.groups, " is not between 1 and the weight's first dimension ",
                        w.size(0)));
  }
  std::vector<int64_t> in, kernel;
  for (int64_t i = 0; i < n; ++i) {
    in.push_back(x.size(2 + i));
    kernel.push_back(w.size(2 + i));
  }
  Check(c, CheckSpatialParam("the weight's kernel sizes", kernel, 1));
  for (int64_t i = 0; i < n; ++i) p.kernel_eff.push_back((kernel[i] - 1) * p.dilations[i] + 1);
  const std::string pad_type = c.String("pad_type", "valid");
  const std::vector<int64_t> custom = c.Ints("pad", std::vector<int64_t>(2 * n, 0));
  if (pad_type == "custom") Check(c, CheckSpatialParam("pad", custom, 0));
  if (!SpatialPads(pad_type, in, p.kernel_eff, p.strides, custom, &p.pads)) {
    c.Fail("bad pad_type '" + pad_type + "' or pad length");
  }
  return p;
}

/// ATen's constant_pad_nd order: last dimension first.
std::vector<int64_t> AtenPad(const Pads& pads) {
  std::vector<int64_t> out;
  for (auto it = pads.rbegin(); it != pads.rend(); ++it) {
    out.push_back(it->first);
    out.push_back(it->second);
  }
  return out;
}

at::Tensor ChannelBias(const at::Tensor& bias, int64_t rank) {
  std::vector<int64_t> shape(static_cast<size_t>(rank - 1), 1);
  shape[0] = bias.numel();
  return bias.reshape(shape);
}

void Conv(OpContext& c) {
  const at::Tensor x = c.Tensor("x");
  const at::Tensor w = c.Tensor("weight");
  const ConvParams p = ReadParams(c, x, w);
  const int64_t n = x.dim() - 2;
  std::vector<int64_t> in, padded;
  for (int64_t i = 0; i < n; ++i) {
    in.push_back(x.size(2 + i));
    padded.push_back(in.back() + p.pads[i].first + p.pads[i].second);
  }
  Check(c, CheckGrownSize(static_cast<uint64_t>(x.numel()), in, padded));
  const at::Tensor xp = at::constant_pad_nd(x, AtenPad(p.pads), 0);
  at::Tensor y =
      at::convolution(xp, w, /*bias=*/{}, p.strides, std::vector<int64_t>(n, 0), p.dilations,
                      /*transposed=*/false, std::vector<int64_t>(n, 0), p.groups);
  if (at::Tensor b = c.OptionalTensor("bias"); b.defined()) y = y + ChannelBias(b, y.dim());
  c.SetOutput(0, y);
}

void ConvTranspose(OpContext& c) {
  const at::Tensor x = c.Tensor("x");
  const at::Tensor w = c.Tensor("weight");  // [C_in, C_out / groups, *K]
  const ConvParams p = ReadParams(c, x, w);
  const int64_t n = x.dim() - 2;
  std::vector<int64_t> output_shape = c.Ints("output_shape", {});
  if (!output_shape.empty() && static_cast<int64_t>(output_shape.size()) != x.dim()) {
    c.Fail("output_shape must have the rank of x");
  }
  std::vector<int64_t> in, full, given;
  for (int64_t i = 0; i < n; ++i) {
    in.push_back(x.size(2 + i));
    full.push_back((in.back() - 1) * p.strides[i] + p.kernel_eff[i]);
    if (!output_shape.empty()) given.push_back(output_shape[2 + i]);
  }
  Check(c, CheckGrownSize(static_cast<uint64_t>(x.numel()), in, full));
  Check(c, CheckGrownSize(static_cast<uint64_t>(x.numel()), in, given));
  // The full transposed convolution, then the window [pad_begin, pad_begin + out) of it (zeros
  // where that window reaches beyond the full result).
  at::Tensor y =
      at::convolution(x, w, /*bias=*/{}, p.strides, std::vector<int64_t>(n, 0), p.dilations,
                      /*transposed=*/true, std::vector<int64_t>(n, 0), p.groups);
  const std::string pad_type = c.String("pad_type", "valid");
  for (int64_t i = 0; i < n; ++i) {
    const int64_t full = y.size(2 + i);
    int64_t begin = 0;
    int64_t out = full;
    if (pad_type == "custom") {
      begin = p.pads[i].first;
      out = full - p.pads[i].first - p.pads[i].second;
    } else if (pad_type == "same") {
      out = x.size(2 + i) * p.strides[i];
    }
    if (!output_shape.empty()) out = output_shape[2 + i];
    if (pad_type == "same") begin = std::max<int64_t>(full - out, 0) / 2;
    if (out <= 0 || begin < 0) c.Fail("non-positive output size");
    const int64_t avail = std::min(out, full - begin);
    y = y.narrow(2 + i, begin, avail);
    if (avail < out) {
      std::vector<int64_t> pad(static_cast<size_t>(2 * (y.dim() - 2 - i)), 0);
      pad[pad.size() - 1] = out - avail;  // end of dimension 2 + i
      y = at::constant_pad_nd(y, pad, 0);
    }
  }
  if (at::Tensor b = c.OptionalTensor("bias"); b.defined()) y = y + ChannelBias(b, y.dim());
  c.SetOutput(0, y);
}

}  // namespace

void RegisterConvOps(OpTable& t) {
  t.Add("conv", Conv);
  t.Add("conv_transpose", ConvTranspose);
}

}  // namespace ts2coreml::interp
