"""Argument parsing and dispatch only. Each command lives in reconciler/commands/<name>.py as
`run(args) -> int`. Errors are translated here, once: a ReconcilerError prints one clear message and
exits 1, Ctrl-C exits 130 and SIGTERM (a CI job cancelled) 143, each after the same report of what
was in flight; anything else is a bug (traceback, exit 3)."""

from __future__ import annotations

import argparse
import contextlib
import importlib
import os
import signal
import sys
import threading
import traceback
from collections.abc import Iterator, Sequence
from types import FrameType
from typing import NoReturn

from reconciler import __version__, gcpause, scrub
from reconciler.api import DEFAULT_BASE_URL, DEFAULT_DEADLINE_S, DEFAULT_REQUEST_TIMEOUT_S
from reconciler.errors import ManifestError, OutputError, ReconcilerError
from reconciler.kinds import RESOURCE_KINDS


def _seconds(text: str) -> float:
    """A number of seconds above zero (`--request-timeout`, `--deadline`)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of seconds, got {text!r}") from None
    if not 0 < value < float("inf"):
        raise argparse.ArgumentTypeError(f"expected a number of seconds above 0, got {text!r}")
    return value


def _env(p: argparse.ArgumentParser, what: str) -> None:
    p.add_argument("--env", metavar="NAME", help=f"the environment (of the Project's spec.environments) to {what}")


def _connection(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--base-url",
        default=None,
        help=f"API base URL (default: the environment's base_url, else env TELNYX_BASE_URL, else {DEFAULT_BASE_URL})",
    )
    p.add_argument("--parallelism", type=int, default=10, help="parallel requests (default 10)")
    p.add_argument("--request-timeout", type=_seconds, default=DEFAULT_REQUEST_TIMEOUT_S, metavar="S",
                   help="give up on one request after S seconds without an answer; it is tried at most 3 times "
                   "(default %(default)g)")
    p.add_argument("--deadline", type=_seconds, default=None, metavar="S",
                   help=f"give up the whole command after S seconds (default {DEFAULT_DEADLINE_S:g}, plus the "
                   "waits it was told to do: the gates' timeout_seconds in apply, --timeout in test)")


def _root(p: argparse.ArgumentParser) -> None:
    p.add_argument("--root", metavar="DIR", help="files manifests reference must be inside DIR (default: the "
                   "common folder of the PATHs; DIR must hold them all)")


def _planning(p: argparse.ArgumentParser, env_help: str) -> None:
    """What every command that makes a plan takes: output colour, environment, root, selection, connection."""
    p.add_argument("--no-color", action="store_true", help="never colour the text output")
    _env(p, env_help)
    _root(p)
    _selection(p)
    _connection(p)


def _selection(p: argparse.ArgumentParser) -> None:
    p.add_argument("--prune", action="store_true", help="delete owned resources the manifests no longer declare")
    p.add_argument(
        "--target",
        action="append",
        default=[],
        metavar="ADDRESS",
        help="limit to this address, as the plan prints it (assistant.NAME, tool.NAME, mcp_server.NAME, "
        "assistant_test.NAME) or as KIND/NAME, and what it depends on (repeatable)",
    )


class _Parser(argparse.ArgumentParser):
    """Usage errors exit 1, not argparse's 2: with --detailed-exitcode, 2 means "changes", and CI
    must never read a mistyped flag as that."""

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(1, f"{self.prog}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="reconciler", description="Telnyx AI Assistants as code.")
    parser.add_argument("--version", action="version", version=f"reconciler {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("validate", help="check manifests offline (no API call)")
    p.add_argument("paths", nargs="+", metavar="PATH", help="manifest files or folders (*.yaml, *.yml)")
    p.add_argument(
        "--allow-unset-env",
        action="store_true",
        help="${env:NAME} references need not be set (pre-commit, fork PRs): checked as written, not their values",
    )
    _env(p, "check (default: every one)")
    _root(p)

    p = sub.add_parser("plan", help="show what apply would change")
    p.add_argument("paths", nargs="+", metavar="PATH", help="manifest files or folders (*.yaml, *.yml)")
    p.add_argument("--out", metavar="FILE", help="save the plan for `apply FILE`")
    p.add_argument("--format", choices=["text", "json", "markdown"], default="text",
                   help="text (default), markdown for a pull-request comment, or the versioned JSON document")
    p.add_argument("--detailed-exitcode", action="store_true", help="exit 2 when there are changes")
    _planning(p, "plan")

    p = sub.add_parser("apply", help="plan and carry out the changes, or carry out a saved plan")
    p.add_argument("paths", nargs="+", metavar="PATH", help="manifest files/folders, or one saved plan")
    p.add_argument("--auto-approve", action="store_true", help="do not ask for confirmation")
    p.add_argument("--format", choices=["text", "json"], default="text", help="progress as text or JSON lines")
    _planning(p, "apply (a saved plan: must be the one it was made for)")

    p = sub.add_parser("export", help="write manifests for live resources")
    p.add_argument("--out", default="exported", metavar="DIR", help="output folder (default %(default)s)")
    p.add_argument(
        "--kind",
        action="append",
        default=[],
        choices=list(RESOURCE_KINDS),
        help="export only this kind (repeatable)",
    )
    _env(p, "export (its account, key and owner tag; needs --manifests)")
    p.add_argument("--manifests", metavar="PATH", action="append", default=[],
                   help="manifest files/folders holding the Project that declares --env (repeatable)")
    _connection(p)

    p = sub.add_parser("test", help="run assistant tests (a suite or named tests) and wait for their verdicts")
    p.add_argument("paths", nargs="*", metavar="PATH", help="manifests: check that the suite's tests are applied")
    which = p.add_mutually_exclusive_group()
    which.add_argument("--suite", metavar="NAME", help="run every test of this suite")
    which.add_argument("--test", action="append", default=[], metavar="NAME", help="run this test (repeatable)")
    p.add_argument("--version", metavar="VNAME", help="test this named version instead of main")
    p.add_argument("--assistant", metavar="NAME", help="the assistant whose --version is meant")
    p.add_argument("--timeout", type=float, default=600.0, metavar="S",
                   help="give up waiting after S seconds (default %(default)s)")
    p.add_argument("--junit", metavar="FILE", help="write the results as JUnit XML")
    _env(p, "test (its account and key; needs PATH)")
    _connection(p)

    p = sub.add_parser("emulator", help="serve a local emulator of the Telnyx AI Assistants API")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default %(default)s)")
    p.add_argument("--port", type=int, default=8787, help="port to listen on; 0 picks a free one (default %(default)s)")
    p.add_argument("--latency-ms", type=float, default=0.0)
    p.add_argument("--state-file", metavar="F", help="persist state to this JSON file")
    p.add_argument("--api-key", metavar="K", help="accept only this bearer key (default: any non-empty)")

    p = sub.add_parser("completion", help="print a shell completion script (bash or zsh)")
    p.add_argument("shell", choices=["bash", "zsh"])
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    # Every byte this process prints passes through the scrubber (scrub.py): the key and every
    # `${env:}` value the manifests use are masked even where a message would otherwise carry one.
    with scrub.scrubbed_output():
        scrub.forget_all()
        key = os.environ.get("TELNYX_API_KEY")
        if key:
            scrub.register(key, "(TELNYX_API_KEY)")
        scrub.register_url(os.environ.get("TELNYX_BASE_URL", ""))
        with _terminate_as_interrupt() as terminated:
            try:
                code = _run(build_parser().parse_args(argv))
            except KeyboardInterrupt:  # before the command ran (arguments being parsed)
                print("interrupted", file=sys.stderr)
                code = 130
        if code == 130 and terminated:
            code = 143  # 128 + SIGTERM, as a shell reports a process the signal ended
        try:
            # What the command printed may still be in the buffer (a whole text plan fits): written
            # now, so that a failure to write it is this command's, and not an exit 0 (or 2,
            # "changes") with an empty plan behind it.
            sys.stdout.flush()
        except OutputError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return code if code not in (0, 2) else 1
        except BrokenPipeError:
            pass  # the reader went away after the command: its exit status still says how it went
        return code


@contextlib.contextmanager
def _terminate_as_interrupt() -> Iterator[list[int]]:
    """SIGTERM handled as Ctrl-C is: GitLab, Jenkins and Kubernetes cancel a job with it, and an apply
    so cut short must still say which steps were in flight (their outcome unknown) instead of dying
    silently. The running command's task is cancelled as asyncio's Ctrl-C handler does it (waits.py),
    even in a job started in the background of a script, where SIGINT is ignored. The list it yields
    is non-empty once SIGTERM came."""
    came: list[int] = []

    def on_term(signum: int, frame: FrameType | None) -> None:
        came.append(signum)
        waits = sys.modules.get("reconciler.waits")  # not imported: no command is waiting on the API
        if waits is None:
            raise KeyboardInterrupt
        waits.interrupt()

    if threading.current_thread() is not threading.main_thread():
        yield came  # signals reach the main thread only
        return
    before = signal.signal(signal.SIGTERM, on_term)
    try:
        yield came
    finally:
        signal.signal(signal.SIGTERM, before)


def entry() -> NoReturn:
    """The console script and `python -m reconciler`: `main()`, then the process ends at once.

    Tearing the interpreter down (every module's objects freed one by one) took 0.15-0.6 s after a
    1,000-assistant plan had printed (issue 16, docs/benchmarks.md). By then every file is closed, so
    skipping it loses nothing. A daemon thread still running is abandoned either way, and more safely
    so: the TLS context still being built when bad manifests end a plan at once (api/tls.py) made the
    interpreter's teardown crash (SIGSEGV, exit 139 instead of 1) as the thread came back from OpenSSL.
    Only a non-daemon thread still running (none of ours) gets the normal exit, which waits for it.
    """
    gcpause.ends_at_once = True
    code = main()
    with contextlib.suppress(OSError, ValueError):  # a closed pipe: the exit status still says how it went
        sys.stdout.flush()
        sys.stderr.flush()
    current = threading.current_thread()
    if any(not t.daemon for t in threading.enumerate() if t is not current):  # enumerate: the live ones
        raise SystemExit(code)
    os._exit(code)


def _run(args: argparse.Namespace) -> int:
    scrub.register_url(getattr(args, "base_url", ""))
    module = importlib.import_module(f"reconciler.commands.{args.command}")
    try:
        return int(module.run(args))
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130  # 143 when SIGTERM was the interrupt (main)
    except BrokenPipeError:
        # The reader went away (`| head`): stop, as a Unix tool killed by SIGPIPE would (141), with
        # stdout pointed at /dev/null so the final flush does not fail again. Quietly, but for an apply
        # cut short: what it was sending may have landed, and nobody else would say so.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        if args.command == "apply":
            print("error: standard output was closed during apply: stopped; steps in flight may have landed: "
                  "run plan to see where the account stands", file=sys.stderr)
        return 141
    except OutputError as exc:
        # Standard output cannot be written (a full disk): stop, and say so where it can be read.
        stopped = ("; apply stopped: steps in flight may have landed: run plan to see where the account "
                   "stands") if args.command == "apply" else ""
        print(f"error: {exc}{stopped}", file=sys.stderr)
        return 1
    except ManifestError as exc:
        for problem in exc.problems:
            print(scrub.scrub(str(problem)), file=sys.stderr)
        print(f"{len(exc.problems)} error(s) in manifests", file=sys.stderr)
        return 1
    except ReconcilerError as exc:
        print(scrub.scrub(f"error: {exc}"), file=sys.stderr)
        return 1
    except Exception:  # a bug: show everything needed to report it (scrubbed like every output)
        traceback.print_exc()
        return 3
