// Elementwise ops (MIL defs: elementwise_binary.py, elementwise_unary.py): numpy broadcasting,
// comparisons giving bool, logical ops, select, cast.
#include <cmath>

#include "core/interp/op_context.h"
#include "core/interp/op_table.h"

namespace ts2coreml::interp {
namespace {

at::Tensor X(OpContext& c) { return c.Tensor("x"); }
at::Tensor Y(OpContext& c) { return c.Tensor("y"); }

bool BothInt(OpContext& c) { return IsIntType(c.DType("x")) && IsIntType(c.DType("y")); }

void Cast(OpContext& c) {
  const std::string name = c.String("dtype");
  milspec::DataType to;
  if (name == "fp16")
    to = milspec::FLOAT16;
  else if (name == "fp32")
    to = milspec::FLOAT32;
  else if (name == "fp64")
    to = milspec::FLOAT64;
  else if (name == "int32")
    to = milspec::INT32;
  else if (name == "int16")
    to = milspec::INT16;
  else if (name == "int8")
    to = milspec::INT8;
  else if (name == "uint8")
    to = milspec::UINT8;
  else if (name == "uint16")
    to = milspec::UINT16;
  else if (name == "int64")
    to = milspec::INT64;
  else if (name == "bool")
    to = milspec::BOOL;
  else
    c.Fail("unknown cast dtype '" + name + "'");
  at::Tensor x = X(c);
  if (to == milspec::BOOL) {
    x = x != 0;
  } else if (IsIntType(to)) {
    x = x.to(at::kDouble).trunc();  // float -> int truncates toward zero
  }
  // The interpreter rounds the fp16 result after the op.
  c.SetOutput(0, x, to);
}

/// Binary arithmetic: integer division and mod as MIL defines them for ints.
void RegisterArithmeticOps(OpTable& t) {
  t.Add("add", [](OpContext& c) { c.SetOutput(0, X(c) + Y(c)); });
  t.Add("sub", [](OpContext& c) { c.SetOutput(0, X(c) - Y(c)); });
  t.Add("mul", [](OpContext& c) { c.SetOutput(0, X(c) * Y(c)); });
  t.Add("real_div", [](OpContext& c) {
    at::Tensor q = at::div(X(c).to(at::kFloat), Y(c).to(at::kFloat));
    if (BothInt(c)) q = q.trunc().to(at::kInt);
    c.SetOutput(0, q);
  });
  t.Add("floor_div", [](OpContext& c) {
    if (BothInt(c)) {
      c.SetOutput(0, at::div(X(c).to(at::kLong), Y(c).to(at::kLong), "floor"));
    } else {
      c.SetOutput(0, at::floor(X(c) / Y(c)));
    }
  });
  t.Add("mod", [](OpContext& c) {
    // numpy's mod: the result has the sign of the divisor.
    const at::Tensor x = X(c), y = Y(c);
    if (BothInt(c)) {
      c.SetOutput(0, at::remainder(x.to(at::kLong), y.to(at::kLong)));
    } else {
      c.SetOutput(0, x - at::floor(x / y) * y);
    }
  });
  t.Add("pow", [](OpContext& c) { c.SetOutput(0, at::pow(X(c), Y(c))); });
  t.Add("maximum", [](OpContext& c) { c.SetOutput(0, at::maximum(X(c), Y(c))); });
  t.Add("minimum", [](OpContext& c) { c.SetOutput(0, at::minimum(X(c), Y(c))); });
}

/// Comparisons and logical ops (bool results).
void RegisterComparisonOps(OpTable& t) {
  t.Add("equal", [](OpContext& c) { c.SetOutput(0, at::eq(X(c), Y(c))); });
  t.Add("not_equal", [](OpContext& c) { c.SetOutput(0, at::ne(X(c), Y(c))); });
  t.Add("less", [](OpContext& c) { c.SetOutput(0, at::lt(X(c), Y(c))); });
  t.Add("less_equal", [](OpContext& c) { c.SetOutput(0, at::le(X(c), Y(c))); });
  t.Add("greater", [](OpContext& c) { c.SetOutput(0, at::gt(X(c), Y(c))); });
  t.Add("greater_equal", [](OpContext& c) { c.SetOutput(0, at::ge(X(c), Y(c))); });
  // Logical.
  t.Add("logical_and", [](OpContext& c) {
    c.SetOutput(0, at::logical_and(X(c).to(at::kBool), Y(c).to(at::kBool)));
  });
  t.Add("logical_or", [](OpContext& c) {
    c.SetOutput(0, at::logical_or(X(c).to(at::kBool), Y(c).to(at::kBool)));
  });
  t.Add("logical_xor", [](OpContext& c) {
    c.SetOutput(0, at::logical_xor(X(c).to(at::kBool), Y(c).to(at::kBool)));
  });
  t.Add("logical_not", [](OpContext& c) { c.SetOutput(0, at::logical_not(X(c).to(at::kBool))); });
}

/// Unary math, with MIL's default epsilons where an op has one.
void RegisterUnaryOps(OpTable& t) {
  t.Add("abs", [](OpContext& c) { c.SetOutput(0, at::abs(X(c))); });
  t.Add("acos", [](OpContext& c) { c.SetOutput(0, at::acos(X(c))); });
  t.Add("asin", [](OpContext& c) { c.SetOutput(0, at::asin(X(c))); });
  t.Add("atan", [](OpContext& c) { c.SetOutput(0, at::atan(X(c))); });
  t.Add("atanh", [](OpContext& c) { c.SetOutput(0, at::atanh(X(c))); });
  t.Add("ceil", [](OpContext& c) { c.SetOutput(0, at::ceil(X(c))); });
  t.Add("cos", [](OpContext& c) { c.SetOutput(0, at::cos(X(c))); });
  t.Add("cosh", [](OpContext& c) { c.SetOutput(0, at::cosh(X(c))); });
  t.Add("erf", [](OpContext& c) { c.SetOutput(0, at::erf(X(c))); });
  t.Add("exp", [](OpContext& c) { c.SetOutput(0, at::exp(X(c))); });
  t.Add("exp2", [](OpContext& c) { c.SetOutput(0, at::exp2(X(c))); });
  t.Add("floor", [](OpContext& c) { c.SetOutput(0, at::floor(X(c))); });
  t.Add("inverse", [](OpContext& c) { c.SetOutput(0, 1.0 / (X(c) + c.Float("epsilon", 1e-4))); });
  t.Add("log", [](OpContext& c) { c.SetOutput(0, at::log(X(c) + c.Float("epsilon", 1e-45))); });
  t.Add("round", [](OpContext& c) { c.SetOutput(0, at::round(X(c))); });
  t.Add("rsqrt",
        [](OpContext& c) { c.SetOutput(0, 1.0 / at::sqrt(X(c) + c.Float("epsilon", 1e-12))); });
  t.Add("sign", [](OpContext& c) { c.SetOutput(0, at::sign(X(c))); });
  t.Add("sin", [](OpContext& c) { c.SetOutput(0, at::sin(X(c))); });
  t.Add("sinh", [](OpContext& c) { c.SetOutput(0, at::sinh(X(c))); });
  t.Add("sqrt", [](OpContext& c) { c.SetOutput(0, at::sqrt(X(c))); });
  t.Add("square", [](OpContext& c) { c.SetOutput(0, X(c) * X(c)); });
  t.Add("tan", [](OpContext& c) { c.SetOutput(0, at::tan(X(c))); });
  t.Add("threshold", [](OpContext& c) { c.SetOutput(0, at::clamp_min(X(c), c.Float("alpha"))); });
}

}  // namespace

void RegisterElementwiseOps(OpTable& t) {
  RegisterArithmeticOps(t);
  RegisterComparisonOps(t);
  RegisterUnaryOps(t);
  t.Add("select", [](OpContext& c) {
    c.SetOutput(0, at::where(c.Tensor("cond").to(at::kBool), c.Tensor("a"), c.Tensor("b")));
  });
  t.Add("cast", Cast);
}

}  // namespace ts2coreml::interp
