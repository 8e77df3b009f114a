"""`maison demo`'s loading step: a scenario folder into the configured store, with working keys
for the address the server will listen on."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from sqlalchemy import select

from maison.access.keys import list_keys
from maison.core.runtime import open_store
from maison.core.schema import api_keys
from maison.core.settings import get_settings
from maison.demo import load_scenario


@pytest.fixture
def folder(scenario_dir: Path, tmp_path: Path) -> Path:
    """The scenario's catalogue and content pages, without streams: loading stays fast."""
    target = tmp_path / "maison"
    target.mkdir()
    for name in ("catalog.jsonl", "content_pages.jsonl"):
        shutil.copy(scenario_dir / name, target / name)
    return target


def test_the_demo_key_accepts_the_address_it_serves_on_and_is_made_once(
    folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("MAISON_DATABASE_URL", raising=False)
    monkeypatch.setenv("MAISON_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("COLUMNS", "200")
    get_settings.cache_clear()
    try:
        load_scenario(folder, base_url="http://127.0.0.1:8765")
        printed = capsys.readouterr().out
        load_scenario(folder, base_url="http://127.0.0.1:8765")  # idempotent: no second key
        engine = open_store()
        with engine.connect() as conn:
            keys = list_keys(conn)
            admins = conn.execute(select(api_keys.c.id).where(api_keys.c.name == "demo-admin")).all()
        engine.dispose()
    finally:
        get_settings.cache_clear()
    demo = [k for k in keys if k["name"] == "demo"]
    assert len(demo) == 1 and len(admins) == 1
    assert "http://127.0.0.1:8765" in demo[0]["allowed_origins"]
    assert "http://localhost:8765" in demo[0]["allowed_origins"]
    assert "http://127.0.0.1:8765/v1/profiles/" in printed
    assert ":8000" not in printed
