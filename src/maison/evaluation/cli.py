"""`maison eval ...`: offline evaluations that print Maison's numbers next to their baselines."""

from __future__ import annotations

import typer

from maison.models.evaluation.cli import vip
from maison.personalize.send_time_eval_cli import sendtime
from maison.recommend.cli import recs

app = typer.Typer(no_args_is_help=True)


@app.callback()
def _group() -> None:
    """Offline evaluations against baselines, in one run."""


app.command("recs")(recs)
app.command("vip")(vip)
app.command("sendtime")(sendtime)
