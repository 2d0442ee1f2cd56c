/// The kernel of the custom op mylib::fancy_gelu, registered with LibTorch when the library is
/// loaded: by Python (`torch.ops.load_library`) to trace or script a model calling it, and by
/// `ts2coreml verify --torch-library` to run that model as the reference.
#include <ATen/core/Tensor.h>
#include <ATen/ops/sigmoid.h>
#include <torch/library.h>

namespace {

constexpr double kSigmoidScale = 1.702;

/// fancy_gelu(x) = x * sigmoid(1.702 * x)
at::Tensor FancyGelu(const at::Tensor& x) { return x.mul(at::sigmoid(x.mul(kSigmoidScale))); }

}  // namespace

TORCH_LIBRARY(mylib, m) { m.def("fancy_gelu(Tensor x) -> Tensor", &FancyGelu); }
