"""The `maison` command: one sub-command group per capability."""

from __future__ import annotations

import typer

from maison.access.cli import app as keys_app
from maison.bench.cli import app as bench_app
from maison.catalog.cli import app as catalog_app
from maison.evaluation.cli import app as eval_app
from maison.identity.cli import app as identity_app
from maison.ingest.cli import app as events_app
from maison.models.cli import app as models_app
from maison.models.segments.cli import app as segments_app
from maison.personalize.cli import app as digest_app
from maison.privacy.cli import app as privacy_app
from maison.profiles.cli import app as profile_app
from maison.replay.cli import replay
from maison.serve import demo, serve

app = typer.Typer(no_args_is_help=True, help="Maison: client memory, consent and personalization.")
app.add_typer(keys_app, name="keys", help="Write keys for ingestion.")
app.add_typer(events_app, name="events", help="Import events and manage the quarantine.")
app.add_typer(identity_app, name="identity", help="Identity graph: merges and splits.")
app.add_typer(profile_app, name="profile", help="Client profiles.")
app.add_typer(catalog_app, name="catalog", help="Product catalog and content pages.")
app.add_typer(privacy_app, name="privacy", help="Data-subject rights, retention, notices.")
app.add_typer(digest_app, name="digest", help="Weekly digests.")
app.add_typer(bench_app, name="bench", help="Benchmarks (print figures against a baseline).")
app.add_typer(eval_app, name="eval", help="Offline evaluations against baselines.")
app.add_typer(models_app, name="models", help="Value models: train, score, model cards.")
app.add_typer(segments_app, name="segments", help="Behavioural micro-segments and their descriptions.")
app.command()(serve)
app.command()(demo)
app.command()(replay)

if __name__ == "__main__":
    app()
