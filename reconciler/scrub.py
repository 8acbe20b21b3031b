"""Secrets never leave the process: one function, `scrub`, removes them from any text before it is shown.

What is secret: the API key (TELNYX_API_KEY), the value of every `${env:NAME}` the manifests
reference, and credentials written into a URL (`https://user:password@host`). Whoever learns a secret
value registers it here (the CLI the key, the manifest loader each `${env:}` value, the API client a
base URL's password); `scrub` then replaces every occurrence, in the forms a message could carry it
(as is, JSON- or repr-escaped, percent-encoded, each line of a multi-line value), with what the user
wrote instead (`${env:NAME}`) or a placeholder. Userinfo in any URL is masked whether registered or not.

The CLI routes stdout and stderr through `ScrubbingStream` (cli.py), so no output path can forget
it; error text from the API also passes through `scrub_echo`, which also masks a quoted piece of a
secret that a server echoed shortened (`'S3cr...'`). A file written from API text passes each string
through `scrub_echo` too (the JUnit report, testruns/junit.py), before any escaping of its format.

Values shorter than MIN_LENGTH characters are not masked: they would mask unrelated text, and a
value that short is no secret worth the name.
"""

from __future__ import annotations

import io
import json
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import TextIO
from urllib.parse import quote, unquote, urlsplit

from reconciler.errors import OutputError

MIN_LENGTH = 4
# A quoted string at least this long that is part of a secret is masked whole (in echoed text).
MIN_FRAGMENT = 6
URL_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.\-]*://)[^\s/@'\"<>]+@")
# The names of query parameters that carry a credential (`?token=`, `&api_key=`, `&sig=`): one table,
# for masking them here and for the plan's rule of what a URL's secret is (planning/secrets.py).
SECRET_QUERY_NAMES = r"token|secret|passw|api_?key|apikey|signature|sig|auth|credential"
_SECRET_PARAM = re.compile(SECRET_QUERY_NAMES, re.IGNORECASE)
_URL_QUERY = re.compile(r"(?i)(\b[a-z][a-z0-9+.\-]*://[^\s?#'\"<>]*\?)([^\s#'\"<>]*)")


def _masked_query(match: re.Match[str]) -> str:
    """A URL's query with the value of each parameter named like a credential masked."""
    params = []
    for param in match.group(2).split("&"):
        name, sep, value = param.partition("=")
        params.append(f"{name}=***" if sep and value and _SECRET_PARAM.search(name) else param)
    return match.group(1) + "&".join(params)

_secrets: dict[str, str] = {}  # secret value -> what to show instead
_variants: dict[str, str] = {}  # every form of every secret -> what to show instead
_composites: set[str] = set()  # strings built from secrets and plain text (scrub_echo only)
_pattern: re.Pattern[str] | None = None


def register(value: str, shown: str) -> None:
    """From now on, `scrub` shows `shown` wherever `value` would appear."""
    global _pattern
    if len(value) < MIN_LENGTH or _secrets.get(value) == shown:
        return
    _secrets.setdefault(value, shown)
    forms = {value, json.dumps(value)[1:-1], repr(value)[1:-1], quote(value, safe=""), quote(value)}
    forms.update(line for line in value.splitlines() if len(line.strip()) >= MIN_LENGTH)
    for form in forms:
        if len(form) >= MIN_LENGTH:
            _variants.setdefault(form, shown)
    _pattern = None


def register_env(name: str, value: str) -> None:
    """A value read from the environment variable `name` through `${env:NAME}`."""
    register(value, f"${{env:{name}}}")


def register_url(url: str) -> None:
    """The password (and user:password) a URL carries, if any."""
    try:
        parts = urlsplit(url)
        password = parts.password
    except ValueError:
        return
    if password:
        register(unquote(password), "***")
        register(password, "***")
        if parts.username:
            register(f"{parts.username}:{password}", "***")


def forget_all() -> None:
    """Forget every registered secret (each CLI run starts and ends with none)."""
    global _pattern
    _secrets.clear()
    _variants.clear()
    _composites.clear()
    _pattern = None


def scrub(text: str) -> str:
    """`text` with every known secret and every URL's credentials masked (`user:password@`, and the
    value of a query parameter named like a credential)."""
    global _pattern
    if "://" in text:
        text = URL_USERINFO.sub(r"\1***@", text)
        if "?" in text:
            text = _URL_QUERY.sub(_masked_query, text)
    if not _variants:
        return text
    if _pattern is None:
        # Longest first, so that a secret containing another is masked whole.
        _pattern = re.compile("|".join(re.escape(v) for v in sorted(_variants, key=len, reverse=True)))
    return _pattern.sub(lambda m: _variants[m.group(0)], text)


_QUOTED = re.compile(r"'([^'\n]*)'|\"([^\"\n]*)\"")
_ELLIPSIS = re.compile(r"\.\.\.|…")


def register_composite(value: str) -> None:
    """A string made of secret values and plain text (`Bearer ${env:TOKEN}`): never masked as a whole
    (its plain text is no secret), but a server echoing a shortened piece of it is (`scrub_echo`)."""
    if len(value) >= MIN_LENGTH and value not in _secrets:
        _composites.add(value)


def scrub_echo(text: str) -> str:
    """`scrub`, and also mask a quoted string that holds a piece of a secret value or of a string
    built from one: for text that came from outside, such as API errors, where a server may echo a
    value shortened (`'S3c...'`, `'Bearer tk-...'`)."""
    text = scrub(text)
    if not _secrets:
        return text
    wholes = [*_secrets, *_composites]

    def leaks(inner: str) -> bool:
        if _ELLIPSIS.search(inner):  # shortened: its ends may be the ends of a secret
            pieces = [p for p in _ELLIPSIS.split(inner) if len(p.strip()) >= 3]
            return any(w.startswith(p) or w.endswith(p) or (len(p) >= MIN_FRAGMENT and p in w)
                       for p in pieces for w in wholes)
        return len(inner) >= MIN_FRAGMENT and any(inner in secret for secret in _secrets)

    def mask(match: re.Match[str]) -> str:
        inner = match.group(1) if match.group(1) is not None else match.group(2)
        quote_char = match.group(0)[0]
        return f"{quote_char}(sensitive){quote_char}" if leaks(inner) else match.group(0)

    return _QUOTED.sub(mask, text)


# Terminal controls in text that comes from elsewhere (a live assistant's name in an address, an API
# error's message, a test run's name) could hide or overwrite lines of a plan on the reviewer's
# terminal or in a CI log: concealed text (`ESC[8m`), a carriage return, a cursor move. Every C0
# control but tab and newline, DEL and the C1 controls are shown as escapes (`\x1b`). The renderers
# escape all of them in what they show (`escaped`) before adding their colours; on the way out, the
# only sequences let through are those colours (red, green, yellow, magenta, and the reset).
_CONTROLS = r"[\x00-\x08\x0b-\x1f\x7f-\x9f]"
_CONTROL = re.compile(r"(\x1b\[(?:0|3[1235])m)|" + _CONTROLS)
_ANY_CONTROL = re.compile(_CONTROLS)


_NOT_C0 = bytes(range(0x20, 0x7F)) + b"\t\n" + bytes(range(0x80, 0x100))  # UTF-8 bytes of no C0 control or DEL
_C1 = re.compile(rb"\xc2[\x80-\x9f]")  # U+0080-U+009F in UTF-8


def visible(text: str) -> str:
    """`text` with every terminal control but this program's own colours shown as an escape."""
    # Nearly all output holds no control: told so in C (`_plain`: 5-20 ms for a 4 MB plan document,
    # where the regex's scan alone takes 35-130 ms).
    if _plain(text):
        return text
    return _CONTROL.sub(lambda m: m.group(1) or f"\\x{ord(m.group(0)):02x}", text)


def escaped(text: str) -> str:
    """`text` with every terminal control shown as an escape, colours too: for what a renderer shows
    from elsewhere, before it adds colours of its own."""
    if _plain(text):
        return text
    return _ANY_CONTROL.sub(lambda m: f"\\x{ord(m.group(0)):02x}", text)


def one_line(text: str) -> str:
    """`text` (an address, a note, an error: text that may hold a live name) as one line, every
    terminal control and line break in it shown as an escape: a name cannot start a line of its own
    that reads as part of the plan."""
    return escaped(text).replace("\n", "\\n")


def _plain(text: str) -> bool:
    """Whether `text` holds no terminal control, told in C: every byte of its UTF-8 that is none
    deleted, then the two-byte C1 forms looked for."""
    data = text.encode("utf-8", "surrogatepass")
    return not data.translate(None, _NOT_C0) and not _C1.search(data)


class ScrubbingStream(io.TextIOBase):
    """A text stream that scrubs what is written to it, a line at a time (a secret never spans a
    line break once `register` split it), and shows terminal controls as escapes (`visible`),
    before passing it to the stream it wraps."""

    def __init__(self, raw: TextIO, *, output: bool = False) -> None:
        super().__init__()
        self.raw = raw
        self.output = output  # standard output: a failed write is an OutputError (the command's output is lost)
        self._pending = ""

    def write(self, text: str) -> int:
        self._pending += text
        if "\n" in self._pending:
            done, _, self._pending = self._pending.rpartition("\n")
            try:
                self.raw.write(visible(scrub(done + "\n")))
            except OSError as exc:
                raise self._failed(exc) from None
        return len(text)

    def flush(self) -> None:
        try:
            if self._pending:
                self.raw.write(visible(scrub(self._pending)))
                self._pending = ""
            self.raw.flush()
        except OSError as exc:
            raise self._failed(exc) from None

    def _failed(self, exc: OSError) -> OSError | OutputError:
        """What a failed write raises: a closed pipe as it is (the reader went away: cli answers 141),
        any other failure to write standard output as an OutputError (one line, exit 1)."""
        if isinstance(exc, BrokenPipeError) or not self.output:
            return exc
        return OutputError(f"cannot write the output: {exc.strerror or exc}")

    def isatty(self) -> bool:
        return self.raw.isatty()

    def fileno(self) -> int:
        return self.raw.fileno()

    def writable(self) -> bool:
        return True

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return getattr(self.raw, "encoding", "utf-8")


@contextmanager
def scrubbed_output() -> Iterator[None]:
    """Route sys.stdout and sys.stderr through ScrubbingStream for the duration, and forget every
    registered secret when done."""
    out, err = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = ScrubbingStream(out, output=True), ScrubbingStream(err)
    try:
        yield
    finally:
        for stream in (sys.stdout, sys.stderr):
            # A closed pipe, or output already reported lost: nothing more can be shown anyway.
            with suppress(OSError, OutputError, ValueError):
                stream.flush()
        sys.stdout, sys.stderr = out, err
        forget_all()
