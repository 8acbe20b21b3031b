"""The plan JSON document (format_version 1): the contract from which every other view is built,
published as schemas/plan.schema.json. Sensitive values never reach it: they become `(sensitive)`."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from json.encoder import encode_basestring_ascii  # what json.dumps uses for a str (ensure_ascii)
from typing import Any

from reconciler.model import SensitiveStr, contains_sensitive
from reconciler.planning.plan import FORMAT_VERSION, NOOP, FieldChange, Plan, Ref

SENSITIVE = "(sensitive)"


def mask(value: Any) -> Any:
    """A JSON-able copy of `value` in which every sensitive string reads `(sensitive)`."""
    if isinstance(value, SensitiveStr):
        return SENSITIVE
    if isinstance(value, dict):
        return {str(k): mask(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [mask(v) for v in value]
    if isinstance(value, Ref):
        return f"(known after apply: {value.address})"
    return value


def _change(fc: FieldChange) -> dict[str, Any]:
    out: dict[str, Any] = {"path": fc.path, "before": mask(fc.before), "after": mask(fc.after)}
    if fc.sensitive:
        # The old value of a field that now holds a secret is most likely the old secret. An object or
        # list is shown as the planner masked it, leaf by leaf (secrets.mask_secrets), so a removed
        # tool still shows its name and url; only one that holds a masked leaf, though: one that
        # reached here by another way, unmasked, is hidden whole, as every value was before.
        if not isinstance(fc.before, dict | list) or not contains_sensitive(fc.before):
            out["before"] = SENSITIVE if fc.before is not None else None
        out["sensitive"] = True
    return out


@dataclass(frozen=True)
class Origin:
    """What a plan is of: the project, the environment (None without environments), the commit of
    the manifests (None when unknown) and whether the files read differ from it (None when unknown;
    reconciler/provenance.py). Every view prints it, so two environments' plans are never confused,
    nor a plan of uncommitted edits with the commit's; it is not part of what a saved plan compares."""

    project: str
    environment: str | None = None
    commit: str | None = None
    uncommitted: bool | None = None

    def as_dict(self) -> dict[str, Any]:
        """ORIGIN_KEYS and their values, as the plan document and a saved plan hold them."""
        return {key: getattr(self, key) for key in ORIGIN_KEYS}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Origin:
        """From `as_dict`'s form (a saved plan's; one saved before `uncommitted` existed lacks it)."""
        return cls(str(data.get("project")), data.get("environment"), data.get("commit"), data.get("uncommitted"))


ORIGIN_KEYS = ("project", "environment", "commit", "uncommitted")


def plan_document(plan: Plan, origin: Origin | None = None) -> dict[str, Any]:
    """The versioned JSON plan; with `origin`, it says what it is of (ORIGIN_KEYS)."""
    changes = []
    for rc in plan.resource_changes:
        entry: dict[str, Any] = {
            "address": rc.address,
            "kind": rc.kind,
            "name": rc.name,
            "actions": list(rc.actions),
            "id": rc.id,
            "changes": [_change(fc) for fc in rc.changes],
        }
        if rc.depends_on:
            entry["depends_on"] = sorted(rc.depends_on)
        if rc.reason:
            entry["reason"] = rc.reason
        changes.append(entry)
    about = {} if origin is None else origin.as_dict()
    return {
        "format_version": FORMAT_VERSION,
        **about,
        "summary": plan.summary(),
        "resource_changes": changes,
        "orphans": [{"address": o.address, "kind": o.kind, "name": o.name, "id": o.id, "note": o.note}
                    for o in plan.orphans],
        "warnings": list(plan.warnings),
    }


def plan_json(doc: dict[str, Any]) -> str:
    """`json.dumps(doc, indent=2)` of a plan document, the same text, written faster.

    Most entries of a large plan are no-ops of one shape (4,020 of the 4,120 of the bench's 1,000
    assistants), and json's indented output is pure Python: 60-75 ms after the last read of that
    plan. A no-op entry is written into json's own text of such an entry (its layout is json's,
    computed once), its strings encoded as json encodes them; every other entry, and the rest of
    the document, is json.dumps's own. Its layout does not depend on the values: an entry nested in
    the document is its own indented text with every line indented two levels deeper (a JSON
    string holds no raw line break), and the list's items are joined as json joins them.
    """
    entries = doc.get("resource_changes")
    if not isinstance(entries, list) or not entries:
        return json.dumps(doc, indent=2)
    skeleton = json.dumps({**doc, "resource_changes": []}, indent=2)
    # The only line at two spaces' indent that starts with this key is the document's own.
    at = skeleton.index('\n  "resource_changes": []') + len('\n  "resource_changes": [')
    items = ",\n".join(_entry_json(entry) for entry in entries)
    return f"{skeleton[:at]}\n{items}\n  {skeleton[at:]}"


_NOOP_KEYS = ["address", "kind", "name", "actions", "id", "changes"]


def _entry_json(entry: dict[str, Any]) -> str:
    """One entry as json.dumps(doc, indent=2) writes it inside the document's list."""
    if (list(entry) == _NOOP_KEYS and entry["actions"] == [NOOP] and entry["changes"] == []
            and type(entry["address"]) is str and type(entry["kind"]) is str and type(entry["name"]) is str):
        ident = entry["id"]
        if ident is None or type(ident) is str:
            return _noop_layout() % (encode_basestring_ascii(entry["address"]), encode_basestring_ascii(entry["kind"]),
                                     encode_basestring_ascii(entry["name"]),
                                     "null" if ident is None else encode_basestring_ascii(ident))
    return "    " + json.dumps(entry, indent=2).replace("\n", "\n    ")


@cache
def _noop_layout() -> str:
    """json's indented text of a no-op entry inside the document's list, a `%s` in place of each
    of its four values (placeholders no value can collide with: they are replaced before any value
    is put in)."""
    marks = {key: f"\x00{key}" for key in ("address", "kind", "name", "id")}
    sample = {"address": marks["address"], "kind": marks["kind"], "name": marks["name"], "actions": [NOOP],
              "id": marks["id"], "changes": []}
    text = ("    " + json.dumps(sample, indent=2).replace("\n", "\n    ")).replace("%", "%%")
    for mark in marks.values():
        text = text.replace(encode_basestring_ascii(mark), "%s", 1)
    return text
