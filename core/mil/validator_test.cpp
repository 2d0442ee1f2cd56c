#include "core/mil/validator.h"

#include <string>
#include <vector>

#include "core/mil/program.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "ts2coreml/mil_opset.h"

namespace ts2coreml::mil {
namespace {

namespace mil_pb = CoreML::Specification::MILSpec;

TEST(OpsetTableTest, EveryRowParsesAndCoversIos15ToIos18) {
  const opset::Opset& table = opset::Opset::Get();
  EXPECT_TRUE(table.malformed().empty()) << table.malformed()[0];
  int ios15 = 0;
  for (const opset::OpSpec& op : table.ops()) ios15 += op.since == 15;
  EXPECT_GE(ios15, 150);
  // Block and constexpr ops are in, with the version that introduced them.
  EXPECT_EQ(table.FirstVersion("cond"), 15);
  EXPECT_EQ(table.FirstVersion("while_loop"), 15);
  EXPECT_EQ(table.FirstVersion("constexpr_affine_dequantize"), 16);
  EXPECT_EQ(table.FirstVersion("resize"), 17);
  EXPECT_EQ(table.FirstVersion("scaled_dot_product_attention"), 18);
  EXPECT_EQ(table.Find("resize", 16), nullptr);
  // A changed op: iOS17's conv lets weight and bias differ from x; iOS15's does not.
  const opset::OpSpec* conv15 = table.Find("conv", 16);
  const opset::OpSpec* conv17 = table.Find("conv", 18);
  ASSERT_NE(conv15, nullptr);
  ASSERT_NE(conv17, nullptr);
  EXPECT_EQ(conv15->since, 15);
  EXPECT_EQ(conv15->until, 17);
  EXPECT_EQ(conv15->FindInput("weight")->domain, "T");
  EXPECT_EQ(conv17->FindInput("weight")->domain, "U");
  EXPECT_EQ(table.Find("reduce_mean", 15)->InputNames(), "x, axes, keep_dims");
  // MIL's full dtype set, not only the few dtypes lowerings use.
  EXPECT_NE(table.Find("constexpr_blockwise_shift_scale", 18)->FindInput("data")->dtypes &
                opset::DtypeBit(opset::kInt4),
            0u);
}

/// x: fp16[2,3,8,8] and a few consts, in a CoreML6 function.
class NewOpTest : public ::testing::Test {
 protected:
  NewOpTest() : f_("CoreML6") { x_ = f_.AddInput("x", {DType::kFloat16, {2, 3, 8, 8}}); }
  VarId Ints(std::vector<int32_t> v, bool scalar = false) {
    std::vector<int64_t> shape;
    if (!scalar) shape = {static_cast<int64_t>(v.size())};
    return f_.AddConst("c", ConstValue::Int32(shape, v.data()));
  }
  VarId Bool(bool b) { return f_.AddConst("b", ConstValue::Bool({}, &b)); }
  VarId Float32(float v) { return f_.AddConst("f", ConstValue::Float32({}, &v)); }
  VarId Str(const std::string& s) { return f_.AddConst("s", ConstValue::String(s)); }
  std::vector<std::string> Check(const std::string& type, std::vector<OpInput> inputs,
                                 std::vector<TensorType> outputs) {
    return CheckNewOp(f_, type, inputs, outputs);
  }

  Function f_;
  VarId x_ = 0;
};

TEST_F(NewOpTest, ValidOpsPassWithTheirInferredOutputs) {
  EXPECT_EQ(IosOf(f_), 16);
  EXPECT_TRUE(Check("relu", {{"x", {x_}}}, {{DType::kFloat16, {2, 3, 8, 8}}}).empty());
  EXPECT_TRUE(Check("reduce_mean",
                    {{"x", {x_}}, {"axes", {Ints({-1, -2})}}, {"keep_dims", {Bool(true)}}},
                    {{DType::kFloat16, {2, 3, 1, 1}}})
                  .empty());
  float w[3 * 3 * 3 * 4 * 3] = {};
  const VarId weight = f_.AddConst("w", ConstValue::Float16({4, 3, 3, 3}, w));
  EXPECT_TRUE(Check("conv",
                    {{"x", {x_}},
                     {"weight", {weight}},
                     {"strides", {Ints({2, 2})}},
                     {"pad_type", {Str("custom")}},
                     {"pad", {Ints({1, 1, 1, 1})}}},
                    {{DType::kFloat16, {2, 4, 4, 4}}})
                  .empty());
  EXPECT_TRUE(
      Check("reshape", {{"x", {x_}}, {"shape", {Ints({2, -1})}}}, {{DType::kFloat16, {2, 192}}})
          .empty());
  EXPECT_TRUE(Check("concat", {{"values", {x_, x_}}, {"axis", {Ints({1}, true)}}},
                    {{DType::kFloat16, {2, 6, 8, 8}}})
                  .empty());
  EXPECT_TRUE(Check("slice_by_index",
                    {{"x", {x_}}, {"begin", {Ints({0, 1, 0, 0})}}, {"end", {Ints({2, 3, 8, 8})}}},
                    {{DType::kFloat16, {2, 2, 8, 8}}})
                  .empty());
  EXPECT_TRUE(Check("matmul", {{"x", {x_}}, {"y", {x_}}, {"transpose_y", {Bool(true)}}},
                    {{DType::kFloat16, {2, 3, 8, 8}}})
                  .empty());
}

TEST_F(NewOpTest, WrongOutputShapeIsReported) {
  const std::vector<std::string> p =
      Check("reduce_mean", {{"x", {x_}}, {"axes", {Ints({1})}}}, {{DType::kFloat16, {2, 3, 8}}});
  ASSERT_EQ(p.size(), 1u);
  EXPECT_EQ(p[0],
            "reduce_mean declaring output 0 as fp16[2,3,8] where the table infers fp16[2,8,8]");
}

TEST_F(NewOpTest, UnknownInputIsReportedWithTheOpsInputs) {
  const std::vector<std::string> p =
      Check("reduce_mean", {{"x", {x_}}, {"axis", {Ints({1})}}}, {{DType::kFloat16, {2, 8, 8}}});
  ASSERT_EQ(p.size(), 1u);
  EXPECT_EQ(p[0], "reduce_mean with unknown input 'axis' (inputs: x, axes, keep_dims)");
}

TEST_F(NewOpTest, UnknownAndTooNewOpsAreReported) {
  std::vector<std::string> p = Check("rsqr", {{"x", {x_}}}, {{DType::kFloat16, {2, 3, 8, 8}}});
  ASSERT_EQ(p.size(), 1u);
  EXPECT_EQ(p[0], "rsqr, which is not an op of Core ML's opset");
  p = Check("resize", {{"x", {x_}}}, {{DType::kFloat16, {2, 3, 8, 8}}});
  ASSERT_EQ(p.size(), 1u);
  EXPECT_EQ(p[0], "resize, which needs target ios17 or later (the target is ios16)");
}

TEST_F(NewOpTest, SharedDomainMismatchIsReported) {
  const std::vector<std::string> p =
      Check("mul", {{"x", {x_}}, {"y", {Float32(2)}}}, {{DType::kFloat16, {2, 3, 8, 8}}});
  ASSERT_EQ(p.size(), 1u);
  EXPECT_EQ(p[0],
            "mul with input 'y' of dtype fp32 where 'x' is fp16 (x and y share T in {fp16, fp32, "
            "int32})");
}

TEST_F(NewOpTest, WrongDtypeRankConstAndMissingInputsAreReported) {
  std::vector<std::string> p =
      Check("split", {{"x", {x_}}, {"num_splits", {Float32(2)}}, {"axis", {Ints({1}, true)}}},
            {{DType::kFloat16, {2, 3, 4, 8}}, {DType::kFloat16, {2, 3, 4, 8}}});
  ASSERT_EQ(p.size(), 1u);
  EXPECT_EQ(p[0], "split with input 'num_splits' of dtype fp32 (accepts int32)");
  p = Check("softmax", {{"x", {x_}}, {"axis", {Ints({1})}}}, {{DType::kFloat16, {2, 3, 8, 8}}});
  ASSERT_EQ(p.size(), 1u);
  EXPECT_EQ(p[0], "softmax with input 'axis' of rank 1 (accepts rank 0)");
  p = Check("transpose", {{"x", {x_}}, {"perm", {x_}}}, {{DType::kFloat16, {2, 3, 8, 8}}});
  EXPECT_EQ(p[0], "transpose with input 'perm' not a constant (it must be a const)");
  p = Check("transpose", {{"x", {x_}}}, {{DType::kFloat16, {2, 3, 8, 8}}});
  ASSERT_EQ(p.size(), 1u);
  EXPECT_EQ(p[0], "transpose without its required input 'perm'");
}

TEST_F(NewOpTest, CastOfAConstCountsAsAConst) {
  // A weight stored fp16 for an op computing in fp32 is cast up; Core ML folds the cast.
  const float g[8] = {1, 1, 1, 1, 1, 1, 1, 1};
  const VarId stored = f_.AddConst("g", ConstValue::Float16({8}, g));
  const VarId gamma = (*f_.AddOp("cast", "g32", {{"x", {stored}}, {"dtype", {Str("fp32")}}},
                                 {{DType::kFloat32, {8}}}))[0];
  const VarId x32 = f_.AddInput("x32", {DType::kFloat32, {2, 8}});
  EXPECT_TRUE(Check("layer_norm", {{"x", {x32}}, {"axes", {Ints({-1})}}, {"gamma", {gamma}}},
                    {{DType::kFloat32, {2, 8}}})
                  .empty());
  const VarId runtime = (*f_.AddOp("relu", "r", {{"x", {x32}}}, {{DType::kFloat32, {2, 8}}}))[0];
  const VarId not_const = (*f_.AddOp("reduce_mean", "m", {{"x", {runtime}}, {"axes", {Ints({0})}}},
                                     {{DType::kFloat32, {8}}}))[0];
  const std::vector<std::string> p =
      Check("layer_norm", {{"x", {x32}}, {"axes", {Ints({-1})}}, {"gamma", {not_const}}},
            {{DType::kFloat32, {2, 8}}});
  ASSERT_EQ(p.size(), 1u);
  EXPECT_EQ(p[0], "layer_norm with input 'gamma' not a constant (it must be a const)");
}

/// A program in the conventions coremltools writes.
class ProgramBuilder {
 public:
  explicit ProgramBuilder(const std::string& opset) {
    auto& fn = (*package_.model.mutable_mlprogram()->mutable_functions())["main"];
    fn.set_opset(opset);
    block_ = &(*fn.mutable_block_specializations())[opset];
    fn_ = &fn;
  }
  static mil_pb::ValueType Type(mil_pb::DataType dtype, std::vector<uint64_t> shape) {
    mil_pb::ValueType t;
    t.mutable_tensortype()->set_datatype(dtype);
    t.mutable_tensortype()->set_rank(static_cast<int64_t>(shape.size()));
    for (uint64_t d : shape)
      t.mutable_tensortype()->add_dimensions()->mutable_constant()->set_size(d);
    return t;
  }
  void Input(const std::string& name, mil_pb::DataType dtype, std::vector<uint64_t> shape) {
    auto* in = fn_->add_inputs();
    in->set_name(name);
    *in->mutable_type() = Type(dtype, shape);
  }
  /// A const of ints (rank 1 unless `scalar`) in `block`.
  void Ints(mil_pb::Block* block, const std::string& name, std::vector<int32_t> v,
            bool scalar = false) {
    mil_pb::Operation* op = Const(
        block, name,
        Type(mil_pb::INT32, scalar ? std::vector<uint64_t>{} : std::vector<uint64_t>{v.size()}));
    for (int32_t i : v) {
      (*op->mutable_attributes())["val"]
          .mutable_immediatevalue()
          ->mutable_tensor()
          ->mutable_ints()
          ->add_values(i);
    }
  }
  void Float(mil_pb::Block* block, const std::string& name, mil_pb::DataType dtype) {
    Const(block, name, Type(dtype, {}));
  }
  mil_pb::Operation* Op(mil_pb::Block* block, const std::string& type,
                        std::vector<std::pair<std::string, std::string>> inputs,
                        const std::string& out, mil_pb::DataType dtype,
                        std::vector<uint64_t> shape) {
    mil_pb::Operation* op = block->add_operations();
    op->set_type(type);
    for (const auto& [param, var] : inputs) {
      (*op->mutable_inputs())[param].add_arguments()->set_name(var);
    }
    auto* o = op->add_outputs();
    o->set_name(out);
    *o->mutable_type() = Type(dtype, shape);
    return op;
  }
  mil_pb::Block* block() { return block_; }
  const Package& package() const { return package_; }

  mil_pb::Operation* Const(mil_pb::Block* block, const std::string& name,
                           const mil_pb::ValueType& type) {
    mil_pb::Operation* op = block->add_operations();
    op->set_type("const");
    auto* o = op->add_outputs();
    o->set_name(name);
    *o->mutable_type() = type;
    *(*op->mutable_attributes())["val"].mutable_type() = type;
    return op;
  }

 private:
  Package package_;
  mil_pb::Function* fn_ = nullptr;
  mil_pb::Block* block_ = nullptr;
};

TEST(CheckProgramTest, CoremltoolsConventionsPass) {
  // fp16 model I/O, ops we never emit (thresholded_relu), a cond with consts nested in its blocks,
  // an iOS18 op in a CoreML8 program.
  ProgramBuilder b("CoreML8");
  b.Input("x", mil_pb::FLOAT16, {1, 4});
  b.Float(b.block(), "alpha", mil_pb::FLOAT16);
  b.Op(b.block(), "thresholded_relu", {{"x", "x"}, {"alpha", "alpha"}}, "t", mil_pb::FLOAT16,
       {1, 4});
  b.Ints(b.block(), "axes", {1});
  b.Op(b.block(), "reduce_sum", {{"x", "t"}, {"axes", "axes"}}, "s", mil_pb::FLOAT16, {1});
  b.Float(b.block(), "zero", mil_pb::FLOAT16);
  b.Op(b.block(), "greater", {{"x", "s"}, {"y", "zero"}}, "p", mil_pb::BOOL, {1});
  b.Ints(b.block(), "p_axes", {0});
  b.Op(b.block(), "squeeze", {{"x", "p"}, {"axes", "p_axes"}}, "pred", mil_pb::BOOL, {});
  mil_pb::Operation* cond =
      b.Op(b.block(), "cond", {{"pred", "pred"}}, "y", mil_pb::FLOAT16, {1, 4});
  for (const char* branch : {"then", "else"}) {
    mil_pb::Block* inner = cond->add_blocks();
    b.Float(inner, std::string(branch) + "_k", mil_pb::FLOAT16);
    b.Op(inner, "mul", {{"x", "t"}, {"y", std::string(branch) + "_k"}}, std::string(branch) + "_y",
         mil_pb::FLOAT16, {1, 4});
    inner->add_outputs(std::string(branch) + "_y");
  }
  b.Op(b.block(), "scaled_dot_product_attention", {{"query", "y"}, {"key", "y"}, {"value", "y"}},
       "a", mil_pb::FLOAT16, {1, 4});
  absl::StatusOr<std::vector<OpProblem>> problems = CheckProgram(b.package());
  ASSERT_TRUE(problems.ok()) << problems.status();
  for (const OpProblem& p : *problems) ADD_FAILURE() << p.op << ": " << p.message;
}

TEST(CheckProgramTest, HandBuiltInvalidProgramReportsEveryProblem) {
  ProgramBuilder b("CoreML6");
  b.Input("x", mil_pb::FLOAT16, {1, 4});
  b.Float(b.block(), "k", mil_pb::FLOAT32);
  b.Op(b.block(), "mul", {{"x", "x"}, {"y", "k"}}, "m", mil_pb::FLOAT16, {1, 4});
  b.Op(b.block(), "rsqr", {{"x", "m"}}, "r", mil_pb::FLOAT16, {1, 4});
  b.Op(b.block(), "relu", {{"x", "nowhere"}}, "n", mil_pb::FLOAT16, {1, 4});
  b.Op(b.block(), "scaled_dot_product_attention", {{"query", "x"}, {"key", "x"}, {"value", "x"}},
       "a", mil_pb::FLOAT16, {1, 4});
  absl::StatusOr<std::vector<OpProblem>> problems = CheckProgram(b.package());
  ASSERT_TRUE(problems.ok()) << problems.status();
  ASSERT_EQ(problems->size(), 5u);
  EXPECT_EQ((*problems)[0].op, "m");
  EXPECT_EQ((*problems)[0].message,
            "mul with input 'y' of dtype fp32 where 'x' is fp16 (x and y share T in {fp16, fp32, "
            "int32})");
  EXPECT_EQ((*problems)[1].message, "rsqr, which is not an op of Core ML's opset");
  EXPECT_EQ((*problems)[2].message, "relu reading 'nowhere', which no earlier op defines");
  EXPECT_EQ((*problems)[3].message, "relu with input 'x' bound to 0 vars (it takes one)");
  EXPECT_EQ((*problems)[4].message,
            "scaled_dot_product_attention, which needs target ios18 or later (the target is "
            "ios16)");
}

/// Adds a block input to `block`.
void BlockInput(mil_pb::Block* block, const std::string& name, mil_pb::DataType dtype,
                std::vector<uint64_t> shape) {
  auto* in = block->add_inputs();
  in->set_name(name);
  *in->mutable_type() = ProgramBuilder::Type(dtype, shape);
}

/// while_loop(i = 0, x): while i < 3: i, x = i + 1, x * 2; the body reads `two` from outside.
/// `body_x_dtype` is the dtype the body yields for x (fp16 is right).
void WhileLoop(ProgramBuilder& b, mil_pb::DataType body_x_dtype, mil_pb::DataType cond_dtype) {
  b.Input("x", mil_pb::FLOAT16, {2});
  b.Ints(b.block(), "i0", {0}, /*scalar=*/true);
  b.Ints(b.block(), "three", {3}, /*scalar=*/true);
  b.Ints(b.block(), "one", {1}, /*scalar=*/true);
  b.Float(b.block(), "two", mil_pb::FLOAT16);
  mil_pb::Operation* loop =
      b.Op(b.block(), "while_loop", {{"loop_vars", "i0"}}, "i_out", mil_pb::INT32, {});
  (*loop->mutable_inputs())["loop_vars"].add_arguments()->set_name("x");
  auto* x_out = loop->add_outputs();
  x_out->set_name("x_out");
  *x_out->mutable_type() = ProgramBuilder::Type(mil_pb::FLOAT16, {2});
  mil_pb::Block* cond = loop->add_blocks();
  BlockInput(cond, "ci", mil_pb::INT32, {});
  BlockInput(cond, "cx", mil_pb::FLOAT16, {2});
  b.Op(cond, "less", {{"x", "ci"}, {"y", "three"}}, "go", cond_dtype, {});
  cond->add_outputs("go");
  mil_pb::Block* body = loop->add_blocks();
  BlockInput(body, "bi", mil_pb::INT32, {});
  BlockInput(body, "bx", mil_pb::FLOAT16, {2});
  b.Op(body, "add", {{"x", "bi"}, {"y", "one"}}, "bi1", mil_pb::INT32, {});
  b.Op(body, "mul", {{"x", "bx"}, {"y", "two"}}, "bx2", body_x_dtype, {2});
  body->add_outputs("bi1");
  body->add_outputs("bx2");
}

TEST(CheckProgramTest, WhileLoopWithOuterValuesPasses) {
  ProgramBuilder b("CoreML6");
  WhileLoop(b, mil_pb::FLOAT16, mil_pb::BOOL);
  absl::StatusOr<std::vector<OpProblem>> problems = CheckProgram(b.package());
  ASSERT_TRUE(problems.ok()) << problems.status();
  for (const OpProblem& p : *problems) ADD_FAILURE() << p.op << ": " << p.message;
}

TEST(CheckProgramTest, WhileLoopBlocksMustMatchTheLoopVars) {
  ProgramBuilder b("CoreML6");
  WhileLoop(b, mil_pb::FLOAT32, mil_pb::INT32);
  absl::StatusOr<std::vector<OpProblem>> problems = CheckProgram(b.package());
  ASSERT_TRUE(problems.ok()) << problems.status();
  std::vector<std::string> messages;
  for (const OpProblem& p : *problems) messages.push_back(p.message);
  // The ops inside are checked as ops (less must give a bool; mul's x and output dtypes)...
  EXPECT_THAT(messages, ::testing::Contains(::testing::HasSubstr("less")));
  // ...and the blocks against the loop.
  EXPECT_THAT(messages, ::testing::Contains("while_loop whose condition yields int32[] as value 0, "
                                            "not bool[]"));
  EXPECT_THAT(messages, ::testing::Contains("while_loop whose body yields fp32[2] as value 1, not "
                                            "fp16[2]"));
}

TEST(CheckProgramTest, CondBranchesMustYieldTheOutputTypes) {
  ProgramBuilder b("CoreML6");
  b.Input("x", mil_pb::FLOAT16, {2});
  mil_pb::Operation* p = b.Const(b.block(), "p", ProgramBuilder::Type(mil_pb::BOOL, {}));
  (void)p;
  mil_pb::Operation* cond = b.Op(b.block(), "cond", {{"pred", "p"}}, "y", mil_pb::FLOAT16, {2});
  mil_pb::Block* then = cond->add_blocks();
  b.Op(then, "relu", {{"x", "x"}}, "r", mil_pb::FLOAT16, {2});
  then->add_outputs("r");
  mil_pb::Block* other = cond->add_blocks();
  b.Op(other, "reduce_sum", {{"x", "x"}}, "s", mil_pb::FLOAT16, {});
  other->add_outputs("s");
  // A var of a branch is not seen after the cond.
  b.Op(b.block(), "relu", {{"x", "r"}}, "after", mil_pb::FLOAT16, {2});
  absl::StatusOr<std::vector<OpProblem>> problems = CheckProgram(b.package());
  ASSERT_TRUE(problems.ok()) << problems.status();
  std::vector<std::string> messages;
  for (const OpProblem& q : *problems) messages.push_back(q.message);
  EXPECT_THAT(messages, ::testing::Contains("cond whose false branch yields fp16[] as value 0, "
                                            "not fp16[2]"));
  EXPECT_THAT(messages, ::testing::Contains("relu reading 'r', which no earlier op defines"));
}

TEST(CheckProgramTest, UnknownOpsetIsUnreadable) {
  ProgramBuilder b("CoreML99");
  absl::StatusOr<std::vector<OpProblem>> problems = CheckProgram(b.package());
  EXPECT_FALSE(problems.ok());
}

}  // namespace
}  // namespace ts2coreml::mil
