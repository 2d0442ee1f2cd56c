#ifndef TS2COREML_CORE_TORCH_PASSES_INSERT_OP_H_
#define TS2COREML_CORE_TORCH_PASSES_INSERT_OP_H_

/// Inserting aten ops into a TorchScript graph from a rewriting pass.

#include <stdexcept>
#include <vector>

#include "absl/strings/str_cat.h"
#include "core/base/errors.h"
#include "torch/csrc/jit/ir/ir.h"

namespace ts2coreml::core {

/// Inserts `kind(args)` at `g`'s insertion point and returns its single output; throws
/// std::runtime_error naming the op when no overload matches (passes turn it into a status).
inline torch::jit::Value* InsertOp(torch::jit::Graph& g, c10::Symbol kind,
                                   std::vector<torch::jit::NamedValue> args) {
  try {
    return g.insert(kind, args);
  } catch (const std::exception& e) {
    throw std::runtime_error(
        absl::StrCat("building ", kind.toQualString(), ": ", FirstLine(e.what())));
  }
}

}  // namespace ts2coreml::core

#endif  // TS2COREML_CORE_TORCH_PASSES_INSERT_OP_H_
