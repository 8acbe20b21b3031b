"""The one table of what each kind is. Every module that needs a fact about a kind reads it here:
the manifest schemas, the planner, pruning, live reads, saved plans and export.

A resource kind is one a manifest declares and the API stores under its own collection; the
assistant's sub-resources (named versions, the canary) are plan kinds without a manifest of their own.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Kind:
    """What a resource kind is, for everything that handles one."""

    kind: str  # the manifest's `kind:`
    address_prefix: str  # the plan address: `<prefix>.<name>`
    name_field: str  # the API field that carries the resource's name, its identity
    collection: str  # the API path of the collection, relative to the base URL
    noun: str  # the kind in plain words, for messages
    id_field: str = "id"  # the API field that carries the live id (a test's is `test_id`)


ASSISTANT = Kind("Assistant", "assistant", "name", "/ai/assistants", "assistant")
TOOL = Kind("Tool", "tool", "display_name", "/ai/tools", "tool")
MCP_SERVER = Kind("McpServer", "mcp_server", "name", "/ai/mcp_servers", "MCP server")
# Assistant tests are account-level (telnyx-ai-api.md §9), not nested under an assistant.
ASSISTANT_TEST = Kind("AssistantTest", "assistant_test", "name", "/ai/assistants/tests", "assistant test",
                      id_field="test_id")

KINDS: dict[str, Kind] = {k.kind: k for k in (ASSISTANT, TOOL, MCP_SERVER, ASSISTANT_TEST)}
BY_PREFIX: dict[str, Kind] = {k.address_prefix: k for k in KINDS.values()}
RESOURCE_KINDS: tuple[str, ...] = tuple(KINDS)
# Every kind a manifest document may declare (the schema file of each is `<kind>.schema.json`).
MANIFEST_KINDS: tuple[str, ...] = ("Assistant", "AssistantTest", "McpServer", "Project", "Tool")

# Plan kinds of the assistant's sub-resources (ResourceChange.kind, Operation.kind).
KIND_VERSION = "AssistantVersion"
KIND_CANARY = "Canary"
# A traffic gate: a suite run against a version that must pass before its traffic rises.
KIND_GATE = "Gate"
# Making a named version the main one (POST .../versions/{id}/promote).
KIND_PROMOTION = "Promotion"

# The `version_name` the API gives a version nobody named (telnyx-ai-api.md §3.2).
DEFAULT_VERSION_NAME = "New assistant"

# Tags reconciler manages on live assistants.
DEFAULT_OWNER_TAG = "managed-by:reconciler"
# Recorded on the live assistant so that protection outlives the manifest (lessons-from-peers).
PROTECT_TAG = "reconciler:protected"

# Lists compared as sets at the top of a spec (manifest-format.md, "Diff rules"); an MCP reference's
# `allowed_tools` is one too. Export writes them sorted, so the API's order never shows in a diff.
SET_LIKE_KEYS = frozenset({"tags", "enabled_features", "shared_tools", "allowed_tools"})
# Manifest-only assistant keys that name other resources; a body sent to the API carries ids instead.
REFERENCE_KEYS = ("shared_tools", "mcp_servers")
# Manifest keys whose API field has another name.
API_NAME = {"shared_tools": "tool_ids"}
# The payload keys a tool (shared or inline) may carry beside `type`; the one matching `type` is used.
TOOL_PAYLOAD_KEYS = ("client_side_tool", "function", "handoff", "invite", "pay", "retrieval",
                     "update_dynamic_variables", "vision", "webhook")

# AssistantTest: the channels whose `destination` is the assistant's id, so that `spec.assistant: NAME`
# may stand for it (an assumption: docs/api-assumptions.md); phone and SMS tests dial a number. A
# channel the manifest leaves out is the API's default, web_chat.
TEST_ASSISTANT_CHANNELS = ("web_call", "web_chat")
DEFAULT_TEST_CHANNEL = "web_chat"
# Top-level fields the server sets on a live object, which export never writes and (but for the version
# name, which main_version manages) the planner never compares or sends back.
SERVER_FIELDS: dict[str, frozenset[str]] = {
    "Assistant": frozenset({"id", "created_at", "version_id", "version_name", "version_created_at",
                            "import_metadata"}),
    "McpServer": frozenset({"id", "created_at"}),
    "AssistantTest": frozenset({ASSISTANT_TEST.id_field, "created_at", "updated_at"}),
}
# Ids the server creates inside an object it nests in a resource: never compared, and copied from live
# into a body that sends their parent object, so that an update never drops them.
SERVER_SET_PATHS: dict[str, tuple[tuple[str, str], ...]] = {
    "Assistant": (("telephony_settings", "default_texml_app_id"),
                  ("messaging_settings", "default_messaging_profile_id")),
}
# Fields the server sets when they are not sent, though the schema declares no default for them
# (telnyx-ai-api.md: "if neither model nor external_llm is given, a default model is applied"): when
# a manifest does not declare them, the live value is kept rather than cleared.
SERVER_DEFAULTED: dict[str, tuple[str, ...]] = {"Assistant": ("model",)}
