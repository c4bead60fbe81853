"""The browser hashing scripts (static/survivor/hashing/) against the Python pipeline.

In real headless Chromium, on the app's origin under its strict CSP: JavaScript PDQ, the 8
dihedral hashes and the ss-img-1 signal set of every reference image equal the Python ones
where the browser decodes the same pixels (and differ by at most 4 bits otherwise); video
frames sampled once a second land within 31 bits of Python's vPDQ frames; MD5 and SHA-256
equal hashlib's. ``pytest -s`` prints the distance tables (docs/browser-hashing.md).
"""

from __future__ import annotations

import base64
import hashlib
import io
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import numpy.typing as npt
import pytest
from PIL import Image

from stopspread.hashing import ImageHashes, hash_image, hash_video
from stopspread.hashing.decode import load, open_image, to_rgb
from stopspread.hashing.pdq import PDQ_MIN_QUALITY, PdqHash
from stopspread.hashing.signals import enrolment_hashes
from tests.conftest import synthetic_rgb
from tests.web.js_harness import HashingPage, hashing_page, reference_result
from tests.web.js_media import (
    FORMATS,
    audio_only_mp4,
    format_sample,
    icc_profile,
    png_header_only,
    scrolling_video,
)

__all__ = ["hashing_page"]

MAX_BITS_WHEN_DECODE_DIFFERS = 4
VPDQ_MATCH_BITS = 31
TEST_VIDEO = "pattern-sd-grey-bar.mp4"


def dist(a: str, b: PdqHash) -> int:
    return PdqHash.from_hex(a).distance(b)


def reference_images(testdata: Path) -> list[Path]:
    return sorted(p for p in (testdata / "pdq" / "images").rglob("*") if p.is_file())


def signal(result: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [s for s in result["signals"] if s["type"] == kind]


def python_side(path: Path) -> tuple[npt.NDArray[np.uint8], ImageHashes, dict[str, PdqHash]]:
    """Pillow's RGB pixels, PDQ with its dihedral hashes, and the ss-img-1 set, by tag."""
    return python_side_of(path.read_bytes())


def python_side_of(data: bytes) -> tuple[npt.NDArray[np.uint8], ImageHashes, dict[str, PdqHash]]:
    rgb = np.ascontiguousarray(np.asarray(to_rgb(load(open_image(data)))))
    ref = hash_image(data, dihedral=True)
    return rgb, ref, {h.tag: h.hash for h in enrolment_hashes(data)}


def compare_image(
    page: HashingPage,
    results: dict[Path, dict[str, Any]],
    images: Path,
    path: Path,
    pool: ThreadPoolExecutor,
) -> dict[str, Any]:
    """One row of the table: how the browser's pixels and hashes compare with Python's."""
    python = pool.submit(python_side, path)  # meanwhile, Chromium hashes the same file
    out = reference_result(page, results, path)  # as her enrolment does: keypoints asked for
    result, details = out["result"], out["result"]["_details"]
    rgb, ref, py_set = python.result()
    differing = 0
    if details["rgbSha256"] != hashlib.sha256(rgb.tobytes()).hexdigest():
        rgba = page.decoded()  # only then fetch the pixels to count the differences
        same_size = rgba.shape[:2] == rgb.shape[:2]
        differing = int((rgba[..., :3] != rgb).any(axis=2).sum()) if same_size else -1
    js_set = {h["tag"]: h["value"] for h in details["hashes"]}
    common = js_set.keys() & py_set.keys()
    assert ref.digests is not None
    return {
        "name": path.relative_to(images).as_posix(),
        "size": f"{rgb.shape[1]}x{rgb.shape[0]}",
        "differing": differing,
        "pdq": dist(details["pdq"]["hash"], ref.pdq),
        "quality": (details["pdq"]["quality"], ref.quality),
        "dihedral": max(
            dist(details["pdq"]["dihedral"][v.value], h) for v, h in ref.variants.items()
        ),
        "set": max((dist(js_set[t], py_set[t]) for t in common), default=0),
        "set_sizes": (len(js_set), len(py_set)),
        "same_tags": js_set.keys() == py_set.keys(),
        "digests": signal(result, "md5")[0]["value"] == ref.digests.md5
        and result["sha256"] == ref.digests.sha256,
        "result": result,
    }


def print_image_table(rows: list[dict[str, Any]]) -> None:
    print(
        "\n| image | size | pixels differing | PDQ | 8 dihedral (max) | ss-img-1 (max, JS/Py count) |"
    )
    print("|---|---|---:|---:|---:|---|")
    for r in rows:
        print(
            f"| {r['name']} | {r['size']} | {r['differing']} | {r['pdq']} | {r['dihedral']} "
            f"| {r['set']} ({r['set_sizes'][0]}/{r['set_sizes'][1]}) |"
        )


def test_reference_images_hash_as_in_python(
    hashing_page: HashingPage, reference_results: dict[Path, dict[str, Any]], testdata: Path
) -> None:
    images = testdata / "pdq" / "images"
    with ThreadPoolExecutor(max_workers=1) as pool:
        rows = [
            compare_image(hashing_page, reference_results, images, p, pool)
            for p in reference_images(testdata)
        ]
    print_image_table(rows)
    for r in rows:
        result = r["result"]
        assert result["kind"] == "image" and result["setVersion"] == "ss-img-1", r["name"]
        assert result["frames"] == [] and r["digests"], r["name"]
        assert signal(result, "pdq")[0]["value"] == result["_details"]["pdq"]["hash"]
        assert len(signal(result, "pdq")) <= 37 and len(signal(result, "md5")) == 1
        worst = max(r["pdq"], r["dihedral"], r["set"])
        assert worst <= MAX_BITS_WHEN_DECODE_DIFFERS, r
        if r["differing"] == 0:  # the same pixels: the same hashes, bit for bit
            assert worst == 0 and r["same_tags"] and r["quality"][0] == r["quality"][1], r
    assert all(r["differing"] >= 0 for r in rows)


@pytest.mark.parametrize("name", sorted(FORMATS))
def test_other_formats_decode_to_pillows_pixels(hashing_page: HashingPage, name: str) -> None:
    """Encodings the reference set lacks: the same pixels as Pillow, so the same hashes."""
    data = format_sample(name)  # AVIF needs Pillow >= 11.3 (pyproject.toml asks for it)
    hashing_page.choose(name=name, data=data)
    details = hashing_page.hash(_details=True)["result"]["_details"]
    rgb, ref, py_set = python_side_of(data)
    assert details["rgbSha256"] == hashlib.sha256(rgb.tobytes()).hexdigest()
    assert details["pdq"]["hash"] == ref.pdq.hex
    assert {h["tag"]: h["value"] for h in details["hashes"]} == {
        t: h.hex for t, h in py_set.items()
    }


@pytest.mark.parametrize("fmt", ["JPEG", "WEBP", "PNG"])
def test_exif_orientation_is_ignored_like_the_reference(
    hashing_page: HashingPage, fmt: str
) -> None:
    """Chromium turns photos by their EXIF orientation even when told not to; the page must
    hash the stored pixels, as the reference and the Python pipeline do."""
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 degrees to display"
    buf = io.BytesIO()
    Image.fromarray(synthetic_rgb(640, 480, seed=7)).save(buf, fmt, exif=exif)
    data = buf.getvalue()
    hashing_page.choose(name=f"turned.{fmt.lower()}", data=data)
    out = hashing_page.hash(_details=True)
    assert out["result"]["_details"]["pdq"]["hash"] == hash_image(data).pdq.hex
    assert out["result"]["sha256"] == hashlib.sha256(data).hexdigest()  # the file, unchanged
    assert hashing_page.decoded().shape == (480, 640, 4)


_CONVERTED = """async () => {
  const file = document.getElementById('f').files[0];
  const bitmap = await createImageBitmap(file, {colorSpaceConversion: 'default'});
  const ctx = new OffscreenCanvas(bitmap.width, bitmap.height).getContext('2d');
  ctx.drawImage(bitmap, 0, 0);
  const d = ctx.getImageData(0, 0, bitmap.width, bitmap.height).data;
  let s = '';
  for (let i = 0; i < d.length; i += 8192) s += String.fromCharCode.apply(null, d.subarray(i, i + 8192));
  return btoa(s);
}"""


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP"])
def test_colour_profiles_are_ignored_like_the_reference(
    hashing_page: HashingPage, fmt: str
) -> None:
    """Pillow hashes the stored values; so does the page, even where the file's ICC profile
    would change every pixel (as Chromium's default decoding shows)."""
    rgb = synthetic_rgb(300, 200, seed=3)
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, fmt, icc_profile=icc_profile())
    data = buf.getvalue()
    hashing_page.choose(name=f"profiled.{fmt.lower()}", data=data)
    converted = np.frombuffer(base64.b64decode(hashing_page.evaluate(_CONVERTED)), np.uint8)
    stored = np.asarray(to_rgb(load(open_image(data))))
    assert np.abs(converted.reshape(200, 300, 4)[..., :3].astype(int) - stored).mean() > 20
    details = hashing_page.hash(_details=True)["result"]["_details"]
    assert details["rgbSha256"] == hashlib.sha256(stored.tobytes()).hexdigest()
    assert details["pdq"]["hash"] == hash_image(data).pdq.hex


def test_video_frames_match_python_vpdq(hashing_page: HashingPage, testdata: Path) -> None:
    path = testdata / "vpdq" / "videos" / TEST_VIDEO
    hashing_page.choose(path)
    out = hashing_page.hash()
    assert "result" in out, out
    result = out["result"]
    ref = hash_video(path)
    by_second = {round(f.timestamp): f for f in ref.frames}
    print(f"\n{TEST_VIDEO}: second | JS quality | Python quality | distance")
    compared = 0
    for frame in result["frames"]:
        py = by_second.get(round(frame["time"]))
        if py is None:
            continue  # the browser's last second can fall after Python's last sampled frame
        d = dist(frame["value"], py.pdq)
        print(f"  {frame['time']:>3} | {frame['quality']:>3} | {py.quality:>3} | {d}")
        if min(frame["quality"], py.quality) >= PDQ_MIN_QUALITY:
            assert d <= VPDQ_MATCH_BITS, (frame["time"], d)
            compared += 1
    assert compared >= len(ref.usable_frames) > 0
    assert result["kind"] == "video" and result["setVersion"] == "vpdq-1s-1"
    assert signal(result, "md5") == [{"type": "md5", "value": ref.digests.md5}]
    assert result["sha256"] == ref.digests.sha256
    values = [s["value"] for s in signal(result, "pdq")]
    assert len(values) == len(set(values)) and set(values) == {f["value"] for f in result["frames"]}
    frames_progress = [p for p in out["progress"] if p["stage"] == "frames"]
    assert frames_progress[-1]["done"] == frames_progress[-1]["total"] == len(result["frames"])


def test_every_second_is_a_fresh_frame_and_runs_agree(
    hashing_page: HashingPage, tmp_path: Path
) -> None:
    """After a seek the page waits until the new frame is presented: no stale frame is hashed
    twice (seen without requestVideoFrameCallback under load), and two runs agree."""
    path = tmp_path / "scroll.mp4"
    scrolling_video(path)
    hashing_page.choose(path)
    first, second = hashing_page.hash()["result"], hashing_page.hash()["result"]
    values = [f["value"] for f in first["frames"]]
    assert [f["time"] for f in first["frames"]] == list(range(6))
    assert len(set(values)) == 6 and values == [f["value"] for f in second["frames"]]
    ref = {round(f.timestamp): f.pdq for f in hash_video(path).frames}
    assert all(dist(f["value"], ref[f["time"]]) <= VPDQ_MATCH_BITS for f in first["frames"])


KNOWN_MD5 = {
    b"": "d41d8cd98f00b204e9800998ecf8427e",
    b"a": "0cc175b9c0f1b6a831c399e269772661",
    b"abc": "900150983cd24fb0d6963f7d28e17f72",
    b"message digest": "f96b697d7cb7938d525a2f31aaf161d0",
    b"abcdefghijklmnopqrstuvwxyz": "c3fcd3d76192e4007dfb496cca67e13b",
    b"1234567890" * 8: "57edf4a22be3c955ac49da2e2107b67a",
}
KNOWN_SHA256 = {
    b"": "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    b"abc": "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
    b"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq": (
        "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"
    ),
}
_DIGEST = """([hexData, cuts]) => {
  const bytes = new Uint8Array(hexData.match(/../g) ? hexData.match(/../g).map((h) => parseInt(h, 16)) : []);
  const md5 = new StopSpreadDigest.Md5(), sha = new StopSpreadDigest.Sha256();
  let at = 0;
  for (const cut of cuts.concat([bytes.length])) {
    md5.update(bytes.subarray(at, cut)); sha.update(bytes.subarray(at, cut)); at = cut;
  }
  return [md5.hex(), sha.hex()];
}"""


def test_md5_and_sha256_known_vectors_and_chunking(hashing_page: HashingPage) -> None:
    for data, md5 in KNOWN_MD5.items():
        assert hashing_page.evaluate(_DIGEST, [data.hex(), []])[0] == md5
    for data, sha in KNOWN_SHA256.items():
        assert hashing_page.evaluate(_DIGEST, [data.hex(), []])[1] == sha
    rng = np.random.default_rng(5)
    for size in (55, 56, 63, 64, 65, 119, 120, 1000, 70_001):
        data = rng.integers(0, 256, size, dtype=np.uint8).tobytes()
        cuts = sorted(int(c) for c in rng.integers(0, size, 3))
        md5, sha = hashing_page.evaluate(_DIGEST, [data.hex(), cuts])
        assert md5 == hashlib.md5(data, usedforsecurity=False).hexdigest(), size
        assert sha == hashlib.sha256(data).hexdigest(), size


def test_streamed_sha256_for_large_files_equals_hashlib(
    hashing_page: HashingPage, testdata: Path
) -> None:
    path = testdata / "vpdq" / "videos" / TEST_VIDEO  # 1 MB: streamed when the limit is 0
    hashing_page.choose(path)
    out = hashing_page.hash(_wholeFileSha256Limit=0)
    data = path.read_bytes()
    assert out["result"]["sha256"] == hashlib.sha256(data).hexdigest()
    assert signal(out["result"], "md5")[0]["value"] == hashlib.md5(data).hexdigest()
    reading = [p for p in out["progress"] if p["stage"] == "reading"]
    assert reading[-1]["done"] == reading[-1]["total"] == len(data)


_TOO_LARGE = """async () => {
  const bytes = new Uint8Array(100 * 1024 * 1024 + 1);
  bytes.set([0xff, 0xd8, 0xff, 0xe0]);
  try { await StopSpreadHashing.hashFile(new File([bytes], 'big.jpg')); return 'hashed'; }
  catch (e) { return e.code; }
}"""


_HEADER_SIZE = """async () => {
  const file = document.getElementById('f').files[0];
  const head = new Uint8Array(await file.slice(0, 256 * 1024).arrayBuffer());
  return StopSpreadHeader.imageSize(head);
}"""


def test_header_sizes_match_pillow(hashing_page: HashingPage, testdata: Path) -> None:
    """The size read from the header (for the pixel cap before decoding) is the real size."""
    read = 0
    for path in reference_images(testdata):
        hashing_page.choose(path)
        size = hashing_page.evaluate(_HEADER_SIZE)
        with Image.open(path) as image:
            if size is not None:
                assert (size["width"], size["height"]) == image.size, path.name
                read += 1
    assert read == len(reference_images(testdata))


def test_errors_carry_a_code(hashing_page: HashingPage) -> None:
    cases = [
        ("bomb.png", png_header_only(20_000, 20_000), "too-large"),
        ("notes.txt", b"just some text, not a picture", "unsupported"),
        ("broken.jpg", b"\xff\xd8\xff\xe0" + b"\x00" * 64, "decode-failed"),
        ("sound.mp4", audio_only_mp4(), "no-video-frames"),
        (
            "damaged.mp4",
            b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2" + bytes(range(256)) * 64,
            "decode-failed",
        ),
    ]
    for name, data, code in cases:
        hashing_page.choose(name=name, data=data)
        assert hashing_page.hash().get("error") == code, name
    assert hashing_page.evaluate(_TOO_LARGE) == "too-large"


_ABORT = """async () => {
  const controller = new AbortController();
  const file = document.getElementById('f').files[0];
  const onProgress = (p) => { if (p.stage === 'frames' && p.done >= 1) controller.abort(); };
  try { await StopSpreadHashing.hashFile(file, {onProgress, signal: controller.signal}); return 'hashed'; }
  catch (e) { return e.code; }
}"""


def test_an_abort_signal_stops_hashing(hashing_page: HashingPage, testdata: Path) -> None:
    hashing_page.choose(testdata / "vpdq" / "videos" / TEST_VIDEO)
    assert hashing_page.evaluate(_ABORT) == "aborted"
    assert "result" in hashing_page.hash()  # and the next file hashes normally


def test_the_service_accepts_the_signals_as_they_are(hashing_page: HashingPage) -> None:
    buf = io.BytesIO()
    Image.fromarray(synthetic_rgb(500, 400, seed=4)).save(buf, "JPEG", quality=90)
    hashing_page.choose(name="mine.jpg", data=buf.getvalue())
    signals = hashing_page.hash()["result"]["signals"]
    with httpx.Client(base_url=hashing_page.base_url) as client:
        created = client.post("/v1/cases", json={"signals": signals})
    assert created.status_code == 201, created.text
    assert created.json()["signals"] == len(signals)


def test_hashing_sends_nothing_and_runs_under_the_csp(hashing_page: HashingPage) -> None:
    hashing_page.requests.clear()
    buf = io.BytesIO()
    Image.fromarray(synthetic_rgb(300, 200, seed=2)).save(buf, "PNG")
    hashing_page.choose(name="mine.png", data=buf.getvalue())
    assert "result" in hashing_page.hash()
    assert hashing_page.evaluate("StopSpreadHashing.supported()") is True
    base = hashing_page.base_url + "/static/survivor/hashing/"
    for method, url in hashing_page.requests:
        assert method == "GET" and (url.startswith(base) or url.startswith("blob:")), url
    assert not [e for e in hashing_page.console_errors if "Content Security Policy" in e]
