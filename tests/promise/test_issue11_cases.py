"""Issue #11, case by case, black-box: the CLI in-process against the real emulator over loopback HTTP,
portal edits through the official SDK or plain HTTP. Each test is the issue's reproduction, asserting
what its "Deliver" section asks for. Cases 1-6 (ownership) here; 7-11 in test_issue11_cases_7_11.py."""

from __future__ import annotations

from pathlib import Path

import pytest

from reconciler.kinds import PROTECT_TAG
from tests.promise.support import (
    B2_BOT,
    Account,
    account,
    changes_of,
    cli,
    plan_doc,
    sdk,
    webhook_assistant,
    write,
)

__all__ = ["account"]  # the fixture, imported for pytest


HOOKED = webhook_assistant("hooks", "Look the order up", "https://api.example.com/orders",
                           "{name: X-Key, value: abc}")


# --- 1. removals inside nested objects and list items ------------------------------------------------


def test_case1_a_header_deleted_from_an_inline_tool_is_planned_and_removed(
        account: Account, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    write(tmp_path, "bot.yaml", HOOKED)
    assert cli(capsys, "apply", "--auto-approve", str(tmp_path))[0] == 0
    write(tmp_path, "bot.yaml", HOOKED.replace("        headers: [{name: X-Key, value: abc}]\n", ""))
    doc = plan_doc(capsys, str(tmp_path))
    assert doc["_exit"] == 2, "deleting the headers line must be a change"
    removed = changes_of(doc, "assistant.hooks")
    assert "tools[0].webhook.headers" in removed, removed
    assert removed["tools[0].webhook.headers"]["after"] in (None, [])
    assert cli(capsys, "apply", "--auto-approve", str(tmp_path))[0] == 0
    assert not account.assistant("hooks")["tools"][0]["webhook"].get("headers")
    assert plan_doc(capsys, str(tmp_path))["_exit"] == 0


def test_case1_an_unrelated_change_shows_every_removal_it_carries(
        account: Account, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    write(tmp_path, "bot.yaml", HOOKED)
    assert cli(capsys, "apply", "--auto-approve", str(tmp_path))[0] == 0
    edited = HOOKED.replace("        headers: [{name: X-Key, value: abc}]\n", "")
    write(tmp_path, "bot.yaml", edited.replace("Look the order up", "Find the order"))
    paths = set(changes_of(plan_doc(capsys, str(tmp_path)), "assistant.hooks"))
    assert {"tools[0].webhook.description", "tools[0].webhook.headers"} <= paths, paths


def test_case1_removing_a_list_item_shows_the_payload_that_goes(
        account: Account, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    transfer = """
    apiVersion: reconciler/v1
    kind: Assistant
    metadata: {name: desk}
    spec:
      instructions: Be helpful.
      tools:
        - type: transfer
          transfer:
            from: "+13125550100"
            targets: [{name: Desk, to: "+13125550199"}]
        - type: hangup
          hangup: {description: Hang up when done.}
    """
    write(tmp_path, "bot.yaml", transfer)
    assert cli(capsys, "apply", "--auto-approve", str(tmp_path))[0] == 0
    lines = transfer.splitlines(keepends=True)
    start = next(i for i, line in enumerate(lines) if "type: transfer" in line)
    write(tmp_path, "bot.yaml", "".join(lines[:start] + lines[start + 4:]))
    changes = changes_of(plan_doc(capsys, str(tmp_path)), "assistant.desk")
    gone = changes.get("tools[0].transfer")
    assert gone is not None and gone["before"] and gone["after"] is None, changes
    assert changes["tools[1]"]["after"] is None, changes


# --- 2. deleting a line, and portal edits of undeclared fields -----------------------------------------

KRISP = """
apiVersion: reconciler/v1
kind: Assistant
metadata: {name: quiet}
spec:
  instructions: Be helpful.
  telephony_settings:
    time_limit_secs: 1200
    noise_suppression: krisp
"""


def test_case2_deleting_a_line_resets_the_field(
        account: Account, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    write(tmp_path, "bot.yaml", KRISP)
    assert cli(capsys, "apply", "--auto-approve", str(tmp_path))[0] == 0
    write(tmp_path, "bot.yaml", KRISP.replace("    noise_suppression: krisp\n", ""))
    doc = plan_doc(capsys, str(tmp_path))
    change = changes_of(doc, "assistant.quiet").get("telephony_settings.noise_suppression")
    assert change == {"path": "telephony_settings.noise_suppression", "before": "krisp", "after": None}
    assert cli(capsys, "apply", "--auto-approve", str(tmp_path))[0] == 0
    assert "noise_suppression" not in account.assistant("quiet")["telephony_settings"]
    assert plan_doc(capsys, str(tmp_path))["_exit"] == 0


def test_case2_a_portal_edit_of_an_undeclared_field_is_drift(
        account: Account, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    write(tmp_path, "bot.yaml", """
    apiVersion: reconciler/v1
    kind: Assistant
    metadata: {name: voice}
    spec:
      instructions: Be helpful.
      voice_settings: {voice: Telnyx.KokoroTTS.af_heart}
      versions:
        - name: fast
          spec: {voice_settings: {voice_speed: 1.2}}
      canary: [{version: fast, percentage: 10}]
    """)
    assert cli(capsys, "apply", "--auto-approve", str(tmp_path))[0] == 0
    live = account.assistant("voice")
    sdk(account).ai.assistants.update(
        live["id"], voice_settings={"voice": "Telnyx.KokoroTTS.af_heart", "voice_speed": 1.3})
    doc = plan_doc(capsys, str(tmp_path))
    assert doc["_exit"] == 2
    change = changes_of(doc, "assistant.voice")["voice_settings.voice_speed"]
    assert change["before"] == 1.3 and change["after"] == 1  # the API's declared default
    assert cli(capsys, "apply", "--auto-approve", str(tmp_path))[0] == 0
    assert account.assistant("voice")["voice_settings"]["voice_speed"] == 1
    assert plan_doc(capsys, str(tmp_path))["_exit"] == 0


# --- 3. a run with a subset of the files never disowns ----------------------------------------------

PROJECT = """
apiVersion: reconciler/v1
kind: Project
metadata: {name: p}
spec:
  owner_tag: "team:p"
"""

def test_case3_applying_one_file_without_the_project_keeps_the_owner_tag(
        account: Account, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    write(tmp_path, "project.yaml", PROJECT)
    bot = write(tmp_path, "b2/bot.yaml", B2_BOT)
    assert cli(capsys, "apply", "--auto-approve", str(tmp_path))[0] == 0
    assert "team:p" in account.assistant("b2-bot")["tags"]
    doc = plan_doc(capsys, str(bot))
    for rc in doc["resource_changes"]:
        for change in rc["changes"]:
            if change["path"] == "tags":
                assert "team:p" in (change["after"] or []), change
    cli(capsys, "apply", "--auto-approve", str(bot))
    assert "team:p" in account.assistant("b2-bot")["tags"]
    assert plan_doc(capsys, str(tmp_path))["_exit"] == 0


def test_case3_changing_owner_tag_moves_ownership_in_the_same_apply(
        account: Account, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    write(tmp_path, "project.yaml", PROJECT)
    write(tmp_path, "b2/bot.yaml", B2_BOT)
    assert cli(capsys, "apply", "--auto-approve", str(tmp_path))[0] == 0
    write(tmp_path, "project.yaml", PROJECT.replace('"team:p"', '"team:q"\n  previous_owner_tags: ["team:p"]'))
    doc = plan_doc(capsys, str(tmp_path))
    assert changes_of(doc, "assistant.b2-bot")["tags"]["after"] == ["team:q", "voice"]
    assert cli(capsys, "apply", "--auto-approve", str(tmp_path))[0] == 0
    assert sorted(account.assistant("b2-bot")["tags"]) == ["team:q", "voice"]
    assert plan_doc(capsys, str(tmp_path))["_exit"] == 0


@pytest.mark.parametrize("edit", ["protect: false", "no protect key"])
def test_case3_dropping_protect_from_the_manifest_never_removes_the_protection_tag(
        account: Account, capsys: pytest.CaptureFixture[str], tmp_path: Path, edit: str) -> None:
    protected = B2_BOT.replace("metadata: {name: b2-bot}", "metadata: {name: b2-bot, protect: true}")
    write(tmp_path, "bot.yaml", protected)
    assert cli(capsys, "apply", "--auto-approve", str(tmp_path))[0] == 0
    assert PROTECT_TAG in account.assistant("b2-bot")["tags"]
    write(tmp_path, "bot.yaml", protected.replace("protect: true", "protect: false") if edit == "protect: false"
          else B2_BOT)
    doc = plan_doc(capsys, str(tmp_path))
    tags = changes_of(doc, "assistant.b2-bot").get("tags") if any(
        r["address"] == "assistant.b2-bot" for r in doc["resource_changes"]) else None
    assert tags is None or PROTECT_TAG in (tags["after"] or []), tags
    # Said, with the way to lift it on purpose (by hand, outside any plan).
    assert any("b2-bot" in w and PROTECT_TAG in w and "by hand" in w for w in doc["warnings"]), doc["warnings"]
    assert cli(capsys, "apply", "--auto-approve", str(tmp_path))[0] == 0
    live = account.assistant("b2-bot")
    assert PROTECT_TAG in live["tags"]
    # The documented way: remove the tag from the assistant by hand; then the plan is clean.
    with account.api() as http:
        http.post(f"/ai/assistants/{live['id']}",
                  json={"tags": [t for t in live["tags"] if t != PROTECT_TAG]}).raise_for_status()
    assert plan_doc(capsys, str(tmp_path))["_exit"] == 0


# --- 4. adoption is explicit ---------------------------------------------------------------------------


def test_case4_a_foreign_assistant_of_the_same_name_is_an_explicit_adoption(
        account: Account, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    with account.api() as http:
        foreign = http.post("/ai/assistants", json={"name": "bw-promo", "instructions": "Other team's",
                                                    "model": "openai/gpt-4o", "tags": ["team:other"]}).json()
    write(tmp_path, "promo.yaml", """
    apiVersion: reconciler/v1
    kind: Assistant
    metadata: {name: bw-promo}
    spec:
      instructions: Ours.
    """)
    doc = plan_doc(capsys, str(tmp_path))
    rc = next(r for r in doc["resource_changes"] if r["address"] == "assistant.bw-promo")
    assert "adopt" in rc["actions"] and "update" not in rc["actions"], rc
    assert any("bw-promo" in w and "metadata.id" in w for w in doc["warnings"]), doc["warnings"]
    _, out, _ = cli(capsys, "plan", str(tmp_path))
    assert "adopt" in out
    # Not confirmed: apply refuses and writes nothing.
    account.app.clear_log()
    assert cli(capsys, "apply", "--auto-approve", str(tmp_path))[0] == 1
    assert account.app.writes() == []
    assert account.assistant("bw-promo")["instructions"] == "Other team's"
    # Confirmed by pinning the id: a plain update.
    write(tmp_path, "promo.yaml", (tmp_path / "promo.yaml").read_text().replace(
        "metadata: {name: bw-promo}", f"metadata: {{name: bw-promo, id: {foreign['id']}}}"))
    assert cli(capsys, "apply", "--auto-approve", str(tmp_path))[0] == 0
    assert account.assistant("bw-promo")["instructions"] == "Ours."


# --- 5. orphans count as changes ----------------------------------------------------------------------


def test_case5_an_owned_assistant_whose_file_was_deleted_is_reported(
        account: Account, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", B2_BOT.replace("b2-bot", "keeper"))
    gone = write(tmp_path, "b.yaml", B2_BOT.replace("b2-bot", "leaver"))
    assert cli(capsys, "apply", "--auto-approve", str(tmp_path))[0] == 0
    gone.unlink()
    code, out, _ = cli(capsys, "plan", "--detailed-exitcode", str(tmp_path))
    assert code == 2 and "No changes" not in out and "leaver" in out, out
    doc = plan_doc(capsys, str(tmp_path))
    assert [o["address"] for o in doc["orphans"]] == ["assistant.leaver"]
    _, md, _ = cli(capsys, "plan", "--format", "markdown", str(tmp_path))
    assert "leaver" in md
    assert account.assistant("leaver")  # a plain apply deletes nothing
    assert cli(capsys, "apply", "--auto-approve", str(tmp_path))[0] == 0
    assert account.assistant("leaver")


# --- 6. a version made in the portal survives a plain apply --------------------------------------------


def test_case6_a_portal_version_is_kept_and_reported_without_prune(
        account: Account, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    write(tmp_path, "bot.yaml", """
    apiVersion: reconciler/v1
    kind: Assistant
    metadata: {name: versioned}
    spec:
      instructions: Be helpful.
      versions: [{name: v1, spec: {greeting: one}}]
    """)
    assert cli(capsys, "apply", "--auto-approve", str(tmp_path))[0] == 0
    aid = account.assistant("versioned")["id"]
    with account.api() as http:
        http.post(f"/ai/assistants/{aid}", json={"promote_to_main": False, "version_name": "portal-v",
                                                  "greeting": "made by hand"}).raise_for_status()
    doc = plan_doc(capsys, str(tmp_path))
    assert doc["_exit"] == 2
    assert "assistant.versioned.version.portal-v" in [o["address"] for o in doc["orphans"]]
    assert not [r for r in doc["resource_changes"] if "delete" in r["actions"]]
    assert cli(capsys, "apply", "--auto-approve", str(tmp_path))[0] == 0
    assert "portal-v" in {v["version_name"] for v in account.versions(aid)}
    assert cli(capsys, "apply", "--auto-approve", "--prune", str(tmp_path))[0] == 0
    assert "portal-v" not in {v["version_name"] for v in account.versions(aid)}
