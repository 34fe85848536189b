"""Cases: messages linked to cases (with the reason for each link), case references, and the
history of events staff record (received, acknowledged, responded, escalated, extension agreed,
closed).

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "cases",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("resident", sa.Text, nullable=False, server_default=""),
        sa.Column("title", sa.Text, nullable=False, server_default=""),
        sa.Column("stage", sa.String(16), nullable=False, server_default="none"),
        sa.Column("themes", sa.JSON, nullable=False, server_default="[]"),
        sa.Column("opened_at", sa.DateTime(timezone=True)),
        sa.Column("last_contact_at", sa.DateTime(timezone=True)),
        sa.Column("merged_into", sa.Integer, sa.ForeignKey("cases.id")),
        sa.Column("due_date", sa.Date),
        sa.Column("due_what", sa.Text, nullable=False, server_default=""),
        sa.Column("flags", sa.JSON, nullable=False, server_default="[]"),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_cases_resident", "cases", ["resident"])
    op.create_index("ix_cases_due_date", "cases", ["due_date"])
    op.create_table(
        "case_messages",
        sa.Column("message_pk", sa.Integer, sa.ForeignKey("messages.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("case_pk", sa.Integer, sa.ForeignKey("cases.id"), nullable=False, index=True),
        sa.Column("rule", sa.String(16), nullable=False),
        sa.Column("from_landlord", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("linked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("linked_by", sa.Text, nullable=False),
    )
    op.create_table(
        "case_refs",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("case_pk", sa.Integer, sa.ForeignKey("cases.id"), nullable=False),
        sa.Column("ref", sa.Text, nullable=False, index=True),
        sa.UniqueConstraint("case_pk", "ref", name="uq_case_ref"),
    )
    op.create_table(
        "case_events",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("case_pk", sa.Integer, sa.ForeignKey("cases.id"), nullable=False, index=True),
        sa.Column("event", sa.String(24), nullable=False),
        sa.Column("stage", sa.String(16), nullable=False),
        sa.Column("on", sa.Date, nullable=False),
        sa.Column("extended_to", sa.Date),
        sa.Column("reason", sa.Text, nullable=False, server_default=""),
        sa.Column("outcome", sa.String(16)),
        sa.Column("message_pk", sa.Integer, sa.ForeignKey("messages.id")),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_by", sa.Text, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("case_events")
    op.drop_table("case_refs")
    op.drop_table("case_messages")
    op.drop_index("ix_cases_due_date", "cases")
    op.drop_index("ix_cases_resident", "cases")
    op.drop_table("cases")
