"""Reading the example phrasings: one UTF-8 text file per intent, ``<intent>.txt``.

One example per line; blank lines and lines starting with ``#`` are ignored. The file name is
the intent, so adding an intent means adding a file (and, in the bot, a flow).

>>> import tempfile
>>> with tempfile.TemporaryDirectory() as d:
...     _ = (Path(d) / "thanks.txt").write_text("# thanking\\ncheers\\nta very much\\n")
...     load_examples(Path(d))
{'thanks': ('cheers', 'ta very much')}
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from pathlib import Path

#: The examples shipped with the package.
BUNDLED_DATA = Path(__file__).with_name("data")

_INTENT_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


class IntentDataError(ValueError):
    """An examples folder is missing, empty, or has a file that is not a valid intent."""


def example_files(data_dir: Path) -> list[Path]:
    """The ``<intent>.txt`` files of ``data_dir``, sorted by intent name."""
    if not data_dir.is_dir():
        raise IntentDataError(f"no intent examples folder at {data_dir}")
    files = sorted(data_dir.glob("*.txt"))
    if not files:
        raise IntentDataError(f"{data_dir} has no <intent>.txt example files")
    return files


def load_examples(data_dir: Path) -> dict[str, tuple[str, ...]]:
    """Intent name -> its examples, in file order, duplicates (ignoring case) dropped."""
    examples: dict[str, tuple[str, ...]] = {}
    for path in example_files(data_dir):
        intent = path.stem
        if not _INTENT_NAME.match(intent):
            raise IntentDataError(
                f"{path.name}: name intent files in lower_snake_case, like reset_password.txt"
            )
        seen: set[str] = set()
        lines: list[str] = []
        for raw in path.read_text(encoding="utf-8").splitlines():
            line = " ".join(raw.split())
            if line and not line.startswith("#") and line.lower() not in seen:
                seen.add(line.lower())
                lines.append(line)
        if not lines:
            raise IntentDataError(f"{path.name} has no examples: add one phrasing per line")
        examples[intent] = tuple(lines)
    return examples


def fingerprint(examples: Mapping[str, tuple[str, ...]], *extra: str) -> str:
    """A short hash of the examples (and ``extra`` texts such as the lexicon), to tell whether
    a shipped model was built from them."""
    digest = hashlib.sha256()
    for text in extra:
        digest.update(text.encode() + b"\0")
    for intent in sorted(examples):
        digest.update(intent.encode())
        for line in examples[intent]:
            digest.update(b"\n" + line.encode())
        digest.update(b"\0")
    return digest.hexdigest()[:16]
