"""Every reader of client data goes through the policy: the code is checked, not trusted."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import maison
from maison.consent.entities import Use
from maison.consent.readers import declare

SRC = Path(maison.__file__).resolve().parent

# Modules allowed to touch the events table directly: the storage layer itself (ingest,
# identity, consent enforcement, privacy rights) and the client's own view of what is
# stored (profiles, audited). Anything else reads through `maison.consent.gateway`.
STORAGE_LAYER = {
    "ingest/repository.py", "identity/repository.py", "consent/service.py", "consent/gateway.py",
    "privacy/export.py", "privacy/erasure.py", "privacy/retention.py", "profiles/repository.py",
    "core/schema.py", "bench/stores.py", "bench/ingest.py", "bench/profile.py", "bench/recommend.py",
    "bench/digests.py",  # bench loaders write synthetic stores in bulk
    "access/auth.py",  # an associate reaches the clients of their store: an existence check
    "analytics/aggregates.py",  # aggregates over all clients, no personal output
    "analytics/sweeps.py",  # the same aggregates at many instants at once, no personal output
}


def _reads_events(path: Path) -> bool:
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module == "maison.core.schema" and any(
            alias.name in ("events", "CLIENT_KEYED") for alias in node.names
        ):
            return True
        if (
            isinstance(node, ast.Attribute)
            and node.attr == "events"
            and isinstance(node.value, ast.Name)
            and node.value.id == "schema"
        ):
            return True
    return False


def test_no_module_outside_the_storage_layer_reads_events_directly():
    offenders = sorted(
        str(p.relative_to(SRC)) for p in SRC.rglob("*.py")
        if _reads_events(p) and str(p.relative_to(SRC)) not in STORAGE_LAYER
    )
    assert offenders == [], f"read client events through maison.consent.gateway with a declared Reader: {offenders}"


def test_a_reader_must_declare_what_it_reads():
    with pytest.raises(ValueError, match="declares no data categories"):
        declare("nothing", use=Use.PERSONALIZE, categories=(), why="x")
    with pytest.raises(ValueError, match="unknown categories"):
        declare("bad", use=Use.PERSONALIZE, categories=("health",), why="x")
    with pytest.raises(ValueError, match="say why"):
        declare("mute", use=Use.PERSONALIZE, categories=("browsing_behaviour",), why=" ")
