#!/usr/bin/python3
"""Runs a document's walkthrough verbatim: the fenced code blocks between the markers
`<!-- walkthrough: begin ... -->` and `<!-- walkthrough: end -->` (a document may have several
such sections; they run as one walkthrough), in order, in one fresh folder.
```python blocks run with this Python; ```sh blocks with bash -e, with BIN_DIR first on PATH.
A block right after `<!-- walkthrough: file PATH -->` is not run but written to PATH (relative to
the folder), whatever its language: the document's own source files are the ones built; with
`<!-- walkthrough: file PATH same-as FILE -->` the block must also equal FILE (relative to the
folder, e.g. through a --link), so that a copy kept elsewhere cannot drift from the document.
`--link NAME=DIR` puts a symlink NAME to DIR in the folder first (e.g. the source tree where the
document's reader has cloned it). Other blocks' languages are not run.
Fails (exit 1) when a block fails or the document has no walkthrough.

Usage: run_walkthrough.py DOC.md BIN_DIR [--link NAME=DIR ...]
"""
import os
import re
import subprocess
import sys
import tempfile

BEGIN = re.compile(r"<!-- walkthrough: begin\b.*?-->")
END = "<!-- walkthrough: end -->"
FILE = re.compile(r"<!-- walkthrough: file (\S+)(?: same-as (\S+))? -->\s*\n$")
BLOCK = re.compile(r"^```(\w+)\n(.*?)^```$", re.M | re.S)


def sections(doc_text):
    """The text of every walkthrough section, in order."""
    found = []
    pos = 0
    while True:
        m = BEGIN.search(doc_text, pos)
        if not m or END not in doc_text[m.end():]:
            return found
        end = doc_text.index(END, m.end())
        found.append(doc_text[m.end():end])
        pos = end + len(END)


def blocks(doc_text):
    """(language, body, file or None) of every block of the walkthrough sections."""
    out = []
    for section in sections(doc_text):
        for m in BLOCK.finditer(section):
            f = FILE.search(section[:m.start()])
            out.append((m.group(1), m.group(2), (f.group(1), f.group(2)) if f else None))
    return out


def write(file, body, cwd):
    path, same_as = file
    if same_as:
        with open(os.path.join(cwd, same_as), encoding="utf-8") as f:
            if f.read() != body:
                return f"file block '{path}' differs from {same_as}, which it must equal"
    target = os.path.normpath(os.path.join(cwd, path))
    if not target.startswith(cwd + os.sep):
        return f"file block '{path}' is outside the walkthrough folder"
    os.makedirs(os.path.dirname(target), exist_ok=True)
    with open(target, "w", encoding="utf-8") as f:
        f.write(body)
    print(f"--- wrote {path}", flush=True)
    return None


def run(lang, body, cwd, env):
    if lang == "python":
        cmd = [sys.executable, "-c", body]
    elif lang in ("sh", "bash"):
        cmd = ["bash", "-e", "-c", body]
    else:
        return None
    print(f"--- {lang} block:\n{body}", flush=True)
    r = subprocess.run(cmd, cwd=cwd, env=env)
    return None if r.returncode == 0 else f"the {lang} block exited with {r.returncode}"


def parse_links(args):
    links = []
    for i in range(0, len(args), 2):
        if args[i] != "--link" or i + 1 >= len(args) or "=" not in args[i + 1]:
            return None
        name, target = args[i + 1].split("=", 1)
        links.append((name, os.path.abspath(target)))
    return links


def main(argv):
    links = parse_links(argv[3:]) if len(argv) >= 3 else None
    if links is None:
        print(__doc__, file=sys.stderr)
        return 2
    doc, bin_dir = argv[1], os.path.abspath(argv[2])
    with open(doc, encoding="utf-8") as f:
        found = blocks(f.read())
    if not any(file is None and lang in ("python", "sh", "bash") for lang, _, file in found):
        print(f"{doc}: no walkthrough blocks between the markers", file=sys.stderr)
        return 1
    env = dict(os.environ, PATH=bin_dir + os.pathsep + os.environ.get("PATH", ""))
    with tempfile.TemporaryDirectory(prefix="t2c-walkthrough-") as cwd:
        cwd = os.path.realpath(cwd)
        for name, target in links:
            os.symlink(target, os.path.join(cwd, name))
        for lang, body, file in found:
            error = write(file, body, cwd) if file else run(lang, body, cwd, env)
            if error:
                print(f"{doc}: {error}", file=sys.stderr)
                return 1
    print(f"{doc}: {len(found)} walkthrough blocks ran")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
