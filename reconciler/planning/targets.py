"""`--target ADDRESS`: narrow a plan to some resources and what they depend on.

What a resource depends on, as Terraform's `-target` reads it: what its operations must wait for
(`depends_on`: a tool the plan creates before the assistant that uses it), and every resource its
manifest names (`uses`: the shared tools and MCP servers of an assistant and of its versions, the
assistant of a test), so that a targeted assistant is applied with its tool's pending update rather
than against the tool as it is live.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from reconciler.errors import ConfigError
from reconciler.kinds import ASSISTANT, BY_PREFIX, KINDS, MCP_SERVER, TOOL
from reconciler.model import DesiredState
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


def uses(desired: DesiredState) -> dict[str, set[str]]:
    """address -> the addresses of the resources its manifest names."""
    out: dict[str, set[str]] = {}
    for res in desired.resources:
        specs = [res.spec, *(v.overlay for v in res.versions or ())]
        named = out.setdefault(res.address, set())
        for spec in specs:
            named.update(f"{TOOL.address_prefix}.{n}" for n in spec.get("shared_tools") or () if isinstance(n, str))
            named.update(f"{MCP_SERVER.address_prefix}.{e['server']}" for e in spec.get("mcp_servers") or ()
                         if isinstance(e, dict) and isinstance(e.get("server"), str))
        if res.kind == "AssistantTest" and isinstance(res.spec.get("assistant"), str):
            named.add(f"{ASSISTANT.address_prefix}.{res.spec['assistant']}")
    return out


def select(plan: Plan, targets: Sequence[str], named: Mapping[str, set[str]] | None = None) -> Plan:
    """The changes of the targeted resources (an assistant with its versions and canary) and,
    transitively, of everything they depend on (`depends_on`, and `named`: what `uses` gives)."""
    wanted = [target_address(t, plan) for t in targets]
    by_address = plan.by_address()
    missing = [w for w in wanted if w not in by_address]
    if missing:
        raise ConfigError(f"--target: no such resource in the plan: {', '.join(missing)}")
    chosen: set[str] = set()
    named = named or {}
    queue = [a for a in by_address if any(_part_of(a, w) for w in wanted)]
    while queue:
        address = queue.pop()
        if address in chosen:
            continue
        chosen.add(address)
        queue.extend(d for d in by_address[address].depends_on if d in by_address)
        # What its manifest names, each with its own parts (a test's assistant with its versions).
        for owner in (o for o in named if _part_of(address, o)):
            queue.extend(a for a in by_address if any(_part_of(a, n) for n in named[owner]))
    return Plan(
        resource_changes=[rc for rc in plan.resource_changes if rc.address in chosen],
        warnings=[w for w in plan.warnings if w.split(":")[0] in chosen],
    )


def _part_of(address: str, owner: str) -> bool:
    """Whether `address` is the resource `owner` or one of its sub-resources (`.canary`,
    `.promotion`, `.version.NAME` and its `.gate`), not `bot.staging`; a traffic change brings the
    gate it depends on along (`depends_on`)."""
    return address == owner or address in (owner + ".canary", owner + ".promotion") or \
        address.startswith(owner + ".version.")
