"""Seeded image edits for bench/robustness.py, written with Pillow only.

Each transform takes an RGB image and a numpy random generator and returns the
edited RGB image. Families are the rows of the benchmark table; ``COMBO`` applies
two different base families in a row.
"""

from __future__ import annotations

import io
from collections.abc import Callable

import numpy as np
from PIL import Image, ImageDraw, ImageEnhance, ImageFilter, ImageFont, ImageOps

Rng = np.random.Generator
Transform = Callable[[Image.Image, Rng], Image.Image]

WORDS = [
    "when",
    "you",
    "see",
    "it",
    "lol",
    "omg",
    "this",
    "is",
    "so",
    "me",
    "monday",
    "mood",
    "wait",
    "for",
    "it",
    "no",
    "way",
]


def _colour(rng: Rng) -> tuple[int, int, int]:
    r, g, b = (int(v) for v in rng.integers(0, 256, 3))
    return (r, g, b)


def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return ImageFont.load_default(size=max(8, size))


def jpeg(img: Image.Image, rng: Rng) -> Image.Image:
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=int(rng.integers(20, 51)))
    return Image.open(io.BytesIO(buf.getvalue())).convert("RGB")


def resize(img: Image.Image, rng: Rng) -> Image.Image:
    f = rng.uniform(0.25, 0.5)
    size = (max(8, round(img.width * f)), max(8, round(img.height * f)))
    return img.resize(size, Image.Resampling.BILINEAR)


def greyscale(img: Image.Image, rng: Rng) -> Image.Image:
    return img.convert("L").convert("RGB")


def colour(img: Image.Image, rng: Rng) -> Image.Image:
    for enhancer in (ImageEnhance.Brightness, ImageEnhance.Contrast, ImageEnhance.Color):
        img = enhancer(img).enhance(rng.uniform(0.6, 1.5))
    return img


def blur(img: Image.Image, rng: Rng) -> Image.Image:
    return img.filter(ImageFilter.GaussianBlur(rng.uniform(1.0, 3.0)))


def sharpen(img: Image.Image, rng: Rng) -> Image.Image:
    radius, percent = rng.uniform(1.0, 3.0), int(rng.integers(100, 300))
    return img.filter(ImageFilter.UnsharpMask(radius=radius, percent=percent, threshold=2))


def caption(img: Image.Image, rng: Rng) -> Image.Image:
    """Meme-style text: white with a black outline, at the top and/or bottom."""
    out = img.copy()
    draw = ImageDraw.Draw(out)
    size = round(img.height * rng.uniform(0.06, 0.11))
    font = _font(size)
    places = [0.03, 0.85] if rng.random() < 0.5 else [float(rng.choice([0.03, 0.85]))]
    for y in places:
        text = " ".join(rng.choice(WORDS, int(rng.integers(3, 6)))).upper()
        draw.text(
            (img.width * 0.05, img.height * y),
            text,
            font=font,
            fill="white",
            stroke_width=max(1, size // 12),
            stroke_fill="black",
        )
    return out


def emoji(img: Image.Image, rng: Rng) -> Image.Image:
    """A few round yellow faces / hearts / stickers."""
    out = img.copy()
    draw = ImageDraw.Draw(out)
    short = min(img.size)
    for _ in range(int(rng.integers(2, 6))):
        r = round(short * rng.uniform(0.04, 0.09))
        x, y = rng.uniform(r, img.width - r), rng.uniform(r, img.height - r)
        draw.ellipse((x - r, y - r, x + r, y + r), fill=(255, 204, 0), outline=(120, 80, 0))
        e = max(1, r // 5)
        for dx in (-r / 3, r / 3):
            draw.ellipse((x + dx - e, y - r / 3 - e, x + dx + e, y - r / 3 + e), fill="black")
        draw.arc((x - r / 2, y - r / 3, x + r / 2, y + r / 2), 20, 160, fill="black", width=e)
    return out


def flip(img: Image.Image, rng: Rng) -> Image.Image:
    return ImageOps.mirror(img)


def rot90(img: Image.Image, rng: Rng) -> Image.Image:
    choice = (Image.Transpose.ROTATE_90, Image.Transpose.ROTATE_180, Image.Transpose.ROTATE_270)
    return img.transpose(choice[int(rng.integers(0, 3))])


def _small_rotation(img: Image.Image, rng: Rng, low: float, high: float) -> Image.Image:
    """Rotate by ±low..high degrees: black corners, expanded canvas, or straightened."""
    degrees = float(rng.uniform(low, high) * rng.choice([-1, 1]))
    mode = int(rng.integers(0, 3))
    if mode == 0:
        return img.rotate(degrees, Image.Resampling.BILINEAR, expand=False)
    if mode == 1:
        return img.rotate(degrees, Image.Resampling.BILINEAR, expand=True)
    rad = np.radians(abs(degrees))
    c, s = np.cos(rad), np.sin(rad)
    w, h = img.size
    scale = min(w / (w * c + h * s), h / (w * s + h * c))
    rotated = img.rotate(degrees, Image.Resampling.BILINEAR)
    cw, ch = round(w * scale), round(h * scale)
    left, top = (w - cw) // 2, (h - ch) // 2
    return rotated.crop((left, top, left + cw, top + ch))


def rotate_small(img: Image.Image, rng: Rng) -> Image.Image:
    return _small_rotation(img, rng, 2.0, 5.0)


def rotate_large(img: Image.Image, rng: Rng) -> Image.Image:
    return _small_rotation(img, rng, 5.0, 10.0)


def _crop(img: Image.Image, rng: Rng, low: float, high: float) -> Image.Image:
    kw, kh = rng.uniform(low, high), rng.uniform(low, high)
    w, h = round(img.width * kw), round(img.height * kh)
    left = int(rng.integers(0, img.width - w + 1))
    top = int(rng.integers(0, img.height - h + 1))
    return img.crop((left, top, left + w, top + h))


def crop_light(img: Image.Image, rng: Rng) -> Image.Image:
    return _crop(img, rng, 0.80, 0.95)


def crop_heavy(img: Image.Image, rng: Rng) -> Image.Image:
    return _crop(img, rng, 0.70, 0.80)


def _border(img: Image.Image, rng: Rng, low: float, high: float) -> Image.Image:
    """Pad by ``low..high`` of the side: all around, or letterboxed on one axis."""
    p = rng.uniform(low, high)
    fill = [(0, 0, 0), (255, 255, 255), _colour(rng)][int(rng.integers(0, 3))]
    mode = int(rng.integers(0, 3))  # 0 all sides, 1 top/bottom, 2 left/right
    px, py = round(img.width * p), round(img.height * p)
    pad_w, pad_h = (px if mode != 1 else 0), (py if mode != 2 else 0)
    out = Image.new("RGB", (img.width + pad_w, img.height + pad_h), fill)
    ox = int(rng.integers(pad_w // 4, pad_w - pad_w // 4 + 1)) if pad_w else 0
    oy = int(rng.integers(pad_h // 4, pad_h - pad_h // 4 + 1)) if pad_h else 0
    out.paste(img, (ox, oy))
    return out


def border_light(img: Image.Image, rng: Rng) -> Image.Image:
    return _border(img, rng, 0.05, 0.30)


def border_heavy(img: Image.Image, rng: Rng) -> Image.Image:
    return _border(img, rng, 0.30, 0.40)


def screenshot(img: Image.Image, rng: Rng) -> Image.Image:
    """A phone screenshot of a feed: status bar, app bar, the photo, icons, caption text,
    and the top of the next post (another picture)."""
    dark = rng.random() < 0.4
    bg, ink = ((18, 18, 18), (230, 230, 230)) if dark else ((255, 255, 255), (20, 20, 20))
    width = int(rng.integers(720, 1081))
    margin = round(width * rng.uniform(0.0, 0.06))
    photo_w = width - 2 * margin
    photo = img.resize((photo_w, max(8, round(img.height * photo_w / img.width))))
    bar, app = round(width * 0.07), round(width * 0.13)
    below = round(width * rng.uniform(0.25, 0.45))
    height = bar + app + photo.height + below
    out = Image.new("RGB", (width, height), bg)
    draw = ImageDraw.Draw(out)
    draw.rectangle((0, 0, width, bar), fill=(0, 0, 0) if dark else (240, 240, 240))
    draw.text((width * 0.05, bar * 0.2), "9:41", font=_font(bar // 2), fill=ink)
    draw.rectangle((0, bar, width, bar + app), fill=_colour(rng))
    draw.text((width * 0.15, bar + app * 0.3), "Feed", font=_font(app // 3), fill="white")
    draw.ellipse(
        (margin + 8, bar + app * 0.2, margin + 8 + app * 0.6, bar + app * 0.8), fill=_colour(rng)
    )
    out.paste(photo, (margin, bar + app))
    y = bar + app + photo.height + 10
    for i in range(4):
        draw.ellipse((20 + 70 * i, y, 60 + 70 * i, y + 40), outline=ink, width=3)
    text = " ".join(rng.choice(WORDS, 6))
    draw.text((20, y + 60), text, font=_font(width // 28), fill=ink)
    nxt = y + 60 + width // 18
    if height - nxt > 8:  # the start of the next post: another (smooth random) picture
        noise = rng.integers(0, 256, (6, 8, 3), dtype=np.uint8)
        other = Image.fromarray(noise).resize((photo_w, height - nxt), Image.Resampling.BICUBIC)
        out.paste(other, (margin, nxt))
    return out


BASE: dict[str, Transform] = {
    "jpeg": jpeg,
    "resize": resize,
    "greyscale": greyscale,
    "colour": colour,
    "blur": blur,
    "sharpen": sharpen,
    "caption": caption,
    "emoji": emoji,
    "flip": flip,
    "rot90": rot90,
    "rot<=5": rotate_small,
    "rot5-10": rotate_large,
    "crop>=80": crop_light,
    "crop70-80": crop_heavy,
    "border<=30": border_light,
    "border30-40": border_heavy,
    "screenshot": screenshot,
}
# Families that make sense two at a time (a combination is two different ones).
COMBINABLE = ("jpeg", "resize", "colour", "caption", "flip", "crop>=80", "border<=30", "rot<=5")


def combo(img: Image.Image, rng: Rng) -> Image.Image:
    first, second = rng.choice(COMBINABLE, 2, replace=False)
    return BASE[str(second)](BASE[str(first)](img, rng), rng)


FAMILIES: dict[str, Transform] = {**BASE, "combo": combo}
