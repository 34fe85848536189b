"""Classifications: what a model said about each message.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "classifications",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("message_pk", sa.Integer, sa.ForeignKey("messages.id", ondelete="CASCADE"), nullable=False),
        sa.Column("model", sa.Text, nullable=False),
        sa.Column("model_sha256", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(24), nullable=False),
        sa.Column("kind_scores", sa.JSON, nullable=False),
        sa.Column("dissatisfied", sa.Boolean, nullable=False),
        sa.Column("dissatisfied_score", sa.Float, nullable=False),
        sa.Column("themes", sa.JSON, nullable=False),
        sa.Column("theme_scores", sa.JSON, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("needs_review", sa.Boolean, nullable=False),
        sa.Column("review_reasons", sa.JSON, nullable=False),
        sa.Column("evidence", sa.JSON, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("message_pk", "model_sha256", name="uq_classification_message_model"),
    )
    op.create_index("ix_classifications_message_pk", "classifications", ["message_pk"])
    op.create_index("ix_classifications_kind", "classifications", ["kind"])
