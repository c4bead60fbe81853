"""The one language enum: ISO 639-1 codes of every language StopSpread writes in.

Each part speaks a subset: the pages and the evidence report Korean and English
(:data:`PAGE_LANGUAGES`, :data:`REPORT_LANGUAGES`), takedown notices all four.
"""

from __future__ import annotations

import enum
from typing import Final

__all__ = ["PAGE_LANGUAGES", "REPORT_LANGUAGES", "Language"]


class Language(enum.StrEnum):
    KO = "ko"  # first: the people this was built for read Korean first
    EN = "en"
    JA = "ja"
    ZH = "zh"  # simplified Chinese

    @property
    def other(self) -> Language:
        """The pages' other language: English for Korean, Korean for any other."""
        return Language.EN if self is Language.KO else Language.KO


PAGE_LANGUAGES: Final = (Language.KO, Language.EN)  # web pages (locales/<lang>/)
REPORT_LANGUAGES: Final = (Language.KO, Language.EN)  # the evidence report PDF
