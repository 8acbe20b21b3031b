"""Issue #11, cases 7-11, black-box like test_issue11_cases.py: saved plans bind their secrets and go
stale only on what they touch, export writes no secret, waits are bounded, an uncertain outcome is
settled by reading, and --target takes the plan's addresses."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.promise.support import (
    B2_BOT,
    LOOKUP_TOOL,
    SECRET_HOOK,
    Account,
    Fault,
    Hang,
    account,
    cli,
    plan_doc,
    sdk,
    write,
)

__all__ = ["account"]  # the fixture, imported for pytest


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
    write(tmp_path, "tool.yaml", LOOKUP_TOOL)
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
