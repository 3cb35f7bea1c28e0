"""The article format: front matter, values, council variants, and how problems are reported."""

from __future__ import annotations

import datetime
from pathlib import Path

import pytest

from knowledge import Article, KnowledgeBase

TODAY = datetime.date(2026, 3, 1)


def write(root: Path, rel: str, text: str) -> Path:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def load(root: Path) -> KnowledgeBase:
    return KnowledgeBase.load(root, semantic="off", today=TODAY)


FULL = """\
---
title: Book a meeting room
summary: Reserve a room with the room calendar.
tags: [room booking, meeting room]
products: [calendar]
questions:
  - How do I reserve the boardroom?
owner: kb@dacorum.gov.uk
review_by: 2027-01-31
valid_from: 2025-01-01
related: [calendar/other]
---
Open the calendar.

::: council aylesbury-vale
Use the **AVDC rooms** calendar.
:::

::: council dacorum
Use the **Forum rooms** calendar.
:::

Ask the desk if a room is missing.
"""


def test_every_field_is_read_and_the_body_line_is_known(tmp_path: Path) -> None:
    write(tmp_path, "calendar/book-a-room.md", FULL)
    write(tmp_path, "calendar/other.md", "---\ntitle: Other\nowner: a@dacorum.gov.uk\n---\nx\n")
    kb = load(tmp_path)
    article = kb.get("calendar/book-a-room")
    assert article is not None
    assert article.title == "Book a meeting room"
    assert article.tags == ("room booking", "meeting room")
    assert article.products == ("calendar",)
    assert article.councils == ()
    assert article.questions == ("How do I reserve the boardroom?",)
    assert article.owner == "kb@dacorum.gov.uk"
    assert article.review_by == datetime.date(2027, 1, 31)
    assert article.valid_from == datetime.date(2025, 1, 1)
    assert article.related == ("calendar/other",)
    assert article.body_line == 13
    assert article.body.startswith("Open the calendar.")
    assert kb.problems == []


def test_council_variants_show_shared_text_and_only_that_councils_block(tmp_path: Path) -> None:
    write(tmp_path, "calendar/book-a-room.md", FULL.replace("related: [calendar/other]\n", ""))
    article = load(tmp_path).get("calendar/book-a-room")
    assert article is not None
    dacorum = article.for_council("dacorum")
    assert "Forum rooms" in dacorum
    assert "AVDC rooms" not in dacorum
    assert "Open the calendar." in dacorum
    assert "Ask the desk" in dacorum
    assert ":::" not in dacorum
    aylesbury = article.for_council("aylesbury-vale")
    assert "AVDC rooms" in aylesbury
    assert "Forum rooms" not in aylesbury
    everyone = article.for_council(None)
    assert "**For aylesbury-vale:**" in everyone
    assert "**For dacorum:**" in everyone
    assert article.variant_councils == ("aylesbury-vale", "dacorum")


def test_malformed_yaml_is_reported_with_its_line_while_other_articles_serve(
    tmp_path: Path,
) -> None:
    broken = write(tmp_path, "email/broken.md", "---\ntitle: Fine\nsummary: a: b: c\n---\nx\n")
    write(tmp_path, "email/good.md", "---\ntitle: Shared mailbox\n---\nOpen the shared mailbox.\n")
    kb = load(tmp_path)
    [problem] = [p for p in kb.problems if p.severity == "error"]
    assert problem.path == broken
    assert problem.line == 3
    assert str(problem).startswith(f"{broken}:3: error: front matter is not valid YAML")
    assert kb.get("email/broken") is None
    assert kb.search("shared mailbox").hits[0].article.id == "email/good"


def test_unknown_keys_and_bad_values_are_reported_and_the_rest_still_loads(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "a.md",
        "---\ntitle: A\nsumary: typo\nproducts: [emial, calendar]\nreview_by: soon\n"
        "owner: not-an-email\ncouncils: [dacorum, luton]\ntags: single\n---\nBody\n",
    )
    kb = load(tmp_path)
    by_line = {p.line: p for p in kb.problems}
    assert by_line[3].message == "unknown key 'sumary'"
    assert by_line[3].hint == "did you mean 'summary'?"
    assert by_line[4].message == "unknown product 'emial'"
    assert "email" in by_line[4].hint
    assert by_line[5].message.startswith("'review_by' is not a date")
    assert "not an email address" in by_line[6].message
    assert by_line[7].message == "unknown council 'luton'"
    assert by_line[8].message == "'tags' must be a list"
    assert all(p.path == path and p.severity == "error" for p in by_line.values())
    article = kb.get("a")
    assert article is not None
    assert article.products == ("calendar",)
    assert article.councils == ("dacorum",)
    assert article.review_by is None


def test_missing_title_or_front_matter_keeps_the_file_out(tmp_path: Path) -> None:
    write(tmp_path, "no-title.md", "---\nsummary: x\n---\nBody\n")
    write(tmp_path, "no-front-matter.md", "# Just markdown\n")
    kb = load(tmp_path)
    assert kb.articles() == []
    messages = sorted(p.message for p in kb.problems)
    assert messages == ["missing 'title'", "no YAML front matter"]


@pytest.mark.parametrize(
    ("body", "line", "message"),
    [
        ("x\n::: council dacorum\nopen\n", 6, "council block is never closed"),
        ("x\n:::\n", 6, "':::' closes no council block"),
        ("::: council luton\ny\n:::\n", 5, "unknown council 'luton' in block"),
        ("::: council\ny\n:::\n", 5, "council block names no council"),
    ],
)
def test_variant_marker_mistakes_are_reported(
    tmp_path: Path, body: str, line: int, message: str
) -> None:
    write(tmp_path, "a.md", f"---\ntitle: A\nowner: a@dacorum.gov.uk\n---\n{body}")
    [problem] = load(tmp_path).problems
    assert (problem.line, problem.message) == (line, message)


def test_a_folder_with_only_titles_and_source_urls_loads_without_errors(tmp_path: Path) -> None:
    write(tmp_path, "x/one.md", '---\ntitle: "One"\nsource: "https://example.org/one"\n---\nA\n')
    write(tmp_path, "x/two.md", "---\ntitle: Two\n---\nB\n")
    kb = load(tmp_path)
    assert [a.id for a in kb.articles()] == ["x/one", "x/two"]
    assert kb.get("x/one") == kb.articles()[0]
    assert kb.articles()[0].source == "https://example.org/one"
    assert {p.severity for p in kb.problems} == {"warning"}  # no owner


def test_applies_to_and_validity_window() -> None:
    article = Article(
        id="a",
        title="A",
        councils=("dacorum",),
        valid_from=datetime.date(2026, 1, 1),
        valid_until=datetime.date(2026, 6, 30),
    )
    assert article.applies_to("dacorum")
    assert not article.applies_to("aylesbury-vale")
    assert article.applies_to(None)
    assert article.is_live(datetime.date(2026, 3, 1))
    assert not article.is_live(datetime.date(2025, 12, 31))
    assert not article.is_live(datetime.date(2026, 7, 1))
