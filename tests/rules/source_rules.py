#!/usr/bin/python3
"""Checks the layering rules of the source tree; run by CTest (source_rules, source_rules_self_test).

  sdk/ and plugins/   include nothing from core/, registry/, LibTorch or protobuf
  registry/           includes nothing from core/
  plugins/            no non-test source emits a MIL `cast` (casts are the core's job)
  sdk/testing, plugins/ and sdk/cmake build files put no core/ or registry/ target or folder on a
                      plugin's (or a plugin test's) include path

Usage: source_rules.py ROOT        check the tree at ROOT; exit 1 listing every violation
       source_rules.py --self-test  check that each rule catches a planted violation
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


def check(root):
    sdk_rule = [CORE, REGISTRY, TORCH_OR_PROTOBUF]
    return (include_violations(root, "sdk", sdk_rule, "sdk/ sees only itself") +
            include_violations(root, "plugins", sdk_rule, "plugins see only the SDK") +
            include_violations(root, "registry", [CORE], "registry/ does not depend on core/") +
            cast_violations(root) + build_file_violations(root))


PLANTED = {
    "sdk/include/ts2coreml/bad.h": '#include "core/mil/program.h"\n',
    "plugins/x/x_lowerings.cpp": '#include <torch/script.h>\nemit("cast");\n',
    "plugins/x/x_lowerings_test.cpp": 'emit("cast");\n',
    "plugins/y/y.h": '#include "google/protobuf/message.h"\n#include "registry/registry.h"\n',
    "registry/r.cpp": '#include "core/base/errors.h"\n#include "registry/ok.h"\n',
    "plugins/x/CMakeLists.txt": "target_link_libraries(t PRIVATE ts2coreml::mil)\n",
    "sdk/testing/CMakeLists.txt": "target_include_directories(t INTERFACE ${PROJECT_SOURCE_DIR}/core)\n",
}


def self_test():
    with tempfile.TemporaryDirectory() as root:
        for rel, text in PLANTED.items():
            os.makedirs(os.path.dirname(os.path.join(root, rel)), exist_ok=True)
            with open(os.path.join(root, rel), "w") as f:
                f.write(text)
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
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    violations = check(argv[1])
    for v in violations:
        print(v)
    if violations:
        print(f"source_rules: {len(violations)} violation(s)")
        return 1
    print("source_rules: sdk/, plugins/ and registry/ keep their layering")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
