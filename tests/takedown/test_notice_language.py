"""A Korean notice has no English in it (issue 16): every Latin word in it is a URL, a digest,
a reference, an e-mail address or one of the names and standards a notice cites as they are
(the vocabulary test's allow-list, plus the US law's name and "IP")."""

from __future__ import annotations

import re

import pytest

from stopspread.languages import Language
from stopspread.takedown.notices import render_notice
from tests.takedown.test_notices import request
from tests.web.test_vocabulary import stray_latin

EMAIL = re.compile(r"\S+@\S+")  # the sender's contact address is data
NAMES_IN_NOTICES = {"TAKE", "IT", "DOWN", "Act", "IP"}  # the US law's name; "IP" (address)


@pytest.mark.parametrize("jurisdiction", ["KR", "US", "ZZ"])
def test_a_korean_notice_has_no_english(jurisdiction: str) -> None:
    notice = render_notice(request(Language.KO, jurisdiction))
    for text in (notice.subject, notice.text):
        words = stray_latin(EMAIL.sub(" ", text.replace(notice.reference, " ")))
        assert words <= NAMES_IN_NOTICES, words
