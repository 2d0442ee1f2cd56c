"""Elementwise ops on integer and bool tensors made inside the graph without aten::to: an integer
tensor is a sum of where(cond, int, int) terms (where.Scalar with int numbers gives int32), so
these cases run before typed inputs and aten::to exist. elementwise_int.py repeats the integer
paths on int32 model inputs and aten::to results.
"""
import torch

from op_cases import Case, Fn, Input

X = (2, 3, 8)


def _int(a):
    """Integers in [-13, 10] from a float tensor (several levels, negatives and zero)."""
    return (torch.where(a > 0, 3, -4) + torch.where(a > 1, 7, 0) +
            torch.where(a < -1, -9, 0) + torch.where(a.abs() < 0.2, 4, 0))


def _f(b):
    """A bool result as 1.0/0.0 (Core ML model outputs cannot be bool)."""
    return torch.where(b, 1.0, 0.0)


def cases():
    x = Input("x", X)
    y = Input("y", (3, 1))
    return [
        Case("int_made", Fn(_int), [x]),
        # Numeric ops keep integers integer.
        Case("int_abs", Fn(lambda a: torch.abs(_int(a))), [x]),
        Case("int_neg", Fn(lambda a: torch.neg(_int(a))), [x]),
        Case("int_sign", Fn(lambda a: torch.sign(_int(a))), [x]),
        Case("int_square", Fn(lambda a: torch.square(_int(a))), [x]),
        Case("int_floor_ceil_trunc_round",
             Fn(lambda a: torch.floor(_int(a)) + torch.ceil(_int(a)) + torch.trunc(_int(a)) +
                torch.round(_int(a))), [x]),
        # Float math on integers promotes to float.
        Case("int_exp", Fn(lambda a: torch.exp(_int(a) * 0 + torch.where(a > 0, 2, -1))), [x]),
        Case("int_sqrt", Fn(lambda a: torch.sqrt(torch.abs(_int(a)))), [x]),
        Case("int_sin", Fn(lambda a: torch.sin(_int(a))), [x]),
        Case("int_reciprocal", Fn(lambda a: torch.reciprocal(_int(a) * 2 + 1)), [x]),
        Case("int_isnan", Fn(lambda a: _f(torch.isnan(_int(a)))), [x]),
        Case("int_isfinite", Fn(lambda a: _f(torch.isfinite(_int(a)))), [x]),
        # Clamping, min/max and where on integers.
        Case("int_clamp", Fn(lambda a: torch.clamp(_int(a), -3, 4)), [x]),
        Case("int_clamp_min", Fn(lambda a: torch.clamp_min(_int(a), 0)), [x]),
        Case("int_clamp_float_bound", Fn(lambda a: torch.clamp(_int(a), -2.5, 3.5)), [x]),
        Case("int_maximum", Fn(lambda a, b: torch.maximum(_int(a), _int(b))), [x, y]),
        Case("int_min_other", Fn(lambda a, b: torch.min(_int(a), _int(b))), [x, y]),
        Case("int_float_maximum", Fn(lambda a, b: torch.maximum(_int(a), b)), [x, y]),
        Case("int_where", Fn(lambda a, b: torch.where(a > 0.5, _int(a), _int(b))), [x, y]),
        Case("int_where_scalar", Fn(lambda a: torch.where(a > 0.5, _int(a), 7)), [x]),
        Case("int_where_mixed", Fn(lambda a: torch.where(a > 0.5, _int(a), a)), [x]),
        # Comparisons: mixed, bool and non-integral numbers.
        Case("int_float_lt", Fn(lambda a, b: _f(_int(a) < b)), [x, y]),
        Case("int_lt_fraction", Fn(lambda a: _f(_int(a) < 3.5)), [x]),
        Case("int_le_fraction", Fn(lambda a: _f(_int(a) <= 3.5)), [x]),
        Case("int_gt_fraction", Fn(lambda a: _f(_int(a) > -4.5)), [x]),
        Case("int_ge_fraction", Fn(lambda a: _f(_int(a) >= -3.5)), [x]),
        Case("int_eq_fraction", Fn(lambda a: _f(_int(a) == 3.5)), [x]),
        Case("int_ne_fraction", Fn(lambda a: _f(_int(a) != 3.5)), [x]),
        Case("int_eq_int", Fn(lambda a, b: _f(_int(a) == _int(b))), [x, y]),
        Case("bool_int_eq", Fn(lambda a: _f((a > 0) == torch.where(a > 1, 1, 0))), [x]),
        Case("int_gt_bool", Fn(lambda a: _f(_int(a) > (a > 0))), [x]),
        Case("bool_le_int", Fn(lambda a, b: _f((a > 0) <= _int(b))), [x, y]),
        # Integer arithmetic.
        Case("int_pow", Fn(lambda a: torch.pow(_int(a), 2)), [x]),
        Case("int_fmod", Fn(lambda a: torch.fmod(_int(a), 3)), [x]),
        Case("int_fmod_negative", Fn(lambda a: torch.fmod(_int(a), -4)), [x]),
        Case("int_fmod_tensor",
             Fn(lambda a, b: torch.fmod(_int(a), torch.where(b > 0, 3, -2))), [x, y]),
        Case("int_remainder",
             Fn(lambda a, b: torch.remainder(_int(a), torch.where(b > 0, 3, -2))), [x, y]),
        Case("int_addcmul", Fn(lambda a, b: torch.addcmul(_int(a), _int(b), _int(a), value=2)),
             [x, y]),
        Case("int_logical_and", Fn(lambda a, b: _f(torch.logical_and(_int(a), _int(b)))), [x, y]),
        # Refusals.
        Case("int_bitwise_and", Fn(lambda a, b: _int(a) & _int(b)), [x, y],
             refuse="MIL has no bitwise ops"),
        Case("int_bitwise_not", Fn(lambda a: ~_int(a)), [x], refuse="MIL has no bitwise ops"),
    ]
