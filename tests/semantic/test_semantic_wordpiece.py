"""The pure-Python WordPiece tokenizer matches the model's tokenizer.json token for token."""

from __future__ import annotations

import pytest

from knowledge.semantic import messages
from knowledge.semantic.model_files import find_model_dir, load_model_files
from knowledge.semantic.wordpiece import WordPiece, normalize, pre_tokenize
from tests.conftest import need

#: Token ids from the Hugging Face tokenizer that sentence-transformers uses for this model
#: (tokenizers 0.23.3, truncation at 256), for texts that exercise every rule.
# fmt: off
GOLDEN = [
    (
        "My diary won't show my colleague's appointments!",
        [101, 2026, 9708, 2180, 1005, 1056, 2265, 2026, 11729, 1005, 1055, 14651, 999, 102],
    ),
    (
        "AADSTS50076: Due to a configuration change (code 0x80070005)",
        [101, 9779, 5104, 3215, 29345, 2581, 2575, 1024, 2349, 2000, 1037, 9563, 2689, 1006,
         3642, 1014, 2595, 17914, 2692, 19841, 8889, 2629, 1007, 102],
    ),
    (
        "Café naïve Zürich ΟΔΟΣ İstanbul ﬁnance",
        [101, 7668, 15743, 10204, 1169, 29722, 29730, 29733, 9960, 1984, 7229, 3401, 102],
    ),
    ("会议室 booking 😀👍🏽 📅", [101, 1763, 100, 100, 21725, 100, 100, 102]),
    (
        "control\x00chars\x07in\x1fthe\x7fmiddle\x0bof\x0ctext\u200b\u00a0nbsp",
        [101, 2491, 7507, 2869, 18447, 29122, 3593, 10362, 15794, 10288, 2102, 1050, 5910,
         2361, 102],
    ),
    (
        "C:\\Users\\j.smith\\report_final(2).xlsx first.last+tag@council.gov.uk",
        [101, 1039, 1024, 1032, 5198, 1032, 1046, 1012, 3044, 1032, 3189, 1035, 2345, 1006,
         1016, 1007, 1012, 28712, 2015, 2595, 2034, 1012, 2197, 1009, 6415, 1030, 2473,
         1012, 18079, 1012, 2866, 102],
    ),
    ("a" * 120 + " unaffordable", [101, 100, 14477, 4246, 8551, 3085, 102]),
]
# fmt: on

TRICKY = [
    *(text for text, _ in GOLDEN),
    "",
    "   ",
    "tabs\tand\nnew\r\nlines",
    "ΟΔΟΣ ΣΟΦΙΑΣ λόγος",
    "İstanbul DİYARBAKIR ǅemal ﬂow ℌilbert x² ⅓ ① Ⅻ",
    "Привет, мой пароль не работает; مرحبا; שלום; हिंदी में",
    "«quoted» „text“ ‘single’ “double” ‹angle› ¿Dónde? ¡Sí!",
    "\u202eright to left override\u202c text \u2028line\u2029para\u0085next",
    "!!! ??? ... --- *** ### $$$ %%% ^^^ &&& ~~~ ``` ||| <<< >>>",
    "word " * 300,
]


@pytest.fixture(scope="module")
def tokenizer():
    need(find_model_dir() is not None, f"the model is not installed ({messages.INSTALL_MODEL})")
    return WordPiece(load_model_files().vocab)


@pytest.mark.parametrize(("text", "expected"), GOLDEN, ids=range(len(GOLDEN)))
def test_matches_the_reference_tokenizer(tokenizer, text, expected):
    assert tokenizer.encode(text) == expected


def test_truncates_to_256_tokens_with_cls_and_sep(tokenizer):
    ids = tokenizer.encode("calendar " * 1000)
    assert len(ids) == 256
    assert ids[0] == tokenizer.cls_id
    assert ids[-1] == tokenizer.sep_id


def test_agrees_with_huggingface_tokenizers_when_installed(tokenizer):
    tokenizers = pytest.importorskip("tokenizers", reason="tokenizers is not installed")
    folder = find_model_dir()
    assert folder is not None
    reference = tokenizers.Tokenizer.from_file(str(folder / "tokenizer.json"))
    reference.enable_truncation(256)
    reference.no_padding()
    for text in TRICKY:
        assert tokenizer.encode(text) == reference.encode(text).ids, text


TINY = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "un", "##afford", "##able", "cafe", "!", "a"]


def test_greedy_longest_match_with_continuations():
    tok = WordPiece(TINY)
    assert tok.tokenize("Unaffordable!") == ["un", "##afford", "##able", "!"]
    assert tok.tokenize("unknowable") == ["[UNK]"]  # a word it cannot spell is one [UNK]
    assert tok.tokenize("a" * 101) == ["[UNK]"]  # longer than 100 characters
    assert tok.encode("CAFÉ") == [2, 7, 3]


def test_normalisation_rules():
    assert normalize("Café\u00a0ZÜRICH") == "cafe zurich"
    assert normalize("a\x00b\x07c\u200bd\tE") == "abcd e"
    assert normalize("会议") == " 会  议 "
    assert normalize("ΟΔΟΣ") == "οδοσ"  # one character at a time, as the Rust tokenizer does
    assert pre_tokenize("don't stop-me now!") == ["don", "'", "t", "stop", "-", "me", "now", "!"]
    assert pre_tokenize("a$b+c") == ["a", "$", "b", "+", "c"]  # ASCII symbols count as punctuation
