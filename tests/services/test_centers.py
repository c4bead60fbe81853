"""The centers file: what survivors read about the centers a deployment names."""

from __future__ import annotations

from pathlib import Path

import pytest

from stopspread.config import Settings
from stopspread.errors import ConfigError
from stopspread.languages import Language
from stopspread.services.centers import centers_from_settings, load_centers, parse_centers

GOOD = """
version = 1

[[centers]]
name = { ko = "서울 해바라기센터", en = "Seoul Sunflower Center" }
phone = "02-3400-1700"
hours = { ko = "24시간", en = "24 hours a day" }
does = { ko = "상담, 삭제 지원, 경찰 동행", en = "Counselling, removal, going to the police" }
languages = ["ko", "en", "vi", "ko"]

[[centers]]
name = "한국여성인권진흥원"
phone = "+82 2 735 8994"
hours = { ko = "평일 10시부터 17시까지", en = "Weekdays, 10:00 to 17:00" }
does = { ko = "삭제 지원", en = "Removal" }
languages = ["kvk"]
"""


def test_a_good_file_parses() -> None:
    seoul, national = parse_centers(GOOD, "centers.toml")
    assert seoul.name.get(Language.KO) == "서울 해바라기센터"
    assert seoul.name.get("en") == "Seoul Sunflower Center"
    assert seoul.hours.get(Language.EN) == "24 hours a day"
    assert seoul.languages == ("ko", "en", "vi")  # duplicates dropped, order kept
    assert national.name.get(Language.EN) == national.name.get(Language.KO) == "한국여성인권진흥원"
    assert national.phone == "+82 2 735 8994"


def _entry(**fields: str) -> str:
    base = {
        "name": '"센터"',
        "phone": '"02-000-0000"',
        "hours": '{ ko = "24시간", en = "24 hours" }',
        "does": '{ ko = "상담", en = "Counselling" }',
        "languages": '["ko"]',
    }
    base.update(fields)
    body = "\n".join(f"{key} = {value}" for key, value in base.items() if value)
    return f"[[centers]]\n{body}\n"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("centers = [", "not valid TOML"),
        ("version = 1\n", "no [[centers]] entries"),
        ("version = 2\n" + _entry(), "version must be 1"),
        ("colour = 1\n" + _entry(), "unknown key 'colour'"),
        (_entry(phone=""), "center 1: missing field 'phone'"),
        (_entry() + _entry(email='"a@b.c"'), "center 2: unknown field 'email'"),
        (_entry(phone='"call us"'), "phone must be digits"),
        (_entry(hours='"24시간"'), "center 1 hours: must be { ko"),
        (_entry(does='{ ko = "상담" }'), "give exactly ko and en"),
        (_entry(name='{ ko = "", en = "x" }'), "name.ko: must be a non-empty string"),
        (_entry(languages='"ko"'), "must be a list of language codes"),
        (_entry(languages='["ko", "xx"]'), "unknown language code 'xx'"),
    ],
)
def test_a_bad_file_says_where_and_what(text: str, message: str) -> None:
    with pytest.raises(ConfigError) as raised:
        parse_centers(text, "/etc/stopspread/centers.toml")
    assert message in str(raised.value)
    assert str(raised.value).startswith("/etc/stopspread/centers.toml: ")


def test_toml_errors_name_the_line() -> None:
    with pytest.raises(ConfigError, match=r"line 3"):
        parse_centers(_entry().replace('phone = "02-000-0000"', "phone = 02-"), "c.toml")


def test_settings_name_the_file(tmp_path: Path) -> None:
    assert centers_from_settings(Settings(data_dir=tmp_path)) == ()
    path = tmp_path / "centers.toml"
    path.write_text(GOOD, encoding="utf-8")
    assert len(centers_from_settings(Settings(data_dir=tmp_path, centers_file=path))) == 2
    with pytest.raises(ConfigError, match="cannot read centers file"):
        load_centers(tmp_path / "missing.toml")
