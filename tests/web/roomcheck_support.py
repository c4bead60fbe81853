"""A live app whose room check looks at the simulated home network, and a case to keep it."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from stopspread.services.cases import create_case
from stopspread.services.signal_input import parse_signal
from stopspread.services.workers import accounts
from stopspread.storage import Database, upgrade
from stopspread.storage.models_worker import WorkerRole
from stopspread.web import create_app
from stopspread.web.room_check_app import create_room_check_app
from tests.conftest import fast_settings, make_services
from tests.roomcheck.simnet import SimNetwork, home, running, sim_target
from tests.web.support import serve

PASSWORD = "correct horse battery staple 42"


@dataclass
class RoomSite:
    worker_url: str  # the service: mina (Seoul, case assigned), jiwoo (Busan)
    standalone_url: str  # stopspread room-check --serve
    case_id: int
    code: str
    net: SimNetwork
    db_path: Path


@contextlib.contextmanager
def room_site(tmp: Path) -> Iterator[RoomSite]:
    url = f"sqlite:///{tmp / 'db.sqlite'}"
    svc = make_services(url, tmp)
    code = create_case(svc, [parse_signal("md5", "2" * 32)]).code
    for center, name in (("Seoul Center", "mina"), ("Busan Center", "jiwoo")):
        accounts.create_center(svc, center)
        accounts.create_worker(svc, center, name, PASSWORD, WorkerRole.WORKER)
    accounts.assign_case(svc, code, "Seoul Center")
    from stopspread.services import roomcheck as service

    case_id = service.case_id_for_code(svc.db, code)
    settings = fast_settings(url, tmp)
    upgrade(Database(settings.url))
    with running(home, tmp) as net:
        app = create_app(settings)
        app.state.room_check_target = sim_target(net)
        standalone = create_room_check_app(sim_target(net))
        with serve(app) as worker_url, serve(standalone) as standalone_url:
            yield RoomSite(worker_url, standalone_url, case_id, code, net, tmp / "db.sqlite")
    svc.db.dispose()
