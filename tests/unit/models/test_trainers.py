"""Models are known by name; a model module that fails to load is reported, not hidden."""

from __future__ import annotations

import importlib

import pytest

from maison.models import trainers


def test_the_built_in_models_are_known_by_name():
    assert {"churn", "clv", "future_vip"} <= set(trainers.names())
    assert trainers.get("clv").categories == ("purchase_history",)


def test_a_model_module_that_does_not_exist_is_simply_absent(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(trainers, "BUILTIN", (*trainers.BUILTIN, "maison.models.not_written_yet"))
    monkeypatch.setattr(trainers, "BROKEN", {})
    with pytest.raises(trainers.UnknownModel) as caught:
        trainers.get("crystal_ball")
    assert "clv" in caught.value.message and caught.value.code == "unknown_model"
    assert "not_loaded" not in caught.value.details


def test_a_model_module_that_fails_to_import_is_reported_and_the_others_still_work(monkeypatch: pytest.MonkeyPatch):
    real = importlib.import_module

    def failing(name: str):  # type: ignore[no-untyped-def]
        if name == "maison.models.broken_model":
            raise RuntimeError("boom")
        return real(name)

    monkeypatch.setattr(trainers, "BUILTIN", (*trainers.BUILTIN, "maison.models.broken_model"))
    monkeypatch.setattr(trainers, "BROKEN", {})
    monkeypatch.setattr(trainers.importlib, "import_module", failing)
    assert trainers.get("clv").name == "clv"
    with pytest.raises(trainers.UnknownModel) as caught:
        trainers.get("broken_model")
    assert caught.value.details["not_loaded"] == "maison.models.broken_model (RuntimeError: boom)"
