"""Staff review: users, sessions, sign-in attempts, review decisions; the kind confidence on
each classification (so "least confident first" is an index walk).

Revision ID: 0006
Revises: 0005
"""

import json

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(64), nullable=False, unique=True),
        sa.Column("password_hash", sa.Text, nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("disabled", sa.Boolean, nullable=False, server_default=sa.false()),
    )
    op.create_table(
        "web_sessions",
        sa.Column("token_sha256", sa.String(64), primary_key=True),
        sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
        sa.Column("csrf_token", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "sign_in_attempts",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("address", sa.String(64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ok", sa.Boolean, nullable=False),
    )
    op.create_index("ix_sign_in_attempts_name_at", "sign_in_attempts", ["name", "at"])
    op.create_index("ix_sign_in_attempts_address_at", "sign_in_attempts", ["address", "at"])
    op.create_table(
        "reviews",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("message_pk", sa.Integer, sa.ForeignKey("messages.id", ondelete="CASCADE"), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("classification_id", sa.Integer, sa.ForeignKey("classifications.id", ondelete="SET NULL")),
        sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id"), nullable=False),
        sa.Column("user_name", sa.String(64), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("model_kind", sa.String(24), nullable=False),
        sa.Column("model_dissatisfied", sa.Boolean, nullable=False),
        sa.Column("model_themes", sa.JSON, nullable=False),
        sa.Column("model_flags", sa.JSON, nullable=False),
        sa.Column("kind", sa.String(24), nullable=False),
        sa.Column("dissatisfied", sa.Boolean, nullable=False),
        sa.Column("themes", sa.JSON, nullable=False),
        sa.Column("flags", sa.JSON, nullable=False),
        sa.Column("note", sa.Text, nullable=False, server_default=""),
        sa.UniqueConstraint("message_pk", "version", name="uq_review_message_version"),
    )
    op.create_index("ix_reviews_decided_at", "reviews", ["decided_at"])
    with op.batch_alter_table("classifications") as batch:
        batch.add_column(sa.Column("kind_confidence", sa.Float))
    op.create_index("ix_classifications_kind_confidence", "classifications", ["kind_confidence"])
    op.create_index("ix_classifications_message_pk_id", "classifications", ["message_pk", "id"])
    _backfill_confidence()


def _backfill_confidence() -> None:
    conn = op.get_bind()
    table = sa.table(
        "classifications",
        sa.column("id", sa.Integer),
        sa.column("kind", sa.String),
        sa.column("kind_scores", sa.JSON),
        sa.column("kind_confidence", sa.Float),
    )
    last = 0
    while rows := conn.execute(
        sa.select(table.c.id, table.c.kind, table.c.kind_scores).where(table.c.id > last).order_by(table.c.id).limit(5000)
    ).all():
        updates = []
        for row in rows:
            scores = row.kind_scores if isinstance(row.kind_scores, dict) else json.loads(row.kind_scores or "{}")
            updates.append({"pk": row.id, "confidence": float(scores.get(row.kind, 0.0))})
        conn.execute(
            sa.update(table).where(table.c.id == sa.bindparam("pk")).values(kind_confidence=sa.bindparam("confidence")), updates
        )
        last = rows[-1].id


def downgrade() -> None:
    op.drop_index("ix_classifications_message_pk_id", "classifications")
    op.drop_index("ix_classifications_kind_confidence", "classifications")
    with op.batch_alter_table("classifications") as batch:
        batch.drop_column("kind_confidence")
    op.drop_table("reviews")
    op.drop_table("sign_in_attempts")
    op.drop_table("web_sessions")
    op.drop_table("users")
