"""The API client: retries, adoption of uncertain creates, error messages, pagination. HTTP answers
are scripted with httpx.MockTransport (the project's own modules are used as they are)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from reconciler.api.client import ApiClient
from reconciler.errors import ApiError, ConfigError

KEY = "key-that-must-never-show"
Script = list[httpx.Response | Exception]


def client_with(script: Script, seen: list[httpx.Request], **kwargs: Any) -> ApiClient:
    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        step = script.pop(0)
        if isinstance(step, Exception):
            raise step
        return step

    kwargs.setdefault("backoff_base", 0.001)
    return ApiClient("http://api.test/v2", KEY, transport=httpx.MockTransport(handler), **kwargs)


def run(fn: Callable[[ApiClient], Any], client: ApiClient) -> Any:
    async def go() -> Any:
        async with client:
            return await fn(client)

    return asyncio.run(go())


def limited(reset: str = "0") -> httpx.Response:
    return httpx.Response(429, headers={"x-ratelimit-reset": reset},
                          json={"errors": [{"code": "10011", "title": "Too many requests"}]})


def test_rate_limits_are_retried_without_using_up_retries() -> None:
    seen: list[httpx.Request] = []
    client = client_with([limited(), limited(), limited(), httpx.Response(200, json={"ok": 1})], seen, max_retries=1)
    assert run(lambda c: c.request("GET", "/ai/assistants"), client) == {"ok": 1}
    assert len(seen) == 4
    assert seen[0].headers["authorization"] == f"Bearer {KEY}"


def test_rate_limit_budget_ends_the_wait() -> None:
    client = client_with([limited("1")] * 5, [], rate_limit_budget=1.5)
    with pytest.raises(ApiError, match="still rate limited"):
        run(lambda c: c.request("GET", "/ai/tools"), client)


def test_server_errors_are_retried_for_idempotent_requests_only() -> None:
    seen: list[httpx.Request] = []
    client = client_with([httpx.Response(503), httpx.ReadTimeout("slow"), httpx.Response(200, json=[])], seen)
    assert run(lambda c: c.request("GET", "/ai/mcp_servers"), client) == []
    assert len(seen) == 3
    client = client_with([httpx.Response(502)], seen)
    with pytest.raises(ApiError) as exc:
        run(lambda c: c.request("POST", "/ai/assistants", json={"name": "a"}, what="create assistant a"), client)
    assert exc.value.retryable and "create assistant a" in str(exc.value)


def test_an_uncertain_create_is_adopted_not_duplicated() -> None:
    seen: list[httpx.Request] = []
    client = client_with([httpx.Response(503)], seen)  # the create landed, the answer was lost

    async def adopt() -> Any:
        return {"id": "assistant-1", "name": "a"}

    result = run(lambda c: c.request("POST", "/ai/assistants", json={"name": "a"}, adopt=adopt,
                                     idempotency_key="k1"), client)
    assert result == {"id": "assistant-1", "name": "a"}
    assert len(seen) == 1 and seen[0].headers["idempotency-key"] == "k1"


def test_an_uncertain_create_that_did_not_land_is_sent_again() -> None:
    seen: list[httpx.Request] = []
    client = client_with([httpx.ConnectError("reset"), httpx.Response(200, json={"id": "t-1"})], seen)

    async def adopt() -> Any:
        return None

    assert run(lambda c: c.request("POST", "/ai/tools", json={}, adopt=adopt), client) == {"id": "t-1"}
    assert len(seen) == 2


def test_a_retried_delete_that_finds_nothing_succeeded() -> None:
    client = client_with([httpx.Response(500), httpx.Response(404, json={"errors": []})], [])
    assert run(lambda c: c.request("DELETE", "/ai/tools/t-1"), client) is None


@pytest.mark.parametrize(("response", "expected"), [
    (httpx.Response(404, json={"errors": [{"code": "10005", "title": "Resource not found",
                                           "detail": "No assistant with that id"}]}),
     "read assistant x: HTTP 404: Resource not found - No assistant with that id"),
    (httpx.Response(422, json={"detail": [{"loc": ["body", "voice_settings", "voice"], "msg": "Field required",
                                           "type": "missing"}]}),
     "read assistant x: HTTP 422: voice_settings.voice: Field required"),
    (httpx.Response(400, json={"errors": [{"code": "10015", "title": "Bad request",
                                           "source": {"pointer": "/greeting"}}]}),
     "read assistant x: HTTP 400: Bad request (field /greeting)"),
    (httpx.Response(401, text="<html>denied</html>"), "read assistant x: HTTP 401: <html>denied</html>"),
])
def test_both_error_shapes_make_one_clear_message(response: httpx.Response, expected: str) -> None:
    client = client_with([response], [])
    with pytest.raises(ApiError) as exc:
        run(lambda c: c.request("GET", "/ai/assistants/x", what="read assistant x"), client)
    assert str(exc.value) == expected
    assert KEY not in str(exc.value) and KEY not in repr(client)


def test_pages_of_a_meta_listing_and_of_a_bare_array() -> None:
    seen: list[httpx.Request] = []

    def page(n: int, total: int) -> httpx.Response:
        return httpx.Response(200, json={"data": [{"id": f"t{n}"}],
                                         "meta": {"page_number": n, "page_size": 100, "total_pages": total,
                                                  "total_results": total}})

    client = client_with([page(1, 3), page(2, 3), page(3, 3)], seen)
    assert [t["id"] for t in run(lambda c: c.get_all_pages("/ai/tools"), client)] == ["t1", "t2", "t3"]
    assert sorted(r.url.params["page[number]"] for r in seen) == ["1", "2", "3"]
    full = [{"id": str(i)} for i in range(100)]
    seen.clear()
    client = client_with([httpx.Response(200, json=full), httpx.Response(200, json=[{"id": "last"}])], seen)
    items = run(lambda c: c.get_array_pages("/ai/mcp_servers"), client)
    assert len(items) == 101 and len(seen) == 2  # a short page is the last: no empty page fetched


@pytest.mark.parametrize("meta", [{"total_pages": "2"}, {"total_pages": 2.5}, {"total_pages": -1},
                                  {"total_pages": True}, ["total_pages", 2], "2"])
def test_a_page_count_of_another_shape_is_an_error(meta: object) -> None:
    """Read as some other count, pages would be skipped (and what they hold planned as creates)."""
    client = client_with([httpx.Response(200, json={"data": [{"id": "t1"}], "meta": meta})], [])
    with pytest.raises(ApiError, match="unexpected page count"):
        run(lambda c: c.get_all_pages("/ai/tools"), client)


def test_no_key_no_client() -> None:
    with pytest.raises(ConfigError, match="TELNYX_API_KEY"):
        ApiClient("http://api.test/v2", "")


def test_bodies_go_as_json() -> None:
    seen: list[httpx.Request] = []
    client = client_with([httpx.Response(200, json={})], seen)
    run(lambda c: c.request("PATCH", "/ai/tools/t", json={"timeout_ms": 5}), client)
    assert json.loads(seen[0].content) == {"timeout_ms": 5}


def test_a_redirect_is_an_error_not_a_success() -> None:
    client = client_with([httpx.Response(301, headers={"location": "https://elsewhere/v2/ai/assistants"})], [])
    with pytest.raises(ApiError, match="redirect to https://elsewhere"):
        run(lambda c: c.request("GET", "/ai/assistants"), client)


def test_a_listing_of_another_shape_is_an_error_not_an_empty_account() -> None:
    from reconciler.api import reads

    client = client_with([httpx.Response(200, json={"unexpected": True})], [])
    with pytest.raises(ApiError, match="unexpected body"):
        run(reads.list_assistants, client)
    client = client_with([httpx.Response(200, json={"unexpected": True})], [])
    with pytest.raises(ApiError, match="unexpected body"):
        run(lambda c: c.get_all_pages("/ai/tools"), client)


def test_a_refused_connection_fails_after_a_few_quick_tries() -> None:
    seen: list[httpx.Request] = []
    client = client_with([httpx.ConnectError("refused")] * 10, seen)
    with pytest.raises(ApiError, match=r"cannot connect to http://api\.test/v2: refused"):
        run(lambda c: c.request("GET", "/ai/assistants", what="list assistants"), client)
    assert len(seen) == 3  # nothing was sent: no need for the whole retry budget
