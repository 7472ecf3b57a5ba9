"""Assembly of the offline model from chunk packages, with small fake distributions.

Each fake distribution is a real ``*.dist-info`` folder (METADATA and RECORD) on sys.path,
so the lookup goes through importlib.metadata exactly as it does for the wheels.
"""

from __future__ import annotations

import hashlib
import importlib
import os
import sys
import tomllib
from pathlib import Path

import pytest

from alex.domain.errors import AlexError, ConfigError
from alex.research import offline_model
from alex.research.offline_model import (
    DEFAULT_MODEL,
    ModelPart,
    ModelSpec,
    OfflineModelError,
    OfflineModelServer,
    assemble_model,
    default_threads,
    locate_parts,
)

# Part 10 comes last although it sorts before part 2: order is the spec's, not the names'.
CHUNKS = {1: b"GGUF-first-chunk|", 2: b"second-chunk|" * 3, 10: b"last"}
JOINED = CHUNKS[1] + CHUNKS[2] + CHUNKS[10]


def make_dist(root: Path, name: str, version: str, files: dict[str, bytes]) -> None:
    """An installed distribution as a wheel leaves it: package files plus dist-info."""
    info = root / f"{name.replace('-', '_')}-{version}.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
    records = []
    for relative, data in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        records.append(f"{relative},,")
    records += [f"{info.name}/METADATA,,", f"{info.name}/RECORD,,"]
    (info / "RECORD").write_text("\n".join(records) + "\n")


def part(number: int, version: str = "1.0.0") -> ModelPart:
    return ModelPart(f"alex-fake-part{number}", version, f"alex_fake_part{number}/data/p.bin")


def fake_spec(content: bytes = JOINED, numbers: tuple[int, ...] = (1, 2, 10)) -> ModelSpec:
    return ModelSpec(
        name="fake-model",
        filename="fake-model.gguf",
        sha256=hashlib.sha256(content).hexdigest(),
        size=len(content),
        parts=tuple(part(number) for number in numbers),
    )


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A site-packages folder on sys.path holding the three fake part distributions."""
    root = tmp_path / "site"
    for number, data in CHUNKS.items():
        make_dist(root, f"alex-fake-part{number}", "1.0.0", {part(number).path: data})
    monkeypatch.syspath_prepend(str(root))
    importlib.invalidate_caches()
    return root


@pytest.fixture
def cache(tmp_path: Path) -> Path:
    return tmp_path / "cache"


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


def test_parts_are_joined_in_the_spec_order(site: Path, cache: Path) -> None:
    path = assemble_model(cache, fake_spec())
    assert path == cache / "fake-model.gguf"
    assert path.read_bytes() == JOINED
    assert leftovers(cache) == []


def test_parts_are_found_through_the_installed_metadata(site: Path) -> None:
    files = locate_parts(fake_spec())
    assert files == [site / part(n).path for n in (1, 2, 10)]


def test_a_sha256_mismatch_raises_and_leaves_no_file(site: Path, cache: Path) -> None:
    spec = fake_spec(content=JOINED + b"!")  # the parts no longer add up to it
    with pytest.raises(OfflineModelError, match="sha256") as raised:
        assemble_model(cache, spec)
    assert isinstance(raised.value, ConfigError)
    assert isinstance(raised.value, AlexError)
    assert "uv sync --extra local-llm" in raised.value.message
    assert list(cache.iterdir()) == []


def test_a_failed_write_keeps_the_previous_file_and_leaves_no_temp(
    site: Path, cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache.mkdir()
    stale = cache / "fake-model.gguf"
    stale.write_bytes(b"an older, wrong model")

    def disk_full(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(offline_model.os, "fsync", disk_full)
    with pytest.raises(OfflineModelError, match="No space left"):
        assemble_model(cache, fake_spec())
    assert stale.read_bytes() == b"an older, wrong model"  # never half-replaced
    assert leftovers(cache) == []


def test_a_verified_file_is_reused_without_the_parts_or_a_hash(
    site: Path, cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spec = fake_spec()
    path = assemble_model(cache, spec)
    first_mtime = path.stat().st_mtime_ns

    def refuse(*args: object) -> None:
        raise AssertionError("should not be called")

    monkeypatch.setattr(offline_model, "locate_parts", refuse)
    monkeypatch.setattr(offline_model, "_sha256_of", refuse)
    assert assemble_model(cache, spec) == path
    assert path.stat().st_mtime_ns == first_mtime


def test_a_file_changed_since_its_marker_is_hashed_again(
    site: Path, cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spec = fake_spec()
    path = assemble_model(cache, spec)
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 5_000_000_000))  # touched
    hashed: list[Path] = []
    real_hash = offline_model._sha256_of

    def counting(target: Path) -> str:
        hashed.append(target)
        return real_hash(target)

    monkeypatch.setattr(offline_model, "_sha256_of", counting)
    assert assemble_model(cache, spec) == path
    assert hashed == [path]  # same bytes: verified again, not rebuilt
    assert assemble_model(cache, spec) == path
    assert hashed == [path]  # and the marker is current again


def test_a_corrupted_file_of_the_right_size_is_rebuilt(site: Path, cache: Path) -> None:
    spec = fake_spec()
    path = assemble_model(cache, spec)
    path.write_bytes(b"X" * spec.size)
    assert assemble_model(cache, spec).read_bytes() == JOINED


def test_a_file_without_marker_is_verified_by_hash(site: Path, cache: Path) -> None:
    spec = fake_spec()
    cache.mkdir()
    (cache / spec.filename).write_bytes(JOINED)  # e.g. copied by hand
    assert assemble_model(cache, spec).read_bytes() == JOINED
    assert (cache / f"{spec.filename}.verified.json").is_file()


def test_missing_packages_name_the_extra_to_install(site: Path, cache: Path) -> None:
    spec = fake_spec(numbers=(1, 2, 3, 10))  # part 3 is not installed
    with pytest.raises(OfflineModelError) as raised:
        assemble_model(cache, spec)
    message = raised.value.message
    assert "alex-fake-part3==1.0.0 is not installed" in message
    assert "alex-fake-part1" not in message
    assert "`uv sync --extra local-llm`" in message
    assert not cache.exists() or list(cache.iterdir()) == []


def test_another_installed_version_is_refused(site: Path, cache: Path) -> None:
    spec = ModelSpec("m", "m.gguf", hashlib.sha256(CHUNKS[1]).hexdigest(), 17, (part(1, "2.0"),))
    with pytest.raises(OfflineModelError, match=r"alex-fake-part1 is 1\.0\.0, the model needs 2"):
        locate_parts(spec)


def test_a_distribution_without_the_part_file_is_refused(tmp_path: Path, site: Path) -> None:
    make_dist(site, "alex-fake-part7", "1.0.0", {"alex_fake_part7/__init__.py": b""})
    importlib.invalidate_caches()
    spec = ModelSpec("m", "m.gguf", "0" * 64, 1, (part(7),))
    with pytest.raises(OfflineModelError, match=r"has no file alex_fake_part7/data/p\.bin"):
        locate_parts(spec)


def test_the_dev_group_installs_the_extra_so_uv_run_has_the_default_model() -> None:
    # `uv run` syncs the dev group: `uv run alex serve` then `alex research` works offline,
    # and `uv run pytest` runs the offline model's tests on a fresh clone.
    pyproject = Path(__file__).resolve().parents[2] / "pyproject.toml"
    dev = tomllib.loads(pyproject.read_text("utf-8"))["dependency-groups"]["dev"]
    extras = {
        extra.strip()
        for spec in dev
        if spec.startswith("alex[")
        for extra in spec[len("alex[") : spec.index("]")].split(",")
    }
    default_extra = DEFAULT_MODEL.install_hint.rpartition(" ")[2]  # uv sync --extra <it>
    assert default_extra in extras, dev


def test_the_installed_default_parts_add_up_to_the_pinned_size() -> None:
    files = locate_parts(DEFAULT_MODEL)  # installed with the dev group: no skip
    assert sum(f.stat().st_size for f in files) == DEFAULT_MODEL.size


def test_threads_stay_between_one_and_eight() -> None:
    assert 1 <= default_threads() <= 8


def test_the_server_without_xllamacpp_says_how_to_install_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "xllamacpp", None)  # import fails as if not installed
    server = OfflineModelServer(tmp_path / "model.gguf")
    with pytest.raises(OfflineModelError, match="uv sync --extra local-llm"):
        server.start()
    assert not server.running
    with pytest.raises(OfflineModelError, match="not running"):
        _ = server.base_url


def test_importing_alex_does_not_import_xllamacpp() -> None:
    import subprocess

    code = (
        "import sys, alex.research.offline_model, alex.cli; "
        "assert 'xllamacpp' not in sys.modules, 'imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
