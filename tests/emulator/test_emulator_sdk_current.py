"""telnyx==4.189.0 as the independent client of the emulator: every operation the SDK has under
/ai/assistants, /ai/tools and /ai/mcp_servers is called with current-era parameters (the scenario of
bench/sdk_operations.py), and every answer is strictly valid for the return type the SDK declares. Then
today's behaviour where it changed: soft delete and restore, the canary rules form (and the legacy
`versions` body), chat `stream`, `instructions/enhance`, scheduled-event `call_settings`, and the
formats and typed query parameters the API validates."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pydantic
import pytest

from bench.sdk_operations import declared_type, run_all, sdk_operations, strict_problem
from tests.support.emulator import Emulator, serve

telnyx = pytest.importorskip("telnyx")
HEADERS = {"Authorization": "Bearer k"}


@pytest.fixture
def live() -> Iterator[Emulator]:
    with serve() as emulator:
        yield emulator


@pytest.fixture
def api(live: Emulator) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=live.base_url, headers=HEADERS, timeout=10) as client:
        yield client


def test_every_operation_of_the_pinned_sdk_is_accepted_and_strictly_valid(live: Emulator) -> None:
    with telnyx.Telnyx(api_key="k", base_url=live.base_url, max_retries=0) as client:
        operations = {o.name for o in sdk_operations(client)}
        outcomes = run_all(client)
    assert telnyx.__version__ == "4.189.0" and len(operations) == 55
    assert not operations - {o.name for o in outcomes}, "never exercised"
    assert [(o.name, o.problem) for o in outcomes if o.problem] == []


def test_the_strict_check_catches_what_a_lenient_parse_lets_through() -> None:
    from telnyx.types.ai.assistants.canary_deploy_response import CanaryDeployResponse

    legacy = b'{"assistant_id": "a", "created_at": "2030-01-01T00:00:00Z", "updated_at": "2030-01-01T00:00:00Z"}'
    assert CanaryDeployResponse.construct(**json.loads(legacy))  # what the SDK itself does: no complaint
    assert "rules" in str(strict_problem(CanaryDeployResponse, legacy))
    typed = legacy[:-1] + b', "rules": [{"serve": {"rollout": [{"version_id": "v", "weight": "10"}]}}]}'
    assert "weight" in str(strict_problem(CanaryDeployResponse, typed))


def _assistant(api: httpx.Client, **fields: Any) -> dict[str, Any]:
    created = api.post("/ai/assistants", json={"name": "n", "instructions": "i", **fields})
    assert created.status_code == 200, created.text
    found: dict[str, Any] = created.json()
    return found


def test_delete_is_soft_and_restorable_and_hard_delete_is_final(api: httpx.Client, live: Emulator) -> None:
    bot = _assistant(api)
    event = api.post(f"/ai/assistants/{bot['id']}/scheduled_events", json={
        "scheduled_at_fixed_datetime": "2030-01-01T09:00:00Z", "telnyx_agent_target": "+15550001111",
        "telnyx_conversation_channel": "phone_call", "telnyx_end_user_target": "+15550002222"}).json()
    assert api.delete(f"/ai/assistants/{bot['id']}").json() == {"id": bot["id"], "object": "assistant", "deleted": True}
    assert api.get(f"/ai/assistants/{bot['id']}").status_code == 404
    assert bot["id"] not in [a["id"] for a in api.get("/ai/assistants").json()["data"]]
    with telnyx.Telnyx(api_key="k", base_url=live.base_url, max_retries=0) as client:
        (listed,) = client.ai.assistants.deleted.list().data
        one = client.ai.assistants.deleted.get(bot["id"])
    assert listed.id == one.id == bot["id"] and one.permanently_deleted_at > one.deleted_at
    restored = api.post(f"/ai/assistants/{bot['id']}/restore")
    assert restored.status_code == 200 and restored.json() == api.get(f"/ai/assistants/{bot['id']}").json()
    assert api.get(f"/ai/assistants/{bot['id']}/scheduled_events/{event['scheduled_event_id']}").status_code == 200
    assert api.get(f"/ai/assistants/{bot['id']}/deleted").status_code == 404
    assert api.post(f"/ai/assistants/{bot['id']}/restore").status_code == 404

    assert api.delete(f"/ai/assistants/{bot['id']}", params={"hard_delete": "true"}).status_code == 200
    assert api.get(f"/ai/assistants/{bot['id']}/deleted").status_code == 404
    assert api.get("/ai/assistants/deleted").json()["data"] == []
    # Hard-deleting one already in the Recently Deleted list purges it.
    other = _assistant(api)
    api.delete(f"/ai/assistants/{other['id']}")
    assert api.delete(f"/ai/assistants/{other['id']}", params={"hard_delete": "1"}).status_code == 200
    assert api.get(f"/ai/assistants/{other['id']}/deleted").status_code == 404


def test_canary_rules_in_every_answer_and_the_legacy_body_still_taken(api: httpx.Client) -> None:
    bot = _assistant(api)
    draft = api.post(f"/ai/assistants/{bot['id']}", json={"promote_to_main": False}).json()["version_id"]
    url = f"/ai/assistants/{bot['id']}/canary-deploys"
    targeted = [{"match": [{"attribute": "from", "operator": "starts_with", "values": ["+4420"]}],
                 "serve": {"version_id": draft}},
                {"serve": {"rollout": [{"version_id": draft, "weight": 12.5}]}}]
    created = api.post(url, json={"rules": targeted})
    assert created.status_code == 200 and created.json()["rules"] == targeted
    assert "versions" not in created.json()  # a targeted rule has no legacy equivalent
    from telnyx.types.ai.assistants.canary_deploy_response import CanaryDeployResponse

    assert strict_problem(CanaryDeployResponse, api.get(url).content) is None
    deleting = api.delete(f"/ai/assistants/{bot['id']}/versions/{draft}")
    assert deleting.status_code == 400  # a rule serves it
    legacy = api.put(url, json={"versions": [{"version_id": draft, "percentage": 20}]})
    assert legacy.status_code == 200
    assert legacy.json()["rules"] == [{"serve": {"rollout": [{"version_id": draft, "weight": 20}]}}]
    assert legacy.json()["versions"] == [{"version_id": draft, "percentage": 20}]

    def problems(rules: Any) -> list[Any]:
        answer = api.put(url, json={"rules": rules})
        assert answer.status_code == 422, answer.text
        return [d["loc"] for d in answer.json()["detail"]]

    assert problems([{"serve": {"version_id": draft, "rollout": [{"version_id": draft, "weight": 1}]}}])
    assert problems([{"serve": {"rollout": [{"version_id": draft, "weight": 100}]}}])
    assert problems([{"serve": {"version_id": "no-such-version"}}]) == [["body", "rules", 0, "serve", "version_id"]]
    assert problems([{"match": [{"attribute": "from", "operator": "ends_with", "values": ["1"]}],
                      "serve": {"version_id": draft}}])
    assert api.delete(url).status_code == 204


def test_chat_streams_server_sent_events_when_asked(api: httpx.Client) -> None:
    bot = _assistant(api, name="helper")
    plain = api.post(f"/ai/assistants/{bot['id']}/chat", json={"content": "hi there", "conversation_id": "c"})
    assert plain.headers["content-type"] == "application/json"
    streamed = api.post(f"/ai/assistants/{bot['id']}/chat",
                        json={"content": "hi there", "conversation_id": "c", "stream": True})
    assert streamed.status_code == 200 and streamed.headers["content-type"].startswith("text/event-stream")
    events = [dict(line.split(": ", 1) for line in block.splitlines()) for block in streamed.text.split("\n\n")
              if block]
    assert {e["event"] for e in events[:-1]} == {"delta"} and events[-1]["event"] == "done"
    done = json.loads(events[-1]["data"])
    assert "".join(json.loads(e["data"])["content"] for e in events[:-1]) == done["content"]
    from telnyx.types.ai.assistant_chat_response import AssistantChatResponse

    assert done["content"] == plain.json()["content"]
    AssistantChatResponse.model_validate_json(events[-1]["data"], strict=True)


def test_enhance_answers_plain_text(api: httpx.Client) -> None:
    bot = _assistant(api, instructions="Help callers.")
    own = api.post(f"/ai/assistants/{bot['id']}/instructions/enhance", headers={"Accept": "text/plain"})
    assert own.headers["content-type"].startswith("text/plain") and own.text == "Help callers."
    guided = api.post(f"/ai/assistants/{bot['id']}/instructions/enhance",
                      json={"instructions": "Be nice.", "enhancement_prompt": "Mention hours."})
    assert guided.text == "Be nice.\n\nMention hours."
    assert api.get(f"/ai/assistants/{bot['id']}").json()["instructions"] == "Help callers."  # nothing stored


def test_scheduled_call_settings_and_retries(api: httpx.Client) -> None:
    bot = _assistant(api)
    base = {"scheduled_at_fixed_datetime": "2030-01-01T09:00:00Z", "telnyx_agent_target": "+15550001111",
            "telnyx_end_user_target": "+15550002222"}
    url = f"/ai/assistants/{bot['id']}/scheduled_events"
    call = api.post(url, json={**base, "telnyx_conversation_channel": "phone_call",
                               "call_settings": {"sip_region": "Europe"}, "max_retries_client_errors": 2,
                               "retry_interval_secs": 300})
    assert call.status_code == 201
    assert call.json()["call_settings"] == {"sip_region": "Europe"} and call.json()["retry_interval_secs"] == 300
    sms = api.post(url, json={**base, "telnyx_conversation_channel": "sms_chat", "text": "hi",
                              "call_settings": {"sip_region": "US"}})
    assert sms.status_code == 422 and sms.json()["detail"][0]["loc"] == ["body", "call_settings"]
    region = api.post(url, json={**base, "telnyx_conversation_channel": "phone_call",
                                 "call_settings": {"sip_region": "Mars"}})
    assert region.status_code == 422


def test_formats_and_typed_query_parameters_are_422_in_fastapi_shape(api: httpx.Client) -> None:
    bot = _assistant(api)
    when = api.post(f"/ai/assistants/{bot['id']}/scheduled_events", json={
        "scheduled_at_fixed_datetime": "next tuesday", "telnyx_agent_target": "+1", "telnyx_end_user_target": "+2",
        "telnyx_conversation_channel": "phone_call"})
    assert when.status_code == 422
    assert when.json()["detail"][0] | {"input": None} == {
        "loc": ["body", "scheduled_at_fixed_datetime"], "type": "datetime_from_date_parsing",
        "msg": "Input should be a valid datetime or date", "input": None}
    audio: dict[str, Any] = {"voice": "Telnyx.KokoroTTS.af",
                             "background_audio": {"type": "media_url", "value": "not a url"}}
    url = api.post("/ai/assistants", json={"name": "n", "instructions": "i", "voice_settings": audio})
    assert url.status_code == 422, url.text
    assert [(d["loc"], d["type"]) for d in url.json()["detail"]] == [
        (["body", "voice_settings", "background_audio", "value"], "url_parsing")]
    audio["background_audio"]["value"] = "https://example.com/office.mp3"
    fixed = api.post("/ai/assistants", json={"name": "n", "instructions": "i", "voice_settings": audio})
    assert fixed.status_code == 200, fixed.text
    for path, params, name, kind in [
        (f"/ai/assistants/{bot['id']}", {"hard_delete": "maybe"}, "hard_delete", "bool_parsing"),
        (f"/ai/assistants/{bot['id']}/scheduled_events", {"from_date": "yesterday"}, "from_date",
         "datetime_from_date_parsing"),
        (f"/ai/assistants/{bot['id']}/scheduled_events", {"conversation_channel": "fax"}, "conversation_channel",
         "enum"),
        ("/ai/tools", {"page[size]": "ten"}, "page[size]", "int_parsing"),
        ("/ai/assistants/deleted", {"page[number]": "0"}, "page[number]", "greater_than_equal"),
    ]:
        method = "DELETE" if "hard_delete" in params else "GET"
        answer = api.request(method, path, params=params)
        assert answer.status_code == 422, (path, answer.text)
        (problem,) = answer.json()["detail"]
        assert problem["loc"] == ["query", name] and problem["type"] == kind, problem
    assert api.get(f"/ai/assistants/{bot['id']}").status_code == 200  # the refused delete did nothing


def test_declared_types_come_from_the_sdk_itself() -> None:
    with telnyx.Telnyx(api_key="k", base_url="http://127.0.0.1:9/v2", max_retries=0) as client:
        from telnyx.types.ai.assistants.deleted_assistant import DeletedAssistant

        kind = declared_type(client, "ai.assistants.deleted.get")
        assert kind is DeletedAssistant
        assert isinstance(pydantic.TypeAdapter(kind), pydantic.TypeAdapter)


def test_the_tool_payload_keys_are_the_sdks_in_both_tables() -> None:
    # The emulator keeps its own table (it is the API, not reconciler's client); both must be the
    # payload keys of the SDK's tool update: every key of ToolUpdateParams but the tool's own fields.
    from telnyx.types.ai.tool_update_params import ToolUpdateParams

    from reconciler import kinds
    from reconciler.emulator import resources

    sdk = set(ToolUpdateParams.__annotations__) - {"type", "display_name", "timeout_ms"}
    assert sdk == set(kinds.TOOL_PAYLOAD_KEYS) == set(resources.TOOL_PAYLOAD_KEYS)
