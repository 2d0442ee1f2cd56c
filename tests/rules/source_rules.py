#!/usr/bin/python3
"""Checks the layering rules of the source tree; run by CTest (source_rules, source_rules_self_test).

  sdk/ and plugins/   include nothing from core/, registry/, LibTorch or protobuf
  registry/           includes nothing from core/
  plugins/            no non-test source emits a MIL `cast` (casts are the core's job)
  sdk/testing, plugins/ and sdk/cmake build files put no core/ or registry/ target or folder on a
                      plugin's (or a plugin test's) include path
  with --function-lengths: no function body in a non-test source of core/, registry/, plugins/
                      or sdk/ is over 70 lines (comments, strings and preprocessor lines are
                      blanked before braces are matched)

That plugins read node inputs by declared names, never literal positions, is checked by
tests/check_plugin_inputs.sh.

Usage: source_rules.py ROOT                      check the tree at ROOT; exit 1 listing every
                                                 violation
       source_rules.py --function-lengths ROOT   the same, and the function-length rule
       source_rules.py --self-test               check that each rule catches a planted violation
"""
import os
import re
import sys
import tempfile

SOURCE_SUFFIXES = (".h", ".hpp", ".cpp", ".cc")
INCLUDE = re.compile(r'^\s*#\s*include\s*[<"]([^>"]+)[>"]', re.M)
TORCH_OR_PROTOBUF = re.compile(r"^(torch|ATen|c10|caffe2|google/protobuf)/|\.pb\.h$")
CORE = re.compile(r"^core/")
REGISTRY = re.compile(r"^registry/")
CAST_OP = re.compile(r'"cast"')
BUILD_FILE_FORBIDDEN = re.compile(
    r"\$\{PROJECT_SOURCE_DIR\}/(core|registry)\b|\bts2coreml_(base|ir|convert|torch|converter|"
    r"report|interp|registry)\b|\bts2coreml::(mil|registry)\b")


def files_under(root, top, suffixes):
    for dirpath, _, names in os.walk(os.path.join(root, top)):
        for name in sorted(names):
            if name.endswith(suffixes) or (suffixes == "build" and is_build_file(name)):
                yield os.path.join(dirpath, name)


def is_build_file(name):
    return name == "CMakeLists.txt" or name.endswith(".cmake") or name.endswith(".cmake.in")


def read(path):
    with open(path, encoding="utf-8", errors="replace") as f:
        return f.read()


def line_of(text, pos):
    return text.count("\n", 0, pos) + 1


def include_violations(root, top, forbidden, what):
    out = []
    for path in files_under(root, top, SOURCE_SUFFIXES):
        text = read(path)
        for m in INCLUDE.finditer(text):
            if any(f.search(m.group(1)) for f in forbidden):
                rel = os.path.relpath(path, root)
                out.append(f"{rel}:{line_of(text, m.start())}: includes {m.group(1)} ({what})")
    return out


def cast_violations(root):
    out = []
    for path in files_under(root, "plugins", SOURCE_SUFFIXES):
        if path.endswith("_test.cpp"):
            continue
        text = read(path)
        for m in CAST_OP.finditer(text):
            rel = os.path.relpath(path, root)
            out.append(f"{rel}:{line_of(text, m.start())}: emits a MIL cast; casts are planned and "
                       "inserted by the core (declare input dtypes instead)")
    return out


def build_file_violations(root):
    out = []
    for top in ("plugins", os.path.join("sdk", "testing"), os.path.join("sdk", "cmake")):
        for path in files_under(root, top, "build"):
            text = read(path)
            for m in BUILD_FILE_FORBIDDEN.finditer(text):
                rel = os.path.relpath(path, root)
                out.append(f"{rel}:{line_of(text, m.start())}: names {m.group(0)}; plugins and their "
                           "tests build against the SDK only")
    return out


MAX_FUNCTION_LINES = 70
FUNCTION_TOPS = ("core", "registry", "plugins", "sdk")
CONTAINER = re.compile(r"\b(namespace|class|struct|union|enum)\b[^()]*$|\bextern\s*\"C\"\s*$")
CONTROL = re.compile(r"\b(if|for|while|switch|catch|do|else|try)\s*(\(.*\))?\s*$", re.S)
FUNCTION_TAIL = re.compile(
    r"\)\s*(const|noexcept(\s*\([^()]*\))?|override|final|mutable|&|&&|->\s*[\w:<>,\s*&]+)*\s*$|"
    r"\)\s*:\s*[\w:]+\s*[({].*$", re.S)


def blank_out(text):
    """`text` with comments, string and character literals (raw strings too) and preprocessor
    lines replaced by spaces, newlines kept, so braces in them do not count and lines stay put."""
    out = list(text)
    i, n = 0, len(text)

    def clear(a, b):
        for k in range(a, b):
            if out[k] != "\n":
                out[k] = " "

    at_line_start = True
    while i < n:
        c = text[i]
        if at_line_start and c == "#":
            j = i
            while j < n and (text[j] != "\n" or text[j - 1] == "\\"):
                j += 1
            clear(i, j)
            i = j
            continue
        if c not in " \t":
            at_line_start = c == "\n"
        elif c == "\n":
            at_line_start = True
        if text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            clear(i, j)
            i = j
        elif text.startswith("/*", i):
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
            clear(i, j)
            i = j
        elif c == "R" and text.startswith('"', i + 1) and not (i > 0 and (text[i - 1].isalnum() or text[i - 1] == "_")):
            open_end = text.find("(", i + 2)
            delim = text[i + 2:open_end]
            j = text.find(")" + delim + '"', open_end)
            j = n if j < 0 else j + len(delim) + 2
            clear(i, j)
            i = j
        elif c in "\"'":
            if c == "'" and i > 0 and text[i - 1].isalnum():  # digit separator: 1'000
                i += 1
                continue
            j = i + 1
            while j < n and text[j] != c and text[j] != "\n":
                j += 2 if text[j] == "\\" else 1
            clear(i, j + 1)
            i = j + 1
        else:
            if c == "\n":
                at_line_start = True
            i += 1
    return "".join(out)


def long_functions(text, limit):
    """(first line, lines, name) of each function body in `text` longer than `limit` lines,
    counted from the line of its opening brace to the line of its closing one. Lambdas and
    blocks inside a function count as part of it."""
    code = blank_out(text)
    found = []
    stack = []  # per open brace: "function", "container" or "block"
    header_start = 0
    for i, c in enumerate(code):
        if c in ";":
            header_start = i + 1
        elif c == "{":
            header = code[header_start:i].strip()
            if any(kind == "function" for kind in stack):
                kind = "block"
            elif CONTAINER.search(header):
                kind = "container"
            elif (header and "(" in header and not CONTROL.match(header) and
                  "=" not in header.split("(")[0] and FUNCTION_TAIL.search(header)):
                kind = "function"
            else:
                kind = "block"
            stack.append((kind, i, header))
            header_start = i + 1
        elif c == "}":
            if stack:
                kind, start, header = stack.pop()
                if kind == "function":
                    lines = code.count("\n", start, i) + 1
                    if lines > limit:
                        name = re.findall(r"([~\w:]+)\s*\(", header)
                        found.append((code.count("\n", 0, start) + 1, lines,
                                      name[0] if name else "?"))
            header_start = i + 1
    return found


def function_length_violations(root, limit=MAX_FUNCTION_LINES):
    out = []
    for top in FUNCTION_TOPS:
        for path in files_under(root, top, SOURCE_SUFFIXES):
            if path.endswith("_test.cpp"):
                continue
            for line, lines, name in long_functions(read(path), limit):
                rel = os.path.relpath(path, root)
                out.append(f"{rel}:{line}: {name} is {lines} lines, over {limit}; split it into "
                           "named steps")
    return out


def check(root):
    sdk_rule = [CORE, REGISTRY, TORCH_OR_PROTOBUF]
    return (include_violations(root, "sdk", sdk_rule, "sdk/ sees only itself") +
            include_violations(root, "plugins", sdk_rule, "plugins see only the SDK") +
            include_violations(root, "registry", [CORE], "registry/ does not depend on core/") +
            cast_violations(root) + build_file_violations(root))


def body(lines):
    return "".join(f"  x += {k};\n" for k in range(lines - 2))


PLANTED_FUNCTIONS = {
    # Flagged: 71 lines from brace to brace, with braces in a comment, a string and a raw string.
    "core/x/long.cpp": ("namespace a {\nint Long(int x) {\n  // }}}\n  const char* s = \"}}\";\n"
                        "  const char* r = R\"({{)\";\n" + body(68) + "}\n}  // namespace a\n"),
    # Not flagged: exactly 70 lines; a long table and a long class of short methods.
    "registry/ok.cpp": ("int Ok(int x) {\n" + body(70) + "}\n"
                        "const int kTable[] = {\n" + "  1,\n" * 80 + "};\n"
                        "class C {\n" + "  int F() const { return 1; }\n" * 80 + "};\n"),
    # Not flagged: a test.
    "plugins/x/x_test.cpp": "void T() {\n" + body(90) + "}\n",
    # Flagged: a const method with a constructor-style header over two lines.
    "sdk/include/ts2coreml/y.h": ("struct S {\n  int Method(int a,\n             int b) const {\n" +
                                  body(80) + "  }\n};\n"),
}


PLANTED = {
    "sdk/include/ts2coreml/bad.h": '#include "core/mil/program.h"\n',
    "plugins/x/x_lowerings.cpp": '#include <torch/script.h>\nemit("cast");\n',
    "plugins/x/x_lowerings_test.cpp": 'emit("cast");\n',
    "plugins/y/y.h": '#include "google/protobuf/message.h"\n#include "registry/registry.h"\n',
    "registry/r.cpp": '#include "core/base/errors.h"\n#include "registry/ok.h"\n',
    "plugins/x/CMakeLists.txt": "target_link_libraries(t PRIVATE ts2coreml::mil)\n",
    "sdk/testing/CMakeLists.txt": "target_include_directories(t INTERFACE ${PROJECT_SOURCE_DIR}/core)\n",
}


def plant(root, files):
    for rel, text in files.items():
        os.makedirs(os.path.dirname(os.path.join(root, rel)), exist_ok=True)
        with open(os.path.join(root, rel), "w") as f:
            f.write(text)


def self_test_function_lengths():
    with tempfile.TemporaryDirectory() as root:
        plant(root, PLANTED_FUNCTIONS)
        found = function_length_violations(root)
    expected = ["core/x/long.cpp:2: Long is 71 lines", "sdk/include/ts2coreml/y.h:3: Method is 80"]
    missing = [e for e in expected if not any(v.startswith(e) for v in found)]
    if missing or len(found) != len(expected):
        print("function-length self-test failed; missing:", missing, "found:", *found, sep="\n  ")
        return 1
    print(f"function-length self-test: the {len(expected)} long functions found, nothing else")
    return 0


def self_test():
    if self_test_function_lengths() != 0:
        return 1
    with tempfile.TemporaryDirectory() as root:
        plant(root, PLANTED)
        found = check(root)
    expected = ["sdk/include/ts2coreml/bad.h:1", "plugins/x/x_lowerings.cpp:1",
                "plugins/x/x_lowerings.cpp:2", "plugins/y/y.h:1", "plugins/y/y.h:2",
                "registry/r.cpp:1", "plugins/x/CMakeLists.txt:1", "sdk/testing/CMakeLists.txt:1"]
    missing = [e for e in expected if not any(v.startswith(e + ":") for v in found)]
    if missing or len(found) != len(expected):
        print("source_rules self-test failed; missing:", missing, "found:", *found, sep="\n  ")
        return 1
    print(f"source_rules self-test: all {len(expected)} planted violations found")
    return 0


def main(argv):
    if argv[1:] == ["--self-test"]:
        return self_test()
    lengths = len(argv) == 3 and argv[1] == "--function-lengths"
    if len(argv) != 2 and not lengths:
        print(__doc__, file=sys.stderr)
        return 2
    violations = check(argv[-1])
    if lengths:
        violations += function_length_violations(argv[-1])
    for v in violations:
        print(v)
    if violations:
        print(f"source_rules: {len(violations)} violation(s)")
        return 1
    print("source_rules: sdk/, plugins/ and registry/ keep their layering")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
