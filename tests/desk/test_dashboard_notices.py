"""``/desk/notices`` over real HTTP: agents publish and end notices; hostile or malformed
forms get a 4xx and words, never a 5xx; people's text is shown as text."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.settings import Settings
from bot.storage.models import utcnow
from tests.desk.dashboard_support import Client, add_agent, database, desk, quick_settings, sign_in

HOSTILE = '<img src=x onerror="alert(1)">'


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return quick_settings(database_url, tmp_path)


async def test_publish_and_end_a_notice_from_the_dashboard(client: Client) -> None:
    await add_agent(database(client))
    csrf = await sign_in(client)
    response = await client.post(
        "/desk/notices",
        data={"csrf": csrf, "text": f"Teams calls drop {HOSTILE}", "products": "Teams",
              "council": "aylesbury-vale", "hours": "3"},
    )  # fmt: skip
    assert response.status == 200  # after the redirect
    page = await response.text()
    assert "Notice published." in page
    assert HOSTILE not in page and "&lt;img src=x" in page
    async with database(client).session() as session:
        [notice] = await desk(client).notices.listing(session, now=utcnow())
    assert notice.councils == ["aylesbury-vale"] and notice.products == ["Teams"]
    ended = await client.post(f"/desk/notices/{notice.id}/end", data={"csrf": csrf})
    assert ended.status == 200 and "Notice ended." in await ended.text()
    again = await client.post(f"/desk/notices/{notice.id}/end", data={"csrf": csrf})
    assert again.status == 409 and "has already ended" in await again.text()


@pytest.mark.parametrize(
    ("form", "status", "words"),
    [
        ({"text": "Down", "council": "luton", "hours": "2"}, 400, "at least one council"),
        ({"text": "", "council": "dacorum", "hours": "2"}, 400, "needs some text"),
        ({"text": "x" * 5000, "council": "dacorum", "hours": "2"}, 400, "under 500"),
        ({"text": "Down", "council": "dacorum", "hours": "-1"}, 400, "whole number of hours"),
        ({"text": "Down", "council": "dacorum", "hours": "9999"}, 400, "whole number of hours"),
        ({"text": "Down", "council": "dacorum", "hours": "2", "spike": "77"}, 400, "no spike 77"),
    ],
)
async def test_bad_forms_are_refused_in_words(
    client: Client, form: dict[str, str], status: int, words: str
) -> None:
    await add_agent(database(client))
    csrf = await sign_in(client)
    response = await client.post("/desk/notices", data={"csrf": csrf, **form})
    assert response.status == status
    assert words in await response.text()


async def test_malformed_addresses_and_missing_tokens(client: Client) -> None:
    await add_agent(database(client))
    csrf = await sign_in(client)
    assert (await client.post("/desk/notices/abc/end", data={"csrf": csrf})).status == 404
    assert (await client.post("/desk/notices/12/end", data={"csrf": csrf})).status == 409
    assert (await client.post("/desk/spikes/x/dismiss", data={"csrf": csrf})).status == 404
    assert (await client.post("/desk/spikes/5/dismiss", data={"csrf": csrf})).status == 404
    refused = await client.post(
        "/desk/notices", data={"text": "Down", "council": "dacorum", "hours": "2"}
    )
    assert refused.status == 403  # no CSRF token
    client.session.cookie_jar.clear()
    anonymous = await client.get("/desk/notices", allow_redirects=False)
    assert anonymous.status in (302, 303)
