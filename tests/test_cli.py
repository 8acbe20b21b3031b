from __future__ import annotations

import os
import subprocess
import sys
import weakref

import pytest

from reconciler import gcpause
from reconciler.cli import build_parser, main
from tests.support.emulator import API_KEY, Emulator, serve
from tests.support.paths import EXAMPLES, REPO


def test_version_flag(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["--version"])
    assert exc.value.code == 0
    assert "reconciler" in capsys.readouterr().out


def test_every_contract_command_parses() -> None:
    parser = build_parser()
    for argv in (
        ["validate", "x"],
        ["plan", "x", "--format", "json", "--detailed-exitcode", "--prune", "--target", "assistant.a"],
        ["apply", "x", "--auto-approve"],
        ["export", "--out", "d", "--kind", "Assistant"],
        ["emulator", "--port", "1", "--latency-ms", "5", "--state-file", "s", "--api-key", "k"],
    ):
        assert parser.parse_args(argv).command == argv[0]


def test_a_reader_that_goes_away_ends_the_command_quietly() -> None:
    # `reconciler validate ... | head`: the pipe closes before the output is written.
    with subprocess.Popen([sys.executable, "-m", "reconciler", "validate", str(EXAMPLES)], cwd=REPO,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE) as proc:
        assert proc.stdout is not None and proc.stderr is not None
        proc.stdout.close()
        err = proc.stderr.read().decode()
        code = proc.wait(timeout=60)
    assert code == 141 and "Traceback" not in err, err


def test_an_apply_whose_output_is_closed_says_so_on_stderr() -> None:
    with serve() as emulator:
        env = {**os.environ, "TELNYX_API_KEY": API_KEY, "TELNYX_BASE_URL": emulator.base_url}
        with subprocess.Popen([sys.executable, "-m", "reconciler", "apply", "--auto-approve", str(EXAMPLES)],
                              cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE) as proc:
            assert proc.stdout is not None and proc.stderr is not None
            proc.stdout.close()
            err = proc.stderr.read().decode()
            code = proc.wait(timeout=60)
    assert code == 141 and "Traceback" not in err, err
    assert "standard output was closed during apply" in err and "run plan" in err, err


FULL = "/dev/full"  # Linux: every write fails with ENOSPC, as on a full disk


@pytest.mark.skipif(not os.path.exists(FULL), reason="needs /dev/full (Linux)")
@pytest.mark.parametrize("buffered", [True, False])
@pytest.mark.parametrize("command", [["validate", str(EXAMPLES)], ["plan", "--detailed-exitcode", str(EXAMPLES)],
                                     ["apply", "--auto-approve", str(EXAMPLES)]])
def test_output_that_cannot_be_written_is_an_error(command: list[str], buffered: bool) -> None:
    """A full disk under `plan > plan.txt`: one line on stderr and exit 1, not an empty plan file with
    exit 0 (or 2, "changes"). Buffered, the output is lost at the last flush; unbuffered, at the first
    write."""
    with serve() as emulator, open(FULL, "w") as full:
        env = {**os.environ, "TELNYX_API_KEY": API_KEY, "TELNYX_BASE_URL": emulator.base_url}
        env.pop("PYTHONUNBUFFERED", None)
        if not buffered:
            env["PYTHONUNBUFFERED"] = "1"
        done = subprocess.run([sys.executable, "-m", "reconciler", *command], cwd=REPO, env=env, stdout=full,
                              stderr=subprocess.PIPE, text=True, timeout=60)
    lines = done.stderr.strip().splitlines()
    assert done.returncode == 1 and "Traceback" not in done.stderr, done.stderr
    assert lines[-1].startswith("error: cannot write the output: No space left on device"), done.stderr


def test_a_plan_run_in_process_keeps_nothing_after_it(emulator: Emulator, capsys: pytest.CaptureFixture[str]) -> None:
    # Only `cli.entry`, which ends the process at once, holds a command's objects until the end;
    # `main` called in-process (tests, library use) frees them as usual.
    assert main(["plan", str(EXAMPLES)]) == 0
    assert "Plan:" in capsys.readouterr().out
    assert gcpause._kept == []


def test_objects_are_kept_only_when_the_process_ends_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    class Held:
        pass

    for at_once in (False, True):
        monkeypatch.setattr(gcpause, "ends_at_once", at_once)
        monkeypatch.setattr(gcpause, "_kept", [])
        held = Held()
        ref = weakref.ref(held)
        gcpause.keep_until_exit(held)
        del held
        assert (ref() is not None) is at_once
