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
    false,
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
    # whether events sent with the key may carry data-subject requests (the shop's back end only)
    Column("privacy_requests", Boolean, nullable=False, server_default=false()),
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
    # {table: [row id, ...]}: the merged client's rows other than events this merge moved (consent
    # entries, decisions…), which its undo gives back (events follow their identifiers back)
    Column("moved", JSON),
    Column("merged_at", UTCDateTime, nullable=False),
    Column("undone_at", UTCDateTime),
    Column("undone_by", String(100)),
)

# Not declared here, PostgreSQL only (migration 0007, `core.marks`): `events.xact` and
# `consent_ledger.xact`, the transaction that inserted the row (filled by a column default, so
# no writer names it), each with an index. SQLite's marks need neither.
POSTGRESQL_ONLY = frozenset({("events", "xact"), ("consent_ledger", "xact"),
                             ("events", "ix_events_xact"), ("consent_ledger", "ix_consent_ledger_xact")})

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
    # Indexed for the catalogue's mark (`segments.repository.catalogue_mark`), read twice by every
    # personalised product page: the latest change from the index, the count from its entries.
    Column("updated_at", UTCDateTime, nullable=False, index=True),
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

# ---- consent and privacy -------------------------------------------------------------------

# Append-only: the store refuses UPDATE of any column but client_id (re-keyed when identities
# merge) and refuses DELETE unless the erasure procedure has marked the client (see
# `erasure_marks` and migration 0002's triggers).
consent_ledger = Table(
    "consent_ledger",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("client_id", String(40), nullable=False),
    Column("kind", String(20), nullable=False),
    Column("purpose", String(40)),
    Column("granted", Boolean),
    Column("level", String(2)),
    Column("effective_at", UTCDateTime, nullable=False),
    Column("recorded_at", UTCDateTime, nullable=False),
    Column("method", String(20), nullable=False),
    Column("source", String(60)),
    Column("notice_version", String(40)),
    Column("geography", String(8)),
    Column("message_id", String(200)),
    Column("actor", String(100)),
    Index("ix_consent_ledger_client", "client_id", "effective_at"),
)

erasure_marks = Table(
    "erasure_marks",
    metadata,
    Column("client_id", String(40), primary_key=True),
)

notices = Table(
    "notices",
    metadata,
    Column("version", String(40), primary_key=True),
    Column("text_sha256", String(64), nullable=False),
    Column("text", Text, nullable=False),
    Column("purposes", JSON, nullable=False),  # purposes whose consent must be renewed
    Column("published_at", UTCDateTime, nullable=False),
)

# Keyed hashes (HMAC-SHA256) of an erased client's identifiers: late or replayed events that
# carry one are dropped. Holds no identifier in clear.
suppressions = Table(
    "suppressions",
    metadata,
    Column("identifier_hash", String(64), primary_key=True),
    Column("request_id", String(100)),
    Column("suppressed_at", UTCDateTime, nullable=False),
)

# Rows ever deleted from `events` and `consent_ledger` (under the table's name), and rows moved
# to another client by an identity merge or its undo (under `<table>:moved`), counted by triggers
# (migrations 0006 on SQLite, 0007 on PostgreSQL, 0009 for moves): with the largest id (SQLite)
# or a snapshot (PostgreSQL), a cheap mark that moves on any change (`core.marks`).
deleted_rows = Table(
    "deleted_rows",
    metadata,
    Column("table_name", String(40), primary_key=True),
    Column("count", BigInteger, nullable=False),
)

# The consent entries moved from one client to another (an identity merge or its undo), logged by
# the trigger that counts them (migration 0012): `position` is `consent_ledger:moved` in
# `deleted_rows` once the move is counted, so the moves between two marks of the ledger are the
# rows with a position between their counts, and a cache of some clients' ledgers reads again
# only the two clients of each (`core.marks.added`). Erasure removes the rows naming the client.
row_moves = Table(
    "row_moves",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("table_name", String(40), nullable=False),
    Column("from_client_id", String(40), nullable=False),
    Column("to_client_id", String(40), nullable=False),
    Column("rows", BigInteger, nullable=False),
    Column("position", BigInteger, nullable=False),
    Index("ix_row_moves_position", "table_name", "position"),
)

# What each erasure removed, in counts only.
erasure_log = Table(
    "erasure_log",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("request_id", String(100)),
    Column("erased_at", UTCDateTime, nullable=False),
    Column("counts", JSON, nullable=False),
)

privacy_requests = Table(
    "privacy_requests",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("request_id", String(100), unique=True),
    Column("client_id", String(40), index=True),
    Column("kind", String(20), nullable=False),  # export | erasure | rectification | restriction | objection
    Column("status", String(20), nullable=False),  # pending | verified | done | rejected
    Column("channel", String(20), nullable=False),
    Column("requested_at", UTCDateTime, nullable=False),
    Column("due_at", UTCDateTime, nullable=False),
    Column("completed_at", UTCDateTime),
    Column("detail", JSON),
)

# Every automated decision (a recommendation set, a score, a message) with what it read.
decisions = Table(
    "decisions",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("client_id", String(40), nullable=False),
    Column("kind", String(40), nullable=False),  # recommendations | digest | score | message
    Column("decided_at", UTCDateTime, nullable=False),
    Column("model_version", String(80), nullable=False),
    Column("data_categories", JSON, nullable=False),
    Column("reasons", JSON, nullable=False),
    Column("output", JSON, nullable=False),
    Index("ix_decisions_client", "client_id", "decided_at"),
)

# Reads of a client's data by a person (associate, admin), for accountability.
access_log = Table(
    "access_log",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("client_id", String(40), nullable=False, index=True),
    Column("actor", String(100), nullable=False),
    Column("scope", String(20), nullable=False),
    Column("what", String(100), nullable=False),
    Column("at", UTCDateTime, nullable=False),
)

# API keys other than write keys: admin, associate (bound to a store).
api_keys = Table(
    "api_keys",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(100), nullable=False, unique=True),
    Column("key_hash", String(64), nullable=False, unique=True),
    Column("scope", String(20), nullable=False),  # admin | associate
    Column("store_id", String(100)),
    Column("created_at", UTCDateTime, nullable=False),
    Column("revoked_at", UTCDateTime),
)

# Models trained on data that has since been erased or withdrawn must be retrained.
retrain_queue = Table(
    "retrain_queue",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("reason", String(40), nullable=False),
    Column("queued_at", UTCDateTime, nullable=False),
    Column("done_at", UTCDateTime),
)

# What models derived about a client, as of an instant: the behavioural cohort, the taste
# trajectory, inferred values, collection access... Part of the export, gone with erasure.
client_derived = Table(
    "client_derived",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("client_id", String(40), nullable=False),
    Column("kind", String(40), nullable=False),  # cohort | trajectory | inferred_values | collection_access
    Column("as_of", UTCDateTime, nullable=False),  # the data stop here (no look-ahead)
    Column("model_version", String(80), nullable=False),
    Column("data_categories", JSON, nullable=False),
    Column("payload", JSON, nullable=False),
    Column("computed_at", UTCDateTime, nullable=False),
    Index("ix_client_derived_client", "client_id", "kind", "as_of"),
)

# Trained model versions; the artefacts live under $MAISON_HOME/models, never in the database.
model_versions = Table(
    "model_versions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(40), nullable=False),  # future_vip | churn | clv | segments ...
    Column("version", String(80), nullable=False),
    Column("trained_at", UTCDateTime, nullable=False),
    Column("data_start", UTCDateTime),
    Column("data_end", UTCDateTime),
    Column("fingerprint", String(64), nullable=False),  # of the training data
    Column("artefact", String(400), nullable=False),  # path relative to $MAISON_HOME
    Column("card", JSON, nullable=False),  # the model card: window, metrics, fairness, libraries
    UniqueConstraint("name", "version", name="uq_model_versions_name_version"),
)

# Fitted segment models kept between processes (a weekly job runs every quarter hour; a server
# restarts): the model of a 28-day period, for the data mark it was fitted under. It lists member
# client ids, so an erasure deletes every row (the next use fits again).
segment_models = Table(
    "segment_models",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("as_of", UTCDateTime, nullable=False),  # the model period's start (`segments.fit_instant`)
    Column("mark", JSON, nullable=False),  # the data mark it was fitted under
    # the tables' marks that mark was read with (`segments.data_mark`): another process starts
    # from them, counting only the rows added since instead of the events before the instant
    Column("totals", JSON),
    Column("model_version", String(80), nullable=False),
    Column("payload", JSON, nullable=False),
    Column("stored_at", UTCDateTime, nullable=False),
    Index("ix_segment_models_as_of", "as_of"),
)

# Scores per client and model version, with the reasons shown to the client.
scores = Table(
    "scores",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("client_id", String(40), nullable=False),
    Column("model", String(40), nullable=False),
    Column("model_version", String(80), nullable=False),
    Column("score", Float, nullable=False),
    Column("as_of", UTCDateTime, nullable=False),
    Column("scored_at", UTCDateTime, nullable=False),
    Column("data_categories", JSON, nullable=False),
    Column("reasons", JSON, nullable=False),
    Index("ix_scores_client", "client_id", "model", "as_of"),
    Index("ix_scores_model", "model", "model_version"),
)

# A client contests a score (Art. 22(3)): a person reviews it.
score_reviews = Table(
    "score_reviews",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("client_id", String(40), nullable=False, index=True),
    Column("model", String(40), nullable=False),
    Column("score_id", BigInteger().with_variant(Integer, "sqlite")),
    Column("statement", Text, nullable=False),
    Column("status", String(20), nullable=False),  # open | upheld | corrected
    Column("reviewer", String(100)),
    Column("resolution", Text),
    Column("opened_at", UTCDateTime, nullable=False),
    Column("resolved_at", UTCDateTime),
)

# Tables holding rows about one client, by column: erasure deletes them, merges re-key them.
CLIENT_KEYED: tuple[tuple[Table, str], ...] = (
    (events, "client_id"),
    (consent_ledger, "client_id"),
    (privacy_requests, "client_id"),
    (decisions, "client_id"),
    (access_log, "client_id"),
    (client_derived, "client_id"),
    (scores, "client_id"),
    (score_reviews, "client_id"),
)
