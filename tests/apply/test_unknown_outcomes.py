"""Apply when the API cannot say what happened (issue #11 cases 9 and 10, beyond the promise tests):
a step whose write may have landed is `unknown`, settled by reading again after the other steps,
and what depends on it waits for that; the deadline cuts an apply short with its steps in flight
reported unknown. The CLI runs in-process against the real emulator over loopback HTTP, with faults
and hangs scripted by the test-side RecordingApp (nothing of reconciler is mocked)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

import pytest

from reconciler.emulator.app import EmulatorApp, Reply
from reconciler.emulator.server import serve_in_thread
from tests.promise.support import API_KEY, LOOKUP_TOOL, Account, Fault, Hang, RecordingApp, account, cli, write

__all__ = ["account"]  # the fixture, imported for pytest

BOT = """
apiVersion: reconciler/v1
kind: Assistant
metadata: {name: uses-tool}
spec:
  instructions: Be helpful.
  shared_tools: [lookup-tool]
"""


def _tool_ids(account: Account) -> list[str]:
    with account.api() as http:
        return [t["id"] for t in http.get("/ai/tools").json()["data"] if t["display_name"] == "lookup-tool"]


def test_a_create_that_did_not_land_is_failed_once_read_back(
        account: Account, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    write(tmp_path, "tool.yaml", LOOKUP_TOOL)
    # Refused before it was carried out, and the lookup right after gets no answer: unknown, then
    # the read after the run finds nothing.
    account.app.faults_script += [Fault("POST", r"^/v2/ai/tools$", 502, 1),
                                  Fault("GET", r"^/v2/ai/tools$", 502, 3, armed_by=r"^POST /v2/ai/tools$")]
    code, out, err = cli(capsys, "apply", "--auto-approve", str(tmp_path))
    assert code == 1, out + err
    assert "tool.lookup-tool: outcome UNKNOWN" in out, out
    assert "did not land" in out and "Apply FAILED. 0 done, 1 failed" in out, out
    assert _tool_ids(account) == []
    assert [s.method for s in account.app.writes()] == ["POST"]  # read back, never created twice


def test_a_settled_create_gives_its_id_to_the_steps_that_waited_for_it(
        account: Account, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    write(tmp_path, "tool.yaml", LOOKUP_TOOL)
    write(tmp_path, "bot.yaml", BOT)
    account.app.faults_script += [Fault("POST", r"^/v2/ai/tools$", 502, 1, after_apply=True),
                                  Fault("GET", r"^/v2/ai/tools$", 502, 4, armed_by=r"^POST /v2/ai/tools$")]
    code, out, err = cli(capsys, "apply", "--auto-approve", "--format", "json", str(tmp_path))
    assert code == 0, out + err
    events = [json.loads(line) for line in out.splitlines()]
    by_type = [(e["type"], e.get("address")) for e in events if e["type"].startswith("apply_")]
    assert by_type.index(("apply_unknown", "tool.lookup-tool")) < by_type.index(
        ("apply_complete", "tool.lookup-tool")) < by_type.index(("apply_start", "assistant.uses-tool"))
    assert events[-1]["counts"] == {"done": 2, "failed": 0, "skipped": 0, "unknown": 0}
    (tool_id,) = _tool_ids(account)
    assert account.assistant("uses-tool")["tool_ids"] == [tool_id]
    assert cli(capsys, "plan", "--detailed-exitcode", str(tmp_path))[0] == 0


def test_the_deadline_leaves_the_steps_in_flight_unknown(
        account: Account, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    plain = BOT.replace("  shared_tools: [lookup-tool]\n", "")
    write(tmp_path, "bot.yaml", plain)
    assert cli(capsys, "apply", "--auto-approve", str(tmp_path))[0] == 0
    write(tmp_path, "bot.yaml", plain.replace("Be helpful.", "Be brief."))
    account.app.hangs.append(Hang(r"^/v2/ai/assistants/[^/]+$", 4.0))  # the update lands, its answer is late
    code, out, err = cli(capsys, "apply", "--auto-approve", "--deadline", "2", str(tmp_path))
    assert code == 1, out + err
    assert "Traceback" not in err and "the deadline of 2 s passed (--deadline)" in err, err
    assert "update assistant.uses-tool" in err, err  # what was still pending
    assert "assistant.uses-tool: outcome UNKNOWN" in out and "run plan again" in out, out
    assert "FAILED" not in out, out


def test_progress_of_a_slow_apply_goes_to_stderr_and_json_stays_parseable(
        account: Account, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    write(tmp_path, "bot.yaml", BOT.replace("  shared_tools: [lookup-tool]\n", ""))
    code, out, err = cli(capsys, "apply", "--auto-approve", "--format", "json", str(tmp_path))
    assert code == 0, err
    write(tmp_path, "bot.yaml", BOT.replace("  shared_tools: [lookup-tool]\n", "").replace("Be helpful.", "Hi."))
    account.app.hangs.append(Hang(r"^/v2/ai/assistants/[^/]+$", 2.6))
    code, out, err = cli(capsys, "apply", "--auto-approve", "--format", "json", str(tmp_path))
    assert code == 0, err
    assert "waiting for the API: 1 request pending" in err, err
    assert all(json.loads(line)["type"] for line in out.splitlines())


class ForeignTwinApp(RecordingApp):
    """The emulator, except that the first assistant create is refused (502) while another team's
    assistant of the same name appears at that moment; the lookups right after it get no answer."""

    twinned = False

    def dispatch(self, method: str, path: str, query: str, headers: Mapping[str, str], body: bytes) -> Reply:
        if (method, path) == ("POST", "/v2/ai/assistants") and not self.twinned:
            self.twinned = True
            twin = dict(json.loads(body), tags=["team-other"], instructions="Another team's.")
            EmulatorApp.dispatch(self, method, path, query, headers, json.dumps(twin).encode())  # no fault, no log
        return super().dispatch(method, path, query, headers, body)


def test_a_same_named_assistant_of_another_team_is_never_taken_for_the_create(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    app = ForeignTwinApp()
    app.faults_script += [Fault("POST", r"^/v2/ai/assistants$", 502, 1),
                          Fault("GET", r"^/v2/ai/assistants$", 502, 3, armed_by=r"^POST /v2/ai/assistants$")]
    url, stop = serve_in_thread(app)
    monkeypatch.setenv("TELNYX_API_KEY", API_KEY)
    monkeypatch.setenv("TELNYX_BASE_URL", f"{url}/v2")
    monkeypatch.setenv("NO_COLOR", "1")
    try:
        write(tmp_path, "bot.yaml", BOT.replace("  shared_tools: [lookup-tool]\n", ""))
        code, out, err = cli(capsys, "apply", "--auto-approve", str(tmp_path))
        writes = [(s.method, s.path) for s in app.writes()]
    finally:
        stop()
    assert app.twinned
    # Settled by reading: the only live assistant of that name is not this project's, so the create
    # did not land; nothing was sent to the other team's assistant.
    assert code == 1 and "did not land" in out, out + err
    assert writes == [("POST", "/ai/assistants")], writes
