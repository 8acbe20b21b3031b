"""Soft delete: `DELETE /ai/assistants/{id}` moves an assistant (with its versions, canary and scheduled
events) to the Recently Deleted list, where it stays restorable for 30 days; `?hard_delete=true` removes
it for good. Handlers follow `assistants.py`'s conventions and run under the app's lock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from reconciler.emulator.apierrors import not_found
from reconciler.emulator.assistants import record
from reconciler.emulator.query import bool_param, page_params, paginate
from reconciler.emulator.store import Call, State

Result = tuple[int, Any]
KEPT_FOR = timedelta(days=30)


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="microseconds").replace("+00:00", "Z")


def _purge_expired(st: State) -> None:
    now = _iso(datetime.now(UTC))
    for aid in [aid for aid, entry in st.deleted.items() if entry["permanently_deleted_at"] <= now]:
        del st.deleted[aid]


def delete(st: State, call: Call) -> Result:
    """DELETE /ai/assistants/{id}: soft delete (restorable for 30 days) unless `hard_delete` is true."""
    aid = call.params["assistant_id"]
    hard = bool_param(call.query, "hard_delete", False)
    if hard and aid not in st.assistants and aid in st.deleted:
        del st.deleted[aid]  # purging one already in the Recently Deleted list
        return 200, {"id": aid, "object": "assistant", "deleted": True}
    rec = record(st, aid)
    events = {k: e for k, e in st.events.items() if e["assistant_id"] == aid}
    for event_id in events:
        del st.events[event_id]
    del st.assistants[aid]
    if not hard:
        now = datetime.now(UTC)
        st.deleted[aid] = {"record": rec, "events": events, "deleted_at": _iso(now),
                           "permanently_deleted_at": _iso(now + KEPT_FOR)}
    return 200, {"id": aid, "object": "assistant", "deleted": True}


def _view(entry: dict[str, Any]) -> dict[str, Any]:
    rec = entry["record"]
    return {**rec["versions"][rec["main"]], "deleted_at": entry["deleted_at"],
            "permanently_deleted_at": entry["permanently_deleted_at"]}


def list_deleted(st: State, call: Call) -> Result:
    """GET /ai/assistants/deleted: the Recently Deleted list, most recently deleted first, paginated."""
    _purge_expired(st)
    number, size = page_params(call.query)
    found = sorted(st.deleted.values(), key=lambda e: e["deleted_at"], reverse=True)
    page, meta = paginate([_view(e) for e in found], number, size)
    return 200, {"data": page, "meta": meta}


def _entry(st: State, call: Call) -> dict[str, Any]:
    _purge_expired(st)
    entry: dict[str, Any] | None = st.deleted.get(call.params["assistant_id"])
    if entry is None:
        raise not_found("Deleted assistant", call.params["assistant_id"])
    return entry


def get_deleted(st: State, call: Call) -> Result:
    """GET /ai/assistants/{id}/deleted: one soft-deleted assistant."""
    return 200, _view(_entry(st, call))


def restore(st: State, call: Call) -> Result:
    """POST /ai/assistants/{id}/restore: back from the Recently Deleted list, as it was (main answered)."""
    entry = _entry(st, call)
    aid = call.params["assistant_id"]
    del st.deleted[aid]
    rec = entry["record"]
    st.assistants[aid] = rec
    st.events.update(entry["events"])
    return 200, rec["versions"][rec["main"]]
