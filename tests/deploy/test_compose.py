""".ci/compose.yaml (PostgreSQL, a one-shot migration, two replicas, Caddy in front) checked
without a Docker engine: its structure, the order services start in, and that what it
tells the bot is valid for the bot's settings, CLI and image."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.cli import build_parser
from bot.settings import Settings
from tests.deploy.dockerfile import ROOT, env, one, stages

COMPOSE_FILE = ROOT / ".ci" / "compose.yaml"
COMPOSE: dict[str, Any] = yaml.safe_load(COMPOSE_FILE.read_text())  # anchors and << merged
SERVICES: dict[str, dict[str, Any]] = COMPOSE["services"]
REPLICAS = [name for name, s in SERVICES.items() if name.startswith("bot-")]
RUNTIME = stages()[-1]
#: what an operator exports before `docker compose up` (the file refuses to start without)
OPERATOR = {"ITBOT_DB_PASSWORD": "a-database-password", "ITBOT_SECRET_KEY": "k" * 32}


class ComposeStops(Exception):
    """What ``${VAR:?message}`` does when ``VAR`` is unset: compose refuses to start."""


def interpolate(value: str, environ: dict[str, str]) -> str:
    """Compose's ``${VAR}``, ``${VAR:-default}`` and ``${VAR:?error}``."""

    def one_variable(match: re.Match[str]) -> str:
        name, op, rest = match.group(1), match.group(2), match.group(3)
        if environ.get(name):
            return environ[name]
        if op == ":?":
            raise ComposeStops(rest)
        return rest if op == ":-" else ""

    return re.sub(r"\$\{(\w+)(?:(:[-?])([^}]*))?\}", one_variable, value)


def bot_environment(service: str, environ: dict[str, str]) -> dict[str, str]:
    raw: dict[str, str] = SERVICES[service]["environment"]
    return {key: interpolate(str(value), environ) for key, value in raw.items()}


def test_the_services_are_postgres_a_migration_two_replicas_and_a_proxy() -> None:
    assert set(SERVICES) == {"postgres", "migrate", *REPLICAS, "proxy"}
    assert len(REPLICAS) == 2
    for name in ["migrate", *REPLICAS]:
        build = SERVICES[name]["build"]
        assert (COMPOSE_FILE.parent / build["context"]).resolve() == ROOT
        assert (ROOT / build.get("dockerfile", "Dockerfile")).is_file()
        assert SERVICES[name]["image"] == SERVICES["migrate"]["image"]  # one image, built once
    assert SERVICES["postgres"]["image"].startswith("postgres:")


def test_every_dependency_exists_and_waits_for_the_right_condition() -> None:
    for name, service in SERVICES.items():
        for needed in service.get("depends_on", {}):
            assert needed in SERVICES, f"{name} depends on unknown {needed}"
    assert SERVICES["migrate"]["depends_on"] == {"postgres": {"condition": "service_healthy"}}
    for replica in REPLICAS:
        assert SERVICES[replica]["depends_on"] == {
            "postgres": {"condition": "service_healthy"},
            "migrate": {"condition": "service_completed_successfully"},
        }
    assert SERVICES["proxy"]["depends_on"] == {
        r: {"condition": "service_healthy"} for r in REPLICAS
    }


def test_the_health_checks_behind_those_conditions_exist() -> None:
    # postgres: its own check; the replicas: the image's HEALTHCHECK (not disabled here)
    assert SERVICES["postgres"]["healthcheck"]["test"][:2] == ["CMD", "pg_isready"]
    assert "/readyz" in one(RUNTIME, "HEALTHCHECK").args
    for replica in REPLICAS:
        assert "healthcheck" not in SERVICES[replica]
    # the one-shot migration exits; it is never restarted
    assert SERVICES["migrate"]["restart"] == "no"
    assert all(SERVICES[r]["restart"] == "unless-stopped" for r in REPLICAS)


def test_the_migration_is_a_command_of_the_bot() -> None:
    command = SERVICES["migrate"]["command"]
    assert command == ["db", "upgrade"]
    assert build_parser().parse_args(command).handler.__module__ == "bot.cli.db"


def test_the_replicas_settings_are_valid_and_point_at_the_compose_database() -> None:
    image_env = {k: v for k, v in env(RUNTIME).items() if k.startswith("ITBOT_")}
    postgres = SERVICES["postgres"]["environment"]
    keys = set()
    for replica in REPLICAS:
        settings = Settings.from_environ({**image_env, **bot_environment(replica, OPERATOR)})
        url = settings.database_url
        assert url.startswith("postgresql+asyncpg://")
        assert f"{postgres['POSTGRES_USER']}:{OPERATOR['ITBOT_DB_PASSWORD']}@postgres:5432/" in url
        assert url.endswith("/" + postgres["POSTGRES_DB"])
        assert interpolate(postgres["POSTGRES_PASSWORD"], OPERATOR) == OPERATOR["ITBOT_DB_PASSWORD"]
        assert settings.secret_key is not None
        keys.add(settings.secret_key.reveal())
    assert len(keys) == 1  # one signing key: a session from one replica is valid on the other


def test_it_refuses_to_start_without_the_passwords() -> None:
    for variable in OPERATOR:
        missing = {k: v for k, v in OPERATOR.items() if k != variable}
        with pytest.raises(ComposeStops, match=variable):
            bot_environment(REPLICAS[0], missing)


def test_the_proxy_balances_both_replicas_on_the_port_they_serve() -> None:
    proxy = SERVICES["proxy"]
    assert proxy["image"].startswith("caddy:")
    (mounted,) = proxy["configs"]
    assert mounted["target"] == "/etc/caddy/Caddyfile"
    caddyfile: str = COMPOSE["configs"][mounted["source"]]["content"]
    port = Settings.from_environ(env(RUNTIME)).port
    upstreams = re.search(r"reverse_proxy ([^{]+)\{", caddyfile)
    assert upstreams is not None
    assert upstreams.group(1).split() == [f"{r}:{port}" for r in REPLICAS]
    assert "health_uri /readyz" in caddyfile
    assert "lb_try_duration" in caddyfile  # a request to a replica that is down goes to the other
    published = [p.split(":")[-1] for p in proxy["ports"]]
    assert published == [re.search(r"^:(\d+)", caddyfile.strip()).group(1)]  # type: ignore[union-attr]
    # only the proxy is published: the replicas are reached through it
    assert all("ports" not in SERVICES[name] for name in SERVICES if name != "proxy")


def test_the_database_keeps_its_data_in_a_named_volume() -> None:
    (volume,) = SERVICES["postgres"]["volumes"]
    name, _, target = volume.partition(":")
    assert name in COMPOSE["volumes"] and target == "/var/lib/postgresql/data"


def test_the_readme_starts_it_the_way_the_file_says() -> None:
    readme = (ROOT / "README.md").read_text()
    assert "docker compose -f .ci/compose.yaml up --build" in readme
    assert "docker compose -f .ci/compose.yaml up --build" in COMPOSE_FILE.read_text()
    for variable in OPERATOR:
        assert variable in readme


def test_compose_file_is_plain_yaml_with_no_tabs() -> None:
    text = Path(COMPOSE_FILE).read_text()
    assert "\t" not in text
    assert "version" not in COMPOSE  # obsolete in the Compose specification
