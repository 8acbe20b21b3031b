"""`reconciler apply` end to end over real loopback HTTP: confirmation, progress (text and JSON lines),
exit codes, saved plans (fresh and stale), ownership under --prune, and `make demo`'s script."""

from __future__ import annotations

import contextlib
import io
import json
import os
import pty
import shutil
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from reconciler.cli import main
from reconciler.emulator.server import serve_in_thread
from tests.support.emulator import API_KEY, Emulator
from tests.support.paths import EXAMPLES, REPO
from tests.support.project import OWNER, RefusingApp, snapshot

Capsys = pytest.CaptureFixture[str]


def api(loopback: Emulator) -> httpx.Client:
    return httpx.Client(base_url=loopback.base_url, headers={"Authorization": f"Bearer {API_KEY}"}, timeout=10)


def names(loopback: Emulator) -> list[str]:
    return sorted(r["versions"][r["main"]]["name"] for r in loopback.app.state.assistants.values())


def test_apply_prints_progress_and_converges(loopback: Emulator, capsys: Capsys) -> None:
    assert main(["apply", "--auto-approve", str(EXAMPLES)]) == 0
    out = capsys.readouterr().out
    assert "Plan: 6 to add, 0 to change, 0 to destroy." in out
    for address in ("tool.order-lookup", "assistant.acme-support.version.concise-greeting"):
        assert f"{address}: creating..." in out
        assert f"{address}: created in " in out
    assert "Apply complete! 6 done, 0 failed, 0 skipped" in out
    assert main(["plan", "--detailed-exitcode", str(EXAMPLES)]) == 0
    # Nothing to do: no confirmation needed, even without a terminal.
    assert main(["apply", str(EXAMPLES)]) == 0
    assert "No changes." in capsys.readouterr().out


def test_without_a_terminal_and_without_auto_approve_apply_refuses(
        loopback: Emulator, capsys: Capsys, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO("yes\n"))  # piped input is not a confirmation
    assert main(["apply", str(EXAMPLES)]) == 1
    captured = capsys.readouterr()
    assert "stdin is not a terminal" in captured.err and "--auto-approve" in captured.err
    assert "Plan: 6 to add" in captured.out  # it still says what it would have done
    assert loopback.app.state.assistants == {} and loopback.app.state.tools == {}


def _on_a_terminal(loopback: Emulator, answer: str) -> tuple[int, str]:
    """Run the CLI in a subprocess whose stdin is a pseudo-terminal, answering the prompt."""
    controller, terminal = pty.openpty()
    env = {**os.environ, "TELNYX_BASE_URL": loopback.base_url, "TELNYX_API_KEY": API_KEY}
    try:
        proc = subprocess.Popen([sys.executable, "-m", "reconciler", "apply", str(EXAMPLES)], stdin=terminal,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, cwd=REPO)
        os.write(controller, answer.encode() + b"\n")
        out, err = proc.communicate(timeout=60)
    finally:
        os.close(controller)
        os.close(terminal)
    return proc.returncode, out.decode() + err.decode()


def test_on_a_terminal_apply_asks_and_only_yes_goes_ahead(loopback: Emulator) -> None:
    code, output = _on_a_terminal(loopback, "no")
    assert code == 1 and "Do you want to perform these actions?" in output and "cancelled" in output
    assert loopback.app.state.assistants == {}
    code, output = _on_a_terminal(loopback, "yes")
    assert code == 0, output
    assert names(loopback) == ["acme-sms", "acme-support"]


def test_json_progress_is_one_json_object_per_line(loopback: Emulator, capsys: Capsys) -> None:
    assert main(["apply", "--auto-approve", "--format", "json", str(EXAMPLES)]) == 0
    events = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert events[0]["type"] == "plan" and events[0]["plan"]["summary"] == {"add": 6, "change": 0, "destroy": 0}
    starts = [e["address"] for e in events if e["type"] == "apply_start"]
    completes = [e for e in events if e["type"] == "apply_complete"]
    assert sorted(starts) == sorted(e["address"] for e in completes) and len(starts) == 6
    assert all(e["duration_s"] >= 0 and e["action"] == "create" for e in completes)
    assert events[-1]["type"] == "apply_summary" and events[-1]["ok"] is True
    assert events[-1]["counts"] == {"done": 6, "failed": 0, "skipped": 0, "unknown": 0}


def test_a_partial_failure_reports_done_failed_skipped_and_exits_1(
        tmp_path: Path, capsys: Capsys, monkeypatch: pytest.MonkeyPatch) -> None:
    app = RefusingApp()
    url, stop = serve_in_thread(app)
    monkeypatch.setenv("TELNYX_API_KEY", API_KEY)
    monkeypatch.setenv("TELNYX_BASE_URL", f"{url}/v2")
    try:
        assert main(["apply", "--auto-approve", str(EXAMPLES)]) == 1
        captured = capsys.readouterr()
        out = captured.out
        assert "error: apply finished with 1 failed and 3 skipped step(s)" in captured.err
        assert "mcp_server.crm: FAILED after" in out and "MCP servers are disabled" in out
        assert "Apply FAILED. 2 done, 1 failed, 3 skipped" in out
        assert "Done:\n  tool.order-lookup: created\n  assistant.acme-sms: created\nFailed:\n  mcp_server.crm:" in out
        assert "assistant.acme-support: skipped (depends on mcp_server.crm, which failed)" in out
        assert "Skipped (nothing was sent for them):\n  assistant.acme-support" in out
        app.refuse = False
        assert main(["apply", "--auto-approve", str(EXAMPLES)]) == 0  # running it again finishes the job
        assert "Apply complete! 4 done" in capsys.readouterr().out
        assert main(["plan", "--detailed-exitcode", str(EXAMPLES)]) == 0
    finally:
        stop()


def test_a_saved_plan_applies_when_fresh(loopback: Emulator, tmp_path: Path, capsys: Capsys) -> None:
    saved = tmp_path / "plan.json"
    assert main(["plan", "--out", str(saved), str(EXAMPLES)]) == 0
    assert main(["apply", "--auto-approve", str(saved)]) == 0
    assert "Apply complete! 6 done" in capsys.readouterr().out
    assert main(["plan", "--detailed-exitcode", str(EXAMPLES)]) == 0


def test_a_stale_saved_plan_is_refused_and_changes_nothing(
        loopback: Emulator, tmp_path: Path, capsys: Capsys) -> None:
    project = tmp_path / "manifests"
    shutil.copytree(EXAMPLES, project)
    assert main(["apply", "--auto-approve", str(project)]) == 0
    sms = project / "sms-assistant.yaml"
    sms.write_text(sms.read_text().replace("conversation_inactivity_minutes: 1440",
                                           "conversation_inactivity_minutes: 60"))
    saved = tmp_path / "plan.json"
    assert main(["plan", "--out", str(saved), str(project)]) == 0
    # Behind the plan's back: someone edits the assistant the plan would update.
    (sms_id,) = [a for a, r in loopback.app.state.assistants.items() if r["versions"][r["main"]]["name"] == "acme-sms"]
    with api(loopback) as http:
        http.post(f"/ai/assistants/{sms_id}", json={"greeting": "edited in the portal"}).raise_for_status()
    before = snapshot(loopback.app)
    capsys.readouterr()
    assert main(["apply", "--auto-approve", str(saved)]) == 1
    err = capsys.readouterr().err
    assert "the plan is stale: re-run plan" in err and f"assistant acme-sms ({sms_id})" in err
    assert err.count(sms_id) == 1, err  # named once, with what else of it changed (its versions)
    assert snapshot(loopback.app) == before


def test_prune_deletes_only_what_it_owns_and_refuses_protected(
        loopback: Emulator, tmp_path: Path, capsys: Capsys) -> None:
    project = tmp_path / "manifests"
    shutil.copytree(EXAMPLES, project)
    (project / "vault.yaml").write_text("""apiVersion: reconciler/v1
kind: Assistant
metadata: {name: vault, protect: true}
spec: {instructions: Guard the vault.}
""")
    assert main(["apply", "--auto-approve", str(project)]) == 0
    with api(loopback) as http:  # made outside reconciler: no owner tag
        http.post("/ai/assistants", json={"name": "hand-made", "instructions": "portal"}).raise_for_status()
    (project / "sms-assistant.yaml").unlink()
    assert main(["apply", "--auto-approve", "--prune", str(project)]) == 0
    assert "assistant.acme-sms: deleted in" in capsys.readouterr().out
    assert names(loopback) == ["acme-support", "hand-made", "vault"]
    # The protection lives on the assistant: deleting its manifest does not lift it.
    (project / "vault.yaml").unlink()
    before = snapshot(loopback.app)
    # Refused with a clear message; nothing else is blocked, nothing is changed.
    assert main(["apply", "--auto-approve", "--prune", str(project)]) == 0
    out = capsys.readouterr().out
    assert "Warning: assistant.vault: not deleted: protected" in out
    assert snapshot(loopback.app) == before
    for rec in loopback.app.state.assistants.values():
        main_version = rec["versions"][rec["main"]]
        assert (OWNER in main_version.get("tags", [])) == (main_version["name"] != "hand-made")


def test_make_demo_script_completes() -> None:
    env = {**os.environ, "PATH": f"{REPO / '.venv' / 'bin'}{os.pathsep}{os.environ['PATH']}"}
    env.pop("TELNYX_BASE_URL", None)
    proc = subprocess.run(["bash", "scripts/demo.sh"], cwd=REPO, env=env, capture_output=True, text=True,
                          timeout=120, stdin=subprocess.DEVNULL)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert "Apply complete!" in proc.stdout
    assert proc.stdout.rstrip().endswith("Plan: 0 to add, 0 to change, 0 to destroy.")


def _children(pid: int) -> dict[int, str]:
    """The processes whose parent is `pid`, with their command lines (Linux /proc)."""
    found = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(fields[1]) == pid:
                found[int(stat.parent.name)] = (stat.parent / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except (OSError, IndexError, ValueError):
            continue  # gone meanwhile
    return found


@pytest.mark.skipif(not Path("/proc/self/stat").is_file(), reason="reads /proc to find the script's emulator")
def test_make_demo_script_cut_short_by_a_closed_pipe_stops_its_emulator() -> None:
    """`make demo 2>&1 | head -3`: the shell's own trace then meets the closed pipe, so the shell takes
    SIGPIPE; its emulator must be gone by the time the script is, and the status say SIGPIPE."""
    env = {**os.environ, "PATH": f"{REPO / '.venv' / 'bin'}{os.pathsep}{os.environ['PATH']}"}
    env.pop("TELNYX_BASE_URL", None)
    # restore_signals (the default) gives the script SIGPIPE at its default, as a shell would.
    proc = subprocess.Popen(["bash", "scripts/demo.sh"], cwd=REPO, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    emulators: list[int] = []
    try:
        assert proc.stdout is not None
        head = [proc.stdout.readline() for _ in range(3)]
        emulators = [pid for pid, cmd in _children(proc.pid).items() if "reconciler emulator" in cmd]
        assert len(emulators) == 1, (head, _children(proc.pid))
        proc.stdout.close()  # the reader goes away, as head does
        code = proc.wait(timeout=60)
        # SIGPIPE either way: a step's own 141 (`reconciler` stops so on a closed pipe) ended the script
        # under `set -e`, or the shell died of the signal itself (-13, as Popen reports that).
        assert code in (128 + 13, -13), head
        with pytest.raises(ProcessLookupError):
            os.kill(emulators[0], 0)
    finally:
        if proc.poll() is None:
            proc.kill()
        for pid in emulators:  # only the script's own emulator, if the script failed to stop it
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, 15)


def test_target_applies_the_resource_and_what_it_needs_only(loopback: Emulator, capsys: Capsys) -> None:
    assert main(["apply", "--auto-approve", "--target", "assistant.acme-sms", str(EXAMPLES)]) == 0
    assert names(loopback) == ["acme-sms"]
    assert [t["display_name"] for t in loopback.app.state.tools.values()] == ["order-lookup"]
    assert loopback.app.state.mcp_servers == {}
    assert main(["apply", "--auto-approve", str(EXAMPLES)]) == 0
    assert "Apply complete! 4 done" in capsys.readouterr().out


def test_a_stale_plan_names_each_changed_object_once() -> None:
    """An assistant edited in the portal changes its own read and its versions' (the main version is
    one of them): one name, with what else of it changed."""
    from reconciler.apply.savedplan import SavedPlan, check_fresh
    from reconciler.errors import StalePlanError
    from reconciler.model import DesiredState, LiveState

    keys = ["assistant/a1", "assistant/a1/versions", "assistant/a2/canary"]
    saved = SavedPlan(document={"resource_changes": [{"id": "a1"}, {"id": "a2"}]}, desired=DesiredState(),
                      fingerprints={k: "old" for k in keys})
    live = LiveState(assistants=[{"id": "a1", "name": "bot"}, {"id": "a2", "name": "other"}],
                     fingerprints={k: "new" for k in keys})
    with pytest.raises(StalePlanError) as exc:
        check_fresh(saved, live)
    assert str(exc.value) == ("the plan is stale: re-run plan (changed since it was made: assistant bot (a1) and "
                              "its versions; assistant other (a2): its canary)")


def test_target_brings_the_pending_update_of_a_tool_it_uses(loopback: Emulator, tmp_path: Path,
                                                             capsys: Capsys) -> None:
    """As Terraform's -target does: an assistant targeted is applied with the change of the shared
    tool it names, not against the tool as it is live; an assistant that does not use it stays out."""
    folder = tmp_path / "m"
    shutil.copytree(EXAMPLES, folder)
    assert main(["apply", "--auto-approve", str(folder)]) == 0
    shared = folder / "shared.yaml"
    shared.write_text(shared.read_text(encoding="utf-8").replace("timeout_ms: 5000", "timeout_ms: 7000"),
                      encoding="utf-8")
    sms = folder / "sms-assistant.yaml"
    text = sms.read_text(encoding="utf-8")
    assert "shared_tools: [order-lookup]" in text and "tags: [support, sms, production]" in text
    sms.write_text(text.replace("tags: [support, sms, production]", "tags: [support, sms, production, new]"),
                   encoding="utf-8")
    capsys.readouterr()
    assert main(["plan", "--format", "json", "--target", "assistant.acme-sms", str(folder)]) == 0
    changed = sorted(rc["address"] for rc in json.loads(capsys.readouterr().out)["resource_changes"]
                     if rc["actions"] != ["no-op"])
    assert changed == ["assistant.acme-sms", "tool.order-lookup"]
    assert main(["apply", "--auto-approve", "--target", "assistant.acme-sms", str(folder)]) == 0
    assert [t["timeout_ms"] for t in loopback.app.state.tools.values()] == [7000]
    capsys.readouterr()
    assert main(["plan", "--detailed-exitcode", str(folder)]) == 0
