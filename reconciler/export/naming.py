"""How live objects are named in exported manifests: `metadata.name`, file names, pins.

A unique live name is used as is. Names that cannot be identities (shared by several live objects,
empty, or holding a control character or line separator, which no manifest name may) are pinned
with `metadata.id`, and all but the oldest of a shared name get a made-up manifest name that keeps
the live name through `ignore_changes`. File names (slugs) are derived from manifest names
only, so they are stable across exports and across re-creating an account.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from functools import cache
from typing import Any

from reconciler.kinds import KINDS
from reconciler.manifest.patterns import compiled
from reconciler.schemas import contents, uri

SLUG_MAX = 60


@dataclass
class Identity:
    """How one live object is named in the manifests."""

    name: str  # metadata.name
    slug: str = ""  # file name without extension
    pinned: bool = False  # metadata.id written
    renamed: bool = False  # metadata.name differs from the live name: the live name is kept (ignore_changes)
    note: str = ""  # a comment for the top of the file


def slugify(name: str) -> str:
    """A file-name-safe form of `name`: lowercase letters, digits and single dashes, at most 60 chars."""
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    return slug[:SLUG_MAX].rstrip("-")


def short_id(obj_id: str) -> str:
    """The first 8 letters and digits of an id, after an `assistant-` prefix: enough to tell apart
    the few objects that share a name, and stable across exports."""
    cleaned = re.sub(r"[^A-Za-z0-9]", "", obj_id.removeprefix("assistant-")).lower()
    return cleaned[:8] or "x"


def writable_name(name: str) -> bool:
    """Whether a live name can be a manifest's `metadata.name` as it is: not empty, and one line of
    text (the Project schema's `OneLine` says which characters it holds none of)."""
    return bool(name) and _name_pattern().search(name) is not None


@cache
def _name_pattern() -> re.Pattern[str]:
    return compiled(contents(uri("Project.schema.json"))["$defs"]["OneLine"]["pattern"])


def identities(kind: str, objects: list[dict[str, Any]], warnings: list[str]) -> dict[str, Identity]:
    """id -> identity for every live object of one kind.

    A unique name is the identity as is. Names that cannot be identities (shared by several live
    objects, empty, or not one line of text) are pinned with `metadata.id`; the oldest of a shared
    name keeps it, every other gets a made-up name (the name, its control characters as spaces, and a
    suffix from its id) and `ignore_changes: [<name field>]`, so the plan never renames them.
    """
    name_field = KINDS[kind].name_field
    groups: dict[str, list[dict[str, Any]]] = {}
    for obj in objects:
        groups.setdefault(str(obj.get(name_field) or ""), []).append(obj)
    taken = {n for n in groups if n}
    out: dict[str, Identity] = {}
    for name, group in sorted(groups.items()):
        group.sort(key=lambda o: (str(o.get("created_at") or ""), str(o.get("id"))))
        writable = writable_name(name)
        if len(group) == 1 and writable:
            out[str(group[0]["id"])] = Identity(name)
            continue
        ids = ", ".join(str(o.get("id")) for o in group)
        if writable:
            warnings.append(f"{len(group)} live {kind} objects are named {name!r} ({ids}): exported with "
                            f"metadata.id pins; all but the oldest get a suffixed manifest name")
        elif name:
            warnings.append(f"live {kind} objects named {name!r} ({ids}): a manifest name is one line of "
                            f"text; exported with metadata.id pins under made-up manifest names that keep the "
                            f"live name")
        else:
            warnings.append(f"live {kind} objects without a name ({ids}): exported with metadata.id pins "
                            f"under made-up manifest names")
        stem = "".join(c if writable_name(c) else " " for c in name).strip() or "unnamed"
        for i, obj in enumerate(group):
            obj_id = str(obj["id"])
            if i == 0 and writable:
                out[obj_id] = Identity(name, pinned=True,
                                        note=f"Live name {name!r} is shared by {len(group)} {kind} objects ({ids}).")
                continue
            alias = _alias(stem, obj_id, taken)
            taken.add(alias)
            if writable:
                note = (f"Live name {name!r} is shared by several {kind} objects ({ids}); this one is pinned by "
                        "id and keeps its live name.")
            elif name:
                note = f"Live name {name!r} is not one line of text; pinned by id, this {kind} keeps its live name."
            else:
                note = f"This {kind} has no live name; it is pinned by id."
            out[obj_id] = Identity(alias, pinned=True, renamed=True, note=note)
    assign_slugs(kind, objects, out)
    return out


def _alias(stem: str, obj_id: str, taken: set[str]) -> str:
    """A manifest name for a pinned object that no other object of its kind has: the stem and the
    start of the id, else the whole id, else that and a number."""
    alias, n = f"{stem}-{short_id(obj_id)}", 2
    if alias in taken:
        alias = f"{stem}-{obj_id}"
    while alias in taken:
        alias, n = f"{stem}-{obj_id}-{n}", n + 1
    return alias


def assign_slugs(kind: str, objects: list[dict[str, Any]], identities: dict[str, Identity]) -> None:
    """File names from manifest names. Names whose slugs collide ("Billing Bot", "billing-bot") all
    get a suffix hashed from the exact name: stable across exports and across re-creating the
    account, since it depends on nothing but the names."""
    by_slug: dict[str, list[str]] = {}
    for obj in objects:
        obj_id = str(obj["id"])
        by_slug.setdefault(slugify(identities[obj_id].name) or kind.lower(), []).append(obj_id)
    for slug, ids in by_slug.items():
        for obj_id in ids:
            name = identities[obj_id].name
            digest = hashlib.sha256(name.encode("utf-8")).hexdigest()[:8]
            identities[obj_id].slug = slug if len(ids) == 1 else f"{slug}-{digest}"
    # A hashed name can still equal another object's plain one ("dup-<hash>" is a valid name too):
    # number the later ones, so that no file ever overwrites another.
    taken: set[str] = set()
    for obj_id in sorted((str(o["id"]) for o in objects), key=lambda i: (identities[i].slug, identities[i].name, i)):
        slug, n = identities[obj_id].slug, 2
        while slug in taken:
            slug, n = f"{identities[obj_id].slug}-{n}", n + 1
        taken.add(slug)
        identities[obj_id].slug = slug


def metadata(ident: Identity, obj_id: str, name_field: str, protect: bool = False) -> dict[str, Any]:
    """The metadata block of an exported manifest: its name, and its id, ignore_changes or protect when
    it is pinned, renamed or protected."""
    meta: dict[str, Any] = {"name": ident.name}
    if ident.pinned:
        meta["id"] = obj_id
    if ident.renamed:
        meta["ignore_changes"] = [name_field]
    if protect:
        meta["protect"] = True
    return meta
