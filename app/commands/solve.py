"""``chanjiao solve``: solve an instance directory (replay, benchmarks, debugging a batch run)."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

console = Console(stderr=True)


def register(cli: typer.Typer) -> None:
    @cli.command("solve")
    def solve(
        instance: Path = typer.Option(..., "--instance", help="Instance directory (CSV files + params.json)."),
        out: Path = typer.Option(..., "--out", help="Output directory for placements.csv and result.json."),
        executor: str | None = typer.Option(None, help="Override params.json: inline, process or ray."),
        ray_address: str | None = typer.Option(
            None, "--ray-address", envvar="CHANJIAO_RAY_ADDRESS",
            help="With --executor ray: join the Ray cluster at this address (host:port); "
                 "unset, a local Ray runtime starts."),
        seed: int | None = typer.Option(None, help="Override the seed of params.json."),
        time_limit: float | None = typer.Option(None, "--time-limit", help="Override time_limit_s."),
    ) -> None:
        """Solve an internship or lecturer instance and write placements.csv and result.json."""
        import dataclasses

        from rich.markup import escape

        from app.executors import EXECUTORS, ExecutorUnavailable, avoid_hugepage_stalls, make_executor
        from app.instances import InstanceError, read_instance, write_internship_result, write_lecturer_result
        from matching.allocation import ProblemError, solve_internships, solve_lecturers

        if executor is not None and executor not in EXECUTORS:
            console.print(f"[red]--executor:[/red] {executor!r} is not one of {', '.join(EXECUTORS)}")
            raise typer.Exit(2)

        avoid_hugepage_stalls()
        try:
            loaded = read_instance(instance)
        except InstanceError as exc:
            console.print(f"[red]invalid instance:[/red] {exc}")
            raise typer.Exit(2) from exc
        overrides: dict[str, object] = {}
        if seed is not None:
            overrides["seed"] = seed
        if time_limit is not None:
            overrides["time_limit_s"] = time_limit
        try:
            if loaded.internship is not None and loaded.internship_params is not None:
                params = dataclasses.replace(loaded.internship_params, **overrides)  # type: ignore[arg-type]
                try:
                    pool = make_executor(executor or loaded.executor, loaded.workers, ray_address)
                except ExecutorUnavailable as exc:
                    # escape: "chanjiao[ray]" is not a colour tag
                    console.print(f"[red]executor {executor or loaded.executor}:[/red] {escape(str(exc))}")
                    raise typer.Exit(2) from exc
                result = solve_internships(loaded.internship, params, pool)
                summary = write_internship_result(out, loaded.internship, params, result)
            else:
                assert loaded.lecturer is not None
                assert loaded.lecturer_params is not None
                lecturer_params = dataclasses.replace(loaded.lecturer_params, **overrides)  # type: ignore[arg-type]
                lecturer_result = solve_lecturers(loaded.lecturer, lecturer_params)
                summary = write_lecturer_result(out, loaded.lecturer, lecturer_params, lecturer_result)
        except ProblemError as exc:
            console.print(f"[red]invalid problem:[/red] {exc}")
            raise typer.Exit(2) from exc
        table = Table(title=f"{summary['kind']} · {instance}")
        for key in ("status", "objective", "bound", "gap", "wall_time_s"):
            table.add_column(key)
        table.add_column("placed")
        table.add_row(*(str(summary[k]) for k in ("status", "objective", "bound", "gap", "wall_time_s")),
                      f"{summary['counts']['placed']}/{summary['counts']['placed'] + summary['counts']['unplaced']}")
        console.print(table)
        for conflict in summary["conflicts"]:
            console.print(f"[yellow]conflict:[/yellow] {conflict}")
        if summary["status"] in ("infeasible", "no_solution_in_time"):
            raise typer.Exit(1)
