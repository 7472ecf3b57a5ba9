"""Prepare one Lambda service folder for packaging: Alex's code, the shared door, pinned deps.

    uv run python services/common/build_lambda.py services/ingest --requirement pydantic ...
    uv run python services/common/build_lambda.py services/portfolio --ship portfolio ...

The Serverless plugin ``alex_build_plugin.js`` runs this before every ``package``, ``deploy``
and ``invoke local`` (so compose, osls and Serverless v4 all get it); it runs on Windows,
macOS and Linux with no Docker. It writes, in the service folder (all git-ignored):

* ``alex/``: a copy of ``src/alex`` without the local-only modules (the CLI, the FastAPI app,
  the ONNX model and the SQLite store) and without the parts only other services run (the
  documents' cloud adapters unless ``--ship documents``, the portfolio's code unless
  ``--ship portfolio``), so the zip holds only what it can import;
* ``lambda_http.py``: the shared event/response door from ``services/common``;
* ``requirements.txt``: exact pins from ``uv.lock`` (``uv export``) for the top-level packages
  the service names, with their dependencies, evaluated for the Lambda target (CPython 3.12,
  Linux x86_64). boto3 and botocore are left out (the Lambda runtime provides them), and so is
  ``huggingface-hub`` (``tokenizers`` imports it only to download from the Hub, which a
  Lambda never does). serverless-python-requirements installs exactly these pins with
  ``--no-deps``;

and, once per service, a small virtual environment with pip under ``build/lambda-pip/``, the
interpreter serverless-python-requirements runs (``python -m pip``), so the build needs no
system Python or pip, only uv.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

from packaging.markers import Marker
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[2]
SOURCE = ROOT / "src" / "alex"
DOOR = Path(__file__).resolve().parent / "lambda_http.py"
PIP_VENVS = ROOT / "build" / "lambda-pip"

# The Lambda target: python3.12 runtime, x86_64 (see the services' serverless.yml).
TARGET_ENVIRONMENT = {
    "implementation_name": "cpython",
    "implementation_version": "3.12.0",
    "os_name": "posix",
    "platform_machine": "x86_64",
    "platform_python_implementation": "CPython",
    "platform_system": "Linux",
    "python_full_version": "3.12.0",
    "python_version": "3.12",
    "sys_platform": "linux",
}
# Provided by the Lambda Python runtime, or needed only to download models from the Hub.
NEVER_SHIPPED = ("boto3", "botocore", "s3transfer", "huggingface-hub")

# Parts of src/alex a Lambda never imports: the local doors, the CLI's helpers (remote client,
# .env writing) and the local adapters, which pull in FastAPI, Typer, httpx, ONNX Runtime,
# sqlite-vec and the model. Paths relative to src/alex.
LOCAL_ONLY = (
    "__main__.py",
    "research",  # the researcher runs from its own container image (services/researcher)
    "http/research_cloud.py",  # ... as do its door and its AWS adapters
    "adapters/dynamo_jobs.py",
    "adapters/lambda_invoker.py",
    # The planner (issue 14: `alex analyse`, the analysis job) runs in the researcher's image
    # too, with its stores.
    "planner",
    "adapters/planner_dynamo.py",
    "adapters/planner_sqlite.py",
    "adapters/owner_lock.py",
    "cli.py",
    "api_key.py",
    "client.py",
    "terminal.py",
    "cloud_env.py",
    "envfile.py",
    "private_files.py",
    "remote.py",
    "loaders.py",
    "html_text.py",
    "decoding.py",
    "py.typed",
    "http/app.py",
    "http/server.py",
    "http/static",  # Swagger UI's files, for the FastAPI app's /docs
    "web",  # the web pages (templates, CSS, htmx), mounted by http/app.py
    "adapters/local_embedder.py",
    "adapters/sqlite_store.py",
    "adapters/sqlite_file.py",
    "adapters/keyword_index.py",
    "adapters/vector_matrix.py",
    "adapters/minilm/model_graph.onnx",
    # The portfolio's local parts: its CLI (typer), its SQLite store (sqlean), the price
    # sources (httpx; no Lambda fetches prices), the returns maths (no route uses it) and the
    # retirement projection: numpy alone is a 15.7 MB wheel, over the 6 MB zip target, so
    # POST /portfolio/projection is answered by the researcher's image (docs/portfolio.md).
    "portfolio_cli.py",
    "portfolio_tables.py",
    "portfolio/projection.py",
    "portfolio/returns.py",
    "adapters/portfolio_sqlite.py",
    "adapters/price_sources.py",
    "adapters/stored_prices.py",
    "adapters/twelvedata_prices.py",
    # The planner's doors (the planner itself is above): the app serves them, not these zips.
    "planner_cli.py",
    "http/planner_operations.py",  # its routes: the app (alex serve, the researcher's image)
    "http/planner_schemas.py",
)
# Parts only the services that name them ship (``custom.alexBuild.ship`` in serverless.yml,
# ``--ship`` here); every other zip leaves them out. The portfolio's records
# (portfolio/model.py) ship everywhere, since the ports name them.
OPTIONAL = {
    # The documents' cloud adapters (opensearch-py, the SageMaker embedder and its tokenizer):
    # the ingest and search services.
    "documents": (
        "adapters/opensearch",
        "adapters/sagemaker_embedder.py",
        "adapters/batching_embedder.py",
        "adapters/minilm_tokenizer.py",
        "adapters/wordpiece.py",
        "adapters/wordpiece_tables.py",
        "adapters/minilm",
    ),
    "portfolio": (
        "http/portfolio_operations.py",
        "http/portfolio_schemas.py",
        "portfolio/allocation.py",
        "portfolio/classifications.py",
        "portfolio/files.py",
        "portfolio/formats",
        "portfolio/history.py",
        "portfolio/holdings.py",
        "portfolio/service.py",
        "portfolio/summary.py",
        "portfolio/valuation.py",
        "portfolio/xray.py",
        "adapters/portfolio_checks.py",
        "adapters/portfolio_dynamo.py",
        "adapters/aws_clients.py",  # the boto3 client (imported on first use) and error codes
    ),
}
GENERATED = ("alex", "lambda_http.py", "requirements.txt")


def uv_command() -> str:
    # `uv run` exports UV (the running uv binary); otherwise find it on PATH.
    found = os.environ.get("UV") or shutil.which("uv")
    if not found:
        sys.exit("build_lambda.py: uv is not on PATH (https://docs.astral.sh/uv/)")
    return found


def project_dependencies() -> set[str]:
    """Normalised names of Alex's runtime dependencies, the aws extra included."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["project"]
    specs = list(project.get("dependencies", []))
    for extra in project.get("optional-dependencies", {}).values():
        specs.extend(extra)
    return {canonical(Requirement(spec).name) for spec in specs}


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def locked_closure(names: set[str]) -> set[str]:
    """``names`` and everything they depend on in uv.lock (any platform: a superset)."""
    lock = tomllib.loads((ROOT / "uv.lock").read_text("utf-8"))
    graph: dict[str, set[str]] = {}
    for package in lock.get("package", []):
        edges = graph.setdefault(canonical(package["name"]), set())
        edges.update(canonical(dep["name"]) for dep in package.get("dependencies", []))
    seen: set[str] = set()
    pending = list(names)
    while pending:
        name = pending.pop()
        if name not in seen:
            seen.add(name)
            pending.extend(graph.get(name, ()))
    return seen


def locked_requirements(wanted: list[str]) -> list[str]:
    """``name==version`` lines from uv.lock: ``wanted`` and their dependencies, for the target."""
    top_level = project_dependencies()
    unknown = sorted({canonical(name) for name in wanted} - top_level)
    if unknown:
        sys.exit(f"build_lambda.py: {', '.join(unknown)} is not a dependency in pyproject.toml")
    needed = locked_closure({canonical(name) for name in wanted})
    prune = sorted((top_level - needed) | set(NEVER_SHIPPED))
    command = [uv_command(), "export", "--frozen", "--format", "requirements.txt"]
    command += ["--no-dev", "--all-extras", "--no-hashes", "--no-emit-project"]
    command += ["--no-header", "--no-annotate"]
    for name in prune:
        command += ["--prune", name]
    exported = subprocess.run(  # noqa: S603 (our own uv command line)
        command, cwd=ROOT, check=True, capture_output=True, text=True, encoding="utf-8"
    ).stdout
    lines: list[str] = []
    for line in exported.splitlines():
        line = line.strip()
        if not line or line.startswith(("#", "-")):
            continue
        requirement, _, marker = line.partition(";")
        if marker.strip() and not Marker(marker.strip()).evaluate(TARGET_ENVIRONMENT):
            continue
        lines.append(requirement.strip())
    return sorted(lines, key=str.lower)


def left_out(ship: list[str]) -> set[str]:
    """The paths under src/alex a zip that ships the ``ship`` groups of OPTIONAL leaves out."""
    parts = set(LOCAL_ONLY)
    for name, paths in OPTIONAL.items():
        if name not in ship:
            parts.update(paths)
    return parts


def copy_alex(destination: Path, ship: list[str]) -> None:
    skipped = {SOURCE / part for part in left_out(ship)}

    def ignore(folder: str, names: list[str]) -> set[str]:
        return {
            name
            for name in names
            if name == "__pycache__"
            or name.endswith((".pyc", ".pyo"))
            or Path(folder, name) in skipped
        }

    if destination.exists():
        shutil.rmtree(destination)
    shutil.copytree(SOURCE, destination, ignore=ignore)


def pip_python(service: Path) -> Path:
    """An interpreter with pip for serverless-python-requirements (one per service: no races)."""
    venv = PIP_VENVS / service.name
    python = venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    if (
        not python.exists()
        or subprocess.run(  # noqa: S603
            [str(python), "-m", "pip", "--version"], capture_output=True
        ).returncode
    ):
        subprocess.run([uv_command(), "venv", "--seed", "--quiet", str(venv)], check=True)  # noqa: S603
    return python


def build(service: Path, requirements: list[str], ship: list[str]) -> Path:
    if not (service / "serverless.yml").is_file():
        sys.exit(f"build_lambda.py: {service} has no serverless.yml")
    pins = locked_requirements(requirements)
    header = (
        "# Generated by services/common/build_lambda.py from uv.lock for the Lambda target "
        "(CPython 3.12, Linux x86_64). Do not edit.\n"
    )
    (service / "requirements.txt").write_text(header + "\n".join(pins) + "\n", "utf-8")
    copy_alex(service / "alex", ship)
    shutil.copy2(DOOR, service / DOOR.name)
    return pip_python(service)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("service", type=Path, help="the service folder (holds serverless.yml)")
    parser.add_argument(
        "--requirement",
        action="append",
        default=[],
        help="a top-level package from pyproject.toml the service imports (repeatable)",
    )
    parser.add_argument(
        "--ship",
        action="append",
        default=[],
        choices=sorted(OPTIONAL),
        help="a part of Alex the other zips leave out that this service ships (repeatable)",
    )
    parser.add_argument("--clean", action="store_true", help="remove the generated files")
    args = parser.parse_args()
    service = args.service.resolve()
    if args.clean:
        for name in GENERATED:
            path = service / name
            if path.is_dir():
                shutil.rmtree(path)
            elif path.exists():
                path.unlink()
        return
    python = build(service, args.requirement, args.ship)
    # The plugin reads this line to point serverless-python-requirements at pip.
    print(f"ALEX_PIP_PYTHON={python}")


if __name__ == "__main__":
    main()
