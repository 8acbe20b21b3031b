"""The TLS context a command's connections share, built in the background while its manifests load.

Building it (OpenSSL reading certifi's bundle, or `SSL_CERT_FILE` / `SSL_CERT_DIR`, as httpx decides:
`httpx.create_ssl_context(trust_env=True)`) took 40-80 ms of CPU before the first request of every
plan, and OpenSSL does it without holding the GIL. So `plan` and `apply` call `prepare()` before
loading their manifests (it reads certificate files only: no request, no key), and the client takes
the context with `context()`, waiting for it if need be. Each `prepare()` starts a fresh build, so a
command run in-process after the environment changed (tests) never gets an older command's context.
"""

from __future__ import annotations

import os
import ssl
import threading

import httpx

from reconciler.errors import ConfigError


class _Build:
    """One context being built in its own thread; `result()` waits and returns it, or raises what
    building it raised (a bad `SSL_CERT_FILE`, say) where the client is made, as before."""

    def __init__(self) -> None:
        self._context: ssl.SSLContext | None = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="tls-context", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            self._context = _build()
        except BaseException as exc:  # re-raised in the thread that asks for the context
            self._error = exc

    def result(self) -> ssl.SSLContext:
        self._thread.join()
        if self._error is not None:
            raise self._error
        assert self._context is not None
        return self._context


_pending: _Build | None = None


def prepare() -> None:
    """Start building the context for the next `context()` call."""
    global _pending
    _pending = _Build()


def context() -> ssl.SSLContext:
    """The context `prepare()` started (waiting for it), or one built now."""
    global _pending
    build, _pending = _pending, None
    return build.result() if build is not None else _build()


def _build() -> ssl.SSLContext:
    """httpx's context from the environment; a trust store it cannot read is a ConfigError (one line,
    exit 1) naming the variables that point to it, not a traceback."""
    try:
        return httpx.create_ssl_context(trust_env=True)
    except (OSError, ssl.SSLError) as exc:  # ssl.SSLError is an OSError; both named for the reader
        named = ", ".join(f"{v}={os.environ[v]}" for v in ("SSL_CERT_FILE", "SSL_CERT_DIR") if os.environ.get(v))
        where = f" ({named})" if named else ""
        raise ConfigError(f"cannot load the trusted certificates{where}: {exc}") from None
