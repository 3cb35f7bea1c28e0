"""Read one article file: YAML front matter (with line numbers) and the markdown body.

Every value is checked here; a bad value is dropped and reported, an unknown key
is reported, and the article still loads as long as it has a ``title``.

>>> from pathlib import Path
>>> text = "---\\ntitle: Reset your password\\ntitel: oops\\n---\\nBody\\n"
>>> parsed = parse_text(text, path=Path("kb/sign-in/reset.md"), article_id="sign-in/reset")
>>> parsed.article.title, parsed.article.body_line
('Reset your password', 5)
>>> print(parsed.problems[0])
kb/sign-in/reset.md:3: error: unknown key 'titel' (did you mean 'title'?)
"""

from __future__ import annotations

import datetime
import difflib
import os
import re
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from knowledge import placeholders as ph
from knowledge.article import Article, split_variants
from knowledge.problems import Problem
from knowledge.safety import body_problems, file_problem, nul_line

try:  # libyaml is much faster when present
    from yaml import CSafeLoader as _Loader
except ImportError:  # pragma: no cover - depends on how PyYAML was built
    from yaml import SafeLoader as _Loader  # type: ignore[assignment]

#: Products an article may name (``products:``).
PRODUCTS = (
    "email",
    "calendar",
    "documents",
    "sign-in",
    "password",
    "mfa",
    "teams",
    "mobile",
    "browser",
    "device",
    "service-desk",
)

#: Every front-matter key, in the order the README documents them.
KNOWN_KEYS = (
    "title",
    "summary",
    "tags",
    "products",
    "councils",
    "questions",
    "owner",
    "review_by",
    "valid_from",
    "valid_until",
    "related",
    "source",
)

EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
FRONT_MATTER_END = ("---", "...")


@dataclass(frozen=True, slots=True)
class Parsed:
    """The outcome of reading one file: the article (``None`` if unusable) and problems."""

    article: Article | None
    problems: tuple[Problem, ...]
    #: Line of each front-matter key, for problems found later (e.g. a missing related id).
    key_lines: dict[str, int] = field(default_factory=dict)

    @property
    def fatal(self) -> bool:
        return self.article is None


class _Reporter:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.problems: list[Problem] = []

    def error(self, line: int, message: str, hint: str) -> None:
        self.problems.append(Problem(self.path, line, "error", message, hint))

    def warning(self, line: int, message: str, hint: str) -> None:
        self.problems.append(Problem(self.path, line, "warning", message, hint))


def article_id(path: Path, root: Path) -> str:
    """The id of the article at ``path``: its path under ``root`` without ``.md``."""
    text, prefix = str(path), str(root).rstrip("/\\") + os.sep
    rel = text[len(prefix) :] if text.startswith(prefix) else path.relative_to(root).as_posix()
    if os.sep != "/":
        rel = rel.replace(os.sep, "/")
    return rel[:-3] if rel.lower().endswith(".md") else rel


def parse_file(
    path: Path,
    root: Path,
    *,
    councils: Sequence[str] = (),
    placeholders: Collection[str] | None = None,
) -> Parsed:
    """Read and check the article file at ``path`` (under the KB ``root``)."""
    refused = file_problem(path, root)
    if refused is not None:
        return Parsed(None, (refused,))
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        problem = Problem(path, 1, "error", f"not UTF-8 text ({exc.reason})", "save as UTF-8")
        return Parsed(None, (problem,))
    except OSError as exc:
        problem = Problem(path, 1, "error", f"cannot read: {exc.strerror}", "check the file")
        return Parsed(None, (problem,))
    return parse_text(
        text,
        path=path,
        article_id=article_id(path, root),
        councils=councils,
        placeholders=placeholders,
    )


def _split_front_matter(text: str) -> tuple[str, str, int] | None:
    """``(front matter, body, body line)`` or ``None`` when the file has no front matter."""
    lines = text.splitlines(keepends=True)
    if not lines or lines[0].strip() != "---":
        return None
    for i in range(1, len(lines)):
        if lines[i].strip() in FRONT_MATTER_END:
            return "".join(lines[1:i]), "".join(lines[i + 1 :]), i + 2
    return None


def parse_text(
    text: str,
    *,
    path: Path,
    article_id: str,
    councils: Sequence[str] = (),
    placeholders: Collection[str] | None = None,
) -> Parsed:
    """Parse article ``text``; ``councils`` (when given) are the council keys allowed,
    ``placeholders`` (when given) the names a ``{{ name }}`` may use."""
    report = _Reporter(path)
    nul = nul_line(text)
    if nul is not None:
        report.error(nul, "a NUL byte in the text: not served", "save the file as plain UTF-8 text")
        return Parsed(None, tuple(report.problems))
    split = _split_front_matter(text)
    if split is None:
        report.error(
            1,
            "no YAML front matter",
            "start the file with '---', a line 'title: ...', and another '---'",
        )
        return Parsed(None, tuple(report.problems))
    front, body, body_line = split
    try:
        loader = _Loader(front)
        try:
            node = loader.get_single_node()
            data = loader.construct_document(node) if node is not None else None
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        if mark is not None and mark.line >= front.count("\n") and exc.context_mark is not None:
            mark = exc.context_mark  # ran off the end: point at what was left open
        line = mark.line + 2 if mark is not None else 1
        reason = exc.problem or exc.context or "invalid YAML"
        report.error(line, f"front matter is not valid YAML: {reason}", _yaml_hint(reason))
        return Parsed(None, tuple(report.problems))
    except yaml.YAMLError as exc:
        report.error(1, f"front matter is not valid YAML: {exc}", "check the front matter")
        return Parsed(None, tuple(report.problems))
    if not isinstance(data, dict) or node is None:
        report.error(
            2, "front matter is not a set of 'key: value' lines", "write e.g. 'title: My title'"
        )
        return Parsed(None, tuple(report.problems))

    lines: dict[str, int] = {}
    for key_node, _value_node in node.value:
        lines[str(key_node.value)] = key_node.start_mark.line + 2
    fields = _check_fields(data, lines, report, councils)
    if "title" not in fields:
        if "title" not in data:
            report.error(2, "missing 'title'", "add a line 'title: ...' to the front matter")
        return Parsed(None, tuple(report.problems))

    _check_body(body, body_line, fields, report, councils)
    report.problems.extend(body_problems(path, article_id, body, body_line))
    if placeholders is not None:
        _check_placeholders(body, body_line, fields, lines, report, placeholders)
    _check_dates(fields, lines, report)
    article = Article(id=article_id, body=body, path=path, body_line=body_line, **fields)
    return Parsed(article, tuple(report.problems), lines)


def _yaml_hint(reason: str) -> str:
    if "mapping values" in reason:
        return "put text containing ': ' in quotes"
    if "found character '\\t'" in reason or "tab" in reason:
        return "indent with spaces, not tabs"
    return "check quotes, colons and indentation on this line"


def _check_fields(
    data: Mapping[Any, Any], lines: Mapping[str, int], report: _Reporter, councils: Sequence[str]
) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    for raw_key, value in data.items():
        key = str(raw_key)
        line = lines.get(key, 2)
        checker = _CHECKERS.get(key)
        if checker is None:
            close = difflib.get_close_matches(key, KNOWN_KEYS, n=1, cutoff=0.6)
            hint = (
                f"did you mean '{close[0]}'?" if close else "known keys: " + ", ".join(KNOWN_KEYS)
            )
            report.error(line, f"unknown key '{key}'", hint)
            continue
        checked = checker(key, value, line, report, councils)
        if checked is not None:
            fields[key] = checked
    return fields


Checker = Callable[[str, Any, int, _Reporter, Sequence[str]], Any]


def _text(key: str, value: Any, line: int, report: _Reporter, _c: Sequence[str]) -> str | None:
    if isinstance(value, bool) or value is None or isinstance(value, list | dict):
        report.error(line, f"'{key}' must be text", f"write '{key}: Some text'")
        return None
    text = str(value).strip()
    if not text:
        report.error(line, f"'{key}' is empty", f"write some text after '{key}:' or remove it")
        return None
    return text


def _text_list(
    key: str, value: Any, line: int, report: _Reporter, _c: Sequence[str]
) -> tuple[str, ...] | None:
    if isinstance(value, str):
        report.error(line, f"'{key}' must be a list", f"write '{key}: [{value}]'")
        return None
    if not isinstance(value, list):
        report.error(line, f"'{key}' must be a list of text", f"write '{key}: [one, two]'")
        return None
    items: list[str] = []
    for item in value:
        if isinstance(item, list | dict) or item is None or isinstance(item, bool):
            report.error(line, f"'{key}' has an item that is not text: {item!r}", "quote it")
            continue
        text = str(item).strip()
        if text and text not in items:
            items.append(text)
    return tuple(items)


def _products(
    key: str, value: Any, line: int, report: _Reporter, c: Sequence[str]
) -> tuple[str, ...] | None:
    items = _text_list(key, value, line, report, c)
    if items is None:
        return None
    good = []
    for item in items:
        if item in PRODUCTS:
            good.append(item)
        else:
            close = difflib.get_close_matches(item, PRODUCTS, n=1, cutoff=0.6)
            hint = f"did you mean '{close[0]}'?" if close else "allowed: " + ", ".join(PRODUCTS)
            report.error(line, f"unknown product '{item}'", hint)
    return tuple(good)


def _councils(
    key: str, value: Any, line: int, report: _Reporter, councils: Sequence[str]
) -> tuple[str, ...] | None:
    items = _text_list(key, value, line, report, councils)
    if items is None:
        return None
    if not councils:
        return items
    good = []
    for item in items:
        if item in councils:
            good.append(item)
        else:
            report.error(line, f"unknown council '{item}'", "councils: " + ", ".join(councils))
    # With no known council left the article is shown to no one rather than to everyone.
    return tuple(good) if good or not items else items


def _owner(key: str, value: Any, line: int, report: _Reporter, c: Sequence[str]) -> str | None:
    text = _text(key, value, line, report, c)
    if text is not None and not EMAIL_RE.match(text):
        report.error(
            line, f"owner {text!r} is not an email address", "write e.g. owner: a@b.gov.uk"
        )
        return None
    return text


def _date(
    key: str, value: Any, line: int, report: _Reporter, _c: Sequence[str]
) -> datetime.date | None:
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    if isinstance(value, str):
        try:
            return datetime.date.fromisoformat(value.strip())
        except ValueError:
            pass
    report.error(line, f"'{key}' is not a date: {value!r}", f"write '{key}: 2026-03-31'")
    return None


_CHECKERS: dict[str, Checker] = {
    "title": _text,
    "summary": _text,
    "tags": _text_list,
    "products": _products,
    "councils": _councils,
    "questions": _text_list,
    "owner": _owner,
    "review_by": _date,
    "valid_from": _date,
    "valid_until": _date,
    "related": _text_list,
    "source": _text,
}


def _check_body(
    body: str,
    body_line: int,
    fields: Mapping[str, Any],
    report: _Reporter,
    councils: Sequence[str],
) -> None:
    if not body.strip():
        report.warning(body_line, "the article has no body", "write the steps below the '---'")
    if ":::" not in body:
        return
    segments, marker_problems = split_variants(body)
    for mp in marker_problems:
        report.error(body_line + max(mp.offset, 0), mp.message, mp.hint)
    limited: tuple[str, ...] = fields.get("councils", ())
    for segment in segments:
        line = body_line + segment.marker_line
        for key in segment.councils:
            if councils and key not in councils:
                report.error(
                    line, f"unknown council '{key}' in block", "councils: " + ", ".join(councils)
                )
            elif limited and key not in limited:
                report.warning(
                    line,
                    f"block for '{key}', but the article is limited to {', '.join(limited)}",
                    f"add '{key}' to 'councils' or remove the block",
                )


def _check_placeholders(
    body: str,
    body_line: int,
    fields: Mapping[str, Any],
    lines: Mapping[str, int],
    report: _Reporter,
    known: Collection[str],
) -> None:
    """An unknown ``{{ name }}`` would reach staff as typed: an error at its line."""
    found = [(body_line + offset, name) for offset, name in ph.find(body)]
    for key in ("title", "summary"):
        found += [(lines.get(key, 2), name) for _, name in ph.find(str(fields.get(key, "")))]
    for line, name in sorted(found):
        if name not in known:
            report.error(line, f"unknown placeholder {{{{ {name} }}}}", ph.hint(name, known))


def _check_dates(fields: Mapping[str, Any], lines: Mapping[str, int], report: _Reporter) -> None:
    start, end = fields.get("valid_from"), fields.get("valid_until")
    if start is not None and end is not None and end < start:
        report.error(
            lines["valid_until"], "'valid_until' is before 'valid_from'", "swap or fix the dates"
        )
    if "owner" not in fields and "owner" not in lines:
        report.warning(2, "no 'owner'", "add 'owner: someone@council.gov.uk' who keeps it right")
