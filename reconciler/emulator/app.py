"""The framework-free core of the emulator: `EmulatorApp.dispatch` turns one HTTP request into one
`Reply`: authentication, injected faults, routing, body validation, the handler under the state lock,
idempotency keys, persistence, the request log and the `/_emulator/` control endpoints. The front-ends
(`asgi.py`, served by uvicorn in `server.py` or mounted in-process by `transport.py`) only move bytes and
sleep the reply's delay outside every lock, so injected latency never serialises."""

from __future__ import annotations

import os
import sys
import threading
import time
import traceback
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl

from reconciler.emulator import routes, testruns
from reconciler.emulator.apierrors import ApiFault, Invalid
from reconciler.emulator.bodies import parse_json, validate_body
from reconciler.emulator.faults import INJECTED, Faults, Meter, parse_faults
from reconciler.emulator.query import int_param
from reconciler.emulator.reply import Headers, Raw, Reply, dumps, encode, with_headers
from reconciler.emulator.requestlog import RequestLog
from reconciler.emulator.store import Call, State, StateFile
from reconciler.emulator.transport import AsyncEmulatorTransport, EmulatorTransport
from reconciler.errors import ConfigError

# `Reply` is re-exported: test subclasses that override `dispatch` import it from here.
__all__ = ["EmulatorApp", "Reply"]


class EmulatorApp:
    """A faithful local stand-in for the Telnyx AI Assistants API (see docs/api-assumptions.md).

    `api_key`: accept only this bearer key (None: any non-empty key). `latency_ms`: base latency of every
    /v2 response. `state_file`: loaded at start if present; every write is saved to it (atomically,
    fsynced) before it is answered.
    """

    def __init__(self, api_key: str | None = None, latency_ms: float = 0.0,
                 state_file: str | os.PathLike[str] | None = None) -> None:
        self._api_key = api_key
        self._lock = threading.Lock()  # guards self.state (and the state file's dirty flag)
        self.state = State()
        self.meter = Meter(Faults(latency_ms=float(latency_ms)))
        self.requests = RequestLog()  # what /v2 was asked and answered; never a header
        self._file = StateFile(state_file, self.state, self._lock) if state_file is not None else None
        if self._file is not None:
            raw = self._file.read()
            if raw:
                try:
                    self.state.load(raw)
                except (ValueError, TypeError, AttributeError) as exc:
                    self._file.close()
                    raise ConfigError(f"--state-file {state_file}: not a saved emulator state ({exc})") from None

    @property
    def api_key(self) -> str | None:
        """The only bearer key accepted, or None to accept any non-empty key."""
        return self._api_key

    @api_key.setter
    def api_key(self, value: str | None) -> None:
        self._api_key = value

    @property
    def blocking_writes(self) -> bool:
        """True when a write waits for the disk before it is answered (front-ends run it off their loop)."""
        return self._file is not None

    # --- front-end entry points --------------------------------------------------------------------

    def handle(self, method: str, path: str, query: str, headers: Mapping[str, str],
               body: bytes) -> tuple[int, Headers, bytes]:
        """Answer one request synchronously, sleeping its latency (outside every lock)."""
        reply = self.dispatch(method, path, query, headers, body)
        if reply.delay_s > 0:
            time.sleep(reply.delay_s)
        return reply.status, reply.headers, reply.body

    def dispatch(self, method: str, path: str, query: str, headers: Mapping[str, str],
                 body: bytes) -> Reply:
        """Answer one request without sleeping; `path` is percent-encoded, `query` the raw query string."""
        started = time.monotonic()
        method = method.upper()
        lowered = {k.lower(): v for k, v in headers.items()}
        if path.startswith("/_emulator/"):
            return Reply(*self._control(method, path, query, body))
        if path != "/v2" and not path.startswith("/v2/"):
            return Reply(*encode(404, ApiFault(404, "10005", "Resource not found",
                                                "Unknown path; the API is served under /v2").body()))
        rel = path[3:] or "/"
        found = routes.match(method, rel)
        route_key = f"{method} /v2{found[0].template}" if found else f"{method} (unknown route)"
        try:
            status, out_headers, out = self._v2(method, rel, found, query, lowered, body)
        except Exception:  # an emulator bug: answer like a server would, and show it to the developer
            traceback.print_exc()
            fault = ApiFault(500, "10007", "Unexpected error", "The emulator failed; see its log")
            status, out_headers, out = encode(500, fault.body())
        self.meter.record(route_key, status)
        self.requests.record(method, path, query, body, status)
        # The injected latency is what the request costs in all: the time spent answering it (waiting
        # for the lock, working, encoding) is part of it, not added on top. Otherwise, with many
        # requests in flight, the emulator's own CPU would stretch every round trip beyond it.
        return Reply(status, out_headers, out, max(0.0, self.meter.latency_s() - (time.monotonic() - started)))

    def transport(self) -> EmulatorTransport:
        """A sync httpx transport that serves requests in-process (no sockets)."""
        return EmulatorTransport(self)

    def async_transport(self) -> AsyncEmulatorTransport:
        """httpx's `ASGITransport` over this app's ASGI front-end; latency uses `asyncio.sleep`."""
        return AsyncEmulatorTransport(self)

    # --- /v2 ---------------------------------------------------------------------------------------

    def _authorised(self, headers: Mapping[str, str]) -> bool:
        scheme, _, token = headers.get("authorization", "").partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            return False
        return self._api_key is None or token == self._api_key

    def _v2(self, method: str, rel: str, found: tuple[routes.Route, dict[str, str]] | None, query: str,
            headers: Mapping[str, str], raw: bytes) -> tuple[int, Headers, bytes]:
        if not self._authorised(headers):
            # Never echo the presented key: the detail names the problem only.
            fault = ApiFault(401, "10009", "Authentication failed",
                             "The API key is missing, malformed or not valid")
            return encode(401, fault.body(), self.meter.rate_headers())
        decision = self.meter.decide(found is not None and found[0].mutating)
        rate = decision.rate_headers
        if decision.limited:
            fault = ApiFault(429, "10011", "Too many requests", "Rate limit exceeded; retry after the reset")
            return encode(429, fault.body(), rate)
        if decision.error_status is not None and not decision.error_after_apply:
            return encode(decision.error_status, self._injected(decision.error_status), rate)
        if found is None:
            fault = ApiFault(404, "10005", "Resource not found", f"No route for {method} /v2{rel}")
            return encode(404, fault.body(), rate)
        route, params = found
        try:
            status, out = self._run(route, params, query, headers, raw)
        except ApiFault as fault:
            status, out = fault.status, dumps(fault.body())
        except Invalid as invalid:
            status, out = 422, dumps({"detail": invalid.details})
        if decision.error_status is not None:
            # The write landed, but the client sees an error: what a dropped response looks like.
            return encode(decision.error_status, self._injected(decision.error_status), rate)
        if isinstance(out, Raw):  # a stream or plain text, not JSON
            return status, [("content-type", out.content_type), *with_headers(status, None, rate)[1]], out.body
        return with_headers(status, out, rate)

    @staticmethod
    def _injected(status: int) -> dict[str, Any]:
        code, title, detail = INJECTED[status]
        return ApiFault(status, code, title, detail).body()

    def _run(self, route: routes.Route, params: dict[str, str], query: str, headers: Mapping[str, str],
             raw: bytes) -> tuple[int, bytes | Raw | None]:
        body = parse_json(raw) if route.body or raw.strip() else None
        # Validation is pure, so it runs before taking the lock.
        if route.body and not (route.body_optional and body is None):
            validate_body(route.body, body, nullable_top=route.nullable_top)
        call = Call(params=params, query=dict(parse_qsl(query, keep_blank_values=True)) if query else {},
                    body=body, headers=dict(headers))
        idem = headers.get("idempotency-key") if route.method == "POST" else None
        idem_key = f"{idem} {route.template} {sorted(params.items())}" if idem else None
        try:
            return self._locked(route, call, idem_key)
        finally:
            if route.mutating and self._file is not None:
                self._save()

    def _locked(self, route: routes.Route, call: Call, idem_key: str | None) -> tuple[int, bytes | Raw | None]:
        with self._lock:
            if idem_key is not None and idem_key in self.state.idempotency:
                stored_status, stored_text = self.state.idempotency[idem_key]
                return int(stored_status), None if stored_text is None else stored_text.encode()
            status, result = route.handler(self.state, call)
            if isinstance(result, Raw):
                return status, result
            # Handlers return live state; serialising here, under the lock, replaces a deep copy per
            # response (the largest cost of a read) and can never observe a half-applied change.
            out = None if status == 204 or result is None else dumps(result)
            if idem_key is not None and status < 300:
                self.state.idempotency[idem_key] = [status, None if out is None else out.decode()]
            if route.mutating and status < 300 and self._file is not None:
                self._file.mark_dirty()
        return status, out

    def _save(self) -> None:
        # Every write (and every replay of one, which may answer before the first's save finished) is on
        # disk before it is answered. A failed save is a 500: the client must not count on the change.
        assert self._file is not None
        try:
            self._file.flush()
        except OSError as exc:
            print(f"emulator: cannot save state to {self._file.path}: {exc}", file=sys.stderr, flush=True)
            raise ApiFault(500, "10007", "Unexpected error", "The emulator could not save its state file") from None

    # --- control endpoints -------------------------------------------------------------------------

    def _control(self, method: str, path: str, query: str, raw: bytes) -> tuple[int, Headers, bytes]:
        try:
            if (method, path) == ("GET", "/_emulator/requests"):
                since = int_param(dict(parse_qsl(query, keep_blank_values=True)), "since", 0, low=0, high=None)
                return encode(200, self.requests.to_json(since))
            if (method, path) == ("POST", "/_emulator/requests/clear"):
                self.requests.clear()
                return encode(200, {"cleared": "requests"})
            if (method, path) == ("GET", "/_emulator/stats"):
                return encode(200, self.meter.stats())
            if (method, path) == ("GET", "/_emulator/faults"):
                return encode(200, self.meter.faults.to_json())
            if (method, path) == ("POST", "/_emulator/faults"):
                faults = parse_faults(parse_json(raw) or {}, self.meter.faults)
                self.meter.set_faults(faults)
                return encode(200, faults.to_json())
            if path == "/_emulator/test-outcomes" and method in ("GET", "POST"):
                with self._lock:  # the script is part of the state (emulator/testruns.py)
                    return encode(*testruns.control(self.state, method, raw))
            if (method, path) == ("POST", "/_emulator/reset"):
                body = parse_json(raw) or {}
                stats_only = bool(isinstance(body, dict) and body.get("stats_only"))
                self.reset(stats_only=stats_only)
                return encode(200, {"reset": "stats" if stats_only else "all"})
        except Invalid as invalid:
            return encode(422, {"detail": invalid.details})
        return encode(404, ApiFault(404, "10005", "Resource not found", f"No control route {path}").body())

    def reset(self, *, stats_only: bool = False) -> None:
        """Clear stats and the request log; unless `stats_only`, also every resource and the faults."""
        self.meter.reset(stats_only=stats_only)
        self.requests.clear()
        if stats_only:
            return
        with self._lock:
            self.state.reset()
            if self._file is not None:
                self._file.mark_dirty()
        self.flush()

    def flush(self) -> None:
        """Write pending changes to the state file now (no-op without one)."""
        if self._file is not None:
            self._file.flush()

    def close(self) -> None:
        """Write any pending change (every acknowledged one is already saved)."""
        if self._file is not None:
            self._file.close()
