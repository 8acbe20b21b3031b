"""`--target ADDRESS`: narrow a plan to some resources and what they depend on."""

from __future__ import annotations

from collections.abc import Sequence

from reconciler.errors import ConfigError
from reconciler.kinds import BY_PREFIX, KINDS
from reconciler.planning.plan import Plan


def target_address(target: str, plan: Plan) -> str:
    """A `--target` as the plan's address: the address exactly as the plan prints it (`assistant.NAME`,
    `assistant.NAME.version.V`, `tool.NAME`, `mcp_server.NAME`), or the CLI contract's `KIND/NAME`
    (`Assistant/NAME`, `McpServer/NAME`; the kind in any case), the resource of that kind and name
    (names are free text: `Assistant/a.version.b` is the assistant named so, never a version of `a`)."""
    prefix, dot, name = target.partition(".")
    if dot and name and prefix in BY_PREFIX:
        return target
    kind, slash, rest = target.partition("/")
    known = {k.kind.lower(): k for k in KINDS.values()}
    if slash and rest and kind.lower() in known:
        found = [rc.address for rc in plan.resource_changes if rc.kind == known[kind.lower()].kind and rc.name == rest]
        if len(found) != 1:
            raise ConfigError(f"--target: no such resource in the plan: {target}")
        return found[0]
    prefixes = ", ".join(f"{p}.NAME" for p in BY_PREFIX)
    kinds = ", ".join(f"{k}/NAME" for k in KINDS)
    raise ConfigError(f"--target {target!r}: expected an address as the plan prints it ({prefixes}) or {kinds}")


def select(plan: Plan, targets: Sequence[str]) -> Plan:
    """The changes of the targeted resources (an assistant with its versions and canary) and,
    transitively, of everything they depend on."""
    wanted = [target_address(t, plan) for t in targets]
    by_address = plan.by_address()
    missing = [w for w in wanted if w not in by_address]
    if missing:
        raise ConfigError(f"--target: no such resource in the plan: {', '.join(missing)}")
    chosen: set[str] = set()
    # The resource itself and its sub-resources (`.canary`, `.promotion`, `.version.NAME` and its
    # `.gate`), not `bot.staging`; a traffic change brings the gate it depends on along.
    queue = [a for a in by_address
             if any(a == w or a in (w + ".canary", w + ".promotion") or a.startswith(w + ".version.")
                    for w in wanted)]
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
