// Normalization (MIL defs: normalization.py): batch_norm (channel axis 1), instance_norm,
// layer_norm over `axes`, l2_norm. Variances are biased (divide by the element count).
#include <algorithm>

#include "core/interp/op_context.h"
#include "core/interp/op_table.h"

namespace ts2coreml::interp {
namespace {

/// A [C] parameter shaped to broadcast along axis 1 of a rank-`rank` tensor.
at::Tensor PerChannel(const at::Tensor& p, int64_t rank) {
  std::vector<int64_t> shape(static_cast<size_t>(rank), 1);
  shape[1] = p.numel();
  return p.reshape(shape);
}

void BatchNorm(OpContext& c) {
  const at::Tensor x = c.Tensor("x");
  if (x.dim() < 3 || x.dim() > 5) c.Fail("x must have rank 3 to 5");
  const int64_t r = x.dim();
  at::Tensor y = (x - PerChannel(c.Tensor("mean"), r)) /
                 at::sqrt(PerChannel(c.Tensor("variance"), r) + c.Float("epsilon", 1e-5));
  if (at::Tensor g = c.OptionalTensor("gamma"); g.defined()) y = y * PerChannel(g, r);
  if (at::Tensor b = c.OptionalTensor("beta"); b.defined()) y = y + PerChannel(b, r);
  c.SetOutput(0, y);
}

at::Tensor Normalize(const at::Tensor& x, at::IntArrayRef axes, double eps) {
  const at::Tensor mean = at::mean(x, axes, /*keepdim=*/true);
  const at::Tensor centered = x - mean;
  const at::Tensor var = at::mean(centered * centered, axes, /*keepdim=*/true);
  return centered / at::sqrt(var + eps);
}

void InstanceNorm(OpContext& c) {
  const at::Tensor x = c.Tensor("x");
  if (x.dim() < 3 || x.dim() > 4) c.Fail("x must have rank 3 or 4");
  std::vector<int64_t> axes;
  for (int64_t i = 2; i < x.dim(); ++i) axes.push_back(i);
  at::Tensor y = Normalize(x, axes, c.Float("epsilon", 1e-5));
  if (at::Tensor g = c.OptionalTensor("gamma"); g.defined()) y = y * PerChannel(g, x.dim());
  if (at::Tensor b = c.OptionalTensor("beta"); b.defined()) y = y + PerChannel(b, x.dim());
  c.SetOutput(0, y);
}

void LayerNorm(OpContext& c) {
  const at::Tensor x = c.Tensor("x");
  std::vector<int64_t> axes = c.Ints("axes", {});
  if (axes.empty()) {
    for (int64_t i = 0; i < x.dim(); ++i) axes.push_back(i);
  }
  for (int64_t& a : axes) a = NormalizeAxis(a, x.dim());
  std::sort(axes.begin(), axes.end());
  at::Tensor y = Normalize(x, axes, c.Float("epsilon", 1e-5));
  // gamma and beta have shape x.shape[axes]: place their dimensions at those axes.
  std::vector<int64_t> shape(static_cast<size_t>(x.dim()), 1);
  for (int64_t a : axes) shape[static_cast<size_t>(a)] = x.size(a);
  auto place = [&](const at::Tensor& p) {
    if (p.numel() != at::prod(at::tensor(shape)).item<int64_t>()) {
      c.Fail("gamma/beta must have the shape of x along axes");
    }
    return p.reshape(shape);
  };
  if (at::Tensor g = c.OptionalTensor("gamma"); g.defined()) y = y * place(g);
  if (at::Tensor b = c.OptionalTensor("beta"); b.defined()) y = y + place(b);
  c.SetOutput(0, y);
}

void L2Norm(OpContext& c) {
  // x / sqrt(max(sum(x^2), epsilon)) over `axes` (iOS17), else over every non-batch dimension.
  const at::Tensor x = c.Tensor("x");
  std::vector<int64_t> axes = c.Ints("axes", {});
  if (axes.empty()) {
    for (int64_t i = 1; i < x.dim(); ++i) axes.push_back(i);
  }
  for (int64_t& a : axes) a = NormalizeAxis(a, x.dim());
  const at::Tensor ss = at::sum(x * x, axes, /*keepdim=*/true);
  c.SetOutput(0, x / at::sqrt(at::clamp_min(ss, c.Float("epsilon", 1e-6))));
}

}  // namespace

void RegisterNormOps(OpTable& t) {
  t.Add("batch_norm", BatchNorm);
  t.Add("instance_norm", InstanceNorm);
  t.Add("layer_norm", LayerNorm);
  t.Add("l2_norm", L2Norm);
}

}  // namespace ts2coreml::interp
