from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from dotenv import dotenv_values

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


owner_only = pytest.mark.skipif(os.name != "posix", reason="POSIX file modes")


@owner_only
def test_a_new_file_is_readable_by_its_owner_only(tmp_path: Path) -> None:
    previous = os.umask(0)  # the widest umask: the mode must not depend on it
    try:
        env = tmp_path / ".env"
        set_env_values(env, {"ALEX_API_KEY": "k" * 43})
    finally:
        os.umask(previous)
    assert stat.S_IMODE(env.stat().st_mode) == 0o600


@owner_only
def test_a_world_readable_file_is_tightened_when_rewritten(tmp_path: Path) -> None:
    env = tmp_path / ".env"
    env.write_text("OPENAI_API_KEY=sk-keep\n")
    env.chmod(0o644)  # as older versions left it
    set_env_values(env, {"ALEX_API_KEY": "k" * 43})
    assert stat.S_IMODE(env.stat().st_mode) == 0o600
    assert env.read_text() == f"OPENAI_API_KEY=sk-keep\nALEX_API_KEY={'k' * 43}\n"


def test_values_read_back_as_written(tmp_path: Path) -> None:
    env = tmp_path / ".env"
    values = {"PLAIN": "abc-123_x.y:z/0", "SPACES": "a b # not a comment", "QUOTE": "it's \\ \""}
    set_env_values(env, values)
    assert dotenv_values(env) == values


def test_blank_lines_around_a_replaced_value_stay(tmp_path: Path) -> None:
    env = tmp_path / ".env"
    env.write_text("# section\n\nALEX_API_KEY=old\n  \nOTHER=1")  # no final newline
    set_env_values(env, {"ALEX_API_KEY": "new-key-0123456789", "ADDED": "2"})
    assert env.read_text() == "# section\n\nALEX_API_KEY=new-key-0123456789\n  \nOTHER=1\nADDED=2\n"
    assert sorted(path.name for path in tmp_path.iterdir()) == [".env"]  # no temporary left
