"""Updates land as the plan shows them, and a second plan is clean: a field removed from an McpServer
is cleared (explicit null), an AssistantTest field the update cannot clear is cleared as the plan
says, a test's create shows every field it sends, and a new version carries, for `ignore_changes`
paths, what its plan says (main's live value). The real emulator over loopback, the CLI in-process."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.promise.support import Account, account, changes_of, cli, plan_doc, write

__all__ = ["account"]  # the fixture, imported for pytest

MCP = """
apiVersion: reconciler/v1
kind: McpServer
metadata: {name: crm}
spec:
  type: http
  url: https://mcp.example.com/crm
  api_key_ref: crm-key
  allowed_tools: [lookup_customer]
"""


def _apply(capsys: pytest.CaptureFixture[str], folder: Path) -> str:
    code, out, err = cli(capsys, "apply", "--auto-approve", str(folder))
    assert code == 0, out + err
    return out


def _mcp(account: Account) -> dict[str, Any]:
    with account.api() as http:
        found = [s for s in http.get("/ai/mcp_servers").json() if s["name"] == "crm"]
    assert len(found) == 1
    return dict(found[0])


@pytest.mark.parametrize("line", ["  api_key_ref: crm-key\n", "  allowed_tools: [lookup_customer]\n"])
def test_a_field_removed_from_an_mcp_server_is_cleared_and_the_next_plan_is_clean(
        account: Account, capsys: pytest.CaptureFixture[str], tmp_path: Path, line: str) -> None:
    path = write(tmp_path, "m/crm.yaml", MCP)
    _apply(capsys, tmp_path / "m")
    path.write_text(path.read_text().replace(line, ""))
    field = line.split(":")[0].strip()
    doc = plan_doc(capsys, str(tmp_path / "m"))
    assert changes_of(doc, "mcp_server.crm")[field]["after"] is None
    account.app.clear_log()
    _apply(capsys, tmp_path / "m")
    (put,) = account.app.writes()
    assert put.method == "PUT" and field in put.body and put.body[field] is None, put.body
    assert _mcp(account).get(field) is None
    assert plan_doc(capsys, str(tmp_path / "m"))["_exit"] == 0


TEST = """
apiVersion: reconciler/v1
kind: AssistantTest
metadata: {name: t1}
spec:
  destination: "+15550001111"
  telnyx_conversation_channel: sms_chat
  instructions: Ask for a refund.
  rubric: [{name: Accuracy, criteria: It explains the policy.}]
  description: Checks refunds.
  max_duration_seconds: 120
  test_suite: smoke
"""


def _tests(account: Account) -> list[dict[str, Any]]:
    with account.api() as http:
        return [t for t in http.get("/ai/assistants/tests").json()["data"] if t["name"] == "t1"]


@pytest.mark.parametrize("line", ["  description: Checks refunds.\n", "  max_duration_seconds: 120\n",
                                  "  test_suite: smoke\n"])
def test_an_optional_field_removed_from_a_test_is_cleared_as_the_plan_shows_and_converges(
        account: Account, capsys: pytest.CaptureFixture[str], tmp_path: Path, line: str) -> None:
    path = write(tmp_path, "m/t1.yaml", TEST)
    _apply(capsys, tmp_path / "m")
    path.write_text(path.read_text().replace(line, ""))
    field = line.split(":")[0].strip()
    doc = plan_doc(capsys, str(tmp_path / "m"))
    rc = next(r for r in doc["resource_changes"] if r["address"] == "assistant_test.t1")
    shown = {c["path"]: c for c in rc["changes"]}
    account.app.clear_log()
    _apply(capsys, tmp_path / "m")
    writes = account.app.writes()
    assert all(w.status < 300 for w in writes), writes
    sent = [w for w in writes if w.method in ("PUT", "POST")]
    assert len(sent) == 1
    (live,) = _tests(account)
    if field == "max_duration_seconds":
        # No update value means "the system default": the test is replaced, and the plan says so.
        assert rc["actions"] == ["delete", "create"] and "replace" in (rc.get("reason") or "")
        assert [w.method for w in writes] == ["DELETE", "POST"] and field not in sent[0].body
        assert live.get(field) is None
    else:
        # The update takes a string, not null: "" is what clears it, and what the plan shows.
        assert rc["actions"] == ["update"] and shown[field]["after"] == ""
        assert sent[0].method == "PUT" and sent[0].body == {field: ""}
        assert live.get(field) in ("", None)
    assert plan_doc(capsys, str(tmp_path / "m"))["_exit"] == 0


def test_creating_a_test_shows_the_ignored_fields_it_sends(
        account: Account, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    write(tmp_path, "m/t1.yaml", TEST.replace("metadata: {name: t1}",
                                             "metadata: {name: t1, ignore_changes: [description]}"))
    doc = plan_doc(capsys, str(tmp_path / "m"))
    shown = changes_of(doc, "assistant_test.t1")
    account.app.clear_log()
    _apply(capsys, tmp_path / "m")
    (post,) = account.app.writes()
    assert post.body["description"] == "Checks refunds."
    assert shown["description"]["after"] == "Checks refunds."
    assert set(post.body) == set(shown) - {"assistant"}


BOT = """
apiVersion: reconciler/v1
kind: Assistant
metadata: {name: bot, ignore_changes: [greeting, voice_settings.voice_speed]}
spec:
  instructions: Be helpful.
  greeting: hello
  voice_settings: {voice: Telnyx.KokoroTTS.af, voice_speed: 1.0}
"""


def test_a_new_version_takes_mains_live_value_at_ignored_paths(
        account: Account, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = write(tmp_path, "m/bot.yaml", BOT)
    _apply(capsys, tmp_path / "m")
    bot = account.assistant("bot")
    with account.api() as http:  # the portal edits what the manifest leaves to it
        edit = {"greeting": "portal greeting",
                "voice_settings": {**bot["voice_settings"], "voice_speed": 1.5}}
        assert http.post(f"/ai/assistants/{bot['id']}", json=edit).status_code == 200
    path.write_text(path.read_text() + "  versions: [{name: v1, spec: {description: other}}]\n")
    doc = plan_doc(capsys, str(tmp_path / "m"))
    assert changes_of(doc, "assistant.bot") == {}
    shown = changes_of(doc, "assistant.bot.version.v1")
    account.app.clear_log()
    _apply(capsys, tmp_path / "m")
    (post,) = account.app.writes()
    # "The rest is main's": the version is a copy of main as it is after this apply, and main keeps
    # its live value at the ignored paths, so that is what the version gets (and what is sent).
    assert post.body["greeting"] == "portal greeting" and post.body["voice_settings"]["voice_speed"] == 1.5
    assert set(shown) == {"description"}
    (v1,) = [v for v in account.versions(bot["id"]) if v.get("version_name") == "v1"]
    assert v1["greeting"] == "portal greeting" and v1["voice_settings"]["voice_speed"] == 1.5
    assert v1["description"] == "other"
    assert plan_doc(capsys, str(tmp_path / "m"))["_exit"] == 0


def test_an_ignored_path_the_version_overlay_sets_is_shown_and_sent(
        account: Account, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = write(tmp_path, "m/bot.yaml", BOT)
    _apply(capsys, tmp_path / "m")
    path.write_text(path.read_text() + "  versions: [{name: v1, spec: {greeting: hi from v1}}]\n")
    doc = plan_doc(capsys, str(tmp_path / "m"))
    assert changes_of(doc, "assistant.bot.version.v1")["greeting"]["after"] == "hi from v1"
    account.app.clear_log()
    _apply(capsys, tmp_path / "m")
    (post,) = account.app.writes()
    assert post.body["greeting"] == "hi from v1"
