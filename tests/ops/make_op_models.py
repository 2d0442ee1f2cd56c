#!/usr/bin/python3
"""Makes the op sweep models: for every family in tests/ops/families/ (or those named), traces or
scripts each case of its cases(), and writes OUT/<family>/<case>.pt, one .npy per input
(<case>.<input>.npy) and OUT/<family>/cases.json, which op_sweep_test.cpp reads.

Usage: make_op_models.py OUT [FAMILY...]
       make_op_models.py --list      (the family names, one per line)
A FAMILY ending in .py is a family file elsewhere (tests/models/in_context_models.py), named
after its file.
"""
import importlib.util
import json
import os
import sys

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import op_cases  # noqa: E402

FAMILIES_DIR = os.path.join(HERE, "families")


def family_names():
    return sorted(f[:-3] for f in os.listdir(FAMILIES_DIR)
                  if f.endswith(".py") and not f.startswith("_"))


def family_file(family):
    """(name, path) of a FAMILY argument: a name of tests/ops/families/ or a .py path."""
    if family.endswith(".py"):
        return os.path.basename(family)[:-3], family
    return family, os.path.join(FAMILIES_DIR, family + ".py")


def load_family(family):
    name, path = family_file(family)
    spec = importlib.util.spec_from_file_location("family_" + name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.cases()


def export(case, example):
    """The TorchScript module of `case` (traced with `example` unless case.script). A traced
    forward's arguments are named after the case's inputs (tracing names them after the traced
    function's parameters, `argument_1` for an Fn), as convert's --input and verify name them."""
    module = case.module.eval()
    if case.script:
        return torch.jit.script(module)
    traced = torch.jit.trace(module, tuple(example), check_trace=False)
    args = list(traced.graph.inputs())[1:]
    for value, inp in zip(args, case.inputs):
        value.setDebugName(inp.name)
    return traced


def graph_ops(block):
    """The aten:: and prim:: node kinds of `block` (a graph or a block), nested blocks included."""
    kinds = set()
    for n in block.nodes():
        if n.kind().startswith(("aten::", "prim::")):
            kinds.add(n.kind())
        for b in n.blocks():
            kinds |= graph_ops(b)
    return kinds


def write_case(out_dir, family, case):
    arrays = [op_cases.make_values(i, family + "/" + case.name + "/" + i.name)
              for i in case.inputs]
    example = [torch.from_numpy(np.ascontiguousarray(a)) for a in arrays]
    with torch.no_grad():
        scripted = export(case, example)
    model = case.name + ".pt"
    scripted.save(os.path.join(out_dir, model))
    # The model's own argument names (a traced Fn names them after its lambda's parameters).
    names = [a.name for a in scripted.forward.schema.arguments[1:]]
    if len(names) != len(case.inputs):
        raise SystemExit(f"make_op_models.py: {family}/{case.name}: forward() takes "
                         f"{len(names)} arguments, the case gives {len(case.inputs)} inputs")
    inputs = []
    for name, inp, a in zip(names, case.inputs, arrays):
        npy = case.name + "." + name + ".npy"
        # verify reads no uint8 .npy: image bytes are saved as int64 (it checks 0..255).
        np.save(os.path.join(out_dir, npy), a.astype(np.int64) if a.dtype == np.uint8 else a)
        inputs.append({"name": name, "shape": list(inp.shape), "dtype": inp.dtype, "npy": npy})
    # The aten and prim ops the graph holds, nested blocks included: what scripts/op_parity.py
    # counts as swept.
    ops = sorted(graph_ops(scripted.inlined_graph))
    normalized = check_normalized(family, case, ops)
    return {"name": case.name, "model": model, "inputs": inputs,
            "precisions": list(case.precisions), "refuse": case.refuse, "ops": ops,
            "normalized": normalized}


def check_normalized(family, case, ops):
    """The aliases `case` declares TorchScript renames, checked against its graph: the alias is
    absent and the op it becomes is present."""
    for alias, target in (case.normalized or {}).items():
        if alias in ops or target not in ops:
            raise SystemExit(f"make_op_models.py: {family}/{case.name}: declares {alias} "
                             f"normalized to {target}, but the graph holds {', '.join(ops)}")
    return sorted(case.normalized or {})


def make_family(out_root, arg):
    family = family_file(arg)[0]
    out_dir = os.path.join(out_root, family)
    os.makedirs(out_dir, exist_ok=True)
    cases = load_family(arg)
    names = [c.name for c in cases]
    if len(set(names)) != len(names):
        raise SystemExit(f"make_op_models.py: {family}: duplicate case names")
    for c in cases:
        inputs = [i.name for i in c.inputs]
        if len(set(inputs)) != len(inputs):
            raise SystemExit(f"make_op_models.py: {family}/{c.name}: two inputs share a name")
    listed = [write_case(out_dir, family, c) for c in cases]
    tmp = os.path.join(out_dir, "cases.json.tmp")
    with open(tmp, "w") as f:
        json.dump({"family": family, "cases": listed}, f, indent=1)
    os.replace(tmp, os.path.join(out_dir, "cases.json"))
    print(f"make_op_models.py: {family}: {len(listed)} cases")


def main(argv):
    if argv == ["--list"]:
        print("\n".join(family_names()))
        return 0
    if not argv:
        print(__doc__, file=sys.stderr)
        return 2
    torch.manual_seed(0)
    families = argv[1:] or family_names()
    for family in families:
        make_family(argv[0], family)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
