"""Typed model inputs and type ops: int64/int32/bool/fp16/uint8 forward() arguments, aten::to in
its overloads (dtype, device+dtype, other, prim_Device), type_as, as_tensor, cpu,
.float()/.long()/.int()/.bool()/.half()/.double(), aten::embedding, and integer and bool model
outputs (compared exactly).

Float inputs converted to integers are drawn on a grid 1/8 apart (`distinct`), so that fp16 holds
them exactly and truncation toward zero gives LibTorch's integers in both precisions.
"""
import torch
import torch.nn as nn
import torch.nn.functional as F

from op_cases import Case, Fn, Input


class ToOther(nn.Module):
    """Scripted: x.to(ids) is aten::to.other, x.to("cpu") aten::to.prim_Device."""

    def forward(self, x, ids):
        return x.to("cpu") * 2, x.to(ids) + ids


class ToScriptedDtype(nn.Module):
    """Scripted: .to(torch.bool) of ints, .to(y.dtype) through prim::dtype."""

    def forward(self, ids, y):
        return ids.to(torch.bool), ids.to(y.dtype) * 0.5


class AsTensorCpu(nn.Module):
    """Scripted: torch.as_tensor(ids, dtype=...) of a tensor is aten::as_tensor (a type op, as
    pack_padded_sequence converts its lengths), x.cpu() is aten::cpu (an identity)."""

    def forward(self, x, ids):
        return torch.as_tensor(ids, dtype=torch.int64) * 3, torch.as_tensor(x, dtype=torch.int32), \
            x.cpu() * 2


def cases():
    grid = Input("x", (2, 3, 5), distinct=True)
    ids = Input("ids", (2, 7), "int64", low=-50, high=50)
    ids32 = Input("ids", (3, 4), "int32", low=-5, high=5)
    mask = Input("m", (2, 7), "bool")
    return [
        # int -> float, float -> int (truncation toward zero), in and out of the model.
        Case("int64_to_float", Fn(lambda ids: ids.float() * 0.5), [ids]),
        # An HWC uint8 image (--input img:...:uint8): bytes to [0, 1], RGB to BGR, CHW.
        Case("uint8_image", Fn(lambda img: img.permute(0, 3, 1, 2).float().div(255).flip(1)),
             [Input("img", (1, 5, 6, 3), "uint8")]),
        Case("int32_to_float_half", Fn(lambda ids: ids.half().float() + 1), [ids32]),
        Case("float_to_long", Fn(lambda x: (x * 3).long()), [grid]),
        Case("float_to_int", Fn(lambda x: (x - 0.25).int()), [grid]),
        Case("float_to_int64_dtype_of", Fn(lambda x, ids: x.to(ids.dtype) + ids),
             [grid, Input("ids", (2, 3, 5), "int64", low=-3, high=3)]),
        Case("type_as_int", Fn(lambda x, ids: x.type_as(ids) * 2),
             [grid, Input("ids", (5,), "int64", low=0, high=4)]),
        Case("to_device_dtype", Fn(lambda x: x.to("cpu", torch.int64)), [grid]),
        # float -> float is absorbed: .float()/.half()/.double() change nothing in the plan.
        Case("float_half_double", Fn(lambda x: x.float() * 2 + x.double().float()), [grid]),
        Case("fp16_input_float", Fn(lambda x: x.float() * 2),
             [Input("x", (2, 3, 5), "fp16")]),
        # to bool is x != 0; bool -> int/float is 0/1.
        Case("float_to_bool", Fn(lambda x: x.bool()),
             [Input("x", (2, 8), values=[[0, 0.5, -1, 0, 2, 0, -0.125, 3]] * 2)]),
        Case("int_to_bool", Fn(lambda ids: ids.bool()), [ids32]),
        Case("bool_to_float", Fn(lambda m, x: m.float() * x), [mask, Input("x", (2, 7))]),
        Case("bool_to_long", Fn(lambda m: m.long() * 3), [mask]),
        Case("bool_to_uint8", Fn(lambda m: m.to(torch.uint8).int()), [mask]),
        Case("to_other_scripted", ToOther(), [grid, Input("ids", (2, 3, 5), "int64", low=-3,
                                                         high=3)], script=True),
        Case("to_dtype_scripted", ToScriptedDtype(), [ids32, Input("y", (3, 4))], script=True),
        Case("as_tensor_cpu_scripted", AsTensorCpu(), [grid, ids32], script=True),
        # Integer and bool outputs, compared exactly.
        Case("int_arith_output", Fn(lambda ids: ids * 2 + 1), [ids]),
        Case("compare_int_output", Fn(lambda ids: ids == 3), [ids32]),
        Case("compare_float_output", Fn(lambda x: x > 0), [grid]),
        # Embedding: ids below num_embeddings, any rank, int64 or int32, padding_idx. (Traced
        # arguments first read by F.embedding take its argument names: weight, input.)
        Case("embedding_int64", nn.Embedding(100, 16),
             [Input("input", (2, 7), "int64", low=0, high=100)]),
        Case("embedding_int32_rank1", nn.Embedding(30, 8),
             [Input("input", (9,), "int32", low=0, high=30)]),
        Case("embedding_rank3_padding", nn.Embedding(50, 4, padding_idx=0),
             [Input("input", (2, 3, 4), "int64", low=0, high=50)]),
        Case("embedding_runtime_weight", Fn(lambda w, ids: F.embedding(ids, w) * 2),
             [Input("weight", (12, 6)), Input("input", (3, 5), "int64", low=0, high=12)]),
        Case("embedding_then_float_ids", Fn(lambda ids: F.embedding(ids, torch.arange(20.).view(10, 2))
                                              + ids.float().unsqueeze(-1)),
             [Input("input", (4,), "int64", low=0, high=10)]),
        # What Core ML cannot hold is refused by name.
        Case("float_to_uint8", Fn(lambda x: x.to(torch.uint8)), [grid],
             refuse="converting to uint8 wraps values around"),
    ]
