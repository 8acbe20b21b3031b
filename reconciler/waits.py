"""Bounded waits of the commands that call the API: the whole command's `--deadline`, and the
"waiting for the API" line on stderr while requests are slow.

The per-request bound (`--request-timeout`, a few tries of a request that keeps timing out) lives in
the client (api/client.py); this module bounds the command as a whole. When the deadline passes, the
command's work is cancelled (apply then reports the steps in flight as unknown, see apply/applier.py)
and one line says what was still being waited for. A command runs its work through `run`; the
clients it makes are `watch`ed (pipeline.client_for does it), so their pending requests feed the
progress line and the deadline's message. Progress goes to stderr only, so stdout stays the plan,
the export summary or the JSON lines a script reads.
"""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TextIO, TypeVar

from reconciler.api import DEFAULT_DEADLINE_S
from reconciler.api.client import ApiClient, Pending
from reconciler.errors import ReconcilerError

T = TypeVar("T")

FIRST_NOTICE_S = 2.0  # a request pending this long gets the first "waiting" line
NOTICE_EVERY_S = 5.0  # and then one line every this often while the wait goes on
TICK_S = 0.25


class DeadlineError(ReconcilerError):
    """The command's `--deadline` passed before its work was done."""


class _Command:
    """One command's bounded wait: the clients it talks through, the seconds its deadline does not
    count (a person answering a prompt), and what the default deadline allows on top."""

    def __init__(self, deadline: float | None) -> None:
        self.given = deadline
        self.allowed = DEFAULT_DEADLINE_S
        self.excluded = 0.0
        self.clients: list[ApiClient] = []

    @property
    def seconds(self) -> float:
        return self.given if self.given is not None else self.allowed

    def pending(self) -> list[Pending]:
        return [p for client in self.clients for p in client.pending.values()]


_COMMAND: ContextVar[_Command | None] = ContextVar("reconciler_bounded_command", default=None)


def watch(client: ApiClient) -> ApiClient:
    """`client`, whose pending requests the running command reports while slow and names when its
    deadline passes (no-op outside `run`)."""
    command = _COMMAND.get()
    if command is not None:
        command.clients.append(client)
    return client


def allow(seconds: float) -> None:
    """Waits the command was told to do (gates' `timeout_seconds`, `test --timeout`) extend the
    default deadline; a `--deadline` given is kept as given."""
    command = _COMMAND.get()
    if command is not None:
        command.allowed += seconds


@contextmanager
def not_counted() -> Iterator[None]:
    """The time spent in this block does not count against the deadline (apply's confirmation
    prompt: the deadline bounds waiting for the API, not for a person)."""
    t0 = time.monotonic()
    try:
        yield
    finally:
        command = _COMMAND.get()
        if command is not None:
            command.excluded += time.monotonic() - t0


async def report_waits(pending: Callable[[], list[Pending]], stream: TextIO | None = None, *,
                       first_s: float = FIRST_NOTICE_S, every_s: float = NOTICE_EVERY_S) -> None:
    """Until cancelled: while a request has been pending for `first_s` or longer, write one line on
    `stream` (stderr), and again every `every_s` while the wait goes on."""
    out = stream if stream is not None else sys.stderr
    last: float | None = None
    while True:
        await asyncio.sleep(TICK_S)
        now_pending = pending()
        oldest = min(now_pending, key=lambda p: p.since, default=None)
        now = time.monotonic()
        if oldest is None or now - oldest.since < first_s:
            continue
        if last is not None and now - last < every_s:
            continue
        last = now
        count = len(now_pending)
        plural = "s" if count != 1 else ""
        out.write(f"waiting for the API: {count} request{plural} pending, the oldest for "
                  f"{now - oldest.since:.0f} s ({oldest.label})...\n")
        out.flush()


def _pending_text(pending: list[Pending]) -> str:
    if not pending:
        return "the command was still at work"
    labels = sorted({p.label for p in pending})
    shown = ", ".join(labels[:3]) + (f" and {len(labels) - 3} more" if len(labels) > 3 else "")
    return f"still waiting for {shown}"


# The command running through `run`, for `interrupt` (a signal handler) to cancel.
_RUNNING: list[tuple[asyncio.AbstractEventLoop, asyncio.Task[None]]] = []


def interrupt() -> None:
    """Stop the running command as Ctrl-C does (called from a signal handler, on the main thread):
    its task is cancelled, so apply reports what was in flight, and `run` then raises
    KeyboardInterrupt; outside `run`, KeyboardInterrupt at once."""
    if not _RUNNING:
        raise KeyboardInterrupt
    loop, task = _RUNNING[-1]
    loop.call_soon_threadsafe(task.cancel)


def run(work: Callable[[], Awaitable[T]], *, deadline: float | None, after: str = "") -> T:
    """Run `work()` within the deadline (`--deadline`, or the default plus what `allow` adds),
    writing "waiting" lines on stderr while the requests of the clients it `watch`es are slow. A
    passed deadline raises DeadlineError naming what was still pending, then `after` (what the user
    should know, such as "nothing was changed")."""

    # The result leaves through `done`, not as the main task's result: when asyncio.run restores the
    # Ctrl-C handler it formats the handler's repr, which holds the main task and so a full repr of
    # its result (a plan and the live state it read: ~0.1 s of CPU each time at 1,000 assistants,
    # twice per run).
    done: list[T] = []

    async def main() -> None:
        this = asyncio.current_task()
        assert this is not None
        _RUNNING.append((asyncio.get_running_loop(), this))
        try:
            await _main()
        finally:
            _RUNNING.pop()

    async def _main() -> None:
        command = _Command(deadline)
        _COMMAND.set(command)  # before the tasks are made: each runs in a copy of this context
        started = time.monotonic()
        watcher = asyncio.create_task(report_waits(command.pending), name="report-waits")
        task = asyncio.create_task(_call(work), name="command")
        try:
            while not task.done():
                left = started + command.seconds + command.excluded - time.monotonic()
                if left <= 0:
                    break
                await asyncio.wait({task}, timeout=left)
            if task.done():
                done.append(task.result())
                return
            pending = _pending_text(command.pending())
            # Cancelled, not abandoned: apply reports what was in flight before this returns.
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            raise DeadlineError(f"the deadline of {command.seconds:g} s passed (--deadline): {pending}"
                                + (f"; {after}" if after else ""))
        except asyncio.CancelledError:  # Ctrl-C: let the work report what it was doing
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            raise
        finally:
            watcher.cancel()
            await asyncio.gather(watcher, return_exceptions=True)

    try:
        asyncio.run(main())
    except asyncio.CancelledError:
        raise KeyboardInterrupt from None  # `interrupt` cancelled it (asyncio's own Ctrl-C raises this itself)
    return done[0]


async def _call(work: Callable[[], Awaitable[T]]) -> T:
    return await work()
