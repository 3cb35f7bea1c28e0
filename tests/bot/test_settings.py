"""Settings: typed, from an environ mapping, one clear line naming a bad variable."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from pathlib import Path

import pytest

from bot.errors import SettingsError
from bot.settings import SETTINGS, SETTINGS_DOC, Settings
from tests.conftest import itbot


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
        ("ITBOT_FLOW_TIMEOUT_MINUTES", "half an hour", "whole number above 0"),
        ("ITBOT_SERVICEDESK_POLL_SECONDS", "1.5", "whole number above 0"),
        ("ITBOT_SERVICEDESK_TIMEOUT", "soon", "number above 0"),
        ("ITBOT_SERVICEDESK_TIMEOUT", "nan", "number above 0"),
        ("ITBOT_SERVICEDESK_TIMEOUT", "-2", "number above 0"),
        ("ITBOT_SERVICEDESK", "zendesk", "rt, jira or servicenow"),
        ("ITBOT_COUNCILS", "[{not json", "JSON list of councils"),
        ("ITBOT_COUNCILS", "[]", "non-empty list"),
        ("ITBOT_SERVICEDESK_OPTIONS", "[1, 2]", "JSON object"),
        ("ITBOT_TICKET_PREFIX", "A1", "2 to 8 letters"),
        ("ITBOT_WORKING_HOURS", "17:00-08:30", "opening first"),
        ("ITBOT_CLOSURE_DAYS", "12-32", "not a real date"),
        ("ITBOT_DESK_AGENTS", "sam, alex@dacorum.gov.uk", "not an email address"),
        ("ITBOT_SLACK_TRIAGE_CHANNEL", "#it-triage", "Slack id starting C or G"),
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


def test_the_external_desk_timeout_is_a_float() -> None:
    assert Settings.from_environ({"ITBOT_SERVICEDESK_TIMEOUT": "2.5"}).servicedesk_timeout == 2.5
    assert Settings.from_environ({}).servicedesk_timeout == 10.0


def test_the_documented_servicedesk_user_is_the_default() -> None:
    assert Settings.from_environ({}).servicedesk_user == "itbot"
    assert ("ITBOT_SERVICEDESK_USER", "`itbot`") in [(n, d) for n, d, _ in SETTINGS_DOC]


def test_every_documented_default_is_the_real_default() -> None:
    """The README shows each default from the declaration, and it reads back as that value."""
    plain = Settings()
    assert Settings.from_environ({}) == plain
    for s in SETTINGS:
        if not s.attr:
            continue
        assert getattr(plain, s.attr) == s.default, s.env
        if s.default is not None and s.default != ():
            assert s.parse(s.text(s.default)) == s.default, s.env
        if s.shown is None:
            assert s.shown_default == s.show(s.default), s.env


def test_every_field_is_declared_once_with_its_variable() -> None:
    attrs = [s.attr for s in SETTINGS if s.attr]
    assert sorted(attrs) == sorted(f.name for f in dataclasses.fields(Settings))
    names = [s.env for s in SETTINGS]
    assert len(set(names)) == len(names)
    assert all(n.startswith(("ITBOT_", "SLACK_")) for n in names)


def test_the_attributes_other_code_uses_stay() -> None:
    s = Settings.from_environ({"ITBOT_SECRET_KEY": "0123456789abcdef", "ITBOT_PORT": "9000"})
    for name in (
        "database_url host port public_url kb_path cache_dir semantic log_level secret_key "
        "trusted_email_header flow_timeout_minutes desk_name councils slack_bot_token "
        "slack_signing_secret slack_app_token slack_api_url slack_triage_channel "
        "slack_agent_group desk_agents ticket_prefix working_hours closure_days servicedesk "
        "servicedesk_url servicedesk_user servicedesk_token servicedesk_webhook_secret "
        "servicedesk_options servicedesk_timeout servicedesk_poll_seconds"
    ).split():
        assert hasattr(s, name), name
    assert s.secret_key is not None and s.secret_key.reveal() == "0123456789abcdef"
    assert s.base_url == "http://127.0.0.1:9000"
    assert s.council("dacorum").name == "Dacorum Borough Council"
    with pytest.raises(dataclasses.FrozenInstanceError):
        s.port = 1  # type: ignore[misc]


def test_values_parse_to_their_types(tmp_path: Path) -> None:
    s = Settings.from_environ(
        {
            "ITBOT_SEMANTIC": "OFF",
            "ITBOT_SERVICEDESK": "Jira",
            "ITBOT_WORKING_HOURS": "09:00 - 17:30",
            "ITBOT_DESK_AGENTS": "Sam.Taylor@dacorum.gov.uk, alex.jones@aylesburyvaledc.gov.uk",
            "ITBOT_TICKET_PREFIX": "abc",
            "ITBOT_SERVICEDESK_OPTIONS": '{"queue": "IT"}',
            "ITBOT_KB_PATH": str(tmp_path),
            "ITBOT_SLACK_API_URL": "http://127.0.0.1:9999/api",
        }
    )
    assert (s.semantic, s.servicedesk, s.working_hours) == ("off", "jira", ("09:00", "17:30"))
    assert s.desk_agents == ("sam.taylor@dacorum.gov.uk", "alex.jones@aylesburyvaledc.gov.uk")
    assert (s.ticket_prefix, s.servicedesk_options) == ("ABC", {"queue": "IT"})
    assert (s.kb_path, s.slack_api_url) == (tmp_path, "http://127.0.0.1:9999/api/")


def test_a_bad_value_in_the_file_names_the_variable(tmp_path: Path) -> None:
    config = tmp_path / "itbot.toml"
    config.write_text('servicedesk_timeout = "soon"\n')
    with pytest.raises(SettingsError) as info:
        Settings.from_environ({"ITBOT_CONFIG": str(config)})
    assert str(info.value).startswith("ITBOT_SERVICEDESK_TIMEOUT must be a number above 0")

    config.write_text(
        'servicedesk_timeout = 2.5\nslack_api_url = "http://x"\n[[councils]]\nkey = 1\n'
    )
    with pytest.raises(SettingsError) as info:
        Settings.from_environ({"ITBOT_CONFIG": str(config)})
    assert str(info.value) == "ITBOT_CONFIG [[councils]] council #1 is missing 'domains'"

    config.write_text("servicedesk_timeout = 2.5\nSLACK_API_URL = 'http://x'\nmystery = 1\n")
    s = Settings.from_environ({"ITBOT_CONFIG": str(config)})
    assert (s.servicedesk_timeout, s.slack_api_url) == (2.5, "http://x/")


@pytest.mark.parametrize(
    ("content", "words"),
    [(None, "does not exist"), ("port = = 1", "is not valid TOML")],
)
def test_a_missing_or_broken_file_names_itbot_config(
    tmp_path: Path, content: str | None, words: str
) -> None:
    config = tmp_path / "itbot.toml"
    if content is not None:
        config.write_text(content)
    with pytest.raises(SettingsError) as info:
        Settings.from_environ({"ITBOT_CONFIG": str(config)})
    assert str(info.value).startswith("ITBOT_CONFIG ") and words in str(info.value)


def test_an_empty_variable_means_the_default_even_over_the_file(tmp_path: Path) -> None:
    config = tmp_path / "itbot.toml"
    config.write_text("port = 9001\n[[councils]]\nkey = 't'\nname = 'T'\ndomains = 't.gov.uk'\n")
    s = Settings.from_environ({"ITBOT_CONFIG": str(config), "ITBOT_PORT": "", "ITBOT_COUNCILS": ""})
    assert s.port == 8080
    assert [(c.key, c.domains) for c in s.councils] == [("t", ("t.gov.uk",))]


def test_itbot_settings_shows_values_with_secrets_hidden(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-very-secret")
    monkeypatch.setenv("ITBOT_TICKET_PREFIX", "ABC")
    code, out = itbot(capsys, "settings")
    assert code == 0
    assert "xoxb-very-secret" not in out
    lines = {line.split()[0]: line.split(None, 1)[1] for line in out.splitlines()}
    assert lines["SLACK_BOT_TOKEN"] == "********"
    assert lines["ITBOT_TICKET_PREFIX"] == "ABC"
    assert lines["ITBOT_SERVICEDESK_USER"] == "itbot  (default)"
    assert lines["ITBOT_WORKING_HOURS"] == "08:30-17:00  (default)"


def test_itbot_settings_markdown_prints_the_readme_table(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from bot.settings import settings_table_markdown

    code, out = itbot(capsys, "settings", "--markdown")
    assert code == 0
    assert out == settings_table_markdown()
    assert "| `ITBOT_SERVICEDESK_USER` | `itbot` |" in out


def test_metrics_and_log_format_settings() -> None:
    settings = Settings.from_environ(
        {
            "ITBOT_METRICS_ADDRESS": "[::1]:9100",
            "ITBOT_METRICS_TOKEN": "scrape-token-0123456789",
            "ITBOT_LOG_FORMAT": "JSON",
        }
    )
    assert settings.metrics_address == ("::1", 9100)
    assert settings.log_format == "json"
    assert "scrape-token" not in repr(settings)
    defaults = Settings.from_environ({})
    assert (defaults.metrics_address, defaults.metrics_token, defaults.log_format) == (
        None,
        None,
        "text",
    )
    for name, raw in (
        ("ITBOT_METRICS_ADDRESS", "nonsense"),
        ("ITBOT_METRICS_ADDRESS", "host:99999"),
        ("ITBOT_METRICS_TOKEN", "short"),
        ("ITBOT_LOG_FORMAT", "xml"),
    ):
        with pytest.raises(SettingsError) as info:
            Settings.from_environ({name: raw})
        assert name in str(info.value)
