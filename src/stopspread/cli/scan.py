"""Scan commands: ``source add|list``, ``scan run|run-due|batch|list|show|cancel|mark-removed``.

Exit codes: 0 done, 1 the scan failed (nothing could be fetched: robots.txt could not be read
or refused everything, every page failed) or was cancelled, 2 usage error or a refused request
(unknown case, a URL that is refused, a folder that does not exist), 3 the set-up is wrong.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from stopspread.cli._context import open_app
from stopspread.cli._exit import ExitCode, fail
from stopspread.cli._settings import config_option

if TYPE_CHECKING:
    from stopspread.services.scans.queue import ScanView

__all__ = ["scan_group", "source_group"]

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_every(text: str | None) -> int | None:
    """``90``, ``30m``, ``6h``, ``1d`` → seconds."""
    if text is None:
        return None
    match = re.fullmatch(r"\s*(\d+)\s*([smhd]?)\s*", text.lower())
    if match is None:
        raise click.BadParameter("use seconds, or a number with s, m, h or d (e.g. 6h)")
    return int(match.group(1)) * _UNITS[match.group(2) or "s"]


@click.group("source")
def source_group() -> None:
    """Where scans look: a website crawl, a list of URLs, or a folder on this machine."""


@source_group.command("add")
@config_option
@click.argument("case_code")
@click.argument("kind", type=click.Choice(["crawl", "urls", "folder"]))
@click.argument("targets", nargs=-1, required=True)
@click.option("--depth", type=int, default=None, help="crawl: links to follow from the start.")
@click.option("--pages", type=int, default=None, help="crawl: most pages to fetch.")
@click.option("--every", default=None, help="Scan on a schedule: 6h, 1d, 30m (at least 5m).")
@click.option("--label", default="", help="A name for the source in lists.")
def source_add(
    config_file: Path | None,
    case_code: str,
    kind: str,
    targets: tuple[str, ...],
    depth: int | None,
    pages: int | None,
    every: str | None,
    label: str,
) -> None:
    """Add a source to a case. TARGETS: the start URL (crawl), URLs or @FILE with one URL a
    line (urls), or a folder (folder)."""
    from stopspread.services.scans import queue as scans
    from stopspread.services.scans.queue import SourceKind

    spec: dict[str, Any]
    if kind == "crawl":
        spec = {"start": targets[0], "max_depth": depth, "max_pages": pages}
    elif kind == "urls":
        spec = {"urls": _expand(targets)}
    else:
        spec = {"path": targets[0]}
    schedule_s = parse_every(every)
    with open_app(config_file) as app:
        case_id = scans.case_id_for_code(app.db, case_code)
        source_id = scans.add_source(
            app.db, case_id, SourceKind(kind), spec, created_by="cli", label=label,
            schedule_s=schedule_s, allow_loopback=app.settings.fetch_allow_loopback,
        )  # fmt: skip
    click.echo(source_id)


def _expand(targets: tuple[str, ...]) -> list[str]:
    urls: list[str] = []
    for target in targets:
        if target.startswith("@"):
            try:
                lines = Path(target[1:]).read_text(encoding="utf-8").splitlines()
            except (OSError, UnicodeDecodeError) as exc:
                raise click.BadParameter(f"cannot read {target[1:]}: {exc}") from exc
            urls += [line.strip() for line in lines if line.strip() and not line.startswith("#")]
        else:
            urls.append(target)
    return urls


@source_group.command("list")
@config_option
@click.argument("case_code")
def source_list(config_file: Path | None, case_code: str) -> None:
    """The sources of a case: id, kind, schedule, label."""
    from stopspread.services.scans import queue as scans

    with open_app(config_file) as app:
        sources = scans.list_sources(app.db, scans.case_id_for_code(app.db, case_code))
    for source in sources:
        every = f"every {source.schedule_s}s" if source.schedule_s else "on demand"
        click.echo(f"{source.id}\t{source.kind.value}\t{every}\t{source.label}")
    if not sources:
        click.echo("no sources yet: add one with stopspread source add", err=True)


@click.group("scan")
def scan_group() -> None:
    """Run scans and follow their progress."""


def _progress_line(counts: dict[str, int]) -> str:
    return (
        f"pages {counts['pages']}  media {counts['media_hashed']}/{counts['media_found']} hashed"
        f"  hits {counts['hits']} (new {counts['new_sightings']}, re-uploads "
        f"{counts['reuploads']}, removed {counts['removed']})  errors {counts['errors']}"
    )


def _show(view: ScanView) -> None:
    from stopspread.services.scans.queue import ScanStatus

    click.echo(f"scan {view.id} (source {view.source_id}): {view.status.value}")
    click.echo(_progress_line(view.counts))
    if view.counts.get("skipped"):
        click.echo(f"skipped {view.counts['skipped']} (robots.txt, or not an image or video)")
    if view.error_kinds:
        kinds = ", ".join(f"{name} {count}" for name, count in view.error_kinds.items())
        click.echo(f"errors by kind: {kinds}")
    if view.status is ScanStatus.FAILED and view.last_error:
        click.echo(f"stopspread: scan {view.id} failed: {view.last_error}", err=True)


@scan_group.command("run")
@config_option
@click.argument("source_id", type=int)
def scan_run(config_file: Path | None, source_id: int) -> None:
    """Scan one source now, here, showing progress on stderr."""
    from stopspread.services.scans import queue as scans
    from stopspread.services.scans.queue import ScanStatus

    tty = sys.stderr.isatty()

    def progress(counts: dict[str, int]) -> None:
        if tty:
            click.echo("\r" + _progress_line(counts), err=True, nl=False)

    with open_app(config_file) as app:
        scan_id = scans.queue_scan(app.db, source_id, trigger="cli")
        view = scans.run_scan(app.scan_deps, scan_id, progress)
    if tty:
        click.echo("", err=True)
    _show(view)
    sys.exit(ExitCode.OK if view.status is ScanStatus.DONE else ExitCode.FAILED)


@scan_group.command("run-due")
@config_option
def scan_run_due(config_file: Path | None) -> None:
    """Run every scheduled scan that is due and every queued one (for cron)."""
    from stopspread.services.scans import queue as scans
    from stopspread.services.scans.queue import ScanStatus

    with open_app(config_file) as app:
        views = scans.run_due(app.scan_deps)
    for view in views:
        _show(view)
    if not views:
        click.echo("no scans due")
    sys.exit(ExitCode.OK if all(v.status is ScanStatus.DONE for v in views) else ExitCode.FAILED)


@scan_group.command("list")
@config_option
@click.option("--case", "case_code", default=None, help="Only this case's scans.")
def scan_list(config_file: Path | None, case_code: str | None) -> None:
    """The latest scans: id, status, source, hits, errors."""
    from stopspread.services.scans import queue as scans

    with open_app(config_file) as app:
        cases = None if case_code is None else [scans.case_id_for_code(app.db, case_code)]
        views = scans.list_scans(app.db, cases)
    if not views:
        click.echo("no scans yet: stopspread scan run SOURCE_ID", err=True)
    for view in views:
        counts = view.counts
        click.echo(
            f"{view.id}\t{view.status.value}\tsource {view.source_id}\t"
            f"hits {counts['hits']}\tnew {counts['new_sightings']}\terrors {counts['errors']}"
        )


@scan_group.command("show")
@config_option
@click.argument("scan_id", type=int)
def scan_show(config_file: Path | None, scan_id: int) -> None:
    """One scan's status and counters."""
    from stopspread.services.scans import queue as scans

    with open_app(config_file) as app:
        view = scans.scan_view(app.db, scan_id)
    _show(view)


@scan_group.command("cancel")
@config_option
@click.argument("scan_id", type=int)
def scan_cancel(config_file: Path | None, scan_id: int) -> None:
    """Cancel a queued scan, or stop a running one at its next progress write."""
    from stopspread.services.scans import queue as scans
    from stopspread.services.scans.queue import ScanStatus

    with open_app(config_file) as app:
        status = scans.cancel_scan(app.db, scan_id)
    if status is ScanStatus.RUNNING:
        click.echo(f"scan {scan_id}: cancel requested; it stops at its next progress write")
    elif status is ScanStatus.CANCELLED:
        click.echo(f"scan {scan_id} cancelled")
    else:
        fail(f"scan {scan_id} is {status.value} already: nothing to cancel", ExitCode.USAGE)


@scan_group.command("mark-removed")
@config_option
@click.argument("sighting_id", type=int)
def scan_mark_removed(config_file: Path | None, sighting_id: int) -> None:
    """Record that a sighting's media was taken down (its return will be a re-upload)."""
    from stopspread.services.scans import queue as scans

    with open_app(config_file) as app:
        changed = scans.mark_removed(app.db, sighting_id, by="cli")
    click.echo("marked removed" if changed else "already removed")


@scan_group.command("batch")
@config_option
@click.argument("source_id", type=int, required=False)
@click.option("--resume", "resume", type=int, default=None, help="Go on with this batch scan.")
@click.option(
    "--scheduler", default=None, help="Dask scheduler, e.g. tcp://10.0.0.5:8786 (else local)."
)
@click.option("--workers", type=int, default=None, help="Local cluster: worker processes.")
@click.option("--batch-files", type=int, default=32, show_default=True, help="Files per task.")
def scan_batch(
    config_file: Path | None,
    source_id: int | None,
    resume: int | None,
    scheduler: str | None,
    workers: int | None,
    batch_files: int,
) -> None:
    """Scan a folder source (a local folder, s3://…, any fsspec path) on a Dask cluster.

    Files are hashed and matched on the workers; sightings and evidence are recorded here as
    each batch comes back. If this command dies, run it again with --resume SCAN_ID: the
    files already recorded are skipped.
    """
    from stopspread.scale.cluster import BatchProgress, dask_client, run_batch_scan
    from stopspread.services.scans import queue as scans
    from stopspread.services.scans.queue import ScanStatus

    if (source_id is None) == (resume is None):
        raise click.UsageError("give a SOURCE_ID or --resume SCAN_ID")
    tty = sys.stderr.isatty()

    def progress(p: BatchProgress) -> None:
        line = f"scan {p.scan_id}: {p.files_done}/{p.files_total} files, hits {p.hits}"
        click.echo(("\r" + line) if tty else line, err=True, nl=not tty)

    with open_app(config_file) as app, dask_client(scheduler, workers) as client:
        scan_id, status = run_batch_scan(
            app.scan_deps, client, source_id=source_id, resume=resume,
            batch_files=max(1, batch_files), on_progress=progress,
        )  # fmt: skip
        view = scans.scan_view(app.db, scan_id)
    if tty:
        click.echo("", err=True)
    _show(view)
    sys.exit(ExitCode.OK if status is ScanStatus.DONE else ExitCode.FAILED)
