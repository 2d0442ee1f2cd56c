/// Removal of the ops plugins declare identities in inference (T2C_LOWERING_PASSTHROUGH:
/// dropout, contiguous, clone, detach...), and the refusal of dropouts that are not identities.
///
///   RefuseTrainingDropouts(graph, ops)   // kModel error for torch.dropout(x, 0.5, True)
///   RemovePassthroughOps(graph, ops)     // y = aten::dropout(x, ...) -> readers of y read x
#ifndef TS2COREML_CORE_TORCH_PASSES_REMOVE_PASSTHROUGH_OPS_H_
#define TS2COREML_CORE_TORCH_PASSES_REMOVE_PASSTHROUGH_OPS_H_

#include <memory>
#include <set>
#include <string>

#include "absl/status/status.h"
#include "torch/csrc/jit/ir/ir.h"

namespace ts2coreml::core {

/// Refuses (class kModel) a dropout among `ops` whose `train` argument is a constant true (a
/// model traced or scripted in training mode) and whose probability is not a constant 0: it
/// draws a random mask, so removing it would change the result. With p = 0 it is the identity in
/// either mode (torchvision's swin_t calls F.dropout(attn, p=0.0) with the default
/// training=True).
absl::Status RefuseTrainingDropouts(torch::jit::Graph& graph, const std::set<std::string>& ops);

/// Removes nodes whose kind (or in-place variant's functional kind) is one of `ops`, rewiring
/// their users to input 0, except a functional one whose input or output is written in place
/// after it (LibTorch's alias analysis): `y = x.clone(); y[0] = 0` keeps its clone. Returns
/// whether any node was removed.
bool RemovePassthroughOps(const std::shared_ptr<torch::jit::Graph>& graph,
                          const std::set<std::string>& ops);

}  // namespace ts2coreml::core

#endif  // TS2COREML_CORE_TORCH_PASSES_REMOVE_PASSTHROUGH_OPS_H_
