"""The unmodified ``tx`` command line (python-threatexchange) against StopSpread's files and feed.

``tx`` runs as a subprocess with its state in a temporary HOME; the feed is a real server on
127.0.0.1. This is what a platform engineer does with the tools they already have.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import httpx
import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from stopspread.cli import cli
from stopspread.services.exchange import feed
from stopspread.storage import Database
from tests.cli.conftest import scene, write_video
from tests.conftest import fast_settings, flip_bits, random_pdq
from tests.web.support import live_server, new_client_key

TX = Path(sys.executable).parent / "tx"
TX_TIMEOUT_S = 120

pytestmark = pytest.mark.skipif(not TX.exists(), reason="the tx command is not installed")


def _tx(home: Path, *args: str, keys: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TX_")}
    env["HOME"] = str(home)
    if keys is not None:
        env["TX_STOPNCII_KEYS"] = keys
    done = subprocess.run(
        [str(TX), *args], env=env, capture_output=True, text=True, timeout=TX_TIMEOUT_S
    )
    assert done.returncode == 0, (args, done.stdout[-2000:], done.stderr[-2000:])
    return done


def test_tx_loads_a_file_from_stopspread_hash(tmp_path: Path) -> None:
    image = tmp_path / "photo.png"
    Image.fromarray(scene(3)).save(image)
    video = write_video(tmp_path / "clip.mp4", seed=4)
    hashed = CliRunner().invoke(cli, ["hash", "--format", "tx", str(image), str(video)])
    assert hashed.exit_code == 0, hashed.output
    signals = tmp_path / "signals.txt"
    signals.write_text(hashed.stdout)
    home = tmp_path / "home"
    home.mkdir()
    _tx(home, "config", "collab", "edit", "local_file", "--create",
        "--filename", str(signals), "stopspread-file")  # fmt: skip
    _tx(home, "fetch")
    summary = _tx(home, "dataset").stdout
    assert "pdq: 1" in summary and "video_md5: 1" in summary
    printed = _tx(home, "dataset", "-P", "-S").stdout
    assert hashed.stdout.splitlines()[0] in printed  # the very pdq line


def test_tx_fetches_the_feed_and_matches_a_near_copy(sqlite_url: str, tmp_path: Path) -> None:
    settings = fast_settings(sqlite_url, tmp_path)
    key = new_client_key(settings, "tx-user")
    db = Database(settings.url)
    feed.allow(db, "tx-user")
    db.dispose()
    rng = np.random.default_rng(21)
    values = [random_pdq(rng) for _ in range(3)]
    home = tmp_path / "home"
    home.mkdir()
    with live_server(settings) as base, httpx.Client(base_url=base) as http:
        made = http.post(
            "/v1/cases",
            json={"signals": [{"type": "pdq", "value": v, "quality": 95} for v in values]},
        )
        assert made.status_code == 201
        keys = f"{key},{key},{base}/v1"
        _tx(home, "config", "collab", "edit", "stop_ncii", "--create", "ncii", keys=keys)
        _tx(home, "fetch", keys=keys)
        assert "pdq: 3" in _tx(home, "dataset", keys=keys).stdout
        near = tmp_path / "near.txt"
        near.write_text(flip_bits(values[1], 12, rng) + "\n")
        found = _tx(home, "match", "-H", "-S", "pdq", "photo", str(near), keys=keys).stdout
        assert "ncii" in found
        far = tmp_path / "far.txt"
        far.write_text(random_pdq(rng) + "\n")
        assert _tx(home, "match", "-H", "-S", "pdq", "photo", str(far), keys=keys).stdout == ""
        # a withdrawal: the server sends tombstones (test_feed.py); tx <= 1.2.17 keeps the
        # hash anyway (docs/interop.md, the upstream patch). This records today's behaviour.
        code, secret = made.json()["case_code"], made.json()["secret"]
        time.sleep(1.1)
        http.post(f"/v1/cases/{code}/withdraw", headers={"X-Case-Secret": secret})
        _tx(home, "fetch", keys=keys)
    shutil.rmtree(home, ignore_errors=True)
