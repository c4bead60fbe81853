"""``stopspread match A B``: does a file match another file or a hash list?

Each side may be an image, a video, or a hash list: vPDQ lines
(``frame,quality,hex,timestamp``, what ``stopspread hash video.mp4`` prints) or
``pdq <hex> [quality] [path]`` lines (what ``stopspread hash photo.jpg`` prints).
An image counts as a one-frame video, so every pair is compared the same way:
the vPDQ query-match % / compared-match % rule (``docs/video.md``).

Exit status, like grep: 0 match, 1 no match, 2 usage error or an unreadable input.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Final, NoReturn

import click

from stopspread.cli._video import seconds_per_hash_option
from stopspread.errors import HashFormatError, MediaError, StopSpreadError
from stopspread.hashing import FrameHash, PdqHash, VideoMode, hash_image, hash_video
from stopspread.hashing.image import Pipeline
from stopspread.hashing.sniff import MediaKind, sniff_media
from stopspread.hashing.vpdq import parse_vpdq_line
from stopspread.matching import VideoComparison, VideoMatchSettings, VideoRule, compare_videos

__all__ = ["load_frames", "match_command"]

EXIT_MATCH: Final = 0
EXIT_NO_MATCH: Final = 1
EXIT_TROUBLE: Final = 2  # usage error or unreadable input, as grep uses it
_HASH_LIST_MAX_BYTES: Final = 64 * 1024 * 1024  # a day of video at every frame is ~14 MiB
_SKIPPED_PREFIXES: Final = ("#", "md5 ", "sha256 ")


def _pdq_line(line: str) -> FrameHash:
    """``pdq <hex> [quality] [path]`` (also ``pdq:<variant> ...``) as a one-frame record."""
    parts = line.split()
    if len(parts) < 2:
        raise HashFormatError("a pdq line is: pdq <hex> [quality] [path]")
    quality = int(parts[2]) if len(parts) > 2 and parts[2].isdigit() else 100
    return FrameHash(0, min(quality, 100), PdqHash.from_hex(parts[1]), 0.0)


def _looks_like_hash_list(path: Path) -> bool:
    try:
        with path.open("rb") as fh:
            head = fh.read(4096).decode("utf-8")
    except (OSError, UnicodeDecodeError):
        return False
    for line in head.splitlines():
        text = line.strip()
        if text and not text.startswith(_SKIPPED_PREFIXES):
            return text.startswith("pdq") or text.count(",") in (2, 3)
    return False


def _parse_hash_list(path: Path) -> list[FrameHash]:
    if path.stat().st_size > _HASH_LIST_MAX_BYTES:
        raise HashFormatError(f"hash list is larger than {_HASH_LIST_MAX_BYTES:,} bytes")
    frames: list[FrameHash] = []
    with path.open(encoding="utf-8") as fh:
        for number, line in enumerate(fh, start=1):
            text = line.strip()
            if not text or text.startswith(_SKIPPED_PREFIXES):
                continue
            try:
                frames.append(_pdq_line(text) if text.startswith("pdq") else parse_vpdq_line(text))
            except HashFormatError as exc:
                raise HashFormatError(f"line {number}: {exc}") from None
    return frames


def load_frames(path: Path, mode: VideoMode, seconds_per_hash: float) -> list[FrameHash]:
    """The frame hashes of a hash list, a video, or an image (one frame)."""
    if _looks_like_hash_list(path):
        return _parse_hash_list(path)
    if sniff_media(path) is MediaKind.VIDEO:
        return list(hash_video(path, mode=mode, seconds_per_hash=seconds_per_hash).frames)
    pipeline = Pipeline.FAST if mode is VideoMode.FAST else Pipeline.REFERENCE
    image = hash_image(path, pipeline=pipeline)
    return [FrameHash(0, image.quality, image.pdq, 0.0)]


def _report(result: VideoComparison, settings: VideoMatchSettings, as_json: bool) -> None:
    matched = result.is_match(settings)
    if as_json:
        record = {
            "match": matched,
            "verdict": result.verdict(settings).value,
            "rule": settings.rule.value,
            "query_percent": round(result.query_percent, 2),
            "compared_percent": round(result.compared_percent, 2),
            "query_frames": result.query_frames,
            "compared_frames": result.compared_frames,
        }
        click.echo(json.dumps(record))
        return
    click.echo(
        f"{'match' if matched else 'no match'}: {result.verdict(settings).value}"
        f"  query {result.query_percent:.1f}% of {result.query_frames} frames"
        f"  compared {result.compared_percent:.1f}% of {result.compared_frames} frames"
        f"  (rule {settings.rule.value})"
    )


def _fail(name: str, exc: Exception) -> NoReturn:
    click.echo(f"stopspread: {name}: {exc}", err=True)
    sys.exit(EXIT_TROUBLE)


@click.command("match")
@click.argument("query", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.argument("compared", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--rule",
    type=click.Choice([r.value for r in VideoRule]),
    default=VideoRule.ANY.value,
    show_default=True,
    help="Which verdicts count as a match.",
)
@click.option(
    "--percent",
    type=click.FloatRange(min=0, max=100, min_open=True),
    default=VideoMatchSettings().query_percent,
    show_default=True,
    help="Share of a side's frames that must match.",
)
@click.option("--fast", is_flag=True, help="Videos: keyframes only, shrunk (a few bits of drift).")
@seconds_per_hash_option
@click.option("--json", "as_json", is_flag=True, help="One JSON object.")
def match_command(
    query: Path, compared: Path, rule: str, percent: float, fast: bool,
    seconds_per_hash: float, as_json: bool,
) -> None:  # fmt: skip
    """Does QUERY match COMPARED? Each is an image, a video, or a hash list file.

    \b
    Frames of quality >= 50 are compared; two frames match within 31 bits.
    query %    = share of QUERY's frames found in COMPARED
    compared % = share of COMPARED's frames found in QUERY
    Verdicts: same-video (both sides >= PERCENT), query-in-compared (QUERY is
    part of COMPARED), compared-in-query, no-match.
    Exit status: 0 match, 1 no match, 2 usage error or unreadable input.
    """
    settings = VideoMatchSettings(
        rule=VideoRule(rule), query_percent=percent, compared_percent=percent
    )
    mode = VideoMode.FAST if fast else VideoMode.REFERENCE
    sides = []
    for path in (query, compared):
        try:
            sides.append(load_frames(path, mode, seconds_per_hash))
        except (StopSpreadError, MediaError, OSError, ValueError) as exc:
            _fail(str(path), exc)
    result = compare_videos(sides[0], sides[1], settings)
    for path, frames in zip((query, compared), sides, strict=True):
        if not any(f.quality >= settings.min_quality for f in frames):
            click.echo(f"stopspread: {path}: no frame of quality >= 50 to compare", err=True)
    _report(result, settings, as_json)
    sys.exit(EXIT_MATCH if result.is_match(settings) else EXIT_NO_MATCH)
