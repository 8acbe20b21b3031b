"""`reconciler test [PATH...] --suite NAME | --test NAME... [--version VNAME] [--timeout S] [--junit FILE]`.

Runs a suite (every test the account holds in it) or the named tests against the assistant's main
version, or a named version (`destination_version_id`); shows each run's status changes on stderr
while waiting, up to `--timeout`; then prints every rubric criterion's verdict, writes JUnit XML for CI,
and exits 0 when every run passed, 1 when any failed, broke or timed out.

With PATH, the manifests are read first (a bad manifest makes no API call) and every declared test of
the suite must be live (`apply` first), so that what runs is what the manifests say. With `--env`
(and PATH), the tests run in that environment's account, and an account holding another
environment's assistants is refused before any run starts. The version is
looked up under the assistant the tests talk to: `--assistant NAME`, or the one their `assistant:` or
live `destination` names.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from reconciler import waits
from reconciler.api import reads
from reconciler.api.client import ApiClient
from reconciler.errors import ConfigError
from reconciler.kinds import TEST_ASSISTANT_CHANNELS
from reconciler.manifest import load
from reconciler.model import DesiredState, LiveState
from reconciler.pipeline import client_for
from reconciler.planning import accounts
from reconciler.testruns import junit, runner
from reconciler.testruns.runner import Report, RunResult


def _progress(result: RunResult) -> None:
    state = "timed out" if result.timed_out else result.status
    sys.stderr.write(f"[{result.duration:6.1f}s] {result.name}: {state}\n")
    sys.stderr.flush()


def print_report(report: Report) -> None:
    """Each run and its criteria on stdout, then a one-line summary."""
    for r in report.results:
        sys.stdout.write(f"{'PASS' if r.passed else 'FAIL'} {r.name} ({r.verdict()}, {r.duration:.1f}s)\n")
        for c in r.criteria:
            sys.stdout.write(f"    {'ok ' if c.status == runner.PASSED else 'NOT'} {c.name}: {c.status}\n")
    passed = sum(1 for r in report.results if r.passed)
    sys.stdout.write(f"\n{report.label} against {report.target}: {len(report.results)} test(s), {passed} passed, "
                     f"{len(report.results) - passed} failed in {report.duration:.1f}s\n")
    sys.stdout.flush()


def _one(found: list[dict[str, Any]], what: str) -> dict[str, Any]:
    if not found:
        raise ConfigError(f"{what}: not found")
    if len(found) > 1:
        ids = ", ".join(str(o.get("id") or o.get("test_id")) for o in found)
        raise ConfigError(f"{what}: {len(found)} live objects share the name ({ids})")
    return found[0]


async def _tests(client: ApiClient, args: argparse.Namespace, desired: DesiredState | None) -> list[dict[str, Any]]:
    if args.suite is not None:
        live = await reads.list_tests(client, args.suite)
        live = [t for t in live if t.get("test_suite") == args.suite]  # the filter's matching is not documented
        if desired is not None:
            declared = [r.name for r in desired.of_kind("AssistantTest") if r.spec.get("test_suite") == args.suite]
            missing = sorted(set(declared) - {str(t.get("name")) for t in live})
            if missing:
                raise ConfigError(f"suite {args.suite}: declared tests not live yet: {', '.join(missing)} "
                                  f"(run apply first)")
        if not live:
            raise ConfigError(f"suite {args.suite}: no test in the account belongs to it")
        return live
    every = await reads.list_tests(client)
    return [_one([t for t in every if t.get("name") == name], f"test {name}") for name in args.test]


def _assistant_name(args: argparse.Namespace, desired: DesiredState | None, tests: list[dict[str, Any]],
                    assistants: list[dict[str, Any]]) -> dict[str, Any]:
    """The assistant whose version `--version` names."""
    if args.assistant:
        return _one([a for a in assistants if a.get("name") == args.assistant], f"assistant {args.assistant}")
    names = {t.name: str(t.spec["assistant"]) for t in (desired.of_kind("AssistantTest") if desired else [])
             if "assistant" in t.spec}
    by_id = {str(a["id"]): a for a in assistants}
    found: dict[str, dict[str, Any]] = {}
    for t in tests:
        if str(t.get("name")) in names:
            a = _one([a for a in assistants if a.get("name") == names[str(t["name"])]], f"assistant "
                     f"{names[str(t['name'])]}")
            found[str(a["id"])] = a
        elif (t.get("telnyx_conversation_channel") or "web_chat") in TEST_ASSISTANT_CHANNELS and \
                str(t.get("destination")) in by_id:
            found[str(t["destination"])] = by_id[str(t["destination"])]
    if len(found) != 1:
        which = "several assistants" if found else "no assistant it can tell"
        raise ConfigError(f"--version {args.version}: the tests talk to {which}; name it with --assistant NAME")
    return next(iter(found.values()))


async def _version_id(client: ApiClient, args: argparse.Namespace, desired: DesiredState | None,
                      tests: list[dict[str, Any]]) -> str:
    assistant = _assistant_name(args, desired, tests, await reads.list_assistants(client))
    versions = await reads.list_versions(client, str(assistant["id"]))
    named = [v for v in versions if v.get("version_name") == args.version]
    if not named:
        named = [v for v in versions if v.get("version_id") == args.version]
    version = _one(named, f"version {args.version} of assistant {assistant.get('name')}")
    return str(version["version_id"])


def run(args: argparse.Namespace) -> int:
    """Run the tests; 0 when every run passed, 1 otherwise."""
    if (args.suite is None) == (not args.test):
        raise ConfigError("give either --suite NAME or --test NAME (repeatable)")
    if args.timeout <= 0:
        raise ConfigError("--timeout must be a positive number of seconds")
    if args.env is not None and not args.paths:
        raise ConfigError("test --env needs PATH: the manifests whose Project declares the environment")
    desired = load(args.paths, environment=args.env) if args.paths else None

    async def go() -> Report:
        waits.allow(args.timeout)  # told to wait that long for the verdicts
        async with client_for(args, project=desired.project if desired else None) as client:
            if desired is not None and desired.project.foreign_marks():
                # Another environment's account: refused before any test run is started.
                live = LiveState(assistants=await reads.list_assistants(client))
                accounts.check(desired, live, "test")
            tests = await _tests(client, args, desired)
            version_id = await _version_id(client, args, desired, tests) if args.version else None
            target = f"version {args.version}" if args.version else "main"
            return await runner.run(client, tests=tests, suite=args.suite, version_id=version_id, target=target,
                                    timeout=args.timeout, progress=_progress)

    report = waits.run(go, deadline=args.deadline, after="runs already started go on in the account")
    print_report(report)
    if args.junit:
        try:
            junit.write(report, args.junit)
        except OSError as exc:
            raise ConfigError(f"--junit {args.junit}: cannot write: {exc.strerror or exc}") from None
    return 0 if report.passed else 1
