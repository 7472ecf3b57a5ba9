from __future__ import annotations

from pathlib import Path

from alex.envfile import set_env_values


def test_sets_values_keeping_other_lines_and_comments(tmp_path: Path) -> None:
    env = tmp_path / ".env"
    env.write_text(
        "# my settings\nOPENAI_API_KEY=sk-keep\nALEX_API_KEY=old\nexport ALEX_API_KEY=dup\n"
    )
    set_env_values(env, {"ALEX_API_KEY": "new", "ALEX_API_ENDPOINT": "http://localhost:8000"})
    assert env.read_text().splitlines() == [
        "# my settings",
        "OPENAI_API_KEY=sk-keep",
        "ALEX_API_KEY=new",
        "ALEX_API_ENDPOINT=http://localhost:8000",
    ]


def test_creates_the_file(tmp_path: Path) -> None:
    env = tmp_path / "sub" / ".env"
    set_env_values(env, {"A": "1"})
    assert env.read_text() == "A=1\n"
    assert not list(tmp_path.glob("sub/*.tmp"))
