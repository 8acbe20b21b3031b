"""The official Node SDK (npm `telnyx@7.24.0`) as a second independent client: `tests/node/main_ops.mjs`
drives the main operations against the emulator over loopback. The package is installed with `npm ci`
from `tests/node/package-lock.json` into a cache folder this test creates (once per version); without
node or npm, or when the registry cannot be reached, the test is skipped with the reason."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.support.emulator import serve
from tests.support.paths import REPO

NODE_DIR = REPO / "tests" / "node"
VERSION = json.loads((NODE_DIR / "package.json").read_text())["dependencies"]["telnyx"]


def _installed() -> Path:
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        pytest.skip("node and npm are needed to run the official Node SDK (npm telnyx) against the emulator")
    home = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
    cache = home / "reconciler-tests" / f"node-telnyx-{VERSION}"
    cache.mkdir(parents=True, exist_ok=True)
    for name in ("package.json", "package-lock.json", "main_ops.mjs"):
        shutil.copyfile(NODE_DIR / name, cache / name)
    marker = cache / "node_modules" / "telnyx" / "package.json"
    if not marker.is_file() or json.loads(marker.read_text())["version"] != VERSION:
        done = subprocess.run([npm, "ci", "--no-audit", "--no-fund", "--prefer-offline"], cwd=cache,
                              capture_output=True, text=True, timeout=240)
        if done.returncode != 0:
            pytest.skip(f"npm ci of telnyx@{VERSION} failed (registry unreachable?): {done.stderr.strip()[-300:]}")
    return cache


def test_the_node_sdk_runs_the_main_operations() -> None:
    cache = _installed()
    with serve() as emulator:
        done = subprocess.run(["node", "main_ops.mjs", emulator.base_url], cwd=cache, capture_output=True,
                              text=True, timeout=120)
        stats = emulator.stats()
    assert done.returncode == 0, done.stderr[-2000:]
    seen: dict[str, Any] = json.loads(done.stdout)
    bot, draft = seen["created"], seen["draft"]
    assert bot["id"].startswith("assistant-") and bot["tool_ids"] == [seen["tool"]["id"]]
    assert seen["retrieved"]["id"] == bot["id"] and seen["updated"]["greeting"] == "Hello from node"
    assert draft["id"] == bot["id"] and draft["version_id"] != bot["version_id"]
    assert bot["id"] in [a["id"] for a in seen["listed"]["data"]]
    assert {v["version_id"] for v in seen["versions"]["data"]} == {bot["version_id"], draft["version_id"]}
    assert seen["canary"]["rules"] == seen["canaryRead"]["rules"] and seen["canaryRead"]["rules"][0]["match"]
    assert seen["canaryUpdated"]["rules"] == [{"serve": {"rollout": [{"version_id": draft["version_id"],
                                                                      "weight": 30}]}}]
    assert seen["promoted"]["version_id"] == draft["version_id"]
    assert seen["tool"]["id"] in [t["id"] for t in seen["tools"]]
    assert seen["mcp"]["id"] in [m["id"] for m in seen["mcps"]]
    assert seen["deleted"] == {"id": bot["id"], "object": "assistant", "deleted": True}
    assert seen["missing"] == {"status": 404, "name": "NotFoundError"}
    assert stats["by_status"].get("422", 0) == 0 and stats["by_status"].get("500", 0) == 0
