"""Elementwise math, comparisons, logic, clamping and selection on float model inputs.

Inputs stay inside each op's domain (low/high); rounding ops read `distinct` grids (multiples of
1/8, exact in fp16, so fp16 and fp32 round alike). Cases that need integer model inputs or
aten::to are in elementwise_int.py.
"""
import numpy as np
import torch
import torch.nn.functional as F

from op_cases import Case, Fn, Input

X = (2, 3, 8)


def _x(low=None, high=None, name="x", shape=X):
    return Input(name, shape, low=low, high=high)


def _grid(name="x", shape=X):
    return Input(name, shape, distinct=True)


def _f(b):
    """A bool result as 1.0/0.0 (Core ML model outputs cannot be bool)."""
    return torch.where(b, 1.0, 0.0)


def _unary_cases():
    """One case per one-input float op, its input inside the op's domain."""
    specs = [
        ("exp", torch.exp, -3, 3), ("exp2", torch.exp2, -3, 3),
        ("expm1", torch.expm1, -3, 3), ("expm1_tiny", torch.expm1, -1e-4, 1e-4),
        ("log", torch.log, 0.01, 10), ("log2", torch.log2, 0.01, 10),
        ("log10", torch.log10, 0.01, 10), ("log1p", torch.log1p, -0.9, 5),
        ("log1p_tiny", torch.log1p, -1e-4, 1e-4), ("sqrt", torch.sqrt, 0, 10),
        ("rsqrt", torch.rsqrt, 0.1, 10), ("reciprocal", torch.reciprocal, 0.2, 4),
        ("sin", torch.sin, -4, 4), ("cos", torch.cos, -4, 4), ("tan", torch.tan, -1.2, 1.2),
        ("asin", torch.asin, -0.99, 0.99), ("acos", torch.acos, -0.99, 0.99),
        ("atan", torch.atan, -6, 6), ("sinh", torch.sinh, -3, 3), ("cosh", torch.cosh, -3, 3),
        ("asinh", torch.asinh, -50, 50), ("asinh_tiny", torch.asinh, -1e-3, 1e-3),
        ("asinh_huge", torch.asinh, 1e3, 3e4), ("acosh", torch.acosh, 1, 50),
        ("acosh_huge", torch.acosh, 1e3, 3e4), ("atanh", torch.atanh, -0.95, 0.95),
        ("erf", torch.erf, -2, 2), ("erfc", torch.erfc, -1.5, 1.5),
        ("abs", torch.abs, -3, 3), ("neg", torch.neg, -3, 3), ("sign", torch.sign, -3, 3),
        ("square", torch.square, -3, 3), ("sgn", torch.sgn, -3, 3),
        ("positive", torch.positive, -3, 3), ("deg2rad", torch.deg2rad, -360, 360),
        ("rad2deg", torch.rad2deg, -4, 4),
    ]
    cases = [Case(name, Fn(fn), [_x(lo, hi)]) for name, fn, lo, hi in specs]
    cases.append(Case("reciprocal_negative", Fn(lambda a: torch.reciprocal(-a)), [_x(0.2, 4)]))
    cases.append(Case("inplace_abs", Fn(lambda a: (a * 2).abs_()), [_x()]))
    return cases


def _rounding_cases():
    cases = [Case(name, Fn(fn), [_grid()]) for name, fn in [
        ("floor", torch.floor), ("ceil", torch.ceil), ("trunc", torch.trunc),
        ("fix", torch.fix), ("frac", torch.frac), ("round", torch.round),
        ("round_decimals_1", lambda a: torch.round(a, decimals=1)),
    ]]
    cases.append(Case("round_decimals_neg", Fn(lambda a: torch.round(a * 64, decimals=-1)),
                      [_grid()]))
    return cases


def _predicate_cases():
    special = np.array([0, -1.5, np.nan, np.inf, -np.inf, 3e4, -2e-3, 7], dtype=np.float32)
    inp = [Input("x", (8,), values=special)]
    return [
        Case(name, Fn(lambda a, fn=fn: _f(fn(a))), inp) for name, fn in [
            ("isnan", torch.isnan), ("isinf", torch.isinf), ("isposinf", torch.isposinf),
            ("isneginf", torch.isneginf), ("isfinite", torch.isfinite)]
    ]


def _logic_cases():
    xy = [_x(), _x(name="y", shape=(3, 1))]
    return [
        Case("logical_and_float", Fn(lambda a, b: _f(torch.logical_and(F.relu(a), b))), xy),
        Case("logical_or", Fn(lambda a, b: _f(torch.logical_or(a > 0.5, b > 0))), xy),
        Case("logical_xor", Fn(lambda a, b: _f(torch.logical_xor(a > 0, b > 0))), xy),
        Case("logical_not", Fn(lambda a: _f(torch.logical_not(a > 0))), [_x()]),
        Case("logical_not_float", Fn(lambda a: _f(torch.logical_not(F.relu(a)))), [_x()]),
        Case("and_bool", Fn(lambda a, b: _f((a > 0) & (b > 0))), xy),
        Case("or_bool", Fn(lambda a, b: _f((a > 0) | (b < 0))), xy),
        Case("xor_bool", Fn(lambda a, b: _f((a > 0) ^ (b > 0))), xy),
        Case("invert_bool", Fn(lambda a: _f(~(a > 0))), [_x()]),
        Case("bitwise_and_bool", Fn(lambda a, b: _f(torch.bitwise_and(a > 0, b > 0))), xy),
        Case("eq_bools", Fn(lambda a, b: _f((a > 0) == (b > 0))), xy),
        Case("lt_bools", Fn(lambda a, b: _f((a > 0) < (b > 0))), xy),
        Case("ne_tensor_broadcast", Fn(lambda a, b: _f(torch.ne(a, b))), xy),
        Case("ge_scalar", Fn(lambda a: _f(torch.ge(a, 0.25))), [_x()]),
        Case("greater_alias", Fn(lambda a, b: _f(torch.greater(a, b))), xy),
    ]


def _clamp_cases():
    lo_hi = [_x(), _x(-1, 0, "lo", (3, 1)), _x(0, 1, "hi", (8,))]
    return [
        Case("clamp_both", Fn(lambda a: torch.clamp(a, -0.5, 0.5)), [_x()]),
        Case("clamp_min_only", Fn(lambda a: torch.clamp(a, min=-0.25)), [_x()]),
        Case("clamp_max_only", Fn(lambda a: torch.clamp(a, max=0.3)), [_x()]),
        Case("clamp_min_above_max", Fn(lambda a: torch.clamp(a, 0.5, -0.5)), [_x()]),
        Case("clamp_tensor_bounds", Fn(lambda a, lo, hi: torch.clamp(a, lo, hi)), lo_hi),
        Case("clamp_tensor_min", Fn(lambda a, lo, hi: torch.clamp(a, min=lo)), lo_hi),
        Case("clamp_min_fn", Fn(lambda a: torch.clamp_min(a, 0.1)), [_x()]),
        Case("clamp_max_fn", Fn(lambda a: torch.clamp_max(a, -0.1)), [_x()]),
        Case("clip", Fn(lambda a: torch.clip(a, -1, 1)), [_x()]),
        Case("clamp_inplace", Fn(lambda a: (a + 1).clamp_(0, 1)), [_x()]),
    ]


def _binary_cases():
    xy = [_x(), _x(name="y", shape=(3, 1))]
    nan_y = np.array([[np.nan], [0.5], [-2.0]], dtype=np.float32)
    return [
        Case("maximum", Fn(torch.maximum), xy), Case("minimum", Fn(torch.minimum), xy),
        Case("max_other", Fn(lambda a, b: torch.max(a, b)), xy),
        Case("min_other", Fn(lambda a, b: torch.min(a, b)), xy),
        Case("bool_maximum", Fn(lambda a, b: _f(torch.maximum(a > 0, b > 0))), xy),
        Case("bool_minimum", Fn(lambda a, b: _f(torch.minimum(a > 0, b > 0))), xy),
        Case("fmax_nan", Fn(torch.fmax), [_x(), Input("y", (3, 1), values=nan_y)]),
        Case("fmin_nan", Fn(torch.fmin), [_x(), Input("y", (3, 1), values=nan_y)]),
        Case("atan2", Fn(torch.atan2), xy),
        Case("atan2_axes", Fn(lambda a: torch.atan2(a, torch.zeros_like(a) - 1)), [_x()]),
        Case("atan2_axes_and_origin", Fn(torch.atan2),
             [Input("y", (8,), values=np.array([0, 1, -1, 0, 2, -2, 0, 3], np.float32)),
              Input("x", (8,), values=np.array([0, 0, 0, -1, -2, -2, 1, 4], np.float32))]),
        Case("hypot", Fn(torch.hypot), xy),
        Case("hypot_zeros", Fn(torch.hypot),
             [Input("x", (4,), values=np.array([0, 3, 0, -5], np.float32)),
              Input("y", (4,), values=np.array([0, 4, -2, 0], np.float32))]),
        Case("copysign_scalar", Fn(lambda a: torch.copysign(a, -2.0)), [_x()]),
        Case("hypot_large", Fn(lambda a, b: torch.hypot(a * 200, b * 200)), xy),
        Case("copysign", Fn(torch.copysign), xy),
        Case("fmod_tensor", Fn(lambda a, b: torch.fmod(a, b - 2)),
             [_grid(), Input("y", (3, 1), values=np.array([[0.75], [1.5], [1.25]], np.float32))]),
        Case("fmod_scalar", Fn(lambda a: torch.fmod(a, 0.75)), [_grid()]),
        Case("fmod_scalar_negative", Fn(lambda a: torch.fmod(a, -1.5)), [_grid()]),
        Case("remainder_scalar_tensor", Fn(lambda b: torch.remainder(5.0, b)),
             [Input("y", (3, 1), values=np.array([[0.75], [-1.5], [1.25]], np.float32))]),
        Case("lerp_scalar_low", Fn(lambda a, b: torch.lerp(a, b, 0.3)), xy),
        Case("lerp_scalar_high", Fn(lambda a, b: torch.lerp(a, b, 0.8)), xy),
        Case("lerp_tensor", Fn(lambda a, b, w: torch.lerp(a, b, w)),
             xy + [_x(-0.5, 1.5, "w", (8,))]),
        Case("addcmul", Fn(lambda a, b, c: torch.addcmul(a, b, c, value=0.5)),
             xy + [_x(name="z", shape=(8,))]),
        Case("addcdiv", Fn(lambda a, b, c: torch.addcdiv(a, b, c, value=2)),
             xy + [_x(0.5, 2, "z", (8,))]),
        Case("pow_tensor_tensor", Fn(lambda a, b: torch.pow(a, b)), [_x(0.1, 3), _x(-2, 2, "y")]),
        Case("pow_scalar_base", Fn(lambda b: torch.pow(2.0, b)), [_x(-2, 2, "y")]),
    ]


def _where_cases():
    xy = [_x(), _x(name="y", shape=(3, 1))]
    return [
        Case("where_self", Fn(lambda a, b: torch.where(a > 0, a, b)), xy),
        Case("where_scalar_other", Fn(lambda a: torch.where(a > 0, a, 0.5)), [_x()]),
        Case("where_scalar_self", Fn(lambda a, b: torch.where(b > 0, 2.0, a)), xy),
        Case("where_scalars", Fn(lambda a: torch.where(a > 0, 1.0, -1.0)), [_x()]),
        Case("where_bools", Fn(lambda a, b: _f(torch.where(a > 0, b > 0, a < -1))), xy),
    ]


def cases():
    return (_unary_cases() + _rounding_cases() + _predicate_cases() + _logic_cases() +
            _clamp_cases() + _binary_cases() + _where_cases())
