"""The one SQLAlchemy Core schema, for SQLite (embedded) and PostgreSQL (production).

Alembic migrations in `maison/migrations` create exactly these tables; a test compares them.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Numeric,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from maison.core.types import UTCDateTime

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

# Write keys: stored as a SHA-256 of a high-entropy secret, never in clear.
sources = Table(
    "sources",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(100), nullable=False, unique=True),
    Column("key_hash", String(64), nullable=False, unique=True),
    Column("key_prefix", String(12), nullable=False),
    Column("allowed_origins", JSON, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("revoked_at", UTCDateTime),
)

clients = Table(
    "clients",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("created_at", UTCDateTime, nullable=False),
    # Set when this client was merged into another; cleared when the merge is undone.
    Column("merged_into", String(40), ForeignKey("clients.id")),
)

# One row per identifier; (kind, value) is owned by exactly one client at a time.
identities = Table(
    "identities",
    metadata,
    Column("kind", String(16), primary_key=True),
    Column("value", String(320), primary_key=True),
    Column("client_id", String(40), ForeignKey("clients.id"), nullable=False, index=True),
    Column("linked_at", UTCDateTime, nullable=False),
    Column("message_id", String(200)),
)

identity_merges = Table(
    "identity_merges",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("survivor_id", String(40), ForeignKey("clients.id"), nullable=False, index=True),
    Column("merged_id", String(40), ForeignKey("clients.id"), nullable=False, index=True),
    Column("reason", String(20), nullable=False),  # identify | alias | admin
    Column("message_id", String(200)),
    Column("actor", String(100)),
    Column("identifiers", JSON, nullable=False),  # [[kind, value], ...] moved by this merge
    Column("merged_at", UTCDateTime, nullable=False),
    Column("undone_at", UTCDateTime),
    Column("undone_by", String(100)),
)

events = Table(
    "events",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("source", String(100), nullable=False),
    Column("message_id", String(200), nullable=False),
    Column("client_id", String(40), ForeignKey("clients.id"), nullable=False),
    Column("type", String(16), nullable=False),
    Column("event", String(200)),  # track event name or page/screen name
    Column("user_id", String(200)),
    Column("anonymous_id", String(200)),
    Column("timestamp", UTCDateTime, nullable=False),
    Column("utc_offset_minutes", Integer),  # offset the client's clock carried
    Column("received_at", UTCDateTime, nullable=False),
    Column("data_category", String(40), nullable=False),
    Column("channel", String(20)),
    Column("timezone", String(64)),
    Column("product_id", String(100)),
    Column("dwell_seconds", Float),
    Column("order_id", String(100)),
    Column("revenue", Numeric(14, 2)),
    Column("currency", String(3)),
    Column("store_id", String(100)),
    Column("raw", JSON, nullable=False),
    UniqueConstraint("source", "message_id", name="uq_events_source_message"),
    Index("ix_events_client_time", "client_id", "timestamp"),
    Index("ix_events_event_time", "event", "timestamp"),
    Index("ix_events_product", "product_id"),
    Index("ix_events_user", "user_id"),
    Index("ix_events_anon", "anonymous_id"),
)

# Messages that failed validation inside an accepted batch: kept, with the reason, for replay.
quarantine = Table(
    "quarantine",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("source", String(100), nullable=False),
    Column("received_at", UTCDateTime, nullable=False),
    Column("batch_index", Integer),
    Column("field", String(100)),
    Column("reason", Text, nullable=False),
    Column("message", JSON, nullable=False),
    Column("status", String(12), nullable=False, default="pending"),  # pending|replayed|discarded
    Column("resolved_at", UTCDateTime),
    Index("ix_quarantine_status", "status"),
)

products = Table(
    "products",
    metadata,
    Column("product_id", String(100), primary_key=True),
    Column("name", String(300), nullable=False),
    Column("category", String(120), nullable=False, index=True),
    Column("subcategory", String(120)),
    Column("price", Numeric(12, 2), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("materials", JSON, nullable=False),
    Column("colors", JSON, nullable=False),
    Column("tags", JSON, nullable=False),
    Column("certifications", JSON, nullable=False),
    Column("maker", String(300)),
    Column("collections", JSON, nullable=False),
    Column("limited_edition", Boolean, nullable=False),
    Column("access_restricted", Boolean, nullable=False),
    Column("launched_on", Date),
    Column("sizes", JSON, nullable=False),
    Column("pairs_with", JSON, nullable=False),
    Column("description", Text),
    Column("updated_at", UTCDateTime, nullable=False),
)

stock = Table(
    "stock",
    metadata,
    Column("product_id", String(100), ForeignKey("products.product_id"), primary_key=True),
    Column("location", String(100), primary_key=True),  # "online" or a store id
    Column("size", String(40), primary_key=True),  # "ONE" for one-size products
    Column("quantity", Integer, nullable=False),
)

content_pages = Table(
    "content_pages",
    metadata,
    Column("page_id", String(100), primary_key=True),
    Column("name", String(300), nullable=False),
    Column("path", String(500), nullable=False, unique=True),
    Column("content_type", String(40), nullable=False),
    Column("topics", JSON, nullable=False),
    Column("features_products", JSON, nullable=False),
    Column("published_on", Date),
)
