"""Video output of ``stopspread hash``: vPDQ lines (Meta's format) or one JSON object."""

from __future__ import annotations

import json
from typing import Any, TextIO

import click

from stopspread.errors import MediaError
from stopspread.hashing import VideoHashes, VideoMode, VideoSandbox, format_vpdq, hash_video
from stopspread.hashing.vpdq import VideoLimits
from stopspread.services.exchange.txfile import TX_VIDEO_MD5, signal_line, vpdq_line

__all__ = ["emit_video", "format_video_json", "format_video_text", "seconds_per_hash_option"]

# Shared by `hash` and `match`: how densely video frames are sampled.
seconds_per_hash_option = click.option(
    "--seconds-per-hash",
    type=click.FloatRange(min=0),
    default=1.0,
    show_default=True,
    help="Videos: hash one frame per this many seconds; 0 = every frame.",
)


def format_video_text(video: VideoHashes, name: str, digests: bool, header: bool) -> str:
    """vPDQ lines; ``# vpdq <path>`` first when several files are hashed, digests on request.

    A single video's text is a valid vPDQ hash file, ready for ``stopspread match``.
    """
    head = f"# vpdq {name}\n" if header else ""
    tail = ""
    if digests:
        tail = f"md5 {video.digests.md5} - {name}\nsha256 {video.digests.sha256} - {name}\n"
    return head + format_vpdq(video.frames) + tail


def format_video_json(video: VideoHashes, name: str) -> str:
    record: dict[str, Any] = {
        "path": name,
        "kind": "video",
        "mode": video.mode.value,
        "seconds_per_hash": video.seconds_per_hash,
        "width": video.width,
        "height": video.height,
        "fps": video.fps,
        "container": video.container,
        "codec": video.codec,
        "md5": video.digests.md5,
        "sha256": video.digests.sha256,
        "frames": [
            {"frame": f.frame, "quality": f.quality, "pdq": f.pdq.hex, "timestamp": f.timestamp}
            for f in video.frames
        ],
    }
    return json.dumps(record, ensure_ascii=False)


def emit_video(
    path: str,
    out: TextIO,
    *,
    mode: VideoMode,
    seconds_per_hash: float,
    as_json: bool,
    digests: bool,
    header: bool,
    sandbox: VideoSandbox | None = None,
    tx: bool = False,
) -> bool:
    """Hash one video and print it; False (and a message on stderr) when it failed."""
    try:
        video = hash_video(
            path,
            mode=mode,
            seconds_per_hash=seconds_per_hash,
            limits=VideoLimits(),
            sandbox=sandbox,
        )
    except MediaError as exc:
        click.echo(f"stopspread: {path}: {exc}", err=True)
        if as_json:
            error = {"path": path, "error": str(exc), "kind": type(exc).__name__}
            out.write(json.dumps(error) + "\n")
        return False
    if as_json:
        out.write(format_video_json(video, path) + "\n")
    elif tx:  # tx's vPDQ signal, then the file's MD5 as tx's video_md5 signal
        out.write(vpdq_line(video.frames) + "\n")
        out.write(signal_line(TX_VIDEO_MD5, video.digests.md5) + "\n")
    else:
        out.write(format_video_text(video, path, digests, header))
    if not video.usable_frames:
        click.echo(f"stopspread: {path}: no frame of quality >= 50: unreliable", err=True)
    return True
