"""The real emulator served over loopback HTTP on 127.0.0.1, and a handle on it for tests."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import httpx

from reconciler.emulator.app import EmulatorApp, Reply
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


class CountingApp(EmulatorApp):
    """Counts requests dispatched and responses the client saw (`arrived`), so a test can tell how many
    requests were in flight at once, i.e. whether injected latency overlaps, without timing anything."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._count_lock = threading.Lock()
        self.dispatched = 0
        self.answered = 0
        self.most_in_flight = 0

    def dispatch(self, method: str, path: str, query: str, headers: Mapping[str, str], body: bytes) -> Reply:
        """Count, then answer as usual."""
        with self._count_lock:
            self.dispatched += 1
        return super().dispatch(method, path, query, headers, body)

    def arrived(self) -> None:
        """Call once per response the client received."""
        with self._count_lock:
            self.most_in_flight = max(self.most_in_flight, self.dispatched - self.answered)
            self.answered += 1
