"""``itbot intents eval | explain | build``, through the command line entry point."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.cli import main

STAFF = Path(__file__).resolve().parents[1] / "data" / "intents_staff_test.jsonl"


def test_eval_prints_one_json_object_with_the_figures(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "some.jsonl"
    data.write_text(
        '{"text": "I forgot my password", "intent": "reset_password"}\n'
        '{"text": "any news on JSD-1042?", "intent": "ticket_status", "source": "me"}\n'
        "\n"
        '{"text": "hello there", "intent": "thanks"}\n'
    )
    results = tmp_path / "out.jsonl"
    code = main(
        ["intents", "eval", "--data", str(data), "--results", str(results), "--semantic", "off"]
    )
    assert code == 0
    report = json.loads(capsys.readouterr().out)
    assert report["accuracy"] == pytest.approx(2 / 3, abs=1e-3)
    assert {"macro_f1", "per_intent", "confusion"} <= report.keys()
    assert report["per_intent"]["thanks"] == {
        "precision": 0.0,
        "recall": 0.0,
        "f1": 0.0,
        "support": 1,
    }
    assert report["confusion"] == [{"expected": "thanks", "predicted": "greeting", "count": 1}]
    lines = [json.loads(line) for line in results.read_text().splitlines()]
    assert [line["predicted"] for line in lines] == ["reset_password", "ticket_status", "greeting"]
    assert set(lines[0]) == {"text", "expected", "predicted", "confidence"}


def test_eval_on_the_held_out_staff_set(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["intents", "eval", "--data", str(STAFF), "--semantic", "off"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["accuracy"] >= 0.95
    assert report["embeddings"] is False


def test_eval_reports_an_unreadable_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"text": "no intent here"}\n')
    assert main(["intents", "eval", "--data", str(bad), "--semantic", "off"]) == 2
    assert "line 1" in capsys.readouterr().err


def test_explain_shows_the_decision_and_why(capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        main(["intents", "explain", "any news on jsd 1042? it's urgent", "--semantic", "off"]) == 0
    )
    out = capsys.readouterr().out
    assert "intent:      ticket_status" in out
    assert "ticket_ref=JSD-001042" in out
    assert "urgency=urgent" in out
    assert "rule: mentions a ticket reference -> ticket_status" in out


def test_explain_json(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(
        ["intents", "explain", "1042", "--expecting", "ticket_ref", "--json", "--semantic", "off"]
    )
    assert code == 0
    out = json.loads(capsys.readouterr().out)
    assert out["intent"] == "ticket_status"
    assert out["slots"]["ticket_ref"] == "JSD-001042"
    assert len(out["alternatives"]) == 3


def test_build_checks_and_writes_the_model(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["intents", "build", "--check", "--semantic", "off"]) == 0  # shipped one is fresh
    data = tmp_path / "data"
    data.mkdir()
    for intent, lines in {
        "greeting": ["hello", "hi there", "good morning", "hiya", "hey"],
        "thanks": ["thanks", "cheers", "thank you", "ta very much", "much appreciated"],
        "out_of_scope": [
            "weather today",
            "tell me a joke",
            "book leave",
            "what's for lunch",
            "who won the match",
        ],
    }.items():
        (data / f"{intent}.txt").write_text("\n".join(lines) + "\n")
    args = ["--data-dir", str(data), "--semantic", "off"]
    assert main(["intents", "build", "--check", *args]) == 1
    assert "out of date" in capsys.readouterr().err
    assert main(["intents", "build", "--folds", "3", *args]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["written"] == str(data / "model.json")
    assert summary["examples"] == 15
    assert main(["intents", "build", "--check", *args]) == 0


def test_explain_sees_references_with_the_desks_prefix(tmp_path: Path) -> None:
    """``ITBOT_TICKET_PREFIX`` reaches the detector: ABC-000123 is a ticket reference."""
    env = {**os.environ, "ITBOT_TICKET_PREFIX": "ABC", "ITBOT_SEMANTIC": "off"}
    env.pop("ITBOT_CONFIG", None)
    result = subprocess.run(
        [sys.executable, "-m", "bot", "intents", "explain", "any update on ABC-000123?"],
        env=env,
        capture_output=True,
        text=True,
        cwd=tmp_path,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "intent:      ticket_status" in result.stdout
    assert "ticket_ref=ABC-000123" in result.stdout


def test_explain_with_the_default_prefix_does_not_take_another_desks_reference(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ITBOT_TICKET_PREFIX", raising=False)
    assert main(["intents", "explain", "any update on ABC-000123?", "--semantic", "off"]) == 0
    assert "ticket_ref=" not in capsys.readouterr().out
