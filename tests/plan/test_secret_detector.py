"""The one rule for what is probably a secret (planning/secrets.py): the plan masks the old value of
such a field, export writes it as a ${env:} reference. A URL is judged by what it carries."""

from __future__ import annotations

import pytest

from reconciler.planning import secrets


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
