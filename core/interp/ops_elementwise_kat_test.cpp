// Known-answer tests of the interpreter's elementwise MIL ops that the elementwise lowerings emit
// and interp_ops_test does not cover: the unary math ops, rounding, sign, square, log with its
// epsilon, logical_xor, integer maximum/minimum/pow, mod's divisor sign, and select on int and
// bool. Expected values are worked by hand from Apple's op definitions (coremltools
// mil/ops/defs/iOS15/elementwise_unary.py, elementwise_binary.py, control_flow.py), never taken
// from ATen, which the interpreter shares with LibTorch.
#include <stdlib.h>

#include <cmath>
#include <filesystem>
#include <limits>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/interp/interpreter.h"
#include "core/mil/package_writer.h"
#include "core/mil/program.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace ts2coreml::interp {
namespace {

namespace fs = std::filesystem;
using mil::DType;
using mil::VarId;

constexpr double kInf = std::numeric_limits<double>::infinity();

/// A program of constants and elementwise ops, written as a package and run.
class Program {
 public:
  Program() : f_("CoreML7") {}

  VarId F32(std::vector<int64_t> shape, std::vector<float> v) {
    return f_.AddConst("c", mil::ConstValue::Float32(std::move(shape), v.data()));
  }
  VarId I32(std::vector<int64_t> shape, std::vector<int32_t> v) {
    return f_.AddConst("i", mil::ConstValue::Int32(std::move(shape), v.data()));
  }
  VarId Bools(std::vector<bool> v) {
    std::unique_ptr<bool[]> b(new bool[v.size()]);
    for (size_t i = 0; i < v.size(); ++i) b[i] = v[i];
    return f_.AddConst("b", mil::ConstValue::Bool({static_cast<int64_t>(v.size())}, b.get()));
  }
  /// Adds an op with one output.
  VarId Op(const std::string& type, std::vector<mil::OpInput> in, mil::TensorType out) {
    auto vars = f_.AddOp(type, type, std::move(in), {std::move(out)});
    EXPECT_TRUE(vars.ok()) << vars.status();
    return vars.ok() ? (*vars)[0] : 0;
  }
  /// The one-input op `type` on `x`, typed like `x` with `shape`.
  VarId Unary(const std::string& type, VarId x, DType dtype, std::vector<int64_t> shape) {
    return Op(type, {{"x", {x}}}, {dtype, std::move(shape)});
  }

  /// A bool var as fp32 1/0 (package outputs cannot be bool): select(b, 1, 0).
  VarId AsFloat(VarId b, std::vector<int64_t> shape) {
    return Op("select", {{"cond", {b}}, {"a", {F32({}, {1})}}, {"b", {F32({}, {0})}}},
              {DType::kFloat32, std::move(shape)});
  }

  /// Runs the program with `out` as its only output; its values as doubles.
  std::vector<double> Eval(VarId out) {
    mil::ModelSpec spec;
    spec.specification_version = 8;
    EXPECT_TRUE(f_.AddOutput(out).ok());
    spec.outputs.push_back({f_.var(out).name, f_.var(out).type.dtype, f_.var(out).type.shape});
    char tmpl[] = "/tmp/interp_elementwise_kat_XXXXXX";
    if (mkdtemp(tmpl) == nullptr) return {};
    const fs::path dir = fs::path(tmpl) / "t.mlpackage";
    std::vector<double> values;
    absl::StatusOr<mil::WriteStats> w = mil::WritePackageDir(spec, f_, dir);
    EXPECT_TRUE(w.ok()) << w.status();
    absl::StatusOr<Interpreter> interp = Interpreter::Load(dir);
    EXPECT_TRUE(interp.ok()) << interp.status();
    if (interp.ok()) {
      absl::StatusOr<RunResult> r = interp->Run({});
      EXPECT_TRUE(r.ok()) << r.status();
      if (r.ok()) {
        at::Tensor t = r->outputs.begin()->second.to(at::kDouble).contiguous().flatten();
        values.assign(t.data_ptr<double>(), t.data_ptr<double>() + t.numel());
      }
    }
    fs::remove_all(tmpl);
    return values;
  }

 private:
  mil::Function f_;
};

MATCHER_P(Near, want, "") {
  const std::vector<double>& got = arg;
  if (got.size() != want.size()) {
    *result_listener << "has " << got.size() << " elements";
    return false;
  }
  for (size_t i = 0; i < got.size(); ++i) {
    const double w = want[i];
    const bool ok =
        std::isinf(w) ? got[i] == w : std::fabs(got[i] - w) <= 1e-6 * (1 + std::fabs(w));
    if (!ok) {
      *result_listener << "element " << i << " is " << got[i] << ", want " << w;
      return false;
    }
  }
  return true;
}

/// `type` on fp32 `in` gives `want` (one test per op, so a failure names the op).
void ExpectUnary(const std::string& type, std::vector<float> in, std::vector<double> want) {
  Program p;
  const int64_t n = static_cast<int64_t>(in.size());
  VarId y = p.Unary(type, p.F32({n}, std::move(in)), DType::kFloat32, {n});
  EXPECT_THAT(p.Eval(y), Near(want)) << type;
}

TEST(ElementwiseKatTest, Trigonometry) {
  // sin(pi/6) = 0.5, cos(pi/3) = 0.5, tan(pi/4) = 1; sin(0) = 0, cos(0) = 1, tan(-pi/4) = -1.
  const float pi = 3.14159265358979f;
  ExpectUnary("sin", {0, pi / 6, -pi / 2}, {0, 0.5, -1});
  ExpectUnary("cos", {0, pi / 3, pi}, {1, 0.5, -1});
  ExpectUnary("tan", {0, pi / 4, -pi / 4}, {0, 1, -1});
  // asin(0.5) = pi/6, acos(0.5) = pi/3, acos(-1) = pi, atan(1) = pi/4, atan(-1) = -pi/4.
  ExpectUnary("asin", {0, 0.5f, -1}, {0, 0.52359877559, -1.57079632679});
  ExpectUnary("acos", {1, 0.5f, -1}, {0, 1.0471975512, 3.14159265359});
  ExpectUnary("atan", {0, 1, -1}, {0, 0.78539816340, -0.78539816340});
}

TEST(ElementwiseKatTest, Hyperbolics) {
  // sinh(1) = (e - 1/e) / 2, cosh(1) = (e + 1/e) / 2, atanh(0.5) = ln(3) / 2.
  ExpectUnary("sinh", {0, 1, -1}, {0, 1.17520119364, -1.17520119364});
  ExpectUnary("cosh", {0, 1, -1}, {1, 1.54308063482, 1.54308063482});
  ExpectUnary("atanh", {0, 0.5f, -0.5f}, {0, 0.54930614433, -0.54930614433});
}

TEST(ElementwiseKatTest, ExponentialsAndErf) {
  ExpectUnary("exp2", {3, -1, 0.5f}, {8, 0.5, 1.41421356237});
  // erf(1) = 0.8427007929, odd.
  ExpectUnary("erf", {0, 1, -1}, {0, 0.84270079295, -0.84270079295});
}

TEST(ElementwiseKatTest, LogWithZeroEpsilonIsExact) {
  // log(x + epsilon): with epsilon 0, log(1) = 0, log(e^2) = 2 and log(0) = -inf.
  Program p;
  VarId x = p.F32({3}, {1, 7.38905609893f, 0});
  VarId y = p.Op("log", {{"x", {x}}, {"epsilon", {p.F32({}, {0})}}}, {DType::kFloat32, {3}});
  EXPECT_THAT(p.Eval(y), Near(std::vector<double>{0, 2, -kInf}));
}

TEST(ElementwiseKatTest, FloorCeilRoundHalfToEven) {
  ExpectUnary("floor", {-1.5f, 1.5f, 2, -0.25f}, {-2, 1, 2, -1});
  ExpectUnary("ceil", {-1.5f, 1.5f, 2, 0.25f}, {-1, 2, 2, 1});
  // round: nearest integer, halves to the even one (0.5 -> 0, 1.5 -> 2, 2.5 -> 2, -2.5 -> -2).
  ExpectUnary("round", {0.5f, 1.5f, 2.5f, -2.5f, -1.7f, 0.49f}, {0, 2, 2, -2, -2, 0});
}

TEST(ElementwiseKatTest, AbsSignSquareOnFloatsAndInts) {
  ExpectUnary("abs", {-3.5f, 0, 2}, {3.5, 0, 2});
  ExpectUnary("sign", {-3.5f, 0, 2}, {-1, 0, 1});
  ExpectUnary("square", {-3, 0.5f, 2}, {9, 0.25, 4});
  for (const char* op : {"abs", "sign", "square"}) {
    Program p;
    VarId y = p.Unary(op, p.I32({3}, {-3, 0, 2}), DType::kInt32, {3});
    const std::vector<double> want = std::string(op) == "abs"    ? std::vector<double>{3, 0, 2}
                                     : std::string(op) == "sign" ? std::vector<double>{-1, 0, 1}
                                                                 : std::vector<double>{9, 0, 4};
    EXPECT_THAT(p.Eval(y), Near(want)) << op;
  }
}

TEST(ElementwiseKatTest, LogicalXorBroadcasts) {
  // [T, F] xor [[T], [F]] = [[F, T], [T, F]].
  Program p;
  VarId x = p.Bools({true, false});
  VarId y = p.Op("expand_dims", {{"x", {p.Bools({true, false})}}, {"axes", {p.I32({1}, {1})}}},
                 {DType::kBool, {2, 1}});
  VarId z = p.Op("logical_xor", {{"x", {x}}, {"y", {y}}}, {DType::kBool, {2, 2}});
  EXPECT_THAT(p.Eval(p.AsFloat(z, {2, 2})), Near(std::vector<double>{0, 1, 1, 0}));
}

TEST(ElementwiseKatTest, IntegerMaximumMinimumPow) {
  for (const char* op : {"maximum", "minimum", "pow"}) {
    Program p;
    VarId x = p.I32({3}, {-2, 3, 5});
    VarId y = p.I32({3}, {1, 3, 2});
    VarId z = p.Op(op, {{"x", {x}}, {"y", {y}}}, {DType::kInt32, {3}});
    const std::string name = op;
    const std::vector<double> want = name == "maximum"   ? std::vector<double>{1, 3, 5}
                                     : name == "minimum" ? std::vector<double>{-2, 3, 2}
                                                         : std::vector<double>{-2, 27, 25};
    EXPECT_THAT(p.Eval(z), Near(want)) << op;
  }
}

TEST(ElementwiseKatTest, ModTakesTheDivisorsSign) {
  // mod(x, y) = x - floor(x / y) * y: 7 mod -3 = -2, -7 mod -3 = -1, -7.5 mod 2 = 0.5, 6 mod 3 = 0.
  Program p;
  VarId x = p.F32({4}, {7, -7, -7.5f, 6});
  VarId y = p.F32({4}, {-3, -3, 2, 3});
  VarId z = p.Op("mod", {{"x", {x}}, {"y", {y}}}, {DType::kFloat32, {4}});
  EXPECT_THAT(p.Eval(z), Near(std::vector<double>{-2, -1, 0.5, 0}));
  Program q;
  VarId r = q.Op("mod", {{"x", {q.I32({2}, {7, -7})}}, {"y", {q.I32({2}, {-3, 3})}}},
                 {DType::kInt32, {2}});
  EXPECT_THAT(q.Eval(r), Near(std::vector<double>{-2, 2}));
}

TEST(ElementwiseKatTest, SelectOnIntsAndBoolsBroadcasts) {
  // cond [T, F, T] picks a (broadcast scalar 9) or b elementwise.
  Program p;
  VarId s = p.Op("select",
                 {{"cond", {p.Bools({true, false, true})}},
                  {"a", {p.I32({}, {9})}},
                  {"b", {p.I32({3}, {1, 2, 3})}}},
                 {DType::kInt32, {3}});
  EXPECT_THAT(p.Eval(s), Near(std::vector<double>{9, 2, 9}));
  Program q;
  VarId b = q.Op("select",
                 {{"cond", {q.Bools({true, false, false})}},
                  {"a", {q.Bools({false, true, true})}},
                  {"b", {q.Bools({true, false, true})}}},
                 {DType::kBool, {3}});
  EXPECT_THAT(q.Eval(q.AsFloat(b, {3})), Near(std::vector<double>{0, 0, 1}));
}

TEST(ElementwiseKatTest, EqualityOfAVarWithItselfFindsNan) {
  // x != x holds exactly for NaN; x == x for every other value, infinities included.
  Program p;
  VarId x = p.F32({3}, {std::nanf(""), 1, static_cast<float>(kInf)});
  VarId ne = p.Op("not_equal", {{"x", {x}}, {"y", {x}}}, {DType::kBool, {3}});
  EXPECT_THAT(p.Eval(p.AsFloat(ne, {3})), Near(std::vector<double>{1, 0, 0}));
}

}  // namespace
}  // namespace ts2coreml::interp
