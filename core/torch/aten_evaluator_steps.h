/// The steps of AtenEvaluator::Evaluate (aten_evaluator.h) that need no evaluator state: graph
/// values to kernel arguments and kernel results back to graph values. Internal to core/torch:
/// exposed for aten_evaluator_test.cpp.
///
/// Evaluate runs, in order:
///   1. PushArguments    every input as the schema's argument (SchemaArgument): tensors the
///                       evaluator holds (or borrows from the model's constants), ScalarArgument
///                       and NumberListArgument
///   2. RunKernel        ATen's kernel on the stack
///   3. CollectResults   every result as a host constant: tensors snapshotted, ScalarResult
///   4. SnapshotWritten  new contents of every other host tensor on a storage the op wrote
///
///   absl::StatusOr<c10::IValue> dim = ScalarArgument(*c10::IntType::get(), value, 1);
#ifndef TS2COREML_CORE_TORCH_ATEN_EVALUATOR_STEPS_H_
#define TS2COREML_CORE_TORCH_ATEN_EVALUATOR_STEPS_H_

#include <string>

#include "ATen/core/function_schema.h"
#include "ATen/core/ivalue.h"
#include "ATen/core/jit_type.h"
#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"
#include "core/ir/graph.h"

namespace ts2coreml::core {

/// The tensor a kernel receives for graph value `id` (`v`), passed as schema argument `arg`, or
/// as an element of that Tensor[] / Tensor?[] argument when `in_list`: the evaluator's host
/// tensor when evaluating, a meta tensor of the value's type when typing.
using TensorSource = absl::FunctionRef<absl::StatusOr<at::Tensor>(
    ValueId id, const Value& v, const c10::Argument& arg, bool in_list)>;

/// kUnimplemented "not evaluated on the host: <why>": the node is lowered (or reported) instead.
absl::Status CannotEvaluate(const std::string& why);

/// Argument `i` of schema type `type` (an int, scalar type, layout, memory format, float, bool,
/// number, string or device; Optional already unwrapped) from graph value `v`. kUnimplemented
/// when `v` does not fit or the type is none of these. A device is always the CPU.
absl::StatusOr<c10::IValue> ScalarArgument(const c10::Type& type, const Value& v, size_t i);

/// Argument `i`, a list of ints, floats or bools, from graph value `v`; an int list argument of
/// fixed size `fixed` (int[2]) also takes one int. kUnimplemented when `v` does not fit.
absl::StatusOr<c10::IValue> NumberListArgument(const c10::Type& element, const Value& v, size_t i,
                                               size_t fixed);

/// Input `i` of node `n` as the kernel's schema argument `arg` (Optional unwrapped, None passed
/// as None): tensors and the elements of tensor lists from `tensor`, the rest by ScalarArgument
/// and NumberListArgument. A None element of a Tensor[] (not Tensor?[]) is kUnimplemented.
absl::StatusOr<c10::IValue> SchemaArgument(const Graph& g, const Node& n, size_t i,
                                           const c10::Argument& arg, TensorSource tensor);

/// A kernel's int, float or bool result as a host constant; kUnimplemented for anything else.
absl::StatusOr<Value> ScalarResult(const c10::IValue& result);

}  // namespace ts2coreml::core

#endif  // TS2COREML_CORE_TORCH_ATEN_EVALUATOR_STEPS_H_
