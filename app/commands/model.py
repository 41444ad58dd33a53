"""``chanjiao model train|evaluate``: the scoring model's life cycle."""

from __future__ import annotations

import typer
from rich.console import Console
from rich.table import Table

from app.errors import ChanjiaoError

console = Console()


def _metrics_table(trained: dict[str, float], prior: dict[str, float]) -> Table:
    table = Table("metric (held-out)", "trained", "prior")
    for name in ("roc_auc", "ndcg@10", "ece", "log_loss"):
        if name in trained or name in prior:
            table.add_row(name, f"{trained.get(name, float('nan')):.4f}", f"{prior.get(name, float('nan')):.4f}")
    return table


def register(cli: typer.Typer) -> None:
    model = typer.Typer(help="The scoring model.", no_args_is_help=True)
    cli.add_typer(model, name="model")

    @model.command("train")
    def train(seed: int = typer.Option(0, help="Seed of the split and the sampled negatives."),
              test_fraction: float = typer.Option(0.25, min=0.05, max=0.5, help="Share held out for evaluation.")
              ) -> None:
        """Fit the student↔opening model on recorded outcomes and store it as the active version."""
        from app.commands._db import session_factory
        from app.services.model_training import train_and_store

        try:
            with session_factory().begin() as session:
                trained = train_and_store(session, seed=seed, test_fraction=test_fraction)
        except ChanjiaoError as exc:
            console.print(f"[red]error:[/red] {exc.detail}")
            raise typer.Exit(2) from exc
        console.print(_metrics_table(trained.result.trained, trained.result.prior))
        console.print(f"stored student_opening model v{trained.version} "
                      f"(train {trained.result.n_train} rows, test {trained.result.n_test}; "
                      f"training data {trained.training_digest[:12]}…)")

    @model.command("evaluate")
    def evaluate(seed: int = typer.Option(0), test_fraction: float = typer.Option(0.25, min=0.05, max=0.5)) -> None:
        """Held-out metrics of a model trained on the recorded outcomes against the priors."""
        from app.commands._db import session_factory
        from app.services.model_training import fit_on_outcomes

        try:
            with session_factory().begin() as session:
                result = fit_on_outcomes(session, seed=seed, test_fraction=test_fraction)
        except ChanjiaoError as exc:
            console.print(f"[red]error:[/red] {exc.detail}")
            raise typer.Exit(2) from exc
        console.print(_metrics_table(result.trained, result.prior))
