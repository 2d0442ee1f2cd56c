/// The HostEvaluator on LibTorch: input-independent ATen ops run with ATen's own CPU kernels.
///
/// Tensors it makes stay alive with their aliasing (views share storage), so in-place writes
/// through views behave as in PyTorch (core/convert/host_evaluator.h). It never writes into the
/// model's constants: those are read without a copy, and a write into one is refused. Memory from
/// aten::empty / new_empty / empty_like is tracked as uninitialized until one write covers all of
/// it (fill_, zero_, copy_); reading it before that is refused. Ops tagged nondeterministic_seeded
/// (rand, dropout, bernoulli, ...) and ops outside aten:: (custom ops have no kernel here) are
/// never evaluated.
///
///   AtenEvaluator host;
///   Analysis a = Analyze(graph, registry, &host);
#ifndef TS2COREML_CORE_TORCH_ATEN_EVALUATOR_H_
#define TS2COREML_CORE_TORCH_ATEN_EVALUATOR_H_

#include <cstdint>
#include <memory>

#include "core/convert/host_evaluator.h"

namespace ts2coreml::core {

class AtenEvaluator : public HostEvaluator {
 public:
  struct Options {
    /// Results with more elements are not folded (kUnimplemented): the node is lowered instead.
    int64_t max_elements = int64_t{1} << 24;
  };

  AtenEvaluator();
  explicit AtenEvaluator(Options options);
  ~AtenEvaluator() override;

  bool CanEvaluate(const Node& node) const override;
  absl::StatusOr<Result> Evaluate(const Graph& graph, int index) override;
  void Rename(ValueId value, ValueId version) override;
  /// Runs the node's ATen kernel on meta tensors (shapes and dtypes, no data): an op whose
  /// result shape depends on data has no meta kernel for it and fails.
  absl::StatusOr<std::vector<Value>> InferOutputTypes(const Graph& graph, int index) override;

 private:
  /// kUnimplemented when the meta kernel says a result of node `index` has more than
  /// Options::max_elements elements, before any memory is allocated for it; OK when it does not,
  /// or when the op has no meta kernel (the result is checked once made).
  absl::Status RefuseResultsOverLimit(const Graph& graph, int index);

  struct State;
  Options options_;
  std::unique_ptr<State> state_;
};

}  // namespace ts2coreml::core

#endif  // TS2COREML_CORE_TORCH_ATEN_EVALUATOR_H_
