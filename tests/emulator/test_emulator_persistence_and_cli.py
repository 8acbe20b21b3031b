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
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from reconciler.emulator.app import EmulatorApp
from reconciler.errors import ConfigError
from tests.support.paths import REPO


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
    before = api.get(f"/ai/assistants/{bot['id']}").json()
    first.stop()
    assert json.loads(state.read_text())["assistants"][bot["id"]]["main"] == bot["version_id"]
    assert [p.name for p in state.parent.iterdir()] == ["emulator.json"]  # no temp files left behind

    second = start_emulator(state_file=state)
    again = make_client(f"{second.url}/v2")
    assert again.get(f"/ai/assistants/{bot['id']}").json() == before
    assert len(again.get(f"/ai/assistants/{bot['id']}/versions").json()["data"]) == 2
    assert again.get(f"/ai/assistants/{bot['id']}/canary-deploys").status_code == 200
    replay = again.post("/ai/mcp_servers", json={"name": "m", "type": "sse", "url": "https://m"},
                        headers={"Idempotency-Key": "once"})
    assert replay.status_code == 200 and len(again.get("/ai/mcp_servers").json()) == 1

    make_client(second.url, key=None).post("/_emulator/reset")
    assert json.loads(state.read_text())["assistants"] == {}


def test_every_acknowledged_write_is_on_disk_and_reads_write_nothing(
        tmp_path: Path, start_emulator: Callable[..., Any], make_client: Callable[..., httpx.Client]) -> None:
    state = tmp_path / "s.json"
    emu = start_emulator(state_file=state)
    api = make_client(f"{emu.url}/v2")
    ids = []
    for i in range(5):
        ids.append(api.post("/ai/assistants", json={"name": f"n{i}", "instructions": "i"}).json()["id"])
        assert sorted(json.loads(state.read_text())["assistants"]) == sorted(ids)  # no waiting: already there
    before = state.stat().st_mtime_ns
    for _ in range(5):
        api.get("/ai/assistants")
        api.post("/ai/assistants", json={"name": 1})  # rejected: nothing changed
    emu.app.flush()
    assert state.stat().st_mtime_ns == before
    assert [p.name for p in tmp_path.iterdir()] == ["s.json"]  # no temp files left behind


def test_kill_9_right_after_an_acknowledged_create_loses_nothing(
        cli_emulator: Callable[..., tuple[subprocess.Popen[str], str]], tmp_path: Path) -> None:
    state = tmp_path / "s.json"
    created: list[str] = []
    for trial in range(4):
        proc, url = cli_emulator("--state-file", str(state))
        with httpx.Client(base_url=f"{url}/v2", headers={"Authorization": "Bearer k"}, timeout=10) as api:
            for i in range(3):
                response = api.post("/ai/assistants", json={"name": f"t{trial}-{i}", "instructions": "i"})
                assert response.status_code == 200
                created.append(response.json()["id"])
        proc.kill()  # SIGKILL at once after the last 200: no handler, no flush at exit
        proc.wait(timeout=10)
        assert sorted(json.loads(state.read_text())["assistants"]) == sorted(created), f"trial {trial}"
    proc, url = cli_emulator("--state-file", str(state))
    with httpx.Client(base_url=f"{url}/v2", headers={"Authorization": "Bearer k"}, timeout=10) as api:
        assert sorted(a["id"] for a in api.get("/ai/assistants").json()["data"]) == sorted(created)


def test_concurrent_writers_over_http_lose_nothing(tmp_path: Path, start_emulator: Callable[..., Any]) -> None:
    emu = start_emulator(state_file=tmp_path / "s.json")

    def create_many(worker: int) -> list[str]:
        with httpx.Client(base_url=f"{emu.url}/v2", headers={"Authorization": "Bearer k"}, timeout=10) as c:
            return [c.post("/ai/assistants", json={"name": f"w{worker}-{i}", "instructions": "i"}).json()["id"]
                    for i in range(25)]

    with ThreadPoolExecutor(max_workers=8) as pool:
        created = [i for ids in pool.map(create_many, range(8)) for i in ids]
    assert len(set(created)) == 200
    emu.stop()
    assert sorted(json.loads((tmp_path / "s.json").read_text())["assistants"]) == sorted(created)


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
    created = api.post("/ai/assistants", json={"name": "n", "instructions": "i"})
    assert created.status_code == 200
    assert make_client(f"{url}/v2", key="other").get("/ai/assistants").status_code == 401
    proc.send_signal(sig)
    assert proc.wait(timeout=10) == 0
    assert list(json.loads((tmp_path / "s.json").read_text())["assistants"]) == [created.json()["id"]]
    assert "sk-cli" not in proc.stderr.read()


def test_a_corrupt_state_file_is_a_clear_config_error(tmp_path: Path) -> None:
    state = tmp_path / "s.json"
    state.write_text("[1, 2")
    with pytest.raises(ConfigError, match="not a saved emulator state"):
        EmulatorApp(state_file=state)
    proc = subprocess.run([sys.executable, "-m", "reconciler", "emulator", "--port", "0", "--state-file", str(state)],
                          capture_output=True, text=True, timeout=30, env={**os.environ, "PYTHONPATH": str(REPO)})
    assert proc.returncode == 1 and "not a saved emulator state" in proc.stderr


def test_a_busy_port_is_a_clear_error(emulator: Any) -> None:
    port = emulator.url.rsplit(":", 1)[1]
    proc = subprocess.run([sys.executable, "-m", "reconciler", "emulator", "--port", port], capture_output=True,
                          text=True, timeout=30, env={**os.environ, "PYTHONPATH": str(REPO)})
    assert proc.returncode == 1 and f"cannot listen on 127.0.0.1:{port}" in proc.stderr
