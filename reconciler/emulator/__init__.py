"""A faithful local emulator of the Telnyx AI Assistants API (the era of SDK 4.122.0).

- `EmulatorApp(api_key=None, latency_ms=0, state_file=None)`: the framework-free core;
  `app.dispatch(...)` / `app.handle(...)` answer one request, `app.transport()` and
  `app.async_transport()` give in-process httpx transports.
- `serve_in_thread(app) -> (base_url, stop)` and `EmulatorServer`: real HTTP/1.1 on loopback; the API
  is under `f"{base_url}/v2"`, control endpoints under `/_emulator/`.

Behaviour that is not documented by Telnyx is recorded in docs/api-assumptions.md ("Emulator").
"""

from __future__ import annotations

from reconciler.emulator.app import EmulatorApp
from reconciler.emulator.server import EmulatorServer, serve_in_thread
from reconciler.emulator.transport import AsyncEmulatorTransport, EmulatorTransport

__all__ = ["AsyncEmulatorTransport", "EmulatorApp", "EmulatorServer", "EmulatorTransport", "serve_in_thread"]
