"""Crash consistency as a repeatable harness (issue 18): ``kill -9`` a real ``stopspread serve``
while client threads enrol cases and withdraw some, restart it, and check what it acknowledged.

A cycle: client threads send ``POST /v1/cases`` (1-4 random PDQ hashes each) and, for some of
their own acknowledged cases, ``POST /v1/cases/{code}/withdraw`` with ``X-Case-Secret``; every
ACKNOWLEDGED answer is written down (201 with code and secret; withdraw 200). At a random moment
the server gets ``kill -9``; it is started again and checked at once:

- lost: an acknowledged case (not withdrawn, no withdrawal in flight) whose status is not
  200 with all its signals (``GET /v1/cases/{code}`` with its secret);
- back: a hash of an acknowledged withdrawal that matches again (``POST /v1/match``, a
  platform key);
- torn: a case whose withdrawal was in flight at the kill and is now neither whole (200, all
  signals, every hash matching) nor wholly gone (no hash matching);

and after the last cycle ``stopspread audit verify`` and ``stopspread evidence verify`` must
exit 0, and every case of every cycle is checked once more.

The negative control (``Weakening.ROLLBACK``, SQLite): the database is copied (SQLite's online
backup) after a few acknowledgements, more are let through, and after the kill the copy
replaces the database, as a disk that drops its last commits (a lying write cache, a
restore) would. The same checks must then report lost cases (and withdrawn hashes back): the
control proves that the checker sees lost and resurrected writes; it does not prove that any
real durability setting is safe.
"""

from __future__ import annotations

import base64
import enum
import os
import random
import sqlite3
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from stopspread.config import load_settings
from stopspread.services import platform
from stopspread.storage import Database, upgrade
from tests.security.forkserve import ForkedServe, ForkServer
from tests.security.serve_process import CLI, ServeProcess, serve_env

__all__ = ["CrashReport", "Weakening", "crash_cycles"]

THREADS = 4
KILL_AFTER_ACKS = (1, 40)  # the kill comes after a uniformly random count of acknowledgements
KILL_JITTER_S = 0.03  # ... and a random delay up to this, so that it lands inside a request
WITHDRAW_SHARE = 0.35  # after each acknowledged enrolment, withdraw one of ours this often
CONTROL_SNAPSHOT_AT, CONTROL_KILL_AT = 6, 30  # acknowledgements (negative control only)
PROGRESS_EVERY = 25  # cycles


class Weakening(enum.Enum):
    """What the run does to durability: nothing, or the negative control."""

    NONE = "none"
    ROLLBACK = "rollback"  # SQLite only: the database goes back to a copy taken mid-cycle


@dataclass(frozen=True, slots=True)
class Enrolled:
    code: str
    secret: str
    hashes: tuple[str, ...]


@dataclass(slots=True)
class Ledger:
    """What the server acknowledged, over every cycle."""

    cases: dict[str, Enrolled] = field(default_factory=dict)
    withdrawn: set[str] = field(default_factory=set)  # acknowledged withdrawals
    unsure: set[str] = field(default_factory=set)  # withdrawal sent, answer lost in the kill
    acks: int = 0
    errors: list[str] = field(default_factory=list)  # answers neither acknowledged nor cut off
    lock: threading.Lock = field(default_factory=threading.Lock)


@dataclass(frozen=True, slots=True)
class CrashReport:
    cycles: int  # cycles that ran
    seconds: float  # wall clock, start to last check (the verifies not included)
    enrolled: int  # acknowledged enrolments
    signals: int  # their hashes
    withdrawn: int  # acknowledged withdrawals
    lost: int  # acknowledged cases missing or short of signals after a restart
    back: int  # hashes of acknowledged withdrawals that matched again
    torn: int  # withdrawals cut by the kill that left a case neither whole nor gone
    errors: int  # answers that were neither an acknowledgement nor cut off by the kill
    audit_ok: bool  # ``stopspread audit verify`` exit 0
    evidence_ok: bool  # ``stopspread evidence verify`` exit 0

    def line(self) -> str:
        return (
            f"{self.cycles} kill -9 cycles ({self.seconds / max(1, self.cycles):.1f} s each); "
            f"{self.enrolled:,} acknowledged enrolments "
            f"({self.signals:,} hashes), {self.withdrawn:,} acknowledged withdrawals; "
            f"lost {self.lost}, withdrawn hashes back {self.back}, torn {self.torn}, "
            f"{self.errors} refusals; "
            f"audit verify {'clean' if self.audit_ok else 'FAILED'}, "
            f"evidence verify {'clean' if self.evidence_ok else 'FAILED'}"
        )


def _random_pdq(rng: random.Random) -> str:
    return rng.randbytes(32).hex()


class _RefusedError(Exception):
    """The server answered, but not with an acknowledgement."""


class _Clients:
    """Client threads that enrol and withdraw until the server stops answering."""

    def __init__(self, base_url: str, ledger: Ledger, seed: int) -> None:
        self._base, self.ledger, self._seed = base_url, ledger, seed
        self.acked = threading.Condition()

    def run(self) -> list[threading.Thread]:
        threads = [
            threading.Thread(target=self._client, args=(self._seed * 100 + n,), daemon=True)
            for n in range(THREADS)
        ]
        for thread in threads:
            thread.start()
        return threads

    def _ack(self) -> None:
        with self.acked:
            self.ledger.acks += 1
            self.acked.notify_all()

    def _client(self, seed: int) -> None:
        rng, mine = random.Random(seed), list[Enrolled]()
        with httpx.Client(base_url=self._base, timeout=30) as http:
            try:
                while True:
                    mine.append(self._enrol(http, rng))
                    if rng.random() < WITHDRAW_SHARE:
                        self._withdraw(http, mine.pop(rng.randrange(len(mine))))
            except httpx.TransportError:
                return  # killed: what was in flight is not acknowledged
            except _RefusedError as exc:
                with self.ledger.lock:
                    self.ledger.errors.append(str(exc))

    def _enrol(self, http: httpx.Client, rng: random.Random) -> Enrolled:
        hashes = tuple(_random_pdq(rng) for _ in range(rng.randint(1, 4)))
        answer = http.post(
            "/v1/cases", json={"signals": [{"type": "pdq", "value": h} for h in hashes]}
        )
        if answer.status_code != 201:
            raise _RefusedError(f"enrol: {answer.status_code}")
        body = answer.json()
        case = Enrolled(body["case_code"], body["secret"], hashes)
        with self.ledger.lock:
            self.ledger.cases[case.code] = case
        self._ack()
        return case

    def _withdraw(self, http: httpx.Client, case: Enrolled) -> None:
        with self.ledger.lock:
            self.ledger.unsure.add(case.code)
        answer = http.post(
            f"/v1/cases/{case.code}/withdraw", headers={"X-Case-Secret": case.secret}
        )
        if answer.status_code != 200:
            raise _RefusedError(f"withdraw: {answer.status_code}")
        with self.ledger.lock:
            self.ledger.unsure.discard(case.code)
            self.ledger.withdrawn.add(case.code)
        self._ack()


@dataclass(frozen=True, slots=True)
class _Target:
    url: str
    env: dict[str, str]
    platform_key: str
    sqlite_file: Path | None


def _prepare(url: str, data_dir: Path) -> _Target:
    env = serve_env(
        url,
        data_dir,
        client_burst=1_000_000,
        client_rate_per_s=1_000_000,
        case_attempts_per_minute=1_000_000,
        address_attempts_per_minute=1_000_000,
        enrol_signals_per_address_per_hour=1e9,
        enrol_signals_per_hour=1e9,
        enrol_flag_signals=1e9,
        quarantine_min_matches=1_000_000,
        evidence_key=base64.b64encode(os.urandom(32)).decode(),  # evidence verify needs one
    )
    db = Database.from_settings(load_settings(env, None))  # sealed, as ``serve`` opens it
    try:
        upgrade(db)
        _client, key = platform.create_client(db, "crash-check")
    finally:
        db.dispose()
    sqlite_file = Path(url.removeprefix("sqlite:///")) if url.startswith("sqlite:///") else None
    return _Target(url, env, key, sqlite_file)


def _kill_at_random(
    server: ServeProcess | ForkedServe, clients: _Clients, rng: random.Random
) -> None:
    """``kill -9`` after a random count of acknowledgements, at a random moment after it."""
    with clients.acked:
        goal = clients.ledger.acks + rng.randint(*KILL_AFTER_ACKS)
        clients.acked.wait_for(lambda: clients.ledger.acks >= goal, timeout=60)
    time.sleep(rng.uniform(0, KILL_JITTER_S))
    server.kill()


def _snapshot_then_kill(
    server: ServeProcess | ForkedServe, clients: _Clients, db_file: Path, copy: Path
) -> None:
    """The negative control: copy the database after a few acknowledgements, kill later."""
    with clients.acked:
        clients.acked.wait_for(lambda: clients.ledger.acks >= CONTROL_SNAPSHOT_AT, timeout=60)
        first = clients.ledger.acks
    with sqlite3.connect(db_file) as source, sqlite3.connect(copy) as target:
        source.backup(target)
    with clients.acked:
        clients.acked.wait_for(lambda: clients.ledger.acks >= first + CONTROL_KILL_AT, timeout=60)
    server.kill()


def _roll_back(db_file: Path, copy: Path) -> None:
    for suffix in ("-wal", "-shm"):
        db_file.with_name(db_file.name + suffix).unlink(missing_ok=True)
    copy.replace(db_file)


@dataclass(frozen=True, slots=True)
class _Tally:
    lost: int = 0
    back: int = 0
    torn: int = 0

    def __add__(self, other: _Tally) -> _Tally:
        return _Tally(self.lost + other.lost, self.back + other.back, self.torn + other.torn)


def _matching(http: httpx.Client, key: str, case: Enrolled) -> int:
    """How many of the case's hashes match for a platform (each asked once)."""
    found = 0
    for value in case.hashes:
        answer = http.post(
            "/v1/match",
            json={"type": "pdq", "value": value},
            headers={"Authorization": f"Bearer {key}"},
        )
        assert answer.status_code == 200, answer.text
        found += bool(answer.json()["match"])
    return found


def _kept(http: httpx.Client, case: Enrolled) -> bool:
    answer = http.get(f"/v1/cases/{case.code}", headers={"X-Case-Secret": case.secret})
    return answer.status_code == 200 and answer.json()["signals"] == len(case.hashes)


def _check(http: httpx.Client, ledger: Ledger, key: str, codes: list[str]) -> _Tally:
    """Among ``codes``: lost cases, withdrawn hashes back, and withdrawals cut by the kill
    that left a case half there (torn: neither whole nor wholly gone)."""
    tally = _Tally()
    for code in codes:
        case = ledger.cases[code]
        if code in ledger.withdrawn:
            tally += _Tally(back=_matching(http, key, case))
        elif code in ledger.unsure:
            kept, found = _kept(http, case), _matching(http, key, case)
            tally += _Tally(torn=int(found != (len(case.hashes) if kept else 0)))
        else:
            tally += _Tally(lost=int(not _kept(http, case)))
    return tally


def _verified(env: dict[str, str], *command: str) -> bool:
    done = subprocess.run([CLI, *command], env=env, capture_output=True, text=True, timeout=120)
    if done.returncode != 0:
        print(f"stopspread {' '.join(command)}: exit {done.returncode}\n{done.stdout}{done.stderr}")
    return done.returncode == 0


def crash_cycles(
    url: str,
    data_dir: Path,
    cycles: int,
    weakening: Weakening = Weakening.NONE,
    seed: int = 18,
    forks: ForkServer | None = None,
    budget_s: float | None = None,
) -> CrashReport:
    """``cycles`` rounds of load, ``kill -9``, restart and check against the database ``url``.

    With ``forks`` each ``serve`` is forked from the already-imported fork server (the soak's
    cheap restart); without, each is a freshly executed ``stopspread serve``. With
    ``budget_s`` no cycle starts after that many seconds (the report says how many ran); a
    line of progress is printed every ``PROGRESS_EVERY`` cycles.
    """
    began = time.monotonic()
    target, ledger, rng = _prepare(url, data_dir), Ledger(), random.Random(seed)
    server = ServeProcess(target.env) if forks is None else ForkedServe(forks, target.env)
    tally = _Tally()
    base_url = server.start()
    try:
        ran = 0
        for cycle in range(cycles):
            if budget_s is not None and time.monotonic() - began > budget_s:
                break
            ran = cycle + 1
            seen, gone = set(ledger.cases), set(ledger.withdrawn)
            clients = _Clients(base_url, ledger, seed * 10_000 + cycle)
            if weakening is Weakening.ROLLBACK:
                assert target.sqlite_file is not None, "the rollback control is SQLite's"
                copy = data_dir / "rollback.sqlite"
                killer = threading.Thread(
                    target=_snapshot_then_kill, args=(server, clients, target.sqlite_file, copy)
                )
            else:
                killer = threading.Thread(target=_kill_at_random, args=(server, clients, rng))
            threads = clients.run()
            killer.start()
            killer.join()
            for thread in threads:
                thread.join(timeout=60)
            if weakening is Weakening.ROLLBACK:
                assert target.sqlite_file is not None
                _roll_back(target.sqlite_file, copy)
            base_url = server.start()
            with httpx.Client(base_url=base_url, timeout=30) as http:
                fresh = [c for c in ledger.cases if c not in seen or c in ledger.withdrawn - gone]
                tally += _check(http, ledger, target.platform_key, fresh)
            if ran % PROGRESS_EVERY == 0:
                print(
                    f"  {ran} cycles, {time.monotonic() - began:.0f} s: {len(ledger.cases)} "
                    f"enrolled, {len(ledger.withdrawn)} withdrawn, {tally}",
                    flush=True,
                )
        with httpx.Client(base_url=base_url, timeout=30) as http:
            final = _check(http, ledger, target.platform_key, list(ledger.cases))
    finally:
        server.stop()
    return CrashReport(
        cycles=ran,
        seconds=time.monotonic() - began,
        enrolled=len(ledger.cases),
        signals=sum(len(c.hashes) for c in ledger.cases.values()),
        withdrawn=len(ledger.withdrawn),
        errors=len(ledger.errors),
        lost=max(tally.lost, final.lost),
        back=max(tally.back, final.back),
        torn=max(tally.torn, final.torn),
        audit_ok=_verified(target.env, "audit", "verify"),
        evidence_ok=_verified(target.env, "evidence", "verify"),
    )
