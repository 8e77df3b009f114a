"""`maison profile show` refuses bad input before touching the store."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from maison.profiles import cli


def test_a_bad_at_is_refused_with_exit_code_2_before_opening_the_store(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def no_store() -> None:
        raise AssertionError("the store must not be opened")

    monkeypatch.setattr(cli, "open_store", no_store)
    result = CliRunner().invoke(cli.app, ["show", "cus_1", "--at", "next Tuesday"])
    assert result.exit_code == 2
