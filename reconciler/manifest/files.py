"""Every file reading manifests does goes through here: manifests and the files they reference.

A manifest comes from a pull request as often as from its author, so a file reference is confined:
- the **root** is the common folder of the PATH arguments (a file argument counts as its folder),
  symlinks resolved, or `--root DIR` (which must hold every PATH); when the PATHs share only `/`,
  each is a root of its own. A root is never `/`, the home folder or a system folder such as /etc,
  /proc or /dev (a manifest there may reference no file);
- a reference is a path relative to the manifest's folder that, symlinks resolved, stays inside
  the root; absolute paths, hidden files and folders (`.env`, `.git/config`: where a checkout keeps
  credentials) and symlink loops are refused;
- only regular files are read (checked with stat before opening, and opened non-blocking, so a
  FIFO or a device never blocks or streams), up to a size limit (limits.py).
A refusal is a `Refused` whose reason reads after the path as written ("'x' is a FIFO") and never
holds a byte of the target.
"""

from __future__ import annotations

import errno
import os
import stat
from dataclasses import dataclass
from pathlib import Path

from reconciler.errors import ConfigError
from reconciler.manifest.limits import MAX_REFERENCED_FILE_BYTES, MAX_REFERENCED_TOTAL_BYTES, size_text

# Folders no project lives in: a root there would let a manifest read the machine's own files.
SYSTEM_FOLDERS = ("/bin", "/boot", "/dev", "/etc", "/lib", "/lib32", "/lib64", "/libx32", "/proc", "/run",
                  "/sbin", "/sys", "/usr", "/var/run")


WIDEN = " (the common folder of the PATH arguments unless --root DIR widens it)"


class Refused(Exception):
    """A file that may not be read, with the reason (no content of the file in it), and where in the
    file the reason lies when it lies at one place (`line`, `col`: 1-based)."""

    def __init__(self, reason: str, line: int = 1, col: int = 1) -> None:
        super().__init__(reason)
        self.line, self.col = line, col


@dataclass(frozen=True)
class Roots:
    """The root of each PATH argument (one shared root, unless the PATHs share only a system folder)."""

    of_argument: tuple[str, ...]


def find_roots(paths: list[str], root: str | os.PathLike[str] | None) -> Roots:
    """The folder that file references of the manifests of each PATH must stay inside, resolved:
    `--root DIR` (which must hold every PATH and may not be a system folder), else the common folder
    of the PATHs (a file counts as its folder); when that is /, the home folder or a system folder
    (PATHs far apart), each PATH is a root of its own."""
    folders = [os.path.realpath(p if os.path.isdir(p) else (os.path.dirname(p) or ".")) for p in paths]
    if root is not None:
        given = os.fspath(root)
        found = os.path.realpath(given)
        if not os.path.isdir(found):
            raise ConfigError(f"--root {given}: not a folder")
        if is_system(found):
            raise ConfigError(f"--root {given}: a manifest root may not be /, the home folder or a system folder "
                              f"such as /etc ({found})")
        outside = [p for p, f in zip(paths, folders, strict=True) if not inside(f, found)]
        if outside:
            raise ConfigError(f"--root {given}: must hold every PATH, and {outside[0]} is outside it")
        return Roots(tuple(found for _ in paths))
    common = os.path.commonpath(folders) if folders else ""
    if common and not is_system(common):
        return Roots(tuple(common for _ in paths))
    return Roots(tuple(folders))


def is_system(folder: str) -> bool:
    """True for /, the home folder and the machine's own folders: never a project's root."""
    home = os.path.realpath(os.path.expanduser("~"))
    return folder in ("/", home) or any(inside(folder, s) for s in SYSTEM_FOLDERS)


def inside(path: str, root: str) -> bool:
    """True if the absolute `path` is `root` or below it (both normalised)."""
    return path == root or path.startswith(root.rstrip("/") + "/")


@dataclass(frozen=True)
class Confined:
    """A file that passed every rule: its resolved path and size (read it with `read_text`)."""

    path: str
    size: int


def confine(name: str, base: str, root: str, limit: int, *, reference: bool) -> Confined:
    """Check the path `name`, relative to the folder `base`, against the rules of the module
    docstring: a manifest's own file, or (`reference`) a file a manifest references, where hidden
    files are refused and a system root allows nothing. Raises Refused; never opens the file."""
    if "\0" in name:
        raise Refused("contains a NUL character")
    if reference and is_system(root):
        raise Refused(f"cannot be read: the manifests' root {root} is a system folder or the home folder; keep "
                      "manifests in a project folder, or name one with --root DIR")
    if os.path.isabs(name):
        raise Refused("is an absolute path; give a path relative to this manifest, inside the project "
                      f"root {root}")
    if reference and _hidden(name):
        raise Refused("is hidden; hidden files and folders are refused (dot-files such as .env or "
                      ".git/config hold credentials)")
    folder = os.path.realpath(base)
    lexical = os.path.normpath(os.path.join(folder, name))
    if not inside(lexical, root):  # said before looking, so a refusal tells nothing about outside files
        raise Refused(f"resolves outside the project root {root}{WIDEN}")
    try:
        target = os.path.realpath(lexical, strict=True)
    except OSError as exc:
        raise Refused(_os_reason(exc, reference=reference, path=lexical)) from None
    if not inside(target, root):
        raise Refused(f"is a symlink that resolves outside the project root {root}{WIDEN}")
    if reference and _hidden(os.path.relpath(target, root)):
        raise Refused("resolves to a hidden file or folder (dot-files such as .env or .git/config hold "
                      "credentials)")
    try:
        info = os.stat(target)
    except OSError as exc:
        raise Refused(_os_reason(exc)) from None
    _check_regular(info, limit)
    return Confined(target, info.st_size)


def read_text(file: Confined, limit: int) -> str:
    """The content of a confined file as UTF-8 text. The file is opened non-blocking and without
    following a last-moment symlink, then checked again (it may have been swapped since `confine`),
    and never more than `limit` bytes are read."""
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(file.path, flags)
    except OSError as exc:
        raise Refused(_os_reason(exc)) from None
    try:
        _check_regular(os.fstat(fd), limit)
        chunks: list[bytes] = []
        total = 0
        while total <= limit:
            chunk = os.read(fd, min(1 << 20, limit + 1 - total))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
    except OSError as exc:
        raise Refused(_os_reason(exc)) from None
    finally:
        os.close(fd)
    if total > limit:
        raise Refused(f"is larger than {size_text(limit)}, the most that is read")
    data = b"".join(chunks)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        # Where an editor shows it: the line, and the column in characters (what comes before the
        # bad byte decodes, by definition).
        line_start = data.rfind(b"\n", 0, exc.start) + 1
        line, col = data.count(b"\n", 0, exc.start) + 1, len(data[line_start:exc.start].decode("utf-8")) + 1
        raise Refused(f"is not UTF-8 text (invalid byte 0x{data[exc.start]:02x} at line {line}, column {col})",
                      line, col) from None


class References:
    """Files that manifests reference, each read once per load (many assistants share one), within
    the run's total budget (MAX_REFERENCED_TOTAL_BYTES)."""

    def __init__(self) -> None:
        self.texts: dict[str, str | Refused] = {}
        self.total = 0
        # Each (name, folder, root) is checked once per load, like each file is read once: a
        # thousand assistants naming one prompt file cost one realpath walk, not a thousand.
        self.confined: dict[tuple[str, str, str], Confined | Refused] = {}

    def read(self, name: str, base: str, root: str) -> str:
        """The text of the file `name` (relative to the folder `base`) under `root`; raises Refused
        (the same refusal for every reference to one file)."""
        key = (name, base, root)
        file = self.confined.get(key)
        if file is None:
            try:
                file = confine(name, base, root, MAX_REFERENCED_FILE_BYTES, reference=True)
            except Refused as exc:
                file = exc
            self.confined[key] = file
        if isinstance(file, Refused):
            raise file.with_traceback(None)  # the same refusal, without the frames of every earlier raise
        known = self.texts.get(file.path)
        if known is None:
            if self.total + file.size > MAX_REFERENCED_TOTAL_BYTES:
                known = Refused(f"would take the files read for this run over "
                                f"{size_text(MAX_REFERENCED_TOTAL_BYTES)}")
            else:
                try:
                    known = read_text(file, MAX_REFERENCED_FILE_BYTES)
                    self.total += file.size
                except Refused as exc:
                    known = exc
            self.texts[file.path] = known
        if isinstance(known, Refused):
            raise known
        return known


def line_col(data: str, offset: int) -> tuple[int, int]:
    """1-based line and column of character `offset` of `data`."""
    line = data.count("\n", 0, offset) + 1
    return line, offset - (data.rfind("\n", 0, offset) + 1) + 1


def _check_regular(info: os.stat_result, limit: int) -> None:
    mode = info.st_mode
    if not stat.S_ISREG(mode):
        raise Refused(f"is not a regular file (it is {_file_type(mode)})")
    if info.st_size > limit:
        raise Refused(f"is {info.st_size} bytes; at most {size_text(limit)} is read")


def _file_type(mode: int) -> str:
    for test, name in ((stat.S_ISDIR, "a folder"), (stat.S_ISFIFO, "a FIFO"), (stat.S_ISCHR, "a character device"),
                       (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket")):
        if test(mode):
            return name
    return "not a file"


def _hidden(relative: str) -> bool:
    return any(part.startswith(".") and part not in (".", "..") for part in Path(relative).parts)


def _os_reason(exc: OSError, *, reference: bool = False, path: str | None = None) -> str:
    """Why a file cannot be read, for `this manifest ...` or `instructions_file ...` (`reference`)."""
    if exc.errno == errno.ELOOP:
        return "is a symlink loop"
    if exc.errno == errno.ENOENT:
        if path is not None and os.path.islink(path):
            return "is a symlink to something that does not exist"
        # Only a reference is written relative to something: a manifest is named on the command line.
        return "does not exist (the path is relative to the manifest's folder)" if reference else "does not exist"
    if exc.errno == errno.ENOTDIR:
        return "goes through something that is not a folder"
    if exc.errno in (errno.EACCES, errno.EPERM):
        return "cannot be read (permission denied)"
    return f"cannot be read ({exc.strerror or 'error'})"
