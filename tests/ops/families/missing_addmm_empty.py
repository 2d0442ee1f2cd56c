"""addmm/addbmm/addmv/addr with beta=0 consume torch.empty sized from the inputs; with beta != 0
reading it stays refused (checked on diffusers' attention scores pattern, baddbmm(empty, q, k^T,
beta, alpha=scale), with beta 1 and 0.5).

baddbmm with beta=0 converts too (core/convert/analysis_test.cpp), but it has no verified case
here: LibTorch 1.13 running the traced baddbmm sometimes lets the garbage of torch.empty through
(non-finite outputs in about 2-13% of runs), so its reference is not deterministic."""
import torch

from op_cases import Case, Fn, Input


def _empty(*shape, like):
    """torch.empty sized from input shapes, as attention code writes it (tracked as unwritten)."""
    return torch.empty(*shape, dtype=like.dtype, device=like.device)


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
        Case("addmm_empty_beta0", Fn(lambda a, b: torch.addmm(
            _empty(a.shape[0], b.shape[1], like=a), a, b, beta=0, alpha=2)), [m, n]),
        Case("addbmm_empty_beta0", Fn(lambda a, b: torch.addbmm(
            _empty(a.shape[1], b.shape[1], like=a), a, b.transpose(1, 2), beta=0)), [q, k]),
        Case("addmv_empty_beta0", Fn(lambda a, b: torch.addmv(
            _empty(a.shape[0], like=a), a, b, beta=0)), [m, v]),
        Case("addr_empty_beta0", Fn(lambda a, b: torch.addr(
            _empty(a.shape[0], b.shape[0], like=a), a, b, beta=0.0)), [v, Input("w", (4,))]),
        Case("baddbmm_empty_beta1", Fn(lambda a, b: _scores(a, b, beta=1)), [q, k],
             refuse="uninitialized memory"),
        Case("baddbmm_empty_beta_half", Fn(lambda a, b: _scores(a, b, beta=0.5)), [q, k],
             refuse="uninitialized memory"),
    ]
