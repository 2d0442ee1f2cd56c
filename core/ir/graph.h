/// The converter's own graph: a canonicalized TorchScript graph imported into plain C++.
///
/// Only the importer sees LibTorch; analysis, precision planning and lowering work on this graph,
/// so they compile fast and are unit-tested without LibTorch. Nodes keep TorchScript's kinds
/// ("aten::_convolution") and overloads; constants carry their host value, and constant tensors
/// (weights) point at data owned by whoever imported them.
///
///   core::Graph g;
///   ValueId x = g.AddInput("x", TypeClass::kFloat, {1, 3, 8, 8});
///   ValueId y = g.AddNode("aten::relu", "", {x}, 1).outputs[0];
///   g.AddOutput("y", y);
#ifndef TS2COREML_CORE_IR_GRAPH_H_
#define TS2COREML_CORE_IR_GRAPH_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "core/mil/fp16.h"
#include "core/mil/program.h"

namespace ts2coreml::core {

/// Index of a value in its graph.
using ValueId = int32_t;
inline constexpr ValueId kNoValue = -1;

/// What a value is, after constant evaluation. Matches t2c_value_kind.
enum class ValueKind : int32_t {
  kNone = 0,
  kTensor = 1,
  kInt = 2,
  kFloat = 3,
  kBool = 4,
  kIntList = 5,
  kFloatList = 6,
  kBoolList = 7,
  kString = 8,
  kTensorList = 9,
  kOther = 10,
};
absl::string_view ValueKindName(ValueKind kind);

/// The element class of a tensor before precision planning picks FP16 or FP32.
enum class TypeClass { kUnknown, kFloat, kInt, kBool };
absl::string_view TypeClassName(TypeClass c);

/// The dtype of a forward() argument as `--input NAME:SHAPE:DTYPE` gives it. Core ML model
/// features have no int64 or bool: those cross the model boundary as int32.
enum class InputDtype { kDefault, kFp32, kFp16, kInt32, kInt64, kBool, kUint8 };
/// "fp32", "fp16", "int32", "int64", "bool"; "default" for kDefault (--io-dtype decides).
absl::string_view InputDtypeName(InputDtype d);
/// The class of a tensor of that dtype (kDefault is a float).
TypeClass ClassOfInputDtype(InputDtype d);

/// A constant tensor's data as stored by its owner. Float16 data is raw IEEE half bits.
struct ConstTensor {
  enum class Storage { kFloat32, kFloat16, kFloat64, kInt64, kInt32, kBool };
  Storage storage = Storage::kFloat32;
  std::vector<int64_t> shape;
  const void* data = nullptr;  ///< contiguous, row-major
  std::shared_ptr<const void> owner;

 private:
  mutable std::shared_ptr<const mil::Fp16Scan> fp16_stats_;

 public:
  int64_t numel() const;
  TypeClass type_class() const;
  /// Element i as a double (any storage).
  double At(int64_t i) const;
  /// Largest |x| over the finite elements (0 for an empty tensor or none finite): infinities
  /// and NaN are not counted (FP16 holds them exactly; an additive mask's -inf is no overflow).
  double MaxFiniteAbs() const;
  /// For kFloat32 storage: range and FP16 fit of the elements, scanned once and cached (the
  /// planner asks for both for every weight; one pass serves both). Empty for other storages.
  /// Not thread-safe.
  const mil::Fp16Scan& Fp16Stats() const;
  /// All elements converted to float.
  std::vector<float> ToFloats() const;
  /// All elements as int64 (floats truncated).
  std::vector<int64_t> ToInts() const;
};

/// One value: a host constant, a tensor constant, a runtime tensor or a list of tensors.
struct Value {
  std::string name;  ///< TorchScript debug name ("input.3")
  ValueKind kind = ValueKind::kOther;
  int32_t producer = -1;  ///< node index, -1 for graph inputs and constants

  // Host value, valid when `is_const`.
  bool is_const = false;
  int64_t i = 0;
  double f = 0;
  bool b = false;
  std::vector<int64_t> ints;
  std::vector<double> floats;
  std::vector<bool> bools;
  std::string s;
  std::shared_ptr<const ConstTensor> tensor;  ///< for constant tensors

  /// Elements of a tensor list (ListConstruct of tensors) or a tuple.
  std::vector<ValueId> elements;
  /// Set when this value is another one under a new name (ListUnpack of a constructed list,
  /// passthrough ops): every reader resolves it first (Graph::Resolve).
  ValueId alias = kNoValue;

  /// Static type of a tensor, set by import (inputs, constants) or by type inference.
  bool typed = false;
  TypeClass type_class = TypeClass::kUnknown;
  std::vector<int64_t> shape;
  /// Graph inputs only: the dtype --input gave (kDefault when none was given).
  InputDtype input_dtype = InputDtype::kDefault;
};

/// Whether constant `v` is one float number: a host float, or a float tensor of one element (a
/// traced `x + 1e-12` holds its epsilon as a rank-0 tensor).
bool IsFloatScalarConstant(const Value& v);

/// A nested block of a control-flow node (prim::If: the then and else blocks; prim::Loop: the
/// body). Its nodes are the graph's nodes [begin, end), stored right before the node that owns
/// them (post-order: a node's blocks, in order, then the node), so that every pass that walks the
/// nodes in order meets a value's producer before its readers. Nodes of nested blocks lie inside
/// the range too; a node's direct owner is Node::parent.
struct Block {
  int32_t begin = 0;
  int32_t end = 0;
  /// The values the block receives (prim::Loop: the trip index, then the carried values).
  std::vector<ValueId> inputs;
  /// The values the block yields (prim::Loop: the next condition, then the carried values).
  std::vector<ValueId> outputs;
};

/// One node: a TorchScript op with its schema name and overload.
struct Node {
  std::string kind;      ///< "aten::add"
  std::string overload;  ///< "Tensor", or empty
  std::vector<ValueId> inputs;
  std::vector<ValueId> outputs;
  std::string source;  ///< "file.py:12" of the Python code that made it, when known
  std::string scope;   ///< module path as named_modules() prints it ("features.3.block"), if known
  /// Inputs the op writes in place (schema `Tensor(a!)`, as in aten::fill_ or aten::copy_), set by
  /// the importer from the op's schema.
  std::vector<int> mutated_inputs;
  /// Per output, the input whose memory it shares (schema `Tensor(a)` or `Tensor(a!)` on both:
  /// views such as aten::view or aten::select, and an in-place op's result), or -1. Set by the
  /// importer; empty means no output aliases an input.
  std::vector<int> output_aliases;
  /// Control flow (prim::If, prim::Loop): the nested blocks, empty for every other node.
  std::vector<Block> blocks;
  /// The index of the control-flow node whose block holds this node, -1 at the top level.
  int32_t parent = -1;

  /// "aten::add.Tensor" or "aten::add".
  std::string QualifiedKind() const;
};

/// Where node `n` is, for messages: "aten::add.Tensor at model.py:12", or its qualified kind
/// alone when its source is unknown.
std::string Where(const Node& n);

/// A graph input as the user gives it (--input NAME:SHAPE[:DTYPE]): a forward() argument, its
/// shape and, when given, its dtype.
struct InputSpec {
  std::string name;
  std::vector<int64_t> shape;
  InputDtype dtype = InputDtype::kDefault;
};

/// A graph output with its name.
struct GraphOutput {
  std::string name;
  ValueId value = kNoValue;
};

/// A graph in topological order.
class Graph {
 public:
  ValueId AddValue(Value v);
  /// A graph input: a runtime tensor of the given class and shape.
  ValueId AddInput(std::string name, TypeClass type_class, std::vector<int64_t> shape);
  /// Appends a node with `num_outputs` fresh, untyped outputs named after the node.
  Node& AddNode(std::string kind, std::string overload, std::vector<ValueId> inputs,
                int num_outputs);
  void AddOutput(std::string name, ValueId value);

  /// Constant helpers.
  ValueId AddConstInt(int64_t v);
  ValueId AddConstFloat(double v);
  ValueId AddConstBool(bool v);
  ValueId AddConstInts(std::vector<int64_t> v);
  ValueId AddConstNone();
  ValueId AddConstTensor(std::string name, std::shared_ptr<const ConstTensor> t);

  /// Follows aliases to the value that is really there.
  ValueId Resolve(ValueId id) const;

  Value& value(ValueId id) { return values_.at(static_cast<size_t>(id)); }
  const Value& value(ValueId id) const { return values_.at(static_cast<size_t>(id)); }
  const std::vector<Value>& values() const { return values_; }
  std::vector<Node>& nodes() { return nodes_; }
  const std::vector<Node>& nodes() const { return nodes_; }
  const std::vector<ValueId>& inputs() const { return inputs_; }
  const std::vector<GraphOutput>& outputs() const { return outputs_; }
  std::vector<GraphOutput>& outputs() { return outputs_; }

 private:
  std::vector<Value> values_;
  std::vector<Node> nodes_;
  std::vector<ValueId> inputs_;
  std::vector<GraphOutput> outputs_;
};

/// Visits a graph's nodes in order (which is post-order: a control-flow node's blocks come
/// right before it), telling when each block is entered and left. For a graph without blocks it
/// is a plain loop over the nodes.
class BlockVisitor {
 public:
  virtual ~BlockVisitor() = default;
  /// Block `block` of node `owner` starts; its nodes follow.
  virtual absl::Status EnterBlock(int owner, int block) { return absl::OkStatus(); }
  /// Block `block` of node `owner` ends (all its nodes were visited).
  virtual absl::Status ExitBlock(int owner, int block) { return absl::OkStatus(); }
  virtual absl::Status VisitNode(int index) = 0;
};
/// Walks `graph` with `visitor`; stops at the first error.
absl::Status WalkGraph(const Graph& graph, BlockVisitor& visitor);
/// Whether some node of `graph` has blocks.
bool HasBlocks(const Graph& graph);

/// A ConstTensor owning float data (tests, folding passes).
std::shared_ptr<const ConstTensor> MakeFloatTensor(std::vector<int64_t> shape,
                                                   std::vector<float> data);

}  // namespace ts2coreml::core

#endif  // TS2COREML_CORE_IR_GRAPH_H_
