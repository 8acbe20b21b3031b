"""The one place that knows each endpoint: its path, verb and response wrapper, and how live objects
map onto manifest specs. The planner builds Operations with the `op_*` functions; `live.py` reads
through the `list_*`/`get_*` functions; the applier finds ids and adopts uncertain creates here.

Wrappers (telnyx-ai-api.md §0): assistants and versions are listed as `{"data": [...]}`, shared tools
as `{"data", "meta"}` pages, MCP servers as a bare array; single objects come back bare. Every reader
also accepts the other shapes, since several of these are marked uncertain.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from reconciler.api.client import Adopt, ApiClient
from reconciler.errors import ApiError
from reconciler.plan import KIND_CANARY, KIND_VERSION, Operation, Ref

ASSISTANTS = "/ai/assistants"
TOOLS = "/ai/tools"
MCP_SERVERS = "/ai/mcp_servers"
# The payload keys a shared tool may carry (CreateSharedToolRequest); the one matching `type` is used.
TOOL_PAYLOAD_KEYS = ("webhook", "retrieval", "handoff", "invite", "function")


def _path(template: str, **ids: str | Ref) -> tuple[str, dict[str, Ref]]:
    """Fill known ids into `template` now; leave `{name}` placeholders for ids known after apply."""
    refs: dict[str, Ref] = {}
    for key, value in ids.items():
        if isinstance(value, Ref):
            refs[key] = value
        else:
            template = template.replace("{" + key + "}", quote(value, safe=""))
    return template, refs


def _data(body: Any) -> list[dict[str, Any]]:
    if isinstance(body, list):
        return body
    if isinstance(body, dict) and isinstance(body.get("data"), list):
        return list(body["data"])
    # Never read a body of another shape as "nothing live": the plan would then create everything.
    raise ApiError(f"a listing answered with an unexpected body: {str(body)[:120]!r}")


# --- reads -----------------------------------------------------------------------------------------

async def list_assistants(client: ApiClient) -> list[dict[str, Any]]:
    return _data(await client.request("GET", ASSISTANTS, what="list assistants"))


async def list_versions(client: ApiClient, assistant_id: str) -> list[dict[str, Any]]:
    path, _ = _path(ASSISTANTS + "/{a}/versions", a=assistant_id)
    return _data(await client.request("GET", path, what=f"list versions of {assistant_id}"))


async def get_canary(client: ApiClient, assistant_id: str) -> dict[str, Any] | None:
    """The assistant's canary configuration, or None when it has none (the API answers 404)."""
    path, _ = _path(ASSISTANTS + "/{a}/canary-deploys", a=assistant_id)
    body = await client.request("GET", path, what=f"read canary of {assistant_id}", not_found_ok=True)
    return body if isinstance(body, dict) else None


async def list_tools(client: ApiClient) -> list[dict[str, Any]]:
    return await client.get_all_pages(TOOLS)


async def list_mcp_servers(client: ApiClient) -> list[dict[str, Any]]:
    return await client.get_array_pages(MCP_SERVERS)


# --- live objects as manifest-comparable specs -------------------------------------------------------

def tool_spec(tool: dict[str, Any]) -> dict[str, Any]:
    """A shared tool as its manifest spec: `type`, `timeout_ms` and the payload under its key.

    `tool_definition` is assumed to be `{"type": t, t: payload}` (docs/api-assumptions.md); a bare
    payload, or payload keys at the top level, are accepted too.
    """
    kind = str(tool.get("type", ""))
    spec: dict[str, Any] = {"type": kind}
    if "timeout_ms" in tool:
        spec["timeout_ms"] = tool["timeout_ms"]
    definition = tool.get("tool_definition")
    if isinstance(definition, dict):
        keyed = {k: v for k, v in definition.items() if k != "type"}
        if kind and kind not in keyed and not any(k in keyed for k in TOOL_PAYLOAD_KEYS):
            keyed = {kind: keyed}  # a bare payload
        spec.update(keyed)
    for key in TOOL_PAYLOAD_KEYS:
        if key in tool and key not in spec:
            spec[key] = tool[key]
    return spec


def canary_split(canary: dict[str, Any] | None) -> list[dict[str, Any]]:
    """The canary's traffic split as `[{version_id, percentage}]`, from the seed `versions` form or,
    should the server answer in the later `rules` form, from its catch-all rollout."""
    if not canary:
        return []
    if isinstance(canary.get("versions"), list):
        return [
            {"version_id": v.get("version_id"), "percentage": v.get("percentage")}
            for v in canary["versions"]
            if isinstance(v, dict)
        ]
    split: list[dict[str, Any]] = []
    for rule in canary.get("rules") or []:
        if not isinstance(rule, dict) or rule.get("match"):
            continue
        serve = rule.get("serve") or {}
        for slot in serve.get("rollout") or []:
            split.append({"version_id": slot.get("version_id"), "percentage": slot.get("weight")})
    return split


# --- operations the planner puts into a plan ---------------------------------------------------------

def op_create_assistant(body: dict[str, Any], name: str) -> Operation:
    return Operation("POST", ASSISTANTS, body, lookup_name=name)


def op_update_assistant(assistant: str | Ref, body: dict[str, Any]) -> Operation:
    path, refs = _path(ASSISTANTS + "/{a}", a=assistant)
    return Operation("POST", path, body, refs)


def op_delete_assistant(assistant_id: str) -> Operation:
    return Operation("DELETE", _path(ASSISTANTS + "/{a}", a=assistant_id)[0])


def op_create_version(assistant: str | Ref, body: dict[str, Any], version_name: str) -> Operation:
    """A named version is an assistant update that is not promoted to main (§3.3)."""
    path, refs = _path(ASSISTANTS + "/{a}", a=assistant)
    full = {**body, "version_name": version_name, "promote_to_main": False}
    return Operation("POST", path, full, refs, lookup_name=version_name)


def op_update_version(assistant_id: str, version_id: str, body: dict[str, Any]) -> Operation:
    return Operation("POST", _path(ASSISTANTS + "/{a}/versions/{v}", a=assistant_id, v=version_id)[0], body)


def op_delete_version(assistant_id: str, version_id: str) -> Operation:
    return Operation("DELETE", _path(ASSISTANTS + "/{a}/versions/{v}", a=assistant_id, v=version_id)[0])


def op_put_canary(assistant: str | Ref, split: list[dict[str, Any]], exists: bool) -> Operation:
    """Create (POST) or replace (PUT) the canary; PUT discards every previous entry (§4)."""
    path, refs = _path(ASSISTANTS + "/{a}/canary-deploys", a=assistant)
    return Operation("PUT" if exists else "POST", path, {"versions": split}, refs)


def op_delete_canary(assistant_id: str) -> Operation:
    return Operation("DELETE", _path(ASSISTANTS + "/{a}/canary-deploys", a=assistant_id)[0])


def op_create_tool(body: dict[str, Any], name: str) -> Operation:
    return Operation("POST", TOOLS, body, lookup_name=name)


def op_update_tool(tool_id: str, body: dict[str, Any]) -> Operation:
    return Operation("PATCH", _path(TOOLS + "/{t}", t=tool_id)[0], body)


def op_delete_tool(tool_id: str) -> Operation:
    return Operation("DELETE", _path(TOOLS + "/{t}", t=tool_id)[0])


def op_create_mcp_server(body: dict[str, Any], name: str) -> Operation:
    return Operation("POST", MCP_SERVERS, body, lookup_name=name)


def op_update_mcp_server(server_id: str, body: dict[str, Any]) -> Operation:
    return Operation("PUT", _path(MCP_SERVERS + "/{m}", m=server_id)[0], body)


def op_delete_mcp_server(server_id: str) -> Operation:
    return Operation("DELETE", _path(MCP_SERVERS + "/{m}", m=server_id)[0])


# --- what the applier needs after (or instead of) a request ------------------------------------------

def created_id(kind: str, response: Any) -> str | None:
    """The id a create returned: `version_id` for a version, `id` for everything else."""
    if not isinstance(response, dict):
        return None
    value = response.get("version_id" if kind == KIND_VERSION else "id")
    return str(value) if value else None


def adopter(client: ApiClient, kind: str, name: str, parent_id: str | None = None) -> Adopt:
    """A lookup by name for a create whose outcome is unknown: it returns the resource if the first
    attempt landed after all, so the client adopts it instead of creating a duplicate."""

    async def find() -> Any | None:
        if kind == "Assistant":
            found = [a for a in await list_assistants(client) if a.get("name") == name]
        elif kind == "Tool":
            # filter[name] matching is uncertain (exact or substring): filter again here.
            listed = await client.get_all_pages(TOOLS, {"filter[name]": name})
            found = [t for t in listed if t.get("display_name") == name]
        elif kind == "McpServer":
            found = [m for m in await list_mcp_servers(client) if m.get("name") == name]
        elif kind == KIND_VERSION and parent_id:
            found = [v for v in await list_versions(client, parent_id) if v.get("version_name") == name]
        elif kind == KIND_CANARY and parent_id:
            canary = await get_canary(client, parent_id)
            return canary
        else:
            return None
        return found[0] if found else None

    return find
