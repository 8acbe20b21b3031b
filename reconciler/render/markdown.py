"""The plan as a pull-request comment, built from the JSON document: the summary first, a warning
block when anything is destroyed, one collapsible section per resource, and a length kept under the
comment limit by folding the least important detail first, with a note saying so."""

from __future__ import annotations

from typing import Any

from reconciler.plan import action_word
from reconciler.render.text import field_lines, summary_line

LIMIT = 65_000
FOLD_NOTE = ("\n> [!NOTE]\n> Some detail was folded to keep this comment under {limit:,} characters "
             "({level}). Run `reconciler plan --format json` for the full plan.\n")
ICON = {"create": "🟢", "update": "🟡", "delete": "🔴", "replace": "🟠"}


def _section(rc: dict[str, Any], level: int) -> str:
    """One resource. level 0: everything; 1: long values cut; 2: field paths only; 3: a line only."""
    action = action_word(rc["actions"])
    title = f"{ICON.get(action, '')} <code>{rc['address']}</code> will be {action}d".replace("deleted", "destroyed")
    if level >= 3:
        return f"- {title} ({len(rc['changes'])} field change(s))\n"
    body: list[str] = []
    for change in rc["changes"]:
        if level == 2:
            body.append(f"~ {change['path']}")
            continue
        for line in field_lines(change, action):
            if level == 1 and len(line) > 300:
                line = line[:300] + " …(cut)"
            body.append(line.replace("```", "`\u200b``"))
    if rc.get("reason"):
        body.append(f"# {rc['reason']}")
    block = "\n".join(body) if body else "(no field changes)"
    return f"<details><summary>{title}</summary>\n\n```diff\n{block}\n```\n\n</details>\n"


def render_markdown(doc: dict[str, Any], limit: int = LIMIT) -> str:
    """The whole comment, never longer than `limit` characters."""
    changed = [rc for rc in doc["resource_changes"] if rc["actions"] != ["no-op"]]
    head = [f"### {summary_line(doc['summary'])}\n"]
    if not changed:
        head.append("No changes. Live state matches the manifests.\n")
    destroyed = [rc["address"] for rc in changed if "delete" in rc["actions"]]
    if destroyed:
        listed = ", ".join(f"`{a}`" for a in destroyed[:20]) + (" …" if len(destroyed) > 20 else "")
        head.append(f"> [!WARNING]\n> This plan **destroys {len(destroyed)} resource(s)**: {listed}\n")
    warnings = doc.get("warnings", [])
    for warning in warnings[:20]:  # the header is never folded: keep it short
        head.append(f"> [!CAUTION]\n> {warning}\n")
    if len(warnings) > 20:
        head.append(f"> [!CAUTION]\n> … and {len(warnings) - 20} more warnings (see the JSON plan)\n")
    header = "\n".join(head) + "\n"
    names = ("", "long values cut", "field paths only", "one line per resource")
    for level in range(4):
        sections = "".join(_section(rc, level) for rc in changed)
        note = FOLD_NOTE.format(limit=limit, level=names[level]) if level else ""
        text = header + sections + note
        if len(text) <= limit:
            return text
    # Even one line per resource is too long: list as many as fit.
    note = FOLD_NOTE.format(limit=limit, level="resources omitted")
    out = header
    for shown, rc in enumerate(changed):
        line = _section(rc, 3)
        if len(out) + len(line) + len(note) + 40 > limit:
            out += f"- … and {len(changed) - shown} more\n"
            break
        out += line
    return out + note
