"""Helpers of the promise tests (issue #11): the real emulator over loopback HTTP, with a request log
and scripted faults added by a subclass in the test (the emulator itself is not edited), and the CLI
run in-process as a user runs it."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import jsonschema
import pytest
import telnyx

from reconciler.cli import main
from reconciler.emulator.app import EmulatorApp, Reply
from reconciler.emulator.server import serve_in_thread
from tests.support.paths import REPO

API_KEY = "promise-test-key"
PLAN_SCHEMA = REPO / "reconciler" / "schemas" / "plan.schema.json"
# A shared webhook tool (case 10 and the unknown-outcome tests: a create whose answer is lost).
LOOKUP_TOOL = """
apiVersion: reconciler/v1
kind: Tool
metadata: {name: lookup-tool}
spec:
  type: webhook
  webhook: {name: lookup, description: Look up, url: "https://api.example.com/x", method: GET}
"""


def webhook_assistant(name: str, description: str, url: str, header: str) -> str:
    """The manifest of an assistant with one inline webhook tool sending the header `header`
    (a flow mapping, `{name: ..., value: ...}`), on a line of its own."""
    return f"""
apiVersion: reconciler/v1
kind: Assistant
metadata: {{name: {name}}}
spec:
  instructions: Be helpful.
  tools:
    - type: webhook
      webhook:
        name: lookup
        description: {description}
        url: {url}
        method: GET
        headers: [{header}]
"""


# An assistant whose inline webhook sends a secret from the environment (cases 7 and 8, saved plans).
SECRET_HOOK = webhook_assistant("secret-hook", "Look up", "https://api.example.com/x",
                                '{name: Authorization, value: "Bearer ${env:HOOK_TOKEN}"}')


@dataclass
class Sent:
    """One /v2 request the emulator answered."""

    method: str
    path: str
    query: str
    body: Any
    status: int


@dataclass
class Fault:
    """Answer `status` to the next `times` requests matching `method` and the `path` regex; with
    `after_apply`, the request is carried out first (its outcome is lost on the way back)."""

    method: str
    path: str
    status: int = 502
    times: int = 1
    after_apply: bool = False
    armed_by: str | None = None  # active only once a request "METHOD /path" matching this regex was seen


@dataclass
class Hang:
    """Sleep `seconds` before answering requests matching the `path` regex (every time)."""

    path: str
    seconds: float


class RecordingApp(EmulatorApp):
    """The real emulator, with every /v2 request it answered kept in `sent`, and scripted faults."""

    def __init__(self) -> None:
        super().__init__()
        self.sent: list[Sent] = []
        self.faults_script: list[Fault] = []
        self.hangs: list[Hang] = []
        self._log_lock = threading.Lock()

    def dispatch(self, method: str, path: str, query: str, headers: Mapping[str, str], body: bytes) -> Reply:
        fault = self._take_fault(method, path)
        hang = next((h for h in self.hangs if re.search(h.path, path)), None)
        if fault is not None and not fault.after_apply:
            reply = Reply(fault.status, [("content-type", "application/json")],
                          json.dumps({"errors": [{"code": "10007", "title": "Bad gateway"}]}).encode(), 0.0)
        else:
            reply = super().dispatch(method, path, query, headers, body)
            if fault is not None:
                reply = Reply(fault.status, [("content-type", "application/json")],
                              json.dumps({"errors": [{"code": "10007", "title": "Bad gateway"}]}).encode(), 0.0)
        if hang is not None:
            reply = Reply(reply.status, reply.headers, reply.body, reply.delay_s + hang.seconds)
        if path.startswith("/v2/"):
            try:
                parsed = json.loads(body) if body else None
            except ValueError:
                parsed = body.decode("latin-1")
            with self._log_lock:
                self.sent.append(Sent(method.upper(), path[3:], query, parsed, reply.status))
        return reply

    def _take_fault(self, method: str, path: str) -> Fault | None:
        with self._log_lock:
            seen = [f"{s.method} /v2{s.path}" for s in self.sent]
            for fault in self.faults_script:
                if fault.armed_by is not None and not any(re.search(fault.armed_by, r) for r in seen):
                    continue
                if fault.times > 0 and fault.method == method.upper() and re.search(fault.path, path):
                    fault.times -= 1
                    return fault
        return None

    def writes(self) -> list[Sent]:
        """The requests that change something (every method but GET), in the order answered."""
        with self._log_lock:
            return [s for s in self.sent if s.method != "GET"]

    def clear_log(self) -> None:
        with self._log_lock:
            self.sent.clear()


@dataclass
class Account:
    """A recording emulator served on 127.0.0.1, with the CLI's environment pointing at it."""

    app: RecordingApp
    url: str
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def base_url(self) -> str:
        return f"{self.url}/v2"

    def api(self) -> httpx.Client:
        """A plain client of /v2, for portal edits and for checking state behind reconciler."""
        return httpx.Client(base_url=self.base_url, headers={"Authorization": f"Bearer {API_KEY}"}, timeout=10)

    def assistant(self, name: str) -> dict[str, Any]:
        """The live main version of the assistant named `name` (exactly one must exist)."""
        with self.api() as http:
            found = [a for a in http.get("/ai/assistants").json()["data"] if a["name"] == name]
            assert len(found) == 1, f"{len(found)} assistants named {name}"
            full: dict[str, Any] = http.get(f"/ai/assistants/{found[0]['id']}").json()
            return full

    def versions(self, assistant_id: str) -> list[dict[str, Any]]:
        with self.api() as http:
            data: list[dict[str, Any]] = http.get(f"/ai/assistants/{assistant_id}/versions").json()["data"]
            return data


@pytest.fixture
def account(monkeypatch: pytest.MonkeyPatch) -> Iterator[Account]:
    """A fresh recording emulator over loopback HTTP; TELNYX_* point the CLI at it."""
    app = RecordingApp()
    url, stop = serve_in_thread(app)
    monkeypatch.setenv("TELNYX_API_KEY", API_KEY)
    monkeypatch.setenv("TELNYX_BASE_URL", f"{url}/v2")
    monkeypatch.setenv("NO_COLOR", "1")
    try:
        yield Account(app, url)
    finally:
        stop()


def cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """Run `reconciler ARGV` in-process; return (exit code, stdout, stderr)."""
    capsys.readouterr()
    try:
        code = main(list(argv))
    except SystemExit as exc:  # argparse: an unknown flag
        code = exc.code if isinstance(exc.code, int) else 1
    out = capsys.readouterr()
    return code, out.out, out.err


def plan_doc(capsys: pytest.CaptureFixture[str], *args: str, expect: tuple[int, ...] = (0, 2)) -> dict[str, Any]:
    """`plan --format json --detailed-exitcode ARGS`, checked against the published plan schema;
    the exit code is stored under `_exit`."""
    code, out, err = cli(capsys, "plan", "--format", "json", "--detailed-exitcode", *args)
    assert code in expect, err
    doc: dict[str, Any] = json.loads(out)
    jsonschema.validate(doc, json.loads(PLAN_SCHEMA.read_text()))
    doc["_exit"] = code
    return doc


def changes_of(doc: dict[str, Any], address: str) -> dict[str, dict[str, Any]]:
    """path -> field change of one resource change of a plan document."""
    rc = next(r for r in doc["resource_changes"] if r["address"] == address)
    return {c["path"]: c for c in rc["changes"]}


def write(folder: Path, name: str, text: str) -> Path:
    """Write a manifest into `folder` (creating sub-folders) and return its path."""
    import textwrap

    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip())
    return path


# A plain assistant of team p (its `voice` tag declared): cases 3, 7, 9 and 11 start from it.
B2_BOT = """
apiVersion: reconciler/v1
kind: Assistant
metadata: {name: b2-bot}
spec:
  instructions: Be helpful.
  tags: [voice]
"""


def sdk(account: Account) -> telnyx.Telnyx:
    """The official SDK as a portal user: an independent client of the emulator."""
    return telnyx.Telnyx(api_key=API_KEY, base_url=account.base_url, max_retries=0, timeout=10)
