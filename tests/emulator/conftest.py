"""Fixtures for the emulator tests: a real loopback server per test, httpx and official-SDK clients
pointed at it, and a session-wide recorder that checks every response body the tests see against the
response schema the OpenAPI snapshot declares for that operation and status.

The snapshot lives outside the repository (`shared/` beside the checkout); without it the schema
checks are skipped and everything else still runs.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pydantic
import pytest
from jsonschema import Draft202012Validator

from reconciler.emulator.app import EmulatorApp
from reconciler.emulator.server import serve_in_thread
from tests.support.paths import REPO

SNAPSHOT = (REPO / ".." / "shared" / "reference" / "openapi" / "telnyx-ai-2026-04-29.json").resolve()
PREFIXES = ("/ai/assistants", "/ai/tools", "/ai/mcp_servers")
API_KEY = "test-key-123"
TIMEOUT = httpx.Timeout(10.0, connect=5.0)

# Statuses the snapshot does not declare are answered in Telnyx's standard envelope.
ERROR_ENVELOPE = {
    "type": "object", "required": ["errors"],
    "properties": {"errors": {"type": "array", "minItems": 1, "items": {
        "type": "object", "required": ["code", "title"],
        "properties": {"code": {"type": "string"}, "title": {"type": "string"}, "detail": {"type": "string"}}}}},
}


def load_spec() -> dict[str, Any] | None:
    """The OpenAPI snapshot, or None when `shared/` is not beside the checkout."""
    if not SNAPSHOT.is_file():
        return None
    loaded: dict[str, Any] = json.loads(SNAPSHOT.read_text(encoding="utf-8"))
    return loaded


@dataclass
class Operation:
    """One operation of the snapshot, with its path as a regex."""

    method: str
    path: str
    pattern: re.Pattern[str]
    params: int
    responses: dict[str, Any]


@dataclass
class Recorder:
    """Checks each response against the snapshot and remembers which operations and statuses were seen."""

    spec: dict[str, Any] | None
    operations: list[Operation] = field(default_factory=list)
    seen: set[tuple[str, str, int]] = field(default_factory=set)
    violations: list[str] = field(default_factory=list)
    checked: int = 0
    _validators: dict[str, Draft202012Validator] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.spec is None:
            return
        for path, ops in self.spec["paths"].items():
            if not path.startswith(PREFIXES):
                continue
            regex = "^" + re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(path)) + "$"
            for method, op in ops.items():
                if method in ("get", "post", "put", "patch", "delete"):
                    self.operations.append(Operation(method.upper(), path, re.compile(regex),
                                                     path.count("{"), op.get("responses", {})))
        # A static segment wins over a parameter (`/ai/assistants/tags` is not an assistant id).
        self.operations.sort(key=lambda o: o.params)

    def operation(self, method: str, raw_path: str) -> Operation | None:
        """The snapshot operation a request path (relative to /v2) belongs to."""
        return next((o for o in self.operations if o.method == method and o.pattern.match(raw_path)), None)

    def _validator(self, key: str, schema: dict[str, Any]) -> Draft202012Validator:
        if key not in self._validators:
            assert self.spec is not None
            root = {**schema, "components": self.spec["components"]}
            self._validators[key] = Draft202012Validator(root, format_checker=Draft202012Validator.FORMAT_CHECKER)
        return self._validators[key]

    def check(self, method: str, raw_path: str, status: int, body: bytes) -> None:
        """Validate one response body; problems go to `violations`."""
        if self.spec is None:
            return
        op = self.operation(method, raw_path)
        if op is None:
            return  # an unknown route: nothing in the snapshot to check against
        self.seen.add((op.method, op.path, status))
        where = f"{method} {raw_path} -> {status}"
        declared = op.responses.get(str(status))
        if declared is None:
            if 200 <= status < 300:
                self.violations.append(f"{where}: success status not declared by the snapshot")
                return
            schema, key = ERROR_ENVELOPE, "errors"
        else:
            content = declared.get("content", {}).get("application/json")
            if content is None:
                if body:
                    self.violations.append(f"{where}: the snapshot declares no body, got {body[:80]!r}")
                self.checked += 1
                return
            schema, key = content.get("schema", {}), f"{op.method} {op.path} {status}"
        try:
            instance = json.loads(body)
        except ValueError:
            self.violations.append(f"{where}: body is not JSON: {body[:80]!r}")
            return
        errors = sorted(self._validator(key, schema).iter_errors(instance), key=lambda e: [str(p) for p in e.path])
        self.checked += 1
        for err in errors[:3]:
            self.violations.append(f"{where}: {list(err.absolute_path)}: {err.message[:300]}")

    def hook(self, response: httpx.Response) -> None:
        """httpx response event hook: read the body and check it."""
        response.read()
        path = response.request.url.raw_path.decode("ascii").partition("?")[0]
        if path.startswith("/v2/"):
            self.check(response.request.method, path[3:], response.status_code, response.content)


_RECORDER = Recorder(load_spec())


@pytest.fixture(scope="session")
def recorder() -> Recorder:
    """The session-wide response recorder."""
    return _RECORDER


@pytest.fixture(autouse=True)
def _responses_match_snapshot(recorder: Recorder) -> Iterator[None]:
    """Fail the test that received a response its operation's declared schema does not allow."""
    recorder.violations.clear()
    yield
    problems = list(recorder.violations)
    recorder.violations.clear()
    assert not problems, "responses that do not match the snapshot:\n" + "\n".join(problems)


@dataclass
class Emulator:
    """A running emulator: its app (for white-box checks) and base URL (without /v2)."""

    app: EmulatorApp
    url: str
    stop: Callable[[], None]


@pytest.fixture
def start_emulator() -> Iterator[Callable[..., Emulator]]:
    """Factory: start an emulator over loopback HTTP; every one started is stopped at teardown."""
    stops: list[Callable[[], None]] = []
    apps: list[EmulatorApp] = []

    def start(app: EmulatorApp | None = None, **kwargs: Any) -> Emulator:
        app = app if app is not None else EmulatorApp(**kwargs)
        apps.append(app)
        url, stop = serve_in_thread(app)
        stops.append(stop)
        return Emulator(app, url, stop)

    yield start
    for stop in reversed(stops):
        stop()  # idempotent: a test may have stopped it already
    for app in apps:
        app.close()


@pytest.fixture
def emulator(start_emulator: Callable[..., Emulator]) -> Emulator:
    """One emulator over loopback HTTP, accepting any key."""
    return start_emulator()


@pytest.fixture
def make_client(recorder: Recorder) -> Iterator[Callable[..., httpx.Client]]:
    """Factory for httpx clients whose responses pass through the recorder; all closed at teardown."""
    clients: list[httpx.Client] = []

    def make(base_url: str, key: str | None = API_KEY, **kwargs: Any) -> httpx.Client:
        headers = {"Authorization": f"Bearer {key}"} if key is not None else {}
        client = httpx.Client(base_url=base_url, headers=headers, timeout=TIMEOUT,
                              event_hooks={"response": [recorder.hook]}, **kwargs)
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


@pytest.fixture
def api(emulator: Emulator, make_client: Callable[..., httpx.Client]) -> httpx.Client:
    """An httpx client on `{emulator}/v2` with a bearer key."""
    return make_client(f"{emulator.url}/v2")


@pytest.fixture
def control(emulator: Emulator, make_client: Callable[..., httpx.Client]) -> httpx.Client:
    """An httpx client on the emulator's root, for `/_emulator/*`."""
    return make_client(emulator.url, key=None)


def strict(parsed: Any, raw: Any) -> None:
    """Validate the raw JSON against the model class the SDK chose (the SDK itself only constructs)."""
    if isinstance(parsed, pydantic.BaseModel) and hasattr(parsed, "_get_page_items"):
        items = parsed._get_page_items()
        raw_items = raw if isinstance(raw, list) else raw["data"]
        assert len(items) == len(raw_items)
        for item, raw_item in zip(items, raw_items, strict=True):
            type(item).model_validate(raw_item)
    elif isinstance(parsed, pydantic.BaseModel):
        type(parsed).model_validate(raw)
    elif raw is not None:
        assert isinstance(parsed, str | dict | list), type(parsed)


class Sdk:
    """Calls SDK methods through `with_raw_response`, checks the status and the model, returns the parsed value."""

    def __init__(self, client: Any) -> None:
        self.client = client

    def __call__(self, path: str, *args: Any, status: int = 200, **kwargs: Any) -> Any:
        *parents, method = path.split(".")
        resource = self.client
        for name in parents:
            resource = getattr(resource, name)
        raw = getattr(resource.with_raw_response, method)(*args, **kwargs)
        assert raw.http_response.status_code == status, (path, raw.http_response.text)
        parsed = raw.parse()
        content = raw.http_response.content
        strict(parsed, raw.http_response.json() if content else None)
        return parsed


@pytest.fixture
def sdk(emulator: Emulator, recorder: Recorder) -> Iterator[Sdk]:
    """The official SDK on the emulator (no retries), wrapped in `Sdk`."""
    telnyx = pytest.importorskip("telnyx")
    http = httpx.Client(timeout=TIMEOUT, event_hooks={"response": [recorder.hook]})
    client = telnyx.Telnyx(api_key=API_KEY, base_url=f"{emulator.url}/v2", max_retries=0, http_client=http)
    yield Sdk(client)
    client.close()
