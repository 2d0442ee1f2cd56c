"""Type and shape queries folded at conversion: is_floating_point (a branch and a value, float and
int inputs), _shape_as_tensor, numel; constant creations scalar_tensor and eye (square, m x n)."""
import torch
import torch.nn as nn

from op_cases import Case, Fn, Input


class FloatBranch(nn.Module):
    def forward(self, x):
        if x.is_floating_point():
            return x * 2
        return x + 1


class FloatValue(nn.Module):
    def forward(self, x):
        return x * float(x.is_floating_point()) + 1.0


class ShapeAsTensor(nn.Module):
    def forward(self, x):
        s = torch._shape_as_tensor(x)
        return x * s[-1] + s[0]


class Numel(nn.Module):
    def forward(self, x):
        return x / x.numel()


def cases():
    x = Input("x", (2, 3, 4))
    return [
        Case("is_floating_point_branch", FloatBranch(), [x], script=True),
        Case("is_floating_point_branch_int", FloatBranch(), [Input("x", (2, 3), "int32")],
             script=True),
        Case("is_floating_point_value", FloatValue(), [x], script=True),
        Case("shape_as_tensor", ShapeAsTensor(), [x], script=True),
        Case("shape_as_tensor_traced", Fn(lambda a: a * torch._shape_as_tensor(a)[1]), [x]),
        Case("numel_scripted", Numel(), [x], script=True),
        Case("scalar_tensor", Fn(lambda a: a + torch.scalar_tensor(2.5)), [x]),
        Case("eye_square", Fn(lambda a: a @ torch.eye(4)), [x]),
        Case("eye_rect", Fn(lambda a: a @ torch.eye(4, 6) + 1), [x]),
    ]
