"""Choosing and building the directory adapter from the settings."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from bot.access.directories import open_directory
from bot.errors import SettingsError
from bot.settings import Settings
from integrations.identity.demo import DemoDirectory
from integrations.identity.google import GoogleDirectory
from integrations.identity.graph import GraphDirectory
from integrations.identity.ldap import LdapDirectory
from tests.identity import fake_google

LDAP = {
    "ITBOT_DIRECTORY": "ldap",
    "ITBOT_LDAP_URL": "ldap://ldap.councils.example/",
    "ITBOT_LDAP_BASE": "ou=people,dc=councils,dc=example",
    "ITBOT_LDAP_BIND_DN": "cn=itbot,ou=services,dc=councils,dc=example",
    "ITBOT_LDAP_BIND_PASSWORD": "bind-password",
    "ITBOT_LDAP_PRIVILEGED_GROUPS": "cn=admins,ou=groups,dc=councils,dc=example",
    "ITBOT_LDAP_PERSONAL_EMAIL_ATTRIBUTE": "otherMailbox",
}
GRAPH = {
    "ITBOT_DIRECTORY": "graph",
    "ITBOT_GRAPH_TENANT": "contoso",
    "ITBOT_GRAPH_CLIENT_ID": "app",
    "ITBOT_GRAPH_CLIENT_SECRET": "secret",
}


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    made = create_async_engine(f"sqlite+aiosqlite:///{tmp_path / 'itbot.db'}")
    yield made
    await made.dispose()


def without(values: dict[str, str], name: str) -> dict[str, str]:
    return {k: v for k, v in values.items() if k != name}


async def test_the_demo_directory_is_the_default(engine: AsyncEngine) -> None:
    directory = open_directory(Settings.from_environ({}), engine)
    assert isinstance(directory, DemoDirectory) and directory.engine is engine


async def test_ldap_from_its_settings(engine: AsyncEngine) -> None:
    directory = open_directory(Settings.from_environ(LDAP), engine)
    assert isinstance(directory, LdapDirectory)
    assert directory.where == "ldap.councils.example:389"
    assert directory.privileged_groups == ("cn=admins,ou=groups,dc=councils,dc=example",)
    assert directory.personal_email_attribute == "otherMailbox"
    assert directory.flavour == "openldap"


@pytest.mark.parametrize(
    "variable",
    ["ITBOT_LDAP_URL", "ITBOT_LDAP_BASE", "ITBOT_LDAP_BIND_DN", "ITBOT_LDAP_BIND_PASSWORD"],
)
async def test_a_missing_ldap_setting_is_named(engine: AsyncEngine, variable: str) -> None:
    with pytest.raises(SettingsError) as caught:
        open_directory(Settings.from_environ(without(LDAP, variable)), engine)
    assert caught.value.variable == variable
    assert str(caught.value) == f"{variable} must be set when ITBOT_DIRECTORY is ldap"


async def test_active_directory_needs_ldaps(engine: AsyncEngine) -> None:
    with pytest.raises(SettingsError, match="must be ldaps://") as caught:
        open_directory(Settings.from_environ({**LDAP, "ITBOT_LDAP_FLAVOUR": "ad"}), engine)
    assert caught.value.variable == "ITBOT_LDAP_URL"
    secure = {**LDAP, "ITBOT_LDAP_FLAVOUR": "ad", "ITBOT_LDAP_URL": "ldaps://dc1.councils.example"}
    directory = open_directory(Settings.from_environ(secure), engine)
    assert isinstance(directory, LdapDirectory) and directory.where == "dc1.councils.example:636"


async def test_graph_from_its_settings(engine: AsyncEngine) -> None:
    directory = open_directory(Settings.from_environ(GRAPH), engine)
    assert isinstance(directory, GraphDirectory)
    await directory.aclose()
    with pytest.raises(SettingsError) as caught:
        open_directory(Settings.from_environ(without(GRAPH, "ITBOT_GRAPH_CLIENT_SECRET")), engine)
    assert caught.value.variable == "ITBOT_GRAPH_CLIENT_SECRET"
    assert "secret" not in str(caught.value).replace("SECRET", "")


async def test_google_from_its_settings(engine: AsyncEngine, tmp_path: Path) -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    credentials = fake_google.service_account(tmp_path, key)
    google = {
        "ITBOT_DIRECTORY": "google",
        "ITBOT_GOOGLE_CREDENTIALS": str(credentials),
        "ITBOT_GOOGLE_ADMIN": "itbot-admin@dacorum.gov.uk",
    }
    directory = open_directory(Settings.from_environ(google), engine)
    assert isinstance(directory, GoogleDirectory)
    await directory.aclose()
    with pytest.raises(SettingsError) as caught:
        open_directory(Settings.from_environ(without(google, "ITBOT_GOOGLE_ADMIN")), engine)
    assert caught.value.variable == "ITBOT_GOOGLE_ADMIN"
    missing = {**google, "ITBOT_GOOGLE_CREDENTIALS": str(tmp_path / "nowhere.json")}
    with pytest.raises(SettingsError, match="ITBOT_GOOGLE_CREDENTIALS is not usable"):
        open_directory(Settings.from_environ(missing), engine)
