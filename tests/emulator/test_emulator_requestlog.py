"""The request log (`GET /_emulator/requests`): what /v2 was asked and answered, in order, with parsed
bodies and statuses; cleared by reset; bounded; and never holding the API key."""

from __future__ import annotations

import json
from collections.abc import Callable

import httpx

from reconciler.emulator.app import EmulatorApp
from reconciler.emulator.requestlog import MAX_ONE_BODY, RequestLog
from tests.emulator.conftest import API_KEY, Emulator


def test_the_log_holds_each_v2_request_in_order_with_its_body_and_status(
        api: httpx.Client, control: httpx.Client) -> None:
    bot = api.post("/ai/assistants", json={"name": "n", "instructions": "i"}).json()
    api.post(f"/ai/assistants/{bot['id']}", json={"greeting": "hello", "tool_ids": []})
    api.get("/ai/tools", params={"page[size]": 5})
    api.post("/ai/assistants", json={"name": "no instructions"})  # 422
    api.get("/ai/assistants/assistant-nope")  # 404
    control.get("/_emulator/stats")  # control requests are not /v2 requests: not logged

    log = control.get("/_emulator/requests").json()
    assert log["total"] == 5 and log["dropped"] == 0
    assert [(e["seq"], e["method"], e["path"], e["status"]) for e in log["data"]] == [
        (1, "POST", "/v2/ai/assistants", 200),
        (2, "POST", f"/v2/ai/assistants/{bot['id']}", 200),
        (3, "GET", "/v2/ai/tools", 200),
        (4, "POST", "/v2/ai/assistants", 422),
        (5, "GET", "/v2/ai/assistants/assistant-nope", 404),
    ]
    assert [e["body"] for e in log["data"]] == [
        {"name": "n", "instructions": "i"}, {"greeting": "hello", "tool_ids": []}, None,
        {"name": "no instructions"}, None]
    assert log["data"][2]["query"] == {"page[size]": "5"}
    assert [e["seq"] for e in control.get("/_emulator/requests", params={"since": 3}).json()["data"]] == [4, 5]
    assert control.get("/_emulator/requests", params={"since": "x"}).status_code == 422


def test_the_api_key_never_reaches_the_log(emulator: Emulator, make_client: Callable[..., httpx.Client],
                                           control: httpx.Client) -> None:
    emulator.app.api_key = API_KEY
    make_client(f"{emulator.url}/v2").get("/ai/assistants")
    make_client(f"{emulator.url}/v2", key="wrong-key-sk-99").get("/ai/assistants")  # 401, still logged
    raw = control.get("/_emulator/requests").text
    assert [e["status"] for e in json.loads(raw)["data"]] == [200, 401]
    assert API_KEY not in raw and "wrong-key-sk-99" not in raw and "Bearer" not in raw


def test_reset_and_clear_empty_the_log(api: httpx.Client, control: httpx.Client) -> None:
    api.get("/ai/assistants")
    control.post("/_emulator/reset", json={"stats_only": True})
    assert control.get("/_emulator/requests").json() == {"data": [], "total": 0, "dropped": 0}
    api.get("/ai/assistants")
    api.get("/ai/tools")
    assert control.post("/_emulator/requests/clear").status_code == 200
    assert control.get("/_emulator/requests").json()["data"] == []
    api.get("/ai/tools")
    control.post("/_emulator/reset")
    assert control.get("/_emulator/requests").json()["total"] == 0


def test_bodies_that_are_not_json_are_shown_as_text_and_huge_ones_by_size(api: httpx.Client,
                                                                           control: httpx.Client) -> None:
    api.post("/ai/assistants", content=b"{not json", headers={"content-type": "application/json"})
    api.post("/ai/assistants", content=b"[" * 5000 + b"]" * 5000, headers={"content-type": "application/json"})
    api.post("/ai/tools", content=b"x" * (MAX_ONE_BODY + 1), headers={"content-type": "application/json"})
    entries = control.get("/_emulator/requests").json()["data"]
    assert [e["status"] for e in entries] == [422, 422, 422]
    assert entries[0]["body"] is None and entries[0]["body_text"] == "{not json"
    assert entries[1]["body"] is None and len(entries[1]["body_text"]) == 10000
    assert entries[2]["body"] is None and entries[2]["body_omitted_bytes"] == MAX_ONE_BODY + 1


def test_the_log_is_bounded_by_entries_and_by_body_bytes() -> None:
    log = RequestLog(max_entries=3, max_body_bytes=10)
    for i in range(5):
        log.record("GET", f"/v2/ai/tools/{i}", "", b"", 200)
    held = log.to_json()
    assert [e["path"] for e in held["data"]] == ["/v2/ai/tools/2", "/v2/ai/tools/3", "/v2/ai/tools/4"]
    assert (held["total"], held["dropped"]) == (5, 2)
    log.record("POST", "/v2/ai/tools", "", b'"123456"', 200)
    log.record("POST", "/v2/ai/tools", "", b'"abcdef"', 200)  # 16 body bytes: oldest entries go until <= 10
    held = log.to_json()
    assert [e["body"] for e in held["data"]] == ["abcdef"] and (held["total"], held["dropped"]) == (7, 6)


def test_the_in_process_transport_logs_too() -> None:
    app = EmulatorApp()
    with httpx.Client(transport=app.transport(), base_url="http://emulator/v2",
                      headers={"Authorization": "Bearer k"}) as client:
        client.post("/ai/tools", json={"type": "hangup", "hangup": {}}, params={"x": "1"})
    (entry,) = app.requests.to_json()["data"]
    assert (entry["method"], entry["path"], entry["query"]) == ("POST", "/v2/ai/tools", {"x": "1"})
    assert entry["body"] == {"type": "hangup", "hangup": {}}
