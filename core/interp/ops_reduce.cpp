// Reductions (MIL defs: reduction.py): reduce_* over `axes` (every axis when absent), keep_dims;
// reduce_argmax/argmin over one axis, giving int32.
#include <algorithm>

#include "core/interp/op_context.h"
#include "core/interp/op_table.h"

namespace ts2coreml::interp {
namespace {

std::vector<int64_t> Axes(OpContext& c, const at::Tensor& x) {
  std::vector<int64_t> axes = c.Ints("axes", {});
  if (axes.empty()) {
    for (int64_t i = 0; i < x.dim(); ++i) axes.push_back(i);
  }
  for (int64_t& a : axes) a = NormalizeAxis(a, x.dim());
  std::sort(axes.begin(), axes.end());
  axes.erase(std::unique(axes.begin(), axes.end()), axes.end());
  return axes;
}

using Reducer = at::Tensor (*)(const at::Tensor& x, at::IntArrayRef axes, bool keep);

void Reduce(OpContext& c, Reducer r) {
  const at::Tensor x = c.Tensor("x");
  const std::vector<int64_t> axes = Axes(c, x);
  c.SetOutput(0, x.dim() == 0 ? x.clone() : r(x, axes, c.Bool("keep_dims", false)));
}

at::Tensor Sum(const at::Tensor& x, at::IntArrayRef a, bool k) {
  return at::sum(x, a, k, x.scalar_type());
}

void ArgReduce(OpContext& c, bool max) {
  const at::Tensor x = c.Tensor("x");
  const int64_t axis = NormalizeAxis(c.Int("axis", -1), std::max<int64_t>(x.dim(), 1));
  const bool keep = c.Bool("keep_dims", false);
  c.SetOutput(0, (max ? at::argmax(x, axis, keep) : at::argmin(x, axis, keep)).to(at::kInt));
}

}  // namespace

void RegisterReduceOps(OpTable& t) {
  t.Add("reduce_sum", [](OpContext& c) { Reduce(c, Sum); });
  t.Add("reduce_mean", [](OpContext& c) {
    Reduce(c, [](const at::Tensor& x, at::IntArrayRef a, bool k) { return at::mean(x, a, k); });
  });
  t.Add("reduce_max", [](OpContext& c) {
    Reduce(c, [](const at::Tensor& x, at::IntArrayRef a, bool k) { return at::amax(x, a, k); });
  });
  t.Add("reduce_min", [](OpContext& c) {
    Reduce(c, [](const at::Tensor& x, at::IntArrayRef a, bool k) { return at::amin(x, a, k); });
  });
  t.Add("reduce_prod", [](OpContext& c) {
    Reduce(c, [](const at::Tensor& x, at::IntArrayRef a, bool k) {
      at::Tensor y = x;
      for (size_t i = a.size(); i-- > 0;) y = at::prod(y, a[i], /*keepdim=*/true);
      if (!k) {
        for (size_t i = a.size(); i-- > 0;) y = y.squeeze(a[i]);
      }
      return y.to(x.scalar_type());
    });
  });
  t.Add("reduce_l1_norm", [](OpContext& c) {
    Reduce(c, [](const at::Tensor& x, at::IntArrayRef a, bool k) {
      return at::sum(at::abs(x), a, k);
    });
  });
  t.Add("reduce_l2_norm", [](OpContext& c) {
    Reduce(c, [](const at::Tensor& x, at::IntArrayRef a, bool k) {
      return at::sqrt(at::sum(x * x, a, k));
    });
  });
  t.Add("reduce_sum_square", [](OpContext& c) {
    Reduce(c, [](const at::Tensor& x, at::IntArrayRef a, bool k) { return at::sum(x * x, a, k); });
  });
  t.Add("reduce_log_sum", [](OpContext& c) {
    Reduce(c, [](const at::Tensor& x, at::IntArrayRef a, bool k) {
      return at::log(at::sum(x, a, k));
    });
  });
  t.Add("reduce_log_sum_exp", [](OpContext& c) {
    Reduce(c, [](const at::Tensor& x, at::IntArrayRef a, bool k) {
      const at::Tensor m = at::amax(x, a, /*keepdim=*/true);
      at::Tensor y = at::log(at::sum(at::exp(x - m), a, /*keepdim=*/true)) + m;
      if (!k) {
        for (size_t i = a.size(); i-- > 0;) y = y.squeeze(a[i]);
      }
      return y;
    });
  });
  t.Add("reduce_argmax", [](OpContext& c) { ArgReduce(c, true); });
  t.Add("reduce_argmin", [](OpContext& c) { ArgReduce(c, false); });
}

}  // namespace ts2coreml::interp
