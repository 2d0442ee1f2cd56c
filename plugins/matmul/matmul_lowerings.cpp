/// Built-in lowerings of matrix products. Every product becomes MIL matmul (batch dimensions
/// broadcast as in numpy); rank-1 operands are reshaped to rank 2 first and the result reshaped
/// back, so the MIL op never sees PyTorch's 1-D promotion rules. einsum is planned on the host
/// into reduce_sum, transpose, reshape and one batched matmul per pair of operands.
#include "matmul/matmul_lowerings.h"

#include <algorithm>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "common/lowering_table.h"
#include "common/lowering_util.h"
#include "common/mil_emit.h"
#include "matmul/inverse_lowering.h"
#include "ts2coreml/broadcast.h"
#include "ts2coreml/sdk.h"

namespace ts2coreml::plugins {
namespace {

/// The dtype of a product of `a` and `b`: FP32 for floats, INT32 for ints; mixed is an error.
Expected<t2c_dtype> ProductDtype(const NodeView& ctx, const TensorType& a, const TensorType& b) {
  if (a.is_float() != b.is_float()) {
    return ctx.Error(
        ctx.kind() +
        ": operands have different dtypes (one float, one integer); PyTorch refuses this too");
  }
  return a.is_float() ? T2C_DTYPE_FP32 : T2C_DTYPE_INT32;
}

/// torch.matmul's result shape for operands of rank >= 1.
Expected<std::vector<int64_t>> MatmulResultShape(const NodeView& ctx, const std::vector<int64_t>& a,
                                                 const std::vector<int64_t>& b) {
  const std::string op = ctx.kind();
  if (a.empty() || b.empty()) {
    return ctx.Error(op + ": both operands need at least one dimension (got " + FormatInts(a) +
                     " and " + FormatInts(b) + ")");
  }
  std::vector<int64_t> x = a.size() == 1 ? std::vector<int64_t>{1, a[0]} : a;
  std::vector<int64_t> y = b.size() == 1 ? std::vector<int64_t>{b[0], 1} : b;
  std::vector<int64_t> out;
  if (!MatmulShape(x, y, false, false, &out)) {
    return ctx.InvalidInputs(op + ": shapes " + FormatInts(a) + " and " + FormatInts(b) +
                             " cannot be multiplied (inner dimensions or batch dimensions differ)");
  }
  // Remove the dimensions 1-D promotion added.
  if (b.size() == 1) out.erase(out.end() - 1);
  if (a.size() == 1) out.erase(out.end() - (b.size() == 1 ? 1 : 2));
  return out;
}

/// Emits torch.matmul(a, b) with the output type `out`.
Expected<Var> EmitTorchMatmul(const LowerContext& ctx, Var a, Var b, const TensorType& out) {
  TS2COREML_ASSIGN_OR_RETURN(TensorType ta, ctx.TypeOf(a));
  TS2COREML_ASSIGN_OR_RETURN(TensorType tb, ctx.TypeOf(b));
  if (ta.rank() == 1) {
    TS2COREML_ASSIGN_OR_RETURN(a, EmitReshape(ctx, a, {1, ta.shape[0]}));
  }
  if (tb.rank() == 1) {
    TS2COREML_ASSIGN_OR_RETURN(b, EmitReshape(ctx, b, {tb.shape[0], 1}));
  }
  TS2COREML_ASSIGN_OR_RETURN(Var y, EmitMatmul(ctx, a, b, false, false));
  return EmitReshape(ctx, y, out.shape);
}

// --- matmul, mm, bmm ----------------------------------------------------------------------------

/// Checks the operand ranks the op requires (0 = any rank >= 1).
Status CheckRanks(const NodeView& ctx, const TensorType& a, const TensorType& b, int64_t rank) {
  if (rank == 0) return Status::Ok();
  if (a.rank() != rank || b.rank() != rank) {
    return ctx.Error(ctx.kind() + ": expects two rank-" + std::to_string(rank) + " operands, got " +
                     FormatInts(a.shape) + " and " + FormatInts(b.shape));
  }
  if (rank == 3 && a.shape[0] != b.shape[0]) {
    return ctx.InvalidInputs(ctx.kind() + ": batch sizes differ (" + FormatInts(a.shape) + " and " +
                             FormatInts(b.shape) + "); bmm does not broadcast");
  }
  return Status::Ok();
}

constexpr t2c_input_decl kProductInputs[] = {sdk::Tensor("self", T2C_MASK_FLOAT_INT),
                                             sdk::Tensor("other", T2C_MASK_FLOAT_INT)};
constexpr uint32_t kProductSelf = sdk::InputIndex(kProductInputs, "self");
constexpr uint32_t kProductOther = sdk::InputIndex(kProductInputs, "other");

/// The type of the product of `a` and `b` (operands of rank `rank`, 0 = any rank >= 1).
Expected<TensorType> ProductType(const NodeView& ctx, const TensorType& a, const TensorType& b,
                                 int64_t rank) {
  TS2COREML_RETURN_IF_ERROR(CheckRanks(ctx, a, b, rank));
  TS2COREML_ASSIGN_OR_RETURN(t2c_dtype dtype, ProductDtype(ctx, a, b));
  TS2COREML_ASSIGN_OR_RETURN(std::vector<int64_t> shape, MatmulResultShape(ctx, a.shape, b.shape));
  return TensorType(dtype, shape);
}

template <int64_t kRank>
Status InferProduct(InferContext& ctx) {
  TS2COREML_ASSIGN_OR_RETURN(TensorType a, ctx.InputType(kProductSelf));
  TS2COREML_ASSIGN_OR_RETURN(TensorType b, ctx.InputType(kProductOther));
  TS2COREML_ASSIGN_OR_RETURN(TensorType out, ProductType(ctx, a, b, kRank));
  return ctx.SetOutputType(0, out);
}

Status LowerProduct(LowerContext& ctx) {
  TS2COREML_ASSIGN_OR_RETURN(TensorType out, ctx.OutputType(0));
  TS2COREML_ASSIGN_OR_RETURN(Var a, ctx.Input(kProductSelf));
  TS2COREML_ASSIGN_OR_RETURN(Var b, ctx.Input(kProductOther));
  TS2COREML_ASSIGN_OR_RETURN(Var y, EmitTorchMatmul(ctx, a, b, out));
  return ctx.SetOutput(0, y);
}

// --- mv, dot, outer and the add* products' variants
// -----------------------------------------------

/// The products beyond torch.matmul's rules: mv (matrix x vector), outer (vector x vector as a
/// matrix), dot (vector x vector as a scalar) and addbmm's sum of batched products.
enum class Variant { kMv, kOuter, kDot, kSumBmm };

Expected<TensorType> VariantType(const NodeView& ctx, const TensorType& a, const TensorType& b,
                                 Variant v) {
  TS2COREML_ASSIGN_OR_RETURN(t2c_dtype dtype, ProductDtype(ctx, a, b));
  const std::string op = ctx.kind();
  const std::string got = FormatInts(a.shape) + " and " + FormatInts(b.shape);
  switch (v) {
    case Variant::kMv:
      if (a.rank() != 2 || b.rank() != 1 || a.shape[1] != b.shape[0]) {
        return ctx.InvalidInputs(op + ": expects a [n, m] matrix and an [m] vector, got " + got);
      }
      return TensorType(dtype, {a.shape[0]});
    case Variant::kOuter:
      if (a.rank() != 1 || b.rank() != 1) {
        return ctx.InvalidInputs(op + ": expects two vectors, got " + got);
      }
      return TensorType(dtype, {a.shape[0], b.shape[0]});
    case Variant::kDot:
      if (a.rank() != 1 || b.rank() != 1 || a.shape[0] != b.shape[0]) {
        return ctx.InvalidInputs(op + ": expects two vectors of one length, got " + got);
      }
      return TensorType(dtype, {});
    case Variant::kSumBmm:
      if (a.rank() != 3 || b.rank() != 3 || a.shape[0] != b.shape[0] || a.shape[2] != b.shape[1]) {
        return ctx.InvalidInputs(op + ": expects [b, n, m] and [b, m, p] batches, got " + got);
      }
      return TensorType(dtype, {a.shape[1], b.shape[2]});
  }
  return ctx.Error(op + ": unknown product");
}

Expected<Var> EmitVariant(const LowerContext& ctx, Var a, Var b, const TensorType& out, Variant v) {
  TS2COREML_ASSIGN_OR_RETURN(TensorType ta, ctx.TypeOf(a));
  TS2COREML_ASSIGN_OR_RETURN(TensorType tb, ctx.TypeOf(b));
  if (v == Variant::kOuter) {
    TS2COREML_ASSIGN_OR_RETURN(a, EmitReshape(ctx, a, {ta.shape[0], 1}));
    TS2COREML_ASSIGN_OR_RETURN(b, EmitReshape(ctx, b, {1, tb.shape[0]}));
    return EmitMatmul(ctx, a, b, false, false);
  }
  if (v == Variant::kSumBmm) {
    TS2COREML_ASSIGN_OR_RETURN(Var y, EmitMatmul(ctx, a, b, false, false));
    return EmitReduce(ctx, "reduce_sum", y, {0}, /*keep_dims=*/false);
  }
  return EmitTorchMatmul(ctx, a, b, out);
}

template <Variant kVariant>
Status InferVariant(InferContext& ctx) {
  TS2COREML_ASSIGN_OR_RETURN(TensorType a, ctx.InputType(kProductSelf));
  TS2COREML_ASSIGN_OR_RETURN(TensorType b, ctx.InputType(kProductOther));
  TS2COREML_ASSIGN_OR_RETURN(TensorType out, VariantType(ctx, a, b, kVariant));
  return ctx.SetOutputType(0, out);
}

template <Variant kVariant>
Status LowerVariant(LowerContext& ctx) {
  TS2COREML_ASSIGN_OR_RETURN(TensorType out, ctx.OutputType(0));
  TS2COREML_ASSIGN_OR_RETURN(Var a, ctx.Input(kProductSelf));
  TS2COREML_ASSIGN_OR_RETURN(Var b, ctx.Input(kProductOther));
  TS2COREML_ASSIGN_OR_RETURN(Var y, EmitVariant(ctx, a, b, out, kVariant));
  return ctx.SetOutput(0, y);
}

// --- addmm, baddbmm, addmv, addr, addbmm: beta * self + alpha * product(mat1, mat2) ---------

constexpr t2c_input_decl kAddProductInputs[] = {
    sdk::Tensor("self", T2C_MASK_FLOAT_INT), sdk::Tensor("mat1", T2C_MASK_FLOAT_INT),
    sdk::Tensor("mat2", T2C_MASK_FLOAT_INT), sdk::Host("beta"), sdk::Host("alpha")};
constexpr uint32_t kAddProductSelf = sdk::InputIndex(kAddProductInputs, "self");
constexpr uint32_t kAddProductMat1 = sdk::InputIndex(kAddProductInputs, "mat1");
constexpr uint32_t kAddProductMat2 = sdk::InputIndex(kAddProductInputs, "mat2");
constexpr uint32_t kAddProductBeta = sdk::InputIndex(kAddProductInputs, "beta");
constexpr uint32_t kAddProductAlpha = sdk::InputIndex(kAddProductInputs, "alpha");

/// The product of an add* op: kRank > 0 is mm/bmm's operand rank, kRank < 0 names a Variant
/// (-1 - variant).
template <int64_t kRank>
Expected<TensorType> AddProductType(const NodeView& ctx, const TensorType& a, const TensorType& b) {
  if (kRank > 0) return ProductType(ctx, a, b, kRank);
  return VariantType(ctx, a, b, static_cast<Variant>(-1 - kRank));
}

template <int64_t kRank>
Status InferAddProduct(InferContext& ctx) {
  TS2COREML_ASSIGN_OR_RETURN(TensorType self, ctx.InputType(kAddProductSelf));
  TS2COREML_ASSIGN_OR_RETURN(TensorType a, ctx.InputType(kAddProductMat1));
  TS2COREML_ASSIGN_OR_RETURN(TensorType b, ctx.InputType(kAddProductMat2));
  TS2COREML_ASSIGN_OR_RETURN(TensorType out, AddProductType<kRank>(ctx, a, b));
  std::vector<int64_t> broadcast;
  if (!sdk::BroadcastShapes(self.shape, out.shape, &broadcast) || broadcast != out.shape) {
    return ctx.InvalidInputs(ctx.kind() + ": self " + FormatInts(self.shape) +
                             " does not broadcast to the product's shape " + FormatInts(out.shape));
  }
  TS2COREML_ASSIGN_OR_RETURN(double beta, ctx.Float(kAddProductBeta));
  TS2COREML_ASSIGN_OR_RETURN(double alpha, ctx.Float(kAddProductAlpha));
  if (out.dtype == T2C_DTYPE_INT32 &&
      (beta != static_cast<int64_t>(beta) || alpha != static_cast<int64_t>(alpha))) {
    return ctx.Error(ctx.kind() + ": integer operands need integral beta and alpha");
  }
  return ctx.SetOutputType(0, out);
}

template <int64_t kRank>
Status LowerAddProduct(LowerContext& ctx) {
  TS2COREML_ASSIGN_OR_RETURN(TensorType out, ctx.OutputType(0));
  TS2COREML_ASSIGN_OR_RETURN(double beta, ctx.Float(kAddProductBeta));
  TS2COREML_ASSIGN_OR_RETURN(double alpha, ctx.Float(kAddProductAlpha));
  TS2COREML_ASSIGN_OR_RETURN(Var a, ctx.Input(kAddProductMat1));
  TS2COREML_ASSIGN_OR_RETURN(Var b, ctx.Input(kAddProductMat2));
  Var y;
  if (kRank > 0) {
    TS2COREML_ASSIGN_OR_RETURN(y, EmitTorchMatmul(ctx, a, b, out));
  } else {
    TS2COREML_ASSIGN_OR_RETURN(y, EmitVariant(ctx, a, b, out, static_cast<Variant>(-1 - kRank)));
  }
  if (alpha != 1.0) {
    TS2COREML_ASSIGN_OR_RETURN(Var alpha_var, ScalarLike(ctx, out.dtype, alpha));
    TS2COREML_ASSIGN_OR_RETURN(y, EmitBinary(ctx, "mul", y, alpha_var));
  }
  // PyTorch ignores self when beta is 0 (NaN and inf in it do not propagate).
  if (beta != 0.0) {
    TS2COREML_ASSIGN_OR_RETURN(Var self, ctx.Input(kAddProductSelf));
    if (beta != 1.0) {
      TS2COREML_ASSIGN_OR_RETURN(Var beta_var, ScalarLike(ctx, out.dtype, beta));
      TS2COREML_ASSIGN_OR_RETURN(self, EmitBinary(ctx, "mul", self, beta_var));
    }
    TS2COREML_ASSIGN_OR_RETURN(y, EmitBinary(ctx, "add", self, y));
  }
  if (y.id == 0) return ctx.Error(ctx.kind() + ": internal error, no result");
  return ctx.SetOutput(0, y);
}

// --- einsum --------------------------------------------------------------------------------------

constexpr t2c_input_decl kEinsumInputs[] = {sdk::Host("equation"), sdk::TensorList("tensors"),
                                            sdk::Ignored("path")};
constexpr uint32_t kEinsumEquation = sdk::InputIndex(kEinsumInputs, "equation");
constexpr uint32_t kEinsumTensors = sdk::InputIndex(kEinsumInputs, "tensors");

/// Subscript labels: 'A'..'Z' are 0..25, 'a'..'z' are 26..51 (ASCII order, as PyTorch sorts the
/// implicit output); ellipsis dimensions are 52 + their right-aligned position.
constexpr int kEllipsisBase = 52;
using Labels = std::vector<int>;

/// A parsed einsum equation resolved against operand shapes.
struct EinsumPlan {
  std::vector<Labels> terms;
  Labels output;
  std::map<int, int64_t> sizes;
};

std::string LabelName(int label) {
  if (label >= kEllipsisBase) return "...(" + std::to_string(label - kEllipsisBase) + ")";
  return std::string(1, static_cast<char>(label < 26 ? 'A' + label : 'a' + (label - 26)));
}

/// Parses one side of the equation into labels and whether it holds an ellipsis.
Expected<Labels> ParseTerm(const NodeView& ctx, const std::string& term, int64_t rank,
                           int64_t ellipsis_rank, bool* has_ellipsis) {
  Labels explicit_labels;
  int ellipsis_at = -1;
  for (size_t i = 0; i < term.size(); ++i) {
    const char c = term[i];
    if (c == '.') {
      if (term.compare(i, 3, "...") != 0 || ellipsis_at >= 0) {
        return ctx.Error("einsum: malformed ellipsis in subscripts '" + term + "'");
      }
      ellipsis_at = static_cast<int>(explicit_labels.size());
      i += 2;
    } else if (c >= 'A' && c <= 'Z') {
      explicit_labels.push_back(c - 'A');
    } else if (c >= 'a' && c <= 'z') {
      explicit_labels.push_back(26 + (c - 'a'));
    } else {
      return ctx.Error(std::string("einsum: invalid subscript '") + c + "' in '" + term + "'");
    }
  }
  *has_ellipsis = ellipsis_at >= 0;
  // An operand's ellipsis covers its remaining dimensions; the output's covers them all.
  const int64_t covered =
      rank < 0 ? ellipsis_rank : rank - static_cast<int64_t>(explicit_labels.size());
  if (rank >= 0 && (covered < 0 || (ellipsis_at < 0 && covered != 0))) {
    return ctx.Error("einsum: subscripts '" + term + "' do not match an operand of rank " +
                     std::to_string(rank));
  }
  if (ellipsis_at < 0) return explicit_labels;
  Labels labels(explicit_labels.begin(), explicit_labels.begin() + ellipsis_at);
  for (int64_t j = 0; j < covered; ++j) {
    labels.push_back(kEllipsisBase + static_cast<int>(ellipsis_rank - covered + j));
  }
  labels.insert(labels.end(), explicit_labels.begin() + ellipsis_at, explicit_labels.end());
  return labels;
}

/// The operand subscripts of the equation's left side `lhs` ("ij,jk" -> {"ij", "jk"}).
std::vector<std::string> SplitTerms(const std::string& lhs) {
  std::vector<std::string> terms;
  for (size_t start = 0;;) {
    const size_t comma = lhs.find(',', start);
    terms.push_back(lhs.substr(start, comma - start));
    if (comma == std::string::npos) return terms;
    start = comma + 1;
  }
}

/// The number of dimensions the ellipsis covers: the most any operand gives it.
int64_t EllipsisRank(const std::vector<std::string>& terms,
                     const std::vector<TensorType>& operands) {
  int64_t ellipsis_rank = 0;
  for (size_t k = 0; k < terms.size(); ++k) {
    int64_t letters = 0;
    for (char c : terms[k]) letters += c != '.' ? 1 : 0;
    if (terms[k].find("...") != std::string::npos) {
      ellipsis_rank = std::max(ellipsis_rank, operands[k].rank() - letters);
    }
  }
  return ellipsis_rank;
}

/// Records the sizes of one operand's subscripts in `plan` and counts their uses; a subscript of
/// size 1 broadcasts against the others, as in PyTorch.
Status AddTermSizes(const NodeView& ctx, const std::string& equation, const Labels& labels,
                    const TensorType& operand, EinsumPlan* plan, std::map<int, int>* counts) {
  for (size_t d = 0; d < labels.size(); ++d) {
    const int l = labels[d];
    const int64_t size = operand.shape[d];
    auto it = plan->sizes.find(l);
    if (it != plan->sizes.end() && (it->second == 1 || size == 1)) {
      it->second = std::max(it->second, size);
    } else if (it != plan->sizes.end() && it->second != size) {
      return ctx.InvalidInputs("einsum: subscript '" + LabelName(l) + "' has sizes " +
                               std::to_string(it->second) + " and " + std::to_string(size) +
                               " in '" + equation + "'; broadcasting a subscript is not supported");
    } else {
      plan->sizes[l] = size;
    }
    ++(*counts)[l];
  }
  return Status::Ok();
}

/// The output subscripts: the explicit right side `rhs` when the equation has one, else the
/// ellipsis dimensions, then the subscripts used once, sorted.
Status PlanOutput(const NodeView& ctx, const std::string& equation, const std::string* rhs,
                  int64_t ellipsis_rank, const std::map<int, int>& counts, EinsumPlan* plan) {
  if (rhs == nullptr) {
    for (int64_t j = 0; j < ellipsis_rank; ++j) plan->output.push_back(kEllipsisBase + int(j));
    for (const auto& [label, count] : counts) {
      if (label < kEllipsisBase && count == 1) plan->output.push_back(label);
    }
    return Status::Ok();
  }
  bool has_ellipsis = false;
  TS2COREML_ASSIGN_OR_RETURN(plan->output, ParseTerm(ctx, *rhs, -1, ellipsis_rank, &has_ellipsis));
  for (int l : plan->output) {
    if (std::count(plan->output.begin(), plan->output.end(), l) > 1 || plan->sizes.count(l) == 0) {
      return ctx.Error("einsum: output subscript '" + LabelName(l) + "' of '" + equation +
                       "' repeats or appears in no operand");
    }
  }
  return Status::Ok();
}

/// Parses the equation against the operands' shapes: each operand's subscripts, their sizes and
/// the output's subscripts.
Expected<EinsumPlan> PlanEinsum(const NodeView& ctx, const std::vector<TensorType>& operands) {
  TS2COREML_ASSIGN_OR_RETURN(std::string equation, ctx.String(kEinsumEquation));
  std::string eq;
  for (char c : equation) {
    if (c != ' ') eq += c;
  }
  const size_t arrow = eq.find("->");
  const std::vector<std::string> terms = SplitTerms(eq.substr(0, arrow));
  if (terms.size() != operands.size()) {
    return ctx.Error("einsum: equation '" + equation + "' has " + std::to_string(terms.size()) +
                     " operand subscripts but " + std::to_string(operands.size()) +
                     " tensors were given");
  }
  if (operands.empty()) return ctx.Error("einsum: no operands");
  const int64_t ellipsis_rank = EllipsisRank(terms, operands);
  EinsumPlan plan;
  std::map<int, int> counts;
  for (size_t k = 0; k < terms.size(); ++k) {
    bool has_ellipsis = false;
    TS2COREML_ASSIGN_OR_RETURN(
        Labels labels, ParseTerm(ctx, terms[k], operands[k].rank(), ellipsis_rank, &has_ellipsis));
    TS2COREML_RETURN_IF_ERROR(AddTermSizes(ctx, equation, labels, operands[k], &plan, &counts));
    plan.terms.push_back(std::move(labels));
  }
  const std::string rhs = arrow == std::string::npos ? "" : eq.substr(arrow + 2);
  TS2COREML_RETURN_IF_ERROR(PlanOutput(ctx, equation, arrow == std::string::npos ? nullptr : &rhs,
                                       ellipsis_rank, counts, &plan));
  return plan;
}

std::vector<TensorType> EinsumOperandTypes(const NodeView& ctx, uint32_t n) {
  std::vector<TensorType> types;
  for (uint32_t k = 0; k < n; ++k) {
    auto t = ctx.ListType(kEinsumTensors, k);
    types.push_back(t.ok() ? t.value() : TensorType());
  }
  return types;
}

Status InferEinsum(InferContext& ctx) {
  TS2COREML_ASSIGN_OR_RETURN(uint32_t n, ctx.ListSize(kEinsumTensors));
  const std::vector<TensorType> operands = EinsumOperandTypes(ctx, n);
  TS2COREML_ASSIGN_OR_RETURN(EinsumPlan plan, PlanEinsum(ctx, operands));
  std::vector<int64_t> shape;
  for (int l : plan.output) shape.push_back(plan.sizes[l]);
  return ctx.SetOutputType(0, TensorType(T2C_DTYPE_FP32, shape));
}

/// A var and the subscript of each of its dimensions.
struct Labeled {
  Var var;
  Labels labels;
};

bool Contains(const Labels& labels, int l) {
  return std::find(labels.begin(), labels.end(), l) != labels.end();
}

/// Sums the dimensions of `x` whose labels are not in `keep`.
Expected<Labeled> SumOut(const LowerContext& ctx, Labeled x, const Labels& keep) {
  std::vector<int64_t> axes;
  Labels rest;
  for (size_t d = 0; d < x.labels.size(); ++d) {
    if (Contains(keep, x.labels[d])) {
      rest.push_back(x.labels[d]);
    } else {
      axes.push_back(static_cast<int64_t>(d));
    }
  }
  if (axes.empty()) return x;
  TS2COREML_ASSIGN_OR_RETURN(Var y, EmitReduce(ctx, "reduce_sum", x.var, axes, false));
  return Labeled{y, rest};
}

/// `x` tiled along its size-1 dims whose subscript has another size elsewhere (broadcasting).
Expected<Var> BroadcastLabels(const LowerContext& ctx, Var x, const Labels& labels,
                              const std::map<int, int64_t>& sizes) {
  TS2COREML_ASSIGN_OR_RETURN(TensorType t, ctx.TypeOf(x));
  std::vector<int64_t> reps;
  bool any = false;
  for (size_t d = 0; d < labels.size(); ++d) {
    reps.push_back(t.shape[d] == 1 ? sizes.at(labels[d]) : 1);
    any |= reps.back() != 1;
    t.shape[d] *= reps.back();
  }
  if (!any) return x;
  TS2COREML_ASSIGN_OR_RETURN(Var reps_var, ctx.ConstInts(reps));
  return ctx.Emit1("tile", {{"x", x}, {"reps", reps_var}}, t);
}

/// Slices every (n+1)-th element along `axis` of `x` (an axis of n*n elements): the diagonal.
Expected<Var> EmitStridedAxis(const LowerContext& ctx, Var x, size_t axis, int64_t n) {
  TS2COREML_ASSIGN_OR_RETURN(TensorType t, ctx.TypeOf(x));
  std::vector<int64_t> begin(t.shape.size(), 0), stride(t.shape.size(), 1);
  stride[axis] = n + 1;
  TS2COREML_ASSIGN_OR_RETURN(Var begin_var, ctx.ConstInts(begin));
  TS2COREML_ASSIGN_OR_RETURN(Var end_var, ctx.ConstInts(t.shape));
  TS2COREML_ASSIGN_OR_RETURN(Var stride_var, ctx.ConstInts(stride));
  t.shape[axis] = n;
  return ctx.Emit1("slice_by_index",
                   {{"x", x}, {"begin", begin_var}, {"end", end_var}, {"stride", stride_var}}, t);
}

/// `x` with each subscript it repeats reduced to its diagonal ("ii->i"), as PyTorch does before
/// contracting: the repeat's axis is moved next to the first, the two are merged into one axis of
/// n*n elements, and every (n+1)-th of them is kept (exact for every value and dtype).
Expected<Labeled> TakeDiagonals(const LowerContext& ctx, Labeled x,
                                const std::map<int, int64_t>& sizes) {
  for (;;) {
    size_t first = 0, repeat = 0;
    for (size_t i = 0; i < x.labels.size() && repeat == 0; ++i) {
      const auto it = std::find(x.labels.begin() + i + 1, x.labels.end(), x.labels[i]);
      if (it != x.labels.end()) {
        first = i;
        repeat = static_cast<size_t>(it - x.labels.begin());
      }
    }
    if (repeat == 0) return x;
    const int64_t n = sizes.at(x.labels[first]);
    std::vector<int64_t> perm, merged;
    Labels labels;
    for (size_t d = 0; d < x.labels.size(); ++d) {
      if (d == repeat) continue;
      perm.push_back(static_cast<int64_t>(d));
      if (d == first) perm.push_back(static_cast<int64_t>(repeat));
      labels.push_back(x.labels[d]);
      merged.push_back(d == first ? n * n : sizes.at(x.labels[d]));
    }
    TS2COREML_ASSIGN_OR_RETURN(Var v, EmitTranspose(ctx, x.var, perm));
    TS2COREML_ASSIGN_OR_RETURN(v, EmitReshape(ctx, v, merged));
    TS2COREML_ASSIGN_OR_RETURN(v, EmitStridedAxis(ctx, v, first, n));
    x = Labeled{v, labels};
  }
}

/// The permutation taking `from` to `to` (both hold the same labels).
std::vector<int64_t> Permutation(const Labels& from, const Labels& to) {
  std::vector<int64_t> perm;
  for (int l : to) {
    perm.push_back(std::find(from.begin(), from.end(), l) - from.begin());
  }
  return perm;
}

Labels Concat(std::initializer_list<const Labels*> parts) {
  Labels r;
  for (const Labels* p : parts) r.insert(r.end(), p->begin(), p->end());
  return r;
}

/// Arranges `x` as [batch, rows, cols] (or [batch, cols, rows] with `*transposed` when that is how
/// its dimensions already lie) and flattens each group to one dimension.
Expected<Var> AsMatrix(const LowerContext& ctx, const Labeled& x, const Labels& batch,
                       const Labels& rows, const Labels& cols, const std::map<int, int64_t>& sizes,
                       bool* transposed) {
  const Labels straight = Concat({&batch, &rows, &cols});
  const Labels swapped = Concat({&batch, &cols, &rows});
  Var v = x.var;
  *transposed = false;
  if (x.labels == swapped && x.labels != straight) {
    *transposed = true;
  } else if (x.labels != straight) {
    TS2COREML_ASSIGN_OR_RETURN(v, EmitTranspose(ctx, v, Permutation(x.labels, straight)));
  }
  auto product = [&](const Labels& ls) {
    int64_t p = 1;
    for (int l : ls) p *= sizes.at(l);
    return p;
  };
  std::vector<int64_t> shape;
  if (!batch.empty()) shape.push_back(product(batch));
  shape.push_back(product(*transposed ? cols : rows));
  shape.push_back(product(*transposed ? rows : cols));
  return EmitReshape(ctx, v, shape);
}

/// Contracts two operands into one whose labels are [batch, left-only, right-only], keeping only
/// the labels in `keep` (the output's and those of operands still to come).
Expected<Labeled> Contract(const LowerContext& ctx, Labeled a, Labeled b, const Labels& keep,
                           const std::map<int, int64_t>& sizes) {
  TS2COREML_ASSIGN_OR_RETURN(a, SumOut(ctx, a, Concat({&keep, &b.labels})));
  TS2COREML_ASSIGN_OR_RETURN(b, SumOut(ctx, b, Concat({&keep, &a.labels})));
  Labels batch, contracted, left, right;
  for (int l : a.labels) {
    if (!Contains(b.labels, l)) {
      left.push_back(l);
    } else if (Contains(keep, l)) {
      batch.push_back(l);
    } else {
      contracted.push_back(l);
    }
  }
  for (int l : b.labels) {
    if (!Contains(a.labels, l)) right.push_back(l);
  }
  bool ta = false, tb = false;
  TS2COREML_ASSIGN_OR_RETURN(Var x, AsMatrix(ctx, a, batch, left, contracted, sizes, &ta));
  TS2COREML_ASSIGN_OR_RETURN(Var y, AsMatrix(ctx, b, batch, contracted, right, sizes, &tb));
  TS2COREML_ASSIGN_OR_RETURN(Var z, EmitMatmul(ctx, x, y, ta, tb));
  Labeled result{z, Concat({&batch, &left, &right})};
  std::vector<int64_t> shape;
  for (int l : result.labels) shape.push_back(sizes.at(l));
  TS2COREML_ASSIGN_OR_RETURN(result.var, EmitReshape(ctx, z, shape));
  return result;
}

Status LowerEinsum(LowerContext& ctx) {
  TS2COREML_ASSIGN_OR_RETURN(uint32_t n, ctx.ListSize(kEinsumTensors));
  const std::vector<TensorType> operands = EinsumOperandTypes(ctx, n);
  TS2COREML_ASSIGN_OR_RETURN(EinsumPlan plan, PlanEinsum(ctx, operands));
  TS2COREML_ASSIGN_OR_RETURN(std::vector<Var> vars, ctx.InputList(kEinsumTensors));
  std::vector<Labeled> terms;
  for (size_t k = 0; k < vars.size(); ++k) {
    TS2COREML_ASSIGN_OR_RETURN(Var v, BroadcastLabels(ctx, vars[k], plan.terms[k], plan.sizes));
    TS2COREML_ASSIGN_OR_RETURN(Labeled term,
                               TakeDiagonals(ctx, Labeled{v, plan.terms[k]}, plan.sizes));
    terms.push_back(std::move(term));
  }
  // Contract left to right, as PyTorch does without an explicit path.
  Labeled acc = terms[0];
  for (size_t k = 1; k < terms.size(); ++k) {
    Labels keep = plan.output;
    for (size_t j = k + 1; j < terms.size(); ++j) {
      keep.insert(keep.end(), terms[j].labels.begin(), terms[j].labels.end());
    }
    TS2COREML_ASSIGN_OR_RETURN(acc, Contract(ctx, acc, terms[k], keep, plan.sizes));
  }
  TS2COREML_ASSIGN_OR_RETURN(acc, SumOut(ctx, acc, plan.output));
  TS2COREML_ASSIGN_OR_RETURN(Var y,
                             EmitTranspose(ctx, acc.var, Permutation(acc.labels, plan.output)));
  if (y.id == vars[0].id) {
    // A pure relabelling ("ij->ij"): the output still needs its own op.
    TS2COREML_ASSIGN_OR_RETURN(TensorType out, ctx.OutputType(0));
    TS2COREML_ASSIGN_OR_RETURN(y, ctx.Emit1("identity", {{"x", y}}, out));
  }
  return ctx.SetOutput(0, y);
}

// --- declarations --------------------------------------------------------------------------------

constexpr const char* kMatmulOps[] = {"aten::matmul"};
constexpr const char* kMmOps[] = {"aten::mm"};
constexpr const char* kBmmOps[] = {"aten::bmm"};
constexpr const char* kAddmmOps[] = {"aten::addmm"};
constexpr const char* kBaddbmmOps[] = {"aten::baddbmm"};
constexpr const char* kEinsumOps[] = {"aten::einsum"};
constexpr const char* kMvOps[] = {"aten::mv"};
constexpr const char* kOuterOps[] = {"aten::outer", "aten::ger"};
constexpr const char* kDotOps[] = {"aten::dot"};
constexpr const char* kAddmvOps[] = {"aten::addmv"};
constexpr const char* kAddrOps[] = {"aten::addr"};
constexpr const char* kAddbmmOps[] = {"aten::addbmm"};

/// The add* template argument naming a Variant.
constexpr int64_t VariantRank(Variant v) { return -1 - static_cast<int64_t>(v); }
constexpr int64_t kMvRank = VariantRank(Variant::kMv);
constexpr int64_t kOuterRank = VariantRank(Variant::kOuter);
constexpr int64_t kSumBmmRank = VariantRank(Variant::kSumBmm);

constexpr t2c_lowering_decl kLowerings[] = {
    sdk::Lowering("matmul", kMatmulOps, kProductInputs, T2C_FP16_NATIVE, T2C_INFER_CUSTOM,
                  sdk::InferFn<InferProduct<0>>, sdk::LowerFn<LowerProduct>),
    sdk::Lowering("mm", kMmOps, kProductInputs, T2C_FP16_NATIVE, T2C_INFER_CUSTOM,
                  sdk::InferFn<InferProduct<2>>, sdk::LowerFn<LowerProduct>),
    sdk::Lowering("bmm", kBmmOps, kProductInputs, T2C_FP16_NATIVE, T2C_INFER_CUSTOM,
                  sdk::InferFn<InferProduct<3>>, sdk::LowerFn<LowerProduct>),
    sdk::Lowering("addmm", kAddmmOps, kAddProductInputs, T2C_FP16_NATIVE, T2C_INFER_CUSTOM,
                  sdk::InferFn<InferAddProduct<2>>, sdk::LowerFn<LowerAddProduct<2>>),
    sdk::Lowering("baddbmm", kBaddbmmOps, kAddProductInputs, T2C_FP16_NATIVE, T2C_INFER_CUSTOM,
                  sdk::InferFn<InferAddProduct<3>>, sdk::LowerFn<LowerAddProduct<3>>),
    sdk::Lowering("einsum", kEinsumOps, kEinsumInputs, T2C_FP16_NATIVE, T2C_INFER_CUSTOM,
                  sdk::InferFn<InferEinsum>, sdk::LowerFn<LowerEinsum>),
    sdk::Lowering("mv", kMvOps, kProductInputs, T2C_FP16_NATIVE, T2C_INFER_CUSTOM,
                  sdk::InferFn<InferVariant<Variant::kMv>>,
                  sdk::LowerFn<LowerVariant<Variant::kMv>>),
    sdk::Lowering("outer", kOuterOps, kProductInputs, T2C_FP16_NATIVE, T2C_INFER_CUSTOM,
                  sdk::InferFn<InferVariant<Variant::kOuter>>,
                  sdk::LowerFn<LowerVariant<Variant::kOuter>>),
    sdk::Lowering("dot", kDotOps, kProductInputs, T2C_FP16_NATIVE, T2C_INFER_CUSTOM,
                  sdk::InferFn<InferVariant<Variant::kDot>>,
                  sdk::LowerFn<LowerVariant<Variant::kDot>>),
    sdk::Lowering("addmv", kAddmvOps, kAddProductInputs, T2C_FP16_NATIVE, T2C_INFER_CUSTOM,
                  sdk::InferFn<InferAddProduct<kMvRank>>, sdk::LowerFn<LowerAddProduct<kMvRank>>),
    sdk::Lowering("addr", kAddrOps, kAddProductInputs, T2C_FP16_NATIVE, T2C_INFER_CUSTOM,
                  sdk::InferFn<InferAddProduct<kOuterRank>>,
                  sdk::LowerFn<LowerAddProduct<kOuterRank>>),
    sdk::Lowering("addbmm", kAddbmmOps, kAddProductInputs, T2C_FP16_NATIVE, T2C_INFER_CUSTOM,
                  sdk::InferFn<InferAddProduct<kSumBmmRank>>,
                  sdk::LowerFn<LowerAddProduct<kSumBmmRank>>),
};

/// This file's lowerings, then inverse_lowering.cpp's.
constexpr auto kAllLowerings = ConcatLowerings(kLowerings, inverse::kLowerings);

constexpr t2c_plugin_info kInfo = {
    T2C_ABI_VERSION, sizeof(t2c_plugin_info), "ts2coreml.matmul",
    "0.1.0",         kAllLowerings.data(),    static_cast<uint32_t>(kAllLowerings.size())};

}  // namespace

const t2c_plugin_info* MatmulPluginInfo() { return &kInfo; }

}  // namespace ts2coreml::plugins
