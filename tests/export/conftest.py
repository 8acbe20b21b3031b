"""Fixtures for the export tests: a varied account seeded through the API, the way a team that built
its assistants in the portal would have it (every inline tool variant, every nested settings object,
several versions, a canary, tags, shared tools, MCP servers, duplicate and awkward names)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from reconciler.kinds import DEFAULT_OWNER_TAG, PROTECT_TAG
from tests.support.emulator import Emulator

LONG_INSTRUCTIONS = (
    "You are the support agent of {{company}}.\n"
    "Be brief, be kind, and never promise a refund you cannot give.\n\n"
    "  Indented line, and a trailing space here: \n"
    "Escalate to a human when the caller asks twice."
)
HANDOFF_TARGET = "assistant-00000000-0000-4000-8000-000000000001"


@dataclass
class Seeded:
    """Ids of what `seed_account` created, by a short label."""

    tools: dict[str, str] = field(default_factory=dict)
    servers: dict[str, str] = field(default_factory=dict)
    assistants: dict[str, str] = field(default_factory=dict)
    versions: dict[str, str] = field(default_factory=dict)


def ok(response: httpx.Response) -> Any:
    assert response.status_code < 300, f"{response.request.method} {response.request.url}: {response.text}"
    return response.json() if response.content else None


def inline_tools() -> list[dict[str, Any]]:
    """One of every inline tool variant, some with values equal to the declared defaults."""
    return [
        {"type": "webhook", "timeout_ms": 4000, "webhook": {
            "name": "create_ticket", "description": "Open a support ticket", "url": "https://api.example.com/tickets",
            "method": "POST", "async": False,
            "headers": [{"name": "Authorization",
                         "value": "Bearer {{#integration_secret}}tickets{{/integration_secret}}"}],
            "body_parameters": {"type": "object", "properties": {"subject": {"type": "string"},
                                                                 "method": {"type": "string"}},
                                "required": ["subject"]},
            "store_fields_as_variables": [{"name": "ticket_id", "value_path": "data.id"}]}},
        {"type": "webhook", "webhook": {
            "name": "get_order", "description": "Look up an order", "url": "https://api.example.com/orders/{id}",
            "method": "GET", "async": True,
            "path_parameters": {"type": "object", "properties": {"id": {"type": "string"}}, "required": ["id"]}}},
        {"type": "retrieval", "retrieval": {"bucket_ids": ["kb-main", "kb-faq"], "max_num_results": 3}},
        {"type": "handoff", "handoff": {"ai_assistants": [{"id": HANDOFF_TARGET, "name": "billing"}],
                                        "voice_mode": "distinct"}},
        {"type": "hangup", "hangup": {"description": "This tool is used to hang up the call."}},
        {"type": "hangup", "hangup": {"description": "Hang up once the caller says goodbye."}},
        {"type": "transfer", "transfer": {
            "from": "+15550000000", "targets": [{"name": "desk", "to": "+15551112222"}],
            "custom_headers": [{"name": "X-Reason", "value": "{{reason}}"}],
            "warm_transfer_instructions": "Summarise the call first.",
            "voicemail_detection": {"detection_mode": "premium",
                                    "on_voicemail_detected": {"action": "stop_transfer"},
                                    "detection_config": {"after_greeting_silence_millis": 800}}}},
        {"type": "invite", "invite": {"from": "+15550000000",
                                      "custom_headers": [{"name": "X-Invite", "value": "1"}],
                                      "voicemail_detection": {"detection_mode": "disabled"}}},
        {"type": "refer", "refer": {"targets": [{"name": "pbx", "sip_address": "sip:desk@pbx.example.com"}],
                                    "sip_headers": [{"name": "User-to-User", "value": "abc"}]}},
        {"type": "send_dtmf", "send_dtmf": {}},
        {"type": "send_message", "send_message": {"message_template": "Your code is {{code}}"}},
        {"type": "skip_turn", "skip_turn": {}},
    ]


def all_settings() -> dict[str, Any]:
    """Every nested settings object, mixing user values with values equal to the declared defaults."""
    return {
        "voice_settings": {"voice": "Telnyx.KokoroTTS.af_heart", "voice_speed": 1.2, "similarity_boost": 0.75,
                           "use_speaker_boost": True, "language_boost": None,
                           "background_audio": {"type": "predefined_media", "value": "office"}},
        "transcription": {"model": "deepgram/flux", "language": "en",
                          "settings": {"eot_threshold": 0.7, "eot_timeout_ms": 5000, "keyterm": "Acme"}},
        "telephony_settings": {"time_limit_secs": 1800, "user_idle_timeout_secs": 60,
                               "supports_unauthenticated_web_calls": True, "noise_suppression": "deepfilternet",
                               "noise_suppression_config": {"attenuation_limit": 80, "mode": "advanced"},
                               "recording_settings": {"channels": "single", "enabled": True, "format": "mp3"},
                               "voicemail_detection": {"on_voicemail_detected": {
                                   "action": "leave_message_and_stop_assistant",
                                   "voicemail_message": {"type": "message", "message": "Call us back."}}}},
        "messaging_settings": {"delivery_status_webhook_url": "https://hooks.example.com/sms",
                               "conversation_inactivity_minutes": 30},
        "privacy_settings": {"data_retention": False},
        "insight_settings": {"insight_group_id": "ig-1"},
        "observability_settings": {"status": "enabled", "host": "https://langfuse.example.com",
                                   "public_key_ref": "lf-public", "secret_key_ref": "lf-secret"},
        "post_conversation_settings": {"enabled": True},
        "widget_settings": {"theme": "dark", "default_state": "collapsed", "position": "fixed",
                            "start_call_text": "Talk to us", "logo_icon_url": None,
                            "audio_visualizer_config": {"color": "twilight", "preset": "roundBars"}},
        "interruption_settings": {"enable": True, "start_speaking_plan": {
            "wait_seconds": 0.6, "transcription_endpointing_plan": {"on_punctuation_seconds": 0.1,
                                                                    "on_number_seconds": 0.8}}},
        "integrations": [{"integration_id": "int-zendesk", "allowed_list": ["create_ticket"]}],
        "fallback_config": {"model": "openai/gpt-4o-mini", "external_llm": {
            "model": "llama-3", "base_url": "https://llm.example.com/v1", "authentication_method": "token",
            "forward_metadata": False, "llm_api_key_ref": "llm-key"}},
    }


def seed_account(api: httpx.Client, duplicates: bool = True, clearing_versions: bool = True) -> Seeded:
    """Create the varied account through the public API and return the ids. Without `duplicates`, no
    two resources of a kind share a name; without `clearing_versions`, no version lacks a field its
    main version has (see test_version_that_clears_a_field_is_recreated_without_it)."""
    s = Seeded()

    def tool(label: str, body: dict[str, Any]) -> None:
        s.tools[label] = ok(api.post("/ai/tools", json=body))["id"]

    def server(label: str, body: dict[str, Any]) -> None:
        s.servers[label] = ok(api.post("/ai/mcp_servers", json=body))["id"]

    def assistant(label: str, body: dict[str, Any]) -> str:
        s.assistants[label] = ok(api.post("/ai/assistants", json=body))["id"]
        return s.assistants[label]

    def version(label: str, aid: str, body: dict[str, Any]) -> None:
        s.versions[label] = ok(api.post(f"/ai/assistants/{aid}", json={**body, "promote_to_main": False}))["version_id"]

    tool("order-lookup", {"type": "webhook", "display_name": "order-lookup", "timeout_ms": 3000, "webhook": {
        "name": "lookup_order", "description": "Look up an order", "url": "https://api.example.com/orders/{id}",
        "method": "GET", "path_parameters": {"type": "object", "properties": {"id": {"type": "string"}},
                                             "required": ["id"]}}})
    tool("kb", {"type": "retrieval", "display_name": "Knowledge Base", "timeout_ms": 5000,
                "retrieval": {"bucket_ids": ["kb-main"]}})
    tool("notify", {"type": "webhook", "display_name": "notify", "webhook": {
        "name": "notify", "description": "Notify the team", "url": "https://hooks.example.com/n", "method": "POST",
        "async": False}})
    tool("dup-a", {"type": "webhook", "display_name": "lookup", "webhook": {
        "name": "lookup_a", "description": "A", "url": "https://a.example.com"}})
    tool("dup-b", {"type": "webhook", "display_name": "lookup" if duplicates else "lookup-b", "webhook": {
        "name": "lookup_b", "description": "B", "url": "https://b.example.com"}})

    server("crm", {"name": "crm", "type": "http", "url": "https://mcp.example.com/crm", "api_key_ref": "crm-key",
                   "allowed_tools": ["lookup_customer", "create_note"]})
    server("docs", {"name": "docs", "type": "sse", "url": "https://mcp.example.com/docs", "api_key_ref": None,
                    "allowed_tools": None})
    server("dup-a", {"name": "analytics", "type": "http", "url": "https://mcp.example.com/a1"})
    server("dup-b", {"name": "analytics" if duplicates else "analytics-2", "type": "http",
                     "url": "https://mcp.example.com/a2"})

    support = assistant("support", {
        "name": "Support Bot", "model": "openai/gpt-4o", "instructions": LONG_INSTRUCTIONS,
        "description": "Front line support", "greeting": "Hi, how can I help?",
        "dynamic_variables": {"company": "Acme", "tier": 2}, "dynamic_variables_webhook_timeout_ms": 1500,
        "dynamic_variables_webhook_url": "https://hooks.example.com/vars",
        "enabled_features": ["telephony", "messaging"],
        "llm_api_key_ref": "openai-key", "tools": inline_tools(), **all_settings(),
        "tool_ids": [s.tools["order-lookup"], s.tools["kb"], s.tools["dup-b"]],
        "mcp_servers": [{"id": s.servers["crm"], "allowed_tools": ["lookup_customer"]}, {"id": s.servers["dup-b"]}],
        "tags": ["support", "production"],
    })
    version("concise", support, {"version_name": "concise-greeting", "greeting": "Hi!"})
    version("new-voice", support, {
        "version_name": "new voice / v2", "instructions": LONG_INSTRUCTIONS + "\nSpeak slowly.",
        "voice_settings": {"voice": "Telnyx.KokoroTTS.am_adam", "background_audio": {"type": "predefined_media",
                                                                                        "value": "office"}},
        "tool_ids": [s.tools["order-lookup"]], **({"description": None} if clearing_versions else {})})
    if clearing_versions:
        version("no-tools", support, {"version_name": "no-tools", "tools": None, "mcp_servers": []})
    else:
        version("no-tools", support, {"version_name": "no-tools", "tools": [{"type": "hangup", "hangup": {}}]})
    ok(api.post(f"/ai/assistants/{support}/canary-deploys", json={"versions": [
        {"version_id": s.versions["concise"], "percentage": 10},
        {"version_id": s.versions["new-voice"], "percentage": 5.5}]}))

    # Created by reconciler earlier: carries the owner tag; protected.
    assistant("sms", {"name": "sms-bot", "model": "openai/gpt-4o-mini", "instructions": "Answer SMS briefly.",
                      "enabled_features": ["messaging"],
                      "tags": [DEFAULT_OWNER_TAG, PROTECT_TAG, "sms"]})
    # Two assistants with one name: identity by name is ambiguous.
    assistant("dup-a", {"name": "Duplicate", "instructions": "First of two.", "tags": ["dup"]})
    assistant("dup-b", {"name": "Duplicate" if duplicates else "Duplicate 2", "instructions": "Second of two."})
    # Names that are unsafe as file names, and two names with the same slug.
    assistant("unsafe", {"name": "ops/../etc: Night Shift!", "instructions": "Night shift."})
    assistant("billing-1", {"name": "Billing Bot", "instructions": "Billing, the first.", "external_llm": {
        "model": "acme-llm", "base_url": "https://llm.example.com/v1", "authentication_method": "certificate",
        "certificate_ref": "llm-cert", "forward_metadata": True, "token_retrieval_url": "https://llm.example.com/t"}})
    assistant("billing-2", {"name": "billing-bot", "instructions": "Billing, the second."})
    # Two versions saved without a name: both are "New assistant".
    unnamed = assistant("unnamed-versions", {"name": "drafts", "instructions": "Drafts."})
    version("draft-1", unnamed, {"greeting": "one"})
    version("draft-2", unnamed, {"greeting": "two"})
    return s


@pytest.fixture
def seeded(emulator: Emulator) -> Seeded:
    """The emulator (clean, over loopback) holding the varied account."""
    with emulator.api() as api:
        return seed_account(api)
