"""Hostile article files: ``itbot kb check`` names each with file and line; the rest serve."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from bot.cli import main
from knowledge import KnowledgeBase
from knowledge.safety import MAX_ARTICLE_BYTES
from tests.hostile import ANY_TEXT, FAST, JSON

GOOD = "---\ntitle: Reset your password\nowner: kb@dacorum.gov.uk\n---\nOpen the portal.\n"


@pytest.fixture(autouse=True)
def lexical_only(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("ITBOT_SEMANTIC", "off")
    monkeypatch.setenv("ITBOT_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("ITBOT_KB_PATH", raising=False)


def article(title: str, body: str) -> str:
    return f"---\ntitle: {title}\nowner: kb@dacorum.gov.uk\n---\n{body}"


@pytest.fixture
def kb_dir(tmp_path: Path) -> Path:
    root = tmp_path / "kb"
    (root / "help").mkdir(parents=True)
    (root / "help/password.md").write_text(GOOD, encoding="utf-8")
    return root


def check(kb_dir: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = main(["kb", "check", "--kb", str(kb_dir)])
    return code, capsys.readouterr().out


def test_an_article_over_the_size_cap_is_reported_and_not_served(
    kb_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    big = kb_dir / "help/huge.md"
    big.write_text(article("Huge", "word " * (MAX_ARTICLE_BYTES // 4)), encoding="utf-8")
    code, out = check(kb_dir, capsys)
    assert code == 1
    assert f"{big}:1: error: " in out and "over the 200 KB limit" in out
    kb = KnowledgeBase.load(kb_dir, semantic="off")
    assert kb.get("help/huge") is None and kb.get("help/password") is not None


def test_nul_bytes_are_reported_at_their_line(
    kb_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = kb_dir / "help/nul.md"
    bad.write_text(article("Nul", "line one\nline\x00two\n"), encoding="utf-8")
    code, out = check(kb_dir, capsys)
    assert code == 1
    assert f"{bad}:6: error: a NUL byte in the text" in out
    assert KnowledgeBase.load(kb_dir, semantic="off").get("help/password") is not None


def test_raw_html_unsafe_links_and_links_out_of_the_folder_are_reported(
    kb_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = kb_dir / "help/bad.md"
    body = (
        "Intro.\n"  # line 5
        "<script>alert(1)</script>\n"  # 6
        "Click [here](javascript:alert(1)) or ![x](data:text/html;base64,AAAA).\n"  # 7
        "See [secrets](../../../etc/passwd).\n"  # 8
        "`<b>in code</b>` and [fine](password.md) and <https://example.org>.\n"  # 9
        "```\n<div>in a fence</div>\n```\n"  # 10-12
    )
    bad.write_text(article("Bad", body), encoding="utf-8")
    code, out = check(kb_dir, capsys)
    assert code == 1
    assert f"{bad}:6: warning: raw HTML '<script>' is shown as text" in out
    assert f"{bad}:7: error: unsafe link 'javascript:alert(1)'" in out
    assert f"{bad}:7: error: unsafe link 'data:text/html;base64,AAAA'" in out
    assert f"{bad}:8: error: link '../../../etc/passwd' leads outside the knowledge base" in out
    assert f"{bad}:9:" not in out and f"{bad}:11:" not in out
    assert KnowledgeBase.load(kb_dir, semantic="off").get("help/password") is not None


def test_a_symlink_out_of_the_folder_is_reported_and_never_followed(
    kb_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    secret = outside / "secret.md"
    secret.write_text(article("Secret", "the secret words\n"), encoding="utf-8")
    (outside / "more.md").write_text(article("More", "more secret\n"), encoding="utf-8")
    link = kb_dir / "help/passwd.md"
    link.symlink_to(secret)
    (kb_dir / "linked").symlink_to(outside, target_is_directory=True)
    (kb_dir / "help/inside.md").symlink_to(kb_dir / "help/password.md")
    code, out = check(kb_dir, capsys)
    assert code == 1
    assert f"{link}:1: error: a symlink to a file outside the knowledge base: not read" in out
    assert "more.md" not in out
    kb = KnowledgeBase.load(kb_dir, semantic="off")
    assert {a.id for a in kb.articles()} == {"help/password", "help/inside"}
    assert not kb.search("secret words").hits


@FAST
@given(
    front=st.dictionaries(st.sampled_from(["title", "owner", "councils", "related", "x"]), JSON),
    raw_front=ANY_TEXT,
    body=ANY_TEXT,
    use_raw=st.booleans(),
)
def test_any_front_matter_and_body_loads_or_is_reported(
    front: dict[str, object], raw_front: str, body: str, use_raw: bool
) -> None:
    head = raw_front if use_raw else yaml.safe_dump(front, allow_unicode=False)
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        (root / "good.md").write_text(GOOD, encoding="utf-8")
        (root / "any.md").write_bytes(f"---\n{head}\n---\n{body}".encode("utf-8", "surrogatepass"))
        kb = KnowledgeBase.load(root, semantic="off")
        assert kb.get("good") is not None
        problems = [p for p in kb.problems if p.path.name == "any.md"]
        assert kb.get("any") is not None or any(p.is_error for p in problems)
        for problem in problems:
            assert problem.line >= 1
