"""The guides' commands and paths exist: every `alex ...`, `uv run ...` and `npx osls ...`
in a command block, with the options it uses, and every repository path the guides name.

Commands are checked against what the tools themselves declare: `alex <command> --help`
(Typer), `python -m alex.cloud_env`'s argument parser, the importable modules behind
`uv run python -m ...`, and osls's own command schema (read with Node). Nothing is run for
real: a guide's commands deploy to AWS.
"""

from __future__ import annotations

import json
import re
import shlex
import shutil
import subprocess
import tomllib
from functools import cache
from importlib.util import find_spec
from pathlib import Path

import pytest
from typer.testing import CliRunner

from alex.cli import app
from alex.cloud_env import _parser as cloud_env_parser
from tests.deploy.helpers import ensure_node_tools

ROOT = Path(__file__).resolve().parents[2]
GUIDES = sorted((ROOT / "guides").glob("*.md"))
# The README and the reference docs are held to the same rule for their commands.
DOCUMENTS = [*GUIDES, ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
SHELLS = {"bash", "sh", "shell", "powershell", "pwsh", "ps1", "console", ""}
FENCE = re.compile(r"^```([\w-]*)[^\n]*\n(.*?)^```", re.S | re.M)
runner = CliRunner()


def command_lines(markdown: str) -> list[str]:
    """Each command of the shell blocks, continuation lines (\\ or `) joined, comments cut."""
    commands: list[str] = []
    for language, body in FENCE.findall(markdown):
        if language.lower() not in SHELLS:
            continue
        joined = re.sub(r"\s*[\\`]\n\s*", " ", body)
        for line in joined.splitlines():
            line = re.sub(r"^\s*(\$|PS>|PS [^>]*>)\s*", "", line)
            line = line.split(" #", 1)[0].strip()
            if line and not line.startswith("#"):
                commands.append(line)
    return commands


def words(line: str) -> list[str]:
    try:
        return shlex.split(line, posix=True)
    except ValueError:  # PowerShell quoting shlex does not know
        return line.split()


def options_of(args: list[str]) -> list[str]:
    return [arg.split("=", 1)[0] for arg in args if arg.startswith("-") and arg not in ("-", "--")]


@cache
def alex_help(path: tuple[str, ...]) -> str:
    result = runner.invoke(app, [*path, "--help"])
    assert result.exit_code == 0, f"`alex {' '.join(path)}` does not exist"
    return result.output


def check_alex(args: list[str]) -> None:
    path: list[str] = []
    for arg in args:
        if arg not in _subcommands(tuple(path)):
            break
        path.append(arg)
    first = next((arg for arg in args if not arg.startswith("-")), None)
    assert path or first is None, f"`alex {' '.join(args)}`: no such command"
    help_text = alex_help(tuple(path))
    for option in options_of(args):
        assert re.search(rf"(?<![\w-]){re.escape(option)}(?![\w-])", help_text), (
            f"`alex {' '.join(path)}` has no option {option}"
        )


@cache
def _subcommands(path: tuple[str, ...]) -> list[str]:
    text = alex_help(path)
    section = text.split("Commands", 1)[1] if "Commands" in text else ""
    return re.findall(r"│\s+([a-z][\w-]*)\s", section)


@cache
def osls_schema() -> dict[str, list[str]]:
    ensure_node_tools()  # skips without Node.js; runs `npm ci` on a fresh clone
    node = shutil.which("node")
    assert node is not None
    script = (
        "const s = require('./node_modules/osls/lib/cli/commands-schema');"
        "const o = {}; for (const [n, c] of s) o[n] = Object.keys(c.options || {});"
        "console.log(JSON.stringify(o));"
    )
    out = subprocess.run([node, "-e", script], cwd=ROOT, capture_output=True, text=True, check=True)
    schema: dict[str, list[str]] = json.loads(out.stdout)
    return schema


def check_osls(args: list[str]) -> None:
    schema = osls_schema()
    positional = [arg for arg in args if not arg.startswith("-")]
    command = next(
        (" ".join(positional[:n]) for n in (2, 1) if " ".join(positional[:n]) in schema), None
    )
    assert command is not None, f"`npx osls {' '.join(args)}`: no such osls command"
    allowed = set(schema[command]) | {"s", "r", "f", "e", "p", "d", "c"}  # short forms
    for option in options_of(args):
        assert option.lstrip("-") in allowed, f"`npx osls {command}` has no option {option}"


def check_uv_run(args: list[str]) -> None:
    assert args, "`uv run` with nothing to run"
    tool, rest = args[0], args[1:]
    if tool == "alex":
        check_alex(rest)
    elif tool in ("python", "python3") and rest[:1] == ["-m"]:
        module, module_args = rest[1], rest[2:]
        assert find_spec(module) is not None, f"`python -m {module}`: no such module"
        if module == "alex.cloud_env":
            known = {
                option for action in cloud_env_parser()._actions for option in action.option_strings
            }
            for option in options_of(module_args):
                assert option in known, f"`alex.cloud_env` has no option {option}"
        if module == "alex":
            check_alex(module_args)
    elif tool in ("python", "python3"):
        script = next((arg for arg in rest if not arg.startswith("-")), None)
        if script and script.endswith(".py"):
            assert (ROOT / script).is_file(), f"`uv run python {script}`: no such file"
    else:
        assert tool in ("pytest", "ruff", "mypy"), f"`uv run {tool}`: not a tool of this project"


def check_uv_sync(args: list[str]) -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))
    extras = set(project["project"]["optional-dependencies"])
    for option, value in zip(args, [*args[1:], ""], strict=True):
        if option == "--extra":
            assert value in extras, f"`uv sync --extra {value}`: no such extra"
        elif option.startswith("-"):
            assert option in ("--locked", "--frozen", "--all-extras", "--no-dev"), option


def check_command(line: str) -> int:
    """Check one shell line's alex/uv/osls commands; how many it checked."""
    checked = 0
    for part in re.split(r"\s*(?:&&|\|\||;|\|)\s*", line):
        args = words(part)
        while args and "=" in args[0] and not args[0].startswith("-"):
            args = args[1:]  # VAR=value prefixes
        if args[:2] == ["uv", "sync"]:
            check_uv_sync(args[2:])
        elif args[:2] == ["uv", "run"]:
            check_uv_run([a for a in args[2:] if not a.startswith("--extra")])
        elif args[:2] == ["npx", "osls"]:
            check_osls(args[2:])
        elif args[:1] == ["alex"]:
            check_alex(args[1:])
        else:
            continue
        checked += 1
    return checked


# Repository paths (a folder of this project, then a name), and the root files by name. A
# bare file name elsewhere is something the reader creates (body.json) or a concept.
PATH = re.compile(
    r"`((?:\./)?(?:src|tests|services|infrastructure|guides|docs|bench|scripts|samples|\.ci)"
    r"/[\w./-]*|README\.md|pyproject\.toml|package(?:-lock)?\.json|serverless-compose\.yml"
    r"|uv\.lock|\.env\.example)`"
)


def test_there_are_guides() -> None:
    assert GUIDES, "guides/*.md"


@pytest.mark.parametrize("guide", DOCUMENTS, ids=lambda path: path.name)
def test_every_command_in_the_guide_exists_with_its_options(guide: Path) -> None:
    for line in command_lines(guide.read_text("utf-8")):
        check_command(line)


def missing_paths(markdown: str) -> list[str]:
    missing = []
    for path in PATH.findall(markdown):
        # Placeholders, globs, and files that a step creates (.env, the pushed image's URI).
        generated = path.startswith(".env") or Path(path).name.startswith("image-")
        if any(mark in path for mark in ("<", "*", "{")) or generated:
            continue
        if not (ROOT / path).exists():
            missing.append(path)
    return missing


@pytest.mark.parametrize("guide", [*GUIDES, ROOT / "README.md"], ids=lambda path: path.name)
def test_every_path_the_guide_names_exists(guide: Path) -> None:
    missing = missing_paths(guide.read_text("utf-8"))
    assert not missing, f"{guide.name} names paths that do not exist: {missing}"


def test_the_checker_catches_what_does_not_exist() -> None:
    with pytest.raises(AssertionError, match="no option --nope"):
        check_command("uv run alex search x --nope")
    with pytest.raises(AssertionError, match="no such command"):
        check_command("uv run alex frobnicate")
    with pytest.raises(AssertionError, match="no such module"):
        check_command("uv run python -m alex.nothing_here")
    with pytest.raises(AssertionError, match="has no option --zone"):
        check_command("uv run python -m alex.cloud_env --zone x")
    assert check_command("uv run alex docs list --limit 5 && npx osls deploy --stage dev") == 2
    with pytest.raises(AssertionError, match="no such extra"):
        check_command("uv sync --extra gpu")
    with pytest.raises(AssertionError, match="no such osls command"):
        check_command("npx osls frobnicate")
    assert missing_paths("Edit `src/alex/nope.py` and `README.md`, then `body.json`.") == [
        "src/alex/nope.py"
    ]
    assert command_lines("```bash\nuv run alex search \\\n  x --k 3  # note\n```\n") == [
        "uv run alex search x --k 3"
    ]
