#!/usr/bin/python3
"""Makes the corpus of broken and unsupported model files the hardening tests feed to the CLI.

Everything is derived from one small traced model (conv + relu, seed 0), so the corpus is made in a
few seconds with Debian's torch and no downloads. Files (OUT_DIR/NAME):

  good.pt                  the valid model (input x:1x3x8x8); the tests check it converts
  empty.pt                 0 bytes
  magic_only.pt            the 4-byte zip magic and nothing else
  truncated_<P>.pt         good.pt cut to P percent of its size (P in TRUNCATE_PERCENTS)
  truncated_no_eocd.pt     good.pt without its last 22 bytes (the zip end-of-directory record)
  random.pt                4 KiB of seeded random bytes
  random_pk.pt             "PK\\x03\\x04" followed by random bytes
  not_torchscript.zip      a valid zip holding a text file
  pickle_only.pt           a zip holding only data.pkl (an eager torch.save of a state dict)
  checkpoint_module.pt     torch.save of a whole nn.Module (pickled, not TorchScript)
  checkpoint_legacy.pt     torch.save of a state dict in the pre-1.6 plain pickle format
  dir.pt/                  a directory
  control_flow_if.pt       torch.jit.script, a data-dependent `if` whose branches differ in shape
  control_flow_loop.pt     torch.jit.script, a `while` on tensor values that carries a list
  unknown_op.pt            good.pt with its code calling `torch.frobnicate_v99`, an aten op
                           LibTorch 1.13 does not know (what a newer PyTorch's file looks like)
  newer_format.pt          good.pt with its archive `version` record raised to 99
  int64_input.pt           an embedding lookup traced with an int64 index tensor
  int_arg.pt               a scripted forward(x: Tensor, n: int) (a non-tensor input)
  list_arg.pt              a scripted forward(xs: List[Tensor]) (a non-tensor input)
  inplace_then_read.pt     a scripted `x.relu_(); return x + 1`: reads x after writing it in place

Usage: make_corpus.py OUT_DIR
"""
import io
import os
import random
import sys
import zipfile
from typing import List

import torch

TRUNCATE_PERCENTS = (1, 10, 50, 90, 99)


class ConvRelu(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = torch.nn.Conv2d(3, 4, 3, padding=1)

    def forward(self, x):
        return torch.relu(self.conv(x))


class DataDependentIf(torch.nn.Module):
    def forward(self, x):
        # A data-dependent `if` becomes MIL cond, but its branches must yield one type.
        if bool(x.sum() > 0):
            return x * 2.0
        return x.sum(dim=1)


class RuntimeLoop(torch.nn.Module):
    def forward(self, x):
        # The exit depends on the values (a while_loop), and the loop carries a list, which a
        # while_loop cannot.
        y = x
        ys = [x]
        while bool(y.sum() < 100.0):
            y = y * 2.0 + 1.0
            ys = ys + [y]
        return ys[-1]


class Embed(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.embedding = torch.nn.Embedding(16, 8)

    def forward(self, ids):
        return self.embedding(ids)


class IntArg(torch.nn.Module):
    def forward(self, x: torch.Tensor, n: int):
        return x * float(n)


class InplaceThenRead(torch.nn.Module):
    def forward(self, x):
        x.relu_()
        return x + 1


class ListArg(torch.nn.Module):
    def forward(self, xs: List[torch.Tensor]):
        return torch.cat(xs, 1)


def save_bytes(path, data):
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(data)
    os.replace(tmp, path)


def rewrite_archive(source, edit):
    """A copy of the zip `source` with each member passed through edit(name, bytes) -> bytes|None
    (None drops the member), keeping each member's compression."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(source)) as zin, zipfile.ZipFile(out, "w") as zout:
        for info in zin.infolist():
            data = edit(info.filename, zin.read(info.filename))
            if data is not None:
                zout.writestr(info, data)
    return out.getvalue()


def scripted_bytes(module):
    buf = io.BytesIO()
    torch.jit.save(torch.jit.script(module), buf)
    return buf.getvalue()


def main(argv):
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    out = argv[1]
    os.makedirs(out, exist_ok=True)
    torch.manual_seed(0)
    rng = random.Random(0)

    buf = io.BytesIO()
    torch.jit.save(torch.jit.trace(ConvRelu().eval(), torch.randn(1, 3, 8, 8)), buf)
    good = buf.getvalue()
    save_bytes(os.path.join(out, "good.pt"), good)
    save_bytes(os.path.join(out, "empty.pt"), b"")
    save_bytes(os.path.join(out, "magic_only.pt"), b"PK\x03\x04")
    for p in TRUNCATE_PERCENTS:
        save_bytes(os.path.join(out, f"truncated_{p}.pt"), good[: len(good) * p // 100])
    save_bytes(os.path.join(out, "truncated_no_eocd.pt"), good[:-22])
    save_bytes(os.path.join(out, "random.pt"), bytes(rng.getrandbits(8) for _ in range(4096)))
    save_bytes(os.path.join(out, "random_pk.pt"),
               b"PK\x03\x04" + bytes(rng.getrandbits(8) for _ in range(4092)))

    zbuf = io.BytesIO()
    with zipfile.ZipFile(zbuf, "w") as z:
        z.writestr("readme.txt", "this zip is not a TorchScript archive\n")
    save_bytes(os.path.join(out, "not_torchscript.zip"), zbuf.getvalue())

    pbuf = io.BytesIO()
    torch.save(ConvRelu().state_dict(), pbuf)  # a zip with data.pkl but no code/
    save_bytes(os.path.join(out, "pickle_only.pt"), pbuf.getvalue())
    mbuf = io.BytesIO()
    torch.save(ConvRelu(), mbuf)  # a pickled nn.Module, not TorchScript
    save_bytes(os.path.join(out, "checkpoint_module.pt"), mbuf.getvalue())
    lbuf = io.BytesIO()
    torch.save(ConvRelu().state_dict(), lbuf, _use_new_zipfile_serialization=False)
    save_bytes(os.path.join(out, "checkpoint_legacy.pt"), lbuf.getvalue())

    os.makedirs(os.path.join(out, "dir.pt"), exist_ok=True)

    save_bytes(os.path.join(out, "control_flow_if.pt"), scripted_bytes(DataDependentIf()))
    save_bytes(os.path.join(out, "control_flow_loop.pt"), scripted_bytes(RuntimeLoop()))

    def unknown_op(name, data):
        if name.endswith("code/__torch__.py"):
            text = data.decode()
            assert "torch.relu(" in text, text
            return text.replace("torch.relu(", "torch.frobnicate_v99(").encode()
        if name.endswith("code/__torch__.py.debug_pkl"):
            return None  # source ranges of the old text; optional in the archive
        return data

    save_bytes(os.path.join(out, "unknown_op.pt"), rewrite_archive(good, unknown_op))

    def newer_format(name, data):
        return b"99\n" if name.endswith("/version") else data

    save_bytes(os.path.join(out, "newer_format.pt"), rewrite_archive(good, newer_format))

    buf = io.BytesIO()
    torch.jit.save(torch.jit.trace(Embed().eval(), torch.randint(0, 16, (1, 4))), buf)
    save_bytes(os.path.join(out, "int64_input.pt"), buf.getvalue())
    save_bytes(os.path.join(out, "int_arg.pt"), scripted_bytes(IntArg()))
    save_bytes(os.path.join(out, "list_arg.pt"), scripted_bytes(ListArg()))
    save_bytes(os.path.join(out, "inplace_then_read.pt"), scripted_bytes(InplaceThenRead()))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
