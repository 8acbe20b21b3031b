"""The route table: the 55 operations of the telnyx 4.189.0 SDK under /ai/assistants, /ai/tools and
/ai/mcp_servers, each with its handler and the `$defs` schema that validates its body."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

from reconciler.emulator import apischema
from reconciler.emulator import assistants as a
from reconciler.emulator import canary as c
from reconciler.emulator import deleted as d
from reconciler.emulator import events as e
from reconciler.emulator import messaging as m
from reconciler.emulator import resources as r
from reconciler.emulator.store import Call, State

Handler = Callable[[State, Call], tuple[int, Any]]


@dataclass(frozen=True)
class Route:
    """One operation: verb, path template (relative to /v2), handler and body schema."""

    method: str
    template: str
    handler: Handler
    body: str | None = None  # `$defs` name validating the request body
    body_optional: bool = False  # the body may be absent (validated only when sent)
    nullable_top: bool = False  # top-level nulls allowed (an update clearing fields)

    @property
    def segments(self) -> tuple[str, ...]:
        """The template split on '/'."""
        return tuple(self.template.strip("/").split("/"))

    @property
    def mutating(self) -> bool:
        """Whether the operation can change state (everything but GET)."""
        return self.method != "GET"


A = "/ai/assistants"
I = A + "/{assistant_id}"  # noqa: E741 - short names keep the table readable
T = A + "/tests"
# Either canary form (`rules`, or the legacy `versions`), where the schema names that union.
CANARY_BODY = "CanaryDeployRequestAnyForm" if apischema.has("CanaryDeployRequestAnyForm") else "CanaryDeployRequest"

# Static segments must come before a parameter at the same place (`/ai/assistants/tags` before
# `/ai/assistants/{assistant_id}`); the matcher takes the first route that fits.
ROUTES: tuple[Route, ...] = (
    Route("GET", A, a.list_all),
    Route("POST", A, a.create, "CreateAssistantRequest"),
    Route("POST", A + "/import", a.import_, "ImportAssistantsRequest"),
    Route("GET", A + "/tags", a.all_tags),
    Route("GET", A + "/deleted", d.list_deleted),
    Route("GET", T, r.list_tests),
    Route("POST", T, r.create_test, "CreateAssistantTestRequest"),
    Route("GET", T + "/test-suites", r.list_suites),
    Route("GET", T + "/test-suites/{suite_name}/runs", r.list_suite_runs),
    Route("POST", T + "/test-suites/{suite_name}/runs", r.trigger_suite, "TriggerTestSuiteRunsRequest", True),
    Route("GET", T + "/{test_id}", r.get_test),
    Route("PUT", T + "/{test_id}", r.update_test, "UpdateAssistantTestRequest"),
    Route("DELETE", T + "/{test_id}", r.delete_test),
    Route("GET", T + "/{test_id}/runs", r.list_runs),
    Route("POST", T + "/{test_id}/runs", r.trigger_run, "TriggerTestRunRequest", True),
    Route("GET", T + "/{test_id}/runs/{run_id}", r.get_run),
    Route("GET", I, a.retrieve),
    Route("POST", I, a.update, "UpdateAssistantRequestWithPromotion", nullable_top=True),
    Route("DELETE", I, d.delete),
    Route("GET", I + "/deleted", d.get_deleted),
    Route("POST", I + "/restore", d.restore),
    Route("GET", I + "/canary-deploys", c.get_canary),
    Route("POST", I + "/canary-deploys", c.create_canary, CANARY_BODY),
    Route("PUT", I + "/canary-deploys", c.replace_canary, CANARY_BODY),
    Route("DELETE", I + "/canary-deploys", c.delete_canary),
    Route("POST", I + "/chat", m.chat, "AssistantChatReq"),
    Route("POST", I + "/chat/sms", m.chat_sms, "AssistantSmsChatReq"),
    Route("POST", I + "/chat/whatsapp", m.chat_whatsapp, "AssistantWhatsappRequest"),
    Route("POST", I + "/clone", a.clone),
    Route("POST", I + "/instructions/enhance", m.enhance, "InstructionEnhanceRequest", True),
    Route("GET", I + "/scheduled_events", e.list_events),
    Route("POST", I + "/scheduled_events", e.create_event, "CreateScheduledEventRequest"),
    Route("GET", I + "/scheduled_events/{event_id}", e.get_event),
    Route("DELETE", I + "/scheduled_events/{event_id}", e.delete_event),
    Route("POST", I + "/tags", a.add_tag, "AddTagRequest"),
    Route("DELETE", I + "/tags/{tag}", a.remove_tag),
    Route("GET", I + "/texml", m.texml),
    Route("PUT", I + "/tools/{tool_id}", a.attach_tool),
    Route("DELETE", I + "/tools/{tool_id}", a.detach_tool),
    Route("POST", I + "/tools/{tool_id}/test", a.test_tool, "TestWebhookToolRequest", True),
    Route("GET", I + "/versions", a.list_versions),
    Route("GET", I + "/versions/{version_id}", a.get_version),
    Route("POST", I + "/versions/{version_id}", a.update_version, "UpdateAssistantRequest", nullable_top=True),
    Route("DELETE", I + "/versions/{version_id}", a.delete_version),
    Route("POST", I + "/versions/{version_id}/promote", a.promote),
    Route("GET", "/ai/tools", r.list_tools),
    Route("POST", "/ai/tools", r.create_tool, "CreateSharedToolRequest"),
    Route("GET", "/ai/tools/{tool_id}", r.get_tool),
    Route("PATCH", "/ai/tools/{tool_id}", r.update_tool, "UpdateSharedToolRequest"),
    Route("DELETE", "/ai/tools/{tool_id}", r.delete_tool),
    Route("GET", "/ai/mcp_servers", r.list_mcp),
    Route("POST", "/ai/mcp_servers", r.create_mcp, "CreateMCPServerRequest"),
    Route("GET", "/ai/mcp_servers/{mcp_server_id}", r.get_mcp),
    Route("PUT", "/ai/mcp_servers/{mcp_server_id}", r.update_mcp, "UpdateMCPServerRequest"),
    Route("DELETE", "/ai/mcp_servers/{mcp_server_id}", r.delete_mcp),
)

# Routes by (method, number of segments), each with the positions of its static segments and of its
# parameters worked out once: the matcher runs for every request.
_Shape = tuple[Route, tuple[tuple[int, str], ...], tuple[tuple[int, str], ...]]
_INDEX: dict[tuple[str, int], list[_Shape]] = {}
for _route in ROUTES:
    _segs = _route.segments
    _INDEX.setdefault((_route.method, len(_segs)), []).append((
        _route,
        tuple((i, s) for i, s in enumerate(_segs) if not s.startswith("{")),
        tuple((i, s[1:-1]) for i, s in enumerate(_segs) if s.startswith("{")),
    ))


def match(method: str, raw_path: str) -> tuple[Route, dict[str, str]] | None:
    """The route for `method` and a percent-encoded path relative to /v2, with its decoded parameters."""
    parts = raw_path.strip("/").split("/")
    for route, statics, names in _INDEX.get((method, len(parts)), ()):
        for i, want in statics:
            if parts[i] != want:
                break
        else:
            return route, {name: unquote(parts[i]) if "%" in parts[i] else parts[i] for i, name in names}
    return None
