"""Finding the Noto Sans CJK fonts (Debian's ``fonts-noto-cjk``) for the report.

Debian ships them as OpenType collections (``.ttc``) of CFF-outline faces; fpdf2 embeds those
as CID-keyed CFF, subset to the glyphs the report uses. The face is picked by its family
name (``Noto Sans CJK KR``: Korean glyph shapes, Latin included), not by a fixed index, so a
collection that orders its faces differently still works.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Final

from fontTools.ttLib import TTCollection, TTLibError

from stopspread.errors import ReportError

__all__ = ["FONT_DIRS", "CjkFonts", "find_cjk_fonts"]

FONT_DIRS: Final = (
    Path("/usr/share/fonts/opentype/noto"),  # Debian / Ubuntu fonts-noto-cjk
    Path("/usr/share/fonts/noto-cjk"),  # Fedora / Arch
    Path("/usr/share/fonts/google-noto-cjk"),
)
_FAMILY: Final = "Noto Sans CJK KR"
_MONO_FAMILY: Final = "Noto Sans Mono CJK KR"


@dataclass(frozen=True, slots=True)
class CjkFonts:
    """The regular and bold font files and the index of the Korean faces in them."""

    regular: Path
    regular_index: int
    bold: Path
    bold_index: int
    mono_index: int  # Noto Sans Mono CJK KR, in the regular file: digests and URLs


def _face_index(path: Path, family: str) -> int:
    try:
        collection = TTCollection(str(path), lazy=True)
    except (OSError, TTLibError) as exc:
        raise ReportError(f"cannot read font collection {path}: {exc}") from exc
    try:
        for index, font in enumerate(collection.fonts):
            name = font["name"].getDebugName(1)
            if name == family:
                return index
    finally:
        collection.close()
    raise ReportError(f"{path} has no {family!r} face")


@cache
def _find(dirs: tuple[Path, ...]) -> CjkFonts:
    for folder in dirs:
        regular, bold = folder / "NotoSansCJK-Regular.ttc", folder / "NotoSansCJK-Bold.ttc"
        if regular.is_file() and bold.is_file():
            return CjkFonts(
                regular=regular,
                regular_index=_face_index(regular, _FAMILY),
                bold=bold,
                bold_index=_face_index(bold, _FAMILY),
                mono_index=_face_index(regular, _MONO_FAMILY),
            )
    raise ReportError(
        "the Noto Sans CJK fonts were not found (looked in "
        + ", ".join(str(d) for d in dirs)
        + "); on Debian: apt-get install fonts-noto-cjk"
    )


def find_cjk_fonts(dirs: Sequence[Path] = FONT_DIRS) -> CjkFonts:
    """The Korean face of Noto Sans CJK, regular and bold. Raises :class:`ReportError`."""
    return _find(tuple(dirs))
