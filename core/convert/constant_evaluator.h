/// The core's evaluators: prim:: plumbing and shape arithmetic, folded on the host.
///
/// After tracing, shapes are static, so `aten::size`, `prim::NumToTensor`, `aten::Int` and the
/// integer arithmetic between them are constants once input shapes are known. The core folds them
/// here instead of emitting int ops, and turns list/tuple construction and unpacking into aliases.
/// `aten::sym_size` folds like `aten::size` (a negative dim is refused: torch 1.13 does not wrap
/// it); `aten::item` / `_local_scalar_dense` of a constant one-element tensor fold to its number
/// (a run-time one goes to its lowering, which keeps the number as a tensor of rank 0);
/// `aten::_assert_async` of a nonzero constant is removed (zero, or a run-time condition, is
/// refused, as the `if cond: raise` guards are: Core ML cannot raise).
#ifndef TS2COREML_CORE_CONVERT_CONSTANT_EVALUATOR_H_
#define TS2COREML_CORE_CONVERT_CONSTANT_EVALUATOR_H_

#include <string>

#include "absl/status/statusor.h"
#include "core/ir/graph.h"

namespace ts2coreml::core {

/// What the evaluator did with a node.
enum class EvalResult {
  kNotHandled,  ///< not an op the core evaluates: dispatch it to a lowering
  kFolded,      ///< outputs are now host constants (or aliases)
};

/// True for node kinds only the core handles (prim:: plumbing): never dispatched to plugins.
bool IsCoreOp(const Node& node);

/// Evaluates node `index` of `graph` when its kind is a core op or scalar arithmetic on constant
/// inputs. Fails (class kConversion) for a core op whose inputs are not static, naming the node.
absl::StatusOr<EvalResult> EvaluateNode(Graph& graph, int index);

}  // namespace ts2coreml::core

#endif  // TS2COREML_CORE_CONVERT_CONSTANT_EVALUATOR_H_
