"""The two errors emulator handlers raise: `ApiFault` (Telnyx's `{"errors": [...]}` envelope) and
`Invalid` (a 422 in FastAPI's `{"detail": [...]}` shape), with shorthands for the common ones."""

from __future__ import annotations

from typing import Any


class ApiFault(Exception):
    """An error answered in Telnyx's `{"errors": [...]}` envelope (everything except 422)."""

    def __init__(self, status: int, code: str, title: str, detail: str) -> None:
        super().__init__(f"{status} {title}: {detail}")
        self.status = status
        self.code = code
        self.title = title
        self.detail = detail

    def body(self) -> dict[str, Any]:
        """The JSON body Telnyx sends for this error."""
        return {"errors": [{"code": self.code, "title": self.title, "detail": self.detail}]}


def not_found(what: str, ident: str) -> ApiFault:
    """A 404 in the Telnyx envelope for a missing resource."""
    return ApiFault(404, "10005", "Resource not found", f"{what} {ident!r} was not found")


def bad_request(detail: str) -> ApiFault:
    """A 400 in the Telnyx envelope (code 10015)."""
    return ApiFault(400, "10015", "Bad request", detail)


class Invalid(Exception):
    """A 422 in FastAPI's `{"detail": [{loc, msg, type}]}` shape."""

    def __init__(self, details: list[dict[str, Any]]) -> None:
        super().__init__("; ".join(str(d["msg"]) for d in details))
        self.details = details

    @classmethod
    def one(cls, loc: list[str | int], msg: str, kind: str = "value_error") -> Invalid:
        """A 422 carrying a single problem."""
        return cls([{"loc": loc, "msg": msg, "type": kind}])
