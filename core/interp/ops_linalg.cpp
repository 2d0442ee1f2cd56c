// Linear algebra (MIL defs: linear.py): linear (weight [D_out, D_in]), matmul with transpose
// flags and numpy broadcasting, einsum.
#include "core/interp/op_context.h"
#include "core/interp/op_table.h"

namespace ts2coreml::interp {
namespace {

void Linear(OpContext& c) {
  const at::Tensor x = c.Tensor("x");
  const at::Tensor w = c.Tensor("weight");
  if (w.dim() != 2 || x.dim() < 1 || x.size(-1) != w.size(1)) {
    c.Fail("linear needs weight [D_out, D_in] with D_in = the last dimension of x");
  }
  at::Tensor y = at::matmul(x, w.t());
  if (at::Tensor b = c.OptionalTensor("bias"); b.defined()) y = y + b;
  c.SetOutput(0, y);
}

void Matmul(OpContext& c) {
  at::Tensor x = c.Tensor("x");
  at::Tensor y = c.Tensor("y");
  if (c.Bool("transpose_x", false) && x.dim() >= 2) x = x.transpose(-1, -2);
  if (c.Bool("transpose_y", false) && y.dim() >= 2) y = y.transpose(-1, -2);
  const bool ints = IsIntType(c.DType("x")) && IsIntType(c.DType("y"));
  at::Tensor z = ints ? at::matmul(x.to(at::kLong), y.to(at::kLong))
                      : at::matmul(x.to(at::kFloat), y.to(at::kFloat));
  c.SetOutput(0, z);
}

void Einsum(OpContext& c) {
  std::vector<at::Tensor> operands;
  for (const Value* v : c.Tuple("values")) operands.push_back(v->tensor);
  c.SetOutput(0, at::einsum(c.String("equation"), operands));
}

}  // namespace

void RegisterLinalgOps(OpTable& t) {
  t.Add("linear", Linear);
  t.Add("matmul", Matmul);
  t.Add("einsum", Einsum);
}

}  // namespace ts2coreml::interp
