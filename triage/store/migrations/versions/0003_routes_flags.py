"""Routes, flags and the first Code deadline on each classification.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("classifications") as batch:
        batch.add_column(sa.Column("queue", sa.Text, nullable=False, server_default=""))
        batch.add_column(sa.Column("on_complaints_register", sa.Boolean, nullable=False, server_default=sa.false()))
        batch.add_column(sa.Column("route_rule", sa.Text, nullable=False, server_default=""))
        batch.add_column(sa.Column("flags", sa.JSON, nullable=False, server_default="[]"))
        batch.add_column(sa.Column("due_date", sa.Date))
        batch.add_column(sa.Column("due_what", sa.Text, nullable=False, server_default=""))
    op.create_index("ix_classifications_due_date", "classifications", ["due_date"])
