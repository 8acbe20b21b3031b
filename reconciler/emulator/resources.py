"""Handlers for shared tools, MCP servers, and assistant tests and test runs (scheduled events are in
`events.py`).

Same conventions as `assistants.py`: `(state, call) -> (status, body)`, run under the app's lock.
"""

from __future__ import annotations

from typing import Any

from reconciler.emulator import testruns
from reconciler.emulator.apierrors import Invalid, bad_request, not_found
from reconciler.emulator.query import page_params, paginate
from reconciler.emulator.store import Call, State, copied, new_id, now_iso

Result = tuple[int, Any]
TOOL_FIELDS = ("type", "display_name", "timeout_ms")
# The payload keys of SDK 4.189.0's ToolUpdateParams, one per tool type (the key is the type's name).
TOOL_PAYLOAD_KEYS = frozenset({"client_side_tool", "function", "handoff", "invite", "pay", "retrieval",
                               "update_dynamic_variables", "vision", "webhook"})


def _get(coll: dict[str, Any], what: str, ident: str) -> dict[str, Any]:
    obj: dict[str, Any] | None = coll.get(ident)
    if obj is None:
        raise not_found(what, ident)
    return obj


def _for_each_version(st: State) -> list[dict[str, Any]]:
    # Soft-deleted assistants too: restoring one must not bring back a reference to a deleted object.
    records = [*st.assistants.values(), *(entry["record"] for entry in st.deleted.values())]
    return [v for rec in records for v in rec["versions"].values()]


# --- shared tools ----------------------------------------------------------------------------------


def tool_view(tool: dict[str, Any]) -> dict[str, Any]:
    """SharedToolResponse: `tool_definition` is `{"type": type, <payload key>: payload, ...}`."""
    return {"id": tool["id"], "type": tool["type"], "display_name": tool["display_name"],
            "timeout_ms": tool["timeout_ms"],
            "tool_definition": {"type": tool["type"], **tool["payload"]},
            "created_at": tool["created_at"]}


def create_tool(st: State, call: Call) -> Result:
    """POST /ai/tools: every key but display_name/timeout_ms/type is payload."""
    body: dict[str, Any] = call.body
    tool = {"id": new_id(), "type": body["type"], "display_name": body["display_name"],
            "timeout_ms": body.get("timeout_ms", 5000), "created_at": now_iso(),
            "payload": {k: copied(v) for k, v in body.items() if k not in TOOL_FIELDS}}
    st.tools[tool["id"]] = tool
    return 200, tool_view(tool)


def list_tools(st: State, call: Call) -> Result:
    """GET /ai/tools: `filter[type]`, `filter[name]` (exact display_name), paginated with meta."""
    number, size = page_params(call.query)
    kind, name = call.query.get("filter[type]"), call.query.get("filter[name]")
    found = [tool_view(t) for t in st.tools.values()
             if (kind is None or t["type"] == kind) and (name is None or t["display_name"] == name)]
    page, meta = paginate(found, number, size)
    return 200, {"data": page, "meta": meta}


def get_tool(st: State, call: Call) -> Result:
    """GET /ai/tools/{tool_id}."""
    return 200, tool_view(_get(st.tools, "Tool", call.params["tool_id"]))


def update_tool(st: State, call: Call) -> Result:
    """PATCH /ai/tools/{tool_id}: top-level merge; a payload key sent replaces that payload whole. A
    new `type` makes a new definition: the payloads of the other types are dropped (a definition
    holds the payload of its own type), so changing type needs no way to clear the old payload,
    which the API has none of (payloads are objects, never null: the body schema refuses null)."""
    tool = _get(st.tools, "Tool", call.params["tool_id"])
    was = tool["type"]
    for key, value in call.body.items():
        if key in TOOL_FIELDS:
            if value is None:
                raise Invalid.one(["body", key], "Field may not be null")
            tool[key] = value
        else:
            tool["payload"][key] = copied(value)
    if tool["type"] != was:
        kind = tool["type"]
        tool["payload"] = {k: v for k, v in tool["payload"].items() if k == kind or k not in TOOL_PAYLOAD_KEYS}
    return 200, tool_view(tool)


def delete_tool(st: State, call: Call) -> Result:
    """DELETE /ai/tools/{tool_id}: `{}`; detaches the tool from every assistant version."""
    tool_id = _get(st.tools, "Tool", call.params["tool_id"])["id"]
    del st.tools[tool_id]
    for version in _for_each_version(st):
        version["tool_ids"] = [t for t in version.get("tool_ids", []) if t != tool_id]
    return 200, {}


# --- MCP servers -----------------------------------------------------------------------------------

MCP_FIELDS = ("name", "type", "url", "api_key_ref", "allowed_tools")


def create_mcp(st: State, call: Call) -> Result:
    """POST /ai/mcp_servers."""
    server = {"id": new_id(), **{k: copied(call.body[k]) for k in MCP_FIELDS if k in call.body},
              "created_at": now_iso()}
    st.mcp_servers[server["id"]] = server
    return 200, server


def list_mcp(st: State, call: Call) -> Result:
    """GET /ai/mcp_servers: a bare array; `type`/`url` exact filters; page[number]/page[size]."""
    number, size = page_params(call.query)
    kind, url = call.query.get("type"), call.query.get("url")
    found = [s for s in st.mcp_servers.values()
             if (kind is None or s["type"] == kind) and (url is None or s["url"] == url)]
    return 200, paginate(found, number, size)[0]


def get_mcp(st: State, call: Call) -> Result:
    """GET /ai/mcp_servers/{id}."""
    return 200, _get(st.mcp_servers, "MCP server", call.params["mcp_server_id"])


def update_mcp(st: State, call: Call) -> Result:
    """PUT /ai/mcp_servers/{id}: replaces the fields sent, keeps the others (id/created_at are fixed)."""
    server = _get(st.mcp_servers, "MCP server", call.params["mcp_server_id"])
    for key in MCP_FIELDS:
        if key in call.body:
            if call.body[key] is None and key in ("name", "type", "url"):
                raise Invalid.one(["body", key], "Field may not be null")
            server[key] = copied(call.body[key])
    return 200, server


def delete_mcp(st: State, call: Call) -> Result:
    """DELETE /ai/mcp_servers/{id}: empty 200; removes it from every assistant version."""
    server_id = _get(st.mcp_servers, "MCP server", call.params["mcp_server_id"])["id"]
    del st.mcp_servers[server_id]
    for version in _for_each_version(st):
        version["mcp_servers"] = [m for m in version.get("mcp_servers", []) if m.get("id") != server_id]
    return 200, None


# --- tests and runs --------------------------------------------------------------------------------

TEST_FIELDS = ("name", "description", "destination", "instructions", "rubric", "telnyx_conversation_channel",
               "max_duration_seconds", "test_suite")


def create_test(st: State, call: Call) -> Result:
    """POST /ai/assistants/tests: 201."""
    test = {"test_id": new_id(), "telnyx_conversation_channel": "web_chat",
            **{k: copied(call.body[k]) for k in TEST_FIELDS if k in call.body}, "created_at": now_iso()}
    st.tests[test["test_id"]] = test
    return 201, test


def list_tests(st: State, call: Call) -> Result:
    """GET /ai/assistants/tests: filters test_suite, telnyx_conversation_channel, destination."""
    number, size = page_params(call.query)
    filters = {k: call.query[k] for k in ("test_suite", "telnyx_conversation_channel", "destination")
               if k in call.query}
    found = [t for t in st.tests.values() if all(t.get(k) == v for k, v in filters.items())]
    page, meta = paginate(found, number, size)
    return 200, {"data": page, "meta": meta}


def get_test(st: State, call: Call) -> Result:
    """GET /ai/assistants/tests/{test_id}."""
    return 200, _get(st.tests, "Test", call.params["test_id"])


def update_test(st: State, call: Call) -> Result:
    """PUT /ai/assistants/tests/{test_id}: partial; only the fields sent change."""
    test = _get(st.tests, "Test", call.params["test_id"])
    test.update({k: copied(v) for k, v in call.body.items() if k in TEST_FIELDS})
    return 200, test


def delete_test(st: State, call: Call) -> Result:
    """DELETE /ai/assistants/tests/{test_id}: empty 200; its runs go too."""
    test_id = _get(st.tests, "Test", call.params["test_id"])["test_id"]
    del st.tests[test_id]
    for run_id in [k for k, r in st.runs.items() if r["run"]["test_id"] == test_id]:
        del st.runs[run_id]
    return 200, None


def list_suites(st: State, call: Call) -> Result:
    """GET /ai/assistants/tests/test-suites: distinct suite names, sorted."""
    return 200, {"data": sorted({t["test_suite"] for t in st.tests.values() if t.get("test_suite")})}


def _check_version(st: State, body: Any) -> None:
    vid = (body or {}).get("destination_version_id")
    if vid is not None and not any(vid in rec["versions"] for rec in st.assistants.values()):
        raise bad_request(f"Version {vid!r} does not exist")


def _new_run(st: State, test: dict[str, Any], suite_run: str | None, body: Any) -> dict[str, Any]:
    # Runs take time and end as scripted (emulator/testruns.py); unscripted, every rubric item passes.
    return testruns.new_run(st, test, suite_run, (body or {}).get("destination_version_id"))


def _runs_page(call: Call, runs: list[dict[str, Any]]) -> Result:
    number, size = page_params(call.query)
    filters = {k: call.query[k] for k in ("status", "test_suite_run_id") if k in call.query}
    found = [r for r in runs if all(r.get(k) == v for k, v in filters.items())]
    page, meta = paginate(found, number, size)
    return 200, {"data": page, "meta": meta}


def trigger_run(st: State, call: Call) -> Result:
    """POST /ai/assistants/tests/{test_id}/runs: 201, a finished run."""
    test = _get(st.tests, "Test", call.params["test_id"])
    _check_version(st, call.body)
    return 201, _new_run(st, test, None, call.body)


def list_runs(st: State, call: Call) -> Result:
    """GET /ai/assistants/tests/{test_id}/runs."""
    test_id = _get(st.tests, "Test", call.params["test_id"])["test_id"]
    return _runs_page(call, [testruns.current(r) for r in st.runs.values() if r["run"]["test_id"] == test_id])


def get_run(st: State, call: Call) -> Result:
    """GET /ai/assistants/tests/{test_id}/runs/{run_id}."""
    _get(st.tests, "Test", call.params["test_id"])
    entry = _get(st.runs, "Test run", call.params["run_id"])
    if entry["run"]["test_id"] != call.params["test_id"]:
        raise not_found("Test run", call.params["run_id"])
    return 200, testruns.current(entry)


def trigger_suite(st: State, call: Call) -> Result:
    """POST .../test-suites/{suite_name}/runs: 201, a bare array with one run per test."""
    suite = call.params["suite_name"]
    tests = [t for t in st.tests.values() if t.get("test_suite") == suite]
    if not tests:
        raise not_found("Test suite", suite)
    _check_version(st, call.body)
    batch = new_id()
    return 201, [_new_run(st, t, batch, call.body) for t in tests]


def list_suite_runs(st: State, call: Call) -> Result:
    """GET .../test-suites/{suite_name}/runs: runs triggered through the suite."""
    suite = call.params["suite_name"]
    return _runs_page(call, [testruns.current(r) for r in st.runs.values() if r["suite"] == suite])
