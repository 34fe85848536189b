"""IMAP folder leases: which watcher reads a folder now, and until when (several watchers on
one mailbox, for availability: one reads, the others stand by and take over when it stops).

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "imap_leases",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("mailbox", sa.Text, nullable=False),
        sa.Column("folder", sa.Text, nullable=False),
        sa.Column("holder", sa.Text, nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("mailbox", "folder", name="uq_imap_lease_folder"),
    )


def downgrade() -> None:
    op.drop_table("imap_leases")
