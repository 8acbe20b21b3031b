"""The writes the planner puts into a plan: each write's path and verb as an `Operation`, built with
the `op_*` functions from the paths of `reconciler.api.endpoints`. An id known only after apply is
left as a `{name}` placeholder with its `Ref`. Pure (no HTTP), so importing it loads no network code.
"""

from __future__ import annotations

from typing import Any

from reconciler.api.endpoints import ASSISTANTS, MCP_SERVERS, TESTS, TOOLS, fill_path
from reconciler.kinds import (
    ASSISTANT,
    ASSISTANT_TEST,
    KIND_CANARY,
    KIND_GATE,
    KIND_PROMOTION,
    KIND_VERSION,
    MCP_SERVER,
    TOOL,
)
from reconciler.planning.plan import Action, Operation, Ref


def path_of(template: str, **ids: str | Ref) -> tuple[str, dict[str, Ref]]:
    """Fill known ids into `template` now; leave `{name}` placeholders for ids known after apply."""
    refs: dict[str, Ref] = {}
    known: dict[str, str] = {}
    for key, value in ids.items():
        if isinstance(value, Ref):
            refs[key] = value
        else:
            known[key] = value
    return fill_path(template, **known), refs


def op_create_assistant(body: dict[str, Any], name: str) -> Operation:
    return Operation(ASSISTANT.kind, Action.CREATE, "POST", ASSISTANTS, body, lookup_name=name)


def op_update_assistant(assistant: str | Ref, body: dict[str, Any]) -> Operation:
    path, refs = path_of(ASSISTANTS + "/{a}", a=assistant)
    return Operation(ASSISTANT.kind, Action.UPDATE, "POST", path, body, refs)


def op_delete_assistant(assistant_id: str) -> Operation:
    return Operation(ASSISTANT.kind, Action.DELETE, "DELETE", path_of(ASSISTANTS + "/{a}", a=assistant_id)[0])


def op_create_version(assistant: str | Ref, body: dict[str, Any], version_name: str) -> Operation:
    """A named version is an assistant update that is not promoted to main (§3.3)."""
    path, refs = path_of(ASSISTANTS + "/{a}", a=assistant)
    full = {**body, "version_name": version_name, "promote_to_main": False}
    return Operation(KIND_VERSION, Action.CREATE, "POST", path, full, refs, lookup_name=version_name,
                     parent=assistant)


def op_update_version(assistant_id: str, version_id: str, body: dict[str, Any]) -> Operation:
    path = path_of(ASSISTANTS + "/{a}/versions/{v}", a=assistant_id, v=version_id)[0]
    return Operation(KIND_VERSION, Action.UPDATE, "POST", path, body, parent=assistant_id)


def op_delete_version(assistant_id: str, version_id: str) -> Operation:
    path = path_of(ASSISTANTS + "/{a}/versions/{v}", a=assistant_id, v=version_id)[0]
    return Operation(KIND_VERSION, Action.DELETE, "DELETE", path, parent=assistant_id)


def op_put_canary(assistant: str | Ref, body: dict[str, Any], exists: bool) -> Operation:
    """Create (POST) or replace (PUT) the canary with `{"rules": [...]}` (reconciler/canary.py); PUT
    discards every previous rule (§4)."""
    path, refs = path_of(ASSISTANTS + "/{a}/canary-deploys", a=assistant)
    action = Action.UPDATE if exists else Action.CREATE
    return Operation(KIND_CANARY, action, "PUT" if exists else "POST", path, body, refs, parent=assistant)


def op_delete_canary(assistant_id: str) -> Operation:
    path = path_of(ASSISTANTS + "/{a}/canary-deploys", a=assistant_id)[0]
    return Operation(KIND_CANARY, Action.DELETE, "DELETE", path, parent=assistant_id)


def op_create_tool(body: dict[str, Any], name: str) -> Operation:
    return Operation(TOOL.kind, Action.CREATE, "POST", TOOLS, body, lookup_name=name)


def op_update_tool(tool_id: str, body: dict[str, Any]) -> Operation:
    return Operation(TOOL.kind, Action.UPDATE, "PATCH", path_of(TOOLS + "/{t}", t=tool_id)[0], body)


def op_delete_tool(tool_id: str) -> Operation:
    return Operation(TOOL.kind, Action.DELETE, "DELETE", path_of(TOOLS + "/{t}", t=tool_id)[0])


def op_create_mcp_server(body: dict[str, Any], name: str) -> Operation:
    return Operation(MCP_SERVER.kind, Action.CREATE, "POST", MCP_SERVERS, body, lookup_name=name)


def op_update_mcp_server(server_id: str, body: dict[str, Any]) -> Operation:
    path = path_of(MCP_SERVERS + "/{m}", m=server_id)[0]
    return Operation(MCP_SERVER.kind, Action.UPDATE, "PUT", path, body)


def op_delete_mcp_server(server_id: str) -> Operation:
    path = path_of(MCP_SERVERS + "/{m}", m=server_id)[0]
    return Operation(MCP_SERVER.kind, Action.DELETE, "DELETE", path)


def op_promote(assistant: str | Ref, version_id: str | Ref) -> Operation:
    """POST .../versions/{v}/promote: the version becomes main; the old main stays a version; the canary
    configuration is deleted (§3.1). Promoting the main version again changes nothing: safe to retry."""
    path, refs = path_of(ASSISTANTS + "/{a}/versions/{v}/promote", a=assistant, v=version_id)
    return Operation(KIND_PROMOTION, Action.UPDATE, "POST", path, None, refs, parent=assistant)


def op_run_gate(suite: str, version_id: str | Ref, assistant: str | Ref, wait_s: float) -> Operation:
    """POST .../test-suites/{suite}/runs against one version (201, one run per test); the applier then
    waits up to `wait_s` for every run's verdict and fails the step unless all passed."""
    path = path_of(TESTS + "/test-suites/{s}/runs", s=suite)[0]
    return Operation(KIND_GATE, Action.CREATE, "POST", path, {"destination_version_id": version_id},
                     parent=assistant, wait_s=wait_s)


def op_create_test(body: dict[str, Any], name: str) -> Operation:
    """POST /ai/assistants/tests (201)."""
    return Operation(ASSISTANT_TEST.kind, Action.CREATE, "POST", TESTS, body, lookup_name=name)


def op_update_test(test_id: str, body: dict[str, Any]) -> Operation:
    """PUT /ai/assistants/tests/{id}: a partial update, only the fields sent change (§9.1)."""
    path, refs = path_of(TESTS + "/{t}", t=test_id)
    return Operation(ASSISTANT_TEST.kind, Action.UPDATE, "PUT", path, body, refs)


def op_delete_test(test_id: str) -> Operation:
    return Operation(ASSISTANT_TEST.kind, Action.DELETE, "DELETE", path_of(TESTS + "/{t}", t=test_id)[0])
