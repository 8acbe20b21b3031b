"""The per-assistant reads of `live.fetch_live` (a pool of workers, fingerprints taken as answers
arrive) against the real emulator in-process: the same live state and fingerprints as reading
everything first, every read attempted when some fail, and the first failure in read order raised."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Mapping
from pathlib import Path

import pytest

from reconciler import live
from reconciler.emulator.app import EmulatorApp, Reply
from reconciler.emulator.faults import Faults
from reconciler.errors import ApiError
from reconciler.manifest import load
from reconciler.model import DesiredState, LiveState
from tests.support.project import client_for, generate_project


class _Listener:
    def __init__(self) -> None:
        self.events: list[str] = []

    def listed(self, state: LiveState) -> None:
        self.events.append("listed")

    def assistant_read(self, assistant_id: str) -> None:
        self.events.append(assistant_id)


class _FailingApp(EmulatorApp):
    """The emulator, except that the versions and canary reads of the assistants in `fail` answer 403
    (not retried), and every request path is recorded."""

    def __init__(self) -> None:
        super().__init__()
        self.fail: set[str] = set()
        self.paths: list[str] = []

    def dispatch(self, method: str, path: str, query: str, headers: Mapping[str, str], body: bytes) -> Reply:
        self.paths.append(path)
        parts = path.split("/")
        if method == "GET" and len(parts) == 6 and parts[4] in self.fail:
            detail = f'{{"errors":[{{"title":"Forbidden","detail":"no {parts[5]} of {parts[4]}"}}]}}'
            return Reply(403, [("content-type", "application/json")], detail.encode())
        return super().dispatch(method, path, query, headers, body)


def _project(tmp_path: Path, app: EmulatorApp) -> DesiredState:
    generate_project(tmp_path / "project", assistants=24)
    from tests.support.project import apply_paths

    async def seed() -> None:
        async with client_for(app) as client:
            await apply_paths(client, [tmp_path / "project"])

    asyncio.run(seed())
    return load([str(tmp_path / "project")])


def test_fingerprints_taken_as_reads_arrive_are_those_of_the_final_state(tmp_path: Path) -> None:
    app = EmulatorApp()
    desired = _project(tmp_path, app)
    listener = _Listener()

    async def read() -> LiveState:
        async with client_for(app, parallelism=4) as client:
            return await live.fetch_live(client, desired, listener=listener)

    state = asyncio.run(read())
    assert state.versions and state.canaries  # the generated project declares versions and canaries
    assert list(state.fingerprints.items()) == list(live.fingerprints(state).items())
    # The listings are heard of before any assistant, and every read assistant exactly once.
    assert listener.events[0] == "listed"
    assert sorted(listener.events[1:]) == sorted(state.versions)


@pytest.mark.parametrize("parallelism", [1, 3, 16])
def test_every_read_is_attempted_and_the_first_failure_in_order_is_raised(tmp_path: Path, parallelism: int) -> None:
    app = _FailingApp()
    desired = _project(tmp_path, app)
    listing = json.loads(app.dispatch("GET", "/v2/ai/assistants", "", {"authorization": "Bearer k"}, b"").body)
    id_of = {a["name"]: str(a["id"]) for a in listing["data"]}
    listener = _Listener()

    async def first_read_ids() -> list[str]:
        async with client_for(app, parallelism=parallelism) as client:
            state = await live.fetch_live(client, desired)
        return list(state.versions)

    readable = asyncio.run(first_read_ids())
    assert len(readable) >= 3
    order = [id_of[r.name] for r in desired.of_kind("Assistant") if id_of.get(r.name) in readable]  # read order
    app.fail = {order[2], order[1]}
    app.paths.clear()

    async def read() -> None:
        async with client_for(app, parallelism=parallelism) as client:
            await live.fetch_live(client, desired, listener=listener)

    with pytest.raises(ApiError, match=f"no versions of {order[1]}"):
        asyncio.run(read())
    read_paths = {p for p in app.paths if p.endswith(("/versions", "/canary-deploys"))}
    kinds = ("versions", "canary-deploys")
    assert read_paths == {f"/v2/ai/assistants/{aid}/{what}" for aid in readable for what in kinds}
    # The assistants whose reads failed are never planned; every other one is.
    assert set(listener.events[1:]) == set(readable) - app.fail


class _RaisingListener(_Listener):
    def __init__(self, raise_for: str) -> None:
        super().__init__()
        self.raise_for = raise_for

    def assistant_read(self, assistant_id: str) -> None:
        super().assistant_read(assistant_id)
        if assistant_id == self.raise_for:
            raise RuntimeError(f"listener failed for {assistant_id}")


def test_a_listener_failure_is_ordered_with_the_reads_and_stops_no_worker(tmp_path: Path) -> None:
    app = _FailingApp()
    desired = _project(tmp_path, app)
    listing = json.loads(app.dispatch("GET", "/v2/ai/assistants", "", {"authorization": "Bearer k"}, b"").body)
    id_of = {a["name"]: str(a["id"]) for a in listing["data"]}
    order = [id_of[r.name] for r in desired.of_kind("Assistant") if r.versions is not None and r.name in id_of]
    assert len(order) >= 4
    for failing_read, raising in ((order[3], order[0]), (order[0], order[3])):
        app.fail = {failing_read}
        listener = _RaisingListener(raising)

        async def read(listener: _Listener = listener) -> None:
            async with client_for(app, parallelism=2) as client:
                await live.fetch_live(client, desired, listener=listener)

        first = min(order.index(failing_read), order.index(raising))
        with pytest.raises(Exception, match=order[first]) as raised:
            asyncio.run(read())
        assert isinstance(raised.value, ApiError if order[first] == failing_read else RuntimeError)
        # Every other assistant was read and planned, though a worker's listener call failed.
        assert set(listener.events[1:]) == set(order) - {failing_read}


def test_without_fingerprints_the_same_state_is_read_and_a_save_takes_them_itself(tmp_path: Path) -> None:
    """`plan` without --out takes no fingerprints; were such a state ever saved, the saved plan would
    still hold every read's fingerprint (else nothing could make it stale)."""
    from reconciler.apply import binding, savedplan
    from reconciler.planning import planner

    app = EmulatorApp()
    desired = _project(tmp_path, app)

    async def read(fingerprint: bool) -> LiveState:
        async with client_for(app, parallelism=4) as client:
            return await live.fetch_live(client, desired, fingerprint=fingerprint)

    with_prints, without = asyncio.run(read(True)), asyncio.run(read(False))
    assert without.fingerprints == {} and with_prints.fingerprints
    without.fingerprints = with_prints.fingerprints
    assert without == with_prints  # the same reads, values and order
    without.fingerprints = {}
    plan = planner.plan(desired, without)
    savedplan.save(tmp_path / "plan.json", plan, desired, without, prune=False, targets=[],
                   base_url="http://127.0.0.1:9/v2", api_key="test-key")
    saved = json.loads((tmp_path / "plan.json").read_text())
    # As the file keeps them: sealed with the key only the API key gives (apply/binding.py).
    key = binding.check_account(saved["account"], "http://127.0.0.1:9/v2", "test-key", "TELNYX_API_KEY", "plan.json")
    assert saved["fingerprints"] == binding.seal(with_prints.fingerprints, key)


class _SlowListingsApp(_FailingApp):
    """The emulator, except that the tool listing takes `tools_delay_s` and answers 403 when
    `tools_fail` (not retried); `arrived` records when each request arrived (time.monotonic())."""

    def __init__(self) -> None:
        super().__init__()
        self.tools_delay_s = 0.0
        self.tools_fail = False
        self.arrived: list[tuple[str, float]] = []

    def dispatch(self, method: str, path: str, query: str, headers: Mapping[str, str], body: bytes) -> Reply:
        self.arrived.append((path, time.monotonic()))
        reply = super().dispatch(method, path, query, headers, body)
        if method == "GET" and path == "/v2/ai/tools":
            if self.tools_fail:
                reply = Reply(403, [("content-type", "application/json")],
                              b'{"errors":[{"title":"Forbidden","detail":"no tool listing"}]}')
            reply = Reply(reply.status, reply.headers, reply.body, self.tools_delay_s)
        return reply


def test_the_assistant_reads_start_before_the_other_listings_are_in(tmp_path: Path) -> None:
    # The tool listing answers 0.5 s late: the versions and canary reads go out meanwhile, yet the
    # listener hears `listed` first, and the state is the one read in order.
    app = _SlowListingsApp()
    desired = _project(tmp_path, app)
    app.tools_delay_s = 0.5
    app.paths.clear()
    listener = _Listener()

    async def read() -> LiveState:
        async with client_for(app, parallelism=4) as client:
            return await live.fetch_live(client, desired, listener=listener)

    app.arrived.clear()
    state = asyncio.run(read())
    tools_answered = next(t for p, t in app.arrived if p == "/v2/ai/tools") + app.tools_delay_s
    first_read = min(t for p, t in app.arrived if p.endswith(("/versions", "/canary-deploys")))
    assert first_read < tools_answered, "the per-assistant reads waited for the tool listing"
    assert listener.events[0] == "listed"
    assert sorted(listener.events[1:]) == sorted(state.versions)
    assert state.tools and state.mcp_servers
    assert list(state.fingerprints.items()) == list(live.fingerprints(state).items())


def test_a_failed_listing_stops_the_assistant_reads_and_is_raised_first(tmp_path: Path) -> None:
    app = _SlowListingsApp()
    desired = _project(tmp_path, app)
    app.meter.set_faults(Faults(latency_ms=20.0))  # each read 20 ms: 48 of them take ~0.5 s at parallelism 2
    app.tools_delay_s, app.tools_fail = 0.1, True
    app.paths.clear()
    listener = _Listener()

    async def read() -> None:
        async with client_for(app, parallelism=2) as client:
            await live.fetch_live(client, desired, listener=listener)

    with pytest.raises(ApiError, match="no tool listing"):
        asyncio.run(read())
    assert listener.events == []  # neither listed nor any assistant
    reads = [p for p in app.paths if p.endswith(("/versions", "/canary-deploys"))]
    assert 0 < len(reads) < 2 * len(desired.of_kind("Assistant")) // 2  # reading stopped once the listing failed


class _SlowAssistantListingApp(_SlowListingsApp):
    """The emulator, except that the assistant listing answers 50 ms late."""

    def dispatch(self, method: str, path: str, query: str, headers: Mapping[str, str], body: bytes) -> Reply:
        reply = super().dispatch(method, path, query, headers, body)
        if method == "GET" and path == "/v2/ai/assistants":
            return Reply(reply.status, reply.headers, reply.body, 0.05)
        return reply


def test_a_listing_failed_before_the_assistants_are_listed_sends_no_assistant_read(tmp_path: Path) -> None:
    app = _SlowAssistantListingApp()
    desired = _project(tmp_path, app)
    app.tools_fail = True  # answered at once, while the assistant listing is still 50 ms away
    app.paths.clear()

    async def read() -> None:
        async with client_for(app, parallelism=4) as client:
            await live.fetch_live(client, desired)

    with pytest.raises(ApiError, match="no tool listing"):
        asyncio.run(read())
    assert [p for p in app.paths if p.endswith(("/versions", "/canary-deploys"))] == []


class _IdlessListingApp(_SlowListingsApp):
    """The emulator, except that the assistant listing answers 20 ms late with entries that have no
    `id` (reading it then fails in the client), while the tool listing fails at once."""

    def dispatch(self, method: str, path: str, query: str, headers: Mapping[str, str], body: bytes) -> Reply:
        reply = super().dispatch(method, path, query, headers, body)
        if method == "GET" and path == "/v2/ai/assistants" and self.tools_fail:
            listing = json.loads(reply.body)
            for entry in listing["data"]:
                entry.pop("id", None)
            return Reply(reply.status, reply.headers, json.dumps(listing).encode(), 0.02)
        return reply


def test_every_listing_is_settled_whatever_ends_the_read(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    # The assistant listing is unusable (no ids) after the tool listing has already failed: the
    # read ends with the first problem, and the failed tool listing is never left unretrieved
    # (asyncio would log "Task exception was never retrieved" under the error).
    import gc

    app = _IdlessListingApp()
    desired = _project(tmp_path, app)
    app.tools_fail = True

    async def read() -> None:
        async with client_for(app, parallelism=4) as client:
            await live.fetch_live(client, desired)

    with caplog.at_level("ERROR", logger="asyncio"), pytest.raises(Exception):  # noqa: B017
        asyncio.run(read())
    gc.collect()
    assert not [r for r in caplog.records if r.name == "asyncio"], [r.getMessage() for r in caplog.records]
