"""`--state-file` persistence across restarts, and the `reconciler emulator` command end to end."""

from __future__ import annotations

import json
import os
import re
import selectors
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

REPO = Path(__file__).resolve().parents[2]


def test_state_survives_a_restart(tmp_path: Path, start_emulator: Callable[..., Any],
                                  make_client: Callable[..., httpx.Client]) -> None:
    state = tmp_path / "state" / "emulator.json"
    first = start_emulator(state_file=state)
    api = make_client(f"{first.url}/v2")
    tool = api.post("/ai/tools", json={"type": "webhook", "display_name": "t"}).json()
    bot = api.post("/ai/assistants", json={"name": "n", "instructions": "i", "tool_ids": [tool["id"]]}).json()
    draft = api.post(f"/ai/assistants/{bot['id']}", json={"promote_to_main": False}).json()
    api.post(f"/ai/assistants/{bot['id']}/canary-deploys",
             json={"versions": [{"version_id": draft["version_id"], "percentage": 10}]})
    api.post("/ai/mcp_servers", json={"name": "m", "type": "sse", "url": "https://m"},
             headers={"Idempotency-Key": "once"})
    assert json.loads(state.read_text())["assistants"][bot["id"]]["main"] == bot["version_id"]
    assert [p.name for p in state.parent.iterdir()] == ["emulator.json"]  # no temp files left behind

    second = start_emulator(state_file=state)
    again = make_client(f"{second.url}/v2")
    assert again.get(f"/ai/assistants/{bot['id']}").json() == api.get(f"/ai/assistants/{bot['id']}").json()
    assert len(again.get(f"/ai/assistants/{bot['id']}/versions").json()["data"]) == 2
    assert again.get(f"/ai/assistants/{bot['id']}/canary-deploys").status_code == 200
    replay = again.post("/ai/mcp_servers", json={"name": "m", "type": "sse", "url": "https://m"},
                        headers={"Idempotency-Key": "once"})
    assert replay.status_code == 200 and len(again.get("/ai/mcp_servers").json()) == 1

    make_client(second.url, key=None).post("/_emulator/reset")
    assert json.loads(state.read_text())["assistants"] == {}


def test_reads_do_not_rewrite_the_state_file(tmp_path: Path, start_emulator: Callable[..., Any],
                                             make_client: Callable[..., httpx.Client]) -> None:
    state = tmp_path / "s.json"
    emu = start_emulator(state_file=state)
    api = make_client(f"{emu.url}/v2")
    api.post("/ai/assistants", json={"name": "n", "instructions": "i"})
    before = state.stat().st_mtime_ns
    for _ in range(5):
        api.get("/ai/assistants")
        api.post("/ai/assistants", json={"name": 1})  # rejected: nothing changed
    assert state.stat().st_mtime_ns == before


@pytest.fixture
def cli_emulator(tmp_path: Path) -> Iterator[Callable[..., tuple[subprocess.Popen[str], str]]]:
    procs: list[subprocess.Popen[str]] = []

    def start(*args: str) -> tuple[subprocess.Popen[str], str]:
        env = {**os.environ, "PYTHONPATH": str(REPO)}
        proc = subprocess.Popen([sys.executable, "-m", "reconciler", "emulator", "--port", "0", *args],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=tmp_path)
        procs.append(proc)
        assert proc.stdout is not None
        sel = selectors.DefaultSelector()
        sel.register(proc.stdout, selectors.EVENT_READ)
        assert sel.select(timeout=20), "the emulator printed nothing within 20 s"
        line = proc.stdout.readline()
        found = re.search(r"http://127\.0\.0\.1:\d+", line)
        assert found, line
        return proc, found.group(0)

    yield start
    for proc in procs:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=10)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_cli_serves_until_signalled_then_exits_0(cli_emulator: Callable[..., Any], tmp_path: Path,
                                                 make_client: Callable[..., httpx.Client], sig: int) -> None:
    proc, url = cli_emulator("--api-key", "sk-cli", "--latency-ms", "1", "--state-file", str(tmp_path / "s.json"))
    api = make_client(f"{url}/v2", key="sk-cli")
    assert api.post("/ai/assistants", json={"name": "n", "instructions": "i"}).status_code == 200
    assert make_client(f"{url}/v2", key="other").get("/ai/assistants").status_code == 401
    assert (tmp_path / "s.json").is_file()
    proc.send_signal(sig)
    assert proc.wait(timeout=10) == 0
    assert "sk-cli" not in proc.stderr.read()
