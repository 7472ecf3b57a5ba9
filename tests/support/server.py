"""``alex serve`` as its own process, for tests and benchmarks: a free loopback port, a
temporary data folder, ``.env`` and API key of its own, its log in a file.

Every start is isolated: no ``ALEX_*`` setting of the caller leaks in. ``running_server``
removes its temporary folder afterwards.
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

API_KEY_HEADER = "x-api-key"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Deadline:
    """An overall time budget: every wait in a run is cut to what is left of it."""

    def __init__(self, seconds: float) -> None:
        self.end = time.monotonic() + seconds

    def left(self) -> float:
        return max(0.0, self.end - time.monotonic())

    def expired(self) -> bool:
        return time.monotonic() >= self.end


def server_env(data_dir: Path, env_file: Path, api_key: str | None) -> dict[str, str]:
    """The environment of an isolated server: no ALEX_* setting of the caller leaks in.

    Without ``api_key`` the server makes one and writes it into ``env_file``, as on a
    user's first ``alex serve``.
    """
    env = {name: value for name, value in os.environ.items() if not name.startswith("ALEX_")}
    env.update(
        ALEX_DATA_DIR=str(data_dir),
        ALEX_ENV_FILE=str(env_file),
        NO_COLOR="1",
        COLUMNS="200",
        PYTHONUNBUFFERED="1",
    )
    if api_key is not None:
        env["ALEX_API_KEY"] = api_key
    return env


class AlexServer:
    """``alex serve`` on a free loopback port, logging to a file; ``--no-samples`` unless
    ``samples``. Its data and ``.env`` are ``work_dir/data`` and ``work_dir/.env``."""

    def __init__(
        self,
        work_dir: Path,
        api_key: str | None,
        *,
        samples: bool = False,
        name: str = "serve",
        startup_timeout: float = 120,
    ) -> None:
        self.work_dir = work_dir
        self.samples = samples
        self.api_key = api_key
        self.data_dir = work_dir / "data"
        self.env_file = work_dir / ".env"
        self.env = server_env(self.data_dir, self.env_file, api_key)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = work_dir / f"{name}-{self.port}.log"
        self.startup_timeout = startup_timeout
        self.process: subprocess.Popen[bytes] | None = None
        self.startup_s = 0.0

    def start(self) -> AlexServer:
        started = time.perf_counter()
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "alex", "serve", "--port", str(self.port)]
                + ([] if self.samples else ["--no-samples"]),
                env=self.env,
                cwd=self.work_dir,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        end = time.monotonic() + self.startup_timeout
        while time.monotonic() < end:
            if self.process.poll() is not None:
                raise RuntimeError(f"alex serve exited early:\n{self.log_tail()}")
            try:
                health = httpx.get(f"{self.url}/health", timeout=2, trust_env=False)
                if health.status_code == 200:
                    self.startup_s = time.perf_counter() - started
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        self.kill()
        raise RuntimeError(f"alex serve did not answer in {self.startup_timeout:.0f} s")

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process else None

    def kill(self) -> None:
        """SIGKILL (kill -9 on POSIX, TerminateProcess on Windows), then reap."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
        if self.process is not None:
            self.process.wait(timeout=30)

    def stop(self, timeout: float = 20) -> None:
        """Ctrl+C (SIGINT) as a user would, SIGKILL if it does not exit in time."""
        if self.process is None or self.process.poll() is not None:
            return
        if os.name == "nt":
            self.process.terminate()
        else:
            self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()

    def log_text(self) -> str:
        try:
            return self.log_path.read_text("utf-8", errors="replace")
        except OSError:
            return ""

    def log_tail(self, lines: int = 30) -> str:
        return "\n".join(self.log_text().splitlines()[-lines:])

    def tracebacks(self) -> int:
        return self.log_text().count("Traceback")

    def client(self, timeout: float) -> httpx.Client:
        if self.api_key is None:
            raise ValueError("this server made its own key (in its .env); give AlexServer one")
        # trust_env=False: a proxy from the environment must not intercept loopback calls.
        return httpx.Client(
            base_url=self.url,
            headers={API_KEY_HEADER: self.api_key},
            timeout=timeout,
            trust_env=False,
        )


@contextmanager
def running_server(work_dir: Path | None, deadline: Deadline, prefix: str) -> Iterator[AlexServer]:
    """A started server in ``work_dir`` (or a temporary folder removed afterwards)."""
    own = work_dir is None
    folder = Path(tempfile.mkdtemp(prefix=f"alex-{prefix}-")) if work_dir is None else work_dir
    folder.mkdir(parents=True, exist_ok=True)
    server = AlexServer(
        folder, secrets.token_urlsafe(24), startup_timeout=min(120, deadline.left())
    )
    try:
        server.start()
        yield server
    finally:
        server.stop()
        if own:
            shutil.rmtree(folder, ignore_errors=True)
