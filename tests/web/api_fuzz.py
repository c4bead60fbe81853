"""schemathesis over the whole API, once per role, against a live server.

The OpenAPI document the app serves is the list of operations. For each role (anonymous,
platform key, survivor case code + secret) every operation gets requests generated from
its schema, with the role's credentials added. Two rules are checked on every answer:

- never a server error (5xx);
- an operation whose role is not the caller's never answers 2xx (no operation reachable
  without the right credentials). Worker sessions sign in to pages, not to the API: no
  operation in the document takes one.
"""

from __future__ import annotations

import contextlib
import enum
import random
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field

import httpx
import schemathesis
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis.schemas import APIOperation

from stopspread.config import Settings
from stopspread.services import platform
from stopspread.services.exchange import feed
from stopspread.storage import Database, upgrade
from tests.fuzz.harnesses import image_seeds, mutate
from tests.web.support import live_server

__all__ = ["ApiFuzzReport", "Role", "fuzz_api", "schemathesis_settings"]


class Role(enum.Enum):
    ANONYMOUS = "anonymous"
    PLATFORM = "platform"
    SURVIVOR = "survivor"


# Which role each operation is for; an operation not listed is for the platform key.
PUBLIC = {"GET /healthz", "GET /readyz", "POST /v1/cases"}
SURVIVOR = {
    "POST /v1/cases/{code}/signals",
    "GET /v1/cases/{code}",
    "POST /v1/cases/{code}/withdraw",
}


def schemathesis_settings(settings: Settings) -> Settings:
    """The rate limits out of the way: a run from one address must reach the handlers
    (tests/security covers the limits themselves)."""
    return settings.replace(
        case_attempts_per_minute=1e9, address_attempts_per_minute=1e9, client_rate_per_s=1e9
    )


def needed_role(operation: str) -> Role:
    if operation in PUBLIC:
        return Role.ANONYMOUS
    return Role.SURVIVOR if operation in SURVIVOR else Role.PLATFORM


@dataclass
class ApiFuzzReport:
    """Requests sent, answers by role and status class, and every broken rule."""

    requests: int = 0
    statuses: Counter[tuple[str, str]] = field(default_factory=Counter)
    operations: set[str] = field(default_factory=set)
    by_operation: Counter[tuple[str, str, int]] = field(default_factory=Counter)
    server_errors: list[str] = field(default_factory=list)
    reachable_without_auth: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class _Credentials:
    key: str
    code: str
    secret: str

    def headers(self, role: Role) -> dict[str, str]:
        if role is Role.PLATFORM:
            return {"Authorization": f"Bearer {self.key}"}
        if role is Role.SURVIVOR:
            return {"X-Case-Secret": self.secret}
        return {}


def _platform_key(settings: Settings) -> str:
    """A platform key that may also hash uploads and pull the hash feed."""
    db = Database(settings.url)
    upgrade(db)
    _client, key = platform.create_client(db, "fuzz-platform", can_hash=True)
    feed.allow(db, "fuzz-platform")
    db.dispose()
    return key


def _new_case(base_url: str, key: str) -> _Credentials:
    """A fresh case (a withdrawal in the last run must not end the next one's case)."""
    body = {"signals": [{"type": "pdq", "value": "5" * 64, "quality": 90}]}
    answer = httpx.post(f"{base_url}/v1/cases", json=body, timeout=30)
    answer.raise_for_status()
    case = answer.json()
    return _Credentials(key, case["case_code"], case["secret"])


def _uploads() -> st.SearchStrategy[bytes]:
    """Bodies for ``application/octet-stream`` (``POST /v1/hash``): real and mutated images."""
    seeds = list(image_seeds())
    mutated = st.builds(
        lambda seed, n: mutate(seed, random.Random(n), seeds),
        st.sampled_from(seeds),
        st.integers(0, 2**32),
    )
    return st.one_of(st.sampled_from(seeds), mutated, st.binary(max_size=1024))


def _operations(base_url: str) -> Iterator[APIOperation]:
    schemathesis.openapi.media_type("application/octet-stream", _uploads())
    schema = schemathesis.openapi.from_url(f"{base_url}/openapi.json")
    for result in schema.get_all_operations():
        yield result.ok()


def _exercise(
    operation: APIOperation,
    role: Role,
    creds: _Credentials,
    base_url: str,
    report: ApiFuzzReport,
    examples: int,
    run_seed: int,
) -> None:
    label = f"{operation.method.upper()} {operation.path}"
    report.operations.add(label)
    allowed = needed_role(label) in (Role.ANONYMOUS, role)

    @seed(run_seed)
    @settings(
        max_examples=examples,
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(operation.as_strategy())
    def run(case: schemathesis.Case) -> None:
        if role is Role.SURVIVOR and "code" in (case.path_parameters or {}):
            case.path_parameters = {**(case.path_parameters or {}), "code": creds.code}
        given_headers = creds.headers(role)
        names = {name.lower() for name in given_headers}
        kept = {k: v for k, v in (case.headers or {}).items() if k.lower() not in names}
        case.headers = {**kept, **given_headers}
        response = case.call(base_url=base_url, timeout=30)
        status = response.status_code
        report.requests += 1
        report.statuses[(role.value, f"{status // 100}xx")] += 1
        report.by_operation[(role.value, label, status)] += 1
        where = f"{role.value} {label} -> {status}"
        if status >= 500:
            report.server_errors.append(where)
        if not allowed and 200 <= status < 300:
            report.reachable_without_auth.append(where)

    with contextlib.suppress(Unsatisfiable):  # no valid case for it: nothing sent
        run()


def fuzz_api(settings: Settings, examples: int, rounds_until: float = 0.0) -> ApiFuzzReport:
    """Every operation, every role, ``examples`` cases each; more seeds until ``rounds_until``
    (a ``time.monotonic()`` deadline; 0: one round)."""
    report = ApiFuzzReport()
    with live_server(settings) as base_url:
        key = _platform_key(settings)
        operations = list(_operations(base_url))
        run_seed = 18
        while True:
            for role in Role:
                for operation in operations:
                    creds = _new_case(base_url, key)
                    _exercise(operation, role, creds, base_url, report, examples, run_seed)
            run_seed += 1
            if time.monotonic() >= rounds_until:
                return report
