"""Handlers for an assistant's scheduled events (phone calls and SMS at a fixed time), with today's
`call_settings` (phone calls only) and retry settings. Conventions as in `assistants.py`."""

from __future__ import annotations

from typing import Any

from reconciler.emulator.apierrors import Invalid, not_found
from reconciler.emulator.assistants import main_of
from reconciler.emulator.query import datetime_param, enum_param, page_params, paginate, parse_datetime
from reconciler.emulator.store import Call, State, copied, new_id, now_iso

Result = tuple[int, Any]
CHANNELS = ("phone_call", "sms_chat")
PHONE_ONLY = ("call_settings", "max_retries_client_errors", "retry_interval_secs")


def create_event(st: State, call: Call) -> Result:
    """POST /ai/assistants/{id}/scheduled_events: 201, status pending."""
    aid = call.params["assistant_id"]
    main_of(st, aid)
    body: dict[str, Any] = call.body
    if body["telnyx_conversation_channel"] == "sms_chat":
        problems = [{"loc": ["body", key], "msg": "Only phone_call events take this field", "type": "value_error"}
                    for key in PHONE_ONLY if key in body]
        if not body.get("text"):
            problems.append({"loc": ["body", "text"], "msg": "Field required for sms_chat events", "type": "missing"})
        if problems:
            raise Invalid(problems)
    event: dict[str, Any] = {"scheduled_event_id": new_id(), "assistant_id": aid, **copied(body),
                             "status": "pending", "retry_count": 0, "errors": [], "created_at": now_iso()}
    if body["telnyx_conversation_channel"] == "phone_call":
        event.update(retry_attempts=0, call_attempts=[])
    st.events[event["scheduled_event_id"]] = event
    return 201, event


def list_events(st: State, call: Call) -> Result:
    """GET /ai/assistants/{id}/scheduled_events: filters conversation_channel, from_date, to_date."""
    aid = call.params["assistant_id"]
    main_of(st, aid)
    number, size = page_params(call.query)
    channel = enum_param(call.query, "conversation_channel", CHANNELS)
    low, high = datetime_param(call.query, "from_date"), datetime_param(call.query, "to_date")
    found = [e for e in st.events.values() if e["assistant_id"] == aid
             and (channel is None or e["telnyx_conversation_channel"] == channel)
             and (low is None or parse_datetime(e["scheduled_at_fixed_datetime"]) >= low)
             and (high is None or parse_datetime(e["scheduled_at_fixed_datetime"]) <= high)]
    page, meta = paginate(found, number, size)
    return 200, {"data": page, "meta": meta}


def _event(st: State, call: Call) -> dict[str, Any]:
    main_of(st, call.params["assistant_id"])
    event: dict[str, Any] | None = st.events.get(call.params["event_id"])
    if event is None or event["assistant_id"] != call.params["assistant_id"]:
        raise not_found("Scheduled event", call.params["event_id"])
    return event


def get_event(st: State, call: Call) -> Result:
    """GET /ai/assistants/{id}/scheduled_events/{event_id}."""
    return 200, _event(st, call)


def delete_event(st: State, call: Call) -> Result:
    """DELETE /ai/assistants/{id}/scheduled_events/{event_id}: empty 200."""
    del st.events[_event(st, call)["scheduled_event_id"]]
    return 200, None
