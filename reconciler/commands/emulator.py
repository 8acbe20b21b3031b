"""`reconciler emulator`: serve the local Telnyx AI Assistants emulator until SIGINT or SIGTERM."""

from __future__ import annotations

import argparse
import contextlib
import signal
import sys
import threading
from types import FrameType

from reconciler.emulator.app import EmulatorApp
from reconciler.emulator.server import EmulatorServer
from reconciler.errors import ConfigError


def run(args: argparse.Namespace) -> int:
    """Serve until SIGINT/SIGTERM, then exit 0."""
    app = EmulatorApp(api_key=args.api_key, latency_ms=args.latency_ms, state_file=args.state_file)
    try:
        server = EmulatorServer(app, args.host, args.port)
    except OSError as exc:  # port in use, unknown host: the user's to fix, not a bug
        app.close()
        raise ConfigError(f"cannot listen on {args.host}:{args.port}: {exc.strerror or exc}") from None
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    for sig in (signal.SIGINT, signal.SIGTERM):
        # Only the main thread may install handlers; elsewhere (embedded use) the caller stops us.
        with contextlib.suppress(ValueError):
            signal.signal(sig, on_signal)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    if not server.wait_started():
        app.close()
        raise ConfigError(f"cannot serve on {args.host}:{args.port}: the server did not start")
    print(f"emulator listening on {server.base_url} (API base URL {server.base_url}/v2)", flush=True)
    try:
        while not stop.wait(0.5):
            pass
    finally:
        server.stop()
        thread.join(timeout=10)
        app.close()  # write any change still waiting for the debounced writer
    print("emulator stopped", file=sys.stderr, flush=True)
    return 0
