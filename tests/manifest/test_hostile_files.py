"""A manifest is untrusted input (CI plans every pull request): the files it references are confined to
the project. Each hostile reference is exit 1 at FILE:LINE:COL, and neither the API key nor the
target's content appears in any output or file (issue 17)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from reconciler.cli import main
from reconciler.errors import ManifestError
from reconciler.manifest import load
from tests.support.paths import REPO

KEY = "KEY4hostile-test-9f2c81d7e3"
MARKER = "OUTSIDE-CONTENT-7d1e"
LOCATED = re.compile(r"^\S+\.yaml:\d+:\d+: spec\.instructions_file: ", re.M)

ASSISTANT = """\
apiVersion: reconciler/v1
kind: Assistant
metadata:
  name: hostile
spec:
  model: openai/gpt-4o
  instructions_file: {ref}
"""


def project(tmp_path: Path, ref: str) -> Path:
    """tmp_path/outside.txt (outside the project), tmp_path/proj/manifests/a.yaml referencing `ref`."""
    (tmp_path / "outside.txt").write_text(f"{MARKER}\n")
    manifests = tmp_path / "proj" / "manifests"
    manifests.mkdir(parents=True)
    (manifests / "a.yaml").write_text(ASSISTANT.format(ref=ref))
    return manifests


def run_cli(cwd: Path, *argv: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "TELNYX_API_KEY": KEY, "TELNYX_BASE_URL": "http://127.0.0.1:9/v2",
           "PYTHONPATH": str(REPO)}
    return subprocess.run([sys.executable, "-m", "reconciler", *argv], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=timeout, stdin=subprocess.DEVNULL)


def snapshot(tmp_path: Path) -> set[Path]:
    return {p for p in tmp_path.rglob("*") if p.is_file() and not p.is_symlink()}


def no_leak(tmp_path: Path, before: set[Path], *outputs: str) -> None:
    """Neither the key nor the outside file's content in `outputs`, nor in any file written since."""
    for text in outputs:
        assert KEY not in text and MARKER not in text
    for file in snapshot(tmp_path) - before:
        data = file.read_bytes()
        assert KEY.encode() not in data and MARKER.encode() not in data, file


def make_fifo(manifests: Path) -> None:
    os.mkfifo(manifests / "prompt.md")


def symlink_out(manifests: Path) -> None:
    (manifests / "prompt.md").symlink_to(manifests.parent.parent / "outside.txt")


def symlink_to_device(manifests: Path) -> None:
    (manifests / "prompt.md").symlink_to("/dev/zero")


def symlink_loop(manifests: Path) -> None:
    (manifests / "prompt.md").symlink_to("prompt.md")


def hidden(manifests: Path) -> None:
    (manifests / ".env").write_text(f"TELNYX_API_KEY={KEY}\n")


def too_large(manifests: Path) -> None:
    (manifests / "prompt.md").write_bytes(b"x" * (1024 * 1024 + 1))


def not_utf8(manifests: Path) -> None:
    (manifests / "prompt.md").write_bytes(b"ok \xff\xfe " + MARKER.encode())


def folder(manifests: Path) -> None:
    (manifests / "prompt.md").mkdir()


CASES = [
    ("/proc/self/environ", None, "is an absolute path"),
    ("/etc/passwd", None, "is an absolute path"),
    ("/dev/zero", None, "is an absolute path"),
    ("../../outside.txt", None, "resolves outside the project root"),
    ("../../outside", None, "resolves outside the project root"),
    ("prompt.md", symlink_out, "is a symlink that resolves outside the project root"),
    ("prompt.md", symlink_to_device, "is a symlink that resolves outside the project root"),
    ("prompt.md", make_fifo, "is not a regular file (it is a FIFO)"),
    ("prompt.md", symlink_loop, "is a symlink loop"),
    (".env", hidden, "is hidden"),
    ("prompt.md", too_large, "is 1048577 bytes; at most 1 MiB is read"),
    ("prompt.md", not_utf8, "is not UTF-8 text (invalid byte 0xff at line 1, column 4)"),
    ("prompt.md", folder, "is not a regular file (it is a folder)"),
]


@pytest.mark.parametrize(("ref", "setup", "reason"), CASES, ids=[f"{c[0]}-{c[1].__name__ if c[1] else ''}"
                                                                  for c in CASES])
def test_a_hostile_reference_is_a_located_error_that_leaks_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], ref: str,
    setup: object, reason: str,
) -> None:
    manifests = project(tmp_path, ref)
    if callable(setup):
        setup(manifests)
    before = snapshot(tmp_path)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TELNYX_API_KEY", KEY)
    monkeypatch.setenv("TELNYX_BASE_URL", "http://127.0.0.1:9/v2")  # never reached: loading fails first
    # validate, plan (text, json, markdown, with a saved plan) and apply: all stop before the network.
    argvs = [["validate", "proj/manifests"], ["apply", "proj/manifests", "--auto-approve"]]
    argvs += [["plan", "proj/manifests", "--format", fmt, "--out", "saved.plan"]
              for fmt in ("text", "json", "markdown")]
    for argv in argvs:
        code = main(argv)
        out, err = capsys.readouterr()
        assert code == 1, err
        assert f"proj/manifests/a.yaml:7:22: spec.instructions_file: '{ref}' {reason}" in err
        assert "Traceback" not in err and out == ""
        no_leak(tmp_path, before, out, err)
    assert not (tmp_path / "saved.plan").exists()


def test_a_manifest_not_utf8_is_refused_where_the_bad_byte_is(tmp_path: Path) -> None:
    # The line and the column in characters, as an editor shows them ("é" is two bytes, one column).
    (tmp_path / "a.yaml").write_bytes(b"apiVersion: reconciler/v1\nkind: Assistant\nmetadata: {name: caf\xc3\xa9}\n"
                                      b"spec: {instructions: \"d\xc3\xa9j\xe0 vu\"}\n")
    with pytest.raises(ManifestError) as exc:
        load([tmp_path / "a.yaml"])
    assert [str(p) for p in exc.value.problems] == [
        f"{tmp_path / 'a.yaml'}:4:26: this manifest is not UTF-8 text (invalid byte 0xe0 at line 4, column 26)"]


@pytest.mark.parametrize("ref", ["/proc/self/environ", "../../outside.txt", "prompt.md"])
def test_in_a_real_process_too(tmp_path: Path, ref: str) -> None:
    """The real CLI in its own process, where /proc/self/environ would hold the key: a FIFO
    (prompt.md) is refused without blocking (the timeout would fail the test)."""
    manifests = project(tmp_path, ref)
    if ref == "prompt.md":
        make_fifo(manifests)
    before = snapshot(tmp_path)
    done = run_cli(tmp_path, "plan", "proj/manifests", "--format", "markdown", timeout=30)
    assert done.returncode == 1 and LOCATED.search(done.stderr) and "Traceback" not in done.stderr
    no_leak(tmp_path, before, done.stdout, done.stderr)


def test_a_fifo_given_as_a_manifest_never_blocks(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "m.yaml")
    done = run_cli(tmp_path, "validate", "m.yaml", timeout=30)
    assert done.returncode == 1 and "m.yaml:1:1: this manifest is not a regular file (it is a FIFO)" in done.stderr
    link = tmp_path / "proj"
    link.mkdir()
    (link / "z.yaml").symlink_to("/dev/zero")
    done = run_cli(tmp_path, "validate", "proj", timeout=30)
    assert done.returncode == 1 and "proj/z.yaml:1:1: this manifest is a symlink that resolves outside" in done.stderr


def test_a_missing_file_is_said_so_for_what_it_is(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A manifest is named on the command line (or found in a folder): no "relative to the manifest's
    folder" note, which only a reference's path is; a dangling symlink is said to be one."""
    (tmp_path / "a.yaml").symlink_to(tmp_path / "gone.yaml")
    (tmp_path / "b.yaml").write_text(ASSISTANT.format(ref="prompt.md"), encoding="utf-8")
    assert main(["validate", str(tmp_path)]) == 1
    err = capsys.readouterr().err.splitlines()
    assert f"{tmp_path / 'a.yaml'}:1:1: this manifest is a symlink to something that does not exist" in err
    assert any(line.endswith("spec.instructions_file: 'prompt.md' does not exist (the path is relative to the "
                             "manifest's folder)") for line in err), err


def test_root_widens_for_monorepos_but_never_to_system_folders(tmp_path: Path) -> None:
    manifests = project(tmp_path, "../prompts/p.md")
    (manifests.parent / "prompts").mkdir()
    (manifests.parent / "prompts" / "p.md").write_text("You help.\n")
    refused = run_cli(tmp_path, "validate", "proj/manifests")
    assert refused.returncode == 1 and "resolves outside the project root" in refused.stderr
    widened = run_cli(tmp_path, "validate", "proj/manifests", "--root", "proj")
    assert widened.returncode == 0, widened.stderr
    for root, message in (("/", "may not be /, the home folder or a system folder"),
                          ("/etc", "may not be /, the home folder or a system folder"),
                          ("proj/prompts", "must hold every PATH"),
                          ("nowhere", "not a folder")):
        done = run_cli(tmp_path, "validate", "proj/manifests", "--root", root)
        assert done.returncode == 1 and message in done.stderr and "Traceback" not in done.stderr
    # Widened, an escape is still refused: the root is the boundary, whatever it is.
    (manifests / "a.yaml").write_text(ASSISTANT.format(ref="../../outside.txt"))
    done = run_cli(tmp_path, "validate", "proj/manifests", "--root", "proj")
    assert done.returncode == 1 and "resolves outside the project root" in done.stderr
    assert MARKER not in done.stderr


def test_paths_far_apart_are_each_their_own_root(tmp_path: Path) -> None:
    from reconciler.manifest.files import find_roots

    # Two folders whose only common folder is `/` (whatever folder the checkout is in).
    here = Path(os.path.realpath(tmp_path))
    elsewhere = next(p for p in ("/usr", "/etc", "/var") if Path(p).is_dir() and here.parts[1] != Path(p).parts[1])
    roots = find_roots([elsewhere, str(here)], None).of_argument
    assert roots == (os.path.realpath(elsewhere), str(here))
    one = find_roots([str(tmp_path / "a"), str(tmp_path / "b" / "x.yaml")], None).of_argument
    assert one == (str(tmp_path), str(tmp_path))


def _assistant(name: str) -> str:
    return (f"apiVersion: reconciler/v1\nkind: Assistant\nmetadata:\n  name: {name}\n"
            "spec:\n  model: openai/gpt-4o\n  instructions: Be helpful.\n")


def test_a_symlinked_folder_is_read_as_a_symlinked_file_is(tmp_path: Path) -> None:
    """Followed inside the root (once, however many links lead there, a loop included), an error
    outside it: never skipped without a word, which with --prune would plan its assistants' deletion."""
    (tmp_path / "m" / "sub").mkdir(parents=True)
    (tmp_path / "real").mkdir()
    (tmp_path / "m" / "one.yaml").write_text(_assistant("one"))
    (tmp_path / "real" / "billing.yaml").write_text(_assistant("billing"))
    (tmp_path / "m" / "sub" / "link").symlink_to(tmp_path / "real")
    (tmp_path / "m" / "again").symlink_to(tmp_path / "real")
    (tmp_path / "real" / "loop").symlink_to(tmp_path / "real")
    state = load([tmp_path / "m"], root=tmp_path)
    assert sorted(r.name for r in state.resources) == ["billing", "one"]
    with pytest.raises(ManifestError) as exc:
        load([tmp_path / "m"], root=tmp_path / "m")
    assert "again/billing.yaml:1:1: this manifest resolves outside the project root" in str(exc.value)
