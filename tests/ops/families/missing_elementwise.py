"""nan_to_num (defaults, every replacement given, integers) on inputs holding NaN and +-inf;
cross and linalg_cross (default dims, negative dims, broadcasting, integers)."""
import numpy as np
import torch

from op_cases import Case, Fn, Input


def cases():
    special = np.random.RandomState(3).randn(2, 3, 4).astype(np.float32)
    special[0, 0, :3] = [np.nan, np.inf, -np.inf]
    special[1, 2, 1:] = [-np.inf, np.nan, np.inf]
    s = Input("x", (2, 3, 4), values=special)
    v = Input("a", (4, 3))
    w = Input("b", (4, 3))
    return [
        # The default replacements of infinities are the float max: scaled so fp16 holds them.
        Case("nan_to_num_default", Fn(lambda a: torch.nan_to_num(a) * 1e-34), [s],
             precisions=("fp32",)),
        Case("nan_to_num_values", Fn(lambda a: torch.nan_to_num(a, nan=0.5, posinf=7.0,
                                                                  neginf=-3.0)), [s]),
        Case("nan_to_num_nan_only", Fn(lambda a: torch.nan_to_num(a, nan=-1.0,
                                                                    posinf=2.0, neginf=None)
                                       .clamp(-5, 5)), [s]),
        Case("nan_to_num_int", Fn(lambda a: torch.nan_to_num(a, nan=1.0)),
             [Input("x", (3, 4), "int32")]),
        Case("cross_default_dim", Fn(lambda a, b: torch.cross(a, b)),
             [Input("a", (3, 5)), Input("b", (3, 5))]),
        Case("cross_dim", Fn(lambda a, b: torch.cross(a, b, dim=-1)), [v, w]),
        Case("linalg_cross", Fn(lambda a, b: torch.linalg.cross(a, b)), [v, w]),
        Case("linalg_cross_dim", Fn(lambda a, b: torch.linalg.cross(a, b, dim=1)),
             [Input("a", (2, 3, 4)), Input("b", (2, 3, 4))]),
        Case("linalg_cross_broadcast", Fn(lambda a, b: torch.linalg.cross(a, b)),
             [Input("a", (1, 3)), w]),
        Case("cross_int", Fn(lambda a, b: torch.cross(a, b, dim=0)),
             [Input("a", (3, 2), "int32"), Input("b", (3, 2), "int32")]),
    ]
