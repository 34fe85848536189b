"""Schema upgrades with Alembic, run from code on an open connection.

Checking the version is cheap (one query); the migration scripts are loaded only when the
store is behind.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection

from triage.errors import StoreError

MIGRATIONS = Path(__file__).parent / "migrations"


def _config(conn: Connection) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = conn
    return config


def head_revision() -> str:
    return ScriptDirectory(str(MIGRATIONS)).get_current_head() or ""


def current_revision(conn: Connection) -> str | None:
    return MigrationContext.configure(conn).get_current_revision()


def at_head(conn: Connection) -> bool:
    """True when the store needs no upgrade (one query; no lock taken)."""
    return current_revision(conn) == ScriptDirectory(str(MIGRATIONS)).get_current_head()


def upgrade_to_head(conn: Connection, revision: str = "head") -> None:
    current = current_revision(conn)
    script = ScriptDirectory(str(MIGRATIONS))
    if current is not None and current not in {s.revision for s in script.walk_revisions()}:
        raise StoreError(
            f"the store is at schema version {current}, which this triage does not know: it was made by a "
            "newer triage. Upgrade triage (pip install -U triage) rather than open it with this one."
        )
    if revision == "head" and current == script.get_current_head():
        return
    command.upgrade(_config(conn), revision)
