// Activations (MIL defs: activation.py): relu, relu6, sigmoid, sigmoid_hard, silu, tanh,
// leaky_relu, elu, gelu (three modes), softplus, softsign, prelu, clamped_relu, linear_activation,
// scaled_tanh, thresholded_relu, softmax, clip.
#include <cmath>

#include "core/interp/op_context.h"
#include "core/interp/op_table.h"

namespace ts2coreml::interp {
namespace {

void Gelu(OpContext& c) {
  const at::Tensor x = c.Tensor("x");
  const std::string mode = c.String("mode", "EXACT");
  at::Tensor y;
  if (mode == "EXACT") {
    y = 0.5 * x * (1 + at::erf(x / std::sqrt(2.0)));
  } else if (mode == "TANH_APPROXIMATION") {
    y = 0.5 * x * (1 + at::tanh(std::sqrt(2.0 / M_PI) * (x + 0.044715 * x * x * x)));
  } else if (mode == "SIGMOID_APPROXIMATION") {
    y = x * at::sigmoid(1.702 * x);
  } else {
    c.Fail("unknown gelu mode '" + mode + "'");
  }
  c.SetOutput(0, y);
}

void Prelu(OpContext& c) {
  // x: [B, C, *D]; alpha: [C], one slope per channel (axis 1).
  const at::Tensor x = c.Tensor("x");
  at::Tensor alpha = c.Tensor("alpha");
  if (x.dim() < 3 || alpha.dim() != 1 || alpha.size(0) != x.size(1)) {
    c.Fail("prelu needs x of rank >= 3 and alpha of shape [C]");
  }
  std::vector<int64_t> shape(static_cast<size_t>(x.dim() - 1), 1);
  shape[0] = alpha.size(0);
  alpha = alpha.reshape(shape);
  c.SetOutput(0, at::where(x >= 0, x, x * alpha));
}

}  // namespace

void RegisterActivationOps(OpTable& t) {
  t.Add("relu", [](OpContext& c) { c.SetOutput(0, at::relu(c.Tensor("x"))); });
  t.Add("relu6", [](OpContext& c) { c.SetOutput(0, at::clamp(c.Tensor("x"), 0.0, 6.0)); });
  t.Add("sigmoid", [](OpContext& c) { c.SetOutput(0, at::sigmoid(c.Tensor("x"))); });
  t.Add("sigmoid_hard", [](OpContext& c) {
    const double alpha = c.Float("alpha", 0.2), beta = c.Float("beta", 0.5);
    c.SetOutput(0, at::clamp(alpha * c.Tensor("x") + beta, 0.0, 1.0));
  });
  t.Add("silu", [](OpContext& c) {
    const at::Tensor x = c.Tensor("x");
    c.SetOutput(0, x * at::sigmoid(x));
  });
  t.Add("tanh", [](OpContext& c) { c.SetOutput(0, at::tanh(c.Tensor("x"))); });
  t.Add("leaky_relu", [](OpContext& c) {
    const at::Tensor x = c.Tensor("x");
    c.SetOutput(0, at::where(x >= 0, x, x * c.Float("alpha", 0.01)));
  });
  t.Add("elu", [](OpContext& c) {
    const at::Tensor x = c.Tensor("x");
    c.SetOutput(0, at::where(x > 0, x, c.Float("alpha", 1.0) * (at::exp(x) - 1)));
  });
  t.Add("gelu", Gelu);
  t.Add("softplus", [](OpContext& c) {
    const at::Tensor x = c.Tensor("x");
    // log(1 + exp(x)) computed without overflow.
    c.SetOutput(0, at::relu(x) + at::log1p(at::exp(-at::abs(x))));
  });
  t.Add("softsign", [](OpContext& c) {
    const at::Tensor x = c.Tensor("x");
    c.SetOutput(0, x / (1 + at::abs(x)));
  });
  t.Add("prelu", Prelu);
  t.Add("clamped_relu", [](OpContext& c) {
    const at::Tensor x = c.Tensor("x");
    const double alpha = c.Float("alpha"), beta = c.Float("beta");
    c.SetOutput(0, at::clamp_max(at::where(x >= 0, x, alpha * x), beta));
  });
  t.Add("linear_activation", [](OpContext& c) {
    c.SetOutput(0, c.Float("alpha") * c.Tensor("x") + c.Float("beta", 0.0));
  });
  t.Add("scaled_tanh", [](OpContext& c) {
    c.SetOutput(0, c.Float("alpha", 1.0) * at::tanh(c.Float("beta", 1.0) * c.Tensor("x")));
  });
  t.Add("thresholded_relu", [](OpContext& c) {
    const at::Tensor x = c.Tensor("x");
    c.SetOutput(0, at::where(x > c.Float("alpha", 1.0), x, at::zeros_like(x)));
  });
  t.Add("softmax", [](OpContext& c) {
    const at::Tensor x = c.Tensor("x");
    const int64_t axis = NormalizeAxis(c.Int("axis", -1), x.dim());
    const at::Tensor e = at::exp(x - at::amax(x, {axis}, /*keepdim=*/true));
    c.SetOutput(0, e / at::sum(e, {axis}, /*keepdim=*/true));
  });
  t.Add("clip", [](OpContext& c) {
    c.SetOutput(0, at::clamp(c.Tensor("x"), c.Float("alpha"), c.Float("beta")));
  });
}

}  // namespace ts2coreml::interp
