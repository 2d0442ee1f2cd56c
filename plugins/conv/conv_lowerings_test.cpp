/// Tests of the conv family: PyTorch output sizes over a parameter sweep, the emitted MIL conv and
/// conv_transpose parameters, and refusals.
#include "conv/conv_lowerings.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "sdk/testing/fake_host.h"

namespace ts2coreml::plugins {
namespace {

namespace t = sdk::testing;
using Shape = std::vector<int64_t>;

const t2c_lowering_decl& Decl(const std::string& op) {
  const t2c_lowering_decl* d = t::FindDecl(ConvPluginInfo(), op);
  EXPECT_NE(d, nullptr) << op;
  return *d;
}

/// An aten::_convolution node.
t::FakeNode Convolution(Shape x, Shape w, bool bias, Shape stride, Shape pad, Shape dilation,
                        bool transposed, Shape output_padding, int64_t groups) {
  t::FakeNode n("aten::_convolution");
  n.Add(t::Value::Tensor(x)).Add(t::Value::ConstTensor(w));
  n.Add(bias ? t::Value::ConstTensor({transposed ? w[1] * groups : w[0]}) : t::Value::None());
  n.Add(t::Value::Ints(stride)).Add(t::Value::Ints(pad)).Add(t::Value::Ints(dilation));
  n.Add(t::Value::Bool(transposed)).Add(t::Value::Ints(output_padding)).Add(t::Value::Int(groups));
  n.Add(t::Value::Bool(false)).Add(t::Value::Bool(false)).Add(t::Value::Bool(true));
  n.Add(t::Value::Bool(true));
  return n;
}

struct ConvCase {
  Shape x, w;
  Shape stride, pad, dilation;
  int64_t groups;
  Shape expected;  // hand-computed with PyTorch's formula
};

TEST(ConvTest, OutputShapesFollowPyTorch) {
  // out = floor((in + 2p - d(k-1) - 1) / s) + 1
  const std::vector<ConvCase> cases = {
      {{1, 3, 224, 224}, {16, 3, 3, 3}, {2, 2}, {1, 1}, {1, 1}, 1, {1, 16, 112, 112}},
      {{1, 16, 112, 112}, {16, 1, 3, 3}, {1, 1}, {1, 1}, {1, 1}, 16, {1, 16, 112, 112}},
      {{1, 3, 224, 224}, {64, 3, 7, 7}, {2, 2}, {3, 3}, {1, 1}, 1, {1, 64, 112, 112}},
      {{2, 8, 10, 11}, {4, 8, 3, 2}, {3, 2}, {0, 1}, {2, 1}, 1, {2, 4, 2, 6}},
      {{1, 8, 9, 9}, {8, 2, 3, 3}, {1, 1}, {2, 2}, {2, 2}, 4, {1, 8, 9, 9}},
      {{1, 4, 5, 5}, {6, 4, 1, 1}, {2, 2}, {0, 0}, {1, 1}, 1, {1, 6, 3, 3}},
      {{1, 4, 17}, {5, 4, 4}, {3}, {1}, {1}, 1, {1, 5, 6}},  // 1d
      {{1, 2, 6, 7, 8}, {3, 2, 3, 3, 3}, {1, 2, 3}, {1, 1, 1}, {1, 1, 1}, 1, {1, 3, 6, 4, 3}},
  };
  for (const ConvCase& c : cases) {
    t::FakeNode n = Convolution(c.x, c.w, true, c.stride, c.pad, c.dilation, false,
                                Shape(c.stride.size(), 0), c.groups);
    ASSERT_TRUE(n.Lower(Decl("aten::_convolution"))) << n.error();
    EXPECT_EQ(n.inferred().shape, c.expected);
    EXPECT_EQ(n.inferred().dtype, T2C_DTYPE_FP32);
    const t::FakeOp* conv = n.OutputOp();
    ASSERT_NE(conv, nullptr);
    EXPECT_EQ(conv->type, "conv");
    EXPECT_EQ(conv->ArgNames(),
              (std::vector<std::string>{"x", "weight", "bias", "strides", "pad_type", "pad",
                                        "dilations", "groups"}));
    EXPECT_EQ(n.ArgInts(*conv, "strides"), c.stride);
    EXPECT_EQ(n.ArgString(*conv, "pad_type"), "custom");
    Shape pad;
    for (int64_t p : c.pad) pad.insert(pad.end(), {p, p});
    EXPECT_EQ(n.ArgInts(*conv, "pad"), pad);
    EXPECT_EQ(n.ArgInts(*conv, "dilations"), c.dilation);
    EXPECT_EQ(n.ArgScalar(*conv, "groups"), c.groups);
    EXPECT_EQ(n.ArgType(*conv, "groups"), sdk::TensorType(T2C_DTYPE_INT32, {}));
    EXPECT_EQ(n.ArgInputIndex(*conv, "x"), 0);
    EXPECT_EQ(n.ArgInputIndex(*conv, "weight"), 1);
    EXPECT_EQ(n.ArgInputIndex(*conv, "bias"), 2);
  }
}

TEST(ConvTest, Fp16WeightsFollowComputeDtype) {
  t::FakeNode n =
      Convolution({1, 3, 8, 8}, {4, 3, 3, 3}, true, {1, 1}, {1, 1}, {1, 1}, false, {0, 0}, 1);
  n.Precision(T2C_DTYPE_FP16);
  ASSERT_TRUE(n.Lower(Decl("aten::_convolution"))) << n.error();
  const t::FakeOp* conv = n.OutputOp();
  EXPECT_EQ(n.ArgType(*conv, "x").dtype, T2C_DTYPE_FP16);
  EXPECT_EQ(n.ArgType(*conv, "weight").dtype, T2C_DTYPE_FP16);
  EXPECT_EQ(n.ArgType(*conv, "bias").dtype, T2C_DTYPE_FP16);
  EXPECT_EQ(n.planned(), sdk::TensorType(T2C_DTYPE_FP16, {1, 4, 8, 8}));
}

TEST(ConvTest, NoBiasLeavesBiasUnbound) {
  t::FakeNode n =
      Convolution({1, 3, 8, 8}, {4, 3, 3, 3}, false, {1, 1}, {0, 0}, {1, 1}, false, {0, 0}, 1);
  ASSERT_TRUE(n.Lower(Decl("aten::_convolution"))) << n.error();
  EXPECT_FALSE(n.OutputOp()->Has("bias"));
  EXPECT_EQ(n.inferred().shape, (Shape{1, 4, 6, 6}));
}

TEST(ConvTest, Conv2dExpandsSingleValues) {
  t::FakeNode n("aten::conv2d");
  n.Add(t::Value::Tensor({1, 4, 10, 10})).Add(t::Value::ConstTensor({8, 2, 3, 3}));
  n.Add(t::Value::None()).Add(t::Value::Ints({2})).Add(t::Value::Ints({1}));
  n.Add(t::Value::Ints({1})).Add(t::Value::Int(2));
  ASSERT_TRUE(n.Lower(Decl("aten::conv2d"))) << n.error();
  EXPECT_EQ(n.inferred().shape, (Shape{1, 8, 5, 5}));
  EXPECT_EQ(n.ArgInts(*n.OutputOp(), "strides"), (Shape{2, 2}));
  EXPECT_EQ(n.ArgInts(*n.OutputOp(), "pad"), (Shape{1, 1, 1, 1}));
}

TEST(ConvTest, StringPaddingSamePutsOddPaddingAfter) {
  // kernel 4, dilation 1: total padding 3 -> 1 before, 2 after (PyTorch).
  t::FakeNode n("aten::conv2d.padding");
  n.Add(t::Value::Tensor({1, 2, 9, 9})).Add(t::Value::ConstTensor({3, 2, 4, 3}));
  n.Add(t::Value::None()).Add(t::Value::Ints({1, 1})).Add(t::Value::String("same"));
  n.Add(t::Value::Ints({1, 2})).Add(t::Value::Int(1));
  ASSERT_TRUE(n.Lower(Decl("aten::conv2d.padding"))) << n.error();
  EXPECT_EQ(n.inferred().shape, (Shape{1, 3, 9, 9}));
  // W: kernel 3 dilation 2 -> total 4 -> 2, 2.
  EXPECT_EQ(n.ArgInts(*n.OutputOp(), "pad"), (Shape{1, 2, 2, 2}));
}

TEST(ConvTest, StringPaddingValid) {
  t::FakeNode n("aten::conv1d.padding");
  n.Add(t::Value::Tensor({1, 2, 9})).Add(t::Value::ConstTensor({3, 2, 4}));
  n.Add(t::Value::None()).Add(t::Value::Ints({2})).Add(t::Value::String("valid"));
  n.Add(t::Value::Ints({1})).Add(t::Value::Int(1));
  ASSERT_TRUE(n.Lower(Decl("aten::conv1d.padding"))) << n.error();
  EXPECT_EQ(n.inferred().shape, (Shape{1, 3, 3}));
  EXPECT_EQ(n.ArgInts(*n.OutputOp(), "pad"), (Shape{0, 0}));
}

TEST(ConvTest, ConvolutionModeSameOn3dWithEvenKernel) {
  // aten::_convolution_mode: what F.conv3d(padding='same') traces to. Kernel 2 -> 0 before,
  // 1 after; kernel 4 dilation 2 -> total 6 -> 3, 3.
  t::FakeNode n("aten::_convolution_mode");
  n.Add(t::Value::Tensor({1, 4, 5, 6, 7})).Add(t::Value::ConstTensor({6, 2, 2, 4, 3}));
  n.Add(t::Value::ConstTensor({6})).Add(t::Value::Ints({1, 1, 1})).Add(t::Value::String("same"));
  n.Add(t::Value::Ints({1, 2, 1})).Add(t::Value::Int(2));
  ASSERT_TRUE(n.Lower(Decl("aten::_convolution_mode"))) << n.error();
  EXPECT_EQ(n.inferred().shape, (Shape{1, 6, 5, 6, 7}));
  EXPECT_EQ(n.ArgInts(*n.OutputOp(), "pad"), (Shape{0, 1, 3, 3, 1, 1}));
  EXPECT_EQ(n.ArgScalar(*n.OutputOp(), "groups"), 2);
}

TEST(ConvTest, SamePaddingWithStrideIsRefused) {
  t::FakeNode n("aten::conv2d.padding");
  n.Add(t::Value::Tensor({1, 2, 9, 9})).Add(t::Value::ConstTensor({3, 2, 3, 3}));
  n.Add(t::Value::None()).Add(t::Value::Ints({2, 2})).Add(t::Value::String("same"));
  n.Add(t::Value::Ints({1, 1})).Add(t::Value::Int(1));
  EXPECT_FALSE(n.Infer(Decl("aten::conv2d.padding")));
  EXPECT_NE(n.error().find("padding='same' needs stride 1"), std::string::npos) << n.error();
  // A parameter the lowering cannot express is the plugin's refusal, not an input error.
  EXPECT_EQ(n.last_status(), T2C_ERROR);
}

struct TransposeCase {
  Shape x, w;
  Shape stride, pad, dilation, output_padding;
  int64_t groups;
  Shape expected;  // (in-1)s - 2p + d(k-1) + op + 1
  Shape mil_pad;   // [p, p - op] per dim
};

TEST(ConvTest, TransposedOutputShapesAndPadding) {
  const std::vector<TransposeCase> cases = {
      {{1, 8, 5, 5}, {8, 4, 3, 3}, {2, 2}, {1, 1}, {1, 1}, {1, 1}, 1, {1, 4, 10, 10}, {1, 0, 1, 0}},
      {{1, 8, 5, 5}, {8, 4, 3, 3}, {2, 2}, {1, 1}, {1, 1}, {0, 0}, 1, {1, 4, 9, 9}, {1, 1, 1, 1}},
      {{1, 4, 7}, {4, 3, 4}, {3}, {2}, {1}, {2}, 2, {1, 6, 20}, {2, 0}},
      {{2, 6, 4, 3}, {6, 2, 3, 2}, {1, 2}, {0, 1}, {2, 1}, {0, 1}, 3, {2, 6, 8, 5}, {0, 0, 1, 0}},
  };
  for (const TransposeCase& c : cases) {
    t::FakeNode n =
        Convolution(c.x, c.w, true, c.stride, c.pad, c.dilation, true, c.output_padding, c.groups);
    ASSERT_TRUE(n.Lower(Decl("aten::_convolution"))) << n.error();
    EXPECT_EQ(n.inferred().shape, c.expected);
    const t::FakeOp* op = n.OutputOp();
    ASSERT_EQ(op->type, "conv_transpose");
    EXPECT_EQ(n.ArgInts(*op, "pad"), c.mil_pad);
    EXPECT_EQ(n.ArgString(*op, "pad_type"), "custom");
    EXPECT_EQ(n.ArgInts(*op, "strides"), c.stride);
    EXPECT_EQ(n.ArgInts(*op, "dilations"), c.dilation);
    EXPECT_EQ(n.ArgScalar(*op, "groups"), c.groups);
    EXPECT_FALSE(op->Has("output_shape"));
  }
}

TEST(ConvTest, ConvTranspose2dSchema) {
  t::FakeNode n("aten::conv_transpose2d.input");
  n.Add(t::Value::Tensor({1, 4, 6, 6})).Add(t::Value::ConstTensor({4, 2, 4, 4}));
  n.Add(t::Value::ConstTensor({2})).Add(t::Value::Ints({2, 2})).Add(t::Value::Ints({1, 1}));
  n.Add(t::Value::Ints({0, 0})).Add(t::Value::Int(1)).Add(t::Value::Ints({1, 1}));
  ASSERT_TRUE(n.Lower(Decl("aten::conv_transpose2d.input"))) << n.error();
  EXPECT_EQ(n.inferred().shape, (Shape{1, 2, 12, 12}));
}

TEST(ConvTest, OutputPaddingBeyondPaddingPadsThenAddsBias) {
  // H: padding 0, output_padding 1 -> full result 11 plus one row holding only the bias.
  // W: padding 1, output_padding 1 -> cropped inside the full result.
  t::FakeNode n =
      Convolution({1, 8, 5, 5}, {8, 4, 3, 3}, true, {2, 2}, {0, 1}, {1, 1}, true, {1, 1}, 1);
  ASSERT_TRUE(n.Lower(Decl("aten::_convolution"))) << n.error();
  EXPECT_EQ(n.inferred().shape, (Shape{1, 4, 12, 10}));
  EXPECT_EQ(n.op_types(), (std::vector<std::string>{"conv_transpose", "pad", "reshape", "add"}));
  const t::FakeOp* conv = n.FindOp("conv_transpose");
  EXPECT_EQ(n.ArgInts(*conv, "pad"), (Shape{0, 0, 1, 0}));
  EXPECT_EQ(conv->output_types[0].shape, (Shape{1, 4, 11, 10}));
  const std::vector<std::string> names = conv->ArgNames();
  EXPECT_EQ(std::count(names.begin(), names.end(), "bias"), 0);
  const t::FakeOp* pad = n.FindOp("pad");
  EXPECT_EQ(n.ArgInts(*pad, "pad"), (Shape{0, 0, 0, 0, 0, 1, 0, 0}));
  EXPECT_EQ(n.ArgString(*pad, "mode"), "constant");
  EXPECT_EQ(n.ArgScalar(*pad, "constant_val"), 0);
  EXPECT_EQ(n.ArgInts(*n.FindOp("reshape"), "shape"), (Shape{4, 1, 1}));
  EXPECT_EQ(n.ArgInputIndex(*n.FindOp("reshape"), "x"), 2);
  EXPECT_EQ(n.planned().shape, (Shape{1, 4, 12, 10}));
}

TEST(ConvTest, OutputPaddingBeyondPaddingWithoutBiasUnbatched) {
  t::FakeNode n("aten::conv_transpose1d");
  n.Add(t::Value::Tensor({4, 5})).Add(t::Value::ConstTensor({4, 2, 2})).Add(t::Value::None());
  n.Add(t::Value::Ints({3})).Add(t::Value::Ints({0})).Add(t::Value::Ints({2}));
  n.Add(t::Value::Int(1)).Add(t::Value::Ints({1}));
  ASSERT_TRUE(n.Lower(Decl("aten::conv_transpose1d"))) << n.error();
  // (5 - 1) * 3 + 2 = 14, plus 2.
  EXPECT_EQ(n.inferred().shape, (Shape{2, 16}));
  EXPECT_EQ(n.op_types(),
            (std::vector<std::string>{"expand_dims", "conv_transpose", "pad", "squeeze"}));
  EXPECT_EQ(n.ArgInts(*n.FindOp("pad"), "pad"), (Shape{0, 0, 0, 0, 0, 2}));
}

TEST(ConvTest, RuntimeWeightWithDilationIsRefused) {
  t::FakeNode n("aten::conv2d");
  n.Add(t::Value::Tensor({1, 2, 9, 9})).Add(t::Value::Tensor({3, 2, 3, 3}));
  n.Add(t::Value::None()).Add(t::Value::Ints({1, 1})).Add(t::Value::Ints({0, 0}));
  n.Add(t::Value::Ints({2, 2})).Add(t::Value::Int(1));
  EXPECT_FALSE(n.Lower(Decl("aten::conv2d")));
  EXPECT_NE(n.error().find("dilation [2, 2] with a runtime weight"), std::string::npos)
      << n.error();
}

TEST(ConvTest, ChannelMismatchIsRefused) {
  t::FakeNode n =
      Convolution({1, 6, 8, 8}, {4, 4, 3, 3}, false, {1, 1}, {0, 0}, {1, 1}, false, {0, 0}, 2);
  EXPECT_FALSE(n.Infer(Decl("aten::_convolution")));
  EXPECT_NE(n.error().find("input has 6 channels"), std::string::npos) << n.error();
  // The input does not fit the op: the core blames the input shapes, not the plugin.
  EXPECT_EQ(n.last_status(), T2C_ERROR_INVALID_INPUTS);
}

TEST(ConvTest, UnbatchedInputIsBatchedAroundConv) {
  t::FakeNode n("aten::conv2d");
  n.Add(t::Value::Tensor({3, 8, 8})).Add(t::Value::ConstTensor({4, 3, 3, 3}));
  n.Add(t::Value::None()).Add(t::Value::Ints({1, 1})).Add(t::Value::Ints({1, 1}));
  n.Add(t::Value::Ints({1, 1})).Add(t::Value::Int(1));
  ASSERT_TRUE(n.Lower(Decl("aten::conv2d"))) << n.error();
  EXPECT_EQ(n.inferred().shape, (Shape{4, 8, 8}));
  EXPECT_EQ(n.op_types(), (std::vector<std::string>{"expand_dims", "conv", "squeeze"}));
}

TEST(ConvTest, DeclarationsAreNativeWithTensorWeights) {
  for (const char* op : {"aten::_convolution", "aten::convolution", "aten::conv2d",
                         "aten::conv_transpose2d.input"}) {
    const t2c_lowering_decl& d = Decl(op);
    EXPECT_EQ(d.fp16_policy, T2C_FP16_NATIVE) << op;
    EXPECT_EQ(d.inputs[1].role, T2C_ROLE_TENSOR) << op;
    EXPECT_EQ(d.inputs[2].role, T2C_ROLE_TENSOR) << op;
    EXPECT_EQ(d.inputs[2].flags & T2C_INPUT_OPTIONAL, T2C_INPUT_OPTIONAL) << op;
  }
  EXPECT_EQ(Decl("aten::_convolution").num_inputs, 13u);
  EXPECT_EQ(Decl("aten::convolution").num_inputs, 9u);
}

}  // namespace
}  // namespace ts2coreml::plugins
