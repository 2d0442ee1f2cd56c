"""Reductions and search ops: argmax/argmin (dim None, keepdim), full and binary max/min, max/min
over a dim with their indices, amax/amin over dim lists, prod, logsumexp, the norms (p = 0, 1, 2,
+-inf, other p, matrix orders, dim lists, keepdim), cumsum, cumprod, topk, sort/argsort, all/any,
count_nonzero, sum/mean dtype arguments and std/var corrections."""
import numpy as np
import torch

from op_cases import Case, Fn, Input

INF = float("inf")


def cases():
    x = Input("x", (2, 3, 4))
    d = Input("x", (2, 5, 4), distinct=True)
    di = Input("x", (3, 6), "int32", low=-50, high=50)
    pos = Input("x", (2, 3, 4), low=0.5, high=1.5)
    c = []
    # argmax / argmin: index outputs; distinct values so no two tie in fp16.
    c += [
        Case("argmax_flat", Fn(lambda a: torch.argmax(a)), [d]),
        Case("argmax_flat_keepdim", Fn(lambda a: torch.argmax(a, keepdim=True)), [d]),
        Case("argmax_dim", Fn(lambda a: torch.argmax(a, 1)), [d]),
        Case("argmin_neg_dim_keepdim", Fn(lambda a: torch.argmin(a, -1, True)), [d]),
        Case("argmin_int", Fn(lambda a: torch.argmin(a, 0)),
             [Input("x", (5, 7), "int32", values=np.random.default_rng(1)
                    .permutation(35).reshape(5, 7))], precisions=("fp32",)),
    ]
    # max / min: full, binary, over a dim with indices.
    c += [
        Case("max_full", Fn(lambda a: torch.max(a)), [x]),
        Case("min_full_int", Fn(lambda a: torch.min(a)), [di], precisions=("fp32",)),
        Case("max_other_broadcast", Fn(lambda a, b: torch.max(a, b)), [x, Input("y", (3, 1))]),
        Case("min_other", Fn(lambda a, b: torch.min(a, b)), [x, Input("y", (2, 3, 4))]),
        Case("max_dim_both", Fn(lambda a: torch.max(a, 1)), [d]),
        Case("min_dim_keepdim_both", Fn(lambda a: torch.min(a, -1, keepdim=True)), [d]),
        Case("max_dim_indices", Fn(lambda a: torch.max(a, 0)[1]), [d]),
        Case("amax_dims", Fn(lambda a: torch.amax(a, (0, 2))), [x]),
        Case("amin_neg_dims_keepdim", Fn(lambda a: torch.amin(a, (-1, 1), keepdim=True)), [x]),
        Case("amax_all", Fn(lambda a: torch.amax(a, ())), [x]),
    ]
    # prod, logsumexp.
    c += [
        Case("prod_full", Fn(lambda a: torch.prod(a)), [pos]),
        Case("prod_dim", Fn(lambda a: torch.prod(a, 1)), [x]),
        Case("prod_dim_keepdim_neg", Fn(lambda a: torch.prod(a, -1, keepdim=True)), [x]),
        Case("prod_int", Fn(lambda a: torch.prod(a, 0)),
             [Input("x", (3, 5), "int32", low=-4, high=5)], precisions=("fp32",)),
        Case("logsumexp_dims", Fn(lambda a: torch.logsumexp(a, (0, 2))),
             [Input("x", (2, 3, 4), low=-40, high=40)]),
        Case("logsumexp_keepdim", Fn(lambda a: torch.logsumexp(a, -1, keepdim=True)), [x]),
    ]
    # norms.
    c += [
        Case("norm_default", Fn(lambda a: torch.norm(a)), [x]),
        Case("norm_p1_dim", Fn(lambda a: a.norm(1, 1)), [x]),
        Case("norm_p3_dims_keepdim", Fn(lambda a: a.norm(3, (0, -1), True)), [x]),
        Case("norm_inf", Fn(lambda a: torch.norm(a, p=INF, dim=1)), [x]),
        Case("norm_fro_dims", Fn(lambda a: torch.norm(a, p="fro", dim=(1, 2))), [x]),
        Case("vector_norm_neg_inf", Fn(lambda a: torch.linalg.vector_norm(a, -INF, (1,))), [x]),
        Case("vector_norm_p0", Fn(lambda a: torch.linalg.vector_norm(a, 0)),
             [Input("x", (3, 5), values=np.array(
                 [[0, 1, 2, 0, 3], [4, 0, 0, 0, 5], [0, 0, 6, 7, 0]]))]),
        Case("vector_norm_p_half", Fn(lambda a: torch.linalg.vector_norm(a, 0.5, -1, True)),
             [x]),
        Case("linalg_norm_default", Fn(lambda a: torch.linalg.norm(a)), [x]),
        Case("linalg_norm_dim", Fn(lambda a: torch.linalg.norm(a, dim=1)), [x]),
        Case("linalg_norm_vector_ord", Fn(lambda a: torch.linalg.norm(a, 3, -1)), [x]),
        Case("linalg_norm_matrix_inf", Fn(lambda a: torch.linalg.norm(a, INF)),
             [Input("x", (3, 5))]),
        Case("linalg_norm_matrix_1_dims", Fn(lambda a: torch.linalg.norm(a, -1, (2, 1), True)),
             [x]),
        Case("linalg_norm_matrix_fro", Fn(lambda a: torch.linalg.norm(a, "fro", (0, 2))), [x]),
        Case("linalg_norm_nuc", Fn(lambda a: torch.linalg.norm(a, "nuc")), [Input("x", (3, 5))],
             refuse="'nuc'"),
        Case("linalg_norm_matrix_2", Fn(lambda a: torch.linalg.norm(a, 2)), [Input("x", (3, 5))],
             refuse="ord 2"),
    ]
    # cumsum.
    c += [
        Case("cumsum_dim", Fn(lambda a: torch.cumsum(a, 1)), [x]),
        Case("cumsum_neg_dim", Fn(lambda a: torch.cumsum(a, -1)), [x]),
        Case("cumsum_int", Fn(lambda a: torch.cumsum(a, 0)), [di], precisions=("fp32",)),
        Case("cumprod_dim", Fn(lambda a: torch.cumprod(a, 1)), [x]),
        Case("cumprod_neg_dim", Fn(lambda a: torch.cumprod(a, -1)), [pos]),
        Case("cumprod_int", Fn(lambda a: torch.cumprod(a, 1)),
             [Input("x", (3, 5), "int32", low=-3, high=4)], precisions=("fp32",)),
        Case("cumsum_int_to_float", Fn(lambda a: torch.cumsum(a, 1, dtype=torch.float32)), [di]),
    ]
    # topk, sort, argsort.
    c += [
        Case("topk_last", Fn(lambda a: torch.topk(a, 3)), [d]),
        Case("topk_smallest_dim1", Fn(lambda a: torch.topk(a, 2, 1, largest=False)), [d]),
        Case("topk_neg_dim_values", Fn(lambda a: torch.topk(a, 1, -3)[0]), [d]),
        Case("topk_int", Fn(lambda a: torch.topk(a, 4, 1)),
             [Input("x", (3, 6), "int32", values=np.random.default_rng(2)
                    .permutation(18).reshape(3, 6))], precisions=("fp32",)),
        Case("sort_default", Fn(lambda a: torch.sort(a)), [d]),
        Case("sort_descending_dim0", Fn(lambda a: torch.sort(a, 0, descending=True)), [d]),
        Case("sort_stable", Fn(lambda a: torch.sort(a, dim=1, stable=True)), [d]),
        Case("argsort", Fn(lambda a: torch.argsort(a, 1)), [d]),
        Case("argsort_descending", Fn(lambda a: torch.argsort(a, -1, descending=True)), [d]),
    ]
    # all / any / count_nonzero.
    bools = Input("m", (3, 4), "bool")
    c += [
        Case("any_full", Fn(lambda a: torch.any(a > 1.0)), [x]),
        Case("all_dim", Fn(lambda a: torch.all(a, 1)), [bools]),
        Case("any_dim_keepdim", Fn(lambda a: torch.any(a, -1, keepdim=True)), [bools]),
        Case("all_float", Fn(lambda a: torch.all(a)), [x]),
        Case("all_int_dim", Fn(lambda a: torch.all(a, 0)),
             [Input("x", (3, 4), "int32", low=0, high=3)], precisions=("fp32",)),
        Case("count_nonzero_dims", Fn(lambda a: torch.count_nonzero(a, (0, 1))),
             [Input("x", (3, 4, 2), "int32", low=-1, high=2)], precisions=("fp32",)),
        Case("count_nonzero_full", Fn(lambda a: torch.count_nonzero(torch.relu(a))), [x]),
        Case("count_nonzero_dim", Fn(lambda a: torch.count_nonzero(torch.relu(a), -1)), [x]),
    ]
    # sum / mean with dtype, std / var corrections.
    c += [
        Case("sum_int_dtype_float", Fn(lambda a: torch.sum(a, 1, dtype=torch.float32)), [di]),
        Case("mean_int_dtype_float", Fn(lambda a: torch.mean(a, (0,), dtype=torch.float32)),
             [di]),
        Case("mean_dims_keepdim", Fn(lambda a: torch.mean(a, (-1, 0), True)), [x]),
        Case("std_dims_unbiased", Fn(lambda a: torch.std(a, (0, 2))), [x]),
        Case("var_correction", Fn(lambda a: torch.var(a, 1, correction=2, keepdim=True)), [x]),
        Case("var_biased_full", Fn(lambda a: torch.var(a, unbiased=False)), [x]),
    ]
    return c
