"""Handlers that talk rather than configure: chat (JSON, or Server-Sent Events with `stream`), chat over
SMS and WhatsApp, the TeXML document, and instruction enhancement (streamed `text/plain`). There is no
model behind the emulator, so every answer is deterministic. Conventions as in `assistants.py`."""

from __future__ import annotations

import json
from typing import Any

from reconciler.emulator.apierrors import bad_request
from reconciler.emulator.assistants import main_of
from reconciler.emulator.reply import Raw
from reconciler.emulator.store import Call, State, new_id

Result = tuple[int, Any]


def _sse(event: str, data: dict[str, Any]) -> str:
    return f"event: {event}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n"


def chat(st: State, call: Call) -> Result:
    """POST /ai/assistants/{id}/chat: `{"content"}`, or with `stream` the same reply as SSE `delta`
    events (one per word) and a final `done` event carrying the whole content."""
    cfg = main_of(st, call.params["assistant_id"])
    content = f"[{cfg['name']}] You said: {call.body['content']}"
    if not call.body.get("stream"):
        return 200, {"content": content}
    words = content.split(" ")
    deltas = [w if i == 0 else f" {w}" for i, w in enumerate(words)]
    stream = "".join(_sse("delta", {"content": d}) for d in deltas)
    stream += _sse("done", {"content": content, "whatsapp_template": None})
    return 200, Raw("text/event-stream; charset=utf-8", stream.encode())


def _profile(cfg: dict[str, Any]) -> None:
    if not (cfg.get("messaging_settings") or {}).get("default_messaging_profile_id"):
        raise bad_request("The assistant has no messaging profile")


def chat_sms(st: State, call: Call) -> Result:
    """POST /ai/assistants/{id}/chat/sms: needs a messaging profile; one conversation per from/to."""
    aid = call.params["assistant_id"]
    _profile(main_of(st, aid))
    key = f"{aid}|{call.body['from']}|{call.body['to']}"
    if call.body.get("should_create_conversation") or key not in st.conversations:
        st.conversations[key] = new_id()
    return 200, {"conversation_id": st.conversations[key]}


def chat_whatsapp(st: State, call: Call) -> Result:
    """POST /ai/assistants/{id}/chat/whatsapp: needs a messaging profile; a new conversation each time."""
    _profile(main_of(st, call.params["assistant_id"]))
    return 200, {"conversation_id": new_id(), "message_id": new_id()}


def texml(st: State, call: Call) -> Result:
    """GET /ai/assistants/{id}/texml: the TeXML document as a JSON string."""
    aid = call.params["assistant_id"]
    main_of(st, aid)
    doc = ('<?xml version="1.0" encoding="UTF-8"?><Response><Connect>'
           f'<AIAssistant id="{aid}"/></Connect></Response>')
    return 200, doc


def enhance(st: State, call: Call) -> Result:
    """POST /ai/assistants/{id}/instructions/enhance: the instructions sent (or the assistant's own),
    with the requested guidance appended, as `text/plain`. Nothing is stored."""
    cfg = main_of(st, call.params["assistant_id"])
    body = call.body or {}
    text = body.get("instructions") or cfg.get("instructions") or ""
    if body.get("enhancement_prompt"):
        text = f"{text.rstrip()}\n\n{body['enhancement_prompt'].strip()}"
    return 200, Raw("text/plain; charset=utf-8", text.encode())
