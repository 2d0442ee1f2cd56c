/// Static control flow: folds a scripted model's branches and loops that input shapes decide.
///
/// A scripted model carries TorchScript control flow (`prim::If`, `prim::Loop`) and the queries
/// it branches on (`x.dim()`, `x.dtype`, `x.shape[-1]`, `len(s)`). Once the --input shapes are
/// known most of it is static: the pass gives the graph's inputs their complete types, propagates
/// shapes, folds the type queries into constants, inlines every `prim::If` whose condition is
/// then constant (the branch that cannot be taken, with its `prim::RaiseException`, goes away)
/// and unrolls every `for` loop whose trip count is constant and at most kMaxUnrolledTrips (the
/// unrolled body at most kMaxUnrolledNodes nodes), repeating until nothing changes. `aten::warn`
/// is dropped and `prim::unchecked_cast` replaced by its input.
///
/// Why unroll only up to 32 trips: each unrolled trip is straight-line code that analysis types
/// and folds exactly (the index becomes a constant, so `x[i]` and shape tests on it fold too),
/// but the program grows linearly with the trip count; 32 trips of a typical body stay under a
/// few hundred ops, which Core ML compiles quickly, while longer loops belong in a while_loop.
///
/// Whatever control flow remains depends on run-time data (or is a loop too long to unroll); the
/// importer keeps it, with its blocks, for MIL cond / while_loop. RemainingControlFlowError refuses
/// what cannot become one (docs/control-flow.md).
#ifndef TS2COREML_CORE_TORCH_CONTROL_FLOW_H_
#define TS2COREML_CORE_TORCH_CONTROL_FLOW_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "torch/csrc/jit/ir/ir.h"

namespace ts2coreml::core {

/// A `for` loop is unrolled when its constant trip count is at most this...
inline constexpr int64_t kMaxUnrolledTrips = 32;
/// ...and its body, repeated that many times, has at most this many nodes.
inline constexpr int64_t kMaxUnrolledNodes = 2048;

/// What a guard `prim::If` does: a branch on a condition that raises in one block (or warns) and
/// does nothing else, as `if x.dim() != 4: raise ValueError(...)` compiles to. The importer
/// imports it as a flat `ts2coreml::raise_if(cond, raise_when, message)` that analysis folds
/// with the converter's own static shapes, which LibTorch's shape analysis may not know.
struct Guard {
  bool raises = false;     ///< false: neither block raises (a warning only); drop the node
  bool raise_when = true;  ///< the condition value that takes the raising block
  std::string message;     ///< the exception's message (its format template), if constant
  const torch::jit::Node* raise = nullptr;
};
std::optional<Guard> AsGuard(const torch::jit::Node* n);

/// Whether `graph` has nodes with blocks or the scripted-model queries the pass folds.
bool HasScriptedConstructs(const torch::jit::Graph& graph);

/// The static type of one forward() argument: its shape and the dtype it has in the converted
/// model (the dtype `x.dtype` tests compare with; keep it equal to what the importer gives the
/// input).
struct StaticInputType {
  std::vector<int64_t> shape;
  c10::ScalarType dtype = c10::ScalarType::Float;
};

/// Folds the static control flow of `graph` (see the file comment). `inputs[i]` is the type of
/// forward() argument i (graph input i + 1), or nullopt when not given. Never fails: what cannot
/// be folded is left in place.
void FoldStaticControlFlow(const std::shared_ptr<torch::jit::Graph>& graph,
                           const std::vector<std::optional<StaticInputType>>& inputs);

/// The error for a prim::RaiseException left in the graph (one that every run raises, or one
/// inside a data-dependent branch or loop), or for the first prim::If / prim::Loop that cannot
/// become MIL cond / while_loop (results or carried values that are not tensors, bools or ints;
/// a trip count not known at conversion time); OK when there is none.
absl::Status RemainingControlFlowError(const std::shared_ptr<torch::jit::Graph>& graph);

}  // namespace ts2coreml::core

#endif  // TS2COREML_CORE_TORCH_CONTROL_FLOW_H_
