"""Settings: environment and TOML, and every field documented."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from stopspread.config import IndexKind, Settings, load_settings
from stopspread.errors import ConfigError

DOCS = Path(__file__).resolve().parent.parent / "docs" / "configuration.md"


def test_every_setting_is_documented() -> None:
    text = DOCS.read_text(encoding="utf-8")
    for field in dataclasses.fields(Settings):
        assert f"`STOPSPREAD_{field.name.upper()}`" in text, field.name


def test_environment_beats_toml_beats_defaults(tmp_path: Path) -> None:
    toml = tmp_path / "s.toml"
    toml.write_text('port = 9000\nindex_kind = "mih"\nmatch_radius = 20\n', encoding="utf-8")
    settings = load_settings({"STOPSPREAD_CONFIG": str(toml), "STOPSPREAD_PORT": "9100"})
    assert (settings.port, settings.index_kind, settings.match_radius) == (9100, IndexKind.MIH, 20)
    assert settings.host == "127.0.0.1"
    assert load_settings({}).url.endswith("/stopspread/stopspread.db")


@pytest.mark.parametrize(
    "environ",
    [
        {"STOPSPREAD_PORT": "eighty"},
        {"STOPSPREAD_BOGUS": "1"},
        {"STOPSPREAD_INDEX_POLL_INTERVAL_S": "2"},
        {"STOPSPREAD_INDEX_KIND": "faiss"},
    ],
)
def test_bad_settings_are_refused(environ: dict[str, str]) -> None:
    with pytest.raises(ConfigError):
        load_settings(environ)


def test_unknown_toml_key(tmp_path: Path) -> None:
    toml = tmp_path / "s.toml"
    toml.write_text("nope = 1\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="nope"):
        load_settings({}, toml)


def test_takedown_settings(tmp_path: Path) -> None:
    from stopspread.config import SmtpSecurity

    assert Settings().smtp_security is SmtpSecurity.STARTTLS  # safe default
    assert Settings().smtp_host is None  # nothing is sent until a server is configured
    settings = load_settings(
        {
            "STOPSPREAD_SMTP_SECURITY": "SSL",
            "STOPSPREAD_SMTP_PORT": "465",
            "STOPSPREAD_HOSTS_FILE": str(tmp_path / "hosts.toml"),
            "STOPSPREAD_TAKEDOWN_DEADLINE_KR_HOURS": "12",
        }
    )
    assert settings.smtp_security is SmtpSecurity.SSL
    assert settings.hosts_file == tmp_path / "hosts.toml"
    assert settings.takedown_deadline_kr_hours == 12.0
    assert load_settings({"STOPSPREAD_HOSTS_FILE": ""}).hosts_file is None
    for bad in (
        {"STOPSPREAD_SMTP_SECURITY": "tls-maybe"},
        {"STOPSPREAD_SMTP_PORT": "70000"},
        {"STOPSPREAD_TAKEDOWN_DEADLINE_US_HOURS": "0"},
    ):
        with pytest.raises(ConfigError):
            load_settings(bad)


@pytest.mark.parametrize(
    "name", ["WORKER_SESSION_TTL_S", "WORKER_LOGIN_ATTEMPTS", "WORKER_LOCKOUT_S"]
)
def test_worker_sign_in_settings_are_checked(name: str) -> None:
    with pytest.raises(ConfigError, match=name.lower()):
        load_settings({f"STOPSPREAD_{name}": "-1"})
