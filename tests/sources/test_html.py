"""Page parsing: every way a page shows or links media."""

from __future__ import annotations

from stopspread.sources.html import parse_page, parse_srcset

PAGE = """<!doctype html><html><head>
<meta property="og:image" content="/og.jpg">
<meta name="twitter:image" content="https://cdn.example.com/tw.png">
</head><body>
<img src="a.jpg" srcset="a-2x.jpg 2x, a-3x.jpg 3x" alt="">
<img data-src="/lazy.webp">
<picture><source srcset="p.avif 1x,p-2x.avif 2x" type="image/avif"><img src="p.jpg"></picture>
<video src="v.mp4" poster="poster.jpg"></video>
<video><source src="/clips/c.webm" type="video/webm"></video>
<a href="/gallery/2">next</a> <a href="full.PNG">full size</a> <a href="#top">top</a>
<a href="javascript:void(0)">x</a> <a href="mailto:a@b.c">mail</a>
<source src="not-in-media.mp4">
<img src="data:image/png;base64,AAAA">
<a href="/gallery/2#again">dup</a>
</body></html>"""


def test_every_media_form_is_found() -> None:
    links = parse_page(PAGE, "http://site.test/gallery/1")
    base = "http://site.test"
    assert links.media == [
        f"{base}/og.jpg",
        "https://cdn.example.com/tw.png",
        f"{base}/gallery/a.jpg",
        f"{base}/gallery/a-2x.jpg",
        f"{base}/gallery/a-3x.jpg",
        f"{base}/lazy.webp",
        f"{base}/gallery/p.avif",
        f"{base}/gallery/p-2x.avif",
        f"{base}/gallery/p.jpg",
        f"{base}/gallery/v.mp4",
        f"{base}/gallery/poster.jpg",
        f"{base}/clips/c.webm",
        f"{base}/gallery/full.PNG",
    ]
    assert links.pages == [f"{base}/gallery/2", f"{base}/gallery/1"]


def test_base_href_is_used() -> None:
    links = parse_page('<base href="https://other.test/x/"><img src="i.jpg">', "http://a.test/")
    assert links.media == ["https://other.test/x/i.jpg"]


def test_srcset_forms() -> None:
    assert parse_srcset("a.jpg") == ["a.jpg"]
    assert parse_srcset(" a.jpg 1x , b.jpg 2x ") == ["a.jpg", "b.jpg"]
    assert parse_srcset("a.jpg, b.jpg 640w") == ["a.jpg", "b.jpg"]
    assert parse_srcset("a.jpg,b.jpg 640w") == ["a.jpg,b.jpg"]  # as the HTML spec reads it
    assert parse_srcset("a.jpg?w=1,2 1x") == ["a.jpg?w=1,2"]
    assert parse_srcset("") == []


def test_broken_html_does_not_raise() -> None:
    links = parse_page("<img src='x.jpg'<<a href=>>><video><source", "http://a.test/")
    assert isinstance(links.media, list)
