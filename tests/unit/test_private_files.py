"""Owner-only files and folders: the modes, whatever the umask; a no-op where modes mean little."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from alex import private_files
from alex.private_files import create_private_dir, create_private_file, restrict

pytestmark = pytest.mark.skipif(os.name != "posix", reason="POSIX file modes")


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_new_folder_is_owner_only_and_its_new_parents_are_not_changed(tmp_path: Path) -> None:
    previous = os.umask(0o022)
    try:
        create_private_dir(tmp_path / "a" / "b")
        create_private_file(tmp_path / "a" / "b" / "f")
    finally:
        os.umask(previous)
    assert mode(tmp_path / "a") == 0o755  # only the folder Alex keeps its files in
    assert mode(tmp_path / "a" / "b") == 0o700
    assert mode(tmp_path / "a" / "b" / "f") == 0o600
    assert (tmp_path / "a" / "b" / "f").read_bytes() == b""


def test_an_existing_file_keeps_its_content_and_loses_group_and_other_bits(
    tmp_path: Path,
) -> None:
    path = tmp_path / "f"
    path.write_text("kept")
    path.chmod(0o664)
    create_private_file(path)
    assert mode(path) == 0o600 and path.read_text() == "kept"


def test_a_read_only_file_is_not_made_writable(tmp_path: Path) -> None:
    path = tmp_path / "f"
    path.write_text("kept")
    path.chmod(0o444)
    restrict(path)
    assert mode(path) == 0o400


def test_missing_files_are_ignored_and_nothing_changes_where_modes_mean_little(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    restrict(tmp_path / "missing")
    path = tmp_path / "f"
    path.write_text("x")
    path.chmod(0o644)
    monkeypatch.setattr(private_files, "_MODES_MEAN_ACCESS", False)  # as on Windows
    restrict(path)
    assert mode(path) == 0o644
