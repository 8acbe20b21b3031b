"""`reconciler plan`: read the manifests and live state, print what would change."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys

from reconciler.apply import savedplan
from reconciler.manifest import load
from reconciler.model import DesiredState, LiveState
from reconciler.pipeline import compute, load_connected, origin, use_color
from reconciler.planning.plan import Plan
from reconciler.render.document import plan_document
from reconciler.render.markdown import render_markdown
from reconciler.render.text import render_text


def run(args: argparse.Namespace) -> int:
    async def go() -> tuple[DesiredState, Plan, LiveState]:
        # Bad manifests write nothing: at most the early reads were sent (pipeline.load_connected).
        desired, client, early = await load_connected(
            args, lambda: load(args.paths, environment=args.env, root=args.root), lambda d: d.project, args.paths)
        async with client:
            plan, live = await compute(client, desired, prune=args.prune, targets=args.target, early=early)
        return desired, plan, live

    desired, plan, live = asyncio.run(go())
    about = origin(desired, args.paths)
    doc = plan_document(plan, about)
    if args.format == "json":
        sys.stdout.write(json.dumps(doc, indent=2, sort_keys=False) + "\n")
    elif args.format == "markdown":
        sys.stdout.write(render_markdown(doc))
    else:
        sys.stdout.write(render_text(doc, color=use_color(args)))
    if args.out:
        savedplan.save(args.out, plan, desired, live, prune=args.prune, targets=args.target, origin=about)
        if args.format == "text":
            print(f"\nSaved the plan to {args.out}: run `reconciler apply {args.out}` to carry it out.")
    return 2 if args.detailed_exitcode and plan.has_changes else 0
