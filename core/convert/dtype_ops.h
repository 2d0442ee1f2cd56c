/// Type ops (aten::to in every overload, type_as, _to_copy): the precision planner owns them.
///
/// PyTorch's `.float()`, `.long()`, `.to(x.dtype)`, `.type_as(y)` and the like are not lowered by
/// plugins. Analysis decides them (AnalyzeDtypeOp): a conversion that keeps the value's class
/// (float to float, int to int, a device-only `to`, a copy) makes the output an alias of the
/// input, so the precision plan alone picks the float dtype (`.float()` under --precision fp16
/// stays fp16); a conversion between float, int and bool is given to DtypeConversionLowering(),
/// a lowering owned by the core, and the planner plans one cast for it with the reason
/// kModelConvertsDtype. The emitter writes that cast with PyTorch's semantics (EmitCast):
/// float to int truncates toward zero, anything to bool is `x != 0`.
///
/// The same file holds the checks of forward() arguments the graph uses as integers
/// (IntegerArgumentUses): a float --input feeding embedding indices is an error.
#ifndef TS2COREML_CORE_CONVERT_DTYPE_OPS_H_
#define TS2COREML_CORE_CONVERT_DTYPE_OPS_H_

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "core/ir/graph.h"
#include "registry/lowering.h"

namespace ts2coreml::core {

/// The reason of every cast a type op makes.
inline constexpr char kModelConvertsDtype[] = "the model converts dtype";

/// The lowering, owned by the core, of a type op that changes the class of its input. It has no
/// callbacks: the emitter binds the node's output to the planned cast of its input.
const registry::Lowering& DtypeConversionLowering();

/// Whether `n` is a type op: aten::to (any overload), aten::type_as or aten::_to_copy.
bool IsDtypeOp(const Node& n);

/// The class node `n` (a type op) converts its input to, or nullopt when it keeps the input's
/// dtype (a device-only `to`, a copy, a None dtype). An error (one line naming the dtype; the
/// caller prefixes the node) for a dtype Core ML cannot hold (complex) or whose wrap-around int32
/// cannot express (uint8, int8, int16 of anything but a bool).
absl::StatusOr<std::optional<TypeClass>> DtypeOpTarget(const Graph& g, const Node& n);

/// How the graph uses a forward() argument as an integer.
struct IntegerUse {
  std::string how;      ///< "aten::embedding reads it as indices"
  bool strong = false;  ///< indices of embedding/gather/index...: a float there is wrong
  int64_t high = 0;     ///< for embedding indices: num_embeddings (ids lie in [0, high)); else 0
};

/// The graph inputs that the graph evidently uses as integers, by value id: those read as
/// indices (embedding, index_select, gather, index.Tensor, scatter, one_hot: strong evidence)
/// directly or through views, or compared with an integer number, or read as indices after a
/// type op converted them (weak evidence: the model converts them itself). Embedding ids get the
/// table's size as `high`.
std::map<ValueId, IntegerUse> IntegerArgumentUses(const Graph& g);

/// Errors (class kInputSpec) for float inputs used as indices, naming the argument; a one-line
/// note in `notes` for each input without --input DTYPE that the graph evidently uses as an
/// integer.
absl::Status CheckIntegerArguments(const Graph& g, const std::map<ValueId, IntegerUse>& uses,
                                   std::vector<std::string>* notes);

}  // namespace ts2coreml::core

#endif  // TS2COREML_CORE_CONVERT_DTYPE_OPS_H_
