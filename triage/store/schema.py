"""The store's tables (SQLAlchemy Core). Changes to them are Alembic migrations in
``triage/store/migrations/versions``; this module describes the current head."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
)

metadata = MetaData()

messages = Table(
    "messages",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("sha256", String(64), nullable=False, unique=True),
    Column("message_id", Text, unique=True),
    Column("in_reply_to", Text),
    Column("references", JSON, nullable=False, default=list),
    Column("channel", String(16), nullable=False),
    Column("source_type", String(16), nullable=False),
    Column("source", Text, nullable=False),
    Column("source_detail", JSON, nullable=False),
    Column("received_at", DateTime(timezone=True)),
    Column("ingested_at", DateTime(timezone=True), nullable=False),
    Column("sender_name", Text, nullable=False, default=""),
    Column("sender_addr", Text, nullable=False, default=""),
    Column("recipients", JSON, nullable=False, default=list),
    Column("subject", Text, nullable=False, default=""),
    Column("body_new", Text, nullable=False, default=""),
    Column("body_quoted", Text, nullable=False, default=""),
    Column("body_signature", Text, nullable=False, default=""),
    Column("body_format", String(8), nullable=False, default="plain"),
    Column("automated", String(16)),
    Column("automated_reason", Text, nullable=False, default=""),
    Column("respondent_ref", Text, nullable=False, default=""),
    Column("defects", JSON, nullable=False, default=list),
    Column("size", BigInteger, nullable=False),
    Column("raw", LargeBinary, nullable=False),
    Column("run_id", Integer, ForeignKey("runs.id")),
    Column("purged_at", DateTime(timezone=True)),  # text, addresses and raw bytes removed (retention, 0009)
    Index("ix_messages_received_at", "received_at"),
    Index("ix_messages_sender_addr", "sender_addr"),
)

attachments = Table(
    "attachments",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("message_pk", Integer, ForeignKey("messages.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("filename", Text, nullable=False),
    Column("content_type", Text, nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("content", LargeBinary, nullable=False),
)

quarantine = Table(
    "quarantine",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("sha256", String(64), nullable=False, unique=True),
    Column("source_type", String(16), nullable=False),
    Column("source", Text, nullable=False),
    Column("source_detail", JSON, nullable=False),
    Column("reason", Text, nullable=False),
    Column("raw", LargeBinary, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("status", String(16), nullable=False, default="held"),  # held | released
    Column("released_at", DateTime(timezone=True)),
    Column("message_pk", Integer, ForeignKey("messages.id")),
    Column("run_id", Integer, ForeignKey("runs.id")),
)

runs = Table(
    "runs",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("pipeline", Text, nullable=False),
    Column("started_at", DateTime(timezone=True), nullable=False),
    Column("finished_at", DateTime(timezone=True)),
    Column("seen", Integer, nullable=False, default=0),
    Column("stored", Integer, nullable=False, default=0),
    Column("duplicates", Integer, nullable=False, default=0),
    Column("quarantined", Integer, nullable=False, default=0),
)

classifications = Table(
    "classifications",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("message_pk", Integer, ForeignKey("messages.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("model", Text, nullable=False),
    Column("model_sha256", String(64), nullable=False),
    Column("kind", String(24), nullable=False, index=True),
    Column("kind_scores", JSON, nullable=False),
    Column("dissatisfied", Boolean, nullable=False),
    Column("dissatisfied_score", Float, nullable=False),
    Column("themes", JSON, nullable=False),
    Column("theme_scores", JSON, nullable=False),
    Column("status", String(16), nullable=False),  # accepted | suggested | needs_review
    Column("needs_review", Boolean, nullable=False),
    Column("review_reasons", JSON, nullable=False),
    Column("evidence", JSON, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("queue", Text, nullable=False, server_default=""),
    Column("on_complaints_register", Boolean, nullable=False, server_default=false()),
    Column("route_rule", Text, nullable=False, server_default=""),
    Column("flags", JSON, nullable=False, server_default="[]"),
    Column("due_date", Date, index=True),
    Column("due_what", Text, nullable=False, server_default=""),
    Column("kind_confidence", Float, index=True),  # kind_scores[kind]: "least confident first" (0006)
    UniqueConstraint("message_pk", "model_sha256", name="uq_classification_message_model"),
    Index("ix_classifications_message_pk_id", "message_pk", "id"),
)

# -- staff review (migration 0006) -------------------------------------------------------------
users = Table(
    "users",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(64), nullable=False, unique=True),
    Column("password_hash", Text, nullable=False),  # argon2id
    Column("role", String(16), nullable=False),  # reviewer | admin
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("disabled", Boolean, nullable=False, server_default=false()),
)

web_sessions = Table(
    "web_sessions",
    metadata,
    Column("token_sha256", String(64), primary_key=True),  # the cookie holds the token, the store its hash
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("csrf_token", String(64), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("last_seen", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
)

sign_in_attempts = Table(
    "sign_in_attempts",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(64), nullable=False),
    Column("address", String(64), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("ok", Boolean, nullable=False),
    Column("outcome", String(16), nullable=False, server_default="failure"),  # success | failure | throttled | lifted (0009)
    Index("ix_sign_in_attempts_name_at", "name", "at"),
    Index("ix_sign_in_attempts_address_at", "address", "at"),
)

reviews = Table(
    "reviews",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("message_pk", Integer, ForeignKey("messages.id", ondelete="CASCADE"), nullable=False),
    Column("version", Integer, nullable=False),  # 1, 2, ... per message: optimistic concurrency
    Column("classification_id", Integer, ForeignKey("classifications.id", ondelete="SET NULL")),
    Column("user_id", Integer, ForeignKey("users.id"), nullable=False),
    Column("user_name", String(64), nullable=False),
    Column("decided_at", DateTime(timezone=True), nullable=False),
    Column("action", String(16), nullable=False),  # confirmed | corrected
    Column("model_kind", String(24), nullable=False),
    Column("model_dissatisfied", Boolean, nullable=False),
    Column("model_themes", JSON, nullable=False),
    Column("model_flags", JSON, nullable=False),  # flag rules as the model's pipeline raised them
    Column("kind", String(24), nullable=False),
    Column("dissatisfied", Boolean, nullable=False),
    Column("themes", JSON, nullable=False),
    Column("flags", JSON, nullable=False),  # the flag rules the person kept
    Column("note", Text, nullable=False, server_default=""),
    UniqueConstraint("message_pk", "version", name="uq_review_message_version"),
    Index("ix_reviews_decided_at", "decided_at"),
)

# -- cases ---------------------------------------------------------------------------------
cases = Table(
    "cases",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("resident", Text, nullable=False, server_default=""),  # sender address or survey respondent
    Column("title", Text, nullable=False, server_default=""),
    Column("stage", String(16), nullable=False, server_default="none"),  # cached from the events
    Column("themes", JSON, nullable=False, server_default="[]"),
    Column("opened_at", DateTime(timezone=True)),
    Column("last_contact_at", DateTime(timezone=True)),
    Column("merged_into", Integer, ForeignKey("cases.id")),
    Column("due_date", Date),  # the case's next Code clock, from its events
    Column("due_what", Text, nullable=False, server_default=""),
    Column("flags", JSON, nullable=False, server_default="[]"),  # breaches found in its events
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("purged_at", DateTime(timezone=True)),  # resident and title removed (retention, 0009)
    Index("ix_cases_resident", "resident"),
    Index("ix_cases_due_date", "due_date"),
)

case_messages = Table(
    "case_messages",
    metadata,
    Column("message_pk", Integer, ForeignKey("messages.id", ondelete="CASCADE"), primary_key=True),
    Column("case_pk", Integer, ForeignKey("cases.id"), nullable=False, index=True),
    Column("rule", String(16), nullable=False),  # thread | reference | resident | new | split | merge
    Column("from_landlord", Boolean, nullable=False, server_default=false()),  # staff's own mail on the case
    Column("reason", Text, nullable=False),
    Column("linked_at", DateTime(timezone=True), nullable=False),
    Column("linked_by", Text, nullable=False),
)

case_refs = Table(
    "case_refs",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("case_pk", Integer, ForeignKey("cases.id"), nullable=False),
    Column("ref", Text, nullable=False, index=True),
    UniqueConstraint("case_pk", "ref", name="uq_case_ref"),
)

case_events = Table(
    "case_events",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("case_pk", Integer, ForeignKey("cases.id"), nullable=False, index=True),
    Column("event", String(24), nullable=False),
    Column("stage", String(16), nullable=False),
    Column("on", Date, nullable=False),
    Column("extended_to", Date),
    Column("reason", Text, nullable=False, server_default=""),
    Column("outcome", String(16)),  # on a response: upheld | partly_upheld | not_upheld
    Column("message_pk", Integer, ForeignKey("messages.id")),
    Column("recorded_at", DateTime(timezone=True), nullable=False),
    Column("recorded_by", Text, nullable=False),
)

# IMAP: per folder, the UIDVALIDITY and the last UID stored (written in the same transaction as
# the messages), and mailbox actions not yet applied to stored messages (deleted once applied).
imap_checkpoints = Table(
    "imap_checkpoints",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("mailbox", Text, nullable=False),
    Column("folder", Text, nullable=False),
    Column("uidvalidity", BigInteger, nullable=False),
    Column("last_uid", BigInteger, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("mailbox", "folder", name="uq_imap_checkpoint_folder"),
)

imap_pending = Table(
    "imap_pending",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("mailbox", Text, nullable=False),
    Column("folder", Text, nullable=False),
    Column("uidvalidity", BigInteger, nullable=False),
    Column("uid", BigInteger, nullable=False),
    Column("message_pk", Integer, ForeignKey("messages.id", ondelete="CASCADE")),
    Column("quarantined", Boolean, nullable=False),  # the message could not be parsed
    Column("new", Boolean, nullable=False),  # stored by this fetch (not a duplicate): drafts only for these
    Column("created_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("mailbox", "folder", "uidvalidity", "uid", name="uq_imap_pending_uid"),
)

# Which watcher reads a folder now (0008): taken and renewed in the batch's transaction, so two
# watchers on one folder never both store and act on the same UIDs.
imap_leases = Table(
    "imap_leases",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("mailbox", Text, nullable=False),
    Column("folder", Text, nullable=False),
    Column("holder", Text, nullable=False),  # host:pid:random of the watcher
    Column("expires_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("mailbox", "folder", name="uq_imap_lease_folder"),
)

# -- learning outcomes and commitments -------------------------------------------------------
learning_outcomes = Table(
    "learning_outcomes",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("reference", Text, nullable=False, unique=True),  # the landlord's, or LO-<id> when recorded here
    Column("description", Text, nullable=False),  # what went wrong
    Column("action", Text, nullable=False, server_default=""),
    Column("action_type", String(16), nullable=False, server_default="other"),  # labels.ACTION_TYPES
    Column("service_area", Text, nullable=False, server_default=""),
    Column("theme", String(32), nullable=False, server_default=""),  # labels.THEMES, or blank
    Column("risk", String(8), nullable=False),  # labels.RISKS
    Column("identified", Date, nullable=False),
    Column("target_date", Date),
    Column("status", String(16), nullable=False, server_default="open"),  # labels.OUTCOME_STATUSES
    Column("implemented", Date),
    Column("dropped_on", Date),
    Column("dropped_reason", Text, nullable=False, server_default=""),
    Column("source", String(16), nullable=False),  # recorded | imported
    Column("source_detail", Text, nullable=False, server_default=""),  # file and row of an import
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("created_by", Text, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("updated_by", Text, nullable=False),
    Index("ix_learning_outcomes_identified", "identified"),
)

learning_outcome_cases = Table(
    "learning_outcome_cases",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("outcome_pk", Integer, ForeignKey("learning_outcomes.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("case_pk", Integer, ForeignKey("cases.id"), index=True),  # NULL when the reference matches no case
    Column("case_ref", Text, nullable=False),  # the case as given: an id or the landlord's reference
    UniqueConstraint("outcome_pk", "case_ref", name="uq_learning_outcome_case"),
)

commitments = Table(
    "commitments",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("case_pk", Integer, ForeignKey("cases.id"), nullable=False, index=True),
    Column("what", Text, nullable=False),
    Column("kind", String(16), nullable=False),  # labels.COMMITMENT_KINDS
    Column("owner", Text, nullable=False, server_default=""),
    Column("due", Date, nullable=False),
    Column("made_on", Date),  # the response that promised it; NULL until a response is recorded
    Column("status", String(16), nullable=False, server_default="open"),  # labels.COMMITMENT_STATUSES
    Column("done_on", Date),
    Column("evidence", Text, nullable=False, server_default=""),  # blank on a done commitment: closed without evidence
    Column("cancelled_reason", Text, nullable=False, server_default=""),
    Column("closed_at", DateTime(timezone=True)),
    Column("closed_by", Text, nullable=False, server_default=""),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("created_by", Text, nullable=False),
    Index("ix_commitments_due", "due"),
)

# -- retention (migration 0009) --------------------------------------------------------------
purges = Table(
    "purges",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("before", Date, nullable=False),  # closed before this date
    Column("by", Text, nullable=False),
    Column("cases", Integer, nullable=False),
    Column("messages", Integer, nullable=False),
    Column("attachments", Integer, nullable=False),
    Column("bytes", BigInteger, nullable=False),  # raw, text and attachment bytes removed
    Column("case_ids", JSON, nullable=False),
)
