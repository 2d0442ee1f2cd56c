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
    # Int tensors come from argsort (the CLI's inputs are float): permutations of 0..n-1.
    di = Input("x", (3, 6), distinct=True)
    pos = Input("x", (2, 3, 4), low=0.5, high=1.5)
    c = []
    # argmax / argmin: index outputs; distinct values so no two tie in fp16.
    c += [
        Case("argmax_flat", Fn(lambda x: torch.argmax(x)), [d]),
        Case("argmax_flat_keepdim", Fn(lambda x: torch.argmax(x, keepdim=True)), [d]),
        Case("argmax_dim", Fn(lambda x: torch.argmax(x, 1)), [d]),
        Case("argmin_neg_dim_keepdim", Fn(lambda x: torch.argmin(x, -1, True)), [d]),
        Case("argmin_int", Fn(lambda x: torch.argmin(torch.argsort(x, 1), 0)), [d]),
    ]
    # max / min: full, binary, over a dim with indices.
    c += [
        Case("max_full", Fn(lambda x: torch.max(x)), [x]),
        Case("max_full_int", Fn(lambda x: torch.max(torch.argsort(x, 0))), [di]),
        Case("max_other_broadcast", Fn(lambda x, y: torch.max(x, y)), [x, Input("y", (3, 1))]),
        Case("min_other", Fn(lambda x, y: torch.min(x, y)), [x, Input("y", (2, 3, 4))]),
        Case("max_dim_both", Fn(lambda x: torch.max(x, 1)), [d]),
        Case("min_dim_keepdim_both", Fn(lambda x: torch.min(x, -1, keepdim=True)), [d]),
        Case("max_dim_indices", Fn(lambda x: torch.max(x, 0)[1]), [d]),
        Case("amax_dims", Fn(lambda x: torch.amax(x, (0, 2))), [x]),
        Case("amin_neg_dims_keepdim", Fn(lambda x: torch.amin(x, (-1, 1), keepdim=True)), [x]),
        Case("aminmax_full", Fn(lambda x: torch.aminmax(x)), [x]),
        Case("aminmax_dim_keepdim", Fn(lambda x: torch.aminmax(x, dim=-2, keepdim=True)), [x]),
        Case("amax_all", Fn(lambda x: torch.amax(x, ())), [x]),
    ]
    # prod, logsumexp.
    c += [
        Case("prod_full", Fn(lambda x: torch.prod(x)), [pos]),
        Case("prod_dim", Fn(lambda x: torch.prod(x, 1)), [x]),
        Case("prod_dim_keepdim_neg", Fn(lambda x: torch.prod(x, -1, keepdim=True)), [x]),
        Case("prod_int", Fn(lambda x: torch.prod(torch.argsort(x, 0), 1)),
             [Input("x", (3, 5), distinct=True)]),
        Case("logsumexp_dims", Fn(lambda x: torch.logsumexp(x, (0, 2))),
             [Input("x", (2, 3, 4), low=-40, high=40)]),
        Case("logsumexp_keepdim", Fn(lambda x: torch.logsumexp(x, -1, keepdim=True)), [x]),
    ]
    # norms.
    c += [
        Case("norm_default", Fn(lambda x: torch.norm(x)), [x]),
        Case("norm_p1_dim", Fn(lambda x: x.norm(1, 1)), [x]),
        Case("norm_p3_dims_keepdim", Fn(lambda x: x.norm(3, (0, -1), True)), [x]),
        Case("norm_inf", Fn(lambda x: torch.norm(x, p=INF, dim=1)), [x]),
        Case("norm_fro_dims", Fn(lambda x: torch.norm(x, p="fro", dim=(1, 2))), [x]),
        Case("vector_norm_neg_inf", Fn(lambda x: torch.linalg.vector_norm(x, -INF, (1,))), [x]),
        Case("vector_norm_p0", Fn(lambda x: torch.linalg.vector_norm(x, 0)),
             [Input("x", (3, 5), values=np.array(
                 [[0, 1, 2, 0, 3], [4, 0, 0, 0, 5], [0, 0, 6, 7, 0]]))]),
        Case("vector_norm_p_half", Fn(lambda x: torch.linalg.vector_norm(x, 0.5, -1, True)),
             [x]),
        Case("linalg_norm_default", Fn(lambda x: torch.linalg.norm(x)), [x]),
        Case("linalg_norm_dim", Fn(lambda x: torch.linalg.norm(x, dim=1)), [x]),
        Case("linalg_norm_vector_ord", Fn(lambda x: torch.linalg.norm(x, 3, -1)), [x]),
        Case("linalg_norm_matrix_inf", Fn(lambda x: torch.linalg.norm(x, INF)),
             [Input("x", (3, 5))]),
        Case("linalg_norm_matrix_1_dims", Fn(lambda x: torch.linalg.norm(x, -1, (2, 1), True)),
             [x]),
        Case("linalg_norm_matrix_fro", Fn(lambda x: torch.linalg.norm(x, "fro", (0, 2))), [x]),
        Case("matrix_norm_fro", Fn(lambda x: torch.linalg.matrix_norm(x)), [x]),
        Case("matrix_norm_neg_inf_keepdim",
             Fn(lambda x: torch.linalg.matrix_norm(x, -INF, (0, 2), keepdim=True)), [x]),
        Case("matrix_norm_1", Fn(lambda x: torch.linalg.matrix_norm(x, 1)), [x]),
        Case("linalg_norm_nuc", Fn(lambda x: torch.linalg.norm(x, "nuc")), [Input("x", (3, 5))],
             refuse="'nuc'"),
        Case("linalg_norm_matrix_2", Fn(lambda x: torch.linalg.norm(x, 2)), [Input("x", (3, 5))],
             refuse="ord 2"),
    ]
    # cumsum.
    c += [
        Case("cumsum_dim", Fn(lambda x: torch.cumsum(x, 1)), [x]),
        Case("cumsum_neg_dim", Fn(lambda x: torch.cumsum(x, -1)), [x]),
        Case("cumsum_int", Fn(lambda x: torch.cumsum(torch.argsort(x, 1), 0)), [di]),
        Case("cumprod_dim", Fn(lambda x: torch.cumprod(x, 1)), [x]),
        Case("cumprod_neg_dim", Fn(lambda x: torch.cumprod(x, -1)), [pos]),
        Case("cumprod_int", Fn(lambda x: torch.cumprod(torch.argsort(x, 0), 1)),
             [Input("x", (3, 5), distinct=True)]),
        Case("logcumsumexp", Fn(lambda x: torch.logcumsumexp(x, 1)),
             [Input("x", (2, 5, 3), low=-30, high=30)]),
        Case("logcumsumexp_neg_dim", Fn(lambda x: torch.logcumsumexp(x, -1)), [x]),
        Case("cummax", Fn(lambda x: torch.cummax(x, 1)), [d]),
        Case("cummin_neg_dim", Fn(lambda x: torch.cummin(x, -1)), [d]),
        # Repeated values: the index is the last of equal extremes.
        Case("cummax_int_ties", Fn(lambda x: torch.cummax(torch.argsort(x, 0), 1)), [di]),
        Case("cummin_int_ties", Fn(lambda x: torch.cummin(torch.argsort(x, 0), 1)), [di]),
        Case("cumsum_int_to_float",
             Fn(lambda x: torch.cumsum(torch.argsort(x, 0), 1, dtype=torch.float32)), [di]),
    ]
    # topk, sort, argsort.
    c += [
        Case("topk_last", Fn(lambda x: torch.topk(x, 3)), [d]),
        Case("topk_smallest_dim1", Fn(lambda x: torch.topk(x, 2, 1, largest=False)), [d]),
        Case("topk_neg_dim_values", Fn(lambda x: torch.topk(x, 1, -3)[0]), [d]),
        Case("topk_int", Fn(lambda x: torch.topk(torch.argsort(x, 0), 2, 0)), [di]),
        Case("topk_unsorted_partial_sort", Fn(lambda x: torch.topk(x, 2, sorted=False)),
             [Input("x", (3, 130), distinct=True)]),
        Case("topk_unsorted_nth_element", Fn(lambda x: torch.topk(x, 3, sorted=False)), [d],
             refuse="returns PyTorch's unsorted order"),
        Case("sort_default", Fn(lambda x: torch.sort(x)), [d]),
        Case("sort_descending_dim0", Fn(lambda x: torch.sort(x, 0, descending=True)), [d]),
        Case("sort_stable", Fn(lambda x: torch.sort(x, dim=1, stable=True)), [d]),
        Case("argsort", Fn(lambda x: torch.argsort(x, 1)), [d]),
        Case("argsort_stable",
             Fn(lambda x: torch.ops.aten.argsort.stable(x, stable=True, dim=0)), [d]),
        Case("median_full_even", Fn(lambda x: torch.median(x)), [d]),
        Case("median_full_odd", Fn(lambda x: torch.median(x)), [Input("x", (3, 5), distinct=True)]),
        Case("median_dim", Fn(lambda x: torch.median(x, 1)), [d]),
        Case("median_neg_dim_keepdim", Fn(lambda x: torch.median(x, -1, keepdim=True)), [d]),
        Case("median_int_values", Fn(lambda x: torch.median(torch.argsort(x, 1), 1)[0]), [d]),
        Case("kthvalue", Fn(lambda x: torch.kthvalue(x, 2, 1)), [d]),
        Case("kthvalue_last_keepdim", Fn(lambda x: torch.kthvalue(x, 4, -1, True)), [d]),
        Case("argsort_descending", Fn(lambda x: torch.argsort(x, -1, descending=True)), [d]),
    ]
    # all / any / count_nonzero. Core ML models cannot return bool: "* 1.0" makes the result a
    # float output (exactly 0 or 1); bool inputs come from comparisons.
    m = Input("x", (3, 4))
    c += [
        Case("any_full", Fn(lambda x: torch.any(x > 1.0) * 1.0), [x]),
        Case("all_dim", Fn(lambda x: torch.all(x > -0.8, 1) * 1.0), [m]),
        Case("any_dim_keepdim", Fn(lambda x: torch.any(x > 1.0, -1, keepdim=True) * 1.0), [m]),
        Case("all_float_dim", Fn(lambda x: torch.all(torch.relu(x), 1) * 1.0),
             [Input("x", (6, 4), low=-0.3, high=2.0)]),
        Case("all_float_full", Fn(lambda x: torch.all(x) * 1.0), [x]),
        Case("all_int_dim", Fn(lambda x: torch.all(torch.argsort(x, 0), 1) * 1.0),
             [Input("x", (2, 6), distinct=True)]),
        Case("count_nonzero_dims", Fn(lambda x: torch.count_nonzero(torch.argsort(x, 0), (0, 1))),
             [d]),
        Case("count_nonzero_full", Fn(lambda x: torch.count_nonzero(torch.relu(x))), [x]),
        Case("count_nonzero_dim", Fn(lambda x: torch.count_nonzero(torch.relu(x), -1)), [x]),
        Case("count_nonzero_bool", Fn(lambda x: torch.count_nonzero(x > 0.5, 0)), [m]),
    ]
    # 1-D inputs and first dims.
    v = Input("x", (9,), distinct=True)
    c += [
        Case("argmax_1d_keepdim", Fn(lambda x: torch.argmax(x, 0, keepdim=True)), [v]),
        Case("topk_1d", Fn(lambda x: torch.topk(x, 4)), [v]),
        Case("sort_1d_descending", Fn(lambda x: torch.sort(x, descending=True)), [v]),
        Case("norm_1d_inf", Fn(lambda x: torch.linalg.norm(x, INF)), [v]),
        Case("cumsum_1d", Fn(lambda x: torch.cumsum(x, 0)), [v]),
        Case("cumprod_dim0", Fn(lambda x: torch.cumprod(x, 0)), [pos]),
        Case("max_dim_1d", Fn(lambda x: torch.max(x, 0)), [v]),
        Case("amax_int", Fn(lambda x: torch.amax(torch.argsort(x, 1), 0)), [d]),
    ]
    # nansum / nanmean: NaN read as 0 and not counted.
    nan = float("nan")
    with_nan = Input("x", (3, 4), values=np.array(
        [[1.5, nan, -2.0, 0.25], [nan, nan, 3.0, 1.0], [0.5, -0.5, 2.0, nan]]))
    c += [
        Case("nansum_full", Fn(lambda x: torch.nansum(x)), [with_nan]),
        Case("nansum_dim_keepdim", Fn(lambda x: torch.nansum(x, 1, keepdim=True)), [with_nan]),
        Case("nanmean_dim", Fn(lambda x: torch.nanmean(x, -1)), [with_nan]),
        Case("nanmean_full", Fn(lambda x: torch.nanmean(x)), [with_nan]),
    ]
    # sum / mean with dtype, std / var corrections.
    c += [
        Case("sum_int_dtype_float",
             Fn(lambda x: torch.sum(torch.argsort(x, 0), 1, dtype=torch.float32)), [di]),
        Case("mean_int_dtype_float",
             Fn(lambda x: torch.mean(torch.argsort(x, 1), (0,), dtype=torch.float32)),
             [di]),
        Case("sum_int_dtype_long",
             Fn(lambda x: torch.sum(torch.argsort(x, 0), 0, dtype=torch.int64)), [di]),
        Case("prod_int_dtype_long",
             Fn(lambda x: torch.prod(torch.argsort(x, 1) + 1, dtype=torch.int64)),
             [Input("x", (1, 5), distinct=True)]),
        Case("sum_bool", Fn(lambda x: (x > 0.3).sum(1)), [x]),
        Case("mean_dims_keepdim", Fn(lambda x: torch.mean(x, (-1, 0), True)), [x]),
        Case("std_dims_unbiased", Fn(lambda x: torch.std(x, (0, 2))), [x]),
        Case("var_correction", Fn(lambda x: torch.var(x, 1, correction=2, keepdim=True)), [x]),
        Case("var_mean_dim", Fn(lambda x: torch.var_mean(x, 1)), [x]),
        Case("std_mean_correction_keepdim",
             Fn(lambda x: torch.std_mean(x, (0, 2), correction=0, keepdim=True)), [x]),
        Case("std_mean_full", Fn(lambda x: torch.std_mean(x)), [x]),
        Case("var_biased_full", Fn(lambda x: torch.var(x, unbiased=False)), [x]),
    ]
    return c
