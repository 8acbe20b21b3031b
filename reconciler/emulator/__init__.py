"""A faithful local emulator of the Telnyx AI Assistants API.

- `EmulatorApp(api_key=None, latency_ms=0, state_file=None)`: the framework-free core;
  `app.dispatch(...)` / `app.handle(...)` answer one request, `app.transport()` and
  `app.async_transport()` give in-process httpx transports (the async one is httpx's `ASGITransport`).
- `EmulatorASGI(app)`: the ASGI application; `serve_in_thread(app) -> (base_url, stop)` and
  `EmulatorServer` serve it with uvicorn on loopback; the API is under `f"{base_url}/v2"`, control
  endpoints under `/_emulator/`.

Behaviour that is not documented by Telnyx is recorded in docs/api-assumptions.md ("Emulator").
"""

from __future__ import annotations

from reconciler.emulator.app import EmulatorApp
from reconciler.emulator.asgi import EmulatorASGI
from reconciler.emulator.server import EmulatorServer, serve_in_thread
from reconciler.emulator.transport import AsyncEmulatorTransport, EmulatorTransport

__all__ = ["AsyncEmulatorTransport", "EmulatorASGI", "EmulatorApp", "EmulatorServer", "EmulatorTransport",
           "serve_in_thread"]
