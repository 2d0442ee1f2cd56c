#!/usr/bin/python3
"""Makes the long-chain benchmark models: N elementwise TorchScript nodes in one straight line.

`chain_N` computes `x = x * 1.0001 + 0.001` N/2 times on a 1x8 input (N nodes: aten::mul and
aten::add alternate), traced under torch.no_grad() with check_trace=False (deeper checked traces
overflow torch 1.13's stack). Large real models have tens of thousands of nodes; this isolates
how each phase scales with graph size, with no weights to move.

Usage: make_chain.py OUT_DIR NAME [NAME ...]   (NAME: chain_N, N even, e.g. chain_20000)
Writes OUT_DIR/NAME.pt and OUT_DIR/NAME.json (input_shape, like tests/models/make_models.py).
"""
import json
import os
import re
import sys

SHAPE = [1, 8]


def make(out_dir, name):
    import torch

    m = re.fullmatch(r"chain_(\d+)", name)
    if not m or int(m.group(1)) % 2:
        sys.exit(f"make_chain.py: '{name}' is not chain_N with N even")
    steps = int(m.group(1)) // 2

    class Chain(torch.nn.Module):
        def forward(self, x):
            for _ in range(steps):
                x = x * 1.0001 + 0.001
            return x

    torch.manual_seed(0)
    with torch.no_grad():
        traced = torch.jit.trace(Chain().eval(), torch.randn(*SHAPE), check_trace=False)
    traced.save(os.path.join(out_dir, name + ".pt"))
    with open(os.path.join(out_dir, name + ".json"), "w") as f:
        json.dump({"input_shape": SHAPE, "nodes": 2 * steps, "group": "bench"}, f)


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    os.makedirs(sys.argv[1], exist_ok=True)
    for name in sys.argv[2:]:
        make(sys.argv[1], name)


if __name__ == "__main__":
    main()
