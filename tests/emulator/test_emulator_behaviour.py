"""The behaviour contract reconciler's client and planner rely on (docs/api-assumptions.md, "Emulator"),
exercised over real loopback HTTP."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import httpx

BASE = {"name": "support", "instructions": "Be kind.", "model": "openai/gpt-4o"}


def ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json() if response.content else None


def create(api: httpx.Client, **fields: Any) -> dict[str, Any]:
    body: dict[str, Any] = ok(api.post("/ai/assistants", json={**BASE, **fields}))
    return body


def error_code(response: httpx.Response, status: int) -> str:
    assert response.status_code == status, response.text
    code: str = response.json()["errors"][0]["code"]
    return code


def test_create_fills_server_fields_and_declared_defaults(api: httpx.Client) -> None:
    bot = create(api, telephony_settings={"recording_settings": {}},
                 tools=[{"type": "webhook", "webhook": {"name": "n", "description": "d", "url": "https://x"}}])
    assert bot["id"].startswith("assistant-") and uuid.UUID(bot["id"].removeprefix("assistant-"))
    assert uuid.UUID(bot["version_id"]) and bot["version_name"] == "New assistant"
    offset = datetime.fromisoformat(bot["created_at"]).utcoffset()
    assert offset is not None and offset.total_seconds() == 0
    assert bot["version_created_at"] == bot["created_at"]
    for key, value in {"tags": [], "mcp_servers": [], "integrations": [], "tool_ids": [],
                       "dynamic_variables_webhook_timeout_ms": 1500}.items():
        assert bot[key] == value, key
    tel = bot["telephony_settings"]
    assert tel["default_texml_app_id"] and tel["time_limit_secs"] == 1800 and tel["user_idle_reply_secs"] == 10
    assert tel["recording_settings"] == {"channels": "dual", "enabled": True, "format": "mp3"}
    assert bot["messaging_settings"]["default_messaging_profile_id"]
    assert bot["tools"][0]["webhook"]["method"] == "POST" and bot["tools"][0]["webhook"]["async"] is False
    assert "voice_settings" not in bot  # nested defaults only for objects that are present


def test_model_defaults_when_omitted(api: httpx.Client) -> None:
    bot = ok(api.post("/ai/assistants", json={"name": "m", "instructions": "i"}))
    assert bot["model"] == "openai/gpt-4o"


def test_names_are_not_unique(api: httpx.Client) -> None:
    assert create(api)["id"] != create(api)["id"]
    assert len(ok(api.get("/ai/assistants"))["data"]) == 2


def test_update_replaces_top_level_fields_whole_and_null_clears(api: httpx.Client) -> None:
    bot = create(api, greeting="Hi", description="d", telephony_settings={"time_limit_secs": 60,
                                                                         "noise_suppression": "krisp"})
    texml_app = bot["telephony_settings"]["default_texml_app_id"]
    after = ok(api.post(f"/ai/assistants/{bot['id']}",
                        json={"telephony_settings": {"user_idle_timeout_secs": 30}, "description": None}))
    assert after["version_id"] == bot["version_id"]  # main updated in place
    assert after["greeting"] == "Hi"  # omitted: unchanged
    assert "description" not in after  # null: cleared
    tel = after["telephony_settings"]
    assert "noise_suppression" not in tel and tel["time_limit_secs"] == 1800  # replaced whole, defaults again
    assert tel["default_texml_app_id"] == texml_app  # the server-owned TeXML app survives
    assert ok(api.get(f"/ai/assistants/{bot['id']}")) == after
    assert api.post(f"/ai/assistants/{bot['id']}", json={"name": None}).status_code == 422


def test_update_without_promotion_creates_a_new_non_main_version(api: httpx.Client) -> None:
    bot = create(api, greeting="Hi")
    draft = ok(api.post(f"/ai/assistants/{bot['id']}",
                        json={"greeting": "Yo", "promote_to_main": False, "version_name": "draft"}))
    assert draft["id"] == bot["id"] and draft["version_id"] != bot["version_id"]
    assert draft["version_name"] == "draft" and draft["greeting"] == "Yo"
    main = ok(api.get(f"/ai/assistants/{bot['id']}"))
    assert main["greeting"] == "Hi" and main["version_id"] == bot["version_id"]
    unnamed = ok(api.post(f"/ai/assistants/{bot['id']}", json={"promote_to_main": False}))
    assert unnamed["version_name"] == "New assistant"
    listed = ok(api.get(f"/ai/assistants/{bot['id']}/versions"))["data"]
    assert [v["version_id"] for v in listed] == [unnamed["version_id"], draft["version_id"], bot["version_id"]]
    assert ok(api.get(f"/ai/assistants/{bot['id']}/versions/{bot['version_id']}"))["greeting"] == "Hi"


def test_versions_endpoints_refuse_the_main_version(api: httpx.Client) -> None:
    bot = create(api)
    path = f"/ai/assistants/{bot['id']}/versions/{bot['version_id']}"
    assert error_code(api.post(path, json={"greeting": "x"}), 400) == "10015"
    assert error_code(api.delete(path), 400) == "10015"
    draft = ok(api.post(f"/ai/assistants/{bot['id']}", json={"promote_to_main": False}))
    vpath = f"/ai/assistants/{bot['id']}/versions/{draft['version_id']}"
    updated = ok(api.post(vpath, json={"greeting": "draft greeting", "version_name": "v2"}))
    assert updated["version_id"] == draft["version_id"] and updated["version_name"] == "v2"
    assert ok(api.get(f"/ai/assistants/{bot['id']}")).get("greeting") is None
    ok(api.delete(vpath), 204)
    assert error_code(api.get(vpath), 404) == "10005"


def test_promote_swaps_main_and_deletes_the_canary(api: httpx.Client) -> None:
    bot = create(api, greeting="old")
    draft = ok(api.post(f"/ai/assistants/{bot['id']}", json={"greeting": "new", "promote_to_main": False}))
    canary = f"/ai/assistants/{bot['id']}/canary-deploys"
    ok(api.post(canary, json={"versions": [{"version_id": draft["version_id"], "percentage": 20}]}))
    promoted = ok(api.post(f"/ai/assistants/{bot['id']}/versions/{draft['version_id']}/promote"))
    assert promoted["greeting"] == "new"
    main = ok(api.get(f"/ai/assistants/{bot['id']}"))
    assert main["version_id"] == draft["version_id"] and main["greeting"] == "new"
    old = ok(api.get(f"/ai/assistants/{bot['id']}/versions/{bot['version_id']}"))
    assert old["greeting"] == "old"  # the old main stays, as a non-main version
    assert error_code(api.get(canary), 404) == "10005"
    ok(api.delete(f"/ai/assistants/{bot['id']}/versions/{bot['version_id']}"), 204)


def test_canary_lifecycle_and_constraints(api: httpx.Client) -> None:
    bot = create(api)
    aid = bot["id"]
    v1 = ok(api.post(f"/ai/assistants/{aid}", json={"promote_to_main": False}))["version_id"]
    v2 = ok(api.post(f"/ai/assistants/{aid}", json={"promote_to_main": False}))["version_id"]
    path = f"/ai/assistants/{aid}/canary-deploys"
    assert error_code(api.get(path), 404) == "10005"
    assert error_code(api.put(path, json={"versions": []}), 404) == "10005"
    bad = [
        [{"version_id": v1, "percentage": 0}],
        [{"version_id": v1, "percentage": 100}],
        [{"version_id": v1, "percentage": 60}, {"version_id": v2, "percentage": 40}],
        [{"version_id": bot["version_id"], "percentage": 10}],
        [{"version_id": str(uuid.uuid4()), "percentage": 10}],
        [{"version_id": v1, "percentage": 10}, {"version_id": v1, "percentage": 10}],
        [{"version_id": v1}],
    ]
    for versions in bad:
        response = api.post(path, json={"versions": versions})
        assert response.status_code == 422, versions
        assert response.json()["detail"][0]["loc"][0] == "body"
    first = ok(api.post(path, json={"versions": [{"version_id": v1, "percentage": 10}]}))
    assert first["assistant_id"] == aid
    assert error_code(api.post(path, json={"versions": [{"version_id": v2, "percentage": 10}]}), 409) == "10012"
    replaced = ok(api.put(path, json={"versions": [{"version_id": v2, "percentage": 49.5},
                                                   {"version_id": v1, "percentage": 50}]}))
    assert replaced["created_at"] == first["created_at"] and len(replaced["versions"]) == 2
    assert error_code(api.delete(f"/ai/assistants/{aid}/versions/{v1}"), 400) == "10015"
    ok(api.delete(path), 204)
    assert error_code(api.delete(path), 404) == "10005"
    ok(api.post(path, json={"versions": [{"version_id": v1, "percentage": 10}]}))
    ok(api.delete(f"/ai/assistants/{aid}"))
    assert error_code(api.get(path), 404) == "10005"
    assert error_code(api.get(f"/ai/assistants/{aid}/versions"), 404) == "10005"


def test_tags_are_stored_on_the_assistant(api: httpx.Client) -> None:
    a = create(api, tags=["prod", "voice", "prod"])
    assert a["tags"] == ["prod", "voice"]
    b = create(api)
    assert ok(api.post(f"/ai/assistants/{b['id']}/tags", json={"tag": "beta"}))["tags"] == ["beta"]
    assert ok(api.post(f"/ai/assistants/{b['id']}/tags", json={"tag": "beta"}))["tags"] == ["beta"]
    assert ok(api.get("/ai/assistants/tags"))["tags"] == ["beta", "prod", "voice"]
    assert ok(api.get(f"/ai/assistants/{b['id']}"))["tags"] == ["beta"]
    assert ok(api.delete(f"/ai/assistants/{a['id']}/tags/voice"))["tags"] == ["prod"]
    ok(api.post(f"/ai/assistants/{a['id']}", json={"tags": ["a/b"]}))
    assert ok(api.delete(f"/ai/assistants/{a['id']}/tags/a%2Fb"))["tags"] == []


def test_references_to_unknown_tools_and_mcp_servers_are_422(api: httpx.Client) -> None:
    response = api.post("/ai/assistants", json={**BASE, "tool_ids": ["nope"], "mcp_servers": [{"id": "gone"}]})
    assert response.status_code == 422
    assert [d["loc"] for d in response.json()["detail"]] == [["body", "tool_ids", 0],
                                                             ["body", "mcp_servers", 0, "id"]]
    assert ok(api.get("/ai/assistants"))["data"] == []


def test_shared_tools_definition_patch_attach_and_delete(api: httpx.Client) -> None:
    hook = {"name": "h", "description": "d", "url": "https://a"}
    tool = ok(api.post("/ai/tools", json={"type": "webhook", "display_name": "t", "webhook": hook, "x": 1}))
    assert tool["tool_definition"] == {"type": "webhook", "webhook": hook, "x": 1}
    assert tool["timeout_ms"] == 5000 and tool["created_at"]
    patched = ok(api.patch(f"/ai/tools/{tool['id']}", json={"webhook": {"url": "https://b"}, "display_name": "u"}))
    assert patched["tool_definition"] == {"type": "webhook", "webhook": {"url": "https://b"}, "x": 1}
    assert patched["display_name"] == "u" and patched["timeout_ms"] == 5000
    other = ok(api.post("/ai/tools", json={"type": "function", "display_name": "f", "function": {}}))
    bot = create(api, tool_ids=[other["id"]])
    ok(api.put(f"/ai/assistants/{bot['id']}/tools/{tool['id']}"))
    ok(api.put(f"/ai/assistants/{bot['id']}/tools/{tool['id']}"))
    assert ok(api.get(f"/ai/assistants/{bot['id']}"))["tool_ids"] == [other["id"], tool["id"]]
    assert ok(api.delete(f"/ai/tools/{other['id']}")) == {}
    assert ok(api.get(f"/ai/assistants/{bot['id']}"))["tool_ids"] == [tool["id"]]
    ok(api.delete(f"/ai/assistants/{bot['id']}/tools/{tool['id']}"))
    assert ok(api.get(f"/ai/assistants/{bot['id']}"))["tool_ids"] == []
    assert error_code(api.put(f"/ai/assistants/{bot['id']}/tools/{other['id']}"), 404) == "10005"


def test_a_tool_patched_to_another_type_keeps_only_the_new_types_payload(api: httpx.Client) -> None:
    # SDK 4.189.0 ToolUpdateParams: `type` is updatable, every payload is a Dict (never None).
    hook = {"name": "h", "description": "d", "url": "https://a"}
    tool = ok(api.post("/ai/tools", json={"type": "webhook", "display_name": "t", "webhook": hook, "x": 1}))
    path = f"/ai/tools/{tool['id']}"
    refused = api.patch(path, json={"type": "function", "function": {"name": "f"}, "webhook": None})
    assert refused.status_code == 422
    assert [d["loc"] for d in refused.json()["detail"]] == [["body", "webhook"]]
    assert ok(api.get(path))["tool_definition"] == {"type": "webhook", "webhook": hook, "x": 1}
    same_type = ok(api.patch(path, json={"type": "webhook", "function": {"name": "f"}}))
    assert same_type["tool_definition"] == {"type": "webhook", "webhook": hook, "x": 1, "function": {"name": "f"}}
    changed = ok(api.patch(path, json={"type": "function", "function": {"name": "g"}}))
    assert changed["type"] == "function"
    assert changed["tool_definition"] == {"type": "function", "function": {"name": "g"}, "x": 1}


def test_tool_list_filters_and_pagination(api: httpx.Client) -> None:
    for i in range(5):
        ok(api.post("/ai/tools", json={"type": "webhook" if i % 2 else "retrieval", "display_name": f"t{i}"}))
    page = ok(api.get("/ai/tools", params={"page[size]": 2, "page[number]": 3}))
    assert len(page["data"]) == 1
    assert page["meta"] == {"page_number": 3, "page_size": 2, "total_pages": 3, "total_results": 5}
    assert [t["display_name"] for t in ok(api.get("/ai/tools", params={"filter[type]": "webhook"}))["data"]] == [
        "t1", "t3"]
    assert [t["display_name"] for t in ok(api.get("/ai/tools", params={"filter[name]": "t"}))["data"]] == []
    assert [t["display_name"] for t in ok(api.get("/ai/tools", params={"filter[name]": "t2"}))["data"]] == ["t2"]
    for bad in ({"page[size]": 0}, {"page[size]": 101}, {"page[number]": 0}, {"page[size]": "x"}):
        response = api.get("/ai/tools", params=bad)
        assert response.status_code == 422
        assert response.json()["detail"][0]["loc"] == ["query", next(iter(bad))]


def test_mcp_servers_put_keeps_omitted_fields_and_delete_detaches(api: httpx.Client) -> None:
    server = ok(api.post("/ai/mcp_servers", json={"name": "m", "type": "sse", "url": "https://m",
                                                  "allowed_tools": ["a"]}))
    updated = ok(api.put(f"/ai/mcp_servers/{server['id']}", json={"url": "https://n", "api_key_ref": None}))
    assert updated["allowed_tools"] == ["a"] and updated["url"] == "https://n" and updated["api_key_ref"] is None
    ok(api.post("/ai/mcp_servers", json={"name": "m2", "type": "http", "url": "https://o"}))
    assert isinstance(ok(api.get("/ai/mcp_servers")), list)
    assert [s["name"] for s in ok(api.get("/ai/mcp_servers", params={"type": "http"}))] == ["m2"]
    assert [s["name"] for s in ok(api.get("/ai/mcp_servers", params={"page[size]": 1, "page[number]": 2}))] == ["m2"]
    assert ok(api.get("/ai/mcp_servers", params={"page[number]": 3})) == []
    bot = create(api, mcp_servers=[{"id": server["id"], "allowed_tools": ["a"]}])
    assert bot["mcp_servers"] == [{"id": server["id"], "allowed_tools": ["a"]}]
    deleted = api.delete(f"/ai/mcp_servers/{server['id']}")
    assert deleted.status_code == 200 and deleted.content == b""
    assert ok(api.get(f"/ai/assistants/{bot['id']}"))["mcp_servers"] == []


def test_idempotency_key_replays_the_first_response(api: httpx.Client) -> None:
    first = api.post("/ai/assistants", json=BASE, headers={"Idempotency-Key": "k1"})
    again = api.post("/ai/assistants", json=BASE, headers={"Idempotency-Key": "k1"})
    assert first.status_code == again.status_code == 200 and first.json() == again.json()
    tool = api.post("/ai/tools", json={"type": "webhook", "display_name": "t"}, headers={"Idempotency-Key": "k1"})
    assert tool.status_code == 200 and tool.json()["id"] != first.json()["id"]  # same key, other path
    other = api.post("/ai/assistants", json=BASE, headers={"Idempotency-Key": "k2"})
    assert other.json()["id"] != first.json()["id"]
    assert len(ok(api.get("/ai/assistants"))["data"]) == 2


def test_clone_and_import(api: httpx.Client) -> None:
    bot = create(api, greeting="g", tags=["x"])
    copy = ok(api.post(f"/ai/assistants/{bot['id']}/clone"))
    assert copy["id"] != bot["id"] and copy["greeting"] == "g" and copy["version_id"] != bot["version_id"]
    assert "telephony_settings" not in copy and "messaging_settings" not in copy
    body = {"provider": "retell", "api_key_ref": "k", "import_ids": ["r1", "r2"]}
    first = ok(api.post("/ai/assistants/import", json=body))["data"]
    again = ok(api.post("/ai/assistants/import", json=body))["data"]
    assert [a["id"] for a in first] == [a["id"] for a in again]  # re-import overwrites in place
    assert len(ok(api.get("/ai/assistants"))["data"]) == 4


def test_chat_is_deterministic_and_sms_reuses_conversations(api: httpx.Client) -> None:
    bot = create(api)
    body = {"content": "hello", "conversation_id": "c"}
    assert ok(api.post(f"/ai/assistants/{bot['id']}/chat", json=body)) == ok(
        api.post(f"/ai/assistants/{bot['id']}/chat", json=body))
    sms = {"from": "+1", "to": "+2"}
    first = ok(api.post(f"/ai/assistants/{bot['id']}/chat/sms", json=sms))["conversation_id"]
    assert ok(api.post(f"/ai/assistants/{bot['id']}/chat/sms", json=sms))["conversation_id"] == first
    fresh = ok(api.post(f"/ai/assistants/{bot['id']}/chat/sms", json={**sms, "should_create_conversation": True}))
    assert fresh["conversation_id"] != first
    assert isinstance(ok(api.get(f"/ai/assistants/{bot['id']}/texml")), str)
