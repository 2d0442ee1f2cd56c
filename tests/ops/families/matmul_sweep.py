"""Matrix products: aten::mm, bmm, addmm and baddbmm (beta and alpha incl. 0, broadcast self,
integer operands), aten::matmul in every rank combination (1-d x 1-d, 1-d x n-d, n-d x 1-d,
batch broadcasting) and aten::einsum equations (transposes, traces and diagonals with repeated
subscripts, batch dims, ellipses, outer products, full and partial reductions, three operands,
size-1 subscripts broadcasting)."""
import torch

from op_cases import Case, Fn, Input


def _in(name, *shape, dtype="fp32"):
    if dtype == "fp32":
        return Input(name, shape)
    return Input(name, shape, dtype, low=-6, high=6)


def _product_cases():
    return [
        Case("mm", Fn(lambda a, b: torch.mm(a, b)), [_in("a", 3, 5), _in("b", 5, 4)]),
        Case("mm_int", Fn(lambda a, b: torch.mm(a, b)),
             [_in("a", 3, 5, dtype="int32"), _in("b", 5, 4, dtype="int32")]),
        Case("mm_vector_shapes", Fn(lambda a, b: a.mm(b)), [_in("a", 1, 7), _in("b", 7, 1)]),
        Case("bmm", Fn(lambda a, b: torch.bmm(a, b)), [_in("a", 2, 3, 5), _in("b", 2, 5, 4)]),
        Case("bmm_int64", Fn(lambda a, b: torch.bmm(a, b)),
             [_in("a", 2, 3, 5, dtype="int64"), _in("b", 2, 5, 4, dtype="int64")]),
        Case("addmm_default", Fn(lambda s, a, b: torch.addmm(s, a, b)),
             [_in("s", 3, 4), _in("a", 3, 5), _in("b", 5, 4)]),
        Case("addmm_beta_alpha_broadcast", Fn(lambda s, a, b: torch.addmm(s, a, b, beta=0.5,
                                                                          alpha=-2.0)),
             [_in("s", 4), _in("a", 3, 5), _in("b", 5, 4)]),
        Case("addmm_beta0_col", Fn(lambda s, a, b: torch.addmm(s, a, b, beta=0, alpha=1.5)),
             [_in("s", 3, 1), _in("a", 3, 5), _in("b", 5, 4)]),
        Case("addmm_int", Fn(lambda s, a, b: torch.addmm(s, a, b, beta=2, alpha=3)),
             [_in("s", 1, 4, dtype="int32"), _in("a", 3, 5, dtype="int32"),
              _in("b", 5, 4, dtype="int32")]),
        Case("baddbmm_default", Fn(lambda s, a, b: torch.baddbmm(s, a, b)),
             [_in("s", 2, 3, 4), _in("a", 2, 3, 5), _in("b", 2, 5, 4)]),
        Case("baddbmm_beta_alpha_broadcast",
             Fn(lambda s, a, b: torch.baddbmm(s, a, b, beta=-1.0, alpha=0.25)),
             [_in("s", 3, 1), _in("a", 2, 3, 5), _in("b", 2, 5, 4)]),
        Case("baddbmm_alpha0", Fn(lambda s, a, b: torch.baddbmm(s, a, b, beta=2.0, alpha=0.0)),
             [_in("s", 2, 3, 4), _in("a", 2, 3, 5), _in("b", 2, 5, 4)]),
        Case("baddbmm_int", Fn(lambda s, a, b: torch.baddbmm(s, a, b, beta=1, alpha=-2)),
             [_in("s", 4, dtype="int32"), _in("a", 2, 3, 5, dtype="int32"),
              _in("b", 2, 5, 4, dtype="int32")]),
    ]


def _matmul_cases():
    mm = Fn(lambda a, b: torch.matmul(a, b))
    shapes = [
        ("1d_1d", (5,), (5,)),
        ("1d_2d", (5,), (5, 3)),
        ("2d_1d", (3, 5), (5,)),
        ("1d_3d", (5,), (2, 5, 3)),
        ("4d_1d", (2, 3, 4, 5), (5,)),
        ("2d_2d", (3, 5), (5, 4)),
        ("3d_2d", (2, 3, 5), (5, 4)),
        ("2d_4d", (3, 5), (2, 2, 5, 4)),
        ("batch_broadcast", (2, 1, 3, 5), (3, 5, 4)),
        ("batch_broadcast_both", (1, 3, 3, 5), (2, 1, 5, 4)),
        ("5d", (2, 1, 2, 3, 5), (1, 2, 1, 5, 2)),
    ]
    out = [Case("matmul_" + n, mm, [_in("a", *a), _in("b", *b)]) for n, a, b in shapes]
    out.append(Case("matmul_int_3d_2d", mm, [_in("a", 2, 3, 5, dtype="int32"),
                                             _in("b", 5, 4, dtype="int32")]))
    out.append(Case("matmul_int64_1d_1d", mm, [_in("a", 6, dtype="int64"),
                                               _in("b", 6, dtype="int64")]))
    out.append(Case("matmul_operator_same_input", Fn(lambda a: a @ a.transpose(-1, -2)),
                    [_in("a", 2, 3, 4)]))
    return out


def _einsum(eq):
    return Fn(lambda *ops: torch.einsum(eq, *ops))


def _einsum_cases():
    eqs = [
        ("transpose", "ij->ji", [(3, 4)]),
        ("implicit_transpose", "ba", [(3, 4)]),
        ("sum_all", "ij->", [(3, 4)]),
        ("row_sum", "ij->i", [(3, 4)]),
        ("trace", "ii->", [(4, 4)]),
        ("diag", "ii->i", [(4, 4)]),
        ("repeated_vector", "aa->a", [(5, 5)]),
        ("repeated_batch_diag", "bii->bi", [(2, 3, 3)]),
        ("repeated_three", "iij->ji", [(3, 3, 2)]),
        ("matmul", "ij,jk->ik", [(3, 5), (5, 4)]),
        ("implicit_matmul", "ij,jk", [(3, 5), (5, 4)]),
        ("bmm", "bij,bjk->bik", [(2, 3, 5), (2, 5, 4)]),
        ("attention_scores", "bhqd,bhkd->bhqk", [(2, 2, 3, 4), (2, 2, 5, 4)]),
        ("attention_values", "bhqk,bhkd->bqhd", [(2, 2, 3, 5), (2, 2, 5, 4)]),
        ("outer", "i,j->ij", [(3,), (4,)]),
        ("dot", "i,i->", [(6,), (6,)]),
        ("hadamard", "ij,ij->ij", [(3, 4), (3, 4)]),
        ("mv", "ij,j->i", [(3, 4), (4,)]),
        ("ellipsis_matmul", "...ij,...jk->...ik", [(2, 3, 4, 5), (2, 3, 5, 2)]),
        ("ellipsis_broadcast", "...ij,jk->...ik", [(2, 3, 4, 5), (5, 2)]),
        ("ellipsis_transpose", "...ij->...ji", [(2, 3, 4)]),
        ("ellipsis_sum", "b...->b", [(2, 3, 4)]),
        ("bilinear", "bn,anm,bm->ba", [(2, 3), (4, 3, 5), (2, 5)]),
        ("contract_two", "ijk,jkl->il", [(2, 3, 4), (3, 4, 5)]),
        ("batch_sum_out", "bij,bjk->ik", [(2, 3, 5), (2, 5, 4)]),
        ("diag_times_vec", "ii,i->i", [(4, 4), (4,)]),
        ("broadcast_size1", "ij,ij->i", [(3, 1), (3, 4)]),
        ("broadcast_size1_batch_contracted", "bik,bkj->bij", [(2, 3, 5), (1, 1, 4)]),
        ("broadcast_ellipsis", "...ij,...jk->...ik", [(2, 1, 3, 4), (1, 3, 4, 2)]),
    ]
    out = [Case("einsum_" + n, _einsum(eq), [_in(f"x{k}", *s) for k, s in enumerate(shapes)])
           for n, eq, shapes in eqs]
    out.append(Case("einsum_int", _einsum("bij,bjk->bik"),
                    [_in("x0", 2, 3, 4, dtype="int32"), _in("x1", 2, 4, 2, dtype="int32")]))
    return out


def cases():
    return _product_cases() + _matmul_cases() + _einsum_cases()
