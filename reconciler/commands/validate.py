"""`reconciler validate PATH...`: schema and reference checks, no API call.

Problems are raised as ManifestError, which cli.py prints one per line (exit 1); a valid set of
manifests prints a one-line summary (exit 0).
"""

from __future__ import annotations

import argparse
from collections import Counter

from reconciler.kinds import RESOURCE_KINDS
from reconciler.manifest import read_manifests


def run(args: argparse.Namespace) -> int:
    """Validate the manifests at `args.paths`; print a summary and return 0 when they are valid."""
    result = read_manifests(args.paths, allow_unset_env=args.allow_unset_env)
    counts = Counter(r.kind for r in result.state.resources)
    total = len(result.state.resources)
    by_kind = ", ".join(f"{counts[k]} {k}" for k in RESOURCE_KINDS if counts[k])
    files = len(result.files)
    line = f"OK: {total} resource{'s' if total != 1 else ''} in {files} file{'s' if files != 1 else ''}"
    print(f"{line} ({by_kind})" if by_kind else line)
    return 0
