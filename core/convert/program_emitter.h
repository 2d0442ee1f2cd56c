/// Lowering: builds the MIL program from the analyzed, planned graph. Casts are inserted here.
///
/// Walks the graph in order and calls each lowering's `lower`. Inputs reach a lowering in the
/// dtype the precision plan chose: a runtime value is cast (once per dtype, from the plan), a
/// constant is materialized directly in the needed dtype (an FP16 weight is stored as FP16). After
/// each lowering the outputs are checked against the planned types. Model outputs are cast to the
/// I/O dtype and renamed.
#ifndef TS2COREML_CORE_CONVERT_PROGRAM_EMITTER_H_
#define TS2COREML_CORE_CONVERT_PROGRAM_EMITTER_H_

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "core/convert/analysis.h"
#include "core/convert/precision_plan.h"
#include "core/ir/graph.h"
#include "core/mil/program.h"

struct t2c_context;

namespace ts2coreml::core {

/// One inserted cast, as it ended up in the program.
struct EmittedCast {
  std::string var;  ///< the cast's output var
  mil::DType from = mil::DType::kInvalid;
  mil::DType to = mil::DType::kInvalid;
  std::string reason;
  bool constant = false;  ///< a weight stored FP16 and cast up (PlannedCast::constant)
};

/// Where a MIL var comes from: the TorchScript value it holds (for verify --localize).
struct SourceMapEntry {
  mil::VarId var = 0;
  std::string value;   ///< TorchScript debug name
  std::string kind;    ///< qualified op kind of the node producing it
  std::string source;  ///< TorchScript source location
};

/// What lowering produced.
struct LoweredProgram {
  mil::Function main;
  std::vector<mil::FeatureSpec> inputs;
  std::vector<mil::FeatureSpec> outputs;
  std::vector<EmittedCast> casts;
  std::vector<std::string> warnings;
  /// For each MIL op index: the graph node that emitted it (-1 for casts and I/O plumbing).
  std::vector<int> op_origin;
  /// The var bound to each lowered node output, in graph order.
  std::vector<SourceMapEntry> source_map;
  /// Time spent checking emitted ops against Core ML's opset (part of lowering).
  double validate_seconds = 0;
};

/// Builds the program. Errors name the node, the plugin and the source line.
absl::StatusOr<LoweredProgram> LowerGraph(Graph& graph, const Analysis& analysis,
                                          const PrecisionPlan& plan);

/// The emitter behind LowerGraph, used by the host API during `lower` callbacks.
class ProgramEmitter {
 public:
  ProgramEmitter(Graph& graph, const PrecisionPlan& plan, LoweredProgram& out,
                 const std::vector<int>* uses = nullptr)
      : graph_(graph), plan_(plan), out_(out), uses_(uses) {}

  /// `value` as a var of dtype `dtype`: the produced var, a planned cast, or a constant.
  absl::StatusOr<mil::VarId> VarFor(ValueId value, mil::DType dtype, int consumer);
  /// A constant made by a lowering.
  mil::VarId AddConst(std::string_view hint, mil::ConstValue value);
  /// An op emitted by a lowering (never a cast), checked against Core ML's opset first: a
  /// violation fails with class kPlugin and is remembered for EmitNode's report.
  absl::StatusOr<std::vector<mil::VarId>> AddOp(std::string_view type, std::string_view hint,
                                                std::vector<mil::OpInput> inputs,
                                                std::vector<mil::TensorType> outputs);
  /// Binds a runtime value to the var that holds it.
  void Bind(ValueId value, mil::VarId var);
  const mil::Function& function() const { return out_.main; }
  /// Name hint for vars emitted by node `index`.
  std::string HintFor(int index) const;

  absl::Status EmitInputs();
  absl::Status EmitNode(int index, const NodeAnalysis& analysis);
  absl::Status EmitOutputs();
  /// Block `block` of control-flow node `owner` starts: a nested MIL block begins (for a loop,
  /// the while_loop's initial values, then its condition block, then its body block).
  absl::Status EnterBlock(int owner, int block);
  /// Block `block` of `owner` ends: its results, in their planned dtypes, end the MIL block.
  absl::Status ExitBlock(int owner, int block);

 private:
  /// An op the core itself emits (casts, output identities), checked like AddOp; a violation is
  /// a bug in ts2coreml (class kInternal).
  absl::StatusOr<std::vector<mil::VarId>> AddCoreOp(std::string_view type, std::string_view hint,
                                                    std::vector<mil::OpInput> inputs,
                                                    std::vector<mil::TensorType> outputs,
                                                    std::vector<int> blocks = {});
  /// CheckNewOp, timed into LoweredProgram::validate_seconds.
  std::vector<std::string> Check(std::string_view type, const std::vector<mil::OpInput>& inputs,
                                 const std::vector<mil::TensorType>& outputs);
  absl::StatusOr<mil::VarId> ConstFor(const Value& v, ValueId id, mil::DType dtype);
  /// Emits the planned `cast` of `from` (holding value `id`) and records it, with PyTorch's
  /// semantics: float to int truncates toward zero (TruncateTowardZero first), and a conversion
  /// to bool is `x != 0` (NotEqualZero).

  absl::StatusOr<mil::VarId> EmitCast(const Value& v, ValueId id, mil::VarId from,
                                      const PlannedCast& cast);

  /// sign(x) * floor(|x|) of float var `x` of value `v`, in `dtype`.
  absl::StatusOr<mil::VarId> TruncateTowardZero(const Value& v, mil::VarId x, mil::DType dtype);
  /// not_equal(x, 0) of var `x` (float or int32 `dtype`) of value `v`.
  absl::StatusOr<mil::VarId> NotEqualZero(const Value& v, mil::VarId x, mil::DType dtype);
  /// A type op (dtype_ops.h): its output is bound to the planned cast of its input.
  absl::Status EmitDtypeConversion(int index);
  /// Scalar int / bool arithmetic on run-time scalars (control_flow_ops.h).
  absl::Status EmitScalarOp(int index);
  /// Indexing by a run-time int (control_flow_ops.h): gather and squeeze, slice_by_size, or a
  /// masked select for a write.
  absl::Status EmitDynamicIndex(int index);
  /// The int32 scalar `start` as an int32 vector of one element.
  absl::StatusOr<mil::VarId> IndexVector(const std::string& hint, mil::VarId start);
  /// slice_by_size's begin for a rank-`rank` tensor: `start1` (IndexVector) at `dim`, 0
  /// elsewhere.
  absl::StatusOr<mil::VarId> RunTimeBegin(const std::string& hint, mil::VarId start1, int64_t dim,
                                          size_t rank);
  /// `x` at index `start1` (IndexVector) along `dim`, that dimension removed: `out_type`.
  absl::StatusOr<mil::VarId> SelectAt(const std::string& hint, mil::VarId x, mil::VarId start1,
                                      int64_t dim, const mil::TensorType& out_type);
  /// `x` with `src` written at index `start1` (IndexVector) along `dim` (`src` has x's shape
  /// without `dim`): `out_type`, x's type.
  absl::StatusOr<mil::VarId> WriteAt(const std::string& hint, mil::VarId x, mil::VarId src,
                                     mil::VarId start1, int64_t dim,
                                     const mil::TensorType& out_type);
  /// A prim::If as cond, a prim::Loop as while_loop, once its blocks are emitted.
  absl::Status EmitControlFlow(int index);
  /// The while_loop's initial values and its condition block (a loop body is about to begin).
  absl::Status BeginLoop(int owner);
  /// `var` as a result of the current block: itself when the block defines it, else an identity.
  absl::StatusOr<mil::VarId> LocalVar(mil::VarId var, std::string_view hint);
  /// The cached var of `value` in `dtype` if the current block sees it, else 0.
  mil::VarId Cached(ValueId value, mil::DType dtype) const;

  /// The MIL side of a control-flow node being emitted.
  struct Flow {
    std::vector<int> blocks;         ///< MIL blocks (cond: then, else; loop: cond, body)
    std::vector<mil::VarId> init;    ///< a loop's initial loop vars
    std::vector<mil::DType> dtypes;  ///< a loop's carried dtypes
    bool has_index = false;          ///< a loop's vars start with the trip index
    bool has_cond = false;           ///< ...then the condition
    mil::VarId index = 0;            ///< the body's trip index var
  };
  std::map<int, Flow> flows_;

  /// Runs lowering `l` on node `n` (the plugin call), turning its failure or an opset violation
  /// it emitted into an error naming the node and the plugin.
  absl::Status RunLowering(const Node& n, const registry::Lowering& l, t2c_context& ctx);
  /// Binds tensor output `k` of `n` to the var the lowering bound, checked against the plan.
  absl::Status BindOutput(const Node& n, const registry::Lowering& l, const NodePlan& np,
                          const t2c_context& ctx, size_t k);
  /// Binds the elements of tensor-list output `k` of `n`, each checked against the plan.
  absl::Status BindListOutput(const Node& n, const registry::Lowering& l, const NodePlan& np,
                              const t2c_context& ctx, size_t k);
  /// Decides which loop vars loop `owner` has (trip index, condition) and gathers their initial
  /// values into `flow`; returns the trip-count constant (0 without an index).
  absl::StatusOr<mil::VarId> LoopInitialValues(int owner, Flow& flow);
  /// The while_loop's condition block: `index < limit` and/or the carried condition.
  absl::Status EmitLoopCondition(const std::string& hint, Flow& flow, mil::VarId limit);

  Graph& graph_;
  const PrecisionPlan& plan_;
  LoweredProgram& out_;
  const std::vector<int>* uses_;  ///< readers per value, for output_is_used
  /// value -> (dtype -> var)
  std::map<ValueId, std::map<mil::DType, mil::VarId>> vars_;
  /// The first opset violation of the lowering running now (empty when none).
  std::string violation_;
};

}  // namespace ts2coreml::core

#endif  // TS2COREML_CORE_CONVERT_PROGRAM_EMITTER_H_
