"""Find English words inside Korean text (a report's strings, a PDF's text).

A Latin word is allowed only when it is one of the abbreviations below, or part of a fact the
text quotes: a URL, an e-mail address, a host name, a file name, a digest, a case code or a
request reference (``facts``, taken from the report itself: pdftotext may wrap a long URL or
digest across lines, so a piece of one is a fact too). Everything else fails the test.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Final

# Abbreviations a Korean reader (and a court) reads as they are.
ALLOWED: Final = frozenset(
    {"PDQ", "vPDQ", "MD5", "WARC", "SHA", "ZIP", "KST", "UTC", "HTTP", "JSON", "PDF"}
)
_FACT_PATTERNS: Final = (
    re.compile(r"https?://\S+"),  # URLs
    re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+"),  # e-mail addresses
    re.compile(r"\b[0-9a-f]{16,}\b"),  # digests
    re.compile(r"[\w./-]+\.(?:warc|pdf|zip|txt|json|jpg|jpeg|png|mp4|html)\b"),  # file names
    re.compile(r"\b[A-Z0-9]+(?:-[A-Z0-9]+)+\b"),  # case codes, request references
    re.compile(r"\b[a-z0-9-]+(?:\.[a-z0-9-]+)+\b"),  # host names, addresses
)
_WORD: Final = re.compile(r"[A-Za-z][A-Za-z0-9]*")


def latin_words(text: str, facts: Iterable[str] = ()) -> list[str]:
    """The Latin words of ``text`` that are neither allowed abbreviations nor quoted facts."""
    known = [f for f in facts if f]
    for pattern in _FACT_PATTERNS:
        text = pattern.sub(" ", text)
    found = []
    for word in _WORD.findall(text):
        if word in ALLOWED or any(word in fact for fact in known):
            continue
        found.append(word)
    return found
