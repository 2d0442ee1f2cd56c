/// Tests of linalg_inv: the unrolled elimination's steps per column, batch dims,
/// FP32 compute, and the refusals (not square, too large).
#include "matmul/inverse_lowering.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "matmul/matmul_lowerings.h"
#include "sdk/testing/fake_host.h"

namespace ts2coreml::plugins {
namespace {

namespace t = sdk::testing;
using Shape = std::vector<int64_t>;
using Ops = std::vector<std::string>;

const t2c_lowering_decl& Decl(const std::string& op) {
  const t2c_lowering_decl* d = t::FindDecl(MatmulPluginInfo(), op);
  EXPECT_NE(d, nullptr) << op;
  return *d;
}

size_t Count(const Ops& ops, const std::string& op) {
  return static_cast<size_t>(std::count(ops.begin(), ops.end(), op));
}

TEST(InverseTest, PivotsEveryColumnButTheLast) {
  for (const char* op : {"aten::linalg_inv"}) {
    t::FakeNode n(op);
    n.Add(t::Value::Tensor({2, 3, 3}));
    ASSERT_TRUE(n.Lower(Decl(op))) << n.error();
    const Ops ops = n.op_types();
    // Two pivot searches (columns 0 and 1), three eliminations.
    EXPECT_EQ(Count(ops, "reduce_argmax"), 2u) << op;
    EXPECT_EQ(Count(ops, "real_div"), 3u) << op;
    // Per pivot: d d^T, then P A and P (the first product); per elimination u e_k^T and E A
    // (none after the last), and E times the product so far.
    EXPECT_EQ(Count(ops, "matmul"), 2u * 3u + 3u * 3u - 1u - 1u) << op;
    EXPECT_EQ(n.OutputOp(0)->type, "matmul") << op;
    EXPECT_EQ(n.OutputOp(0)->output_types[0].shape, (Shape{2, 3, 3})) << op;
  }
  EXPECT_EQ(Decl("aten::linalg_inv").fp16_policy, T2C_FP16_NEEDS_FP32_COMPUTE);
}

TEST(InverseTest, OneByOneIsAReciprocalStep) {
  t::FakeNode n("aten::linalg_inv");
  n.Add(t::Value::Tensor({4, 1, 1}));
  ASSERT_TRUE(n.Lower(Decl("aten::linalg_inv"))) << n.error();
  EXPECT_EQ(Count(n.op_types(), "reduce_argmax"), 0u);
  EXPECT_EQ(n.OutputOp(0)->type, "sub");
}

TEST(InverseTest, RefusesNonSquareAndTooLargeMatrices) {
  t::FakeNode rect("aten::linalg_inv");
  rect.Add(t::Value::Tensor({3, 4}));
  EXPECT_FALSE(rect.Infer(Decl("aten::linalg_inv")));
  EXPECT_NE(rect.error().find("A must be a batch of square matrices, got [3, 4]"),
            std::string::npos)
      << rect.error();
  t::FakeNode big("aten::linalg_inv");
  big.Add(t::Value::Tensor({17, 17}));
  EXPECT_FALSE(big.Infer(Decl("aten::linalg_inv")));
  EXPECT_NE(big.error().find("a 17x17 matrix is not converted: Core ML has no matrix inverse"),
            std::string::npos)
      << big.error();
}

}  // namespace
}  // namespace ts2coreml::plugins
