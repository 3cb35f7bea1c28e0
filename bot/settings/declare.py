"""One declaration per setting, and what derives from it: reading, errors, the README table.

A setting is declared once, as a field of :class:`bot.settings.Settings`::

    port: int = setting("ITBOT_PORT", parsers.port, 8080, "Port `itbot serve` listens on.",
                        group="web")

:func:`read` turns an environ mapping (plus the TOML file ``ITBOT_CONFIG`` names) into the
fields' values, putting the variable's name in front of any parser's complaint;
:func:`markdown_table` writes the README's configuration table from the same declarations.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import tomllib
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any, Generic, Literal, TypeVar

from bot.errors import SettingsError
from bot.settings import parsers
from bot.settings.values import Secret

T = TypeVar("T")

Group = Literal["core", "web", "knowledge", "slack", "teams", "email", "desk", "access", "external"]

#: The groups, in the order the README lists them, with their headings.
GROUPS: dict[Group, str] = {
    "core": "Core",
    "web": "Web server and web chat",
    "knowledge": "Knowledge base and search",
    "slack": "Slack",
    "teams": "Microsoft Teams",
    "email": "Email",
    "desk": "Service desk",
    "access": "Identity, resets and notifications",
    "external": "External service desk",
}

#: Where a field keeps its declaration (``dataclasses.Field.metadata``).
KEY = "itbot.setting"


def plain(value: object) -> str:
    """A value as the text its parser reads back (secrets hidden).

    >>> plain(("08:30", "17:00")), plain(10.0), plain({}), plain(Secret("x"))
    ('08:30,17:00', '10', '{}', '********')
    """
    if isinstance(value, Secret):
        return "********"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, tuple):
        return ",".join(plain(v) for v in value)
    if isinstance(value, Mapping):
        return json.dumps(dict(value))
    return str(value)


@dataclasses.dataclass(frozen=True)
class Setting(Generic[T]):
    """One setting: its variable, parser, default, one-line doc and group."""

    env: str
    parse: Callable[[str], T]
    default: T
    doc: str
    group: Group = "core"
    #: the README's default when a phrase says it better ("bundled articles")
    shown: str | None = None
    #: a value as text the parser reads back (``itbot settings`` shows values this way)
    text: Callable[[T], str] = plain
    #: parses the value of a TOML table (``[[councils]]``) rather than text
    from_file: Callable[[object], T] | None = None
    #: the attribute of ``Settings`` (filled in from the field's name)
    attr: str = ""

    @property
    def shown_default(self) -> str:
        """The default as the README shows it."""
        return self.shown or self.show(self.default)

    def show(self, value: T) -> str:
        """A value for the README: ``(none)``, or its text in backquotes."""
        text = self.display(value)
        return text if text == "(none)" else f"`{text}`"

    def display(self, value: T) -> str:
        """A value for people: its text (secrets hidden), ``(none)`` when unset or empty."""
        return ("" if value is None else self.text(value)) or "(none)"


def setting(
    env: str,
    parse: Callable[[str], T],
    default: T,
    doc: str,
    *,
    group: Group,
    shown: str | None = None,
    text: Callable[[T], str] | None = None,
    from_file: Callable[[object], T] | None = None,
) -> T:
    """Declare a field of ``Settings``: the dataclass field, with its declaration attached."""
    declared = Setting(
        env=env,
        parse=parse,
        default=default,
        doc=doc,
        group=group,
        shown=shown,
        text=text or plain,
        from_file=from_file,
    )
    metadata = {KEY: declared}
    if type(default).__hash__ is None:  # a mutable default (a dict): each object gets a copy
        return dataclasses.field(default_factory=lambda: copy.copy(default), metadata=metadata)
    return dataclasses.field(default=default, metadata=metadata)


#: The settings file itself: read before everything else, so not a field.
CONFIG: Setting[Path | None] = Setting(
    env="ITBOT_CONFIG",
    parse=parsers.path,
    default=None,
    doc="Path of an optional TOML file with the settings below (lower-case names without "
    "the prefix, e.g. `port = 9000`, plus `[[councils]]` tables).",
    group="core",
)


def declared(fields: Iterable[dataclasses.Field[Any]]) -> tuple[Setting[Any], ...]:
    """The settings file, then every declared field, grouped in :data:`GROUPS` order."""
    found = [dataclasses.replace(f.metadata[KEY], attr=f.name) for f in fields if KEY in f.metadata]
    order = list(GROUPS)
    return (CONFIG, *sorted(found, key=lambda s: order.index(s.group)))


def read(settings: Iterable[Setting[Any]], environ: Mapping[str, str]) -> dict[str, Any]:
    """The values set in ``environ`` or the settings file, by attribute; the rest is default.

    The environment wins over the file, even when empty (then the default applies).
    """
    fields = [s for s in settings if s.attr]
    texts: dict[str, str] = {}
    tables: dict[str, object] = {}
    config = environ.get(CONFIG.env)
    if config:
        by_attr = {s.attr: s for s in fields}
        for key, value in _read_toml(Path(config)).items():
            found = by_attr.get(key.lower())
            if found is None:
                continue
            if found.from_file is not None:
                tables[found.attr] = value
            else:
                texts[found.env] = value if isinstance(value, str) else json.dumps(value)
    known = {s.env for s in fields}
    texts.update({k: v for k, v in environ.items() if k in known})

    values: dict[str, Any] = {}
    for s in fields:
        raw = texts.get(s.env)
        if raw:
            values[s.attr] = _parse(s.env, s.parse, raw)
        elif s.from_file is not None and s.attr in tables:
            values[s.attr] = _parse(f"{CONFIG.env} [[{s.attr}]]", s.from_file, tables[s.attr])
    return values


def _parse(name: str, parse: Callable[[Any], T], raw: object) -> T:
    try:
        return parse(raw)
    except ValueError as exc:
        raise SettingsError(name, str(exc)) from None


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        raise SettingsError(CONFIG.env, f"file {path} does not exist") from None
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError(CONFIG.env, f"{path} is not valid TOML: {exc}") from None


def markdown_table(settings: Iterable[Setting[Any]]) -> str:
    """The README's configuration tables: one per group, one row per setting."""
    settings = list(settings)
    lines: list[str] = []
    for group, title in GROUPS.items():
        rows = [s for s in settings if s.group == group]
        if not rows:
            continue
        lines += [f"**{title}**", "", "| variable | default | what it does |", "|---|---|---|"]
        lines += [f"| `{s.env}` | {s.shown_default} | {s.doc} |" for s in rows]
        lines.append("")
    return "\n".join(lines)
