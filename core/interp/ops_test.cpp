// Known-answer tests of the interpreter's MIL ops. Every expected value is computed by hand (or
// with plain arithmetic in the comment) from Apple's op definitions in coremltools
// (mil/ops/defs/iOS15..17), never by ATen: the interpreter and LibTorch share ATen kernels, so
// agreement with LibTorch alone would prove little. Each test builds a tiny mil::Function, writes
// it as a real package and runs it through Interpreter::Load.
#include <stdlib.h>

#include <cmath>
#include <filesystem>
#include <functional>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "absl/strings/str_cat.h"
#include "core/base/errors.h"
#include "core/interp/interpreter.h"
#include "core/interp/op_table.h"
#include "core/mil/package_writer.h"
#include "core/mil/program.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "ts2coreml/mil_opset.h"

namespace ts2coreml::interp {
namespace {

namespace fs = std::filesystem;
using mil::DType;
using mil::VarId;
using ::testing::HasSubstr;

/// A tiny program under construction, written and run as a package.
class Prog {
 public:
  Prog() : f_("CoreML7") {}

  VarId Input(const std::string& name, DType dtype, std::vector<int64_t> shape) {
    inputs_.push_back({name, dtype, shape});
    return f_.AddInput(name, {dtype, shape});
  }
  VarId F32(std::vector<int64_t> shape, std::vector<float> v) {
    return f_.AddConst("c", mil::ConstValue::Float32(std::move(shape), v.data()));
  }
  VarId F16(std::vector<int64_t> shape, std::vector<float> v) {
    return f_.AddConst("h", mil::ConstValue::Float16(std::move(shape), v.data()));
  }
  VarId I32(std::vector<int64_t> shape, std::vector<int32_t> v) {
    return f_.AddConst("i", mil::ConstValue::Int32(std::move(shape), v.data()));
  }
  VarId Ints(std::vector<int32_t> v) { return I32({static_cast<int64_t>(v.size())}, v); }
  VarId Int(int32_t v) { return I32({}, {v}); }
  VarId Float(float v) { return F32({}, {v}); }
  VarId Bool(bool v) {
    bool b = v;
    return f_.AddConst("b", mil::ConstValue::Bool({}, &b));
  }
  VarId Bools(std::vector<bool> v) {
    std::unique_ptr<bool[]> b(new bool[v.size()]);
    for (size_t i = 0; i < v.size(); ++i) b[i] = v[i];
    return f_.AddConst("b", mil::ConstValue::Bool({static_cast<int64_t>(v.size())}, b.get()));
  }
  VarId Str(const std::string& s) { return f_.AddConst("s", mil::ConstValue::String(s)); }

  /// Adds an op; returns its outputs.
  std::vector<VarId> OpN(const std::string& type, std::vector<mil::OpInput> in,
                         std::vector<mil::TensorType> out) {
    auto vars = f_.AddOp(type, type, std::move(in), std::move(out));
    EXPECT_TRUE(vars.ok()) << vars.status();
    return vars.ok() ? *vars : std::vector<VarId>{};
  }
  VarId Op(const std::string& type, std::vector<mil::OpInput> in, mil::TensorType out) {
    std::vector<VarId> v = OpN(type, std::move(in), {std::move(out)});
    return v.empty() ? 0 : v[0];
  }

  /// Writes the package with `outputs` as block outputs and runs it.
  absl::StatusOr<RunResult> Run(const std::vector<VarId>& outputs,
                                const std::map<std::string, at::Tensor>& inputs = {}) {
    mil::ModelSpec spec;
    spec.specification_version = 8;
    for (const auto& in : inputs_) spec.inputs.push_back(in);
    for (VarId v : outputs) {
      if (absl::Status s = f_.AddOutput(v); !s.ok()) return s;
      spec.outputs.push_back({f_.var(v).name, f_.var(v).type.dtype, f_.var(v).type.shape});
    }
    char tmpl[] = "/tmp/interp_ops_test_XXXXXX";
    if (mkdtemp(tmpl) == nullptr) return absl::InternalError("mkdtemp");
    const fs::path dir = fs::path(tmpl) / "t.mlpackage";
    absl::StatusOr<mil::WriteStats> w = mil::WritePackageDir(spec, f_, dir);
    if (!w.ok()) return w.status();
    absl::StatusOr<Interpreter> interp = Interpreter::Load(dir);
    absl::StatusOr<RunResult> r =
        interp.ok() ? interp->Run(inputs) : absl::StatusOr<RunResult>(interp.status());
    fs::remove_all(tmpl);
    return r;
  }

  /// Runs a single-output program; `out` is its output.
  at::Tensor Eval(VarId out, const std::map<std::string, at::Tensor>& inputs = {}) {
    absl::StatusOr<RunResult> r = Run({out}, inputs);
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? r->outputs.begin()->second : at::Tensor();
  }
  std::string Name(VarId v) const { return f_.var(v).name; }
  /// The function, for nested blocks (BeginBlock, AddBlockInput, EndBlock).
  mil::Function& f() { return f_; }
  /// Adds an op with nested blocks; returns its outputs.
  std::vector<VarId> Flow(const std::string& type, std::vector<mil::OpInput> in,
                          std::vector<mil::TensorType> out, std::vector<int> blocks) {
    auto vars = f_.AddOp(type, type, std::move(in), std::move(out), std::move(blocks));
    EXPECT_TRUE(vars.ok()) << vars.status();
    return vars.ok() ? *vars : std::vector<VarId>{};
  }

 private:
  mil::Function f_;
  std::vector<mil::FeatureSpec> inputs_;
};

mil::TensorType F32T(std::vector<int64_t> s) { return {DType::kFloat32, std::move(s)}; }
mil::TensorType F16T(std::vector<int64_t> s) { return {DType::kFloat16, std::move(s)}; }
mil::TensorType I32T(std::vector<int64_t> s) { return {DType::kInt32, std::move(s)}; }
mil::TensorType BoolT(std::vector<int64_t> s) { return {DType::kBool, std::move(s)}; }

std::vector<float> Values(const at::Tensor& t) {
  if (!t.defined()) return {};
  at::Tensor f = t.to(at::kFloat).contiguous().flatten();
  return std::vector<float>(f.data_ptr<float>(), f.data_ptr<float>() + f.numel());
}

std::vector<int64_t> Shape(const at::Tensor& t) {
  return t.defined() ? t.sizes().vec() : std::vector<int64_t>{-1};
}

MATCHER_P(Near, want, "") {
  const std::vector<float>& got = arg;
  if (got.size() != want.size()) return false;
  for (size_t i = 0; i < got.size(); ++i) {
    const float w = static_cast<float>(want[i]);
    if (std::isinf(w) ? got[i] != w : !(std::fabs(got[i] - w) <= 1e-5f * (1 + std::fabs(w)))) {
      *result_listener << "element " << i << " is " << got[i] << ", want " << w;
      return false;
    }
  }
  return true;
}

std::vector<float> Iota(int n, float start = 1) {
  std::vector<float> v;
  for (int i = 0; i < n; ++i) v.push_back(start + static_cast<float>(i));
  return v;
}

// ---- conv --------------------------------------------------------------------------------------

TEST(ConvTest, CustomPadIsBeginEndPerSpatialDimensionHeightFirst) {
  // pad = [top 1, bottom 0, left 0, right 2]; a 1x1 identity kernel shows where the zeros go.
  Prog p;
  VarId x = p.F32({1, 1, 3, 3}, Iota(9));
  VarId y = p.Op("conv",
                 {{"x", {x}},
                  {"weight", {p.F32({1, 1, 1, 1}, {1})}},
                  {"pad_type", {p.Str("custom")}},
                  {"pad", {p.Ints({1, 0, 0, 2})}}},
                 F32T({1, 1, 4, 5}));
  EXPECT_THAT(Values(p.Eval(y)), Near(std::vector<double>{0, 0, 0, 0, 0, 1, 2, 3, 0, 0,
                                                          4, 5, 6, 0, 0, 7, 8, 9, 0, 0}));
}

TEST(ConvTest, ValidStridesAndDilations) {
  // x = 1..9 (3x3), 2x2 kernel of ones: window sums 1+2+4+5=12, 2+3+5+6=16, 24, 28.
  {
    Prog p;
    VarId y = p.Op("conv",
                   {{"x", {p.F32({1, 1, 3, 3}, Iota(9))}},
                    {"weight", {p.F32({1, 1, 2, 2}, {1, 1, 1, 1})}},
                    {"pad_type", {p.Str("valid")}}},
                   F32T({1, 1, 2, 2}));
    EXPECT_THAT(Values(p.Eval(y)), Near(std::vector<double>{12, 16, 24, 28}));
  }
  {  // dilation 2: corners 1 + 3 + 7 + 9 = 20
    Prog p;
    VarId y = p.Op("conv",
                   {{"x", {p.F32({1, 1, 3, 3}, Iota(9))}},
                    {"weight", {p.F32({1, 1, 2, 2}, {1, 1, 1, 1})}},
                    {"pad_type", {p.Str("valid")}},
                    {"dilations", {p.Ints({2, 2})}}},
                   F32T({1, 1, 1, 1}));
    EXPECT_THAT(Values(p.Eval(y)), Near(std::vector<double>{20}));
  }
  {  // stride 2 on a 1x5 row with kernel [1, 1]: 1+2, 3+4
    Prog p;
    VarId y = p.Op("conv",
                   {{"x", {p.F32({1, 1, 1, 5}, Iota(5))}},
                    {"weight", {p.F32({1, 1, 1, 2}, {1, 1})}},
                    {"pad_type", {p.Str("valid")}},
                    {"strides", {p.Ints({1, 2})}}},
                   F32T({1, 1, 1, 2}));
    EXPECT_THAT(Values(p.Eval(y)), Near(std::vector<double>{3, 7}));
  }
}

TEST(ConvTest, SamePutsTheOddPadAtTheEndAndSameLowerAtTheBeginning) {
  // x = 1..16 (4x4), 2x2 ones: total padding 1 per dimension.
  for (const char* type : {"same", "same_lower"}) {
    Prog p;
    VarId y = p.Op("conv",
                   {{"x", {p.F32({1, 1, 4, 4}, Iota(16))}},
                    {"weight", {p.F32({1, 1, 2, 2}, {1, 1, 1, 1})}},
                    {"pad_type", {p.Str(type)}}},
                   F32T({1, 1, 4, 4}));
    const std::vector<float> v = Values(p.Eval(y));
    ASSERT_EQ(v.size(), 16u);
    if (std::string(type) == "same") {  // pad bottom/right: out[i][j] = x[i..i+1][j..j+1]
      EXPECT_EQ(v[0], 1 + 2 + 5 + 6);
      EXPECT_EQ(v[3], 4 + 8);
      EXPECT_EQ(v[12], 13 + 14);
      EXPECT_EQ(v[15], 16);
    } else {  // pad top/left: out[i][j] = x[i-1..i][j-1..j]
      EXPECT_EQ(v[0], 1);
      EXPECT_EQ(v[3], 3 + 4);
      EXPECT_EQ(v[15], 11 + 12 + 15 + 16);
    }
  }
}

TEST(ConvTest, GroupsAndBias) {
  // Two groups of one channel: [1, 2] * [3, 4] + [10, 20].
  Prog p;
  VarId y = p.Op("conv",
                 {{"x", {p.F32({1, 2, 1, 1}, {1, 2})}},
                  {"weight", {p.F32({2, 1, 1, 1}, {3, 4})}},
                  {"bias", {p.F32({2}, {10, 20})}},
                  {"groups", {p.Int(2)}},
                  {"pad_type", {p.Str("valid")}}},
                 F32T({1, 2, 1, 1}));
  EXPECT_THAT(Values(p.Eval(y)), Near(std::vector<double>{13, 28}));
}

TEST(ConvTransposeTest, PadCropsAndOutputShapeExtends) {
  // x = [1, 2], kernel [1, 1, 1], stride 2: full result [1, 1, 1+2, 2, 2] (length (2-1)*2+3).
  auto run = [](const char* pad_type, std::vector<int32_t> pad, std::vector<int32_t> out_shape,
                int64_t len) {
    Prog p;
    std::vector<mil::OpInput> in = {{"x", {p.F32({1, 1, 2}, {1, 2})}},
                                    {"weight", {p.F32({1, 1, 3}, {1, 1, 1})}},
                                    {"strides", {p.Ints({2})}},
                                    {"pad_type", {p.Str(pad_type)}},
                                    {"pad", {p.Ints(pad)}}};
    if (!out_shape.empty()) in.push_back({"output_shape", {p.Ints(out_shape)}});
    return Values(p.Eval(p.Op("conv_transpose", in, F32T({1, 1, len}))));
  };
  EXPECT_THAT(run("valid", {0, 0}, {}, 5), Near(std::vector<double>{1, 1, 3, 2, 2}));
  EXPECT_THAT(run("custom", {1, 1}, {}, 3), Near(std::vector<double>{1, 3, 2}));
  // PyTorch's padding=1, output_padding=1 is custom pad [1, 0]: (2-1)*2 - 2 + 3 + 1 = 4.
  EXPECT_THAT(run("custom", {1, 0}, {}, 4), Near(std::vector<double>{1, 3, 2, 2}));
  // output_shape longer than the full result: zeros (no input reaches there).
  EXPECT_THAT(run("valid", {0, 0}, {1, 1, 6}, 6), Near(std::vector<double>{1, 1, 3, 2, 2, 0}));
}

// ---- pooling -----------------------------------------------------------------------------------

// Broken packages: a stride of 0 would divide by zero, huge paddings and strides would allocate
// without bound. Each is an op error naming the parameter, never a crash.
TEST(ConvTest, RefusesParametersOutOfRange) {
  using Extra = std::function<std::vector<mil::OpInput>(Prog&)>;
  const std::vector<std::tuple<std::string, Extra, std::string>> cases = {
      {"conv",
       [](Prog& p) -> std::vector<mil::OpInput> {
         return {{"strides", {p.Ints({0, 1})}}};
       },
       "strides [0, 1] must be between 1 and 1048576"},
      {"conv",
       [](Prog& p) -> std::vector<mil::OpInput> {
         return {{"strides", {p.Ints({1, 1 << 30})}}};
       },
       "strides [1, 1073741824]"},
      {"conv",
       [](Prog& p) -> std::vector<mil::OpInput> {
         return {{"dilations", {p.Ints({-1, 1})}}};
       },
       "dilations [-1, 1]"},
      {"conv",
       [](Prog& p) -> std::vector<mil::OpInput> {
         return {{"groups", {p.I32({}, {0})}}};
       },
       "groups 0"},
      {"conv",
       [](Prog& p) -> std::vector<mil::OpInput> {
         return {{"pad_type", {p.Str("custom")}}, {"pad", {p.Ints({0, -1, 0, 0})}}};
       },
       "pad [0, -1, 0, 0]"},
      {"conv",
       [](Prog& p) -> std::vector<mil::OpInput> {
         return {{"pad_type", {p.Str("custom")}},
                 {"pad", {p.Ints({1 << 20, 1 << 20, 1 << 20, 0})}}};
       },
       "more than 16777216 elements"},
      {"conv_transpose",
       [](Prog& p) -> std::vector<mil::OpInput> {
         return {{"strides", {p.Ints({0, 0})}}};
       },
       "strides [0, 0]"},
      {"conv_transpose",
       [](Prog& p) -> std::vector<mil::OpInput> {
         return {{"strides", {p.Ints({1 << 20, 1 << 20})}}};
       },
       "more than 16777216 elements"},
      {"conv_transpose",
       [](Prog& p) -> std::vector<mil::OpInput> {
         return {{"output_shape", {p.Ints({1, 1, 1 << 20, 1 << 20})}}};
       },
       "more than 16777216 elements"},
  };
  for (const auto& [type, extra, why] : cases) {
    SCOPED_TRACE(why);
    Prog p;
    std::vector<mil::OpInput> in = {{"x", {p.F32({1, 1, 3, 3}, Iota(9))}},
                                    {"weight", {p.F32({1, 1, 1, 1}, {1})}}};
    for (mil::OpInput& e : extra(p)) in.push_back(std::move(e));
    VarId y = p.Op(type, std::move(in), F32T({1, 1, 3, 3}));
    absl::StatusOr<RunResult> r = p.Run({y});
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(core::ClassOf(r.status()), core::ErrorClass::kPackage) << r.status();
    EXPECT_THAT(std::string(r.status().message()), HasSubstr(why));
  }
}

TEST(PoolTest, RefusesParametersOutOfRange) {
  const std::vector<
      std::tuple<std::vector<int32_t>, std::vector<int32_t>, std::vector<int32_t>, std::string>>
      cases = {
          {{1, 1}, {0, 0}, {0, 0, 0, 0}, "strides [0, 0] must be between 1 and 1048576"},
          {{0, 1}, {1, 1}, {0, 0, 0, 0}, "kernel_sizes [0, 1]"},
          {{-2, 1}, {1, 1}, {0, 0, 0, 0}, "kernel_sizes [-2, 1]"},
          {{1, 1}, {1, 1}, {-1, 0, 0, 0}, "pad [-1, 0, 0, 0]"},
          {{1, 1}, {1, 1}, {1 << 20, 1 << 20, 1 << 20, 1 << 20}, "more than 16777216 elements"},
      };
  for (const char* type : {"max_pool", "avg_pool", "l2_pool"}) {
    for (const auto& [kernel, strides, pad, why] : cases) {
      SCOPED_TRACE(absl::StrCat(type, ": ", why));
      Prog p;
      VarId y = p.Op(type,
                     {{"x", {p.F32({1, 1, 3, 3}, Iota(9))}},
                      {"kernel_sizes", {p.Ints(kernel)}},
                      {"strides", {p.Ints(strides)}},
                      {"pad_type", {p.Str("custom")}},
                      {"pad", {p.Ints(pad)}}},
                     F32T({1, 1, 3, 3}));
      absl::StatusOr<RunResult> r = p.Run({y});
      ASSERT_FALSE(r.ok());
      EXPECT_EQ(core::ClassOf(r.status()), core::ErrorClass::kPackage) << r.status();
      EXPECT_THAT(std::string(r.status().message()), HasSubstr(why));
    }
  }
}

TEST(PoolTest, MaxPoolCeilModeAddsAWindowButNotOneStartingInThePadding) {
  auto run = [](bool ceil, std::vector<int32_t> pad, int64_t len) {
    Prog p;
    VarId y = p.Op("max_pool",
                   {{"x", {p.F32({1, 1, 1, 5}, Iota(5))}},
                    {"kernel_sizes", {p.Ints({1, 2})}},
                    {"strides", {p.Ints({1, 2})}},
                    {"pad_type", {p.Str("custom")}},
                    {"pad", {p.Ints(pad)}},
                    {"ceil_mode", {p.Bool(ceil)}}},
                   F32T({1, 1, 1, len}));
    return Values(p.Eval(y));
  };
  // floor((5 - 2) / 2) + 1 = 2 windows.
  EXPECT_THAT(run(false, {0, 0, 0, 0}, 2), Near(std::vector<double>{2, 4}));
  // ceil((5 - 2) / 2) + 1 = 3: the last window holds only x[4].
  EXPECT_THAT(run(true, {0, 0, 0, 0}, 3), Near(std::vector<double>{2, 4, 5}));
  // pad 1 each side: ceil((7 - 2) / 2) + 1 = 4, but (4 - 1) * 2 = 6 >= 5 + 1 starts in the
  // end padding, so 3 windows: max(pad, 1), max(2, 3), max(4, 5).
  EXPECT_THAT(run(true, {0, 0, 1, 1}, 3), Near(std::vector<double>{1, 3, 5}));
}

TEST(PoolTest, AvgPoolPaddingCountsUnlessExcluded) {
  auto run = [](bool exclude, bool ceil, const char* pad_type, std::vector<int32_t> pad,
                std::vector<int32_t> k, std::vector<int32_t> s, int64_t len) {
    Prog p;
    VarId y = p.Op("avg_pool",
                   {{"x", {p.F32({1, 1, 1, 5}, Iota(5))}},
                    {"kernel_sizes", {p.Ints(k)}},
                    {"strides", {p.Ints(s)}},
                    {"pad_type", {p.Str(pad_type)}},
                    {"pad", {p.Ints(pad)}},
                    {"exclude_padding_from_average", {p.Bool(exclude)}},
                    {"ceil_mode", {p.Bool(ceil)}}},
                   F32T({1, 1, 1, len}));
    return Values(p.Eval(y));
  };
  // k 2, s 2, pad 1/1: windows [pad, 1], [2, 3], [4, 5].
  EXPECT_THAT(run(false, false, "custom", {0, 0, 1, 1}, {1, 2}, {1, 2}, 3),
              Near(std::vector<double>{0.5, 2.5, 4.5}));
  EXPECT_THAT(run(true, false, "custom", {0, 0, 1, 1}, {1, 2}, {1, 2}, 3),
              Near(std::vector<double>{1, 2.5, 4.5}));
  // ceil_mode without padding: the last window [5] is averaged over its one element.
  EXPECT_THAT(run(false, true, "custom", {0, 0, 0, 0}, {1, 2}, {1, 2}, 3),
              Near(std::vector<double>{1.5, 3.5, 5}));
  // same, k 3: one zero of padding at each end of the width.
  EXPECT_THAT(run(false, false, "same", {0, 0, 0, 0}, {1, 3}, {1, 1}, 5),
              Near(std::vector<double>{1, 2, 3, 4, 3}));
  EXPECT_THAT(run(true, false, "same", {0, 0, 0, 0}, {1, 3}, {1, 1}, 5),
              Near(std::vector<double>{1.5, 2, 3, 4, 4.5}));
}

// ---- resizing ----------------------------------------------------------------------------------

TEST(ResizeTest, UpsampleBilinearGridPoints) {
  // x = [0, 1]; Xout = 5. The values equal Apple's documented grid points.
  auto run = [](bool align, std::optional<bool> half) {
    Prog p;
    std::vector<mil::OpInput> in = {{"x", {p.F32({1, 1, 1, 2}, {0, 1})}},
                                    {"scale_factor_height", {p.Float(1)}},
                                    {"scale_factor_width", {p.Float(2.5)}},
                                    {"align_corners", {p.Bool(align)}}};
    if (half) in.push_back({"half_pixel_centers", {p.Bool(*half)}});
    return Values(p.Eval(p.Op("upsample_bilinear", in, F32T({1, 1, 1, 5}))));
  };
  EXPECT_THAT(run(true, std::nullopt), Near(std::vector<double>{0, 0.25, 0.5, 0.75, 1}));
  // align_corners=False: half_pixel_centers defaults to true (iOS16): [0, 0.1, 0.5, 0.9, 1].
  EXPECT_THAT(run(false, std::nullopt), Near(std::vector<double>{0, 0.1, 0.5, 0.9, 1}));
  // Neither: i * Xin / Xout = 0, 0.4, 0.8, 1.2 -> 1, 1.6 -> 1.
  EXPECT_THAT(run(false, false), Near(std::vector<double>{0, 0.4, 0.8, 1, 1}));
}

TEST(ResizeTest, ResizeBilinearSamplingModes) {
  auto run = [](const char* mode, int32_t w) {
    Prog p;
    VarId y = p.Op("resize_bilinear",
                   {{"x", {p.F32({1, 1, 1, 2}, {0, 1})}},
                    {"target_size_height", {p.Int(1)}},
                    {"target_size_width", {p.Int(w)}},
                    {"sampling_mode", {p.Str(mode)}}},
                   F32T({1, 1, 1, w}));
    return Values(p.Eval(y));
  };
  EXPECT_THAT(run("STRICT_ALIGN_CORNERS", 5), Near(std::vector<double>{0, 0.25, 0.5, 0.75, 1}));
  EXPECT_THAT(run("UNALIGN_CORNERS", 5), Near(std::vector<double>{0, 0.1, 0.5, 0.9, 1}));
  EXPECT_THAT(run("DEFAULT", 5), Near(std::vector<double>{0, 0.4, 0.8, 1, 1}));
  EXPECT_THAT(run("OFFSET_CORNERS", 5), Near(std::vector<double>{0.1, 0.3, 0.5, 0.7, 0.9}));
  EXPECT_THAT(run("DEFAULT", 6), Near(std::vector<double>{0, 1.0 / 3, 2.0 / 3, 1, 1, 1}));
  // Xout = 1: ALIGN_CORNERS samples the middle, STRICT_ALIGN_CORNERS the first.
  EXPECT_THAT(run("ALIGN_CORNERS", 1), Near(std::vector<double>{0.5}));
  EXPECT_THAT(run("STRICT_ALIGN_CORNERS", 1), Near(std::vector<double>{0}));
}

TEST(ResizeTest, NearestNeighbor) {
  {
    Prog p;
    VarId y = p.Op("upsample_nearest_neighbor",
                   {{"x", {p.F32({1, 1, 1, 2}, {1, 2})}},
                    {"scale_factor_height", {p.Float(2)}},
                    {"scale_factor_width", {p.Float(2)}}},
                   F32T({1, 1, 2, 4}));
    EXPECT_THAT(Values(p.Eval(y)), Near(std::vector<double>{1, 1, 2, 2, 1, 1, 2, 2}));
  }
  {
    Prog p;
    VarId y = p.Op("resize_nearest_neighbor",
                   {{"x", {p.F32({1, 1, 1, 2}, {1, 2})}},
                    {"target_size_height", {p.Int(1)}},
                    {"target_size_width", {p.Int(3)}}},
                   F32T({1, 1, 1, 3}));
    EXPECT_THAT(Values(p.Eval(y)), Near(std::vector<double>{1, 1, 2}));
  }
}

// ---- activations -------------------------------------------------------------------------------

TEST(ActivationTest, GeluModes) {
  // 0.5x(1 + erf(x/sqrt 2)); 0.5x(1 + tanh(sqrt(2/pi)(x + 0.044715x^3))); x sigmoid(1.702x),
  // evaluated with Python's math module at x = -1, 0, 1, 2.
  const std::map<std::string, std::vector<double>> want = {
      {"EXACT", {-0.15865525393145707, 0.0, 0.8413447460685429, 1.9544997361036416}},
      {"TANH_APPROXIMATION", {-0.15880800939172324, 0.0, 0.8411919906082768, 1.954597694087775}},
      {"SIGMOID_APPROXIMATION", {-0.1542042340671787, 0.0, 0.8457957659328212, 1.9356586231442083}},
  };
  for (const auto& [mode, values] : want) {
    Prog p;
    VarId y =
        p.Op("gelu", {{"x", {p.F32({4}, {-1, 0, 1, 2})}}, {"mode", {p.Str(mode)}}}, F32T({4}));
    EXPECT_THAT(Values(p.Eval(y)), Near(values)) << mode;
  }
}

TEST(ActivationTest, PiecewiseActivations) {
  auto unary = [](const char* op, std::vector<float> x, std::vector<mil::OpInput> (*extra)(Prog&)) {
    Prog p;
    std::vector<mil::OpInput> in = {{"x", {p.F32({static_cast<int64_t>(x.size())}, x)}}};
    if (extra) {
      for (auto& e : extra(p)) in.push_back(e);
    }
    return Values(p.Eval(p.Op(op, in, F32T({static_cast<int64_t>(x.size())}))));
  };
  EXPECT_THAT(unary("relu6", {-1, 3, 7}, nullptr), Near(std::vector<double>{0, 3, 6}));
  // min(max(0.2x + 0.5, 0), 1)
  EXPECT_THAT(
      unary(
          "sigmoid_hard", {-3, 0, 1, 3},
          [](Prog& p) {
            return std::vector<mil::OpInput>{{"alpha", {p.Float(0.2f)}}, {"beta", {p.Float(0.5f)}}};
          }),
      Near(std::vector<double>{0, 0.5, 0.7, 1}));
  EXPECT_THAT(unary("leaky_relu", {-2, 2},
                    [](Prog& p) {
                      return std::vector<mil::OpInput>{{"alpha", {p.Float(0.1f)}}};
                    }),
              Near(std::vector<double>{-0.2, 2}));
  EXPECT_THAT(unary("elu", {-1, 2},
                    [](Prog& p) {
                      return std::vector<mil::OpInput>{{"alpha", {p.Float(1)}}};
                    }),
              Near(std::vector<double>{-0.6321205588285577, 2}));
  EXPECT_THAT(
      unary("clip", {-1, 0.5, 3},
            [](Prog& p) {
              return std::vector<mil::OpInput>{{"alpha", {p.Float(0)}}, {"beta", {p.Float(1)}}};
            }),
      Near(std::vector<double>{0, 0.5, 1}));
  EXPECT_THAT(unary("silu", {0}, nullptr), Near(std::vector<double>{0}));
}

TEST(ActivationTest, SoftmaxAxis) {
  // x = [[0, 0], [ln 3, 0]]: along axis 0 column 0 is [1, 3] / 4; along -1 row 1 is [3, 1] / 4.
  for (int axis : {0, -1}) {
    Prog p;
    VarId y = p.Op("softmax",
                   {{"x", {p.F32({2, 2}, {0, 0, std::log(3.0f), 0})}}, {"axis", {p.Int(axis)}}},
                   F32T({2, 2}));
    const std::vector<double> want = axis == 0 ? std::vector<double>{0.25, 0.5, 0.75, 0.5}
                                               : std::vector<double>{0.5, 0.5, 0.75, 0.25};
    EXPECT_THAT(Values(p.Eval(y)), Near(want)) << axis;
  }
}

// ---- elementwise -------------------------------------------------------------------------------

TEST(ElementwiseTest, FloorDivAndModRoundTowardMinusInfinity) {
  for (bool ints : {false, true}) {
    Prog p;
    VarId x = ints ? p.I32({2}, {-7, 7}) : p.F32({2}, {-7, 7});
    VarId y = ints ? p.I32({2}, {2, 2}) : p.F32({2}, {2, 2});
    VarId m = ints ? p.I32({2}, {3, 3}) : p.F32({2}, {3, 3});
    auto t = ints ? I32T({2}) : F32T({2});
    VarId q = p.Op("floor_div", {{"x", {x}}, {"y", {y}}}, t);
    VarId r = p.Op("mod", {{"x", {x}}, {"y", {m}}}, t);
    absl::StatusOr<RunResult> res = p.Run({q, r});
    ASSERT_TRUE(res.ok()) << res.status();
    EXPECT_THAT(Values(res->outputs.at(p.Name(q))), Near(std::vector<double>{-4, 3}));
    EXPECT_THAT(Values(res->outputs.at(p.Name(r))), Near(std::vector<double>{2, 1}));
  }
}

TEST(ElementwiseTest, BroadcastingComparisonAndSelect) {
  Prog p;
  VarId x = p.F32({2, 1}, {1, 3});
  VarId y = p.F32({1, 2}, {2, 3});
  VarId s = p.Op("add", {{"x", {x}}, {"y", {y}}}, F32T({2, 2}));
  VarId c = p.Op("less", {{"x", {x}}, {"y", {y}}}, BoolT({2, 2}));
  VarId sel = p.Op("select", {{"cond", {c}}, {"a", {s}}, {"b", {p.F32({}, {-1})}}}, F32T({2, 2}));
  EXPECT_THAT(Values(p.Eval(sel)), Near(std::vector<double>{3, 4, -1, -1}));
}

TEST(ElementwiseTest, CastRoundsToNearestEvenFp16AndTruncatesToInt) {
  Prog p;
  // 1 + 2^-10 is exact; 1 + 2^-11 ties to even (1); 1 + 3*2^-11 ties to even (1 + 2^-9);
  // 70000 overflows to infinity; 1e-8 is below half the smallest subnormal (2^-25): 0.
  VarId x = p.F32({5}, {1.0009765625f, 1.00048828125f, 1.00146484375f, 70000.0f, 1e-8f});
  VarId h = p.Op("cast", {{"x", {x}}, {"dtype", {p.Str("fp16")}}}, F16T({5}));
  VarId i = p.Op("cast", {{"x", {p.F32({3}, {-1.7f, 1.7f, 2.0f})}}, {"dtype", {p.Str("int32")}}},
                 I32T({3}));
  absl::StatusOr<RunResult> r = p.Run({h, i});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_THAT(Values(r->outputs.at(p.Name(h))),
              Near(std::vector<double>{1.0009765625, 1.0, 1.001953125,
                                       std::numeric_limits<double>::infinity(), 0.0}));
  EXPECT_THAT(Values(r->outputs.at(p.Name(i))), Near(std::vector<double>{-1, 1, 2}));
}

TEST(ElementwiseTest, Fp16ValuesAreRoundedAfterEveryOp) {
  // fp16 1 + fp16 2^-11 = 1 + 2^-11 in fp32, which an fp16 result rounds (ties to even) to 1;
  // adding 2^-11 again gives 1 again, where fp32 would give 1 + 2^-10.
  Prog p;
  VarId x = p.Input("x", DType::kFloat16, {1});
  VarId e = p.F16({1}, {0.00048828125f});
  VarId a = p.Op("add", {{"x", {x}}, {"y", {e}}}, F16T({1}));
  VarId b = p.Op("add", {{"x", {a}}, {"y", {e}}}, F16T({1}));
  EXPECT_THAT(Values(p.Eval(b, {{"x", at::ones({1})}})), Near(std::vector<double>{1.0}));
}

// ---- reductions, norms, linear algebra ---------------------------------------------------------

TEST(ReduceTest, AxesAndKeepDims) {
  Prog p;
  VarId x = p.F32({2, 3}, Iota(6));
  VarId s = p.Op("reduce_sum",
                 {{"x", {x}}, {"axes", {p.Ints({1})}}, {"keep_dims", {p.Bool(false)}}}, F32T({2}));
  VarId k =
      p.Op("reduce_sum", {{"x", {x}}, {"axes", {p.Ints({-1})}}, {"keep_dims", {p.Bool(true)}}},
           F32T({2, 1}));
  VarId m = p.Op("reduce_mean", {{"x", {x}}, {"axes", {p.Ints({0})}}}, F32T({3}));
  VarId all = p.Op("reduce_max", {{"x", {x}}}, F32T({}));
  VarId lse =
      p.Op("reduce_log_sum_exp",
           {{"x", {p.F32({1, 2}, {0, std::log(3.0f)})}}, {"axes", {p.Ints({1})}}}, F32T({1}));
  absl::StatusOr<RunResult> r = p.Run({s, k, m, all, lse});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_THAT(Values(r->outputs.at(p.Name(s))), Near(std::vector<double>{6, 15}));
  EXPECT_EQ(Shape(r->outputs.at(p.Name(k))), (std::vector<int64_t>{2, 1}));
  EXPECT_THAT(Values(r->outputs.at(p.Name(m))), Near(std::vector<double>{2.5, 3.5, 4.5}));
  EXPECT_THAT(Values(r->outputs.at(p.Name(all))), Near(std::vector<double>{6}));
  EXPECT_THAT(Values(r->outputs.at(p.Name(lse))), Near(std::vector<double>{std::log(4.0)}));
}

TEST(ReduceTest, UnknownInputIsRefusedNotIgnored) {
  // `axis` for reduce_mean's `axes`: ignoring it would reduce every axis.
  Prog p;
  VarId x = p.F32({2, 3}, Iota(6));
  VarId m = p.Op("reduce_mean", {{"x", {x}}, {"axis", {p.Ints({0})}}}, F32T({3}));
  absl::StatusOr<RunResult> r = p.Run({m});
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(std::string(r.status().message()),
              HasSubstr("unknown input 'axis' (inputs: x, axes, keep_dims)"));
}

TEST(NormTest, BatchNormPerChannel) {
  // (x - mean) / sqrt(var + eps) * gamma + beta per channel (axis 1), eps 0:
  // c0: (1 - 0) / 2 * 1 + 0 = 0.5; c1: (2 - 1) / 0.5 * 2 + 10 = 14.
  Prog p;
  VarId y = p.Op("batch_norm",
                 {{"x", {p.F32({1, 2, 1, 1}, {1, 2})}},
                  {"mean", {p.F32({2}, {0, 1})}},
                  {"variance", {p.F32({2}, {4, 0.25f})}},
                  {"gamma", {p.F32({2}, {1, 2})}},
                  {"beta", {p.F32({2}, {0, 10})}},
                  {"epsilon", {p.Float(0)}}},
                 F32T({1, 2, 1, 1}));
  EXPECT_THAT(Values(p.Eval(y)), Near(std::vector<double>{0.5, 14}));
}

TEST(NormTest, LayerNormOverTheGivenAxesWithGammaShapedLikeThem) {
  // x = [[1, 3], [2, 2]], axes [0]: columns [1, 2] -> [-1, 1], [3, 2] -> [1, -1] (biased
  // variance 0.25); gamma [2, 3] and beta [0, 1] lie along axis 0.
  Prog p;
  VarId y = p.Op("layer_norm",
                 {{"x", {p.F32({2, 2}, {1, 3, 2, 2})}},
                  {"axes", {p.Ints({0})}},
                  {"gamma", {p.F32({2}, {2, 3})}},
                  {"beta", {p.F32({2}, {0, 1})}},
                  {"epsilon", {p.Float(0)}}},
                 F32T({2, 2}));
  EXPECT_THAT(Values(p.Eval(y)), Near(std::vector<double>{-2, 2, 4, -2}));
  Prog q;
  VarId z =
      q.Op("layer_norm",
           {{"x", {q.F32({1, 2}, {1, 3})}}, {"axes", {q.Ints({-1})}}, {"epsilon", {q.Float(0)}}},
           F32T({1, 2}));
  EXPECT_THAT(Values(q.Eval(z)), Near(std::vector<double>{-1, 1}));
}

TEST(NormTest, InstanceNormOverSpatialDimensions) {
  Prog p;
  VarId y = p.Op("instance_norm", {{"x", {p.F32({1, 1, 2, 1}, {1, 3})}}, {"epsilon", {p.Float(0)}}},
                 F32T({1, 1, 2, 1}));
  EXPECT_THAT(Values(p.Eval(y)), Near(std::vector<double>{-1, 1}));
}

TEST(LinalgTest, LinearWeightIsOutByIn) {
  Prog p;
  VarId y = p.Op("linear",
                 {{"x", {p.F32({1, 2}, {1, 2})}},
                  {"weight", {p.F32({3, 2}, {1, 0, 0, 1, 1, 1})}},
                  {"bias", {p.F32({3}, {0, 0, 1})}}},
                 F32T({1, 3}));
  EXPECT_THAT(Values(p.Eval(y)), Near(std::vector<double>{1, 2, 4}));
}

TEST(LinalgTest, MatmulTransposeFlags) {
  // x = y = [[1, 2, 3], [4, 5, 6]].
  Prog p;
  VarId x = p.F32({2, 3}, Iota(6));
  VarId ty = p.Op(
      "matmul",
      {{"x", {x}}, {"y", {x}}, {"transpose_x", {p.Bool(false)}}, {"transpose_y", {p.Bool(true)}}},
      F32T({2, 2}));
  VarId tx = p.Op(
      "matmul",
      {{"x", {x}}, {"y", {x}}, {"transpose_x", {p.Bool(true)}}, {"transpose_y", {p.Bool(false)}}},
      F32T({3, 3}));
  absl::StatusOr<RunResult> r = p.Run({ty, tx});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_THAT(Values(r->outputs.at(p.Name(ty))), Near(std::vector<double>{14, 32, 32, 77}));
  EXPECT_THAT(Values(r->outputs.at(p.Name(tx))),
              Near(std::vector<double>{17, 22, 27, 22, 29, 36, 27, 36, 45}));
}

TEST(LinalgTest, Einsum) {
  Prog p;
  VarId y = p.Op("einsum",
                 {{"values", {p.F32({1, 2}, {1, 2}), p.F32({2, 1}, {3, 4})}},
                  {"equation", {p.Str("ij,jk->ik")}}},
                 F32T({1, 1}));
  EXPECT_THAT(Values(p.Eval(y)), Near(std::vector<double>{11}));
}

// ---- tensor manipulation -----------------------------------------------------------------------

TEST(TensorTest, SliceByIndexMasksNegativeStridesAndSqueeze) {
  // x = 0..11 as 3x4.
  auto run = [](std::vector<int32_t> b, std::vector<int32_t> e, std::vector<int32_t> s,
                std::vector<bool> bm, std::vector<bool> em, std::vector<bool> sm,
                std::vector<int64_t> shape) {
    Prog p;
    VarId y = p.Op("slice_by_index",
                   {{"x", {p.F32({3, 4}, Iota(12, 0))}},
                    {"begin", {p.Ints(b)}},
                    {"end", {p.Ints(e)}},
                    {"stride", {p.Ints(s)}},
                    {"begin_mask", {p.Bools(bm)}},
                    {"end_mask", {p.Bools(em)}},
                    {"squeeze_mask", {p.Bools(sm)}}},
                   F32T(shape));
    return p.Eval(y);
  };
  // rows 1: (end masked), columns from the last (begin masked, stride -1) down to 1 (end 0).
  at::Tensor a = run({1, 0}, {0, 0}, {1, -1}, {false, true}, {true, false}, {false, false}, {2, 3});
  EXPECT_THAT(Values(a), Near(std::vector<double>{7, 6, 5, 11, 10, 9}));
  // squeeze row 2; columns 1 and 3.
  at::Tensor b = run({2, 1}, {3, 4}, {1, 2}, {false, false}, {false, false}, {true, false}, {2});
  EXPECT_THAT(Values(b), Near(std::vector<double>{9, 11}));
  EXPECT_EQ(Shape(b), (std::vector<int64_t>{2}));
  // negative begin/end count from the end: row -2 up to -1 is row 1.
  at::Tensor c =
      run({-2, 0}, {-1, 4}, {1, 1}, {false, false}, {false, false}, {false, false}, {1, 4});
  EXPECT_THAT(Values(c), Near(std::vector<double>{4, 5, 6, 7}));
}

TEST(TensorTest, SliceBySizeMinusOneMeansToTheEnd) {
  Prog p;
  VarId y = p.Op("slice_by_size",
                 {{"x", {p.F32({3, 4}, Iota(12, 0))}},
                  {"begin", {p.Ints({1, 2})}},
                  {"size", {p.Ints({-1, 1})}}},
                 F32T({2, 1}));
  EXPECT_THAT(Values(p.Eval(y)), Near(std::vector<double>{6, 10}));
}

TEST(TensorTest, ConcatInterleaveAndSplit) {
  Prog p;
  VarId c = p.Op("concat",
                 {{"values", {p.F32({2}, {1, 2}), p.F32({1}, {3})}},
                  {"axis", {p.Int(0)}},
                  {"interleave", {p.Bool(false)}}},
                 F32T({3}));
  VarId il = p.Op("concat",
                  {{"values", {p.F32({1, 2}, {1, 2}), p.F32({1, 2}, {3, 4})}},
                   {"axis", {p.Int(1)}},
                   {"interleave", {p.Bool(true)}}},
                  F32T({1, 4}));
  std::vector<VarId> parts = p.OpN(
      "split",
      {{"x", {p.F32({6}, Iota(6))}}, {"split_sizes", {p.Ints({1, 2, 3})}}, {"axis", {p.Int(0)}}},
      {F32T({1}), F32T({2}), F32T({3})});
  std::vector<VarId> halves = p.OpN(
      "split", {{"x", {p.F32({6}, Iota(6))}}, {"num_splits", {p.Int(2)}}, {"axis", {p.Int(-1)}}},
      {F32T({3}), F32T({3})});
  absl::StatusOr<RunResult> r = p.Run({c, il, parts[2], halves[1]});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_THAT(Values(r->outputs.at(p.Name(c))), Near(std::vector<double>{1, 2, 3}));
  EXPECT_THAT(Values(r->outputs.at(p.Name(il))), Near(std::vector<double>{1, 3, 2, 4}));
  EXPECT_THAT(Values(r->outputs.at(p.Name(parts[2]))), Near(std::vector<double>{4, 5, 6}));
  EXPECT_THAT(Values(r->outputs.at(p.Name(halves[1]))), Near(std::vector<double>{4, 5, 6}));
}

TEST(TensorTest, PadModesAndOrder) {
  auto run = [](const char* mode) {
    Prog p;
    VarId y = p.Op("pad",
                   {{"x", {p.F32({3}, {1, 2, 3})}},
                    {"pad", {p.Ints({2, 1})}},
                    {"mode", {p.Str(mode)}},
                    {"constant_val", {p.Float(9)}}},
                   F32T({6}));
    return Values(p.Eval(y));
  };
  EXPECT_THAT(run("constant"), Near(std::vector<double>{9, 9, 1, 2, 3, 9}));
  EXPECT_THAT(run("reflect"), Near(std::vector<double>{3, 2, 1, 2, 3, 2}));
  EXPECT_THAT(run("replicate"), Near(std::vector<double>{1, 1, 1, 2, 3, 3}));
  // pad = [begin, end] per dimension, first dimension first: one row on top, one column right.
  Prog p;
  VarId y = p.Op("pad",
                 {{"x", {p.F32({2, 2}, {1, 2, 3, 4})}},
                  {"pad", {p.Ints({1, 0, 0, 1})}},
                  {"mode", {p.Str("constant")}},
                  {"constant_val", {p.Float(0)}}},
                 F32T({3, 3}));
  EXPECT_THAT(Values(p.Eval(y)), Near(std::vector<double>{0, 0, 0, 1, 2, 0, 3, 4, 0}));
}

TEST(TensorTest, ShapeOps) {
  Prog p;
  VarId x = p.F32({2, 3}, Iota(6));
  VarId e = p.Op("expand_dims", {{"x", {x}}, {"axes", {p.Ints({0, -1})}}}, F32T({1, 2, 3, 1}));
  VarId s = p.Op("squeeze", {{"x", {e}}, {"axes", {p.Ints({0})}}}, F32T({2, 3, 1}));
  VarId r = p.Op("reshape", {{"x", {s}}, {"shape", {p.Ints({0, -1})}}}, F32T({2, 3}));
  VarId t = p.Op("transpose", {{"x", {r}}, {"perm", {p.Ints({1, 0})}}}, F32T({3, 2}));
  VarId tile =
      p.Op("tile", {{"x", {p.F32({1, 2}, {1, 2})}}, {"reps", {p.Ints({2, 1})}}}, F32T({2, 2}));
  VarId sh = p.Op("shape", {{"x", {e}}}, I32T({4}));
  absl::StatusOr<RunResult> res = p.Run({t, tile, sh});
  ASSERT_TRUE(res.ok()) << res.status();
  EXPECT_THAT(Values(res->outputs.at(p.Name(t))), Near(std::vector<double>{1, 4, 2, 5, 3, 6}));
  EXPECT_THAT(Values(res->outputs.at(p.Name(tile))), Near(std::vector<double>{1, 2, 1, 2}));
  EXPECT_THAT(Values(res->outputs.at(p.Name(sh))), Near(std::vector<double>{1, 2, 3, 1}));
}

TEST(TensorTest, GatherTopkCumsumBandPartRange) {
  Prog p;
  VarId g = p.Op("gather",
                 {{"x", {p.F32({3}, {10, 20, 30})}},
                  {"indices", {p.I32({2, 2}, {2, 0, -1, 1})}},
                  {"axis", {p.Int(0)}}},
                 F32T({2, 2}));
  std::vector<VarId> tk = p.OpN("topk",
                                {{"x", {p.F32({3}, {3, 1, 2})}},
                                 {"k", {p.Int(2)}},
                                 {"axis", {p.Int(-1)}},
                                 {"ascending", {p.Bool(false)}}},
                                {F32T({2}), I32T({2})});
  VarId cs = p.Op("cumsum",
                  {{"x", {p.F32({3}, {1, 2, 3})}},
                   {"axis", {p.Int(0)}},
                   {"exclusive", {p.Bool(true)}},
                   {"reverse", {p.Bool(true)}}},
                  F32T({3}));
  VarId bp = p.Op("band_part",
                  {{"x", {p.F32({3, 3}, std::vector<float>(9, 1))}},
                   {"lower", {p.Int(0)}},
                   {"upper", {p.Int(1)}}},
                  F32T({3, 3}));
  VarId rg = p.Op("range_1d", {{"end", {p.Int(5)}}, {"start", {p.Int(0)}}, {"step", {p.Int(2)}}},
                  I32T({3}));
  absl::StatusOr<RunResult> r = p.Run({g, tk[0], tk[1], cs, bp, rg});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_THAT(Values(r->outputs.at(p.Name(g))), Near(std::vector<double>{30, 10, 30, 20}));
  EXPECT_THAT(Values(r->outputs.at(p.Name(tk[0]))), Near(std::vector<double>{3, 2}));
  EXPECT_THAT(Values(r->outputs.at(p.Name(tk[1]))), Near(std::vector<double>{0, 2}));
  // exclusive + reverse: [2 + 3, 3, 0]
  EXPECT_THAT(Values(r->outputs.at(p.Name(cs))), Near(std::vector<double>{5, 3, 0}));
  EXPECT_THAT(Values(r->outputs.at(p.Name(bp))),
              Near(std::vector<double>{1, 1, 0, 0, 1, 1, 0, 0, 1}));
  EXPECT_THAT(Values(r->outputs.at(p.Name(rg))), Near(std::vector<double>{0, 2, 4}));
}

// ---- the interpreter's own checks --------------------------------------------------------------

TEST(InterpreterTest, ADeclaredShapeTheOpDoesNotProduceIsACheckFailure) {
  Prog p;
  VarId y = p.Op("relu", {{"x", {p.F32({2}, {1, 2})}}}, F32T({3}));
  absl::StatusOr<RunResult> r = p.Run({y});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(core::ClassOf(r.status()), core::ErrorClass::kCheckFailed);
  EXPECT_THAT(std::string(r.status().message()), HasSubstr("declares fp32[3]"));
}

TEST(InterpreterTest, ADeclaredDtypeTheOpDoesNotProduceIsACheckFailure) {
  Prog p;
  VarId y = p.Op("relu", {{"x", {p.F32({2}, {1, 2})}}}, F16T({2}));
  absl::StatusOr<RunResult> r = p.Run({y});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(core::ClassOf(r.status()), core::ErrorClass::kCheckFailed);
  EXPECT_THAT(std::string(r.status().message()),
              HasSubstr("is fp32[2] but the package declares fp16[2]"));
}

TEST(InterpreterTest, AnUnknownOpIsAPackageErrorNamingIt) {
  Prog p;
  VarId y = p.Op("frobnicate", {{"x", {p.F32({2}, {1, 2})}}}, F32T({2}));
  absl::StatusOr<RunResult> r = p.Run({y});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(core::ClassOf(r.status()), core::ErrorClass::kPackage);
  EXPECT_THAT(std::string(r.status().message()), HasSubstr("does not implement MIL op frobnicate"));
}

TEST(InterpreterTest, WrongInputShapeIsAnInputError) {
  Prog p;
  VarId x = p.Input("x", DType::kFloat32, {2});
  VarId y = p.Op("relu", {{"x", {x}}}, F32T({2}));
  absl::StatusOr<RunResult> r = p.Run({y}, {{"x", at::ones({3})}});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(core::ClassOf(r.status()), core::ErrorClass::kInputSpec);
}

TEST(InterpreterTest, EveryOpTheBuiltinPluginsEmitIsImplemented) {
  // The MIL ops the built-in lowerings emit today and the ones the op families need.
  for (const char* op : {"add",
                         "avg_pool",
                         "band_part",
                         "batch_norm",
                         "cast",
                         "clip",
                         "concat",
                         "conv",
                         "conv_transpose",
                         "cumsum",
                         "einsum",
                         "elu",
                         "equal",
                         "erf",
                         "exp",
                         "expand_dims",
                         "fill",
                         "floor_div",
                         "gather",
                         "gather_along_axis",
                         "gelu",
                         "greater",
                         "greater_equal",
                         "identity",
                         "instance_norm",
                         "layer_norm",
                         "leaky_relu",
                         "less",
                         "less_equal",
                         "linear",
                         "log",
                         "logical_and",
                         "logical_not",
                         "logical_or",
                         "matmul",
                         "max_pool",
                         "maximum",
                         "minimum",
                         "mod",
                         "mul",
                         "not_equal",
                         "pad",
                         "pow",
                         "range_1d",
                         "real_div",
                         "reduce_log_sum_exp",
                         "reduce_max",
                         "reduce_mean",
                         "reduce_min",
                         "reduce_sum",
                         "relu",
                         "relu6",
                         "reshape",
                         "resize_bilinear",
                         "rsqrt",
                         "select",
                         "shape",
                         "sigmoid",
                         "sigmoid_hard",
                         "silu",
                         "slice_by_index",
                         "slice_by_size",
                         "softmax",
                         "split",
                         "sqrt",
                         "squeeze",
                         "stack",
                         "sub",
                         "tanh",
                         "tile",
                         "topk",
                         "transpose",
                         "upsample_bilinear",
                         "upsample_nearest_neighbor"}) {
    EXPECT_NE(BuiltinOps().Find(op), nullptr) << op;
    // ... and every one is an op of Core ML's opset table, as of iOS15.
    EXPECT_NE(opset::Opset::Get().Find(op, 15), nullptr) << op;
  }
}

}  // namespace
}  // namespace ts2coreml::interp

namespace ts2coreml::interp {
namespace {

// ---- cond and while_loop (coremltools mil/ops/defs/iOS15/control_flow.py) -----------------------
// cond(pred, _true_fn, _false_fn) runs one branch and returns what it yields; while_loop(_cond,
// _body, loop_vars) runs _body on the loop vars while _cond of them is true, and returns them.

/// cond(sum(x) > 0): x * 2, else x - 1, with x read from outside both branches.
std::vector<float> RunDataIf(std::vector<float> x) {
  Prog p;
  const VarId in = p.Input("x", DType::kFloat32, {3});
  const VarId sum =
      p.Op("reduce_sum", {{"x", {in}}, {"axes", {p.Ints({0})}}, {"keep_dims", {p.Bool(false)}}},
           F32T({}));
  const VarId pred = p.Op("greater", {{"x", {sum}}, {"y", {p.Float(0)}}}, BoolT({}));
  const VarId two = p.Float(2);
  const VarId one = p.Float(1);
  const int then_block = p.f().BeginBlock();
  const VarId doubled = p.Op("mul", {{"x", {in}}, {"y", {two}}}, F32T({3}));
  EXPECT_TRUE(p.f().EndBlock({doubled}).ok());
  const int else_block = p.f().BeginBlock();
  const VarId less = p.Op("sub", {{"x", {in}}, {"y", {one}}}, F32T({3}));
  EXPECT_TRUE(p.f().EndBlock({less}).ok());
  std::vector<VarId> y = p.Flow("cond", {{"pred", {pred}}}, {F32T({3})}, {then_block, else_block});
  if (y.empty()) return {};
  return Values(p.Eval(y[0], {{"x", at::tensor(x)}}));
}

TEST(ControlFlowTest, CondRunsTheBranchItsPredicatePicks) {
  EXPECT_THAT(RunDataIf({1, 2, -0.5}), Near(std::vector<float>{2, 4, -1}));     // sum 2.5 > 0
  EXPECT_THAT(RunDataIf({1, -2, 0.5}), Near(std::vector<float>{0, -3, -0.5}));  // sum -0.5
}

/// while_loop over (i = 0, x): while i < trips and max(x) < limit: i += 1, x *= 1.5.
std::pair<int, std::vector<float>> RunWhile(int32_t trips, float limit, std::vector<float> x) {
  Prog p;
  const VarId in = p.Input("x", DType::kFloat32, {2});
  const VarId i0 = p.Int(0);
  const VarId n = p.Int(trips);
  const VarId cap = p.Float(limit);
  const VarId one = p.Int(1);
  const VarId rate = p.Float(1.5f);
  const int cond = p.f().BeginBlock();
  const VarId ci = p.f().AddBlockInput("ci", I32T({}));
  const VarId cx = p.f().AddBlockInput("cx", F32T({2}));
  const VarId top =
      p.Op("reduce_max", {{"x", {cx}}, {"axes", {p.Ints({0})}}, {"keep_dims", {p.Bool(false)}}},
           F32T({}));
  const VarId small = p.Op("less", {{"x", {top}}, {"y", {cap}}}, BoolT({}));
  const VarId in_range = p.Op("less", {{"x", {ci}}, {"y", {n}}}, BoolT({}));
  const VarId go = p.Op("logical_and", {{"x", {in_range}}, {"y", {small}}}, BoolT({}));
  EXPECT_TRUE(p.f().EndBlock({go}).ok());
  const int body = p.f().BeginBlock();
  const VarId bi = p.f().AddBlockInput("bi", I32T({}));
  const VarId bx = p.f().AddBlockInput("bx", F32T({2}));
  const VarId next_i = p.Op("add", {{"x", {bi}}, {"y", {one}}}, I32T({}));
  const VarId next_x = p.Op("mul", {{"x", {bx}}, {"y", {rate}}}, F32T({2}));
  EXPECT_TRUE(p.f().EndBlock({next_i, next_x}).ok());
  std::vector<VarId> out =
      p.Flow("while_loop", {{"loop_vars", {i0, in}}}, {I32T({}), F32T({2})}, {cond, body});
  if (out.size() != 2) return {};
  absl::StatusOr<RunResult> r = p.Run(out, {{"x", at::tensor(x)}});
  EXPECT_TRUE(r.ok()) << r.status();
  if (!r.ok()) return {};
  return {r->outputs.at(p.Name(out[0])).item<int>(), Values(r->outputs.at(p.Name(out[1])))};
}

TEST(ControlFlowTest, WhileLoopRunsTheBodyWhileTheConditionHolds) {
  // 1, 1.5, 2.25, 3.375: the fourth value is the first >= 3.
  auto [i, x] = RunWhile(100, 3.0f, {1, -2});
  EXPECT_EQ(i, 3);
  EXPECT_THAT(x, Near(std::vector<float>{3.375f, -6.75f}));
  // The trip bound stops it first.
  std::tie(i, x) = RunWhile(2, 3.0f, {1, -2});
  EXPECT_EQ(i, 2);
  EXPECT_THAT(x, Near(std::vector<float>{2.25f, -4.5f}));
  // A condition false at the start: no trip, the initial values.
  std::tie(i, x) = RunWhile(100, 0.5f, {1, -2});
  EXPECT_EQ(i, 0);
  EXPECT_THAT(x, Near(std::vector<float>{1, -2}));
}

TEST(ControlFlowTest, CondInsideWhileLoopBody) {
  // while i < 4: x = cond(i < 2: x + 1, else x * 3); i += 1  =>  ((0 + 1 + 1) * 3) * 3 = 18.
  Prog p;
  const VarId x0 = p.Float(0);
  const VarId i0 = p.Int(0);
  const VarId four = p.Int(4);
  const VarId two = p.Int(2);
  const VarId one_i = p.Int(1);
  const VarId one = p.Float(1);
  const VarId three = p.Float(3);
  const int cond = p.f().BeginBlock();
  const VarId ci = p.f().AddBlockInput("ci", I32T({}));
  p.f().AddBlockInput("cx", F32T({}));
  EXPECT_TRUE(p.f().EndBlock({p.Op("less", {{"x", {ci}}, {"y", {four}}}, BoolT({}))}).ok());
  const int body = p.f().BeginBlock();
  const VarId bi = p.f().AddBlockInput("bi", I32T({}));
  const VarId bx = p.f().AddBlockInput("bx", F32T({}));
  const VarId early = p.Op("less", {{"x", {bi}}, {"y", {two}}}, BoolT({}));
  const int add_block = p.f().BeginBlock();
  EXPECT_TRUE(p.f().EndBlock({p.Op("add", {{"x", {bx}}, {"y", {one}}}, F32T({}))}).ok());
  const int mul_block = p.f().BeginBlock();
  EXPECT_TRUE(p.f().EndBlock({p.Op("mul", {{"x", {bx}}, {"y", {three}}}, F32T({}))}).ok());
  const std::vector<VarId> x =
      p.Flow("cond", {{"pred", {early}}}, {F32T({})}, {add_block, mul_block});
  const VarId next_i = p.Op("add", {{"x", {bi}}, {"y", {one_i}}}, I32T({}));
  EXPECT_TRUE(p.f().EndBlock({next_i, x.at(0)}).ok());
  std::vector<VarId> out =
      p.Flow("while_loop", {{"loop_vars", {i0, x0}}}, {I32T({}), F32T({})}, {cond, body});
  ASSERT_EQ(out.size(), 2u);
  EXPECT_THAT(Values(p.Eval(out[1])), Near(std::vector<float>{18}));
}

TEST(ControlFlowTest, CondWhosePredicateIsNotOneBoolIsRefused) {
  Prog p;
  const VarId pred = p.Bools({true, false});
  const int a = p.f().BeginBlock();
  EXPECT_TRUE(p.f().EndBlock({p.Float(1)}).ok());
  const int b = p.f().BeginBlock();
  EXPECT_TRUE(p.f().EndBlock({p.Float(2)}).ok());
  // The opset check would refuse this at emit time; the package is written by hand here.
  std::vector<VarId> y = p.Flow("cond", {{"pred", {pred}}}, {F32T({})}, {a, b});
  ASSERT_EQ(y.size(), 1u);
  absl::StatusOr<RunResult> r = p.Run({y[0]});
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr("pred is not one bool"));
}

}  // namespace
}  // namespace ts2coreml::interp
