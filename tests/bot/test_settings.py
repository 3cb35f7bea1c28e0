"""Settings: typed, from an environ mapping, one clear line naming a bad variable."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from bot.errors import SettingsError
from bot.settings import SETTINGS_DOC, Settings


def test_defaults_are_the_embedded_default() -> None:
    s = Settings.from_environ({})
    assert s.database_url == "sqlite+aiosqlite:///itbot.db"
    assert (s.host, s.port) == ("127.0.0.1", 8080)
    assert [c.key for c in s.councils] == ["aylesbury-vale", "dacorum"]
    assert not s.slack_enabled


def test_council_comes_from_the_email_domain() -> None:
    s = Settings.from_environ({})
    assert s.council_for_email("sam.taylor@dacorum.gov.uk").key == "dacorum"  # type: ignore[union-attr]
    assert s.council_for_email("Alex.Jones@AylesburyValeDC.gov.uk").key == "aylesbury-vale"  # type: ignore[union-attr]
    assert s.council_for_email("someone@example.com") is None
    assert s.council_for_email("evil@notdacorum.gov.uk") is None


@pytest.mark.parametrize(
    ("variable", "value", "words"),
    [
        ("ITBOT_PORT", "eighty", "whole number"),
        ("ITBOT_PORT", "70000", "whole number"),
        ("ITBOT_DATABASE_URL", "mysql://x", "sqlite+aiosqlite"),
        ("ITBOT_SEMANTIC", "maybe", "auto, on, off"),
        ("ITBOT_KB_PATH", "/no/such/folder", "existing folder"),
        ("ITBOT_SECRET_KEY", "short", "16 characters"),
        ("ITBOT_COUNCILS", '[{"key": "x"}]', "missing"),
        ("ITBOT_LOG_LEVEL", "LOUD", "DEBUG"),
    ],
)
def test_bad_values_name_the_variable(variable: str, value: str, words: str) -> None:
    with pytest.raises(SettingsError) as info:
        Settings.from_environ({variable: value})
    assert str(info.value).startswith(variable)
    assert words in str(info.value)
    assert "\n" not in str(info.value)


def test_postgres_urls_get_the_async_driver() -> None:
    s = Settings.from_environ({"ITBOT_DATABASE_URL": "postgresql://u:p@db:5432/itbot"})
    assert s.database_url == "postgresql+asyncpg://u:p@db:5432/itbot"


def test_toml_file_with_environment_overriding(tmp_path: Path) -> None:
    config = tmp_path / "itbot.toml"
    config.write_text(
        'port = 9001\nhost = "0.0.0.0"\n'
        '[[councils]]\nkey = "test"\nname = "Test Council"\ndomains = ["test.gov.uk"]\n'
    )
    s = Settings.from_environ({"ITBOT_CONFIG": str(config), "ITBOT_PORT": "9002"})
    assert (s.host, s.port) == ("0.0.0.0", 9002)
    assert [c.key for c in s.councils] == ["test"]


def test_secrets_do_not_show_in_repr() -> None:
    s = Settings.from_environ(
        {"SLACK_BOT_TOKEN": "xoxb-very-secret", "SLACK_SIGNING_SECRET": "shh"}
    )
    assert "xoxb-very-secret" not in repr(s)
    assert s.slack_bot_token is not None and s.slack_bot_token.reveal() == "xoxb-very-secret"


def test_cli_reports_a_bad_setting_in_one_line(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bot", "db", "current"],
        env={"ITBOT_PORT": "abc", "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        cwd=tmp_path,
        check=False,
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "itbot: configuration error: ITBOT_PORT must be a whole number from 0 to 65535 (got 'abc')"
    ]


def test_every_setting_is_in_the_readme() -> None:
    readme = (Path(__file__).parents[2] / "README.md").read_text()
    for name, _, _ in SETTINGS_DOC:
        assert f"`{name}`" in readme, f"{name} is missing from the README's configuration table"
