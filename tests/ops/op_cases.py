"""Op sweep cases: small TorchScript graphs, one family of ops per file in tests/ops/families/.

A family file defines `cases()`, returning a list of Case. make_op_models.py traces (or scripts)
each case, writes its model and its input arrays, and lists them in <family>/cases.json;
op_sweep_test.cpp converts every case in each precision it names and runs `verify` on it against
LibTorch (fp32: cosine >= 0.99999; fp16: the default fp16 tolerance; integer and bool outputs
exactly), or, for a case with `refuse`, checks that conversion fails naming the value.

    Case("clamp_both", Fn(lambda x: torch.clamp(x, -0.5, 0.5)), [Input("x", (2, 3, 8))])
    Case("embedding", nn.Embedding(100, 16), [Input("ids", (1, 7), "int64", low=0, high=100)])
    Case("fmod_int_zero", Fn(lambda x: torch.fmod(x, 0)), [Input("x", (4,), "int32")],
         refuse="fmod by zero")
"""
import dataclasses
import zlib
from typing import Callable, Dict, Optional, Sequence, Tuple

import numpy as np
import torch

DTYPES = {
    "fp32": torch.float32,
    "fp16": torch.float16,
    "int32": torch.int32,
    "int64": torch.int64,
    "bool": torch.bool,
    "uint8": torch.uint8,
}


@dataclasses.dataclass
class Input:
    """One forward() argument: its name, shape and dtype, and how its values are drawn. The name
    labels the values; the model's own argument names are what conversion uses.

    Floats are standard normal unless `low`/`high` give a uniform range or `distinct` asks for a
    shuffled grid 1/8 apart (no two values tie, even in fp16: use it for argmax, topk, sort and
    other index-producing ops). Integers are uniform in [low, high) (default [-10, 10)); bools
    are fair coin flips. `values` gives the array itself.
    """
    name: str
    shape: Tuple[int, ...]
    dtype: str = "fp32"
    low: Optional[float] = None
    high: Optional[float] = None
    distinct: bool = False
    values: Optional[np.ndarray] = None


@dataclasses.dataclass
class Case:
    """One small graph: a module (or Fn) and its inputs.

    script: torch.jit.script instead of trace (for ops that tracing folds away).
    precisions: the --precision values it is converted in.
    refuse: conversion must fail (every precision) and its error contain this text.
    normalized: aten ops the case calls that TorchScript renames when it compiles (aten::clip
      to aten::clamp, true_divide to div, concat to cat: torch/csrc/jit/passes/normalize_ops.cpp),
      as {"aten::clip": "aten::clamp"}. No torch 1.13 graph can hold the alias, so the sweep
      checks the op it becomes instead; make_op_models.py checks the alias is gone and its
      target is in the graph, and records the alias for scripts/op_parity.py.
    """
    name: str
    module: torch.nn.Module
    inputs: Sequence[Input]
    script: bool = False
    precisions: Tuple[str, ...] = ("fp32", "fp16")
    refuse: Optional[str] = None
    normalized: Optional[Dict[str, str]] = None


class Fn(torch.nn.Module):
    """A module whose forward is `fn` (for tracing one expression)."""

    def __init__(self, fn: Callable):
        super().__init__()
        self.fn = fn

    def forward(self, *args):
        return self.fn(*args)


def make_values(inp: Input, seed_text: str) -> np.ndarray:
    """The values of `inp`, the same on every run (seeded by `seed_text`)."""
    if inp.values is not None:
        return np.asarray(inp.values).astype(_numpy_dtype(inp.dtype))
    rng = np.random.default_rng(zlib.crc32(seed_text.encode()))
    n = int(np.prod(inp.shape)) if len(inp.shape) else 1
    if inp.dtype == "bool":
        v = rng.integers(0, 2, n).astype(bool)
    elif inp.dtype == "uint8":
        v = rng.integers(0 if inp.low is None else int(inp.low),
                         256 if inp.high is None else int(inp.high), n)
    elif inp.dtype in ("int32", "int64"):
        low = -10 if inp.low is None else int(inp.low)
        high = 10 if inp.high is None else int(inp.high)
        v = rng.integers(low, high, n)
    elif inp.distinct:
        v = (rng.permutation(n) - n // 2) * 0.125
    elif inp.low is not None and inp.high is not None:
        v = rng.uniform(inp.low, inp.high, n)
    else:
        v = rng.standard_normal(n)
    return v.reshape(inp.shape).astype(_numpy_dtype(inp.dtype))


def _numpy_dtype(dtype: str):
    return {"fp32": np.float32, "fp16": np.float16, "int32": np.int32, "int64": np.int64,
            "bool": np.bool_, "uint8": np.uint8}[dtype]
