/// Turns an `if` one of whose branches always raises into a guard and the other branch.
///
/// Scripted library code checks its arguments inside branches that also compute:
/// `if x.dim() == 3: q = x.transpose(0, 1) else: raise AssertionError(...)`. TorchScript makes
/// that a prim::If with results whose raising block yields nothing usable. When LibTorch's shape
/// analysis cannot fold the condition (the rank of an intermediate tensor), the converter can,
/// but only for a guard: a prim::If without results whose one block only raises
/// (control_flow.h's AsGuard, imported as `ts2coreml::raise_if`). This pass moves the other
/// block's nodes after the prim::If, in order, makes them its results' values and drops the
/// results: what remains is a guard, and the computation is ordinary straight-line code. Never
/// changes what a run that does not raise computes.
///
///   HoistRaisingBranches(*graph);  // before the control-flow checks
#ifndef TS2COREML_CORE_TORCH_PASSES_HOIST_RAISING_BRANCHES_H_
#define TS2COREML_CORE_TORCH_PASSES_HOIST_RAISING_BRANCHES_H_

#include <torch/script.h>

namespace ts2coreml::core {

/// Rewrites every prim::If of `graph` (nested blocks included) with results, exactly one of whose
/// blocks raises (a prim::RaiseException directly in it). Returns whether it changed the graph.
bool HoistRaisingBranches(torch::jit::Graph& graph);

}  // namespace ts2coreml::core

#endif  // TS2COREML_CORE_TORCH_PASSES_HOIST_RAISING_BRANCHES_H_
