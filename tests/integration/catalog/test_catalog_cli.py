"""`maison catalog ...` as a merchandiser runs it: summary on success, every error by line."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine
from typer.testing import CliRunner

from maison.catalog.cli import app
from maison.core.settings import get_settings

runner = CliRunner()


@pytest.fixture
def wide(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Rich wraps to the terminal width; a wide one keeps each error on one line."""
    monkeypatch.setenv("COLUMNS", "200")
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, wide: None) -> Path:
    """A fresh embedded SQLite store under MAISON_HOME, as on a laptop."""
    monkeypatch.delenv("MAISON_DATABASE_URL", raising=False)
    monkeypatch.setenv("MAISON_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


@pytest.fixture
def store_url(engine: Engine, monkeypatch: pytest.MonkeyPatch, wide: None) -> str:
    """The test engine's store (SQLite or PostgreSQL), reached through MAISON_DATABASE_URL."""
    url = engine.url.render_as_string(hide_password=False)
    monkeypatch.setenv("MAISON_DATABASE_URL", url)
    return url


def test_import_then_list_and_show_on_an_embedded_store(home: Path, scenario_dir: Path):
    result = runner.invoke(app, ["import", str(scenario_dir / "catalog.jsonl")])
    assert result.exit_code == 0, result.output
    assert "imported 173 products from catalog.jsonl: 173 new, 0 updated" in result.output
    assert (home / "maison.db").exists()

    listed = runner.invoke(app, ["list", "--category", "Knitwear"])
    assert listed.exit_code == 0, listed.output
    assert "14 of 14 products" in listed.output

    shown = runner.invoke(app, ["show", "WW-001"])
    assert shown.exit_code == 0, shown.output
    assert "Italian Silk Blouse" in shown.output and "online: in stock" in shown.output


def test_a_bad_file_prints_every_error_by_line_and_exits_2(home: Path, tmp_path: Path):
    good = {
        "product_id": "A-1",
        "name": "n",
        "category": "c",
        "price_eur": 10,
        "sizes": ["M"],
        "stock": {},
    }
    rows = [good, {**good, "product_id": "A-2", "price_eur": 0}, {**good, "product_id": "A-1"}]
    path = tmp_path / "bad.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows))
    result = runner.invoke(app, ["import", str(path)])
    assert result.exit_code == 2
    flat = " ".join(result.output.split())  # Rich wraps to the terminal's width
    assert "error (invalid_file): bad.jsonl has 2 error(s) on 2 line(s); nothing was imported" in flat
    assert "price_eur" in result.output and "must be greater than 0" in result.output
    assert "duplicates the row on line 1" in result.output
    listed = runner.invoke(app, ["list"])
    assert "0 of 0 products" in listed.output


def test_show_of_an_unknown_product_exits_2(home: Path):
    result = runner.invoke(app, ["show", "NOPE-1"])
    assert result.exit_code == 2
    assert "error (unknown_product)" in result.output


def test_import_content_pages_into_the_configured_store(
    store_url: str, engine: Engine, scenario_dir: Path
):
    result = runner.invoke(app, ["import", "--content", str(scenario_dir / "content_pages.jsonl")])
    assert result.exit_code == 0, result.output
    assert "imported 12 content pages" in result.output
    pages = runner.invoke(app, ["pages", "--content-type", "impact"])
    assert "/impact-report" in pages.output


def test_import_a_csv_with_an_explicit_format(store_url: str, tmp_path: Path):
    path = tmp_path / "catalog.txt"
    path.write_text(
        "product_id,name,category,price,currency,sizes,stock\n"
        'A-1,Scarf,Accessories,95.5,GBP,one_size,"{""online"": {""one_size"": 4}}"\n'
    )
    result = runner.invoke(app, ["import", "--format", "csv", str(path)])
    assert result.exit_code == 0, result.output
    shown = runner.invoke(app, ["show", "A-1"])
    assert "95.50" in shown.output and "GBP" in shown.output
