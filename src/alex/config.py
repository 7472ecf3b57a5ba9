"""One settings object for every door into Alex.

Values come from the environment and from the project's ``.env``; where both set a
variable the ``.env`` wins, as ``load_dotenv(override=True)`` does in the course scripts.
"""

from __future__ import annotations

import os
import re
import tomllib
from functools import cached_property
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from alex.domain.chunking import CHUNK_OVERLAP
from alex.domain.errors import ConfigError
from alex.domain.validation import MAX_URL_CHARS, Limits, shortened

# Values copied from .env.example and never replaced are refused by name.
_PLACEHOLDER = re.compile(
    r"^(?:<.*>|your[-_ ].*|.*[-_ ]here|change[-_ ]?me|replace[-_ ]?me|todo|tbd|x{3,}|\.{3}|\*+)$",
    re.IGNORECASE,
)

# ALEX_API_KEY's shortest accepted length (`alex serve` generates 43 characters).
MIN_API_KEY_LENGTH = 16

# One ALEX_FETCH_ALLOW_HOSTS entry: a name or IPv4 address, or a bracketed IPv6 address,
# with an optional port. No scheme, path or credentials.
_HOST_PORT = re.compile(r"^(?:\[[0-9A-Fa-f:.]+\]|[^\s:/?#@\[\]]+)(?::(?P<port>\d{1,5}))?$")


# The deployed API (ALEX_BACKEND=aws): a body Lambda accepts within its 6 MiB event limit,
# with room for the event's envelope and JSON escaping; and the chunks one POST /ingest can
# embed within API Gateway's 29 s (bench/cloud_ingest.py, docs/deploy.md).
AWS_MAX_BODY_BYTES = 5_000_000
AWS_MAX_REQUEST_CHUNKS = 200

# Public, server-rendered news pages a run reads when given neither URLs nor
# ALEX_RESEARCH_SOURCES: central banks' press releases (rates, inflation, markets).
DEFAULT_RESEARCH_SOURCES = (
    "https://www.federalreserve.gov/newsevents/pressreleases.htm",
    "https://www.ecb.europa.eu/press/pr/html/index.en.html",
)

# The embedded offline chat models ALEX_OFFLINE_MODEL may name (alex.research.offline_model
# holds their specs), and the one a research run uses when it names none. The choice between
# them is docs/offline-llm.md's "Why the 0.5B model is the default".
OfflineModelName = Literal["qwen2.5-coder-0.5b", "qwen2.5-coder-1.5b"]
DEFAULT_OFFLINE_MODEL: OfflineModelName = "qwen2.5-coder-0.5b"

# Where daily prices and FX rates come from besides the user's own imports.
PricesProvider = Literal["none", "twelvedata"]


def _web_url_problem(url: str) -> str | None:
    """Why ``url`` is not an absolute http(s) URL, or None when it is."""
    if len(url) > MAX_URL_CHARS:
        return f"longer than {MAX_URL_CHARS:,} characters"
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises on a bad port
    except ValueError as error:
        return str(error)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "expected an absolute http:// or https:// URL"
    return None


def _split_list(value: str | None) -> tuple[str, ...]:
    return tuple(entry.strip() for entry in (value or "").split(",") if entry.strip())


def find_project_root() -> Path:
    """The folder holding Alex's pyproject.toml (the clone), else the working directory.

    ``ALEX_PROJECT_ROOT`` overrides. Finding the clone from this file rather than the
    working directory means ``alex`` finds its ``.env`` from any subfolder.
    """
    override = os.environ.get("ALEX_PROJECT_ROOT")
    if override:
        return Path(override).expanduser().resolve()
    for parent in Path(__file__).resolve().parents:
        pyproject = parent / "pyproject.toml"
        if pyproject.is_file():
            try:
                name = tomllib.loads(pyproject.read_text("utf-8")).get("project", {}).get("name")
            except (OSError, tomllib.TOMLDecodeError):
                continue
            if name == "alex":
                return parent
    return Path.cwd().resolve()


def env_file_path(project_root: Path | None = None) -> Path:
    override = os.environ.get("ALEX_ENV_FILE")
    if override:
        return Path(override).expanduser().resolve()
    return (project_root or find_project_root()) / ".env"


class Settings(BaseSettings):
    # env_ignore_empty: ``ALEX_PORT=`` (in .env or the environment) means unset: the default.
    model_config = SettingsConfigDict(
        extra="ignore", populate_by_name=True, frozen=True, env_ignore_empty=True
    )

    project_root: Path = Field(default_factory=find_project_root, alias="ALEX_PROJECT_ROOT")
    backend: Literal["local", "aws"] = Field("local", alias="ALEX_BACKEND")
    api_key: SecretStr | None = Field(None, alias="ALEX_API_KEY")
    api_endpoint: str | None = Field(None, alias="ALEX_API_ENDPOINT")
    data_dir_setting: Path | None = Field(None, alias="ALEX_DATA_DIR")
    host: str = Field("127.0.0.1", alias="ALEX_HOST")
    port: int = Field(8000, alias="ALEX_PORT", ge=1, le=65535)
    max_text_chars: int = Field(1_000_000, alias="ALEX_MAX_TEXT_CHARS", ge=1)
    max_body_bytes: int = Field(16 * 1024 * 1024, alias="ALEX_MAX_BODY_BYTES", ge=1024)
    chunk_overlap: int = Field(CHUNK_OVERLAP, alias="ALEX_CHUNK_OVERLAP", ge=0, le=100)
    embed_batch_size: int = Field(32, alias="ALEX_EMBED_BATCH_SIZE", ge=1, le=512)
    # The aws backend (its adapters arrive with the cloud services).
    aws_region: str | None = Field(None, alias="DEFAULT_AWS_REGION")
    sagemaker_endpoint: str | None = Field(None, alias="SAGEMAKER_ENDPOINT")
    opensearch_endpoint: str | None = Field(None, alias="OPENSEARCH_ENDPOINT")
    # SageMaker calls in flight at once while embedding (the endpoint's MaxConcurrency).
    sagemaker_concurrency: int = Field(2, alias="ALEX_SAGEMAKER_CONCURRENCY", ge=1, le=200)
    # Most chunks one ingest request may embed, 0 for no limit; unset: request_chunk_limit.
    max_request_chunks: int | None = Field(None, alias="ALEX_MAX_REQUEST_CHUNKS", ge=0)
    # The researcher's page fetcher (alex.research.fetch, docs/researcher-fetch.md).
    # Comma-separated host[:port] entries whose loopback/private addresses may be fetched.
    fetch_allow_hosts_setting: str | None = Field(None, alias="ALEX_FETCH_ALLOW_HOSTS")
    fetch_timeout_seconds: float = Field(15.0, alias="ALEX_FETCH_TIMEOUT_SECONDS", gt=0, le=300)
    fetch_max_bytes: int = Field(2_000_000, alias="ALEX_FETCH_MAX_BYTES", ge=1024)
    # The researcher's chat model (alex.research.llm): OpenAI when OPENAI_API_KEY is set,
    # else an OpenAI-compatible server at ALEX_LLM_BASE_URL, else the embedded offline model.
    openai_api_key: SecretStr | None = Field(None, alias="OPENAI_API_KEY")
    llm_base_url: str | None = Field(None, alias="ALEX_LLM_BASE_URL")
    llm_model: str | None = Field(None, alias="ALEX_LLM_MODEL")
    llm_api_key: SecretStr | None = Field(None, alias="ALEX_LLM_API_KEY")
    # Whether the server's model can call tools (small local models often cannot).
    llm_tools: bool = Field(True, alias="ALEX_LLM_TOOLS")
    # Seconds without a request before the embedded offline model is unloaded (0: never).
    llm_idle_seconds: int = Field(600, alias="ALEX_LLM_IDLE_SECONDS", ge=0)
    # Which embedded model, when neither OpenAI nor a server is configured.
    offline_model: OfflineModelName = Field(DEFAULT_OFFLINE_MODEL, alias="ALEX_OFFLINE_MODEL")
    # Comma-separated pages a run reads when it is given no URLs.
    research_sources_setting: str | None = Field(None, alias="ALEX_RESEARCH_SOURCES")
    research_max_turns: int = Field(6, alias="ALEX_RESEARCH_MAX_TURNS", ge=1, le=50)
    research_max_pages: int = Field(6, alias="ALEX_RESEARCH_MAX_PAGES", ge=1, le=20)
    research_timeout_seconds: float = Field(
        600.0, alias="ALEX_RESEARCH_TIMEOUT_SECONDS", gt=0, le=3600
    )
    # One analysis job, every step (docs/planner.md, "The analysis job").
    analysis_timeout_seconds: float = Field(
        900.0, alias="ALEX_ANALYSIS_TIMEOUT_SECONDS", gt=0, le=3600
    )

    # Daily prices and FX rates from the internet (docs/portfolio.md, "Prices from the
    # internet (optional)"): "none" reads only what the user imported; no network call.
    prices_provider: PricesProvider = Field("none", alias="ALEX_PRICES_PROVIDER")
    prices_api_key: SecretStr | None = Field(None, alias="ALEX_PRICES_API_KEY")
    # The portfolio's DynamoDB table (ALEX_BACKEND=aws): the infrastructure stack's
    # PortfolioTableName output, alex-portfolio-<stage> (docs/deploy.md).
    portfolio_table: str | None = Field(None, alias="ALEX_PORTFOLIO_TABLE")
    # The planner's DynamoDB table of analysis jobs and reports (ALEX_BACKEND=aws): the
    # infrastructure stack's PlannerTableName output, alex-planner-<stage> (docs/planner.md).
    planner_table: str | None = Field(None, alias="ALEX_PLANNER_TABLE")

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # .env before the environment: the .env wins.
        return init_settings, dotenv_settings, env_settings, file_secret_settings

    @model_validator(mode="before")
    @classmethod
    def _cloud_body_limit(cls, data: Any) -> Any:
        # Lambda refuses an event over 6 MiB before Alex runs: on the aws backend the
        # default is a body that can arrive (docs/deploy.md, "Limits of the deployed API").
        if not isinstance(data, dict):
            return data
        backend = data.get("ALEX_BACKEND", data.get("backend"))
        given = data.get("ALEX_MAX_BODY_BYTES", data.get("max_body_bytes"))
        if backend == "aws" and given in (None, ""):
            return {**data, "ALEX_MAX_BODY_BYTES": AWS_MAX_BODY_BYTES}
        return data

    @field_validator("fetch_allow_hosts_setting")
    @classmethod
    def _allow_hosts_are_host_port(cls, value: str | None) -> str | None:
        for entry in _split_list(value):
            match = _HOST_PORT.match(entry)
            if match is None or not 0 < int(match["port"] or 1) <= 65535:
                raise ValueError(f"{entry!r} is not host[:port] (e.g. 127.0.0.1:8765, [::1])")
        return value

    @field_validator("llm_base_url", "research_sources_setting")
    @classmethod
    def _urls_are_web_urls(cls, value: str | None) -> str | None:
        # Caught here, a typo names its variable; caught at the first call, it is a 503.
        for url in _split_list(value):
            problem = _web_url_problem(url)
            if problem is not None:
                raise ValueError(f"{shortened(url)!r}: {problem}")
        return value

    @model_validator(mode="after")
    def _refuse_placeholders(self) -> Settings:
        for name, field in type(self).model_fields.items():
            value = getattr(self, name)
            text = value.get_secret_value() if isinstance(value, SecretStr) else value
            if isinstance(text, str) and _PLACEHOLDER.match(text.strip()):
                raise ValueError(f"{field.alias} is still the placeholder {text!r}")
        return self

    @model_validator(mode="after")
    def _api_key_is_long_enough(self) -> Settings:
        # After the placeholder check, which names the problem better. A short key can be
        # guessed by trying; the message never repeats the key.
        if self.api_key is not None and len(self.api_key.get_secret_value()) < MIN_API_KEY_LENGTH:
            raise ValueError(
                f"ALEX_API_KEY must be at least {MIN_API_KEY_LENGTH} characters "
                "(delete it and `alex serve` generates one)"
            )
        return self

    @model_validator(mode="after")
    def _prices_provider_has_a_key(self) -> Settings:
        # Caught at start, not at the first price lookup.
        if self.prices_provider != "none" and self.prices_api_key is None:
            raise ValueError(
                f"ALEX_PRICES_API_KEY must be set for ALEX_PRICES_PROVIDER={self.prices_provider}"
                " (or set ALEX_PRICES_PROVIDER=none to use only imported prices)"
            )
        return self

    @cached_property
    def data_dir(self) -> Path:
        return (self.data_dir_setting or self.project_root / "data").expanduser().resolve()

    @property
    def store_path(self) -> Path:
        return self.data_dir / "alex.sqlite3"

    @property
    def env_file(self) -> Path:
        return env_file_path(self.project_root)

    @property
    def fetch_allow_hosts(self) -> tuple[str, ...]:
        return _split_list(self.fetch_allow_hosts_setting)

    @property
    def research_sources(self) -> tuple[str, ...]:
        if self.research_sources_setting is None:
            return DEFAULT_RESEARCH_SOURCES
        return _split_list(self.research_sources_setting)

    @property
    def request_chunk_limit(self) -> int | None:
        """Most chunks one ingest request may embed (None: no limit).

        ``ALEX_MAX_REQUEST_CHUNKS`` (0: no limit); unset, the aws backend's default keeps
        ``POST /ingest`` within API Gateway's 29 s (docs/deploy.md, "Large documents").
        """
        if self.max_request_chunks is not None:
            return self.max_request_chunks or None
        return AWS_MAX_REQUEST_CHUNKS if self.backend == "aws" else None

    @property
    def limits(self) -> Limits:
        return Limits(max_text_chars=self.max_text_chars)

    def require(self, *names: str) -> None:
        """Fail with the variable's name when a setting the chosen backend needs is missing."""
        missing = [
            field.alias or name
            for name, field in type(self).model_fields.items()
            if (field.alias in names or name in names) and getattr(self, name) is None
        ]
        if missing:
            raise ConfigError(
                f"{', '.join(missing)} must be set (in {self.env_file} or the environment) "
                f"for ALEX_BACKEND={self.backend}"
            )


def load_settings(**overrides: Any) -> Settings:
    """Read the settings, turning pydantic's report into one line that names the variable."""
    env_file = env_file_path()
    try:
        # pydantic-settings takes the .env path as an init keyword mypy does not know.
        source: dict[str, Any] = {"_env_file": env_file, "_env_file_encoding": "utf-8"}
        return Settings(**source, **overrides)
    except ValidationError as error:
        problems = []
        for item in error.errors():
            name = ".".join(str(part) for part in item["loc"]) or "settings"
            message = item["msg"].removeprefix("Value error, ")
            problems.append(message if not item["loc"] else f"{name}: {message}")
        raise ConfigError(
            f"Invalid configuration ({env_file} or the environment): " + "; ".join(problems)
        ) from None
