"""The Asterisk config directory: flat `*.conf` files, read safely and replaced atomically."""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .directives import DirectiveRefused, check_directives

NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.+-]*\.conf$")


class ConfError(ValueError):
    """Bad input: nothing was written."""


@dataclass(frozen=True)
class ConfFile:
    name: str
    content: str


def check_name(name: object) -> str:
    """The name, if it may name a file in the conf directory; ConfError otherwise."""
    if not isinstance(name, str) or "\0" in name or "/" in name or "\\" in name or ".." in name:
        raise ConfError(f"refused file name {name!r}: no '/', '..' or NUL allowed")
    if not NAME.match(name):
        raise ConfError(f"refused file name {name!r}: only plain names ending in .conf")
    return name


@dataclass(frozen=True)
class Rules:
    """What one upload may hold (the CONF_* settings)."""

    max_bytes: int = 1_048_576
    max_files: int = 500
    max_total_bytes: int = 8_388_608
    allow_exec: bool = False
    allow_include_outside: bool = False
    # The conf directory as configured and as resolved: an #include may name either.
    conf_dirs: tuple[str, ...] = ("/etc/asterisk",)


def parse_upload(raw: str | None) -> tuple[Any, bool]:
    """(files, reload) from an upload command's `@json`; ConfError saying what is wrong with it."""
    if not raw:
        raise ConfError("malformed upload: no payload (@json)")
    try:
        payload = json.loads(raw)
    except ValueError as exc:
        raise ConfError(f"malformed upload: the payload is not JSON ({exc})") from exc
    if not isinstance(payload, dict):
        raise ConfError(f"malformed upload: the payload must be an object, not {type(payload).__name__}")
    if "files" not in payload:
        raise ConfError("malformed upload: no files")
    reload = payload.get("reload", True)
    if not isinstance(reload, bool):
        raise ConfError(f"malformed upload: reload must be true or false, not {reload!r}")
    return payload["files"], reload


def check_upload(files: Any, rules: Rules) -> list[ConfFile]:
    """Every file valid, or ConfError naming the first bad one (then nothing at all is written)."""
    if not isinstance(files, list):
        raise ConfError(f"malformed upload: files must be a list, not {type(files).__name__}")
    if len(files) > rules.max_files:
        raise ConfError(f"{len(files)} files in one upload, at most {rules.max_files} (CONF_MAX_FILES)")
    checked: list[ConfFile] = []
    seen: set[str] = set()
    total = 0
    for n, raw in enumerate(files, 1):
        if not isinstance(raw, dict):
            raise ConfError(f"malformed upload: file {n} must be an object with name and content")
        name, content = check_name(raw.get("name")), raw.get("content")
        if name in seen:
            raise ConfError(f"{name} appears twice in one upload")
        seen.add(name)
        if not isinstance(content, str):
            raise ConfError(f"{name}: content must be text")
        size = len(content.encode("utf-8", "surrogatepass"))
        if size > rules.max_bytes:
            raise ConfError(f"{name}: {size} bytes is over the limit of {rules.max_bytes} (CONF_MAX_BYTES)")
        total += size
        if total > rules.max_total_bytes:
            raise ConfError(
                f"the upload is over {rules.max_total_bytes} bytes in all (CONF_MAX_UPLOAD_BYTES)"
            )
        try:
            content.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise ConfError(f"{name}: not valid UTF-8 text") from exc
        try:
            check_directives(name, content, rules.conf_dirs, rules.allow_exec, rules.allow_include_outside)
        except DirectiveRefused as exc:
            raise ConfError(str(exc)) from exc
        checked.append(ConfFile(name, content))
    return checked


class ConfDir:
    def __init__(self, root: str | Path, backup_dir: str | Path, keep: int = 10, max_bytes: int = 1_048_576):
        self.root = Path(root).resolve()
        self.backups = Path(backup_dir)
        self.keep = keep
        self.max_bytes = max_bytes

    def _inside(self, name: str) -> Path:
        check_name(name)
        path = self.root / name
        # A symlink may point anywhere; only one that stays in the directory is followed.
        if path.is_symlink() and path.resolve().parent != self.root:
            raise ConfError(f"{name} is a symlink out of {self.root}: refused")
        return path

    def read_all(self) -> list[ConfFile]:
        """Every readable UTF-8 `*.conf` (skipping, not failing on, what is not)."""
        out = []
        for path in sorted(self.root.glob("*.conf")):
            try:
                target = self._inside(path.name)
                if not target.is_file():
                    continue
                data = target.read_bytes()
                if len(data) > self.max_bytes:
                    continue
                out.append(ConfFile(path.name, data.decode("utf-8")))
            except (ConfError, UnicodeDecodeError, OSError):
                continue
        return out

    def snapshot(self) -> dict[str, tuple[float, int]]:
        out = {}
        for path in self.root.glob("*.conf"):
            try:
                st = path.stat()
                out[path.name] = (st.st_mtime, st.st_size)
            except OSError:
                continue
        return out

    def write(self, file: ConfFile) -> bool:
        """Replace one file atomically (temp + fsync + rename + fsync dir), keeping owner, mode and a backup
        of the old version. False when the content was already the same (nothing touched)."""
        path = self._inside(file.name)
        data = file.content.encode("utf-8")
        old_stat = None
        if path.exists():
            old_stat = path.stat()
            if path.read_bytes() == data:
                return False
            self._backup(path)
        fd, tmp = tempfile.mkstemp(prefix=f".{file.name}.", suffix=".tmp", dir=self.root)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            if old_stat is not None:
                os.chmod(tmp, old_stat.st_mode & 0o7777)
                try:
                    os.chown(tmp, old_stat.st_uid, old_stat.st_gid)
                except PermissionError:
                    pass  # not root: the file keeps our owner, the mode is still kept
            else:
                os.chmod(tmp, 0o640)
            os.replace(tmp, path)
        except BaseException:
            # The old file is untouched until the rename; only the temp file is ours to remove.
            Path(tmp).unlink(missing_ok=True)
            raise
        dir_fd = os.open(self.root, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
        return True

    def _backup(self, path: Path) -> None:
        folder = self.backups / path.name
        folder.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, folder / f"{time.strftime('%Y%m%dT%H%M%S')}-{time.time_ns() % 10**9:09d}")
        versions = sorted(folder.iterdir())
        for old in versions[: max(len(versions) - self.keep, 0)]:
            old.unlink(missing_ok=True)
