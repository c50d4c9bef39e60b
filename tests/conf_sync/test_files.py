from __future__ import annotations

import os
from pathlib import Path

import pytest

from services.conf_sync.files import ConfDir, ConfError, ConfFile, Rules, check_upload


@pytest.fixture
def conf(tmp_path: Path) -> ConfDir:
    root = tmp_path / "asterisk"
    root.mkdir()
    (root / "sip.conf").write_text("[general]\nold=1\n")
    return ConfDir(root, tmp_path / "backups", keep=3, max_bytes=1000)


@pytest.mark.parametrize(
    "name", ["../evil.conf", "a/b.conf", "x\0.conf", "notes.txt", ".conf", "..conf", "sip.conf.bak", ""]
)
def test_bad_names_are_refused(name: str) -> None:
    with pytest.raises(ConfError):
        check_upload([{"name": name, "content": "x"}], Rules(max_bytes=1000))


def test_oversized_and_non_utf8_content_is_refused() -> None:
    with pytest.raises(ConfError, match="over the limit"):
        check_upload([{"name": "a.conf", "content": "x" * 1001}], Rules(max_bytes=1000))
    with pytest.raises(ConfError, match="not valid UTF-8"):
        check_upload([{"name": "a.conf", "content": "bad \udcff"}], Rules(max_bytes=1000))
    with pytest.raises(ConfError, match="twice"):
        check_upload(
            [{"name": "a.conf", "content": ""}, {"name": "a.conf", "content": ""}], Rules(max_bytes=1000)
        )


def test_write_replaces_atomically_keeping_mode_and_a_bounded_backup(conf: ConfDir) -> None:
    path = conf.root / "sip.conf"
    os.chmod(path, 0o600)
    for n in range(5):
        assert conf.write(ConfFile("sip.conf", f"[general]\nnew={n}\n"))
    assert not conf.write(ConfFile("sip.conf", "[general]\nnew=4\n"))  # same content: untouched
    assert path.read_text() == "[general]\nnew=4\n"
    assert path.stat().st_mode & 0o777 == 0o600
    backups = sorted((conf.backups / "sip.conf").iterdir())
    assert len(backups) == 3 and backups[-1].read_text() == "[general]\nnew=3\n"
    assert [p.name for p in conf.root.iterdir()] == ["sip.conf"]  # no temp files left


def test_a_crash_between_temp_write_and_rename_leaves_the_old_file(conf: ConfDir, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    def crash(*args: object) -> None:
        raise OSError("disk full at the worst moment")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError):
        conf.write(ConfFile("sip.conf", "[general]\nhalf=1\n"))
    assert (conf.root / "sip.conf").read_text() == "[general]\nold=1\n"
    assert [p.name for p in conf.root.iterdir()] == ["sip.conf"]


def test_a_symlink_out_of_the_directory_is_never_read_nor_written(conf: ConfDir, tmp_path: Path) -> None:
    secret = tmp_path / "shadow.conf"
    secret.write_text("root:x:0:0")
    (conf.root / "evil.conf").symlink_to(secret)
    (conf.root / "inside.conf").symlink_to(conf.root / "sip.conf")
    names = [f.name for f in conf.read_all()]
    assert "evil.conf" not in names and "inside.conf" in names
    with pytest.raises(ConfError, match="symlink"):
        conf.write(ConfFile("evil.conf", "pwned"))
    assert secret.read_text() == "root:x:0:0"


def test_non_utf8_files_on_disk_are_skipped(conf: ConfDir) -> None:
    (conf.root / "latin.conf").write_bytes(b"caf\xe9")
    assert [f.name for f in conf.read_all()] == ["sip.conf"]
