"""The plan as a pull-request comment, built from the JSON document: the summary first, a warning
block when anything is destroyed, one collapsible section per resource, and a length kept under the
comment limit by folding the least important detail first, with a note saying so."""

from __future__ import annotations

import html
from typing import Any

from reconciler.planning.plan import action_word
from reconciler.render.linediff import WIDTH, fold, line_diff, text_lines
from reconciler.render.text import (
    KIND_HEADLINE,
    clip,
    format_value,
    is_long_text,
    origin_line,
    summary_line,
)
from reconciler.scrub import one_line

LIMIT = 65_000
FOLD_NOTE = ("\n> [!NOTE]\n> Some detail was folded to keep this comment under {limit:,} characters "
             "({level}). Run `reconciler plan --format json` for the full plan.\n")
ICON = {"create": "🟢", "update": "🟡", "delete": "🔴", "replace": "🟠", "adopt": "🟣"}
# Folding steps, least detail lost first: (level, lines kept per long-text field).
# level 0: everything; 1: long lines and long texts cut; 2: field paths only; 3: one line per resource.
STEPS = ((0, 0), (1, 40), (1, 10), (1, 3), (2, 0), (3, 0))
CUT = 300  # longest line kept whole from level 1 on


def _marked(mark: str, path: str, value: Any) -> list[str]:
    """`path = value` with a diff mark in column 0 on every line (GitHub colours only those)."""
    lines = f"{path} = {format_value(value)}".split("\n")
    return [f"{mark} {line}" for line in lines]


def _diff_lines(change: dict[str, Any], action: str, level: int, cap: int) -> list[str]:
    """One field change as diff lines: `+` what comes, `-` what goes; long text as a line diff of the
    whole values. level 1 cuts long lines and long line diffs (saying what and where it left out);
    level 2 keeps only the path."""
    path, before, after = change["path"], change["before"], change["after"]
    created = action == "create" or before is None
    if level >= 2:
        return [f"{'+' if created else '-' if after is None else '!'} {path}"]
    width = CUT if level == 1 else WIDTH
    if created and is_long_text(None, after):
        text = text_lines(str(after), width)
        if level == 1 and len(text) > cap:
            text = [*text[:cap], f"… {len(text) - cap} more lines (all new; the JSON plan has them)"]
        return [f"+ {path}:", *(f"+ {line}" for line in text)]
    if not created and after is not None and is_long_text(before, after):
        diff = line_diff(before, after, width)
        if level == 1:
            diff = fold(diff, cap)
        # `@@` headers stay in column 0, where GitHub colours them as hunk headers.
        return [f"! {path}:", *(line if line[:1] in "+-@ " else f" {line}" for line in diff)]
    if created:
        lines = _marked("+", path, after)
    elif after is None:
        lines = _marked("-", path, clip(before))
    else:
        lines = [*_marked("-", path, clip(before)), *_marked("+", path, clip(after))]
    if level == 1:
        lines = [line if len(line) <= CUT else line[:CUT] + " …(cut)" for line in lines]
    return lines


def _section(rc: dict[str, Any], level: int, cap: int = 0) -> str:
    """One resource. level 0: everything; 1: long values cut; 2: field paths only; 3: a line only."""
    action = action_word(rc["actions"])
    verb = KIND_HEADLINE.get(rc["kind"]) or ("is not this project's: adopt it first" if action == "adopt"
                                             else f"will be {action}d".replace("deleted", "destroyed"))
    title = f"{ICON.get(action, '')} {_code(rc['address'])} {verb}"
    if level >= 3:
        return f"- {title} ({len(rc['changes'])} field change(s))\n"
    body = [line.replace("```", "`\u200b``")  # a fence inside a value must not close the block
            for change in rc["changes"] for line in _diff_lines(change, action, level, cap)]
    if rc.get("reason"):
        body.append(f"# {one_line(rc['reason'])}")
    block = "\n".join(body) if body else "(no field changes)"
    return f"<details><summary>{title}</summary>\n\n```diff\n{block}\n```\n\n</details>\n"


def _code(address: str) -> str:
    """An address as inline code that no name can break out of: one line (`one_line`), HTML-escaped,
    in `<code>` (a backtick in a name would end a backtick span)."""
    return f"<code>{html.escape(one_line(address), quote=False)}</code>"


def render_markdown(doc: dict[str, Any], limit: int = LIMIT) -> str:
    """The whole comment, never longer than `limit` characters."""
    marker = _marker(doc)
    room = limit - len(marker)  # the marker is never folded
    changed = [rc for rc in doc["resource_changes"] if rc["actions"] != ["no-op"]]
    origin = origin_line(doc, "`")
    orphans = doc.get("orphans", [])
    head = [f"### {summary_line(doc['summary'], len(orphans))}" + (f" ({origin})" if origin else "") + "\n"]
    if not changed and not orphans:
        head.append("No changes. Live state matches the manifests.\n")
    if orphans:
        listed = ", ".join(_code(o["address"]) for o in orphans[:20]) + (" …" if len(orphans) > 20 else "")
        head.append(f"> [!IMPORTANT]\n> **{len(orphans)} owned resource(s) no manifest declares** (kept; "
                    f"`--prune` deletes them): {listed}\n")
    destroyed = [rc["address"] for rc in changed if "delete" in rc["actions"]]
    if destroyed:
        listed = ", ".join(_code(a) for a in destroyed[:20]) + (" …" if len(destroyed) > 20 else "")
        head.append(f"> [!WARNING]\n> This plan **destroys {len(destroyed)} resource(s)**: {listed}\n")
    warnings = doc.get("warnings", [])
    for warning in warnings[:20]:  # the header is never folded: keep it short
        head.append(f"> [!CAUTION]\n> {html.escape(one_line(warning), quote=False)}\n")
    if len(warnings) > 20:
        head.append(f"> [!CAUTION]\n> … and {len(warnings) - 20} more warnings (see the JSON plan)\n")
    header = "\n".join(head) + "\n"
    names = ("", "long values cut, long texts cut to {cap} lines", "field paths only", "one line per resource")
    for level, cap in STEPS:
        sections = "".join(_section(rc, level, cap) for rc in changed)
        note = FOLD_NOTE.format(limit=limit, level=names[level].format(cap=cap)) if level else ""
        text = header + sections + note
        if len(text) <= room:
            return text + marker
    # Even one line per resource is too long: list as many as fit.
    note = FOLD_NOTE.format(limit=limit, level="resources omitted")
    out = header
    for shown, rc in enumerate(changed):
        line = _section(rc, 3)
        if len(out) + len(line) + len(note) + 40 > room:
            out += f"- … and {len(changed) - shown} more\n"
            break
        out += line
    return out + note + marker


def _marker(doc: dict[str, Any]) -> str:
    """An invisible line naming the project and environment, so that a bot updating its pull-request
    comment finds the one of this environment (one comment per project and environment)."""
    if "project" not in doc:
        return ""
    # `>` written as `&gt;`: a name holding `-->` would end the comment early (action/reconcile.sh
    # writes its marker the same way).
    project, environment = (str(v).replace(">", "&gt;") for v in (doc["project"], doc.get("environment") or "-"))
    return f"\n<!-- reconciler-plan project={project} environment={environment} -->\n"
