#include "core/torch/passes/decompose_complex.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "ATen/ATen.h"
#include "absl/strings/str_cat.h"
#include "core/base/errors.h"
#include "core/torch/passes/insert_op.h"
#include "torch/csrc/jit/api/function_impl.h"
#include "torch/csrc/jit/ir/constants.h"

namespace ts2coreml::core {
namespace {

using torch::jit::Block;
using torch::jit::Graph;
using torch::jit::NamedValue;
using torch::jit::Node;
using torch::jit::Value;

namespace aten = c10::aten;

/// A complex tensor as two real values. `im` null: the imaginary part is zero.
struct Complex {
  Value* re = nullptr;
  Value* im = nullptr;
};

/// One 1-D transform along a dim, over the last axis once that dim is moved there.
struct Dft {
  int64_t n = 0;     ///< the transform length
  int64_t rows = 0;  ///< input bins read (the input is trimmed to them, or padded by absence)
  int64_t cols = 0;  ///< output bins
  bool inverse = false;
  bool hermitian = false;  ///< irfft: a real output from the first n/2+1 bins
  double scale = 1.0;      ///< the norm mode's factor
};

absl::Status ModelError(const std::string& message) { return Error(ErrorClass::kModel, message); }

std::string OpName(const Node* n) { return n->kind().toQualString(); }

bool IsTensor(const Value* v) { return v->type()->kind() == c10::TypeKind::TensorType; }

bool IsNone(const Value* v) { return v->type()->kind() == c10::TypeKind::NoneType; }

/// The static sizes of tensor value `v`, when its type has them (traced graphs).
c10::optional<std::vector<int64_t>> StaticSizes(const Value* v) {
  auto t = v->type()->cast<c10::TensorType>();
  if (!t) return c10::nullopt;
  return t->sizes().concrete_sizes();
}

/// The real scalar type matching tensor value `v`'s (Float for ComplexFloat); Float if unknown.
at::ScalarType RealScalarType(const Value* v) {
  auto t = v->type()->cast<c10::TensorType>();
  if (t && t->scalarType()) return c10::toRealValueType(*t->scalarType());
  return at::kFloat;
}

/// The type of a real part of complex value `v`: its type with the real scalar type.
c10::TypePtr PartType(const Value* v) {
  auto t = v->type()->cast<c10::TensorType>();
  if (!t) return c10::TensorType::get();
  return t->withScalarType(RealScalarType(v));
}

/// The scale of a transform of length n under `norm` ("backward", "forward", "ortho").
absl::StatusOr<double> NormScale(const Node* node, const c10::optional<std::string>& norm,
                                 int64_t n, bool inverse) {
  const std::string mode = norm.value_or("backward");
  if (mode == "ortho") return 1.0 / std::sqrt(static_cast<double>(n));
  if (mode == "backward") return inverse ? 1.0 / static_cast<double>(n) : 1.0;
  if (mode == "forward") return inverse ? 1.0 : 1.0 / static_cast<double>(n);
  return ModelError(absl::StrCat(OpName(node), ": norm '", mode,
                                 "' is not one of \"backward\", \"forward\", \"ortho\""));
}

/// cos and sin of 2 pi m / n, exact at the quarter turns (DC and Nyquist bins have a zero
/// imaginary part, as in LibTorch's FFT, so angle() picks the same branch).
std::pair<double, double> Twiddle(int64_t m, int64_t n) {
  if ((4 * m) % n == 0) {
    static constexpr double kCos[] = {1, 0, -1, 0}, kSin[] = {0, 1, 0, -1};
    const int64_t q = 4 * m / n;
    return {kCos[q], kSin[q]};
  }
  const double angle = 2.0 * M_PI * static_cast<double>(m) / static_cast<double>(n);
  return {std::cos(angle), std::sin(angle)};
}

/// The cos and sign*sin matrices [rows, cols] of `dft` in `dtype`: entry (r, k) is
/// w_r * scale * cos(2 pi r k / n), with w_r the Hermitian weight of irfft (2 for the bins that
/// stand for a conjugate pair, else 1). sign is -1 for a forward transform, +1 for an inverse.
std::pair<at::Tensor, at::Tensor> DftMatrices(const Dft& dft, at::ScalarType dtype) {
  at::Tensor c = at::empty({dft.rows, dft.cols}, at::kDouble);
  at::Tensor s = at::empty({dft.rows, dft.cols}, at::kDouble);
  double* cp = c.data_ptr<double>();
  double* sp = s.data_ptr<double>();
  const double sign = dft.inverse ? 1.0 : -1.0;
  for (int64_t r = 0; r < dft.rows; ++r) {
    const bool paired = r != 0 && 2 * r != dft.n;
    const double w = dft.scale * (dft.hermitian && paired ? 2.0 : 1.0);
    for (int64_t k = 0; k < dft.cols; ++k) {
      // r * k reduced mod n keeps the angle exact for long transforms; + 0.0 turns -0 into 0.
      const std::pair<double, double> t = Twiddle((r * k) % dft.n, dft.n);
      cp[r * dft.cols + k] = w * t.first + 0.0;
      sp[r * dft.cols + k] = sign * w * t.second + 0.0;
    }
  }
  return {c.to(dtype), s.to(dtype)};
}

/// Inserts real aten ops at the graph's insertion point; a null part stands for zero.
class Builder {
 public:
  explicit Builder(Graph& g) : g_(g) {}

  /// An inserted aten op's single output; throws naming the op when no overload matches.
  Value* Op(c10::Symbol kind, std::vector<NamedValue> args) {
    return InsertOp(g_, kind, std::move(args));
  }

  Value* Const(const c10::IValue& v) { return g_.insertConstant(v); }

  Value* IntList(const std::vector<int64_t>& items) { return Const(c10::IValue(items)); }

  Value* Add(Value* a, Value* b) {
    if (b == nullptr) return a;
    if (a == nullptr) return b;
    if (!IsTensor(a) && IsTensor(b)) std::swap(a, b);
    return Op(aten::add, {a, b});
  }

  Value* Sub(Value* a, Value* b) {
    if (b == nullptr) return a;
    if (a == nullptr) return Neg(b);
    if (!IsTensor(a) && IsTensor(b)) return Op(aten::rsub, {b, a});
    return Op(aten::sub, {a, b});
  }

  Value* Mul(Value* a, Value* b) {
    if (a == nullptr || b == nullptr) return nullptr;
    if (!IsTensor(a) && IsTensor(b)) std::swap(a, b);
    return Op(aten::mul, {a, b});
  }

  Value* Div(Value* a, Value* b) { return a == nullptr ? nullptr : Op(aten::div, {a, b}); }

  Value* Neg(Value* a) { return a == nullptr ? nullptr : Op(aten::neg, {a}); }

  Value* MatMul(Value* x, Value* m) { return x == nullptr ? nullptr : Op(aten::matmul, {x, m}); }

  Value* ZerosLike(Value* like) {
    return Op(aten::zeros_like,
              {like, c10::IValue(), c10::IValue(), c10::IValue(), c10::IValue(), c10::IValue()});
  }

  /// Swaps dims `a` and `b` of `x` (identity when equal).
  Value* Swap(Value* x, int64_t a, int64_t b) {
    if (x == nullptr || a == b) return x;
    return Op(aten::transpose, {x, a, b});
  }

  /// The first `len` entries of `x` along its last dim.
  Value* Head(Value* x, int64_t len) {
    if (x == nullptr) return x;
    return Op(aten::slice, {x, int64_t{-1}, int64_t{0}, len, int64_t{1}});
  }

 private:
  Graph& g_;
};

struct StftArgs;

/// Rewrites the complex values of one graph; see DecomposeComplex.
class ComplexRewriter {
 public:
  ComplexRewriter(Graph& g, const std::vector<std::optional<StaticInputType>>& inputs)
      : g_(g), b_(g), inputs_(inputs) {}

  absl::Status RewriteBlock(Block* block);

  /// Destroys the rewritten nodes, last first; returns whether there were any.
  bool DestroyRewritten();

 private:
  /// A rewrite: whether it took the node (false: no complex value involved), or an error.
  using Rule = absl::StatusOr<bool> (ComplexRewriter::*)(Node*);
  static const std::unordered_map<c10::Symbol, Rule>& Rules();

  absl::Status RewriteNode(Node* n);
  absl::Status RefuseComplexInputs(Node* n) const;

  // Producers of complex values.
  absl::StatusOr<bool> Fft(Node* n);
  absl::StatusOr<bool> FftN(Node* n);
  absl::StatusOr<bool> Stft(Node* n);
  /// The conv1d weight of stft `n`: the DFT basis times the (padded) window.
  Value* StftKernels(Node* n, const StftArgs& a);
  absl::StatusOr<bool> MakeComplex(Node* n);
  absl::StatusOr<bool> Polar(Node* n);
  absl::StatusOr<bool> ViewAsComplex(Node* n);
  absl::StatusOr<bool> ComplexConstant(Node* n);
  // Consumers.
  absl::StatusOr<bool> Real(Node* n);
  absl::StatusOr<bool> Imag(Node* n);
  absl::StatusOr<bool> ViewAsReal(Node* n);
  absl::StatusOr<bool> Abs(Node* n);
  absl::StatusOr<bool> Angle(Node* n);
  absl::StatusOr<bool> Conj(Node* n);
  absl::StatusOr<bool> Arithmetic(Node* n);
  absl::StatusOr<bool> PerPart(Node* n);
  absl::StatusOr<bool> SizeQuery(Node* n);

  /// The value `v` as a complex pair: a complex value's parts, a complex constant's parts, or
  /// a real value with a zero imaginary part.
  Complex Operand(Value* v);
  bool IsComplex(Value* v) const { return parts_.count(v) != 0; }
  Complex* Input(Node* n, const char* name);

  /// One 1-D transform of `x` along `dim` of a value of `sizes` (updated to the result's).
  Complex Transform(const Complex& x, int64_t dim, const Dft& dft, std::vector<int64_t>& sizes);
  /// Makes the parts full tensors of the output's type and records them as `out`'s.
  void Finish(Value* out, Complex c);
  /// Replaces `out` (a real result) by `v`.
  void ReplaceReal(Value* out, Value* v);
  bool IsNew(const Value* v) const;
  /// The static sizes of input `name` of `n` (or of its real part), or an error saying how to
  /// get them.
  absl::StatusOr<std::vector<int64_t>> InputSizes(const Node* n, const char* name) const;

  /// The sizes of `v` from running the nodes it depends on with zeros of the input types.
  c10::optional<std::vector<int64_t>> SizesByRunning(Value* v) const;

  Graph& g_;
  Builder b_;
  const std::vector<std::optional<StaticInputType>>& inputs_;
  std::unordered_map<Value*, Complex> parts_;
  std::vector<Node*> rewritten_;
  Node* before_ = nullptr;  ///< the node before the one being rewritten
};

absl::StatusOr<std::vector<int64_t>> ComplexRewriter::InputSizes(const Node* n,
                                                                 const char* name) const {
  Value* v = n->namedInput(name);
  c10::optional<std::vector<int64_t>> sizes = StaticSizes(v);
  if (auto it = parts_.find(v); it != parts_.end()) v = it->second.re;
  if (!sizes) sizes = StaticSizes(v);
  if (!sizes) sizes = SizesByRunning(v);
  if (sizes) return *sizes;
  return ModelError(absl::StrCat(
      OpName(n), ": the sizes of input '", name,
      "' are not known; give every forward() argument's shape with --input NAME:SHAPE so the transform length is static"));
}

/// Adds to `needed` the nodes of `block` (a top-level one: nested blocks' free values) that
/// `v`'s value depends on.
void CollectProducers(Value* v, const Block* top, std::unordered_set<Node*>* needed) {
  std::vector<Value*> stack{v};
  while (!stack.empty()) {
    Node* n = stack.back()->node();
    stack.pop_back();
    if (n->owningBlock() != top || n->kind() == c10::prim::Param || !needed->insert(n).second) {
      continue;
    }
    std::function<void(Node*)> add_inputs = [&](Node* m) {
      for (Value* in : m->inputs()) stack.push_back(in);
      for (Block* b : m->blocks()) {
        for (Node* inner : b->nodes()) add_inputs(inner);
        add_inputs(b->return_node());
      }
    };
    add_inputs(n);
  }
}

c10::optional<std::vector<int64_t>> ComplexRewriter::SizesByRunning(Value* v) const {
  std::unordered_set<Node*> needed;
  CollectProducers(v, g_.block(), &needed);
  const auto used_by_needed = [&](const torch::jit::Use& u) {
    Node* user = u.user;
    while (user->owningBlock() != g_.block()) user = user->owningBlock()->owningNode();
    return needed.count(user) != 0;
  };
  auto sub = std::make_shared<Graph>();
  std::unordered_map<Value*, Value*> map;
  std::vector<c10::IValue> args;
  // Graph input 0 is the module (self): the frozen graph's nodes do not read it.
  for (size_t i = 1; i < g_.inputs().size(); ++i) {
    Value* in = g_.inputs()[i];
    if (in != v && std::none_of(in->uses().begin(), in->uses().end(), used_by_needed)) continue;
    if (i - 1 >= inputs_.size() || !inputs_[i - 1]) return c10::nullopt;
    map[in] = sub->addInput()->setType(in->type());
    args.emplace_back(at::zeros(inputs_[i - 1]->shape, at::TensorOptions(inputs_[i - 1]->dtype)));
  }
  try {
    for (Node* n : g_.block()->nodes()) {
      if (needed.count(n) == 0) continue;
      Node* copy = sub->insertNode(sub->createClone(n, [&](Value* x) { return map.at(x); }));
      for (size_t i = 0; i < n->outputs().size(); ++i) map[n->output(i)] = copy->output(i);
    }
    sub->registerOutput(map.at(v));
    torch::jit::GraphFunction fn("decompose_complex_sizes", sub, nullptr);
    const c10::IValue out = fn(args);
    if (!out.isTensor()) return c10::nullopt;
    return out.toTensor().sizes().vec();
  } catch (const std::exception&) {
    // A value the run cannot reach (self, an input without a type) or a failing node.
    return c10::nullopt;
  }
}

bool ComplexRewriter::IsNew(const Value* v) const {
  const Node* p = v->node();
  return p->owningBlock() == before_->owningBlock() && p->isAfter(before_);
}

Complex ComplexRewriter::Operand(Value* v) {
  if (auto it = parts_.find(v); it != parts_.end()) return it->second;
  auto iv = torch::jit::toIValue(v);
  if (iv && iv->isComplexDouble()) {
    const c10::complex<double> z = iv->toComplexDouble();
    return {b_.Const(z.real()), b_.Const(z.imag())};
  }
  return {v, nullptr};
}

Complex* ComplexRewriter::Input(Node* n, const char* name) {
  auto it = parts_.find(n->namedInput(name));
  return it == parts_.end() ? nullptr : &it->second;
}

void ComplexRewriter::Finish(Value* out, Complex c) {
  if (c.re == nullptr || !IsTensor(c.re)) c.re = b_.Add(b_.ZerosLike(c.im), c.re);
  if (c.im != nullptr && !IsTensor(c.im)) c.im = b_.Add(b_.ZerosLike(c.re), c.im);
  const c10::optional<std::vector<int64_t>> sizes = StaticSizes(out);
  for (Value** part : {&c.re, &c.im}) {
    if (*part == nullptr) continue;
    if (!IsNew(*part)) {
      const c10::optional<std::vector<int64_t>> have = StaticSizes(*part);
      if (!sizes || !have || *have == *sizes) continue;
      *part = b_.Op(aten::expand, {*part, b_.IntList(*sizes)});
    }
    if (sizes || !StaticSizes(*part)) (*part)->setType(PartType(out));
  }
  parts_[out] = c;
}

void ComplexRewriter::ReplaceReal(Value* out, Value* v) {
  if (IsNew(v)) v->setType(out->type());
  out->replaceAllUsesWith(v);
}

/// Whether constant `v` holds a T.
template <typename T>
bool Holds(const c10::IValue& v);
template <>
bool Holds<int64_t>(const c10::IValue& v) {
  return v.isInt();
}
template <>
bool Holds<bool>(const c10::IValue& v) {
  return v.isBool();
}
template <>
bool Holds<std::string>(const c10::IValue& v) {
  return v.isString();
}
template <>
bool Holds<std::vector<int64_t>>(const c10::IValue& v) {
  return v.isIntList();
}

/// Value `v` as a constant T; nullopt when it is not a constant or holds another kind (None).
template <typename T>
c10::optional<T> ConstOf(const Value* v) {
  c10::optional<c10::IValue> iv = torch::jit::toIValue(v);
  if (!iv || !Holds<T>(*iv)) return c10::nullopt;
  return iv->to<T>();
}

/// The constant argument `name` of `n` as T; nullopt when absent, None or not a constant.
template <typename T>
c10::optional<T> ConstArg(const Node* n, const char* name) {
  if (!n->schema().argumentIndexWithName(name)) return c10::nullopt;
  return ConstOf<T>(n->namedInput(name));
}

/// The constant int list argument `name` of `n`: a constant, or a list built of constants.
c10::optional<std::vector<int64_t>> ConstIntList(const Node* n, const char* name) {
  if (!n->schema().argumentIndexWithName(name)) return c10::nullopt;
  const Value* v = n->namedInput(name);
  if (v->node()->kind() != c10::prim::ListConstruct) return ConstOf<std::vector<int64_t>>(v);
  std::vector<int64_t> items;
  for (const Value* item : v->node()->inputs()) {
    c10::optional<int64_t> i = ConstOf<int64_t>(item);
    if (!i) return c10::nullopt;
    items.push_back(*i);
  }
  return items;
}

/// The constant number (int or float) argument `name` of `n`.
c10::optional<double> ConstNumber(const Node* n, const char* name) {
  if (!n->schema().argumentIndexWithName(name)) return c10::nullopt;
  c10::optional<c10::IValue> v = torch::jit::toIValue(n->namedInput(name));
  if (!v || !(v->isInt() || v->isDouble())) return c10::nullopt;
  return v->isInt() ? static_cast<double>(v->toInt()) : v->toDouble();
}

/// Whether argument `name` of `n` is present and not None.
bool Given(const Node* n, const char* name) {
  return n->schema().argumentIndexWithName(name) && !IsNone(n->namedInput(name));
}

absl::Status NotConstant(const Node* n, const char* name, const char* what) {
  return ModelError(absl::StrCat(OpName(n), ": ", name, " must be a constant ", what,
                                 " (the transform is built at conversion time)"));
}

/// `dim` in [0, rank), or an error naming the op.
absl::StatusOr<int64_t> NormalizeDim(const Node* n, int64_t dim, int64_t rank) {
  const int64_t d = dim < 0 ? dim + rank : dim;
  if (d < 0 || d >= rank) {
    return ModelError(absl::StrCat(OpName(n), ": dim ", dim, " is out of range for rank ", rank));
  }
  return d;
}

absl::Status CheckLength(const Node* n, int64_t len) {
  if (len >= 1 && len <= kMaxDftLength) return absl::OkStatus();
  return ModelError(absl::StrCat(OpName(n), ": a transform of length ", len,
                                 " is not supported; lengths from 1 to ", kMaxDftLength,
                                 " are lowered as constant DFT matrices (n^2 elements each)"));
}

Complex ComplexRewriter::Transform(const Complex& x, int64_t dim, const Dft& dft,
                                   std::vector<int64_t>& sizes) {
  const int64_t last = static_cast<int64_t>(sizes.size()) - 1;
  Value* re = b_.Swap(x.re, dim, last);
  Value* im = b_.Swap(x.im, dim, last);
  if (sizes[dim] > dft.rows) {
    re = b_.Head(re, dft.rows);
    im = b_.Head(im, dft.rows);
  }
  const std::pair<at::Tensor, at::Tensor> m = DftMatrices(dft, RealScalarType(x.re));
  Value* c = b_.Const(m.first);
  Value* s = b_.Const(m.second);
  // (re + i im)(C + i S) with S carrying the transform's sign.
  Complex y{b_.Sub(b_.MatMul(re, c), b_.MatMul(im, s)), nullptr};
  if (!dft.hermitian) y.im = b_.Add(b_.MatMul(re, s), b_.MatMul(im, c));
  y.re = b_.Swap(y.re, dim, last);
  y.im = b_.Swap(y.im, dim, last);
  sizes[dim] = dft.cols;
  // The sizes travel with the parts, for a transform of this result.
  const c10::TypePtr type =
      c10::TensorType::createContiguous(RealScalarType(x.re), at::kCPU, sizes);
  for (Value* part : {y.re, y.im}) {
    if (part != nullptr) part->setType(type);
  }
  return y;
}

/// Which transform an fft op is: a real input (rfft), a Hermitian input (irfft), inverse.
struct FftKind {
  bool inverse, real_input, hermitian;
};

FftKind KindOf(const Node* n) {
  const std::string name = n->kind().toUnqualString();
  return {name.find("ifft") != std::string::npos || name.find("irfft") != std::string::npos,
          name.find("_rfft") != std::string::npos, name.find("irfft") != std::string::npos};
}

/// The Dft of a 1-D transform of `kind` and length n over an input of `len` bins.
absl::StatusOr<Dft> MakeDft(const Node* n, FftKind kind, int64_t len, int64_t length,
                            bool last_of_real, const c10::optional<std::string>& norm) {
  if (absl::Status s = CheckLength(n, length); !s.ok()) return s;
  Dft dft;
  dft.n = length;
  dft.inverse = kind.inverse;
  dft.hermitian = kind.hermitian && last_of_real;
  const int64_t half = length / 2 + 1;
  dft.rows = std::min(len, dft.hermitian ? half : length);
  dft.cols = kind.real_input && last_of_real ? half : length;
  absl::StatusOr<double> scale = NormScale(n, norm, length, kind.inverse);
  if (!scale.ok()) return scale.status();
  dft.scale = *scale;
  return dft;
}

absl::StatusOr<bool> ComplexRewriter::Fft(Node* n) {
  absl::StatusOr<std::vector<int64_t>> sizes = InputSizes(n, "self");
  if (!sizes.ok()) return sizes.status();
  auto dim = ConstArg<int64_t>(n, "dim");
  if (!dim) return NotConstant(n, "dim", "int");
  if (Given(n, "n") && !ConstArg<int64_t>(n, "n")) return NotConstant(n, "n", "int");
  if (Given(n, "norm") && !ConstArg<std::string>(n, "norm")) {
    return NotConstant(n, "norm", "string");
  }
  absl::StatusOr<int64_t> d = NormalizeDim(n, *dim, static_cast<int64_t>(sizes->size()));
  if (!d.ok()) return d.status();
  const FftKind kind = KindOf(n);
  const int64_t len = (*sizes)[*d];
  const int64_t length = ConstArg<int64_t>(n, "n").value_or(kind.hermitian ? 2 * (len - 1) : len);
  absl::StatusOr<Dft> dft =
      MakeDft(n, kind, len, length, /*last_of_real=*/true, ConstArg<std::string>(n, "norm"));
  if (!dft.ok()) return dft.status();
  Complex y = Transform(Operand(n->namedInput("self")), *d, *dft, *sizes);
  if (kind.hermitian) {
    ReplaceReal(n->output(), y.re);
  } else {
    Finish(n->output(), y);
  }
  return true;
}

/// The dims and lengths of an n-D transform from its `s` and `dim` arguments (torch.fft's rules:
/// `s` alone names the last len(s) dims, neither means every dim; -1 in `s` keeps a size).
absl::Status NdPlan(const Node* n, const std::vector<int64_t>& sizes, bool hermitian,
                    std::vector<int64_t>* dims, std::vector<int64_t>* lengths) {
  const int64_t rank = static_cast<int64_t>(sizes.size());
  const c10::optional<std::vector<int64_t>> s = ConstIntList(n, "s");
  const c10::optional<std::vector<int64_t>> dim = ConstIntList(n, "dim");
  if (Given(n, "s") && !s) return NotConstant(n, "s", "int list");
  if (Given(n, "dim") && !dim) return NotConstant(n, "dim", "int list");
  if (dim) {
    *dims = *dim;
  } else {
    const int64_t count = s ? static_cast<int64_t>(s->size()) : rank;
    for (int64_t i = rank - count; i < rank; ++i) dims->push_back(i);
  }
  if (s && s->size() != dims->size()) {
    return ModelError(
        absl::StrCat(OpName(n), ": s has ", s->size(), " entries but dim has ", dims->size()));
  }
  std::unordered_set<int64_t> seen;
  for (size_t i = 0; i < dims->size(); ++i) {
    absl::StatusOr<int64_t> d = NormalizeDim(n, (*dims)[i], rank);
    if (!d.ok()) return d.status();
    if (!seen.insert(*d).second) {
      return ModelError(absl::StrCat(OpName(n), ": dim ", (*dims)[i], " is repeated"));
    }
    (*dims)[i] = *d;
    const bool last = i + 1 == dims->size();
    const int64_t fallback = hermitian && last ? 2 * (sizes[*d] - 1) : sizes[*d];
    lengths->push_back(s && (*s)[i] != -1 ? (*s)[i] : fallback);
  }
  if (dims->empty()) return ModelError(absl::StrCat(OpName(n), ": no dim to transform"));
  return absl::OkStatus();
}

absl::StatusOr<bool> ComplexRewriter::FftN(Node* n) {
  absl::StatusOr<std::vector<int64_t>> sizes = InputSizes(n, "self");
  if (!sizes.ok()) return sizes.status();
  const FftKind kind = KindOf(n);
  std::vector<int64_t> dims, lengths;
  if (absl::Status s = NdPlan(n, *sizes, kind.hermitian, &dims, &lengths); !s.ok()) return s;
  if (Given(n, "norm") && !ConstArg<std::string>(n, "norm")) {
    return NotConstant(n, "norm", "string");
  }
  const c10::optional<std::string> norm = ConstArg<std::string>(n, "norm");
  // rfftn: the real last dim first; irfftn: the Hermitian last dim last.
  std::vector<size_t> order(dims.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  if (kind.real_input) std::rotate(order.rbegin(), order.rbegin() + 1, order.rend());
  Complex y = Operand(n->namedInput("self"));
  for (size_t i : order) {
    const bool last = i + 1 == dims.size();
    absl::StatusOr<Dft> dft = MakeDft(n, kind, (*sizes)[dims[i]], lengths[i], last, norm);
    if (!dft.ok()) return dft.status();
    y = Transform(y, dims[i], *dft, *sizes);
  }
  if (kind.hermitian) {
    ReplaceReal(n->output(), y.re);
  } else {
    Finish(n->output(), y);
  }
  return true;
}

/// The stft kernels [2 * bins, 1, n_fft]: rows k are scale * cos(2 pi k j / n_fft), rows
/// bins + k are -scale * sin(2 pi k j / n_fft), each times `window` (n_fft entries, or empty).
at::Tensor StftBasis(int64_t n_fft, int64_t bins, double scale, const std::vector<double>& window,
                     at::ScalarType dtype) {
  Dft dft;
  dft.n = n_fft;
  dft.rows = n_fft;
  dft.cols = bins;
  dft.scale = scale;
  const std::pair<at::Tensor, at::Tensor> m = DftMatrices(dft, at::kDouble);
  at::Tensor basis = at::cat({m.first.t(), m.second.t()}, 0);  // [2 * bins, n_fft]
  if (!window.empty()) basis = basis * at::tensor(window, at::kDouble);
  return basis.unsqueeze(1).to(dtype).contiguous();
}

/// The constant arguments of an stft, defaults applied.
struct StftArgs {
  int64_t n_fft = 0, hop = 0, win = 0, bins = 0;
  double scale = 1.0;
  bool center = false, return_complex = false;
  std::string pad_mode;
};

/// Reads stft(self, n_fft, hop_length, win_length, window, [center, pad_mode,] normalized,
/// onesided, return_complex); errors name a non-constant argument or a value out of range.
absl::StatusOr<StftArgs> ReadStft(const Node* n) {
  auto n_fft = ConstArg<int64_t>(n, "n_fft");
  if (!n_fft) return NotConstant(n, "n_fft", "int");
  for (const char* name : {"hop_length", "win_length"}) {
    if (Given(n, name) && !ConstArg<int64_t>(n, name)) return NotConstant(n, name, "int");
  }
  for (const char* name : {"normalized", "onesided", "return_complex", "center"}) {
    if (Given(n, name) && !ConstArg<bool>(n, name)) return NotConstant(n, name, "bool");
  }
  if (absl::Status s = CheckLength(n, *n_fft); !s.ok()) return s;
  StftArgs a;
  a.n_fft = *n_fft;
  a.hop = ConstArg<int64_t>(n, "hop_length").value_or(a.n_fft / 4);
  a.win = ConstArg<int64_t>(n, "win_length").value_or(a.n_fft);
  if (a.win < 1 || a.win > a.n_fft || a.hop < 1) {
    return ModelError(absl::StrCat("aten::stft: win_length ", a.win, " and hop_length ", a.hop,
                                   " must be in [1, n_fft] and positive (n_fft ", a.n_fft, ")"));
  }
  a.bins = ConstArg<bool>(n, "onesided").value_or(true) ? a.n_fft / 2 + 1 : a.n_fft;
  if (ConstArg<bool>(n, "normalized").value_or(false)) a.scale = 1.0 / std::sqrt(a.n_fft * 1.0);
  a.center = ConstArg<bool>(n, "center").value_or(false);
  a.return_complex = ConstArg<bool>(n, "return_complex").value_or(false);
  if (a.center) {
    auto mode = ConstArg<std::string>(n, "pad_mode");
    if (!mode) return NotConstant(n, "pad_mode", "string");
    a.pad_mode = *mode;
  }
  return a;
}

Value* ComplexRewriter::StftKernels(Node* n, const StftArgs& a) {
  const int64_t left = (a.n_fft - a.win) / 2;
  // No window: ones over win_length, centred in n_fft (folded into the kernels).
  std::vector<double> ones;
  if (!Given(n, "window") && a.win < a.n_fft) {
    ones.assign(static_cast<size_t>(a.n_fft), 0.0);
    std::fill_n(ones.begin() + left, a.win, 1.0);
  }
  const at::ScalarType dtype = RealScalarType(n->namedInput("self"));
  Value* weight = b_.Const(StftBasis(a.n_fft, a.bins, a.scale, ones, dtype));
  if (!Given(n, "window")) return weight;
  // The window is zero-padded to n_fft, centred; the product folds when it is constant.
  Value* w = n->namedInput("window");
  if (a.win < a.n_fft) {
    w = b_.Op(aten::constant_pad_nd, {w, b_.IntList({left, a.n_fft - a.win - left}), 0.0});
  }
  w = b_.Op(aten::reshape, {w, b_.IntList({1, 1, a.n_fft})});
  return b_.Op(aten::mul, {weight, w});
}

/// stft as conv1d of the (padded) signal [B, 1, L] with the windowed DFT kernels.
absl::StatusOr<bool> ComplexRewriter::Stft(Node* n) {
  Value* self = n->namedInput("self");
  if (IsComplex(self)) {
    return ModelError("aten::stft: a complex input is not supported; pass a real signal");
  }
  absl::StatusOr<std::vector<int64_t>> sizes = InputSizes(n, "self");
  if (!sizes.ok()) return sizes.status();
  if (sizes->size() != 1 && sizes->size() != 2) {
    return ModelError(absl::StrCat("aten::stft: input of rank ", sizes->size(),
                                   " is not supported; torch.stft takes [L] or [batch, L]"));
  }
  absl::StatusOr<StftArgs> a = ReadStft(n);
  if (!a.ok()) return a.status();
  Value* weight = StftKernels(n, *a);
  Value* x = b_.Op(aten::unsqueeze, {self, int64_t{-2}});
  if (sizes->size() == 1) x = b_.Op(aten::unsqueeze, {x, int64_t{0}});
  if (a->center) {
    x = b_.Op(aten::pad, {x, b_.IntList({a->n_fft / 2, a->n_fft / 2}), a->pad_mode, c10::IValue()});
  }
  Value* y = b_.Op(aten::conv1d, {x, weight, c10::IValue(), b_.IntList({a->hop}), b_.IntList({0}),
                                  b_.IntList({1}), int64_t{1}});
  Complex c{b_.Op(aten::slice, {y, int64_t{1}, int64_t{0}, a->bins, int64_t{1}}),
            b_.Op(aten::slice, {y, int64_t{1}, a->bins, 2 * a->bins, int64_t{1}})};
  if (sizes->size() == 1) {
    c.re = b_.Op(aten::squeeze, {c.re, int64_t{0}});
    c.im = b_.Op(aten::squeeze, {c.im, int64_t{0}});
  }
  if (a->return_complex) {
    Finish(n->output(), c);
  } else {
    Value* parts = g_.insertNode(g_.createList(c10::TensorType::get(), {c.re, c.im}))->output();
    ReplaceReal(n->output(), b_.Op(aten::stack, {parts, int64_t{-1}}));
  }
  return true;
}

absl::StatusOr<bool> ComplexRewriter::MakeComplex(Node* n) {
  Finish(n->output(), {n->namedInput("real"), n->namedInput("imag")});
  return true;
}

absl::StatusOr<bool> ComplexRewriter::Polar(Node* n) {
  Value* abs = n->namedInput("abs");
  Value* angle = n->namedInput("angle");
  Finish(n->output(),
         {b_.Mul(abs, b_.Op(aten::cos, {angle})), b_.Mul(abs, b_.Op(aten::sin, {angle}))});
  return true;
}

absl::StatusOr<bool> ComplexRewriter::ViewAsComplex(Node* n) {
  Value* self = n->namedInput("self");
  Finish(n->output(), {b_.Op(aten::select, {self, int64_t{-1}, int64_t{0}}),
                       b_.Op(aten::select, {self, int64_t{-1}, int64_t{1}})});
  return true;
}

absl::StatusOr<bool> ComplexRewriter::ComplexConstant(Node* n) {
  if (n->outputs().size() != 1 || !IsTensor(n->output())) return false;
  auto t = torch::jit::constant_as<at::Tensor>(n->output());
  if (!t || !t->is_complex()) return false;
  parts_[n->output()] = {b_.Const(at::real(*t).contiguous()), b_.Const(at::imag(*t).contiguous())};
  return true;
}

absl::StatusOr<bool> ComplexRewriter::Real(Node* n) {
  Value* self = n->namedInput("self");
  ReplaceReal(n->output(), IsComplex(self) ? parts_[self].re : self);
  return true;
}

absl::StatusOr<bool> ComplexRewriter::Imag(Node* n) {
  Complex* c = Input(n, "self");
  if (c == nullptr) return false;
  ReplaceReal(n->output(), c->im != nullptr ? c->im : b_.ZerosLike(c->re));
  return true;
}

absl::StatusOr<bool> ComplexRewriter::ViewAsReal(Node* n) {
  Complex* c = Input(n, "self");
  if (c == nullptr) return false;
  Value* im = c->im != nullptr ? c->im : b_.ZerosLike(c->re);
  Value* parts = g_.insertNode(g_.createList(c10::TensorType::get(), {c->re, im}))->output();
  ReplaceReal(n->output(), b_.Op(aten::stack, {parts, int64_t{-1}}));
  return true;
}

absl::StatusOr<bool> ComplexRewriter::Abs(Node* n) {
  Complex* c = Input(n, "self");
  if (c == nullptr) return false;
  // hypot scales by the larger part: no square overflows FP16.
  Value* abs = c->im != nullptr ? b_.Op(c10::Symbol::fromQualString("aten::hypot"), {c->re, c->im})
                                : b_.Op(aten::abs, {c->re});
  ReplaceReal(n->output(), abs);
  return true;
}

absl::StatusOr<bool> ComplexRewriter::Angle(Node* n) {
  Complex* c = Input(n, "self");
  if (c == nullptr) return false;
  Value* im = c->im != nullptr ? c->im : b_.ZerosLike(c->re);
  ReplaceReal(n->output(), b_.Op(aten::atan2, {im, c->re}));
  return true;
}

absl::StatusOr<bool> ComplexRewriter::Conj(Node* n) {
  Complex* c = Input(n, "self");
  if (c == nullptr) return false;
  const bool negate = n->kind() != c10::Symbol::fromQualString("aten::resolve_conj") &&
                      n->kind() != c10::Symbol::fromQualString("aten::resolve_neg");
  Finish(n->output(), {c->re, negate ? b_.Neg(c->im) : c->im});
  return true;
}

/// add/sub(self, other, alpha), mul/div(self, other) and neg(self) of complex values.
absl::StatusOr<bool> ComplexRewriter::Arithmetic(Node* n) {
  const bool any =
      std::any_of(n->inputs().begin(), n->inputs().end(), [&](Value* v) { return IsComplex(v); });
  if (!any) return false;
  const c10::Symbol kind = n->kind();
  const Complex a = Operand(n->namedInput("self"));
  if (kind == aten::neg) {
    Finish(n->output(), {b_.Neg(a.re), b_.Neg(a.im)});
    return true;
  }
  if (kind == aten::div && Given(n, "rounding_mode")) {
    return ModelError("aten::div: rounding_mode is not defined for complex values");
  }
  Complex b = Operand(n->namedInput("other"));
  if (kind == aten::add || kind == aten::sub) {
    c10::optional<double> alpha = ConstNumber(n, "alpha");
    if (Given(n, "alpha") && !alpha) return NotConstant(n, "alpha", "real number");
    const double f = alpha.value_or(1.0) * (kind == aten::sub ? -1.0 : 1.0);
    if (f != 1.0) b = {b_.Mul(b.re, b_.Const(f)), b_.Mul(b.im, b_.Const(f))};
    Finish(n->output(), {b_.Add(a.re, b.re), b_.Add(a.im, b.im)});
  } else if (kind == aten::mul) {
    Finish(n->output(), {b_.Sub(b_.Mul(a.re, b.re), b_.Mul(a.im, b.im)),
                         b_.Add(b_.Mul(a.re, b.im), b_.Mul(a.im, b.re))});
  } else if (b.im == nullptr) {
    Finish(n->output(), {b_.Div(a.re, b.re), b_.Div(a.im, b.re)});
  } else {
    // a / b = a * conj(b) / |b|^2.
    Value* d = b_.Add(b_.Mul(b.re, b.re), b_.Mul(b.im, b.im));
    Finish(n->output(), {b_.Div(b_.Add(b_.Mul(a.re, b.re), b_.Mul(a.im, b.im)), d),
                         b_.Div(b_.Sub(b_.Mul(a.im, b.re), b_.Mul(a.re, b.im)), d)});
  }
  return true;
}

/// Ops linear in their input and blind to its values' meaning (reshape, transpose, slice, sum,
/// ...): the same op on each part.
absl::StatusOr<bool> ComplexRewriter::PerPart(Node* n) {
  Value* self = n->namedInput("self");
  if (!IsComplex(self) || n->outputs().size() != 1) return false;
  const Complex c = parts_[self];
  auto copy_for = [&](Value* part) -> Value* {
    if (part == nullptr) return nullptr;
    return g_.insertNode(g_.createClone(n, [&](Value* v) { return v == self ? part : v; }))
        ->output();
  };
  Finish(n->output(), {copy_for(c.re), copy_for(c.im)});
  return true;
}

/// size/dim/numel of a complex value: the real part's.
absl::StatusOr<bool> ComplexRewriter::SizeQuery(Node* n) {
  Value* self = n->namedInput("self");
  if (IsComplex(self)) n->replaceInputWith(self, parts_[self].re);
  return false;
}

const std::unordered_map<c10::Symbol, ComplexRewriter::Rule>& ComplexRewriter::Rules() {
  static const auto* rules = [] {
    auto* r = new std::unordered_map<c10::Symbol, Rule>();
    auto add = [&](std::initializer_list<const char*> names, Rule rule) {
      for (const char* name : names) (*r)[c10::Symbol::fromQualString(name)] = rule;
    };
    add({"aten::fft_fft", "aten::fft_ifft", "aten::fft_rfft", "aten::fft_irfft"},
        &ComplexRewriter::Fft);
    add({"aten::fft_fftn", "aten::fft_ifftn", "aten::fft_rfftn", "aten::fft_irfftn",
         "aten::fft_fft2", "aten::fft_ifft2", "aten::fft_rfft2", "aten::fft_irfft2"},
        &ComplexRewriter::FftN);
    add({"aten::stft"}, &ComplexRewriter::Stft);
    add({"aten::complex"}, &ComplexRewriter::MakeComplex);
    add({"aten::polar"}, &ComplexRewriter::Polar);
    add({"aten::view_as_complex"}, &ComplexRewriter::ViewAsComplex);
    add({"prim::Constant"}, &ComplexRewriter::ComplexConstant);
    add({"aten::real"}, &ComplexRewriter::Real);
    add({"aten::imag"}, &ComplexRewriter::Imag);
    add({"aten::view_as_real"}, &ComplexRewriter::ViewAsReal);
    add({"aten::abs"}, &ComplexRewriter::Abs);
    add({"aten::angle"}, &ComplexRewriter::Angle);
    add({"aten::conj", "aten::_conj", "aten::conj_physical", "aten::resolve_conj",
         "aten::resolve_neg"},
        &ComplexRewriter::Conj);
    add({"aten::add", "aten::sub", "aten::mul", "aten::div", "aten::neg"},
        &ComplexRewriter::Arithmetic);
    add({"aten::view",    "aten::reshape",    "aten::transpose",    "aten::permute",
         "aten::slice",   "aten::select",     "aten::unsqueeze",    "aten::squeeze",
         "aten::flatten", "aten::contiguous", "aten::clone",        "aten::flip",
         "aten::roll",    "aten::narrow",     "aten::expand",       "aten::repeat",
         "aten::t",       "aten::movedim",    "aten::index_select", "aten::detach",
         "aten::sum",     "aten::mean"},
        &ComplexRewriter::PerPart);
    add({"aten::size", "aten::dim", "aten::numel"}, &ComplexRewriter::SizeQuery);
    return r;
  }();
  return *rules;
}

/// The op that made complex value `v`, for messages.
std::string Origin(const Value* v) { return OpName(v->node()); }

absl::Status ComplexRewriter::RefuseComplexInputs(Node* n) const {
  for (Value* v : n->inputs()) {
    if (!IsComplex(v)) continue;
    const std::string made = absl::StrCat("a complex tensor (made by ", Origin(v), ")");
    if (n->kind() == c10::prim::Return) {
      return ModelError(absl::StrCat(
          "the model returns ", made,
          "; Core ML has no complex tensors: return torch.view_as_real(x), x.real, x.imag or x.abs() instead"));
    }
    if (n->kind() == c10::prim::TupleConstruct || n->kind() == c10::prim::ListConstruct) {
      return ModelError(absl::StrCat(
          OpName(n), ": ", made,
          " is put in a tuple or list (a model output?); Core ML has no complex tensors: use torch.view_as_real(x), x.real, x.imag or x.abs() instead"));
    }
    return ModelError(absl::StrCat(
        OpName(n), ": its input is ", made,
        ", which this op cannot take: Core ML has no complex tensors; pass it torch.view_as_real(x), x.real, x.imag or x.abs() instead"));
  }
  return absl::OkStatus();
}

absl::Status ComplexRewriter::RewriteNode(Node* n) {
  auto rule = Rules().find(n->kind());
  if (rule != Rules().end() && (n->kind() == c10::prim::Constant || n->maybeSchema())) {
    torch::jit::WithInsertPoint guard(n);
    before_ = n->prev();
    absl::StatusOr<bool> took = (this->*(rule->second))(n);
    if (!took.ok()) return took.status();
    if (*took) {
      rewritten_.push_back(n);
      return absl::OkStatus();
    }
  }
  return RefuseComplexInputs(n);
}

absl::Status ComplexRewriter::RewriteBlock(Block* block) {
  const std::vector<Node*> nodes(block->nodes().begin(), block->nodes().end());
  for (Node* n : nodes) {
    if (absl::Status s = RewriteNode(n); !s.ok()) return s;
    for (Block* inner : n->blocks()) {
      if (absl::Status s = RewriteBlock(inner); !s.ok()) return s;
    }
  }
  return RefuseComplexInputs(block->return_node());
}

bool ComplexRewriter::DestroyRewritten() {
  for (auto it = rewritten_.rbegin(); it != rewritten_.rend(); ++it) {
    Node* n = *it;
    const bool used = std::any_of(n->outputs().begin(), n->outputs().end(),
                                  [](Value* v) { return v->hasUses(); });
    if (!used) n->destroy();
  }
  return !rewritten_.empty();
}

}  // namespace

absl::StatusOr<bool> DecomposeComplex(Graph& graph,
                                      const std::vector<std::optional<StaticInputType>>& inputs) {
  ComplexRewriter rewriter(graph, inputs);
  if (absl::Status s = rewriter.RewriteBlock(graph.block()); !s.ok()) return s;
  return rewriter.DestroyRewritten();
}

}  // namespace ts2coreml::core
