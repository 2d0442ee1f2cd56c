/// Lowerings of aten::lstm, gru, rnn_tanh and rnn_relu (.input and packed .data) and of the four
/// cells. Sequence lengths are static after tracing, so every layer is unrolled over its steps
/// into matmul, add, split, sigmoid/tanh/relu, mul and slice/concat (docs/recurrent.md says why
/// not MIL's lstm/gru/rnn and what each step costs).
#include "recurrent/recurrent_lowerings.h"

#include <string>
#include <vector>

#include "common/mil_emit.h"
#include "recurrent/recurrent_step.h"

namespace ts2coreml::plugins {
namespace {

using recurrent::CellKind;
using recurrent::CellState;
using recurrent::CellWeights;

constexpr uint32_t kAbsent = UINT32_MAX;

/// The three forms of a layer op: over a padded tensor (`.input`), over a packed batch (`.data`),
/// and over a padded tensor with per-row lengths (`ts2coreml::*_padded`, made by the core from
/// pack_padded_sequence -> layer -> pad_packed_sequence).
enum class LayerForm { kPadded, kPacked, kMasked };

/// Where each argument of a layer op sits in its input table (kAbsent: not in this form).
struct LayerInputs {
  LayerForm form;
  uint32_t input, batch_sizes, lengths, hx, params, has_biases, num_layers, dropout, train,
      bidirectional, batch_first, padding_value, total_length, output_batch_first;
};

template <size_t N>
constexpr uint32_t IndexOrAbsent(const t2c_input_decl (&table)[N], const char* name) {
  return name == nullptr ? kAbsent : sdk::InputIndex(table, name);
}

/// The indices of a layer table of form `form`.
template <size_t N>
constexpr LayerInputs LayerIndices(const t2c_input_decl (&t)[N], LayerForm form) {
  const bool packed = form == LayerForm::kPacked;
  const bool masked = form == LayerForm::kMasked;
  return {form,
          sdk::InputIndex(t, packed ? "data" : "input"),
          IndexOrAbsent(t, packed ? "batch_sizes" : nullptr),
          IndexOrAbsent(t, masked ? "lengths" : nullptr),
          sdk::InputIndex(t, "hx"),
          sdk::InputIndex(t, "params"),
          sdk::InputIndex(t, "has_biases"),
          sdk::InputIndex(t, "num_layers"),
          sdk::InputIndex(t, "dropout"),
          sdk::InputIndex(t, "train"),
          sdk::InputIndex(t, "bidirectional"),
          IndexOrAbsent(t, packed ? nullptr : "batch_first"),
          IndexOrAbsent(t, masked ? "padding_value" : nullptr),
          IndexOrAbsent(t, masked ? "total_length" : nullptr),
          IndexOrAbsent(t, masked ? "output_batch_first" : nullptr)};
}

#define T2C_LAYER_FLAGS                                                                       \
  sdk::Host("has_biases"), sdk::Host("num_layers"), sdk::Host("dropout"), sdk::Host("train"), \
      sdk::Host("bidirectional")
#define T2C_MASKED_FLAGS                                                           \
  sdk::Host("batch_first"), sdk::Host("padding_value"), sdk::Host("total_length"), \
      sdk::Host("output_batch_first")

constexpr t2c_input_decl kLstmInputInputs[] = {sdk::Tensor("input"), sdk::TensorList("hx"),
                                               sdk::TensorList("params"), T2C_LAYER_FLAGS,
                                               sdk::Host("batch_first")};
constexpr t2c_input_decl kLstmDataInputs[] = {sdk::Tensor("data"), sdk::Host("batch_sizes"),
                                              sdk::TensorList("hx"), sdk::TensorList("params"),
                                              T2C_LAYER_FLAGS};
constexpr t2c_input_decl kLstmPaddedInputs[] = {
    sdk::Tensor("input"),  sdk::Tensor("lengths", T2C_DTYPE_BIT(T2C_DTYPE_INT32)),
    sdk::TensorList("hx"), sdk::TensorList("params"),
    T2C_LAYER_FLAGS,       T2C_MASKED_FLAGS};
constexpr t2c_input_decl kRnnInputInputs[] = {sdk::Tensor("input"), sdk::Tensor("hx"),
                                              sdk::TensorList("params"), T2C_LAYER_FLAGS,
                                              sdk::Host("batch_first")};
constexpr t2c_input_decl kRnnDataInputs[] = {sdk::Tensor("data"), sdk::Host("batch_sizes"),
                                             sdk::Tensor("hx"), sdk::TensorList("params"),
                                             T2C_LAYER_FLAGS};
constexpr t2c_input_decl kRnnPaddedInputs[] = {
    sdk::Tensor("input"), sdk::Tensor("lengths", T2C_DTYPE_BIT(T2C_DTYPE_INT32)),
    sdk::Tensor("hx"),    sdk::TensorList("params"),
    T2C_LAYER_FLAGS,      T2C_MASKED_FLAGS};
#undef T2C_LAYER_FLAGS
#undef T2C_MASKED_FLAGS

constexpr LayerInputs kLstmInput = LayerIndices(kLstmInputInputs, LayerForm::kPadded);
constexpr LayerInputs kLstmData = LayerIndices(kLstmDataInputs, LayerForm::kPacked);
constexpr LayerInputs kLstmPadded = LayerIndices(kLstmPaddedInputs, LayerForm::kMasked);
constexpr LayerInputs kRnnInput = LayerIndices(kRnnInputInputs, LayerForm::kPadded);
constexpr LayerInputs kRnnData = LayerIndices(kRnnDataInputs, LayerForm::kPacked);
constexpr LayerInputs kRnnPadded = LayerIndices(kRnnPaddedInputs, LayerForm::kMasked);

const char* OpName(CellKind kind) {
  switch (kind) {
    case CellKind::kLstm:
      return "aten::lstm";
    case CellKind::kGru:
      return "aten::gru";
    case CellKind::kRnnTanh:
      return "aten::rnn_tanh";
    case CellKind::kRnnRelu:
      return "aten::rnn_relu";
  }
  return "?";
}

/// Everything a layer op's arguments fix, read the same way by infer and lower.
struct LayerConfig {
  CellKind kind = CellKind::kLstm;
  std::string op;
  int64_t layers = 1, dirs = 1;
  bool has_biases = true, has_proj = false, batch_first = false, unbatched = false;
  bool packed = false;
  bool masked = false;                  ///< per-row lengths mask the state (ts2coreml::*_padded)
  bool output_batch_first = false;      ///< the output's layout (masked; else batch_first)
  int64_t out_steps = 0;                ///< the output's steps (masked: total_length, or T)
  double padding_value = 0;             ///< the output past each row's length (masked)
  int64_t hidden = 0, out = 0;          ///< H, and P (proj_size, or H)
  int64_t per_cell = 0;                 ///< params per (layer, direction)
  int64_t batch = 1;                    ///< B (1 when unbatched)
  std::vector<int64_t> batch_sizes;     ///< rows per step
  std::vector<TensorType> param_types;  ///< the params list's element types
  TensorType input;
};

/// Reads the flags and checks the params list's length; fills layers, dirs, biases and proj.
Status ReadLayerFlags(const NodeView& ctx, const LayerInputs& in, LayerConfig* c) {
  TS2COREML_ASSIGN_OR_RETURN(c->has_biases, ctx.Bool(in.has_biases));
  TS2COREML_ASSIGN_OR_RETURN(c->layers, ctx.Int(in.num_layers));
  TS2COREML_ASSIGN_OR_RETURN(bool bidirectional, ctx.Bool(in.bidirectional));
  TS2COREML_ASSIGN_OR_RETURN(double dropout, ctx.Float(in.dropout));
  TS2COREML_ASSIGN_OR_RETURN(bool train, ctx.Bool(in.train));
  if (in.batch_first != kAbsent) {
    TS2COREML_ASSIGN_OR_RETURN(c->batch_first, ctx.Bool(in.batch_first));
  }
  c->dirs = bidirectional ? 2 : 1;
  if (train && dropout > 0 && c->layers > 1) {
    return ctx.Error(c->op + ": train=True with dropout " + FormatNumber(dropout) +
                     " draws random masks between layers; convert the model in eval() mode");
  }
  if (c->layers < 1) return ctx.InvalidInputs(c->op + ": num_layers must be at least 1");
  TS2COREML_ASSIGN_OR_RETURN(uint32_t n, ctx.ListSize(in.params));
  const int64_t cells = c->layers * c->dirs;
  const int64_t base = c->has_biases ? 4 : 2;
  c->per_cell = static_cast<int64_t>(n) / cells;
  c->has_proj = c->kind == CellKind::kLstm && c->per_cell == base + 1;
  if (static_cast<int64_t>(n) % cells != 0 || (c->per_cell != base && !c->has_proj)) {
    return ctx.InvalidInputs(c->op + ": " + std::to_string(n) + " weights for " +
                             std::to_string(c->layers) + " layer(s) and " +
                             std::to_string(c->dirs) + " direction(s)");
  }
  for (uint32_t k = 0; k < n; ++k) {
    TS2COREML_ASSIGN_OR_RETURN(TensorType t, ctx.ListType(in.params, k));
    c->param_types.push_back(t);
  }
  return Status::Ok();
}

/// The type of the weight `which` (0 w_ih, 1 w_hh, 2 b_ih, 3 b_hh, last w_hr) of a cell.
const TensorType& ParamType(const LayerConfig& c, int64_t cell, int64_t which) {
  return c.param_types[static_cast<size_t>(cell * c.per_cell + which)];
}

/// Checks every weight's shape against H, P and the layer input sizes.
Status CheckWeights(const NodeView& ctx, LayerConfig* c) {
  const int64_t g = recurrent::GateCount(c->kind);
  const TensorType& w_hh = ParamType(*c, 0, 1);
  if (w_hh.rank() != 2 || w_hh.shape[0] % g != 0) {
    return ctx.InvalidInputs(c->op + ": w_hh of shape " + FormatInts(w_hh.shape));
  }
  c->hidden = w_hh.shape[0] / g;
  c->out = w_hh.shape[1];
  for (int64_t cell = 0; cell < c->layers * c->dirs; ++cell) {
    const int64_t in_size = cell < c->dirs ? c->input.shape.back() : c->dirs * c->out;
    std::vector<std::vector<int64_t>> want = {{g * c->hidden, in_size}, {g * c->hidden, c->out}};
    if (c->has_biases) want.insert(want.end(), {{g * c->hidden}, {g * c->hidden}});
    if (c->has_proj) want.push_back({c->out, c->hidden});
    for (size_t k = 0; k < want.size(); ++k) {
      const TensorType& t = ParamType(*c, cell, static_cast<int64_t>(k));
      if (t.shape != want[k]) {
        return ctx.InvalidInputs(c->op + ": weight " + std::to_string(cell * c->per_cell + k) +
                                 " has shape " + FormatInts(t.shape) + ", expected " +
                                 FormatInts(want[k]));
      }
    }
  }
  if (!c->has_proj && c->out != c->hidden) {
    return ctx.InvalidInputs(c->op + ": w_hh of shape " + FormatInts(w_hh.shape));
  }
  return Status::Ok();
}

/// Reads the arguments of a masked layer: the lengths' shape, padding value, total length and
/// output layout.
Status ReadMasking(const NodeView& ctx, const LayerInputs& in, LayerConfig* c) {
  if (c->unbatched) {
    return ctx.InvalidInputs(c->op + ": a packed sequence needs a batch dimension, got input " +
                             FormatInts(c->input.shape));
  }
  TS2COREML_ASSIGN_OR_RETURN(TensorType lengths, ctx.InputType(in.lengths));
  if (lengths.shape != std::vector<int64_t>{c->batch}) {
    return ctx.InvalidInputs(c->op + ": lengths of shape " + FormatInts(lengths.shape) +
                             " for a batch of " + std::to_string(c->batch));
  }
  TS2COREML_ASSIGN_OR_RETURN(c->padding_value, ctx.Float(in.padding_value));
  TS2COREML_ASSIGN_OR_RETURN(int64_t total, ctx.Int(in.total_length));
  TS2COREML_ASSIGN_OR_RETURN(c->output_batch_first, ctx.Bool(in.output_batch_first));
  if (total >= 0) c->out_steps = total;
  if (c->out_steps < 1) {
    return ctx.InvalidInputs(c->op + ": total_length " + std::to_string(total) +
                             " must be positive");
  }
  return Status::Ok();
}

/// Reads batch_sizes (packed) or derives the steps from the input's shape.
Status ReadSteps(const NodeView& ctx, const LayerInputs& in, LayerConfig* c) {
  const TensorType& x = c->input;
  if (c->packed) {
    if (x.rank() != 2) return ctx.InvalidInputs(c->op + ": packed data must be 2-D");
    TS2COREML_ASSIGN_OR_RETURN(c->batch_sizes, ctx.Ints(in.batch_sizes));
    int64_t total = 0;
    for (size_t t = 0; t < c->batch_sizes.size(); ++t) {
      const int64_t b = c->batch_sizes[t];
      if (b < 1 || (t > 0 && b > c->batch_sizes[t - 1])) {
        return ctx.InvalidInputs(c->op + ": batch_sizes " + FormatInts(c->batch_sizes) +
                                 " must be positive and non-increasing");
      }
      total += b;
    }
    if (c->batch_sizes.empty() || total != x.shape[0]) {
      return ctx.InvalidInputs(c->op + ": batch_sizes " + FormatInts(c->batch_sizes) +
                               " do not add up to the " + std::to_string(x.shape[0]) +
                               " rows of data");
    }
    c->batch = c->batch_sizes[0];
    return Status::Ok();
  }
  if (x.rank() != 2 && x.rank() != 3) {
    return ctx.InvalidInputs(c->op + ": input must be 2-D (unbatched) or 3-D, got " +
                             FormatInts(x.shape));
  }
  c->unbatched = x.rank() == 2;
  if (c->unbatched && c->batch_first) {
    return ctx.Error(c->op + ": batch_first=True with an unbatched (2-D) input is not supported; " +
                     "give the input a batch dimension");
  }
  const int64_t steps = c->unbatched || !c->batch_first ? x.shape[0] : x.shape[1];
  c->batch = c->unbatched ? 1 : (c->batch_first ? x.shape[0] : x.shape[1]);
  c->batch_sizes.assign(static_cast<size_t>(steps), c->batch);
  if (steps < 1 || c->batch < 1) {
    return ctx.InvalidInputs(c->op + ": empty input " + FormatInts(x.shape));
  }
  c->out_steps = steps;
  c->output_batch_first = c->batch_first;
  return c->masked ? ReadMasking(ctx, in, c) : Status::Ok();
}

/// The shape of a state tensor of `width` columns ([L * D, B, width], or [L * D, width]).
std::vector<int64_t> StateShape(const LayerConfig& c, int64_t width) {
  if (c.unbatched) return {c.layers * c.dirs, width};
  return {c.layers * c.dirs, c.batch, width};
}

/// Reads and checks everything a layer op's arguments fix.
Expected<LayerConfig> ReadLayerConfig(const NodeView& ctx, CellKind kind, const LayerInputs& in) {
  LayerConfig c;
  c.kind = kind;
  c.packed = in.form == LayerForm::kPacked;
  c.masked = in.form == LayerForm::kMasked;
  const std::string base = std::string(OpName(kind)).substr(std::string("aten::").size());
  c.op = c.masked ? "ts2coreml::" + base + "_padded"
                  : std::string(OpName(kind)) + (c.packed ? ".data" : ".input");
  TS2COREML_ASSIGN_OR_RETURN(c.input, ctx.InputType(in.input));
  TS2COREML_RETURN_IF_ERROR(ReadLayerFlags(ctx, in, &c));
  TS2COREML_RETURN_IF_ERROR(ReadSteps(ctx, in, &c));
  TS2COREML_RETURN_IF_ERROR(CheckWeights(ctx, &c));
  std::vector<TensorType> hx;
  if (kind == CellKind::kLstm) {
    TS2COREML_ASSIGN_OR_RETURN(uint32_t n, ctx.ListSize(in.hx));
    if (n != 2) return ctx.InvalidInputs(c.op + ": hx must hold (h_0, c_0)");
    for (uint32_t k = 0; k < n; ++k) {
      TS2COREML_ASSIGN_OR_RETURN(TensorType t, ctx.ListType(in.hx, k));
      hx.push_back(t);
    }
  } else {
    TS2COREML_ASSIGN_OR_RETURN(TensorType t, ctx.InputType(in.hx));
    hx.push_back(t);
  }
  for (size_t k = 0; k < hx.size(); ++k) {
    const std::vector<int64_t> want = StateShape(c, k == 0 ? c.out : c.hidden);
    if (hx[k].shape != want) {
      return ctx.InvalidInputs(c.op + ": initial state " + std::to_string(k) + " has shape " +
                               FormatInts(hx[k].shape) + ", expected " + FormatInts(want));
    }
  }
  return c;
}

/// Output shapes: output, h_n (and c_n for LSTM).
std::vector<std::vector<int64_t>> LayerOutputShapes(const LayerConfig& c) {
  const int64_t width = c.dirs * c.out;
  std::vector<int64_t> output;
  if (c.packed) {
    output = {c.input.shape[0], width};
  } else if (c.unbatched) {
    output = {c.out_steps, width};
  } else {
    output = c.output_batch_first ? std::vector<int64_t>{c.batch, c.out_steps, width}
                                  : std::vector<int64_t>{c.out_steps, c.batch, width};
  }
  std::vector<std::vector<int64_t>> shapes = {output, StateShape(c, c.out)};
  if (c.kind == CellKind::kLstm) shapes.push_back(StateShape(c, c.hidden));
  return shapes;
}

template <CellKind K, const LayerInputs& In>
Status InferLayer(InferContext& ctx) {
  TS2COREML_ASSIGN_OR_RETURN(LayerConfig c, ReadLayerConfig(ctx, K, In));
  const std::vector<std::vector<int64_t>> shapes = LayerOutputShapes(c);
  for (size_t i = 0; i < shapes.size(); ++i) {
    TS2COREML_RETURN_IF_ERROR(
        ctx.SetOutputType(static_cast<uint32_t>(i), TensorType(T2C_DTYPE_FP32, shapes[i])));
  }
  return Status::Ok();
}

/// The input as rows [T * B, I] in time-major order (packed data already is).
Expected<Var> InputRows(const LowerContext& ctx, const LayerConfig& c, Var x) {
  if (c.packed || c.unbatched) return x;
  if (c.batch_first) {
    TS2COREML_ASSIGN_OR_RETURN(x, EmitTranspose(ctx, x, {1, 0, 2}));
  }
  const int64_t steps = static_cast<int64_t>(c.batch_sizes.size());
  return EmitReshape(ctx, x, {steps * c.batch, c.input.shape.back()});
}

/// The step masks of a masked layer: step t's [B, 1] is `t < lengths` per row.
Expected<std::vector<Var>> StepMasks(const LowerContext& ctx, const LayerConfig& c,
                                     const LayerInputs& in) {
  TS2COREML_ASSIGN_OR_RETURN(Var lengths, ctx.Input(in.lengths));
  TS2COREML_ASSIGN_OR_RETURN(Var column, EmitReshape(ctx, lengths, {c.batch, 1}));
  std::vector<Var> masks;
  for (size_t t = 0; t < c.batch_sizes.size(); ++t) {
    TS2COREML_ASSIGN_OR_RETURN(Var step, ctx.ConstInt(static_cast<int64_t>(t)));
    TS2COREML_ASSIGN_OR_RETURN(Var mask, ctx.Emit1("greater", {{"x", column}, {"y", step}},
                                                   TensorType(T2C_DTYPE_BOOL, {c.batch, 1})));
    masks.push_back(mask);
  }
  return masks;
}

/// Rows [T * B, W] with every row past its sequence's length set to the padding value.
Expected<Var> PadRows(const LowerContext& ctx, const LayerConfig& c, Var rows,
                      const std::vector<Var>& masks) {
  TS2COREML_ASSIGN_OR_RETURN(TensorType t, ctx.TypeOf(rows));
  TS2COREML_ASSIGN_OR_RETURN(Var valid, recurrent::EmitConcat(ctx, masks, 0));
  TS2COREML_ASSIGN_OR_RETURN(
      Var pad, ctx.ConstFloats(t.dtype, {static_cast<float>(c.padding_value)}, {1, 1}));
  return ctx.Emit1("select", {{"cond", valid}, {"a", rows}, {"b", pad}}, t);
}

/// A time-major masked output [T, B, W] cut or padded to total_length steps.
Expected<Var> FitSteps(const LowerContext& ctx, const LayerConfig& c, Var y) {
  const int64_t steps = static_cast<int64_t>(c.batch_sizes.size());
  if (c.out_steps < steps) return recurrent::EmitRows(ctx, y, 0, c.out_steps);
  if (c.out_steps == steps) return y;
  TS2COREML_ASSIGN_OR_RETURN(TensorType t, ctx.TypeOf(y));
  const int64_t extra = c.out_steps - steps;
  const std::vector<float> fill(static_cast<size_t>(extra * c.batch * t.shape[2]),
                                static_cast<float>(c.padding_value));
  TS2COREML_ASSIGN_OR_RETURN(Var tail,
                             ctx.ConstFloats(t.dtype, fill, {extra, c.batch, t.shape[2]}));
  return recurrent::EmitConcat(ctx, {y, tail}, 0);
}

/// The layer output from the last layer's rows [T * B, D * P] (`masks` set for a masked layer).
Expected<Var> OutputFromRows(const LowerContext& ctx, const LayerConfig& c, Var rows,
                             const std::vector<Var>& masks) {
  if (c.packed || c.unbatched) return rows;
  const int64_t steps = static_cast<int64_t>(c.batch_sizes.size());
  if (c.masked) {
    TS2COREML_ASSIGN_OR_RETURN(rows, PadRows(ctx, c, rows, masks));
  }
  TS2COREML_ASSIGN_OR_RETURN(Var y, EmitReshape(ctx, rows, {steps, c.batch, c.dirs * c.out}));
  if (c.masked) {
    TS2COREML_ASSIGN_OR_RETURN(y, FitSteps(ctx, c, y));
  }
  if (!c.output_batch_first) return y;
  return EmitTranspose(ctx, y, {1, 0, 2});
}

/// Cell `cell`'s initial state rows [B, width] from a state tensor.
Expected<Var> InitialRows(const LowerContext& ctx, const LayerConfig& c, Var state, int64_t cell) {
  TS2COREML_ASSIGN_OR_RETURN(Var slice, recurrent::EmitRows(ctx, state, cell, cell + 1));
  if (c.unbatched) return slice;
  TS2COREML_ASSIGN_OR_RETURN(TensorType t, ctx.TypeOf(state));
  return EmitReshape(ctx, slice, {c.batch, t.shape[2]});
}

/// The final states [B, width] (or [1, width] unbatched) stacked into [L * D, ...].
Expected<Var> StackStates(const LowerContext& ctx, const LayerConfig& c,
                          const std::vector<Var>& states) {
  std::vector<Var> parts;
  for (Var s : states) {
    if (c.unbatched) {
      parts.push_back(s);
      continue;
    }
    TS2COREML_ASSIGN_OR_RETURN(TensorType t, ctx.TypeOf(s));
    TS2COREML_ASSIGN_OR_RETURN(Var r, EmitReshape(ctx, s, {1, t.shape[0], t.shape[1]}));
    parts.push_back(r);
  }
  return recurrent::EmitConcat(ctx, parts, 0);
}

/// The weights of cell `cell` (layer * D + direction) from the params list.
CellWeights WeightsOf(const LayerConfig& c, const std::vector<Var>& params, int64_t cell) {
  const auto at = [&](int64_t k) { return params[static_cast<size_t>(cell * c.per_cell + k)]; };
  CellWeights w;
  w.w_ih = at(0);
  w.w_hh = at(1);
  if (c.has_biases) {
    w.b_ih = at(2);
    w.b_hh = at(3);
  }
  if (c.has_proj) w.w_hr = at(c.per_cell - 1);
  return w;
}

/// The initial state tensors: h_0 (and c_0 for LSTM).
Expected<std::vector<Var>> InitialStates(const LowerContext& ctx, const LayerConfig& c,
                                         const LayerInputs& in) {
  if (c.kind == CellKind::kLstm) return ctx.InputList(in.hx);
  TS2COREML_ASSIGN_OR_RETURN(Var h, ctx.Input(in.hx));
  return std::vector<Var>{h};
}

template <CellKind K, const LayerInputs& In>
Status LowerLayer(LowerContext& ctx) {
  TS2COREML_ASSIGN_OR_RETURN(LayerConfig c, ReadLayerConfig(ctx, K, In));
  TS2COREML_ASSIGN_OR_RETURN(Var x, ctx.Input(In.input));
  TS2COREML_ASSIGN_OR_RETURN(std::vector<Var> params, ctx.InputList(In.params));
  TS2COREML_ASSIGN_OR_RETURN(std::vector<Var> hx, InitialStates(ctx, c, In));
  TS2COREML_ASSIGN_OR_RETURN(Var rows, InputRows(ctx, c, x));
  std::vector<Var> masks;
  if (c.masked) {
    TS2COREML_ASSIGN_OR_RETURN(masks, StepMasks(ctx, c, In));
  }
  std::vector<Var> h_n, c_n;
  for (int64_t layer = 0; layer < c.layers; ++layer) {
    std::vector<Var> dir_rows;
    for (int64_t d = 0; d < c.dirs; ++d) {
      const int64_t cell = layer * c.dirs + d;
      const CellWeights w = WeightsOf(c, params, cell);
      CellState init;
      TS2COREML_ASSIGN_OR_RETURN(init.h, InitialRows(ctx, c, hx[0], cell));
      if (K == CellKind::kLstm) {
        TS2COREML_ASSIGN_OR_RETURN(init.c, InitialRows(ctx, c, hx[1], cell));
      }
      TS2COREML_ASSIGN_OR_RETURN(Var gi, recurrent::ProjectInput(ctx, K, rows, w));
      TS2COREML_ASSIGN_OR_RETURN(
          recurrent::DirectionResult r,
          recurrent::RunDirection(ctx, K, gi, c.batch_sizes, masks, /*reverse=*/d == 1, init, w));
      dir_rows.push_back(r.rows);
      h_n.push_back(r.final.h);
      c_n.push_back(r.final.c);
    }
    TS2COREML_ASSIGN_OR_RETURN(rows, recurrent::EmitConcat(ctx, dir_rows, 1));
  }
  TS2COREML_ASSIGN_OR_RETURN(Var output, OutputFromRows(ctx, c, rows, masks));
  TS2COREML_RETURN_IF_ERROR(ctx.SetOutput(0, output));
  TS2COREML_ASSIGN_OR_RETURN(Var h_final, StackStates(ctx, c, h_n));
  TS2COREML_RETURN_IF_ERROR(ctx.SetOutput(1, h_final));
  if (K != CellKind::kLstm) return Status::Ok();
  TS2COREML_ASSIGN_OR_RETURN(Var c_final, StackStates(ctx, c, c_n));
  return ctx.SetOutput(2, c_final);
}

// ---------------------------------------------------------------------------------------------
// Cells.

constexpr t2c_input_decl kLstmCellInputs[] = {
    sdk::Tensor("input"), sdk::TensorList("hx"),       sdk::Tensor("w_ih"),
    sdk::Tensor("w_hh"),  sdk::OptionalTensor("b_ih"), sdk::OptionalTensor("b_hh")};
constexpr t2c_input_decl kRnnCellInputs[] = {
    sdk::Tensor("input"), sdk::Tensor("hx"),           sdk::Tensor("w_ih"),
    sdk::Tensor("w_hh"),  sdk::OptionalTensor("b_ih"), sdk::OptionalTensor("b_hh")};

/// Cell argument positions (the same in both tables).
constexpr uint32_t kCellInput = sdk::InputIndex(kRnnCellInputs, "input");
constexpr uint32_t kCellHx = sdk::InputIndex(kRnnCellInputs, "hx");
constexpr uint32_t kCellWih = sdk::InputIndex(kRnnCellInputs, "w_ih");
constexpr uint32_t kCellWhh = sdk::InputIndex(kRnnCellInputs, "w_hh");
constexpr uint32_t kCellBih = sdk::InputIndex(kRnnCellInputs, "b_ih");
constexpr uint32_t kCellBhh = sdk::InputIndex(kRnnCellInputs, "b_hh");
static_assert(kCellHx == sdk::InputIndex(kLstmCellInputs, "hx") &&
                  kCellBhh == sdk::InputIndex(kLstmCellInputs, "b_hh"),
              "the cell tables must agree on positions");

const char* CellOpName(CellKind kind) {
  switch (kind) {
    case CellKind::kLstm:
      return "aten::lstm_cell";
    case CellKind::kGru:
      return "aten::gru_cell";
    case CellKind::kRnnTanh:
      return "aten::rnn_tanh_cell";
    case CellKind::kRnnRelu:
      return "aten::rnn_relu_cell";
  }
  return "?";
}

/// The state types of a cell node (h, then c for LSTM).
Expected<std::vector<TensorType>> CellStateTypes(const NodeView& ctx, CellKind kind) {
  if (kind != CellKind::kLstm) {
    TS2COREML_ASSIGN_OR_RETURN(TensorType h, ctx.InputType(kCellHx));
    return std::vector<TensorType>{h};
  }
  TS2COREML_ASSIGN_OR_RETURN(uint32_t n, ctx.ListSize(kCellHx));
  if (n != 2) return ctx.InvalidInputs("aten::lstm_cell: hx must hold (h, c)");
  std::vector<TensorType> types;
  for (uint32_t k = 0; k < n; ++k) {
    TS2COREML_ASSIGN_OR_RETURN(TensorType t, ctx.ListType(kCellHx, k));
    types.push_back(t);
  }
  return types;
}

/// Checks a cell's input, state and weight shapes against each other.
Status CheckCell(const NodeView& ctx, CellKind kind, const std::vector<TensorType>& states) {
  const std::string op = CellOpName(kind);
  TS2COREML_ASSIGN_OR_RETURN(TensorType x, ctx.InputType(kCellInput));
  TS2COREML_ASSIGN_OR_RETURN(TensorType w_ih, ctx.InputType(kCellWih));
  TS2COREML_ASSIGN_OR_RETURN(TensorType w_hh, ctx.InputType(kCellWhh));
  const int64_t g = recurrent::GateCount(kind);
  const int64_t h = states[0].shape.empty() ? 0 : states[0].shape.back();
  // ATen's cells take a batch: [B, I] input, [B, H] states (nn.*Cell adds it to 1-D inputs).
  bool ok = x.rank() == 2 && w_ih.shape.size() == 2 &&
            w_ih.shape == std::vector<int64_t>{g * h, x.shape.back()} &&
            w_hh.shape == std::vector<int64_t>{g * h, h};
  std::vector<int64_t> state_shape = x.shape;
  state_shape.back() = h;
  for (const TensorType& s : states) ok = ok && s.shape == state_shape;
  for (uint32_t b : {kCellBih, kCellBhh}) {
    if (ctx.IsNone(b)) continue;
    TS2COREML_ASSIGN_OR_RETURN(TensorType bt, ctx.InputType(b));
    ok = ok && bt.shape == std::vector<int64_t>{g * h};
  }
  if (!ok) {
    return ctx.InvalidInputs(op + ": input " + FormatInts(x.shape) + ", state " +
                             FormatInts(states[0].shape) + ", w_ih " + FormatInts(w_ih.shape) +
                             " and w_hh " + FormatInts(w_hh.shape) + " do not fit");
  }
  return Status::Ok();
}

template <CellKind K>
Status InferCell(InferContext& ctx) {
  TS2COREML_ASSIGN_OR_RETURN(std::vector<TensorType> states, CellStateTypes(ctx, K));
  TS2COREML_RETURN_IF_ERROR(CheckCell(ctx, K, states));
  for (size_t i = 0; i < states.size(); ++i) {
    TS2COREML_RETURN_IF_ERROR(
        ctx.SetOutputType(static_cast<uint32_t>(i), TensorType(T2C_DTYPE_FP32, states[i].shape)));
  }
  return Status::Ok();
}

template <CellKind K>
Status LowerCell(LowerContext& ctx) {
  CellWeights w;
  TS2COREML_ASSIGN_OR_RETURN(w.w_ih, ctx.Input(kCellWih));
  TS2COREML_ASSIGN_OR_RETURN(w.w_hh, ctx.Input(kCellWhh));
  if (!ctx.IsNone(kCellBih)) {
    TS2COREML_ASSIGN_OR_RETURN(w.b_ih, ctx.Input(kCellBih));
  }
  if (!ctx.IsNone(kCellBhh)) {
    TS2COREML_ASSIGN_OR_RETURN(w.b_hh, ctx.Input(kCellBhh));
  }
  TS2COREML_ASSIGN_OR_RETURN(Var x, ctx.Input(kCellInput));
  CellState s;
  if (K == CellKind::kLstm) {
    TS2COREML_ASSIGN_OR_RETURN(std::vector<Var> hx, ctx.InputList(kCellHx));
    s.h = hx[0];
    s.c = hx[1];
  } else {
    TS2COREML_ASSIGN_OR_RETURN(s.h, ctx.Input(kCellHx));
  }
  TS2COREML_ASSIGN_OR_RETURN(Var gi, recurrent::ProjectInput(ctx, K, x, w));
  TS2COREML_ASSIGN_OR_RETURN(CellState next, recurrent::EmitStep(ctx, K, gi, s, w));
  TS2COREML_RETURN_IF_ERROR(ctx.SetOutput(0, next.h));
  if (K != CellKind::kLstm) return Status::Ok();
  return ctx.SetOutput(1, next.c);
}

// ---------------------------------------------------------------------------------------------
// A packed batch the core did not rewrite.

/// The core rewrites pack_padded_sequence -> layer -> pad_packed_sequence into a padded layer
/// (core/torch/passes/fold_packed_sequences.h); a pack left over is one whose packed output is read
/// otherwise, which has sum(lengths) rows: a shape known only at run time. Declared so that the
/// refusal says what converts; a plugin of higher priority can lower it instead.
template <typename Context>
Status RefuseLeftoverPack(Context& ctx) {
  return ctx.Error(
      "aten::_pack_padded_sequence: a packed batch converts only when it feeds one LSTM, GRU or RNN layer whose packed output only pad_packed_sequence reads (or nothing does); unpack it with pad_packed_sequence after each layer");
}

constexpr t2c_input_decl kPackInputs[] = {sdk::Tensor("input", T2C_MASK_ANY),
                                          sdk::Ignored("lengths"), sdk::Ignored("batch_first")};

// ---------------------------------------------------------------------------------------------
// Declarations.

/// Recurrent state accumulates rounding error over the steps: measured in docs/recurrent.md
/// ("FP16"), fp16 compute misses the fp16 tolerance over 256 steps where fp32 compute is exact to
/// 1e-5.
constexpr t2c_fp16_policy kPolicy = T2C_FP16_NEEDS_FP32_COMPUTE;

constexpr const char* kLstmInputOps[] = {"aten::lstm.input"};
constexpr const char* kLstmDataOps[] = {"aten::lstm.data"};
constexpr const char* kGruInputOps[] = {"aten::gru.input"};
constexpr const char* kGruDataOps[] = {"aten::gru.data"};
constexpr const char* kRnnTanhInputOps[] = {"aten::rnn_tanh.input"};
constexpr const char* kRnnTanhDataOps[] = {"aten::rnn_tanh.data"};
constexpr const char* kRnnReluInputOps[] = {"aten::rnn_relu.input"};
constexpr const char* kRnnReluDataOps[] = {"aten::rnn_relu.data"};
constexpr const char* kLstmPaddedOps[] = {"ts2coreml::lstm_padded"};
constexpr const char* kGruPaddedOps[] = {"ts2coreml::gru_padded"};
constexpr const char* kRnnTanhPaddedOps[] = {"ts2coreml::rnn_tanh_padded"};
constexpr const char* kRnnReluPaddedOps[] = {"ts2coreml::rnn_relu_padded"};
constexpr const char* kPackOps[] = {"aten::_pack_padded_sequence"};
constexpr const char* kLstmCellOps[] = {"aten::lstm_cell"};
constexpr const char* kGruCellOps[] = {"aten::gru_cell"};
constexpr const char* kRnnTanhCellOps[] = {"aten::rnn_tanh_cell"};
constexpr const char* kRnnReluCellOps[] = {"aten::rnn_relu_cell"};

#define T2C_LAYER(name, ops, inputs, kind, in)                                                    \
  sdk::Lowering(name, ops, inputs, kPolicy, T2C_INFER_CUSTOM, sdk::InferFn<InferLayer<kind, in>>, \
                sdk::LowerFn<LowerLayer<kind, in>>)
#define T2C_CELL(name, ops, inputs, kind)                                                    \
  sdk::Lowering(name, ops, inputs, kPolicy, T2C_INFER_CUSTOM, sdk::InferFn<InferCell<kind>>, \
                sdk::LowerFn<LowerCell<kind>>)

constexpr t2c_lowering_decl kLowerings[] = {
    T2C_LAYER("lstm", kLstmInputOps, kLstmInputInputs, CellKind::kLstm, kLstmInput),
    T2C_LAYER("lstm_packed", kLstmDataOps, kLstmDataInputs, CellKind::kLstm, kLstmData),
    T2C_LAYER("gru", kGruInputOps, kRnnInputInputs, CellKind::kGru, kRnnInput),
    T2C_LAYER("gru_packed", kGruDataOps, kRnnDataInputs, CellKind::kGru, kRnnData),
    T2C_LAYER("rnn_tanh", kRnnTanhInputOps, kRnnInputInputs, CellKind::kRnnTanh, kRnnInput),
    T2C_LAYER("rnn_tanh_packed", kRnnTanhDataOps, kRnnDataInputs, CellKind::kRnnTanh, kRnnData),
    T2C_LAYER("rnn_relu", kRnnReluInputOps, kRnnInputInputs, CellKind::kRnnRelu, kRnnInput),
    T2C_LAYER("rnn_relu_packed", kRnnReluDataOps, kRnnDataInputs, CellKind::kRnnRelu, kRnnData),
    T2C_LAYER("lstm_padded", kLstmPaddedOps, kLstmPaddedInputs, CellKind::kLstm, kLstmPadded),
    T2C_LAYER("gru_padded", kGruPaddedOps, kRnnPaddedInputs, CellKind::kGru, kRnnPadded),
    T2C_LAYER("rnn_tanh_padded", kRnnTanhPaddedOps, kRnnPaddedInputs, CellKind::kRnnTanh,
              kRnnPadded),
    T2C_LAYER("rnn_relu_padded", kRnnReluPaddedOps, kRnnPaddedInputs, CellKind::kRnnRelu,
              kRnnPadded),
    sdk::Lowering("pack_padded_sequence", kPackOps, kPackInputs, T2C_FP16_NATIVE, T2C_INFER_CUSTOM,
                  sdk::InferFn<RefuseLeftoverPack<InferContext>>,
                  sdk::LowerFn<RefuseLeftoverPack<LowerContext>>),
    T2C_CELL("lstm_cell", kLstmCellOps, kLstmCellInputs, CellKind::kLstm),
    T2C_CELL("gru_cell", kGruCellOps, kRnnCellInputs, CellKind::kGru),
    T2C_CELL("rnn_tanh_cell", kRnnTanhCellOps, kRnnCellInputs, CellKind::kRnnTanh),
    T2C_CELL("rnn_relu_cell", kRnnReluCellOps, kRnnCellInputs, CellKind::kRnnRelu),
};
#undef T2C_LAYER
#undef T2C_CELL

constexpr t2c_plugin_info kInfo = sdk::PluginInfo("ts2coreml.recurrent", "0.1.0", kLowerings);

}  // namespace

const t2c_plugin_info* RecurrentPluginInfo() { return &kInfo; }

}  // namespace ts2coreml::plugins
