/// Complex values as pairs of real values: FFTs, STFT and complex arithmetic in real aten ops.
///
/// Core ML has no complex tensors. This pass represents every complex-valued TorchScript value
/// as a pair of real values (real part, imaginary part) and rewrites the ops that make or read
/// complex values into real aten ops the lowerings handle:
///  - fft_fft/ifft/rfft/irfft and their n-D and 2-D forms: a DFT along a dim is a matmul with
///    constant cos and sin matrices (the norm's scale folded in, `n` padding or trimming the
///    input, irfft's Hermitian weights), an n-D transform successive 1-D ones;
///  - stft: one conv1d whose kernels are the windowed DFT basis (stride hop_length), `center`
///    padding included for the aten::stft.center overload (torch.stft pads in Python first);
///  - complex, polar, view_as_complex, real, imag, view_as_real, abs, angle, conj, add, sub,
///    mul, div, neg (abs as hypot, so no square overflows FP16); shape ops (reshape, transpose,
///    slice, ...) apply to both parts; size queries read the real part.
/// A complex value that reaches any other op, a list, or a model output is refused naming the op
/// and what to do instead (return torch.view_as_real(x) or x.abs()).
///
///   %X : ComplexFloat(2, 9) = aten::fft_rfft(%x, None, -1, None)   %x : Float(2, 16)
///   %m : Float(2, 9) = aten::abs(%X)
/// becomes
///   %re = aten::matmul(%x, cos[16, 9]);  %im = aten::matmul(%x, -sin[16, 9])
///   %m = aten::hypot(%re, %im)
///
/// Transform lengths must be static: they come from the graph's types when it has them (a graph
/// traced in this process), else from running the nodes the transformed value depends on with
/// zeros of the --input types (a loaded model's graph has no sizes). They are at most
/// kMaxDftLength: each 1-D transform holds two constant matrices of n x bins elements.
#ifndef TS2COREML_CORE_TORCH_PASSES_DECOMPOSE_COMPLEX_H_
#define TS2COREML_CORE_TORCH_PASSES_DECOMPOSE_COMPLEX_H_

#include <cstdint>
#include <optional>
#include <vector>

#include "absl/status/statusor.h"
#include "core/torch/control_flow.h"
#include "torch/csrc/jit/ir/ir.h"

namespace ts2coreml::core {

/// The longest DFT lowered as constant matrices: at 2048 a complex transform's cos and sin
/// matrices hold 2 x 2048^2 elements (32 MiB in FP32, 16 MiB in FP16); beyond it the matrices
/// outgrow the model they serve and the matmul's n^2 work per row outgrows an FFT's n log n.
inline constexpr int64_t kMaxDftLength = 2048;

/// Rewrites every op that makes or reads a complex value (nested blocks included) into real ops;
/// returns whether the graph changed. Errors (class kModel) name the op and what to do: a complex
/// value reaching an op this pass does not know or a model output, a non-constant or unknown
/// transform length, a length beyond kMaxDftLength. `inputs[i]` is forward() argument i's static
/// type (graph input i + 1), or nullopt.
absl::StatusOr<bool> DecomposeComplex(
    torch::jit::Graph& graph, const std::vector<std::optional<StaticInputType>>& inputs = {});

}  // namespace ts2coreml::core

#endif  // TS2COREML_CORE_TORCH_PASSES_DECOMPOSE_COMPLEX_H_
