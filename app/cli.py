"""``chanjiao`` command line (typer + rich).

Commands of each area live beside the code they drive and register themselves here, so this
module stays an index.
"""

from __future__ import annotations

import typer

cli = typer.Typer(
    name="chanjiao",
    help="chanjiao (产教): matching and allocation for school–enterprise cooperation.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
)


def main() -> None:
    _register_commands()
    cli()


_registered = False


def _register_commands() -> None:
    global _registered
    if _registered:
        return
    _registered = True
    # Imported here so `chanjiao --help` stays fast and import cycles stay impossible.
    from app.commands import (
        catalog,
        database,
        demo,
        keys,
        model,
        partnerships,
        rank,
        runs,
        solve,
        transfer,
        users,
    )

    for module in (database, catalog, demo, keys, users, transfer, partnerships, rank, model, solve, runs):
        module.register(cli)
