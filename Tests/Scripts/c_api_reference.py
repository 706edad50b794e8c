#!/usr/bin/env python3
"""The C API reference (bindings/c/API.md), generated from include/cmfseg.h's comments.

    Tests/Scripts/c_api_reference.py           rewrite bindings/c/API.md
    Tests/Scripts/c_api_reference.py --check   exit 1 when API.md is not what the header gives

The header is the source of truth and is documented function by function; this page lays
the same text out for reading: the header's opening comment, then each section (the
banner comments) with every declaration as a C block under its own heading, followed by
the comment written above it.
"""
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HEADER = ROOT / "include" / "cmfseg.h"
OUTPUT = ROOT / "bindings" / "c" / "API.md"
BANNER = re.compile(r"^/\* -{20,} \*/$")


def comment_text(lines):
    """The prose of a /* ... */ block, without the comment markers."""
    out = []
    for line in lines:
        s = line.strip()
        s = re.sub(r"^/\*+ ?", "", s)
        s = re.sub(r" ?\*+/$", "", s)
        s = re.sub(r"^\* ?", "", s)
        out.append(s)
    return "\n".join(out).strip()


def declared_name(decl):
    first = decl[0]
    m = re.search(r"(\w+)\s*\(", first) if first.startswith("CMF_API") else None
    if m:
        return m.group(1)
    m = re.match(r"typedef (?:struct|enum) (\w+)", first) or re.match(r"#define (\w+)", first) \
        or re.match(r"typedef .*\(\*(\w+)\)", first) or re.match(r"typedef struct (\w+) \w+;", first)
    if m:
        return m.group(1)
    return None


def blocks(lines):
    """(kind, lines) items: 'banner', 'comment', 'decl', in header order."""
    i = 0
    while i < len(lines):
        line = lines[i]
        if BANNER.match(line) and i + 2 < len(lines) and BANNER.match(lines[i + 2]):
            yield "banner", [comment_text([lines[i + 1]])]
            i += 3
        elif line.lstrip().startswith("/*"):
            j = i
            while "*/" not in lines[j]:
                j += 1
            yield "comment", lines[i:j + 1]
            i = j + 1
        elif line.strip() == "":
            yield "blank", []
            i += 1
        else:
            j = i
            depth = 0
            while True:
                depth += lines[j].count("{") - lines[j].count("}")
                if depth <= 0 and (lines[j].rstrip().endswith(";") or lines[j].startswith("#define")):
                    break
                j += 1
            yield "decl", lines[i:j + 1]
            i = j + 1


def render():
    text = HEADER.read_text().splitlines()
    opening_end = next(i for i, l in enumerate(text) if "*/" in l)
    body_start = next(i for i, l in enumerate(text) if BANNER.match(l))
    body_end = max(i for i, l in enumerate(text) if l.startswith("#ifdef __cplusplus"))
    out = ["# The C API of libcmfseg",
           "",
           "Generated from [`include/cmfseg.h`](../../include/cmfseg.h) by "
           "`Tests/Scripts/c_api_reference.py`; the header is the source of truth.",
           "",
           "```",
           comment_text(text[1:opening_end]) if text[0].strip() == "/*" else comment_text(text[:opening_end + 1]),
           "```",
           ""]
    pending = []   # comment lines waiting for the declaration they describe
    for kind, lines in blocks(text[body_start:body_end]):
        if kind == "banner":
            out += ["## " + lines[0], ""]
        elif kind == "comment":
            if pending:
                out += [comment_text(pending), ""]
            pending = list(lines)
        elif kind == "blank":
            if pending:
                out += [comment_text(pending), ""]
                pending = []
        else:
            name = declared_name(lines)
            if name:
                out += ["### `%s`" % name, ""]
            out += ["```c"] + lines + ["```", ""]
            if pending:
                out += [comment_text(pending), ""]
                pending = []
    if pending:
        out += [comment_text(pending), ""]
    return "\n".join(out).rstrip() + "\n"


def main():
    page = render()
    if sys.argv[1:] == ["--check"]:
        if OUTPUT.read_text() != page:
            sys.exit("%s is out of date with %s: run %s" % (OUTPUT.relative_to(ROOT), HEADER.relative_to(ROOT),
                                                             Path(__file__).relative_to(ROOT)))
        return
    if sys.argv[1:]:
        sys.exit(__doc__)
    OUTPUT.write_text(page)


if __name__ == "__main__":
    main()
