"""Backing up and restoring a store.

SQLite: the online backup API (``sqlite3.Connection.backup``) copies a consistent snapshot page
by page while other processes keep reading and writing (``triage watch`` and ``triage serve``
need not stop); the copy is checked with ``PRAGMA integrity_check`` before it replaces anything.
PostgreSQL: ``pg_dump --format=custom`` and ``pg_restore``, PostgreSQL's own consistent dump;
the password, if the URL has one, goes to them in ``PGPASSWORD`` (never on a command line that
``ps`` shows).
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import make_url

from triage.errors import InputError
from triage.store.db import Store, normalise_url


@dataclass(frozen=True, slots=True)
class BackupResult:
    path: Path
    kind: str  # sqlite | postgresql
    bytes: int


def _sqlite_path(url: str) -> Path | None:
    parsed = make_url(url)
    return Path(parsed.database) if parsed.get_backend_name() == "sqlite" and parsed.database else None


def _pg_env(url: str) -> tuple[dict[str, str], str]:
    parsed = make_url(url)
    env = dict(os.environ)
    for var, value in (
        ("PGHOST", parsed.host),
        ("PGPORT", str(parsed.port) if parsed.port else None),
        ("PGUSER", parsed.username),
        ("PGPASSWORD", parsed.password),
    ):
        if value:
            env[var] = value
    if not parsed.database:
        raise InputError(f"{parsed.render_as_string()}: the URL names no database. Add it: postgresql://user@host/triage")
    return env, parsed.database


def _tool(name: str) -> str:
    found = shutil.which(name)
    if not found:
        raise InputError(f"{name} is not installed: install the PostgreSQL client (apt-get install postgresql-client).")
    return found


def _run(args: list[str], env: dict[str, str], what: str) -> None:
    done = subprocess.run(args, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise InputError(f"{what} failed: {done.stderr.strip() or done.returncode}. Check the server is up and the URL is right.")


def backup(url: str | Path, out: Path, overwrite: bool = False) -> BackupResult:
    """Write a backup of the store at ``url`` to ``out`` (a SQLite file, or a pg_dump archive)."""
    url = normalise_url(url)
    if out.exists() and not overwrite:
        raise InputError(f"{out} already exists: choose another file name (backups are never overwritten silently).")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".part")
    source_path = _sqlite_path(url)
    if source_path is not None:
        if not source_path.exists():
            raise InputError(f"{source_path}: there is no store here to back up.")
        with closing(sqlite3.connect(f"file:{source_path}?mode=ro", uri=True)) as source, closing(sqlite3.connect(tmp)) as copy:
            source.backup(copy)
            check = copy.execute("PRAGMA integrity_check").fetchone()[0]
        if check != "ok":
            tmp.unlink(missing_ok=True)
            raise InputError(f"the copy of {source_path} failed its integrity check ({check}); the store was not changed.")
        tmp.replace(out)
        return BackupResult(out, "sqlite", out.stat().st_size)
    env, database = _pg_env(url)
    _run([_tool("pg_dump"), "--format=custom", "--no-owner", f"--file={tmp}", database], env, "pg_dump")
    tmp.replace(out)
    return BackupResult(out, "postgresql", out.stat().st_size)


def restore(backup_file: Path, url: str | Path, overwrite: bool = False) -> None:
    """Restore ``backup_file`` into the store at ``url`` (replacing it only with ``overwrite``),
    then bring its schema up to this triage's migrations."""
    url = normalise_url(url)
    if not backup_file.is_file():
        raise InputError(f"{backup_file}: no such backup file.")
    target = _sqlite_path(url)
    if target is not None:
        with closing(sqlite3.connect(f"file:{backup_file}?mode=ro", uri=True)) as source:
            try:
                found = source.execute("SELECT count(*) FROM sqlite_master WHERE name = 'alembic_version'").fetchone()[0]
            except sqlite3.DatabaseError:
                found = 0
            if not found:
                raise InputError(f"{backup_file} is not a triage SQLite backup (no alembic_version table).")
            if target.exists() and target.stat().st_size > 0 and not overwrite:
                raise InputError(f"{target} already exists: restore to a new path, or pass --overwrite to replace it.")
            with closing(sqlite3.connect(target)) as dest:
                source.backup(dest)
    else:
        env, database = _pg_env(url)
        with Store(url, upgrade=False) as store, store.engine.connect() as conn:
            from sqlalchemy import inspect

            tables = inspect(conn).get_table_names()
        if tables and not overwrite:
            raise InputError(f"database {database} is not empty: restore into a new database, or pass --overwrite.")
        args = [_tool("pg_restore"), "--no-owner", "--exit-on-error", f"--dbname={database}", str(backup_file)]
        if tables:
            args[1:1] = ["--clean", "--if-exists"]
        _run(args, env, "pg_restore")
    with Store(url):  # upgrades an older backup to the current schema
        pass
