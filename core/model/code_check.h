/// A bounded scan of the TorchScript source in a model's `code/` folder before LibTorch parses it.
///
/// LibTorch's parser and IR emitter recurse once per nesting level, so 10,000 nested
/// parentheses, a chain of 10,000 `+`, 10,000 `elif`s or 10,000 nested blocks exhaust the stack.
/// This scan walks the text once, without recursion, and bounds what makes the parser recurse:
/// brackets plus the operators chained inside each bracket level (an upper bound of an
/// expression's tree depth), and indented blocks plus `elif` chains. Real code printed by
/// torch.jit.save stays far below the bounds, which are Python's own (200 nested brackets,
/// 100 indentation levels).
///
///   absl::Status s = CheckTorchScriptCode(text);  // "line 12: brackets and operators nest ..."
#ifndef TS2COREML_CORE_MODEL_CODE_CHECK_H_
#define TS2COREML_CORE_MODEL_CODE_CHECK_H_

#include <cstdint>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace ts2coreml::core {

/// Bounds of the scan.
struct CodeLimits {
  /// Open brackets plus the operators chained at each open level (commas start a new chain).
  uint32_t max_expression_depth = 200;
  /// Indented blocks plus the `elif`s of the chain each block is in.
  uint32_t max_block_depth = 100;
};

/// Scans `code`; errors (class kModel) name the line and what nests too deep.
absl::Status CheckTorchScriptCode(absl::string_view code, const CodeLimits& limits = {});

}  // namespace ts2coreml::core

#endif  // TS2COREML_CORE_MODEL_CODE_CHECK_H_
