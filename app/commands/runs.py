"""Scheduler commands: ``chanjiao allocate``, ``chanjiao runs ...`` and ``chanjiao worker``."""

from __future__ import annotations

import json
import logging
import signal
import threading
import time
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from app.db.models import RunKind, RunMode, RunStatus
from app.errors import ChanjiaoError
from app.security import SYSTEM

console = Console(stderr=True)
FINISHED = {RunStatus.SUCCEEDED, RunStatus.INFEASIBLE, RunStatus.NO_SOLUTION_IN_TIME, RunStatus.FAILED,
            RunStatus.CANCELLED, RunStatus.PUBLISHED, RunStatus.SUPERSEDED, RunStatus.WITHDRAWN}


def _fail(exc: ChanjiaoError) -> typer.Exit:
    console.print(f"[red]error ({exc.status}):[/red] {exc.detail}")
    return typer.Exit(2)


def _summary(run: Any) -> dict[str, Any]:
    return {"id": run.id, "kind": run.kind.value, "mode": run.mode.value, "term": run.term, "status": run.status.value,
            "phase": run.phase, "progress": run.progress, "objective": run.objective, "bound": run.bound,
            "gap": run.gap, "wall_time_s": run.wall_time_s, "phase_times": run.phase_times,
            "placements_digest": run.placements_digest, "error": run.error}


def register(cli: typer.Typer) -> None:
    runs = typer.Typer(help="Batch allocation runs.", no_args_is_help=True)
    cli.add_typer(runs, name="runs")

    @cli.command("worker")
    def worker(once: bool = typer.Option(False, help="Execute at most one queued run, then exit.")) -> None:
        """Claim and execute queued allocation runs (run one or more beside the server)."""
        from rich.markup import escape

        from app.commands._db import session_factory
        from app.executors import ExecutorUnavailable, check_available
        from app.settings import get_settings
        from app.worker import Worker

        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
        settings = get_settings()
        try:
            check_available(settings.allocation_executor)
        except ExecutorUnavailable as exc:
            # escape: "chanjiao[ray]" is not a colour tag
            console.print(f"[red]CHANJIAO_ALLOCATION_EXECUTOR:[/red] {escape(str(exc))}")
            raise typer.Exit(2) from exc
        w = Worker(session_factory(), settings)
        if once:
            run_id = w.run_once()
            console.print(f"executed run {run_id}" if run_id else "no queued run")
            return
        stop = threading.Event()
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: stop.set())
        w.run_forever(stop)

    @cli.command("allocate")
    def allocate(
        kind: RunKind = typer.Option(RunKind.INTERNSHIP, help="internship or lecturer"),
        term: str = typer.Option(..., help="Term, e.g. 2027-spring"),
        province: str | None = typer.Option(None, help="Only this province's colleges and openings"),
        mode: RunMode = typer.Option(RunMode.OPTIMAL, help="optimal or stable"),
        parameters: str = typer.Option("{}", help="Solver parameters as JSON (see the API's RunParameters)"),
        wait: bool = typer.Option(False, help="Wait for the run, with a progress bar"),
    ) -> None:
        """Submit an allocation run for a term (and province)."""
        from app.commands._db import session_factory
        from app.run_schemas import RunCreate
        from app.services.runs import RunService

        try:
            body = RunCreate.model_validate({"kind": kind, "mode": mode, "scope": {"term": term, "province": province},
                                             "parameters": json.loads(parameters)})
        except (ValueError, json.JSONDecodeError) as exc:
            console.print(f"[red]invalid request:[/red] {exc}")
            raise typer.Exit(2) from exc
        try:
            with session_factory().begin() as session:
                run, _ = RunService(session, SYSTEM).submit(body)
                run_id = run.id
        except ChanjiaoError as exc:
            raise _fail(exc) from exc
        console.print(f"queued run {run_id}")
        if wait:
            _wait(run_id)
        typer.echo(run_id)

    @runs.command("list")
    def list_runs(limit: int = typer.Option(20, min=1, max=200)) -> None:
        """The newest runs."""
        from app.commands._db import session_factory
        from app.services.runs import RunService

        table = Table("id", "kind", "mode", "term", "status", "progress", "objective", "gap", "wall s")
        with session_factory().begin() as session:
            for run in RunService(session, SYSTEM).page(status=None, kind=None, limit=limit, cursor=None).items:
                table.add_row(str(run.id), run.kind.value, run.mode.value, run.term, run.status.value,
                              f"{run.progress}% {run.phase}", _num(run.objective), _num(run.gap),
                              _num(run.wall_time_s))
        Console().print(table)

    @runs.command("show")
    def show(run_id: int) -> None:
        """A run's status, objective, bound, gap, times and KPIs (JSON)."""
        from app.commands._db import session_factory
        from app.services.runs import RunService

        try:
            with session_factory().begin() as session:
                run = RunService(session, SYSTEM).get(run_id)
                typer.echo(json.dumps({**_summary(run), "kpis": run.kpis.get("totals", {})}, ensure_ascii=False,
                                      indent=1))
        except ChanjiaoError as exc:
            raise _fail(exc) from exc

    @runs.command("publish")
    def publish(run_id: int) -> None:
        """Publish a succeeded run to the colleges and enterprises."""
        _act(run_id, "publish")

    @runs.command("cancel")
    def cancel(run_id: int) -> None:
        """Cancel a queued or running run."""
        _act(run_id, "cancel")

    @runs.command("export")
    def export(run_id: int, out: Path = typer.Option(..., help="File to write (.csv or .xlsx)")) -> None:
        """Export a run's placements."""
        from app.commands._db import session_factory
        from app.services.run_exports import export_run

        file_format = "xlsx" if out.suffix.lower() == ".xlsx" else "csv"
        try:
            with session_factory().begin() as session:
                content, _ = export_run(session, SYSTEM, run_id, file_format)
        except ChanjiaoError as exc:
            raise _fail(exc) from exc
        out.write_bytes(content)
        console.print(f"wrote {out}")

    @runs.command("export-instance")
    def export_instance(run_id: int, directory: Path) -> None:
        """Write a run's instance (CSV + params.json); `chanjiao solve` on it reproduces the run."""
        from app.commands._db import session_factory
        from app.services.replay import export_run_instance
        from app.settings import get_settings

        try:
            digest = export_run_instance(session_factory(), get_settings(), run_id, directory)
        except ChanjiaoError as exc:
            raise _fail(exc) from exc
        console.print(f"wrote the instance of run {run_id} to {directory} (input digest {digest[:12]}…)")


def _act(run_id: int, action: str) -> None:
    from app.commands._db import session_factory
    from app.services.runs import RunService

    try:
        with session_factory().begin() as session:
            service = RunService(session, SYSTEM)
            run = service.publish(run_id) if action == "publish" else service.cancel(run_id)
            console.print(f"run {run.id}: {run.status.value}" + (" (published)" if run.published_at else ""))
    except ChanjiaoError as exc:
        raise _fail(exc) from exc


def _wait(run_id: int) -> None:
    from app.commands._db import session_factory
    from app.services.runs import RunService

    with Progress(TextColumn("run {task.fields[run]}"), BarColumn(), TextColumn("{task.percentage:>3.0f}%"),
                  TextColumn("{task.fields[phase]}"), TimeElapsedColumn(), console=console) as progress:
        task = progress.add_task("run", total=100, run=run_id, phase="queued")
        while True:
            with session_factory().begin() as session:
                run = RunService(session, SYSTEM).get(run_id)
                status, phase, percent = run.status, run.phase, run.progress
            progress.update(task, completed=percent, phase=f"{phase} ({status.value})")
            if status in FINISHED:
                progress.update(task, completed=100 if status == RunStatus.SUCCEEDED else percent)
                break
            time.sleep(0.5)
    console.print(f"run {run_id}: {status.value}")
    if status != RunStatus.SUCCEEDED:
        raise typer.Exit(1)


def _num(value: float | None) -> str:
    return "" if value is None else f"{value:.4g}"
