"""Ops lowered before the sweeps existed, one case each: the sweep machinery's own check."""
import torch
import torch.nn.functional as F

from op_cases import Case, Fn, Input


def cases():
    x = Input("x", (2, 3, 8))
    return [
        Case("add_broadcast", Fn(lambda a, b: a + 2 * b), [x, Input("y", (3, 1))]),
        Case("hardtanh", Fn(lambda a: F.hardtanh(a, -0.5, 0.75)), [x]),
        Case("softmax_last", Fn(lambda a: torch.softmax(a, -1)), [x]),
        Case("max_dim_values", Fn(lambda a: torch.max(a, 1)[0]),
             [Input("x", (2, 5, 4), distinct=True)]),
        Case("gelu_tanh", Fn(lambda a: F.gelu(a, approximate="tanh")), [x]),
        # No lowering: conversion lists the op and writes nothing.
        Case("no_lowering", Fn(lambda a: torch.i0(a)), [x], refuse="aten::i0"),
    ]
