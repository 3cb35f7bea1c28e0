"""The one redaction step: secrets people type are hidden before anything keeps or sends text.

Everything that stores, echoes, logs or forwards typed text passes it through
:func:`redact` (or :func:`scan`, which also says what it found) first: turn texts, flow
data, ticket summaries, descriptions, transcripts and comments, outbox payloads, what an
external desk is sent, and every log line (:class:`RedactingFilter`). It lives at the
root of the package so the desk and the conversation both use the same rule without one
importing the other.

Two kinds of rule:

- **phrases**: a secret named and then given — "my password is Hunter2", "pin: 4321",
  "otp 998877", "my new password is purple monkey dishwasher" (a password of plain words
  runs to the end of the clause), and "my password Hunter2!xyz" with no "is" when the value
  is nothing anyone writes as a plain word. Ordinary words after "password is" ("expired", "wrong",
  "locked", "not working", "reset") are left alone, so the bot still understands them.
- **tokens**: the regular expressions of the token plugins of Yelp's detect-secrets (AWS,
  GitHub, Slack, Stripe, private keys, JWTs, credentials in URLs, Twilio, SendGrid, npm,
  Azure storage, OpenAI, ...), read from the installed package when this module is
  imported, plus a few token formats it does not know yet (:data:`EXTRA_TOKENS`). Its
  keyword and entropy plugins are left out: they are built for source code and would hide
  ordinary words.

>>> redact("my password is Hunter2 and it fails")
'my password is [redacted] and it fails'
>>> scan("my password is expired").kinds
()
>>> scan("token ghp_" + "a1B2" * 9 + " leaked").kinds
('GitHub Token',)
"""

from __future__ import annotations

import importlib
import inspect
import logging
import pkgutil
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

MASK = "[redacted]"

# -- phrase rules -----------------------------------------------------------------------------

_KEYWORD = (
    r"pass(?:word|wd|code|phrase)s?|pwd|pin(?:[ -]?(?:code|number))?|"
    r"one[- ]?time[ -](?:pass)?code|otp|code|token"
)
#: a secret named, then given: "password is ...", "pin: ...", "token = ..."
_NAMED = re.compile(
    rf"\b(?P<key>{_KEYWORD})\b"
    r"(?P<sep>\s*[:=]\s*|\s+-\s*|\s+(?:is|was|will\s+be|should\s+be)"
    r"(?:\s+(?:now|currently|still|actually|set\s+to|changed\s+to))?\s+)",
    re.IGNORECASE,
)
#: a code given straight after its name: "otp 998877", "pin 4321", "code #123 456"
_DIRECT = re.compile(
    r"\b(?P<key>otp|pin|passcode|(?:one[- ]?time[ -](?:pass)?)?code)\s*#?\s*"
    r"(?P<value>\d(?:[ -]?\d){3,11})(?!\w)",
    re.IGNORECASE,
)
#: a password given straight after its name, with no "is": "my password Hunter2!xyz won't work",
#: "new pwd: ..." is ``_NAMED``'s; only a value nobody writes as a plain word counts here
_BARE = re.compile(
    r"\b(?:my|new|old|temp(?:orary)?|current|the|our|his|her|their)\s+"
    r"(?P<key>pass(?:word|wd|phrase)|pwd)\s+(?P<value>\S+)",
    re.IGNORECASE,
)
#: "error code 53003" is an error, not a secret: the word before the name says so
_NOT_SECRET_BEFORE = frozenset(
    "error status exit reason response return result event http cost post zip area sort tax "
    "budget product source country dial dialling booking reference ref tracking order project "
    "job ticket incident stop qr bar shortcode short".split()
)
#: words that may follow "password is" without being the password
_ORDINARY = frozenset(
    "expired expiring expires expire about due going wrong incorrect invalid not no never "
    "locked blocked disabled suspended reset resetting changed changing forgotten forgot lost "
    "stolen compromised leaked hacked correct right fine ok okay working broken rejected "
    "refused accepted required needed weak strong too very so short long case same "
    "different old new empty blank missing saved stored remembered shared out up down in on "
    "at for of to from with by the a an my your his her our their its this that these those "
    "it i you he she we they me him them what which who how why when where there here "
    "still also just only now already being been getting showing asking coming sent "
    "definitely probably maybe and but or because if although though since as then "
    "supposed meant set valid good bad all always apparently somehow really unknown stuck "
    "change reset update help unlock".split()
)
#: where a multi-word password stops
_CONNECTIVE = frozenset(
    "and but so because or then which when while though although if since as yet however "
    "i it we you they he she please thanks cheers".split()
)
_WORD = re.compile(r"(?:[^\s.,;!?]|[.,;!?](?=[^\s.,;!?]))+")
_GAP = re.compile(r"[ \t]+")
_MAX_WORDS = 8


def _word_before(text: str, start: int) -> str:
    match = re.search(r"(\w+)\W*$", text[max(0, start - 40) : start])
    return match.group(1).lower() if match else ""


_STRIP = ".,;!?\"'()[]*_`"
#: "doesn't", "won't", "it's": a word with an apostrophe, in lower case
_CONTRACTION = re.compile(r"[a-z]+['\u2019](?:t|s|re|ve|ll|d|m)")


def _ordinary(word: str) -> bool:
    """A word that says something about the password rather than being it: "expired",
    "being", "usually", "the"."""
    return (
        word in _ORDINARY
        or (len(word) >= 6 and word.endswith("ed"))
        or (len(word) >= 5 and word.endswith(("ing", "ly")))
    )


def _looks_secret(token: str) -> bool:
    """A typed value nobody writes as a plain word: digits, symbols or MiXed case."""
    core = token.strip(_STRIP)
    if not core or core == MASK.strip("[]") or not any(c.isalnum() for c in core):
        return False
    if core.isdigit():
        return len(core) >= 4
    if _CONTRACTION.fullmatch(core):  # "my password doesn't meet the rules": a plain word
        return False
    if not core.isalpha():
        return True
    return any(c.isupper() for c in core[1:])


def _named_value(text: str, start: int) -> tuple[int, int] | None:
    """Where the value after "password is" lies, or ``None`` when it is an ordinary word."""
    first = re.compile(r"\S+").match(text, start)
    if first is None or first.group().startswith(MASK):
        return None
    token = first.group()
    word = token.strip(_STRIP).lower()
    if not word or _ordinary(word):
        return None
    if _looks_secret(token):
        return first.span()
    # plain words: a passphrase, to the end of the clause
    end = start
    pos = start
    for count in range(_MAX_WORDS):
        if count:
            gap = _GAP.match(text, pos)
            if gap is None:
                break
            pos = gap.end()
        word_match = _WORD.match(text, pos)
        if word_match is None or word_match.group().lower() in _CONNECTIVE:
            break
        end = pos = word_match.end()
        if pos < len(text) and text[pos] in ".,;!?":  # the clause ends here
            break
    return (start, end) if end > start else None


def _phrases(text: str) -> list[tuple[int, int, str]]:
    found: list[tuple[int, int, str]] = []
    for match in _NAMED.finditer(text):
        if _word_before(text, match.start()) in _NOT_SECRET_BEFORE:
            continue
        span = _named_value(text, match.end())
        if span is not None:
            found.append((*span, _kind(match.group("key"))))
    for match in _BARE.finditer(text):
        value = match.group("value")
        # "expire?](../sign-in/...)" is a word with a link after it; "Testing123" is not
        lead = re.match(r"[^\W\d_]+(?=[^\w]|$)", value.strip(_STRIP))
        if _looks_secret(value) and not (lead and _ordinary(lead.group().lower())):
            start, end = match.span("value")
            while end > start and text[end - 1] in ".,;!?\"')":  # the clause's punctuation stays
                end -= 1
            found.append((start, end, "password"))
    for match in _DIRECT.finditer(text):
        if _word_before(text, match.start()) in _NOT_SECRET_BEFORE:
            continue
        found.append((*match.span("value"), _kind(match.group("key"))))
    return found


def _kind(keyword: str) -> str:
    word = keyword.lower()
    if word.startswith(("pass", "pwd")) and "code" not in word:
        return "password"
    if word.startswith("pin"):
        return "PIN"
    if word == "token":
        return "token"
    return "one-time code"


# -- token rules: detect-secrets' plugins -----------------------------------------------------

#: plugins that are not about tokens in a message: built for source code (keywords,
#: entropy) or not secret at all (public IP addresses, which people give the desk)
_SKIPPED_PLUGINS = frozenset({"keyword", "high_entropy_strings", "ip_public"})

#: token formats detect-secrets does not know (yet), same shape as its plugins
EXTRA_TOKENS: tuple[tuple[str, str], ...] = (
    ("GitHub Token", r"\bgithub_pat_[A-Za-z0-9_]{22,}"),
    ("NPM tokens", r"\bnpm_[A-Za-z0-9]{36}\b"),
    ("OpenAI Token", r"\bsk-(?:proj|svcacct|admin)-[A-Za-z0-9_-]{20,}"),
    ("Stripe Access Key", r"\b(?:sk|rk)_(?:live|test)_[0-9a-zA-Z]{16,}"),
    ("Slack Token", r"\bxox[abposr]-[A-Za-z0-9-]{10,}"),
    ("Google API Key", r"\bAIza[0-9A-Za-z_-]{35}"),
    ("Bearer Token", r"(?i)\bbearer\s+([A-Za-z0-9_\-.=+/]{20,})"),
)

#: after a token pattern matches, the rest of the token goes too (real keys are often
#: longer than the pattern demands)
_TAIL = re.compile(r"(?:[A-Za-z0-9_\-+/=]|\.(?=[A-Za-z0-9_\-]))*")
_PRIVATE_KEY_END = re.compile(
    r"-*\s*END [A-Z0-9 ]*(?:PRIVATE KEY|KEY BLOCK)\s*-*|Private-MAC:[^\n]*"
)


def _detect_secrets_patterns() -> list[tuple[str, re.Pattern[str]]]:
    """Every compiled pattern of detect-secrets' regex plugins, with the plugin's type."""
    import detect_secrets.plugins as plugins
    from detect_secrets.plugins.base import RegexBasedDetector

    found: list[tuple[str, re.Pattern[str]]] = []
    for info in pkgutil.iter_modules(plugins.__path__):
        if info.name in _SKIPPED_PLUGINS or info.name == "base":
            continue
        module = importlib.import_module(f"{plugins.__name__}.{info.name}")
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if (
                cls.__module__ == module.__name__
                and issubclass(cls, RegexBasedDetector)
                and not inspect.isabstract(cls)
            ):
                # a class attribute on each plugin (a property only on the abstract base)
                patterns: tuple[re.Pattern[str], ...] = tuple(getattr(cls, "denylist", ()))
                found.extend((str(cls.secret_type), pattern) for pattern in patterns)
    if not found:  # a changed package layout must not silently switch redaction off
        raise RuntimeError("detect-secrets has no regex plugins: check the installed version")
    return found


_TOKENS: list[tuple[str, re.Pattern[str]]] = [
    *_detect_secrets_patterns(),
    *((kind, re.compile(pattern)) for kind, pattern in EXTRA_TOKENS),
]


def _token_span(kind: str, match: re.Match[str], text: str) -> tuple[int, int]:
    groups = [i for i in range(1, (match.re.groups or 0) + 1) if match.group(i)]
    if groups and match.start(groups[0]) > match.start():
        # the group is the secret after its context ("://user:<secret>@", "key = '<secret>'")
        start, end = match.span(groups[0])
    else:
        start, end = match.span()
        while start < end and text[start] in " \t\r\n=:\"'":
            start += 1
        while end > start and text[end - 1] in " \t\r\n\"'":
            end -= 1
    if kind == "Private Key":  # the whole block, to its END line (or the end of the text)
        line_start = text.rfind("\n", 0, start) + 1
        start = line_start if "-----" in text[line_start:start] else start
        closing = _PRIVATE_KEY_END.search(text, end)
        return start, closing.end() if closing else len(text)
    tail = _TAIL.match(text, end)
    return start, tail.end() if tail else end


def _tokens(text: str) -> list[tuple[int, int, str]]:
    found: list[tuple[int, int, str]] = []
    for kind, pattern in _TOKENS:
        for match in pattern.finditer(text):
            if match.end() > match.start():
                found.append((*_token_span(kind, match, text), kind))
    return found


# -- the step ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Redaction:
    """The text with every secret replaced by ``[redacted]``, and what kinds were found."""

    text: str
    kinds: tuple[str, ...] = ()

    @property
    def found(self) -> bool:
        return bool(self.kinds)


def scan(text: str) -> Redaction:
    """Find and hide the secrets in ``text``.

    >>> scan("the otp 998877 didn't arrive, key AKIAIOSFODNN7EXAMPLE")
    Redaction(text="the otp [redacted] didn't arrive, key [redacted]", kinds=('AWS Access Key', 'one-time code'))
    """  # noqa: E501 (a doctest's output is one line)
    if not text:
        return Redaction(text)
    spans = sorted(_tokens(text) + _phrases(text))
    if not spans:
        return Redaction(text)
    out: list[str] = []
    kinds: set[str] = set()
    pos = 0
    for start, end, kind in spans:
        kinds.add(kind)
        if end <= pos:
            continue  # inside a span already hidden
        if start < pos:
            start = pos
        else:
            out.append(text[pos:start])
            out.append(MASK)
        pos = end
    out.append(text[pos:])
    return Redaction("".join(out), tuple(sorted(kinds)))


def redact(text: str) -> str:
    """Hide anything that looks like a secret someone typed ("my password is ...")."""
    return scan(text).text


def redact_values(values: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of ``values`` with every string in it redacted (nested lists and dicts too).

    >>> redact_values({"user": "pin 4321", "n": 2})
    {'user': 'pin [redacted]', 'n': 2}
    """
    return {key: _redact_any(value) for key, value in values.items()}


def _redact_any(value: Any) -> Any:
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, Mapping):
        return redact_values(value)
    if isinstance(value, list | tuple):
        return type(value)(_redact_any(item) for item in value)
    return value


class RedactingFilter(logging.Filter):
    """Hides secrets in every record a handler emits: the message and any traceback.

    Installed on the handlers the command line sets up (``bot.cli``), so no log line holds
    a secret someone typed, whichever module logged it.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


def install_log_redaction(logger: logging.Logger | None = None) -> None:
    """Add a :class:`RedactingFilter` to each handler of ``logger`` (the root logger)."""
    for handler in (logger or logging.getLogger()).handlers:
        if not any(isinstance(f, RedactingFilter) for f in handler.filters):
            handler.addFilter(RedactingFilter())
