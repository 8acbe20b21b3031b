"""A schema's `pattern` as JSON Schema means it (ECMA-262), for Python's `re`.

JSON Schema's `pattern` is an ECMA-262 regular expression. Where `re` reads the same text otherwise:
- `$` (no multiline flag) matches at the end of the text only; in `re` also before a final line
  break. With `re` as is, the name pattern let `"bot\\n"` through (a name that starts a line of its
  own in a plan, the very thing it is there to refuse) and `KEY\\n` passed as a variable's name.
  Each `$` outside a character class is written as `\\Z`.
- `.` matches no line terminator (`\\n`, `\\r`, U+2028, U+2029); in `re` only `\\n` is left out.
  Each `.` outside a class is written as the class of everything else.
- `\\d`, `\\w` and `\\b` are ASCII; `re` is told so (re.ASCII).
- `\\s` and `\\S` hold different sets of spaces, and `[^]` (anything) is no class in `re`: refused.
check-jsonschema reads the same schemas with an ECMA-262 engine (regress);
tests/manifest/test_patterns.py checks every pattern of the schemas against it on probe texts.
"""

from __future__ import annotations

import re
from functools import cache


def ecma_source(pattern: str) -> str:
    """`pattern` written for `re` (with re.ASCII) to match what ECMA-262 matches."""
    out: list[str] = []
    in_class = False
    i = 0
    while i < len(pattern):
        char = pattern[i]
        if char == "\\":
            escape = pattern[i:i + 2]
            if escape in (r"\s", r"\S"):
                raise re.error(f"\\s and \\S are not supported (ECMA-262's spaces are not re's): {pattern!r}")
            out.append(escape)  # an escape, `\$` and `\]` included, stays as it is
            i += 2
            continue
        if in_class:
            in_class = char != "]"
        elif char == "[":
            in_class = True
            if pattern[i + 1:i + 2] == "]" or pattern[i + 1:i + 3] == "^]":
                raise re.error(f"`[]` and `[^]` are not supported: {pattern!r}")  # `re` reads the `]` as a member
        elif char == "$":
            char = r"\Z"
        elif char == ".":
            char = _NOT_A_LINE_TERMINATOR
        out.append(char)
        i += 1
    return "".join(out)


_NOT_A_LINE_TERMINATOR = "[^\\n\\r\\u2028\\u2029]"


@cache
def compiled(pattern: str) -> re.Pattern[str]:
    """The compiled form of a schema's `pattern`, to be used with `search` as JSON Schema does."""
    return re.compile(ecma_source(pattern), re.ASCII)
