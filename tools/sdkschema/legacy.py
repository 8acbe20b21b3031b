"""Definitions of forms the API had and the current SDK no longer writes, taken from the OpenAPI
snapshot: the seed-era canary body `{"versions": [{version_id, percentage}]}`. reconciler still reads
a server that answers in it, the emulator still takes it, and the manifest's short `canary:` form
borrows its percentage limits. Prose is dropped, objects are closed, `$ref`s point into `$defs`.
"""

from __future__ import annotations

from typing import Any

PROSE = {"description", "title", "example", "examples"}
# definition name here -> component name in the snapshot
LEGACY = {"CanaryDeployRequestLegacy": "CanaryDeployRequest", "VersionConfig": "VersionConfig"}


def convert(node: Any, rename: dict[str, str]) -> Any:
    """One snapshot schema as a closed, prose-free JSON Schema with renamed `$ref`s."""
    if isinstance(node, list):
        return [convert(item, rename) for item in node]
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key in PROSE:
            continue
        if key == "$ref":
            name = value.rsplit("/", 1)[-1]
            out[key] = "#/$defs/" + rename.get(name, name)
        elif key == "properties":
            out[key] = {k: convert(v, rename) for k, v in value.items()}
        else:
            out[key] = convert(value, rename)
    if "properties" in out and "additionalProperties" not in out:
        out["additionalProperties"] = False
    return out


def legacy_defs(components: dict[str, Any]) -> dict[str, Any]:
    """The legacy definitions, by their names in the generated schema."""
    back = {component: name for name, component in LEGACY.items()}
    return {name: convert(components[component], back) for name, component in LEGACY.items()}
