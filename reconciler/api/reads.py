"""The requests that read live state: listings, versions, the canary, and the lookup by name that
settles a create whose outcome is unknown.

Wrappers (telnyx-ai-api.md §0): assistants and versions are listed as `{"data": [...]}`, shared tools
as `{"data", "meta"}` pages, MCP servers as a bare array; single objects come back bare. Every reader
also accepts the other shapes, since several of these are marked uncertain.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from reconciler.api.client import Adopt, ApiClient
from reconciler.api.endpoints import ASSISTANTS, MCP_SERVERS, TESTS, TOOLS, fill_path
from reconciler.errors import ApiError
from reconciler.kinds import KIND_CANARY, KIND_VERSION, TOOL


def _data(body: Any) -> list[dict[str, Any]]:
    if isinstance(body, list):
        return body
    if isinstance(body, dict) and isinstance(body.get("data"), list):
        return list(body["data"])
    # Never read a body of another shape as "nothing live": the plan would then create everything.
    raise ApiError(f"a listing answered with an unexpected body: {str(body)[:120]!r}")


# --- reads -----------------------------------------------------------------------------------------

def inline_tools(objects: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Assistants (or versions) with only their inline tools in `tools`, in place. Responses merge
    the attached shared tools into `tools` with `shared: true`, inline ones carry `shared: false`
    (SDK 4.189.0 `AssistantTool`: read-only, and an update that re-sends a shared one makes an inline
    copy). Those are attached through `tool_ids`, the manifest's `shared_tools`: kept in `tools`,
    every plan would remove them and export would write them inline. An API that sends no flag is
    read as before (docs/api-assumptions.md)."""
    for obj in objects:
        tools = obj.get("tools")
        if isinstance(tools, list) and any(isinstance(t, dict) and "shared" in t for t in tools):
            obj["tools"] = [{k: v for k, v in t.items() if k != "shared"} if isinstance(t, dict) else t
                            for t in tools if not (isinstance(t, dict) and t.get("shared") is True)]
    return objects


async def list_assistants(client: ApiClient) -> list[dict[str, Any]]:
    return inline_tools(_data(await client.request("GET", ASSISTANTS, what="list assistants")))


async def list_versions(client: ApiClient, assistant_id: str) -> list[dict[str, Any]]:
    path = fill_path(ASSISTANTS + "/{a}/versions", a=assistant_id)
    return inline_tools(_data(await client.request("GET", path, what=f"list versions of {assistant_id}")))


async def get_canary(client: ApiClient, assistant_id: str) -> dict[str, Any] | None:
    """The assistant's canary configuration, or None when it has none (the API answers 404)."""
    path = fill_path(ASSISTANTS + "/{a}/canary-deploys", a=assistant_id)
    body = await client.request("GET", path, what=f"read canary of {assistant_id}", not_found_ok=True)
    return body if isinstance(body, dict) else None


async def list_tools(client: ApiClient) -> list[dict[str, Any]]:
    return await client.get_all_pages(TOOLS)


async def list_mcp_servers(client: ApiClient) -> list[dict[str, Any]]:
    return await client.get_array_pages(MCP_SERVERS)


async def list_tests(client: ApiClient, test_suite: str | None = None) -> list[dict[str, Any]]:
    """Assistant tests, `{"data", "meta"}` pages (§9.1); only those of one suite when given."""
    return await client.get_all_pages(TESTS, {"test_suite": test_suite} if test_suite else None)


Choose = Callable[[list[dict[str, Any]]], Any | None]


def adopter(client: ApiClient, kind: str, name: str, parent_id: str | None = None,
            choose: Choose | None = None) -> Adopt:
    """A lookup by name for a create whose outcome is unknown: it returns the resource if the first
    attempt landed after all, so the client adopts it instead of creating a duplicate. `choose` picks
    which of the live objects of that name can be the one the create made (default: the first)."""

    async def find() -> Any | None:
        if kind == "Assistant":
            found = [a for a in await list_assistants(client) if a.get("name") == name]
        elif kind == "Tool":
            # filter[name] matching is uncertain (exact or substring): filter again here.
            listed = await client.get_all_pages(TOOLS, {"filter[name]": name})
            found = [t for t in listed if t.get(TOOL.name_field) == name]
        elif kind == "McpServer":
            found = [m for m in await list_mcp_servers(client) if m.get("name") == name]
        elif kind == "AssistantTest":
            found = [t for t in await list_tests(client) if t.get("name") == name]
        elif kind == KIND_VERSION and parent_id:
            found = [v for v in await list_versions(client, parent_id) if v.get("version_name") == name]
        elif kind == KIND_CANARY and parent_id:
            canary = await get_canary(client, parent_id)
            return canary
        else:
            return None
        if choose is not None:
            return choose(found)
        return found[0] if found else None

    return find
