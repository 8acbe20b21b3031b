"""Fetch live state, concurrently and only as far as the plan needs it: the assistant, tool and MCP
server listings once each (tools and MCP servers page by page), and versions and canary only for the
assistants whose manifests declare them. Every read is fingerprinted so that a saved plan can prove
nothing changed behind its back."""

from __future__ import annotations

import asyncio
import hashlib
import json
from typing import Any, Protocol

from reconciler.api import reads
from reconciler.api.client import ApiClient, gather_all
from reconciler.kinds import BY_PREFIX, KINDS
from reconciler.model import DesiredState, LiveState
from reconciler.planning import accounts, identity


def fingerprint(value: Any) -> str:
    """A stable hash of a JSON value (key order and whitespace do not matter)."""
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


class LiveListener(Protocol):
    """Told as live state arrives, so that work on what has arrived can overlap the reads in flight."""

    def listed(self, live: LiveState) -> None:
        """The assistant, tool and MCP server listings are in `live`."""

    def assistant_read(self, assistant_id: str) -> None:
        """This assistant's versions (and canary, if read) are in `live`."""


async def fetch_live(client: ApiClient, desired: DesiredState, *, prune: bool = False,
                     listener: LiveListener | None = None, fingerprint: bool = True) -> LiveState:
    """Read what `planner.plan(desired, prune=…)` needs, and nothing more.

    The per-assistant reads need only the assistant listing (the ids, and the account check of
    planning/accounts.py, which stops a plan against another environment's account before any further
    read): they start as soon as it is in, while the tool, MCP server and test listings are still in
    flight (an account's tools come page by page, one round trip each). The listener hears `listed`
    once every listing is in, and of no assistant before that.

    Pruning a tool or MCP server needs proof that no assistant still uses it, named versions
    included: only then, and only when there is a candidate to delete, are the versions of every
    other assistant read too. Whether there is one needs the tool and MCP server listings, so a
    pruning plan waits for every listing before its first per-assistant read.

    `fingerprint=False` leaves `live.fingerprints` empty: for a plan that is only shown, never saved
    nor applied, they would be ~5% of its CPU spent on nothing (savedplan.save takes them itself if
    ever given such a state).
    """
    async def no_tests() -> list[dict[str, Any]]:
        return []

    live = LiveState()

    async def other_listings() -> None:
        live.tools, live.mcp_servers, live.tests = await gather_all(
            reads.list_tools(client),
            reads.list_mcp_servers(client),
            reads.list_tests(client) if needs_tests(desired, prune) else no_tests(),
        )

    others = asyncio.ensure_future(other_listings())
    try:
        live.assistants = await reads.list_assistants(client)
        accounts.check(desired, live)  # another environment's account: no further read
        await _read_per_assistant(client, desired, live, prune, listener, fingerprint, others)
    finally:
        if not others.done():
            others.cancel()  # ended (a failure, the deadline) before the other listings were in
        await _settled(others)  # its outcome retrieved: a failure here has been raised, or is moot
    return live


async def _read_per_assistant(client: ApiClient, desired: DesiredState, live: LiveState, prune: bool,
                              listener: LiveListener | None, fingerprint: bool,
                              others: asyncio.Future[None]) -> None:
    """Once the assistant listing is in `live`: each managed assistant's versions and canary (and,
    when pruning needs it, every other one's versions), then the fingerprints."""
    wanted = [r for r in desired.of_kind("Assistant") if r.versions is not None or r.canary is not None]
    assistants = live.assistants
    matches = identity.match("Assistant", wanted, assistants, identity.repair("Assistant", desired.project, assistants))
    to_read: list[tuple[str, bool]] = []  # (assistant id, canary too?): versions are always read
    for res in wanted:
        obj = matches.live_for.get(res.address)
        if obj is not None:
            # The canary names versions, so reading it needs the versions to make sense of it; and
            # where versions are declared the canary is read too, even when it is not: a version
            # the manifest drops may still receive traffic, and the plan must know before deleting.
            to_read.append((str(obj["id"]), True))

    listings: asyncio.Future[None] | None = others
    if prune or desired.project.prune.enabled:
        await others
        if listener is not None:
            listener.listed(live)
        read_ids = {aid for aid, _ in to_read}
        if _prune_candidates(desired, live):
            to_read += [(str(a["id"]), False) for a in assistants if str(a["id"]) not in read_ids]
        listings = None
    known: dict[int | str, str] | None = {} if fingerprint else None
    await _read_assistants(client, live, to_read, listener, known, listings)
    live.fingerprints = fingerprints(live, known) if known is not None else {}


async def _settled(task: asyncio.Future[None]) -> None:
    """Wait for `task` without raising what it raised (the caller is raising something else)."""
    await asyncio.gather(task, return_exceptions=True)


async def _read_assistants(client: ApiClient, live: LiveState, to_read: list[tuple[str, bool]],
                           listener: LiveListener | None, known: dict[int | str, str] | None,
                           listings: asyncio.Future[None] | None = None) -> None:
    """Each assistant's versions (and canary), by `client.parallelism` workers taking the reads in
    order, so the first requests leave at once (a task per read made 3,000 tasks for 1,000 assistants,
    and the first request waited ~85 ms for all of them to start). The listener hears of each
    assistant when its reads are all in, and after `listed`: while `listings` (the tool, MCP server
    and test listings) are still in flight, the assistants read are held, then told in the order they
    arrived. Each answer is fingerprinted into `known` (None: not at all) as it arrives, which the
    network wait hides, instead of all of them after the last (0.1-0.4 s at 1,000 assistants).

    Every read is attempted; the first failure in the order of the reads (the listings first, then an
    assistant's versions before its canary, assistants in the order given) is raised after all of
    them, as `gather_all` would. A failed listing (or `listed` raising) stops the workers taking more
    reads: the plan cannot be made without it."""
    by_id = {str(a.get("id")): a for a in live.assistants}
    left = {aid: 2 if canary else 1 for aid, canary in to_read}
    jobs = iter(enumerate((aid, what) for aid, canary in to_read
                          for what in (("versions", "canary") if canary else ("versions",))))
    failures: list[tuple[int, BaseException]] = []
    held: list[tuple[int, str]] | None = [] if listings is not None else None  # read before `listed`
    unlisted = False  # a listing failed (or `listed` raised): the plan cannot be made

    def tell(n: int, assistant_id: str) -> None:
        if listener is None:
            return
        try:
            listener.assistant_read(assistant_id)
        except Exception as exc:  # in read order with the reads' failures; the worker goes on
            failures.append((n, exc))

    async def listed() -> None:
        nonlocal held, unlisted
        assert listings is not None and held is not None
        try:
            await listings
            if listener is not None:
                listener.listed(live)
        except Exception as exc:
            failures.append((-1, exc))
            held, unlisted = None, True
            return
        waiting, held = held, None
        for n, assistant_id in waiting:
            tell(n, assistant_id)

    async def worker() -> None:
        for n, (assistant_id, what) in jobs:  # one iterator shared by all workers: each read taken once
            if unlisted:
                return  # no listings, no plan: stop reading
            try:
                got: Any
                if what == "versions":
                    got = live.versions[assistant_id] = await reads.list_versions(client, assistant_id)
                else:
                    got = live.canaries[assistant_id] = await reads.get_canary(client, assistant_id)
                if known is not None:
                    known[_read_key(assistant_id, what)] = fingerprint(got)
            except Exception as exc:  # raised below, once every read was attempted
                failures.append((n, exc))
                left[assistant_id] = -1  # its reads will not all be in: never planned
                continue
            left[assistant_id] -= 1
            if left[assistant_id] == 0:
                listed_obj = by_id.get(assistant_id)
                if listed_obj is not None and known is not None:
                    known[id(listed_obj)] = fingerprint(listed_obj)
                if held is not None:
                    held.append((n, assistant_id))
                elif not unlisted:
                    tell(n, assistant_id)

    workers = [worker() for _ in range(max(1, min(client.parallelism, len(to_read) * 2)))]
    if listings is not None:
        # First: a listing that has already failed stops the workers before any of them sends a read.
        workers.insert(0, listed())
    await gather_all(*workers)
    if failures:
        raise min(failures, key=lambda f: f[0])[1]


def needs_tests(desired: DesiredState, prune: bool) -> bool:
    """Whether the plan needs the account's assistant tests: when tests are declared, or may be pruned
    (a project without tests never pays for the listing)."""
    policy = desired.project.prune
    pruning = (prune or policy.enabled) and "AssistantTest" in policy.kinds and bool(policy.test_name_prefix)
    return pruning or bool(desired.of_kind("AssistantTest"))


def _prune_candidates(desired: DesiredState, live: LiveState) -> bool:
    """Whether pruning could delete a tool or MCP server: one with the reserved prefix that no manifest
    manages (decided by id, as the planner does, so that an unpinned duplicate of a managed name counts)."""
    policy = desired.project.prune
    for kind, objects, prefix in (("Tool", live.tools, policy.tool_name_prefix),
                                  ("McpServer", live.mcp_servers, policy.mcp_server_name_prefix)):
        if kind not in policy.kinds or not prefix:
            continue
        rule = identity.repair(kind, desired.project, live.assistants)
        managed = identity.match(kind, desired.of_kind(kind), objects, rule).matched_ids()
        field = KINDS[kind].name_field
        if any(str(o.get(field, "")).startswith(prefix) and str(o.get("id")) not in managed for o in objects):
            return True
    return False


def fingerprints(live: LiveState, known: dict[int | str, str] | None = None) -> dict[str, str]:
    """One fingerprint per live object read. Conservative on purpose: a change to anything the plan
    read, even an object it leaves alone, makes a saved plan stale. `known`: fingerprints already
    taken as the reads arrived, by key and by listed object's `id()` (the same values, in the same
    order of keys, as without it)."""
    known = known or {}
    out: dict[str, str] = {}
    for kind, objects in (("assistant", live.assistants), ("tool", live.tools), ("mcp_server", live.mcp_servers),
                          ("assistant_test", live.tests)):
        id_field = BY_PREFIX[kind].id_field
        if kind == "assistant_test" and not objects:
            continue  # not read (or none): saved plans made before tests existed stay fresh
        for obj in objects:
            taken = known.get(id(obj))
            out[f"{kind}/{obj.get(id_field)}"] = taken if taken is not None else fingerprint(obj)
        out[f"{kind}s/ids"] = fingerprint(sorted(str(o.get(id_field)) for o in objects))
    for what, by_assistant in (("versions", live.versions), ("canary", live.canaries)):
        for assistant_id, value in by_assistant.items():
            key = _read_key(assistant_id, what)
            out[key] = known.get(key) or fingerprint(value)
    return out


def _read_key(assistant_id: str, what: str) -> str:
    """The fingerprint key of an assistant's `versions` or `canary` read."""
    return f"assistant/{assistant_id}/{what}"
