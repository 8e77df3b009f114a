"""Settings, read from the environment in one place.

Only this module reads the environment. Each section is its own class so that a capability
depends on the settings it needs and nothing else (`MAISON_<SECTION>__<FIELD>`).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import BaseModel, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class IngestSettings(BaseModel):
    """Limits applied to the Segment-compatible ingestion API."""

    max_event_bytes: int = Field(32 * 1024, description="Largest single message, as Segment (32 KB).")
    max_request_bytes: int = Field(
        500 * 1024, description="Largest request body after decompression, as Segment (500 KB)."
    )
    import_chunk_size: int = Field(
        2000, description="Messages committed per transaction by `maison events import`."
    )


class PrivacySettings(BaseModel):
    """Keys and periods of the privacy capability."""

    suppression_key: SecretStr | None = Field(
        None,
        description="HMAC key for erased clients' identifier hashes. Set it in production; when "
        "unset a random key is created once in MAISON_HOME/suppression.key.",
    )
    request_due_days: int = Field(30, description="Days to answer a data-subject request (GDPR Art. 12).")
    retention_days: dict[str, int] = Field(
        default_factory=lambda: {
            "browsing_behaviour": 395,
            "search_history": 395,
            "cart_activity": 180,
            "email_engagement": 395,
            "content_engagement": 395,
            "purchase_history": 3650,
            "declared_categories": 3650,
            "demographics": 3650,
            "decisions": 730,
            "access_log": 730,
            "quarantine": 30,
        },
        description="Days each data category is kept after the event (see docs/tracking-plan.md, Retention).",
    )


class PersonalizeSettings(BaseModel):
    """The tag vocabulary and thresholds of L3 (identity-predictive) personalisation.

    Tags are catalogue data: a maison whose catalogue uses other members of the vocabulary
    lists them here, and no code names a tag.
    """

    value_tags: list[str] = Field(
        default_factory=lambda: ["sustainable", "artisan", "women-owned", "heritage", "repairable", "family-owned"],
        description="Catalogue tags that state a value (a product carrying one is 'value-tagged').",
    )
    aesthetic_tags: list[str] = Field(
        default_factory=lambda: ["minimalist", "architectural", "classic", "vintage-inspired"],
        description="Catalogue tags that describe an aesthetic (followed month by month in the trajectory).",
    )
    values_content_types: list[str] = Field(
        default_factory=lambda: ["sourcing", "impact"],
        description="Content-page types about how things are made (their reading supports values inference).",
    )
    impact_content_types: list[str] = Field(
        default_factory=lambda: ["impact"], description="Content-page types counted as Impact-report visits."
    )
    lifestyle_categories: list[str] = Field(
        default_factory=lambda: ["Minimalist Home Decor", "Books & Stationery"],
        description="Catalogue categories that are not worn (home, books, stationery): where 'beyond the "
        "wardrobe' picks come from. The catalogue does not say which categories are worn.",
    )
    values_min_confidence: float = Field(
        0.35, description="Confidence (0-1) from which an inferred value is stated and used."
    )
    pick_rest_weeks: int = Field(
        4, ge=0, description="Weeks a piece suggested in a client's L3 (identity-predictive) section rests before it "
        "may be suggested to them again, unless they viewed or saved it since (0: picks may repeat every week).",
    )


class Settings(BaseSettings):
    """Top-level settings. `MAISON_HOME` holds the embedded database and model artefacts."""

    model_config = SettingsConfigDict(env_prefix="MAISON_", env_nested_delimiter="__")

    home: Path = Field(Path(".maison"), description="Folder for the embedded SQLite store.")
    database_url: str | None = Field(
        None,
        description="SQLAlchemy URL of the store; default is a SQLite file under MAISON_HOME.",
    )
    ingest: IngestSettings = Field(default_factory=IngestSettings)
    privacy: PrivacySettings = Field(default_factory=PrivacySettings)
    personalize: PersonalizeSettings = Field(default_factory=PersonalizeSettings)

    token_secret_key: SecretStr | None = Field(
        None, description="HMAC key signing client self-service tokens; default: MAISON_HOME/token.key."
    )

    def suppression_key(self) -> bytes:
        """The HMAC key for suppression hashes (configured, or created once under MAISON_HOME)."""
        return self._secret(self.privacy.suppression_key, "suppression.key")

    def token_secret(self) -> bytes:
        return self._secret(self.token_secret_key, "token.key")

    def _secret(self, configured: SecretStr | None, filename: str) -> bytes:
        if configured is not None:
            return configured.get_secret_value().encode()
        path = self.home / filename
        if not path.exists():
            import secrets

            self.home.mkdir(parents=True, exist_ok=True)
            path.touch(mode=0o600)
            path.write_text(secrets.token_hex(32))
        return path.read_text().strip().encode()

    def resolved_database_url(self) -> str:
        """The URL to connect to: the configured one, or the embedded SQLite file."""
        if self.database_url:
            return self.database_url
        self.home.mkdir(parents=True, exist_ok=True)
        return f"sqlite:///{(self.home / 'maison.db').resolve()}"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings (cached; tests build their own `Settings`)."""
    return Settings()
