"""The Teams channel's parts against the local fake over real HTTP: the token guard's key
cache, the allow-list of service hosts, secrets kept out of logs, replies kept when the
Bot Connector fails."""

from __future__ import annotations

import logging

import aiohttp
import pytest

from bot.channels.teams import auth
from bot.channels.teams.auth import Refused, TokenGuard
from bot.channels.teams.connector import allowed
from tests.teams.fake_teams import (
    APP_ID,
    APP_PASSWORD,
    SAM,
    FakeTeams,
    TeamsDriver,
    cached_models,
    fake_teams,
    forged_key,
    message,
    sign,
    teams,
)

__all__ = ["cached_models", "fake_teams", "teams"]  # fixtures used below


async def test_keys_are_cached_and_fetched_again_for_a_new_kid(
    fake_teams: FakeTeams, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = fake_teams.service_url
    async with aiohttp.ClientSession() as session:
        guard = TokenGuard(session, openid_url=f"{fake_teams.base}/openid", app_id=APP_ID)
        await guard.check(f"Bearer {sign(url)}", url)
        await guard.check(f"Bearer {sign(url)}", url)
        assert fake_teams.key_fetches == 1  # cached

        fake_teams.published["rotated-key"] = forged_key()  # Microsoft rotates its keys
        monkeypatch.setattr(auth, "REFRESH_EVERY", 0.0)
        claims = await guard.check(f"Bearer {sign(url, key=forged_key(), kid='rotated-key')}", url)
        assert claims["aud"] == APP_ID
        assert fake_teams.key_fetches == 2

        monkeypatch.setattr(auth, "REFRESH_EVERY", 3600.0)  # a flood of made-up kids
        for n in range(5):
            with pytest.raises(Refused, match="unknown signing key"):
                await guard.check(f"Bearer {sign(url, kid=f'made-up-{n}')}", url)
        assert fake_teams.key_fetches == 2


def test_replies_go_only_to_listed_service_hosts() -> None:
    hosts = ("smba.trafficmanager.net", "*.teams.microsoft.us", "127.0.0.1:8123")
    assert allowed("https://smba.trafficmanager.net/emea/", hosts)
    assert allowed("https://smba.infra.gov.teams.microsoft.us/", hosts)
    assert allowed("http://127.0.0.1:8123/", hosts)
    assert not allowed("http://smba.trafficmanager.net/emea/", hosts)  # not https
    assert not allowed("https://smba.trafficmanager.net.evil.example/", hosts)
    assert not allowed("https://evil.example/?smba.trafficmanager.net", hosts)
    assert not allowed("http://127.0.0.1:9999/", hosts)
    assert not allowed("javascript:alert(1)", hosts)


async def test_the_secret_and_tokens_never_reach_a_log_line(
    teams: TeamsDriver, caplog: pytest.LogCaptureFixture
) -> None:
    activity = message(teams.fake, SAM, "I forgot my password")
    token = sign(activity["serviceUrl"])
    with caplog.at_level(logging.DEBUG):
        assert (await teams.send(activity, token=token)).status == 200
    assert teams.fake.posts()
    assert APP_PASSWORD not in caplog.text
    assert teams.fake.tokens_issued[0] not in caplog.text
    assert token not in caplog.text


async def test_a_reply_the_connector_never_takes_is_kept_for_the_next_turn(
    teams: TeamsDriver,
) -> None:
    teams.fake.fail_posts = 4  # the first try and all three retries
    first = message(teams.fake, SAM, "how do I turn on my out of office reply in Outlook")
    assert (await teams.send(first)).status == 200
    assert not teams.fake.posts()

    await teams.send(message(teams.fake, SAM, "hello"))
    [post] = teams.fake.posts()  # the kept answer first, then the answer to "hello"
    texts = [b.get("text", "") for b in post.card["body"]]
    assert texts[0] == "Here's the guide that should help:"
    assert post.button("Yes")["data"]["itbot"] == "answer:feedback|yes:email/out-of-office"
    assert any(text.startswith("Hello Sam!") for text in texts)
