"""Support-center commands: ``center create``, ``worker create|passwd|disable``,
``case assign CODE --center NAME`` and ``case create --center NAME PATH...``.

``case create`` is for a center that opens a case from media the survivor brings: the files
are hashed on this machine (the ``ss-img-1`` enrolment hashes and MD5 of each image; the vPDQ
frame hashes and MD5 of each video; the ``ss-kp-1`` keypoints of each image, sealed with the
case key) and only those are stored. The case code and secret
are printed once, for the survivor to keep.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from stopspread.cli._context import open_app
from stopspread.cli._exit import ExitCode, fail
from stopspread.cli._inputs import STDIN, expand_paths
from stopspread.cli._settings import config_option
from stopspread.errors import MediaError

if TYPE_CHECKING:
    from stopspread.services.keypoint_records import KeypointIn
    from stopspread.services.signal_input import SignalIn

__all__ = ["case_group", "center_group", "worker_group"]


def _new_password() -> str:
    value: str = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    return value


@click.group("center")
def center_group() -> None:
    """Support centers."""


@center_group.command("create")
@config_option
@click.argument("name")
def center_create(config_file: Path | None, name: str) -> None:
    """Add a support center."""
    from stopspread.services.workers import accounts

    with open_app(config_file) as app:
        center_id = accounts.create_center(app.services, name)
    click.echo(f"center {name} (id {center_id})")


@click.group("worker")
def worker_group() -> None:
    """Support workers' accounts (passwords are asked for, never given as arguments)."""


@worker_group.command("create")
@config_option
@click.argument("username")
@click.option("--center", "center", required=True, help="The worker's support center.")
@click.option("--admin", is_flag=True, help="May manage the center's workers and cases.")
def worker_create(config_file: Path | None, username: str, center: str, admin: bool) -> None:
    """Add a worker account to a center."""
    from stopspread.services.workers import accounts
    from stopspread.services.workers.accounts import WorkerRole

    with open_app(config_file) as app:
        accounts.find_center(app.services, center)  # before asking for a password
        role = WorkerRole.ADMIN if admin else WorkerRole.WORKER
        password = _new_password()
        made = accounts.create_worker(app.services, center, username, password, role)
    click.echo(f"worker {username} ({role.value}) at {center}, id {made.worker_id}")


@worker_group.command("passwd")
@config_option
@click.argument("username")
def worker_passwd(config_file: Path | None, username: str) -> None:
    """Set a new password (also unlocks the account and ends its sessions)."""
    from stopspread.services.workers import accounts

    with open_app(config_file) as app:
        accounts.find_worker(app.services, username)  # before asking for a password
        accounts.set_password(app.services, username, _new_password())
    click.echo(f"password of {username} changed; their sessions ended")


@worker_group.command("disable")
@config_option
@click.argument("username")
def worker_disable(config_file: Path | None, username: str) -> None:
    """Stop an account from signing in; its sessions end now."""
    from stopspread.services.workers import accounts

    with open_app(config_file) as app:
        accounts.disable_worker(app.services, username)
    click.echo(f"worker {username} disabled")


@click.group("case")
def case_group() -> None:
    """Cases seen by support centers."""


@case_group.command("assign")
@config_option
@click.argument("code")
@click.option("--center", "center", required=True, help="The center that may see the case.")
def case_assign(config_file: Path | None, code: str, center: str) -> None:
    """Let a center see a case (the survivor gave her case code to the center)."""
    from stopspread.services.keys import normalise_case_code
    from stopspread.services.workers import accounts

    with open_app(config_file) as app:
        accounts.assign_case(app.services, code, center)
    click.echo(f"case {normalise_case_code(code)} assigned to {center}")


def _hash_file(path: Path) -> tuple[list[SignalIn], KeypointIn | None]:
    from stopspread.hashing import VideoMode, digest_bytes, enrolment_hashes, hash_video
    from stopspread.hashing.decode import open_image
    from stopspread.hashing.keypoints import extract_keypoints
    from stopspread.hashing.sniff import MediaKind, sniff_media
    from stopspread.services.keypoint_records import KeypointIn
    from stopspread.services.signal_input import SignalIn, SignalType

    if sniff_media(path) is MediaKind.VIDEO:
        # the robust enrolment views (every frame, bars trimmed, centre crops: docs/video.md),
        # so that a scan finds re-encodes, bars, logos and crops of it
        video = hash_video(path, mode=VideoMode.ROBUST_ENROL)
        frames = [SignalIn(SignalType.PDQ, f.pdq.hex, f.quality) for f in video.usable_frames]
        return [*frames, SignalIn(SignalType.MD5, video.digests.md5, from_video=True)], None
    body = path.read_bytes()
    hashes = [SignalIn(SignalType.PDQ, h.hash.hex, h.quality) for h in enrolment_hashes(body)]
    # the content-anchored signal (ss-kp-1): scans verify it where ss-img-1 finds nothing
    keypoints = KeypointIn(extract_keypoints(open_image(body)), hashes[0].value if hashes else None)
    return [*hashes, SignalIn(SignalType.MD5, digest_bytes(body).md5)], keypoints


def _hash_all(paths: tuple[str, ...]) -> tuple[list[SignalIn], list[KeypointIn]]:
    inputs, problems = expand_paths(paths)
    for problem in problems:
        click.echo(f"stopspread: {problem.path}: {problem.message}", err=True)
    signals: list[SignalIn] = []
    keypoints: list[KeypointIn] = []
    failed = bool(problems)
    for item in inputs:
        if item == STDIN:
            fail("case create reads files, not standard input", ExitCode.USAGE)
        try:
            found, kp = _hash_file(Path(item))
        except (MediaError, OSError) as exc:
            click.echo(f"stopspread: {item}: {exc}", err=True)
            failed = True
            continue
        signals += found
        keypoints += [kp] if kp is not None and len(kp.keypoints) else []
    if failed or not signals:
        fail("no case opened (every file must hash)", ExitCode.FAILED)
    return list({(s.type, s.value): s for s in signals}.values()), keypoints


@case_group.command("create")
@config_option
@click.option("--center", "center", required=True, help="The center opening the case.")
@click.argument("paths", nargs=-1, required=True, metavar="PATH...")
def case_create(config_file: Path | None, center: str, paths: tuple[str, ...]) -> None:
    """Open a case from the survivor's files, hashed here; assign it to the center."""
    from stopspread.services import cases
    from stopspread.services.keypoint_records import MAX_RECORDS_PER_REQUEST
    from stopspread.services.workers import accounts

    signals, keypoints = _hash_all(paths)
    with open_app(config_file) as app:
        svc = app.services
        limit = svc.settings.max_signals_per_request
        accounts.find_center(svc, center)
        new = cases.create_case(svc, signals[:limit])
        case_id = cases.authenticate(svc, new.code, new.secret, "cli")
        for start in range(limit, len(signals), limit):
            cases.add_signals(svc, case_id, signals[start : start + limit])
        per_call = MAX_RECORDS_PER_REQUEST
        for start in range(0, len(keypoints), per_call):
            cases.add_keypoints(svc, case_id, keypoints[start : start + per_call])
        accounts.assign_case(svc, new.code, center)
    click.echo(
        f"case opened with {len(signals)} hashes and the shape points of {len(keypoints)}"
        f" photos, and assigned to {center}.",
        err=True,
    )
    click.echo("Give the survivor the code and secret; the secret is shown only now:", err=True)
    click.echo(f"code: {new.code}")
    click.echo(f"secret: {new.secret}")
