"""Benchmark: load and validate 1,000 realistic assistant documents.

Writes the manifests (50 files of 20 documents, each assistant with voice, transcription and
telephony settings, inline tools, shared tools, an MCP server reference, a prompt file, and every
fifth one with a named version and a canary) to a temporary folder, then times
`reconciler.manifest.read_manifests` on it: YAML parsing with positions, schema checks, cross checks
and the version-overlay checks. The budget is 3 seconds; the exit status is 1 when it is exceeded.

    .venv/bin/python bench/validate_bench.py [--documents N] [--repeat R]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import yaml

from reconciler.manifest import read_manifests

BUDGET_S = 3.0
Dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


def assistant(i: int) -> dict[str, object]:
    """One realistic assistant document."""
    spec: dict[str, object] = {
        "model": "openai/gpt-4o",
        "instructions_file": "prompts/agent.md" if i % 2 else None,
        "instructions": None if i % 2 else f"You are support agent number {i} of {{{{company}}}}. Be brief.",
        "description": f"Support line {i}",
        "greeting": "Hi, this is {{company}}. How can I help?",
        "dynamic_variables": {"company": "Acme", "region": f"region-{i % 7}"},
        "enabled_features": ["telephony"],
        "tags": ["support", f"team-{i % 10}", "production"],
        "voice_settings": {
            "voice": "Telnyx.KokoroTTS.af_heart",
            "voice_speed": 1.1,
            "background_audio": {"type": "predefined_media", "value": "office"},
        },
        "transcription": {
            "model": "deepgram/flux",
            "language": "en",
            "settings": {"eot_threshold": 0.7, "eager_eot_threshold": 0.5, "eot_timeout_ms": 3000},
        },
        "telephony_settings": {
            "time_limit_secs": 1200,
            "user_idle_timeout_secs": 60,
            "noise_suppression": "deepfilternet",
            "noise_suppression_config": {"attenuation_limit": 80, "mode": "advanced"},
            "recording_settings": {"enabled": True, "channels": "dual", "format": "wav"},
        },
        "privacy_settings": {"data_retention": True},
        "tools": [
            {"type": "hangup", "hangup": {"description": "Hang up when the caller is done."}},
            {
                "type": "transfer",
                "transfer": {
                    "from": "+13125550100",
                    "targets": [{"name": "Desk", "to": "+13125550199"}, {"name": "Billing", "to": "+13125550198"}],
                    "warm_transfer_instructions": "Summarise the issue first.",
                },
            },
            {
                "type": "webhook",
                "timeout_ms": 3000,
                "webhook": {
                    "name": "create_ticket",
                    "description": "Open a ticket",
                    "url": f"https://api.example.com/{i}/tickets",
                    "method": "POST",
                    "headers": [{"name": "Authorization", "value": "{{#integration_secret}}t{{/integration_secret}}"}],
                    "body_parameters": {
                        "type": "object",
                        "properties": {"summary": {"type": "string"}, "order_id": {"type": "string"}},
                        "required": ["summary"],
                    },
                },
            },
        ],
        "shared_tools": ["order-lookup"],
        "mcp_servers": [{"server": "crm", "allowed_tools": ["lookup_customer"]}],
    }
    spec = {k: v for k, v in spec.items() if v is not None}
    if i % 5 == 0:
        spec["versions"] = [{"name": "concise", "spec": {"greeting": "Hi!", "voice_settings": {"voice_speed": 1.3}}}]
        spec["canary"] = [{"version": "concise", "percentage": 10}]
    return {"apiVersion": "reconciler/v1", "kind": "Assistant", "metadata": {"name": f"agent-{i:04d}"}, "spec": spec}


def write_corpus(root: Path, documents: int, per_file: int = 20) -> None:
    (root / "prompts").mkdir()
    (root / "prompts" / "agent.md").write_text("You are a support agent of {{company}}.\n" * 20, encoding="utf-8")
    for start in range(0, documents, per_file):
        docs = [assistant(i) for i in range(start, min(start + per_file, documents))]
        text = yaml.dump_all(docs, Dumper=Dumper, sort_keys=False, width=120)
        (root / f"assistants-{start // per_file:03d}.yaml").write_text(text, encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--documents", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3, help="runs; the best is reported")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        write_corpus(root, args.documents)
        started = time.perf_counter()
        read_manifests([root], environ={})  # the first run also compiles the validators, as a CLI run does
        cold = time.perf_counter() - started
        times = []
        for _ in range(args.repeat):
            started = time.perf_counter()
            result = read_manifests([root], environ={})
            times.append(time.perf_counter() - started)
        assert len(result.state.resources) == args.documents
    best = min(times)
    loader = "libyaml" if Dumper is not yaml.SafeDumper else "pure-Python yaml"
    print(
        f"validate: {args.documents} assistant documents in {len(result.files)} files: "
        f"{best:.2f} s best of {args.repeat}, {cold:.2f} s on the first run ({loader}; budget {BUDGET_S:.0f} s)"
    )
    return 0 if cold < BUDGET_S else 1


if __name__ == "__main__":
    sys.exit(main())
