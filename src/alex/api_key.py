"""The local server's API key: made by the first ``alex serve``, shown in full only then.

Later starts show it masked with where to find it, and the ready-to-paste commands read it
from the ``.env`` into ``ALEX_API_KEY``, so the key is not left in terminal scrollback and
logs on every start.
"""

from __future__ import annotations

import secrets
import shlex
from dataclasses import dataclass
from pathlib import Path

from dotenv import dotenv_values

from alex.config import Settings
from alex.envfile import set_env_values
from alex.private_files import restrict

_VARIABLE = "ALEX_API_KEY"


def mask(secret: str) -> str:
    """``****`` plus the last 4 characters (all stars when the secret is that short)."""
    return "****" + secret[-4:] if len(secret) > 8 else "****"


@dataclass(frozen=True)
class ServerKey:
    value: str
    created: bool  # made by this start, so shown in full this once
    env_file: Path | None  # the .env holding it; None when it comes from the environment

    @property
    def shown(self) -> str:
        return self.value if self.created else mask(self.value)

    @property
    def where(self) -> str:
        if self.env_file is None:
            return f"{_VARIABLE} from the environment"
        return f"{_VARIABLE} in {self.env_file}"


def ensure_api_key(settings: Settings) -> ServerKey:
    """The key in ALEX_API_KEY, or a new one written into the project's .env.

    The .env is made owner-only here too: one an older Alex wrote world-readable.
    """
    env_file = settings.env_file
    if settings.api_key is not None:
        restrict(env_file)
        # The .env wins over the environment, so the key is the .env's when it has one.
        in_file = env_file.is_file() and bool(dotenv_values(env_file).get(_VARIABLE))
        return ServerKey(settings.api_key.get_secret_value(), False, env_file if in_file else None)
    key = secrets.token_urlsafe(32)
    set_env_values(env_file, {_VARIABLE: key})
    return ServerKey(key, True, env_file)


def _powershell_quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def how_to_query(url: str, key: ServerKey) -> str:
    """Commands for another terminal; they take the key from the .env, never spell it out."""
    body = '{"query": "chip supply risk", "k": 3}'
    bash = [
        f'curl -s -X POST {url}/search -H "x-api-key: $ALEX_API_KEY" '
        f"-H 'content-type: application/json' -d '{body}'"
    ]
    powershell = [
        f"Invoke-RestMethod -Method Post -Uri {url}/search "
        "-Headers @{'x-api-key'=$env:ALEX_API_KEY} -ContentType 'application/json' "
        f"-Body '{body}'"
    ]
    if key.env_file is not None:  # else the variable is already in the environment
        path = str(key.env_file)
        bash.insert(
            0, f"export ALEX_API_KEY=\"$(sed -n 's/^ALEX_API_KEY=//p' {shlex.quote(path)})\""
        )
        powershell.insert(
            0,
            f"$env:ALEX_API_KEY = (Select-String -LiteralPath {_powershell_quote(path)} "
            "-Pattern '^ALEX_API_KEY=(.*)').Matches[0].Groups[1].Value",
        )
    indent = "\n" + " " * 14
    return "\n".join(
        [
            "Query it from another terminal:",
            '  uv run alex search "chip supply risk"',
            "  bash/zsh:   " + indent.join(bash),
            "  PowerShell: " + indent.join(powershell),
        ]
    )
