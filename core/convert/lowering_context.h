/// The core's side of the plugin ABI: the `t2c_host_api` table and the per-node context.
///
/// One `t2c_context` is made for each call into a plugin. During infer it collects output types;
/// during lower it hands out input vars in their planned dtypes (through the ProgramEmitter, which
/// inserts casts) and checks everything the plugin emits. Every host function is noexcept and
/// reports misuse through the context instead of crashing.
#ifndef TS2COREML_CORE_CONVERT_LOWERING_CONTEXT_H_
#define TS2COREML_CORE_CONVERT_LOWERING_CONTEXT_H_

#include <optional>
#include <string>
#include <vector>

#include "core/convert/precision_plan.h"
#include "core/ir/graph.h"
#include "core/mil/program.h"
#include "registry/lowering.h"
#include "ts2coreml/plugin_abi.h"

namespace ts2coreml::core {
class ProgramEmitter;
}

/// Defined here, opaque to plugins.
struct t2c_context {
  enum class Phase { kInfer, kLower };
  Phase phase = Phase::kInfer;
  ts2coreml::core::Graph* graph = nullptr;
  int node_index = -1;
  const ts2coreml::registry::Lowering* lowering = nullptr;
  std::string kind;  ///< the qualified kind the registry matched

  // Infer: output types (float outputs reported in the nominal FP32); for Tensor[] outputs the
  // element types instead.
  std::vector<std::optional<ts2coreml::mil::TensorType>> inferred;
  std::vector<std::optional<std::vector<ts2coreml::mil::TensorType>>> inferred_lists;
  /// How many readers each graph value has (for output_is_used).
  const std::vector<int>* uses = nullptr;

  // Lower.
  const ts2coreml::core::NodePlan* plan = nullptr;
  ts2coreml::core::ProgramEmitter* emitter = nullptr;
  std::vector<ts2coreml::mil::VarId> bound;
  std::vector<std::vector<ts2coreml::mil::VarId>> bound_lists;

  // Diagnostics.
  std::vector<std::string> errors;
  std::vector<std::string> warnings;

  // Storage behind pointers handed to the plugin during one callback.
  std::vector<std::vector<int64_t>> int_lists;
  std::vector<std::vector<double>> float_lists;
  std::vector<std::vector<int32_t>> bool_lists;

  const ts2coreml::core::Node& node() const {
    return graph->nodes().at(static_cast<size_t>(node_index));
  }
  /// The resolved value of node input i, or null when out of range.
  const ts2coreml::core::Value* input(uint32_t i) const;
  void Fail(std::string message);
  /// Errors joined into one line: the lowering's own message first.
  std::string ErrorMessage() const;
};

namespace ts2coreml::core {

/// The host function table handed to every callback.
const t2c_host_api* HostApi();

/// Converts between the ABI's dtype values and MIL's (they are equal by design).
mil::DType ToMil(int32_t dtype);
/// The nominal dtype a value of this class has during infer (floats are FP32).
mil::DType NominalDType(TypeClass c);
TypeClass ClassOf(mil::DType dtype);

}  // namespace ts2coreml::core

#endif  // TS2COREML_CORE_CONVERT_LOWERING_CONTEXT_H_
