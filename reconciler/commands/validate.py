"""`reconciler validate PATH... [--env NAME]`: schema and reference checks, no API call; every
environment the Project declares unless `--env` names one.

Problems are raised as ManifestError, which cli.py prints one per line (exit 1); a valid set of
manifests prints a one-line summary (exit 0).
"""

from __future__ import annotations

import argparse
from collections import Counter

from reconciler.gcpause import keep_until_exit
from reconciler.kinds import RESOURCE_KINDS
from reconciler.manifest import LoadResult, read_every_environment, read_manifests


def run(args: argparse.Namespace) -> int:
    """Validate the manifests at `args.paths` (for `--env`, else for every environment the Project
    declares); print a summary line per environment and return 0 when they are valid."""
    if args.env is not None:
        results = {args.env: read_manifests(args.paths, allow_unset_env=args.allow_unset_env, environment=args.env,
                                          root=args.root)}
    else:
        results = read_every_environment(args.paths, allow_unset_env=args.allow_unset_env, root=args.root)
    for env, result in results.items():
        print(_summary(result) + (f" for environment {env}" if env is not None else ""))
    keep_until_exit(results)  # the process ends at once after this (cli.entry): freeing them is waste
    return 0


def _summary(result: LoadResult) -> str:
    counts = Counter(r.kind for r in result.state.resources)
    total = len(result.state.resources)
    by_kind = ", ".join(f"{counts[k]} {k}" for k in RESOURCE_KINDS if counts[k])
    files = len(result.files)
    line = f"OK: {total} resource{'s' if total != 1 else ''} in {files} file{'s' if files != 1 else ''}"
    return f"{line} ({by_kind})" if by_kind else line
