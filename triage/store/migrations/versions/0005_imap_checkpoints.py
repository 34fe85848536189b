"""IMAP mailboxes: a checkpoint per folder (UIDVALIDITY, last UID stored), and the mailbox
actions (keywords, move, draft) still to apply to messages already stored.

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "imap_checkpoints",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("mailbox", sa.Text, nullable=False),
        sa.Column("folder", sa.Text, nullable=False),
        sa.Column("uidvalidity", sa.BigInteger, nullable=False),
        sa.Column("last_uid", sa.BigInteger, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("mailbox", "folder", name="uq_imap_checkpoint_folder"),
    )
    op.create_table(
        "imap_pending",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("mailbox", sa.Text, nullable=False),
        sa.Column("folder", sa.Text, nullable=False),
        sa.Column("uidvalidity", sa.BigInteger, nullable=False),
        sa.Column("uid", sa.BigInteger, nullable=False),
        sa.Column("message_pk", sa.Integer, sa.ForeignKey("messages.id", ondelete="CASCADE")),
        sa.Column("quarantined", sa.Boolean, nullable=False),
        sa.Column("new", sa.Boolean, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("mailbox", "folder", "uidvalidity", "uid", name="uq_imap_pending_uid"),
    )
