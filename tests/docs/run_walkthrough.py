#!/usr/bin/python3
"""Runs a document's walkthrough verbatim: the fenced code blocks between the markers
`<!-- walkthrough: begin ... -->` and `<!-- walkthrough: end -->`, in order, in one fresh folder.
```python blocks run with this Python; ```sh blocks with bash -e, with BIN_DIR first on PATH.
Fails (exit 1) when a block fails or the document has no walkthrough.

Usage: run_walkthrough.py DOC.md BIN_DIR
"""
import os
import re
import subprocess
import sys
import tempfile

BEGIN = re.compile(r"<!-- walkthrough: begin\b.*?-->")
END = "<!-- walkthrough: end -->"
BLOCK = re.compile(r"^```(\w+)\n(.*?)^```$", re.M | re.S)


def blocks(doc_text):
    m = BEGIN.search(doc_text)
    if not m or END not in doc_text[m.end():]:
        return []
    section = doc_text[m.end():doc_text.index(END, m.end())]
    return [(lang, body) for lang, body in BLOCK.findall(section)]


def run(lang, body, cwd, env):
    if lang == "python":
        cmd = [sys.executable, "-c", body]
    elif lang in ("sh", "bash"):
        cmd = ["bash", "-e", "-c", body]
    else:
        return f"unknown block language '{lang}'"
    print(f"--- {lang} block:\n{body}", flush=True)
    r = subprocess.run(cmd, cwd=cwd, env=env)
    return None if r.returncode == 0 else f"the {lang} block exited with {r.returncode}"


def main(argv):
    if len(argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    doc, bin_dir = argv[1], os.path.abspath(argv[2])
    with open(doc, encoding="utf-8") as f:
        found = blocks(f.read())
    if not found:
        print(f"{doc}: no walkthrough blocks between the markers", file=sys.stderr)
        return 1
    env = dict(os.environ, PATH=bin_dir + os.pathsep + os.environ.get("PATH", ""))
    with tempfile.TemporaryDirectory(prefix="t2c-walkthrough-") as cwd:
        for lang, body in found:
            error = run(lang, body, cwd, env)
            if error:
                print(f"{doc}: {error}", file=sys.stderr)
                return 1
    print(f"{doc}: {len(found)} walkthrough blocks ran")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
