#!/usr/bin/env python3
"""Counts the items of Gridbook's API in the generated Kotlin that carry no KDoc, so Android Studio
would show them bare: records, enums, the error, the object's methods, free functions and record
fields. uniffi's own helpers (converters, buffers, the library loader) are not ours and are skipped.

    ffi/check-docs.py            list the bare items and fail if there are any
"""
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FILES = [
    ROOT / "android/src/main/kotlin/org/gridbook/ffi/gridbook_ffi.kt",
    ROOT / "android/src/main/kotlin/org/gridbook/core/gridbook_core.kt",
]
# Declarations of ours: uniffi writes our names in backticks (funs, fields) or as public types;
# an enum's entries are upper-case lines inside `enum class`.
DECL = re.compile(
    r"^\s*(?:@Throws\([^)]*\)\s*)?(?:public |open |data |enum |sealed |suspend )*"
    r"(?:(class|interface) ([A-Z][A-Za-z0-9_]*)|(fun|va[lr]) `([A-Za-z0-9_]+)`)"
)
ENTRY = re.compile(r"^\s+([A-Z][A-Z0-9_]*)[,;]?$")
NOT_OURS = re.compile(r"^(Uniffi|FfiConverter|RustBuffer|ForeignBytes|InternalException|Disposable|NoHandle|Cleanable|"
                      r"ErrorHandler|ByValue|ByReference|IntegerType|Companion)")


def bare_items(path):
    lines = path.read_text().splitlines()
    found = []
    in_enum = False
    for i, line in enumerate(lines):
        if re.match(r"^\s*enum class ", line):
            in_enum = True
        elif in_enum and line.strip().startswith(("companion", "}")):
            in_enum = False
        m = DECL.match(line)
        entry = ENTRY.match(line) if in_enum else None
        if m:
            if "private " in line or "internal " in line or "override " in line:
                continue
            name = m.group(2) or m.group(4)
            if NOT_OURS.match(name):
                continue
        elif not entry:
            continue
        j = i - 1
        while j >= 0 and (not lines[j].strip() or lines[j].strip().startswith("@")):
            j -= 1
        if j < 0 or not lines[j].strip().endswith("*/"):
            found.append(f"{path.name}:{i + 1}: {line.strip()}")
    return found


bare = [item for f in FILES if f.exists() for item in bare_items(f)]
for item in bare:
    print(item)
print(f"{len(bare)} items without KDoc")
sys.exit(1 if bare else 0)
