"""What the tests of issue 13 share: the support bot's main spec, a suite of two tests, the CLI."""

from __future__ import annotations

import pytest

from reconciler.cli import main

BOT = """
apiVersion: reconciler/v1
kind: Assistant
metadata:
  name: support-bot
spec:
  model: openai/gpt-4o
  instructions: You are the support agent.
  greeting: Hello
"""

# Two tests of suite `smoke`; `greets` reads its instructions from greets.md beside the manifest.
SUITE = """
apiVersion: reconciler/v1
kind: AssistantTest
metadata:
  name: greets
spec:
  assistant: support-bot
  test_suite: smoke
  instructions_file: greets.md
  rubric:
    - name: Politeness
      criteria: The assistant greets the user.
---
apiVersion: reconciler/v1
kind: AssistantTest
metadata:
  name: refunds
spec:
  assistant: support-bot
  test_suite: smoke
  max_duration_seconds: 120
  description: Asks for a refund
  instructions: Ask for a refund of order 42.
  rubric:
    - name: Accuracy
      criteria: It explains the refund policy.
    - name: Empathy
      criteria: It apologises.
"""
GREETS_MD = "Act as a customer who says hello twice.\n"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    """Run the CLI in-process; its exit status and everything it printed."""
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out + out.err
