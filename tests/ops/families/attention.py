"""torch 1.13's aten::_scaled_dot_product_attention: both outputs (the weights whatever
need_attn_weights says), batch dims of rank 0 to 2 with broadcasting, a value width unlike the
query's, float masks (constant, -inf, run-time), bool masks (True: attend; constant, computed, a model
input), is_causal on square and non-square scores; dropout_p refused by name."""
import torch

from op_cases import Case, Fn, Input

_sdpa = torch.ops.aten._scaled_dot_product_attention


def _bool_mask(*shape, seed=0):
    g = torch.Generator().manual_seed(sum(shape) + seed)
    m = torch.rand(*shape, generator=g) > 0.4
    m[..., 0] = True  # no row fully masked (PyTorch gives NaN there)
    return m


def cases():
    q = Input("q", (2, 3, 4, 8))
    k = Input("k", (2, 3, 5, 8))
    v = Input("v", (2, 3, 5, 6))
    qkv = [q, k, v]
    bm = _bool_mask(4, 5)
    fm = torch.randn(3, 4, 5, generator=torch.Generator().manual_seed(3))
    return [
        Case("sdpa_both_outputs", Fn(lambda q, k, v: _sdpa(q, k, v, None, 0.0, True, False)), qkv),
        Case("sdpa_output_only", Fn(lambda q, k, v: _sdpa(q, k, v)[0]), qkv),
        Case("sdpa_weights_without_need",
             Fn(lambda q, k, v: _sdpa(q, k, v, None, 0.0, False, False)[1]), qkv),
        Case("sdpa_rank2", Fn(lambda q, k, v: _sdpa(q, k, v, None, 0.0, True, False)),
             [Input("q", (4, 8)), Input("k", (6, 8)), Input("v", (6, 3))]),
        Case("sdpa_rank3_broadcast_kv",
             Fn(lambda q, k, v: _sdpa(q, k, v, None, 0.0, True, False)),
             [Input("q", (2, 4, 8)), Input("k", (1, 5, 8)), Input("v", (1, 5, 8))]),
        # A bool mask keeps its class (not promoted to the float compute dtype like an operand of
        # add): constant, computed at run time (broadcast over the keys), or a model input.
        Case("sdpa_bool_mask_const",
             Fn(lambda q, k, v: _sdpa(q, k, v, bm, 0.0, True, False)), qkv),
        Case("sdpa_bool_mask_runtime",
             Fn(lambda q, k, v, m: _sdpa(q, k, v, m > -0.5, 0.0, True, False)[0]),
             qkv + [Input("m", (1, 3, 1, 5), values=[[[[1.0, -1.0, 0.5, -2.0, 0.0]],
                                                      [[-1.0, -1.0, -1.0, -1.0, 0.25]],
                                                      [[0.0, 1.0, 2.0, -0.75, -1.0]]]])]),
        Case("sdpa_bool_mask_input",
             Fn(lambda q, k, v, m: _sdpa(q, k, v, m, 0.0, True, False)),
             qkv + [Input("m", (2, 1, 4, 5), "bool",
                          values=torch.stack([bm, _bool_mask(4, 5, seed=1)]).unsqueeze(1).numpy())]),
        Case("sdpa_additive_inf_mask",
             Fn(lambda q, k, v: _sdpa(q, k, v, torch.zeros(4, 5).masked_fill(~bm, float("-inf")),
                                      0.0, True, False)), qkv),
        Case("sdpa_float_mask", Fn(lambda q, k, v: _sdpa(q, k, v, fm, 0.0, True, False)), qkv),
        Case("sdpa_float_mask_runtime",
             Fn(lambda q, k, v, m: _sdpa(q, k, v, m, 0.0, True, False)[0]),
             qkv + [Input("m", (2, 1, 4, 5))]),
        Case("sdpa_causal_square",
             Fn(lambda q, k, v: _sdpa(q, k, v, None, 0.0, True, True)),
             [Input("q", (2, 5, 8)), Input("k", (2, 5, 8)), Input("v", (2, 5, 4))]),
        Case("sdpa_causal_nonsquare", Fn(lambda q, k, v: _sdpa(q, k, v, None, 0.0, True, True)),
             qkv),
        Case("sdpa_dropout", Fn(lambda q, k, v: _sdpa(q, k, v, None, 0.1, False, False)[0]),
             qkv, refuse="dropout_p"),
    ]
