"""Handlers for assistants, their versions, tags and shared-tool attachment (canary deploys are in
`canary.py`, soft delete and restore in `deleted.py`, chat and messaging in `messaging.py`).

Every handler takes `(state, call)` and returns `(status, body)`; it runs under the app's lock and
raises `ApiFault` (Telnyx envelope) or `Invalid` (422). The behaviour implemented here is the contract
recorded in docs/api-assumptions.md ("Emulator").
"""

from __future__ import annotations

import uuid
from typing import Any

from reconciler.emulator.apierrors import Invalid, bad_request, not_found
from reconciler.emulator.defaults import apply_defaults
from reconciler.emulator.store import Call, State, copied, new_id, now_iso, numeric_id

Result = tuple[int, Any]

DEFAULT_MODEL = "openai/gpt-4o"
DEFAULT_VERSION_NAME = "New assistant"
# Fields the server owns: a request body never sets them.
SERVER_FIELDS = ("id", "created_at", "version_id", "version_created_at", "import_metadata")
# Required in the response schema, so an update may not clear them with null.
NOT_NULLABLE = ("name", "instructions", "model")
# Ids of objects the server creates on assistant create; kept when a client replaces the parent object.
SERVER_OWNED_IDS = (("telephony_settings", "default_texml_app_id"),
                    ("messaging_settings", "default_messaging_profile_id"))


def served_versions(rules: list[dict[str, Any]]) -> set[str]:
    """Every version id a canary rule can route traffic to."""
    found = set()
    for rule in rules:
        serve = rule.get("serve") or {}
        if serve.get("version_id"):
            found.add(serve["version_id"])
        found.update(slot["version_id"] for slot in serve.get("rollout") or [])
    return found


def record(st: State, assistant_id: str) -> dict[str, Any]:
    """The stored assistant record, or a 404."""
    rec: dict[str, Any] | None = st.assistants.get(assistant_id)
    if rec is None:
        raise not_found("Assistant", assistant_id)
    return rec


def main_of(st: State, assistant_id: str) -> dict[str, Any]:
    """The main version's config of an assistant, or a 404."""
    rec = record(st, assistant_id)
    main: dict[str, Any] = rec["versions"][rec["main"]]
    return main


def check_refs(st: State, body: dict[str, Any]) -> None:
    """422 when `tool_ids` or `mcp_servers[].id` name objects that do not exist."""
    problems: list[dict[str, Any]] = []
    for i, tool_id in enumerate(body.get("tool_ids") or []):
        if tool_id not in st.tools:
            problems.append({"loc": ["body", "tool_ids", i], "msg": f"Tool {tool_id!r} does not exist",
                             "type": "value_error"})
    for i, ref in enumerate(body.get("mcp_servers") or []):
        if ref.get("id") not in st.mcp_servers:
            problems.append({"loc": ["body", "mcp_servers", i, "id"],
                             "msg": f"MCP server {ref.get('id')!r} does not exist", "type": "value_error"})
    if problems:
        raise Invalid(problems)


def _unique(items: list[Any]) -> list[Any]:
    seen: list[Any] = []
    for item in items:
        if item not in seen:
            seen.append(item)
    return seen


def apply_fields(cfg: dict[str, Any], body: dict[str, Any]) -> None:
    """Rule 2: each top-level field sent replaces the stored one whole; `null` clears it."""
    for key in NOT_NULLABLE:
        if key in body and body[key] is None:
            raise Invalid.one(["body", key], "Field may not be null", "value_error")
    old_ids = {(parent, key): (cfg.get(parent) or {}).get(key) for parent, key in SERVER_OWNED_IDS}
    for key, value in body.items():
        if key in SERVER_FIELDS or key == "promote_to_main":
            continue
        if value is None:
            cfg.pop(key, None)
        elif key in ("tool_ids", "tags", "enabled_features"):
            cfg[key] = _unique(copied(value))
        else:
            cfg[key] = copied(value)
    for (parent, key), old in old_ids.items():
        obj = cfg.get(parent)
        if old and isinstance(obj, dict) and key not in obj:
            obj[key] = old
    finish(cfg)


def finish(cfg: dict[str, Any]) -> None:
    """Apply the declared defaults and the fields every assistant response carries."""
    apply_defaults("CreateAssistantRequest", cfg)
    cfg.setdefault("model", DEFAULT_MODEL)
    cfg.setdefault("tool_ids", [])
    cfg.setdefault("related_mission_ids", [])
    cfg.setdefault("version_name", DEFAULT_VERSION_NAME)


def _new_assistant(st: State, cfg: dict[str, Any]) -> dict[str, Any]:
    now = now_iso()
    cfg["id"] = f"assistant-{uuid.uuid4()}"
    cfg["created_at"] = now
    cfg["version_id"] = new_id()
    cfg["version_created_at"] = now
    finish(cfg)
    # Identity first, as the real API orders it; purely cosmetic for people reading responses.
    cfg = {k: cfg[k] for k in ("id", "name", "created_at") if k in cfg} | cfg
    st.assistants[cfg["id"]] = {"id": cfg["id"], "created_at": now, "main": cfg["version_id"],
                                "versions": {cfg["version_id"]: cfg}, "canary": None}
    return cfg


def create(st: State, call: Call) -> Result:
    """POST /ai/assistants: server fills ids, TeXML app, messaging profile and defaults."""
    body: dict[str, Any] = call.body
    check_refs(st, body)
    cfg: dict[str, Any] = {}
    apply_fields(cfg, body)
    cfg.setdefault("telephony_settings", {}).setdefault("default_texml_app_id", numeric_id())
    cfg.setdefault("messaging_settings", {}).setdefault("default_messaging_profile_id", new_id())
    return 200, _new_assistant(st, cfg)


def list_all(st: State, call: Call) -> Result:
    """GET /ai/assistants: every main version, `{"data": [...]}`, no pagination."""
    return 200, {"data": [r["versions"][r["main"]] for r in st.assistants.values()]}


def retrieve(st: State, call: Call) -> Result:
    """GET /ai/assistants/{id}: the main version."""
    return 200, main_of(st, call.params["assistant_id"])


def update(st: State, call: Call) -> Result:
    """POST /ai/assistants/{id}: update main in place, or save a new non-main version."""
    rec = record(st, call.params["assistant_id"])
    body: dict[str, Any] = dict(call.body)
    check_refs(st, body)
    promote = body.pop("promote_to_main", True)
    if promote is not False:
        main: dict[str, Any] = rec["versions"][rec["main"]]
        apply_fields(main, body)
        return 200, main
    version = copied(rec["versions"][rec["main"]])
    version["version_id"] = new_id()
    version["version_name"] = body.pop("version_name", None) or DEFAULT_VERSION_NAME
    version["version_created_at"] = now_iso()
    apply_fields(version, body)
    rec["versions"][version["version_id"]] = version
    return 200, version


def clone(st: State, call: Call) -> Result:
    """POST /ai/assistants/{id}/clone: a new assistant from main, without telephony/messaging."""
    cfg = copied(main_of(st, call.params["assistant_id"]))
    for key in (*SERVER_FIELDS, "telephony_settings", "messaging_settings"):
        cfg.pop(key, None)
    return 200, _new_assistant(st, cfg)


def import_(st: State, call: Call) -> Result:
    """POST /ai/assistants/import: one assistant per provider id; re-imports overwrite in place."""
    body: dict[str, Any] = call.body
    provider = body["provider"]
    out = []
    for import_id in body.get("import_ids") or [f"{provider}-default"]:
        meta = {"import_id": import_id, "import_provider": provider}
        fields = {"name": f"Imported {provider} assistant {import_id}",
                  "instructions": f"Imported from {provider}.", "model": DEFAULT_MODEL}
        existing = next((r for r in st.assistants.values()
                         if r["versions"][r["main"]].get("import_metadata") == meta), None)
        if existing is not None:
            main = existing["versions"][existing["main"]]
            apply_fields(main, fields)
            out.append(main)
            continue
        cfg: dict[str, Any] = dict(fields)
        cfg["import_metadata"] = meta
        out.append(_new_assistant(st, cfg))
    return 200, {"data": out}


def list_versions(st: State, call: Call) -> Result:
    """GET /ai/assistants/{id}/versions: newest first, main included."""
    rec = record(st, call.params["assistant_id"])
    return 200, {"data": [v for v in reversed(rec["versions"].values())]}


def _version(st: State, call: Call) -> tuple[dict[str, Any], dict[str, Any]]:
    rec = record(st, call.params["assistant_id"])
    vid = call.params["version_id"]
    if vid not in rec["versions"]:
        raise not_found("Version", vid)
    version: dict[str, Any] = rec["versions"][vid]
    return rec, version


def get_version(st: State, call: Call) -> Result:
    """GET /ai/assistants/{id}/versions/{version_id} (works for main too)."""
    return 200, _version(st, call)[1]


def update_version(st: State, call: Call) -> Result:
    """POST /ai/assistants/{id}/versions/{version_id}: like update, but never on main (400)."""
    rec, version = _version(st, call)
    if version["version_id"] == rec["main"]:
        raise bad_request("The main version cannot be updated through the versions endpoint")
    check_refs(st, call.body)
    apply_fields(version, call.body)
    return 200, version


def delete_version(st: State, call: Call) -> Result:
    """DELETE /ai/assistants/{id}/versions/{version_id}: 204; not main, not one a canary serves."""
    rec, version = _version(st, call)
    vid = version["version_id"]
    if vid == rec["main"]:
        raise bad_request("The main version cannot be deleted")
    if rec["canary"] and vid in served_versions(rec["canary"]["rules"]):
        raise bad_request("The version receives canary traffic; update or delete the canary deploy first")
    del rec["versions"][vid]
    return 204, None


def promote(st: State, call: Call) -> Result:
    """POST .../versions/{version_id}/promote: the version becomes main; the canary is deleted."""
    rec, version = _version(st, call)
    rec["main"] = version["version_id"]
    rec["canary"] = None
    return 200, version


def all_tags(st: State, call: Call) -> Result:
    """GET /ai/assistants/tags: every distinct tag on the assistants' main versions, sorted."""
    tags = {t for r in st.assistants.values() for t in r["versions"][r["main"]].get("tags", [])}
    return 200, {"tags": sorted(tags)}


def add_tag(st: State, call: Call) -> Result:
    """POST /ai/assistants/{id}/tags: idempotent add; returns the assistant's tags."""
    main = main_of(st, call.params["assistant_id"])
    tag = call.body["tag"]
    if tag not in main["tags"]:
        main["tags"].append(tag)
    return 200, {"tags": list(main["tags"])}


def remove_tag(st: State, call: Call) -> Result:
    """DELETE /ai/assistants/{id}/tags/{tag}: returns the remaining tags (absent tag: no-op)."""
    main = main_of(st, call.params["assistant_id"])
    main["tags"] = [t for t in main["tags"] if t != call.params["tag"]]
    return 200, {"tags": list(main["tags"])}


def _tool(st: State, tool_id: str) -> dict[str, Any]:
    tool: dict[str, Any] | None = st.tools.get(tool_id)
    if tool is None:
        raise not_found("Tool", tool_id)
    return tool


def attach_tool(st: State, call: Call) -> Result:
    """PUT /ai/assistants/{id}/tools/{tool_id}: appends to main's `tool_ids` (idempotent)."""
    main = main_of(st, call.params["assistant_id"])
    tool_id = _tool(st, call.params["tool_id"])["id"]
    if tool_id not in main["tool_ids"]:
        main["tool_ids"].append(tool_id)
    return 200, {}


def detach_tool(st: State, call: Call) -> Result:
    """DELETE /ai/assistants/{id}/tools/{tool_id}: removes it from main's `tool_ids` (idempotent)."""
    main = main_of(st, call.params["assistant_id"])
    main["tool_ids"] = [t for t in main["tool_ids"] if t != call.params["tool_id"]]
    return 200, {}


def test_tool(st: State, call: Call) -> Result:
    """POST /ai/assistants/{id}/tools/{tool_id}/test: a canned successful webhook exchange."""
    main_of(st, call.params["assistant_id"])
    tool = _tool(st, call.params["tool_id"])
    body = call.body or {}
    webhook = tool.get("payload", {}).get("webhook", {})
    request = {"url": webhook.get("url", ""), "method": webhook.get("method", "POST"),
               "body": copied(body.get("arguments", {})),
               "dynamic_variables": copied(body.get("dynamic_variables", {}))}
    return 200, {"data": {"success": True, "status_code": 200, "content_type": "application/json",
                          "response": '{"ok": true}', "request": request}}
