"""The plan for people, in the `+ create / ~ update / - destroy` style, built only from the JSON
document. Colour only when asked (the command asks when stdout is a terminal)."""

from __future__ import annotations

import json
from typing import Any

from reconciler.planning.plan import action_word
from reconciler.render.linediff import WIDTH, line_diff, text_lines
from reconciler.scrub import escaped, one_line

SYMBOL = {"create": "+", "update": "~", "delete": "-", "no-op": " ", "adopt": "!"}
COLOR = {"create": "\033[32m", "update": "\033[33m", "delete": "\033[31m", "adopt": "\033[35m"}
RESET = "\033[0m"
HEADLINE = {"create": "will be created", "update": "will be updated in place", "delete": "will be destroyed",
            "adopt": "is not this project's: adopt it first (apply refuses until then)"}
# Steps that are not resources: a gate runs a test suite, a promotion makes a version main.
KIND_HEADLINE = {"Gate": "will run its test suite; the traffic change waits for it to pass",
                 "Promotion": "will promote the version to main"}


def summary_line(summary: dict[str, int], orphans: int = 0) -> str:
    line = f"Plan: {summary['add']} to add, {summary['change']} to change, {summary['destroy']} to destroy."
    return line + (f" {orphans} orphan(s) kept." if orphans else "")


def origin_line(doc: dict[str, Any], code: str = "") -> str | None:
    """`project P, environment E, commit C` for a plan document that says what it is of, else None;
    `… commit C plus uncommitted changes` when the files read differ from C. `code` wraps each value
    (a backtick in markdown)."""
    if "project" not in doc:
        return None
    commit = doc.get("commit")
    edited = " plus uncommitted changes" if doc.get("uncommitted") else ""
    return (f"project {code}{doc['project']}{code}, environment {code}{doc.get('environment') or '(none)'}{code}, "
            f"commit {code}{commit[:12] if commit else '(unknown)'}{code}{edited}")


def format_value(value: Any) -> str:
    """Compact JSON; objects and lists too long for one line are spread over indented lines."""
    text = json.dumps(value, ensure_ascii=False, sort_keys=True)
    if isinstance(value, dict | list) and len(text) > 100:
        return json.dumps(value, ensure_ascii=False, sort_keys=True, indent=2).replace("\n", "\n    ")
    return text


def is_long_text(before: Any, after: Any) -> bool:
    """Whether a change is shown as a line diff: a long or multi-line string on a side, and a string
    (or nothing) on the other. A string that becomes a number, a list... is shown as `old -> new`: a
    line diff of a non-string would show it as nothing."""
    sides = [v for v in (before, after) if v is not None]
    return all(isinstance(v, str) for v in sides) and any("\n" in v or len(v) > 80 for v in sides)


# Longest value a text or markdown plan prints whole where it is not diffed line by line (a value
# that goes), as long as a line of a line diff; the JSON plan always has every character.
MAX_SHOWN = WIDTH


def clip(value: Any) -> Any:
    """`value`, with a string longer than MAX_SHOWN cut and a note saying how much was left out.
    Only for a value shown whole: a long text that comes or changes is shown line by line (linediff),
    never cut before it is diffed, which would hide a change past the cut."""
    if isinstance(value, str) and len(value) > MAX_SHOWN:
        return value[:MAX_SHOWN] + f"… ({len(value) - MAX_SHOWN} more characters truncated; the JSON plan has them)"
    return value


def field_lines(change: dict[str, Any], action: str) -> list[str]:
    """The lines that show one field change, without indentation or colour."""
    path, before, after = change["path"], change["before"], change["after"]
    if action == "create" or (before is None and after is not None):
        if is_long_text(None, after):
            return [f"+ {path}:", *(f"    + {line}" for line in text_lines(str(after)))]
        return [f"+ {path} = {format_value(after)}"]
    if after is None:
        return [f"- {path} = {format_value(clip(before))} -> null"]
    if is_long_text(before, after):
        return [f"~ {path}:", *(f"    {line}" for line in line_diff(before, after))]
    return [f"~ {path} = {format_value(clip(before))} -> {format_value(clip(after))}"]


def render_text(doc: dict[str, Any], color: bool = False) -> str:
    """The whole plan as text, ending with the summary line. Terminal controls in what it shows (a
    live name, a value) are escaped (scrub.escaped) before its own colours are added, so a name
    cannot recolour a delete as a create."""
    def paint(action: str, text: str) -> str:
        text = escaped(text)
        return f"{COLOR[action]}{text}{RESET}" if color and action in COLOR else text

    changed = [rc for rc in doc["resource_changes"] if rc["actions"] != ["no-op"]]
    lines: list[str] = []
    origin = origin_line(doc)
    if origin is not None:
        lines += [f"Plan for {origin}.", ""]
    orphans = doc.get("orphans", [])
    if not changed and not orphans:
        lines.append("No changes. Live state matches the manifests.")
    elif not changed:
        lines.append("Nothing to apply, but live state does not match the manifests:")
    else:
        lines.append("reconciler will perform the following actions:")
        for rc in changed:
            action = action_word(rc["actions"])
            verb = "must be replaced" if action == "replace" else KIND_HEADLINE.get(
                rc["kind"], HEADLINE.get(action, action))
            symbol = "-/+" if action == "replace" else SYMBOL.get(action, "?")
            lines.append("")
            address = one_line(rc["address"])
            lines.append(f"  # {address} {verb}" + (f" (id {one_line(rc['id'])})" if rc.get("id") else ""))
            lines.append(paint(action, f"  {symbol} {address} {{"))
            for change in rc["changes"]:
                for line in field_lines(change, action):
                    mark = {"+": "create", "-": "delete", "~": "update"}.get(line.lstrip()[:1], action)
                    lines.extend("      " + paint(mark, part) for part in line.split("\n"))
            lines.append("    }")
    if orphans:
        lines += ["", "Owned but not declared (orphans):"]
        lines += [f"  ? {one_line(o['address'])}" + (f" (id {one_line(o['id'])})" if o.get("id") else "")
                  + f": {one_line(o['note'])}" for o in orphans]
    # Every reason the planner records (a prune candidate kept because it is in use) is a warning too.
    for warning in doc.get("warnings", []):
        lines.append(f"\nWarning: {one_line(warning)}")
    lines.append("")
    lines.append(summary_line(doc["summary"], len(orphans)))
    return "\n".join(lines) + "\n"
