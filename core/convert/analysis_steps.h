/// The steps of analysis (analysis.h), one function each. Internal to core/convert: exposed for
/// analysis_test.cpp.
///
/// Analyze walks the graph once. For each node, AnalyzeNode renames its inputs to the newest
/// versions of host tensors written in place, then runs these steps until one decides the node:
///   0. AnalyzeControlFlow      prim::If / prim::Loop after their blocks: output types
///   0a. AnalyzeScalarOp        int / bool arithmetic on run-time scalars
///   1. FoldWithCore            prim:: plumbing and shape arithmetic (constant_evaluator.h)
///   2. FoldOnHost              input-independent ops on the HostEvaluator
///   3. RefuseHostTensorMisuse  what was not folded may not write into or read unwritten host
///                              tensors
///   3a. AnalyzeDtypeOp         type ops (aten::to, type_as): an alias, or the core's
///                              dtype conversion (dtype_ops.h)
///   4. FindLowering            the lowering, or unsupported (every one reported), or skipped
///   5. FoldPassthrough         a passthrough lowering left by canonicalization becomes an alias
///   6. RefuseBadInputs         inputs checked against the declaration before plugin code runs
///   7. InferOutputTypes        the declared infer rule or the infer callback types the outputs
/// After the walk, for the whole graph:
///   8. CheckUninitializedOutputs  outputs renamed to their newest versions, none unwritten
///   9. CheckRunTimeWrites         in-place writes on run-time tensors read through a stale value
///  10. CheckOutputsTyped          every model output has a type
///
///   AnalysisWalk w(graph, registry, host);
///   for (int idx = 0; idx < static_cast<int>(graph.nodes().size()); ++idx) AnalyzeNode(w, idx);
#ifndef TS2COREML_CORE_CONVERT_ANALYSIS_STEPS_H_
#define TS2COREML_CORE_CONVERT_ANALYSIS_STEPS_H_

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "core/convert/analysis.h"
#include "core/convert/host_evaluator.h"
#include "core/ir/graph.h"
#include "core/mil/program.h"
#include "registry/registry.h"

namespace ts2coreml::core {

/// Which values may depend on the model's input data. Known without shapes, it tells a node that
/// the host folds once shapes are given from an unsupported one.
class RunTimeValues {
 public:
  /// The graph's inputs are run-time values.
  explicit RunTimeValues(const Graph& g);

  /// Whether `id` may depend on input data: not a constant, and an input, the output of a node
  /// that reads run-time data, or a value made during analysis (an inferred list's element).
  bool Contains(const Graph& g, ValueId id) const;

  /// Whether `n` reads run-time data through an input that is not shape-only (ShapeOnlyInputs);
  /// its outputs are recorded as run-time values when it does.
  bool MarkNode(const Graph& g, const Node& n);
  /// Records `id` as a run-time value (a control-flow node's result).
  void Mark(ValueId id);

 private:
  std::vector<char> run_time_;
};

/// Versions of host tensors written in place. A write gives each written value a new version
/// ("mask.v1") that the readers after it read; readers before it keep the old value.
class ValueVersions {
 public:
  /// The newest version of `id`, or `id` itself when it was never written.
  ValueId Newest(const Graph& g, ValueId id) const;

  /// Adds to `g` a new version of `written` holding `contents` (a host constant), made by node
  /// `producer`, named after the first version; returns its id.
  ValueId Add(Graph& g, ValueId written, const Value& contents, int producer);

 private:
  std::map<ValueId, ValueId> newest_;         ///< keyed by first version
  std::map<ValueId, ValueId> first_version_;  ///< of every later version
};

/// What analysis carries from node to node in its walk over the graph.
struct AnalysisWalk {
  /// Starts a walk: uses counted, untyped graph inputs poisoned.
  AnalysisWalk(Graph& graph, const registry::Registry& registry, HostEvaluator* host);

  /// Records node `idx`'s problem (an error or an unsupported op) and blocks what depends on it.
  void Refuse(int idx, NodeDecision decision, std::string reason, ErrorClass error_class);
  /// Marks node `idx` skipped (an input could not be analyzed) and blocks what depends on it.
  void Skip(int idx);
  /// Whether an input of `n` (or an element of one) comes from a node not analyzed.
  bool Blocked(const Node& n) const;

  Graph& g;
  const registry::Registry& registry;
  HostEvaluator* host;
  Analysis a;
  /// Values that cannot be typed: outputs of refused or skipped nodes, untyped graph inputs.
  std::set<ValueId> poisoned;
  RunTimeValues run_time;
  ValueVersions versions;
};

/// What the steps of one node share.
struct NodeStep {
  int idx = -1;
  bool blocked = false;      ///< an input comes from a node not analyzed
  bool reads_input = false;  ///< it reads run-time data (RunTimeValues::MarkNode)
  /// Why the host evaluator did not take it ("" when it was not asked).
  std::string host_failure;
};

/// Analyzes node `idx`: renames its inputs to the newest versions, then runs steps 1 to 7.
void AnalyzeNode(AnalysisWalk& w, int idx);

/// Step 0: types a control-flow node (prim::If, prim::Loop; control_flow_ops.h) whose blocks
/// were analyzed, marking it lowered by ControlFlowLowering(), or refuses it. True for every
/// control-flow node.
bool AnalyzeControlFlow(AnalysisWalk& w, const NodeStep& s);

/// Step 0a: scalar int / bool arithmetic on run-time scalars (a loop counter, a break flag;
/// ScalarOpMil) is lowered by the core (ScalarOpLowering()). True when decided.
bool AnalyzeScalarOp(AnalysisWalk& w, const NodeStep& s);

/// Step 3a': `aten::Bool` of a run-time bool tensor of rank 0 becomes an alias of it (the
/// condition of a data-dependent branch or loop). True when decided.
bool AnalyzeTensorToBool(AnalysisWalk& w, const NodeStep& s);

/// Step 1: folds prim:: plumbing and shape arithmetic with the core's evaluator (or skips a core
/// op whose inputs are blocked). True when the node is decided.
bool FoldWithCore(AnalysisWalk& w, const NodeStep& s);

/// Step 2: evaluates an input-independent node on the host: its outputs become constants, and
/// every host tensor it wrote gets a new version. Records in `s->host_failure` why the host did
/// not take it (kUnimplemented). True when the node is decided (folded, or an error).
bool FoldOnHost(AnalysisWalk& w, NodeStep* s);

/// Step 3: refuses a node not folded that writes in place into a host tensor or reads one whose
/// memory was never fully written. True when refused.
bool RefuseHostTensorMisuse(AnalysisWalk& w, const NodeStep& s);

/// Why node `n` may not run as it is (see RefuseHostTensorMisuse), or "" when it may.
/// `host_failure` explains why the host did not evaluate it.
std::string HostTensorMisuse(const Graph& g, const Node& n, const std::string& host_failure);

/// Step 3a: decides a type op on a run-time tensor (dtype_ops.h): an alias of its input when it
/// keeps the input's class, else lowered by DtypeConversionLowering() with its output typed; a
/// dtype Core ML cannot hold is refused. True when decided.
bool AnalyzeDtypeOp(AnalysisWalk& w, const NodeStep& s);

/// Step 4: the node's lowering (also recorded in its NodeAnalysis), or null when the node is
/// decided: unsupported, a registry error, or skipped because an input is blocked.
const registry::Lowering* FindLowering(AnalysisWalk& w, const NodeStep& s);

/// Step 5: a passthrough lowering's node (left by canonicalization because its input is not a
/// tensor) becomes an alias of its input. True when folded.
bool FoldPassthrough(AnalysisWalk& w, const NodeStep& s, const registry::Lowering& l);

/// Step 6: refuses a node whose inputs do not fit the lowering's declaration. True when refused.
bool RefuseBadInputs(AnalysisWalk& w, const NodeStep& s, const registry::Lowering& l);

/// Why node `n`'s inputs do not fit lowering `l`'s declaration (count, None, role), or "".
std::string CheckInputs(const Graph& g, const Node& n, const registry::Lowering& l);

/// Step 7: types the outputs with the declared rule or the infer callback and marks the node
/// lowered, or refuses it (class kInputSpec when the model's input shapes do not fit the op).
void InferOutputTypes(AnalysisWalk& w, const NodeStep& s, const registry::Lowering& l);

/// Writes inferred types into node `idx`'s outputs; a Tensor[] output gets one fresh typed value
/// per element ("<list>_<k>").
void StoreInferredTypes(Graph& g, int idx,
                        const std::vector<std::optional<mil::TensorType>>& inferred,
                        const std::vector<std::optional<std::vector<mil::TensorType>>>& lists);

/// Step 8: renames model outputs to the newest versions and reports any that is uninitialized
/// memory.
void CheckUninitializedOutputs(AnalysisWalk& w);

/// Step 9: refuses in-place writes into run-time tensors that someone reads afterwards through
/// the old value (or a view taken before the write), then puts the problems back in graph order.
void CheckRunTimeWrites(const Graph& g, Analysis& a);

/// The storage each value shares: views and in-place results share their input's (by
/// Node::output_aliases). Indexed by value id.
std::vector<ValueId> StorageRoots(const Graph& g);

/// Step 10: reports every model output without a type (unless an unanalyzed node made it).
void CheckOutputsTyped(AnalysisWalk& w);

}  // namespace ts2coreml::core

#endif  // TS2COREML_CORE_CONVERT_ANALYSIS_STEPS_H_
