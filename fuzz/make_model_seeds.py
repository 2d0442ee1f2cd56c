#!/usr/bin/python3
"""Writes the model fuzzer's seeds into OUT_DIR: every crafted model of
tests/hardening/make_hostile_models.py under 64 KiB (the valid one included), and each pickle and
code file of the valid model on its own.

Usage: make_model_seeds.py OUT_DIR
"""
import io
import os
import sys
import zipfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests",
                                "hardening"))
import make_hostile_models  # noqa: E402

MAX_SEED = 64 << 10


def main(argv):
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    out = argv[1]
    os.makedirs(out, exist_ok=True)
    models = os.path.join(out, "..", "model_seed_models")
    make_hostile_models.main(["make_hostile_models.py", models])
    for name in sorted(os.listdir(models)):
        path = os.path.join(models, name)
        if os.path.getsize(path) <= MAX_SEED:
            with open(path, "rb") as f:
                make_hostile_models.save_bytes(os.path.join(out, name), f.read())
    with open(os.path.join(models, "good.pt"), "rb") as f:
        good = f.read()
    with zipfile.ZipFile(io.BytesIO(good)) as z:
        for info in z.infolist():
            if info.filename.endswith((".pkl", ".debug_pkl", ".py")):
                seed = "member_" + info.filename.replace("/", "_")
                make_hostile_models.save_bytes(os.path.join(out, seed), z.read(info.filename))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
