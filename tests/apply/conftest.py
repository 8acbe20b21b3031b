"""Fixtures of the apply tests: the real emulator, in-process or over loopback HTTP."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from reconciler.emulator.app import EmulatorApp
from reconciler.emulator.server import serve_in_thread
from tests.support.emulator import API_KEY, Emulator


@pytest.fixture
def app() -> EmulatorApp:
    """A fresh in-process emulator."""
    return EmulatorApp()


@pytest.fixture
def loopback(monkeypatch: pytest.MonkeyPatch) -> Iterator[Emulator]:
    """A fresh emulator over loopback HTTP, with the CLI's environment pointing at it."""
    emulator = EmulatorApp()
    url, stop = serve_in_thread(emulator)
    monkeypatch.setenv("TELNYX_API_KEY", API_KEY)
    monkeypatch.setenv("TELNYX_BASE_URL", f"{url}/v2")
    monkeypatch.delenv("NO_COLOR", raising=False)
    try:
        yield Emulator(emulator, url)
    finally:
        stop()
