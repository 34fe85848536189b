"""Learning outcomes (what a complaint taught: the action, its owner, risk, target and status),
their links to cases, and the commitments a complaint response made (what, owner, due date,
status, evidence of completion).

Revision ID: 0007
Revises: 0006

Written on a branch beside the ones that added 0005 (IMAP) and 0006 (reviews), from 0004; re-chained
onto 0006 when rebased after they were merged (the tables here depend only on cases, from 0004).
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"  # was "0004" on the branch; re-chained after 0005 and 0006 were merged
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "learning_outcomes",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("reference", sa.Text, nullable=False, unique=True),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("action", sa.Text, nullable=False, server_default=""),
        sa.Column("action_type", sa.String(16), nullable=False, server_default="other"),
        sa.Column("service_area", sa.Text, nullable=False, server_default=""),
        sa.Column("theme", sa.String(32), nullable=False, server_default=""),
        sa.Column("risk", sa.String(8), nullable=False),
        sa.Column("identified", sa.Date, nullable=False),
        sa.Column("target_date", sa.Date),
        sa.Column("status", sa.String(16), nullable=False, server_default="open"),
        sa.Column("implemented", sa.Date),
        sa.Column("dropped_on", sa.Date),
        sa.Column("dropped_reason", sa.Text, nullable=False, server_default=""),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("source_detail", sa.Text, nullable=False, server_default=""),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.Text, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.Text, nullable=False),
    )
    op.create_index("ix_learning_outcomes_identified", "learning_outcomes", ["identified"])
    op.create_table(
        "learning_outcome_cases",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "outcome_pk", sa.Integer, sa.ForeignKey("learning_outcomes.id", ondelete="CASCADE"), nullable=False, index=True
        ),
        sa.Column("case_pk", sa.Integer, sa.ForeignKey("cases.id"), index=True),
        sa.Column("case_ref", sa.Text, nullable=False),
        sa.UniqueConstraint("outcome_pk", "case_ref", name="uq_learning_outcome_case"),
    )
    op.create_table(
        "commitments",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("case_pk", sa.Integer, sa.ForeignKey("cases.id"), nullable=False, index=True),
        sa.Column("what", sa.Text, nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("owner", sa.Text, nullable=False, server_default=""),
        sa.Column("due", sa.Date, nullable=False),
        sa.Column("made_on", sa.Date),
        sa.Column("status", sa.String(16), nullable=False, server_default="open"),
        sa.Column("done_on", sa.Date),
        sa.Column("evidence", sa.Text, nullable=False, server_default=""),
        sa.Column("cancelled_reason", sa.Text, nullable=False, server_default=""),
        sa.Column("closed_at", sa.DateTime(timezone=True)),
        sa.Column("closed_by", sa.Text, nullable=False, server_default=""),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.Text, nullable=False),
    )
    op.create_index("ix_commitments_due", "commitments", ["due"])


def downgrade() -> None:
    op.drop_index("ix_commitments_due", "commitments")
    op.drop_table("commitments")
    op.drop_table("learning_outcome_cases")
    op.drop_index("ix_learning_outcomes_identified", "learning_outcomes")
    op.drop_table("learning_outcomes")
