"""Admin and associate keys: verified by digest, remembered briefly, refused once revoked."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import Engine, update

from maison.access.auth import ApiKeys, api_keys_of, create_api_key
from maison.core.clock import utcnow
from maison.core.errors import Unauthorized
from maison.core.schema import api_keys


def _key(engine: Engine, name: str = "desk", *, scope: str = "associate", store: str | None = "paris") -> str:
    with engine.begin() as conn:
        return create_api_key(conn, name=name, scope=scope, store_id=store, now=utcnow())


def _revoke(engine: Engine, name: str) -> None:
    with engine.begin() as conn:
        conn.execute(update(api_keys).where(api_keys.c.name == name).values(revoked_at=utcnow()))


def test_a_key_is_verified_as_its_name_scope_and_store(engine: Engine) -> None:
    key = _key(engine)
    caller = ApiKeys().verify(engine, key)
    assert (caller.actor, caller.scope, caller.store_id, caller.is_person) == ("desk", "associate", "paris", True)
    with pytest.raises(Unauthorized, match="not valid"):
        ApiKeys().verify(engine, key[:-1] + ("x" if key[-1] != "x" else "y"))


def test_a_revoked_key_is_refused_once_the_remembered_answer_expires(engine: Engine) -> None:
    key = _key(engine)
    brief, long = ApiKeys(ttl=0.0), ApiKeys(ttl=3600.0)
    assert brief.verify(engine, key).actor == long.verify(engine, key).actor == "desk"
    _revoke(engine, "desk")
    with pytest.raises(Unauthorized):
        brief.verify(engine, key)
    assert long.remembered(key) is not None  # within its ttl the answer stands (documented: revocation takes ttl)


def test_a_refused_key_is_not_remembered_so_a_key_created_later_works_at_once(engine: Engine) -> None:
    keys = ApiKeys(ttl=3600.0)
    with pytest.raises(Unauthorized):
        keys.verify(engine, "mk_ass_not-yet-a-key")
    assert keys.remembered("mk_ass_not-yet-a-key") is None
    key = _key(engine)
    assert keys.verify(engine, key).actor == "desk"


def test_each_store_has_its_own_verifier(engine: Engine, tmp_path: Any) -> None:
    from maison.core.db import make_engine

    other = make_engine(f"sqlite:///{tmp_path / 'other.db'}")
    try:
        assert api_keys_of(engine) is api_keys_of(engine)
        assert api_keys_of(other) is not api_keys_of(engine)
    finally:
        other.dispose()


def test_the_api_refuses_a_revoked_key_after_the_remembered_answer_expires(
        engine: Engine, client: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    key = _key(engine, "admin-desk", scope="admin", store=None)
    headers = {"Authorization": f"Bearer {key}"}
    assert client.get("/v1/recommendations/nobody", headers=headers).status_code == 404  # authenticated
    _revoke(engine, "admin-desk")
    monkeypatch.setattr(api_keys_of(engine), "_ttl", 0.0)
    refused = client.get("/v1/recommendations/nobody", headers=headers)
    assert refused.status_code == 401 and refused.json()["code"] == "unauthorized"
