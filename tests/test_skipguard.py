"""The skip guard (``tests/skipguard.py``): an unmarked skip fails the run, a marked one may skip.

Each case runs pytest on a tiny test file in a temporary folder with only the guard loaded.
Also: a run where no test ran exits 5, and ``make unit`` (so ``make test`` and ``.ci/run``)
passes pytest's exit status on.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests.conftest import PROJECT_ROOT


def run(pytester: pytest.Pytester, source: str) -> pytest.RunResult:
    pytester.makepyfile(test_sample=source)
    return pytester.runpytest("-p", "tests.skipguard", "--strict-markers", "-ra")


def test_an_unmarked_skip_fails_the_run(pytester: pytest.Pytester) -> None:
    result = run(
        pytester,
        """
        import pytest

        def test_ran():
            pass

        def test_skips():
            pytest.skip("data not found")
        """,
    )
    result.assert_outcomes(passed=1, failed=1)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(["*test_skips (call) was skipped (*data not found*)*"])


@pytest.mark.parametrize(
    ("source", "outcome"),
    [  # a skip while setting up (skipif, a fixture) is an error; in the test, a failure
        ("import pytest\n@pytest.mark.skipif(True, reason='no tool')\ndef test_a(): pass", "errors"),
        ("import pytest\n@pytest.fixture\ndef f(): pytest.skip('no db')\ndef test_a(f): pass", "errors"),
        ("import pytest\ndef test_a(): pytest.importorskip('no_such_module_here')", "failed"),
    ],
    ids=["skipif", "fixture", "importorskip"],
)  # fmt: skip
def test_every_kind_of_skip_fails(pytester: pytest.Pytester, source: str, outcome: str) -> None:
    result = run(pytester, source)
    result.assert_outcomes(**{outcome: 1})
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(["*a skip is a failure here*"])


def test_a_module_skipped_at_collection_fails(pytester: pytest.Pytester) -> None:
    result = run(
        pytester,
        "import pytest\npytest.skip('whole module', allow_module_level=True)\ndef test_a(): pass",
    )
    result.assert_outcomes(errors=1)
    assert result.ret == pytest.ExitCode.INTERRUPTED  # pytest stops on a collection error


def test_a_platform_dependent_test_may_skip(pytester: pytest.Pytester) -> None:
    result = run(
        pytester,
        """
        import pytest

        @pytest.mark.platform_dependent(reason="needs a Linux-only syscall")
        def test_skips():
            pytest.skip("not Linux")
        """,
    )
    result.assert_outcomes(skipped=1)
    assert result.ret == pytest.ExitCode.OK


def test_the_marker_needs_a_reason(pytester: pytest.Pytester) -> None:
    result = run(
        pytester,
        """
        import pytest

        @pytest.mark.platform_dependent(reason="  ")
        def test_skips():
            pytest.skip("no reason given")
        """,
    )
    result.assert_outcomes(failed=1)


def test_an_expected_failure_is_left_alone(pytester: pytest.Pytester) -> None:
    result = run(pytester, "import pytest\n@pytest.mark.xfail(strict=True)\ndef test_a(): 1 / 0")
    result.assert_outcomes(xfailed=1)


def test_a_run_without_tests_exits_5(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_sample="def test_a(): pass")
    result = pytester.runpytest("-p", "tests.skipguard", "-k", "nothing_matches_this")
    assert result.ret == pytest.ExitCode.NO_TESTS_COLLECTED
    assert int(result.ret) == 5


def test_make_passes_pytests_exit_status_on(tmp_path: Path) -> None:
    """``make unit`` with a stand-in pytest that exits 5: make fails, so ``.ci/run`` fails."""
    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True)
    fake = venv / "bin" / "pytest"
    fake.write_text("#!/bin/sh\nexit 5\n")
    fake.chmod(0o755)
    (venv / ".installed").touch()  # newer than pyproject.toml: make installs nothing
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAKE")}
    done = subprocess.run(
        ["make", "-s", "-C", str(PROJECT_ROOT), "unit", f"VENV={venv}"],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert done.returncode != 0, done.stdout + done.stderr
    ci = (PROJECT_ROOT / ".ci" / "run").read_text()
    assert "set -euo pipefail" in ci and "\nmake test\n" in ci
