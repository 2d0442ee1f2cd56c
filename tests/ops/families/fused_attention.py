"""PyTorch's fused transformer kernels, as tracing under torch.no_grad() in eval mode emits them
(torch 1.13): aten::_transformer_encoder_layer_fwd (nn.TransformerEncoderLayer, batch_first) and
aten::_native_multi_head_attention (nn.MultiheadAttention self-attention, batch_first, or a direct
call). The converter decomposes both into primitive ops before planning (core/torch/
decompose_fused.cpp). Every case checks, when it is built, that its trace really holds the fused
op, so a PyTorch that stops emitting it fails here instead of testing the unfused path twice.

Key padding masks (bool inputs) are tested in core/torch/passes/decompose_fused_test.cpp against
LibTorch, as the CLI's --input takes no bool inputs yet."""
import torch
from torch import nn

from op_cases import Case, Fn, Input

E, HEADS, FF, B, T = 16, 4, 32, 2, 5
X = Input("x", (B, T, E))
KINDS = ("aten::_transformer_encoder_layer_fwd", "aten::_native_multi_head_attention")


def _fused(module, *example):
    """`module` in eval mode, after checking that its no_grad trace holds a fused op."""
    module = module.eval()
    torch.manual_seed(0)
    args = [torch.randn(*i.shape) for i in example]
    with torch.no_grad():
        graph = torch.jit.trace(module, tuple(args), check_trace=False).inlined_graph
    if not any(n.kind() in KINDS for n in graph.nodes()):
        raise SystemExit(f"fused_attention: {type(module).__name__} traced without a fused op")
    return module


def _layer(**kw):
    torch.manual_seed(1)
    return nn.TransformerEncoderLayer(E, HEADS, FF, dropout=0.1, batch_first=True, **kw)


class SelfAttention(nn.Module):
    """nn.MultiheadAttention on one tensor, with the given call options."""

    def __init__(self, **call):
        super().__init__()
        torch.manual_seed(2)
        self.mha = nn.MultiheadAttention(E, HEADS, batch_first=True)
        self.call = call

    def forward(self, x):
        out = self.mha(x, x, x, **self.call)
        return out if self.call.get("need_weights", True) else out[0]


class Direct(nn.Module):
    """torch._native_multi_head_attention called directly (distinct query/key/value), with its
    projections as parameters."""

    def __init__(self, mask_type=None, need_weights=True, average=True, weights_out=True):
        super().__init__()
        torch.manual_seed(3)
        self.qkv_w = nn.Parameter(torch.randn(3 * E, E) / 4)
        self.qkv_b = nn.Parameter(torch.randn(3 * E) / 4)
        self.proj_w = nn.Parameter(torch.randn(E, E) / 4)
        self.proj_b = nn.Parameter(torch.randn(E) / 4)
        self.mask_type, self.need_weights, self.average = mask_type, need_weights, average
        self.weights_out = weights_out

    def forward(self, q, k, v, mask=None):
        out, w = torch._native_multi_head_attention(
            q, k, v, E, HEADS, self.qkv_w, self.qkv_b, self.proj_w, self.proj_b, mask,
            self.need_weights, self.average, self.mask_type)
        return (out, w) if self.weights_out else out


def cases():
    qkv = [Input("q", (B, T, E)), Input("k", (B, T, E)), Input("v", (B, T, E))]
    return [
        Case("encoder_relu_post_norm", _fused(_layer(), X), [X]),
        Case("encoder_gelu_norm_first", _fused(_layer(activation="gelu", norm_first=True), X),
             [X]),
        Case("encoder_stack", _fused(nn.TransformerEncoder(_layer(norm_first=True), 2), X), [X]),
        Case("mha_average_weights", _fused(SelfAttention(), X), [X]),
        Case("mha_per_head_weights", _fused(SelfAttention(average_attn_weights=False), X), [X]),
        Case("mha_no_weights", _fused(SelfAttention(need_weights=False), X), [X]),
        Case("direct_cross_attention", _fused(Direct(), *qkv), qkv),
        Case("direct_per_head_weights", _fused(Direct(average=False), *qkv), qkv),
        Case("direct_no_weights", _fused(Direct(need_weights=False, weights_out=False), *qkv),
             qkv),
    ]
