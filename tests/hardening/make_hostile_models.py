#!/usr/bin/python3
"""Makes crafted TorchScript files that LibTorch 1.13 must never be handed unchecked.

Every file is a real model saved by torch.jit.save (conv 3->4, 3x3, then relu; its weight is the
432-byte storage record data/0) with one thing changed by editing its zip: a pickle's opcodes, a
storage record, the code, or the container itself. The hardening test converts each one and
expects exit 4 with one line naming the file. Files (OUT_DIR/NAME.pt):

  good                      the model unchanged (converts)
  deep_sequential           a real model 150 nn.Sequential deep (converts: the bounds let it pass)
  record_short              the weight's record cut to 216 of its 432 bytes
  record_empty              the weight's record emptied
  numel_too_big             the weight's storage declares 1000 elements over a 432-byte record
  sizes_past_storage        the weight viewed as [8, 3, 3, 3] over its 108 elements
  huge_offset               the weight's storage offset 2^40
  huge_stride               the weight's first stride 2^40
  negative_stride           the weight's first stride -27
  negative_offset           the weight's storage offset -1
  zero_stride_big_size      the weight viewed as [2^31, 3, 3, 3] with strides [0, 9, 3, 1]
  pickle_tuple3             a 6-byte data.pkl: TUPLE3 over one item
  pickle_reduce_empty       data.pkl: REDUCE on an empty stack
  pickle_build_empty        data.pkl: BUILD on an empty stack
  pickle_nested_tuples      data.pkl: 1,000,000 nested TUPLE1
  pickle_marks              data.pkl: 100,000 MARKs
  pickle_memo_far           data.pkl: LONG_BINPUT 0xFFFFFFF0
  pickle_many_values        data.pkl: 3,000,000 NONEs on the stack
  pickle_self_list          data.pkl: a list appended into itself through the memo
  constants_bad             constants.pkl: TUPLE3 over one item
  debug_pkl_bad             the code's .debug_pkl: REDUCE on an empty stack
  code_parens               forward() returns 10,000 nested parentheses
  code_plus_chain           forward() returns a chain of 10,000 `+`
  code_elif_chain           forward() has 10,000 elifs
  code_nested_blocks        forward() has 1,000 nested ifs
  zip_bomb                  the weight's record deflated from 1 GiB of zeros (under 5 MB on disk)
  crc_mismatch              one byte of the weight's record changed, its CRC-32 kept
  duplicate_entry           data/0 appears twice in the archive
  sizes_disagree            the local header of data/0 states another size than the directory
  case_duplicate            data/0 and DATA/0 both in the archive (LibTorch ignores case)
  code_case_renamed         the model's code file as CODE/... with 10,000 nested parentheses
  fake_end_record           a second archive (its code 10,000 parentheses deep) hidden in a
                            stored entry, its end record in the real one's comment

Usage: make_hostile_models.py OUT_DIR
"""
import io
import os
import pickletools
import struct
import sys
import zipfile
import zlib

import torch


class ConvRelu(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = torch.nn.Conv2d(3, 4, 3, padding=1)

    def forward(self, x):
        return torch.relu(self.conv(x))


def deep_sequential(depth):
    inner = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3, padding=1), torch.nn.ReLU())
    for _ in range(depth):
        inner = torch.nn.Sequential(inner)
    return inner


def saved(module):
    buf = io.BytesIO()
    torch.jit.save(torch.jit.trace(module.eval(), torch.randn(1, 3, 8, 8)), buf)
    return buf.getvalue()


def save_bytes(path, data):
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(data)
    os.replace(tmp, path)


def rewrite(source, edit, extra=()):
    """A copy of zip `source` with each member passed through edit(name, bytes) -> bytes|None
    (None drops it), then the (name, bytes) pairs of `extra` appended."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(source)) as zin, zipfile.ZipFile(out, "w") as zout:
        for info in zin.infolist():
            data = edit(info.filename, zin.read(info.filename))
            if data is not None:
                zout.writestr(info, data)
        for name, data in extra:
            zout.writestr(name, data)
    return out.getvalue()


def member(source, suffix):
    with zipfile.ZipFile(io.BytesIO(source)) as z:
        return next(n for n in z.namelist() if n.endswith(suffix))


def top_code(source):
    """The code file of the saved module's own class (not of torch.nn's)."""
    with zipfile.ZipFile(io.BytesIO(source)) as z:
        return next(n for n in z.namelist()
                    if "/code/" in n and n.endswith(".py") and "/torch/nn/" not in n)


def replace_member(source, suffix, data):
    name = member(source, suffix)
    return rewrite(source, lambda n, d: data if n == name else d)


def pickle_int(v):
    if 0 <= v < 256:
        return b"K" + bytes([v])
    return b"\x8a\x08" + struct.pack("<q", v)


def patch_weight(pkl, numel=None, offset=None, sizes=None, strides=None):
    """data.pkl with the first tensor's numel, storage offset, sizes or strides replaced.

    torch writes a tensor as GLOBAL _rebuild_tensor_v2, MARK, (MARK 'storage' type key location
    NUMEL TUPLE) BINPERSID [BINPUT], OFFSET, MARK SIZES... TUPLE, MARK STRIDES... TUPLE, ..."""
    ops = list(pickletools.genops(pkl))
    ends = [pos for _, _, pos in ops[1:]] + [len(pkl)]
    persid = next(i for i, (op, _, _) in enumerate(ops) if op.name == "BINPERSID")
    edits = {}  # op index -> new bytes
    if numel is not None:
        edits[persid - 2] = pickle_int(numel)
    i = persid + 1
    if ops[i][0].name in ("BINPUT", "LONG_BINPUT"):
        i += 1
    if offset is not None:
        edits[i] = pickle_int(offset)
    i += 1
    for values in (sizes, strides):
        assert ops[i][0].name == "MARK", ops[i]
        first = i + 1
        while ops[i][0].name != "TUPLE":
            i += 1
        if values is not None:
            edits[first] = b"".join(pickle_int(v) for v in values)
            for j in range(first + 1, i):
                edits[j] = b""
        i += 1
    out = bytearray()
    for k, (_, _, pos) in enumerate(ops):
        out += edits.get(k, pkl[pos:ends[k]])
    return bytes(out)


def weight_variant(good, **change):
    pkl_name = member(good, "/data.pkl")
    with zipfile.ZipFile(io.BytesIO(good)) as z:
        pkl = z.read(pkl_name)
    return replace_member(good, "/data.pkl", patch_weight(pkl, **change))


def forward_source(good, body):
    """The text of the model's code file with forward()'s body replaced."""
    with zipfile.ZipFile(io.BytesIO(good)) as z:
        text = z.read(top_code(good)).decode()
    signature_end = text.index(") -> Tensor:\n") + len(") -> Tensor:\n")
    return text[:signature_end] + body


def forward_code(good, body):
    """The model with forward()'s body replaced (its source map dropped: it no longer matches)."""
    code_name = top_code(good)

    def edit(name, data):
        if name == code_name:
            return forward_source(good, body).encode()
        if name == code_name + ".debug_pkl":
            return None
        return data

    return rewrite(good, edit)


def zip_bomb(good):
    """data/0 as an entry deflated from 1 GiB of zeros (under 5 MB); every other entry kept."""
    record = member(good, "/data/0")
    comp = zlib.compressobj(1, zlib.DEFLATED, -15)
    chunk = bytes(1 << 20)
    parts = [comp.compress(chunk) for _ in range(1024)] + [comp.flush()]
    body = b"".join(parts)
    crc = 0
    for _ in range(1024):
        crc = zlib.crc32(chunk, crc)
    usize = 1 << 30
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(good)) as zin, zipfile.ZipFile(out, "w") as zout:
        for info in zin.infolist():
            if info.filename != record:
                zout.writestr(info, zin.read(info.filename))
                continue
            info = zipfile.ZipInfo(record)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.CRC, info.compress_size, info.file_size = crc, len(body), usize
            info.header_offset = zout.fp.tell()
            zout.fp.write(info.FileHeader(zip64=False))
            zout.fp.write(body)
            zout.filelist.append(info)
            zout.NameToInfo[record] = info
            zout.start_dir = zout.fp.tell()
    return out.getvalue()


def stored_record_offset(data, name):
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        info = z.getinfo(name)
    nlen, elen = struct.unpack("<HH", data[info.header_offset + 26: info.header_offset + 30])
    return info.header_offset, info.header_offset + 30 + nlen + elen


def hidden_archive(good, code):
    """`good` with a stored entry holding a copy of itself whose top code file is `code`, and a
    comment holding that copy's central directory and end record: a reader that takes the last
    end-of-directory signature reads the copy."""
    inner = rewrite(good, lambda n, d: code.encode() if n == top_code(good) else d)
    outer = rewrite(good, lambda n, d: d, extra=[("archive/extra/blob", inner)])
    _, start = stored_record_offset(outer, "archive/extra/blob")
    end = inner.rfind(b"PK\x05\x06")
    count, cd_size, cd_offset = struct.unpack("<HII", inner[end + 10: end + 20])
    cd = bytearray(inner[cd_offset: cd_offset + cd_size])
    pos = 0
    while pos < len(cd):
        nlen, elen, clen = struct.unpack("<HHH", cd[pos + 28: pos + 34])
        local = struct.unpack("<I", cd[pos + 42: pos + 46])[0]
        cd[pos + 42: pos + 46] = struct.pack("<I", local + start)
        pos += 46 + nlen + elen + clen
    real_end = outer.rfind(b"PK\x05\x06")
    fake_end = b"PK\x05\x06" + struct.pack("<HHHHIIH", 0, 0, count, count, len(cd),
                                            real_end + 22, 7)
    comment = bytes(cd) + fake_end
    return outer[: real_end + 20] + struct.pack("<H", len(comment)) + comment


def container_variants(good):
    record = member(good, "/data/0")
    local, start = stored_record_offset(good, record)
    crc = bytearray(good)
    crc[start + 5] ^= 0x01
    sizes = bytearray(good)
    sizes[local + 22: local + 26] = struct.pack("<I", 431)
    with zipfile.ZipFile(io.BytesIO(good)) as z:
        weight = z.read(record)
    dup = rewrite(good, lambda n, d: d, extra=[(record, weight)])
    deep = forward_source(good, "    return " + "(" * 10000 + "x" + ")" * 10000 + "\n")
    code = top_code(good)
    upper = code.replace("/code/", "/CODE/")
    renamed = rewrite(good, lambda n, d: None if n == code else d, extra=[(upper, deep.encode())])
    return {"crc_mismatch": bytes(crc), "sizes_disagree": bytes(sizes), "duplicate_entry": dup,
            "zip_bomb": zip_bomb(good),
            "case_duplicate": rewrite(good, lambda n, d: d,
                                      extra=[(record.replace("/data/", "/DATA/"), weight)]),
            "code_case_renamed": renamed, "fake_end_record": hidden_archive(good, deep)}


def pickle_variants(good):
    self_list = b"\x80\x02]q\x00(h\x00e."
    return {
        "pickle_tuple3": replace_member(good, "/data.pkl", b"\x80\x02K\x01\x87."),
        "pickle_reduce_empty": replace_member(good, "/data.pkl", b"\x80\x02R."),
        "pickle_build_empty": replace_member(good, "/data.pkl", b"\x80\x02b."),
        "pickle_nested_tuples": replace_member(good, "/data.pkl",
                                               b"\x80\x02N" + b"\x85" * 1000000 + b"."),
        "pickle_marks": replace_member(good, "/data.pkl", b"\x80\x02" + b"(" * 100000 + b"N."),
        "pickle_memo_far": replace_member(good, "/data.pkl", b"\x80\x02Nr\xf0\xff\xff\xff."),
        "pickle_many_values": replace_member(good, "/data.pkl",
                                             b"\x80\x02" + b"N" * 3000000 + b"."),
        "pickle_self_list": replace_member(good, "/data.pkl", self_list),
        "constants_bad": replace_member(good, "/constants.pkl", b"\x80\x02K\x01\x87."),
        "debug_pkl_bad": replace_member(good, top_code(good) + ".debug_pkl", b"\x80\x02R."),
    }


def code_variants(good):
    n = 10000
    elifs = "    if bool(torch.gt(x, 0)):\n      y = x\n" + "".join(
        f"    elif bool(torch.gt(x, {i})):\n      y = x\n" for i in range(n))
    elifs += "    else:\n      y = x\n    return y\n"
    nest = "".join("  " * (i + 2) + "if bool(torch.gt(x, 0)):\n" for i in range(1000))
    nest += "  " * 1002 + "x = x\n    return x\n"
    return {
        "code_parens": forward_code(good, "    return " + "(" * n + "x" + ")" * n + "\n"),
        "code_plus_chain": forward_code(good, "    return " + " + ".join(["x"] * n) + "\n"),
        "code_elif_chain": forward_code(good, elifs),
        "code_nested_blocks": forward_code(good, nest),
    }


def weight_variants(good):
    return {
        "record_short": replace_member(good, "/data/0", bytes(216)),
        "record_empty": replace_member(good, "/data/0", b""),
        "numel_too_big": weight_variant(good, numel=1000),
        "sizes_past_storage": weight_variant(good, sizes=(8, 3, 3, 3)),
        "huge_offset": weight_variant(good, offset=1 << 40),
        "huge_stride": weight_variant(good, strides=(1 << 40, 9, 3, 1)),
        "negative_stride": weight_variant(good, strides=(-27, 9, 3, 1)),
        "negative_offset": weight_variant(good, offset=-1),
        "zero_stride_big_size": weight_variant(good, sizes=(1 << 31, 3, 3, 3),
                                               strides=(0, 9, 3, 1)),
    }


def main(argv):
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    out = argv[1]
    os.makedirs(out, exist_ok=True)
    torch.manual_seed(0)
    good = saved(ConvRelu())
    files = {"good": good, "deep_sequential": saved(deep_sequential(150))}
    for variants in (weight_variants, pickle_variants, code_variants, container_variants):
        files.update(variants(good))
    for name, data in files.items():
        save_bytes(os.path.join(out, name + ".pt"), data)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
