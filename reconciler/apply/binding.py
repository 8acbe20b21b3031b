"""What a saved plan is bound to besides the secrets it sends: the live objects its bodies name by id.

The plan document names a shared tool or MCP server, or a test's assistant, by name
(`shared_tools: [ext]`); what the plan sends names it by id. A live-only object of that name deleted
and made again since the plan was made (another id, another URL) would be re-resolved by name when
apply plans again, and the reviewed plan document would still compare equal: the references keep the
ids the reviewed bodies held, so that apply checks those objects as it checks the objects the plan
changes, and refuses a re-made plan whose bodies name other ones.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from reconciler.model import LiveState
from reconciler.planning.plan import Plan


def references(plan: Plan, live: LiveState) -> list[str]:
    """The ids of the live objects that what the plan sends names by id (in a body, a path or as a
    parent): a shared tool or MCP server, a test's assistant. A version's id stands for its assistant
    (whose versions' fingerprint covers it). Sorted, each once."""
    owner: dict[str, str] = {}
    for objects, id_field in ((live.assistants, "id"), (live.tools, "id"), (live.mcp_servers, "id"),
                              (live.tests, "test_id")):
        for obj in objects:
            owner[str(obj.get(id_field))] = str(obj.get(id_field))
    for assistant_id, versions in live.versions.items():
        for version in versions:
            owner.setdefault(str(version.get("version_id")), assistant_id)

    def strings(value: Any) -> Iterator[str]:
        if isinstance(value, str):
            yield value
        elif isinstance(value, dict):
            for item in value.values():
                yield from strings(item)
        elif isinstance(value, list | tuple):
            for item in value:
                yield from strings(item)

    found: set[str] = set()
    for rc in plan.resource_changes:
        for op in rc.operations:
            for text in [*strings(op.body), *op.path.split("/"), *strings(op.parent)]:
                if text in owner:
                    found.add(owner[text])
    return sorted(found)
