"""What the survivor consented to, and the one sentence a notice says about it.

A notice must not claim more than the center knows: a survivor who agreed to being filmed but
not to the sharing is not someone who "never agreed to the filming or the sharing". The worker
chooses, per case, one :class:`ConsentBasis`; :func:`consent_sentence` gives the sentence in
the notice's language that is true for it.
"""

from __future__ import annotations

import enum
from typing import Final

from stopspread.languages import Language

__all__ = ["ConsentBasis", "consent_sentence"]


class ConsentBasis(enum.StrEnum):
    """What she did not agree to."""

    FILMING_AND_SHARING = "filming_and_sharing"  # neither to the filming nor to the sharing
    SHARING_ONLY = "sharing_only"  # she agreed to the filming, never to the sharing
    UNKNOWN = "unknown"  # the center has not established the filming part: say only sharing


_B = ConsentBasis
_SENTENCES: Final[dict[Language, dict[ConsentBasis, str]]] = {
    Language.KO: {
        _B.FILMING_AND_SHARING: "피해자는 이 촬영물의 촬영과 유포에 동의한 적이 없습니다.",
        _B.SHARING_ONLY: (
            "피해자는 촬영에는 동의했지만, 이 촬영물의 유포에는 동의한 적이 없습니다."
        ),
        _B.UNKNOWN: "피해자는 이 촬영물의 유포에 동의한 적이 없습니다.",
    },
    Language.EN: {
        _B.FILMING_AND_SHARING: (
            "That person did not consent to its recording or to its publication."
        ),
        _B.SHARING_ONLY: (
            "That person agreed to the recording but never consented to its publication."
        ),
        _B.UNKNOWN: "That person did not consent to its publication.",
    },
    Language.JA: {
        _B.FILMING_AND_SHARING: "この方は、撮影にも公開にも同意していません。",
        _B.SHARING_ONLY: "この方は撮影には同意しましたが、公開には同意していません。",
        _B.UNKNOWN: "この方は、公開に同意していません。",
    },
    Language.ZH: {
        _B.FILMING_AND_SHARING: "当事人从未同意拍摄或公开这些影像。",
        _B.SHARING_ONLY: "当事人同意了拍摄，但从未同意公开这些影像。",
        _B.UNKNOWN: "当事人从未同意公开这些影像。",
    },
}


def consent_sentence(basis: ConsentBasis, language: Language) -> str:
    """The sentence a notice in ``language`` says about her consent (true for ``basis``)."""
    return _SENTENCES[language][basis]
