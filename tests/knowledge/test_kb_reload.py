"""Hot reload: edits, additions, deletions and broken files, via ``refresh()``."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from knowledge import KnowledgeBase


def write(path: Path, title: str, body: str, extra: str = "") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    text = f"---\ntitle: {title}\nowner: kb@dacorum.gov.uk\n{extra}---\n{body}\n"
    path.write_text(text, encoding="utf-8")
    # make the change visible even on file systems with coarse timestamps
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))


@pytest.fixture
def root(tmp_path: Path) -> Path:
    write(tmp_path / "email/out-of-office.md", "Automatic replies", "Turn on automatic replies.")
    write(tmp_path / "sign-in/password.md", "Forgotten password", "Reset your password.")
    return tmp_path


def ids(kb: KnowledgeBase, query: str) -> list[str]:
    return [h.article.id for h in kb.search(query, limit=50).hits]


def test_nothing_changed_is_reported_as_such(root: Path) -> None:
    kb = KnowledgeBase.load(root, semantic="off")
    report = kb.refresh()
    assert report.nothing_changed
    assert report.seconds < 1.0


def test_an_edit_is_live_after_refresh(root: Path) -> None:
    kb = KnowledgeBase.load(root, semantic="off")
    assert "sign-in/password" not in ids(kb, "authenticator app")
    write(root / "sign-in/password.md", "Forgotten password", "Use the authenticator app.")
    report = kb.refresh()
    assert report.changed == ["sign-in/password"]
    assert (report.added, report.removed, report.failed) == ([], [], [])
    assert ids(kb, "authenticator app")[0] == "sign-in/password"
    article = kb.get("sign-in/password")
    assert article is not None
    assert "authenticator" in article.body


def test_added_and_deleted_files(root: Path) -> None:
    kb = KnowledgeBase.load(root, semantic="off")
    write(root / "teams/share-screen.md", "Share your screen", "Select Share in the meeting.")
    (root / "email/out-of-office.md").unlink()
    report = kb.refresh()
    assert report.added == ["teams/share-screen"]
    assert report.removed == ["email/out-of-office"]
    assert kb.get("email/out-of-office") is None
    assert "email/out-of-office" not in ids(kb, "automatic replies")
    assert ids(kb, "share my screen")[0] == "teams/share-screen"
    assert [a.id for a in kb.articles()] == ["sign-in/password", "teams/share-screen"]


def test_a_broken_edit_keeps_the_last_good_version_serving(root: Path) -> None:
    kb = KnowledgeBase.load(root, semantic="off")
    path = root / "sign-in/password.md"
    path.write_text("---\ntitle: [unclosed\n---\nnew text\n", encoding="utf-8")
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 2_000_000_000))
    report = kb.refresh()
    assert [p.path for p in report.failed] == [path]
    assert report.failed[0].line == 2
    assert ids(kb, "forgotten password")[0] == "sign-in/password"
    assert any(p.path == path and p.severity == "error" for p in kb.problems)
    write(path, "Forgotten password", "Fixed now.")
    report = kb.refresh()
    assert report.changed == ["sign-in/password"]
    assert not [p for p in kb.problems if p.severity == "error"]


def test_many_edits_stay_consistent(root: Path) -> None:
    kb = KnowledgeBase.load(root, semantic="off")
    for i in range(80):  # enough to merge the delta segment into the main one
        write(root / f"bulk/a{i}.md", f"Bulk article {i}", f"word{i} common text")
    kb.refresh()
    for i in range(0, 80, 2):
        (root / f"bulk/a{i}.md").unlink()
    write(root / "bulk/a1.md", "Bulk article one", "changed wording entirely")
    report = kb.refresh()
    assert len(report.removed) == 40
    assert report.changed == ["bulk/a1"]
    assert ids(kb, "word3")[0] == "bulk/a3"
    assert "bulk/a2" not in ids(kb, "word2 common text")
    assert "bulk/a1" not in ids(kb, "word1")
    assert ids(kb, "changed wording entirely")[0] == "bulk/a1"


def test_resolve_link(root: Path) -> None:
    write(
        root / "email/help.md",
        "Help",
        "See [replies](out-of-office.md#top), [reset](../sign-in/password.md), "
        "[missing](nope.md) and [site](https://example.org/a.md).",
    )
    kb = KnowledgeBase.load(root, semantic="off")
    article = kb.get("email/help")
    assert article is not None
    assert kb.resolve_link(article, "out-of-office.md#top") == "email/out-of-office"
    assert kb.resolve_link(article, "../sign-in/password.md") == "sign-in/password"
    assert kb.resolve_link(article, "nope.md") is None
    assert kb.resolve_link(article, "https://example.org/a.md") is None
    [broken] = [p for p in kb.problems if "broken link" in p.message]
    assert broken.line == 5


def test_refresh_of_named_paths_only_touches_those_files(tmp_path: Path) -> None:
    """What the running bot does: the file watcher names what changed."""
    root = tmp_path / "kb"
    (root / "email").mkdir(parents=True)
    first = root / "email" / "first.md"
    first.write_text("---\ntitle: First guide\n---\nAbout shared mailboxes.\n", encoding="utf-8")
    kb = KnowledgeBase.load(root, semantic="off")
    first.write_text(
        "---\ntitle: First guide, renamed\n---\nAbout shared mailboxes.\n", encoding="utf-8"
    )
    second = root / "email" / "second.md"
    second.write_text("---\ntitle: Second guide\n---\nAbout signatures.\n", encoding="utf-8")
    report = kb.refresh([str(first.resolve()), str(second)])
    assert report.changed == ["email/first"] and report.added == ["email/second"]
    assert kb.get("email/first").title == "First guide, renamed"  # type: ignore[union-attr]
    second.unlink()
    assert kb.refresh([second]).removed == ["email/second"]
    # a folder event (or anything that is not an article) falls back to a full scan
    (root / "calendar").mkdir()
    (root / "calendar" / "third.md").write_text("---\ntitle: Third\n---\nBody.\n", encoding="utf-8")
    assert kb.refresh([root / "calendar"]).added == ["calendar/third"]
