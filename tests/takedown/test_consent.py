"""The consent sentence a notice carries: chosen per case, true for what she agreed to."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from stopspread.languages import Language
from stopspread.takedown.consent import ConsentBasis, consent_sentence
from stopspread.takedown.hosts import HostEntry
from stopspread.takedown.notices import NoticeItem, NoticeRequest, Sender, render_notice

KO_FALSE_FOR_SHARING_ONLY = "피해자는 이 촬영물의 촬영과 유포에 동의한 적이 없습니다."


def test_every_language_has_a_sentence_for_every_basis() -> None:
    for language in Language:
        sentences = {consent_sentence(b, language) for b in ConsentBasis}
        assert len(sentences) == len(ConsentBasis)


def test_sharing_only_never_claims_she_refused_the_filming() -> None:
    ko = consent_sentence(ConsentBasis.SHARING_ONLY, Language.KO)
    en = consent_sentence(ConsentBasis.SHARING_ONLY, Language.EN)
    assert ko != KO_FALSE_FOR_SHARING_ONLY
    assert "촬영에는 동의했지만" in ko and "유포에는 동의한 적이 없습니다" in ko
    assert "agreed to the recording" in en and "never consented to its publication" in en


def test_unknown_speaks_only_of_the_sharing() -> None:
    assert consent_sentence(ConsentBasis.UNKNOWN, Language.KO) == (
        "피해자는 이 촬영물의 유포에 동의한 적이 없습니다."
    )
    en = consent_sentence(ConsentBasis.UNKNOWN, Language.EN)
    assert "recording" not in en and "publication" in en


def test_filming_and_sharing_keeps_the_full_sentence() -> None:
    ko = consent_sentence(ConsentBasis.FILMING_AND_SHARING, Language.KO)
    assert ko == KO_FALSE_FOR_SHARING_ONLY


@pytest.mark.parametrize("basis", list(ConsentBasis))
@pytest.mark.parametrize("language", [Language.KO, Language.EN])
def test_the_notice_carries_the_chosen_sentence_only(
    basis: ConsentBasis, language: Language
) -> None:
    request = NoticeRequest(
        reference="SS-20261125-ABC123",
        host=HostEntry("host.example", language, "KR", abuse_email="abuse@host.example"),
        items=(
            NoticeItem(
                "https://host.example/a.jpg",
                "https://host.example/p",
                datetime(2026, 11, 25, tzinfo=UTC),
                "ab" * 32,
            ),
        ),
        sender=Sender("센터", "takedown@center.example", "김지원"),
        created_at=datetime(2026, 11, 25, tzinfo=UTC),
        consent=basis,
    )
    text = render_notice(request).text
    assert consent_sentence(basis, language) in text
    for other in set(ConsentBasis) - {basis}:
        assert consent_sentence(other, language) not in text
