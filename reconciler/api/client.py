"""The HTTP client: bearer auth, bounded parallelism, timeouts, and retries that survive rate limits
and transient faults without ever duplicating a create.

Retry policy, and why:
- 429 is always retried: the request was refused before it did anything. The wait honours
  `Retry-After`, `retry-after-ms` and Telnyx's `x-ratelimit-reset` (seconds until the window resets).
  Better still, 429s are avoided: once the `x-ratelimit-*` headers declare a limit, request starts
  are paced under it (api/pacing.py), and a refusal holds back every request until the reset.
- 5xx, timeouts and dropped connections leave the outcome unknown. Idempotent requests (GET, PUT,
  DELETE, PATCH, and any request the caller marks idempotent) are simply retried. A non-idempotent
  create is retried only after `adopt()` looked the resource up by name and did not find it: if the
  first attempt landed, its result is adopted instead of creating a duplicate.
- A retried DELETE that answers 404 succeeded the first time.
- A request that timed out is tried at most `MAX_TIMEOUT_ATTEMPTS` times (a hung API is not waited
  for 9 x 30 s); the command's `--deadline` bounds everything else (pipeline.py).
- A write that gives up while its outcome is unknown (it may have landed) raises an ApiError with
  `uncertain=True`, so the applier reports the step as unknown and settles it by reading, never as
  failed. The lookup that settles an uncertain create is itself tried only a few times
  (`SETTLE_RETRIES`): when the API is unwell the step is settled later, after the run.
Backoff is exponential with jitter, capped. The API key lives only in the Authorization header:
no message, exception or repr built here contains it.

The wire (api/wire.py) is httpx's own transport (httpcore), with httpx's `trust_env`, as the Telnyx
SDK has it: `HTTPS_PROXY`/`HTTP_PROXY`/`ALL_PROXY` and `NO_PROXY` choose the route, `SSL_CERT_FILE`
or `SSL_CERT_DIR` the CAs trusted (a TLS-inspecting proxy, a private CA), certifi's bundle otherwise.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

import httpx

from reconciler import scrub
from reconciler.api.answers import describe_error, server_wait
from reconciler.api.pacing import Pacer
from reconciler.api.wire import Wire
from reconciler.errors import ApiError, ConfigError

# 409 is left out on purpose: for us it means a real conflict (a canary that already exists).
RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
MAX_CONNECT_ATTEMPTS = 3
MAX_TIMEOUT_ATTEMPTS = 3  # tries of one request that keeps timing out
SETTLE_RETRIES = 2  # retries of each read that settles an uncertain create
DEFAULT_TIMEOUT_S = 30.0  # --request-timeout
IDEMPOTENT_METHODS = frozenset({"GET", "PUT", "DELETE", "PATCH", "HEAD"})
UNTRUSTED_HINT = "behind a TLS-inspecting proxy or with a private CA, name its certificate in SSL_CERT_FILE"

Adopt = Callable[[], Awaitable[Any | None]]

# A cap on retries for the requests of the current task (and the tasks it starts): see few_retries.
_RETRY_CAP: ContextVar[int | None] = ContextVar("reconciler_retry_cap", default=None)


@contextmanager
def few_retries(retries: int) -> Iterator[None]:
    """Within this block, the requests this task sends are retried at most `retries` times (reads
    that settle an uncertain outcome: their caller tries again later, with its own backoff)."""
    token = _RETRY_CAP.set(retries)
    try:
        yield
    finally:
        _RETRY_CAP.reset(token)


@dataclass(frozen=True)
class Pending:
    """One request the client is working on (sending, waiting for, or waiting to retry)."""

    label: str
    since: float  # time.monotonic() when the caller asked for it


class ApiClient:
    """An async client for the Telnyx REST API. Use as `async with ApiClient(...) as client:`."""

    def __init__(
        self,
        base_url: str,
        api_key: str | None,
        *,
        parallelism: int = 10,
        transport: httpx.AsyncBaseTransport | None = None,
        timeout: float = DEFAULT_TIMEOUT_S,
        max_retries: int = 8,
        rate_limit_budget: float = 300.0,
        backoff_base: float = 0.2,
        backoff_cap: float = 8.0,
        seed: int | None = None,
        http2: bool = False,
    ) -> None:
        if not api_key:
            raise ConfigError("TELNYX_API_KEY is not set: export it to call the API")
        if parallelism < 1:
            raise ConfigError("--parallelism must be at least 1")
        scrub.register(api_key, "(API key)")  # whichever variable it came from: never shown from now on
        self.base_url = check_base_url(base_url)
        self.shown_url = redact_url(self.base_url)  # what messages name: never a user:password@
        self.parallelism = parallelism
        self.max_retries = max_retries
        self.rate_limit_budget = rate_limit_budget
        self.backoff_base = backoff_base
        self.backoff_cap = backoff_cap
        self.requests_sent = 0
        self.timeout = timeout
        # What is pending now, for the "waiting for the API" progress line and the deadline's message.
        self.pending: dict[int, Pending] = {}
        self._next_pending = 0
        self._rng = random.Random(seed)
        self._slots = asyncio.Semaphore(parallelism)
        self.pacer = Pacer()
        self._wire = Wire(self.base_url, api_key, parallelism=parallelism, transport=transport, timeout=timeout,
                         http2=http2)

    async def __aenter__(self) -> ApiClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._wire.aclose()

    def __repr__(self) -> str:
        return f"ApiClient(base_url={self.shown_url!r})"

    async def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: dict[str, Any] | None = None,
        what: str | None = None,
        idempotent: bool | None = None,
        idempotency_key: str | None = None,
        adopt: Adopt | None = None,
        not_found_ok: bool = False,
    ) -> Any:
        """Send one request, retrying as the module docstring says; return the parsed JSON body
        (None for an empty body, or for a 404 when `not_found_ok`). `what` names the resource in
        error messages ("create assistant support-bot")."""
        method = method.upper()
        label = what or f"{method} {path}"
        ticket = self._next_pending
        self._next_pending += 1
        self.pending[ticket] = Pending(label, time.monotonic())
        try:
            return await self._request(method, path, label, json=json, params=params, idempotent=idempotent,
                                       idempotency_key=idempotency_key, adopt=adopt, not_found_ok=not_found_ok)
        finally:
            del self.pending[ticket]

    async def _request(self, method: str, path: str, label: str, *, json: Any, params: dict[str, Any] | None,
                       idempotent: bool | None, idempotency_key: str | None, adopt: Adopt | None,
                       not_found_ok: bool) -> Any:
        cap = _RETRY_CAP.get()
        max_retries = self.max_retries if cap is None else min(cap, self.max_retries)
        safe = idempotent if idempotent is not None else method in IDEMPOTENT_METHODS
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else None
        uncertain = False  # an earlier attempt may have landed
        failure = ""
        attempt = 0
        rate_limited = 0
        waited_for_rate = 0.0
        refused = 0
        timeouts = 0
        while True:
            if uncertain and adopt is not None:
                try:
                    with few_retries(SETTLE_RETRIES):
                        found = await adopt()
                except ApiError as exc:
                    # It may have landed, and the read that would tell failed too: unknown, not failed.
                    raise ApiError(f"{label}: outcome unknown: {failure}, and the lookup that would settle "
                                   f"it got no answer either ({exc})", status=exc.status, retryable=True,
                                   uncertain=True) from None
                if found is not None:
                    return found
            try:
                async with self._slots:
                    sent = await self.pacer.wait()
                    self.requests_sent += 1
                    try:
                        response = await self._wire.send(method, self.base_url + path, json=json, params=params,
                                                        headers=headers)
                    finally:
                        self.pacer.finished(sent)
            except httpx.TimeoutException as exc:
                timeouts += 1
                failure = f"timed out ({type(exc).__name__})"
                wait = None
            except httpx.ConnectError as exc:
                # Nothing was sent. A refused or unresolvable address is most often a wrong base URL:
                # a few quick tries, not the whole retry budget (which took ~25 s to say so).
                refused += 1
                untrusted = "CERTIFICATE_VERIFY_FAILED" in str(exc)  # trying again will not change that
                if refused >= MAX_CONNECT_ATTEMPTS or untrusted:
                    hint = f" ({UNTRUSTED_HINT})" if untrusted else ""
                    reason = exc or type(exc).__name__
                    raise ApiError(scrub.scrub(f"{label}: cannot connect to {self.shown_url}: {reason}{hint}"),
                                   retryable=not untrusted) from None
                await asyncio.sleep(self._backoff(refused, None))
                continue
            except httpx.TransportError as exc:
                failure = f"connection to {self.shown_url} failed ({type(exc).__name__})"
                wait = None
            except httpx.DecodingError:
                # Answered, but the body does not decode (a corrupt gzip stream): what the server did
                # is unknown to us, so it is handled as a dropped answer (a write may have landed).
                failure = f"the answer from {self.shown_url} could not be decoded (a corrupt body)"
                wait = None
            else:
                status = response.status_code
                self.pacer.observe(status, response.headers, sent)
                if 200 <= status < 300:
                    return _body(response)
                if status < 400:  # a redirect: the base URL is probably wrong; never follow it blindly
                    where = response.headers.get("location", "elsewhere")
                    raise ApiError(scrub.scrub(f"{label}: HTTP {status} redirect to {where}: check the base URL"),
                                   status=status)
                if status == 404 and (not_found_ok or (method == "DELETE" and uncertain)):
                    return None
                if status not in RETRY_STATUSES:
                    raise ApiError(f"{label}: {describe_error(response)}", status=status)
                failure = describe_error(response)
                wait = server_wait(response)
                if status == 429:
                    # Refused before doing anything: safe to retry whatever the method. Rate limits
                    # draw on a time budget, not on max_retries: under a tight limit a request can
                    # lose several windows in a row without anything being wrong. The pacer holds back
                    # every request until the server's reset, then spreads them out again.
                    delay = wait if wait is not None else self._backoff(rate_limited + 1, None)
                    if waited_for_rate + delay > self.rate_limit_budget:
                        raise ApiError(f"{label}: {failure} (still rate limited after {waited_for_rate:.0f} s)",
                                       status=status, retryable=True)
                    rate_limited += 1
                    waited_for_rate += delay
                    self.pacer.block(delay)
                    continue
            # 5xx, timeout or dropped connection: the outcome is unknown.
            gave_up = attempt >= max_retries or timeouts >= MAX_TIMEOUT_ATTEMPTS
            if gave_up or not (safe or adopt is not None or idempotency_key):
                tries = f" after {attempt + 1} tries" if attempt else ""
                if timeouts:
                    tries += f" (request timeout {self.timeout:g} s, --request-timeout)"
                # A read changes nothing; a write that gave up may have landed (or not).
                raise ApiError(f"{label}: {failure}{tries}", retryable=True,
                               uncertain=method not in ("GET", "HEAD"))
            uncertain = True
            attempt += 1
            await asyncio.sleep(self._backoff(attempt, wait))

    def _backoff(self, attempt: int, server_wait: float | None) -> float:
        delay: float = min(self.backoff_cap, self.backoff_base * 2.0 ** (attempt - 1))
        delay = delay * (0.5 + self._rng.random() / 2)
        if server_wait is not None:
            # The server knows when to come back; a little jitter so parallel retries spread out.
            delay = max(server_wait, 0.0) + self._rng.random() * 0.1
        return delay

    async def get_all_pages(self, path: str, params: dict[str, Any] | None = None) -> list[Any]:
        """Items of a `{"data": [...], "meta": {...}}` listing, all pages. Page 1 says how many
        pages there are; the rest are fetched concurrently."""
        base = dict(params or {})
        base["page[size]"] = 100
        first = await self.request("GET", path, params={**base, "page[number]": 1})
        items, pages = _page_items(first)
        if pages > 1:
            rest = await gather_all(
                *(self.request("GET", path, params={**base, "page[number]": n}) for n in range(2, pages + 1))
            )
            for body in rest:
                items.extend(_page_items(body)[0])
        return items

    async def get_array_pages(self, path: str, params: dict[str, Any] | None = None) -> list[Any]:
        """Items of a bare-array listing with page[number]/page[size] (the MCP server list): a page
        shorter than the page size is the last one, so no extra empty page is fetched."""
        size = 100
        items: list[Any] = []
        number = 1
        while True:
            query = {**(params or {}), "page[size]": size, "page[number]": number}
            body = await self.request("GET", path, params=query)
            page = body if isinstance(body, list) else _page_items(body)[0]
            items.extend(page)
            if len(page) < size:
                return items
            number += 1


def check_base_url(base_url: str) -> str:
    """The base URL without a trailing slash, or a ConfigError saying what is wrong with it."""
    problem = None
    scrub.register_url(base_url)
    try:
        url = httpx.URL(base_url)
        if url.scheme not in ("http", "https") or not url.host:
            problem = "expected an http:// or https:// URL such as https://api.telnyx.com/v2"
        elif url.port is not None and not 0 < url.port < 65536:
            problem = f"port {url.port} is out of range"
        elif url.userinfo:
            # httpx would send them as Basic auth in place of the API key: a 401 that says the key is missing.
            problem = "credentials in the URL are not used: the API key comes from the environment"
        elif url.query or url.fragment or "?" in base_url or "#" in base_url:
            # Every path is appended to it: a query would end up inside each request's path.
            problem = "a base URL takes no query or fragment (such as https://api.telnyx.com/v2)"
    except httpx.InvalidURL as exc:
        problem = str(exc)
    if problem:
        raise ConfigError(scrub.scrub(f"base URL {base_url!r} (--base-url / TELNYX_BASE_URL): {problem}"))
    return base_url.rstrip("/")


def _body(response: httpx.Response) -> Any:
    if not response.content:
        return None
    try:
        return response.json()
    except ValueError:
        return response.text


def _page_items(body: Any) -> tuple[list[Any], int]:
    if isinstance(body, list):  # tolerate an unwrapped list
        return list(body), 1
    if not isinstance(body, dict) or not isinstance(body.get("data"), list):
        # Never read a body of another shape as "no items": a plan would then create everything.
        raise ApiError(scrub.scrub_echo(f"a listing answered with an unexpected body: {str(body)[:120]!r}"))
    meta = body.get("meta")
    pages = meta.get("total_pages") if isinstance(meta, dict) else meta
    if pages is None:
        return list(body["data"]), 1
    if type(pages) is not int or pages < 0:  # read as another count, pages would be skipped: missing resources
        raise ApiError(scrub.scrub_echo(f"a listing answered with an unexpected page count (meta): {str(meta)[:80]!r}"))
    return list(body["data"]), max(pages, 1)


def redact_url(url: str) -> str:
    """`url` without the credentials it may carry (`https://user:password@host` -> `https://***@host`)."""
    return scrub.URL_USERINFO.sub(r"\1***@", url)


async def gather_all(*awaitables: Awaitable[Any]) -> list[Any]:
    """Like `asyncio.gather`, but every awaitable is waited for before the first failure is raised.

    With plain gather, when one request fails (a 401, say) the others' failures are never retrieved
    and asyncio prints their tracebacks at shutdown, burying the one clear error line.
    """
    results = await asyncio.gather(*awaitables, return_exceptions=True)
    for result in results:
        if isinstance(result, BaseException):
            raise result
    return list(results)
