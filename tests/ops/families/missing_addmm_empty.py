"""addmm/baddbmm/addbmm/addmv/addr with beta=0 consume torch.empty (diffusers' attention scores:
baddbmm(empty, q, k^T, beta=0, alpha=scale)); with beta != 0 reading it stays refused."""
import torch

from op_cases import Case, Fn, Input


def _scores(q, k, beta=0):
    e = torch.empty(q.shape[0], q.shape[1], k.shape[1], dtype=q.dtype, device=q.device)
    return torch.baddbmm(e, q, k.transpose(-1, -2), beta=beta, alpha=0.125).softmax(-1)


def cases():
    q = Input("q", (2, 5, 8))
    k = Input("k", (2, 7, 8))
    m = Input("m", (3, 4))
    n = Input("n", (4, 6))
    v = Input("v", (4,))
    return [
        Case("baddbmm_empty_beta0", Fn(_scores), [q, k]),
        Case("baddbmm_empty_beta0_float", Fn(lambda a, b: torch.baddbmm(
            torch.empty(2, 5, 7), a, b.transpose(1, 2), beta=0.0)), [q, k]),
        Case("addmm_empty_beta0", Fn(lambda a, b: torch.addmm(torch.empty(3, 6), a, b, beta=0,
                                                              alpha=2)), [m, n]),
        Case("addbmm_empty_beta0", Fn(lambda a, b: torch.addbmm(
            torch.empty(5, 7), a, b.transpose(1, 2), beta=0)), [q, k]),
        Case("addmv_empty_beta0", Fn(lambda a, b: torch.addmv(torch.empty(3), a, b, beta=0)),
             [m, v]),
        Case("addr_empty_beta0", Fn(lambda a, b: torch.addr(torch.empty(4, 4), a, b, beta=0)),
             [v, Input("w", (4,))]),
        Case("baddbmm_empty_beta1", Fn(lambda a, b: _scores(a, b, beta=1)), [q, k],
             refuse="uninitialized memory"),
        Case("baddbmm_empty_beta_half", Fn(lambda a, b: _scores(a, b, beta=0.5)), [q, k],
             refuse="uninitialized memory"),
    ]
