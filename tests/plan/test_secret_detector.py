"""The one rule for what is probably a secret (planning/diff.py): the plan masks the old value of
such a field, export writes it as a ${env:} reference. A URL is judged by what it carries."""

from __future__ import annotations

import pytest

from reconciler.planning import diff


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
])
def test_secret_paths(spec: dict[str, object], paths: list[tuple[object, ...]]) -> None:
    assert diff.secret_paths(spec) == paths
