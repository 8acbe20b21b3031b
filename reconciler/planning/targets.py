"""`--target KIND/NAME`: narrow a plan to some resources and what they depend on."""

from __future__ import annotations

from collections.abc import Sequence

from reconciler.errors import ConfigError
from reconciler.planning.plan import Plan

_KINDS = {
    "assistant": "assistant",
    "tool": "tool",
    "mcp_server": "mcp_server",
    "mcpserver": "mcp_server",
    "assistanttest": "assistant_test",
    "assistant_test": "assistant_test",
}


def target_address(target: str) -> str:
    """`Assistant/support-bot` or `assistant/support-bot` -> `assistant.support-bot`."""
    kind, sep, name = target.partition("/")
    prefix = _KINDS.get(kind.strip().lower())
    if not sep or not name or prefix is None:
        raise ConfigError(f"--target {target!r}: expected KIND/NAME with KIND one of Assistant, Tool, McpServer, "
                          "AssistantTest")
    return f"{prefix}.{name}"


def select(plan: Plan, targets: Sequence[str]) -> Plan:
    """The changes of the targeted resources (an assistant with its versions and canary) and,
    transitively, of everything they depend on."""
    wanted = [target_address(t) for t in targets]
    by_address = plan.by_address()
    missing = [w for w in wanted if w not in by_address]
    if missing:
        raise ConfigError(f"--target: no such resource in the plan: {', '.join(missing)}")
    chosen: set[str] = set()
    # The resource itself and its sub-resources (`.canary`, `.version.NAME`), not `bot.staging`.
    queue = [a for a in by_address
             if any(a == w or a == w + ".canary" or a.startswith(w + ".version.") for w in wanted)]
    while queue:
        address = queue.pop()
        if address in chosen:
            continue
        chosen.add(address)
        queue.extend(d for d in by_address[address].depends_on if d in by_address)
    return Plan(
        resource_changes=[rc for rc in plan.resource_changes if rc.address in chosen],
        warnings=[w for w in plan.warnings if w.split(":")[0] in chosen],
    )
