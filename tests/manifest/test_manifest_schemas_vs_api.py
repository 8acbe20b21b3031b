"""Hold the manifest schemas against the API model (`schemas/api/telnyx-ai.schema.json`, generated
from the telnyx SDK; tests/manifest/test_api_model_vs_sdk.py holds that against the installed SDK):
every field a manifest may write inside `spec` (recursively, through every $ref) must exist in the
API's request schemas, apart from the manifest's own keys. And, the other way round, every assistant
field of the API's update request must be writable in a manifest (except the ones a manifest
expresses differently)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from referencing import Registry, Resource

from reconciler.kinds import KINDS, Kind
from reconciler.schemas import SCHEMAS, all_schemas, uri

Paths = tuple[set[tuple[str, ...]], set[tuple[str, ...]]]  # (field paths, free-form object paths)
# Manifest-only keys of an assistant spec, with everything below them.
MANIFEST_ONLY = {("shared_tools",), ("versions",), ("canary",), ("instructions_file",), ("main_version",),
                 ("mcp_servers", "[]", "server")}


@pytest.fixture(scope="module")
def openapi() -> dict[str, Any]:
    """The API model's definitions (named as the OpenAPI components were, where they existed)."""
    path = SCHEMAS / "api" / "telnyx-ai.schema.json"
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))["$defs"]
    return data


def walk(schema: Any, resolve: Callable[[str, Any], tuple[Any, Any]], ctx: Any, prefix: tuple[str, ...],
         out: Paths, depth: int = 0) -> None:
    """Collect every property path a schema accepts: through $ref, properties, items, additional
    properties and every branch of allOf / oneOf / anyOf / if-then-else."""
    if not isinstance(schema, dict) or depth > 40:
        return
    fields, free = out
    if "$ref" in schema:
        target, sub_ctx = resolve(schema["$ref"], ctx)
        walk(target, resolve, sub_ctx, prefix, out, depth + 1)
    for key, sub in schema.get("properties", {}).items():
        fields.add((*prefix, key))
        walk(sub, resolve, ctx, (*prefix, key), out, depth + 1)
    if "items" in schema:
        walk(schema["items"], resolve, ctx, (*prefix, "[]"), out, depth + 1)
    extra = schema.get("additionalProperties")
    if extra is True or (schema.get("type") == "object" and not schema.get("properties") and extra is None):
        free.add(prefix)
    elif isinstance(extra, dict):
        walk(extra, resolve, ctx, (*prefix, "*"), out, depth + 1)
    for key in ("allOf", "oneOf", "anyOf"):
        for branch in schema.get(key, []):
            walk(branch, resolve, ctx, prefix, out, depth + 1)
    for key in ("then", "else"):
        walk(schema.get(key), resolve, ctx, prefix, out, depth + 1)


def manifest_paths(kind: str) -> Paths:
    registry: Registry[Any] = Registry()
    for where, contents in all_schemas():
        registry = registry.with_resource(where, Resource.from_contents(contents))

    def resolve(ref: str, resolver: Any) -> tuple[Any, Any]:
        found = resolver.lookup(ref)
        return found.contents, found.resolver

    root = registry.resolver(uri(f"{kind}.schema.json"))
    out: Paths = (set(), set())
    spec, ctx = resolve("#/$defs/Spec", root)
    walk(spec, resolve, ctx, (), out)
    return out


def api_paths(components: dict[str, Any], *names: str) -> Paths:
    def resolve(ref: str, ctx: Any) -> tuple[Any, Any]:
        return components[ref.rsplit("/", 1)[-1]], ctx

    out: Paths = (set(), set())
    for name in names:
        walk(components[name], resolve, None, (), out)
    return out


def _manifest_only(path: tuple[str, ...]) -> bool:
    return any(path[: len(key)] == key for key in MANIFEST_ONLY)


def _missing(manifest: Paths, api: Paths) -> list[str]:
    fields, _ = manifest
    api_fields, api_free = api
    return sorted(
        ".".join(p)
        for p in fields
        if not _manifest_only(p) and p not in api_fields and not any(p[:n] in api_free for n in range(len(p)))
    )


def test_assistant_spec_fields_exist_in_the_api(openapi: dict[str, Any]) -> None:
    manifest = manifest_paths("Assistant")
    api = api_paths(openapi, "CreateAssistantRequest", "UpdateAssistantRequest")
    assert len(manifest[0]) > 200  # really walked the nested settings and tool variants
    assert ("tools", "[]", "webhook", "headers", "[]", "value") in manifest[0]
    assert ("voice_settings", "background_audio", "value") in manifest[0]
    assert _missing(manifest, api) == []


def test_every_api_assistant_field_is_writable_in_a_manifest(openapi: dict[str, Any]) -> None:
    manifest_fields, _ = manifest_paths("Assistant")
    update = set(openapi["UpdateAssistantRequest"]["properties"]) - {"name", "tool_ids", "version_name"}
    assert sorted(update - {p[0] for p in manifest_fields}) == []


def test_tool_spec_fields_exist_in_the_api(openapi: dict[str, Any]) -> None:
    manifest = manifest_paths("Tool")
    fields, free = api_paths(openapi, "CreateSharedToolRequest")
    # The shared-tool API types its payloads as free-form objects; hold the payloads reconciler checks
    # against the inline tool shapes they presumably are.
    payloads = {"webhook": "WebhookToolParams", "retrieval": "BucketIds", "handoff": "HandoffToolParams",
                "client_side_tool": "ClientSideToolClientSideTool"}
    for key, component in payloads.items():
        free.discard((key,))
        sub_fields, sub_free = api_paths(openapi, component)
        fields |= {(key, *p) for p in sub_fields}
        free |= {(key, *p) for p in sub_free}
    assert ("webhook", "path_parameters", "properties") in manifest[0]
    assert _missing(manifest, (fields, free)) == []
    assert {p[0] for p in manifest[0]} == set(openapi["CreateSharedToolRequest"]["properties"]) - {"display_name"}


def test_mcp_server_spec_fields_exist_in_the_api(openapi: dict[str, Any]) -> None:
    manifest = manifest_paths("McpServer")
    assert _missing(manifest, api_paths(openapi, "CreateMCPServerRequest")) == []
    assert {p[0] for p in manifest[0]} == set(openapi["CreateMCPServerRequest"]["properties"]) - {"name"}


@pytest.mark.parametrize("kind", list(KINDS.values()), ids=list(KINDS))
def test_a_name_is_held_to_the_api_field_it_is_sent_as(kind: Kind, openapi: dict[str, Any]) -> None:
    # metadata.name is sent as the kind's name field (kinds.py), so it has that field's limits (an
    # assistant test's 255 characters), and so have previous_names, the names it had there.
    schema = json.loads((SCHEMAS / f"{kind.kind}.schema.json").read_text(encoding="utf-8"))
    shared, own = schema["properties"]["metadata"]["allOf"]
    assert shared == {"$ref": "Project.schema.json#/$defs/Metadata"}
    ref = own["properties"]["name"]["$ref"]
    assert own["properties"]["previous_names"] == {"items": {"$ref": ref}}
    where, _, pointer = ref.partition("#")
    assert where == "api/telnyx-ai.schema.json"
    _, create, _, field = pointer.split("/")[1:]
    assert create.startswith("Create") and field == kind.name_field
    # A rename is an update: its field must hold the same limits for the create request's to stand.
    update = openapi["Update" + create.removeprefix("Create")]["properties"][field]
    assert update == openapi[create]["properties"][field]
