"""Safe to run for years: the sign-in log's outcome (success, failure, throttled, lifted), and
retention (when a message's and a case's text was purged, and a record of every purge).

Revision ID: 0009
Revises: 0008

Written beside branches that add 0008; the integrator re-chains it at merge.
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"  # was "0007" on its branch; re-chained after 0008 (IMAP leases) was merged
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("sign_in_attempts") as batch:
        batch.add_column(sa.Column("outcome", sa.String(16), nullable=False, server_default="failure"))
    op.execute("UPDATE sign_in_attempts SET outcome = 'success' WHERE ok")
    with op.batch_alter_table("messages") as batch:
        batch.add_column(sa.Column("purged_at", sa.DateTime(timezone=True)))
    with op.batch_alter_table("cases") as batch:
        batch.add_column(sa.Column("purged_at", sa.DateTime(timezone=True)))
    op.create_table(
        "purges",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("before", sa.Date, nullable=False),
        sa.Column("by", sa.Text, nullable=False),
        sa.Column("cases", sa.Integer, nullable=False),
        sa.Column("messages", sa.Integer, nullable=False),
        sa.Column("attachments", sa.Integer, nullable=False),
        sa.Column("bytes", sa.BigInteger, nullable=False),
        sa.Column("case_ids", sa.JSON, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("purges")
    with op.batch_alter_table("cases") as batch:
        batch.drop_column("purged_at")
    with op.batch_alter_table("messages") as batch:
        batch.drop_column("purged_at")
    with op.batch_alter_table("sign_in_attempts") as batch:
        batch.drop_column("outcome")
