"""The CI recipes as written in the README and .pre-commit-hooks.yaml, run as CI would run them: the
README's shell block under `bash -e` (GitHub's shell) against the emulator, and the pre-commit hook's
entry with its default arguments, without the secrets."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

from tests.support.emulator import Emulator
from tests.support.paths import EXAMPLES, REPO


def readme_ci_block() -> str:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("### In CI"):]
    found = re.search(r"```bash\n(.*?)```", section, re.S)
    assert found, "the README's CI section has no bash block"
    return found.group(1)


def _bash_e(script: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    return subprocess.run(["bash", "-e", "-c", script], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=120)


def test_the_readme_ci_block_is_right_under_bash_e(emulator: Emulator, tmp_path: Path) -> None:
    shutil.copytree(EXAMPLES, tmp_path / "manifests")
    block = readme_ci_block()
    changes = _bash_e(block, tmp_path)
    assert changes.returncode == 0, changes.stdout + changes.stderr
    assert "changes: post plan.md" in changes.stdout
    assert "acme-support" in (tmp_path / "plan.md").read_text(encoding="utf-8")

    applied = _bash_e("reconciler apply --auto-approve manifests/", tmp_path)
    assert applied.returncode == 0, applied.stdout + applied.stderr
    same = _bash_e(block, tmp_path)
    assert (same.returncode, same.stdout.strip()) == (0, "no changes"), same.stdout + same.stderr

    (tmp_path / "manifests" / "shared.yaml").write_text("kind: Nonsense\n", encoding="utf-8")
    failed = _bash_e(block, tmp_path)
    assert failed.returncode == 1 and "plan failed (exit 1)" in failed.stderr, failed.stdout + failed.stderr


def test_the_pre_commit_hook_needs_no_secrets(tmp_path: Path) -> None:
    [hook] = yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    assert hook["id"] == "reconciler-validate" and hook["pass_filenames"] is False
    shutil.copytree(EXAMPLES, tmp_path / "manifests")
    with (tmp_path / "manifests" / "support-assistant.yaml").open("a", encoding="utf-8") as fh:
        fh.write("  dynamic_variables_webhook_url: 'https://hooks.example/${env:RECONCILER_SECRET_NOT_HERE}'\n")
    env = {k: v for k, v in os.environ.items() if k != "RECONCILER_SECRET_NOT_HERE"}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env['PATH']}"
    command = [*shlex.split(hook["entry"]), *hook["args"]]  # as pre-commit runs it: entry, then args
    done = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr
    (tmp_path / "manifests" / "broken.yaml").write_text("apiVersion: reconciler/v1\nkind: Tool\n", encoding="utf-8")
    done = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 1 and "manifests/broken.yaml:" in done.stderr, done.stderr
