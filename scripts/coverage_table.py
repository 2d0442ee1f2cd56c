#!/usr/bin/python3
"""Generates docs/coverage.md: converts every model of tests/models/make_models.py and of
tests/models/in_context_models.py with the built CLI in fp16 and fp32 (ios16) and tabulates, per model, the MIL ops, their dtypes, the FP16 share,
the ops kept in FP32 with the reason, the casts and the weight size, read from the conversion
summaries. Nothing in the table is typed by hand.

Usage: scripts/coverage_table.py [--build DIR] [--models DIR] [--out FILE] [--jobs N]
  --build   the build tree with bin/ts2coreml (default: build)
  --models  where the test models are (default: BUILD/test_models; made there when missing);
            the in-context models are BUILD/op_models/in_context_models (made there when missing)
  --out     the Markdown file to write (default: docs/coverage.md)
  --jobs    conversions run in parallel (default: 2)
"""
import argparse
import concurrent.futures
import json
import os
import re
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MAKE_MODELS = os.path.join(ROOT, "tests", "models", "make_models.py")
MAKE_OP_MODELS = os.path.join(ROOT, "tests", "ops", "make_op_models.py")
IN_CONTEXT = os.path.join(ROOT, "tests", "models", "in_context_models.py")
PYTHON = "/usr/bin/python3"


def model_list():
    out = subprocess.run([PYTHON, MAKE_MODELS, "--list"], check=True, capture_output=True,
                         text=True).stdout
    models = []
    for line in out.splitlines():
        name, shape, group, outputs, input_name = line.split()
        if group != "test":
            models.append({"name": name, "shape": shape, "group": group,
                           "inputs": [f"{input_name}:{shape}"]})
    return models


def in_context_models(build):
    """The models of tests/models/in_context_models.py (made into BUILD/op_models when missing),
    each with its typed --input flags; the input column shows them."""
    out_dir = os.path.join(build, "op_models")
    listing = os.path.join(out_dir, "in_context_models", "cases.json")
    if not os.path.exists(listing):
        subprocess.run([PYTHON, MAKE_OP_MODELS, out_dir, IN_CONTEXT], check=True)
    with open(listing) as f:
        cases = json.load(f)["cases"]
    models = []
    for c in cases:
        inputs = []
        for i in c["inputs"]:
            spec = f"{i['name']}:{'x'.join(str(d) for d in i['shape'])}"
            inputs.append(spec if i["dtype"] == "fp32" else f"{spec}:{i['dtype']}")
        models.append({"name": c["name"], "group": "in_context", "inputs": inputs,
                       "shape": ", ".join(inputs),
                       "path": os.path.join(out_dir, "in_context_models", c["model"])})
    return models


def parse_summary(text):
    """Reads the numbers of one conversion summary (docs/cli.md, "The summary")."""
    r = {"ops": {}, "kept": [], "casts": 0, "weight_bin": "", "time": ""}
    m = re.search(r"MIL ops \((\d+), consts and casts not counted; (.*?)\):", text)
    if not m:
        raise ValueError("no MIL op table in the summary")
    section = None
    for line in text.splitlines():
        s = line.strip()
        if s.startswith("MIL ops ("):
            section = "ops"
            continue
        if s.startswith("kept fp32:"):
            section = "kept"
            continue
        if s.startswith("casts inserted"):
            r["casts"] = int(re.search(r"\((\d+)\)", s).group(1))
            section = None
            continue
        if s.startswith("weights:"):
            w = re.search(r"weight\.bin ([0-9.]+ [kMG]?B)", s)
            r["weight_bin"] = w.group(1) if w else "0 B"
            section = None
            continue
        if s.startswith("time:"):
            t = re.search(r"total ([0-9.]+)s", s)
            r["time"] = t.group(1) if t else ""
            section = None
            continue
        if not line.startswith("    "):
            section = None
            continue
        if section == "ops":
            parts = s.split()
            if len(parts) == 3 and parts[2].isdigit():
                key = (parts[0], parts[1])
                r["ops"][key] = r["ops"].get(key, 0) + int(parts[2])
        elif section == "kept":
            r["kept"].append(s)
    return r


def convert(cli, models_dir, model, precision, out_dir):
    pkg = os.path.join(out_dir, f"{model['name']}_{precision}.mlpackage")
    path = model.get("path") or os.path.join(models_dir, model["name"] + ".pt")
    cmd = [cli, "convert", path, "-o", pkg, "--precision", precision, "--target", "ios16",
           "--force"]
    for spec in model["inputs"]:
        cmd += ["--input", spec]
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        return {"error": (p.stdout + p.stderr).strip().splitlines()[-1]}
    return parse_summary(p.stdout)


def counts(summary):
    ops = summary["ops"]
    total = sum(c for (t, _), c in ops.items() if t != "cast")
    fp16 = sum(c for (t, d), c in ops.items() if t != "cast" and d == "fp16")
    fp32 = sum(c for (t, d), c in ops.items() if t != "cast" and d == "fp32")
    other = total - fp16 - fp32
    return total, fp16, fp32, other


def table(models, results):
    lines = [
        "| model | group | input | MIL ops | fp16 ops | fp32 ops | other | FP16 share | casts "
        "| weights fp16 | MIL ops (fp32) | weights fp32 |",
        "| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for m in models:
        h, f = results[(m["name"], "fp16")], results[(m["name"], "fp32")]
        row = [m["name"], m["group"], m["shape"]]
        if "error" in h:
            row += ["failed (below)"] + [""] * 6
        else:
            total, fp16, fp32, other = counts(h)
            share = f"{100.0 * fp16 / total:.1f}%" if total else "-"
            row += [str(total), str(fp16), str(fp32), str(other), share, str(h["casts"]),
                    h["weight_bin"]]
        if "error" in f:
            row += ["failed (below)", ""]
        else:
            row += [str(counts(f)[0]), f["weight_bin"]]
        lines.append("| " + " | ".join(row) + " |")
    return lines


def kept_section(models, results):
    lines = []
    for m in models:
        h = results[(m["name"], "fp16")]
        if "error" in h or not h["kept"]:
            continue
        lines.append(f"- **{m['name']}**")
        for k in h["kept"]:
            lines.append(f"  - {k}")
    return lines or ["(none)"]


def op_section(models, results):
    """Op types over all fp16 packages: type -> (fp16 count, fp32 count, models using it)."""
    agg = {}
    for m in models:
        h = results[(m["name"], "fp16")]
        if "error" in h:
            continue
        for (t, d), c in h["ops"].items():
            a = agg.setdefault(t, [0, 0, set()])
            a[0 if d == "fp16" else 1] += c if d in ("fp16", "fp32") else 0
            a[2].add(m["name"])
    lines = ["| MIL op | fp16 | fp32 | models |", "| --- | ---: | ---: | ---: |"]
    for t in sorted(agg):
        lines.append(f"| {t} | {agg[t][0]} | {agg[t][1]} | {len(agg[t][2])} |")
    return lines


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--models")
    ap.add_argument("--out", default=os.path.join(ROOT, "docs", "coverage.md"))
    ap.add_argument("--jobs", type=int, default=2)
    args = ap.parse_args()
    cli = os.path.join(args.build, "bin", "ts2coreml")
    if not os.access(cli, os.X_OK):
        print(f"coverage_table.py: {cli} not found; build first (bash scripts/build.sh)",
              file=sys.stderr)
        return 2
    models_dir = args.models or os.path.join(args.build, "test_models")
    models = model_list()
    missing = [m["name"] for m in models
               if not os.path.exists(os.path.join(models_dir, m["name"] + ".pt"))]
    if missing:
        subprocess.run([PYTHON, MAKE_MODELS, models_dir] + missing, check=True)
    models += in_context_models(args.build)
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        with concurrent.futures.ThreadPoolExecutor(args.jobs) as pool:
            futures = {pool.submit(convert, cli, models_dir, m, p, tmp): (m["name"], p)
                       for m in models for p in ("fp16", "fp32")}
            for fut in concurrent.futures.as_completed(futures):
                results[futures[fut]] = fut.result()
    failed = sorted(k for k, v in results.items() if "error" in v)
    rel_out = os.path.relpath(args.out, ROOT)
    doc = [
        "# Op coverage",
        "",
        "<!-- Generated by scripts/coverage_table.py; do not edit. Regenerate with:",
        f"     /usr/bin/python3 scripts/coverage_table.py --build build --out {rel_out}",
        "-->",
        "",
        "Every model of `tests/models/make_models.py --list` (torchvision 0.14, `weights=None`, "
        "seed 0, conditioned like a trained model) and of `tests/models/in_context_models.py` "
        "(group in_context: small models of the kinds each op family is used in) converted "
        "with `ts2coreml convert --target ios16`, once with `--precision fp16` and once with "
        "`--precision fp32`. Numbers are read from the conversion summaries.",
        "",
        "- **MIL ops**: ops in the main function of the fp16 package, consts and casts not "
        "counted; **fp16/fp32 ops**: by output dtype; **other**: ops with int or bool outputs.",
        "- **FP16 share**: fp16 ops / MIL ops. **casts**: casts the core inserted (model "
        "inputs and outputs stay fp32, plus each boundary to an op kept in fp32).",
        "- **weights**: size of `weight.bin` (constants of 10 or more elements).",
        "",
    ]
    doc += table(models, results)
    doc += ["", "## Ops kept in FP32 under `--precision fp16`, and why", ""]
    doc += kept_section(models, results)
    doc += ["", "## MIL op types over all fp16 packages", ""]
    doc += op_section(models, results)
    if failed:
        doc += ["", "## Failed conversions", ""]
        doc += [f"- {n} ({p}): {results[(n, p)]['error']}" for n, p in failed]
    doc.append("")
    with open(args.out + ".tmp", "w") as f:
        f.write("\n".join(doc))
    os.replace(args.out + ".tmp", args.out)
    print(f"wrote {args.out}: {len(models)} models, {len(failed)} failed conversions")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
