"""`reconciler export` end to end over real loopback HTTP: the varied account exports to manifests that
validate, plan with no changes, and export again to the same bytes."""

from __future__ import annotations

import asyncio
import hashlib
import os
from pathlib import Path

import pytest
import yaml

from reconciler import live as live_state
from reconciler.api.client import ApiClient
from reconciler.cli import main
from reconciler.emulator.transport import AsyncEmulatorTransport
from reconciler.kinds import DEFAULT_OWNER_TAG, PROTECT_TAG
from reconciler.manifest import load
from reconciler.planning import planner
from reconciler.planning.plan import Plan
from tests.export.conftest import LONG_INSTRUCTIONS, Seeded, seed_account
from tests.support.emulator import API_KEY, Emulator


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def export(capsys: pytest.CaptureFixture[str], emulator: Emulator, out: Path, *extra: str) -> str:
    code, stdout, err = run(capsys, "export", "--out", str(out), "--base-url", emulator.base_url, *extra)
    assert code == 0, err
    return stdout + err


def digest(name: str) -> str:
    return hashlib.sha256(name.encode()).hexdigest()[:8]


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_round_trip_validates_plans_clean_and_is_byte_identical(
    seeded: Seeded, emulator: Emulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "exported"
    messages = export(capsys, emulator, out)

    code, stdout, err = run(capsys, "validate", str(out))
    assert code == 0, err
    assert "OK: 17 resources" in stdout

    code, stdout, err = run(capsys, "plan", "--detailed-exitcode", str(out), "--base-url", emulator.base_url)
    assert code == 0, stdout + err
    assert "No changes." in stdout

    first = snapshot(out)
    umask = os.umask(0)
    os.umask(umask)
    assert (out / "assistants" / "sms-bot.yaml").stat().st_mode & 0o777 == 0o666 & ~umask  # not mkstemp's 0600
    export(capsys, emulator, out)
    assert snapshot(out) == first
    again = tmp_path / "again"
    export(capsys, emulator, again)
    assert snapshot(again) == first

    # Duplicate names and version names are reported, naming the ids.
    assert f"named 'Duplicate' ({seeded.assistants['dup-a']}, {seeded.assistants['dup-b']})" in messages
    assert "named 'lookup'" in messages and "named 'analytics'" in messages
    assert "assistant 'drafts': version names 'New assistant' are not unique" in messages


def test_plan_through_the_planner_in_process(seeded: Seeded, emulator: Emulator, tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    """The same round trip without the plan command: load, fetch live in-process, plan."""
    out = tmp_path / "exported"
    export(capsys, emulator, out)
    desired = load([out])

    async def go() -> Plan:
        async with ApiClient("http://emulator/v2", API_KEY, transport=AsyncEmulatorTransport(emulator.app)) as c:
            return planner.plan(desired, await live_state.fetch_live(c, desired))

    result = asyncio.run(go())
    changed = [(rc.address, rc.actions, rc.changes) for rc in result.resource_changes if rc.actions != ["no-op"]]
    assert changed == []
    addresses = {rc.address for rc in result.resource_changes}
    assert {"assistant.Support Bot.version.concise-greeting", "assistant.Support Bot.version.no-tools",
            "assistant.Support Bot.canary", "tool.lookup-" + seeded.tools["dup-b"][:8]} <= addresses


def test_what_is_written(seeded: Seeded, emulator: Emulator, tmp_path: Path,
                         capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "x"
    export(capsys, emulator, out)
    files = snapshot(out)
    def short(label: str) -> str:
        return seeded.assistants[label].removeprefix("assistant-")[:8]

    assert {f for f in files if not f.startswith(".")} == {
        f"assistants/billing-bot-{digest('Billing Bot')}.yaml",
        f"assistants/billing-bot-{digest('billing-bot')}.yaml",
        "assistants/drafts.yaml",
        f"assistants/duplicate-{short('dup-b')}.yaml",
        "assistants/duplicate.yaml",
        "assistants/ops-etc-night-shift.yaml",
        "assistants/sms-bot.yaml",
        "assistants/support-bot.yaml",
        f"mcp_servers/analytics-{seeded.servers['dup-b'][:8]}.yaml",
        "mcp_servers/analytics.yaml",
        "mcp_servers/crm.yaml",
        "mcp_servers/docs.yaml",
        "prompts/support-bot.md",
        "prompts/support-bot.new-voice-v2.md",
        "tools/knowledge-base.yaml",
        f"tools/lookup-{seeded.tools['dup-b'][:8]}.yaml",
        "tools/lookup.yaml",
        "tools/notify.yaml",
        "tools/order-lookup.yaml",
    }
    text = {k: v.decode() for k, v in files.items()}
    for name, body in text.items():
        assert "created_at" not in body and "version_id" not in body, name
        assert "default_texml_app_id" not in body and "default_messaging_profile_id" not in body, name

    support = yaml.safe_load(text["assistants/support-bot.yaml"])
    assert list(support) == ["apiVersion", "kind", "metadata", "spec"]
    # Made by hand (no owner tag): the export confirms the adoption, so the manifests plan clean.
    assert support["metadata"] == {"name": "Support Bot", "adopt": True}
    spec = support["spec"]
    assert list(spec) == sorted(spec)
    # Long instructions live in their own file, byte for byte.
    assert spec["instructions_file"] == "../prompts/support-bot.md"
    assert text["prompts/support-bot.md"] == LONG_INSTRUCTIONS
    # References by name; tags without the owner tag; a duplicate tool by its manifest alias.
    assert spec["shared_tools"] == sorted(["Knowledge Base", "order-lookup", f"lookup-{seeded.tools['dup-b'][:8]}"])
    assert spec["mcp_servers"] == [{"server": f"analytics-{seeded.servers['dup-b'][:8]}"},
                                   {"server": "crm", "allowed_tools": ["lookup_customer"]}]
    assert spec["tags"] == ["production", "support"]
    # Declared defaults are left out, everywhere; what differs from them stays.
    assert "dynamic_variables_webhook_timeout_ms" not in spec and "tool_ids" not in spec
    webhook = spec["tools"][0]["webhook"]
    assert "method" not in webhook and "async" not in webhook and spec["tools"][0]["timeout_ms"] == 4000
    assert spec["tools"][1]["webhook"]["method"] == "GET" and spec["tools"][1]["webhook"]["async"] is True
    assert spec["tools"][4] == {"type": "hangup", "hangup": {}}
    assert spec["tools"][5]["hangup"] == {"description": "Hang up once the caller says goodbye."}
    assert spec["tools"][-1] == {"type": "skip_turn", "skip_turn": {}}
    assert [t["type"] for t in spec["tools"]] == ["webhook", "webhook", "retrieval", "handoff", "hangup", "hangup",
                                                  "transfer", "invite", "refer", "send_dtmf", "send_message",
                                                  "skip_turn"]
    assert spec["voice_settings"] == {"voice": "Telnyx.KokoroTTS.af_heart", "voice_speed": 1.2,
                                      "background_audio": {"type": "predefined_media", "value": "office"}}
    assert spec["telephony_settings"]["recording_settings"] == {"channels": "single"}
    assert "time_limit_secs" not in spec["telephony_settings"]
    assert spec["transcription"]["settings"] == {"eot_threshold": 0.7, "keyterm": "Acme"}
    assert "status" in spec["observability_settings"]  # enabled is not the default
    assert spec["interruption_settings"] == {"start_speaking_plan": {
        "wait_seconds": 0.6, "transcription_endpointing_plan": {"on_number_seconds": 0.8}}}
    assert "logo_icon_url" not in spec["widget_settings"]
    assert spec["fallback_config"] == {"model": "openai/gpt-4o-mini", "external_llm": {
        "model": "llama-3", "base_url": "https://llm.example.com/v1", "llm_api_key_ref": "llm-key"}}
    # Versions: overlays holding only what differs from main, by name; canary by version name.
    assert spec["versions"] == [
        {"name": "concise-greeting", "spec": {"greeting": "Hi!"}},
        {"name": "new voice / v2", "spec": {
            "description": None, "instructions_file": "../prompts/support-bot.new-voice-v2.md",
            "shared_tools": ["order-lookup"],
            # The version holds the server default (1) where main holds 1.2: written as the value.
            "voice_settings": {"voice": "Telnyx.KokoroTTS.am_adam", "voice_speed": 1}}},
        {"name": "no-tools", "spec": {"mcp_servers": None, "tools": None}},
    ]
    assert text["prompts/support-bot.new-voice-v2.md"] == LONG_INSTRUCTIONS + "\nSpeak slowly."
    assert spec["canary"] == [{"version": "concise-greeting", "percentage": 10},
                              {"version": "new voice / v2", "percentage": 5.5}]

    sms = yaml.safe_load(text["assistants/sms-bot.yaml"])
    assert sms["metadata"] == {"name": "sms-bot", "protect": True}
    assert sms["spec"]["tags"] == ["sms"]
    assert DEFAULT_OWNER_TAG not in text["assistants/sms-bot.yaml"]
    assert PROTECT_TAG not in text["assistants/sms-bot.yaml"]
    assert "messaging_settings" not in sms["spec"]  # only the server-created profile id was in it

    # Duplicates: each pinned; the oldest keeps the name, the other an alias that never renames it live.
    dup_a = yaml.safe_load(text["assistants/duplicate.yaml"])
    assert dup_a["metadata"] == {"name": "Duplicate", "id": seeded.assistants["dup-a"]}
    alias = f"Duplicate-{short('dup-b')}"
    dup_b = next(yaml.safe_load(v) for k, v in text.items() if k.startswith("assistants/duplicate-"))
    assert dup_b["metadata"] == {"name": alias, "id": seeded.assistants["dup-b"], "ignore_changes": ["name"]}
    assert text[next(k for k in text if k.startswith("assistants/duplicate-"))].startswith("# Live name 'Duplicate'")

    # A name unsafe as a file name changes the file name only; colliding slugs get id suffixes.
    unsafe = yaml.safe_load(text["assistants/ops-etc-night-shift.yaml"])
    assert unsafe["metadata"]["name"] == "ops/../etc: Night Shift!"
    billing = sorted(k for k in text if k.startswith("assistants/billing-bot-"))
    assert len(billing) == 2
    assert {yaml.safe_load(text[k])["metadata"]["name"] for k in billing} == {"Billing Bot", "billing-bot"}

    # Versions that cannot be told apart by name are not declared (the plan leaves them alone).
    assert "versions" not in yaml.safe_load(text["assistants/drafts.yaml"])["spec"]

    crm = yaml.safe_load(text["mcp_servers/crm.yaml"])
    assert crm["spec"] == {"type": "http", "url": "https://mcp.example.com/crm", "api_key_ref": "crm-key",
                           "allowed_tools": ["create_note", "lookup_customer"]}
    assert yaml.safe_load(text["mcp_servers/docs.yaml"])["spec"] == {"type": "sse",
                                                                     "url": "https://mcp.example.com/docs"}
    order = yaml.safe_load(text["tools/order-lookup.yaml"])["spec"]
    assert order["timeout_ms"] == 3000 and order["webhook"]["method"] == "GET"
    notify = yaml.safe_load(text["tools/notify.yaml"])["spec"]
    assert "timeout_ms" not in notify and "method" not in notify["webhook"] and "async" not in notify["webhook"]


def test_kind_filter_and_stale_files(seeded: Seeded, emulator: Emulator, tmp_path: Path,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "x"
    export(capsys, emulator, out, "--kind", "Tool")
    assert {p.parent.name for p in out.rglob("*.yaml")} == {"tools"}
    export(capsys, emulator, out, "--kind", "McpServer", "--kind", "Assistant")
    assert {p.parent.name for p in out.rglob("*.yaml")} == {"tools", "mcp_servers", "assistants"}
    # A file the user put there is never touched; files of resources gone live are removed.
    mine = out / "assistants" / "hand-written.yaml"
    mine.write_text("# mine\n")
    with emulator.api() as api:
        assert api.delete(f"/ai/assistants/{seeded.assistants['unsafe']}").status_code == 200
        assert api.delete(f"/ai/tools/{seeded.tools['notify']}").status_code == 200
    messages = export(capsys, emulator, out, "--kind", "Assistant")
    assert not (out / "assistants" / "ops-etc-night-shift.yaml").exists()
    assert "removed" in messages
    assert (out / "tools" / "notify.yaml").exists()  # Tool was not exported this time
    assert mine.read_text() == "# mine\n"
    export(capsys, emulator, out)
    assert not (out / "tools" / "notify.yaml").exists()


def test_missing_api_key_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.delenv("TELNYX_API_KEY", raising=False)
    code, _, err = run(capsys, "export", "--out", str(tmp_path / "x"), "--base-url", "http://127.0.0.1:9/v2")
    assert code == 1
    assert "TELNYX_API_KEY" in err
    assert not (tmp_path / "x").exists()


def test_out_that_is_a_file_is_refused_before_any_request(
    seeded: Seeded, emulator: Emulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A file at --out (or in the way of making it) is refused at once: no account read, no warnings."""
    taken = tmp_path / "taken"
    taken.write_text("not a folder\n", encoding="utf-8")
    before = emulator.stats()["total"]
    nested = taken / "sub"
    for out, said in ((taken, f"error: --out {taken}: exists and is not a folder\n"),
                      (nested, f"error: --out {nested}: cannot write the export: {taken} is not a folder\n")):
        code, stdout, err = run(capsys, "export", "--out", str(out), "--base-url", emulator.base_url)
        assert (code, stdout, err) == (1, "", said)
    assert emulator.stats()["total"] == before
    assert taken.read_text(encoding="utf-8") == "not a folder\n"


def test_exported_folder_recreates_the_account(emulator: Emulator, tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    """What export leaves out (declared defaults, server-made ids and objects) is what the API fills in
    again: applying the export to an empty account and exporting that gives the same files."""
    with emulator.api() as api:
        seed_account(api, duplicates=False, clearing_versions=False)
    first = tmp_path / "first"
    export(capsys, emulator, first)
    emulator.reset()
    code, stdout, err = run(capsys, "apply", "--auto-approve", str(first), "--base-url", emulator.base_url)
    assert code == 0, stdout + err
    second = tmp_path / "second"
    export(capsys, emulator, second)
    # The first account was made by hand, so its assistants are exported with `adopt: true` (they
    # lack the owner tag); the recreated ones carry it. Otherwise the same bytes.
    unadopted = {k: v.replace(b"  adopt: true\n", b"") for k, v in snapshot(first).items()}
    assert snapshot(second) == unadopted


def test_version_that_clears_a_field_is_recreated_without_it(emulator: Emulator, tmp_path: Path,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    with emulator.api() as api:
        aid = api.post("/ai/assistants", json={"name": "a", "instructions": "x", "greeting": "hello",
                                               "tools": [{"type": "hangup", "hangup": {}}]}).json()["id"]
        api.post(f"/ai/assistants/{aid}", json={"version_name": "quiet", "promote_to_main": False,
                                                "tools": None, "greeting": None})
    first = tmp_path / "first"
    export(capsys, emulator, first)
    assert "greeting: null" in (first / "assistants" / "a.yaml").read_text()
    emulator.reset()
    code, stdout, err = run(capsys, "apply", "--auto-approve", str(first), "--base-url", emulator.base_url)
    assert code == 0, stdout + err
    with emulator.api() as api:
        live_aid = api.get("/ai/assistants").json()["data"][0]["id"]
        versions = api.get(f"/ai/assistants/{live_aid}/versions").json()["data"]
    quiet = next(v for v in versions if v.get("version_name") == "quiet")
    assert "greeting" not in quiet and "tools" not in quiet


def test_reads_each_listing_once_and_canaries_only_where_versions_exist(
    seeded: Seeded, emulator: Emulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = emulator.stats()["by_route"]
    export(capsys, emulator, tmp_path / "x", "--parallelism", "4")
    after = emulator.stats()["by_route"]
    calls = {route: after[route] - before.get(route, 0) for route in after if after[route] != before.get(route, 0)}
    assert calls.pop("GET /v2/ai/assistants") == 1
    assert sum(n for route, n in calls.items() if route.endswith("/versions")) == len(seeded.assistants)
    # Only "Support Bot" and "drafts" have versions besides main: a canary can exist nowhere else.
    assert sum(n for route, n in calls.items() if route.endswith("/canary-deploys")) == 2
    assert all(route.startswith("GET ") for route in calls)


def test_an_export_beside_manifests_that_declare_the_same_resources_warns(
        emulator: Emulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Export never touches a file it does not own, so exporting into the manifests' own folder makes
    each resource declared twice, which validate refuses: said at once, file by file. A Project
    beside the export declares nothing the export wrote: no warning."""
    from tests.support.paths import EXAMPLES

    assert run(capsys, "apply", "--auto-approve", "--base-url", emulator.base_url, str(EXAMPLES))[0] == 0
    mine = tmp_path / "mine"
    mine.mkdir()
    for path in EXAMPLES.glob("*.yaml"):
        (mine / path.name).write_text(path.read_text(encoding="utf-8"), encoding="utf-8")
    before = {p.name: p.read_bytes() for p in mine.glob("*.yaml")}
    said = export(capsys, emulator, mine)
    warned = sorted(line.split(" also declares ")[0] for line in said.splitlines() if line.startswith("warning: "))
    assert warned == [f"warning: {mine / name}" for name in ("shared.yaml", "sms-assistant.yaml",
                                                             "support-assistant.yaml")], said
    assert {p.name: p.read_bytes() for p in mine.glob("*.yaml")} == before  # read, never changed
    alone = tmp_path / "alone"
    export(capsys, emulator, alone)
    (alone / "project.yaml").write_text((EXAMPLES / "project.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    assert "warning" not in export(capsys, emulator, alone)


def test_names_with_control_characters_are_exported_pinned_under_names_a_manifest_can_hold(
    emulator: Emulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A live name no manifest name can be (a line break, an escape) is exported as a duplicate's is:
    pinned by id under a made-up name that keeps the live one, so the export validates and plans clean."""
    with emulator.api() as api:
        tool = api.post("/ai/tools", json={"type": "webhook", "display_name": "look\nup", "webhook": {
            "name": "lookup", "description": "Look up", "url": "https://api.example.com/x", "method": "GET"}})
        assert tool.status_code < 300, tool.text
        bot = api.post("/ai/assistants", json={"name": "bot\x1b[8m", "model": "openai/gpt-4o",
                                               "instructions": "Be helpful.", "tool_ids": [tool.json()["id"]]})
        assert bot.status_code < 300, bot.text
    out = tmp_path / "exported"
    messages = export(capsys, emulator, out)
    assert "live Assistant objects named 'bot\\x1b[8m'" in messages
    assert "live Tool objects named 'look\\nup'" in messages
    code, stdout, err = run(capsys, "validate", str(out))
    assert code == 0, err
    code, stdout, err = run(capsys, "plan", "--detailed-exitcode", str(out), "--base-url", emulator.base_url)
    assert code == 0, stdout + err
    assert "No changes." in stdout
    docs = [yaml.safe_load(p.read_text(encoding="utf-8")) for p in sorted(out.rglob("*.yaml"))]
    names = {d["kind"]: d["metadata"] for d in docs if d["kind"] in ("Assistant", "Tool")}
    assert names["Assistant"]["name"].startswith("bot [8m-") and names["Assistant"]["id"] == bot.json()["id"]
    assert names["Tool"]["name"].startswith("look up-") and names["Tool"]["id"] == tool.json()["id"]
