"""Reporting generators for bench/robustness.py (``--generators report``).

Written apart from ``robust_transforms.py`` (the design generators the signal set was tuned
on) and never used while designing: other tools (NumPy warps with our own bilinear sampling
instead of Pillow's rotate/crop helpers), other shapes and wider ranges than the signals were
designed for. Each generator takes an RGB image and a seeded NumPy generator. Several families
pick one of two or three independent generators per image.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from functools import cache

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

Rng = np.random.Generator
Edit = Callable[[Image.Image, Rng], Image.Image]
FONT = "/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc"
LINES = ["ㅋㅋㅋ 이거 실화냐", "NO WAY", "저장 각", "when the wifi", "링크 댓글", "본인 등판"]


@cache
def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    try:
        return ImageFont.truetype(FONT, max(8, size))
    except OSError:
        return ImageFont.load_default()


def _colour(rng: Rng) -> tuple[int, int, int]:
    return (int(rng.integers(256)), int(rng.integers(256)), int(rng.integers(256)))


def _jpeg(img: Image.Image, quality: int) -> Image.Image:
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=quality)
    buf.seek(0)
    return Image.open(buf).convert("RGB")


# ---------------------------------------------------------------- geometry by hand


def _sample(src: np.ndarray, xs: np.ndarray, ys: np.ndarray, fill: np.ndarray) -> np.ndarray:
    """Bilinear sampling of ``src`` at float coordinates; outside the picture is ``fill``."""
    h, w = src.shape[:2]
    inside = (xs >= 0) & (xs <= w - 1) & (ys >= 0) & (ys <= h - 1)
    x0 = np.clip(np.floor(xs).astype(int), 0, w - 2)
    y0 = np.clip(np.floor(ys).astype(int), 0, h - 2)
    fx = np.clip(xs - x0, 0, 1)[..., None]
    fy = np.clip(ys - y0, 0, 1)[..., None]
    s = src.astype(np.float32)
    top = s[y0, x0] * (1 - fx) + s[y0, x0 + 1] * fx
    bottom = s[y0 + 1, x0] * (1 - fx) + s[y0 + 1, x0 + 1] * fx
    out = top * (1 - fy) + bottom * fy
    out[~inside] = fill
    return np.clip(out, 0, 255).astype(np.uint8)


def _warp(img: Image.Image, inverse: np.ndarray, size: tuple[int, int], fill) -> Image.Image:
    """Warp by a 3x3 matrix mapping output pixel coordinates to source coordinates."""
    w, h = size
    gx, gy = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
    pts = np.stack([gx, gy, np.ones_like(gx)], axis=-1) @ inverse.T
    xs, ys = pts[..., 0] / pts[..., 2], pts[..., 1] / pts[..., 2]
    return Image.fromarray(_sample(np.asarray(img), xs, ys, np.array(fill, np.float32)))


def _rotation(img: Image.Image, degrees: float, expand: bool) -> tuple[np.ndarray, tuple]:
    w, h = img.size
    t = np.deg2rad(degrees)
    c, s = np.cos(t), np.sin(t)
    fw, fh = (abs(w * c) + abs(h * s), abs(w * s) + abs(h * c)) if expand else (w, h)
    ow, oh = round(float(fw)), round(float(fh))
    # output -> centre -> rotate back -> source centre
    m = np.array([[c, s, 0], [-s, c, 0], [0, 0, 1]])
    to_c = np.array([[1, 0, -ow / 2], [0, 1, -oh / 2], [0, 0, 1]])
    from_c = np.array([[1, 0, w / 2], [0, 1, h / 2], [0, 0, 1]])
    return from_c @ m @ to_c, (ow, oh)


def rotate_expanded(img: Image.Image, rng: Rng) -> Image.Image:
    deg = float(rng.uniform(3, 12)) * rng.choice([-1, 1])
    fill = [(0, 0, 0), (255, 255, 255), _colour(rng)][int(rng.integers(3))]
    inv, size = _rotation(img, deg, expand=True)
    return _warp(img, inv, size, fill)


def rotate_inner_crop(img: Image.Image, rng: Rng) -> Image.Image:
    deg = float(rng.uniform(2, 10)) * rng.choice([-1, 1])
    inv, size = _rotation(img, deg, expand=False)
    out = _warp(img, inv, size, (0, 0, 0))
    w, h = out.size
    t = abs(np.deg2rad(deg))
    k = 1 / (np.cos(t) + max(w, h) / min(w, h) * np.sin(t))  # largest upright inner box
    cw, ch = int(w * k), int(h * k)
    return out.crop(((w - cw) // 2, (h - ch) // 2, (w + cw) // 2, (h + ch) // 2))


def perspective(img: Image.Image, rng: Rng) -> Image.Image:
    """A photo of a screen or print: corners pulled in by 3-12 % each, then a background."""
    w, h = img.size
    src = np.array([[0, 0], [w, 0], [w, h], [0, h]], float)
    dst = src + rng.uniform(0.03, 0.12, (4, 2)) * np.array([w, h]) * np.array(
        [[1, 1], [-1, 1], [-1, -1], [1, -1]]
    )
    a = []
    for (x, y), (u, v) in zip(dst, src, strict=True):  # output -> source homography
        a.append([x, y, 1, 0, 0, 0, -u * x, -u * y, -u])
        a.append([0, 0, 0, x, y, 1, -v * x, -v * y, -v])
    _, _, vt = np.linalg.svd(np.array(a))
    return _warp(img, vt[-1].reshape(3, 3), (w, h), _colour(rng))


# ---------------------------------------------------------------- crops and frames


def _crop_box(img: Image.Image, rng: Rng, lo: float, hi: float) -> tuple[int, int, int, int]:
    w, h = img.size
    kw, kh = rng.uniform(lo, hi, 2)
    cw, ch = int(w * kw), int(h * kh)
    x, y = int(rng.integers(0, w - cw + 1)), int(rng.integers(0, h - ch + 1))
    return x, y, x + cw, y + ch


def crop_75_90(img: Image.Image, rng: Rng) -> Image.Image:
    return img.crop(_crop_box(img, rng, 0.75, 0.90))


def crop_resize(img: Image.Image, rng: Rng) -> Image.Image:
    out = img.crop(_crop_box(img, rng, 0.70, 0.92))
    f = float(rng.uniform(0.4, 1.6))
    return out.resize((max(32, int(out.width * f)), max(32, int(out.height * f))))


def crop_jpeg(img: Image.Image, rng: Rng) -> Image.Image:
    return _jpeg(img.crop(_crop_box(img, rng, 0.80, 0.95)), int(rng.integers(20, 40)))


def square_crop(img: Image.Image, rng: Rng) -> Image.Image:
    w, h = img.size
    s = min(w, h)
    x = int(rng.integers(0, w - s + 1))
    y = int(rng.integers(0, h - s + 1))
    return img.crop((x, y, x + s, y + s))


def _background(img: Image.Image, rng: Rng, size: tuple[int, int]) -> Image.Image:
    if rng.random() < 0.5:
        return Image.new("RGB", size, _colour(rng))
    blurred = img.resize(size).filter(ImageFilter.GaussianBlur(max(size) / 25))
    return Image.fromarray((np.asarray(blurred) * rng.uniform(0.4, 0.8)).astype(np.uint8))


def border(img: Image.Image, rng: Rng) -> Image.Image:
    w, h = img.size
    left, right = (int(w * f) for f in rng.uniform(0.05, 0.40, 2))
    top, bottom = (int(h * f) for f in rng.uniform(0.05, 0.40, 2))
    out = _background(img, rng, (w + left + right, h + top + bottom))
    out.paste(img, (left, top))
    return out


def story(img: Image.Image, rng: Rng) -> Image.Image:
    """A 9:16 story: the photo scaled to the width over a blurred or plain background."""
    width = int(rng.integers(540, 1080))
    size = (width, width * 16 // 9)
    photo = img.resize((width, max(1, img.height * width // img.width)))
    out = _background(img, rng, size)
    out.paste(photo, (0, int(rng.uniform(0.2, 0.6) * max(0, size[1] - photo.height))))
    return out


def phone_screenshot(img: Image.Image, rng: Rng) -> Image.Image:
    """A chat app: bubbles above and below the photo, which takes 40-75 % of the height."""
    height = int(rng.integers(1600, 2400))
    width = height * 9 // 19
    share = float(rng.uniform(0.40, 0.75))
    ph = int(height * share)
    pw = min(int(width * 0.8), ph * img.width // img.height)
    ph = pw * img.height // img.width
    bg = (255, 255, 255) if rng.random() < 0.5 else (28, 28, 30)
    out = Image.new("RGB", (width, height), bg)
    d = ImageDraw.Draw(out)
    d.rectangle((0, 0, width, height // 12), fill=_colour(rng))
    y0 = int(rng.integers(height // 10, max(height // 10 + 1, height - ph - height // 10)))
    x0 = int(width * 0.1) if rng.random() < 0.5 else width - pw - int(width * 0.05)
    out.paste(img.resize((pw, ph)), (x0, y0))
    for y in list(range(height // 9, y0 - 60, 140)) + list(range(y0 + ph + 30, height, 140)):
        d.rounded_rectangle((30, y, width * 0.7, y + 90), 30, fill=_colour(rng))
        d.text((50, y + 20), str(rng.choice(LINES)), font=_font(36), fill=(0, 0, 0))
    return out


def desktop_screenshot(img: Image.Image, rng: Rng) -> Image.Image:
    """A browser window: toolbar, sidebar and the photo at 35-65 % of the screen width."""
    size = (1920, 1080) if rng.random() < 0.6 else (1440, 900)
    out = Image.new("RGB", size, (245, 245, 245))
    d = ImageDraw.Draw(out)
    d.rectangle((0, 0, size[0], 90), fill=(222, 225, 230))
    d.rounded_rectangle((200, 45, size[0] - 200, 80), 15, fill="white")
    d.rectangle((0, 90, 300, size[1]), fill=_colour(rng))
    pw = int(size[0] * rng.uniform(0.35, 0.65))
    ph = min(size[1] - 150, pw * img.height // img.width)
    pw = ph * img.width // img.height
    out.paste(img.resize((pw, ph)), (int(rng.integers(320, max(321, size[0] - pw - 20))), 120))
    return _jpeg(out, 90) if rng.random() < 0.5 else out


def crop_border_jpeg(img: Image.Image, rng: Rng) -> Image.Image:
    return _jpeg(border(crop_75_90(img, rng), rng), int(rng.integers(35, 70)))


# ---------------------------------------------------------------- overlays


def stickers(img: Image.Image, rng: Rng) -> Image.Image:
    """2-5 opaque shapes (ellipses, stars, rounded squares), 4-12 % of the area in all."""
    out = img.copy()
    d = ImageDraw.Draw(out)
    w, h = img.size
    n = int(rng.integers(2, 6))
    each = float(rng.uniform(0.04, 0.12)) * w * h / n
    for _ in range(n):
        r = int(np.sqrt(each) / 2)
        cx, cy = int(rng.integers(r, max(r + 1, w - r))), int(rng.integers(r, max(r + 1, h - r)))
        kind = int(rng.integers(3))
        if kind == 0:
            d.ellipse((cx - r, cy - r, cx + r, cy + r), fill=_colour(rng))
        elif kind == 1:
            d.rounded_rectangle((cx - r, cy - r, cx + r, cy + r), r // 3, fill=_colour(rng))
        else:
            ang = np.linspace(0, 2 * np.pi, 11)[:-1]
            rad = np.where(np.arange(10) % 2 == 0, r * 1.2, r * 0.5)
            d.polygon(
                list(zip(cx + rad * np.cos(ang), cy + rad * np.sin(ang), strict=True)),
                fill=_colour(rng),
            )
    return out


def _outlined(d: ImageDraw.ImageDraw, xy: tuple[int, int], text: str, size: int) -> None:
    d.text(
        xy,
        text,
        font=_font(size),
        fill="white",
        stroke_width=max(2, size // 12),
        stroke_fill="black",
    )


def meme(img: Image.Image, rng: Rng) -> Image.Image:
    out = img.copy()
    d = ImageDraw.Draw(out)
    size = max(12, img.height // int(rng.integers(7, 11)))
    _outlined(d, (img.width // 20, img.height // 40), str(rng.choice(LINES)), size)
    if rng.random() < 0.7:
        _outlined(d, (img.width // 20, img.height - size * 3 // 2), str(rng.choice(LINES)), size)
    return out


def mirror_caption(img: Image.Image, rng: Rng) -> Image.Image:
    flipped = img.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    bar = int(img.height * rng.uniform(0.10, 0.25))
    out = Image.new("RGB", (img.width, img.height + bar), _colour(rng))
    top = rng.random() < 0.5
    out.paste(flipped, (0, bar if top else 0))
    d = ImageDraw.Draw(out)
    d.text(
        (10, (0 if top else img.height) + bar // 4),
        str(rng.choice(LINES)),
        font=_font(bar // 2),
        fill="black",
    )
    return out


def watermark(img: Image.Image, rng: Rng) -> Image.Image:
    layer = Image.new("RGBA", img.size, (0, 0, 0, 0))
    d = ImageDraw.Draw(layer)
    size = max(12, img.width // 12)
    alpha = int(rng.integers(50, 120))
    for y in range(0, img.height, size * 3):
        for x in range(-size * 2 + (y // 3) % size, img.width, size * 6):
            d.text((x, y), "@leak_ch", font=_font(size), fill=(255, 255, 255, alpha))
    return Image.alpha_composite(img.convert("RGBA"), layer).convert("RGB")


# ---------------------------------------------------------------- whole-picture edits


def jpeg_low(img: Image.Image, rng: Rng) -> Image.Image:
    return _jpeg(img, int(rng.integers(10, 35)))


def downscale(img: Image.Image, rng: Rng) -> Image.Image:
    f = float(rng.uniform(0.15, 0.5))
    small = img.resize((max(16, int(img.width * f)), max(16, int(img.height * f))))
    return small if rng.random() < 0.5 else small.resize(img.size)


def tone(img: Image.Image, rng: Rng) -> Image.Image:
    a = np.asarray(img).astype(np.float32) / 255
    a = a ** float(rng.uniform(0.5, 1.8))
    a = (a - 0.5) * float(rng.uniform(0.6, 1.5)) + 0.5 + float(rng.uniform(-0.15, 0.15))
    grey = a.mean(axis=2, keepdims=True)
    a = grey + (a - grey) * float(rng.uniform(0.2, 1.8))
    return Image.fromarray((np.clip(a, 0, 1) * 255).astype(np.uint8))


def grey_blur(img: Image.Image, rng: Rng) -> Image.Image:
    return img.convert("L").filter(ImageFilter.BoxBlur(float(rng.uniform(1, 4)))).convert("RGB")


def flip_turn(img: Image.Image, rng: Rng) -> Image.Image:
    ops = [
        Image.Transpose.FLIP_TOP_BOTTOM,
        Image.Transpose.ROTATE_90,
        Image.Transpose.ROTATE_270,
        Image.Transpose.TRANSPOSE,
        Image.Transpose.ROTATE_180,
    ]
    return _jpeg(img.transpose(ops[int(rng.integers(len(ops)))]), 85)


FAMILIES: dict[str, Edit] = {
    "R crop 75-90": crop_75_90,
    "R crop+resize": crop_resize,
    "R crop+JPEG q20-40": crop_jpeg,
    "R square crop": square_crop,
    "R stickers 4-12%": stickers,
    "R meme": meme,
    "R mirror+caption": mirror_caption,
    "R watermark": watermark,
    "R rot 3-12 expanded": rotate_expanded,
    "R rot 2-10 inner crop": rotate_inner_crop,
    "R perspective": perspective,
    "R border 5-40%": border,
    "R 9:16 story": story,
    "R phone screenshot": phone_screenshot,
    "R desktop screenshot": desktop_screenshot,
    "R JPEG q10-35": jpeg_low,
    "R downscale 15-50%": downscale,
    "R tone": tone,
    "R grey+blur": grey_blur,
    "R flip/turn": flip_turn,
    "R crop+border+JPEG": crop_border_jpeg,
}
