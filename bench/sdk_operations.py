"""Every operation the official `telnyx` SDK has under /ai/assistants, /ai/tools and /ai/mcp_servers,
called with current-era parameters against the emulator; each answer is validated strictly (pydantic
strict mode, from the raw JSON) against the return type the SDK declares for that method.

    .venv/bin/python bench/sdk_operations.py        # prints "55 of 55 operations accepted, ..."

`sdk_operations()` enumerates the operations from the installed SDK's resource classes, so an
operation a new SDK adds shows up as never exercised. `run_all(client)` runs the scenario and returns
one `Outcome` per call. tests/emulator/test_emulator_sdk_current.py runs the same scenario.
"""

from __future__ import annotations

import argparse
import functools
import inspect
import re
import sys
import typing
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pydantic

ROOT = Path(__file__).resolve().parents[1]
PREFIXES = ("/ai/assistants", "/ai/tools", "/ai/mcp_servers")
_CALL = re.compile(r"self\._(get_api_list|get|post|put|patch|delete)\(\s*(?:path_template\(\s*)?\"([^\"]+)\"")
_VERBS = {"get_api_list": "GET", "get": "GET", "post": "POST", "put": "PUT", "patch": "PATCH", "delete": "DELETE"}


@dataclass(frozen=True)
class Operation:
    """One SDK method: its dotted name on the client (`ai.assistants.create`), verb and path template."""

    name: str
    method: str
    path: str


@dataclass
class Outcome:
    """What one call got: its status and, when the answer broke the declared type, why."""

    name: str
    status: int
    problem: str | None = None


def _resources(obj: Any, prefix: str) -> Iterator[tuple[str, Any]]:
    """(dotted name, sync resource) for a resource and every sub-resource under it."""
    yield prefix, obj
    for name, attr in inspect.getmembers(type(obj)):
        if isinstance(attr, property | functools.cached_property) and not name.startswith(("with_", "_")):
            sub = getattr(obj, name)
            if type(sub).__module__.startswith("telnyx.resources"):
                yield from _resources(sub, f"{prefix}.{name}")


def sdk_operations(client: Any) -> list[Operation]:
    """Every method of the client's `ai.assistants`, `ai.tools`, `ai.mcp_servers` resources with its route."""
    found: dict[str, Operation] = {}
    for root in ("assistants", "tools", "mcp_servers"):
        for dotted, resource in _resources(getattr(client.ai, root), f"ai.{root}"):
            for name, fn in inspect.getmembers(type(resource), inspect.isfunction):
                if name.startswith("_"):
                    continue
                match = _CALL.search(inspect.getsource(fn))
                if match and match.group(2).startswith(PREFIXES):
                    found[f"{dotted}.{name}"] = Operation(f"{dotted}.{name}", _VERBS[match.group(1)], match.group(2))
    return sorted(found.values(), key=lambda o: o.name)


def declared_type(client: Any, dotted: str) -> Any:
    """The return type the SDK declares for `dotted` (e.g. `ai.assistants.create`)."""
    *parents, method = dotted.split(".")
    resource = client
    for part in parents:
        resource = getattr(resource, part)
    fn = getattr(type(resource), method)
    module = sys.modules[fn.__module__]
    return typing.get_type_hints(fn, vars(module))["return"]


def strict_problem(kind: Any, raw: bytes) -> str | None:
    """None when `raw` is strictly valid JSON for `kind`, else the first error."""
    if kind is type(None) or kind is object:
        return None
    if kind is str:
        return None  # the SDK returns the body text itself
    try:
        if hasattr(kind, "_get_page_items"):  # a page: its items are the declared model
            item = typing.get_args(kind)[0] if typing.get_args(kind) else kind.__pydantic_generic_metadata__["args"][0]
            data = pydantic.TypeAdapter(Any).validate_json(raw)
            rows = data if isinstance(data, list) else data["data"]
            for row in rows:
                pydantic.TypeAdapter(item).validate_json(pydantic.TypeAdapter(Any).dump_json(row), strict=True)
        else:
            pydantic.TypeAdapter(kind).validate_json(raw, strict=True)
    except pydantic.ValidationError as exc:
        return str(exc).splitlines()[0] + ": " + "; ".join(str(e["loc"]) + " " + e["msg"] for e in exc.errors()[:3])
    return None


NOW = "2030-01-01T09:00:00Z"
ASSISTANT: dict[str, Any] = {
    "name": "support", "instructions": "Help the caller.", "model": "openai/gpt-4o", "greeting": "Hello!",
    "description": "Current-era fields", "tags": ["ops"], "dynamic_variables": {"team": "ops"},
    "enabled_features": ["telephony", "messaging"],
    "tools": [{"type": "hangup", "hangup": {"description": "End the call"}},
              {"type": "webhook", "webhook": {"name": "lookup", "description": "Look up an order",
                                              "url": "https://example.com/orders"}}],
    "telephony_settings": {"time_limit_secs": 600},
    "privacy_settings": {"data_retention": True},
}


def scenario(client: Any) -> Iterator[tuple[str, Callable[[], Any]]]:
    """(operation name, call through `with_raw_response`) in an order where each call's inputs exist."""
    ai = client.ai
    ids: dict[str, str] = {}

    def remember(key: str, field: str, raw: Any) -> Any:
        ids[key] = raw.http_response.json()[field]
        return raw

    yield "ai.tools.create", lambda: remember("tool", "id", ai.tools.with_raw_response.create(
        display_name="order-lookup", type="webhook",
        webhook={"name": "lookup", "description": "Look up an order", "url": "https://example.com/o"}))
    yield "ai.tools.retrieve", lambda: ai.tools.with_raw_response.retrieve(ids["tool"])
    yield "ai.tools.update", lambda: ai.tools.with_raw_response.update(ids["tool"], display_name="order-lookup-2")
    yield "ai.tools.list", lambda: ai.tools.with_raw_response.list(page_size=10)
    yield "ai.mcp_servers.create", lambda: remember("mcp", "id", ai.mcp_servers.with_raw_response.create(
        name="docs", type="http", url="https://mcp.example.com", allowed_tools=["search"]))
    yield "ai.mcp_servers.retrieve", lambda: ai.mcp_servers.with_raw_response.retrieve(ids["mcp"])
    yield "ai.mcp_servers.update", lambda: ai.mcp_servers.with_raw_response.update(ids["mcp"], name="docs-2")
    yield "ai.mcp_servers.list", lambda: ai.mcp_servers.with_raw_response.list()
    yield "ai.assistants.create", lambda: remember("bot", "id", ai.assistants.with_raw_response.create(
        **ASSISTANT, tool_ids=[ids["tool"]], mcp_servers=[{"id": ids["mcp"]}]))
    yield "ai.assistants.retrieve", lambda: ai.assistants.with_raw_response.retrieve(
        ids["bot"], fetch_dynamic_variables_from_webhook=False)
    yield "ai.assistants.update", lambda: remember("draft", "version_id", ai.assistants.with_raw_response.update(
        ids["bot"], greeting="Hi there!", promote_to_main=False))
    yield "ai.assistants.list", lambda: ai.assistants.with_raw_response.list()
    yield "ai.assistants.versions.list", lambda: ai.assistants.versions.with_raw_response.list(ids["bot"])
    yield "ai.assistants.versions.retrieve", lambda: ai.assistants.versions.with_raw_response.retrieve(
        ids["draft"], assistant_id=ids["bot"], include_mcp_servers=True)
    yield "ai.assistants.versions.update", lambda: ai.assistants.versions.with_raw_response.update(
        ids["draft"], assistant_id=ids["bot"], greeting="Hi again!")
    yield "ai.assistants.canary_deploys.create", lambda: ai.assistants.canary_deploys.with_raw_response.create(
        ids["bot"], rules=[{"match": [{"attribute": "from", "operator": "starts_with", "values": ["+4420"]}],
                            "serve": {"version_id": ids["draft"]}},
                           {"serve": {"rollout": [{"version_id": ids["draft"], "weight": 10}]}}])
    yield "ai.assistants.canary_deploys.retrieve", lambda: ai.assistants.canary_deploys.with_raw_response.retrieve(
        ids["bot"])
    yield "ai.assistants.canary_deploys.update", lambda: ai.assistants.canary_deploys.with_raw_response.update(
        ids["bot"], rules=[{"serve": {"rollout": [{"version_id": ids["draft"], "weight": 25}]}}])
    yield "ai.assistants.canary_deploys.delete", lambda: ai.assistants.canary_deploys.with_raw_response.delete(
        ids["bot"])
    yield "ai.assistants.chat", lambda: ai.assistants.with_raw_response.chat(
        ids["bot"], content="Where is my order?", conversation_id="c-1")
    yield "ai.assistants.send_sms", lambda: ai.assistants.with_raw_response.send_sms(
        ids["bot"], from_="+15550001111", to="+15550002222", text="Hello")
    yield "ai.assistants.whatsapp", lambda: ai.assistants.with_raw_response.whatsapp(
        ids["bot"], content="Send the code 482913", from_="+15550001111", to="+15550002222")
    yield "ai.assistants.get_texml", lambda: ai.assistants.with_raw_response.get_texml(ids["bot"])
    yield "ai.assistants.instructions.enhance", lambda: ai.assistants.instructions.with_raw_response.enhance(
        ids["bot"], enhancement_prompt="Be more concise.")
    yield "ai.assistants.tags.list", lambda: ai.assistants.tags.with_raw_response.list()
    yield "ai.assistants.tags.add", lambda: ai.assistants.tags.with_raw_response.add(ids["bot"], tag="tier-1")
    yield "ai.assistants.tags.remove", lambda: ai.assistants.tags.with_raw_response.remove(
        "tier-1", assistant_id=ids["bot"])
    yield "ai.assistants.tools.add", lambda: ai.assistants.tools.with_raw_response.add(
        ids["tool"], assistant_id=ids["bot"])
    yield "ai.assistants.tools.test", lambda: ai.assistants.tools.with_raw_response.test(
        ids["tool"], assistant_id=ids["bot"], arguments={"order": "42"})
    yield "ai.assistants.tools.remove", lambda: ai.assistants.tools.with_raw_response.remove(
        ids["tool"], assistant_id=ids["bot"])
    yield "ai.assistants.scheduled_events.create", lambda: remember(
        "event", "scheduled_event_id", ai.assistants.scheduled_events.with_raw_response.create(
            ids["bot"], scheduled_at_fixed_datetime=NOW, telnyx_agent_target="+15550001111",
            telnyx_conversation_channel="phone_call", telnyx_end_user_target="+15550002222",
            call_settings={"sip_region": "Europe"}, max_retries_client_errors=2, retry_interval_secs=300))
    yield "ai.assistants.scheduled_events.retrieve", lambda: ai.assistants.scheduled_events.with_raw_response.retrieve(
        ids["event"], assistant_id=ids["bot"])
    yield "ai.assistants.scheduled_events.list", lambda: ai.assistants.scheduled_events.with_raw_response.list(
        ids["bot"], conversation_channel="phone_call", from_date="2029-01-01T00:00:00Z")
    yield "ai.assistants.scheduled_events.delete", lambda: ai.assistants.scheduled_events.with_raw_response.delete(
        ids["event"], assistant_id=ids["bot"])
    yield "ai.assistants.tests.create", lambda: remember(
        "test", "test_id", ai.assistants.tests.with_raw_response.create(
            destination="+15550003333", instructions="Ask for an order", name="order", test_suite="smoke",
            rubric=[{"name": "helpful", "criteria": "Answers the question"}]))
    yield "ai.assistants.tests.retrieve", lambda: ai.assistants.tests.with_raw_response.retrieve(ids["test"])
    yield "ai.assistants.tests.update", lambda: ai.assistants.tests.with_raw_response.update(
        ids["test"], description="Smoke test")
    yield "ai.assistants.tests.list", lambda: ai.assistants.tests.with_raw_response.list(test_suite="smoke")
    yield "ai.assistants.tests.runs.trigger", lambda: remember(
        "run", "run_id", ai.assistants.tests.runs.with_raw_response.trigger(ids["test"]))
    yield "ai.assistants.tests.runs.retrieve", lambda: ai.assistants.tests.runs.with_raw_response.retrieve(
        ids["run"], test_id=ids["test"])
    yield "ai.assistants.tests.runs.list", lambda: ai.assistants.tests.runs.with_raw_response.list(ids["test"])
    yield "ai.assistants.tests.test_suites.list", lambda: ai.assistants.tests.test_suites.with_raw_response.list()
    yield "ai.assistants.tests.test_suites.runs.trigger", lambda: (
        ai.assistants.tests.test_suites.runs.with_raw_response.trigger("smoke"))
    yield "ai.assistants.tests.test_suites.runs.list", lambda: (
        ai.assistants.tests.test_suites.runs.with_raw_response.list("smoke"))
    yield "ai.assistants.tests.delete", lambda: ai.assistants.tests.with_raw_response.delete(ids["test"])
    yield "ai.assistants.imports", lambda: ai.assistants.with_raw_response.imports(
        provider="vapi", api_key_ref="vapi-key")
    yield "ai.assistants.clone", lambda: remember("copy", "id", ai.assistants.with_raw_response.clone(ids["bot"]))
    yield "ai.assistants.versions.promote", lambda: ai.assistants.versions.with_raw_response.promote(
        ids["draft"], assistant_id=ids["bot"])
    yield "ai.assistants.versions.delete", lambda: ai.assistants.versions.with_raw_response.delete(
        _old_main(ai, ids), assistant_id=ids["bot"])
    yield "ai.assistants.delete", lambda: ai.assistants.with_raw_response.delete(ids["copy"])
    yield "ai.assistants.deleted.list", lambda: ai.assistants.deleted.with_raw_response.list()
    yield "ai.assistants.deleted.get", lambda: ai.assistants.deleted.with_raw_response.get(ids["copy"])
    yield "ai.assistants.restore", lambda: ai.assistants.with_raw_response.restore(ids["copy"])
    yield "ai.tools.delete", lambda: ai.tools.with_raw_response.delete(ids["tool"])
    yield "ai.mcp_servers.delete", lambda: ai.mcp_servers.with_raw_response.delete(ids["mcp"])


def _old_main(ai: Any, ids: dict[str, str]) -> str:
    versions = ai.assistants.versions.list(ids["bot"]).data
    return str(next(v.version_id for v in versions if v.version_id != ids["draft"]))


def run_all(client: Any) -> list[Outcome]:
    """Run the scenario; one Outcome per call, in order."""
    outcomes = []
    for name, call in scenario(client):
        raw = call()
        status = raw.http_response.status_code
        problem = None if status < 300 else f"HTTP {status}: {raw.http_response.text[:300]}"
        if problem is None:
            problem = strict_problem(declared_type(client, name), raw.http_response.content)
        outcomes.append(Outcome(name, status, problem))
    return outcomes


def main(argv: list[str] | None = None) -> int:
    """Serve an emulator on loopback, run every operation, print the figures; exit 1 on any problem."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.parse_args(argv)
    import telnyx

    sys.path.insert(0, str(ROOT))
    from reconciler.emulator.server import serve_in_thread

    url, stop = serve_in_thread()
    try:
        with telnyx.Telnyx(api_key="sdk-operations", base_url=f"{url}/v2", max_retries=0) as client:
            operations = sdk_operations(client)
            outcomes = run_all(client)
    finally:
        stop()
    accepted = [o for o in outcomes if o.status < 300]
    valid = [o for o in accepted if o.problem is None]
    missing = sorted({o.name for o in operations} - {o.name for o in outcomes})
    print(f"telnyx {telnyx.__version__}: {len({o.name for o in accepted})} of {len(operations)} operations accepted, "
          f"{len(valid)} of {len(outcomes)} answers strictly valid for the SDK's declared return type")
    for o in outcomes:
        if o.problem:
            print(f"  {o.name}: {o.problem}")
    for name in missing:
        print(f"  never exercised: {name}")
    return 0 if not missing and len(valid) == len(outcomes) == len(operations) else 1


if __name__ == "__main__":
    sys.exit(main())
