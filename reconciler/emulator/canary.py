"""Canary deploys in today's rules form: ordered targeting rules, first match wins, each with optional
`match` clauses and a `serve` of one version or a weighted rollout (the rest goes to main). The legacy
`{"versions": [{version_id, percentage}]}` body is still taken and stored as one catch-all rollout.
Handlers follow `assistants.py`'s conventions and run under the app's lock."""

from __future__ import annotations

from typing import Any

from reconciler.emulator.apierrors import ApiFault, Invalid, not_found
from reconciler.emulator.assistants import record
from reconciler.emulator.store import Call, State, copied, now_iso

Result = tuple[int, Any]
Problem = dict[str, Any]


def rules_of(body: dict[str, Any]) -> list[dict[str, Any]]:
    """The rules a request body asks for; a legacy `versions` list becomes one catch-all rollout."""
    if "rules" in body:
        return copied(body["rules"]) or []
    rollout = [{"version_id": v["version_id"], "weight": v["percentage"]} for v in body.get("versions") or []]
    return [{"serve": {"rollout": rollout}}] if rollout else []


def _check_version(rec: dict[str, Any], vid: str, loc: list[str | int], *, main_ok: bool) -> list[Problem]:
    if vid not in rec["versions"]:
        return [{"loc": loc, "msg": f"Version {vid!r} does not exist", "type": "value_error"}]
    if vid == rec["main"] and not main_ok:
        return [{"loc": loc, "msg": "The main version cannot be a rollout slot; the rest of the traffic "
                                    "already goes to main", "type": "value_error"}]
    return []


def _check_rollout(rec: dict[str, Any], slots: list[dict[str, Any]], loc: list[str | int]) -> list[Problem]:
    problems: list[Problem] = []
    if not slots:
        problems.append({"loc": loc, "msg": "A rollout needs at least one slot", "type": "value_error"})
    seen: set[str] = set()
    for j, slot in enumerate(slots):
        where = [*loc, j]
        problems += _check_version(rec, slot["version_id"], [*where, "version_id"], main_ok=False)
        if slot["version_id"] in seen:
            problems.append({"loc": [*where, "version_id"], "msg": f"Version {slot['version_id']!r} is listed "
                             "twice", "type": "value_error"})
        seen.add(slot["version_id"])
        # The reference's later spec gives a weight "0 to 100" (the SDK states no bound): a slot of
        # weight 0 is accepted (it gets no traffic) and, as pydantic words a `ge`/`le` bound, refused
        # outside it (docs/api-assumptions.md, "Canary rules").
        if slot["weight"] < 0:
            problems.append({"loc": [*where, "weight"], "msg": "Input should be greater than or equal to 0",
                             "type": "greater_than_equal"})
        elif slot["weight"] > 100:
            problems.append({"loc": [*where, "weight"], "msg": "Input should be less than or equal to 100",
                             "type": "less_than_equal"})
    if sum(slot["weight"] for slot in slots) >= 100:
        problems.append({"loc": loc, "msg": "Weights must sum to less than 100 (the rest goes to main)",
                         "type": "value_error"})
    return problems


def check_rules(rec: dict[str, Any], rules: list[dict[str, Any]], legacy: bool) -> None:
    """422 unless every rule serves exactly one existing version or a valid rollout."""
    problems: list[Problem] = []
    for i, rule in enumerate(rules):
        loc: list[str | int] = ["body", "versions"] if legacy else ["body", "rules", i, "serve"]
        serve = rule.get("serve") or {}
        has_version, has_rollout = serve.get("version_id") is not None, serve.get("rollout") is not None
        if has_version == has_rollout:
            problems.append({"loc": loc, "msg": "Serve exactly one of version_id or rollout", "type": "value_error"})
        elif has_version:
            problems += _check_version(rec, serve["version_id"], [*loc, "version_id"], main_ok=True)
        else:
            problems += _check_rollout(rec, serve["rollout"], loc if legacy else [*loc, "rollout"])
        for j, clause in enumerate(rule.get("match") or []):
            if not clause.get("values"):
                problems.append({"loc": ["body", "rules", i, "match", j, "values"],
                                 "msg": "List should have at least 1 item after validation", "type": "too_short"})
    if problems:
        raise Invalid(problems)


def _answer(rec: dict[str, Any]) -> dict[str, Any]:
    canary = rec["canary"]
    out = {"assistant_id": rec["id"], "rules": canary["rules"], "created_at": canary["created_at"],
           "updated_at": canary["updated_at"]}
    rules = canary["rules"]
    if len(rules) == 1 and not rules[0].get("match") and rules[0]["serve"].get("rollout"):
        # The legacy view, beside the canonical rules, only where it says the same thing (one catch-all
        # rollout): a client of the `versions` era then still reads the split right.
        out["versions"] = [{"version_id": s["version_id"], "percentage": s["weight"]}
                           for s in rules[0]["serve"]["rollout"]]
    return out


def _existing(st: State, call: Call) -> dict[str, Any]:
    rec = record(st, call.params["assistant_id"])
    if rec["canary"] is None:
        raise not_found("Canary deploy for assistant", rec["id"])
    return rec


def get_canary(st: State, call: Call) -> Result:
    """GET .../canary-deploys: 404 when none exists."""
    return 200, _answer(_existing(st, call))


def create_canary(st: State, call: Call) -> Result:
    """POST .../canary-deploys: 409 when one already exists."""
    rec = record(st, call.params["assistant_id"])
    if rec["canary"] is not None:
        raise ApiFault(409, "10012", "Duplicate resource",
                       "A canary deploy already exists for this assistant; use PUT to replace it")
    rules = rules_of(call.body)
    check_rules(rec, rules, "rules" not in call.body)
    now = now_iso()
    rec["canary"] = {"rules": rules, "created_at": now, "updated_at": now}
    return 200, _answer(rec)


def replace_canary(st: State, call: Call) -> Result:
    """PUT .../canary-deploys: replaces every rule; 404 when none exists."""
    rec = _existing(st, call)
    rules = rules_of(call.body)
    check_rules(rec, rules, "rules" not in call.body)
    rec["canary"]["rules"] = rules
    rec["canary"]["updated_at"] = now_iso()
    return 200, _answer(rec)


def delete_canary(st: State, call: Call) -> Result:
    """DELETE .../canary-deploys: 204; 404 when none exists."""
    _existing(st, call)["canary"] = None
    return 204, None
