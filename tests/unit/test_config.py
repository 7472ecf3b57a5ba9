"""Settings: the .env wins over the environment; placeholders and bad values are refused by name."""

from __future__ import annotations

from pathlib import Path

import pytest

from alex.config import DEFAULT_OFFLINE_MODEL, load_settings
from alex.domain.errors import ConfigError
from alex.services import Services


def test_defaults_are_local_and_need_nothing(isolated_settings: Path) -> None:
    settings = load_settings()
    assert settings.backend == "local"
    assert settings.api_key is None
    assert settings.store_path.name == "alex.sqlite3"


def test_env_file_wins_over_environment(
    isolated_settings: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ALEX_API_KEY", "from-the-environment-1234")
    monkeypatch.setenv("ALEX_PORT", "9001")
    isolated_settings.write_text("ALEX_API_KEY=from-the-dotenv-5678\n# a comment\n")
    settings = load_settings()
    assert settings.api_key is not None
    assert settings.api_key.get_secret_value() == "from-the-dotenv-5678"
    assert settings.port == 9001  # not in .env: the environment still counts


@pytest.mark.parametrize(
    "value", ["your-api-key-here", "<your key>", "changeme", "REPLACE_ME", "xxxx", "..."]
)
def test_placeholder_secret_is_refused_naming_the_variable(
    isolated_settings: Path, value: str
) -> None:
    isolated_settings.write_text(f"ALEX_API_KEY={value}\n")
    with pytest.raises(ConfigError, match="ALEX_API_KEY") as raised:
        load_settings()
    # Not just "placeholder": the test's folder name holds that word too.
    assert "ALEX_API_KEY is still the placeholder" in raised.value.message


def test_bad_value_names_the_variable(isolated_settings: Path) -> None:
    isolated_settings.write_text("ALEX_PORT=eighty\n")
    with pytest.raises(ConfigError, match="ALEX_PORT"):
        load_settings()


@pytest.mark.parametrize(
    ("line", "variable", "reason"),
    [
        ("ALEX_LLM_BASE_URL=localhost:8080/v1", "ALEX_LLM_BASE_URL", "absolute http"),
        ("ALEX_LLM_BASE_URL=http://127.0.0.1:99999/v1", "ALEX_LLM_BASE_URL", "Port out of range"),
        ("ALEX_LLM_BASE_URL=https:///v1", "ALEX_LLM_BASE_URL", "absolute http"),
        ("ALEX_RESEARCH_SOURCES=https://ok.example/a, ftp://x/y", "ALEX_RESEARCH_SOURCES", "ftp"),
        ("ALEX_RESEARCH_SOURCES=www.example.com/news", "ALEX_RESEARCH_SOURCES", "absolute"),
    ],
)
def test_a_url_setting_that_is_not_a_web_url_is_refused_at_load(
    isolated_settings: Path, line: str, variable: str, reason: str
) -> None:
    isolated_settings.write_text(line + "\n")
    with pytest.raises(ConfigError, match=variable) as raised:
        load_settings()
    assert reason in raised.value.message


def test_a_research_source_over_2048_characters_is_refused_in_a_short_message(
    isolated_settings: Path,
) -> None:
    long_url = "https://a.example/" + "a" * 1_500_000
    isolated_settings.write_text(f"ALEX_RESEARCH_SOURCES=https://ok.example/, {long_url}\n")
    with pytest.raises(ConfigError, match="ALEX_RESEARCH_SOURCES") as raised:
        load_settings()
    assert "longer than 2,048 characters" in raised.value.message
    assert len(raised.value.message) < 1_000


def test_url_settings_are_read_as_given(isolated_settings: Path) -> None:
    isolated_settings.write_text(
        "ALEX_LLM_BASE_URL=http://127.0.0.1:8080/v1\n"
        "ALEX_RESEARCH_SOURCES=https://a.example/news , http://[::1]:8765/page.html\n"
    )
    settings = load_settings()
    assert settings.llm_base_url == "http://127.0.0.1:8080/v1"
    assert settings.research_sources == ("https://a.example/news", "http://[::1]:8765/page.html")


def test_unknown_backend_is_refused(isolated_settings: Path) -> None:
    isolated_settings.write_text("ALEX_BACKEND=azure\n")
    with pytest.raises(ConfigError, match="ALEX_BACKEND"):
        load_settings()


@pytest.mark.parametrize("value", ["qwen2.5-coder-7b", "1.5b", "Qwen2.5-Coder-1.5B"])
def test_an_unknown_offline_model_is_refused_naming_the_choices(
    isolated_settings: Path, value: str
) -> None:
    isolated_settings.write_text(f"ALEX_OFFLINE_MODEL={value}\n")
    with pytest.raises(ConfigError, match="ALEX_OFFLINE_MODEL") as raised:
        load_settings()
    assert "'qwen2.5-coder-0.5b' or 'qwen2.5-coder-1.5b'" in raised.value.message


def test_the_offline_model_is_read_from_the_env_file(isolated_settings: Path) -> None:
    assert load_settings().offline_model == DEFAULT_OFFLINE_MODEL
    isolated_settings.write_text("ALEX_OFFLINE_MODEL=qwen2.5-coder-1.5b\n")
    assert load_settings().offline_model == "qwen2.5-coder-1.5b"


def test_aws_backend_names_the_missing_variables(isolated_settings: Path) -> None:
    isolated_settings.write_text("ALEX_BACKEND=aws\nSAGEMAKER_ENDPOINT=alex-embeddings\n")
    with pytest.raises(ConfigError) as raised:
        _ = Services(load_settings()).embedder
    assert "OPENSEARCH_ENDPOINT" in raised.value.message
    assert "DEFAULT_AWS_REGION" in raised.value.message
    assert "SAGEMAKER_ENDPOINT" not in raised.value.message


def test_empty_value_counts_as_unset(isolated_settings: Path) -> None:
    isolated_settings.write_text("ALEX_API_KEY=\n")
    assert load_settings().api_key is None


def test_an_empty_number_setting_means_its_default(
    isolated_settings: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ALEX_PORT", "")
    isolated_settings.write_text("ALEX_MAX_TEXT_CHARS=\n")
    settings = load_settings()
    assert settings.port == 8000
    assert settings.max_text_chars == 1_000_000


def test_an_api_key_shorter_than_16_characters_is_refused(isolated_settings: Path) -> None:
    isolated_settings.write_text("ALEX_API_KEY=fifteen-chars-k\n")
    with pytest.raises(ConfigError, match="ALEX_API_KEY") as raised:
        load_settings()
    assert "at least 16 characters" in raised.value.message
    assert "fifteen-chars-k" not in raised.value.message  # never echo a secret


def test_an_api_key_of_16_characters_is_accepted(isolated_settings: Path) -> None:
    isolated_settings.write_text("ALEX_API_KEY=sixteen-chars-ok\n")
    key = load_settings().api_key
    assert key is not None and key.get_secret_value() == "sixteen-chars-ok"


def test_aws_backend_builds_the_cloud_adapters_without_calling_aws(
    isolated_settings: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from alex.adapters.batching_embedder import BatchingEmbedder
    from alex.adapters.opensearch import OpenSearchStore
    from alex.adapters.sagemaker_embedder import SageMakerEmbedder

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    isolated_settings.write_text(
        "ALEX_BACKEND=aws\nSAGEMAKER_ENDPOINT=alex-embeddings\nDEFAULT_AWS_REGION=eu-west-1\n"
        "OPENSEARCH_ENDPOINT=https://abc123.eu-west-1.aoss.amazonaws.com\n"
    )
    services = Services(load_settings())
    embedder = services.embedder
    assert isinstance(embedder, SageMakerEmbedder)
    assert embedder.endpoint_name == "alex-embeddings"
    assert embedder.region == "eu-west-1"
    ingest_embedder = services.ingest_embedder
    assert isinstance(ingest_embedder, BatchingEmbedder) and ingest_embedder._inner is embedder
    assert isinstance(services.store, OpenSearchStore)
    assert services.store.region == "eu-west-1"
