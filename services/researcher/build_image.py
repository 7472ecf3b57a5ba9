"""Build the researcher's container image, push it to ECR, and note its URI for the deploy.

    uv run python services/researcher/build_image.py --region eu-west-1
    uv run python services/researcher/build_image.py --local-llm      # with the offline model
    uv run python services/researcher/build_image.py --dry-run        # only print the steps

The same command in bash and PowerShell. It needs Docker (with BuildKit, the default since
Docker 23) and AWS credentials, and:

1. creates the ECR repository (``alex-researcher``, scan on push) if it does not exist;
2. logs Docker in to the account's registry (an ECR token, valid 12 hours);
3. builds ``services/researcher/Dockerfile`` with the REPOSITORY ROOT as the build context
   (the image is built from ``pyproject.toml``, ``uv.lock``, ``src/`` and the ``handler.py``
   and ``entrypoint.sh`` beside the Dockerfile; the ``Dockerfile.dockerignore`` next to it
   keeps everything else out), for
   ``linux/amd64`` (Lambda runs it on x86_64, also when you build on Apple Silicon) and with
   ``--provenance=false`` (otherwise BuildKit pushes a manifest list, which Lambda refuses);
4. pushes it and writes ``services/researcher/image-<region>.json`` with the image's URI by
   digest, which ``npm run deploy`` then uses (see ``image.js``). Or export
   ``ALEX_RESEARCHER_IMAGE_URI`` with the printed value.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import re
import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
DOCKERFILE = HERE / "Dockerfile"
DEFAULT_REPOSITORY = "alex-researcher"
PLATFORM = "linux/amd64"


def resolve_region(given: str | None, environ: dict[str, str] | None = None) -> str:
    """The same lookup as the services' serverless.yml: option, AWS_REGION, AWS_DEFAULT_REGION."""
    env = os.environ if environ is None else environ
    return given or env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or "us-east-1"


def build_command(image: str, *, local_llm: bool = False) -> list[str]:
    """``docker build`` for Lambda: x86_64, a single image (no attestation manifest list),
    the repository root as the context."""
    command = ["docker", "build", "--platform", PLATFORM, "--provenance=false"]
    command += ["--file", str(DOCKERFILE), "--tag", image]
    if local_llm:
        command += ["--build-arg", "ALEX_LOCAL_LLM=true"]
    return [*command, str(ROOT)]


def digest_uri(repo_digests: list[str], repository_uri: str) -> str:
    """``<registry>/<repository>@sha256:...`` from ``docker inspect``'s RepoDigests."""
    for entry in repo_digests:
        name, _, digest = entry.partition("@")
        if name == repository_uri and re.fullmatch(r"sha256:[0-9a-f]{64}", digest):
            return entry
    raise SystemExit(f"No pushed digest for {repository_uri} in {repo_digests}")


def default_tag() -> str:
    """The commit (with -dirty for uncommitted changes) or, outside git, the time."""
    git = shutil.which("git")
    if git:
        head = subprocess.run(  # noqa: S603
            [git, "rev-parse", "--short=12", "HEAD"], cwd=ROOT, capture_output=True, text=True
        )
        if head.returncode == 0:
            dirty = subprocess.run(  # noqa: S603
                [git, "status", "--porcelain"], cwd=ROOT, capture_output=True, text=True
            ).stdout.strip()
            return head.stdout.strip() + ("-dirty" if dirty else "")
    return datetime.now(UTC).strftime("%Y%m%d%H%M%S")


def run(command: list[str], *, dry_run: bool, secret_input: str | None = None) -> str:
    print("+", " ".join(command), flush=True)
    if dry_run:
        return ""
    result = subprocess.run(  # noqa: S603 (our own docker command lines)
        command, input=secret_input, text=True, stdout=subprocess.PIPE, check=False
    )
    if result.returncode != 0:
        raise SystemExit(f"{command[0]} {command[1]} failed (exit code {result.returncode})")
    return result.stdout


def ensure_repository(ecr: Any, name: str) -> str:
    """The repository's URI, creating the repository (scan on push) if needed."""
    try:
        found = ecr.describe_repositories(repositoryNames=[name])["repositories"][0]
        return str(found["repositoryUri"])
    except ecr.exceptions.RepositoryNotFoundException:
        created = ecr.create_repository(
            repositoryName=name, imageScanningConfiguration={"scanOnPush": True}
        )
        print(f"Created the ECR repository {name}")
        return str(created["repository"]["repositoryUri"])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--region", help="AWS region (default: AWS_REGION, else us-east-1)")
    parser.add_argument("--repository", default=DEFAULT_REPOSITORY, help="ECR repository")
    parser.add_argument("--tag", help="image tag (default: the git commit)")
    parser.add_argument(
        "--local-llm", action="store_true", help="include the offline chat model (+0.5 GB)"
    )
    parser.add_argument("--dry-run", action="store_true", help="print the steps, change nothing")
    args = parser.parse_args(argv)
    region = resolve_region(args.region)
    tag = args.tag or default_tag()

    if args.dry_run:
        repository_uri = f"<account>.dkr.ecr.{region}.amazonaws.com/{args.repository}"
        ecr = None
    else:
        if shutil.which("docker") is None:
            raise SystemExit("Docker is not installed or not on PATH (docs/researcher-cloud.md)")
        import boto3

        ecr = boto3.client("ecr", region_name=region)
        repository_uri = ensure_repository(ecr, args.repository)
    registry = repository_uri.split("/")[0]
    image = f"{repository_uri}:{tag}"

    if ecr is not None:
        token = ecr.get_authorization_token()["authorizationData"][0]["authorizationToken"]
        user, _, password = base64.b64decode(token).decode("utf-8").partition(":")
    else:
        user, password = "AWS", ""
    login = ["docker", "login", "--username", user, "--password-stdin", registry]
    run(login, dry_run=args.dry_run, secret_input=password)
    run(build_command(image, local_llm=args.local_llm), dry_run=args.dry_run)
    run(["docker", "push", image], dry_run=args.dry_run)
    if args.dry_run:
        return
    inspect = ["docker", "image", "inspect", "--format", "{{json .RepoDigests}}", image]
    uri = digest_uri(json.loads(run(inspect, dry_run=False)), repository_uri)

    note = HERE / f"image-{region}.json"
    record = {"uri": uri, "tag": tag, "local_llm": args.local_llm}
    note.write_text(json.dumps(record, indent=2) + "\n", "utf-8")
    print(f"\nPushed {image}\n  = {uri}\nWrote {note.relative_to(ROOT)}: `npm run deploy` uses it.")
    print(f"Or set ALEX_RESEARCHER_IMAGE_URI={uri}")


if __name__ == "__main__":
    main()
