"""The upstream patch in docs/: pytx drops our tombstones once it is applied, and not before."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

from threatexchange.exchanges.clients.stopncii import api
from threatexchange.exchanges.impl import stop_ncii_api

PATCH = Path(__file__).resolve().parents[3] / "docs" / "pytx-stopncii-withdrawn.patch"


def _patched() -> ModuleType:
    lines = PATCH.read_text().splitlines()
    old = [ln[1:] for ln in lines if ln.startswith("-") and not ln.startswith("---")]
    new = [ln[1:] for ln in lines if ln.startswith("+") and not ln.startswith("+++")]
    assert len(old) == len(new) == 1  # a one-line fix
    source = Path(stop_ncii_api.__file__).read_text()
    assert source.count(old[0]) == 1, "the installed pytx no longer has the bug"
    spec = importlib.util.spec_from_loader("patched_stop_ncii_api", loader=None)
    assert spec is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while being built
    try:
        exec(compile(source.replace(old[0], new[0]), "patched", "exec"), module.__dict__)
    finally:
        del sys.modules[spec.name]
    return module


def _record(status: str) -> api.StopNCIIHashRecord:
    return api.StopNCIIHashRecord(
        lastModtimestamp=1,
        signalType=api.StopNCIISignalType.ImagePDQ,
        hashValue="a" * 64,
        hashStatus=api.StopNCIICaseStatus(status),
        caseNumbers={},
    )


def test_unpatched_pytx_keeps_withdrawn_and_the_patch_drops_them() -> None:
    patched = _patched()
    for status in ("Withdrawn", "Deleted"):
        assert stop_ncii_api._get_delta_mapping(_record(status))[1] is not None  # the bug
        assert patched._get_delta_mapping(_record(status))[1] is None
    assert patched._get_delta_mapping(_record("Active"))[1] is not None
