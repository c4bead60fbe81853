"""Phone-screenshot DESIGN generators, beside ``robust_transforms.screenshot`` (issue 14).

Three layouts the design feed screenshot does not cover, each on a random device size
(portrait, 640-1440 px wide, 16:9 to 21:9), the photo aimed at 25-70 % of the frame (measured
on 40 DEV photos: 13-68 %; a landscape photo across a portrait screen covers less):

- ``chat``: a messenger thread; the photo in a rounded bubble between text bubbles, a
  keyboard or an input bar below, avatars and a header with icons;
- ``gallery``: a dark gallery viewer; the photo letterboxed between dark bars, a toolbar
  with icons and a thumbnail strip of other pictures;
- ``story``: a story viewer; the photo over a blurred, dimmed copy of itself, with progress
  bars, a user name, a reply field and a few stickers of text over the photo.

Each generator also returns the photo's box in the frame (``*_with_box``), for diagnosis
(``bench/screens_diagnose.py``). Written for the design side only: nothing here was
derived from the reporting generators (``robust_edits_report.py``).
"""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from robust_transforms import WORDS, Rng, Transform, _colour, _font

Box = tuple[int, int, int, int]


def _device(rng: Rng) -> tuple[int, int]:
    width = int(rng.integers(640, 1441))
    return width, round(width * rng.uniform(16 / 9, 21 / 9))


def _fit(img: Image.Image, width: int, height: int) -> Image.Image:
    scale = min(width / img.width, height / img.height)
    size = (max(8, round(img.width * scale)), max(8, round(img.height * scale)))
    return img.resize(size, Image.Resampling.BICUBIC)


def _photo_size(img: Image.Image, frame: tuple[int, int], share: float, max_w: int) -> tuple:
    """A size of ``img`` covering about ``share`` of ``frame``, at most ``max_w`` wide."""
    area = share * frame[0] * frame[1]
    w = min(max_w, round((area * img.width / img.height) ** 0.5))
    h = round(w * img.height / img.width)
    if h > 0.8 * frame[1]:
        h = round(0.8 * frame[1])
        w = round(h * img.width / img.height)
    return max(8, w), max(8, h)


def _status_bar(draw: ImageDraw.ImageDraw, width: int, bar: int, ink, rng: Rng) -> None:
    draw.text((width * 0.06, bar * 0.2), f"{rng.integers(0, 24)}:{rng.integers(10, 60)}",
              font=_font(bar // 2), fill=ink)  # fmt: skip
    for i in range(3):  # signal, wifi, battery
        x = width * (0.78 + 0.06 * i)
        draw.rectangle((x, bar * 0.3, x + bar * 0.5, bar * 0.7), outline=ink, width=2)


def _words(rng: Rng, n: int) -> str:
    return " ".join(str(w) for w in rng.choice(WORDS, n))


def chat_with_box(img: Image.Image, rng: Rng) -> tuple[Image.Image, Box]:
    width, height = _device(rng)
    dark = rng.random() < 0.5
    bg = (11, 20, 26) if dark else tuple(int(v) for v in rng.integers(225, 256, 3))
    ink = (233, 237, 239) if dark else (17, 27, 33)
    out = Image.new("RGB", (width, height), bg)
    if rng.random() < 0.4:  # a wallpaper pattern behind the thread
        noise = rng.integers(0, 256, (12, 6, 3), dtype=np.uint8)
        paper = Image.fromarray(noise).resize((width, height), Image.Resampling.BICUBIC)
        out = Image.blend(out, paper, 0.15)
    draw = ImageDraw.Draw(out)
    bar, head = round(width * 0.06), round(width * 0.14)
    _status_bar(draw, width, bar, ink, rng)
    draw.rectangle((0, bar, width, bar + head), fill=_colour(rng))
    draw.ellipse((width * 0.12, bar + head * 0.2, width * 0.12 + head * 0.6, bar + head * 0.8),
                 fill=_colour(rng))  # fmt: skip
    draw.text((width * 0.3, bar + head * 0.3), _words(rng, 2), font=_font(head // 3), fill="white")
    bubble_ink = (32, 44, 51) if dark else (255, 255, 255)
    mine = (0, 92, 75) if dark else (217, 253, 211)
    photo_w, photo_h = _photo_size(img, (width, height), rng.uniform(0.25, 0.55), int(width * 0.8))
    y = bar + head + round(width * 0.03)
    before = int(rng.integers(0, 3))
    line = width // 22
    for _ in range(before):  # text bubbles above the photo
        w = round(width * rng.uniform(0.3, 0.7))
        x = 20 if rng.random() < 0.5 else width - w - 20
        draw.rounded_rectangle((x, y, x + w, y + 2 * line), radius=line // 2,
                               fill=bubble_ink if x == 20 else mine)  # fmt: skip
        draw.text((x + 12, y + line // 3), _words(rng, 4), font=_font(line), fill=ink)
        y += 2 * line + 12
    pad = round(width * 0.012)
    x = width - photo_w - 2 * pad - 20 if rng.random() < 0.5 else 20
    draw.rounded_rectangle((x, y, x + photo_w + 2 * pad, y + photo_h + 2 * pad + line),
                           radius=3 * pad, fill=mine)  # fmt: skip
    photo = img.resize((photo_w, photo_h), Image.Resampling.BICUBIC)
    out.paste(photo, (x + pad, y + pad))
    draw.text((x + photo_w - 5 * line // 2, y + photo_h + pad + 2), "12:04",
              font=_font(line * 2 // 3), fill=ink)  # fmt: skip
    box = (x + pad, y + pad, x + pad + photo_w, y + pad + photo_h)
    y += photo_h + 2 * pad + line + 12
    while y + 2 * line < height * 0.85:  # more bubbles below
        w = round(width * rng.uniform(0.3, 0.7))
        bx = 20 if rng.random() < 0.5 else width - w - 20
        draw.rounded_rectangle((bx, y, bx + w, y + 2 * line), radius=line // 2,
                               fill=bubble_ink if bx == 20 else mine)  # fmt: skip
        draw.text((bx + 12, y + line // 3), _words(rng, 4), font=_font(line), fill=ink)
        y += 2 * line + 12
    foot = round(height * 0.1)
    draw.rectangle((0, height - foot, width, height), fill=bg)
    draw.rounded_rectangle((20, height - foot + 10, width * 0.8, height - 20), radius=foot // 3,
                           fill=bubble_ink)  # fmt: skip
    draw.text((50, height - foot * 0.7), "Message", font=_font(foot // 4), fill=ink)
    draw.ellipse((width * 0.83, height - foot + 10, width * 0.83 + foot - 30, height - 20),
                 fill=_colour(rng))  # fmt: skip
    return out, box


def gallery_with_box(img: Image.Image, rng: Rng) -> tuple[Image.Image, Box]:
    width, height = _device(rng)
    grey = int(rng.integers(0, 30))
    out = Image.new("RGB", (width, height), (grey, grey, grey))
    draw = ImageDraw.Draw(out)
    ink = (235, 235, 235)
    bar, tool, strip = round(width * 0.06), round(width * 0.13), round(width * 0.16)
    _status_bar(draw, width, bar, ink, rng)
    for i in range(4):  # toolbar icons: back, share, star, menu
        x = width * (0.05 + 0.24 * i)
        draw.ellipse((x, bar + tool * 0.3, x + tool * 0.4, bar + tool * 0.7), outline=ink, width=3)
    draw.text((width * 0.2, bar + tool * 0.35), _words(rng, 2), font=_font(tool // 4), fill=ink)
    room = height - bar - tool - 2 * strip
    share = rng.uniform(0.25, 0.7)
    photo_w, photo_h = _photo_size(img, (width, height), share, width)
    photo_h = min(photo_h, room)
    photo_w = min(width, round(photo_h * img.width / img.height))
    photo_h = round(photo_w * img.height / img.width)
    photo = img.resize((photo_w, photo_h), Image.Resampling.BICUBIC)
    x = (width - photo_w) // 2
    y = bar + tool + (room - photo_h) // 2
    out.paste(photo, (x, y))
    box = (x, y, x + photo_w, y + photo_h)
    top = height - 2 * strip + strip // 3
    thumb = strip - 10
    for i in range(width // (thumb + 8) + 1):  # thumbnails of other pictures
        noise = rng.integers(0, 256, (3, 3, 3), dtype=np.uint8)
        other = Image.fromarray(noise).resize((thumb, thumb), Image.Resampling.BICUBIC)
        out.paste(other, (i * (thumb + 8), top))
    cur = width // 2 - thumb // 2
    out.paste(_fit(img, thumb, thumb), (cur, top))
    draw.text((width * 0.05, height - strip * 0.6), _words(rng, 3), font=_font(strip // 5),
              fill=ink)  # fmt: skip
    return out, box


def story_with_box(img: Image.Image, rng: Rng) -> tuple[Image.Image, Box]:
    width, height = _device(rng)
    back = img.resize((width, height)).filter(ImageFilter.GaussianBlur(width / 25))
    out = Image.eval(back, lambda v: int(v * 0.55))
    photo_w, photo_h = _photo_size(img, (width, height), rng.uniform(0.3, 0.7), width)
    photo = img.resize((photo_w, photo_h), Image.Resampling.BICUBIC)
    x = (width - photo_w) // 2
    y = (height - photo_h) // 2 + int(rng.integers(-height // 12, height // 12 + 1))
    y = max(0, min(height - photo_h, y))
    out.paste(photo, (x, y))
    box = (x, y, x + photo_w, y + photo_h)
    draw = ImageDraw.Draw(out)
    ink = (255, 255, 255)
    seg = int(rng.integers(2, 6))
    for i in range(seg):  # progress bars
        x0 = 10 + i * (width - 20) / seg
        shade = ink if i == 0 else (150, 150, 150)
        draw.rectangle((x0, 12, x0 + (width - 20) / seg - 6, 16), fill=shade)
    head = round(width * 0.1)
    draw.ellipse((16, 28, 16 + head, 28 + head), fill=_colour(rng), outline=ink, width=3)
    draw.text((head + 30, 28 + head // 4), _words(rng, 2), font=_font(head // 3), fill=ink)
    for _ in range(int(rng.integers(1, 4))):  # text stickers over the photo
        size = round(width * rng.uniform(0.04, 0.08))
        tx = int(rng.integers(0, max(1, width - 6 * size)))
        ty = int(rng.integers(box[1], max(box[1] + 1, box[3] - size)))
        text = _words(rng, 2)
        tw = round(size * 0.6 * len(text))
        draw.rounded_rectangle((tx - 8, ty - 4, tx + tw, ty + size + 6), radius=size // 3,
                               fill=_colour(rng))  # fmt: skip
        draw.text((tx, ty), text, font=_font(size), fill=ink)
    foot = round(height * 0.08)
    draw.rounded_rectangle((16, height - foot, width * 0.75, height - 16), radius=foot // 2,
                           outline=ink, width=3)  # fmt: skip
    draw.text((40, height - foot * 0.75), "Send message", font=_font(foot // 4), fill=ink)
    draw.ellipse((width * 0.8, height - foot, width * 0.8 + foot - 16, height - 16), outline=ink,
                 width=3)  # fmt: skip
    return out, box


def chat(img: Image.Image, rng: Rng) -> Image.Image:
    return chat_with_box(img, rng)[0]


def gallery(img: Image.Image, rng: Rng) -> Image.Image:
    return gallery_with_box(img, rng)[0]


def story(img: Image.Image, rng: Rng) -> Image.Image:
    return story_with_box(img, rng)[0]


WITH_BOX = {"chat": chat_with_box, "gallery": gallery_with_box, "story": story_with_box}
FAMILIES: dict[str, Transform] = {"chat": chat, "gallery": gallery, "story": story}
