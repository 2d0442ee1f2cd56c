/// linalg_inv(A) (torch.linalg.inv, and torch.inverse, which TorchScript compiles to it): the
/// inverse of each square matrix in the last two dims of A, batch dims first. Core ML has no matrix
/// inverse, so the lowering unrolls Gauss-Jordan elimination with partial pivoting over the n
/// columns: at step k the row with the largest |a_ik| (i >= k) is swapped into row k (a permutation
/// matrix I - d d^T, d = e_k - e_p, built from reduce_argmax), then one elimination matrix I -
/// ((a_k - e_k) / a_kk) e_k^T scales row k by 1 / a_kk and clears column k elsewhere. Both are
/// applied by matmul to A and to the accumulated product, which ends as A's inverse. Each step
/// emits about twenty small ops, so n is bounded by kMaxInverseSize; larger matrices are refused.
/// Computed in FP32 (the pivots' reciprocals and the cancellation of elimination lose FP16's few
/// digits). A singular matrix, which PyTorch rejects, gives inf or nan. matmul_lowerings.cpp
/// appends kLowerings.
///
///   %y = aten::linalg_inv(%a)   // a [2, 3, 3]
///   -> per column: slice_by_index, abs, reduce_argmax, equal, select, matmul, ..., real_div
#ifndef TS2COREML_PLUGINS_MATMUL_INVERSE_LOWERING_H_
#define TS2COREML_PLUGINS_MATMUL_INVERSE_LOWERING_H_

#include "ts2coreml/sdk.h"

namespace ts2coreml::plugins::inverse {

/// The largest n of an n x n matrix the unrolled elimination inverts.
inline constexpr int64_t kMaxInverseSize = 16;

sdk::Status InferInverse(sdk::InferContext& ctx);
sdk::Status LowerInverse(sdk::LowerContext& ctx);

inline constexpr t2c_input_decl kInputs[] = {sdk::Tensor("A", T2C_MASK_FLOAT)};
inline constexpr const char* kOps[] = {"aten::linalg_inv"};

inline constexpr t2c_lowering_decl kLowerings[] = {
    sdk::Lowering("linalg_inv", kOps, kInputs, T2C_FP16_NEEDS_FP32_COMPUTE, T2C_INFER_CUSTOM,
                  sdk::InferFn<InferInverse>, sdk::LowerFn<LowerInverse>),
};

}  // namespace ts2coreml::plugins::inverse

#endif  // TS2COREML_PLUGINS_MATMUL_INVERSE_LOWERING_H_
