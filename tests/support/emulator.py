"""The real emulator served over loopback HTTP on 127.0.0.1, and a handle on it for tests."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx

from reconciler.emulator.app import EmulatorApp
from reconciler.emulator.server import serve_in_thread

API_KEY = "test-key-not-a-secret"


class Emulator:
    """A running emulator: its app (for in-process state), its URLs, and its control endpoints."""

    def __init__(self, app: EmulatorApp, url: str) -> None:
        self.app = app
        self.url = url
        self.base_url = f"{url}/v2"

    def control(self, path: str, body: dict[str, Any] | None = None) -> Any:
        """GET `/_emulator/stats`, or POST any other control endpoint with `body`."""
        with httpx.Client(timeout=10) as http:
            if body is None and path.endswith("stats"):
                return http.get(f"{self.url}/_emulator/{path}").json()
            return http.post(f"{self.url}/_emulator/{path}", json=body or {}).json()

    def stats(self) -> dict[str, Any]:
        """Request counts by method and path template."""
        return dict(self.control("stats"))

    def reset(self) -> None:
        """Forget every object and fault."""
        self.control("reset")

    def api(self) -> httpx.Client:
        """A plain client of the emulator's /v2, for seeding and checking state behind reconciler."""
        return httpx.Client(base_url=self.base_url, headers={"Authorization": f"Bearer {API_KEY}"}, timeout=10)


@contextmanager
def serve(app: EmulatorApp | None = None) -> Iterator[Emulator]:
    """Serve `app` (a fresh emulator by default) on a free loopback port until the block ends."""
    app = app if app is not None else EmulatorApp()
    url, stop = serve_in_thread(app)
    try:
        yield Emulator(app, url)
    finally:
        stop()
