"""The `format`s the API asserts in a request body (pydantic `AnyUrl` and `datetime` fields), as one
table of yes/no predicates. The API schema declares two: `uri` (a background audio `media_url`) and
`date-time` (a scheduled event's time). The emulator refuses a value they reject (emulator/apischema.py),
and so do both manifest checkers (manifest/fastcheck.py first, jsonschema when it explains), so that
`validate` refuses exactly what apply would have refused. A format not listed here is an annotation,
as JSON Schema 2020-12 makes every format by default.

jsonschema checks `uri` and `date-time` only with optional packages installed, and not as pydantic
reads them; the two checks are stated here instead, each as the emulator has always made it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

if TYPE_CHECKING:  # jsonschema is imported when first needed (manifest/validators.py says why)
    from jsonschema import FormatChecker


# The common case, an http(s) URL with a plain ASCII host, without urlsplit: ~4 us a call for a string
# not in its cache, which was most of the cost of validating a manifest that has one. Whatever this
# matches, urlsplit splits into a scheme and a non-empty host without raising; anything else (brackets,
# a non-ASCII host, other schemes) takes the full check.
_PLAIN_HTTP = re.compile(r"https?://[A-Za-z0-9._~%!$&'()*+,;=:@-]+(?:[/?#]\S*)?")


def is_uri(value: str) -> bool:
    """An absolute URL: a scheme, then a host or a path, and no space (pydantic's "a valid URL")."""
    if _PLAIN_HTTP.fullmatch(value):
        return True
    try:
        parts = urlsplit(value)
    except ValueError:  # a bad bracketed IPv6 host, a host that NFKC-normalises to a delimiter
        return False
    return bool(parts.scheme) and bool(parts.netloc or parts.path) and " " not in value


def is_datetime(value: str) -> bool:
    """An ISO 8601 date and time, a trailing `Z` read as UTC (as pydantic reads a `datetime`)."""
    try:
        datetime.fromisoformat(value[:-1] + "+00:00" if value.endswith(("Z", "z")) else value)
    except ValueError:
        return False
    return True


# format -> (the check of a string, what a valid value is, for messages).
FORMATS: dict[str, tuple[Callable[[str], bool], str]] = {
    "uri": (is_uri, "a valid URL: write an absolute URL such as https://example.com/hold-music.mp3"),
    "date-time": (is_datetime, "a valid date and time: write ISO 8601 such as 2026-05-01T09:30:00Z"),
}


def holds(name: str, value: object) -> bool:
    """Whether `value` satisfies the format `name`: only strings are checked, and only the formats of
    FORMATS (any other value or format passes, as in JSON Schema)."""
    known = FORMATS.get(name)
    return known is None or not isinstance(value, str) or known[0](value)


def format_checker() -> FormatChecker:
    """A jsonschema FormatChecker that asserts exactly the formats of FORMATS."""
    from jsonschema import FormatChecker

    checker = FormatChecker(formats=())
    for name in FORMATS:
        checker.checks(name)(lambda value, name=name: holds(name, value))
    return checker
