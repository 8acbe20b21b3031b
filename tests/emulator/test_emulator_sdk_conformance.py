"""Conformance: the official SDK (telnyx==4.122.0) drives every emulated operation over real loopback
HTTP, and every response parses into the SDK's own models (validated, not just constructed)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, cast

import httpx
import pytest

from reconciler.emulator.app import EmulatorApp


def test_every_operation_through_the_official_sdk(sdk: Callable[..., Any], recorder: Any) -> None:
    mcp = sdk("ai.mcp_servers.create", name="docs", type="sse", url="https://mcp.example.com/sse",
              allowed_tools=["search"])
    assert sdk("ai.mcp_servers.retrieve", mcp.id).url == "https://mcp.example.com/sse"
    assert sdk("ai.mcp_servers.update", mcp.id, name="docs-2").allowed_tools == ["search"]
    assert [s.id for s in sdk("ai.mcp_servers.list", type="sse")] == [mcp.id]

    tool = sdk("ai.tools.create", display_name="lookup", type="webhook",
               webhook={"name": "lookup", "description": "Find an order", "url": "https://example.com/hook"})
    assert tool.tool_definition == {"type": "webhook", "webhook": {
        "name": "lookup", "description": "Find an order", "url": "https://example.com/hook"}}
    assert sdk("ai.tools.retrieve", tool.id).timeout_ms == 5000
    assert sdk("ai.tools.update", tool.id, timeout_ms=7000).timeout_ms == 7000
    assert [t.id for t in sdk("ai.tools.list", filter_name="lookup", filter_type="webhook").data] == [tool.id]

    a = "ai.assistants"
    bot = sdk(f"{a}.create", name="support", model="openai/gpt-4o", instructions="Be kind.",
              tool_ids=[tool.id], telephony_settings={"supports_unauthenticated_web_calls": True},
              extra_body={"tags": ["prod"], "mcp_servers": [{"id": mcp.id}]})
    assert bot.id.startswith("assistant-")
    assert bot.telephony_settings.default_texml_app_id
    assert sdk(f"{a}.retrieve", bot.id).name == "support"
    assert [x.id for x in sdk(f"{a}.list").data] == [bot.id]
    assert sdk(f"{a}.update", bot.id, greeting="Hello!").greeting == "Hello!"
    draft = sdk(f"{a}.update", bot.id, greeting="Hi there", promote_to_main=False,
                extra_body={"version_name": "draft"})
    v = f"{a}.versions"
    versions = sdk(f"{v}.list", bot.id).data
    assert len(versions) == 2
    draft_id = draft.version_id
    assert sdk(f"{v}.retrieve", draft_id, assistant_id=bot.id).greeting == "Hi there"
    assert sdk(f"{v}.update", draft_id, assistant_id=bot.id, description="draft").description == "draft"

    c = f"{a}.canary_deploys"
    # The legacy `versions` body through extra_body until the emulator takes `rules` (issue 10).
    canary = sdk(f"{c}.create", bot.id, extra_body={"versions": [{"version_id": draft_id, "percentage": 10}]})
    assert canary.rules[0].serve.rollout[0].weight == 10
    assert sdk(f"{c}.retrieve", bot.id).assistant_id == bot.id
    updated = sdk(f"{c}.update", bot.id, extra_body={"versions": [{"version_id": draft_id, "percentage": 25}]})
    assert updated.rules[0].serve.rollout[0].weight == 25
    assert sdk(f"{c}.delete", bot.id, status=204) is None
    sdk(f"{c}.create", bot.id, extra_body={"versions": [{"version_id": draft_id, "percentage": 5}]})
    old_main = bot.version_id
    assert sdk(f"{v}.promote", draft_id, assistant_id=bot.id).greeting == "Hi there"
    assert sdk(f"{v}.delete", old_main, assistant_id=bot.id, status=204) is None

    t = f"{a}.tags"
    assert sdk(f"{t}.add", bot.id, tag="beta").tags == ["prod", "beta"]
    assert sdk(f"{t}.list").tags == ["beta", "prod"]
    assert sdk(f"{t}.remove", "beta", assistant_id=bot.id).tags == ["prod"]

    assert sdk(f"{a}.tools.remove", tool.id, assistant_id=bot.id) == {}
    assert sdk(f"{a}.tools.add", tool.id, assistant_id=bot.id) == {}
    assert sdk(f"{a}.tools.test", tool.id, assistant_id=bot.id, arguments={"order": 1}).data.success
    assert "support" in sdk(f"{a}.chat", bot.id, content="hi", conversation_id="c1").content
    assert sdk(f"{a}.send_sms", bot.id, from_="+15550001", to="+15550002").conversation_id
    copy = sdk(f"{a}.clone", bot.id)
    assert copy.id != bot.id and copy.telephony_settings is None
    imported = sdk(f"{a}.imports", provider="vapi", api_key_ref="vapi-key", import_ids=["x1"]).data
    assert imported[0].import_metadata.import_provider == "vapi"
    assert "<Response>" in sdk(f"{a}.get_texml", bot.id)

    e = f"{a}.scheduled_events"
    event = sdk(f"{e}.create", bot.id, scheduled_at_fixed_datetime="2030-01-01T10:00:00Z", status=201,
                telnyx_agent_target="+15550001", telnyx_end_user_target="+15550002",
                telnyx_conversation_channel="sms_chat", text="Reminder")
    assert [x.scheduled_event_id for x in sdk(f"{e}.list", bot.id)] == [event.scheduled_event_id]
    assert sdk(f"{e}.retrieve", event.scheduled_event_id, assistant_id=bot.id).text == "Reminder"
    assert sdk(f"{e}.delete", event.scheduled_event_id, assistant_id=bot.id) is None

    ts = f"{a}.tests"
    test = sdk(f"{ts}.create", name="greets", destination="+15550003", instructions="Say hi", status=201,
               rubric=[{"name": "Polite", "criteria": "Says hello"}], test_suite="smoke")
    assert test.telnyx_conversation_channel == "web_chat"
    assert [x.test_id for x in sdk(f"{ts}.list", test_suite="smoke")] == [test.test_id]
    assert sdk(f"{ts}.retrieve", test.test_id).name == "greets"
    assert sdk(f"{ts}.update", test.test_id, max_duration_seconds=60).max_duration_seconds == 60
    assert sdk(f"{ts}.test_suites.list").data == ["smoke"]
    run = sdk(f"{ts}.runs.trigger", test.test_id, status=201)
    assert [r.run_id for r in sdk(f"{ts}.runs.list", test.test_id)] == [run.run_id]
    # Runs take time (emulator/testruns.py; tests/gates pins the progression).
    assert sdk(f"{ts}.runs.retrieve", run.run_id, test_id=test.test_id).status in ("pending", "running", "passed")
    batch = sdk(f"{ts}.test_suites.runs.trigger", "smoke", destination_version_id=draft_id, status=201)
    assert len(batch) == 1
    assert len(list(sdk(f"{ts}.test_suites.runs.list", "smoke"))) == 1
    assert sdk(f"{ts}.delete", test.test_id) is None

    # 4.189.0 declares no answer body here; the emulator still sends the seed era's `{}` (issue 10).
    assert cast(Any, sdk).client.ai.tools.with_raw_response.delete(tool.id).http_response.status_code == 200
    assert sdk("ai.mcp_servers.delete", mcp.id) is None
    assert sdk(f"{a}.retrieve", bot.id).model_extra["tool_ids"] == []
    assert sdk(f"{a}.delete", bot.id).deleted is True

    if recorder.spec is not None:
        succeeded = {(m, p) for m, p, s in recorder.seen if 200 <= s < 300}
        missing = sorted((o.method, o.path) for o in recorder.operations if (o.method, o.path) not in succeeded)
        assert not missing, f"operations never exercised: {missing}"


def test_error_statuses_map_to_the_sdk_exceptions(emulator: Any, recorder: Any) -> None:
    telnyx = pytest.importorskip("telnyx")
    http = httpx.Client(timeout=10, event_hooks={"response": [recorder.hook]})
    client = telnyx.Telnyx(api_key="k", base_url=f"{emulator.url}/v2", max_retries=0, http_client=http)
    with client:
        bot = client.ai.assistants.create(name="n", instructions="i", model="openai/gpt-4o")
        with pytest.raises(telnyx.NotFoundError):
            client.ai.assistants.canary_deploys.retrieve(bot.id)
        with pytest.raises(telnyx.UnprocessableEntityError):
            client.ai.assistants.create(name="n", instructions="i", model="m", tool_ids=["missing"])
        with pytest.raises(telnyx.BadRequestError):
            client.ai.assistants.versions.delete(bot.version_id, assistant_id=bot.id)
        draft = client.ai.assistants.update(bot.id, promote_to_main=False).version_id
        client.ai.assistants.canary_deploys.create(bot.id, extra_body={"versions": [{"version_id": draft,
                                                                                     "percentage": 1}]})
        with pytest.raises(telnyx.ConflictError):
            client.ai.assistants.canary_deploys.create(bot.id, extra_body={"versions": [{"version_id": draft,
                                                                                     "percentage": 1}]})
        httpx.post(f"{emulator.url}/_emulator/faults", json={"rate_limit_per_s": 1}, timeout=5)
        with pytest.raises(telnyx.RateLimitError):
            for _ in range(5):
                client.ai.assistants.list()
        httpx.post(f"{emulator.url}/_emulator/faults", json={"rate_limit_per_s": 0, "error_rate": 1}, timeout=5)
        with pytest.raises(telnyx.InternalServerError):
            client.ai.assistants.list()
    emulator.app.api_key = "only-this"
    with telnyx.Telnyx(api_key="k", base_url=f"{emulator.url}/v2", max_retries=0) as other, pytest.raises(
            telnyx.AuthenticationError):
        other.ai.assistants.list()


def test_async_sdk_through_the_in_process_transport() -> None:
    telnyx = pytest.importorskip("telnyx")
    app = EmulatorApp(latency_ms=20)

    async def main() -> list[str]:
        http = httpx.AsyncClient(transport=app.async_transport(), timeout=10)
        async with telnyx.AsyncTelnyx(api_key="k", base_url="http://emulator.invalid/v2", max_retries=0,
                                      http_client=http) as client:
            created = await asyncio.gather(*(client.ai.assistants.create(name=f"a{i}", instructions="i",
                                                                         model="openai/gpt-4o") for i in range(20)))
            listed = await client.ai.assistants.list()
            assert sorted(a.id for a in listed.data) == sorted(a.id for a in created)
            return [a.name for a in listed.data]

    names = asyncio.run(main())
    assert sorted(names) == sorted(f"a{i}" for i in range(20))
