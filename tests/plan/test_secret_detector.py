"""The one rule for what is probably a secret (planning/secrets.py): the plan masks the old value of
such a field, export writes it as a ${env:} reference. A URL is judged by what it carries."""

from __future__ import annotations

import json

import pytest

from reconciler.model import SensitiveStr
from reconciler.planning import diff, secrets
from reconciler.planning.plan import UPDATE, Plan, ResourceChange
from reconciler.render.document import plan_document


@pytest.mark.parametrize(("spec", "paths"), [
    ({"external_llm": {"token_retrieval_url": "https://auth.example/t", "api_key": "k-1"}},
     [("external_llm", "api_key")]),  # a `*_url` is where a token comes from, not a token
    ({"external_llm": {"token_retrieval_url": "https://auth.example/t?token=s3cr3t"}},
     [("external_llm", "token_retrieval_url")]),  # ... unless it carries one
    ({"tools": [{"webhook": {"url": "https://hooks.example/x?a=1&api_key=zz"}}]}, [("tools", 0, "webhook", "url")]),
    ({"tools": [{"webhook": {"url": "https://user:pw@hooks.example/x"}}]}, [("tools", 0, "webhook", "url")]),
    ({"tools": [{"webhook": {"url": "https://hooks.example/orders?id=7"}}]}, []),
    ({"tools": [{"webhook": {"headers": [{"name": "Authorization", "value": "Bearer x"},
                                         {"name": "Accept", "value": "json"}]}}]},
     [("tools", 0, "webhook", "headers", 0, "value")]),
    # A parameter named `password` in a tool's JSON Schema: its schema words are no secret, a default is.
    ({"tools": [{"function": {"parameters": {"type": "object", "properties": {
        "password": {"type": "string", "description": "the caller's PIN"}}, "required": ["password"]}}}]}, []),
    ({"webhook": {"body_parameters": {"properties": {"api_key": {"type": "string", "password": "hunter22"}}}}},
     [("webhook", "body_parameters", "properties", "api_key", "password")]),
])
def test_secret_paths(spec: dict[str, object], paths: list[tuple[object, ...]]) -> None:
    assert secrets.secret_paths(spec) == paths


@pytest.mark.parametrize(("entry", "hidden"), [
    ({"name": "X-Custom", "value": "tok-1"}, True),  # any name may carry a credential
    ({"name": "Authorization", "value": "Bearer x"}, True),
    ({"name": "Content-Type", "value": "application/json"}, False),  # standard, never a credential
    ({"name": "X-Reason", "value": "{{reason}}"}, False),  # a Telnyx template: a name, no value
    ({"name": "Authorization", "value": "Bearer {{#integration_secret}}crm{{/integration_secret}}"}, False),
    ({"name": "X-Token", "value": "Bearer {{caller}} tok-1"}, True),
    ({"name": "X-Custom", "value": "hunter2hunter2 {{call_control_id}}"}, True),  # a word, not a scheme
    ({"name": "Authorization", "value": "basic {{#integration_secret}}crm{{/integration_secret}}"}, False),
])
def test_the_plan_never_shows_a_live_header_value_that_may_be_a_credential(
        entry: dict[str, str], hidden: bool) -> None:
    live = {"webhook": {"headers": [entry]}}
    assert secrets.header_value(live, ["webhook", "headers", 0, "value"]) is hidden
    masked = secrets.mask_header_values(live)
    assert (masked["webhook"]["headers"][0]["value"] == entry["value"]) and (masked is not live) is hidden
    assert (secrets.mask_header_values(live["webhook"]["headers"][0], "headers") is not live["webhook"]["headers"][0]
            ) is hidden


def _masked(value: object) -> object:
    """What the plan document shows of a value: each SensitiveStr as `(sensitive)`."""
    if isinstance(value, SensitiveStr):
        return "(sensitive)"
    if isinstance(value, dict):
        return {k: _masked(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_masked(v) for v in value]
    return value


@pytest.mark.parametrize(("old", "like", "shown"), [
    # A removed tool: its name, url and header names stay, each header value and credential URL goes.
    ({"type": "webhook", "webhook": {"name": "w", "url": "https://api.example/x", "headers": [
        {"name": "Authorization", "value": "Bearer tok-1"}, {"name": "Accept", "value": "json"}]}}, None,
     {"type": "webhook", "webhook": {"name": "w", "url": "https://api.example/x", "headers": [
         {"name": "Authorization", "value": "(sensitive)"}, {"name": "Accept", "value": "json"}]}}),
    ({"webhook": {"name": "w", "url": "https://user:pw@api.example/x"}}, None,
     {"webhook": {"name": "w", "url": "(sensitive)"}}),
    # A secret-named key hides whatever it holds, a number too; a credential entry is one wherever it is.
    ({"name": "x", "api_key": 12345, "credentials": {"user": "u"}}, None,
     {"name": "x", "api_key": "(sensitive)", "credentials": {"user": "(sensitive)"}}),
    ({"vars": [{"name": "auth_token", "value": "s3cr3t-val"}]}, None,
     {"vars": [{"name": "auth_token", "value": "(sensitive)"}]}),
    # Replaced by a value holding a secret from ${env:} at the same place: that old leaf is hidden too.
    ({"webhook": {"name": "w", "url": "https://hooks.example/T0/B0/XXXX"}},
     {"webhook": {"name": "v", "url": SensitiveStr("https://hooks.example/T1/B1/YYYY", "${env:HOOK}")}},
     {"webhook": {"name": "w", "url": "(sensitive)"}}),
])
def test_a_removed_or_replaced_object_is_masked_leaf_by_leaf(old: object, like: object, shown: object) -> None:
    live = {"tools": [old]}
    masked = secrets.mask_secrets(live, ["tools", 0], like)
    assert _masked(masked) == shown
    assert live == {"tools": [old]}  # a copy: live state is never modified


def test_a_replaced_object_shows_its_structure_in_the_plan_document() -> None:
    """The field-level diff and the document together: an object replaced by one holding a secret from
    ${env:} is shown leaf by leaf, not as one `(sensitive)`, and marked sensitive."""
    live = {"tools": [{"type": "webhook", "timeout_ms": 1, "webhook": {
        "name": "old", "url": "https://api.example/old", "headers": [{"name": "X-Key", "value": "live-secret-9"}]}}]}
    want = {"tools": [{"type": "function", "function": {"name": "f", "token": SensitiveStr("v", "${env:T}")}}]}
    [change] = diff.field_changes(live, want)
    entry = plan_document(Plan([ResourceChange("assistant.a", "Assistant", "a", [UPDATE], changes=[change])]))
    [shown] = entry["resource_changes"][0]["changes"]
    assert shown["path"] == "tools[0]" and shown["sensitive"] is True
    assert shown["before"]["webhook"] == {"name": "old", "url": "https://api.example/old",
                                          "headers": [{"name": "X-Key", "value": "(sensitive)"}]}
    assert "live-secret-9" not in json.dumps(entry)
