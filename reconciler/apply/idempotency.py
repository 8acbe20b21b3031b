"""Deterministic `Idempotency-Key`s, so that two runs of the same change create once.

A create's key is a hash of the project (and environment), the resource's address, the request
(method, path with the ids it names) and its body, so two applies of the same manifests against the
same account send the same key for the same create, and the API (which keeps the first response of
a key and replays it; docs/api-assumptions.md) makes the second a replay instead of a duplicate. A
value from `${env:}` enters the hash only as its reference and a SHA-256 of the value, never in clear.

A replay can also be stale: the same change applied again after the object it created was deleted
(or renamed) by hand would replay the first response, naming an object that is gone. So an answer
whose object was created before this apply began is checked by name (`Applier.create`): adopted if
it is there, else created again under a key salted with the stale id (the same salt in every run).
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Any

from reconciler.model import SensitiveStr
from reconciler.planning.plan import KIND_VERSION

PREFIX = "reconciler-"


def _canonical(value: Any) -> Any:
    if isinstance(value, SensitiveStr):
        return {"$env": value.reference, "$sha256": hashlib.sha256(str(value).encode()).hexdigest()}
    if isinstance(value, dict):
        return {str(k): _canonical(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_canonical(v) for v in value]
    return value


def key(scope: str, address: str, method: str, path: str, body: Any) -> str:
    """The key of one create. `scope` names the project and environment."""
    text = json.dumps([scope, address, method, path, _canonical(body)], sort_keys=True, separators=(",", ":"),
                      default=str)
    return PREFIX + hashlib.sha256(text.encode()).hexdigest()[:48]


def salted(base: str, salt: str) -> str:
    """Another deterministic key derived from `base` (after a stale replay naming `salt`)."""
    return PREFIX + hashlib.sha256(f"{base} {salt}".encode()).hexdigest()[:48]


def created_before(kind: str, response: Any, moment: datetime) -> bool:
    """True when the object a create answered with was created before `moment` (a replay of an
    earlier run's create, to be checked), or says nothing of when it was created."""
    if not isinstance(response, dict):
        return True
    stamp = response.get("version_created_at" if kind == KIND_VERSION else "created_at")
    if not isinstance(stamp, str):
        return True
    try:
        when = datetime.fromisoformat(stamp)
    except ValueError:
        return True
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when < moment
