"""The knowledge page's editors' loop over real HTTP: a stub article written by the button
(CSRF-protected, never overwriting), and each article's figures."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.settings import Settings
from tests.bot.test_kb_gaps import ARTICLES, converse
from tests.conftest import itbot
from tests.desk.dashboard_support import Client, add_agent, database, quick_settings, sign_in
from tests.knowledge.articles import write_articles

_CLUSTER = re.compile(r'<tr id="cluster-([a-z0-9-]+)">')


@pytest.fixture
def kb(tmp_path: Path) -> Path:
    return write_articles(tmp_path / "kb", ARTICLES)


@pytest.fixture
def settings(database_url: str, tmp_path: Path, kb: Path) -> Settings:
    return quick_settings(database_url, tmp_path, ITBOT_KB_PATH=str(kb))


def row(page: str, article: str) -> str:
    start = page.index(f'<tr data-article="{article}">')
    return page[start : page.index("</tr>", start)]


def cells(html_row: str) -> list[str]:
    return [
        re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<td>(.*?)</td>", html_row, re.S)
    ]


async def test_the_stub_button_writes_an_article_that_kb_check_accepts(
    client: Client, settings: Settings, kb: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    await converse(settings)
    await add_agent(database(client))
    csrf = await sign_in(client)

    page = await (await client.get("/desk/knowledge?days=7")).text()
    ids = _CLUSTER.findall(page)
    assert ids, page
    microfiche = ids[0]  # the most asked
    assert microfiche.startswith("use-microfiche-reader-archive-")
    assert page.count(">Write a stub</button>") == len(ids)
    # the out-of-office answer rated "No" is a cluster, and says so
    assert "rated “No” 1" in page
    assert "out-of-office</a>, which was rated “No”" in page

    # without the form's token: refused, nothing written
    response = await client.post("/desk/knowledge/stub", data={"cluster": microfiche})
    assert response.status == 403
    assert not (kb / "drafts").exists()

    response = await client.post(
        "/desk/knowledge/stub?days=7",
        data={"csrf": csrf, "cluster": microfiche},
        allow_redirects=False,
    )
    assert response.status == 303, await response.text()
    written = f"drafts/{microfiche}.md"
    assert (
        response.headers["Location"]
        == f"/desk/knowledge?days=7&council=&written=drafts/{microfiche}.md"
    )
    path = kb / written
    front = path.read_text(encoding="utf-8").split("---")[1]
    assert "owner: pat.lee@dacorum.gov.uk\n" in front  # the signed-in editor
    assert "councils: [aylesbury-vale, dacorum]\n" in front
    assert "  - microfiche reader in the archive room, how do I use it?\n" in front
    page = await (await client.get(response.headers["Location"])).text()
    assert f"Wrote {written} in the knowledge base folder" in page
    code, out = itbot(capsys, "kb", "check", "--kb", str(kb))
    assert code == 0, out

    # the button again: the editor's file stays as it is
    path.write_text(path.read_text(encoding="utf-8") + "Written by an editor.\n", encoding="utf-8")
    response = await client.post("/desk/knowledge/stub", data={"csrf": csrf, "cluster": microfiche})
    assert response.status == 409
    assert "already exists" in await response.text()
    assert path.read_text(encoding="utf-8").endswith("Written by an editor.\n")

    # an id that is no cluster, or no id at all: a clear message, never a 5xx
    for cluster in ("no-such-cluster-000000", "", "<script>", "x" * 5000):
        response = await client.post(
            "/desk/knowledge/stub", data={"csrf": csrf, "cluster": cluster}
        )
        assert response.status == 404, cluster
        text = await response.text()
        assert "No cluster" in text or "not a cluster id" in text
        assert "<script>" not in text.split("<main")[1]

    # the audit log names the editor and the file
    audit = await (await client.get("/desk/audit?action=kb_stub")).text()
    assert written in audit and "pat.lee@dacorum.gov.uk" in audit


async def test_each_article_s_figures_on_the_page(client: Client, settings: Settings) -> None:
    await converse(settings)
    await add_agent(database(client))
    await sign_in(client)
    page = await (await client.get("/desk/knowledge")).text()
    # by hand from the conversations: the out-of-office article was given twice (Sam, Alex)
    # and rated once each way; nobody was given or offered the room-booking one
    assert cells(row(page, "email/out-of-office"))[1:5] == ["2", "2", "0", "50% (1 of 2)"]
    assert cells(row(page, "calendar/book-a-meeting-room"))[1:5] == ["0", "0", "0", "–"]
    never = page[page.index('id="never-used"') :]
    assert "Book a meeting room" in never[: never.index("</ul>")]
    assert "Review overdue (0)" in page
    # Aylesbury Vale's staff only: Alex's answer
    page = await (await client.get("/desk/knowledge?council=aylesbury-vale")).text()
    assert cells(row(page, "email/out-of-office"))[1:5] == ["1", "1", "0", "100% (1 of 1)"]


class TestWithoutAKnowledgeBaseFolder:
    @pytest.fixture
    def settings(self, database_url: str, tmp_path: Path) -> Settings:
        return quick_settings(database_url, tmp_path)  # the bundled articles

    async def test_the_page_says_stubs_cannot_be_written(
        self, client: Client, settings: Settings
    ) -> None:
        await converse(settings)
        await add_agent(database(client))
        csrf = await sign_in(client)
        response = await client.get("/desk/knowledge")
        assert response.status == 200
        page = await response.text()
        assert "No knowledge base folder is set (ITBOT_KB_PATH)" in page
        assert "Write a stub" not in page
        cluster = _CLUSTER.findall(page)[0]
        response = await client.post(
            "/desk/knowledge/stub", data={"csrf": csrf, "cluster": cluster}
        )
        assert response.status == 409
        assert "No knowledge base folder is set" in await response.text()
