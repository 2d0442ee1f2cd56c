/// Control flow in the core graph: the typing of prim::If and prim::Loop (and of their blocks)
/// during analysis. A data-dependent `if` becomes MIL `cond`, a loop that is not unrolled becomes
/// `while_loop` (docs/control-flow.md); their blocks' nodes are ordinary nodes, analyzed, planned
/// and lowered like any other (core::Block).
///
/// The values MIL cond and while_loop carry are tensors: a TorchScript bool (a condition, a
/// `break` flag) is a bool tensor of rank 0. A loop-carried value keeps one type through the loop:
/// its initial value's, which the body must yield again.
///
///   if (IsControlFlow(n)) error = TypeControlFlowOutputs(g, idx);
#ifndef TS2COREML_CORE_CONVERT_CONTROL_FLOW_OPS_H_
#define TS2COREML_CORE_CONVERT_CONTROL_FLOW_OPS_H_

#include <optional>
#include <string>
#include <vector>

#include "core/ir/graph.h"
#include "registry/registry.h"

namespace ts2coreml::core {

/// The core's own "lowering" of prim::If and prim::Loop (emitted by the program emitter as
/// cond / while_loop; it has no callbacks).
const registry::Lowering& ControlFlowLowering();

/// Whether `n` is a prim::If or prim::Loop with blocks.
bool IsControlFlow(const Node& n);

/// The TorchScript trip count that stands for "no limit" (a `while` loop's): INT64_MAX. Trip
/// counts at or above this bound are treated as unbounded by the while_loop's index (int32).
inline constexpr int64_t kUnboundedTrips = int64_t{1} << 31;

/// For a prim::If whose condition analysis found constant (a scripted `input.dim() == 2` once
/// the rank is known): which block it takes (0: then, 1: else). nullopt for any other node and
/// for a condition known only at run time. Such an `if` is no MIL cond: the taken block's nodes
/// are analyzed and lowered in the enclosing block, the other block's are not converted, and the
/// node's outputs are the taken block's.
std::optional<int> TakenBlock(const Graph& g, const Node& n);

/// Types the inputs of block `block` of control-flow node `owner` before its nodes are analyzed:
/// a loop body's carried inputs take the types of the loop's initial values, as run-time values;
/// the trip index is an int32 scalar. Returns why it cannot ("" when it can).
std::string TypeBlockInputs(Graph& g, int owner, int block);

/// Types the outputs of control-flow node `idx` after its blocks were analyzed: a prim::If
/// output has the type both branches yield (they must agree), a prim::Loop output its carried
/// value's type (the body must yield that type again); conditions must be bools. Returns why it
/// cannot ("" when it can), naming the node.
std::string TypeControlFlowOutputs(Graph& g, int idx);

/// The MIL type class and shape a block output or initial value `id` has: a typed tensor's, or
/// bool [] for a bool, int [] for a constant int. False when it has none (a list, a float, an
/// untyped value).
bool CarriedType(const Graph& g, ValueId id, TypeClass* cls, std::vector<int64_t>* shape);

/// The core's own lowering of scalar int and bool arithmetic on run-time scalars (a loop's
/// counter, a `break` flag): `aten::add.int`, `aten::lt.int`, `aten::__and__.bool`, ...
const registry::Lowering& ScalarOpLowering();

/// The MIL op that computes scalar op `n` when some input is a run-time scalar (an int32 or bool
/// tensor of rank 0) and every other a constant number of the same class; "" when `n` is not
/// one. `*result` is the class of its result.
std::string ScalarOpMil(const Graph& g, const Node& n, TypeClass* result);

/// The core's own lowering of indexing by a run-time int (a while_loop's trip index, scalar
/// arithmetic on it): `x[i]` / `x.select(d, i)` as MIL gather, `x[i:i+c]` / `x.narrow(d, i, c)`
/// as slice_by_size with a run-time begin.
const registry::Lowering& DynamicIndexLowering();

/// Indexing of tensor `self` along `dim` at run-time int `start` (an int32 scalar), keeping
/// `length` elements, or removing the dimension when `select`; or, when `src` is set, writing
/// `src` into `self` at that index (select_scatter; the result has self's type).
struct DynamicIndex {
  ValueId self = kNoValue;
  ValueId start = kNoValue;
  ValueId src = kNoValue;
  int64_t dim = 0;
  int64_t length = 1;
  bool select = true;
};

/// `n` as a DynamicIndex: aten::select(self, dim, i), aten::slice(self, dim, i, i + c, 1),
/// aten::narrow(self, dim, i, c) or aten::select_scatter(self, src, dim, i) with `i` a run-time
/// int scalar, self a typed tensor and dim and
/// c constants; nullopt when `n` is not indexing by a run-time int. `*why` says why it does not
/// convert when it is, but with a length not known at conversion time or a step other than 1.
std::optional<DynamicIndex> AsDynamicIndex(const Graph& g, const Node& n, std::string* why);

/// The shape of `self` indexed by `d`.
std::vector<int64_t> DynamicIndexShape(const Graph& g, const DynamicIndex& d);

/// `aten::Bool` of a run-time tensor (`if bool(x.sum() > 0)`): its output becomes an alias of a
/// bool tensor of rank 0. Returns why it cannot ("" when done).
std::string AliasTensorToBool(Graph& g, const Node& n);

}  // namespace ts2coreml::core

#endif  // TS2COREML_CORE_CONVERT_CONTROL_FLOW_OPS_H_
