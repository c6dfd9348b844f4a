#!/usr/bin/env python3
"""Extracts every ```cpp block of a docs page, in order, into one translation unit and compiles it (-fsyntax-only),
so that the code a page shows is code that builds.

    snippets.py <c++ compiler> <include dir> <page.md> <out.cpp>

Exit 0 when the blocks compile, 1 (with the compiler's messages) when they do not.
"""
import re
import subprocess
import sys

cxx, include, page, out = sys.argv[1:5]
text = open(page, encoding="utf-8").read()
blocks = re.findall(r"^```cpp\n(.*?)^```", text, flags=re.S | re.M)
if not blocks:
    sys.exit(f"{page}: no ```cpp block")
with open(out, "w", encoding="utf-8") as f:
    f.write(f"// generated from {page} by tests/docs/snippets.py\n")
    for b in blocks:
        f.write(b + "\n")
r = subprocess.run([cxx, "-std=c++20", "-fsyntax-only", "-Wall", "-Wextra", f"-I{include}", out],
                   capture_output=True, text=True)
if r.returncode != 0 or "warning:" in r.stderr:
    sys.stderr.write(r.stderr)
    sys.exit(f"{page}: its {len(blocks)} cpp blocks ({out}) do not compile cleanly")
print(f"{page}: {len(blocks)} cpp blocks compile")
