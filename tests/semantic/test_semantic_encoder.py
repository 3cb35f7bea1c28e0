"""The all-MiniLM-L6-v2 encoder: vectors, agreement with sentence-transformers, both runtimes."""

from __future__ import annotations

import base64
import importlib.util
import threading
from collections.abc import Callable

import numpy as np
import pytest

from knowledge.semantic import load_encoder, messages
from knowledge.semantic.loader import open_minilm
from knowledge.semantic.model_files import find_model_dir
from tests.conftest import need

#: Texts and their sentence-transformers 6.2.0 embeddings (CPU torch 2.13.0), float16, base64.
REFERENCE = [
    ("my diary won't show my colleague's appointments", "ref0"),
    ("Open a colleague's calendar", "ref1"),
    (
        "Your account has been locked. Contact your support person to unlock it, then try again.",
        "ref2",
    ),
    ("ΟΔΟΣ 会议室 😀 " + "long text " * 200, "ref3"),
]
REFERENCE_F16 = {
    "ref0": (
        "1CovJncruKMcq3Uhmq5arduf3KP5rWYoWq2FLu2io6J7JrmpJSX/K4isoqSZKy6bACpKqHWpQaqkq4QlliQgqXes"
        "tqvwMBelLSgfKhYrnKtsqLOrPyQ/KVKmNqZnKgOqQ6izIsGs+CgQrE+m5qneKzMqdx8jqXakbaq+qQis5Si9sMyn"
        "jBT4postziJYp/YqdB8Uo1ArKhqNJtgOOiz6rYirvqTXLTcszSLeqKKlBLBDoTYLLiefmqwma6jBrZwdMqwNMeOl"
        "DiyVmmoplxp6LwKhlqWWGJWvW6F8p2ooMaVqBl6jaat9KlYiPh37qAQsh6HKK86puyKKqcEldC8AgEoj/5jhEQEj"
        "JTCRLDSpeahsqzAeGiUcLKIs/iGErtwu1ydvLG0aW5/VpDqqS6ioKcYely1oLfYm456wJnyp1x2oLKGpICblIpMg"
        "y6W7ISkmOaRWqgColqw0rWYm0C5XLw4jNyyqKbuoXqpcLRusfKpMMPqoICqHoBwpqCdQKuINL6izrDafaamaLR+k"
        "lqT3K5ibzal4oyMp3KNsoTCjRCleLLmo+6NrqG2ub6R7rf0mNShjLWecEylOK8Msz6kAACIhvCQSpweuQih8pCmb"
        "FR5qKcYkhSkNp00jKS1fKJYs3xz9pPoo/xzmq68uIKRoKwcsEadJLIKpYiqPqJCsVa7qrMYadiy2KbqtTKcCqdQi"
        "VaQfoCaqQSj3Jl6mlaAsKEoopSa3qEGujCiVn0KoViZdKHSpHyceIEepE6gLqqWiRx5rpdcQkSUvK0woZSRIJrYm"
        "wacZLWQuO6AmrDGpf6R0qigqEioDrTiqkJ5jLEMdIa4VofgodKpFpyktqSMAgMOhqalkHnylTywKr2soKBLdpVwp"
        "oKY5rDYhXSB7LDKvKSMVoiaqUSBTqGWqySFEqXUoch/VrjYkECM0Lr4ghBQMLD+teazFroqiACGVIBacjyj3qq0o"
        "aCkiqu4gcixxrKYYpyDoqouqFC7tpQCm7g25Lk6pPKStnoIT6yvjqpyp"
    ),
    "ref1": (
        "YCWvLCMgVijoq9kgn60wpWQiZaf2rnMoq6/9LF0so6SHqX2iDChQKu6rj631pT6p2SV8qToqtCVuqDAuiif/p3Wr"
        "j6oeLDEt2SWtKTwm3yIIIuSsfys/LAWrlSfVIt8LPBscK2iqwqVDp82e9iiPLdIjPKpCqCOf1q0lIYutByn2rY4h"
        "AKogJi4mW6mipIsfiIUVKkgnDaikqf8bxSmeqxUgnARcJDikT6ZtLJQpgyezJ20nuyEkLEwmBajYqc+jx6qRKoqq"
        "GS9em3wtGCGGL3qhRiPnnRKqZK3ap+2lyKwZITysEaLYJympLCrDJMskViQ7LIic0iV5pKOp7S0AgF4mpyt0Jpoe"
        "MyxmLICqManZmFCoOSiEKzYpmxdxmI4ufSXpLRGfh6X5o0KtDqEDJq2lHiUzLVglOCvIo9Ah7aSfJOifZaHfKsIh"
        "RaIUHX2nGqm3pxgmb6WXrb8jvi2HI20t9qCsKwCo36iCJY+phavTLVuqfizdqegrNyYbJWMY463vpkanGKzJIJ6j"
        "KqgNIlUirKx3pU0wcioWGV8vIpWDKUmt+C5LIiyxXCjVrk4uZSgqLK6pf6bjo5otVpAAAOMjj6mNqPinii1hoSOp"
        "WKaLJQkkAykgKm8tSxs/LMgccCgpLFKk3CbcqhkoUaKbqastBqGrLFurzyXiq8iwmK9IqsqlcCxPLripI6ZPpWIs"
        "ryVsJpOogi3FLCksJ6tbKMKXWigqqDeflSGQrxoXSClBKYGsMSvTqC+rJa/Npkkb/avmq12kSStWJOYh5yl7qTaq"
        "ZK7mJ3UiOymhqzilbyDzq/IqxSzMrI+pvBgGKnGp7azVK2isXifHgBIsVyIAgJ+bjZSdJBSqlCf8q2EqRqUoKT8t"
        "dKZDpY2iPS2fqv8nmiQOK5ypFaBXK4Sg9y0sqFCoJKXTrq8siCHGKECo3ya4KomsvKproR2udyksnHggyirhpHqp"
        "jCgKrJ+lpCecr2OnUCVsrbWoIaAjryWofyk0jYOqehnnpfWsDCk9qg0n"
    ),
    "ref2": (
        "SKUgsJEmT6loKFwjD6qNqTUt1ShHCc2p6KhjKMEs9SOXrBisCK70JjulW6pdqtMV4ihqrIOuwihMqXInyZyppgaf"
        "fx8sLNCkqK1wJPMYvamvrBMpjapxoWcrySicJMslSyqTK1Qd1ybbqVmlX668J6gtrC3BJkif6iXNpnqnqaharAch"
        "ga7/qMurQKoiKOcgfazHKuQruCkwJC6t3S8gLN6m1JpGJa8sIZZLLQusYxl6paii4Cr9K+kkr6ghm6Cr4CE2LXGu"
        "QCjGKp6koCgLKhora6n2KN0U0aB1qrmclqR/p+QqzKglK5WvcSRtKSQjSSFImhOk7apvqAymrCwAgNSsHJ+mnMgo"
        "pqQJpc+oqKjZrtEiwScurD8hHKTrooEipS1tKRMdZSxhHEOsaSw+nrqqCyl/JXYjfyivIECpXqCjKlahy6ioHDMv"
        "HazXqUmdDxWkrGgijyGoIMAqSyjJK04o/C24qSUkN6sfqb8oxSEuqL0fJqi7rvMhCKhgHF6ospykrAClSx2MI4Es"
        "AaecpEos4CidrXchuIgJKL+s1y3RJy+lSqUSHDig9Cypqo4t75sNoRCotSgJHGIlGqUAAJmp/Kd/rTerjzFbq6Cl"
        "LKcUKA4ogi08LPqaVBwQKtcnr61CLKyoqCZarWslNSOKK/yn7ZTeHu0oTi7aJD4uN6jzqZMurSz2qYIf3KoBp66t"
        "EZngpM0j66c1JuagLC4Mqy0oYyiqKCOozzBtomYWnChQL92rbKSIrYitUiufrNwooixYKF8dKKqNHYAQsK64JREt"
        "TSbgJmSVMrHlJMCqGSbqLf6lt6tFnosknqqFKmksNSSnraMgw6m5qPYoxqQAgMagnaiBK0ohmi0rJ/Ukfa2Fq3Ml"
        "sK+ZnDSr6iocn4Swta2hog8rO6ycof2lFSLcr/klHimXJmMkgR/xqPmm8KWKJ9qqtqh6JVmYGikUKbmqyiqeLMQq"
        "H6OIrH4qqSHbJB0r65M1pGEc0KPsK4slbiO7J2GmSap3prItOis5qQGr"
    ),
    "ref3": (
        "LijNJPwrPCVnrNAkCR4uoKIeiCiUKQwgLCCepRUqPJzej8sjUa0ApNMrAyroLWcjgqgHIbKoPqv+p5SoQKxTMOEv"
        "5info74ovKqRKqgp8iiQrLqqdiIgFMYs4axbqm6oqyP/Jiel2qaPppYtD6eGqn+sTqnTJNoiHKPeJBup5CVyrkUp"
        "u6z2JSckGCyom2wpU50oMM2tZyzELNuvzKjBKaijF6UmLbway6rApyIoSy50pwqrD6lvovogWKFMr9GtZCVyKhOu"
        "26J2KhGj3ClTpeqto6J1LE0k6SVyrSuoGq1Cpr2uD6ZlrDIoQSn0LpsrdhvBkKaFSiOWrTqkdqcAAOIl4iQUFacn"
        "WiTdpu+hX6T6r6QpPqVgKAgbAycvJhSrZqjAn0esIaDyKwKblycQpeMmF6hkKKupQCT5Jt2oj5pnrXWqA6nTJAcn"
        "Ip6KH+Ei763rHZ+gBBphLFkmLiQ/Ja6sQayNqiomGKqdLtYsLCyzJX8lMCzTLyCnRivoKWehjiUYqUacbq0dqTwj"
        "lx33qOicLCijrHyiCiMmqHSl/BckKDSgbZyRmVUqmaqlKiyv1aobosCtDSizLCWxTagAgJwTYCh9GAginqXNlmGr"
        "PCuvJWwpHKs9owqo5azJpXGpoC0pl4EoVCTUrIOokrBXLzQiJRk5KUEosiPPlHeppK18Jdkkbh0XKSWpcSian7Ql"
        "MR6BoKoqtKgspSiubqxXpe6k7x9LHcunpqt4qs0qqq9EJXysY646qFqscKlsJqcqli9draKo16SqrwUcha13rV+v"
        "Oyo0HCypIauEgOesW5QuI+Gvf6esoI+jgys3HFssNyNoLJmU2yc6Kh0knikBgGGmT6CRqYSnjitzJmidkSgqlkmp"
        "SCirLDsdpKXBqjWPsDBuIwYkAiqIL2eghaOoKRGs2BsqqLQohKHFpiwkWahtrp4nMhgpqjSeOZ42Im0t4hFvkigj"
        "+iZVrLkgFCZtpf2ge66Eqyck2RAGqhIiwCwUKYwtBiz/JgQtFKpvqVGn"
    ),
}

PARAPHRASE = "my diary won't show my colleague's appointments"
RELATED = "open a colleague's calendar"
UNRELATED = "reset my password"


def reference_vectors() -> np.ndarray:
    rows = [np.frombuffer(base64.b64decode(REFERENCE_F16[key]), "<f2") for _, key in REFERENCE]
    return np.stack(rows).astype(np.float32)


def have_onnxruntime() -> bool:
    return importlib.util.find_spec("onnxruntime") is not None


@pytest.fixture(scope="module")
def numpy_encoder():
    need(find_model_dir() is not None, f"the model is not installed ({messages.INSTALL_MODEL})")
    return open_minilm(None, runtime="numpy")


@pytest.fixture(scope="module")
def onnx_encoder():
    need(find_model_dir() is not None, f"the model is not installed ({messages.INSTALL_MODEL})")
    need(have_onnxruntime(), f"onnxruntime is not installed ({messages.INSTALL_RUNTIME})")
    return open_minilm(None, runtime="onnxruntime")


@pytest.fixture(params=["numpy", "onnxruntime"])
def encoder(request):
    return request.getfixturevalue("numpy_encoder" if request.param == "numpy" else "onnx_encoder")


def test_vectors_are_float32_unit_rows(encoder):
    vectors = encoder.encode(["reset my password", "", "word " * 400])
    assert vectors.dtype == np.float32
    assert vectors.shape == (3, 384)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert encoder.encode([]).shape == (0, 384)
    with pytest.raises(TypeError):
        encoder.encode("one string")


def test_paraphrases_score_higher_than_unrelated_questions(encoder):
    query, related, unrelated = encoder.encode([PARAPHRASE, RELATED, UNRELATED])
    assert query @ related > query @ unrelated + 0.3


def test_agrees_with_sentence_transformers(encoder):
    vectors = encoder.encode([text for text, _ in REFERENCE])
    cosines = (vectors * reference_vectors()).sum(axis=1)
    assert cosines.min() > 0.9999, cosines


def test_a_batch_gives_the_same_vectors_as_one_at_a_time(encoder):
    texts = ["short", "a somewhat longer question about shared mailboxes", "x " * 300, ""]
    together = encoder.encode(texts)
    alone = np.concatenate([encoder.encode([t]) for t in texts])
    np.testing.assert_allclose(together, alone, atol=2e-6)


def test_numpy_and_onnxruntime_agree(numpy_encoder, onnx_encoder):
    texts = [text for text, _ in REFERENCE] + ["Password reset!!!", "外部 partner"]
    a, b = numpy_encoder.encode(texts), onnx_encoder.encode(texts)
    assert (a * b).sum(axis=1).min() > 0.99999


def test_encode_from_worker_threads(encoder):
    texts = [f"question number {i} about calendars" for i in range(12)]
    expected = encoder.encode(texts)
    results: dict[int, np.ndarray] = {}

    def work(i: int) -> None:
        results[i] = encoder.encode([texts[i]])[0]

    threads = [threading.Thread(target=work, args=(i,)) for i in range(len(texts))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    np.testing.assert_allclose(
        np.stack([results[i] for i in range(len(texts))]), expected, atol=2e-6
    )


def test_load_encoder_on_reports_the_runtime(onnx_encoder, tmp_path):
    encoder, status = load_encoder("on", tmp_path)
    assert status == "semantic search: on (all-MiniLM-L6-v2 via onnxruntime, 384 dims)"
    assert encoder is not None
    assert (encoder.name, encoder.dim) == ("all-MiniLM-L6-v2", 384)


def test_progress_is_shown_only_while_the_model_runs(onnx_encoder, tmp_path):
    """A first load encodes every text and reports how far it has got; a later load with
    the same cache runs the model for nothing and shows no progress (no bar on every start)."""
    from knowledge import KnowledgeBase

    for n in range(30):
        path = tmp_path / "kb" / f"topic{n}" / "guide.md"
        path.parent.mkdir(parents=True)
        path.write_text(
            f"---\ntitle: Guide number {n} to the printer on floor {n}\n"
            f"summary: What to do when printer {n} jams or prints blank pages.\n---\n"
            f"## Clear the jam\nOpen tray {n} and pull out the paper.\n\n"
            f"## Blank pages\nReplace toner cartridge {n} and print a test page.\n",
            "utf-8",
        )
    seen: list[list[tuple[int, int]]] = []
    for _ in range(2):
        calls: list[tuple[int, int]] = []
        kb = KnowledgeBase.load(
            tmp_path / "kb", cache_dir=tmp_path / "cache", semantic="on", progress=calls_to(calls)
        )
        seen.append(calls)
        assert kb.search("printer 7 prints blank pages").hits[0].article.id == "topic7/guide"
    first, second = seen
    assert first and first[-1][0] == first[-1][1] > 64  # a first start: the texts encoded
    assert second == []  # every vector came from the cache


def calls_to(calls: list[tuple[int, int]]) -> Callable[[int, int], None]:
    def progress(done: int, total: int) -> None:
        calls.append((done, total))

    return progress
