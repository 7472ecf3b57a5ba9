"""Which processes are alive, told by lock files: how a local job store knows that the
process which queued or ran a job has ended (``planner_sqlite``).

Each open store holds an exclusive lock on its own file, ``<folder>/<token>.lock``, for as
long as it is open. The operating system releases the lock when the process ends, however it
ends (exit, crash, SIGKILL, power loss), so another process that can take the lock knows the
owner is gone; one that cannot knows it is alive. ``flock`` on POSIX, ``msvcrt.locking`` on
Windows; both lock per open file, so two stores in one process tell each other apart too.
"""

from __future__ import annotations

import contextlib
import os
import sys
import uuid
from pathlib import Path

from alex.private_files import create_private_dir


def _try_lock(fd: int) -> bool:
    """Take the exclusive lock on ``fd`` without waiting; False if another holds it."""
    try:
        if sys.platform == "win32":
            import msvcrt

            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        else:
            import fcntl

            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return False
    return True


def _open(path: Path) -> int:
    return os.open(path, os.O_RDWR | os.O_CREAT, 0o600)


class OwnerLock:
    """This store's lock in ``folder``, held until :meth:`release`; ``token`` names it."""

    def __init__(self, folder: Path) -> None:
        create_private_dir(folder)
        self.folder = folder
        self.token = uuid.uuid4().hex
        self._fd: int | None = _open(self._path(self.token))
        if not _try_lock(self._fd):  # a fresh random name: nobody else can hold it
            raise OSError(f"Cannot lock {self._path(self.token)}")

    def _path(self, token: str) -> Path:
        return self.folder / f"{token}.lock"

    def is_alive(self, token: str) -> bool:
        """Whether the store named ``token`` is still open (in this process or another).
        A dead owner's lock file is removed on the way."""
        if token == self.token:
            return self._fd is not None
        path = self._path(token)
        try:
            fd = os.open(path, os.O_RDWR)
        except FileNotFoundError:
            return False
        try:
            if not _try_lock(fd):
                return True
        finally:
            os.close(fd)  # releases the lock taken, if any, before the file goes
        with contextlib.suppress(OSError):  # another store may be removing it too
            path.unlink()
        return False

    def release(self) -> None:
        if self._fd is None:
            return
        os.close(self._fd)
        self._fd = None
        with contextlib.suppress(OSError):
            self._path(self.token).unlink()
