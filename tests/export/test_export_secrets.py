"""Export never writes a secret value (issue #11, case 8; the end-to-end case is in tests/promise):
what a plan would mask becomes `${env:NAME}`, an auth scheme stays in clear, integration-secret
references and mustache templates are kept, names are valid, unique and listed in the warnings, and
loading the files with those variables set gives back the live values."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from reconciler.export.exporter import export
from reconciler.export.secret_refs import env_name
from reconciler.manifest import load
from reconciler.model import LiveState
from tests.export.test_exporter import assistant, write

TOKEN = "tk-7f2a-very-secret"
NAME_RE = re.compile(r"\$\{env:([A-Za-z_][A-Za-z0-9_]*)\}")


def hooked(aid: str, name: str, headers: list[dict[str, str]], **fields: Any) -> dict[str, Any]:
    tool = {"type": "webhook", "webhook": {"name": "lookup", "description": "Look up",
                                           "url": "https://api.example.com/x", "headers": headers}}
    return assistant(aid, name, tools=[tool], **fields)


def headers_of(text: str) -> list[str]:
    return re.findall(r"value: (.*)", text)


def test_secret_values_become_references_and_the_rest_is_kept() -> None:
    live = LiveState(assistants=[hooked("a1", "bot", [
        {"name": "Authorization", "value": f"Bearer {TOKEN}"},
        {"name": "X-Api-Key", "value": "key-with a space"},
        {"name": "X-Vault", "value": "{{#integration_secret}}crm-key{{/integration_secret}}"},
        {"name": "X-Token", "value": "Bearer {{caller_token}}"},
        {"name": "X-Trace", "value": "plain-trace-id"},
    ])])
    result = export(live)
    text = result.files["assistants/bot.yaml"]
    assert TOKEN not in text and "key-with a space" not in text
    assert headers_of(text) == ["Bearer ${env:BOT_LOOKUP_AUTHORIZATION}", "${env:BOT_LOOKUP_X_API_KEY}",
                                "'{{#integration_secret}}crm-key{{/integration_secret}}'", "Bearer {{caller_token}}",
                                "${env:BOT_LOOKUP_X_TRACE}"]
    summary, *each = [w for w in result.warnings if "BOT_LOOKUP" in w]
    # X-Trace too: the plan never shows a live header value of that name, so export never writes one.
    assert "3 secret value(s)" in summary
    assert "BOT_LOOKUP_AUTHORIZATION, BOT_LOOKUP_X_API_KEY, BOT_LOOKUP_X_TRACE" in summary
    assert each == ["BOT_LOOKUP_AUTHORIZATION: assistant 'bot' tools[0].webhook.headers[0].value "
                    "(the credential after `Bearer `)",
                    "BOT_LOOKUP_X_API_KEY: assistant 'bot' tools[0].webhook.headers[1].value",
                    "BOT_LOOKUP_X_TRACE: assistant 'bot' tools[0].webhook.headers[4].value"]
    assert not any(TOKEN in w for w in result.warnings)


def test_names_are_valid_and_unique_and_load_back_to_the_live_values(tmp_path: Path) -> None:
    # "svc-a" and "svc_a" derive the same name; "9lives" would start with a digit.
    live = LiveState(assistants=[
        hooked("a1", "svc-a", [{"name": "Authorization", "value": "Basic first-secret"}]),
        hooked("a2", "svc_a", [{"name": "Authorization", "value": "Basic second-secret"}]),
        hooked("a3", "9lives", [{"name": "Cookie", "value": "session=abc123"}]),
    ])
    result = export(live)
    written = "".join(result.files.values())
    names = NAME_RE.findall(written)
    assert sorted(names) == ["SECRET_9LIVES_LOOKUP_COOKIE", "SVC_A_LOOKUP_AUTHORIZATION",
                             "SVC_A_LOOKUP_AUTHORIZATION_2"]
    # Whichever was exported second gets the `_2`: set each name to the value of its assistant.
    live_values = {"svc-a": "first-secret", "svc_a": "second-secret", "9lives": "session=abc123"}
    values = {}
    for text in result.files.values():
        owner = re.search(r"name: (\S+)", text)
        assert owner is not None
        for name in NAME_RE.findall(text):
            values[name] = live_values[owner.group(1)]
    folder = write(tmp_path, result.files)
    desired = load([folder / "assistants"], environ=values)
    got = {r.metadata.name: r.spec["tools"][0]["webhook"]["headers"][0]["value"] for r in desired.resources}
    assert got == {"svc-a": "Basic first-secret", "svc_a": "Basic second-secret", "9lives": "session=abc123"}


def test_a_version_repeating_mains_secret_reuses_its_name() -> None:
    main = hooked("a1", "bot", [{"name": "Authorization", "value": f"Bearer {TOKEN}"}])
    other = {**hooked("a1", "bot", [{"name": "Authorization", "value": f"Bearer {TOKEN}"}],
                      instructions="Be brief."), "version_id": "v2", "version_name": "brief"}
    changed = {**hooked("a1", "bot", [{"name": "Authorization", "value": "Bearer another-one"}]),
               "version_id": "v3", "version_name": "rotated"}
    live = LiveState(assistants=[main], versions={"a1": [main, other, changed]}, canaries={"a1": None})
    text = export(live).files["assistants/bot.yaml"]
    assert TOKEN not in text and "another-one" not in text
    assert sorted(set(NAME_RE.findall(text))) == ["BOT_LOOKUP_AUTHORIZATION", "BOT_ROTATED_LOOKUP_AUTHORIZATION"]


def test_secret_named_fields_of_tools_and_servers_are_references_too() -> None:
    live = LiveState(tools=[{"id": "t1", "type": "webhook", "display_name": "crm",
                             "webhook": {"name": "crm", "description": "CRM", "url": "https://crm.example.com",
                                         "headers": [{"name": "X-Signature", "value": "sig-0099"}]}}],
                     mcp_servers=[{"id": "m1", "name": "docs", "type": "http", "url": "https://mcp.example.com",
                                   "api_key_ref": "docs-key"}])
    result = export(live, kinds=["Tool", "McpServer"])
    tool = result.files["tools/crm.yaml"]
    assert "sig-0099" not in tool and "${env:CRM_X_SIGNATURE}" in tool
    assert "api_key_ref: docs-key" in result.files["mcp_servers/docs.yaml"]  # a reference's name: no secret


def test_env_name() -> None:
    assert env_name(["bot", "lookup", "Authorization"]) == "BOT_LOOKUP_AUTHORIZATION"
    assert env_name(["Ünï bot!", "x-api-key"]) == "N_BOT_X_API_KEY"
    assert env_name(["--", ""]) == "SECRET"
