/// Imports a canonicalized TorchScript graph into the converter's own graph (core/ir/graph.h).
///
/// Constants become host values; constant tensors keep pointing at LibTorch's storage (no copy).
/// Graph inputs get the shapes the user gave with --input; outputs get their names from
/// --output, else from the keys of a returned dict, else output_N.
#ifndef TS2COREML_CORE_TORCH_GRAPH_IMPORTER_H_
#define TS2COREML_CORE_TORCH_GRAPH_IMPORTER_H_

#include <string>
#include <vector>

#include "ATen/ATen.h"
#include "absl/status/statusor.h"
#include "core/ir/graph.h"
#include "core/torch/canonicalize.h"
#include "core/torch/control_flow.h"

namespace ts2coreml::core {

/// A ConstTensor sharing `tensor`'s storage (a contiguous copy when it is not contiguous), kept
/// alive by the ConstTensor. Fails (kModel, naming `name`) for dtypes a ConstTensor cannot hold.
absl::StatusOr<std::shared_ptr<const ConstTensor>> ImportTensor(const at::Tensor& tensor,
                                                                const std::string& name);

/// An ATen tensor over `t`'s data without a copy; the caller keeps `t` alive and never writes
/// into it.
at::Tensor BorrowTensor(const ConstTensor& t);

/// The static type of each forward() argument `names[i]` from its --input spec (nullopt when
/// none): its shape, and the dtype the argument has (an fp16 feature still feeds a float one).
std::vector<std::optional<StaticInputType>> StaticInputTypes(const std::vector<std::string>& names,
                                                             const std::vector<InputSpec>& inputs);

/// Imports `model`. Errors name the argument, node or constant at fault: kInputSpec for inputs
/// and output names that do not fit the model, kModel for constructs the converter cannot take.
/// With `allow_unshaped_inputs`, a forward() argument without an --input spec becomes an untyped
/// input (coverage without shapes) instead of an error.
absl::StatusOr<Graph> ImportGraph(const CanonicalModel& model, const std::vector<InputSpec>& inputs,
                                  const std::vector<std::string>& output_names,
                                  bool allow_unshaped_inputs = false);

}  // namespace ts2coreml::core

#endif  // TS2COREML_CORE_TORCH_GRAPH_IMPORTER_H_
