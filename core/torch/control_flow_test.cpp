#include "core/torch/control_flow.h"

#include <torch/script.h>

#include <memory>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "torch/csrc/jit/ir/irparser.h"

namespace ts2coreml::core {
namespace {

using ::testing::HasSubstr;

std::shared_ptr<torch::jit::Graph> Parse(const std::string& ir) {
  auto graph = std::make_shared<torch::jit::Graph>();
  torch::jit::parseIR(ir, graph.get());
  return graph;
}

int Count(const torch::jit::Graph& g, const std::string& kind) {
  int n = 0;
  for (const torch::jit::Node* node : g.nodes()) n += node->kind().toQualString() == kind;
  return n;
}

/// Runs `module`'s scripted forward through the pass with the given shape for its input.
std::shared_ptr<torch::jit::Graph> Folded(const std::string& source, std::vector<int64_t> shape) {
  torch::jit::Module m("m");
  m.define(source);
  auto graph = m.get_method("forward").graph()->copy();
  FoldStaticControlFlow(graph, {StaticInputType{shape}});
  return graph;
}

TEST(ControlFlowTest, FoldsShapeTestAndDropsTheRaisingBranch) {
  auto g = Folded(R"(
def forward(self, x):
    assert x.dim() == 4, "expected 4D input"
    return x + 1
)",
                  {1, 2, 3, 4});
  EXPECT_EQ(Count(*g, "prim::If"), 0);
  EXPECT_EQ(Count(*g, "prim::RaiseException"), 0);
  EXPECT_TRUE(RemainingControlFlowError(g).ok());
}

TEST(ControlFlowTest, RaiseOnEveryRunIsRefused) {
  auto g = Folded(R"(
def forward(self, x):
    assert x.dim() == 4, "expected 4D input"
    return x + 1
)",
                  {2, 3});
  EXPECT_THAT(RemainingControlFlowError(g).message(),
              HasSubstr("raises an exception for the given input shapes"));
}

TEST(ControlFlowTest, UnrollsLoopOverSizeWithConstantIndex) {
  auto g = Folded(R"(
def forward(self, x):
    y = x
    for i in range(x.size(-1)):
        y = y + i
    return y
)",
                  {2, 3});
  EXPECT_EQ(Count(*g, "prim::Loop"), 0);
  EXPECT_EQ(Count(*g, "aten::add"), 3);
}

TEST(ControlFlowTest, UnrollLimitIsInclusive) {
  auto at_limit = Folded(R"(
def forward(self, x):
    for i in range(32):
        x = x * 2
    return x
)",
                         {2});
  EXPECT_EQ(Count(*at_limit, "prim::Loop"), 0);
  EXPECT_EQ(Count(*at_limit, "aten::mul"), kMaxUnrolledTrips);
  auto over = Folded(R"(
def forward(self, x):
    for i in range(33):
        x = x * 2
    return x
)",
                     {2});
  EXPECT_EQ(Count(*over, "prim::Loop"), 1);  // left for a while_loop
  EXPECT_TRUE(RemainingControlFlowError(over).ok());
}

TEST(ControlFlowTest, WhileLoopOnIntCounterIsPeeledAway) {
  auto g = Folded(R"(
def forward(self, x):
    i = 0
    while i < x.size(0):
        x = x * 2
        i += 2
    return x
)",
                  {5});
  EXPECT_EQ(Count(*g, "prim::Loop"), 0);
  EXPECT_EQ(Count(*g, "aten::mul"), 3);  // i = 0, 2, 4
  EXPECT_TRUE(RemainingControlFlowError(g).ok());
}

TEST(ControlFlowTest, ForLoopWithBreakOnIndex) {
  auto g = Folded(R"(
def forward(self, x):
    for i in range(10):
        if i == 3:
            break
        x = x + i
    return x
)",
                  {5});
  EXPECT_EQ(Count(*g, "prim::Loop"), 0);
  EXPECT_EQ(Count(*g, "aten::add"), 3);
}

TEST(ControlFlowTest, WhileLoopPastTheLimitStaysALoop) {
  auto g = Folded(R"(
def forward(self, x):
    i = 0
    while i < 100:
        x = x * 2
        i += 1
    return x
)",
                  {5});
  EXPECT_EQ(Count(*g, "prim::Loop"), 1);  // 32 trips peeled, the rest a while_loop
  EXPECT_EQ(Count(*g, "aten::mul"), 32);
  EXPECT_TRUE(RemainingControlFlowError(g).ok());
}

TEST(ControlFlowTest, DataDependentBreakIsNotPeeled) {
  // Peeling a trip would not fold the exit (it reads tensor values) and the carried tensor keeps
  // its type: the loop stays whole, its body once.
  auto g = Folded(R"(
def forward(self, x):
    acc = x * 0.0
    for i in range(20):
        if bool(acc.sum() > 6.0):
            break
        acc = acc + torch.relu(x)
    return acc
)",
                  {2, 3});
  EXPECT_EQ(Count(*g, "prim::Loop"), 1);
  EXPECT_EQ(Count(*g, "aten::relu"), 0);  // only inside the loop's body
  EXPECT_TRUE(RemainingControlFlowError(g).ok());
}

TEST(ControlFlowTest, DataDependentBreakIsPeeledWhenACarriedTypeChanges) {
  // acc is float[1] before the loop and float[2, 3] after a trip: one trip is peeled so that
  // the while_loop carries one type.
  auto g = Folded(R"(
def forward(self, x):
    acc = torch.zeros([1])
    for i in range(20):
        acc = acc + torch.relu(x)
        if bool(acc.sum() > 6.0):
            break
    return acc
)",
                  {2, 3});
  EXPECT_EQ(Count(*g, "prim::Loop"), 1);
  EXPECT_EQ(Count(*g, "aten::relu"), 1);  // the peeled trip
}

TEST(ControlFlowTest, LoopCarryingAListIsRefused) {
  auto g = Folded(R"(
def forward(self, x):
    xs = [x]
    while bool(x.sum() < 10.0):
        x = x * 2
        xs = xs + [x]
    return xs[-1]
)",
                  {2});
  EXPECT_THAT(RemainingControlFlowError(g).message(),
              HasSubstr("which is not a tensor, bool or int; a while_loop carries tensors only"));
}

int CountIn(torch::jit::Block* block, const std::string& kind) {
  int n = 0;
  for (torch::jit::Node* node : block->nodes()) {
    n += node->kind().toQualString() == kind;
    for (torch::jit::Block* b : node->blocks()) n += CountIn(b, kind);
  }
  return n;
}

TEST(ControlFlowTest, AppendedListBecomesACarriedTensor) {
  auto g = Folded(R"(
def forward(self, x):
    outs = []
    for i in range(x.size(0)):
        outs.append(x[i] * 2)
    return torch.stack(outs, 1), torch.cat(outs)
)",
                  {40, 3});
  ASSERT_TRUE(RemainingControlFlowError(g).ok()) << RemainingControlFlowError(g).message();
  EXPECT_EQ(CountIn(g->block(), "aten::append"), 0);
  EXPECT_EQ(CountIn(g->block(), "prim::ListConstruct"), 0);
  EXPECT_EQ(CountIn(g->block(), "aten::select_scatter"), 1);  // in the body
  EXPECT_EQ(Count(*g, "aten::repeat_interleave"), 1);         // the peeled first trip's row
  EXPECT_EQ(Count(*g, "aten::movedim"), 1);                   // stack(outs, 1)
  EXPECT_EQ(Count(*g, "aten::flatten"), 1);                   // cat(outs)
  torch::jit::Node* loop = nullptr;
  for (torch::jit::Node* n : g->nodes()) {
    if (n->kind() == c10::prim::Loop) loop = n;
  }
  ASSERT_NE(loop, nullptr);
  EXPECT_EQ(torch::jit::toIValue(loop->input(0))->toInt(), 39);  // one trip peeled
}

TEST(ControlFlowTest, ListAppendedInADataDependentLoopIsRefusedByName) {
  auto g = Folded(R"(
def forward(self, x):
    outs = []
    while bool(x.sum() < 10.0):
        x = x * 2
        outs.append(x)
    return torch.stack(outs)
)",
                  {2});
  const std::string message(RemainingControlFlowError(g).message());
  EXPECT_THAT(message, HasSubstr("the list 'outs' appended by aten::append"));
  EXPECT_THAT(message, HasSubstr("its length depends on run-time tensor values"));
}

TEST(ControlFlowTest, ListAppendedInABranchOfTheLoopIsRefused) {
  auto g = Folded(R"(
def forward(self, x):
    outs = []
    for i in range(x.size(0)):
        if bool(x[i].sum() > 0):
            outs.append(x[i])
    return torch.stack(outs)
)",
                  {40, 3});
  EXPECT_THAT(RemainingControlFlowError(g).message(), HasSubstr("uses it inside a branch or loop"));
}

TEST(ControlFlowTest, AppendedListReadOtherwiseIsRefused) {
  auto g = Folded(R"(
def forward(self, x):
    outs = []
    for i in range(x.size(0)):
        outs.append(x[i] * 2)
    return outs[3]
)",
                  {40, 3});
  EXPECT_THAT(RemainingControlFlowError(g).message(),
              HasSubstr("after the loop only torch.stack and torch.cat of the whole list convert"));
}

TEST(ControlFlowTest, ListWrittenByConstantIndexCarriesItsElements) {
  auto g = Folded(R"(
def forward(self, x):
    hs = [x[0], x[1]]
    for t in range(x.size(0)):
        hs[1] = hs[0] + x[t]
        hs[0] = hs[1] * 2
    return torch.stack(hs)
)",
                  {40, 3});
  ASSERT_TRUE(RemainingControlFlowError(g).ok()) << RemainingControlFlowError(g).message();
  EXPECT_EQ(CountIn(g->block(), "aten::_set_item"), 0);
  EXPECT_EQ(CountIn(g->block(), "aten::__getitem__"), 0);
  torch::jit::Node* loop = nullptr;
  for (torch::jit::Node* n : g->nodes()) {
    if (n->kind() == c10::prim::Loop) loop = n;
  }
  ASSERT_NE(loop, nullptr);
  ASSERT_EQ(loop->outputs().size(), 2u);  // hs[0], hs[1]
  // The body yields hs[0] = (hs[0] + x[t]) * 2 and hs[1] = hs[0] + x[t].
  torch::jit::Block* body = loop->blocks()[0];
  EXPECT_EQ(body->outputs()[1]->node()->kind(), c10::aten::mul);
  EXPECT_EQ(body->outputs()[2]->node()->kind(), c10::aten::add);
  EXPECT_EQ(body->outputs()[2]->node()->input(0), body->inputs()[1]);
}

TEST(ControlFlowTest, ListWrittenByRunTimeIndexIsRefusedByName) {
  auto g = Folded(R"(
def forward(self, x):
    hs = [x[0], x[1]]
    for t in range(x.size(0)):
        hs[t % 2] = x[t]
    return torch.stack(hs)
)",
                  {40, 3});
  EXPECT_THAT(RemainingControlFlowError(g).message(),
              HasSubstr("indexes it by a value not known at conversion time"));
}

TEST(ControlFlowTest, ListChangedBeforeItsLoopIsRefused) {
  auto g = Folded(R"(
def forward(self, x):
    hs = [x[0], x[1]]
    hs.reverse()
    for t in range(x.size(0)):
        hs[1] = hs[0] + x[t]
    return torch.stack(hs)
)",
                  {40, 3});
  EXPECT_THAT(RemainingControlFlowError(g).message(), HasSubstr("changes it before the loop"));
}

// The raising branch becomes a guard (ts2coreml::raise_if once imported), which the converter's
// analysis refuses when its condition is a run-time value.
TEST(ControlFlowTest, RaiseInsideDataDependentBranchBecomesAGuard) {
  auto g = Folded(R"(
def forward(self, x):
    if bool(x.sum() > 0):
        y = x * 2
    else:
        assert False, "negative"
        y = x
    return y
)",
                  {2});
  EXPECT_TRUE(RemainingControlFlowError(g).ok());
  EXPECT_EQ(Count(*g, "prim::If"), 1);
  for (const torch::jit::Node* n : g->nodes()) {
    if (n->kind() == c10::prim::If) EXPECT_TRUE(AsGuard(n).has_value()) << *g;
  }
}

TEST(ControlFlowTest, DataDependentBranchStays) {
  auto g = Folded(R"(
def forward(self, x):
    if bool(x.sum() > 0):
        x = x * 2
    return x
)",
                  {2});
  EXPECT_EQ(Count(*g, "prim::If"), 1);  // left for a cond
  EXPECT_TRUE(RemainingControlFlowError(g).ok());
}

TEST(ControlFlowTest, FoldsDtypeNoneTestsAndDropsWarn) {
  auto g = Parse(R"IR(
graph(%self : Tensor, %x : Tensor):
  %none : NoneType = prim::Constant()
  %msg : str = prim::Constant[value="not float"]()
  %two : int = prim::Constant[value=2]()
  %six : int = prim::Constant[value=6]()
  %d : int = prim::dtype(%x)
  %ne : bool = aten::ne(%d, %six)
  %isn : bool = aten::__isnot__(%x, %none)
  %c : bool = aten::__and__(%ne, %isn)
  %y : Tensor = prim::If(%c)
    block0():
      aten::warn(%msg, %two)
      %z : Tensor = aten::neg(%x)
      -> (%z)
    block1():
      -> (%x)
  return (%y)
)IR");
  FoldStaticControlFlow(g, {StaticInputType{{3}}});
  EXPECT_EQ(Count(*g, "prim::If"), 0);
  EXPECT_EQ(Count(*g, "aten::neg"), 0);  // float32 input: the branch is not taken
  EXPECT_EQ(Count(*g, "aten::warn"), 0);
  EXPECT_TRUE(RemainingControlFlowError(g).ok());
}

TEST(ControlFlowTest, DtypeTestFollowsTheInputDtype) {
  const std::string source = R"(
def forward(self, x):
    if x.dtype == 3:  # torch.int32
        x = x + 1
    return x
)";
  torch::jit::Module m("m");
  m.define(source);
  auto as_int = m.get_method("forward").graph()->copy();
  FoldStaticControlFlow(as_int, {StaticInputType{{2}, c10::ScalarType::Int}});
  EXPECT_EQ(Count(*as_int, "prim::If"), 0);
  EXPECT_EQ(Count(*as_int, "aten::add"), 1);
  auto as_float = m.get_method("forward").graph()->copy();
  FoldStaticControlFlow(as_float, {StaticInputType{{2}}});
  EXPECT_EQ(Count(*as_float, "prim::If"), 0);
  EXPECT_EQ(Count(*as_float, "aten::add"), 0);
}

TEST(ControlFlowTest, AppendAfterConstructionBecomesOneList) {
  auto g = Folded(R"(
def forward(self, x):
    features = [x]
    for i in range(2):
        features.append(x * 2)
    return torch.cat(features, 0)
)",
                  {2});
  EXPECT_EQ(Count(*g, "aten::append"), 0);
  EXPECT_EQ(Count(*g, "prim::ListConstruct"), 1);
}

TEST(ControlFlowTest, UnknownInputShapeLeavesShapeBranches) {
  auto g = Parse(R"IR(
graph(%self : Tensor, %x : Tensor):
  %four : int = prim::Constant[value=4]()
  %d : int = aten::dim(%x)
  %c : bool = aten::eq(%d, %four)
  %y : Tensor = prim::If(%c)
    block0():
      %z : Tensor = aten::neg(%x)
      -> (%z)
    block1():
      -> (%x)
  return (%y)
)IR");
  FoldStaticControlFlow(g, {std::nullopt});
  EXPECT_EQ(Count(*g, "prim::If"), 1);
}

}  // namespace
}  // namespace ts2coreml::core
