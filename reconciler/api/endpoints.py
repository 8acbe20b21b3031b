"""The one map of endpoints: each collection's path and the ids filled into it, how live objects map
onto manifest specs, and the id a create answered. Pure (no HTTP) and below the plan: the planner
builds its write Operations (path and verb) from these paths in `reconciler/planning/writes.py`;
`reads.py` holds the requests that read.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from reconciler.kinds import ASSISTANT, ASSISTANT_TEST, KIND_VERSION, KINDS, MCP_SERVER, TOOL, TOOL_PAYLOAD_KEYS

ASSISTANTS = ASSISTANT.collection
TOOLS = TOOL.collection
MCP_SERVERS = MCP_SERVER.collection
TESTS = ASSISTANT_TEST.collection


def fill_path(template: str, **ids: str) -> str:
    """`template` with each `{name}` placeholder in `ids` filled by its id, quoted."""
    for key, value in ids.items():
        template = template.replace("{" + key + "}", quote(value, safe=""))
    return template


# --- live objects as manifest-comparable specs -------------------------------------------------------

def tool_spec(tool: dict[str, Any]) -> dict[str, Any]:
    """A shared tool as its manifest spec: `type`, `timeout_ms` and the payload under its key.

    `tool_definition` is assumed to be `{"type": t, t: payload}` (docs/api-assumptions.md); a bare
    payload, or payload keys at the top level, are accepted too.
    """
    kind = str(tool.get("type", ""))
    spec: dict[str, Any] = {"type": kind}
    if "timeout_ms" in tool:
        spec["timeout_ms"] = tool["timeout_ms"]
    definition = tool.get("tool_definition")
    if isinstance(definition, dict):
        keyed = {k: v for k, v in definition.items() if k != "type"}
        if kind and kind not in keyed and not any(k in keyed for k in TOOL_PAYLOAD_KEYS):
            keyed = {kind: keyed}  # a bare payload
        spec.update(keyed)
    for key in TOOL_PAYLOAD_KEYS:
        if key in tool and key not in spec:
            spec[key] = tool[key]
    return spec


# --- what the applier needs after (or instead of) a request ------------------------------------------

def created_id(kind: str, response: Any) -> str | None:
    """The id a create returned: `version_id` for a version, the kind's id field (`id`, a test's
    `test_id`) for everything else."""
    if not isinstance(response, dict):
        return None
    value = response.get("version_id" if kind == KIND_VERSION else KINDS[kind].id_field if kind in KINDS else "id")
    return str(value) if value else None
