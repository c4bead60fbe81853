"""The layer rule (docs/architecture.md): the import-linter contracts in pyproject.toml hold.

The contracts are checked on the real tree, and on a copy of it with one import planted
against the rule, which must fail: a check that cannot fail proves nothing.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

LAYERS = "imports point one way, downward"  # the contracts' names in pyproject.toml
ADAPTERS = "web and cli reach the database and the libraries through services"
PURE = "the libraries use no database, web framework or CLI"

# (module that gets the planted line, the line, the contract that must catch it)
PLANTED = [
    ("hashing/digest.py", "import stopspread.storage.db", LAYERS),
    ("evidence/warc.py", "import stopspread.services.audit", LAYERS),
    ("storage/db.py", "import stopspread.web.app", LAYERS),
    ("matching/brute.py", "import sqlalchemy", PURE),
    ("web/routes/health.py", "import stopspread.storage.db", ADAPTERS),
]


def lint_imports(src: Path, config: Path) -> subprocess.CompletedProcess[str]:
    """Run import-linter on the ``stopspread`` package found under ``src``."""
    env = {**os.environ, "PYTHONPATH": str(src)}
    code = "import sys, importlinter.cli as c; sys.exit(c.lint_imports(no_cache=True))"
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=config.parent,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


def test_the_layer_rule_holds() -> None:
    result = lint_imports(ROOT / "src", ROOT / "pyproject.toml")
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"{LAYERS} KEPT" in result.stdout
    assert f"{ADAPTERS} KEPT" in result.stdout
    assert f"{PURE} KEPT" in result.stdout


@pytest.mark.parametrize(("module", "line", "contract"), PLANTED)
def test_a_planted_violation_fails(tmp_path: Path, module: str, line: str, contract: str) -> None:
    src = tmp_path / "src"
    shutil.copytree(
        ROOT / "src" / "stopspread",
        src / "stopspread",
        ignore=shutil.ignore_patterns("__pycache__", "*.so", "static", "templates", "locales"),
    )
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    target = src / "stopspread" / module
    target.write_text(target.read_text(encoding="utf-8") + f"\n{line}\n", encoding="utf-8")
    result = lint_imports(src, tmp_path / "pyproject.toml")
    assert result.returncode == 1, result.stdout + result.stderr
    dotted = "stopspread." + module.removesuffix(".py").replace("/", ".")
    planted = line.removeprefix("import ")
    assert f"{dotted} -> {planted}" in result.stdout, result.stdout
    assert f"{contract} BROKEN" in result.stdout, result.stdout
