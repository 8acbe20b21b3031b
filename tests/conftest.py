"""Fixtures shared across the suite: a real emulator on loopback, and helpers to write manifests."""

from __future__ import annotations

import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from reconciler.emulator.app import EmulatorApp
from reconciler.emulator.server import serve_in_thread

REPO = Path(__file__).resolve().parent.parent
EXAMPLES = REPO / "examples" / "manifests"
API_KEY = "test-key-not-a-secret"


class Emulator:
    """A running emulator: its app (for in-process state), its URLs, and its control endpoints."""

    def __init__(self, app: EmulatorApp, url: str) -> None:
        self.app = app
        self.url = url
        self.base_url = f"{url}/v2"

    def control(self, path: str, body: dict[str, Any] | None = None) -> Any:
        with httpx.Client(timeout=10) as http:
            if body is None and path.endswith("stats"):
                return http.get(f"{self.url}/_emulator/{path}").json()
            return http.post(f"{self.url}/_emulator/{path}", json=body or {}).json()

    def stats(self) -> dict[str, Any]:
        return dict(self.control("stats"))

    def reset(self) -> None:
        self.control("reset")

    def api(self) -> httpx.Client:
        """A plain client of the emulator's /v2, for seeding and checking state behind reconciler."""
        return httpx.Client(base_url=self.base_url, headers={"Authorization": f"Bearer {API_KEY}"}, timeout=10)


@pytest.fixture(scope="session")
def _emulator_server() -> Iterator[Emulator]:
    app = EmulatorApp()
    url, stop = serve_in_thread(app)
    try:
        yield Emulator(app, url)
    finally:
        stop()


@pytest.fixture
def emulator(_emulator_server: Emulator, monkeypatch: pytest.MonkeyPatch) -> Emulator:
    """A clean emulator over real loopback HTTP, with the CLI's environment pointing at it."""
    _emulator_server.reset()
    monkeypatch.setenv("TELNYX_API_KEY", API_KEY)
    monkeypatch.setenv("TELNYX_BASE_URL", _emulator_server.base_url)
    return _emulator_server


def write(folder: Path, name: str, text: str) -> Path:
    """Write a manifest (dedented) into `folder` and return its path."""
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip())
    return path
