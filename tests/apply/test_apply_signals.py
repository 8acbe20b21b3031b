"""An apply cut short by a signal, in a real process: Ctrl-C (SIGINT) and a CI job's cancel (SIGTERM)
both stop it with the same report of the steps in flight (their outcome unknown), exit 130 and 143."""

from __future__ import annotations

import os
import selectors
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.support.emulator import API_KEY, Emulator
from tests.support.paths import REPO

TOOLS = "".join(f"""---
apiVersion: reconciler/v1
kind: Tool
metadata: {{name: t{i}}}
spec:
  type: webhook
  webhook: {{name: t{i}, description: d, url: "https://example.com/{i}"}}
""" for i in range(4))


def _ignore_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # as a job put in the background of a script starts


def _default_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)  # as from a terminal, even when pytest runs in the background


@pytest.mark.parametrize(("sig", "code", "background"), [
    pytest.param(signal.SIGINT, 130, False, id="ctrl-c"),
    pytest.param(signal.SIGTERM, 143, False, id="sigterm"),
    pytest.param(signal.SIGTERM, 143, True, id="sigterm-sigint-ignored"),
])
def test_a_signal_mid_apply_reports_the_steps_in_flight(emulator: Emulator, tmp_path: Path, sig: int, code: int,
                                                        background: bool) -> None:
    (tmp_path / "tools.yaml").write_text(TOOLS)
    emulator.control("faults", {"latency_ms": 1500})  # long enough that the creates are in flight
    env = {**os.environ, "PYTHONPATH": str(REPO), "TELNYX_API_KEY": API_KEY, "TELNYX_BASE_URL": emulator.base_url}
    proc = subprocess.Popen([sys.executable, "-m", "reconciler", "apply", "--auto-approve", "--parallelism", "4",
                             str(tmp_path)], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=_ignore_sigint if background else _default_sigint)
    assert proc.stdout is not None
    seen, deadline = "", time.monotonic() + 30
    with selectors.DefaultSelector() as sel:
        sel.register(proc.stdout, selectors.EVENT_READ)
        while "creating..." not in seen and time.monotonic() < deadline:
            if sel.select(timeout=1):
                line = proc.stdout.readline()
                if not line:
                    break  # the process ended
                seen += line
    assert "creating..." in seen, seen
    time.sleep(0.3)  # the creates sent: each waits on the emulator's latency
    proc.send_signal(sig)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == code, err
    assert "Traceback" not in err
    report = seen + out + err
    assert "interrupted" in report
    assert "run plan again to see whether it landed" in report  # the steps in flight, said unknown
