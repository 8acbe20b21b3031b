"""Fixtures shared across the suite: a real emulator on loopback with the CLI's environment pointing
at it. The helpers themselves live in `tests/support`."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.emulator import API_KEY, Emulator, serve


@pytest.fixture(scope="session")
def _emulator_server() -> Iterator[Emulator]:
    with serve() as emulator:
        yield emulator


@pytest.fixture
def emulator(_emulator_server: Emulator, monkeypatch: pytest.MonkeyPatch) -> Emulator:
    """A clean emulator over real loopback HTTP, with the CLI's environment pointing at it."""
    _emulator_server.reset()
    monkeypatch.setenv("TELNYX_API_KEY", API_KEY)
    monkeypatch.setenv("TELNYX_BASE_URL", _emulator_server.base_url)
    return _emulator_server
