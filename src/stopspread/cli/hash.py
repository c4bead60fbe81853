"""``stopspread hash``: PDQ, dihedral variants and digests of image files."""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path
from typing import Any, TextIO

import click

from stopspread.cli._inputs import STDIN, expand_paths
from stopspread.errors import MediaError
from stopspread.hashing import (
    DecodeLimits,
    Dihedral,
    ImageHashes,
    ImageSource,
    Pipeline,
    hash_many,
)
from stopspread.hashing._decode import read_capped
from stopspread.hashing.signals import (
    DEFAULT_SIGNAL_SET,
    SignalHash,
    enrolment_hashes,
    query_hashes,
)

__all__ = [
    "format_json",
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


def _json_line(h: ImageHashes, name: str, signals: list[SignalHash], role: str | None) -> str:
    if role is None:
        return format_json(h, name)
    record = json.loads(format_json(h, name))
    record["signal_set"] = format_signals_json(signals, role)
    return json.dumps(record, ensure_ascii=False)


@click.command("hash")
@click.argument("paths", nargs=-1, required=True, metavar="PATH...")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
@click.option("--dihedral", is_flag=True, help="Also print the 7 rotated/flipped variants.")
@click.option(
    "--signal-set",
    "signal_role",
    type=click.Choice(["enrolment", "query"]),
    default=None,
    help="Also print the hashes of the default signal set (ss-img-1) for this role.",
)
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
    "--progress/--no-progress", default=None, help="Progress bar on stderr [when a terminal]."
)
def hash_command(
    paths: tuple[str, ...],
    as_json: bool,
    dihedral: bool,
    signal_role: str | None,
    fast: bool,
    digests: bool,
    jobs: int | None,
    max_megapixels: float,
    progress: bool | None,
) -> None:
    """Hash image files with PDQ. PATH may be a file, a folder (walked recursively) or -.

    \b
    Output, one line per image:  pdq <hex> <quality> <path>
    Quality under 50 means the hash is unreliable (a warning goes to stderr).
    Exit status: 0 all hashed, 1 some failed, 2 usage error.
    """
    limits = DecodeLimits(max_pixels=int(max_megapixels * 1e6))
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
        sys.exit(1)
    results = hash_many(sources, workers=jobs, pipeline=pipeline, dihedral=dihedral, limits=limits)
    with click.progressbar(
        length=len(inputs), label="hashing", file=sys.stderr if show_bar else io.StringIO()
    ) as bar:
        for item, result in zip(inputs, results, strict=True):
            name = _name(item)
            if result.error is not None:
                failed = True
                _report_error(name, result.error, as_json, out)
            elif result.hashes is not None:
                h = result.hashes
                signals = _signals(result.source, signal_role, limits) if signal_role else []
                if as_json:
                    out.write(_json_line(h, name, signals, signal_role) + "\n")
                else:
                    lines = format_text(h, name, digests) + format_signals_text(signals, name)
                    out.write("\n".join(lines) + "\n")
                if h.low_quality:
                    _warn_low_quality(name, h.quality)
            out.flush()
            bar.update(1)
    if not inputs and not problems:
        click.echo("stopspread: no image files found", err=True)
        sys.exit(1)
    sys.exit(1 if failed else 0)
