"""Files and folders only their owner may read: the ``.env`` (it holds ``ALEX_API_KEY``)
and the store (the user's documents).

New ones are created owner-only (a umask can only take permission bits away, so it cannot
widen them); existing ones lose their group and other bits. On Windows modes only toggle
the read-only flag and access is governed by ACLs (a user's profile is private by
default), so there these helpers create but never change modes.
"""

from __future__ import annotations

import contextlib
import os
import stat
from pathlib import Path

OWNER_ONLY_FILE = 0o600
OWNER_ONLY_DIR = 0o700

_MODES_MEAN_ACCESS = os.name == "posix"


def restrict(path: Path) -> None:
    """Take the group and other permissions off an existing ``path``; never add any.

    A missing path is ignored, and so is one another user owns (a shared store the user
    may write but not chmod): failing to open it would help no one.
    """
    if not _MODES_MEAN_ACCESS:
        return
    with contextlib.suppress(FileNotFoundError, PermissionError):
        mode = stat.S_IMODE(path.stat().st_mode)
        if mode & 0o077:
            path.chmod(mode & 0o700)


def create_private_file(path: Path) -> None:
    """Create ``path`` empty and owner-only if missing; restrict it if it exists."""
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, OWNER_ONLY_FILE))
    restrict(path)


def create_private_dir(path: Path) -> None:
    """Create ``path`` (and missing parents) with the folder itself owner-only.

    A folder that already exists is left as it is: ``ALEX_DATA_DIR`` may name a folder the
    user shares on purpose, and the files Alex keeps in it are owner-only anyway.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(FileExistsError):
        path.mkdir(mode=OWNER_ONLY_DIR)
