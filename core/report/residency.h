/// Residency of a MIL program: how much of it runs in FP16, by ops and by FLOPs.
///
/// On Apple's Neural Engine only FP16 runs; FP32 ops run on the GPU or CPU. A float op is one
/// whose first output is fp16 or fp32, `const` and `cast` left out. Its FLOPs are (multiply-adds
/// count 2):
///   conv            2 * output elements * (input channels / groups) * kernel elements
///                   (= weight elements / output channels)
///   conv_transpose  2 * input elements * weight elements / input channels
///   linear          2 * output elements * input features
///   matmul          2 * output elements * the contracted length
///   data movement   0 (reshape, transpose, slice, concat, split, gather, pad, tile, ...)
///   anything else   one per output element, or per input element for reduce_* ops
/// Shapes come from the program's own types; an op whose shapes are not all static counts 0.
///
/// Transitions are the device hand-overs inside the program: casts between fp16 and fp32 of a
/// value computed in it, not of a constant (a weight stored fp16, folded when Core ML compiles
/// the model), nor of a model input, nor producing a model output.
#ifndef TS2COREML_CORE_REPORT_RESIDENCY_H_
#define TS2COREML_CORE_REPORT_RESIDENCY_H_

#include <string>

#include "core/mil/validator.h"

namespace ts2coreml::core {

struct Residency {
  int float_ops = 0;
  int fp16_ops = 0;
  double flops = 0;
  double fp16_flops = 0;
  int transitions = 0;

  double OpShare() const { return float_ops ? 100.0 * fp16_ops / float_ops : 0; }
  double FlopShare() const { return flops > 0 ? 100.0 * fp16_flops / flops : 0; }
};

/// Counts the ops of `block` (top level only).
Residency MeasureResidency(const CoreML::Specification::MILSpec::Block& block,
                           const CoreML::Specification::MILSpec::Function& function);

/// "fp16 residency: 40 of 46 float ops (87.0%), 1.2e+06 of 1.3e+06 FLOPs (92.3%), 4 fp16/fp32
/// transitions" (no newline).
std::string FormatResidency(const Residency& residency);

}  // namespace ts2coreml::core

#endif  // TS2COREML_CORE_REPORT_RESIDENCY_H_
