// Residency of hand-built MIL blocks: FLOPs per op kind as residency.h defines them, the fp16
// share of ops and FLOPs, and which casts are transitions (not weights, inputs or outputs).
#include "core/report/residency.h"

#include <string>
#include <utility>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace ts2coreml::core {
namespace {

namespace milspec = CoreML::Specification::MILSpec;

milspec::ValueType Type(milspec::DataType dtype, const std::vector<uint64_t>& shape) {
  milspec::ValueType t;
  auto* tt = t.mutable_tensortype();
  tt->set_datatype(dtype);
  tt->set_rank(static_cast<int64_t>(shape.size()));
  for (uint64_t d : shape) tt->add_dimensions()->mutable_constant()->set_size(d);
  return t;
}

/// One function's block, built op by op.
class Block {
 public:
  void Input(const std::string& name, milspec::DataType dtype, std::vector<uint64_t> shape) {
    auto* in = fn_.add_inputs();
    in->set_name(name);
    *in->mutable_type() = Type(dtype, shape);
  }
  milspec::Operation* Op(const std::string& type,
                         std::vector<std::pair<std::string, std::string>> inputs,
                         const std::string& out, milspec::DataType dtype,
                         std::vector<uint64_t> shape) {
    milspec::Operation* op = block_.add_operations();
    op->set_type(type);
    for (const auto& [param, var] : inputs) {
      (*op->mutable_inputs())[param].add_arguments()->set_name(var);
    }
    auto* o = op->add_outputs();
    o->set_name(out);
    *o->mutable_type() = Type(dtype, shape);
    return op;
  }
  void Const(const std::string& name, milspec::DataType dtype, std::vector<uint64_t> shape) {
    Op("const", {}, name, dtype, std::move(shape));
  }
  void Output(const std::string& name) { block_.add_outputs(name); }
  Residency Measure() const { return MeasureResidency(block_, fn_); }

 private:
  milspec::Function fn_;
  milspec::Block block_;
};

constexpr auto kF16 = milspec::FLOAT16;
constexpr auto kF32 = milspec::FLOAT32;

TEST(ResidencyTest, FlopsPerOpKind) {
  Block b;
  b.Input("x", kF16, {1, 3, 8, 8});
  b.Const("w", kF16, {4, 3, 3, 3});                                      // 27 per output channel
  b.Op("conv", {{"x", "x"}, {"weight", "w"}}, "c", kF16, {1, 4, 8, 8});  // 2*256*27 = 13824
  b.Op("relu", {{"x", "c"}}, "r", kF16, {1, 4, 8, 8});                   // 256
  b.Op("reshape", {{"x", "r"}}, "f", kF16, {1, 256});                    // 0
  b.Const("lw", kF16, {10, 256});
  b.Op("linear", {{"x", "f"}, {"weight", "lw"}}, "l", kF16, {1, 10});  // 2*10*256 = 5120
  b.Op("reduce_sum", {{"x", "l"}}, "s", kF16, {1});                    // 10 (input elements)
  b.Input("a", kF16, {2, 5, 7});
  b.Input("bt", kF16, {2, 6, 7});
  b.Op("matmul", {{"x", "a"}, {"y", "bt"}}, "m", kF16, {2, 5, 6});  // 2*60*7 = 840
  b.Const("wt", kF16, {3, 2, 2, 2});  // conv_transpose: [Cin, Cout/groups, k, k]
  b.Input("t", kF16, {1, 3, 4, 4});
  b.Op("conv_transpose", {{"x", "t"}, {"weight", "wt"}}, "ct", kF16, {1, 2, 8, 8});  // 2*48*8
  const Residency r = b.Measure();
  EXPECT_EQ(r.float_ops, 7);
  EXPECT_EQ(r.fp16_ops, 7);
  EXPECT_DOUBLE_EQ(r.flops, 13824 + 256 + 0 + 5120 + 10 + 840 + 768);
  EXPECT_DOUBLE_EQ(r.FlopShare(), 100);
}

TEST(ResidencyTest, SharesAndTransitionsInsideTheProgram) {
  Block b;
  b.Input("x", kF32, {4});
  b.Op("cast", {{"x", "x"}}, "x16", kF16, {4});  // model input: boundary
  b.Op("exp", {{"x", "x16"}}, "e", kF16, {4});
  b.Op("cast", {{"x", "e"}}, "e32", kF32, {4});  // transition
  b.Const("g", kF16, {4});
  b.Op("cast", {{"x", "g"}}, "g32", kF32, {4});  // a weight: not a transition
  b.Op("mul", {{"x", "e32"}, {"y", "g32"}}, "m", kF32, {4});
  b.Op("cast", {{"x", "m"}}, "m16", kF16, {4});  // transition
  b.Op("add", {{"x", "m16"}, {"y", "m16"}}, "y16", kF16, {4});
  b.Op("cast", {{"x", "y16"}}, "y", kF32, {4});  // to a model output: boundary
  b.Output("y");
  const Residency r = b.Measure();
  EXPECT_EQ(r.float_ops, 3);
  EXPECT_EQ(r.fp16_ops, 2);
  EXPECT_EQ(r.transitions, 2);
  EXPECT_DOUBLE_EQ(r.flops, 12);
  EXPECT_DOUBLE_EQ(r.fp16_flops, 8);
  EXPECT_NEAR(r.OpShare(), 66.67, 0.01);
  EXPECT_EQ(FormatResidency(r),
            "fp16 residency: 2 of 3 float ops (66.7%), 8 of 12 FLOPs (66.7%), 2 fp16/fp32 "
            "transitions");
}

TEST(ResidencyTest, UnknownShapesCountNoFlops) {
  Block b;
  b.Input("x", kF16, {4});
  milspec::Operation* relu = b.Op("relu", {{"x", "x"}}, "r", kF16, {1});
  relu->mutable_outputs(0)
      ->mutable_type()
      ->mutable_tensortype()
      ->mutable_dimensions(0)
      ->mutable_unknown();
  b.Op("exp", {{"x", "x"}}, "e", kF16, {});  // rank 0: one element
  const Residency r = b.Measure();
  EXPECT_EQ(r.float_ops, 2);
  EXPECT_DOUBLE_EQ(r.flops, 1);
}

}  // namespace
}  // namespace ts2coreml::core
