"""Apply order: the dependency graph of a Plan, built from each change's `depends_on`.

Direction. An edge `A -> B` in `depends_on` of B means "A's operations finish before B's start",
whatever the actions are. The planner states both directions in that one form:
- creates and updates depend on what they reference: a Ref in a body or a path (a tool before the
  assistant that lists it, an assistant before its versions, a version before the canary that
  routes to it);
- deletes carry their reversed dependencies explicitly: a version delete depends on the canary
  change that stops routing to it, and a pruned tool or MCP server depends on the deletes or updates
  of the assistants that used it (`pruning._users`).
So deletes run "the graph backwards" without this module having to reverse anything: reversing
again here would undo the planner's work. `tests/apply/test_ordering.py` checks both directions on
real plans.

Changes with no operations (no-ops, or kept-with-a-reason) are left out of the graph: they are
already true, so a dependency on them is satisfied before apply starts. A dependency on an address
the plan does not hold (narrowed by `--target`, or a resource that exists live) is satisfied too.
"""

from __future__ import annotations

from collections.abc import Mapping
from graphlib import CycleError, TopologicalSorter

from reconciler.errors import PlanError
from reconciler.planning.plan import Plan, ResourceChange


def runnable(plan: Plan) -> list[ResourceChange]:
    """The changes apply has to carry out: those with at least one operation, in plan order."""
    return [rc for rc in plan.resource_changes if rc.operations]


def graph(plan: Plan) -> dict[str, set[str]]:
    """address -> the addresses that must finish first, over the runnable changes only."""
    changes = runnable(plan)  # once: a plan of thousands of resources has few runnable changes
    steps = {rc.address for rc in changes}
    return {rc.address: {d for d in rc.depends_on if d in steps and d != rc.address} for rc in changes}


def check_acyclic(deps: Mapping[str, set[str]]) -> None:
    """Raise PlanError naming the cycle if the graph has one (a planner bug, never user input)."""
    try:
        TopologicalSorter(deps).prepare()
    except CycleError as exc:
        cycle = " -> ".join(str(a) for a in exc.args[1])
        raise PlanError(f"the plan's changes depend on each other in a cycle: {cycle}") from exc


def dependents(deps: Mapping[str, set[str]]) -> dict[str, set[str]]:
    """The reverse graph: address -> the addresses that wait for it."""
    out: dict[str, set[str]] = {a: set() for a in deps}
    for address, before in deps.items():
        for d in before:
            out.setdefault(d, set()).add(address)
    return out


def transitive_dependents(deps: Mapping[str, set[str]], address: str) -> set[str]:
    """Everything that waits for `address`, directly or through others (what a failure must skip)."""
    return reachable(dependents(deps), address)


def reachable(rev: Mapping[str, set[str]], address: str) -> set[str]:
    """What `address` leads to in the reverse graph `rev` (`dependents(deps)`), itself excluded
    unless on a cycle: for a caller that asks often and builds `rev` once."""
    seen: set[str] = set()
    stack = [address]
    while stack:
        for nxt in rev.get(stack.pop(), ()):
            if nxt not in seen:
                seen.add(nxt)
                stack.append(nxt)
    return seen


def heights(deps: Mapping[str, set[str]]) -> dict[str, int]:
    """address -> length of the longest chain of dependents hanging below it (0 for a sink).

    The applier starts the ready step with the greatest height first: the critical path never waits
    behind work that nothing else needs, which keeps an apply close to its level bound.
    """
    check_acyclic(deps)
    rev = dependents(deps)
    order = list(TopologicalSorter(deps).static_order())
    out: dict[str, int] = {}
    for address in reversed(order):
        out[address] = max((out[n] + 1 for n in rev.get(address, ())), default=0)
    return out


def levels(deps: Mapping[str, set[str]]) -> list[list[str]]:
    """The graph in dependency levels: level 0 depends on nothing, level n on something in n-1.

    Each level can run entirely in parallel once the previous one finished; `bench/apply_bench.py`
    uses the level widths to compute the time bound of an apply.
    """
    check_acyclic(deps)
    depth: dict[str, int] = {}
    for address in TopologicalSorter(deps).static_order():
        depth[address] = max((depth[d] + 1 for d in deps.get(address, ())), default=0)
    out: list[list[str]] = [[] for _ in range(max(depth.values(), default=-1) + 1)]
    for address, d in depth.items():
        out[d].append(address)
    return [sorted(level) for level in out]
