"""Fuzz harnesses: every parser of outside input, fed bytes, allowed only its typed errors.

One harness per parser. ``Harness.check(data)`` runs the parser on ``data`` and returns
normally when it either gave a result or raised one of its documented typed errors; any
other exception propagates (a crash). The CI tests (``tests/fuzz``) drive the harnesses
with hypothesis; the soak suite (``tests/soak/test_fuzz_soak.py``) with :func:`run_fuzz`,
a seeded mutation loop over the same seed corpus (100,000 inputs per harness).
"""

from __future__ import annotations

import contextlib
import io
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache

import numpy as np
from PIL import Image
from pydantic import BaseModel, ValidationError

from stopspread.errors import (
    EvidenceError,
    HashFormatError,
    HostRegistryError,
    InvalidRequestError,
    MediaError,
)
from stopspread.evidence.capture import HttpCapture
from stopspread.evidence.warc import build_warc, read_warc
from stopspread.hashing import hash_image
from stopspread.hashing.pdq import PdqHash
from stopspread.matching.signal_types import SIGNAL_TYPES
from stopspread.services.signal_input import parse_signal
from stopspread.sources.html import parse_page
from stopspread.sources.robots import parse_robots
from stopspread.takedown.hosts import parse_registry, shipped_registry_path
from stopspread.web import schemas
from tests.conftest import TESTDATA, synthetic_rgb

__all__ = ["HARNESSES", "FuzzReport", "Harness", "mutate", "run_fuzz"]

BASE_URL = "https://example.org/gallery/page.html"
ROBOTS_URL = "https://example.org:443/robots.txt"
USER_AGENT = "StopSpread"


@dataclass(frozen=True)
class Harness:
    """A parser under fuzz: how to run it, and the seeds its inputs are mutated from."""

    name: str
    run: Callable[[bytes], object]
    allowed: tuple[type[BaseException], ...]
    seeds: Callable[[], Sequence[bytes]]

    def check(self, data: bytes) -> bool:
        """Run the parser: True for a result, False for a typed error; a crash propagates."""
        try:
            self.run(data)
        except self.allowed:
            return False
        return True


@dataclass
class FuzzReport:
    """What one soak run of a harness found: how many inputs, and each crash."""

    name: str
    inputs: int = 0
    results: int = 0  # inputs the parser accepted (the rest got a typed error, or crashed)
    crashes: list[tuple[bytes, str]] = field(default_factory=list)


def _text(data: bytes) -> str:
    return data.decode("utf-8", errors="replace")


# --- seeds ------------------------------------------------------------------------------


def _encoded(fmt: str, mode: str, **save: object) -> bytes:
    image = Image.fromarray(synthetic_rgb(48, 40, seed=len(fmt))).convert(mode)
    buf = io.BytesIO()
    image.save(buf, fmt, **save)
    return buf.getvalue()


@cache
def image_seeds() -> tuple[bytes, ...]:
    """Small real test images (tests/data) and small synthetic files in every format."""
    real = sorted(
        p
        for p in (TESTDATA / "pdq" / "images").rglob("*")
        if p.is_file() and p.stat().st_size < 40_000
    )
    made = [
        _encoded("JPEG", "RGB", quality=80),
        _encoded("JPEG", "L", progressive=True),
        _encoded("PNG", "RGBA"),
        _encoded("PNG", "P"),
        _encoded("GIF", "P"),
        _encoded("WEBP", "RGB", quality=70),
        _encoded("BMP", "RGB"),
        _encoded("TIFF", "RGB"),
    ]
    return tuple([p.read_bytes() for p in real] + made)


def _hash_seeds() -> Sequence[bytes]:
    rng = np.random.default_rng(7)
    pdq = rng.integers(0, 256, 32, dtype=np.uint8).tobytes().hex()
    return [
        f"pdq\n{pdq}\n".encode(),
        f"pdq\n {pdq.upper()} \n50".encode(),
        b"md5\n" + b"d41d8cd98f00b204e9800998ecf8427e" + b"\n100",
        b"md5\nD41D8CD98F00B204E9800998ECF8427E\n",
    ]


def _json_seeds() -> Sequence[bytes]:
    pdq = "f" * 64
    return [
        b'{"signals": [{"type": "pdq", "value": "' + pdq.encode() + b'", "quality": 90}]}',
        b'{"signals": [{"type": "md5", "value": "' + b"a" * 32 + b'", "media": "video"}]}',
        b'{"type": "pdq", "value": "' + pdq.encode() + b'", "threshold": 31}',
        b'{"match_id": 3, "verdict": "confirmed"}',
        b'{"signals": []}',
        b"[1, 2.5e308, null, true]",
    ]


@cache
def _toml_seeds() -> tuple[bytes, ...]:
    shipped = shipped_registry_path().read_bytes()
    small = (
        b'version = 1\n\n[hosts."example.org"]\nname = "Example"\n'
        b'abuse_email = "abuse@example.org"\nlanguage = "en"\n'
    )
    return (shipped, small, b"version = 1\n[hosts]\n")


def _html_seeds() -> Sequence[bytes]:
    return [
        b'<html><body><img src="a.jpg" srcset="b.jpg 2x, c.jpg 640w">'
        b'<a href="/next?page=2#top">next</a><video poster="p.png"><source src="v.mp4">'
        b'</video><picture><source srcset="d.webp"></picture>'
        b'<a href="http://[::1/x">bad</a><base href="https://cdn.example.org/"></body></html>',
        b"<img src='javascript:alert(1)'><a href=data:x>",
    ]


def _robots_seeds() -> Sequence[bytes]:
    return [
        b"User-agent: *\nDisallow: /private\nAllow: /private/ok\nCrawl-delay: 5\n"
        b"Request-rate: 3/10\nSitemap: https://example.org/sitemap.xml\n",
        b"User-agent: StopSpread\nDisallow: /\n\nUser-agent: *\nAllow: /\n",
    ]


@cache
def _warc_seeds() -> tuple[bytes, ...]:
    when = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    http = HttpCapture(
        url="https://example.org/a.jpg",
        status=200,
        headers=[("Content-Type", "image/jpeg"), ("Content-Length", "6")],
        body=b"\xff\xd8\xff\xe0ab",
        fetched_at=when,
        request_headers=[("User-Agent", USER_AGENT)],
        peer="93.184.216.34",
    )
    local = HttpCapture(
        url="file:///srv/folder/x.png", status=200, headers=[], body=b"\x89PNG", fetched_at=when
    )
    return (build_warc(http).data, build_warc(local).data)


# --- the parsers under fuzz -------------------------------------------------------------


def _image(data: bytes) -> object:
    return hash_image(data, dihedral=True)


def _hash_value(data: bytes) -> object:
    kind, _, rest = _text(data).partition("\n")
    value, _, quality = rest.partition("\n")
    digits = quality.strip()
    number = int(digits) if digits.isascii() and digits.isdecimal() and len(digits) < 8 else None
    for name in SIGNAL_TYPES:
        with contextlib.suppress(HashFormatError):
            SIGNAL_TYPES[name].validate(value)
    with contextlib.suppress(HashFormatError):
        PdqHash.from_hex(value)
    return parse_signal(kind.strip(), value, number, from_video=True)


def _api_models() -> list[type[BaseModel]]:
    return [
        model
        for model in vars(schemas).values()
        if isinstance(model, type) and issubclass(model, schemas._In) and model is not schemas._In
    ]


def _json_body(data: bytes) -> object:
    """Every API body model on the same bytes; a ValidationError when none accepts them."""
    accepted: list[BaseModel] = []
    refusal: ValidationError | None = None
    for model in _api_models():
        try:
            accepted.append(model.model_validate_json(data))
        except ValidationError as exc:
            refusal = exc
    if not accepted and refusal is not None:
        raise refusal
    return accepted


def _host_toml(data: bytes) -> object:
    registry = parse_registry(_text(data), "fuzz.toml")
    for url in ("https://example.org/x", "https://www.example.co.kr/"):
        registry.lookup(url)
    return registry


def _html(data: bytes) -> object:
    return parse_page(_text(data), BASE_URL)


def _robots(data: bytes) -> object:
    rules = parse_robots(_text(data).splitlines(), ROBOTS_URL)
    for url in ("https://example.org/", "https://example.org/private/x?y=1"):
        rules.can_fetch(USER_AGENT, url)
    return (rules.crawl_delay(USER_AGENT), rules.request_rate(USER_AGENT))


def _warc(data: bytes) -> object:
    return read_warc(data)


HARNESSES: dict[str, Harness] = {
    h.name: h
    for h in (
        Harness("image", _image, (MediaError,), image_seeds),
        Harness("hash", _hash_value, (InvalidRequestError,), _hash_seeds),
        Harness("json", _json_body, (ValidationError,), _json_seeds),
        Harness("toml", _host_toml, (HostRegistryError,), _toml_seeds),
        Harness("html", _html, (), _html_seeds),
        Harness("robots", _robots, (), _robots_seeds),
        Harness("warc", _warc, (EvidenceError,), _warc_seeds),
    )
}


# --- mutation ---------------------------------------------------------------------------

_INTERESTING = (b"\x00", b"\xff", b"\x7f", b"\x80", b"\xff\xff\xff\xff", b"\x00\x00\x00\x00")
_TOKENS = (b"\n", b"\r\n", b'"', b"[", b"]", b"{", b"}", b"=", b":", b"<", b">", b"/", b"\\")
# characters that str.isdigit() or str.isspace() accept but int() and ASCII parsers do not
_TOKENS += tuple(c.encode() for c in "\u00b2\u0661\u2460\u00a0\u2028\u0085\ufeff%")


def mutate(seed: bytes, rng: random.Random, corpus: Sequence[bytes] = ()) -> bytes:
    """One to eight random edits of ``seed``: bit flips, bytes, tokens, cuts, copies, splices."""
    data = bytearray(seed)
    for _ in range(rng.randint(1, 8)):
        pos = rng.randrange(len(data) + 1)
        op = rng.randrange(8)
        if op == 0 and data:  # flip a bit
            i = min(pos, len(data) - 1)
            data[i] ^= 1 << rng.randrange(8)
        elif op == 1 and data:  # a random byte
            data[min(pos, len(data) - 1)] = rng.randrange(256)
        elif op == 2:  # an interesting value
            blob = rng.choice(_INTERESTING)
            data[pos : pos + len(blob)] = blob
        elif op == 3:  # a syntax token
            data[pos:pos] = rng.choice(_TOKENS)
        elif op == 4:  # truncate
            del data[pos:]
        elif op == 5 and data:  # delete a run
            del data[pos : pos + rng.randint(1, 64)]
        elif op == 6 and data:  # copy a run elsewhere
            start = rng.randrange(len(data))
            run = data[start : start + rng.randint(1, 64)]
            data[pos:pos] = run
        elif corpus:  # splice another seed's tail
            other = rng.choice(corpus)
            data[pos:] = other[rng.randrange(len(other) + 1) :]
    return bytes(data)


def run_fuzz(harness: Harness, count: int, seed: int = 0) -> FuzzReport:
    """``count`` inputs (mutated seeds, a few raw random) through ``harness``; every crash."""
    rng = random.Random(seed)
    seeds = list(harness.seeds())
    report = FuzzReport(harness.name)
    for _ in range(count):
        if rng.random() < 0.05:
            data = rng.randbytes(rng.randrange(256))
        else:
            data = mutate(rng.choice(seeds), rng, seeds)
        report.inputs += 1
        try:
            report.results += harness.check(data)
        except Exception as exc:  # a crash: the soak suite reports it with its input
            report.crashes.append((data, f"{type(exc).__name__}: {exc}"[:300]))
    return report
