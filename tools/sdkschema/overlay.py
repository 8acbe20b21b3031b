"""Carry what only the OpenAPI snapshot states (limits, defaults, formats, component names) onto the
SDK-derived schemas, by walking both along the same property paths.

The SDK drops numeric limits and defaults; the snapshot of 2026-04-29 has them for every field that
existed then. A keyword is copied only where the SDK's type still admits it (a default must validate
against the SDK's schema, a `maximum` needs a number), so a field whose type or enum changed since
keeps what still holds and nothing else. Where the snapshot reached a node through `$ref: X`, X is
remembered as that node's name: the `$defs` keep the names the manifest schemas and the emulator
already use. A field the snapshot does not know gets no limit and no default from here.
"""

from __future__ import annotations

import json
from collections import defaultdict
from typing import Any

from jsonschema import Draft202012Validator

from tools.sdkschema.types import REF, Converter

Json = dict[str, Any]
NUMERIC = ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum")
STRING = ("minLength", "maxLength", "pattern", "format")
ARRAY = ("minItems", "maxItems", "uniqueItems")


def _types(node: Json) -> set[str]:
    kind = node.get("type")
    if isinstance(kind, str):
        return {kind}
    if isinstance(kind, list):
        return set(kind)
    return set()


def canonical(node: Any) -> str:
    """A stable text of a schema, to tell equal definitions apart from different ones."""
    return json.dumps(node, sort_keys=True)


class Overlay:
    """Walks SDK schemas beside their OpenAPI counterparts; collects names, copies limits in place."""

    def __init__(self, conv: Converter, components: dict[str, Any]) -> None:
        self.conv = conv
        self.components = components
        self.names: dict[str, set[str]] = defaultdict(set)  # provisional def key -> snapshot names
        self.hoists: list[tuple[Json, str]] = []  # inline SDK nodes the snapshot named
        self.carried: set[tuple[str, str]] = set()  # (def key, field) that got something from the snapshot
        self.matched: set[tuple[str, str]] = set()  # (def key, field) the snapshot knows
        self._seen: set[tuple[str, int]] = set()

    def _oa(self, node: Any) -> tuple[Json, str | None]:
        """The snapshot node with `$ref`s followed and an `allOf` of objects merged, and its name."""
        name = None
        if not isinstance(node, dict):
            return {}, None
        while "$ref" in node:
            name = node["$ref"].rsplit("/", 1)[-1]
            node = {**self.components[name], **{k: v for k, v in node.items() if k != "$ref"}}
        parts = node.get("allOf")
        if isinstance(parts, list):
            merged: Json = {k: v for k, v in node.items() if k != "allOf"}
            for part in parts:
                resolved, inner = self._oa(part)
                if len(parts) == 1 and inner:
                    name = name or inner
                props = {**merged.get("properties", {}), **resolved.get("properties", {})}
                merged = {**resolved, **merged}
                if props:
                    merged["properties"] = props
            node = merged
        return node, name

    def apply(self, node: Json, oa: Any, owner: str | None = None, field: str | None = None) -> None:
        """Overlay the snapshot node `oa` onto the SDK node `node` (in place)."""
        resolved, name = self._oa(oa)
        if not resolved:
            return
        if owner and field:
            self.matched.add((owner, field))
        if self._copy(node, resolved) and owner and field:
            self.carried.add((owner, field))
        if "$ref" in node:
            key = node["$ref"][len(REF):]
            if name:
                self.names[key].add(name)
            marker = (key, id(oa))
            if marker not in self._seen and key in self.conv.defs:
                self._seen.add(marker)
                self.apply(self.conv.defs[key], resolved, key)
            return
        if name:
            self.hoists.append((node, name))
        if "anyOf" in node:
            for branch in node["anyOf"]:
                self.apply(branch, self._pick(branch, resolved), owner, field)
        elif isinstance(node.get("properties"), dict):
            theirs = resolved.get("properties", {})
            for key, sub in node["properties"].items():
                if key in theirs:
                    self.apply(sub, theirs[key], owner, key)
            order = resolved.get("required")
            if isinstance(order, list) and isinstance(node.get("required"), list):
                # The snapshot's order where it knows the keys: the emulator reports missing keys in it.
                rank = {k: i for i, k in enumerate(order)}
                node["required"] = sorted(node["required"], key=lambda k: rank.get(k, len(rank)))
            if resolved.get("additionalProperties") is True and node.get("additionalProperties") is False:
                node["additionalProperties"] = True  # the snapshot declares the object open
        elif "array" in _types(node) and isinstance(node.get("items"), dict):
            self.apply(node["items"], resolved.get("items"), owner, field)

    def _pick(self, branch: Json, oa: Json) -> Json | None:
        """The snapshot branch matching one SDK union branch: by `type` tag, else by JSON type."""
        options = [self._oa(o)[0] for o in (oa.get("oneOf") or oa.get("anyOf") or [])] or [oa]
        target = self._target(branch)
        tag = target.get("properties", {}).get("type", {}).get("enum")
        for raw, option in zip(oa.get("oneOf") or oa.get("anyOf") or [oa], options, strict=True):
            theirs = option.get("properties", {}).get("type", {}).get("enum")
            if tag and theirs and set(tag) & set(theirs):
                return raw if isinstance(raw, dict) else option
        mine = _types(target) or ({"object"} if "properties" in target else set())
        for raw, option in zip(oa.get("oneOf") or oa.get("anyOf") or [oa], options, strict=True):
            theirs_types = _types(option) or ({"object"} if "properties" in option else set())
            if mine & theirs_types and not (tag and option.get("properties", {}).get("type", {}).get("enum")):
                return raw if isinstance(raw, dict) else option
        return None

    def _target(self, node: Json) -> Json:
        while "$ref" in node:
            node = self.conv.defs.get(node["$ref"][len(REF):], {})
        return node

    def _copy(self, node: Json, oa: Json) -> bool:
        kinds = _types(self._target(node))
        copied = False
        for key in (*NUMERIC, *STRING, *ARRAY):
            if key in oa and key not in node:
                wanted = {"integer", "number"} if key in NUMERIC else {"string"} if key in STRING else {"array"}
                if kinds & wanted:
                    node[key] = oa[key]
                    copied = True
        if "default" in oa and "default" not in node and self._valid(node, oa["default"]):
            node["default"] = oa["default"]
            copied = True
        return copied

    def _valid(self, node: Json, value: Any) -> bool:
        return bool(Draft202012Validator({"$defs": self.conv.defs, **node}).is_valid(value))


def final_names(conv: Converter, overlay: Overlay, sdk_name: Any, fixed: dict[str, str]) -> dict[str, str]:
    """Provisional key -> final `$defs` name: `fixed` first, then the snapshot's name where exactly one
    class took it, else `sdk_name(cls)` made unique. Equal definitions named alike share a name."""
    out: dict[str, str] = dict(fixed)
    owner: dict[str, str] = {name: key for key, name in fixed.items()}
    for key in sorted(conv.defs):
        if key in out:
            continue
        names = overlay.names.get(key, set())
        if len(names) != 1:
            continue
        name = next(iter(names))
        if name not in owner:
            owner[name] = key
            out[key] = name
        elif canonical(conv.defs[owner[name]]) == canonical(conv.defs[key]):
            out[key] = name
    for key in sorted(conv.defs):
        if key in out:
            continue
        base = sdk_name(conv.classes[key])
        name, n = base, 2
        while name in owner:
            module = conv.classes[key].__module__.rsplit(".", 1)[-1]
            name = f"{''.join(p.title() for p in module.split('_'))}.{base}" if n == 2 else f"{base}{n}"
            n += 1
        owner[name] = key
        out[key] = name
    return out
