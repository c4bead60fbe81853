"""Helpers for the scan tests: synthetic images and their edited copies, a re-encoded test
video, enrolment of the originals in a case, and a small local website planting the copies
among unrelated images. Nothing here is a real photograph (images are made in code)."""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
from PIL import Image, ImageDraw, ImageOps

from stopspread.hashing import VideoMode, digest_bytes, enrolment_hashes, hash_video
from stopspread.services.cases import create_case
from stopspread.services.context import Services
from stopspread.services.scans.queue import case_id_for_code
from stopspread.services.signal_input import SignalIn
from stopspread.storage.models import SignalType
from tests.conftest import TESTDATA, encode, synthetic_rgb
from tests.sources.site import LocalSite

__all__ = ["Planted", "edited_copies", "enrol", "plant_site", "reencode_video"]

VIDEO = "vpdq/videos/pattern-sd-grey-bar.mp4"


def _jpeg(image: Image.Image, quality: int = 70) -> bytes:
    buf = io.BytesIO()
    image.convert("RGB").save(buf, "JPEG", quality=quality)
    return buf.getvalue()


def original(seed: int) -> bytes:
    return encode(synthetic_rgb(640, 480, seed), "PNG")


def edited_copies(seed: int) -> dict[str, bytes]:
    """Copies of the synthetic image ``seed`` as a site would show them."""
    image = Image.fromarray(synthetic_rgb(640, 480, seed))
    captioned = image.copy()
    ImageDraw.Draw(captioned).rectangle((0, 0, image.width, image.height // 8), fill=(0, 0, 0))
    return {
        "resized": _jpeg(image.resize((384, 288)), 80),
        "reencoded": _jpeg(image, 35),
        "caption": _jpeg(captioned),
        "flipped": _jpeg(ImageOps.mirror(image)),
        "border": _jpeg(ImageOps.expand(image, border=64, fill=(255, 255, 255))),
    }


def shapes(seed: int) -> bytes:
    """An unrelated synthetic picture: random rectangles and ellipses (another generator than
    the photo-like originals, whose hashes are correlated with each other)."""
    rng = np.random.default_rng(seed)
    image = Image.new("RGB", (480, 360), tuple(int(x) for x in rng.integers(0, 255, 3)))
    draw = ImageDraw.Draw(image)
    for _ in range(40):
        x0, y0 = int(rng.integers(0, 480)), int(rng.integers(0, 360))
        box = (x0, y0, x0 + int(rng.integers(10, 200)), y0 + int(rng.integers(10, 200)))
        fill = tuple(int(x) for x in rng.integers(0, 255, 3))
        (draw.ellipse if rng.random() < 0.5 else draw.rectangle)(box, fill=fill)
    return _jpeg(image)


def unrelated_images() -> list[bytes]:
    """Unrelated images: synthetic shapes and four of the PDQ reference images."""
    folder = TESTDATA / "pdq" / "images"
    files = sorted(folder.glob("labelme-subset/*.jpg"))[:4]
    return [shapes(seed) for seed in range(100, 104)] + [f.read_bytes() for f in files]


def reencode_video(path: Path, scale: float = 0.66, seconds: float = 6.0) -> bytes:
    """The first ``seconds`` of a video at another size and a low bitrate, a keyframe a second."""
    out = io.BytesIO()
    with av.open(str(path)) as source, av.open(out, "w", format="mp4") as sink:
        stream_in = source.streams.video[0]
        rate = stream_in.average_rate or Fraction(25)
        stream = sink.add_stream("libx264", rate=rate)
        stream.width = int(stream_in.codec_context.width * scale) // 2 * 2
        stream.height = int(stream_in.codec_context.height * scale) // 2 * 2
        stream.pix_fmt = "yuv420p"
        stream.bit_rate = 300_000
        keyint = max(1, round(float(rate)))
        stream.options = {"x264-params": f"keyint={keyint}:min-keyint={keyint}:scenecut=0"}
        for index, frame in enumerate(source.decode(stream_in)):
            if frame.time is not None and frame.time > seconds:
                break
            scaled = frame.reformat(width=stream.width, height=stream.height, format="yuv420p")
            scaled.pts = index  # in the encoder's time base, 1/rate
            scaled.time_base = Fraction(1, keyint)
            sink.mux(stream.encode(scaled))
        sink.mux(stream.encode(None))
    return out.getvalue()


def enrol(svc: Services, images: list[bytes], videos: list[Path]) -> tuple[str, int]:
    """A case holding the ss-img-1 enrolment hashes (and MD5) of the images and the vPDQ
    frame hashes of the videos, as a survivor's device would send them."""
    signals: list[SignalIn] = []
    for body in images:
        signals += [SignalIn(SignalType.PDQ, h.hash.hex, h.quality) for h in enrolment_hashes(body)]
        signals.append(SignalIn(SignalType.MD5, digest_bytes(body).md5))
    for path in videos:
        frames = hash_video(path, mode=VideoMode.REFERENCE).frames
        signals += [SignalIn(SignalType.PDQ, f.pdq.hex, f.quality) for f in frames]
    new = create_case(svc, signals)
    return new.code, case_id_for_code(svc.db, new.code)


@dataclass
class Planted:
    """What the site holds: the URLs of planted copies and of unrelated media."""

    copies: dict[str, str] = field(default_factory=dict)  # name -> URL
    unrelated: list[str] = field(default_factory=list)


def plant_site(site: LocalSite, seeds: tuple[int, ...], video: bytes | None) -> Planted:
    """Three pages: the copies spread over them, among unrelated images and links."""
    planted = Planted()
    blocks: list[list[str]] = [[], [], []]
    for n, seed in enumerate(seeds):
        for m, (name, body) in enumerate(edited_copies(seed).items()):
            path = f"/media/{seed}-{name}.jpg"
            site.file(path, body, "image/jpeg")
            planted.copies[f"{seed}-{name}"] = site.url(path)
            tag = f'<img src="{path}" alt="">'
            if name == "resized":
                tag = f'<img src="/media/x.gif" srcset="{path} 1x" alt="">'
            elif name == "flipped":
                tag = f'<picture><source srcset="{path}"><img src="/media/x.gif" alt=""></picture>'
            blocks[(n + m) % 3].append(tag)
    for k, body in enumerate(unrelated_images()):
        path = f"/media/other-{k}.jpg"
        site.file(path, body, "image/jpeg")
        planted.unrelated.append(site.url(path))
        blocks[k % 3].append(f'<a href="{path}">photo</a>' if k % 2 else f'<img src="{path}">')
    site.file("/media/x.gif", encode(np.zeros((1, 1, 3), np.uint8), "GIF"), "image/gif")
    if video is not None:
        site.file("/media/clip.mp4", video, "video/mp4")
        planted.copies["video"] = site.url("/media/clip.mp4")
        blocks[2].append('<video controls><source src="/media/clip.mp4" type="video/mp4"></video>')
    nav = '<a href="/">home</a> <a href="/page/1">1</a> <a href="/page/2">2</a>'
    site.html("/", f"<html><body>{nav}{''.join(blocks[0])}</body></html>")
    for i in (1, 2):
        site.html(f"/page/{i}", f"<html><body>{nav}{''.join(blocks[i])}</body></html>")
    return planted
