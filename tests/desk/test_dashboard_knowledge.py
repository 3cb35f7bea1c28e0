"""The knowledge gaps page over real HTTP: grouped unanswered questions, unhelpful articles."""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest

from bot.conversation.engine import ConversationEngine
from bot.conversation.messages import Incoming
from bot.flows import default_registry
from bot.settings import Settings
from bot.web import keys
from tests.bot.test_kb_gaps import ARTICLES, SECRET, converse
from tests.desk.dashboard_support import SAM, Client, add_agent, database, quick_settings, sign_in
from tests.knowledge.articles import write_articles


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    kb = write_articles(tmp_path / "kb", ARTICLES)
    return quick_settings(database_url, tmp_path, ITBOT_KB_PATH=str(kb))


async def test_agents_see_what_no_article_answered(client: Client, settings: Settings) -> None:
    await converse(settings)
    engine = ConversationEngine(client.app[keys.SERVICES], default_registry())
    hostile = '<script>alert("x")</script> how do I use the microfiche printer'
    await engine.handle(Incoming(channel="web", email=SAM, text=hostile))
    await add_agent(database(client))
    await sign_in(client)

    response = await client.get("/desk/knowledge")
    assert response.status == 200
    page = await response.text()
    assert re.search(r"<title>Knowledge gaps · [^<]*</title>", page)  # one title, no table in it
    assert page.count('id="usage"') == 1
    assert "6 questions for the knowledge base in the last 30 days; 6 not answered." in page
    microfiche = page.index(html.escape("microfiche reader in the archive room, how do I use it?"))
    assert microfiche < page.index("where is the parking permit renewal form")
    assert "Aylesbury Vale District Council 1, Dacorum Borough Council 1" in page
    assert "Still unanswered" in page
    assert '<a href="/kb/email/out-of-office">Set up an automatic reply (out of office)</a>' in page
    assert "<script>" not in page
    assert "&lt;script&gt;alert(" in page
    assert SECRET not in page

    response = await client.get("/desk/knowledge?council=aylesbury-vale&days=7")
    page = await response.text()
    assert "from Aylesbury Vale" in page and "printer" not in page
    assert "No article was rated unhelpful in this period." in page

    # nonsense in the query string falls back to the defaults
    response = await client.get("/desk/knowledge?days=abc&council=nowhere")
    assert response.status == 200
    assert "in the last 30 days;" in await response.text()


async def test_the_page_needs_a_signed_in_agent(client: Client) -> None:
    response = await client.get("/desk/knowledge", allow_redirects=False)
    assert response.status in (302, 303)
    assert response.headers["Location"].startswith("/desk/login")
