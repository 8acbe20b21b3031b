"""An assistant's canary in one form: ordered targeting rules that name versions by NAME.

The API's canary (telnyx 4.189.0) is `{"rules": [{"match": [clause, ...], "serve": ...}]}`: rules
are tried in order and the first whose clauses all hold serves the call; `serve` is one `version_id`
or a weighted `rollout`; what no rule claims goes to the main version. A manifest writes the same
rules with version names (`serve: {version: NAME}`, `rollout: [{version, weight}]`), or the short
`canary: [{version, percentage}]`, which is one catch-all rollout. The seed-era server answered
`{"versions": [{version_id, percentage}]}`, read here as that same catch-all rollout.

Rules here are plain dicts in the manifest's spelling, normalised: no empty `match`, numbers as
given. They are compared and shown as they are (a changed clause is a changed field), turned into
the API's body by replacing names with ids, and read back from the API by replacing ids with names.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

Rules = tuple[dict[str, Any], ...]


def from_manifest(canary: Any) -> Rules:
    """The rules a manifest's `canary` declares (either spelling; both already validated)."""
    if isinstance(canary, list):
        slots = [{"version": e["version"], "weight": e["percentage"]} for e in canary]
        return ({"serve": {"rollout": slots}},) if slots else ()
    return tuple(_rule(r, "version") for r in canary.get("rules") or [])


def _rule(rule: Mapping[str, Any], key: str) -> dict[str, Any]:
    """One rule with its version references under `key` (`version` or `version_id`) kept as given."""
    out = _match(rule)
    serve = rule.get("serve") or {}
    if "rollout" in serve and serve.get("rollout") is not None:
        out["serve"] = {"rollout": [{key: s.get(key), "weight": s.get("weight")}
                                    for s in serve["rollout"] if isinstance(s, Mapping)]}
    else:
        out["serve"] = {key: serve.get(key)}
    return out


def _match(rule: Mapping[str, Any]) -> dict[str, Any]:
    """A rule's conditions (`match`, when it has any), the start of the rule both forms build."""
    match = rule.get("match")
    if not match:
        return {}
    return {"match": [{"attribute": c.get("attribute"), "operator": c.get("operator"),
                       "values": list(c.get("values") or [])} for c in match if isinstance(c, Mapping)]}


def from_live(canary: Mapping[str, Any] | None, names: Mapping[str, str]) -> Rules:
    """The live canary as rules naming versions (`names`: version id -> name; an id without a name
    stays as it is). The rules form when the answer has it, else the seed-era `versions` split."""
    if not canary:
        return ()
    rules = canary.get("rules")
    if isinstance(rules, list):
        # `_rule(r, "version_id")` renamed to name versions, in one pass (the planner reads every
        # assistant's canary): the same rules, keys in the same order. A dict is told without
        # the Mapping ABC's isinstance(), which runs Python code.
        return tuple(_live_rule(r, names) for r in rules if type(r) is dict or isinstance(r, Mapping))
    if isinstance(canary.get("versions"), list):
        slots = [{"version_id": v.get("version_id"), "weight": v.get("percentage")}
                 for v in canary["versions"] if isinstance(v, Mapping)]
        raw = [{"serve": {"rollout": slots}}] if slots else []
    else:
        raw = []
    return tuple(rename(r, "version_id", "version", lambda vid: names.get(str(vid), str(vid))) for r in raw)


def _live_rule(rule: Mapping[str, Any], names: Mapping[str, str]) -> dict[str, Any]:
    """`rename(_rule(rule, "version_id"), "version_id", "version", to_name)`, where `to_name` is an
    id's name in `names`, else the id as a string."""
    out = _match(rule)
    serve = rule.get("serve") or {}
    if "rollout" in serve and serve.get("rollout") is not None:
        slots = []
        for s in serve["rollout"]:
            if type(s) is dict or isinstance(s, Mapping):
                vid = str(s.get("version_id"))
                slots.append({"version": names.get(vid, vid), "weight": s.get("weight")})
        out["serve"] = {"rollout": slots}
    else:
        vid = str(serve.get("version_id"))
        out["serve"] = {"version": names.get(vid, vid)}
    return out


def rename(rule: dict[str, Any], old: str, new: str, convert: Any) -> dict[str, Any]:
    """`rule` with each version reference moved from key `old` to `new` through `convert`."""
    out = dict(rule)
    serve = rule["serve"]
    if "rollout" in serve:
        out["serve"] = {"rollout": [{new: convert(s[old]), "weight": s["weight"]} for s in serve["rollout"]]}
    else:
        out["serve"] = {new: convert(serve[old])}
    return out


def body(rules: Rules, ids: Mapping[str, Any]) -> dict[str, Any]:
    """The API's request body (`{"rules": [...]}`) with version names replaced by `ids[name]`
    (a version id, or a Ref to one that apply creates first)."""
    return {"rules": [rename(r, "version", "version_id", lambda n: ids[n]) for r in rules]}


def served(rules: Iterable[Mapping[str, Any]], key: str = "version") -> list[Any]:
    """Every version reference the rules serve, in order, once each."""
    found: list[Any] = []
    for rule in rules:
        serve = rule.get("serve") or {}
        refs = [s.get(key) for s in serve.get("rollout") or []] if "rollout" in serve else [serve.get(key)]
        found += [r for r in refs if r is not None and r not in found]
    return found


def as_short_form(rules: Rules) -> list[dict[str, Any]] | None:
    """The short `[{version, percentage}]` spelling when the rules are one catch-all rollout, else None."""
    if len(rules) == 1 and "match" not in rules[0] and "rollout" in rules[0]["serve"]:
        return [{"version": s["version"], "percentage": s["weight"]} for s in rules[0]["serve"]["rollout"]]
    return None


def traffic_split(rules: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """`[{version, percentage}]`: how much traffic each version may get, for the gates. A catch-all
    rollout gives its weights; a version served by a rule that matches some callers may get all of
    them, so it counts as 100 (the safe side: a gate runs before any traffic reaches it)."""
    out: list[dict[str, Any]] = []
    for rule in rules:
        serve = rule.get("serve") or {}
        targeted = bool(rule.get("match"))
        if "rollout" in serve:
            out += [{"version": s.get("version"), "percentage": 100 if targeted else s.get("weight")}
                    for s in serve.get("rollout") or []]
        elif serve.get("version") is not None:
            out.append({"version": serve["version"], "percentage": 100})
    return out
