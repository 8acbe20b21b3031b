"""The line diff of a long string, for the text and markdown plans.

It is computed on the whole values (never on a cut copy), so a change anywhere in a long prompt is
found, and it is shown as hunks under git-style `@@ -a,b +c,d @@` headers that give each change its
true line numbers. Only unchanged lines are left out. A line too long to print whole is cut to a
window around where it differs from its counterpart, with a note saying how much was left out: the
excerpt is bounded, but it never hides that something changed there."""

from __future__ import annotations

import difflib
import functools
from typing import Literal

CONTEXT = 2  # unchanged lines shown around each change
# Longest line a text plan prints whole; the JSON plan always has every character.
WIDTH = 4000
# How many characters before the first difference a cut line keeps, so the change is read in context.
LEAD = 80

_Opcode = tuple[Literal["replace", "delete", "insert", "equal"], int, int, int, int]


class _Trimmed(difflib.SequenceMatcher[str]):
    """A matcher that aligns only the lines between the common first and last lines: difflib's
    alignment is quadratic (worse with repeated lines), those lines need none, and a prompt with one
    line changed is the common case. Grouping into hunks with context still sees the whole texts."""

    def __init__(self, old: list[str], new: list[str]) -> None:
        super().__init__(None, old, new)
        self.old, self.new = old, new

    def get_opcodes(self) -> list[_Opcode]:
        old, new = self.old, self.new
        same = min(len(old), len(new))
        head = next((i for i in range(same) if old[i] != new[i]), same)
        tail = next((i for i in range(same - head) if old[-1 - i] != new[-1 - i]), same - head)
        middle = difflib.SequenceMatcher(None, old[head:len(old) - tail], new[head:len(new) - tail])
        ops: list[_Opcode] = [("equal", 0, head, 0, head)] if head else []
        ops += [(tag, i1 + head, i2 + head, j1 + head, j2 + head) for tag, i1, i2, j1, j2 in middle.get_opcodes()]
        if tail:
            ops.append(("equal", len(old) - tail, len(old), len(new) - tail, len(new)))
        return ops


def clip_line(line: str, width: int = WIDTH, differs_at: int = 0) -> str:
    """`line`, or a window of `width` characters of it starting a little before `differs_at`, with
    notes saying how many characters were left out on each side."""
    if len(line) <= width:
        return line
    start = max(0, min(differs_at - LEAD, len(line) - width))
    before = f"(… {start} characters before) " if start else ""
    rest = len(line) - start - width
    after = f" … ({rest} more characters truncated; the JSON plan has them)" if rest > 0 else ""
    return before + line[start:start + width] + after


def text_lines(value: str, width: int = WIDTH) -> list[str]:
    """A long string that is wholly new (or wholly gone), line by line, each line bounded."""
    return [clip_line(line, width) for line in value.splitlines()]


def line_diff(before: object, after: object, width: int = WIDTH) -> list[str]:
    """A long string's change as a line diff: `-`/`+` lines with a little unchanged context, and an
    `@@` header with line numbers before each hunk whenever any line is left out."""
    return list(_line_diff(before if isinstance(before, str) else "", after if isinstance(after, str) else "", width))


def _span(start: int, stop: int) -> str:
    """A hunk's line range as unified diff writes it: `first,count`, `first` alone for one line, and
    the line before for an empty range."""
    count = stop - start
    if count == 1:
        return str(start + 1)
    return f"{start + 1 if count else start},{count}"


def _differs_at(a: str, b: str) -> int:
    """Where two lines first differ (both are cut around there, so the change stays in view)."""
    return next((i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), min(len(a), len(b)))


def _ending(line: str) -> str:
    body = line.rstrip("\r\n\v\f\x1c\x1d\x1e\x85\u2028\u2029")
    return repr(line[len(body):]) if len(body) < len(line) else "no line break"


@functools.lru_cache(maxsize=256)  # the markdown renderer may draw a change at several fold levels
def _line_diff(before: str, after: str, width: int) -> tuple[str, ...]:
    # Lines keep their endings while they are compared, so that a change of line ending or of the
    # final newline is a changed line too; they are printed without them.
    old, new = before.splitlines(keepends=True), after.splitlines(keepends=True)
    groups = list(_Trimmed(old, new).get_grouped_opcodes(CONTEXT))
    whole = len(groups) == 1 and groups[0][0][1] == groups[0][0][3] == 0 and (
        groups[0][-1][2], groups[0][-1][4]) == (len(old), len(new))
    out: list[str] = []
    for group in groups:
        if not whole:
            out.append(f"@@ -{_span(group[0][1], group[-1][2])} +{_span(group[0][3], group[-1][4])} @@")
        for tag, i1, i2, j1, j2 in group:
            if tag == "equal":
                out.extend(" " + clip_line(line.splitlines()[0], width) for line in old[i1:i2])
                continue
            gone, come = old[i1:i2], new[j1:j2]
            # A replaced line is cut around where it differs from the line that replaces it.
            at = [_differs_at(gone[k], come[k]) if k < min(len(gone), len(come)) else 0
                  for k in range(max(len(gone), len(come)))]
            shown_gone = [clip_line(line.splitlines()[0], width, at[k]) for k, line in enumerate(gone)]
            shown_come = [clip_line(line.splitlines()[0], width, at[k]) for k, line in enumerate(come)]
            for k in range(min(len(gone), len(come))):
                if shown_gone[k] == shown_come[k]:  # they differ only in how the line ends: say so
                    shown_gone[k] += f"  (ends with {_ending(gone[k])})"
                    shown_come[k] += f"  (ends with {_ending(come[k])})"
            out.extend("-" + line for line in shown_gone)
            out.extend("+" + line for line in shown_come)
    return tuple(out)


def fold(diff: list[str], cap: int) -> list[str]:
    """The first `cap` lines of a line diff and one line for the rest that says how many lines and
    changed lines it holds and where the hunks it leaves out are: folding may shorten a diff, but it
    must not hide that a change is there, nor where."""
    if len(diff) <= cap:
        return diff
    rest = diff[cap:]
    changed = sum(line[:1] in "+-" for line in rest)
    hunks = [line for line in rest if line.startswith("@@")]
    where = ""
    if hunks:
        listed = ", ".join(h.strip("@ ") for h in hunks[:20])
        where = f"; hunks left out: {listed}" + (f" and {len(hunks) - 20} more" if len(hunks) > 20 else "")
    return [*diff[:cap], f"… {len(rest)} more lines ({changed} changed{where}; the JSON plan has them)"]
