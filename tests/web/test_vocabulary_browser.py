"""Korean on a phone in real Chromium (issue 16): no word broken across lines, tables that stack
into label/value blocks, the centers on her status page; axe-core finds nothing.
Screenshots go to ``test-artifacts/screenshots/vocabulary/``."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.browser import PHONE, axe_violations, new_page, screenshot
from tests.conftest import fast_settings, make_services
from tests.services.review_seed import PASSWORD, World, build_world
from tests.services.test_centers import GOOD
from tests.web.support import live_server

# Every word (text between spaces) under `root` whose glyphs sit on more than one line, unless
# the word alone is wider than its box (then it must break).
BROKEN_WORDS = """(root) => {
  const broken = [];
  const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const box = node.parentElement.getBoundingClientRect();
    if (!box.width) continue;
    const text = node.textContent;
    const re = /[^\\s]+/g;
    for (let m = re.exec(text); m; m = re.exec(text)) {
      const range = document.createRange();
      range.setStart(node, m.index);
      range.setEnd(node, m.index + m[0].length);
      const tops = new Set([...range.getClientRects()].map((r) => Math.round(r.top)));
      if (tops.size > 1 && range.getBoundingClientRect().width < box.width) broken.push(m[0]);
    }
  }
  return broken;
}"""


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, World]]:
    tmp = tmp_path_factory.mktemp("vocabulary-browser")
    url = f"sqlite:///{tmp / 'db.sqlite'}"
    svc = make_services(url, tmp)
    world = build_world(svc, tmp)
    centers = tmp / "centers.toml"
    centers.write_text(GOOD, encoding="utf-8")
    with live_server(fast_settings(url, tmp, centers_file=centers)) as base_url:
        yield base_url, world
    svc.db.dispose()


@pytest.mark.parametrize("lang", ["ko", "en"])
def test_status_page_on_a_phone_names_the_centers(
    site: tuple[str, World], browser: Any, lang: str
) -> None:
    page = new_page(browser, viewport=PHONE, locale="ko-KR" if lang == "ko" else "en-GB")
    page.goto(f"{site[0]}/survivor/status?lang={lang}")
    assert page.evaluate("getComputedStyle(document.body).wordBreak") == "keep-all"
    centers = page.locator("section.centers")
    assert centers.locator("li.center").count() == 2
    assert page.evaluate(BROKEN_WORDS, page.locator("main").element_handle()) == []
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"]  # nothing wider than the phone
    assert axe_violations(page) == []
    screenshot(page, f"vocabulary/status-centers-{lang}-phone")
    page.context.close()


@pytest.mark.parametrize("name", ["mina", "hana"])
def test_case_table_stacks_on_a_phone(site: tuple[str, World], browser: Any, name: str) -> None:
    page = new_page(browser, viewport=PHONE)
    page.goto(f"{site[0]}/worker/cases?lang=ko")  # sign-in first, then back here
    page.get_by_label("이름", exact=True).fill(name)
    page.get_by_label("비밀번호", exact=True).fill(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url("**/worker/cases**")
    table = page.locator("table.stack")
    table_box = table.bounding_box()
    assert table_box is not None and table_box["width"] <= PHONE["width"]
    for cell in table.locator("tbody tr > *").all():  # each cell a full-width "label: value"
        box = cell.bounding_box()
        assert box is not None and box["width"] > 0.9 * table_box["width"]
        label = cell.evaluate("(e) => getComputedStyle(e, '::before').content")
        assert label.strip('"') == cell.get_attribute("data-label")
    assert page.evaluate(BROKEN_WORDS, page.locator("main").element_handle()) == []
    assert page.get_by_role("heading", name="사건이 우리 센터에 오는 길").is_visible()
    assert axe_violations(page) == []
    screenshot(page, f"vocabulary/cases-{name}-ko-phone")
    page.context.close()
