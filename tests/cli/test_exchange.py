"""``stopspread exchange add|pull|list`` against a real StopSpread on loopback."""

from __future__ import annotations

from pathlib import Path

import httpx
import numpy as np
from click.testing import CliRunner

from stopspread.cli import cli
from stopspread.services.exchange import feed
from stopspread.storage import Database
from tests.conftest import fast_settings, random_pdq
from tests.web.support import live_server, new_client_key


def test_add_pull_list(tmp_path: Path) -> None:
    settings_a = fast_settings(f"sqlite:///{tmp_path / 'a.db'}", tmp_path / "a")
    key = new_client_key(settings_a, "center-b")
    db = Database(settings_a.url)
    feed.allow(db, "center-b")
    db.dispose()
    env = {"STOPSPREAD_DATA_DIR": str(tmp_path / "b"), "STOPSPREAD_ARGON2_MEMORY_KIB": "1024"}
    value = random_pdq(np.random.default_rng(61))
    with live_server(settings_a) as url_a, httpx.Client(base_url=url_a) as http:
        http.post("/v1/cases", json={"signals": [{"type": "pdq", "value": value, "quality": 99}]})
        added = CliRunner().invoke(cli, ["exchange", "add", "a", url_a, "--key", key], env=env)
        assert added.exit_code == 0, added.output
        assert "bank exchange:a" in added.stdout
        twice = CliRunner().invoke(cli, ["exchange", "add", "a", url_a, "--key", key], env=env)
        assert twice.exit_code == 2  # refused: ExitCode.REFUSED
        pulled = CliRunner().invoke(cli, ["exchange", "pull"], env=env)
        assert pulled.exit_code == 0, pulled.output
        assert "peer a: 1 pages, 1 added, 0 removed" in pulled.stdout
        listed = CliRunner().invoke(cli, ["exchange", "list"], env=env)
        assert "signals 1" in listed.stdout and key not in listed.stdout
        bad = CliRunner().invoke(cli, ["exchange", "pull", "nobody"], env=env)
        assert bad.exit_code == 1 and "no peer named" in bad.stderr
