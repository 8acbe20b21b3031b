"""`reconciler plan` end to end, over real loopback HTTP against the emulator."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import telnyx

from reconciler.cli import main
from tests.support.emulator import API_KEY, Emulator
from tests.support.manifests import write
from tests.support.paths import EXAMPLES, REPO


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def plan_json(capsys: pytest.CaptureFixture[str], *paths: str) -> dict[str, Any]:
    code, out, err = run(capsys, "plan", "--format", "json", *paths)
    assert code == 0, err
    doc: dict[str, Any] = json.loads(out)
    jsonschema.validate(doc, json.loads((REPO / "reconciler" / "schemas" / "plan.schema.json").read_text()))
    return doc


def test_empty_account_plans_every_example_as_a_create(emulator: Emulator, capsys: pytest.CaptureFixture[str]) -> None:
    doc = plan_json(capsys, str(EXAMPLES))
    actions = {rc["address"]: rc["actions"] for rc in doc["resource_changes"]}
    assert set(map(tuple, actions.values())) == {("create",)}
    assert {"tool.order-lookup", "mcp_server.crm", "assistant.acme-support", "assistant.acme-sms",
            "assistant.acme-support.version.concise-greeting", "assistant.acme-support.canary"} <= set(actions)
    assert doc["summary"] == {"add": len(actions), "change": 0, "destroy": 0}


def test_matching_account_has_no_changes_and_drift_is_exactly_that_update(
    emulator: Emulator, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(capsys, "apply", "--auto-approve", str(EXAMPLES))[0] == 0
    code, out, _ = run(capsys, "plan", "--detailed-exitcode", str(EXAMPLES))
    # Server-populated fields (ids, texml app, messaging profile) and declared defaults are not changes.
    assert code == 0, out
    assert "No changes." in out

    sdk = telnyx.Telnyx(api_key=API_KEY, base_url=emulator.base_url, max_retries=0, timeout=10)
    support = next(a for a in sdk.ai.assistants.list().data if a.name == "acme-support")
    sdk.ai.assistants.update(support.id, greeting="Changed in the portal")

    code, out, _ = run(capsys, "plan", "--detailed-exitcode", str(EXAMPLES))
    assert code == 2
    assert "Plan: 0 to add, 1 to change, 0 to destroy." in out
    doc = plan_json(capsys, str(EXAMPLES))
    changed = [rc for rc in doc["resource_changes"] if rc["actions"] != ["no-op"]]
    assert [(rc["address"], rc["changes"]) for rc in changed] == [(
        "assistant.acme-support",
        [{"path": "greeting", "before": "Changed in the portal",
          "after": "Hi, this is {{company}} support. How can I help you today?"}],
    )]


def test_markdown_view(emulator: Emulator, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "plan", "--format", "markdown", str(EXAMPLES))
    assert code == 0
    assert out.startswith("### Plan: ")
    assert out.count("<details>") == out.count("</details>") >= 6


SECRET = "s3cr3t-token-value-9f2"


def test_secrets_and_the_api_key_are_never_shown(
    emulator: Emulator, capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOOK_TOKEN", SECRET)
    manifest = write(tmp_path, "tool.yaml", """
        apiVersion: reconciler/v1
        kind: Tool
        metadata: {name: hook}
        spec:
          type: webhook
          webhook:
            name: hook
            description: Calls the hook
            url: https://hooks.example.com/x
            headers:
              - {name: Authorization, value: "Bearer ${env:HOOK_TOKEN}"}
        """)
    outputs = []
    for fmt in ("text", "json", "markdown"):
        code, out, err = run(capsys, "plan", "--format", fmt, str(manifest))
        assert code == 0, err
        outputs += [out, err]
    saved = tmp_path / "saved.plan"
    assert run(capsys, "plan", "--out", str(saved), str(manifest))[0] == 0
    outputs.append(saved.read_text())
    assert "${env:HOOK_TOKEN}" in saved.read_text()  # the reference, not the value
    assert "(sensitive)" in outputs[2]
    # The secret made it to the API all the same.
    assert run(capsys, "apply", "--auto-approve", str(manifest))[0] == 0
    with emulator.api() as api:
        tools = api.get("/ai/tools").json()["data"]
    assert SECRET in json.dumps(tools)
    # A changed secret is a change, shown masked on both sides.
    monkeypatch.setenv("HOOK_TOKEN", SECRET + "-rotated")
    code, out, err = run(capsys, "plan", "--format", "json", "--detailed-exitcode", str(manifest))
    assert code == 2
    outputs += [out, err]
    assert "(sensitive)" in out
    # Errors: a refused key, and a manifest problem next to a secret.
    monkeypatch.setenv("TELNYX_BASE_URL", emulator.base_url)
    emulator.app._api_key = "only-this-key"  # the emulator's --api-key
    try:
        code, out, err = run(capsys, "plan", str(manifest))
    finally:
        emulator.app._api_key = None
    assert code == 1 and "401" in err
    outputs += [out, err]
    broken = write(tmp_path, "broken/tool.yaml", manifest.read_text().replace("type: webhook\n", "type: 7\n", 1))
    code, out, err = run(capsys, "validate", str(broken))
    assert code == 1
    outputs += [out, err]
    for text in outputs:
        assert SECRET not in text
        assert API_KEY not in text


def _many(count: int) -> str:
    docs = []
    for i in range(count):
        docs.append(f"""apiVersion: reconciler/v1
kind: Assistant
metadata: {{name: bot-{i:03d}}}
spec:
  model: openai/gpt-4o
  instructions: Assistant number {i}.
  versions:
    - name: candidate
      spec: {{greeting: Hello from the candidate}}
  canary:
    - {{version: candidate, percentage: 5}}
""")
    return "---\n".join(docs)


def test_plan_of_200_managed_assistants_makes_the_minimum_of_requests(
    emulator: Emulator, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    manifest = tmp_path / "many.yaml"
    manifest.write_text(_many(200))
    assert run(capsys, "apply", "--auto-approve", "--parallelism", "16", str(manifest))[0] == 0
    emulator.control("reset", {"stats_only": True})
    code, out, _ = run(capsys, "plan", "--detailed-exitcode", str(manifest))
    assert code == 0, out
    stats = emulator.stats()
    # One listing each of assistants, shared tools and MCP servers (each fits one page), then the
    # versions and the canary of each managed assistant: nothing else is needed to plan correctly.
    minimum = 1 + 1 + 1 + 200 + 200
    assert stats["total"] <= minimum, stats["by_route"]
    assert stats["by_route"].get("GET /v2/ai/assistants/{assistant_id}", 0) == 0


def test_planning_as_reads_arrive_gives_the_same_plan(emulator: Emulator, capsys: pytest.CaptureFixture[str],
                                                      tmp_path: Path) -> None:
    import asyncio

    from reconciler import live
    from reconciler.api.client import ApiClient
    from reconciler.manifest import load
    from reconciler.pipeline import compute
    from reconciler.planning import planner
    from reconciler.render.document import plan_document

    (tmp_path / "many.yaml").write_text(_many(30))
    assert run(capsys, "apply", "--auto-approve", str(tmp_path / "many.yaml"))[0] == 0
    for name in ("bot-003", "bot-017"):  # drift on two of them, main and version
        with emulator.api() as api:
            aid = next(a["id"] for a in api.get("/ai/assistants").json()["data"] if a["name"] == name)
            api.post(f"/ai/assistants/{aid}", json={"instructions": "changed"})
    desired = load([tmp_path, EXAMPLES])

    async def both() -> tuple[dict[str, Any], dict[str, Any]]:
        async with ApiClient(emulator.base_url, API_KEY) as client:
            incremental, _ = await compute(client, desired, prune=False, targets=[])
            pure = planner.plan(desired, await live.fetch_live(client, desired))
        return plan_document(incremental), plan_document(pure)

    incremental, pure = asyncio.run(both())
    assert incremental == pure
    assert incremental["summary"]["change"] == 2


def test_a_pruned_assistant_shows_everything_it_takes_away(emulator: Emulator, tmp_path: Path,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    """The destroy of a pruned assistant lists its fields in manifest form (shared tools and MCP
    servers by name, as its versions' destroys do) and masks only the secret inside a tool, not the
    whole `tools` list."""
    assert run(capsys, "apply", "--auto-approve", str(EXAMPLES))[0] == 0
    kept = tmp_path / "kept"
    kept.mkdir()
    for name in ("project.yaml", "shared.yaml"):
        (kept / name).write_text((EXAMPLES / name).read_text())
    code, out, err = run(capsys, "plan", "--prune", "--format", "json", str(kept))
    assert code == 0, err
    doc = json.loads(out)
    gone = next(rc for rc in doc["resource_changes"] if rc["address"] == "assistant.acme-support")
    assert gone["actions"] == ["delete"]
    changes = {c["path"]: c for c in gone["changes"]}
    assert changes["shared_tools"]["before"] == ["order-lookup"]
    assert changes["mcp_servers"]["before"] == [{"allowed_tools": ["lookup_customer"], "server": "crm"}]
    masked = [path for path, c in changes.items() if c["before"] == "(sensitive)"]
    assert masked == ["tools[2].webhook.headers[0].value"]
    assert changes["tools[2].webhook.url"]["before"] == "https://api.example.com/tickets"
    assert changes["tools[0]"]["before"]["type"] == "hangup"
    assert all(c["after"] is None for c in gone["changes"])
