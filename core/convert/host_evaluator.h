/// Host evaluation of input-independent ops: the capability analysis uses to fold them.
///
/// After tracing, shapes are static, so a node whose result cannot depend on the model's input
/// data is a constant once analysis knows the shapes: every tensor it reads is a constant, or only
/// the static shape and dtype of a run-time tensor are read (aten::new_zeros, aten::zeros_like;
/// ShapeOnlyInputs). torchvision's swin_t builds its attention mask that way, with in-place writes
/// into slices of a new_zeros tensor. Analysis evaluates such nodes on the host instead of
/// lowering them, and their results become ordinary graph constants.
///
/// The evaluator is injected (XLA style) so that core/convert stays torch-free:
/// core/torch/aten_evaluator.h implements it with LibTorch's own kernels. It keeps the tensors it
/// made alive with their aliasing: a view (slice, select, view, permute, ...) of a host tensor
/// shares its storage, so an in-place write through it (fill_, copy_, index_put_, masked_fill_,
/// ...) changes every host tensor on that storage, as in PyTorch. Analysis turns each such write
/// into fresh versions of the written values for the readers after it (SSA), so readers before
/// the write keep the contents they saw.
///
///   AtenEvaluator host;  // core/torch/aten_evaluator.h
///   Analysis a = Analyze(graph, registry, &host);
#ifndef TS2COREML_CORE_CONVERT_HOST_EVALUATOR_H_
#define TS2COREML_CORE_CONVERT_HOST_EVALUATOR_H_

#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "core/ir/graph.h"

namespace ts2coreml::core {

/// The inputs of `node` that are read only for their static shape and dtype, never their data:
/// input 0 of aten::new_zeros / new_ones / new_full / new_empty (dtype), of aten::zeros_like /
/// ones_like / full_like / empty_like (shape and dtype), and of aten::size / dim / numel.
std::vector<int> ShapeOnlyInputs(const Node& node);

/// True when `node` reads no run-time data: every input is a host value or constant tensor (list
/// elements included), except shape-only inputs, which need only a static type.
bool ReadsOnlyConstants(const Graph& graph, const Node& node);

/// Runs ops on the host for analysis. One instance serves one analysis of one graph: it keeps the
/// tensors it made, keyed by value id.
class HostEvaluator {
 public:
  virtual ~HostEvaluator() = default;

  /// A folded node's results.
  struct Result {
    /// One per node output: a host constant (`is_const`, its kind, and for a tensor its type and
    /// contents). A tensor whose memory was never fully written (aten::new_empty) has no
    /// contents (`tensor` null): only host evaluation may write it, nothing may read it.
    std::vector<Value> outputs;
    /// The host tensors (other than the outputs) whose contents the node changed in place,
    /// through any alias, with their new contents.
    std::vector<std::pair<ValueId, Value>> written;
  };

  /// Whether this evaluator can run nodes of `node`'s kind at all (it has a deterministic kernel
  /// for the op), whatever its inputs. Needs no shapes.
  virtual bool CanEvaluate(const Node& node) const = 0;

  /// Runs node `index` of `graph`, whose inputs satisfy ReadsOnlyConstants. Fails with
  /// absl::StatusCode::kUnimplemented when the node cannot be evaluated here (no kernel, a dtype
  /// a ConstTensor cannot hold, a result over the size limit): analysis then treats the node as
  /// usual (a lowering, or unsupported with this message). Any other error (core::Error, with
  /// its class: kConversion for reading uninitialized memory or writing into a model constant)
  /// is the node's error.
  virtual absl::StatusOr<Result> Evaluate(const Graph& graph, int index) = 0;

  /// From now on `version` names the host tensor `value` named: the new version of a value an
  /// in-place write changed (Result::written).
  virtual void Rename(ValueId value, ValueId version) = 0;

  /// The types of node `index`'s outputs (kind, dtype class and shape; no contents), from its
  /// kernel run on shape-only tensors of its inputs' types, when every tensor input is typed and
  /// the result's shape cannot depend on input data. Analysis types an unsupported op's outputs
  /// with it, so what follows the op is still analyzed and its problems reported. Fails with
  /// kUnimplemented when the types cannot be known that way (the default).
  virtual absl::StatusOr<std::vector<Value>> InferOutputTypes(const Graph& graph, int index) {
    (void)graph;
    (void)index;
    return absl::UnimplementedError("no shape-only kernels");
  }
};

}  // namespace ts2coreml::core

#endif  // TS2COREML_CORE_CONVERT_HOST_EVALUATOR_H_
