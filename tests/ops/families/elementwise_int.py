"""Elementwise ops on integer and bool tensors, and mixed int/float operands.

The integers are made inside the graph with aten::to (or come as int32 model inputs), both built
on other branches: these cases pass once those are merged.
"""
import torch

from op_cases import Case, Fn, Input

X = (2, 3, 8)


def _int(a):
    return (a * 10).round().to(torch.int32)


def _f(b):
    """A bool result as 1.0/0.0 (Core ML model outputs cannot be bool)."""
    return torch.where(b, 1.0, 0.0)


def _ints(name="i", shape=X, low=-10, high=10):
    return Input(name, shape, "int32", low=low, high=high)


class _IntPowNegative(torch.nn.Module):
    """Scripted: PyTorch raises when it runs (so it cannot be traced)."""

    def forward(self, x):
        return torch.pow(x, -2)


def cases():
    # Floats 1/8 apart: a * 10 is then exact in fp16 too, so the integers made from them
    # (_int) are the same in both precisions.
    x = Input("x", X, distinct=True)
    y = Input("y", (3, 1), distinct=True)
    i, j = _ints(), _ints("j", (3, 1), 1, 6)
    return [
        # Numeric ops keep integers integer.
        Case("int_abs", Fn(lambda a: torch.abs(_int(a))), [x]),
        Case("int_neg", Fn(lambda a: torch.neg(_int(a))), [x]),
        Case("int_sign", Fn(lambda a: torch.sign(_int(a))), [x]),
        Case("int_square", Fn(lambda a: torch.square(_int(a))), [x]),
        Case("int_floor_ceil_trunc_round",
             Fn(lambda a: torch.floor(_int(a)) + torch.ceil(_int(a)) + torch.trunc(_int(a)) +
                torch.round(_int(a))), [x]),
        Case("int_input_abs", Fn(torch.abs), [i]),
        # Float math on integers promotes to float.
        Case("int_exp", Fn(lambda a: torch.exp(_int(a * 0.25))), [x]),
        Case("int_sqrt", Fn(lambda a: torch.sqrt(torch.abs(_int(a)))), [x]),
        Case("int_input_sin", Fn(torch.sin), [i]),
        Case("int_isnan", Fn(lambda a: _f(torch.isnan(_int(a)))), [x]),
        Case("int_isfinite", Fn(lambda *a: _f(torch.isfinite(*a))), [i]),
        # Clamping, min/max and where on integers.
        Case("int_clamp", Fn(lambda a: torch.clamp(_int(a), -3, 4)), [x]),
        Case("int_clamp_float_bound", Fn(lambda a: torch.clamp(_int(a), -2.5, 3.5)), [x]),
        Case("int_maximum", Fn(lambda a, b: torch.maximum(_int(a), _int(b))), [x, y]),
        Case("int_min_other", Fn(torch.min), [i, j]),
        Case("int_where", Fn(lambda a, b: torch.where(a > 0, _int(a), _int(b))), [x, y]),
        Case("int_where_scalar", Fn(lambda a: torch.where(a > 0, _int(a), 7)), [x]),
        Case("int_where_mixed", Fn(lambda a: torch.where(a > 0, _int(a), a)), [x]),
        # Comparisons: mixed, bool and non-integral numbers.
        Case("int_float_lt", Fn(lambda a, b: _f(_int(a) < b)), [x, y]),
        Case("int_lt_fraction", Fn(lambda a: _f(_int(a) < 2.5)), [x]),
        Case("int_ge_fraction", Fn(lambda a: _f(_int(a) >= -2.5)), [x]),
        Case("int_eq_fraction", Fn(lambda a: _f(_int(a) == 0.5)), [x]),
        Case("int_ne_fraction", Fn(lambda a: _f(_int(a) != 0.5)), [x]),
        Case("int_eq_int", Fn(lambda a, b: _f(_int(a) == _int(b))), [x, y]),
        Case("bool_int_eq", Fn(lambda a: _f((a > 0) == _int(a))), [x]),
        # Integer arithmetic.
        Case("int_pow", Fn(lambda a: torch.pow(_int(a), 2)), [x]),
        Case("int_pow_negative", _IntPowNegative(), [Input("x", (3, 4), "int32")], script=True,
             refuse="an integer tensor to the negative integer power -2 raises in PyTorch"),
        Case("int_fmod", Fn(lambda a: torch.fmod(_int(a), 3)), [x]),
        Case("int_fmod_negative", Fn(lambda a: torch.fmod(_int(a), -4)), [x]),
        Case("int_fmod_tensor", Fn(torch.fmod), [i, j]),
        Case("int_remainder", Fn(torch.remainder), [i, j]),
        Case("int_addcmul", Fn(lambda a, b, c: torch.addcmul(a, b, c, value=2)),
             [i, j, _ints("k")]),
        Case("bool_logical_and_int", Fn(lambda a, b: _f(torch.logical_and(a, b))), [i, j]),
        Case("bool_input_and", Fn(lambda a, b: _f(a & b)),
             [Input("p", (4, 5), "bool"), Input("q", (5,), "bool")]),
        Case("bool_input_where", Fn(lambda c, a: torch.where(c, a, -a)),
             [Input("p", (4, 5), "bool"), Input("a", (5,))]),
        # Refusals.
        Case("int_bitwise_and", Fn(lambda a, b: a & b), [i, j], refuse="MIL has no bitwise ops"),
        Case("int_bitwise_not", Fn(lambda a: ~a), [i], refuse="MIL has no bitwise ops"),
    ]
