"""The one small error tree. The CLI edge (cli.py) maps these to one clear line and exit status 1;
anything else is a bug and gets a traceback and exit status 3."""

from __future__ import annotations

from dataclasses import dataclass


class ReconcilerError(Exception):
    """Base of every error the tool expects and explains."""


@dataclass(frozen=True)
class ManifestProblem:
    """One problem in one manifest, at FILE:LINE:COL."""

    file: str
    line: int
    col: int
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}: {self.message}"


class ManifestError(ReconcilerError):
    """Manifests that do not validate; carries every problem at once, sorted by file and line."""

    def __init__(self, problems: list[ManifestProblem]) -> None:
        self.problems = sorted(problems, key=lambda p: (p.file, p.line, p.col, p.message))
        super().__init__("\n".join(str(p) for p in self.problems))


class ConfigError(ReconcilerError):
    """Wrong use of the tool: a missing API key, a bad flag combination."""


class ApiError(ReconcilerError):
    """The API answered with an error, or could not be reached after retries.

    The message names the request and the resource; it never contains the API key. `uncertain`: a
    write whose outcome is unknown (a 5xx, a timeout or a dropped connection after it was sent, and
    no read could tell whether it landed).
    """

    def __init__(self, message: str, *, status: int | None = None, retryable: bool = False,
                 uncertain: bool = False) -> None:
        super().__init__(message)
        self.status = status
        self.retryable = retryable
        self.uncertain = uncertain


class PlanError(ReconcilerError):
    """A plan that cannot be carried out: a dangling reference, duplicate live names, a refused delete."""


class StalePlanError(ReconcilerError):
    """A saved plan whose live objects changed since it was made."""


class OutputError(ReconcilerError):
    """What the command prints could not be written to standard output (a full disk, a device error):
    its output is lost, which an exit status of 0 must not hide."""


class ApplyError(ReconcilerError):
    """Apply finished with failed steps (the hooks have already reported them)."""
