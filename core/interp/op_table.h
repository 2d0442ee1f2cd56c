/// The table of MIL op implementations the interpreter dispatches to, by op type.
///
/// Torch-free on purpose: the implementations live in one translation unit per op family
/// (ops_conv.cpp, ops_elementwise.cpp, ...), each exporting one Register*Ops function, and only
/// those files include ATen.
///
///   const OpTable& table = BuiltinOps();
///   if (OpImpl impl = table.Find("conv")) impl(ctx);
#ifndef TS2COREML_CORE_INTERP_OP_TABLE_H_
#define TS2COREML_CORE_INTERP_OP_TABLE_H_

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace ts2coreml::interp {

class OpContext;  // op_context.h

/// Evaluates one op: reads inputs from `ctx` and sets every output. A malformed op (a missing
/// input, a bad parameter value) is reported with ctx.Fail(), which throws OpError; the
/// interpreter turns that, and ATen's own errors, into an absl::Status naming the op.
using OpImpl = void (*)(OpContext& ctx);

/// Op type -> implementation.
class OpTable {
 public:
  /// Registers `impl` for `type`; a later registration of the same type replaces it.
  void Add(absl::string_view type, OpImpl impl);
  /// The implementation of `type`, or nullptr.
  OpImpl Find(absl::string_view type) const;
  /// Every registered op type, sorted.
  std::vector<std::string> Types() const;

 private:
  std::map<std::string, OpImpl, std::less<>> impls_;
};

/// Every op the interpreter implements (built once).
const OpTable& BuiltinOps();

// One registration function per op family (ops_<family>.cpp).
void RegisterActivationOps(OpTable& table);
void RegisterConvOps(OpTable& table);
void RegisterElementwiseOps(OpTable& table);
void RegisterLinalgOps(OpTable& table);
void RegisterNormOps(OpTable& table);
void RegisterPoolOps(OpTable& table);
void RegisterReduceOps(OpTable& table);
void RegisterResizeOps(OpTable& table);
void RegisterTensorOps(OpTable& table);

}  // namespace ts2coreml::interp

#endif  // TS2COREML_CORE_INTERP_OP_TABLE_H_
