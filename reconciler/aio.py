"""asyncio helpers."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any


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
