"""A schema's `pattern` as JSON Schema means it (ECMA-262), for Python's `re`.

JSON Schema's `pattern` is an ECMA-262 regular expression, where `$` (no multiline flag) matches at
the end of the text only; in Python's `re` it also matches before a final line break. With `re`
as is, the name pattern `^[^\\u0000-\\u001f...]*$` let `"bot\\n"` through: a name that starts a
line of its own in a plan, the very thing it is there to refuse; and `FOO\\n` passed as an
environment variable's name. check-jsonschema reads the same schemas with an ECMA-262 engine
(regress), so the two disagreed. Each `$` outside a character class is read as `\\Z` (the end of
the text in `re`); escapes are kept as they are. tests/manifest/test_patterns.py checks every
pattern of the schemas against regress on probe texts.
"""

from __future__ import annotations

import re
from functools import cache


def ecma_source(pattern: str) -> str:
    """`pattern` with each end-of-input anchor `$` written as `re`'s `\\Z`."""
    out: list[str] = []
    in_class = False
    i = 0
    while i < len(pattern):
        char = pattern[i]
        if char == "\\":
            out.append(pattern[i:i + 2])  # an escape, `\$` and `\]` included, stays as it is
            i += 2
            continue
        if in_class:
            in_class = char != "]"
        elif char == "[":
            in_class = True
            if pattern[i + 1:i + 2] == "]":  # `[]...]`: ECMA's empty class; `re` reads the `]` as a member
                raise re.error(f"an empty character class is not supported: {pattern!r}")
        elif char == "$":
            char = r"\Z"
        out.append(char)
        i += 1
    return "".join(out)


@cache
def compiled(pattern: str) -> re.Pattern[str]:
    """The compiled form of a schema's `pattern`, to be used with `search` as JSON Schema does."""
    return re.compile(ecma_source(pattern))
