"""Control endpoints: stats, reset, injected errors (some after the write landed), the rate limit, and
latency that overlaps instead of serialising (over real HTTP and through the async transport)."""

from __future__ import annotations

import asyncio
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx

from reconciler.emulator.app import EmulatorApp
from tests.support.emulator import CountingApp

BODY = {"name": "n", "instructions": "i"}


def test_stats_count_by_route_template_and_status(api: httpx.Client, control: httpx.Client) -> None:
    bot = api.post("/ai/assistants", json=BODY).json()
    assert control.post("/_emulator/reset", json={"stats_only": True}).status_code == 200
    api.get("/ai/assistants")
    for _ in range(10):
        api.get(f"/ai/assistants/{bot['id']}/versions")
    api.get("/ai/assistants/assistant-nope")
    assert control.get("/_emulator/stats").json() == {
        "total": 12,
        "by_route": {"GET /v2/ai/assistants": 1, "GET /v2/ai/assistants/{assistant_id}/versions": 10,
                     "GET /v2/ai/assistants/{assistant_id}": 1},
        "by_status": {"200": 11, "404": 1},
    }
    assert api.get(f"/ai/assistants/{bot['id']}").status_code == 200  # stats_only kept the state
    control.post("/_emulator/reset")
    assert control.get("/_emulator/stats").json() == {"total": 0, "by_route": {}, "by_status": {}}
    assert api.get("/ai/assistants").json() == {"data": []}


def test_faults_endpoint_validates_and_reports_the_active_faults(control: httpx.Client) -> None:
    assert control.post("/_emulator/faults", json={"error_rate": 0.25}).json() == {
        "latency_ms": 0.0, "error_rate": 0.25, "rate_limit_per_s": None, "seed": 0}
    active = control.post("/_emulator/faults", json={"latency_ms": 5, "rate_limit_per_s": 100, "seed": 7}).json()
    assert active == {"latency_ms": 5, "error_rate": 0.25, "rate_limit_per_s": 100, "seed": 7}
    for bad in ({"error_rate": 2}, {"latency_ms": -1}, {"rate_limit_per_s": 1.5}, {"nope": 1}, {"seed": True}):
        response = control.post("/_emulator/faults", json=bad)
        assert response.status_code == 422 and response.json()["detail"][0]["loc"][0] == "body"
    control.post("/_emulator/reset")
    assert control.get("/_emulator/faults").json()["error_rate"] == 0


def statuses(api: httpx.Client, n: int) -> list[int]:
    return [api.post("/ai/assistants", json=BODY).status_code for _ in range(n)]


def test_injected_errors_are_seeded_and_half_land_after_the_write(api: httpx.Client, control: httpx.Client) -> None:
    control.post("/_emulator/faults", json={"error_rate": 1.0, "seed": 7})
    first = statuses(api, 40)
    assert set(first) <= {500, 502, 503} and len(set(first)) > 1
    error = api.get("/ai/assistants")
    assert error.json()["errors"][0]["code"] == "10007"
    control.post("/_emulator/faults", json={"error_rate": 0})
    landed = len(api.get("/ai/assistants").json()["data"])
    assert 10 <= landed <= 30, landed  # the client saw 40 errors, yet some writes happened
    control.post("/_emulator/reset")
    control.post("/_emulator/faults", json={"error_rate": 1.0, "seed": 7})
    assert statuses(api, 40) == first  # same seed, same sequence
    control.post("/_emulator/faults", json={"error_rate": 0})
    assert len(api.get("/ai/assistants").json()["data"]) == landed


def test_default_seed_is_zero_and_partial_error_rates_mix(api: httpx.Client, control: httpx.Client) -> None:
    control.post("/_emulator/faults", json={"error_rate": 0.5})
    seen = [api.get("/ai/assistants").status_code for _ in range(40)]
    assert 200 in seen and any(s >= 500 for s in seen)
    control.post("/_emulator/reset")
    control.post("/_emulator/faults", json={"error_rate": 0.5})
    assert [api.get("/ai/assistants").status_code for _ in range(40)] == seen


def test_rate_limit_answers_429_with_headers(api: httpx.Client, control: httpx.Client) -> None:
    control.post("/_emulator/faults", json={"rate_limit_per_s": 3})
    responses = [api.get("/ai/assistants") for _ in range(10)]
    codes = [r.status_code for r in responses]
    assert 429 in codes and codes.count(200) <= 6  # at most two windows' worth if a second ticked over
    for r in responses:
        assert r.headers["x-ratelimit-limit"] == "3"
        assert 0 <= int(r.headers["x-ratelimit-remaining"]) <= 3
        assert int(r.headers["x-ratelimit-reset"]) == 1
    limited = next(r for r in responses if r.status_code == 429)
    assert limited.json()["errors"][0]["code"] == "10011"
    assert limited.headers["x-ratelimit-remaining"] == "0"
    time.sleep(1.05)
    assert api.get("/ai/assistants").status_code == 200
    stats = control.get("/_emulator/stats").json()
    assert stats["by_status"]["429"] == codes.count(429)
    control.post("/_emulator/reset")
    assert "x-ratelimit-limit" not in api.get("/ai/assistants").headers


def test_latency_applies_over_real_http(start_emulator: Any) -> None:
    emu = start_emulator(latency_ms=50)
    with httpx.Client(base_url=emu.url, headers={"Authorization": "Bearer k"}, timeout=10) as client:
        single = time.perf_counter()
        assert client.get("/v2/ai/assistants").status_code == 200
        # A lower bound only: a loaded machine can make a request slower, never faster. How well
        # latency overlaps across connections is measured by bench/emulator_throughput.py.
        assert time.perf_counter() - single >= 0.05


def test_latency_overlaps_over_real_http(start_emulator: Any) -> None:
    # Serialised, each response would leave the server before the next request is dispatched (at most
    # two in flight); overlapping, nearly all 100 are dispatched while the first still sleeps its 300 ms.
    app = CountingApp(latency_ms=300)
    emu = start_emulator(app)
    limits = httpx.Limits(max_connections=100, max_keepalive_connections=100)
    with httpx.Client(base_url=emu.url, headers={"Authorization": "Bearer k"}, timeout=30,
                      limits=limits) as client, ThreadPoolExecutor(max_workers=100) as pool:

        def get(_: int) -> int:
            status = client.get("/v2/ai/assistants").status_code
            app.arrived()
            return status

        assert list(pool.map(get, range(100))) == [200] * 100
    assert app.most_in_flight >= 10, app.most_in_flight


def test_async_transport_sleeps_without_blocking(recorder: Any) -> None:
    app = CountingApp(latency_ms=300)

    async def hook(response: httpx.Response) -> None:
        await response.aread()
        app.arrived()
        recorder.check(response.request.method, response.request.url.path[3:], response.status_code,
                       response.content)

    async def main() -> list[int]:
        async with httpx.AsyncClient(transport=app.async_transport(), base_url="http://emulator/v2",
                                     headers={"Authorization": "Bearer k"}, timeout=30,
                                     event_hooks={"response": [hook]}) as client:
            created = await client.post("/ai/assistants", json=BODY)
            assert created.status_code == 200
            got = await asyncio.gather(*(client.get("/ai/assistants") for _ in range(100)))
            return [r.status_code for r in got]

    assert asyncio.run(main()) == [200] * 100
    assert app.most_in_flight >= 10, app.most_in_flight


def test_sync_transport_serves_in_process(recorder: Any) -> None:
    app = EmulatorApp(api_key="k")
    with httpx.Client(transport=app.transport(), base_url="http://emulator", timeout=5,
                      event_hooks={"response": [recorder.hook]}) as client:
        assert client.get("/v2/ai/assistants").status_code == 401
        created = client.post("/v2/ai/assistants", json=BODY, headers={"Authorization": "Bearer k"})
        assert created.status_code == 200
        tag = client.post(f"/v2/ai/assistants/{created.json()['id']}/tags", json={"tag": "a b/c"},
                          headers={"Authorization": "Bearer k"})
        assert tag.json() == {"tags": ["a b/c"]}
        removed = client.delete(f"/v2/ai/assistants/{created.json()['id']}/tags/a%20b%2Fc",
                                headers={"Authorization": "Bearer k"})
        assert removed.json() == {"tags": []}
        assert client.get("/_emulator/stats").json()["total"] == 4


def test_retrying_with_the_idempotency_key_after_injected_errors_creates_once(
        api: httpx.Client, control: httpx.Client) -> None:
    control.post("/_emulator/faults", json={"error_rate": 1.0, "seed": 3})
    keys = [f"key-{i}" for i in range(20)]
    for key in keys:
        assert api.post("/ai/assistants", json=BODY, headers={"Idempotency-Key": key}).status_code >= 500
    control.post("/_emulator/faults", json={"error_rate": 0})
    before = len(api.get("/ai/assistants").json()["data"])
    assert 0 < before < 20  # some of the failed creates landed
    ids = [api.post("/ai/assistants", json=BODY, headers={"Idempotency-Key": k}).json()["id"] for k in keys]
    listed = [a["id"] for a in api.get("/ai/assistants").json()["data"]]
    assert len(set(ids)) == 20 and sorted(listed) == sorted(ids)  # one assistant per key, no duplicates


def test_a_failed_state_write_is_a_500_and_is_retried_by_the_next_write(tmp_path: Path) -> None:
    folder = tmp_path / "state"
    app = EmulatorApp(state_file=folder / "state.json")
    headers = {"authorization": "Bearer k", "content-type": "application/json"}
    body = b'{"name": "a", "instructions": "x"}'
    try:
        assert app.handle("POST", "/v2/ai/assistants", "", headers, body)[0] == 200
        (folder / "state.json").unlink()
        folder.rmdir()
        folder.write_text("in the way")  # the folder is now a file: writes fail
        status, _, out = app.handle("POST", "/v2/ai/assistants", "", headers, body)
        assert status == 500 and b"could not save its state file" in out  # not acknowledged
        folder.unlink()  # writable again
        assert app.handle("POST", "/v2/ai/assistants", "", headers, body)[0] == 200
        assert (folder / "state.json").exists()  # saved before that 200, with the earlier change too
    finally:
        app.close()
    restarted = EmulatorApp(state_file=folder / "state.json")
    try:
        listed = restarted.handle("GET", "/v2/ai/assistants", "", headers, b"")
        assert listed[0] == 200 and listed[2].count(b'"name":"a"') == 3
    finally:
        restarted.close()
