"""``stopspread hash``: PDQ, dihedral variants and digests of images; vPDQ of videos."""

from __future__ import annotations

import base64
import io
import json
import sys
from collections.abc import Sequence
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

import click

from stopspread.cli._exit import ExitCode
from stopspread.cli._inputs import STDIN, expand_paths
from stopspread.cli._video import emit_video, seconds_per_hash_option
from stopspread.errors import MediaError
from stopspread.hashing import (
    BatchItem,
    DecodeLimits,
    Dihedral,
    ImageHashes,
    ImageSource,
    Pipeline,
    VideoMode,
    VideoSandbox,
    hash_many,
)
from stopspread.hashing.decode import read_capped
from stopspread.hashing.keypoints import KeypointSet
from stopspread.hashing.query import query_signals
from stopspread.hashing.signals import (
    DEFAULT_SIGNAL_SET,
    SignalHash,
    enrolment_hashes,
    query_hashes,
)
from stopspread.hashing.sniff import MediaKind, sniff_media
from stopspread.hashing.vpdq import ENROL_SECONDS_PER_HASH
from stopspread.services.exchange.txfile import TX_PDQ, signal_line

__all__ = [
    "format_json",
    "format_match_body",
    "format_signals_json",
    "format_signals_text",
    "format_text",
    "hash_command",
]


def format_text(hashes: ImageHashes, name: str, digests: bool) -> list[str]:
    """``pdq <hex> <quality> <path>`` lines (variants as ``pdq:<variant>``)."""
    lines = [f"pdq {hashes.pdq.hex} {hashes.quality} {name}"]
    for variant, value in hashes.variants.items():
        if variant is not Dihedral.ORIGINAL:
            lines.append(f"pdq:{variant.value} {value.hex} {hashes.quality} {name}")
    if digests and hashes.digests is not None:
        lines.append(f"md5 {hashes.digests.md5} - {name}")
        lines.append(f"sha256 {hashes.digests.sha256} - {name}")
    return lines


def format_json(hashes: ImageHashes, name: str) -> str:
    record: dict[str, Any] = {
        "path": name,
        "pdq": hashes.pdq.hex,
        "quality": hashes.quality,
        "low_quality": hashes.low_quality,
        "width": hashes.width,
        "height": hashes.height,
        "pipeline": hashes.pipeline.value,
    }
    if hashes.variants:
        record["dihedral"] = {v.value: h.hex for v, h in hashes.variants.items()}
    if hashes.digests is not None:
        record["md5"] = hashes.digests.md5
        record["sha256"] = hashes.digests.sha256
    return json.dumps(record, ensure_ascii=False)


def format_signals_text(signals: list[SignalHash], name: str) -> list[str]:
    """``<set>:<variant> <hex> <quality> <path>`` lines, one per signal-set hash."""
    version = DEFAULT_SIGNAL_SET.version
    return [f"{version}:{h.tag} {h.hash.hex} {h.quality} {name}" for h in signals]


def format_signals_json(signals: list[SignalHash], role: str) -> dict[str, Any]:
    return {
        "version": DEFAULT_SIGNAL_SET.version,
        "role": role,
        "hashes": [{"variant": h.tag, "pdq": h.hash.hex, "quality": h.quality} for h in signals],
    }


def format_match_body(
    signals: list[SignalHash], md5: str | None, keypoints: Sequence[KeypointSet] = ()
) -> str:
    """The exact JSON body a platform sends to ``/v1/match`` for one upload (docs/api.md):
    the default signal set's query hashes (plain PDQ first) with their qualities, the
    file's MD5, and the upload's ss-kp-1 query keypoint records (base64), when given."""
    body: dict[str, Any] = {
        "signal_set": DEFAULT_SIGNAL_SET.version,
        "query": [{"value": h.hash.hex, "quality": h.quality} for h in signals],
    }
    if md5:
        body["md5"] = md5
    if keypoints:
        body["keypoints"] = [base64.b64encode(k.to_bytes()).decode("ascii") for k in keypoints]
    return json.dumps(body, separators=(",", ":"))


def _signals(source: ImageSource, role: str, limits: DecodeLimits) -> list[SignalHash]:
    """The signal-set hashes of one input (decoded a second time: simple, and cheap
    next to the ~30 PDQs of an enrolment)."""
    compute = enrolment_hashes if role == "enrolment" else query_hashes
    return compute(source, limits=limits)


def _read_stdin(inputs: list[str | Path], limits: DecodeLimits) -> list[str | Path | bytes]:
    """Replace ``-`` by the bytes of standard input (read once, capped)."""
    if STDIN not in inputs:
        return list(inputs)
    data = read_capped(sys.stdin.buffer, limits)
    return [data if item == STDIN else item for item in inputs]


def _name(item: str | Path) -> str:
    return "-" if item == STDIN else str(item)


def _warn_low_quality(name: str, quality: int) -> None:
    click.echo(f"stopspread: {name}: low quality {quality} (< 50): hash is unreliable", err=True)


def _report_error(name: str, exc: MediaError, as_json: bool, out: TextIO) -> None:
    click.echo(f"stopspread: {name}: {exc}", err=True)
    if as_json:
        out.write(json.dumps({"path": name, "error": str(exc), "kind": type(exc).__name__}) + "\n")


@dataclass(frozen=True, slots=True)
class _ImageOutput:
    """How image results are printed."""

    as_json: bool
    tx: bool  # tx signal-file lines: ``pdq <hex>``
    match_body: bool  # the /v1/match body of each image
    keypoints: bool  # ... with its ss-kp-1 query keypoint records
    digests: bool
    signal_role: str | None
    limits: DecodeLimits


def _emit_image(result: BatchItem, name: str, how: _ImageOutput, out: TextIO) -> bool:
    """Print one image's hashes (and its signal set when asked); False when it failed."""
    if result.error is not None:
        _report_error(name, result.error, how.as_json, out)
        return False
    if result.hashes is not None:
        h = result.hashes
        role = None if how.match_body else how.signal_role
        signals = _signals(result.source, role, how.limits) if role else []
        if how.match_body:  # hashes and keypoints from one decode
            md5 = h.digests.md5 if h.digests is not None else None
            query = query_signals(result.source, limits=how.limits, keypoints=how.keypoints)
            out.write(format_match_body(query.hashes, md5, query.keypoints) + "\n")
        elif how.tx:
            values = [
                h.pdq.hex,
                *(v.hex for d, v in h.variants.items() if d is not Dihedral.ORIGINAL),
            ]
            values += [s.hash.hex for s in signals]
            out.write("".join(signal_line(TX_PDQ, v) + "\n" for v in dict.fromkeys(values)))
        elif how.as_json:
            record = json.loads(format_json(h, name))
            if role:
                record["signal_set"] = format_signals_json(signals, role)
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
        else:
            lines = format_text(h, name, how.digests) + format_signals_text(signals, name)
            out.write("\n".join(lines) + "\n")
        if h.low_quality:
            _warn_low_quality(name, h.quality)
    return True


def _video_sampling(
    fast: bool, signal_role: str | None, seconds_per_hash: float
) -> tuple[VideoMode, float]:
    """Plain vPDQ (Meta's, or keyframes with --fast); with --signal-set, the robust views:
    every frame for enrolment, a frame per ``seconds_per_hash`` (keyframes) for a query."""
    if signal_role == "enrolment":
        return VideoMode.ROBUST_ENROL, ENROL_SECONDS_PER_HASH
    if signal_role == "query":
        return VideoMode.ROBUST_QUERY, seconds_per_hash
    return (VideoMode.FAST if fast else VideoMode.REFERENCE), seconds_per_hash


def _is_video(item: str | Path) -> bool:
    return item != STDIN and sniff_media(Path(item)) is MediaKind.VIDEO


@click.command("hash")
@click.argument("paths", nargs=-1, required=True, metavar="PATH...")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "json", "tx", "match"]),
    default="text",
    show_default=True,
    help="tx: a signal file tx and HMA read (pdq / vpdq / video_md5 lines). "
    "match: per image, the JSON body a platform POSTs to /v1/match (ss-img-1 query signals).",
)
@click.option("--dihedral", is_flag=True, help="Also print the 7 rotated/flipped variants.")
@click.option("--fast", is_flag=True, help="Reduced-size JPEG decoding (a few bits of drift).")
@click.option("--digests", is_flag=True, help="Also print MD5 and SHA-256 lines (always in JSON).")
@click.option("-j", "--jobs", type=click.IntRange(min=1), default=None, help="Threads [all cores].")
@click.option(
    "--max-megapixels",
    type=click.FloatRange(min=0.001),
    default=DecodeLimits().max_pixels / 1e6,
    show_default=True,
    help="Refuse images with more pixels (decompression bombs).",
)
@click.option(
    "--signal-set",
    "signal_role",
    type=click.Choice(["enrolment", "query"]),
    default=None,
    help="Images: also print the hashes of the default signal set (ss-img-1) for this role. "
    "Videos: robust frame views instead of plain vPDQ (enrolment: every frame; docs/video.md).",
)
@seconds_per_hash_option
@click.option(
    "--keypoints/--no-keypoints",
    default=True,
    show_default=True,
    help="--format match: include the upload's ss-kp-1 query keypoint records (finds crops, "
    "screenshots and tilts the hashes miss; about 25-55 KB a body).",
)
@click.option(
    "--progress/--no-progress", default=None, help="Progress bar on stderr [when a terminal]."
)
def hash_command(
    paths: tuple[str, ...],
    as_json: bool,
    output_format: str,
    dihedral: bool,
    fast: bool,
    digests: bool,
    signal_role: str | None,
    jobs: int | None,
    max_megapixels: float,
    seconds_per_hash: float,
    keypoints: bool,
    progress: bool | None,
) -> None:
    """Hash images with PDQ and videos with vPDQ. PATH: a file, a folder (recursive) or -.

    \b
    Output, one line per image:  pdq <hex> <quality> <path>
    Videos (found by their container signature): Meta's vPDQ lines,
      frame,quality,pdq_hex,timestamp   (with --fast: keyframes only)
    preceded by "# vpdq <path>" unless a single file is named.
    With --format tx: "pdq <hex>" per image; "vpdq <json>" and "video_md5 <hex>" per video.
    With --format match: per image, one line: the JSON body of a POST /v1/match
      {"signal_set":"ss-img-1","query":[{"value":hex,"quality":q},...],"md5":hex,
       "keypoints":[base64,...]}
    (images only; --no-keypoints leaves the ss-kp-1 keypoint records out).
    Quality under 50 means the hash is unreliable (a warning goes to stderr).
    Exit status: 0 all hashed, 1 some failed, 2 usage error.
    """
    limits = DecodeLimits(max_pixels=int(max_megapixels * 1e6))
    match_body = output_format == "match"
    as_json = not match_body and (as_json or output_format == "json")
    tx = output_format == "tx" and not as_json
    how = _ImageOutput(as_json, tx, match_body, keypoints, digests, signal_role, limits)
    inputs, problems = expand_paths(paths)
    failed = bool(problems)
    for problem in problems:
        click.echo(f"stopspread: {problem.path}: {problem.message}", err=True)
    show_bar = progress if progress is not None else (sys.stderr.isatty() and len(inputs) > 1)
    pipeline = Pipeline.FAST if fast else Pipeline.REFERENCE
    out = sys.stdout
    try:
        sources = _read_stdin(inputs, limits)
    except MediaError as exc:
        click.echo(f"stopspread: -: {exc}", err=True)
        sys.exit(ExitCode.FAILED)
    videos = [_is_video(item) for item in inputs]
    images = [src for src, video in zip(sources, videos, strict=True) if not video]
    batch = hash_many(images, workers=jobs, pipeline=pipeline, dihedral=dihedral, limits=limits)
    mode, video_seconds = _video_sampling(fast, signal_role, seconds_per_hash)
    # A header names each video unless one file was named: then the output is a hash file.
    header = not tx and (len(inputs) > 1 or any(Path(p).is_dir() for p in paths))
    bar_file = sys.stderr if show_bar else io.StringIO()
    # One warm decoder process serves every video of the run (started on first use).
    with (
        closing(batch) as results,  # its pool ends here, never in the garbage collector
        VideoSandbox() as sandbox,
        click.progressbar(length=len(inputs), label="hashing", file=bar_file) as bar,
    ):
        for item, video in zip(inputs, videos, strict=True):
            name = _name(item)
            if video and match_body:
                click.echo(f"stopspread: {name}: --format match is for images", err=True)
                ok = False
            elif video:
                ok = emit_video(
                    name, out, mode=mode, seconds_per_hash=video_seconds,
                    as_json=as_json, digests=digests, header=header, sandbox=sandbox, tx=tx,
                )  # fmt: skip
            else:
                ok = _emit_image(next(results), name, how, out)
            failed = failed or not ok
            out.flush()
            bar.update(1)
    if not inputs and not problems:
        click.echo("stopspread: no image files or videos found", err=True)
        sys.exit(ExitCode.FAILED)
    sys.exit(ExitCode.FAILED if failed else ExitCode.OK)
