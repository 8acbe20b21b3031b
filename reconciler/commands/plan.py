"""`reconciler plan`: read the manifests and live state, print what would change."""

from __future__ import annotations

import argparse
import sys

from reconciler import waits
from reconciler.api import tls
from reconciler.apply import savedplan
from reconciler.gcpause import keep_until_exit
from reconciler.manifest import load
from reconciler.model import LiveState
from reconciler.pipeline import api_key, client_for, compute, use_color
from reconciler.planning.plan import Plan
from reconciler.provenance import origin_soon
from reconciler.render.document import plan_document, plan_json
from reconciler.render.markdown import render_markdown
from reconciler.render.text import render_text


def run(args: argparse.Namespace) -> int:
    tls.prepare()  # certificate files only, while the manifests load (api/tls.py)
    # Before any network access: bad manifests make no API call.
    desired = load(args.paths, environment=args.env, root=args.root)
    origin = origin_soon(desired, args.paths, args.root)  # git, while the reads run

    async def go() -> tuple[Plan, LiveState, str]:
        async with client_for(args, project=desired.project) as client:
            # Fingerprints prove a saved plan still matches the account: taken only for --out.
            plan, live = await compute(client, desired, prune=args.prune, targets=args.target,
                                       fingerprint=args.out is not None)
            return plan, live, client.base_url

    plan, live, used_url = waits.run(go, deadline=args.deadline, after="nothing was changed")
    about = origin()
    doc = plan_document(plan, about)
    if args.format == "json":
        sys.stdout.write(plan_json(doc) + "\n")
    elif args.format == "markdown":
        sys.stdout.write(render_markdown(doc))
    else:
        sys.stdout.write(render_text(doc, color=use_color(args)))
    if args.out:
        savedplan.save(args.out, plan, desired, live, prune=args.prune, targets=args.target, origin=about,
                       base_url=used_url, api_key=api_key(desired.project))
        if args.format == "text":
            print(f"\nSaved the plan to {args.out}: run `reconciler apply {args.out}` to carry it out.")
    keep_until_exit(desired, plan, live, doc)
    return 2 if args.detailed_exitcode and plan.has_changes else 0
