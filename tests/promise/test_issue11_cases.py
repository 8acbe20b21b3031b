"""Issue #11, case by case, black-box: the CLI in-process against the real emulator over loopback HTTP,
portal edits through the official SDK or plain HTTP. Each test is the issue's reproduction, asserting
what its "Deliver" section asks for."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import telnyx

from reconciler.kinds import PROTECT_TAG
from tests.promise.support import (
    API_KEY,
    SECRET_HOOK,
    Account,
    Fault,
    Hang,
    account,
    changes_of,
    cli,
    plan_doc,
    write,
)

__all__ = ["account"]  # the fixture, imported for pytest


HOOKED = """
apiVersion: reconciler/v1
kind: Assistant
metadata: {name: hooks}
spec:
  instructions: Be helpful.
  tools:
    - type: webhook
      webhook:
        name: lookup
        description: Look the order up
        url: https://api.example.com/orders
        method: GET
        headers: [{name: X-Key, value: abc}]
"""


def sdk(account: Account) -> telnyx.Telnyx:
    return telnyx.Telnyx(api_key=API_KEY, base_url=account.base_url, max_retries=0, timeout=10)


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

B2_BOT = """
apiVersion: reconciler/v1
kind: Assistant
metadata: {name: b2-bot}
spec:
  instructions: Be helpful.
  tags: [voice]
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


# --- 7. saved plans bind secrets, and staleness is scoped -----------------------------------------------



def _live_header(account: Account) -> str:
    return str(account.assistant("secret-hook")["tools"][0]["webhook"]["headers"][0]["value"])


def test_case7_a_saved_plan_refuses_a_secret_that_was_not_reviewed(
        account: Account, capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path, "m/bot.yaml", SECRET_HOOK)
    monkeypatch.setenv("HOOK_TOKEN", "v1")
    assert cli(capsys, "apply", "--auto-approve", str(tmp_path / "m"))[0] == 0
    saved = tmp_path / "plan.json"
    monkeypatch.setenv("HOOK_TOKEN", "v2-reviewed")
    assert cli(capsys, "plan", "--out", str(saved), str(tmp_path / "m"))[0] == 0
    assert "v2-reviewed" not in saved.read_text()
    monkeypatch.setenv("HOOK_TOKEN", "v3-never-reviewed")
    code, _, err = cli(capsys, "apply", "--auto-approve", str(saved))
    assert code == 1 and "HOOK_TOKEN" in err, err
    assert "v3-never-reviewed" not in err
    assert _live_header(account) == "Bearer v1"
    monkeypatch.setenv("HOOK_TOKEN", "v2-reviewed")
    assert cli(capsys, "apply", "--auto-approve", str(saved))[0] == 0
    assert _live_header(account) == "Bearer v2-reviewed"


def test_case7_a_change_to_an_assistant_the_plan_leaves_alone_does_not_make_it_stale(
        account: Account, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    write(tmp_path, "bot.yaml", B2_BOT.replace("b2-bot", "ours"))
    other = sdk(account).ai.assistants.create(name="theirs", instructions="Other team's", model="openai/gpt-4o")
    saved = tmp_path / "plan.json"
    assert cli(capsys, "plan", "--out", str(saved), str(tmp_path / "bot.yaml"))[0] == 0
    sdk(account).ai.assistants.update(other.id, instructions="Changed by the other team")
    code, _, err = cli(capsys, "apply", "--auto-approve", str(saved))
    assert code == 0, err
    assert account.assistant("ours")


def test_case7_an_assistant_created_elsewhere_does_not_make_it_stale_but_a_same_named_one_does(
        account: Account, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    write(tmp_path, "bot.yaml", B2_BOT.replace("b2-bot", "ours"))
    saved = tmp_path / "plan.json"
    assert cli(capsys, "plan", "--out", str(saved), str(tmp_path / "bot.yaml"))[0] == 0
    sdk(account).ai.assistants.create(name="theirs", instructions="Other team's", model="openai/gpt-4o")
    code, _, err = cli(capsys, "apply", "--auto-approve", str(saved))
    assert code == 0, err
    # Made again, then an assistant of the name the plan creates appears: the re-made plan differs.
    write(tmp_path, "bot.yaml", B2_BOT.replace("b2-bot", "ours-too"))
    assert cli(capsys, "plan", "--out", str(saved), str(tmp_path / "bot.yaml"))[0] == 0
    sdk(account).ai.assistants.create(name="ours-too", instructions="Someone else's", model="openai/gpt-4o")
    code, _, err = cli(capsys, "apply", "--auto-approve", str(saved))
    assert code == 1 and "stale" in err, err
    assert account.assistant("ours-too")["instructions"] == "Someone else's"  # untouched, and only one


# --- 8. export never writes a secret ---------------------------------------------------------------------


def test_case8_export_writes_env_references_not_secret_values(
        account: Account, capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path, "m/bot.yaml", SECRET_HOOK.replace("HOOK_TOKEN", "TOK"))
    monkeypatch.setenv("TOK", "super-secret-token")
    assert cli(capsys, "apply", "--auto-approve", str(tmp_path / "m"))[0] == 0
    out = tmp_path / "exported"
    code, stdout, err = cli(capsys, "export", "--out", str(out))
    assert code == 0, err
    written = "".join(p.read_text() for p in out.rglob("*") if p.is_file())
    assert "super-secret-token" not in written + stdout + err
    assert "${env:" in written
    assert "warning" in err.lower(), err
    names = re.findall(r"\$\{env:([A-Za-z_][A-Za-z0-9_]*)\}", written)
    assert names and all(n in err for n in names), err
    # With those variables set, the exported manifests plan clean: adoption through export.
    for name in names:
        monkeypatch.setenv(name, "super-secret-token")
    assert plan_doc(capsys, str(out))["_exit"] == 0


# --- 9. bounded waits --------------------------------------------------------------------------------------


def test_case9_a_hung_api_fails_within_the_deadline_saying_so(
        account: Account, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    write(tmp_path, "bot.yaml", B2_BOT)
    account.app.hangs.append(Hang(r"^/v2/ai/assistants$", 30.0))
    code, _, err = cli(capsys, "plan", "--request-timeout", "0.5", "--deadline", "3", str(tmp_path))
    assert code == 1
    assert "usage:" not in err and "Traceback" not in err, err
    assert "timed out" in err or "deadline" in err, err
    # A hung listing is asked a bounded number of times, not 9.
    listings = [s for s in account.app.sent if s.path == "/ai/assistants" and s.method == "GET"]
    assert 1 <= len(listings) <= 4, len(listings)


def test_case9_a_slow_plan_shows_progress_on_stderr(
        account: Account, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    write(tmp_path, "bot.yaml", B2_BOT)
    account.app.hangs.append(Hang(r"^/v2/ai/assistants$", 3.0))
    code, out, err = cli(capsys, "plan", str(tmp_path))
    assert code == 0, err
    assert "waiting" in err.lower(), err
    assert "waiting" not in out.lower()


# --- 10. an uncertain outcome is resolved by reading ---------------------------------------------------------


def test_case10_a_create_that_landed_is_not_reported_failed(
        account: Account, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    write(tmp_path, "tool.yaml", """
    apiVersion: reconciler/v1
    kind: Tool
    metadata: {name: lookup-tool}
    spec:
      type: webhook
      webhook: {name: lookup, description: Look up, url: "https://api.example.com/x", method: GET}
    """)
    # The POST lands but its answer is lost; then the listing that would prove it fails for a while.
    account.app.faults_script += [Fault("POST", r"^/v2/ai/tools$", 502, 1, after_apply=True),
                                  Fault("GET", r"^/v2/ai/tools$", 502, 9, armed_by=r"^POST /v2/ai/tools$")]
    code, out, err = cli(capsys, "apply", "--auto-approve", str(tmp_path))
    account.app.faults_script.clear()
    assert "FAILED" not in out.upper().replace("0 FAILED", ""), out
    with account.api() as http:
        tools = [t for t in http.get("/ai/tools").json()["data"] if t["display_name"] == "lookup-tool"]
    assert len(tools) == 1
    assert code == 0 or "unknown" in (out + err).lower(), out + err


# --- 11. --target addresses, renderer glitches, huge values ----------------------------------------------------


def test_case11_target_takes_the_printed_address(
        account: Account, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", B2_BOT.replace("b2-bot", "bw-soporte-es"))
    write(tmp_path, "b.yaml", B2_BOT.replace("b2-bot", "bw-other"))
    doc = plan_doc(capsys, "--target", "assistant.bw-soporte-es", str(tmp_path))
    assert [r["address"] for r in doc["resource_changes"]] == ["assistant.bw-soporte-es"]
    # The CLI contract's KIND/NAME names the same address; anything else is refused, saying what is taken.
    doc = plan_doc(capsys, "--target", "Assistant/bw-soporte-es", str(tmp_path))
    assert [r["address"] for r in doc["resource_changes"]] == ["assistant.bw-soporte-es"]
    code, _, err = cli(capsys, "plan", "--target", "bw-soporte-es", str(tmp_path))
    assert code == 1 and "assistant.NAME" in err and "Assistant/NAME" in err, err
    code, _, err = cli(capsys, "plan", "--target", "assistant.nobody", str(tmp_path))
    assert code == 1 and "no such resource in the plan: assistant.nobody" in err, err


def test_case11_markdown_context_lines_align_and_one_line_changes_have_no_ellipsis(
        account: Account, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    prompt = "\n".join(f"Line {i} of the prompt." for i in range(12))
    write(tmp_path, "bot.yaml", B2_BOT.replace("instructions: Be helpful.",
                                               "instructions: |\n    " + prompt.replace("\n", "\n    ")))
    assert cli(capsys, "apply", "--auto-approve", str(tmp_path))[0] == 0
    write(tmp_path, "bot.yaml", (tmp_path / "bot.yaml").read_text().replace("Line 6 of", "Line six of"))
    _, md, _ = cli(capsys, "plan", "--format", "markdown", str(tmp_path))
    block = md.split("```diff", 1)[1].split("```", 1)[0].strip("\n").splitlines()
    minus = next(line for line in block if line.startswith("-"))
    context = [line for line in block if line[:1] == " " and "Line" in line]
    assert context, block
    assert all(line[1:].startswith("Line") for line in context), block
    assert minus[1:].startswith("Line") and minus.index("Line") == context[0].index("Line"), block
    write(tmp_path, "one.yaml", B2_BOT.replace("b2-bot", "one-liner"))
    assert cli(capsys, "apply", "--auto-approve", str(tmp_path))[0] == 0
    write(tmp_path, "one.yaml", B2_BOT.replace("b2-bot", "one-liner").replace("Be helpful.", "Be kind."))
    _, md, _ = cli(capsys, "plan", "--format", "markdown", str(tmp_path))
    section = md.split("one-liner", 1)[1]
    assert "..." not in section and "…" not in section, section


def test_case11_a_destroy_says_what_is_destroyed(
        account: Account, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", B2_BOT.replace("b2-bot", "keeper"))
    gone = write(tmp_path, "b.yaml", B2_BOT.replace("b2-bot", "leaver"))
    assert cli(capsys, "apply", "--auto-approve", str(tmp_path))[0] == 0
    gone.unlink()
    for fmt in ("text", "markdown"):
        _, out, _ = cli(capsys, "plan", "--prune", "--format", fmt, str(tmp_path))
        assert "no field changes" not in out, out
        assert "Be helpful." in out, out  # what goes is shown


# Fixed with issue 17: a referenced file is read up to 1 MiB (reconciler/manifest/limits.py).
def test_case11_a_prompt_beyond_the_api_maximum_is_an_error(
        account: Account, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    (tmp_path / "huge.md").write_text("x" * (30 * 1024 * 1024))
    write(tmp_path, "bot.yaml", B2_BOT.replace("instructions: Be helpful.", "instructions_file: huge.md"))
    code, out, err = cli(capsys, "plan", str(tmp_path))
    assert code == 1 and "instructions" in err, err
    assert len(out) + len(err) < 10_000
    assert account.app.writes() == []


def test_case11_plans_truncate_huge_values_with_a_note(
        account: Account, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    big = "word " * 20_000  # 100 kB: valid, but not for printing whole
    write(tmp_path, "bot.yaml", B2_BOT.replace("instructions: Be helpful.", f"instructions: {json.dumps(big)}"))
    code, out, _ = cli(capsys, "plan", str(tmp_path))
    assert code == 0
    assert len(out) < 20_000 and "truncated" in out, len(out)
