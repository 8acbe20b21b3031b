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

Looking a create up by name must not take someone else's object for ours: `chooser` says which live
object of that name can be the one a create made (the owner tag, and when in doubt, its age).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from reconciler.api.endpoints import created_id
from reconciler.errors import ApiError
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


def created_at(kind: str, response: Any) -> datetime | None:
    """When the object a create answered with (or a lookup found) was created, if it says."""
    if not isinstance(response, dict):
        return None
    stamp = response.get("version_created_at" if kind == KIND_VERSION else "created_at")
    if not isinstance(stamp, str):
        return None
    try:
        when = datetime.fromisoformat(stamp)
    except ValueError:
        return None
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when


def created_before(kind: str, response: Any, moment: datetime) -> bool:
    """True when the object a create answered with was created before `moment` (a replay of an
    earlier run's create, to be checked), or says nothing of when it was created."""
    when = created_at(kind, response)
    return when is None or when < moment


def chooser(kind: str, address: str, owner_tag: str | None, started: datetime, *, settling: bool
            ) -> Callable[[list[dict[str, Any]]], Any | None]:
    """Which live object of a create's name can be the one it made, for `reads.adopter`: for an
    assistant, one carrying the owner tag (every create body has it: applier.create); when several
    could be, or when settling after the run (others had time to create one), only one created since
    the apply `started`. More than one candidate leaves the outcome unknown: nothing is adopted on a
    guess (an object of that name another team made meanwhile must never receive this apply's writes)."""

    def choose(found: list[dict[str, Any]]) -> Any | None:
        if kind == "Assistant" and owner_tag is not None:
            found = [f for f in found if owner_tag in (f.get("tags") or ())]
        if settling or len(found) > 1:
            found = [f for f in found if not _older(kind, f, started)]
        if len(found) > 1:
            ids = ", ".join(str(created_id(kind, f)) for f in found)
            raise ApiError(f"{address}: {len(found)} live objects of that name could be the one this create "
                           f"made ({ids})", retryable=True, uncertain=True)
        return found[0] if found else None

    return choose


def _older(kind: str, found: Any, moment: datetime) -> bool:
    """Whether `found` says it was created before `moment` (so it is not what this apply made)."""
    when = created_at(kind, found)
    return when is not None and when < moment
