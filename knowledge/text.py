"""Text to words: markdown stripping, normalisation, tokens, stop words and stems.

>>> content_words(words("My diary won't show my colleagues' appointments!"))
['diary', 'show', 'colleagues', 'appointments']
>>> stem("appointments")
'appoint'
>>> words("Can't open C:\\\\Users\\\\x.ost (0x8004010F)")
['cant', 'open', 'c', 'users', 'x', 'ost', '0x8004010f']
>>> content_words(words("Do I need to tell IT? It starts Monday"))
['need', 'tell', 'ict', 'starts', 'monday']
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from functools import lru_cache

import Stemmer

_WORD_RE = re.compile(r"[a-z0-9]+")
_APOSTROPHE_RE = re.compile(r"(?<=[a-z])['’](?:s|t|re|ve|ll|d|m)\b")
_LINK_RE = re.compile(r"\]\([^)]*\)")
_HTML_RE = re.compile(r"<[^>\s][^>]*>")
_MARKER_RE = re.compile(r"^\s*:::\s*(?:council\b.*)?$", re.MULTILINE | re.IGNORECASE)
_IT_RE = re.compile(r"\bIT\b")
#: Error codes, on normalised text: hex (0x8004010f, or 8004010f / 80070005 as HRESULTs
#: are often written), sign-in codes (aadsts50076), negative decimal HRESULTs
#: (-2147467259), and a number of three or more digits right after "error" or "code".
_CODE_RE = re.compile(
    r"\b0x[0-9a-f]{4,16}\b"
    r"|\b8[0-9a-f]{7}\b"
    r"|\b[a-z]{2,10}[0-9]{4,}\b"
    r"|(?<![0-9])-21[0-9]{8}\b"
    r"|(?<=error )[0-9]{3,}\b|(?<=code )[0-9]{3,}\b|(?<=error code )[0-9]{3,}\b"
    r"|(?<=error: )[0-9]{3,}\b|(?<=code: )[0-9]{3,}\b"
)
_CODE_SHAPE_RE = re.compile(r"0x[0-9a-f]{4,16}|8[0-9a-f]{7}|[a-z]{2,10}[0-9]{4,}")
#: Text between quotation marks (straight or curly), at least two words long.
_QUOTE_RE = re.compile(r"[\"“”]([^\"“”]{3,300}?\s[^\"“”]{1,300}?)[\"“”]")

#: English function words that carry no topic. Negations and words that change an IT
#: meaning ("out", "off", "down", "up", "new") are kept.
STOP_WORDS = frozenset(
    """
    a about above after again against all am an and any are as at be because been before being
    below between both but by can cannot could did do does doing during each few for from further
    had has have having he her here hers herself him himself his how i if in into is it its itself
    just me more most my myself nor of once only or other our ours ourselves own same she should
    so some such than that the their theirs them themselves then there these they this those
    through to too under until very was we were what when where which while who whom why will with
    would you your yours yourself yourselves also get got im ive id dont doesnt didnt cant wont
    isnt arent wasnt werent shouldnt couldnt wouldnt please hi hello thanks thank ok okay yes
    way ll re ve s t d m us let lets may might must shall whats thats theres heres hows wheres
    whens whys whos youre youve youll youd theyre theyve weve hes shes
    """.split()
)

_STEMMER = Stemmer.Stemmer("english")


def spell_out_it(text: str) -> str:
    """A capitalised "IT" is the department, not the pronoun: write it "ICT", as the
    articles name the service (unless the whole text is in capitals).

    >>> spell_out_it("Nothing works, get me someone from IT"), spell_out_it("IT WONT LOAD")
    ('Nothing works, get me someone from ICT', 'IT WONT LOAD')
    """
    if "IT" not in text or text.upper() == text:
        return text
    return _IT_RE.sub("ICT", text)


def normalise(text: str) -> str:
    """Lower-case, accents folded, contractions joined ("won't" -> "wont"), "IT" -> "ict"."""
    text = spell_out_it(text)
    if text.isascii():
        text = text.lower()
    else:
        text = unicodedata.normalize("NFKC", text).lower()
        text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    if "'" not in text and "’" not in text:
        return text
    return _APOSTROPHE_RE.sub(lambda m: m.group(0)[1:], text.replace("’", "'"))


def strip_markdown(text: str) -> str:
    """Drop link targets, HTML tags and variant markers; keep the words."""
    if ":::" in text:
        text = _MARKER_RE.sub(" ", text)
    if "](" in text:
        text = _LINK_RE.sub("] ", text)
    return _HTML_RE.sub(" ", text) if "<" in text else text


def error_codes(text: str) -> list[str]:
    """The error codes in ``text``, as the word tokens :func:`words` makes of them,
    each with its bare form too when written with ``0x`` (articles write both).

    >>> error_codes("Error 0x8004010F, then AADSTS50076; error code 30088 (not 2024)")
    ['0x8004010f', '8004010f', 'aadsts50076', '30088']
    >>> error_codes("HRESULT -2147467259 at 80070005")
    ['2147467259', '80070005']
    """
    found: list[str] = []
    for match in _CODE_RE.finditer(normalise(text)):
        code = match.group(0).lstrip("-")
        found.append(code)
        if code.startswith("0x"):
            found.append(code[2:])
    return list(dict.fromkeys(found))


def is_error_code(word: str) -> bool:
    """Whether one word token is an error code by its shape (hex or letters+digits).

    >>> [is_error_code(w) for w in ("0x8004010f", "aadsts50076", "80070005", "2024", "win32")]
    [True, True, True, False, False]
    """
    return bool(_CODE_SHAPE_RE.fullmatch(word))


def quoted(text: str) -> list[str]:
    """Passages of ``text`` in quotation marks (two words or more): pasted messages.

    >>> quoted('Outlook says "We could not sign you in" and “Your mailbox is full”')
    ['We could not sign you in', 'Your mailbox is full']
    """
    return [m.group(1) for m in _QUOTE_RE.finditer(text)]


def words(text: str) -> list[str]:
    """Lower-case word tokens, stop words kept."""
    return _WORD_RE.findall(normalise(text))


@lru_cache(maxsize=200_000)
def stem(word: str) -> str:
    """The Snowball (Porter2) English stem of ``word``."""
    return str(_STEMMER.stemWord(word))


def is_stop(word: str) -> bool:
    return word in STOP_WORDS


def content_words(tokens: Iterable[str]) -> list[str]:
    """The tokens that carry meaning: no stop words, no single characters."""
    return [w for w in tokens if w not in STOP_WORDS and 2 <= len(w) < 40]
