"""Evidence sits above storage and below services: it imports nothing from the layers above."""

from __future__ import annotations

import subprocess
import sys


def test_evidence_imports_nothing_above_it() -> None:
    code = (
        "import sys, stopspread.evidence, stopspread.evidence.preview;"
        "bad = [m for m in sys.modules if m.split('.')[0] in ('fastapi', 'starlette', 'click')"
        " or m.startswith(('stopspread.cli', 'stopspread.web', 'stopspread.services'))];"
        "print(','.join(bad))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
