"""cosine_similarity (dims incl. negative, broadcasting, eps reaching tiny norms), linalg_vecdot
(dims, broadcasting), trace (square, wide, tall, int) and mse_loss (none/mean/sum,
broadcast target), broadcast_tensors, nll_loss (none/mean/sum, weight, ignore_index, 1-d, k-d),
searchsorted (left/right/side, 1-d and batched sequences; sorter refused)."""
import numpy as np
import torch
import torch.nn.functional as F

from op_cases import Case, Fn, Input


def cases():
    x = Input("x", (2, 3, 4))
    y = Input("y", (2, 3, 4))
    tiny = np.zeros((2, 3, 4), np.float32)
    tiny[0, :, 0] = 1e-3
    tiny[1] = np.arange(12, dtype=np.float32).reshape(3, 4) / 7.0
    lp = Input("x", (6, 5))
    tgt = Input("t", (6,), "int64", low=0, high=5)
    w5 = torch.tensor([0.5, 1.0, 2.0, 0.25, 1.5])
    seq = torch.tensor([-1.5, -0.5, 0.0, 0.5, 2.0])
    order = torch.arange(5)
    return [
        Case("cosine_default_dim", Fn(lambda a, b: F.cosine_similarity(a, b)), [x, y]),
        Case("cosine_neg_dim", Fn(lambda a, b: torch.cosine_similarity(a, b, dim=-1)), [x, y]),
        Case("cosine_broadcast", Fn(lambda a, b: F.cosine_similarity(a, b, dim=1)),
             [x, Input("y", (3, 1))]),
        Case("cosine_broadcast_rank", Fn(lambda a, b: F.cosine_similarity(a, b, dim=0)),
             [Input("x", (4,)), Input("y", (5, 4))]),
        Case("cosine_eps", Fn(lambda a, b: F.cosine_similarity(a, b, dim=2, eps=1e-2)),
             [Input("x", (2, 3, 4), values=tiny), y]),
        Case("cosine_module", torch.nn.CosineSimilarity(dim=0, eps=1e-6), [x, y]),
        Case("vecdot", Fn(lambda a, b: torch.linalg.vecdot(a, b)), [x, y]),
        Case("vecdot_dim", Fn(lambda a, b: torch.linalg.vecdot(a, b, dim=-3)), [x, y]),
        Case("vecdot_broadcast", Fn(lambda a, b: torch.linalg.vecdot(a, b, dim=1)),
             [x, Input("y", (1, 3, 1))]),
        Case("trace_square", Fn(lambda a: torch.trace(a)), [Input("x", (5, 5))]),
        Case("trace_wide", Fn(lambda a: torch.trace(a) * a), [Input("x", (3, 7))]),
        Case("trace_tall", Fn(lambda a: a.trace() + a), [Input("x", (6, 2))]),
        Case("trace_int", Fn(lambda a: torch.trace(a)), [Input("x", (4, 4), "int32")]),
        Case("trace_1x1", Fn(lambda a: torch.trace(a) + a), [Input("x", (1, 1))]),
        Case("trace_3d", Fn(lambda a: torch.trace(a[0]) + a), [x]),
        Case("mse_mean", Fn(lambda a, b: F.mse_loss(a, b)), [x, y]),
        Case("mse_sum", Fn(lambda a, b: F.mse_loss(a, b, reduction="sum")), [x, y]),
        Case("mse_none", Fn(lambda a, b: F.mse_loss(a, b, reduction="none")), [x, y]),
        Case("mse_module", torch.nn.MSELoss(), [x, y]),
        Case("nll_mean", Fn(lambda a, t: F.nll_loss(a, t)), [lp, tgt]),
        Case("nll_sum_weight", Fn(lambda a, t: F.nll_loss(a, t, weight=w5, reduction="sum")),
             [lp, tgt]),
        Case("nll_none_ignore", Fn(lambda a, t: F.nll_loss(a, t, ignore_index=2,
                                                            reduction="none")), [lp, tgt]),
        Case("nll_mean_weight_ignore", Fn(lambda a, t: F.nll_loss(a, t, weight=w5,
                                                                   ignore_index=1)), [lp, tgt]),
        Case("nll_2d", Fn(lambda a, t: F.nll_loss(a, t, weight=w5)),
             [Input("x", (2, 5, 3, 4)), Input("t", (2, 3, 4), "int64", low=0, high=5)]),
        Case("nll_2d_none", Fn(lambda a, t: F.nll_loss(a, t, reduction="none", ignore_index=0)),
             [Input("x", (2, 5, 3, 4)), Input("t", (2, 3, 4), "int64", low=0, high=5)]),
        Case("nll_unbatched", Fn(lambda a, t: F.nll_loss(a, t.reshape(()))),
             [Input("x", (5,)), Input("t", (1,), "int64", low=0, high=5)]),
        # aten::nll_loss and aten::nll_loss2d themselves (F.nll_loss traces to nll_loss_nd).
        Case("nll_loss_direct", Fn(lambda a, t: torch._C._nn.nll_loss(a, t, w5, 2, 3)),
             [lp, tgt]),
        Case("nll_loss2d_direct", Fn(lambda a, t: torch._C._nn.nll_loss2d(a, t, None, 0, 1)),
             [Input("x", (2, 5, 3, 4)), Input("t", (2, 3, 4), "int64", low=0, high=5)]),
        Case("searchsorted", Fn(lambda v: torch.searchsorted(seq, v)), [Input("v", (3, 4))]),
        Case("searchsorted_right", Fn(lambda v: torch.searchsorted(seq, v, right=True)),
             [Input("v", (5,), values=np.array([-1.0, 0.0, 0.5, 2.0, 9.0], np.float32))]),
        Case("searchsorted_side", Fn(lambda v: torch.searchsorted(seq, v, side="right",
                                                                 out_int32=True)),
             [Input("v", (2, 3))]),
        Case("searchsorted_batched", Fn(lambda s, v: torch.searchsorted(s, v)),
             [Input("s", (2, 4), values=np.array([[-1, 0, 1, 2], [0, 0.5, 0.75, 3]], np.float32)),
              Input("v", (2, 3))]),
        Case("searchsorted_sorter", Fn(lambda v: torch.searchsorted(seq, v, sorter=order)),
             [Input("v", (3,))], refuse="sorter is not supported"),
        Case("nll_module", torch.nn.NLLLoss(weight=w5, reduction="sum"), [lp, tgt]),
        Case("mse_broadcast_none", Fn(lambda a, b: F.mse_loss(a, b, reduction="none")),
             [x, Input("y", (3, 1))]),
        Case("mse_broadcast_mean", Fn(lambda a, b: F.mse_loss(a, b)), [Input("x", (4,)), y]),
        # broadcast_tensors, which F.mse_loss calls: mixed ranks, a passthrough;
        # mixed dtypes refused.
        Case("broadcast_tensors", Fn(lambda a, b, c: torch.broadcast_tensors(a, b, c)),
             [Input("a", (3, 1)), Input("b", (2, 1, 4)), Input("c", (2, 3, 4))]),
        Case("broadcast_tensors_int", Fn(lambda a, b: torch.broadcast_tensors(a, b)),
             [Input("a", (3, 1), "int32"), Input("b", (1, 5), "int32")]),
        Case("broadcast_tensors_mixed", Fn(lambda a, b: torch.broadcast_tensors(a, b)),
             [Input("a", (3, 1), "int32"), Input("b", (1, 5))], refuse="different dtypes"),
        Case("broadcast_tensors_one", Fn(lambda a: torch.broadcast_tensors(a)[0] * 2), [x]),
    ]
