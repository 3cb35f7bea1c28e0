"""The editors' commands: ``itbot kb check|search|preview|eval|stats``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.cli import main
from knowledge import bundled_root

HERE = Path(__file__).parent


@pytest.fixture(autouse=True)
def lexical_only(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("ITBOT_SEMANTIC", "off")
    monkeypatch.setenv("ITBOT_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("ITBOT_KB_PATH", raising=False)


def write(root: Path, rel: str, text: str) -> Path:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def kb_dir(tmp_path: Path) -> Path:
    root = tmp_path / "kb"
    write(
        root,
        "calendar/book-a-room.md",
        "---\ntitle: Book a meeting room\nsummary: Add a room to your invitation.\n"
        "owner: kb@dacorum.gov.uk\nrelated: [help/contact]\n---\n"
        "Open the calendar.\n\n::: council aylesbury-vale\nUse **AVDC Rooms**.\n:::\n\n"
        "::: council dacorum\nUse **Forum Rooms**.\n:::\n",
    )
    write(
        root,
        "help/contact.md",
        "---\ntitle: Contact the service desk\nowner: kb@dacorum.gov.uk\n---\n"
        "Raise a ticket, or see [rooms](../calendar/book-a-room.md).\n",
    )
    return root


def test_check_passes_a_clean_knowledge_base(
    kb_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["kb", "check", "--kb", str(kb_dir)]) == 0
    assert (
        capsys.readouterr()
        .out.strip()
        .endswith("2 articles in " + str(kb_dir) + ": 0 errors, 0 warnings")
    )


def test_check_reports_every_kind_of_problem_with_file_line_and_hint(
    kb_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = write(
        kb_dir,
        "email/bad.md",
        "---\ntitle: Contact the service desk\nrelated: [email/nowhere]\n"
        "review_by: 2020-01-01\ncolour: blue\n---\nSee [old](old-article.md).\n",
    )
    write(kb_dir, "email/broken.md", "---\ntitle: x\n  bad: indent\n---\n")
    assert main(["kb", "check", "--kb", str(kb_dir)]) == 1
    out = capsys.readouterr().out
    assert f"{bad}:5: error: unknown key 'colour' (known keys: title," in out
    assert f"{bad}:3: error: related article 'email/nowhere' does not exist" in out
    assert f"{bad}:7: error: broken link 'old-article.md': no article 'email/old-article'" in out
    assert f"{bad}:4: warning: review was due on 2020-01-01" in out
    assert f"{bad}:2: warning: no 'owner'" in out
    assert f"{bad}:2: warning: same title as help/contact" in out
    assert f"{kb_dir / 'email/broken.md'}:3: error: front matter is not valid YAML" in out
    assert "errors" in out.splitlines()[-1]


def test_check_exits_0_on_warnings_only(kb_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(kb_dir, "email/no-owner.md", "---\ntitle: No owner\n---\nText.\n")
    assert main(["kb", "check", "--kb", str(kb_dir)]) == 0
    assert "warning: no 'owner'" in capsys.readouterr().out


def test_search_shows_the_ranking_and_the_decision(
    kb_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert (
        main(["kb", "search", "book a meting room", "--kb", str(kb_dir), "--council", "dacorum"])
        == 0
    )
    out = capsys.readouterr().out
    assert out.startswith("'book a meting room': answer (confidence ")
    assert "spelling meting->meeting" in out
    assert " 1. calendar/book-a-room" in out

    assert main(["kb", "search", "weather tomorrow", "--kb", str(kb_dir), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["decision"] == "decline"
    assert data["candidates"] == []
    assert data["unknown_words"] == ["weather", "tomorrow"]


def test_search_rejects_an_unknown_council(kb_dir: Path) -> None:
    with pytest.raises(SystemExit, match="unknown council 'luton'"):
        main(["kb", "search", "room", "--kb", str(kb_dir), "--council", "luton"])


def test_preview_shows_the_councils_version(
    kb_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert (
        main(["kb", "preview", "calendar/book-a-room", "--kb", str(kb_dir), "--council", "dacorum"])
        == 0
    )
    out = capsys.readouterr().out
    assert out.startswith("# Book a meeting room\n")
    assert "Forum Rooms" in out
    assert "AVDC Rooms" not in out
    assert main(["kb", "preview", "calendar/book-a-room", "--kb", str(kb_dir)]) == 0
    out = capsys.readouterr().out
    assert "**For aylesbury-vale:**" in out
    assert "**For dacorum:**" in out
    assert main(["kb", "preview", "nope", "--kb", str(kb_dir)]) == 1


def test_eval_prints_one_json_object_and_writes_results(
    kb_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    questions = tmp_path / "q.jsonl"
    questions.write_text(
        "\n".join(
            json.dumps(line)
            for line in [
                {"q": "how do I book a meeting room", "expected": ["calendar/book-a-room"]},
                {"q": "contact the service desk", "expected": ["help/contact"]},
                {"q": "what's the weather like tomorrow", "expected": []},
            ]
        )
        + "\n",
        encoding="utf-8",
    )
    results = tmp_path / "out.jsonl"
    args = [
        "kb",
        "eval",
        "--kb",
        str(kb_dir),
        "--questions",
        str(questions),
        "--results",
        str(results),
    ]
    assert main(args) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary == {
        "n_in_scope": 2,
        "hit@1": 1.0,
        "hit@3": 1.0,
        "mrr@10": 1.0,
        "n_out_of_scope": 1,
        "oos_declined": 1.0,
        "in_scope_declined": 0.0,
    }
    rows = [json.loads(line) for line in results.read_text(encoding="utf-8").splitlines()]
    assert rows[0]["q"] == "how do I book a meeting room"
    assert rows[0]["ranked"][0] == "calendar/book-a-room"
    assert rows[0]["decision"] in ("answer", "choose")
    assert rows[2]["decision"] == "decline"


def test_eval_reports_a_bad_question_file(
    kb_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    questions = tmp_path / "q.jsonl"
    questions.write_text('{"question": "x"}\n', encoding="utf-8")
    assert main(["kb", "eval", "--kb", str(kb_dir), "--questions", str(questions)]) == 2
    assert f"{questions}:1:" in capsys.readouterr().err


def test_stats(kb_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["kb", "stats", "--kb", str(kb_dir)]) == 0
    out = capsys.readouterr().out
    assert "articles: 2 (2 served now)" in out
    assert "with council variants: 1" in out
    assert "semantic search: off" in out


def test_staff_questions_on_the_bundled_articles(capsys: pytest.CaptureFixture[str]) -> None:
    """A regression guard, lexical-only (the hybrid figure is in the benchmark)."""
    questions = HERE / "kb_staff_questions.jsonl"
    assert main(["kb", "eval", "--kb", str(bundled_root()), "--questions", str(questions)]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["n_in_scope"] >= 150
    assert summary["hit@1"] >= 0.85
    assert summary["in_scope_declined"] <= 0.1
