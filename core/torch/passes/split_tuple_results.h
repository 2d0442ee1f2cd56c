/// Splits the tuples that control flow yields or carries into their elements.
///
/// MIL cond and while_loop carry tensors only; a scripted `nn.LSTMCell` yields its state as a
/// tuple from an `if` (`hx = (h.unsqueeze(0), c.unsqueeze(0)) if not is_batched else hx`), and a
/// decoder loop carries `(h, c)` from one step to the next. Each prim::If result and prim::Loop
/// carried value of a tuple type becomes one result / carried value per element: the blocks
/// unpack what they yield (prim::TupleUnpack), the loop body rebuilds the tuple it receives, and
/// what reads the result reads a prim::TupleConstruct of the elements. LibTorch's LowerSimpleTuples
/// then cancels every unpack of a construction, so no tuple is left where it was only passed on.
///
///   SplitTupleResults(graph);  // before the control-flow checks (RemainingControlFlowError)
#ifndef TS2COREML_CORE_TORCH_PASSES_SPLIT_TUPLE_RESULTS_H_
#define TS2COREML_CORE_TORCH_PASSES_SPLIT_TUPLE_RESULTS_H_

#include <torch/script.h>

#include <memory>

namespace ts2coreml::core {

/// Splits every tuple result of prim::If and tuple carried by prim::Loop in `graph` (nested
/// blocks and nested tuples included). Returns whether it changed the graph.
bool SplitTupleResults(const std::shared_ptr<torch::jit::Graph>& graph);

}  // namespace ts2coreml::core

#endif  // TS2COREML_CORE_TORCH_PASSES_SPLIT_TUPLE_RESULTS_H_
