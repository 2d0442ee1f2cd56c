"""Miscellaneous elementwise and identity ops: eval-mode dropouts (aten::dropout, feature_dropout,
alpha_dropout, feature_alpha_dropout), leaky_relu (slopes incl. 0, negative and above 1), relu6,
torch.clip (both bounds, one bound, tensor bounds), rsub (scalar and tensor, alpha, broadcasting,
int), floor_divide (float and int, negative operands, broadcasting, scalar), torch.true_divide
(float and int operands); a training-mode dropout and torchvision::nms are refused. TorchScript normalizes the aliases
aten::clip and aten::true_divide to aten::clamp and aten::div when it compiles (scripting, and
loading any saved model), so no torch 1.13 graph holds them: the cases calling them say so
(Case.normalized)."""
import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision  # noqa: F401 (registers torch.ops.torchvision)

from op_cases import Case, Fn, Input

# What TorchScript renames the aliases to when it compiles (Case.normalized).
_CLIP = {"aten::clip": "aten::clamp"}
_TRUE_DIVIDE = {"aten::true_divide": "aten::div"}


class Clip(nn.Module):
    """torch.clip in its three forms (scripted: TorchScript records it as aten::clamp)."""

    def forward(self, x):
        return torch.clip(x, -0.5, 0.75) + torch.clip(x, min=0.1) * torch.clip(x, max=-0.2)


class ClipInt(nn.Module):
    def forward(self, x):
        return torch.clip(x, -3, 4)


class ClipTensor(nn.Module):
    def forward(self, x, lo, hi):
        return torch.clip(x, lo, hi)


class TrueDivide(nn.Module):
    def forward(self, x, y):
        return torch.true_divide(x, y) + torch.true_divide(x, 4.0)


class TrueDivideInt(nn.Module):
    """Integer operands divide to float."""

    def forward(self, a, b):
        return torch.true_divide(a, b)


def _dropout_cases(x):
    return [
        Case("dropout_eval", Fn(lambda a: F.dropout(a, 0.3, False) * 2), [x]),
        Case("dropout_module", nn.Sequential(nn.Dropout(0.5), nn.ReLU()), [x]),
        Case("feature_dropout_eval", Fn(lambda a: torch.feature_dropout(a, 0.2, False) + 1), [x]),
        Case("dropout2d_eval", nn.Sequential(nn.Dropout2d(0.4), nn.Tanh()),
             [Input("x", (2, 3, 4, 5))]),
        Case("dropout_train", Fn(lambda a: F.dropout(a, 0.3, True)), [x], refuse="train"),
        # A detection model traced with its post-processing: torchvision::nms is refused at load
        # with what to trace instead.
        Case("torchvision_nms", Fn(lambda b, s: torch.ops.torchvision.nms(b, s, 0.5)),
             [Input("boxes", (6, 4), low=0.0, high=1.0), Input("scores", (6,), low=0.0, high=1.0)],
             refuse="torchvision::nms. (a torchvision op"),
        Case("alpha_dropout_eval", Fn(lambda a: torch.alpha_dropout(a, 0.2, False) - 1), [x]),
        Case("feature_alpha_dropout_eval",
             Fn(lambda a: torch.feature_alpha_dropout(a, 0.2, False) * 3), [x]),
        Case("dropout_int", Fn(lambda a: F.dropout(a.float(), 0.1, False).int() + a),
             [Input("x", (3, 4), "int32")]),
    ]


def _activation_cases(x):
    return [
        Case("leaky_relu_default", nn.LeakyReLU(), [x]),
        Case("leaky_relu_slope", Fn(lambda a: F.leaky_relu(a, 0.2)), [x]),
        Case("leaky_relu_zero", Fn(lambda a: F.leaky_relu(a, 0.0)), [x]),
        Case("leaky_relu_negative", Fn(lambda a: F.leaky_relu(a, -0.5)), [x]),
        Case("leaky_relu_above_one", Fn(lambda a: F.leaky_relu(a, 1.5)), [x]),
        Case("relu6", Fn(lambda a: F.relu6(a * 4)), [x]),
        Case("relu6_module", nn.ReLU6(), [Input("x", (2, 3, 4), low=-8, high=8)]),
        Case("clip_scripted", Clip(), [x], script=True, normalized=_CLIP),
        Case("clip_int", ClipInt(), [Input("x", (3, 5), "int32")], script=True,
             normalized=_CLIP),
        Case("clip_tensor_bounds", ClipTensor(),
             [x, Input("lo", (4, 1), low=-1, high=0), Input("hi", (5,), low=0, high=1)],
             script=True, normalized=_CLIP),
    ]


def _arith_cases(x):
    y = Input("y", (4, 5))
    pos = Input("d", (4, 5), low=0.5, high=3)
    neg = Input("d", (4, 5), low=-3, high=-0.5)
    ia = Input("a", (3, 4), "int32", low=-20, high=20)
    ib = Input("b", (3, 4), "int32", low=1, high=7)
    ibn = Input("b", (4,), "int32", low=-7, high=-1)
    return [
        Case("rsub_scalar", Fn(lambda a: torch.rsub(a, 2.5)), [x]),
        Case("rsub_scalar_alpha", Fn(lambda a: torch.rsub(a, 1.0, alpha=3.0)), [x]),
        Case("rsub_tensor_broadcast", Fn(lambda a, b: torch.rsub(a, b)), [x, y]),
        Case("rsub_tensor_alpha", Fn(lambda a, b: torch.rsub(a, b, alpha=-0.5)), [x, y]),
        Case("rsub_operator", Fn(lambda a: 1 - a), [x]),
        Case("rsub_int", Fn(lambda a, b: torch.rsub(a, b, alpha=2)), [ia, ib]),
        Case("rsub_int_scalar", Fn(lambda a: 5 - a), [ia]),
        Case("floor_divide_pos", Fn(lambda a, d: torch.floor_divide(a, d)), [x, pos]),
        Case("floor_divide_neg_divisor", Fn(lambda a, d: a // d), [x, neg]),
        Case("floor_divide_scalar", Fn(lambda a: torch.floor_divide(a * 4, 1.5)), [x]),
        Case("floor_divide_int", Fn(lambda a, b: torch.floor_divide(a, b)), [ia, ib]),
        Case("floor_divide_int_neg_broadcast", Fn(lambda a, b: a // b), [ia, ibn]),
        Case("floor_divide_int_scalar", Fn(lambda a: torch.floor_divide(a, 3)), [ia]),
        Case("true_divide", TrueDivide(), [x, pos], script=True, normalized=_TRUE_DIVIDE),
        Case("true_divide_int", TrueDivideInt(), [ia, ib], script=True,
             normalized=_TRUE_DIVIDE),
        Case("true_divide_traced", Fn(lambda a, d: torch.true_divide(a, d)), [x, neg]),
    ]


def cases():
    x = Input("x", (3, 4, 5))
    return _dropout_cases(x) + _activation_cases(x) + _arith_cases(x)
