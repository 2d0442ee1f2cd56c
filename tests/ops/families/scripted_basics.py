"""What scripted models carry besides their math: dtype and device queries, list appends in loops,
integer floor division of sizes, tensor literals and dtype copies, each folded or planned by the
core (no plugin claims them). An in-place copy_ into a tensor made at conversion time of values
computed at run time is still refused."""
from typing import List

import torch

from op_cases import Case, Input


class DtypeBranch(torch.nn.Module):
    def forward(self, x):
        if x.dtype == torch.float32:
            return x * 2.0
        return x


class DeviceTo(torch.nn.Module):
    def forward(self, x):
        return (x + 1.0).to(x.device)


class AppendInLoop(torch.nn.Module):
    def forward(self, x):
        ys: List[torch.Tensor] = []
        for i in range(3):
            ys.append(x * float(i + 1))
        return torch.stack(ys, 1)


class HalfOfSize(torch.nn.Module):
    def forward(self, x):
        n = x.size(-1) // 2
        return x[..., :n] - x[..., n:]


class TensorLiteral(torch.nn.Module):
    def forward(self, x):
        return x * torch.tensor([1.0, -2.0, 0.5, 3.0])


class ToCopy(torch.nn.Module):
    def forward(self, x):
        return torch.ops.aten._to_copy(x * 2.0, dtype=torch.float16).float() + 1.0


def cases():
    x = Input("x", (2, 3, 4))
    return [
        Case("dtype_branch", DtypeBranch(), [x], script=True),
        Case("device_to", DeviceTo(), [x], script=True),
        Case("append_in_loop", AppendInLoop(), [x], script=True),
        Case("floordiv_of_size", HalfOfSize(), [x], script=True),
        Case("tensor_literal", TensorLiteral(), [x], script=True),
        Case("to_copy_half", ToCopy(), [x], script=True),
    ]
